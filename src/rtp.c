/**
 * @file rtp.c  RTP fixed header (RFC 3550 §5.1) and telephone-event payloads (RFC 4733 §2.3).
 *
 * Every length is checked before the byte it guards is read: these functions see packets from
 * anyone who can reach our RTP port, so a short or lying packet must never read past @p len.
 */
#include <errno.h>

#include "deskline/rtp.h"

#define RTP_CSRC_BYTES        4u  /* one CSRC identifier, RFC 3550 §5.1 */
#define RTP_EXT_HEADER_BYTES  4u  /* profile-defined 16 bits + length 16 bits, RFC 3550 §5.3.1 */
#define RTP_EVENT_BYTES       4u  /* RFC 4733 §2.3 payload format */

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int rtp_parse(const uint8_t *buf, size_t len, struct rtp_packet *pkt)
{
	struct rtp_packet p = { 0 };
	size_t off, end;
	bool padding;
	int err = 0;

	if (!buf || !pkt)
		return EINVAL;

	if (len < RTP_HEADER_SIZE || (buf[0] >> 6) != RTP_VERSION) {
		err = EBADMSG;
		goto out;
	}

	padding         = (buf[0] & 0x20) != 0;
	p.has_extension = (buf[0] & 0x10) != 0;
	p.cc            = buf[0] & 0x0f;
	p.marker        = (buf[1] & 0x80) != 0;
	p.pt            = buf[1] & 0x7f;
	p.seq           = get_be16(buf + 2);
	p.ts            = get_be32(buf + 4);
	p.ssrc          = get_be32(buf + 8);

	/* Offsets stay far below SIZE_MAX (at most 12 + 15 * 4 + 4 + 65535 * 4), so the sums
	 * cannot wrap; each is compared with len before anything behind it is read. */
	off = RTP_HEADER_SIZE + (size_t)p.cc * RTP_CSRC_BYTES;
	if (off > len) {
		err = EBADMSG;
		goto out;
	}

	if (p.has_extension) {
		if (len - off < RTP_EXT_HEADER_BYTES) {
			err = EBADMSG;
			goto out;
		}
		/* The length field counts 32-bit words after the 4-byte extension header. */
		off += RTP_EXT_HEADER_BYTES + (size_t)get_be16(buf + off + 2) * 4u;
		if (off > len) {
			err = EBADMSG;
			goto out;
		}
	}

	end = len;
	if (padding) {
		/* RFC 3550 §5.1: the last octet counts the padding octets, itself included, so 0 is
		 * impossible and a count reaching into the header is a forged or broken packet. With
		 * nothing after the header that octet is a header byte, and any count is too big. */
		uint8_t pad_bytes = buf[len - 1];

		if (pad_bytes == 0 || pad_bytes > len - off) {
			err = EBADMSG;
			goto out;
		}
		end = len - pad_bytes;
	}

	p.payload     = buf + off;
	p.payload_len = end - off;
	*pkt = p;

 out:
	return err;
}

size_t rtp_write_header(uint8_t *buf, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
			uint32_t ssrc)
{
	if (!buf)
		return 0;

	buf[0] = (uint8_t)(RTP_VERSION << 6);   /* no padding, no extension, no CSRC */
	buf[1] = (uint8_t)((marker ? 0x80 : 0x00) | (pt & 0x7f));
	put_be16(buf + 2, seq);
	put_be32(buf + 4, ts);
	put_be32(buf + 8, ssrc);

	return RTP_HEADER_SIZE;
}

int rtp_event_parse(const uint8_t *payload, size_t len, struct rtp_event *ev)
{
	if (!payload || !ev)
		return EINVAL;

	if (len < RTP_EVENT_BYTES)
		return EBADMSG;

	/* RFC 4733 §2.3: event (8) | E (1) | R (1, ignored by receivers) | volume (6) |
	 * duration (16). Only the first block is read: redundant events (RFC 4733 with the
	 * RFC 2198 wrapper) are neither offered nor accepted. */
	ev->event    = payload[0];
	ev->end      = (payload[1] & 0x80) != 0;
	ev->volume   = payload[1] & 0x3f;
	ev->duration = get_be16(payload + 2);

	return 0;
}

size_t rtp_event_write(uint8_t *buf, const struct rtp_event *ev)
{
	if (!buf || !ev)
		return 0;

	/* The R bit is sent as zero and ignored on receipt (RFC 4733 §2.3). */
	buf[0] = ev->event;
	buf[1] = (uint8_t)((ev->end ? 0x80 : 0x00) | (ev->volume & 0x3f));
	put_be16(buf + 2, ev->duration);

	return RTP_EVENT_BYTES;
}

/* RFC 4733 §3.2, table 1: events 0-15 in this order. */
static const char dtmf_keys[] = "0123456789*#ABCD";

char rtp_event_digit(uint8_t event)
{
	return event < sizeof(dtmf_keys) - 1 ? dtmf_keys[event] : 0;
}

int rtp_event_code(char digit)
{
	if (digit >= '0' && digit <= '9')
		return digit - '0';
	if (digit >= 'A' && digit <= 'D')
		return 12 + (digit - 'A');
	if (digit >= 'a' && digit <= 'd')
		return 12 + (digit - 'a');
	if (digit == '*')
		return 10;
	if (digit == '#')
		return 11;

	return -1;
}
