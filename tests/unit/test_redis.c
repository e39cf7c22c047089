/**
 * @file test_redis.c  The hiredis ↔ su_root client against a real redis-server: round trips,
 *                     binary arguments, failing fast while down, reconnect with backoff, the
 *                     connect deadline, EVALSHA with the EVAL fallback after NOSCRIPT, and
 *                     freeing with commands in flight (also from inside callbacks).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "unit.h"
#include "redis_server.h"
#include "deskline/log.h"
#include "deskline/redis.h"

/** How long a test waits for something that should happen "soon" (ms): generous for valgrind. */
#define WAIT_MS 5000
/** Slack for loop turns on a loaded machine (ms). */
#define SLACK_MS 100

static su_root_t *root;
static char dir[32];
static struct redis_server server;
static int in_api;  /* > 0 while a dl_redis_* call runs: a callback then would be re-entrant */

static void setup(void)
{
	ck_assert_int_eq(su_init(), 0);
	root = su_root_create(NULL);
	ck_assert_ptr_nonnull(root);
	snprintf(dir, sizeof(dir), "/tmp/dl-redis-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&server, 0, sizeof(server));
	in_api = 0;
}

static void teardown(void)
{
	redis_server_stop(&server);
	rmdir(dir);
	su_root_destroy(root);
	root = NULL;
	su_deinit();
}

static void step(su_duration_t ms)
{
	su_root_step(root, ms);
}

/* Run the loop until *counter reaches target or timeout_ms pass. */
static bool run_until(const int *counter, int target, int timeout_ms)
{
	long long deadline = redis_server_now_ms() + timeout_ms;

	while (*counter < target) {
		if (redis_server_now_ms() >= deadline)
			return false;
		step(10);
	}
	return true;
}

static void run_for(int ms)
{
	long long deadline = redis_server_now_ms() + ms;

	while (redis_server_now_ms() < deadline)
		step(5);
}

/* What a reply callback saw. */
struct got {
	int calls;
	bool reentrant;   /* a call came from inside a dl_redis_* function */
	bool null;
	int type;
	long long integer;
	size_t len;
	char str[256];    /* first bytes of a string/status/error reply, NUL-terminated */
	size_t elements;
	long long first_int;  /* element 0 of an array reply, when an integer */
};

static void on_got(const redisReply *reply, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->reentrant |= in_api > 0;
	g->null = reply == NULL;
	if (!reply)
		return;
	g->type = reply->type;
	g->integer = reply->integer;
	g->len = reply->len;
	g->elements = reply->elements;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
	    reply->element[0]->type == REDIS_REPLY_INTEGER)
		g->first_int = reply->element[0]->integer;
	if (reply->str) {
		size_t n = reply->len < sizeof(g->str) - 1 ? reply->len : sizeof(g->str) - 1;

		memcpy(g->str, reply->str, n);
		g->str[n] = '\0';
	}
}

static int command(struct dl_redis *r, dl_redis_reply_h *cb, void *arg, int argc,
		   const char **argv, const size_t *argvlen)
{
	int err;

	in_api++;
	err = dl_redis_command(r, cb, arg, argc, argv, argvlen);
	in_api--;
	return err;
}

static int script(struct dl_redis *r, enum agentdb_script s, struct got *g, int argc,
		  const char **argv)
{
	int err;

	in_api++;
	err = dl_redis_script(r, s, on_got, g, argc, argv);
	in_api--;
	return err;
}

#define ARGC(...) ((int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *)))
/* Send a command of string arguments, replies into *g. */
#define CMD(r, g, ...) \
	command((r), on_got, (g), ARGC(__VA_ARGS__), (const char *[]){ __VA_ARGS__ }, NULL)

/* Send and wait for the reply. */
#define CMD_WAIT(r, g, ...) do { \
		memset((g), 0, sizeof(*(g))); \
		ck_assert_int_eq(CMD(r, g, __VA_ARGS__), 0); \
		ck_assert_msg(run_until(&(g)->calls, 1, WAIT_MS), "no reply"); \
		ck_assert(!(g)->null); \
	} while (0)

struct states {
	int ups, downs;
	bool reentrant;
};

static void on_state(bool connected, void *arg)
{
	struct states *st = arg;

	if (connected)
		st->ups++;
	else
		st->downs++;
	st->reentrant |= in_api > 0;
}

static struct dl_redis *connect_ok(const char *address, struct states *st)
{
	struct dl_redis *r = NULL;

	ck_assert_int_eq(dl_redis_alloc(&r, root, address, on_state, st), 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(run_until(&st->ups, 1, WAIT_MS), "%s: not connected", address);
	ck_assert(dl_redis_connected(r));
	return r;
}

/* EVAL this with ARGV[1] = a command name: how often it ran since CONFIG RESETSTAT (an EVAL
 * counts once it returns, so this one is not included). */
static const char count_calls[] =
	"local s = redis.call('INFO', 'commandstats') "
	"return tonumber(string.match(s, 'cmdstat_' .. ARGV[1] .. ':calls=(%d+)') or 0)";

/* Addresses. */

static const char *const bad_addresses[] = {
	"", "unix:", "unix:relative/redis.sock", "unix:x",
	"unix:/a-path-longer-than-sun-path-allows-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaa",
	"localhost", "localhost:", ":6379", "localhost:0", "localhost:65536", "localhost:100000",
	"localhost:-1", "localhost:+80", "localhost:12a", "localhost: 80", "local host:80",
	"::1:6379", "[::1", "[::1]", "[::1]:", "[::1]6379", "[]:6379", "[zz::1]:6379",
	"[127.0.0.1]:6379", "tcp://localhost:6379", "host:6379:1",
};

START_TEST(test_address_invalid)
{
	struct dl_redis *r = (struct dl_redis *)&r;  /* any non-NULL value: must stay untouched */

	ck_assert_msg(dl_redis_alloc(&r, root, bad_addresses[_i], NULL, NULL) == EINVAL,
		      "\"%s\" accepted", bad_addresses[_i]);
	ck_assert_ptr_eq(r, (struct dl_redis *)&r);
}
END_TEST

START_TEST(test_alloc_null_arguments)
{
	struct dl_redis *r = NULL;

	ck_assert_int_eq(dl_redis_alloc(NULL, root, "unix:/x", NULL, NULL), EINVAL);
	ck_assert_int_eq(dl_redis_alloc(&r, NULL, "unix:/x", NULL, NULL), EINVAL);
	ck_assert_int_eq(dl_redis_alloc(&r, root, NULL, NULL, NULL), EINVAL);
	ck_assert_ptr_null(r);
	dl_redis_free(NULL);
	ck_assert(!dl_redis_connected(NULL));
}
END_TEST

/* Well-formed addresses with nothing listening: accepted, not connected, commands fail. */
static const char *const good_addresses[] = {
	"unix:/nonexistent/dl-redis.sock", "127.0.0.1:1", "localhost:1", "[::1]:1",
	"[::ffff:127.0.0.1]:65535", "LOCALHOST:00001",
};

START_TEST(test_address_valid_unreachable)
{
	struct states st = { 0 };
	struct dl_redis *r = NULL;
	struct got g = { 0 };

	ck_assert_int_eq(dl_redis_alloc(&r, root, good_addresses[_i], on_state, &st), 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(CMD(r, &g, "PING"), 0);
	ck_assert_int_eq(g.calls, 0);
	ck_assert(run_until(&g.calls, 1, WAIT_MS));
	ck_assert(g.null);
	ck_assert(!g.reentrant);
	run_for(300);  /* a few reconnect attempts */
	ck_assert(!dl_redis_connected(r));
	ck_assert_int_eq(st.ups, 0);
	ck_assert_int_eq(st.downs, 0);
	ck_assert_int_eq(g.calls, 1);
	dl_redis_free(r);
}
END_TEST

/* Round trips. */

static const struct {
	const char *name;
	const char *value;
	size_t len;
} values[] = {
	{ "text", "hello", 5 },
	{ "empty", "", 0 },
	{ "NUL, CR LF, 0xff", "a\0b\r\n\xff\0", 7 },
	{ "RESP look-alike", "*1\r\n$4\r\nPING\r\n", 14 },
};

START_TEST(test_set_get_binary)
{
	struct states st = { 0 };
	struct dl_redis *r;
	struct got g;
	char key[16];

	ck_assert_int_eq(redis_server_start(&server, dir), 0);
	r = connect_ok(server.address, &st);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		/* The key is binary too: a NUL inside. */
		size_t key_len = (size_t)snprintf(key, sizeof(key), "k%zu", i) + 1;
		const char *set[] = { "SET", key, values[i].value };
		const size_t set_len[] = { 3, key_len, values[i].len };
		const char *get[] = { "GET", key };
		const size_t get_len[] = { 3, key_len };

		key[key_len - 1] = '\0';
		memset(&g, 0, sizeof(g));
		ck_assert_int_eq(command(r, on_got, &g, 3, set, set_len), 0);
		ck_assert(run_until(&g.calls, 1, WAIT_MS));
		ck_assert_int_eq(g.type, REDIS_REPLY_STATUS);
		ck_assert_str_eq(g.str, "OK");

		memset(&g, 0, sizeof(g));
		ck_assert_int_eq(command(r, on_got, &g, 2, get, get_len), 0);
		ck_assert(run_until(&g.calls, 1, WAIT_MS));
		ck_assert_msg(g.type == REDIS_REPLY_STRING, "%s: type %d", values[i].name, g.type);
		ck_assert_uint_eq(g.len, values[i].len);
		ck_assert_msg(memcmp(g.str, values[i].value, values[i].len) == 0, "%s",
			      values[i].name);
		ck_assert(!g.reentrant);
	}

	/* Integer, nil and error replies are delivered as they are. */
	CMD_WAIT(r, &g, "INCRBY", "counter", "41");
	ck_assert_int_eq(g.type, REDIS_REPLY_INTEGER);
	ck_assert_int_eq(g.integer, 41);
	CMD_WAIT(r, &g, "GET", "no-such-key");
	ck_assert_int_eq(g.type, REDIS_REPLY_NIL);
	CMD_WAIT(r, &g, "SET", "word", "abc");
	CMD_WAIT(r, &g, "INCR", "word");
	ck_assert_int_eq(g.type, REDIS_REPLY_ERROR);
	ck_assert_int_eq(strncmp(g.str, "ERR", 3), 0);
	CMD_WAIT(r, &g, "RPUSH", "list", "a", "b", "c");
	CMD_WAIT(r, &g, "LRANGE", "list", "0", "-1");
	ck_assert_int_eq(g.type, REDIS_REPLY_ARRAY);
	ck_assert_uint_eq(g.elements, 3);
	dl_redis_free(r);
	ck_assert_int_eq(st.downs, 0);
}
END_TEST

/* A value far larger than a socket buffer: the write interest goes on and off several times. */
struct big {
	const char *data;
	size_t len;
	int calls;
	bool equal;
};

static void on_big(const redisReply *reply, void *arg)
{
	struct big *b = arg;

	b->calls++;
	b->equal = reply && reply->type == REDIS_REPLY_STRING && reply->len == b->len &&
		   memcmp(reply->str, b->data, b->len) == 0;
}

START_TEST(test_large_value_and_pipeline)
{
	enum { BIG_BYTES = 4 << 20, PIPELINED = 200 };
	struct states st = { 0 };
	struct dl_redis *r;
	struct big b = { 0 };
	struct got g[PIPELINED];
	char *data = malloc(BIG_BYTES);

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < BIG_BYTES; i++)
		data[i] = (char)(i * 2654435761u >> 24);
	ck_assert_int_eq(redis_server_start(&server, dir), 0);
	r = connect_ok(server.address, &st);

	const char *set[] = { "SET", "big", data };
	const size_t set_len[] = { 3, 3, BIG_BYTES };
	ck_assert_int_eq(command(r, NULL, NULL, 3, set, set_len), 0);
	b.data = data;
	b.len = BIG_BYTES;
	ck_assert_int_eq(command(r, on_big, &b, 2, (const char *[]){ "GET", "big" }, NULL), 0);
	/* Replies come in order, after the big ones. */
	memset(g, 0, sizeof(g));
	for (int i = 0; i < PIPELINED; i++)
		ck_assert_int_eq(CMD(r, &g[i], "INCR", "n"), 0);
	ck_assert(run_until(&g[PIPELINED - 1].calls, 1, WAIT_MS));
	ck_assert_int_eq(b.calls, 1);
	ck_assert(b.equal);
	for (int i = 0; i < PIPELINED; i++) {
		ck_assert_int_eq(g[i].calls, 1);
		ck_assert_int_eq(g[i].integer, i + 1);
	}
	dl_redis_free(r);
	free(data);
}
END_TEST

/* Failing while not connected. */

struct retry {
	struct dl_redis *r;
	struct got first, second;
};

static void on_retry(const redisReply *reply, void *arg)
{
	struct retry *t = arg;

	on_got(reply, &t->first);
	/* Retrying from the failure callback: answered on a later turn, not inside this one. */
	if (t->first.calls == 1)
		ck_assert_int_eq(CMD(t->r, &t->second, "PING"), 0);
	ck_assert_int_eq(t->second.calls, 0);
}

START_TEST(test_fails_before_connect)
{
	struct states st = { 0 };
	struct retry t = { 0 };
	struct got s = { 0 };

	ck_assert_int_eq(redis_server_start(&server, dir), 0);
	ck_assert_int_eq(dl_redis_alloc(&t.r, root, server.address, on_state, &st), 0);
	ck_assert(!dl_redis_connected(t.r));

	ck_assert_int_eq(command(t.r, on_retry, &t, 1, (const char *[]){ "PING" }, NULL), 0);
	ck_assert_int_eq(script(t.r, AGENTDB_SWEEP, &s, 2, (const char *[]){ "t:", "1" }), 0);
	ck_assert_int_eq(t.first.calls, 0);  /* never from inside dl_redis_command() */
	ck_assert_int_eq(s.calls, 0);

	/* One loop turn that does not wait: no waiting for the connection or a timeout. */
	step(0);
	ck_assert_int_eq(t.first.calls, 1);
	ck_assert(t.first.null);
	ck_assert(!t.first.reentrant);
	ck_assert_int_eq(s.calls, 1);
	ck_assert(s.null);

	ck_assert(run_until(&t.second.calls, 1, WAIT_MS));
	ck_assert(!t.second.reentrant);

	/* Then it connects by itself, and commands work. */
	ck_assert(run_until(&st.ups, 1, WAIT_MS));
	ck_assert(dl_redis_connected(t.r));
	ck_assert_int_eq(t.second.calls, 1);
	memset(&s, 0, sizeof(s));
	CMD_WAIT(t.r, &s, "PING");
	ck_assert_str_eq(s.str, "PONG");
	ck_assert_int_eq(st.ups, 1);
	ck_assert_int_eq(st.downs, 0);
	ck_assert(!st.reentrant);
	dl_redis_free(t.r);
}
END_TEST

/* Scripts. */

/* agentdb.h: queue_sync → "OK" (status or string), agent_sync → the clerk's state. */
static void assert_ok_reply(const struct got *g)
{
	ck_assert(!g->null);
	ck_assert_msg(g->type == REDIS_REPLY_STATUS || g->type == REDIS_REPLY_STRING,
		      "type %d: %s", g->type, g->str);
	ck_assert_str_eq(g->str, "OK");
}

static void run_agent_sync(struct dl_redis *r, struct got *g)
{
	memset(g, 0, sizeof(*g));
	ck_assert_int_eq(script(r, AGENTDB_AGENT_SYNC, g, 6,
				(const char *[]){ "t:", "1000", "a1", "101", "Ann", "q1" }), 0);
	ck_assert_int_eq(g->calls, 0);
	ck_assert(run_until(&g->calls, 1, WAIT_MS));
	ck_assert(!g->null);
	ck_assert_msg(g->type == REDIS_REPLY_STRING, "type %d: %s", g->type, g->str);
	ck_assert_str_eq(g->str, "logged_out");
}

START_TEST(test_script_evalsha_and_noscript)
{
	struct states st = { 0 };
	struct dl_redis *r;
	struct got g;

	ck_assert_int_eq(redis_server_start(&server, dir), 0);
	r = connect_ok(server.address, &st);

	/* Every script was loaded before "connected": Redis knows each one's SHA1. */
	for (int i = 0; i < AGENTDB_SCRIPT_COUNT; i++) {
		const char *src = agentdb_script_source((enum agentdb_script)i);
		char sha[41];

		CMD_WAIT(r, &g, "EVAL", "return redis.sha1hex(ARGV[1])", "0", src);
		ck_assert_uint_eq(g.len, 40);
		memcpy(sha, g.str, sizeof(sha));
		CMD_WAIT(r, &g, "SCRIPT", "EXISTS", sha);
		ck_assert_uint_eq(g.elements, 1);
		ck_assert_int_eq(g.first_int, 1);
	}
	CMD_WAIT(r, &g, "CONFIG", "RESETSTAT");

	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(script(r, AGENTDB_QUEUE_SYNC, &g, 4,
				(const char *[]){ "t:", "1000", "q1", "longest-idle" }), 0);
	ck_assert(run_until(&g.calls, 1, WAIT_MS));
	assert_ok_reply(&g);
	run_agent_sync(r, &g);
	CMD_WAIT(r, &g, "HGET", "t:queue:q1", "strategy");
	ck_assert_str_eq(g.str, "longest-idle");
	CMD_WAIT(r, &g, "HGET", "t:agent:a1", "state");
	ck_assert_str_eq(g.str, "logged_out");
	CMD_WAIT(r, &g, "EVAL", count_calls, "0", "evalsha");
	ck_assert_int_eq(g.integer, 2);
	CMD_WAIT(r, &g, "EVAL", count_calls, "0", "eval");
	ck_assert_int_eq(g.integer, 1);  /* only the line above (counted once it returned) */

	/* The server forgets the scripts: NOSCRIPT, then EVAL with the source, same result. */
	CMD_WAIT(r, &g, "SCRIPT", "FLUSH");
	CMD_WAIT(r, &g, "CONFIG", "RESETSTAT");
	run_agent_sync(r, &g);
	CMD_WAIT(r, &g, "EVAL", count_calls, "0", "eval");
	ck_assert_int_eq(g.integer, 1);  /* the fallback; this EVAL is not counted yet */
	CMD_WAIT(r, &g, "EVAL", count_calls, "0", "script|load");
	ck_assert_int_eq(g.integer, 1);  /* and loaded again for the next calls */

	/* Reloaded: the next call is EVALSHA again. */
	CMD_WAIT(r, &g, "CONFIG", "RESETSTAT");
	run_agent_sync(r, &g);
	CMD_WAIT(r, &g, "EVAL", count_calls, "0", "evalsha");
	ck_assert_int_eq(g.integer, 1);
	CMD_WAIT(r, &g, "EVAL", count_calls, "0", "eval");
	ck_assert_int_eq(g.integer, 1);  /* the one from the line above */

	ck_assert_int_eq(st.downs, 0);
	dl_redis_free(r);
}
END_TEST

START_TEST(test_script_arguments)
{
	struct dl_redis *r = NULL;
	struct got g = { 0 };
	const char *one[] = { "x" };
	const char *with_null[] = { "x", NULL };

	ck_assert_int_eq(dl_redis_alloc(&r, root, "unix:/nonexistent/dl-redis.sock", NULL, NULL),
			 0);
	ck_assert_int_eq(script(NULL, AGENTDB_SWEEP, &g, 1, one), EINVAL);
	ck_assert_int_eq(script(r, AGENTDB_SCRIPT_COUNT, &g, 1, one), EINVAL);
	ck_assert_int_eq(script(r, (enum agentdb_script)-1, &g, 1, one), EINVAL);
	ck_assert_int_eq(script(r, AGENTDB_SWEEP, &g, -1, one), EINVAL);
	ck_assert_int_eq(script(r, AGENTDB_SWEEP, &g, 1, NULL), EINVAL);
	ck_assert_int_eq(script(r, AGENTDB_SWEEP, &g, 2, with_null), EINVAL);
	ck_assert_int_eq(script(r, AGENTDB_SWEEP, &g, 0, NULL), 0);  /* no ARGV is fine */

	ck_assert_int_eq(command(NULL, on_got, &g, 1, one, NULL), EINVAL);
	ck_assert_int_eq(command(r, on_got, &g, 0, one, NULL), EINVAL);
	ck_assert_int_eq(command(r, on_got, &g, 1, NULL, NULL), EINVAL);
	ck_assert_int_eq(command(r, on_got, &g, 2, with_null, NULL), EINVAL);
	static const char *const multi[] = {
		"SUBSCRIBE", "psubscribe", "SSubscribe", "UNSUBSCRIBE", "punsubscribe",
		"SUNSUBSCRIBE", "monitor",
	};
	for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
		ck_assert_int_eq(command(r, on_got, &g, 2, (const char *[]){ multi[i], "c" }, NULL),
				 EINVAL);
	/* Only the length given counts: "SUBSCRIBEX" cut to 9 bytes is SUBSCRIBE. */
	ck_assert_int_eq(command(r, on_got, &g, 1, (const char *[]){ "SUBSCRIBEX" },
				 (const size_t[]){ 9 }), EINVAL);

	ck_assert(run_until(&g.calls, 1, WAIT_MS));
	run_for(50);
	ck_assert_int_eq(g.calls, 1);  /* only the accepted one */
	ck_assert(g.null);
	dl_redis_free(r);
}
END_TEST

/* Losing the server and getting it back. */

START_TEST(test_server_lost_and_back)
{
	struct states st = { 0 };
	struct dl_redis *r;
	struct got blocked = { 0 }, queued = { 0 }, g = { 0 }, s = { 0 };
	long long t0;

	ck_assert_int_eq(redis_server_start(&server, dir), 0);
	r = connect_ok(server.address, &st);

	/* Two commands in flight: BLPOP blocks the connection, PING waits behind it. */
	ck_assert_int_eq(CMD(r, &blocked, "BLPOP", "never", "0"), 0);
	ck_assert_int_eq(CMD(r, &queued, "PING"), 0);
	run_for(50);
	ck_assert_int_eq(blocked.calls, 0);

	redis_server_kill(&server);
	ck_assert(run_until(&st.downs, 1, WAIT_MS));
	ck_assert_int_eq(blocked.calls, 1);
	ck_assert(blocked.null);
	ck_assert_int_eq(queued.calls, 1);
	ck_assert(queued.null);
	ck_assert(!dl_redis_connected(r));

	/* Down: a command and a script fail within one loop turn. */
	ck_assert_int_eq(CMD(r, &g, "PING"), 0);
	ck_assert_int_eq(script(r, AGENTDB_SWEEP, &s, 2, (const char *[]){ "t:", "1" }), 0);
	ck_assert_int_eq(g.calls, 0);
	step(0);  /* one loop turn that does not wait */
	ck_assert_int_eq(g.calls, 1);
	ck_assert(g.null);
	ck_assert(!g.reentrant);
	ck_assert_int_eq(s.calls, 1);
	ck_assert(s.null);

	/* Back on the same socket: reconnects by itself within the backoff, scripts reloaded.
	 * Down 300 ms, the attempts ran at 100 and 300 ms, the next at 700 then 1500 ms: the
	 * restart is picked up well before the backoff could reach its maximum. */
	run_for(300);
	ck_assert_int_eq(redis_server_restart(&server), 0);
	t0 = redis_server_now_ms();
	ck_assert(run_until(&st.ups, 2, WAIT_MS + (int)DL_REDIS_BACKOFF_MAX_MS));
	ck_assert_int_le(redis_server_now_ms() - t0,
			 16 * (long long)DL_REDIS_BACKOFF_MIN_MS + SLACK_MS);
	ck_assert(dl_redis_connected(r));
	ck_assert_int_eq(st.downs, 1);

	CMD_WAIT(r, &g, "SET", "after", "restart");
	CMD_WAIT(r, &g, "GET", "after");
	ck_assert_str_eq(g.str, "restart");
	run_agent_sync(r, &g);
	CMD_WAIT(r, &g, "EVAL", count_calls, "0", "evalsha");
	ck_assert_int_eq(g.integer, 1);  /* straight EVALSHA: no NOSCRIPT on a new server */
	ck_assert(!st.reentrant);
	dl_redis_free(r);
	ck_assert_int_eq(st.ups, 2);
	ck_assert_int_eq(st.downs, 1);
}
END_TEST

/* What a fake server on a unix socket does with the connections it accepts. */
enum fake {
	FAKE_CLOSE,   /* close at once: every attempt fails right after connecting */
	FAKE_MUTE,    /* never answer: the connect deadline must fire */
	FAKE_ERROR,   /* answer the first SCRIPT LOAD with an error */
};

/* Run the loop for @p run_ms with a fake server at @p path; at[] gets the accept times (ms
 * since start). @return the number of connections accepted. */
static int fake_server(const char *path, enum fake mode, int run_ms, long long *at, int max)
{
	enum { HELD_MAX = 16 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int held[HELD_MAX];
	bool answered[HELD_MAX] = { false };
	int n = 0, nheld = 0;
	long long t0, deadline;
	int lfd;

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, HELD_MAX), 0);

	t0 = redis_server_now_ms();
	deadline = t0 + run_ms;
	while (redis_server_now_ms() < deadline) {
		int fd;

		step(2);
		while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			if (n < max)
				at[n] = redis_server_now_ms() - t0;
			n++;
			if (mode == FAKE_CLOSE || nheld == HELD_MAX)
				close(fd);
			else
				held[nheld++] = fd;
		}
		for (int i = 0; mode == FAKE_ERROR && i < nheld; i++) {
			static const char err[] = "-ERR no scripting here\r\n";
			char buf[4096];

			if (!answered[i] && read(held[i], buf, sizeof(buf)) > 0) {
				ck_assert_int_eq(write(held[i], err, sizeof(err) - 1),
						 (ssize_t)sizeof(err) - 1);
				answered[i] = true;
			}
		}
	}
	for (int i = 0; i < nheld; i++)
		close(held[i]);
	close(lfd);
	unlink(path);
	return n;
}

START_TEST(test_backoff_doubles)
{
	struct states st = { 0 };
	struct dl_redis *r = NULL;
	char path[64], address[80];
	long long at[16];
	int n;

	snprintf(path, sizeof(path), "%s/fake.sock", dir);
	snprintf(address, sizeof(address), "unix:%s", path);
	/* No listener yet: the first attempt fails at once and the retries follow the backoff. */
	ck_assert_int_eq(dl_redis_alloc(&r, root, address, on_state, &st), 0);
	n = fake_server(path, FAKE_CLOSE, 1700, at, 16);
	/* Retries 100, 200, 400, 800 ms apart: the second gap is about twice the first, etc. */
	ck_assert_int_ge(n, 3);
	ck_assert_int_le(n, 5);
	for (int i = 1; i < n && i < 16; i++) {
		long long gap = at[i] - at[i - 1];
		long long want = (long long)DL_REDIS_BACKOFF_MIN_MS << i;

		ck_assert_msg(gap >= want - 20, "gap %d: %lld ms, want %lld", i, gap, want);
	}
	ck_assert_int_eq(st.ups, 0);  /* connected but never loaded the scripts: never "up" */
	ck_assert_int_eq(st.downs, 0);
	dl_redis_free(r);
}
END_TEST

START_TEST(test_backoff_resets_after_success)
{
	struct states st = { 0 };
	struct dl_redis *r = NULL;
	char address[80];
	long long t0;

	/* Before the server starts, four failed attempts (0, 100, 300, 700 ms): the next delay
	 * has grown to 800 ms. */
	snprintf(address, sizeof(address), "unix:%s/redis.sock", dir);
	ck_assert_int_eq(dl_redis_alloc(&r, root, address, on_state, &st), 0);
	run_for(800);
	ck_assert_int_eq(redis_server_start(&server, dir), 0);
	ck_assert_str_eq(server.address, address);
	ck_assert(run_until(&st.ups, 1, WAIT_MS));

	/* A good connection resets it: lost and back, the first retry comes after the minimum. */
	redis_server_kill(&server);
	t0 = redis_server_now_ms();
	ck_assert_int_eq(redis_server_restart(&server), 0);
	ck_assert(run_until(&st.ups, 2, WAIT_MS));
	ck_assert_int_lt(redis_server_now_ms() - t0, 7 * (long long)DL_REDIS_BACKOFF_MIN_MS);
	ck_assert_int_eq(st.downs, 1);
	dl_redis_free(r);
}
END_TEST

START_TEST(test_connect_deadline)
{
	struct states st = { 0 };
	struct dl_redis *r = NULL;
	char path[64], address[80];
	long long at[16];
	int n;

	snprintf(path, sizeof(path), "%s/mute.sock", dir);
	snprintf(address, sizeof(address), "unix:%s", path);
	ck_assert_int_eq(dl_redis_alloc(&r, root, address, on_state, &st), 0);
	n = fake_server(path, FAKE_MUTE, (int)DL_REDIS_CONNECT_TIMEOUT_MS + 1000, at, 16);
	/* The first connection never answers SCRIPT LOAD: dropped at the deadline, retried. */
	ck_assert_int_ge(n, 2);
	ck_assert_int_ge(at[1] - at[0], (long long)DL_REDIS_CONNECT_TIMEOUT_MS);
	ck_assert_int_le(at[1] - at[0], (long long)DL_REDIS_CONNECT_TIMEOUT_MS + 800);
	ck_assert_int_eq(st.ups, 0);
	dl_redis_free(r);
}
END_TEST

START_TEST(test_script_load_refused)
{
	struct states st = { 0 };
	struct dl_redis *r = NULL;
	struct got g = { 0 };
	char path[64], address[80];
	long long at[16];
	int n;

	snprintf(path, sizeof(path), "%s/noscript.sock", dir);
	snprintf(address, sizeof(address), "unix:%s", path);
	ck_assert_int_eq(dl_redis_alloc(&r, root, address, on_state, &st), 0);
	n = fake_server(path, FAKE_ERROR, 700, at, 16);
	/* Connected, SCRIPT LOAD refused: dropped at once and retried after the backoff, not
	 * held until the connect deadline. */
	ck_assert_int_ge(n, 2);
	ck_assert_int_lt(at[1] - at[0], (long long)DL_REDIS_CONNECT_TIMEOUT_MS);
	ck_assert_int_eq(st.ups, 0);
	ck_assert(!dl_redis_connected(r));
	ck_assert_int_eq(CMD(r, &g, "PING"), 0);
	step(0);
	ck_assert_int_eq(g.calls, 1);
	ck_assert(g.null);
	dl_redis_free(r);
}
END_TEST

/* Freeing. */

START_TEST(test_free_answers_pending)
{
	enum { GETS = 5 };
	struct states st = { 0 };
	struct dl_redis *r;
	struct got blocked = { 0 }, gets[GETS], s = { 0 };

	ck_assert_int_eq(redis_server_start(&server, dir), 0);
	r = connect_ok(server.address, &st);
	memset(gets, 0, sizeof(gets));
	ck_assert_int_eq(CMD(r, &blocked, "BLPOP", "never", "0"), 0);
	for (int i = 0; i < GETS; i++)
		ck_assert_int_eq(CMD(r, &gets[i], "GET", "x"), 0);
	ck_assert_int_eq(script(r, AGENTDB_SWEEP, &s, 2, (const char *[]){ "t:", "1" }), 0);
	run_for(50);
	ck_assert_int_eq(blocked.calls, 0);

	dl_redis_free(r);
	ck_assert_int_eq(blocked.calls, 1);
	ck_assert(blocked.null);
	for (int i = 0; i < GETS; i++) {
		ck_assert_int_eq(gets[i].calls, 1);
		ck_assert(gets[i].null);
	}
	ck_assert_int_eq(s.calls, 1);
	ck_assert(s.null);
	run_for(50);  /* and never again */
	ck_assert_int_eq(blocked.calls, 1);
	ck_assert_int_eq(s.calls, 1);
	ck_assert_int_eq(st.downs, 0);  /* freeing is not "going down" */
}
END_TEST

/* A NULL-reply callback run by dl_redis_free() that sends another command. */
struct chain {
	struct dl_redis *r;
	int calls, chained;
	bool null;
};

static void on_chained(const redisReply *reply, void *arg)
{
	struct chain *c = arg;

	c->chained++;
	c->null = reply == NULL;
}

static void on_chain(const redisReply *reply, void *arg)
{
	struct chain *c = arg;

	c->calls++;
	ck_assert_ptr_null(reply);
	ck_assert_int_eq(command(c->r, on_chained, c, 1, (const char *[]){ "PING" }, NULL), 0);
}

START_TEST(test_free_answers_queued_failures)
{
	struct chain c = { 0 };

	/* Not connected: the command waits for its NULL on the next turn; free answers it. */
	ck_assert_int_eq(dl_redis_alloc(&c.r, root, "unix:/nonexistent/dl-redis.sock", NULL,
					NULL), 0);
	ck_assert_int_eq(command(c.r, on_chain, &c, 1, (const char *[]){ "PING" }, NULL), 0);
	ck_assert_int_eq(c.calls, 0);
	dl_redis_free(c.r);
	ck_assert_int_eq(c.calls, 1);
	ck_assert_int_eq(c.chained, 1);
	ck_assert(c.null);
	run_for(50);
	ck_assert_int_eq(c.calls, 1);
	ck_assert_int_eq(c.chained, 1);
}
END_TEST

START_TEST(test_free_in_flight_chain)
{
	struct states st = { 0 };
	struct chain c = { 0 };

	ck_assert_int_eq(redis_server_start(&server, dir), 0);
	c.r = connect_ok(server.address, &st);
	ck_assert_int_eq(command(c.r, on_chain, &c, 3, (const char *[]){ "BLPOP", "never", "0" },
				 NULL), 0);
	run_for(20);
	dl_redis_free(c.r);
	ck_assert_int_eq(c.calls, 1);
	ck_assert_int_eq(c.chained, 1);
	ck_assert(c.null);
	run_for(50);
	ck_assert_int_eq(c.chained, 1);
}
END_TEST

/* dl_redis_free() from inside this client's own callbacks. */
enum free_from { FROM_REPLY, FROM_NULL_REPLY, FROM_STATE_UP, FROM_STATE_DOWN };

struct self_free {
	enum free_from from;
	struct dl_redis *r;
	int ups;
	struct got pending;       /* in flight when the free happens */
	int pending_at_return;    /* its calls when dl_redis_free() returned */
	bool freed;
};

static void self_free_now(struct self_free *f)
{
	ck_assert(!f->freed);
	f->freed = true;
	dl_redis_free(f->r);
	f->pending_at_return = f->pending.calls;
}

static void on_self_free_reply(const redisReply *reply, void *arg)
{
	struct self_free *f = arg;

	if ((f->from == FROM_REPLY && reply) || (f->from == FROM_NULL_REPLY && !reply))
		self_free_now(f);
}

static void on_self_free_state(bool connected, void *arg)
{
	struct self_free *f = arg;

	if (connected)
		f->ups++;
	if ((f->from == FROM_STATE_UP && connected) || (f->from == FROM_STATE_DOWN && !connected)) {
		self_free_now(f);
		return;
	}
	if (!connected)
		return;
	/* First the command whose reply (PING) or NULL reply (a BLPOP that blocks until the
	 * server dies) frees the client, then one left in flight behind it. */
	if (f->from == FROM_REPLY)
		ck_assert_int_eq(command(f->r, on_self_free_reply, f, 1,
					 (const char *[]){ "PING" }, NULL), 0);
	if (f->from == FROM_NULL_REPLY)
		ck_assert_int_eq(command(f->r, on_self_free_reply, f, 3,
					 (const char *[]){ "BLPOP", "never", "0" }, NULL), 0);
	ck_assert_int_eq(CMD(f->r, &f->pending, "BLPOP", "never-either", "0"), 0);
}

START_TEST(test_free_from_callbacks)
{
	struct self_free f = { .from = (enum free_from)_i };

	ck_assert_int_eq(redis_server_start(&server, dir), 0);
	ck_assert_int_eq(dl_redis_alloc(&f.r, root, server.address, on_self_free_state, &f), 0);
	ck_assert(run_until(&f.ups, 1, WAIT_MS));
	if (f.from == FROM_NULL_REPLY || f.from == FROM_STATE_DOWN) {
		run_for(20);
		ck_assert(!f.freed);
		redis_server_kill(&server);
	}
	{
		long long deadline = redis_server_now_ms() + WAIT_MS;

		while (!f.freed && redis_server_now_ms() < deadline)
			step(10);
	}
	ck_assert(f.freed);
	if (f.from == FROM_STATE_UP) {
		ck_assert_int_eq(f.pending.calls, 0);  /* nothing was sent */
	} else {
		/* In flight: answered (NULL) before dl_redis_free() returned — for FROM_STATE_DOWN
		 * by the lost connection, before the handler ran. */
		ck_assert_int_eq(f.pending_at_return, 1);
		ck_assert(f.pending.null);
	}
	run_for(50);
	ck_assert_int_eq(f.pending.calls, f.from == FROM_STATE_UP ? 0 : 1);
}
END_TEST

/* TCP. */

START_TEST(test_tcp_round_trip)
{
	static const char *const hosts[] = { "127.0.0.1", "localhost" };
	struct states st = { 0 };
	struct dl_redis *r;
	struct got g;
	char address[64];
	int port = redis_server_free_port();

	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(redis_server_start_port(&server, dir, port), 0);
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		memset(&st, 0, sizeof(st));
		snprintf(address, sizeof(address), "%s:%d", hosts[i], port);
		r = connect_ok(address, &st);
		CMD_WAIT(r, &g, "SET", "tcp", hosts[i]);
		CMD_WAIT(r, &g, "GET", "tcp");
		ck_assert_str_eq(g.str, hosts[i]);
		run_agent_sync(r, &g);
		dl_redis_free(r);
	}
}
END_TEST

START_TEST(test_tcp_refused_fails_fast)
{
	struct states st = { 0 };
	struct dl_redis *r = NULL;
	struct got g = { 0 };
	char address[64];
	int port = redis_server_free_port();

	ck_assert_int_gt(port, 0);
	snprintf(address, sizeof(address), "127.0.0.1:%d", port);
	ck_assert_int_eq(dl_redis_alloc(&r, root, address, on_state, &st), 0);
	run_for(150);
	ck_assert_int_eq(CMD(r, &g, "PING"), 0);
	ck_assert_int_eq(g.calls, 0);
	step(0);  /* one loop turn that does not wait */
	ck_assert_int_eq(g.calls, 1);
	ck_assert(g.null);
	ck_assert(!dl_redis_connected(r));
	ck_assert_int_eq(st.ups, 0);
	dl_redis_free(r);
}
END_TEST

static Suite *redis_suite(void)
{
	Suite *s = suite_create("redis");
	TCase *tc;

	tc = tcase_create("address");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_address_invalid, 0,
			    (int)(sizeof(bad_addresses) / sizeof(bad_addresses[0])));
	tcase_add_test(tc, test_alloc_null_arguments);
	tcase_add_loop_test(tc, test_address_valid_unreachable, 0,
			    (int)(sizeof(good_addresses) / sizeof(good_addresses[0])));
	tcase_add_test(tc, test_script_arguments);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_set_get_binary);
	tcase_add_test(tc, test_large_value_and_pipeline);
	tcase_add_test(tc, test_fails_before_connect);
	tcase_add_test(tc, test_script_evalsha_and_noscript);
	tcase_add_test(tc, test_tcp_round_trip);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("connection");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_server_lost_and_back);
	tcase_add_test(tc, test_backoff_doubles);
	tcase_add_test(tc, test_backoff_resets_after_success);
	tcase_add_test(tc, test_connect_deadline);
	tcase_add_test(tc, test_script_load_refused);
	tcase_add_test(tc, test_tcp_refused_fails_fast);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("free");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_free_answers_pending);
	tcase_add_test(tc, test_free_answers_queued_failures);
	tcase_add_test(tc, test_free_in_flight_chain);
	tcase_add_loop_test(tc, test_free_from_callbacks, FROM_REPLY, FROM_STATE_DOWN + 1);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* Connection failures are expected here; keep the output to real errors. */
	log_init("test_redis", LOG_ERR, false);
	return unit_run(redis_suite());
}
