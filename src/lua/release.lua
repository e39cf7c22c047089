-- release: ARGV 3 id, 4 call_id, 5 outcome (no_answer | cancelled | failed), 6 max_no_answer.
-- Only when ringing for that call. max_no_answer unanswered rings in a row put the clerk on
-- break (reason "no-answer"); 0 never does. → new state, or nil when not ringing for the call.
local id, call, outcome, max_na = ARGV[3], ARGV[4], ARGV[5], int_arg(6)
local OUTCOMES = { no_answer = true, cancelled = true, failed = true }
if not OUTCOMES[outcome] or not max_na then
	return err_args('release needs id, call_id, outcome (no_answer, cancelled, failed), ' ..
		'max_no_answer')
end
local a = agent_get(id)
if not a then
	return err_unknown(id)
end
if a.state ~= 'ringing' or a.call_id ~= call then
	return false
end
local set = {}
local to = idle_state(a)
local reason = outcome
if outcome == 'no_answer' then
	local count = num(a.no_answer_count) + 1
	set.no_answer_count = fmt(count)
	if to == 'available' and max_na > 0 and count >= max_na then
		to = 'break'
		reason = 'no-answer'
	end
end
transition(id, a, to, set, reason)
return to
