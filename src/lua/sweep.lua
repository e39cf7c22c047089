-- sweep: no more ARGV. Registrations past reg_expires_ms → unregistered; wrap_up past its
-- deadline → available (logged_out when unregistered); ringing/on_call past the deadline or whose
-- node stopped heartbeating → available ("healed"). Every step is idempotent and the script is
-- atomic, so any number of nodes may sweep at once. O(clerks): one HMGET each, the whole hash
-- only for a clerk that changes. → number of clerks changed.
local node_alive = {}
local function alive(node)
	if not node or node == '' then
		return false
	end
	local v = node_alive[node]
	if v == nil then
		v = redis.call('EXISTS', k_node(node)) == 1
		node_alive[node] = v
	end
	return v
end

local n = 0
for _, id in ipairs(redis.call('SMEMBERS', K_AGENTS)) do
	local f = redis.call('HMGET', k_agent(id), 'state', 'deadline_ms', 'node', 'registered',
		'reg_expires_ms')
	local state, deadline, expires = f[1], num(f[2]), num(f[5])
	local expired = f[4] == '1' and expires > 0 and expires <= NOW
	local wrap_done = state == 'wrap_up' and deadline <= NOW
	local stuck = (state == 'ringing' or state == 'on_call') and
		((deadline > 0 and deadline <= NOW) or not alive(f[3]))
	if expired or wrap_done or stuck then
		local a = agent_get(id)
		local changed = false
		if expired then
			changed = unregister(id, a, 'expired')
		end
		if wrap_done then
			transition(id, a, idle_state(a), nil, '')
			changed = true
		elseif stuck then
			transition(id, a, idle_state(a), nil, 'healed')
			changed = true
		end
		if changed then
			n = n + 1
		end
	end
end
return n
