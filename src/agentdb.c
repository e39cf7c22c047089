/**
 * @file agentdb.c  The agentdb scripts' sources and the clerk state names. The scripts themselves
 *                  are the files in src/lua/, compiled in by scripts/lua2c.sh; their contract is
 *                  include/deskline/agentdb.h.
 */
#include <errno.h>
#include <string.h>

#include "deskline/agentdb.h"
#include "lua_scripts.h"

/* Indexed by enum agentdb_script, so the order is the header's. */
static const struct {
	const char *name;
	const char *source;
} scripts[AGENTDB_SCRIPT_COUNT] = {
	[AGENTDB_AGENT_SYNC]     = { "agent_sync",     lua_agent_sync },
	[AGENTDB_QUEUE_SYNC]     = { "queue_sync",     lua_queue_sync },
	[AGENTDB_REGISTER]       = { "register",       lua_register },
	[AGENTDB_UNREGISTER]     = { "unregister",     lua_unregister },
	[AGENTDB_SET_STATE]      = { "set_state",      lua_set_state },
	[AGENTDB_CLAIM]          = { "claim",          lua_claim },
	[AGENTDB_RELEASE]        = { "release",        lua_release },
	[AGENTDB_ANSWERED]       = { "answered",       lua_answered },
	[AGENTDB_ENDED]          = { "ended",          lua_ended },
	[AGENTDB_NODE_REFRESH]   = { "node_refresh",   lua_node_refresh },
	[AGENTDB_SWEEP]          = { "sweep",          lua_sweep },
	[AGENTDB_NODE_RECONCILE] = { "node_reconcile", lua_node_reconcile },
	[AGENTDB_DIRECT_CALL]    = { "direct_call",    lua_direct_call },
	[AGENTDB_TICKETS]        = { "tickets",        lua_tickets },
	[AGENTDB_TICKET_IDS]     = { "ticket_ids",     lua_ticket_ids },
	[AGENTDB_TICKET_CREATE]  = { "ticket_create",  lua_ticket_create },
	[AGENTDB_TICKET_NOTE]    = { "ticket_note",    lua_ticket_note },
	[AGENTDB_TICKET_STATUS]  = { "ticket_status",  lua_ticket_status },
};

static const char *const state_names[] = {
	[AGENT_LOGGED_OUT] = "logged_out",
	[AGENT_AVAILABLE]  = "available",
	[AGENT_RINGING]    = "ringing",
	[AGENT_ON_CALL]    = "on_call",
	[AGENT_WRAP_UP]    = "wrap_up",
	[AGENT_BREAK]      = "break",
};

#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *agentdb_script_source(enum agentdb_script s)
{
	if ((unsigned)s >= AGENTDB_SCRIPT_COUNT)
		return NULL;
	return scripts[s].source;
}

const char *agentdb_script_name(enum agentdb_script s)
{
	if ((unsigned)s >= AGENTDB_SCRIPT_COUNT)
		return NULL;
	return scripts[s].name;
}

const char *agent_state_name(enum agent_state s)
{
	if ((unsigned)s >= N_STATES)
		return NULL;
	return state_names[s];
}

int agent_state_parse(const char *name, enum agent_state *s)
{
	if (!name || !s)
		return EINVAL;
	for (size_t i = 0; i < N_STATES; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*s = (enum agent_state)i;
			return 0;
		}
	}
	return EINVAL;
}
