/**
 * @file test_ticket.c  Tickets for unanswered calls (Procedure 46 §2, §4–§7).
 *
 *  - the ticket scripts against a real redis-server (EVAL of agentdb_script_source(), the text
 *    the daemon loads): id blocks, assignment to the most available clerk, open_tickets and
 *    the ready sets, idempotent creation, history and events, status changes and the SLA;
 *  - the service (ticket.c) on a running su_root with a real dl_redis: created in Redis, or
 *    spooled while Redis is down and replayed once it is back, the id pool, node-local ids, the
 *    mail in the outbox (spooled there: its SMTP server is a closed port);
 *  - the mail's exact form (pure).
 *
 * Time in the scripts is their `now` argument; the service uses the real clock, so its tests
 * wait on the loop for things that happen "soon" (generous limits, for valgrind).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "deskline/agentdb.h"
#include "deskline/calendar.h"
#include "deskline/config.h"
#include "deskline/log.h"
#include "deskline/outbox.h"
#include "deskline/redis.h"
#include "deskline/ticket.h"
#include "redis_server.h"
#include "unit.h"
#include "agentdb_eval.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PFX "dl:"
#define Q   "collection"
/** 2026-11-29T20:17:39Z (22:17:39 in Jerusalem): a realistic Unix ms value. */
#define T0  1795983459000ull
/** How long a test waits for something that should happen "soon" (ms). */
#define WAIT_MS 10000

/* The shared server and the scripts ------------------------------------------------------------- */

/** One redis-server for the script tests, started by main(); each test flushes it. */
static struct redis_server server;
static char server_dir[64];

static redisContext *rc;

static redisContext *connect_to(const char *path)
{
	redisContext *c = redisConnectUnix(path);

	ck_assert_msg(c && !c->err, "cannot connect to %s", path);
	return c;
}

static void flush(redisContext *c)
{
	redisReply *r = redisCommand(c, "FLUSHALL");

	ck_assert_ptr_nonnull(r);
	freeReplyObject(r);
}

static void db_setup(void)
{
	rc = connect_to(server.path);
	flush(rc);
}

static void db_teardown(void)
{
	redisFree(rc);
	rc = NULL;
}


#define run(s, now, ...) run_on(rc, s, now, __VA_ARGS__)

static void ok_str(redisReply *r, const char *want)
{
	ck_assert_msg(r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS,
		      "want \"%s\", got reply type %d (%s)", want, r->type,
		      r->type == REDIS_REPLY_ERROR ? r->str : "");
	ck_assert_str_eq(r->str, want);
	freeReplyObject(r);
}

static long long ok_int(redisReply *r)
{
	ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "want an integer, got reply type %d (%s)",
		      r->type, r->type == REDIS_REPLY_ERROR ? r->str : "");
	long long v = r->integer;
	freeReplyObject(r);
	return v;
}

/** An array reply of strings, joined with ',' ("" for an empty array). */
static void ok_list(redisReply *r, const char *want)
{
	char got[512] = "";
	size_t len = 0;

	ck_assert_msg(r->type == REDIS_REPLY_ARRAY, "want {%s}, got reply type %d (%s)", want,
		      r->type, r->type == REDIS_REPLY_ERROR ? r->str : "");
	for (size_t i = 0; i < r->elements; i++) {
		ck_assert_int_eq(r->element[i]->type, REDIS_REPLY_STRING);
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", i ? "," : "",
					r->element[i]->str);
	}
	ck_assert_str_eq(got, want);
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

static char *ms(mstime_t t, char *buf)
{
	snprintf(buf, 24, "%" PRIu64, t);   /* every caller's buffer is char[24] */
	return buf;
}

/** HGET @p key @p field into @p buf ("" when missing). */
static const char *hget_on(redisContext *c, const char *key, const char *field, char *buf,
			   size_t size)
{
	redisReply *r = redisCommand(c, "HGET " PFX "%s %s", key, field);

	ck_assert_ptr_nonnull(r);
	snprintf(buf, size, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return buf;
}

static void field_is_on(redisContext *c, const char *key, const char *field, const char *want)
{
	char buf[512];

	hget_on(c, key, field, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, want) == 0, "%s.%s is \"%s\", want \"%s\"", key, field, buf,
		      want);
}

#define field_is(key, field, want) field_is_on(rc, key, field, want)

static long long integer_on(redisContext *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "reply type %d", r->type);
	long long v = r->integer;
	freeReplyObject(r);
	return v;
}

/** Score of @p member in sorted set @p key, or -1. */
static long long zscore_on(redisContext *c, const char *key, const char *member)
{
	redisReply *r = redisCommand(c, "ZSCORE " PFX "%s %s", key, member);
	long long v = -1;

	ck_assert_ptr_nonnull(r);
	if (r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	return v;
}

/** Entry @p i of a ticket's history ("" when there is none). */
static const char *log_entry(redisContext *c, const char *id, long i, char *buf, size_t size)
{
	redisReply *r = redisCommand(c, "LINDEX " PFX "ticket:%s:log %ld", id, i);

	ck_assert_ptr_nonnull(r);
	snprintf(buf, size, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return buf;
}

static long long log_len(redisContext *c, const char *id)
{
	return integer_on(c, "LLEN " PFX "ticket:%s:log", id);
}

/** Events of type @p type: how many, and the fields of the last one in @p last (may be NULL;
 * the caller frees it with freeReplyObject). */
static size_t events_of(redisContext *c, const char *type, redisReply **last)
{
	redisReply *r = redisCommand(c, "XRANGE " PFX "events - +");
	size_t n = 0;
	int found = -1;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *fields = r->element[i]->element[1];

		for (size_t k = 0; k + 1 < fields->elements; k += 2)
			if (strcmp(fields->element[k]->str, "type") == 0 &&
			    strcmp(fields->element[k + 1]->str, type) == 0) {
				n++;
				found = (int)i;
			}
	}
	if (last) {
		*last = NULL;
		if (found >= 0) {
			/* Keep only the fields array: detach it from the reply. */
			*last = r->element[found]->element[1];
			r->element[found]->element[1] = NULL;
			r->element[found]->elements = 1;
		}
	}
	freeReplyObject(r);
	return n;
}

static const char *event_field(const redisReply *fields, const char *name)
{
	for (size_t k = 0; fields && k + 1 < fields->elements; k += 2)
		if (strcmp(fields->element[k]->str, name) == 0)
			return fields->element[k + 1]->str;
	return NULL;
}

static void event_field_is(const redisReply *fields, const char *name, const char *want)
{
	const char *v = event_field(fields, name);

	ck_assert_msg(v && strcmp(v, want) == 0, "event %s is \"%s\", want \"%s\"", name,
		      v ? v : "(missing)", want);
}

/* Clerks ---------------------------------------------------------------------------------------- */

/** A clerk of @p queues; logged in (registered at sip:ID@10.0.0.9, available) when @p in. */
static void clerk_on(redisContext *c, const char *id, const char *queues, bool in)
{
	char b[24], contact[128];

	ok_str(run_on(c, AGENTDB_AGENT_SYNC, T0, id, "100", id, queues, NULL), "logged_out");
	if (!in)
		return;
	snprintf(contact, sizeof(contact), "sip:%s@10.0.0.9", id);
	ok_str(run_on(c, AGENTDB_REGISTER, T0, id, contact, ms(T0 + 3600000, b), NULL),
	       "logged_out");
	redisReply *r = run_on(c, AGENTDB_SET_STATE, T0, id, "available", "phone", "", "", NULL);
	ck_assert_msg(r->type == REDIS_REPLY_ARRAY, "login %s", id);
	freeReplyObject(r);
}

#define clerk(id, queues, in) clerk_on(rc, id, queues, in)

/** Give a clerk @p tickets open tickets and a last call ending at @p idle_ms, as the scripts
 * would have left them; the TICKETS script re-scores the ready sets. */
static void clerk_load(const char *id, int tickets, mstime_t idle_ms)
{
	redisReply *r = redisCommand(rc, "HSET " PFX "agent:%s open_tickets %d last_call_end_ms "
				     "%" PRIu64, id, tickets, idle_ms);
	ck_assert_ptr_nonnull(r);
	freeReplyObject(r);
	ck_assert_int_eq(ok_int(run(AGENTDB_TICKETS, T0, id, "0", NULL)), tickets);
}

/** Create ticket @p id for queue @p q due at @p due_ms; → the reply's clerk and kind. */
static void create(const char *id, const char *q, mstime_t due_ms, const char *want)
{
	char due[24], created[24];

	ok_list(run(AGENTDB_TICKET_CREATE, T0, id, q, ms(due_ms, due), "call_id", "call-1",
		    "caller", "0501234567", "caller_name", "רות כהן", "called", "1000",
		    "menu_path", "1>3", "category", "arnona", "reason", "no-clerk-available",
		    "forward", "callcenter", "tried", "dana no_answer 22:15:01", "node", "n1",
		    "created_ms", ms(T0 - 60000, created), NULL), want);
}

/* Names ------------------------------------------------------------------------------------------ */

static const struct {
	enum ticket_status s;
	const char *name;
	bool open;
} status_cases[] = {
	{ TICKET_OPEN, "open", true },
	{ TICKET_ASSIGNED, "assigned", true },
	{ TICKET_ANSWERED, "answered", false },
	{ TICKET_IN_CLARIFICATION, "in_clarification", true },
	{ TICKET_WRITTEN_CHANNEL, "written_channel", false },
	{ TICKET_RESOLVED_BY_CALLCENTER, "resolved_by_callcenter", false },
	{ TICKET_CLOSED, "closed", false },
};

START_TEST(test_status_names)
{
	enum ticket_status s = TICKET_CLOSED;

	ck_assert_str_eq(ticket_status_name(status_cases[_i].s), status_cases[_i].name);
	ck_assert_int_eq(ticket_status_parse(status_cases[_i].name, &s), 0);
	ck_assert_int_eq(s, status_cases[_i].s);
	ck_assert(ticket_status_is_open(s) == status_cases[_i].open);
}
END_TEST

START_TEST(test_status_names_bad)
{
	enum ticket_status s = TICKET_ASSIGNED;

	ck_assert_int_eq(ticket_status_parse("Open", &s), EINVAL);
	ck_assert_int_eq(ticket_status_parse("", &s), EINVAL);
	ck_assert_int_eq(ticket_status_parse(NULL, &s), EINVAL);
	ck_assert_int_eq(ticket_status_parse("open", NULL), EINVAL);
	ck_assert_int_eq(s, TICKET_ASSIGNED);
	ck_assert_ptr_null(ticket_status_name((enum ticket_status)7));
	ck_assert_ptr_null(ticket_status_name((enum ticket_status)-1));
}
END_TEST

static const struct {
	enum agentdb_script s;
	const char *name;
} script_cases[] = {
	{ AGENTDB_TICKET_IDS, "ticket_ids" },
	{ AGENTDB_TICKET_CREATE, "ticket_create" },
	{ AGENTDB_TICKET_NOTE, "ticket_note" },
	{ AGENTDB_TICKET_STATUS, "ticket_status" },
};

START_TEST(test_script_names)
{
	const char *src = agentdb_script_source(script_cases[_i].s);
	char marker[64];

	ck_assert_str_eq(agentdb_script_name(script_cases[_i].s), script_cases[_i].name);
	ck_assert_ptr_nonnull(src);
	snprintf(marker, sizeof(marker), "\n-- %s: ", script_cases[_i].name);
	ck_assert_msg(strstr(src, marker) != NULL, "%s: wrong source", script_cases[_i].name);
	ck_assert_ptr_nonnull(strstr(src, "local function ticket_pick_clerk("));
}
END_TEST

/* Ids ------------------------------------------------------------------------------------------- */

START_TEST(test_ids_blocks)
{
	/* Two nodes reserving in turn: the blocks tile 1…N without a gap or an overlap. */
	redisContext *other = connect_to(server.path);
	bool seen[201] = { false };

	for (int i = 0; i < 10; i++) {
		redisContext *c = i % 2 ? other : rc;
		long long last = ok_int(run_on(c, AGENTDB_TICKET_IDS, T0, "2026", "20", NULL));

		ck_assert_int_eq(last, 20 * (i + 1));
		for (long long n = last - 19; n <= last; n++) {
			ck_assert_msg(!seen[n], "number %lld reserved twice", n);
			seen[n] = true;
		}
	}
	/* Each year counts from 1. */
	ck_assert_int_eq(ok_int(run(AGENTDB_TICKET_IDS, T0, "2027", "20", NULL)), 20);
	ck_assert_int_eq(ok_int(run(AGENTDB_TICKET_IDS, T0, "2026", "1", NULL)), 201);
	ok_err(run(AGENTDB_TICKET_IDS, T0, "26", "20", NULL), "args");
	ok_err(run(AGENTDB_TICKET_IDS, T0, "2026", "0", NULL), "args");
	ok_err(run(AGENTDB_TICKET_IDS, T0, "2026", "x", NULL), "args");
	ok_err(run(AGENTDB_TICKET_IDS, T0, "2026", NULL), "args");
	redisFree(other);
}
END_TEST

/* Creation: who gets the ticket ------------------------------------------------------------------ */

struct clerk_setup {
	const char *id;
	const char *queues;
	bool in;               /* logged in (available) */
	int tickets;
	mstime_t idle_ms;      /* last_call_end_ms */
};

static const struct {
	const char *what;
	struct clerk_setup clerks[4];
	const char *queue;
	const char *want;      /* "id,clerk,new" */
	const char *status;
} assign_cases[] = {
	{ "fewest tickets, then longest idle",
	  { { "a", Q, true, 2, T0 - 900000 }, { "b", Q, true, 0, T0 - 100000 },
	    { "c", Q, true, 0, T0 - 200000 } }, Q, "2026-000001,c,new", "assigned" },
	{ "equal: the smaller id",
	  { { "b", Q, true, 1, T0 - 100000 }, { "a", Q, true, 1, T0 - 100000 } }, Q,
	  "2026-000001,a,new", "assigned" },
	{ "logged out only when nobody else serves the queue",
	  { { "a", Q, false, 0, T0 - 900000 }, { "b", Q, true, 3, T0 - 1000 } }, Q,
	  "2026-000001,b,new", "assigned" },
	{ "everyone logged out: fewest tickets among them",
	  { { "a", Q, false, 2, T0 - 900000 }, { "b", Q, false, 1, T0 - 1000 } }, Q,
	  "2026-000001,b,new", "assigned" },
	{ "only the queue's clerks",
	  { { "a", "payments", true, 0, T0 - 900000 }, { "b", Q ",payments", true, 5, T0 } }, Q,
	  "2026-000001,b,new", "assigned" },
	{ "nobody serves the queue: open",
	  { { "a", "payments", true, 0, T0 - 900000 } }, Q, "2026-000001,,new", "open" },
	{ "queue \"\": every clerk",
	  { { "a", "payments", true, 0, T0 - 900000 }, { "b", Q, true, 1, T0 } }, "",
	  "2026-000001,a,new", "assigned" },
	{ "no clerks at all", { { NULL } }, Q, "2026-000001,,new", "open" },
};

START_TEST(test_create_assigns)
{
	const struct clerk_setup *cs = assign_cases[_i].clerks;

	for (size_t i = 0; i < 4 && cs[i].id; i++) {
		clerk(cs[i].id, cs[i].queues, cs[i].in);
		clerk_load(cs[i].id, cs[i].tickets, cs[i].idle_ms);
	}
	create("2026-000001", assign_cases[_i].queue, T0 + 3600000, assign_cases[_i].want);
	field_is("ticket:2026-000001", "status", assign_cases[_i].status);
	ck_assert_int_eq(zscore_on(rc, "tickets:open", "2026-000001"), (long long)(T0 + 3600000));
	/* The chosen clerk has one ticket more; the others as before. */
	for (size_t i = 0; i < 4 && cs[i].id; i++) {
		char key[64], want[16], clerkv[64];

		snprintf(key, sizeof(key), "agent:%s", cs[i].id);
		hget_on(rc, "ticket:2026-000001", "clerk", clerkv, sizeof(clerkv));
		snprintf(want, sizeof(want), "%d",
			 cs[i].tickets + (strcmp(clerkv, cs[i].id) == 0 ? 1 : 0));
		field_is(key, "open_tickets", want);
	}
}
END_TEST

START_TEST(test_create_rescores)
{
	char b[24];

	/* a idle longer than b: a first in the ready set, until the ticket goes to a. */
	clerk("a", Q, true);
	clerk("b", Q, true);
	clerk_load("a", 0, T0 - 200000);
	clerk_load("b", 0, T0 - 100000);
	ck_assert_int_eq(zscore_on(rc, "queue:" Q ":ready", "a"), (long long)(T0 - 200000));
	create("2026-000001", Q, T0 + 3600000, "2026-000001,a,new");
	field_is("agent:a", "open_tickets", "1");
	ck_assert_int_eq(zscore_on(rc, "queue:" Q ":ready", "a"),
			 10000000000000ll + (long long)(T0 - 200000));
	redisReply *r = run(AGENTDB_CLAIM, T0, Q, "n1", "call-9", ms(T0 + 30000, b), "1", NULL);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_int_eq(r->elements, 2);
	ck_assert_str_eq(r->element[0]->str, "b");
	freeReplyObject(r);
	/* A clerk on a call still takes tickets: b, with none, gets the next one. */
	create("2026-000002", Q, T0 + 3600000, "2026-000002,b,new");
	field_is("agent:b", "open_tickets", "1");
}
END_TEST

START_TEST(test_create_idempotent)
{
	clerk("a", Q, true);
	clerk("b", Q, true);
	create("2026-000001", Q, T0 + 3600000, "2026-000001,a,new");
	/* The same id again (a replayed spool file) changes nothing, even if b is now better. */
	clerk_load("a", 5, T0);
	create("2026-000001", Q, T0 + 7200000, "2026-000001,a,existing");
	field_is("agent:a", "open_tickets", "5");
	field_is("agent:b", "open_tickets", "0");
	field_is("ticket:2026-000001", "due_ms", "1795987059000");
	ck_assert_int_eq(log_len(rc, "2026-000001"), 1);
	ck_assert_int_eq(events_of(rc, "ticket_created", NULL), 1);
	ck_assert_int_eq(integer_on(rc, "ZCARD " PFX "tickets:open"), 1);
}
END_TEST

START_TEST(test_create_record)
{
	static const struct { const char *field, *value; } want[] = {
		{ "id", "2026-000001" }, { "status", "assigned" }, { "status_ms", "1795983459000" },
		{ "created_ms", "1795983399000" }, { "due_ms", "1795987059000" },
		{ "queue", Q }, { "clerk", "a" }, { "responded_ms", "" }, { "sla_met", "" },
		{ "forward_result", "" }, { "call_id", "call-1" }, { "caller", "0501234567" },
		{ "caller_name", "רות כהן" }, { "called", "1000" }, { "menu_path", "1>3" },
		{ "category", "arnona" }, { "reason", "no-clerk-available" },
		{ "forward", "callcenter" }, { "tried", "dana no_answer 22:15:01" },
		{ "node", "n1" },
	};
	char buf[256];
	redisReply *ev;

	clerk("a", Q, true);
	create("2026-000001", Q, T0 + 3600000, "2026-000001,a,new");
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		field_is("ticket:2026-000001", want[i].field, want[i].value);
	ck_assert_str_eq(log_entry(rc, "2026-000001", 0, buf, sizeof(buf)),
			 "1795983459000|node:n1||assigned|created; assigned to a");
	/* One event with both the call record and the ticket. */
	ck_assert_int_eq(events_of(rc, "ticket_created", &ev), 1);
	event_field_is(ev, "agent", "a");
	event_field_is(ev, "from", "");
	event_field_is(ev, "to", "assigned");
	event_field_is(ev, "call", "call-1");
	event_field_is(ev, "node", "n1");
	event_field_is(ev, "ms", "1795983459000");
	event_field_is(ev, "reason", "no-clerk-available");
	event_field_is(ev, "ticket", "2026-000001");
	event_field_is(ev, "due_ms", "1795987059000");
	event_field_is(ev, "queue", Q);
	event_field_is(ev, "created_ms", "1795983399000");
	event_field_is(ev, "caller", "0501234567");
	event_field_is(ev, "caller_name", "רות כהן");
	event_field_is(ev, "called", "1000");
	event_field_is(ev, "menu_path", "1>3");
	event_field_is(ev, "category", "arnona");
	event_field_is(ev, "forward", "callcenter");
	event_field_is(ev, "tried", "dana no_answer 22:15:01");
	freeReplyObject(ev);
}
END_TEST

START_TEST(test_create_bad_args)
{
	char due[24];

	ms(T0 + 3600000, due);
	ok_err(run(AGENTDB_TICKET_CREATE, T0, "2026 1", Q, due, NULL), "args");
	ok_err(run(AGENTDB_TICKET_CREATE, T0, "", Q, due, NULL), "args");
	ok_err(run(AGENTDB_TICKET_CREATE, T0, "x:y", Q, due, NULL), "args");
	ok_err(run(AGENTDB_TICKET_CREATE, T0, "2026-000001", Q, "soon", NULL), "args");
	ok_err(run(AGENTDB_TICKET_CREATE, T0, "2026-000001", Q, NULL), "args");
	ok_err(run(AGENTDB_TICKET_CREATE, T0, "2026-000001", Q, due, "caller", NULL), "args");
	ok_err(run(AGENTDB_TICKET_CREATE, T0, "2026-000001", Q, due, "status", "closed", NULL),
	       "args");
	ok_err(run(AGENTDB_TICKET_CREATE, T0, "2026-000001", Q, due, "created_ms", "x", NULL),
	       "args");
	/* Nothing was written. */
	ck_assert_int_eq(integer_on(rc, "DBSIZE"), 0);
}
END_TEST

/* Status changes ---------------------------------------------------------------------------------- */

struct step {
	const char *status;
	mstime_t now;
	const char *want;      /* "from,to", or an error word */
};

static const struct {
	const char *what;
	bool with_clerk;
	struct step steps[5];
	const char *open_tickets;   /* a's after the steps */
	bool listed;                /* in tickets:open after the steps */
	const char *responded_ms, *sla_met, *status;
	long long history;          /* entries in the log */
} status_cases2[] = {
	{ "answered in time", true, { { "answered", T0 + 60000, "assigned,answered" } },
	  "0", false, "1795983519000", "1", "answered", 2 },
	{ "answered late", true, { { "answered", T0 + 3700000, "assigned,answered" } },
	  "0", false, "1795987159000", "0", "answered", 2 },
	{ "answered exactly at due", true, { { "answered", T0 + 3600000, "assigned,answered" } },
	  "0", false, "1795987059000", "1", "answered", 2 },
	{ "clarification: SLA met, still open work", true,
	  { { "in_clarification", T0 + 60000, "assigned,in_clarification" } },
	  "1", true, "1795983519000", "1", "in_clarification", 2 },
	{ "clarification, then the answer late: the first response counts", true,
	  { { "in_clarification", T0 + 60000, "assigned,in_clarification" },
	    { "answered", T0 + 9000000, "in_clarification,answered" } },
	  "0", false, "1795983519000", "1", "answered", 3 },
	{ "written channel, then closed", true,
	  { { "written_channel", T0 + 60000, "assigned,written_channel" },
	    { "closed", T0 + 120000, "written_channel,closed" } },
	  "0", false, "1795983519000", "1", "closed", 3 },
	{ "resolved by the call center", true,
	  { { "resolved_by_callcenter", T0 + 60000, "assigned,resolved_by_callcenter" } },
	  "0", false, "1795983519000", "1", "resolved_by_callcenter", 2 },
	{ "closed unanswered: no response", true,
	  { { "closed", T0 + 60000, "assigned,closed" } }, "0", false, "", "", "closed", 2 },
	{ "closed is final", true,
	  { { "closed", T0 + 60000, "assigned,closed" },
	    { "answered", T0 + 70000, "transition" }, { "open", T0 + 70000, "transition" } },
	  "0", false, "", "", "closed", 2 },
	{ "no way back", true,
	  { { "answered", T0 + 60000, "assigned,answered" },
	    { "assigned", T0 + 70000, "transition" },
	    { "in_clarification", T0 + 70000, "transition" } },
	  "0", false, "1795983519000", "1", "answered", 2 },
	{ "assigned is not open again", true, { { "open", T0 + 60000, "transition" } },
	  "1", true, "", "", "assigned", 1 },
	{ "the same status: nothing", true,
	  { { "assigned", T0 + 60000, "assigned,assigned" } }, "1", true, "", "", "assigned", 1 },
	{ "bad status names", true,
	  { { "done", T0 + 60000, "status" }, { "", T0 + 60000, "status" } },
	  "1", true, "", "", "assigned", 1 },
	{ "open, nobody to assign", false, { { "assigned", T0 + 60000, "noclerk" } },
	  "0", true, "", "", "open", 1 },
	{ "open answered without a clerk", false,
	  { { "answered", T0 + 60000, "open,answered" } }, "0", false, "1795983519000", "1",
	  "answered", 2 },
};

START_TEST(test_status_changes)
{
	const char *t = "2026-000007";
	char entry[256], want[256];

	if (status_cases2[_i].with_clerk) {
		clerk("a", Q, true);
		create(t, Q, T0 + 3600000, "2026-000007,a,new");
	} else {
		clerk("a", "payments", true);
		create(t, Q, T0 + 3600000, "2026-000007,,new");
	}
	for (size_t i = 0; i < ARRAY_SIZE(status_cases2[_i].steps); i++) {
		const struct step *st = &status_cases2[_i].steps[i];
		long long before = log_len(rc, t);
		redisReply *r;

		if (!st->status)
			break;
		r = run(AGENTDB_TICKET_STATUS, st->now, t, st->status, "deskctl:ron", "called back",
			NULL);
		if (!strchr(st->want, ',')) {
			ok_err(r, st->want);
			ck_assert_int_eq(log_len(rc, t), before);
			continue;
		}
		ok_list(r, st->want);
		if (strcmp(st->want, "assigned,assigned") == 0)
			continue;
		/* Each change is one history entry: when, who, from, to, the note. */
		snprintf(want, sizeof(want), "%" PRIu64 "|deskctl:ron|%.*s|%s|called back", st->now,
			 (int)(strchr(st->want, ',') - st->want), st->want, st->status);
		ck_assert_str_eq(log_entry(rc, t, -1, entry, sizeof(entry)), want);
	}
	field_is("ticket:2026-000007", "status", status_cases2[_i].status);
	field_is("ticket:2026-000007", "responded_ms", status_cases2[_i].responded_ms);
	field_is("ticket:2026-000007", "sla_met", status_cases2[_i].sla_met);
	field_is("agent:a", "open_tickets", status_cases2[_i].open_tickets);
	ck_assert_int_eq(zscore_on(rc, "tickets:open", t) >= 0, status_cases2[_i].listed);
	ck_assert_int_eq(log_len(rc, t), status_cases2[_i].history);
}
END_TEST

START_TEST(test_status_assigns_later)
{
	char entry[256];
	redisReply *ev;

	/* Nobody served the queue when the ticket was opened; now someone does. */
	create("2026-000001", Q, T0 + 3600000, "2026-000001,,new");
	clerk("b", Q, false);
	clerk("a", Q, true);
	clerk_load("a", 2, T0);
	ok_list(run(AGENTDB_TICKET_STATUS, T0 + 1000, "2026-000001", "assigned", "deskctl:ron",
		    "", NULL), "open,assigned");
	/* a is logged in: b (logged out, fewer tickets) only when nobody else serves. */
	field_is("ticket:2026-000001", "clerk", "a");
	field_is("agent:a", "open_tickets", "3");
	field_is("agent:b", "open_tickets", "0");
	ck_assert_str_eq(log_entry(rc, "2026-000001", -1, entry, sizeof(entry)),
			 "1795983460000|deskctl:ron|open|assigned|assigned to a");
	ck_assert_int_eq(events_of(rc, "ticket_status", &ev), 1);
	event_field_is(ev, "agent", "a");
	event_field_is(ev, "from", "open");
	event_field_is(ev, "to", "assigned");
	event_field_is(ev, "ticket", "2026-000001");
	event_field_is(ev, "by", "deskctl:ron");
	event_field_is(ev, "call", "call-1");
	freeReplyObject(ev);
	/* Leaving the open statuses gives the ticket back. */
	ok_list(run(AGENTDB_TICKET_STATUS, T0 + 2000, "2026-000001", "answered", "deskctl:ron",
		    "", NULL), "assigned,answered");
	field_is("agent:a", "open_tickets", "2");
	ck_assert_int_eq(events_of(rc, "ticket_status", &ev), 2);
	event_field_is(ev, "sla_met", "1");
	freeReplyObject(ev);
	ok_err(run(AGENTDB_TICKET_STATUS, T0, "2026-000099", "closed", "deskctl:ron", "", NULL),
	       "unknown");
}
END_TEST

START_TEST(test_note)
{
	char entry[256];
	redisReply *ev;

	clerk("a", Q, true);
	create("2026-000001", Q, T0 + 3600000, "2026-000001,a,new");
	ck_assert_int_eq(ok_int(run(AGENTDB_TICKET_NOTE, T0 + 5000, "2026-000001",
				    "forward_result", "486 Busy Here", "node:n1", NULL)), 1);
	field_is("ticket:2026-000001", "forward_result", "486 Busy Here");
	field_is("ticket:2026-000001", "status", "assigned");
	ck_assert_int_eq(log_len(rc, "2026-000001"), 2);
	ck_assert_str_eq(log_entry(rc, "2026-000001", -1, entry, sizeof(entry)),
			 "1795983464000|node:n1|assigned|assigned|forward_result=486 Busy Here");
	ck_assert_int_eq(events_of(rc, "ticket_note", &ev), 1);
	event_field_is(ev, "ticket", "2026-000001");
	event_field_is(ev, "field", "forward_result");
	event_field_is(ev, "value", "486 Busy Here");
	event_field_is(ev, "by", "node:n1");
	freeReplyObject(ev);
	/* A line break in a note stays on one history line. */
	ck_assert_int_eq(ok_int(run(AGENTDB_TICKET_NOTE, T0 + 6000, "2026-000001", "remark",
				    "a|b\r\nc", "deskctl:ron", NULL)), 1);
	ck_assert_str_eq(log_entry(rc, "2026-000001", -1, entry, sizeof(entry)),
			 "1795983465000|deskctl:ron|assigned|assigned|remark=a|b  c");
	field_is("ticket:2026-000001", "remark", "a|b\r\nc");

	ok_err(run(AGENTDB_TICKET_NOTE, T0, "2026-000002", "forward_result", "x", "n", NULL),
	       "unknown");
	ok_err(run(AGENTDB_TICKET_NOTE, T0, "2026-000001", "status", "closed", "n", NULL), "args");
	ok_err(run(AGENTDB_TICKET_NOTE, T0, "2026-000001", "clerk", "b", "n", NULL), "args");
	ok_err(run(AGENTDB_TICKET_NOTE, T0, "2026-000001", "Bad Field", "x", "n", NULL), "args");
	ok_err(run(AGENTDB_TICKET_NOTE, T0, "2026-000001", "forward_result", NULL), "args");
	field_is("ticket:2026-000001", "status", "assigned");
	field_is("ticket:2026-000001", "clerk", "a");
}
END_TEST

/* The mail ---------------------------------------------------------------------------------------- */

/** RFC 4648 base64 → bytes appended to @p out. @return false on a bad character. */
static bool b64_decode(const char *s, size_t n, char *out, size_t *len)
{
	unsigned v = 0;
	int bits = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *alpha =
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *p = strchr(alpha, s[i]);

		if (!p || !s[i])
			return false;
		v = (v << 6) | (unsigned)(p - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[(*len)++] = (char)((v >> bits) & 0xff);
		}
	}
	return true;
}

/**
 * The value of header @p name in @p msg, unfolded (RFC 5322 §2.2.3) and with RFC 2047 "B"
 * encoded-words decoded; white space between two adjacent encoded-words is dropped (§6.2).
 */
static bool header_value(const char *msg, const char *name, char *out, size_t size)
{
	char unfolded[8192];
	const char *end = strstr(msg, "\r\n\r\n"), *h = NULL, *eol;
	size_t n = 0, len = 0, nlen = strlen(name);
	bool prev_word = false;

	ck_assert_ptr_nonnull(end);
	unfolded[n++] = '\n';   /* every header line now follows a '\n' */
	for (const char *p = msg; p < end + 2 && n + 1 < sizeof(unfolded); p++) {
		if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
			p++;   /* the CRLF goes, the white space stays */
			continue;
		}
		unfolded[n++] = *p;
	}
	unfolded[n] = '\0';
	for (const char *p = unfolded; !h && (p = strchr(p, '\n')); p++)
		if (strncmp(p + 1, name, nlen) == 0 && strncmp(p + 1 + nlen, ": ", 2) == 0)
			h = p + 3 + nlen;
	if (!h)
		return false;
	eol = strchr(h, '\r');
	ck_assert_ptr_nonnull(eol);
	while (h < eol && len + 1 < size) {
		const char *ws = h;

		while (h < eol && (*h == ' ' || *h == '\t'))
			h++;
		if (strncasecmp(h, "=?UTF-8?B?", 10) == 0) {
			const char *txt = h + 10, *q = strstr(txt, "?=");

			ck_assert_msg(q && q < eol, "unterminated encoded-word");
			ck_assert_uint_lt(len + (size_t)(q - txt), size);
			if (!prev_word)
				while (ws < h)
					out[len++] = *ws++;
			ck_assert(b64_decode(txt, (size_t)(q - txt), out, &len));
			h = q + 2;
			prev_word = true;
			continue;
		}
		while (ws < h && len + 1 < size)
			out[len++] = *ws++;
		while (h < eol && *h != ' ' && *h != '\t' && len + 1 < size)
			out[len++] = *h++;
		prev_word = false;
	}
	out[len] = '\0';
	return true;
}

/** CRLF only, no line over 998 bytes (RFC 5322 §2.1.1, §2.3). */
static void check_lines(const char *msg, size_t len)
{
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n')
			ck_assert_msg(i > 0 && msg[i - 1] == '\r', "bare LF at %zu", i);
		if (msg[i] == '\r')
			ck_assert_msg(i + 1 < len && msg[i + 1] == '\n', "bare CR at %zu", i);
		if (msg[i] == '\r') {
			ck_assert_msg(line <= 998, "line of %zu bytes", line);
			line = 0;
			i++;
			continue;
		}
		line++;
	}
	ck_assert_int_eq(line, 0);   /* ends with CRLF */
	ck_assert_uint_eq(strlen(msg), len);
}

static const struct ticket_new mail_tn = {
	.call_id = "a84b4c76e66710@pc33.example.org",
	.caller = "0501234567",
	.caller_name = "רות כהן",
	.called = "1000",
	.menu_path = "1 arnona > 3 clerk",
	.category = "ארנונה",
	.queue = Q,
	.reason = "no-clerk-available",
	.forward = "callcenter",
	.tried = "dana no_answer 22:15:01; yossi busy 22:15:20",
	.created_ms = T0 - 60000,
};

static const struct {
	const char *what;
	struct ticket_opened t;
	const char *clerk_name;
	size_t n_to;
	const char *assigned;      /* the value of the assigned clerk line */
} mail_cases[] = {
	{ "assigned", { "2026-000123", "dana", 1795960800000ull, false }, "Dana Levi", 2,
	  "Dana Levi (dana)" },
	{ "assigned, no display name", { "2026-000123", "dana", 1795960800000ull, false }, NULL, 2,
	  "dana" },
	{ "spooled", { "2026-pbx1-0007", "", 1795960800000ull, true }, NULL, 1, "(pending)" },
	{ "nobody serves the queue", { "2026-000123", "", 1795960800000ull, false }, NULL, 1,
	  "(none: nobody serves the queue)" },
};

START_TEST(test_mail_format)
{
	static const char *const to[] = { "gvia@council.example", "dana@council.example" };
	const struct ticket_opened *t = &mail_cases[_i].t;
	char buf[16384], v[2048], want[512];
	int len;

	len = ticket_format_mail(buf, sizeof(buf), "deskline@council.example", to,
				 mail_cases[_i].n_to, &mail_tn, t, "2026-11-29 16:00",
				 mail_cases[_i].clerk_name, (time_t)(T0 / 1000));
	ck_assert_int_gt(len, 0);
	check_lines(buf, (size_t)len);

	ck_assert(header_value(buf, "From", v, sizeof(v)));
	ck_assert_str_eq(v, "deskline@council.example");
	ck_assert(header_value(buf, "To", v, sizeof(v)));
	ck_assert_str_eq(v, mail_cases[_i].n_to == 2 ?
			 "gvia@council.example, dana@council.example" : "gvia@council.example");
	ck_assert(header_value(buf, "Subject", v, sizeof(v)));
	snprintf(want, sizeof(want), "פנייה חדשה / New inquiry %s — due 2026-11-29 16:00", t->id);
	ck_assert_str_eq(v, want);
	ck_assert(header_value(buf, "Date", v, sizeof(v)));
	ck_assert_str_eq(v, "Sun, 29 Nov 2026 22:17:39 +0200");
	ck_assert(header_value(buf, "Message-ID", v, sizeof(v)));
	snprintf(want, sizeof(want), "<%s.1795983459@deskline>", t->id);
	ck_assert_str_eq(v, want);
	ck_assert(header_value(buf, "MIME-Version", v, sizeof(v)));
	ck_assert_str_eq(v, "1.0");
	ck_assert(header_value(buf, "Content-Type", v, sizeof(v)));
	ck_assert_str_eq(v, "text/plain; charset=UTF-8");
	ck_assert(header_value(buf, "Content-Transfer-Encoding", v, sizeof(v)));
	ck_assert_str_eq(v, "8bit");
	/* The Subject itself is encoded: no raw UTF-8 in any header. */
	for (const char *p = buf; p < strstr(buf, "\r\n\r\n"); p++)
		ck_assert_msg((unsigned char)*p < 0x80, "8-bit byte in the headers");

	/* The body: every field, one line each, in this order. */
	const char *lines[] = {
		"מספר פנייה / Ticket: %s",
		"התקבלה / Received: 2026-11-29 22:16",
		"מועד יעד / Due: 2026-11-29 16:00 (end of the business day, Procedure 46 §6)",
		"מספר הפונה / Caller number: 0501234567",
		"שם הפונה / Caller name: רות כהן",
		"המספר שחויג / Number called: 1000",
		"מזהה שיחה / Call-ID: a84b4c76e66710@pc33.example.org",
		"מסלול בתפריט / Menu path: 1 arnona > 3 clerk",
		"נושא / Category: ארנונה",
		"סיבה / Reason: no-clerk-available",
		"הועברה אל / Forwarded to: callcenter",
		"פקידים שנוסו / Clerks tried: dana no_answer 22:15:01; yossi busy 22:15:20",
		"פקיד מטפל / Assigned clerk: %s",
	};
	const char *p = strstr(buf, "\r\n\r\n") + 4;

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		char line[512];

		snprintf(line, sizeof(line), lines[i],
			 i == 0 ? t->id : mail_cases[_i].assigned);
		ck_assert_msg(strncmp(p, line, strlen(line)) == 0 &&
			      strncmp(p + strlen(line), "\r\n", 2) == 0,
			      "body line %zu: want \"%s\", got \"%.80s\"", i, line, p);
		p += strlen(line) + 2;
	}
	ck_assert_str_eq(p, "");
}
END_TEST

START_TEST(test_mail_hostile_values)
{
	static const char *const to[] = { "gvia@council.example\r\nBcc: x@evil.example" };
	char tried[4000], buf[16384], v[2048];
	struct ticket_new tn = mail_tn;
	const struct ticket_opened t = { "2026-000123", "", 1795960800000ull, false };
	size_t n = 0;
	int len;

	/* 3000+ bytes of Hebrew and ASCII: wraps between characters, never past 998. */
	while (n + 40 < sizeof(tried) - 1000) {
		memcpy(tried + n, "דנה no_answer 22:15:01; ", strlen("דנה no_answer 22:15:01; "));
		n += strlen("דנה no_answer 22:15:01; ");
	}
	tried[n] = '\0';
	tn.tried = tried;
	tn.caller_name = "Evil\r\nBcc: y@evil.example\n\x01";
	tn.reason = "bad \xff\xfe utf-8 \xe0\x80\x80";
	len = ticket_format_mail(buf, sizeof(buf), "deskline@council.example\r\nX-Injected: 1",
				 to, 1, &tn, &t, "2026-11-29\r\n16:00", NULL, (time_t)(T0 / 1000));
	ck_assert_int_gt(len, 0);
	check_lines(buf, (size_t)len);
	ck_assert_ptr_null(strstr(buf, "\r\nBcc:"));
	ck_assert_ptr_null(strstr(buf, "\r\nX-Injected:"));
	ck_assert(header_value(buf, "From", v, sizeof(v)));
	ck_assert_str_eq(v, "deskline@council.exampleX-Injected: 1");
	ck_assert(header_value(buf, "To", v, sizeof(v)));
	ck_assert_str_eq(v, "gvia@council.exampleBcc: x@evil.example");
	ck_assert(header_value(buf, "Subject", v, sizeof(v)));
	ck_assert_str_eq(v, "פנייה חדשה / New inquiry 2026-000123 — due 2026-11-2916:00");
	ck_assert_ptr_nonnull(strstr(buf, "\r\nשם הפונה / Caller name: Evil  Bcc: y@evil.example  "
				     "\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nסיבה / Reason: bad ?? utf-8 ???\r\n"));

	/* The tried list comes back whole once the continuation lines are joined. */
	const char *label = "\r\nפקידים שנוסו / Clerks tried: ";
	const char *s = strstr(buf, label);
	char joined[4000];
	size_t j = 0, lines = 1;

	ck_assert_ptr_nonnull(s);
	s += strlen(label);
	for (;;) {
		if (strncmp(s, "\r\n  ", 4) == 0) {
			s += 4;
			lines++;
			continue;
		}
		if (strncmp(s, "\r\n", 2) == 0)
			break;
		joined[j++] = *s++;
	}
	joined[j] = '\0';
	ck_assert_str_eq(joined, tried);
	ck_assert_uint_ge(lines, 4);
}
END_TEST

START_TEST(test_mail_buffer_size)
{
	static const char *const to[] = { "gvia@council.example" };
	const struct ticket_opened t = { "2026-000123", "dana", 1795960800000ull, false };
	char full[16384], small[16384];
	int len, n;

	len = ticket_format_mail(full, sizeof(full), "a@b", to, 1, &mail_tn, &t,
				 "2026-11-29 16:00", "Dana", 0);
	ck_assert_int_gt(len, 200);
	/* Exactly enough (with the NUL) works and gives the same bytes; one less does not. */
	n = ticket_format_mail(small, (size_t)len + 1, "a@b", to, 1, &mail_tn, &t,
			       "2026-11-29 16:00", "Dana", 0);
	ck_assert_int_eq(n, len);
	ck_assert_int_eq(memcmp(small, full, (size_t)len + 1), 0);
	ck_assert_int_eq(ticket_format_mail(small, (size_t)len, "a@b", to, 1, &mail_tn, &t,
					    "2026-11-29 16:00", "Dana", 0), -1);
	ck_assert_int_eq(ticket_format_mail(small, 10, "a@b", to, 1, &mail_tn, &t,
					    "2026-11-29 16:00", "Dana", 0), -1);
	ck_assert_int_eq(ticket_format_mail(small, sizeof(small), "a@b", to, 1, NULL, &t,
					    "2026-11-29 16:00", "Dana", 0), -1);
}
END_TEST

/* The service ----------------------------------------------------------------------------------- */

static struct dl_clerk cfg_clerks[] = {
	{ .id = "dana", .extension = "201", .name = "Dana Levi", .email = "dana@council.example" },
	{ .id = "yossi", .extension = "202", .name = "Yossi Cohen", .email = "" },
};

/** A configuration by hand (the loader is not under test): never freed, one reference kept. */
static struct dl_config cfg = {
	.clerks = cfg_clerks,
	.n_clerks = 2,
	.calendar = {
		.timezone = "Asia/Jerusalem",
		.week = { { 480, 960 }, { 480, 960 }, { 480, 960 }, { 480, 960 }, { 480, 900 } },
	},
	.tickets = { .department_email = "gvia@council.example" },
	.smtp = { .from = "deskline@council.example" },
	.redis_prefix = PFX,
	.refs = 1,
};

static su_root_t *root;
static char svc_dir[64], spool_dir[128], mail_dir[128];
static struct redis_server svc_server;
static redisContext *svc_rc;    /* checks, once the server runs */
static struct outbox *ob;
static int in_api;

/** One node: its Redis client and ticket service. */
struct node {
	const char *name;
	struct dl_redis *redis;
	struct tickets *t;
	bool up;
};

static void on_redis_state(bool up, void *arg)
{
	struct node *n = arg;

	n->up = up;
	if (up && n->t)
		tickets_redis_up(n->t);
}

/** What a ticket handler saw. */
struct opened {
	int calls;
	bool inside;        /* called from inside ticket_open() */
	int err;
	struct ticket_opened res;
};

static void on_opened(int err, const struct ticket_opened *t, void *arg)
{
	struct opened *o = arg;

	o->calls++;
	o->inside |= in_api > 0;
	o->err = err;
	o->res = *t;
}

static void svc_setup(void)
{
	static const struct outbox_smtp smtp = {
		.url = "smtp://127.0.0.1:1", .from = "deskline@council.example",
		.timeout_ms = 1000,
	};

	ck_assert_int_eq(su_init(), 0);
	root = su_root_create(NULL);
	ck_assert_ptr_nonnull(root);
	snprintf(svc_dir, sizeof(svc_dir), "/tmp/dl-ticket-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(svc_dir));
	snprintf(spool_dir, sizeof(spool_dir), "%s/spool", svc_dir);
	snprintf(mail_dir, sizeof(mail_dir), "%s/mail", svc_dir);
	cfg.tickets.spool_dir = spool_dir;
	memset(&svc_server, 0, sizeof(svc_server));
	ck_assert_int_eq(outbox_alloc(&ob, mail_dir, &smtp), 0);
	svc_rc = NULL;
	in_api = 0;
}

static int rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[512];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	if (d)
		closedir(d);
	return rmdir(path);
}

static void svc_teardown(void)
{
	outbox_free(ob);
	ob = NULL;
	if (svc_rc)
		redisFree(svc_rc);
	svc_rc = NULL;
	redis_server_stop(&svc_server);
	rm_tree(svc_dir);
	su_root_destroy(root);
	root = NULL;
	su_deinit();
}

/** Start this test's own redis-server (in svc_dir) and connect the checking client. */
static void svc_server_start(void)
{
	ck_assert_int_eq(redis_server_start(&svc_server, svc_dir), 0);
	svc_rc = connect_to(svc_server.path);
}

static void node_start(struct node *n, const char *name)
{
	char address[160];

	memset(n, 0, sizeof(*n));
	n->name = name;
	snprintf(address, sizeof(address), "unix:%s/redis.sock", svc_dir);
	ck_assert_int_eq(dl_redis_alloc(&n->redis, root, address, on_redis_state, n), 0);
	ck_assert_int_eq(tickets_alloc(&n->t, root, n->redis, ob, &cfg, name), 0);
}

static void node_stop(struct node *n)
{
	tickets_free(n->t);
	dl_redis_free(n->redis);
	n->t = NULL;
	n->redis = NULL;
}

static bool run_until(const bool *flag, int timeout_ms)
{
	long long deadline = redis_server_now_ms() + timeout_ms;

	while (!*flag) {
		if (redis_server_now_ms() >= deadline)
			return false;
		su_root_step(root, 10);
	}
	return true;
}

static bool run_until_calls(const struct opened *o, int calls, int timeout_ms)
{
	long long deadline = redis_server_now_ms() + timeout_ms;

	while (o->calls < calls) {
		if (redis_server_now_ms() >= deadline)
			return false;
		su_root_step(root, 10);
	}
	return true;
}

static void run_for(int ms_)
{
	long long deadline = redis_server_now_ms() + ms_;

	while (redis_server_now_ms() < deadline)
		su_root_step(root, 5);
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int this_year(void)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	return tm.tm_year + 1900;
}

static struct ticket_new sample(uint64_t created_ms)
{
	struct ticket_new tn = mail_tn;

	tn.created_ms = created_ms;
	return tn;
}

static void open_ticket(struct node *n, const struct ticket_new *tn, struct opened *o)
{
	memset(o, 0, sizeof(*o));
	in_api++;
	ck_assert_int_eq(ticket_open(n->t, tn, on_opened, o), 0);
	in_api--;
	ck_assert_int_eq(o->calls, 0);   /* never from inside ticket_open() */
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void spool_path(const char *id, char *buf, size_t size)
{
	ck_assert_uint_lt((size_t)snprintf(buf, size, "%s/tickets/%s.ticket", spool_dir, id), size);
}

/** Files under @p dir (and its subdirectories) holding every one of @p needles. */
static int files_with(const char *dir, const char *const *needles)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char p[512], *text;
		struct stat st;
		bool all = true;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			n += files_with(p, needles);
			continue;
		}
		text = calloc(1, (size_t)st.st_size + 1);
		f = fopen(p, "r");
		if (text && f && fread(text, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
			for (size_t i = 0; needles[i]; i++)
				if (!strstr(text, needles[i]))
					all = false;
			n += all;
		}
		if (f)
			fclose(f);
		free(text);
	}
	if (d)
		closedir(d);
	return n;
}

/**
 * Mails in the outbox holding every one of the NULL-terminated strings. The outbox's file
 * format is its own; the message is in it verbatim.
 */
static int mails_with(const char *dir, ...)
{
	const char *needles[8];
	size_t k = 0;
	va_list ap;

	va_start(ap, dir);
	while (k + 1 < ARRAY_SIZE(needles) && (needles[k] = va_arg(ap, const char *)))
		k++;
	va_end(ap);
	needles[k] = NULL;
	return files_with(dir, needles);
}

START_TEST(test_open_redis_up)
{
	struct node n;
	struct opened o;
	struct ticket_new tn;
	char id[32], line[256];
	time_t due_s;

	svc_server_start();
	clerk_on(svc_rc, "dana", Q, true);
	clerk_on(svc_rc, "yossi", Q, true);
	field_is_on(svc_rc, "agent:yossi", "open_tickets", "0");
	node_start(&n, "pbx1");
	ck_assert(run_until(&n.up, WAIT_MS));

	tn = sample(wall_ms());
	open_ticket(&n, &tn, &o);
	ck_assert(run_until_calls(&o, 1, WAIT_MS));
	ck_assert(!o.inside);
	ck_assert_int_eq(o.err, 0);
	snprintf(id, sizeof(id), "%04d-000001", this_year());
	ck_assert_str_eq(o.res.id, id);
	ck_assert_str_eq(o.res.clerk, "dana");      /* equal load: the smaller id */
	ck_assert(!o.res.spooled);
	ck_assert_int_eq(calendar_due_at(&cfg.calendar, (time_t)(tn.created_ms / 1000), &due_s), 0);
	ck_assert_uint_eq(o.res.due_ms, (uint64_t)due_s * 1000u);

	char key[64], due[24];
	snprintf(key, sizeof(key), "ticket:%s", id);
	field_is_on(svc_rc, key, "status", "assigned");
	field_is_on(svc_rc, key, "clerk", "dana");
	field_is_on(svc_rc, key, "node", "pbx1");
	field_is_on(svc_rc, key, "due_ms", ms(o.res.due_ms, due));
	field_is_on(svc_rc, key, "caller_name", "רות כהן");
	field_is_on(svc_rc, "agent:dana", "open_tickets", "1");
	snprintf(line, sizeof(line), "מספר פנייה / Ticket: %s\r\n", id);
	ck_assert_int_eq(mails_with(mail_dir, line, "Dana Levi (dana)", "gvia@council.example",
				    "dana@council.example", NULL), 1);
	ck_assert_uint_eq(outbox_pending(ob), 1);
	spool_path(id, line, sizeof(line));
	ck_assert(!file_exists(line));

	/* The next one goes to yossi, who has no mail address: the department only. */
	tn = sample(wall_ms());
	open_ticket(&n, &tn, &o);
	ck_assert(run_until_calls(&o, 1, WAIT_MS));
	snprintf(id, sizeof(id), "%04d-000002", this_year());
	ck_assert_str_eq(o.res.id, id);
	ck_assert_str_eq(o.res.clerk, "yossi");
	ck_assert_int_eq(mails_with(mail_dir, id, "Yossi Cohen (yossi)", NULL), 1);
	ck_assert_int_eq(mails_with(mail_dir, id, "dana@council.example", NULL), 0);
	ck_assert_uint_eq(outbox_pending(ob), 2);

	/* The forwarded call's outcome, noted in the ticket. */
	ticket_note(n.t, id, "forward_result", "486 Busy Here");
	run_for(200);
	snprintf(key, sizeof(key), "ticket:%s", id);
	field_is_on(svc_rc, key, "forward_result", "486 Busy Here");
	node_stop(&n);
}
END_TEST

START_TEST(test_open_redis_down_then_replay)
{
	struct node n;
	struct opened o;
	struct ticket_new tn;
	char id[32], path[256], saved[4096], key[64];
	FILE *f;
	size_t saved_len;

	/* No server yet: the client keeps trying. */
	node_start(&n, "pbx1");
	run_for(50);
	ck_assert(!n.up);

	tn = sample(wall_ms());
	open_ticket(&n, &tn, &o);
	ck_assert(run_until_calls(&o, 1, WAIT_MS));
	ck_assert(!o.inside);
	ck_assert_int_eq(o.err, 0);
	ck_assert(o.res.spooled);
	ck_assert_str_eq(o.res.clerk, "");
	snprintf(id, sizeof(id), "%04d-pbx1-0001", this_year());
	ck_assert_str_eq(o.res.id, id);
	spool_path(id, path, sizeof(path));
	ck_assert(file_exists(path));
	/* The mail went out at once, to the department only. */
	ck_assert_int_eq(mails_with(mail_dir, id, "פקיד מטפל / Assigned clerk: (pending)\r\n",
				    "gvia@council.example", NULL), 1);
	ck_assert_int_eq(mails_with(mail_dir, "dana@council.example", NULL), 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	saved_len = fread(saved, 1, sizeof(saved), f);
	fclose(f);
	ck_assert_uint_gt(saved_len, 0);

	/* Redis comes: the ticket is replayed (clerks first, as presence syncs them). */
	svc_server_start();
	clerk_on(svc_rc, "dana", Q, true);
	ck_assert(run_until(&n.up, WAIT_MS));
	for (int i = 0; i < 500 && file_exists(path); i++)
		su_root_step(root, 10);
	ck_assert(!file_exists(path));
	snprintf(key, sizeof(key), "ticket:%s", id);
	field_is_on(svc_rc, key, "status", "assigned");
	field_is_on(svc_rc, key, "clerk", "dana");
	field_is_on(svc_rc, key, "node", "pbx1");
	field_is_on(svc_rc, key, "caller", "0501234567");
	field_is_on(svc_rc, key, "caller_name", "רות כהן");
	field_is_on(svc_rc, key, "tried", "dana no_answer 22:15:01; yossi busy 22:15:20");
	field_is_on(svc_rc, "agent:dana", "open_tickets", "1");

	/* The same file again, replayed twice at once: nothing is created twice. */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(saved, 1, saved_len, f), saved_len);
	fclose(f);
	tickets_redis_up(n.t);
	tickets_redis_up(n.t);
	for (int i = 0; i < 500 && file_exists(path); i++)
		su_root_step(root, 10);
	run_for(100);
	ck_assert(!file_exists(path));
	field_is_on(svc_rc, "agent:dana", "open_tickets", "1");
	ck_assert_int_eq(events_of(svc_rc, "ticket_created", NULL), 1);
	ck_assert_int_eq(log_len(svc_rc, id), 1);
	/* Still one mail: a replay sends none. */
	ck_assert_uint_eq(outbox_pending(ob), 1);
	node_stop(&n);
}
END_TEST

START_TEST(test_id_pool)
{
	struct node a, b;
	struct opened o;
	struct ticket_new tn;
	char seen[40][32];
	int year = this_year();

	svc_server_start();
	/* One after the other, so the blocks are known: a 1-20, b 21-40. */
	node_start(&a, "pbx1");
	ck_assert(run_until(&a.up, WAIT_MS));
	for (int i = 0; i < 500 && integer_on(svc_rc, "EXISTS " PFX "ticket:seq:%d", year) == 0; i++)
		su_root_step(root, 10);
	node_start(&b, "pbx2");
	ck_assert(run_until(&b.up, WAIT_MS));
	run_for(100);
	redisReply *seq = redisCommand(svc_rc, "GET " PFX "ticket:seq:%d", year);
	ck_assert_ptr_nonnull(seq);
	ck_assert_str_eq(seq->str, "40");
	freeReplyObject(seq);

	/* 25 tickets on a: its first block (1-20), then its next one (41-60: b took 21-40). */
	for (int i = 0; i < 25; i++) {
		char want[32];

		tn = sample(wall_ms());
		open_ticket(&a, &tn, &o);
		ck_assert(run_until_calls(&o, 1, WAIT_MS));
		ck_assert_int_eq(o.err, 0);
		snprintf(want, sizeof(want), "%04d-%06d", year, i < 20 ? i + 1 : i + 21);
		ck_assert_str_eq(o.res.id, want);
		snprintf(seen[i], sizeof(seen[i]), "%s", o.res.id);
	}
	for (int i = 0; i < 5; i++) {
		char want[32];

		tn = sample(wall_ms());
		open_ticket(&b, &tn, &o);
		ck_assert(run_until_calls(&o, 1, WAIT_MS));
		snprintf(want, sizeof(want), "%04d-%06d", year, 21 + i);
		ck_assert_str_eq(o.res.id, want);
		for (int k = 0; k < 25; k++)
			ck_assert_str_ne(o.res.id, seen[k]);
	}
	ck_assert_int_eq(integer_on(svc_rc, "ZCARD " PFX "tickets:open"), 30);

	/* A ticket of the next year: a fresh count, from 1. */
	struct tm tm = { .tm_year = year + 1 - 1900, .tm_mon = 0, .tm_mday = 1, .tm_hour = 9,
			 .tm_isdst = -1 };
	tn = sample((uint64_t)mktime(&tm) * 1000u);
	open_ticket(&a, &tn, &o);
	ck_assert(run_until_calls(&o, 1, WAIT_MS));
	char want[32];
	snprintf(want, sizeof(want), "%04d-000001", year + 1);
	ck_assert_str_eq(o.res.id, want);
	ck_assert(!o.res.spooled);
	/* Then one stamped in the year before (a call begun before midnight): an id of its own
	 * year from the local counter, created in Redis all the same; the new year's pool stays. */
	tn = sample(wall_ms());
	open_ticket(&a, &tn, &o);
	ck_assert(run_until_calls(&o, 1, WAIT_MS));
	snprintf(want, sizeof(want), "%04d-pbx1-0001", year);
	ck_assert_str_eq(o.res.id, want);
	ck_assert(!o.res.spooled);
	char key[64];
	snprintf(key, sizeof(key), "ticket:%s", want);
	field_is_on(svc_rc, key, "status", "open");   /* no clerks in this test */
	tn = sample((uint64_t)mktime(&tm) * 1000u);
	open_ticket(&a, &tn, &o);
	ck_assert(run_until_calls(&o, 1, WAIT_MS));
	snprintf(want, sizeof(want), "%04d-000002", year + 1);
	ck_assert_str_eq(o.res.id, want);
	node_stop(&a);
	node_stop(&b);
}
END_TEST

START_TEST(test_local_ids_persist)
{
	struct node n;
	struct opened o;
	struct ticket_new tn;
	char want[32];
	int year = this_year();

	for (int round = 0; round < 2; round++) {
		/* A restart in between: the counter is on disk. */
		node_start(&n, "pbx1");
		for (int i = 0; i < 2; i++) {
			tn = sample(wall_ms());
			open_ticket(&n, &tn, &o);
			ck_assert(run_until_calls(&o, 1, WAIT_MS));
			ck_assert(o.res.spooled);
			snprintf(want, sizeof(want), "%04d-pbx1-%04d", year, round * 2 + i + 1);
			ck_assert_str_eq(o.res.id, want);
		}
		node_stop(&n);
	}
	/* A long node name still gives a unique id that fits. */
	node_start(&n, "deskline-node-with-a-very-long-name.example.org");
	tn = sample(wall_ms());
	open_ticket(&n, &tn, &o);
	ck_assert(run_until_calls(&o, 1, WAIT_MS));
	ck_assert_int_eq(o.err, 0);
	ck_assert(o.res.spooled);
	snprintf(want, sizeof(want), "%04d-deskline", year);
	ck_assert_int_eq(strncmp(o.res.id, want, strlen(want)), 0);
	ck_assert_uint_eq(strlen(o.res.id), 4 + 1 + 16 + 1 + 4);
	node_stop(&n);
	ck_assert_uint_eq(outbox_pending(ob), 5);
}
END_TEST

/** tickets_free() with a create in flight. */
static struct opened freed_in_handler;

static void on_opened_free(int err, const struct ticket_opened *t, void *arg)
{
	struct node *n = arg;

	on_opened(err, t, &freed_in_handler);
	tickets_free(n->t);   /* from inside the handler */
	n->t = NULL;
}

START_TEST(test_free_in_flight)
{
	struct node n;
	struct opened o;
	struct ticket_new tn;
	char path[256];

	svc_server_start();
	clerk_on(svc_rc, "dana", Q, true);
	node_start(&n, "pbx1");
	ck_assert(run_until(&n.up, WAIT_MS));
	run_for(100);

	/* Sent to Redis, then the service goes before the reply: spooled, handler run. */
	tn = sample(wall_ms());
	open_ticket(&n, &tn, &o);
	tickets_free(n.t);
	n.t = NULL;
	ck_assert_int_eq(o.calls, 1);
	ck_assert_int_eq(o.err, 0);
	ck_assert(o.res.spooled);
	spool_path(o.res.id, path, sizeof(path));
	ck_assert(file_exists(path));
	ck_assert_int_eq(mails_with(mail_dir, o.res.id, "(pending)", NULL), 1);
	run_for(100);   /* the reply comes to an orphan */

	/* A new service replays it (Redis did create it: "existing"). */
	ck_assert_int_eq(tickets_alloc(&n.t, root, n.redis, ob, &cfg, "pbx1"), 0);
	for (int i = 0; i < 500 && file_exists(path); i++)
		su_root_step(root, 10);
	ck_assert(!file_exists(path));
	field_is_on(svc_rc, "agent:dana", "open_tickets", "1");

	/* Freed from inside a handler. */
	freed_in_handler.calls = 0;
	tn = sample(wall_ms());
	in_api++;
	ck_assert_int_eq(ticket_open(n.t, &tn, on_opened_free, &n), 0);
	in_api--;
	for (int i = 0; i < 500 && freed_in_handler.calls == 0; i++)
		su_root_step(root, 10);
	ck_assert_int_eq(freed_in_handler.calls, 1);
	ck_assert(!freed_in_handler.inside);
	ck_assert_ptr_null(n.t);
	ck_assert_int_eq(mails_with(mail_dir, freed_in_handler.res.id, NULL), 1);
	node_stop(&n);
}
END_TEST

START_TEST(test_alloc_errors)
{
	struct tickets *t = NULL;
	struct dl_redis *r = NULL;
	struct dl_config bad = cfg;
	char file[160];
	FILE *f;

	ck_assert_int_eq(dl_redis_alloc(&r, root, "unix:/nonexistent/redis.sock", NULL, NULL), 0);
	ck_assert_int_eq(tickets_alloc(NULL, root, r, ob, &cfg, "n"), EINVAL);
	ck_assert_int_eq(tickets_alloc(&t, NULL, r, ob, &cfg, "n"), EINVAL);
	ck_assert_int_eq(tickets_alloc(&t, root, NULL, ob, &cfg, "n"), EINVAL);
	ck_assert_int_eq(tickets_alloc(&t, root, r, ob, NULL, "n"), EINVAL);
	ck_assert_int_eq(tickets_alloc(&t, root, r, ob, &cfg, NULL), EINVAL);
	bad.tickets.spool_dir = NULL;
	ck_assert_int_eq(tickets_alloc(&t, root, r, ob, &bad, "n"), EINVAL);
	/* A spool "directory" that is a file. */
	snprintf(file, sizeof(file), "%s/file", svc_dir);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	bad.tickets.spool_dir = file;
	ck_assert_int_eq(tickets_alloc(&t, root, r, ob, &bad, "n"), ENOTDIR);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(cfg.refs, 1);
	ck_assert_int_eq(ticket_open(NULL, &mail_tn, on_opened, NULL), EINVAL);
	tickets_free(NULL);
	dl_redis_free(r);
}
END_TEST

static Suite *ticket_suite(void)
{
	Suite *s = suite_create("ticket");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_status_names, 0, (int)ARRAY_SIZE(status_cases));
	tcase_add_test(tc, test_status_names_bad);
	tcase_add_loop_test(tc, test_script_names, 0, (int)ARRAY_SIZE(script_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("scripts");
	tcase_add_checked_fixture(tc, db_setup, db_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ids_blocks);
	tcase_add_loop_test(tc, test_create_assigns, 0, (int)ARRAY_SIZE(assign_cases));
	tcase_add_test(tc, test_create_rescores);
	tcase_add_test(tc, test_create_idempotent);
	tcase_add_test(tc, test_create_record);
	tcase_add_test(tc, test_create_bad_args);
	tcase_add_loop_test(tc, test_status_changes, 0, (int)ARRAY_SIZE(status_cases2));
	tcase_add_test(tc, test_status_assigns_later);
	tcase_add_test(tc, test_note);
	suite_add_tcase(s, tc);

	tc = tcase_create("mail");
	tcase_add_loop_test(tc, test_mail_format, 0, (int)ARRAY_SIZE(mail_cases));
	tcase_add_test(tc, test_mail_hostile_values);
	tcase_add_test(tc, test_mail_buffer_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("service");
	tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open_redis_up);
	tcase_add_test(tc, test_open_redis_down_then_replay);
	tcase_add_test(tc, test_id_pool);
	tcase_add_test(tc, test_local_ids_persist);
	tcase_add_test(tc, test_free_in_flight);
	tcase_add_test(tc, test_alloc_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	char tmpl[] = "/tmp/dl-test-ticket-XXXXXX";
	int err, rv;

	/* Local time (the mail, the ids' year) in the calendar's zone, as the daemon runs. */
	calendar_use_timezone(&cfg.calendar);
	log_init("test_ticket", LOG_WARNING, false);
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "test_ticket: mkdtemp: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	snprintf(server_dir, sizeof(server_dir), "%s", tmpl);
	err = redis_server_start(&server, server_dir);
	if (err) {
		fprintf(stderr, "test_ticket: cannot start redis-server: %s\n", strerror(err));
		rmdir(server_dir);
		return EXIT_FAILURE;
	}
	rv = unit_run(ticket_suite());
	redis_server_stop(&server);
	rmdir(server_dir);
	return rv;
}
