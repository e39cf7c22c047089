-- direct_call: ARGV 3 id, 4 delta (+1 / -1). A clerk on a direct call (its extension dialled)
-- is not offered queue calls. → direct_calls after the change (never below 0).
local id, delta = ARGV[3], int_arg(4)
if not delta then
	return err_args('direct_call needs id, delta')
end
local a = agent_get(id)
if not a then
	return err_unknown(id)
end
local v = math.max(0, num(a.direct_calls) + delta)
redis.call('HSET', k_agent(id), 'direct_calls', fmt(v))
a.direct_calls = fmt(v)
ready_update(id, a)
return v
