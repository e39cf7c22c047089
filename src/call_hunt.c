/**
 * @file call_hunt.c  Hunting a clerk for a caller (the `queue:NAME` action, Procedure 46 §5).
 *
 * The caller hears the queue's music while deskline claims the most available clerk in Redis
 * (one Lua script: atomic across nodes) and rings the clerk's registered Contact. Answer →
 * bridge, the clerk goes on_call. No answer, busy or decline → the clerk is released (counted as
 * a no-answer) and the next one is claimed. No clerk, the attempts or the wait used up, or Redis
 * unreachable → the queue's overflow actions (Procedure 46 §2: the council call center).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/nua.h>
#include <sofia-sip/sip_status.h>

#include "deskline/calendar.h"
#include "deskline/log.h"
#include "deskline/presence.h"
#include "call_int.h"

/** Extra time a claim's ring deadline gets over the ring timeout, for signalling (ms). */
#define RING_DEADLINE_SLACK_MS 5000
/** Pause between claims while waiting for a clerk to become free (wait_for_clerk) (ms). */
#define HUNT_RETRY_MS 2000

static void hunt_next(struct call *call);

static size_t rings_active(const struct call *call)
{
	size_t n = 0;
	for (size_t i = 0; i < call->n_rings; i++)
		n += call->rings[i].active;
	return n;
}

struct ring *hunt_ring_of(struct call *call, nua_handle_t *nh)
{
	for (size_t i = 0; i < call->n_rings; i++)
		if (call->rings[i].active && call->rings[i].leg.nh == nh)
			return &call->rings[i];
	return NULL;
}

static void release_done(int err, void *arg)
{
	(void)err;
	call_unref(arg);
}

/** Give a ringing clerk back to Redis and let go of the phone's leg. */
static void ring_drop(struct call *call, struct ring *ring, const char *outcome)
{
	struct presence *p = call->app->presence;

	if (!ring->active)
		return;
	/* For the ticket, should the call end unanswered: who was tried, how it ended. */
	size_t len = strlen(call->tried_log);
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	if (len < sizeof(call->tried_log) &&
	    snprintf(call->tried_log + len, sizeof(call->tried_log) - len, "%s%s %s %02d:%02d:%02d",
		     len ? "; " : "", ring->clerk, outcome, tm.tm_hour, tm.tm_min, tm.tm_sec) < 0)
		call->tried_log[len] = '\0';
	call_leg_end(&ring->leg);
	call_leg_release(&ring->leg);
	ring->active = false;
	if (p && presence_release(p, ring->clerk, call->call_id, outcome,
				  call->queue ? call->queue->max_no_answer : 1, release_done,
				  call_ref(call)) != 0)
		call_unref(call);
	log_info(call->call_id, "clerk %s released (%s)", ring->clerk, outcome);
}

static void rings_drop_all(struct call *call, const char *outcome)
{
	for (size_t i = 0; i < call->n_rings; i++)
		ring_drop(call, &call->rings[i], outcome);
}

/** Leave the queue unanswered: run the queue's overflow (or closed-hours) actions. */
static void hunt_leave(struct call *call, const char *reason, const struct dl_action_list *list)
{
	struct ivr_output out;

	if (call->state != CS_QUEUE)
		return;
	su_timer_reset(call->queue_timer);
	su_timer_reset(call->hunt_timer);
	su_timer_reset(call->ring_timer);
	rings_drop_all(call, "cancelled");
	call_copy_str(call->overflow, sizeof(call->overflow), reason);
	if (snprintf(call->detail, sizeof(call->detail), "%s overflow: %s", call->route, reason) < 0)
		call->detail[0] = '\0';
	log_notice(call->call_id, "queue %s overflow: %s", call->queue->name, reason);
	call->state = CS_MENU;
	ivr_run(call->ivr, list, media_now_ms(), &out);
	call_apply(call, &out);
}

static void hunt_overflow(struct call *call, const char *reason)
{
	hunt_leave(call, reason, &call->queue->on_overflow);
}

static void queue_timer_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	hunt_overflow((struct call *)arg, "max-wait");
}

static void hunt_timer_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic;
	(void)t;
	hunt_next((struct call *)arg);
}

/** Every phone rang out (ring_timeout_ms): release them as no-answers, try the next clerk. */
static void ring_timeout_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct call *call = (struct call *)arg;

	(void)magic;
	(void)t;
	if (call->state != CS_QUEUE)
		return;
	rings_drop_all(call, "no_answer");
	hunt_next(call);
}

static bool tried(const struct call *call, const char *id)
{
	for (size_t i = 0; i < call->n_tried; i++)
		if (strcmp(call->tried[i], id) == 0)
			return true;
	return false;
}

/** Ring one claimed clerk's phone; false when it could not even be tried. */
static bool ring_start(struct call *call, const struct presence_clerk *clerk)
{
	struct ring *ring = NULL;
	char from[256], to[160];

	for (size_t i = 0; i < call->n_rings && !ring; i++)
		if (!call->rings[i].active && !call->rings[i].leg.nh)
			ring = &call->rings[i];
	if (!ring || !clerk->contact[0])
		return false;
	memset(ring, 0, sizeof(*ring));
	call_copy_str(ring->clerk, sizeof(ring->clerk), clerk->id);
	/* The clerk's phone shows the resident, as a trunk would. */
	call_from_header(call, from, sizeof(from), call->caller, call->caller_name);
	if (snprintf(to, sizeof(to), "<sip:%s@%s>", clerk->id, call->from_host) >= (int)sizeof(to))
		return false;
	ring->active = true;
	if (call_open_b_leg(call, &ring->leg, clerk->contact, to, from, NULL) != 0) {
		log_warn(call->call_id, "cannot ring clerk %s at %s", clerk->id, clerk->contact);
		ring_drop(call, ring, "failed");
		return false;
	}
	if (call->n_tried < CALL_MAX_TRIED && !tried(call, clerk->id))
		call_copy_str(call->tried[call->n_tried++], sizeof(call->tried[0]), clerk->id);
	log_info(call->call_id, "ringing clerk %s at %s", clerk->id, clerk->contact);
	return true;
}

static void on_claim(int err, const struct presence_clerk *clerks, size_t n, void *arg)
{
	struct call *call = arg;
	size_t rung = 0;

	call->claim_pending = false;
	if (call->dead || call->state != CS_QUEUE) {
		/* The caller left (or overflowed) while Redis answered: give the clerks back. */
		for (size_t i = 0; i < n; i++)
			if (call->app->presence)
				presence_release(call->app->presence, clerks[i].id, call->call_id,
						 "cancelled", 1, NULL, NULL);
		call_unref(call);
		return;
	}
	if (err) {
		hunt_overflow(call, err == ENOTCONN ? "redis-down" : "redis-error");
		call_unref(call);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (ring_start(call, &clerks[i]))
			rung++;
		call->hunt_attempts++;
	}
	if (rung > 0) {
		su_timer_set_interval(call->ring_timer, ring_timeout_cb, (su_timer_arg_t *)call,
				      (su_duration_t)call->queue->ring_timeout_ms);
	} else if (n > 0) {
		/* Claimed but not ringable (no contact): try again on the next loop turn. */
		su_timer_set_interval(call->hunt_timer, hunt_timer_cb, (su_timer_arg_t *)call, 1);
	} else if (call->queue->wait_for_clerk) {
		/* Nobody free now: look again shortly, every clerk eligible again. */
		call->n_tried = 0;
		su_timer_set_interval(call->hunt_timer, hunt_timer_cb, (su_timer_arg_t *)call,
				      HUNT_RETRY_MS);
	} else {
		hunt_overflow(call, call->n_tried ? "no-answer" : "no-clerk-available");
	}
	call_unref(call);
}

/** Claim the next clerk(s), unless the queue's limits say the caller has waited enough. */
static void hunt_next(struct call *call)
{
	const struct dl_queue *q = call->queue;
	const char *exclude[CALL_MAX_TRIED];

	if (call->state != CS_QUEUE || call->claim_pending || rings_active(call) > 0)
		return;
	if (!presence_connected(call->app->presence)) {
		hunt_overflow(call, "redis-down");
		return;
	}
	if (call->hunt_attempts >= q->max_attempts) {
		hunt_overflow(call, "max-attempts");
		return;
	}
	for (size_t i = 0; i < call->n_tried; i++)
		exclude[i] = call->tried[i];
	call->claim_pending = true;
	uint64_t deadline = call_wall_ms() + q->ring_timeout_ms + RING_DEADLINE_SLACK_MS;
	if (presence_claim(call->app->presence, q->name, call->call_id, deadline,
			   q->strategy == DL_HUNT_RING_ALL, exclude, call->n_tried, on_claim,
			   call_ref(call)) != 0) {
		call->claim_pending = false;
		call_unref(call);
		hunt_overflow(call, "redis-error");
	}
}

void hunt_start(struct call *call, const struct dl_action *action)
{
	const struct dl_queue *q = config_queue(call->rt->cfg, action->arg);

	su_timer_reset(call->ivr_timer);
	if (!q) {
		log_err(call->call_id, "queue %s is not configured", action->arg);
		call_hangup(call, "error", "no such queue");
		return;
	}
	if (!call->rings) {
		call->rings = calloc(CALL_MAX_RINGS, sizeof(*call->rings));
		call->tried = calloc(CALL_MAX_TRIED, sizeof(*call->tried));
		if (!call->rings || !call->tried) {
			log_err(call->call_id, "out of memory for queue %s", q->name);
			call_hangup(call, "error", "out of memory");
			return;
		}
		call->n_rings = CALL_MAX_RINGS;
	}
	call->queue = q;
	call->state = CS_QUEUE;
	call->hunt_attempts = 0;
	call->n_tried = 0;
	call->queue_start_ms = call_wall_ms();
	snprintf(call->route, sizeof(call->route), "queue:%s", q->name);
	call_play(call, q->music, true);
	if (q->max_wait_ms)
		su_timer_set_interval(call->queue_timer, queue_timer_cb, (su_timer_arg_t *)call,
				      (su_duration_t)q->max_wait_ms);
	log_info(call->call_id, "queue %s (%s)", q->name, config_strategy_name(q->strategy));
	/* The clerks work business hours (Procedure 46 §6): outside them nobody is hunted. */
	if (!calendar_is_open(&call->rt->cfg->calendar, time(NULL))) {
		hunt_leave(call, "closed", q->on_closed.n ? &q->on_closed : &q->on_overflow);
		return;
	}
	hunt_next(call);
}

static void answered_done(int err, void *arg)
{
	struct call *call = arg;
	if (err)
		log_warn(call->call_id, "clerk %s answered but Redis was not updated: %s",
			 call->agent, strerror(err));
	call_unref(call);
}

void hunt_ring_response(struct call *call, struct ring *ring, int status, char const *phrase,
			sip_t const *sip)
{
	if (status < 200)
		return;
	if (status >= 300) {
		log_info(call->call_id, "clerk %s: %d %s", ring->clerk, status, phrase ? phrase : "");
		ring->leg.bye_sent = true; /* the INVITE transaction is over: nothing to CANCEL */
		ring_drop(call, ring, "no_answer");
		if (call->state == CS_QUEUE && rings_active(call) == 0) {
			su_timer_reset(call->ring_timer);
			hunt_next(call);
		}
		return;
	}

	/* 2xx: the first clerk to answer takes the call. */
	ring->leg.answered = true;
	if (call->state != CS_QUEUE || !sip || !call_sip_has_sdp(sip) ||
	    call_leg_take_answer(call, &ring->leg, sip) != 0) {
		if (call->state == CS_QUEUE)
			log_warn(call->call_id, "clerk %s answered without usable SDP", ring->clerk);
		ring_drop(call, ring, "cancelled");
		if (call->state == CS_QUEUE && rings_active(call) == 0)
			hunt_next(call);
		return;
	}
	su_timer_reset(call->ring_timer);
	su_timer_reset(call->queue_timer);
	su_timer_reset(call->hunt_timer);
	call_copy_str(call->agent, sizeof(call->agent), ring->clerk);
	free(call->b.sdp);          /* nothing else of a B-leg is left while the call queues */
	call->b = ring->leg;        /* the leg, its handle, media and SDP move to the call */
	memset(&ring->leg, 0, sizeof(ring->leg));
	ring->active = false;
	for (size_t i = 0; i < call->n_rings; i++)
		ring_drop(call, &call->rings[i], "cancelled");

	if (presence_answered(call->app->presence, call->agent, call->call_id, answered_done,
			      call_ref(call)) != 0)
		call_unref(call);
	media_bridge(call->a.media, call->b.media, true);
	call->state = CS_BRIDGED;
	call->bridge_ms = call_wall_ms();
	call->result[0] = '\0';
	snprintf(call->detail, sizeof(call->detail), "clerk %s", call->agent);
	log_info(call->call_id, "clerk %s answered after %llu ms in queue %s", call->agent,
		 (unsigned long long)(call->bridge_ms - call->queue_start_ms), call->queue->name);
}

void hunt_caller_gone(struct call *call)
{
	su_timer_reset(call->queue_timer);
	su_timer_reset(call->hunt_timer);
	su_timer_reset(call->ring_timer);
	rings_drop_all(call, "cancelled");
}

static void ended_done(int err, void *arg)
{
	call_unref(arg);
	(void)err;
}

void hunt_call_over(struct call *call)
{
	rings_drop_all(call, "cancelled");
	if (!call->agent[0] || !call->app->presence)
		return;
	if (presence_ended(call->app->presence, call->agent, call->call_id,
			   call->queue ? call->queue->wrap_up_ms : 0, ended_done,
			   call_ref(call)) != 0)
		call_unref(call);
	call->agent[0] = '\0';
}

size_t hunt_live_calls(struct app *app, const char **ids, size_t max)
{
	size_t n = 0;
	for (struct call *call = app->calls; call && n < max; call = call->next)
		if (call->agent[0] || rings_active(call) > 0)
			ids[n++] = call->call_id;
	return n;
}
