/**
 * @file test_heap.c  The heap trimmer (heap.h): it runs at its interval, waits while calls come in
 *                    faster than its busy limit, gives freed pages in the middle of glibc's heap
 *                    back to the system, and stops cleanly.
 *
 * The blocks come from glibc's allocator itself (__libc_malloc), the one deskline runs on, so the
 * test means the same under AddressSanitizer, whose own allocator would otherwise serve them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "deskline/heap.h"

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);

#define BLOCKS      4096
#define BLOCK_BYTES 16384     /* four pages: at least three whole ones free with each block */
#define WAIT_MS     10000     /* most a test waits for the trimmer (not a timing assertion) */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/** Resident memory of this process, KiB (/proc/self/statm, second field, pages). */
static long rss_kib(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld %ld", &size, &resident), 2);
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/** Wait until the trimmer has made more than @p after trims; false if WAIT_MS passed first. */
static bool wait_trims(struct heap_trimmer *t, uint64_t after, struct heap_trim_stats *st)
{
	for (unsigned waited = 0; waited < WAIT_MS; waited += 5) {
		heap_trimmer_stats(t, st);
		if (st->trims > after)
			return true;
		sleep_ms(5);
	}
	return false;
}

START_TEST(test_interval_zero)
{
	struct heap_trimmer *t = NULL;

	ck_assert_int_eq(heap_trimmer_start(&t, 0, 0), EINVAL);
	ck_assert_ptr_null(t);
	heap_trimmer_stop(NULL);  /* ignored */
}
END_TEST

START_TEST(test_runs_and_counts)
{
	struct heap_trimmer *t = NULL;
	struct heap_trim_stats st;

	ck_assert_int_eq(heap_trimmer_start(&t, 10, 0), 0);
	ck_assert_ptr_nonnull(t);
	ck_assert(wait_trims(t, 2, &st));
	ck_assert_uint_ge(st.trims, 3);
	ck_assert_uint_le(st.released, st.trims);
	ck_assert_uint_ge(st.max_us, st.last_us);
	heap_trimmer_stop(t);
}
END_TEST

/*
 * Blocks freed in the middle of the heap (every other one; the last stays allocated, so the top
 * cannot shrink by itself) stay resident until a trim: after one, most of them are gone.
 */
START_TEST(test_gives_back_middle_pages)
{
	static void *blocks[BLOCKS];
	struct heap_trimmer *t = NULL;
	struct heap_trim_stats st;

	for (size_t i = 0; i < BLOCKS; i++) {
		blocks[i] = __libc_malloc(BLOCK_BYTES);
		ck_assert_ptr_nonnull(blocks[i]);
		memset(blocks[i], 0x5A, BLOCK_BYTES);  /* make every page resident */
	}
	for (size_t i = 0; i < BLOCKS - 1; i += 2) {
		__libc_free(blocks[i]);
		blocks[i] = NULL;
	}
	long freed_kib = (long)(BLOCKS / 2) * (BLOCK_BYTES / 1024);
	long before = rss_kib();

	ck_assert_int_eq(heap_trimmer_start(&t, 20, 0), 0);
	ck_assert(wait_trims(t, 0, &st));
	long after = rss_kib();
	heap_trimmer_stop(t);

	/* Each freed 16 KiB block holds at least three whole pages: half of what was freed, at least,
	 * must have left the resident set. */
	ck_assert_msg(before - after >= freed_kib / 2,
		      "RSS %ld KiB before the trim, %ld after; %ld KiB were freed", before, after,
		      freed_kib);
	ck_assert_uint_ge(st.released, 1);
	for (size_t i = 0; i < BLOCKS; i++)
		__libc_free(blocks[i]);
}
END_TEST

/* The busy limit, as a table: at most busy_calls calls in an interval still end with a trim. */
START_TEST(test_trim_due)
{
	static const struct {
		uint64_t calls;
		unsigned busy;
		bool due;
	} rows[] = {
		{ 0, 0, true },    { 1000000, 0, true }, /* no limit */
		{ 0, 500, true },  { 499, 500, true },  { 500, 500, true },
		{ 501, 500, false }, { 20000, 500, false },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ck_assert_msg(heap_trim_due(rows[i].calls, rows[i].busy) == rows[i].due,
			      "row %zu: %llu calls, limit %u", i, (unsigned long long)rows[i].calls,
			      rows[i].busy);
}
END_TEST

/*
 * While calls are noted faster than the limit, the intervals pass without a trim (counted as
 * left out); once they stop, the next interval trims again.
 */
START_TEST(test_waits_while_busy)
{
	struct heap_trimmer *t = NULL;
	struct heap_trim_stats st;

	heap_trimmer_note_call(NULL);  /* ignored */
	ck_assert_int_eq(heap_trimmer_start(&t, 100, 5), 0);
	for (unsigned waited = 0; waited < WAIT_MS; waited += 2) {
		for (int i = 0; i < 20; i++)
			heap_trimmer_note_call(t);
		heap_trimmer_stats(t, &st);
		if (st.skipped >= 3)
			break;
		sleep_ms(2);
	}
	heap_trimmer_stats(t, &st);
	ck_assert_uint_ge(st.skipped, 3);
	ck_assert_uint_eq(st.trims, 0);

	ck_assert(wait_trims(t, 0, &st));
	ck_assert_uint_ge(st.trims, 1);
	heap_trimmer_stop(t);
}
END_TEST

static Suite *heap_suite(void)
{
	Suite *s = suite_create("heap");
	TCase *tc = tcase_create("trimmer");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_interval_zero);
	tcase_add_test(tc, test_runs_and_counts);
	tcase_add_test(tc, test_gives_back_middle_pages);
	tcase_add_test(tc, test_trim_due);
	tcase_add_test(tc, test_waits_while_busy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(heap_suite());
}
