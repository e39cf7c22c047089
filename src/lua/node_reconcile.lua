-- node_reconcile: ARGV 3 node. On a node's start its ringing/on_call clerks belong to calls it
-- no longer has → available ("healed"), logged_out when unregistered. → number changed.
local node = ARGV[3]
if not node or node == '' then
	return err_args('node_reconcile needs node')
end
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', K_AGENTS)) do
	local f = redis.call('HMGET', k_agent(id), 'state', 'node')
	if (f[1] == 'ringing' or f[1] == 'on_call') and f[2] == node then
		local a = agent_get(id)
		transition(id, a, idle_state(a), nil, 'healed')
		n = n + 1
	end
end
return n
