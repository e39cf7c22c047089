-- set_state: ARGV 3 id, 4 state (logged_out | available | break), 5 who, 6 reason, 7 "force".
-- available needs a registered phone; ringing/on_call refuse unless forced (the call itself goes
-- on: its node's later answered/release/ended find the clerk no longer on it and do nothing).
-- → {old state, new state}.
local id, to, who, reason, force = ARGV[3], ARGV[4], ARGV[5] or '', ARGV[6] or '', ARGV[7]
local SETTABLE = { logged_out = true, available = true, ['break'] = true }
if not SETTABLE[to] then
	return redis.error_reply('state "' .. tostring(to) ..
		'" cannot be set: use logged_out, available or break')
end
local a = agent_get(id)
if not a then
	return err_unknown(id)
end
local from = a.state
if in_call(a) and force ~= 'force' then
	return redis.error_reply('busy: clerk "' .. id .. '" is ' .. from)
end
if to == 'available' and a.registered ~= '1' then
	return redis.error_reply('unregistered: clerk "' .. id .. '" has no registered phone')
end
local set = {}
if to == 'available' then
	-- Back from a break (perhaps the one no-answers caused): the count starts again.
	set.no_answer_count = '0'
end
transition(id, a, to, set, reason, { 'by', who })
return { from, to }
