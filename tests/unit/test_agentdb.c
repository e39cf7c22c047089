/**
 * @file test_agentdb.c  The agentdb Lua scripts against a real redis-server on a temporary unix
 *                       socket (Procedure 46 §5: calls go to the most available clerk): state
 *                       transitions, ranking, claims, no-answer counting, wrap-up, the sweep's
 *                       healing, registrations, the events stream, and concurrent claims.
 *
 * Every script runs through EVAL of agentdb_script_source(), exactly the text the daemon loads.
 * Time is the scripts' `now` argument, so nothing here waits on a clock (only the node heartbeat
 * keys carry a real Redis TTL, set long enough never to expire during a test).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <hiredis/hiredis.h>

#include "deskline/agentdb.h"
#include "redis_server.h"
#include "unit.h"
#include "agentdb_eval.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PFX "dl:"
#define Q   "collection"
/** 2026-11-29T20:17:39Z: a realistic Unix ms value, so float formatting would show. */
#define T0  1795983459000ull

/* The server ---------------------------------------------------------------------------------- */

/** One redis-server for the whole run, started by main(); each test flushes it. */
static struct redis_server server;
static char server_dir[64];

/* Running scripts ------------------------------------------------------------------------------ */

static redisContext *rc;

static void db_setup(void)
{
	rc = redisConnectUnix(server.path);
	ck_assert_msg(rc && !rc->err, "cannot connect to %s", server.path);
	redisReply *r = redisCommand(rc, "FLUSHALL");
	ck_assert_ptr_nonnull(r);
	freeReplyObject(r);
}

static void db_teardown(void)
{
	redisFree(rc);
	rc = NULL;
}

static redisReply *run(enum agentdb_script s, mstime_t now, ...)
{
	va_list ap;

	va_start(ap, now);
	redisReply *r = agentdb_vrun(rc, s, now, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "%s: no reply", agentdb_script_name(s));
	return r;
}

static void ok_str(redisReply *r, const char *want)
{
	ck_assert_msg(r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS,
		      "want \"%s\", got reply type %d (%s)", want, r->type,
		      r->type == REDIS_REPLY_ERROR ? r->str : "");
	ck_assert_str_eq(r->str, want);
	freeReplyObject(r);
}

static void ok_int(redisReply *r, long long want)
{
	ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "want %lld, got reply type %d (%s)", want,
		      r->type, r->type == REDIS_REPLY_ERROR ? r->str : "");
	ck_assert_int_eq(r->integer, want);
	freeReplyObject(r);
}

static void ok_nil(redisReply *r)
{
	ck_assert_msg(r->type == REDIS_REPLY_NIL, "want nil, got reply type %d (%s)", r->type,
		      r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_ERROR ? r->str : "");
	freeReplyObject(r);
}

/** An error reply whose text starts with @p word. */
static void ok_err(redisReply *r, const char *word)
{
	ck_assert_msg(r->type == REDIS_REPLY_ERROR, "want error \"%s\", got reply type %d", word,
		      r->type);
	ck_assert_msg(strncmp(r->str, word, strlen(word)) == 0, "want error \"%s…\", got \"%s\"",
		      word, r->str);
	freeReplyObject(r);
}

/** A claim's reply as "id1,id2,…" (contacts checked to be the clerks' own). */
static void claim_is(redisReply *r, const char *want)
{
	char got[512] = "";
	size_t len = 0;

	ck_assert_msg(r->type == REDIS_REPLY_ARRAY, "claim: reply type %d (%s)", r->type,
		      r->type == REDIS_REPLY_ERROR ? r->str : "");
	ck_assert_int_eq(r->elements % 2, 0);
	for (size_t i = 0; i < r->elements; i += 2) {
		char contact[128];

		snprintf(contact, sizeof(contact), "sip:%s@10.0.0.9", r->element[i]->str);
		ck_assert_str_eq(r->element[i + 1]->str, contact);
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", i ? "," : "",
					r->element[i]->str);
	}
	ck_assert_str_eq(got, want);
	freeReplyObject(r);
}

/** Field of a clerk's hash, copied into @p buf ("" when missing). */
static const char *hget(const char *id, const char *field, char *buf, size_t size)
{
	redisReply *r = redisCommand(rc, "HGET " PFX "agent:%s %s", id, field);

	ck_assert_ptr_nonnull(r);
	snprintf(buf, size, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return buf;
}

static void field_is(const char *id, const char *field, const char *want)
{
	char buf[256];

	ck_assert_msg(strcmp(hget(id, field, buf, sizeof(buf)), want) == 0,
		      "%s.%s is \"%s\", want \"%s\"", id, field, buf, want);
}

static void state_is(const char *id, const char *want)
{
	field_is(id, "state", want);
}

/** Score of @p id in queue @p q's ready set, or -1 when it is not a member. */
static long long ready_score(const char *q, const char *id)
{
	redisReply *r = redisCommand(rc, "ZSCORE " PFX "queue:%s:ready %s", q, id);
	long long v = -1;

	ck_assert_ptr_nonnull(r);
	if (r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	return v;
}

static long long ready_count(const char *q)
{
	redisReply *r = redisCommand(rc, "ZCARD " PFX "queue:%s:ready", q);

	ck_assert_ptr_nonnull(r);
	long long n = r->integer;
	freeReplyObject(r);
	return n;
}

static char *ms(mstime_t t, char *buf)
{
	snprintf(buf, 24, "%" PRIu64, t);   /* every caller's buffer is char[24] */
	return buf;
}

/** A clerk of @p queues whose phone is registered at sip:ID@10.0.0.9 (expiring in an hour). */
static void clerk(const char *id, const char *queues, bool registered)
{
	char b[24];

	ok_str(run(AGENTDB_AGENT_SYNC, T0, id, "100", id, queues, NULL), "logged_out");
	if (registered) {
		char contact[128];

		snprintf(contact, sizeof(contact), "sip:%s@10.0.0.9", id);
		ok_str(run(AGENTDB_REGISTER, T0, id, contact, ms(T0 + 3600000, b), NULL),
		       "logged_out");
	}
}

static void login(const char *id, mstime_t now)
{
	redisReply *r = run(AGENTDB_SET_STATE, now, id, "available", "phone", "", "", NULL);

	ck_assert_msg(r->type == REDIS_REPLY_ARRAY, "login %s: %s", id,
		      r->type == REDIS_REPLY_ERROR ? r->str : "?");
	freeReplyObject(r);
}

/** Claims exactly @p id for @p call on node n1: every other clerk of @p others is excluded. */
static void ring(const char *id, const char *call, mstime_t now, const char *const *others)
{
	const char *argv[AGENTDB_TEST_MAX_ARGS];
	char nowbuf[24], deadline[24], want[64];
	int argc = 0;

	snprintf(nowbuf, sizeof(nowbuf), "%" PRIu64, now);
	argv[argc++] = "EVAL";
	argv[argc++] = agentdb_script_source(AGENTDB_CLAIM);
	argv[argc++] = "0";
	argv[argc++] = PFX;
	argv[argc++] = nowbuf;
	argv[argc++] = Q;
	argv[argc++] = "n1";
	argv[argc++] = call;
	argv[argc++] = ms(now + 30000, deadline);
	argv[argc++] = "1";
	for (size_t i = 0; others && others[i]; i++)
		if (strcmp(others[i], id) != 0)
			argv[argc++] = others[i];
	snprintf(want, sizeof(want), "%s", id);
	claim_is(redisCommandArgv(rc, argc, argv, NULL), want);
}

/** A whole queue call for @p id ending at @p end_ms with no wrap-up. */
static void serve_call(const char *id, const char *call, mstime_t end_ms,
		       const char *const *others)
{
	char b[24];

	ring(id, call, end_ms - 60000, others);
	ok_int(run(AGENTDB_ANSWERED, end_ms - 55000, id, call, ms(end_ms + 60000, b), NULL), 1);
	ok_str(run(AGENTDB_ENDED, end_ms, id, call, "0", NULL), "available");
}

/* Names ----------------------------------------------------------------------------------------- */

static const struct {
	enum agent_state state;
	const char *name;
} state_cases[] = {
	{ AGENT_LOGGED_OUT, "logged_out" },
	{ AGENT_AVAILABLE, "available" },
	{ AGENT_RINGING, "ringing" },
	{ AGENT_ON_CALL, "on_call" },
	{ AGENT_WRAP_UP, "wrap_up" },
	{ AGENT_BREAK, "break" },
};

START_TEST(test_state_names)
{
	enum agent_state s = AGENT_BREAK;

	ck_assert_str_eq(agent_state_name(state_cases[_i].state), state_cases[_i].name);
	ck_assert_int_eq(agent_state_parse(state_cases[_i].name, &s), 0);
	ck_assert_int_eq(s, state_cases[_i].state);
}
END_TEST

START_TEST(test_state_names_bad)
{
	static const char *const bad[] = { "", "Available", "on-call", "busy", "available " };
	enum agent_state s = AGENT_WRAP_UP;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_int_eq(agent_state_parse(bad[i], &s), EINVAL);
		ck_assert_int_eq(s, AGENT_WRAP_UP);
	}
	ck_assert_int_eq(agent_state_parse(NULL, &s), EINVAL);
	ck_assert_int_eq(agent_state_parse("break", NULL), EINVAL);
	ck_assert_ptr_null(agent_state_name((enum agent_state)6));
	ck_assert_ptr_null(agent_state_name((enum agent_state)-1));
}
END_TEST

START_TEST(test_script_names)
{
	static const char *const names[AGENTDB_SCRIPT_COUNT] = {
		"agent_sync", "queue_sync", "register", "unregister", "set_state", "claim",
		"release", "answered", "ended", "node_refresh", "sweep", "node_reconcile",
		"direct_call", "tickets", "ticket_ids", "ticket_create", "ticket_note",
		"ticket_status",
	};

	for (int i = 0; i < AGENTDB_SCRIPT_COUNT; i++) {
		const char *src = agentdb_script_source((enum agentdb_script)i);
		char marker[64];

		ck_assert_str_eq(agentdb_script_name((enum agentdb_script)i), names[i]);
		ck_assert_ptr_nonnull(src);
		/* The script's own file follows common.lua and starts with its name. */
		snprintf(marker, sizeof(marker), "\n-- %s: ", names[i]);
		ck_assert_msg(strstr(src, marker) != NULL, "%s: wrong source", names[i]);
		ck_assert_ptr_nonnull(strstr(src, "local function transition("));
	}
	ck_assert_ptr_null(agentdb_script_source(AGENTDB_SCRIPT_COUNT));
	ck_assert_ptr_null(agentdb_script_name(AGENTDB_SCRIPT_COUNT));
	ck_assert_ptr_null(agentdb_script_source((enum agentdb_script)-1));
}
END_TEST

/* Transitions ----------------------------------------------------------------------------------- */

/** Drives clerk c1 (alone in queue Q) into @p st by the scripts the daemon runs. */
static void put_in(enum agent_state st)
{
	char b[24];

	switch (st) {
	case AGENT_LOGGED_OUT:
		break;
	case AGENT_AVAILABLE:
		login("c1", T0 + 1000);
		break;
	case AGENT_BREAK: {
		login("c1", T0 + 1000);
		redisReply *r = run(AGENTDB_SET_STATE, T0 + 2000, "c1", "break", "phone", "lunch",
				    "", NULL);
		freeReplyObject(r);
		break;
	}
	case AGENT_RINGING:
	case AGENT_ON_CALL:
	case AGENT_WRAP_UP:
		login("c1", T0 + 1000);
		ring("c1", "call-1", T0 + 2000, NULL);
		if (st == AGENT_RINGING)
			break;
		ok_int(run(AGENTDB_ANSWERED, T0 + 3000, "c1", "call-1", ms(T0 + 90000, b), NULL),
		       1);
		if (st == AGENT_ON_CALL)
			break;
		ok_str(run(AGENTDB_ENDED, T0 + 4000, "c1", "call-1", "60000", NULL), "wrap_up");
		break;
	}
	state_is("c1", agent_state_name(st));
}

static const struct {
	const char *name;
	bool registered;
	enum agent_state from;
	const char *id;       /* NULL: "c1" */
	const char *to;
	bool force;
	const char *error;    /* expected error word, or NULL for success */
} set_cases[] = {
	{ "login", true, AGENT_LOGGED_OUT, NULL, "available", false, NULL },
	{ "login needs a registered phone", false, AGENT_LOGGED_OUT, NULL, "available", false,
	  "unregistered" },
	{ "a break", true, AGENT_AVAILABLE, NULL, "break", false, NULL },
	{ "back from a break", true, AGENT_BREAK, NULL, "available", false, NULL },
	{ "logout", true, AGENT_AVAILABLE, NULL, "logged_out", false, NULL },
	{ "logout from a break", true, AGENT_BREAK, NULL, "logged_out", false, NULL },
	{ "a break while logged out", false, AGENT_LOGGED_OUT, NULL, "break", false, NULL },
	{ "ringing refuses", true, AGENT_RINGING, NULL, "break", false, "busy" },
	{ "on_call refuses", true, AGENT_ON_CALL, NULL, "logged_out", false, "busy" },
	{ "ringing forced", true, AGENT_RINGING, NULL, "break", true, NULL },
	{ "on_call forced", true, AGENT_ON_CALL, NULL, "available", true, NULL },
	{ "wrap-up ended early", true, AGENT_WRAP_UP, NULL, "available", false, NULL },
	{ "unknown clerk", true, AGENT_LOGGED_OUT, "nobody", "available", false, "unknown" },
	{ "ringing cannot be set", true, AGENT_AVAILABLE, NULL, "ringing", false, "state" },
	{ "no such state", true, AGENT_AVAILABLE, NULL, "lunch", false, "state" },
	{ "empty state", true, AGENT_AVAILABLE, NULL, "", true, "state" },
};

START_TEST(test_set_state)
{
	const char *id = set_cases[_i].id ? set_cases[_i].id : "c1";
	const char *from = agent_state_name(set_cases[_i].from);
	char b[64];

	clerk("c1", Q, set_cases[_i].registered);
	put_in(set_cases[_i].from);
	redisReply *r = run(AGENTDB_SET_STATE, T0 + 10000, id, set_cases[_i].to, "deskctl",
			    "why", set_cases[_i].force ? "force" : "", NULL);

	if (set_cases[_i].error) {
		ok_err(r, set_cases[_i].error);
		state_is("c1", from);
		ck_assert_int_eq(ready_score(Q, "c1") >= 0, set_cases[_i].from == AGENT_AVAILABLE);
		return;
	}
	ck_assert_msg(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "%s: %s",
		      set_cases[_i].name, r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
	ck_assert_str_eq(r->element[0]->str, from);
	ck_assert_str_eq(r->element[1]->str, set_cases[_i].to);
	freeReplyObject(r);
	state_is("c1", set_cases[_i].to);
	field_is("c1", "state_since_ms", ms(T0 + 10000, b));
	field_is("c1", "reason", "why");
	/* Leaving a call clears its node, call and deadline. */
	field_is("c1", "node", "");
	field_is("c1", "call_id", "");
	field_is("c1", "deadline_ms", "0");
	ck_assert_int_eq(ready_score(Q, "c1") >= 0, strcmp(set_cases[_i].to, "available") == 0);
}
END_TEST

START_TEST(test_set_same_state)
{
	char b[24];

	clerk("c1", Q, true);
	login("c1", T0 + 1000);
	redisReply *r = run(AGENTDB_SET_STATE, T0 + 5000, "c1", "available", "phone", "", "",
			    NULL);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_str_eq(r->element[0]->str, "available");
	ck_assert_str_eq(r->element[1]->str, "available");
	freeReplyObject(r);
	/* Not a change: the time in the state goes on. */
	field_is("c1", "state_since_ms", ms(T0 + 1000, b));
	ck_assert_int_eq(ready_score(Q, "c1"), 0);
}
END_TEST

/* agent_sync, queue_sync ------------------------------------------------------------------------- */

START_TEST(test_agent_sync)
{
	static const struct { const char *field, *value; } fresh[] = {
		{ "state", "logged_out" }, { "state_since_ms", "1795983459000" },
		{ "extension", "101" }, { "name", "\xd7\x93\xd7\xa0\xd7\x94" },
		{ "queues", "collection,billing" }, { "registered", "0" }, { "contact", "" },
		{ "reg_expires_ms", "0" }, { "node", "" }, { "call_id", "" },
		{ "deadline_ms", "0" }, { "open_tickets", "0" }, { "last_call_end_ms", "0" },
		{ "no_answer_count", "0" }, { "direct_calls", "0" }, { "reason", "" },
	};

	ok_str(run(AGENTDB_AGENT_SYNC, T0, "dana", "101", "\xd7\x93\xd7\xa0\xd7\x94",
		   "collection,billing", NULL), "logged_out");
	for (size_t i = 0; i < ARRAY_SIZE(fresh); i++)
		field_is("dana", fresh[i].field, fresh[i].value);
	redisReply *r = redisCommand(rc, "SMEMBERS " PFX "agents");
	ck_assert_int_eq(r->elements, 1);
	ck_assert_str_eq(r->element[0]->str, "dana");
	freeReplyObject(r);

	ok_str(run(AGENTDB_REGISTER, T0, "dana", "sip:dana@10.0.0.9", "1795999999000", NULL),
	       "logged_out");
	login("dana", T0 + 1000);
	ck_assert_int_eq(ready_score("collection", "dana"), 0);
	ck_assert_int_eq(ready_score("billing", "dana"), 0);

	/* A re-sync updates the fields, keeps the state, and moves the ready-set membership. */
	ok_str(run(AGENTDB_AGENT_SYNC, T0 + 2000, "dana", "102", "Dana", "billing,permits", NULL),
	       "available");
	field_is("dana", "extension", "102");
	field_is("dana", "name", "Dana");
	field_is("dana", "state_since_ms", "1795983460000");
	ck_assert_int_eq(ready_score("collection", "dana"), -1);
	ck_assert_int_eq(ready_score("billing", "dana"), 0);
	ck_assert_int_eq(ready_score("permits", "dana"), 0);

	ok_err(run(AGENTDB_AGENT_SYNC, T0, "", "1", "x", Q, NULL), "args");
	ok_err(run(AGENTDB_AGENT_SYNC, T0, "x", "1", NULL), "args");
}
END_TEST

START_TEST(test_bad_arguments)
{
	redisReply *r = redisCommand(rc, "EVAL %s 0 dl: soon", agentdb_script_source(AGENTDB_SWEEP));

	ok_err(r, "args");
	r = redisCommand(rc, "EVAL %s 0", agentdb_script_source(AGENTDB_SWEEP));
	ok_err(r, "args");
	r = redisCommand(rc, "EVAL %s 0 %s 1", agentdb_script_source(AGENTDB_SWEEP), "");
	ok_err(r, "args");
	ok_err(run(AGENTDB_QUEUE_SYNC, T0, Q, "random", NULL), "args");
	ok_err(run(AGENTDB_CLAIM, T0, Q, "n1", "call", "soon", "1", NULL), "args");
	ok_err(run(AGENTDB_CLAIM, T0, Q, "n1", "call", "1", "-1", NULL), "args");
	ok_err(run(AGENTDB_RELEASE, T0, "c1", "call", "hung_up", "3", NULL), "args");
	ok_err(run(AGENTDB_TICKETS, T0, "c1", "many", NULL), "args");
	ok_err(run(AGENTDB_NODE_REFRESH, T0, "n1", "0", "1", NULL), "args");
	ok_err(run(AGENTDB_NODE_RECONCILE, T0, "", NULL), "args");
}
END_TEST

/* Ranking ---------------------------------------------------------------------------------------- */

static const char *const abc[] = { "a", "b", "c", NULL };

/** a: 2 open tickets, idle since T0+100 s; b: 0, since T0+300 s; c: 0, since T0+200 s. */
static void three_clerks(void)
{
	for (size_t i = 0; abc[i]; i++) {
		clerk(abc[i], Q, true);
		login(abc[i], T0);
	}
	serve_call("a", "x1", T0 + 100000, abc);
	serve_call("b", "x2", T0 + 300000, abc);
	serve_call("c", "x3", T0 + 200000, abc);
	ok_int(run(AGENTDB_TICKETS, T0 + 400000, "a", "2", NULL), 2);
}

static const struct {
	const char *strategy;     /* NULL: the queue was never synced (fewest-tasks) */
	const char *count;
	const char *order;        /* claims one after another, or one ring-all claim */
} rank_cases[] = {
	{ NULL, "1", "c,b,a" },
	{ "fewest-tasks", "1", "c,b,a" },
	{ "longest-idle", "1", "a,c,b" },
	{ "ring-all", "0", "a,c,b" },
	{ "fewest-tasks", "2", "c,b" },
	{ "fewest-tasks", "0", "c,b,a" },
};

START_TEST(test_rank)
{
	char b[24];

	three_clerks();
	if (rank_cases[_i].strategy)
		ok_str(run(AGENTDB_QUEUE_SYNC, T0, Q, rank_cases[_i].strategy, NULL), "OK");
	if (strcmp(rank_cases[_i].count, "1") != 0) {
		claim_is(run(AGENTDB_CLAIM, T0 + 500000, Q, "n1", "call", ms(T0 + 530000, b),
			     rank_cases[_i].count, NULL), rank_cases[_i].order);
		return;
	}
	char got[64] = "";
	for (int i = 0; i < 3; i++) {
		char call[32];
		redisReply *r;

		snprintf(call, sizeof(call), "call-%d", i);
		r = run(AGENTDB_CLAIM, T0 + 500000, Q, "n1", call, ms(T0 + 530000, b), "1", NULL);
		ck_assert_int_eq(r->elements, 2);
		strcat(got, i ? "," : "");
		strcat(got, r->element[0]->str);
		freeReplyObject(r);
	}
	ck_assert_str_eq(got, rank_cases[_i].order);
	claim_is(run(AGENTDB_CLAIM, T0 + 500000, Q, "n1", "call-3", ms(T0 + 530000, b), "1",
		     NULL), "");
}
END_TEST

START_TEST(test_scores_are_integers)
{
	char b[24];

	three_clerks();
	/* 2 tickets × 1e13 + last_call_end_ms, exactly. */
	ck_assert_int_eq(ready_score(Q, "a"), 2 * 10000000000000ll + (long long)(T0 + 100000));
	ck_assert_int_eq(ready_score(Q, "b"), (long long)(T0 + 300000));
	field_is("a", "last_call_end_ms", ms(T0 + 100000, b));
	field_is("a", "state_since_ms", ms(T0 + 100000, b));
	ok_str(run(AGENTDB_QUEUE_SYNC, T0, Q, "longest-idle", NULL), "OK");
	ck_assert_int_eq(ready_score(Q, "a"), (long long)(T0 + 100000));
	ok_str(run(AGENTDB_QUEUE_SYNC, T0, Q, "fewest-tasks", NULL), "OK");
	ck_assert_int_eq(ready_score(Q, "a"), 2 * 10000000000000ll + (long long)(T0 + 100000));
}
END_TEST

START_TEST(test_claim_excludes)
{
	char b[24];

	three_clerks();
	claim_is(run(AGENTDB_CLAIM, T0 + 500000, Q, "n1", "k1", ms(T0 + 530000, b), "1", "c",
		     NULL), "b");
	/* The excluded clerk stays offered to other calls. */
	ck_assert_int_eq(ready_score(Q, "c"), (long long)(T0 + 200000));
	claim_is(run(AGENTDB_CLAIM, T0 + 500000, Q, "n1", "k1", ms(T0 + 530000, b), "1", "c",
		     "b", "a", NULL), "");
	claim_is(run(AGENTDB_CLAIM, T0 + 500000, Q, "n1", "k1", ms(T0 + 530000, b), "0", "c",
		     NULL), "a");
	state_is("c", "available");
	state_is("a", "ringing");
	field_is("a", "call_id", "k1");
	field_is("a", "node", "n1");
	field_is("a", "deadline_ms", ms(T0 + 530000, b));
	field_is("a", "reason", Q);
	claim_is(run(AGENTDB_CLAIM, T0 + 500000, "permits", "n1", "k2", "1", "1", NULL), "");
}
END_TEST

START_TEST(test_claim_skips)
{
	static const char *const ids[] = { "ring", "unreg", "direct", "other_q", "free", NULL };
	char b[24];

	for (size_t i = 0; ids[i]; i++) {
		clerk(ids[i], Q, true);
		login(ids[i], T0 + i);   /* earlier login, same score 0: ties broken by id */
	}
	/* ring: already ringing for another call. */
	claim_is(run(AGENTDB_CLAIM, T0 + 1000, Q, "n2", "other", ms(T0 + 9000, b), "1", NULL),
		 "direct");
	ok_str(run(AGENTDB_RELEASE, T0 + 1000, "direct", "other", "cancelled", "3", NULL),
	       "available");
	ring("ring", "other", T0 + 1000, ids);
	/* unreg: its phone went away (logged_out by that). */
	ok_str(run(AGENTDB_UNREGISTER, T0 + 1000, "unreg", "expired", NULL), "available");
	/* direct: someone dialled its extension. */
	ok_int(run(AGENTDB_DIRECT_CALL, T0 + 1000, "direct", "1", NULL), 1);
	/* other_q: moved to another queue. */
	ok_str(run(AGENTDB_AGENT_SYNC, T0 + 1000, "other_q", "100", "o", "permits", NULL),
	       "available");
	ck_assert_int_eq(ready_count(Q), 1);

	/* Stale members (a hand edit, a bug) are skipped and removed. */
	redisReply *r = redisCommand(rc, "ZADD " PFX "queue:" Q ":ready 0 ring 0 unreg 0 direct "
				     "0 other_q 0 ghost");
	freeReplyObject(r);
	ck_assert_int_eq(ready_count(Q), 6);
	claim_is(run(AGENTDB_CLAIM, T0 + 2000, Q, "n1", "c", ms(T0 + 9000, b), "0", NULL),
		 "free");
	ck_assert_int_eq(ready_count(Q), 0);
	ck_assert_int_eq(ready_score("permits", "other_q"), 0);
	state_is("ring", "ringing");
	field_is("ring", "call_id", "other");

	/* The direct call ends: offered again (never below 0). */
	ok_int(run(AGENTDB_DIRECT_CALL, T0 + 3000, "direct", "-1", NULL), 0);
	ok_int(run(AGENTDB_DIRECT_CALL, T0 + 3000, "direct", "-1", NULL), 0);
	claim_is(run(AGENTDB_CLAIM, T0 + 3000, Q, "n1", "d", ms(T0 + 9000, b), "1", NULL),
		 "direct");
	ok_err(run(AGENTDB_DIRECT_CALL, T0, "ghost", "1", NULL), "unknown");
}
END_TEST

/* Release, answer, end ------------------------------------------------------------------------- */

START_TEST(test_no_answer_count)
{
	char b[24];

	clerk("c1", Q, true);
	login("c1", T0);
	/* Two unanswered rings, then an answer: the count starts again. */
	for (int round = 0; round < 2; round++) {
		ring("c1", "r1", T0 + 1000, NULL);
		ok_str(run(AGENTDB_RELEASE, T0 + 2000, "c1", "r1", "no_answer", "3", NULL),
		       "available");
		field_is("c1", "no_answer_count", round == 0 ? "1" : "2");
	}
	ring("c1", "r2", T0 + 3000, NULL);
	/* cancelled and failed do not count, and a release for another call does nothing. */
	ok_nil(run(AGENTDB_RELEASE, T0 + 3500, "c1", "r1", "no_answer", "3", NULL));
	ok_int(run(AGENTDB_ANSWERED, T0 + 3500, "c1", "r1", "1", NULL), 0);
	ok_str(run(AGENTDB_RELEASE, T0 + 4000, "c1", "r2", "cancelled", "3", NULL), "available");
	ring("c1", "r3", T0 + 4000, NULL);
	ok_str(run(AGENTDB_RELEASE, T0 + 4000, "c1", "r3", "failed", "3", NULL), "available");
	field_is("c1", "no_answer_count", "2");
	ring("c1", "r4", T0 + 5000, NULL);
	ok_int(run(AGENTDB_ANSWERED, T0 + 6000, "c1", "r4", ms(T0 + 99000, b), NULL), 1);
	field_is("c1", "no_answer_count", "0");
	state_is("c1", "on_call");
	field_is("c1", "deadline_ms", ms(T0 + 99000, b));
	ok_nil(run(AGENTDB_RELEASE, T0 + 6500, "c1", "r4", "no_answer", "3", NULL));
	ok_str(run(AGENTDB_ENDED, T0 + 7000, "c1", "r4", "0", NULL), "available");

	/* Three in a row: a break, off the ready sets. */
	for (int i = 0; i < 3; i++) {
		ring("c1", "r5", T0 + 8000, NULL);
		ok_str(run(AGENTDB_RELEASE, T0 + 9000, "c1", "r5", "no_answer", "3", NULL),
		       i < 2 ? "available" : "break");
	}
	field_is("c1", "reason", "no-answer");
	field_is("c1", "no_answer_count", "3");
	ck_assert_int_eq(ready_score(Q, "c1"), -1);
	/* Back from the break, the count starts again. */
	login("c1", T0 + 10000);
	field_is("c1", "no_answer_count", "0");

	/* max_no_answer 0: never a break. */
	for (int i = 0; i < 5; i++) {
		ring("c1", "r6", T0 + 11000, NULL);
		ok_str(run(AGENTDB_RELEASE, T0 + 12000, "c1", "r6", "no_answer", "0", NULL),
		       "available");
	}
	field_is("c1", "no_answer_count", "5");
	ok_err(run(AGENTDB_RELEASE, T0, "nobody", "r6", "no_answer", "3", NULL), "unknown");
	ok_err(run(AGENTDB_ANSWERED, T0, "nobody", "r6", "1", NULL), "unknown");
	ok_err(run(AGENTDB_ENDED, T0, "nobody", "r6", "0", NULL), "unknown");
}
END_TEST

START_TEST(test_wrap_up)
{
	char b[24];

	clerk("c1", Q, true);
	login("c1", T0);
	ring("c1", "w1", T0 + 1000, NULL);
	ok_nil(run(AGENTDB_ENDED, T0 + 1500, "c1", "w1", "30000", NULL));  /* not answered yet */
	ok_int(run(AGENTDB_ANSWERED, T0 + 2000, "c1", "w1", ms(T0 + 60000, b), NULL), 1);
	ok_nil(run(AGENTDB_ENDED, T0 + 5000, "c1", "other", "30000", NULL));
	ok_str(run(AGENTDB_ENDED, T0 + 5000, "c1", "w1", "30000", NULL), "wrap_up");
	field_is("c1", "deadline_ms", ms(T0 + 35000, b));
	field_is("c1", "last_call_end_ms", ms(T0 + 5000, b));
	field_is("c1", "call_id", "");
	field_is("c1", "node", "");
	ck_assert_int_eq(ready_score(Q, "c1"), -1);

	ok_int(run(AGENTDB_SWEEP, T0 + 34999, NULL), 0);
	state_is("c1", "wrap_up");
	ok_int(run(AGENTDB_SWEEP, T0 + 35000, NULL), 1);
	state_is("c1", "available");
	field_is("c1", "deadline_ms", "0");
	ck_assert_int_eq(ready_score(Q, "c1"), (long long)(T0 + 5000));
	ok_int(run(AGENTDB_SWEEP, T0 + 35000, NULL), 0);

	/* No wrap-up: available at once. */
	ring("c1", "w2", T0 + 40000, NULL);
	ok_int(run(AGENTDB_ANSWERED, T0 + 41000, "c1", "w2", ms(T0 + 99000, b), NULL), 1);
	ok_str(run(AGENTDB_ENDED, T0 + 50000, "c1", "w2", "0", NULL), "available");
	ck_assert_int_eq(ready_score(Q, "c1"), (long long)(T0 + 50000));
}
END_TEST

/* Sweep, heartbeat, reconcile ------------------------------------------------------------------ */

/** Clerk @p id ringing (or on a call) for @p call on @p node until @p deadline. */
static void busy_on(const char *id, const char *node, const char *call, bool answered,
		    mstime_t deadline)
{
	char b[24];

	clerk(id, id, true);     /* its own queue, so claims pick it alone */
	login(id, T0);
	claim_is(run(AGENTDB_CLAIM, T0 + 1000, id, node, call, ms(deadline, b), "1", NULL), id);
	if (answered)
		ok_int(run(AGENTDB_ANSWERED, T0 + 2000, id, call, ms(deadline, b), NULL), 1);
}

START_TEST(test_sweep_heals)
{
	char b[24];

	/* n1 heartbeats (a real TTL of a minute: the test never waits that long); n2 is gone. */
	ok_int(run(AGENTDB_NODE_REFRESH, T0, "n1", "60000", "0", NULL), 0);
	busy_on("live_ring", "n1", "c1", false, T0 + 30000);
	busy_on("live_call", "n1", "c2", true, T0 + 30000);
	busy_on("dead_node", "n2", "c3", true, T0 + 30000);
	busy_on("late_ring", "n1", "c4", false, T0 + 9000);
	busy_on("late_call", "n1", "c5", true, T0 + 9000);
	busy_on("unreg_call", "n2", "c6", true, T0 + 30000);
	ok_str(run(AGENTDB_UNREGISTER, T0 + 3000, "unreg_call", "unregistered", NULL), "on_call");
	clerk("expiring", "expiring", true);   /* registered until T0 + 1 h */
	login("expiring", T0);

	ok_int(run(AGENTDB_SWEEP, T0 + 10000, NULL), 4);
	static const struct { const char *id, *state, *reason; } want[] = {
		{ "live_ring", "ringing", "live_ring" },
		{ "live_call", "on_call", "" },
		{ "dead_node", "available", "healed" },
		{ "late_ring", "available", "healed" },
		{ "late_call", "available", "healed" },
		{ "unreg_call", "logged_out", "healed" },
		{ "expiring", "available", "" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		state_is(want[i].id, want[i].state);
		field_is(want[i].id, "reason", want[i].reason);
		bool ready = strcmp(want[i].state, "available") == 0;
		ck_assert_int_eq(ready_score(want[i].id, want[i].id) >= 0, ready);
		if (ready) {
			field_is(want[i].id, "node", "");
			field_is(want[i].id, "call_id", "");
			field_is(want[i].id, "deadline_ms", "0");
		}
	}
	/* Several nodes sweeping at once: the second finds nothing to do. */
	ok_int(run(AGENTDB_SWEEP, T0 + 10000, NULL), 0);

	/*
	 * An hour on, every registration (but the one already gone) has expired: idle clerks are
	 * logged out for it, live_ring and live_call are past their deadline as well.
	 */
	ok_int(run(AGENTDB_SWEEP, T0 + 3600000, NULL), 6);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		state_is(want[i].id, "logged_out");
		field_is(want[i].id, "registered", "0");
		field_is(want[i].id, "contact", "");
		ck_assert_int_eq(ready_score(want[i].id, want[i].id), -1);
	}
	field_is("expiring", "reason", "expired");
	field_is("late_ring", "reason", "expired");
	field_is("live_ring", "reason", "healed");
	field_is("unreg_call", "reason", "healed");
	field_is("live_ring", "state_since_ms", ms(T0 + 3600000, b));
	field_is("unreg_call", "state_since_ms", ms(T0 + 10000, b));
}
END_TEST

START_TEST(test_node_refresh)
{
	char b[24];

	busy_on("a", "n1", "c1", false, T0 + 5000);
	busy_on("b", "n1", "c2", true, T0 + 5000);
	busy_on("c", "n1", "gone", true, T0 + 5000);
	busy_on("d", "n2", "c1", true, T0 + 5000);    /* same call id, another node */
	ok_int(run(AGENTDB_NODE_REFRESH, T0 + 4000, "n1", "15000", ms(T0 + 20000, b), "c1", "c2",
		   NULL), 2);
	field_is("a", "deadline_ms", ms(T0 + 20000, b));
	field_is("b", "deadline_ms", ms(T0 + 20000, b));
	field_is("c", "deadline_ms", ms(T0 + 5000, b));
	field_is("d", "deadline_ms", ms(T0 + 5000, b));

	redisReply *r = redisCommand(rc, "PTTL " PFX "node:n1");
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	ck_assert_msg(r->integer > 10000 && r->integer <= 15000, "pttl %lld", r->integer);
	freeReplyObject(r);

	/* The sweep at T0 + 6 s: a and b live on, c's call is gone, d's node never beat. */
	ok_int(run(AGENTDB_SWEEP, T0 + 6000, NULL), 2);
	state_is("a", "ringing");
	state_is("b", "on_call");
	state_is("c", "available");
	state_is("d", "available");
}
END_TEST

START_TEST(test_node_reconcile)
{
	busy_on("a", "n1", "c1", false, T0 + 50000);
	busy_on("b", "n1", "c2", true, T0 + 50000);
	busy_on("c", "n2", "c3", true, T0 + 50000);
	clerk("d", "d", true);
	login("d", T0);
	ok_int(run(AGENTDB_NODE_RECONCILE, T0 + 3000, "n1", NULL), 2);
	state_is("a", "available");
	state_is("b", "available");
	field_is("a", "reason", "healed");
	state_is("c", "on_call");
	state_is("d", "available");
	ck_assert_int_eq(ready_score("a", "a"), 0);
	ck_assert_int_eq(ready_score("b", "b"), 0);
	ok_int(run(AGENTDB_NODE_RECONCILE, T0 + 3000, "n1", NULL), 0);
}
END_TEST

/* Registrations -------------------------------------------------------------------------------- */

START_TEST(test_register_unregister)
{
	char b[24];

	clerk("c1", Q, false);
	ok_str(run(AGENTDB_REGISTER, T0, "c1", "sip:c1@10.0.0.9", ms(T0 + 600000, b), NULL),
	       "logged_out");
	field_is("c1", "registered", "1");
	field_is("c1", "contact", "sip:c1@10.0.0.9");
	field_is("c1", "reg_expires_ms", ms(T0 + 600000, b));
	ck_assert_int_eq(ready_score(Q, "c1"), -1);   /* registered is not logged in */
	login("c1", T0 + 1000);
	ck_assert_int_eq(ready_score(Q, "c1"), 0);

	/* Idle: logged out at once. */
	ok_str(run(AGENTDB_UNREGISTER, T0 + 2000, "c1", "unregistered", NULL), "available");
	state_is("c1", "logged_out");
	field_is("c1", "registered", "0");
	field_is("c1", "contact", "");
	field_is("c1", "reason", "unregistered");
	ck_assert_int_eq(ready_score(Q, "c1"), -1);

	/* On a call: the call goes on; logged out when it ends, with no wrap-up. */
	ok_str(run(AGENTDB_REGISTER, T0, "c1", "sip:c1@10.0.0.9", ms(T0 + 600000, b), NULL),
	       "logged_out");
	login("c1", T0 + 3000);
	ring("c1", "u1", T0 + 4000, NULL);
	ok_int(run(AGENTDB_ANSWERED, T0 + 5000, "c1", "u1", ms(T0 + 99000, b), NULL), 1);
	ok_str(run(AGENTDB_UNREGISTER, T0 + 6000, "c1", "expired", NULL), "on_call");
	state_is("c1", "on_call");
	ok_str(run(AGENTDB_ENDED, T0 + 7000, "c1", "u1", "30000", NULL), "logged_out");
	field_is("c1", "reason", "unregistered");
	field_is("c1", "last_call_end_ms", ms(T0 + 7000, b));

	/* Ringing: released to logged_out. */
	ok_str(run(AGENTDB_REGISTER, T0, "c1", "sip:c1@10.0.0.9", ms(T0 + 600000, b), NULL),
	       "logged_out");
	login("c1", T0 + 8000);
	ring("c1", "u2", T0 + 9000, NULL);
	ok_str(run(AGENTDB_UNREGISTER, T0 + 9500, "c1", "unregistered", NULL), "ringing");
	ok_str(run(AGENTDB_RELEASE, T0 + 10000, "c1", "u2", "no_answer", "1", NULL),
	       "logged_out");
	ck_assert_int_eq(ready_score(Q, "c1"), -1);

	/* On a break: logged out. In wrap-up: logged out when the wrap-up ends. */
	ok_str(run(AGENTDB_REGISTER, T0, "c1", "sip:c1@10.0.0.9", ms(T0 + 600000, b), NULL),
	       "logged_out");
	login("c1", T0 + 11000);
	redisReply *r = run(AGENTDB_SET_STATE, T0 + 12000, "c1", "break", "phone", "", "", NULL);
	freeReplyObject(r);
	ok_str(run(AGENTDB_UNREGISTER, T0 + 13000, "c1", "", NULL), "break");
	state_is("c1", "logged_out");
	ok_str(run(AGENTDB_REGISTER, T0, "c1", "sip:c1@10.0.0.9", ms(T0 + 600000, b), NULL),
	       "logged_out");
	login("c1", T0 + 14000);
	ring("c1", "u3", T0 + 15000, NULL);
	ok_int(run(AGENTDB_ANSWERED, T0 + 16000, "c1", "u3", ms(T0 + 99000, b), NULL), 1);
	ok_str(run(AGENTDB_ENDED, T0 + 17000, "c1", "u3", "30000", NULL), "wrap_up");
	ok_str(run(AGENTDB_UNREGISTER, T0 + 18000, "c1", "unregistered", NULL), "wrap_up");
	state_is("c1", "wrap_up");
	ok_int(run(AGENTDB_SWEEP, T0 + 47000, NULL), 1);
	state_is("c1", "logged_out");
	ck_assert_int_eq(ready_score(Q, "c1"), -1);

	ok_err(run(AGENTDB_REGISTER, T0, "nobody", "sip:x@y", "1", NULL), "unknown");
	ok_err(run(AGENTDB_UNREGISTER, T0, "nobody", "expired", NULL), "unknown");
	ok_err(run(AGENTDB_REGISTER, T0, "c1", "", "1", NULL), "args");
}
END_TEST

/* Tickets ------------------------------------------------------------------------------------- */

START_TEST(test_tickets_rescore)
{
	static const char *const ab[] = { "a", "b", NULL };
	char b[24];

	for (size_t i = 0; ab[i]; i++) {
		clerk(ab[i], Q, true);
		login(ab[i], T0);
	}
	serve_call("a", "t0", T0 + 100000, ab);
	serve_call("b", "t1", T0 + 200000, ab);
	/* Equal tickets: a, idle longer, first. */
	claim_is(run(AGENTDB_CLAIM, T0 + 300000, Q, "n1", "t2", ms(T0 + 330000, b), "1", NULL),
		 "a");
	ok_str(run(AGENTDB_RELEASE, T0 + 300000, "a", "t2", "cancelled", "3", NULL), "available");
	/* A ticket for a: b first now. */
	ok_int(run(AGENTDB_TICKETS, T0 + 300000, "a", "1", NULL), 1);
	claim_is(run(AGENTDB_CLAIM, T0 + 300000, Q, "n1", "t3", ms(T0 + 330000, b), "1", NULL),
		 "b");
	ok_str(run(AGENTDB_RELEASE, T0 + 300000, "b", "t3", "cancelled", "3", NULL), "available");
	ok_int(run(AGENTDB_TICKETS, T0 + 300000, "b", "+2", NULL), 2);
	claim_is(run(AGENTDB_CLAIM, T0 + 300000, Q, "n1", "t4", ms(T0 + 330000, b), "1", NULL),
		 "a");
	/* Tickets change while ringing: no ready-set entry appears. */
	ok_int(run(AGENTDB_TICKETS, T0 + 300000, "a", "-1", NULL), 0);
	ck_assert_int_eq(ready_score(Q, "a"), -1);
	ok_int(run(AGENTDB_TICKETS, T0 + 300000, "a", "-5", NULL), 0);   /* never below 0 */
	field_is("a", "open_tickets", "0");
	ok_err(run(AGENTDB_TICKETS, T0, "nobody", "1", NULL), "unknown");
}
END_TEST

/* Events ------------------------------------------------------------------------------------- */

START_TEST(test_events)
{
	static const struct {
		const char *type, *from, *to, *call, *node, *reason;
	} want[] = {
		{ "agent_state", "", "logged_out", "", "", "created" },
		{ "agent_register", "logged_out", "logged_out", "", "", "sip:c1@10.0.0.9" },
		{ "agent_state", "logged_out", "available", "", "", "" },
		{ "agent_state", "available", "ringing", "e1", "n1", Q },
		{ "agent_state", "ringing", "on_call", "e1", "n1", "" },
		{ "agent_state", "on_call", "wrap_up", "e1", "n1", "" },
		{ "agent_state", "wrap_up", "available", "", "", "" },
		{ "agent_state", "available", "break", "", "", "tea" },
		{ "agent_unregister", "break", "break", "", "", "expired" },
		{ "agent_state", "break", "logged_out", "", "", "expired" },
	};
	char b[24];

	clerk("c1", Q, true);
	/* A registration refresh is not an event. */
	ok_str(run(AGENTDB_REGISTER, T0, "c1", "sip:c1@10.0.0.9", ms(T0 + 600000, b), NULL),
	       "logged_out");
	login("c1", T0 + 1);
	ring("c1", "e1", T0 + 2, NULL);
	ok_int(run(AGENTDB_ANSWERED, T0 + 3, "c1", "e1", ms(T0 + 99000, b), NULL), 1);
	ok_str(run(AGENTDB_ENDED, T0 + 4, "c1", "e1", "10", NULL), "wrap_up");
	ok_int(run(AGENTDB_SWEEP, T0 + 14, NULL), 1);
	redisReply *r = run(AGENTDB_SET_STATE, T0 + 15, "c1", "break", "deskctl", "tea", "", NULL);
	freeReplyObject(r);
	ok_str(run(AGENTDB_UNREGISTER, T0 + 16, "c1", "expired", NULL), "break");

	r = redisCommand(rc, "XRANGE " PFX "events - +");
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_int_eq(r->elements, ARRAY_SIZE(want));
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *f = r->element[i]->element[1];
		const char *exp[][2] = {
			{ "type", want[i].type }, { "agent", "c1" }, { "from", want[i].from },
			{ "to", want[i].to }, { "call", want[i].call }, { "node", want[i].node },
			{ "reason", want[i].reason },
		};
		for (size_t k = 0; k < ARRAY_SIZE(exp); k++) {
			bool found = false;

			for (size_t j = 0; j + 1 < f->elements; j += 2) {
				if (strcmp(f->element[j]->str, exp[k][0]) == 0) {
					ck_assert_msg(strcmp(f->element[j + 1]->str, exp[k][1]) == 0,
						      "event %zu: %s is \"%s\", want \"%s\"", i,
						      exp[k][0], f->element[j + 1]->str, exp[k][1]);
					found = true;
				}
			}
			ck_assert_msg(found, "event %zu has no %s", i, exp[k][0]);
		}
		/* ms is an integer string, not 1.7e+12. */
		for (size_t j = 0; j + 1 < f->elements; j += 2)
			if (strcmp(f->element[j]->str, "ms") == 0)
				ck_assert_msg(strspn(f->element[j + 1]->str, "0123456789") == 13,
					      "ms \"%s\"", f->element[j + 1]->str);
	}
	/* set_state names who asked. */
	redisReply *f = r->element[7]->element[1];
	ck_assert_str_eq(f->element[f->elements - 2]->str, "by");
	ck_assert_str_eq(f->element[f->elements - 1]->str, "deskctl");
	freeReplyObject(r);
}
END_TEST

/* Concurrency --------------------------------------------------------------------------------- */

#define RACE_CLERKS   20
#define RACE_CLAIMS   500
#define RACE_HOLD     5     /* calls a process keeps ringing at once */

/**
 * One process's share: claim, hold up to RACE_HOLD clerks, release the oldest. Each clerk it gets
 * is also marked in an owner key with SET NX, which fails if another process holds the clerk
 * too: an independent check of the claim's exclusivity. The mark goes before the release, so a
 * mark's life lies inside the clerk's ringing. → number of errors.
 */
static int race(const char *node)
{
	redisContext *c = redisConnectUnix(server.path);
	char held[RACE_HOLD][32], calls[RACE_HOLD][48];
	int n_held = 0, errors = 0, got = 0;

	if (!c || c->err) {
		redisFree(c);
		return 1;
	}
	for (int i = 0; i < RACE_CLAIMS + RACE_HOLD; i++) {
		if (n_held == RACE_HOLD || i >= RACE_CLAIMS) {
			if (n_held == 0)
				break;
			redisReply *r = redisCommand(c, "DEL " PFX "owner:%s", held[0]);
			freeReplyObject(r);
			r = run_on(c, AGENTDB_RELEASE, T0 + 1000, held[0], calls[0], "cancelled",
				   "3", NULL);
			if (!r || r->type != REDIS_REPLY_STRING || strcmp(r->str, "available"))
				errors++;
			freeReplyObject(r);
			n_held--;
			memmove(held[0], held[1], sizeof(held[0]) * (size_t)n_held);
			memmove(calls[0], calls[1], sizeof(calls[0]) * (size_t)n_held);
			if (i >= RACE_CLAIMS)
				continue;
		}
		char call[48];
		snprintf(call, sizeof(call), "%s-%d", node, i);
		redisReply *r = run_on(c, AGENTDB_CLAIM, T0 + 1000, Q, node, call, "1795983999000",
				       "1", NULL);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			errors++;
			freeReplyObject(r);
			continue;
		}
		snprintf(held[n_held], sizeof(held[0]), "%s", r->element[0]->str);
		snprintf(calls[n_held], sizeof(calls[0]), "%s", call);
		freeReplyObject(r);
		r = redisCommand(c, "SET " PFX "owner:%s %s NX", held[n_held], call);
		if (!r || r->type != REDIS_REPLY_STATUS)
			errors++;           /* nil: someone else holds this clerk */
		freeReplyObject(r);
		n_held++;
		got++;
	}
	redisFree(c);
	return errors + (got != RACE_CLAIMS);
}

START_TEST(test_concurrent_claims)
{
	pid_t pids[2];

	for (int i = 0; i < RACE_CLERKS; i++) {
		char id[16];

		snprintf(id, sizeof(id), "k%02d", i);
		clerk(id, Q, true);
		login(id, T0);
	}
	for (int p = 0; p < 2; p++) {
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0) {
			/* The parent's connection is not ours to use (frees its buffers too). */
			redisFree(rc);
			_exit(race(p == 0 ? "n1" : "n2") ? 1 : 0);
		}
	}
	for (int p = 0; p < 2; p++) {
		int status;

		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "claiming process %d failed", p);
	}

	/* Every clerk is back; the stream shows each ringing began from available. */
	ck_assert_int_eq(ready_count(Q), RACE_CLERKS);
	redisReply *r = redisCommand(rc, "XRANGE " PFX "events - +");
	int rings = 0, releases = 0;
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *f = r->element[i]->element[1];
		const char *from = "", *to = "";

		for (size_t j = 0; j + 1 < f->elements; j += 2) {
			if (strcmp(f->element[j]->str, "from") == 0)
				from = f->element[j + 1]->str;
			else if (strcmp(f->element[j]->str, "to") == 0)
				to = f->element[j + 1]->str;
		}
		if (strcmp(to, "ringing") == 0) {
			ck_assert_str_eq(from, "available");
			rings++;
		} else if (strcmp(from, "ringing") == 0) {
			ck_assert_str_eq(to, "available");
			releases++;
		}
	}
	freeReplyObject(r);
	ck_assert_int_eq(rings, 2 * RACE_CLAIMS);
	ck_assert_int_eq(releases, 2 * RACE_CLAIMS);
}
END_TEST

static Suite *agentdb_suite(void)
{
	Suite *s = suite_create("agentdb");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_state_names, 0, (int)ARRAY_SIZE(state_cases));
	tcase_add_test(tc, test_state_names_bad);
	tcase_add_test(tc, test_script_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("scripts");
	tcase_add_checked_fixture(tc, db_setup, db_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_set_state, 0, (int)ARRAY_SIZE(set_cases));
	tcase_add_test(tc, test_set_same_state);
	tcase_add_test(tc, test_agent_sync);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_loop_test(tc, test_rank, 0, (int)ARRAY_SIZE(rank_cases));
	tcase_add_test(tc, test_scores_are_integers);
	tcase_add_test(tc, test_claim_excludes);
	tcase_add_test(tc, test_claim_skips);
	tcase_add_test(tc, test_no_answer_count);
	tcase_add_test(tc, test_wrap_up);
	tcase_add_test(tc, test_sweep_heals);
	tcase_add_test(tc, test_node_refresh);
	tcase_add_test(tc, test_node_reconcile);
	tcase_add_test(tc, test_register_unregister);
	tcase_add_test(tc, test_tickets_rescore);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_concurrent_claims);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	char tmpl[] = "/tmp/dl-test-agentdb-XXXXXX";
	int err, rv;

	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "test_agentdb: mkdtemp: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	snprintf(server_dir, sizeof(server_dir), "%s", tmpl);
	err = redis_server_start(&server, server_dir);
	if (err) {
		fprintf(stderr, "test_agentdb: cannot start redis-server: %s\n", strerror(err));
		rmdir(server_dir);
		return EXIT_FAILURE;
	}
	rv = unit_run(agentdb_suite());
	redis_server_stop(&server);
	rmdir(server_dir);
	return rv;
}
