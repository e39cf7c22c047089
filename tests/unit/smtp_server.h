/**
 * @file smtp_server.h  A real SMTP server for unit tests (tests/unit/smtp_sink.py on aiosmtpd,
 *                      Debian python3-aiosmtpd): started on 127.0.0.1 in a directory the test
 *                      owns, stopped by pid; every accepted message is a file the test reads back.
 *
 * Header only; every function returns 0 or a positive errno unless it says otherwise. The server
 * gets PR_SET_PDEATHSIG, so a test process that dies (a failed assertion under CK_FORK) does not
 * leave it running. The interpreter is $SMTP_PYTHON, or /usr/bin/python3 (the one the Debian
 * package serves); the script is $SMTP_SINK, or TOP_SRCDIR/tests/unit/smtp_sink.py. Its log
 * (stderr) is <dir>/sink.log.
 *
 *   struct smtp_server ss;
 *   smtp_server_start(&ss, dir, 0);              // dir from mkdtemp(); a free port; ss.url
 *   ... outbox_alloc(&ob, spool, &(struct outbox_smtp){ .url = ss.url, ... }) ...
 *   smtp_server_wait(&ss, 1, 5000);              // messages accepted so far (waits for 1)
 *   smtp_server_read(&ss, 0, &mail);             // the first one: envelope and bytes
 *   smtp_server_refuse(&ss, NULL, "451 4.3.0 Try again later");  // every RCPT TO, from now on
 *   smtp_server_refuse_clear(&ss);
 *   smtp_server_stop(&ss);                       // SIGTERM, waits for the exit
 *   smtp_server_restart(&ss);                    // same port and directory; messages stay
 */
#ifndef DESKLINE_SMTP_SERVER_H
#define DESKLINE_SMTP_SERVER_H

#include <dirent.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server_process.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

/** How long a start may take before it counts as failed, and a stop before SIGKILL (ms). */
#define SMTP_SERVER_START_MS 10000
#define SMTP_SERVER_STOP_MS  5000

/** At most this many recipients are read back from one message. */
#define SMTP_MAIL_RCPT_MAX 16

struct smtp_server {
	pid_t pid;            /**< 0 when not running */
	int port;             /**< TCP port on 127.0.0.1 */
	char dir[96];         /**< working directory (copied); messages in dir/mail */
	char url[40];         /**< "smtp://127.0.0.1:<port>", as struct outbox_smtp takes it */
};

/** One accepted message, as smtp_server_read() returns it. */
struct smtp_mail {
	char from[256];                              /**< MAIL FROM address, no brackets */
	char rcpt[SMTP_MAIL_RCPT_MAX][256];          /**< accepted RCPT TO addresses, in order */
	size_t n_rcpt;
	char auth[64];                               /**< AUTH login, "" when none */
	char *data;                                  /**< message bytes, NUL added (free: free()) */
	size_t len;                                  /**< bytes in data, without the NUL */
};

static inline long long smtp_server_now_ms(void)
{
	return test_process_now_ms();
}

/** Does a server on 127.0.0.1:@p port send a 220 greeting within @p timeout_ms? */
static inline bool smtp_server_greets(int port, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char buf[4];
	size_t got = 0;
	bool ok = false;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	while (got < 4) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) != 1)
			goto out;
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	ok = memcmp(buf, "220", 3) == 0;
	if (ok) {
		/* The greeting is what counts; the QUIT only spares the server a log line. */
		ssize_t sent = write(fd, "QUIT\r\n", 6);

		(void)sent;
	}
out:
	close(fd);
	return ok;
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it; another process
 * could take it before it is used, which is unlikely enough for tests). Also the way to get a
 * port where nothing listens: an "SMTP server that is down".
 *
 * @return the port, or 0 on error.
 */
static inline int smtp_server_free_port(void)
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

/** Start (again) the server described by @p ss (dir and port set); returns once it greets. */
static inline bool smtp_server_ready(const void *arg)
{
	return smtp_server_greets(((const struct smtp_server *)arg)->port, 200);
}

static inline int smtp_server_spawn(struct smtp_server *ss)
{
	const char *python = getenv("SMTP_PYTHON") ? getenv("SMTP_PYTHON") : "/usr/bin/python3";
	const char *script = getenv("SMTP_SINK") ? getenv("SMTP_SINK")
						: TOP_SRCDIR "/tests/unit/smtp_sink.py";
	char port[8], log[128];
	int err;

	if (ss->pid)
		return EBUSY;
	snprintf(port, sizeof(port), "%d", ss->port);
	if ((size_t)snprintf(log, sizeof(log), "%s/sink.log", ss->dir) >= sizeof(log))
		return ENAMETOOLONG;

	/* -B: no __pycache__ in the source tree. */
	char *const argv[] = { (char *)python, "-B", (char *)script, port, ss->dir, NULL };
	err = test_process_spawn(argv, log, &ss->pid);
	if (err)
		return err;
	return test_process_wait_ready(&ss->pid, smtp_server_ready, ss, SMTP_SERVER_START_MS, 20);
}

/**
 * Start a server on 127.0.0.1:@p port that keeps its messages in @p dir/mail.
 *
 * @param ss    filled in (pid, port, dir, url)
 * @param dir   an existing directory the test owns (copied)
 * @param port  TCP port, or 0 for a free one
 * @return 0, ENAMETOOLONG, EADDRNOTAVAIL (no free port), or why it did not come up (ECHILD: it
 *         exited, see dir/sink.log; ETIMEDOUT).
 */
static inline int smtp_server_start(struct smtp_server *ss, const char *dir, int port)
{
	memset(ss, 0, sizeof(*ss));
	if ((size_t)snprintf(ss->dir, sizeof(ss->dir), "%s", dir) >= sizeof(ss->dir))
		return ENAMETOOLONG;
	ss->port = port ? port : smtp_server_free_port();
	if (!ss->port)
		return EADDRNOTAVAIL;
	snprintf(ss->url, sizeof(ss->url), "smtp://127.0.0.1:%d", ss->port);
	return smtp_server_spawn(ss);
}

/** Stop the server with SIGTERM and wait for it (SIGKILL after SMTP_SERVER_STOP_MS). Safe on a
 *  stopped server; the port then refuses connections. */
static inline void smtp_server_stop(struct smtp_server *ss)
{
	long long deadline = smtp_server_now_ms() + SMTP_SERVER_STOP_MS;

	if (!ss->pid)
		return;
	kill(ss->pid, SIGTERM);
	while (waitpid(ss->pid, NULL, WNOHANG) == 0) {
		if (smtp_server_now_ms() >= deadline) {
			kill(ss->pid, SIGKILL);
			waitpid(ss->pid, NULL, 0);
			break;
		}
		usleep(5 * 1000);
	}
	ss->pid = 0;
}

/** Start a stopped server again on the same port and directory (earlier messages stay, the
 *  numbering goes on after them). */
static inline int smtp_server_restart(struct smtp_server *ss)
{
	return smtp_server_spawn(ss);
}

/** Write @p text to @p dir/@p name (replacing it) through a temporary file and a rename, so
 *  the server never reads half of it. */
static inline int smtp_server_put_file(const struct smtp_server *ss, const char *name,
				       const char *text)
{
	char path[160], tmp[168];
	FILE *f;
	int err = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", ss->dir, name) >= sizeof(path))
		return ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return errno;
	if (fputs(text, f) == EOF)
		err = EIO;
	if (fclose(f) != 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) != 0)
		err = errno;
	if (err)
		unlink(tmp);
	return err;
}

/** The current contents of @p dir/@p name ("" when missing) into @p buf. */
static inline void smtp_server_get_file(const struct smtp_server *ss, const char *name,
					char *buf, size_t size)
{
	char path[160];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", ss->dir, name);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/**
 * From now on answer RCPT TO for @p rcpt (NULL: for every recipient) with @p reply; rules add
 * up, the first that matches wins. The server rereads them for every RCPT. @p rcpt "DATA"
 * answers the end of every message's data instead (the message is then not kept).
 *
 * @param reply  a whole SMTP reply, e.g. "550 5.1.1 No such user" or "451 4.3.0 Try later"
 */
static inline int smtp_server_refuse(struct smtp_server *ss, const char *rcpt, const char *reply)
{
	char rules[2048];
	size_t used;

	smtp_server_get_file(ss, "refuse", rules, sizeof(rules));
	used = strlen(rules);
	if ((size_t)snprintf(rules + used, sizeof(rules) - used, "%s %s\n", rcpt ? rcpt : "*",
			     reply) >= sizeof(rules) - used)
		return ENOSPC;
	return smtp_server_put_file(ss, "refuse", rules);
}

/** Accept every recipient again. */
static inline void smtp_server_refuse_clear(struct smtp_server *ss)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/refuse", ss->dir);
	unlink(path);
}

/** From now on require AUTH (PLAIN or LOGIN, offered without TLS) as @p login / @p password;
 *  NULL @p login: accept mail without AUTH again. */
static inline int smtp_server_require_auth(struct smtp_server *ss, const char *login,
					   const char *password)
{
	char line[160];

	if (!login) {
		snprintf(line, sizeof(line), "%s/auth", ss->dir);
		unlink(line);
		return 0;
	}
	if ((size_t)snprintf(line, sizeof(line), "%s %s\n", login, password) >= sizeof(line))
		return ENAMETOOLONG;
	return smtp_server_put_file(ss, "auth", line);
}

/** @return how many messages the server has accepted so far (files in dir/mail). */
static inline size_t smtp_server_count(const struct smtp_server *ss)
{
	char path[128];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/mail", ss->dir);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] != '.' && len > 4 && strcmp(de->d_name + len - 4, ".eml") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/** Wait until the server has accepted at least @p n messages or @p timeout_ms passed.
 *  @return the count at that moment. */
static inline size_t smtp_server_wait(const struct smtp_server *ss, size_t n, int timeout_ms)
{
	long long deadline = smtp_server_now_ms() + timeout_ms;
	size_t have;

	while ((have = smtp_server_count(ss)) < n && smtp_server_now_ms() < deadline)
		usleep(10 * 1000);
	return have;
}

/** Copy the address in "<addr>" at the start of @p s into @p out. */
static inline void smtp_server_addr(const char *s, char *out, size_t size)
{
	const char *end;

	if (*s == '<')
		s++;
	end = strchr(s, '>');
	if (!end)
		end = s + strlen(s);
	snprintf(out, size, "%.*s", (int)(end - s), s);
}

/**
 * Read back the @p index-th accepted message (0: the first).
 *
 * @param mail  filled in; mail->data is malloc()ed (free it, also on a later error return)
 * @return 0, ENOENT (not that many messages), EBADMSG (not a file the server wrote), ENOMEM.
 */
static inline int smtp_server_read(const struct smtp_server *ss, size_t index,
				   struct smtp_mail *mail)
{
	char path[160];
	char *buf = NULL, *p, *body;
	long size;
	FILE *f;
	int err = 0;

	memset(mail, 0, sizeof(*mail));
	snprintf(path, sizeof(path), "%s/mail/%06zu.eml", ss->dir, index + 1);
	f = fopen(path, "rb");
	if (!f)
		return errno;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		err = EIO;
		goto out;
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		err = ENOMEM;
		goto out;
	}
	if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		err = EIO;
		goto out;
	}
	buf[size] = '\0';

	body = strstr(buf, "\n\n");
	if (!body) {
		err = EBADMSG;
		goto out;
	}
	body[1] = '\0';
	body += 2;
	for (p = buf; *p; p = strchr(p, '\n') + 1) {
		if (strncmp(p, "MAIL FROM:", 10) == 0) {
			smtp_server_addr(p + 10, mail->from, sizeof(mail->from));
		} else if (strncmp(p, "RCPT TO:", 8) == 0 && mail->n_rcpt < SMTP_MAIL_RCPT_MAX) {
			smtp_server_addr(p + 8, mail->rcpt[mail->n_rcpt], sizeof(mail->rcpt[0]));
			mail->n_rcpt++;
		} else if (strncmp(p, "AUTH ", 5) == 0) {
			snprintf(mail->auth, sizeof(mail->auth), "%.*s",
				 (int)(strchr(p, '\n') - p - 5), p + 5);
		}
	}
	mail->len = (size_t)(buf + size - body);
	mail->data = malloc(mail->len + 1);
	if (!mail->data) {
		err = ENOMEM;
		goto out;
	}
	memcpy(mail->data, body, mail->len + 1);
out:
	free(buf);
	fclose(f);
	return err;
}

#endif
