/**
 * @file ticket.c  Tickets for unanswered calls (Procedure 46 §2, §4–§7): ids, the spool, the mail.
 *
 * A ticket on its way (struct topen) goes through:
 *  1. an id: the next number of the pool Redis reserved for this node (AGENTDB_TICKET_IDS, a
 *     block of TICKET_ID_BLOCK, refilled below TICKET_ID_LOW). An empty pool with Redis up waits
 *     for the reservation in flight (the call waits for the handler anyway); with Redis down —
 *     or for a ticket stamped in a year already over — it takes "YYYY-<node>-NNNN" from a
 *     counter in the spool directory, which never repeats since it is on disk (fsynced) before
 *     it is used;
 *  2. its due time (calendar_due_at, Procedure 46 §6);
 *  3. AGENTDB_TICKET_CREATE, or the spool when Redis is down or does not answer: one file
 *     "<id>.ticket" of key=value lines, written to a temporary name, fsynced and renamed, so a
 *     crash leaves either the whole ticket or none; tickets_redis_up() replays the files;
 *  4. the handler, from the Redis reply or from a zero-delay timer — never inside
 *     ticket_open() — and then the mail, through the outbox.
 *
 * Ownership: a topen belongs to exactly one place at a time — the `waiting` list (for an id),
 * a Redis request (struct rq, while TICKET_CREATE is in flight) or the `done` list (for the
 * timer). Every Redis request is on the `inflight` list; tickets_free() spools the tickets of
 * those still in flight and orphans the requests (rq->t = NULL), whose replies then only free
 * them. Handlers may call tickets_free(): every loop entry point holds the service.
 *
 * Spool writes and the mail's outbox_enqueue() fsync on the loop thread (a few ms each on a
 * disk); they happen only for unanswered calls, and spooling only while Redis is down.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deskline/calendar.h"
#include "deskline/log.h"
#include "deskline/outbox.h"
#include "deskline/redis.h"
#include "deskline/ticket.h"

/** Spool subdirectory of cfg->tickets.spool_dir, and the files in it. */
#define SPOOL_SUBDIR   "tickets"
#define SPOOL_SUFFIX   ".ticket"
#define LOCAL_SEQ_FILE "local.seq"

/** A spooled ticket is small; a bigger file is not one of ours (bytes). */
#define SPOOL_FILE_MAX_BYTES 65536u

/** Ids held at most: a block arriving while up to TICKET_ID_LOW - 1 remain. */
#define POOL_MAX (TICKET_ID_BLOCK + TICKET_ID_LOW)

/** The mail is formatted into a buffer that starts here and doubles up to the max (bytes). */
#define MAIL_START_BYTES 8192u
#define MAIL_MAX_BYTES   (1u << 20)

/** RFC 5322 §2.1.1: a line is at most 998 bytes before CRLF. Body values wrap before that,
 * with room for the continuation indent, and header values are cut there. */
#define MAIL_LINE_MAX_BYTES  998u
#define BODY_WRAP_BYTES      900u
#define HEADER_VALUE_MAX_BYTES 900u
/** RFC 5322 §2.1.1: the lines a header is folded into should stay within 78 characters. */
#define HEADER_FOLD_COLUMN   78u

/** A ticket with no business day ahead in the calendar (a configuration without hours) is
 * still due somewhere: a day after it was received (ms). */
#define DUE_FALLBACK_MS (24u * 3600u * 1000u)

/** The ticket fields sent to TICKET_CREATE after id, queue and due_ms, in spool-file order. */
enum tfield {
	TF_CALL_ID, TF_CALLER, TF_CALLER_NAME, TF_CALLED, TF_MENU_PATH, TF_CATEGORY, TF_QUEUE,
	TF_REASON, TF_FORWARD, TF_TRIED, TF_COUNT
};

static const char *const tfield_names[TF_COUNT] = {
	"call_id", "caller", "caller_name", "called", "menu_path", "category", "queue", "reason",
	"forward", "tried",
};

/** Script ARGV at most: prefix, now, id, queue, due_ms, pairs of the fields, node, created_ms. */
#define CREATE_ARGV_MAX (5 + 2 * TF_COUNT + 4)

struct topen {
	struct topen *next;
	const char *f[TF_COUNT];   /**< the ticket_new strings, pointing into `strs` */
	char *strs;
	uint64_t created_ms;
	char node[64];             /**< the node that opened it (replayed tickets keep theirs) */
	struct ticket_opened res;
	int err;
	ticket_opened_h *h;
	void *arg;
};

enum rq_kind { RQ_IDS, RQ_CREATE, RQ_REPLAY, RQ_NOTE };

/** One script call in flight. */
struct rq {
	struct rq *prev, *next;
	struct tickets *t;         /**< NULL once tickets_free() orphaned it: the reply only frees */
	enum rq_kind kind;
	struct topen *o;           /**< RQ_CREATE, owned until the reply */
	int year;                  /**< RQ_IDS */
	char name[];               /**< RQ_REPLAY: spool file name; RQ_NOTE: "id field=value" */
};

struct tickets {
	su_root_t *root;
	struct dl_redis *redis;
	struct outbox *outbox;
	struct dl_config *cfg;
	char *node;
	char *prefix;
	char *spool;               /**< <spool_dir>/tickets */
	su_timer_t *timer;         /**< zero delay: runs the `done` list */

	int pool_year;             /**< the year the pooled numbers belong to; 0: none yet */
	uint64_t pool[POOL_MAX];   /**< reserved numbers, oldest first */
	size_t n_pool;
	int refill_year;           /**< a TICKET_IDS for this year is in flight; 0: none */

	struct topen *waiting, *waiting_tail;   /**< need an id from the reservation in flight */
	struct topen *done, *done_tail;         /**< stored; handler and mail on the next turn */
	struct rq *inflight;

	unsigned busy;             /**< loop entry points running on this service */
	bool freeing;
};

/* Statuses ------------------------------------------------------------------------------------ */

static const char *const status_names[] = {
	[TICKET_OPEN]                   = "open",
	[TICKET_ASSIGNED]               = "assigned",
	[TICKET_ANSWERED]               = "answered",
	[TICKET_IN_CLARIFICATION]       = "in_clarification",
	[TICKET_WRITTEN_CHANNEL]        = "written_channel",
	[TICKET_RESOLVED_BY_CALLCENTER] = "resolved_by_callcenter",
	[TICKET_CLOSED]                 = "closed",
};

#define N_STATUSES (sizeof(status_names) / sizeof(status_names[0]))

const char *ticket_status_name(enum ticket_status s)
{
	if ((unsigned)s >= N_STATUSES)
		return NULL;
	return status_names[s];
}

int ticket_status_parse(const char *name, enum ticket_status *s)
{
	if (!name || !s)
		return EINVAL;
	for (size_t i = 0; i < N_STATUSES; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*s = (enum ticket_status)i;
			return 0;
		}
	}
	return EINVAL;
}

bool ticket_status_is_open(enum ticket_status s)
{
	return s == TICKET_OPEN || s == TICKET_ASSIGNED || s == TICKET_IN_CLARIFICATION;
}

/* Small things ---------------------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/** The local year (the calendar's zone, set by calendar_use_timezone) of a Unix ms time. */
static int year_of(uint64_t ms)
{
	time_t s = (time_t)(ms / 1000u);
	struct tm tm;

	if (!localtime_r(&s, &tm))
		return 1970;
	return tm.tm_year + 1900;
}

/** Ids, file names and Message-IDs take letters, digits, '.', '_', '-'; anything else → '_'. */
static void id_safe(char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			*s = '_';
}

static void hold(struct tickets *t)
{
	t->busy++;
}

static void destroy(struct tickets *t)
{
	su_timer_destroy(t->timer);
	config_unref(t->cfg);
	free(t->node);
	free(t->prefix);
	free(t->spool);
	free(t);
}

static void release(struct tickets *t)
{
	if (--t->busy == 0 && t->freeing)
		destroy(t);
}

/* Tickets on their way ------------------------------------------------------------------------ */

static const char *tn_field(const struct ticket_new *tn, enum tfield f)
{
	const char *v = NULL;

	switch (f) {
	case TF_CALL_ID:     v = tn->call_id; break;
	case TF_CALLER:      v = tn->caller; break;
	case TF_CALLER_NAME: v = tn->caller_name; break;
	case TF_CALLED:      v = tn->called; break;
	case TF_MENU_PATH:   v = tn->menu_path; break;
	case TF_CATEGORY:    v = tn->category; break;
	case TF_QUEUE:       v = tn->queue; break;
	case TF_REASON:      v = tn->reason; break;
	case TF_FORWARD:     v = tn->forward; break;
	case TF_TRIED:       v = tn->tried; break;
	case TF_COUNT:       break;
	}
	return v ? v : "";
}

/** A topen holding copies of @p f (TF_COUNT strings, NULL taken as ""). @return NULL: ENOMEM. */
static struct topen *topen_new(const char *const *f)
{
	struct topen *o = calloc(1, sizeof(*o));
	size_t len[TF_COUNT], total = 0;
	char *p;

	if (!o)
		return NULL;
	for (int i = 0; i < TF_COUNT; i++) {
		len[i] = strlen(f[i] ? f[i] : "");
		total += len[i] + 1;
	}
	o->strs = malloc(total);
	if (!o->strs) {
		free(o);
		return NULL;
	}
	p = o->strs;
	for (int i = 0; i < TF_COUNT; i++) {
		memcpy(p, f[i] ? f[i] : "", len[i] + 1);
		o->f[i] = p;
		p += len[i] + 1;
	}
	return o;
}

static void topen_free(struct topen *o)
{
	if (!o)
		return;
	free(o->strs);
	free(o);
}

/** The ticket as ticket_format_mail() takes it (borrowing o's strings). */
static void topen_tn(const struct topen *o, struct ticket_new *tn)
{
	memset(tn, 0, sizeof(*tn));
	tn->call_id = o->f[TF_CALL_ID];
	tn->caller = o->f[TF_CALLER];
	tn->caller_name = o->f[TF_CALLER_NAME];
	tn->called = o->f[TF_CALLED];
	tn->menu_path = o->f[TF_MENU_PATH];
	tn->category = o->f[TF_CATEGORY];
	tn->queue = o->f[TF_QUEUE];
	tn->reason = o->f[TF_REASON];
	tn->forward = o->f[TF_FORWARD];
	tn->tried = o->f[TF_TRIED];
	tn->created_ms = o->created_ms;
}

static void list_push(struct topen **head, struct topen **tail, struct topen *o)
{
	o->next = NULL;
	if (*tail)
		(*tail)->next = o;
	else
		*head = o;
	*tail = o;
}

static struct topen *list_pop(struct topen **head, struct topen **tail)
{
	struct topen *o = *head;

	if (o) {
		*head = o->next;
		if (!*head)
			*tail = NULL;
		o->next = NULL;
	}
	return o;
}

/** The whole ticket in the log: when it can be neither created nor spooled, this is all that
 * is left of it. Several lines, since a log line holds 1 KiB. */
static void log_ticket(int level, const struct topen *o, const char *why)
{
	dl_log(level, o->f[TF_CALL_ID], "ticket %s %s: created_ms=%" PRIu64 " due_ms=%" PRIu64
	       " node=%s", o->res.id[0] ? o->res.id : "(no id)", why, o->created_ms,
	       o->res.due_ms, o->node);
	for (int i = 0; i < TF_COUNT; i++)
		if (o->f[i][0])
			dl_log(level, o->f[TF_CALL_ID], "ticket %s %s=%s",
			       o->res.id[0] ? o->res.id : "(no id)", tfield_names[i], o->f[i]);
}

/* Redis requests -------------------------------------------------------------------------------- */

static struct rq *rq_new(struct tickets *t, enum rq_kind kind, const char *name)
{
	size_t n = name ? strlen(name) + 1 : 1;
	struct rq *q = calloc(1, sizeof(*q) + n);

	if (!q)
		return NULL;
	q->t = t;
	q->kind = kind;
	if (name)
		memcpy(q->name, name, n);
	q->next = t->inflight;
	if (t->inflight)
		t->inflight->prev = q;
	t->inflight = q;
	return q;
}

static void rq_unlink(struct tickets *t, struct rq *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else if (t->inflight == q)
		t->inflight = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
}

static void on_reply(const redisReply *reply, void *arg);

/**
 * Run script @p s with ARGV = prefix, now, @p args. On failure the request is unlinked and
 * freed (its topen, if any, stays the caller's).
 * @return 0, EINVAL, ENOMEM, ENOTCONN (Redis down, or the service is being freed).
 */
static int rq_send(struct tickets *t, struct rq *q, enum agentdb_script s, int argc,
		   const char **args)
{
	const char *argv[CREATE_ARGV_MAX + 2];
	char now[24];
	int n = 0, err;

	if (t->freeing || !dl_redis_connected(t->redis)) {
		err = ENOTCONN;
		goto out;
	}
	if (argc > CREATE_ARGV_MAX) {
		err = EINVAL;
		goto out;
	}
	snprintf(now, sizeof(now), "%" PRIu64, now_ms());
	argv[n++] = t->prefix;
	argv[n++] = now;
	for (int i = 0; i < argc; i++)
		argv[n++] = args[i];
	err = dl_redis_script(t->redis, s, on_reply, q, n, argv);
out:
	if (err) {
		rq_unlink(t, q);
		free(q);
	}
	return err;
}

/** Error text of a reply for logs. */
static const char *reply_text(const redisReply *reply)
{
	if (!reply)
		return "Redis unreachable";
	if (reply->type == REDIS_REPLY_ERROR && reply->str)
		return reply->str;
	return "unexpected reply";
}

/* The local id counter ---------------------------------------------------------------------- */

/** Write @p len bytes to @p path: temporary file, fsync, rename, fsync the directory. */
static int file_replace(const char *dir, const char *path, const char *data, size_t len)
{
	char tmp[4096];
	int fd, dfd, err = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return errno;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		off += (size_t)w;
	}
	if (!err && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) != 0)
		err = errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	/* The rename itself is durable only once the directory is. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) != 0)
			err = errno;
		close(dfd);
	}
	return err;
}

/**
 * "YYYY-<node>-NNNN" from the counter in SPOOL/local.seq ("YYYY N"): the number is on disk
 * before it is used, so neither a crash nor a restart gives it out twice; it starts at 1 each
 * year, whose number is in the id.
 */
static int local_id(struct tickets *t, int year, char *id, size_t size)
{
	/* The node takes at most 16 characters: with the year and 4-6 digits the id fits its 32
	 * bytes. */
	char path[4096], buf[64], node[17];
	unsigned long long n = 0;
	int fd, y = 0, err;

	if ((size_t)snprintf(path, sizeof(path), "%s/" LOCAL_SEQ_FILE, t->spool) >= sizeof(path))
		return ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, buf, sizeof(buf) - 1);

		close(fd);
		if (r > 0) {
			buf[r] = '\0';
			if (sscanf(buf, "%d %llu", &y, &n) != 2 || y != year)
				n = 0;
		}
	} else if (errno != ENOENT) {
		return errno;
	}
	n++;
	snprintf(buf, sizeof(buf), "%04d %llu\n", year, n);
	err = file_replace(t->spool, path, buf, strlen(buf));
	if (err)
		return err;
	if (strlen(t->node) < sizeof(node)) {
		snprintf(node, sizeof(node), "%s", t->node);
	} else {
		/* A longer node name would not leave the id room: its first 8 characters and a
		 * hash (FNV-1a, 32 bits) of the whole, so two long names still differ. */
		uint32_t h = 2166136261u;

		for (const unsigned char *p = (const unsigned char *)t->node; *p; p++)
			h = (h ^ *p) * 16777619u;
		snprintf(node, sizeof(node), "%.8s%08" PRIx32, t->node, h);
	}
	id_safe(node);
	if ((size_t)snprintf(id, size, "%04d-%s-%04llu", year, node, n) >= size)
		return ENAMETOOLONG;
	return 0;
}

/* The spool --------------------------------------------------------------------------------- */

/** Appends "key=value\n" with \\, \n, \r and other control bytes escaped (\xHH). */
static size_t spool_line(char *buf, size_t size, size_t len, const char *key, const char *v)
{
	int n = snprintf(buf + len, len < size ? size - len : 0, "%s=", key);

	len += n > 0 ? (size_t)n : 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		char esc[8];

		if (*p == '\\')
			snprintf(esc, sizeof(esc), "\\\\");
		else if (*p == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (*p == '\r')
			snprintf(esc, sizeof(esc), "\\r");
		else if (*p < 0x20 || *p == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else
			esc[0] = (char)*p, esc[1] = '\0';
		for (const char *e = esc; *e; e++, len++)
			if (len < size)
				buf[len] = *e;
	}
	if (len < size)
		buf[len] = '\n';
	return len + 1;
}

/** The spool file of a ticket: "# deskline ticket" and key=value lines. */
static int spool_write(struct tickets *t, const struct topen *o)
{
	char path[4096], num[24];
	size_t size = 1024, len = 0;
	char *buf;
	int err;

	for (int i = 0; i < TF_COUNT; i++)
		size += 4 * strlen(o->f[i]) + 32;   /* \xHH: at most 4 bytes a byte */
	buf = malloc(size);
	if (!buf)
		return ENOMEM;
	len += (size_t)snprintf(buf, size, "# deskline ticket (Procedure 46 §4)\n");
	len = spool_line(buf, size, len, "id", o->res.id);
	snprintf(num, sizeof(num), "%" PRIu64, o->res.due_ms);
	len = spool_line(buf, size, len, "due_ms", num);
	snprintf(num, sizeof(num), "%" PRIu64, o->created_ms);
	len = spool_line(buf, size, len, "created_ms", num);
	len = spool_line(buf, size, len, "node", o->node);
	for (int i = 0; i < TF_COUNT; i++)
		len = spool_line(buf, size, len, tfield_names[i], o->f[i]);
	if (len > size) {
		err = EOVERFLOW;   /* the size estimate above is an upper bound: cannot happen */
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s" SPOOL_SUFFIX, t->spool, o->res.id) >=
	    sizeof(path)) {
		err = ENAMETOOLONG;
		goto out;
	}
	err = file_replace(t->spool, path, buf, len);
out:
	free(buf);
	return err;
}

/** Undo spool_line()'s escapes in place. */
static void spool_unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != '\\' || !r[1]) {
			*w++ = *r;
			continue;
		}
		r++;
		if (*r == 'n') {
			*w++ = '\n';
		} else if (*r == 'r') {
			*w++ = '\r';
		} else if (*r == 'x' && isxdigit((unsigned char)r[1]) &&
			   isxdigit((unsigned char)r[2])) {
			char hex[3] = { r[1], r[2], '\0' };

			*w++ = (char)strtoul(hex, NULL, 16);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/** Read a spool file into a topen. @return 0, an errno, or EBADMSG (no id or due_ms). */
static int spool_read(const char *path, struct topen **op)
{
	const char *f[TF_COUNT] = { NULL };
	const char *id = NULL, *due = NULL, *created = NULL, *node = NULL;
	struct topen *o;
	char *buf = NULL;
	struct stat st;
	int fd, err = 0;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0) {
		err = errno;
		goto out;
	}
	if (st.st_size > (off_t)SPOOL_FILE_MAX_BYTES) {
		err = EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? errno : EIO;
			goto out;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';

	for (char *line = buf, *next; line && *line; line = next) {
		char *eq;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '#' || !(eq = strchr(line, '=')))
			continue;
		*eq = '\0';
		spool_unescape(eq + 1);
		if (strcmp(line, "id") == 0)
			id = eq + 1;
		else if (strcmp(line, "due_ms") == 0)
			due = eq + 1;
		else if (strcmp(line, "created_ms") == 0)
			created = eq + 1;
		else if (strcmp(line, "node") == 0)
			node = eq + 1;
		for (int i = 0; i < TF_COUNT; i++)
			if (strcmp(line, tfield_names[i]) == 0)
				f[i] = eq + 1;
	}
	if (!id || !*id || !due || !*due) {
		err = EBADMSG;
		goto out;
	}
	o = topen_new(f);
	if (!o) {
		err = ENOMEM;
		goto out;
	}
	snprintf(o->res.id, sizeof(o->res.id), "%s", id);
	o->res.due_ms = strtoull(due, NULL, 10);
	o->created_ms = created ? strtoull(created, NULL, 10) : 0;
	snprintf(o->node, sizeof(o->node), "%s", node ? node : "");
	*op = o;
out:
	free(buf);
	close(fd);
	return err;
}

/* Creating ------------------------------------------------------------------------------------ */

/** TICKET_CREATE for @p o; @p q carries it. @return as rq_send(). */
static int create_send(struct tickets *t, struct rq *q, const struct topen *o)
{
	const char *args[CREATE_ARGV_MAX];
	char due[24], created[24];
	int n = 0;

	snprintf(due, sizeof(due), "%" PRIu64, o->res.due_ms);
	snprintf(created, sizeof(created), "%" PRIu64, o->created_ms);
	args[n++] = o->res.id;
	args[n++] = o->f[TF_QUEUE];
	args[n++] = due;
	for (int i = 0; i < TF_COUNT; i++) {
		if (i == TF_QUEUE)
			continue;
		args[n++] = tfield_names[i];
		args[n++] = o->f[i];
	}
	args[n++] = "node";
	args[n++] = o->node;
	args[n++] = "created_ms";
	args[n++] = created;
	return rq_send(t, q, AGENTDB_TICKET_CREATE, n, args);
}

static void on_timer(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg);

/** Hand @p o to the timer: its handler and mail run on the next loop turn (or from
 * tickets_free(), which drains the list itself). */
static void done_later(struct tickets *t, struct topen *o)
{
	list_push(&t->done, &t->done_tail, o);
	if (!t->freeing && !su_timer_is_set(t->timer) &&
	    su_timer_set_interval(t->timer, on_timer, t, 0) < 0)
		log_err(NULL, "tickets: cannot set the timer: ticket %s waits for the next one",
			o->res.id);
}

/** Store @p o on disk; it then goes to the timer, spooled or with the errno. */
static void spool_and_done(struct tickets *t, struct topen *o)
{
	int err = o->res.id[0] ? spool_write(t, o) : o->err;

	if (err) {
		o->err = err;
		log_ticket(LOG_ERR, o, "lost: neither Redis nor the spool took it");
		log_err(o->f[TF_CALL_ID], "ticket %s: cannot spool to %s: %s",
			o->res.id[0] ? o->res.id : "(no id)", t->spool, strerror(err));
	} else {
		o->res.spooled = true;
		o->res.clerk[0] = '\0';
		log_warn(o->f[TF_CALL_ID], "ticket %s spooled to %s: created in Redis once it is "
			 "reachable", o->res.id, t->spool);
	}
	done_later(t, o);
}

/** Send @p o to Redis, or spool it when that cannot be done now. */
static void create_or_spool(struct tickets *t, struct topen *o)
{
	struct rq *q = rq_new(t, RQ_CREATE, NULL);

	if (q) {
		q->o = o;
		if (create_send(t, q, o) == 0)
			return;
	}
	spool_and_done(t, o);
}

/** Give @p o a node-local id (no pooled number for it), then Redis or the spool. */
static void local_and_store(struct tickets *t, struct topen *o)
{
	int err = local_id(t, year_of(o->created_ms), o->res.id, sizeof(o->res.id));

	if (err) {
		o->err = err;
		log_err(o->f[TF_CALL_ID], "tickets: cannot write the local id counter in %s: %s",
			t->spool, strerror(err));
		spool_and_done(t, o);   /* it cannot be stored: the errno goes to the handler */
		return;
	}
	create_or_spool(t, o);
}

/** Take the next pooled number of @p year into @p o. @return false: none. */
static bool pool_take(struct tickets *t, int year, struct topen *o)
{
	if (t->pool_year != year) {
		/* A new year starts at 1 (AGENTDB_TICKET_IDS counts per year): the rest of the
		 * old block is dropped. */
		t->pool_year = year;
		t->n_pool = 0;
	}
	if (t->n_pool == 0)
		return false;
	snprintf(o->res.id, sizeof(o->res.id), "%04d-%06" PRIu64, year, t->pool[0]);
	memmove(t->pool, t->pool + 1, (t->n_pool - 1) * sizeof(t->pool[0]));
	t->n_pool--;
	return true;
}

/** Reserve the next block when the pool runs low and no reservation is in flight. */
static void pool_refill(struct tickets *t)
{
	char year[8], count[16];
	struct rq *q;

	if (t->freeing || !dl_redis_connected(t->redis))
		return;
	if (t->pool_year == 0)
		t->pool_year = year_of(now_ms());
	if ((t->n_pool >= TICKET_ID_LOW && !t->waiting) || t->refill_year == t->pool_year)
		return;
	snprintf(year, sizeof(year), "%04d", t->pool_year);
	snprintf(count, sizeof(count), "%u", TICKET_ID_BLOCK);
	q = rq_new(t, RQ_IDS, NULL);
	if (!q)
		return;
	q->year = t->pool_year;
	const char *args[] = { year, count };
	if (rq_send(t, q, AGENTDB_TICKET_IDS, 2, args) == 0)
		t->refill_year = t->pool_year;
}

/** Give ids to the tickets waiting for them; @p failed: no block is coming, use local ids. */
static void serve_waiting(struct tickets *t, bool failed)
{
	struct topen *o;

	while (t->waiting) {
		int year = year_of(t->waiting->created_ms);

		if (!failed && year == t->pool_year && t->n_pool == 0)
			break;   /* the next block is on its way */
		o = list_pop(&t->waiting, &t->waiting_tail);
		/* A ticket of a year already over keeps its year: a local id, not a number of the
		 * new year's block. */
		if (!failed && year == t->pool_year && pool_take(t, year, o))
			create_or_spool(t, o);
		else
			local_and_store(t, o);
	}
	pool_refill(t);
	if (t->waiting && t->refill_year != t->pool_year) {
		/* Redis went away between the reply and now: nobody will serve them. */
		while ((o = list_pop(&t->waiting, &t->waiting_tail)))
			local_and_store(t, o);
	}
}

/* Handlers and mail --------------------------------------------------------------------------- */

static void mail_send(struct tickets *t, const struct topen *o)
{
	const struct dl_config *cfg = t->cfg;
	const struct dl_clerk *clerk = o->res.clerk[0] ? config_clerk(cfg, o->res.clerk) : NULL;
	const char *dept = cfg->tickets.department_email;
	const char *to[2];
	size_t n_to = 0, size = MAIL_START_BYTES;
	char due_local[64], name[64] = "";
	struct ticket_new tn;
	char *buf = NULL;
	int len = -1, err;

	if (dept && *dept)
		to[n_to++] = dept;
	if (clerk && clerk->email && *clerk->email &&
	    (n_to == 0 || strcasecmp(to[0], clerk->email) != 0))
		to[n_to++] = clerk->email;
	if (!t->outbox || n_to == 0) {
		log_warn(o->f[TF_CALL_ID], "ticket %s: no mail sent: %s", o->res.id,
			 !t->outbox ? "no outbox" : "no department or clerk address configured");
		return;
	}
	if (calendar_format_local((time_t)(o->res.due_ms / 1000u), due_local, sizeof(due_local)))
		snprintf(due_local, sizeof(due_local), "%" PRIu64 " (Unix ms)", o->res.due_ms);
	topen_tn(o, &tn);
	while (len < 0 && size <= MAIL_MAX_BYTES) {
		char *nb = realloc(buf, size);

		if (!nb)
			break;
		buf = nb;
		len = ticket_format_mail(buf, size, cfg->smtp.from ? cfg->smtp.from : "deskline",
					 to, n_to, &tn, &o->res, due_local,
					 clerk ? clerk->name : NULL, time(NULL));
		size *= 2;
	}
	if (len < 0) {
		log_err(o->f[TF_CALL_ID], "ticket %s: no mail sent: out of memory", o->res.id);
		goto out;
	}
	err = outbox_enqueue(t->outbox, to, n_to, buf, (size_t)len, name);
	if (err)
		log_err(o->f[TF_CALL_ID], "ticket %s: mail not queued: %s", o->res.id,
			strerror(err));
	else
		log_info(o->f[TF_CALL_ID], "ticket %s: mail %s to %s%s%s", o->res.id, name, to[0],
			 n_to > 1 ? ", " : "", n_to > 1 ? to[1] : "");
out:
	free(buf);
}

/** The handler, then the mail (the call goes on first: the mail fsyncs). Frees @p o. */
static void deliver(struct tickets *t, struct topen *o)
{
	hold(t);
	o->h(o->err, &o->res, o->arg);
	mail_send(t, o);
	topen_free(o);
	release(t);
}

static void run_done(struct tickets *t)
{
	struct topen *o;

	while ((o = list_pop(&t->done, &t->done_tail)))
		deliver(t, o);
}

static void on_timer(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
	struct tickets *t = (struct tickets *)arg;

	(void)magic;
	(void)timer;
	hold(t);
	run_done(t);
	release(t);
}

/* Replies ---------------------------------------------------------------------------------------- */

/** A TICKET_CREATE reply {id, clerk, "new" | "existing"}? */
static bool create_reply_ok(const redisReply *reply)
{
	return reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
	       reply->element[0]->type == REDIS_REPLY_STRING &&
	       reply->element[1]->type == REDIS_REPLY_STRING &&
	       reply->element[2]->type == REDIS_REPLY_STRING;
}

static void on_created(struct tickets *t, struct topen *o, const redisReply *reply)
{
	if (!create_reply_ok(reply)) {
		log_warn(o->f[TF_CALL_ID], "ticket %s: create failed (%s): spooling it", o->res.id,
			 reply_text(reply));
		spool_and_done(t, o);
		return;
	}
	snprintf(o->res.clerk, sizeof(o->res.clerk), "%s", reply->element[1]->str);
	char due[32];
	if (calendar_format_local((time_t)(o->res.due_ms / 1000u), due, sizeof(due)) != 0)
		snprintf(due, sizeof(due), "%" PRIu64 " ms", o->res.due_ms);
	log_notice(o->f[TF_CALL_ID], "ticket %s opened (%s), clerk %s, due %s", o->res.id,
		   reply->element[2]->str, o->res.clerk[0] ? o->res.clerk : "(none)", due);
	deliver(t, o);
}

static void on_replayed(struct tickets *t, const char *name, const redisReply *reply)
{
	char path[4096];

	if (!create_reply_ok(reply)) {
		/* Down again: the file waits for the next connect. An error reply is a ticket
		 * Redis refuses; it stays for a person to look at. */
		if (reply)
			log_err(NULL, "tickets: %s/%s refused by Redis (%s): kept", t->spool, name,
				reply_text(reply));
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", t->spool, name);
	if (unlink(path) != 0 && errno != ENOENT)
		log_err(NULL, "tickets: cannot remove %s: %s", path, strerror(errno));
	log_notice(NULL, "ticket %s replayed from the spool (%s), clerk %s",
		   reply->element[0]->str, reply->element[2]->str,
		   reply->element[1]->str[0] ? reply->element[1]->str : "(none)");
}

static void on_ids(struct tickets *t, int year, const redisReply *reply)
{
	bool ok = reply && reply->type == REDIS_REPLY_INTEGER &&
		  reply->integer >= (long long)TICKET_ID_BLOCK;

	if (t->refill_year == year)
		t->refill_year = 0;
	/* A block of a year already over is dropped: a few numbers never used. */
	if (!ok)
		log_warn(NULL, "tickets: no ids reserved for %d (%s)", year, reply_text(reply));
	else if (year == t->pool_year && t->n_pool + TICKET_ID_BLOCK <= POOL_MAX)
		for (uint64_t n = (uint64_t)reply->integer - TICKET_ID_BLOCK + 1;
		     n <= (uint64_t)reply->integer; n++)
			t->pool[t->n_pool++] = n;
	else if (year == t->pool_year)
		log_warn(NULL, "tickets: ids %lld-%lld not needed (%zu pooled): left unused",
			 reply->integer - TICKET_ID_BLOCK + 1, reply->integer, t->n_pool);
	serve_waiting(t, !ok);
}

static void on_reply(const redisReply *reply, void *arg)
{
	struct rq *q = arg;
	struct tickets *t = q->t;

	if (!t) {
		free(q);   /* orphaned by tickets_free(), which took care of its ticket */
		return;
	}
	hold(t);
	rq_unlink(t, q);
	switch (q->kind) {
	case RQ_IDS:
		on_ids(t, q->year, reply);
		break;
	case RQ_CREATE:
		on_created(t, q->o, reply);
		break;
	case RQ_REPLAY:
		on_replayed(t, q->name, reply);
		break;
	case RQ_NOTE:
		if (!reply || reply->type == REDIS_REPLY_ERROR)
			log_notice(NULL, "ticket %s (not recorded: %s)", q->name, reply_text(reply));
		break;
	}
	free(q);
	release(t);
}

/* The service ----------------------------------------------------------------------------------- */

/** mkdir -p for the spool directory. */
static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return len ? ENAMETOOLONG : EINVAL;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0750) != 0 && errno != EEXIST)
				return errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return access(path, W_OK | X_OK) == 0 ? 0 : errno;
}

int tickets_alloc(struct tickets **tp, su_root_t *root, struct dl_redis *redis,
		  struct outbox *outbox, struct dl_config *cfg, const char *node)
{
	struct tickets *t;
	int err;

	if (!tp || !root || !redis || !cfg || !node || !cfg->tickets.spool_dir ||
	    !cfg->redis_prefix)
		return EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	t->root = root;
	t->redis = redis;
	t->outbox = outbox;
	t->cfg = config_ref(cfg);
	t->node = strdup(node);
	t->prefix = strdup(cfg->redis_prefix);
	t->timer = su_timer_create(su_root_task(root), 0);
	if (asprintf(&t->spool, "%s/" SPOOL_SUBDIR, cfg->tickets.spool_dir) < 0)
		t->spool = NULL;
	if (!t->node || !t->prefix || !t->spool || !t->timer) {
		err = ENOMEM;
		goto out;
	}
	err = mkdir_p(t->spool);
	if (err) {
		log_err(NULL, "tickets: spool directory %s: %s", t->spool, strerror(err));
		goto out;
	}
	if (dl_redis_connected(redis))
		tickets_redis_up(t);
	*tp = t;
	t = NULL;
out:
	if (t)
		destroy(t);
	return err;
}

void tickets_free(struct tickets *t)
{
	struct topen *o;
	struct rq *q;

	if (!t || t->freeing)
		return;
	t->freeing = true;
	hold(t);
	su_timer_reset(t->timer);
	/* Nothing in flight may be lost: those tickets go to the spool (a create that Redis did
	 * carry out is found existing when the file is replayed). */
	while ((q = t->inflight)) {
		rq_unlink(t, q);
		q->t = NULL;
		if (q->kind == RQ_CREATE && q->o) {
			o = q->o;
			q->o = NULL;
			spool_and_done(t, o);
		}
	}
	while ((o = list_pop(&t->waiting, &t->waiting_tail)))
		local_and_store(t, o);
	/* Handlers may open more tickets meanwhile: they are spooled and land here too. */
	run_done(t);
	release(t);
}

void tickets_configure(struct tickets *t, struct dl_config *cfg)
{
	if (!t || !cfg)
		return;
	if (!cfg->tickets.spool_dir || !t->cfg->tickets.spool_dir ||
	    strcmp(cfg->tickets.spool_dir, t->cfg->tickets.spool_dir) != 0 ||
	    !cfg->redis_prefix || strcmp(cfg->redis_prefix, t->prefix) != 0)
		log_warn(NULL, "tickets: spool directory or Redis prefix changed: takes effect at "
			 "restart");
	config_unref(t->cfg);
	t->cfg = config_ref(cfg);
}

void tickets_redis_up(struct tickets *t)
{
	struct dirent *e;
	DIR *d;
	int year;

	if (!t || t->freeing || !dl_redis_connected(t->redis))
		return;
	hold(t);
	year = year_of(now_ms());
	if (year != t->pool_year) {
		t->pool_year = year;
		t->n_pool = 0;
	}
	pool_refill(t);
	d = opendir(t->spool);
	if (!d) {
		log_err(NULL, "tickets: cannot read the spool %s: %s", t->spool, strerror(errno));
		goto out;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), sl = strlen(SPOOL_SUFFIX);
		struct topen *o = NULL;
		char path[4096];
		struct rq *q;
		int err;

		if (len <= sl || strcmp(e->d_name + len - sl, SPOOL_SUFFIX) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", t->spool, e->d_name);
		err = spool_read(path, &o);
		if (err) {
			log_err(NULL, "tickets: %s: %s: kept", path,
				err == EBADMSG ? "no id or due_ms" : strerror(err));
			continue;
		}
		q = rq_new(t, RQ_REPLAY, e->d_name);
		if (q)
			err = create_send(t, q, o);
		topen_free(o);
		if (!q || err)
			break;   /* out of memory or down again: the next connect retries */
	}
	closedir(d);
out:
	release(t);
}

int ticket_open(struct tickets *t, const struct ticket_new *tn, ticket_opened_h *h, void *arg)
{
	const char *f[TF_COUNT];
	struct topen *o;
	time_t due_s;
	int year, err;

	if (!t || !tn || !h)
		return EINVAL;
	for (int i = 0; i < TF_COUNT; i++)
		f[i] = tn_field(tn, (enum tfield)i);
	o = topen_new(f);
	if (!o)
		return ENOMEM;
	o->h = h;
	o->arg = arg;
	o->created_ms = tn->created_ms;
	snprintf(o->node, sizeof(o->node), "%s", t->node);

	err = calendar_due_at(&t->cfg->calendar, (time_t)(tn->created_ms / 1000u), &due_s);
	if (err) {
		log_warn(tn->call_id, "tickets: the calendar gives no due time (%s): due in a day",
			 strerror(err));
		o->res.due_ms = tn->created_ms + DUE_FALLBACK_MS;
	} else {
		o->res.due_ms = (uint64_t)due_s * 1000u;
	}

	year = year_of(tn->created_ms);
	if (t->pool_year && year < t->pool_year) {
		/* Stamped in a year already over (a call that began before midnight): a number
		 * of its own year, without dropping this year's pool. */
		local_and_store(t, o);
	} else if (pool_take(t, year, o)) {
		pool_refill(t);
		create_or_spool(t, o);
	} else if (!t->freeing && dl_redis_connected(t->redis)) {
		list_push(&t->waiting, &t->waiting_tail, o);
		pool_refill(t);
		if (t->refill_year != t->pool_year)
			serve_waiting(t, true);   /* the reservation could not be sent */
	} else {
		local_and_store(t, o);   /* Redis down: the spool */
	}
	return 0;
}

void ticket_note(struct tickets *t, const char *id, const char *field, const char *value)
{
	char who[96], *what = NULL;
	struct rq *q = NULL;

	if (!t || !id || !field || !value)
		return;
	if (asprintf(&what, "%s %s=%s", id, field, value) < 0)
		what = NULL;
	snprintf(who, sizeof(who), "node:%s", t->node);
	q = what ? rq_new(t, RQ_NOTE, what) : NULL;
	if (q) {
		const char *args[] = { id, field, value, who };

		if (rq_send(t, q, AGENTDB_TICKET_NOTE, 4, args) == 0) {
			log_info(NULL, "ticket %s", what);
			free(what);
			return;
		}
	}
	log_notice(NULL, "ticket %s %s=%s (Redis unreachable: only logged)", id, field, value);
	free(what);
}

/* The mail --------------------------------------------------------------------------------------- */

/** Output into a caller's buffer; `full` once something did not fit. */
struct mb {
	char *buf;
	size_t size, len;
	bool full;
};

static void mb_put(struct mb *b, const char *s, size_t n)
{
	if (b->full || n >= b->size - b->len) {
		b->full = true;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void mb_str(struct mb *b, const char *s)
{
	mb_put(b, s, strlen(s));
}

static void mb_fmt(struct mb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mb_fmt(struct mb *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->full = true;
		return;
	}
	mb_put(b, tmp, (size_t)n);
}

/**
 * Length of the valid UTF-8 sequence at @p p (RFC 3629 §4: no overlongs, no surrogates, nothing
 * above U+10FFFF), or 0 when it is not one.
 */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		unsigned lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;

		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		unsigned lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;

		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
		       (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/**
 * A body value: control characters (CR and LF above all: no value adds a line) become spaces,
 * invalid UTF-8 '?', and a value that would pass BODY_WRAP_BYTES goes on in continuation lines
 * indented by two spaces, split between characters. @p col: bytes on the line so far.
 */
static void mb_body_value(struct mb *b, const char *s, size_t *col)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p), outn = n;
		const char *out = (const char *)p;

		if (n == 0) {
			out = "?";
			n = outn = 1;
		} else if (n == 1 && ((*p < 0x20 && *p != '\t') || *p == 0x7f)) {
			out = " ";
		}
		if (*col + outn > BODY_WRAP_BYTES) {
			mb_put(b, "\r\n  ", 4);
			*col = 2;
		}
		mb_put(b, out, outn);
		*col += outn;
		p += n;
	}
}

static void mb_body_line(struct mb *b, const char *label, const char *value)
{
	size_t col = strlen(label);

	mb_str(b, label);
	mb_body_value(b, value && *value ? value : "-", &col);
	mb_put(b, "\r\n", 2);
}

/** A header value with CR, LF and other control characters left out, cut at
 * HEADER_VALUE_MAX_BYTES. @return the bytes written. */
static size_t mb_header_text(struct mb *b, const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)(s ? s : "");
	     *p && n < HEADER_VALUE_MAX_BYTES; p++) {
		if (*p < 0x20 || *p == 0x7f)
			continue;
		mb_put(b, (const char *)p, 1);
		n++;
	}
	return n;
}

/** RFC 5322 §3.3 date-time in local time: "Sun, 29 Nov 2026 16:00:00 +0200". */
static void mb_date(struct mb *b, time_t now_s)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					      "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	long off_min;

	if (!localtime_r(&now_s, &tm)) {
		b->full = true;
		return;
	}
	off_min = tm.tm_gmtoff / 60;
	mb_fmt(b, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday % 7],
	       tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	       tm.tm_sec, off_min < 0 ? '-' : '+', labs(off_min) / 60, labs(off_min) % 60);
}

int ticket_format_mail(char *buf, size_t size, const char *from, const char *const *to,
		       size_t n_to, const struct ticket_new *tn, const struct ticket_opened *t,
		       const char *due_local, const char *clerk_name, time_t now_s)
{
	struct mb b = { .buf = buf, .size = size };
	char id[sizeof(t->id)], due[64], subject[512], encoded[2048], received[64], due_line[160];
	char clerk[256];
	size_t col;
	int n;

	if (!buf || size == 0 || !tn || !t || (n_to && !to))
		return -1;
	buf[0] = '\0';

	snprintf(id, sizeof(id), "%s", t->id[0] ? t->id : "none");
	id_safe(id);
	/* due_local is ours (calendar_format_local) but goes into headers: no line breaks. */
	n = 0;
	for (const char *p = due_local ? due_local : ""; *p && n + 1 < (int)sizeof(due); p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			due[n++] = *p;
	due[n] = '\0';
	if (calendar_format_local((time_t)(tn->created_ms / 1000u), received, sizeof(received)))
		snprintf(received, sizeof(received), "%" PRIu64 " (Unix ms)", tn->created_ms);

	mb_str(&b, "From: ");
	mb_header_text(&b, from);
	mb_str(&b, "\r\nTo: ");
	col = 4;
	for (size_t i = 0; i < n_to; i++) {
		size_t len = strlen(to[i] ? to[i] : "");

		if (i > 0) {
			/* RFC 5322 §2.2.3: fold at the comma when the line would grow too long. */
			if (col + 2 + len > HEADER_FOLD_COLUMN) {
				mb_str(&b, ",\r\n ");
				col = 1;
			} else {
				mb_str(&b, ", ");
				col += 2;
			}
		}
		col += mb_header_text(&b, to[i]);
	}
	/* RFC 2047 §2: the Subject is UTF-8 text in encoded-words (Hebrew first: the department
	 * reads Hebrew; the English half for mail filters and the integrators). */
	snprintf(subject, sizeof(subject), "פנייה חדשה / New inquiry %s — due %s", id, due);
	if (outbox_encode_header(subject, encoded, sizeof(encoded)) < 0)
		return -1;
	mb_str(&b, "\r\nSubject: ");
	mb_str(&b, encoded);
	mb_str(&b, "\r\nDate: ");
	mb_date(&b, now_s);
	mb_fmt(&b, "\r\nMessage-ID: <%s.%lld@deskline>\r\n", id, (long long)now_s);
	mb_str(&b, "MIME-Version: 1.0\r\n"
		   "Content-Type: text/plain; charset=UTF-8\r\n"
		   "Content-Transfer-Encoding: 8bit\r\n"
		   "\r\n");

	if (t->clerk[0] && clerk_name && *clerk_name && strcmp(clerk_name, t->clerk) != 0)
		snprintf(clerk, sizeof(clerk), "%s (%s)", clerk_name, t->clerk);
	else if (t->clerk[0])
		snprintf(clerk, sizeof(clerk), "%s", t->clerk);
	else if (t->spooled)
		snprintf(clerk, sizeof(clerk), "(pending)");
	else
		snprintf(clerk, sizeof(clerk), "(none: nobody serves the queue)");
	snprintf(due_line, sizeof(due_line),
		 "%s (end of the business day, Procedure 46 §6)", due);

	mb_body_line(&b, "מספר פנייה / Ticket: ", id);
	mb_body_line(&b, "התקבלה / Received: ", received);
	mb_body_line(&b, "מועד יעד / Due: ", due_line);
	mb_body_line(&b, "מספר הפונה / Caller number: ", tn->caller);
	mb_body_line(&b, "שם הפונה / Caller name: ", tn->caller_name);
	mb_body_line(&b, "המספר שחויג / Number called: ", tn->called);
	mb_body_line(&b, "מזהה שיחה / Call-ID: ", tn->call_id);
	mb_body_line(&b, "מסלול בתפריט / Menu path: ", tn->menu_path);
	mb_body_line(&b, "נושא / Category: ", tn->category);
	mb_body_line(&b, "סיבה / Reason: ", tn->reason);
	mb_body_line(&b, "הועברה אל / Forwarded to: ", tn->forward);
	mb_body_line(&b, "פקידים שנוסו / Clerks tried: ", tn->tried);
	mb_body_line(&b, "פקיד מטפל / Assigned clerk: ", clerk);

	if (b.full)
		return -1;
	return (int)b.len;
}
