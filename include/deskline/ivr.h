/**
 * @file ivr.h  The menu machine (Procedure 46 §1–§2): greeting, digit collection with first-digit
 *              and inter-digit timeouts, invalid entries, max failures / max timeouts, sub-menus,
 *              barge-in, action lists. Pure: digits, "playback finished" and timeouts go in with the
 *              current time; what to play, when to wake it, and where the call goes come out.
 *
 * The caller owns one playback and one timer per call:
 *  - out.stop_playback: stop what is playing now (barge-in);
 *  - out.n_play > 0: play out.play[] in order (replacing anything playing), then call
 *    ivr_playback_done();
 *  - out.deadline_ms != 0: call ivr_timeout() at that time unless another event comes first
 *    (every call to the machine replaces the deadline);
 *  - out.exit != IVR_EXIT_NONE: the menu is finished; route the call as out.action says.
 */
#ifndef DESKLINE_IVR_H
#define DESKLINE_IVR_H

#include "types.h"
#include "config.h"

enum ivr_exit {
	IVR_EXIT_NONE = 0,
	IVR_EXIT_TRUNK,      /**< bridge to out.action->arg with out.action->headers */
	IVR_EXIT_QUEUE,      /**< hunt in queue out.action->arg */
	IVR_EXIT_HANGUP,     /**< hang up */
};

#define IVR_MAX_PLAY 4

/** What the machine wants done. Pointers are borrowed from the configuration. */
struct ivr_output {
	bool stop_playback;
	const char *play[IVR_MAX_PLAY];
	size_t n_play;
	const char *lang;             /**< language to play prompts in */
	mstime_t deadline_ms;         /**< 0 = no timer */
	enum ivr_exit exit;
	const struct dl_action *action; /**< the trunk/queue action when exit is TRUNK/QUEUE */
};

struct ivr;

/**
 * Start a caller in a menu: the greeting is played.
 *
 * @param ip      on success *ip is the new machine (free: ivr_free)
 * @param cfg     configuration (borrowed; must outlive the machine — hold a config_ref)
 * @param menu    name of the first menu
 * @param lang    starting prompt language (borrowed; NULL = the configuration's first)
 * @param now_ms  current time
 * @param out     what to do now
 * @return 0; ENOENT when the menu does not exist; ENOMEM.
 */
int ivr_alloc(struct ivr **ip, const struct dl_config *cfg, const char *menu, const char *lang,
	      mstime_t now_ms, struct ivr_output *out);

/** Free a machine (NULL is ignored). */
void ivr_free(struct ivr *ivr);

/**
 * A digit came in (barge-in: it stops a greeting at once).
 *
 * @param digit  '0'-'9', '*', '#', 'A'-'D'
 */
void ivr_digit(struct ivr *ivr, char digit, mstime_t now_ms, struct ivr_output *out);

/** The list last asked for has finished playing. */
void ivr_playback_done(struct ivr *ivr, mstime_t now_ms, struct ivr_output *out);

/** The deadline given in the last output has passed. */
void ivr_timeout(struct ivr *ivr, mstime_t now_ms, struct ivr_output *out);

/**
 * Run an action list from outside the menu, e.g. a trunk's on_failure after the B-leg failed.
 * The machine takes up where the actions lead (a play then hangup, a menu, another trunk).
 *
 * @param list  actions (borrowed from the configuration)
 */
void ivr_run(struct ivr *ivr, const struct dl_action_list *list, mstime_t now_ms,
	     struct ivr_output *out);

/**
 * The path the caller took, for CDRs and tickets, e.g. "main:4(clerk) > sub:2(payment)".
 *
 * @return a string owned by the machine, valid until its next call.
 */
const char *ivr_path(const struct ivr *ivr);

/** The caller's current prompt language. */
const char *ivr_lang(const struct ivr *ivr);

/** The name of the machine's state, for logs. */
const char *ivr_state_name(const struct ivr *ivr);

/**
 * One line describing the machine, for debug logs: state, menu, language, digits so far,
 * failure and timeout counts against their limits, deadline and path. Cut to fit @p size.
 *
 * @param buf   receives the line, NUL-terminated
 * @param size  size of buf in bytes
 * @return 0; EINVAL when ivr or buf is NULL or size is 0.
 */
int ivr_debug(const struct ivr *ivr, char *buf, size_t size);

#endif
