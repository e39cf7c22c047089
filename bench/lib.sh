# shellcheck shell=bash disable=SC2034,SC2154
# (The variables set here are read by the scripts that source this file, and `top` is theirs.)
#
# Shared pieces of the benchmark scripts (bench/cps.sh, bench/queue_cps.sh, bench/hunt.sh).
# Sourced, not run. The script sets `top` (the source tree) before sourcing; bench_workdir sets
# T (the work folder) and the array `pids` of processes to stop on exit.
#
# Everything listens on 127.0.0.1 only. Every process started through bench_spawn is stopped by
# pid when the script exits.

bench=$top/bench

# The command as typed, for the record: arguments with spaces in double quotes.
#   bench_cmdline NAME ARGS…
bench_cmdline() {
	local line=$1 arg
	shift
	for arg in "$@"; do
		case $arg in *[[:space:]]*) line+=" \"$arg\"" ;; *) line+=" $arg" ;; esac
	done
	printf '%s' "$line"
}

# Stop if a tool is missing.
#   bench_need NAME TOOL…
bench_need() {
	local name=$1 tool
	shift
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "$name: $tool not found (scripts/install-deps.sh --bench installs it)" >&2
			exit 1
		fi
	done
}

# The work folder ($T), the list of processes to stop ($pids) and the exit trap.
#   bench_workdir NAME
bench_workdir() {
	T=$(mktemp -d "/tmp/deskline-$1.XXXXXX")
	pids=()
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# TERM twice, like scripts/stop.sh: deskline's first TERM only refuses new calls, the second
# hangs up the ones left. KILL whatever is still there 3 s later. Redis goes last, so deskline
# does not log losing it on the way out.
bench_cleanup() {
	local p
	for p in "${pids[@]}"; do
		[ "$p" = "${redis_pid:-}" ] || kill -TERM "$p" 2>/dev/null || true
	done
	sleep 0.2
	for p in "${pids[@]}"; do
		[ "$p" = "${redis_pid:-}" ] || kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		[ "$p" != "${redis_pid:-}" ] || continue
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "${redis_pid:-}" ]; then
		kill -TERM "$redis_pid" 2>/dev/null || true
		for _ in $(seq 30); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$redis_pid" 2>/dev/null || true
	fi
	bench_restore_udp_buffers
}

# Let sockets have 16 MiB UDP buffers for the run (net.core.rmem_max, wmem_max; deskline asks
# 8 MiB for its SIP socket, as README.md's Tuning advises for production), put back on exit.
# Where /proc/sys is read-only (a container) the run goes on with what there is, and says so.
# Sets $udp_buffers, a note for the record.
bench_raise_udp_buffers() {
	local k v want=16777216
	saved_sysctl=()
	udp_buffers=
	for k in rmem_max wmem_max; do
		v=$(cat "/proc/sys/net/core/$k")
		if [ "$v" -lt "$want" ]; then
			if echo "$want" >"/proc/sys/net/core/$k" 2>/dev/null; then
				saved_sysctl+=("$k=$v")
			else
				udp_buffers+="net.core.$k stays $v (read-only); "
				continue
			fi
		fi
		udp_buffers+="net.core.$k $(cat "/proc/sys/net/core/$k"); "
	done
	udp_buffers=${udp_buffers%; }
}
bench_restore_udp_buffers() {
	local kv
	for kv in "${saved_sysctl[@]}"; do
		echo "${kv#*=}" >"/proc/sys/net/core/${kv%%=*}" 2>/dev/null || true
	done
	saved_sysctl=()
}

# Build build/deskline (and build/deskctl) unless a binary was given, into $deskline_src.
#   bench_build NAME [PATH]
bench_build() {
	local name=$1
	deskline_src=${2:-}
	if [ -z "$deskline_src" ]; then
		deskline_src=$top/build/deskline
		if ! "$top/scripts/build.sh" >/dev/null 2>&1; then
			# build.sh also builds the unit tests; the programs alone are enough here.
			echo "$name: scripts/build.sh failed; building the programs alone" >&2
			[ -f "$top/build/Makefile" ] || "$top/scripts/build.sh"
			make -C "$top/build" deskline deskctl >/dev/null
		fi
	fi
	[ -x "$deskline_src" ] || { echo "$name: $deskline_src not found" >&2; exit 1; }
	deskline_built=$(date -u -r "$deskline_src" +%Y-%m-%dT%H:%M:%SZ)
}

# Run a copy: a rebuild during the run must not change what is measured (or the perf symbols).
# Sets $deskline and $deskline_sha.
bench_copy_deskline() {
	cp "$deskline_src" "$T/deskline"
	deskline=$T/deskline
	deskline_sha=$(sha256sum "$deskline" | cut -c1-12)
}

# Free UDP+TCP ports on 127.0.0.1 above the RTP range (20000-39999), as many as asked.
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

# A redis-server of the run's own on $T/redis.sock, on one CPU, nothing written to disk: the
# figures are deskline's and the scripts', not the disk's. Sets $redis_pid.
#   bench_start_redis CPU [more redis-server arguments…]
bench_start_redis() {
	local cpu=$1
	shift
	taskset -c "$cpu" redis-server --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 \
		--dir "$T" --save "" --appendonly no --logfile "$T/redis.log" "$@" &
	redis_pid=$!
	pids+=("$redis_pid")
	for _ in $(seq 100); do
		redis-cli -s "$T/redis.sock" PING 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	echo "redis-server did not start:" >&2
	cat "$T/redis.log" >&2
	exit 1
}

# The sample configuration for a benchmark: SIP on our port, both trunks at TRUNK_PORT (where
# nothing answers unless the script puts something there), a wide RTP range (20000-39999: ports
# are never the limit), notice logging (one line per call at info would measure the log), CDRs
# and the ticket spool in the work folder, Redis on $T/redis.sock, and the department open around
# the clock (every day 00:00-24:00, no holidays, no closed-hours actions), so a run at night or
# on a holiday measures what a run by day does.
#   bench_conf OUT SIP_PORT TRUNK_PORT [more sed expressions…]
bench_conf() {
	local out=$1 sip_port=$2 trunk_port=$3
	shift 3
	sed -e "s#\"sip:127.0.0.1:5060\"#\"sip:127.0.0.1:$sip_port\"#" \
	    -e "s#sip:payment@127.0.0.1:5070#sip:payment@127.0.0.1:$trunk_port#" \
	    -e "s#sip:moked@127.0.0.1:5080#sip:moked@127.0.0.1:$trunk_port#" \
	    -e "s#port_max = 29999;#port_max = 39999;#" \
	    -e "s#directory = \"prompts\";#directory = \"$top/etc/prompts\";#" \
	    -e "s#cdr_file = \"../run/cdr.log\";#cdr_file = \"$T/cdr.log\";#" \
	    -e "s#level = \"info\";#level = \"notice\";#" \
	    -e "s#spool_dir = \"../run/spool\";#spool_dir = \"$T/spool\";#" \
	    -e "s#address = \"127.0.0.1:6379\";#address = \"unix:$T/redis.sock\";#" \
	    -e "s#^  closed = \[.*\];#  closed = [ ];#" \
	    "$@" "$top/etc/deskline.conf" >"$out.tmp"
	python3 - "$out.tmp" "$out" <<'PY'
import re, sys
src, dst = sys.argv[1:]
text = open(src).read()
days = "sunday|monday|tuesday|wednesday|thursday|friday|saturday"
text, n_days = re.subn(r'^(\s*(?:%s)\s*=\s*)"[^"]*";' % days, r'\1"00:00-24:00";', text,
                       flags=re.M)
text, n_hol = re.subn(r'^(\s*)holidays\s*=\s*\[.*?\];', r'\1holidays = [ ];', text, count=1,
                      flags=re.S | re.M)
text, n_file = re.subn(r'^(\s*)holidays_file\s*=\s*"[^"]*";', r'\1holidays_file = "";', text,
                       count=1, flags=re.M)
if (n_days, n_hol, n_file) != (7, 1, 1):
    sys.exit("bench: etc/deskline.conf changed shape: calendar not rewritten (%d days, %d, %d)"
             % (n_days, n_hol, n_file))
open(dst, "w").write(text)
PY
	rm -f "$out.tmp"
	local want
	for want in "port_max = 39999;" "level = \"notice\";" "127.0.0.1:$sip_port" \
		    "unix:$T/redis.sock" "spool_dir = \"$T/spool\";" "closed = [ ];"; do
		if ! grep -qF "$want" "$out"; then
			echo "bench: etc/deskline.conf changed shape; $out has no '$want'" >&2
			exit 1
		fi
	done
	"$deskline" -t -c "$out" >/dev/null
}

# Start deskline on CPU; wait until it listens and, with a Redis, until it is connected.
# Sets $dl_pid.
#   bench_start_deskline CONF CPU
bench_start_deskline() {
	local conf=$1 cpu=$2
	"${dl_nice[@]}" taskset -c "$cpu" "$deskline" -c "$conf" -p "$T/deskline.pid" \
		>>"$T/deskline.log" 2>&1 &
	dl_pid=$!
	pids+=("$dl_pid")
	for _ in $(seq 100); do
		grep -q "started with" "$T/deskline.log" 2>/dev/null &&
			grep -q "redis .* connected" "$T/deskline.log" 2>/dev/null && return 0
		kill -0 "$dl_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: deskline did not start (or did not reach Redis):" >&2
	tail -n 20 "$T/deskline.log" >&2
	exit 1
}

# CPU time of a running process, all its threads, ns (/proc/PID/task/*/schedstat, first field:
# time on a CPU).
cpu_ns() {
	cat "/proc/$1/task/"*/schedstat 2>/dev/null | awk '{ ns += $1 } END { printf "%.0f", ns }'
}
# Time its threads were ready to run but waited for the CPU, ns (second field). Something else
# busy on the process's CPU shows here; so does one of its threads waiting for another.
wait_ns() {
	cat "/proc/$1/task/"*/schedstat 2>/dev/null | awk '{ ns += $2 } END { printf "%.0f", ns }'
}
# Time CPU N spent busy (user, nice, system, irq, softirq, steal) and of it stolen by the
# hypervisor, ns, from /proc/stat: "BUSY STEAL". Busy minus the benchmarked process's own CPU time
# is whatever else ran there (other processes, kernel threads such as ksoftirqd); steal is time
# the virtual CPU wanted to run but the host ran something else.
cpu_stat_ns() {
	awk -v c="cpu$1" -v hz="$(getconf CLK_TCK)" '$1 == c {
		printf "%.0f %.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) * 1e9 / hz, $9 * 1e9 / hz }' /proc/stat
}
# A share of the wall time in percent (100% = one core): pct NS WALL_MS.
pct() { awk -v d="$1" -v w="$2" 'BEGIN { printf "%.1f", w ? d / 1e4 / w : 0 }'; }
# Field of /proc/PID/status in kB, e.g. VmRSS.
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
now_ms() { date +%s%3N; }
# CPU time of this shell's reaped children so far, ms, into $children_ms: `times` (second line)
# run in this shell, not in $(…), whose subshell would have no children of its own. A sipp run
# as our child and waited for shows here, so the difference around a step is exactly its CPU.
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

# Sum of sipp UACs' final statistics (-trace_stat files): attempted successful failed
# retransmissions mean-response-time-1-ms offered-rate mean-response-time-2-ms. The offered rate
# is calls placed over the time between sipp's start and the 100 ms statistics sample where the
# last call had been placed.
sipp_totals() {
	python3 - "$@" <<'PY'
import sys
att = ok = failed = retrans = 0
rtt_sum = [0.0, 0.0]
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
    for i in (0, 1):
        h, m, sec, us = last.get("ResponseTime%d(C)" % (i + 1), "0:0:0:0").split(":")
        rtt_sum[i] += s * ((int(h) * 60 + int(m)) * 60 + int(sec) + int(us) / 1e6) * 1000
    epoch = lambda v: float(v.split("\t")[-1])
    start = epoch(rows[0]["StartTime"])
    for r in rows:
        if a and num(r, "OutgoingCall(C)") >= a:
            span = epoch(r["CurrentTime"]) - start
            if span > 0:
                rate += a / span
            break
print(att, ok, failed, retrans, "%.1f" % (rtt_sum[0] / ok if ok else 0), "%.0f" % rate,
      "%.1f" % (rtt_sum[1] / ok if ok else 0))
PY
}

# The machine, for the record: "2 CPUs, MODEL, Linux RELEASE".
# When the system under test is given the load generator's CPU too (the two-core runs of a
# two-CPU machine), the load generators must not be starved by it, or the figure measures a sipp
# that drops packets: this shell and so every load process it starts run at nice -10, and
# deskline (or Kamailio) is started back at 0 through $dl_nice. Then the load takes CPU LOAD
# first and deskline gets the rest of it. Nothing changes when the CPUs are apart.
#   bench_load_first DESKLINE_CPUS LOAD_CPU
dl_nice=()
bench_load_first() {
	case ",$1," in *",$2,"*) ;; *) return 0 ;; esac
	renice -n -10 -p $$ >/dev/null
	dl_nice=(nice -n 10)
	echo "bench: CPU $2 is shared: the load runs at nice -10, deskline at 0"
}

# Number of CPUs in a taskset list of single CPUs ("0", "0,1"); fails for anything else.
#   bench_count_cpus LIST
bench_count_cpus() {
	[[ $1 =~ ^[0-9]+(,[0-9]+)*$ ]] || return 1
	awk -F, '{ print NF }' <<<"$1"
}

bench_machine() {
	printf '%s CPUs, %s, Linux %s' "$(nproc)" \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" "$(uname -r)"
}
# The commit measured; changes to the benchmarks or their results do not change what is measured.
bench_commit() {
	local commit
	commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [ -n "$(git -C "$top" --no-optional-locks status --porcelain --untracked-files=no \
		-- . ':!bench' ':!docs' 2>/dev/null)" ]; then
		commit="$commit (with uncommitted changes outside bench/ and docs/)"
	fi
	printf '%s' "$commit"
}
bench_cflags() {
	local f
	f=$(sed -n 's/^CFLAGS = //p' "$(dirname "$deskline_src")/Makefile" 2>/dev/null || true)
	printf '%s' "${f:-unknown}"
}
# sipp -v exits with 99.
bench_sipp_version() { sipp -v 2>&1 | grep -o 'SIPp v[^ ,]*' | head -n1 | sed 's/\.$//' || true; }
bench_redis_version() { redis-server --version | grep -o 'v=[^ ]*' | sed 's/^v=//'; }

# Add a dated section to docs/BENCHMARKS.md at the end of its chapter (the "## " heading), so
# each benchmark's runs stay together whatever order the scripts run in. A missing file is
# started with the general note; a missing chapter is added at the end with its introduction.
#   bench_doc_append "CHAPTER HEADING" INTRO_FILE SECTION_FILE
bench_doc_append() {
	local doc=$top/docs/BENCHMARKS.md
	if [ ! -f "$doc" ]; then
		cat >"$doc" <<'EOF'
# Benchmarks

Measured figures only. Every dated section below was appended by the script that measured it,
with the date, the machine, the commit and the exact command: run the same command to compare.
Loopback figures are for comparing builds, not for sizing hardware: a UDP send on loopback
delivers the packet within the sender's system call, so part of the receivers' kernel work is
charged to the sender, and nothing crosses a real network.
EOF
	fi
	python3 - "$doc" "$1" "$2" "$3" <<'PY'
import sys
doc, heading, intro_path, section_path = sys.argv[1:]
lines = open(doc).read().rstrip("\n").split("\n")
section = open(section_path).read().strip("\n").split("\n")
title = "## " + heading
if title not in lines:
    lines += ["", title, ""] + open(intro_path).read().strip("\n").split("\n")
start = lines.index(title)
end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
while end > start + 1 and lines[end - 1] == "":
    end -= 1
# The blank lines before the next chapter (if any) stay after the new section.
lines[end:end] = [""] + section
open(doc, "w").write("\n".join(lines) + "\n")
PY
	echo "appended to $doc"
}

# Build the RTP peer (bench/rtpload.c) into $T/rtpload.
bench_build_rtpload() {
	gcc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes "$bench/rtpload.c" -lm -o "$T/rtpload"
}

# Start an RTP peer on CPU, 127.0.0.1:PORT, its status in STATUS; more rtpload options after.
# Sets $rtpload_pid.
#   bench_start_rtpload CPU PORT STATUS [-d DIGIT] [-e]
bench_start_rtpload() {
	local cpu=$1 port=$2 status=$3
	shift 3
	taskset -c "$cpu" "$T/rtpload" -p "$port" -s "$status" "$@" &
	rtpload_pid=$!
	pids+=("$rtpload_pid")
	for _ in $(seq 50); do [ -s "$status" ] && return 0; sleep 0.1; done
	echo "bench: the RTP peer on port $port did not start" >&2
	exit 1
}

# One figure of an RTP peer's status line (bench/rtpload.c): rtpload_get STATUS NAME.
rtpload_get() {
	tr ' ' '\n' <"$1" | sed -n "s/^$2=//p"
}

# Kamailio from bench/kamailio.cfg on 127.0.0.1:SIP_PORT relaying to the trunk on TRUNK_PORT,
# with CHILDREN UDP workers, all its processes on CPU (taskset is inherited by the forks). Sets
# $kamailio_pid (the main process; its workers are its children).
#   bench_start_kamailio SIP_PORT TRUNK_PORT CHILDREN CPU
bench_start_kamailio() {
	local sip_port=$1 trunk_port=$2 children=$3 cpu=$4
	sed -e "s/@SIP_PORT@/$sip_port/; s/@TRUNK_PORT@/$trunk_port/; s/@CHILDREN@/$children/" \
		"$bench/kamailio.cfg" >"$T/kamailio.cfg"
	kamailio -c -f "$T/kamailio.cfg" >"$T/kamailio-check.log" 2>&1 ||
		{ echo "bench: kamailio refused its configuration:" >&2; cat "$T/kamailio-check.log" >&2; exit 1; }
	# -DD: stay in the foreground (the workers are forked), -E: log to stderr.
	"${dl_nice[@]}" taskset -c "$cpu" kamailio -f "$T/kamailio.cfg" -DD -E -m 4096 -M 32 -w "$T" \
		-P "$T/kamailio.pid" >>"$T/kamailio.log" 2>&1 &
	kamailio_pid=$!
	pids+=("$kamailio_pid")
	for _ in $(seq 100); do
		[ "$(pgrep -c -P "$kamailio_pid")" -gt "$children" ] && return 0
		kill -0 "$kamailio_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: kamailio did not start:" >&2
	tail -n 20 "$T/kamailio.log" >&2
	exit 1
}

# cpu_ns or wait_ns of a process and its children (Kamailio's workers) together, ns.
#   tree_ns cpu_ns|wait_ns PID
tree_ns() {
	local p ns=0
	for p in "$2" $(pgrep -P "$2"); do ns=$((ns + $("$1" "$p"))); done
	echo "$ns"
}

# The payment trunk of the benchmarks (bench/sipp/trunk.xml) on CPU, 127.0.0.1:PORT: answers
# every B-leg at once with RTP_PORT (an RTP peer) as its audio address. Sets $trunk_pid. Its
# socket buffers are 4 MiB (sipp -buff_size): deskline sends the B-legs' INVITEs of the digits it
# read in one packet time together, and the load generator must not be what drops them.
#   bench_start_trunk CPU PORT MEDIA_PORT RTP_PORT
bench_start_trunk() {
	(cd "$T" && exec taskset -c "$1" sipp -sf "$bench/sipp/trunk.xml" -i 127.0.0.1 -p "$2" \
		-mp "$3" -key rtp_port "$4" -buff_size 4194304 -nostdin -trace_err \
		-error_file "$T/trunk.err" \
		>"$T/trunk.out" 2>&1) &
	trunk_pid=$!
	pids+=("$trunk_pid")
}
