#!/usr/bin/env bash
# Calls per second deskline answers through the menu, on loopback.
#
#   bench/cps.sh [options]
#
# Every call is bench/sipp/cps.xml: INVITE with SDP → 200 → ACK → the main menu's greeting
# plays (deskline sends RTP) → the caller presses 1 (an RFC 4733 telephone-event) → deskline
# sends the call to the payment trunk (bench/sipp/trunk.xml answers at once) and bridges it → the
# caller hangs up after the hold (default 200 ms) → BYE → 200, and deskline's BYE to the trunk.
# The caller's RTP end is bench/rtpload.c: it counts the greeting's packets per SSRC and answers
# each new one with the digit. A call counts as good only when sipp saw it succeed, its greeting
# reached the caller AND deskline's CDR shows it completed on the trunk (with --digit none the
# caller presses nothing and hangs up in the menu: the last condition is dropped).
#
# deskline runs on CPU 0 (taskset -c 0); sipp (caller and trunk), the RTP peer and a Redis of the run's own (which
# these calls never use beyond the node's heartbeat) on CPU 1. The department is open around the
# clock, so every call hears the main menu at any hour (bench_conf in bench/lib.sh). The rate
# steps up (--rates); each step places rate × --seconds calls. The run stops at the first step
# where more than 0.1% of calls failed (sipp failures, answered calls that got no RTP, calls not
# completed on the trunk) or sipp saw any retransmission; the highest clean rate is the last step
# before it. When the load generator's CPU is full (sipps + RTP peer ≥ 95% of CPU 1) the step
# says so: beyond it the figure measures sipp, not deskline.
#
# Options:
#   --rates "R1 R2 …"    call rates to step through (default "50 100 200 400 600 800 1000 1500
#                        2000 2500 3000 4000 6000")
#   --seconds N          length of each step in seconds of offered traffic (default 10)
#   --hold-ms N          how long the caller stays on after the ACK (default 200)
#   --sipp N             sipp instances sharing each step's rate (default 1)
#   --digit D|none       the menu option pressed (default 1: the payment trunk); none: no digit
#   --target kamailio    measure Kamailio (Debian's, as a stateful proxy: bench/kamailio.cfg, its
#                        processes all on CPU 0) relaying the same calls to the same trunk, instead
#                        of deskline: the signalling reference. No menu, no RTP, no digit.
#   --children N         Kamailio's UDP worker processes (default 4)
#   --workers N          media.workers (default 0: media on deskline's SIP loop)
#   --io-uring true|false  media.io_uring (default true, as in etc/deskline.conf)
#   --cpus LIST          CPUs deskline (or Kamailio) runs on, for taskset (default 0); with "0,1"
#                        it shares CPU 1 with the load generator, which then runs at nice -10 so
#                        it is served first (bench_load_first in bench/lib.sh)
#   --perf-at RATE       record `perf record --call-graph dwarf` of deskline for 5 s of that step
#   --idle-s N           wait N s after the last step before reading deskline's memory again
#                        (default 35: the 32 s SIP transactions outlive their calls)
#   --no-doc             print the result only; do not append it to docs/BENCHMARKS.md
#   --deskline PATH      benchmark this binary instead of building build/deskline
#
# Sends traffic to 127.0.0.1 only. Every process it starts is stopped by pid on exit. Working
# files (configuration, logs, sipp statistics, CDRs, perf data) stay in the printed folder.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cmdline=$(bench_cmdline bench/cps.sh "$@")

rates="50 100 200 400 600 800 1000 1500 2000 2500 3000 4000 6000"
seconds=10
hold_ms=200
n_sipp=1
digit=1
target=deskline
children=4
perf_at=
write_doc=1
idle_s=35
deskline=
deskline_cpu=0
load_cpu=1
workers=0
io_uring=true
number=1000            # a department number of etc/deskline.conf
fail_permille=1        # a step is clean when failed ≤ 0.1% of attempted
saturated_pct=95       # CPU 1 this busy: the load generator is the limit

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--rates) rates=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--hold-ms) hold_ms=$2; shift 2 ;;
	--sipp) n_sipp=$2; shift 2 ;;
	--digit) digit=$2; shift 2 ;;
	--target) target=$2; shift 2 ;;
	--children) children=$2; shift 2 ;;
	--perf-at) perf_at=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	--io-uring) io_uring=$2; shift 2 ;;
	--cpus) deskline_cpu=$2; shift 2 ;;
	--idle-s) idle_s=$2; shift 2 ;;
	--no-doc) write_doc=0; shift ;;
	--deskline) deskline=$(realpath "$2"); shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "cps: unknown option $1" >&2; usage 1 >&2 ;;
	esac
done

bench_need cps sipp taskset gcc python3 redis-server redis-cli
case $target in
deskline) ;;
kamailio) bench_need cps kamailio; digit=none ;;
*) echo "cps: --target is deskline or kamailio" >&2; exit 1 ;;
esac
[ -z "$perf_at" ] || command -v perf >/dev/null || { echo "cps: --perf-at needs perf" >&2; exit 1; }
if [ "$(nproc)" -lt 2 ]; then
	echo "cps: needs 2 CPUs (deskline on CPU 0, sipp on CPU 1); this machine has $(nproc)" >&2
	exit 1
fi

# Every call holds two descriptors in deskline (RTP + RTCP socket); the highest rate × (hold +
# setup) calls are open at once, and sipp keeps per-call state too.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt 8192 ]; then
	echo "cps: warning: open files limited to $(ulimit -n); high steps may fail for descriptors" >&2
fi

bench_build cps "$deskline"
bench_workdir cps
bench_raise_udp_buffers
bench_copy_deskline
bench_build_rtpload

# 4 + one SIP and one media port per sipp instance.
read -r -a ports <<<"$(free_ports $((4 + 2 * n_sipp)))"
sip_port=${ports[0]}
trunk_port=${ports[1]}
rtp_sink_port=${ports[2]}
trunk_media_port=${ports[3]}

# The sample configuration on our ports (bench_conf in bench/lib.sh).
conf=$T/deskline.conf
case $io_uring in true|false) ;; *) echo "cps: --io-uring is true or false" >&2; exit 1 ;; esac
bench_conf "$conf" "$sip_port" "$trunk_port" -e "s#^  workers = 0;#  workers = $workers;#" \
	-e "s#^  io_uring = true;#  io_uring = $io_uring;#"
grep -q "^  workers = $workers;" "$conf" ||
	{ echo "cps: etc/deskline.conf changed shape (media.workers)" >&2; exit 1; }
grep -q "^  io_uring = $io_uring;" "$conf" ||
	{ echo "cps: etc/deskline.conf changed shape (media.io_uring)" >&2; exit 1; }
bench_count_cpus "$deskline_cpu" >/dev/null ||
	{ echo "cps: --cpus is a list like 0 or 0,1" >&2; exit 1; }
bench_load_first "$deskline_cpu" "$load_cpu"

started_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
bench_start_redis "$load_cpu"
if [ "$target" = deskline ]; then
	bench_start_deskline "$conf" "$deskline_cpu"
else
	bench_start_kamailio "$sip_port" "$trunk_port" "$children" "$deskline_cpu"
	dl_pid=$kamailio_pid
fi

digit_args=()
[ "$digit" = none ] || digit_args=(-d "$digit")
bench_start_rtpload "$load_cpu" "$rtp_sink_port" "$T/rtp.status" "${digit_args[@]}"
sink_pid=$rtpload_pid
# The payment trunk: answers every B-leg at once, its audio address the same RTP peer.
bench_start_trunk "$load_cpu" "$trunk_port" "$trunk_media_port" "$rtp_sink_port"

rss_before=$(status_kb "$dl_pid" VmRSS)
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
started_ms=$(now_ms)
calls_total=0
clean_rate=0
stop_reason="every step was clean, so the highest rate tried is a lower bound"
rows=()
perf_note=
printf "%s pid %s on CPU %s, sipp ×%s + trunk sipp + RTP peer on CPU %s; digit %s; work folder %s\n" \
	"$target" "$dl_pid" "$deskline_cpu" "$n_sipp" "$load_cpu" "$digit" "$T"
printf "hold %s ms, %s s per step; deskline VmRSS %s kB\n" "$hold_ms" "$seconds" "$rss_before"
# udp-drop: receive-buffer drops at deskline's SIP socket / the RTP peer / anywhere else.
routed_lines() {
	local pat='"route":"trunk:payment".*"result":"completed"'
	[ "$digit" != none ] || pat='"result":"caller-hangup"'
	if [ -f "$T/cdr.log" ]; then grep -c "$pat" "$T/cdr.log" || true; else echo 0; fi
}
printf "%6s %8s %6s %7s %6s %7s %8s %7s %8s %6s %6s %6s %6s %11s %8s\n" rate attempted failed \
	retrans no-rtp routed rtp/call inv-200 offered dl-cpu dl-wait sipp peer udp-drop rss-kB

for rate in $rates; do
	calls=$((rate * seconds))
	per_sipp=$(( (calls + n_sipp - 1) / n_sipp ))
	rate_each=$(awk -v r="$rate" -v n="$n_sipp" 'BEGIN { printf "%.3f", r / n }')

	pk0=$(rtpload_get "$T/rtp.status" rx)
	ss0=$(rtpload_get "$T/rtp.status" streams)
	trunk0=$(cpu_ns "$trunk_pid")
	routed0=$(routed_lines)
	cdr0=$(cdr_lines)
	drops0=$(udp_rcvbuf_errors)
	dl_drops0=$(udp_port_drops "$sip_port")
	sink_drops0=$(udp_port_drops "$rtp_sink_port")
	dl0=$(tree_ns cpu_ns "$dl_pid")
	dlw0=$(tree_ns wait_ns "$dl_pid")
	sink0=$(cpu_ns "$sink_pid")
	children_cpu_ms
	child0=$children_ms
	t0=$(now_ms)

	sipp_pids=()
	stats=()
	for i in $(seq 0 $((n_sipp - 1))); do
		sp=${ports[$((4 + 2 * i))]}
		mp=${ports[$((5 + 2 * i))]}
		st=$T/sipp-$rate-$i.csv
		stats+=("$st")
		# -l: room for every call of the step, so an overloaded deskline shows as failures and
		# retransmissions rather than sipp quietly throttling. -recv_timeout: a call that waits
		# 5 s for an answer (200 to the INVITE or the BYE) has failed. -buff_size: 4 MiB socket
		# buffers, so the load generator is not what drops a burst of responses.
		(cd "$T" && exec taskset -c "$load_cpu" sipp -sf "$bench/sipp/cps.xml" -s "$number" \
			-i 127.0.0.1 -p "$sp" -mp "$mp" -key rtp_port "$rtp_sink_port" \
			-buff_size 4194304 -d "$hold_ms" -r "$rate_each" -m "$per_sipp" -l "$per_sipp" \
			-recv_timeout 5000 -nostdin -trace_stat -stf "$st" -fd 100ms \
			-trace_err -error_file "$T/sipp-$rate-$i.err" \
			"127.0.0.1:$sip_port" >"$T/sipp-$rate-$i.out" 2>&1) &
		sipp_pids+=("$!")
		pids+=("$!")
	done

	perf_pid=
	if [ "$rate" = "$perf_at" ]; then
		(sleep 2 && exec taskset -c "$load_cpu" perf record -q -F 499 --call-graph dwarf,16384 \
			-p "$dl_pid" -o "$T/perf.data" -- sleep 5) >"$T/perf.out" 2>&1 &
		perf_pid=$!
		pids+=("$perf_pid")
	fi
	# A stuck step ends after its length + 30 s: the sipps are stopped and their calls count as
	# failed.
	(
		trap 'kill -TERM $nap 2>/dev/null; exit 0' TERM
		sleep $((seconds + 30)) &
		nap=$!
		wait "$nap"
		kill -TERM "${sipp_pids[@]}" 2>/dev/null
	) &
	watchdog=$!
	pids+=("$watchdog")

	for p in "${sipp_pids[@]}"; do wait "$p" || true; done
	t1=$(now_ms)
	children_cpu_ms
	child1=$children_ms
	dl1=$(tree_ns cpu_ns "$dl_pid")
	dlw1=$(tree_ns wait_ns "$dl_pid")
	sink1=$(cpu_ns "$sink_pid")
	trunk1=$(cpu_ns "$trunk_pid")
	kill -TERM "$watchdog" 2>/dev/null || true
	wait "$watchdog" 2>/dev/null || true
	[ -z "$perf_pid" ] || wait "$perf_pid" || true
	pids=("$dl_pid" "$sink_pid" "$trunk_pid" "$redis_pid")

	read -r att ok failed retrans rtt_ms offered _ <<<"$(sipp_totals "${stats[@]}")"
	# Let the calls end in deskline (CDR written), then read the peer (it writes every 200 ms).
	for _ in $(seq 50); do
		[ $(( $(cdr_lines) - cdr0 )) -ge "$att" ] && break
		sleep 0.1
	done
	sleep 0.5
	pk1=$(rtpload_get "$T/rtp.status" rx)
	ss1=$(rtpload_get "$T/rtp.status" streams)
	drops=$(( $(udp_rcvbuf_errors) - drops0 ))
	dl_drops=$(( $(udp_port_drops "$sip_port") - dl_drops0 ))
	sink_drops=$(( $(udp_port_drops "$rtp_sink_port") - sink_drops0 ))
	other_drops=$((drops - dl_drops - sink_drops))
	drops="$dl_drops/$sink_drops/$other_drops"
	calls_total=$((calls_total + att))
	rss=$(status_kb "$dl_pid" VmRSS)

	wall_ms=$((t1 - t0))
	dl_pct=$(pct $((dl1 - dl0)) "$wall_ms")
	dlw_pct=$(pct $((dlw1 - dlw0)) "$wall_ms")
	sink_pct=$(pct $((sink1 - sink0)) "$wall_ms")
	# The callers' sipps (reaped children) and the trunk's (still running).
	sipp_pct=$(awk -v d=$((child1 - child0)) -v t=$((trunk1 - trunk0)) -v w="$wall_ms" \
		'BEGIN { printf "%.1f", (d + t / 1e6) * 100 / w }')
	rtp_calls=$((ss1 - ss0))
	[ "$target" = deskline ] || rtp_calls=$ok   # a proxy carries no RTP
	no_rtp=$(( ok > rtp_calls ? ok - rtp_calls : 0 ))
	per_call=$(awk -v p=$((pk1 - pk0)) -v c="$rtp_calls" 'BEGIN { printf "%.1f", c ? p / c : 0 }')
	# Calls deskline completed on the payment trunk (--digit none: every call the caller ended).
	routed=$(( $(routed_lines) - routed0 ))
	[ "$target" = deskline ] || routed=$ok    # nor writes CDRs
	not_routed=$(( ok > routed ? ok - routed : 0 ))
	bad=$((failed + no_rtp + not_routed))

	printf "%6s %8s %6s %7s %6s %7s %8s %7s %8s %5s%% %6s%% %5s%% %5s%% %11s %8s\n" "$rate" \
		"$att" "$failed" "$retrans" "$no_rtp" "$routed" "$per_call" "${rtt_ms}ms" "$offered" \
		"$dl_pct" "$dlw_pct" "$sipp_pct" "$sink_pct" "$drops" "$rss"
	row=("$rate" "$att" "$failed" "$retrans" "$no_rtp" "$routed" "$per_call" "$rtt_ms" "$offered"
	     "$dl_pct" "$dlw_pct" "$sipp_pct" "$sink_pct" "$dl_drops" "$sink_drops" "$other_drops"
	     "$rss")
	rows+=("$(printf '| %s ' "${row[@]}")|")

	load_pct=$(awk -v a="$sipp_pct" -v b="$sink_pct" 'BEGIN { printf "%d", a + b }')
	if [ "$att" -eq 0 ] || [ $((bad * 1000)) -gt $((att * fail_permille)) ] ||
	   [ "$retrans" -gt 0 ]; then
		stop_reason="stopped at $rate calls/s: of $att calls $failed failed, $no_rtp were"
		stop_reason+=" answered without RTP, $not_routed did not complete as asked; $retrans"
		stop_reason+=" retransmissions"
		if [ "$load_pct" -ge "$saturated_pct" ]; then
			stop_reason+="; CPU 1 (sipps + RTP peer) was ${load_pct}% busy, so sipp may be the limit"
		fi
		break
	fi
	clean_rate=$rate
	if [ "$load_pct" -ge "$saturated_pct" ]; then
		stop_reason="stopped at $rate calls/s: CPU 1 (sipps + RTP peer) was ${load_pct}% busy, so"
		stop_reason+=" the load generator is the limit, not deskline"
		break
	fi
done

rss_after=$(status_kb "$dl_pid" VmRSS)
# SIP transactions outlive their calls by 64×T1 = 32 s (RFC 3261 §17.2.2 Timer J, RFC 6026
# Timer L): memory still held after that is held for good.
sleep "$idle_s"
rss_idle=$(status_kb "$dl_pid" VmRSS)
hwm=$(status_kb "$dl_pid" VmHWM)
elapsed_s=$(( ($(now_ms) - started_ms) / 1000 ))
log=$T/$target.log
log_problems=$(grep -ciE " (error|warning):" "$log" || true)
# The commonest error/warning messages, call ids and numbers folded.
grep -iE " (error|warning):" "$log" | sed -E 's/^[^ ]+ //; s/\[[^]]*\] //; s/[0-9]+/N/g' |
	sort | uniq -c | sort -rn | head -n 5 >"$T/log-top.txt" || true

if [ -n "$perf_at" ] && [ -f "$T/perf.data" ]; then
	perf_report() {
		perf report -i "$T/perf.data" --stdio --sort dso,symbol -g none "$@" 2>/dev/null |
			grep '%' | sed -E 's/ +- +- *$//'
	}
	{
		echo "samples per thread (the main thread is tid $dl_pid):"
		perf script -i "$T/perf.data" -F tid 2>/dev/null | sort | uniq -c |
			awk '{ n[$2] = $1; t += $1 }
			     END { for (k in n) printf "  tid %s: %d samples, %.1f%%\n", k, n[k], n[k] * 100 / t }'
		echo "most time spent in (self):"
		perf_report --no-children --percent-limit 1.5
		echo "deskline's own functions (with what they call):"
		perf_report --children --percent-limit 2 | grep -E ' deskline +\[' |
			grep -vE '\] (_start|main) *$'
	} >"$T/perf-top.txt"
	perf_note="perf profile of 5 s at $perf_at calls/s: $T/perf.data, summary $T/perf-top.txt"
fi

echo
echo "highest clean rate of $target: $clean_rate calls/s (hold $hold_ms ms); $stop_reason"
memory="$target VmRSS before: $rss_before kB; after the last step: $rss_after kB;"
memory+=" ${idle_s} s later: $rss_idle kB (VmHWM $hwm kB); $calls_total calls"
echo "$memory in ${elapsed_s} s"
echo "$target log: $log_problems error/warning lines ($log)"
sed 's/^/  /' "$T/log-top.txt"
[ -z "$perf_note" ] || { echo "$perf_note"; cat "$T/perf-top.txt"; }

[ "$write_doc" -eq 1 ] || exit 0

# The chapter's introduction, for a BENCHMARKS.md that does not have the chapter yet.
if [ "$target" = kamailio ]; then
	chapter='Side by side: Kamailio 5.6 as a stateful proxy (`bench/cps.sh --target kamailio`)'
	flow="no prompt: Kamailio (Debian's package, \`bench/kamailio.cfg\`: tm, no record-route, its"
	flow+=" processes all on CPU 0) relays the INVITE statefully to the same trunk"
	flow+=" (\`bench/sipp/trunk.xml\`), which answers at once; the caller hangs up after the *hold*"
	flow+=" → BYE relayed → 200. The same sipp scenario, trunk and step rules as deskline's"
	flow+=" chapter; the *no RTP* and CDR columns do not apply (always 0 and the calls sipp"
	flow+=" completed), *VmRSS* is Kamailio's main process only"
	routed_col="completed"
elif [ "$digit" = none ]; then
	chapter='Calls per second (`bench/cps.sh`)'
	flow="the caller presses nothing and hangs up in the menu after the *hold* → BYE → 200"
	routed_col="CDR caller-hangup"
else
	chapter='Calls per second through the menu to the trunk (`bench/cps.sh`)'
	flow="the caller presses $digit (an RFC 4733 telephone-event) → deskline sends an INVITE to the"
	flow+=" payment trunk (\`bench/sipp/trunk.xml\`, 200 at once) and bridges the call → the"
	flow+=" caller hangs up after the *hold* → BYE → 200 → deskline's BYE to the trunk → 200"
	routed_col="CDR completed on trunk"
fi
cat >"$T/doc-intro.md" <<EOF
One call (\`bench/sipp/cps.xml\`): INVITE with an SDP offer (PCMA, PCMU, telephone-event) → 100 →
200 → ACK → deskline plays the main menu's greeting → $flow. The hold (\`--hold-ms\`, default
200 ms) is short so that the rate, not the number of open calls, is what is measured. The
caller's RTP end is \`bench/rtpload.c\`: it counts the greeting's packets per SSRC (one per
call) and answers each new one with the digit.

deskline runs alone on CPU 0 (\`taskset -c 0\`), from \`etc/deskline.conf\` with temporary ports,
an RTP range of 20000-39999, log level \`notice\`, the CDR file and the ticket spool in the work
folder, the department open around the clock and a Redis of the run's own on a unix socket.
The callers' sipp, the trunk's sipp, the RTP peer and Redis share CPU 1. Everything is on
127.0.0.1. The rate steps up, each step placing rate × \`--seconds\` calls (10 s by default),
until a step has more than 0.1% bad calls (sipp failures, calls answered without RTP, calls
that did not end as asked — $routed_col) or any sipp retransmission; the highest clean rate
is the last step before it.

Columns: *rate* calls/s asked of sipp; *attempted*, *failed* calls as sipp counts them;
*retrans* sipp's retransmissions; *no RTP* calls sipp completed whose greeting never reached
the caller; *$routed_col* calls whose CDR shows that; *RTP pkts/call* packets received per
call; *INVITE→200 ms* sipp's mean response time (whole ms); *offered* the rate sipp really
placed calls at; *deskline*, *sipp*, *RTP peer CPU%* CPU time over the step's wall time (100% =
one core; sipp is the callers' and the trunk's together); *deskline wait%* time deskline was
ready to run but waited for CPU 0; *drops* receive-buffer drops at deskline's SIP socket, the
RTP peer and every other UDP socket; *VmRSS kB* deskline's memory after the step.
EOF
columns=("rate" "attempted" "failed" "retrans" "no RTP" "$routed_col" "RTP pkts/call"
	 "INVITE→200 ms" "offered" "deskline CPU%" "deskline wait%" "sipp CPU%" "RTP peer CPU%"
	 "drops $target SIP" "drops RTP peer" "drops other" "VmRSS kB")
{
	echo "### $started_utc — CPS of $target, hold $hold_ms ms${perf_at:+, profiled at $perf_at calls/s}, $target on CPU $deskline_cpu$([ "$target" = deskline ] && echo ", media.workers = $workers, io_uring = $io_uring")"
	echo
	echo "- machine: $(bench_machine); load average before the run: $loadavg; $udp_buffers"
	[ "$target" = deskline ] ||
		echo "- $(kamailio -v | head -n1), $children UDP workers ($(bench_sipp_version))"
	[ "$target" = deskline ] || echo "- deskline itself not measured here; for the record:"
	echo "- deskline commit $(bench_commit); binary ${deskline_src#"$top"/} built" \
	     "$deskline_built, sha256 $deskline_sha…, CFLAGS \`$(bench_cflags)\`;" \
	     "$(bench_sipp_version); Redis $(bench_redis_version)"
	echo "- command: \`$cmdline\` ($seconds s per step, $n_sipp sipp instance(s), open files" \
	     "limit $(ulimit -n))"
	echo "- **highest clean rate: $clean_rate calls/s**; $stop_reason"
	echo "- $memory; $log_problems error/warning log lines"
	echo
	echo "$(printf '| %s ' "${columns[@]}")|"
	echo "$(printf '|---:%.0s' "${columns[@]}")|"
	printf '%s\n' "${rows[@]}"
	if [ -s "$T/log-top.txt" ]; then
		echo
		echo "Commonest deskline error/warning lines (count, message):"
		echo
		echo '```'
		cat "$T/log-top.txt"
		echo '```'
	fi
	if [ -n "$perf_note" ]; then
		echo
		echo "\`perf record -F 499 --call-graph dwarf\` of deskline for 5 s of the $perf_at calls/s step:"
		echo
		echo '```'
		cat "$T/perf-top.txt"
		echo '```'
	fi
} >"$T/doc-section.md"
# shellcheck disable=SC2016 # the backquotes are Markdown
bench_doc_append "$chapter" "$T/doc-intro.md" "$T/doc-section.md"
