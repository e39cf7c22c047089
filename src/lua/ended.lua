-- ended: ARGV 3 id, 4 call_id, 5 wrap_up_ms. on_call → wrap_up until now + wrap_up_ms (0:
-- straight to available; a clerk whose phone unregistered during the call: logged_out);
-- last_call_end_ms = now. → new state, or nil when not on that call.
local id, call, wrap_ms = ARGV[3], ARGV[4], int_arg(5)
if not wrap_ms or wrap_ms < 0 then
	return err_args('ended needs id, call_id, wrap_up_ms >= 0')
end
local a = agent_get(id)
if not a then
	return err_unknown(id)
end
if a.state ~= 'on_call' or a.call_id ~= call then
	return false
end
local set = { last_call_end_ms = fmt(NOW) }
local to = idle_state(a)
local reason = ''
if to == 'logged_out' then
	reason = 'unregistered'
elseif wrap_ms > 0 then
	to = 'wrap_up'
	set.deadline_ms = fmt(NOW + wrap_ms)
end
transition(id, a, to, set, reason)
return to
