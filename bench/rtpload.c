/**
 * @file rtpload.c  The far end of every benchmark call's RTP: counts and times what deskline sends,
 *                  answers with a telephone-event digit, and streams audio back at 20 ms.
 *
 *   rtpload -p PORT -s STATUS_FILE [-d DIGIT] [-e] [-b] [-T] [-t PTIME_MS]
 *
 * One UDP socket on 127.0.0.1:PORT is the audio address of every call's SDP (the benchmark's
 * sipp scenarios put PORT in their offers and answers). deskline sends each call leg's RTP from
 * the leg's own port, so the source port tells the calls apart; a new SSRC on a port is a new call
 * (deskline reuses ports).
 *
 *   -d DIGIT  on the first packet of each stream, send DIGIT back to its source as an RFC 4733
 *             telephone-event (payload type 101: start with the marker bit, then the end packet
 *             three times, RFC 4733 §2.5.1.4) — the resident choosing a menu option.
 *   -e        from the first packet of each stream on, send 20 ms of G.711 audio (a 1 kHz tone at
 *             -20 dBm0, in the payload type deskline sends) back to its source every PTIME_MS,
 *             until the stream has been silent for 3 s (the call ended). As independent phones
 *             do, the streams do not all send at once: each has one of PHASES fixed phases in
 *             the packet time (from its port), and one clock every PTIME_MS / PHASES sends the
 *             streams of the next phase, in one sendmmsg(2) per batch.
 *   -b        send every stream at the same moment, once per PTIME_MS (a burst of all calls'
 *             packets: the pattern of the runs before 2026-12-07, harder on a relay than phones)
 *   -T        stamp every audio packet sent: its first 12 payload bytes are "DLts" and the
 *             CLOCK_MONOTONIC time of the send, ns (big-endian). A relay passes the payload on
 *             unchanged, so the peer that receives it — another rtpload on this machine, same
 *             clock — knows how long the packet spent between the two ("transit"). Stamped
 *             audio is not a clean tone: for bridged calls, not for the menu's DTMF detector.
 *
 * Every 200 ms one line of NAME=VALUE pairs is written to STATUS_FILE (replaced atomically):
 * totals since the start, and "w_" figures since the last SIGUSR1 (the measurement window):
 *
 *   rx           RTP packets received            streams   streams seen (calls)
 *   active       streams that sent in the last 1 s   digits    digits sent
 *   tx, txerr    audio packets sent / refused by the socket
 *   w_s          window length, s                w_rx      packets received in the window
 *   w_lost       packets missing from the sequence numbers
 *   w_late       intervals between consecutive packets of a talkspurt longer than 2 × PTIME_MS:
 *                a packet at least one packet time behind its deadline (a marker bit starts a
 *                new talkspurt and its interval is not counted)
 *   w_int_p50_us, w_int_p99_us, w_int_p999_us, w_int_max_us  those intervals' distribution, µs
 *   w_jitter_max_us  the highest RFC 3550 §6.4.1 interarrival jitter of any stream, µs
 *   w_tx, w_txerr    audio packets sent / refused in the window
 *   w_tick_late_max_us, w_ticks_late  how late our own send timer ran (max, and ticks more than
 *                5 ms late): the generator's health, not deskline's
 *   w_transits   stamped packets received (sent by a -T peer and relayed)
 *   w_transit_p50_us, w_transit_p99_us, w_transit_max_us  their transit: from the peer's send to
 *                the kernel queueing them here, through the relay
 *   w_transit_late  stamped packets whose transit was longer than PTIME_MS: the relay held a
 *                packet past the time the next one was due
 *
 * Sends only to the sources of packets it received (deskline on loopback). Runs until SIGTERM.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define RX_BATCH      64
#define TX_BATCH      512
#define MAX_PACKET    1500
#define RTP_HDR       12
#define EVENT_PT      101
#define SAMPLES_MAX   480          /* 60 ms at 8 kHz */
#define HIST_BIN_US   100          /* interval histogram: 0.1 ms bins … */
#define HIST_BINS     2000         /* … up to 200 ms, the rest in the last bin */
#define SILENT_NS     3000000000LL /* a stream this long without packets has ended */
#define ACTIVE_NS     1000000000LL
#define STATUS_EVERY_NS 200000000LL
#define POLL_NS       1000000LL    /* read the socket every 1 ms */
#define STAMP_LEN     12           /* "DLts" + 8-byte send time */
#define PHASES        10           /* send phases per packet time (2 ms apart at 20 ms) */

struct stream {
	bool used;
	bool sending;
	bool first;                /* no packet of the current talkspurt yet */
	uint32_t ssrc;             /* deskline's */
	uint16_t last_seq;
	uint32_t last_ts;
	int64_t last_ns;
	double jitter;             /* RFC 3550 §6.4.1, in timestamp units (1/8000 s) */
	uint8_t pt;                /* audio payload type deskline sends (0 or 8) */
	struct sockaddr_in peer;
	uint32_t tx_ssrc, tx_ts;
	uint16_t tx_seq;
	bool tx_marker;
	int send_idx;              /* position in the send list, -1 when not sending */
};

struct window {
	int64_t start_ns;
	uint64_t rx, lost, late, intervals, tx, txerr, ticks_late;
	int64_t tick_late_max_ns;
	double jitter_max;         /* timestamp units */
	uint64_t hist[HIST_BINS];
	int64_t int_max_ns;
	uint64_t transits, transit_late;
	uint64_t transit_hist[HIST_BINS];
	int64_t transit_max_ns;
};

static struct stream *streams;    /* indexed by deskline's source port */
static uint16_t *send_list;       /* ports of the streams being sent to */
static size_t n_send;
static uint64_t rx_total, n_streams, n_digits, tx_total, txerr_total;
static struct window win;
static volatile sig_atomic_t stop_flag, reset_flag;
static unsigned ptime_ms = 20;
static bool stamp;
static bool burst;
static const uint8_t stamp_magic[4] = { 'D', 'L', 't', 's' };
static uint8_t tone_ulaw[SAMPLES_MAX], tone_alaw[SAMPLES_MAX];

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint32_t xorshift(void)
{
	static uint64_t s = 0x9E3779B97F4A7C15ULL;
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (uint32_t)((s * 0x2545F4914F6CDD1DULL) >> 32);
}

/* G.711 encoders (ITU-T G.711 segment tables), for the tone only. */
static uint8_t lin2ulaw(int16_t pcm)
{
	int sign = pcm < 0 ? 0x80 : 0, v = pcm < 0 ? -pcm : pcm, seg = 0;
	if (v > 32635)
		v = 32635;
	v += 0x84;
	for (int m = v >> 7; m > 1 && seg < 7; m >>= 1)
		seg++;
	return (uint8_t)~(sign | (seg << 4) | ((v >> (seg + 3)) & 0x0F));
}

static uint8_t lin2alaw(int16_t pcm)
{
	int sign = pcm >= 0 ? 0x80 : 0, v = pcm < 0 ? -pcm - 1 : pcm, seg = 0;
	if (v > 32767)
		v = 32767;
	for (int m = v >> 8; m > 0 && seg < 7; m >>= 1)
		seg++;
	int mant = seg ? (v >> (seg + 3)) & 0x0F : (v >> 4) & 0x0F;
	return (uint8_t)((sign | (seg << 4) | mant) ^ 0x55);
}

static void make_tone(void)
{
	/* 1 kHz at about -20 dBm0 (G.711 full scale sine is +3.14 dBm0): an ordinary, non-DTMF
	 * signal, so deskline's in-band detector works on real audio without finding digits. */
	double amp = 32767.0 * pow(10.0, (-20.0 - 3.14) / 20.0);
	for (int i = 0; i < SAMPLES_MAX; i++) {
		int16_t s = (int16_t)lrint(amp * sin(2.0 * M_PI * 1000.0 * i / 8000.0));
		tone_ulaw[i] = lin2ulaw(s);
		tone_alaw[i] = lin2alaw(s);
	}
}

static void put_header(uint8_t *p, bool marker, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7F));
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}

static void send_digit(int fd, struct stream *s, char digit)
{
	static const char events[] = "0123456789*#";
	const char *e = strchr(events, digit);
	uint8_t pkt[4][RTP_HDR + 4];
	struct mmsghdr msgs[4];
	struct iovec iov[4];

	if (!e)
		return;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < 4; i++) {
		bool end = i > 0;
		uint16_t duration = (uint16_t)(end ? 800 : 160);
		put_header(pkt[i], i == 0, EVENT_PT, s->tx_seq++, s->tx_ts, s->tx_ssrc);
		pkt[i][RTP_HDR] = (uint8_t)(e - events);
		pkt[i][RTP_HDR + 1] = (uint8_t)((end ? 0x80 : 0) | 10); /* E bit, volume -10 dBm0 */
		pkt[i][RTP_HDR + 2] = (uint8_t)(duration >> 8);
		pkt[i][RTP_HDR + 3] = (uint8_t)duration;
		iov[i].iov_base = pkt[i];
		iov[i].iov_len = sizeof(pkt[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &s->peer;
		msgs[i].msg_hdr.msg_namelen = sizeof(s->peer);
	}
	s->tx_ts += 800;
	if (sendmmsg(fd, msgs, 4, MSG_DONTWAIT) == 4)
		n_digits++;
	else
		txerr_total++;
}

static void send_list_add(uint16_t port)
{
	struct stream *s = &streams[port];
	if (s->send_idx >= 0)
		return;
	s->send_idx = (int)n_send;
	send_list[n_send++] = port;
}

static void send_list_remove(uint16_t port)
{
	struct stream *s = &streams[port];
	if (s->send_idx < 0)
		return;
	uint16_t last = send_list[--n_send];
	send_list[s->send_idx] = last;
	streams[last].send_idx = s->send_idx;
	s->send_idx = -1;
	s->sending = false;
}

/** Count @p ns in a histogram of HIST_BIN_US bins (the last takes the rest) and in its maximum. */
static void hist_add(uint64_t *hist, int64_t *max_ns, int64_t ns)
{
	int64_t bin = ns / (HIST_BIN_US * 1000LL);

	hist[bin >= HIST_BINS ? HIST_BINS - 1 : bin]++;
	if (ns > *max_ns)
		*max_ns = ns;
}

static void on_packet(int fd, const uint8_t *buf, size_t len, const struct sockaddr_in *src,
		      int64_t now, char digit, bool echo)
{
	if (len < RTP_HDR || (buf[0] & 0xC0) != 0x80)
		return;
	uint16_t port = ntohs(src->sin_port);
	struct stream *s = &streams[port];
	bool marker = buf[1] & 0x80;
	uint8_t pt = buf[1] & 0x7F;
	uint16_t seq = (uint16_t)(buf[2] << 8 | buf[3]);
	uint32_t ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
	uint32_t ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 |
			buf[11];

	rx_total++;
	win.rx++;
	if ((pt == 0 || pt == 8) && len >= RTP_HDR + STAMP_LEN &&
	    memcmp(buf + RTP_HDR, stamp_magic, sizeof(stamp_magic)) == 0) {
		int64_t sent = 0;
		for (int i = 0; i < 8; i++)
			sent = (int64_t)((uint64_t)sent << 8 | buf[RTP_HDR + 4 + i]);
		int64_t transit = now - sent;
		if (transit < 0)
			transit = 0;
		win.transits++;
		if (transit > (int64_t)ptime_ms * 1000000LL)
			win.transit_late++;
		hist_add(win.transit_hist, &win.transit_max_ns, transit);
	}
	if (!s->used || s->ssrc != ssrc) {
		/* A new call on this port. */
		send_list_remove(port);
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->ssrc = ssrc;
		s->first = true;
		s->send_idx = -1;
		s->peer = *src;
		s->tx_ssrc = xorshift();
		s->tx_seq = (uint16_t)xorshift();
		s->tx_ts = xorshift();
		s->tx_marker = true;
		s->pt = 0;
		n_streams++;
		if (digit)
			send_digit(fd, s, digit);
		if (echo) {
			s->sending = true;
			send_list_add(port);
		}
	} else if (!s->first) {
		uint16_t gap = (uint16_t)(seq - s->last_seq);
		if (gap > 1 && gap < 3000)
			win.lost += gap - 1u;
		int64_t interval = now - s->last_ns;
		if (!marker && gap >= 1 && gap < 3000) {
			win.intervals++;
			if (interval > 2LL * ptime_ms * 1000000LL)
				win.late++;
			hist_add(win.hist, &win.int_max_ns, interval);
			/* RFC 3550 §6.4.1: D = (Rj - Ri) - (Sj - Si), J += (|D| - J) / 16. */
			double d = (double)interval * 8000.0 / 1e9 - (double)(int32_t)(ts - s->last_ts);
			s->jitter += (fabs(d) - s->jitter) / 16.0;
			if (s->jitter > win.jitter_max)
				win.jitter_max = s->jitter;
		}
	}
	if (pt == 0 || pt == 8)
		s->pt = pt;
	s->first = false;
	s->last_seq = seq;
	s->last_ts = ts;
	s->last_ns = now;
	s->peer = *src;
	if (echo && !s->sending) {
		s->sending = true;
		send_list_add(port);
	}
}

/** The send phase of the stream on deskline's port @p port (RTP ports are even). */
static unsigned stream_phase(uint16_t port)
{
	return (unsigned)(port / 2) % PHASES;
}

/** Send one packet to every sending stream of @p phase (every stream with -b). */
static void tick(int fd, int64_t now, unsigned phase)
{
	static struct mmsghdr msgs[TX_BATCH];
	static struct iovec iov[TX_BATCH];
	static uint8_t pkts[TX_BATCH][RTP_HDR + SAMPLES_MAX];
	size_t samples = ptime_ms * 8u;

	/* Streams silent for 3 s have ended: stop sending to them. */
	for (size_t i = 0; i < n_send;) {
		struct stream *s = &streams[send_list[i]];
		if (now - s->last_ns > SILENT_NS)
			send_list_remove(send_list[i]);
		else
			i++;
	}
	for (size_t i = 0; i < n_send;) {
		size_t n = 0;
		for (; i < n_send && n < TX_BATCH; i++) {
			if (!burst && stream_phase(send_list[i]) != phase)
				continue;
			struct stream *s = &streams[send_list[i]];
			put_header(pkts[n], s->tx_marker, s->pt, s->tx_seq++, s->tx_ts, s->tx_ssrc);
			memcpy(pkts[n] + RTP_HDR, s->pt == 8 ? tone_alaw : tone_ulaw, samples);
			s->tx_ts += (uint32_t)samples;
			s->tx_marker = false;
			iov[n].iov_base = pkts[n];
			iov[n].iov_len = RTP_HDR + samples;
			memset(&msgs[n], 0, sizeof(msgs[n]));
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
			msgs[n].msg_hdr.msg_name = &s->peer;
			msgs[n].msg_hdr.msg_namelen = sizeof(s->peer);
			n++;
		}
		if (stamp) {
			int64_t t = now_ns();
			for (size_t k = 0; k < n; k++) {
				memcpy(pkts[k] + RTP_HDR, stamp_magic, sizeof(stamp_magic));
				for (int b = 0; b < 8; b++)
					pkts[k][RTP_HDR + 4 + b] = (uint8_t)((uint64_t)t >> (56 - 8 * b));
			}
		}
		size_t done = 0;
		while (done < n) {
			int r = sendmmsg(fd, msgs + done, (unsigned)(n - done), MSG_DONTWAIT);
			if (r <= 0) {
				/* The buffer is full (or the destination gone): count and drop the rest. */
				txerr_total += n - done;
				win.txerr += n - done;
				break;
			}
			done += (size_t)r;
			tx_total += (uint64_t)r;
			win.tx += (uint64_t)r;
		}
	}
}

/** The @p q quantile of a histogram of @p count values in HIST_BIN_US bins, µs (bin's top). */
static int64_t hist_pct(const uint64_t *hist, uint64_t count, double q)
{
	uint64_t want = (uint64_t)ceil(q * (double)count), seen = 0;
	if (count == 0)
		return 0;
	for (int i = 0; i < HIST_BINS; i++) {
		seen += hist[i];
		if (seen >= want)
			return (int64_t)(i + 1) * HIST_BIN_US;
	}
	return (int64_t)HIST_BINS * HIST_BIN_US;
}

static void write_status(const char *path, int64_t now)
{
	char tmp[4096];
	size_t active = 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	for (size_t p = 0; p < 65536; p++)
		if (streams[p].used && now - streams[p].last_ns < ACTIVE_NS)
			active++;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "rx=%llu streams=%llu active=%zu digits=%llu tx=%llu txerr=%llu w_s=%.2f w_rx=%llu "
		"w_lost=%llu w_late=%llu w_intervals=%llu w_int_p50_us=%lld w_int_p99_us=%lld "
		"w_int_p999_us=%lld w_int_max_us=%lld w_jitter_max_us=%.0f w_tx=%llu w_txerr=%llu "
		"w_tick_late_max_us=%lld w_ticks_late=%llu w_transits=%llu w_transit_p50_us=%lld "
		"w_transit_p99_us=%lld w_transit_max_us=%lld w_transit_late=%llu\n",
		(unsigned long long)rx_total, (unsigned long long)n_streams, active,
		(unsigned long long)n_digits, (unsigned long long)tx_total,
		(unsigned long long)txerr_total, (double)(now - win.start_ns) / 1e9,
		(unsigned long long)win.rx, (unsigned long long)win.lost,
		(unsigned long long)win.late, (unsigned long long)win.intervals,
		(long long)hist_pct(win.hist, win.intervals, 0.5),
		(long long)hist_pct(win.hist, win.intervals, 0.99),
		(long long)hist_pct(win.hist, win.intervals, 0.999),
		(long long)(win.int_max_ns / 1000), win.jitter_max * 1e6 / 8000.0,
		(unsigned long long)win.tx, (unsigned long long)win.txerr,
		(long long)(win.tick_late_max_ns / 1000), (unsigned long long)win.ticks_late,
		(unsigned long long)win.transits,
		(long long)hist_pct(win.transit_hist, win.transits, 0.5),
		(long long)hist_pct(win.transit_hist, win.transits, 0.99),
		(long long)(win.transit_max_ns / 1000), (unsigned long long)win.transit_late);
	fclose(f);
	rename(tmp, path);
}

/** CLOCK_REALTIME minus CLOCK_MONOTONIC now, ns: read once per batch of packets. */
static int64_t real_minus_mono_ns(void)
{
	struct timespec real;
	clock_gettime(CLOCK_REALTIME, &real);
	return (int64_t)real.tv_sec * 1000000000LL + real.tv_nsec - now_ns();
}

/**
 * When the kernel queued the packet (SO_TIMESTAMPNS, CLOCK_REALTIME), moved to CLOCK_MONOTONIC
 * with @p offset from real_minus_mono_ns(): the intervals measured are deskline's sending, not how
 * soon this process got to read them. @p fallback (monotonic ns) when the stamp is missing.
 */
static int64_t arrival_ns(struct msghdr *mh, int64_t offset, int64_t fallback)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec k;
			memcpy(&k, CMSG_DATA(c), sizeof(k));
			return (int64_t)k.tv_sec * 1000000000LL + k.tv_nsec - offset;
		}
	}
	return fallback;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		reset_flag = 1;
	else
		stop_flag = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: rtpload -p PORT -s STATUS_FILE [-d DIGIT] [-e] [-b] [-T] [-t PTIME_MS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int port = 0, opt;
	const char *status = NULL;
	char digit = 0;
	bool echo = false;

	while ((opt = getopt(argc, argv, "p:s:d:ebTt:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 's': status = optarg; break;
		case 'd': digit = optarg[0]; break;
		case 'e': echo = true; break;
		case 'T': stamp = true; break;
		case 'b': burst = true; break;
		case 't': ptime_ms = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || !status || ptime_ms < 10 || ptime_ms > 60)
		usage();

	streams = calloc(65536, sizeof(*streams));
	send_list = calloc(65536, sizeof(*send_list));
	if (!streams || !send_list)
		return 1;
	for (size_t i = 0; i < 65536; i++)
		streams[i].send_idx = -1;
	make_tone();

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int buf = 64 << 20;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A 20 ms tick of thousands of streams arrives as one burst: a big receive buffer, forced
	 * past rmem_max (we run as root), or the counter itself would drop packets. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "rtpload: 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	/* One clock per phase: PHASES a packet time, or one with -b. */
	int64_t period = (int64_t)ptime_ms * 1000000LL / (burst ? 1 : PHASES), start = now_ns();
	unsigned phase = 0;

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	static uint8_t bufs[RX_BATCH][MAX_PACKET];
	static struct sockaddr_in srcs[RX_BATCH];
	static struct iovec iov[RX_BATCH];
	static struct mmsghdr msgs[RX_BATCH];
	static uint8_t ctrl[RX_BATCH][CMSG_SPACE(sizeof(struct timespec))];
	int64_t next_tick = start + period, next_status = 0, next_poll = start;
	win.start_ns = start;

	/*
	 * The socket is read every POLL_NS on a clock, not when it becomes readable: a process asleep
	 * on the socket would make every packet deskline sends wake it up, an inter-processor
	 * interrupt charged to deskline's send (a real network card costs the sender no such
	 * wake-up). The kernel's receive time stamps keep the timing exact.
	 */
	while (!stop_flag) {
		int64_t wake = next_poll < next_tick ? next_poll : next_tick;
		struct timespec ts = { .tv_sec = wake / 1000000000LL, .tv_nsec = wake % 1000000000LL };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		int64_t now = now_ns();
		if (reset_flag) {
			reset_flag = 0;
			memset(&win, 0, sizeof(win));
			win.start_ns = now;
		}
		if (now >= next_poll) {
			next_poll = now + POLL_NS;
			for (;;) {
				for (int k = 0; k < RX_BATCH; k++) {
					iov[k].iov_base = bufs[k];
					iov[k].iov_len = MAX_PACKET;
					memset(&msgs[k].msg_hdr, 0, sizeof(msgs[k].msg_hdr));
					msgs[k].msg_hdr.msg_iov = &iov[k];
					msgs[k].msg_hdr.msg_iovlen = 1;
					msgs[k].msg_hdr.msg_name = &srcs[k];
					msgs[k].msg_hdr.msg_namelen = sizeof(srcs[k]);
					msgs[k].msg_hdr.msg_control = ctrl[k];
					msgs[k].msg_hdr.msg_controllen = sizeof(ctrl[k]);
				}
				int r = recvmmsg(fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
				if (r <= 0)
					break;
				int64_t t = now_ns(), offset = real_minus_mono_ns();
				for (int k = 0; k < r; k++)
					on_packet(fd, bufs[k], msgs[k].msg_len, &srcs[k],
						  arrival_ns(&msgs[k].msg_hdr, offset, t), digit,
						  echo);
				if (r < RX_BATCH)
					break;
			}
		}
		if (now >= next_tick) {
			int64_t late = now - next_tick;
			if (late > win.tick_late_max_ns)
				win.tick_late_max_ns = late;
			if (late > 5000000LL)
				win.ticks_late++;
			/* A late clock sends the phases it missed, each once — within one packet time, so
			 * a stream never gets two packets at once: the lateness is reported instead. */
			for (unsigned k = 0; next_tick <= now; k++) {
				next_tick += period;
				if (k < (burst ? 1u : PHASES))
					tick(fd, now, phase);
				phase = (phase + 1) % PHASES;
			}
		}
		if (now >= next_status) {
			write_status(status, now);
			next_status = now + STATUS_EVERY_NS;
		}
	}
	write_status(status, now_ns());
	close(fd);
	free(streams);
	free(send_list);
	return 0;
}
