/**
 * @file config.h  deskline's configuration: libconfig file → one immutable struct dl_config.
 *
 * The loader and `deskline -t` are the same code path: one declarative table of keys, types and
 * validators (src/config.c). Every error is reported as "FILE:LINE: message" and loading goes on
 * after an error so that all errors of a file are reported at once.
 *
 * A loaded configuration is never changed. SIGHUP loads a new one beside it; calls in progress keep
 * the one they started with (config_ref / config_unref).
 */
#ifndef DESKLINE_CONFIG_H
#define DESKLINE_CONFIG_H

#include "types.h"
#include "calendar.h"

/** What a menu option, a failure handler or a trunk fallback does. */
enum dl_action_type {
	DL_ACT_MENU,    /**< "menu:NAME"   go to another menu */
	DL_ACT_TRUNK,   /**< "trunk:NAME"  bridge the caller to a SIP trunk (B2BUA) */
	DL_ACT_PLAY,    /**< "play:PROMPT" play a prompt, then go on with the next action */
	DL_ACT_HANGUP,  /**< "hangup"      send BYE */
	DL_ACT_LANG,    /**< "lang:CODE"   switch the caller's prompt language, then go on */
	DL_ACT_QUEUE,   /**< "queue:NAME"  hunt a clerk (Procedure 46 §5) */
};

/** One SIP header added to a B-leg INVITE, e.g. so the payment center knows the §2 service. */
struct dl_header {
	char *name;
	char *value;
};

/** One action. Strings are owned by the configuration. */
struct dl_action {
	enum dl_action_type type;
	char *arg;                   /**< menu, trunk, prompt, language or queue name; NULL for hangup */
	struct dl_header *headers;   /**< extra B-leg headers (trunk actions only) */
	size_t n_headers;
	int line;                    /**< line in the config file, for messages */
};

/** A sequence of actions run in order; the last one is usually terminal (trunk, hangup, menu). */
struct dl_action_list {
	struct dl_action *v;
	size_t n;
};

/** One menu option: the digits the caller enters and what happens then. */
struct dl_menu_option {
	char *digits;                /**< one or more of 0-9 * # A-D */
	char *label;                 /**< human name for CDRs and tickets ("automated payment");
	                                  the digits when the file gives none */
	struct dl_action_list actions;
	int line;                    /**< line in the config file, for messages */
};

/** One IVR menu. Prompt fields are prompt names (file stem under the language folder) or NULL. */
struct dl_menu {
	char *name;
	char *greeting;                   /**< played on entry and on every retry */
	char *invalid_prompt;             /**< played after an entry that matches no option */
	char *timeout_prompt;             /**< played when no digit came in time */
	unsigned first_digit_timeout_ms;  /**< wait for the first digit after the greeting ends */
	unsigned inter_digit_timeout_ms;  /**< wait between digits of a multi-digit entry */
	unsigned max_failures;            /**< invalid entries before on_max_failures */
	unsigned max_timeouts;            /**< timeouts before on_max_timeouts */
	struct dl_action_list on_max_failures;
	struct dl_action_list on_max_timeouts;
	struct dl_menu_option *options;
	size_t n_options;
	int line;
};

/** A SIP trunk: the payment center or the council call center. */
struct dl_trunk {
	char *name;
	char *uri;                        /**< Request-URI of B-leg INVITEs, e.g. "sip:pay@10.0.0.5:5060" */
	char **sources;                   /**< IP addresses calls from this trunk come from */
	size_t n_sources;
	unsigned ring_timeout_ms;         /**< no final answer within this → failure */
	bool keep_caller_id;              /**< true: From user part is the caller's; false: our number */
	char *from_user;                  /**< From user when keep_caller_id is false */
	struct dl_action_list on_failure; /**< run on 4xx/5xx/6xx/timeout of the B-leg; empty
	                                       when the file gives none (see on_trunk_failure) */
	bool opens_ticket;                /**< a call sent here is an unanswered inquiry: a ticket
					       is opened first and travels in SIP headers
					       (Procedure 46 §2, §4: the council call center) */
	int line;
};

/** Media settings (RTP). */
/** Most media worker threads (media.workers). */
#define DL_MEDIA_WORKERS_MAX 64

struct dl_media_config {
	char *address;             /**< local address RTP binds to and SDP announces */
	uint16_t port_min;         /**< even, inclusive */
	uint16_t port_max;         /**< inclusive */
	enum dl_codec codecs[2];   /**< preference order */
	size_t n_codecs;
	unsigned ptime_ms;         /**< packetization of what deskline sends (10–60) */
	unsigned rtp_timeout_ms;   /**< no RTP received for this long → hang up; 0 = never */
	enum dl_inband_dtmf inband_dtmf; /**< when the in-band (Q.24) detector runs */
	uint8_t telephone_event_pt;/**< payload type deskline offers for RFC 4733 (96–127) */
	unsigned workers;          /**< media threads; 0 = media on the SIP loop (restart to change) */
	bool io_uring;             /**< RTP through io_uring where the kernel allows (restart) */
};

/** How a queue picks the clerk to ring (Procedure 46 §5: "the most available employee"). */
enum dl_hunt_strategy {
	DL_HUNT_FEWEST_TASKS = 0, /**< fewest open tickets, then longest idle (default) */
	DL_HUNT_LONGEST_IDLE,     /**< longest idle since the last call */
	DL_HUNT_RING_ALL,         /**< ring every available clerk; the first to answer wins */
};

/** A clerk (agent): a department employee with a SIP desk phone. */
struct dl_clerk {
	char *id;                 /**< account name: SIP digest username, Redis key ([a-z0-9_.-]) */
	char *extension;          /**< digits others dial to reach this clerk directly */
	char *name;               /**< display name (UTF-8); the id when the file gives none */
	char *email;
	char *ha1;                /**< MD5(id ":" realm ":" password), 32 lower-case hex digits —
				       from `ha1`, or computed from `password` at load */
	char **queues;            /**< queues this clerk serves */
	size_t n_queues;
	int line;
};

/** A queue of callers hunting for a clerk (the `queue:NAME` action). */
struct dl_queue {
	char *name;
	enum dl_hunt_strategy strategy;
	char *music;                       /**< prompt looped while the caller waits; NULL = ringback */
	unsigned ring_timeout_ms;          /**< how long one clerk's phone rings */
	unsigned max_wait_ms;              /**< total time a caller hunts before overflow */
	unsigned max_attempts;             /**< clerks rung (in turn) before overflow */
	unsigned wrap_up_ms;               /**< after a queue call, before the clerk is offered again */
	unsigned max_no_answer;            /**< unanswered rings in a row that put a clerk on break */
	bool wait_for_clerk;               /**< no clerk available: false = overflow at once; true =
					        keep trying until max_wait_ms */
	struct dl_action_list on_overflow; /**< when no clerk can take the call */
	struct dl_action_list on_closed;   /**< a caller reaching the queue outside business hours
					        (Procedure 46 §6 calendar); empty = on_overflow */
	int line;
};

/** Feature codes clerks dial from their phones (default *21 … *24). */
struct dl_features {
	char *login;              /**< → available */
	char *logout;             /**< → logged_out */
	char *break_start;        /**< → break */
	char *break_end;          /**< → available */
	char *ok_prompt;          /**< played when the change was made */
	char *error_prompt;       /**< played when it could not be made */
};

/** REGISTER handling and digest authentication (RFC 3261 §10, §22; RFC 2617). */
struct dl_registrar {
	char *realm;              /**< digest realm; changing it invalidates every stored ha1 */
	unsigned min_expires_s;   /**< shorter Expires → 423 Interval Too Brief with Min-Expires */
	unsigned max_expires_s;   /**< longer Expires is cut down to this */
	unsigned default_expires_s; /**< when the REGISTER names none */
	unsigned nonce_ttl_s;     /**< a nonce older than this gets a challenge with stale=true */
};

/** Tickets: where they are spooled when Redis is down, who gets the mail (Procedure 46 §4). */
struct dl_tickets {
	char *spool_dir;          /**< tickets and mail wait here (absolute) */
	char *department_email;   /**< the department's address: every ticket mail goes there */
	char *header_ticket;      /**< B-leg header with the ticket id ("X-Deskline-Ticket") */
	char *header_menu_path;   /**< … with the menu path ("X-Deskline-Menu-Path") */
	char *header_reason;      /**< … with the overflow reason ("X-Deskline-Overflow-Reason") */
};

/** SMTP for the outbox. */
struct dl_smtp {
	char *url;                /**< "smtp://host:port" or "smtps://host:port" */
	char *from;               /**< sender address */
	char *username;           /**< NULL = no AUTH */
	char *password;
	bool starttls;
	unsigned timeout_ms;
};

/** The whole configuration. */
struct dl_config {
	char *path;                /**< file it was loaded from */

	/* sip */
	char **listen;             /**< SIP URIs to listen on ("sip:127.0.0.1:5060" = UDP and TCP) */
	size_t n_listen;
	char **numbers;            /**< Request-URI user parts answered as the department line */
	size_t n_numbers;
	char *user_agent;
	char *start_menu;          /**< menu a department call starts in */

	struct dl_media_config media;

	struct dl_trunk *trunks;
	size_t n_trunks;

	/* prompts */
	char *prompt_dir;          /**< <prompt_dir>/<language>/<name>.wav; absolute */
	char **languages;          /**< languages prompts exist in; the first is the default */
	size_t n_languages;
	char *ringback_prompt;     /**< NULL = generated ringback tone */
	struct dl_action_list on_trunk_failure; /**< default when a trunk has no on_failure:
	                                             "hangup" (not in the file format) */

	struct dl_menu *menus;
	size_t n_menus;

	/* clerks, queues, feature codes, registrar (Procedure 46 §5) */
	struct dl_clerk *clerks;
	size_t n_clerks;
	struct dl_queue *queues;
	size_t n_queues;
	struct dl_features features;
	struct dl_registrar registrar;

	/* business calendar, tickets, mail (Procedure 46 §4, §6) */
	struct dl_calendar calendar;
	struct dl_action_list on_closed; /**< a department call outside business hours (instead of
					      start_menu); empty = the menu as usual */
	struct dl_tickets tickets;
	struct dl_smtp smtp;

	/* redis */
	char *redis_address;       /**< "unix:/path" or "host:port" */
	char *redis_prefix;        /**< key prefix, "dl:" by default */
	char *node_id;             /**< this node's name in Redis (default: the host name); must
				        be unique among nodes sharing one Redis and stable across
				        restarts, so a restarted node finds the clerks it owned */

	/* log */
	int log_level;             /**< syslog priority */
	bool log_syslog;
	char *cdr_file;            /**< one line per call; NULL = none; absolute */

	unsigned refs;             /**< reference count, see config_ref() */
};

/** Error messages gathered while loading: each "FILE:LINE: message". */
struct dl_config_errors {
	char **msgs;
	size_t n;
};

/**
 * Load and validate a configuration file.
 *
 * Checks: unknown keys, wrong types, missing required keys, bad SIP URIs, an RTP port range that
 * holds fewer than two calls, unknown codecs, prompt files missing in any language, menu options
 * or handlers naming a menu/trunk that does not exist, menus that cannot reach an exit (a trunk,
 * queue or hangup) — a loop without exit; for clerks, queues, feature codes and the registrar:
 * ids, extensions and feature codes that clash with each other or the department numbers, a
 * password or ha1 per clerk, queues without clerks, queue overflows without a way out.
 *
 * @param cfgp  on success *cfgp is a new configuration with one reference (free: config_unref)
 * @param path  file name
 * Relative paths in the file (prompts.directory, log.cdr_file) are taken from the folder the
 * file is in and stored absolute.
 *
 * @param errs  receives every error, appended in line order (caller clears with
 *              config_errors_clear); may be NULL
 * @return 0, ENOENT when the file cannot be read, EINVAL when it has errors, ENOMEM.
 */
int config_load(struct dl_config **cfgp, const char *path, struct dl_config_errors *errs);

/**
 * Take a reference.
 *
 * @param cfg  configuration
 * @return cfg
 */
struct dl_config *config_ref(struct dl_config *cfg);

/**
 * Drop a reference; the last one frees everything. NULL is ignored.
 *
 * @param cfg  configuration or NULL
 */
void config_unref(struct dl_config *cfg);

/**
 * Free the messages of @p errs and empty it.
 *
 * @param errs  error list
 */
void config_errors_clear(struct dl_config_errors *errs);

/**
 * Find a menu by name.
 *
 * @return the menu (owned by cfg) or NULL.
 */
const struct dl_menu *config_menu(const struct dl_config *cfg, const char *name);

/**
 * Find a trunk by name.
 *
 * @return the trunk (owned by cfg) or NULL.
 */
const struct dl_trunk *config_trunk(const struct dl_config *cfg, const char *name);

/**
 * Is @p user one of the department numbers?
 *
 * @param user  Request-URI user part (may be NULL)
 * @return true when it is.
 */
bool config_is_number(const struct dl_config *cfg, const char *user);

/**
 * Find a queue by name.
 *
 * @return the queue (owned by cfg) or NULL.
 */
const struct dl_queue *config_queue(const struct dl_config *cfg, const char *name);

/**
 * Find a clerk by account id.
 *
 * @return the clerk (owned by cfg) or NULL.
 */
const struct dl_clerk *config_clerk(const struct dl_config *cfg, const char *id);

/**
 * Find a clerk by extension.
 *
 * @return the clerk (owned by cfg) or NULL.
 */
const struct dl_clerk *config_clerk_by_extension(const struct dl_config *cfg, const char *ext);

/** Name of a strategy as written in the file ("fewest-tasks", "longest-idle", "ring-all"). */
const char *config_strategy_name(enum dl_hunt_strategy s);

/**
 * Is @p addr (an IP literal) one of the source addresses of a configured trunk?
 *
 * @return the trunk, or NULL.
 */
const struct dl_trunk *config_trunk_by_source(const struct dl_config *cfg, const char *addr);

/**
 * Parse one action string ("menu:main", "trunk:payment", "play:x", "hangup", "lang:en",
 * "queue:collection") — shared by the loader and the tests.
 *
 * An argument may hold only letters, digits and - _ . * and must not start with '.' (prompt and
 * language names become file names).
 *
 * @param s    action text
 * @param act  filled on success (headers NULL, line 0); act->arg is a new string the caller
 *             frees (NULL for hangup)
 * @return 0, EINVAL, ENOMEM.
 */
int config_action_parse(const char *s, struct dl_action *act);

#endif
