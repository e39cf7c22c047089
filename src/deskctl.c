/**
 * @file deskctl.c  deskctl: the supervisors' view of the clerks' state in Redis, and the state
 *                  change they make by hand (Procedure 46 §5).
 *
 * It reads the daemon's configuration file (for the Redis address and prefix and the list of
 * clerks) and talks to Redis with hiredis's blocking API: it is never on a call path. A change
 * runs the same set_state script the daemon's feature codes run, sent with EVAL so that a Redis
 * that never saw a deskline node still works.
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

#include "deskline/agentdb.h"
#include "deskline/config.h"

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
		"       deskctl -h\n"
		"\n"
		"  agents           list the clerks: state, since when, open tickets, registered\n"
		"                   phone, reason; --csv writes the same as CSV (RFC 4180) with the\n"
		"                   time in ISO 8601 and the seconds in the state\n"
		"  agent set        change a clerk's state to logged_out, available or break;\n"
		"                   available needs the clerk's phone registered; a clerk ringing or\n"
		"                   on a call is changed only with --force (the call itself goes on)\n"
		"  -c FILE          deskline's configuration file (default %s):\n"
		"                   the Redis address and prefix and the clerks are read from it\n"
		"  -h               this help\n"
		"\n"
		"Exit status: 0 done; 1 refused (bad usage, unknown clerk or state, a clerk on a call\n"
		"without --force, available without a registered phone); 2 the configuration cannot\n"
		"be loaded or Redis cannot be reached or failed.\n",
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

static void row_clear(struct row *row)
{
	for (size_t i = 0; i < N_COLS; i++)
		free(row->table[i]);
	for (size_t i = 0; i < N_CSV; i++)
		free(row->csv[i]);
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

static void print_table(const struct row *rows, size_t n)
{
	size_t width[N_COLS];

	for (size_t i = 0; i < N_COLS; i++) {
		width[i] = strlen(col_titles[i]);
		for (size_t r = 0; r < n; r++) {
			size_t w = display_width(rows[r].table[i]);
			if (w > width[i])
				width[i] = w;
		}
	}
	for (size_t r = 0; r <= n; r++) {
		for (size_t i = 0; i < N_COLS; i++) {
			const char *s = r == 0 ? col_titles[i] : rows[r - 1].table[i];
			bool last = i + 1 == N_COLS;
			bool right = i == COL_TICKETS;
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

/* main ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "csv", no_argument, NULL, 'C' },
		{ "force", no_argument, NULL, 'f' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *reason = NULL;
	bool csv = false, force = false;
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
		case 'h': usage(stdout); return EXIT_OK;
		default:  usage(stderr); return EXIT_REFUSED;
		}
	}
	char **args = argv + optind;
	int nargs = argc - optind;
	bool agents = nargs == 1 && strcmp(args[0], "agents") == 0;
	bool set = nargs == 4 && strcmp(args[0], "agent") == 0 && strcmp(args[1], "set") == 0;

	if ((!agents && !set) || (agents && (force || reason)) || (set && csv)) {
		usage(stderr);
		return EXIT_REFUSED;
	}
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

	rv = redis_open(&c, cfg->redis_address);
	if (rv)
		goto out;
	if (agents)
		rv = cmd_agents(cfg, c, csv);
	else
		rv = cmd_agent_set(cfg, c, args[2], args[3], force, reason);
out:
	if (c)
		redisFree(c);
	config_unref(cfg);
	return rv;
}
