-- claim: ARGV 3 queue, 4 node, 5 call_id, 6 ring deadline_ms, 7 how many (0 = ring-all),
-- 8… ids already tried by this call. Sets the best ready clerks ringing for this node and call.
-- → {id1, contact1, id2, contact2, …}, empty when none.
--
-- The ready set is walked in score order a batch at a time. Members taken or found stale leave
-- the set, so the next unseen member is always at rank `skipped` (the excluded ones stay in
-- front): cost O(tried + stale + taken) members, not the size of the queue.
local q, node, call, deadline, want = ARGV[3], ARGV[4], ARGV[5], int_arg(6), int_arg(7)
if not q or q == '' or not node or node == '' or not call or call == '' or not deadline
	or not want or want < 0 then
	return err_args('claim needs queue, node, call_id, deadline_ms, count >= 0')
end
local excluded = {}
for i = 8, #ARGV do
	excluded[ARGV[i]] = true
end

local BATCH = 16
local ready = k_ready(q)
local out = {}
local taken = 0
local skipped = 0
while want == 0 or taken < want do
	local ids = redis.call('ZRANGE', ready, skipped, skipped + BATCH - 1)
	if #ids == 0 then
		break
	end
	for _, id in ipairs(ids) do
		if want ~= 0 and taken >= want then
			break
		end
		if excluded[id] then
			skipped = skipped + 1
		else
			local a = agent_get(id)
			local serves = false
			if a then
				for _, aq in ipairs(split(a.queues)) do
					if aq == q then
						serves = true
					end
				end
			end
			if a and serves and is_ready(a) then
				transition(id, a, 'ringing',
					{ node = node, call_id = call, deadline_ms = fmt(deadline) }, q)
				out[#out + 1] = id
				out[#out + 1] = a.contact
				taken = taken + 1
			else
				-- Only a bug or a hand edit leaves a stale member; mend it here.
				redis.call('ZREM', ready, id)
				if a then
					ready_update(id, a)
				end
			end
		end
	end
end
return out
