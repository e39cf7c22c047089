/**
 * @file prompt.c  Prompts: WAV files in memory, pre-encoded to both G.711 laws, and the player.
 *
 * Every prompt is encoded once at load time, so sending audio during a call is a memcpy: a
 * prompt costs 4 bytes per sample (16-bit linear + mu-law + A-law), 32 kB per second at 8 kHz.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>
#include <spandsp.h>

#include "deskline/prompt.h"

/** Longest prompt accepted: 10 minutes (19 MB in memory); anything longer is a wrong file. */
#define PROMPT_MAX_SAMPLES ((sf_count_t)DL_MS_TO_SAMPLES(10u * 60u * 1000u))

static void err_set(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err_set(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

int prompt_load(struct prompt **pp, const char *path, const char *name, const char *lang,
		char *err, size_t errsz)
{
	struct prompt *p = NULL;
	SF_INFO info;
	SNDFILE *sf = NULL;
	int type;
	int fd;
	int rc;

	if (pp == NULL || path == NULL || name == NULL || lang == NULL) {
		err_set(err, errsz, "prompt_load: missing argument");
		return EINVAL;
	}
	err_set(err, errsz, "%s", "");

	/* Opened here rather than by sf_open() so that a missing file (ENOENT) is told apart
	 * from a file libsndfile cannot parse (EINVAL). */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, errsz, "%s: %s", path, strerror(errno));
		return ENOENT;
	}
	/* The descriptor stays ours (close_desc false): libsndfile versions differ on whether a
	 * failed sf_open_fd() has already closed it. */
	memset(&info, 0, sizeof(info));
	sf = sf_open_fd(fd, SFM_READ, &info, SF_FALSE);
	if (sf == NULL) {
		err_set(err, errsz, "%s: not a sound file (%s)", path, sf_strerror(NULL));
		rc = EINVAL;
		goto out;
	}

	type = info.format & SF_FORMAT_TYPEMASK;
	if (type != SF_FORMAT_WAV && type != SF_FORMAT_WAVEX) {
		err_set(err, errsz, "%s: not a WAV file", path);
		rc = EINVAL;
		goto out;
	}
	/* Samples are read as short: libsndfile scales every integer encoding (8/16/24/32-bit
	 * PCM, G.711) to 16 bits, but float comes out truncated to 0/±1 or, with scaling on,
	 * normalised to the file's own peak. Neither is the recording, so float is refused. */
	switch (info.format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_FLOAT:
	case SF_FORMAT_DOUBLE:
		err_set(err, errsz, "%s: floating-point samples, need integer PCM (16-bit)", path);
		rc = EINVAL;
		goto out;
	default:
		break;
	}
	if (info.samplerate != (int)DL_SAMPLE_RATE) {
		err_set(err, errsz, "%s: sample rate %d Hz, need %u", path, info.samplerate,
			DL_SAMPLE_RATE);
		rc = EINVAL;
		goto out;
	}
	if (info.channels != 1) {
		err_set(err, errsz, "%s: %d channels, need mono", path, info.channels);
		rc = EINVAL;
		goto out;
	}
	if (info.frames <= 0) {
		err_set(err, errsz, "%s: no audio", path);
		rc = EINVAL;
		goto out;
	}
	if (info.frames > PROMPT_MAX_SAMPLES) {
		err_set(err, errsz, "%s: %lld samples, longest allowed is %lld (10 minutes)", path,
			(long long)info.frames, (long long)PROMPT_MAX_SAMPLES);
		rc = EINVAL;
		goto out;
	}

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		err_set(err, errsz, "%s: out of memory", path);
		rc = ENOMEM;
		goto out;
	}
	p->samples = (size_t)info.frames;
	p->name = strdup(name);
	p->lang = strdup(lang);
	p->pcm = malloc(p->samples * sizeof(*p->pcm));
	p->ulaw = malloc(p->samples);
	p->alaw = malloc(p->samples);
	if (p->name == NULL || p->lang == NULL || p->pcm == NULL || p->ulaw == NULL ||
	    p->alaw == NULL) {
		err_set(err, errsz, "%s: out of memory", path);
		rc = ENOMEM;
		goto out;
	}

	if (sf_readf_short(sf, p->pcm, info.frames) != info.frames) {
		err_set(err, errsz, "%s: read error (%s)", path, sf_strerror(sf));
		rc = EINVAL;
		goto out;
	}
	for (size_t i = 0; i < p->samples; i++) {
		p->ulaw[i] = linear_to_ulaw(p->pcm[i]);
		p->alaw[i] = linear_to_alaw(p->pcm[i]);
	}
	rc = 0;

out:
	if (sf != NULL)
		sf_close(sf);
	close(fd);
	if (rc != 0) {
		prompt_free(p);
		return rc;
	}
	*pp = p;
	return 0;
}

void prompt_free(struct prompt *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->lang);
	free(p->pcm);
	free(p->ulaw);
	free(p->alaw);
	free(p);
}

/* ---- prompt set ---- */

/* A flat array: a configuration names tens of prompts, so a linear search by name is cheaper
 * than keeping a hash, and lookups happen once per played list, not per packet. */
struct prompt_set {
	struct prompt **v;
	size_t n;
	size_t cap;
	char *first_lang;        /**< fallback language (the configuration's first) */
	char **bad;              /**< "lang/name" of files that failed, while loading */
	size_t n_bad;
};

static struct prompt *set_find(const struct prompt_set *ps, const char *lang, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i]->lang, lang) == 0 && strcmp(ps->v[i]->name, name) == 0)
			return ps->v[i];
	return NULL;
}

static int set_push(struct prompt_set *ps, struct prompt *p)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		struct prompt **v = realloc(ps->v, cap * sizeof(*v));
		if (v == NULL)
			return ENOMEM;
		ps->v = v;
		ps->cap = cap;
	}
	ps->v[ps->n++] = p;
	return 0;
}

static int errs_add(struct dl_config_errors *errs, const char *msg)
{
	char **msgs;
	char *copy;

	if (errs == NULL)
		return 0;
	copy = strdup(msg);
	if (copy == NULL)
		return ENOMEM;
	msgs = realloc(errs->msgs, (errs->n + 1) * sizeof(*msgs));
	if (msgs == NULL) {
		free(copy);
		return ENOMEM;
	}
	errs->msgs = msgs;
	errs->msgs[errs->n++] = copy;
	return 0;
}

static bool set_is_bad(const struct prompt_set *ps, const char *key)
{
	for (size_t i = 0; i < ps->n_bad; i++)
		if (strcmp(ps->bad[i], key) == 0)
			return true;
	return false;
}

static void set_bad_clear(struct prompt_set *ps)
{
	for (size_t i = 0; i < ps->n_bad; i++)
		free(ps->bad[i]);
	free(ps->bad);
	ps->bad = NULL;
	ps->n_bad = 0;
}

/* Remember a file that failed, so that a name several menus refer to is tried and reported
 * once. Takes @p key over. */
static int set_mark_bad(struct prompt_set *ps, char *key)
{
	char **bad = realloc(ps->bad, (ps->n_bad + 1) * sizeof(*bad));

	if (bad == NULL) {
		free(key);
		return ENOMEM;
	}
	ps->bad = bad;
	ps->bad[ps->n_bad++] = key;
	return 0;
}

/* Load <dir>/<lang>/<name>.wav unless it is already in the set. Only ENOMEM stops the walk;
 * a bad file is reported and the walk goes on, so every bad file is named at once. */
static int set_load(struct prompt_set *ps, const char *dir, const char *lang, const char *name,
		    struct dl_config_errors *errs)
{
	struct prompt *p;
	char err[512];
	char *path = NULL;
	char *key = NULL;
	int rc;

	if (name == NULL || name[0] == '\0' || set_find(ps, lang, name) != NULL)
		return 0;
	if (asprintf(&key, "%s/%s", lang, name) < 0)
		return ENOMEM;
	if (set_is_bad(ps, key)) {
		rc = 0;
		goto out;
	}
	if (asprintf(&path, "%s/%s/%s.wav", dir, lang, name) < 0) {
		path = NULL;
		rc = ENOMEM;
		goto out;
	}

	rc = prompt_load(&p, path, name, lang, err, sizeof(err));
	if (rc == ENOMEM)
		goto out;
	if (rc != 0) {
		rc = set_mark_bad(ps, key);
		key = NULL;
		if (rc == 0)
			rc = errs_add(errs, err);
		goto out;
	}
	rc = set_push(ps, p);
	if (rc != 0)
		prompt_free(p);
out:
	free(key);
	free(path);
	return rc;
}

static int set_load_list(struct prompt_set *ps, const char *dir, const char *lang,
			 const struct dl_action_list *list, struct dl_config_errors *errs)
{
	for (size_t i = 0; i < list->n; i++) {
		int rc;
		if (list->v[i].type != DL_ACT_PLAY)
			continue;
		rc = set_load(ps, dir, lang, list->v[i].arg, errs);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Every prompt one language needs, in the order the configuration names them. */
static int set_load_lang(struct prompt_set *ps, const struct dl_config *cfg, const char *dir,
			 const char *lang, struct dl_config_errors *errs)
{
	int rc = 0;

	for (size_t m = 0; m < cfg->n_menus && rc == 0; m++) {
		const struct dl_menu *menu = &cfg->menus[m];

		rc = set_load(ps, dir, lang, menu->greeting, errs);
		if (rc == 0)
			rc = set_load(ps, dir, lang, menu->invalid_prompt, errs);
		if (rc == 0)
			rc = set_load(ps, dir, lang, menu->timeout_prompt, errs);
		for (size_t o = 0; o < menu->n_options && rc == 0; o++)
			rc = set_load_list(ps, dir, lang, &menu->options[o].actions, errs);
		if (rc == 0)
			rc = set_load_list(ps, dir, lang, &menu->on_max_failures, errs);
		if (rc == 0)
			rc = set_load_list(ps, dir, lang, &menu->on_max_timeouts, errs);
	}
	for (size_t t = 0; t < cfg->n_trunks && rc == 0; t++)
		rc = set_load_list(ps, dir, lang, &cfg->trunks[t].on_failure, errs);
	if (rc == 0)
		rc = set_load_list(ps, dir, lang, &cfg->on_trunk_failure, errs);
	if (rc == 0)
		rc = set_load(ps, dir, lang, cfg->ringback_prompt, errs);
	for (size_t q = 0; q < cfg->n_queues && rc == 0; q++) {
		rc = set_load(ps, dir, lang, cfg->queues[q].music, errs);
		if (rc == 0)
			rc = set_load_list(ps, dir, lang, &cfg->queues[q].on_overflow, errs);
		if (rc == 0)
			rc = set_load_list(ps, dir, lang, &cfg->queues[q].on_closed, errs);
	}
	if (rc == 0)
		rc = set_load(ps, dir, lang, cfg->features.ok_prompt, errs);
	if (rc == 0)
		rc = set_load(ps, dir, lang, cfg->features.error_prompt, errs);
	if (rc == 0)
		rc = set_load_list(ps, dir, lang, &cfg->on_closed, errs);
	return rc;
}

int prompt_set_load(struct prompt_set **psp, const struct dl_config *cfg,
		    struct dl_config_errors *errs)
{
	struct prompt_set *ps;
	const char *dir;
	int rc = 0;

	if (psp == NULL || cfg == NULL)
		return EINVAL;

	ps = calloc(1, sizeof(*ps));
	if (ps == NULL)
		return ENOMEM;
	if (cfg->n_languages > 0) {
		ps->first_lang = strdup(cfg->languages[0]);
		if (ps->first_lang == NULL) {
			rc = ENOMEM;
			goto out;
		}
	}

	/* config_load() resolves a relative directory against the file's folder; a configuration
	 * without one (built by hand) means the working directory. */
	dir = cfg->prompt_dir != NULL && cfg->prompt_dir[0] != '\0' ? cfg->prompt_dir : ".";
	for (size_t l = 0; l < cfg->n_languages && rc == 0; l++)
		rc = set_load_lang(ps, cfg, dir, cfg->languages[l], errs);
	if (rc == 0 && ps->n_bad > 0)
		rc = EINVAL;
	set_bad_clear(ps);   /* only needed while loading */

out:
	if (rc != 0) {
		prompt_set_free(ps);
		return rc;
	}
	*psp = ps;
	return 0;
}

void prompt_set_free(struct prompt_set *ps)
{
	if (ps == NULL)
		return;
	for (size_t i = 0; i < ps->n; i++)
		prompt_free(ps->v[i]);
	free(ps->v);
	free(ps->first_lang);
	set_bad_clear(ps);
	free(ps);
}

const struct prompt *prompt_set_get(const struct prompt_set *ps, const char *lang,
				    const char *name)
{
	const struct prompt *p = NULL;

	if (ps == NULL || name == NULL)
		return NULL;
	if (lang != NULL)
		p = set_find(ps, lang, name);
	if (p == NULL && ps->first_lang != NULL)
		p = set_find(ps, ps->first_lang, name);
	return p;
}

/* ---- player ---- */

void player_start(struct player *p, const struct prompt *const *list, size_t n, bool loop)
{
	if (p == NULL)
		return;
	player_stop(p);
	if (list == NULL)
		return;
	if (n > PLAYER_MAX)
		n = PLAYER_MAX;
	/* Empty prompts are dropped too: a loop of nothing but empty prompts would never end. */
	for (size_t i = 0; i < n; i++)
		if (list[i] != NULL && list[i]->samples > 0)
			p->list[p->n++] = list[i];
	p->loop = loop && p->n > 0;
}

void player_stop(struct player *p)
{
	if (p == NULL)
		return;
	memset(p, 0, sizeof(*p));
}

bool player_active(const struct player *p)
{
	return p != NULL && p->idx < p->n;
}

uint8_t g711_silence(enum dl_codec codec)
{
	/* Linear 0 encoded: 0xFF in mu-law, 0xD5 in A-law (ITU-T G.711 tables 1 and 2). */
	return codec == DL_CODEC_PCMA ? 0xD5 : 0xFF;
}

size_t player_read(struct player *p, enum dl_codec codec, uint8_t *out, size_t samples)
{
	size_t done = 0;

	if (out == NULL || samples == 0)
		return 0;
	assert(codec == DL_CODEC_PCMU || codec == DL_CODEC_PCMA);
	if (p == NULL || (codec != DL_CODEC_PCMU && codec != DL_CODEC_PCMA)) {
		memset(out, g711_silence(codec), samples);
		return 0;
	}

	while (done < samples && p->idx < p->n) {
		const struct prompt *pr = p->list[p->idx];
		const uint8_t *src = codec == DL_CODEC_PCMA ? pr->alaw : pr->ulaw;
		size_t take = pr->samples - p->pos;

		if (take > samples - done)
			take = samples - done;
		memcpy(out + done, src + p->pos, take);
		done += take;
		p->pos += take;
		if (p->pos == pr->samples) {
			p->pos = 0;
			p->idx++;
			if (p->idx == p->n && p->loop)
				p->idx = 0;
		}
	}
	if (done < samples)
		memset(out + done, g711_silence(codec), samples - done);
	return done;
}
