-- queue_sync: ARGV 3 queue, 4 strategy name. Records the strategy and re-scores the queue's
-- ready set with it (O(clerks ready in the queue)). → "OK".
local q, strategy = ARGV[3], ARGV[4]
if not q or q == '' then
	return err_args('queue_sync needs a queue name')
end
if not STRATEGIES[strategy] then
	return err_args('strategy "' .. tostring(strategy) ..
		'" is not one of fewest-tasks, longest-idle, ring-all')
end
redis.call('HSET', k_queue(q), 'strategy', strategy)
strategy_cache[q] = strategy
for _, id in ipairs(redis.call('ZRANGE', k_ready(q), 0, -1)) do
	local a = agent_get(id)
	if a and is_ready(a) then
		redis.call('ZADD', k_ready(q), ready_score(q, a), id)
	else
		redis.call('ZREM', k_ready(q), id)
	end
end
return redis.status_reply('OK')
