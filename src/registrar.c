/**
 * @file registrar.c  REGISTER for clerks' phones with digest authentication (RFC 3261 §10,
 *                    §22; RFC 2617).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>

#include "deskline/auth.h"
#include "deskline/log.h"
#include "deskline/registrar.h"

/** How often bindings are checked for expiry (ms). */
#define EXPIRY_CHECK_MS 1000

struct binding {
	struct binding *next;
	char id[64];
	char contact[256];
	time_t expires_s;       /**< Unix seconds */
};

struct registrar {
	su_root_t *root;
	struct presence *presence;
	su_timer_t *expiry;
	struct binding *bindings;
	char secret[33];
};

static time_t now_s(void)
{
	return time(NULL);
}

static struct binding *binding_find(const struct registrar *r, const char *id)
{
	for (struct binding *b = r->bindings; b; b = b->next)
		if (strcmp(b->id, id) == 0)
			return b;
	return NULL;
}

static void binding_remove(struct registrar *r, const char *id, const char *reason)
{
	for (struct binding **bp = &r->bindings; *bp; bp = &(*bp)->next) {
		struct binding *b = *bp;
		if (strcmp(b->id, id) != 0)
			continue;
		*bp = b->next;
		log_info(NULL, "clerk %s: registration of %s %s", b->id, b->contact, reason);
		if (r->presence)
			presence_unregister(r->presence, b->id, reason, NULL, NULL);
		free(b);
		return;
	}
}

static void expiry_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct registrar *r = (struct registrar *)arg;
	time_t now = now_s();

	(void)magic;
	(void)t;
	for (struct binding *b = r->bindings, *next; b; b = next) {
		next = b->next;
		if (b->expires_s <= now)
			binding_remove(r, b->id, "expired");
	}
}

int registrar_alloc(struct registrar **rp, su_root_t *root, struct presence *presence)
{
	struct registrar *r;
	unsigned char raw[16];
	FILE *f;

	if (!rp || !root)
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->root = root;
	r->presence = presence;
	f = fopen("/dev/urandom", "rb");
	if (!f || fread(raw, sizeof(raw), 1, f) != 1) {
		if (f)
			fclose(f);
		free(r);
		return EIO;
	}
	fclose(f);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(r->secret + 2 * i, 3, "%02x", raw[i]);
	r->expiry = su_timer_create(su_root_task(root), EXPIRY_CHECK_MS);
	if (!r->expiry || su_timer_run(r->expiry, expiry_cb, (su_timer_arg_t *)r) < 0) {
		su_timer_destroy(r->expiry);
		free(r);
		return ENOMEM;
	}
	*rp = r;
	return 0;
}

void registrar_free(struct registrar *r)
{
	if (!r)
		return;
	su_timer_destroy(r->expiry);
	while (r->bindings) {
		struct binding *b = r->bindings;
		r->bindings = b->next;
		free(b);
	}
	free(r);
}

const char *registrar_secret(const struct registrar *r)
{
	return r->secret;
}

const char *registrar_contact(const struct registrar *r, const char *clerk_id)
{
	const struct binding *b = r ? binding_find(r, clerk_id) : NULL;
	return b && b->expires_s > now_s() ? b->contact : NULL;
}

static const char *ha1_lookup(const char *username, void *arg)
{
	const struct dl_config *cfg = arg;
	const struct dl_clerk *c = config_clerk(cfg, username);
	return c ? c->ha1 : NULL;
}

/** The clerk a REGISTER is for: the To user is the account id or the extension. */
static const struct dl_clerk *register_target(const struct dl_config *cfg, sip_t const *sip)
{
	const char *user = sip->sip_to ? sip->sip_to->a_url->url_user : NULL;

	if (!user)
		return NULL;
	const struct dl_clerk *c = config_clerk(cfg, user);
	return c ? c : config_clerk_by_extension(cfg, user);
}

/** Expires asked for a contact: its expires parameter, else the Expires header, else default. */
static unsigned contact_expires(const struct dl_config *cfg, sip_t const *sip,
				const sip_contact_t *m)
{
	if (m && m->m_expires)
		return (unsigned)strtoul(m->m_expires, NULL, 10);
	if (sip->sip_expires)
		return (unsigned)sip->sip_expires->ex_delta;
	return cfg->registrar.default_expires_s;
}

static void respond_challenge(struct registrar *r, const struct dl_config *cfg, nua_t *nua,
			      nua_handle_t *nh, bool stale, bool proxy)
{
	char challenge[256];

	if (auth_challenge(challenge, sizeof(challenge), r->secret, cfg->registrar.realm,
			   (uint64_t)now_s(), stale) != 0) {
		nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	if (proxy)
		nua_respond(nh, SIP_407_PROXY_AUTH_REQUIRED, NUTAG_WITH_THIS(nua),
			    SIPTAG_PROXY_AUTHENTICATE_STR(challenge), TAG_END());
	else
		nua_respond(nh, SIP_401_UNAUTHORIZED, NUTAG_WITH_THIS(nua),
			    SIPTAG_WWW_AUTHENTICATE_STR(challenge), TAG_END());
}

void registrar_handle(struct registrar *r, const struct dl_config *cfg, nua_t *nua,
		      nua_handle_t *nh, sip_t const *sip)
{
	const char *user = NULL;
	const struct dl_clerk *clerk = register_target(cfg, sip);
	const char *cid = sip && sip->sip_call_id ? sip->sip_call_id->i_id : NULL;
	enum auth_verdict v = auth_check(sip->sip_authorization, "REGISTER", cfg->registrar.realm,
					 r->secret, (uint64_t)now_s(),
					 cfg->registrar.nonce_ttl_s, ha1_lookup, (void *)cfg,
					 &user);

	switch (v) {
	case AUTH_CHALLENGE:
	case AUTH_STALE:
		respond_challenge(r, cfg, nua, nh, v == AUTH_STALE, false);
		return;
	case AUTH_FORBIDDEN:
		log_notice(cid, "REGISTER refused: wrong credentials");
		nua_respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
		return;
	case AUTH_OK:
		break;
	}
	/* Right password, but for another clerk's line: same answer as a wrong password. */
	if (!clerk || strcmp(user, clerk->id) != 0) {
		log_notice(cid, "REGISTER refused: %s may not register %s", user,
			   sip->sip_to->a_url->url_user ? sip->sip_to->a_url->url_user : "?");
		nua_respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}

	const sip_contact_t *m = sip->sip_contact;
	struct binding *b = binding_find(r, clerk->id);
	char contact_hdr[320];

	if (!m) {
		/* A query (RFC 3261 §10.2.3): answer with what is bound. */
		if (b)
			snprintf(contact_hdr, sizeof(contact_hdr), "<%s>;expires=%ld", b->contact,
				 (long)(b->expires_s - now_s()));
		nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua),
			    TAG_IF(b, SIPTAG_CONTACT_STR(contact_hdr)), TAG_END());
		return;
	}
	unsigned expires = contact_expires(cfg, sip, m);
	if (m->m_url->url_type == url_any) {
		/* "Contact: *" is only allowed with Expires: 0 (RFC 3261 §10.2.2). */
		if (expires != 0 || m->m_next) {
			nua_respond(nh, SIP_400_BAD_REQUEST, NUTAG_WITH_THIS(nua), TAG_END());
			return;
		}
		binding_remove(r, clerk->id, "unregistered");
		nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	if (expires == 0) {
		binding_remove(r, clerk->id, "unregistered");
		nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	if (expires < cfg->registrar.min_expires_s) {
		char min[16];
		snprintf(min, sizeof(min), "%u", cfg->registrar.min_expires_s);
		nua_respond(nh, SIP_423_INTERVAL_TOO_BRIEF, NUTAG_WITH_THIS(nua),
			    SIPTAG_MIN_EXPIRES_STR(min), TAG_END());
		return;
	}
	if (expires > cfg->registrar.max_expires_s)
		expires = cfg->registrar.max_expires_s;

	su_home_t home[1] = { SU_HOME_INIT(home) };
	char *uri = url_as_string(home, m->m_url);
	if (!uri || strlen(uri) >= sizeof(b->contact)) {
		su_home_deinit(home);
		nua_respond(nh, 400, "Contact too long", NUTAG_WITH_THIS(nua), TAG_END());
		return;
	}
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b) {
			su_home_deinit(home);
			nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, NUTAG_WITH_THIS(nua),
				    TAG_END());
			return;
		}
		snprintf(b->id, sizeof(b->id), "%s", clerk->id);
		b->next = r->bindings;
		r->bindings = b;
	}
	bool changed = strcmp(b->contact, uri) != 0;
	snprintf(b->contact, sizeof(b->contact), "%s", uri);
	b->expires_s = now_s() + (time_t)expires;
	su_home_deinit(home);

	if (changed)
		log_info(cid, "clerk %s registered %s for %u s", clerk->id, b->contact, expires);
	if (r->presence)
		presence_register(r->presence, clerk->id, b->contact,
				  (uint64_t)b->expires_s * 1000u, NULL, NULL);
	snprintf(contact_hdr, sizeof(contact_hdr), "<%s>;expires=%u", b->contact, expires);
	nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTACT_STR(contact_hdr),
		    TAG_END());
}

int registrar_authenticate_call(struct registrar *r, const struct dl_config *cfg,
				nua_handle_t *nh, sip_t const *sip,
				const struct dl_clerk **clerk)
{
	const char *user = NULL;
	enum auth_verdict v = auth_check(sip->sip_proxy_authorization, "INVITE",
					 cfg->registrar.realm, r->secret, (uint64_t)now_s(),
					 cfg->registrar.nonce_ttl_s, ha1_lookup, (void *)cfg,
					 &user);

	switch (v) {
	case AUTH_OK:
		*clerk = config_clerk(cfg, user);
		if (*clerk)
			return 0;
		/* The account went away with a reload: refuse as for a wrong password. */
		nua_respond(nh, SIP_403_FORBIDDEN, TAG_END());
		return EACCES;
	case AUTH_FORBIDDEN:
		nua_respond(nh, SIP_403_FORBIDDEN, TAG_END());
		return EACCES;
	case AUTH_CHALLENGE:
	case AUTH_STALE: {
		char challenge[256];
		if (auth_challenge(challenge, sizeof(challenge), r->secret, cfg->registrar.realm,
				   (uint64_t)now_s(), v == AUTH_STALE) != 0)
			nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		else
			nua_respond(nh, SIP_407_PROXY_AUTH_REQUIRED,
				    SIPTAG_PROXY_AUTHENTICATE_STR(challenge), TAG_END());
		return EACCES;
	}
	}
	return EACCES;
}
