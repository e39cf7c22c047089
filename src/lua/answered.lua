-- answered: ARGV 3 id, 4 call_id, 5 deadline_ms. ringing → on_call, no_answer_count = 0.
-- → 1, or 0 when the clerk was not ringing for the call.
local id, call, deadline = ARGV[3], ARGV[4], int_arg(5)
if not deadline then
	return err_args('answered needs id, call_id, deadline_ms')
end
local a = agent_get(id)
if not a then
	return err_unknown(id)
end
if a.state ~= 'ringing' or a.call_id ~= call then
	return 0
end
transition(id, a, 'on_call', { node = a.node, call_id = call, deadline_ms = fmt(deadline),
	no_answer_count = '0' }, '')
return 1
