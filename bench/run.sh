#!/usr/bin/env bash
# The whole benchmark suite, one command, on this machine (as root, Debian 12):
#
#   bench/run.sh [--quick]
#
# Installs what is missing (scripts/install-deps.sh --bench: Kamailio for the comparison), builds
# deskline, then runs, each appending its own dated section to docs/BENCHMARKS.md:
#   1. bench/cps.sh                      calls/s through the menu, one RFC 4733 digit, the trunk
#   2. bench/cps.sh --target kamailio    the same calls through Kamailio 5.6 (stateful proxy)
#   3. bench/media.sh --mode menu        concurrent calls in the menu, RTP both ways, DTMF on
#      (RFC 4733; in-band "auto", the default), and again with --inband true (spandsp's tone
#      detector on every packet)
#   4. bench/media.sh --mode bridged     concurrent calls bridged to the trunk, RTP relayed
#   5. bench/hunt.sh                     Lua claim / claim+release latency in Redis
#   6. bench/queue_cps.sh                queue calls/s with auto-answering clerks
#   7. bench/soak.sh                     memory over a million calls at half the clean CPS
#   8. parts 1, 3 and 4 again on two cores: deskline with media.workers = 2 on CPUs 0 and 1
#      (--workers 2 --cpus 0,1), sharing CPU 1 with its load generators
#   9. bench/udp_floor.sh                the kernel's own cost per RTP packet on loopback, without
#                                        deskline: the most calls one core could carry
# and last a summary section — every figure against its target, and the ratio of deskline's CPS
# to Kamailio's — also appended to docs/BENCHMARKS.md. --quick: shorter steps and a soak of
# 100,000 calls, to try the suite out (the summary says so).
#
# About 60 minutes (--quick: about 30). Every benchmark but part 8 puts deskline (or Kamailio) on
# CPU 0 and its load on CPU 1; nothing else should run meanwhile. Logs of each part: the printed
# folder.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cmdline=$(bench_cmdline bench/run.sh "$@")

quick=0
case ${1:-} in
"") ;;
--quick) quick=1 ;;
-h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
*) echo "run: unknown option $1" >&2; exit 1 ;;
esac

"$top/scripts/install-deps.sh" --bench
bench_build run ""
logs=$(mktemp -d /tmp/deskline-bench-suite.XXXXXX)
started_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
echo "bench suite: logs in $logs"

seconds=10 soak_calls=1000000 settle=35 window=10
if [ "$quick" -eq 1 ]; then
	seconds=5 soak_calls=100000 settle=10 window=5
fi
cps_rates="500 1000 1500 2000 2500 3000 4000 5000 6000"
menu_calls="500 1000 1500 2000 2500 3000 3500"
bridged_calls="250 500 750 1000 1250 1500 2000 2500"

part() {
	local name=$1
	shift
	echo "== $name: $*"
	"$@" 2>&1 | tee "$logs/$name.log"
}
part cps "$bench/cps.sh" --rates "$cps_rates" --seconds "$seconds" --deskline "$deskline_src"
part kamailio "$bench/cps.sh" --target kamailio --rates "$cps_rates" --seconds "$seconds" \
	--deskline "$deskline_src"
part menu "$bench/media.sh" --mode menu --calls "$menu_calls" --settle-s "$settle" \
	--window-s "$window" --deskline "$deskline_src"
part menu-inband "$bench/media.sh" --mode menu --inband true --calls "$menu_calls" \
	--settle-s "$settle" --window-s "$window" --deskline "$deskline_src"
part bridged "$bench/media.sh" --mode bridged --calls "$bridged_calls" --settle-s "$settle" \
	--window-s "$window" --deskline "$deskline_src"
part hunt "$bench/hunt.sh"
part queue "$bench/queue_cps.sh" --clerks 400 --key-delay-ms 100 --seconds "$seconds" \
	--rates "200 400 600 800 1000 1200 1400" --deskline "$deskline_src"
cps=$(sed -n 's/^highest clean rate of deskline: \([0-9]*\) calls.*/\1/p' "$logs/cps.log")
soak_rate=$(( cps / 2 ))
[ "$soak_rate" -ge 100 ] || soak_rate=100
part soak "$bench/soak.sh" --calls "$soak_calls" --rate "$soak_rate" --deskline "$deskline_src"
two=(--workers 2 --cpus 0,1)
part cps2 "$bench/cps.sh" "${two[@]}" --rates "$cps_rates" --seconds "$seconds" \
	--deskline "$deskline_src"
part menu2 "$bench/media.sh" "${two[@]}" --mode menu --calls "$menu_calls 4000 4500" \
	--settle-s "$settle" --window-s "$window" --deskline "$deskline_src"
part bridged2 "$bench/media.sh" "${two[@]}" --mode bridged --calls "$bridged_calls 3000" \
	--settle-s "$settle" --window-s "$window" --deskline "$deskline_src"
part floor "$bench/udp_floor.sh"

# The summary: each figure from its part's own output.
kam=$(sed -n 's/^highest clean rate of kamailio: \([0-9]*\) calls.*/\1/p' "$logs/kamailio.log")
menu=$(sed -n 's/^highest clean number of concurrent menu calls: \([0-9]*\);.*/\1/p' "$logs/menu.log")
menu_inband=$(sed -n 's/^highest clean number of concurrent menu calls: \([0-9]*\);.*/\1/p' \
	"$logs/menu-inband.log")
bridged=$(sed -n 's/^highest clean number of concurrent bridged calls: \([0-9]*\);.*/\1/p' \
	"$logs/bridged.log")
cps2=$(sed -n 's/^highest clean rate of deskline: \([0-9]*\) calls.*/\1/p' "$logs/cps2.log")
menu2=$(sed -n 's/^highest clean number of concurrent menu calls: \([0-9]*\);.*/\1/p' \
	"$logs/menu2.log")
bridged2=$(sed -n 's/^highest clean number of concurrent bridged calls: \([0-9]*\);.*/\1/p' \
	"$logs/bridged2.log")
# Why each two-core part stopped: there the load generators share a CPU with deskline.
why() { sed -n 's/^highest clean [^;]*; \(.*\)/\1/p' "$1" | head -n1; }
kib_menu=$(sed -n 's/.*slope \([0-9.n/a]*\) KiB per held call.*/\1/p' "$logs/menu.log")
kib_bridged=$(sed -n 's/.*slope \([0-9.n/a]*\) KiB per held call.*/\1/p' "$logs/bridged.log")
floor_calls=$(sed -n 's/^most calls within 80% of one core on these calls alone, //p' "$logs/floor.log" |
	paste -sd ';' | sed 's/;/; /g')
claim_p99=$(awk '$1 == "claim" { print $4 }' "$logs/hunt.log" | head -n1)
queue=$(sed -n 's/^highest clean rate: \([0-9]*\) calls.*/\1/p' "$logs/queue.log")
drift=$(sed -n 's/^\*\*drift: \([-0-9.n/a]*\)%.*/\1/p' "$logs/soak.log")
ratio=$(awk -v d="$cps" -v k="$kam" 'BEGIN { if (k > 0) printf "%.2f", d / k; else print "n/a" }')
verdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
	if (v == "" || v == "n/a") { print "not measured"; exit }
	ok = (op == ">=") ? v + 0 >= t : v + 0 <= t; print ok ? "met" : "**not met**" }'; }
abs() { echo "${1#-}"; }

cat >"$logs/doc-intro.md" <<'EOF'
`bench/run.sh` runs every benchmark above in turn and then adds here what it measured against the
targets: first on one core of this machine for deskline (the load generators on the other), then
the CPS and concurrency figures again with two media threads (`media.workers = 2`) and deskline
on both cores — where the load generators share CPU 1 with it, so a two-core figure is a lower
bound whenever the load generator's CPU is the limit (the "stopped" reason says) — and last the
kernel's floor per RTP packet (`bench/udp_floor.sh`).
EOF
{
	title="### $started_utc — suite"
	[ "$quick" -eq 0 ] || title+=" (--quick: shorter steps, soak of $soak_calls calls)"
	echo "$title"
	echo
	echo "- machine: $(bench_machine); deskline commit $(bench_commit)"
	echo "- command: \`$cmdline\`; logs of each part in $logs"
	echo
	echo "| figure | measured | target | |"
	echo "|---|---:|---:|---|"
	echo "| CPS through the menu, one RFC 4733 digit, to the trunk | $cps calls/s | ≥ 2000 | $(verdict "$cps" ">=" 2000) |"
	echo "| Kamailio 5.6 stateful proxy, same calls, same trunk | $kam calls/s | — | ratio deskline/Kamailio **$ratio** |"
	echo "| concurrent menu calls, DTMF detection on (RFC 4733, in-band auto) | $menu | ≥ 2500 | $(verdict "$menu" ">=" 2500) |"
	echo "| the same with in-band detection on every packet (--inband true) | $menu_inband | ≥ 2500 | $(verdict "$menu_inband" ">=" 2500) |"
	echo "| concurrent bridged calls | $bridged | ≥ 2500 | $(verdict "$bridged" ">=" 2500) |"
	echo "| two cores, media.workers = 2: CPS | $cps2 calls/s | ≥ 2000 | $(verdict "$cps2" ">=" 2000) |"
	echo "| two cores: concurrent menu calls | $menu2 | ≥ 2500 | $(verdict "$menu2" ">=" 2500) |"
	echo "| two cores: concurrent bridged calls | $bridged2 | ≥ 2500 | $(verdict "$bridged2" ">=" 2500) |"
	echo "| hunt claim p99 (unix socket) | ${claim_p99} µs | < 1000 µs | $(verdict "$claim_p99" "<=" 999.9) |"
	echo "| queue calls/s, 400 auto-answering clerks | $queue calls/s | — | |"
	echo "| RSS per held call (menu / bridged) | $kib_menu / $kib_bridged KiB | ≤ 32 KiB | $(verdict "$kib_menu" "<=" 32) / $(verdict "$kib_bridged" "<=" 32) |"
	echo "| RSS drift over the soak ($soak_calls calls at $soak_rate/s) | $drift % | < 5% | $(verdict "$(abs "$drift")" "<=" 4.99) |"
	echo
	echo "- kernel floor (\`bench/udp_floor.sh\`, no deskline): $(sed -n 's/^kernel per packet, //p' "$logs/floor.log" |
	     paste -sd ';' | sed 's/;/; /g');" \
	     "within 80% of one core these system calls alone allow at most: $floor_calls calls"
	echo "- two cores, CPS: $(why "$logs/cps2.log")"
	echo "- two cores, menu: $(why "$logs/menu2.log")"
	echo "- two cores, bridged: $(why "$logs/bridged2.log")"
} >"$logs/doc-section.md"
# shellcheck disable=SC2016 # the backquotes are Markdown
bench_doc_append 'Suite summary (`bench/run.sh`)' "$logs/doc-intro.md" "$logs/doc-section.md"
cat "$logs/doc-section.md"
