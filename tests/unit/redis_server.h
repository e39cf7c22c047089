/**
 * @file redis_server.h  A real redis-server for unit tests: started on a unix socket in a
 *                       directory the test owns, with no persistence, stopped by pid.
 *
 * Header only; every function returns 0 or a positive errno. The server gets
 * PR_SET_PDEATHSIG, so a test process that dies (a failed assertion under CK_FORK) does not
 * leave it running. The binary is $REDIS_SERVER, or /usr/bin/redis-server.
 *
 *   struct redis_server rs;
 *   redis_server_start(&rs, dir);          // dir from mkdtemp(); "unix:<dir>/redis.sock"
 *   ... dl_redis_alloc(&r, root, rs.address, ...) ...
 *   redis_server_kill(&rs);                // abrupt loss (SIGKILL)
 *   redis_server_restart(&rs);             // same socket path (and port), empty data set
 *   redis_server_stop(&rs);                // SIGTERM, waits for the exit
 */
#ifndef DESKLINE_REDIS_SERVER_H
#define DESKLINE_REDIS_SERVER_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server_process.h"

/** How long a start may take before it counts as failed, and a stop before SIGKILL (ms). */
#define REDIS_SERVER_START_MS 5000
#define REDIS_SERVER_STOP_MS  5000

struct redis_server {
	pid_t pid;            /**< 0 when not running */
	int port;             /**< TCP port on 127.0.0.1, 0 for none */
	char dir[96];         /**< working directory (copied) */
	char path[108];       /**< unix socket: dir + "/redis.sock" (fits sun_path) */
	char address[120];    /**< "unix:" + path, as dl_redis_alloc() takes it */
};

static inline long long redis_server_now_ms(void)
{
	return test_process_now_ms();
}

/** Does the server at @p path answer PING with +PONG within @p timeout_ms? */
static inline bool redis_server_pong(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[16];
	size_t got = 0;
	bool ok = false;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, "PING\r\n", 6) != 6)
		goto out;
	while (got < 7) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) != 1)
			goto out;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	ok = memcmp(buf, "+PONG\r\n", 7) == 0;
out:
	close(fd);
	return ok;
}

/** Start (again) the server described by @p rs (dir, path, port set). */
static inline bool redis_server_ready(const void *arg)
{
	return redis_server_pong(((const struct redis_server *)arg)->path, 100);
}

static inline int redis_server_spawn(struct redis_server *rs)
{
	const char *bin = getenv("REDIS_SERVER") ? getenv("REDIS_SERVER") : "/usr/bin/redis-server";
	char port[8];
	int err;

	if (rs->pid)
		return EBUSY;
	snprintf(port, sizeof(port), "%d", rs->port);
	unlink(rs->path);  /* left behind by a killed server */

	char *const argv[] = {
		(char *)bin, "--port", port, "--bind", "127.0.0.1", "--unixsocket", rs->path,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", rs->dir,
		"--logfile", "", NULL,
	};
	err = test_process_spawn(argv, NULL, &rs->pid);
	if (err)
		return err;
	return test_process_wait_ready(&rs->pid, redis_server_ready, rs, REDIS_SERVER_START_MS, 10);
}

/**
 * Start a server on "<dir>/redis.sock" and, when @p port is not 0, on 127.0.0.1:@p port;
 * returns once it answers PING.
 *
 * @param rs    filled in (pid, path, address)
 * @param dir   an existing directory for the socket (copied)
 * @param port  TCP port, or 0 for the unix socket only
 * @return 0, ENAMETOOLONG, or why it did not come up (ECHILD: it exited; ETIMEDOUT).
 */
static inline int redis_server_start_port(struct redis_server *rs, const char *dir, int port)
{
	memset(rs, 0, sizeof(*rs));
	if ((size_t)snprintf(rs->dir, sizeof(rs->dir), "%s", dir) >= sizeof(rs->dir) ||
	    (size_t)snprintf(rs->path, sizeof(rs->path), "%s/redis.sock", dir) >= sizeof(rs->path) ||
	    (size_t)snprintf(rs->address, sizeof(rs->address), "unix:%s", rs->path) >=
		    sizeof(rs->address))
		return ENAMETOOLONG;
	rs->port = port;
	return redis_server_spawn(rs);
}

/** Start a server on "<dir>/redis.sock" only. @return as redis_server_start_port(). */
static inline int redis_server_start(struct redis_server *rs, const char *dir)
{
	return redis_server_start_port(rs, dir, 0);
}

/** Stop the server with @p sig and wait for it (SIGKILL after REDIS_SERVER_STOP_MS). */
static inline void redis_server_signal(struct redis_server *rs, int sig)
{
	long long deadline = redis_server_now_ms() + REDIS_SERVER_STOP_MS;

	if (!rs->pid)
		return;
	kill(rs->pid, sig);
	while (waitpid(rs->pid, NULL, WNOHANG) == 0) {
		if (redis_server_now_ms() >= deadline) {
			kill(rs->pid, SIGKILL);
			waitpid(rs->pid, NULL, 0);
			break;
		}
		usleep(5 * 1000);
	}
	rs->pid = 0;
	unlink(rs->path);
}

/** Orderly stop (SIGTERM). Safe on a stopped server. */
static inline void redis_server_stop(struct redis_server *rs)
{
	redis_server_signal(rs, SIGTERM);
}

/** Abrupt death (SIGKILL): clients see the connection reset. Safe on a stopped server. */
static inline void redis_server_kill(struct redis_server *rs)
{
	redis_server_signal(rs, SIGKILL);
}

/** Start a stopped server again on the same socket path and port (empty data set). */
static inline int redis_server_restart(struct redis_server *rs)
{
	return redis_server_spawn(rs);
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it; another process
 * could take it before it is used, which is unlikely enough for tests).
 *
 * @return the port, or 0 on error.
 */
static inline int redis_server_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd, port = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

#endif
