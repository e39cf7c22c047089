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
 * A short day is a business day that closes at its early hour: the weekday's opening stays,
 * the closing is the earlier of the two. A short day on a weekday without hours stays closed.
 *
 * @param due  receives the local due time (seconds 0)
 * @return 0; ENOENT when neither the day received nor any of the 366 days after it is a
 *         business day (a calendar with no hours); EINVAL for a NULL argument or a received
 *         time that does not exist (see calendar_date_valid; hour 0-23, min 0-59, sec 0-60).
 */
int calendar_due_civil(const struct dl_calendar *cal, const struct cal_civil *received,
		       struct cal_civil *due);

/** Is the department open at local time @p t (open ≤ t < close)? false for a NULL argument
 * or a time that does not exist. */
bool calendar_is_open_civil(const struct dl_calendar *cal, const struct cal_civil *t);

/** Day of the week of a civil date, 0 = Sunday; -1 when the date does not exist. */
int calendar_weekday(int year, int month, int day);

/**
 * Does a civil date exist? Proleptic Gregorian calendar, years 1–9999 (what "YYYY" holds).
 *
 * @return true for 2024-02-29, false for 2026-02-29, month 13 or day 0.
 */
bool calendar_date_valid(int year, int month, int day);

/**
 * Is @p name a zone of the system's time-zone database: a TZif file under /usr/share/zoneinfo
 * (package tzdata)? Shared by calendar_use_timezone and the configuration loader, because the C
 * library silently falls back to UTC for a TZ it cannot find. Names that are absolute, hold
 * ".." or characters other than letters, digits and / _ - + are refused without a look.
 *
 * @return 0; ENOENT when it is not a zone; EINVAL for NULL.
 */
int calendar_zone_check(const char *name);

/**
 * Select the calendar's time zone for this process (setenv TZ + tzset). deskline is
 * single-threaded where it converts times; call once after loading a configuration.
 *
 * @return 0, ENOENT when the zone is not in the system's database (calendar_zone_check),
 *         EINVAL for a NULL calendar or zone, ENOMEM.
 */
int calendar_use_timezone(const struct dl_calendar *cal);

/**
 * Due time of an inquiry received at a Unix time (Procedure 46 §6), in the zone
 * calendar_use_timezone selected. The due day's closing gets the UTC offset in force on that day,
 * so a due time across a DST change is still the wall-clock closing.
 *
 * @param received_s  Unix seconds
 * @param due_s       receives the Unix seconds of the due time
 * @return 0, ENOENT (see calendar_due_civil), EINVAL for a NULL argument or a time the C
 *         library cannot convert.
 */
int calendar_due_at(const struct dl_calendar *cal, time_t received_s, time_t *due_s);

/** Is the department open at a Unix time (in the zone calendar_use_timezone selected)? */
bool calendar_is_open(const struct dl_calendar *cal, time_t now_s);

/**
 * Format a Unix time as local time "YYYY-MM-DD HH:MM" in the calendar's zone (the one
 * calendar_use_timezone selected).
 *
 * @param buf   receives the text; "" when it does not fit
 * @param size  bytes at @p buf: 17 hold any time of years 1000-9999
 * @return 0, ENOSPC, EINVAL (NULL buffer, a time the C library cannot convert).
 */
int calendar_format_local(time_t t, char *buf, size_t size);

#endif
