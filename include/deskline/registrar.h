/**
 * @file registrar.h  REGISTER for clerks' phones (RFC 3261 §10) with digest authentication:
 *                    one binding per clerk, kept in memory and in Redis (presence), expired on
 *                    time. The registered Contact is what deskline rings.
 */
#ifndef DESKLINE_REGISTRAR_H
#define DESKLINE_REGISTRAR_H

#include <sofia-sip/nua.h>

#include "config.h"
#include "presence.h"

struct registrar;

/**
 * Create the registrar.
 *
 * @param rp        on success *rp is the registrar (free: registrar_free)
 * @param root      loop for the expiry timers (borrowed)
 * @param presence  where registrations are published (borrowed, may be NULL)
 * @return 0 or ENOMEM.
 */
int registrar_alloc(struct registrar **rp, su_root_t *root, struct presence *presence);

/** Free the registrar (bindings are dropped without telling Redis). NULL is ignored. */
void registrar_free(struct registrar *r);

/**
 * Handle a REGISTER (nua_i_register). Answers it (401/403/423/200) and destroys nothing: the
 * caller destroys the handle afterwards.
 *
 * @param cfg  configuration in force (clerks, realm, expiry limits)
 * @param nh   the request's handle
 * @param sip  the request
 */
void registrar_handle(struct registrar *r, const struct dl_config *cfg, nua_t *nua,
		      nua_handle_t *nh, sip_t const *sip);

/**
 * The Contact a clerk registered, for ringing them.
 *
 * @return the contact URI (owned by the registrar, valid until the next loop turn), or NULL
 *         when the clerk has no live binding on this node.
 */
const char *registrar_contact(const struct registrar *r, const char *clerk_id);

/**
 * Check the credentials of a request from a clerk (INVITE to an extension or feature code),
 * with the same secret as REGISTER: Proxy-Authorization, 407 to challenge (RFC 3261 §22.3).
 * Answers 407/403 itself when the verdict is not AUTH_OK.
 *
 * @param clerk  on success the authenticated clerk (owned by cfg)
 * @return 0 when authenticated; EACCES when it answered the request (challenge or refusal).
 */
int registrar_authenticate_call(struct registrar *r, const struct dl_config *cfg,
				nua_handle_t *nh, sip_t const *sip,
				const struct dl_clerk **clerk);

/** The digest secret of this process (random at start), for tests and logs: never logged. */
const char *registrar_secret(const struct registrar *r);

#endif
