/**
 * @file test_media.c  The media engine with real UDP sockets on loopback, on the su_root loop
 *                     (media.workers = 0) and with two worker threads (media.workers = 2), each
 *                     with epoll and with io_uring (media.io_uring): every test runs all four
 *                     ways. Prompts go out at ptime with RTP sequence and
 *                     timestamps as RFC 3550 §5.1 says; RFC 4733 and SIP INFO digits reach the
 *                     handler once, on the loop; in-band tones are heard as media.inband_dtmf
 *                     and the far end's telephone-event say; bridged legs relay both ways with
 *                     PCMU ↔ PCMA transcoding, and move between being read on arrival and on
 *                     the clock as they are bridged; symmetric RTP latches to the source (RFC 4961)
 *                     and relatches after silence; legs freed inside a handler or with events
 *                     still queued; freed legs' ports rest in the pool, are emptied and serve a
 *                     later leg, and are given up when descriptors run out or the range moves.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <liburing.h>
#include <spandsp.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "unit.h"
#include "deskline/media.h"
#include "deskline/rtp.h"

#define PTIME_MS      20
#define FRAME         160                /* samples per 20 ms at 8 kHz */
#define PROMPT_FRAMES 3
#define EVENT_PT      101
#define WAIT_MS       3000               /* longest a test waits for something that must come */

/* media.workers and media.io_uring of each run of a loop test: _i indexes these. */
static const unsigned workers_of_run[] = { 0, 2, 0, 2 };
static const bool uring_of_run[] = { false, false, true, true };

struct peer {
	int fd;
	uint16_t port;
};

struct seen {
	char digits[32];
	unsigned n_digits;
	unsigned play_done;
	bool free_in_digit;   /* the digit handler frees its leg */
	struct media_leg *leg;
};

static su_root_t *root;
static struct media_engine *me;

/** Whether this process may set up an io_uring at all (said once on stderr when it may not). */
static bool kernel_has_io_uring(void)
{
	static int has = -1;
	struct io_uring ring;

	if (has < 0) {
		has = io_uring_queue_init(8, &ring, 0) == 0;
		if (has)
			io_uring_queue_exit(&ring);
		else
			fprintf(stderr, "test_media: no io_uring here: its runs test the epoll fallback\n");
	}
	return has == 1;
}

static void setup_engine_io(unsigned workers, bool io_uring)
{
	ck_assert_int_eq(su_init(), 0);
	root = su_root_create(NULL);
	ck_assert_ptr_nonnull(root);
	/* A port range of its own per process (the tests fork): pid-based, even. */
	uint16_t base = (uint16_t)(30000 + (getpid() % 1000) * 20);
	ck_assert_int_eq(media_engine_alloc(&me, root, "127.0.0.1", base, (uint16_t)(base + 19),
					    PTIME_MS, workers, io_uring), 0);
	ck_assert_uint_eq(media_engine_workers(me), workers);
	/* A run that asks for io_uring gets it wherever this process may create a ring; where it
	 * may not (a seccomp profile, kernel.io_uring_disabled), the engine must fall back to
	 * epoll, and the run then tests that. */
	bool want = io_uring && kernel_has_io_uring();
	ck_assert_msg(media_engine_io_uring(me) == want, "io_uring %s, asked %s, kernel has it: %s",
		      media_engine_io_uring(me) ? "on" : "off", io_uring ? "on" : "off",
		      kernel_has_io_uring() ? "yes" : "no");
}

static void setup_engine(unsigned workers)
{
	setup_engine_io(workers, false);
}

static void teardown_engine(void)
{
	ck_assert_uint_eq(media_engine_legs(me), 0);
	media_engine_free(me);
	su_root_destroy(root);
	su_deinit();
}

static struct peer peer_open(void)
{
	struct peer p;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(p.fd, 0);
	ck_assert_int_eq(bind(p.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(p.fd, (struct sockaddr *)&sin, &len), 0);
	p.port = ntohs(sin.sin_port);
	return p;
}

/** Send one datagram from @p p to @p port on loopback. */
static void peer_send_port(const struct peer *p, uint16_t port, const uint8_t *buf, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(sendto(p->fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)len);
}

/** Send one datagram from @p p to a leg's RTP port. */
static void peer_send(const struct peer *p, const struct media_leg *leg, const uint8_t *buf,
		      size_t len)
{
	peer_send_port(p, media_leg_port(leg), buf, len);
}

/*
 * The loop is stepped against the clock: su_root_step() may return at once (sofia-sip polls
 * with no timeout in the last millisecond before a timer), so counting steps is no measure.
 */

/** Run the loop, up to @p ms, until a datagram is at @p p; @return its length, or -1. */
static ssize_t peer_recv(const struct peer *p, uint8_t *buf, size_t size, int ms)
{
	mstime_t end = media_now_ms() + (mstime_t)ms;

	for (;;) {
		ssize_t n = recv(p->fd, buf, size, 0);
		if (n >= 0 || media_now_ms() >= end)
			return n >= 0 ? n : -1;
		su_root_step(root, 5);
	}
}

/** Apply a description of @p p with telephone-event as @p pt_event (-1: the far end has none). */
static void set_remote_te(struct media_leg *leg, const struct peer *p, enum dl_codec codec,
			  int pt_event)
{
	struct sdp_session_params sp = {
		.codec = codec, .pt = (uint8_t)codec, .pt_event = pt_event,
		.remote_dir = SDP_SENDRECV, .local_dir = SDP_SENDRECV, .port = p->port,
	};

	strcpy(sp.addr, "127.0.0.1");
	ck_assert_int_eq(media_leg_set_remote(leg, &sp, pt_event), 0);
}

static void set_remote(struct media_leg *leg, const struct peer *p, enum dl_codec codec)
{
	set_remote_te(leg, p, codec, EVENT_PT);
}

static void on_digit(struct media_leg *leg, char digit, void *arg)
{
	struct seen *s = arg;

	ck_assert_ptr_eq(leg, s->leg);
	if (s->n_digits < sizeof(s->digits) - 1)
		s->digits[s->n_digits++] = digit;
	if (s->free_in_digit) {
		media_leg_free(leg);
		s->leg = NULL;
	}
}

static void on_play_done(struct media_leg *leg, void *arg)
{
	struct seen *s = arg;

	ck_assert_ptr_eq(leg, s->leg);
	s->play_done++;
}

static const struct media_leg_handlers handlers = { .digit = on_digit, .play_done = on_play_done };

/**
 * Open a leg whose handlers record into @p s, on @p near's worker (NULL: any), sending @p codec
 * to @p p (NULL: no remote yet).
 */
static struct media_leg *leg_open(struct seen *s, const struct media_leg *near,
				  const struct peer *p, enum dl_codec codec)
{
	struct media_leg *leg;

	ck_assert_int_eq(media_leg_alloc(&leg, me, near, DL_INBAND_OFF, &handlers, s), 0);
	s->leg = leg;
	if (p)
		set_remote(leg, p, codec);
	return leg;
}

/** Run the loop until *@p flag is non-zero or WAIT_MS pass. */
static void run_until(const unsigned *flag)
{
	mstime_t end = media_now_ms() + WAIT_MS;

	while (!*flag && media_now_ms() < end)
		su_root_step(root, 5);
}

/** Run the loop for @p ms whatever happens (to see that nothing more comes). */
static void run_for(int ms)
{
	mstime_t end = media_now_ms() + (mstime_t)ms;

	while (media_now_ms() < end)
		su_root_step(root, 5);
}

/**
 * Send one RFC 4733 key to @p port: a start packet and three end packets, as phones do
 * (§2.5.1.4).
 */
static void send_key_port(const struct peer *p, uint16_t port, char key, uint16_t seq)
{
	uint8_t pkt[RTP_HEADER_SIZE + 4];
	struct rtp_event ev = { .event = (uint8_t)rtp_event_code(key), .volume = 10,
				.duration = FRAME };

	rtp_write_header(pkt, true, EVENT_PT, seq, 8000, 0x1234);
	rtp_event_write(pkt + RTP_HEADER_SIZE, &ev);
	peer_send_port(p, port, pkt, sizeof(pkt));
	ev.end = true;
	ev.duration = 3 * FRAME;
	for (int i = 1; i <= 3; i++) {
		rtp_write_header(pkt, false, EVENT_PT, (uint16_t)(seq + i), 8000, 0x1234);
		rtp_event_write(pkt + RTP_HEADER_SIZE, &ev);
		peer_send_port(p, port, pkt, sizeof(pkt));
	}
}

/** Send one RFC 4733 key to @p leg's RTP port. */
static void send_key(const struct peer *p, const struct media_leg *leg, char key, uint16_t seq)
{
	send_key_port(p, media_leg_port(leg), key, seq);
}

/* ---- prompts ----------------------------------------------------------------------------- */

START_TEST(prompt_goes_out_at_ptime_then_play_done)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct peer p = peer_open();
	struct seen s = { 0 };
	struct media_leg *leg;
	uint8_t ulaw[PROMPT_FRAMES * FRAME];
	for (size_t i = 0; i < sizeof(ulaw); i++)
		ulaw[i] = (uint8_t)(i & 0x7f);
	struct prompt pr = { .name = "t", .lang = "en", .samples = sizeof(ulaw), .ulaw = ulaw,
			     .alaw = ulaw };
	const struct prompt *list[] = { &pr };

	leg = leg_open(&s, NULL, &p, DL_CODEC_PCMU);
	media_leg_play(leg, list, 1, false);
	run_until(&s.play_done);
	ck_assert_uint_eq(s.play_done, 1);

	uint8_t buf[1500];
	struct rtp_packet pkt, first = { 0 };
	for (int f = 0; f < PROMPT_FRAMES; f++) {
		ssize_t n = peer_recv(&p, buf, sizeof(buf), 0);
		ck_assert_int_eq(n, RTP_HEADER_SIZE + FRAME);
		ck_assert_int_eq(rtp_parse(buf, (size_t)n, &pkt), 0);
		ck_assert_uint_eq(pkt.pt, 0);
		if (f == 0) {
			first = pkt;
			ck_assert(pkt.marker);
		} else {
			ck_assert(!pkt.marker);
			ck_assert_uint_eq(pkt.ssrc, first.ssrc);
			ck_assert_uint_eq((uint16_t)(pkt.seq - first.seq), f);
			ck_assert_uint_eq(pkt.ts - first.ts, (uint32_t)(f * FRAME));
		}
		ck_assert_mem_eq(pkt.payload, ulaw + f * FRAME, FRAME);
	}
	/* Played once: nothing after the last frame, and play_done only once. */
	run_for(100);
	ck_assert_int_eq(recv(p.fd, buf, sizeof(buf), 0), -1);
	ck_assert_uint_eq(s.play_done, 1);
	media_leg_free(leg);
	close(p.fd);
	teardown_engine();
}
END_TEST

START_TEST(new_play_cancels_unreported_play_done)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct peer p = peer_open();
	struct seen s = { 0 };
	struct media_leg *leg;
	uint8_t ulaw[FRAME];
	memset(ulaw, 0x55, sizeof(ulaw));
	struct prompt pr = { .name = "t", .lang = "en", .samples = FRAME, .ulaw = ulaw,
			     .alaw = ulaw };
	const struct prompt *list[] = { &pr };

	leg = leg_open(&s, NULL, &p, DL_CODEC_PCMU);
	media_leg_play(leg, list, 1, false);
	/* Let the clock finish the one-frame prompt without running the loop's handlers (with
	 * workers the end is queued; on the loop nothing runs at all), then play again: the end of
	 * the first playback must not be reported for the second. */
	usleep(3 * PTIME_MS * 1000);
	media_leg_play(leg, list, 1, true);
	run_for(100);
	ck_assert_uint_eq(s.play_done, 0);
	media_leg_stop(leg);
	run_for(60);
	ck_assert_uint_eq(s.play_done, 0);
	media_leg_free(leg);
	close(p.fd);
	teardown_engine();
}
END_TEST

/* ---- digits ------------------------------------------------------------------------------ */

START_TEST(rfc4733_key_reaches_handler_once)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct peer p = peer_open();
	struct seen s = { 0 };
	struct media_leg *leg;

	leg = leg_open(&s, NULL, &p, DL_CODEC_PCMU);
	send_key(&p, leg, '7', 100);
	run_until(&s.n_digits);
	run_for(100);
	ck_assert_str_eq(s.digits, "7");
	struct media_stats st;
	media_leg_stats(leg, &st);
	ck_assert_uint_eq(st.rx_packets, 4);
	ck_assert_uint_lt(media_leg_idle_ms(leg, media_now_ms()), WAIT_MS);
	media_leg_free(leg);
	close(p.fd);
	teardown_engine();
}
END_TEST

/**
 * Send @p key as an in-band tone in PCMU audio (spandsp's generator, -10 dBm0, 100 ms on, then
 * 100 ms of silence), 20 ms per packet from sequence number *@p seq on.
 */
static void send_tone(const struct peer *p, const struct media_leg *leg, char key, uint16_t *seq)
{
	int16_t amp[10 * FRAME] = { 0 };
	uint8_t pkt[RTP_HEADER_SIZE + FRAME];
	dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
	const char keys[2] = { key, '\0' };

	ck_assert_ptr_nonnull(tx);
	dtmf_tx_set_level(tx, -10, 0);
	dtmf_tx_set_timing(tx, 100, 100);
	ck_assert_int_eq(dtmf_tx_put(tx, keys, -1), 0);
	ck_assert_int_eq(dtmf_tx(tx, amp, 10 * FRAME), 10 * FRAME);
	dtmf_tx_free(tx);
	for (int f = 0; f < 10; f++) {
		rtp_write_header(pkt, f == 0, DL_CODEC_PCMU, *seq, (uint32_t)(*seq * FRAME), 0x5678);
		for (int i = 0; i < FRAME; i++)
			pkt[RTP_HEADER_SIZE + i] = linear_to_ulaw(amp[f * FRAME + i]);
		peer_send(p, leg, pkt, sizeof(pkt));
		(*seq)++;
	}
}

/* Which tones are heard: by the in-band setting, and for "auto" by what the far end's SDP has. */
START_TEST(inband_detection_follows_setting_and_telephone_event)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct peer p = peer_open();
	struct seen on = { 0 }, off = { 0 }, aut = { 0 };
	struct media_leg *l_on, *l_off, *l_auto;
	uint16_t seq = 1000;

	ck_assert_int_eq(media_leg_alloc(&l_on, me, NULL, DL_INBAND_ON, &handlers, &on), 0);
	ck_assert_int_eq(media_leg_alloc(&l_off, me, NULL, DL_INBAND_OFF, &handlers, &off), 0);
	ck_assert_int_eq(media_leg_alloc(&l_auto, me, NULL, DL_INBAND_AUTO, &handlers, &aut), 0);
	on.leg = l_on;
	off.leg = l_off;
	aut.leg = l_auto;
	set_remote_te(l_on, &p, DL_CODEC_PCMU, EVENT_PT);
	set_remote_te(l_off, &p, DL_CODEC_PCMU, -1);
	set_remote_te(l_auto, &p, DL_CODEC_PCMU, -1);

	send_tone(&p, l_on, '1', &seq);
	send_tone(&p, l_off, '2', &seq);
	send_tone(&p, l_auto, '3', &seq);
	run_until(&on.n_digits);
	run_until(&aut.n_digits);
	run_for(100);
	ck_assert_str_eq(on.digits, "1");    /* on: also with telephone-event */
	ck_assert_str_eq(off.digits, "");    /* off: not even without it */
	ck_assert_str_eq(aut.digits, "3");   /* auto, no telephone-event: heard */

	/* auto: a re-INVITE brings telephone-event, tones are no longer looked for; events are. */
	set_remote_te(l_auto, &p, DL_CODEC_PCMU, EVENT_PT);
	send_tone(&p, l_auto, '4', &seq);
	run_for(300);
	ck_assert_str_eq(aut.digits, "3");
	send_key(&p, l_auto, '5', seq);
	seq = (uint16_t)(seq + 4);
	run_for(300);
	ck_assert_str_eq(aut.digits, "35");
	/* … and one without it again: tones are heard again. */
	set_remote_te(l_auto, &p, DL_CODEC_PCMU, -1);
	send_tone(&p, l_auto, '6', &seq);
	run_for(300);
	ck_assert_str_eq(aut.digits, "356");

	media_leg_free(l_on);
	media_leg_free(l_off);
	media_leg_free(l_auto);
	close(p.fd);
	teardown_engine();
}
END_TEST

START_TEST(info_digit_reaches_handler_from_the_loop)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct seen s = { 0 };
	struct media_leg *leg;
	static const char body[] = "Signal=4\r\nDuration=160\r\n";

	leg = leg_open(&s, NULL, NULL, DL_CODEC_PCMU);
	ck_assert_int_eq(media_leg_info(leg, "application/dtmf-relay", body, strlen(body)), 0);
	ck_assert_uint_eq(s.n_digits, 0); /* not from inside the call */
	run_until(&s.n_digits);
	run_for(50);
	ck_assert_str_eq(s.digits, "4");
	media_leg_free(leg);
	teardown_engine();
}
END_TEST

START_TEST(leg_freed_in_its_digit_handler)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct peer p = peer_open();
	struct seen s = { .free_in_digit = true };
	struct media_leg *leg;

	leg = leg_open(&s, NULL, &p, DL_CODEC_PCMU);
	send_key(&p, leg, '1', 10);
	send_key(&p, leg, '2', 20);
	run_until(&s.n_digits);
	run_for(100);
	/* The second key came after the first in the same queue: dropped with the leg. */
	ck_assert_str_eq(s.digits, "1");
	ck_assert_ptr_null(s.leg);
	close(p.fd);
	teardown_engine();
}
END_TEST

START_TEST(leg_freed_with_events_queued)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct peer p = peer_open();
	struct seen s = { 0 };
	struct media_leg *leg;

	leg = leg_open(&s, NULL, &p, DL_CODEC_PCMU);
	ck_assert_int_eq(media_leg_info(leg, "application/dtmf", "9", 1), 0);
	media_leg_free(leg);
	run_for(50);
	ck_assert_uint_eq(s.n_digits, 0);
	close(p.fd);
	teardown_engine();
}
END_TEST

/* ---- symmetric RTP ----------------------------------------------------------------------- */

/** A PCMU frame from @p p to @p leg. */
static void send_audio(const struct peer *p, const struct media_leg *leg, uint16_t seq)
{
	uint8_t pkt[RTP_HEADER_SIZE + FRAME];

	rtp_write_header(pkt, false, DL_CODEC_PCMU, seq, (uint32_t)seq * FRAME, 0x4242);
	memset(pkt + RTP_HEADER_SIZE, 0xff, FRAME);
	peer_send(p, leg, pkt, sizeof(pkt));
}

START_TEST(latches_to_the_source_then_relatches_after_silence)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct peer sdp = peer_open(), nat = peer_open(), other = peer_open();
	struct seen s = { 0 };
	struct media_leg *leg;
	uint8_t buf[1500];
	struct media_stats st;
	uint8_t ulaw[FRAME];
	memset(ulaw, 0x11, sizeof(ulaw));
	struct prompt pr = { .name = "t", .lang = "en", .samples = FRAME, .ulaw = ulaw,
			     .alaw = ulaw };
	const struct prompt *list[] = { &pr };

	leg = leg_open(&s, NULL, &sdp, DL_CODEC_PCMU);
	media_leg_play(leg, list, 1, true);
	/* Before any packet: to the SDP's address. */
	ck_assert_int_gt(peer_recv(&sdp, buf, sizeof(buf), WAIT_MS), 0);

	/* The far end's packets come from elsewhere (behind NAT): we answer there. */
	send_audio(&nat, leg, 1);
	ck_assert_int_gt(peer_recv(&nat, buf, sizeof(buf), WAIT_MS), 0);
	run_for(50);
	while (recv(sdp.fd, buf, sizeof(buf), 0) >= 0)
		;
	run_for(60);
	ck_assert_int_eq(recv(sdp.fd, buf, sizeof(buf), 0), -1);

	/* Latched: a third source is not heard while the first one talks. */
	media_leg_stats(leg, &st);
	uint64_t rx0 = st.rx_packets;
	send_audio(&other, leg, 2);
	send_audio(&nat, leg, 3);
	run_for(60);
	media_leg_stats(leg, &st);
	ck_assert_uint_eq(st.rx_packets, rx0 + 1);
	ck_assert_int_eq(recv(other.fd, buf, sizeof(buf), 0), -1);

	/* The latched source falls silent (its NAT binding moved): after 2 s the new one is heard
	 * and answered. */
	run_for(2300);
	send_audio(&other, leg, 4);
	ck_assert_int_gt(peer_recv(&other, buf, sizeof(buf), WAIT_MS), 0);
	media_leg_stats(leg, &st);
	ck_assert_uint_eq(st.rx_packets, rx0 + 2);

	media_leg_free(leg);
	close(sdp.fd);
	close(nat.fd);
	close(other.fd);
	teardown_engine();
}
END_TEST

/* ---- bridging ---------------------------------------------------------------------------- */

START_TEST(bridge_relays_both_ways_and_transcodes)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct peer pa = peer_open(), pb = peer_open();
	struct seen sa = { 0 }, sb = { 0 };
	struct media_leg *a, *b;

	a = leg_open(&sa, NULL, &pa, DL_CODEC_PCMU);
	b = leg_open(&sb, a, &pb, DL_CODEC_PCMA);
	ck_assert_uint_eq(media_engine_legs(me), 2);
	ck_assert_int_eq(media_bridge(a, b, true), 0);

	uint8_t in[RTP_HEADER_SIZE + FRAME], buf[1500];
	struct rtp_packet pkt;
	rtp_write_header(in, true, DL_CODEC_PCMU, 1, 160, 0xabcdef);
	for (int i = 0; i < FRAME; i++)
		in[RTP_HEADER_SIZE + i] = (uint8_t)(0x80 + i / 2);
	peer_send(&pa, a, in, sizeof(in));
	ssize_t n = peer_recv(&pb, buf, sizeof(buf), WAIT_MS);
	ck_assert_int_eq(n, (ssize_t)sizeof(in));
	ck_assert_int_eq(rtp_parse(buf, (size_t)n, &pkt), 0);
	ck_assert_uint_eq(pkt.pt, DL_CODEC_PCMA);
	ck_assert_uint_ne(pkt.ssrc, 0xabcdef); /* relayed with our own SSRC (RFC 3550 §8.2) */
	for (int i = 0; i < FRAME; i++)
		ck_assert_uint_eq(pkt.payload[i], ulaw_to_alaw(in[RTP_HEADER_SIZE + i]));

	rtp_write_header(in, true, DL_CODEC_PCMA, 1, 160, 0x777);
	peer_send(&pb, b, in, sizeof(in));
	n = peer_recv(&pa, buf, sizeof(buf), WAIT_MS);
	ck_assert_int_eq(n, (ssize_t)sizeof(in));
	ck_assert_int_eq(rtp_parse(buf, (size_t)n, &pkt), 0);
	ck_assert_uint_eq(pkt.pt, DL_CODEC_PCMU);
	for (int i = 0; i < FRAME; i++)
		ck_assert_uint_eq(pkt.payload[i], alaw_to_ulaw(in[RTP_HEADER_SIZE + i]));

	/* Freeing one side undoes the bridge: nothing more reaches the other peer. */
	media_leg_free(b);
	peer_send(&pa, a, in, sizeof(in));
	ck_assert_int_eq(peer_recv(&pa, buf, sizeof(buf), 60), -1);
	ck_assert_uint_eq(sa.n_digits + sb.n_digits, 0);
	media_leg_free(a);
	close(pa.fd);
	close(pb.fd);
	teardown_engine();
}
END_TEST

/*
 * A leg moves between the worker's two epoll sets (read on arrival when bridged, on the clock in
 * the menu) as it is bridged, bridged elsewhere and unbridged: what it receives still goes where
 * the bridge says, and its keys are heard again back in the menu.
 */
START_TEST(rebridged_then_back_in_the_menu)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct peer pa = peer_open(), p1 = peer_open(), p2 = peer_open();
	struct seen sa = { 0 }, s1 = { 0 }, s2 = { 0 };
	struct media_leg *a, *b1, *b2;
	uint8_t in[RTP_HEADER_SIZE + FRAME], buf[1500];

	a = leg_open(&sa, NULL, &pa, DL_CODEC_PCMU);
	b1 = leg_open(&s1, a, &p1, DL_CODEC_PCMU);
	b2 = leg_open(&s2, a, &p2, DL_CODEC_PCMU);
	memset(in, 0xd5, sizeof(in));
	rtp_write_header(in, true, DL_CODEC_PCMU, 1, 160, 0x111);

	/* Bridged to b1: a's audio goes to b1's far end. */
	ck_assert_int_eq(media_bridge(a, b1, true), 0);
	peer_send(&pa, a, in, sizeof(in));
	ck_assert_int_eq(peer_recv(&p1, buf, sizeof(buf), WAIT_MS), (ssize_t)sizeof(in));

	/* Bridged to b2 instead: b1 no longer reaches a, b2 does. */
	ck_assert_int_eq(media_bridge(a, b2, true), 0);
	peer_send(&p1, b1, in, sizeof(in));
	ck_assert_int_eq(peer_recv(&pa, buf, sizeof(buf), 100), -1);
	peer_send(&p2, b2, in, sizeof(in));
	ck_assert_int_eq(peer_recv(&pa, buf, sizeof(buf), WAIT_MS), (ssize_t)sizeof(in));
	peer_send(&pa, a, in, sizeof(in));
	ck_assert_int_eq(peer_recv(&p2, buf, sizeof(buf), WAIT_MS), (ssize_t)sizeof(in));
	ck_assert_int_eq(recv(p1.fd, buf, sizeof(buf), 0), -1);

	/* Unbridged: back in the menu, a's keys are heard again and b2's audio stays with b2. */
	ck_assert_int_eq(media_bridge(a, NULL, false), 0);
	send_key(&pa, a, '9', 200);
	run_until(&sa.n_digits);
	peer_send(&p2, b2, in, sizeof(in));
	run_for(100);
	ck_assert_str_eq(sa.digits, "9");
	ck_assert_int_eq(recv(pa.fd, buf, sizeof(buf), 0), -1);
	ck_assert_uint_eq(s1.n_digits + s2.n_digits, 0);

	/* b2, left by a, went back to being read on the clock at a tick: its keys are heard. */
	send_key(&p2, b2, '5', 300);
	run_until(&s2.n_digits);
	ck_assert_str_eq(s2.digits, "5");
	ck_assert_uint_eq(sa.n_digits, 1);

	media_leg_free(b2);
	media_leg_free(b1);
	media_leg_free(a);
	close(pa.fd);
	close(p1.fd);
	close(p2.fd);
	teardown_engine();
}
END_TEST

/** Whether @p port on loopback can be bound now (no socket of the engine holds it). */
static bool port_free(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	bool ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/*
 * The ports of freed legs (a bridged pair: on io_uring runs each had a receive outstanding)
 * stay bound in the pool: a leg opened at once gets another pair; one opened after
 * MEDIA_PORT_REST_MS gets a freed pair that stayed silent, not the one the old call's far end
 * still sent to, which rests again and serves a later leg, emptied. Moving the range closes the
 * pooled ports.
 */
START_TEST(freed_ports_rest_then_serve_a_new_leg_emptied)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct peer pa = peer_open(), pb = peer_open(), pd = peer_open(), pe = peer_open();
	struct seen sa = { 0 }, sb = { 0 }, sc = { 0 }, sd = { 0 }, se = { 0 };
	uint8_t in[RTP_HEADER_SIZE + FRAME] = { 0 }, buf[1500];

	struct media_leg *a = leg_open(&sa, NULL, &pa, DL_CODEC_PCMU);
	struct media_leg *b = leg_open(&sb, a, &pb, DL_CODEC_PCMU);
	ck_assert_int_eq(media_bridge(a, b, true), 0);
	rtp_write_header(in, true, DL_CODEC_PCMU, 1, 160, 0xabc);
	peer_send(&pa, a, in, sizeof(in));
	ck_assert_int_eq(peer_recv(&pb, buf, sizeof(buf), WAIT_MS), (ssize_t)sizeof(in));
	uint16_t port_a = media_leg_port(a), port_b = media_leg_port(b);
	media_leg_free(a); /* first: its pair is the first in line */
	media_leg_free(b);
	run_for(50); /* the receives' last completions: the legs go, their ports to the pool */
	ck_assert(!port_free(port_a));
	ck_assert(!port_free((uint16_t)(port_a + 1)));
	ck_assert(!port_free(port_b));

	/* The old call's far end on a still sends: a key to its port while it rests. */
	mstime_t freed = media_now_ms();
	send_key_port(&pa, port_a, '7', 100);

	/* Not rested yet: a new leg binds another pair. */
	struct media_leg *c = leg_open(&sc, NULL, NULL, DL_CODEC_PCMU);
	ck_assert_uint_ne(media_leg_port(c), port_a);
	ck_assert_uint_ne(media_leg_port(c), port_b);

	/* Rested: the silent pair serves the next leg; a's pair, which heard the key, rests again. */
	while (media_now_ms() < freed + MEDIA_PORT_REST_MS + 100)
		su_root_step(root, 5);
	struct media_leg *d = leg_open(&sd, c, &pd, DL_CODEC_PCMU);
	ck_assert_uint_eq(media_leg_port(d), port_b);
	/* a's pair rests again from when a leg found the key in it — that leg's time, or the next
	 * one's if the silent pair was first in line: it comes back within two rests. */
	struct media_leg *e = NULL;
	for (int round = 0; round < 2 && !e; round++) {
		mstime_t from = media_now_ms();
		while (media_now_ms() < from + MEDIA_PORT_REST_MS + 100)
			su_root_step(root, 5);
		struct media_leg *x = leg_open(&se, c, &pe, DL_CODEC_PCMU);
		if (media_leg_port(x) == port_a) {
			e = x;
		} else {
			media_leg_free(x);
			run_for(50);
		}
	}
	ck_assert_msg(e != NULL, "port %u did not come back from the pool", port_a);
	run_for(100);
	ck_assert_uint_eq(se.n_digits, 0); /* the old call's key was read away */
	send_key(&pe, e, '5', 200);
	mstime_t end = media_now_ms() + WAIT_MS;
	while (se.n_digits == 0 && media_now_ms() < end)
		su_root_step(root, 5);
	run_for(60);
	ck_assert_str_eq(se.digits, "5");
	ck_assert_uint_eq(sa.n_digits + sb.n_digits + sc.n_digits + sd.n_digits, 0);

	/* Another range: the pooled pair not in use is closed at once. */
	media_leg_free(e);
	run_for(50);
	ck_assert(!port_free(port_a));
	uint16_t base = (uint16_t)(port_a < 31000 ? 31000 : 30000);
	ck_assert_int_eq(media_engine_configure(me, "127.0.0.1", base, (uint16_t)(base + 19),
						PTIME_MS), 0);
	/* A socket out of a ring's file table is let go by the kernel a moment later. */
	mstime_t until = media_now_ms() + WAIT_MS;
	while (!port_free(port_a) && media_now_ms() < until)
		run_for(10);
	ck_assert(port_free(port_a));
	ck_assert(!port_free(port_b)); /* d's own sockets stay while d is open */
	media_leg_free(d);
	media_leg_free(c);
	run_for(50); /* d's receive ends */
	close(pa.fd);
	close(pb.fd);
	close(pd.fd);
	close(pe.fd);
	teardown_engine();
}
END_TEST

/*
 * With no descriptor left in the process, a new leg gets one from a pooled pair not rested yet:
 * that pair is closed and a fresh port bound, rather than the call failing.
 */
START_TEST(out_of_descriptors_a_pooled_pair_is_closed_for_a_new_leg)
{
	setup_engine_io(workers_of_run[_i], uring_of_run[_i]);
	struct seen sa = { 0 }, sb = { 0 };
	struct media_leg *a = leg_open(&sa, NULL, NULL, DL_CODEC_PCMU);
	uint16_t port_a = media_leg_port(a);
	media_leg_free(a);
	run_for(20);
	ck_assert(!port_free(port_a));

	/* One descriptor left: the lowest free number is the last one allowed. */
	int lowest = dup(0);
	ck_assert_int_ge(lowest, 0);
	close(lowest);
	struct rlimit old, one;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	one = old;
	one.rlim_cur = (rlim_t)lowest + 1;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &one), 0);

	struct media_leg *b;
	int err = media_leg_alloc(&b, me, NULL, DL_INBAND_OFF, &handlers, &sb);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(err, 0);
	sb.leg = b;
	ck_assert_uint_ne(media_leg_port(b), port_a); /* a fresh pair, not the unrested one */
	mstime_t until = media_now_ms() + WAIT_MS;
	while (!port_free(port_a) && media_now_ms() < until)
		run_for(10);
	ck_assert(port_free(port_a));
	media_leg_free(b);
	run_for(20);
	teardown_engine();
}
END_TEST

START_TEST(bridge_of_legs_on_two_workers_refused)
{
	setup_engine(2);
	struct seen s1 = { 0 }, s2 = { 0 };
	struct media_leg *a, *c;

	a = leg_open(&s1, NULL, NULL, DL_CODEC_PCMU);
	/* Opened without a near leg: goes to the other worker, which has none. */
	c = leg_open(&s2, NULL, NULL, DL_CODEC_PCMU);
	ck_assert_int_eq(media_bridge(a, c, true), EXDEV);
	ck_assert_int_eq(media_bridge(a, NULL, false), 0);
	media_leg_free(a);
	media_leg_free(c);
	teardown_engine();
}
END_TEST

START_TEST(bad_arguments)
{
	struct media_engine *e = NULL;

	ck_assert_int_eq(su_init(), 0);
	su_root_t *r = su_root_create(NULL);
	ck_assert_int_eq(media_engine_alloc(&e, r, "127.0.0.1", 30000, 30100, 20,
					    DL_MEDIA_WORKERS_MAX + 1, false), EINVAL);
	ck_assert_int_eq(media_engine_alloc(&e, r, "not-an-ip", 30000, 30100, 20, 0, true), EINVAL);
	ck_assert_int_eq(media_engine_alloc(&e, r, "127.0.0.1", 30000, 30100, 5, 1, true), EINVAL);
	ck_assert_ptr_null(e);
	ck_assert_int_eq(media_bridge(NULL, NULL, false), EINVAL);
	su_root_destroy(r);
	su_deinit();
}
END_TEST

static Suite *media_suite(void)
{
	Suite *s = suite_create("media");
	TCase *tc = tcase_create("engine");
	int runs = (int)(sizeof(workers_of_run) / sizeof(workers_of_run[0]));

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, prompt_goes_out_at_ptime_then_play_done, 0, runs);
	tcase_add_loop_test(tc, new_play_cancels_unreported_play_done, 0, runs);
	tcase_add_loop_test(tc, rfc4733_key_reaches_handler_once, 0, runs);
	tcase_add_loop_test(tc, inband_detection_follows_setting_and_telephone_event, 0, runs);
	tcase_add_loop_test(tc, info_digit_reaches_handler_from_the_loop, 0, runs);
	tcase_add_loop_test(tc, leg_freed_in_its_digit_handler, 0, runs);
	tcase_add_loop_test(tc, leg_freed_with_events_queued, 0, runs);
	tcase_add_loop_test(tc, latches_to_the_source_then_relatches_after_silence, 0, runs);
	tcase_add_loop_test(tc, bridge_relays_both_ways_and_transcodes, 0, runs);
	tcase_add_loop_test(tc, rebridged_then_back_in_the_menu, 0, runs);
	tcase_add_loop_test(tc, freed_ports_rest_then_serve_a_new_leg_emptied, 0, runs);
	tcase_add_loop_test(tc, out_of_descriptors_a_pooled_pair_is_closed_for_a_new_leg, 0, runs);
	tcase_add_test(tc, bridge_of_legs_on_two_workers_refused);
	tcase_add_test(tc, bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(media_suite());
}
