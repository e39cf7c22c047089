/**
 * @file call.c  One call's life: A-leg (UAS) → menu → B-leg (UAC) to a trunk, with deskline's own
 *               RTP in between (B2BUA). Procedure 46 §1–§2.
 *
 * The NUA stack runs with media disabled (NUTAG_MEDIA_ENABLE(0)): SDP offer/answer is done here with
 * the pure sdp module, so the answer always carries exactly what media.c sends and receives.
 *
 * Lifetime: a call exists from the INVITE until both legs' handles have reported
 * nua_callstate_terminated and been destroyed. Legs that are let go early (a B-leg that failed or
 * was cancelled) are unbound from the call and destroyed by call_nua_event() when they end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/url.h>

#include "deskline/call.h"
#include "deskline/cdr.h"
#include "deskline/heap.h"
#include "deskline/ivr.h"
#include "deskline/log.h"
#include "deskline/media.h"
#include "deskline/sdp.h"
#include "deskline/presence.h"
#include "deskline/registrar.h"
#include "deskline/ticket.h"
#include "deskline/calendar.h"
#include "call_int.h"

/** Period of the sweep that checks RTP timeouts and drain, ms. */
#define SWEEP_INTERVAL_MS 1000

static void call_trunk_failed(struct call *call, const char *detail);

/* ---- runtime ---------------------------------------------------------------------------- */

int runtime_load(struct dl_runtime **rtp, const char *path, struct dl_config_errors *errs)
{
	struct dl_runtime *rt = calloc(1, sizeof(*rt));
	int err;

	if (!rt)
		return ENOMEM;
	rt->refs = 1;
	err = config_load(&rt->cfg, path, errs);
	if (err)
		goto out;
	err = prompt_set_load(&rt->prompts, rt->cfg, errs);
 out:
	if (err) {
		runtime_unref(rt);
		return err;
	}
	*rtp = rt;
	return 0;
}

struct dl_runtime *runtime_ref(struct dl_runtime *rt)
{
	if (rt)
		rt->refs++;
	return rt;
}

void runtime_unref(struct dl_runtime *rt)
{
	if (!rt || --rt->refs > 0)
		return;
	prompt_set_free(rt->prompts);
	config_unref(rt->cfg);
	free(rt);
}

/* ---- helpers ---------------------------------------------------------------------------- */

uint64_t call_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)(ts.tv_nsec / 1000000L);
}

void call_copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

void call_set_result(struct call *call, const char *result, const char *detail)
{
	if (call->result[0] == '\0' && result)
		call_copy_str(call->result, sizeof(call->result), result);
	if (detail && call->detail[0] == '\0')
		call_copy_str(call->detail, sizeof(call->detail), detail);
}

static const char *state_name(enum call_state s)
{
	switch (s) {
	case CS_INCOMING: return "incoming";
	case CS_MENU:     return "menu";
	case CS_TRUNK:    return "trunk";
	case CS_QUEUE:    return "queue";
	case CS_DIRECT:   return "direct";
	case CS_FEATURE:  return "feature";
	case CS_BRIDGED:  return "bridged";
	case CS_ENDING:   return "ending";
	}
	return "?";
}

static int callstate_of(tagi_t const *tags)
{
	int cs = -1;
	tl_gets(tags, NUTAG_CALLSTATE_REF(cs), TAG_END());
	return cs;
}

/**
 * Write our SDP for a leg: what its params say, or a full offer when it has none yet (RFC 3264
 * §5, §6). The text goes to leg->sdp, (re)allocated to its length; the o= version goes up only
 * when the description changed (§8). Returns 0, ENOSPC if it would exceed SDP_MAX bytes, or
 * ENOMEM (leg->sdp then keeps the previous text).
 */
int call_leg_write_sdp(struct call *call, struct leg *leg, bool offer)
{
	const struct dl_config *cfg = call->rt->cfg;
	enum dl_codec codecs[2];
	uint8_t pts[2];
	struct sdp_local l = {
		.addr = media_leg_address(leg->media),
		.port = media_leg_port(leg->media),
		.sess_id = leg->sess_id,
		.sess_version = leg->sess_ver,
		.ptime_ms = cfg->media.ptime_ms,
	};
	char buf[SDP_MAX];
	int n;

	if (offer || !leg->has_params) {
		/* Offer our codecs; on a B-leg the A-leg's codec goes first so nothing is transcoded. */
		size_t k = 0;
		if (leg == &call->b && call->a.has_params)
			codecs[k++] = call->a.params.codec;
		for (size_t i = 0; i < cfg->media.n_codecs && k < 2; i++)
			if (k == 0 || codecs[0] != cfg->media.codecs[i])
				codecs[k++] = cfg->media.codecs[i];
		for (size_t i = 0; i < k; i++)
			pts[i] = (uint8_t)codecs[i];
		l.codecs = codecs;
		l.pts = pts;
		l.n_codecs = k;
		l.pt_event = cfg->media.telephone_event_pt;
		l.dir = SDP_SENDRECV;
	} else {
		codecs[0] = leg->params.codec;
		pts[0] = leg->params.pt;
		l.codecs = codecs;
		l.pts = pts;
		l.n_codecs = 1;
		l.pt_event = leg->params.pt_event;
		l.dir = leg->params.local_dir;
	}
	n = sdp_write(buf, sizeof(buf), &l);
	if (n < 0)
		return ENOSPC;
	/* RFC 3264 §8: the version goes up only when the description changes. */
	if (leg->sdp && strcmp(buf, leg->sdp) != 0) {
		leg->sess_ver++;
		l.sess_version = leg->sess_ver;
		n = sdp_write(buf, sizeof(buf), &l);
		if (n < 0)
			return ENOSPC;
	}
	char *copy = realloc(leg->sdp, (size_t)n + 1);
	if (!copy)
		return ENOMEM;
	memcpy(copy, buf, (size_t)n + 1);
	leg->sdp = copy;
	return 0;
}

/** Apply a negotiated description to a leg's media. */
static int leg_set_params(struct call *call, struct leg *leg, const struct sdp_session_params *p,
			  int rx_event_pt)
{
	int err = media_leg_set_remote(leg->media, p, rx_event_pt);
	if (err) {
		log_warn(call->call_id, "SDP address %s is not an IP address", p->addr);
		return err;
	}
	leg->params = *p;
	leg->has_params = true;
	return 0;
}

bool call_sip_has_sdp(sip_t const *sip)
{
	if (!sip || !sip->sip_payload || sip->sip_payload->pl_len == 0)
		return false;
	if (sip->sip_content_type && sip->sip_content_type->c_type &&
	    strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0)
		return false;
	return true;
}

/**
 * Answer an offer that came on @p leg. On failure fills in the SIP status and reason phrase.
 */
int call_leg_answer_offer(struct call *call, struct leg *leg, sip_t const *sip, int *status,
			    const char **phrase)
{
	const struct dl_config *cfg = call->rt->cfg;
	struct sdp_remote remote;
	struct sdp_session_params p;
	int err;

	err = sdp_parse_remote(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &remote);
	if (err == EBADMSG) {
		*status = 400;
		*phrase = "Malformed SDP";
		return err;
	}
	if (err) {
		*status = 488;
		*phrase = "No audio stream in SDP";
		return err;
	}
	err = sdp_negotiate(&remote, cfg->media.codecs, cfg->media.n_codecs, &p);
	if (err) {
		*status = 488;
		*phrase = "No common codec (PCMU/PCMA)";
		return err;
	}
	err = leg_set_params(call, leg, &p, p.pt_event);
	if (err) {
		*status = 488;
		*phrase = "Unsupported media address";
		return err;
	}
	err = call_leg_write_sdp(call, leg, false);
	if (err) {
		*status = 500;
		*phrase = "Internal error";
	}
	return err;
}

/** Take the answer to our offer from a response or an ACK. */
int call_leg_take_answer(struct call *call, struct leg *leg, sip_t const *sip)
{
	struct sdp_remote remote;
	struct sdp_session_params p;
	int err;

	err = sdp_parse_remote(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &remote);
	if (!err)
		err = sdp_accept_answer(&remote, &p);
	if (!err)
		err = leg_set_params(call, leg, &p, call->rt->cfg->media.telephone_event_pt);
	if (err)
		log_warn(call->call_id, "unusable SDP answer on the %s-leg",
			 leg == &call->a ? "A" : "B");
	leg->offer_pending = false;
	return err;
}

/* ---- call list, end --------------------------------------------------------------------- */

/** Close a leg's media, keeping the A-leg's counters for the end-of-call log line. */
static void leg_close_media(struct call *call, struct leg *leg)
{
	if (!leg->media)
		return;
	if (leg == &call->a)
		media_leg_stats(leg->media, &call->rtp_a);
	media_leg_free(leg->media);
	leg->media = NULL;
}

/** Free a leg's media and its last SDP; the leg's handle is left as it is. */
static void leg_free_memory(struct leg *leg)
{
	media_leg_free(leg->media);
	leg->media = NULL;
	free(leg->sdp);
	leg->sdp = NULL;
}

/** The last reference is gone: free what the call still holds. */
static void call_destroy(struct call *call)
{
	su_timer_destroy(call->ivr_timer);
	su_timer_destroy(call->ring_timer);
	su_timer_destroy(call->queue_timer);
	su_timer_destroy(call->hunt_timer);
	leg_free_memory(&call->a);
	leg_free_memory(&call->b);
	for (size_t i = 0; i < call->n_rings; i++)
		leg_free_memory(&call->rings[i].leg);
	ivr_free(call->ivr);
	runtime_unref(call->rt);
	free(call->rings);
	free(call->tried);
	free(call);
}

struct call *call_ref(struct call *call)
{
	call->refs++;
	return call;
}

void call_unref(struct call *call)
{
	if (call && --call->refs == 0)
		call_destroy(call);
}

/** Write the CDR, leave the call list; the memory goes with the last reference. */
static void call_end(struct call *call)
{
	struct app *app = call->app;
	struct cdr_record r = {
		.call_id = call->call_id,
		.caller = call->caller,
		.caller_name = call->caller_name,
		.called = call->called,
		.path = call->ivr ? ivr_path(call->ivr) : "",
		.route = call->route,
		.result = call->result[0] ? call->result : "ended",
		.detail = call->detail,
		.ticket = call->ticket,
		.start_ms = call->start_ms,
		.answer_ms = call->answer_ms,
		.bridge_ms = call->bridge_ms,
		.end_ms = call_wall_ms(),
	};
	int err;

	if (call->dead)
		return;
	hunt_call_over(call);
	clerk_direct_over(call);
	err = cdr_write(app->cdr, &r);
	if (err)
		log_err(call->call_id, "CDR not written: %s", strerror(err));
	leg_close_media(call, &call->a);
	log_info(call->call_id, "call ended: %s%s%s, path \"%s\"; A-leg RTP rx %llu tx %llu "
		 "bad %llu", r.result, call->detail[0] ? " " : "", call->detail, r.path,
		 (unsigned long long)call->rtp_a.rx_packets,
		 (unsigned long long)call->rtp_a.tx_packets,
		 (unsigned long long)call->rtp_a.rx_errors);

	call->dead = true;
	su_timer_reset(call->ivr_timer);
	su_timer_reset(call->ring_timer);
	su_timer_reset(call->queue_timer);
	su_timer_reset(call->hunt_timer);
	if (call->prev)
		call->prev->next = call->next;
	else
		app->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	app->n_calls--;
	call_unref(call);
}

/** Every leg gone? Then the call is over. */
static void call_check_done(struct call *call)
{
	if (call->a.nh || call->b.nh)
		return;
	for (size_t i = 0; i < call->n_rings; i++)
		if (call->rings[i].active)
			return;
	call_end(call);
}

/**
 * Let a leg go: its media is closed now; its handle is unbound from the call and destroyed by
 * call_nua_event() once the stack reports it terminated.
 */
void call_leg_release(struct leg *leg)
{
	leg_free_memory(leg);
	if (leg->nh) {
		nua_handle_bind(leg->nh, NULL);
		leg->nh = NULL;
	}
	memset(leg, 0, sizeof(*leg));
}

/**
 * End a leg from our side: BYE when answered, CANCEL while it is still ringing. Called again
 * when a 200 crossed the CANCEL (RFC 3261 §9.1: the CANCEL then has no effect), it sends the BYE
 * that hangs the answered side up.
 */
void call_leg_end(struct leg *leg)
{
	if (!leg->nh || leg->bye_sent)
		return;
	if (leg->answered) {
		leg->bye_sent = true;
		nua_bye(leg->nh, TAG_END());
	} else if (!leg->cancel_sent) {
		leg->cancel_sent = true;
		nua_cancel(leg->nh, TAG_END());
	}
}

void call_hangup(struct call *call, const char *result, const char *detail)
{
	call_set_result(call, result, detail);
	call->state = CS_ENDING;
	su_timer_reset(call->ivr_timer);
	su_timer_reset(call->ring_timer);
	if (call->a.media)
		media_leg_stop(call->a.media);
	call_leg_end(&call->a);
	call_leg_end(&call->b);
}

/* ---- menu ------------------------------------------------------------------------------- */

static void ivr_timer_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct call *call = (struct call *)arg;
	struct ivr_output out;

	(void)magic;
	(void)t;
	if (call->state != CS_MENU)
		return;
	ivr_timeout(call->ivr, media_now_ms(), &out);
	call_apply(call, &out);
}

static void on_digit(struct media_leg *ml, char digit, void *arg)
{
	struct call *call = arg;
	struct ivr_output out;

	log_debug(call->call_id, "DTMF %c (%s)", digit, state_name(call->state));
	if (ml != call->a.media)
		return;
	if (call->state == CS_INCOMING && call->kind == CALL_RESIDENT) {
		/* A key pressed between our 200 and the caller's ACK: the menu gets it first thing
		 * (a phone may send RTP, and a caller may press, before its ACK reaches us). */
		size_t n = strlen(call->early_digits);
		if (n + 1 < sizeof(call->early_digits)) {
			call->early_digits[n] = digit;
			call->early_digits[n + 1] = '\0';
		}
		return;
	}
	if (call->state != CS_MENU)
		return;
	ivr_digit(call->ivr, digit, media_now_ms(), &out);
	call_apply(call, &out);
}

static void on_play_done(struct media_leg *ml, void *arg)
{
	struct call *call = arg;
	struct ivr_output out;

	if (ml != call->a.media)
		return;
	if (call->state == CS_FEATURE) {
		clerk_feature_play_done(call);
		return;
	}
	if (call->state != CS_MENU)
		return;
	ivr_playback_done(call->ivr, media_now_ms(), &out);
	call_apply(call, &out);
}

const struct media_leg_handlers call_leg_handlers = {
	.digit = on_digit,
	.play_done = on_play_done,
};

static void call_start_menu(struct call *call)
{
	struct ivr_output out;
	const struct dl_config *cfg = call->rt->cfg;
	int err = ivr_alloc(&call->ivr, cfg, cfg->start_menu, NULL, media_now_ms(), &out);

	if (err) {
		log_err(call->call_id, "cannot start menu %s: %s", cfg->start_menu, strerror(err));
		call_hangup(call, "error", "menu");
		return;
	}
	call->state = CS_MENU;
	/* Outside business hours (Procedure 46 §6 calendar) the closed actions run instead. */
	if (cfg->on_closed.n && !calendar_is_open(&cfg->calendar, time(NULL))) {
		call_copy_str(call->overflow, sizeof(call->overflow), "closed");
		log_info(call->call_id, "outside business hours");
		ivr_run(call->ivr, &cfg->on_closed, media_now_ms(), &out);
	}
	call_apply(call, &out);
	for (const char *d = call->early_digits; *d && call->state == CS_MENU; d++) {
		ivr_digit(call->ivr, *d, media_now_ms(), &out);
		call_apply(call, &out);
	}
	call->early_digits[0] = '\0';
}

static void call_start_trunk(struct call *call, const struct dl_action *action);

void call_apply(struct call *call, const struct ivr_output *out)
{
	if (call->state != CS_MENU)
		return;
	if (out->stop_playback)
		media_leg_stop(call->a.media);
	if (out->n_play > 0) {
		const struct prompt *list[IVR_MAX_PLAY];
		size_t n = 0;
		for (size_t i = 0; i < out->n_play && i < IVR_MAX_PLAY; i++) {
			const struct prompt *p = prompt_set_get(call->rt->prompts, out->lang,
								out->play[i]);
			if (p)
				list[n++] = p;
			else
				log_warn(call->call_id, "prompt %s/%s not loaded", out->lang,
					 out->play[i]);
		}
		media_leg_play(call->a.media, list, n, false);
		log_debug(call->call_id, "play %s%s%s%s%s%s%s (%s)", out->play[0],
			  out->n_play > 1 ? ", " : "", out->n_play > 1 ? out->play[1] : "",
			  out->n_play > 2 ? ", " : "", out->n_play > 2 ? out->play[2] : "",
			  out->n_play > 3 ? ", " : "", out->n_play > 3 ? out->play[3] : "", out->lang);
	}
	su_timer_reset(call->ivr_timer);
	if (out->deadline_ms) {
		mstime_t now = media_now_ms();
		su_duration_t ms = out->deadline_ms > now ? (su_duration_t)(out->deadline_ms - now) : 1;
		su_timer_set_interval(call->ivr_timer, ivr_timer_cb, (su_timer_arg_t *)call, ms);
	}

	switch (out->exit) {
	case IVR_EXIT_NONE:
		break;
	case IVR_EXIT_TRUNK:
		call_start_trunk(call, out->action);
		break;
	case IVR_EXIT_QUEUE:
		hunt_start(call, out->action);
		break;
	case IVR_EXIT_HANGUP:
		call_hangup(call, "menu-hangup", NULL);
		break;
	}
}

/* ---- B-leg ------------------------------------------------------------------------------ */

static void ring_timer_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct call *call = (struct call *)arg;

	(void)magic;
	(void)t;
	if (call->state != CS_TRUNK)
		return;
	log_notice(call->call_id, "trunk %s did not answer in %u ms", call->trunk->name,
		   call->trunk->ring_timeout_ms);
	call_trunk_failed(call, "ring timeout");
}

/** Host part for From on B-legs: the address the first listen URI names. */
static void call_set_from_host(struct call *call)
{
	const struct dl_config *cfg = call->rt->cfg;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	url_t *url = cfg->n_listen ? url_make(home, cfg->listen[0]) : NULL;
	const char *host = url && url->url_host ? url->url_host : "localhost";

	if (url && url->url_port)
		snprintf(call->from_host, sizeof(call->from_host), "%s:%s", host, url->url_port);
	else
		call_copy_str(call->from_host, sizeof(call->from_host), host);
	if (strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0)
		call_copy_str(call->from_host, sizeof(call->from_host), cfg->media.address);
	su_home_deinit(home);
}

/** Is @p s safe inside a quoted display name / URI user part? */
static bool plain_token(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || *s == '<' || *s == '>' || *s == '\r' || *s == '\n')
			return false;
	return true;
}

void call_from_header(struct call *call, char *buf, size_t size, const char *user,
		      const char *display)
{
	int n;

	if (!user || !user[0] || !plain_token(user))
		user = "deskline";
	if (display && display[0] && plain_token(display))
		n = snprintf(buf, size, "\"%s\" <sip:%s@%s>", display, user, call->from_host);
	else
		n = snprintf(buf, size, "<sip:%s@%s>", user, call->from_host);
	if (n < 0 || (size_t)n >= size)
		snprintf(buf, size, "<sip:deskline@%s>", call->from_host);
}

int call_open_b_leg(struct call *call, struct leg *b, const char *uri, const char *to,
		    const char *from, const char *headers)
{
	int err = media_leg_alloc(&b->media, call->app->media, call->a.media, DL_INBAND_OFF,
				  &call_leg_handlers, call);

	if (err) {
		log_err(call->call_id, "no RTP port for a B-leg: %s", strerror(err));
		return err;
	}
	b->sess_id = call_wall_ms();
	b->sess_ver = 1;
	err = call_leg_write_sdp(call, b, true);
	if (err)
		return err;
	b->nh = nua_handle(call->nua, (nua_hmagic_t *)call, NUTAG_URL(uri), SIPTAG_TO_STR(to),
			   SIPTAG_FROM_STR(from), TAG_END());
	if (!b->nh)
		return ENOMEM;
	nua_invite(b->nh,
		   SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(b->sdp),
		   TAG_IF(headers && headers[0], SIPTAG_HEADER_STR(headers)),
		   TAG_END());
	return 0;
}

void call_play(struct call *call, const char *prompt, bool loop)
{
	const struct prompt *p = prompt && prompt[0]
		? prompt_set_get(call->rt->prompts, call->ivr ? ivr_lang(call->ivr) : NULL, prompt)
		: NULL;

	if (p)
		media_leg_play(call->a.media, &p, 1, loop);
	else if (loop)
		media_leg_ringback(call->a.media);
	else
		media_leg_play(call->a.media, NULL, 0, false);
}

/** Send the B-leg INVITE to the trunk (after its ticket, when it opens tickets). */
static void trunk_invite(struct call *call, const struct dl_action *action)
{
	const struct dl_config *cfg = call->rt->cfg;
	const struct dl_trunk *trunk = call->trunk;
	char from[256], headers[1024];
	size_t hlen = 0;

	if (trunk->keep_caller_id)
		call_from_header(call, from, sizeof(from),
				 call->caller[0] ? call->caller : trunk->from_user,
				 call->caller_name);
	else
		call_from_header(call, from, sizeof(from), trunk->from_user, NULL);

	struct dl_header extra[3];
	size_t n_extra = 0;
	if (call->ticket[0]) {
		/* The call-center agent sees the ticket and why the call came (Procedure 46 §4). */
		extra[n_extra++] = (struct dl_header){ cfg->tickets.header_ticket, call->ticket };
		extra[n_extra++] = (struct dl_header){ cfg->tickets.header_menu_path,
						       (char *)(call->ivr ? ivr_path(call->ivr) : "") };
		extra[n_extra++] = (struct dl_header){ cfg->tickets.header_reason,
						       call->overflow[0] ? call->overflow
									 : (char *)"menu" };
	}
	headers[0] = '\0';
	for (size_t i = 0; i < action->n_headers + n_extra; i++) {
		const struct dl_header *h = i < action->n_headers ? &action->headers[i]
								 : &extra[i - action->n_headers];
		if (!h->name || !h->value || !h->value[0])
			continue;
		int n = snprintf(headers + hlen, sizeof(headers) - hlen, "%s%s: %s",
				 hlen ? "\r\n" : "", h->name, h->value);
		if (n < 0 || (size_t)n >= sizeof(headers) - hlen)
			break;
		hlen += (size_t)n;
	}

	if (call_open_b_leg(call, &call->b, trunk->uri, trunk->uri, from, headers) != 0) {
		call_trunk_failed(call, "cannot open the B-leg");
		return;
	}
	su_timer_set_interval(call->ring_timer, ring_timer_cb, (su_timer_arg_t *)call,
			      (su_duration_t)trunk->ring_timeout_ms);
	/* One log line: the headers' CRLFs shown as "; ". */
	for (char *c = headers; *c; c++)
		if (*c == '\r' || *c == '\n')
			*c = *c == '\r' ? ';' : ' ';
	log_info(call->call_id, "to trunk %s (%s)%s%s", trunk->name, trunk->uri,
		 hlen ? " with " : "", headers);
}

/** The category of an unanswered call: the label of the last menu choice ("…(label)"). */
static void path_category(const char *path, char *buf, size_t size)
{
	const char *open = strrchr(path, '(');
	const char *close = open ? strchr(open, ')') : NULL;

	if (!open || !close)
		call_copy_str(buf, size, "");
	else
		snprintf(buf, size, "%.*s", (int)(close - open - 1), open + 1);
}

static void on_ticket(int err, const struct ticket_opened *t, void *arg)
{
	struct call *call = arg;

	if (!err) {
		/* ticket.c has logged it (id, clerk, due time). */
		call_copy_str(call->ticket, sizeof(call->ticket), t->id);
	} else {
		log_err(call->call_id, "ticket not stored: %s", strerror(err));
	}
	if (!call->dead && call->state == CS_TRUNK && call->trunk_action) {
		const struct dl_action *action = call->trunk_action;
		call->trunk_action = NULL;
		trunk_invite(call, action);
	}
	call_unref(call);
}

/** Open the ticket of an unanswered call before it goes to a trunk that opens tickets. */
static int call_open_ticket(struct call *call)
{
	char category[96];
	const char *path = call->ivr ? ivr_path(call->ivr) : "";
	struct ticket_new tn = {
		.call_id = call->call_id,
		.caller = call->caller,
		.caller_name = call->caller_name,
		.called = call->called,
		.menu_path = path,
		.category = category,
		.queue = call->queue ? call->queue->name : "",
		.reason = call->overflow[0] ? call->overflow : "menu",
		.forward = call->trunk->name,
		.tried = call->tried_log,
		.created_ms = call_wall_ms(),
	};

	path_category(path, category, sizeof(category));
	if (!call->app->tickets)
		return ENOENT;
	int err = ticket_open(call->app->tickets, &tn, on_ticket, call_ref(call));
	if (err)
		call_unref(call);
	return err;
}

static void call_start_trunk(struct call *call, const struct dl_action *action)
{
	const struct dl_config *cfg = call->rt->cfg;
	const struct dl_trunk *trunk = config_trunk(cfg, action->arg);

	if (!trunk) {
		log_err(call->call_id, "trunk %s is not configured", action->arg);
		call_hangup(call, "error", "no such trunk");
		return;
	}
	if (++call->trunk_attempts > CALL_MAX_TRUNK_ATTEMPTS) {
		call_hangup(call, "trunk-failed", "too many trunk attempts");
		return;
	}
	call->trunk = trunk;
	snprintf(call->route, sizeof(call->route), "trunk:%s", trunk->name);
	call->state = CS_TRUNK;
	su_timer_reset(call->ivr_timer);
	media_leg_stop(call->a.media);

	if (trunk->opens_ticket && !call->ticket[0]) {
		call->trunk_action = action;
		if (call_open_ticket(call) == 0)
			return; /* the INVITE goes when the ticket is stored */
		call->trunk_action = NULL;
		log_err(call->call_id, "no ticket service: forwarding without a ticket");
	}
	trunk_invite(call, action);
}

/** The B-leg could not be set up: run the trunk's fallback actions. */
static void call_trunk_failed(struct call *call, const char *detail)
{
	const struct dl_config *cfg = call->rt->cfg;
	const struct dl_action_list *fallback;
	static const struct dl_action hangup_action = { .type = DL_ACT_HANGUP };
	static const struct dl_action_list hangup_list = {
		.v = (struct dl_action *)&hangup_action, .n = 1,
	};
	struct ivr_output out;

	su_timer_reset(call->ring_timer);
	media_bridge(call->a.media, NULL, false);
	if (call->b.nh && !call->b.bye_sent)
		call_leg_end(&call->b);
	call_leg_release(&call->b);
	if (snprintf(call->detail, sizeof(call->detail), "%s: %s", call->route, detail) < 0)
		call->detail[0] = '\0';
	/* "If the call-center trunk fails too, the ticket still exists and says so." */
	if (call->ticket[0] && call->trunk && call->trunk->opens_ticket && call->app->tickets)
		ticket_note(call->app->tickets, call->ticket, "forward_result", detail);

	if (call->state == CS_ENDING || !call->a.nh)
		return;
	fallback = call->trunk && call->trunk->on_failure.n ? &call->trunk->on_failure
		 : cfg->on_trunk_failure.n ? &cfg->on_trunk_failure : &hangup_list;
	call->state = CS_MENU;
	snprintf(call->result, sizeof(call->result), "trunk-failed");
	ivr_run(call->ivr, fallback, media_now_ms(), &out);
	call_apply(call, &out);
	if (call->state == CS_TRUNK || call->state == CS_BRIDGED)
		call->result[0] = '\0';
}

static void b_leg_response(struct call *call, int status, char const *phrase, sip_t const *sip)
{
	struct leg *b = &call->b;

	if (status < 200) {
		if (call->state != CS_TRUNK)
			return;
		if (call_sip_has_sdp(sip) && !b->has_params) {
			if (call_leg_take_answer(call, b, sip) == 0) {
				/* Early media: the caller hears the trunk's own ringback/announcement. */
				media_bridge(call->a.media, b->media, false);
				log_debug(call->call_id, "early media from trunk");
			}
		} else if (status >= 180 && !b->has_params) {
			call_play(call, call->rt->cfg->ringback_prompt, true);
		}
		return;
	}
	if (status < 300) {
		b->answered = true;
		su_timer_reset(call->ring_timer);
		if (call->state != CS_TRUNK) {
			/* Answered after we gave up (CANCEL crossed the 200): end it. */
			call_leg_end(b);
			return;
		}
		if (call_sip_has_sdp(sip))
			call_leg_take_answer(call, b, sip);
		if (!b->has_params) {
			log_warn(call->call_id, "trunk answered without SDP");
			call_leg_end(b);
			call_trunk_failed(call, "answer without SDP");
			return;
		}
		media_bridge(call->a.media, b->media, true);
		call->state = CS_BRIDGED;
		call->bridge_ms = call_wall_ms();
		if (call->ticket[0] && call->trunk->opens_ticket && call->app->tickets)
			ticket_note(call->app->tickets, call->ticket, "forward_result", "answered");
		log_info(call->call_id, "bridged to trunk %s (%s)", call->trunk->name,
			 dl_codec_name(b->params.codec));
		return;
	}
	if (call->state != CS_TRUNK)
		return;
	char detail[64];
	snprintf(detail, sizeof(detail), "%d %s", status, phrase ? phrase : "");
	log_notice(call->call_id, "trunk %s refused: %s", call->trunk->name, detail);
	b->bye_sent = true; /* the transaction is over: nothing to CANCEL */
	call_trunk_failed(call, detail);
}

/* ---- A-leg ------------------------------------------------------------------------------ */

int call_alloc(struct call **callp, struct app *app, nua_t *nua, nua_handle_t *nh,
		      sip_t const *sip)
{
	struct call *call = calloc(1, sizeof(*call));

	if (!call)
		return ENOMEM;
	call->app = app;
	call->rt = runtime_ref(app->rt);
	call->nua = nua;
	call->a.nh = nh;
	call->start_ms = call_wall_ms();
	call->refs = 1;
	call->ivr_timer = su_timer_create(su_root_task(app->root), 0);
	call->ring_timer = su_timer_create(su_root_task(app->root), 0);
	call->queue_timer = su_timer_create(su_root_task(app->root), 0);
	call->hunt_timer = su_timer_create(su_root_task(app->root), 0);
	if (!call->ivr_timer || !call->ring_timer || !call->queue_timer || !call->hunt_timer) {
		call_destroy(call);
		return ENOMEM;
	}
	if (sip->sip_call_id)
		call_copy_str(call->call_id, sizeof(call->call_id), sip->sip_call_id->i_id);
	if (sip->sip_from) {
		call_copy_str(call->caller, sizeof(call->caller), sip->sip_from->a_url->url_user);
		if (sip->sip_from->a_display) {
			/* Strip the quotes of a quoted-string display name. */
			const char *d = sip->sip_from->a_display;
			size_t n = strlen(d);
			if (n >= 2 && d[0] == '"' && d[n - 1] == '"')
				snprintf(call->caller_name, sizeof(call->caller_name), "%.*s",
					 (int)(n - 2), d + 1);
			else
				call_copy_str(call->caller_name, sizeof(call->caller_name), d);
		}
	}
	call_copy_str(call->called, sizeof(call->called), sip->sip_request->rq_url->url_user);
	call_set_from_host(call);

	call->next = app->calls;
	if (app->calls)
		app->calls->prev = call;
	app->calls = call;
	app->n_calls++;
	app->calls_total++;
	heap_trimmer_note_call(app->trimmer);
	*callp = call;
	return 0;
}

/** Respond with an error and let the call end when the stack reports the handle terminated. */
void call_reject(struct call *call, int status, const char *phrase)
{
	char detail[64];

	snprintf(detail, sizeof(detail), "%d %s", status, phrase);
	call_set_result(call, "rejected", detail);
	call->state = CS_ENDING;
	log_notice(call->call_id, "INVITE rejected: %s", detail);
	if (status == 488)
		nua_respond(call->a.nh, status, phrase,
			    SIPTAG_WARNING_STR("305 deskline \"Incompatible media format\""),
			    TAG_END());
	else
		nua_respond(call->a.nh, status, phrase, TAG_END());
}

int call_a_setup(struct call *call, sip_t const *sip, enum dl_inband_dtmf inband)
{
	int status = 0;
	const char *phrase = NULL;
	int err = media_leg_alloc(&call->a.media, call->app->media, NULL, inband,
				  &call_leg_handlers, call);

	if (err) {
		log_err(call->call_id, "no RTP port: %s", strerror(err));
		call_reject(call, 503, "No media ports available");
		return err;
	}
	call->a.sess_id = call->start_ms;
	call->a.sess_ver = 1;

	if (call_sip_has_sdp(sip)) {
		err = call_leg_answer_offer(call, &call->a, sip, &status, &phrase);
		if (err) {
			call_reject(call, status, phrase);
			return err;
		}
	} else {
		/* Delayed offer (RFC 3261 §13.2.1): our offer goes in the 200, the answer in ACK. */
		err = call_leg_write_sdp(call, &call->a, true);
		if (err) {
			call_reject(call, 500, "Internal error");
			return err;
		}
		call->a.offer_pending = true;
	}
	return 0;
}

void call_a_answer(struct call *call)
{
	nua_respond(call->a.nh, SIP_200_OK,
		    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(call->a.sdp),
		    TAG_END());
	call->a.answered = true;
	call->answer_ms = call_wall_ms();
}

static void incoming_invite(struct app *app, nua_t *nua, nua_handle_t *nh, sip_t const *sip)
{
	const struct dl_config *cfg = app->rt->cfg;
	const char *user = sip && sip->sip_request ? sip->sip_request->rq_url->url_user : NULL;
	const char *cid = sip && sip->sip_call_id ? sip->sip_call_id->i_id : NULL;
	struct call *call;

	if (app->draining) {
		nua_respond(nh, 503, "Service Unavailable", SIPTAG_RETRY_AFTER_STR("60"), TAG_END());
		return;
	}
	if (!config_is_number(cfg, user)) {
		if (clerk_incoming(app, nua, nh, sip))
			return;
		log_info(cid, "INVITE for %s: not a department number", user ? user : "(none)");
		nua_respond(nh, SIP_404_NOT_FOUND, TAG_END());
		return;
	}
	if (sip->sip_payload && sip->sip_payload->pl_len && sip->sip_content_type &&
	    strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0) {
		nua_respond(nh, 415, "Unsupported Media Type", SIPTAG_ACCEPT_STR("application/sdp"),
			    TAG_END());
		return;
	}
	if (call_alloc(&call, app, nua, nh, sip) != 0) {
		nua_respond(nh, 503, "Service Unavailable", TAG_END());
		return;
	}
	nua_handle_bind(nh, (nua_hmagic_t *)call);
	log_info(call->call_id, "INVITE from %s \"%s\" to %s", call->caller, call->caller_name,
		 call->called);

	if (call_a_setup(call, sip, cfg->media.inband_dtmf) != 0)
		return;
	/*
	 * Answered at once, like a PBX's IVR: no 180 first. The stack has sent its 100 Trying;
	 * a Ringing with nothing ringing would only be one more response to build and send.
	 */
	call_a_answer(call);
}

/** re-INVITE on an established leg: hold/resume, session refresh, codec change. */
static void leg_reinvite(struct call *call, struct leg *leg, sip_t const *sip)
{
	int status = 0;
	const char *phrase = NULL;

	if (call_sip_has_sdp(sip)) {
		struct sdp_session_params before = leg->params;
		if (call_leg_answer_offer(call, leg, sip, &status, &phrase) != 0) {
			/* RFC 3261 §14.2: a refused re-INVITE leaves the session as it was. */
			if (leg->has_params)
				leg_set_params(call, leg, &before, before.pt_event);
			nua_respond(leg->nh, status, phrase, TAG_END());
			return;
		}
		log_info(call->call_id, "re-INVITE on the %s-leg: %s, %s",
			 leg == &call->a ? "A" : "B", sdp_dir_name(leg->params.remote_dir),
			 dl_codec_name(leg->params.codec));
	} else {
		if (call_leg_write_sdp(call, leg, true) != 0) {
			nua_respond(leg->nh, 500, "Internal error", TAG_END());
			return;
		}
		leg->offer_pending = true;
	}
	nua_respond(leg->nh, SIP_200_OK,
		    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(leg->sdp),
		    TAG_END());
}

static void leg_ack(struct call *call, struct leg *leg, sip_t const *sip)
{
	if (leg->offer_pending) {
		if (!call_sip_has_sdp(sip) || call_leg_take_answer(call, leg, sip) != 0) {
			log_warn(call->call_id, "ACK without a usable SDP answer");
			call_hangup(call, "error", "no SDP answer in ACK");
			return;
		}
	}
	if (leg == &call->a && call->state == CS_INCOMING) {
		if (call->kind == CALL_FEATURE)
			clerk_feature_ack(call);
		else
			call_start_menu(call);
	}
}

static void leg_info(struct call *call, struct leg *leg, sip_t const *sip)
{
	const char *ct = sip && sip->sip_content_type ? sip->sip_content_type->c_type : NULL;
	const char *body = sip && sip->sip_payload ? sip->sip_payload->pl_data : NULL;
	size_t len = sip && sip->sip_payload ? sip->sip_payload->pl_len : 0;

	if (!ct || !body)
		return;
	if (call->state == CS_BRIDGED && leg == &call->a && call->b.nh) {
		/* DTMF passes through to the trunk the way it came. */
		nua_info(call->b.nh, SIPTAG_CONTENT_TYPE_STR(ct),
			 SIPTAG_PAYLOAD(sip->sip_payload), TAG_END());
		return;
	}
	if (leg == &call->a && leg->media) {
		int err = media_leg_info(leg->media, ct, body, len);
		if (err)
			log_info(call->call_id, "INFO %s ignored: %s", ct, strerror(err));
	}
}

/** A leg's handle reached nua_callstate_terminated. */
static void leg_terminated(struct call *call, struct leg *leg)
{
	bool is_a = leg == &call->a;

	nua_handle_bind(leg->nh, NULL);
	nua_handle_destroy(leg->nh);
	leg->nh = NULL;
	leg_close_media(call, leg);

	if (is_a) {
		if (call->state == CS_INCOMING && call->a.answered) {
			/* Our 200 was never acknowledged (RFC 3261 §13.3.1.4: the stack gave up after
			 * 64*T1): the caller's side never came up. */
			log_warn(call->call_id, "no ACK for the 200: call dropped");
			call_set_result(call, "no-ack", NULL);
		}
		if (call->state == CS_QUEUE)
			hunt_caller_gone(call);
		if (call->b.nh) {
			call_set_result(call, call->state == CS_BRIDGED ? "completed" : "caller-hangup",
				   NULL);
			call->state = CS_ENDING;
			call_leg_end(&call->b);
		}
	} else if (call->a.nh) {
		if (call->state == CS_BRIDGED) {
			call_set_result(call, "completed",
					call->trunk ? "trunk hung up" : "clerk hung up");
			call_hangup(call, NULL, NULL);
		} else if (call->state == CS_TRUNK) {
			call_trunk_failed(call, "B-leg ended");
		} else if (call->state == CS_DIRECT) {
			clerk_direct_response(call, 480, "Temporarily Unavailable", NULL);
		}
	}
	call_check_done(call);
}

/* ---- dispatch --------------------------------------------------------------------------- */

/** Events on handles that belong to no call. */
static void orphan_event(struct app *app, nua_event_t event, int status, nua_t *nua,
			 nua_handle_t *nh, sip_t const *sip, tagi_t tags[])
{
	switch (event) {
	case nua_i_invite:
		incoming_invite(app, nua, nh, sip);
		break;
	case nua_i_state:
		if (callstate_of(tags) == nua_callstate_terminated)
			nua_handle_destroy(nh);
		break;
	case nua_i_register:
		if (app->registrar)
			registrar_handle(app->registrar, app->rt->cfg, nua, nh, sip);
		nua_handle_destroy(nh);
		break;
	case nua_r_invite:
		/* A let-go B-leg answered after our CANCEL: hang it up. */
		if (status >= 200 && status < 300)
			nua_bye(nh, TAG_END());
		break;
	case nua_i_options:
	case nua_i_info:
	case nua_i_message:
	case nua_i_notify:
	case nua_i_subscribe:
	case nua_i_refer:
	case nua_i_publish:
	case nua_i_update:
	case nua_i_method:
		/* The stack has answered (OPTIONS 200, others 405/481/501); nothing is kept. */
		nua_handle_destroy(nh);
		break;
	default:
		break;
	}
}

void call_nua_event(nua_event_t event, int status, char const *phrase, nua_t *nua,
		    nua_magic_t *magic, nua_handle_t *nh, nua_hmagic_t *hmagic, sip_t const *sip,
		    tagi_t tags[])
{
	struct app *app = (struct app *)magic;
	struct call *call = (struct call *)hmagic;

	if (event == nua_r_shutdown) {
		if (status >= 200) {
			app->n_nua_down++;
			if (app->n_nua_down >= app->n_nua)
				su_root_break(app->root);
		}
		return;
	}
	if (!nh)
		return;
	if (!call) {
		orphan_event(app, event, status, nua, nh, sip, tags);
		return;
	}

	struct leg *leg = nh == call->a.nh ? &call->a : nh == call->b.nh ? &call->b : NULL;
	if (!leg) {
		struct ring *ring = hunt_ring_of(call, nh);
		if (ring) {
			if (event == nua_r_invite) {
				hunt_ring_response(call, ring, status, phrase, sip);
			} else if (event == nua_i_state &&
				   callstate_of(tags) == nua_callstate_terminated) {
				hunt_ring_response(call, ring, 500, "Terminated", NULL);
				nua_handle_destroy(nh);
			}
			return;
		}
		/* A handle bound to the call we no longer track: treat as orphan. */
		orphan_event(app, event, status, nua, nh, sip, tags);
		return;
	}

	switch (event) {
	case nua_i_invite:
		leg_reinvite(call, leg, sip);
		break;
	case nua_i_ack:
		leg_ack(call, leg, sip);
		break;
	case nua_r_invite:
		if (leg == &call->b && call->kind == CALL_DIRECT)
			clerk_direct_response(call, status, phrase, sip);
		else if (leg == &call->b)
			b_leg_response(call, status, phrase, sip);
		break;
	case nua_i_info:
		leg_info(call, leg, sip);
		break;
	case nua_i_bye:
		log_info(call->call_id, "BYE from the %s-leg", leg == &call->a ? "A" : "B");
		if (leg == &call->a)
			call_set_result(call, call->state == CS_BRIDGED ? "completed" : "caller-hangup",
				   NULL);
		break;
	case nua_i_cancel:
		log_info(call->call_id, "CANCEL from the caller");
		call_set_result(call, "caller-cancel", NULL);
		break;
	case nua_i_state:
		if (callstate_of(tags) == nua_callstate_terminated)
			leg_terminated(call, leg);
		break;
	default:
		break;
	}
}

/* ---- sweep ------------------------------------------------------------------------------ */

static bool leg_expects_rtp(const struct leg *leg)
{
	return leg->media && leg->has_params && leg->answered &&
	       (leg->params.remote_dir == SDP_SENDRECV || leg->params.remote_dir == SDP_SENDONLY);
}

static void sweep_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct app *app = (struct app *)arg;
	mstime_t now = media_now_ms();

	(void)magic;
	(void)t;
	for (struct call *call = app->calls, *next; call; call = next) {
		next = call->next;
		unsigned limit = call->rt->cfg->media.rtp_timeout_ms;
		if (!limit || call->state == CS_ENDING || call->state == CS_INCOMING)
			continue;
		struct leg *legs[2] = { &call->a, &call->b };
		for (int i = 0; i < 2; i++) {
			if (!leg_expects_rtp(legs[i]))
				continue;
			mstime_t idle = media_leg_idle_ms(legs[i]->media, now);
			if (idle >= limit) {
				log_notice(call->call_id, "no RTP on the %s-leg for %llu ms: hanging up",
					   i == 0 ? "A" : "B", (unsigned long long)idle);
				call_hangup(call, "rtp-timeout", i == 0 ? "A-leg" : "B-leg");
				break;
			}
		}
	}
	if (app->draining && app->n_calls == 0) {
		log_notice(NULL, "drained: no calls left, shutting down");
		app->draining = false;
		for (size_t i = 0; i < app->n_nua; i++)
			nua_shutdown(app->nua[i]);
	}
}

int call_sweep_start(struct app *app)
{
	app->sweep = su_timer_create(su_root_task(app->root), SWEEP_INTERVAL_MS);
	if (!app->sweep)
		return ENOMEM;
	if (su_timer_run(app->sweep, sweep_cb, (su_timer_arg_t *)app) < 0)
		return ENOMEM;
	return 0;
}

size_t call_live_ids(struct app *app, const char **ids, size_t max)
{
	return hunt_live_calls(app, ids, max);
}

void call_hangup_all(struct app *app)
{
	for (struct call *call = app->calls; call; call = call->next)
		if (call->state != CS_ENDING)
			call_hangup(call, "shutdown", NULL);
}
