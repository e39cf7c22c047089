#!/usr/bin/env bash
# Queue calls per second: residents press 4 and clerks answer, on loopback.
#
#   bench/queue_cps.sh [options]
#
# Every call is bench/sipp/queue_caller.xml: INVITE with SDP → 200 → ACK → the caller presses 4
# at once, or --key-delay-ms later (an RFC 4733 telephone-event, the sip-tester capture
# dtmf_2833_4.pcap) → deskline runs the queue `collection`: claims a clerk in Redis and rings
# their phone → the phone (bench/sipp/clerk.xml, one sipp UAS that is every clerk's registered
# Contact) answers at once and hangs up after the hold → deskline hangs up the caller → BYE →
# 200. A call is good when sipp saw it succeed AND deskline's CDR says a clerk took it
# ("route":"queue:collection","result":"completed","detail":"clerk …").
#
# Before the first step the clerks' phones register with digest authentication
# (bench/sipp/register.xml) and the clerks are logged in with `deskctl agent set ID available`.
# The queue is the sample's (fewest-tasks, callers do not wait for a clerk: with every clerk busy
# a call overflows at once) with wrap_up_ms 0, and its overflow is a plain hangup (no ticket, no
# call-center trunk), so a call that found no clerk shows in the CDR and costs nothing more.
# N clerks holding each call for H ms take at most N / H calls: with 20 clerks and 200 ms, about
# 100 calls/s; --clerks raises that ceiling to find deskline's own.
#
# deskline runs on CPU 0 (taskset -c 0); the callers' sipp, the clerks' sipp and a Redis of the
# run's own (unix socket, no persistence) on CPU 1. The rate steps up (--rates); each step places
# rate × --seconds calls. The run stops at the first step where more than 0.1% of the calls
# failed in sipp or did not reach a clerk; the highest clean rate is the last step before it.
#
# Options:
#   --rates "R1 R2 …"    call rates to step through (default "10 20 30 40 50 60 70 80 90 100
#                        120 150 200")
#   --seconds N          length of each step in seconds of offered traffic (default 10)
#   --clerks N           clerks logged in (default 20, at most 999)
#   --hold-ms N          how long a clerk stays on the call after answering (default 200)
#   --key-delay-ms N     the caller presses 4 this long after the ACK (default 0: at once)
#   --log-level LEVEL    deskline's log level (default notice; info or debug to follow each call
#                        in the work folder's deskline.log, which costs CPU)
#   --no-doc             print the result only; do not append it to docs/BENCHMARKS.md
#   --deskline PATH      benchmark this binary (and the deskctl beside it) instead of building
#
# Sends traffic to 127.0.0.1 only. Every process it starts is stopped by pid on exit. Working
# files (configuration, logs, sipp statistics, CDRs) stay in the printed folder.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cmdline=$(bench_cmdline bench/queue_cps.sh "$@")

rates="10 20 30 40 50 60 70 80 90 100 120 150 200"
seconds=10
n_clerks=20
hold_ms=200
key_delay_ms=0
write_doc=1
log_level=notice
deskline=
deskline_cpu=0
load_cpu=1
number=1000            # a department number of etc/deskline.conf
queue=collection       # the queue digit 4 leads to in etc/deskline.conf
fail_permille=1        # a step is clean when bad ≤ 0.1% of attempted
saturated_pct=95       # CPU 1 this busy: the load generator is the limit
dtmf_pcap=/usr/share/sip-tester/dtmf_2833_4.pcap

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--rates) rates=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--clerks) n_clerks=$2; shift 2 ;;
	--hold-ms) hold_ms=$2; shift 2 ;;
	--key-delay-ms) key_delay_ms=$2; shift 2 ;;
	--log-level) log_level=$2; shift 2 ;;
	--no-doc) write_doc=0; shift ;;
	--deskline) deskline=$(realpath "$2"); shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "queue-cps: unknown option $1" >&2; usage 1 >&2 ;;
	esac
done
if [ "$n_clerks" -lt 1 ] || [ "$n_clerks" -gt 999 ]; then
	echo "queue-cps: --clerks must be 1-999" >&2
	exit 1
fi

bench_need queue-cps sipp taskset python3 redis-server redis-cli
[ -r "$dtmf_pcap" ] || { echo "queue-cps: $dtmf_pcap not found (package sip-tester)" >&2; exit 1; }
if [ "$(nproc)" -lt 2 ]; then
	echo "queue-cps: needs 2 CPUs (deskline on CPU 0, the rest on CPU 1); this machine has $(nproc)" >&2
	exit 1
fi
# Every call holds four descriptors in deskline (RTP + RTCP of both legs).
ulimit -n "$(ulimit -Hn)"

bench_build queue-cps "$deskline"
deskctl=$(dirname "$deskline_src")/deskctl
[ -x "$deskctl" ] || { echo "queue-cps: $deskctl not found" >&2; exit 1; }
bench_workdir queue-cps
bench_copy_deskline

read -r sip_port trunk_port clerk_port clerk_media caller_port caller_media reg_port \
	<<<"$(free_ports 7)"

# The sample configuration (bench_conf in bench/lib.sh) with the queue as described above and
# the sample's clerks replaced by c001…cNNN, password pw-cNNN, all in the queue.
conf=$T/deskline.conf
bench_conf "$conf.tmp" "$sip_port" "$trunk_port" \
	-e 's/wrap_up_ms = 30000;/wrap_up_ms = 0;/' \
	-e 's/on_overflow = \[ "play:transfer-callcenter", "trunk:callcenter" \];/on_overflow = [ "hangup" ];/'
if ! grep -q 'wrap_up_ms = 0;' "$conf.tmp" || ! grep -q 'on_overflow = \[ "hangup" \];' "$conf.tmp"
then
	echo "queue-cps: etc/deskline.conf changed shape: queue not rewritten" >&2
	exit 1
fi
python3 - "$conf.tmp" "$conf" "$n_clerks" "$queue" <<'PY'
import re, sys
src, dst, n, queue = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = ['  { id = "c%03d"; extension = "%d"; name = "Clerk %d"; email = "c%03d@example.org";'
        ' password = "pw-c%03d"; queues = [ "%s" ]; }' % (i, 6000 + i, i, i, i, queue)
        for i in range(1, n + 1)]
text, count = re.subn(r"^clerks = \(.*?^\);", "clerks = (\n" + ",\n".join(rows) + "\n);",
                      open(src).read(), count=1, flags=re.S | re.M)
if count != 1:
    sys.exit("queue-cps: etc/deskline.conf changed shape: no clerks list")
open(dst, "w").write(text)
PY
sed -i "s#level = \"notice\";#level = \"$log_level\";#" "$conf"
"$deskline" -t -c "$conf" >/dev/null

started_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
bench_start_redis "$load_cpu"
bench_start_deskline "$conf" "$deskline_cpu"
rcli() { redis-cli -s "$T/redis.sock" "$@"; }

# The clerks' phones: one UAS for all of them.
(cd "$T" && exec taskset -c "$load_cpu" sipp -sf "$bench/sipp/clerk.xml" -i 127.0.0.1 \
	-p "$clerk_port" -mp "$clerk_media" -d "$hold_ms" -nostdin -trace_stat -stf "$T/clerk.csv" \
	-fd 1 -trace_err -error_file "$T/clerk.err" >"$T/clerk.out" 2>&1) &
clerk_pid=$!
pids+=("$clerk_pid")
for _ in $(seq 100); do
	ss -Hlun "sport = :$clerk_port" 2>/dev/null | grep -q . && break
	sleep 0.05
done
ss -Hlun "sport = :$clerk_port" 2>/dev/null | grep -q . ||
	{ echo "queue-cps: the clerks' sipp did not start:" >&2; cat "$T/clerk.out" >&2; exit 1; }

# Register every phone (digest authentication), then log every clerk in.
{
	echo SEQUENTIAL
	for i in $(seq 1 "$n_clerks"); do
		printf 'c%03d;[authentication username=c%03d password=pw-c%03d]\n' "$i" "$i" "$i"
	done
} >"$T/clerks.csv"
if ! (cd "$T" && taskset -c "$load_cpu" sipp -sf "$bench/sipp/register.xml" -inf "$T/clerks.csv" \
	-key clerk_port "$clerk_port" -i 127.0.0.1 -p "$reg_port" -m "$n_clerks" -r 50 -l 50 \
	-nostdin -timeout 60s -trace_err -error_file "$T/register.err" \
	"127.0.0.1:$sip_port" >"$T/register.out" 2>&1); then
	echo "queue-cps: registering the clerks' phones failed:" >&2
	tail -n 20 "$T/register.out" >&2
	exit 1
fi
for i in $(seq 1 "$n_clerks"); do
	"$deskctl" -c "$conf" agent set "$(printf 'c%03d' "$i")" available >/dev/null
done
ready_key="dl:queue:$queue:ready"
[ "$(rcli ZCARD "$ready_key")" = "$n_clerks" ] ||
	{ echo "queue-cps: only $(rcli ZCARD "$ready_key") of $n_clerks clerks ready" >&2; exit 1; }

# The clerks' sipp counters (cumulative, written every second): incoming successful failed
# retransmissions.
clerk_counts() {
	python3 - "$T/clerk.csv" <<'PY'
import sys
try:
    lines = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
except OSError:
    lines = []
if len(lines) < 2:
    print(0, 0, 0, 0)
    sys.exit()
row = dict(zip(lines[0].split(";"), lines[-1].split(";")))
num = lambda k: int(row.get(k, "0") or 0)
print(num("IncomingCall(C)"), num("SuccessfulCall(C)"), num("FailedCall(C)"),
      num("Retransmissions(C)"))
PY
}
# Receive drops at a sipp's media sockets (audio and video, RTP and RTCP: sipp binds four from
# -mp up and reads none of them), which only fill with the RTP deskline sends them.
#   media_drops BASE_PORT
media_drops() {
	awk -v b="$1" 'NR > 1 { split($2, a, ":"); p = 0
		for (i = 1; i <= 4; i++) p = p * 16 + index("0123456789ABCDEF", substr(a[2], i, 1)) - 1
		if (a[1] == "0100007F" && p >= b && p < b + 4) d += $NF }
		END { print d + 0 }' /proc/net/udp
}
# Every 100 ms until stopped, into FILE: how many clerks are ready (the fewest seen during a step
# is how close the clerks came to running out) and the drops at the callers' media sockets so
# far (they close when the step's sipp exits, taking their count with them).
ready_sampler() {
	while :; do
		echo "$(rcli ZCARD "$ready_key" 2>/dev/null || echo '?') $(media_drops "$caller_media")"
		sleep 0.1
	done >"$1"
}

rss_before=$(status_kb "$dl_pid" VmRSS)
started_ms=$(now_ms)
calls_total=0
clean_rate=0
stop_reason="every step was clean, so the highest rate tried is a lower bound"
rows=()
read -r clerk_in0 _ clerk_fail0 clerk_re0 <<<"$(clerk_counts)"
printf "deskline pid %s on CPU %s; callers, %s clerks (one sipp) and Redis on CPU %s; work folder %s\n" \
	"$dl_pid" "$deskline_cpu" "$n_clerks" "$load_cpu" "$T"
printf "clerk hold %s ms, key %s ms after the ACK, %s s per step; deskline VmRSS %s kB\n" \
	"$hold_ms" "$key_delay_ms" "$seconds" "$rss_before"
printf "%5s %6s %6s %7s %7s %7s %7s %7s %7s %7s %6s %6s %6s %6s %6s %6s %11s %8s\n" rate calls \
	failed retrans clerk no-clerk inv-200 ack-bye offered min-rdy dl-cpu dl-wait others steal \
	redis sipp udp-drop rss-kB

for rate in $rates; do
	calls=$((rate * seconds))
	cdr0=$(cdr_lines)
	dl_drops0=$(udp_port_drops "$sip_port")
	clerk_drops0=$(media_drops "$clerk_media")
	dl0=$(cpu_ns "$dl_pid")
	dlw0=$(wait_ns "$dl_pid")
	read -r cpu0_busy0 cpu0_steal0 <<<"$(cpu_stat_ns "$deskline_cpu")"
	redis0=$(cpu_ns "$redis_pid")
	clerk_cpu0=$(cpu_ns "$clerk_pid")
	children_cpu_ms
	child0=$children_ms
	ready_sampler "$T/ready-$rate.txt" &
	sampler_pid=$!
	pids+=("$sampler_pid")
	t0=$(now_ms)

	st=$T/caller-$rate.csv
	# -l: room for every call of the step, so an overloaded deskline shows as failures rather
	# than sipp quietly throttling. -recv_timeout: a message awaited 35 s has failed the call.
	(cd "$T" && exec taskset -c "$load_cpu" sipp -sf "$bench/sipp/queue_caller.xml" -s "$number" \
		-i 127.0.0.1 -p "$caller_port" -mp "$caller_media" -key dtmf_pcap "$dtmf_pcap" \
		-d "$key_delay_ms" -r "$rate" -m "$calls" -l "$calls" -recv_timeout 35000 -nostdin -trace_stat -stf "$st" \
		-fd 100ms -trace_err -error_file "$T/caller-$rate.err" \
		"127.0.0.1:$sip_port" >"$T/caller-$rate.out" 2>&1) &
	caller_pid=$!
	pids+=("$caller_pid")
	# A stuck step ends after its length + 60 s: sipp is stopped and its calls count as failed.
	(
		trap 'kill -TERM $nap 2>/dev/null; exit 0' TERM
		sleep $((seconds + 60)) &
		nap=$!
		wait "$nap"
		kill -TERM "$caller_pid" 2>/dev/null
	) &
	watchdog=$!
	pids+=("$watchdog")

	wait "$caller_pid" || true
	t1=$(now_ms)
	children_cpu_ms
	child1=$children_ms
	dl1=$(cpu_ns "$dl_pid")
	dlw1=$(wait_ns "$dl_pid")
	read -r cpu0_busy1 cpu0_steal1 <<<"$(cpu_stat_ns "$deskline_cpu")"
	redis1=$(cpu_ns "$redis_pid")
	clerk_cpu1=$(cpu_ns "$clerk_pid")
	kill -TERM "$watchdog" 2>/dev/null || true
	wait "$watchdog" 2>/dev/null || true
	kill -TERM "$sampler_pid" 2>/dev/null || true
	wait "$sampler_pid" 2>/dev/null || true
	pids=("$dl_pid" "$redis_pid" "$clerk_pid")

	read -r att _ failed retrans rtt_ms offered ackbye_ms <<<"$(sipp_totals "$st")"
	# Let deskline write the calls' CDRs, and the clerks' sipp its counters (every second).
	for _ in $(seq 100); do
		[ $(( $(cdr_lines) - cdr0 )) -ge "$att" ] && break
		sleep 0.1
	done
	sleep 1.2
	read -r clerk_in _ clerk_fail clerk_re <<<"$(clerk_counts)"
	clerk_calls=$((clerk_in - clerk_in0)); clerk_failed=$((clerk_fail - clerk_fail0))
	clerk_retrans=$((clerk_re - clerk_re0))
	clerk_in0=$clerk_in; clerk_fail0=$clerk_fail; clerk_re0=$clerk_re
	dl_drops=$(( $(udp_port_drops "$sip_port") - dl_drops0 ))
	caller_drops=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$T/ready-$rate.txt")
	media_drops=$(( $(media_drops "$clerk_media") - clerk_drops0 + caller_drops ))
	cdr_new=$(( $(cdr_lines) - cdr0 ))
	tail -n "$cdr_new" "$T/cdr.log" >"$T/cdr-$rate.log" 2>/dev/null || true
	reached=$(grep -c "\"route\":\"queue:$queue\",\"result\":\"completed\",\"detail\":\"clerk c" \
		"$T/cdr-$rate.log" || true)
	not_reached=$(( att > reached ? att - reached : 0 ))
	# What the other calls' CDRs say, commonest first: "route result detail" ×count.
	cdr_other=$(grep -v "\"result\":\"completed\",\"detail\":\"clerk c" "$T/cdr-$rate.log" |
		python3 -c '
import collections, json, sys
c = collections.Counter()
for line in sys.stdin:
    try:
        r = json.loads(line)
    except ValueError:
        continue
    c["%s %s %s" % (r.get("route", "?"), r.get("result", "?"), r.get("detail", ""))] += 1
print("; ".join("%s ×%d" % (k.strip(), n) for k, n in c.most_common(3)))' || true)
	min_ready=$(awk '$1 ~ /^[0-9]+$/ { if (m == "" || $1 < m) m = $1 } END { print m == "" ? "?" : m }' \
		"$T/ready-$rate.txt")
	calls_total=$((calls_total + att))
	rss=$(status_kb "$dl_pid" VmRSS)

	wall_ms=$((t1 - t0))
	dl_pct=$(pct $((dl1 - dl0)) "$wall_ms")
	dlw_pct=$(pct $((dlw1 - dlw0)) "$wall_ms")
	redis_pct=$(pct $((redis1 - redis0)) "$wall_ms")
	# Whatever else ran on deskline's CPU (never below 0: /proc/stat counts in 10 ms ticks).
	others_pct=$(pct $(( (cpu0_busy1 - cpu0_busy0) - (dl1 - dl0) > 0 ?
		(cpu0_busy1 - cpu0_busy0) - (dl1 - dl0) : 0 )) "$wall_ms")
	steal_pct=$(pct $((cpu0_steal1 - cpu0_steal0)) "$wall_ms")
	# Both sipps: the callers' from our rusage (it was our child), the clerks' from schedstat.
	sipp_pct=$(awk -v c=$((child1 - child0)) -v k=$((clerk_cpu1 - clerk_cpu0)) -v w="$wall_ms" \
		'BEGIN { printf "%.1f", (c * 1e6 + k) / 1e4 / w }')
	queue_ms=$(awk -v a="$ackbye_ms" -v h="$hold_ms" -v k="$key_delay_ms" \
		'BEGIN { printf "%.1f", a - h - k }')
	all_retrans=$((retrans + clerk_retrans))
	bad=$((failed + not_reached))

	printf "%5s %6s %6s %7s %7s %7s %6sms %6sms %7s %7s %5s%% %5s%% %5s%% %5s%% %5s%% %5s%% %11s %8s\n" \
		"$rate" "$att" "$failed" "$all_retrans" "$reached" "$not_reached" "$rtt_ms" \
		"$ackbye_ms" "$offered" "$min_ready" "$dl_pct" "$dlw_pct" "$others_pct" "$steal_pct" \
		"$redis_pct" "$sipp_pct" "$dl_drops/$media_drops" "$rss"
	[ -z "$cdr_other" ] || echo "      other CDRs: $cdr_other"
	[ "$clerk_failed" -eq 0 ] || echo "      the clerks' sipp counted $clerk_failed failed calls"
	row=("$rate" "$att" "$failed" "$all_retrans" "$reached" "$not_reached" "$clerk_calls"
	     "$clerk_failed" "$rtt_ms" "$ackbye_ms" "$queue_ms" "$offered" "$min_ready" "$dl_pct"
	     "$dlw_pct" "$others_pct" "$steal_pct" "$redis_pct" "$sipp_pct" "$dl_drops" "$media_drops"
	     "$rss")
	rows+=("$(printf '| %s ' "${row[@]}")|")

	load_pct=$(awk -v a="$sipp_pct" -v b="$redis_pct" 'BEGIN { printf "%d", a + b }')
	if [ "$att" -eq 0 ] || [ $((bad * 1000)) -gt $((att * fail_permille)) ]; then
		stop_reason="stopped at $rate calls/s: of $att calls $failed failed in sipp and"
		stop_reason+=" $not_reached did not reach a clerk${cdr_other:+ (CDRs: $cdr_other)};"
		stop_reason+=" $all_retrans retransmissions; fewest clerks ready: $min_ready of $n_clerks"
		if [ "$load_pct" -ge "$saturated_pct" ]; then
			stop_reason+="; CPU 1 (sipps + Redis) was ${load_pct}% busy, so it may be the limit"
		fi
		break
	fi
	clean_rate=$rate
	if [ "$load_pct" -ge "$saturated_pct" ]; then
		stop_reason="stopped at $rate calls/s: CPU 1 (sipps + Redis) was ${load_pct}% busy, so"
		stop_reason+=" the load generator is the limit, not deskline"
		break
	fi
done

rss_after=$(status_kb "$dl_pid" VmRSS)
elapsed_s=$(( ($(now_ms) - started_ms) / 1000 ))
# Nobody may be left ringing or on a call once the calls are over (wrap_up_ms is 0).
sleep 1
ready_end=$(rcli ZCARD "$ready_key")
states_end=$(for i in $(seq 1 "$n_clerks"); do rcli HGET "dl:agent:$(printf 'c%03d' "$i")" state; done |
	sort | uniq -c | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')
log_problems=$(grep -cE " (error|warning):" "$T/deskline.log" || true)
grep -E " (error|warning):" "$T/deskline.log" | sed -E 's/^[^ ]+ //; s/\[[^]]*\] //; s/[0-9]+/N/g' |
	sort | uniq -c | sort -rn | head -n 5 >"$T/log-top.txt" || true

echo
echo "highest clean rate: $clean_rate calls/s ($n_clerks clerks, hold $hold_ms ms); $stop_reason"
memory="deskline VmRSS before: $rss_before kB; after the last step: $rss_after kB; $calls_total calls"
echo "$memory in ${elapsed_s} s"
echo "clerks at the end: $states_end; $ready_end ready"
echo "deskline log: $log_problems error/warning lines ($T/deskline.log)"
sed 's/^/  /' "$T/log-top.txt"

[ "$write_doc" -eq 1 ] || exit 0

cat >"$T/doc-intro.md" <<'EOF'
One call, caller's side (`bench/sipp/queue_caller.xml`): INVITE with an SDP offer (PCMA, PCMU,
telephone-event) → 200 → ACK → the caller presses 4 at once, or `--key-delay-ms` later (RFC
4733, the 140 ms sip-tester capture `dtmf_2833_4.pcap` replayed from the caller's media port) →
deskline runs the queue `collection`: claims the best clerk in Redis and rings their phone → the
phone answers at once (200 with SDP, no ringing) and the clerk hangs up after the *hold* →
deskline hangs up the caller → BYE → 200. All the clerks' phones are one sipp UAS
(`bench/sipp/clerk.xml`), each clerk registered with its own Contact user on it
(`bench/sipp/register.xml`, digest authentication) and logged in with `deskctl agent set ID
available`. A call is good when sipp saw it succeed and deskline's CDR says a clerk took it
(`"route":"queue:collection","result":"completed","detail":"clerk …"`).

Configuration: `etc/deskline.conf` as for `bench/cps.sh` (temporary ports, RTP 20000-39999, log
level `notice`, the department open around the clock, a Redis of the run's own on a unix socket
without persistence), the clerks c001…cNNN, and the queue as in the sample (fewest-tasks,
callers do not wait for a clerk: with every clerk busy a call overflows at once) except
`wrap_up_ms = 0` and `on_overflow = [ "hangup" ]` (no ticket, no call-center trunk: a call that
found no clerk just shows in the CDR). *clerks* clerks holding each call for *hold* ms take at
most clerks / hold calls/s (20 and 200 ms: 100 calls/s), so with few clerks the clerks are the
limit, not deskline.

deskline runs on CPU 0; both sipps and Redis share CPU 1. Everything is on 127.0.0.1. The rate
steps up, each step placing rate × `--seconds` calls (10 s by default), until more than 0.1% of
a step's calls failed in sipp or did not reach a clerk; the highest clean rate is the last step
before it.

Columns: *rate* calls/s asked of sipp; *attempted*, *failed* calls as the callers' sipp counts
them; *retrans* retransmissions seen by the callers' and the clerks' sipp (a request or a 200
not answered within 500 ms); *reached clerk* CDRs of the step's calls that a clerk took, *no
clerk* attempted calls without one; *clerk calls*, *clerk failed* INVITEs the clerks' phones got
and the calls they counted as failed; *INVITE→200 ms* the callers' mean response time (sipp
counts whole ms); *ACK→BYE ms* the callers' mean time from their ACK to deskline's BYE, and
*queue ms* the same minus the key delay and the hold: the key's detection (deskline acts on its
first event packet), the hunt and the clerk's INVITE/200/ACK; *offered* the rate sipp really
placed calls at; *fewest ready* the fewest clerks in the queue's ready set in Redis (sampled
every 100 ms) during the step; *deskline CPU%*, *deskline wait%*, *Redis CPU%*, *sipp CPU%*
(both sipps) as in `bench/cps.sh`; *CPU 0 others%* CPU 0's busy time (`/proc/stat`, 10 ms ticks)
minus deskline's: other processes and kernel threads on deskline's CPU, which should stay near
0; *CPU 0 steal%* time the hypervisor kept CPU 0 from running; *drops* UDP receive-buffer drops
at deskline's SIP socket and at the sipps' media sockets (which sipp never reads: they fill with
the queue music and relayed audio deskline sends, then drop; deskline's own RTP sockets close
with their calls, taking their counts with them, so they are not counted); *VmRSS kB* deskline's
resident memory after the step.
EOF
columns=("rate" "attempted" "failed" "retrans" "reached clerk" "no clerk" "clerk calls"
	 "clerk failed" "INVITE→200 ms" "ACK→BYE ms" "queue ms" "offered" "fewest ready"
	 "deskline CPU%" "deskline wait%" "CPU 0 others%" "CPU 0 steal%" "Redis CPU%" "sipp CPU%"
	 "drops deskline SIP" "drops sipp media" "VmRSS kB")
{
	echo "### $started_utc — queue CPS, $n_clerks clerks, hold $hold_ms ms, key $key_delay_ms ms after the ACK"
	echo
	echo "- machine: $(bench_machine); load average before the run: $loadavg"
	echo "- deskline commit $(bench_commit); binary ${deskline_src#"$top"/} built" \
	     "$deskline_built, sha256 $deskline_sha…, CFLAGS \`$(bench_cflags)\`;" \
	     "$(bench_sipp_version); Redis $(bench_redis_version)"
	echo "- command: \`$cmdline\` ($seconds s per step, open files limit $(ulimit -n))"
	echo "- **highest clean rate: $clean_rate calls/s** ($n_clerks clerks × hold $hold_ms ms:" \
	     "at most $(awk -v n="$n_clerks" -v h="$hold_ms" 'BEGIN { printf "%d", n * 1000 / h }')" \
	     "calls/s); $stop_reason"
	echo "- $memory; clerks at the end: $states_end ($ready_end ready);" \
	     "$log_problems error/warning log lines"
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
} >"$T/doc-section.md"
# shellcheck disable=SC2016 # the backquotes are Markdown
bench_doc_append 'Queue calls per second (`bench/queue_cps.sh`)' "$T/doc-intro.md" \
	"$T/doc-section.md"
