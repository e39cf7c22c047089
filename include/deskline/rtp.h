/**
 * @file rtp.h  RTP packets (RFC 3550 §5.1) and telephone-events (RFC 4733 §2.3). Pure parsing and
 *              writing: no sockets.
 */
#ifndef DESKLINE_RTP_H
#define DESKLINE_RTP_H

#include "types.h"

#define RTP_HEADER_SIZE 12u   /**< fixed header, bytes */
#define RTP_VERSION     2u

/** A parsed RTP packet. payload points into the caller's buffer. */
struct rtp_packet {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t cc;                  /**< CSRC count */
	bool has_extension;
	const uint8_t *payload;      /**< borrowed from the parsed buffer */
	size_t payload_len;          /**< bytes, padding removed */
};

/**
 * Parse an RTP packet (RFC 3550 §5.1): version 2, CSRC list, header extension (§5.3.1) and
 * padding (last octet = pad count) are all skipped correctly.
 *
 * @param buf  packet bytes (borrowed; pkt->payload points into it)
 * @param len  packet length in bytes
 * @param pkt  filled on success
 * @return 0; EBADMSG for a wrong version, a truncated header/CSRC list/extension, or a padding
 *         count larger than the packet (or zero); EINVAL for a NULL argument. @p pkt is only
 *         written on success.
 */
int rtp_parse(const uint8_t *buf, size_t len, struct rtp_packet *pkt);

/**
 * Write a 12-byte RTP header (no CSRC, no extension).
 *
 * @param buf   at least RTP_HEADER_SIZE bytes
 * @param pt    payload type; only its low 7 bits are written
 * @return RTP_HEADER_SIZE, or 0 when @p buf is NULL.
 */
size_t rtp_write_header(uint8_t *buf, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
			uint32_t ssrc);

/** A telephone-event payload (RFC 4733 §2.3). */
struct rtp_event {
	uint8_t event;       /**< 0-9, 10 = '*', 11 = '#', 12-15 = A-D */
	bool end;            /**< E bit */
	uint8_t volume;      /**< -dBm0, 0..63 */
	uint16_t duration;   /**< in timestamp units (samples at 8 kHz) */
};

/**
 * Parse a telephone-event payload (4 bytes; a packet may carry several, the first is used).
 *
 * @return 0, or EBADMSG when shorter than 4 bytes; EINVAL for a NULL argument.
 */
int rtp_event_parse(const uint8_t *payload, size_t len, struct rtp_event *ev);

/**
 * Write a telephone-event payload.
 *
 * @param buf  at least 4 bytes
 * @return 4, or 0 when an argument is NULL. The R bit is written as 0, volume keeps its low 6 bits.
 */
size_t rtp_event_write(uint8_t *buf, const struct rtp_event *ev);

/**
 * The DTMF character of an event code (RFC 4733 §3.2, table 1).
 *
 * @return '0'-'9', '*', '#', 'A'-'D', or 0 for events that are not DTMF.
 */
char rtp_event_digit(uint8_t event);

/**
 * The event code of a DTMF character, the inverse of rtp_event_digit().
 *
 * @return 0..15, or -1 for a character that is not a DTMF key. 'a'-'d' are read as 'A'-'D'.
 */
int rtp_event_code(char digit);

#endif
