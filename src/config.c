/**
 * @file config.c  libconfig file → struct dl_config, every problem as "FILE:LINE: message".
 *
 * One walk over declarative key tables (name → type → field → validator) both fills the
 * configuration and checks it, so `deskline -t` and the loader cannot disagree. The same tables
 * drive freeing. Checks that need more than one key run in `done` hooks after a group's keys:
 * the media port range, a trunk's from_user, a menu's digits and prompts, the registrar's expiry
 * range, feature codes, a queue's music, a clerk's id, extension and queues — and, in the root
 * hook, everything that needs the whole file (references between menus, trunks and queues, play:
 * prompt files, menus and queue overflows without a way out, queues without clerks, the
 * calendar's closed actions).
 *
 * The calendar's holidays may also come from a file of their own (calendar.holidays_file, one
 * per line): its errors name that file and its lines, and sort after the main file's.
 *
 * Sections are walked in table order, not file order, so a hook can rely on what an earlier
 * section filled in: the registrar's realm before clerk passwords are hashed with it, sip.numbers
 * and the feature codes before clerk extensions are compared with them.
 *
 * Errors do not stop the walk: a bad value is reported and left out, so later checks see only
 * good values and one mistake does not cascade into several messages. They are sorted by line
 * before they are handed out, so `deskline -t` reads like a compiler.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <libconfig.h>
#include <sofia-sip/hostdomain.h>
#include <sofia-sip/su_md5.h>
#include <sofia-sip/url.h>

#include "deskline/calendar.h"
#include "deskline/config.h"
#include "deskline/log.h"

/** Longest key path in messages ("menus.main.options[3].headers.X-Deskline-Service"). */
#define WHERE_MAX 256

/** One error, kept with its line so the list can be sorted before it is handed out. */
struct error {
	const char *file;  /* NULL: the main file; else valid until the errors are handed out */
	int line;
	size_t seq;      /* report order: keeps errors of one line in the order they were found */
	char *msg;
};

/** State of one config_load(). */
struct loader {
	const char *path;        /* as the caller gave it: messages start with it */
	char *dir;               /* absolute folder of the file: relative paths start here */
	struct dl_config *cfg;
	const config_setting_t *root;  /* for lines of keys in other sections */
	struct error *errv;
	size_t errn;
	bool nomem;
	bool include_seen;       /* "@include" reported once */
	bool prompts_ok;         /* prompt folder exists: file checks make sense */
	bool *lang_ok;           /* per cfg->languages[i]: its folder exists */
	char **missing;          /* prompt files reported missing, each reported once */
	size_t n_missing;
	struct holiday_src *hol; /* holidays as read, with where they were written */
	size_t n_hol;
	char *holidays_path;     /* calendar.holidays_file, absolute: its errors name it */
	bool hours_bad[7];       /* calendar.hours of that weekday were wrong (reported) */
};

/** A holiday and where it was written, for duplicate messages. */
struct holiday_src {
	struct cal_holiday h;
	const char *file;        /* NULL: the main file; else ld->holidays_path */
	int line;
};

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */

static void vreport(struct loader *ld, const char *file, int line, const char *fmt, va_list ap)
{
	char *text = NULL;
	char *msg = NULL;
	int r;

	if (vasprintf(&text, fmt, ap) < 0) {
		ld->nomem = true;
		return;
	}
	/* libconfig names an included file as the directive spelled it, relative to the include
	 * folder, which is ld->dir. */
	const char *dir = file && file[0] != '/' ? ld->dir : NULL;
	const char *sort_file = file;
	if (!file)
		file = ld->path;
	if (line > 0)
		r = asprintf(&msg, "%s%s%s:%d: %s", dir ? dir : "", dir ? "/" : "", file, line,
			     text);
	else
		r = asprintf(&msg, "%s%s%s: %s", dir ? dir : "", dir ? "/" : "", file, text);
	free(text);
	if (r < 0) {
		ld->nomem = true;
		return;
	}

	/* Grows one at a time: a file has a handful of errors, not thousands. */
	struct error *v = realloc(ld->errv, (ld->errn + 1) * sizeof(*v));
	if (!v) {
		free(msg);
		ld->nomem = true;
		return;
	}
	ld->errv = v;
	v[ld->errn] = (struct error){ .file = sort_file, .line = line, .seq = ld->errn,
				      .msg = msg };
	ld->errn++;
}

/** Report at a setting. The root group has no line (0): point at the top of the file. */
__attribute__((format(printf, 3, 4)))
static void err_at(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	int line = s ? (int)config_setting_source_line(s) : 0;
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, s ? config_setting_source_file(s) : NULL, line > 0 ? line : 1, fmt, ap);
	va_end(ap);
}

/** Report at @p line of @p file (NULL: the main file); line 0 means the whole file. */
__attribute__((format(printf, 4, 5)))
static void err_file(struct loader *ld, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, file, line, fmt, ap);
	va_end(ap);
}

/** Report at a line of the main file (checks that run on the loaded structs). */
__attribute__((format(printf, 3, 4)))
static void err_line(struct loader *ld, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, NULL, line > 0 ? line : 1, fmt, ap);
	va_end(ap);
}

/** The main file first, then other files (the holidays file) by name; lines within each. */
static int error_cmp(const void *a, const void *b)
{
	const struct error *x = a, *y = b;

	if (!x->file != !y->file)
		return x->file ? 1 : -1;
	if (x->file && y->file) {
		int c = strcmp(x->file, y->file);
		if (c)
			return c;
	}
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/** Sort the errors by line and move them to @p errs (or drop them when it is NULL). */
static void errors_hand_out(struct loader *ld, struct dl_config_errors *errs)
{
	size_t i = 0;

	if (ld->errn)
		qsort(ld->errv, ld->errn, sizeof(*ld->errv), error_cmp);

	if (errs && ld->errn) {
		char **v = realloc(errs->msgs, (errs->n + ld->errn) * sizeof(*v));
		if (v) {
			errs->msgs = v;
			for (; i < ld->errn; i++)
				errs->msgs[errs->n++] = ld->errv[i].msg;
		} else {
			ld->nomem = true;
		}
	}
	for (; i < ld->errn; i++)
		free(ld->errv[i].msg);
	free(ld->errv);
	ld->errv = NULL;
	ld->errn = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */

static char *str_dup(struct loader *ld, const char *s)
{
	char *d = strdup(s);

	if (!d)
		ld->nomem = true;
	return d;
}

/** A relative path is taken from the folder the configuration file is in. */
static char *resolve(struct loader *ld, const char *p)
{
	char *r = NULL;

	if (p[0] == '/')
		return str_dup(ld, p);
	if (asprintf(&r, "%s/%s", ld->dir, p) < 0) {
		ld->nomem = true;
		return NULL;
	}
	return r;
}

/**
 * Absolute folder of @p path. Absolute, because the daemon changes to "/" when it detaches and
 * would then lose a relative prompt folder.
 */
static char *folder_of(const char *path)
{
	char *copy = strdup(path);
	char *dir = NULL;

	if (!copy)
		return NULL;
	dir = realpath(dirname(copy), NULL);
	if (!dir) {
		/* The file was just opened, so this is rare (a folder renamed meanwhile). */
		free(copy);
		copy = strdup(path);
		dir = copy ? strdup(dirname(copy)) : NULL;
	}
	free(copy);
	return dir;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Pointer fields of different types are read and written through memcpy so that the generic
 * walk does not access a `struct dl_menu *` through a `char *` lvalue (strict aliasing). */
static void *get_ptr(const char *field)
{
	void *p;

	memcpy(&p, field, sizeof(p));
	return p;
}

static void set_ptr(char *field, void *p)
{
	memcpy(field, &p, sizeof(p));
}

/** buf = a b c, cut to WHERE_MAX: key paths only go into messages, where a cut one still says
 * enough. (Copied by hand: snprintf("%s.%s") into a buffer as large as its input is what GCC's
 * -Wformat-truncation rightly flags.) */
static void where_cat(char *buf, const char *a, const char *b, const char *c)
{
	const char *parts[] = { a, b, c };
	size_t n = 0;

	for (size_t i = 0; i < 3; i++) {
		for (const char *p = parts[i]; *p && n < WHERE_MAX - 1; p++)
			buf[n++] = *p;
	}
	buf[n] = '\0';
}

static void where_key(char *buf, const char *where, const char *name)
{
	where_cat(buf, where, where[0] ? "." : "", name);
}

static void where_idx(char *buf, const char *where, int i)
{
	char idx[16];

	snprintf(idx, sizeof(idx), "[%d]", i);
	where_cat(buf, where, idx, "");
}

static bool is_list(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

static const char *string_value(struct loader *ld, const config_setting_t *s, const char *where)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		err_at(ld, s, "%s must be a string", where);
		return NULL;
	}
	return config_setting_get_string(s);
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/**
 * A menu, trunk, prompt or language name: letters, digits and "-_.*" (what libconfig allows in
 * setting names, plus '.'), not starting with '.'. Prompt and language names become file names,
 * so this is also what keeps "play:../../etc/passwd" out.
 */
static bool name_ok(const char *s)
{
	if (!s || !*s || *s == '.')
		return false;
	for (; *s; s++) {
		if (!is_alnum(*s) && !strchr("-_.*", *s))
			return false;
	}
	return true;
}

/** RFC 3261 §25.1 token: what a header name is made of. */
static bool token_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (!is_alnum(*s) && !strchr("-.!%*_+`'~", *s))
			return false;
	}
	return true;
}

/**
 * Headers deskline writes itself on a B-leg INVITE (RFC 3261 §8.1.1 and the dialog and body
 * headers), with their compact forms (§7.3.3): a configured copy would break the request.
 */
static bool header_reserved(const char *name)
{
	static const char *const reserved[] = {
		"Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq", "Contact", "m",
		"Max-Forwards", "Content-Type", "c", "Content-Length", "l", "Route", "Record-Route",
	};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strcasecmp(name, reserved[i]) == 0)
			return true;
	}
	return false;
}

/** No control characters except HTAB (RFC 3261 §25.1 TEXT-UTF8char / LWS): no CR LF injection. */
static bool text_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static bool port_ok(const char *s)
{
	long v = 0;

	if (!s || !*s || strlen(s) > 5)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535;
}

static bool ip_parse(const char *s, unsigned char addr[16], int *family)
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

/**
 * An IP literal as 16 bytes, IPv4 as its IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2): so
 * "::1" and "0:0::1" compare equal, and so do "127.0.0.1" and the "::ffff:127.0.0.1" a dual-stack
 * socket reports for it.
 */
static bool ip_canon(const char *s, unsigned char out[16])
{
	unsigned char addr[16];
	int family;

	if (!s || !ip_parse(s, addr, &family))
		return false;
	if (family == AF_INET6) {
		memcpy(out, addr, 16);
		return true;
	}
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, addr, 4);
	return true;
}

/** Does @p s consist of the characters of @p set only (and at least one)? */
static bool only_of(const char *s, const char *set)
{
	return s && s[0] && strspn(s, set) == strlen(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Actions                                                                                     */

static bool action_is_terminal(enum dl_action_type type)
{
	return type == DL_ACT_MENU || type == DL_ACT_TRUNK || type == DL_ACT_QUEUE ||
	       type == DL_ACT_HANGUP;
}

int config_action_parse(const char *s, struct dl_action *act)
{
	static const struct {
		const char *prefix;
		enum dl_action_type type;
	} kinds[] = {
		{ "menu:",  DL_ACT_MENU },
		{ "trunk:", DL_ACT_TRUNK },
		{ "play:",  DL_ACT_PLAY },
		{ "lang:",  DL_ACT_LANG },
		{ "queue:", DL_ACT_QUEUE },
	};

	if (!s || !act)
		return EINVAL;

	if (strcmp(s, "hangup") == 0) {
		*act = (struct dl_action){ .type = DL_ACT_HANGUP };
		return 0;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t len = strlen(kinds[i].prefix);
		if (strncmp(s, kinds[i].prefix, len) != 0)
			continue;
		if (!name_ok(s + len))
			return EINVAL;
		char *arg = strdup(s + len);
		if (!arg)
			return ENOMEM;
		*act = (struct dl_action){ .type = kinds[i].type, .arg = arg };
		return 0;
	}
	return EINVAL;
}

static void free_action(struct dl_action *a)
{
	for (size_t i = 0; i < a->n_headers; i++) {
		free(a->headers[i].name);
		free(a->headers[i].value);
	}
	free(a->headers);
	free(a->arg);
}

static void free_actions(struct dl_action_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free_action(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/** The action a list ends with (menu, trunk, queue, hangup), or NULL when it just plays. */
static const struct dl_action *list_end(const struct dl_action_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (action_is_terminal(l->v[i].type))
			return &l->v[i];
	}
	return NULL;
}

/** An action list: "hangup" or [ "play:x", "hangup" ]; [ ] only when @p empty_ok. */
static void parse_actions(struct loader *ld, const config_setting_t *s, const char *where,
			  struct dl_action_list *list, bool empty_ok)
{
	bool single = config_setting_type(s) == CONFIG_TYPE_STRING;
	const char *ended_by = NULL;
	int n;

	if (single) {
		n = 1;
	} else if (is_list(s)) {
		n = config_setting_length(s);
		if (n == 0 && empty_ok)
			return;
		if (n == 0) {
			err_at(ld, s, "%s must name at least one action", where);
			return;
		}
	} else {
		err_at(ld, s, "%s must be an action or a list of actions: \"hangup\" or "
		       "[ \"play:NAME\", \"hangup\" ]", where);
		return;
	}

	list->v = calloc((size_t)n, sizeof(*list->v));
	if (!list->v) {
		ld->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = single ? s : config_setting_get_elem(s, (unsigned)i);
		char w[WHERE_MAX];
		struct dl_action a;

		if (single)
			where_cat(w, where, "", "");
		else
			where_idx(w, where, i);
		const char *text = string_value(ld, e, w);
		if (!text)
			continue;
		int r = config_action_parse(text, &a);
		if (r == ENOMEM) {
			ld->nomem = true;
			continue;
		}
		if (r) {
			err_at(ld, e, "%s: \"%s\" is not an action (menu:NAME, trunk:NAME, "
			       "play:PROMPT, lang:CODE, queue:NAME or hangup)", w, text);
			continue;
		}
		if (ended_by) {
			err_at(ld, e, "%s: \"%s\" is never run: \"%s\" before it leaves the list",
			       w, text, ended_by);
			free_action(&a);
			continue;
		}
		a.line = (int)config_setting_source_line(e);
		list->v[list->n++] = a;
		if (action_is_terminal(a.type))
			ended_by = text;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The key tables                                                                              */

enum key_type {
	KT_STRING,    /* char *; "" is an error unless empty_null */
	KT_PATH,      /* char *, relative to the configuration file's folder */
	KT_UINT,      /* unsigned, min..max, a multiple of step */
	KT_U16,       /* uint16_t, likewise */
	KT_U8,        /* uint8_t, likewise */
	KT_BOOL,      /* bool */
	KT_STRINGS,   /* char ** + size_t at count_off; at least min entries */
	KT_ACTIONS,   /* struct dl_action_list; def_str is the default action */
	KT_CUSTOM,    /* parse() does it all, also when the key is absent */
	KT_SECTION,   /* a group whose keys (sub) fill the struct at off */
	KT_NAMED,     /* a group of named groups → array of sub->size at off, count at count_off */
	KT_LIST,      /* a list of groups → likewise */
};

struct key;
struct table;

/** Validate a string value; report and return false when it is bad (it is then left out). */
typedef bool check_fn(struct loader *ld, const config_setting_t *s, const char *where,
		      const char *value);
/** Parse a KT_CUSTOM key; @p s is NULL when the key is absent. */
typedef void parse_fn(struct loader *ld, const struct key *k, const config_setting_t *s,
		      const config_setting_t *grp, const char *where, char *base);
/** Check a group once all its keys are parsed; @p grp is NULL for an absent optional section. */
typedef void done_fn(struct loader *ld, const config_setting_t *grp, const char *where,
		     char *base);

struct key {
	const char *name;
	enum key_type type;
	size_t off;                 /* field, from the base of the struct the table fills */
	size_t count_off;           /* KT_STRINGS, KT_NAMED, KT_LIST, codecs: the size_t count */
	bool required;
	bool empty_null;            /* KT_STRING, KT_PATH: "" means none (NULL);
				       KT_ACTIONS: [ ] means none (an empty list) */
	bool unique;                /* KT_STRINGS: no entry twice */
	bool lower;                 /* KT_STRING: stored in lower case (A-Z only) */
	long long min, max, step;   /* integers; KT_STRINGS, KT_NAMED, KT_LIST: min entries */
	long long def_int;          /* integers and booleans when absent */
	const char *def_str;        /* KT_STRING, KT_PATH, KT_ACTIONS when absent */
	check_fn *check;            /* KT_STRING, KT_PATH, and each entry of KT_STRINGS */
	parse_fn *parse;            /* KT_CUSTOM */
	const struct table *sub;    /* KT_SECTION, KT_NAMED, KT_LIST */
};

struct table {
	const struct key *keys;
	size_t n_keys;
	size_t size;                /* KT_NAMED, KT_LIST: size of one element */
	size_t name_off;            /* KT_NAMED: char *name of the element */
	size_t line_off;            /* KT_NAMED, KT_LIST: int line of the element */
	done_fn *done;
};

#define OFF(type, field) offsetof(struct type, field)
#define TABLE(k, ...) { .keys = (k), .n_keys = sizeof(k) / sizeof((k)[0]), __VA_ARGS__ }

/* Validators -------------------------------------------------------------------------------- */

/** A SIP URI as sofia-sip parses it, scheme sip or sips (RFC 3261 §19.1), with a valid host. */
static bool check_sip_uri(struct loader *ld, const config_setting_t *s, const char *where,
			  const char *value)
{
	url_t url[1];
	char *copy = strdup(value);
	bool ok;

	if (!copy) {
		ld->nomem = true;
		return false;
	}
	memset(url, 0, sizeof(url));
	/* url_d() is lenient: it takes "sip:a b" and "sip:h:99999", so host and port are checked
	 * again here. Headers ("?X=y") in a configured URI would smuggle in request headers. */
	ok = url_d(url, copy) == 0 &&
	     (url->url_type == url_sip || url->url_type == url_sips) &&
	     url->url_host && host_is_valid(url->url_host) &&
	     (!url->url_port || port_ok(url->url_port)) &&
	     (!url->url_user || url->url_user[0]) &&
	     !url->url_headers;
	free(copy);
	if (!ok)
		err_at(ld, s, "%s: \"%s\" is not a SIP URI (sip: or sips:, a host, an optional "
		       "port 1-65535)", where, value);
	return ok;
}

static bool check_ip(struct loader *ld, const config_setting_t *s, const char *where,
		     const char *value)
{
	unsigned char addr[16];
	int family;

	if (!ip_parse(value, addr, &family)) {
		err_at(ld, s, "%s: \"%s\" is not an IP address", where, value);
		return false;
	}
	return true;
}

/** The RTP address also goes into SDP c= (RFC 4566 §5.7): a wildcard reaches no one. */
static bool check_media_address(struct loader *ld, const config_setting_t *s, const char *where,
				const char *value)
{
	static const unsigned char zero[16];
	unsigned char addr[16];
	int family = AF_UNSPEC;

	if (!check_ip(ld, s, where, value) || !ip_parse(value, addr, &family))
		return false;
	if (memcmp(addr, zero, family == AF_INET ? 4 : 16) == 0) {
		err_at(ld, s, "%s: \"%s\" is a wildcard; SDP needs the address callers send RTP to",
		       where, value);
		return false;
	}
	return true;
}

/** RFC 3261 §25.1 user: unreserved / escaped / user-unreserved. */
static bool check_sip_user(struct loader *ld, const config_setting_t *s, const char *where,
			   const char *value)
{
	for (const char *p = value; *p; p++) {
		if (!is_alnum(*p) && !strchr("-_.!~*'()&=+$,;?/%", *p)) {
			err_at(ld, s, "%s: \"%s\" is not a SIP user part (RFC 3261 §25.1)", where,
			       value);
			return false;
		}
	}
	return true;
}

static bool check_text(struct loader *ld, const config_setting_t *s, const char *where,
		       const char *value)
{
	if (!text_ok(value)) {
		err_at(ld, s, "%s holds a control character", where);
		return false;
	}
	return true;
}

static bool check_name(struct loader *ld, const config_setting_t *s, const char *where,
		       const char *value)
{
	if (!name_ok(value)) {
		err_at(ld, s, "%s: \"%s\" may hold only letters, digits and - _ . * and must not "
		       "start with '.'", where, value);
		return false;
	}
	return true;
}

/** DTMF digits: RFC 4733 §3.2 events 0-15 are 0-9 * # A-D. */
static bool check_digits(struct loader *ld, const config_setting_t *s, const char *where,
			 const char *value)
{
	if (strspn(value, "0123456789*#ABCD") != strlen(value)) {
		err_at(ld, s, "%s: \"%s\" may hold only 0-9 * # A-D", where, value);
		return false;
	}
	return true;
}

static bool check_redis_address(struct loader *ld, const config_setting_t *s, const char *where,
				const char *value)
{
	const char *colon = strrchr(value, ':');
	bool ok;

	if (strncmp(value, "unix:", 5) == 0)
		ok = value[5] != '\0';
	else
		ok = colon && colon != value && port_ok(colon + 1);
	if (!ok)
		err_at(ld, s, "%s: \"%s\" is neither \"unix:/path\" nor \"host:port\"", where,
		       value);
	return ok;
}

#define DIGITS "0123456789"
#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

/**
 * A clerk id is the SIP digest username (RFC 2617 §3.2.2) and part of Redis keys: lower case so
 * that "Dana" and "dana" cannot be two accounts, and no ':' (it separates the parts of HA1 and
 * of the keys).
 */
static bool check_clerk_id(struct loader *ld, const config_setting_t *s, const char *where,
			   const char *value)
{
	if (!only_of(value, LOWER DIGITS "_.-")) {
		err_at(ld, s, "%s: \"%s\" may hold only a-z 0-9 _ . -", where, value);
		return false;
	}
	return true;
}

static bool check_extension(struct loader *ld, const config_setting_t *s, const char *where,
			    const char *value)
{
	if (!only_of(value, DIGITS)) {
		err_at(ld, s, "%s: \"%s\" may hold only digits 0-9", where, value);
		return false;
	}
	return true;
}

/** Feature codes are dialed from a desk phone: keypad keys only. */
static bool check_feature_code(struct loader *ld, const config_setting_t *s, const char *where,
			       const char *value)
{
	if (!only_of(value, DIGITS "*#")) {
		err_at(ld, s, "%s: \"%s\" may hold only 0-9 * #", where, value);
		return false;
	}
	return true;
}

/** Not a full RFC 5322 check: enough to catch a name or a phone number in the wrong key. */
static bool check_email(struct loader *ld, const config_setting_t *s, const char *where,
			const char *value)
{
	const char *at = strchr(value, '@');

	if (!at || at == value || !at[1] || strpbrk(value, " \t") || !text_ok(value)) {
		err_at(ld, s, "%s: \"%s\" is not an e-mail address (name@domain, no spaces)",
		       where, value);
		return false;
	}
	return true;
}

/**
 * Text sent inside a SIP quoted-string (RFC 3261 §25.1): the digest realm (RFC 2617 §3.2.1) and
 * a clerk's display name. '"' and '\' would need escaping there; refusing them is simpler than
 * trusting every writer of those headers to escape.
 */
static bool check_quotable(struct loader *ld, const config_setting_t *s, const char *where,
			   const char *value)
{
	if (strpbrk(value, "\"\\") || !text_ok(value)) {
		err_at(ld, s, "%s: \"%s\" must not hold '\"', '\\' or control characters (it is "
		       "sent as a SIP quoted-string)", where, value);
		return false;
	}
	return true;
}

/** HA1 is an MD5 digest in hex (RFC 2617 §3.2.2.2). The value is not echoed: a mistyped HA1 is
 * still nearly the credential. */
static bool check_ha1(struct loader *ld, const config_setting_t *s, const char *where,
		      const char *value)
{
	if (strlen(value) != 2 * SU_MD5_DIGEST_SIZE || !only_of(value, DIGITS "abcdefABCDEF")) {
		err_at(ld, s, "%s must be 32 hex digits: MD5(\"id:realm:password\")", where);
		return false;
	}
	return true;
}

/** A node name becomes part of Redis key names ("dl:node:<node>"): no spaces, ':' or globs. */
static bool node_ok(const char *s)
{
	return only_of(s, LOWER UPPER DIGITS "_.-");
}

static bool check_node(struct loader *ld, const config_setting_t *s, const char *where,
		       const char *value)
{
	if (!node_ok(value)) {
		err_at(ld, s, "%s: \"%s\" may hold only letters, digits and - _ .", where, value);
		return false;
	}
	return true;
}

/** calendar.timezone: glibc reads an unknown TZ as UTC without a word, so the zone is looked
 * up here, where a mistake still has a line. */
static bool check_timezone(struct loader *ld, const config_setting_t *s, const char *where,
			   const char *value)
{
	if (calendar_zone_check(value) != 0) {
		err_at(ld, s, "%s: \"%s\" is not a zone of the system's time-zone database "
		       "(/usr/share/zoneinfo, package tzdata), e.g. \"Asia/Jerusalem\"", where,
		       value);
		return false;
	}
	return true;
}

/** A header deskline adds to B-leg INVITEs itself (tickets.header_*): RFC 3261 §25.1 token, and
 * none of the headers the request already carries. */
static bool check_header_name(struct loader *ld, const config_setting_t *s, const char *where,
			      const char *value)
{
	if (!token_ok(value)) {
		err_at(ld, s, "%s: \"%s\" is not a SIP header name (RFC 3261 §25.1 token)", where,
		       value);
		return false;
	}
	if (header_reserved(value)) {
		err_at(ld, s, "%s: %s is set by deskline and cannot be configured", where, value);
		return false;
	}
	return true;
}

/**
 * smtp.url: what libcurl's SMTP takes, "smtp://HOST[:PORT]" or "smtps://HOST[:PORT]" (implicit
 * TLS, RFC 8314 §3.3). No user:password@ (smtp.username and smtp.password keep those out of
 * logs) and no path (libcurl would send it as the EHLO name).
 */
static bool smtp_url_ok(const char *v)
{
	const char *host, *end;
	char buf[256];

	if (strncmp(v, "smtp://", 7) == 0)
		host = v + 7;
	else if (strncmp(v, "smtps://", 8) == 0)
		host = v + 8;
	else
		return false;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end)
			return false;
		end++;
	} else {
		end = host + strcspn(host, ":/");
	}
	if (end == host || (size_t)(end - host) >= sizeof(buf))
		return false;
	memcpy(buf, host, (size_t)(end - host));
	buf[end - host] = '\0';
	if (!host_is_valid(buf))
		return false;
	if (*end == ':') {
		size_t n = strcspn(end + 1, "/");
		if (n >= sizeof(buf))
			return false;
		memcpy(buf, end + 1, n);
		buf[n] = '\0';
		if (!port_ok(buf))
			return false;
		end += 1 + n;
	}
	return end[0] == '\0' || (end[0] == '/' && end[1] == '\0');
}

static bool check_smtp_url(struct loader *ld, const config_setting_t *s, const char *where,
			   const char *value)
{
	if (!smtp_url_ok(value)) {
		err_at(ld, s, "%s: \"%s\" is not smtp://HOST[:PORT] or smtps://HOST[:PORT]", where,
		       value);
		return false;
	}
	return true;
}

/* Custom keys ------------------------------------------------------------------------------- */

/** media.codecs: SDP encoding names are case-insensitive (RFC 4855 §3). */
static void parse_codecs(struct loader *ld, const struct key *k, const config_setting_t *s,
			 const config_setting_t *grp, const char *where, char *base)
{
	enum dl_codec *v = (enum dl_codec *)(base + k->off);
	size_t *n = (size_t *)(base + k->count_off);

	if (!s) {
		v[0] = DL_CODEC_PCMU;
		v[1] = DL_CODEC_PCMA;
		*n = 2;
		return;
	}
	if (!is_list(s) || config_setting_length(s) == 0) {
		err_at(ld, s, "%s must be a list of codecs: [ \"PCMU\", \"PCMA\" ]", where);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char w[WHERE_MAX];
		enum dl_codec c;

		where_idx(w, where, i);
		const char *name = string_value(ld, e, w);
		if (!name)
			continue;
		if (strcasecmp(name, "PCMU") == 0) {
			c = DL_CODEC_PCMU;
		} else if (strcasecmp(name, "PCMA") == 0) {
			c = DL_CODEC_PCMA;
		} else {
			err_at(ld, e, "%s: unknown codec \"%s\" (PCMU or PCMA)", w, name);
			continue;
		}
		bool twice = false;
		for (size_t j = 0; j < *n; j++)
			twice |= v[j] == c;
		if (twice)
			err_at(ld, e, "%s: \"%s\" is listed twice", w, name);
		else if (*n < 2)
			v[(*n)++] = c;
	}
}

/** log.level: the names log_level_parse() knows, so the logger and the file agree. */
static void parse_log_level(struct loader *ld, const struct key *k, const config_setting_t *s,
			    const config_setting_t *grp, const char *where, char *base)
{
	int *field = (int *)(base + k->off);

	if (!s) {
		*field = LOG_INFO;
		return;
	}
	const char *name = string_value(ld, s, where);
	if (!name)
		return;
	int level = log_level_parse(name);
	if (level < 0)
		err_at(ld, s, "%s: \"%s\" is not one of error, warning, notice, info, debug", where,
		       name);
	else
		*field = level;
}

/**
 * media.inband_dtmf: true (always), false (never) or "auto" (only for callers whose SDP has no
 * telephone-event, as Asterisk's dtmf_mode=auto). Absent: "auto".
 */
static void parse_inband_dtmf(struct loader *ld, const struct key *k, const config_setting_t *s,
			      const config_setting_t *grp, const char *where, char *base)
{
	enum dl_inband_dtmf *field = (enum dl_inband_dtmf *)(base + k->off);

	if (!s) {
		*field = DL_INBAND_AUTO;
		return;
	}
	if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
		*field = config_setting_get_bool(s) ? DL_INBAND_ON : DL_INBAND_OFF;
		return;
	}
	const char *name = config_setting_type(s) == CONFIG_TYPE_STRING ?
				   config_setting_get_string(s) : NULL;
	if (name && strcmp(name, "auto") == 0)
		*field = DL_INBAND_AUTO;
	else
		err_at(ld, s, "%s must be true, false or \"auto\"", where);
}

static const char *const strategy_names[] = {
	[DL_HUNT_FEWEST_TASKS] = "fewest-tasks",
	[DL_HUNT_LONGEST_IDLE] = "longest-idle",
	[DL_HUNT_RING_ALL] = "ring-all",
};
#define N_STRATEGIES (sizeof(strategy_names) / sizeof(strategy_names[0]))

/** queues.NAME.strategy */
static void parse_strategy(struct loader *ld, const struct key *k, const config_setting_t *s,
			   const config_setting_t *grp, const char *where, char *base)
{
	enum dl_hunt_strategy *field = (enum dl_hunt_strategy *)(base + k->off);

	if (!s) {
		*field = DL_HUNT_FEWEST_TASKS;
		return;
	}
	const char *name = string_value(ld, s, where);
	if (!name)
		return;
	for (size_t i = 0; i < N_STRATEGIES; i++) {
		if (strcmp(name, strategy_names[i]) == 0) {
			*field = (enum dl_hunt_strategy)i;
			return;
		}
	}
	err_at(ld, s, "%s: \"%s\" is not a strategy (fewest-tasks, longest-idle or ring-all)",
	       where, name);
}

/**
 * clerks[].password: only its HA1 = MD5(id ":" realm ":" password) is kept (RFC 2617 §3.2.2.2).
 * The realm comes from the registrar section, which the walk fills before the clerks whatever
 * the order in the file. Exactly one of password and ha1; the password is never echoed.
 */
static void parse_password(struct loader *ld, const struct key *k, const config_setting_t *s,
			   const config_setting_t *grp, const char *where, char *base)
{
	struct dl_clerk *c = (struct dl_clerk *)base;
	const char *realm = ld->cfg->registrar.realm;
	const char *dot = strrchr(where, '.');
	int parent = dot ? (int)(dot - where) : (int)strlen(where);
	char hex[2 * SU_MD5_DIGEST_SIZE + 1];
	su_md5_t md5;

	if (config_setting_get_member(grp, "ha1")) {
		if (s)
			err_at(ld, s, "%.*s: password and ha1 are both given: keep one", parent,
			       where);
		return;
	}
	if (!s) {
		err_at(ld, grp, "missing required key \"password\" or \"ha1\" in %.*s", parent,
		       where);
		return;
	}
	const char *password = string_value(ld, s, where);
	if (!password)
		return;
	if (!password[0]) {
		err_at(ld, s, "%s must not be empty", where);
		return;
	}
	/* A bad id or realm is reported where it is written. */
	if (!check_text(ld, s, where, password) || !c->id || !realm)
		return;
	su_md5_init(&md5);
	su_md5_strupdate(&md5, c->id);
	su_md5_update(&md5, ":", 1);
	su_md5_strupdate(&md5, realm);
	su_md5_update(&md5, ":", 1);
	su_md5_strupdate(&md5, password);
	su_md5_hexdigest(&md5, hex);   /* lower-case hex */
	su_md5_deinit(&md5);
	c->ha1 = str_dup(ld, hex);
}

/**
 * An option's headers { Name = "value"; }: they go with the option's trunk action, so the field
 * of this key is the option's action list, which the table parses first.
 */
static void parse_headers(struct loader *ld, const struct key *k, const config_setting_t *s,
			  const config_setting_t *grp, const char *where, char *base)
{
	struct dl_action_list *list = (struct dl_action_list *)(base + k->off);
	struct dl_action *trunk = NULL;

	if (!s)
		return;
	if (!config_setting_is_group(s)) {
		err_at(ld, s, "%s must be a group: headers = { Name = \"value\"; };", where);
		return;
	}
	for (size_t i = 0; i < list->n && !trunk; i++) {
		if (list->v[i].type == DL_ACT_TRUNK)
			trunk = &list->v[i];
	}
	if (!trunk) {
		/* An empty list means the action itself was wrong and is reported already. */
		if (list->n)
			err_at(ld, s, "%s: headers are only allowed when the action includes "
			       "a trunk", where);
		return;
	}

	int n = config_setting_length(s);
	trunk->headers = calloc(n ? (size_t)n : 1, sizeof(*trunk->headers));
	if (!trunk->headers) {
		ld->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *h = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(h);
		char w[WHERE_MAX];

		where_key(w, where, name);
		/* libconfig names are a subset of tokens today; the check keeps that an explicit
		 * promise rather than an accident of the parser. */
		if (!token_ok(name)) {
			err_at(ld, h, "%s: \"%s\" is not a SIP header name (RFC 3261 §25.1 token)",
			       w, name);
			continue;
		}
		if (header_reserved(name)) {
			err_at(ld, h, "%s: %s is set by deskline and cannot be configured", w,
			       name);
			continue;
		}
		const char *value = string_value(ld, h, w);
		if (!value || !check_text(ld, h, w, value))
			continue;
		struct dl_header *hd = &trunk->headers[trunk->n_headers];
		hd->name = str_dup(ld, name);
		hd->value = str_dup(ld, value);
		trunk->n_headers++;
	}
}

/* The business calendar (Procedure 46 §6) ---------------------------------------------------- */

static const char *const day_names[7] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
};

static bool digits_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

static int two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/** "HH:MM", 00:00-23:59, to minutes after midnight; -1 when it is not one. */
static int clock_parse(const char *s)
{
	if (!digits_ok(s, 2) || s[2] != ':' || !digits_ok(s + 3, 2))
		return -1;
	int h = two_digits(s), m = two_digits(s + 3);
	return h <= 23 && m <= 59 ? h * 60 + m : -1;
}

/**
 * calendar.hours.DAY: "HH:MM-HH:MM" or "" for a day without hours. The field is that day's
 * struct cal_hours (the key's offset in the week array); a day left out has the default the
 * table gives it.
 */
static void parse_day_hours(struct loader *ld, const struct key *k, const config_setting_t *s,
			    const config_setting_t *grp, const char *where, char *base)
{
	struct cal_hours *h = (struct cal_hours *)(base + k->off);
	size_t day = k->off / sizeof(struct cal_hours);
	const char *text = k->def_str;
	int open, close;

	*h = (struct cal_hours){ 0, 0 };
	if (s) {
		text = string_value(ld, s, where);
		if (!text) {
			ld->hours_bad[day] = true;
			return;
		}
	}
	if (!text[0])
		return;
	open = strlen(text) == 11 && text[5] == '-' ? clock_parse(text) : -1;
	/* "24:00" closes at the end of the day: a line open round the clock. */
	close = open < 0 ? -1 : strcmp(text + 6, "24:00") == 0 ? 24 * 60 : clock_parse(text + 6);
	if (open < 0 || close < 0) {
		err_at(ld, s, "%s: \"%s\" is not \"HH:MM-HH:MM\" (00:00-24:00), or \"\" for a day "
		       "without working hours", where, text);
		ld->hours_bad[day] = true;
		return;
	}
	if (open >= close) {
		err_at(ld, s, "%s: \"%s\" opens at or after it closes", where, text);
		ld->hours_bad[day] = true;
		return;
	}
	*h = (struct cal_hours){ open, close };
}

/**
 * A holiday: "YYYY-MM-DD" (closed all day) or "YYYY-MM-DD HH:MM" (a short day closing then).
 *
 * @return 0, EINVAL (not that form), EDOM (no such date).
 */
static int holiday_parse(const char *s, struct cal_holiday *h)
{
	size_t len = strlen(s);

	if ((len != 10 && len != 16) || !digits_ok(s, 4) || s[4] != '-' || !digits_ok(s + 5, 2) ||
	    s[7] != '-' || !digits_ok(s + 8, 2))
		return EINVAL;
	h->year = two_digits(s) * 100 + two_digits(s + 2);
	h->month = two_digits(s + 5);
	h->day = two_digits(s + 8);
	h->close_min = -1;
	if (len == 16) {
		if (s[10] != ' ')
			return EINVAL;
		h->close_min = clock_parse(s + 11);
		if (h->close_min < 0)
			return EINVAL;
	}
	return calendar_date_valid(h->year, h->month, h->day) ? 0 : EDOM;
}

static int holiday_cmp(const void *a, const void *b)
{
	const struct cal_holiday *x = a, *y = b;

	if (x->year != y->year)
		return x->year < y->year ? -1 : 1;
	if (x->month != y->month)
		return x->month < y->month ? -1 : 1;
	return x->day < y->day ? -1 : x->day > y->day;
}

/**
 * Check one holiday and keep it. A short day must shorten a working day: on a day without
 * hours, or closing outside that day's hours, it says something the calendar cannot do.
 *
 * @param file          NULL for the main file, else ld->holidays_path
 * @param line          line in @p file (1 or more)
 * @param hours_usable  calendar.hours is not of a wrong type, so the weekday's hours are what
 *                      the file means
 */
static void add_holiday(struct loader *ld, const char *text, const char *file, int line,
			const char *what, bool hours_usable)
{
	struct cal_holiday h;
	int r = holiday_parse(text, &h);

	if (r == EINVAL) {
		err_file(ld, file, line, "%s: \"%s\" is not \"YYYY-MM-DD\" (closed all day) or "
			 "\"YYYY-MM-DD HH:MM\" (a short day, closing at HH:MM)", what, text);
		return;
	}
	if (r == EDOM) {
		err_file(ld, file, line, "%s: \"%s\": there is no such date", what, text);
		return;
	}
	int wd = calendar_weekday(h.year, h.month, h.day);
	const struct cal_hours *w = &ld->cfg->calendar.week[wd];
	if (h.close_min >= 0 && hours_usable && !ld->hours_bad[wd]) {
		if (w->open_min >= w->close_min) {
			err_file(ld, file, line, "%s: \"%s\" is a short day on a %s, which has no "
				 "working hours (calendar.hours.%s)", what, text, day_names[wd],
				 day_names[wd]);
			return;
		}
		if (h.close_min <= w->open_min || h.close_min >= w->close_min) {
			err_file(ld, file, line, "%s: \"%s\": a short day closes during the day's "
				 "hours, after %02d:%02d and before %02d:%02d", what, text,
				 w->open_min / 60, w->open_min % 60, w->close_min / 60,
				 w->close_min % 60);
			return;
		}
	}
	for (size_t i = 0; i < ld->n_hol; i++) {
		const struct holiday_src *o = &ld->hol[i];
		if (holiday_cmp(&o->h, &h) != 0)
			continue;
		if (o->file == file)
			err_file(ld, file, line, "%s: %.10s is already listed at line %d", what,
				 text, o->line);
		else
			err_file(ld, file, line, "%s: %.10s is already listed at %s:%d", what,
				 text, o->file ? o->file : ld->path, o->line);
		return;
	}
	/* Grows one at a time: a council lists a few dozen days a year. */
	struct holiday_src *v = realloc(ld->hol, (ld->n_hol + 1) * sizeof(*v));
	if (!v) {
		ld->nomem = true;
		return;
	}
	ld->hol = v;
	v[ld->n_hol++] = (struct holiday_src){ .h = h, .file = file, .line = line };
}

/** Is calendar.hours usable: absent (the defaults) or a group? Otherwise its error is reported
 * and short days are not measured against hours the file did not mean. */
static bool hours_known(const config_setting_t *calendar)
{
	const config_setting_t *hours = calendar ? config_setting_get_member(calendar, "hours")
						 : NULL;

	return !hours || config_setting_is_group(hours);
}

/** calendar.holidays = [ "2026-09-21", "2026-09-20 13:00" ]: any order, sorted later. */
static void parse_holidays(struct loader *ld, const struct key *k, const config_setting_t *s,
			   const config_setting_t *grp, const char *where, char *base)
{
	if (!s)
		return;
	if (!is_list(s)) {
		err_at(ld, s, "%s must be a list of dates: [ \"YYYY-MM-DD\", "
		       "\"YYYY-MM-DD HH:MM\" ]", where);
		return;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char w[WHERE_MAX];

		where_idx(w, where, i);
		const char *text = string_value(ld, e, w);
		if (text)
			add_holiday(ld, text, NULL, (int)config_setting_source_line(e), w,
				    hours_known(grp));
	}
}

/**
 * calendar.holidays_file: more holidays, one per line in the same form; '#' starts a comment.
 * The department keeps this list from year to year, so it may live apart from the
 * configuration; its mistakes are reported at its own lines.
 */
static void parse_holidays_file(struct loader *ld, const struct key *k,
				const config_setting_t *s, const config_setting_t *grp,
				const char *where, char *base)
{
	char *line = NULL;
	size_t size = 0;
	int n = 0;

	if (!s)
		return;
	const char *name = string_value(ld, s, where);
	if (!name || !name[0])
		return;
	ld->holidays_path = resolve(ld, name);
	if (!ld->holidays_path)
		return;
	FILE *f = fopen(ld->holidays_path, "r");
	if (!f) {
		err_at(ld, s, "%s: cannot read \"%s\": %s", where, ld->holidays_path,
		       strerror(errno));
		return;
	}
	while (getline(&line, &size, f) >= 0) {
		char *p = line, *end;

		n++;
		p[strcspn(p, "#\r\n")] = '\0';
		p += strspn(p, " \t");
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*p)
			add_holiday(ld, p, ld->holidays_path, n, "holiday", hours_known(grp));
	}
	if (ferror(f))
		err_at(ld, s, "%s: error reading \"%s\": %s", where, ld->holidays_path,
		       strerror(errno));
	free(line);
	fclose(f);
}

/* Done hooks -------------------------------------------------------------------------------- */

static int member_line(const config_setting_t *grp, const char *name)
{
	const config_setting_t *s = grp ? config_setting_get_member(grp, name) : NULL;

	if (!s)
		s = grp;
	return s ? (int)config_setting_source_line(s) : 0;
}

/** Line of the string @p value in @p list, else of the list itself (0 when there is none). */
static int elem_line(const config_setting_t *list, const char *value)
{
	for (int i = 0; list && value && i < config_setting_length(list); i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (v && strcmp(v, value) == 0)
			return (int)config_setting_source_line(e);
	}
	return list ? (int)config_setting_source_line(list) : 0;
}

/**
 * Each call leg takes an even RTP port and the odd RTCP port above it (RFC 3550 §11); a B2BUA
 * call has two legs, so the range must hold at least four ports.
 */
static void media_done(struct loader *ld, const config_setting_t *grp, const char *where,
		       char *base)
{
	const struct dl_media_config *m = (const struct dl_media_config *)base;

	if (!grp || !m->port_min || !m->port_max)
		return;
	int line = member_line(grp, "port_max");
	if (m->port_min >= m->port_max)
		err_line(ld, line, "media.port_max (%u) must be above media.port_min (%u)",
			 m->port_max, m->port_min);
	else if (m->port_max - m->port_min + 1 < 4)
		err_line(ld, line, "media: ports %u-%u hold fewer than 2 call legs (each leg "
			 "takes an even RTP port and the RTCP port above it: at least 4 ports)",
			 m->port_min, m->port_max);
}

/** Report a prompt file missing in any language, once per file. */
static void check_prompt(struct loader *ld, int line, const char *what, const char *name)
{
	const struct dl_config *cfg = ld->cfg;

	if (!ld->prompts_ok || !name || !name_ok(name))
		return;
	for (size_t i = 0; i < cfg->n_languages; i++) {
		char *path = NULL;
		bool seen = false;

		if (!ld->lang_ok[i])
			continue;
		if (asprintf(&path, "%s/%s/%s.wav", cfg->prompt_dir, cfg->languages[i], name) < 0) {
			ld->nomem = true;
			return;
		}
		for (size_t j = 0; j < ld->n_missing && !seen; j++)
			seen = strcmp(ld->missing[j], path) == 0;
		if (seen || is_file(path)) {
			free(path);
			continue;
		}
		err_line(ld, line, "%s: prompt file \"%s\" does not exist", what, path);
		char **v = realloc(ld->missing, (ld->n_missing + 1) * sizeof(*v));
		if (!v) {
			free(path);
			ld->nomem = true;
			return;
		}
		ld->missing = v;
		ld->missing[ld->n_missing++] = path;
	}
}

/** The prompt folder and one folder per language; the menus and trunks after use them. */
static void prompts_done(struct loader *ld, const config_setting_t *grp, const char *where,
			 char *base)
{
	struct dl_config *cfg = (struct dl_config *)base;
	const config_setting_t *langs = grp ? config_setting_get_member(grp, "languages") : NULL;

	if (!cfg->prompt_dir || !cfg->n_languages)
		return;
	if (!is_dir(cfg->prompt_dir)) {
		err_line(ld, member_line(grp, "directory"),
			 "prompts.directory: \"%s\" is not a folder", cfg->prompt_dir);
		return;
	}
	ld->lang_ok = calloc(cfg->n_languages, sizeof(*ld->lang_ok));
	if (!ld->lang_ok) {
		ld->nomem = true;
		return;
	}
	ld->prompts_ok = true;
	for (size_t i = 0; i < cfg->n_languages; i++) {
		char *path = NULL;

		if (asprintf(&path, "%s/%s", cfg->prompt_dir, cfg->languages[i]) < 0) {
			ld->nomem = true;
			return;
		}
		ld->lang_ok[i] = is_dir(path);
		if (!ld->lang_ok[i])
			err_line(ld, elem_line(langs, cfg->languages[i]),
				 "prompts.languages: folder \"%s\" does not exist", path);
		free(path);
	}
	check_prompt(ld, member_line(grp, "ringback"), "prompts.ringback", cfg->ringback_prompt);
}

/** Without a way to send From, the trunk could not tell a resident from us. */
static void trunk_done(struct loader *ld, const config_setting_t *grp, const char *where,
		       char *base)
{
	const struct dl_trunk *t = (const struct dl_trunk *)base;

	if (!t->keep_caller_id && !config_setting_get_member(grp, "from_user") &&
	    config_setting_get_member(grp, "keep_caller_id"))
		err_at(ld, grp, "missing required key \"from_user\" in %s "
		       "(keep_caller_id is false)", where);
}

/** An option without a label is named by its digits in CDRs. */
static void option_done(struct loader *ld, const config_setting_t *grp, const char *where,
			char *base)
{
	struct dl_menu_option *o = (struct dl_menu_option *)base;

	if (!o->label && o->digits)
		o->label = str_dup(ld, o->digits);
}

/**
 * Two options with the same digits: the second could never be chosen. One being a prefix of
 * another is fine — the menu waits inter_digit_timeout_ms for more digits.
 */
static void menu_done(struct loader *ld, const config_setting_t *grp, const char *where,
		      char *base)
{
	const struct dl_menu *m = (const struct dl_menu *)base;

	for (size_t i = 0; i < m->n_options; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!m->options[i].digits || !m->options[j].digits ||
			    strcmp(m->options[i].digits, m->options[j].digits) != 0)
				continue;
			err_line(ld, m->options[i].line, "%s.options: digits \"%s\" are already "
				 "used at line %d", where, m->options[i].digits,
				 m->options[j].line);
			break;
		}
	}

	char w[WHERE_MAX];
	where_key(w, where, "greeting");
	check_prompt(ld, member_line(grp, "greeting"), w, m->greeting);
	where_key(w, where, "invalid_prompt");
	check_prompt(ld, member_line(grp, "invalid_prompt"), w, m->invalid_prompt);
	where_key(w, where, "timeout_prompt");
	check_prompt(ld, member_line(grp, "timeout_prompt"), w, m->timeout_prompt);
}

/** RFC 3261 §10.3 step 7: a shorter Expires is refused (423 with Min-Expires), a longer one cut
 * down; the default a REGISTER without Expires gets must lie in that range too. */
static void registrar_done(struct loader *ld, const config_setting_t *grp, const char *where,
			   char *base)
{
	const struct dl_registrar *r = (const struct dl_registrar *)base;

	/* 0: a value out of range, reported already. */
	if (!r->min_expires_s || !r->max_expires_s || !r->default_expires_s)
		return;
	if (r->min_expires_s > r->max_expires_s)
		err_line(ld, member_line(grp, "max_expires_s"), "registrar.max_expires_s (%u) must "
			 "not be below registrar.min_expires_s (%u)", r->max_expires_s,
			 r->min_expires_s);
	else if (r->default_expires_s < r->min_expires_s ||
		 r->default_expires_s > r->max_expires_s)
		err_line(ld, member_line(grp, "default_expires_s"), "registrar.default_expires_s "
			 "(%u) must be from min_expires_s (%u) to max_expires_s (%u)",
			 r->default_expires_s, r->min_expires_s, r->max_expires_s);
}

/** The feature codes of struct dl_features, for the checks that compare them. */
static const struct {
	const char *key;
	size_t off;
} feature_codes[] = {
	{ "login", OFF(dl_features, login) },
	{ "logout", OFF(dl_features, logout) },
	{ "break_start", OFF(dl_features, break_start) },
	{ "break_end", OFF(dl_features, break_end) },
};
#define N_FEATURE_CODES (sizeof(feature_codes) / sizeof(feature_codes[0]))

static const char *feature_code(const struct dl_features *f, size_t i)
{
	return get_ptr((const char *)f + feature_codes[i].off);
}

/**
 * A clerk dials a feature code where a resident dials a department number: the two must differ
 * or one of them could never be reached. A default code clashes with a number the file does
 * give, so that is where the message points.
 */
static void features_done(struct loader *ld, const config_setting_t *grp, const char *where,
			  char *base)
{
	const struct dl_features *f = (const struct dl_features *)base;
	const config_setting_t *sip = config_setting_get_member(ld->root, "sip");
	const config_setting_t *numbers = sip ? config_setting_get_member(sip, "numbers") : NULL;

	for (size_t i = 0; i < N_FEATURE_CODES; i++) {
		const char *key = feature_codes[i].key;
		const char *code = feature_code(f, i);
		const config_setting_t *s = grp ? config_setting_get_member(grp, key) : NULL;
		bool twice = false;

		if (!code)
			continue;
		for (size_t j = 0; j < i && !twice; j++) {
			const char *other = feature_code(f, j);
			if (!other || strcmp(code, other) != 0)
				continue;
			/* At the one the file gives when the other is a default. */
			err_line(ld, s ? member_line(grp, key)
				       : member_line(grp, feature_codes[j].key),
				 "features.%s: \"%s\" is already features.%s", key, code,
				 feature_codes[j].key);
			twice = true;
		}
		if (twice || !config_is_number(ld->cfg, code))
			continue;
		if (s)
			err_at(ld, s, "features.%s: \"%s\" is also a department number "
			       "(sip.numbers)", key, code);
		else
			err_line(ld, elem_line(numbers, code), "sip.numbers: \"%s\" is also the "
				 "feature code features.%s (its default): choose another number or "
				 "set features.%s", code, key, key);
	}
	check_prompt(ld, member_line(grp, "ok_prompt"), "features.ok_prompt", f->ok_prompt);
	check_prompt(ld, member_line(grp, "error_prompt"), "features.error_prompt",
		     f->error_prompt);
}

static void queue_done(struct loader *ld, const config_setting_t *grp, const char *where,
		       char *base)
{
	const struct dl_queue *q = (const struct dl_queue *)base;
	const config_setting_t *wait = config_setting_get_member(grp, "max_wait_ms");
	char w[WHERE_MAX];

	where_key(w, where, "music");
	check_prompt(ld, member_line(grp, "music"), w, q->music);

	/* max_wait_ms = 0 leaves only max_attempts, which counts clerks rung: while no clerk is
	 * available none is rung, so a caller waiting for one would wait for ever. */
	if (q->wait_for_clerk && wait && (config_setting_type(wait) == CONFIG_TYPE_INT ||
					  config_setting_type(wait) == CONFIG_TYPE_INT64) &&
	    config_setting_get_int64(wait) == 0)
		err_line(ld, member_line(grp, "wait_for_clerk"), "%s.wait_for_clerk needs "
			 "max_wait_ms above 0: with no clerk available the caller would wait for "
			 "ever", where);
}

/**
 * An extension is dialed like a department number or a feature code, so it must be neither.
 * Nor may a feature code start with it, or it with one: a desk phone whose dial plan sends as
 * soon as the digits match an entry (a digit map) would never let the longer one be dialed.
 */
static void check_clerk_extension(struct loader *ld, const config_setting_t *grp,
				  const char *where, const struct dl_clerk *c, size_t self)
{
	const struct dl_config *cfg = ld->cfg;
	const char *ext = c->extension;
	int line = member_line(grp, "extension");

	for (size_t j = 0; j < self; j++) {
		const struct dl_clerk *o = &cfg->clerks[j];
		if (!o->extension || strcmp(o->extension, ext) != 0)
			continue;
		err_line(ld, line, "%s.extension: \"%s\" is already the extension of the clerk "
			 "at line %d", where, ext, o->line);
		return;
	}
	if (config_is_number(cfg, ext)) {
		err_line(ld, line, "%s.extension: \"%s\" is also a department number "
			 "(sip.numbers)", where, ext);
		return;
	}
	for (size_t i = 0; i < N_FEATURE_CODES; i++) {
		const char *code = feature_code(&cfg->features, i);
		size_t n;

		if (!code)
			continue;
		n = strlen(code) < strlen(ext) ? strlen(code) : strlen(ext);
		if (strncmp(code, ext, n) != 0)
			continue;
		if (strcmp(code, ext) == 0)
			err_line(ld, line, "%s.extension: \"%s\" is also the feature code "
				 "features.%s", where, ext, feature_codes[i].key);
		else
			err_line(ld, line, "%s.extension: \"%s\" and the feature code features.%s "
				 "(\"%s\") must not start one another", where, ext,
				 feature_codes[i].key, code);
		return;
	}
}

/** Runs with the clerks before this one loaded (the array is filled in file order). */
static void clerk_done(struct loader *ld, const config_setting_t *grp, const char *where,
		       char *base)
{
	const struct dl_config *cfg = ld->cfg;
	struct dl_clerk *c = (struct dl_clerk *)base;
	size_t self = (size_t)(c - cfg->clerks);
	const config_setting_t *queues = config_setting_get_member(grp, "queues");

	if (!c->name && c->id)
		c->name = str_dup(ld, c->id);
	for (size_t j = 0; c->id && j < self; j++) {
		if (!cfg->clerks[j].id || strcmp(cfg->clerks[j].id, c->id) != 0)
			continue;
		err_line(ld, member_line(grp, "id"), "%s.id: \"%s\" is already the id of the "
			 "clerk at line %d", where, c->id, cfg->clerks[j].line);
		break;
	}
	if (c->extension)
		check_clerk_extension(ld, grp, where, c, self);
	/* The queues section is walked before the clerks. */
	for (size_t i = 0; i < c->n_queues; i++) {
		if (!config_queue(cfg, c->queues[i]))
			err_line(ld, elem_line(queues, c->queues[i]), "%s.queues: queue \"%s\" "
				 "does not exist", where, c->queues[i]);
	}
}

/**
 * The node name defaults to the host name: unique per machine and the same after a restart,
 * which is what the agent database needs of it (dl_config.node_id).
 */
static void redis_done(struct loader *ld, const config_setting_t *grp, const char *where,
		       char *base)
{
	struct dl_config *cfg = (struct dl_config *)base;
	char host[HOST_NAME_MAX + 1];

	if (cfg->node_id || (grp && config_setting_get_member(grp, "node")))
		return;
	/* POSIX leaves a truncated name without its NUL. */
	host[sizeof(host) - 1] = '\0';
	if (gethostname(host, sizeof(host) - 1) != 0 || !node_ok(host)) {
		err_at(ld, grp, "redis.node: the host name cannot be used as the node name "
		       "(letters, digits and - _ . only): set redis.node");
		return;
	}
	cfg->node_id = str_dup(ld, host);
}

/**
 * The holidays, sorted for calendar.c's binary search. A week without any working hours would
 * leave every inquiry without a due time (calendar_due_civil: ENOENT).
 */
static void calendar_done(struct loader *ld, const config_setting_t *grp, const char *where,
			  char *base)
{
	struct dl_calendar *cal = &((struct dl_config *)base)->calendar;
	bool open = false, bad = false;

	for (size_t i = 0; i < 7; i++) {
		open |= cal->week[i].open_min < cal->week[i].close_min;
		bad |= ld->hours_bad[i];
	}
	if (!open && !bad && hours_known(grp))
		err_line(ld, member_line(grp, "hours"), "calendar.hours: no day has working hours, "
			 "so no inquiry could ever be due");

	if (!ld->n_hol)
		return;
	cal->holidays = calloc(ld->n_hol, sizeof(*cal->holidays));
	if (!cal->holidays) {
		ld->nomem = true;
		return;
	}
	for (size_t i = 0; i < ld->n_hol; i++)
		cal->holidays[i] = ld->hol[i].h;
	cal->n_holidays = ld->n_hol;
	qsort(cal->holidays, cal->n_holidays, sizeof(*cal->holidays), holiday_cmp);
}

/**
 * A trunk that opens tickets needs the address they are mailed to (Procedure 46 §4: the
 * inquiry is sent to the department by e-mail). The three headers go on one INVITE, so they
 * must differ; header names are case-insensitive (RFC 3261 §7.3.1).
 */
static void tickets_done(struct loader *ld, const config_setting_t *grp, const char *where,
			 char *base)
{
	const struct dl_tickets *t = (const struct dl_tickets *)base;
	const struct dl_config *cfg = ld->cfg;
	static const struct {
		const char *key;
		size_t off;
	} headers[] = {
		{ "header_ticket", OFF(dl_tickets, header_ticket) },
		{ "header_menu_path", OFF(dl_tickets, header_menu_path) },
		{ "header_reason", OFF(dl_tickets, header_reason) },
	};

	for (size_t i = 0; i < 3; i++) {
		const char *name = get_ptr((const char *)t + headers[i].off);
		for (size_t j = 0; name && j < i; j++) {
			const char *other = get_ptr((const char *)t + headers[j].off);
			if (!other || strcasecmp(name, other) != 0)
				continue;
			/* At the one the file gives when the other is a default. */
			bool here = grp && config_setting_get_member(grp, headers[i].key);
			err_line(ld, member_line(grp, here ? headers[i].key : headers[j].key),
				 "tickets.%s: \"%s\" is already tickets.%s", headers[i].key, name,
				 headers[j].key);
			break;
		}
	}

	/* Given but wrong: reported where it is written. */
	if (t->department_email || (grp && config_setting_get_member(grp, "department_email")))
		return;
	for (size_t i = 0; i < cfg->n_trunks; i++) {
		const struct dl_trunk *tr = &cfg->trunks[i];
		if (!tr->opens_ticket)
			continue;
		if (grp) {
			err_at(ld, grp, "missing required key \"department_email\" in tickets "
			       "(trunk \"%s\" opens tickets, which are mailed there)", tr->name);
		} else {
			const config_setting_t *trunks = config_setting_get_member(ld->root,
										   "trunks");
			const config_setting_t *g = trunks && tr->name ?
				config_setting_get_member(trunks, tr->name) : NULL;
			err_line(ld, member_line(g, "opens_ticket"), "trunks.%s.opens_ticket: "
				 "tickets are mailed to tickets.department_email, which is missing",
				 tr->name);
		}
		return;
	}
}

/** Was @p key written with something other than ""? (Then a NULL field means its error was
 * reported.) */
static bool given(const config_setting_t *grp, const char *key)
{
	const config_setting_t *s = grp ? config_setting_get_member(grp, key) : NULL;
	const char *v;

	if (!s)
		return false;
	v = config_setting_get_string(s);
	return !v || v[0];
}

/** SMTP AUTH needs both (RFC 4954); one without the other is a half-finished edit. */
static void smtp_done(struct loader *ld, const config_setting_t *grp, const char *where,
		      char *base)
{
	const struct dl_smtp *m = (const struct dl_smtp *)base;

	if (m->username && !m->password && !given(grp, "password"))
		err_line(ld, member_line(grp, "username"), "smtp.username needs smtp.password");
	else if (m->password && !m->username && !given(grp, "username"))
		err_line(ld, member_line(grp, "password"), "smtp.password is given without "
			 "smtp.username");
}

static ssize_t menu_index(const struct dl_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_menus; i++) {
		if (cfg->menus[i].name && strcmp(cfg->menus[i].name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/** What each action names must exist: menus, trunks, languages, queues, prompt files. */
static void check_references(struct loader *ld, const struct dl_action_list *l)
{
	const struct dl_config *cfg = ld->cfg;

	for (size_t i = 0; i < l->n; i++) {
		const struct dl_action *a = &l->v[i];
		bool known = false;
		char what[WHERE_MAX];

		switch (a->type) {
		case DL_ACT_MENU:
			if (!config_menu(cfg, a->arg))
				err_line(ld, a->line, "menu \"%s\" does not exist", a->arg);
			break;
		case DL_ACT_TRUNK:
			if (!config_trunk(cfg, a->arg))
				err_line(ld, a->line, "trunk \"%s\" does not exist", a->arg);
			break;
		case DL_ACT_LANG:
			for (size_t j = 0; j < cfg->n_languages; j++)
				known |= strcmp(cfg->languages[j], a->arg) == 0;
			if (!known && cfg->n_languages)
				err_line(ld, a->line, "language \"%s\" is not in prompts.languages",
					 a->arg);
			break;
		case DL_ACT_QUEUE:
			if (!config_queue(cfg, a->arg))
				err_line(ld, a->line, "queue \"%s\" does not exist%s", a->arg,
					 cfg->n_queues ? "" : " (the file has no queues)");
			break;
		case DL_ACT_PLAY:
			snprintf(what, sizeof(what), "play:%s", a->arg);
			check_prompt(ld, a->line, what, a->arg);
			break;
		case DL_ACT_HANGUP:
			break;
		}
	}
}

static ssize_t queue_index(const struct dl_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_queues; i++) {
		if (cfg->queues[i].name && strcmp(cfg->queues[i].name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static bool list_leads_out(const struct dl_config *cfg, const bool *out,
			   const struct dl_action_list *l)
{
	const struct dl_action *end = list_end(l);

	if (!end)
		return false;  /* only plays: the caller stays in the menu */
	if (end->type == DL_ACT_MENU) {
		ssize_t j = menu_index(cfg, end->arg);
		return j >= 0 && out[j];
	}
	return true;           /* trunk, queue, hangup */
}

/** Does a queue's on_overflow lead out, given the menus (@p mout) and queues (@p qout) that do? */
static bool overflow_leads_out(const struct dl_config *cfg, const bool *mout, const bool *qout,
			       const struct dl_queue *q)
{
	const struct dl_action *end = list_end(&q->on_overflow);
	ssize_t j;

	if (!end)
		return false;  /* only plays: nothing is left to do with the caller */
	switch (end->type) {
	case DL_ACT_MENU:
		/* A menu or queue that does not exist is reported as such, not again here. */
		j = menu_index(cfg, end->arg);
		return j < 0 || mout[j];
	case DL_ACT_QUEUE:
		if (strcmp(end->arg, q->name) == 0)
			return false;
		j = queue_index(cfg, end->arg);
		return j < 0 || qout[j];
	default:
		return true;   /* trunk, hangup */
	}
}

/**
 * A menu counts a queue as a way out (a clerk may answer), but a queue's on_overflow runs when
 * none does, so it must get the caller somewhere without one: a trunk, hangup, a menu with a
 * way out, or another queue whose overflow does. Least fixed point again, over the queues.
 */
static void check_overflow_exits(struct loader *ld, const bool *mout)
{
	const struct dl_config *cfg = ld->cfg;
	bool *qout = calloc(cfg->n_queues ? cfg->n_queues : 1, sizeof(*qout));
	bool changed = true;

	if (!qout) {
		ld->nomem = true;
		return;
	}
	while (changed) {
		changed = false;
		for (size_t i = 0; i < cfg->n_queues; i++) {
			if (qout[i] || !overflow_leads_out(cfg, mout, qout, &cfg->queues[i]))
				continue;
			qout[i] = true;
			changed = true;
		}
	}
	for (size_t i = 0; i < cfg->n_queues; i++) {
		const struct dl_queue *q = &cfg->queues[i];
		const struct dl_action *end = list_end(&q->on_overflow);

		/* Empty: its actions were wrong or missing, and are reported. */
		if (qout[i] || !q->on_overflow.n)
			continue;
		if (end && end->type == DL_ACT_QUEUE && strcmp(end->arg, q->name) == 0)
			err_line(ld, end->line, "queue \"%s\": on_overflow sends the caller back "
				 "into the queue it overflowed from", q->name);
		else
			err_line(ld, q->on_overflow.v[q->on_overflow.n - 1].line, "queue \"%s\": "
				 "on_overflow has no way out: no trunk, hangup or menu with a way "
				 "out can be reached from it", q->name);
	}
	free(qout);
}

/** A queue nobody serves would send every caller to its overflow: a mistake, not a policy. */
static void check_queue_clerks(struct loader *ld)
{
	const struct dl_config *cfg = ld->cfg;

	for (size_t i = 0; i < cfg->n_queues; i++) {
		const struct dl_queue *q = &cfg->queues[i];
		bool served = false;

		for (size_t j = 0; j < cfg->n_clerks && !served; j++) {
			for (size_t k = 0; k < cfg->clerks[j].n_queues && !served; k++)
				served = strcmp(cfg->clerks[j].queues[k], q->name) == 0;
		}
		if (!served)
			err_line(ld, q->line, "queue \"%s\" has no clerks: no clerk lists it in "
				 "queues", q->name);
	}
}

/**
 * calendar.closed replaces the start menu outside business hours, so like a menu it must get the
 * caller somewhere: a trunk, queue, hangup or a menu with a way out. Empty: the menu as usual.
 */
static void check_closed_exit(struct loader *ld, const bool *mout)
{
	const struct dl_action_list *l = &ld->cfg->on_closed;
	const struct dl_action *end = list_end(l);
	const config_setting_t *cal = config_setting_get_member(ld->root, "calendar");
	const config_setting_t *s = cal ? config_setting_get_member(cal, "closed") : NULL;

	/* Empty, or an action was left out as wrong (reported): nothing more to say. */
	if (!l->n || (s && is_list(s) && (size_t)config_setting_length(s) != l->n))
		return;
	if (end && end->type == DL_ACT_MENU) {
		/* A menu that does not exist is reported as such, not again here. */
		ssize_t j = menu_index(ld->cfg, end->arg);
		if (j < 0 || mout[j])
			return;
	} else if (end) {
		return;
	}
	err_line(ld, l->v[l->n - 1].line, "calendar.closed has no way out: it must end in a "
		 "trunk, queue, hangup or a menu with a way out");
}

/**
 * A menu has a way out when one of its lists ends in a trunk, queue or hangup, or goes to a menu
 * that has one. Computed as a least fixed point: every pass marks at least one more menu or
 * stops, so at most n_menus + 1 passes over all options.
 */
static void check_exits(struct loader *ld)
{
	const struct dl_config *cfg = ld->cfg;
	bool *out = calloc(cfg->n_menus ? cfg->n_menus : 1, sizeof(*out));
	bool changed = true;

	if (!out) {
		ld->nomem = true;
		return;
	}
	while (changed) {
		changed = false;
		for (size_t i = 0; i < cfg->n_menus; i++) {
			const struct dl_menu *m = &cfg->menus[i];
			bool o = out[i] || list_leads_out(cfg, out, &m->on_max_failures) ||
				 list_leads_out(cfg, out, &m->on_max_timeouts);
			for (size_t j = 0; j < m->n_options && !o; j++)
				o = list_leads_out(cfg, out, &m->options[j].actions);
			if (o && !out[i]) {
				out[i] = true;
				changed = true;
			}
		}
	}
	for (size_t i = 0; i < cfg->n_menus; i++) {
		if (!out[i])
			err_line(ld, cfg->menus[i].line, "menu \"%s\" has no way out: no trunk, "
				 "queue or hangup can be reached from it", cfg->menus[i].name);
	}
	check_overflow_exits(ld, out);
	check_closed_exit(ld, out);
	free(out);
}

/** Checks that need the whole file. */
static void root_done(struct loader *ld, const config_setting_t *root, const char *where,
		      char *base)
{
	struct dl_config *cfg = (struct dl_config *)base;
	const config_setting_t *sip = config_setting_get_member(root, "sip");

	/* Out of memory: names may be missing, and the load fails with ENOMEM anyway. */
	if (ld->nomem)
		return;

	/* With no menu at all, "menus" is already reported. */
	if (cfg->start_menu && cfg->n_menus && !config_menu(cfg, cfg->start_menu))
		err_line(ld, member_line(sip, "start_menu"), "sip.start_menu: menu \"%s\" does not "
			 "exist", cfg->start_menu);

	for (size_t i = 0; i < cfg->n_trunks; i++)
		check_references(ld, &cfg->trunks[i].on_failure);
	for (size_t i = 0; i < cfg->n_menus; i++) {
		const struct dl_menu *m = &cfg->menus[i];
		for (size_t j = 0; j < m->n_options; j++)
			check_references(ld, &m->options[j].actions);
		check_references(ld, &m->on_max_failures);
		check_references(ld, &m->on_max_timeouts);
	}
	for (size_t i = 0; i < cfg->n_queues; i++) {
		check_references(ld, &cfg->queues[i].on_overflow);
		check_references(ld, &cfg->queues[i].on_closed);
	}
	check_references(ld, &cfg->on_closed);
	check_queue_clerks(ld);
	check_exits(ld);
}

/* The tables -------------------------------------------------------------------------------- */

/* Keys are parsed in table order, not file order: "action" before "headers" (headers attach to
 * the trunk action), and sections in the order their checks need them (prompts before the
 * trunks and menus that name prompts). */

static const struct key option_keys[] = {
	{ .name = "digits", .type = KT_STRING, .off = OFF(dl_menu_option, digits),
	  .required = true, .check = check_digits },
	{ .name = "label", .type = KT_STRING, .off = OFF(dl_menu_option, label),
	  .check = check_text },
	{ .name = "action", .type = KT_ACTIONS, .off = OFF(dl_menu_option, actions),
	  .required = true },
	{ .name = "headers", .type = KT_CUSTOM, .off = OFF(dl_menu_option, actions),
	  .parse = parse_headers },
};
static const struct table option_table = TABLE(option_keys,
	.size = sizeof(struct dl_menu_option), .line_off = OFF(dl_menu_option, line),
	.done = option_done);

static const struct key menu_keys[] = {
	{ .name = "greeting", .type = KT_STRING, .off = OFF(dl_menu, greeting),
	  .check = check_name },
	{ .name = "invalid_prompt", .type = KT_STRING, .off = OFF(dl_menu, invalid_prompt),
	  .check = check_name },
	{ .name = "timeout_prompt", .type = KT_STRING, .off = OFF(dl_menu, timeout_prompt),
	  .check = check_name },
	{ .name = "first_digit_timeout_ms", .type = KT_UINT,
	  .off = OFF(dl_menu, first_digit_timeout_ms), .min = 100, .max = 600000,
	  .def_int = 5000 },
	{ .name = "inter_digit_timeout_ms", .type = KT_UINT,
	  .off = OFF(dl_menu, inter_digit_timeout_ms), .min = 100, .max = 600000,
	  .def_int = 2000 },
	{ .name = "max_failures", .type = KT_UINT, .off = OFF(dl_menu, max_failures),
	  .min = 1, .max = 100, .def_int = 3 },
	{ .name = "max_timeouts", .type = KT_UINT, .off = OFF(dl_menu, max_timeouts),
	  .min = 1, .max = 100, .def_int = 3 },
	{ .name = "on_max_failures", .type = KT_ACTIONS, .off = OFF(dl_menu, on_max_failures),
	  .def_str = "hangup" },
	{ .name = "on_max_timeouts", .type = KT_ACTIONS, .off = OFF(dl_menu, on_max_timeouts),
	  .def_str = "hangup" },
	{ .name = "options", .type = KT_LIST, .off = OFF(dl_menu, options),
	  .count_off = OFF(dl_menu, n_options), .sub = &option_table },
};
static const struct table menu_table = TABLE(menu_keys,
	.size = sizeof(struct dl_menu), .name_off = OFF(dl_menu, name),
	.line_off = OFF(dl_menu, line), .done = menu_done);

static const struct key trunk_keys[] = {
	{ .name = "uri", .type = KT_STRING, .off = OFF(dl_trunk, uri), .required = true,
	  .check = check_sip_uri },
	{ .name = "sources", .type = KT_STRINGS, .off = OFF(dl_trunk, sources),
	  .count_off = OFF(dl_trunk, n_sources), .unique = true, .check = check_ip },
	{ .name = "ring_timeout_ms", .type = KT_UINT, .off = OFF(dl_trunk, ring_timeout_ms),
	  .min = 1000, .max = 600000, .def_int = 30000 },
	{ .name = "keep_caller_id", .type = KT_BOOL, .off = OFF(dl_trunk, keep_caller_id),
	  .def_int = true },
	{ .name = "from_user", .type = KT_STRING, .off = OFF(dl_trunk, from_user),
	  .check = check_sip_user },
	{ .name = "on_failure", .type = KT_ACTIONS, .off = OFF(dl_trunk, on_failure) },
	{ .name = "opens_ticket", .type = KT_BOOL, .off = OFF(dl_trunk, opens_ticket) },
};
static const struct table trunk_table = TABLE(trunk_keys,
	.size = sizeof(struct dl_trunk), .name_off = OFF(dl_trunk, name),
	.line_off = OFF(dl_trunk, line), .done = trunk_done);

static const struct key sip_keys[] = {
	{ .name = "listen", .type = KT_STRINGS, .off = OFF(dl_config, listen),
	  .count_off = OFF(dl_config, n_listen), .required = true, .min = 1, .unique = true,
	  .check = check_sip_uri },
	{ .name = "numbers", .type = KT_STRINGS, .off = OFF(dl_config, numbers),
	  .count_off = OFF(dl_config, n_numbers), .required = true, .min = 1, .unique = true,
	  .check = check_sip_user },
	{ .name = "user_agent", .type = KT_STRING, .off = OFF(dl_config, user_agent),
	  .def_str = "deskline", .check = check_text },
	{ .name = "start_menu", .type = KT_STRING, .off = OFF(dl_config, start_menu),
	  .required = true },
};
static const struct table sip_table = TABLE(sip_keys);

static const struct key media_keys[] = {
	{ .name = "address", .type = KT_STRING, .off = OFF(dl_media_config, address),
	  .required = true, .check = check_media_address },
	{ .name = "port_min", .type = KT_U16, .off = OFF(dl_media_config, port_min),
	  .required = true, .min = 1024, .max = 65534, .step = 2 },
	{ .name = "port_max", .type = KT_U16, .off = OFF(dl_media_config, port_max),
	  .required = true, .min = 1024, .max = 65535 },
	{ .name = "codecs", .type = KT_CUSTOM, .off = OFF(dl_media_config, codecs),
	  .count_off = OFF(dl_media_config, n_codecs), .parse = parse_codecs },
	{ .name = "ptime_ms", .type = KT_UINT, .off = OFF(dl_media_config, ptime_ms),
	  .min = 10, .max = 60, .step = 10, .def_int = 20 },
	{ .name = "rtp_timeout_ms", .type = KT_UINT, .off = OFF(dl_media_config, rtp_timeout_ms),
	  .min = 0, .max = 3600000, .def_int = 30000 },
	{ .name = "inband_dtmf", .type = KT_CUSTOM, .off = OFF(dl_media_config, inband_dtmf),
	  .parse = parse_inband_dtmf },
	/* RFC 3551 §3: 96-127 is the dynamic payload type range. */
	{ .name = "telephone_event_pt", .type = KT_U8,
	  .off = OFF(dl_media_config, telephone_event_pt), .min = 96, .max = 127, .def_int = 101 },
	{ .name = "workers", .type = KT_UINT, .off = OFF(dl_media_config, workers),
	  .min = 0, .max = DL_MEDIA_WORKERS_MAX, .def_int = 0 },
	{ .name = "io_uring", .type = KT_BOOL, .off = OFF(dl_media_config, io_uring),
	  .def_int = 1 },
};
static const struct table media_table = TABLE(media_keys, .done = media_done);

static const struct key prompts_keys[] = {
	{ .name = "directory", .type = KT_PATH, .off = OFF(dl_config, prompt_dir),
	  .required = true },
	{ .name = "languages", .type = KT_STRINGS, .off = OFF(dl_config, languages),
	  .count_off = OFF(dl_config, n_languages), .required = true, .min = 1, .unique = true,
	  .check = check_name },
	{ .name = "ringback", .type = KT_STRING, .off = OFF(dl_config, ringback_prompt),
	  .empty_null = true, .check = check_name },
};
static const struct table prompts_table = TABLE(prompts_keys, .done = prompts_done);

/* RFC 3261 §10.2.1.1 suggests 3600 s as a client's default; a day bounds how long a phone that
 * vanished keeps its binding. */
static const struct key registrar_keys[] = {
	{ .name = "realm", .type = KT_STRING, .off = OFF(dl_registrar, realm),
	  .def_str = "deskline", .check = check_quotable },
	{ .name = "min_expires_s", .type = KT_UINT, .off = OFF(dl_registrar, min_expires_s),
	  .min = 1, .max = 86400, .def_int = 60 },
	{ .name = "max_expires_s", .type = KT_UINT, .off = OFF(dl_registrar, max_expires_s),
	  .min = 1, .max = 86400, .def_int = 3600 },
	{ .name = "default_expires_s", .type = KT_UINT,
	  .off = OFF(dl_registrar, default_expires_s), .min = 1, .max = 86400, .def_int = 600 },
	{ .name = "nonce_ttl_s", .type = KT_UINT, .off = OFF(dl_registrar, nonce_ttl_s),
	  .min = 10, .max = 86400, .def_int = 300 },
};
static const struct table registrar_table = TABLE(registrar_keys, .done = registrar_done);

static const struct key features_keys[] = {
	{ .name = "login", .type = KT_STRING, .off = OFF(dl_features, login),
	  .def_str = "*21", .check = check_feature_code },
	{ .name = "logout", .type = KT_STRING, .off = OFF(dl_features, logout),
	  .def_str = "*22", .check = check_feature_code },
	{ .name = "break_start", .type = KT_STRING, .off = OFF(dl_features, break_start),
	  .def_str = "*23", .check = check_feature_code },
	{ .name = "break_end", .type = KT_STRING, .off = OFF(dl_features, break_end),
	  .def_str = "*24", .check = check_feature_code },
	{ .name = "ok_prompt", .type = KT_STRING, .off = OFF(dl_features, ok_prompt),
	  .empty_null = true, .check = check_name },
	{ .name = "error_prompt", .type = KT_STRING, .off = OFF(dl_features, error_prompt),
	  .empty_null = true, .check = check_name },
};
static const struct table features_table = TABLE(features_keys, .done = features_done);

static const struct key queue_keys[] = {
	{ .name = "strategy", .type = KT_CUSTOM, .off = OFF(dl_queue, strategy),
	  .parse = parse_strategy },
	{ .name = "music", .type = KT_STRING, .off = OFF(dl_queue, music), .empty_null = true,
	  .check = check_name },
	{ .name = "ring_timeout_ms", .type = KT_UINT, .off = OFF(dl_queue, ring_timeout_ms),
	  .min = 1000, .max = 300000, .def_int = 15000 },
	/* 0: no time limit, only max_attempts. */
	{ .name = "max_wait_ms", .type = KT_UINT, .off = OFF(dl_queue, max_wait_ms),
	  .min = 0, .max = 3600000, .def_int = 90000 },
	{ .name = "max_attempts", .type = KT_UINT, .off = OFF(dl_queue, max_attempts),
	  .min = 1, .max = 100, .def_int = 6 },
	{ .name = "wrap_up_ms", .type = KT_UINT, .off = OFF(dl_queue, wrap_up_ms),
	  .min = 0, .max = 3600000, .def_int = 30000 },
	{ .name = "max_no_answer", .type = KT_UINT, .off = OFF(dl_queue, max_no_answer),
	  .min = 1, .max = 100, .def_int = 3 },
	{ .name = "wait_for_clerk", .type = KT_BOOL, .off = OFF(dl_queue, wait_for_clerk) },
	{ .name = "on_overflow", .type = KT_ACTIONS, .off = OFF(dl_queue, on_overflow),
	  .required = true },
	{ .name = "on_closed", .type = KT_ACTIONS, .off = OFF(dl_queue, on_closed),
	  .empty_null = true },
};
static const struct table queue_table = TABLE(queue_keys,
	.size = sizeof(struct dl_queue), .name_off = OFF(dl_queue, name),
	.line_off = OFF(dl_queue, line), .done = queue_done);

/* "id" before "password": the password is hashed with the id. */
static const struct key clerk_keys[] = {
	{ .name = "id", .type = KT_STRING, .off = OFF(dl_clerk, id), .required = true,
	  .check = check_clerk_id },
	{ .name = "extension", .type = KT_STRING, .off = OFF(dl_clerk, extension),
	  .required = true, .check = check_extension },
	{ .name = "name", .type = KT_STRING, .off = OFF(dl_clerk, name),
	  .check = check_quotable },
	{ .name = "email", .type = KT_STRING, .off = OFF(dl_clerk, email), .required = true,
	  .check = check_email },
	{ .name = "ha1", .type = KT_STRING, .off = OFF(dl_clerk, ha1), .lower = true,
	  .check = check_ha1 },
	/* Fills ha1 as well; freed through the "ha1" entry. */
	{ .name = "password", .type = KT_CUSTOM, .off = OFF(dl_clerk, ha1),
	  .parse = parse_password },
	{ .name = "queues", .type = KT_STRINGS, .off = OFF(dl_clerk, queues),
	  .count_off = OFF(dl_clerk, n_queues), .unique = true, .check = check_name },
};
static const struct table clerk_table = TABLE(clerk_keys,
	.size = sizeof(struct dl_clerk), .line_off = OFF(dl_clerk, line), .done = clerk_done);

/* Days left out of calendar.hours keep these: Sunday–Thursday 08:00–16:00 (Procedure 46 §6). */
static const struct key hours_keys[] = {
	{ .name = "sunday", .type = KT_CUSTOM, .off = 0 * sizeof(struct cal_hours),
	  .def_str = "08:00-16:00", .parse = parse_day_hours },
	{ .name = "monday", .type = KT_CUSTOM, .off = 1 * sizeof(struct cal_hours),
	  .def_str = "08:00-16:00", .parse = parse_day_hours },
	{ .name = "tuesday", .type = KT_CUSTOM, .off = 2 * sizeof(struct cal_hours),
	  .def_str = "08:00-16:00", .parse = parse_day_hours },
	{ .name = "wednesday", .type = KT_CUSTOM, .off = 3 * sizeof(struct cal_hours),
	  .def_str = "08:00-16:00", .parse = parse_day_hours },
	{ .name = "thursday", .type = KT_CUSTOM, .off = 4 * sizeof(struct cal_hours),
	  .def_str = "08:00-16:00", .parse = parse_day_hours },
	{ .name = "friday", .type = KT_CUSTOM, .off = 5 * sizeof(struct cal_hours),
	  .def_str = "", .parse = parse_day_hours },
	{ .name = "saturday", .type = KT_CUSTOM, .off = 6 * sizeof(struct cal_hours),
	  .def_str = "", .parse = parse_day_hours },
};
static const struct table hours_table = TABLE(hours_keys);

/* "hours" before the holidays: a short day is checked against its weekday's hours. The
 * holidays are freed in config_free (they are built in calendar_done, not by a key). */
static const struct key calendar_keys[] = {
	{ .name = "timezone", .type = KT_STRING, .off = OFF(dl_config, calendar.timezone),
	  .def_str = "Asia/Jerusalem", .check = check_timezone },
	{ .name = "hours", .type = KT_SECTION, .off = OFF(dl_config, calendar.week),
	  .sub = &hours_table },
	{ .name = "holidays", .type = KT_CUSTOM, .parse = parse_holidays },
	{ .name = "holidays_file", .type = KT_CUSTOM, .parse = parse_holidays_file },
	{ .name = "closed", .type = KT_ACTIONS, .off = OFF(dl_config, on_closed),
	  .empty_null = true },
};
static const struct table calendar_table = TABLE(calendar_keys, .done = calendar_done);

/* department_email is required only when a trunk opens tickets: tickets_done. */
static const struct key tickets_keys[] = {
	{ .name = "spool_dir", .type = KT_PATH, .off = OFF(dl_tickets, spool_dir),
	  .def_str = "spool" },
	{ .name = "department_email", .type = KT_STRING,
	  .off = OFF(dl_tickets, department_email), .check = check_email },
	{ .name = "header_ticket", .type = KT_STRING, .off = OFF(dl_tickets, header_ticket),
	  .def_str = "X-Deskline-Ticket", .check = check_header_name },
	{ .name = "header_menu_path", .type = KT_STRING,
	  .off = OFF(dl_tickets, header_menu_path), .def_str = "X-Deskline-Menu-Path",
	  .check = check_header_name },
	{ .name = "header_reason", .type = KT_STRING, .off = OFF(dl_tickets, header_reason),
	  .def_str = "X-Deskline-Overflow-Reason", .check = check_header_name },
};
static const struct table tickets_table = TABLE(tickets_keys, .done = tickets_done);

static const struct key smtp_keys[] = {
	{ .name = "url", .type = KT_STRING, .off = OFF(dl_smtp, url),
	  .def_str = "smtp://127.0.0.1:25", .check = check_smtp_url },
	{ .name = "from", .type = KT_STRING, .off = OFF(dl_smtp, from),
	  .def_str = "deskline@localhost", .check = check_email },
	{ .name = "username", .type = KT_STRING, .off = OFF(dl_smtp, username),
	  .empty_null = true, .check = check_text },
	{ .name = "password", .type = KT_STRING, .off = OFF(dl_smtp, password),
	  .empty_null = true, .check = check_text },
	{ .name = "starttls", .type = KT_BOOL, .off = OFF(dl_smtp, starttls) },
	{ .name = "timeout_ms", .type = KT_UINT, .off = OFF(dl_smtp, timeout_ms),
	  .min = 1000, .max = 600000, .def_int = 30000 },
};
static const struct table smtp_table = TABLE(smtp_keys, .done = smtp_done);

static const struct key redis_keys[] = {
	{ .name = "address", .type = KT_STRING, .off = OFF(dl_config, redis_address),
	  .def_str = "127.0.0.1:6379", .check = check_redis_address },
	{ .name = "prefix", .type = KT_STRING, .off = OFF(dl_config, redis_prefix),
	  .def_str = "dl:", .check = check_text },
	{ .name = "node", .type = KT_STRING, .off = OFF(dl_config, node_id),
	  .check = check_node },
};
static const struct table redis_table = TABLE(redis_keys, .done = redis_done);

static const struct key log_keys[] = {
	{ .name = "level", .type = KT_CUSTOM, .off = OFF(dl_config, log_level),
	  .parse = parse_log_level },
	{ .name = "syslog", .type = KT_BOOL, .off = OFF(dl_config, log_syslog) },
	{ .name = "cdr_file", .type = KT_PATH, .off = OFF(dl_config, cdr_file),
	  .empty_null = true },
};
static const struct table log_table = TABLE(log_keys);

static const struct key root_keys[] = {
	{ .name = "sip", .type = KT_SECTION, .required = true, .sub = &sip_table },
	{ .name = "media", .type = KT_SECTION, .off = OFF(dl_config, media), .required = true,
	  .sub = &media_table },
	{ .name = "prompts", .type = KT_SECTION, .required = true, .sub = &prompts_table },
	{ .name = "trunks", .type = KT_NAMED, .off = OFF(dl_config, trunks),
	  .count_off = OFF(dl_config, n_trunks), .sub = &trunk_table },
	{ .name = "menus", .type = KT_NAMED, .off = OFF(dl_config, menus),
	  .count_off = OFF(dl_config, n_menus), .required = true, .min = 1, .sub = &menu_table },
	/* registrar (the realm) and features before the clerks; queues before the clerks that
	 * name them. */
	{ .name = "registrar", .type = KT_SECTION, .off = OFF(dl_config, registrar),
	  .sub = &registrar_table },
	{ .name = "features", .type = KT_SECTION, .off = OFF(dl_config, features),
	  .sub = &features_table },
	{ .name = "queues", .type = KT_NAMED, .off = OFF(dl_config, queues),
	  .count_off = OFF(dl_config, n_queues), .sub = &queue_table },
	{ .name = "clerks", .type = KT_LIST, .off = OFF(dl_config, clerks),
	  .count_off = OFF(dl_config, n_clerks), .sub = &clerk_table },
	/* tickets after the trunks: whether department_email is needed depends on them. */
	{ .name = "calendar", .type = KT_SECTION, .sub = &calendar_table },
	{ .name = "tickets", .type = KT_SECTION, .off = OFF(dl_config, tickets),
	  .sub = &tickets_table },
	{ .name = "smtp", .type = KT_SECTION, .off = OFF(dl_config, smtp), .sub = &smtp_table },
	{ .name = "redis", .type = KT_SECTION, .sub = &redis_table },
	{ .name = "log", .type = KT_SECTION, .sub = &log_table },
};
static const struct table root_table = TABLE(root_keys, .done = root_done);

/* ------------------------------------------------------------------------------------------ */
/* The walk                                                                                    */

static void parse_group(struct loader *ld, const struct table *t, const config_setting_t *grp,
			const char *where, char *base);

static const struct key *find_key(const struct table *t, const char *name)
{
	for (size_t i = 0; name && i < t->n_keys; i++) {
		if (strcmp(t->keys[i].name, name) == 0)
			return &t->keys[i];
	}
	return NULL;
}

static bool int_value(struct loader *ld, const struct key *k, const config_setting_t *s,
		      const char *where, long long *v)
{
	int type = config_setting_type(s);

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		err_at(ld, s, "%s must be an integer", where);
		return false;
	}
	*v = config_setting_get_int64(s);
	if (*v >= k->min && *v <= k->max && (!k->step || *v % k->step == 0))
		return true;
	if (k->step == 2)
		err_at(ld, s, "%s must be an even number from %lld to %lld, not %lld", where,
		       k->min, k->max, *v);
	else if (k->step)
		err_at(ld, s, "%s must be a multiple of %lld from %lld to %lld, not %lld", where,
		       k->step, k->min, k->max, *v);
	else
		err_at(ld, s, "%s must be from %lld to %lld, not %lld", where, k->min, k->max, *v);
	return false;
}

static void store_int(const struct key *k, char *field, long long v)
{
	switch (k->type) {
	case KT_UINT: *(unsigned *)field = (unsigned)v; break;
	case KT_U16:  *(uint16_t *)field = (uint16_t)v; break;
	case KT_U8:   *(uint8_t *)field = (uint8_t)v; break;
	case KT_BOOL: *(bool *)field = v != 0; break;
	default: break;
	}
}

static void parse_strings(struct loader *ld, const struct key *k, const config_setting_t *s,
			  const char *where, char *base)
{
	size_t *n = (size_t *)(base + k->count_off);
	int len;

	if (!is_list(s)) {
		err_at(ld, s, "%s must be a list of strings: [ \"...\", ... ]", where);
		return;
	}
	len = config_setting_length(s);
	if (len < k->min) {
		err_at(ld, s, "%s must not be empty", where);
		return;
	}
	char **v = calloc(len ? (size_t)len : 1, sizeof(*v));
	if (!v) {
		ld->nomem = true;
		return;
	}
	*(char ***)(base + k->off) = v;
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char w[WHERE_MAX];
		bool twice = false;

		where_idx(w, where, i);
		const char *str = string_value(ld, e, w);
		if (!str)
			continue;
		if (!str[0]) {
			err_at(ld, e, "%s must not be empty", w);
			continue;
		}
		if (k->check && !k->check(ld, e, w, str))
			continue;
		for (size_t j = 0; k->unique && j < *n && !twice; j++)
			twice = strcmp(v[j], str) == 0;
		if (twice) {
			err_at(ld, e, "%s: \"%s\" is listed twice", w, str);
			continue;
		}
		v[*n] = str_dup(ld, str);
		if (v[*n])
			(*n)++;
	}
}

/** KT_NAMED (trunks { name { … } }) and KT_LIST (options = ( { … }, … )). */
static void parse_elements(struct loader *ld, const struct key *k, const config_setting_t *s,
			   const char *where, char *base)
{
	const struct table *t = k->sub;
	bool named = k->type == KT_NAMED;
	size_t *n = (size_t *)(base + k->count_off);

	if (named && !config_setting_is_group(s)) {
		err_at(ld, s, "%s must be a group of named groups: %s = { NAME = { ... }; };",
		       where, where);
		return;
	}
	if (!named && !config_setting_is_list(s)) {
		err_at(ld, s, "%s must be a list of groups: %s = ( { ... }, { ... } );", where,
		       k->name);
		return;
	}
	int len = config_setting_length(s);
	if (len < k->min) {
		err_at(ld, s, "%s must not be empty", where);
		return;
	}
	char *v = calloc(len ? (size_t)len : 1, t->size);
	if (!v) {
		ld->nomem = true;
		return;
	}
	set_ptr(base + k->off, v);
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char w[WHERE_MAX];

		if (named)
			where_key(w, where, config_setting_name(e));
		else
			where_idx(w, where, i);
		if (!config_setting_is_group(e)) {
			err_at(ld, e, "%s must be a group { ... }", w);
			continue;
		}
		/* Counted before it is filled so that freeing after an error sees it. */
		char *elem = v + (*n)++ * t->size;
		int line = (int)config_setting_source_line(e);
		memcpy(elem + t->line_off, &line, sizeof(line));
		if (named)
			set_ptr(elem + t->name_off, str_dup(ld, config_setting_name(e)));
		parse_group(ld, t, e, w, elem);
	}
}

static void parse_key(struct loader *ld, const struct key *k, const config_setting_t *s,
		      const config_setting_t *grp, const char *where, char *base)
{
	char *field = base + k->off;
	long long v;

	switch (k->type) {
	case KT_STRING:
	case KT_PATH: {
		const char *str = string_value(ld, s, where);
		if (!str)
			return;
		if (!str[0]) {
			if (!k->empty_null)
				err_at(ld, s, "%s must not be empty", where);
			return;
		}
		if (k->check && !k->check(ld, s, where, str))
			return;
		char *copy = k->type == KT_PATH ? resolve(ld, str) : str_dup(ld, str);
		for (char *p = copy; k->lower && p && *p; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		}
		*(char **)field = copy;
		return;
	}
	case KT_UINT:
	case KT_U16:
	case KT_U8:
		if (int_value(ld, k, s, where, &v))
			store_int(k, field, v);
		return;
	case KT_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			err_at(ld, s, "%s must be true or false", where);
		else
			store_int(k, field, config_setting_get_bool(s));
		return;
	case KT_STRINGS:
		parse_strings(ld, k, s, where, base);
		return;
	case KT_ACTIONS:
		parse_actions(ld, s, where, (struct dl_action_list *)field, k->empty_null);
		return;
	case KT_CUSTOM:
		k->parse(ld, k, s, grp, where, base);
		return;
	case KT_SECTION:
		if (!config_setting_is_group(s))
			err_at(ld, s, "%s must be a group: %s = { ... };", where, where);
		else
			parse_group(ld, k->sub, s, where, field);
		return;
	case KT_NAMED:
	case KT_LIST:
		parse_elements(ld, k, s, where, base);
		return;
	}
}

/** The key is not in the file: report it when required, else fill in its default. */
static void parse_absent(struct loader *ld, const struct key *k, const config_setting_t *grp,
			 const char *parent, const char *where, char *base)
{
	char *field = base + k->off;

	if (k->type == KT_CUSTOM) {
		k->parse(ld, k, NULL, grp, where, base);
		return;
	}
	if (k->required) {
		if (parent[0])
			err_at(ld, grp, "missing required key \"%s\" in %s", k->name, parent);
		else
			err_at(ld, grp, "missing required section \"%s\"", k->name);
		return;
	}
	switch (k->type) {
	case KT_STRING:
	case KT_PATH:
		if (k->def_str)
			*(char **)field = k->type == KT_PATH ? resolve(ld, k->def_str)
							    : str_dup(ld, k->def_str);
		return;
	case KT_UINT:
	case KT_U16:
	case KT_U8:
	case KT_BOOL:
		store_int(k, field, k->def_int);
		return;
	case KT_ACTIONS:
		if (k->def_str) {
			struct dl_action_list *l = (struct dl_action_list *)field;
			l->v = calloc(1, sizeof(*l->v));
			if (!l->v) {
				ld->nomem = true;
				return;
			}
			int r = config_action_parse(k->def_str, &l->v[0]);
			if (r) {
				ld->nomem |= r == ENOMEM;
				return;
			}
			/* A default has no line of its own: messages point at its group. */
			l->v[0].line = grp ? (int)config_setting_source_line(grp) : 0;
			l->n = 1;
		}
		return;
	case KT_SECTION:
		parse_group(ld, k->sub, NULL, where, field);
		return;
	case KT_STRINGS:
	case KT_NAMED:
	case KT_LIST:
	case KT_CUSTOM:
		return;
	}
}

static void parse_group(struct loader *ld, const struct table *t, const config_setting_t *grp,
			const char *where, char *base)
{
	for (int i = 0; grp && i < config_setting_length(grp); i++) {
		const config_setting_t *c = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(c);

		/* Checks on the loaded structs carry a line but no file name: keeping to one file
		 * keeps every "FILE:LINE" right. */
		if (config_setting_source_file(c) && !ld->include_seen) {
			ld->include_seen = true;
			err_at(ld, c, "@include is not supported: keep the configuration in one "
			       "file");
		}
		if (find_key(t, name))
			continue;
		if (where[0])
			err_at(ld, c, "unknown key \"%s\" in %s", name, where);
		else
			err_at(ld, c, "unknown section \"%s\"", name);
	}
	for (size_t i = 0; i < t->n_keys; i++) {
		const struct key *k = &t->keys[i];
		const config_setting_t *s = grp ? config_setting_get_member(grp, k->name) : NULL;
		char w[WHERE_MAX];

		where_key(w, where, k->name);
		if (s)
			parse_key(ld, k, s, grp, w, base);
		else
			parse_absent(ld, k, grp, where, w, base);
	}
	if (t->done)
		t->done(ld, grp, where, base);
}

/** Free what parse_group() allocated for @p t in the struct at @p base. */
static void free_group(const struct table *t, char *base)
{
	for (size_t i = 0; i < t->n_keys; i++) {
		const struct key *k = &t->keys[i];
		char *field = base + k->off;

		switch (k->type) {
		case KT_STRING:
		case KT_PATH:
			free(*(char **)field);
			break;
		case KT_STRINGS: {
			char **v = *(char ***)field;
			size_t n = *(size_t *)(base + k->count_off);
			for (size_t j = 0; j < n; j++)
				free(v[j]);
			free(v);
			break;
		}
		case KT_ACTIONS:
			free_actions((struct dl_action_list *)field);
			break;
		case KT_SECTION:
			free_group(k->sub, field);
			break;
		case KT_NAMED:
		case KT_LIST: {
			char *v = get_ptr(field);
			size_t n = *(size_t *)(base + k->count_off);
			for (size_t j = 0; j < n; j++) {
				char *elem = v + j * k->sub->size;
				if (k->type == KT_NAMED)
					free(get_ptr(elem + k->sub->name_off));
				free_group(k->sub, elem);
			}
			free(v);
			break;
		}
		case KT_UINT:
		case KT_U16:
		case KT_U8:
		case KT_BOOL:
		case KT_CUSTOM:
			/* Scalars; headers belong to the actions they were attached to. */
			break;
		}
	}
}

static void config_free(struct dl_config *cfg)
{
	if (!cfg)
		return;
	free_group(&root_table, (char *)cfg);
	free(cfg->calendar.holidays);
	free_actions(&cfg->on_trunk_failure);
	free(cfg->path);
	free(cfg);
}

/* ------------------------------------------------------------------------------------------ */
/* Public functions                                                                            */

int config_load(struct dl_config **cfgp, const char *path, struct dl_config_errors *errs)
{
	struct loader ld = { .path = path };
	struct dl_config *cfg = NULL;
	config_t lc;
	bool lc_ready = false;
	FILE *fp = NULL;
	int err = 0;

	if (!cfgp || !path)
		return EINVAL;

	fp = fopen(path, "r");
	if (!fp) {
		err_file(&ld, NULL, 0, "cannot read the file: %s", strerror(errno));
		err = ENOENT;
		goto out;
	}
	cfg = calloc(1, sizeof(*cfg));
	ld.dir = folder_of(path);
	if (!cfg || !ld.dir) {
		err = ENOMEM;
		goto out;
	}
	cfg->refs = 1;
	cfg->path = str_dup(&ld, path);
	ld.cfg = cfg;

	/* Not in the file format: a trunk without on_failure hangs up. */
	cfg->on_trunk_failure.v = calloc(1, sizeof(*cfg->on_trunk_failure.v));
	if (!cfg->on_trunk_failure.v) {
		err = ENOMEM;
		goto out;
	}
	cfg->on_trunk_failure.v[0].type = DL_ACT_HANGUP;
	cfg->on_trunk_failure.n = 1;

	config_init(&lc);
	lc_ready = true;
	config_set_include_dir(&lc, ld.dir);
	if (!config_read(&lc, fp)) {
		err_file(&ld, config_error_file(&lc), config_error_line(&lc), "%s",
			 config_error_text(&lc));
		err = EINVAL;
		goto out;
	}

	ld.root = config_root_setting(&lc);
	parse_group(&ld, &root_table, ld.root, "", (char *)cfg);
	if (ld.errn)
		err = EINVAL;

out:
	errors_hand_out(&ld, errs);
	if (ld.nomem)
		err = ENOMEM;
	if (lc_ready)
		config_destroy(&lc);
	if (fp)
		fclose(fp);
	for (size_t i = 0; i < ld.n_missing; i++)
		free(ld.missing[i]);
	free(ld.missing);
	/* After the errors are handed out: they are sorted by the file names they point at. */
	free(ld.holidays_path);
	free(ld.hol);
	free(ld.lang_ok);
	free(ld.dir);
	if (err)
		config_free(cfg);
	else
		*cfgp = cfg;
	return err;
}

struct dl_config *config_ref(struct dl_config *cfg)
{
	if (cfg)
		cfg->refs++;
	return cfg;
}

void config_unref(struct dl_config *cfg)
{
	if (!cfg || --cfg->refs > 0)
		return;
	config_free(cfg);
}

void config_errors_clear(struct dl_config_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* Menus, trunks, queues and clerks are a handful: a linear search costs less than keeping an
 * index. */

const struct dl_menu *config_menu(const struct dl_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->n_menus; i++) {
		if (cfg->menus[i].name && strcmp(cfg->menus[i].name, name) == 0)
			return &cfg->menus[i];
	}
	return NULL;
}

const struct dl_trunk *config_trunk(const struct dl_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->n_trunks; i++) {
		if (cfg->trunks[i].name && strcmp(cfg->trunks[i].name, name) == 0)
			return &cfg->trunks[i];
	}
	return NULL;
}

bool config_is_number(const struct dl_config *cfg, const char *user)
{
	for (size_t i = 0; cfg && user && i < cfg->n_numbers; i++) {
		if (strcmp(cfg->numbers[i], user) == 0)
			return true;
	}
	return false;
}

const struct dl_queue *config_queue(const struct dl_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->n_queues; i++) {
		if (cfg->queues[i].name && strcmp(cfg->queues[i].name, name) == 0)
			return &cfg->queues[i];
	}
	return NULL;
}

const struct dl_clerk *config_clerk(const struct dl_config *cfg, const char *id)
{
	for (size_t i = 0; cfg && id && i < cfg->n_clerks; i++) {
		if (cfg->clerks[i].id && strcmp(cfg->clerks[i].id, id) == 0)
			return &cfg->clerks[i];
	}
	return NULL;
}

const struct dl_clerk *config_clerk_by_extension(const struct dl_config *cfg, const char *ext)
{
	for (size_t i = 0; cfg && ext && i < cfg->n_clerks; i++) {
		if (cfg->clerks[i].extension && strcmp(cfg->clerks[i].extension, ext) == 0)
			return &cfg->clerks[i];
	}
	return NULL;
}

const char *config_strategy_name(enum dl_hunt_strategy s)
{
	return (size_t)s < N_STRATEGIES ? strategy_names[s] : "unknown";
}

/*
 * Runs per request from an unknown peer. Every source is parsed again each time: a few
 * inet_pton() calls cost far less than parsing the SIP message, and the public struct keeps
 * the addresses as written. The sources of two trunks may overlap (a test bed on one host):
 * the first trunk in the file wins.
 */
const struct dl_trunk *config_trunk_by_source(const struct dl_config *cfg, const char *addr)
{
	unsigned char want[16], have[16];

	if (!cfg || !ip_canon(addr, want))
		return NULL;
	for (size_t i = 0; i < cfg->n_trunks; i++) {
		const struct dl_trunk *t = &cfg->trunks[i];
		for (size_t j = 0; j < t->n_sources; j++) {
			if (ip_canon(t->sources[j], have) && memcmp(want, have, sizeof(want)) == 0)
				return t;
		}
	}
	return NULL;
}
