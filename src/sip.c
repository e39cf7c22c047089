/**
 * @file sip.c  sofia-sip NUA instances, one per listen URI.
 */
#include <errno.h>
#include <string.h>

#include <sofia-sip/nua.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/tport_tag.h>

#include "deskline/sip.h"
#include "deskline/log.h"

/**
 * Receive and send buffer asked for the SIP UDP socket, bytes. Requests arrive in bursts (a
 * load generator's or a trunk's millisecond, a registration storm after a power cut); the default
 * 208 KiB holds about 90 datagrams, a few ms of a busy line. The kernel caps the request at
 * net.core.rmem_max / wmem_max: README.md (Tuning) says how to raise them.
 */
#define SIP_UDP_BUFFER (8u << 20)

/** Methods deskline takes part in (Allow header, RFC 3261 §20.5). */
#define SIP_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER"

int sip_start(struct app *app)
{
	const struct dl_config *cfg = app->rt->cfg;

	for (size_t i = 0; i < cfg->n_listen && i < APP_MAX_LISTEN; i++) {
		nua_t *nua = nua_create(app->root, call_nua_event, (nua_magic_t *)app,
					NUTAG_URL(cfg->listen[i]),
					NUTAG_MEDIA_ENABLE(0),
					NUTAG_AUTOANSWER(0),
					NUTAG_AUTOALERT(0),
					NUTAG_ENABLEMESSAGE(0),
					/* REGISTER is answered by registrar.c, not the stack. */
					NUTAG_APPL_METHOD("REGISTER"),
					SIPTAG_ALLOW_STR(SIP_ALLOW),
					SIPTAG_SUPPORTED_STR("timer"),
					SIPTAG_USER_AGENT_STR(cfg->user_agent),
					SIPTAG_SERVER_STR(cfg->user_agent),
					TPTAG_UDP_RMEM(SIP_UDP_BUFFER),
					TPTAG_UDP_WMEM(SIP_UDP_BUFFER),
					TAG_END());
		if (!nua) {
			int err = errno ? errno : EADDRINUSE;
			log_err(NULL, "cannot listen on %s: %s", cfg->listen[i], strerror(err));
			return err;
		}
		app->nua[app->n_nua++] = nua;
		log_notice(NULL, "listening on %s", cfg->listen[i]);
	}
	return 0;
}

void sip_destroy(struct app *app)
{
	for (size_t i = 0; i < app->n_nua; i++)
		nua_destroy(app->nua[i]);
	app->n_nua = 0;
}
