/**
 * @file deskctl.c  deskctl: the supervisors' view of the clerks' state in Redis, and the state
 *                  change they make by hand (Procedure 46 §5).
 *
 * It reads the daemon's configuration file (for the Redis address and prefix and the list of
 * clerks) and talks to Redis with hiredis's blocking API: it is never on a call path. A change
 * runs the same set_state script the daemon's feature codes run, sent with EVAL so that a Redis
 * that never saw a deskline node still works.
 *
 * The tickets of unanswered calls (Procedure 46 §4–§7) are listed, shown and moved along their
 * statuses the same way: the ticket_status script, with who = "deskctl:<user>" in the history.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>
#include <pwd.h>
#include <unistd.h>

#include "deskline/agentdb.h"
#include "deskline/calendar.h"
#include "deskline/config.h"
#include "deskline/ticket.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/deskline/deskline.conf"

/** Connecting to Redis and each command: a supervisor waits no longer than this. */
#define REDIS_TIMEOUT_MS 3000

/** Exit codes, as -h documents them. */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,   /* bad usage, unknown clerk or state, a change the state forbids */
	EXIT_TROUBLE = 2,   /* the configuration or Redis */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: deskctl [-c FILE] agents [--csv]\n"
		"       deskctl [-c FILE] agent set ID STATE [--force] [--reason TEXT]\n"
		"       deskctl [-c FILE] tickets [--status S] [--overdue] [--clerk ID] [--csv]\n"
		"       deskctl [-c FILE] ticket show ID\n"
		"       deskctl [-c FILE] ticket set ID STATUS [--note TEXT]\n"
		"       deskctl -h\n"
		"\n"
		"  agents           list the clerks: state, since when, open tickets, registered\n"
		"                   phone, reason; --csv writes the same as CSV (RFC 4180) with the\n"
		"                   time in ISO 8601 and the seconds in the state\n"
		"  agent set        change a clerk's state to logged_out, available or break;\n"
		"                   available needs the clerk's phone registered; a clerk ringing or\n"
		"                   on a call is changed only with --force (the call itself goes on)\n"
		"  tickets          the open tickets (open, assigned, in_clarification), soonest due\n"
		"                   first: created and due in the calendar's time zone, SLA (OVERDUE:\n"
		"                   no response yet and past due; met or missed once answered), clerk,\n"
		"                   caller, reason. --status S lists one status (or \"all\"); for a\n"
		"                   status that is not open every key in Redis is scanned, which takes\n"
		"                   about a second per million keys. --overdue: only OVERDUE ones;\n"
		"                   --clerk ID: only that clerk's; --csv: CSV (RFC 4180), ISO 8601 times\n"
		"  ticket show      every field of a ticket and its history\n"
		"  ticket set       move a ticket to another status (open, assigned, answered,\n"
		"                   in_clarification, written_channel, resolved_by_callcenter, closed);\n"
		"                   the history records it as deskctl:$USER with the --note text.\n"
		"                   assigned on an open ticket picks the most available clerk\n"
		"  -c FILE          deskline's configuration file (default %s):\n"
		"                   the Redis address and prefix and the clerks are read from it\n"
		"  -h               this help\n"
		"\n"
		"Exit status: 0 done; 1 refused (bad usage, unknown clerk, state, ticket or status, a\n"
		"clerk on a call without --force, available without a registered phone, a status that\n"
		"cannot follow the ticket's); 2 the configuration cannot be loaded or Redis cannot be\n"
		"reached or failed.\n",
		DEFAULT_CONFIG);
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("deskctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static mstime_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (mstime_t)ts.tv_sec * 1000u + (mstime_t)ts.tv_nsec / 1000000u;
}

/* Redis ---------------------------------------------------------------------------------------- */

/**
 * Connect to "unix:/path" or "host:port" ("[v6]:port" too), as the configuration gives it.
 *
 * @return 0, or EXIT_TROUBLE after printing why.
 */
static int redis_open(redisContext **cp, const char *address)
{
	struct timeval tv = { REDIS_TIMEOUT_MS / 1000, (REDIS_TIMEOUT_MS % 1000) * 1000 };
	redisContext *c = NULL;

	if (strncmp(address, "unix:", 5) == 0) {
		c = redisConnectUnixWithTimeout(address + 5, tv);
	} else {
		const char *colon = strrchr(address, ':');
		char host[256];

		if (!colon || colon == address || (size_t)(colon - address) >= sizeof(host))
			return fail(EXIT_TROUBLE, "bad Redis address \"%s\" in the configuration",
				    address);
		const char *h = address;
		size_t len = (size_t)(colon - address);
		if (h[0] == '[' && h[len - 1] == ']') {
			h++;
			len -= 2;
		}
		memcpy(host, h, len);
		host[len] = '\0';
		c = redisConnectWithTimeout(host, atoi(colon + 1), tv);
	}
	if (!c)
		return fail(EXIT_TROUBLE, "cannot reach Redis at %s: out of memory", address);
	if (c->err) {
		int rv = fail(EXIT_TROUBLE, "cannot reach Redis at %s: %s (is redis-server running?)",
			      address, c->errstr);
		redisFree(c);
		return rv;
	}
	redisSetTimeout(c, tv);
	*cp = c;
	return 0;
}

/** A reply that is not there (connection lost, timeout) or is an error → message, EXIT_TROUBLE. */
static int redis_trouble(redisContext *c, const redisReply *r, const char *address)
{
	if (!r)
		return fail(EXIT_TROUBLE, "Redis at %s: %s", address,
			    c->err ? c->errstr : "no reply");
	return fail(EXIT_TROUBLE, "Redis at %s: %s", address, r->str);
}

/* Table cells ---------------------------------------------------------------------------------- */

/**
 * Columns a UTF-8 string takes on a terminal. Combining marks (Hebrew points and cantillation,
 * Latin diacritics) and direction marks take none, CJK and emoji two; an invalid byte counts
 * as one. Not wcwidth(): that depends on the locale, and a cron job's locale is often "C".
 */
static size_t display_width(const char *s)
{
	static const struct { unsigned lo, hi, w; } ranges[] = {
		{ 0x0300, 0x036f, 0 }, { 0x0591, 0x05bd, 0 }, { 0x05bf, 0x05bf, 0 },
		{ 0x05c1, 0x05c2, 0 }, { 0x05c4, 0x05c5, 0 }, { 0x05c7, 0x05c7, 0 },
		{ 0x0610, 0x061a, 0 }, { 0x064b, 0x065f, 0 }, { 0x200b, 0x200f, 0 },
		{ 0x202a, 0x202e, 0 }, { 0x2066, 0x2069, 0 }, { 0xfe00, 0xfe0f, 0 },
		{ 0x1100, 0x115f, 2 }, { 0x2e80, 0xa4cf, 2 }, { 0xac00, 0xd7a3, 2 },
		{ 0xf900, 0xfaff, 2 }, { 0xfe30, 0xfe4f, 2 }, { 0xff00, 0xff60, 2 },
		{ 0xffe0, 0xffe6, 2 }, { 0x1f300, 0x1f64f, 2 }, { 0x1f900, 0x1f9ff, 2 },
		{ 0x20000, 0x3fffd, 2 },
	};
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (*p) {
		unsigned cp = *p, n = 0;

		if (cp >= 0xf8)
			n = 0;
		else if (cp >= 0xf0)
			cp &= 0x07, n = 3;
		else if (cp >= 0xe0)
			cp &= 0x0f, n = 2;
		else if (cp >= 0xc0)
			cp &= 0x1f, n = 1;
		p++;
		for (unsigned i = 0; i < n; i++) {
			if ((*p & 0xc0) != 0x80) {
				n = 0;   /* truncated sequence: the lead byte counts as one column */
				break;
			}
			cp = (cp << 6) | (*p++ & 0x3fu);
		}
		unsigned cw = 1;
		for (size_t i = 0; n && i < sizeof(ranges) / sizeof(ranges[0]); i++)
			if (cp >= ranges[i].lo && cp <= ranges[i].hi)
				cw = ranges[i].w;
		w += cw;
	}
	return w;
}

/** Control characters from Redis (a hand edit) must reach no terminal, not even through the
 * CSV: each becomes '?'. */
static char *cell(const char *s)
{
	char *c = strdup(s ? s : "");

	for (char *p = c; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

/** "42s", "12m", "3h05m", "2d04h". */
static void format_duration(char *buf, size_t size, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* agents ----------------------------------------------------------------------------------------- */

enum col { COL_ID, COL_EXT, COL_NAME, COL_STATE, COL_SINCE, COL_TICKETS, COL_CONTACT,
	   COL_REASON, N_COLS };

static const char *const col_titles[N_COLS] = {
	"ID", "EXT", "NAME", "STATE", "SINCE", "TICKETS", "CONTACT", "REASON",
};

static const char *const csv_titles[] = {
	"id", "extension", "name", "state", "since", "seconds_in_state", "open_tickets", "contact",
	"reason",
};
#define N_CSV (sizeof(csv_titles) / sizeof(csv_titles[0]))

struct row {
	char *table[N_COLS];
	char *csv[N_CSV];
};

/** Value of @p field in an HGETALL reply, or NULL. */
static const char *hash_field(const redisReply *h, const char *field)
{
	if (!h || h->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(h->element[i]->str, field) == 0 &&
		    h->element[i + 1]->type == REDIS_REPLY_STRING)
			return h->element[i + 1]->str;
	return NULL;
}

/**
 * One clerk's cells. @p h is its hash (empty when deskline never wrote it), @p clerk its entry
 * in the configuration (NULL when only Redis knows it).
 * @return 0 or ENOMEM.
 */
static int row_fill(struct row *row, const char *id, const redisReply *h,
		    const struct dl_clerk *clerk, mstime_t now)
{
	bool seen = h && h->type == REDIS_REPLY_ARRAY && h->elements > 0;
	const char *state = seen ? hash_field(h, "state") : NULL;
	const char *ext = hash_field(h, "extension");
	const char *name = clerk ? clerk->name : hash_field(h, "name");
	const char *tickets = hash_field(h, "open_tickets");
	const char *registered = hash_field(h, "registered");
	const char *contact = registered && strcmp(registered, "1") == 0 ?
			      hash_field(h, "contact") : NULL;
	const char *since_s = hash_field(h, "state_since_ms");
	const char *direct = hash_field(h, "direct_calls");
	const char *node = hash_field(h, "node");
	const char *stored_reason = hash_field(h, "reason");
	mstime_t since_ms = since_s ? strtoull(since_s, NULL, 10) : 0;
	char since[80] = "-", iso[40] = "", ago_s[24] = "", reason[512];

	if (clerk && (!ext || !*ext))
		ext = clerk->extension;
	if (!state)
		state = "logged_out";

	/* The reason column also says what the state alone hides. */
	snprintf(reason, sizeof(reason), "%s", stored_reason ? stored_reason : "");
	if (!seen)
		snprintf(reason, sizeof(reason), "not seen yet");
	if (node && *node && state && (strcmp(state, "ringing") == 0 ||
				       strcmp(state, "on_call") == 0))
		snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason), "%snode %s",
			 *reason ? "; " : "", node);
	if (direct && atoi(direct) > 0)
		snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason), "%son a direct call",
			 *reason ? "; " : "");
	if (!clerk)
		snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason),
			 "%snot in the configuration", *reason ? "; " : "");

	if (since_ms > 0) {
		time_t t = (time_t)(since_ms / 1000u), tn = (time_t)(now / 1000u);
		struct tm tm, tmn;
		char when[32], ago[32];
		long long secs = (long long)(now / 1000u) - (long long)t;

		localtime_r(&t, &tm);
		localtime_r(&tn, &tmn);
		if (tm.tm_year == tmn.tm_year && tm.tm_yday == tmn.tm_yday)
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
		else
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		format_duration(ago, sizeof(ago), secs);
		snprintf(since, sizeof(since), "%s (%s ago)", when, ago);
		/* RFC 3339: the offset as +02:00, which strftime's %z writes as +0200. */
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S%z", &tm);
		size_t len = strlen(iso);
		if (len > 4 && len + 2 < sizeof(iso)) {
			memmove(iso + len - 1, iso + len - 2, 3);
			iso[len - 2] = ':';
		}
		snprintf(ago_s, sizeof(ago_s), "%lld", secs < 0 ? 0 : secs);
	}

	row->table[COL_ID] = cell(id);
	row->table[COL_EXT] = cell(ext && *ext ? ext : "-");
	row->table[COL_NAME] = cell(name && *name ? name : "-");
	row->table[COL_STATE] = cell(state);
	row->table[COL_SINCE] = cell(since);
	row->table[COL_TICKETS] = cell(tickets ? tickets : "0");
	row->table[COL_CONTACT] = cell(contact && *contact ? contact : "-");
	row->table[COL_REASON] = cell(*reason ? reason : "-");

	const char *csv[N_CSV] = { id, ext ? ext : "", name ? name : "", state, iso, ago_s,
				   tickets ? tickets : "0", contact ? contact : "", reason };
	for (size_t i = 0; i < N_CSV; i++)
		row->csv[i] = cell(csv[i]);

	for (size_t i = 0; i < N_COLS; i++)
		if (!row->table[i])
			return ENOMEM;
	for (size_t i = 0; i < N_CSV; i++)
		if (!row->csv[i])
			return ENOMEM;
	return 0;
}

static void free_cells(char **cells, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cells[i]);
}

static void row_clear(struct row *row)
{
	free_cells(row->table, N_COLS);
	free_cells(row->csv, N_CSV);
}

/** RFC 4180 §2: a field holding a comma, quote or line break is quoted, quotes doubled. */
static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void print_csv(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < N_CSV; i++)
		printf("%s%s", i ? "," : "", csv_titles[i]);
	putchar('\n');
	for (size_t r = 0; r < n; r++) {
		for (size_t i = 0; i < N_CSV; i++) {
			if (i)
				putchar(',');
			csv_field(stdout, rows[r].csv[i]);
		}
		putchar('\n');
	}
}

/**
 * Print rows as a table aligned by display width: a title line, then one line a row.
 *
 * @param cell_of    the text of row r (0-based), column c
 * @param right_col  the column aligned to the right (numbers), or -1
 */
static void print_aligned(const char *const *titles, size_t n_cols, size_t n_rows,
			  const char *(*cell_of)(const void *rows, size_t r, size_t c),
			  const void *rows, int right_col)
{
	size_t width[16];

	for (size_t i = 0; i < n_cols && i < 16; i++) {
		width[i] = display_width(titles[i]);
		for (size_t r = 0; r < n_rows; r++) {
			size_t w = display_width(cell_of(rows, r, i));
			if (w > width[i])
				width[i] = w;
		}
	}
	for (size_t r = 0; r <= n_rows; r++) {
		for (size_t i = 0; i < n_cols && i < 16; i++) {
			const char *s = r == 0 ? titles[i] : cell_of(rows, r - 1, i);
			bool last = i + 1 == n_cols;
			bool right = (int)i == right_col;
			size_t pad = width[i] - display_width(s);

			if (right)
				printf("%*s", (int)pad, "");
			fputs(s, stdout);
			if (!last)
				printf("%*s", (int)(right ? 2 : pad + 2), "");
		}
		putchar('\n');
	}
}

static const char *agent_cell(const void *rows, size_t r, size_t c)
{
	return ((const struct row *)rows)[r].table[c];
}

static void print_table(const struct row *rows, size_t n)
{
	print_aligned(col_titles, N_COLS, n, agent_cell, rows, COL_TICKETS);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/**
 * The configured clerks in file order, then those only Redis knows (removed from the file but
 * still holding state), sorted.
 */
static int cmd_agents(const struct dl_config *cfg, redisContext *c, bool csv)
{
	redisReply *members = NULL, **hashes = NULL;
	const char **ids = NULL;
	struct row *rows = NULL;
	size_t n = 0;
	int rv = EXIT_TROUBLE;
	mstime_t now = now_ms();

	members = redisCommand(c, "SMEMBERS %sagents", cfg->redis_prefix);
	if (!members || members->type != REDIS_REPLY_ARRAY) {
		rv = redis_trouble(c, members, cfg->redis_address);
		goto out;
	}
	ids = calloc(cfg->n_clerks + members->elements + 1, sizeof(*ids));
	if (!ids)
		goto oom;
	for (size_t i = 0; i < cfg->n_clerks; i++)
		ids[n++] = cfg->clerks[i].id;
	size_t configured = n;
	for (size_t i = 0; i < members->elements; i++) {
		const char *id = members->element[i]->str;
		if (members->element[i]->type == REDIS_REPLY_STRING && !config_clerk(cfg, id))
			ids[n++] = id;
	}
	qsort(ids + configured, n - configured, sizeof(*ids), cmp_str);

	/* One round trip for all the hashes: hundreds of clerks cost one pipelined burst. */
	hashes = calloc(n + 1, sizeof(*hashes));
	rows = calloc(n + 1, sizeof(*rows));
	if (!hashes || !rows)
		goto oom;
	for (size_t i = 0; i < n; i++)
		if (redisAppendCommand(c, "HGETALL %sagent:%s", cfg->redis_prefix, ids[i]) != REDIS_OK)
			goto oom;
	for (size_t i = 0; i < n; i++) {
		void *r = NULL;

		if (redisGetReply(c, &r) != REDIS_OK || !r ||
		    ((redisReply *)r)->type == REDIS_REPLY_ERROR) {
			rv = redis_trouble(c, r, cfg->redis_address);
			freeReplyObject(r);
			goto out;
		}
		hashes[i] = r;
	}
	for (size_t i = 0; i < n; i++)
		if (row_fill(&rows[i], ids[i], hashes[i], config_clerk(cfg, ids[i]), now))
			goto oom;

	if (csv)
		print_csv(rows, n);
	else if (n == 0)
		printf("No clerks: none in %s, none in Redis at %s.\n", cfg->path,
		       cfg->redis_address);
	else
		print_table(rows, n);
	rv = fflush(stdout) == 0 ? EXIT_OK : fail(EXIT_TROUBLE, "writing: %s", strerror(errno));
	goto out;
oom:
	rv = fail(EXIT_TROUBLE, "out of memory");
out:
	for (size_t i = 0; hashes && i < n; i++)
		freeReplyObject(hashes[i]);
	for (size_t i = 0; rows && i < n; i++)
		row_clear(&rows[i]);
	free(rows);
	free(hashes);
	free(ids);
	if (members)
		freeReplyObject(members);
	return rv;
}

/* agent set ----------------------------------------------------------------------------------- */

static int cmd_agent_set(const struct dl_config *cfg, redisContext *c, const char *id,
			 const char *state, bool force, const char *reason)
{
	char now[24];
	const char *argv[] = {
		"EVAL", agentdb_script_source(AGENTDB_SET_STATE), "0", cfg->redis_prefix, now,
		id, state, "deskctl", reason ? reason : "", force ? "force" : "",
	};
	int rv;

	snprintf(now, sizeof(now), "%llu", (unsigned long long)now_ms());
	redisReply *r = redisCommandArgv(c, (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL);
	if (!r)
		return redis_trouble(c, r, cfg->redis_address);

	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
		if (strcmp(r->element[0]->str, r->element[1]->str) == 0)
			printf("%s: already %s\n", id, r->element[1]->str);
		else
			printf("%s: %s -> %s\n", id, r->element[0]->str, r->element[1]->str);
		rv = EXIT_OK;
	} else if (r->type != REDIS_REPLY_ERROR) {
		rv = fail(EXIT_TROUBLE, "Redis at %s: unexpected reply to set_state",
			  cfg->redis_address);
	} else if (strncmp(r->str, "unknown", 7) == 0) {
		if (config_clerk(cfg, id))
			rv = fail(EXIT_REFUSED, "clerk \"%s\" is configured but not in Redis yet: "
				  "deskline adds it when it starts (is deskline running?)", id);
		else
			rv = fail(EXIT_REFUSED, "no clerk \"%s\" (`deskctl agents` lists them)", id);
	} else if (strncmp(r->str, "busy", 4) == 0) {
		/* The script names the state last: 'busy: clerk "ID" is ringing'. */
		const char *is = strrchr(r->str, ' ');
		rv = fail(EXIT_REFUSED, "%s is %s: --force changes the state anyway (the call "
			  "itself goes on)", id, is ? is + 1 : "on a call");
	} else if (strncmp(r->str, "unregistered", 12) == 0) {
		rv = fail(EXIT_REFUSED, "%s's phone is not registered, so %s cannot be available "
			  "(logged_out and break need no phone)", id, id);
	} else {
		rv = redis_trouble(c, r, cfg->redis_address);
	}
	freeReplyObject(r);
	return rv;
}

/* tickets ---------------------------------------------------------------------------------------- */

/** The Redis prefix's ticket keys: "P ticket:<id>"; not the history ("…:log") nor the id
 * counters ("P ticket:seq:<year>"), whose names hold a further ':'. */
static const char *ticket_key_id(const char *key, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (strncmp(key, prefix, pl) != 0 || strncmp(key + pl, "ticket:", 7) != 0)
		return NULL;
	key += pl + 7;
	return *key && !strchr(key, ':') ? key : NULL;
}

/** "2026-11-29 16:00" in the calendar's zone, "-" for none. */
static void local_time(const char *ms_s, char *buf, size_t size)
{
	mstime_t ms = ms_s ? strtoull(ms_s, NULL, 10) : 0;

	if (ms == 0 || calendar_format_local((time_t)(ms / 1000u), buf, size) != 0)
		snprintf(buf, size, "-");
}

/** RFC 3339 "2026-11-29T16:00:00+02:00", "" for none. */
static void iso_time(const char *ms_s, char *buf, size_t size)
{
	mstime_t ms = ms_s ? strtoull(ms_s, NULL, 10) : 0;
	time_t t = (time_t)(ms / 1000u);
	struct tm tm;
	size_t len;

	buf[0] = '\0';
	if (ms == 0 || !localtime_r(&t, &tm) || size < 32)
		return;
	strftime(buf, size, "%Y-%m-%dT%H:%M:%S%z", &tm);
	len = strlen(buf);
	if (len > 4) {   /* +0200 → +02:00 */
		memmove(buf + len - 1, buf + len - 2, 3);
		buf[len - 2] = ':';
	}
}

/**
 * Where a ticket stands against its due time (Procedure 46 §6): "met" / "missed" once it had a
 * response, "OVERDUE" when it still waits for one past due, "" otherwise.
 */
static const char *ticket_sla(const redisReply *h, mstime_t now)
{
	const char *sla = hash_field(h, "sla_met");
	const char *status = hash_field(h, "status");
	const char *due = hash_field(h, "due_ms");
	enum ticket_status st;

	if (sla && strcmp(sla, "1") == 0)
		return "met";
	if (sla && strcmp(sla, "0") == 0)
		return "missed";
	if (status && ticket_status_parse(status, &st) == 0 && ticket_status_is_open(st) && due &&
	    strtoull(due, NULL, 10) < now)
		return "OVERDUE";
	return "";
}

enum tcol { TC_ID, TC_STATUS, TC_CREATED, TC_DUE, TC_SLA, TC_CLERK, TC_CALLER, TC_REASON,
	    N_TCOLS };

static const char *const tcol_titles[N_TCOLS] = {
	"ID", "STATUS", "CREATED", "DUE", "SLA", "CLERK", "CALLER", "REASON",
};

static const char *const tcsv_titles[] = {
	"id", "status", "created", "due", "sla", "responded", "clerk", "queue", "caller",
	"caller_name", "called", "category", "reason", "forward", "forward_result",
};
#define N_TCSV (sizeof(tcsv_titles) / sizeof(tcsv_titles[0]))

struct trow {
	mstime_t due_ms;
	char *table[N_TCOLS];
	char *csv[N_TCSV];
};

/** One ticket's cells. @return 0 or ENOMEM. */
static int trow_fill(struct trow *row, const char *id, const redisReply *h, mstime_t now)
{
	const char *due = hash_field(h, "due_ms"), *caller = hash_field(h, "caller");
	const char *name = hash_field(h, "caller_name"), *clerk = hash_field(h, "clerk");
	const char *status = hash_field(h, "status"), *reason = hash_field(h, "reason");
	char created[40], due_l[40], created_iso[40], due_iso[40], responded_iso[40];
	char who[512];

	row->due_ms = due ? strtoull(due, NULL, 10) : 0;
	local_time(hash_field(h, "created_ms"), created, sizeof(created));
	local_time(due, due_l, sizeof(due_l));
	iso_time(hash_field(h, "created_ms"), created_iso, sizeof(created_iso));
	iso_time(due, due_iso, sizeof(due_iso));
	iso_time(hash_field(h, "responded_ms"), responded_iso, sizeof(responded_iso));
	snprintf(who, sizeof(who), "%s%s%s%s", caller && *caller ? caller : "-",
		 name && *name ? " (" : "", name && *name ? name : "", name && *name ? ")" : "");

	const char *sla = ticket_sla(h, now);
	const char *table[N_TCOLS] = {
		id, status ? status : "?", created, due_l, *sla ? sla : "-",
		clerk && *clerk ? clerk : "-", who, reason && *reason ? reason : "-",
	};
	const char *csv[N_TCSV] = {
		id, status ? status : "", created_iso, due_iso, sla, responded_iso,
		clerk ? clerk : "", hash_field(h, "queue"), caller, name, hash_field(h, "called"),
		hash_field(h, "category"), reason, hash_field(h, "forward"),
		hash_field(h, "forward_result"),
	};
	for (size_t i = 0; i < N_TCOLS; i++)
		if (!(row->table[i] = cell(table[i])))
			return ENOMEM;
	for (size_t i = 0; i < N_TCSV; i++)
		if (!(row->csv[i] = cell(csv[i])))
			return ENOMEM;
	return 0;
}

static void trow_clear(struct trow *row)
{
	free_cells(row->table, N_TCOLS);
	free_cells(row->csv, N_TCSV);
}

static int cmp_trow(const void *a, const void *b)
{
	const struct trow *x = a, *y = b;

	if (x->due_ms != y->due_ms)
		return x->due_ms < y->due_ms ? -1 : 1;
	return strcmp(x->table[TC_ID], y->table[TC_ID]);
}

static const char *ticket_cell(const void *rows, size_t r, size_t c)
{
	return ((const struct trow *)rows)[r].table[c];
}

static void print_ticket_table(const struct trow *rows, size_t n)
{
	print_aligned(tcol_titles, N_TCOLS, n, ticket_cell, rows, -1);
}

/**
 * Ticket ids to look at: P tickets:open (the open statuses, in due order), or — when @p scan —
 * every "P ticket:<id>" key, found with SCAN: O(keys in the database), since Redis keeps no
 * index of closed tickets. The strings stay in @p replies (freed by the caller).
 */
static int ticket_ids(const struct dl_config *cfg, redisContext *c, bool scan,
		      redisReply ***replies, size_t *n_replies, const char ***ids, size_t *n_ids)
{
	char cursor[32] = "0", match[256];
	size_t cap = 0;

	snprintf(match, sizeof(match), "%sticket:*", cfg->redis_prefix);
	do {
		redisReply *r, **nr;

		if (scan)
			r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, match);
		else
			r = redisCommand(c, "ZRANGE %stickets:open 0 -1", cfg->redis_prefix);
		if (!r || r->type != REDIS_REPLY_ARRAY ||
		    (scan && (r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
			      r->element[1]->type != REDIS_REPLY_ARRAY))) {
			int rv = redis_trouble(c, r, cfg->redis_address);
			if (r)
				freeReplyObject(r);
			return rv;
		}
		nr = realloc(*replies, (*n_replies + 1) * sizeof(*nr));
		if (!nr) {
			freeReplyObject(r);
			return fail(EXIT_TROUBLE, "out of memory");
		}
		*replies = nr;
		nr[(*n_replies)++] = r;
		redisReply *keys = scan ? r->element[1] : r;
		for (size_t i = 0; i < keys->elements; i++) {
			const char *id = keys->element[i]->type != REDIS_REPLY_STRING ? NULL :
					 scan ? ticket_key_id(keys->element[i]->str, cfg->redis_prefix) :
					 keys->element[i]->str;
			if (!id)
				continue;
			if (*n_ids == cap) {
				const char **ni = realloc(*ids, (cap = cap ? cap * 2 : 64) *
							  sizeof(*ni));
				if (!ni)
					return fail(EXIT_TROUBLE, "out of memory");
				*ids = ni;
			}
			(*ids)[(*n_ids)++] = id;
		}
		if (scan)
			snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
	} while (scan && strcmp(cursor, "0") != 0);
	return 0;
}

/**
 * @param status  one status, "all", or NULL (the open ones)
 * @param clerk   only this clerk's, or NULL
 */
static int cmd_tickets(const struct dl_config *cfg, redisContext *c, const char *status,
		       bool overdue, const char *clerk, bool csv)
{
	redisReply **lists = NULL, **hashes = NULL;
	size_t n_lists = 0, n_ids = 0, n = 0;
	const char **ids = NULL;
	struct trow *rows = NULL;
	enum ticket_status st;
	bool scan = status && (strcmp(status, "all") == 0 ||
			       (ticket_status_parse(status, &st) == 0 && !ticket_status_is_open(st)));
	mstime_t now = now_ms();
	int rv;

	rv = ticket_ids(cfg, c, scan, &lists, &n_lists, &ids, &n_ids);
	if (rv)
		goto out;
	/* One pipelined round trip for all the hashes. */
	hashes = calloc(n_ids + 1, sizeof(*hashes));
	rows = calloc(n_ids + 1, sizeof(*rows));
	if (!hashes || !rows)
		goto oom;
	for (size_t i = 0; i < n_ids; i++)
		if (redisAppendCommand(c, "HGETALL %sticket:%s", cfg->redis_prefix, ids[i]) !=
		    REDIS_OK)
			goto oom;
	for (size_t i = 0; i < n_ids; i++) {
		void *r = NULL;

		if (redisGetReply(c, &r) != REDIS_OK || !r) {
			rv = redis_trouble(c, r, cfg->redis_address);
			goto out;
		}
		hashes[i] = r;
		/* A key of another type under ticket:* (a hand edit) is no ticket: said, skipped. */
		if (((redisReply *)r)->type != REDIS_REPLY_ARRAY)
			fprintf(stderr, "deskctl: %sticket:%s is not a ticket (%s): skipped\n",
				cfg->redis_prefix, ids[i], ((redisReply *)r)->type ==
				REDIS_REPLY_ERROR ? ((redisReply *)r)->str : "not a hash");
	}
	for (size_t i = 0; i < n_ids; i++) {
		const redisReply *h = hashes[i];
		const char *s = hash_field(h, "status"), *k = hash_field(h, "clerk");

		if (h->type != REDIS_REPLY_ARRAY || h->elements == 0)
			continue;   /* not a ticket, or closed between the listing and now */
		if (status && strcmp(status, "all") != 0 && (!s || strcmp(s, status) != 0))
			continue;
		if (clerk && (!k || strcmp(k, clerk) != 0))
			continue;
		if (overdue && strcmp(ticket_sla(h, now), "OVERDUE") != 0)
			continue;
		if (trow_fill(&rows[n++], ids[i], h, now))
			goto oom;
	}
	qsort(rows, n, sizeof(*rows), cmp_trow);

	if (csv) {
		for (size_t i = 0; i < N_TCSV; i++)
			printf("%s%s", i ? "," : "", tcsv_titles[i]);
		putchar('\n');
		for (size_t r = 0; r < n; r++) {
			for (size_t i = 0; i < N_TCSV; i++) {
				if (i)
					putchar(',');
				csv_field(stdout, rows[r].csv[i]);
			}
			putchar('\n');
		}
	} else if (n == 0) {
		printf("No tickets%s%s%s%s%s.\n", status ? " with status " : "",
		       status ? status : (scan ? "" : " open"), overdue ? ", overdue" : "",
		       clerk ? ", of clerk " : "", clerk ? clerk : "");
	} else {
		print_ticket_table(rows, n);
	}
	rv = fflush(stdout) == 0 ? EXIT_OK : fail(EXIT_TROUBLE, "writing: %s", strerror(errno));
	goto out;
oom:
	rv = fail(EXIT_TROUBLE, "out of memory");
out:
	for (size_t i = 0; rows && i < n; i++)
		trow_clear(&rows[i]);
	for (size_t i = 0; hashes && i < n_ids; i++)
		if (hashes[i])
			freeReplyObject(hashes[i]);
	for (size_t i = 0; i < n_lists; i++)
		freeReplyObject(lists[i]);
	free(rows);
	free(hashes);
	free(lists);
	free(ids);
	return rv;
}

/* ticket show ------------------------------------------------------------------------------------ */

/** The fields in the order a person reads them; the rest (notes) follow as they are. */
static const struct {
	const char *field, *label;
	enum { TF_TEXT, TF_TIME } kind;
} show_fields[] = {
	{ "id", "Ticket", TF_TEXT },
	{ "status", "Status", TF_TEXT },
	{ "status_ms", "Status since", TF_TIME },
	{ "created_ms", "Created", TF_TIME },
	{ "due_ms", "Due", TF_TIME },
	{ "responded_ms", "Responded", TF_TIME },
	{ "sla_met", "SLA", TF_TEXT },
	{ "clerk", "Clerk", TF_TEXT },
	{ "queue", "Queue", TF_TEXT },
	{ "caller", "Caller", TF_TEXT },
	{ "caller_name", "Caller name", TF_TEXT },
	{ "called", "Number called", TF_TEXT },
	{ "call_id", "Call-ID", TF_TEXT },
	{ "menu_path", "Menu path", TF_TEXT },
	{ "category", "Category", TF_TEXT },
	{ "reason", "Reason", TF_TEXT },
	{ "forward", "Forwarded to", TF_TEXT },
	{ "forward_result", "Forward result", TF_TEXT },
	{ "tried", "Clerks tried", TF_TEXT },
	{ "node", "Node", TF_TEXT },
};
#define N_SHOW (sizeof(show_fields) / sizeof(show_fields[0]))

static void show_line(const char *label, const char *value)
{
	char *v = cell(value && *value ? value : "-");

	printf("%-16s %s\n", label, v ? v : "?");
	free(v);
}

/** A history entry "ms|who|from|to|text" as one line. */
static void show_history(const char *entry)
{
	const char *f[5] = { "", "", "", "", "" };
	char *copy = strdup(entry), *p = copy, *when_s;
	char when[40] = "-";
	int k = 0;

	if (!copy)
		return;
	while (k < 4) {
		char *bar = strchr(p, '|');

		if (!bar)
			break;
		*bar = '\0';
		f[k++] = p;
		p = bar + 1;
	}
	f[k] = p;   /* the text keeps its own '|' */
	when_s = (char *)f[0];
	if (k == 4) {
		mstime_t ms = strtoull(when_s, NULL, 10);
		time_t t = (time_t)(ms / 1000u);
		struct tm tm;

		if (ms && localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		char *who = cell(f[1]), *from = cell(f[2]), *to = cell(f[3]), *text = cell(f[4]);
		if (who && from && to && text) {
			if (strcmp(from, to) == 0)
				printf("  %s  %-16s %s\n", when, who, text);
			else
				printf("  %s  %-16s %s -> %s%s%s\n", when, who, *from ? from : "(new)",
				       to, *text ? "  " : "", text);
		}
		free(who);
		free(from);
		free(to);
		free(text);
	} else {
		char *raw = cell(entry);   /* written by hand: shown as it is */
		printf("  %s\n", raw ? raw : "?");
		free(raw);
	}
	free(copy);
}

static int cmd_ticket_show(const struct dl_config *cfg, redisContext *c, const char *id)
{
	redisReply *h = NULL, *log = NULL;
	int rv;

	h = redisCommand(c, "HGETALL %sticket:%s", cfg->redis_prefix, id);
	if (!h || h->type != REDIS_REPLY_ARRAY) {
		rv = redis_trouble(c, h, cfg->redis_address);
		goto out;
	}
	if (h->elements == 0) {
		rv = fail(EXIT_REFUSED, "no ticket \"%s\" (`deskctl tickets` lists the open ones)",
			  id);
		goto out;
	}
	log = redisCommand(c, "LRANGE %sticket:%s:log 0 -1", cfg->redis_prefix, id);
	if (!log || log->type != REDIS_REPLY_ARRAY) {
		rv = redis_trouble(c, log, cfg->redis_address);
		goto out;
	}

	for (size_t i = 0; i < N_SHOW; i++) {
		const char *v = hash_field(h, show_fields[i].field);
		char t[64], buf[600];

		if (show_fields[i].kind == TF_TIME) {
			local_time(v, t, sizeof(t));
			v = t;
		} else if (strcmp(show_fields[i].field, "clerk") == 0 && v && *v) {
			const struct dl_clerk *k = config_clerk(cfg, v);

			if (k && k->name && strcmp(k->name, v) != 0) {
				snprintf(buf, sizeof(buf), "%s (%s)", v, k->name);
				v = buf;
			}
		} else if (strcmp(show_fields[i].field, "sla_met") == 0) {
			v = ticket_sla(h, now_ms());
		}
		show_line(show_fields[i].label, v);
	}
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		bool known = false;

		for (size_t k = 0; k < N_SHOW; k++)
			if (strcmp(h->element[i]->str, show_fields[k].field) == 0)
				known = true;
		if (!known)
			show_line(h->element[i]->str, h->element[i + 1]->str);
	}
	printf("History:\n");
	for (size_t i = 0; i < log->elements; i++)
		if (log->element[i]->type == REDIS_REPLY_STRING)
			show_history(log->element[i]->str);
	if (log->elements == 0)
		printf("  (none)\n");
	rv = fflush(stdout) == 0 ? EXIT_OK : fail(EXIT_TROUBLE, "writing: %s", strerror(errno));
out:
	if (h)
		freeReplyObject(h);
	if (log)
		freeReplyObject(log);
	return rv;
}

/* ticket set ------------------------------------------------------------------------------------- */

/** Does an error reply start with @p word (after Redis's own "ERR " prefix, if any)? */
static bool error_is(const redisReply *r, const char *word)
{
	const char *s = r->str ? r->str : "";

	if (strncmp(s, "ERR ", 4) == 0)
		s += 4;
	return strncmp(s, word, strlen(word)) == 0;
}

static int cmd_ticket_set(const struct dl_config *cfg, redisContext *c, const char *id,
			  const char *status, const char *note)
{
	const char *user = getenv("USER");
	char now[24], who[128];
	int rv;

	if (!user || !*user) {
		struct passwd *pw = getpwuid(getuid());
		user = pw && pw->pw_name ? pw->pw_name : "unknown";
	}
	snprintf(who, sizeof(who), "deskctl:%s", user);
	snprintf(now, sizeof(now), "%llu", (unsigned long long)now_ms());
	const char *argv[] = {
		"EVAL", agentdb_script_source(AGENTDB_TICKET_STATUS), "0", cfg->redis_prefix, now,
		id, status, who, note ? note : "",
	};
	redisReply *r = redisCommandArgv(c, (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL);
	if (!r)
		return redis_trouble(c, r, cfg->redis_address);

	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
		if (strcmp(r->element[0]->str, r->element[1]->str) == 0)
			printf("%s: already %s\n", id, r->element[1]->str);
		else
			printf("%s: %s -> %s\n", id, r->element[0]->str, r->element[1]->str);
		rv = EXIT_OK;
	} else if (r->type != REDIS_REPLY_ERROR) {
		rv = fail(EXIT_TROUBLE, "Redis at %s: unexpected reply to ticket_status",
			  cfg->redis_address);
	} else if (error_is(r, "unknown")) {
		rv = fail(EXIT_REFUSED, "no ticket \"%s\" (`deskctl tickets` lists the open ones)",
			  id);
	} else if (error_is(r, "transition")) {
		/* 'transition: ticket "ID" is answered, which assigned cannot follow' */
		const char *is = strstr(r->str, " is ");
		rv = fail(EXIT_REFUSED, "%s is %.*s: it cannot become %s", id,
			  is ? (int)strcspn(is + 4, ",") : 1, is ? is + 4 : "?", status);
	} else if (error_is(r, "noclerk")) {
		rv = fail(EXIT_REFUSED, "%s: no clerk serves its queue, so it cannot be assigned", id);
	} else if (error_is(r, "status") || error_is(r, "args")) {
		rv = fail(EXIT_REFUSED, "%s", r->str);
	} else {
		rv = redis_trouble(c, r, cfg->redis_address);
	}
	freeReplyObject(r);
	return rv;
}

/* main ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "csv", no_argument, NULL, 'C' },
		{ "force", no_argument, NULL, 'f' },
		{ "reason", required_argument, NULL, 'r' },
		{ "status", required_argument, NULL, 'S' },
		{ "overdue", no_argument, NULL, 'O' },
		{ "clerk", required_argument, NULL, 'K' },
		{ "note", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *reason = NULL;
	const char *status = NULL, *clerk = NULL, *note = NULL;
	bool csv = false, force = false, overdue = false;
	enum ticket_status ts;
	struct dl_config *cfg = NULL;
	struct dl_config_errors errs = { 0 };
	redisContext *c = NULL;
	enum agent_state st;
	int opt, rv;

	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'C': csv = true; break;
		case 'f': force = true; break;
		case 'r': reason = optarg; break;
		case 'S': status = optarg; break;
		case 'O': overdue = true; break;
		case 'K': clerk = optarg; break;
		case 'N': note = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:  usage(stderr); return EXIT_REFUSED;
		}
	}
	char **args = argv + optind;
	int nargs = argc - optind;
	bool agents = nargs == 1 && strcmp(args[0], "agents") == 0;
	bool set = nargs == 4 && strcmp(args[0], "agent") == 0 && strcmp(args[1], "set") == 0;
	bool tickets = nargs == 1 && strcmp(args[0], "tickets") == 0;
	bool tshow = nargs == 3 && strcmp(args[0], "ticket") == 0 && strcmp(args[1], "show") == 0;
	bool tset = nargs == 4 && strcmp(args[0], "ticket") == 0 && strcmp(args[1], "set") == 0;
	bool ticket_opts = status || overdue || clerk;

	if ((!agents && !set && !tickets && !tshow && !tset) ||
	    (agents && (force || reason || ticket_opts || note)) ||
	    (set && (csv || ticket_opts || note)) ||
	    (tickets && (force || reason || note)) ||
	    (tshow && (csv || force || reason || ticket_opts || note)) ||
	    (tset && (csv || force || reason || ticket_opts))) {
		usage(stderr);
		return EXIT_REFUSED;
	}
	if (tickets && status && strcmp(status, "all") != 0 && ticket_status_parse(status, &ts) != 0)
		return fail(EXIT_REFUSED, "invalid status \"%s\": use one of open, assigned, answered, "
			    "in_clarification, written_channel, resolved_by_callcenter, closed, all",
			    status);
	if (tset && ticket_status_parse(args[3], &ts) != 0)
		return fail(EXIT_REFUSED, "invalid status \"%s\": use one of open, assigned, answered, "
			    "in_clarification, written_channel, resolved_by_callcenter, closed",
			    args[3]);
	if ((tshow || tset) && (!*args[2] || strlen(args[2]) > 64 ||
				strspn(args[2], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789._-") != strlen(args[2])))
		return fail(EXIT_REFUSED, "invalid ticket id \"%s\" (ids look like 2026-000123)",
			    args[2]);
	/* A bad state is refused before anything is loaded: the mistake is in the command line. */
	if (set && (agent_state_parse(args[3], &st) != 0 ||
		    (st != AGENT_LOGGED_OUT && st != AGENT_AVAILABLE && st != AGENT_BREAK)))
		return fail(EXIT_REFUSED, "invalid state \"%s\": use one of logged_out, available, "
			    "break", args[3]);

	int err = config_load(&cfg, path, &errs);
	if (err) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		if (err == EINVAL)
			fail(EXIT_TROUBLE, "%s: configuration has errors", path);
		else if (errs.n == 0)
			fail(EXIT_TROUBLE, "%s: %s", path, strerror(err));
		config_errors_clear(&errs);
		return EXIT_TROUBLE;
	}
	config_errors_clear(&errs);

	/* Ticket times are the department's: the calendar's zone, as in the ticket mails. */
	if ((tickets || tshow) && cfg->calendar.timezone &&
	    calendar_use_timezone(&cfg->calendar) != 0)
		fprintf(stderr, "deskctl: time zone \"%s\" unknown here: times are in the local "
			"zone\n", cfg->calendar.timezone);

	rv = redis_open(&c, cfg->redis_address);
	if (rv)
		goto out;
	if (agents)
		rv = cmd_agents(cfg, c, csv);
	else if (set)
		rv = cmd_agent_set(cfg, c, args[2], args[3], force, reason);
	else if (tickets)
		rv = cmd_tickets(cfg, c, status, overdue, clerk, csv);
	else if (tshow)
		rv = cmd_ticket_show(cfg, c, args[2]);
	else
		rv = cmd_ticket_set(cfg, c, args[2], args[3], note);
out:
	if (c)
		redisFree(c);
	config_unref(cfg);
	return rv;
}
