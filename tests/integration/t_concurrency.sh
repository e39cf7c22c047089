# Procedure 46 §5 under load: 200 residents call the department at once, through two deskline
# nodes sharing one Redis, and 20 clerks answer. No clerk is ever rung by two calls at once, and
# at the end every clerk is available again.

TESTS+=(two_nodes_200_callers_20_clerks)
test_two_nodes_200_callers_20_clerks() {
	local n_clerks=20 n_calls=200 node conf
	local -a phone_ports
	start_redis || return 1
	# Callers wait for a free clerk (max 80 s). sipp's callers send no RTP while they wait, which
	# a real phone does: the RTP timeout is set above the longest wait.
	for node in a b; do
		clerk_conf "$T/node-$node.conf" "$n_clerks" \
			-e 's/prefix = "dl:";/prefix = "dl:";\n  node = "node-'$node'";/' \
			-e 's/wait_for_clerk = false;/wait_for_clerk = true;/' \
			-e 's/max_wait_ms = 90000;/max_wait_ms = 80000;/' \
			-e 's/max_attempts = 6;/max_attempts = 100;/' \
			-e 's/wrap_up_ms = 30000;/wrap_up_ms = 300;/' \
			-e 's/rtp_timeout_ms = 30000;/rtp_timeout_ms = 120000;/' \
			-e 's/level = "debug";/level = "notice";/' \
			-e 's#spool_dir = "'"$T"'/spool";#spool_dir = "'"$T"'/spool-'$node'";#' || return 1
	done
	# Each node: its own SIP port, its own RTP range wide enough for 200 calls of two legs (a
	# port another process holds is skipped, so the ranges need not be free).
	local sip_b
	sip_b=$(free_port)
	sed -i -e "s#\"sip:127.0.0.1:$SIP_PORT\"#\"sip:127.0.0.1:$sip_b\"#" \
		-e "s#port_min = $RTP_BASE;#port_min = 22000;#" \
		-e "s#port_max = $((RTP_BASE + 39));#port_max = 23999;#" "$T/node-b.conf"
	sed -i -e "s#port_min = $RTP_BASE;#port_min = 20000;#" \
		-e "s#port_max = $((RTP_BASE + 39));#port_max = 21999;#" "$T/node-a.conf"
	spawn "$DESKLINE" -c "$T/node-a.conf" >"$T/node-a.log" 2>&1
	spawn "$DESKLINE" -c "$T/node-b.conf" >"$T/node-b.log" 2>&1
	wait_grep 'connected \(node node-a\)' "$T/node-a.log" 100 || { cat "$T/node-a.log"; return 1; }
	wait_grep 'connected \(node node-b\)' "$T/node-b.log" 100 || { cat "$T/node-b.log"; return 1; }

	# 20 clerk phones (answer after 200 ms, hang up after a second), registered half on each
	# node, logged in with deskctl.
	for i in $(seq 1 "$n_clerks"); do
		phone_ports[i]=$(free_port)
		clerk_phone "${phone_ports[i]}" trunk -m "$n_calls" || return 1
	done
	for i in $(seq 1 "$n_clerks"); do
		local id pw
		id=$(printf 'c%02d' "$i")
		pw=$(printf 'pw-c%02d' "$i")
		if [ $((i % 2)) -eq 0 ]; then SIP_PORT_SAVE=$SIP_PORT; SIP_PORT=$sip_b; fi
		register_clerk "$id" "$pw" "${phone_ports[i]}" || return 1
		[ -n "${SIP_PORT_SAVE:-}" ] && { SIP_PORT=$SIP_PORT_SAVE; SIP_PORT_SAVE=; }
		"$DESKCTL" -c "$T/node-a.conf" agent set "$id" available >/dev/null || return 1
	done

	# 200 residents: 100 on each node, all in the queue within about four seconds.
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/pcap+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_4.pcap"
	local half=$((n_calls / 2))
	(cd "$T" && timeout 200 sipp -sf resident.xml -s 1000 -i 127.0.0.1 -p "$(free_port)" \
		-mp "$(free_rtp_base)" -m "$half" -r 25 -l "$half" -nostdin -timeout 180s \
		"127.0.0.1:$SIP_PORT" >"$T/uac-a.out" 2>&1; echo "rc=$?" >"$T/uac-a.rc") &
	(cd "$T" && timeout 200 sipp -sf resident.xml -s 1000 -i 127.0.0.1 -p "$(free_port)" \
		-mp "$(free_rtp_base)" -m "$half" -r 25 -l "$half" -nostdin -timeout 180s \
		"127.0.0.1:$sip_b" >"$T/uac-b.out" 2>&1; echo "rc=$?" >"$T/uac-b.rc") &
	wait_grep 'rc=' "$T/uac-a.rc" 2000 && wait_grep 'rc=' "$T/uac-b.rc" 600 ||
		{ echo "callers did not finish"; return 1; }
	grep -q 'rc=0' "$T/uac-a.rc" && grep -q 'rc=0' "$T/uac-b.rc" ||
		{ tail -n 30 "$T/uac-a.out" "$T/uac-b.out"; return 1; }

	# Every call reached a clerk.
	local done_calls
	# Both nodes append to one CDR file (one write per line: lines never interleave).
	done_calls=$(grep -c '"route":"queue:collection","result":"completed","detail":"clerk c' "$T/cdr.log")
	echo "calls answered by clerks: $done_calls"
	[ "$done_calls" -eq "$n_calls" ] || { grep -v '"detail":"clerk c' "$T/cdr.log" | head; return 1; }

	# From the Redis event log: a clerk is only ever rung from "available" — never while
	# ringing, on a call or in wrap-up — so never by two calls at once.
	rcli --raw XRANGE dl:events - + >"$T/events.txt"
	python3 - "$T/events.txt" "$n_calls" <<'PY' || return 1
import sys
lines = open(sys.argv[1]).read().split("\n")
n_calls = int(sys.argv[2])
events, cur = [], None
i = 0
while i < len(lines):
    l = lines[i]
    if "-" in l and l.split("-")[0].isdigit() and i + 1 < len(lines) and lines[i + 1] == "type":
        cur = {}
        events.append(cur)
        i += 1
        continue
    if cur is not None and i + 1 < len(lines):
        cur[l] = lines[i + 1]
        i += 2
        continue
    i += 1
busy = {}
bad = 0
rings = answers = 0
for e in events:
    a, frm, to, call = e.get("agent"), e.get("from"), e.get("to"), e.get("call")
    if to == "ringing":
        rings += 1
        if frm != "available" or busy.get(a):
            print("clerk %s rung for %s while %s (busy with %s)" % (a, call, frm, busy.get(a)))
            bad += 1
        busy[a] = call
    elif to == "on_call":
        answers += 1
    elif to in ("available", "logged_out", "break", "wrap_up"):
        if to != "wrap_up":
            busy[a] = None
print("events: %d, clerk rings: %d, answers: %d, overlaps: %d" % (len(events), rings, answers, bad))
sys.exit(1 if bad or answers != n_calls else 0)
PY

	# The clerks' phones saw exactly the calls Redis says they were given.
	local invites=0
	for i in $(seq 1 "$n_clerks"); do
		invites=$((invites + $(invites_at "${phone_ports[i]}")))
	done
	echo "INVITEs at the clerks' phones: $invites"
	[ "$invites" -ge "$n_calls" ] || return 1

	# Nobody is left ringing or on a call.
	for i in $(seq 1 "$n_clerks"); do
		wait_state "$(printf 'c%02d' "$i")" available 50 || return 1
	done
}
