#!/usr/bin/env bash
# Calls per second deskline answers through the menu, on loopback.
#
#   bench/cps.sh [options]
#
# Every call is bench/sipp/cps.xml: INVITE with SDP → 200 → ACK → the main menu's greeting
# plays (deskline sends RTP) → the caller hangs up after the hold (default 200 ms: ten 20 ms RTP
# packets) → BYE → 200. The greeting's packets go to bench/rtp_count.py, which counts them per
# SSRC, so a call only counts as good when sipp saw it succeed AND its greeting reached the caller.
#
# deskline runs on CPU 0 (taskset -c 0); sipp and the RTP counter on CPU 1. The rate steps up
# (--rates); each step places rate × --seconds calls. The run stops at the first step where more
# than 0.1% of calls failed (sipp failures plus answered calls that got no RTP) or sipp saw any
# retransmission; the highest clean rate is the last step before it. When the load generator's
# CPU is full (sipp + counter ≥ 95% of CPU 1) the step says so: beyond it the figure measures
# sipp, not deskline.
#
# Options:
#   --rates "R1 R2 …"    call rates to step through (default "50 100 200 400 600 800 1000 1500
#                        2000 2500 3000 4000 6000")
#   --seconds N          length of each step in seconds of offered traffic (default 10)
#   --hold-ms N          how long the caller stays on after the ACK (default 200)
#   --sipp N             sipp instances sharing each step's rate (default 1)
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
bench=$top/bench
# The command as typed, for the record: arguments with spaces in double quotes.
cmdline=bench/cps.sh
for arg in "$@"; do
	case $arg in *[[:space:]]*) cmdline+=" \"$arg\"" ;; *) cmdline+=" $arg" ;; esac
done

rates="50 100 200 400 600 800 1000 1500 2000 2500 3000 4000 6000"
seconds=10
hold_ms=200
n_sipp=1
perf_at=
write_doc=1
idle_s=35
deskline=
deskline_cpu=0
load_cpu=1
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
	--perf-at) perf_at=$2; shift 2 ;;
	--idle-s) idle_s=$2; shift 2 ;;
	--no-doc) write_doc=0; shift ;;
	--deskline) deskline=$(realpath "$2"); shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "cps: unknown option $1" >&2; usage 1 >&2 ;;
	esac
done

for tool in sipp taskset python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "cps: $tool not found (scripts/install-deps.sh installs it)" >&2
		exit 1
	fi
done
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

if [ -z "$deskline" ]; then
	deskline=$top/build/deskline
	if ! "$top/scripts/build.sh" >/dev/null 2>&1; then
		# build.sh also builds the unit tests; the daemon alone is enough here.
		echo "cps: scripts/build.sh failed; building the daemon alone (make deskline)" >&2
		[ -f "$top/build/Makefile" ] || "$top/scripts/build.sh"
		make -C "$top/build" deskline >/dev/null
	fi
fi
[ -x "$deskline" ] || { echo "cps: $deskline not found" >&2; exit 1; }
deskline_src=$deskline
deskline_built=$(date -u -r "$deskline" +%Y-%m-%dT%H:%M:%SZ)

T=$(mktemp -d /tmp/deskline-cps.XXXXXX)
# Run a copy: a rebuild during the run must not change what is measured (or the perf symbols).
cp "$deskline" "$T/deskline"
deskline=$T/deskline
deskline_sha=$(sha256sum "$deskline" | cut -c1-12)
pids=()
# TERM twice, like scripts/stop.sh: deskline's first TERM only refuses new calls, the second
# hangs up the ones left. KILL whatever is still there 3 s later.
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free UDP ports on 127.0.0.1 above the RTP range (20000-39999), one per argument.
free_ports() {
	python3 - "$1" <<'PY'
import random, socket, sys
want, got, socks = int(sys.argv[1]), [], []
while len(got) < want:
    p = random.randrange(40000, 60000)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        u.bind(("127.0.0.1", p)); t.bind(("127.0.0.1", p))
    except OSError:
        u.close(); t.close(); continue
    socks += [u, t]; got.append(p)
print(" ".join(map(str, got)))
PY
}
# 3 + one SIP and one media port per sipp instance.
read -r -a ports <<<"$(free_ports $((3 + 2 * n_sipp)))"
sip_port=${ports[0]}
trunk_port=${ports[1]}
rtp_sink_port=${ports[2]}

# The sample configuration on our ports: a wide RTP range (ports are not the limit), notice
# logging (one line per call at info would measure the log), CDRs in the work folder.
conf=$T/deskline.conf
sed -e "s#\"sip:127.0.0.1:5060\"#\"sip:127.0.0.1:$sip_port\"#" \
    -e "s#sip:payment@127.0.0.1:5070#sip:payment@127.0.0.1:$trunk_port#" \
    -e "s#sip:moked@127.0.0.1:5080#sip:moked@127.0.0.1:$trunk_port#" \
    -e "s#port_max = 29999;#port_max = 39999;#" \
    -e "s#directory = \"prompts\";#directory = \"$top/etc/prompts\";#" \
    -e "s#cdr_file = \"../run/cdr.log\";#cdr_file = \"$T/cdr.log\";#" \
    -e "s#level = \"info\";#level = \"notice\";#" \
    "$top/etc/deskline.conf" >"$conf"
if ! grep -q "port_max = 39999;" "$conf" || ! grep -q "level = \"notice\";" "$conf" ||
   ! grep -q "127.0.0.1:$sip_port" "$conf"; then
	echo "cps: etc/deskline.conf changed shape; $conf was not rewritten as expected" >&2
	exit 1
fi
"$deskline" -t -c "$conf" >/dev/null

started_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
taskset -c "$deskline_cpu" "$deskline" -c "$conf" -p "$T/deskline.pid" >>"$T/deskline.log" 2>&1 &
dl_pid=$!
pids+=("$dl_pid")
for _ in $(seq 100); do
	grep -q "started with" "$T/deskline.log" 2>/dev/null && break
	kill -0 "$dl_pid" 2>/dev/null || break
	sleep 0.1
done
grep -q "started with" "$T/deskline.log" ||
	{ echo "cps: deskline did not start:" >&2; tail -n 20 "$T/deskline.log" >&2; exit 1; }

taskset -c "$load_cpu" python3 "$bench/rtp_count.py" "$rtp_sink_port" "$T/rtp.status" &
sink_pid=$!
pids+=("$sink_pid")
for _ in $(seq 50); do [ -s "$T/rtp.status" ] && break; sleep 0.1; done
[ -s "$T/rtp.status" ] || { echo "cps: the RTP counter did not start" >&2; exit 1; }

# CPU time of a running process, all its threads, ns (/proc/PID/task/*/schedstat, first field:
# time on a CPU).
cpu_ns() {
	cat "/proc/$1/task/"*/schedstat 2>/dev/null | awk '{ ns += $1 } END { printf "%.0f", ns }'
}
# Time its threads were ready to run but waited for the CPU, ns (second field). Something else
# busy on deskline's CPU shows here; so does one deskline thread waiting for the other.
wait_ns() {
	cat "/proc/$1/task/"*/schedstat 2>/dev/null | awk '{ ns += $2 } END { printf "%.0f", ns }'
}
# Field of /proc/PID/status in kB, e.g. VmRSS.
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
now_ms() { date +%s%3N; }
# CPU time of this shell's reaped children so far, ms, into $children_ms: `times` (second line)
# run in this shell, not in $(…), whose subshell would have no children of its own. sipp runs as
# our child, so the difference around a step is exactly sipp's CPU.
children_cpu_ms() {
	local u s
	times >"$T/times"
	{ read -r _; read -r u s; } <"$T/times"
	children_ms=$(awk -v u="$u" -v s="$s" 'function ms(v, m) { m = v; sub(/m.*/, "", m);
		sub(/^[0-9]+m/, "", v); sub(/s$/, "", v); return m * 60000 + v * 1000 }
		BEGIN { printf "%d", ms(u) + ms(s) }')
}
udp_rcvbuf_errors() { awk '/^Udp:/ { n++; if (n == 2) print $6 }' /proc/net/snmp; }
# Receive drops of the UDP sockets bound to 127.0.0.1:PORT (/proc/net/udp, last column).
udp_port_drops() {
	awk -v p="0100007F:$(printf '%04X' "$1")" '$2 == p { d += $NF } END { print d + 0 }' /proc/net/udp
}
cdr_lines() { [ -f "$T/cdr.log" ] && wc -l <"$T/cdr.log" || echo 0; }

# Sum of sipp's final statistics over the step's instances: attempted successful failed
# retransmissions mean-INVITE→200-ms offered-rate. The offered rate is calls placed over the time
# between sipp's start and the 100 ms statistics sample where the last call had been placed.
sipp_totals() {
	python3 - "$@" <<'PY'
import sys
att = ok = failed = retrans = 0
rtt_sum = 0.0
rate = 0.0
for path in sys.argv[1:]:
    try:
        lines = [l.rstrip("\n") for l in open(path) if l.strip()]
    except OSError:
        continue
    if len(lines) < 2:
        continue
    head = lines[0].split(";")
    rows = [dict(zip(head, l.split(";"))) for l in lines[1:]]
    last = rows[-1]
    num = lambda r, k: int(r.get(k, "0") or 0)
    a, s = num(last, "OutgoingCall(C)"), num(last, "SuccessfulCall(C)")
    att += a; ok += s; failed += a - s
    retrans += num(last, "Retransmissions(C)")
    h, m, sec, us = last.get("ResponseTime1(C)", "0:0:0:0").split(":")
    rtt_sum += s * ((int(h) * 60 + int(m)) * 60 + int(sec) + int(us) / 1e6) * 1000
    epoch = lambda v: float(v.split("\t")[-1])
    start = epoch(rows[0]["StartTime"])
    for r in rows:
        if a and num(r, "OutgoingCall(C)") >= a:
            span = epoch(r["CurrentTime"]) - start
            if span > 0:
                rate += a / span
            break
print(att, ok, failed, retrans, "%.1f" % (rtt_sum / ok if ok else 0), "%.0f" % rate)
PY
}

rss_before=$(status_kb "$dl_pid" VmRSS)
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
started_ms=$(now_ms)
calls_total=0
clean_rate=0
stop_reason="every step was clean, so the highest rate tried is a lower bound"
rows=()
perf_note=
printf "deskline pid %s on CPU %s, sipp ×%s + RTP counter on CPU %s; work folder %s\n" \
	"$dl_pid" "$deskline_cpu" "$n_sipp" "$load_cpu" "$T"
printf "hold %s ms, %s s per step; deskline VmRSS %s kB\n" "$hold_ms" "$seconds" "$rss_before"
# udp-drop: receive-buffer drops at deskline's SIP socket / the RTP counter / anywhere else.
printf "%6s %8s %6s %7s %6s %8s %7s %8s %6s %6s %6s %6s %11s %8s\n" rate attempted failed \
	retrans no-rtp rtp/call inv-200 offered dl-cpu dl-wait sipp counter udp-drop rss-kB

for rate in $rates; do
	calls=$((rate * seconds))
	per_sipp=$(( (calls + n_sipp - 1) / n_sipp ))
	rate_each=$(awk -v r="$rate" -v n="$n_sipp" 'BEGIN { printf "%.3f", r / n }')

	read -r pk0 ss0 <"$T/rtp.status"
	cdr0=$(cdr_lines)
	drops0=$(udp_rcvbuf_errors)
	dl_drops0=$(udp_port_drops "$sip_port")
	sink_drops0=$(udp_port_drops "$rtp_sink_port")
	dl0=$(cpu_ns "$dl_pid")
	dlw0=$(wait_ns "$dl_pid")
	sink0=$(cpu_ns "$sink_pid")
	children_cpu_ms
	child0=$children_ms
	t0=$(now_ms)

	sipp_pids=()
	stats=()
	for i in $(seq 0 $((n_sipp - 1))); do
		sp=${ports[$((3 + 2 * i))]}
		mp=${ports[$((4 + 2 * i))]}
		st=$T/sipp-$rate-$i.csv
		stats+=("$st")
		# -l: room for every call of the step, so an overloaded deskline shows as failures and
		# retransmissions rather than sipp quietly throttling. -recv_timeout: a call that waits
		# 5 s for an answer (200 to the INVITE or the BYE) has failed.
		(cd "$T" && exec taskset -c "$load_cpu" sipp -sf "$bench/sipp/cps.xml" -s "$number" \
			-i 127.0.0.1 -p "$sp" -mp "$mp" -key rtp_port "$rtp_sink_port" \
			-d "$hold_ms" -r "$rate_each" -m "$per_sipp" -l "$per_sipp" \
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
	dl1=$(cpu_ns "$dl_pid")
	dlw1=$(wait_ns "$dl_pid")
	sink1=$(cpu_ns "$sink_pid")
	kill -TERM "$watchdog" 2>/dev/null || true
	wait "$watchdog" 2>/dev/null || true
	[ -z "$perf_pid" ] || wait "$perf_pid" || true
	pids=("$dl_pid" "$sink_pid")

	read -r att ok failed retrans rtt_ms offered <<<"$(sipp_totals "${stats[@]}")"
	# Let the calls end in deskline (CDR written), then read the counter (it writes every 200 ms).
	for _ in $(seq 50); do
		[ $(( $(cdr_lines) - cdr0 )) -ge "$att" ] && break
		sleep 0.1
	done
	sleep 0.5
	read -r pk1 ss1 <"$T/rtp.status"
	drops=$(( $(udp_rcvbuf_errors) - drops0 ))
	dl_drops=$(( $(udp_port_drops "$sip_port") - dl_drops0 ))
	sink_drops=$(( $(udp_port_drops "$rtp_sink_port") - sink_drops0 ))
	other_drops=$((drops - dl_drops - sink_drops))
	drops="$dl_drops/$sink_drops/$other_drops"
	cdr_new=$(( $(cdr_lines) - cdr0 ))
	cdr_hangup=$(tail -n "$cdr_new" "$T/cdr.log" 2>/dev/null |
		grep -c '"result":"caller-hangup"' || true)
	calls_total=$((calls_total + att))
	rss=$(status_kb "$dl_pid" VmRSS)

	wall_ms=$((t1 - t0))
	dl_pct=$(awk -v d=$((dl1 - dl0)) -v w="$wall_ms" 'BEGIN { printf "%.1f", d / 1e4 / w }')
	dlw_pct=$(awk -v d=$((dlw1 - dlw0)) -v w="$wall_ms" 'BEGIN { printf "%.1f", d / 1e4 / w }')
	sink_pct=$(awk -v d=$((sink1 - sink0)) -v w="$wall_ms" 'BEGIN { printf "%.1f", d / 1e4 / w }')
	sipp_pct=$(awk -v d=$((child1 - child0)) -v w="$wall_ms" 'BEGIN { printf "%.1f", d * 100 / w }')
	rtp_calls=$((ss1 - ss0))
	no_rtp=$(( ok > rtp_calls ? ok - rtp_calls : 0 ))
	per_call=$(awk -v p=$((pk1 - pk0)) -v c="$rtp_calls" 'BEGIN { printf "%.1f", c ? p / c : 0 }')
	bad=$((failed + no_rtp))

	printf "%6s %8s %6s %7s %6s %8s %7s %8s %5s%% %6s%% %5s%% %5s%% %11s %8s\n" "$rate" "$att" \
		"$failed" "$retrans" "$no_rtp" "$per_call" "${rtt_ms}ms" "$offered" "$dl_pct" \
		"$dlw_pct" "$sipp_pct" "$sink_pct" "$drops" "$rss"
	row=("$rate" "$att" "$failed" "$retrans" "$no_rtp" "$per_call" "$rtt_ms" "$offered" "$dl_pct"
	     "$dlw_pct" "$sipp_pct" "$sink_pct" "$dl_drops" "$sink_drops" "$other_drops" "$cdr_hangup"
	     "$rss")
	rows+=("$(printf '| %s ' "${row[@]}")|")

	load_pct=$(awk -v a="$sipp_pct" -v b="$sink_pct" 'BEGIN { printf "%d", a + b }')
	if [ "$att" -eq 0 ] || [ $((bad * 1000)) -gt $((att * fail_permille)) ] ||
	   [ "$retrans" -gt 0 ]; then
		stop_reason="stopped at $rate calls/s: of $att calls $failed failed and $no_rtp were"
		stop_reason+=" answered without RTP; $retrans retransmissions"
		if [ "$load_pct" -ge "$saturated_pct" ]; then
			stop_reason+="; CPU 1 (sipp + counter) was ${load_pct}% busy, so sipp may be the limit"
		fi
		break
	fi
	clean_rate=$rate
	if [ "$load_pct" -ge "$saturated_pct" ]; then
		stop_reason="stopped at $rate calls/s: CPU 1 (sipp + counter) was ${load_pct}% busy, so"
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
log_problems=$(grep -cE " (error|warning):" "$T/deskline.log" || true)
# The commonest error/warning messages, call ids and numbers folded.
grep -E " (error|warning):" "$T/deskline.log" | sed -E 's/^[^ ]+ //; s/\[[^]]*\] //; s/[0-9]+/N/g' |
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
echo "highest clean rate: $clean_rate calls/s (hold $hold_ms ms); $stop_reason"
memory="deskline VmRSS before: $rss_before kB; after the last step: $rss_after kB;"
memory+=" ${idle_s} s later: $rss_idle kB (VmHWM $hwm kB); $calls_total calls"
echo "$memory in ${elapsed_s} s"
echo "deskline log: $log_problems error/warning lines ($T/deskline.log)"
sed 's/^/  /' "$T/log-top.txt"
[ -z "$perf_note" ] || { echo "$perf_note"; cat "$T/perf-top.txt"; }

[ "$write_doc" -eq 1 ] || exit 0

doc=$top/docs/BENCHMARKS.md
if [ ! -f "$doc" ]; then
	cat >"$doc" <<'EOF'
# Benchmarks

Measured figures only. Every dated section below was appended by the script that measured it,
with the date, the machine, the commit and the exact command: run the same command to compare.
Loopback figures are for comparing builds, not for sizing hardware: a UDP send on loopback
delivers the packet within the sender's system call, so part of the receivers' kernel work is
charged to the sender, and nothing crosses a real network.

## Calls per second (`bench/cps.sh`)

One call (`bench/sipp/cps.xml`): INVITE with an SDP offer (PCMA, PCMU, telephone-event) → 180 →
200 → ACK → deskline plays the main menu's greeting (`etc/prompts/he/main-greeting.wav`, several
seconds long) → the caller hangs up after the *hold* → BYE → 200. The hold (`--hold-ms`,
default 200 ms) is long enough that every call really gets its prompt started and ten 20 ms RTP
packets sent, and short enough that the rate, not the number of open calls, is what is
measured. The caller sends no RTP, so in-band DTMF detection of caller audio is not part of
the cost.

deskline runs alone on CPU 0 (`taskset -c 0`), from `etc/deskline.conf` with temporary ports, an
RTP range of 20000-39999 (so ports are never the limit), log level `notice` and the CDR file in
the work folder. sipp and the RTP counter (`bench/rtp_count.py`, which counts the greeting's
packets per SSRC, one SSRC per call) share CPU 1. Everything is on 127.0.0.1. The rate steps
up, each step placing rate × `--seconds` calls (10 s by default), until a step has more than
0.1% bad calls (sipp failures plus calls answered without any RTP) or any sipp retransmission;
the highest clean rate is the last step before it.

Columns: *rate* calls/s asked of sipp; *attempted*, *failed* calls as sipp counts them;
*retrans* sipp's retransmissions (INVITE or BYE not answered within 500 ms); *no RTP* calls sipp
completed whose greeting never reached the caller; *RTP pkts/call* greeting packets received per
call that got any; *INVITE→200 ms* sipp's mean response time (sipp counts whole ms, so 0 means
under 1 ms); *offered* the rate sipp really placed calls at (from its 100 ms statistics, within
1%); *deskline*, *sipp*, *counter CPU%* CPU time of each process over the step's wall time
(100% = one core; deskline and the counter from `/proc/PID/task/*/schedstat`, all threads;
sipp from its rusage); *deskline wait%* time deskline's threads were ready to run but waited
for CPU 0 (second field of the same file: another busy process on CPU 0 shows here, and so does
one deskline thread waiting for the other); *drops* receive-buffer drops during the step at
deskline's SIP socket, at the RTP counter, and at every other UDP socket (`/proc/net/udp`,
`/proc/net/snmp`); *CDR caller-hangup* calls deskline wrote a CDR for with result
`caller-hangup`; *VmRSS kB* deskline's resident memory after the step.
EOF
fi
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
# Changes to the benchmark itself or its results do not change what is measured.
if [ -n "$(git -C "$top" --no-optional-locks status --porcelain --untracked-files=no \
	-- . ':!bench' ':!docs' 2>/dev/null)" ]; then
	commit="$commit (with uncommitted changes outside bench/ and docs/)"
fi
cflags=$(sed -n 's/^CFLAGS = //p' "$(dirname "$deskline_src")/Makefile" 2>/dev/null || true)
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
# sipp -v exits with 99.
sipp_version=$(sipp -v 2>&1 | grep -o 'SIPp v[^ ,]*' | head -n1 | sed 's/\.$//' || true)
columns=("rate" "attempted" "failed" "retrans" "no RTP" "RTP pkts/call" "INVITE→200 ms" "offered"
	 "deskline CPU%" "deskline wait%" "sipp CPU%" "counter CPU%" "drops deskline SIP"
	 "drops counter" "drops other" "CDR caller-hangup" "VmRSS kB")
{
	echo
	echo "### $started_utc — CPS, hold $hold_ms ms${perf_at:+, profiled at $perf_at calls/s}"
	echo
	echo "- machine: $(nproc) CPUs, $cpu_model, Linux $(uname -r); load average before the run:" \
	     "$loadavg"
	echo "- deskline commit $commit; binary ${deskline_src#"$top"/} built $deskline_built," \
	     "sha256 $deskline_sha…, CFLAGS \`${cflags:-unknown}\`; $sipp_version"
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
} >>"$doc"
echo "appended to $doc"
