/**
 * @file test_ivr.c  The menu machine, as scenarios: a configuration built here, a sequence of
 *                   events (digit, playback done, timeout, external action list) with the time,
 *                   and the full output expected after each.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "deskline/ivr.h"
#include "unit.h"

/* ---- configuration ---- */

#define ACT(t, a) { .type = (t), .arg = (a) }
#define LIST(...) { .v = (struct dl_action[]){ __VA_ARGS__ }, \
		    .n = sizeof((struct dl_action[]){ __VA_ARGS__ }) / sizeof(struct dl_action) }
#define OPTION(d, l, ...) { .digits = (d), .label = (l), .actions = LIST(__VA_ARGS__) }

static struct dl_header payment_headers[] = {
	{ .name = "X-Deskline-Service", .value = "ivr-payment" },
};

/* Like etc/deskline.conf's main menu, plus options for every kind of action. */
static struct dl_menu_option main_options[] = {
	OPTION("0", "goodbye", ACT(DL_ACT_HANGUP, NULL)),
	{ .digits = "1", .label = "automated payment",
	  .actions = { .v = (struct dl_action[]){ { .type = DL_ACT_TRUNK, .arg = "payment",
						    .headers = payment_headers,
						    .n_headers = 1 } },
		       .n = 1 } },
	OPTION("2", "services", ACT(DL_ACT_MENU, "sub")),
	OPTION("3", "silent", ACT(DL_ACT_MENU, "silent")),
	OPTION("4", "collection department",
	       ACT(DL_ACT_PLAY, "transfer-callcenter"), ACT(DL_ACT_TRUNK, "callcenter")),
	OPTION("5", "office hours", ACT(DL_ACT_PLAY, "office-hours")),
	OPTION("6", "clerk", ACT(DL_ACT_QUEUE, "collection")),
	OPTION("7", "broken", ACT(DL_ACT_MENU, "nowhere")),
	OPTION("9", "English", ACT(DL_ACT_LANG, "en"), ACT(DL_ACT_MENU, "main")),
	OPTION("*", "repeat", ACT(DL_ACT_MENU, "main")),
	OPTION("#", "news",
	       ACT(DL_ACT_PLAY, "p1"), ACT(DL_ACT_PLAY, "p2"), ACT(DL_ACT_PLAY, "p3"),
	       ACT(DL_ACT_PLAY, "p4"), ACT(DL_ACT_PLAY, "p5"), ACT(DL_ACT_HANGUP, NULL)),
};

static struct dl_menu_option sub_options[] = {
	OPTION("1", "clerk", ACT(DL_ACT_QUEUE, "collection")),
	OPTION("0", "back", ACT(DL_ACT_MENU, "main")),
};

static struct dl_menu_option multi_options[] = {
	OPTION("1", "one", ACT(DL_ACT_TRUNK, "payment")),
	OPTION("12", "twelve", ACT(DL_ACT_TRUNK, "callcenter")),
	OPTION("81", "clerk", ACT(DL_ACT_QUEUE, "collection")),
	OPTION("A", "alpha", ACT(DL_ACT_HANGUP, NULL)),
	OPTION("9", "mixed",
	       ACT(DL_ACT_PLAY, "p1"), ACT(DL_ACT_LANG, "en"), ACT(DL_ACT_PLAY, "p2"),
	       ACT(DL_ACT_TRUNK, "callcenter")),
};

static struct dl_menu_option silent_options[] = {
	OPTION("1", "clerk", ACT(DL_ACT_QUEUE, "collection")),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct dl_menu menus[] = {
	{
		.name = "main",
		.greeting = "main-greeting",
		.invalid_prompt = "invalid",
		.timeout_prompt = "no-input",
		.first_digit_timeout_ms = 5000,
		.inter_digit_timeout_ms = 2000,
		.max_failures = 3,
		.max_timeouts = 3,
		.on_max_failures = LIST(ACT(DL_ACT_PLAY, "goodbye"), ACT(DL_ACT_HANGUP, NULL)),
		.on_max_timeouts = LIST(ACT(DL_ACT_PLAY, "transfer-callcenter"),
					ACT(DL_ACT_TRUNK, "callcenter")),
		.options = main_options,
		.n_options = N(main_options),
	},
	{
		/* no invalid or timeout prompt: a retry plays the greeting alone */
		.name = "sub",
		.greeting = "sub-greeting",
		.first_digit_timeout_ms = 4000,
		.inter_digit_timeout_ms = 1500,
		.max_failures = 1,
		.max_timeouts = 2,
		.on_max_failures = LIST(ACT(DL_ACT_MENU, "main")),
		.on_max_timeouts = LIST(ACT(DL_ACT_HANGUP, NULL)),
		.options = sub_options,
		.n_options = N(sub_options),
	},
	{
		.name = "multi",
		.greeting = "multi-greeting",
		.invalid_prompt = "invalid",
		.timeout_prompt = "no-input",
		.first_digit_timeout_ms = 3000,
		.inter_digit_timeout_ms = 2000,
		.max_failures = 2,
		.max_timeouts = 1,
		.on_max_failures = LIST(ACT(DL_ACT_PLAY, "goodbye"), ACT(DL_ACT_HANGUP, NULL)),
		.on_max_timeouts = LIST(ACT(DL_ACT_HANGUP, NULL)),
		.options = multi_options,
		.n_options = N(multi_options),
	},
	{
		/* no greeting: the digit timer starts on entry */
		.name = "silent",
		.invalid_prompt = "invalid",
		.first_digit_timeout_ms = 4000,
		.inter_digit_timeout_ms = 2000,
		.max_failures = 3,
		.max_timeouts = 2,
		.on_max_failures = LIST(ACT(DL_ACT_HANGUP, NULL)),
		.on_max_timeouts = LIST(ACT(DL_ACT_PLAY, "goodbye"), ACT(DL_ACT_HANGUP, NULL)),
		.options = silent_options,
		.n_options = N(silent_options),
	},
};

static struct dl_trunk trunks[] = {
	{ .name = "payment", .uri = "sip:payment@127.0.0.1:5070",
	  .on_failure = LIST(ACT(DL_ACT_PLAY, "try-later"), ACT(DL_ACT_HANGUP, NULL)) },
	{ .name = "callcenter", .uri = "sip:moked@127.0.0.1:5080",
	  .on_failure = LIST(ACT(DL_ACT_MENU, "sub")) },
};

static char *languages[] = { "he", "en" };

static struct dl_config cfg = {
	.start_menu = "main",
	.trunks = trunks,
	.n_trunks = N(trunks),
	.languages = languages,
	.n_languages = N(languages),
	.on_trunk_failure = LIST(ACT(DL_ACT_PLAY, "try-later")),
	.menus = menus,
	.n_menus = N(menus),
	.refs = 1,
};

/* ---- scenarios ---- */

/** What one output must be, field by field. */
struct want {
	bool stop;
	const char *play[IVR_MAX_PLAY + 1];   /**< NULL-terminated */
	mstime_t deadline;
	enum ivr_exit exit;
	const char *arg;                      /**< out.action->arg for TRUNK/QUEUE */
	const char *header;                   /**< first B-leg header value, when checked */
	const char *lang;
	const char *state;                    /**< ivr_state_name() afterwards, when checked */
};

enum ev { EV_END = 0, EV_DIGIT, EV_DONE, EV_TIMEOUT, EV_RUN };

struct step {
	enum ev ev;
	mstime_t t;
	char digit;
	const struct dl_action_list *list;
	struct want want;
};

struct scenario {
	const char *name;
	const char *menu;
	const char *lang;        /**< starting language given to ivr_alloc (NULL = default) */
	mstime_t t0;
	struct want first;
	struct step steps[16];
	const char *path;
};

/* Each ends on .list, so the expected output follows without a designator. */
#define DIGIT(time, d)   .ev = EV_DIGIT, .t = (time), .digit = (d), .list = NULL
#define DONE(time)       .ev = EV_DONE, .t = (time), .list = NULL
#define TIMEOUT(time)    .ev = EV_TIMEOUT, .t = (time), .list = NULL
#define RUN(time, l)     .ev = EV_RUN, .t = (time), .list = (l)
#define PLAY(...)        .play = { __VA_ARGS__ }
#define NOTHING(l)       { .lang = (l) }

static const struct want greet_main = { PLAY("main-greeting"), .lang = "he",
					.state = "menu-prompt" };
static const struct want greet_multi = { PLAY("multi-greeting"), .lang = "he" };

static const struct scenario scenarios[] = {
	{
		.name = "greeting, digit after it, trunk with its headers",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DONE(15000), { .deadline = 20000, .lang = "he",
					 .state = "wait-first-digit" } },
			{ DIGIT(16000, '1'), { .exit = IVR_EXIT_TRUNK, .arg = "payment",
					       .header = "ivr-payment", .lang = "he",
					       .state = "done" } },
			{ DIGIT(17000, '2'), { .lang = "he", .state = "done" } },
		},
		.path = "main:1(automated payment)",
	},
	{
		.name = "a digit during the greeting stops it",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(3000, '1'), { .stop = true, .exit = IVR_EXIT_TRUNK,
					      .arg = "payment", .lang = "he" } },
			{ DONE(3100), NOTHING("he") },
		},
		.path = "main:1(automated payment)",
	},
	{
		.name = "an announcement in an action list is not barged into",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(3000, '4'), { .stop = true, PLAY("transfer-callcenter"),
					      .lang = "he", .state = "action-play" } },
			{ DIGIT(3500, '1'), { .lang = "he", .state = "action-play" } },
			{ TIMEOUT(9000), NOTHING("he") },
			{ DONE(5000), { .exit = IVR_EXIT_TRUNK, .arg = "callcenter", .lang = "he" } },
		},
		.path = "main:4(collection department)",
	},
	{
		.name = "first-digit timeout re-prompts",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DONE(15000), { .deadline = 20000, .lang = "he" } },
			{ TIMEOUT(20000), { PLAY("no-input", "main-greeting"), .lang = "he",
					    .state = "menu-prompt" } },
			{ DONE(35000), { .deadline = 40000, .lang = "he" } },
			{ DIGIT(36000, '6'), { .exit = IVR_EXIT_QUEUE, .arg = "collection",
					       .lang = "he" } },
		},
		.path = "main:6(clerk)",
	},
	{
		.name = "max timeouts: announcement, then trunk",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DONE(15000), { .deadline = 20000, .lang = "he" } },
			{ TIMEOUT(20000), { PLAY("no-input", "main-greeting"), .lang = "he" } },
			{ DONE(35000), { .deadline = 40000, .lang = "he" } },
			{ TIMEOUT(40000), { PLAY("no-input", "main-greeting"), .lang = "he" } },
			{ DONE(55000), { .deadline = 60000, .lang = "he" } },
			{ TIMEOUT(60000), { PLAY("transfer-callcenter"), .lang = "he",
					    .state = "action-play" } },
			{ DONE(62000), { .exit = IVR_EXIT_TRUNK, .arg = "callcenter", .lang = "he" } },
		},
		.path = "max-timeouts",
	},
	{
		.name = "invalid entry, then a valid one over the invalid prompt",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DONE(15000), { .deadline = 20000, .lang = "he" } },
			{ DIGIT(16000, '8'), { PLAY("invalid", "main-greeting"), .lang = "he" } },
			{ DIGIT(17000, '1'), { .stop = true, .exit = IVR_EXIT_TRUNK,
					       .arg = "payment", .lang = "he" } },
		},
		.path = "main:1(automated payment)",
	},
	{
		.name = "max failures: goodbye, then hang up",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DONE(15000), { .deadline = 20000, .lang = "he" } },
			{ DIGIT(16000, '8'), { PLAY("invalid", "main-greeting"), .lang = "he" } },
			{ DIGIT(16500, '8'), { .stop = true, PLAY("invalid", "main-greeting"),
					       .lang = "he" } },
			{ DONE(30000), { .deadline = 35000, .lang = "he" } },
			{ DIGIT(31000, '8'), { PLAY("goodbye"), .lang = "he" } },
			{ DIGIT(31500, '1'), NOTHING("he") },
			{ DONE(33000), { .exit = IVR_EXIT_HANGUP, .lang = "he", .state = "done" } },
		},
		.path = "max-failures",
	},
	{
		.name = "sub-menu and back",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(2000, '2'), { .stop = true, PLAY("sub-greeting"), .lang = "he" } },
			{ DONE(6000), { .deadline = 10000, .lang = "he" } },
			{ DIGIT(7000, '0'), { PLAY("main-greeting"), .lang = "he" } },
			{ DONE(20000), { .deadline = 25000, .lang = "he" } },
			{ DIGIT(21000, '6'), { .exit = IVR_EXIT_QUEUE, .arg = "collection",
					       .lang = "he" } },
		},
		.path = "main:2(services) > sub:0(back) > main:6(clerk)",
	},
	{
		.name = "sub-menu max failures leads to main with counters reset",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DONE(15000), { .deadline = 20000, .lang = "he" } },
			{ DIGIT(16000, '8'), { PLAY("invalid", "main-greeting"), .lang = "he" } },
			{ DIGIT(16100, '8'), { .stop = true, PLAY("invalid", "main-greeting"),
					       .lang = "he" } },
			{ DIGIT(16200, '2'), { .stop = true, PLAY("sub-greeting"), .lang = "he" } },
			{ DONE(20000), { .deadline = 24000, .lang = "he" } },
			{ DIGIT(21000, '5'), { PLAY("main-greeting"), .lang = "he" } },
			{ DONE(35000), { .deadline = 40000, .lang = "he" } },
			{ DIGIT(36000, '8'), { PLAY("invalid", "main-greeting"), .lang = "he" } },
		},
		.path = "main:2(services) > max-failures",
	},
	{
		.name = "menu without timeout prompt: greeting alone, then max timeouts",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(2000, '2'), { .stop = true, PLAY("sub-greeting"), .lang = "he" } },
			{ DONE(6000), { .deadline = 10000, .lang = "he" } },
			{ TIMEOUT(10000), { PLAY("sub-greeting"), .lang = "he" } },
			{ DONE(16000), { .deadline = 20000, .lang = "he" } },
			{ TIMEOUT(20000), { .exit = IVR_EXIT_HANGUP, .lang = "he" } },
		},
		.path = "main:2(services) > max-timeouts",
	},
	{
		.name = "multi-digit: \"1\" then the inter-digit timeout takes option 1",
		.menu = "multi", .t0 = 1000, .first = greet_multi,
		.steps = {
			{ DONE(5000), { .deadline = 8000, .lang = "he" } },
			{ DIGIT(6000, '1'), { .deadline = 8000, .lang = "he", .state = "collect" } },
			{ TIMEOUT(7999), { .deadline = 8000, .lang = "he", .state = "collect" } },
			{ TIMEOUT(8000), { .exit = IVR_EXIT_TRUNK, .arg = "payment", .lang = "he" } },
		},
		.path = "multi:1(one)",
	},
	{
		.name = "multi-digit: \"12\" acts at once",
		.menu = "multi", .t0 = 1000, .first = greet_multi,
		.steps = {
			{ DONE(5000), { .deadline = 8000, .lang = "he" } },
			{ DIGIT(6500, '1'), { .deadline = 8500, .lang = "he" } },
			{ DIGIT(7000, '2'), { .exit = IVR_EXIT_TRUNK, .arg = "callcenter",
					      .lang = "he" } },
		},
		.path = "multi:12(twelve)",
	},
	{
		.name = "multi-digit: barge-in with a prefix",
		.menu = "multi", .t0 = 1000, .first = greet_multi,
		.steps = {
			{ DIGIT(2000, '1'), { .stop = true, .deadline = 4000, .lang = "he",
					      .state = "collect" } },
			{ DIGIT(3000, '2'), { .exit = IVR_EXIT_TRUNK, .arg = "callcenter",
					      .lang = "he" } },
		},
		.path = "multi:12(twelve)",
	},
	{
		.name = "multi-digit: prefix of no exact option times out as invalid",
		.menu = "multi", .t0 = 1000, .first = greet_multi,
		.steps = {
			{ DONE(5000), { .deadline = 8000, .lang = "he" } },
			{ DIGIT(6000, '8'), { .deadline = 8000, .lang = "he" } },
			{ TIMEOUT(8000), { PLAY("invalid", "multi-greeting"), .lang = "he" } },
			{ DONE(12000), { .deadline = 15000, .lang = "he" } },
			{ DIGIT(13000, '8'), { .deadline = 15000, .lang = "he" } },
			{ DIGIT(14000, '1'), { .exit = IVR_EXIT_QUEUE, .arg = "collection",
					       .lang = "he" } },
		},
		.path = "multi:81(clerk)",
	},
	{
		.name = "multi-digit: neither option nor prefix is invalid at once; a-d taken",
		.menu = "multi", .t0 = 1000, .first = greet_multi,
		.steps = {
			{ DONE(5000), { .deadline = 8000, .lang = "he" } },
			{ DIGIT(6000, '1'), { .deadline = 8000, .lang = "he" } },
			{ DIGIT(6500, '5'), { PLAY("invalid", "multi-greeting"), .lang = "he" } },
			{ DIGIT(7000, 'x'), NOTHING("he") },
			{ DIGIT(7500, 'a'), { .stop = true, .exit = IVR_EXIT_HANGUP, .lang = "he" } },
		},
		.path = "multi:A(alpha)",
	},
	{
		.name = "multi-digit: max failures goodbye",
		.menu = "multi", .t0 = 1000, .first = greet_multi,
		.steps = {
			{ DIGIT(2000, '5'), { .stop = true, PLAY("invalid", "multi-greeting"),
					      .lang = "he" } },
			{ DIGIT(3000, '1'), { .stop = true, .deadline = 5000, .lang = "he" } },
			{ DIGIT(3500, '1'), { PLAY("goodbye"), .lang = "he" } },
			{ DONE(5000), { .exit = IVR_EXIT_HANGUP, .lang = "he" } },
		},
		.path = "max-failures",
	},
	{
		.name = "option 0 hangs up",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(2000, '0'), { .stop = true, .exit = IVR_EXIT_HANGUP,
					      .lang = "he" } },
		},
		.path = "main:0(goodbye)",
	},
	{
		.name = "option * repeats the menu and resets its counters",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DONE(15000), { .deadline = 20000, .lang = "he" } },
			{ DIGIT(16000, '8'), { PLAY("invalid", "main-greeting"), .lang = "he" } },
			{ DIGIT(16100, '8'), { .stop = true, PLAY("invalid", "main-greeting"),
					       .lang = "he" } },
			{ DIGIT(16200, '*'), { .stop = true, PLAY("main-greeting"), .lang = "he" } },
			{ DIGIT(16300, '8'), { .stop = true, PLAY("invalid", "main-greeting"),
					       .lang = "he" } },
			{ DIGIT(16400, '8'), { .stop = true, PLAY("invalid", "main-greeting"),
					       .lang = "he" } },
			{ DIGIT(16500, '8'), { .stop = true, PLAY("goodbye"), .lang = "he" } },
		},
		.path = "main:*(repeat) > max-failures",
	},
	{
		.name = "option # plays five prompts in two lists, then hangs up",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(2000, '#'), { .stop = true, PLAY("p1", "p2", "p3", "p4"),
					      .lang = "he" } },
			{ DONE(9000), { PLAY("p5"), .lang = "he" } },
			{ DONE(11000), { .exit = IVR_EXIT_HANGUP, .lang = "he" } },
		},
		.path = "main:#(news)",
	},
	{
		.name = "play then continue: back to the greeting",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(2000, '5'), { .stop = true, PLAY("office-hours"), .lang = "he" } },
			{ DONE(8000), { PLAY("main-greeting"), .lang = "he" } },
			{ DONE(20000), { .deadline = 25000, .lang = "he" } },
			{ DIGIT(21000, '1'), { .exit = IVR_EXIT_TRUNK, .arg = "payment",
					       .lang = "he" } },
		},
		.path = "main:5(office hours) > main:1(automated payment)",
	},
	{
		.name = "language switch",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(2000, '9'), { .stop = true, PLAY("main-greeting"), .lang = "en" } },
			{ DONE(15000), { .deadline = 20000, .lang = "en" } },
			{ DIGIT(16000, '1'), { .exit = IVR_EXIT_TRUNK, .arg = "payment",
					       .lang = "en" } },
		},
		.path = "main:9(English) > main:1(automated payment)",
	},
	{
		.name = "language switch between two announcements",
		.menu = "multi", .t0 = 1000, .first = greet_multi,
		.steps = {
			{ DIGIT(2000, '9'), { .stop = true, PLAY("p1"), .lang = "he" } },
			{ DONE(3000), { PLAY("p2"), .lang = "en" } },
			{ DONE(4000), { .exit = IVR_EXIT_TRUNK, .arg = "callcenter", .lang = "en" } },
		},
		.path = "multi:9(mixed)",
	},
	{
		.name = "starting language given by the caller",
		.menu = "main", .lang = "en", .t0 = 1000,
		.first = { PLAY("main-greeting"), .lang = "en" },
		.steps = {
			{ DIGIT(2000, '6'), { .stop = true, .exit = IVR_EXIT_QUEUE,
					      .arg = "collection", .lang = "en" } },
		},
		.path = "main:6(clerk)",
	},
	{
		.name = "trunk failure: announcement, then hang up",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(2000, '1'), { .stop = true, .exit = IVR_EXIT_TRUNK,
					      .arg = "payment", .lang = "he" } },
			{ RUN(30000, &trunks[0].on_failure), { PLAY("try-later"), .lang = "he",
							       .state = "action-play" } },
			{ DONE(33000), { .exit = IVR_EXIT_HANGUP, .lang = "he" } },
		},
		.path = "main:1(automated payment)",
	},
	{
		.name = "trunk failure: default list plays, then the menu again",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(2000, '1'), { .stop = true, .exit = IVR_EXIT_TRUNK,
					      .arg = "payment", .lang = "he" } },
			{ RUN(30000, &cfg.on_trunk_failure), { PLAY("try-later"), .lang = "he" } },
			{ DONE(33000), { PLAY("main-greeting"), .lang = "he" } },
			{ DONE(45000), { .deadline = 50000, .lang = "he" } },
			{ DIGIT(46000, '6'), { .exit = IVR_EXIT_QUEUE, .arg = "collection",
					       .lang = "he" } },
		},
		.path = "main:1(automated payment) > main:6(clerk)",
	},
	{
		.name = "trunk failure into a menu; a run over a prompt stops it",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ RUN(2000, &trunks[1].on_failure), { .stop = true, PLAY("sub-greeting"),
							      .lang = "he" } },
			{ DONE(6000), { .deadline = 10000, .lang = "he" } },
			{ DIGIT(7000, '1'), { .exit = IVR_EXIT_QUEUE, .arg = "collection",
					      .lang = "he" } },
		},
		.path = "sub:1(clerk)",
	},
	{
		.name = "menu without greeting waits at once",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(2000, '3'), { .stop = true, .deadline = 6000, .lang = "he",
					      .state = "wait-first-digit" } },
			{ DIGIT(3000, '9'), { PLAY("invalid"), .lang = "he" } },
			{ DONE(4000), { .deadline = 8000, .lang = "he" } },
			{ TIMEOUT(8000), { .deadline = 12000, .lang = "he" } },
			{ TIMEOUT(12000), { PLAY("goodbye"), .lang = "he" } },
			{ DONE(13000), { .exit = IVR_EXIT_HANGUP, .lang = "he" } },
		},
		.path = "main:3(silent) > max-timeouts",
	},
	{
		.name = "a menu the configuration lacks hangs up",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ DIGIT(2000, '7'), { .stop = true, .exit = IVR_EXIT_HANGUP,
					      .lang = "he" } },
		},
		.path = "main:7(broken) > no-such-menu",
	},
	{
		.name = "late and early events change nothing",
		.menu = "main", .t0 = 1000, .first = greet_main,
		.steps = {
			{ TIMEOUT(9000), NOTHING("he") },
			{ DONE(15000), { .deadline = 20000, .lang = "he" } },
			{ DONE(16000), { .deadline = 20000, .lang = "he" } },
			{ TIMEOUT(19000), { .deadline = 20000, .lang = "he" } },
			{ DIGIT(19500, 'x'), { .deadline = 20000, .lang = "he" } },
			{ TIMEOUT(20500), { PLAY("no-input", "main-greeting"), .lang = "he" } },
		},
		.path = "",
	},
};

static void check_output(const char *name, size_t step, const struct ivr *ivr,
			 const struct ivr_output *out, const struct want *w)
{
	size_t n_play = 0;

	while (n_play < IVR_MAX_PLAY && w->play[n_play] != NULL)
		n_play++;

	ck_assert_msg(out->stop_playback == w->stop, "%s, step %zu: stop_playback %d", name, step,
		      out->stop_playback);
	ck_assert_msg(out->n_play == n_play, "%s, step %zu: n_play %zu, want %zu", name, step,
		      out->n_play, n_play);
	for (size_t i = 0; i < n_play; i++)
		ck_assert_msg(strcmp(out->play[i], w->play[i]) == 0,
			      "%s, step %zu: play[%zu] %s, want %s", name, step, i, out->play[i],
			      w->play[i]);
	ck_assert_msg(out->deadline_ms == w->deadline, "%s, step %zu: deadline %llu, want %llu",
		      name, step, (unsigned long long)out->deadline_ms,
		      (unsigned long long)w->deadline);
	ck_assert_msg(out->exit == w->exit, "%s, step %zu: exit %d, want %d", name, step,
		      out->exit, w->exit);
	if (w->exit == IVR_EXIT_TRUNK || w->exit == IVR_EXIT_QUEUE) {
		ck_assert_msg(out->action != NULL, "%s, step %zu: no action", name, step);
		ck_assert_int_eq(out->action->type,
				 w->exit == IVR_EXIT_TRUNK ? DL_ACT_TRUNK : DL_ACT_QUEUE);
		ck_assert_str_eq(out->action->arg, w->arg);
	} else {
		ck_assert_msg(out->action == NULL, "%s, step %zu: action set", name, step);
	}
	if (w->header != NULL) {
		ck_assert_uint_eq(out->action->n_headers, 1);
		ck_assert_str_eq(out->action->headers[0].value, w->header);
	}
	ck_assert_msg(out->lang != NULL && strcmp(out->lang, w->lang) == 0,
		      "%s, step %zu: lang %s, want %s", name, step, out->lang ? out->lang : "NULL",
		      w->lang);
	ck_assert_str_eq(ivr_lang(ivr), w->lang);
	if (w->state != NULL)
		ck_assert_msg(strcmp(ivr_state_name(ivr), w->state) == 0,
			      "%s, step %zu: state %s, want %s", name, step, ivr_state_name(ivr),
			      w->state);
}

START_TEST(test_scenario)
{
	const struct scenario *sc = &scenarios[_i];
	struct ivr_output out;
	struct ivr *ivr = NULL;

	ck_assert_int_eq(ivr_alloc(&ivr, &cfg, sc->menu, sc->lang, sc->t0, &out), 0);
	check_output(sc->name, 0, ivr, &out, &sc->first);

	for (size_t i = 0; i < N(sc->steps) && sc->steps[i].ev != EV_END; i++) {
		const struct step *st = &sc->steps[i];

		memset(&out, 0xA5, sizeof(out));   /* every field must be written */
		switch (st->ev) {
		case EV_DIGIT:   ivr_digit(ivr, st->digit, st->t, &out); break;
		case EV_DONE:    ivr_playback_done(ivr, st->t, &out); break;
		case EV_TIMEOUT: ivr_timeout(ivr, st->t, &out); break;
		case EV_RUN:     ivr_run(ivr, st->list, st->t, &out); break;
		case EV_END:     break;
		}
		check_output(sc->name, i + 1, ivr, &out, &st->want);
	}
	ck_assert_msg(strcmp(ivr_path(ivr), sc->path) == 0, "%s: path \"%s\", want \"%s\"",
		      sc->name, ivr_path(ivr), sc->path);
	ivr_free(ivr);
}
END_TEST

/* ---- the rest ---- */

START_TEST(test_alloc_errors)
{
	struct ivr_output out;
	struct ivr *ivr = (struct ivr *)&out;   /* must stay untouched on failure */

	ck_assert_int_eq(ivr_alloc(&ivr, &cfg, "nowhere", NULL, 1000, &out), ENOENT);
	ck_assert_ptr_eq(ivr, (struct ivr *)&out);
	ck_assert_int_eq(ivr_alloc(NULL, &cfg, "main", NULL, 1000, &out), EINVAL);
	ck_assert_int_eq(ivr_alloc(&ivr, NULL, "main", NULL, 1000, &out), EINVAL);
	ck_assert_int_eq(ivr_alloc(&ivr, &cfg, NULL, NULL, 1000, &out), EINVAL);
	ck_assert_int_eq(ivr_alloc(&ivr, &cfg, "main", NULL, 1000, NULL), EINVAL);
	ck_assert_ptr_eq(ivr, (struct ivr *)&out);

	ivr_free(NULL);
	ck_assert_str_eq(ivr_path(NULL), "");
	ck_assert_ptr_null(ivr_lang(NULL));
	ck_assert_str_eq(ivr_state_name(NULL), "(null)");

	/* events on no machine give an empty output */
	memset(&out, 0xA5, sizeof(out));
	ivr_digit(NULL, '1', 1000, &out);
	ck_assert_uint_eq(out.n_play, 0);
	ck_assert_uint_eq(out.deadline_ms, 0);
	ck_assert_int_eq(out.exit, IVR_EXIT_NONE);
}
END_TEST

/* A configuration without languages gives no language, and says so in every output. */
START_TEST(test_no_languages)
{
	struct dl_config bare = cfg;
	struct ivr_output out;
	struct ivr *ivr;

	bare.languages = NULL;
	bare.n_languages = 0;
	ck_assert_int_eq(ivr_alloc(&ivr, &bare, "main", NULL, 1000, &out), 0);
	ck_assert_ptr_null(out.lang);
	ck_assert_ptr_null(ivr_lang(ivr));
	ivr_free(ivr);
}
END_TEST

/* 0 means "no timer", so a deadline that would fall on time 0 is moved to 1 ms. */
START_TEST(test_deadline_never_zero)
{
	struct dl_menu quick[N(menus)];
	struct dl_config c = cfg;
	struct ivr_output out;
	struct ivr *ivr;

	memcpy(quick, menus, sizeof(quick));
	quick[3].first_digit_timeout_ms = 0;   /* "silent": no greeting, no wait */
	c.menus = quick;
	ck_assert_int_eq(ivr_alloc(&ivr, &c, "silent", NULL, 0, &out), 0);
	ck_assert_uint_eq(out.n_play, 0);
	ck_assert_uint_eq(out.deadline_ms, 1);
	ivr_timeout(ivr, 1, &out);
	ck_assert_uint_eq(out.deadline_ms, 1);   /* one timeout of two: wait again */
	ck_assert_uint_eq(out.n_play, 0);
	ivr_timeout(ivr, 1, &out);
	ck_assert_uint_eq(out.n_play, 1);
	ck_assert_str_eq(out.play[0], "goodbye");
	ck_assert_uint_eq(out.deadline_ms, 0);
	ivr_free(ivr);
}
END_TEST

/* A caller who keeps pressing "*" fills the path; the newest entries stay. */
START_TEST(test_path_long)
{
	struct ivr_output out;
	struct ivr *ivr;
	const char *path;
	const char *tail = "main:*(repeat) > main:6(clerk)";

	ck_assert_int_eq(ivr_alloc(&ivr, &cfg, "main", NULL, 1000, &out), 0);
	for (int i = 0; i < 100; i++) {
		ivr_digit(ivr, '*', 2000 + (mstime_t)i, &out);
		ck_assert_uint_eq(out.n_play, 1);
	}
	ivr_digit(ivr, '6', 5000, &out);
	ck_assert_int_eq(out.exit, IVR_EXIT_QUEUE);

	path = ivr_path(ivr);
	ck_assert_uint_lt(strlen(path), 512);
	ck_assert_uint_gt(strlen(path), 400);
	ck_assert_msg(strncmp(path, "... > main:*(repeat) > ", 23) == 0, "path starts \"%.40s\"",
		      path);
	ck_assert_str_eq(path + strlen(path) - strlen(tail), tail);
	ivr_free(ivr);
}
END_TEST

START_TEST(test_debug_line)
{
	struct ivr_output out;
	struct ivr *ivr;
	char line[256];
	char small[12];

	ck_assert_int_eq(ivr_alloc(&ivr, &cfg, "multi", NULL, 1000, &out), 0);
	ivr_playback_done(ivr, 5000, &out);
	ivr_digit(ivr, '8', 6000, &out);
	ck_assert_int_eq(ivr_debug(ivr, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "state=collect menu=multi lang=he digits=\"8\" failures=0/2 "
			       "timeouts=0/1 deadline_ms=8000 path=\"\"");
	ck_assert_int_eq(ivr_debug(ivr, small, sizeof(small)), 0);
	ck_assert_str_eq(small, "state=colle");
	ck_assert_int_eq(ivr_debug(NULL, line, sizeof(line)), EINVAL);
	ck_assert_int_eq(ivr_debug(ivr, NULL, 10), EINVAL);
	ck_assert_int_eq(ivr_debug(ivr, line, 0), EINVAL);
	ivr_free(ivr);
}
END_TEST

static Suite *ivr_suite(void)
{
	Suite *s = suite_create("ivr");
	TCase *tc = tcase_create("scenarios");

	tcase_add_loop_test(tc, test_scenario, 0, (int)N(scenarios));
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_alloc_errors);
	tcase_add_test(tc, test_no_languages);
	tcase_add_test(tc, test_deadline_never_zero);
	tcase_add_test(tc, test_path_long);
	tcase_add_test(tc, test_debug_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(ivr_suite());
}
