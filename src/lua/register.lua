-- register: ARGV 3 id, 4 contact URI, 5 reg_expires_ms. registered=1; the state is left alone
-- (logging in is the clerk's choice, by feature code or deskctl). → state.
local id, contact, expires_ms = ARGV[3], ARGV[4], int_arg(5)
if not contact or contact == '' or not expires_ms then
	return err_args('register needs id, contact, reg_expires_ms')
end
local a = agent_get(id)
if not a then
	return err_unknown(id)
end
local was = a.registered
redis.call('HSET', k_agent(id), 'registered', '1', 'contact', contact,
	'reg_expires_ms', fmt(expires_ms))
a.registered = '1'
a.contact = contact
ready_update(id, a)
-- Phones refresh every few minutes; only a new registration is an event worth keeping.
if was ~= '1' then
	event('agent_register', id, a.state, a.state, '', '', contact)
end
return a.state
