/**
 * @file media.c  RTP media for call legs.
 *
 * One periodic timer (every ptime) sends the next frame of every leg that is playing a prompt or
 * ringback: a timer per leg would cost one su_timer and one wakeup per leg per packet.
 *
 * Received packets: every leg's RTP socket is in one epoll set of the engine's own, and only that
 * epoll descriptor is registered with the su_root loop. One wakeup of the loop then serves every
 * leg that has packets (up to EP_BATCH per epoll_wait), each read with one recvmmsg(2) — instead
 * of one loop wakeup, one poll of the whole set and two recvfrom calls (the second only to learn
 * the socket is empty) per packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/random.h>

#include <spandsp.h>
#include <sofia-sip/su_wait.h>

#include "deskline/media.h"
#include "deskline/rtp.h"
#include "deskline/log.h"

/** Packets read from one socket per recvmmsg(2): one is usual (one per ptime per leg). */
#define RX_BATCH 4
/** Ready legs taken from the engine's epoll set per epoll_wait(2). */
#define EP_BATCH 256
/** epoll_wait calls per loop wakeup before yielding to SIP and timers. */
#define EP_ROUNDS 4
/** Largest RTP packet handled, bytes (60 ms of G.711 is 480 + header). */
#define RTP_MAX_PACKET 1500
/** Ringback cadence, Israel (and most of Europe's 400/425 Hz): 1 s on, 3 s off. */
#define RINGBACK_ON_MS   1000
#define RINGBACK_OFF_MS  3000
#define RINGBACK_HZ      400
#define RINGBACK_DBM0    (-13)

enum leg_tx {
	TX_SILENT = 0,  /**< nothing to send */
	TX_PLAY,        /**< prompts from the player */
	TX_RINGBACK,    /**< the engine's ringback loop */
	TX_RELAY,       /**< whatever the peer leg receives */
};

struct media_engine {
	su_root_t *root;
	char address[64];
	uint16_t port_min, port_max, next_port;
	unsigned ptime_ms;
	size_t frame_samples;
	su_timer_t *tick;
	int epfd;                   /**< epoll set of every leg's RTP socket */
	su_wait_t ep_wait;
	int ep_reg;                 /**< registration of epfd with the root, -1 when none */
	struct media_leg *legs;     /**< every open leg, doubly linked */
	size_t n_legs;
	uint8_t *ringback_ulaw;     /**< one cadence period, pre-encoded */
	uint8_t *ringback_alaw;
	size_t ringback_samples;
};

struct media_leg {
	struct media_engine *me;
	struct media_leg *prev, *next;
	int fd, fd_rtcp;
	uint16_t port;
	char address[64];
	bool in_epoll;

	struct sockaddr_storage remote;
	socklen_t remote_len;
	bool has_remote;
	enum dl_codec codec;
	uint8_t pt;
	int pt_event_tx;            /**< telephone-event PT the remote wants */
	int pt_event_rx;            /**< telephone-event PT we announced */
	enum sdp_dir local_dir;

	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	bool marker;                /**< set the marker bit on the next packet (talkspurt start) */

	enum leg_tx tx;
	struct player player;
	size_t ringback_pos;
	bool play_done_pending;

	struct dtmf *dtmf;
	struct media_leg *peer;
	uint32_t relay_ssrc;        /**< SSRC of the stream relayed to us */
	uint32_t relay_ts_offset;
	bool relay_synced;

	mstime_t last_rx_ms;
	struct media_stats st;
	struct media_leg_handlers h;
	void *arg;
	unsigned busy;              /**< inside a callback: free later */
	bool dead;
};

mstime_t media_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (mstime_t)ts.tv_sec * 1000u + (mstime_t)(ts.tv_nsec / 1000000L);
}

/**
 * SSRC, initial sequence number and timestamp must be random (RFC 3550 §5.1, §8) but need not be
 * cryptographic: a xorshift64* generator seeded once from getrandom(2). Reading /dev/urandom per
 * leg cost an eighth of the CPU at 2000 calls/s.
 */
static uint64_t rng_state;

static uint32_t random32(void)
{
	if (rng_state == 0) {
		if (getrandom(&rng_state, sizeof(rng_state), 0) != (ssize_t)sizeof(rng_state))
			rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		rng_state |= 1;
	}
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static int parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return EINVAL;
}

/* ---- ringback -------------------------------------------------------------------------- */

static int ringback_render(struct media_engine *me)
{
	tone_gen_descriptor_t *desc;
	tone_gen_state_t *tg;
	size_t n = DL_MS_TO_SAMPLES(RINGBACK_ON_MS + RINGBACK_OFF_MS);
	int16_t *pcm = calloc(n, sizeof(*pcm));

	me->ringback_ulaw = malloc(n);
	me->ringback_alaw = malloc(n);
	if (!pcm || !me->ringback_ulaw || !me->ringback_alaw) {
		free(pcm);
		return ENOMEM;
	}
	desc = tone_gen_descriptor_init(NULL, RINGBACK_HZ, RINGBACK_DBM0, 0, 0, RINGBACK_ON_MS,
					RINGBACK_OFF_MS, 0, 0, 1);
	tg = desc ? tone_gen_init(NULL, desc) : NULL;
	if (!tg) {
		tone_gen_descriptor_free(desc);
		free(pcm);
		return ENOMEM;
	}
	tone_gen(tg, pcm, (int)n);
	tone_gen_free(tg);
	tone_gen_descriptor_free(desc);
	for (size_t i = 0; i < n; i++) {
		me->ringback_ulaw[i] = linear_to_ulaw(pcm[i]);
		me->ringback_alaw[i] = linear_to_alaw(pcm[i]);
	}
	me->ringback_samples = n;
	free(pcm);
	return 0;
}

/* ---- sending ---------------------------------------------------------------------------- */

static bool leg_may_send(const struct media_leg *leg)
{
	return leg->has_remote && leg->fd >= 0 &&
	       (leg->local_dir == SDP_SENDRECV || leg->local_dir == SDP_SENDONLY);
}

static void leg_send(struct media_leg *leg, uint8_t *pkt, size_t len)
{
	if (sendto(leg->fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&leg->remote,
		   leg->remote_len) < 0)
		leg->st.tx_drops++; /* a full socket buffer drops the packet, as a network would */
	else
		leg->st.tx_packets++;
}

/** Send one frame of generated audio (prompt or ringback). */
static void leg_send_frame(struct media_leg *leg, const uint8_t *payload, size_t samples)
{
	uint8_t pkt[RTP_HEADER_SIZE + 480];

	if (samples > sizeof(pkt) - RTP_HEADER_SIZE)
		samples = sizeof(pkt) - RTP_HEADER_SIZE;
	rtp_write_header(pkt, leg->marker, leg->pt, leg->seq++, leg->ts, leg->ssrc);
	memcpy(pkt + RTP_HEADER_SIZE, payload, samples);
	leg->marker = false;
	leg->ts += (uint32_t)samples;
	leg_send(leg, pkt, RTP_HEADER_SIZE + samples);
}

static void engine_tick(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct media_engine *me = (struct media_engine *)arg;
	uint8_t frame[480];
	size_t samples = me->frame_samples;
	bool pending = false;

	(void)magic;
	(void)t;
	for (struct media_leg *leg = me->legs; leg; leg = leg->next) {
		if (leg->dead)
			continue;
		switch (leg->tx) {
		case TX_PLAY:
			if (player_read(&leg->player, leg->codec, frame, samples) == 0) {
				leg->tx = TX_SILENT;
				leg->play_done_pending = true;
				pending = true;
				break;
			}
			if (leg_may_send(leg))
				leg_send_frame(leg, frame, samples);
			else
				leg->ts += (uint32_t)samples;
			break;
		case TX_RINGBACK: {
			const uint8_t *src = leg->codec == DL_CODEC_PCMA ? me->ringback_alaw
									  : me->ringback_ulaw;
			for (size_t i = 0; i < samples; i++) {
				frame[i] = src[leg->ringback_pos++];
				if (leg->ringback_pos >= me->ringback_samples)
					leg->ringback_pos = 0;
			}
			if (leg_may_send(leg))
				leg_send_frame(leg, frame, samples);
			break;
		}
		default:
			break;
		}
	}

	/* Callbacks may free any leg, so rescan from the start after each one. Few legs finish a
	 * prompt in the same tick, so this stays cheap. */
	while (pending) {
		pending = false;
		for (struct media_leg *leg = me->legs; leg; leg = leg->next) {
			if (!leg->play_done_pending || leg->dead)
				continue;
			leg->play_done_pending = false;
			if (leg->h.play_done) {
				leg->busy++;
				leg->h.play_done(leg, leg->arg);
				leg->busy--;
				if (leg->dead && !leg->busy)
					media_leg_free(leg);
			}
			pending = true;
			break;
		}
	}
}

/* ---- receiving -------------------------------------------------------------------------- */

static void leg_digit(char digit, enum dtmf_source src, void *arg)
{
	struct media_leg *leg = arg;

	(void)src;
	if (leg->dead || !leg->h.digit)
		return;
	leg->h.digit(leg, digit, leg->arg);
}

/** Relay a packet received on the peer out of @p out, in out's payload types and our SSRC. */
static void leg_relay(struct media_leg *out, const struct rtp_packet *in, bool event)
{
	uint8_t pkt[RTP_MAX_PACKET];
	uint8_t pt;
	size_t len = in->payload_len;

	if (!leg_may_send(out) || len > sizeof(pkt) - RTP_HEADER_SIZE)
		return;
	if (event) {
		if (out->pt_event_tx < 0)
			return;
		pt = (uint8_t)out->pt_event_tx;
	} else {
		pt = out->pt;
	}

	/* A new source (first packet, or the far end changed SSRC): keep our timestamps continuous
	 * so the receiver sees one stream (RFC 3550 §8.2 gives each relayed source our SSRC). */
	if (!out->relay_synced || in->ssrc != out->relay_ssrc) {
		out->relay_ssrc = in->ssrc;
		out->relay_ts_offset = out->ts - in->ts;
		out->relay_synced = true;
		out->marker = true;
	}
	uint32_t ts = in->ts + out->relay_ts_offset;
	rtp_write_header(pkt, out->marker || in->marker, pt, out->seq++, ts, out->ssrc);
	out->marker = false;

	if (!event && in->pt != out->pt) {
		/* PCMU ↔ PCMA: a table lookup per sample (spandsp). */
		for (size_t i = 0; i < len; i++)
			pkt[RTP_HEADER_SIZE + i] = in->pt == DL_CODEC_PCMA
				? alaw_to_ulaw(in->payload[i]) : ulaw_to_alaw(in->payload[i]);
	} else {
		memcpy(pkt + RTP_HEADER_SIZE, in->payload, len);
	}
	if (!event)
		out->ts = ts + (uint32_t)len;
	leg_send(out, pkt, RTP_HEADER_SIZE + len);
}

static void leg_packet(struct media_leg *leg, const uint8_t *buf, size_t len, mstime_t now)
{
	struct rtp_packet pkt;

	if (rtp_parse(buf, len, &pkt) != 0) {
		leg->st.rx_errors++;
		return;
	}
	leg->st.rx_packets++;
	leg->last_rx_ms = now;

	bool event = leg->pt_event_rx >= 0 && pkt.pt == (uint8_t)leg->pt_event_rx;
	bool audio = pkt.pt == DL_CODEC_PCMU || pkt.pt == DL_CODEC_PCMA;
	if (!event && !audio) {
		/* Comfort noise (RFC 3389) and unknown types carry nothing for us. */
		return;
	}

	struct media_leg *peer = leg->peer;
	if (peer && peer->tx == TX_RELAY && !peer->dead) {
		leg_relay(peer, &pkt, event);
		return;
	}

	if (!leg->dtmf)
		return;
	if (event) {
		struct rtp_event ev;
		if (rtp_event_parse(pkt.payload, pkt.payload_len, &ev) == 0)
			dtmf_feed_event(leg->dtmf, pkt.ssrc, pkt.ts, &ev, now);
		return;
	}

	int16_t amp[RTP_MAX_PACKET];
	size_t n = pkt.payload_len;
	for (size_t i = 0; i < n; i++)
		amp[i] = pkt.pt == DL_CODEC_PCMA ? alaw_to_linear(pkt.payload[i])
						 : ulaw_to_linear(pkt.payload[i]);
	dtmf_feed_audio(leg->dtmf, amp, n, now);
}

/**
 * Read everything a leg's socket holds, RX_BATCH packets per recvmmsg(2), and handle it. The
 * socket is edge-triggered in the engine's epoll set, so it must be left empty: a batch shorter
 * than RX_BATCH means recvmmsg found the queue empty.
 */
static void leg_readable(struct media_leg *leg, mstime_t now)
{
	static uint8_t bufs[RX_BATCH][RTP_MAX_PACKET];
	struct sockaddr_storage srcs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct mmsghdr msgs[RX_BATCH];
	int n;

	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < RX_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &srcs[i];
	}
	do {
		for (int i = 0; i < RX_BATCH; i++)
			msgs[i].msg_hdr.msg_namelen = sizeof(srcs[i]);
		n = recvmmsg(leg->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n && !leg->dead; i++) {
			socklen_t srclen = msgs[i].msg_hdr.msg_namelen;
			/* Symmetric RTP: answer to where the packets really come from. */
			if (!leg->has_remote || srclen != leg->remote_len ||
			    memcmp(&srcs[i], &leg->remote, srclen) != 0) {
				memcpy(&leg->remote, &srcs[i], srclen);
				leg->remote_len = srclen;
				leg->has_remote = true;
			}
			leg_packet(leg, bufs[i], msgs[i].msg_len, now);
		}
	} while (n == RX_BATCH && !leg->dead);
}

/**
 * The engine's epoll set is readable: serve every ready leg. A leg freed by a callback is only
 * marked dead (busy), so the events still to be served never point at freed memory; dead legs
 * are freed after the batch.
 */
static int engine_readable(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	struct media_engine *me = (struct media_engine *)arg;
	struct epoll_event evs[EP_BATCH];

	(void)magic;
	(void)w;
	for (int round = 0; round < EP_ROUNDS; round++) {
		int n = epoll_wait(me->epfd, evs, EP_BATCH, 0);
		if (n <= 0)
			break;
		mstime_t now = media_now_ms();
		for (int i = 0; i < n; i++)
			((struct media_leg *)evs[i].data.ptr)->busy++;
		for (int i = 0; i < n; i++) {
			struct media_leg *leg = evs[i].data.ptr;
			if (!leg->dead)
				leg_readable(leg, now);
		}
		for (int i = 0; i < n; i++) {
			struct media_leg *leg = evs[i].data.ptr;
			if (--leg->busy == 0 && leg->dead)
				media_leg_free(leg);
		}
		if (n < EP_BATCH)
			break;
	}
	return 0;
}

/* ---- engine ----------------------------------------------------------------------------- */

int media_engine_configure(struct media_engine *me, const char *address, uint16_t port_min,
			   uint16_t port_max, unsigned ptime_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!me || !address || port_min >= port_max || ptime_ms < 10 || ptime_ms > 60)
		return EINVAL;
	if (parse_addr(address, 0, &ss, &len) != 0 || strlen(address) >= sizeof(me->address))
		return EINVAL;
	strcpy(me->address, address);
	me->port_min = (uint16_t)(port_min & ~1u);
	me->port_max = port_max;
	if (me->next_port < me->port_min || me->next_port + 1 > me->port_max)
		me->next_port = me->port_min;
	me->ptime_ms = ptime_ms;
	me->frame_samples = DL_MS_TO_SAMPLES(ptime_ms);
	if (me->tick) {
		su_timer_destroy(me->tick);
		me->tick = NULL;
	}
	me->tick = su_timer_create(su_root_task(me->root), (su_duration_t)ptime_ms);
	if (!me->tick || su_timer_run(me->tick, engine_tick, (su_timer_arg_t *)me) < 0)
		return ENOMEM;
	return 0;
}

int media_engine_alloc(struct media_engine **mep, su_root_t *root, const char *address,
		       uint16_t port_min, uint16_t port_max, unsigned ptime_ms)
{
	struct media_engine *me;
	int err;

	if (!mep || !root)
		return EINVAL;
	me = calloc(1, sizeof(*me));
	if (!me)
		return ENOMEM;
	me->root = root;
	me->ep_reg = -1;
	me->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (me->epfd < 0) {
		err = errno;
		free(me);
		return err;
	}
	if (su_wait_create(&me->ep_wait, me->epfd, SU_WAIT_IN) < 0) {
		err = errno ? errno : EIO;
		close(me->epfd);
		free(me);
		return err;
	}
	me->ep_reg = su_root_register(root, &me->ep_wait, engine_readable, (su_wakeup_arg_t *)me, 0);
	if (me->ep_reg < 0) {
		su_wait_destroy(&me->ep_wait);
		close(me->epfd);
		free(me);
		return ENOMEM;
	}
	err = ringback_render(me);
	if (err)
		goto out;
	err = media_engine_configure(me, address, port_min, port_max, ptime_ms);
 out:
	if (err)
		media_engine_free(me);
	else
		*mep = me;
	return err;
}

void media_engine_free(struct media_engine *me)
{
	if (!me)
		return;
	if (me->tick)
		su_timer_destroy(me->tick);
	if (me->ep_reg >= 0)
		su_root_deregister(me->root, me->ep_reg); /* also destroys ep_wait */
	if (me->epfd >= 0)
		close(me->epfd);
	free(me->ringback_ulaw);
	free(me->ringback_alaw);
	free(me);
}

size_t media_engine_legs(const struct media_engine *me)
{
	return me ? me->n_legs : 0;
}

/* ---- legs ------------------------------------------------------------------------------- */

static int bind_udp(const char *address, uint16_t port, int *fdp)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (parse_addr(address, port, &ss, &len) != 0)
		return EINVAL;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int err = errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/** Bind the next free even/odd pair, round-robin through the range so ports rest between calls. */
static int leg_bind(struct media_leg *leg, struct media_engine *me)
{
	unsigned pairs = (unsigned)(me->port_max - me->port_min + 1) / 2;

	for (unsigned i = 0; i < pairs; i++) {
		uint16_t port = me->next_port;
		me->next_port = (uint16_t)(port + 2);
		if (me->next_port + 1 > me->port_max || me->next_port < me->port_min)
			me->next_port = me->port_min;

		int fd, fd_rtcp;
		int err = bind_udp(me->address, port, &fd);
		if (err == EADDRINUSE)
			continue;
		if (err)
			return err;
		err = bind_udp(me->address, (uint16_t)(port + 1), &fd_rtcp);
		if (err) {
			close(fd);
			if (err == EADDRINUSE)
				continue;
			return err;
		}
		leg->fd = fd;
		leg->fd_rtcp = fd_rtcp;
		leg->port = port;
		return 0;
	}
	return EADDRINUSE;
}

int media_leg_alloc(struct media_leg **legp, struct media_engine *me, bool inband,
		    const struct media_leg_handlers *h, void *arg)
{
	struct media_leg *leg;
	int err;

	if (!legp || !me || !h)
		return EINVAL;
	leg = calloc(1, sizeof(*leg));
	if (!leg)
		return ENOMEM;
	leg->me = me;
	leg->fd = leg->fd_rtcp = -1;
	leg->h = *h;
	leg->arg = arg;
	leg->pt_event_tx = leg->pt_event_rx = -1;
	leg->codec = DL_CODEC_PCMU;
	leg->ssrc = random32();
	leg->seq = (uint16_t)random32();
	leg->ts = random32();
	leg->marker = true;
	leg->local_dir = SDP_SENDRECV;
	strcpy(leg->address, me->address);
	leg->last_rx_ms = media_now_ms();

	err = dtmf_alloc(&leg->dtmf, inband, leg_digit, leg);
	if (err)
		goto out;
	err = leg_bind(leg, me);
	if (err)
		goto out;
	/* Edge-triggered: a leg is reported once per arrival, not again on every epoll_wait until
	 * read, which saves re-polling every ready socket (leg_readable() empties it). */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = leg };
	if (epoll_ctl(me->epfd, EPOLL_CTL_ADD, leg->fd, &ev) < 0) {
		err = errno;
		goto out;
	}
	leg->in_epoll = true;
	leg->next = me->legs;
	if (me->legs)
		me->legs->prev = leg;
	me->legs = leg;
	me->n_legs++;
 out:
	if (err) {
		if (leg->fd >= 0)
			close(leg->fd);
		if (leg->fd_rtcp >= 0)
			close(leg->fd_rtcp);
		dtmf_free(leg->dtmf);
		free(leg);
		return err;
	}
	*legp = leg;
	return 0;
}

void media_leg_free(struct media_leg *leg)
{
	if (!leg)
		return;
	if (leg->busy) {
		/* Freed from inside one of its own callbacks: finish when the callback returns. */
		leg->dead = true;
		if (leg->peer) {
			leg->peer->peer = NULL;
			leg->peer = NULL;
		}
		return;
	}
	struct media_engine *me = leg->me;
	if (leg->peer) {
		if (leg->peer->tx == TX_RELAY)
			leg->peer->tx = TX_SILENT;
		leg->peer->peer = NULL;
	}
	if (leg->in_epoll)
		epoll_ctl(me->epfd, EPOLL_CTL_DEL, leg->fd, NULL);
	if (leg->fd >= 0)
		close(leg->fd);
	if (leg->fd_rtcp >= 0)
		close(leg->fd_rtcp);
	if (leg->prev)
		leg->prev->next = leg->next;
	else
		me->legs = leg->next;
	if (leg->next)
		leg->next->prev = leg->prev;
	me->n_legs--;
	dtmf_free(leg->dtmf);
	free(leg);
}

uint16_t media_leg_port(const struct media_leg *leg)
{
	return leg->port;
}

const char *media_leg_address(const struct media_leg *leg)
{
	return leg->address;
}

int media_leg_set_remote(struct media_leg *leg, const struct sdp_session_params *params,
			 int rx_event_pt)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!leg || !params)
		return EINVAL;
	if (parse_addr(params->addr, params->port, &ss, &len) != 0)
		return EINVAL;
	/* Keep a latched (symmetric) address unless the SDP really moved the stream. */
	if (!leg->has_remote || len != leg->remote_len || memcmp(&ss, &leg->remote, len) != 0) {
		memcpy(&leg->remote, &ss, len);
		leg->remote_len = len;
	}
	leg->has_remote = params->port != 0;
	if (leg->codec != params->codec)
		leg->marker = true;
	leg->codec = params->codec;
	leg->pt = params->pt;
	leg->pt_event_tx = params->pt_event;
	leg->pt_event_rx = rx_event_pt;
	leg->local_dir = params->local_dir;
	leg->last_rx_ms = media_now_ms();
	return 0;
}

void media_leg_play(struct media_leg *leg, const struct prompt *const *list, size_t n, bool loop)
{
	player_start(&leg->player, list, n, loop);
	leg->tx = TX_PLAY;
	leg->marker = true;
	leg->play_done_pending = false;
}

void media_leg_stop(struct media_leg *leg)
{
	player_stop(&leg->player);
	if (leg->tx == TX_PLAY || leg->tx == TX_RINGBACK)
		leg->tx = TX_SILENT;
	leg->play_done_pending = false;
}

void media_leg_ringback(struct media_leg *leg)
{
	player_stop(&leg->player);
	leg->tx = TX_RINGBACK;
	leg->ringback_pos = 0;
	leg->marker = true;
	leg->play_done_pending = false;
}

void media_bridge(struct media_leg *a, struct media_leg *b, bool both_ways)
{
	if (!a)
		return;
	if (!b) {
		if (a->peer) {
			if (a->peer->tx == TX_RELAY)
				a->peer->tx = TX_SILENT;
			a->peer->peer = NULL;
		}
		if (a->tx == TX_RELAY)
			a->tx = TX_SILENT;
		a->peer = NULL;
		return;
	}
	player_stop(&a->player);
	a->peer = b;
	b->peer = a;
	a->tx = TX_RELAY;
	a->relay_synced = false;
	a->play_done_pending = false;
	if (both_ways) {
		player_stop(&b->player);
		b->tx = TX_RELAY;
		b->relay_synced = false;
		b->play_done_pending = false;
	}
}

int media_leg_info(struct media_leg *leg, const char *content_type, const char *body, size_t len)
{
	if (!leg || !leg->dtmf)
		return EINVAL;
	return dtmf_feed_info(leg->dtmf, content_type, body, len, media_now_ms());
}

mstime_t media_leg_idle_ms(const struct media_leg *leg, mstime_t now_ms)
{
	return now_ms > leg->last_rx_ms ? now_ms - leg->last_rx_ms : 0;
}

void media_leg_stats(const struct media_leg *leg, struct media_stats *st)
{
	*st = leg->st;
}
