/**
 * @file thread.h  Starting deskline's helper threads (media workers, the mailer).
 */
#ifndef DESKLINE_THREAD_H
#define DESKLINE_THREAD_H

#include <pthread.h>
#include <signal.h>

/**
 * Start a thread with every signal blocked, so SIGHUP, SIGTERM and the rest stay with the main
 * loop that handles them (POSIX delivers a process signal to any thread not blocking it).
 *
 * @param t    receives the thread (join it: pthread_join)
 * @param fn   the thread's function
 * @param arg  its argument (borrowed)
 * @return 0, or the error number pthread_create() returned (EAGAIN, EPERM).
 */
static inline int dl_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

#endif
