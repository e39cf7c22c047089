/**
 * @file log.c  Logging to standard error or syslog.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "deskline/log.h"

static const char *log_ident = "deskline";
static int log_level = LOG_INFO;
static bool log_to_syslog;

void log_init(const char *ident, int level, bool use_syslog)
{
	log_ident = ident;
	log_level = level;
	if (use_syslog && !log_to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!use_syslog && log_to_syslog)
		closelog();
	log_to_syslog = use_syslog;
}

void log_set_level(int level)
{
	log_level = level;
}

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "error",   LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "notice",  LOG_NOTICE },
	{ "info",    LOG_INFO },
	{ "debug",   LOG_DEBUG },
};

int log_level_parse(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -1;
}

static const char *level_tag(int level)
{
	switch (level) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE:  return "notice";
	case LOG_INFO:    return "info";
	default:          return "debug";
	}
}

void dl_log(int level, const char *call_id, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > log_level)
		return;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_to_syslog) {
		if (call_id)
			syslog(level, "[%s] %s", call_id, msg);
		else
			syslog(level, "%s", msg);
		return;
	}

	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (call_id)
		fprintf(stderr, "%s.%03ldZ %s %s: [%s] %s\n", when, ts.tv_nsec / 1000000L,
			log_ident, level_tag(level), call_id, msg);
	else
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", when, ts.tv_nsec / 1000000L,
			log_ident, level_tag(level), msg);
}
