/**
 * @file media.h  RTP media for call legs: one socket pair per leg from the configured port range,
 *                prompts and ringback sent at the configured ptime from one shared timer, symmetric
 *                RTP, DTMF detection on received audio, and relaying between two bridged legs.
 *
 * With media.workers = 0 everything runs on the su_root loop of the engine. With N > 0 the legs
 * are shared out among N worker threads (the legs of one call on one worker); every function here
 * is still called from the loop only, and every handler is called on the loop. Nothing blocks
 * longer than a worker's lock is held (one batch of packets or one ptime tick).
 */
#ifndef DESKLINE_MEDIA_H
#define DESKLINE_MEDIA_H

#include <sofia-sip/su_wait.h>

#include "types.h"
#include "sdp.h"
#include "prompt.h"
#include "dtmf.h"

struct media_engine;
struct media_leg;

/** Callbacks of a leg. All are called from the su_root loop, never from inside a media_ call. */
struct media_leg_handlers {
	/** A DTMF digit was received (any of the three ways, merged). */
	void (*digit)(struct media_leg *leg, char digit, void *arg);
	/** The prompt list given to media_leg_play() has been sent completely. */
	void (*play_done)(struct media_leg *leg, void *arg);
};

/**
 * Create the media engine.
 *
 * @param mep       on success *mep is the engine (free: media_engine_free)
 * @param root      sofia-sip loop the handlers run on, and with @p workers 0 also the sockets
 *                  and the ptime clock (borrowed)
 * @param address   local IP address to bind RTP to (copied)
 * @param port_min  lowest RTP port (even)
 * @param port_max  highest RTP port
 * @param ptime_ms  packet time of what deskline sends, 10–60 ms
 * @param workers   0: media runs on @p root's loop; 1–DL_MEDIA_WORKERS_MAX: that many threads, each
 *                  owning the legs given to it (with its own epoll set and ptime timerfd)
 * @param io_uring  true: each worker sends every packet and reads bridged legs through an
 *                  io_uring (Linux 6.0+), many packets to a system call; where the kernel has
 *                  none, or forbids it (seccomp, kernel.io_uring_disabled), a notice is logged and
 *                  epoll is used. false: epoll and a system call per packet.
 * @return 0, EINVAL for bad arguments, ENOMEM, or an errno from epoll/eventfd/timerfd/threads.
 */
int media_engine_alloc(struct media_engine **mep, su_root_t *root, const char *address,
		       uint16_t port_min, uint16_t port_max, unsigned ptime_ms, unsigned workers,
		       bool io_uring);

/**
 * Apply new settings from a reloaded configuration; legs already open keep their sockets. The
 * number of workers is fixed for the engine's life.
 *
 * @return 0, EINVAL for bad arguments, ENOMEM, or an errno from timerfd_settime().
 */
int media_engine_configure(struct media_engine *me, const char *address, uint16_t port_min,
			   uint16_t port_max, unsigned ptime_ms);

/** Free the engine; every leg must be freed first. NULL is ignored. */
void media_engine_free(struct media_engine *me);

/** Number of legs open now. */
size_t media_engine_legs(const struct media_engine *me);

/** Number of worker threads (0: media on the loop). */
unsigned media_engine_workers(const struct media_engine *me);

/** Whether every worker sends and reads RTP through io_uring (see media_engine_alloc()). */
bool media_engine_io_uring(const struct media_engine *me);

/** Least time a freed leg's port pair rests before another leg gets it, ms (media_leg_free()). */
#define MEDIA_PORT_REST_MS 1000

/**
 * Open a leg: the port pair its worker's leg freed longest ago, if that has rested
 * MEDIA_PORT_REST_MS and heard nothing meanwhile (a pair still sent to rests again: RTP bleed),
 * else bind an even RTP port and the odd RTCP port above it, round-robin through the range.
 *
 * @param legp      on success *legp is the leg (free: media_leg_free)
 * @param me        engine
 * @param near      a leg this one will be bridged with (the call's A-leg): the new leg goes to
 *                  the same worker and is read as packets arrive; NULL: the worker with fewest
 *                  legs, and the leg is read on the worker's clock until it is bridged
 * @param inband    when received audio goes to the in-band DTMF detector; DL_INBAND_AUTO: until
 *                  media_leg_set_remote() is given a description with telephone-event, and
 *                  again if a later one has none
 * @param h         callbacks (copied)
 * @param arg       callback argument
 * @return 0; EADDRINUSE when no port pair is free in the range; ENOMEM; an errno from socket().
 */
int media_leg_alloc(struct media_leg **legp, struct media_engine *me, const struct media_leg *near,
		    enum dl_inband_dtmf inband, const struct media_leg_handlers *h, void *arg);

/**
 * Free a leg; a bridge with it is undone. Events of the leg not yet handled are dropped (its
 * handlers are not called again). Its sockets stop being read and are kept bound in its
 * worker's pool for a later leg (media_leg_alloc()); the pool holds at most half the range and
 * closes a pair unused for 30 s, or when media_engine_configure() moves the address or range.
 * NULL is ignored.
 */
void media_leg_free(struct media_leg *leg);

/** The leg's local RTP port. */
uint16_t media_leg_port(const struct media_leg *leg);

/** The leg's local RTP address (the engine's address when the leg was opened). */
const char *media_leg_address(const struct media_leg *leg);

/**
 * Set where and how to send (from SDP negotiation). The remote address is replaced by the source
 * of received packets (symmetric RTP, as behind NAT) once they come.
 *
 * @param leg          leg
 * @param params       negotiated parameters (copied); params->pt_event is what we send events as,
 *                     and whether the far end has telephone-event (in-band DTMF "auto")
 * @param rx_event_pt  telephone-event payload type we announced (what arrives), -1 for none
 * @return 0, or EINVAL when the address is not an IP literal.
 */
int media_leg_set_remote(struct media_leg *leg, const struct sdp_session_params *params,
			 int rx_event_pt);

/**
 * Play prompts to the leg, replacing anything it was playing or relaying towards it.
 *
 * @param list  prompts (borrowed; must outlive the playback)
 * @param n     number of prompts
 * @param loop  repeat until stopped
 */
void media_leg_play(struct media_leg *leg, const struct prompt *const *list, size_t n, bool loop);

/** Stop playing (barge-in); silence is sent from then on. */
void media_leg_stop(struct media_leg *leg);

/** Send a generated ringback tone (Israel: 400 Hz, 1 s on, 3 s off) until stopped. */
void media_leg_ringback(struct media_leg *leg);

/**
 * Relay between two legs: RTP received on each is sent out of the other, with our own SSRC,
 * sequence and timestamp, transcoded between PCMU and PCMA when the legs differ, telephone-events
 * passed through with the other leg's payload type. DTMF detection stops on both. Bridged legs
 * are read as packets arrive, others every second ptime; a leg bridged elsewhere before is
 * unbridged from that leg first.
 *
 * @param a  first leg
 * @param b  second leg (may be NULL to undo a bridge); must have been opened near @p a
 * @param both_ways  false: only b → a (early media); true: both directions
 * @return 0; EINVAL when @p a is NULL; EXDEV when the legs are on different workers (@p b was
 *         not opened with @p a as its near leg): nothing is changed.
 */
int media_bridge(struct media_leg *a, struct media_leg *b, bool both_ways);

/**
 * Feed a SIP INFO DTMF body (RFC 2976; application/dtmf-relay or application/dtmf) to the leg's
 * digit merger. A digit it yields reaches the digit handler from the loop afterwards, like the
 * digits from RTP.
 *
 * @return as dtmf_feed_info().
 */
int media_leg_info(struct media_leg *leg, const char *content_type, const char *body, size_t len);

/**
 * How long since the leg last received RTP.
 *
 * @param now_ms  monotonic time
 * @return ms since the last packet, or since the remote was set when none came.
 */
mstime_t media_leg_idle_ms(const struct media_leg *leg, mstime_t now_ms);

/** Packet counters of a leg, for CDRs and logs. */
struct media_stats {
	uint64_t rx_packets;  /**< valid RTP packets received */
	uint64_t tx_packets;  /**< packets sent */
	uint64_t rx_errors;   /**< datagrams that were not RTP */
	uint64_t tx_drops;    /**< packets the socket refused (buffer full); with io_uring, packets
				   the ring had no room for (a refusal by the socket comes back
				   after the leg may be gone: it is counted for the whole engine,
				   logged by media_engine_free()) */
};

/** Copy a leg's counters. */
void media_leg_stats(const struct media_leg *leg, struct media_stats *st);

/** Monotonic clock in ms (CLOCK_MONOTONIC). */
mstime_t media_now_ms(void);

#endif
