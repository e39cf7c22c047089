/**
 * @file calendar.c  Procedure 46 §6: an inquiry is due at the close of the business day it was
 *                   received on, or of the next one.
 *
 * The rules run on civil dates and wall-clock minutes, so they know nothing of DST: a day is a
 * date and its hours are what the office clock shows. Only the edges (calendar_due_at,
 * calendar_is_open) convert, with the C library and the system's time-zone database: localtime_r
 * for what the office clock read when the call came, mktime with tm_isdst = -1 for the close of
 * the due day, which lets the database pick the offset in force on that day. That is why a call
 * on the Thursday before Israel's spring change is due on Sunday at 13:00 UTC (16:00 IDT), not at
 * the 14:00 UTC that adding days to the Thursday's offset would give.
 *
 * Dates are counted as days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms", days_from_civil / civil_from_days): "the next day" and the weekday are then plain
 * arithmetic, across month and year ends, for every proleptic Gregorian date.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deskline/calendar.h"

/** Where tzdata installs the zones glibc reads for TZ=Area/City. */
#define ZONEINFO_DIR "/usr/share/zoneinfo"

#define MIN_PER_DAY 1440

/** Days after the day received that are searched for a business day: a year, leap or not. */
#define SEARCH_DAYS 366

static bool is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

bool calendar_date_valid(int year, int month, int day)
{
	return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
	       day <= days_in_month(year, month);
}

/** Days since 1970-01-01 (negative before). Years start in March, so 29 February is last. */
static long long days_from_civil(int year, int month, int day)
{
	long long y = (long long)year - (month <= 2);
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;                                       /* [0, 399] */
	long long doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;               /* [0, 146096] */

	return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, int *year, int *month, int *day)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;

	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(yoe + era * 400 + (*month <= 2));
}

/** 1970-01-01 was a Thursday (4). */
static int weekday_of(long long days)
{
	return (int)(((days % 7) + 7 + 4) % 7);
}

int calendar_weekday(int year, int month, int day)
{
	if (!calendar_date_valid(year, month, day))
		return -1;
	return weekday_of(days_from_civil(year, month, day));
}

static bool civil_valid(const struct cal_civil *t)
{
	/* sec 60: a leap second, which a zone from the "right/" tree can report. */
	return calendar_date_valid(t->year, t->month, t->day) && t->hour >= 0 && t->hour <= 23 &&
	       t->min >= 0 && t->min <= 59 && t->sec >= 0 && t->sec <= 60;
}

static int holiday_cmp(const struct cal_holiday *h, int year, int month, int day)
{
	if (h->year != year)
		return h->year < year ? -1 : 1;
	if (h->month != month)
		return h->month < month ? -1 : 1;
	return h->day < day ? -1 : h->day > day;
}

/** Binary search: the loader keeps the holidays sorted, and a due time may look at every day
 * of a year. */
static const struct cal_holiday *holiday_find(const struct dl_calendar *cal, int year,
					      int month, int day)
{
	size_t lo = 0, hi = cal->n_holidays;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = holiday_cmp(&cal->holidays[mid], year, month, day);

		if (c == 0)
			return &cal->holidays[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/**
 * Working hours of the day @p days (since 1970-01-01): its weekday's, cancelled by a holiday or
 * cut short by a short day. Hours outside 0 ≤ open < close ≤ 24:00 mean closed.
 *
 * @return false when the day is not a business day.
 */
static bool day_hours(const struct dl_calendar *cal, long long days, int *open_min,
		      int *close_min)
{
	const struct cal_hours *w = &cal->week[weekday_of(days)];
	int open = w->open_min, close = w->close_min;
	int year, month, day;

	if (open < 0 || close > MIN_PER_DAY || open >= close)
		return false;
	civil_from_days(days, &year, &month, &day);
	const struct cal_holiday *h = holiday_find(cal, year, month, day);
	if (h) {
		if (h->close_min < 0)
			return false;
		if (h->close_min < close)
			close = h->close_min;
		if (close <= open)
			return false;
	}
	*open_min = open;
	*close_min = close;
	return true;
}

int calendar_due_civil(const struct dl_calendar *cal, const struct cal_civil *received,
		       struct cal_civil *due)
{
	if (!cal || !received || !due || !civil_valid(received))
		return EINVAL;

	long long days = days_from_civil(received->year, received->month, received->day);
	int t_s = received->hour * 3600 + received->min * 60 + received->sec;

	for (int i = 0; i <= SEARCH_DAYS; i++, days++) {
		int open, close;

		if (!day_hours(cal, days, &open, &close))
			continue;
		/* Before opening is that day too: the inquiry waits for the office, not a day. */
		if (i == 0 && t_s >= close * 60)
			continue;
		/* A close of 24:00 is 00:00 of the next day. */
		struct cal_civil d = { .hour = close % MIN_PER_DAY / 60, .min = close % 60 };
		civil_from_days(days + close / MIN_PER_DAY, &d.year, &d.month, &d.day);
		*due = d;
		return 0;
	}
	return ENOENT;
}

bool calendar_is_open_civil(const struct dl_calendar *cal, const struct cal_civil *t)
{
	int open, close;

	if (!cal || !t || !civil_valid(t))
		return false;
	int t_s = t->hour * 3600 + t->min * 60 + t->sec;
	return day_hours(cal, days_from_civil(t->year, t->month, t->day), &open, &close) &&
	       t_s >= open * 60 && t_s < close * 60;
}

/* ------------------------------------------------------------------------------------------ */
/* The edges: Unix time ↔ local time through the tz database                                   */

int calendar_zone_check(const char *name)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-+";
	char path[sizeof(ZONEINFO_DIR) + 256];
	char magic[4];
	struct stat st;
	int fd, err = ENOENT;

	if (!name)
		return EINVAL;
	/* The name becomes a path: nothing that leaves the database folder. */
	if (!name[0] || name[0] == '/' || strstr(name, "..") ||
	    strspn(name, allowed) != strlen(name))
		return ENOENT;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, name) >= sizeof(path))
		return ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ENOENT;
	/* The folder also holds zone.tab, leapseconds, tzdata.zi …: a zone starts with "TZif"
	 * (RFC 8536 §3.1); glibc would take anything else as UTC without a word. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, "TZif", sizeof(magic)) == 0)
		err = 0;
	close(fd);
	return err;
}

int calendar_use_timezone(const struct dl_calendar *cal)
{
	int err;

	if (!cal || !cal->timezone)
		return EINVAL;
	err = calendar_zone_check(cal->timezone);
	if (err)
		return err;
	if (setenv("TZ", cal->timezone, 1) != 0)
		return errno ? errno : ENOMEM;
	tzset();
	return 0;
}

static void civil_from_tm(const struct tm *tm, struct cal_civil *c)
{
	*c = (struct cal_civil){
		.year = tm->tm_year + 1900, .month = tm->tm_mon + 1, .day = tm->tm_mday,
		.hour = tm->tm_hour, .min = tm->tm_min, .sec = tm->tm_sec,
	};
}

int calendar_due_at(const struct dl_calendar *cal, time_t received_s, time_t *due_s)
{
	struct cal_civil received, due;
	struct tm tm;
	int err;

	if (!cal || !due_s)
		return EINVAL;
	if (!localtime_r(&received_s, &tm))
		return EINVAL;
	civil_from_tm(&tm, &received);
	err = calendar_due_civil(cal, &received, &due);
	if (err)
		return err;

	/* tm_isdst = -1: the offset of the due day, not of the day received. A closing inside a
	 * DST gap (no zone has one at office hours) would come out an hour later. */
	tm = (struct tm){
		.tm_year = due.year - 1900, .tm_mon = due.month - 1, .tm_mday = due.day,
		.tm_hour = due.hour, .tm_min = due.min, .tm_isdst = -1,
	};
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return EINVAL;
	*due_s = t;
	return 0;
}

bool calendar_is_open(const struct dl_calendar *cal, time_t now_s)
{
	struct cal_civil now;
	struct tm tm;

	if (!cal || !localtime_r(&now_s, &tm))
		return false;
	civil_from_tm(&tm, &now);
	return calendar_is_open_civil(cal, &now);
}

int calendar_format_local(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!buf)
		return EINVAL;
	if (size)
		buf[0] = '\0';
	if (!localtime_r(&t, &tm))
		return EINVAL;
	/* strftime returns 0 when the text and its NUL do not fit; the contents are then
	 * unspecified, so the buffer is emptied again. */
	if (!size || strftime(buf, size, "%Y-%m-%d %H:%M", &tm) == 0) {
		if (size)
			buf[0] = '\0';
		return ENOSPC;
	}
	return 0;
}
