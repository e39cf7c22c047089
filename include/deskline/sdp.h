/**
 * @file sdp.h  SDP offer/answer for one G.711 audio stream plus telephone-event (RFC 3264, RFC 4566,
 *              RFC 4733 §7). Pure: strings in, structs and strings out.
 */
#ifndef DESKLINE_SDP_H
#define DESKLINE_SDP_H

#include "types.h"

/** Media direction attribute (RFC 3264 §5.1, §6.1). */
enum sdp_dir {
	SDP_SENDRECV = 0,
	SDP_SENDONLY,
	SDP_RECVONLY,
	SDP_INACTIVE,
};

/** Payload types seen in a remote description, in the order offered. */
#define SDP_MAX_FORMATS 16

/** What a remote SDP (offer or answer) says about its first audio stream. */
struct sdp_remote {
	char addr[64];               /**< c= address (media level beats session level) */
	uint16_t port;               /**< m= port; 0 = stream rejected/disabled */
	enum sdp_dir dir;
	unsigned ptime_ms;           /**< a=ptime, 0 when absent */
	int pt_pcmu;                 /**< payload type for PCMU, -1 if not offered */
	int pt_pcma;                 /**< payload type for PCMA, -1 if not offered */
	int pt_event;                /**< telephone-event/8000 payload type, -1 if not offered */
	enum dl_codec first;         /**< the first G.711 codec in the m= line's order */
	bool hold_addr;              /**< c=0.0.0.0 (RFC 2543 hold) */
};

/** Result of negotiation: what both sides use. */
struct sdp_session_params {
	enum dl_codec codec;         /**< chosen G.711 codec */
	uint8_t pt;                  /**< its payload type */
	int pt_event;                /**< negotiated telephone-event PT, -1 when none */
	enum sdp_dir remote_dir;     /**< the remote side's direction */
	enum sdp_dir local_dir;      /**< ours, the mirror of remote_dir (sendonly ↔ recvonly) */
	char addr[64];               /**< where to send RTP */
	uint16_t port;
	unsigned remote_ptime_ms;    /**< 0 when absent */
};

/** What deskline puts in an SDP it writes. */
struct sdp_local {
	const char *addr;            /**< our RTP address (IPv4 or IPv6 literal) */
	uint16_t port;               /**< our RTP port */
	uint64_t sess_id;            /**< o= session id */
	uint64_t sess_version;       /**< o= version: bump on every new offer/answer that changes */
	const enum dl_codec *codecs; /**< codecs to list, in order */
	size_t n_codecs;
	const uint8_t *pts;          /**< payload type for each codec (same length) */
	int pt_event;                /**< telephone-event PT to list, -1 for none */
	unsigned ptime_ms;           /**< a=ptime, 0 to omit */
	enum sdp_dir dir;
};

/**
 * Parse a remote SDP (offer or answer) and pick out its first audio stream.
 *
 * @param sdp  SDP text (need not be NUL-terminated)
 * @param len  length in bytes
 * @param out  filled on success
 * @return 0; EBADMSG when the text is not SDP; ENOENT when it has no audio stream; EINVAL for a
 *         NULL argument.
 *
 * A c= of 0.0.0.0 (or ::) sets hold_addr and takes the receive half out of dir (sendrecv becomes
 * sendonly, recvonly becomes inactive, RFC 3264 §8.4). Payload types are only read from an
 * RTP/AVP stream; for any other profile no codec is reported. first is DL_CODEC_NONE when the
 * stream has no G.711 at 8000 Hz.
 */
int sdp_parse_remote(const char *sdp, size_t len, struct sdp_remote *out);

/**
 * Answer an offer (RFC 3264 §6): choose the first of our codecs (in our preference order) that the
 * offer has, keep the offer's payload type numbers, accept telephone-event when offered.
 *
 * @param offer   parsed offer
 * @param prefs   our codecs in preference order
 * @param n_prefs their number
 * @param out     negotiated parameters
 * @return 0; ENOTSUP when there is no common codec or the offered stream is rejected (port 0)
 *         (answer 488, RFC 3261 §13.3.1.4); EINVAL for a NULL argument.
 */
int sdp_negotiate(const struct sdp_remote *offer, const enum dl_codec *prefs, size_t n_prefs,
		  struct sdp_session_params *out);

/**
 * Take an answer to our offer (RFC 3264 §7): the first G.711 codec in the answer wins.
 *
 * @return 0; ENOTSUP when the answer holds no G.711 codec or rejects the stream (port 0);
 *         EINVAL for a NULL argument.
 */
int sdp_accept_answer(const struct sdp_remote *answer, struct sdp_session_params *out);

/**
 * Write an SDP body (offer or answer).
 *
 * @param buf   output buffer
 * @param size  its size in bytes
 * @param l     what to write
 * @return the length written (without the NUL), or -1 when @p size is too small or @p l is not
 *         writable (no address, a codec other than G.711, a payload type above 127, no format at
 *         all). On -1 nothing past @p size is touched and @p buf holds "" when size > 0.
 */
int sdp_write(char *buf, size_t size, const struct sdp_local *l);

/**
 * Our direction in an answer to a remote direction (sendonly ↔ recvonly, RFC 3264 §6.1).
 */
enum sdp_dir sdp_dir_answer(enum sdp_dir remote);

/** "sendrecv", "sendonly", "recvonly", "inactive". */
const char *sdp_dir_name(enum sdp_dir dir);

#endif
