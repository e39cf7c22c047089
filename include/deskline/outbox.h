/**
 * @file outbox.h  Mail that is never lost (Procedure 46 §4): every message is first written to a
 *                 spool directory (write to a temporary file, fsync, rename, fsync the
 *                 directory) and only then sent, by a mailer thread, with libcurl's SMTP
 *                 (optional STARTTLS and AUTH). A file is removed only after the server accepted
 *                 the message; failures are retried with backoff. A restart, an SMTP outage or a
 *                 crash between spool and send loses nothing: the spool is read again at start.
 */
#ifndef DESKLINE_OUTBOX_H
#define DESKLINE_OUTBOX_H

#include "types.h"

/** SMTP settings (copied by outbox_alloc). */
struct outbox_smtp {
	const char *url;          /**< "smtp://host:port" or "smtps://…" */
	const char *from;         /**< envelope sender, e.g. "deskline@council.example" */
	const char *username;     /**< AUTH user, NULL for none */
	const char *password;
	bool starttls;            /**< require STARTTLS (CURLUSESSL_ALL) */
	unsigned timeout_ms;      /**< per attempt; 0: OUTBOX_TIMEOUT_DEFAULT_MS */
};

/** Attempt timeout when struct outbox_smtp gives none: a stalled server holds the mailer (never
 *  the caller) at most this long per message (ms). */
#define OUTBOX_TIMEOUT_DEFAULT_MS 60000u

/** Envelope recipients per message. */
#define OUTBOX_RCPT_MAX 16u

/** Bytes outbox_enqueue may write to @p name, NUL included. */
#define OUTBOX_NAME_SIZE 64u

/** outbox_encode_header keeps its first line short enough for a field name of up to this many
 *  characters, ": " included, in front of it ("Subject: " is 9). */
#define OUTBOX_HEADER_NAME_RESERVE 12u

/** Retry backoff: the first retry after min, doubling up to max (ms). */
#define OUTBOX_RETRY_MIN_MS 1000u
#define OUTBOX_RETRY_MAX_MS 300000u

struct outbox;

/**
 * Open the spool (creating the directory if needed) and start the mailer thread, which sends
 * whatever the spool already holds.
 *
 * Only one outbox may use a spool at a time (a lock file in @p dir).
 *
 * @param obp    on success *obp is the outbox (free: outbox_free)
 * @param dir    spool directory (copied)
 * @param smtp   SMTP settings (copied)
 * @return 0, EINVAL (an argument NULL or empty: dir, smtp, url, from), EBUSY (another outbox
 *         holds the spool), or an errno (directory not creatable/writable, thread creation).
 */
int outbox_alloc(struct outbox **obp, const char *dir, const struct outbox_smtp *smtp);

/** Stop the mailer; the spool stays. NULL is ignored. An attempt in progress is aborted within
 *  about a second (only a server that stops answering the closing QUIT can hold it up to
 *  timeout_ms). */
void outbox_free(struct outbox *ob);

/**
 * Change the retry backoff (OUTBOX_RETRY_MIN_MS / OUTBOX_RETRY_MAX_MS until then); it applies
 * from the next failure on. Tests use it to keep retries short.
 *
 * @param ob      outbox
 * @param min_ms  first delay after a failure
 * @param max_ms  the doubling stops here
 * @return 0, or EINVAL (ob NULL, min_ms 0, max_ms < min_ms).
 */
int outbox_set_retry(struct outbox *ob, unsigned min_ms, unsigned max_ms);

/**
 * Put a message in the spool; it is on disk (fsynced) when this returns 0. Then the mailer is
 * woken. Runs on the caller's thread: a few small file operations, no network.
 *
 * @param ob       outbox
 * @param rcpt     envelope recipients: addresses ("a@b" or "<a@b>"), 1–254 bytes, no spaces or
 *                 control characters
 * @param n_rcpt   how many (1–OUTBOX_RCPT_MAX)
 * @param message  the whole RFC 5322 message, CRLF line ends (copied to disk)
 * @param len      its length in bytes (not 0)
 * @param name     receives the spool file name (may be NULL), at least OUTBOX_NAME_SIZE bytes
 * @return 0, EINVAL, or an errno from the file system.
 */
int outbox_enqueue(struct outbox *ob, const char *const *rcpt, size_t n_rcpt,
		   const char *message, size_t len, char *name);

/** Messages waiting in the spool now (for logs and tests). */
size_t outbox_pending(struct outbox *ob);

/**
 * Encode a header value per RFC 2047 as UTF-8 "B" encoded-words (=?UTF-8?B?…?=), folded so no
 * line passes 76 characters; ASCII-only text is returned as it is. Pure.
 *
 * The whole value becomes encoded-words of at most 75 characters, never splitting a UTF-8
 * character, separated by CRLF + space (RFC 2047 §2, §5). The first line leaves room for
 * OUTBOX_HEADER_NAME_RESERVE characters of field name. "ASCII-only" means printable ASCII and
 * tab without "=?"; control characters (CR, LF: header injection) are encoded too.
 *
 * @param text  UTF-8, NUL-terminated
 * @param buf   receives the value, NUL-terminated
 * @param size  bytes in @p buf
 * @return the length written (without the NUL), or -1 when @p size is too small (or an
 *         argument is NULL).
 */
int outbox_encode_header(const char *text, char *buf, size_t size);

#endif
