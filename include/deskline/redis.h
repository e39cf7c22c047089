/**
 * @file redis.h  hiredis's async API bound to sofia-sip's su_root loop: no Redis call ever blocks
 *                the call path. Reconnects with backoff; loads the agentdb scripts on every
 *                connect and runs them with EVALSHA, falling back to EVAL on NOSCRIPT.
 *
 * While disconnected every command fails at once (its callback gets a NULL reply on the next
 * loop turn), so a caller never waits on a dead Redis.
 */
#ifndef DESKLINE_REDIS_H
#define DESKLINE_REDIS_H

#include <hiredis/hiredis.h>
#include <sofia-sip/su_wait.h>

#include "types.h"
#include "agentdb.h"

struct dl_redis;

/**
 * A command's reply.
 *
 * @param reply  the reply, valid only during the callback (hiredis frees it after); NULL when
 *               the command failed (not connected, connection lost, freed)
 * @param arg    the command's argument
 */
typedef void (dl_redis_reply_h)(const redisReply *reply, void *arg);

/**
 * The connection came up (after SCRIPT LOAD of every script) or went down.
 */
typedef void (dl_redis_state_h)(bool connected, void *arg);

/** Backoff between connection attempts: starts here, doubles, stops growing at the max (ms). */
#define DL_REDIS_BACKOFF_MIN_MS 100u
#define DL_REDIS_BACKOFF_MAX_MS 5000u

/**
 * An attempt (connect plus SCRIPT LOAD of every script) not done by then is abandoned and
 * retried after the backoff: a peer that accepts but never answers does not hold us (ms).
 */
#define DL_REDIS_CONNECT_TIMEOUT_MS 2000u

/**
 * Create the client and start connecting.
 *
 * @param rp       on success *rp is the client (free: dl_redis_free)
 * @param root     loop to run on (borrowed)
 * @param address  "unix:/absolute/path" (shorter than sun_path) or "host:port": host a name,
 *                 an IPv4 literal or an IPv6 literal in brackets ("[::1]:6379"), port 1-65535
 *                 (copied). A name is resolved with getaddrinfo(), which blocks: use a literal
 *                 or a name from /etc/hosts.
 * @param h        connection state handler, may be NULL; called with true once every script is
 *                 loaded, with false when that connection is lost (after the NULL replies of
 *                 its pending commands), never from dl_redis_free()
 * @param arg      its argument
 * @return 0, EINVAL for a bad address or a NULL argument, ENOMEM.
 */
int dl_redis_alloc(struct dl_redis **rp, su_root_t *root, const char *address,
		   dl_redis_state_h *h, void *arg);

/**
 * Close the connection; every pending command's callback runs with a NULL reply before this
 * returns. NULL is ignored.
 *
 * May be called from inside a reply callback or the state handler of this client: the memory
 * goes once that callback returns. Commands issued from the NULL-reply callbacks run here are
 * answered with NULL here too; @p r must not be used after this returns.
 */
void dl_redis_free(struct dl_redis *r);

/** Is the connection up (and the scripts loaded)? */
bool dl_redis_connected(const struct dl_redis *r);

/**
 * Send a command.
 *
 * @param r       client
 * @param cb      reply callback (may be NULL); always called exactly once, never from inside
 *                this function
 * @param arg     its argument
 * @param argc    number of arguments, at least 1
 * @param argv    arguments (copied before return)
 * @param argvlen their lengths in bytes, or NULL for NUL-terminated strings
 * @return 0, EINVAL (NULL client or argument, argc < 1, or a command answered more than once:
 *         [P|S][UN]SUBSCRIBE, MONITOR), or ENOMEM; cb is not called when this fails.
 */
int dl_redis_command(struct dl_redis *r, dl_redis_reply_h *cb, void *arg, int argc,
		     const char **argv, const size_t *argvlen);

/**
 * Run an agentdb script: EVALSHA with 0 keys and the given arguments; on NOSCRIPT (a restarted
 * or flushed Redis) the script is sent with EVAL and reloaded.
 *
 * @param s     script
 * @param argc  number of ARGV entries (0 or more)
 * @param argv  ARGV (NUL-terminated strings, copied)
 * @return 0, EINVAL (NULL client or argument, @p s out of range), or ENOMEM; cb is not called
 *         when this fails.
 */
int dl_redis_script(struct dl_redis *r, enum agentdb_script s, dl_redis_reply_h *cb, void *arg,
		    int argc, const char **argv);

#endif
