/**
 * @file test_calendar.c  The business calendar (Procedure 46 §6): the rules on civil dates, then
 *                        the same rules through Unix time in Asia/Jerusalem across the 2026 DST
 *                        changes.
 *
 * Every expected Unix time was computed with the system's tz database, e.g.
 *   TZ=Asia/Jerusalem date -d '2026-03-29 16:00' +%s   → 1774789200 (13:00 UTC)
 * and checked back with date -u -d @N. Israel in 2026: IST (UTC+2) until Friday 27 March 02:00,
 * which becomes 03:00 IDT (UTC+3); back at Sunday 25 October 02:00 IDT, which becomes 01:00 IST
 * (zdump -v -c 2026,2027 Asia/Jerusalem).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deskline/calendar.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define HM(h, m) ((h) * 60 + (m))
#define CLOSED { 0, 0 }
#define OFFICE { HM(8, 0), HM(16, 0) }

/* The department's defaults: Sunday–Thursday 08:00–16:00. */
#define DEFAULT_WEEK { OFFICE, OFFICE, OFFICE, OFFICE, OFFICE, CLOSED, CLOSED }

/* Real days of 5787 (hebcal -i): Rosh Hashana (Sat–Sun), the eve of Yom Kippur as a short day,
 * Yom Kippur, and the working days of Sukkot's intermediate week as a run of closed days. */
static struct cal_holiday holidays[] = {
	{ 2026, 9, 12, -1 },
	{ 2026, 9, 13, -1 },
	{ 2026, 9, 20, HM(13, 0) },
	{ 2026, 9, 21, -1 },
	{ 2026, 9, 27, -1 },
	{ 2026, 9, 28, -1 },
	{ 2026, 9, 29, -1 },
	{ 2026, 9, 30, -1 },
	{ 2026, 10, 1, -1 },
};

static const struct dl_calendar jerusalem = {
	.timezone = "Asia/Jerusalem",
	.week = DEFAULT_WEEK,
	.holidays = holidays,
	.n_holidays = N(holidays),
};

/* ------------------------------------------------------------------------------------------ */
/* Civil dates                                                                                 */

static const struct {
	int year, month, day;
	int weekday;   /* -1: the date does not exist */
} weekday_cases[] = {
	{ 1970, 1, 1, 4 },
	{ 1969, 12, 31, 3 },
	{ 2000, 2, 29, 2 },
	{ 2026, 3, 26, 4 },
	{ 2026, 3, 27, 5 },
	{ 2026, 3, 28, 6 },
	{ 2026, 3, 29, 0 },
	{ 2026, 9, 30, 3 },
	{ 2026, 12, 31, 4 },
	{ 2027, 1, 3, 0 },
	{ 2028, 2, 29, 2 },
	{ 2400, 2, 29, 2 },
	{ 1, 1, 1, 1 },
	{ 9999, 12, 31, 5 },
	{ 2026, 2, 29, -1 },
	{ 2100, 2, 29, -1 },
	{ 2026, 4, 31, -1 },
	{ 2026, 13, 1, -1 },
	{ 2026, 0, 1, -1 },
	{ 2026, 1, 0, -1 },
	{ 2026, 1, 32, -1 },
	{ 0, 1, 1, -1 },
	{ 10000, 1, 1, -1 },
};

START_TEST(test_weekday)
{
	int y = weekday_cases[_i].year, m = weekday_cases[_i].month, d = weekday_cases[_i].day;
	int want = weekday_cases[_i].weekday;

	ck_assert_msg(calendar_weekday(y, m, d) == want, "%04d-%02d-%02d: %d, want %d", y, m, d,
		      calendar_weekday(y, m, d), want);
	ck_assert_int_eq(calendar_date_valid(y, m, d), want >= 0);
}
END_TEST

struct civil_case {
	const char *name;
	struct cal_civil received;
	struct cal_civil due;
};

#define AT(y, mo, d, h, mi, s) { (y), (mo), (d), (h), (mi), (s) }

static const struct civil_case due_cases[] = {
	{ "Thursday 15:59, during hours", AT(2026, 3, 26, 15, 59, 0), AT(2026, 3, 26, 16, 0, 0) },
	{ "Thursday 15:59:59", AT(2026, 3, 26, 15, 59, 59), AT(2026, 3, 26, 16, 0, 0) },
	{ "Thursday 08:00, at opening", AT(2026, 3, 26, 8, 0, 0), AT(2026, 3, 26, 16, 0, 0) },
	{ "Thursday 16:00 exactly: closed", AT(2026, 3, 26, 16, 0, 0), AT(2026, 3, 29, 16, 0, 0) },
	{ "Thursday 16:01", AT(2026, 3, 26, 16, 1, 0), AT(2026, 3, 29, 16, 0, 0) },
	{ "Thursday 23:59:59", AT(2026, 3, 26, 23, 59, 59), AT(2026, 3, 29, 16, 0, 0) },
	{ "Friday", AT(2026, 3, 27, 10, 0, 0), AT(2026, 3, 29, 16, 0, 0) },
	{ "Saturday", AT(2026, 3, 28, 12, 0, 0), AT(2026, 3, 29, 16, 0, 0) },
	{ "Sunday 00:00", AT(2026, 3, 29, 0, 0, 0), AT(2026, 3, 29, 16, 0, 0) },
	{ "Sunday 07:30, before opening", AT(2026, 3, 29, 7, 30, 0), AT(2026, 3, 29, 16, 0, 0) },
	{ "Monday after hours", AT(2026, 3, 30, 18, 0, 0), AT(2026, 3, 31, 16, 0, 0) },
	{ "Thursday before Rosh Hashana", AT(2026, 9, 10, 17, 0, 0), AT(2026, 9, 14, 16, 0, 0) },
	{ "Saturday holiday", AT(2026, 9, 12, 10, 0, 0), AT(2026, 9, 14, 16, 0, 0) },
	{ "Sunday holiday, in office hours", AT(2026, 9, 13, 10, 0, 0), AT(2026, 9, 14, 16, 0, 0) },
	{ "short day before opening", AT(2026, 9, 20, 7, 0, 0), AT(2026, 9, 20, 13, 0, 0) },
	{ "short day 12:59", AT(2026, 9, 20, 12, 59, 0), AT(2026, 9, 20, 13, 0, 0) },
	{ "short day 13:00 exactly", AT(2026, 9, 20, 13, 0, 0), AT(2026, 9, 22, 16, 0, 0) },
	{ "short day 13:01", AT(2026, 9, 20, 13, 1, 0), AT(2026, 9, 22, 16, 0, 0) },
	{ "short day 15:00, regular hours", AT(2026, 9, 20, 15, 0, 0), AT(2026, 9, 22, 16, 0, 0) },
	{ "holiday in office hours", AT(2026, 9, 21, 10, 0, 0), AT(2026, 9, 22, 16, 0, 0) },
	{ "Thursday before a holiday run", AT(2026, 9, 24, 17, 0, 0), AT(2026, 10, 4, 16, 0, 0) },
	{ "inside the run", AT(2026, 9, 30, 10, 0, 0), AT(2026, 10, 4, 16, 0, 0) },
	{ "last day of the run, at opening", AT(2026, 10, 1, 8, 0, 0), AT(2026, 10, 4, 16, 0, 0) },
	{ "day after the run", AT(2026, 10, 4, 9, 0, 0), AT(2026, 10, 4, 16, 0, 0) },
	{ "year boundary", AT(2026, 12, 31, 17, 0, 0), AT(2027, 1, 3, 16, 0, 0) },
	{ "month boundary", AT(2027, 2, 28, 17, 0, 0), AT(2027, 3, 1, 16, 0, 0) },
	{ "to a leap day", AT(2028, 2, 28, 16, 30, 0), AT(2028, 2, 29, 16, 0, 0) },
};

START_TEST(test_due_civil)
{
	const struct civil_case *c = &due_cases[_i];
	struct cal_civil due = AT(1, 1, 1, 1, 1, 1);

	ck_assert_msg(calendar_due_civil(&jerusalem, &c->received, &due) == 0, "%s", c->name);
	ck_assert_msg(memcmp(&due, &c->due, sizeof(due)) == 0,
		      "%s: due %04d-%02d-%02d %02d:%02d:%02d, want %04d-%02d-%02d %02d:%02d",
		      c->name, due.year, due.month, due.day, due.hour, due.min, due.sec,
		      c->due.year, c->due.month, c->due.day, c->due.hour, c->due.min);
}
END_TEST

static const struct {
	const char *name;
	struct cal_civil t;
	bool open;
} open_cases[] = {
	{ "Thursday 07:59:59",      AT(2026, 3, 26, 7, 59, 59),  false },
	{ "Thursday 08:00",         AT(2026, 3, 26, 8, 0, 0),    true },
	{ "Thursday 12:00",         AT(2026, 3, 26, 12, 0, 0),   true },
	{ "Thursday 15:59:59",      AT(2026, 3, 26, 15, 59, 59), true },
	{ "Thursday 16:00",         AT(2026, 3, 26, 16, 0, 0),   false },
	{ "Friday 10:00",           AT(2026, 3, 27, 10, 0, 0),   false },
	{ "Saturday 10:00",         AT(2026, 3, 28, 10, 0, 0),   false },
	{ "Sunday 08:00",           AT(2026, 3, 29, 8, 0, 0),    true },
	{ "holiday 10:00",          AT(2026, 9, 21, 10, 0, 0),   false },
	{ "holiday run 10:00",      AT(2026, 9, 28, 10, 0, 0),   false },
	{ "short day 07:59",        AT(2026, 9, 20, 7, 59, 0),   false },
	{ "short day 08:00",        AT(2026, 9, 20, 8, 0, 0),    true },
	{ "short day 12:59:59",     AT(2026, 9, 20, 12, 59, 59), true },
	{ "short day 13:00",        AT(2026, 9, 20, 13, 0, 0),   false },
	{ "after the holiday",      AT(2026, 9, 22, 10, 0, 0),   true },
	{ "a date that is not",     AT(2026, 2, 29, 10, 0, 0),   false },
	{ "hour 24",                AT(2026, 3, 26, 24, 0, 0),   false },
};

START_TEST(test_is_open_civil)
{
	ck_assert_msg(calendar_is_open_civil(&jerusalem, &open_cases[_i].t) == open_cases[_i].open,
		      "%s", open_cases[_i].name);
}
END_TEST

/* Hours other than the defaults, and short days that do not shorten. */
static struct cal_holiday odd_holidays[] = {
	{ 2026, 3, 30, HM(20, 0) },   /* Monday: "short" day past the regular close */
	{ 2026, 3, 31, HM(8, 0) },    /* Tuesday: closing before the opening hour */
	{ 2026, 4, 1, HM(13, 0) },    /* Wednesday: a short day on a day without hours */
};

static const struct dl_calendar odd = {
	.timezone = "Asia/Jerusalem",
	.week = {
		{ HM(0, 0), HM(24, 0) },      /* Sunday: round the clock */
		{ HM(8, 30), HM(19, 0) },     /* Monday */
		{ HM(9, 0), HM(12, 0) },      /* Tuesday */
		{ HM(12, 0), HM(12, 0) },     /* Wednesday: open == close, closed */
		{ HM(16, 0), HM(8, 0) },      /* Thursday: upside down, closed */
		{ HM(10, 0), HM(14, 0) },     /* Friday */
		{ -60, HM(12, 0) },           /* Saturday: out of range, closed */
	},
	.holidays = odd_holidays,
	.n_holidays = N(odd_holidays),
};

static const struct civil_case odd_cases[] = {
	{ "Sunday to 24:00: due at 00:00", AT(2026, 3, 29, 23, 59, 59), AT(2026, 3, 30, 0, 0, 0) },
	{ "Sunday 00:00", AT(2026, 3, 29, 0, 0, 0), AT(2026, 3, 30, 0, 0, 0) },
	{ "short day past the close", AT(2026, 3, 30, 18, 30, 0), AT(2026, 3, 30, 19, 0, 0) },
	{ "Monday after hours", AT(2026, 3, 30, 19, 0, 0), AT(2026, 4, 3, 14, 0, 0) },
	{ "Friday before opening", AT(2026, 3, 27, 9, 0, 0), AT(2026, 3, 27, 14, 0, 0) },
	{ "Wednesday short day without hours", AT(2026, 4, 1, 12, 0, 0), AT(2026, 4, 3, 14, 0, 0) },
	{ "Saturday closed", AT(2026, 4, 4, 11, 0, 0), AT(2026, 4, 6, 0, 0, 0) },
};

START_TEST(test_due_civil_odd_hours)
{
	const struct civil_case *c = &odd_cases[_i];
	struct cal_civil due;

	ck_assert_msg(calendar_due_civil(&odd, &c->received, &due) == 0, "%s", c->name);
	ck_assert_msg(memcmp(&due, &c->due, sizeof(due)) == 0,
		      "%s: due %04d-%02d-%02d %02d:%02d:%02d", c->name, due.year, due.month,
		      due.day, due.hour, due.min, due.sec);
}
END_TEST

START_TEST(test_odd_hours_open)
{
	static const struct {
		struct cal_civil t;
		bool open;
	} cases[] = {
		{ AT(2026, 3, 29, 0, 0, 0), true },     /* Sunday round the clock */
		{ AT(2026, 3, 29, 23, 59, 59), true },
		{ AT(2026, 3, 30, 8, 29, 59), false },  /* Monday 08:30 */
		{ AT(2026, 3, 30, 18, 59, 59), true },  /* not past the regular 19:00 */
		{ AT(2026, 3, 30, 19, 0, 0), false },
		{ AT(2026, 3, 31, 10, 0, 0), false },   /* short day closing before the opening */
		{ AT(2026, 4, 1, 12, 30, 0), false },   /* Wednesday short day, open == close */
		{ AT(2026, 4, 8, 12, 0, 0), false },    /* a plain Wednesday */
		{ AT(2026, 4, 2, 10, 0, 0), false },    /* Thursday upside down */
		{ AT(2026, 3, 27, 11, 0, 0), true },    /* Friday */
		{ AT(2026, 4, 4, 11, 0, 0), false },    /* Saturday out of range */
	};

	for (size_t i = 0; i < N(cases); i++)
		ck_assert_msg(calendar_is_open_civil(&odd, &cases[i].t) == cases[i].open,
			      "case %zu", i);
}
END_TEST

/* No business day at all: nothing to wait for. */
START_TEST(test_no_open_day)
{
	static const struct {
		const char *name;
		struct dl_calendar cal;
	} cases[] = {
		{ "every day closed", { .week = { CLOSED, CLOSED, CLOSED, CLOSED, CLOSED, CLOSED,
						  CLOSED } } },
		{ "every day upside down", { .week = {
			{ 600, 500 }, { 600, 500 }, { 600, 500 }, { 600, 500 }, { 600, 500 },
			{ 600, 500 }, { 600, 500 } } } },
		{ "every day past midnight", { .week = {
			{ 0, 1441 }, { 0, 1441 }, { 0, 1441 }, { 0, 1441 }, { 0, 1441 },
			{ 0, 1441 }, { 0, 1441 } } } },
	};
	struct cal_civil t = AT(2026, 3, 26, 10, 0, 0);

	for (size_t i = 0; i < N(cases); i++) {
		struct cal_civil due = AT(7, 7, 7, 7, 7, 7);
		ck_assert_msg(calendar_due_civil(&cases[i].cal, &t, &due) == ENOENT, "%s",
			      cases[i].name);
		ck_assert_int_eq(due.year, 7);   /* untouched */
		ck_assert(!calendar_is_open_civil(&cases[i].cal, &t));
	}
}
END_TEST

/* The search covers the day received and 366 days after it, no more. */
static struct cal_holiday *holiday_run(int year, int month, int day, size_t n)
{
	struct cal_holiday *v = calloc(n, sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < n; i++) {
		v[i] = (struct cal_holiday){ year, month, day, -1 };
		if (calendar_date_valid(year, month, day + 1)) {
			day++;
		} else if (month < 12) {
			month++;
			day = 1;
		} else {
			year++;
			month = 1;
			day = 1;
		}
	}
	return v;
}

START_TEST(test_search_limit)
{
	struct dl_calendar cal = { .week = { OFFICE, OFFICE, OFFICE, OFFICE, OFFICE, OFFICE,
					     OFFICE } };
	struct cal_civil t = AT(2026, 1, 1, 10, 0, 0);
	struct cal_civil due;

	/* 2026-01-01 … 2027-01-01 closed (366 days): 2027-01-02 is the 366th day after. */
	cal.holidays = holiday_run(2026, 1, 1, 366);
	cal.n_holidays = 366;
	ck_assert_int_eq(cal.holidays[365].year, 2027);
	ck_assert_int_eq(cal.holidays[365].day, 1);
	ck_assert_int_eq(calendar_due_civil(&cal, &t, &due), 0);
	ck_assert_int_eq(due.year, 2027);
	ck_assert_int_eq(due.month, 1);
	ck_assert_int_eq(due.day, 2);
	ck_assert_int_eq(due.hour, 16);
	free(cal.holidays);

	/* One more closed day: nothing within reach. */
	cal.holidays = holiday_run(2026, 1, 1, 367);
	cal.n_holidays = 367;
	ck_assert_int_eq(calendar_due_civil(&cal, &t, &due), ENOENT);
	free(cal.holidays);
}
END_TEST

START_TEST(test_civil_args)
{
	static const struct cal_civil bad[] = {
		AT(2026, 2, 29, 10, 0, 0),
		AT(2026, 13, 1, 10, 0, 0),
		AT(2026, 1, 0, 10, 0, 0),
		AT(0, 1, 1, 10, 0, 0),
		AT(10000, 1, 1, 10, 0, 0),
		AT(2026, 3, 26, 24, 0, 0),
		AT(2026, 3, 26, -1, 0, 0),
		AT(2026, 3, 26, 10, 60, 0),
		AT(2026, 3, 26, 10, 0, 61),
		AT(2026, 3, 26, 10, 0, -1),
	};
	struct cal_civil t = AT(2026, 3, 26, 10, 0, 0);
	struct cal_civil due;

	for (size_t i = 0; i < N(bad); i++) {
		ck_assert_msg(calendar_due_civil(&jerusalem, &bad[i], &due) == EINVAL, "case %zu",
			      i);
		ck_assert(!calendar_is_open_civil(&jerusalem, &bad[i]));
	}
	ck_assert_int_eq(calendar_due_civil(NULL, &t, &due), EINVAL);
	ck_assert_int_eq(calendar_due_civil(&jerusalem, NULL, &due), EINVAL);
	ck_assert_int_eq(calendar_due_civil(&jerusalem, &t, NULL), EINVAL);
	ck_assert(!calendar_is_open_civil(NULL, &t));
	ck_assert(!calendar_is_open_civil(&jerusalem, NULL));
	ck_assert(calendar_is_open_civil(&jerusalem, &t));
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Unix time in Asia/Jerusalem                                                                 */

static void use_jerusalem(void)
{
	ck_assert_int_eq(calendar_use_timezone(&jerusalem), 0);
}

static const struct {
	const char *name;     /* local time received */
	time_t received_s;
	time_t due_s;         /* local due time in the comment */
} due_at_cases[] = {
	{ "Thu 2026-03-26 15:59 IST",           1774533540, 1774533600 },  /* Thu 16:00 IST */
	{ "Thu 2026-03-26 08:00 IST",           1774504800, 1774533600 },
	{ "Thu 2026-03-26 07:59:59 IST",        1774504799, 1774533600 },
	{ "Thu 2026-03-26 16:00 IST exactly",   1774533600, 1774789200 },  /* Sun 29 16:00 IDT */
	{ "Thu 2026-03-26 16:01 IST",           1774533660, 1774789200 },
	{ "Thu 2026-03-26 17:00 IST",           1774537200, 1774789200 },  /* = 13:00 UTC */
	{ "Fri 2026-03-27 01:59:59 IST",        1774569599, 1774789200 },  /* last second of IST */
	{ "Fri 2026-03-27 03:00 IDT",           1774569600, 1774789200 },  /* the next one */
	{ "Fri 2026-03-27 10:00 IDT",           1774594800, 1774789200 },
	{ "Sat 2026-03-28 12:00 IDT",           1774688400, 1774789200 },
	{ "Sun 2026-03-29 07:30 IDT",           1774758600, 1774789200 },
	{ "Sun 2026-03-29 08:00 IDT",           1774760400, 1774789200 },
	{ "Thu 2026-06-18 20:00 IDT",           1781802000, 1782046800 },  /* Sun 21 16:00 IDT */
	{ "Thu 2026-09-10 17:00 IDT",           1789048800, 1789390800 },  /* Mon 14 16:00 IDT */
	{ "Sun 2026-09-20 12:59 IDT, short",    1789898340, 1789898400 },  /* Sun 20 13:00 IDT */
	{ "Sun 2026-09-20 13:00 IDT, short",    1789898400, 1790082000 },  /* Tue 22 16:00 IDT */
	{ "Sun 2026-09-20 13:01 IDT, short",    1789898460, 1790082000 },
	{ "Mon 2026-09-21 10:00 IDT, holiday",  1789974000, 1790082000 },
	{ "Thu 2026-09-24 17:00 IDT",           1790258400, 1791118800 },  /* Sun 4 Oct 16:00 */
	{ "Sat 2026-10-24 23:30 IDT",           1792873800, 1792936800 },  /* Sun 25 16:00 IST */
	{ "Sun 2026-10-25 01:30 IDT",           1792881000, 1792936800 },  /* 01:30 happens */
	{ "Sun 2026-10-25 01:30 IST",           1792884600, 1792936800 },  /* twice */
	{ "Sun 2026-10-25 09:00 IST",           1792911600, 1792936800 },  /* = 14:00 UTC */
	{ "Thu 2026-12-31 17:00 IST",           1798729200, 1798984800 },  /* Sun 2027-01-03 */
};

START_TEST(test_due_at)
{
	time_t due = 0;

	use_jerusalem();
	ck_assert_msg(calendar_due_at(&jerusalem, due_at_cases[_i].received_s, &due) == 0, "%s",
		      due_at_cases[_i].name);
	ck_assert_msg(due == due_at_cases[_i].due_s, "%s: due %lld, want %lld",
		      due_at_cases[_i].name, (long long)due, (long long)due_at_cases[_i].due_s);
}
END_TEST

static const struct {
	const char *name;
	time_t t;
	bool open;
} open_at_cases[] = {
	{ "Thu 2026-03-26 07:59:59 IST",  1774504799, false },
	{ "Thu 2026-03-26 08:00 IST",     1774504800, true },
	{ "Thu 2026-03-26 15:59:59 IST",  1774533599, true },
	{ "Thu 2026-03-26 16:00 IST",     1774533600, false },
	{ "Fri 2026-03-27 10:00 IDT",     1774594800, false },
	{ "Sun 2026-03-29 08:00 IDT",     1774760400, true },
	{ "Sun 2026-03-29 07:30 IDT",     1774758600, false },
	{ "Sun 2026-03-29 16:00 IDT",     1774789200, false },
	{ "Sun 2026-09-20 12:59 IDT",     1789898340, true },
	{ "Sun 2026-09-20 13:00 IDT",     1789898400, false },
	{ "Mon 2026-09-21 10:00 IDT",     1789974000, false },
	{ "Sun 2026-10-25 09:00 IST",     1792911600, true },
	{ "Sun 2026-10-25 16:00 IST",     1792936800, false },
	{ "Sun 2026-10-25 15:59:59 IST",  1792936799, true },
	{ "Sun 2026-10-25 01:30 IDT",     1792881000, false },
};

START_TEST(test_is_open_at)
{
	use_jerusalem();
	ck_assert_msg(calendar_is_open(&jerusalem, open_at_cases[_i].t) == open_at_cases[_i].open,
		      "%s", open_at_cases[_i].name);
}
END_TEST

/* The same call in another zone: the offset comes from the zone, not from the code. */
START_TEST(test_due_at_in_utc)
{
	struct dl_calendar utc = jerusalem;
	time_t due = 0;

	utc.timezone = "UTC";
	ck_assert_int_eq(calendar_use_timezone(&utc), 0);
	/* Thu 2026-03-26 17:00 UTC → Sun 2026-03-29 16:00 UTC */
	ck_assert_int_eq(calendar_due_at(&utc, 1774544400, &due), 0);
	ck_assert_int_eq(due, 1774800000);

	use_jerusalem();
	ck_assert_int_eq(calendar_due_at(&jerusalem, 1774544400, &due), 0);
	ck_assert_int_eq(due, 1774789200);   /* 19:00 IST Thursday → 16:00 IDT Sunday */
}
END_TEST

START_TEST(test_due_at_errors)
{
	struct dl_calendar closed = { .timezone = "Asia/Jerusalem",
				      .week = { CLOSED, CLOSED, CLOSED, CLOSED, CLOSED, CLOSED,
						CLOSED } };
	time_t due = 42;

	use_jerusalem();
	ck_assert_int_eq(calendar_due_at(&closed, 1774533540, &due), ENOENT);
	ck_assert_int_eq(due, 42);
	ck_assert(!calendar_is_open(&closed, 1774533540));
	ck_assert_int_eq(calendar_due_at(NULL, 1774533540, &due), EINVAL);
	ck_assert_int_eq(calendar_due_at(&jerusalem, 1774533540, NULL), EINVAL);
	ck_assert(!calendar_is_open(NULL, 1774533540));
	/* A year localtime_r cannot hold in an int. */
	if (sizeof(time_t) > 4) {
		time_t far = (time_t)1 << 60;
		ck_assert_int_eq(calendar_due_at(&jerusalem, far, &due), EINVAL);
		ck_assert(!calendar_is_open(&jerusalem, far));
	}
	ck_assert_int_eq(due, 42);
}
END_TEST

static const struct {
	time_t t;
	const char *text;
} format_cases[] = {
	{ 1774533540, "2026-03-26 15:59" },
	{ 1774789200, "2026-03-29 16:00" },
	{ 1792881000, "2026-10-25 01:30" },   /* IDT */
	{ 1792884600, "2026-10-25 01:30" },   /* IST, an hour later */
	{ 1798984800, "2027-01-03 16:00" },
	{ 0,          "1970-01-01 02:00" },
};

START_TEST(test_format_local)
{
	char buf[17];

	use_jerusalem();
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(calendar_format_local(format_cases[_i].t, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, format_cases[_i].text);
}
END_TEST

START_TEST(test_format_local_errors)
{
	char buf[16];

	use_jerusalem();
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(calendar_format_local(1774533540, buf, sizeof(buf)), ENOSPC);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(calendar_format_local(1774533540, buf, 0), ENOSPC);
	ck_assert_int_eq(calendar_format_local(1774533540, NULL, 17), EINVAL);
	if (sizeof(time_t) > 4)
		ck_assert_int_eq(calendar_format_local((time_t)1 << 60, buf, sizeof(buf)),
				 EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Time zones                                                                                  */

static const struct {
	const char *name;
	int rc;
} zone_cases[] = {
	{ "Asia/Jerusalem",                 0 },
	{ "UTC",                            0 },
	{ "Etc/GMT+2",                      0 },
	{ "America/Argentina/Buenos_Aires", 0 },
	{ "Asia/Jerusalem ",                ENOENT },
	{ "asia/jerusalem",                 ENOENT },
	{ "Mars/Olympus_Mons",              ENOENT },
	{ "Asia",                           ENOENT },   /* a folder */
	{ "zone.tab",                       ENOENT },   /* a file, not a zone */
	{ "tzdata.zi",                      ENOENT },
	{ "/etc/localtime",                 ENOENT },
	{ "/usr/share/zoneinfo/UTC",        ENOENT },
	{ "../zoneinfo/UTC",                ENOENT },
	{ "Asia/../Asia/Jerusalem",         ENOENT },
	{ "IST-2IDT,M3.5.5/2,M10.5.0",      ENOENT },   /* a POSIX TZ string, not a name */
	{ ":Asia/Jerusalem",                ENOENT },
	{ "",                               ENOENT },
	{ NULL,                             EINVAL },
};

START_TEST(test_zone_check)
{
	ck_assert_msg(access("/usr/share/zoneinfo/Asia/Jerusalem", R_OK) == 0,
		      "the tz database is missing: install tzdata (scripts/install-deps.sh)");
	ck_assert_msg(calendar_zone_check(zone_cases[_i].name) == zone_cases[_i].rc, "\"%s\"",
		      zone_cases[_i].name ? zone_cases[_i].name : "NULL");
}
END_TEST

/* A zone that is not there is refused and the one in use stays. */
START_TEST(test_use_timezone)
{
	struct dl_calendar cal = jerusalem;
	char buf[17];

	use_jerusalem();
	ck_assert_str_eq(getenv("TZ"), "Asia/Jerusalem");
	cal.timezone = "Mars/Olympus_Mons";
	ck_assert_int_eq(calendar_use_timezone(&cal), ENOENT);
	ck_assert_str_eq(getenv("TZ"), "Asia/Jerusalem");
	ck_assert_int_eq(calendar_format_local(1774533540, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "2026-03-26 15:59");

	cal.timezone = "UTC";
	ck_assert_int_eq(calendar_use_timezone(&cal), 0);
	ck_assert_int_eq(calendar_format_local(1774533540, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "2026-03-26 13:59");

	cal.timezone = NULL;
	ck_assert_int_eq(calendar_use_timezone(&cal), EINVAL);
	ck_assert_int_eq(calendar_use_timezone(NULL), EINVAL);
	use_jerusalem();
}
END_TEST

static Suite *calendar_suite(void)
{
	Suite *s = suite_create("calendar");
	TCase *tc = tcase_create("civil");

	tcase_add_loop_test(tc, test_weekday, 0, N(weekday_cases));
	tcase_add_loop_test(tc, test_due_civil, 0, N(due_cases));
	tcase_add_loop_test(tc, test_is_open_civil, 0, N(open_cases));
	tcase_add_loop_test(tc, test_due_civil_odd_hours, 0, N(odd_cases));
	tcase_add_test(tc, test_odd_hours_open);
	tcase_add_test(tc, test_no_open_day);
	tcase_add_test(tc, test_search_limit);
	tcase_add_test(tc, test_civil_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("unix time");
	tcase_add_loop_test(tc, test_due_at, 0, N(due_at_cases));
	tcase_add_loop_test(tc, test_is_open_at, 0, N(open_at_cases));
	tcase_add_test(tc, test_due_at_in_utc);
	tcase_add_test(tc, test_due_at_errors);
	tcase_add_loop_test(tc, test_format_local, 0, N(format_cases));
	tcase_add_test(tc, test_format_local_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("zones");
	tcase_add_loop_test(tc, test_zone_check, 0, N(zone_cases));
	tcase_add_test(tc, test_use_timezone);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(calendar_suite());
}
