/**
 * @file log.h  Logging to stderr and/or syslog, with the SIP Call-ID as context.
 */
#ifndef DESKLINE_LOG_H
#define DESKLINE_LOG_H

#include <syslog.h>
#include <stdbool.h>

/**
 * Set up logging.
 *
 * @param ident       program name for syslog and stderr lines (borrowed, must outlive logging)
 * @param level       highest syslog priority logged (LOG_ERR … LOG_DEBUG)
 * @param use_syslog  true: log to syslog (facility LOG_DAEMON); false: to stderr with a timestamp
 */
void log_init(const char *ident, int level, bool use_syslog);

/**
 * Change the log level at run time (SIGHUP reload).
 *
 * @param level  syslog priority
 */
void log_set_level(int level);

/**
 * Parse a level name ("error", "warning", "notice", "info", "debug").
 *
 * @param name  level name
 * @return the syslog priority, or -1 when the name is unknown.
 */
int log_level_parse(const char *name);

/**
 * Log one line.
 *
 * @param level    syslog priority
 * @param call_id  SIP Call-ID of the call the line is about, or NULL
 * @param fmt      printf format
 */
void dl_log(int level, const char *call_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(cid, ...)    dl_log(LOG_ERR, cid, __VA_ARGS__)
#define log_warn(cid, ...)   dl_log(LOG_WARNING, cid, __VA_ARGS__)
#define log_notice(cid, ...) dl_log(LOG_NOTICE, cid, __VA_ARGS__)
#define log_info(cid, ...)   dl_log(LOG_INFO, cid, __VA_ARGS__)
#define log_debug(cid, ...)  dl_log(LOG_DEBUG, cid, __VA_ARGS__)

#endif
