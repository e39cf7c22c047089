-- ticket_status: ARGV 3 ticket id, 4 new status, 5 who, 6 note. Moves a ticket along
-- open → assigned → answered | in_clarification | written_channel | resolved_by_callcenter →
-- closed (TICKET_NEXT in common.lua), with a history entry and a ticket_status event. open →
-- assigned picks the most available clerk now (nobody: a "noclerk" error). The first real
-- response records responded_ms and sla_met ("1" when now <= due_ms, else "0": Procedure 46 §6);
-- leaving the open statuses (open, assigned, in_clarification) removes the ticket from
-- tickets:open and lowers its clerk's open_tickets. The same status again changes nothing.
-- Errors: "status" (no such status), "unknown" (no such ticket), "transition" (not from the
-- current status), "noclerk". → {old status, new status}.
local tid, to, who, note = ARGV[3], ARGV[4], ARGV[5] or '', ARGV[6] or ''
if not ticket_id_valid(tid) then
	return err_args('ticket_status needs id, status, who, note')
end
if not to or not TICKET_NEXT[to] then
	return redis.error_reply('status "' .. tostring(to) .. '" is not one of open, assigned, ' ..
		'answered, in_clarification, written_channel, resolved_by_callcenter, closed')
end
local tk = ticket_get(tid)
if not tk then
	return err_unknown_ticket(tid)
end
local from = tk.status or 'open'
if from == to then
	return { from, to }
end
if not TICKET_NEXT[from] or not TICKET_NEXT[from][to] then
	return redis.error_reply('transition: ticket "' .. tid .. '" is ' .. from .. ', which ' ..
		to .. ' cannot follow')
end

local set = { status = to, status_ms = fmt(NOW) }
local clerk = tk.clerk or ''
local text = note
if to == 'assigned' and clerk == '' then
	clerk = ticket_pick_clerk(tk.queue or '') or ''
	if clerk == '' then
		return redis.error_reply('noclerk: nobody serves queue "' .. (tk.queue or '') .. '"')
	end
	set.clerk = clerk
	open_tickets_add(clerk, 1)
	text = 'assigned to ' .. clerk
	if note ~= '' then
		text = text .. '; ' .. note
	end
end
if TICKET_RESPONSE[to] and (tk.responded_ms or '') == '' then
	set.responded_ms = fmt(NOW)
	set.sla_met = NOW <= num(tk.due_ms) and '1' or '0'
end
if TICKET_OPEN[from] and not TICKET_OPEN[to] then
	redis.call('ZREM', K_TICKETS_OPEN, tid)
	if clerk ~= '' then
		open_tickets_add(clerk, -1)
	end
end
local args = { 'HSET', k_ticket(tid) }
for k, v in pairs(set) do
	args[#args + 1] = k
	args[#args + 1] = v
end
redis.call(unpack(args))
ticket_log(tid, who, from, to, text)
event('ticket_status', clerk, from, to, tk.call_id, tk.node, note,
	{ 'ticket', tid, 'by', who, 'sla_met', set.sla_met or tk.sla_met or '' })
return { from, to }
