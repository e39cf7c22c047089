/**
 * @file call.h  The daemon's context and one call's life: the A-leg from the resident (UAS), the
 *               menu, and the B-leg to a trunk (UAC), with deskline in the media path (B2BUA).
 */
#ifndef DESKLINE_CALL_H
#define DESKLINE_CALL_H

#include <sofia-sip/nua.h>

#include "types.h"
#include "config.h"
#include "prompt.h"

/** A configuration with its loaded prompts; calls hold a reference while they run (SIGHUP). */
struct dl_runtime {
	unsigned refs;
	struct dl_config *cfg;
	struct prompt_set *prompts;
};

/**
 * Load a configuration and its prompts.
 *
 * @param rtp   on success *rtp holds one reference (free: runtime_unref)
 * @param path  configuration file
 * @param errs  receives every error
 * @return 0, or the error of config_load / prompt_set_load.
 */
int runtime_load(struct dl_runtime **rtp, const char *path, struct dl_config_errors *errs);

/** Take a reference. */
struct dl_runtime *runtime_ref(struct dl_runtime *rt);

/** Drop a reference (NULL is ignored). */
void runtime_unref(struct dl_runtime *rt);

#define APP_MAX_LISTEN 8

struct call;
struct cdr;
struct heap_trimmer;
struct media_engine;
struct presence;
struct registrar;
struct outbox;
struct tickets;

/** The daemon: one su_root loop and everything that runs on it. */
struct app {
	su_root_t *root;
	nua_t *nua[APP_MAX_LISTEN];
	size_t n_nua;
	size_t n_nua_down;           /**< nua instances that finished nua_shutdown */
	struct dl_runtime *rt;       /**< what new calls use */
	struct media_engine *media;
	struct presence *presence;   /**< clerks' state in Redis */
	struct registrar *registrar; /**< clerks' phone registrations */
	struct outbox *outbox;       /**< mail to the department */
	struct tickets *tickets;     /**< tickets for unanswered calls */
	struct cdr *cdr;
	struct call *calls;          /**< live calls, doubly linked */
	size_t n_calls;
	bool draining;               /**< SIGTERM: refuse new calls, end when none are left */
	su_timer_t *sweep;           /**< once a second: RTP timeouts, drain */
	uint64_t calls_total;
	struct heap_trimmer *trimmer; /**< told of each call set up (heap.h); NULL: none */
};

/**
 * The sofia-sip NUA event callback for every nua instance (nua_callback_f).
 * Dispatches to the call owning the handle; handles without a call (OPTIONS, rejected INVITEs,
 * legs that were let go) are answered and destroyed here.
 */
void call_nua_event(nua_event_t event, int status, char const *phrase, nua_t *nua,
		    nua_magic_t *magic, nua_handle_t *nh, nua_hmagic_t *hmagic, sip_t const *sip,
		    tagi_t tags[]);

/**
 * Start the once-a-second sweep (RTP timeouts and drain).
 *
 * @return 0 or ENOMEM.
 */
int call_sweep_start(struct app *app);

/**
 * Call-IDs of the calls that have a clerk ringing or on the line, for the presence heartbeat.
 *
 * @param ids  filled with borrowed strings (valid until the next loop turn)
 * @param max  size of @p ids
 * @return how many were filled in.
 */
size_t call_live_ids(struct app *app, const char **ids, size_t max);

/**
 * Hang up every call (BYE or CANCEL on every leg). Used on the second SIGTERM.
 */
void call_hangup_all(struct app *app);

#endif
