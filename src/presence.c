/**
 * @file presence.c  Asynchronous calls of the agentdb scripts, the node heartbeat and the sweep.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deskline/presence.h"
#include "deskline/redis.h"
#include "deskline/log.h"

/** Most clerks one claim hands back (ring-all); more would ring more phones than anyone has. */
#define CLAIM_MAX 64
/** Most script arguments we send (node_refresh lists live calls). */
#define ARGV_MAX 512

struct presence {
	su_root_t *root;
	struct dl_config *cfg;
	struct dl_redis *redis;
	presence_calls_h *calls;
	void *calls_arg;
	su_timer_t *refresh;
	su_timer_t *sweep;
	char *address;          /**< connection settings, fixed until restart */
	char *prefix;
	char *node;
	bool reconciled;        /**< NODE_RECONCILE ran once since this process started */
	void (*up)(void *arg);  /**< told after every (re)connect */
	void *up_arg;
};

enum op_kind { OP_DONE, OP_CLAIM, OP_STATE };

struct op {
	enum op_kind kind;
	enum agentdb_script script;
	union {
		presence_done_h *done;
		presence_claim_h *claim;
		presence_state_h *state;
	} h;
	void *arg;
};

uint64_t presence_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)(ts.tv_nsec / 1000000L);
}

/** The first word of an error reply ("busy", "unregistered", …), copied into @p word. */
static void error_word(const redisReply *reply, char *word, size_t size)
{
	size_t n = 0;
	const char *s = reply->str ? reply->str : "";

	/* Redis prefixes script errors with "ERR " or with the script's location. */
	const char *colon = strstr(s, ": ");
	if (strncmp(s, "ERR ", 4) == 0)
		s += 4;
	if (colon && strncmp(s, "user_script", 11) == 0)
		s = colon + 2;
	while (s[n] && s[n] != ' ' && n + 1 < size) {
		word[n] = s[n];
		n++;
	}
	word[n] = '\0';
}

static void op_reply(const redisReply *reply, void *arg)
{
	struct op *op = arg;
	int err = 0;
	char word[32] = "";

	if (!reply) {
		err = ENOTCONN;
	} else if (reply->type == REDIS_REPLY_ERROR) {
		error_word(reply, word, sizeof(word));
		if (strcmp(word, "busy") == 0 || strcmp(word, "unregistered") == 0 ||
		    strcmp(word, "unknown") == 0)
			err = EPERM;
		else
			err = EPROTO;
		log_warn(NULL, "redis script %s: %s", agentdb_script_name(op->script),
			 reply->str ? reply->str : "error");
	}

	switch (op->kind) {
	case OP_DONE:
		if (op->h.done)
			op->h.done(err, op->arg);
		break;
	case OP_STATE:
		if (op->h.state)
			op->h.state(err, err == EPERM ? word : NULL, op->arg);
		break;
	case OP_CLAIM: {
		struct presence_clerk clerks[CLAIM_MAX];
		size_t n = 0;
		if (!err && reply->type == REDIS_REPLY_ARRAY) {
			for (size_t i = 0; i + 1 < reply->elements && n < CLAIM_MAX; i += 2) {
				const redisReply *id = reply->element[i];
				const redisReply *contact = reply->element[i + 1];
				if (id->type != REDIS_REPLY_STRING || contact->type != REDIS_REPLY_STRING)
					continue;
				snprintf(clerks[n].id, sizeof(clerks[n].id), "%s", id->str);
				snprintf(clerks[n].contact, sizeof(clerks[n].contact), "%s",
					 contact->str);
				n++;
			}
		} else if (!err) {
			err = EPROTO;
		}
		if (op->h.claim)
			op->h.claim(err, clerks, n, op->arg);
		break;
	}
	}
	free(op);
}

/** Send a script with ARGV = prefix, now, args…; op is freed by op_reply. */
static int run(struct presence *p, struct op *op, int argc, const char **args)
{
	const char *argv[ARGV_MAX];
	char now[24];
	int n = 0;

	if (!op)
		return ENOMEM;
	if (argc + 2 > ARGV_MAX) {
		free(op);
		return E2BIG;
	}
	snprintf(now, sizeof(now), "%llu", (unsigned long long)presence_now_ms());
	argv[n++] = p->prefix;
	argv[n++] = now;
	for (int i = 0; i < argc; i++)
		argv[n++] = args[i];
	int err = dl_redis_script(p->redis, op->script, op_reply, op, n, argv);
	if (err)
		free(op);
	return err;
}

static struct op *op_new(enum op_kind kind, enum agentdb_script script, void *h, void *arg)
{
	struct op *op = calloc(1, sizeof(*op));
	if (!op)
		return NULL;
	op->kind = kind;
	op->script = script;
	switch (kind) {
	case OP_DONE:  op->h.done = (presence_done_h *)h; break;
	case OP_CLAIM: op->h.claim = (presence_claim_h *)h; break;
	case OP_STATE: op->h.state = (presence_state_h *)h; break;
	}
	op->arg = arg;
	return op;
}

static int run_done(struct presence *p, enum agentdb_script s, presence_done_h *h, void *arg,
		    int argc, const char **args)
{
	return run(p, op_new(OP_DONE, s, (void *)h, arg), argc, args);
}

/* ---- sync, heartbeat, sweep ------------------------------------------------------------ */

/** Publish the configured clerks and queues (fields only: states are left as they are). */
static void presence_sync(struct presence *p)
{
	const struct dl_config *cfg = p->cfg;

	for (size_t i = 0; i < cfg->n_queues; i++) {
		const char *args[] = { cfg->queues[i].name,
				       config_strategy_name(cfg->queues[i].strategy) };
		run_done(p, AGENTDB_QUEUE_SYNC, NULL, NULL, 2, args);
	}
	for (size_t i = 0; i < cfg->n_clerks; i++) {
		const struct dl_clerk *c = &cfg->clerks[i];
		char queues[512];
		size_t len = 0;
		queues[0] = '\0';
		for (size_t q = 0; q < c->n_queues; q++) {
			int n = snprintf(queues + len, sizeof(queues) - len, "%s%s", q ? "," : "",
					 c->queues[q]);
			if (n < 0 || (size_t)n >= sizeof(queues) - len)
				break;
			len += (size_t)n;
		}
		const char *args[] = { c->id, c->extension, c->name ? c->name : "", queues };
		run_done(p, AGENTDB_AGENT_SYNC, NULL, NULL, 4, args);
	}
}

static void refresh_now(struct presence *p)
{
	const char *args[ARGV_MAX - 2];
	char ttl[16], deadline[24];
	size_t n = 0;

	if (!dl_redis_connected(p->redis))
		return;
	snprintf(ttl, sizeof(ttl), "%u", PRESENCE_NODE_TTL_MS);
	snprintf(deadline, sizeof(deadline), "%llu",
		 (unsigned long long)(presence_now_ms() + PRESENCE_CALL_TTL_MS));
	args[n++] = p->node;
	args[n++] = ttl;
	args[n++] = deadline;
	if (p->calls)
		n += p->calls(args + n, sizeof(args) / sizeof(args[0]) - n, p->calls_arg);
	run_done(p, AGENTDB_NODE_REFRESH, NULL, NULL, (int)n, args);
}

static void refresh_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	refresh_now((struct presence *)arg);
}

static void sweep_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct presence *p = (struct presence *)arg;

	(void)magic;
	(void)t;
	if (dl_redis_connected(p->redis))
		run_done(p, AGENTDB_SWEEP, NULL, NULL, 0, NULL);
}

static void on_connection(bool connected, void *arg)
{
	struct presence *p = arg;

	if (!connected) {
		log_warn(NULL, "redis %s unreachable: queue calls overflow until it is back",
			 p->address);
		return;
	}
	log_notice(NULL, "redis %s connected (node %s)", p->address, p->node);
	presence_sync(p);
	/* The heartbeat first, so that the sweep of another node does not take this node's clerks
	 * for orphans; then, once per process, the clerks this node owned before it restarted. */
	refresh_now(p);
	if (!p->reconciled) {
		const char *args[] = { p->node };
		run_done(p, AGENTDB_NODE_RECONCILE, NULL, NULL, 1, args);
		p->reconciled = true;
	}
	if (p->up)
		p->up(p->up_arg);
}

/* ---- life ------------------------------------------------------------------------------ */

int presence_alloc(struct presence **pp, su_root_t *root, struct dl_config *cfg,
		   presence_calls_h *calls, void *arg)
{
	struct presence *p;
	int err;

	if (!pp || !root || !cfg)
		return EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	p->root = root;
	p->cfg = config_ref(cfg);
	p->address = strdup(cfg->redis_address);
	p->prefix = strdup(cfg->redis_prefix);
	p->node = strdup(cfg->node_id);
	p->calls = calls;
	p->calls_arg = arg;
	p->refresh = su_timer_create(su_root_task(root), PRESENCE_REFRESH_MS);
	p->sweep = su_timer_create(su_root_task(root), PRESENCE_SWEEP_MS);
	if (!p->refresh || !p->sweep || !p->address || !p->prefix || !p->node) {
		err = ENOMEM;
		goto out;
	}
	err = dl_redis_alloc(&p->redis, root, p->address, on_connection, p);
	if (err)
		goto out;
	su_timer_run(p->refresh, refresh_cb, (su_timer_arg_t *)p);
	su_timer_run(p->sweep, sweep_cb, (su_timer_arg_t *)p);
 out:
	if (err) {
		presence_free(p);
		return err;
	}
	*pp = p;
	return 0;
}

void presence_free(struct presence *p)
{
	if (!p)
		return;
	su_timer_destroy(p->refresh);
	su_timer_destroy(p->sweep);
	dl_redis_free(p->redis);
	config_unref(p->cfg);
	free(p->address);
	free(p->prefix);
	free(p->node);
	free(p);
}

void presence_configure(struct presence *p, struct dl_config *cfg)
{
	if (strcmp(p->address, cfg->redis_address) != 0 || strcmp(p->node, cfg->node_id) != 0 ||
	    strcmp(p->prefix, cfg->redis_prefix) != 0)
		log_warn(NULL, "redis address, prefix or node changed: takes effect at restart");
	/* The connection stays as it is; the new clerks and queues are published on it. */
	config_unref(p->cfg);
	p->cfg = config_ref(cfg);
	if (dl_redis_connected(p->redis))
		presence_sync(p);
}

struct dl_redis *presence_redis(struct presence *p)
{
	return p->redis;
}

void presence_on_up(struct presence *p, void (*h)(void *arg), void *arg)
{
	p->up = h;
	p->up_arg = arg;
}

bool presence_connected(const struct presence *p)
{
	return p && dl_redis_connected(p->redis);
}

/* ---- operations ------------------------------------------------------------------------ */

int presence_claim(struct presence *p, const char *queue, const char *call_id,
		   uint64_t deadline_ms, bool all, const char *const *exclude, size_t n_exclude,
		   presence_claim_h *h, void *arg)
{
	const char *args[ARGV_MAX - 2];
	char deadline[24];
	size_t n = 0;

	snprintf(deadline, sizeof(deadline), "%llu", (unsigned long long)deadline_ms);
	args[n++] = queue;
	args[n++] = p->node;
	args[n++] = call_id;
	args[n++] = deadline;
	args[n++] = all ? "0" : "1";
	for (size_t i = 0; i < n_exclude && n < sizeof(args) / sizeof(args[0]); i++)
		args[n++] = exclude[i];
	return run(p, op_new(OP_CLAIM, AGENTDB_CLAIM, (void *)h, arg), (int)n, args);
}

int presence_release(struct presence *p, const char *id, const char *call_id,
		     const char *outcome, unsigned max_no_answer, presence_done_h *h, void *arg)
{
	char max[16];
	snprintf(max, sizeof(max), "%u", max_no_answer);
	const char *args[] = { id, call_id, outcome, max };
	return run_done(p, AGENTDB_RELEASE, h, arg, 4, args);
}

int presence_answered(struct presence *p, const char *id, const char *call_id,
		      presence_done_h *h, void *arg)
{
	char deadline[24];
	snprintf(deadline, sizeof(deadline), "%llu",
		 (unsigned long long)(presence_now_ms() + PRESENCE_CALL_TTL_MS));
	const char *args[] = { id, call_id, deadline };
	return run_done(p, AGENTDB_ANSWERED, h, arg, 3, args);
}

int presence_ended(struct presence *p, const char *id, const char *call_id, unsigned wrap_up_ms,
		   presence_done_h *h, void *arg)
{
	char wrap[16];
	snprintf(wrap, sizeof(wrap), "%u", wrap_up_ms);
	const char *args[] = { id, call_id, wrap };
	return run_done(p, AGENTDB_ENDED, h, arg, 3, args);
}

int presence_register(struct presence *p, const char *id, const char *contact,
		      uint64_t expires_ms, presence_done_h *h, void *arg)
{
	char expires[24];
	snprintf(expires, sizeof(expires), "%llu", (unsigned long long)expires_ms);
	const char *args[] = { id, contact, expires };
	return run_done(p, AGENTDB_REGISTER, h, arg, 3, args);
}

int presence_unregister(struct presence *p, const char *id, const char *reason,
			presence_done_h *h, void *arg)
{
	const char *args[] = { id, reason };
	return run_done(p, AGENTDB_UNREGISTER, h, arg, 2, args);
}

int presence_set_state(struct presence *p, const char *id, enum agent_state state,
		       const char *reason, presence_state_h *h, void *arg)
{
	const char *args[] = { id, agent_state_name(state), "phone", reason ? reason : "", "" };
	return run(p, op_new(OP_STATE, AGENTDB_SET_STATE, (void *)h, arg), 5, args);
}

int presence_direct_call(struct presence *p, const char *id, int delta, presence_done_h *h,
			 void *arg)
{
	char d[8];
	snprintf(d, sizeof(d), "%d", delta);
	const char *args[] = { id, d };
	return run_done(p, AGENTDB_DIRECT_CALL, h, arg, 2, args);
}
