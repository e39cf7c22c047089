/**
 * @file test_prompt.c  Prompt loading (the committed etc/prompts files and WAVs written here in
 *                      a temporary folder), prompt sets from a hand-built configuration, and the
 *                      player across prompt boundaries, past the end and in a loop.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>
#include <spandsp.h>

#include "deskline/prompt.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- temporary folder and WAV writing ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *dir)
{
	ck_assert_int_eq(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void tmpdir_make(char *dir, size_t size)
{
	snprintf(dir, size, "%s", "/tmp/test_prompt.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Write @p frames frames of @p channels interleaved samples. */
static void wav_write(const char *path, int format, int rate, int channels,
		      const int16_t *pcm, sf_count_t frames)
{
	SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	ck_assert_msg(sf != NULL, "%s: %s", path, sf_strerror(NULL));
	if (frames > 0)
		ck_assert_int_eq(sf_writef_short(sf, pcm, frames), frames);
	ck_assert_int_eq(sf_close(sf), 0);
}

static const int16_t tone[8] = { 0, 1000, -1000, 32767, -32768, 16384, 0, 0 };

static void wav_tone(const char *path)
{
	wav_write(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, tone, N(tone));
}

/* Stands in for "not written" where a function must leave its result alone. */
static char untouched;

/* ---- the committed prompts ---- */

static const char *const generated[] = {
	"main-greeting", "invalid", "no-input", "goodbye", "try-later", "transfer-callcenter",
};

START_TEST(test_load_generated)
{
	static const char *const langs[] = { "he", "en" };
	const char *lang = langs[_i / (int)N(generated)];
	const char *name = generated[_i % (int)N(generated)];
	struct prompt *p = NULL;
	char path[512], err[512];
	int peak = 0;
	size_t wrong = 0;

	snprintf(path, sizeof(path), "%s/etc/prompts/%s/%s.wav", TOP_SRCDIR, lang, name);
	ck_assert_msg(prompt_load(&p, path, name, lang, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(p->name, name);
	ck_assert_str_eq(p->lang, lang);
	/* scripts/make-prompts.sh keeps every prompt between half a second and 15 s ... */
	ck_assert_uint_ge(p->samples, DL_MS_TO_SAMPLES(500));
	ck_assert_uint_le(p->samples, DL_MS_TO_SAMPLES(15000));
	for (size_t i = 0; i < p->samples; i++) {
		int v = abs(p->pcm[i]);
		if (v > peak)
			peak = v;
		wrong += p->ulaw[i] != linear_to_ulaw(p->pcm[i]);
		wrong += p->alaw[i] != linear_to_alaw(p->pcm[i]);
	}
	ck_assert_uint_eq(wrong, 0);
	/* ... normalised to -3 dBFS: 32767 * 10^(-3/20) = 23197 */
	ck_assert_int_ge(peak, 23150);
	ck_assert_int_le(peak, 23250);
	prompt_free(p);
}
END_TEST

/* ---- prompt_load on files written here ---- */

START_TEST(test_load_known_samples)
{
	/* ITU-T G.711 encodings of the tone (the Sun reference coder gives the same). */
	static const uint8_t ulaw[8] = { 0xFF, 0xCE, 0x4E, 0x80, 0x00, 0x8F, 0xFF, 0xFF };
	static const uint8_t alaw[8] = { 0xD5, 0xFA, 0x7A, 0xAA, 0x2A, 0xA5, 0xD5, 0xD5 };
	char dir[64], path[128], err[256];
	struct prompt *p = NULL;

	tmpdir_make(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tone.wav", dir);
	wav_tone(path);

	ck_assert_int_eq(prompt_load(&p, path, "tone", "he", err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(p->samples, N(tone));
	ck_assert_mem_eq(p->pcm, tone, sizeof(tone));
	ck_assert_mem_eq(p->ulaw, ulaw, sizeof(ulaw));
	ck_assert_mem_eq(p->alaw, alaw, sizeof(alaw));
	prompt_free(p);
	rm_rf(dir);
}
END_TEST

/* A G.711 A-law WAV (common for telephony prompts) comes back as the same A-law bytes. */
START_TEST(test_load_alaw_wav)
{
	static const uint8_t alaw[8] = { 0xD5, 0xFA, 0x7A, 0xAA, 0x2A, 0xA5, 0xD5, 0xD5 };
	char dir[64], path[128], err[256];
	struct prompt *p = NULL;

	tmpdir_make(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/alaw.wav", dir);
	wav_write(path, SF_FORMAT_WAV | SF_FORMAT_ALAW, 8000, 1, tone, N(tone));

	ck_assert_int_eq(prompt_load(&p, path, "alaw", "en", err, sizeof(err)), 0);
	ck_assert_uint_eq(p->samples, N(tone));
	ck_assert_mem_eq(p->alaw, alaw, sizeof(alaw));
	ck_assert_int_gt(p->pcm[3], 31000);
	ck_assert_int_lt(p->pcm[4], -31000);
	prompt_free(p);
	rm_rf(dir);
}
END_TEST

enum bad_kind { BAD_RATE, BAD_STEREO, BAD_AU, BAD_FLOAT, BAD_TEXT, BAD_EMPTY, BAD_MISSING };

static const struct bad_case {
	enum bad_kind kind;
	const char *file;
	int rc;
	const char *msg;       /**< after "<path>: " */
	bool prefix;           /**< msg is only the start (libsndfile's own text follows) */
} bad_cases[] = {
	{ BAD_RATE,    "wide.wav",   EINVAL, "sample rate 16000 Hz, need 8000", false },
	{ BAD_STEREO,  "stereo.wav", EINVAL, "2 channels, need mono", false },
	{ BAD_AU,      "tone.au",    EINVAL, "not a WAV file", false },
	{ BAD_FLOAT,   "float.wav",  EINVAL, "floating-point samples, need integer PCM (16-bit)",
	  false },
	{ BAD_TEXT,    "text.wav",   EINVAL, "not a sound file (", true },
	{ BAD_EMPTY,   "empty.wav",  EINVAL, "no audio", false },
	{ BAD_MISSING, "absent.wav", ENOENT, "No such file or directory", false },
};

START_TEST(test_load_rejects)
{
	const struct bad_case *bc = &bad_cases[_i];
	int16_t stereo[2 * N(tone)];
	char dir[64], path[128], want[256], err[256];
	struct prompt *p = (struct prompt *)&untouched;
	FILE *f;

	tmpdir_make(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, bc->file);
	switch (bc->kind) {
	case BAD_RATE:
		wav_write(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, tone, N(tone));
		break;
	case BAD_STEREO:
		for (size_t i = 0; i < N(tone); i++)
			stereo[2 * i] = stereo[2 * i + 1] = tone[i];
		wav_write(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, stereo, N(tone));
		break;
	case BAD_AU:
		wav_write(path, SF_FORMAT_AU | SF_FORMAT_PCM_16, 8000, 1, tone, N(tone));
		break;
	case BAD_FLOAT:
		wav_write(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 8000, 1, tone, N(tone));
		break;
	case BAD_TEXT:
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs("this is not audio\n", f);
		fclose(f);
		break;
	case BAD_EMPTY:
		wav_write(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, NULL, 0);
		break;
	case BAD_MISSING:
		break;
	}

	ck_assert_int_eq(prompt_load(&p, path, "x", "he", err, sizeof(err)), bc->rc);
	ck_assert_ptr_eq(p, (struct prompt *)&untouched);
	snprintf(want, sizeof(want), "%s: %s", path, bc->msg);
	if (bc->prefix)
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "err \"%s\"", err);
	else
		ck_assert_str_eq(err, want);
	rm_rf(dir);
}
END_TEST

START_TEST(test_load_args)
{
	struct prompt *p = NULL;
	char err[64];

	ck_assert_int_eq(prompt_load(NULL, "x.wav", "x", "he", err, sizeof(err)), EINVAL);
	ck_assert_int_eq(prompt_load(&p, NULL, "x", "he", err, sizeof(err)), EINVAL);
	ck_assert_int_eq(prompt_load(&p, "x.wav", NULL, "he", err, sizeof(err)), EINVAL);
	ck_assert_int_eq(prompt_load(&p, "x.wav", "x", NULL, NULL, 0), EINVAL);
	ck_assert_ptr_null(p);
	prompt_free(NULL);
}
END_TEST

/* ---- prompt sets ---- */

#define ACT(t, a) { .type = (t), .arg = (a) }
#define LIST(...) { .v = (struct dl_action[]){ __VA_ARGS__ }, \
		    .n = sizeof((struct dl_action[]){ __VA_ARGS__ }) / sizeof(struct dl_action) }

/* Names every place a prompt can be named from; "opt" twice, "fail" three times. */
static struct dl_menu_option set_options[] = {
	{ .digits = "1", .label = "a", .actions = LIST(ACT(DL_ACT_PLAY, "opt"),
						       ACT(DL_ACT_TRUNK, "t")) },
	{ .digits = "2", .label = "b", .actions = LIST(ACT(DL_ACT_LANG, "en"),
						       ACT(DL_ACT_PLAY, "opt"),
						       ACT(DL_ACT_MENU, "m")) },
};

static struct dl_menu set_menus[] = {
	{ .name = "m", .greeting = "greet", .invalid_prompt = "bad", .timeout_prompt = NULL,
	  .on_max_failures = LIST(ACT(DL_ACT_PLAY, "bye"), ACT(DL_ACT_HANGUP, NULL)),
	  .on_max_timeouts = LIST(ACT(DL_ACT_PLAY, "fail"), ACT(DL_ACT_QUEUE, "q")),
	  .options = set_options, .n_options = N(set_options) },
};

static struct dl_trunk set_trunks[] = {
	{ .name = "t", .on_failure = LIST(ACT(DL_ACT_PLAY, "fail"), ACT(DL_ACT_HANGUP, NULL)) },
};

static struct dl_action_list set_trunk_failure = LIST(ACT(DL_ACT_PLAY, "later"),
						     ACT(DL_ACT_PLAY, "fail"));

static char *set_langs[] = { "he", "en" };

static const char *const set_files[] = { "greet", "bad", "opt", "bye", "fail", "later", "ring" };

/* Writes every set_files prompt in both languages under a new temporary folder. */
static void set_config(struct dl_config *cfg, char *dir, size_t size)
{
	char path[256];

	tmpdir_make(dir, size);
	for (size_t l = 0; l < N(set_langs); l++) {
		snprintf(path, sizeof(path), "%s/%s", dir, set_langs[l]);
		ck_assert_int_eq(mkdir(path, 0700), 0);
		for (size_t f = 0; f < N(set_files); f++) {
			snprintf(path, sizeof(path), "%s/%s/%s.wav", dir, set_langs[l],
				 set_files[f]);
			wav_tone(path);
		}
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->prompt_dir = dir;
	cfg->languages = set_langs;
	cfg->n_languages = N(set_langs);
	cfg->menus = set_menus;
	cfg->n_menus = N(set_menus);
	cfg->trunks = set_trunks;
	cfg->n_trunks = N(set_trunks);
	cfg->on_trunk_failure = set_trunk_failure;
	cfg->ringback_prompt = "ring";
}

START_TEST(test_set_load)
{
	struct dl_config cfg;
	struct dl_config_errors errs = { 0 };
	struct prompt_set *ps = NULL;
	const struct prompt *p;
	char dir[64], path[128];

	set_config(&cfg, dir, sizeof(dir));
	ck_assert_int_eq(prompt_set_load(&ps, &cfg, &errs), 0);
	ck_assert_uint_eq(errs.n, 0);

	for (size_t l = 0; l < N(set_langs); l++)
		for (size_t f = 0; f < N(set_files); f++) {
			p = prompt_set_get(ps, set_langs[l], set_files[f]);
			ck_assert_msg(p != NULL, "%s/%s", set_langs[l], set_files[f]);
			ck_assert_str_eq(p->lang, set_langs[l]);
			ck_assert_str_eq(p->name, set_files[f]);
			ck_assert_uint_eq(p->samples, N(tone));
		}
	/* an unknown or missing language falls back to the first */
	ck_assert_str_eq(prompt_set_get(ps, "fr", "greet")->lang, "he");
	ck_assert_str_eq(prompt_set_get(ps, NULL, "greet")->lang, "he");
	ck_assert_ptr_eq(prompt_set_get(ps, "fr", "greet"), prompt_set_get(ps, "he", "greet"));
	ck_assert_ptr_null(prompt_set_get(ps, "en", "nothing"));
	ck_assert_ptr_null(prompt_set_get(ps, "en", NULL));
	ck_assert_ptr_null(prompt_set_get(NULL, "en", "greet"));
	prompt_set_free(ps);
	prompt_set_free(NULL);

	/* ringback "" is the generated tone: no file wanted */
	cfg.ringback_prompt = "";
	snprintf(path, sizeof(path), "%s/en/ring.wav", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(prompt_set_load(&ps, &cfg, NULL), 0);
	ck_assert_ptr_null(prompt_set_get(ps, "en", "ring"));
	prompt_set_free(ps);
	rm_rf(dir);
}
END_TEST

/* Every bad file is named once, however often the configuration refers to it. */
START_TEST(test_set_load_errors)
{
	struct dl_config cfg;
	struct dl_config_errors errs = { 0 };
	struct prompt_set *ps = (struct prompt_set *)&untouched;
	int16_t stereo[2 * N(tone)] = { 0 };
	char dir[64], path[256], want[320];

	set_config(&cfg, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/en/opt.wav", dir);
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/en/fail.wav", dir);
	wav_write(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, stereo, N(tone));

	ck_assert_int_eq(prompt_set_load(&ps, &cfg, &errs), EINVAL);
	ck_assert_ptr_eq(ps, (struct prompt_set *)&untouched);
	ck_assert_uint_eq(errs.n, 2);
	snprintf(want, sizeof(want), "%s/en/opt.wav: No such file or directory", dir);
	ck_assert_str_eq(errs.msgs[0], want);
	snprintf(want, sizeof(want), "%s/en/fail.wav: 2 channels, need mono", dir);
	ck_assert_str_eq(errs.msgs[1], want);
	for (size_t i = 0; i < errs.n; i++)
		free(errs.msgs[i]);
	free(errs.msgs);

	ck_assert_int_eq(prompt_set_load(&ps, &cfg, NULL), EINVAL);
	ck_assert_int_eq(prompt_set_load(NULL, &cfg, NULL), EINVAL);
	ck_assert_int_eq(prompt_set_load(&ps, NULL, NULL), EINVAL);
	rm_rf(dir);
}
END_TEST

/* What etc/deskline.conf names, for the committed folder. */
static struct dl_menu_option sample_options[] = {
	{ .digits = "1", .actions = LIST(ACT(DL_ACT_TRUNK, "payment")) },
	{ .digits = "4", .actions = LIST(ACT(DL_ACT_PLAY, "transfer-callcenter"),
					 ACT(DL_ACT_TRUNK, "callcenter")) },
	{ .digits = "9", .actions = LIST(ACT(DL_ACT_LANG, "en"), ACT(DL_ACT_MENU, "main")) },
};

static struct dl_menu sample_menu = {
	.name = "main", .greeting = "main-greeting", .invalid_prompt = "invalid",
	.timeout_prompt = "no-input",
	.on_max_failures = LIST(ACT(DL_ACT_PLAY, "goodbye"), ACT(DL_ACT_HANGUP, NULL)),
	.on_max_timeouts = LIST(ACT(DL_ACT_PLAY, "transfer-callcenter"),
				ACT(DL_ACT_TRUNK, "callcenter")),
	.options = sample_options, .n_options = N(sample_options),
};

static struct dl_trunk sample_trunk = {
	.name = "payment",
	.on_failure = LIST(ACT(DL_ACT_PLAY, "try-later"), ACT(DL_ACT_HANGUP, NULL)),
};

START_TEST(test_set_load_sample_config)
{
	struct dl_config cfg = {
		.prompt_dir = TOP_SRCDIR "/etc/prompts",
		.languages = set_langs, .n_languages = N(set_langs),
		.menus = &sample_menu, .n_menus = 1, .trunks = &sample_trunk, .n_trunks = 1,
		.ringback_prompt = "",
	};
	struct dl_config_errors errs = { 0 };
	struct prompt_set *ps;

	ck_assert_int_eq(prompt_set_load(&ps, &cfg, &errs), 0);
	ck_assert_uint_eq(errs.n, 0);
	for (size_t l = 0; l < N(set_langs); l++)
		for (size_t g = 0; g < N(generated); g++)
			ck_assert_str_eq(prompt_set_get(ps, set_langs[l], generated[g])->lang,
					 set_langs[l]);
	prompt_set_free(ps);
}
END_TEST

/* ---- player ---- */

static const int16_t pcm_a[5] = { 0 };
static const uint8_t ulaw_a[5] = { 0x01, 0x02, 0x03, 0x04, 0x05 };
static const uint8_t alaw_a[5] = { 0x11, 0x12, 0x13, 0x14, 0x15 };
static const int16_t pcm_b[3] = { 0 };
static const uint8_t ulaw_b[3] = { 0x21, 0x22, 0x23 };
static const uint8_t alaw_b[3] = { 0x31, 0x32, 0x33 };

static const struct prompt prompt_a = {
	.name = "a", .lang = "he", .samples = 5,
	.pcm = (int16_t *)pcm_a, .ulaw = (uint8_t *)ulaw_a, .alaw = (uint8_t *)alaw_a,
};
static const struct prompt prompt_b = {
	.name = "b", .lang = "he", .samples = 3,
	.pcm = (int16_t *)pcm_b, .ulaw = (uint8_t *)ulaw_b, .alaw = (uint8_t *)alaw_b,
};
static const struct prompt prompt_empty = { .name = "e", .lang = "he", .samples = 0 };

#define A (&prompt_a)
#define B (&prompt_b)
#define E (&prompt_empty)

struct read_step {
	size_t samples;
	const char *bytes;     /**< expected, hex pairs separated by spaces */
	size_t from_prompts;   /**< expected return */
	bool active;           /**< player_active() afterwards */
};

static const struct player_case {
	const char *name;
	const struct prompt *list[PLAYER_MAX + 2];
	size_t n;
	bool loop;
	enum dl_codec codec;
	struct read_step reads[6];
} player_cases[] = {
	{ "two prompts, mu-law, then silence", { A, B }, 2, false, DL_CODEC_PCMU, {
		{ 4, "01 02 03 04", 4, true },
		{ 4, "05 21 22 23", 4, false },
		{ 4, "FF FF FF FF", 0, false },
	} },
	{ "A-law, NULL skipped, padding in the packet", { A, NULL, B }, 3, false, DL_CODEC_PCMA, {
		{ 3, "11 12 13", 3, true },
		{ 6, "14 15 31 32 33 D5", 5, false },
		{ 2, "D5 D5", 0, false },
	} },
	{ "one prompt looped", { B }, 1, true, DL_CODEC_PCMU, {
		{ 7, "21 22 23 21 22 23 21", 7, true },
		{ 2, "22 23", 2, true },
		{ 1, "21", 1, true },
	} },
	{ "two prompts looped across the seam", { A, B }, 2, true, DL_CODEC_PCMA, {
		{ 10, "11 12 13 14 15 31 32 33 11 12", 10, true },
		{ 6, "13 14 15 31 32 33", 6, true },
	} },
	{ "empty prompts and a loop of nothing", { E, NULL, E }, 3, true, DL_CODEC_PCMU, {
		{ 3, "FF FF FF", 0, false },
	} },
	{ "at most PLAYER_MAX prompts", { B, B, B, B, B, B, B, B, A, A }, 10, false, DL_CODEC_PCMU, {
		{ 23, "21 22 23 21 22 23 21 22 23 21 22 23 21 22 23 21 22 23 21 22 23 21 22",
		  23, true },
		{ 4, "23 FF FF FF", 1, false },
	} },
	{ "nothing to play", { NULL }, 0, false, DL_CODEC_PCMA, {
		{ 2, "D5 D5", 0, false },
	} },
};

static size_t hex_parse(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (*s != '\0' && n < max) {
		char *end;
		out[n++] = (uint8_t)strtoul(s, &end, 16);
		s = end;
		while (*s == ' ')
			s++;
	}
	return n;
}

START_TEST(test_player)
{
	const struct player_case *pc = &player_cases[_i];
	struct player pl;

	memset(&pl, 0x5A, sizeof(pl));   /* player_start must not rely on a zeroed struct */
	player_start(&pl, pc->list, pc->n, pc->loop);
	for (size_t r = 0; r < N(pc->reads) && pc->reads[r].samples > 0; r++) {
		const struct read_step *rs = &pc->reads[r];
		uint8_t want[64], got[64];
		size_t n = hex_parse(rs->bytes, want, sizeof(want));

		ck_assert_uint_eq(n, rs->samples);
		memset(got, 0x77, sizeof(got));
		ck_assert_msg(player_read(&pl, pc->codec, got, rs->samples) == rs->from_prompts,
			      "%s, read %zu", pc->name, r);
		ck_assert_msg(memcmp(got, want, n) == 0, "%s, read %zu: bytes differ", pc->name, r);
		ck_assert_uint_eq(got[n], 0x77);   /* nothing written past the packet */
		ck_assert_msg(player_active(&pl) == rs->active, "%s, read %zu: active", pc->name,
			      r);
	}
}
END_TEST

START_TEST(test_player_stop_restart)
{
	const struct prompt *first[] = { A };
	const struct prompt *second[] = { B };
	uint8_t buf[4];
	struct player pl;

	player_start(&pl, first, 1, true);
	ck_assert_uint_eq(player_read(&pl, DL_CODEC_PCMU, buf, 2), 2);
	ck_assert_uint_eq(buf[1], 0x02);

	/* a new list replaces the old one from its start */
	player_start(&pl, second, 1, false);
	ck_assert_uint_eq(player_read(&pl, DL_CODEC_PCMU, buf, 4), 3);
	ck_assert_mem_eq(buf, ((uint8_t[]){ 0x21, 0x22, 0x23, 0xFF }), 4);

	player_start(&pl, first, 1, true);
	ck_assert(player_active(&pl));
	player_stop(&pl);
	ck_assert(!player_active(&pl));
	ck_assert_uint_eq(player_read(&pl, DL_CODEC_PCMA, buf, 4), 0);
	ck_assert_mem_eq(buf, ((uint8_t[]){ 0xD5, 0xD5, 0xD5, 0xD5 }), 4);

	/* no player: silence */
	ck_assert_uint_eq(player_read(NULL, DL_CODEC_PCMU, buf, 4), 0);
	ck_assert_mem_eq(buf, ((uint8_t[]){ 0xFF, 0xFF, 0xFF, 0xFF }), 4);
	ck_assert_uint_eq(player_read(&pl, DL_CODEC_PCMU, NULL, 4), 0);
	ck_assert(!player_active(NULL));

	ck_assert_uint_eq(g711_silence(DL_CODEC_PCMU), 0xFF);
	ck_assert_uint_eq(g711_silence(DL_CODEC_PCMA), 0xD5);
	ck_assert_uint_eq(g711_silence(DL_CODEC_PCMU), linear_to_ulaw(0));
	ck_assert_uint_eq(g711_silence(DL_CODEC_PCMA), linear_to_alaw(0));
}
END_TEST

static Suite *prompt_suite(void)
{
	Suite *s = suite_create("prompt");
	TCase *tc;

	tc = tcase_create("load");
	tcase_add_loop_test(tc, test_load_generated, 0, 2 * (int)N(generated));
	tcase_add_test(tc, test_load_known_samples);
	tcase_add_test(tc, test_load_alaw_wav);
	tcase_add_loop_test(tc, test_load_rejects, 0, (int)N(bad_cases));
	tcase_add_test(tc, test_load_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("set");
	tcase_add_test(tc, test_set_load);
	tcase_add_test(tc, test_set_load_errors);
	tcase_add_test(tc, test_set_load_sample_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("player");
	tcase_add_loop_test(tc, test_player, 0, (int)N(player_cases));
	tcase_add_test(tc, test_player_stop_restart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(prompt_suite());
}
