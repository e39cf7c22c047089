-- common.lua: helpers shared by every agentdb script (scripts/lua2c.sh puts this file in front
-- of each one, since Redis runs every script alone). Contract: include/deskline/agentdb.h.
--
-- Redis runs Lua 5.1: numbers are doubles, so every millisecond value written back is formatted
-- with %d (a bare tostring() would store 1.7e+12), and scripts may not create globals.

local P = ARGV[1]
local NOW = tonumber(ARGV[2])
if not P or P == '' or not NOW then
	return redis.error_reply('args: ARGV[1] must be the key prefix and ARGV[2] now in ms')
end
NOW = math.floor(NOW)

-- The events stream is trimmed approximately (whole radix-tree nodes), which costs O(1).
local EVENTS_MAXLEN = '100000'

-- Score of a clerk in a fewest-tasks ready set: open_tickets * TICKET_WEIGHT +
-- last_call_end_ms. Unix ms stay below 1e13 until the year 2286, so tickets always rank first;
-- a double holds the sum exactly up to ~900 open tickets, past which ties lose a few ms.
local TICKET_WEIGHT = 1e13

local STRATEGIES = { ['fewest-tasks'] = true, ['longest-idle'] = true, ['ring-all'] = true }
local DEFAULT_STRATEGY = 'fewest-tasks'

-- Every field of a clerk's hash and its value for a new clerk.
local AGENT_DEFAULTS = {
	'state', 'logged_out', 'state_since_ms', '0', 'extension', '', 'name', '', 'queues', '',
	'registered', '0', 'contact', '', 'reg_expires_ms', '0', 'node', '', 'call_id', '',
	'deadline_ms', '0', 'open_tickets', '0', 'last_call_end_ms', '0', 'no_answer_count', '0',
	'direct_calls', '0', 'reason', '',
}

local function fmt(n)
	return string.format('%d', n)
end

local function num(s)
	return tonumber(s) or 0
end

-- An integer argument, or nil when the argument is missing or not a number.
local function int_arg(i)
	local n = tonumber(ARGV[i])
	if not n then
		return nil
	end
	return math.floor(n)
end

local function split(s)
	local t = {}
	for x in string.gmatch(s or '', '[^,]+') do
		t[#t + 1] = x
	end
	return t
end

local function k_agent(id) return P .. 'agent:' .. id end
local function k_queue(q) return P .. 'queue:' .. q end
local function k_ready(q) return P .. 'queue:' .. q .. ':ready' end
local function k_node(n) return P .. 'node:' .. n end
local K_AGENTS = P .. 'agents'
local K_EVENTS = P .. 'events'

local function err_args(what)
	return redis.error_reply('args: ' .. what)
end

local function err_unknown(id)
	return redis.error_reply('unknown clerk "' .. tostring(id) .. '"')
end

-- A clerk's hash as a table, or nil when there is no such clerk.
local function agent_get(id)
	if not id or id == '' then
		return nil
	end
	local flat = redis.call('HGETALL', k_agent(id))
	if #flat == 0 then
		return nil
	end
	local a = {}
	for i = 1, #flat, 2 do
		a[flat[i]] = flat[i + 1]
	end
	return a
end

local strategy_cache = {}

local function queue_strategy(q)
	local s = strategy_cache[q]
	if not s then
		s = redis.call('HGET', k_queue(q), 'strategy')
		if not s or not STRATEGIES[s] then
			s = DEFAULT_STRATEGY
		end
		strategy_cache[q] = s
	end
	return s
end

local function ready_score(q, a)
	local idle = num(a.last_call_end_ms)
	if queue_strategy(q) == 'fewest-tasks' then
		return fmt(num(a.open_tickets) * TICKET_WEIGHT + idle)
	end
	return fmt(idle)
end

-- May the clerk be offered queue calls now? The one rule behind every ready set.
local function is_ready(a)
	return a.state == 'available' and a.registered == '1' and num(a.direct_calls) == 0
end

-- Puts the clerk in (with a fresh score) or takes it out of the ready set of each of its queues.
-- Called after every change of a field is_ready() or ready_score() reads.
local function ready_update(id, a)
	local ready = is_ready(a)
	for _, q in ipairs(split(a.queues)) do
		if ready then
			redis.call('ZADD', k_ready(q), ready_score(q, a), id)
		else
			redis.call('ZREM', k_ready(q), id)
		end
	end
end

local function event(etype, id, from, to, call, node, reason, extra)
	local args = { 'XADD', K_EVENTS, 'MAXLEN', '~', EVENTS_MAXLEN, '*',
		'type', etype, 'agent', id, 'from', from or '', 'to', to or '', 'call', call or '',
		'node', node or '', 'ms', fmt(NOW), 'reason', reason or '' }
	if extra then
		for i = 1, #extra do
			args[#args + 1] = extra[i]
		end
	end
	redis.call(unpack(args))
end

-- Moves a clerk to state `to`. `set` holds further fields to write (node, call_id, deadline_ms,
-- …); node and call_id are cleared unless `to` is ringing or on_call, deadline_ms unless `to`
-- carries a deadline. Writes the hash, keeps the ready sets in sync and logs the event (with the
-- call and node the change concerns: the new ones, or the ones being left).
-- `extra`: more event fields, flat.
local function transition(id, a, to, set, reason, extra)
	local from = a.state
	set = set or {}
	local call = set.call_id or a.call_id or ''
	local node = set.node or a.node or ''
	if to ~= 'ringing' and to ~= 'on_call' then
		set.node = ''
		set.call_id = ''
	end
	if to ~= 'ringing' and to ~= 'on_call' and to ~= 'wrap_up' then
		set.deadline_ms = '0'
	end
	set.state = to
	set.reason = reason or ''
	if from ~= to then
		set.state_since_ms = fmt(NOW)
	end
	local args = { 'HSET', k_agent(id) }
	for k, v in pairs(set) do
		args[#args + 1] = k
		args[#args + 1] = v
		a[k] = v
	end
	redis.call(unpack(args))
	ready_update(id, a)
	if from ~= to then
		event('agent_state', id, from, to, call, node, reason, extra)
	end
end

-- The state a clerk goes to when a call or a break ends: available only while its phone is
-- registered, since a clerk offered calls on a phone that cannot ring loses every caller.
local function idle_state(a)
	if a.registered == '1' then
		return 'available'
	end
	return 'logged_out'
end

-- Is the clerk tied to a call on some node?
local function in_call(a)
	return a.state == 'ringing' or a.state == 'on_call'
end

-- registered=0 and its consequences; shared by unregister and the sweep. An idle clerk (available
-- or break) goes logged_out; ringing and on_call ones when the call ends, wrap_up ones when the
-- wrap-up does. → true when something changed.
local function unregister(id, a, reason)
	if a.registered ~= '1' and (a.contact or '') == '' then
		return false
	end
	local from = a.state
	redis.call('HSET', k_agent(id), 'registered', '0', 'contact', '', 'reg_expires_ms', '0')
	a.registered = '0'
	a.contact = ''
	a.reg_expires_ms = '0'
	event('agent_unregister', id, from, from, a.call_id, a.node, reason)
	if a.state == 'available' or a.state == 'break' then
		transition(id, a, 'logged_out', nil, reason)
	else
		ready_update(id, a)
	end
	return true
end

-- Tickets (Procedure 46 §4–§7; contract: the TICKET_* entries of agentdb.h) ---------------------

local K_TICKETS_OPEN = P .. 'tickets:open'
local function k_ticket(id) return P .. 'ticket:' .. id end
local function k_ticket_log(id) return P .. 'ticket:' .. id .. ':log' end

-- The statuses in which a ticket is still work for its clerk: listed in tickets:open and counted
-- in the clerk's open_tickets. in_clarification is one of them (§7: the resident was told, the
-- clerk still owes the answer once the other parties reply), although it already met the SLA.
local TICKET_OPEN = { open = true, assigned = true, in_clarification = true }

-- The "real responses" (DESIGN, Procedure 46 §6): the first one records responded_ms and
-- sla_met. closed is not one: a ticket closed unanswered (a duplicate) has no response.
local TICKET_RESPONSE = { answered = true, in_clarification = true, written_channel = true,
	resolved_by_callcenter = true }

-- Which status may follow which. closed is final.
local TICKET_NEXT = {
	open = { assigned = true, answered = true, in_clarification = true, written_channel = true,
		resolved_by_callcenter = true, closed = true },
	assigned = { answered = true, in_clarification = true, written_channel = true,
		resolved_by_callcenter = true, closed = true },
	in_clarification = { answered = true, written_channel = true,
		resolved_by_callcenter = true, closed = true },
	answered = { closed = true },
	written_channel = { closed = true },
	resolved_by_callcenter = { closed = true },
	closed = {},
}

-- Ticket ids become key names and mail Message-IDs: letters, digits, '.', '_', '-'.
local function ticket_id_valid(id)
	return type(id) == 'string' and #id > 0 and #id <= 64 and
		string.match(id, '^[%w][%w._-]*$') ~= nil
end

local function err_unknown_ticket(id)
	return redis.error_reply('unknown ticket "' .. tostring(id) .. '"')
end

-- A ticket's hash as a table, or nil when there is no such ticket.
local function ticket_get(id)
	local flat = redis.call('HGETALL', k_ticket(id))
	if #flat == 0 then
		return nil
	end
	local t = {}
	for i = 1, #flat, 2 do
		t[flat[i]] = flat[i + 1]
	end
	return t
end

-- One history entry, "ms|who|from|to|text": when, who (a node "node:pbx1", "deskctl:USER"),
-- the status before and after (equal for a note), free text last so it may hold '|'. Line breaks
-- become spaces, so every entry prints on one line.
local function ticket_log(id, who, from, to, text)
	local w = string.gsub(who or '', '[|\r\n]', '/')
	local x = string.gsub(text or '', '[\r\n]', ' ')
	redis.call('RPUSH', k_ticket_log(id), fmt(NOW) .. '|' .. w .. '|' .. (from or '') .. '|' ..
		(to or '') .. '|' .. x)
end

-- open_tickets += delta (never below 0) and the fewest-tasks scores follow; the tickets script's
-- logic, for the ticket scripts. → the new count, or nil when there is no such clerk.
local function open_tickets_add(id, delta)
	local a = agent_get(id)
	if not a then
		return nil
	end
	local v = math.max(0, num(a.open_tickets) + delta)
	redis.call('HSET', k_agent(id), 'open_tickets', fmt(v))
	a.open_tickets = fmt(v)
	ready_update(id, a)
	return v
end

-- The clerk a ticket goes to (Procedure 46 §5: "the most available employee, according to the
-- tasks each one already has and/or their availability"): among the clerks serving queue q
-- (every clerk when q is ''), fewest open tickets, then the longest idle (oldest
-- last_call_end_ms), then the id, so the choice is the same on every node; logged-out clerks
-- only when every one of them is logged out. O(clerks): one HMGET each, ~3 µs a clerk.
-- → the id, or nil when nobody serves the queue.
local function ticket_pick_clerk(q)
	local best, best_key
	for _, id in ipairs(redis.call('SMEMBERS', K_AGENTS)) do
		local f = redis.call('HMGET', k_agent(id), 'state', 'queues', 'open_tickets',
			'last_call_end_ms')
		local serves = q == ''
		if not serves then
			for _, aq in ipairs(split(f[2])) do
				if aq == q then
					serves = true
				end
			end
		end
		if f[1] and serves then
			local key = { f[1] == 'logged_out' and 1 or 0, num(f[3]), num(f[4]) }
			local better = not best
			if not better then
				for i = 1, 3 do
					if key[i] ~= best_key[i] then
						better = key[i] < best_key[i]
						break
					end
					if i == 3 then
						better = id < best
					end
				end
			end
			if better then
				best, best_key = id, key
			end
		end
	end
	return best
end
