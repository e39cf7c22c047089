/**
 * @file outbox.c  Mail that is never lost (Procedure 46 §4): a spool on disk and a mailer
 *                 thread that sends it with libcurl's SMTP.
 *
 * Spool layout (DIR is the directory given to outbox_alloc):
 *
 *   DIR/lock     flock()ed by the one outbox that owns the spool; a second one (a daemon started
 *                twice) gets EBUSY instead of sending every message twice.
 *   DIR/tmp/     files being written. Nothing here is ever sent: a file left by a crash was never
 *                acknowledged (outbox_enqueue had not returned 0), so outbox_alloc removes it.
 *   DIR/new/     complete messages waiting to be sent, one file each. A file only gets here by
 *                rename() after its bytes were fsynced, and the directory is fsynced after the
 *                rename, so a file in new/ is whole and survives a power cut. It stays here during
 *                an attempt and is removed only after the server accepted the message.
 *   DIR/failed/  messages the server refused permanently (5xx) and files that do not parse; never
 *                retried, each logged at LOG_ERR when it moves. Moving a file back to new/ sends
 *                it again (at the next start, or the next pass of the mailer).
 *
 * File names are "<µs since the epoch, 17 digits>.<pid>": they sort in enqueue order (µs made
 * strictly increasing within a process, so a clock step back cannot reorder one process's mail),
 * and the mailer sends in name order. A file holds the envelope, then the message:
 *
 *   Rcpt-To: <address>\n      one line per recipient (1–OUTBOX_RCPT_MAX), as given to enqueue
 *   \n
 *   the message bytes, exactly as given to outbox_enqueue
 *
 * Delivery is at least once: a crash after the server accepted a message but before its file
 * was unlinked sends it again at the next start (the unlink is not fsynced for the same
 * reason: the worst a lost unlink does is a duplicate). An attempt reads its file whole into
 * memory; these mails are a few kilobytes.
 *
 * The mailer thread sleeps on a condition variable; outbox_enqueue and outbox_free signal it,
 * and it wakes by itself at the earliest retry time. A pass lists new/ (O(files), the spool is
 * normally empty) and tries each file whose retry time has come. Failures are of three kinds:
 *
 *   - the server: no connection, timeout, TLS or AUTH failure, a bad greeting, 421. Whatever the
 *     next file is, it would fail the same way, so the pass stops and nothing is tried before the
 *     server's retry time (OUTBOX_RETRY_MIN_MS doubling to OUTBOX_RETRY_MAX_MS). Mail waiting
 *     for an outage keeps its order.
 *   - the message, temporarily: a 4xx reply to MAIL, RCPT or DATA. That file gets its own
 *     backoff (min doubling to max) and the pass goes on with the next file.
 *   - the message, permanently: a 5xx reply to MAIL, RCPT or the end of DATA (RFC 5321 §4.2.1).
 *     With one recipient the file moves to failed/. With several, each recipient is tried in
 *     its own transaction, because curl stops at the first refused RCPT and does not say which
 *     one it was (CURLOPT_MAIL_RCPT_ALLLOWFAILS would send to the rest and hide the refusal):
 *     accepted recipients are done, refused ones go to failed/ in a copy of the file, and the
 *     file in new/ is rewritten (tmp, fsync, rename) with the ones that are left.
 *
 * Backoff times live in memory only: after a restart everything in the spool is tried at once.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deskline/log.h"
#include "deskline/outbox.h"
#include "deskline/thread.h"

#define MSTIME_NEVER UINT64_MAX

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets. */
#define RCPT_LEN_MAX 254u

/** The envelope line in a spool file. */
#define RCPT_PREFIX     "Rcpt-To: "
#define RCPT_PREFIX_LEN (sizeof(RCPT_PREFIX) - 1)

/** Names tried in failed/ (name, name.1, … name.99) before a move there gives up. */
#define FAILED_NAME_TRIES 100

/** One file's retry state (mailer thread only). */
struct backoff {
	char name[NAME_MAX + 1];
	mstime_t due_ms;      /**< not before this (monotonic) */
	unsigned delay_ms;    /**< the last delay; the next one is twice this */
};

struct outbox {
	char *dir;
	char *url, *from, *username, *password;
	bool starttls;
	unsigned timeout_ms;

	int lock_fd, tmp_fd, new_fd, failed_fd;   /**< -1 when not open */

	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool sync_ready;           /**< mutex and cond initialised */
	bool curl_ready;           /**< curl_global_init done */
	bool thread_running;
	atomic_bool stopping;      /**< read by curl's progress callback without the mutex */
	bool kicked;               /**< mutex: something was enqueued since the last pass */
	unsigned retry_min_ms;     /**< mutex */
	unsigned retry_max_ms;     /**< mutex */
	uint64_t last_name_us;     /**< mutex: the last file name handed out */
	pthread_t thread;

	/* The mailer thread's own; created in outbox_alloc before the thread starts. */
	CURL *curl;
	char curl_err[CURL_ERROR_SIZE];
	char reply[256];           /**< the attempt's first 4xx/5xx reply line, for the logs */
	struct backoff *backoff;
	size_t n_backoff, cap_backoff;
	mstime_t server_due_ms;    /**< no attempt before this: the server was unreachable */
	unsigned server_delay_ms;  /**< 0 while the server answers */
};

/** What one attempt, or one file, came to. */
enum attempt {
	ATTEMPT_SENT,        /**< accepted (or settled for good: moved to failed/) */
	ATTEMPT_REFUSED,     /**< 5xx: never try again */
	ATTEMPT_LATER,       /**< 4xx or a local error: this message, after its backoff */
	ATTEMPT_SERVER,      /**< the server is not usable: nothing until its retry time */
	ATTEMPT_STOPPED,     /**< outbox_free interrupted it */
};

/** A spool file in memory; rcpt and msg point into buf. */
struct spooled {
	char *buf;
	size_t size;
	const char *rcpt[OUTBOX_RCPT_MAX];
	size_t n_rcpt;
	const char *msg;
	size_t len;
};

/** The message being uploaded (curl's read callback). */
struct upload {
	const char *data;
	size_t len, off;
};

static mstime_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (mstime_t)ts.tv_sec * 1000u + (mstime_t)ts.tv_nsec / 1000000u;
}

static unsigned next_delay_ms(unsigned last_ms, unsigned min_ms, unsigned max_ms)
{
	if (last_ms == 0 || last_ms < min_ms)
		return min_ms;
	return last_ms >= max_ms / 2 ? max_ms : last_ms * 2;
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

/** Recipients become lines of the spool file and arguments of RCPT TO. */
static bool rcpt_valid(const char *rcpt)
{
	size_t len;

	if (!rcpt)
		return false;
	len = strlen(rcpt);
	if (len == 0 || len > RCPT_LEN_MAX)
		return false;
	/* No controls (CR LF would inject SMTP commands and break the spool format) and no
	 * spaces: quoted local parts with spaces exist in RFC 5321 but not in any real setup. */
	for (const unsigned char *c = (const unsigned char *)rcpt; *c; c++)
		if (*c <= 0x20 || *c == 0x7f)
			return false;
	return true;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_fd(int fd)
{
	return fsync(fd) == 0 ? 0 : errno;
}

/**
 * mkdir -p, fsyncing the parent of every directory it creates (a new directory entry is only
 * durable once its parent is synced, and the spool must survive a power cut).
 */
static int mkdir_parents(const char *path)
{
	char *copy = strdup(path);
	char *p;
	int err = 0;

	if (!copy)
		return ENOMEM;
	for (p = copy + 1; ; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) == 0) {
			char *slash = strrchr(copy, '/');
			int pfd;

			if (slash == copy)
				pfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			else if (slash) {
				*slash = '\0';
				pfd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				*slash = '/';
			} else {
				pfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			}
			if (pfd >= 0) {
				fsync(pfd);
				close(pfd);
			}
		} else if (errno != EEXIST) {
			err = errno;
			goto out;
		}
		if (last)
			break;
		*p = '/';
	}
out:
	free(copy);
	return err;
}

/** Open (creating it if needed) the subdirectory @p name of @p dir_fd. */
static int open_subdir(int dir_fd, const char *name, int *fdp)
{
	int fd;

	if (mkdirat(dir_fd, name, 0700) != 0 && errno != EEXIST)
		return errno;
	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	*fdp = fd;
	return 0;
}

/** Call @p fn for every file name in directory @p dir_fd (dot files skipped). */
static int for_each_file(int dir_fd, void (*fn)(const char *name, void *arg), void *arg)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	d = fdopendir(fd);
	if (!d) {
		int err = errno;

		close(fd);
		return err;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			fn(de->d_name, arg);
	closedir(d);
	return 0;
}

static void remove_unfinished(const char *name, void *arg)
{
	struct outbox *ob = arg;

	if (unlinkat(ob->tmp_fd, name, 0) == 0)
		log_notice(NULL, "outbox: removed %s/tmp/%s, a message never acknowledged (crash "
			   "while it was written)", ob->dir, name);
}

static void count_file(const char *name, void *arg)
{
	(void)name;
	(*(size_t *)arg)++;
}

struct name_list {
	char **names;
	size_t n, cap;
	bool nomem;
};

static void collect_name(const char *name, void *arg)
{
	struct name_list *nl = arg;
	char *copy;

	if (nl->nomem)
		return;
	if (nl->n == nl->cap) {
		size_t cap = nl->cap ? nl->cap * 2 : 16;
		char **names = realloc(nl->names, cap * sizeof(*names));

		if (!names) {
			nl->nomem = true;
			return;
		}
		nl->names = names;
		nl->cap = cap;
	}
	copy = strdup(name);
	if (!copy) {
		nl->nomem = true;
		return;
	}
	nl->names[nl->n++] = copy;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void name_list_free(struct name_list *nl)
{
	for (size_t i = 0; i < nl->n; i++)
		free(nl->names[i]);
	free(nl->names);
	memset(nl, 0, sizeof(*nl));
}

/** The files in new/, sorted (= enqueue order). */
static int spool_list(struct outbox *ob, struct name_list *nl)
{
	int err;

	memset(nl, 0, sizeof(*nl));
	err = for_each_file(ob->new_fd, collect_name, nl);
	if (!err && nl->nomem)
		err = ENOMEM;
	if (err) {
		name_list_free(nl);
		return err;
	}
	if (nl->n > 1)
		qsort(nl->names, nl->n, sizeof(nl->names[0]), cmp_names);
	return 0;
}

/** A fresh spool file name: strictly increasing µs within this process. */
static void spool_name(struct outbox *ob, char *name, size_t size)
{
	struct timespec ts;
	uint64_t us;

	clock_gettime(CLOCK_REALTIME, &ts);
	us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	pthread_mutex_lock(&ob->mutex);
	if (us <= ob->last_name_us)
		us = ob->last_name_us + 1;
	ob->last_name_us = us;
	pthread_mutex_unlock(&ob->mutex);
	snprintf(name, size, "%017" PRIu64 ".%ld", us, (long)getpid());
}

/**
 * Write envelope and message to tmp/@p tmp_name and fsync it. On error nothing is left behind.
 */
static int spool_write(struct outbox *ob, const char *tmp_name, const char *const *rcpt,
		       size_t n_rcpt, const char *msg, size_t len)
{
	char head[OUTBOX_RCPT_MAX * (RCPT_PREFIX_LEN + RCPT_LEN_MAX + 1) + 2];
	size_t used = 0;
	int fd, err;

	for (size_t i = 0; i < n_rcpt; i++)
		used += (size_t)snprintf(head + used, sizeof(head) - used, RCPT_PREFIX "%s\n",
					 rcpt[i]);
	head[used++] = '\n';

	fd = openat(ob->tmp_fd, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	err = write_all(fd, head, used);
	if (!err)
		err = write_all(fd, msg, len);
	if (!err)
		err = fsync_fd(fd);
	if (close(fd) != 0 && !err)
		err = errno;
	if (err)
		unlinkat(ob->tmp_fd, tmp_name, 0);
	return err;
}

/**
 * Move tmp/@p tmp_name to @p dst_fd/@p name and fsync that directory. @p flags is 0 (replace)
 * or RENAME_NOREPLACE (then EEXIST when the name is taken; the tmp file stays).
 */
static int spool_commit(struct outbox *ob, const char *tmp_name, int dst_fd, const char *name,
			unsigned flags)
{
	if (renameat2(ob->tmp_fd, tmp_name, dst_fd, name, flags) != 0)
		return errno;
	return fsync_fd(dst_fd);
}

/**
 * Put a message into failed/ for good, under @p name or "<name>.<n>" when that is taken (a
 * file whose recipients were refused at different times leaves several copies). Either
 * renames new/@p name (@p sp NULL) or writes a copy of @p sp for the recipients in @p rcpt.
 */
static int spool_fail(struct outbox *ob, const char *name, const struct spooled *sp,
		      const char *const *rcpt, size_t n_rcpt)
{
	char tmp[NAME_MAX + 1], dst[NAME_MAX + 1];
	int err = 0;

	if (sp) {
		snprintf(tmp, sizeof(tmp), "%.*s.failed", NAME_MAX - 8, name);
		err = spool_write(ob, tmp, rcpt, n_rcpt, sp->msg, sp->len);
		if (err)
			return err;
	}
	for (unsigned i = 0; i < FAILED_NAME_TRIES; i++) {
		if (i == 0)
			snprintf(dst, sizeof(dst), "%s", name);
		else
			snprintf(dst, sizeof(dst), "%.*s.%u", NAME_MAX - 4, name, i);
		if (sp)
			err = spool_commit(ob, tmp, ob->failed_fd, dst, RENAME_NOREPLACE);
		else if (renameat2(ob->new_fd, name, ob->failed_fd, dst, RENAME_NOREPLACE) != 0)
			err = errno;
		else if (!(err = fsync_fd(ob->failed_fd)))
			err = fsync_fd(ob->new_fd);
		if (err != EEXIST)
			break;
	}
	if (err && sp)
		unlinkat(ob->tmp_fd, tmp, 0);
	return err;
}

/** Read and parse new/@p name. EBADMSG: not a spool file. */
static int spool_read(struct outbox *ob, const char *name, struct spooled *sp)
{
	struct stat st;
	char *p, *end;
	size_t got = 0;
	int fd, err = 0;

	memset(sp, 0, sizeof(*sp));
	fd = openat(ob->new_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ELOOP ? EBADMSG : errno;
	if (fstat(fd, &st) != 0) {
		err = errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EBADMSG;
		goto out;
	}
	sp->size = (size_t)st.st_size;
	sp->buf = malloc(sp->size + 1);
	if (!sp->buf) {
		err = ENOMEM;
		goto out;
	}
	while (got < sp->size) {
		ssize_t n = read(fd, sp->buf + got, sp->size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	sp->size = got;
	sp->buf[got] = '\0';

	p = sp->buf;
	end = sp->buf + got;
	for (;;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl) {
			err = EBADMSG;
			goto out;
		}
		if (nl == p) {
			p++;
			break;
		}
		if (sp->n_rcpt == OUTBOX_RCPT_MAX || (size_t)(nl - p) <= RCPT_PREFIX_LEN ||
		    memcmp(p, RCPT_PREFIX, RCPT_PREFIX_LEN) != 0) {
			err = EBADMSG;
			goto out;
		}
		*nl = '\0';
		if (!rcpt_valid(p + RCPT_PREFIX_LEN)) {
			err = EBADMSG;
			goto out;
		}
		sp->rcpt[sp->n_rcpt++] = p + RCPT_PREFIX_LEN;
		p = nl + 1;
	}
	sp->msg = p;
	sp->len = (size_t)(end - p);
	if (sp->n_rcpt == 0 || sp->len == 0)
		err = EBADMSG;
out:
	close(fd);
	if (err) {
		free(sp->buf);
		memset(sp, 0, sizeof(*sp));
	}
	return err;
}

static size_t upload_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *up = arg;
	size_t n = size * nmemb;

	if (n > up->len - up->off)
		n = up->len - up->off;
	memcpy(dst, up->data + up->off, n);
	up->off += n;
	return n;
}

/** curl calls this at least once a second, also while it waits for the server: the way
 *  outbox_free gets an attempt to end before its timeout. */
static int upload_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			   curl_off_t ulnow)
{
	struct outbox *ob = arg;

	return atomic_load(&ob->stopping) ? 1 : 0;
}

/** For the SMTP protocol curl hands every server reply line to the header callback. The first
 *  4xx/5xx one is kept for the logs (what follows it is QUIT's 221). */
static size_t reply_line(char *data, size_t size, size_t nmemb, void *arg)
{
	struct outbox *ob = arg;
	size_t n = size * nmemb, len = n;

	if (ob->reply[0] || n < 3 || data[0] < '4' || data[0] > '5')
		return n;
	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
		len--;
	if (len >= sizeof(ob->reply))
		len = sizeof(ob->reply) - 1;
	memcpy(ob->reply, data, len);
	ob->reply[len] = '\0';
	return n;
}

/** The options that are the same for every attempt. */
static int curl_setup(struct outbox *ob)
{
	CURL *c = ob->curl;
	CURLcode r = CURLE_OK;

#define SET(opt, val) do { if (r == CURLE_OK) r = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_URL, ob->url);
	SET(CURLOPT_MAIL_FROM, ob->from);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, upload_read);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, upload_progress);
	SET(CURLOPT_XFERINFODATA, ob);
	SET(CURLOPT_HEADERFUNCTION, reply_line);
	SET(CURLOPT_HEADERDATA, ob);
	SET(CURLOPT_ERRORBUFFER, ob->curl_err);
	/* Threads must not let curl use signals (its resolver timeout uses SIGALRM). */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)ob->timeout_ms);
	/* Every attempt on its own connection, closed (QUIT) right after it while the server is
	 * known to answer. A connection kept idle between mails is the one a firewall drops
	 * silently: the next mail would wait out the timeout on it, and curl_easy_cleanup's QUIT
	 * would hold outbox_free for the reply timeout. Mails are few; the handshake is cheap. */
	SET(CURLOPT_FORBID_REUSE, 1L);
	/* The QUIT reply is awaited outside CURLOPT_TIMEOUT_MS, up to 120 s by default. */
	SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, (long)((ob->timeout_ms + 999u) / 1000u));
	if (ob->starttls)
		SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (ob->username) {
		SET(CURLOPT_USERNAME, ob->username);
		SET(CURLOPT_PASSWORD, ob->password ? ob->password : "");
	}
#undef SET
	return r == CURLE_OK ? 0 : (r == CURLE_OUT_OF_MEMORY ? ENOMEM : EINVAL);
}

/**
 * One SMTP transaction: @p msg to @p rcpt. Classifies the result (see the top of the file);
 * ob->reply and ob->curl_err say why for the logs.
 */
static enum attempt smtp_send(struct outbox *ob, const char *const *rcpt, size_t n_rcpt,
			      const char *msg, size_t len)
{
	struct upload up = { .data = msg, .len = len };
	struct curl_slist *list = NULL;
	long code = 0;
	CURLcode res;

	for (size_t i = 0; i < n_rcpt; i++) {
		struct curl_slist *l = curl_slist_append(list, rcpt[i]);

		if (!l) {
			curl_slist_free_all(list);
			snprintf(ob->curl_err, sizeof(ob->curl_err), "out of memory");
			return ATTEMPT_LATER;
		}
		list = l;
	}
	ob->curl_err[0] = '\0';
	ob->reply[0] = '\0';
	curl_easy_setopt(ob->curl, CURLOPT_MAIL_RCPT, list);
	curl_easy_setopt(ob->curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(ob->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	res = curl_easy_perform(ob->curl);
	curl_easy_getinfo(ob->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(ob->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(ob->curl, CURLOPT_READDATA, NULL);
	curl_slist_free_all(list);
	if (!ob->curl_err[0])
		snprintf(ob->curl_err, sizeof(ob->curl_err), "%s", curl_easy_strerror(res));

	if (res == CURLE_OK)
		return ATTEMPT_SENT;
	if (res == CURLE_ABORTED_BY_CALLBACK && atomic_load(&ob->stopping))
		return ATTEMPT_STOPPED;
	/* curl reports a refused MAIL, RCPT or DATA as CURLE_SEND_ERROR and a refusal after the
	 * message was sent as CURLE_WEIRD_SERVER_REPLY (which also means a bad greeting: hence
	 * the check that the whole message went up). CURLINFO_RESPONSE_CODE is the reply. */
	if (res == CURLE_SEND_ERROR || (res == CURLE_WEIRD_SERVER_REPLY && up.off == up.len)) {
		if (code >= 500 && code <= 599)
			return ATTEMPT_REFUSED;
		/* 421: the server is closing the channel (RFC 5321 §3.8), not about this mail. */
		if (code >= 400 && code <= 499 && code != 421)
			return ATTEMPT_LATER;
	}
	return ATTEMPT_SERVER;
}

/** Join recipients for a log line. */
static const char *rcpt_text(char *buf, size_t size, const char *const *rcpt, size_t n_rcpt)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n_rcpt && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", rcpt[i]);
	return buf;
}

/**
 * After per-recipient attempts: refused recipients go to failed/ in a copy, the file in new/
 * keeps the ones still to do (or goes). @return ATTEMPT_SENT when nothing is left to do.
 */
static enum attempt spool_settle(struct outbox *ob, const char *name, const struct spooled *sp,
				 const enum attempt *result, const char *why)
{
	const char *refused[OUTBOX_RCPT_MAX], *left[OUTBOX_RCPT_MAX];
	size_t n_refused = 0, n_left = 0;
	char tmp[NAME_MAX + 1], who[1024];
	int err;

	for (size_t i = 0; i < sp->n_rcpt; i++) {
		if (result[i] == ATTEMPT_REFUSED)
			refused[n_refused++] = sp->rcpt[i];
		else if (result[i] != ATTEMPT_SENT)
			left[n_left++] = sp->rcpt[i];
	}

	if (n_refused) {
		/* Only refusals: the file itself moves, no copy. */
		err = spool_fail(ob, name, n_refused == sp->n_rcpt ? NULL : sp, refused, n_refused);
		if (err) {
			log_err(NULL, "outbox: %s: cannot move to %s/failed: %s; kept, retried", name,
				ob->dir, strerror(err));
			return ATTEMPT_LATER;
		}
		log_err(NULL, "outbox: %s refused permanently for %s (%s); moved to %s/failed, "
			"not retried", name, rcpt_text(who, sizeof(who), refused, n_refused), why,
			ob->dir);
		if (n_refused == sp->n_rcpt)
			return ATTEMPT_SENT;
	}
	if (n_left == 0) {
		unlinkat(ob->new_fd, name, 0);
		return ATTEMPT_SENT;
	}
	if (n_left == sp->n_rcpt)
		return ATTEMPT_LATER;

	snprintf(tmp, sizeof(tmp), "%.*s.left", NAME_MAX - 6, name);
	err = spool_write(ob, tmp, left, n_left, sp->msg, sp->len);
	if (!err) {
		err = spool_commit(ob, tmp, ob->new_fd, name, 0);
		if (err)
			unlinkat(ob->tmp_fd, tmp, 0);
	}
	if (err)
		/* The old file stays whole: the done recipients get the message again. */
		log_err(NULL, "outbox: %s: cannot narrow it to %zu recipient(s): %s", name, n_left,
			strerror(err));
	return ATTEMPT_LATER;
}

/** Try to send new/@p name. */
static enum attempt mailer_send_file(struct outbox *ob, const char *name)
{
	enum attempt result[OUTBOX_RCPT_MAX], r;
	struct spooled sp;
	char who[1024], why[sizeof(ob->reply)];
	int err;

	err = spool_read(ob, name, &sp);
	if (err == ENOENT)
		return ATTEMPT_SENT;  /* someone took it away: nothing to do */
	if (err == EBADMSG) {
		err = spool_fail(ob, name, NULL, NULL, 0);
		log_err(NULL, "outbox: %s/new/%s is not a spool file; %s", ob->dir, name,
			err ? strerror(err) : "moved to failed/, not sent");
		return err ? ATTEMPT_LATER : ATTEMPT_SENT;
	}
	if (err) {
		log_err(NULL, "outbox: cannot read %s/new/%s: %s", ob->dir, name, strerror(err));
		return ATTEMPT_LATER;
	}

	r = smtp_send(ob, sp.rcpt, sp.n_rcpt, sp.msg, sp.len);
	switch (r) {
	case ATTEMPT_SENT:
		unlinkat(ob->new_fd, name, 0);
		log_info(NULL, "outbox: %s sent to %s", name,
			 rcpt_text(who, sizeof(who), sp.rcpt, sp.n_rcpt));
		break;
	case ATTEMPT_REFUSED:
		snprintf(why, sizeof(why), "%s", ob->reply[0] ? ob->reply : ob->curl_err);
		if (sp.n_rcpt == 1) {
			result[0] = ATTEMPT_REFUSED;
			r = spool_settle(ob, name, &sp, result, why);
			break;
		}
		/* Which recipient was it? One transaction each (see the top of the file). */
		for (size_t i = 0; i < OUTBOX_RCPT_MAX; i++)
			result[i] = ATTEMPT_LATER;
		r = ATTEMPT_SENT;
		for (size_t i = 0; i < sp.n_rcpt && r == ATTEMPT_SENT; i++) {
			enum attempt one = smtp_send(ob, &sp.rcpt[i], 1, sp.msg, sp.len);

			if (one == ATTEMPT_SERVER || one == ATTEMPT_STOPPED)
				r = one;
			else
				result[i] = one;
			if (one == ATTEMPT_SENT)
				log_info(NULL, "outbox: %s sent to %s", name, sp.rcpt[i]);
			else if (one == ATTEMPT_REFUSED)
				snprintf(why, sizeof(why), "%s",
					 ob->reply[0] ? ob->reply : ob->curl_err);
		}
		{
			enum attempt settled = spool_settle(ob, name, &sp, result, why);

			if (r == ATTEMPT_SENT)
				r = settled;
		}
		break;
	case ATTEMPT_LATER:
		log_warn(NULL, "outbox: %s deferred by the server (%s)", name,
			 ob->reply[0] ? ob->reply : ob->curl_err);
		break;
	case ATTEMPT_SERVER:
		log_warn(NULL, "outbox: %s not sent, server %s unusable: %s%s%s", name, ob->url,
			 ob->curl_err, ob->reply[0] ? "; " : "", ob->reply);
		break;
	case ATTEMPT_STOPPED:
		break;
	}
	free(sp.buf);
	return r;
}

static struct backoff *backoff_find(struct outbox *ob, const char *name)
{
	for (size_t i = 0; i < ob->n_backoff; i++)
		if (strcmp(ob->backoff[i].name, name) == 0)
			return &ob->backoff[i];
	return NULL;
}

static void backoff_forget(struct outbox *ob, const char *name)
{
	struct backoff *b = backoff_find(ob, name);

	if (b)
		*b = ob->backoff[--ob->n_backoff];
}

/** Drop the entries of files no longer in new/ (@p nl sorted). */
static void backoff_prune(struct outbox *ob, const struct name_list *nl)
{
	for (size_t i = 0; i < ob->n_backoff; ) {
		const char *key = ob->backoff[i].name;

		if (nl->n == 0 ||
		    !bsearch(&key, nl->names, nl->n, sizeof(nl->names[0]), cmp_names))
			ob->backoff[i] = ob->backoff[--ob->n_backoff];
		else
			i++;
	}
}

/** @return when new/@p name may be tried again. */
static mstime_t backoff_bump(struct outbox *ob, const char *name, mstime_t now,
			     unsigned min_ms, unsigned max_ms)
{
	struct backoff *b = backoff_find(ob, name);

	if (!b) {
		if (ob->n_backoff == ob->cap_backoff) {
			size_t cap = ob->cap_backoff ? ob->cap_backoff * 2 : 8;
			struct backoff *nb = realloc(ob->backoff, cap * sizeof(*nb));

			if (!nb)
				return now + max_ms;  /* no memory for the entry: wait long */
			ob->backoff = nb;
			ob->cap_backoff = cap;
		}
		b = &ob->backoff[ob->n_backoff++];
		snprintf(b->name, sizeof(b->name), "%s", name);
		b->delay_ms = 0;
	}
	b->delay_ms = next_delay_ms(b->delay_ms, min_ms, max_ms);
	b->due_ms = now + b->delay_ms;
	return b->due_ms;
}

/** One pass over the spool. @return when the next one is due (MSTIME_NEVER: on enqueue). */
static mstime_t mailer_pass(struct outbox *ob, unsigned min_ms, unsigned max_ms)
{
	mstime_t now = now_ms(), next = MSTIME_NEVER;
	struct name_list nl;
	int err;

	if (now < ob->server_due_ms)
		return ob->server_due_ms;
	err = spool_list(ob, &nl);
	if (err) {
		log_err(NULL, "outbox: cannot list %s/new: %s", ob->dir, strerror(err));
		return now + min_ms;
	}
	backoff_prune(ob, &nl);

	for (size_t i = 0; i < nl.n && !atomic_load(&ob->stopping); i++) {
		const char *name = nl.names[i];
		struct backoff *b = backoff_find(ob, name);
		mstime_t due;

		if (b && b->due_ms > now) {
			if (b->due_ms < next)
				next = b->due_ms;
			continue;
		}
		switch (mailer_send_file(ob, name)) {
		case ATTEMPT_SENT:
		case ATTEMPT_REFUSED:
			backoff_forget(ob, name);
			ob->server_delay_ms = 0;
			break;
		case ATTEMPT_LATER:
			ob->server_delay_ms = 0;
			due = backoff_bump(ob, name, now_ms(), min_ms, max_ms);
			if (due < next)
				next = due;
			break;
		case ATTEMPT_SERVER:
			ob->server_delay_ms = next_delay_ms(ob->server_delay_ms, min_ms, max_ms);
			ob->server_due_ms = now_ms() + ob->server_delay_ms;
			log_notice(NULL, "outbox: %zu message(s) waiting, next try in %u ms",
				   nl.n - i, ob->server_delay_ms);
			next = ob->server_due_ms;
			goto out;
		case ATTEMPT_STOPPED:
			goto out;
		}
		now = now_ms();
	}
out:
	name_list_free(&nl);
	return next;
}

static void *mailer_main(void *arg)
{
	struct outbox *ob = arg;
	mstime_t due_ms = 0;  /* at once: whatever the spool already holds */

	pthread_mutex_lock(&ob->mutex);
	while (!atomic_load(&ob->stopping)) {
		unsigned min_ms, max_ms;

		if (!ob->kicked && now_ms() < due_ms) {
			if (due_ms == MSTIME_NEVER) {
				pthread_cond_wait(&ob->cond, &ob->mutex);
			} else {
				struct timespec ts = {
					.tv_sec = (time_t)(due_ms / 1000u),
					.tv_nsec = (long)(due_ms % 1000u) * 1000000L,
				};

				pthread_cond_timedwait(&ob->cond, &ob->mutex, &ts);
			}
			continue;
		}
		ob->kicked = false;
		min_ms = ob->retry_min_ms;
		max_ms = ob->retry_max_ms;
		pthread_mutex_unlock(&ob->mutex);
		due_ms = mailer_pass(ob, min_ms, max_ms);
		pthread_mutex_lock(&ob->mutex);
	}
	pthread_mutex_unlock(&ob->mutex);
	return NULL;
}

/** Tear down whatever outbox_alloc got to. */
static void outbox_destroy(struct outbox *ob)
{
	if (ob->thread_running) {
		pthread_mutex_lock(&ob->mutex);
		atomic_store(&ob->stopping, true);
		pthread_cond_signal(&ob->cond);
		pthread_mutex_unlock(&ob->mutex);
		pthread_join(ob->thread, NULL);
	}
	if (ob->curl)
		curl_easy_cleanup(ob->curl);
	/* Reference counted by libcurl: another outbox keeps it. */
	if (ob->curl_ready)
		curl_global_cleanup();
	if (ob->sync_ready) {
		pthread_cond_destroy(&ob->cond);
		pthread_mutex_destroy(&ob->mutex);
	}
	if (ob->tmp_fd >= 0)
		close(ob->tmp_fd);
	if (ob->new_fd >= 0)
		close(ob->new_fd);
	if (ob->failed_fd >= 0)
		close(ob->failed_fd);
	if (ob->lock_fd >= 0)
		close(ob->lock_fd);  /* releases the flock */
	free(ob->backoff);
	free(ob->dir);
	free(ob->url);
	free(ob->from);
	free(ob->username);
	free(ob->password);
	free(ob);
}

int outbox_alloc(struct outbox **obp, const char *dir, const struct outbox_smtp *smtp)
{
	struct outbox *ob = NULL;
	pthread_condattr_t cattr;
	bool nomem = false;
	int dir_fd = -1;
	int err;

	if (!obp || !dir || !*dir || !smtp || !smtp->url || !*smtp->url || !smtp->from ||
	    !*smtp->from)
		return EINVAL;

	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return ENOMEM;
	ob->lock_fd = ob->tmp_fd = ob->new_fd = ob->failed_fd = -1;
	ob->dir = dup_or_null(dir, &nomem);
	ob->url = dup_or_null(smtp->url, &nomem);
	ob->from = dup_or_null(smtp->from, &nomem);
	ob->username = dup_or_null(smtp->username, &nomem);
	ob->password = dup_or_null(smtp->password, &nomem);
	if (nomem) {
		err = ENOMEM;
		goto out;
	}
	ob->starttls = smtp->starttls;
	ob->timeout_ms = smtp->timeout_ms ? smtp->timeout_ms : OUTBOX_TIMEOUT_DEFAULT_MS;
	ob->retry_min_ms = OUTBOX_RETRY_MIN_MS;
	ob->retry_max_ms = OUTBOX_RETRY_MAX_MS;
	atomic_init(&ob->stopping, false);

	err = mkdir_parents(dir);
	if (err)
		goto out;
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0) {
		err = errno;
		goto out;
	}
	ob->lock_fd = openat(dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ob->lock_fd < 0) {
		err = errno;
		goto out;
	}
	if (flock(ob->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		err = errno == EWOULDBLOCK ? EBUSY : errno;
		goto out;
	}
	if ((err = open_subdir(dir_fd, "tmp", &ob->tmp_fd)) ||
	    (err = open_subdir(dir_fd, "new", &ob->new_fd)) ||
	    (err = open_subdir(dir_fd, "failed", &ob->failed_fd)) ||
	    (err = fsync_fd(dir_fd)))
		goto out;
	err = for_each_file(ob->tmp_fd, remove_unfinished, ob);
	if (err)
		goto out;
	/* A spool we cannot write to would only show at the first enqueue, during a call. */
	if (faccessat(ob->new_fd, ".", W_OK | X_OK, AT_EACCESS) != 0 ||
	    faccessat(ob->tmp_fd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
		err = errno;
		goto out;
	}

	/* Not thread-safe in every libcurl build: done here, before the mailer thread exists. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err = ENOMEM;
		goto out;
	}
	ob->curl_ready = true;
	ob->curl = curl_easy_init();
	if (!ob->curl) {
		err = ENOMEM;
		goto out;
	}
	err = curl_setup(ob);
	if (err)
		goto out;

	err = pthread_mutex_init(&ob->mutex, NULL);
	if (err)
		goto out;
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	err = pthread_cond_init(&ob->cond, &cattr);
	pthread_condattr_destroy(&cattr);
	if (err) {
		pthread_mutex_destroy(&ob->mutex);
		goto out;
	}
	ob->sync_ready = true;

	err = dl_thread_start(&ob->thread, mailer_main, ob);
	if (err)
		goto out;
	ob->thread_running = true;
	*obp = ob;
	ob = NULL;
out:
	if (dir_fd >= 0)
		close(dir_fd);
	if (ob)
		outbox_destroy(ob);
	return err;
}

void outbox_free(struct outbox *ob)
{
	if (ob)
		outbox_destroy(ob);
}

int outbox_set_retry(struct outbox *ob, unsigned min_ms, unsigned max_ms)
{
	if (!ob || min_ms == 0 || max_ms < min_ms)
		return EINVAL;
	pthread_mutex_lock(&ob->mutex);
	ob->retry_min_ms = min_ms;
	ob->retry_max_ms = max_ms;
	pthread_mutex_unlock(&ob->mutex);
	return 0;
}

int outbox_enqueue(struct outbox *ob, const char *const *rcpt, size_t n_rcpt,
		   const char *message, size_t len, char *name)
{
	char fname[OUTBOX_NAME_SIZE], dst[OUTBOX_NAME_SIZE];
	int err;

	if (!ob || !rcpt || n_rcpt == 0 || n_rcpt > OUTBOX_RCPT_MAX || !message || len == 0)
		return EINVAL;
	for (size_t i = 0; i < n_rcpt; i++)
		if (!rcpt_valid(rcpt[i]))
			return EINVAL;

	spool_name(ob, fname, sizeof(fname));
	err = spool_write(ob, fname, rcpt, n_rcpt, message, len);
	if (err)
		goto out;
	/* The name is unique within this process; RENAME_NOREPLACE guards against a file left
	 * by another process with the same µs and pid (a clock step back plus pid reuse). */
	for (int tries = 0; tries < 3; tries++) {
		if (tries == 0)
			snprintf(dst, sizeof(dst), "%s", fname);
		else
			spool_name(ob, dst, sizeof(dst));
		err = spool_commit(ob, fname, ob->new_fd, dst, RENAME_NOREPLACE);
		if (err != EEXIST) {
			if (!err && name)
				snprintf(name, OUTBOX_NAME_SIZE, "%s", dst);
			break;
		}
	}
	if (err) {
		unlinkat(ob->tmp_fd, fname, 0);
		goto out;
	}
	log_debug(NULL, "outbox: spooled %s for %zu recipient(s), %zu bytes", dst, n_rcpt, len);

	pthread_mutex_lock(&ob->mutex);
	ob->kicked = true;
	pthread_cond_signal(&ob->cond);
	pthread_mutex_unlock(&ob->mutex);
out:
	return err;
}

size_t outbox_pending(struct outbox *ob)
{
	size_t n = 0;

	if (ob)
		for_each_file(ob->new_fd, count_file, &n);
	return n;
}

/*
 * RFC 2047 header encoding.
 */

/** RFC 2047 §2: an encoded-word is at most 75 characters, a line holding one at most 76. */
#define EW_LEN_MAX   75u
#define EW_LINE_MAX  76u
#define EW_PREFIX    "=?UTF-8?B?"
#define EW_SUFFIX    "?="
#define EW_OVERHEAD  (sizeof(EW_PREFIX) - 1 + sizeof(EW_SUFFIX) - 1)
#define EW_FOLD      "\r\n "

/** Characters that may stay as they are: printable ASCII and tab, and no "=?" (which a reader
 *  would take for the start of an encoded-word, RFC 2047 §5). */
static bool header_plain(const char *text)
{
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if ((*c < 0x20 && *c != '\t') || *c >= 0x7f)
			return false;
		if (c[0] == '=' && c[1] == '?')
			return false;
	}
	return true;
}

/** Bytes in the UTF-8 character at @p s; 1 for a byte that does not start a valid one (it is
 *  carried as it is, and never glued to its neighbours). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4;
	else
		return 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

static bool put(char *buf, size_t size, size_t *pos, const char *s, size_t n)
{
	if (*pos + n >= size)
		return false;
	memcpy(buf + *pos, s, n);
	*pos += n;
	return true;
}

static bool put_base64(char *buf, size_t size, size_t *pos, const unsigned char *s, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		if (!put(buf, size, pos, q, 4))
			return false;
	}
	return true;
}

int outbox_encode_header(const char *text, char *buf, size_t size)
{
	const unsigned char *p;
	size_t pos = 0;
	bool first = true;

	if (!text || !buf || size == 0)
		return -1;
	if (header_plain(text)) {
		size_t len = strlen(text);

		if (len >= size || len > INT_MAX)
			return -1;
		memcpy(buf, text, len + 1);
		return (int)len;
	}

	p = (const unsigned char *)text;
	while (*p) {
		/* The first line also holds "Field-Name: "; later ones start with the fold's space.
		 * Base64 comes in groups of 4 characters for 3 bytes. */
		size_t line = first ? EW_LINE_MAX - OUTBOX_HEADER_NAME_RESERVE : EW_LINE_MAX - 1;
		size_t word = line < EW_LEN_MAX ? line : EW_LEN_MAX;
		size_t max_bytes = (word - EW_OVERHEAD) / 4 * 3;
		size_t n = 0;

		while (p[n]) {
			size_t c = utf8_len(p + n);

			if (n + c > max_bytes)
				break;
			n += c;
		}
		if ((!first && !put(buf, size, &pos, EW_FOLD, sizeof(EW_FOLD) - 1)) ||
		    !put(buf, size, &pos, EW_PREFIX, sizeof(EW_PREFIX) - 1) ||
		    !put_base64(buf, size, &pos, p, n) ||
		    !put(buf, size, &pos, EW_SUFFIX, sizeof(EW_SUFFIX) - 1))
			return -1;
		p += n;
		first = false;
	}
	if (pos > INT_MAX)
		return -1;
	buf[pos] = '\0';
	return (int)pos;
}
