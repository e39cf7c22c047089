/**
 * @file server_process.h  Starting a real server process for a test (redis-server, the SMTP sink):
 *                       fork and exec with the test's descriptors closed and the server killed if
 *                       the test dies, then wait until it answers.
 */
#ifndef DESKLINE_SERVER_PROCESS_H
#define DESKLINE_SERVER_PROCESS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/** Monotonic clock in ms. */
static inline long long test_process_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/**
 * Start @p argv[0] with @p argv; its standard input is /dev/null, its output goes to @p log
 * (appended) or to /dev/null when @p log is NULL.
 *
 * @param pidp  receives the child's pid
 * @return 0 or the errno of fork().
 */
static inline int test_process_spawn(char *const argv[], const char *log, pid_t *pidp)
{
	pid_t pid = fork();

	if (pid < 0)
		return errno;
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)
			      : open("/dev/null", O_WRONLY);

		/* The server dies with the test, even a test that crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(127);  /* the parent is already gone */
		if (in >= 0)
			dup2(in, STDIN_FILENO);
		if (out >= 0) {
			dup2(out, STDOUT_FILENO);
			dup2(out, STDERR_FILENO);
		}
		/* No test socket, epoll set or spool descriptor leaks into the server. */
		close_range(3, ~0u, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	*pidp = pid;
	return 0;
}

/**
 * Wait until a started server answers.
 *
 * @param pidp     the server's pid; set to 0 when it exited or was killed here
 * @param ready    asks the server once (a ping, a greeting); true when it answered
 * @param arg      its argument
 * @param start_ms how long to wait
 * @param poll_ms  pause between two asks
 * @return 0; ECHILD when the server exited (bad binary or arguments, port taken); ETIMEDOUT
 *         when it did not answer in time (it is killed then).
 */
static inline int test_process_wait_ready(pid_t *pidp, bool (*ready)(const void *arg),
					  const void *arg, int start_ms, int poll_ms)
{
	long long deadline = test_process_now_ms() + start_ms;

	while (test_process_now_ms() < deadline) {
		int status;

		if (waitpid(*pidp, &status, WNOHANG) == *pidp) {
			*pidp = 0;
			return ECHILD;
		}
		if (ready(arg))
			return 0;
		usleep((useconds_t)poll_ms * 1000);
	}
	kill(*pidp, SIGKILL);
	waitpid(*pidp, NULL, 0);
	*pidp = 0;
	return ETIMEDOUT;
}

#endif
