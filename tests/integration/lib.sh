# Shared functions of the integration tests. Sourced by tests/integration/run.sh.
#
# Every test gets its own temporary folder ($T), free ports on 127.0.0.1, and its own processes,
# which are stopped by pid when the test ends. Nothing listens anywhere but loopback.

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$INTEG_DIR/../.." && pwd)
SIPP_DIR=$INTEG_DIR/sipp
PCAP_DIR=/usr/share/sip-tester

# A free UDP+TCP port on 127.0.0.1 (the kernel picks; collisions between tests are avoided by
# keeping them all in one process tree that runs one test at a time).
free_port() {
	python3 - "$@" <<'PY'
import socket, sys
for _ in range(200):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", port))
    except OSError:
        s.close(); t.close(); continue
    s.close(); t.close()
    print(port); break
PY
}

# A free even port with room for a small RTP range above it.
free_rtp_base() {
	python3 - "${T:+$T/rtp-bases}" <<'PY'
import socket, random, sys
# Ranges already handed out in this test: deskline's and each sipp's bind their ports only when a
# call starts, so a range that is free now may be someone's in a second.
taken_path = sys.argv[1] if len(sys.argv) > 1 else ""
taken = []
if taken_path:
    try:
        taken = [int(line) for line in open(taken_path) if line.strip()]
    except OSError:
        pass
# Below the kernel's ephemeral range: a port there can be taken by any socket that binds port 0
# or connects (sipp's own sockets, free_port above, Redis clients) between this check and the
# bind of the RTP port (sipp once failed "Unable to bind audio RTP socket … Address already in
# use" that way). From 30000: the sample configuration's RTP ports (a deskline started by
# scripts/run.sh) are 20000-29999, and t_concurrency.sh gives its two nodes 20000-23999.
try:
    eph_low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    eph_low = 32768
low = 30000
high = eph_low - 40 if eph_low - 40 > low + 1000 else 60000
for _ in range(500):
    base = random.randrange(low, high, 2)
    if any(abs(base - t) < 40 for t in taken):
        continue
    ok = True
    socks = []
    for p in range(base, base + 40):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        socks.append(s)
        if not ok:
            break
    for s in socks:
        s.close()
    if ok:
        if taken_path:
            with open(taken_path, "a") as f:
                f.write("%d\n" % base)
        print(base); break
PY
}

# Start a command in the background; its pid goes to $T/pids so that the runner stops it.
spawn() {
	"$@" &
	LAST_PID=$!
	echo "$LAST_PID" >>"$T/pids"
}

# Stop every process the test started (TERM, then KILL after 3 s).
stop_all() {
	local p
	[ -f "$T/pids" ] || return 0
	while read -r p; do kill -TERM "$p" 2>/dev/null; done <"$T/pids"
	while read -r p; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done <"$T/pids"
	rm -f "$T/pids"
}

# Short prompts for tests that are about the menu's timing: every prompt name the sample
# configuration uses, as a 300 ms 8 kHz mono tone.
make_short_prompts() {
	local dir=$1
	python3 - "$dir" <<'PY'
import math, os, struct, sys, wave
root = sys.argv[1]
names = ["main-greeting", "invalid", "no-input", "goodbye", "try-later", "transfer-callcenter",
         "feature-ok", "feature-error", "queue-music", "closed"]
for lang in ("he", "en"):
    os.makedirs(os.path.join(root, lang), exist_ok=True)
    for n in names:
        with wave.open(os.path.join(root, lang, n + ".wav"), "wb") as w:
            w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
            w.writeframes(b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / 8000)))
                                   for i in range(2400)))
PY
}

# Write a test configuration from the sample one: our ports, a temp CDR file, absolute prompts,
# Redis on $T/redis.sock (only there when the test starts one: a test never touches a Redis
# running on this machine), a spool in $T; media.workers from $MEDIA_WORKERS (default 0) and
# media.io_uring from $MEDIA_IO_URING (default true, as the sample).
#   make_conf OUT [sed expressions…]
make_conf() {
	local out=$1; shift
	sed -e "s#\"sip:127.0.0.1:5060\"#\"sip:127.0.0.1:$SIP_PORT\"#" \
	    -e "s#sip:payment@127.0.0.1:5070#sip:payment@127.0.0.1:$PAY_PORT#" \
	    -e "s#sip:moked@127.0.0.1:5080#sip:moked@127.0.0.1:$CC_PORT#" \
	    -e "s#port_min = 20000;#port_min = $RTP_BASE;#" \
	    -e "s#port_max = 29999;#port_max = $((RTP_BASE + 39));#" \
	    -e "s#directory = \"prompts\";#directory = \"$PROMPTS\";#" \
	    -e "s#cdr_file = \"../run/cdr.log\";#cdr_file = \"$T/cdr.log\";#" \
	    -e "s#level = \"info\";#level = \"debug\";#" \
	    -e "s#spool_dir = \"../run/spool\";#spool_dir = \"$T/spool\";#" \
	    -e "s#address = \"127.0.0.1:6379\";#address = \"unix:$T/redis.sock\";#" \
	    -e "s#^  closed = \[.*\];#  closed = [ ];#" \
	    -e "s#url = \"smtp://127.0.0.1:2525\";#url = \"smtp://127.0.0.1:$SMTP_PORT\";#" \
	    -e "s#^  workers = 0;#  workers = ${MEDIA_WORKERS:-0};#" \
	    -e "s#^  io_uring = true;#  io_uring = ${MEDIA_IO_URING:-true};#" \
	    "$@" "$TOP/etc/deskline.conf" >"$out"
}

# Start deskline on a configuration; wait until it listens.
#   start_deskline CONF [wrapper command…]
start_deskline() {
	local conf=$1; shift
	spawn "$@" "$DESKLINE" -c "$conf" -p "$T/deskline.pid" >>"$T/deskline.log" 2>&1
	DESKLINE_PID=$LAST_PID
	for _ in $(seq 100); do
		grep -q "started with" "$T/deskline.log" 2>/dev/null && return 0
		kill -0 "$DESKLINE_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "deskline did not start:"; tail -n 20 "$T/deskline.log"
	return 1
}

# Make a sipp scenario from a template in tests/integration/sipp (see render.py).
#   scenario NAME OUT KEY=VALUE…
scenario() {
	python3 "$INTEG_DIR/render.py" "$@"
}

# sipp as a UAS in the background (a trunk, a clerk).
#   sipp_uas SCENARIO_FILE PORT [more sipp args…]
sipp_uas() {
	local sf=$1 port=$2; shift 2
	spawn env -C "$T" sipp -sf "$sf" -i 127.0.0.1 -p "$port" -mp "$(free_rtp_base)" -nostdin \
		-trace_logs -trace_err -trace_msg "$@" >"$T/uas-$port.out" 2>&1
	# Calls must not reach the port before this sipp listens on it (another process holding
	# the port is not it: sipp then exits, unable to bind).
	for _ in $(seq 100); do
		ss -Hlunp "sport = :$port" 2>/dev/null | grep -q "pid=$LAST_PID," && return 0
		kill -0 "$LAST_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "sipp did not start listening on $port"; cat "$T/uas-$port.out"
	return 1
}

# sipp as a UAC in the foreground; returns sipp's exit status (0 = every call succeeded).
#   sipp_uac SCENARIO_FILE [more sipp args…]
sipp_uac() {
	local sf=$1; shift
	local port
	port=$(free_port)
	(cd "$T" && timeout 90 sipp -sf "$sf" -i 127.0.0.1 -p "$port" -mp "$(free_rtp_base)" -m 1 -nostdin \
		-trace_err -trace_msg -trace_logs -timeout 60s "$@" "127.0.0.1:$SIP_PORT" >"$T/uac.out" 2>&1)
}

# Does the CDR file hold a line matching the extended regex?
cdr_has() {
	grep -qE "$1" "$T/cdr.log" 2>/dev/null
}

# Wait up to N tenths of a second for a file to match.
wait_grep() {
	local pattern=$1 file=$2 tenths=${3:-50}
	for _ in $(seq "$tenths"); do
		grep -qE "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- clerks and Redis -------------------------------------------------------------------

# Start a real redis-server on $T/redis.sock (append-only file on, so a restart keeps the
# clerks' state as a production Redis with persistence would).
start_redis() {
	spawn redis-server --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 \
		--dir "$T" --save "" --appendonly yes --appendfsync always --logfile "$T/redis.log"
	REDIS_PID=$LAST_PID
	for _ in $(seq 100); do
		rcli PING 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	echo "redis-server did not start"; cat "$T/redis.log"
	return 1
}

rcli() {
	redis-cli -s "$T/redis.sock" "$@"
}

# A clerk's state in Redis.
agent_state() {
	rcli HGET "dl:agent:$1" state
}

# Wait until a clerk is in a state (up to N tenths of a second, default 100).
wait_state() {
	local id=$1 state=$2 tenths=${3:-100}
	for _ in $(seq "$tenths"); do
		[ "$(agent_state "$id")" = "$state" ] && return 0
		sleep 0.1
	done
	echo "clerk $id is $(agent_state "$id"), not $state"
	return 1
}

# Replace the sample's clerks with N generated ones: c01…cNN, extensions 301…, password
# pw-cNN, all in the queue "collection".
clerks_block() {
	python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
rows = []
for i in range(1, n + 1):
    rows.append('  { id = "c%02d"; extension = "%d"; name = "Clerk %d"; email = "c%02d@example.org";'
                ' password = "pw-c%02d"; queues = [ "collection" ]; }' % (i, 300 + i, i, i, i))
print("clerks = (\n" + ",\n".join(rows) + "\n);")
PY
}

# A configuration for clerk tests: our Redis, short timers; extra sed expressions may follow.
#   clerk_conf OUT [CLERKS] [sed expressions…]
clerk_conf() {
	local out=$1 n=${2:-0}
	shift 2 2>/dev/null || shift
	# The caller's expressions go first, so they win over these defaults.
	make_conf "$out.tmp" "$@" \
		-e 's/ring_timeout_ms = 15000;/ring_timeout_ms = 3000;/' \
		-e 's/wrap_up_ms = 30000;/wrap_up_ms = 1000;/' \
		-e 's/max_wait_ms = 90000;/max_wait_ms = 30000;/' || return 1
	if [ "$n" -gt 0 ]; then
		python3 - "$out.tmp" "$out" "$(clerks_block "$n")" <<'PY'
import re, sys
src, dst, block = sys.argv[1:]
text = open(src).read()
text = re.sub(r"^clerks = \(.*?^\);", block, text, count=1, flags=re.S | re.M)
open(dst, "w").write(text)
PY
	else
		mv "$out.tmp" "$out"
	fi
	# Clerk tests must not depend on the day and hour they run at: open round the clock.
	set_hours "$out" "00:00-24:00"
}

# Working hours for a test: HOURS for every day of the week, no holidays.
#   set_hours CONF HOURS
set_hours() {
	python3 - "$1" "$2" <<'PY'
import re, sys
path, hours = sys.argv[1:]
text = open(path).read()
days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
block = "hours = {\n" + "".join('    %s = "%s";\n' % (d, hours) for d in days) + "  };"
text = re.sub(r"hours = \{.*?\};", block, text, count=1, flags=re.S)
text = re.sub(r"holidays = \[.*?\];", "holidays = [ ];", text, count=1, flags=re.S)
open(path, "w").write(text)
PY
}

# Register a clerk's phone whose calls go to 127.0.0.1:PHONE_PORT.
#   register_clerk USER PASSWORD PHONE_PORT [FINAL=200] [EXPIRES=600]
register_clerk() {
	scenario register "$T/register-$1.xml" USER="$1" PASSWORD="$2" \
		CONTACT="$1@127.0.0.1:$3" FINAL="${4:-200}" EXPIRES="${5:-600}"
	sipp_uac "$T/register-$1.xml" || { cat "$T/uac.out"; return 1; }
}

# A clerk dials a feature code from the phone; deskline confirms and hangs up.
#   clerk_feature USER PASSWORD CODE
clerk_feature() {
	scenario clerk-dial "$T/dial-$1.xml" USER="$1" PASSWORD="$2" STEPS=@steps/wait-bye
	sipp_uac "$T/dial-$1.xml" -s "$3" || { cat "$T/uac.out"; return 1; }
}

# A clerk's phone: a sipp UAS on PORT running a scenario (trunk = answer and hang up after a
# second, trunk-noanswer = ring until CANCEL, trunk-busy = 486).
#   clerk_phone PORT SCENARIO [sipp args…]
clerk_phone() {
	local port=$1 name=$2
	shift 2
	scenario "$name" "$T/phone-$port.xml"
	sipp_uas "$T/phone-$port.xml" "$port" "$@"
}

# Register a clerk and log them in (*21): they are available for queue calls.
#   clerk_ready USER PASSWORD PHONE_PORT
clerk_ready() {
	register_clerk "$1" "$2" "$3" || return 1
	clerk_feature "$1" "$2" '*21' || return 1
	wait_state "$1" available 30
}
