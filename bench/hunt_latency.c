/**
 * @file hunt_latency.c  Round-trip latency of the hunt's two Redis scripts, claim and release
 *                       (include/deskline/agentdb.h), as one deskline node sees them.
 *
 *   hunt_latency -s SOCKET [-n PAIRS] [-w WARMUP] [-c CLERKS] [-q QUEUE] [-p PREFIX]
 *                [-C COMMON_LUA]
 *
 * Built and run by bench/hunt.sh, against a redis-server of its own: the program writes clerks
 * into the prefix it is given. It loads the scripts with SCRIPT LOAD, taking their text from
 * agentdb_script_source() (src/agentdb.c with the src/lua_scripts.h that scripts/lua2c.sh makes:
 * common.lua in front of each script), so Redis runs exactly what the daemon sends. Then:
 *
 *  1. setup, with EVAL as deskctl does: CLERKS clerks b001… (agent_sync in QUEUE, register with a
 *     contact, set_state available), then queue_sync QUEUE fewest-tasks;
 *  2. PAIRS round trips of PING, the floor: what the socket and Redis's event loop cost alone;
 *     with -C, PAIRS round trips of EVALSHA of that file (src/lua/common.lua) followed by
 *     `return 0`: what every script pays before its own first line, since Redis runs the
 *     whole text, helpers and tables included, on every call;
 *  3. WARMUP claim+release pairs, not counted;
 *  4. PAIRS pairs of EVALSHA claim (count 1) → EVALSHA release (outcome cancelled), each timed
 *     with CLOCK_MONOTONIC: the claim alone (request written → reply parsed) and the pair (claim
 *     written → release's reply parsed).
 *
 * A claim that does not return exactly one clerk, or a release that does not answer "available",
 * stops the run (exit 1): the figures are only worth something while every claim succeeds.
 * The calls are synchronous (one request in flight), like one call's hunt in the daemon.
 *
 * Prints percentiles in µs (nearest rank) and Redis's own time per EVALSHA (INFO commandstats,
 * reset before each timed phase). Exit 0 done, 1 a script failed, 2 bad usage or no Redis.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>

#include "deskline/agentdb.h"

/** Contact registrations last an hour here; the run takes seconds. */
#define REG_EXPIRES_MS 3600000u
/** A claim's ring deadline, as the daemon gives it (ring_timeout_ms + slack). */
#define RING_DEADLINE_MS 20000u

struct options {
	const char *socket_path;
	const char *queue;
	const char *prefix;
	const char *common_path;
	long pairs;
	long warmup;
	long clerks;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/** Nearest-rank percentile of sorted @p v (n > 0), in µs. */
static double pct_us(const uint64_t *v, size_t n, double pct)
{
	size_t rank = (size_t)((pct / 100.0) * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1000.0;
}

/** One row: label p50 p90 p99 p99.9 max mean, µs. Sorts @p v. */
static void print_row(const char *label, uint64_t *v, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("%-14s %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f\n", label, pct_us(v, n, 50),
	       pct_us(v, n, 90), pct_us(v, n, 99), pct_us(v, n, 99.9), (double)v[n - 1] / 1000.0,
	       sum / (double)n / 1000.0);
}

/** Run one command; an error reply or a lost connection ends the program. */
static redisReply *command(redisContext *rc, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(rc, argc, argv, NULL);

	if (!r) {
		fprintf(stderr, "hunt_latency: %s: %s\n", argv[0], rc->errstr);
		exit(2);
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "hunt_latency: %s: %s\n", argv[0], r->str);
		exit(1);
	}
	return r;
}

/** EVAL a setup script with ARGV prefix, now, then @p n more arguments. */
static void eval_setup(redisContext *rc, const struct options *o, enum agentdb_script s, int n,
		       const char **args)
{
	const char *argv[16];
	char now[24];
	int argc = 0;

	snprintf(now, sizeof(now), "%" PRIu64, wall_ms());
	argv[argc++] = "EVAL";
	argv[argc++] = agentdb_script_source(s);
	argv[argc++] = "0";
	argv[argc++] = o->prefix;
	argv[argc++] = now;
	for (int i = 0; i < n && argc < 16; i++)
		argv[argc++] = args[i];
	freeReplyObject(command(rc, argc, argv));
}

static void script_load(redisContext *rc, enum agentdb_script s, char *sha, size_t size)
{
	const char *argv[] = { "SCRIPT", "LOAD", agentdb_script_source(s) };
	redisReply *r = command(rc, 3, argv);

	if (r->type != REDIS_REPLY_STRING || (size_t)r->len >= size) {
		fprintf(stderr, "hunt_latency: SCRIPT LOAD %s: unexpected reply\n",
			agentdb_script_name(s));
		exit(2);
	}
	memcpy(sha, r->str, (size_t)r->len + 1);
	freeReplyObject(r);
}

static void setup_clerks(redisContext *rc, const struct options *o)
{
	for (long i = 1; i <= o->clerks; i++) {
		char id[24], ext[24], name[40], contact[64], expires[24];

		snprintf(id, sizeof(id), "b%03ld", i);
		snprintf(ext, sizeof(ext), "%ld", 6000 + i);
		snprintf(name, sizeof(name), "Bench clerk %ld", i);
		snprintf(contact, sizeof(contact), "sip:%s@127.0.0.1:5099", id);
		snprintf(expires, sizeof(expires), "%" PRIu64, wall_ms() + REG_EXPIRES_MS);
		const char *sync[] = { id, ext, name, o->queue };
		const char *reg[] = { id, contact, expires };
		const char *avail[] = { id, "available", "deskctl", "", "" };
		eval_setup(rc, o, AGENTDB_AGENT_SYNC, 4, sync);
		eval_setup(rc, o, AGENTDB_REGISTER, 3, reg);
		eval_setup(rc, o, AGENTDB_SET_STATE, 5, avail);
	}
	const char *qs[] = { o->queue, "fewest-tasks" };
	eval_setup(rc, o, AGENTDB_QUEUE_SYNC, 2, qs);
}

/**
 * Redis's own time per EVALSHA since the last CONFIG RESETSTAT (INFO commandstats).
 *
 * @return µs per call, or -1 when Redis did not say.
 */
static double server_us_per_call(redisContext *rc)
{
	redisReply *r = redisCommand(rc, "INFO commandstats");
	double per = -1;

	if (r && r->type == REDIS_REPLY_STRING) {
		const char *line = strstr(r->str, "cmdstat_evalsha:");
		long long calls, usec;
		if (!line || sscanf(line, "cmdstat_evalsha:calls=%lld,usec=%lld,usec_per_call=%lf",
				    &calls, &usec, &per) != 3)
			per = -1;
	}
	freeReplyObject(r);
	return per;
}

/** One claim+release pair; @p claim_ns, @p pair_ns get the timings (may be NULL). */
static void pair(redisContext *rc, const struct options *o, const char *claim_sha,
		 const char *release_sha, long i, uint64_t *claim_ns, uint64_t *pair_ns)
{
	char now[24], deadline[24], call[48];
	uint64_t ms = wall_ms();

	snprintf(now, sizeof(now), "%" PRIu64, ms);
	snprintf(deadline, sizeof(deadline), "%" PRIu64, ms + RING_DEADLINE_MS);
	snprintf(call, sizeof(call), "bench-%ld@127.0.0.1", i);
	const char *claim[] = { "EVALSHA", claim_sha, "0", o->prefix, now, o->queue, "bench",
				call, deadline, "1" };

	uint64_t t0 = mono_ns();
	redisReply *c = command(rc, 10, claim);
	uint64_t t1 = mono_ns();
	if (c->type != REDIS_REPLY_ARRAY || c->elements != 2 ||
	    c->element[0]->type != REDIS_REPLY_STRING) {
		fprintf(stderr, "hunt_latency: claim %ld did not return one clerk (type %d, %zu "
			"elements): are clerks left over in ringing?\n", i, c->type, c->elements);
		exit(1);
	}
	const char *release[] = { "EVALSHA", release_sha, "0", o->prefix, now,
				  c->element[0]->str, call, "cancelled", "3" };
	redisReply *r = command(rc, 9, release);
	uint64_t t2 = mono_ns();
	if ((r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) ||
	    strcmp(r->str, "available") != 0) {
		fprintf(stderr, "hunt_latency: release %ld of %s: not available (type %d)\n", i,
			c->element[0]->str, r->type);
		exit(1);
	}
	freeReplyObject(r);
	freeReplyObject(c);
	if (claim_ns)
		*claim_ns = t1 - t0;
	if (pair_ns)
		*pair_ns = t2 - t0;
}

/** SCRIPT LOAD the file at @p path followed by `return 0`; exits on failure. */
static void load_prelude(redisContext *rc, const char *path, char *sha, size_t size)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "hunt_latency: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	text = malloc((size_t)len + sizeof("\nreturn 0\n"));
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "hunt_latency: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	memcpy(text + len, "\nreturn 0\n", sizeof("\nreturn 0\n"));
	const char *argv[] = { "SCRIPT", "LOAD", text };
	redisReply *r = command(rc, 3, argv);
	if (r->type != REDIS_REPLY_STRING || (size_t)r->len >= size) {
		fprintf(stderr, "hunt_latency: SCRIPT LOAD %s: unexpected reply\n", path);
		exit(2);
	}
	memcpy(sha, r->str, (size_t)r->len + 1);
	freeReplyObject(r);
	free(text);
}

static long arg_long(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "hunt_latency: %s: not a count: %s\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct options o = { .queue = "collection", .prefix = "dl:", .pairs = 100000,
			     .warmup = 1000, .clerks = 20 };
	char claim_sha[64], release_sha[64], prelude_sha[64];
	double prelude_server_us = -1, pair_server_us;
	int opt;

	while ((opt = getopt(argc, argv, "s:n:w:c:q:p:C:")) != -1) {
		switch (opt) {
		case 's': o.socket_path = optarg; break;
		case 'n': o.pairs = arg_long(optarg, "-n"); break;
		case 'w': o.warmup = arg_long(optarg, "-w"); break;
		case 'c': o.clerks = arg_long(optarg, "-c"); break;
		case 'q': o.queue = optarg; break;
		case 'p': o.prefix = optarg; break;
		case 'C': o.common_path = optarg; break;
		default:
			fprintf(stderr, "usage: hunt_latency -s SOCKET [-n PAIRS] [-w WARMUP] "
				"[-c CLERKS] [-q QUEUE] [-p PREFIX] [-C COMMON_LUA]\n");
			return 2;
		}
	}
	if (!o.socket_path || o.pairs < 1 || o.clerks < 1 || o.clerks > 999) {
		fprintf(stderr, "hunt_latency: -s SOCKET needed; -n ≥ 1; -c 1-999\n");
		return 2;
	}

	redisContext *rc = redisConnectUnix(o.socket_path);
	if (!rc || rc->err) {
		fprintf(stderr, "hunt_latency: %s: %s\n", o.socket_path,
			rc ? rc->errstr : "out of memory");
		return 2;
	}
	setup_clerks(rc, &o);
	script_load(rc, AGENTDB_CLAIM, claim_sha, sizeof(claim_sha));
	script_load(rc, AGENTDB_RELEASE, release_sha, sizeof(release_sha));

	size_t n = (size_t)o.pairs;
	uint64_t *ping_ns = calloc(n, sizeof(uint64_t));
	uint64_t *claim_ns = calloc(n, sizeof(uint64_t));
	uint64_t *pair_ns = calloc(n, sizeof(uint64_t));
	uint64_t *prelude_ns = calloc(n, sizeof(uint64_t));
	if (!ping_ns || !claim_ns || !pair_ns || !prelude_ns) {
		fprintf(stderr, "hunt_latency: out of memory\n");
		return 2;
	}
	const char *ping[] = { "PING" };
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = mono_ns();
		freeReplyObject(command(rc, 1, ping));
		ping_ns[i] = mono_ns() - t0;
	}
	if (o.common_path) {
		char now[24];
		load_prelude(rc, o.common_path, prelude_sha, sizeof(prelude_sha));
		snprintf(now, sizeof(now), "%" PRIu64, wall_ms());
		const char *prelude[] = { "EVALSHA", prelude_sha, "0", o.prefix, now };
		freeReplyObject(redisCommand(rc, "CONFIG RESETSTAT"));
		for (size_t i = 0; i < n; i++) {
			uint64_t t0 = mono_ns();
			freeReplyObject(command(rc, 5, prelude));
			prelude_ns[i] = mono_ns() - t0;
		}
		prelude_server_us = server_us_per_call(rc);
	}
	for (long i = 0; i < o.warmup; i++)
		pair(rc, &o, claim_sha, release_sha, i, NULL, NULL);
	freeReplyObject(redisCommand(rc, "CONFIG RESETSTAT"));

	uint64_t start = mono_ns();
	for (size_t i = 0; i < n; i++)
		pair(rc, &o, claim_sha, release_sha, o.warmup + (long)i, &claim_ns[i], &pair_ns[i]);
	double elapsed_s = (double)(mono_ns() - start) / 1e9;
	pair_server_us = server_us_per_call(rc);

	printf("%ld clerks in queue %s; %zu pairs after %ld warm-up pairs, %.2f s, %.0f pairs/s\n",
	       o.clerks, o.queue, n, o.warmup, elapsed_s, (double)n / elapsed_s);
	printf("%-14s %8s %8s %8s %8s %8s %8s  (us)\n", "", "p50", "p90", "p99", "p99.9", "max",
	       "mean");
	print_row("ping", ping_ns, n);
	if (o.common_path)
		print_row("common.lua", prelude_ns, n);
	print_row("claim", claim_ns, n);
	print_row("claim+release", pair_ns, n);
	if (o.common_path)
		printf("redis us per EVALSHA, common.lua: %.2f\n", prelude_server_us);
	printf("redis us per EVALSHA, claim and release: %.2f\n", pair_server_us);

	free(prelude_ns);
	free(ping_ns);
	free(claim_ns);
	free(pair_ns);
	redisFree(rc);
	return 0;
}
