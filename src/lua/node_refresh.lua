-- node_refresh: ARGV 3 node, 4 heartbeat ttl_ms, 5 new deadline_ms, 6… live call ids.
-- Refreshes the node's heartbeat key and the deadlines of its ringing/on_call clerks whose call
-- is live. O(clerks): one HMGET each, a few hundred µs for hundreds of clerks.
-- → number of clerks refreshed.
local node, ttl, deadline = ARGV[3], int_arg(4), int_arg(5)
if not node or node == '' or not ttl or ttl <= 0 or not deadline then
	return err_args('node_refresh needs node, ttl_ms > 0, deadline_ms')
end
redis.call('SET', k_node(node), fmt(NOW), 'PX', fmt(ttl))
local live = {}
for i = 6, #ARGV do
	live[ARGV[i]] = true
end
if #ARGV < 6 then
	return 0
end
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', K_AGENTS)) do
	local f = redis.call('HMGET', k_agent(id), 'state', 'node', 'call_id')
	if (f[1] == 'ringing' or f[1] == 'on_call') and f[2] == node and live[f[3]] then
		redis.call('HSET', k_agent(id), 'deadline_ms', fmt(deadline))
		n = n + 1
	end
end
return n
