/**
 * @file cdr.c  Call detail records as JSON lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deskline/cdr.h"

struct cdr {
	int fd;
};

/** Append @p s as a JSON string (RFC 8259 §7) at buf[*pos]. */
static int put_str(char *buf, size_t size, size_t *pos, const char *s)
{
	size_t p = *pos;

	if (!s)
		s = "";
	if (p + 1 >= size)
		return -1;
	buf[p++] = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		char esc[8];
		const char *out = NULL;
		size_t n;

		switch (*c) {
		case '"':  out = "\\\""; break;
		case '\\': out = "\\\\"; break;
		case '\n': out = "\\n"; break;
		case '\r': out = "\\r"; break;
		case '\t': out = "\\t"; break;
		default:
			if (*c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", *c);
				out = esc;
			}
		}
		if (out) {
			n = strlen(out);
			if (p + n >= size)
				return -1;
			memcpy(buf + p, out, n);
			p += n;
		} else {
			if (p + 1 >= size)
				return -1;
			buf[p++] = (char)*c;
		}
	}
	if (p + 1 >= size)
		return -1;
	buf[p++] = '"';
	*pos = p;
	return 0;
}

static int put_raw(char *buf, size_t size, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int put_raw(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *pos)
		return -1;
	*pos += (size_t)n;
	return 0;
}

/** ISO 8601 UTC with milliseconds, or "" for 0. */
static void iso_time(char *buf, size_t size, uint64_t ms)
{
	if (ms == 0) {
		buf[0] = '\0';
		return;
	}
	time_t sec = (time_t)(ms / 1000u);
	struct tm tm;
	char tmp[32];
	gmtime_r(&sec, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03uZ", tmp, (unsigned)(ms % 1000u));
}

int cdr_format(char *buf, size_t size, const struct cdr_record *r)
{
	char start[40], answer[40], end[40];
	size_t pos = 0;
	uint64_t duration_ms = r->end_ms > r->start_ms ? r->end_ms - r->start_ms : 0;
	uint64_t talk_ms = r->bridge_ms && r->end_ms > r->bridge_ms ? r->end_ms - r->bridge_ms : 0;

	if (!buf || size == 0)
		return -1;
	iso_time(start, sizeof(start), r->start_ms);
	iso_time(answer, sizeof(answer), r->answer_ms);
	iso_time(end, sizeof(end), r->end_ms);

	if (put_raw(buf, size, &pos, "{\"start\":") || put_str(buf, size, &pos, start) ||
	    put_raw(buf, size, &pos, ",\"answer\":") || put_str(buf, size, &pos, answer) ||
	    put_raw(buf, size, &pos, ",\"end\":") || put_str(buf, size, &pos, end) ||
	    put_raw(buf, size, &pos, ",\"call_id\":") || put_str(buf, size, &pos, r->call_id) ||
	    put_raw(buf, size, &pos, ",\"caller\":") || put_str(buf, size, &pos, r->caller) ||
	    put_raw(buf, size, &pos, ",\"caller_name\":") ||
	    put_str(buf, size, &pos, r->caller_name) ||
	    put_raw(buf, size, &pos, ",\"called\":") || put_str(buf, size, &pos, r->called) ||
	    put_raw(buf, size, &pos, ",\"menu_path\":") || put_str(buf, size, &pos, r->path) ||
	    put_raw(buf, size, &pos, ",\"route\":") || put_str(buf, size, &pos, r->route) ||
	    put_raw(buf, size, &pos, ",\"result\":") || put_str(buf, size, &pos, r->result) ||
	    put_raw(buf, size, &pos, ",\"detail\":") || put_str(buf, size, &pos, r->detail) ||
	    put_raw(buf, size, &pos, ",\"ticket\":") || put_str(buf, size, &pos, r->ticket) ||
	    put_raw(buf, size, &pos, ",\"duration_ms\":%llu,\"talk_ms\":%llu}\n",
		    (unsigned long long)duration_ms, (unsigned long long)talk_ms))
		return -1;
	return (int)pos;
}

int cdr_open(struct cdr **cp, const char *path)
{
	struct cdr *c;

	if (!cp)
		return EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->fd = -1;
	if (path) {
		c->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (c->fd < 0) {
			int err = errno;
			free(c);
			return err;
		}
	}
	*cp = c;
	return 0;
}

void cdr_close(struct cdr *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int cdr_write(struct cdr *c, const struct cdr_record *r)
{
	char line[4096];
	int n;

	if (!c || !r)
		return EINVAL;
	if (c->fd < 0)
		return 0;
	n = cdr_format(line, sizeof(line), r);
	if (n < 0)
		return ENOSPC;
	if (write(c->fd, line, (size_t)n) != n)
		return errno ? errno : EIO;
	return 0;
}
