/**
 * @file test_auth.c  SIP digest authentication (RFC 2617 §3, RFC 3261 §22.4).
 *
 * Expected hashes are the RFCs' own where they give one (RFC 2617 §3.5, RFC 7616 §3.9.1); the
 * others were computed apart from this code, with Python's hashlib, from the strings named next
 * to them. Credentials are real header text parsed by sofia-sip, as the stack hands them over.
 */
#include <errno.h>
#include <string.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#include "unit.h"
#include "deskline/auth.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define REALM "deskline.test"
#define SECRET "s3cret-for-tests"
#define TTL_S 300u
/* 0x6553f100: the time in every nonce below unless said otherwise. */
#define ISSUED_S 1700000000u
#define NOW_S (ISSUED_S + 100u)

/* auth_nonce(SECRET, REALM, ISSUED_S): "6553f100." MD5("s3cret-for-tests:6553f100:deskline.test") */
#define NONCE "6553f100.f9e204edf7fe885ec0421b872499ed02"
/* The same, issued 1000 s earlier (0x6553ed18): stale at NOW_S. */
#define NONCE_OLD "6553ed18.e7f2ab36182120c2db7ac136f8efc7a0"
/* Issued at ISSUED_S with the secret "another-secret". */
#define NONCE_OTHER_SECRET "6553f100.f662a4e022056c446e0292158c8b9a56"
/* Issued at ISSUED_S for the realm "other.test". */
#define NONCE_OTHER_REALM "6553f100.cea9150d35b87b1a175872288eb0025b"

/* ---- the user directory ------------------------------------------------------------------- */

struct user {
	const char *name;
	const char *ha1;
};

static const struct user users[] = {
	/* MD5("1001:deskline.test:pass1001") */
	{ "1001", "41ed4f879742ec94b7a492c9e522addf" },
	/* MD5("clerk7:deskline.test:Correct Horse") */
	{ "clerk7", "210626fc93e5d1dc3cae94bdf364e875" },
	/* MD5("cl\"erk:deskline.test:q"): a username that needs a quoted-pair in the header */
	{ "cl\"erk", "f79979017cfe3b093a144809fbf626f9" },
	/* The right HA1 of "1001" in upper case: not what the directory promises, so refused. */
	{ "upper", "41ED4F879742EC94B7A492C9E522ADDF" },
	/* A directory fault: 31 digits. */
	{ "short", "41ed4f879742ec94b7a492c9e522add" },
	{ NULL, NULL },
};

static const char *lookup(const char *username, void *arg)
{
	for (const struct user *u = arg; u->name; u++) {
		if (strcmp(u->name, username) == 0)
			return u->ha1;
	}
	return NULL;
}

/* ---- auth_ha1 ----------------------------------------------------------------------------- */

struct ha1_case {
	const char *username, *realm, *password;
	const char *want;
};

static const struct ha1_case ha1_cases[] = {
	/* RFC 2617 §3.5: the A1 of Mufasa */
	{ "Mufasa", "testrealm@host.com", "Circle Of Life", "939e7578ed9e3c518a452acee763bce9" },
	/* RFC 7616 §3.9.1 (MD5): MD5("Mufasa:http-auth@example.org:Circle of Life") */
	{ "Mufasa", "http-auth@example.org", "Circle of Life", "3d78807defe7de2157e2b0b6573a855f" },
	{ "1001", REALM, "pass1001", "41ed4f879742ec94b7a492c9e522addf" },
	/* MD5("::") */
	{ "", "", "", "4501c091b0366d76ea3218b6cfdd8097" },
	/* UTF-8 bytes are hashed as they are: MD5("Şule:deskline.test:pa:ss wörd") */
	{ "\xc5\x9eule", REALM, "pa:ss w\xc3\xb6rd", "5c9886efe6121b7ce8f9d1bb3ab43095" },
	/* A realm starting with '"' keeps it: MD5("u:\"r\":p"), where sofia's auth_digest_ha1()
	 * would drop the quotes and give MD5("u:r:p") = 44add22b6f3179b751eafd68ee370f7d. */
	{ "u", "\"r\"", "p", "71a86e062bfe5a43a0b178d78e0bcabd" },
};

START_TEST(test_ha1)
{
	const struct ha1_case *c = &ha1_cases[_i];
	char out[33];

	memset(out, 'x', sizeof(out));
	auth_ha1(out, c->username, c->realm, c->password);
	ck_assert_str_eq(out, c->want);
}
END_TEST

/* ---- auth_digest -------------------------------------------------------------------------- */

struct digest_case {
	const char *name;
	const char *ha1, *nonce, *nc, *cnonce, *qop, *method, *uri;
	int err;
	const char *want;   /* "" on error */
};

#define MUFASA_HA1 "939e7578ed9e3c518a452acee763bce9"
#define MUFASA_NONCE "dcd98b7102dd2f0e8b11d0f600bfb0c093"
#define HA1_1001 "41ed4f879742ec94b7a492c9e522addf"

static const struct digest_case digest_cases[] = {
	{ "RFC 2617 §3.5", MUFASA_HA1, MUFASA_NONCE, "00000001", "0a4f113b", "auth", "GET",
	  "/dir/index.html", 0, "6629fae49393a05397450978507c4ef1" },
	{ "RFC 7616 §3.9.1, MD5", "3d78807defe7de2157e2b0b6573a855f",
	  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
	  "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth", "GET", "/dir/index.html", 0,
	  "8ca523f5e9506fed4657c9700eebdbec" },
	/* RFC 2069 form: MD5(HA1:nonce:HA2); nc and cnonce are not hashed without qop. */
	{ "RFC 2069 form", MUFASA_HA1, MUFASA_NONCE, NULL, NULL, NULL, "GET", "/dir/index.html", 0,
	  "670fd8c2df070c60b045671b8b24ff02" },
	{ "RFC 2069 form ignores nc, cnonce", MUFASA_HA1, MUFASA_NONCE, "00000001", "0a4f113b",
	  NULL, "GET", "/dir/index.html", 0, "670fd8c2df070c60b045671b8b24ff02" },
	/* An unquoted cnonce of '"x' is hashed as '"x' (sofia's auth_digest_response() would
	 * drop the quote and give bf1cf6a783ef837f9b983d4f7b2413e0). */
	{ "cnonce starting with a quote", MUFASA_HA1, MUFASA_NONCE, "00000001", "\"x", "auth",
	  "GET", "/dir/index.html", 0, "930d9b61a4738a7f360a0f5ee3d23432" },
	{ "REGISTER, qop=auth", HA1_1001, NONCE, "00000001", "c0ffee01", "auth", "REGISTER",
	  "sip:deskline.test", 0, "80882a270e5c81b6bf383e18479b5bb2" },
	{ "qop AUTH is hashed as sent", HA1_1001, NONCE, "00000001", "c0ffee01", "AUTH",
	  "REGISTER", "sip:deskline.test", 0, "f0eeba60e0630976d49fe360683f3514" },
	{ "INVITE", "210626fc93e5d1dc3cae94bdf364e875", NONCE, "00000001", "c0ffee01", "auth",
	  "INVITE", "sip:200@deskline.test", 0, "a87d27783f2823938da566240eac33c3" },
	{ "qop=auth-int", MUFASA_HA1, MUFASA_NONCE, "00000001", "0a4f113b", "auth-int", "GET",
	  "/dir/index.html", EINVAL, "" },
	{ "qop without nc", MUFASA_HA1, MUFASA_NONCE, NULL, "0a4f113b", "auth", "GET",
	  "/dir/index.html", EINVAL, "" },
	{ "qop without cnonce", MUFASA_HA1, MUFASA_NONCE, "00000001", NULL, "auth", "GET",
	  "/dir/index.html", EINVAL, "" },
	{ "HA1 of 31 digits", "939e7578ed9e3c518a452acee763bce", MUFASA_NONCE, "00000001",
	  "0a4f113b", "auth", "GET", "/dir/index.html", EINVAL, "" },
	{ "HA1 of 33 digits", MUFASA_HA1 "0", MUFASA_NONCE, "00000001", "0a4f113b", "auth", "GET",
	  "/dir/index.html", EINVAL, "" },
	{ "no HA1", NULL, MUFASA_NONCE, NULL, NULL, NULL, "GET", "/dir/index.html", EINVAL, "" },
	{ "no nonce", MUFASA_HA1, NULL, NULL, NULL, NULL, "GET", "/dir/index.html", EINVAL, "" },
	{ "no method", MUFASA_HA1, MUFASA_NONCE, NULL, NULL, NULL, NULL, "/dir/index.html",
	  EINVAL, "" },
	{ "no uri", MUFASA_HA1, MUFASA_NONCE, NULL, NULL, NULL, "GET", NULL, EINVAL, "" },
};

START_TEST(test_digest)
{
	const struct digest_case *c = &digest_cases[_i];
	char out[33];

	memset(out, 'x', sizeof(out));
	ck_assert_msg(auth_digest(out, c->ha1, c->nonce, c->nc, c->cnonce, c->qop, c->method,
				  c->uri) == c->err, "%s: wrong error", c->name);
	ck_assert_msg(strcmp(out, c->want) == 0, "%s: got %s", c->name, out);
}
END_TEST

START_TEST(test_digest_null_out)
{
	ck_assert_int_eq(auth_digest(NULL, MUFASA_HA1, MUFASA_NONCE, NULL, NULL, NULL, "GET", "/"),
			 EINVAL);
}
END_TEST

/* ---- auth_nonce --------------------------------------------------------------------------- */

struct nonce_case {
	const char *name;
	const char *secret, *realm;
	uint64_t now_s;
	size_t size;
	int err;
	const char *want;
};

static const struct nonce_case nonce_cases[] = {
	{ "now", SECRET, REALM, ISSUED_S, 64, 0, NONCE },
	{ "1000 s earlier", SECRET, REALM, ISSUED_S - 1000, 64, 0, NONCE_OLD },
	{ "other realm", SECRET, "other.test", ISSUED_S, 64, 0, NONCE_OTHER_REALM },
	{ "other secret", "another-secret", REALM, ISSUED_S, 64, 0, NONCE_OTHER_SECRET },
	/* MD5("s3cret-for-tests:0:deskline.test") */
	{ "time 0", SECRET, REALM, 0, 64, 0, "0.affb724e36fc973679b1788f518fe7e4" },
	/* The longest: 16 + 1 + 32 characters and a NUL, exactly 50 bytes. */
	{ "largest time, exact fit", SECRET, REALM, UINT64_MAX, 50, 0,
	  "ffffffffffffffff.a58c0a0d53cf05e1b6ae94db8959da80" },
	{ "largest time, one byte short", SECRET, REALM, UINT64_MAX, 49, ENOSPC, "" },
	{ "exact fit", SECRET, REALM, ISSUED_S, 42, 0, NONCE },
	{ "one byte short", SECRET, REALM, ISSUED_S, 41, ENOSPC, "" },
	{ "no secret", NULL, REALM, ISSUED_S, 64, EINVAL, "unchanged" },
	{ "empty secret", "", REALM, ISSUED_S, 64, EINVAL, "unchanged" },
	{ "no realm", SECRET, NULL, ISSUED_S, 64, EINVAL, "unchanged" },
};

START_TEST(test_nonce)
{
	const struct nonce_case *c = &nonce_cases[_i];
	char buf[64] = "unchanged";

	ck_assert_msg(auth_nonce(buf, c->size, c->secret, c->realm, c->now_s) == c->err,
		      "%s: wrong error", c->name);
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got %s", c->name, buf);
}
END_TEST

START_TEST(test_nonce_null_buf)
{
	ck_assert_int_eq(auth_nonce(NULL, 64, SECRET, REALM, ISSUED_S), EINVAL);
}
END_TEST

/* ---- auth_challenge ----------------------------------------------------------------------- */

struct challenge_case {
	const char *name;
	const char *realm;
	bool stale;
	size_t size;
	int err;
	const char *want;
	const char *nonce;    /* what the header's nonce must be, when err == 0 */
};

#define CHALLENGE_TEXT "Digest realm=\"deskline.test\", nonce=\"" NONCE "\", algorithm=MD5, qop=\"auth\""
/* auth_nonce(SECRET, "desk\"line\\test", ISSUED_S): the nonce is made on the raw realm. */
#define NONCE_ESCAPED_REALM "6553f100.e88f60b82c1ecc7d969847fb5dd13291"

static const struct challenge_case challenge_cases[] = {
	{ "fresh", REALM, false, 256, 0, CHALLENGE_TEXT, NONCE },
	{ "stale", REALM, true, 256, 0, CHALLENGE_TEXT ", stale=true", NONCE },
	{ "realm with quote and backslash", "desk\"line\\test", false, 256, 0,
	  "Digest realm=\"desk\\\"line\\\\test\", nonce=\"" NONCE_ESCAPED_REALM
	  "\", algorithm=MD5, qop=\"auth\"", NONCE_ESCAPED_REALM },
	{ "exact fit", REALM, false, sizeof(CHALLENGE_TEXT), 0, CHALLENGE_TEXT, NONCE },
	{ "one byte short", REALM, false, sizeof(CHALLENGE_TEXT) - 1, ENOSPC, "", NULL },
	{ "stale, exact fit", REALM, true, sizeof(CHALLENGE_TEXT ", stale=true"), 0,
	  CHALLENGE_TEXT ", stale=true", NONCE },
	{ "stale, one byte short", REALM, true, sizeof(CHALLENGE_TEXT ", stale=true") - 1, ENOSPC,
	  "", NULL },
	{ "no room for the realm", REALM, false, 20, ENOSPC, "", NULL },
	{ "no room at all", REALM, false, 1, ENOSPC, "", NULL },
	{ "no realm", NULL, false, 256, EINVAL, "unchanged", NULL },
};

START_TEST(test_challenge)
{
	const struct challenge_case *c = &challenge_cases[_i];
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char buf[256] = "unchanged";
	auth_challenge_t ac[1] = { { .ac_size = (int)sizeof(ac) } };
	msg_auth_t *www, *proxy;

	ck_assert_msg(auth_challenge(buf, c->size, SECRET, c->realm, ISSUED_S, c->stale) == c->err,
		      "%s: wrong error", c->name);
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got %s", c->name, buf);
	if (c->err) {
		su_home_deinit(home);
		return;
	}

	/* What a UA reads back, through sofia's own parsers for both headers. */
	www = sip_www_authenticate_make(home, buf);
	proxy = sip_proxy_authenticate_make(home, buf);
	ck_assert_ptr_nonnull(www);
	ck_assert_ptr_nonnull(proxy);
	ck_assert_str_eq(www->au_scheme, "Digest");
	ck_assert_int_eq(msg_params_cmp(www->au_params, proxy->au_params), 0);
	ck_assert_int_ge(auth_digest_challenge_get(home, ac, www->au_params), 4);
	ck_assert_str_eq(ac->ac_realm, c->realm);
	ck_assert_str_eq(ac->ac_nonce, c->nonce);
	ck_assert_str_eq(ac->ac_algorithm, "MD5");
	ck_assert_str_eq(ac->ac_qop, "auth");
	ck_assert_uint_eq(ac->ac_md5, 1);
	ck_assert_uint_eq(ac->ac_md5sess, 0);
	ck_assert_uint_eq(ac->ac_auth, 1);
	ck_assert_uint_eq(ac->ac_auth_int, 0);
	ck_assert_uint_eq(ac->ac_stale, c->stale);
	su_home_deinit(home);
}
END_TEST

START_TEST(test_challenge_bad_args)
{
	char buf[256] = "unchanged";

	ck_assert_int_eq(auth_challenge(NULL, 256, SECRET, REALM, ISSUED_S, false), EINVAL);
	ck_assert_int_eq(auth_challenge(buf, sizeof(buf), NULL, REALM, ISSUED_S, false), EINVAL);
	ck_assert_int_eq(auth_challenge(buf, sizeof(buf), "", REALM, ISSUED_S, false), EINVAL);
	ck_assert_str_eq(buf, "unchanged");
}
END_TEST

/* ---- auth_check on header text ------------------------------------------------------------ */

/* Credentials of "1001" for REGISTER, as a UA writes them after a challenge with NONCE. */
#define REG_HEAD(user, realm, nonce) \
	"Digest username=\"" user "\", realm=\"" realm "\", nonce=\"" nonce "\", uri=\"sip:deskline.test\""
#define QOP ", qop=auth, nc=00000001, cnonce=\"c0ffee01\""
#define RESP(r) ", response=\"" r "\""

/* MD5(HA1_1001:NONCE:00000001:c0ffee01:auth:MD5("REGISTER:sip:deskline.test")) */
#define R_1001 "80882a270e5c81b6bf383e18479b5bb2"
/* The same with the password "pass1002" */
#define R_1001_WRONG "4bf0ffe49131d38a157b579f1ccc746c"
/* RFC 2069 form: MD5(HA1_1001:NONCE:MD5("REGISTER:sip:deskline.test")) */
#define R_1001_2069 "fa68eabc039da78381ff57f110350842"
/* qop "AUTH" hashed as sent */
#define R_1001_QOP_UPPER "f0eeba60e0630976d49fe360683f3514"
/* "1009" with "pass1009": a user the directory does not know */
#define R_UNKNOWN "2fefa59551481359bf3f1a1e45c63d52"
/* On NONCE_OLD, right and wrong ("pass1002") password */
#define R_1001_OLD "ad23df21802e5202cebb8bacc43a8fa9"
#define R_1001_OLD_WRONG "a17bf5d9256680e84857b26852170cd6"
/* On NONCE_OTHER_SECRET, right password */
#define R_1001_FORGED "38b66150b96ea301174689bceead95d5"
/* MD5-sess (RFC 2617 §3.2.2.2), right password: HA1' = MD5(HA1_1001:NONCE:c0ffee01) */
#define R_1001_MD5SESS "ac34499b52caef06adf14bb5618f5355"
/* For REGISTER but computed with HA1 over the realm "other.test" */
#define R_1001_OTHER_REALM "e2f4a390a8d4dcff599ac1597b1c1fe9"
/* "1001" with method INVITE instead of REGISTER */
#define R_1001_AS_INVITE "9cba4c53523504fbeca5ddcd44432659"
/* "1009" on an HA1 of 32 zeros: the guess of someone who knows how unknown users are handled */
#define R_ZERO_HA1 "733354cd0f6610416db09c8c0c385aaa"
/* cl"erk with password "q" */
#define R_QUOTED_USER "5e7394cbe8de0b507481933bbd7e8871"

/* clerk7 ("Correct Horse") calling 200: INVITE sip:200@deskline.test */
#define INV_HEAD(realm) \
	"Digest username=\"clerk7\", realm=\"" realm "\", nonce=\"" NONCE "\", uri=\"sip:200@deskline.test\""
#define R_CLERK7 "a87d27783f2823938da566240eac33c3"
/* The same credentials computed for REGISTER */
#define R_CLERK7_AS_REGISTER "fd01deb55ce4a09609ae38c0d6dcef9d"

struct check_case {
	const char *name;
	bool proxy;              /* Proxy-Authorization rather than Authorization */
	const char *method;
	uint64_t now_s;
	const char *headers[3];  /* linked in this order */
	enum auth_verdict verdict;
	const char *user;        /* NULL when none is expected */
};

#define REG_OK REG_HEAD("1001", REALM, NONCE) QOP RESP(R_1001)

static const struct check_case check_cases[] = {
	{ "no credentials", false, "REGISTER", NOW_S, { NULL }, AUTH_CHALLENGE, NULL },
	{ "other realm only", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", "other.test", NONCE) QOP RESP(R_1001_OTHER_REALM) },
	  AUTH_CHALLENGE, NULL },
	{ "realm differs in case only", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", "Deskline.test", NONCE) QOP RESP(R_1001) }, AUTH_CHALLENGE, NULL },
	{ "no realm", false, "REGISTER", NOW_S,
	  { "Digest username=\"1001\", nonce=\"" NONCE "\", uri=\"sip:deskline.test\"" QOP
	    RESP(R_1001) }, AUTH_CHALLENGE, NULL },
	{ "Basic only", false, "REGISTER", NOW_S, { "Basic MTAwMTpwYXNzMTAwMQ==" },
	  AUTH_CHALLENGE, NULL },
	{ "other scheme with Digest's parameters", false, "REGISTER", NOW_S,
	  { "Digestive username=\"1001\", realm=\"" REALM "\", nonce=\"" NONCE
	    "\", uri=\"sip:deskline.test\"" QOP RESP(R_1001) }, AUTH_CHALLENGE, NULL },
	{ "right password", false, "REGISTER", NOW_S, { REG_OK }, AUTH_OK, "1001" },
	{ "right password, algorithm=MD5", false, "REGISTER", NOW_S,
	  { REG_OK ", algorithm=MD5" }, AUTH_OK, "1001" },
	{ "right password, algorithm=md5", false, "REGISTER", NOW_S,
	  { REG_OK ", algorithm=md5" }, AUTH_OK, "1001" },
	{ "scheme in lower case", false, "REGISTER", NOW_S,
	  { "digest username=\"1001\", realm=\"" REALM "\", nonce=\"" NONCE
	    "\", uri=\"sip:deskline.test\"" QOP RESP(R_1001) }, AUTH_OK, "1001" },
	{ "qop quoted", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) ", qop=\"auth\", nc=00000001, cnonce=\"c0ffee01\""
	    RESP(R_1001) }, AUTH_OK, "1001" },
	{ "qop in upper case", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) ", qop=AUTH, nc=00000001, cnonce=\"c0ffee01\""
	    RESP(R_1001_QOP_UPPER) }, AUTH_OK, "1001" },
	{ "RFC 2069, no qop", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) RESP(R_1001_2069) }, AUTH_OK, "1001" },
	{ "username with a quoted-pair", false, "REGISTER", NOW_S,
	  { REG_HEAD("cl\\\"erk", REALM, NONCE) QOP RESP(R_QUOTED_USER) }, AUTH_OK, "cl\"erk" },
	{ "wrong password", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) QOP RESP(R_1001_WRONG) }, AUTH_FORBIDDEN, NULL },
	{ "RFC 2069 response with qop", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) QOP RESP(R_1001_2069) }, AUTH_FORBIDDEN, NULL },
	{ "qop=auth response without qop", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) RESP(R_1001) }, AUTH_FORBIDDEN, NULL },
	{ "response in upper case", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) QOP RESP("80882A270E5C81B6BF383E18479B5BB2") },
	  AUTH_FORBIDDEN, NULL },
	{ "response cut short", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) QOP RESP("80882a270e5c81b6bf383e18479b5bb") },
	  AUTH_FORBIDDEN, NULL },
	{ "unknown user", false, "REGISTER", NOW_S,
	  { REG_HEAD("1009", REALM, NONCE) QOP RESP(R_UNKNOWN) }, AUTH_FORBIDDEN, NULL },
	{ "unknown user, response on an HA1 of zeros", false, "REGISTER", NOW_S,
	  { REG_HEAD("1009", REALM, NONCE) QOP RESP(R_ZERO_HA1) }, AUTH_FORBIDDEN, NULL },
	{ "short HA1 from the directory", false, "REGISTER", NOW_S,
	  { REG_HEAD("short", REALM, NONCE) QOP RESP(R_1001) }, AUTH_FORBIDDEN, NULL },
	{ "HA1 in upper case from the directory", false, "REGISTER", NOW_S,
	  { REG_HEAD("upper", REALM, NONCE) QOP RESP(R_1001) }, AUTH_FORBIDDEN, NULL },
	{ "stale nonce, right password", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE_OLD) QOP RESP(R_1001_OLD) }, AUTH_STALE, "1001" },
	{ "stale nonce, wrong password", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE_OLD) QOP RESP(R_1001_OLD_WRONG) }, AUTH_FORBIDDEN, NULL },
	{ "nonce made with another secret", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE_OTHER_SECRET) QOP RESP(R_1001_FORGED) },
	  AUTH_FORBIDDEN, NULL },
	{ "MD5-sess", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) QOP RESP(R_1001_MD5SESS) ", algorithm=MD5-sess" },
	  AUTH_FORBIDDEN, NULL },
	{ "MD5-sess label on an MD5 response", false, "REGISTER", NOW_S,
	  { REG_OK ", algorithm=MD5-sess" }, AUTH_FORBIDDEN, NULL },
	{ "SHA-256", false, "REGISTER", NOW_S, { REG_OK ", algorithm=SHA-256" },
	  AUTH_FORBIDDEN, NULL },
	{ "qop=auth-int", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) ", qop=auth-int, nc=00000001, cnonce=\"c0ffee01\""
	    RESP(R_1001) }, AUTH_FORBIDDEN, NULL },
	{ "no username", false, "REGISTER", NOW_S,
	  { "Digest realm=\"" REALM "\", nonce=\"" NONCE "\", uri=\"sip:deskline.test\"" QOP
	    RESP(R_1001) }, AUTH_FORBIDDEN, NULL },
	{ "no nonce", false, "REGISTER", NOW_S,
	  { "Digest username=\"1001\", realm=\"" REALM "\", uri=\"sip:deskline.test\"" QOP
	    RESP(R_1001) }, AUTH_FORBIDDEN, NULL },
	{ "no uri", false, "REGISTER", NOW_S,
	  { "Digest username=\"1001\", realm=\"" REALM "\", nonce=\"" NONCE "\"" QOP RESP(R_1001) },
	  AUTH_FORBIDDEN, NULL },
	{ "no response", false, "REGISTER", NOW_S, { REG_HEAD("1001", REALM, NONCE) QOP },
	  AUTH_FORBIDDEN, NULL },
	{ "qop without nc", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) ", qop=auth, cnonce=\"c0ffee01\"" RESP(R_1001) },
	  AUTH_FORBIDDEN, NULL },
	{ "qop without cnonce", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) ", qop=auth, nc=00000001" RESP(R_1001) },
	  AUTH_FORBIDDEN, NULL },
	{ "other realm first, ours second", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", "other.test", NONCE_OTHER_REALM) QOP RESP(R_1001_WRONG), REG_OK },
	  AUTH_OK, "1001" },
	{ "Basic first, ours second", false, "REGISTER", NOW_S,
	  { "Basic MTAwMTpwYXNzMTAwMQ==", REG_OK }, AUTH_OK, "1001" },
	{ "ours wrong first, ours right second: the first decides", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) QOP RESP(R_1001_WRONG), REG_OK }, AUTH_FORBIDDEN, NULL },
	{ "INVITE, right password", true, "INVITE", NOW_S,
	  { INV_HEAD(REALM) QOP RESP(R_CLERK7) }, AUTH_OK, "clerk7" },
	{ "INVITE, other realm first", true, "INVITE", NOW_S,
	  { INV_HEAD("other.test") QOP RESP(R_CLERK7), INV_HEAD(REALM) QOP RESP(R_CLERK7) },
	  AUTH_OK, "clerk7" },
	{ "INVITE with a response computed for REGISTER", true, "INVITE", NOW_S,
	  { INV_HEAD(REALM) QOP RESP(R_CLERK7_AS_REGISTER) }, AUTH_FORBIDDEN, NULL },
	{ "REGISTER with a response computed for INVITE", false, "REGISTER", NOW_S,
	  { REG_HEAD("1001", REALM, NONCE) QOP RESP(R_1001_AS_INVITE) }, AUTH_FORBIDDEN, NULL },
	{ "INVITE credentials replayed on a REGISTER", false, "REGISTER", NOW_S,
	  { INV_HEAD(REALM) QOP RESP(R_CLERK7) }, AUTH_FORBIDDEN, NULL },
	{ "no method", false, NULL, NOW_S, { REG_OK }, AUTH_FORBIDDEN, NULL },
};

/* Parse each header text as sofia does and link them the way a message holds them. */
static msg_auth_t *make_credentials(su_home_t *home, bool proxy, const char *const texts[],
				    size_t count)
{
	msg_auth_t *first = NULL, **tail = &first;

	for (size_t i = 0; i < count && texts[i]; i++) {
		msg_auth_t *au = proxy ? sip_proxy_authorization_make(home, texts[i])
				       : sip_authorization_make(home, texts[i]);

		ck_assert_msg(au != NULL, "sofia did not parse %s", texts[i]);
		*tail = au;
		tail = &au->au_next;
	}
	return first;
}

START_TEST(test_check)
{
	const struct check_case *c = &check_cases[_i];
	su_home_t home[1] = { SU_HOME_INIT(home) };
	msg_auth_t *cred = make_credentials(home, c->proxy, c->headers, ARRAY_SIZE(c->headers));
	const char *user = "unchanged";
	enum auth_verdict v;

	v = auth_check(cred, c->method, REALM, SECRET, c->now_s, TTL_S, lookup, (void *)users,
		       &user);
	ck_assert_msg(v == c->verdict, "%s: verdict %d, want %d", c->name, v, c->verdict);
	if (c->user)
		ck_assert_msg(user && strcmp(user, c->user) == 0, "%s: user %s", c->name,
			      user ? user : "(null)");
	else
		ck_assert_msg(user == NULL, "%s: user %s", c->name, user);

	/* The same without asking for the username. */
	ck_assert_int_eq(auth_check(cred, c->method, REALM, SECRET, c->now_s, TTL_S, lookup,
				    (void *)users, NULL), c->verdict);
	su_home_deinit(home);
}
END_TEST

/* Every argument auth_check() needs, each missing in turn, on credentials that are right. */
START_TEST(test_check_bad_args)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	const char *texts[] = { REG_OK };
	msg_auth_t *cred = make_credentials(home, false, texts, 1);
	const char *user = "unchanged";

	ck_assert_int_eq(auth_check(cred, "REGISTER", REALM, SECRET, NOW_S, TTL_S, lookup,
				    (void *)users, &user), AUTH_OK);
	ck_assert_int_eq(auth_check(cred, "REGISTER", NULL, SECRET, NOW_S, TTL_S, lookup,
				    (void *)users, &user), AUTH_FORBIDDEN);
	ck_assert_ptr_null(user);
	ck_assert_int_eq(auth_check(cred, "REGISTER", REALM, NULL, NOW_S, TTL_S, lookup,
				    (void *)users, &user), AUTH_FORBIDDEN);
	ck_assert_int_eq(auth_check(cred, "REGISTER", REALM, "", NOW_S, TTL_S, lookup,
				    (void *)users, &user), AUTH_FORBIDDEN);
	ck_assert_int_eq(auth_check(cred, "REGISTER", REALM, SECRET, NOW_S, TTL_S, NULL,
				    (void *)users, &user), AUTH_FORBIDDEN);
	ck_assert_ptr_null(user);
	su_home_deinit(home);
}
END_TEST

/* ---- nonces, through auth_check with the right password ------------------------------------ */

/*
 * Each nonce is answered with the right response for it (auth_digest(), pinned by the RFC
 * vectors above), so the nonce alone decides the verdict.
 */
struct nonce_check_case {
	const char *name;
	const char *nonce;
	uint64_t now_s;
	enum auth_verdict verdict;
};

static const struct nonce_check_case nonce_check_cases[] = {
	{ "fresh", NONCE, NOW_S, AUTH_OK },
	{ "just issued", NONCE, ISSUED_S, AUTH_OK },
	{ "exactly the TTL old", NONCE, ISSUED_S + TTL_S, AUTH_OK },
	{ "one second past the TTL", NONCE, ISSUED_S + TTL_S + 1, AUTH_STALE },
	{ "long expired", NONCE_OLD, NOW_S, AUTH_STALE },
	{ "issued the allowed skew ahead", NONCE, ISSUED_S - AUTH_NONCE_SKEW_S, AUTH_OK },
	{ "issued past the allowed skew ahead", NONCE, ISSUED_S - AUTH_NONCE_SKEW_S - 1,
	  AUTH_STALE },
	{ "time 0", "0.affb724e36fc973679b1788f518fe7e4", TTL_S, AUTH_OK },
	{ "largest time, clock far behind", "ffffffffffffffff.a58c0a0d53cf05e1b6ae94db8959da80",
	  NOW_S, AUTH_STALE },
	{ "tampered hash", "6553f100.f9e204edf7fe885ec0421b872499ed03", NOW_S, AUTH_FORBIDDEN },
	{ "hash cut short", "6553f100.f9e204edf7fe885ec0421b872499ed0", NOW_S, AUTH_FORBIDDEN },
	{ "hash one digit longer", NONCE "0", NOW_S, AUTH_FORBIDDEN },
	{ "hash in upper case", "6553f100.F9E204EDF7FE885EC0421B872499ED02", NOW_S,
	  AUTH_FORBIDDEN },
	{ "tampered time", "6553f101.f9e204edf7fe885ec0421b872499ed02", NOW_S, AUTH_FORBIDDEN },
	{ "time moved to now", "6553f164.f9e204edf7fe885ec0421b872499ed02", NOW_S,
	  AUTH_FORBIDDEN },
	{ "time in upper case", "6553F100.f9e204edf7fe885ec0421b872499ed02", NOW_S,
	  AUTH_FORBIDDEN },
	{ "time with a leading zero", "06553f100.f9e204edf7fe885ec0421b872499ed02", NOW_S,
	  AUTH_FORBIDDEN },
	{ "time zero-padded to 16 digits", "000000006553f100.f9e204edf7fe885ec0421b872499ed02",
	  NOW_S, AUTH_FORBIDDEN },
	{ "time of 17 digits", "0000000006553f100.f9e204edf7fe885ec0421b872499ed02", NOW_S,
	  AUTH_FORBIDDEN },
	{ "other realm", NONCE_OTHER_REALM, NOW_S, AUTH_FORBIDDEN },
	{ "other secret", NONCE_OTHER_SECRET, NOW_S, AUTH_FORBIDDEN },
	{ "RFC 2617 example nonce", MUFASA_NONCE, NOW_S, AUTH_FORBIDDEN },
	{ "empty", "", NOW_S, AUTH_FORBIDDEN },
	{ "a dot", ".", NOW_S, AUTH_FORBIDDEN },
	{ "no time", ".f9e204edf7fe885ec0421b872499ed02", NOW_S, AUTH_FORBIDDEN },
	{ "no hash", "6553f100.", NOW_S, AUTH_FORBIDDEN },
	{ "no dot", "6553f100f9e204edf7fe885ec0421b872499ed02", NOW_S, AUTH_FORBIDDEN },
	{ "garbage", "zz!?", NOW_S, AUTH_FORBIDDEN },
};

/* Credentials of @p username with @p password on @p nonce, with the right response for them. */
static msg_auth_t *answer(su_home_t *home, const char *username, const char *password,
			  const char *nonce)
{
	char ha1[33], response[33];
	char *text;
	msg_auth_t *au;

	auth_ha1(ha1, username, REALM, password);
	ck_assert_int_eq(auth_digest(response, ha1, nonce, "00000001", "c0ffee01", "auth",
				     "REGISTER", "sip:deskline.test"), 0);
	text = su_sprintf(home, "Digest username=\"%s\", realm=\"" REALM "\", nonce=\"%s\", "
			  "uri=\"sip:deskline.test\", response=\"%s\"" QOP, username, nonce,
			  response);
	ck_assert_ptr_nonnull(text);
	au = sip_authorization_make(home, text);
	ck_assert_ptr_nonnull(au);
	return au;
}

START_TEST(test_nonce_check)
{
	const struct nonce_check_case *c = &nonce_check_cases[_i];
	su_home_t home[1] = { SU_HOME_INIT(home) };
	msg_auth_t *cred = answer(home, "1001", "pass1001", c->nonce);
	const char *user = "unchanged";
	enum auth_verdict v;

	v = auth_check(cred, "REGISTER", REALM, SECRET, c->now_s, TTL_S, lookup, (void *)users,
		       &user);
	ck_assert_msg(v == c->verdict, "%s: verdict %d, want %d", c->name, v, c->verdict);
	if (v == AUTH_OK || v == AUTH_STALE)
		ck_assert_str_eq(user, "1001");
	else
		ck_assert_ptr_null(user);
	su_home_deinit(home);
}
END_TEST

/* The longest username is AUTH_USERNAME_MAX - 1 bytes; one more is refused, even if known. */
START_TEST(test_check_username_length)
{
	static const size_t lens[] = { AUTH_USERNAME_MAX - 1, AUTH_USERNAME_MAX };
	static const enum auth_verdict want[] = { AUTH_OK, AUTH_FORBIDDEN };
	su_home_t home[1] = { SU_HOME_INIT(home) };

	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		char name[AUTH_USERNAME_MAX + 1], ha1[33];
		struct user dir[2] = { { name, ha1 }, { NULL, NULL } };
		const char *user = "unchanged";
		msg_auth_t *cred;

		memset(name, 'u', lens[i]);
		name[lens[i]] = '\0';
		auth_ha1(ha1, name, REALM, "long");
		cred = answer(home, name, "long", NONCE);
		ck_assert_int_eq(auth_check(cred, "REGISTER", REALM, SECRET, NOW_S, TTL_S, lookup,
					    dir, &user), want[i]);
		if (want[i] == AUTH_OK)
			ck_assert_str_eq(user, name);
		else
			ck_assert_ptr_null(user);
	}
	su_home_deinit(home);
}
END_TEST

/* ---- auth_check on whole messages --------------------------------------------------------- */

#define CRLF "\r\n"
#define REGISTER_MSG(auth) \
	"REGISTER sip:deskline.test SIP/2.0" CRLF \
	"Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK776asdhds" CRLF \
	"Max-Forwards: 70" CRLF \
	"To: <sip:1001@deskline.test>" CRLF \
	"From: <sip:1001@deskline.test>;tag=1928301774" CRLF \
	"Call-ID: a84b4c76e66710@192.0.2.20" CRLF \
	"CSeq: 2 REGISTER" CRLF \
	"Contact: <sip:1001@192.0.2.20:5060>" CRLF \
	auth \
	"Content-Length: 0" CRLF CRLF
#define INVITE_MSG(auth) \
	"INVITE sip:200@deskline.test SIP/2.0" CRLF \
	"Via: SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bKnashds8" CRLF \
	"Max-Forwards: 70" CRLF \
	"To: <sip:200@deskline.test>" CRLF \
	"From: <sip:clerk7@deskline.test>;tag=1928301774" CRLF \
	"Call-ID: 3848276298220188511@192.0.2.30" CRLF \
	"CSeq: 2 INVITE" CRLF \
	"Contact: <sip:clerk7@192.0.2.30:5060>" CRLF \
	auth \
	"Content-Length: 0" CRLF CRLF

struct message_case {
	const char *name;
	const char *text;
	bool proxy;            /* check Proxy-Authorization rather than Authorization */
	const char *method;
	enum auth_verdict verdict;
	const char *user;
};

static const struct message_case message_cases[] = {
	{ "REGISTER, other realm first",
	  REGISTER_MSG("Authorization: " REG_HEAD("1001", "other.test", NONCE_OTHER_REALM) QOP
		       RESP(R_1001_WRONG) CRLF
		       "Authorization: " REG_OK CRLF),
	  false, "REGISTER", AUTH_OK, "1001" },
	{ "REGISTER, no Authorization", REGISTER_MSG(""), false, "REGISTER", AUTH_CHALLENGE, NULL },
	{ "REGISTER, wrong password",
	  REGISTER_MSG("Authorization: " REG_HEAD("1001", REALM, NONCE) QOP RESP(R_1001_WRONG)
		       CRLF), false, "REGISTER", AUTH_FORBIDDEN, NULL },
	{ "INVITE, other realm first",
	  INVITE_MSG("Proxy-Authorization: " INV_HEAD("other.test") QOP RESP(R_CLERK7) CRLF
		     "Proxy-Authorization: " INV_HEAD(REALM) QOP RESP(R_CLERK7) CRLF),
	  true, "INVITE", AUTH_OK, "clerk7" },
	{ "INVITE checked as REGISTER",
	  INVITE_MSG("Proxy-Authorization: " INV_HEAD(REALM) QOP RESP(R_CLERK7) CRLF),
	  true, "REGISTER", AUTH_FORBIDDEN, NULL },
	{ "INVITE with Authorization only: no Proxy-Authorization",
	  INVITE_MSG("Authorization: " INV_HEAD(REALM) QOP RESP(R_CLERK7) CRLF),
	  true, "INVITE", AUTH_CHALLENGE, NULL },
};

START_TEST(test_message)
{
	const struct message_case *c = &message_cases[_i];
	msg_t *msg = msg_make(sip_default_mclass(), 0, c->text, (ssize_t)strlen(c->text));
	const char *user = "unchanged";
	msg_auth_t *cred;
	sip_t *sip;

	ck_assert_ptr_nonnull(msg);
	sip = sip_object(msg);
	ck_assert_ptr_nonnull(sip);
	ck_assert_ptr_nonnull(sip->sip_request);
	cred = c->proxy ? sip->sip_proxy_authorization : sip->sip_authorization;
	ck_assert_msg(auth_check(cred, c->method, REALM, SECRET, NOW_S, TTL_S, lookup,
				 (void *)users, &user) == c->verdict, "%s: wrong verdict", c->name);
	if (c->user)
		ck_assert_str_eq(user, c->user);
	else
		ck_assert_ptr_null(user);
	msg_destroy(msg);
}
END_TEST

static Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc;

	tc = tcase_create("ha1");
	tcase_add_loop_test(tc, test_ha1, 0, ARRAY_SIZE(ha1_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("digest");
	tcase_add_loop_test(tc, test_digest, 0, ARRAY_SIZE(digest_cases));
	tcase_add_test(tc, test_digest_null_out);
	suite_add_tcase(s, tc);

	tc = tcase_create("nonce");
	tcase_add_loop_test(tc, test_nonce, 0, ARRAY_SIZE(nonce_cases));
	tcase_add_test(tc, test_nonce_null_buf);
	tcase_add_loop_test(tc, test_nonce_check, 0, ARRAY_SIZE(nonce_check_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("challenge");
	tcase_add_loop_test(tc, test_challenge, 0, ARRAY_SIZE(challenge_cases));
	tcase_add_test(tc, test_challenge_bad_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_loop_test(tc, test_check, 0, ARRAY_SIZE(check_cases));
	tcase_add_test(tc, test_check_bad_args);
	tcase_add_test(tc, test_check_username_length);
	tcase_add_loop_test(tc, test_message, 0, ARRAY_SIZE(message_cases));
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return unit_run(auth_suite());
}
