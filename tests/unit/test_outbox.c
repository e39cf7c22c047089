/**
 * @file test_outbox.c  The mail spool against a real SMTP server (tests/unit/smtp_server.h):
 *                      delivery with the right envelope and bytes, an outage and the retry, a
 *                      crash between spool and send, 4xx deferral, 5xx refusal (whole, per
 *                      recipient, after the data) into failed/, AUTH, STARTTLS required but not offered,
 *                      order, a prompt stop during a stalled attempt; argument errors; and the
 *                      RFC 2047 header encoding, decoded back.
 *
 * Retries are made short with outbox_set_retry (RETRY_MIN_MS, RETRY_MAX_MS).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "smtp_server.h"
#include "deskline/log.h"
#include "deskline/outbox.h"

/** How long a test waits for something that should happen "soon" (ms): generous for valgrind. */
#define WAIT_MS 10000
/** How long a test watches for something that must not happen (ms). */
#define QUIET_MS 600
/** Backoff in these tests (ms). */
#define RETRY_MIN_MS 50u
#define RETRY_MAX_MS 200u

#define FROM "deskline@council.example"

static char tmpdir[64];      /* everything of one test */
static char spool[96];       /* tmpdir/spool */
static char sinkdir[96];     /* tmpdir/smtp */
static struct smtp_server server;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dl-outbox-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(spool, sizeof(spool), "%s/spool", tmpdir);
	snprintf(sinkdir, sizeof(sinkdir), "%s/smtp", tmpdir);
	ck_assert_int_eq(mkdir(sinkdir, 0700), 0);
	memset(&server, 0, sizeof(server));
}

static void teardown(void)
{
	smtp_server_stop(&server);
	nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/** Files (not dot files) in spool/@p sub. */
static size_t spool_files(const char *sub)
{
	char path[160];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", spool, sub);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/** The name of the only file in spool/@p sub. */
static void spool_only_file(const char *sub, char *name, size_t size)
{
	char path[160];
	struct dirent *de;
	DIR *d;

	name[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", spool, sub);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] != '.' && len < size)
			memcpy(name, de->d_name, len + 1);
	}
	closedir(d);
}

/** Whole contents of spool/@p sub/@p name (malloc'ed, NUL added). */
static char *spool_read_file(const char *sub, const char *name, size_t *len)
{
	char path[256];
	struct stat st;
	char *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", spool, sub, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fileno(f), &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/** Wait until spool/@p sub holds @p n files. */
static bool wait_files(const char *sub, size_t n, int timeout_ms)
{
	long long deadline = smtp_server_now_ms() + timeout_ms;

	while (spool_files(sub) != n) {
		if (smtp_server_now_ms() >= deadline)
			return false;
		usleep(10 * 1000);
	}
	return true;
}

static bool wait_pending(struct outbox *ob, size_t n, int timeout_ms)
{
	long long deadline = smtp_server_now_ms() + timeout_ms;

	while (outbox_pending(ob) != n) {
		if (smtp_server_now_ms() >= deadline)
			return false;
		usleep(10 * 1000);
	}
	return true;
}

static struct outbox *open_outbox(const char *url, const char *user, const char *password,
				  bool starttls)
{
	struct outbox_smtp smtp = {
		.url = url, .from = FROM, .username = user, .password = password,
		.starttls = starttls, .timeout_ms = 5000,
	};
	struct outbox *ob = NULL;

	ck_assert_int_eq(outbox_alloc(&ob, spool, &smtp), 0);
	ck_assert_ptr_nonnull(ob);
	ck_assert_int_eq(outbox_set_retry(ob, RETRY_MIN_MS, RETRY_MAX_MS), 0);
	return ob;
}

/** An RFC 5322 message; the dot line checks transparency (RFC 5321 §4.5.2) both ways. */
static void make_message(char *buf, size_t size, int n)
{
	snprintf(buf, size,
		 "From: " FROM "\r\n"
		 "To: department@council.example\r\n"
		 "Subject: Inquiry 2026-%06d\r\n"
		 "\r\n"
		 "Inquiry number %d.\r\n"
		 ".a line that starts with a dot\r\n"
		 ".\r\n"
		 "end\r\n", n, n);
}

static void enqueue_one(struct outbox *ob, const char *const *rcpt, size_t n_rcpt, int n,
			char *name)
{
	char msg[512];

	make_message(msg, sizeof(msg), n);
	ck_assert_int_eq(outbox_enqueue(ob, rcpt, n_rcpt, msg, strlen(msg), name), 0);
}

/** The @p index-th message at the server is message @p n for these recipients. */
static void check_received(size_t index, int n, const char *const *rcpt, size_t n_rcpt)
{
	struct smtp_mail mail;
	char msg[512];

	make_message(msg, sizeof(msg), n);
	ck_assert_int_eq(smtp_server_read(&server, index, &mail), 0);
	ck_assert_str_eq(mail.from, FROM);
	ck_assert_uint_eq(mail.n_rcpt, n_rcpt);
	for (size_t i = 0; i < n_rcpt; i++)
		ck_assert_str_eq(mail.rcpt[i], rcpt[i]);
	ck_assert_uint_eq(mail.len, strlen(msg));
	ck_assert_str_eq(mail.data, msg);
	free(mail.data);
}

/*
 * Delivery.
 */

START_TEST(test_send)
{
	const char *rcpt[] = { "department@council.example", "clerk7@council.example" };
	char name[OUTBOX_NAME_SIZE], file[OUTBOX_NAME_SIZE];
	struct outbox *ob;

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, 0), 0);
	ob = open_outbox(server.url, NULL, NULL, false);
	enqueue_one(ob, rcpt, 2, 123, name);
	ck_assert_uint_gt(strlen(name), 0);

	ck_assert_uint_eq(smtp_server_wait(&server, 1, WAIT_MS), 1);
	check_received(0, 123, rcpt, 2);
	ck_assert(wait_pending(ob, 0, WAIT_MS));
	ck_assert_uint_eq(spool_files("new"), 0);
	ck_assert_uint_eq(spool_files("tmp"), 0);
	ck_assert_uint_eq(spool_files("failed"), 0);
	outbox_free(ob);
	ck_assert_uint_eq(smtp_server_count(&server), 1);

	/* The spool stays usable after a restart; the name is a spool name. */
	ob = open_outbox(server.url, NULL, NULL, false);
	enqueue_one(ob, rcpt, 1, 124, file);
	ck_assert_str_ne(file, name);
	ck_assert_uint_eq(smtp_server_wait(&server, 2, WAIT_MS), 2);
	check_received(1, 124, rcpt, 1);
	outbox_free(ob);
}
END_TEST

/* The file in new/ holds exactly the envelope and the bytes, and stays while the server is
 * down; when it comes up, the retry sends everything in enqueue order and empties the spool. */
START_TEST(test_outage_then_retry)
{
	const char *rcpt[] = { "department@council.example", "<clerk7@council.example>" };
	const char *got_rcpt[] = { "department@council.example", "clerk7@council.example" };
	char name[OUTBOX_NAME_SIZE], file[OUTBOX_NAME_SIZE], msg[512], *data, *expect;
	int port = smtp_server_free_port();
	char url[64];
	struct outbox *ob;
	size_t len;

	ck_assert_int_ne(port, 0);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	ob = open_outbox(url, NULL, NULL, false);
	enqueue_one(ob, rcpt, 2, 1, name);
	for (int n = 2; n <= 4; n++)
		enqueue_one(ob, rcpt, 2, n, NULL);
	ck_assert_uint_eq(outbox_pending(ob), 4);

	usleep(QUIET_MS * 1000);  /* several failed attempts with the backoff */
	ck_assert_uint_eq(outbox_pending(ob), 4);
	ck_assert_uint_eq(spool_files("new"), 4);
	ck_assert_uint_eq(spool_files("tmp"), 0);
	ck_assert_uint_eq(spool_files("failed"), 0);

	make_message(msg, sizeof(msg), 1);
	data = spool_read_file("new", name, &len);
	ck_assert_int_ge(asprintf(&expect, "Rcpt-To: department@council.example\n"
				  "Rcpt-To: <clerk7@council.example>\n\n%s", msg), 0);
	ck_assert_uint_eq(len, strlen(expect));
	ck_assert_str_eq(data, expect);
	free(data);
	free(expect);

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, port), 0);
	ck_assert_uint_eq(smtp_server_wait(&server, 4, WAIT_MS), 4);
	for (int n = 1; n <= 4; n++)
		check_received((size_t)n - 1, n, got_rcpt, 2);
	ck_assert(wait_pending(ob, 0, WAIT_MS));
	ck_assert_uint_eq(spool_files("new"), 0);
	outbox_free(ob);
	ck_assert_uint_eq(smtp_server_count(&server), 4);

	/* The server goes away again and comes back: the same again, on a running outbox. */
	smtp_server_stop(&server);
	ob = open_outbox(url, NULL, NULL, false);
	enqueue_one(ob, rcpt, 1, 5, file);
	usleep(QUIET_MS * 1000);
	ck_assert_uint_eq(outbox_pending(ob), 1);
	ck_assert_int_eq(smtp_server_restart(&server), 0);
	ck_assert_uint_eq(smtp_server_wait(&server, 5, WAIT_MS), 5);
	check_received(4, 5, got_rcpt, 1);
	ck_assert(wait_pending(ob, 0, WAIT_MS));
	outbox_free(ob);
}
END_TEST

/* A process that dies (SIGKILL) right after enqueue, before anything was sent: the next outbox
 * on the same spool sends the message. A file half written when the crash came (tmp/) was
 * never acknowledged and is dropped, not sent. */
START_TEST(test_crash_after_enqueue)
{
	const char *rcpt[] = { "department@council.example" };
	int port = smtp_server_free_port();
	char url[64], stray[160];
	struct outbox *ob;
	int status, fd;
	pid_t pid;

	ck_assert_int_ne(port, 0);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct outbox_smtp smtp = { .url = url, .from = FROM, .timeout_ms = 5000 };
		struct outbox *child = NULL;
		char msg[512];

		make_message(msg, sizeof(msg), 77);
		if (outbox_alloc(&child, spool, &smtp) != 0 ||
		    outbox_enqueue(child, rcpt, 1, msg, strlen(msg), NULL) != 0)
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGKILL);
	ck_assert_uint_eq(spool_files("new"), 1);

	snprintf(stray, sizeof(stray), "%s/tmp/00000000000000001.1", spool);
	fd = open(stray, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "Rcpt-To: x@y\n\nhalf", 18), 18);
	close(fd);

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, port), 0);
	ob = open_outbox(server.url, NULL, NULL, false);
	ck_assert_uint_eq(spool_files("tmp"), 0);
	ck_assert_uint_eq(smtp_server_wait(&server, 1, WAIT_MS), 1);
	check_received(0, 77, rcpt, 1);
	ck_assert(wait_pending(ob, 0, WAIT_MS));
	usleep(QUIET_MS * 1000);
	ck_assert_uint_eq(smtp_server_count(&server), 1);
	outbox_free(ob);
}
END_TEST

/* 4xx: kept and retried, delivered once the server accepts. */
START_TEST(test_deferred_4xx)
{
	const char *rcpt[] = { "department@council.example", "clerk7@council.example" };
	struct outbox *ob;

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, 0), 0);
	ck_assert_int_eq(smtp_server_refuse(&server, "clerk7@council.example",
					    "451 4.3.0 Try again later"), 0);
	ob = open_outbox(server.url, NULL, NULL, false);
	enqueue_one(ob, rcpt, 2, 9, NULL);
	usleep(QUIET_MS * 1000);
	ck_assert_uint_eq(smtp_server_count(&server), 0);
	ck_assert_uint_eq(outbox_pending(ob), 1);
	ck_assert_uint_eq(spool_files("failed"), 0);

	smtp_server_refuse_clear(&server);
	ck_assert_uint_eq(smtp_server_wait(&server, 1, WAIT_MS), 1);
	check_received(0, 9, rcpt, 2);
	ck_assert(wait_pending(ob, 0, WAIT_MS));
	ck_assert_uint_eq(spool_files("failed"), 0);
	outbox_free(ob);
}
END_TEST

/* 5xx for the only recipient: moved to failed/ whole, never retried. */
START_TEST(test_refused_5xx)
{
	const char *rcpt[] = { "nobody@council.example" };
	char name[OUTBOX_NAME_SIZE], file[OUTBOX_NAME_SIZE], msg[512], *data;
	struct outbox *ob;
	size_t len;

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, 0), 0);
	ck_assert_int_eq(smtp_server_refuse(&server, NULL, "550 5.1.1 No such user"), 0);
	ob = open_outbox(server.url, NULL, NULL, false);
	enqueue_one(ob, rcpt, 1, 5, name);
	ck_assert(wait_files("failed", 1, WAIT_MS));
	ck_assert(wait_pending(ob, 0, WAIT_MS));
	spool_only_file("failed", file, sizeof(file));
	ck_assert_str_eq(file, name);

	make_message(msg, sizeof(msg), 5);
	data = spool_read_file("failed", file, &len);
	ck_assert_str_eq(data + strlen("Rcpt-To: nobody@council.example\n\n"), msg);
	ck_assert_int_eq(strncmp(data, "Rcpt-To: nobody@council.example\n\n", 33), 0);
	free(data);

	/* Not retried: the server accepting now changes nothing. */
	smtp_server_refuse_clear(&server);
	usleep(QUIET_MS * 1000);
	ck_assert_uint_eq(smtp_server_count(&server), 0);
	ck_assert_uint_eq(spool_files("failed"), 1);
	outbox_free(ob);
}
END_TEST

/* 5xx for one of three recipients: the others get it, the refused one is kept in failed/. */
START_TEST(test_refused_one_of_three)
{
	const char *rcpt[] = { "department@council.example", "typo@council.example",
			       "clerk7@council.example" };
	const char *first[] = { "department@council.example" };
	const char *third[] = { "clerk7@council.example" };
	char file[OUTBOX_NAME_SIZE], *data;
	struct outbox *ob;
	size_t len;

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, 0), 0);
	ck_assert_int_eq(smtp_server_refuse(&server, "typo@council.example",
					    "550 5.1.1 No such user"), 0);
	ob = open_outbox(server.url, NULL, NULL, false);
	enqueue_one(ob, rcpt, 3, 6, NULL);
	ck_assert(wait_files("failed", 1, WAIT_MS));
	ck_assert(wait_pending(ob, 0, WAIT_MS));
	ck_assert_uint_eq(smtp_server_wait(&server, 2, WAIT_MS), 2);
	check_received(0, 6, first, 1);
	check_received(1, 6, third, 1);

	spool_only_file("failed", file, sizeof(file));
	data = spool_read_file("failed", file, &len);
	ck_assert_int_eq(strncmp(data, "Rcpt-To: typo@council.example\n\nFrom: ", 37), 0);
	free(data);
	usleep(QUIET_MS * 1000);
	ck_assert_uint_eq(smtp_server_count(&server), 2);
	outbox_free(ob);
}
END_TEST

/* One recipient accepted, one deferred (4xx) after another was refused (5xx): the accepted one
 * is done, the deferred one stays in new/ alone until the server takes it. */
START_TEST(test_refused_and_deferred)
{
	const char *rcpt[] = { "department@council.example", "typo@council.example",
			       "clerk7@council.example" };
	const char *first[] = { "department@council.example" };
	const char *third[] = { "clerk7@council.example" };
	char file[OUTBOX_NAME_SIZE], *data;
	struct outbox *ob;
	size_t len;

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, 0), 0);
	ck_assert_int_eq(smtp_server_refuse(&server, "typo@council.example",
					    "550 5.1.1 No such user"), 0);
	ck_assert_int_eq(smtp_server_refuse(&server, "clerk7@council.example",
					    "452 4.2.2 Mailbox full"), 0);
	ob = open_outbox(server.url, NULL, NULL, false);
	enqueue_one(ob, rcpt, 3, 8, NULL);
	ck_assert(wait_files("failed", 1, WAIT_MS));
	ck_assert_uint_eq(smtp_server_wait(&server, 1, WAIT_MS), 1);
	check_received(0, 8, first, 1);
	usleep(QUIET_MS * 1000);
	ck_assert_uint_eq(outbox_pending(ob), 1);
	spool_only_file("new", file, sizeof(file));
	data = spool_read_file("new", file, &len);
	ck_assert_int_eq(strncmp(data, "Rcpt-To: clerk7@council.example\n\nFrom: ", 39), 0);
	free(data);

	smtp_server_refuse_clear(&server);
	ck_assert_uint_eq(smtp_server_wait(&server, 2, WAIT_MS), 2);
	check_received(1, 8, third, 1);
	ck_assert(wait_pending(ob, 0, WAIT_MS));
	ck_assert_uint_eq(spool_files("failed"), 1);
	outbox_free(ob);
}
END_TEST

/* A reply to the end of DATA (RFC 5321 §4.1.1.4): 5xx goes to failed/, 4xx is retried. */
static const struct {
	const char *reply;
	bool permanent;
} data_replies[] = {
	{ "554 5.7.1 Message content rejected", true },
	{ "552 5.3.4 Message too big for system", true },
	{ "451 4.7.1 Please try again later", false },
	{ "452 4.3.1 Insufficient system storage", false },
};

START_TEST(test_data_reply)
{
	const char *rcpt[] = { "department@council.example" };
	struct outbox *ob;

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, 0), 0);
	ck_assert_int_eq(smtp_server_refuse(&server, "DATA", data_replies[_i].reply), 0);
	ob = open_outbox(server.url, NULL, NULL, false);
	enqueue_one(ob, rcpt, 1, 14, NULL);
	if (data_replies[_i].permanent) {
		ck_assert(wait_files("failed", 1, WAIT_MS));
		ck_assert(wait_pending(ob, 0, WAIT_MS));
		smtp_server_refuse_clear(&server);
		usleep(QUIET_MS * 1000);
		ck_assert_uint_eq(smtp_server_count(&server), 0);
		ck_assert_uint_eq(spool_files("failed"), 1);
	} else {
		usleep(QUIET_MS * 1000);
		ck_assert_uint_eq(outbox_pending(ob), 1);
		ck_assert_uint_eq(spool_files("failed"), 0);
		smtp_server_refuse_clear(&server);
		ck_assert_uint_eq(smtp_server_wait(&server, 1, WAIT_MS), 1);
		check_received(0, 14, rcpt, 1);
		ck_assert(wait_pending(ob, 0, WAIT_MS));
	}
	outbox_free(ob);
}
END_TEST

START_TEST(test_auth)
{
	const char *rcpt[] = { "department@council.example" };
	struct smtp_mail mail;
	struct outbox *ob;

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, 0), 0);
	ck_assert_int_eq(smtp_server_require_auth(&server, "deskline", "s3cret"), 0);

	/* A wrong password is the server's problem, not the message's: kept, retried. */
	ob = open_outbox(server.url, "deskline", "wrong", false);
	enqueue_one(ob, rcpt, 1, 11, NULL);
	usleep(QUIET_MS * 1000);
	ck_assert_uint_eq(smtp_server_count(&server), 0);
	ck_assert_uint_eq(outbox_pending(ob), 1);
	ck_assert_uint_eq(spool_files("failed"), 0);
	outbox_free(ob);

	/* The configuration fixed and the daemon restarted: sent. */
	ob = open_outbox(server.url, "deskline", "s3cret", false);
	ck_assert_uint_eq(smtp_server_wait(&server, 1, WAIT_MS), 1);
	check_received(0, 11, rcpt, 1);
	ck_assert_int_eq(smtp_server_read(&server, 0, &mail), 0);
	ck_assert_str_eq(mail.auth, "deskline");
	free(mail.data);
	ck_assert(wait_pending(ob, 0, WAIT_MS));
	outbox_free(ob);
}
END_TEST

/* STARTTLS required but the server does not offer it: nothing goes out in clear text. */
START_TEST(test_starttls_required)
{
	const char *rcpt[] = { "department@council.example" };
	struct outbox *ob;

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, 0), 0);
	ob = open_outbox(server.url, NULL, NULL, true);
	enqueue_one(ob, rcpt, 1, 12, NULL);
	usleep(QUIET_MS * 1000);
	ck_assert_uint_eq(smtp_server_count(&server), 0);
	ck_assert_uint_eq(outbox_pending(ob), 1);
	ck_assert_uint_eq(spool_files("failed"), 0);
	outbox_free(ob);
}
END_TEST

START_TEST(test_order)
{
	const char *rcpt[] = { "department@council.example" };
	struct outbox *ob;

	ck_assert_int_eq(smtp_server_start(&server, sinkdir, 0), 0);
	ob = open_outbox(server.url, NULL, NULL, false);
	for (int n = 1; n <= 8; n++)
		enqueue_one(ob, rcpt, 1, n, NULL);
	ck_assert_uint_eq(smtp_server_wait(&server, 8, WAIT_MS), 8);
	for (int n = 1; n <= 8; n++)
		check_received((size_t)n - 1, n, rcpt, 1);
	ck_assert(wait_pending(ob, 0, WAIT_MS));
	outbox_free(ob);
}
END_TEST

/* A server that accepts the connection and never greets: outbox_free ends the attempt long
 * before its timeout, and the message stays in the spool. */
START_TEST(test_free_during_attempt)
{
	const char *rcpt[] = { "department@council.example" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct outbox_smtp smtp = { .from = FROM, .timeout_ms = 60000 };
	socklen_t salen = sizeof(sa);
	struct outbox *ob = NULL;
	long long t0, took_ms;
	char url[64], msg[512];
	int lfd;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);  /* the kernel completes the handshake; no accept */
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", ntohs(sa.sin_port));
	smtp.url = url;

	ck_assert_int_eq(outbox_alloc(&ob, spool, &smtp), 0);
	make_message(msg, sizeof(msg), 13);
	ck_assert_int_eq(outbox_enqueue(ob, rcpt, 1, msg, strlen(msg), NULL), 0);
	usleep(300 * 1000);  /* the mailer is now waiting for the greeting */
	t0 = smtp_server_now_ms();
	outbox_free(ob);
	took_ms = smtp_server_now_ms() - t0;
	close(lfd);
	/* curl calls the progress callback at least once a second; 60 s is the attempt timeout. */
	ck_assert_msg(took_ms < 10000, "outbox_free took %lld ms", took_ms);
	ck_assert_uint_eq(spool_files("new"), 1);
	ck_assert_uint_eq(spool_files("failed"), 0);
}
END_TEST

/*
 * Arguments.
 */

START_TEST(test_alloc_args)
{
	struct outbox_smtp ok = { .url = "smtp://127.0.0.1:1", .from = FROM };
	struct outbox_smtp no_url = { .from = FROM };
	struct outbox_smtp empty_url = { .url = "", .from = FROM };
	struct outbox_smtp no_from = { .url = "smtp://127.0.0.1:1" };
	struct outbox *ob = (struct outbox *)&ok, *other = NULL;
	const struct {
		struct outbox **obp;
		const char *dir;
		const struct outbox_smtp *smtp;
	} cases[] = {
		{ NULL, spool, &ok },
		{ &ob, NULL, &ok },
		{ &ob, "", &ok },
		{ &ob, spool, NULL },
		{ &ob, spool, &no_url },
		{ &ob, spool, &empty_url },
		{ &ob, spool, &no_from },
	};
	char file[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(outbox_alloc(cases[i].obp, cases[i].dir, cases[i].smtp) == EINVAL,
			      "case %zu", i);
		ck_assert_ptr_eq(ob, (struct outbox *)&ok);  /* untouched on failure */
	}

	/* A spool path that cannot be a directory. */
	snprintf(file, sizeof(file), "%s/plain", tmpdir);
	ck_assert_int_eq(close(open(file, O_WRONLY | O_CREAT, 0600)), 0);
	snprintf(file, sizeof(file), "%s/plain/spool", tmpdir);
	ck_assert_int_eq(outbox_alloc(&ob, file, &ok), ENOTDIR);
	ck_assert_ptr_eq(ob, (struct outbox *)&ok);

	/* Nested directories are created; a second outbox on the same spool is refused. */
	snprintf(file, sizeof(file), "%s/a/b/spool", tmpdir);
	ck_assert_int_eq(outbox_alloc(&other, file, &ok), 0);
	ck_assert_int_eq(outbox_alloc(&ob, file, &ok), EBUSY);
	ck_assert_ptr_eq(ob, (struct outbox *)&ok);
	outbox_free(other);
	ck_assert_int_eq(outbox_alloc(&other, file, &ok), 0);

	ck_assert_int_eq(outbox_set_retry(NULL, 1, 2), EINVAL);
	ck_assert_int_eq(outbox_set_retry(other, 0, 2), EINVAL);
	ck_assert_int_eq(outbox_set_retry(other, 3, 2), EINVAL);
	ck_assert_int_eq(outbox_set_retry(other, 2, 2), 0);
	ck_assert_uint_eq(outbox_pending(NULL), 0);
	outbox_free(other);
	outbox_free(NULL);
}
END_TEST

START_TEST(test_enqueue_args)
{
	static const char *one[] = { "department@council.example" };
	static const char *crlf[] = { "a@b\r\nRCPT TO:<evil@x>" };
	static const char *empty[] = { "" };
	static const char *space[] = { "a b@c" };
	static const char *second_null[] = { "a@b", NULL };
	static const char *seventeen[17] = {
		"a@b", "a@b", "a@b", "a@b", "a@b", "a@b", "a@b", "a@b", "a@b",
		"a@b", "a@b", "a@b", "a@b", "a@b", "a@b", "a@b", "a@b",
	};
	static char long_rcpt[256];
	static const char *too_long[] = { long_rcpt };
	const char *msg = "Subject: x\r\n\r\nbody\r\n";
	struct outbox *ob;
	char name[OUTBOX_NAME_SIZE] = "untouched";
	struct {
		bool null_ob;
		const char *const *rcpt;
		size_t n_rcpt;
		const char *message;
		size_t len;
	} cases[] = {
		{ true,  one,         1,  msg,  20 },
		{ false, NULL,        1,  msg,  20 },
		{ false, one,         0,  msg,  20 },
		{ false, seventeen,   17, msg,  20 },
		{ false, one,         1,  NULL, 20 },
		{ false, one,         1,  msg,  0 },
		{ false, crlf,        1,  msg,  20 },
		{ false, empty,       1,  msg,  20 },
		{ false, space,       1,  msg,  20 },
		{ false, second_null, 2,  msg,  20 },
		{ false, too_long,    1,  msg,  20 },
	};

	memset(long_rcpt, 'a', 251);
	memcpy(long_rcpt + 251, "@b.c", 5);
	ck_assert_uint_eq(strlen(long_rcpt), 255);  /* RFC 5321 §4.5.3.1.3 allows 254 */

	ob = open_outbox("smtp://127.0.0.1:1", NULL, NULL, false);
	ck_assert_int_eq(outbox_set_retry(ob, 60000, 60000), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(outbox_enqueue(cases[i].null_ob ? NULL : ob, cases[i].rcpt,
					     cases[i].n_rcpt, cases[i].message, cases[i].len,
					     name) == EINVAL, "case %zu", i);
		ck_assert_str_eq(name, "untouched");
	}
	ck_assert_uint_eq(outbox_pending(ob), 0);
	ck_assert_uint_eq(spool_files("tmp"), 0);

	/* The limits themselves are fine: 16 recipients, 254 bytes. */
	memmove(long_rcpt, long_rcpt + 1, 255);
	ck_assert_uint_eq(strlen(long_rcpt), 254);
	ck_assert_int_eq(outbox_enqueue(ob, seventeen, 16, msg, strlen(msg), NULL), 0);
	ck_assert_int_eq(outbox_enqueue(ob, too_long, 1, msg, strlen(msg), name), 0);
	ck_assert_uint_eq(strlen(name), 17 + 1 + (size_t)snprintf(NULL, 0, "%ld", (long)getpid()));
	ck_assert_uint_eq(outbox_pending(ob), 2);
	outbox_free(ob);
}
END_TEST

/*
 * RFC 2047.
 */

/* Exact results. */
static const struct {
	const char *text;
	const char *encoded;
} header_vectors[] = {
	{ "", "" },
	{ "Inquiry 2026-000123", "Inquiry 2026-000123" },
	{ "Tab\tstays", "Tab\tstays" },
	{ "פנייה 2026-000123", "=?UTF-8?B?16TXoNeZ15nXlCAyMDI2LTAwMDEyMw==?=" },
	{ "é", "=?UTF-8?B?w6k=?=" },
	/* Header injection through an ASCII value. */
	{ "a\r\nBcc: x@y", "=?UTF-8?B?YQ0KQmNjOiB4QHk=?=" },
	/* Would read as an encoded-word. */
	{ "=?x?=", "=?UTF-8?B?PT94Pz0=?=" },
	/* 39 bytes fill the first word (64 characters); the 40th starts the next line. */
	{ "0123456789012345678901234567890123456é",
	  "=?UTF-8?B?MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1NsOp?=" },
	{ "01234567890123456789012345678901234567é",
	  "=?UTF-8?B?MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc=?=\r\n"
	  " =?UTF-8?B?w6k=?=" },
};

START_TEST(test_encode_vectors)
{
	const char *text = header_vectors[_i].text, *want = header_vectors[_i].encoded;
	size_t len = strlen(want);
	char buf[512];

	memset(buf, 'X', sizeof(buf));
	ck_assert_int_eq(outbox_encode_header(text, buf, sizeof(buf)), (int)len);
	ck_assert_str_eq(buf, want);
	/* Exactly enough room (the NUL included), and one byte less. */
	ck_assert_int_eq(outbox_encode_header(text, buf, len + 1), (int)len);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(outbox_encode_header(text, buf, len), -1);
}
END_TEST

static int b64_value(char c)
{
	const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

/** Base64 (with padding) of @p n characters into @p out. @return bytes, or -1. */
static int b64_decode(const char *s, size_t n, unsigned char *out)
{
	int len = 0;

	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];

		for (int k = 0; k < 4; k++)
			v[k] = s[i + k] == '=' ? 0 : b64_value(s[i + k]);
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
			return -1;
		out[len++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (s[i + 2] != '=')
			out[len++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (s[i + 3] != '=')
			out[len++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	return len;
}

/** Are these bytes whole UTF-8 characters (none cut at either end)? */
static bool utf8_whole(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; ) {
		size_t len = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 :
			     (s[i] & 0xf0) == 0xe0 ? 3 : (s[i] & 0xf8) == 0xf0 ? 4 : 0;

		if (len == 0 || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* Long values: decoded back they are the text; every line fits 76 characters (the first with
 * "Subject: " in front), every encoded-word 75, and no word ends inside a character. */
static const char *const header_long[] = {
	"פנייה בנושא חוב ארנונה לשנת 2026, נכס ברחוב הרצל 12 תל אביב, מספר פנייה 2026-000123, "
	"התקבלה במוקד הטלפוני ומועברת למחלקת הגבייה לטיפול עד סוף יום העסקים",
	/* Three-byte characters only, and four-byte ones (RFC 3629). */
	"€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€",
	"📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞📞",
	/* Mixed widths, so the cut lands at every offset somewhere. */
	"aéa€a📞aé€📞éé€€📞📞a aéa€a📞aé€📞éé€€📞📞a aéa€a📞aé€📞éé€€📞📞a aéa€a📞aé€📞éé€€📞📞a",
};

START_TEST(test_encode_long)
{
	const char *text = header_long[_i];
	unsigned char decoded[1024];
	size_t n_decoded = 0, words = 0;
	char buf[4096], line0[128];
	const char *p;
	int len;

	len = outbox_encode_header(text, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	ck_assert_uint_eq(strlen(buf), (size_t)len);

	for (p = buf; ; words++) {
		const char *end = strstr(p, "\r\n");
		size_t line = end ? (size_t)(end - p) : strlen(p);
		size_t word = words ? line - 1 : line;
		const char *w = words ? p + 1 : p;
		int got;

		if (words == 0) {
			snprintf(line0, sizeof(line0), "Subject: %.*s", (int)line, p);
			ck_assert_uint_le(strlen(line0), 76);
		} else {
			ck_assert_int_eq(p[0], ' ');
		}
		ck_assert_uint_le(line, 76);
		ck_assert_uint_le(word, 75);
		ck_assert_int_eq(strncmp(w, "=?UTF-8?B?", 10), 0);
		ck_assert_int_eq(strncmp(w + word - 2, "?=", 2), 0);
		got = b64_decode(w + 10, word - 12, decoded + n_decoded);
		ck_assert_int_gt(got, 0);
		ck_assert_msg(utf8_whole(decoded + n_decoded, (size_t)got),
			      "word %zu cuts a character", words);
		n_decoded += (size_t)got;
		if (!end)
			break;
		p = end + 2;
	}
	ck_assert_uint_gt(words, 0);  /* these values do need folding */
	ck_assert_uint_eq(n_decoded, strlen(text));
	ck_assert_int_eq(memcmp(decoded, text, n_decoded), 0);
}
END_TEST

START_TEST(test_encode_args)
{
	char buf[8];

	ck_assert_int_eq(outbox_encode_header(NULL, buf, sizeof(buf)), -1);
	ck_assert_int_eq(outbox_encode_header("a", NULL, sizeof(buf)), -1);
	ck_assert_int_eq(outbox_encode_header("a", buf, 0), -1);
	ck_assert_int_eq(outbox_encode_header("é", buf, sizeof(buf)), -1);  /* needs 16 + 1 */
}
END_TEST

static Suite *outbox_suite(void)
{
	Suite *s = suite_create("outbox");
	TCase *tc;

	tc = tcase_create("smtp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_send);
	tcase_add_test(tc, test_outage_then_retry);
	tcase_add_test(tc, test_crash_after_enqueue);
	tcase_add_test(tc, test_deferred_4xx);
	tcase_add_test(tc, test_refused_5xx);
	tcase_add_test(tc, test_refused_one_of_three);
	tcase_add_test(tc, test_refused_and_deferred);
	tcase_add_loop_test(tc, test_data_reply, 0,
			    (int)(sizeof(data_replies) / sizeof(data_replies[0])));
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_starttls_required);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_free_during_attempt);
	suite_add_tcase(s, tc);

	tc = tcase_create("args");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_alloc_args);
	tcase_add_test(tc, test_enqueue_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode_header");
	tcase_add_loop_test(tc, test_encode_vectors, 0,
			    (int)(sizeof(header_vectors) / sizeof(header_vectors[0])));
	tcase_add_loop_test(tc, test_encode_long, 0,
			    (int)(sizeof(header_long) / sizeof(header_long[0])));
	tcase_add_test(tc, test_encode_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_init("test_outbox", getenv("OUTBOX_TEST_DEBUG") ? LOG_DEBUG : LOG_ERR, false);
	return unit_run(outbox_suite());
}
