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
 *
 * The heap can also be backed by transparent huge pages (config memory.huge_pages), which glibc
 * does when the process starts with a tunable set: heap_huge_pages_reexec().
 */
#ifndef DESKLINE_HEAP_H
#define DESKLINE_HEAP_H

#include <stddef.h>
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

/** The glibc tunable that backs the heap with transparent huge pages (glibc 2.35+, tunables(7)). */
#define HEAP_HUGE_PAGES_TUNABLE "glibc.malloc.hugetlb"

/**
 * The value GLIBC_TUNABLES needs so that glibc backs the heap with transparent huge pages: the
 * current value with "glibc.malloc.hugetlb=1" added. glibc then advises the kernel
 * (madvise(MADV_HUGEPAGE)) on each part of the heap it grows, 2 MiB at a time, and the kernel
 * maps it a huge page at a time: one page fault where there were 512. A call's SIP transactions
 * grow the heap by tens of KiB for 32 s; at thousands of calls a second those faults were a
 * tenth of the core (docs/BENCHMARKS.md). Pure: no environment is read or changed.
 *
 * @param current  GLIBC_TUNABLES as it is (NULL or "" when unset)
 * @param buf      receives the new value, NUL-terminated (caller's storage)
 * @param len      size of @p buf, bytes
 * @return 0 when @p buf holds a value to set; EEXIST when @p current already names
 *         glibc.malloc.hugetlb (whatever its value: the administrator's choice stands); ENOSPC
 *         when @p buf is too small.
 */
int heap_tunables_with_huge_pages(const char *current, char *buf, size_t len);

/**
 * Run this program again with glibc's huge-page heap on (heap_tunables_with_huge_pages()):
 * GLIBC_TUNABLES is read only when a process starts, so the daemon sets it and executes itself
 * (/proc/self/exe, same process id, same @p argv). Call before any thread or socket exists.
 * Nothing is done when GLIBC_TUNABLES already names the tunable (this is the second run, or the
 * administrator set it) or when LD_PRELOAD is set: another allocator or a checker such as
 * valgrind sits under the program, and a new run would lose it.
 *
 * @param argv  the program's arguments, as main() got them (borrowed)
 * @return does not return when the program is executed again; EEXIST when nothing was to be
 *         done; EPERM when LD_PRELOAD is set; ENOSPC for a GLIBC_TUNABLES too long; the errno
 *         of setenv(3) or execv(2) (the environment is then restored).
 */
int heap_huge_pages_reexec(char *const argv[]);

#endif
