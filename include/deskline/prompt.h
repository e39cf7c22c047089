/**
 * @file prompt.h  Prompts: 8 kHz mono WAV files (read with libsndfile) held in memory as linear
 *                 PCM and pre-encoded G.711 (mu-law and A-law, spandsp g711), and a player that
 *                 hands out one packet's worth of audio at a time. Pure apart from file loading.
 */
#ifndef DESKLINE_PROMPT_H
#define DESKLINE_PROMPT_H

#include "types.h"
#include "config.h"

/** One prompt in memory. */
struct prompt {
	char *name;          /**< prompt name (file stem) */
	char *lang;          /**< language folder it came from */
	size_t samples;      /**< length in samples at 8 kHz */
	int16_t *pcm;        /**< linear samples */
	uint8_t *ulaw;       /**< G.711 mu-law, `samples` bytes */
	uint8_t *alaw;       /**< G.711 A-law, `samples` bytes */
};

/**
 * Load one WAV file. Only 8000 Hz mono is accepted: anything else is an error naming the file.
 *
 * @param pp     on success *pp is the new prompt (free: prompt_free)
 * @param path   file to read
 * @param name   prompt name to store (copied)
 * @param lang   language to store (copied)
 * @param err    receives a message naming the file on failure
 * @param errsz  size of err in bytes
 * @return 0; ENOENT when the file cannot be opened; EINVAL for a wrong format or rate or
 *         channel count; ENOMEM.
 */
int prompt_load(struct prompt **pp, const char *path, const char *name, const char *lang,
		char *err, size_t errsz);

/** Free a prompt (NULL is ignored). */
void prompt_free(struct prompt *p);

/** All prompts a configuration refers to, in each of its languages. */
struct prompt_set;

/**
 * Load every prompt the configuration names (menu greetings, invalid and timeout prompts,
 * play: actions, ringback) for every configured language.
 *
 * @param psp   on success *psp is the new set (free: prompt_set_free)
 * @param cfg   configuration (borrowed during the call)
 * @param errs  receives one "FILE: message" per bad file; may be NULL
 * @return 0, EINVAL when any file is missing or malformed, ENOMEM.
 */
int prompt_set_load(struct prompt_set **psp, const struct dl_config *cfg,
		    struct dl_config_errors *errs);

/** Free a prompt set (NULL is ignored). */
void prompt_set_free(struct prompt_set *ps);

/**
 * Find a prompt by language and name; falls back to the set's first language.
 *
 * @return the prompt (owned by the set) or NULL.
 */
const struct prompt *prompt_set_get(const struct prompt_set *ps, const char *lang,
				    const char *name);

/** Most prompts a player queues at once. */
#define PLAYER_MAX 8

/**
 * Plays a list of prompts, a frame at a time. Plain struct so it lives inside its call leg with no
 * allocation; the prompts are borrowed and must outlive the playback.
 */
struct player {
	const struct prompt *list[PLAYER_MAX];
	size_t n;            /**< prompts in list */
	size_t idx;          /**< prompt being played */
	size_t pos;          /**< next sample in list[idx] */
	bool loop;           /**< start again after the last prompt */
};

/**
 * Start playing a list (replaces whatever was playing).
 *
 * @param p     player
 * @param list  prompts (borrowed); NULL entries are skipped
 * @param n     how many (at most PLAYER_MAX; the rest are ignored)
 * @param loop  true to repeat until player_stop()
 */
void player_start(struct player *p, const struct prompt *const *list, size_t n, bool loop);

/** Stop playback. */
void player_stop(struct player *p);

/** Is something left to play? */
bool player_active(const struct player *p);

/**
 * Take the next @p samples of audio, encoded.
 *
 * @param p        player
 * @param codec    DL_CODEC_PCMU or DL_CODEC_PCMA
 * @param out      receives @p samples bytes; what is past the end of the list is G.711 silence
 * @param samples  samples wanted (= bytes for G.711)
 * @return the number of samples that came from prompts (0 when nothing is left to play).
 */
size_t player_read(struct player *p, enum dl_codec codec, uint8_t *out, size_t samples);

/** The G.711 byte for silence in @p codec (0xFF mu-law, 0xD5 A-law). */
uint8_t g711_silence(enum dl_codec codec);

#endif
