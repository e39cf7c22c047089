/**
 * @file auth.c  SIP digest authentication: RFC 2617 §3.2.2 responses with qop=auth or in the
 *               RFC 2069 form, stateless nonces, constant-time comparisons.
 *
 * sofia-sip parses the credentials: auth_digest_response_get() finds and unquotes each parameter.
 * The hashes are computed here with su_md5 rather than with sofia's auth_digest_ha1() and
 * auth_digest_response(): those unquote their inputs once more, so an unquoted realm or cnonce
 * that itself starts with '"' is hashed without that character and the response no longer
 * matches the one RFC 2617 defines (test_auth.c has the case).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg_parser.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_md5.h>

#include "deskline/auth.h"

enum {
	HEX_MD5_LEN = 2 * SU_MD5_DIGEST_SIZE,
	/* "<up to 16 hex digits>.<32 hex digits>" and a NUL: 50 bytes. */
	NONCE_MAX_BYTES = 64,
	ISSUED_HEX_MAX = 16,
};

/* What a nonce from a client is worth. */
enum nonce_state {
	NONCE_FRESH,
	NONCE_STALE,
	NONCE_FORGED,
};

/*
 * Stands in for the HA1 of an unknown user, so that an unknown user costs the same hashing as a
 * wrong password and the time taken does not tell which one it was.
 */
static const char unknown_user_ha1[HEX_MD5_LEN + 1] = "00000000000000000000000000000000";

/* MD5 of the parts joined by ':', as 32 lower-case hex digits (RFC 2617 §3.2.2.2, §3.2.2.3). */
static void md5_join(char out[HEX_MD5_LEN + 1], const char *const parts[], size_t count)
{
	su_md5_t md5;

	su_md5_init(&md5);
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			su_md5_update(&md5, ":", 1);
		su_md5_strupdate(&md5, parts[i]);
	}
	su_md5_hexdigest(&md5, out);
	/* The context has seen the password or the server secret. */
	su_md5_deinit(&md5);
}

/*
 * Whether two strings are equal, in a time that depends on their lengths only, not on where
 * they first differ: otherwise the time of a refusal would lead a guesser to the right response
 * one byte at a time. The lengths are no secret (a response is always 32 digits).
 */
static bool equal_ct(const char *a, const char *b)
{
	size_t len = strlen(a);
	volatile unsigned char diff = 0;

	if (strlen(b) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

void auth_ha1(char out[33], const char *username, const char *realm, const char *password)
{
	if (!out)
		return;

	const char *const parts[] = {
		username ? username : "", realm ? realm : "", password ? password : "",
	};

	md5_join(out, parts, 3);
}

int auth_digest(char out[33], const char *ha1, const char *nonce, const char *nc,
		const char *cnonce, const char *qop, const char *method, const char *uri)
{
	char ha2[HEX_MD5_LEN + 1];

	if (!out)
		return EINVAL;
	out[0] = '\0';
	if (!ha1 || strnlen(ha1, HEX_MD5_LEN + 1) != HEX_MD5_LEN || !nonce || !method || !uri)
		return EINVAL;
	/* auth-int would need MD5(entity-body) in HA2 (§3.2.2.3), which we neither offer nor take. */
	if (qop && (strcasecmp(qop, "auth") != 0 || !nc || !cnonce))
		return EINVAL;

	md5_join(ha2, (const char *const[]){ method, uri }, 2);
	if (qop)
		md5_join(out, (const char *const[]){ ha1, nonce, nc, cnonce, qop, ha2 }, 6);
	else
		md5_join(out, (const char *const[]){ ha1, nonce, ha2 }, 3);
	return 0;
}

int auth_nonce(char *buf, size_t size, const char *secret, const char *realm, uint64_t now_s)
{
	char issued[ISSUED_HEX_MAX + 1];
	char hash[HEX_MD5_LEN + 1];
	int n;

	if (!buf || !secret || !*secret || !realm)
		return EINVAL;

	snprintf(issued, sizeof(issued), "%" PRIx64, now_s);
	md5_join(hash, (const char *const[]){ secret, issued, realm }, 3);
	n = snprintf(buf, size, "%s.%s", issued, hash);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return ENOSPC;
	}
	return 0;
}

/*
 * Check a nonce by making it again from the time it carries: only the holder of the secret can
 * have made it, and a copy made for another realm does not pass. The time must be in the
 * canonical form auth_nonce() writes (lower-case hex, no leading zeros), or the copy differs.
 */
static enum nonce_state nonce_check(const char *nonce, const char *secret, const char *realm,
				    uint64_t now_s, unsigned nonce_ttl_s)
{
	char want[NONCE_MAX_BYTES];
	uint64_t issued_s = 0;
	size_t i;

	for (i = 0; i < ISSUED_HEX_MAX; i++) {
		char c = nonce[i];

		if (c >= '0' && c <= '9')
			issued_s = issued_s << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			issued_s = issued_s << 4 | (uint64_t)(c - 'a' + 10);
		else
			break;
	}
	/* No time, or one too long: the copy cannot match, but there is no point making it. */
	if (nonce[i] != '.')
		return NONCE_FORGED;
	if (auth_nonce(want, sizeof(want), secret, realm, issued_s) != 0 || !equal_ct(want, nonce))
		return NONCE_FORGED;

	if (issued_s > now_s)
		return issued_s - now_s > AUTH_NONCE_SKEW_S ? NONCE_STALE : NONCE_FRESH;
	return now_s - issued_s > nonce_ttl_s ? NONCE_STALE : NONCE_FRESH;
}

/* Judge the credentials for our realm, once sofia has unquoted them. */
static enum auth_verdict check_response(const auth_response_t *ar, const char *method,
					const char *realm, const char *secret, uint64_t now_s,
					unsigned nonce_ttl_s, auth_ha1_h *lookup, void *arg)
{
	char want[HEX_MD5_LEN + 1];
	enum nonce_state nonce;
	const char *ha1;
	bool known;

	if (!ar->ar_username || !ar->ar_nonce || !ar->ar_uri || !ar->ar_response)
		return AUTH_FORBIDDEN;
	if (strlen(ar->ar_username) >= AUTH_USERNAME_MAX)
		return AUTH_FORBIDDEN;
	/* No algorithm means MD5 (RFC 2617 §3.2.1); we offer MD5 only, so MD5-sess is refused. */
	if (ar->ar_algorithm && strcasecmp(ar->ar_algorithm, "MD5") != 0)
		return AUTH_FORBIDDEN;

	nonce = nonce_check(ar->ar_nonce, secret, realm, now_s, nonce_ttl_s);
	if (nonce == NONCE_FORGED)
		return AUTH_FORBIDDEN;

	ha1 = lookup(ar->ar_username, arg);
	known = ha1 != NULL;
	/*
	 * auth_digest() refuses a qop other than "auth" (no auth-int) and qop=auth without the nc
	 * and cnonce RFC 2617 §3.2.2 makes mandatory with it; no qop is the RFC 2069 form. An HA1
	 * that is not 32 characters is a directory fault, refused the same way.
	 */
	if (auth_digest(want, known ? ha1 : unknown_user_ha1, ar->ar_nonce, ar->ar_nc,
			ar->ar_cnonce, ar->ar_qop, method, ar->ar_uri) != 0)
		return AUTH_FORBIDDEN;
	/* Anyone can compute a response on the stand-in HA1: `known` is what refuses it. */
	if (!equal_ct(want, ar->ar_response) || !known)
		return AUTH_FORBIDDEN;

	/* Right response on an old nonce: RFC 2617 §3.2.1 wants a new challenge with stale=true. */
	return nonce == NONCE_STALE ? AUTH_STALE : AUTH_OK;
}

enum auth_verdict auth_check(msg_auth_t const *credentials, const char *method,
			     const char *realm, const char *secret, uint64_t now_s,
			     unsigned nonce_ttl_s, auth_ha1_h *lookup, void *arg,
			     const char **user)
{
	/* The header holds the username quoted; the caller gets an unquoted copy from here. */
	static _Thread_local char username[AUTH_USERNAME_MAX];
	/* auth_digest_response_get() allocates the unquoted parameters; all go at `out`. */
	su_home_t home[1] = { SU_HOME_INIT(home) };
	auth_response_t ar[1];
	enum auth_verdict verdict = AUTH_FORBIDDEN;
	msg_auth_t const *au;

	if (user)
		*user = NULL;
	if (!method || !realm || !secret || !*secret || !lookup)
		return AUTH_FORBIDDEN;

	for (au = credentials; au; au = au->au_next) {
		if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") != 0 || !au->au_params)
			continue;
		memset(ar, 0, sizeof(ar));
		ar->ar_size = (int)sizeof(ar);
		/* Fails only when out of memory: refuse rather than let the request through. */
		if (auth_digest_response_get(home, ar, au->au_params) < 0)
			goto out;
		/* Realms are compared exactly, as strings (RFC 2617 §1.2). */
		if (ar->ar_realm && strcmp(ar->ar_realm, realm) == 0)
			break;
	}
	if (!au) {
		verdict = AUTH_CHALLENGE;
		goto out;
	}

	verdict = check_response(ar, method, realm, secret, now_s, nonce_ttl_s, lookup, arg);
	if (verdict == AUTH_OK || verdict == AUTH_STALE) {
		/* check_response() has checked the length. */
		snprintf(username, sizeof(username), "%s", ar->ar_username);
		if (user)
			*user = username;
	}
out:
	su_home_deinit(home);
	return verdict;
}

int auth_challenge(char *buf, size_t size, const char *secret, const char *realm,
		   uint64_t now_s, bool stale)
{
	static const char head[] = "Digest realm=";
	char nonce[NONCE_MAX_BYTES];
	size_t off = sizeof(head) - 1;
	size_t quoted_len;
	int err, n;

	if (!buf || !secret || !*secret || !realm)
		return EINVAL;

	err = auth_nonce(nonce, sizeof(nonce), secret, realm, now_s);
	if (err)
		goto out;

	/* The realm as a quoted-string, '"' and '\' escaped (RFC 3261 §25.1). */
	quoted_len = (size_t)msg_unquoted_e(NULL, 0, realm);
	if (off + quoted_len >= size) {
		err = ENOSPC;
		goto out;
	}
	memcpy(buf, head, off);
	msg_unquoted_e(buf + off, (isize_t)(size - off), realm);
	off += quoted_len;

	n = snprintf(buf + off, size - off, ", nonce=\"%s\", algorithm=MD5, qop=\"auth\"%s", nonce,
		     stale ? ", stale=true" : "");
	if (n < 0 || (size_t)n >= size - off)
		err = ENOSPC;
out:
	if (err && size > 0)
		buf[0] = '\0';
	return err;
}
