/**
 * @file presence.h  The daemon's side of the clerks' shared state: asynchronous calls of the
 *                   agentdb scripts over one Redis connection, the node heartbeat, the sweep, and
 *                   the reconciliation of this node's clerks when Redis (re)connects.
 *
 * Every function returns at once; its handler runs later on the su_root loop, with err =
 * ENOTCONN when Redis is unreachable — so a caller waiting in a queue is never held up by Redis.
 */
#ifndef DESKLINE_PRESENCE_H
#define DESKLINE_PRESENCE_H

#include <sofia-sip/su_wait.h>

#include "types.h"
#include "config.h"
#include "agentdb.h"

struct presence;

/** How often the node refreshes its heartbeat and the deadlines of its clerks' calls (ms). */
#define PRESENCE_REFRESH_MS    5000u
/** The heartbeat key's lifetime: three missed refreshes and the node counts as gone (ms). */
#define PRESENCE_NODE_TTL_MS   15000u
/** Deadline given to ringing/on_call clerks; refreshed while the call lives (ms). */
#define PRESENCE_CALL_TTL_MS   30000u
/** How often every node runs the sweep (ms). */
#define PRESENCE_SWEEP_MS      1000u

/**
 * Fills @p ids with the Call-IDs of this node's calls that have a clerk ringing or on the call.
 *
 * @param ids   array to fill (borrowed strings, valid until the handler returns)
 * @param max   its size
 * @return the number filled in.
 */
typedef size_t (presence_calls_h)(const char **ids, size_t max, void *arg);

/**
 * Create the presence client and start connecting to cfg->redis_address.
 *
 * @param pp     on success *pp is the client (free: presence_free)
 * @param root   loop (borrowed)
 * @param cfg    configuration (a reference is taken)
 * @param calls  lists live calls for the heartbeat
 * @param arg    its argument
 * @return 0, EINVAL, ENOMEM.
 */
int presence_alloc(struct presence **pp, su_root_t *root, struct dl_config *cfg,
		   presence_calls_h *calls, void *arg);

/** Close the connection; pending handlers run with ENOTCONN first. NULL is ignored. */
void presence_free(struct presence *p);

/**
 * Use a reloaded configuration: clerks and queues are synced to Redis (now, or on the next
 * connect). A changed Redis address takes effect at the next restart.
 */
void presence_configure(struct presence *p, struct dl_config *cfg);

/**
 * The Redis connection presence owns, for other users of the same Redis (tickets).
 *
 * @return the connection (owned by presence).
 */
struct dl_redis *presence_redis(struct presence *p);

/**
 * Be told each time Redis (re)connects, after presence has synced the clerks.
 *
 * @param h    handler (NULL to stop)
 * @param arg  its argument
 */
void presence_on_up(struct presence *p, void (*h)(void *arg), void *arg);

/** Is Redis reachable now (connected, scripts loaded)? */
bool presence_connected(const struct presence *p);

/** Generic completion: err 0, ENOTCONN (Redis down) or EPROTO (an error reply, logged). */
typedef void (presence_done_h)(int err, void *arg);

/** One clerk picked by a claim. */
struct presence_clerk {
	char id[64];
	char contact[256];
};

/**
 * The result of a claim.
 *
 * @param err     0, ENOTCONN, EPROTO
 * @param clerks  the clerks now ringing for the call (valid only during the handler)
 * @param n       how many (0: nobody available)
 */
typedef void (presence_claim_h)(int err, const struct presence_clerk *clerks, size_t n,
				void *arg);

/**
 * Claim the best available clerk(s) of a queue for a call (AGENTDB_CLAIM).
 *
 * @param queue        queue name
 * @param call_id      the caller's Call-ID
 * @param deadline_ms  ring deadline, Unix ms
 * @param all          true: every available clerk (ring-all)
 * @param exclude      ids not to pick (already tried by this call)
 * @param n_exclude    how many
 * @return 0 (h will run) or ENOMEM (h will not).
 */
int presence_claim(struct presence *p, const char *queue, const char *call_id,
		   uint64_t deadline_ms, bool all, const char *const *exclude, size_t n_exclude,
		   presence_claim_h *h, void *arg);

/** AGENTDB_RELEASE: outcome "no_answer", "cancelled" or "failed". */
int presence_release(struct presence *p, const char *id, const char *call_id,
		     const char *outcome, unsigned max_no_answer, presence_done_h *h, void *arg);

/** AGENTDB_ANSWERED. */
int presence_answered(struct presence *p, const char *id, const char *call_id,
		      presence_done_h *h, void *arg);

/** AGENTDB_ENDED. */
int presence_ended(struct presence *p, const char *id, const char *call_id, unsigned wrap_up_ms,
		   presence_done_h *h, void *arg);

/** AGENTDB_REGISTER. */
int presence_register(struct presence *p, const char *id, const char *contact,
		      uint64_t expires_ms, presence_done_h *h, void *arg);

/** AGENTDB_UNREGISTER: reason "unregistered" or "expired". */
int presence_unregister(struct presence *p, const char *id, const char *reason,
			presence_done_h *h, void *arg);

/**
 * The result of a state change.
 *
 * @param err     0, ENOTCONN, EPERM (busy or not registered: see @p detail), EPROTO
 * @param detail  on EPERM the error word ("busy", "unregistered"); NULL otherwise
 */
typedef void (presence_state_h)(int err, const char *detail, void *arg);

/** AGENTDB_SET_STATE from a clerk's feature code (who = "phone"). */
int presence_set_state(struct presence *p, const char *id, enum agent_state state,
		       const char *reason, presence_state_h *h, void *arg);

/** AGENTDB_DIRECT_CALL: delta +1 when a direct call starts, -1 when it ends. */
int presence_direct_call(struct presence *p, const char *id, int delta, presence_done_h *h,
			 void *arg);

/** Unix time in ms (CLOCK_REALTIME): what the scripts get as "now". */
uint64_t presence_now_ms(void);

#endif
