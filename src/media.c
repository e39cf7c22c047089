/**
 * @file media.c  RTP media for call legs.
 *
 * The legs are shared out among workers. Each worker owns its legs: one epoll set of their RTP
 * sockets and one periodic clock (every ptime) that sends the next frame of every leg playing a
 * prompt or ringback — a timer per leg would cost one timer and one wakeup per leg per packet.
 * The clock is a timerfd (not an su_timer: sofia-sip's loop polls without a timeout through the
 * last millisecond before each of its timers, a spin of up to a millisecond per packet time).
 * With media.workers = 0 the single worker runs on the su_root loop (its epoll descriptor and
 * timerfd registered there); with N > 0 each worker is a thread of its own, sleeping in poll(2)
 * on its epoll set, its timerfd and a stop eventfd. The two legs of a call are placed on the same
 * worker, so relaying never crosses threads.
 *
 * Received packets: one wakeup serves every leg that has packets (up to EP_BATCH per epoll_wait),
 * each read with one recvmmsg(2) — instead of one wakeup, one poll of the whole set and two
 * recvfrom calls (the second only to learn the socket is empty) per packet. A worker has two
 * epoll sets: bridged legs (whose packets are relayed) are read as packets arrive; every other
 * leg — a caller in the menu, whose audio only feeds DTMF detection — is read on the clock every
 * RX_CLOCK_TICKS ptimes, so one recvmmsg takes two packets of a 20 ms caller: the system call per
 * read costs as much as the packet in it. A digit is then seen at most RX_CLOCK_TICKS ptimes
 * later, well inside the time a key is held (RFC 4733 events and Q.24 tones last 40 ms or more).
 *
 * io_uring (media.io_uring, the default where the kernel has it): the system call per packet
 * is the largest single cost of a packet on a kernel with page-table isolation (about 1 µs), so
 * a worker queues every packet it sends on its ring (MSG_DONTWAIT: the kernel sends each inside
 * the submit, and the copy is free again after it) and submits a tick's or a batch's worth at
 * once; a bridged leg is read by a multishot recvmsg of its own into buffers the worker lends
 * the kernel, and its packets come as completions, announced by the ring's eventfd in place of
 * the first epoll set. Completions are produced when the worker next enters the kernel
 * (IORING_SETUP_COOP_TASKRUN), so a burst of packets is one batch. Legs in the menu are still
 * read on the clock by recvmmsg. A worker thread's receives are started on that thread (the
 * kernel runs them in the context of the task that started them); a leg bridged by the loop is
 * armed at its worker's next tick. A leg with a receive outstanding is busy: freeing it cancels
 * the receive, and the memory goes with its last completion.
 *
 * Ports: a freed leg's two sockets are not closed but kept bound in its worker's pool of ports
 * (struct port_pool) and given to a later leg of that worker once they have rested
 * MEDIA_PORT_REST_MS: opening, binding, registering with the ring and closing two sockets per
 * leg was an eighth of the core's time at 1500 calls a second. They rest in the order they
 * were freed, as the round-robin through the range rested them. A pair must rest in silence:
 * one that received anything meanwhile (the last call's far end still sending) rests again,
 * since a new leg latches to the first source it hears (RTP bleed). A socket with a receive
 * still outstanding is pooled only when it has ended, so no completion of the old leg can
 * carry the new leg's packets. Ports idle longer than PORT_KEEP_MS are closed, and the pool
 * holds at most half the range.
 *
 * Locking: a worker's mutex guards its legs; the worker holds it while it serves a batch or a
 * tick, the loop while it changes a leg (media_leg_*). Handlers are never called by a worker:
 * digits and ends of playback are queued on the leg (leg->pend) and the leg on its worker's list;
 * the loop takes the list (after an eventfd wakeup, or at once when the worker is the loop) and
 * calls the handlers with no lock held. A leg on that list is "busy": freeing it then only marks
 * it dead, and the last reference frees it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/timerfd.h>

#include <liburing.h>
#include <spandsp.h>
#include <sofia-sip/su_wait.h>

#include "deskline/media.h"
#include "deskline/rtp.h"
#include "deskline/log.h"
#include "deskline/thread.h"

/** Packets read from one socket per recvmmsg(2): one is usual (one per ptime per leg). */
#define RX_BATCH 4
/** Ready legs taken from a worker's epoll set per epoll_wait(2). */
#define EP_BATCH 256
/** epoll_wait calls per wakeup before yielding to the clock (and, on the loop, to SIP). */
#define EP_ROUNDS 4
/** Largest RTP packet handled, bytes (60 ms of G.711 is 480 + header). */
#define RTP_MAX_PACKET 1500
/** Events (digits, ends of playback) a leg keeps until the loop takes them. */
#define LEG_PEND_MAX 16
/** The event "playback finished" among the digits of leg->pend. */
#define PEND_PLAY_DONE '\001'
/**
 * A latched leg that has heard nothing for this long, ms, is unlatched (its socket disconnected)
 * so a far end that moved (a NAT rebinding) is found again; see leg_latch().
 */
#define RELATCH_MS 2000
/** Ticks a late worker catches up at once (the rest are skipped: audio must not burst). */
#define TICK_CATCH_UP 3
/** Legs that are not bridged are read every this many ticks (ptimes); see the file comment. */
#define RX_CLOCK_TICKS 2
/** io_uring: submission queue entries per worker ring; the completion queue is 8 times that. */
#define URING_ENTRIES 1024
/** Receive buffers a worker lends the kernel (a provided-buffer ring), and the size of each,
 *  bytes: the received-message header, the source address and the packet. */
#define RXBUF_COUNT 4096
#define RXBUF_SIZE  2048
#define RXBUF_GROUP 1
/** Packets copied for one submission at most (io_uring sends are issued inside the submit). */
#define TX_SLOTS 512
/** Longest the start-up test of a worker's ring waits for each completion, ms. */
#define URING_TEST_MS 500
/** Most sockets a worker's ring registers (a fixed-file table indexed by descriptor). */
#define URING_FILES_MAX 65536
/** Ticks between visits of every leg when none plays (to unlatch legs fallen silent). */
#define SCAN_TICKS 50
/** Longest a port waits in the pool for a leg before it is closed, ms. */
#define PORT_KEEP_MS 30000
/** Ready pooled pairs pool_take() looks at before it binds a new one. */
#define POOL_TRIES 4
/** Most ports one worker's pool holds. */
#define PORT_POOL_MAX 8192
/** What a completion's user_data names besides the leg (legs are 16-byte aligned). */
#define UD_ARMED 1u  /**< the leg's multishot receive */
#define UD_SEND  4u  /**< a packet sent (no leg: only a failed send completes) */
#define UD_MASK  15u
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

/** A freed leg's RTP and RTCP sockets, still bound, waiting for the next leg. */
struct pooled_port {
	int fd, fd_rtcp;
	uint16_t port;
	bool fixed;                 /**< still in the ring's fixed-file table, at index fd */
	mstime_t since;             /**< when it was freed, ms (media_now_ms()) */
};

/** A worker's ports kept bound for its next legs: a FIFO ring, oldest at head. */
struct port_pool {
	struct pooled_port *q;      /**< cap entries */
	size_t cap, head, n;
};

/** One owner of legs: an epoll set of their RTP sockets and a ptime clock. */
struct media_worker {
	struct media_engine *me;
	unsigned index;
	pthread_mutex_t lock;       /**< guards legs, n_legs, pend_head, frame_samples */
	int epfd;                   /**< epoll: the bridged legs' RTP sockets, read on arrival */
	int epfd_clocked;           /**< epoll set of the other legs' sockets: read on the clock */
	unsigned ticks_unread;      /**< ticks since epfd_clocked was last served */
	int timerfd;                /**< the ptime clock */
	int stopfd;                 /**< thread: eventfd that ends it; -1 on the loop */
	pthread_t thread;
	bool running;
	struct media_leg *legs;     /**< the worker's open legs, doubly linked */
	size_t n_legs;
	struct media_leg *pend_head;/**< legs with events for the loop, singly linked */
	size_t frame_samples;       /**< samples per ptime */
	/* What recvmmsg(2) reads into, set up once by worker_rx_init(). */
	uint8_t rx_bufs[RX_BATCH][RTP_MAX_PACKET];
	struct sockaddr_storage rx_srcs[RX_BATCH];
	struct iovec rx_iov[RX_BATCH];
	struct mmsghdr rx_msgs[RX_BATCH];
	/* io_uring (when uring is set): bridged legs are read by a multishot receive each, and
	 * every packet is sent through the ring, many to one io_uring_enter(2). */
	bool uring;
	struct io_uring ring;
	int ring_evfd;              /**< eventfd the ring signals completions on */
	struct io_uring_buf_ring *rxbr;
	uint8_t *rxbufs;            /**< RXBUF_COUNT × RXBUF_SIZE */
	struct msghdr rx_mh;        /**< its msg_namelen is the room for a source in each buffer */
	struct tx_slot *tx;         /**< TX_SLOTS copies waiting for the next submit */
	size_t n_tx;
	struct media_leg *rearm;    /**< legs whose receive ran out of buffers, busy, to re-arm */
	unsigned n_files;           /**< size of the ring's fixed-file table; 0: none */
	uint64_t tx_refused;        /**< ring sends the socket refused: their failed completions
	                             *   name no leg, so they are counted here, logged at the end */
	int tx_refused_err;         /**< the errno of the last of them */
	/* The tick visits every leg only while some leg may play or wait for its receive, and
	 * every SCAN_TICKS ticks: a bridged leg needs nothing from the clock. */
	bool tick_all;
	unsigned ticks_unscanned;
	struct port_pool pool;      /**< guarded by lock */
};

/** One packet queued on a worker's ring, kept until io_uring_submit() has sent it. */
struct tx_slot {
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_storage to;
	uint8_t data[RTP_MAX_PACKET];
};

struct media_engine {
	su_root_t *root;
	char address[64];
	uint16_t port_min, port_max, next_port;
	unsigned ptime_ms;
	unsigned n_threads;         /**< 0: the single worker runs on the loop */
	struct media_worker *workers;
	size_t n_workers;           /**< max(1, n_threads) */
	int ep_reg;                 /**< loop worker: its epfd (or ring eventfd) registered with the
				     root; -1 none */
	su_wait_t ep_wait;
	int clock_reg;              /**< loop worker: its timerfd registered with the root; -1 none */
	su_wait_t clock_wait;
	int notifyfd;               /**< eventfd: a worker queued events for the loop */
	int notify_reg;             /**< its registration with the root, -1 when none */
	su_wait_t notify_wait;
	uint8_t *ringback_ulaw;     /**< one cadence period, pre-encoded */
	uint8_t *ringback_alaw;
	size_t ringback_samples;
};

struct media_leg {
	struct media_engine *me;
	struct media_worker *w;
	struct media_leg *prev, *next;
	int fd, fd_rtcp;
	uint16_t port;
	char address[64];
	int spent_fd, spent_rtcp;   /**< closed by leg_close_locked(), for the pool when the leg
				         is destroyed (its receive has ended by then); -1 none */
	bool spent_fixed;
	bool in_epoll;
	bool on_arrival;            /**< read on arrival (bridged), not in epfd_clocked */
	bool to_clock;              /**< its peer left the bridge: back to epfd_clocked at the
				         next tick, unless it is freed or bridged again before */
	bool rx_armed;              /**< io_uring: its multishot receive is outstanding (busy) */
	bool fixed;                 /**< io_uring: its socket is in the ring's fixed-file table, at
				         index fd (no file lookup per packet) */
	struct media_leg *rearm_next; /**< io_uring: on the worker's list to start receiving again */

	struct sockaddr_storage remote;
	socklen_t remote_len;
	bool has_remote;
	bool connected;             /**< the RTP socket is connect()ed to remote (latched) */
	struct sockaddr_storage sdp_remote; /**< the address the SDP gave, latched or not */
	socklen_t sdp_len;
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

	struct dtmf *dtmf;
	enum dl_inband_dtmf inband_mode;
	struct media_leg *peer;
	uint32_t relay_ssrc;        /**< SSRC of the stream relayed to us */
	uint32_t relay_ts_offset;
	bool relay_synced;

	char pend[LEG_PEND_MAX];    /**< digits and PEND_PLAY_DONE for the loop, oldest first */
	size_t n_pend;
	bool on_pend_list;
	struct media_leg *pend_next;

	mstime_t last_rx_ms;
	struct media_stats st;
	struct media_leg_handlers h;
	void *arg;
	unsigned busy;              /**< on the pending list or in a handler: free later */
	bool dead;
};

/**
 * G.711 to linear for every code (spandsp's ulaw_to_linear()/alaw_to_linear(), tabulated once):
 * the in-band detector needs each received sample decoded, and a lookup is a fraction of the
 * arithmetic. Filled by media_engine_alloc() before any worker starts; read-only after.
 */
static struct {
	int16_t ulaw[256];
	int16_t alaw[256];
} g711_lin;

static void g711_lin_fill(void)
{
	for (int c = 0; c < 256; c++) {
		g711_lin.ulaw[c] = ulaw_to_linear((uint8_t)c);
		g711_lin.alaw[c] = alaw_to_linear((uint8_t)c);
	}
}

mstime_t media_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (mstime_t)ts.tv_sec * 1000u + (mstime_t)(ts.tv_nsec / 1000000L);
}

/**
 * SSRC, initial sequence number and timestamp must be random (RFC 3550 §5.1, §8) but need not be
 * cryptographic: a xorshift64* generator seeded once from getrandom(2). Reading /dev/urandom per
 * leg cost an eighth of the CPU at 2000 calls/s. Only the loop opens legs, so one state serves.
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

/* ---- eventfds ---------------------------------------------------------------------------- */

/**
 * Add one to eventfd @p fd, which wakes whoever polls it. EAGAIN means the counter is at its
 * maximum (2^64 - 2 unread), so it is readable already. @p what names it in an error.
 */
static void eventfd_kick(int fd, const char *what)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err(NULL, "media: cannot signal %s: %s", what, strerror(errno));
}

/** Empty eventfd @p fd (non-blocking: EAGAIN when it was empty). @p what names it in an error. */
static void eventfd_drain(int fd, const char *what)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_err(NULL, "media: cannot read %s: %s", what, strerror(errno));
}

/* ---- the pool of ports ------------------------------------------------------------------- */

/**
 * Read away what an RTP socket holds.
 *
 * @return the number of datagrams read.
 */
static size_t port_drain(int fd)
{
	uint8_t sink[1];
	size_t n = 0;

	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		n++;
	return n;
}

/** Close a pooled port's sockets, taken out of the ring's fixed-file table first (lock held). */
static void port_close(struct media_worker *w, const struct pooled_port *port)
{
	if (port->fixed && w->uring) {
		int none = -1;
		if (io_uring_register_files_update(&w->ring, (unsigned)port->fd, &none, 1) != 1)
			log_err(NULL, "media: port %u: cannot unregister its socket from io_uring",
				port->port);
	}
	close(port->fd);
	if (port->fd_rtcp >= 0)
		close(port->fd_rtcp);
}

/** Take the oldest pair out of a pool that holds one (lock held). */
static struct pooled_port pool_pop(struct port_pool *pp)
{
	struct pooled_port port = pp->q[pp->head];

	pp->head = (pp->head + 1) % pp->cap;
	pp->n--;
	return port;
}

/**
 * Close the ports that have waited PORT_KEEP_MS or more at @p now (ms), or all of them with
 * @p all (worker lock held).
 */
static void pool_expire(struct media_worker *w, mstime_t now, bool all)
{
	struct port_pool *pp = &w->pool;

	while (pp->n && (all || now - pp->q[pp->head].since >= PORT_KEEP_MS)) {
		struct pooled_port port = pool_pop(pp);
		port_close(w, &port);
	}
}

/** Give @p w's pool room for @p cap ports (0: none), closing those it holds (lock held). */
static void pool_resize(struct media_worker *w, size_t cap)
{
	struct port_pool *pp = &w->pool;

	pool_expire(w, 0, true);
	free(pp->q);
	pp->q = cap ? calloc(cap, sizeof(*pp->q)) : NULL;
	pp->cap = pp->q ? cap : 0;
	pp->head = 0;
}

/**
 * Keep a freed leg's sockets for a later leg, emptied of the packets that came until now, or
 * close them when the pool is full (lock held).
 */
static void pool_put(struct media_worker *w, const struct pooled_port *port)
{
	struct port_pool *pp = &w->pool;

	pool_expire(w, port->since, false);
	port_drain(port->fd);
	if (pp->n == pp->cap) {
		port_close(w, port);
		return;
	}
	pp->q[(pp->head + pp->n) % pp->cap] = *port;
	pp->n++;
}

/**
 * Take the port freed longest ago that has rested MEDIA_PORT_REST_MS at @p now (ms) in silence
 * (worker lock held). A pair that received anything while it rested — a far end still sending
 * to it — rests again from now, lest the next leg latch to that far end (RTP bleed); the first
 * POOL_TRIES ready pairs are looked at.
 *
 * @return true with *@p port filled, false when no port is ready (bind a new one).
 */
static bool pool_take(struct media_worker *w, mstime_t now, struct pooled_port *port)
{
	struct port_pool *pp = &w->pool;

	pool_expire(w, now, false);
	for (int tries = 0; tries < POOL_TRIES; tries++) {
		if (!pp->n || now - pp->q[pp->head].since < MEDIA_PORT_REST_MS)
			return false;
		*port = pool_pop(pp);
		if (port_drain(port->fd) == 0)
			return true;
		port->since = now;
		pool_put(w, port);
	}
	return false;
}

/**
 * Close the pair pooled longest among every worker's ports, to free two descriptors for a new
 * leg when the process has none left (no worker lock held).
 *
 * @return whether a pair was closed.
 */
static bool pool_give_up_one(struct media_engine *me)
{
	for (size_t i = 0; i < me->n_workers; i++) {
		struct media_worker *w = &me->workers[i];
		struct port_pool *pp = &w->pool;
		pthread_mutex_lock(&w->lock);
		bool had = pp->n > 0;
		if (had) {
			struct pooled_port port = pool_pop(pp);
			port_close(w, &port);
		}
		pthread_mutex_unlock(&w->lock);
		if (had)
			return true;
	}
	return false;
}

/* ---- io_uring ---------------------------------------------------------------------------- */

/** Whether the kernel holds receives of @p w's ring not yet run (IORING_SETUP_TASKRUN_FLAG). */
static bool ring_work_pending(const struct media_worker *w)
{
	return IO_URING_READ_ONCE(*w->ring.sq.kflags) & IORING_SQ_TASKRUN;
}

/** Give receive buffer @p bid back to the kernel (@p w's provided-buffer ring). */
static void rxbuf_give_back(struct media_worker *w, unsigned bid)
{
	io_uring_buf_ring_add(w->rxbr, w->rxbufs + (size_t)bid * RXBUF_SIZE, RXBUF_SIZE,
			      (unsigned short)bid, io_uring_buf_ring_mask(RXBUF_COUNT), 0);
	io_uring_buf_ring_advance(w->rxbr, 1);
}

/**
 * Send what the ring holds. Sends carry MSG_DONTWAIT, so the kernel issues each one inside this
 * call (a full socket buffer fails it rather than parking it) and the tx slots are free again
 * once the queue is empty. Runs on the worker, or on the loop with the worker lock held.
 */
static void worker_submit(struct media_worker *w)
{
	if (io_uring_sq_ready(&w->ring) == 0)
		return;
	int n = io_uring_submit(&w->ring);
	if (n < 0 && n != -EBUSY && n != -EAGAIN && n != -EINTR)
		log_err(NULL, "media worker %u: io_uring_submit: %s", w->index, strerror(-n));
	if (io_uring_sq_ready(&w->ring) == 0)
		w->n_tx = 0;
}

/** A free submission entry of @p w's ring (submitting what is queued when it is full), or NULL. */
static struct io_uring_sqe *worker_sqe(struct media_worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		worker_submit(w);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

/**
 * Queue a packet of @p leg on its worker's ring: copied to a tx slot, sent at the next
 * worker_submit(). Its completion is posted only when the send fails (and names no leg: the leg
 * may be gone by then).
 *
 * @return false when it could not be queued (the ring and its slots are full).
 */
static bool uring_send(struct media_leg *leg, const uint8_t *pkt, size_t len)
{
	struct media_worker *w = leg->w;

	if (w->n_tx == TX_SLOTS)
		worker_submit(w);
	if (w->n_tx == TX_SLOTS)
		return false; /* the last submit left sends queued: their copies are still in use */
	struct io_uring_sqe *sqe = worker_sqe(w);
	if (!sqe)
		return false;
	struct tx_slot *t = &w->tx[w->n_tx++];
	memcpy(t->data, pkt, len);
	if (leg->connected) {
		io_uring_prep_send(sqe, leg->fd, t->data, len, MSG_DONTWAIT);
	} else {
		memcpy(&t->to, &leg->remote, leg->remote_len);
		t->iov.iov_base = t->data;
		t->iov.iov_len = len;
		t->mh = (struct msghdr){ .msg_name = &t->to, .msg_namelen = leg->remote_len,
					 .msg_iov = &t->iov, .msg_iovlen = 1 };
		io_uring_prep_sendmsg(sqe, leg->fd, &t->mh, MSG_DONTWAIT);
	}
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS | (leg->fixed ? IOSQE_FIXED_FILE : 0);
	io_uring_sqe_set_data64(sqe, UD_SEND);
	return true;
}

/**
 * Start @p leg's multishot receive on its worker's ring (worker lock held, on the worker's own
 * thread: the kernel reads the packets in the context of the task that armed it). Each packet
 * comes as a completion holding one of the worker's receive buffers; the leg stays busy (it is
 * not freed) until the receive's last completion.
 */
static void uring_arm(struct media_leg *leg)
{
	struct media_worker *w = leg->w;
	struct io_uring_sqe *sqe = worker_sqe(w);

	if (!sqe)
		return; /* tried again at the next tick */
	io_uring_prep_recvmsg_multishot(sqe, leg->fd, &w->rx_mh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT | (leg->fixed ? IOSQE_FIXED_FILE : 0);
	sqe->buf_group = RXBUF_GROUP;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)leg | UD_ARMED);
	leg->rx_armed = true;
	leg->busy++;
}

/**
 * Stop @p leg's multishot receive (worker lock held; the loop may do it for a worker thread).
 * The cancel goes to the kernel with the worker's next submit (the sends of a batch or of the
 * next tick, at most a packet time later), with the other legs' of that time, not in a system
 * call of its own. The receive ends with a last completion, ECANCELED, which makes the leg
 * un-busy; until then the ring holds the socket open, and packets still received on a dead or
 * closed leg are dropped.
 */
static void uring_cancel(struct media_leg *leg)
{
	struct media_worker *w = leg->w;
	struct io_uring_sqe *sqe = worker_sqe(w);

	if (!sqe) {
		log_err(NULL, "media: port %u: no room to stop its io_uring receive", leg->port);
		return;
	}
	io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)leg | UD_ARMED, 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, 0);
}

/** Whether the calling thread is @p w's own (the loop for the loop worker). */
static bool on_worker_thread(const struct media_worker *w)
{
	return !w->running || pthread_equal(pthread_self(), w->thread);
}

/** Whether @p leg is read on arrival through the ring but its receive is not started yet. */
static bool leg_awaits_arm(const struct media_leg *leg)
{
	return leg->w->uring && leg->on_arrival && !leg->rx_armed && leg->fd >= 0;
}

/**
 * Start @p leg's receive at once on its worker's thread; from another thread (the loop, for a
 * worker thread), leave it to the worker's next tick (worker lock held).
 */
static void leg_arm_soon(struct media_leg *leg)
{
	struct media_worker *w = leg->w;

	if (!leg_awaits_arm(leg))
		return;
	if (on_worker_thread(w)) {
		uring_arm(leg);
		worker_submit(w);
	} else {
		w->tick_all = true;
	}
}

/* ---- sending ---------------------------------------------------------------------------- */

/**
 * Symmetric RTP (RFC 4961): answer to where the far end's packets come from, and connect(2) the
 * socket to it. A connected socket sends without a route lookup per packet and hears only that
 * source, so stray or injected packets from elsewhere never reach us (as Asterisk's strictrtp).
 */
static void leg_latch(struct media_leg *leg, const struct sockaddr_storage *src, socklen_t len)
{
	memcpy(&leg->remote, src, len);
	leg->remote_len = len;
	leg->has_remote = true;
	leg->connected = connect(leg->fd, (const struct sockaddr *)src, len) == 0;
}

/** Undo leg_latch(): hear every source again (the SDP moved the stream, or the source fell silent). */
static void leg_unlatch(struct media_leg *leg)
{
	struct sockaddr any = { .sa_family = AF_UNSPEC };

	if (!leg->connected)
		return;
	leg->connected = false;
	/* Linux: connect() to AF_UNSPEC dissolves the association (connect(2)). */
	if (connect(leg->fd, &any, sizeof(any)) < 0)
		log_err(NULL, "media: cannot unlatch the RTP socket of port %u: %s", leg->port,
			strerror(errno));
}

static bool leg_may_send(const struct media_leg *leg)
{
	return leg->has_remote && leg->fd >= 0 &&
	       (leg->local_dir == SDP_SENDRECV || leg->local_dir == SDP_SENDONLY);
}

static void leg_send(struct media_leg *leg, uint8_t *pkt, size_t len)
{
	if (leg->w->uring) {
		if (uring_send(leg, pkt, len))
			leg->st.tx_packets++;
		else
			leg->st.tx_drops++;
		return;
	}
	ssize_t n = leg->connected
		? send(leg->fd, pkt, len, MSG_DONTWAIT)
		: sendto(leg->fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&leg->remote,
			 leg->remote_len);
	if (n < 0)
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


/* ---- events for the loop ---------------------------------------------------------------- */

/**
 * Queue an event of @p leg for the loop: a digit, or PEND_PLAY_DONE. The caller holds the leg's
 * worker lock. Should the loop fall LEG_PEND_MAX events behind, later digits are dropped, but the
 * end of a playback replaces the newest one: a menu waiting for it must not hang.
 */
static void leg_pend(struct media_leg *leg, char ev)
{
	if (leg->dead)
		return;
	if (leg->n_pend == LEG_PEND_MAX) {
		if (ev != PEND_PLAY_DONE)
			return;
		leg->n_pend--;
	}
	leg->pend[leg->n_pend++] = ev;
	if (!leg->on_pend_list) {
		leg->on_pend_list = true;
		leg->busy++;
		leg->pend_next = leg->w->pend_head;
		leg->w->pend_head = leg;
	}
}

/** Forget a finished playback not yet reported: a new play, stop or bridge supersedes it. */
static void leg_cancel_play_done(struct media_leg *leg)
{
	size_t j = 0;

	for (size_t i = 0; i < leg->n_pend; i++)
		if (leg->pend[i] != PEND_PLAY_DONE)
			leg->pend[j++] = leg->pend[i];
	leg->n_pend = j;
}

static void wake_loop(struct media_engine *me)
{
	eventfd_kick(me->notifyfd, "the loop");
}

static void leg_destroy_locked(struct media_leg *leg);

/**
 * On the loop: call the handlers of every event @p w has queued, one at a time and with no lock
 * held, so a handler may free or change any leg.
 */
static void worker_dispatch(struct media_worker *w)
{
	pthread_mutex_lock(&w->lock);
	struct media_leg *leg = w->pend_head;
	w->pend_head = NULL;
	pthread_mutex_unlock(&w->lock);

	while (leg) {
		pthread_mutex_lock(&w->lock);
		struct media_leg *next = leg->pend_next;
		leg->on_pend_list = false;
		while (!leg->dead && leg->n_pend > 0) {
			char ev = leg->pend[0];
			memmove(leg->pend, leg->pend + 1, --leg->n_pend);
			pthread_mutex_unlock(&w->lock);
			if (ev == PEND_PLAY_DONE) {
				if (leg->h.play_done)
					leg->h.play_done(leg, leg->arg);
			} else if (leg->h.digit) {
				leg->h.digit(leg, ev, leg->arg);
			}
			pthread_mutex_lock(&w->lock);
		}
		if (--leg->busy == 0 && leg->dead)
			leg_destroy_locked(leg);
		pthread_mutex_unlock(&w->lock);
		leg = next;
	}
}

static void engine_dispatch(struct media_engine *me)
{
	for (size_t i = 0; i < me->n_workers; i++)
		worker_dispatch(&me->workers[i]);
}

static int engine_notified(su_root_magic_t *magic, su_wait_t *wt, su_wakeup_arg_t *arg)
{
	struct media_engine *me = (struct media_engine *)arg;

	(void)magic;
	(void)wt;
	eventfd_drain(me->notifyfd, "the loop's eventfd");
	engine_dispatch(me);
	return 0;
}

/* ---- the ptime clock -------------------------------------------------------------------- */

static void leg_read_on_arrival_locked(struct media_leg *leg, bool on_arrival);

/**
 * Send the next frame of every playing leg of @p w (lock held); every SCAN_TICKS ticks, or at
 * once when tick_all asks, also unlatch silent legs, start bridged legs' receives and move legs
 * whose peer left (to_clock) back to the clock.
 */
static void worker_tick_locked(struct media_worker *w)
{
	struct media_engine *me = w->me;
	uint8_t frame[480];
	size_t samples = w->frame_samples;

	if (!w->tick_all && ++w->ticks_unscanned < SCAN_TICKS)
		return;
	w->ticks_unscanned = 0;
	w->tick_all = false;
	mstime_t now = media_now_ms();
	pool_expire(w, now, false);
	for (struct media_leg *leg = w->legs; leg; leg = leg->next) {
		if (leg->dead)
			continue;
		if (leg->connected && now > leg->last_rx_ms + RELATCH_MS)
			leg_unlatch(leg);
		if (leg->to_clock) {
			leg->to_clock = false;
			leg_read_on_arrival_locked(leg, false);
		}
		if (leg_awaits_arm(leg))
			uring_arm(leg); /* bridged by the loop since the last tick */
		switch (leg->tx) {
		case TX_PLAY:
			if (player_read(&leg->player, leg->codec, frame, samples) == 0) {
				leg->tx = TX_SILENT;
				leg_pend(leg, PEND_PLAY_DONE);
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
		if (leg->tx == TX_PLAY || leg->tx == TX_RINGBACK || leg_awaits_arm(leg))
			w->tick_all = true;
	}
}

static void worker_serve_locked(struct media_worker *w, int epfd, size_t rounds);
static void worker_reap_locked(struct media_worker *w);

/**
 * Send @p ticks frames to every leg that plays, and every RX_CLOCK_TICKS ticks read every leg
 * that is not bridged.
 *
 * @return true when the loop must be woken for new events.
 */
static bool worker_tick(struct media_worker *w, unsigned ticks)
{
	pthread_mutex_lock(&w->lock);
	bool was_empty = !w->pend_head;
	for (unsigned i = 0; i < ticks; i++)
		worker_tick_locked(w);
	/* After the frames are out, so reading does not delay them. */
	w->ticks_unread += ticks;
	if (w->ticks_unread >= RX_CLOCK_TICKS) {
		w->ticks_unread = 0;
		worker_serve_locked(w, w->epfd_clocked, w->n_legs / EP_BATCH + 1);
	}
	if (w->uring) {
		worker_submit(w);
		worker_reap_locked(w);
	}
	bool wake = was_empty && w->pend_head;
	pthread_mutex_unlock(&w->lock);
	return wake;
}

/**
 * The clock of @p w has fired: send a frame per expiry (at most TICK_CATCH_UP).
 *
 * @return true when the loop must be woken for new events.
 */
static bool worker_clock(struct media_worker *w)
{
	uint64_t expired = 0;

	if (read(w->timerfd, &expired, sizeof(expired)) != (ssize_t)sizeof(expired) || !expired)
		return false;
	return worker_tick(w, expired > TICK_CATCH_UP ? TICK_CATCH_UP : (unsigned)expired);
}

/** The loop worker's clock (media.workers = 0). */
static int engine_clock(su_root_magic_t *magic, su_wait_t *wt, su_wakeup_arg_t *arg)
{
	struct media_engine *me = (struct media_engine *)arg;

	(void)magic;
	(void)wt;
	if (worker_clock(&me->workers[0]))
		worker_dispatch(&me->workers[0]);
	return 0;
}
/* ---- receiving -------------------------------------------------------------------------- */

/** The digit merger's callback: runs with the leg's worker lock held, so it only queues. */
static void leg_digit(char digit, enum dtmf_source src, void *arg)
{
	(void)src;
	leg_pend(arg, digit);
}

/**
 * Whether received audio goes to the in-band detector: "auto" looks for tones only in the audio
 * of a far end whose description has no telephone-event (none yet counts as none).
 */
static bool leg_inband(const struct media_leg *leg)
{
	return leg->inband_mode == DL_INBAND_ON ||
	       (leg->inband_mode == DL_INBAND_AUTO && leg->pt_event_tx < 0);
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
	if (!leg_inband(leg))
		return;

	int16_t amp[RTP_MAX_PACKET];
	size_t n = pkt.payload_len;
	const int16_t *lin = pkt.pt == DL_CODEC_PCMA ? g711_lin.alaw : g711_lin.ulaw;
	for (size_t i = 0; i < n; i++)
		amp[i] = lin[pkt.payload[i]];
	dtmf_feed_audio(leg->dtmf, amp, n, now);
}

/**
 * Read everything a leg's socket holds, RX_BATCH packets per recvmmsg(2), and handle it. The
 * socket is edge-triggered in the engine's epoll set, so it must be left empty: a batch shorter
 * than RX_BATCH means recvmmsg found the queue empty.
 */
static void leg_readable(struct media_leg *leg, mstime_t now)
{
	struct media_worker *w = leg->w;
	int n;

	do {
		for (int i = 0; i < RX_BATCH; i++)
			w->rx_msgs[i].msg_hdr.msg_namelen = sizeof(w->rx_srcs[i]);
		n = recvmmsg(leg->fd, w->rx_msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n && !leg->dead; i++) {
			/* Symmetric RTP: answer to where the packets really come from. */
			if (!leg->connected)
				leg_latch(leg, &w->rx_srcs[i], w->rx_msgs[i].msg_hdr.msg_namelen);
			leg_packet(leg, w->rx_bufs[i], w->rx_msgs[i].msg_len, now);
		}
	} while (n == RX_BATCH && !leg->dead);
}

/**
 * A packet of @p leg's multishot receive, in receive buffer @p buf of @p len bytes (a
 * struct io_uring_recvmsg_out, the source address, the packet).
 */
static void uring_packet(struct media_worker *w, struct media_leg *leg, uint8_t *buf, size_t len,
			 mstime_t now)
{
	struct io_uring_recvmsg_out *out = io_uring_recvmsg_validate(buf, (int)len, &w->rx_mh);

	if (!out || (out->flags & MSG_TRUNC)) {
		leg->st.rx_errors++;
		return;
	}
	if (!leg->connected && out->namelen <= w->rx_mh.msg_namelen) {
		struct sockaddr_storage src;
		memcpy(&src, io_uring_recvmsg_name(out), out->namelen);
		leg_latch(leg, &src, out->namelen);
	}
	leg_packet(leg, io_uring_recvmsg_payload(out, &w->rx_mh),
		   io_uring_recvmsg_payload_length(out, (int)len, &w->rx_mh), now);
}

/**
 * The multishot receive of @p leg has ended (worker lock held): start it again while the leg is
 * bridged, else the leg is no longer busy, and is freed if it was freed meanwhile.
 */
static void leg_rx_ended(struct media_leg *leg)
{
	leg->rx_armed = false;
	if (!leg->dead && leg_awaits_arm(leg)) {
		leg->busy--;
		uring_arm(leg);
	} else if (--leg->busy == 0 && leg->dead) {
		leg_destroy_locked(leg);
	}
}

/**
 * Handle every completion on @p w's ring (worker lock held): packets of bridged legs (relayed,
 * which queues sends), and the last completion of a leg's receive — started again while the
 * leg is still bridged (it ends when the buffers ran out, or on a socket error such as an ICMP
 * port unreachable), else the leg is no longer busy and is freed if it was freed meanwhile.
 * A receive that ran out of buffers is started again only after every completion has given its
 * buffer back: at once, it would fail again, completion after completion. Failed sends name no
 * leg: they are counted in the worker's tx_refused, logged when the engine is freed.
 */
static void worker_reap_locked(struct media_worker *w)
{
	struct io_uring_cqe *cqe;
	mstime_t now = media_now_ms();

	if (ring_work_pending(w))
		io_uring_get_events(&w->ring);
	while (io_uring_peek_cqe(&w->ring, &cqe) == 0) {
		uint64_t ud = cqe->user_data;
		int res = cqe->res;
		unsigned flags = cqe->flags;
		io_uring_cqe_seen(&w->ring, cqe);

		struct media_leg *leg = (struct media_leg *)(uintptr_t)(ud & ~(uint64_t)UD_MASK);
		if (!leg) {
			if (ud == UD_SEND) { /* only a failed send completes */
				w->tx_refused++;
				w->tx_refused_err = -res;
			}
			continue;
		}
		if ((ud & UD_MASK) != UD_ARMED)
			continue;
		if (flags & IORING_CQE_F_BUFFER) {
			unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
			uint8_t *buf = w->rxbufs + (size_t)bid * RXBUF_SIZE;
			if (res > 0 && !leg->dead && leg->fd >= 0)
				uring_packet(w, leg, buf, (size_t)res, now);
			rxbuf_give_back(w, bid);
		}
		if (flags & IORING_CQE_F_MORE)
			continue;
		if (res == -ENOBUFS) {
			/* Busy and armed until leg_rx_ended(), after the buffers are back. */
			leg->rearm_next = w->rearm;
			w->rearm = leg;
			continue;
		}
		leg_rx_ended(leg);
	}
	while (w->rearm) {
		struct media_leg *leg = w->rearm;
		w->rearm = leg->rearm_next;
		leg_rx_ended(leg);
	}
}

/**
 * Serve @p w's ring (worker lock held): up to EP_ROUNDS rounds of running the kernel's pending
 * receives, handling their completions and sending what they queued. The ring's eventfd is
 * muted meanwhile — the worker is awake anyway — and what completed after the last round is
 * left for the eventfd, unmuted, to announce.
 */
static void worker_serve_ring_locked(struct media_worker *w)
{
	io_uring_cq_eventfd_toggle(&w->ring, false);
	for (int round = 0; round < EP_ROUNDS; round++) {
		worker_reap_locked(w);
		worker_submit(w);
		if (!io_uring_cq_ready(&w->ring) && !ring_work_pending(w))
			break;
	}
	io_uring_cq_eventfd_toggle(&w->ring, true);
	if (io_uring_cq_ready(&w->ring))
		eventfd_kick(w->ring_evfd, "a ring's eventfd"); /* completions it did not announce */
}

/** Point the worker's recvmmsg(2) vectors at its buffers, once: every read reuses them. */
static void worker_rx_init(struct media_worker *w)
{
	for (int i = 0; i < RX_BATCH; i++) {
		w->rx_iov[i].iov_base = w->rx_bufs[i];
		w->rx_iov[i].iov_len = RTP_MAX_PACKET;
		w->rx_msgs[i].msg_hdr.msg_iov = &w->rx_iov[i];
		w->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		w->rx_msgs[i].msg_hdr.msg_name = &w->rx_srcs[i];
	}
}

/**
 * Serve the legs of epoll set @p epfd (the worker's epfd or epfd_clocked) that have packets: up
 * to @p rounds epoll_wait calls of EP_BATCH legs. The worker lock is held, so a leg reported by
 * epoll cannot be freed before it is served.
 */
static void worker_serve_locked(struct media_worker *w, int epfd, size_t rounds)
{
	struct epoll_event evs[EP_BATCH];

	for (size_t round = 0; round < rounds; round++) {
		int n = epoll_wait(epfd, evs, EP_BATCH, 0);
		if (n <= 0)
			break;
		mstime_t now = media_now_ms();
		for (int i = 0; i < n; i++) {
			struct media_leg *leg = evs[i].data.ptr;
			if (!leg->dead)
				leg_readable(leg, now);
		}
		if (n < EP_BATCH)
			break;
	}
}

/**
 * Bridged legs of @p w have packets (epoll: its epfd is readable; io_uring: the ring's eventfd):
 * serve up to EP_ROUNDS × EP_BATCH of them, or EP_ROUNDS rounds of the ring.
 *
 * @return true when the loop must be woken for new events.
 */
static bool worker_rx(struct media_worker *w)
{
	if (w->uring)
		eventfd_drain(w->ring_evfd, "a ring's eventfd");
	pthread_mutex_lock(&w->lock);
	bool was_empty = !w->pend_head;
	if (w->uring)
		worker_serve_ring_locked(w);
	else
		worker_serve_locked(w, w->epfd, EP_ROUNDS);
	bool wake = was_empty && w->pend_head;
	pthread_mutex_unlock(&w->lock);
	return wake;
}

/** The loop worker's epoll set is readable (media.workers = 0). */
static int engine_readable(su_root_magic_t *magic, su_wait_t *wt, su_wakeup_arg_t *arg)
{
	struct media_engine *me = (struct media_engine *)arg;

	(void)magic;
	(void)wt;
	if (worker_rx(&me->workers[0]))
		worker_dispatch(&me->workers[0]);
	return 0;
}

/* ---- worker rings ----------------------------------------------------------------------- */

/**
 * Whether this kernel's io_uring has what the workers use (multishot recvmsg with provided
 * buffers, Linux 6.0): one datagram through a socket pair on @p w's ring, then the receive
 * cancelled and every completion taken, each awaited at most URING_TEST_MS.
 */
static bool uring_works(struct media_worker *w)
{
	int sv[2];
	bool ok = false;
	struct __kernel_timespec limit = { .tv_nsec = URING_TEST_MS * 1000000L };

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
	io_uring_prep_recvmsg_multishot(sqe, sv[0], &w->rx_mh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = RXBUF_GROUP;
	io_uring_sqe_set_data64(sqe, 1);
	struct io_uring_cqe *cqe;
	if (io_uring_submit(&w->ring) == 1 && write(sv[1], "", 1) == 1 &&
	    io_uring_wait_cqe_timeout(&w->ring, &cqe, &limit) == 0) {
		ok = cqe->res > 0 && (cqe->flags & IORING_CQE_F_MORE);
		unsigned flags = cqe->flags;
		io_uring_cqe_seen(&w->ring, cqe);
		if (flags & IORING_CQE_F_BUFFER)
			rxbuf_give_back(w, flags >> IORING_CQE_BUFFER_SHIFT);
		if (flags & IORING_CQE_F_MORE) {
			sqe = io_uring_get_sqe(&w->ring);
			io_uring_prep_cancel64(sqe, 1, 0);
			io_uring_sqe_set_data64(sqe, 2);
			io_uring_submit(&w->ring);
			/* The cancel's and the receive's completions. */
			for (int i = 0; i < 2 &&
			     io_uring_wait_cqe_timeout(&w->ring, &cqe, &limit) == 0; i++)
				io_uring_cqe_seen(&w->ring, cqe);
		}
	}
	close(sv[0]);
	close(sv[1]);
	return ok;
}

static void worker_uring_free(struct media_worker *w)
{
	if (w->ring.ring_fd > 0)
		io_uring_queue_exit(&w->ring); /* ends every receive still outstanding */
	w->ring.ring_fd = -1;
	if (w->ring_evfd >= 0)
		close(w->ring_evfd);
	w->ring_evfd = -1;
	free(w->rxbr);
	free(w->rxbufs);
	free(w->tx);
	w->rxbr = NULL;
	w->rxbufs = NULL;
	w->tx = NULL;
	w->uring = false;
}

/**
 * Give @p w an io_uring: the ring (completions run when the worker next enters the kernel:
 * COOP_TASKRUN), the eventfd it announces completions on, RXBUF_COUNT receive buffers, TX_SLOTS
 * send copies. On any failure the worker is left as it was, to use epoll.
 *
 * @return 0, or an errno (ENOSYS or EPERM where io_uring is absent or forbidden, EINVAL where
 *         it lacks a feature).
 */
static int worker_uring_init(struct media_worker *w)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
			 IORING_SETUP_CQSIZE,
		.cq_entries = URING_ENTRIES * 8,
	};
	int err = -io_uring_queue_init_params(URING_ENTRIES, &w->ring, &p);

	if (err) {
		w->ring.ring_fd = -1;
		return err;
	}
	w->ring_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	size_t br_bytes = sizeof(struct io_uring_buf) * RXBUF_COUNT;
	w->rxbr = aligned_alloc(4096, br_bytes);
	w->rxbufs = malloc((size_t)RXBUF_COUNT * RXBUF_SIZE);
	w->tx = malloc(TX_SLOTS * sizeof(*w->tx));
	if (w->ring_evfd < 0 || !w->rxbr || !w->rxbufs || !w->tx) {
		err = w->ring_evfd < 0 ? errno : ENOMEM;
		goto fail;
	}
	memset(w->rxbr, 0, br_bytes);
	struct io_uring_buf_reg reg = {
		.ring_addr = (uint64_t)(uintptr_t)w->rxbr,
		.ring_entries = RXBUF_COUNT,
		.bgid = RXBUF_GROUP,
	};
	err = -io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (!err)
		err = -io_uring_register_eventfd(&w->ring, w->ring_evfd);
	if (err)
		goto fail;
	/* A slot per descriptor this process may open: the table is indexed by descriptor. */
	struct rlimit rl;
	unsigned n_files = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < URING_FILES_MAX
		? (unsigned)rl.rlim_cur : URING_FILES_MAX;
	if (io_uring_register_files_sparse(&w->ring, n_files) == 0)
		w->n_files = n_files;
	io_uring_buf_ring_init(w->rxbr);
	for (unsigned i = 0; i < RXBUF_COUNT; i++)
		io_uring_buf_ring_add(w->rxbr, w->rxbufs + (size_t)i * RXBUF_SIZE, RXBUF_SIZE,
				      (unsigned short)i, io_uring_buf_ring_mask(RXBUF_COUNT), (int)i);
	io_uring_buf_ring_advance(w->rxbr, RXBUF_COUNT);
	w->rx_mh.msg_namelen = sizeof(struct sockaddr_in6);
	if (!uring_works(w)) {
		err = EINVAL;
		goto fail;
	}
	eventfd_drain(w->ring_evfd, "a ring's eventfd"); /* the test's completions signalled it */
	w->uring = true;
	return 0;
 fail:
	worker_uring_free(w);
	return err;
}

/* ---- worker threads --------------------------------------------------------------------- */

/**
 * A worker thread: sleeps in poll(2) on its stop eventfd, its ptime timerfd and its epoll set
 * (or its ring's eventfd);
 * sends on the clock, serves packets, and wakes the loop when it queued events.
 */
static void *worker_main(void *arg)
{
	struct media_worker *w = arg;
	struct pollfd pfd[3] = {
		{ .fd = w->stopfd, .events = POLLIN },
		{ .fd = w->timerfd, .events = POLLIN },
		{ .fd = w->uring ? w->ring_evfd : w->epfd, .events = POLLIN },
	};

	for (;;) {
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err(NULL, "media worker %u: poll: %s", w->index, strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		bool wake = false;
		if (pfd[1].revents & POLLIN)
			wake |= worker_clock(w);
		if (pfd[2].revents & POLLIN)
			wake |= worker_rx(w);
		if (wake)
			wake_loop(w->me);
	}
	return NULL;
}

static int worker_set_clock(struct media_worker *w, unsigned ptime_ms)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = ptime_ms / 1000, .tv_nsec = (long)(ptime_ms % 1000) * 1000000L },
	};

	its.it_value = its.it_interval;
	return timerfd_settime(w->timerfd, 0, &its, NULL) < 0 ? errno : 0;
}

/** Start worker @p w as a thread; signals stay with the main thread. */
static int worker_start(struct media_worker *w)
{
	int err;

	w->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->stopfd < 0)
		return errno;
	err = dl_thread_start(&w->thread, worker_main, w);
	if (err)
		return err;
	w->running = true;
	char name[16];
	snprintf(name, sizeof(name), "dl-media/%u", w->index);
	pthread_setname_np(w->thread, name);
	return 0;
}

static void worker_stop(struct media_worker *w)
{
	if (w->running) {
		eventfd_kick(w->stopfd, "a media worker to stop");
		pthread_join(w->thread, NULL);
		w->running = false;
	}
	pthread_mutex_lock(&w->lock);
	/* Legs freed while their receive was being cancelled go with its last completion (the
	 * cancels not submitted yet first). */
	if (w->uring) {
		worker_submit(w);
		worker_reap_locked(w);
	}
	pool_resize(w, 0);
	pthread_mutex_unlock(&w->lock);
	worker_uring_free(w);
	if (w->timerfd >= 0)
		close(w->timerfd);
	if (w->stopfd >= 0)
		close(w->stopfd);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->epfd_clocked >= 0)
		close(w->epfd_clocked);
	w->timerfd = w->stopfd = w->epfd = w->epfd_clocked = -1;
	pthread_mutex_destroy(&w->lock);
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
	/* Pooled ports of another address or range are closed; the pool holds half the range. */
	bool moved = strcmp(me->address, address) != 0 || me->port_min != (port_min & ~1u) ||
		     me->port_max != port_max;
	size_t cap = (size_t)(port_max - (port_min & ~1u) + 1) / 2 / 2 / me->n_workers;
	if (cap > PORT_POOL_MAX)
		cap = PORT_POOL_MAX;
	strcpy(me->address, address);
	me->port_min = (uint16_t)(port_min & ~1u);
	me->port_max = port_max;
	if (me->next_port < me->port_min || me->next_port + 1 > me->port_max)
		me->next_port = me->port_min;
	bool new_clock = ptime_ms != me->ptime_ms;
	me->ptime_ms = ptime_ms;
	for (size_t i = 0; i < me->n_workers; i++) {
		struct media_worker *w = &me->workers[i];
		pthread_mutex_lock(&w->lock);
		w->frame_samples = DL_MS_TO_SAMPLES(ptime_ms);
		if (moved || w->pool.cap != cap)
			pool_resize(w, cap);
		pthread_mutex_unlock(&w->lock);
		if (new_clock) {
			int err = worker_set_clock(w, ptime_ms);
			if (err)
				return err;
		}
	}
	return 0;
}

/** Register @p fd with the root: @p wait and @p reg are the engine's fields for it. */
static int engine_register(struct media_engine *me, int fd, su_wait_t *wait, int *reg,
			   su_wakeup_f fn)
{
	if (su_wait_create(wait, fd, SU_WAIT_IN) < 0)
		return errno ? errno : EIO;
	*reg = su_root_register(me->root, wait, fn, (su_wakeup_arg_t *)me, 0);
	if (*reg < 0) {
		su_wait_destroy(wait);
		return ENOMEM;
	}
	return 0;
}

int media_engine_alloc(struct media_engine **mep, su_root_t *root, const char *address,
		       uint16_t port_min, uint16_t port_max, unsigned ptime_ms, unsigned workers,
		       bool io_uring)
{
	struct media_engine *me;
	int err;

	if (!mep || !root || workers > DL_MEDIA_WORKERS_MAX)
		return EINVAL;
	me = calloc(1, sizeof(*me));
	if (!me)
		return ENOMEM;
	if (g711_lin.ulaw[0] == 0)
		g711_lin_fill(); /* mu-law code 0 is -32124: zero means not filled yet */
	me->root = root;
	me->ep_reg = me->clock_reg = me->notify_reg = -1;
	me->n_threads = workers;
	me->n_workers = workers ? workers : 1;
	me->workers = calloc(me->n_workers, sizeof(*me->workers));
	me->notifyfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!me->workers || me->notifyfd < 0) {
		err = me->workers ? errno : ENOMEM;
		close(me->notifyfd);
		free(me->workers);
		free(me);
		return err;
	}
	for (size_t i = 0; i < me->n_workers; i++) {
		struct media_worker *w = &me->workers[i];
		w->me = me;
		w->index = (unsigned)i;
		w->timerfd = w->stopfd = w->epfd = w->epfd_clocked = -1;
		w->ring.ring_fd = w->ring_evfd = -1;
		pthread_mutex_init(&w->lock, NULL);
		worker_rx_init(w);
	}
	err = 0;
	for (size_t i = 0; !err && i < me->n_workers; i++) {
		struct media_worker *w = &me->workers[i];
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->epfd_clocked = epoll_create1(EPOLL_CLOEXEC);
		w->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (w->epfd < 0 || w->epfd_clocked < 0 || w->timerfd < 0)
			err = errno;
		if (!err && io_uring) {
			int uerr = worker_uring_init(w);
			if (uerr)
				log_notice(NULL, "media: io_uring unavailable (%s): RTP of media worker "
					   "%zu goes through epoll and a system call per packet",
					   strerror(uerr), i);
		}
	}
	if (!err)
		err = ringback_render(me);
	if (err)
		goto out;
	err = engine_register(me, me->notifyfd, &me->notify_wait, &me->notify_reg,
			      engine_notified);
	if (!err && workers == 0)
		err = engine_register(me, me->workers[0].uring ? me->workers[0].ring_evfd
							       : me->workers[0].epfd,
				      &me->ep_wait, &me->ep_reg, engine_readable);
	if (!err && workers == 0)
		err = engine_register(me, me->workers[0].timerfd, &me->clock_wait, &me->clock_reg,
				      engine_clock);
	if (err)
		goto out;
	err = media_engine_configure(me, address, port_min, port_max, ptime_ms);
	for (size_t i = 0; !err && i < me->n_threads; i++)
		err = worker_start(&me->workers[i]);
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
	if (me->ep_reg >= 0)
		su_root_deregister(me->root, me->ep_reg); /* also destroys ep_wait */
	if (me->clock_reg >= 0)
		su_root_deregister(me->root, me->clock_reg);
	if (me->notify_reg >= 0)
		su_root_deregister(me->root, me->notify_reg);
	uint64_t refused = 0;
	int refused_err = 0;
	for (size_t i = 0; i < me->n_workers; i++) {
		worker_stop(&me->workers[i]);
		refused += me->workers[i].tx_refused;
		if (me->workers[i].tx_refused)
			refused_err = me->workers[i].tx_refused_err;
	}
	if (refused)
		log_notice(NULL, "media: %llu RTP packets sent through io_uring were refused by their "
			 "sockets (the last: %s)", (unsigned long long)refused, strerror(refused_err));
	if (me->notifyfd >= 0)
		close(me->notifyfd);
	free(me->workers);
	free(me->ringback_ulaw);
	free(me->ringback_alaw);
	free(me);
}

size_t media_engine_legs(const struct media_engine *me)
{
	size_t n = 0;

	if (!me)
		return 0;
	for (size_t i = 0; i < me->n_workers; i++) {
		struct media_worker *w = &me->workers[i];
		pthread_mutex_lock(&w->lock);
		n += w->n_legs;
		pthread_mutex_unlock(&w->lock);
	}
	return n;
}

unsigned media_engine_workers(const struct media_engine *me)
{
	return me ? me->n_threads : 0;
}

bool media_engine_io_uring(const struct media_engine *me)
{
	if (!me)
		return false;
	for (size_t i = 0; i < me->n_workers; i++)
		if (!me->workers[i].uring)
			return false;
	return true;
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


/** The worker a new leg goes to: @p near's, or the one with fewest legs. */
static struct media_worker *pick_worker(struct media_engine *me, const struct media_leg *near)
{
	struct media_worker *best = &me->workers[0];
	size_t best_n = SIZE_MAX;

	if (near)
		return near->w;
	for (size_t i = 0; i < me->n_workers; i++) {
		struct media_worker *w = &me->workers[i];
		pthread_mutex_lock(&w->lock);
		size_t n = w->n_legs;
		pthread_mutex_unlock(&w->lock);
		if (n < best_n) {
			best = w;
			best_n = n;
		}
	}
	return best;
}

/**
 * io_uring: put @p leg's RTP socket in its worker's fixed-file table, at the index of its
 * descriptor, so the ring sends and receives without looking the file up per packet
 * (IOSQE_FIXED_FILE). A descriptor beyond the table, or a failure, leaves it a plain one.
 */
static void leg_register_file(struct media_leg *leg)
{
	struct media_worker *w = leg->w;

	if (leg->fixed)
		return; /* a pooled socket, still in the table */
	if ((unsigned)leg->fd < w->n_files &&
	    io_uring_register_files_update(&w->ring, (unsigned)leg->fd, &leg->fd, 1) == 1)
		leg->fixed = true;
}

/** The epoll set a leg's socket is in: the worker's epfd when @p on_arrival, else epfd_clocked. */
static int leg_epfd(const struct media_leg *leg, bool on_arrival)
{
	return on_arrival ? leg->w->epfd : leg->w->epfd_clocked;
}

/**
 * Add a leg's RTP socket to one of its worker's epoll sets. Edge-triggered: a leg is reported
 * once per arrival, not again on every epoll_wait until read, which saves re-polling every ready
 * socket (leg_readable() empties it). Adding a socket that has packets reports it at once.
 *
 * @return 0, or the errno of epoll_ctl(2).
 */
static int leg_epoll_add(struct media_leg *leg, bool on_arrival)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = leg };

	return epoll_ctl(leg_epfd(leg, on_arrival), EPOLL_CTL_ADD, leg->fd, &ev) < 0 ? errno : 0;
}

int media_leg_alloc(struct media_leg **legp, struct media_engine *me, const struct media_leg *near,
		    enum dl_inband_dtmf inband, const struct media_leg_handlers *h, void *arg)
{
	struct media_leg *leg;
	int err;

	if (!legp || !me || !h)
		return EINVAL;
	leg = calloc(1, sizeof(*leg));
	if (!leg)
		return ENOMEM;
	leg->me = me;
	leg->w = pick_worker(me, near);
	leg->fd = leg->fd_rtcp = -1;
	leg->spent_fd = leg->spent_rtcp = -1;
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

	leg->inband_mode = inband;
	err = dtmf_alloc(&leg->dtmf, inband != DL_INBAND_OFF, leg_digit, leg);
	if (err)
		goto out;
	struct media_worker *w = leg->w;
	struct pooled_port port;
	pthread_mutex_lock(&w->lock);
	bool pooled = pool_take(w, media_now_ms(), &port);
	pthread_mutex_unlock(&w->lock);
	if (pooled) {
		leg->fd = port.fd;
		leg->fd_rtcp = port.fd_rtcp;
		leg->port = port.port;
		leg->fixed = port.fixed;
	} else {
		err = leg_bind(leg, me);
		/* Out of descriptors: the pool's resting ports give theirs up before a call fails. */
		while ((err == EMFILE || err == ENFILE) && pool_give_up_one(me))
			err = leg_bind(leg, me);
		if (err)
			goto out;
	}
	pthread_mutex_lock(&w->lock);
	/* A leg opened near another is a B-leg, about to be bridged: read on arrival from the start. */
	leg->on_arrival = near != NULL;
	if (w->uring && leg->on_arrival) {
		err = 0;
		leg_register_file(leg);
		leg_arm_soon(leg);
	} else {
		err = leg_epoll_add(leg, leg->on_arrival);
		if (!err && w->uring)
			leg_register_file(leg);
	}
	if (!err) {
		leg->in_epoll = true;
		leg->next = w->legs;
		if (w->legs)
			w->legs->prev = leg;
		w->legs = leg;
		w->n_legs++;
	}
	pthread_mutex_unlock(&w->lock);
 out:
	if (err) {
		if (leg->fd >= 0) {
			struct pooled_port mine = { .fd = leg->fd, .fd_rtcp = leg->fd_rtcp,
						    .port = leg->port, .fixed = leg->fixed };
			pthread_mutex_lock(&leg->w->lock);
			port_close(leg->w, &mine);
			pthread_mutex_unlock(&leg->w->lock);
		}
		dtmf_free(leg->dtmf);
		free(leg);
		return err;
	}
	*legp = leg;
	return 0;
}

/**
 * io_uring: start reading @p leg by its own multishot receive (@p on_arrival) — at once on the
 * worker's thread, else at the worker's next tick — or stop that and put it in the epoll set
 * read on the clock. Packets already queued are not lost.
 */
static void leg_ring_read_locked(struct media_leg *leg, bool on_arrival)
{
	struct media_worker *w = leg->w;

	if (on_arrival) {
		if (!leg->on_arrival)
			epoll_ctl(w->epfd_clocked, EPOLL_CTL_DEL, leg->fd, NULL);
		leg->on_arrival = true;
		leg_arm_soon(leg);
		return;
	}
	int err = leg_epoll_add(leg, false);
	if (err) {
		/* It keeps its receive: nothing is lost. */
		log_err(NULL, "media: port %u: cannot move to the epoll set read on the clock: %s",
			leg->port, strerror(err));
		return;
	}
	if (leg->rx_armed)
		uring_cancel(leg);
	leg->on_arrival = false;
}

/**
 * Move a leg's socket to the epoll set read on arrival (@p on_arrival: it is bridged) or to the
 * one read on the clock (worker lock held). Packets already queued are not lost.
 */
static void leg_read_on_arrival_locked(struct media_leg *leg, bool on_arrival)
{
	if (!leg->in_epoll || leg->on_arrival == on_arrival)
		return;
	if (leg->w->uring) {
		leg_ring_read_locked(leg, on_arrival);
		return;
	}
	int err = leg_epoll_add(leg, on_arrival);
	if (err) {
		/* It stays in the set it is in, which is read too: nothing is lost. */
		log_err(NULL, "media: port %u: cannot move to the epoll set read %s: %s", leg->port,
			on_arrival ? "on arrival" : "on the clock", strerror(err));
		return;
	}
	epoll_ctl(leg_epfd(leg, leg->on_arrival), EPOLL_CTL_DEL, leg->fd, NULL);
	leg->on_arrival = on_arrival;
}

/**
 * Undo a bridge with @p leg from both sides (worker lock held). @p leg goes back to being read on
 * the clock now; its peer at the next tick (to_clock), as at a call's end the peer is freed right
 * after, and moving it first would cost two epoll_ctl(2) and a cancelled receive for nothing.
 * Until then the peer is read on arrival, which handles its packets as the clock would.
 */
static void leg_unbridge_locked(struct media_leg *leg)
{
	if (leg->peer) {
		struct media_leg *peer = leg->peer;
		if (peer->tx == TX_RELAY)
			peer->tx = TX_SILENT;
		peer->to_clock = true;
		leg->w->tick_all = true;
		peer->peer = NULL;
		leg->peer = NULL;
	}
	leg->to_clock = false;
	leg_read_on_arrival_locked(leg, false);
	if (leg->tx == TX_RELAY)
		leg->tx = TX_SILENT;
}

/**
 * Stop hearing and sending on a leg's sockets now (worker lock held): out of the epoll set, its
 * receive cancelled, unlatched. They are set aside, not closed: leg_destroy_locked() pools them
 * once the leg's receive has ended.
 */
static void leg_close_locked(struct media_leg *leg)
{
	if (leg->in_epoll && (!leg->w->uring || !leg->on_arrival))
		epoll_ctl(leg_epfd(leg, leg->on_arrival), EPOLL_CTL_DEL, leg->fd, NULL);
	if (leg->rx_armed)
		uring_cancel(leg); /* the receive ends with a last completion, then the leg goes */
	leg->in_epoll = false;
	if (leg->fd >= 0) {
		leg_unlatch(leg);
		leg->spent_fd = leg->fd;
		leg->spent_rtcp = leg->fd_rtcp;
		leg->spent_fixed = leg->fixed;
	}
	leg->fixed = false;
	leg->fd = leg->fd_rtcp = -1;
}

static void leg_destroy_locked(struct media_leg *leg)
{
	struct media_worker *w = leg->w;

	/* Closed first, so unbridging does not move its socket between epoll sets. */
	leg_close_locked(leg);
	leg_unbridge_locked(leg);
	if (leg->prev)
		leg->prev->next = leg->next;
	else
		w->legs = leg->next;
	if (leg->next)
		leg->next->prev = leg->prev;
	w->n_legs--;
	if (leg->spent_fd >= 0) {
		struct pooled_port port = { .fd = leg->spent_fd, .fd_rtcp = leg->spent_rtcp,
					    .port = leg->port, .fixed = leg->spent_fixed,
					    .since = media_now_ms() };
		pool_put(w, &port);
	}
	dtmf_free(leg->dtmf);
	free(leg);
}

void media_leg_free(struct media_leg *leg)
{
	if (!leg)
		return;
	struct media_worker *w = leg->w;
	pthread_mutex_lock(&w->lock);
	if (leg->busy) {
		/* Events of the leg are queued or being handled: finish when the loop is done. */
		leg->dead = true;
		leg->tx = TX_SILENT;
		leg_close_locked(leg);
		leg_unbridge_locked(leg);
	} else {
		leg_destroy_locked(leg);
	}
	pthread_mutex_unlock(&w->lock);
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
	pthread_mutex_lock(&leg->w->lock);
	/* Keep a latched (symmetric) address unless the SDP really moved the stream. */
	if (!leg->connected || leg->sdp_len != len || memcmp(&ss, &leg->sdp_remote, len) != 0) {
		leg_unlatch(leg);
		memcpy(&leg->remote, &ss, len);
		leg->remote_len = len;
	}
	memcpy(&leg->sdp_remote, &ss, len);
	leg->sdp_len = len;
	leg->has_remote = params->port != 0;
	if (leg->codec != params->codec)
		leg->marker = true;
	leg->codec = params->codec;
	leg->pt = params->pt;
	leg->pt_event_tx = params->pt_event;
	leg->pt_event_rx = rx_event_pt;
	leg->local_dir = params->local_dir;
	leg->last_rx_ms = media_now_ms();
	pthread_mutex_unlock(&leg->w->lock);
	return 0;
}

void media_leg_play(struct media_leg *leg, const struct prompt *const *list, size_t n, bool loop)
{
	pthread_mutex_lock(&leg->w->lock);
	player_start(&leg->player, list, n, loop);
	leg->tx = TX_PLAY;
	leg->w->tick_all = true;
	leg->marker = true;
	leg_cancel_play_done(leg);
	pthread_mutex_unlock(&leg->w->lock);
}

void media_leg_stop(struct media_leg *leg)
{
	pthread_mutex_lock(&leg->w->lock);
	player_stop(&leg->player);
	if (leg->tx == TX_PLAY || leg->tx == TX_RINGBACK)
		leg->tx = TX_SILENT;
	leg_cancel_play_done(leg);
	pthread_mutex_unlock(&leg->w->lock);
}

void media_leg_ringback(struct media_leg *leg)
{
	pthread_mutex_lock(&leg->w->lock);
	player_stop(&leg->player);
	leg->tx = TX_RINGBACK;
	leg->w->tick_all = true;
	leg->ringback_pos = 0;
	leg->marker = true;
	leg_cancel_play_done(leg);
	pthread_mutex_unlock(&leg->w->lock);
}

int media_bridge(struct media_leg *a, struct media_leg *b, bool both_ways)
{
	if (!a)
		return EINVAL;
	if (b && b->w != a->w) {
		log_err(NULL, "media: legs on media workers %u and %u cannot be bridged (the B-leg "
			"was not opened near the A-leg)", a->w->index, b->w->index);
		return EXDEV;
	}
	pthread_mutex_lock(&a->w->lock);
	if (!b) {
		leg_unbridge_locked(a);
		pthread_mutex_unlock(&a->w->lock);
		return 0;
	}
	player_stop(&a->player);
	if (a->peer && a->peer != b)
		leg_unbridge_locked(a);
	if (b->peer && b->peer != a)
		leg_unbridge_locked(b);
	a->peer = b;
	b->peer = a;
	a->to_clock = b->to_clock = false;
	leg_read_on_arrival_locked(a, true);
	leg_read_on_arrival_locked(b, true);
	a->tx = TX_RELAY;
	a->relay_synced = false;
	leg_cancel_play_done(a);
	if (both_ways) {
		player_stop(&b->player);
		b->tx = TX_RELAY;
		b->relay_synced = false;
		leg_cancel_play_done(b);
	}
	pthread_mutex_unlock(&a->w->lock);
	return 0;
}

int media_leg_info(struct media_leg *leg, const char *content_type, const char *body, size_t len)
{
	if (!leg || !leg->dtmf)
		return EINVAL;
	struct media_worker *w = leg->w;
	pthread_mutex_lock(&w->lock);
	bool was_empty = !w->pend_head;
	int err = dtmf_feed_info(leg->dtmf, content_type, body, len, media_now_ms());
	bool wake = was_empty && w->pend_head;
	pthread_mutex_unlock(&w->lock);
	if (wake)
		wake_loop(leg->me);
	return err;
}

mstime_t media_leg_idle_ms(const struct media_leg *leg, mstime_t now_ms)
{
	pthread_mutex_lock(&leg->w->lock);
	mstime_t last = leg->last_rx_ms;
	pthread_mutex_unlock(&leg->w->lock);
	return now_ms > last ? now_ms - last : 0;
}

void media_leg_stats(const struct media_leg *leg, struct media_stats *st)
{
	pthread_mutex_lock(&leg->w->lock);
	*st = leg->st;
	pthread_mutex_unlock(&leg->w->lock);
}
