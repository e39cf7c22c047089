-- tickets: ARGV 3 id, 4 delta. open_tickets += delta (never below 0); the clerk's fewest-tasks
-- scores follow. → open_tickets after the change.
local id, delta = ARGV[3], int_arg(4)
if not delta then
	return err_args('tickets needs id, delta')
end
local v = open_tickets_add(id, delta)
if not v then
	return err_unknown(id)
end
return v
