/**
 * @file test_cdr.c  CDR lines: JSON escaping, times, durations, buffer limits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "deskline/cdr.h"

static const struct {
	const char *name;
	struct cdr_record r;
	const char *expect;
} cases[] = {
	{ "completed call",
	  { .call_id = "abc@h", .caller = "0501234567", .caller_name = "Dana", .called = "1000",
	    .path = "main:1(automated payment)", .route = "trunk:payment", .result = "completed",
	    .detail = "", .start_ms = 1795983459000ull, .answer_ms = 1795983459120ull,
	    .bridge_ms = 1795983462000ull, .end_ms = 1795983472500ull },
	  "{\"start\":\"2026-11-29T20:17:39.000Z\",\"answer\":\"2026-11-29T20:17:39.120Z\","
	  "\"end\":\"2026-11-29T20:17:52.500Z\",\"call_id\":\"abc@h\",\"caller\":\"0501234567\","
	  "\"caller_name\":\"Dana\",\"called\":\"1000\",\"menu_path\":\"main:1(automated payment)\","
	  "\"route\":\"trunk:payment\",\"result\":\"completed\",\"detail\":\"\",\"ticket\":\"\","
	  "\"duration_ms\":13500,\"talk_ms\":10500}\n" },
	{ "never answered, NULL strings",
	  { .call_id = "x", .result = "rejected", .detail = "488 No common codec",
	    .start_ms = 1000, .end_ms = 1500 },
	  "{\"start\":\"1970-01-01T00:00:01.000Z\",\"answer\":\"\",\"end\":\"1970-01-01T00:00:01.500Z\","
	  "\"call_id\":\"x\",\"caller\":\"\",\"caller_name\":\"\",\"called\":\"\",\"menu_path\":\"\","
	  "\"route\":\"\",\"result\":\"rejected\",\"detail\":\"488 No common codec\",\"ticket\":\"\","
	  "\"duration_ms\":500,\"talk_ms\":0}\n" },
	{ "quotes, backslash, control characters and Hebrew are escaped or kept",
	  { .call_id = "q", .caller_name = "\"\\\n\t\x01\xd7\x93\xd7\xa0\xd7\x94", .result = "r",
	    .start_ms = 0, .end_ms = 0 },
	  "{\"start\":\"\",\"answer\":\"\",\"end\":\"\",\"call_id\":\"q\",\"caller\":\"\","
	  "\"caller_name\":\"\\\"\\\\\\n\\t\\u0001\xd7\x93\xd7\xa0\xd7\x94\",\"called\":\"\","
	  "\"menu_path\":\"\",\"route\":\"\",\"result\":\"r\",\"detail\":\"\",\"ticket\":\"\","
	  "\"duration_ms\":0,\"talk_ms\":0}\n" },
};

START_TEST(test_format)
{
	char buf[2048];
	int n = cdr_format(buf, sizeof(buf), &cases[_i].r);

	ck_assert_msg(n > 0, "%s: cdr_format failed", cases[_i].name);
	ck_assert_str_eq(buf, cases[_i].expect);
	ck_assert_int_eq(n, (int)strlen(cases[_i].expect));
}
END_TEST

START_TEST(test_too_small)
{
	char buf[2048];
	int full = cdr_format(buf, sizeof(buf), &cases[0].r);

	ck_assert_int_gt(full, 0);
	/* Every size up to the exact need fails cleanly and never writes past the end. */
	for (int size = 1; size <= full; size++) {
		char small[2048];
		memset(small, 'Z', sizeof(small));
		ck_assert_int_eq(cdr_format(small, (size_t)size, &cases[0].r), -1);
		ck_assert_int_eq(small[size], 'Z');
	}
	ck_assert_int_eq(cdr_format(buf, (size_t)full + 1, &cases[0].r), full);
	ck_assert_int_eq(cdr_format(NULL, 10, &cases[0].r), -1);
}
END_TEST

START_TEST(test_write_file)
{
	char path[] = "/tmp/deskline-cdr-XXXXXX";
	int fd = mkstemp(path);
	struct cdr *c = NULL;
	char buf[4096];

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(cdr_open(&c, path), 0);
	ck_assert_int_eq(cdr_write(c, &cases[0].r), 0);
	ck_assert_int_eq(cdr_write(c, &cases[1].r), 0);
	cdr_close(c);

	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	unlink(path);
	ck_assert_uint_eq(n, strlen(cases[0].expect) + strlen(cases[1].expect));
	ck_assert_int_eq(strncmp(buf, cases[0].expect, strlen(cases[0].expect)), 0);

	ck_assert_int_eq(cdr_open(&c, "/nonexistent-dir/cdr.log"), ENOENT);
	ck_assert_int_eq(cdr_open(&c, NULL), 0);
	ck_assert_int_eq(cdr_write(c, &cases[0].r), 0);
	cdr_close(c);
}
END_TEST

static Suite *cdr_suite(void)
{
	Suite *s = suite_create("cdr");
	TCase *tc = tcase_create("format");
	tcase_add_loop_test(tc, test_format, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_write_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(cdr_suite());
}
