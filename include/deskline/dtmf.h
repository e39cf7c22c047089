/**
 * @file dtmf.h  One digit stream from the three ways a phone sends DTMF: RFC 4733 telephone-events,
 *               in-band tones (ITU-T Q.23/Q.24, detected with spandsp dtmf_rx) and SIP INFO
 *               (application/dtmf-relay, application/dtmf). Pure: time is passed in.
 *
 * Duplicates are removed twice over:
 *  - RFC 4733: one digit per event, an event being (SSRC, RTP timestamp) (RFC 4733 §2.5.1.3); the
 *    repeated end packets and retransmitted sequence numbers of that event are ignored, and a
 *    missing marker bit does not matter.
 *  - Across sources: a key sent both as a telephone-event and as a tone (or INFO) is reported once.
 *    A digit from one source that matches an already reported digit of another source, within
 *    DTMF_MERGE_WINDOW_MS and not yet paired with that source, is the same key press.
 */
#ifndef DESKLINE_DTMF_H
#define DESKLINE_DTMF_H

#include "types.h"
#include "rtp.h"

/** How close in time two reports from different sources must be to be one key press (ms). */
#define DTMF_MERGE_WINDOW_MS 500u

enum dtmf_source {
	DTMF_SRC_RFC4733 = 0,
	DTMF_SRC_INBAND  = 1,
	DTMF_SRC_INFO    = 2,
};

/**
 * A digit came out of the merger.
 *
 * @param digit  '0'-'9', '*', '#', 'A'-'D'
 * @param src    the source that reported it first
 * @param arg    handler argument
 *
 * Called from inside the feed functions (and, for in-band digits, from inside spandsp's
 * dtmf_rx()): the handler must not call dtmf_free() on the merger that called it.
 */
typedef void (dtmf_digit_h)(char digit, enum dtmf_source src, void *arg);

struct dtmf;

/**
 * Allocate a DTMF merger for one call leg.
 *
 * @param dp      on success *dp is the new merger (free: dtmf_free)
 * @param inband  true: run the in-band detector on samples given to dtmf_feed_audio()
 * @param h       digit handler, called synchronously from the feed functions
 * @param arg     handler argument
 * @return 0; EINVAL when dp or h is NULL; ENOMEM.
 */
int dtmf_alloc(struct dtmf **dp, bool inband, dtmf_digit_h *h, void *arg);

/** Free a merger (NULL is ignored). */
void dtmf_free(struct dtmf *d);

/**
 * Feed one telephone-event packet.
 *
 * @param d       merger
 * @param ssrc    RTP SSRC of the packet
 * @param ts      RTP timestamp (the event's start, RFC 4733 §2.5.1.2)
 * @param ev      parsed payload
 * @param now_ms  current time (any monotonic ms clock)
 */
void dtmf_feed_event(struct dtmf *d, uint32_t ssrc, uint32_t ts, const struct rtp_event *ev,
		     mstime_t now_ms);

/**
 * Feed received audio for in-band detection (ignored when created with inband=false).
 *
 * @param d        merger
 * @param amp      linear 16-bit samples at 8 kHz
 * @param samples  number of samples
 * @param now_ms   time of the last sample
 */
void dtmf_feed_audio(struct dtmf *d, const int16_t *amp, size_t samples, mstime_t now_ms);

/**
 * Feed digits from a SIP INFO body.
 *
 * @param d             merger
 * @param content_type  "application/dtmf-relay" (Signal=5) or "application/dtmf" (body "5")
 * @param body          body text (need not be NUL-terminated)
 * @param len           body length in bytes
 * @param now_ms        current time
 * @return 0; EINVAL when d or content_type is NULL (or body is NULL with len > 0);
 *         EPROTONOSUPPORT for another content type; EBADMSG when no digit is in the body.
 */
int dtmf_feed_info(struct dtmf *d, const char *content_type, const char *body, size_t len,
		   mstime_t now_ms);

/**
 * Parse a SIP INFO DTMF body without a merger (for the tests and for relaying).
 *
 * @return the digit, or 0 when the body holds none.
 */
char dtmf_info_parse(const char *content_type, const char *body, size_t len);

#endif
