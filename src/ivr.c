/**
 * @file ivr.c  The menu machine (Procedure 46 §1–§2).
 *
 * Modelled on Asterisk's Background()/WaitExten() and FreeSWITCH's IVR menus: the greeting plays,
 * a digit stops it (barge-in) and starts an entry, the first-digit timer runs only once the
 * greeting has ended, and a multi-digit entry waits the inter-digit time only while what was
 * entered is the start of a longer option.
 *
 * The machine owns no timer and plays nothing: every event returns an ivr_output that says what
 * to stop, what to play, when to call back and where the call goes. It keeps its own deadline so
 * that an event it ignores can hand the same deadline back (every output replaces the caller's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deskline/ivr.h"

/**
 * Longest entry collected. An entry only grows while it is the start of a longer option, so this
 * bounds option length, not what a caller may press; an option with more digits can never be
 * reached (the configuration should not accept one).
 */
#define IVR_MAX_DIGITS 15

/** Bytes kept of the path. When it fills up the oldest entries give way to "... > ". */
#define IVR_PATH_BYTES 512

/** Longest single path entry; a longer label is cut. Keeps room for several entries. */
#define IVR_PATH_ENTRY_BYTES 128

#define PATH_SEP    " > "
#define PATH_ELIDED "... > "

enum state {
	ST_MENU_PROMPT,  /**< greeting (after an invalid/timeout prompt) playing; digits barge in */
	ST_WAIT_FIRST,   /**< greeting done, first-digit timer running */
	ST_COLLECT,      /**< entry is the start of a longer option, inter-digit timer running */
	ST_ACTION_PLAY,  /**< play: actions of a list playing; digits are ignored */
	ST_DONE,         /**< exit reported; nothing more happens */
};

struct ivr {
	const struct dl_config *cfg;
	const struct dl_menu *menu;         /**< current menu */
	const char *lang;                   /**< borrowed: caller's argument or configuration */
	enum state state;
	mstime_t deadline_ms;               /**< 0 while playing or done */

	char digits[IVR_MAX_DIGITS + 1];    /**< entry so far */
	size_t n_digits;
	unsigned failures;                  /**< invalid entries in this menu visit */
	unsigned timeouts;                  /**< first-digit timeouts in this menu visit */

	const struct dl_action_list *list;  /**< list whose play: actions are playing */
	size_t next;                        /**< its next action */

	char path[IVR_PATH_BYTES];
	size_t path_len;
};

static const char *state_name(enum state st)
{
	switch (st) {
	case ST_MENU_PROMPT: return "menu-prompt";
	case ST_WAIT_FIRST:  return "wait-first-digit";
	case ST_COLLECT:     return "collect";
	case ST_ACTION_PLAY: return "action-play";
	case ST_DONE:        return "done";
	}
	return "?";
}

/* 0 means "no timer" in the output, so a deadline that lands on time 0 is moved by 1 ms. */
static mstime_t deadline_after(mstime_t now_ms, unsigned timeout_ms)
{
	mstime_t d = now_ms + timeout_ms;
	return d != 0 ? d : 1;
}

static bool nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* ---- path ---- */

/* Drop the oldest entry, keeping the "... > " marker; the newest entries say where the call
 * went, which is what a ticket needs. */
static void path_drop_oldest(struct ivr *ivr)
{
	const size_t elided = strlen(PATH_ELIDED);
	size_t skip = strncmp(ivr->path, PATH_ELIDED, elided) == 0 ? elided : 0;
	const char *next = strstr(ivr->path + skip, PATH_SEP);
	char tmp[IVR_PATH_BYTES];

	if (next == NULL) {
		ivr->path[0] = '\0';
		ivr->path_len = 0;
		return;
	}
	next += strlen(PATH_SEP);
	snprintf(tmp, sizeof(tmp), "%s%s", PATH_ELIDED, next);
	memcpy(ivr->path, tmp, sizeof(tmp));
	ivr->path_len = strlen(ivr->path);
}

static void path_add(struct ivr *ivr, const char *entry)
{
	size_t len = strlen(entry);

	for (;;) {
		size_t sep = ivr->path_len > 0 ? strlen(PATH_SEP) : 0;
		if (ivr->path_len + sep + len < sizeof(ivr->path))
			break;
		path_drop_oldest(ivr);
	}
	ivr->path_len += (size_t)snprintf(ivr->path + ivr->path_len,
					  sizeof(ivr->path) - ivr->path_len, "%s%s",
					  ivr->path_len > 0 ? PATH_SEP : "", entry);
}

static void path_add_option(struct ivr *ivr, const struct dl_menu_option *opt)
{
	char entry[IVR_PATH_ENTRY_BYTES];

	if (nonempty(opt->label))
		snprintf(entry, sizeof(entry), "%s:%s(%s)", ivr->menu->name, opt->digits, opt->label);
	else
		snprintf(entry, sizeof(entry), "%s:%s", ivr->menu->name, opt->digits);
	path_add(ivr, entry);
}

/* ---- steps shared by the event handlers ---- */

static void out_clear(struct ivr_output *out)
{
	memset(out, 0, sizeof(*out));
}

/* Every output carries the language and the machine's deadline, even when nothing changed. */
static void out_finish(const struct ivr *ivr, struct ivr_output *out)
{
	out->lang = ivr->lang;
	out->deadline_ms = ivr->deadline_ms;
}

static void digits_clear(struct ivr *ivr)
{
	ivr->digits[0] = '\0';
	ivr->n_digits = 0;
}

static void wait_first(struct ivr *ivr, mstime_t now_ms)
{
	ivr->state = ST_WAIT_FIRST;
	ivr->deadline_ms = deadline_after(now_ms, ivr->menu->first_digit_timeout_ms);
}

/* Play [first, greeting] (NULL and empty names skipped), or wait at once when both are missing. */
static void menu_prompt(struct ivr *ivr, const char *first, mstime_t now_ms,
			struct ivr_output *out)
{
	digits_clear(ivr);
	out->n_play = 0;
	if (nonempty(first))
		out->play[out->n_play++] = first;
	if (nonempty(ivr->menu->greeting))
		out->play[out->n_play++] = ivr->menu->greeting;

	if (out->n_play == 0) {
		wait_first(ivr, now_ms);
		return;
	}
	ivr->state = ST_MENU_PROMPT;
	ivr->deadline_ms = 0;
}

/* Entering a menu (menu:X or back after an action list) starts its counters afresh. */
static void menu_enter(struct ivr *ivr, const struct dl_menu *menu, mstime_t now_ms,
		       struct ivr_output *out)
{
	ivr->menu = menu;
	ivr->failures = 0;
	ivr->timeouts = 0;
	ivr->list = NULL;
	ivr->next = 0;
	menu_prompt(ivr, NULL, now_ms, out);
}

static void finish(struct ivr *ivr, enum ivr_exit exit, const struct dl_action *act,
		   struct ivr_output *out)
{
	ivr->state = ST_DONE;
	ivr->deadline_ms = 0;
	ivr->list = NULL;
	out->exit = exit;
	out->action = act;
}

/*
 * Run list->v[start..]: lang: switches at once, play: prompts play (consecutive ones in one
 * output, so there is no gap between them) and the list goes on at ivr_playback_done(), the first
 * menu/trunk/queue/hangup ends it. A list that runs out re-enters the current menu.
 */
static void actions_run(struct ivr *ivr, const struct dl_action_list *list, size_t start,
			mstime_t now_ms, struct ivr_output *out)
{
	size_t i = start;

	ivr->list = NULL;
	while (list != NULL && i < list->n) {
		const struct dl_action *act = &list->v[i];
		const struct dl_menu *menu;

		switch (act->type) {
		case DL_ACT_PLAY:
			out->n_play = 0;
			while (i < list->n && list->v[i].type == DL_ACT_PLAY &&
			       out->n_play < IVR_MAX_PLAY) {
				if (nonempty(list->v[i].arg))
					out->play[out->n_play++] = list->v[i].arg;
				i++;
			}
			if (out->n_play > 0) {
				ivr->state = ST_ACTION_PLAY;
				ivr->deadline_ms = 0;
				ivr->list = list;
				ivr->next = i;
				return;
			}
			continue;

		case DL_ACT_LANG:
			if (nonempty(act->arg))
				ivr->lang = act->arg;
			i++;
			continue;

		case DL_ACT_MENU:
			menu = config_menu(ivr->cfg, act->arg);
			if (menu == NULL) {
				/* The loader refuses a configuration naming a missing menu;
				 * hanging up beats looping in a menu the caller did not pick. */
				path_add(ivr, "no-such-menu");
				finish(ivr, IVR_EXIT_HANGUP, NULL, out);
				return;
			}
			menu_enter(ivr, menu, now_ms, out);
			return;

		case DL_ACT_TRUNK:
			finish(ivr, IVR_EXIT_TRUNK, act, out);
			return;

		case DL_ACT_QUEUE:
			finish(ivr, IVR_EXIT_QUEUE, act, out);
			return;

		case DL_ACT_HANGUP:
			finish(ivr, IVR_EXIT_HANGUP, NULL, out);
			return;
		}
		i++;   /* an action type this machine does not know is skipped */
	}
	menu_enter(ivr, ivr->menu, now_ms, out);
}

static void option_accept(struct ivr *ivr, const struct dl_menu_option *opt, mstime_t now_ms,
			  struct ivr_output *out)
{
	path_add_option(ivr, opt);
	digits_clear(ivr);
	actions_run(ivr, &opt->actions, 0, now_ms, out);
}

static void entry_invalid(struct ivr *ivr, mstime_t now_ms, struct ivr_output *out)
{
	digits_clear(ivr);
	ivr->failures++;
	if (ivr->failures >= ivr->menu->max_failures) {
		path_add(ivr, "max-failures");
		actions_run(ivr, &ivr->menu->on_max_failures, 0, now_ms, out);
		return;
	}
	menu_prompt(ivr, ivr->menu->invalid_prompt, now_ms, out);
}

static void entry_none(struct ivr *ivr, mstime_t now_ms, struct ivr_output *out)
{
	digits_clear(ivr);
	ivr->timeouts++;
	if (ivr->timeouts >= ivr->menu->max_timeouts) {
		path_add(ivr, "max-timeouts");
		actions_run(ivr, &ivr->menu->on_max_timeouts, 0, now_ms, out);
		return;
	}
	menu_prompt(ivr, ivr->menu->timeout_prompt, now_ms, out);
}

/* The option the entry spells exactly, and whether a longer option starts with it. O(options ×
 * digits), a handful of each. */
static const struct dl_menu_option *entry_match(const struct ivr *ivr, bool *longer)
{
	const struct dl_menu_option *exact = NULL;

	*longer = false;
	for (size_t i = 0; i < ivr->menu->n_options; i++) {
		const struct dl_menu_option *opt = &ivr->menu->options[i];
		if (opt->digits == NULL)
			continue;
		if (strcmp(opt->digits, ivr->digits) == 0)
			exact = opt;
		else if (strncmp(opt->digits, ivr->digits, ivr->n_digits) == 0)
			*longer = true;
	}
	return exact;
}

/* A digit joins the entry: act now, wait for more, or refuse it. */
static void entry_digit(struct ivr *ivr, char digit, mstime_t now_ms, struct ivr_output *out)
{
	const struct dl_menu_option *exact;
	bool longer;

	if (ivr->n_digits == IVR_MAX_DIGITS) {
		entry_invalid(ivr, now_ms, out);
		return;
	}
	ivr->digits[ivr->n_digits++] = digit;
	ivr->digits[ivr->n_digits] = '\0';

	exact = entry_match(ivr, &longer);
	if (longer) {
		ivr->state = ST_COLLECT;
		ivr->deadline_ms = deadline_after(now_ms, ivr->menu->inter_digit_timeout_ms);
		return;
	}
	if (exact != NULL) {
		option_accept(ivr, exact, now_ms, out);
		return;
	}
	entry_invalid(ivr, now_ms, out);
}

/* '0'-'9', '*', '#', 'A'-'D' (RFC 4733 §3.2 events 0-15); lower-case a-d taken as upper. */
static char digit_normalize(char digit)
{
	if ((digit >= '0' && digit <= '9') || digit == '*' || digit == '#' ||
	    (digit >= 'A' && digit <= 'D'))
		return digit;
	if (digit >= 'a' && digit <= 'd')
		return (char)(digit - 'a' + 'A');
	return '\0';
}

/* ---- public ---- */

int ivr_alloc(struct ivr **ip, const struct dl_config *cfg, const char *menu, const char *lang,
	      mstime_t now_ms, struct ivr_output *out)
{
	const struct dl_menu *m;
	struct ivr *ivr;

	if (ip == NULL || cfg == NULL || menu == NULL || out == NULL)
		return EINVAL;

	m = config_menu(cfg, menu);
	if (m == NULL)
		return ENOENT;

	ivr = calloc(1, sizeof(*ivr));
	if (ivr == NULL)
		return ENOMEM;

	ivr->cfg = cfg;
	if (lang != NULL)
		ivr->lang = lang;
	else if (cfg->n_languages > 0)
		ivr->lang = cfg->languages[0];

	out_clear(out);
	menu_enter(ivr, m, now_ms, out);
	out_finish(ivr, out);

	*ip = ivr;
	return 0;
}

void ivr_free(struct ivr *ivr)
{
	free(ivr);
}

void ivr_digit(struct ivr *ivr, char digit, mstime_t now_ms, struct ivr_output *out)
{
	if (out == NULL)
		return;
	out_clear(out);
	if (ivr == NULL)
		return;

	digit = digit_normalize(digit);
	if (digit == '\0')
		goto out;

	switch (ivr->state) {
	case ST_MENU_PROMPT:
		out->stop_playback = true;
		entry_digit(ivr, digit, now_ms, out);
		break;
	case ST_WAIT_FIRST:
	case ST_COLLECT:
		entry_digit(ivr, digit, now_ms, out);
		break;
	case ST_ACTION_PLAY:
		/* An announcement inside an action list ("transferring you…") is not a menu:
		 * nothing is offered, so a key pressed over it neither cuts it nor counts. */
		break;
	case ST_DONE:
		break;
	}
out:
	out_finish(ivr, out);
}

void ivr_playback_done(struct ivr *ivr, mstime_t now_ms, struct ivr_output *out)
{
	if (out == NULL)
		return;
	out_clear(out);
	if (ivr == NULL)
		return;

	switch (ivr->state) {
	case ST_MENU_PROMPT:
		wait_first(ivr, now_ms);
		break;
	case ST_ACTION_PLAY:
		actions_run(ivr, ivr->list, ivr->next, now_ms, out);
		break;
	case ST_WAIT_FIRST:
	case ST_COLLECT:
	case ST_DONE:
		/* late report of a playback a digit already stopped */
		break;
	}
	out_finish(ivr, out);
}

void ivr_timeout(struct ivr *ivr, mstime_t now_ms, struct ivr_output *out)
{
	const struct dl_menu_option *exact;
	bool longer;

	if (out == NULL)
		return;
	out_clear(out);
	if (ivr == NULL)
		return;

	/* A timer that fires early or belongs to an earlier deadline changes nothing. */
	if (ivr->deadline_ms == 0 || now_ms < ivr->deadline_ms)
		goto out;

	switch (ivr->state) {
	case ST_WAIT_FIRST:
		entry_none(ivr, now_ms, out);
		break;
	case ST_COLLECT:
		exact = entry_match(ivr, &longer);
		if (exact != NULL)
			option_accept(ivr, exact, now_ms, out);
		else
			entry_invalid(ivr, now_ms, out);
		break;
	case ST_MENU_PROMPT:
	case ST_ACTION_PLAY:
	case ST_DONE:
		break;
	}
out:
	out_finish(ivr, out);
}

void ivr_run(struct ivr *ivr, const struct dl_action_list *list, mstime_t now_ms,
	     struct ivr_output *out)
{
	if (out == NULL)
		return;
	out_clear(out);
	if (ivr == NULL)
		return;

	if (ivr->state == ST_MENU_PROMPT || ivr->state == ST_ACTION_PLAY)
		out->stop_playback = true;
	digits_clear(ivr);
	actions_run(ivr, list, 0, now_ms, out);
	out_finish(ivr, out);
}

const char *ivr_path(const struct ivr *ivr)
{
	return ivr != NULL ? ivr->path : "";
}

const char *ivr_lang(const struct ivr *ivr)
{
	return ivr != NULL ? ivr->lang : NULL;
}

const char *ivr_state_name(const struct ivr *ivr)
{
	return ivr != NULL ? state_name(ivr->state) : "(null)";
}

int ivr_debug(const struct ivr *ivr, char *buf, size_t size)
{
	if (ivr == NULL || buf == NULL || size == 0)
		return EINVAL;

	snprintf(buf, size,
		 "state=%s menu=%s lang=%s digits=\"%s\" failures=%u/%u timeouts=%u/%u "
		 "deadline_ms=%llu path=\"%s\"",
		 state_name(ivr->state), ivr->menu->name ? ivr->menu->name : "?",
		 ivr->lang ? ivr->lang : "-", ivr->digits,
		 ivr->failures, ivr->menu->max_failures, ivr->timeouts, ivr->menu->max_timeouts,
		 (unsigned long long)ivr->deadline_ms, ivr->path);
	return 0;
}
