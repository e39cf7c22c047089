/**
 * @file call_clerk.c  Calls clerks make from their desk phones: feature codes (log in, log out,
 *                     break, back) and direct calls to another clerk's extension.
 *
 * Both need the caller to be an authenticated clerk (Proxy-Authorization digest, 407 to
 * challenge; RFC 3261 §22.3) — or, for an extension only, a configured trunk (by source
 * address). Nothing else is routed: deskline is no open relay.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>

#include "deskline/log.h"
#include "deskline/presence.h"
#include "deskline/registrar.h"
#include "call_int.h"

/** How long a clerk's phone rings on a direct call before the caller gets 480 (ms). */
#define DIRECT_RING_TIMEOUT_MS 45000

/** The state a dialled string asks for, when it is one of the feature codes. */
static bool feature_of(const struct dl_features *f, const char *user, enum agent_state *state)
{
	if (!user)
		return false;
	const struct {
		const char *code;
		enum agent_state state;
	} codes[] = {
		{ f->login, AGENT_AVAILABLE },
		{ f->logout, AGENT_LOGGED_OUT },
		{ f->break_start, AGENT_BREAK },
		{ f->break_end, AGENT_AVAILABLE },
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (codes[i].code && strcmp(codes[i].code, user) == 0) {
			*state = codes[i].state;
			return true;
		}
	}
	return false;
}

/** Source address of the request being handled, as text. */
static void request_source(nua_t *nua, char *buf, size_t size)
{
	msg_t *msg = nua_current_request(nua);
	su_sockaddr_t *su = msg ? msg_addr(msg) : NULL;

	buf[0] = '\0';
	if (!su)
		return;
	if (su->su_family == AF_INET)
		inet_ntop(AF_INET, &su->su_sin.sin_addr, buf, (socklen_t)size);
	else if (su->su_family == AF_INET6)
		inet_ntop(AF_INET6, &su->su_sin6.sin6_addr, buf, (socklen_t)size);
}

static void start_direct(struct call *call);

bool clerk_incoming(struct app *app, nua_t *nua, nua_handle_t *nh, sip_t const *sip)
{
	const struct dl_config *cfg = app->rt->cfg;
	const char *user = sip->sip_request->rq_url->url_user;
	const struct dl_clerk *target = user ? config_clerk_by_extension(cfg, user) : NULL;
	const struct dl_clerk *from = NULL;
	enum agent_state state = AGENT_LOGGED_OUT;
	bool feature = feature_of(&cfg->features, user, &state);
	char source[64];
	struct call *call;

	if (!feature && !target)
		return false;

	request_source(nua, source, sizeof(source));
	const struct dl_trunk *trunk = config_trunk_by_source(cfg, source);
	if (feature || !trunk) {
		if (!app->registrar ||
		    registrar_authenticate_call(app->registrar, cfg, nh, sip, &from) != 0)
			return true; /* answered: 407 challenge or 403 */
	}
	if (call_alloc(&call, app, nua, nh, sip) != 0) {
		nua_respond(nh, 503, "Service Unavailable", TAG_END());
		return true;
	}
	nua_handle_bind(nh, (nua_hmagic_t *)call);
	call->from_clerk = from;
	snprintf(call->route, sizeof(call->route), "%s:%s", feature ? "feature" : "extension",
		 user);

	if (feature) {
		call->kind = CALL_FEATURE;
		call->feature_state = state;
		log_info(call->call_id, "clerk %s dialled %s (%s)", from->id, user,
			 agent_state_name(state));
		if (call_a_setup(call, sip, DL_INBAND_OFF) != 0)
			return true;
		call_a_answer(call);
		return true;
	}

	call->kind = CALL_DIRECT;
	call->to_clerk = target;
	log_info(call->call_id, "%s %s calls clerk %s (%s)", from ? "clerk" : "trunk",
		 from ? from->id : trunk->name, target->id, target->extension);
	if (from && strcmp(from->id, target->id) == 0) {
		call_reject(call, 486, "Busy Here");
		return true;
	}
	if (call_a_setup(call, sip, DL_INBAND_OFF) != 0)
		return true;
	start_direct(call);
	return true;
}

/* ---- feature codes ---------------------------------------------------------------------- */

static void feature_finish(struct call *call, bool ok, const char *detail)
{
	const struct dl_features *f = &call->rt->cfg->features;
	const char *prompt = ok ? f->ok_prompt : f->error_prompt;

	call_set_result(call, ok ? "feature-ok" : "feature-refused", detail);
	log_info(call->call_id, "clerk %s → %s: %s%s%s", call->from_clerk->id,
		 agent_state_name(call->feature_state), ok ? "done" : "refused",
		 detail ? ", " : "", detail ? detail : "");
	if (prompt && prompt[0] && call->a.media) {
		call_play(call, prompt, false);
		return; /* hang up when the prompt has been played */
	}
	call_hangup(call, NULL, NULL);
}

static void on_state(int err, const char *detail, void *arg)
{
	struct call *call = arg;

	if (!call->dead && call->state == CS_FEATURE)
		feature_finish(call, err == 0,
			       err == 0 ? NULL : err == ENOTCONN ? "redis unreachable"
			       : detail ? detail : "error");
	call_unref(call);
}

void clerk_feature_ack(struct call *call)
{
	call->state = CS_FEATURE;
	if (!presence_connected(call->app->presence)) {
		feature_finish(call, false, "redis unreachable");
		return;
	}
	if (presence_set_state(call->app->presence, call->from_clerk->id, call->feature_state,
			       "feature code", on_state, call_ref(call)) != 0) {
		call_unref(call);
		feature_finish(call, false, "out of memory");
	}
}

void clerk_feature_play_done(struct call *call)
{
	call_hangup(call, NULL, NULL);
}

/* ---- direct calls ----------------------------------------------------------------------- */

static void direct_ring_timeout(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct call *call = (struct call *)arg;

	(void)magic;
	(void)t;
	if (call->state == CS_DIRECT)
		clerk_direct_response(call, 480, "Temporarily Unavailable", NULL);
}

static void count_direct(struct call *call, int delta)
{
	struct presence *p = call->app->presence;

	if (!p)
		return;
	presence_direct_call(p, call->to_clerk->id, delta, NULL, NULL);
	if (call->from_clerk)
		presence_direct_call(p, call->from_clerk->id, delta, NULL, NULL);
}

static void start_direct(struct call *call)
{
	const char *contact = registrar_contact(call->app->registrar, call->to_clerk->id);
	const struct dl_clerk *from = call->from_clerk;
	char from_hdr[256], to[160];

	if (!contact) {
		log_info(call->call_id, "clerk %s has no registered phone", call->to_clerk->id);
		call_reject(call, 480, "Temporarily Unavailable");
		return;
	}
	if (from)
		call_from_header(call, from_hdr, sizeof(from_hdr), from->extension, from->name);
	else
		call_from_header(call, from_hdr, sizeof(from_hdr), call->caller, call->caller_name);
	snprintf(to, sizeof(to), "<sip:%s@%s>", call->to_clerk->extension, call->from_host);
	if (call_open_b_leg(call, &call->b, contact, to, from_hdr, NULL) != 0) {
		call_reject(call, 500, "Internal error");
		return;
	}
	call->state = CS_DIRECT;
	count_direct(call, +1);
	call->direct_counted = true;
	su_timer_set_interval(call->ring_timer, direct_ring_timeout, (su_timer_arg_t *)call,
			      DIRECT_RING_TIMEOUT_MS);
}

void clerk_direct_response(struct call *call, int status, char const *phrase, sip_t const *sip)
{
	struct leg *b = &call->b;

	if (call->state != CS_DIRECT) {
		if (status >= 200 && status < 300 && call->state != CS_BRIDGED) {
			b->answered = true;
			call_leg_end(b);
		}
		return;
	}
	if (status < 200) {
		if (status >= 180 && !call->a.answered)
			nua_respond(call->a.nh, SIP_180_RINGING, TAG_END());
		return;
	}
	su_timer_reset(call->ring_timer);
	if (status < 300) {
		b->answered = true;
		if (!sip || !call_sip_has_sdp(sip) || call_leg_take_answer(call, b, sip) != 0) {
			call_leg_end(b);
			call_reject(call, 502, "Bad Gateway");
			return;
		}
		call_a_answer(call);
		media_bridge(call->a.media, b->media, true);
		call->state = CS_BRIDGED;
		call->bridge_ms = call_wall_ms();
		snprintf(call->detail, sizeof(call->detail), "clerk %s", call->to_clerk->id);
		log_info(call->call_id, "clerk %s answered", call->to_clerk->id);
		return;
	}
	/* The callee's refusal goes back to the caller as it came (a 401/407 of the callee's
	 * phone is not the caller's business). */
	if (status == 401 || status == 407)
		status = 500;
	if (sip)
		b->bye_sent = true; /* a final response ended the INVITE: nothing to CANCEL */
	call_leg_end(b);
	call_leg_release(b);
	call_set_result(call, status == 486 || status == 600 ? "busy" : "no-answer", NULL);
	call_reject(call, status, phrase ? phrase : "Failed");
}

void clerk_direct_over(struct call *call)
{
	if (!call->direct_counted)
		return;
	call->direct_counted = false;
	count_direct(call, -1);
}
