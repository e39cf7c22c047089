/**
 * @file ticket.h  Tickets for unanswered calls (Procedure 46 §2, §4, §6): when a call is sent to
 *                 a trunk that opens tickets (the council call center), the ticket exists
 *                 before the B-leg INVITE leaves, its id travels in SIP headers, and a mail goes
 *                 to the department and the assigned clerk through the outbox.
 *
 * Ids are "YYYY-NNNNNN", unique across nodes: each node reserves a block of numbers from Redis
 * ahead of need, so a ticket gets its id at once even while Redis is down. When Redis is down the
 * ticket is written to the spool directory (write, fsync, rename) and created in Redis when it
 * comes back (idempotent by id); the mail goes out either way.
 */
#ifndef DESKLINE_TICKET_H
#define DESKLINE_TICKET_H

#include <sofia-sip/su_wait.h>

#include "types.h"
#include "config.h"

struct dl_redis;
struct outbox;

/** Ids reserved from Redis at a time, and the level that triggers the next reservation. */
#define TICKET_ID_BLOCK 20u
#define TICKET_ID_LOW   5u

/** What a new ticket says. Strings are borrowed for the duration of ticket_open(). */
struct ticket_new {
	const char *call_id;
	const char *caller;         /**< number */
	const char *caller_name;    /**< display name, may be "" */
	const char *called;         /**< department number */
	const char *menu_path;      /**< digits and labels (ivr_path) */
	const char *category;       /**< label of the menu option that led here */
	const char *queue;          /**< queue whose clerks the ticket may go to ("" = any) */
	const char *reason;         /**< why the call was not answered: "no-clerk-available",
				         "max-wait", "max-attempts", "redis-down", "closed", … */
	const char *forward;        /**< trunk the call goes to, e.g. "callcenter" */
	const char *tried;          /**< clerks tried: "dana no_answer 12:03:11; yossi …" */
	uint64_t created_ms;        /**< Unix ms */
};

/** The result of ticket_open(). */
struct ticket_opened {
	char id[32];
	char clerk[64];             /**< assigned clerk id, "" when none (or not yet: spooled) */
	uint64_t due_ms;            /**< Unix ms (Procedure 46 §6) */
	bool spooled;               /**< Redis was down: on disk, created in Redis later */
};

/**
 * @param err  0, or an errno when the ticket could neither be created nor spooled (it is
 *             logged in full then, so nothing is lost from the log either)
 * @param t    the ticket (valid only during the handler); with an errno its id may be "" (no
 *             id could be given: the pool was empty, Redis down and the local counter could
 *             not be written)
 */
typedef void (ticket_opened_h)(int err, const struct ticket_opened *t, void *arg);

/**
 * Ticket statuses (Procedure 46 §3–§7; the transitions are AGENTDB_TICKET_STATUS's). The open
 * statuses — open, assigned, in_clarification — keep the ticket in P tickets:open and in its
 * clerk's open_tickets; in_clarification has already met or missed the SLA (§6), since telling
 * the resident that the inquiry awaits other parties is the first real response.
 */
enum ticket_status {
	TICKET_OPEN = 0,                /**< nobody serves the queue yet */
	TICKET_ASSIGNED,
	TICKET_ANSWERED,
	TICKET_IN_CLARIFICATION,        /**< §7: awaiting other parties */
	TICKET_WRITTEN_CHANNEL,         /**< §7: objection / appeal / legal: to be written in */
	TICKET_RESOLVED_BY_CALLCENTER,  /**< §3 */
	TICKET_CLOSED,
};

/** "open", "assigned", … as stored in Redis; NULL for an out-of-range value. */
const char *ticket_status_name(enum ticket_status s);

/**
 * Parse a status name.
 *
 * @return 0 and *s set, or EINVAL.
 */
int ticket_status_parse(const char *name, enum ticket_status *s);

/** Is @p s one of the open statuses (open, assigned, in_clarification)? */
bool ticket_status_is_open(enum ticket_status s);

struct tickets;

/**
 * Create the ticket service: reserves ids, replays the spool whenever Redis (re)connects.
 *
 * @param tp      on success *tp (free: tickets_free)
 * @param root    loop (borrowed)
 * @param redis   connection (borrowed; owned by presence)
 * @param outbox  where mails go (borrowed; NULL: no mail, logged)
 * @param cfg     configuration (a reference is taken; tickets_configure swaps it). The Redis
 *                prefix and the spool directory (cfg->tickets.spool_dir + "/tickets", created
 *                when missing) are fixed until restart.
 * @param node    this node's id (copied)
 * @return 0, EINVAL, ENOMEM, or an errno (spool directory). When @p redis is already connected
 *         tickets_redis_up() runs at once.
 */
int tickets_alloc(struct tickets **tp, su_root_t *root, struct dl_redis *redis,
		  struct outbox *outbox, struct dl_config *cfg, const char *node);

/**
 * Free the service (spooled tickets stay on disk). NULL is ignored. Tickets still waiting for
 * Redis (an id or the create reply) are spooled first and their handlers run (spooled, or with
 * an errno) and their mails are queued before this returns: the outbox must still exist. The
 * Redis connection may outlive the service (replies still to come are dropped) but not the other
 * way round. May be called from a ticket handler.
 */
void tickets_free(struct tickets *t);

/** Use a reloaded configuration (department address, headers, calendar). */
void tickets_configure(struct tickets *t, struct dl_config *cfg);

/**
 * Redis came up: refill the id pool and replay the spool. Each spooled file is removed once
 * Redis confirmed the ticket (new or existing: creation is idempotent by id), so calling this
 * again, or while a replay is in flight, creates nothing twice. Costs one directory scan and one
 * script call per spooled ticket.
 */
void tickets_redis_up(struct tickets *t);

/**
 * Open a ticket: id (at once, from the pool), due time (the business calendar), then Redis or
 * the spool, then the mail. The handler runs once the ticket is safely stored (in Redis or on
 * disk), never from inside this call.
 *
 * @return 0 (h will run), EINVAL (a NULL argument) or ENOMEM.
 */
int ticket_open(struct tickets *t, const struct ticket_new *tn, ticket_opened_h *h, void *arg);

/**
 * Record what happened to the forwarded call ("answered", "486 Busy Here", …) in the ticket
 * and its history (AGENTDB_TICKET_NOTE); when Redis is down the note is only logged.
 */
void ticket_note(struct tickets *t, const char *id, const char *field, const char *value);

/**
 * Format the ticket mail (pure): RFC 5322 headers with an RFC 2047 UTF-8 Subject holding the
 * ticket id, a text/plain UTF-8 body with every field under Hebrew and English labels and the
 * due time in local time.
 *
 * Local time (Date, Received) is the process's zone: calendar_use_timezone(). Lines end in CRLF
 * and stay within RFC 5322's 998 bytes: a long body value goes on in continuation lines indented
 * by two spaces; control characters in values become spaces (no value adds a line), invalid
 * UTF-8 '?'; header values lose CR, LF and other control characters. The assigned clerk reads
 * "(pending)" for a spooled ticket.
 *
 * @param to         recipients (department, clerk) for the To header
 * @param n_to       how many
 * @param due_local  due time already formatted in local time
 * @return the length written, or -1 when @p size is too small.
 */
int ticket_format_mail(char *buf, size_t size, const char *from, const char *const *to,
		       size_t n_to, const struct ticket_new *tn, const struct ticket_opened *t,
		       const char *due_local, const char *clerk_name, time_t now_s);

#endif
