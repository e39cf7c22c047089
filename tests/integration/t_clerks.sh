# Procedure 46 §5: clerks register their phones, log in with feature codes, and residents who
# choose the department (option 4) are sent to the most available clerk. Real redis-server,
# sipp phones, on loopback.

# Run an agentdb script as deskline does (the same Lua source).
#   agentdb SCRIPT ARGS…
agentdb() {
	local name=$1
	shift
	rcli EVAL "$(cat "$TOP/src/lua/common.lua" "$TOP/src/lua/$name.lua")" 0 dl: \
		"$(date +%s%3N)" "$@"
}

# A resident calls and presses 4 (the department); the call ends with a BYE from the far end.
resident_to_department() {
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/pcap+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_4.pcap"
	sipp_uac "$T/resident.xml" -s 1000
}

# How many INVITEs a phone (sipp UAS on PORT) received.
invites_at() {
	cat "$T"/phone-"$1"_*_logs.log 2>/dev/null | grep -c '^INVITE service='
}

TESTS+=(clerk_register_auth)
# A desk phone registers with digest authentication: the right password gets 200 and the
# Contact is published in Redis; a wrong one gets 403 after the challenge, never a hint.
test_clerk_register_auth() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	register_clerk dana change-me-201 40001 || return 1
	grep -q 'final=200 contact=<sip:dana@127.0.0.1:40001>;expires=600' "$T"/register-dana_*_logs.log ||
		{ cat "$T"/register-dana_*_logs.log; return 1; }
	[ "$(rcli HGET dl:agent:dana registered)" = 1 ] || return 1
	[ "$(rcli HGET dl:agent:dana contact)" = "sip:dana@127.0.0.1:40001" ] || return 1
	register_clerk yossi wrong-password 40002 403 || return 1
	[ "$(rcli HGET dl:agent:yossi registered)" != 1 ] || return 1
	# Unregister (Expires: 0): the clerk is logged out.
	register_clerk dana change-me-201 40001 200 0 || return 1
	wait_state dana logged_out 30
	[ "$(rcli HGET dl:agent:dana registered)" = 0 ]
}

TESTS+=(clerk_login_and_take_call)
# *21 logs the clerk in; option 4 rings the clerk, who answers; after the call the clerk is in
# wrap-up, then available again.
test_clerk_login_and_take_call() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	clerk_phone 40011 trunk -m 1 || return 1
	clerk_ready dana change-me-201 40011 || return 1
	grep -q '"route":"feature:\*21","result":"feature-ok"' "$T/cdr.log" || { cat "$T/cdr.log"; return 1; }
	resident_to_department || { cat "$T/uac.out"; return 1; }
	wait_grep '"route":"queue:collection","result":"completed","detail":"clerk dana"' "$T/cdr.log" 30 ||
		{ cat "$T/cdr.log"; return 1; }
	[ "$(invites_at 40011)" -eq 1 ] || return 1
	wait_state dana wrap_up 30 || wait_state dana available 30 || return 1
	wait_state dana available 50
}

TESTS+=(fewest_tasks_first)
# Procedure 46 §5: of two available clerks, the one with fewer open tickets gets the call.
test_fewest_tasks_first() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	clerk_phone 40021 trunk -m 1 || return 1
	clerk_phone 40022 trunk -m 1 || return 1
	clerk_ready dana change-me-201 40021 || return 1
	clerk_ready yossi change-me-202 40022 || return 1
	agentdb tickets dana 2 >/dev/null
	resident_to_department || { cat "$T/uac.out"; return 1; }
	wait_grep '"detail":"clerk yossi"' "$T/cdr.log" 30 || { cat "$T/cdr.log"; return 1; }
	[ "$(invites_at 40021)" -eq 0 ] && [ "$(invites_at 40022)" -eq 1 ]
}

TESTS+=(no_answer_then_next_clerk)
# The first clerk's phone rings out: the call goes to the next clerk; with max_no_answer = 1 the
# first clerk is put on break.
test_no_answer_then_next_clerk() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf" 0 -e 's/max_no_answer = 3;/max_no_answer = 1;/'
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	clerk_phone 40031 trunk-noanswer -m 1 || return 1
	clerk_phone 40032 trunk -m 1 || return 1
	clerk_ready dana change-me-201 40031 || return 1
	clerk_ready yossi change-me-202 40032 || return 1
	agentdb tickets yossi 1 >/dev/null   # dana first
	resident_to_department || { cat "$T/uac.out"; return 1; }
	wait_grep '"detail":"clerk yossi"' "$T/cdr.log" 30 || { cat "$T/cdr.log"; return 1; }
	grep -q cancelled "$T"/phone-40031_*_logs.log || { echo "dana's phone got no CANCEL"; return 1; }
	wait_state dana break 30 || return 1
	[ "$(rcli HGET dl:agent:dana reason)" = no-answer ]
}

TESTS+=(ring_all_one_winner)
# ring-all: every available clerk rings; the first to answer gets the caller, the others are
# cancelled and available again at once.
test_ring_all_one_winner() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf" 3 -e 's/strategy = "fewest-tasks";/strategy = "ring-all";/'
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	clerk_phone 40041 trunk -m 1 || return 1
	clerk_phone 40042 trunk-noanswer -m 1 || return 1
	clerk_phone 40043 trunk-noanswer -m 1 || return 1
	clerk_ready c01 pw-c01 40041 || return 1
	clerk_ready c02 pw-c02 40042 || return 1
	clerk_ready c03 pw-c03 40043 || return 1
	resident_to_department || { cat "$T/uac.out"; return 1; }
	wait_grep '"detail":"clerk c01"' "$T/cdr.log" 30 || { cat "$T/cdr.log"; return 1; }
	grep -q cancelled "$T"/phone-40042_*_logs.log && grep -q cancelled "$T"/phone-40043_*_logs.log ||
		{ echo "the other phones were not cancelled"; return 1; }
	wait_state c02 available 10 && wait_state c03 available 10
}

TESTS+=(caller_gone_while_clerk_rings)
# The resident hangs up while the clerk's phone rings: CANCEL to the clerk, who is available at
# once (not counted as a no-answer).
test_caller_gone_while_clerk_rings() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	clerk_phone 40051 trunk-noanswer -m 1 || return 1
	clerk_ready dana change-me-201 40051 || return 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" \
		STEPS=@steps/pcap+steps/pause+steps/send-bye DTMF="$PCAP_DIR/dtmf_2833_4.pcap" MS=2000
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	wait_grep cancelled "$T"/phone-40051_*_logs.log 30 || { echo "no CANCEL to the clerk"; return 1; }
	wait_state dana available 20 || return 1
	[ "$(rcli HGET dl:agent:dana no_answer_count)" = 0 ]
}

TESTS+=(no_clerk_overflows_to_callcenter)
# Nobody is logged in: the caller goes to the call-center trunk (the queue's on_overflow).
test_no_clerk_overflows_to_callcenter() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	scenario trunk "$T/trunk.xml"
	sipp_uas "$T/trunk.xml" "$CC_PORT" -m 1 || return 1
	resident_to_department || { cat "$T/uac.out"; return 1; }
	wait_grep '"route":"trunk:callcenter","result":"completed"' "$T/cdr.log" 30 ||
		{ cat "$T/cdr.log"; return 1; }
	grep -q 'queue collection overflow: no-clerk-available' "$T/deskline.log"
}

TESTS+=(redis_down_then_back)
# Redis stops: a department call overflows to the call center at once (nobody waits on a dead
# Redis). Redis comes back: deskline reconnects and the next call reaches the clerk.
test_redis_down_then_back() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	clerk_phone 40061 trunk -m 1 || return 1
	clerk_ready dana change-me-201 40061 || return 1
	scenario trunk "$T/trunk.xml"
	sipp_uas "$T/trunk.xml" "$CC_PORT" -m 1 || return 1
	rcli SHUTDOWN >/dev/null 2>&1
	wait_grep 'unreachable' "$T/deskline.log" 50 || return 1
	resident_to_department || { cat "$T/uac.out"; return 1; }
	wait_grep 'overflow: redis-down' "$T/deskline.log" 30 || return 1
	wait_grep '"route":"trunk:callcenter","result":"completed"' "$T/cdr.log" 30 ||
		{ cat "$T/cdr.log"; return 1; }
	start_redis || return 1
	# Each connection logs "connected, N scripts loaded" once (and "connected (node …)" too).
	for _ in $(seq 100); do
		[ "$(grep -c 'redis .*: connected, [0-9]* scripts loaded' "$T/deskline.log")" -ge 2 ] &&
			break
		sleep 0.1
	done
	[ "$(grep -c 'redis .*: connected, [0-9]* scripts loaded' "$T/deskline.log")" -ge 2 ] ||
		{ echo "no reconnect"; return 1; }
	wait_state dana available 30 || return 1
	resident_to_department || { cat "$T/uac.out"; return 1; }
	wait_grep '"route":"queue:collection","result":"completed","detail":"clerk dana"' "$T/cdr.log" 30 ||
		{ cat "$T/cdr.log"; return 1; }
}

TESTS+=(clerk_to_clerk_call)
# A clerk dials a colleague's extension (digest-authenticated INVITE): the colleague's phone
# rings and answers; unauthenticated callers get 407 and never reach the phone.
test_clerk_to_clerk_call() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	clerk_phone 40071 trunk -m 1 || return 1
	register_clerk yossi change-me-202 40071 || return 1
	scenario clerk-dial "$T/dial.xml" USER=dana PASSWORD=change-me-201 STEPS=@steps/wait-bye
	sipp_uac "$T/dial.xml" -s 202 || { cat "$T/uac.out"; return 1; }
	wait_grep '"route":"extension:202","result":"completed","detail":"clerk yossi"' "$T/cdr.log" 30 ||
		{ cat "$T/cdr.log"; return 1; }
	# Without credentials: challenged, never routed.
	scenario resident-reject "$T/reject.xml" CODECS="8 0" STATUS=407
	sipp_uac "$T/reject.xml" -s 202 || { cat "$T/uac.out"; return 1; }
	[ "$(invites_at 40071)" -eq 1 ]
}
