-- ticket_create: ARGV 3 ticket id, 4 queue ('' = every clerk), 5 due_ms, then field/value pairs
-- (call_id, caller, caller_name, called, menu_path, category, reason, forward, tried, node,
-- created_ms). Idempotent by id: an existing ticket is returned as it is, so a spooled ticket may
-- be replayed any number of times. Assigns the most available clerk (ticket_pick_clerk), raises
-- their open_tickets (the ready sets are re-scored), writes the ticket hash (status "assigned",
-- or "open" when nobody serves the queue), tickets:open, the first history entry and one
-- ticket_created event holding the call and the ticket. O(clerks) for the choice.
-- → {id, clerk or '', 'new' | 'existing'}.
local tid, q, due = ARGV[3], ARGV[4], int_arg(5)
-- In this order in the hash and the event.
local FIELDS = { 'call_id', 'caller', 'caller_name', 'called', 'menu_path', 'category', 'reason',
	'forward', 'tried', 'node', 'created_ms' }
local known = {}
for _, f in ipairs(FIELDS) do
	known[f] = true
end
if not ticket_id_valid(tid) or not q or not due then
	return err_args('ticket_create needs id ([A-Za-z0-9._-]), queue, due_ms')
end
if (#ARGV - 5) % 2 ~= 0 then
	return err_args('ticket_create: fields come in field/value pairs')
end
-- Everything is checked before the first write: an error reply does not undo writes.
local tk = {}
for i = 6, #ARGV, 2 do
	if not known[ARGV[i]] then
		return err_args('ticket_create: unknown field "' .. ARGV[i] .. '"')
	end
	tk[ARGV[i]] = ARGV[i + 1]
end
local created = NOW
if tk.created_ms and tk.created_ms ~= '' then
	created = tonumber(tk.created_ms)
	if not created then
		return err_args('ticket_create: created_ms is not a number')
	end
	created = math.floor(created)
end

local key = k_ticket(tid)
local old = redis.call('HMGET', key, 'id', 'clerk')
if old[1] then
	return { tid, old[2] or '', 'existing' }
end

local clerk = ticket_pick_clerk(q) or ''
local status = 'open'
if clerk ~= '' then
	status = 'assigned'
end
local args = { 'HSET', key, 'id', tid, 'status', status, 'status_ms', fmt(NOW),
	'created_ms', fmt(created), 'due_ms', fmt(due), 'queue', q, 'clerk', clerk,
	'responded_ms', '', 'sla_met', '', 'forward_result', '' }
local extra = { 'ticket', tid, 'due_ms', fmt(due), 'queue', q, 'created_ms', fmt(created) }
for _, f in ipairs(FIELDS) do
	if f ~= 'created_ms' then
		args[#args + 1] = f
		args[#args + 1] = tk[f] or ''
		if f ~= 'call_id' and f ~= 'node' and f ~= 'reason' then
			extra[#extra + 1] = f
			extra[#extra + 1] = tk[f] or ''
		end
	end
end
redis.call(unpack(args))
redis.call('ZADD', K_TICKETS_OPEN, fmt(due), tid)
local text = 'created; no clerk serves queue "' .. q .. '"'
if clerk ~= '' then
	open_tickets_add(clerk, 1)
	text = 'created; assigned to ' .. clerk
end
ticket_log(tid, 'node:' .. (tk.node or ''), '', status, text)
event('ticket_created', clerk, '', status, tk.call_id, tk.node, tk.reason, extra)
return { tid, clerk, 'new' }
