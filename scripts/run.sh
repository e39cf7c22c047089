#!/usr/bin/env bash
# The main job: install what is missing, build, start a local Redis and a local SMTP server (the
# mail of tickets, kept in run/mail) and start deskline on the sample configuration
# (etc/deskline.conf). deskline keeps running in the background; its log is run/deskline.log, its
# CDRs run/cdr.log. Stop it all with scripts/stop.sh.
#   scripts/run.sh [CONFIG]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
conf=${1:-$top/etc/deskline.conf}
run=$top/run

"$top/scripts/install-deps.sh"
"$top/scripts/build.sh"
mkdir -p "$run"

# Redis on 127.0.0.1:6379 (the sample configuration's redis.address), unless one answers there.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
	redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --dir "$run" \
		--pidfile "$run/redis.pid" --logfile "$run/redis.log" --save "" >/dev/null
	for _ in $(seq 50); do
		redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	echo "redis: started on 127.0.0.1:6379 (pid $(cat "$run/redis.pid"))"
else
	echo "redis: already answering on 127.0.0.1:6379"
fi

# A local SMTP server on 127.0.0.1:2525 (the sample configuration's smtp.url) that keeps every
# ticket mail as a file in run/mail, unless something answers there already.
if ! (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null; then
	nohup /usr/bin/python3 -B "$top/tests/unit/smtp_sink.py" 2525 "$run" >"$run/smtp.log" 2>&1 &
	echo $! >"$run/smtp.pid"
	echo "smtp: started on 127.0.0.1:2525 (mail kept in $run/mail)"
else
	echo "smtp: already answering on 127.0.0.1:2525"
fi

# A previous deskline of ours: stop it first (its calls are hung up).
"$top/scripts/stop.sh" --deskline-only >/dev/null 2>&1 || true

"$top/build/deskline" -t -c "$conf"
nohup "$top/build/deskline" -c "$conf" -p "$run/deskline.pid" >>"$run/deskline.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
	grep -q "started with" "$run/deskline.log" 2>/dev/null && [ -f "$run/deskline.pid" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 "$pid" 2>/dev/null; then
	echo "deskline did not start; the end of $run/deskline.log:" >&2
	tail -n 20 "$run/deskline.log" >&2
	exit 1
fi

listen=$(sed -n 's/.*listen = \[ *"\([^"]*\)".*/\1/p' "$conf" | head -n1)
number=$(sed -n 's/.*numbers = \[ *"\([^"]*\)".*/\1/p' "$conf" | head -n1)
hostport=${listen#sip:}
hostport=${hostport%%;*}
cat <<MSG
deskline: running (pid $pid) on $conf
  call:  sip:$number@$hostport  (UDP or TCP)
  log:   $run/deskline.log
  CDRs:  $run/cdr.log
  mail:  $run/mail (tickets for unanswered calls)
  clerks and tickets: build/deskctl -c $conf agents | tickets
  stop:  scripts/stop.sh
Try a call with sipp (README.md, "Try a call").
MSG
