/**
 * @file sdp.c  SDP offer/answer for one G.711 audio stream plus telephone-event.
 *
 * Parsing is sofia-sip's (RFC 4566 grammar, rtpmap/fmtp binding, direction attributes); this
 * file only picks out what deskline needs from the first audio stream and writes the one SDP
 * shape it ever sends.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/su_alloc.h>
#include <sofia-sip/sdp.h>

#include "deskline/sdp.h"

#define SDP_PT_MAX        127u   /* payload types are 7 bits (RFC 3550 §5.1) */
#define SDP_EVENT_NAME    "telephone-event"
#define SDP_EVENT_RANGE   "0-15" /* DTMF 0-9 * # A-D, RFC 4733 §3.2 */

/* sofia-sip's sdp_mode_t bits are from the describing side, like ours: sendonly = it sends. */
static enum sdp_dir dir_from_mode(unsigned mode)
{
	switch (mode) {
	case sdp_inactive: return SDP_INACTIVE;
	case sdp_sendonly: return SDP_SENDONLY;
	case sdp_recvonly: return SDP_RECVONLY;
	default:           return SDP_SENDRECV;
	}
}

/*
 * RFC 3264 §8.4: a c= of 0.0.0.0 is the RFC 2543 way to put a call on hold, meaning "do not send
 * me media". The IPv6 unspecified address is read the same way, as sofia-sip does.
 */
static bool addr_is_hold(const char *addr)
{
	return strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0;
}

/* Hold by address takes away the remote's receive half, whatever its attribute said. */
static enum sdp_dir dir_without_recv(enum sdp_dir dir)
{
	switch (dir) {
	case SDP_SENDRECV: return SDP_SENDONLY;
	case SDP_RECVONLY: return SDP_INACTIVE;
	default:           return dir;
	}
}

/* Only mono is G.711 as we speak it; rtpmap's third field is the channel count for audio. */
static bool rtpmap_is_mono(const sdp_rtpmap_t *rm)
{
	return !rm->rm_params || !*rm->rm_params || strcmp(rm->rm_params, "1") == 0;
}

/*
 * Record one m= format. sofia-sip already gives static payload types their RFC 3551 names
 * (rm_predef) when no rtpmap is present; the explicit fallback for 0 and 8 keeps that true
 * should a sofia-sip build leave the name empty.
 */
static void remote_add_format(struct sdp_remote *r, const sdp_rtpmap_t *rm)
{
	const char *name = rm->rm_encoding;
	unsigned long rate = rm->rm_rate;
	int pt = (int)rm->rm_pt;

	if ((!name || !*name) && (pt == DL_CODEC_PCMU || pt == DL_CODEC_PCMA)) {
		name = pt == DL_CODEC_PCMU ? "PCMU" : "PCMA";
		rate = DL_SAMPLE_RATE;
	}
	if (!name || rate != DL_SAMPLE_RATE)
		return;

	/* Encoding names are case-insensitive (RFC 4855 §3). */
	if (strcasecmp(name, "PCMU") == 0 && rtpmap_is_mono(rm)) {
		if (r->pt_pcmu < 0)
			r->pt_pcmu = pt;
		if (r->first == DL_CODEC_NONE)
			r->first = DL_CODEC_PCMU;
	}
	else if (strcasecmp(name, "PCMA") == 0 && rtpmap_is_mono(rm)) {
		if (r->pt_pcma < 0)
			r->pt_pcma = pt;
		if (r->first == DL_CODEC_NONE)
			r->first = DL_CODEC_PCMA;
	}
	else if (strcasecmp(name, SDP_EVENT_NAME) == 0) {
		if (r->pt_event < 0)
			r->pt_event = pt;
	}
}

/* a=ptime:<ms> (RFC 4566 §6). A value we cannot read is treated as absent, not as an error:
 * it only tunes our packet size. */
static unsigned parse_ptime_ms(const sdp_attribute_t *a)
{
	unsigned long v;

	if (!a || !a->a_value || a->a_value[0] < '0' || a->a_value[0] > '9')
		return 0;

	errno = 0;
	v = strtoul(a->a_value, NULL, 10);
	if (errno || v > UINT_MAX)
		return 0;

	return (unsigned)v;
}

int sdp_parse_remote(const char *sdp, size_t len, struct sdp_remote *out)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sdp_parser_t *parser = NULL;
	const sdp_session_t *sess;
	const sdp_media_t *m;
	const sdp_connection_t *c;
	const sdp_rtpmap_t *rm;
	const sdp_attribute_t *ptime;
	struct sdp_remote r;
	int err = 0;

	if (!sdp || !out)
		return EINVAL;

	if (len == 0 || len > (size_t)ISSIZE_MAX) {
		err = EBADMSG;
		goto out;
	}

	/* Lenient parsing (no sdp_f_strict): real phones send SDP with small faults. sofia-sip
	 * copies the text into the parser, so @p sdp need not be NUL-terminated. */
	parser = sdp_parse(home, sdp, (issize_t)len, 0);
	sess = sdp_session(parser);
	if (!sess) {
		err = EBADMSG;
		goto out;
	}

	for (m = sess->sdp_media; m; m = m->m_next)
		if (m->m_type == sdp_media_audio)
			break;
	if (!m) {
		err = ENOENT;
		goto out;
	}

	memset(&r, 0, sizeof(r));
	r.pt_pcmu = -1;
	r.pt_pcma = -1;
	r.pt_event = -1;
	r.first = DL_CODEC_NONE;

	if (m->m_port > UINT16_MAX) {
		err = EBADMSG;
		goto out;
	}
	r.port = (uint16_t)m->m_port;

	/* sofia-sip starts each stream at the session-level direction and lets a media-level
	 * attribute override it; a rejected stream (port 0) is inactive (RFC 3264 §6). */
	r.dir = dir_from_mode(m->m_mode);

	/* Media-level c= beats session level (RFC 4566 §5.7). The sanity check in sdp_parse()
	 * already refused a stream in use with neither; a rejected one may have none. */
	c = m->m_connections ? m->m_connections : sess->sdp_connection;
	if (c && c->c_address) {
		if (strlen(c->c_address) >= sizeof(r.addr)) {
			err = EBADMSG;
			goto out;
		}
		strcpy(r.addr, c->c_address);
		r.hold_addr = addr_is_hold(r.addr);
		if (r.hold_addr)
			r.dir = dir_without_recv(r.dir);
	}

	/* Payload types mean something only for RTP/AVP: for RTP/SAVP and the like we could not
	 * answer in the same profile, so no codec is reported and negotiation fails with 488. */
	if (m->m_proto == sdp_proto_rtp) {
		for (rm = m->m_rtpmaps; rm; rm = rm->rm_next)
			remote_add_format(&r, rm);
	}

	/* ptime is a media attribute (RFC 4566 §6); some phones put it at session level. */
	ptime = sdp_attribute_find(m->m_attributes, "ptime");
	if (!ptime)
		ptime = sdp_attribute_find(sess->sdp_attributes, "ptime");
	r.ptime_ms = parse_ptime_ms(ptime);

	*out = r;

 out:
	if (parser)
		sdp_parser_free(parser);
	su_home_deinit(home);
	return err;
}

static int remote_pt(const struct sdp_remote *r, enum dl_codec codec)
{
	switch (codec) {
	case DL_CODEC_PCMU: return r->pt_pcmu;
	case DL_CODEC_PCMA: return r->pt_pcma;
	default:            return -1;
	}
}

static void params_fill(struct sdp_session_params *p, const struct sdp_remote *r,
			enum dl_codec codec, int pt)
{
	memset(p, 0, sizeof(*p));
	p->codec = codec;
	p->pt = (uint8_t)pt;
	p->pt_event = r->pt_event;
	p->remote_dir = r->dir;
	p->local_dir = sdp_dir_answer(r->dir);
	memcpy(p->addr, r->addr, sizeof(p->addr));
	p->addr[sizeof(p->addr) - 1] = '\0';
	p->port = r->port;
	p->remote_ptime_ms = r->ptime_ms;
}

int sdp_negotiate(const struct sdp_remote *offer, const enum dl_codec *prefs, size_t n_prefs,
		  struct sdp_session_params *out)
{
	size_t i;

	if (!offer || !out || (n_prefs && !prefs))
		return EINVAL;

	/* A rejected stream (port 0) carries no media to agree on. */
	if (offer->port == 0)
		return ENOTSUP;

	/* RFC 3264 §6.1: the answer uses the offer's payload type numbers; which of the common
	 * codecs comes first is ours to choose. */
	for (i = 0; i < n_prefs; i++) {
		int pt = remote_pt(offer, prefs[i]);

		if (pt >= 0 && (unsigned)pt <= SDP_PT_MAX) {
			params_fill(out, offer, prefs[i], pt);
			return 0;
		}
	}

	return ENOTSUP;
}

int sdp_accept_answer(const struct sdp_remote *answer, struct sdp_session_params *out)
{
	int pt;

	if (!answer || !out)
		return EINVAL;

	/* Port 0 in an answer refuses the stream (RFC 3264 §6). */
	if (answer->port == 0)
		return ENOTSUP;

	/* RFC 3264 §7: the answerer lists what it will use, most preferred first. */
	pt = remote_pt(answer, answer->first);
	if (pt < 0 || (unsigned)pt > SDP_PT_MAX)
		return ENOTSUP;

	params_fill(out, answer, answer->first, pt);
	return 0;
}

/* Appends to a fixed buffer and remembers when it ran out, so sdp_write() checks once. */
struct sdp_buf {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
};

__attribute__((format(printf, 2, 3)))
static void sdp_buf_printf(struct sdp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;

	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, b->size - b->len, fmt, ap);
	va_end(ap);

	/* vsnprintf never writes past the size it is given; n >= room means it cut the line. */
	if (n < 0 || (size_t)n >= b->size - b->len) {
		b->overflow = true;
		return;
	}
	b->len += (size_t)n;
}

/* A literal that would break the line structure (or is empty) would make SDP that no one can
 * parse; the address comes from our config, so refuse it here instead. */
static bool addr_is_writable(const char *addr)
{
	return addr && *addr && addr[strcspn(addr, " \t\r\n")] == '\0';
}

static bool local_is_valid(const struct sdp_local *l)
{
	size_t i;

	if (!addr_is_writable(l->addr))
		return false;
	if (l->n_codecs && (!l->codecs || !l->pts))
		return false;
	if (l->n_codecs == 0 && l->pt_event < 0)
		return false;   /* an m= line needs at least one format (RFC 4566 §5.14) */
	if (l->pt_event > (int)SDP_PT_MAX || l->pt_event < -1)
		return false;
	if ((unsigned)l->dir > SDP_INACTIVE)
		return false;

	for (i = 0; i < l->n_codecs; i++) {
		if (l->codecs[i] != DL_CODEC_PCMU && l->codecs[i] != DL_CODEC_PCMA)
			return false;
		if (l->pts[i] > SDP_PT_MAX)
			return false;
	}

	return true;
}

int sdp_write(char *buf, size_t size, const struct sdp_local *l)
{
	struct sdp_buf b = { .buf = buf, .size = size };
	const char *ip;
	size_t i;

	if (!buf || size == 0)
		return -1;
	buf[0] = '\0';   /* never hand out half an SDP, nor an old one */
	if (!l || !local_is_valid(l))
		return -1;

	ip = strchr(l->addr, ':') ? "IP6" : "IP4";

	sdp_buf_printf(&b, "v=0\r\n");
	sdp_buf_printf(&b, "o=deskline %" PRIu64 " %" PRIu64 " IN %s %s\r\n",
		       l->sess_id, l->sess_version, ip, l->addr);
	sdp_buf_printf(&b, "s=deskline\r\n");
	sdp_buf_printf(&b, "c=IN %s %s\r\n", ip, l->addr);
	sdp_buf_printf(&b, "t=0 0\r\n");

	sdp_buf_printf(&b, "m=audio %u RTP/AVP", (unsigned)l->port);
	for (i = 0; i < l->n_codecs; i++)
		sdp_buf_printf(&b, " %u", (unsigned)l->pts[i]);
	if (l->pt_event >= 0)
		sdp_buf_printf(&b, " %d", l->pt_event);
	sdp_buf_printf(&b, "\r\n");

	/* rtpmap for the static types too: optional (RFC 4566 §6), but some gateways will not
	 * match a codec they cannot see by name, and it costs a few bytes. */
	for (i = 0; i < l->n_codecs; i++)
		sdp_buf_printf(&b, "a=rtpmap:%u %s/%u\r\n", (unsigned)l->pts[i],
			       dl_codec_name(l->codecs[i]), DL_SAMPLE_RATE);
	if (l->pt_event >= 0) {
		sdp_buf_printf(&b, "a=rtpmap:%d %s/%u\r\n", l->pt_event, SDP_EVENT_NAME,
			       DL_SAMPLE_RATE);
		sdp_buf_printf(&b, "a=fmtp:%d %s\r\n", l->pt_event, SDP_EVENT_RANGE);
	}
	if (l->ptime_ms)
		sdp_buf_printf(&b, "a=ptime:%u\r\n", l->ptime_ms);
	sdp_buf_printf(&b, "a=%s\r\n", sdp_dir_name(l->dir));

	if (b.overflow || b.len > INT_MAX) {
		buf[0] = '\0';
		return -1;
	}

	return (int)b.len;
}

enum sdp_dir sdp_dir_answer(enum sdp_dir remote)
{
	switch (remote) {
	case SDP_SENDONLY: return SDP_RECVONLY;
	case SDP_RECVONLY: return SDP_SENDONLY;
	case SDP_INACTIVE: return SDP_INACTIVE;
	default:           return SDP_SENDRECV;
	}
}

const char *sdp_dir_name(enum sdp_dir dir)
{
	switch (dir) {
	case SDP_SENDRECV: return "sendrecv";
	case SDP_SENDONLY: return "sendonly";
	case SDP_RECVONLY: return "recvonly";
	case SDP_INACTIVE: return "inactive";
	default:           return "?";
	}
}
