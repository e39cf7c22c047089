/**
 * @file auth.h  SIP digest authentication (RFC 3261 §22.4, RFC 2617 §3 with qop=auth, MD5)
 *               for REGISTER (401 / WWW-Authenticate) and calls from clerks (407 /
 *               Proxy-Authenticate). Pure: the secret and the time are passed in.
 *
 * Nonces are stateless: "<issued seconds, hex>.<MD5(secret ":" issued ":" realm), hex>", so any
 * node sharing the secret checks them and nothing is stored. A nonce older than the TTL is
 * "stale": the credentials are checked, and when right the UA is challenged again with
 * stale=true (RFC 2617 §3.2.1) instead of being refused.
 */
#ifndef DESKLINE_AUTH_H
#define DESKLINE_AUTH_H

#include <sofia-sip/msg_types.h>
#include <sofia-sip/sip.h>

#include "types.h"

/** Longest username auth_check() accepts, in bytes with its NUL. */
#define AUTH_USERNAME_MAX 128

/** How far in the future a nonce may have been issued, in seconds, before it counts as stale. */
#define AUTH_NONCE_SKEW_S 60

/** What to do with a request after checking its credentials. */
enum auth_verdict {
	AUTH_OK = 0,      /**< right username and password, fresh nonce */
	AUTH_CHALLENGE,   /**< no credentials for our realm: answer 401/407 with a challenge */
	AUTH_STALE,       /**< right credentials, expired nonce: challenge with stale=true */
	AUTH_FORBIDDEN,   /**< wrong password, unknown user, forged nonce: answer 403 */
};

/**
 * Look up a user's HA1 = MD5(username ":" realm ":" password) as 32 lower-case hex digits.
 *
 * @return the HA1 (borrowed, valid until the check returns), or NULL for an unknown user.
 */
typedef const char *(auth_ha1_h)(const char *username, void *arg);

/**
 * Compute HA1 from a password (RFC 2617 §3.2.2.2).
 *
 * @param out       receives 32 hex digits and a NUL
 */
void auth_ha1(char out[33], const char *username, const char *realm, const char *password);

/**
 * Compute a digest response (RFC 2617 §3.2.2.1): with @p qop "auth",
 * MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2); without qop (RFC 2069),
 * MD5(HA1 ":" nonce ":" HA2); HA2 = MD5(method ":" uri) in both. Every string is hashed as given
 * (unquoted).
 *
 * @param out     receives 32 lower-case hex digits and a NUL ("" on EINVAL)
 * @param ha1     32 hex digits, as from auth_ha1()
 * @param nonce   the server's nonce
 * @param nc      nonce count, 8 hex digits (needed with @p qop)
 * @param cnonce  client nonce (needed with @p qop)
 * @param qop     "auth" (any case, hashed as given), or NULL for the RFC 2069 form
 * @param method  request method ("REGISTER", "INVITE")
 * @param uri     the digest-uri the client sent
 * @return 0, or EINVAL for a NULL argument, an @p ha1 that is not 32 characters, a @p qop other
 *         than "auth", or @p qop without @p nc and @p cnonce.
 */
int auth_digest(char out[33], const char *ha1, const char *nonce, const char *nc,
		const char *cnonce, const char *qop, const char *method, const char *uri);

/**
 * Make a nonce.
 *
 * @param buf     output
 * @param size    its size in bytes (64 is enough)
 * @param secret  server secret
 * @param realm   realm the nonce is for
 * @param now_s   current time, Unix seconds
 * @return 0, EINVAL (NULL argument, empty secret: anyone could forge its nonces) or ENOSPC.
 */
int auth_nonce(char *buf, size_t size, const char *secret, const char *realm, uint64_t now_s);

/**
 * Write a challenge header value: Digest realm="…", nonce="…", algorithm=MD5, qop="auth"
 * [, stale=true]. A '"' or '\' in the realm is escaped (quoted-string, RFC 3261 §25.1).
 *
 * @return 0, EINVAL (NULL argument, empty secret) or ENOSPC.
 */
int auth_challenge(char *buf, size_t size, const char *secret, const char *realm,
		   uint64_t now_s, bool stale);

/**
 * Check the credentials of a request.
 *
 * @param credentials  the request's Authorization (REGISTER) or Proxy-Authorization (INVITE)
 *                     headers, as sofia-sip parsed them; NULL when there are none
 * @param method       request method ("REGISTER", "INVITE")
 * @param realm        our realm; credentials for other realms are ignored
 * @param secret       server secret the nonces were made with
 * @param now_s        current time, Unix seconds
 * @param nonce_ttl_s  nonce lifetime in seconds
 * @param lookup       finds a user's HA1
 * @param arg          its argument
 * @param user         on AUTH_OK and AUTH_STALE, the username, unquoted; NULL otherwise. It is
 *                     held in a per-thread buffer, valid until the next auth_check() in the same
 *                     thread (the header holds it only quoted, and unquoting needs a copy). May
 *                     be NULL.
 * @return the verdict. AUTH_FORBIDDEN also for a NULL @p method, @p realm, @p secret or
 *         @p lookup, an empty secret, a username of AUTH_USERNAME_MAX bytes or more, and
 *         credentials with qop=auth but no nc or cnonce. A nonce issued more than
 *         AUTH_NONCE_SKEW_S in the future (another node's clock) counts as stale.
 */
enum auth_verdict auth_check(msg_auth_t const *credentials, const char *method,
			     const char *realm, const char *secret, uint64_t now_s,
			     unsigned nonce_ttl_s, auth_ha1_h *lookup, void *arg,
			     const char **user);

#endif
