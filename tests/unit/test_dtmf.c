/**
 * @file test_dtmf.c  The DTMF merger: RFC 4733 event sequences, in-band tones made with spandsp's
 *                    own generator (through G.711, as they arrive), SIP INFO bodies, and the
 *                    merge of one key press carried by several sources.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <spandsp.h>

#include "deskline/dtmf.h"
#include "unit.h"

#define MAX_DIGITS 64

static const char all_keys[] = "0123456789*#ABCD";

/* What the handler was given, in order. */
struct capture {
	char digits[MAX_DIGITS + 1];
	char sources[MAX_DIGITS + 1];   /* 'r' RFC 4733, 'i' in-band, 'n' INFO */
	size_t n;
};

static void capture_h(char digit, enum dtmf_source src, void *arg)
{
	struct capture *c = arg;
	static const char letters[] = { [DTMF_SRC_RFC4733] = 'r', [DTMF_SRC_INBAND] = 'i',
					[DTMF_SRC_INFO] = 'n' };

	ck_assert_uint_lt(c->n, MAX_DIGITS);
	c->digits[c->n] = digit;
	c->sources[c->n] = letters[src];
	c->n++;
	c->digits[c->n] = '\0';
	c->sources[c->n] = '\0';
}

static struct dtmf *merger_new(bool inband, struct capture *c)
{
	struct dtmf *d = NULL;

	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(dtmf_alloc(&d, inband, capture_h, c), 0);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* ---- in-band ------------------------------------------------------------------------------ */

/* How the audio reaches us: G.711 coded on the wire (RFC 3551 §4.5.14), or linear for reference. */
enum law {
	LAW_LINEAR,
	LAW_ALAW,
	LAW_ULAW,
};

static const enum law all_laws[] = { LAW_LINEAR, LAW_ALAW, LAW_ULAW };

static void g711_pass(int16_t *amp, size_t samples, enum law law)
{
	for (size_t i = 0; i < samples; i++) {
		switch (law) {
		case LAW_ALAW: amp[i] = alaw_to_linear(linear_to_alaw(amp[i])); break;
		case LAW_ULAW: amp[i] = ulaw_to_linear(linear_to_ulaw(amp[i])); break;
		case LAW_LINEAR: break;
		}
	}
}

/* 8 kHz samples of audio long enough for every case here (3 s). */
#define AUDIO_SAMPLES DL_MS_TO_SAMPLES(3000)

/*
 * Tones as a phone sends them: spandsp's DTMF generator at @p level_dbm0 for the low tone, the
 * high tone @p twist_db above it, each key @p on_ms on and @p off_ms off, after @p lead samples
 * of silence. Returns the number of samples written, silence after the last key included.
 */
static size_t tones_make(int16_t *amp, size_t cap, const char *keys, int level_dbm0, int twist_db,
			 int on_ms, int off_ms, size_t lead, enum law law)
{
	dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
	size_t tail = DL_MS_TO_SAMPLES(100);
	int made;

	ck_assert_ptr_nonnull(tx);
	ck_assert_uint_lt(lead + tail, cap);
	memset(amp, 0, cap * sizeof(*amp));
	dtmf_tx_set_level(tx, level_dbm0, twist_db);
	dtmf_tx_set_timing(tx, on_ms, off_ms);
	ck_assert_int_eq(dtmf_tx_put(tx, keys, -1), 0);
	made = dtmf_tx(tx, amp + lead, (int)(cap - lead - tail));
	dtmf_tx_free(tx);

	ck_assert_int_eq(made, (int)(strlen(keys) * DL_MS_TO_SAMPLES(on_ms + off_ms)));
	g711_pass(amp, lead + (size_t)made + tail, law);
	return lead + (size_t)made + tail;
}

/*
 * Feed audio in buffers of uneven sizes, as a jittery RTP stream with varying packet times does;
 * now_ms is the time of each buffer's last sample, counted from @p start_ms.
 */
static void audio_feed(struct dtmf *d, const int16_t *amp, size_t samples, mstime_t start_ms)
{
	static const size_t sizes[] = { 160, 37, 1, 240, 1000, 80, 7, 320 };
	size_t k = 0;

	for (size_t done = 0; done < samples; k++) {
		size_t n = sizes[k % (sizeof(sizes) / sizeof(sizes[0]))];

		if (n > samples - done)
			n = samples - done;
		done += n;
		dtmf_feed_audio(d, amp + done - n, n, start_ms + done / (DL_SAMPLE_RATE / 1000u));
	}
}

/* Silence before the first key, in samples: shifts the tone across spandsp's 102-sample blocks. */
static const size_t leads[] = { 0, 37, 51, 101, 400 };

static int16_t audio[AUDIO_SAMPLES];

/* Each key, 40 ms at -20 dBm0 (Q.24's shortest tone to act on): exactly that key, once. */
START_TEST(test_inband_each_key)
{
	const char key[2] = { all_keys[_i], '\0' };

	for (size_t l = 0; l < sizeof(all_laws) / sizeof(all_laws[0]); l++) {
		for (size_t s = 0; s < sizeof(leads) / sizeof(leads[0]); s++) {
			struct capture c;
			struct dtmf *d = merger_new(true, &c);
			size_t n = tones_make(audio, AUDIO_SAMPLES, key, -20, 0, 40, 60, leads[s],
					      all_laws[l]);

			audio_feed(d, audio, n, 1000);
			ck_assert_msg(strcmp(c.digits, key) == 0,
				      "key %s law %zu lead %zu: got \"%s\"", key, l, leads[s],
				      c.digits);
			ck_assert_str_eq(c.sources, "i");
			dtmf_free(d);
		}
	}
}
END_TEST

/* Short bursts (10 and 20 ms) of every key are not key presses (Q.24 rejects them). */
START_TEST(test_inband_short_burst)
{
	static const int burst_ms[] = { 10, 20 };
	const char key[2] = { all_keys[_i], '\0' };

	for (size_t b = 0; b < sizeof(burst_ms) / sizeof(burst_ms[0]); b++) {
		for (size_t l = 0; l < sizeof(all_laws) / sizeof(all_laws[0]); l++) {
			for (size_t s = 0; s < sizeof(leads) / sizeof(leads[0]); s++) {
				struct capture c;
				struct dtmf *d = merger_new(true, &c);
				size_t n = tones_make(audio, AUDIO_SAMPLES, key, -20, 0,
						      burst_ms[b], 60, leads[s], all_laws[l]);

				audio_feed(d, audio, n, 1000);
				ck_assert_msg(c.n == 0, "%d ms %s law %zu lead %zu: \"%s\"",
					      burst_ms[b], key, l, leads[s], c.digits);
				dtmf_free(d);
			}
		}
	}
}
END_TEST

struct tone_case {
	const char *keys;
	int level_dbm0;
	int twist_db;        /* high tone minus low tone */
	int on_ms;
	int off_ms;
	const char *want;
};

static const struct tone_case tone_cases[] = {
	/* a sequence, keyed at the fastest DTMF timing (40 ms on, 50 ms off) */
	{ "159#",             -20,   0,  40, 50, "159#" },
	{ "0123456789*#ABCD", -20,   0,  40, 50, "0123456789*#ABCD" },
	/* the same key twice is two presses when there is a gap between them */
	{ "55",               -20,   0,  60, 60, "55" },
	/* a phone's usual tones: 100 ms, high group 2 dB hot */
	{ "2580",              -8,   2, 100, 100, "2580" },
	/* levels: weak but real (-30 dBm0) is heard; -40 dBm0 is below our -36 dBm0 threshold */
	{ "7",                -30,   0,  60, 60, "7" },
	{ "7",                -40,   0,  60, 60, "" },
	{ "7",                -50,   0,  60, 60, "" },
	/* twist: within 8 dB low-stronger / 4 dB high-stronger accepted, beyond rejected */
	{ "3",                -20,  -6,  60, 60, "3" },
	{ "3",                -20, -10,  60, 60, "" },
	{ "3",                -20,   6,  60, 60, "" },
};

START_TEST(test_inband_tones)
{
	const struct tone_case *tc = &tone_cases[_i];

	for (size_t l = 0; l < sizeof(all_laws) / sizeof(all_laws[0]); l++) {
		struct capture c;
		struct dtmf *d = merger_new(true, &c);
		size_t n = tones_make(audio, AUDIO_SAMPLES, tc->keys, tc->level_dbm0, tc->twist_db,
				      tc->on_ms, tc->off_ms, 51, all_laws[l]);

		audio_feed(d, audio, n, 0);
		ck_assert_msg(strcmp(c.digits, tc->want) == 0,
			      "case %d law %zu: want \"%s\" got \"%s\"", _i, l, tc->want, c.digits);
		dtmf_free(d);
	}
}
END_TEST

/* RMS level of a signal in dBm0 (a full-scale sine is +3.14 dBm0, ITU-T G.711). */
static double level_dbm0(const int16_t *amp, size_t samples)
{
	double sum = 0.0;

	for (size_t i = 0; i < samples; i++)
		sum += (double)amp[i] * amp[i];
	return 10.0 * log10(sum / samples / (32768.0 * 32768.0 / 2.0)) + 3.14;
}

/*
 * A voiced-speech stand-in: harmonics of a gliding pitch, shaped by three formants that move,
 * under a syllable-rate envelope. Its harmonics sweep through every DTMF frequency.
 */
struct voice_case {
	double f0_hz;          /* mean pitch */
	double f0_swing_hz;    /* pitch glide amplitude */
	double glide_hz;       /* glide rate */
	double formant_shift_hz;
	double gain;
};

static const struct voice_case voice_cases[] = {
	{ 110.0, 30.0, 0.7,    0.0, 2500.0 },   /* male, normal level */
	{ 210.0, 60.0, 1.0,  100.0, 2500.0 },   /* female, normal level */
	{ 150.0, 80.0, 1.6, -150.0, 2500.0 },   /* wide intonation */
	{ 120.0, 40.0, 2.2,  200.0, 9000.0 },   /* loud */
	{ 240.0, 90.0, 0.4,   50.0, 9000.0 },   /* loud, high */
};

static void voice_make(int16_t *amp, size_t samples, const struct voice_case *vc, enum law law)
{
	double phase[48] = { 0.0 };

	for (size_t i = 0; i < samples; i++) {
		double t = (double)i / DL_SAMPLE_RATE;
		double f0 = vc->f0_hz + vc->f0_swing_hz * sin(2.0 * M_PI * vc->glide_hz * t) +
			    0.1 * vc->f0_hz * sin(2.0 * M_PI * 3.1 * t);
		double envelope = 0.5 + 0.5 * sin(2.0 * M_PI * 4.0 * t);
		double sum = 0.0;

		for (int k = 1; k < 48 && k * f0 < 3600.0; k++) {
			double f = k * f0;
			double f1 = 500.0 + vc->formant_shift_hz;
			double f2 = 1500.0 - 0.8 * vc->formant_shift_hz;
			double gain = (1.0 + 3.0 * exp(-pow((f - f1) / 200.0, 2.0)) +
				       2.0 * exp(-pow((f - f2) / 250.0, 2.0)) +
				       exp(-pow((f - 2500.0) / 300.0, 2.0))) / k;

			phase[k] += 2.0 * M_PI * f / DL_SAMPLE_RATE;
			sum += gain * sin(phase[k]);
		}
		amp[i] = (int16_t)lrint(sum * envelope * vc->gain);
	}
	g711_pass(amp, samples, law);
}

/* Speech at normal and loud levels gives no digit (talk-off), and a key after it still counts. */
START_TEST(test_inband_speech)
{
	const struct voice_case *vc = &voice_cases[_i];
	const size_t speech = DL_MS_TO_SAMPLES(2500);
	int16_t key[DL_MS_TO_SAMPLES(400)];

	for (size_t l = 0; l < sizeof(all_laws) / sizeof(all_laws[0]); l++) {
		struct capture c;
		struct dtmf *d = merger_new(true, &c);
		double level;

		voice_make(audio, speech, vc, all_laws[l]);
		level = level_dbm0(audio, speech);
		ck_assert_msg(level > -22.0 && level < -3.0, "speech level %.1f dBm0", level);

		audio_feed(d, audio, speech, 0);
		ck_assert_msg(c.n == 0, "voice %d law %zu: got \"%s\"", _i, l, c.digits);

		tones_make(key, sizeof(key) / sizeof(key[0]), "8", -20, 0, 60, 60, 0, all_laws[l]);
		audio_feed(d, key, sizeof(key) / sizeof(key[0]), 2500);
		ck_assert_str_eq(c.digits, "8");
		dtmf_free(d);
	}
}
END_TEST

/* Noise (white, and Hoth room noise shaped like speech's spectrum) at a loud level: nothing. */
START_TEST(test_inband_noise)
{
	static const int classes[] = { NOISE_CLASS_AWGN, NOISE_CLASS_HOTH };
	const size_t samples = DL_MS_TO_SAMPLES(2500);

	for (size_t k = 0; k < sizeof(classes) / sizeof(classes[0]); k++) {
		noise_state_t *ns = noise_init_dbm0(NULL, 1234, -15.0f, classes[k], 7);
		struct capture c;
		struct dtmf *d = merger_new(true, &c);

		ck_assert_ptr_nonnull(ns);
		for (size_t i = 0; i < samples; i++)
			audio[i] = noise(ns);
		noise_free(ns);
		ck_assert_double_gt(level_dbm0(audio, samples), -20.0);

		audio_feed(d, audio, samples, 0);
		ck_assert_msg(c.n == 0, "noise class %d: got \"%s\"", classes[k], c.digits);
		dtmf_free(d);
	}
}
END_TEST

/* A merger made without in-band detection ignores audio. */
START_TEST(test_inband_off)
{
	struct capture c;
	struct dtmf *d = merger_new(false, &c);
	size_t n = tones_make(audio, AUDIO_SAMPLES, "123", -10, 0, 100, 100, 0, LAW_ULAW);

	audio_feed(d, audio, n, 0);
	ck_assert_uint_eq(c.n, 0);
	dtmf_free(d);
}
END_TEST

/* ---- RFC 4733 ----------------------------------------------------------------------------- */

struct pkt {
	uint32_t ssrc;
	uint32_t ts;
	uint8_t event;
	bool end;
	uint16_t duration;
};

#define MAX_PKTS 24

struct event_case {
	const char *name;
	struct pkt pkts[MAX_PKTS];
	size_t npkts;
	const char *want;
};

#define S1 0x11111111u
#define S2 0x22222222u

static const struct event_case event_cases[] = {
	{ "start, updates, three end packets", {
		{ S1, 8000, 5, false, 0 }, { S1, 8000, 5, false, 160 }, { S1, 8000, 5, false, 320 },
		{ S1, 8000, 5, true, 480 }, { S1, 8000, 5, true, 480 }, { S1, 8000, 5, true, 480 },
	  }, 6, "5" },
	{ "start lost: first packet seen is an update without the marker", {
		{ S1, 8000, 7, false, 320 }, { S1, 8000, 7, false, 480 },
		{ S1, 8000, 7, true, 640 }, { S1, 8000, 7, true, 640 }, { S1, 8000, 7, true, 640 },
	  }, 5, "7" },
	{ "retransmitted packets (same sequence numbers again)", {
		{ S1, 8000, 1, false, 0 }, { S1, 8000, 1, false, 0 }, { S1, 8000, 1, false, 160 },
		{ S1, 8000, 1, false, 160 }, { S1, 8000, 1, true, 320 }, { S1, 8000, 1, true, 320 },
	  }, 6, "1" },
	{ "only the end packets arrive", {
		{ S1, 8000, 11, true, 800 }, { S1, 8000, 11, true, 800 },
		{ S1, 8000, 11, true, 800 },
	  }, 3, "#" },
	{ "same key twice: two timestamps, two presses", {
		{ S1, 8000, 3, false, 0 }, { S1, 8000, 3, true, 640 }, { S1, 8000, 3, true, 640 },
		{ S1, 8000, 3, true, 640 },
		{ S1, 9600, 3, false, 0 }, { S1, 9600, 3, true, 640 }, { S1, 9600, 3, true, 640 },
		{ S1, 9600, 3, true, 640 },
	  }, 8, "33" },
	{ "two SSRCs with the same timestamp are two events", {
		{ S1, 8000, 4, false, 0 }, { S1, 8000, 4, true, 640 },
		{ S2, 8000, 4, false, 0 }, { S2, 8000, 4, true, 640 },
	  }, 4, "44" },
	{ "two SSRCs interleaved", {
		{ S1, 8000, 1, false, 0 }, { S2, 5000, 2, false, 0 }, { S1, 8000, 1, false, 160 },
		{ S2, 5000, 2, false, 160 }, { S1, 8000, 1, true, 320 }, { S2, 5000, 2, true, 320 },
		{ S1, 8000, 1, true, 320 }, { S2, 5000, 2, true, 320 },
	  }, 8, "12" },
	{ "late duplicate of an earlier event", {
		{ S1, 8000, 1, false, 0 }, { S1, 8000, 1, true, 640 },
		{ S1, 9600, 2, false, 0 }, { S1, 9600, 2, true, 640 },
		{ S1, 11200, 3, false, 0 },
		{ S1, 8000, 1, true, 640 }, { S1, 9600, 2, true, 640 },
		{ S1, 11200, 3, true, 640 },
	  }, 8, "123" },
	{ "all keys, 0-15", {
		{ S1, 1000, 0, true, 400 }, { S1, 2000, 1, true, 400 }, { S1, 3000, 2, true, 400 },
		{ S1, 4000, 3, true, 400 }, { S1, 5000, 4, true, 400 }, { S1, 6000, 5, true, 400 },
		{ S1, 7000, 6, true, 400 }, { S1, 8000, 7, true, 400 }, { S1, 9000, 8, true, 400 },
		{ S1, 10000, 9, true, 400 }, { S1, 11000, 10, true, 400 },
		{ S1, 12000, 11, true, 400 },
		{ S1, 13000, 12, true, 400 }, { S1, 14000, 13, true, 400 },
		{ S1, 15000, 14, true, 400 }, { S1, 16000, 15, true, 400 },
	  }, 16, "0123456789*#ABCD" },
	{ "events that are not DTMF (flash 16, tones 32+) are ignored", {
		{ S1, 8000, 16, false, 0 }, { S1, 8000, 16, true, 800 },
		{ S1, 9600, 32, false, 0 }, { S1, 9600, 32, true, 800 },
		{ S1, 11200, 255, true, 800 },
		{ S1, 12800, 9, false, 0 },
	  }, 6, "9" },
	{ "timestamp wraps between two presses", {
		{ S1, 0xFFFFFE00u, 6, false, 0 }, { S1, 0xFFFFFE00u, 6, true, 320 },
		{ S1, 0x00000300u, 6, false, 0 }, { S1, 0x00000300u, 6, true, 320 },
	  }, 4, "66" },
	{ "key held past 0xFFFF samples: the second segment is the same press", {
		{ S1, 8000, 0, false, 0 }, { S1, 8000, 0, false, 32000 },
		{ S1, 8000, 0, false, 0xFFFF },
		{ S1, 8000 + 0xFFFF, 0, false, 160 }, { S1, 8000 + 0xFFFF, 0, true, 4000 },
		{ S1, 8000 + 0xFFFF, 0, true, 4000 }, { S1, 8000 + 0xFFFF, 0, true, 4000 },
	  }, 7, "0" },
	{ "after an ended event a new timestamp is a new press even if it overlaps", {
		{ S1, 8000, 2, false, 0 }, { S1, 8000, 2, true, 800 },
		{ S1, 8400, 2, false, 0 },
	  }, 3, "22" },
};

START_TEST(test_event_sequences)
{
	const struct event_case *ec = &event_cases[_i];
	struct capture c;
	struct dtmf *d = merger_new(false, &c);

	for (size_t i = 0; i < ec->npkts; i++) {
		const struct pkt *p = &ec->pkts[i];
		struct rtp_event ev = { .event = p->event, .end = p->end, .volume = 10,
					.duration = p->duration };

		dtmf_feed_event(d, p->ssrc, p->ts, &ev, 1000 + 20 * i);
	}
	ck_assert_msg(strcmp(c.digits, ec->want) == 0, "%s: want \"%s\" got \"%s\"", ec->name,
		      ec->want, c.digits);
	for (size_t i = 0; i < c.n; i++)
		ck_assert_int_eq(c.sources[i], 'r');
	dtmf_free(d);
}
END_TEST

/* The digit is reported on the first packet of the event, not when it ends. */
START_TEST(test_event_reported_on_start)
{
	struct capture c;
	struct dtmf *d = merger_new(false, &c);
	struct rtp_event ev = { .event = 9, .end = false, .volume = 10, .duration = 0 };

	dtmf_feed_event(d, S1, 4000, &ev, 100);
	ck_assert_str_eq(c.digits, "9");

	ev.duration = 800;
	ev.end = true;
	for (int i = 0; i < 3; i++)
		dtmf_feed_event(d, S1, 4000, &ev, 200 + (mstime_t)i);
	ck_assert_str_eq(c.digits, "9");
	dtmf_free(d);
}
END_TEST

/* ---- SIP INFO ----------------------------------------------------------------------------- */

struct info_case {
	const char *content_type;
	const char *body;
	size_t len;            /* bytes of body given; SIZE_MAX: strlen(body) */
	char want;             /* 0: none */
	int err;               /* dtmf_feed_info's result */
};

#define ALL SIZE_MAX

static const struct info_case info_cases[] = {
	{ "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", ALL, '5', 0 },
	{ "application/dtmf-relay", "Signal=5", ALL, '5', 0 },
	{ "Application/DTMF-Relay", "signal = 5\r\nDURATION = 160\r\n", ALL, '5', 0 },
	{ "application/dtmf-relay", "  SIGNAL=\t9  \r\n", ALL, '9', 0 },
	{ "application/dtmf-relay", "Duration=160\r\nSignal=0\r\n", ALL, '0', 0 },
	{ "application/dtmf-relay", "Signal=1\nDuration=250\n", ALL, '1', 0 },
	{ "application/dtmf-relay", "Signal=*\r\nDuration=160\r\n", ALL, '*', 0 },
	{ "application/dtmf-relay", "Signal=#\r\nDuration=160\r\n", ALL, '#', 0 },
	{ "application/dtmf-relay", "Signal=10\r\nDuration=160\r\n", ALL, '*', 0 },
	{ "application/dtmf-relay", "Signal=11\r\nDuration=160\r\n", ALL, '#', 0 },
	{ "application/dtmf-relay", "Signal=A\r\n", ALL, 'A', 0 },
	{ "application/dtmf-relay", "Signal=d\r\n", ALL, 'D', 0 },
	{ "application/dtmf-relay", "Signal=12\r\n", ALL, 'A', 0 },
	{ "application/dtmf-relay", "Signal=15\r\n", ALL, 'D', 0 },
	{ "application/dtmf-relay;charset=UTF-8", "Signal=4\r\n", ALL, '4', 0 },
	{ " application/dtmf-relay ; foo=bar", "Signal=4\r\n", ALL, '4', 0 },
	{ "application/dtmf-relay", "Signal=16\r\n", ALL, 0, EBADMSG },
	{ "application/dtmf-relay", "Signal=55\r\n", ALL, 0, EBADMSG },
	{ "application/dtmf-relay", "Signal=E\r\n", ALL, 0, EBADMSG },
	{ "application/dtmf-relay", "Signal=\r\nDuration=160\r\n", ALL, 0, EBADMSG },
	{ "application/dtmf-relay", "Signals=5\r\n", ALL, 0, EBADMSG },
	{ "application/dtmf-relay", "Duration=160\r\n", ALL, 0, EBADMSG },
	{ "application/dtmf-relay", "", ALL, 0, EBADMSG },
	{ "application/dtmf-relay", NULL, 0, 0, EBADMSG },
	/* the body is len bytes, not a C string: "Signal=5" cut after '=' holds no key */
	{ "application/dtmf-relay", "Signal=5", 7, 0, EBADMSG },
	{ "application/dtmf", "5", ALL, '5', 0 },
	{ "application/dtmf", " 5\r\n", ALL, '5', 0 },
	{ "APPLICATION/DTMF", "#", ALL, '#', 0 },
	{ "application/dtmf", "11", ALL, '#', 0 },
	{ "application/dtmf", "b", ALL, 'B', 0 },
	{ "application/dtmf", "57", 1, '5', 0 },
	{ "application/dtmf", "5 6", ALL, 0, EBADMSG },
	{ "application/dtmf", "", ALL, 0, EBADMSG },
	{ "application/dtmf", "\r\n", ALL, 0, EBADMSG },
	{ "text/plain", "5", ALL, 0, EPROTONOSUPPORT },
	{ "application/sdp", "Signal=5\r\n", ALL, 0, EPROTONOSUPPORT },
	{ "application/dtmf-relayx", "Signal=5\r\n", ALL, 0, EPROTONOSUPPORT },
	{ "application/dtm", "5", ALL, 0, EPROTONOSUPPORT },
	{ "", "5", ALL, 0, EPROTONOSUPPORT },
};

START_TEST(test_info_bodies)
{
	const struct info_case *ic = &info_cases[_i];
	size_t len = ic->len == ALL ? strlen(ic->body) : ic->len;
	struct capture c;
	struct dtmf *d = merger_new(false, &c);
	const char want[2] = { ic->want, '\0' };

	ck_assert_msg(dtmf_info_parse(ic->content_type, ic->body, len) == ic->want,
		      "case %d: want '%s'", _i, want);
	ck_assert_int_eq(dtmf_feed_info(d, ic->content_type, ic->body, len, 1000), ic->err);
	ck_assert_str_eq(c.digits, want);
	if (ic->want)
		ck_assert_str_eq(c.sources, "n");
	dtmf_free(d);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct capture c;
	struct dtmf *d = NULL;
	struct rtp_event ev = { .event = 1 };

	ck_assert_int_eq(dtmf_alloc(NULL, false, capture_h, &c), EINVAL);
	ck_assert_int_eq(dtmf_alloc(&d, false, NULL, &c), EINVAL);
	ck_assert_ptr_null(d);

	d = merger_new(true, &c);
	ck_assert_int_eq(dtmf_feed_info(NULL, "application/dtmf", "5", 1, 0), EINVAL);
	ck_assert_int_eq(dtmf_feed_info(d, NULL, "5", 1, 0), EINVAL);
	ck_assert_int_eq(dtmf_feed_info(d, "application/dtmf", NULL, 1, 0), EINVAL);
	ck_assert_int_eq(dtmf_info_parse(NULL, "5", 1), 0);
	dtmf_feed_event(NULL, S1, 0, &ev, 0);
	dtmf_feed_event(d, S1, 0, NULL, 0);
	dtmf_feed_audio(NULL, audio, 160, 0);
	dtmf_feed_audio(d, NULL, 160, 0);
	ck_assert_uint_eq(c.n, 0);
	dtmf_free(d);
	dtmf_free(NULL);
}
END_TEST

/* ---- merge across sources ----------------------------------------------------------------- */

/*
 * A call's timeline: what each source sends, and when. An RFC 4733 step is a whole event (start
 * and three end packets, timestamp = at_ms * 8); an in-band step is a 60 ms tone at -15 dBm0 in
 * the u-law audio starting at at_ms (spandsp reports it some 25-40 ms later); an INFO step is one
 * application/dtmf-relay request.
 */
struct step {
	enum dtmf_source src;
	char digit;
	mstime_t at_ms;
};

#define MAX_STEPS 8
#define TIMELINE_MS 2000u
#define FRAME_MS 20u

struct merge_case {
	const char *name;
	struct step steps[MAX_STEPS];
	size_t nsteps;
	const char *want;
	const char *want_sources;
};

#define RFC DTMF_SRC_RFC4733
#define INB DTMF_SRC_INBAND
#define INF DTMF_SRC_INFO

static const struct merge_case merge_cases[] = {
	{ "RFC 4733 then in-band 60 ms later", {
		{ RFC, '1', 200 }, { INB, '1', 230 },
	  }, 2, "1", "r" },
	{ "in-band first, then RFC 4733", {
		{ INB, '1', 200 }, { RFC, '1', 300 },
	  }, 2, "1", "i" },
	{ "INFO then RFC 4733", {
		{ INF, '1', 200 }, { RFC, '1', 240 },
	  }, 2, "1", "n" },
	{ "RFC 4733 then INFO", {
		{ RFC, '#', 200 }, { INF, '#', 350 },
	  }, 2, "#", "r" },
	{ "one press carried by all three sources", {
		{ RFC, '5', 200 }, { INB, '5', 210 }, { INF, '5', 400 },
	  }, 3, "5", "r" },
	{ "same key twice 200 ms apart, both sources each time", {
		{ RFC, '1', 200 }, { INB, '1', 200 }, { RFC, '1', 400 }, { INB, '1', 400 },
	  }, 4, "11", "rr" },
	{ "same key twice 200 ms apart, in-band ahead", {
		{ INB, '1', 200 }, { RFC, '1', 300 }, { INB, '1', 400 }, { RFC, '1', 500 },
	  }, 4, "11", "ii" },
	{ "same key three times, RFC 4733 lagging a whole press", {
		{ INB, '2', 200 }, { INB, '2', 400 }, { RFC, '2', 450 }, { INB, '2', 600 },
		{ RFC, '2', 650 }, { RFC, '2', 850 },
	  }, 6, "222", "iii" },
	{ "in-band 600 ms after RFC 4733: outside the window, two presses", {
		{ RFC, '1', 200 }, { INB, '1', 770 },
	  }, 2, "11", "ri" },
	{ "different keys never merge", {
		{ RFC, '1', 200 }, { INB, '2', 220 },
	  }, 2, "12", "ri" },
	{ "different keys, INFO and RFC 4733", {
		{ INF, '3', 200 }, { RFC, '4', 210 },
	  }, 2, "34", "nr" },
	{ "one source alone repeating a key is never merged", {
		{ RFC, '7', 200 }, { RFC, '7', 300 }, { RFC, '7', 400 },
	  }, 3, "777", "rrr" },
	{ "INFO twice quickly is two presses", {
		{ INF, '9', 200 }, { INF, '9', 260 },
	  }, 2, "99", "nn" },
};

static int16_t timeline[DL_MS_TO_SAMPLES(TIMELINE_MS)];

START_TEST(test_merge)
{
	const struct merge_case *mc = &merge_cases[_i];
	bool fed[MAX_STEPS] = { false };
	struct capture c;
	struct dtmf *d = merger_new(true, &c);
	int16_t tone[DL_MS_TO_SAMPLES(200)];

	memset(timeline, 0, sizeof(timeline));
	for (size_t s = 0; s < mc->nsteps; s++) {
		const struct step *st = &mc->steps[s];
		const char key[2] = { st->digit, '\0' };
		size_t at = DL_MS_TO_SAMPLES(st->at_ms);

		if (st->src != INB)
			continue;
		tones_make(tone, sizeof(tone) / sizeof(tone[0]), key, -15, 0, 60, 40, 0,
			   LAW_LINEAR);
		for (size_t i = 0; i < sizeof(tone) / sizeof(tone[0]); i++)
			timeline[at + i] = (int16_t)(timeline[at + i] + tone[i]);
	}
	g711_pass(timeline, sizeof(timeline) / sizeof(timeline[0]), LAW_ULAW);

	/* One 20 ms RTP frame at a time; signalling that happens during the frame follows it. */
	for (mstime_t t = 0; t < TIMELINE_MS; t += FRAME_MS) {
		dtmf_feed_audio(d, timeline + DL_MS_TO_SAMPLES(t), DL_MS_TO_SAMPLES(FRAME_MS),
				t + FRAME_MS - 1);

		for (size_t s = 0; s < mc->nsteps; s++) {
			const struct step *st = &mc->steps[s];

			if (fed[s] || st->src == INB || st->at_ms >= t + FRAME_MS)
				continue;
			fed[s] = true;
			if (st->src == RFC) {
				struct rtp_event ev = { .event = (uint8_t)rtp_event_code(st->digit),
							.volume = 10, .duration = 0 };

				ck_assert_int_ge(rtp_event_code(st->digit), 0);
				dtmf_feed_event(d, S1, (uint32_t)st->at_ms * 8u, &ev, st->at_ms);
				ev.end = true;
				ev.duration = 480;
				for (int i = 0; i < 3; i++)
					dtmf_feed_event(d, S1, (uint32_t)st->at_ms * 8u, &ev,
							st->at_ms + 60);
			} else {
				char body[64];
				int len = snprintf(body, sizeof(body),
						   "Signal=%c\r\nDuration=160\r\n", st->digit);

				ck_assert_int_eq(dtmf_feed_info(d, "application/dtmf-relay", body,
								(size_t)len, st->at_ms), 0);
			}
		}
	}

	ck_assert_msg(strcmp(c.digits, mc->want) == 0, "%s: want \"%s\" got \"%s\"", mc->name,
		      mc->want, c.digits);
	ck_assert_msg(strcmp(c.sources, mc->want_sources) == 0,
		      "%s: want sources \"%s\" got \"%s\"", mc->name, mc->want_sources,
		      c.sources);
	dtmf_free(d);
}
END_TEST

#define N_CASES(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *dtmf_suite(void)
{
	Suite *s = suite_create("dtmf");
	TCase *tc;

	tc = tcase_create("inband");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_inband_each_key, 0, (int)strlen(all_keys));
	tcase_add_loop_test(tc, test_inband_short_burst, 0, (int)strlen(all_keys));
	tcase_add_loop_test(tc, test_inband_tones, 0, N_CASES(tone_cases));
	tcase_add_loop_test(tc, test_inband_speech, 0, N_CASES(voice_cases));
	tcase_add_test(tc, test_inband_noise);
	tcase_add_test(tc, test_inband_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("rfc4733");
	tcase_add_loop_test(tc, test_event_sequences, 0, N_CASES(event_cases));
	tcase_add_test(tc, test_event_reported_on_start);
	suite_add_tcase(s, tc);

	tc = tcase_create("info");
	tcase_add_loop_test(tc, test_info_bodies, 0, N_CASES(info_cases));
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("merge");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_merge, 0, N_CASES(merge_cases));
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return unit_run(dtmf_suite());
}
