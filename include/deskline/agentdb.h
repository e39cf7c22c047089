/**
 * @file agentdb.h  The clerks' shared state in Redis and the Lua scripts that change it
 *                  (Procedure 46 §5). Every change of a clerk's state is one script, so it is
 *                  atomic across every deskline node and deskctl sharing the Redis.
 *
 * Keys (P = the configured prefix, "dl:" by default):
 *  - P agent:<id>        hash: state, state_since_ms, extension, name, queues (comma list),
 *                        registered (0/1), contact, reg_expires_ms, node, call_id, deadline_ms,
 *                        open_tickets, last_call_end_ms, no_answer_count, direct_calls, reason
 *  - P agents            set of every clerk id
 *  - P queue:<q>         hash: strategy
 *  - P queue:<q>:ready   sorted set of the clerks that may be rung now (state available,
 *                        registered, on no direct call), best first (lowest score):
 *                          fewest-tasks: open_tickets * 1e13 + last_call_end_ms
 *                          longest-idle / ring-all: last_call_end_ms
 *  - P node:<node>       string with a TTL: the node is alive (heartbeat)
 *  - P events            stream of every change: type, agent, from, to, call, node, ms, reason
 *                        (MAXLEN ~ 100000). type: agent_state (a state change; set_state adds
 *                        `by`, its who), agent_register (a new registration, not a refresh),
 *                        agent_unregister. call and node: the call the change concerns.
 *                        Ticket types (agent = the ticket's clerk, from/to = its statuses, plus
 *                        `ticket`): ticket_created (the call record and the ticket: due_ms,
 *                        queue, created_ms, caller, caller_name, called, menu_path, category,
 *                        forward, tried; reason = why the call went unanswered), ticket_status
 *                        (`by`, `sla_met`; reason = the note), ticket_note (`by`, field, value).
 *  - P ticket:<id>       hash: id, status, status_ms, created_ms, due_ms, queue, clerk,
 *                        responded_ms, sla_met ("1" | "0" | "" before the first response),
 *                        forward_result, call_id, caller, caller_name, called, menu_path,
 *                        category, reason, forward, tried, node (the node that opened it), and
 *                        any field TICKET_NOTE set
 *  - P ticket:<id>:log   list, oldest first, of "ms|who|from|to|text": when (Unix ms), who
 *                        ("node:<node>", "deskctl:<user>"), the status before and after (equal
 *                        for a note), free text last (it may hold '|'; never a line break)
 *  - P tickets:open      sorted set of the tickets in an open status, score due_ms
 *  - P ticket:seq:<year> the last ticket number reserved in that year
 *
 * Ticket statuses (Procedure 46 §3–§7): open (no clerk serves the queue), assigned, answered,
 * in_clarification (§7: the resident was told; other parties must reply), written_channel (§7:
 * objection, appeal or legal arguments: the resident writes in), resolved_by_callcenter (§3),
 * closed. The open statuses are open, assigned and in_clarification: the ticket is in
 * P tickets:open and counts in its clerk's open_tickets (in_clarification is still work owed,
 * although it already met the SLA). The first "real response" (answered, in_clarification,
 * written_channel, resolved_by_callcenter) sets responded_ms and sla_met (now <= due_ms);
 * closed is no response.
 *
 * A clerk's `reason` says why it is in its state: the queue it rings for, the break reason
 * given, "no-answer", "healed", "unregistered" or "expired"; "" when there is nothing to say.
 *
 * States: logged_out, available, ringing, on_call, wrap_up, break. ringing, on_call and wrap_up
 * carry deadline_ms; ringing and on_call also the owning node and call. A sweep returns clerks
 * whose deadline passed or whose node stopped heartbeating — no clerk is left "ringing" or
 * "on_call" without a call.
 *
 * Script calling convention: no KEYS (the keys are derived from the prefix, so this is for a
 * single Redis, not Redis Cluster); ARGV[1] = prefix, ARGV[2] = now in Unix ms (the caller's
 * clock, so tests can set time), then the script's own arguments as listed below.
 * Errors are Redis error replies whose text starts with a word: "unknown" (no such clerk),
 * "busy" (ringing/on_call), "unregistered", "state" (bad state name), "args" (an argument
 * missing or not a number, an unknown strategy or release outcome). The ticket scripts add
 * "unknown" (no such ticket), "status" (bad status name), "transition" (a status that cannot
 * follow the current one) and "noclerk" (open → assigned with nobody serving the queue).
 */
#ifndef DESKLINE_AGENTDB_H
#define DESKLINE_AGENTDB_H

#include "types.h"

enum agentdb_script {
	/** ARGV 3 id, 4 extension, 5 name, 6 queues (comma list). Creates the clerk (logged_out)
	 *  or updates those fields; re-indexes the ready sets. → state (string). */
	AGENTDB_AGENT_SYNC = 0,
	/** ARGV 3 queue, 4 strategy name. → "OK". */
	AGENTDB_QUEUE_SYNC,
	/** ARGV 3 id, 4 contact URI, 5 reg_expires_ms. registered=1. → state. */
	AGENTDB_REGISTER,
	/** ARGV 3 id, 4 reason ("unregistered", "expired"). registered=0, contact cleared; an idle
	 *  clerk (available, break) goes logged_out; a ringing/on_call one when the call ends, a
	 *  wrap_up one when the wrap-up does. → previous state. */
	AGENTDB_UNREGISTER,
	/** ARGV 3 id, 4 state (logged_out | available | break), 5 who ("phone", "deskctl"),
	 *  6 reason, 7 "force" or "". available needs registered=1 ("unregistered" error);
	 *  ringing/on_call refuse ("busy") unless forced. → {old state, new state}. */
	AGENTDB_SET_STATE,
	/** ARGV 3 queue, 4 node, 5 call_id, 6 ring deadline_ms, 7 how many (1, or 0 = every
	 *  available clerk: ring-all), 8… ids not to pick (already tried by this call).
	 *  Picks the best available clerks, sets them ringing for this node and call.
	 *  → array of {id, contact} pairs, flat: {id1, contact1, id2, contact2, …}; empty when none. */
	AGENTDB_CLAIM,
	/** ARGV 3 id, 4 call_id, 5 outcome (no_answer | cancelled | failed), 6 max_no_answer.
	 *  Only when ringing for that call. no_answer counts; max_no_answer in a row → break
	 *  (reason "no-answer"); 0 never does. A clerk whose phone unregistered meanwhile goes
	 *  logged_out. → new state, or nil when the clerk was not ringing for the call. */
	AGENTDB_RELEASE,
	/** ARGV 3 id, 4 call_id, 5 deadline_ms. ringing → on_call, no_answer_count = 0.
	 *  → 1, or 0 when the clerk was not ringing for the call. */
	AGENTDB_ANSWERED,
	/** ARGV 3 id, 4 call_id, 5 wrap_up_ms. on_call → wrap_up until now + wrap_up_ms (0: straight
	 *  to available; logged_out, with no wrap-up, when the phone unregistered during the call);
	 *  last_call_end_ms = now. → new state, or nil when not on that call. */
	AGENTDB_ENDED,
	/** ARGV 3 node, 4 heartbeat ttl_ms, 5 new deadline_ms, 6… live call ids. Refreshes the node
	 *  key and the deadlines of its ringing/on_call clerks whose call is in the list.
	 *  → number of clerks refreshed. */
	AGENTDB_NODE_REFRESH,
	/** No more ARGV. wrap_up past its deadline → available (or logged_out when unregistered);
	 *  ringing/on_call past the deadline (0: none) or whose node key is gone → available
	 *  ("healed"; logged_out when unregistered);
	 *  registrations past reg_expires_ms → unregistered. Safe to run on many nodes at once.
	 *  O(clerks): about 3 µs a clerk (1.4 ms for 500 clerks on Redis 7.0), and the same
	 *  for NODE_REFRESH when it names live calls. → number of clerks changed. */
	AGENTDB_SWEEP,
	/** ARGV 3 node. On a node's start: its ringing/on_call clerks (calls it no longer has) →
	 *  available ("healed"). → number changed. */
	AGENTDB_NODE_RECONCILE,
	/** ARGV 3 id, 4 delta (+1 / -1). A clerk on a direct call is not offered queue calls.
	 *  → direct_calls after the change. */
	AGENTDB_DIRECT_CALL,
	/** ARGV 3 id, 4 delta. open_tickets += delta (never below 0), ready sets re-scored.
	 *  → open_tickets after the change. */
	AGENTDB_TICKETS,
	/** ARGV 3 year (4 digits), 4 count. Reserves ids: INCRBY P ticket:seq:<year> count.
	 *  → the last number reserved (the block is last-count+1 … last). */
	AGENTDB_TICKET_IDS,
	/** ARGV 3 ticket id, 4 queue ("" = every clerk), 5 due_ms, then field/value pairs
	 *  (call_id, caller, caller_name, called, menu_path, category, reason, forward, tried,
	 *  node, created_ms). Idempotent by id: an existing ticket is returned as it is. Assigns the
	 *  most available clerk by open tickets (Procedure 46 §5: fewest open tickets, then longest
	 *  idle; logged-out clerks only when nobody else serves the queue), raises their
	 *  open_tickets, writes P ticket:<id> (status "assigned", or "open" when no clerk),
	 *  P tickets:open (score due_ms), P ticket:<id>:log and one P events entry holding both
	 *  the call record and the ticket. Ties in the ranking go to the smaller id; an unknown
	 *  field is an "args" error. O(clerks). → {id, clerk or "", "new" | "existing"}. */
	AGENTDB_TICKET_CREATE,
	/** ARGV 3 ticket id, 4 field, 5 value, 6 who. Sets one field (forward_result, …) and logs
	 *  it in the history. → 1, or an "unknown" error. The fields the other ticket scripts keep
	 *  consistent (id, status, status_ms, clerk, queue, due_ms, created_ms, responded_ms,
	 *  sla_met) are an "args" error. */
	AGENTDB_TICKET_NOTE,
	/** ARGV 3 ticket id, 4 new status, 5 who, 6 note. Status changes (DESIGN: open → assigned →
	 *  answered | in_clarification | written_channel | resolved_by_callcenter → closed), with
	 *  history; the first "real response" records responded_ms and whether it met due_ms (the
	 *  SLA, Procedure 46 §6); leaving the open statuses lowers the clerk's open_tickets and
	 *  removes the ticket from P tickets:open. → {old status, new status}.
	 *  Allowed: open → any other; assigned → any but open; in_clarification → answered,
	 *  written_channel, resolved_by_callcenter, closed; answered, written_channel and
	 *  resolved_by_callcenter → closed; closed is final. open → assigned picks the most
	 *  available clerk as TICKET_CREATE does. The current status again: no change, no history,
	 *  the reply {s, s}. */
	AGENTDB_TICKET_STATUS,
	AGENTDB_SCRIPT_COUNT
};

/**
 * Lua source of a script (compiled in from src/lua/<name>.lua).
 *
 * @return a static string, or NULL for an out-of-range id.
 */
const char *agentdb_script_source(enum agentdb_script s);

/** File stem of a script ("claim", "sweep", …), for logs. */
const char *agentdb_script_name(enum agentdb_script s);

/** The six clerk states, in the order above. */
enum agent_state {
	AGENT_LOGGED_OUT = 0,
	AGENT_AVAILABLE,
	AGENT_RINGING,
	AGENT_ON_CALL,
	AGENT_WRAP_UP,
	AGENT_BREAK,
};

/** "logged_out", "available", … */
const char *agent_state_name(enum agent_state s);

/**
 * Parse a state name.
 *
 * @return 0 and *s set, or EINVAL.
 */
int agent_state_parse(const char *name, enum agent_state *s);

#endif
