/**
 * @file dtmf.c  RFC 4733 telephone-events, in-band tones and SIP INFO merged into one digit stream.
 *
 * Two small rings hold all the state: the telephone-events seen lately (to drop the repeats of
 * one event) and the digits reported lately (to drop the same key press arriving by a second
 * source). Both are scanned linearly; at 8 and 16 entries that is cheaper than anything cleverer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include <spandsp.h>

#include "deskline/dtmf.h"

/*
 * Telephone-events remembered per merger. Keys come at most about 10 a second, so 8 events cover
 * at least the last 0.8 s of keying: a duplicate the network delays longer than that is not
 * worth more memory (it would be reported again).
 */
#define EVENT_RING_SIZE 8u

/*
 * Digits remembered for the cross-source merge. DTMF timing allows about 10 digits per second,
 * so within DTMF_MERGE_WINDOW_MS (500 ms) a caller keys at most ~5, each remembered once however
 * many sources carry it: 16 leaves room for sources lagging one another.
 */
#define REPORT_RING_SIZE 16u

/*
 * The in-band detector is fed in slices of this many samples (10 ms) so that a digit found in a
 * long buffer is stamped with the time of its own slice, not of the buffer's last sample. The
 * cost is one dtmf_rx() call per 10 ms of audio.
 */
#define INBAND_SLICE_SAMPLES 80u

/*
 * spandsp 0.0.6 dtmf_rx defaults (dtmf.c): no dial-tone notch, normal twist 8 dB (low group
 * stronger), reverse twist 4 dB (high group stronger), threshold -42 dBm0 per tone. We set every
 * parameter ourselves so an upgrade of the library cannot move them under us:
 *  - filter_dialtone off: the caller's leg of a SIP call carries no dial tone (the phone is long
 *    past dialling), and the 350/440 Hz notches cost eight multiplies per sample for nothing.
 *  - twist 8 dB / reverse twist 4 dB: the Q.24 receiver limits most administrations use (a line
 *    attenuates the high group, so low-stronger must be tolerated more than high-stronger; phones
 *    send the high group about 2 dB hot). Tested: high +2 dB and low +6 dB are accepted.
 *  - threshold -36 dBm0 per tone: a phone or gateway sends around -10 dBm0 per tone and an
 *    analogue line in front of a gateway takes some off; detection is tested at -30 dBm0
 *    through both G.711 laws and a -40 dBm0 tone is tested to be ignored. We stay 6 dB above
 *    the library default so that faint copies of tones, e.g. a clerk's key presses echoed back
 *    from the caller's phone 25 dB or more down, are not taken for the caller's own.
 * Duration (Q.24: act on 40 ms, reject short bursts) needs no setting: spandsp decides on 102-
 * sample (12.75 ms) blocks and wants two consecutive agreeing blocks, so bursts of 20 ms and less
 * are never reported and tones of 35 ms and more always are, whatever their alignment to the
 * blocks (measured at -20 dBm0: 16 keys, all 102 offsets, both G.711 laws). Speech is rejected
 * by spandsp's relative-peak (8 dB over the other tones of the group) and total-energy tests,
 * which a voice's many harmonics fail.
 */
#define INBAND_FILTER_DIALTONE 0
#define INBAND_TWIST_DB        8
#define INBAND_REVERSE_TWIST_DB 4
#define INBAND_THRESHOLD_DBM0  (-36)

/** One telephone-event, identified by (SSRC, RTP timestamp) (RFC 4733 §2.5.1.2). */
struct event_seen {
	bool used;
	bool ended;              /**< an end packet (E bit) was seen */
	uint8_t code;            /**< event code, 0-15 */
	uint16_t duration;       /**< longest duration seen, timestamp units */
	uint32_t ssrc;
	uint32_t ts;
};

/** One digit that was reported, and the sources that have carried it so far. */
struct report {
	bool used;
	char digit;
	uint8_t sources;         /**< bit (1 << enum dtmf_source) per source paired with it */
	mstime_t at_ms;
};

struct dtmf {
	dtmf_digit_h *h;
	void *arg;
	dtmf_rx_state_t *rx;     /**< NULL when in-band detection is off */
	mstime_t slice_ms;       /**< time of the slice dtmf_rx() is working on */

	struct event_seen events[EVENT_RING_SIZE];
	size_t event_next;       /**< slot to overwrite next = the oldest */

	struct report reports[REPORT_RING_SIZE];
	size_t report_next;      /**< slot to overwrite next = the oldest */
};

static mstime_t ms_diff(mstime_t a, mstime_t b)
{
	return a > b ? a - b : b - a;
}

/*
 * The merge. A digit from @p src is the same key press as an earlier report of the same digit
 * from another source if that report is within DTMF_MERGE_WINDOW_MS and @p src has not yet been
 * paired with it; then the two are paired and nothing is reported. Each report pairs with at
 * most one digit per source, so a key pressed twice in quick succession and carried by two
 * sources gives two reports paired two by two, not one. The oldest candidate wins because the
 * sources deliver key presses in order: a lagging source's first digit belongs to the first
 * press. Cost: one scan of REPORT_RING_SIZE entries per digit.
 */
static void merge(struct dtmf *d, char digit, enum dtmf_source src, mstime_t at_ms)
{
	const uint8_t bit = (uint8_t)(1u << src);

	for (size_t k = 0; k < REPORT_RING_SIZE; k++) {
		struct report *r = &d->reports[(d->report_next + k) % REPORT_RING_SIZE];

		if (!r->used || r->digit != digit || (r->sources & bit) != 0)
			continue;
		if (ms_diff(r->at_ms, at_ms) > DTMF_MERGE_WINDOW_MS)
			continue;

		r->sources |= bit;
		return;
	}

	struct report *r = &d->reports[d->report_next];
	d->report_next = (d->report_next + 1) % REPORT_RING_SIZE;
	*r = (struct report){ .used = true, .digit = digit, .sources = bit, .at_ms = at_ms };

	d->h(digit, src, d->arg);
}

/* spandsp's digit callback: runs inside dtmf_rx(), d->slice_ms is the slice being fed. */
static void inband_digits(void *arg, const char *digits, int len)
{
	struct dtmf *d = arg;

	for (int i = 0; i < len; i++)
		merge(d, digits[i], DTMF_SRC_INBAND, d->slice_ms);
}

int dtmf_alloc(struct dtmf **dp, bool inband, dtmf_digit_h *h, void *arg)
{
	struct dtmf *d;
	int err = 0;

	if (!dp || !h)
		return EINVAL;

	d = calloc(1, sizeof(*d));
	if (!d) {
		err = ENOMEM;
		goto out;
	}
	d->h = h;
	d->arg = arg;

	if (inband) {
		/*
		 * The first dtmf_rx_init() fills spandsp's shared Goertzel tables without a lock:
		 * fine from deskline's one su_root thread, not from several at once.
		 */
		d->rx = dtmf_rx_init(NULL, inband_digits, d);
		if (!d->rx) {
			err = ENOMEM;
			goto out;
		}
		dtmf_rx_parms(d->rx, INBAND_FILTER_DIALTONE, INBAND_TWIST_DB,
			      INBAND_REVERSE_TWIST_DB, INBAND_THRESHOLD_DBM0);
	}

out:
	if (err)
		dtmf_free(d);
	else
		*dp = d;
	return err;
}

void dtmf_free(struct dtmf *d)
{
	if (!d)
		return;
	if (d->rx)
		dtmf_rx_free(d->rx);
	free(d);
}

static struct event_seen *event_find(struct dtmf *d, uint32_t ssrc, uint32_t ts)
{
	for (size_t i = 0; i < EVENT_RING_SIZE; i++) {
		struct event_seen *e = &d->events[i];

		if (e->used && e->ssrc == ssrc && e->ts == ts)
			return e;
	}
	return NULL;
}

/*
 * A key held longer than the 16-bit duration field can count (0xFFFF samples, 8.2 s) is sent as
 * segments, each with the timestamp of the previous one plus its duration, and no marker bit
 * (RFC 4733 §2.5.1.3, §2.5.2.3). Such a segment starts before the previous segment of the same
 * event, by that segment's own duration, has ended, which a new key press never does; the
 * previous segment has no end packet either.
 */
static bool event_continues(const struct dtmf *d, uint32_t ssrc, uint32_t ts, uint8_t code)
{
	for (size_t i = 0; i < EVENT_RING_SIZE; i++) {
		const struct event_seen *e = &d->events[i];
		uint32_t since = ts - e->ts;   /* modulo 2^32, as RTP timestamps wrap */

		if (!e->used || e->ssrc != ssrc || e->code != code || e->ended)
			continue;
		if (since > 0 && since <= e->duration)
			return true;
	}
	return false;
}

void dtmf_feed_event(struct dtmf *d, uint32_t ssrc, uint32_t ts, const struct rtp_event *ev,
		     mstime_t now_ms)
{
	struct event_seen *e;
	char digit;
	bool segment;

	if (!d || !ev)
		return;

	/* Codes above 15 are other telephone-events (RFC 4733 §3.2 only defines 0-15 as DTMF). */
	digit = rtp_event_digit(ev->event);
	if (ev->event > 15 || digit == 0)
		return;

	/*
	 * Every packet of an event carries the event's start timestamp: the first packet (marker
	 * set), the updates, the end packet sent three times (RFC 4733 §2.5.1.2, §2.5.1.4) and
	 * any retransmission. The first packet we see of a new (SSRC, timestamp) is the key
	 * press, whether or not it has the marker bit or is already an end packet because the
	 * start was lost; reporting it there rather than on the end packet lets a menu react a
	 * key-press length sooner.
	 */
	e = event_find(d, ssrc, ts);
	if (e) {
		if (ev->duration > e->duration)
			e->duration = ev->duration;
		e->ended = e->ended || ev->end;
		return;
	}

	segment = event_continues(d, ssrc, ts, ev->event);

	e = &d->events[d->event_next];
	d->event_next = (d->event_next + 1) % EVENT_RING_SIZE;
	*e = (struct event_seen){
		.used = true,
		.ended = ev->end,
		.code = ev->event,
		.duration = ev->duration,
		.ssrc = ssrc,
		.ts = ts,
	};

	if (!segment)
		merge(d, digit, DTMF_SRC_RFC4733, now_ms);
}

void dtmf_feed_audio(struct dtmf *d, const int16_t *amp, size_t samples, mstime_t now_ms)
{
	const size_t samples_per_ms = DL_SAMPLE_RATE / 1000u;

	if (!d || !d->rx || !amp)
		return;

	for (size_t done = 0; done < samples;) {
		size_t n = samples - done;
		size_t after_ms;

		if (n > INBAND_SLICE_SAMPLES)
			n = INBAND_SLICE_SAMPLES;
		done += n;

		/* now_ms is the time of the last sample; this slice ends samples - done earlier. */
		after_ms = (samples - done) / samples_per_ms;
		d->slice_ms = now_ms > after_ms ? now_ms - after_ms : 0;

		dtmf_rx(d->rx, amp + done - n, (int)n);
	}
}

/* What a SIP INFO body is, by its Content-Type. */
enum info_kind {
	INFO_OTHER,
	INFO_DTMF_RELAY,     /**< application/dtmf-relay: "Signal=5\r\nDuration=160\r\n" */
	INFO_DTMF,           /**< application/dtmf: "5" */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Media types compare case-insensitively and parameters follow ';' (RFC 3261 §7.3.1 and
 * §20.15); neither dtmf-relay nor dtmf defines a parameter we would need.
 */
static enum info_kind info_kind(const char *content_type)
{
	static const char relay[] = "application/dtmf-relay";
	static const char plain[] = "application/dtmf";
	const char *start = content_type;
	const char *end;
	size_t len;

	while (is_blank(*start))
		start++;
	end = start;
	while (*end != '\0' && *end != ';')
		end++;
	while (end > start && is_blank(end[-1]))
		end--;
	len = (size_t)(end - start);

	if (len == sizeof(relay) - 1 && strncasecmp(start, relay, len) == 0)
		return INFO_DTMF_RELAY;
	if (len == sizeof(plain) - 1 && strncasecmp(start, plain, len) == 0)
		return INFO_DTMF;
	return INFO_OTHER;
}

/*
 * One key in a body: the character itself ('0'-'9', '*', '#', 'A'-'D', case-insensitive) or its
 * RFC 4733 event code (10 = '*', 11 = '#', 12-15 = A-D), which some phones send instead.
 */
static char info_token_digit(const char *tok, size_t len)
{
	unsigned value = 0;

	if (len == 1) {
		char c = (char)toupper((unsigned char)tok[0]);

		return rtp_event_code(c) >= 0 ? c : 0;
	}
	if (len != 2)
		return 0;

	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)tok[i]))
			return 0;
		value = value * 10u + (unsigned)(tok[i] - '0');
	}
	return value <= 15u ? rtp_event_digit((uint8_t)value) : 0;
}

/* application/dtmf: the whole body, blanks around it allowed, is the key. */
static char info_dtmf_digit(const char *body, size_t len)
{
	const char *start = body;
	const char *end = body + len;

	while (start < end && is_blank(*start))
		start++;
	while (end > start && is_blank(end[-1]))
		end--;
	return info_token_digit(start, (size_t)(end - start));
}

/*
 * application/dtmf-relay: lines of "Key=Value" (CRLF or LF), the key case-insensitive, blanks
 * allowed around '=' and the value; the first Signal line decides. Duration is not used: the
 * key press is reported when the INFO arrives.
 */
static char info_relay_digit(const char *body, size_t len)
{
	static const char signal[] = "Signal";
	const char *p = body;
	const char *end = body + len;

	while (p < end) {
		const char *key;
		size_t key_len;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		key = p;
		while (p < end && *p != '=' && !is_blank(*p))
			p++;
		key_len = (size_t)(p - key);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;

		if (p < end && *p == '=' && key_len == sizeof(signal) - 1 &&
		    strncasecmp(key, signal, key_len) == 0) {
			const char *val;

			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			val = p;
			while (p < end && !is_blank(*p))
				p++;
			return info_token_digit(val, (size_t)(p - val));
		}

		while (p < end && *p != '\n')
			p++;
		if (p < end)
			p++;
	}
	return 0;
}

/* 0 with *digitp set; EPROTONOSUPPORT for another content type; EBADMSG for no digit. */
static int info_parse(const char *content_type, const char *body, size_t len, char *digitp)
{
	char digit;

	switch (info_kind(content_type)) {
	case INFO_DTMF_RELAY:
		digit = body ? info_relay_digit(body, len) : 0;
		break;
	case INFO_DTMF:
		digit = body ? info_dtmf_digit(body, len) : 0;
		break;
	default:
		return EPROTONOSUPPORT;
	}
	if (digit == 0)
		return EBADMSG;

	*digitp = digit;
	return 0;
}

int dtmf_feed_info(struct dtmf *d, const char *content_type, const char *body, size_t len,
		   mstime_t now_ms)
{
	char digit;
	int err;

	if (!d || !content_type || (!body && len > 0))
		return EINVAL;

	err = info_parse(content_type, body, len, &digit);
	if (err)
		return err;

	merge(d, digit, DTMF_SRC_INFO, now_ms);
	return 0;
}

char dtmf_info_parse(const char *content_type, const char *body, size_t len)
{
	char digit;

	if (!content_type || (!body && len > 0))
		return 0;
	return info_parse(content_type, body, len, &digit) == 0 ? digit : 0;
}
