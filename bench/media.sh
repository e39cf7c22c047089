#!/usr/bin/env bash
# Concurrent media calls deskline holds on one core, on loopback: calls in the menu, or bridged to
# the payment trunk, with RTP both ways at 20 ms.
#
#   bench/media.sh [options]
#
# --mode menu: every call (bench/sipp/cps.xml, held) stays in the main menu: deskline plays the
# greeting and the no-input prompt over and over (the menu's timeouts are made 100 ms and 100
# tries for the run) and runs DTMF detection on the caller's audio, which bench/rtpload.c sends
# at 20 ms from the first packet it gets: RFC 4733 events, and tones (spandsp's in-band detector)
# as --inband says.
# --mode bridged: the caller presses 1 (an RFC 4733 event) and deskline bridges the call to the
# payment trunk (bench/sipp/trunk.xml, which answers with the second RTP peer's address); both
# peers then send at 20 ms and deskline relays both ways.
#
# Each step places N calls (at --ramp-rate calls/s), waits until every one has RTP flowing, lets
# the calls settle (--settle-s: the 32 s SIP transactions of the set-up end first, so memory is
# what held calls cost), then measures for --window-s: the RTP peers time every packet deskline
# sends (kernel receive time stamps: intervals, lost sequence numbers, RFC 3550 jitter), deskline's
# CPU, the UDP receive-buffer drops of the whole machine (/proc/net/snmp RcvbufErrors) and
# deskline's memory. The calls then hang up and the next step begins. A step is clean when every
# call had RTP flowing, no packet was lost or late (an interval over 2 × 20 ms within a talkspurt),
# no UDP receive buffer overflowed and deskline's core stayed under 80%. The run stops after the
# first step that is not clean. Memory per call is the slope of deskline's VmRSS over N (least
# squares over the steps that completed).
#
# Options:
#   --mode menu|bridged  (default menu)
#   --calls "N1 N2 …"    concurrent calls per step (default "500 1000 1500 2000 2500 3000 3500 4000")
#   --ramp-rate R        calls/s at which each step's calls are placed (default 250)
#   --settle-s S         wait after the last call has RTP, before measuring (default 35)
#   --window-s S         measurement window (default 10)
#   --workers N          media.workers (default 0: media on deskline's SIP loop)
#   --inband auto|true|false  media.inband_dtmf (default auto, as in etc/deskline.conf: the
#                        callers here offer telephone-event, so auto looks for no tones; true
#                        runs the in-band detector on every packet a caller sends)
#   --burst              the RTP peers send every call's packet at the same moment each 20 ms
#                        (the pattern of the runs before 2026-12-07) instead of spreading the
#                        calls over 10 phases of the packet time, as independent phones do
#   --io-uring true|false  media.io_uring (default true, as in etc/deskline.conf; false: epoll
#                        and a system call per packet)
#   --cpus LIST          CPUs deskline runs on, for taskset (default 0). With "0,1" deskline
#                        shares CPU 1 with the load, which then runs at nice -10 so it is served
#                        first (bench_load_first in bench/lib.sh); the CPU limit is 80% × 2
#   --perf-at N          record `perf record --call-graph dwarf` of deskline for 5 s of that step
#   --no-doc             print the result only; do not append it to docs/BENCHMARKS.md
#   --deskline PATH      benchmark this binary instead of building build/deskline
#
# deskline on CPU 0; sipp, the RTP peers and Redis on CPU 1. Sends to 127.0.0.1 only; every
# process it starts is stopped by pid on exit.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cmdline=$(bench_cmdline bench/media.sh "$@")

mode=menu
steps="500 1000 1500 2000 2500 3000 3500 4000"
ramp_rate=250
settle_s=35
window_s=10
perf_at=
write_doc=1
deskline=
deskline_cpu=0
load_cpu=1
number=1000
max_cpu_pct=80
workers=0
inband=auto
io_uring=true
burst=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--calls) steps=$2; shift 2 ;;
	--ramp-rate) ramp_rate=$2; shift 2 ;;
	--settle-s) settle_s=$2; shift 2 ;;
	--window-s) window_s=$2; shift 2 ;;
	--perf-at) perf_at=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	--inband) inband=$2; shift 2 ;;
	--io-uring) io_uring=$2; shift 2 ;;
	--burst) burst=(-b); shift ;;
	--cpus) deskline_cpu=$2; shift 2 ;;
	--no-doc) write_doc=0; shift ;;
	--deskline) deskline=$(realpath "$2"); shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "media: unknown option $1" >&2; usage 1 >&2 ;;
	esac
done
case $mode in menu|bridged) ;; *) echo "media: --mode is menu or bridged" >&2; exit 1 ;; esac
case $inband in
auto) inband_value='"auto"' ;;
true|false) inband_value=$inband ;;
*) echo "media: --inband is auto, true or false" >&2; exit 1 ;;
esac
case $io_uring in true|false) ;; *) echo "media: --io-uring is true or false" >&2; exit 1 ;; esac
n_cpus=$(bench_count_cpus "$deskline_cpu") || { echo "media: --cpus is a list like 0 or 0,1" >&2; exit 1; }
cpu_limit=$((max_cpu_pct * n_cpus))
bench_load_first "$deskline_cpu" "$load_cpu"

bench_need media sipp taskset gcc python3 redis-server redis-cli
[ -z "$perf_at" ] || command -v perf >/dev/null || { echo "media: --perf-at needs perf" >&2; exit 1; }
if [ "$(nproc)" -lt 2 ]; then
	echo "media: needs 2 CPUs (deskline on CPU 0, the load on CPU 1); this machine has $(nproc)" >&2
	exit 1
fi
# Two descriptors per leg in deskline, two legs per bridged call; sipp holds every call too.
ulimit -n "$(ulimit -Hn)"

bench_build media "$deskline"
bench_workdir "media-$mode"
bench_raise_udp_buffers
bench_copy_deskline
bench_build_rtpload

read -r sip_port trunk_port port_a port_b mp_a mp_b <<<"$(free_ports 6)"
conf=$T/deskline.conf
# The menu waits 100 ms for a digit, 100 times, so prompts play all the time the call is held.
bench_conf "$conf" "$sip_port" "$trunk_port" \
	-e 's#first_digit_timeout_ms = 5000;#first_digit_timeout_ms = 100;#' \
	-e 's#max_timeouts = 3;#max_timeouts = 100;#' \
	-e "s#^  workers = 0;#  workers = $workers;#" \
	-e "s#^  inband_dtmf = \"auto\";#  inband_dtmf = $inband_value;#" \
	-e "s#^  io_uring = true;#  io_uring = $io_uring;#"
grep -q "^  workers = $workers;" "$conf" ||
	{ echo "media: etc/deskline.conf changed shape (media.workers)" >&2; exit 1; }
grep -qF "  inband_dtmf = $inband_value;" "$conf" ||
	{ echo "media: etc/deskline.conf changed shape (media.inband_dtmf)" >&2; exit 1; }
grep -q "^  io_uring = $io_uring;" "$conf" ||
	{ echo "media: etc/deskline.conf changed shape (media.io_uring)" >&2; exit 1; }
grep -q "first_digit_timeout_ms = 100;" "$conf" ||
	{ echo "media: etc/deskline.conf changed shape (first_digit_timeout_ms)" >&2; exit 1; }

started_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
bench_start_redis "$load_cpu"
bench_start_deskline "$conf" "$deskline_cpu"
status_a=$T/rtp-a.status
status_b=$T/rtp-b.status
if [ "$mode" = menu ]; then
	bench_start_rtpload "$load_cpu" "$port_a" "$status_a" -e "${burst[@]}"
	peer_a=$rtpload_pid
	peers=("$peer_a")
else
	bench_start_rtpload "$load_cpu" "$port_a" "$status_a" -e -T -d 1 "${burst[@]}"
	peer_a=$rtpload_pid
	bench_start_rtpload "$load_cpu" "$port_b" "$status_b" -e -T "${burst[@]}"
	peer_b=$rtpload_pid
	peers=("$peer_a" "$peer_b")
	bench_start_trunk "$load_cpu" "$trunk_port" "$mp_b" "$port_b"
fi
rss_start=$(status_kb "$dl_pid" VmRSS)
printf "mode %s, inband_dtmf %s, io_uring %s, peers %s; deskline pid %s on CPU %s, sipp + RTP peers on CPU %s; work folder %s\n" \
	"$mode" "$inband" "$io_uring" "$([ ${#burst[@]} -eq 0 ] && echo paced || echo burst)" "$dl_pid" "$deskline_cpu" "$load_cpu" "$T"
printf "%6s %6s %7s %9s %6s %6s %8s %8s %8s %8s %7s %6s %6s %6s %9s %8s %8s %6s\n" calls \
	rtp-up pkts lost late p50-us p99-us max-us jit-us dl-cpu rcvbuf peers sipp gen-late rss-kB \
	tr99-us trmax-us held

clean=0
stop_reason="every step was clean, so the highest number tried is a lower bound"
rows=()
rss_points=()
perf_note=
for n in $steps; do
	ramp_s=$(( (n + ramp_rate - 1) / ramp_rate ))
	# Held long enough for the ramp, RTP to start everywhere, the settle and the window.
	hold_ms=$(( (ramp_s + settle_s + window_s + 15) * 1000 ))
	cdr0=$(cdr_lines)
	streams0=$(rtpload_get "$status_a" streams)
	streams_b0=0
	[ "$mode" = menu ] || streams_b0=$(rtpload_get "$status_b" streams)
	children_cpu_ms
	child0=$children_ms
	(cd "$T" && exec taskset -c "$load_cpu" sipp -sf "$bench/sipp/cps.xml" -s "$number" \
		-i 127.0.0.1 -p 0 -mp "$mp_a" -key rtp_port "$port_a" -d "$hold_ms" -r "$ramp_rate" \
		-m "$n" -l "$n" -recv_timeout 10000 -nostdin -trace_stat -stf "$T/sipp-$n.csv" \
		-fd 1 -trace_err -error_file "$T/sipp-$n.err" "127.0.0.1:$sip_port" \
		>"$T/sipp-$n.out" 2>&1) &
	sipp_pid=$!
	pids+=("$sipp_pid")

	# Every call has RTP flowing: its stream reached the peer (both peers when bridged).
	up=0
	deadline=$(( $(now_ms) + (ramp_s + 20) * 1000 ))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		up=$(( $(rtpload_get "$status_a" streams) - streams0 ))
		if [ "$mode" = bridged ]; then
			up_b=$(( $(rtpload_get "$status_b" streams) - streams_b0 ))
			[ "$up_b" -lt "$up" ] && up=$up_b
		fi
		[ "$up" -ge "$n" ] && break
		sleep 0.5
	done
	sleep "$settle_s"

	perf_pid=
	if [ "$n" = "$perf_at" ]; then
		(exec taskset -c "$load_cpu" perf record -q -F 499 --call-graph dwarf,16384 \
			-p "$dl_pid" -o "$T/perf.data" -- sleep 5) >"$T/perf.out" 2>&1 &
		perf_pid=$!
		pids+=("$perf_pid")
	fi
	kill -USR1 "${peers[@]}"
	drops0=$(udp_rcvbuf_errors)
	dl0=$(cpu_ns "$dl_pid")
	peer0=0
	for p in "${peers[@]}"; do peer0=$((peer0 + $(cpu_ns "$p"))); done
	t0=$(now_ms)
	sleep "$window_s"
	t1=$(now_ms)
	dl1=$(cpu_ns "$dl_pid")
	peer1=0
	for p in "${peers[@]}"; do peer1=$((peer1 + $(cpu_ns "$p"))); done
	drops=$(( $(udp_rcvbuf_errors) - drops0 ))
	rss=$(status_kb "$dl_pid" VmRSS)
	sleep 0.3   # the peers write their status every 200 ms
	cp "$status_a" "$T/window-$n-a.status"
	[ "$mode" = menu ] || cp "$status_b" "$T/window-$n-b.status"
	[ -z "$perf_pid" ] || wait "$perf_pid" || true

	# The window's figures, both peers together (the worse of the two for maxima).
	read -r pkts lost late p50 p99 pmax jit tick_late transits tr_p99 tr_max tr_late \
		<<<"$(python3 - "$T/window-$n-a.status" \
		"$T/window-$n-b.status" <<'PY'
import sys
rows = []
for path in sys.argv[1:]:
    try:
        rows.append(dict(kv.split("=", 1) for kv in open(path).read().split()))
    except OSError:
        pass
num = lambda k: [float(r[k]) for r in rows]
print(int(sum(num("w_rx"))), int(sum(num("w_lost"))), int(sum(num("w_late"))),
      int(max(num("w_int_p50_us"))), int(max(num("w_int_p99_us"))), int(max(num("w_int_max_us"))),
      int(max(num("w_jitter_max_us"))), int(max(num("w_tick_late_max_us"))),
      int(sum(num("w_transits"))), int(max(num("w_transit_p99_us"))),
      int(max(num("w_transit_max_us"))), int(sum(num("w_transit_late"))))
PY
)"
	wall_ms=$((t1 - t0))
	dl_pct=$(pct $((dl1 - dl0)) "$wall_ms")
	peer_pct=$(pct $((peer1 - peer0)) "$wall_ms")

	# Let the calls hang up, then count what sipp saw.
	wait "$sipp_pid" || true
	children_cpu_ms
	pids=("$dl_pid" "${peers[@]}" "$redis_pid" ${trunk_pid:+"$trunk_pid"})
	read -r att ok failed retrans _ <<<"$(sipp_totals "$T/sipp-$n.csv")"
	for _ in $(seq 100); do
		[ $(( $(cdr_lines) - cdr0 )) -ge "$att" ] && break
		sleep 0.1
	done
	sipp_s=$(( (children_ms - child0) / 1000 ))
	rss_points+=("$n $rss")

	printf "%6s %6s %7s %9s %6s %6s %8s %8s %8s %7s%% %6s %5s%% %5ss %6sus %9s %8s %8s %6s\n" \
		"$n" "$up" "$pkts" "$lost" "$late" "$p50" "$p99" "$pmax" "$jit" "$dl_pct" "$drops" \
		"$peer_pct" "$sipp_s" "$tick_late" "$rss" "$tr_p99" "$tr_max" "$tr_late"
	row=("$n" "$up" "$ok" "$failed" "$retrans" "$pkts" "$lost" "$late" "$p50" "$p99" "$pmax"
	     "$jit" "$dl_pct" "$drops" "$peer_pct" "$tick_late" "$rss")
	[ "$mode" = menu ] || row+=("$transits" "$tr_p99" "$tr_max" "$tr_late")
	rows+=("$(printf '| %s ' "${row[@]}")|")

	why=()
	[ "$up" -ge "$n" ] || why+=("only $up of $n calls had RTP flowing")
	[ "$failed" -eq 0 ] || why+=("$failed calls failed in sipp")
	[ "$lost" -eq 0 ] || why+=("$lost packets lost")
	if [ "$mode" = menu ]; then
		[ "$late" -eq 0 ] || why+=("$late packets late (interval > 40 ms)")
	else
		# A relay sends when the far end's packet arrives: its intervals are the peers' own
		# timing plus deskline's. Its deadline is the transit: forwarded before the next is due.
		[ "$transits" -gt 0 ] || why+=("no stamped packet came through (transit not measured)")
		[ "$tr_late" -eq 0 ] || why+=("$tr_late packets held longer than 20 ms (transit)")
	fi
	[ "$drops" -eq 0 ] || why+=("$drops UDP receive-buffer drops")
	awk -v c="$dl_pct" -v m="$cpu_limit" 'BEGIN { exit !(c >= m) }' &&
		why+=("deskline's CPU ${dl_pct}% busy (≥ ${cpu_limit}%)")
	if [ ${#why[@]} -gt 0 ]; then
		stop_reason="stopped at $n calls: $(IFS=';'; echo "${why[*]}" | sed 's/;/; /g')"
		if awk -v c="$peer_pct" 'BEGIN { exit !(c >= 90) }' || [ "$tick_late" -gt 5000 ]; then
			stop_reason+="; the RTP peers used ${peer_pct}% of CPU 1 and their timer ran up to"
			stop_reason+=" ${tick_late} µs late, so the load generator may be the limit"
		fi
		break
	fi
	clean=$n
done

# Memory per held call: least-squares slope of VmRSS over N (kB → KiB per call).
slope=$(printf '%s\n' "${rss_points[@]}" | awk '{ n++; sx += $1; sy += $2; sxx += $1 * $1;
	sxy += $1 * $2 } END { d = n * sxx - sx * sx; if (n < 2 || d == 0) print "n/a";
	else printf "%.1f", (n * sxy - sx * sy) / d }')
log_problems=$(grep -cE " (error|warning):" "$T/deskline.log" || true)
if [ -n "$perf_at" ] && [ -f "$T/perf.data" ]; then
	perf report -i "$T/perf.data" --stdio --sort dso,symbol -g none --no-children \
		--percent-limit 1.5 2>/dev/null | grep '%' | sed -E 's/ +- +- *$//' >"$T/perf-top.txt"
	perf_note="perf profile of 5 s with $perf_at calls: $T/perf.data"
fi

echo
echo "highest clean number of concurrent $mode calls: $clean; $stop_reason"
echo "memory: VmRSS $rss_start kB at the start; slope $slope KiB per held call"
echo "deskline log: $log_problems error/warning lines ($T/deskline.log)"
[ -z "$perf_note" ] || { echo "$perf_note"; cat "$T/perf-top.txt"; }
[ "$write_doc" -eq 1 ] || exit 0

cat >"$T/doc-intro.md" <<'EOF'
How many calls deskline holds at once with RTP both ways at 20 ms, on one core. *menu*: every
call stays in the main menu — deskline plays the greeting and the no-input prompt again and again
(the run makes the menu's digit timeout 100 ms and allows 100 timeouts) and runs DTMF detection
(RFC 4733 and in-band, spandsp) on the caller's audio. *bridged*: the caller presses 1 (RFC 4733)
and deskline bridges the call to the payment trunk (`bench/sipp/trunk.xml`); both ends then send
20 ms of audio and deskline relays both ways (2 legs, 4 streams per call).

The far ends' RTP is `bench/rtpload.c`: one socket whose address is in every SDP, audio sent with
`sendmmsg` — since 2026-12-07 each call in one of 10 phases of the 20 ms packet time (a clock
every 2 ms sends the calls of the next phase), as independent phones are not in step; before,
and with `--burst`, every call's packet at the same moment — and every packet deskline sends
timed by the kernel's receive time stamp (`SO_TIMESTAMPNS`). deskline runs alone on CPU 0; sipp, the RTP peers and Redis share
CPU 1; all on 127.0.0.1. Each step places N calls, waits for RTP on all of them, lets them settle
35 s (the SIP transactions of the set-up end), then measures a 10 s window. A step is clean when
every call has RTP, no packet is lost (sequence numbers) or late (an interval over 40 ms inside a
talkspurt — one packet time behind), no UDP receive buffer on the machine overflowed
(`RcvbufErrors`) and deskline's core stayed under 80%.

Columns: *calls* held; *RTP up* calls whose RTP reached the far end(s); *sipp ok/failed/retrans*
sipp's count of the calls (they hang up after the window); *packets* deskline sent to the peers in
the window; *lost*, *late* as above; *interval p50/p99/max µs* between consecutive packets of a
stream; *jitter µs* the highest RFC 3550 interarrival jitter of any stream; *deskline CPU%* over
the window (100% = one core); *RcvbufErrors* UDP receive-buffer drops on the machine during the
window; *peers CPU%* the RTP peers' CPU; *peer timer late µs* how late the peers' own 20 ms
timer ran at worst (their health, not deskline's); *VmRSS kB* deskline's memory while holding
the calls.

Bridged calls have no clock of deskline's own: a relay sends each packet when the far end's
arrives, so the intervals the peers measure are the other peer's timing plus deskline's (a peer
tick 30 ms late is a "late" interval deskline did not cause). There the peers stamp every packet
with its send time (`rtpload -T`, CLOCK_MONOTONIC in the first 12 payload bytes, which the relay
passes on), and the deadline is the *transit*, the peer's send to the other peer's kernel
queue through deskline: a step is clean when no packet was held longer than one packet time
(20 ms), the time the next one was due. *stamped* packets that carried a stamp; *transit
p99/max µs*; *held > 20 ms* the packets over the deadline. The late intervals are still shown.
EOF
columns=("calls" "RTP up" "sipp ok" "sipp failed" "sipp retrans" "packets" "lost" "late"
	 "interval p50 µs" "interval p99 µs" "interval max µs" "jitter µs" "deskline CPU%"
	 "RcvbufErrors" "peers CPU%" "peer timer late µs" "VmRSS kB")
[ "$mode" = menu ] || columns+=("stamped" "transit p99 µs" "transit max µs" "held > 20 ms")
{
	echo "### $started_utc — concurrent $mode calls, media.workers = $workers," \
	     "inband_dtmf = $inband, io_uring = $io_uring, RTP peers $([ ${#burst[@]} -eq 0 ] &&
	     echo paced || echo "in one burst"), deskline on CPU $deskline_cpu"
	echo
	echo "- machine: $(bench_machine); load average before the run: $loadavg; $udp_buffers"
	echo "- deskline commit $(bench_commit); binary ${deskline_src#"$top"/} built" \
	     "$deskline_built, sha256 $deskline_sha…, CFLAGS \`$(bench_cflags)\`;" \
	     "$(bench_sipp_version); Redis $(bench_redis_version)"
	echo "- command: \`$cmdline\` (calls placed at $ramp_rate/s, settle $settle_s s," \
	     "window $window_s s)"
	echo "- **highest clean number of concurrent $mode calls: $clean**; $stop_reason"
	echo "- memory: VmRSS $rss_start kB with no calls; **$slope KiB per held call** (least-squares" \
	     "slope of VmRSS over the steps); $log_problems error/warning log lines"
	echo
	echo "$(printf '| %s ' "${columns[@]}")|"
	echo "$(printf '|---:%.0s' "${columns[@]}")|"
	printf '%s\n' "${rows[@]}"
	if [ -n "$perf_note" ]; then
		echo
		echo "\`perf record -F 499 --call-graph dwarf\` of deskline for 5 s with $perf_at calls (self time):"
		echo
		echo '```'
		cat "$T/perf-top.txt"
		echo '```'
	fi
} >"$T/doc-section.md"
# shellcheck disable=SC2016 # the backquotes are Markdown
bench_doc_append 'Concurrent media calls (`bench/media.sh`)' "$T/doc-intro.md" "$T/doc-section.md"
