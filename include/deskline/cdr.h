/**
 * @file cdr.h  Call detail records: one JSON line per call, appended to a file.
 */
#ifndef DESKLINE_CDR_H
#define DESKLINE_CDR_H

#include "types.h"

/** One call's record. Strings are borrowed; NULL is written as "". Times are Unix epoch ms. */
struct cdr_record {
	const char *call_id;      /**< A-leg SIP Call-ID */
	const char *caller;       /**< From user part */
	const char *caller_name;  /**< From display name */
	const char *called;       /**< Request-URI user part */
	const char *path;         /**< menu path (ivr_path) */
	const char *route;        /**< last route tried, e.g. "trunk:payment" */
	const char *result;       /**< how it ended: "completed", "caller-hangup", "trunk-failed", … */
	const char *detail;       /**< more on the result, e.g. the trunk's "486 Busy Here" */
	const char *ticket;       /**< ticket opened for the call (Procedure 46 §4), or NULL */
	uint64_t start_ms;        /**< INVITE received */
	uint64_t answer_ms;       /**< 200 sent to the caller; 0 if never */
	uint64_t bridge_ms;       /**< B-leg answered; 0 if never */
	uint64_t end_ms;          /**< call over */
};

/**
 * Format a record as one JSON object and a newline (pure).
 *
 * @param buf   output
 * @param size  its size in bytes
 * @param r     record
 * @return the length written, or -1 when @p size is too small.
 */
int cdr_format(char *buf, size_t size, const struct cdr_record *r);

struct cdr;

/**
 * Open (append, create 0640) the CDR file.
 *
 * @param cp    on success *cp is the writer (free: cdr_close)
 * @param path  file name (copied); NULL gives a writer that discards records
 * @return 0 or an errno from open().
 */
int cdr_open(struct cdr **cp, const char *path);

/** Close the file (NULL is ignored). */
void cdr_close(struct cdr *c);

/**
 * Append one record with a single write() so concurrent writers never interleave lines.
 *
 * @return 0, ENOSPC when the line does not fit the internal buffer, or an errno from write().
 */
int cdr_write(struct cdr *c, const struct cdr_record *r);

#endif
