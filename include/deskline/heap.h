/**
 * @file heap.h  Giving freed heap memory back to the system while calls are held.
 *
 * A call's SIP transactions outlive its set-up by 32 s (RFC 3261 §17.2.1 Timer J, RFC 6026
 * Timer L) and are freed then, long after the call's own state was allocated beside them. glibc
 * returns only the top of the heap by itself: the freed pages between held calls stay resident,
 * and the process keeps the memory of its last peak of set-ups. A trimmer thread calls
 * malloc_trim(3) at an interval, which gives every whole free page back (madvise(MADV_DONTNEED)).
 * It runs on its own thread because trimming a large heap takes milliseconds: the SIP loop and
 * the media workers, which do not allocate per packet, go on meanwhile — until the loop's next
 * malloc, which waits for glibc's arena lock.
 *
 * A trim costs about in proportion to the memory it gives back and the heap it walks (up to a
 * second on a heap of a gigabyte, docs/BENCHMARKS.md), and under a steady stream of set-ups what
 * it gives back is taken again within seconds. So a trim waits while calls come faster than the
 * busy limit: the loop is not stopped for it while it is busiest, and the memory of a peak goes
 * back when the peak is over.
 */
#ifndef DESKLINE_HEAP_H
#define DESKLINE_HEAP_H

#include <stdbool.h>
#include <stdint.h>

struct heap_trimmer;

/** What a trimmer has done so far. */
struct heap_trim_stats {
	uint64_t trims;           /**< malloc_trim(3) calls */
	uint64_t skipped;         /**< intervals without a trim: more calls than the busy limit */
	uint64_t released;        /**< of those, how many found memory to give back */
	uint64_t last_us;         /**< duration of the latest, µs */
	uint64_t max_us;          /**< longest so far, µs */
};

/**
 * Start a thread that calls malloc_trim(0) every @p interval_ms, except after an interval in
 * which more than @p busy_calls calls were set up (heap_trimmer_note_call()); the first trim
 * comes one interval after the start. The thread blocks every signal (thread.h).
 *
 * @param tp           on success *tp is the trimmer (stop and free: heap_trimmer_stop)
 * @param interval_ms  time between trims, ms (> 0)
 * @param busy_calls   calls per interval above which that interval's trim is left out; 0: trim
 *                     every interval whatever the load
 * @return 0; EINVAL for an interval of 0; ENOMEM; an eventfd(2) or pthread_create(3) error.
 */
int heap_trimmer_start(struct heap_trimmer **tp, unsigned interval_ms, unsigned busy_calls);

/**
 * Count a call set up, for the busy limit; safe from any thread (one relaxed atomic add).
 *
 * @param t  the trimmer (borrowed); NULL is ignored (no trimmer running)
 */
void heap_trimmer_note_call(struct heap_trimmer *t);

/**
 * Whether an interval in which @p calls calls were set up ends with a trim (pure).
 *
 * @param calls       calls set up in the interval
 * @param busy_calls  the trimmer's busy limit (0: none)
 * @return true when @p busy_calls is 0 or @p calls is at most @p busy_calls.
 */
bool heap_trim_due(uint64_t calls, unsigned busy_calls);

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
