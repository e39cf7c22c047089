/**
 * @file calendar.h  The department's business calendar (Procedure 46 §6): working hours per
 *                   weekday, holidays (whole days and short days), in the council's time zone.
 *                   It decides a ticket's SLA due time — the close of the business day on which
 *                   the inquiry was received — and whether the line is open.
 *
 * The rules work on local civil time and are pure (calendar_due_civil, calendar_is_open_civil).
 * Converting between Unix time and local time is done at the edge with the system's time-zone
 * database (calendar_due_at, calendar_is_open), which knows every DST change.
 */
#ifndef DESKLINE_CALENDAR_H
#define DESKLINE_CALENDAR_H

#include <time.h>

#include "types.h"

/** Working hours of one weekday, minutes after local midnight; open == close means closed. */
struct cal_hours {
	int open_min;
	int close_min;
};

/** A holiday: closed all day (close_min < 0) or a short day closing early at close_min. */
struct cal_holiday {
	int year, month, day;   /**< month 1–12, day 1–31 */
	int close_min;          /**< -1: closed all day */
};

/** The calendar. Holidays sorted by date, no duplicates (the loader sees to it). */
struct dl_calendar {
	char *timezone;                 /**< IANA name, e.g. "Asia/Jerusalem" */
	struct cal_hours week[7];       /**< index 0 = Sunday … 6 = Saturday */
	struct cal_holiday *holidays;
	size_t n_holidays;
};

/** A local civil time. */
struct cal_civil {
	int year, month, day;   /**< month 1–12 */
	int hour, min, sec;
};

/**
 * The due time of an inquiry received at @p received (local time): received during working
 * hours (open ≤ t < close) or before opening on a business day → that day's close; after
 * closing, on a weekend day or a holiday → the close of the next business day.
 *
 * @param due  receives the local due time (seconds 0)
 * @return 0; ENOENT when no business day follows within 366 days (a calendar with no hours).
 */
int calendar_due_civil(const struct dl_calendar *cal, const struct cal_civil *received,
		       struct cal_civil *due);

/** Is the department open at local time @p t? */
bool calendar_is_open_civil(const struct dl_calendar *cal, const struct cal_civil *t);

/** Day of the week of a civil date, 0 = Sunday. */
int calendar_weekday(int year, int month, int day);

/**
 * Select the calendar's time zone for this process (setenv TZ + tzset). deskline is
 * single-threaded where it converts times; call once after loading a configuration.
 *
 * @return 0, or ENOENT when the zone is not in the system's database.
 */
int calendar_use_timezone(const struct dl_calendar *cal);

/**
 * Due time of an inquiry received at a Unix time (Procedure 46 §6).
 *
 * @param received_s  Unix seconds
 * @param due_s       receives the Unix seconds of the due time
 * @return 0, ENOENT (see calendar_due_civil), EINVAL for a time the C library cannot convert.
 */
int calendar_due_at(const struct dl_calendar *cal, time_t received_s, time_t *due_s);

/** Is the department open at a Unix time? */
bool calendar_is_open(const struct dl_calendar *cal, time_t now_s);

/**
 * Format a Unix time as local time "YYYY-MM-DD HH:MM" in the calendar's zone.
 *
 * @return 0 or ENOSPC.
 */
int calendar_format_local(time_t t, char *buf, size_t size);

#endif
