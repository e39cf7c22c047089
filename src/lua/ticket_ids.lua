-- ticket_ids: ARGV 3 year (4 digits), 4 count. Reserves a block of ticket numbers for one node:
-- INCRBY P ticket:seq:<year> count, so blocks of different nodes never overlap and a year starts
-- at 1. → the last number reserved (the block is last-count+1 … last).
local year, count = ARGV[3], int_arg(4)
if not year or not string.match(year, '^%d%d%d%d$') or not count or count < 1 or
	count > 1000000 then
	return err_args('ticket_ids needs a 4-digit year and a count of 1-1000000')
end
return redis.call('INCRBY', P .. 'ticket:seq:' .. year, count)
