-- tickets: ARGV 3 id, 4 delta. open_tickets += delta (never below 0); the clerk's fewest-tasks
-- scores follow. → open_tickets after the change.
local id, delta = ARGV[3], int_arg(4)
if not delta then
	return err_args('tickets needs id, delta')
end
local a = agent_get(id)
if not a then
	return err_unknown(id)
end
local v = math.max(0, num(a.open_tickets) + delta)
redis.call('HSET', k_agent(id), 'open_tickets', fmt(v))
a.open_tickets = fmt(v)
ready_update(id, a)
return v
