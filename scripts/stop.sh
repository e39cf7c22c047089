#!/usr/bin/env bash
# Stop what scripts/run.sh started: deskline (SIGTERM twice: calls are hung up) and the Redis it
# started, if it started one.
#   scripts/stop.sh [--deskline-only]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
run=$top/run

stop_pid() {
	local name=$1 pidfile=$2 pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"; sleep 0.2; kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
		echo "$name: stopped (pid $pid)"
	fi
	rm -f "$pidfile"
}

stop_pid deskline "$run/deskline.pid"
if [ "${1:-}" != "--deskline-only" ]; then
	stop_pid smtp "$run/smtp.pid"
	stop_pid redis "$run/redis.pid"
fi
