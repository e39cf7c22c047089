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
	unsigned timeout_ms;      /**< per attempt */
};

/** Retry backoff: the first retry after min, doubling up to max (ms). */
#define OUTBOX_RETRY_MIN_MS 1000u
#define OUTBOX_RETRY_MAX_MS 300000u

struct outbox;

/**
 * Open the spool (creating the directory if needed) and start the mailer thread, which sends
 * whatever the spool already holds.
 *
 * @param obp    on success *obp is the outbox (free: outbox_free)
 * @param dir    spool directory (copied)
 * @param smtp   SMTP settings (copied)
 * @return 0, or an errno (directory not creatable/writable, thread creation).
 */
int outbox_alloc(struct outbox **obp, const char *dir, const struct outbox_smtp *smtp);

/** Stop the mailer (waits for an attempt in progress); the spool stays. NULL is ignored. */
void outbox_free(struct outbox *ob);

/**
 * Put a message in the spool; it is on disk (fsynced) when this returns 0. Then the mailer is
 * woken. Runs on the caller's thread: a few small file operations, no network.
 *
 * @param ob       outbox
 * @param rcpt     envelope recipients
 * @param n_rcpt   how many (1–16)
 * @param message  the whole RFC 5322 message, CRLF line ends (copied to disk)
 * @param len      its length in bytes
 * @param name     receives the spool file name (may be NULL), at least 64 bytes
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
 * @return the length written, or -1 when @p size is too small.
 */
int outbox_encode_header(const char *text, char *buf, size_t size);

#endif
