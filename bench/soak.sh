#!/usr/bin/env bash
# Memory drift over a long run: deskline answers --calls calls at --rate calls/s (by default a
# million at 1000/s, half the clean CPS of bench/cps.sh), every one the CPS call (greeting, the
# caller presses 1, the payment trunk, hang-up after 200 ms), while deskline's VmRSS is read every
# 10 s. Memory must come back flat: the drift is the change of VmRSS from the end of the warm-up
# (--warmup-s, default 120 s: the 32 s SIP transactions and the allocator reach their steady
# state) to the end of the calls, in percent of the warm-up value; the highest value after the
# warm-up is reported too.
#
#   bench/soak.sh [--calls N] [--rate R] [--warmup-s S] [--no-doc] [--deskline PATH]
#
# deskline on CPU 0; sipp (caller and trunk), the RTP peer and Redis on CPU 1; 127.0.0.1 only;
# every process it starts is stopped by pid on exit.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cmdline=$(bench_cmdline bench/soak.sh "$@")

calls=1000000
rate=1000
warmup_s=120
write_doc=1
deskline=
deskline_cpu=0
load_cpu=1
every_s=10

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--calls) calls=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--warmup-s) warmup_s=$2; shift 2 ;;
	--no-doc) write_doc=0; shift ;;
	--deskline) deskline=$(realpath "$2"); shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "soak: unknown option $1" >&2; usage 1 >&2 ;;
	esac
done
bench_need soak sipp taskset gcc python3 redis-server redis-cli
ulimit -n "$(ulimit -Hn)"

bench_build soak "$deskline"
bench_workdir soak
bench_raise_udp_buffers
bench_copy_deskline
bench_build_rtpload
read -r sip_port trunk_port rtp_port trunk_mp caller_mp <<<"$(free_ports 5)"
conf=$T/deskline.conf
bench_conf "$conf" "$sip_port" "$trunk_port"
started_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
bench_start_redis "$load_cpu"
bench_start_deskline "$conf" "$deskline_cpu"
bench_start_rtpload "$load_cpu" "$rtp_port" "$T/rtp.status" -d 1
bench_start_trunk "$load_cpu" "$trunk_port" "$trunk_mp" "$rtp_port"

rss0=$(status_kb "$dl_pid" VmRSS)
cpu0=$(cpu_ns "$dl_pid")
t0=$(now_ms)
(cd "$T" && exec taskset -c "$load_cpu" sipp -sf "$bench/sipp/cps.xml" -s 1000 -i 127.0.0.1 \
	-p 0 -mp "$caller_mp" -key rtp_port "$rtp_port" -d 200 -r "$rate" -m "$calls" \
	-l $((rate * 10)) -recv_timeout 5000 -nostdin -trace_stat -stf "$T/sipp.csv" -fd 10 \
	-trace_err -error_file "$T/sipp.err" "127.0.0.1:$sip_port" >"$T/sipp.out" 2>&1) &
sipp_pid=$!
pids+=("$sipp_pid")
echo "soak: $calls calls at $rate/s (about $((calls / rate)) s); deskline pid $dl_pid; work folder $T"
echo "t-s rss-kB" >"$T/rss.txt"
while kill -0 "$sipp_pid" 2>/dev/null; do
	sleep "$every_s"
	t=$(( ($(now_ms) - t0) / 1000 ))
	rss=$(status_kb "$dl_pid" VmRSS)
	echo "$t $rss" >>"$T/rss.txt"
	printf "%6s s  VmRSS %s kB  calls %s\n" "$t" "$rss" "$(cdr_lines)"
done
wait "$sipp_pid" || true
t1=$(now_ms)
cpu1=$(cpu_ns "$dl_pid")
rss_end=$(status_kb "$dl_pid" VmRSS)
sleep 35
rss_idle=$(status_kb "$dl_pid" VmRSS)
read -r att ok failed retrans _ <<<"$(sipp_totals "$T/sipp.csv")"
read -r rss_warm rss_max drift <<<"$(awk -v w="$warmup_s" -v e="$rss_end" 'NR > 1 && $1 >= w {
	if (!warm) warm = $2; if ($2 > max) max = $2 }
	END { if (!warm) { print "n/a n/a n/a"; exit }
	      printf "%d %d %.1f\n", warm, max, (e - warm) * 100 / warm }' "$T/rss.txt")"
routed=$(grep -c '"route":"trunk:payment".*"result":"completed"' "$T/cdr.log" || true)
dl_pct=$(pct $((cpu1 - cpu0)) $((t1 - t0)))
log_problems=$(grep -cE " (error|warning):" "$T/deskline.log" || true)

summary="$att calls in $(( (t1 - t0) / 1000 )) s: $failed failed, $retrans retransmissions,"
summary+=" $routed completed on the trunk; deskline CPU $dl_pct%"
memory="VmRSS $rss0 kB before; $rss_warm kB after the ${warmup_s} s warm-up; highest after it"
memory+=" $rss_max kB; $rss_end kB at the end; $rss_idle kB 35 s after the last call"
echo
echo "$summary"
echo "$memory"
echo "**drift: $drift%** (end against the end of the warm-up)"
echo "deskline log: $log_problems error/warning lines"
[ "$write_doc" -eq 1 ] || exit 0

cat >"$T/doc-intro.md" <<'EOF'
deskline answers a long run of the CPS call (`bench/sipp/cps.xml`: greeting, the caller presses 1
as an RFC 4733 event, the payment trunk answers, hang-up after 200 ms) at half the clean CPS, and
its VmRSS is read every 10 s. The drift is the change from the end of the warm-up (the SIP
transactions live 32 s after their calls, and the allocator needs a while to reach its steady
state) to the end of the calls, in percent. deskline on CPU 0; sipp, the RTP peer and Redis on
CPU 1.
EOF
{
	echo "### $started_utc — soak, $calls calls at $rate/s"
	echo
	echo "- machine: $(bench_machine); load average before the run: $loadavg; $udp_buffers"
	echo "- deskline commit $(bench_commit); binary ${deskline_src#"$top"/} built" \
	     "$deskline_built, sha256 $deskline_sha…; $(bench_sipp_version)"
	echo "- command: \`$cmdline\`"
	echo "- $summary; $log_problems error/warning log lines"
	echo "- $memory"
	echo "- **VmRSS drift over the run: $drift%**"
	echo
	echo "VmRSS every minute (s, kB):"
	echo
	echo '```'
	awk 'NR > 1 && ($1 % 60 < 10)' "$T/rss.txt" | tr '\n' ' ' | fold -s -w 96
	echo
	echo '```'
} >"$T/doc-section.md"
# shellcheck disable=SC2016 # the backquotes are Markdown
bench_doc_append 'Memory over a long run (`bench/soak.sh`)' "$T/doc-intro.md" "$T/doc-section.md"
