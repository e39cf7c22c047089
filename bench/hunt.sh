#!/usr/bin/env bash
# Latency of hunting a clerk in Redis: the claim script alone and a claim followed by its release.
#
#   bench/hunt.sh [options]
#
# Starts a redis-server of its own on a unix socket in a temporary folder (CPU 0, nothing written
# to disk), compiles bench/hunt_latency.c with the daemon's own copy of the scripts
# (src/agentdb.c and the src/lua_scripts.h that scripts/lua2c.sh makes: common.lua in front of
# each script), and runs it on CPU 1: CLERKS clerks registered and available in one
# fewest-tasks queue, then PAIRS round trips of PING (the socket's floor), PAIRS of EVALSHA of
# src/lua/common.lua alone (what every script pays before its first own line), a warm-up, and
# PAIRS pairs of EVALSHA claim (one clerk) → EVALSHA release (cancelled), each timed with
# CLOCK_MONOTONIC. Prints p50/p90/p99/p99.9/max/mean in µs and Redis's own time per EVALSHA.
#
# Options:
#   --pairs N          timed claim+release pairs (default 100000)
#   --warmup N         pairs run first and not counted (default 1000)
#   --clerks N         clerks in the queue (default 20)
#   --appendfsync P    run Redis with an append-only file and this fsync policy (always,
#                      everysec, no) instead of without persistence
#   --no-doc           print the result only; do not append it to docs/BENCHMARKS.md
#
# Every process it starts is stopped by pid on exit. Working files stay in the printed folder.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cmdline=$(bench_cmdline bench/hunt.sh "$@")

pairs=100000
warmup=1000
clerks=20
appendfsync=
write_doc=1
redis_cpu=0
client_cpu=1

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--pairs) pairs=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--clerks) clerks=$2; shift 2 ;;
	--appendfsync) appendfsync=$2; shift 2 ;;
	--no-doc) write_doc=0; shift ;;
	-h|--help) usage 0 ;;
	*) echo "hunt: unknown option $1" >&2; usage 1 >&2 ;;
	esac
done
case $appendfsync in ''|always|everysec|no) ;; *) echo "hunt: --appendfsync always|everysec|no" >&2; exit 1 ;; esac

bench_need hunt gcc pkg-config taskset redis-server redis-cli python3
pkg-config --exists hiredis || { echo "hunt: hiredis development files not found" >&2; exit 1; }
if [ "$(nproc)" -lt 2 ]; then
	echo "hunt: needs 2 CPUs (Redis on CPU 0, the client on CPU 1); this machine has $(nproc)" >&2
	exit 1
fi

bench_workdir hunt
# The scripts exactly as the daemon compiles them in.
(cd "$top" && sh scripts/lua2c.sh . src/lua/*.lua) >"$T/lua_scripts.h"
read -r -a hiredis_flags <<<"$(pkg-config --cflags --libs hiredis)"
gcc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -I"$top/include" -I"$T" "$bench/hunt_latency.c" "$top/src/agentdb.c" \
	"${hiredis_flags[@]}" -o "$T/hunt_latency"

redis_args=()
persistence="no persistence: --save \"\" --appendonly no"
if [ -n "$appendfsync" ]; then
	redis_args=(--appendonly yes --appendfsync "$appendfsync")
	persistence="append-only file, appendfsync $appendfsync, on the disk of $T"
fi
started_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
bench_start_redis "$redis_cpu" "${redis_args[@]}"
redis0=$(cpu_ns "$redis_pid")
t0=$(now_ms)
echo "redis-server pid $redis_pid on CPU $redis_cpu ($persistence); client on CPU $client_cpu;" \
	"work folder $T"
taskset -c "$client_cpu" "$T/hunt_latency" -s "$T/redis.sock" -n "$pairs" -w "$warmup" \
	-c "$clerks" -C "$top/src/lua/common.lua" | tee "$T/result.txt"
redis_pct=$(pct $(( $(cpu_ns "$redis_pid") - redis0 )) $(( $(now_ms) - t0 )))
echo "redis-server CPU over the whole run (setup, ping, warm-up, pairs): $redis_pct%"

# The clerks must all be available again: every claim was released.
left=$(redis-cli -s "$T/redis.sock" ZCARD dl:queue:collection:ready)
[ "$left" = "$clerks" ] || { echo "hunt: $left of $clerks clerks ready at the end" >&2; exit 1; }

[ "$write_doc" -eq 1 ] || exit 0

cat >"$T/doc-intro.md" <<'EOF'
How long one deskline node waits for Redis when it hunts a clerk for a queue call
(`src/call_hunt.c`): the claim script (`src/lua/claim.lua`, count 1) picks the best available
clerk and sets them ringing; when the phone does not take the call, the release script
(`src/lua/release.lua`) makes them available again. `bench/hunt_latency.c` loads both with
SCRIPT LOAD, their text taken from the daemon's own `agentdb_script_source()` (common.lua in
front of each script, as `scripts/lua2c.sh` makes them), and calls them with EVALSHA, one
request at a time, over a unix socket to a redis-server of the run's own. Redis runs on CPU 0
and the client on CPU 1 (`taskset`). Setup: *clerks* clerks (agent_sync into one queue,
register, set_state available) and queue_sync fewest-tasks. Then *pairs* round trips of PING
(what the socket and Redis's event loop cost alone), *pairs* EVALSHA of `src/lua/common.lua`
followed by `return 0` (what every agentdb script pays before its own first line: Redis runs the
whole text, helper functions and tables included, on every call), a warm-up of 1000 pairs, and
*pairs* pairs of claim → release (outcome cancelled), each timed with
`clock_gettime(CLOCK_MONOTONIC)` from the request's write to the reply parsed: *claim* alone,
and *claim+release* from the claim's write to the release's reply. Percentiles are nearest-rank,
in µs. *Redis µs/EVALSHA* is Redis's own time per script call (INFO commandstats, reset before
each phase; claims and releases together). Each claim and release both write the clerk's hash,
its queue's ready set and one entry of the events stream.
EOF
pairs_s=$(sed -n '1s/.* pairs, \([0-9.]*\) s, .*/\1/p' "$T/result.txt")
rate=$(sed -n '1s/.* s, \([0-9]*\) pairs\/s$/\1/p' "$T/result.txt")
row() { awk -v k="$1" '$1 == k { printf "| %s | %s | %s | %s | %s | %s | %s |\n", k, $2, $3, $4, $5, $6, $7 }' "$T/result.txt"; }
server_us=$(sed -n 's/^redis us per EVALSHA, claim and release: //p' "$T/result.txt")
prelude_us=$(sed -n 's/^redis us per EVALSHA, common.lua: //p' "$T/result.txt")
{
	echo "### $started_utc — claim and claim+release, $clerks clerks${appendfsync:+, Redis appendfsync $appendfsync}"
	echo
	echo "- machine: $(bench_machine); load average before the run: $loadavg"
	echo "- deskline commit $(bench_commit); Redis $(bench_redis_version) ($persistence);" \
	     "hiredis $(pkg-config --modversion hiredis); client built with \`gcc -O2\`"
	echo "- command: \`$cmdline\` ($pairs pairs after $warmup warm-up pairs, $clerks clerks;" \
	     "the timed pairs took $pairs_s s, $rate pairs/s)"
	echo "- Redis µs/EVALSHA: claim and release $server_us, common.lua alone $prelude_us;" \
	     "redis-server CPU over the whole run: $redis_pct% of CPU 0"
	echo
	echo "| µs | p50 | p90 | p99 | p99.9 | max | mean |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	row ping
	row common.lua
	row claim
	row claim+release
} >"$T/doc-section.md"
# shellcheck disable=SC2016 # the backquotes are Markdown
bench_doc_append 'Clerk hunt in Redis (`bench/hunt.sh`)' "$T/doc-intro.md" "$T/doc-section.md"
