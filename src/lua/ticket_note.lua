-- ticket_note: ARGV 3 ticket id, 4 field, 5 value, 6 who. Sets one field (forward_result, …) and
-- logs it in the history ("field=value", status unchanged) and the events stream. The fields the
-- status script keeps consistent cannot be set here. → 1, or an "unknown" error.
local tid, field, value, who = ARGV[3], ARGV[4], ARGV[5], ARGV[6] or ''
local KEPT = { id = true, status = true, status_ms = true, clerk = true, queue = true,
	due_ms = true, created_ms = true, responded_ms = true, sla_met = true }
if not ticket_id_valid(tid) or not field or not string.match(field, '^[a-z][a-z0-9_]*$') or
	#field > 64 or not value then
	return err_args('ticket_note needs id, field ([a-z0-9_]), value, who')
end
if KEPT[field] then
	return err_args('ticket_note: "' .. field .. '" is set by the status script only')
end
local tk = ticket_get(tid)
if not tk then
	return err_unknown_ticket(tid)
end
redis.call('HSET', k_ticket(tid), field, value)
ticket_log(tid, who, tk.status, tk.status, field .. '=' .. value)
event('ticket_note', tk.clerk, tk.status, tk.status, tk.call_id, tk.node, '',
	{ 'ticket', tid, 'by', who, 'field', field, 'value', value })
return 1
