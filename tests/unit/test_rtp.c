/**
 * @file test_rtp.c  RTP header (RFC 3550 §5.1) and telephone-event (RFC 4733 §2.3) parsing,
 *                   against real captures (tests/unit/vectors/rtp_vectors.h) and crafted packets.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "deskline/rtp.h"
#include "vectors/rtp_vectors.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parse from a heap copy of exactly @p len bytes, so ASan and valgrind catch any read past
 * the end that the fixed test arrays would hide. */
static int parse_exact(const uint8_t *bytes, size_t len, struct rtp_packet *pkt, uint8_t **copy)
{
	*copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(*copy);
	if (len)
		memcpy(*copy, bytes, len);
	return rtp_parse(*copy, len, pkt);
}

/* ---- sip-tester's dtmf_2833_*.pcap: one key each ---------------------------------------- */

/*
 * What the captures hold (read with tests/unit/vectors/extract.py): ten packets each, PT 101,
 * SSRC 0x0e05384e, volume 10 (-10 dBm0). Packet 0 carries the marker (RFC 4733: the first
 * packet of an event), durations grow by 320 samples, and the end packet (E bit, duration 2240
 * = 280 ms) is sent three times with the same sequence number and timestamp.
 */
#define CAPTURE_PACKETS      10u
#define CAPTURE_PT           101u
#define CAPTURE_SSRC         0x0e05384eu
#define CAPTURE_VOLUME       10u
#define CAPTURE_STEP         320u
#define CAPTURE_FIRST_END    7u     /* index of the first packet with the E bit */
#define CAPTURE_END_DURATION 2240u

struct capture_expect {
	char key;
	uint8_t event;      /* RFC 4733 §3.2 table 1 */
	uint16_t seq0;      /* sequence number of packet 0 */
	uint32_t ts;        /* the event's timestamp (its start), the same in every packet */
};

static const struct capture_expect capture_expect[] = {
	{ '0',  0, 0x2f30, 0x044e0 },
	{ '1',  1, 0x1f30, 0x033e0 },
	{ '2',  2, 0x1f6a, 0x05aa0 },
	{ '3',  3, 0x1f97, 0x07940 },
	{ '4',  4, 0x1fb9, 0x09100 },
	{ '5',  5, 0x1fdb, 0x0a8c0 },
	{ '6',  6, 0x1ffa, 0x0bea0 },
	{ '7',  7, 0x201b, 0x0d5c0 },
	{ '8',  8, 0x203d, 0x0ed80 },
	{ '9',  9, 0x2065, 0x10900 },
	{ '*', 10, 0x20cd, 0x14f00 },
	{ '#', 11, 0x20f4, 0x169e0 },
};

START_TEST(test_capture_dtmf)
{
	const struct rtp_dtmf_capture *cap = &rtp_dtmf_captures[_i];
	const struct capture_expect *exp = &capture_expect[_i];
	uint32_t last_end_ts = 0;
	unsigned n_end = 0, n_digits = 0;
	char digits[4] = { 0 };
	size_t k;

	ck_assert_int_eq(ARRAY_SIZE(rtp_dtmf_captures), ARRAY_SIZE(capture_expect));
	ck_assert_int_eq(cap->key, exp->key);
	ck_assert_uint_eq(cap->n_packets, CAPTURE_PACKETS);

	for (k = 0; k < cap->n_packets; k++) {
		const struct rtp_vector *v = &cap->packets[k];
		struct rtp_packet pkt;
		struct rtp_event ev;
		uint8_t *copy, rebuilt[RTP_HEADER_SIZE + 4];
		bool end_expected = k >= CAPTURE_FIRST_END;

		ck_assert_int_eq(parse_exact(v->bytes, v->len, &pkt, &copy), 0);
		ck_assert_uint_eq(v->len, RTP_HEADER_SIZE + 4);
		ck_assert_uint_eq(pkt.pt, CAPTURE_PT);
		ck_assert_uint_eq(pkt.ssrc, CAPTURE_SSRC);
		ck_assert_uint_eq(pkt.cc, 0);
		ck_assert(!pkt.has_extension);
		ck_assert(pkt.marker == (k == 0));
		ck_assert_uint_eq(pkt.ts, exp->ts);
		ck_assert_uint_eq(pkt.seq, (uint16_t)(exp->seq0 + (end_expected ? CAPTURE_FIRST_END : k)));
		ck_assert_uint_eq(pkt.payload_len, 4);
		ck_assert_ptr_eq(pkt.payload, copy + RTP_HEADER_SIZE);

		ck_assert_int_eq(rtp_event_parse(pkt.payload, pkt.payload_len, &ev), 0);
		ck_assert_uint_eq(ev.event, exp->event);
		ck_assert_int_eq(rtp_event_digit(ev.event), cap->key);
		ck_assert_int_eq(rtp_event_code(cap->key), exp->event);
		ck_assert_uint_eq(ev.volume, CAPTURE_VOLUME);
		ck_assert(ev.end == end_expected);
		ck_assert_uint_eq(ev.duration, end_expected ? CAPTURE_END_DURATION : k * CAPTURE_STEP);

		/* Our writers rebuild the captured bytes exactly. */
		ck_assert_uint_eq(rtp_write_header(rebuilt, pkt.marker, pkt.pt, pkt.seq, pkt.ts,
						   pkt.ssrc), RTP_HEADER_SIZE);
		ck_assert_uint_eq(rtp_event_write(rebuilt + RTP_HEADER_SIZE, &ev), 4);
		ck_assert_mem_eq(rebuilt, v->bytes, v->len);

		/* Receiver rule the media module follows: one digit per (SSRC, timestamp) end. */
		if (ev.end) {
			n_end++;
			if (n_digits == 0 || pkt.ts != last_end_ts) {
				digits[n_digits++] = rtp_event_digit(ev.event);
				last_end_ts = pkt.ts;
			}
		}
		free(copy);
	}

	ck_assert_uint_eq(n_end, 3);
	ck_assert_uint_eq(n_digits, 1);
	ck_assert_int_eq(digits[0], cap->key);
}
END_TEST

/* ---- sip-tester's g711a.pcap: 30 ms A-law ------------------------------------------------ */

#define G711A_PT        8u
#define G711A_SSRC      0xdee0ee8fu
#define G711A_SEQ0      0xe6fdu
#define G711A_PTIME_MS  30u
#define G711A_SILENCE   0xd5u      /* A-law code of zero amplitude: the capture starts silent */

START_TEST(test_capture_g711a)
{
	size_t k, i;

	ck_assert_uint_eq(ARRAY_SIZE(rtp_g711a_packets), 4);

	for (k = 0; k < ARRAY_SIZE(rtp_g711a_packets); k++) {
		const struct rtp_vector *v = &rtp_g711a_packets[k];
		struct rtp_packet pkt;
		uint8_t *copy;

		ck_assert_int_eq(parse_exact(v->bytes, v->len, &pkt, &copy), 0);
		ck_assert_uint_eq(pkt.pt, G711A_PT);
		ck_assert_uint_eq(pkt.ssrc, G711A_SSRC);
		ck_assert(pkt.marker == (k == 0));       /* start of the talkspurt */
		ck_assert_uint_eq(pkt.seq, G711A_SEQ0 + k);
		/* One byte per sample: 30 ms at 8 kHz is 240 bytes and 240 timestamp units. */
		ck_assert_uint_eq(pkt.payload_len, DL_MS_TO_SAMPLES(G711A_PTIME_MS));
		ck_assert_uint_eq(pkt.payload_len, 240);
		ck_assert_uint_eq(pkt.ts, (k + 1) * DL_MS_TO_SAMPLES(G711A_PTIME_MS));
		for (i = 0; i < pkt.payload_len; i++)
			ck_assert_uint_eq(pkt.payload[i], G711A_SILENCE);
		free(copy);
	}
}
END_TEST

/* ---- crafted packets --------------------------------------------------------------------- */

struct parse_case {
	const char *name;
	uint8_t bytes[48];
	size_t len;
	int err;
	/* on success: */
	bool marker;
	uint8_t pt;
	uint8_t cc;
	bool ext;
	size_t payload_off;
	size_t payload_len;
};

/* A fixed header: V=2, then the byte 0 flags given, M/PT, seq 0x1234, ts 0x89abcdef,
 * SSRC 0x01020304. */
#define HDR(b0, b1) (b0), (b1), 0x12, 0x34, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x02, 0x03, 0x04
/* The rest of a case that must fail: nothing else is looked at. */
#define FAILS EBADMSG, false, 0, 0, false, 0, 0

static const struct parse_case parse_cases[] = {
	{ "header only", { HDR(0x80, 0x00) }, 12, 0, false, 0, 0, false, 12, 0 },
	{ "marker, PT 127, 3-byte payload", { HDR(0x80, 0xff), 0xaa, 0xbb, 0xcc }, 15, 0,
	  true, 127, 0, false, 12, 3 },
	{ "two CSRCs skipped", { HDR(0x82, 0x08), 1, 1, 1, 1, 2, 2, 2, 2, 0x55, 0x66, 0x77 }, 23, 0,
	  false, 8, 2, false, 20, 3 },
	{ "extension, 1 word", { HDR(0x90, 0x00), 0xbe, 0xde, 0x00, 0x01, 9, 9, 9, 9, 0x42 }, 21, 0,
	  false, 0, 0, true, 20, 1 },
	{ "CSRC then extension of 2 words",
	  { HDR(0x91, 0x65), 7, 7, 7, 7, 0x10, 0x00, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8,
	    0x0b, 0x8a, 0x08, 0xc0 }, 32, 0, false, 101, 1, true, 28, 4 },
	{ "extension of 0 words", { HDR(0x90, 0x00), 0xbe, 0xde, 0x00, 0x00 }, 16, 0,
	  false, 0, 0, true, 16, 0 },
	{ "padding 4 after 4 payload", { HDR(0xa0, 0x00), 1, 2, 3, 4, 0, 0, 0, 4 }, 20, 0,
	  false, 0, 0, false, 12, 4 },
	{ "padding is the whole payload", { HDR(0xa0, 0x00), 0, 0, 3 }, 15, 0,
	  false, 0, 0, false, 12, 0 },
	{ "padding 1 (the count octet only)", { HDR(0xa0, 0x00), 9, 1 }, 14, 0,
	  false, 0, 0, false, 12, 1 },
	{ "padding after CSRC and extension",
	  { HDR(0xb1, 0x00), 7, 7, 7, 7, 0xbe, 0xde, 0x00, 0x00, 0xaa, 0, 2 }, 23, 0,
	  false, 0, 1, true, 20, 1 },

	{ "empty", { 0 }, 0, FAILS },
	{ "truncated fixed header", { HDR(0x80, 0x00) }, 11, FAILS },
	{ "version 0", { HDR(0x00, 0x00), 1 }, 13, FAILS },
	{ "version 1", { HDR(0x40, 0x00), 1 }, 13, FAILS },
	{ "version 3", { HDR(0xc0, 0x00), 1 }, 13, FAILS },
	{ "CSRC list truncated", { HDR(0x83, 0x00), 1, 1, 1, 1, 2, 2, 2, 2 }, 20, FAILS },
	{ "extension header truncated", { HDR(0x90, 0x00), 0xbe, 0xde }, 14, FAILS },
	{ "extension body truncated", { HDR(0x90, 0x00), 0xbe, 0xde, 0x00, 0x02, 1, 2, 3, 4 }, 20,
	  FAILS },
	{ "extension length 0xffff", { HDR(0x90, 0x00), 0xbe, 0xde, 0xff, 0xff, 1, 2, 3, 4 }, 20,
	  FAILS },
	{ "padding count 0", { HDR(0xa0, 0x00), 1, 2, 3, 0 }, 16, FAILS },
	{ "padding overflows payload", { HDR(0xa0, 0x00), 1, 2, 3, 5 }, 16, FAILS },
	{ "padding reaches into the header", { HDR(0xa0, 0x00), 1, 0xff }, 14, FAILS },
	{ "padding bit, nothing after header", { HDR(0xa0, 0x00) }, 12, FAILS },
	{ "padding reaches into the extension",
	  { HDR(0xb0, 0x00), 0xbe, 0xde, 0x00, 0x00, 1, 3 }, 18, FAILS },
};

START_TEST(test_parse_crafted)
{
	const struct parse_case *c = &parse_cases[_i];
	struct rtp_packet pkt, before;
	uint8_t *copy;
	int err;

	memset(&pkt, 0xa5, sizeof(pkt));
	before = pkt;

	err = parse_exact(c->bytes, c->len, &pkt, &copy);
	ck_assert_msg(err == c->err, "%s: got %d, want %d", c->name, err, c->err);

	if (c->err) {
		ck_assert_msg(memcmp(&pkt, &before, sizeof(pkt)) == 0, "%s: pkt written on error",
			      c->name);
	}
	else {
		ck_assert_msg(pkt.marker == c->marker, "%s: marker", c->name);
		ck_assert_uint_eq(pkt.pt, c->pt);
		ck_assert_uint_eq(pkt.cc, c->cc);
		ck_assert(pkt.has_extension == c->ext);
		ck_assert_uint_eq(pkt.seq, 0x1234);
		ck_assert_uint_eq(pkt.ts, 0x89abcdefu);
		ck_assert_uint_eq(pkt.ssrc, 0x01020304u);
		ck_assert_msg(pkt.payload == copy + c->payload_off, "%s: payload at %td, want %zu",
			      c->name, pkt.payload - copy, c->payload_off);
		ck_assert_msg(pkt.payload_len == c->payload_len, "%s: payload_len %zu, want %zu",
			      c->name, pkt.payload_len, c->payload_len);
	}
	free(copy);
}
END_TEST

START_TEST(test_parse_null)
{
	static const uint8_t hdr[] = { HDR(0x80, 0x00) };
	struct rtp_packet pkt;

	ck_assert_int_eq(rtp_parse(NULL, sizeof(hdr), &pkt), EINVAL);
	ck_assert_int_eq(rtp_parse(hdr, sizeof(hdr), NULL), EINVAL);
}
END_TEST

/* ---- header writer ------------------------------------------------------------------------ */

struct write_case {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t bytes[RTP_HEADER_SIZE];
	uint8_t pt_parsed;          /* what a parser reads back */
};

static const struct write_case write_cases[] = {
	{ false, 0, 0, 0, 0, { 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 0 },
	{ true, 8, 0xe6fd, 240, 0xdee0ee8f,
	  { 0x80, 0x88, 0xe6, 0xfd, 0x00, 0x00, 0x00, 0xf0, 0xde, 0xe0, 0xee, 0x8f }, 8 },
	{ false, 101, 0xffff, 0xffffffffu, 0x80000001u,
	  { 0x80, 0x65, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x01 }, 101 },
	/* PT has 7 bits: the 8th never leaks into the marker. */
	{ false, 0xe5, 1, 2, 3,
	  { 0x80, 0x65, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03 }, 101 },
};

START_TEST(test_write_header)
{
	const struct write_case *c = &write_cases[_i];
	uint8_t buf[RTP_HEADER_SIZE + 1];
	struct rtp_packet pkt;

	memset(buf, 0x5a, sizeof(buf));
	ck_assert_uint_eq(rtp_write_header(buf, c->marker, c->pt, c->seq, c->ts, c->ssrc),
			  RTP_HEADER_SIZE);
	ck_assert_mem_eq(buf, c->bytes, RTP_HEADER_SIZE);
	ck_assert_uint_eq(buf[RTP_HEADER_SIZE], 0x5a);

	ck_assert_int_eq(rtp_parse(buf, RTP_HEADER_SIZE, &pkt), 0);
	ck_assert(pkt.marker == c->marker);
	ck_assert_uint_eq(pkt.pt, c->pt_parsed);
	ck_assert_uint_eq(pkt.seq, c->seq);
	ck_assert_uint_eq(pkt.ts, c->ts);
	ck_assert_uint_eq(pkt.ssrc, c->ssrc);
	ck_assert_uint_eq(pkt.payload_len, 0);
	ck_assert_uint_eq(rtp_write_header(NULL, false, 0, 0, 0, 0), 0);
}
END_TEST

/* ---- telephone-event payload -------------------------------------------------------------- */

struct event_case {
	uint8_t bytes[4];
	struct rtp_event ev;
	uint8_t rewritten[4];       /* rtp_event_write() of ev: R bit cleared */
};

static const struct event_case event_cases[] = {
	{ { 0x0b, 0x8a, 0x08, 0xc0 }, { 11, true, 10, 2240 }, { 0x0b, 0x8a, 0x08, 0xc0 } },
	{ { 0x00, 0x0a, 0x00, 0x00 }, { 0, false, 10, 0 }, { 0x00, 0x0a, 0x00, 0x00 } },
	{ { 0x0f, 0x3f, 0xff, 0xff }, { 15, false, 63, 0xffff }, { 0x0f, 0x3f, 0xff, 0xff } },
	/* R bit set by a sender: ignored (RFC 4733 §2.3), written back as 0. */
	{ { 0x05, 0xc0, 0x01, 0x40 }, { 5, true, 0, 320 }, { 0x05, 0x80, 0x01, 0x40 } },
	{ { 0x05, 0x7f, 0x01, 0x00 }, { 5, false, 63, 256 }, { 0x05, 0x3f, 0x01, 0x00 } },
	/* Event 16 (flash) is an event but not a DTMF key. */
	{ { 0x10, 0x00, 0x03, 0x20 }, { 16, false, 0, 800 }, { 0x10, 0x00, 0x03, 0x20 } },
};

START_TEST(test_event_parse_write)
{
	const struct event_case *c = &event_cases[_i];
	struct rtp_event ev;
	uint8_t out[5];

	ck_assert_int_eq(rtp_event_parse(c->bytes, sizeof(c->bytes), &ev), 0);
	ck_assert_uint_eq(ev.event, c->ev.event);
	ck_assert(ev.end == c->ev.end);
	ck_assert_uint_eq(ev.volume, c->ev.volume);
	ck_assert_uint_eq(ev.duration, c->ev.duration);

	memset(out, 0x5a, sizeof(out));
	ck_assert_uint_eq(rtp_event_write(out, &ev), 4);
	ck_assert_mem_eq(out, c->rewritten, 4);
	ck_assert_uint_eq(out[4], 0x5a);
}
END_TEST

START_TEST(test_event_short_and_null)
{
	static const uint8_t payload[8] = { 0x01, 0x0a, 0x00, 0xa0, 0x02, 0x8a, 0x01, 0x40 };
	struct rtp_event ev = { 0 };
	size_t len;

	for (len = 0; len < 4; len++)
		ck_assert_int_eq(rtp_event_parse(payload, len, &ev), EBADMSG);
	/* Several blocks in one payload: the first is the one reported. */
	ck_assert_int_eq(rtp_event_parse(payload, sizeof(payload), &ev), 0);
	ck_assert_uint_eq(ev.event, 1);
	ck_assert(!ev.end);
	ck_assert_uint_eq(ev.duration, 160);

	ck_assert_int_eq(rtp_event_parse(NULL, 4, &ev), EINVAL);
	ck_assert_int_eq(rtp_event_parse(payload, 4, NULL), EINVAL);
	ck_assert_uint_eq(rtp_event_write(NULL, &ev), 0);
}
END_TEST

/* ---- event code <-> key (RFC 4733 §3.2, table 1) ------------------------------------------ */

START_TEST(test_event_digit_map)
{
	static const char keys[] = "0123456789*#ABCD";
	unsigned code;

	for (code = 0; code < 16; code++) {
		ck_assert_int_eq(rtp_event_digit((uint8_t)code), keys[code]);
		ck_assert_int_eq(rtp_event_code(keys[code]), (int)code);
	}
	for (code = 16; code < 256; code++)
		ck_assert_int_eq(rtp_event_digit((uint8_t)code), 0);

	ck_assert_int_eq(rtp_event_code('a'), 12);
	ck_assert_int_eq(rtp_event_code('d'), 15);
	ck_assert_int_eq(rtp_event_code('E'), -1);
	ck_assert_int_eq(rtp_event_code('e'), -1);
	ck_assert_int_eq(rtp_event_code('/'), -1);
	ck_assert_int_eq(rtp_event_code(':'), -1);
	ck_assert_int_eq(rtp_event_code(' '), -1);
	ck_assert_int_eq(rtp_event_code('\0'), -1);
}
END_TEST

static Suite *rtp_suite(void)
{
	Suite *s = suite_create("rtp");
	TCase *tc;

	tc = tcase_create("captures");
	tcase_add_loop_test(tc, test_capture_dtmf, 0, (int)ARRAY_SIZE(rtp_dtmf_captures));
	tcase_add_test(tc, test_capture_g711a);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_crafted, 0, (int)ARRAY_SIZE(parse_cases));
	tcase_add_test(tc, test_parse_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_loop_test(tc, test_write_header, 0, (int)ARRAY_SIZE(write_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("event");
	tcase_add_loop_test(tc, test_event_parse_write, 0, (int)ARRAY_SIZE(event_cases));
	tcase_add_test(tc, test_event_short_and_null);
	tcase_add_test(tc, test_event_digit_map);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return unit_run(rtp_suite());
}
