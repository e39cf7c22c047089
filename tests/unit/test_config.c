/**
 * @file test_config.c  The configuration loader: the sample file, defaults, and one bad file per
 *                      kind of error with the FILE:LINE it must be reported at.
 *
 * Every test works in its own temporary folder holding a "prompts" link to the fixture prompts
 * (tests/unit/conf/prompts: empty *.wav files — the loader only checks that they exist — for
 * every prompt the sample names in he and en, and "only-he", which exists in he alone).
 *
 * HA1 vectors come from md5sum: printf %s 'dana:deskline:change-me-201' | md5sum
 * Weekdays of holidays come from date(1): date -d 2026-09-25 +%A → Friday.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "deskline/config.h"
#include "unit.h"

#define FIXTURE_PROMPTS TOP_SRCDIR "/tests/unit/conf/prompts"

static char tmpdir[PATH_MAX];      /* realpath of this test's folder */

static void tmp_setup(void)
{
	char tmpl[] = "/tmp/dl-test-config-XXXXXX";
	char prompts[PATH_MAX];
	char link[PATH_MAX + 16];

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_ptr_nonnull(realpath(tmpl, tmpdir));
	ck_assert_ptr_nonnull(realpath(FIXTURE_PROMPTS, prompts));
	snprintf(link, sizeof(link), "%s/prompts", tmpdir);
	ck_assert_int_eq(symlink(prompts, link), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void tmp_teardown(void)
{
	nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/** Write @p text to <tmpdir>/<name>; returns the path (static buffer). */
static const char *write_conf(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/** All messages on one line each, for failure output. */
static const char *dump(const struct dl_config_errors *errs)
{
	static char buf[8192];
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < errs->n && used < sizeof(buf); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "\n  %s", errs->msgs[i]);
	return errs->n ? buf : " (none)";
}

/** Is there an error "<path>:<line>: …<text>…"? */
static bool has_error(const struct dl_config_errors *errs, const char *path, int line,
		      const char *text)
{
	char prefix[PATH_MAX + 32];
	size_t len = (size_t)snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);

	for (size_t i = 0; i < errs->n; i++) {
		if (strncmp(errs->msgs[i], prefix, len) == 0 && strstr(errs->msgs[i] + len, text))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------------------------------ */
/* The sample configuration                                                                    */

/* MD5("dana:deskline:change-me-201") and MD5("yossi:deskline:change-me-202"), by md5sum. */
#define HA1_DANA "d8868119bddf7d2079207b110636774e"
#define HA1_YOSSI "f9b036502f677247e124fc18bda5ab51"
/* MD5("dana:other:change-me-201"): the same password in another realm. */
#define HA1_DANA_OTHER "d6737bb8463a0d96763357900b165291"

/** This machine's name: the default redis.node (static buffer). */
static const char *host_name(void)
{
	static char name[HOST_NAME_MAX + 1];

	ck_assert_int_eq(gethostname(name, sizeof(name) - 1), 0);
	return name;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t size = 0;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(getdelim(&text, &size, '\0', f) > 0, 1);
	fclose(f);
	return text;
}

/* etc/deskline.conf copied beside the fixture prompts: the file a packager installs, checked
 * without waiting for the real recordings, and no copy in the tree to drift from it. */
START_TEST(test_sample)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	char *text = read_all(TOP_SRCDIR "/etc/deskline.conf");
	const char *path = write_conf("deskline.conf", text);
	char want[PATH_MAX + 64];

	free(text);
	ck_assert_msg(config_load(&cfg, path, &errs) == 0, "sample:%s", dump(&errs));
	ck_assert_uint_eq(errs.n, 0);

	ck_assert_str_eq(cfg->path, path);
	ck_assert_uint_eq(cfg->n_listen, 1);
	ck_assert_str_eq(cfg->listen[0], "sip:127.0.0.1:5060");
	ck_assert_uint_eq(cfg->n_numbers, 2);
	ck_assert(config_is_number(cfg, "1000"));
	ck_assert(config_is_number(cfg, "5300"));
	ck_assert(!config_is_number(cfg, "5301"));
	ck_assert(!config_is_number(cfg, NULL));
	ck_assert_str_eq(cfg->user_agent, "deskline");
	ck_assert_str_eq(cfg->start_menu, "main");

	ck_assert_str_eq(cfg->media.address, "127.0.0.1");
	ck_assert_uint_eq(cfg->media.port_min, 20000);
	ck_assert_uint_eq(cfg->media.port_max, 29999);
	ck_assert_uint_eq(cfg->media.n_codecs, 2);
	ck_assert_int_eq(cfg->media.codecs[0], DL_CODEC_PCMA);
	ck_assert_int_eq(cfg->media.codecs[1], DL_CODEC_PCMU);
	ck_assert_uint_eq(cfg->media.ptime_ms, 20);
	ck_assert_uint_eq(cfg->media.rtp_timeout_ms, 30000);
	ck_assert_int_eq(cfg->media.inband_dtmf, DL_INBAND_AUTO);
	ck_assert_uint_eq(cfg->media.telephone_event_pt, 101);

	snprintf(want, sizeof(want), "%s/prompts", tmpdir);
	ck_assert_str_eq(cfg->prompt_dir, want);
	ck_assert_uint_eq(cfg->n_languages, 2);
	ck_assert_str_eq(cfg->languages[0], "he");
	ck_assert_str_eq(cfg->languages[1], "en");
	ck_assert_ptr_null(cfg->ringback_prompt);
	ck_assert_uint_eq(cfg->on_trunk_failure.n, 1);
	ck_assert_int_eq(cfg->on_trunk_failure.v[0].type, DL_ACT_HANGUP);

	ck_assert_uint_eq(cfg->n_trunks, 2);
	const struct dl_trunk *pay = config_trunk(cfg, "payment");
	ck_assert_ptr_nonnull(pay);
	ck_assert_str_eq(pay->uri, "sip:payment@127.0.0.1:5070");
	ck_assert_uint_eq(pay->n_sources, 1);
	ck_assert_str_eq(pay->sources[0], "127.0.0.2");
	ck_assert_uint_eq(pay->ring_timeout_ms, 30000);
	ck_assert(pay->keep_caller_id);
	ck_assert_str_eq(pay->from_user, "5300");
	ck_assert_uint_eq(pay->on_failure.n, 2);
	ck_assert_int_eq(pay->on_failure.v[0].type, DL_ACT_PLAY);
	ck_assert_str_eq(pay->on_failure.v[0].arg, "try-later");
	ck_assert_int_eq(pay->on_failure.v[1].type, DL_ACT_HANGUP);
	ck_assert(!pay->opens_ticket);
	const struct dl_trunk *cc = config_trunk(cfg, "callcenter");
	ck_assert_ptr_nonnull(cc);
	ck_assert(cc->opens_ticket);
	ck_assert_ptr_null(config_trunk(cfg, "nope"));

	ck_assert_uint_eq(cfg->n_menus, 1);
	const struct dl_menu *m = config_menu(cfg, "main");
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(config_menu(cfg, "nope"));
	ck_assert_str_eq(m->greeting, "main-greeting");
	ck_assert_str_eq(m->invalid_prompt, "invalid");
	ck_assert_str_eq(m->timeout_prompt, "no-input");
	ck_assert_uint_eq(m->first_digit_timeout_ms, 5000);
	ck_assert_uint_eq(m->inter_digit_timeout_ms, 2000);
	ck_assert_uint_eq(m->max_failures, 3);
	ck_assert_uint_eq(m->max_timeouts, 3);
	ck_assert_uint_eq(m->on_max_timeouts.n, 2);
	ck_assert_int_eq(m->on_max_timeouts.v[1].type, DL_ACT_TRUNK);
	ck_assert_str_eq(m->on_max_timeouts.v[1].arg, "callcenter");
	ck_assert_uint_eq(m->n_options, 6);

	const struct dl_menu_option *o = &m->options[0];
	ck_assert_str_eq(o->digits, "1");
	ck_assert_str_eq(o->label, "automated payment");
	ck_assert_uint_eq(o->actions.n, 1);
	ck_assert_int_eq(o->actions.v[0].type, DL_ACT_TRUNK);
	ck_assert_str_eq(o->actions.v[0].arg, "payment");
	ck_assert_uint_eq(o->actions.v[0].n_headers, 1);
	ck_assert_str_eq(o->actions.v[0].headers[0].name, "X-Deskline-Service");
	ck_assert_str_eq(o->actions.v[0].headers[0].value, "ivr-payment");

	o = &m->options[3];
	ck_assert_str_eq(o->label, "collection department");
	ck_assert_uint_eq(o->actions.n, 1);
	ck_assert_int_eq(o->actions.v[0].type, DL_ACT_QUEUE);
	ck_assert_str_eq(o->actions.v[0].arg, "collection");
	ck_assert_uint_eq(o->actions.v[0].n_headers, 0);
	ck_assert_ptr_null(o->actions.v[0].headers);

	o = &m->options[4];
	ck_assert_str_eq(o->digits, "9");
	ck_assert_int_eq(o->actions.v[0].type, DL_ACT_LANG);
	ck_assert_str_eq(o->actions.v[0].arg, "en");
	ck_assert_int_eq(o->actions.v[1].type, DL_ACT_MENU);
	ck_assert_str_eq(o->actions.v[1].arg, "main");
	ck_assert_str_eq(m->options[5].digits, "*");

	ck_assert_str_eq(cfg->registrar.realm, "deskline");
	ck_assert_uint_eq(cfg->registrar.min_expires_s, 60);
	ck_assert_uint_eq(cfg->registrar.max_expires_s, 3600);
	ck_assert_uint_eq(cfg->registrar.default_expires_s, 600);
	ck_assert_uint_eq(cfg->registrar.nonce_ttl_s, 300);

	ck_assert_str_eq(cfg->features.login, "*21");
	ck_assert_str_eq(cfg->features.logout, "*22");
	ck_assert_str_eq(cfg->features.break_start, "*23");
	ck_assert_str_eq(cfg->features.break_end, "*24");
	ck_assert_str_eq(cfg->features.ok_prompt, "feature-ok");
	ck_assert_str_eq(cfg->features.error_prompt, "feature-error");

	ck_assert_uint_eq(cfg->n_clerks, 2);
	const struct dl_clerk *c = config_clerk(cfg, "dana");
	ck_assert_ptr_eq(c, &cfg->clerks[0]);
	ck_assert_str_eq(c->extension, "201");
	ck_assert_str_eq(c->name, "Dana Levi");
	ck_assert_str_eq(c->email, "dana@example.org");
	ck_assert_str_eq(c->ha1, HA1_DANA);
	ck_assert_uint_eq(c->n_queues, 1);
	ck_assert_str_eq(c->queues[0], "collection");
	c = config_clerk_by_extension(cfg, "202");
	ck_assert_ptr_eq(c, &cfg->clerks[1]);
	ck_assert_str_eq(c->id, "yossi");
	ck_assert_str_eq(c->name, "Yossi Cohen");
	ck_assert_str_eq(c->ha1, HA1_YOSSI);

	ck_assert_uint_eq(cfg->n_queues, 1);
	const struct dl_queue *q = config_queue(cfg, "collection");
	ck_assert_ptr_eq(q, &cfg->queues[0]);
	ck_assert_str_eq(q->name, "collection");
	ck_assert_int_eq(q->strategy, DL_HUNT_FEWEST_TASKS);
	ck_assert_str_eq(q->music, "queue-music");
	ck_assert_uint_eq(q->ring_timeout_ms, 15000);
	ck_assert_uint_eq(q->max_wait_ms, 90000);
	ck_assert_uint_eq(q->max_attempts, 6);
	ck_assert_uint_eq(q->wrap_up_ms, 30000);
	ck_assert_uint_eq(q->max_no_answer, 3);
	ck_assert(!q->wait_for_clerk);
	ck_assert_uint_eq(q->on_overflow.n, 2);
	ck_assert_int_eq(q->on_overflow.v[0].type, DL_ACT_PLAY);
	ck_assert_str_eq(q->on_overflow.v[0].arg, "transfer-callcenter");
	ck_assert_int_eq(q->on_overflow.v[1].type, DL_ACT_TRUNK);
	ck_assert_str_eq(q->on_overflow.v[1].arg, "callcenter");

	ck_assert_str_eq(cfg->redis_address, "127.0.0.1:6379");
	ck_assert_str_eq(cfg->redis_prefix, "dl:");
	ck_assert_str_eq(cfg->node_id, host_name());
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert(!cfg->log_syslog);
	snprintf(want, sizeof(want), "%s/../run/cdr.log", tmpdir);
	ck_assert_str_eq(cfg->cdr_file, want);

	/* Procedure 46 §4, §6 */
	const struct dl_calendar *cal = &cfg->calendar;
	ck_assert_str_eq(cal->timezone, "Asia/Jerusalem");
	for (size_t d = 0; d < 5; d++) {
		ck_assert_int_eq(cal->week[d].open_min, 8 * 60);
		ck_assert_int_eq(cal->week[d].close_min, 16 * 60);
	}
	ck_assert_int_eq(cal->week[5].open_min, cal->week[5].close_min);
	ck_assert_int_eq(cal->week[6].open_min, cal->week[6].close_min);
	ck_assert_uint_eq(cal->n_holidays, 20);
	for (size_t i = 1; i < cal->n_holidays; i++) {
		const struct cal_holiday *a = &cal->holidays[i - 1], *b = &cal->holidays[i];
		ck_assert_int_lt(a->year * 10000 + a->month * 100 + a->day,
				 b->year * 10000 + b->month * 100 + b->day);
	}
	ck_assert_int_eq(cal->holidays[0].year, 2026);
	ck_assert_int_eq(cal->holidays[0].month, 9);
	ck_assert_int_eq(cal->holidays[0].day, 12);
	ck_assert_int_eq(cal->holidays[0].close_min, -1);
	ck_assert_int_eq(cal->holidays[2].day, 20);
	ck_assert_int_eq(cal->holidays[2].close_min, 13 * 60);
	ck_assert_int_eq(cal->holidays[19].year, 2027);
	ck_assert_int_eq(cal->holidays[19].month, 10);
	ck_assert_int_eq(cal->holidays[19].day, 23);
	/* The loaded calendar at work: after the eve of Yom Kippur closes, the next business day
	 * is the day after Yom Kippur. */
	struct cal_civil received = { 2026, 9, 20, 14, 0, 0 }, due;
	ck_assert_int_eq(calendar_due_civil(cal, &received, &due), 0);
	ck_assert_int_eq(due.month, 9);
	ck_assert_int_eq(due.day, 22);
	ck_assert_int_eq(due.hour, 16);
	/* Outside hours the payment options stay open; the department's queue closes. */
	ck_assert_uint_eq(cfg->on_closed.n, 0);
	const struct dl_queue *cq = config_queue(cfg, "collection");
	ck_assert_ptr_nonnull(cq);
	ck_assert_uint_eq(cq->on_closed.n, 2);
	ck_assert_int_eq(cq->on_closed.v[0].type, DL_ACT_PLAY);
	ck_assert_str_eq(cq->on_closed.v[0].arg, "closed");
	ck_assert_int_eq(cq->on_closed.v[1].type, DL_ACT_TRUNK);
	ck_assert_str_eq(cq->on_closed.v[1].arg, "callcenter");

	snprintf(want, sizeof(want), "%s/../run/spool", tmpdir);
	ck_assert_str_eq(cfg->tickets.spool_dir, want);
	ck_assert_str_eq(cfg->tickets.department_email, "collection@council.example");
	ck_assert_str_eq(cfg->tickets.header_ticket, "X-Deskline-Ticket");
	ck_assert_str_eq(cfg->tickets.header_menu_path, "X-Deskline-Menu-Path");
	ck_assert_str_eq(cfg->tickets.header_reason, "X-Deskline-Overflow-Reason");

	ck_assert_str_eq(cfg->smtp.url, "smtp://127.0.0.1:2525");
	ck_assert_str_eq(cfg->smtp.from, "deskline@council.example");
	ck_assert_ptr_null(cfg->smtp.username);
	ck_assert_ptr_null(cfg->smtp.password);
	ck_assert(!cfg->smtp.starttls);
	ck_assert_uint_eq(cfg->smtp.timeout_ms, 30000);

	ck_assert_uint_eq(cfg->refs, 1);
	config_unref(cfg);
}
END_TEST

/* The file as shipped, with the recordings in etc/prompts. */
START_TEST(test_sample_with_real_prompts)
{
	static const char *const names[] = {
		"main-greeting", "invalid", "no-input", "goodbye", "transfer-callcenter",
		"try-later", "feature-ok", "feature-error", "queue-music", "closed",
	};
	static const char *const langs[] = { "he", "en" };
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;

	for (size_t i = 0; i < 2; i++) {
		for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
			char path[PATH_MAX];
			snprintf(path, sizeof(path), "%s/etc/prompts/%s/%s.wav", TOP_SRCDIR,
				 langs[i], names[j]);
			ck_assert_msg(access(path, R_OK) == 0, "%s is missing: etc/prompts must "
				      "hold every prompt etc/deskline.conf names", path);
		}
	}
	ck_assert_msg(config_load(&cfg, TOP_SRCDIR "/etc/deskline.conf", &errs) == 0,
		      "etc/deskline.conf:%s", dump(&errs));
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_uint_eq(cfg->n_menus, 1);
	ck_assert_uint_eq(cfg->n_clerks, 2);
	ck_assert_uint_eq(cfg->n_queues, 1);
	config_unref(cfg);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Defaults, paths, the API around loading                                                     */

/* The smallest good file; the error table below replaces one part of it at a time. The
 * optional sections (registrar, features, queues, clerks) are left out of it. */
enum part {
	P_SIP, P_MEDIA, P_PROMPTS, P_TRUNKS, P_MENUS, P_REGISTRAR, P_FEATURES, P_QUEUES,
	P_CLERKS, P_TAIL, N_PARTS
};

static const char *const base[N_PARTS] = {
	[P_SIP] = "sip: { listen = [ \"sip:127.0.0.1:5060\" ]; numbers = [ \"1000\" ]; "
		  "start_menu = \"main\"; };\n",
	[P_MEDIA] = "media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099; };\n",
	[P_PROMPTS] = "prompts: { directory = \"prompts\"; languages = [ \"he\", \"en\" ]; };\n",
	[P_TRUNKS] = "trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\"; "
		     "sources = [ \"127.0.0.1\" ]; }; };\n",
	[P_MENUS] = "menus: { main: { greeting = \"main-greeting\"; "
		    "options = ( { digits = \"1\"; action = \"trunk:pay\"; } ); }; };\n",
	[P_REGISTRAR] = "",
	[P_FEATURES] = "",
	[P_QUEUES] = "",
	[P_CLERKS] = "",
	[P_TAIL] = "",
};

/* A queue and a clerk who serves it: the smallest good pair, each on one line. */
#define QUEUE_Q "queues: { q: { on_overflow = \"hangup\"; }; };\n"
#define CLERK_Q "clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";" \
		" password = \"pw\"; queues = [ \"q\" ]; } );\n"
#define CLERK_HEAD "clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";" \
		   " password = \"pw\"; queues = [ \"q\" ]; },\n"


/** The base file with @p parts replacing its parts (NULL: keep; "": leave the part out). */
static char *compose(const char *const parts[N_PARTS])
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < N_PARTS; i++)
		fputs(parts[i] ? parts[i] : base[i], f);
	fclose(f);
	return text;
}

START_TEST(test_defaults)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	const char *const none[N_PARTS] = { 0 };
	char *text = compose(none);
	const char *path = write_conf("min.conf", text);

	free(text);
	ck_assert_msg(config_load(&cfg, path, &errs) == 0, "base:%s", dump(&errs));
	ck_assert_str_eq(cfg->user_agent, "deskline");
	ck_assert_uint_eq(cfg->media.ptime_ms, 20);
	ck_assert_uint_eq(cfg->media.n_codecs, 2);
	ck_assert_int_eq(cfg->media.codecs[0], DL_CODEC_PCMU);
	ck_assert_int_eq(cfg->media.codecs[1], DL_CODEC_PCMA);
	ck_assert_uint_eq(cfg->media.rtp_timeout_ms, 30000);
	ck_assert_int_eq(cfg->media.inband_dtmf, DL_INBAND_AUTO);
	ck_assert_uint_eq(cfg->media.telephone_event_pt, 101);
	ck_assert_ptr_null(cfg->ringback_prompt);

	const struct dl_menu *m = config_menu(cfg, "main");
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->first_digit_timeout_ms, 5000);
	ck_assert_uint_eq(m->inter_digit_timeout_ms, 2000);
	ck_assert_uint_eq(m->max_failures, 3);
	ck_assert_uint_eq(m->max_timeouts, 3);
	ck_assert_ptr_null(m->invalid_prompt);
	ck_assert_ptr_null(m->timeout_prompt);
	ck_assert_uint_eq(m->on_max_failures.n, 1);
	ck_assert_int_eq(m->on_max_failures.v[0].type, DL_ACT_HANGUP);
	ck_assert_ptr_null(m->on_max_failures.v[0].arg);
	ck_assert_int_eq(m->on_max_failures.v[0].line, 5);
	ck_assert_uint_eq(m->on_max_timeouts.n, 1);
	ck_assert_int_eq(m->on_max_timeouts.v[0].type, DL_ACT_HANGUP);
	ck_assert_int_eq(m->line, 5);
	ck_assert_int_eq(m->options[0].line, 5);
	ck_assert_str_eq(m->options[0].label, "1");
	ck_assert_uint_eq(m->options[0].actions.v[0].n_headers, 0);

	const struct dl_trunk *t = config_trunk(cfg, "pay");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->ring_timeout_ms, 30000);
	ck_assert(t->keep_caller_id);
	ck_assert_ptr_null(t->from_user);
	ck_assert_uint_eq(t->on_failure.n, 0);

	ck_assert_str_eq(cfg->redis_prefix, "dl:");
	ck_assert_str_eq(cfg->redis_address, "127.0.0.1:6379");
	ck_assert_str_eq(cfg->node_id, host_name());
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert(!cfg->log_syslog);
	ck_assert_ptr_null(cfg->cdr_file);

	/* Optional sections: defaults, and no clerks or queues at all. */
	ck_assert_str_eq(cfg->registrar.realm, "deskline");
	ck_assert_uint_eq(cfg->registrar.min_expires_s, 60);
	ck_assert_uint_eq(cfg->registrar.max_expires_s, 3600);
	ck_assert_uint_eq(cfg->registrar.default_expires_s, 600);
	ck_assert_uint_eq(cfg->registrar.nonce_ttl_s, 300);
	ck_assert_str_eq(cfg->features.login, "*21");
	ck_assert_str_eq(cfg->features.logout, "*22");
	ck_assert_str_eq(cfg->features.break_start, "*23");
	ck_assert_str_eq(cfg->features.break_end, "*24");
	ck_assert_ptr_null(cfg->features.ok_prompt);
	ck_assert_ptr_null(cfg->features.error_prompt);
	ck_assert_uint_eq(cfg->n_clerks, 0);
	ck_assert_ptr_null(cfg->clerks);
	ck_assert_uint_eq(cfg->n_queues, 0);
	ck_assert_ptr_null(cfg->queues);
	ck_assert_ptr_null(config_clerk(cfg, "dana"));
	ck_assert_ptr_null(config_clerk_by_extension(cfg, "201"));
	ck_assert_ptr_null(config_queue(cfg, "q"));

	/* No calendar, tickets or smtp section (Procedure 46 §4, §6). */
	static const struct cal_hours week[7] = {
		{ 480, 960 }, { 480, 960 }, { 480, 960 }, { 480, 960 }, { 480, 960 }, { 0, 0 },
		{ 0, 0 },
	};
	ck_assert_str_eq(cfg->calendar.timezone, "Asia/Jerusalem");
	ck_assert_mem_eq(cfg->calendar.week, week, sizeof(week));
	ck_assert_ptr_null(cfg->calendar.holidays);
	ck_assert_uint_eq(cfg->calendar.n_holidays, 0);
	ck_assert_uint_eq(cfg->on_closed.n, 0);
	ck_assert_ptr_null(cfg->on_closed.v);
	ck_assert(!t->opens_ticket);
	char want[PATH_MAX + 16];
	snprintf(want, sizeof(want), "%s/spool", tmpdir);
	ck_assert_str_eq(cfg->tickets.spool_dir, want);
	ck_assert_ptr_null(cfg->tickets.department_email);
	ck_assert_str_eq(cfg->tickets.header_ticket, "X-Deskline-Ticket");
	ck_assert_str_eq(cfg->tickets.header_menu_path, "X-Deskline-Menu-Path");
	ck_assert_str_eq(cfg->tickets.header_reason, "X-Deskline-Overflow-Reason");
	ck_assert_str_eq(cfg->smtp.url, "smtp://127.0.0.1:25");
	ck_assert_str_eq(cfg->smtp.from, "deskline@localhost");
	ck_assert_ptr_null(cfg->smtp.username);
	ck_assert_ptr_null(cfg->smtp.password);
	ck_assert(!cfg->smtp.starttls);
	ck_assert_uint_eq(cfg->smtp.timeout_ms, 30000);

	/* References: the last unref frees (valgrind and ASan watch that it is the last). */
	ck_assert_ptr_eq(config_ref(cfg), cfg);
	ck_assert_uint_eq(cfg->refs, 2);
	config_unref(cfg);
	ck_assert_uint_eq(cfg->refs, 1);
	config_unref(cfg);
	config_unref(NULL);
}
END_TEST

START_TEST(test_paths)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	char prompts[PATH_MAX];
	char want[PATH_MAX + 64];
	char text[4 * PATH_MAX];
	const char *const parts[N_PARTS] = {
		[P_PROMPTS] = "",
		[P_TAIL] = "log: { level = \"debug\"; syslog = true;\n"
			   "  cdr_file = \"cdr/calls.log\"; };\n"
			   "redis: { address = \"unix:/run/redis/redis.sock\";\n"
			   "  prefix = \"t1:\"; };\n",
	};
	char *rest = compose(parts);

	/* Absolute paths stay as they are; relative ones start at the file's folder, not at the
	 * working directory. */
	ck_assert_ptr_nonnull(realpath(FIXTURE_PROMPTS, prompts));
	snprintf(text, sizeof(text), "prompts: { directory = \"%s\"; languages = [ \"he\" ]; "
		 "ringback = \"goodbye\"; };\n%s", prompts, rest);
	free(rest);
	const char *path = write_conf("paths.conf", text);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_msg(config_load(&cfg, path, &errs) == 0, "paths:%s", dump(&errs));
	ck_assert_str_eq(cfg->prompt_dir, prompts);
	ck_assert_str_eq(cfg->ringback_prompt, "goodbye");
	snprintf(want, sizeof(want), "%s/cdr/calls.log", tmpdir);
	ck_assert_str_eq(cfg->cdr_file, want);
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	ck_assert(cfg->log_syslog);
	ck_assert_str_eq(cfg->redis_address, "unix:/run/redis/redis.sock");
	ck_assert_str_eq(cfg->redis_prefix, "t1:");
	config_unref(cfg);

	/* A relative file name: the prompt folder still comes out absolute. */
	ck_assert_int_eq(chdir(tmpdir), 0);
	const char *const none[N_PARTS] = { 0 };
	rest = compose(none);
	write_conf("rel.conf", rest);
	free(rest);
	cfg = NULL;
	ck_assert_msg(config_load(&cfg, "rel.conf", &errs) == 0, "rel:%s", dump(&errs));
	ck_assert_str_eq(cfg->path, "rel.conf");
	snprintf(want, sizeof(want), "%s/prompts", tmpdir);
	ck_assert_str_eq(cfg->prompt_dir, want);
	config_unref(cfg);
}
END_TEST

START_TEST(test_unreadable)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config untouched;
	struct dl_config *cfg = &untouched;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/none.conf", tmpdir);
	ck_assert_int_eq(config_load(&cfg, path, &errs), ENOENT);
	ck_assert_ptr_eq(cfg, &untouched);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], path));
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "No such file or directory"));
	config_errors_clear(&errs);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_ptr_null(errs.msgs);
	config_errors_clear(&errs);

	ck_assert_int_eq(config_load(NULL, path, &errs), EINVAL);
	ck_assert_int_eq(config_load(&cfg, NULL, &errs), EINVAL);
	ck_assert_uint_eq(errs.n, 0);
}
END_TEST

/* Errors are appended to what the list holds, and a NULL list is allowed. */
START_TEST(test_errors_list)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	const char *path = write_conf("broken.conf", "sip: { listen = 5; };\n");

	ck_assert_int_eq(config_load(&cfg, path, NULL), EINVAL);
	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(config_load(&cfg, path, &errs), EINVAL);
	size_t first = errs.n;
	ck_assert_uint_gt(first, 1);
	ck_assert_int_eq(config_load(&cfg, path, &errs), EINVAL);
	ck_assert_uint_eq(errs.n, 2 * first);
	ck_assert_str_eq(errs.msgs[0], errs.msgs[first]);
	ck_assert_ptr_null(cfg);
	config_errors_clear(&errs);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* One file per kind of error                                                                  */

/** The line the error is expected at carries this comment. */
#define HERE "//<"

struct bad_case {
	const char *name;
	const char *parts[N_PARTS];   /* replace parts of the base file */
	const char *msg;              /* expected after "FILE:LINE: " of the HERE line */
	size_t n_errors;              /* errors in all */
};

static const struct bad_case bad_cases[] = {
	/* libconfig syntax */
	{ "syntax error", { [P_MEDIA] =
		"media: {\n address = \"127.0.0.1\";\n port_min = ; " HERE "\n"
		" port_max = 20099; };\n" },
	  "syntax error", 1 },
	{ "key given twice", { [P_SIP] =
		"sip: { listen = [ \"sip:127.0.0.1:5060\" ]; numbers = [ \"1000\" ];\n"
		"  start_menu = \"main\";\n  start_menu = \"main\"; " HERE "\n};\n" },
	  "duplicate setting name", 1 },

	/* unknown keys, at every level */
	{ "unknown section", { [P_TAIL] = "colour = \"blue\"; " HERE "\n" },
	  "unknown section \"colour\"", 1 },
	{ "unknown key in sip", { [P_SIP] =
		"sip: { listen = [ \"sip:127.0.0.1:5060\" ]; numbers = [ \"1000\" ];\n"
		"  start_menu = \"main\"; colour = 1; " HERE "\n};\n" },
	  "unknown key \"colour\" in sip", 1 },
	{ "unknown key in media", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  ptime = 20; " HERE "\n};\n" },
	  "unknown key \"ptime\" in media", 1 },
	{ "unknown key in prompts", { [P_PROMPTS] =
		"prompts: { directory = \"prompts\"; languages = [ \"he\" ];\n"
		"  ringback_tone = true; " HERE "\n};\n" },
	  "unknown key \"ringback_tone\" in prompts", 1 },
	{ "unknown key in a trunk", { [P_TRUNKS] =
		"trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\";\n"
		"  timeout_ms = 5000; " HERE "\n}; };\n" },
	  "unknown key \"timeout_ms\" in trunks.pay", 1 },
	{ "unknown key in a menu", { [P_MENUS] =
		"menus: { main: {\n  greting = \"main-greeting\"; " HERE "\n"
		"  options = ( { digits = \"1\"; action = \"trunk:pay\"; } ); }; };\n" },
	  "unknown key \"greting\" in menus.main", 1 },
	{ "unknown key in an option", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"1\"; action = \"trunk:pay\"; lable = \"x\"; } " HERE "\n"
		"); }; };\n" },
	  "unknown key \"lable\" in menus.main.options[0]", 1 },
	{ "unknown key in redis", { [P_TAIL] = "redis: { host = \"localhost\"; " HERE "\n};\n" },
	  "unknown key \"host\" in redis", 1 },
	{ "unknown key in log", { [P_TAIL] = "log: {\n  file = \"x.log\"; " HERE "\n};\n" },
	  "unknown key \"file\" in log", 1 },

	/* wrong types */
	{ "integer as a string", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_max = 20099;\n"
		"  port_min = \"20000\"; " HERE "\n};\n" },
	  "media.port_min must be an integer", 1 },
	{ "integer as a float", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  ptime_ms = 20.0; " HERE "\n};\n" },
	  "media.ptime_ms must be an integer", 1 },
	{ "in-band DTMF as an integer", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  inband_dtmf = 1; " HERE "\n};\n" },
	  "media.inband_dtmf must be true, false or \"auto\"", 1 },
	{ "in-band DTMF neither a boolean nor auto", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  inband_dtmf = \"sometimes\"; " HERE "\n};\n" },
	  "media.inband_dtmf must be true, false or \"auto\"", 1 },
	{ "io_uring as a string", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  io_uring = \"yes\"; " HERE "\n};\n" },
	  "media.io_uring must be true or false", 1 },
	{ "string as an integer", { [P_SIP] =
		"sip: { listen = [ \"sip:127.0.0.1:5060\" ]; numbers = [ \"1000\" ];\n"
		"  start_menu = 5; " HERE "\n};\n" },
	  "sip.start_menu must be a string", 1 },
	{ "list as a string", { [P_SIP] =
		"sip: { numbers = [ \"1000\" ]; start_menu = \"main\";\n"
		"  listen = \"sip:127.0.0.1:5060\"; " HERE "\n};\n" },
	  "sip.listen must be a list of strings", 1 },
	{ "list of integers", { [P_SIP] =
		"sip: { listen = [ \"sip:127.0.0.1:5060\" ]; start_menu = \"main\";\n"
		"  numbers = [ 1000 ]; " HERE "\n};\n" },
	  "sip.numbers[0] must be a string", 1 },
	{ "section as a value", { [P_MEDIA] = "media = 5; " HERE "\n" },
	  "media must be a group", 1 },
	{ "action as an integer", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"1\"; action = 5; } " HERE "\n); }; };\n" },
	  "menus.main.options[0].action must be an action or a list of actions", 1 },
	{ "action list holding an integer", { [P_TRUNKS] =
		"trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\";\n"
		"  on_failure = ( \"play:try-later\", 3 ); " HERE "\n}; };\n" },
	  "trunks.pay.on_failure[1] must be a string", 1 },
	{ "options as a group", { [P_MENUS] =
		"menus: { main: {\n"
		"  options = { digits = \"1\"; action = \"trunk:pay\"; }; " HERE "\n}; };\n" },
	  "menus.main.options must be a list of groups", 1 },
	{ "trunk as a string", { [P_TRUNKS] =
		"trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\"; };\n"
		"  other = \"sip:x@127.0.0.1\"; " HERE "\n};\n" },
	  "trunks.other must be a group", 1 },
	{ "header value as an integer", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\";\n"
		"  headers = { X-Service = 5; }; } " HERE "\n); }; };\n" },
	  "menus.main.options[0].headers.X-Service must be a string", 1 },

	/* missing keys */
	{ "missing key in sip", { [P_SIP] =
		"sip: { " HERE "\n"
		"  listen = [ \"sip:127.0.0.1:5060\" ]; numbers = [ \"1000\" ]; };\n" },
	  "missing required key \"start_menu\" in sip", 1 },
	{ "missing key in media", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; }; " HERE "\n" },
	  "missing required key \"port_max\" in media", 1 },
	{ "missing key in a trunk", { [P_TRUNKS] =
		"trunks: {\n  pay: { sources = [ \"127.0.0.1\" ]; }; " HERE "\n};\n" },
	  "missing required key \"uri\" in trunks.pay", 1 },
	{ "missing key in an option", { [P_MENUS] =
		"menus: { main: { options = (\n  { action = \"trunk:pay\"; } " HERE "\n"
		"); }; };\n" },
	  "missing required key \"digits\" in menus.main.options[0]", 1 },
	{ "missing from_user", { [P_TRUNKS] =
		"trunks: {\n  pay: { uri = \"sip:pay@127.0.0.1:5070\"; keep_caller_id = false; }; "
		HERE "\n};\n" },
	  "missing required key \"from_user\" in trunks.pay (keep_caller_id is false)", 1 },
	{ "missing section", { [P_SIP] =
		"sip: { listen = [ \"sip:127.0.0.1:5060\" ]; numbers = [ \"1000\" ]; "
		"start_menu = \"main\"; }; " HERE "\n", [P_MENUS] = "" },
	  "missing required section \"menus\"", 1 },
	{ "no menus", { [P_MENUS] = "menus: { }; " HERE "\n" },
	  "menus must not be empty", 1 },
	{ "no numbers", { [P_SIP] =
		"sip: { listen = [ \"sip:127.0.0.1:5060\" ]; start_menu = \"main\";\n"
		"  numbers = [ ]; " HERE "\n};\n" },
	  "sip.numbers must not be empty", 1 },

	/* SIP URIs, addresses, names */
	{ "listen URI with another scheme", { [P_SIP] =
		"sip: { numbers = [ \"1000\" ]; start_menu = \"main\";\n"
		"  listen = [ \"sip:127.0.0.1:5060\", \"http://127.0.0.1:5060\" ]; " HERE "\n"
		"};\n" },
	  "sip.listen[1]: \"http://127.0.0.1:5060\" is not a SIP URI", 1 },
	{ "listen address without scheme", { [P_SIP] =
		"sip: { numbers = [ \"1000\" ]; start_menu = \"main\";\n"
		"  listen = [ \"127.0.0.1:5060\" ]; " HERE "\n};\n" },
	  "\"127.0.0.1:5060\" is not a SIP URI", 1 },
	{ "trunk URI without host", { [P_TRUNKS] =
		"trunks: { pay: {\n  uri = \"sip:pay@\"; " HERE "\n}; };\n" },
	  "trunks.pay.uri: \"sip:pay@\" is not a SIP URI", 1 },
	{ "trunk URI with a bad host", { [P_TRUNKS] =
		"trunks: { pay: {\n  uri = \"sip:pay@pay center\"; " HERE "\n}; };\n" },
	  "\"sip:pay@pay center\" is not a SIP URI", 1 },
	{ "trunk URI with a bad port", { [P_TRUNKS] =
		"trunks: { pay: {\n  uri = \"sip:pay@127.0.0.1:99999\"; " HERE "\n}; };\n" },
	  "\"sip:pay@127.0.0.1:99999\" is not a SIP URI", 1 },
	{ "trunk URI with headers", { [P_TRUNKS] =
		"trunks: { pay: {\n  uri = \"sip:pay@127.0.0.1?Subject=x\"; " HERE "\n}; };\n" },
	  "is not a SIP URI", 1 },
	{ "trunk source as a host name", { [P_TRUNKS] =
		"trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\";\n"
		"  sources = [ \"127.0.0.1\", \"pay.example.com\" ]; " HERE "\n}; };\n" },
	  "trunks.pay.sources[1]: \"pay.example.com\" is not an IP address", 1 },
	{ "media address as a host name", { [P_MEDIA] =
		"media: { port_min = 20000; port_max = 20099;\n"
		"  address = \"localhost\"; " HERE "\n};\n" },
	  "media.address: \"localhost\" is not an IP address", 1 },
	{ "media address as a wildcard", { [P_MEDIA] =
		"media: { port_min = 20000; port_max = 20099;\n  address = \"0.0.0.0\"; " HERE "\n"
		"};\n" },
	  "media.address: \"0.0.0.0\" is a wildcard", 1 },
	{ "department number with a space", { [P_SIP] =
		"sip: { listen = [ \"sip:127.0.0.1:5060\" ]; start_menu = \"main\";\n"
		"  numbers = [ \"1000\", \"53 00\" ]; " HERE "\n};\n" },
	  "sip.numbers[1]: \"53 00\" is not a SIP user part", 1 },
	{ "department number twice", { [P_SIP] =
		"sip: { listen = [ \"sip:127.0.0.1:5060\" ]; start_menu = \"main\";\n"
		"  numbers = [ \"1000\", \"1000\" ]; " HERE "\n};\n" },
	  "sip.numbers[1]: \"1000\" is listed twice", 1 },
	{ "redis address without port", { [P_TAIL] =
		"redis: {\n  address = \"localhost\"; " HERE "\n};\n" },
	  "redis.address: \"localhost\" is neither", 1 },
	{ "empty string", { [P_TAIL] = "redis: {\n  prefix = \"\"; " HERE "\n};\n" },
	  "redis.prefix must not be empty", 1 },

	/* RTP ports */
	{ "port range for one leg", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000;\n"
		"  port_max = 20002; " HERE "\n};\n" },
	  "media: ports 20000-20002 hold fewer than 2 call legs", 1 },
	{ "port range upside down", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000;\n"
		"  port_max = 10000; " HERE "\n};\n" },
	  "media.port_max (10000) must be above media.port_min (20000)", 1 },
	{ "odd port_min", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_max = 20099;\n"
		"  port_min = 20001; " HERE "\n};\n" },
	  "media.port_min must be an even number from 1024 to 65534, not 20001", 1 },
	{ "privileged port_min", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_max = 20099;\n  port_min = 1000; " HERE "\n"
		"};\n" },
	  "media.port_min must be an even number from 1024 to 65534, not 1000", 1 },
	{ "port_max above 65535", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000;\n"
		"  port_max = 70000; " HERE "\n};\n" },
	  "media.port_max must be from 1024 to 65535, not 70000", 1 },

	/* codecs, ptime, telephone-event */
	{ "unknown codec", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  codecs = [ \"PCMU\", \"G729\" ]; " HERE "\n};\n" },
	  "media.codecs[1]: unknown codec \"G729\" (PCMU or PCMA)", 1 },
	{ "codec twice", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  codecs = [ \"PCMA\", \"pcma\" ]; " HERE "\n};\n" },
	  "media.codecs[1]: \"pcma\" is listed twice", 1 },
	{ "no codecs", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  codecs = [ ]; " HERE "\n};\n" },
	  "media.codecs must be a list of codecs", 1 },
	{ "ptime not a multiple of 10", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  ptime_ms = 25; " HERE "\n};\n" },
	  "media.ptime_ms must be a multiple of 10 from 10 to 60, not 25", 1 },
	{ "ptime above 60", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  ptime_ms = 70; " HERE "\n};\n" },
	  "media.ptime_ms must be a multiple of 10 from 10 to 60, not 70", 1 },
	{ "ptime 0", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  ptime_ms = 0; " HERE "\n};\n" },
	  "media.ptime_ms must be a multiple of 10 from 10 to 60, not 0", 1 },
	{ "telephone-event PT below 96", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  telephone_event_pt = 95; " HERE "\n};\n" },
	  "media.telephone_event_pt must be from 96 to 127, not 95", 1 },
	{ "telephone-event PT above 127", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;\n"
		"  telephone_event_pt = 128; " HERE "\n};\n" },
	  "media.telephone_event_pt must be from 96 to 127, not 128", 1 },
	{ "max_failures 0", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; } );\n"
		"  max_failures = 0; " HERE "\n}; };\n" },
	  "menus.main.max_failures must be from 1 to 100, not 0", 1 },

	/* prompt files: every language, every reference */
	{ "greeting missing in both languages", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; } );\n"
		"  greeting = \"nope\"; " HERE "\n}; };\n" },
	  "menus.main.greeting: prompt file \"", 2 },
	{ "greeting missing in one language", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; } );\n"
		"  greeting = \"only-he\"; " HERE "\n}; };\n" },
	  "/prompts/en/only-he.wav\" does not exist", 1 },
	{ "invalid_prompt missing", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; } );\n"
		"  invalid_prompt = \"only-he\"; " HERE "\n}; };\n" },
	  "menus.main.invalid_prompt: prompt file \"", 1 },
	{ "timeout_prompt missing", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; } );\n"
		"  timeout_prompt = \"only-he\"; " HERE "\n}; };\n" },
	  "menus.main.timeout_prompt: prompt file \"", 1 },
	{ "play: in an option", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"1\"; action = [ \"play:only-he\", \"trunk:pay\" ]; } " HERE "\n"
		"); }; };\n" },
	  "play:only-he: prompt file \"", 1 },
	{ "play: in on_max_failures", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; } );\n"
		"  on_max_failures = [ \"play:only-he\", \"hangup\" ]; " HERE "\n}; };\n" },
	  "/prompts/en/only-he.wav\" does not exist", 1 },
	{ "play: in a trunk's on_failure", { [P_TRUNKS] =
		"trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\";\n"
		"  on_failure = [ \"play:only-he\", \"hangup\" ]; " HERE "\n}; };\n" },
	  "/prompts/en/only-he.wav\" does not exist", 1 },
	{ "ringback missing", { [P_PROMPTS] =
		"prompts: { directory = \"prompts\"; languages = [ \"he\", \"en\" ];\n"
		"  ringback = \"only-he\"; " HERE "\n};\n" },
	  "prompts.ringback: prompt file \"", 1 },
	{ "prompt folder missing", { [P_PROMPTS] =
		"prompts: { languages = [ \"he\" ];\n  directory = \"nowhere\"; " HERE "\n};\n" },
	  "/nowhere\" is not a folder", 1 },
	{ "language folder missing", { [P_PROMPTS] =
		"prompts: { directory = \"prompts\";\n  languages = [ \"he\", \"fr\" ]; " HERE "\n"
		"};\n" },
	  "/prompts/fr\" does not exist", 1 },
	{ "language twice", { [P_PROMPTS] =
		"prompts: { directory = \"prompts\";\n  languages = [ \"he\", \"he\" ]; " HERE "\n"
		"};\n" },
	  "prompts.languages[1]: \"he\" is listed twice", 1 },
	{ "prompt name leaving the folder", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; } );\n"
		"  greeting = \"../he/main-greeting\"; " HERE "\n}; };\n" },
	  "menus.main.greeting: \"../he/main-greeting\" may hold only", 1 },

	/* actions and what they name */
	{ "not an action", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"1\"; action = \"goto:main\"; } " HERE "\n); }; };\n" },
	  "menus.main.options[0].action: \"goto:main\" is not an action", 1 },
	{ "play: leaving the folder", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; } );\n"
		"  on_max_timeouts = [ \"play:../x\", \"hangup\" ]; " HERE "\n}; };\n" },
	  "menus.main.on_max_timeouts[0]: \"play:../x\" is not an action", 1 },
	{ "action after the list has ended", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"1\"; action = [ \"trunk:pay\", \"hangup\" ]; } " HERE "\n"
		"); }; };\n" },
	  "\"hangup\" is never run: \"trunk:pay\" before it leaves the list", 1 },
	{ "option to a menu that does not exist", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; },\n"
		"  { digits = \"2\"; action = \"menu:billing\"; } " HERE "\n); }; };\n" },
	  "menu \"billing\" does not exist", 1 },
	{ "option to a trunk that does not exist", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"1\"; action = \"trunk:bank\"; } " HERE "\n); }; };\n" },
	  "trunk \"bank\" does not exist", 1 },
	{ "on_failure to a menu that does not exist", { [P_TRUNKS] =
		"trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\";\n"
		"  on_failure = \"menu:sorry\"; " HERE "\n}; };\n" },
	  "menu \"sorry\" does not exist", 1 },
	{ "on_max_timeouts to a trunk that does not exist", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; } );\n"
		"  on_max_timeouts = [ \"play:goodbye\", \"trunk:agents\" ]; " HERE "\n}; };\n" },
	  "trunk \"agents\" does not exist", 1 },
	{ "lang: not in languages", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; },\n"
		"  { digits = \"9\"; action = [ \"lang:fr\", \"menu:main\" ]; } " HERE "\n"
		"); }; };\n" },
	  "language \"fr\" is not in prompts.languages", 1 },
	{ "queue without a queues section", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"4\"; action = \"queue:collection\"; } " HERE "\n); }; };\n" },
	  "queue \"collection\" does not exist (the file has no queues)", 1 },
	{ "queue that does not exist", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] = CLERK_Q,
	  [P_MENUS] = "menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; },\n"
		"  { digits = \"4\"; action = \"queue:collection\"; } " HERE "\n); }; };\n" },
	  "queue \"collection\" does not exist", 1 },
	{ "headers on a queue option", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] = CLERK_Q,
	  [P_MENUS] = "menus: { main: { options = (\n"
		"  { digits = \"4\"; action = \"queue:q\"; headers = { X-Service = \"x\"; }; } "
		HERE "\n); }; };\n" },
	  "menus.main.options[0].headers: headers are only allowed when the action includes a "
	  "trunk", 1 },
	{ "start_menu that does not exist", { [P_SIP] =
		"sip: { listen = [ \"sip:127.0.0.1:5060\" ]; numbers = [ \"1000\" ];\n"
		"  start_menu = \"welcome\"; " HERE "\n};\n" },
	  "sip.start_menu: menu \"welcome\" does not exist", 1 },

	/* menus and options */
	{ "menus without a way out", { [P_MENUS] =
		"menus: {\n"
		"  main: { " HERE "\n"
		"    on_max_failures = \"menu:sub\"; on_max_timeouts = \"menu:sub\";\n"
		"    options = ( { digits = \"1\"; action = \"menu:sub\"; } ); };\n"
		"  sub: {\n"
		"    on_max_failures = \"menu:main\"; on_max_timeouts = [ \"play:goodbye\" ];\n"
		"    options = (\n"
		"      { digits = \"0\"; action = [ \"play:goodbye\", \"menu:main\" ]; } ); };\n"
		"};\n" },
	  "menu \"main\" has no way out: no trunk, queue or hangup can be reached from it", 2 },
	{ "digits used twice", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"1\"; action = \"trunk:pay\"; },\n"
		"  { digits = \"12\"; action = \"trunk:pay\"; },\n"
		"  { digits = \"1\"; action = \"hangup\"; } " HERE "\n); }; };\n" },
	  "menus.main.options: digits \"1\" are already used at line 6", 1 },
	{ "digits with a letter", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"1x\"; action = \"trunk:pay\"; } " HERE "\n); }; };\n" },
	  "menus.main.options[0].digits: \"1x\" may hold only 0-9 * # A-D", 1 },
	{ "digits in lower case", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"a\"; action = \"trunk:pay\"; } " HERE "\n); }; };\n" },
	  "\"a\" may hold only 0-9 * # A-D", 1 },
	{ "empty digits", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"\"; action = \"trunk:pay\"; } " HERE "\n); }; };\n" },
	  "menus.main.options[0].digits must not be empty", 1 },

	/* headers */
	{ "headers without a trunk", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\"; },\n"
		"  { digits = \"2\"; action = \"hangup\"; headers = { X-Service = \"x\"; }; } "
		HERE "\n); }; };\n" },
	  "menus.main.options[1].headers: headers are only allowed when the action includes a "
	  "trunk", 1 },
	{ "header deskline sets itself", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\";\n"
		"  headers = { Call-ID = \"x\"; }; } " HERE "\n); }; };\n" },
	  "menus.main.options[0].headers.Call-ID: Call-ID is set by deskline", 1 },
	{ "header value with CR LF", { [P_MENUS] =
		"menus: { main: { options = ( { digits = \"1\"; action = \"trunk:pay\";\n"
		"  headers = { X-Service = \"a\\r\\nVia: evil\"; }; } " HERE "\n); }; };\n" },
	  "menus.main.options[0].headers.X-Service holds a control character", 1 },

	/* clerks (the queue q of QUEUE_Q is on line 6, the first clerk on line 7) */
	{ "unknown key in a clerk", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";\n"
		"  password = \"pw\"; queues = [ \"q\" ]; phone = \"x\"; } " HERE "\n);\n" },
	  "unknown key \"phone\" in clerks[0]", 1 },
	{ "clerks as a group", { [P_QUEUES] = "", [P_CLERKS] =
		"clerks: { dana: { id = \"dana\"; }; }; " HERE "\n" },
	  "clerks must be a list of groups", 1 },
	{ "clerk id in upper case", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { extension = \"201\"; email = \"d@x.org\"; password = \"pw\";\n"
		"  queues = [ \"q\" ]; id = \"Dana\"; } " HERE "\n);\n" },
	  "clerks[0].id: \"Dana\" may hold only a-z 0-9 _ . -", 1 },
	{ "clerk id with a colon", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { extension = \"201\"; email = \"d@x.org\"; password = \"pw\";\n"
		"  queues = [ \"q\" ]; id = \"da:na\"; } " HERE "\n);\n" },
	  "clerks[0].id: \"da:na\" may hold only a-z 0-9 _ . -", 1 },
	{ "clerk id twice", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] = CLERK_HEAD
		"  { id = \"dana\"; extension = \"202\"; email = \"e@x.org\"; password = \"pw\"; } "
		HERE "\n);\n" },
	  "clerks[1].id: \"dana\" is already the id of the clerk at line 7", 1 },
	{ "clerk without id", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] = CLERK_HEAD
		"  { extension = \"202\"; email = \"e@x.org\"; password = \"pw\"; } " HERE
		"\n);\n" },
	  "missing required key \"id\" in clerks[1]", 1 },
	{ "extension with a letter", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; email = \"d@x.org\"; password = \"pw\";\n"
		"  queues = [ \"q\" ]; extension = \"20a\"; } " HERE "\n);\n" },
	  "clerks[0].extension: \"20a\" may hold only digits 0-9", 1 },
	{ "extension twice", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] = CLERK_HEAD
		"  { id = \"yossi\"; extension = \"201\"; email = \"y@x.org\";"
		" password = \"pw\"; } "
		HERE "\n);\n" },
	  "clerks[1].extension: \"201\" is already the extension of the clerk at line 7", 1 },
	{ "extension that is a department number", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; email = \"d@x.org\"; password = \"pw\";\n"
		"  queues = [ \"q\" ]; extension = \"1000\"; } " HERE "\n);\n" },
	  "clerks[0].extension: \"1000\" is also a department number (sip.numbers)", 1 },
	{ "extension that is a feature code", { [P_QUEUES] = QUEUE_Q,
	  [P_FEATURES] = "features: { break_end = \"24\"; };\n", [P_CLERKS] =
		"clerks = ( { id = \"dana\"; email = \"d@x.org\"; password = \"pw\";\n"
		"  queues = [ \"q\" ]; extension = \"24\"; } " HERE "\n);\n" },
	  "clerks[0].extension: \"24\" is also the feature code features.break_end", 1 },
	{ "extension that starts a feature code", { [P_QUEUES] = QUEUE_Q,
	  [P_FEATURES] = "features: { login = \"2011\"; };\n", [P_CLERKS] =
		"clerks = ( { id = \"dana\"; email = \"d@x.org\"; password = \"pw\";\n"
		"  queues = [ \"q\" ]; extension = \"201\"; } " HERE "\n);\n" },
	  "clerks[0].extension: \"201\" and the feature code features.login (\"2011\") must "
	  "not start one another", 1 },
	{ "feature code that starts an extension", { [P_QUEUES] = QUEUE_Q,
	  [P_FEATURES] = "features: { logout = \"20\"; };\n", [P_CLERKS] =
		"clerks = ( { id = \"dana\"; email = \"d@x.org\"; password = \"pw\";\n"
		"  queues = [ \"q\" ]; extension = \"201\"; } " HERE "\n);\n" },
	  "clerks[0].extension: \"201\" and the feature code features.logout (\"20\")", 1 },
	{ "neither password nor ha1", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = (\n  { id = \"dana\"; extension = \"201\"; email = \"d@x.org\"; "
		"queues = [ \"q\" ]; } " HERE "\n);\n" },
	  "missing required key \"password\" or \"ha1\" in clerks[0]", 1 },
	{ "both password and ha1", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";\n"
		"  ha1 = \"" HA1_DANA "\"; queues = [ \"q\" ];\n"
		"  password = \"change-me-201\"; } " HERE "\n);\n" },
	  "clerks[0]: password and ha1 are both given: keep one", 1 },
	{ "ha1 too short", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";\n"
		"  queues = [ \"q\" ]; ha1 = \"d8868119bddf7d2079207b110636774\"; } " HERE
		"\n);\n" },
	  "clerks[0].ha1 must be 32 hex digits: MD5(\"id:realm:password\")", 1 },
	{ "ha1 with a letter past f", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";\n"
		"  queues = [ \"q\" ]; ha1 = \"g8868119bddf7d2079207b110636774e\"; } " HERE
		"\n);\n" },
	  "clerks[0].ha1 must be 32 hex digits", 1 },
	{ "empty password", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";\n"
		"  queues = [ \"q\" ]; password = \"\"; } " HERE "\n);\n" },
	  "clerks[0].password must not be empty", 1 },
	{ "password with a line break", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";\n"
		"  queues = [ \"q\" ]; password = \"a\\nb\"; } " HERE "\n);\n" },
	  "clerks[0].password holds a control character", 1 },
	{ "email without @", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; password = \"pw\";\n"
		"  queues = [ \"q\" ]; email = \"dana.example.org\"; } " HERE "\n);\n" },
	  "clerks[0].email: \"dana.example.org\" is not an e-mail address", 1 },
	{ "email with a space", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; password = \"pw\";\n"
		"  queues = [ \"q\" ]; email = \"dana levi@example.org\"; } " HERE "\n);\n" },
	  "clerks[0].email: \"dana levi@example.org\" is not an e-mail address", 1 },
	{ "email without a domain", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; password = \"pw\";\n"
		"  queues = [ \"q\" ]; email = \"dana@\"; } " HERE "\n);\n" },
	  "clerks[0].email: \"dana@\" is not an e-mail address", 1 },
	{ "clerk without email", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = (\n  { id = \"dana\"; extension = \"201\"; password = \"pw\"; "
		"queues = [ \"q\" ]; } " HERE "\n);\n" },
	  "missing required key \"email\" in clerks[0]", 1 },
	{ "display name with a quote", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";\n"
		"  password = \"pw\"; queues = [ \"q\" ]; name = \"Dana \\\"D\\\" Levi\"; } "
		HERE "\n);\n" },
	  "clerks[0].name: \"Dana \"D\" Levi\" must not hold", 1 },
	{ "clerk in a queue that does not exist", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";\n"
		"  password = \"pw\"; queues = [ \"q\",\n"
		"    \"billing\" ]; } " HERE "\n);\n" },
	  "clerks[0].queues: queue \"billing\" does not exist", 1 },
	{ "clerk in a queue twice", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";\n"
		"  password = \"pw\"; queues = [ \"q\", \"q\" ]; } " HERE "\n);\n" },
	  "clerks[0].queues[1]: \"q\" is listed twice", 1 },

	/* queues */
	{ "unknown key in a queue", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  ring_ms = 5000; " HERE "\n}; };\n" },
	  "unknown key \"ring_ms\" in queues.q", 1 },
	{ "queues as a list", { [P_QUEUES] = "queues = ( { on_overflow = \"hangup\"; } ); " HERE
		"\n" },
	  "queues must be a group of named groups", 1 },
	{ "unknown strategy", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  strategy = \"random\"; " HERE "\n"
		"}; };\n" },
	  "queues.q.strategy: \"random\" is not a strategy (fewest-tasks, longest-idle or "
	  "ring-all)", 1 },
	{ "strategy as an integer", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  strategy = 1; " HERE "\n}; };\n" },
	  "queues.q.strategy must be a string", 1 },
	{ "ring_timeout_ms below 1000", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  ring_timeout_ms = 999; " HERE "\n"
		"}; };\n" },
	  "queues.q.ring_timeout_ms must be from 1000 to 300000, not 999", 1 },
	{ "ring_timeout_ms above 300000", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  ring_timeout_ms = 300001; " HERE "\n"
		"}; };\n" },
	  "queues.q.ring_timeout_ms must be from 1000 to 300000, not 300001", 1 },
	{ "max_wait_ms above an hour", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  max_wait_ms = 3600001; " HERE "\n"
		"}; };\n" },
	  "queues.q.max_wait_ms must be from 0 to 3600000, not 3600001", 1 },
	{ "max_attempts 0", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  max_attempts = 0; " HERE "\n}; };\n" },
	  "queues.q.max_attempts must be from 1 to 100, not 0", 1 },
	{ "max_attempts 101", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  max_attempts = 101; " HERE "\n"
		"}; };\n" },
	  "queues.q.max_attempts must be from 1 to 100, not 101", 1 },
	{ "wrap_up_ms above an hour", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  wrap_up_ms = 3600001; " HERE "\n"
		"}; };\n" },
	  "queues.q.wrap_up_ms must be from 0 to 3600000, not 3600001", 1 },
	{ "max_no_answer 0", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  max_no_answer = 0; " HERE "\n"
		"}; };\n" },
	  "queues.q.max_no_answer must be from 1 to 100, not 0", 1 },
	{ "max_no_answer 101", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  max_no_answer = 101; " HERE "\n"
		"}; };\n" },
	  "queues.q.max_no_answer must be from 1 to 100, not 101", 1 },
	{ "wait_for_clerk without a time limit", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\"; max_wait_ms = 0;\n"
		"  wait_for_clerk = true; " HERE "\n}; };\n" },
	  "queues.q.wait_for_clerk needs max_wait_ms above 0", 1 },
	{ "wait_for_clerk as a string", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  wait_for_clerk = \"yes\"; " HERE "\n"
		"}; };\n" },
	  "queues.q.wait_for_clerk must be true or false", 1 },
	{ "music missing in one language", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  music = \"only-he\"; " HERE "\n"
		"}; };\n" },
	  "queues.q.music: prompt file \"", 1 },
	{ "music leaving the folder", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\";\n  music = \"../x\"; " HERE "\n}; };\n" },
	  "queues.q.music: \"../x\" may hold only", 1 },
	{ "queue without on_overflow", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: {\n  q: { music = \"\"; }; " HERE "\n};\n" },
	  "missing required key \"on_overflow\" in queues.q", 1 },
	{ "empty on_overflow", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: {\n  on_overflow = [ ]; " HERE "\n}; };\n" },
	  "queues.q.on_overflow must name at least one action", 1 },
	{ "on_overflow that only plays", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: {\n  on_overflow = [ \"play:goodbye\" ]; " HERE "\n}; };\n" },
	  "queue \"q\": on_overflow has no way out: no trunk, hangup or menu with a way out can "
	  "be reached from it", 1 },
	{ "on_overflow back into the same queue", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: {\n  on_overflow = [ \"play:goodbye\", \"queue:q\" ]; " HERE "\n"
		"}; };\n" },
	  "queue \"q\": on_overflow sends the caller back into the queue it overflowed from", 1 },
	{ "two queues overflowing into each other", { [P_QUEUES] =
		"queues: {\n"
		"  q: { on_overflow = \"queue:r\"; }; " HERE "\n"
		"  r: { on_overflow = [ \"play:goodbye\", \"queue:q\" ]; };\n};\n",
	  [P_CLERKS] = "clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";"
		" password = \"pw\"; queues = [ \"q\", \"r\" ]; } );\n" },
	  "queue \"q\": on_overflow has no way out", 2 },
	{ "on_overflow to a menu without a way out", {
	  [P_MENUS] = "menus: { main: {"
		" options = ( { digits = \"1\"; action = \"trunk:pay\"; } ); };\n"
		"  stuck: { on_max_failures = \"menu:stuck\"; on_max_timeouts = \"menu:stuck\"; };"
		" };\n",
	  [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: {\n  on_overflow = \"menu:stuck\"; " HERE "\n}; };\n" },
	  "queue \"q\": on_overflow has no way out", 2 },
	{ "on_overflow to a trunk that does not exist", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: {\n  on_overflow = [ \"play:goodbye\", \"trunk:bank\" ]; " HERE "\n"
		"}; };\n" },
	  "trunk \"bank\" does not exist", 1 },
	{ "on_overflow to a queue that does not exist", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: {\n  on_overflow = \"queue:billing\"; " HERE "\n}; };\n" },
	  "queue \"billing\" does not exist", 1 },
	{ "on_overflow playing a missing prompt", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: {\n  on_overflow = [ \"play:only-he\", \"hangup\" ]; " HERE "\n"
		"}; };\n" },
	  "play:only-he: prompt file \"", 1 },
	{ "queue without clerks", { [P_QUEUES] =
		"queues: {\n  q: { on_overflow = \"hangup\"; }; " HERE "\n};\n" },
	  "queue \"q\" has no clerks: no clerk lists it in queues", 1 },
	{ "second queue without clerks", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { on_overflow = \"hangup\"; };\n"
		"  r: { on_overflow = \"hangup\"; }; " HERE "\n};\n" },
	  "queue \"r\" has no clerks", 1 },

	/* feature codes */
	{ "unknown key in features", { [P_FEATURES] = "features: {\n  pause = \"*25\"; " HERE "\n"
		"};\n" },
	  "unknown key \"pause\" in features", 1 },
	{ "feature code with a letter", { [P_FEATURES] =
		"features: {\n  login = \"*2a\"; " HERE "\n};\n" },
	  "features.login: \"*2a\" may hold only 0-9 * #", 1 },
	{ "feature code with A-D", { [P_FEATURES] =
		"features: {\n  logout = \"*2A\"; " HERE "\n};\n" },
	  "features.logout: \"*2A\" may hold only 0-9 * #", 1 },
	{ "empty feature code", { [P_FEATURES] =
		"features: {\n  break_start = \"\"; " HERE "\n};\n" },
	  "features.break_start must not be empty", 1 },
	{ "feature code twice", { [P_FEATURES] =
		"features: { login = \"*30\";\n  break_end = \"*30\"; " HERE "\n};\n" },
	  "features.break_end: \"*30\" is already features.login", 1 },
	{ "feature code equal to a default one", { [P_FEATURES] =
		"features: {\n  login = \"*24\"; " HERE "\n};\n" },
	  "features.break_end: \"*24\" is already features.login", 1 },
	{ "feature code that is a department number", { [P_FEATURES] =
		"features: {\n  logout = \"1000\"; " HERE "\n};\n" },
	  "features.logout: \"1000\" is also a department number (sip.numbers)", 1 },
	{ "department number that is a default feature code", { [P_SIP] =
		"sip: { listen = [ \"sip:127.0.0.1:5060\" ]; start_menu = \"main\";\n"
		"  numbers = [ \"1000\",\n  \"*23\" ]; " HERE "\n};\n" },
	  "sip.numbers: \"*23\" is also the feature code features.break_start (its default): "
	  "choose another number or set features.break_start", 1 },
	{ "ok_prompt missing in one language", { [P_FEATURES] =
		"features: {\n  ok_prompt = \"only-he\"; " HERE "\n};\n" },
	  "features.ok_prompt: prompt file \"", 1 },
	{ "error_prompt missing in both languages", { [P_FEATURES] =
		"features: {\n  error_prompt = \"nope\"; " HERE "\n};\n" },
	  "features.error_prompt: prompt file \"", 2 },

	/* registrar */
	{ "unknown key in registrar", { [P_REGISTRAR] =
		"registrar: {\n  expires_s = 60; " HERE "\n};\n" },
	  "unknown key \"expires_s\" in registrar", 1 },
	{ "realm with a quote", { [P_REGISTRAR] =
		"registrar: {\n  realm = \"desk\\\"line\"; " HERE "\n};\n" },
	  "registrar.realm: \"desk\"line\" must not hold '\"', '\\' or control characters", 1 },
	{ "empty realm", { [P_REGISTRAR] = "registrar: {\n  realm = \"\"; " HERE "\n};\n" },
	  "registrar.realm must not be empty", 1 },
	{ "min_expires_s 0", { [P_REGISTRAR] =
		"registrar: {\n  min_expires_s = 0; " HERE "\n};\n" },
	  "registrar.min_expires_s must be from 1 to 86400, not 0", 1 },
	{ "max_expires_s below min_expires_s", { [P_REGISTRAR] =
		"registrar: { min_expires_s = 60;\n  max_expires_s = 30; " HERE "\n};\n" },
	  "registrar.max_expires_s (30) must not be below registrar.min_expires_s (60)", 1 },
	{ "default_expires_s above max_expires_s", { [P_REGISTRAR] =
		"registrar: { max_expires_s = 3600;\n  default_expires_s = 7200; " HERE "\n};\n" },
	  "registrar.default_expires_s (7200) must be from min_expires_s (60) to max_expires_s "
	  "(3600)", 1 },
	{ "default_expires_s below a given min_expires_s", { [P_REGISTRAR] =
		"registrar: { " HERE "\n  min_expires_s = 900; };\n" },
	  "registrar.default_expires_s (600) must be from min_expires_s (900)", 1 },
	{ "nonce_ttl_s below 10", { [P_REGISTRAR] =
		"registrar: {\n  nonce_ttl_s = 9; " HERE "\n};\n" },
	  "registrar.nonce_ttl_s must be from 10 to 86400, not 9", 1 },
	{ "nonce_ttl_s above a day", { [P_REGISTRAR] =
		"registrar: {\n  nonce_ttl_s = 86401; " HERE "\n};\n" },
	  "registrar.nonce_ttl_s must be from 10 to 86400, not 86401", 1 },

	/* redis */
	{ "node with a colon", { [P_TAIL] = "redis: {\n  node = \"a:b\"; " HERE "\n};\n" },
	  "redis.node: \"a:b\" may hold only letters, digits and - _ .", 1 },
	{ "empty node", { [P_TAIL] = "redis: {\n  node = \"\"; " HERE "\n};\n" },
	  "redis.node must not be empty", 1 },

	/* log */
	{ "unknown log level", { [P_TAIL] = "log: {\n  level = \"verbose\"; " HERE "\n};\n" },
	  "log.level: \"verbose\" is not one of error, warning, notice, info, debug", 1 },
	{ "log.syslog as a string", { [P_TAIL] = "log: {\n  syslog = \"yes\"; " HERE "\n};\n" },
	  "log.syslog must be true or false", 1 },

	/* calendar (Procedure 46 §6) */
	{ "unknown key in calendar", { [P_TAIL] = "calendar: {\n  zone = \"UTC\"; " HERE "\n};\n" },
	  "unknown key \"zone\" in calendar", 1 },
	{ "unknown day in hours", { [P_TAIL] =
		"calendar: { hours = {\n  sundy = \"08:00-16:00\"; " HERE "\n}; };\n" },
	  "unknown key \"sundy\" in calendar.hours", 1 },
	{ "time zone not in the database", { [P_TAIL] =
		"calendar: {\n  timezone = \"Mars/Olympus_Mons\"; " HERE "\n};\n" },
	  "calendar.timezone: \"Mars/Olympus_Mons\" is not a zone of the system's time-zone "
	  "database (/usr/share/zoneinfo, package tzdata)", 1 },
	{ "time zone leaving the database", { [P_TAIL] =
		"calendar: {\n  timezone = \"../zoneinfo/UTC\"; " HERE "\n};\n" },
	  "calendar.timezone: \"../zoneinfo/UTC\" is not a zone", 1 },
	{ "time zone as a path", { [P_TAIL] =
		"calendar: {\n  timezone = \"/usr/share/zoneinfo/UTC\"; " HERE "\n};\n" },
	  "calendar.timezone: \"/usr/share/zoneinfo/UTC\" is not a zone", 1 },
	{ "time zone that is a folder", { [P_TAIL] =
		"calendar: {\n  timezone = \"Asia\"; " HERE "\n};\n" },
	  "calendar.timezone: \"Asia\" is not a zone", 1 },
	{ "time zone that is not a zone file", { [P_TAIL] =
		"calendar: {\n  timezone = \"zone.tab\"; " HERE "\n};\n" },
	  "calendar.timezone: \"zone.tab\" is not a zone", 1 },
	{ "empty time zone", { [P_TAIL] = "calendar: {\n  timezone = \"\"; " HERE "\n};\n" },
	  "calendar.timezone must not be empty", 1 },
	{ "hours without minutes", { [P_TAIL] =
		"calendar: { hours = {\n  sunday = \"8-16\"; " HERE "\n}; };\n" },
	  "calendar.hours.sunday: \"8-16\" is not \"HH:MM-HH:MM\" (00:00-24:00), or \"\" for a "
	  "day without working hours", 1 },
	{ "hours past 24:00", { [P_TAIL] =
		"calendar: { hours = {\n  monday = \"08:00-24:01\"; " HERE "\n}; };\n" },
	  "calendar.hours.monday: \"08:00-24:01\" is not \"HH:MM-HH:MM\"", 1 },
	{ "hours with minute 60", { [P_TAIL] =
		"calendar: { hours = {\n  tuesday = \"08:60-16:00\"; " HERE "\n}; };\n" },
	  "calendar.hours.tuesday: \"08:60-16:00\" is not \"HH:MM-HH:MM\"", 1 },
	{ "hours with spaces", { [P_TAIL] =
		"calendar: { hours = {\n  wednesday = \"08:00 - 16:00\"; " HERE "\n}; };\n" },
	  "calendar.hours.wednesday: \"08:00 - 16:00\" is not \"HH:MM-HH:MM\"", 1 },
	{ "hours upside down", { [P_TAIL] =
		"calendar: { hours = {\n  thursday = \"16:00-08:00\"; " HERE "\n}; };\n" },
	  "calendar.hours.thursday: \"16:00-08:00\" opens at or after it closes", 1 },
	{ "hours opening and closing at once", { [P_TAIL] =
		"calendar: { hours = {\n  friday = \"08:00-08:00\"; " HERE "\n}; };\n" },
	  "calendar.hours.friday: \"08:00-08:00\" opens at or after it closes", 1 },
	{ "hours as a number", { [P_TAIL] =
		"calendar: { hours = {\n  saturday = 8; " HERE "\n}; };\n" },
	  "calendar.hours.saturday must be a string", 1 },
	{ "hours as a string", { [P_TAIL] =
		"calendar: {\n  hours = \"08:00-16:00\"; " HERE "\n};\n" },
	  "calendar.hours must be a group", 1 },
	{ "no working hours at all", { [P_TAIL] =
		"calendar: {\n  hours = { " HERE "\n"
		"    sunday = \"\"; monday = \"\"; tuesday = \"\"; wednesday = \"\";"
		" thursday = \"\"; };\n};\n" },
	  "calendar.hours: no day has working hours, so no inquiry could ever be due", 1 },
	{ "holidays as a string", { [P_TAIL] =
		"calendar: {\n  holidays = \"2026-09-21\"; " HERE "\n};\n" },
	  "calendar.holidays must be a list of dates", 1 },
	{ "holiday as a number", { [P_TAIL] =
		"calendar: {\n  holidays = [ 20260921 ]; " HERE "\n};\n" },
	  "calendar.holidays[0] must be a string", 1 },
	{ "holiday day first", { [P_TAIL] =
		"calendar: { holidays = [ \"2026-09-12\",\n  \"21/09/2026\" ]; " HERE "\n};\n" },
	  "calendar.holidays[1]: \"21/09/2026\" is not \"YYYY-MM-DD\" (closed all day) or "
	  "\"YYYY-MM-DD HH:MM\" (a short day, closing at HH:MM)", 1 },
	{ "holiday without leading zeros", { [P_TAIL] =
		"calendar: {\n  holidays = [ \"2026-9-21\" ]; " HERE "\n};\n" },
	  "calendar.holidays[0]: \"2026-9-21\" is not \"YYYY-MM-DD\"", 1 },
	{ "holiday with a T", { [P_TAIL] =
		"calendar: {\n  holidays = [ \"2026-09-20T13:00\" ]; " HERE "\n};\n" },
	  "calendar.holidays[0]: \"2026-09-20T13:00\" is not \"YYYY-MM-DD\"", 1 },
	{ "holiday with two spaces", { [P_TAIL] =
		"calendar: {\n  holidays = [ \"2026-09-20  13:00\" ]; " HERE "\n};\n" },
	  "calendar.holidays[0]: \"2026-09-20  13:00\" is not \"YYYY-MM-DD\"", 1 },
	{ "short day closing at 25:00", { [P_TAIL] =
		"calendar: {\n  holidays = [ \"2026-09-20 25:00\" ]; " HERE "\n};\n" },
	  "calendar.holidays[0]: \"2026-09-20 25:00\" is not \"YYYY-MM-DD\"", 1 },
	{ "29 February of a common year", { [P_TAIL] =
		"calendar: {\n  holidays = [ \"2026-02-29\" ]; " HERE "\n};\n" },
	  "calendar.holidays[0]: \"2026-02-29\": there is no such date", 1 },
	{ "month 13", { [P_TAIL] =
		"calendar: {\n  holidays = [ \"2026-13-01\" ]; " HERE "\n};\n" },
	  "calendar.holidays[0]: \"2026-13-01\": there is no such date", 1 },
	{ "31 April", { [P_TAIL] =
		"calendar: {\n  holidays = [ \"2027-04-31\" ]; " HERE "\n};\n" },
	  "calendar.holidays[0]: \"2027-04-31\": there is no such date", 1 },
	{ "holiday twice", { [P_TAIL] =
		"calendar: { holidays = [ \"2026-09-21\",\n  \"2026-09-21\" ]; " HERE "\n};\n" },
	  "calendar.holidays[1]: 2026-09-21 is already listed at line 6", 1 },
	{ "holiday twice, once as a short day", { [P_TAIL] =
		"calendar: { holidays = [ \"2026-09-20 13:00\", \"2026-09-21\",\n"
		"  \"2026-09-20\" ]; " HERE "\n};\n" },
	  "calendar.holidays[2]: 2026-09-20 is already listed at line 6", 1 },
	{ "short day on a Friday", { [P_TAIL] =
		"calendar: {\n  holidays = [ \"2026-09-25 13:00\" ]; " HERE "\n};\n" },
	  "calendar.holidays[0]: \"2026-09-25 13:00\" is a short day on a friday, which has no "
	  "working hours (calendar.hours.friday)", 1 },
	{ "short day closing after the regular close", { [P_TAIL] =
		"calendar: {\n  holidays = [ \"2026-09-20 17:00\" ]; " HERE "\n};\n" },
	  "calendar.holidays[0]: \"2026-09-20 17:00\": a short day closes during the day's "
	  "hours, after 08:00 and before 16:00", 1 },
	{ "short day closing at the regular close", { [P_TAIL] =
		"calendar: {\n  holidays = [ \"2026-09-20 16:00\" ]; " HERE "\n};\n" },
	  "a short day closes during the day's hours, after 08:00 and before 16:00", 1 },
	{ "short day closing at the opening", { [P_TAIL] =
		"calendar: { hours = { sunday = \"09:30-18:00\"; };\n"
		"  holidays = [ \"2026-09-20 09:30\" ]; " HERE "\n};\n" },
	  "a short day closes during the day's hours, after 09:30 and before 18:00", 1 },
	{ "short day on a day whose hours are wrong: one message", { [P_TAIL] =
		"calendar: { hours = {\n  sunday = \"8:00-13:00\"; " HERE "\n};\n"
		"  holidays = [ \"2026-09-20 12:00\" ]; };\n" },
	  "calendar.hours.sunday: \"8:00-13:00\" is not", 1 },
	{ "short day when hours are not a group: one message", { [P_TAIL] =
		"calendar: {\n  hours = [ \"08:00-16:00\" ]; " HERE "\n"
		"  holidays = [ \"2026-09-25 12:00\" ]; };\n" },
	  "calendar.hours must be a group", 1 },
	{ "holidays file that does not exist", { [P_TAIL] =
		"calendar: {\n  holidays_file = \"holidays.txt\"; " HERE "\n};\n" },
	  "/holidays.txt\": No such file or directory", 1 },
	{ "holidays file that is a folder", { [P_TAIL] =
		"calendar: {\n  holidays_file = \"prompts\"; " HERE "\n};\n" },
	  "/prompts\": Is a directory", 1 },
	{ "holidays file as a list", { [P_TAIL] =
		"calendar: {\n  holidays_file = [ \"a.txt\" ]; " HERE "\n};\n" },
	  "calendar.holidays_file must be a string", 1 },
	{ "closed: not an action", { [P_TAIL] =
		"calendar: {\n  closed = [ \"play:closed\", \"goto:moked\" ]; " HERE "\n};\n" },
	  "calendar.closed[1]: \"goto:moked\" is not an action", 1 },
	{ "closed as a number", { [P_TAIL] = "calendar: {\n  closed = 1; " HERE "\n};\n" },
	  "calendar.closed must be an action or a list of actions", 1 },
	{ "closed that only plays", { [P_TAIL] =
		"calendar: {\n  closed = [ \"play:closed\" ]; " HERE "\n};\n" },
	  "calendar.closed has no way out: it must end in a trunk, queue, hangup or a menu with a "
	  "way out", 1 },
	{ "closed to a menu without a way out", {
	  [P_MENUS] = "menus: { main: {"
		" options = ( { digits = \"1\"; action = \"trunk:pay\"; } ); };\n"
		"  stuck: { on_max_failures = \"menu:stuck\"; on_max_timeouts = \"menu:stuck\"; };"
		" };\n",
	  [P_TAIL] = "calendar: {\n  closed = [ \"play:closed\", \"menu:stuck\" ]; " HERE "\n"
		"};\n" },
	  "calendar.closed has no way out", 2 },
	{ "closed to a trunk that does not exist", { [P_TAIL] =
		"calendar: {\n  closed = [ \"play:closed\", \"trunk:moked\" ]; " HERE "\n};\n" },
	  "trunk \"moked\" does not exist", 1 },
	{ "closed to a menu that does not exist", { [P_TAIL] =
		"calendar: {\n  closed = \"menu:night\"; " HERE "\n};\n" },
	  "menu \"night\" does not exist", 1 },
	{ "closed playing a prompt missing in one language", { [P_TAIL] =
		"calendar: {\n  closed = [ \"play:only-he\", \"hangup\" ]; " HERE "\n};\n" },
	  "play:only-he: prompt file \"", 1 },
	{ "closed going on after its end", { [P_TAIL] =
		"calendar: {\n  closed = [ \"trunk:pay\", \"hangup\" ]; " HERE "\n};\n" },
	  "calendar.closed[1]: \"hangup\" is never run: \"trunk:pay\" before it leaves the list",
	  1 },

	/* tickets (Procedure 46 §4) */
	{ "unknown key in tickets", { [P_TAIL] = "tickets: {\n  email = \"a@b\"; " HERE "\n};\n" },
	  "unknown key \"email\" in tickets", 1 },
	{ "department email without @", { [P_TAIL] =
		"tickets: {\n  department_email = \"collection.council.example\"; " HERE "\n};\n" },
	  "tickets.department_email: \"collection.council.example\" is not an e-mail address", 1 },
	{ "empty department email", { [P_TAIL] =
		"tickets: {\n  department_email = \"\"; " HERE "\n};\n" },
	  "tickets.department_email must not be empty", 1 },
	{ "empty spool folder", { [P_TAIL] = "tickets: {\n  spool_dir = \"\"; " HERE "\n};\n" },
	  "tickets.spool_dir must not be empty", 1 },
	{ "ticket header with a space", { [P_TAIL] =
		"tickets: {\n  header_ticket = \"X Ticket\"; " HERE "\n};\n" },
	  "tickets.header_ticket: \"X Ticket\" is not a SIP header name (RFC 3261 §25.1 token)",
	  1 },
	{ "ticket header with a colon", { [P_TAIL] =
		"tickets: {\n  header_reason = \"X-Reason:\"; " HERE "\n};\n" },
	  "tickets.header_reason: \"X-Reason:\" is not a SIP header name", 1 },
	{ "ticket header deskline sets itself", { [P_TAIL] =
		"tickets: {\n  header_menu_path = \"call-id\"; " HERE "\n};\n" },
	  "tickets.header_menu_path: call-id is set by deskline and cannot be configured", 1 },
	{ "ticket headers the same", { [P_TAIL] =
		"tickets: {\n  header_menu_path = \"X-Deskline-Ticket\"; " HERE "\n};\n" },
	  "tickets.header_menu_path: \"X-Deskline-Ticket\" is already tickets.header_ticket", 1 },
	{ "ticket headers the same but for case", { [P_TAIL] =
		"tickets: { header_ticket = \"X-A\";\n  header_reason = \"x-a\"; " HERE "\n};\n" },
	  "tickets.header_reason: \"x-a\" is already tickets.header_ticket", 1 },
	{ "ticket header equal to a default one", { [P_TAIL] =
		"tickets: {\n  header_ticket = \"X-Deskline-Menu-Path\"; " HERE "\n};\n" },
	  "tickets.header_menu_path: \"X-Deskline-Menu-Path\" is already tickets.header_ticket",
	  1 },
	{ "trunk opening tickets, tickets without department_email", {
	  [P_TRUNKS] = "trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\"; opens_ticket = true; };"
		" };\n",
	  [P_TAIL] = "tickets: { " HERE "\n  spool_dir = \"spool\"; };\n" },
	  "missing required key \"department_email\" in tickets (trunk \"pay\" opens tickets, "
	  "which are mailed there)", 1 },
	{ "trunk opening tickets, no tickets section", { [P_TRUNKS] =
		"trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\";\n"
		"  opens_ticket = true; " HERE "\n}; };\n" },
	  "trunks.pay.opens_ticket: tickets are mailed to tickets.department_email, which is "
	  "missing", 1 },
	{ "trunk opening tickets, department_email wrong: one message", {
	  [P_TRUNKS] = "trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\"; opens_ticket = true; };"
		" };\n",
	  [P_TAIL] = "tickets: {\n  department_email = \"collection\"; " HERE "\n};\n" },
	  "tickets.department_email: \"collection\" is not an e-mail address", 1 },
	{ "opens_ticket as a string", { [P_TRUNKS] =
		"trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\";\n"
		"  opens_ticket = \"yes\"; " HERE "\n}; };\n" },
	  "trunks.pay.opens_ticket must be true or false", 1 },

	/* smtp */
	{ "unknown key in smtp", { [P_TAIL] = "smtp: {\n  host = \"localhost\"; " HERE "\n};\n" },
	  "unknown key \"host\" in smtp", 1 },
	{ "smtp URL with another scheme", { [P_TAIL] =
		"smtp: {\n  url = \"http://127.0.0.1:25\"; " HERE "\n};\n" },
	  "smtp.url: \"http://127.0.0.1:25\" is not smtp://HOST[:PORT] or smtps://HOST[:PORT]",
	  1 },
	{ "smtp URL without scheme", { [P_TAIL] =
		"smtp: {\n  url = \"127.0.0.1:25\"; " HERE "\n};\n" },
	  "smtp.url: \"127.0.0.1:25\" is not smtp://", 1 },
	{ "smtp URL without host", { [P_TAIL] = "smtp: {\n  url = \"smtp://:25\"; " HERE "\n};\n" },
	  "smtp.url: \"smtp://:25\" is not smtp://", 1 },
	{ "smtp URL with port 0", { [P_TAIL] =
		"smtp: {\n  url = \"smtp://mail.example.org:0\"; " HERE "\n};\n" },
	  "smtp.url: \"smtp://mail.example.org:0\" is not smtp://", 1 },
	{ "smtp URL with port 99999", { [P_TAIL] =
		"smtp: {\n  url = \"smtps://mail.example.org:99999\"; " HERE "\n};\n" },
	  "smtp.url: \"smtps://mail.example.org:99999\" is not smtp://", 1 },
	{ "smtp URL with credentials", { [P_TAIL] =
		"smtp: {\n  url = \"smtp://user:pw@mail.example.org\"; " HERE "\n};\n" },
	  "smtp.url: \"smtp://user:pw@mail.example.org\" is not smtp://", 1 },
	{ "smtp URL with a path", { [P_TAIL] =
		"smtp: {\n  url = \"smtp://mail.example.org/deskline\"; " HERE "\n};\n" },
	  "smtp.url: \"smtp://mail.example.org/deskline\" is not smtp://", 1 },
	{ "smtp URL with an open bracket", { [P_TAIL] =
		"smtp: {\n  url = \"smtp://[::1:25\"; " HERE "\n};\n" },
	  "smtp.url: \"smtp://[::1:25\" is not smtp://", 1 },
	{ "smtp URL with a bad host", { [P_TAIL] =
		"smtp: {\n  url = \"smtp://mail server:25\"; " HERE "\n};\n" },
	  "smtp.url: \"smtp://mail server:25\" is not smtp://", 1 },
	{ "sender without @", { [P_TAIL] = "smtp: {\n  from = \"deskline\"; " HERE "\n};\n" },
	  "smtp.from: \"deskline\" is not an e-mail address", 1 },
	{ "smtp timeout below a second", { [P_TAIL] =
		"smtp: {\n  timeout_ms = 999; " HERE "\n};\n" },
	  "smtp.timeout_ms must be from 1000 to 600000, not 999", 1 },
	{ "smtp timeout above ten minutes", { [P_TAIL] =
		"smtp: {\n  timeout_ms = 600001; " HERE "\n};\n" },
	  "smtp.timeout_ms must be from 1000 to 600000, not 600001", 1 },
	{ "smtp username without password", { [P_TAIL] =
		"smtp: {\n  username = \"deskline\"; " HERE "\n};\n" },
	  "smtp.username needs smtp.password", 1 },
	{ "smtp username with an empty password", { [P_TAIL] =
		"smtp: { password = \"\";\n  username = \"deskline\"; " HERE "\n};\n" },
	  "smtp.username needs smtp.password", 1 },
	{ "smtp password without username", { [P_TAIL] =
		"smtp: {\n  password = \"secret\"; " HERE "\n};\n" },
	  "smtp.password is given without smtp.username", 1 },
	{ "smtp password with a line break: one message", { [P_TAIL] =
		"smtp: { username = \"deskline\";\n  password = \"a\\nb\"; " HERE "\n};\n" },
	  "smtp.password holds a control character", 1 },
	{ "starttls as a string", { [P_TAIL] = "smtp: {\n  starttls = \"yes\"; " HERE "\n};\n" },
	  "smtp.starttls must be true or false", 1 },
};

static int here_line(const char *text)
{
	const char *mark = strstr(text, HERE);
	int line = 1;

	ck_assert_ptr_nonnull(mark);
	ck_assert_ptr_null(strstr(mark + 1, HERE));
	for (const char *p = text; p < mark; p++)
		line += *p == '\n';
	return line;
}

START_TEST(test_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	char *text = compose(c->parts);
	int line = here_line(text);
	const char *path = write_conf("bad.conf", text);
	size_t want = c->n_errors;

	ck_assert_msg(config_load(&cfg, path, &errs) == EINVAL, "%s: loaded", c->name);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(has_error(&errs, path, line, c->msg), "%s: want line %d \"%s\", got:%s",
		      c->name, line, c->msg, dump(&errs));
	ck_assert_msg(errs.n == want, "%s: want %zu errors, got:%s", c->name, want, dump(&errs));
	config_errors_clear(&errs);
	free(text);
}
END_TEST

/* Files that look odd but are right. */
static const struct {
	const char *name;
	const char *parts[N_PARTS];
} good_cases[] = {
	{ "option digits that prefix others", { [P_MENUS] =
		"menus: { main: { options = (\n"
		"  { digits = \"1\"; action = \"trunk:pay\"; },\n"
		"  { digits = \"12\"; action = \"hangup\"; },\n"
		"  { digits = \"*#AD0\"; action = \"hangup\"; }\n); }; };\n" } },
	{ "sips, IPv6, transport", {
		[P_SIP] = "sip: {\n"
			  "  listen = [ \"sips:[::1]:5061\",\n"
			  "    \"sip:127.0.0.1:5060;transport=udp\" ];"
			  " numbers = [ \"1000\", \"+97235300\" ]; start_menu = \"main\"; };\n",
		[P_MEDIA] = "media: { address = \"::1\"; port_min = 20000; port_max = 20003; };\n",
		[P_TRUNKS] = "trunks: { pay: { uri = \"sips:pay@pay.example.com\";"
			     " sources = [ \"::1\", \"10.0.0.5\" ]; keep_caller_id = false;"
			     " from_user = \"5300\"; }; };\n" } },
	{ "menus that reach an exit through each other", { [P_MENUS] =
		"menus: {\n"
		"  main: { on_max_failures = \"menu:a\"; on_max_timeouts = \"menu:a\";\n"
		"    options = (\n"
		"      { digits = \"1\"; action = [ \"lang:en\", \"menu:main\" ]; } ); };\n"
		"  a: { on_max_failures = \"menu:b\"; on_max_timeouts = \"menu:main\";\n"
		"    options = ( { digits = \"1\"; action = \"play:goodbye\"; } ); };\n"
		"  b: { on_max_failures = [ \"play:goodbye\", \"trunk:pay\" ];\n"
		"    on_max_timeouts = \"menu:a\"; };\n"
		"};\n" } },
	{ "every section, every key", { [P_TAIL] =
		"redis: { address = \"[::1]:6380\"; prefix = \"x:\"; };\n"
		"log: { level = \"error\"; syslog = true; cdr_file = \"\"; };\n" } },
	{ "codecs in any case, one codec", { [P_MEDIA] =
		"media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;"
		" codecs = [ \"pcma\" ]; ptime_ms = 60; telephone_event_pt = 96;"
		" rtp_timeout_ms = 0; inband_dtmf = false; };\n" } },
	{ "a menu whose only way out is a queue", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] = CLERK_Q,
	  [P_MENUS] = "menus: { main: { on_max_failures = \"queue:q\";"
		" on_max_timeouts = \"menu:main\";\n"
		"  options = ( { digits = \"4\"; action = [ \"play:goodbye\", \"queue:q\" ]; } );"
		" }; };\n" } },
	{ "overflow through another queue to a menu", { [P_QUEUES] =
		"queues: { q: { on_overflow = \"queue:r\"; };\n"
		"  r: { on_overflow = [ \"play:goodbye\", \"menu:main\" ]; }; };\n",
	  [P_CLERKS] = CLERK_HEAD
		"  { id = \"yossi\"; extension = \"202\"; email = \"y@x.org\";"
		" ha1 = \"" HA1_YOSSI "\"; queues = [ \"r\" ]; } );\n" } },
	{ "clerks and no queues", { [P_CLERKS] =
		"clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";"
		" password = \"pw\"; } );\n" } },
	{ "empty clerks and queues", { [P_QUEUES] = "queues: { };\n",
	  [P_CLERKS] = "clerks = ( );\n" } },
	{ "every new key at its limits", {
	  [P_REGISTRAR] = "registrar: { realm = \"city hall\"; min_expires_s = 1;"
		" max_expires_s = 86400; default_expires_s = 86400; nonce_ttl_s = 10; };\n",
	  [P_FEATURES] = "features: { login = \"#1\"; logout = \"#2\"; break_start = \"*9*\";"
		" break_end = \"99\"; ok_prompt = \"\"; error_prompt = \"goodbye\"; };\n",
	  [P_QUEUES] = "queues: { q: { strategy = \"ring-all\"; music = \"\";"
		" ring_timeout_ms = 1000; max_wait_ms = 0; max_attempts = 100; wrap_up_ms = 0;"
		" max_no_answer = 100; wait_for_clerk = false; on_overflow = \"trunk:pay\"; };"
		" };\n",
	  [P_CLERKS] = CLERK_Q,
	  [P_TAIL] = "redis: { node = \"node-1.example\"; };\n" } },
	{ "upper limits of the queue timers", { [P_CLERKS] = CLERK_Q, [P_QUEUES] =
		"queues: { q: { ring_timeout_ms = 300000; max_wait_ms = 3600000;"
		" wrap_up_ms = 3600000; wait_for_clerk = true; on_overflow = \"hangup\"; };"
		" };\n" } },
	{ "extensions that only look like feature codes", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] =
		"clerks = ( { id = \"a\"; extension = \"21\"; email = \"a@x\"; password = \"pw\";"
		" queues = [ \"q\" ]; },\n"
		"  { id = \"b\"; extension = \"2\"; email = \"b@x\"; password = \"pw\"; },\n"
		"  { id = \"c\"; extension = \"100\"; email = \"c@x\"; password = \"pw\"; }"
		" );\n" } },
	{ "smtps with IPv6 and a port", { [P_TAIL] =
		"smtp: { url = \"smtps://[::1]:465\"; username = \"deskline\";"
		" password = \"pw\"; starttls = true; timeout_ms = 1000; };\n" } },
	{ "smtp with a name and a slash", { [P_TAIL] =
		"smtp: { url = \"smtp://mail.council.example/\"; timeout_ms = 600000; };\n" } },
	{ "closed as an empty list, no holidays", { [P_TAIL] =
		"calendar: { closed = [ ]; holidays = [ ]; holidays_file = \"\"; };\n" } },
	{ "closed to a menu with a way out", { [P_TAIL] =
		"calendar: { closed = [ \"lang:en\", \"menu:main\" ]; };\n" } },
	{ "closed to a queue", { [P_QUEUES] = QUEUE_Q, [P_CLERKS] = CLERK_Q, [P_TAIL] =
		"calendar: { closed = \"queue:q\"; };\n" } },
	{ "short days at the edges of the hours", { [P_TAIL] =
		"calendar: { holidays = [ \"2026-09-20 08:01\", \"2026-09-22 15:59\" ]; };\n" } },
	{ "whole-day holidays on a weekend", { [P_TAIL] =
		"calendar: { holidays = [ \"2026-09-26\", \"2026-10-03\",\n"
		"  \"2028-02-29\" ]; };\n" } },
	{ "only Friday open", { [P_TAIL] =
		"calendar: { hours = { sunday = \"\"; monday = \"\"; tuesday = \"\";"
		" wednesday = \"\"; thursday = \"\"; friday = \"07:00-23:59\"; }; };\n" } },
	{ "short day on a day opened by the file", { [P_TAIL] =
		"calendar: { hours = { friday = \"08:00-13:00\"; };"
		" holidays = [ \"2026-09-25 12:00\" ]; };\n" } },
	{ "department email without trunks that open tickets", { [P_TAIL] =
		"tickets: { department_email = \"collection@council.example\"; };\n" } },
	{ "a trunk opening tickets", {
	  [P_TRUNKS] = "trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\"; opens_ticket = true; };"
		" };\n",
	  [P_TAIL] = "tickets: { department_email = \"collection@council.example\";"
		" header_ticket = \"X-Ticket\"; header_menu_path = \"X-Path\";"
		" header_reason = \"X-Reason\"; };\n" } },
};

START_TEST(test_good)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	char *text = compose(good_cases[_i].parts);
	const char *path = write_conf("good.conf", text);

	free(text);
	ck_assert_msg(config_load(&cfg, path, &errs) == 0, "%s:%s", good_cases[_i].name,
		      dump(&errs));
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_nonnull(config_menu(cfg, "main"));
	config_unref(cfg);
}
END_TEST

/* media.inband_dtmf: a boolean or "auto", each to its setting. */
static const struct {
	const char *value;
	enum dl_inband_dtmf want;
} inband_cases[] = {
	{ "true", DL_INBAND_ON },
	{ "false", DL_INBAND_OFF },
	{ "\"auto\"", DL_INBAND_AUTO },
};

START_TEST(test_inband_dtmf)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	char media[256];
	const char *parts[N_PARTS] = { [P_MEDIA] = media };

	snprintf(media, sizeof(media), "media: { address = \"127.0.0.1\"; port_min = 20000;"
		 " port_max = 20099; inband_dtmf = %s; };\n", inband_cases[_i].value);
	char *text = compose(parts);
	const char *path = write_conf("inband.conf", text);

	free(text);
	ck_assert_msg(config_load(&cfg, path, &errs) == 0, "%s:%s", inband_cases[_i].value,
		      dump(&errs));
	ck_assert_int_eq(cfg->media.inband_dtmf, inband_cases[_i].want);
	config_unref(cfg);
}
END_TEST

/* media.io_uring: true when absent, as set otherwise. */
START_TEST(test_io_uring)
{
	static const char *const values[] = { NULL, "true", "false" };
	static const bool want[] = { true, true, false };
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	char media[256];
	const char *parts[N_PARTS] = { [P_MEDIA] = media };

	snprintf(media, sizeof(media), "media: { address = \"127.0.0.1\"; port_min = 20000;"
		 " port_max = 20099;%s%s%s };\n", values[_i] ? " io_uring = " : "",
		 values[_i] ? values[_i] : "", values[_i] ? ";" : "");
	char *text = compose(parts);
	const char *path = write_conf("io_uring.conf", text);

	free(text);
	ck_assert_msg(config_load(&cfg, path, &errs) == 0, "%s", dump(&errs));
	ck_assert_int_eq(cfg->media.io_uring, want[_i]);
	config_unref(cfg);
}
END_TEST

/* Clerks and queues as loaded, and the lookups over them. */
START_TEST(test_clerks_and_queues)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	const char *const parts[N_PARTS] = {
		[P_FEATURES] = "features: { ok_prompt = \"feature-ok\"; error_prompt = \"\"; };\n",
		[P_QUEUES] = "queues: {\n"
			"  q: { strategy = \"longest-idle\"; music = \"queue-music\";"
			" wait_for_clerk = true;"
			" on_overflow = [ \"play:goodbye\", \"queue:r\" ]; };\n"
			"  r: { strategy = \"ring-all\"; on_overflow = \"hangup\"; };\n"
			"};\n",
		[P_CLERKS] = "clerks = (\n"
			"  { id = \"dana\"; extension = \"201\"; email = \"dana@example.org\";"
			" password = \"change-me-201\"; queues = [ \"q\", \"r\" ]; },\n"
			"  { id = \"yossi\"; extension = \"202\"; name = \"Yossi Cohen\";"
			" email = \"y@x.org\"; ha1 = \"F9B036502F677247E124FC18BDA5AB51\";"
			" queues = [ \"r\" ]; },\n"
			"  { id = \"a.b_c-1\"; extension = \"21\"; email = \"x@y\";"
			" password = \"p w\"; }\n"
			");\n",
		[P_TAIL] = "redis: { node = \"node-1.example\"; };\n",
	};
	char *text = compose(parts);
	const char *path = write_conf("clerks.conf", text);

	free(text);
	ck_assert_msg(config_load(&cfg, path, &errs) == 0, "clerks:%s", dump(&errs));

	ck_assert_str_eq(cfg->features.login, "*21");
	ck_assert_str_eq(cfg->features.break_end, "*24");
	ck_assert_str_eq(cfg->features.ok_prompt, "feature-ok");
	ck_assert_ptr_null(cfg->features.error_prompt);
	ck_assert_str_eq(cfg->node_id, "node-1.example");

	ck_assert_uint_eq(cfg->n_queues, 2);
	const struct dl_queue *q = config_queue(cfg, "q");
	ck_assert_ptr_eq(q, &cfg->queues[0]);
	ck_assert_str_eq(q->name, "q");
	ck_assert_int_eq(q->line, 8);
	ck_assert_int_eq(q->strategy, DL_HUNT_LONGEST_IDLE);
	ck_assert_str_eq(config_strategy_name(q->strategy), "longest-idle");
	ck_assert_str_eq(q->music, "queue-music");
	ck_assert_uint_eq(q->ring_timeout_ms, 15000);
	ck_assert_uint_eq(q->max_wait_ms, 90000);
	ck_assert_uint_eq(q->max_attempts, 6);
	ck_assert_uint_eq(q->wrap_up_ms, 30000);
	ck_assert_uint_eq(q->max_no_answer, 3);
	ck_assert(q->wait_for_clerk);
	ck_assert_uint_eq(q->on_overflow.n, 2);
	ck_assert_int_eq(q->on_overflow.v[1].type, DL_ACT_QUEUE);
	ck_assert_str_eq(q->on_overflow.v[1].arg, "r");
	ck_assert_int_eq(q->on_overflow.v[1].line, 8);
	const struct dl_queue *r = config_queue(cfg, "r");
	ck_assert_ptr_eq(r, &cfg->queues[1]);
	ck_assert_int_eq(r->line, 9);
	ck_assert_int_eq(r->strategy, DL_HUNT_RING_ALL);
	ck_assert_ptr_null(r->music);
	ck_assert(!r->wait_for_clerk);
	ck_assert_int_eq(r->on_overflow.v[0].type, DL_ACT_HANGUP);
	ck_assert_ptr_null(config_queue(cfg, "R"));
	ck_assert_ptr_null(config_queue(cfg, "collection"));
	ck_assert_ptr_null(config_queue(cfg, NULL));

	ck_assert_uint_eq(cfg->n_clerks, 3);
	const struct dl_clerk *c = config_clerk(cfg, "dana");
	ck_assert_ptr_eq(c, &cfg->clerks[0]);
	ck_assert_int_eq(c->line, 12);
	ck_assert_str_eq(c->extension, "201");
	ck_assert_str_eq(c->name, "dana");           /* no name: the id */
	ck_assert_str_eq(c->email, "dana@example.org");
	ck_assert_str_eq(c->ha1, HA1_DANA);
	ck_assert_uint_eq(c->n_queues, 2);
	ck_assert_str_eq(c->queues[0], "q");
	ck_assert_str_eq(c->queues[1], "r");
	c = config_clerk(cfg, "yossi");
	ck_assert_ptr_eq(c, &cfg->clerks[1]);
	ck_assert_str_eq(c->name, "Yossi Cohen");
	ck_assert_str_eq(c->ha1, HA1_YOSSI);         /* stored in lower case */
	c = config_clerk_by_extension(cfg, "21");
	ck_assert_ptr_eq(c, &cfg->clerks[2]);
	ck_assert_str_eq(c->id, "a.b_c-1");
	ck_assert_uint_eq(c->n_queues, 0);
	ck_assert_ptr_null(c->queues);
	ck_assert_uint_eq(strlen(c->ha1), 32);
	ck_assert_ptr_eq(config_clerk_by_extension(cfg, "201"), &cfg->clerks[0]);
	ck_assert_ptr_null(config_clerk_by_extension(cfg, "20"));
	ck_assert_ptr_null(config_clerk_by_extension(cfg, "2010"));
	ck_assert_ptr_null(config_clerk_by_extension(cfg, NULL));
	ck_assert_ptr_null(config_clerk(cfg, "Dana"));
	ck_assert_ptr_null(config_clerk(cfg, "201"));
	ck_assert_ptr_null(config_clerk(cfg, NULL));
	config_unref(cfg);
}
END_TEST

/* HA1 from a password uses the realm wherever the registrar section is in the file. */
#define CLERK_DANA "clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";" \
		   " password = \"change-me-201\"; } );\n"
static const struct {
	const char *name;
	const char *parts[N_PARTS];
	const char *ha1;
} realm_cases[] = {
	{ "default realm", { [P_CLERKS] = CLERK_DANA }, HA1_DANA },
	{ "realm before the clerks", { [P_CLERKS] = CLERK_DANA,
	  [P_REGISTRAR] = "registrar: { realm = \"other\"; };\n" }, HA1_DANA_OTHER },
	{ "realm after the clerks", { [P_CLERKS] = CLERK_DANA,
	  [P_TAIL] = "registrar: { realm = \"other\"; };\n" }, HA1_DANA_OTHER },
	{ "ha1 as given, in lower case", { [P_TAIL] = "registrar: { realm = \"other\"; };\n",
	  [P_CLERKS] = "clerks = ( { id = \"dana\"; extension = \"201\"; email = \"d@x.org\";"
		" ha1 = \"D8868119BDDF7D2079207B110636774E\"; } );\n" }, HA1_DANA },
};

START_TEST(test_realm)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	char *text = compose(realm_cases[_i].parts);
	const char *path = write_conf("realm.conf", text);

	free(text);
	ck_assert_msg(config_load(&cfg, path, &errs) == 0, "%s:%s", realm_cases[_i].name,
		      dump(&errs));
	ck_assert_uint_eq(cfg->n_clerks, 1);
	ck_assert_msg(strcmp(cfg->clerks[0].ha1, realm_cases[_i].ha1) == 0, "%s: ha1 %s",
		      realm_cases[_i].name, cfg->clerks[0].ha1);
	config_unref(cfg);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Calendar, tickets, smtp (Procedure 46 §4, §6)                                               */

/** Write @p text to <tmpdir>/<dir>/<name>, making <dir> first. */
static void write_in_folder(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_conf(path, text);
}

START_TEST(test_calendar_section)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	const char *const parts[N_PARTS] = {
		[P_TRUNKS] = "trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\";"
			     " opens_ticket = true; }; };\n",
		[P_TAIL] =
			"calendar: {\n"
			"  timezone = \"Europe/London\";\n"
			"  hours = { monday = \"09:30-17:45\"; friday = \"08:00-13:00\"; };\n"
			"  holidays = [ \"2027-04-22\", \"2026-09-21\",\n"
			"    \"2026-09-20 13:00\" ];\n"
			"  holidays_file = \"cal/holidays.txt\";\n"
			"  closed = [ \"play:closed\", \"hangup\" ];\n"
			"};\n"
			"tickets: { spool_dir = \"/var/spool/deskline\";"
			" department_email = \"collection@council.example\"; };\n"
			"smtp: { url = \"smtps://mail.council.example:465\";"
			" from = \"deskline@council.example\";\n"
			"  username = \"deskline\"; password = \"s3cret\"; starttls = true;"
			" timeout_ms = 5000; };\n",
	};
	/* Comments, blank lines, tabs, CR LF, no newline at the end. */
	write_in_folder("cal", "holidays.txt",
			"# Hebrew year 5788\n"
			"\n"
			"2027-10-02   # Rosh Hashana\n"
			"\t2027-10-03\t\r\n"
			"2027-10-10 13:00\n"
			"   \n"
			"2026-12-31");
	char *text = compose(parts);
	const char *path = write_conf("calendar.conf", text);
	static const struct cal_holiday want[] = {
		{ 2026, 9, 20, 780 }, { 2026, 9, 21, -1 }, { 2026, 12, 31, -1 },
		{ 2027, 4, 22, -1 }, { 2027, 10, 2, -1 }, { 2027, 10, 3, -1 },
		{ 2027, 10, 10, 780 },
	};
	static const struct cal_hours week[7] = {
		{ 480, 960 }, { 570, 1065 }, { 480, 960 }, { 480, 960 }, { 480, 960 },
		{ 480, 780 }, { 0, 0 },
	};

	free(text);
	ck_assert_msg(config_load(&cfg, path, &errs) == 0, "calendar:%s", dump(&errs));
	ck_assert_str_eq(cfg->calendar.timezone, "Europe/London");
	ck_assert_mem_eq(cfg->calendar.week, week, sizeof(week));
	ck_assert_uint_eq(cfg->calendar.n_holidays, sizeof(want) / sizeof(want[0]));
	ck_assert_mem_eq(cfg->calendar.holidays, want, sizeof(want));
	ck_assert_uint_eq(cfg->on_closed.n, 2);
	ck_assert_int_eq(cfg->on_closed.v[0].type, DL_ACT_PLAY);
	ck_assert_str_eq(cfg->on_closed.v[0].arg, "closed");
	ck_assert_int_eq(cfg->on_closed.v[0].line, 12);
	ck_assert_int_eq(cfg->on_closed.v[1].type, DL_ACT_HANGUP);
	ck_assert(config_trunk(cfg, "pay")->opens_ticket);

	ck_assert_str_eq(cfg->tickets.spool_dir, "/var/spool/deskline");
	ck_assert_str_eq(cfg->tickets.department_email, "collection@council.example");
	ck_assert_str_eq(cfg->tickets.header_ticket, "X-Deskline-Ticket");

	ck_assert_str_eq(cfg->smtp.url, "smtps://mail.council.example:465");
	ck_assert_str_eq(cfg->smtp.from, "deskline@council.example");
	ck_assert_str_eq(cfg->smtp.username, "deskline");
	ck_assert_str_eq(cfg->smtp.password, "s3cret");
	ck_assert(cfg->smtp.starttls);
	ck_assert_uint_eq(cfg->smtp.timeout_ms, 5000);
	config_unref(cfg);
}
END_TEST

/* Mistakes in the holidays file are reported at its own lines. The configuration lists
 * 2026-09-21 on line 6; 2026-09-26 is a Saturday. */
static const struct {
	const char *name;
	const char *text;     /* the holidays file */
	int line;             /* of the error in it */
	const char *msg;      /* expected after "HOLIDAYS_FILE:LINE: " */
	size_t n_errors;
} holidays_file_cases[] = {
	{ "not a date", "2026-09-12\n# 12.9 is Rosh Hashana\n12.9.2026\n", 3,
	  "holiday: \"12.9.2026\" is not \"YYYY-MM-DD\" (closed all day) or \"YYYY-MM-DD HH:MM\" "
	  "(a short day, closing at HH:MM)", 1 },
	{ "text after the date", "2026-09-20 13:00\n2026-09-22 Sukkot\n", 2,
	  "holiday: \"2026-09-22 Sukkot\" is not \"YYYY-MM-DD\"", 1 },
	{ "no such date", "\n\n2027-02-29\n", 3, "holiday: \"2027-02-29\": there is no such date",
	  1 },
	{ "twice in the file", "2026-09-13\n2026-09-12\n2026-09-13 12:00   # short\n", 3,
	  "holiday: 2026-09-13 is already listed at line 1", 1 },
	{ "also in the configuration", "2026-10-04\n2026-09-21\n", 2,
	  "holiday: 2026-09-21 is already listed at /", 1 },
	{ "short day on a Saturday", "2026-09-26 12:00\n", 1,
	  "holiday: \"2026-09-26 12:00\" is a short day on a saturday, which has no working "
	  "hours (calendar.hours.saturday)", 1 },
	{ "three mistakes", "x\n2026-09-20\ny\n\nz\n", 5, "holiday: \"z\" is not", 3 },
};

START_TEST(test_holidays_file)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	const char *const parts[N_PARTS] = { [P_TAIL] =
		"calendar: { holidays = [ \"2026-09-21\" ];\n"
		"  holidays_file = \"hol.txt\"; };\n" };
	char *text = compose(parts);
	char hol[PATH_MAX + 16], main_path[PATH_MAX + 64];

	write_conf("hol.txt", holidays_file_cases[_i].text);
	snprintf(hol, sizeof(hol), "%s/hol.txt", tmpdir);
	snprintf(main_path, sizeof(main_path), "%s", write_conf("hol.conf", text));
	free(text);
	ck_assert_int_eq(config_load(&cfg, main_path, &errs), EINVAL);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(has_error(&errs, hol, holidays_file_cases[_i].line,
				holidays_file_cases[_i].msg), "%s: want line %d \"%s\", got:%s",
		      holidays_file_cases[_i].name, holidays_file_cases[_i].line,
		      holidays_file_cases[_i].msg, dump(&errs));
	ck_assert_msg(errs.n == holidays_file_cases[_i].n_errors, "%s: got:%s",
		      holidays_file_cases[_i].name, dump(&errs));
	/* Each message names the file and a line, and they come in line order. */
	for (size_t i = 0; i < errs.n; i++) {
		char prefix[sizeof(hol) + 32];
		int line = i + 1 < errs.n ? (int)(2 * i + 1) : holidays_file_cases[_i].line;
		snprintf(prefix, sizeof(prefix), "%s:%d: ", hol, line);
		ck_assert_msg(strncmp(errs.msgs[i], prefix, strlen(prefix)) == 0, "%s: %s",
			      holidays_file_cases[_i].name, errs.msgs[i]);
	}
	if (strstr(holidays_file_cases[_i].msg, "listed at /")) {
		char at[sizeof(main_path) + 32];
		snprintf(at, sizeof(at), "listed at %s:6", main_path);
		ck_assert_ptr_nonnull(strstr(errs.msgs[0], at));
	}
	config_errors_clear(&errs);
}
END_TEST

/* Errors in both files: the main file's first, though its line is later. */
START_TEST(test_holidays_file_order)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	const char *const parts[N_PARTS] = { [P_TAIL] =
		"calendar: { holidays_file = \"hol.txt\";\n"
		"  closed = \"menu:night\"; };\n" };
	char *text = compose(parts);
	char hol[PATH_MAX + 16];

	write_conf("hol.txt", "2026-09-31\n");
	snprintf(hol, sizeof(hol), "%s/hol.txt", tmpdir);
	const char *path = write_conf("order.conf", text);
	free(text);
	ck_assert_int_eq(config_load(&cfg, path, &errs), EINVAL);
	ck_assert_msg(errs.n == 2, "got:%s", dump(&errs));
	ck_assert(has_error(&errs, path, 7, "menu \"night\" does not exist"));
	ck_assert(has_error(&errs, hol, 1, "\"2026-09-31\": there is no such date"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "night"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[1], "2026-09-31"));
	config_errors_clear(&errs);
}
END_TEST

/* Source addresses compare as addresses, not as text. */
static const struct {
	const char *addr;
	const char *trunk;   /* NULL: none */
} source_cases[] = {
	{ "127.0.0.1",                               "pay" },
	{ "::1",                                     "pay" },
	{ "0:0::1",                                  "pay" },
	{ "0000:0000:0000:0000:0000:0000:0000:0001", "pay" },
	{ "::ffff:127.0.0.1",                        "pay" },  /* from a dual-stack socket */
	{ "10.0.0.6",                                "cc" },
	{ "2001:DB8:0::1",                           "cc" },
	{ "::ffff:10.0.0.6",                         "cc" },
	{ "10.0.0.5",                                "pay" },  /* in both: the first trunk */
	{ "10.0.0.7",                                NULL },
	{ "::2",                                     NULL },
	{ "::127.0.0.1",                             NULL },   /* IPv4-compatible is not mapped */
	{ "[::1]",                                   NULL },
	{ "localhost",                               NULL },
	{ "127.0.0.1:5060",                          NULL },
	{ "",                                        NULL },
	{ NULL,                                      NULL },
};

START_TEST(test_trunk_by_source)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	const char *const parts[N_PARTS] = { [P_TRUNKS] =
		"trunks: { pay: { uri = \"sip:pay@127.0.0.1:5070\";"
		" sources = [ \"127.0.0.1\", \"::1\", \"10.0.0.5\" ]; };\n"
		"  cc: { uri = \"sip:cc@127.0.0.1:5080\";"
		" sources = [ \"10.0.0.6\", \"2001:db8::1\", \"10.0.0.5\" ]; };\n"
		"  quiet: { uri = \"sip:x@127.0.0.1\"; }; };\n" };
	char *text = compose(parts);
	const char *path = write_conf("sources.conf", text);

	free(text);
	ck_assert_msg(config_load(&cfg, path, &errs) == 0, "sources:%s", dump(&errs));
	const struct dl_trunk *t = config_trunk_by_source(cfg, source_cases[_i].addr);
	if (source_cases[_i].trunk) {
		ck_assert_msg(t != NULL, "%s: no trunk", source_cases[_i].addr);
		ck_assert_str_eq(t->name, source_cases[_i].trunk);
		ck_assert_ptr_eq(t, config_trunk(cfg, source_cases[_i].trunk));
	} else {
		ck_assert_msg(t == NULL, "%s: trunk %s", source_cases[_i].addr ?
			      source_cases[_i].addr : "NULL", t ? t->name : "");
	}
	config_unref(cfg);
}
END_TEST

static const struct {
	enum dl_hunt_strategy s;
	const char *name;
} strategy_cases[] = {
	{ DL_HUNT_FEWEST_TASKS, "fewest-tasks" },
	{ DL_HUNT_LONGEST_IDLE, "longest-idle" },
	{ DL_HUNT_RING_ALL,     "ring-all" },
	{ (enum dl_hunt_strategy)3,  "unknown" },
	{ (enum dl_hunt_strategy)99, "unknown" },
};

START_TEST(test_strategy_name)
{
	ck_assert_str_eq(config_strategy_name(strategy_cases[_i].s), strategy_cases[_i].name);
}
END_TEST

/* Loading goes on after an error: three mistakes, three messages, in line order. */
START_TEST(test_all_errors)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	const char *const parts[N_PARTS] = {
		[P_TAIL] = "log: { level = \"loud\"; };\n",
		[P_MEDIA] = "media: { address = \"127.0.0.1\"; port_min = 20000; port_max = 20099;"
			    " ptime_ms = 25; };\n",
		[P_MENUS] = "menus: { main: { options = (\n"
			    "  { digits = \"1\"; action = \"trunk:nope\"; } ); }; };\n",
	};
	char *text = compose(parts);
	const char *path = write_conf("three.conf", text);

	free(text);
	ck_assert_int_eq(config_load(&cfg, path, &errs), EINVAL);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(errs.n == 3, "want 3 errors, got:%s", dump(&errs));
	ck_assert(has_error(&errs, path, 2, "media.ptime_ms must be a multiple of 10"));
	ck_assert(has_error(&errs, path, 6, "trunk \"nope\" does not exist"));
	ck_assert(has_error(&errs, path, 7, "log.level: \"loud\" is not one of"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "ptime_ms"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[1], "nope"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[2], "loud"));
	config_errors_clear(&errs);
}
END_TEST

/* Messages name one file and one line each: a file pulled in with @include is refused. */
START_TEST(test_include)
{
	struct dl_config_errors errs = { 0 };
	struct dl_config *cfg = NULL;
	const char *const parts[N_PARTS] = { [P_TAIL] = "@include \"log.conf\"\n" };
	char *text = compose(parts);
	char inc[PATH_MAX + 128];

	write_conf("log.conf", "log: { level = \"debug\"; };\n");
	const char *path = write_conf("main.conf", text);
	free(text);
	ck_assert_int_eq(config_load(&cfg, path, &errs), EINVAL);
	ck_assert_msg(errs.n == 1, "got:%s", dump(&errs));
	snprintf(inc, sizeof(inc), "%s/log.conf:1: @include is not supported: keep the "
		 "configuration in one file", tmpdir);
	ck_assert_str_eq(errs.msgs[0], inc);
	config_errors_clear(&errs);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Actions                                                                                     */

static const struct {
	const char *text;
	int rc;
	enum dl_action_type type;
	const char *arg;
} action_cases[] = {
	{ "menu:main",         0, DL_ACT_MENU,   "main" },
	{ "trunk:payment",     0, DL_ACT_TRUNK,  "payment" },
	{ "play:try-later",    0, DL_ACT_PLAY,   "try-later" },
	{ "play:v2.intro",     0, DL_ACT_PLAY,   "v2.intro" },
	{ "hangup",            0, DL_ACT_HANGUP, NULL },
	{ "lang:en",           0, DL_ACT_LANG,   "en" },
	{ "queue:collection",  0, DL_ACT_QUEUE,  "collection" },
	{ "menu:",             EINVAL, 0, NULL },
	{ "menu",              EINVAL, 0, NULL },
	{ "hangup:now",        EINVAL, 0, NULL },
	{ "Hangup",            EINVAL, 0, NULL },
	{ "goto:main",         EINVAL, 0, NULL },
	{ "play:../secret",    EINVAL, 0, NULL },
	{ "play:.hidden",      EINVAL, 0, NULL },
	{ "play:a/b",          EINVAL, 0, NULL },
	{ "trunk:pay ment",    EINVAL, 0, NULL },
	{ " menu:main",        EINVAL, 0, NULL },
	{ "",                  EINVAL, 0, NULL },
};

START_TEST(test_action_parse)
{
	struct dl_action act = { .line = 77 };
	int rc = config_action_parse(action_cases[_i].text, &act);

	ck_assert_msg(rc == action_cases[_i].rc, "\"%s\": rc %d", action_cases[_i].text, rc);
	if (rc) {
		ck_assert_int_eq(act.line, 77);   /* untouched on error */
		return;
	}
	ck_assert_int_eq(act.type, action_cases[_i].type);
	if (action_cases[_i].arg)
		ck_assert_str_eq(act.arg, action_cases[_i].arg);
	else
		ck_assert_ptr_null(act.arg);
	ck_assert_ptr_null(act.headers);
	ck_assert_uint_eq(act.n_headers, 0);
	ck_assert_int_eq(act.line, 0);
	free(act.arg);
}
END_TEST

START_TEST(test_action_parse_args)
{
	struct dl_action act;

	ck_assert_int_eq(config_action_parse(NULL, &act), EINVAL);
	ck_assert_int_eq(config_action_parse("hangup", NULL), EINVAL);
	ck_assert(!config_is_number(NULL, "1000"));
	ck_assert_ptr_null(config_menu(NULL, "main"));
	ck_assert_ptr_null(config_trunk(NULL, "pay"));
	ck_assert_ptr_null(config_queue(NULL, "q"));
	ck_assert_ptr_null(config_clerk(NULL, "dana"));
	ck_assert_ptr_null(config_clerk_by_extension(NULL, "201"));
	ck_assert_ptr_null(config_trunk_by_source(NULL, "127.0.0.1"));
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_sample);
	tcase_add_test(tc, test_sample_with_real_prompts);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_errors_list);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_loop_test(tc, test_good, 0, sizeof(good_cases) / sizeof(good_cases[0]));
	tcase_add_loop_test(tc, test_inband_dtmf, 0, sizeof(inband_cases) / sizeof(inband_cases[0]));
	tcase_add_loop_test(tc, test_io_uring, 0, 3);
	tcase_add_test(tc, test_clerks_and_queues);
	tcase_add_loop_test(tc, test_realm, 0, sizeof(realm_cases) / sizeof(realm_cases[0]));
	tcase_add_test(tc, test_calendar_section);
	tcase_add_loop_test(tc, test_holidays_file, 0,
			    sizeof(holidays_file_cases) / sizeof(holidays_file_cases[0]));
	tcase_add_test(tc, test_holidays_file_order);
	tcase_add_loop_test(tc, test_trunk_by_source, 0,
			    sizeof(source_cases) / sizeof(source_cases[0]));
	tcase_add_test(tc, test_all_errors);
	tcase_add_test(tc, test_include);
	suite_add_tcase(s, tc);

	tc = tcase_create("strategies");
	tcase_add_loop_test(tc, test_strategy_name, 0,
			    sizeof(strategy_cases) / sizeof(strategy_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("actions");
	tcase_add_loop_test(tc, test_action_parse, 0,
			    sizeof(action_cases) / sizeof(action_cases[0]));
	tcase_add_test(tc, test_action_parse_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(config_suite());
}
