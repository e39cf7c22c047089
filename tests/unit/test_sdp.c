/**
 * @file test_sdp.c  SDP offer/answer (RFC 3264, RFC 4566) for G.711 + telephone-event.
 *
 * Addresses are from the documentation ranges (RFC 5737, RFC 3849): nothing here is sent.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "deskline/sdp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define CRLF "\r\n"
/* The session part most cases share: o=, s=, t=, and a session-level c= of 192.0.2.10. */
#define HEAD "v=0" CRLF "o=alice 2890844526 2890844526 IN IP4 192.0.2.10" CRLF "s=-" CRLF
#define HEAD_C HEAD "c=IN IP4 192.0.2.10" CRLF "t=0 0" CRLF

/* Parse from a heap copy without a NUL, so any read past @p len shows up under ASan/valgrind. */
static int parse_exact(const char *text, size_t len, struct sdp_remote *out)
{
	char *copy = malloc(len ? len : 1);
	int err;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	err = sdp_parse_remote(copy, len, out);
	free(copy);
	return err;
}

/* ---- sdp_parse_remote --------------------------------------------------------------------- */

struct parse_case {
	const char *name;
	const char *sdp;
	int err;
	struct sdp_remote want;     /* compared only when err == 0 */
};

/* Every field of struct sdp_remote, in its order. */
#define REMOTE(addr, port, dir, ptime_ms, pcmu, pcma, event, first, hold) \
	{ addr, port, SDP_##dir, ptime_ms, pcmu, pcma, event, DL_CODEC_##first, hold }
#define NO_REMOTE REMOTE("", 0, SENDRECV, 0, -1, -1, -1, NONE, false)

static const struct parse_case parse_cases[] = {
	{ "PCMU+PCMA+event offer",
	  HEAD_C "m=audio 49170 RTP/AVP 0 8 101" CRLF
	  "a=rtpmap:0 PCMU/8000" CRLF "a=rtpmap:8 PCMA/8000" CRLF
	  "a=rtpmap:101 telephone-event/8000" CRLF "a=fmtp:101 0-16" CRLF
	  "a=ptime:20" CRLF "a=sendrecv" CRLF,
	  0, REMOTE("192.0.2.10", 49170, SENDRECV, 20, 0, 8, 101, PCMU, false) },
	{ "PCMA only, static PT without rtpmap",
	  HEAD_C "m=audio 30000 RTP/AVP 8" CRLF,
	  0, REMOTE("192.0.2.10", 30000, SENDRECV, 0, -1, 8, -1, PCMA, false) },
	{ "PCMU static PT without rtpmap, event",
	  HEAD_C "m=audio 30000 RTP/AVP 0 101" CRLF "a=rtpmap:101 telephone-event/8000" CRLF,
	  0, REMOTE("192.0.2.10", 30000, SENDRECV, 0, 0, -1, 101, PCMU, false) },
	{ "G729 only",
	  HEAD_C "m=audio 30000 RTP/AVP 18" CRLF "a=rtpmap:18 G729/8000" CRLF,
	  0, REMOTE("192.0.2.10", 30000, SENDRECV, 0, -1, -1, -1, NONE, false) },
	{ "event with PT 96, PCMA first",
	  HEAD_C "m=audio 30000 RTP/AVP 8 0 96" CRLF "a=rtpmap:96 telephone-event/8000" CRLF
	  "a=fmtp:96 0-15" CRLF,
	  0, REMOTE("192.0.2.10", 30000, SENDRECV, 0, 0, 8, 96, PCMA, false) },
	{ "G.711 on dynamic PTs, names in any case",
	  HEAD_C "m=audio 30000 RTP/AVP 97 98 100" CRLF "a=rtpmap:97 pcma/8000" CRLF
	  "a=rtpmap:98 PcMu/8000" CRLF "a=rtpmap:100 TELEPHONE-EVENT/8000" CRLF,
	  0, REMOTE("192.0.2.10", 30000, SENDRECV, 0, 98, 97, 100, PCMA, false) },
	{ "G729 first, then G.711",
	  HEAD_C "m=audio 30000 RTP/AVP 18 8 0" CRLF,
	  0, REMOTE("192.0.2.10", 30000, SENDRECV, 0, 0, 8, -1, PCMA, false) },
	{ "dynamic PT without rtpmap is no event",
	  HEAD_C "m=audio 30000 RTP/AVP 0 101" CRLF,
	  0, REMOTE("192.0.2.10", 30000, SENDRECV, 0, 0, -1, -1, PCMU, false) },
	{ "telephone-event at 16 kHz only",
	  HEAD_C "m=audio 30000 RTP/AVP 0 102" CRLF "a=rtpmap:102 telephone-event/16000" CRLF,
	  0, REMOTE("192.0.2.10", 30000, SENDRECV, 0, 0, -1, -1, PCMU, false) },
	{ "telephone-event at 16 kHz, then at 8 kHz",
	  HEAD_C "m=audio 30000 RTP/AVP 0 102 101" CRLF "a=rtpmap:102 telephone-event/16000" CRLF
	  "a=rtpmap:101 telephone-event/8000" CRLF,
	  0, REMOTE("192.0.2.10", 30000, SENDRECV, 0, 0, -1, 101, PCMU, false) },
	{ "stereo PCMA skipped, mono kept",
	  HEAD_C "m=audio 30000 RTP/AVP 97 8" CRLF "a=rtpmap:97 PCMA/8000/2" CRLF,
	  0, REMOTE("192.0.2.10", 30000, SENDRECV, 0, -1, 8, -1, PCMA, false) },
	{ "media c= beats session c=",
	  HEAD "c=IN IP4 198.51.100.1" CRLF "t=0 0" CRLF "m=audio 5004 RTP/AVP 0" CRLF
	  "c=IN IP4 203.0.113.7" CRLF,
	  0, REMOTE("203.0.113.7", 5004, SENDRECV, 0, 0, -1, -1, PCMU, false) },
	{ "media c= only",
	  HEAD "t=0 0" CRLF "m=audio 5004 RTP/AVP 8" CRLF "c=IN IP4 203.0.113.8" CRLF,
	  0, REMOTE("203.0.113.8", 5004, SENDRECV, 0, -1, 8, -1, PCMA, false) },
	{ "sendonly at media level",
	  HEAD_C "m=audio 5004 RTP/AVP 0" CRLF "a=sendonly" CRLF,
	  0, REMOTE("192.0.2.10", 5004, SENDONLY, 0, 0, -1, -1, PCMU, false) },
	{ "recvonly at media level",
	  HEAD_C "m=audio 5004 RTP/AVP 0" CRLF "a=recvonly" CRLF,
	  0, REMOTE("192.0.2.10", 5004, RECVONLY, 0, 0, -1, -1, PCMU, false) },
	{ "inactive at session level",
	  HEAD_C "a=inactive" CRLF "m=audio 5004 RTP/AVP 0" CRLF,
	  0, REMOTE("192.0.2.10", 5004, INACTIVE, 0, 0, -1, -1, PCMU, false) },
	{ "session sendonly, media sendrecv wins",
	  HEAD_C "a=sendonly" CRLF "m=audio 5004 RTP/AVP 0" CRLF "a=sendrecv" CRLF,
	  0, REMOTE("192.0.2.10", 5004, SENDRECV, 0, 0, -1, -1, PCMU, false) },
	{ "c=0.0.0.0 hold",
	  HEAD "c=IN IP4 0.0.0.0" CRLF "t=0 0" CRLF "m=audio 5004 RTP/AVP 0 101" CRLF
	  "a=rtpmap:101 telephone-event/8000" CRLF,
	  0, REMOTE("0.0.0.0", 5004, SENDONLY, 0, 0, -1, 101, PCMU, true) },
	{ "c=0.0.0.0 and sendonly",
	  HEAD "t=0 0" CRLF "m=audio 5004 RTP/AVP 8" CRLF "c=IN IP4 0.0.0.0" CRLF
	  "a=sendonly" CRLF,
	  0, REMOTE("0.0.0.0", 5004, SENDONLY, 0, -1, 8, -1, PCMA, true) },
	{ "c=0.0.0.0 and recvonly",
	  HEAD "c=IN IP4 0.0.0.0" CRLF "t=0 0" CRLF "m=audio 5004 RTP/AVP 8" CRLF
	  "a=recvonly" CRLF,
	  0, REMOTE("0.0.0.0", 5004, INACTIVE, 0, -1, 8, -1, PCMA, true) },
	{ "IPv6",
	  "v=0" CRLF "o=bob 1 1 IN IP6 2001:db8::20" CRLF "s=-" CRLF "c=IN IP6 2001:db8::20" CRLF
	  "t=0 0" CRLF "m=audio 6000 RTP/AVP 8 101" CRLF "a=rtpmap:101 telephone-event/8000" CRLF,
	  0, REMOTE("2001:db8::20", 6000, SENDRECV, 0, -1, 8, 101, PCMA, false) },
	{ "ptime 30",
	  HEAD_C "m=audio 5004 RTP/AVP 8" CRLF "a=ptime:30" CRLF,
	  0, REMOTE("192.0.2.10", 5004, SENDRECV, 30, -1, 8, -1, PCMA, false) },
	{ "ptime unreadable is absent",
	  HEAD_C "m=audio 5004 RTP/AVP 8" CRLF "a=ptime:x" CRLF,
	  0, REMOTE("192.0.2.10", 5004, SENDRECV, 0, -1, 8, -1, PCMA, false) },
	{ "port 0: stream rejected",
	  HEAD_C "m=audio 0 RTP/AVP 0" CRLF,
	  0, REMOTE("192.0.2.10", 0, INACTIVE, 0, 0, -1, -1, PCMU, false) },
	{ "first audio stream after a video stream",
	  HEAD_C "m=video 7000 RTP/AVP 31" CRLF "m=audio 5004 RTP/AVP 8" CRLF
	  "m=audio 6004 RTP/AVP 0" CRLF,
	  0, REMOTE("192.0.2.10", 5004, SENDRECV, 0, -1, 8, -1, PCMA, false) },
	{ "LF line ends",
	  "v=0\no=- 1 1 IN IP4 192.0.2.30\ns=-\nc=IN IP4 192.0.2.30\nt=0 0\n"
	  "m=audio 8000 RTP/AVP 0 8\na=ptime:20\n",
	  0, REMOTE("192.0.2.30", 8000, SENDRECV, 20, 0, 8, -1, PCMU, false) },
	{ "RTP/SAVP: no codec we can answer",
	  HEAD_C "m=audio 5004 RTP/SAVP 0 8" CRLF,
	  0, REMOTE("192.0.2.10", 5004, SENDRECV, 0, -1, -1, -1, NONE, false) },

	{ "not SDP", "hello world" CRLF, EBADMSG, NO_REMOTE },
	{ "empty", "", EBADMSG, NO_REMOTE },
	{ "no c= at all", HEAD "t=0 0" CRLF "m=audio 5004 RTP/AVP 0" CRLF, EBADMSG, NO_REMOTE },
	{ "no o=", "v=0" CRLF "s=-" CRLF "c=IN IP4 192.0.2.1" CRLF "t=0 0" CRLF
	  "m=audio 5004 RTP/AVP 0" CRLF, EBADMSG, NO_REMOTE },
	{ "bad port", HEAD_C "m=audio x RTP/AVP 0" CRLF, EBADMSG, NO_REMOTE },
	{ "no audio stream", HEAD_C "m=video 7000 RTP/AVP 31" CRLF, ENOENT, NO_REMOTE },
	{ "no stream at all", HEAD_C, ENOENT, NO_REMOTE },
};

static void assert_remote_eq(const char *name, const struct sdp_remote *got,
			     const struct sdp_remote *want)
{
	ck_assert_msg(strcmp(got->addr, want->addr) == 0, "%s: addr %s, want %s", name, got->addr,
		      want->addr);
	ck_assert_msg(got->port == want->port, "%s: port %u", name, got->port);
	ck_assert_msg(got->dir == want->dir, "%s: dir %s, want %s", name, sdp_dir_name(got->dir),
		      sdp_dir_name(want->dir));
	ck_assert_msg(got->ptime_ms == want->ptime_ms, "%s: ptime %u", name, got->ptime_ms);
	ck_assert_msg(got->pt_pcmu == want->pt_pcmu, "%s: pt_pcmu %d", name, got->pt_pcmu);
	ck_assert_msg(got->pt_pcma == want->pt_pcma, "%s: pt_pcma %d", name, got->pt_pcma);
	ck_assert_msg(got->pt_event == want->pt_event, "%s: pt_event %d", name, got->pt_event);
	ck_assert_msg(got->first == want->first, "%s: first %d", name, got->first);
	ck_assert_msg(got->hold_addr == want->hold_addr, "%s: hold_addr", name);
}

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	struct sdp_remote got, before;
	int err;

	memset(&got, 0x5a, sizeof(got));
	before = got;
	err = parse_exact(c->sdp, strlen(c->sdp), &got);
	ck_assert_msg(err == c->err, "%s: got %d, want %d", c->name, err, c->err);
	if (err == 0)
		assert_remote_eq(c->name, &got, &c->want);
	else
		ck_assert_msg(memcmp(&got, &before, sizeof(got)) == 0, "%s: out written on error",
			      c->name);
}
END_TEST

/*
 * Every prefix of a real offer: never a crash or an over-read, only a clean result. sofia-sip
 * refuses an m= line cut before its profile, so whatever parses has the whole port.
 */
START_TEST(test_parse_prefixes)
{
	const char *sdp = parse_cases[0].sdp;
	const size_t n = strlen(sdp);
	size_t len, n_ok = 0;
	struct sdp_remote r;

	for (len = 0; len < n; len++) {
		int err = parse_exact(sdp, len, &r);

		ck_assert_msg(err == 0 || err == EBADMSG || err == ENOENT, "len %zu: %d", len, err);
		if (err == 0) {
			n_ok++;
			ck_assert_str_eq(r.addr, "192.0.2.10");
			ck_assert_uint_eq(r.port, 49170);
		}
	}
	ck_assert_uint_gt(n_ok, 0);

	ck_assert_int_eq(parse_exact(sdp, n, &r), 0);
	ck_assert_int_eq(r.pt_event, 101);
	ck_assert_uint_eq(r.ptime_ms, 20);
}
END_TEST

START_TEST(test_parse_null)
{
	struct sdp_remote r;

	ck_assert_int_eq(sdp_parse_remote(NULL, 10, &r), EINVAL);
	ck_assert_int_eq(sdp_parse_remote(parse_cases[0].sdp, strlen(parse_cases[0].sdp), NULL),
			 EINVAL);
}
END_TEST

/* ---- sdp_negotiate ------------------------------------------------------------------------ */

struct negotiate_case {
	const char *name;
	const char *offer;
	enum dl_codec prefs[2];
	size_t n_prefs;
	int err;
	struct sdp_session_params want;
};

#define OFFER_ALL HEAD_C "m=audio 49170 RTP/AVP 0 8 101" CRLF \
	"a=rtpmap:101 telephone-event/8000" CRLF "a=ptime:20" CRLF

static const struct negotiate_case negotiate_cases[] = {
	{ "our PCMA before their PCMU", OFFER_ALL, { DL_CODEC_PCMA, DL_CODEC_PCMU }, 2, 0,
	  { .codec = DL_CODEC_PCMA, .pt = 8, .pt_event = 101, .remote_dir = SDP_SENDRECV,
	    .local_dir = SDP_SENDRECV, .addr = "192.0.2.10", .port = 49170, .remote_ptime_ms = 20 } },
	{ "PCMU only", OFFER_ALL, { DL_CODEC_PCMU }, 1, 0,
	  { .codec = DL_CODEC_PCMU, .pt = 0, .pt_event = 101, .remote_dir = SDP_SENDRECV,
	    .local_dir = SDP_SENDRECV, .addr = "192.0.2.10", .port = 49170, .remote_ptime_ms = 20 } },
	{ "PCMA-only offer", HEAD_C "m=audio 30000 RTP/AVP 8" CRLF,
	  { DL_CODEC_PCMU, DL_CODEC_PCMA }, 2, 0,
	  { .codec = DL_CODEC_PCMA, .pt = 8, .pt_event = -1, .remote_dir = SDP_SENDRECV,
	    .local_dir = SDP_SENDRECV, .addr = "192.0.2.10", .port = 30000 } },
	{ "no common codec (G729 only)", HEAD_C "m=audio 30000 RTP/AVP 18" CRLF,
	  { DL_CODEC_PCMU, DL_CODEC_PCMA }, 2, ENOTSUP, { .pt_event = -1 } },
	{ "PCMU offered, we only speak PCMA", HEAD_C "m=audio 30000 RTP/AVP 0" CRLF,
	  { DL_CODEC_PCMA }, 1, ENOTSUP, { .pt_event = -1 } },
	{ "no preferences", OFFER_ALL, { DL_CODEC_PCMA }, 0, ENOTSUP, { .pt_event = -1 } },
	{ "offer's dynamic PT kept",
	  HEAD_C "m=audio 30000 RTP/AVP 97 96" CRLF "a=rtpmap:97 PCMA/8000" CRLF
	  "a=rtpmap:96 telephone-event/8000" CRLF,
	  { DL_CODEC_PCMA }, 1, 0,
	  { .codec = DL_CODEC_PCMA, .pt = 97, .pt_event = 96, .remote_dir = SDP_SENDRECV,
	    .local_dir = SDP_SENDRECV, .addr = "192.0.2.10", .port = 30000 } },
	{ "sendonly offer: we receive only",
	  HEAD_C "m=audio 30000 RTP/AVP 0" CRLF "a=sendonly" CRLF, { DL_CODEC_PCMU }, 1, 0,
	  { .codec = DL_CODEC_PCMU, .pt = 0, .pt_event = -1, .remote_dir = SDP_SENDONLY,
	    .local_dir = SDP_RECVONLY, .addr = "192.0.2.10", .port = 30000 } },
	{ "recvonly offer: we send only",
	  HEAD_C "m=audio 30000 RTP/AVP 0" CRLF "a=recvonly" CRLF, { DL_CODEC_PCMU }, 1, 0,
	  { .codec = DL_CODEC_PCMU, .pt = 0, .pt_event = -1, .remote_dir = SDP_RECVONLY,
	    .local_dir = SDP_SENDONLY, .addr = "192.0.2.10", .port = 30000 } },
	{ "inactive offer",
	  HEAD_C "m=audio 30000 RTP/AVP 0" CRLF "a=inactive" CRLF, { DL_CODEC_PCMU }, 1, 0,
	  { .codec = DL_CODEC_PCMU, .pt = 0, .pt_event = -1, .remote_dir = SDP_INACTIVE,
	    .local_dir = SDP_INACTIVE, .addr = "192.0.2.10", .port = 30000 } },
	{ "c=0.0.0.0 hold",
	  HEAD "c=IN IP4 0.0.0.0" CRLF "t=0 0" CRLF "m=audio 30000 RTP/AVP 8" CRLF,
	  { DL_CODEC_PCMA }, 1, 0,
	  { .codec = DL_CODEC_PCMA, .pt = 8, .pt_event = -1, .remote_dir = SDP_SENDONLY,
	    .local_dir = SDP_RECVONLY, .addr = "0.0.0.0", .port = 30000 } },
	{ "IPv6 with ptime 30",
	  "v=0" CRLF "o=bob 1 1 IN IP6 2001:db8::20" CRLF "s=-" CRLF "c=IN IP6 2001:db8::20" CRLF
	  "t=0 0" CRLF "m=audio 6000 RTP/AVP 8" CRLF "a=ptime:30" CRLF,
	  { DL_CODEC_PCMA }, 1, 0,
	  { .codec = DL_CODEC_PCMA, .pt = 8, .pt_event = -1, .remote_dir = SDP_SENDRECV,
	    .local_dir = SDP_SENDRECV, .addr = "2001:db8::20", .port = 6000,
	    .remote_ptime_ms = 30 } },
	{ "rejected stream (port 0)", HEAD_C "m=audio 0 RTP/AVP 0 8" CRLF,
	  { DL_CODEC_PCMU, DL_CODEC_PCMA }, 2, ENOTSUP, { .pt_event = -1 } },
};

static void assert_params_eq(const char *name, const struct sdp_session_params *got,
			     const struct sdp_session_params *want)
{
	ck_assert_msg(got->codec == want->codec, "%s: codec %d", name, got->codec);
	ck_assert_msg(got->pt == want->pt, "%s: pt %u", name, got->pt);
	ck_assert_msg(got->pt_event == want->pt_event, "%s: pt_event %d", name, got->pt_event);
	ck_assert_msg(got->remote_dir == want->remote_dir, "%s: remote_dir %s", name,
		      sdp_dir_name(got->remote_dir));
	ck_assert_msg(got->local_dir == want->local_dir, "%s: local_dir %s", name,
		      sdp_dir_name(got->local_dir));
	ck_assert_msg(strcmp(got->addr, want->addr) == 0, "%s: addr %s", name, got->addr);
	ck_assert_msg(got->port == want->port, "%s: port %u", name, got->port);
	ck_assert_msg(got->remote_ptime_ms == want->remote_ptime_ms, "%s: ptime %u", name,
		      got->remote_ptime_ms);
}

START_TEST(test_negotiate)
{
	const struct negotiate_case *c = &negotiate_cases[_i];
	struct sdp_remote offer;
	struct sdp_session_params got, before;
	int err;

	ck_assert_int_eq(parse_exact(c->offer, strlen(c->offer), &offer), 0);

	memset(&got, 0x5a, sizeof(got));
	before = got;
	err = sdp_negotiate(&offer, c->prefs, c->n_prefs, &got);
	ck_assert_msg(err == c->err, "%s: got %d, want %d", c->name, err, c->err);
	if (err == 0)
		assert_params_eq(c->name, &got, &c->want);
	else
		ck_assert_msg(memcmp(&got, &before, sizeof(got)) == 0, "%s: out written on error",
			      c->name);
}
END_TEST

START_TEST(test_negotiate_null)
{
	static const enum dl_codec prefs[] = { DL_CODEC_PCMU };
	struct sdp_remote offer;
	struct sdp_session_params p;

	ck_assert_int_eq(parse_exact(OFFER_ALL, strlen(OFFER_ALL), &offer), 0);
	ck_assert_int_eq(sdp_negotiate(NULL, prefs, 1, &p), EINVAL);
	ck_assert_int_eq(sdp_negotiate(&offer, NULL, 1, &p), EINVAL);
	ck_assert_int_eq(sdp_negotiate(&offer, prefs, 1, NULL), EINVAL);
	ck_assert_int_eq(sdp_accept_answer(NULL, &p), EINVAL);
	ck_assert_int_eq(sdp_accept_answer(&offer, NULL), EINVAL);
}
END_TEST

/* ---- sdp_accept_answer -------------------------------------------------------------------- */

struct answer_case {
	const char *name;
	const char *answer;
	int err;
	struct sdp_session_params want;
};

static const struct answer_case answer_cases[] = {
	{ "PCMA first with event", HEAD_C "m=audio 5004 RTP/AVP 8 0 101" CRLF
	  "a=rtpmap:101 telephone-event/8000" CRLF, 0,
	  { .codec = DL_CODEC_PCMA, .pt = 8, .pt_event = 101, .remote_dir = SDP_SENDRECV,
	    .local_dir = SDP_SENDRECV, .addr = "192.0.2.10", .port = 5004 } },
	{ "PCMU, no event", HEAD_C "m=audio 5004 RTP/AVP 0" CRLF "a=ptime:20" CRLF, 0,
	  { .codec = DL_CODEC_PCMU, .pt = 0, .pt_event = -1, .remote_dir = SDP_SENDRECV,
	    .local_dir = SDP_SENDRECV, .addr = "192.0.2.10", .port = 5004,
	    .remote_ptime_ms = 20 } },
	{ "G729 first: the first G.711 wins", HEAD_C "m=audio 5004 RTP/AVP 18 8 0" CRLF, 0,
	  { .codec = DL_CODEC_PCMA, .pt = 8, .pt_event = -1, .remote_dir = SDP_SENDRECV,
	    .local_dir = SDP_SENDRECV, .addr = "192.0.2.10", .port = 5004 } },
	{ "recvonly answer: we send only", HEAD_C "m=audio 5004 RTP/AVP 0" CRLF "a=recvonly" CRLF,
	  0, { .codec = DL_CODEC_PCMU, .pt = 0, .pt_event = -1, .remote_dir = SDP_RECVONLY,
	       .local_dir = SDP_SENDONLY, .addr = "192.0.2.10", .port = 5004 } },
	{ "no G.711", HEAD_C "m=audio 5004 RTP/AVP 18" CRLF, ENOTSUP, { .pt_event = -1 } },
	{ "stream refused (port 0)", HEAD_C "m=audio 0 RTP/AVP 0" CRLF, ENOTSUP,
	  { .pt_event = -1 } },
};

START_TEST(test_accept_answer)
{
	const struct answer_case *c = &answer_cases[_i];
	struct sdp_remote answer;
	struct sdp_session_params got;
	int err;

	ck_assert_int_eq(parse_exact(c->answer, strlen(c->answer), &answer), 0);
	err = sdp_accept_answer(&answer, &got);
	ck_assert_msg(err == c->err, "%s: got %d, want %d", c->name, err, c->err);
	if (err == 0)
		assert_params_eq(c->name, &got, &c->want);
}
END_TEST

/* ---- sdp_write ---------------------------------------------------------------------------- */

static const enum dl_codec codecs_ap[] = { DL_CODEC_PCMA, DL_CODEC_PCMU };
static const uint8_t pts_ap[] = { 8, 0 };
static const enum dl_codec codecs_u[] = { DL_CODEC_PCMU };
static const uint8_t pts_u[] = { 0 };
static const enum dl_codec codecs_a[] = { DL_CODEC_PCMA };
static const uint8_t pts_a_dyn[] = { 97 };

struct write_case {
	const char *name;
	struct sdp_local l;
	const char *want;
};

#define FULL_OFFER \
	"v=0" CRLF \
	"o=deskline 42 1 IN IP4 192.0.2.5" CRLF \
	"s=deskline" CRLF \
	"c=IN IP4 192.0.2.5" CRLF \
	"t=0 0" CRLF \
	"m=audio 40000 RTP/AVP 8 0 101" CRLF \
	"a=rtpmap:8 PCMA/8000" CRLF \
	"a=rtpmap:0 PCMU/8000" CRLF \
	"a=rtpmap:101 telephone-event/8000" CRLF \
	"a=fmtp:101 0-15" CRLF \
	"a=ptime:20" CRLF \
	"a=sendrecv" CRLF

static const struct write_case write_cases[] = {
	{ "PCMA+PCMU+event offer",
	  { "192.0.2.5", 40000, 42, 1, codecs_ap, 2, pts_ap, 101, 20, SDP_SENDRECV },
	  FULL_OFFER },
	{ "IPv6 PCMU answer, no event, no ptime",
	  { "2001:db8::5", 5004, UINT64_MAX, 7, codecs_u, 1, pts_u, -1, 0, SDP_RECVONLY },
	  "v=0" CRLF
	  "o=deskline 18446744073709551615 7 IN IP6 2001:db8::5" CRLF
	  "s=deskline" CRLF
	  "c=IN IP6 2001:db8::5" CRLF
	  "t=0 0" CRLF
	  "m=audio 5004 RTP/AVP 0" CRLF
	  "a=rtpmap:0 PCMU/8000" CRLF
	  "a=recvonly" CRLF },
	{ "dynamic PCMA, event 96, inactive",
	  { "198.51.100.2", 65535, 0, 0, codecs_a, 1, pts_a_dyn, 96, 30, SDP_INACTIVE },
	  "v=0" CRLF
	  "o=deskline 0 0 IN IP4 198.51.100.2" CRLF
	  "s=deskline" CRLF
	  "c=IN IP4 198.51.100.2" CRLF
	  "t=0 0" CRLF
	  "m=audio 65535 RTP/AVP 97 96" CRLF
	  "a=rtpmap:97 PCMA/8000" CRLF
	  "a=rtpmap:96 telephone-event/8000" CRLF
	  "a=fmtp:96 0-15" CRLF
	  "a=ptime:30" CRLF
	  "a=inactive" CRLF },
	{ "sendonly (hold from our side)",
	  { "192.0.2.5", 40000, 42, 2, codecs_u, 1, pts_u, 101, 20, SDP_SENDONLY },
	  "v=0" CRLF
	  "o=deskline 42 2 IN IP4 192.0.2.5" CRLF
	  "s=deskline" CRLF
	  "c=IN IP4 192.0.2.5" CRLF
	  "t=0 0" CRLF
	  "m=audio 40000 RTP/AVP 0 101" CRLF
	  "a=rtpmap:0 PCMU/8000" CRLF
	  "a=rtpmap:101 telephone-event/8000" CRLF
	  "a=fmtp:101 0-15" CRLF
	  "a=ptime:20" CRLF
	  "a=sendonly" CRLF },
};

START_TEST(test_write)
{
	const struct write_case *c = &write_cases[_i];
	const struct sdp_local *l = &c->l;
	char buf[1024];
	struct sdp_remote back;
	size_t i;
	int n;

	n = sdp_write(buf, sizeof(buf), l);
	ck_assert_msg(n == (int)strlen(c->want), "%s: length %d, want %zu", c->name, n,
		      strlen(c->want));
	ck_assert_str_eq(buf, c->want);

	/* What we write, we (and sofia-sip) read back to the same values. */
	ck_assert_int_eq(parse_exact(buf, (size_t)n, &back), 0);
	ck_assert_str_eq(back.addr, l->addr);
	ck_assert_uint_eq(back.port, l->port);
	ck_assert_int_eq(back.dir, l->dir);
	ck_assert_uint_eq(back.ptime_ms, l->ptime_ms);
	ck_assert_int_eq(back.pt_event, l->pt_event);
	ck_assert_int_eq(back.first, l->codecs[0]);
	ck_assert(!back.hold_addr);
	for (i = 0; i < l->n_codecs; i++)
		ck_assert_int_eq(l->codecs[i] == DL_CODEC_PCMU ? back.pt_pcmu : back.pt_pcma,
				 l->pts[i]);
}
END_TEST

/* Every size short of the text plus its NUL fails, and nothing past size is written. */
START_TEST(test_write_too_small)
{
	const struct sdp_local *l = &write_cases[0].l;
	const size_t want = strlen(FULL_OFFER);
	enum { SLACK = 16 };
	char canary[sizeof(FULL_OFFER) + SLACK];
	size_t size, k;

	for (size = 0; size <= want; size++) {
		/* Exactly @size bytes on the heap: ASan/valgrind see any write past it. */
		char *exact = malloc(size ? size : 1);

		ck_assert_ptr_nonnull(exact);
		ck_assert_msg(sdp_write(exact, size, l) == -1, "size %zu accepted", size);
		if (size)
			ck_assert_int_eq(exact[0], '\0');
		free(exact);

		memset(canary, 0x5a, sizeof(canary));
		ck_assert_int_eq(sdp_write(canary, size, l), -1);
		for (k = size; k < sizeof(canary); k++)
			ck_assert_msg(canary[k] == 0x5a, "size %zu: byte %zu written", size, k);
	}

	ck_assert_int_eq(sdp_write(canary, want + 1, l), (int)want);
	ck_assert_str_eq(canary, FULL_OFFER);
}
END_TEST

START_TEST(test_write_invalid)
{
	static const enum dl_codec bad_codec[] = { DL_CODEC_NONE };
	static const enum dl_codec g729[] = { (enum dl_codec)18 };
	static const uint8_t bad_pt[] = { 128 };
	const struct sdp_local good = write_cases[0].l;
	struct sdp_local l;
	char buf[512];

	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &good), (int)strlen(FULL_OFFER));
	ck_assert_int_eq(sdp_write(NULL, sizeof(buf), &good), -1);
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), NULL), -1);

	l = good; l.addr = NULL;
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.addr = "";
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.addr = "192.0.2.5\r\na=sendonly";      /* would inject a line */
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	ck_assert_str_eq(buf, "");
	l = good; l.addr = "192.0.2.5 x";
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.codecs = bad_codec; l.n_codecs = 1;
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.codecs = g729; l.n_codecs = 1;
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.pts = bad_pt; l.n_codecs = 1;
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.codecs = NULL;
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.pts = NULL;
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.pt_event = 128;
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.pt_event = -2;
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.dir = (enum sdp_dir)4;
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);
	l = good; l.n_codecs = 0; l.pt_event = -1;          /* m= line with no format */
	ck_assert_int_eq(sdp_write(buf, sizeof(buf), &l), -1);

	/* Event only is a valid (if odd) m= line. */
	l = good; l.n_codecs = 0;
	ck_assert_int_gt(sdp_write(buf, sizeof(buf), &l), 0);
	ck_assert_ptr_nonnull(strstr(buf, "m=audio 40000 RTP/AVP 101\r\n"));
}
END_TEST

/* ---- offer in our 200 OK, answer in the ACK (RFC 3261 §13.2.1 delayed offer) --------------- */

START_TEST(test_delayed_offer_flow)
{
	/* deskline offers: A-law first, mu-law, events on 101, 20 ms. */
	const struct sdp_local ours = { "192.0.2.5", 40000, 9001, 1, codecs_ap, 2, pts_ap, 101, 20,
					SDP_SENDRECV };
	/* The phone only speaks mu-law. */
	static const enum dl_codec phone_prefs[] = { DL_CODEC_PCMU };
	char offer[512], answer[512];
	struct sdp_remote offer_seen, answer_seen;
	struct sdp_session_params phone, us;
	struct sdp_local theirs;
	int n;

	n = sdp_write(offer, sizeof(offer), &ours);
	ck_assert_int_gt(n, 0);

	/* The phone's side: parse our offer and answer it. */
	ck_assert_int_eq(parse_exact(offer, (size_t)n, &offer_seen), 0);
	ck_assert_str_eq(offer_seen.addr, "192.0.2.5");
	ck_assert_uint_eq(offer_seen.port, 40000);
	ck_assert_int_eq(offer_seen.pt_pcma, 8);
	ck_assert_int_eq(offer_seen.pt_pcmu, 0);
	ck_assert_int_eq(offer_seen.pt_event, 101);
	ck_assert_int_eq(offer_seen.first, DL_CODEC_PCMA);
	ck_assert_uint_eq(offer_seen.ptime_ms, 20);

	ck_assert_int_eq(sdp_negotiate(&offer_seen, phone_prefs, 1, &phone), 0);
	ck_assert_int_eq(phone.codec, DL_CODEC_PCMU);
	ck_assert_uint_eq(phone.pt, 0);
	ck_assert_int_eq(phone.pt_event, 101);

	theirs = (struct sdp_local){ "198.51.100.9", 5004, 77, 1, codecs_u, 1, &phone.pt,
				     phone.pt_event, 20, phone.local_dir };
	n = sdp_write(answer, sizeof(answer), &theirs);
	ck_assert_int_gt(n, 0);

	/* Back at deskline: the ACK's answer. */
	ck_assert_int_eq(parse_exact(answer, (size_t)n, &answer_seen), 0);
	ck_assert_int_eq(sdp_accept_answer(&answer_seen, &us), 0);
	ck_assert_int_eq(us.codec, DL_CODEC_PCMU);
	ck_assert_uint_eq(us.pt, 0);
	ck_assert_int_eq(us.pt_event, 101);
	ck_assert_str_eq(us.addr, "198.51.100.9");
	ck_assert_uint_eq(us.port, 5004);
	ck_assert_int_eq(us.remote_dir, SDP_SENDRECV);
	ck_assert_int_eq(us.local_dir, SDP_SENDRECV);
	ck_assert_uint_eq(us.remote_ptime_ms, 20);
}
END_TEST

/* ---- direction helpers -------------------------------------------------------------------- */

struct dir_case {
	enum sdp_dir remote;
	enum sdp_dir answer;
	const char *name;
};

static const struct dir_case dir_cases[] = {
	{ SDP_SENDRECV, SDP_SENDRECV, "sendrecv" },
	{ SDP_SENDONLY, SDP_RECVONLY, "sendonly" },
	{ SDP_RECVONLY, SDP_SENDONLY, "recvonly" },
	{ SDP_INACTIVE, SDP_INACTIVE, "inactive" },
};

START_TEST(test_dir)
{
	const struct dir_case *c = &dir_cases[_i];

	ck_assert_int_eq(sdp_dir_answer(c->remote), c->answer);
	ck_assert_int_eq(sdp_dir_answer(sdp_dir_answer(c->remote)), c->remote);
	ck_assert_str_eq(sdp_dir_name(c->remote), c->name);
	ck_assert_str_eq(sdp_dir_name((enum sdp_dir)7), "?");
}
END_TEST

static Suite *sdp_suite(void)
{
	Suite *s = suite_create("sdp");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse, 0, (int)ARRAY_SIZE(parse_cases));
	tcase_add_test(tc, test_parse_prefixes);
	tcase_add_test(tc, test_parse_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("negotiate");
	tcase_add_loop_test(tc, test_negotiate, 0, (int)ARRAY_SIZE(negotiate_cases));
	tcase_add_test(tc, test_negotiate_null);
	tcase_add_loop_test(tc, test_accept_answer, 0, (int)ARRAY_SIZE(answer_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_loop_test(tc, test_write, 0, (int)ARRAY_SIZE(write_cases));
	tcase_add_test(tc, test_write_too_small);
	tcase_add_test(tc, test_write_invalid);
	tcase_add_test(tc, test_delayed_offer_flow);
	suite_add_tcase(s, tc);

	tc = tcase_create("dir");
	tcase_add_loop_test(tc, test_dir, 0, (int)ARRAY_SIZE(dir_cases));
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return unit_run(sdp_suite());
}
