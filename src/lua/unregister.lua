-- unregister: ARGV 3 id, 4 reason ("unregistered", "expired"). registered=0, contact cleared;
-- an idle clerk goes logged_out, a ringing/on_call one when its call ends. → previous state.
local id, reason = ARGV[3], ARGV[4]
local a = agent_get(id)
if not a then
	return err_unknown(id)
end
local prev = a.state
if not reason or reason == '' then
	reason = 'unregistered'
end
unregister(id, a, reason)
return prev
