/**
 * @file heap.c  The heap trimmer thread (see heap.h).
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "deskline/heap.h"
#include "deskline/thread.h"

struct heap_trimmer {
	unsigned interval_ms;
	unsigned busy_calls;        /**< calls per interval above which the trim waits; 0: none */
	atomic_uint_fast64_t calls; /**< calls set up since the trimmer last looked */
	int stopfd;                 /**< eventfd: written once to end the thread */
	pthread_t thread;
	pthread_mutex_t lock;       /**< guards st */
	struct heap_trim_stats st;
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void *trimmer_main(void *arg)
{
	struct heap_trimmer *t = arg;
	struct pollfd pfd = { .fd = t->stopfd, .events = POLLIN };

	for (;;) {
		int n = poll(&pfd, 1, (int)t->interval_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 0)
			break;  /* asked to stop (or poll failed: nothing else to wait on) */
		uint64_t calls = atomic_exchange_explicit(&t->calls, 0, memory_order_relaxed);
		if (!heap_trim_due(calls, t->busy_calls)) {
			pthread_mutex_lock(&t->lock);
			t->st.skipped++;
			pthread_mutex_unlock(&t->lock);
			continue;
		}
		uint64_t t0 = mono_us();
		int released = malloc_trim(0);
		uint64_t took = mono_us() - t0;

		pthread_mutex_lock(&t->lock);
		t->st.trims++;
		if (released)
			t->st.released++;
		t->st.last_us = took;
		if (took > t->st.max_us)
			t->st.max_us = took;
		pthread_mutex_unlock(&t->lock);
	}
	return NULL;
}

bool heap_trim_due(uint64_t calls, unsigned busy_calls)
{
	return busy_calls == 0 || calls <= busy_calls;
}

void heap_trimmer_note_call(struct heap_trimmer *t)
{
	if (t)
		atomic_fetch_add_explicit(&t->calls, 1, memory_order_relaxed);
}

int heap_trimmer_start(struct heap_trimmer **tp, unsigned interval_ms, unsigned busy_calls)
{
	struct heap_trimmer *t;
	int err;

	if (interval_ms == 0)
		return EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->interval_ms = interval_ms;
	t->busy_calls = busy_calls;
	atomic_init(&t->calls, 0);
	t->stopfd = eventfd(0, EFD_CLOEXEC);
	if (t->stopfd < 0) {
		err = errno;
		free(t);
		return err;
	}
	pthread_mutex_init(&t->lock, NULL);
	err = dl_thread_start(&t->thread, trimmer_main, t);
	if (err) {
		pthread_mutex_destroy(&t->lock);
		close(t->stopfd);
		free(t);
		return err;
	}
	*tp = t;
	return 0;
}

void heap_trimmer_stop(struct heap_trimmer *t)
{
	uint64_t one = 1;

	if (!t)
		return;
	while (write(t->stopfd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->lock);
	close(t->stopfd);
	free(t);
}

void heap_trimmer_stats(struct heap_trimmer *t, struct heap_trim_stats *st)
{
	pthread_mutex_lock(&t->lock);
	*st = t->st;
	pthread_mutex_unlock(&t->lock);
}
