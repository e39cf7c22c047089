/**
 * @file heap.h  Giving freed heap memory back to the system while calls are held.
 *
 * A call's SIP transactions outlive its set-up by 32 s (RFC 3261 §17.2.1 Timer J, RFC 6026
 * Timer L) and are freed then, long after the call's own state was allocated beside them. glibc
 * returns only the top of the heap by itself: the freed pages between held calls stay resident,
 * and the process keeps the memory of its last peak of set-ups. A trimmer thread calls
 * malloc_trim(3) at an interval, which gives every whole free page back (madvise(MADV_DONTNEED)).
 * It runs on its own thread because trimming a large heap takes milliseconds: the SIP loop and
 * the media workers, which do not allocate per packet, go on meanwhile.
 */
#ifndef DESKLINE_HEAP_H
#define DESKLINE_HEAP_H

#include <stdint.h>

struct heap_trimmer;

/** What a trimmer has done so far. */
struct heap_trim_stats {
	uint64_t trims;           /**< malloc_trim(3) calls */
	uint64_t released;        /**< of those, how many found memory to give back */
	uint64_t last_us;         /**< duration of the latest, µs */
	uint64_t max_us;          /**< longest so far, µs */
};

/**
 * Start a thread that calls malloc_trim(0) every @p interval_ms; the first trim comes one
 * interval after the start. The thread blocks every signal (thread.h).
 *
 * @param tp           on success *tp is the trimmer (stop and free: heap_trimmer_stop)
 * @param interval_ms  time between trims, ms (> 0)
 * @return 0; EINVAL for an interval of 0; ENOMEM; an eventfd(2) or pthread_create(3) error.
 */
int heap_trimmer_start(struct heap_trimmer **tp, unsigned interval_ms);

/**
 * Ask the thread to end, wait for it (a trim under way finishes first) and free the trimmer.
 *
 * @param t  the trimmer (freed here); NULL is ignored
 */
void heap_trimmer_stop(struct heap_trimmer *t);

/**
 * Read the trimmer's counters; safe from any thread while it runs.
 *
 * @param t   the trimmer (borrowed)
 * @param st  receives a copy of the counters (caller's storage)
 */
void heap_trimmer_stats(struct heap_trimmer *t, struct heap_trim_stats *st);

#endif
