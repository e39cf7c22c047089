/**
 * @file types.h  Small shared types: time in milliseconds, G.711 codecs, in-band DTMF policy.
 */
#ifndef DESKLINE_TYPES_H
#define DESKLINE_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/** Milliseconds, from a clock the caller names (monotonic or Unix epoch). */
typedef uint64_t mstime_t;

/** The audio codecs deskline speaks: G.711 (ITU-T G.711), static payload types (RFC 3551 §6). */
enum dl_codec {
	DL_CODEC_NONE = -1,
	DL_CODEC_PCMU = 0,   /**< G.711 mu-law, PT 0 */
	DL_CODEC_PCMA = 8,   /**< G.711 A-law,  PT 8 */
};

/** G.711 and telephone-event run at 8000 samples/s (RFC 3551 §4.5.14, RFC 4733 §2.1). */
#define DL_SAMPLE_RATE 8000u

/** Samples in @p ms milliseconds of 8 kHz audio. */
#define DL_MS_TO_SAMPLES(ms) ((size_t)(ms) * (DL_SAMPLE_RATE / 1000u))

/**
 * Name of a codec as it appears in SDP rtpmap ("PCMU", "PCMA").
 *
 * @param codec  the codec
 * @return a static string; "?" for DL_CODEC_NONE.
 */
static inline const char *dl_codec_name(enum dl_codec codec)
{
	switch (codec) {
	case DL_CODEC_PCMU: return "PCMU";
	case DL_CODEC_PCMA: return "PCMA";
	default:            return "?";
	}
}

/**
 * When a caller's audio goes through the in-band DTMF detector (media.inband_dtmf). Detecting
 * tones in the audio costs more than anything else deskline does for a call in the menu, and a
 * phone that negotiates telephone-event (RFC 4733) sends its keys as events.
 */
enum dl_inband_dtmf {
	DL_INBAND_OFF = 0,  /**< never: RFC 4733 events and SIP INFO only */
	DL_INBAND_ON,       /**< always, also when telephone-event was negotiated */
	DL_INBAND_AUTO,     /**< only while the caller's SDP has no telephone-event */
};

#endif
