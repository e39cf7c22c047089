/**
 * @file sip.h  SIP listening: one sofia-sip NUA instance per configured listen URI, all delivering
 *              their events to call_nua_event() on the app's su_root loop.
 */
#ifndef DESKLINE_SIP_H
#define DESKLINE_SIP_H

#include "call.h"

/**
 * Create the NUA instances for app->rt->cfg->listen.
 *
 * NUA runs with media disabled (deskline does SDP itself), no automatic answer or alert, and
 * answers OPTIONS itself (RFC 3261 §11).
 *
 * @param app  daemon context with root and rt set
 * @return 0; EADDRINUSE (or another errno) naming the URI in the log when a URI cannot be bound.
 */
int sip_start(struct app *app);

/**
 * Destroy the NUA instances (after their nua_r_shutdown). Safe to call when sip_start failed
 * half way.
 */
void sip_destroy(struct app *app);

#endif
