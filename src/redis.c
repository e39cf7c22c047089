/**
 * @file redis.c  hiredis's async API on sofia-sip's su_root, with reconnect and script loading.
 *
 * Two layers:
 *  - the adapter (struct watch): hiredis owns no loop and asks for read/write interest through
 *    the ac->ev hooks; the adapter turns them into one su_root registration whose event mask it
 *    changes. It is allocated per connection and freed by hiredis's cleanup hook, so it never
 *    outlives the connection nor depends on the client;
 *  - the client (struct dl_redis): connection state machine, backoff timer, the agentdb scripts'
 *    SHA1s and every command in flight.
 *
 * Ownership of a command (struct req): once handed to hiredis, hiredis calls on_reply() exactly
 * once for it (with the reply, or NULL when the connection is freed), and on_reply() frees it.
 * Until then it is also on the client's `live` list so that dl_redis_free() can call the user's
 * callback at once; it then "orphans" the req (req->r = NULL) and hiredis frees it later.
 * A command that cannot be sent sits on the `failed` list until a zero-delay timer delivers its
 * NULL reply on the next loop turn.
 *
 * User code (reply callbacks, the state handler) may call dl_redis_free(). Every loop entry
 * point that can run user code holds the client (hold()/release()), so its memory goes only
 * when the outermost entry returns; hiredis defers its own free the same way when called
 * from inside one of its callbacks.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include <hiredis/async.h>
#include <sofia-sip/su_wait.h>

#include "deskline/log.h"
#include "deskline/redis.h"

/** Longest host name (RFC 1035 §2.3.4: 255 octets on the wire, 253 as text). */
#define HOST_MAX_BYTES 253u

/** Leading EVALSHA/EVAL arguments in front of a script's ARGV: command, sha or source, numkeys. */
#define SCRIPT_HEAD_ARGS 3

/** Length of a SHA1 in hex, as SCRIPT LOAD returns it. */
#define SHA1_HEX_BYTES 40u

enum state {
	ST_WAITING,     /**< no connection; the timer starts the next attempt */
	ST_CONNECTING,  /**< connect(2) in progress; the timer is the deadline */
	ST_LOADING,     /**< connected, SCRIPT LOAD replies outstanding; timer still the deadline */
	ST_UP,          /**< usable: commands are sent */
	ST_CLOSED,      /**< dl_redis_free() ran */
};

enum req_kind {
	REQ_COMMAND,  /**< dl_redis_command() */
	REQ_SCRIPT,   /**< dl_redis_script(): EVALSHA, then EVAL after NOSCRIPT */
	REQ_LOAD,     /**< our own SCRIPT LOAD, no user callback */
};

struct req;

struct req_list {
	struct req *head, *tail;
};

struct req {
	struct req *prev, *next;
	struct dl_redis *r;            /**< NULL once dl_redis_free() has answered it */
	enum req_kind kind;
	dl_redis_reply_h *cb;
	void *arg;
	enum agentdb_script script;    /**< REQ_SCRIPT, REQ_LOAD */
	bool evaled;                   /**< REQ_SCRIPT: the EVAL fallback was sent */
	int argc;                      /**< REQ_SCRIPT: SCRIPT_HEAD_ARGS + ARGV count */
	const char **argv;             /**< REQ_SCRIPT: points into the same allocation */
	size_t *argvlen;
};

struct dl_redis {
	su_root_t *root;
	char *address;                 /**< as given, for logs */
	char *path;                    /**< unix socket, or NULL */
	char *host;                    /**< TCP host, or NULL */
	int port;

	dl_redis_state_h *stateh;
	void *arg;

	enum state state;
	redisAsyncContext *ac;         /**< NULL in ST_WAITING and ST_CLOSED */
	su_timer_t *conn_timer;        /**< backoff in ST_WAITING, deadline in CONNECTING/LOADING */
	su_timer_t *fail_timer;        /**< zero delay: NULL replies for `failed` */
	unsigned backoff_ms;           /**< delay before the next attempt after a failure */
	unsigned attempts;             /**< failed attempts in a row, to keep the log quiet */
	unsigned loads_pending;        /**< ST_LOADING: SCRIPT LOAD replies still to come */
	char sha[AGENTDB_SCRIPT_COUNT][SHA1_HEX_BYTES + 1];

	struct req_list live;          /**< handed to hiredis, callback not yet called */
	struct req_list failed;        /**< waiting for the fail timer */
	struct req_list due;           /**< being answered by the fail timer right now */

	unsigned busy;                 /**< loop entry points running on this client */
	bool freeing;                  /**< dl_redis_free() was called */
};

static const char *state_name(enum state st)
{
	switch (st) {
	case ST_WAITING:    return "waiting";
	case ST_CONNECTING: return "connecting";
	case ST_LOADING:    return "loading";
	case ST_UP:         return "up";
	case ST_CLOSED:     return "closed";
	}
	return "?";
}

static void set_state(struct dl_redis *r, enum state st)
{
	if (st != r->state)
		log_debug(NULL, "redis %s: %s -> %s", r->address ? r->address : "?",
			  state_name(r->state), state_name(st));
	r->state = st;
}

/* Adapter: hiredis's event hooks on an su_root registration. */

struct watch {
	su_root_t *root;
	redisAsyncContext *ac;
	int fd;
	int index;                     /**< su_root_register() result */
	int events;                    /**< SU_WAIT_IN | SU_WAIT_OUT currently asked for */
	bool *gonep;                   /**< set while on_socket() runs: cleanup marks it */
};

static void watch_mask(struct watch *w, int events)
{
	if (events == w->events)
		return;
	w->events = events;
	if (su_root_eventmask(w->root, w->index, w->fd, events) < 0)
		log_err(NULL, "redis: cannot change the event mask of fd %d", w->fd);
}

static void watch_add_read(void *data)
{
	struct watch *w = data;

	watch_mask(w, w->events | SU_WAIT_IN);
}

static void watch_del_read(void *data)
{
	struct watch *w = data;

	watch_mask(w, w->events & ~SU_WAIT_IN);
}

static void watch_add_write(void *data)
{
	struct watch *w = data;

	watch_mask(w, w->events | SU_WAIT_OUT);
}

static void watch_del_write(void *data)
{
	struct watch *w = data;

	watch_mask(w, w->events & ~SU_WAIT_OUT);
}

/* hiredis calls this before it closes the socket, so the fd leaves epoll while it is valid. */
static void watch_cleanup(void *data)
{
	struct watch *w = data;

	if (w->gonep)
		*w->gonep = true;
	su_root_deregister(w->root, w->index);
	free(w);
}

static void hold(struct dl_redis *r);
static void release(struct dl_redis *r);

/*
 * Socket ready. Error and hang-up are reported whatever the mask says; they go to the read
 * side, where hiredis finds the socket error (connect) or end of file (connected) and tears
 * the connection down — otherwise a level-triggered HUP would wake us forever.
 */
static int on_socket(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct watch *w = arg;
	redisAsyncContext *ac = w->ac;
	struct dl_redis *r = ac->data;
	int revents = su_wait_events(wait, w->fd);
	bool gone = false;

	if (r)
		hold(r);
	w->gonep = &gone;
	if (revents & (SU_WAIT_IN | SU_WAIT_ERR | SU_WAIT_HUP))
		redisAsyncHandleRead(ac);
	/* The read side may have freed the connection and with it w. */
	if (!gone && (revents & SU_WAIT_OUT))
		redisAsyncHandleWrite(ac);
	if (!gone)
		w->gonep = NULL;
	if (r)
		release(r);
	return 0;
}

/** Bind @p ac to @p root. Nothing is watched until hiredis asks. @return 0, ENOMEM, EIO. */
static int watch_attach(redisAsyncContext *ac, su_root_t *root)
{
	struct watch *w;
	su_wait_t wait;
	int err = 0;

	w = calloc(1, sizeof(*w));
	if (!w) {
		err = ENOMEM;
		goto out;
	}
	w->root = root;
	w->ac = ac;
	w->fd = ac->c.fd;

	/* su_wait_create() refuses an empty mask: create with one, then clear it. */
	if (su_wait_create(&wait, w->fd, SU_WAIT_IN) < 0) {
		err = EIO;
		goto out;
	}
	w->index = su_root_register(root, &wait, on_socket, w, 0);
	if (w->index < 0) {
		su_wait_destroy(&wait);
		err = EIO;
		goto out;
	}
	w->events = SU_WAIT_IN;
	watch_mask(w, 0);

	ac->ev.addRead = watch_add_read;
	ac->ev.delRead = watch_del_read;
	ac->ev.addWrite = watch_add_write;
	ac->ev.delWrite = watch_del_write;
	ac->ev.cleanup = watch_cleanup;
	ac->ev.data = w;
	w = NULL;
out:
	free(w);
	return err;
}

/* Command lists. */

static void list_append(struct req_list *l, struct req *q)
{
	q->next = NULL;
	q->prev = l->tail;
	if (l->tail)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
}

static void list_unlink(struct req_list *l, struct req *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		l->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		l->tail = q->prev;
	q->prev = q->next = NULL;
}

/* Move every entry of @p from to the end of @p to. */
static void list_splice(struct req_list *to, struct req_list *from)
{
	if (!from->head)
		return;
	if (to->tail) {
		to->tail->next = from->head;
		from->head->prev = to->tail;
	} else {
		to->head = from->head;
	}
	to->tail = from->tail;
	from->head = from->tail = NULL;
}

static struct req *req_new(struct dl_redis *r, enum req_kind kind, dl_redis_reply_h *cb,
			   void *arg)
{
	struct req *q = calloc(1, sizeof(*q));

	if (q) {
		q->r = r;
		q->kind = kind;
		q->cb = cb;
		q->arg = arg;
	}
	return q;
}

/* Call every req of @p l with a NULL reply and free it. */
static void list_fail(struct req_list *l)
{
	struct req *q;

	while ((q = l->head)) {
		dl_redis_reply_h *cb = q->cb;
		void *arg = q->arg;

		list_unlink(l, q);
		free(q);
		if (cb)
			cb(NULL, arg);
	}
}

/* Client lifetime. */

static void destroy(struct dl_redis *r)
{
	/* Only a command issued after dl_redis_free() returned can be left here. */
	list_fail(&r->failed);
	su_timer_destroy(r->conn_timer);
	su_timer_destroy(r->fail_timer);
	free(r->address);
	free(r->path);
	free(r->host);
	free(r);
}

static void hold(struct dl_redis *r)
{
	r->busy++;
}

static void release(struct dl_redis *r)
{
	assert(r->busy > 0);
	if (--r->busy == 0 && r->freeing)
		destroy(r);
}

/* Failing commands on the next loop turn. */

static void on_fail_timer(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct dl_redis *r = arg;

	hold(r);
	/* Only those queued before this turn: a callback that retries lands in `failed` and is
	 * answered on the next turn, so a retry loop cannot starve the loop. dl_redis_free()
	 * from a callback answers `due` itself, which ends this loop. */
	list_splice(&r->due, &r->failed);
	list_fail(&r->due);
	release(r);
}

/** Answer @p q with NULL on the next loop turn. @return 0, or ENOMEM (q is freed then). */
static int fail_later(struct dl_redis *r, struct req *q)
{
	list_append(&r->failed, q);
	if (r->freeing)
		return 0;  /* dl_redis_free() is answering `failed` right now */
	if (!su_timer_is_set(r->fail_timer) &&
	    su_timer_set_interval(r->fail_timer, on_fail_timer, r, 0) < 0) {
		list_unlink(&r->failed, q);
		free(q);
		return ENOMEM;
	}
	return 0;
}

/* Connection. */

static void connect_start(struct dl_redis *r);
static void on_conn_timer(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg);

static void schedule_reconnect(struct dl_redis *r)
{
	unsigned delay_ms = r->backoff_ms;

	set_state(r, ST_WAITING);
	r->attempts++;
	r->backoff_ms = r->backoff_ms * 2 > DL_REDIS_BACKOFF_MAX_MS ? DL_REDIS_BACKOFF_MAX_MS
								    : r->backoff_ms * 2;
	if (su_timer_set_interval(r->conn_timer, on_conn_timer, r, (su_duration_t)delay_ms) < 0)
		log_err(NULL, "redis %s: cannot set the reconnect timer; no more attempts",
			r->address);
}

/* Log a failed attempt: the first of a series loudly, the retries quietly. */
static void log_attempt_failed(struct dl_redis *r, const char *why)
{
	dl_log(r->attempts == 0 ? LOG_WARNING : LOG_DEBUG, NULL,
	       "redis %s: %s; retrying in %u ms", r->address, why, r->backoff_ms);
}

/** Take the connection away from the client: hiredis's callbacks for it no longer reach r. */
static redisAsyncContext *conn_detach(struct dl_redis *r)
{
	redisAsyncContext *ac = r->ac;

	r->ac = NULL;
	if (ac)
		ac->data = NULL;
	return ac;
}

/* Give up on the current attempt from a timer (outside hiredis's callbacks). */
static void conn_abort(struct dl_redis *r, const char *why)
{
	redisAsyncContext *ac = conn_detach(r);

	log_attempt_failed(r, why);
	schedule_reconnect(r);
	/* Only our own SCRIPT LOADs can be in flight (commands are sent in ST_UP only); their
	 * NULL replies are ignored. */
	if (ac)
		redisAsyncFree(ac);
}

static void on_conn_timer(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct dl_redis *r = arg;

	hold(r);
	switch (r->state) {
	case ST_WAITING:
		connect_start(r);
		break;
	case ST_CONNECTING:
	case ST_LOADING:
		conn_abort(r, "no answer within the connect timeout");
		break;
	case ST_UP:
	case ST_CLOSED:
		break;
	}
	release(r);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

static void on_connect(const redisAsyncContext *cac, int status)
{
	/* hiredis hands a const context to this callback but a mutable one everywhere else. */
	redisAsyncContext *ac = (redisAsyncContext *)cac;
	struct dl_redis *r = ac->data;

	if (!r)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context when we return. */
		r->ac = NULL;
		log_attempt_failed(r, ac->c.errstr[0] ? ac->c.errstr : "connect failed");
		schedule_reconnect(r);
		return;
	}

	/* SCRIPT LOAD on every connect: a restarted or flushed Redis has no scripts, and the
	 * replies give us the SHA1s (Redis computes them; we never hash). */
	set_state(r, ST_LOADING);
	/* All of them, not those sent so far: one that could not be sent keeps us from ST_UP
	 * until the timer below aborts the attempt. */
	r->loads_pending = AGENTDB_SCRIPT_COUNT;
	for (int s = 0; s < AGENTDB_SCRIPT_COUNT; s++) {
		const char *src = agentdb_script_source((enum agentdb_script)s);
		const char *argv[] = { "SCRIPT", "LOAD", src };
		struct req *q;

		assert(src != NULL);
		q = req_new(r, REQ_LOAD, NULL, NULL);
		if (!q || redisAsyncCommandArgv(ac, on_reply, q, 3, argv, NULL) != REDIS_OK) {
			free(q);
			log_err(NULL, "redis %s: cannot queue SCRIPT LOAD: out of memory",
				r->address);
			/* The context cannot be freed from inside this callback: let the timer
			 * abort the attempt on the next turn. */
			su_timer_set_interval(r->conn_timer, on_conn_timer, r, 0);
			return;
		}
		q->script = (enum agentdb_script)s;
		list_append(&r->live, q);
	}
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct dl_redis *r = ac->data;
	bool was_up;

	if (!r)
		return;
	was_up = r->state == ST_UP;
	r->ac = NULL;
	if (was_up)
		r->attempts = 0;
	log_attempt_failed(r, ac->errstr && ac->errstr[0] ? ac->errstr : "connection closed");
	schedule_reconnect(r);
	/* Last: the handler may free the client (our caller holds it). */
	if (was_up && r->stateh)
		r->stateh(false, r->arg);
}

static void connect_start(struct dl_redis *r)
{
	redisAsyncContext *ac;
	int err;

	ac = r->path ? redisAsyncConnectUnix(r->path) : redisAsyncConnect(r->host, r->port);
	if (!ac) {
		log_attempt_failed(r, "out of memory");
		schedule_reconnect(r);
		return;
	}
	if (ac->err) {
		/* Refused at once (a unix socket nobody listens on). */
		log_attempt_failed(r, ac->errstr);
		redisAsyncFree(ac);
		schedule_reconnect(r);
		return;
	}
	err = watch_attach(ac, r->root);
	if (err) {
		log_err(NULL, "redis %s: cannot watch the socket: %s", r->address, strerror(err));
		redisAsyncFree(ac);
		schedule_reconnect(r);
		return;
	}
	ac->data = r;
	r->ac = ac;
	set_state(r, ST_CONNECTING);
	/* Order matters: setting the connect callback asks for a write event, which needs the
	 * adapter in place. */
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (su_timer_set_interval(r->conn_timer, on_conn_timer, r,
				  (su_duration_t)DL_REDIS_CONNECT_TIMEOUT_MS) < 0)
		log_err(NULL, "redis %s: cannot set the connect timer", r->address);
}

/* Replies. */

static void script_loaded(struct dl_redis *r, struct req *q, const redisReply *reply)
{
	const char *name = agentdb_script_name(q->script);
	redisAsyncContext *ac;

	if (!reply)
		return;  /* connection going away: on_disconnect() follows */
	if (reply->type == REDIS_REPLY_STRING && reply->len == SHA1_HEX_BYTES) {
		memcpy(r->sha[q->script], reply->str, SHA1_HEX_BYTES);
		r->sha[q->script][SHA1_HEX_BYTES] = '\0';
		if (r->state != ST_LOADING || --r->loads_pending > 0)
			return;
		su_timer_reset(r->conn_timer);
		set_state(r, ST_UP);
		r->backoff_ms = DL_REDIS_BACKOFF_MIN_MS;
		r->attempts = 0;
		log_info(NULL, "redis %s: connected, %d scripts loaded", r->address,
			 AGENTDB_SCRIPT_COUNT);
		if (r->stateh)
			r->stateh(true, r->arg);
		return;
	}

	log_err(NULL, "redis %s: SCRIPT LOAD %s: %s", r->address, name ? name : "?",
		reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	if (r->state != ST_LOADING)
		return;  /* a reload after NOSCRIPT: the EVAL already carried the call */
	/* A connection without every script is no use; drop it and retry. We are inside a
	 * hiredis callback, so hiredis frees the context once we return. */
	ac = conn_detach(r);
	schedule_reconnect(r);
	redisAsyncFree(ac);
}

static bool is_noscript(const redisReply *reply)
{
	return reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
	       strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

/*
 * NOSCRIPT: Redis lost the script (restart, SCRIPT FLUSH, failover). Send the source with EVAL
 * for this call and SCRIPT LOAD it again for the next ones. @return true when @p q was sent.
 */
static bool script_fallback(struct dl_redis *r, redisAsyncContext *ac, struct req *q)
{
	const char *src = agentdb_script_source(q->script);
	const char *load_argv[] = { "SCRIPT", "LOAD", src };
	struct req *load;

	load = req_new(r, REQ_LOAD, NULL, NULL);
	if (load) {
		load->script = q->script;
		if (redisAsyncCommandArgv(ac, on_reply, load, 3, load_argv, NULL) == REDIS_OK)
			list_append(&r->live, load);
		else
			free(load);
	}

	q->evaled = true;
	q->argv[0] = "EVAL";
	q->argvlen[0] = 4;
	q->argv[1] = src;
	q->argvlen[1] = strlen(src);
	if (redisAsyncCommandArgv(ac, on_reply, q, q->argc, q->argv, q->argvlen) != REDIS_OK)
		return false;
	list_append(&r->live, q);
	return true;
}

static void on_reply(redisAsyncContext *ac, void *reply_v, void *privdata)
{
	const redisReply *reply = reply_v;
	struct req *q = privdata;
	struct dl_redis *r = q->r;
	dl_redis_reply_h *cb;
	void *arg;

	if (!r) {
		free(q);  /* dl_redis_free() already answered it */
		return;
	}
	list_unlink(&r->live, q);

	switch (q->kind) {
	case REQ_LOAD:
		script_loaded(r, q, reply);
		free(q);
		return;
	case REQ_SCRIPT:
		if (reply && !q->evaled && is_noscript(reply) && script_fallback(r, ac, q))
			return;
		break;
	case REQ_COMMAND:
		break;
	}

	cb = q->cb;
	arg = q->arg;
	free(q);
	if (cb)
		cb(reply, arg);
}

/* Address. */

static bool host_name_valid(const char *host, size_t len)
{
	if (len == 0 || len > HOST_MAX_BYTES)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (!isalnum(c) && c != '.' && c != '-' && c != '_')
			return false;
	}
	return true;
}

static bool port_parse(const char *s, int *port)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

/*
 * "unix:/absolute/path" (shorter than sun_path: hiredis would silently truncate it), or
 * "host:port" with host a name, an IPv4 literal, or an IPv6 literal in brackets (RFC 3986
 * §3.2.2), port 1-65535. @return 0 or EINVAL, ENOMEM.
 */
static int address_parse(struct dl_redis *r, const char *address)
{
	const char *host, *colon;
	size_t host_len;
	int port;

	if (strncmp(address, "unix:", 5) == 0) {
		const char *path = address + 5;

		if (path[0] != '/' || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return EINVAL;
		r->path = strdup(path);
		return r->path ? 0 : ENOMEM;
	}

	if (address[0] == '[') {
		const char *close = strchr(address, ']');
		char lit[INET6_ADDRSTRLEN];
		struct in6_addr in6;

		if (!close || close[1] != ':')
			return EINVAL;
		host = address + 1;
		host_len = (size_t)(close - host);
		if (host_len == 0 || host_len >= sizeof(lit))
			return EINVAL;
		memcpy(lit, host, host_len);
		lit[host_len] = '\0';
		if (inet_pton(AF_INET6, lit, &in6) != 1)
			return EINVAL;
		colon = close + 1;
	} else {
		colon = strchr(address, ':');
		if (!colon || strchr(colon + 1, ':'))
			return EINVAL;  /* none, or an IPv6 literal without brackets */
		host = address;
		host_len = (size_t)(colon - host);
		if (!host_name_valid(host, host_len))
			return EINVAL;
	}
	if (!port_parse(colon + 1, &port))
		return EINVAL;

	r->host = strndup(host, host_len);
	if (!r->host)
		return ENOMEM;
	r->port = port;
	return 0;
}

/* Public API. */

int dl_redis_alloc(struct dl_redis **rp, su_root_t *root, const char *address,
		   dl_redis_state_h *h, void *arg)
{
	struct dl_redis *r;
	int err;

	if (!rp || !root || !address)
		return EINVAL;

	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->root = root;
	r->stateh = h;
	r->arg = arg;
	r->state = ST_WAITING;
	r->backoff_ms = DL_REDIS_BACKOFF_MIN_MS;

	err = address_parse(r, address);
	if (err)
		goto out;
	r->address = strdup(address);
	r->conn_timer = su_timer_create(su_root_task(root), 0);
	r->fail_timer = su_timer_create(su_root_task(root), 0);
	if (!r->address || !r->conn_timer || !r->fail_timer) {
		err = ENOMEM;
		goto out;
	}

	/* The first attempt now; a failure is retried after the backoff, never here. For a host
	 * name hiredis resolves with getaddrinfo(), which blocks: configure a literal or a name
	 * in /etc/hosts. */
	connect_start(r);
	*rp = r;
	r = NULL;
out:
	if (r)
		destroy(r);
	return err;
}

void dl_redis_free(struct dl_redis *r)
{
	redisAsyncContext *ac;
	struct req *q;

	if (!r || r->freeing)
		return;
	r->freeing = true;
	set_state(r, ST_CLOSED);
	su_timer_reset(r->conn_timer);
	su_timer_reset(r->fail_timer);
	ac = conn_detach(r);

	/* Answer what hiredis holds now, not when it gets round to it: inside one of its
	 * callbacks it defers its free. The reqs stay allocated until hiredis calls on_reply()
	 * for them, which sees them orphaned and frees them. */
	while ((q = r->live.head)) {
		dl_redis_reply_h *cb = q->cb;
		void *arg = q->arg;

		list_unlink(&r->live, q);
		q->r = NULL;
		q->cb = NULL;
		if (cb)
			cb(NULL, arg);
	}
	if (ac)
		redisAsyncFree(ac);

	/* Commands issued by the callbacks above land in `failed`: answer until none is left. */
	while (r->due.head || r->failed.head) {
		list_fail(&r->due);
		list_fail(&r->failed);
	}

	if (r->busy == 0)
		destroy(r);
}

bool dl_redis_connected(const struct dl_redis *r)
{
	return r && r->state == ST_UP;
}

/* Commands that answer more than once would break the one-reply-one-callback contract (and
 * hiredis keeps their callback after we have freed it). */
static bool multi_reply_command(const char *name, size_t len)
{
	static const char *const names[] = {
		"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE",
		"UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

int dl_redis_command(struct dl_redis *r, dl_redis_reply_h *cb, void *arg, int argc,
		     const char **argv, const size_t *argvlen)
{
	struct req *q;

	if (!r || argc < 1 || !argv)
		return EINVAL;
	for (int i = 0; i < argc; i++)
		if (!argv[i])
			return EINVAL;
	if (multi_reply_command(argv[0], argvlen ? argvlen[0] : strlen(argv[0])))
		return EINVAL;

	q = req_new(r, REQ_COMMAND, cb, arg);
	if (!q)
		return ENOMEM;
	if (r->state != ST_UP)
		return fail_later(r, q);
	/* hiredis formats (copies) the arguments here. It refuses while the connection is being
	 * torn down, e.g. from a callback answering a lost connection. */
	if (redisAsyncCommandArgv(r->ac, on_reply, q, argc, argv, argvlen) != REDIS_OK)
		return fail_later(r, q);
	list_append(&r->live, q);
	return 0;
}

/* A script call with its arguments copied into one allocation, kept for the EVAL fallback:
 * [struct req][size_t argvlen[n]][const char *argv[n]][ARGV bytes]. */
static struct req *script_req_new(struct dl_redis *r, enum agentdb_script s,
				  dl_redis_reply_h *cb, void *arg, int argc, const char **argv)
{
	_Static_assert(sizeof(struct req) % _Alignof(size_t) == 0, "argvlen alignment");
	_Static_assert(sizeof(size_t) % _Alignof(const char *) == 0, "argv alignment");
	size_t n = (size_t)argc + SCRIPT_HEAD_ARGS;
	size_t bytes = 0;
	struct req *q;
	char *p;

	for (int i = 0; i < argc; i++)
		bytes += strlen(argv[i]) + 1;
	q = calloc(1, sizeof(*q) + n * (sizeof(size_t) + sizeof(char *)) + bytes);
	if (!q)
		return NULL;
	q->r = r;
	q->kind = REQ_SCRIPT;
	q->cb = cb;
	q->arg = arg;
	q->script = s;
	q->argc = (int)n;
	q->argvlen = (size_t *)(q + 1);
	q->argv = (const char **)(q->argvlen + n);
	p = (char *)(q->argv + n);

	q->argv[0] = "EVALSHA";
	q->argvlen[0] = 7;
	q->argv[1] = NULL;  /* the SHA1 or the source, when sent */
	q->argv[2] = "0";   /* no KEYS (agentdb.h calling convention) */
	q->argvlen[2] = 1;
	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);

		memcpy(p, argv[i], len + 1);
		q->argv[SCRIPT_HEAD_ARGS + i] = p;
		q->argvlen[SCRIPT_HEAD_ARGS + i] = len;
		p += len + 1;
	}
	return q;
}

int dl_redis_script(struct dl_redis *r, enum agentdb_script s, dl_redis_reply_h *cb, void *arg,
		    int argc, const char **argv)
{
	struct req *q;

	if (!r || (int)s < 0 || s >= AGENTDB_SCRIPT_COUNT || argc < 0 || (argc > 0 && !argv) ||
	    argc > INT_MAX - SCRIPT_HEAD_ARGS)
		return EINVAL;
	for (int i = 0; i < argc; i++)
		if (!argv[i])
			return EINVAL;

	q = script_req_new(r, s, cb, arg, argc, argv);
	if (!q)
		return ENOMEM;
	if (r->state != ST_UP)
		return fail_later(r, q);
	q->argv[1] = r->sha[s];
	q->argvlen[1] = SHA1_HEX_BYTES;
	if (redisAsyncCommandArgv(r->ac, on_reply, q, q->argc, q->argv, q->argvlen) != REDIS_OK)
		return fail_later(r, q);
	list_append(&r->live, q);
	return 0;
}
