-- agent_sync: ARGV 3 id, 4 extension, 5 name, 6 queues (comma list). Creates the clerk
-- (logged_out) or updates those fields, and re-indexes the ready sets. → state.
local id, ext, name, queues = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if not id or id == '' or not ext or not name or not queues then
	return err_args('agent_sync needs id, extension, name, queues')
end

local key = k_agent(id)
local created = redis.call('EXISTS', key) == 0
-- HSETNX per field also mends a hash that lost fields (a hand edit, an older version).
for i = 1, #AGENT_DEFAULTS, 2 do
	redis.call('HSETNX', key, AGENT_DEFAULTS[i], AGENT_DEFAULTS[i + 1])
end
if created then
	redis.call('HSET', key, 'state_since_ms', fmt(NOW))
end
redis.call('SADD', K_AGENTS, id)

local a = agent_get(id)
-- Leave the ready sets of queues the clerk no longer serves; ready_update() fills the others.
local keep = {}
for _, q in ipairs(split(queues)) do
	keep[q] = true
end
for _, q in ipairs(split(a.queues)) do
	if not keep[q] then
		redis.call('ZREM', k_ready(q), id)
	end
end
redis.call('HSET', key, 'extension', ext, 'name', name, 'queues', queues)
a.extension, a.name, a.queues = ext, name, queues
ready_update(id, a)
if created then
	event('agent_state', id, '', a.state, '', '', 'created')
end
return a.state
