/**
 * @file call_int.h  Private to the call subsystem (call.c, call_hunt.c, call_clerk.c): one call's
 *                   legs, state and the helpers the three files share.
 */
#ifndef DESKLINE_CALL_INT_H
#define DESKLINE_CALL_INT_H

#include <sofia-sip/nua.h>

#include "deskline/call.h"
#include "deskline/ivr.h"
#include "deskline/media.h"
#include "deskline/sdp.h"

/** Most trunk attempts one call makes (a fallback that names a trunk again cannot loop). */
#define CALL_MAX_TRUNK_ATTEMPTS 4
/** Most clerks rung at once for one caller (ring-all). */
#define CALL_MAX_RINGS 32
/** Most clerks remembered as tried by one caller. */
#define CALL_MAX_TRIED 64
/** Longest SDP body deskline writes, bytes (with its NUL). */
#define SDP_MAX 1024

enum call_state {
	CS_INCOMING = 0,  /**< INVITE answered, waiting for the ACK */
	CS_MENU,          /**< the menu machine has the call */
	CS_TRUNK,         /**< B-leg INVITE to a trunk sent, not answered yet */
	CS_QUEUE,         /**< hunting a clerk: music, claims, clerk phones ringing */
	CS_DIRECT,        /**< clerk-to-clerk call: B-leg ringing, A-leg not answered yet */
	CS_FEATURE,       /**< a clerk's feature code: state change, confirmation prompt */
	CS_BRIDGED,       /**< both legs up, RTP relayed */
	CS_ENDING,        /**< BYE/CANCEL sent, waiting for the legs to terminate */
};

enum call_kind {
	CALL_RESIDENT = 0, /**< to a department number: the menu (Procedure 46 §1) */
	CALL_FEATURE,      /**< a clerk dialled a feature code */
	CALL_DIRECT,       /**< a clerk (or a trunk) dialled a clerk's extension */
};

struct leg {
	nua_handle_t *nh;
	struct media_leg *media;
	struct sdp_session_params params;
	bool has_params;
	bool answered;        /**< 2xx sent (A) or received (B) */
	bool offer_pending;   /**< we sent an offer in a 2xx; the answer comes in the ACK */
	bool bye_sent;        /**< nothing more to send to end it: BYE sent, or the INVITE failed */
	bool cancel_sent;     /**< CANCEL sent while it rang; a 200 that crosses it still gets BYE */
	uint64_t sess_id;
	uint64_t sess_ver;
	char *sdp;            /**< last SDP we sent on this leg, NULL before the first; malloc'd to
	                       *   its length (a few hundred bytes), freed by call_leg_release() */
};

/** A clerk's phone being rung for a queue call. */
struct ring {
	struct leg leg;
	char clerk[64];
	bool active;
};

struct call {
	struct call *prev, *next;
	struct app *app;
	struct dl_runtime *rt;
	nua_t *nua;
	unsigned refs;              /**< the call list and every pending Redis reply */
	bool dead;                  /**< ended: CDR written, out of the list */
	enum call_kind kind;
	enum call_state state;
	struct leg a, b;
	char call_id[128];
	char early_digits[16];      /**< keys pressed before the ACK started the menu */
	char caller[64];
	char caller_name[64];
	char called[64];
	char from_host[128];
	struct ivr *ivr;
	su_timer_t *ivr_timer;
	su_timer_t *ring_timer;
	const struct dl_trunk *trunk;
	unsigned trunk_attempts;
	char route[96];
	char result[32];
	char detail[96];
	uint64_t start_ms, answer_ms, bridge_ms;
	struct media_stats rtp_a;   /**< A-leg RTP counters, kept when its media closes */

	/* queue (call_hunt.c) */
	const struct dl_queue *queue;
	/* Queue calls only, allocated by hunt_start(): ~11 KiB that menu and trunk calls (most
	 * calls) never touch, so they do not carry it. */
	struct ring *rings;         /**< n_rings slots (CALL_MAX_RINGS once hunting) */
	size_t n_rings;
	char (*tried)[64];          /**< CALL_MAX_TRIED clerk ids, n_tried of them used */
	size_t n_tried;
	unsigned hunt_attempts;
	su_timer_t *queue_timer;    /**< max wait */
	su_timer_t *hunt_timer;     /**< next claim */
	bool claim_pending;
	uint64_t queue_start_ms;
	char agent[64];             /**< clerk on the call (on_call in Redis) */
	char overflow[32];          /**< why the call was not answered: queue overflow, "closed" */
	char tried_log[512];        /**< clerks rung and how each ended, for the ticket */

	/* ticket (Procedure 46 §4) */
	char ticket[32];            /**< id of the ticket opened for this call, "" if none */
	const struct dl_action *trunk_action; /**< trunk action waiting for its ticket */

	/* clerk calls (call_clerk.c) */
	const struct dl_clerk *from_clerk;
	const struct dl_clerk *to_clerk;
	bool direct_counted;        /**< direct_calls was raised for both clerks */
	enum agent_state feature_state;
};

/* call.c */
int call_alloc(struct call **callp, struct app *app, nua_t *nua, nua_handle_t *nh,
	       sip_t const *sip);
void call_reject(struct call *call, int status, const char *phrase);
int call_a_setup(struct call *call, sip_t const *sip, enum dl_inband_dtmf inband);
void call_a_answer(struct call *call);
uint64_t call_wall_ms(void);
void call_copy_str(char *dst, size_t size, const char *src);
void call_set_result(struct call *call, const char *result, const char *detail);
struct call *call_ref(struct call *call);
void call_unref(struct call *call);
int call_leg_write_sdp(struct call *call, struct leg *leg, bool offer);
int call_leg_take_answer(struct call *call, struct leg *leg, sip_t const *sip);
int call_leg_answer_offer(struct call *call, struct leg *leg, sip_t const *sip, int *status,
			  const char **phrase);
bool call_sip_has_sdp(sip_t const *sip);
void call_leg_release(struct leg *leg);
void call_leg_end(struct leg *leg);
void call_hangup(struct call *call, const char *result, const char *detail);
void call_apply(struct call *call, const struct ivr_output *out);
void call_play(struct call *call, const char *prompt, bool loop);
int call_open_b_leg(struct call *call, struct leg *b, const char *uri, const char *to,
		    const char *from, const char *headers);
void call_from_header(struct call *call, char *buf, size_t size, const char *user,
		      const char *display);
extern const struct media_leg_handlers call_leg_handlers;

/* call_hunt.c */
void hunt_start(struct call *call, const struct dl_action *action);
struct ring *hunt_ring_of(struct call *call, nua_handle_t *nh);
void hunt_ring_response(struct call *call, struct ring *ring, int status, char const *phrase,
			sip_t const *sip);
void hunt_caller_gone(struct call *call);
void hunt_call_over(struct call *call);
size_t hunt_live_calls(struct app *app, const char **ids, size_t max);

/* call_clerk.c */
bool clerk_incoming(struct app *app, nua_t *nua, nua_handle_t *nh, sip_t const *sip);
void clerk_feature_ack(struct call *call);
void clerk_feature_play_done(struct call *call);
void clerk_direct_response(struct call *call, int status, char const *phrase, sip_t const *sip);
void clerk_direct_over(struct call *call);

#endif
