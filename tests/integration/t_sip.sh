# SIP behaviour of the department line: refusals, codecs, delayed offer, OPTIONS, hold, CANCEL.

TESTS+=(wrong_number_404)
# A number deskline does not own → 404, and no call record of a department call.
test_wrong_number_404() {
	make_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	scenario resident-reject "$T/reject.xml" CODECS="8 0" STATUS=404
	sipp_uac "$T/reject.xml" -s 4444 || { cat "$T/uac.out"; return 1; }
	grep -q 'status=404' "$T"/reject_*_logs.log || return 1
	grep -q 'INVITE for 4444: not a department number' "$T/deskline.log" || return 1
}

TESTS+=(no_common_codec_488)
# An offer of G.729 only → 488 with a reason, and the refusal is in the CDR.
test_no_common_codec_488() {
	make_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	scenario resident-reject "$T/reject.xml" CODECS="18" STATUS=488
	sipp_uac "$T/reject.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	grep -q 'status=488 reason=No common codec' "$T"/reject_*_logs.log ||
		{ cat "$T"/reject_*_logs.log; return 1; }
	wait_grep '"result":"rejected","detail":"488' "$T/cdr.log" 30 || { cat "$T/cdr.log"; return 1; }
}

TESTS+=(delayed_offer)
# INVITE without SDP: deskline offers in the 200 (PCMA, PCMU, telephone-event), takes the
# answer from the ACK, and the menu works on the negotiated stream.
test_delayed_offer() {
	make_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	scenario trunk "$T/trunk.xml"
	sipp_uas "$T/trunk.xml" "$PAY_PORT" -m 1
	scenario resident-late "$T/late.xml" STEPS=@steps/pcap+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_1.pcap"
	sipp_uac "$T/late.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	grep -q 'offer=8 0 101' "$T"/late_*_logs.log ||
		{ cat "$T"/late_*_logs.log; return 1; }
	wait_grep 'service=ivr-payment' "$T"/trunk_*_logs.log 50 || return 1
	wait_grep '"result":"completed"' "$T/cdr.log" 30 || { cat "$T/cdr.log"; return 1; }
}

TESTS+=(options_200)
# OPTIONS (monitoring, keepalive) → 200 with the methods deskline takes part in.
test_options_200() {
	make_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	scenario options "$T/options.xml"
	sipp_uac "$T/options.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	grep -q 'allow=INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER' "$T"/options_*_logs.log ||
		{ cat "$T"/options_*_logs.log; return 1; }
}

TESTS+=(hold_and_resume)
# re-INVITE with a=sendonly → 200 with a=recvonly (RFC 3264 §8.4); resume → sendrecv; the
# caller's BYE ends the call.
test_hold_and_resume() {
	make_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	scenario resident "$T/resident.xml" CODECS="8 101" STEPS=@steps/hold+steps/send-bye
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	grep -q 'hold=recvonly' "$T"/resident_*_logs.log || { cat "$T"/resident_*_logs.log; return 1; }
	grep -q 'resume=sendrecv' "$T"/resident_*_logs.log || return 1
	wait_grep '"result":"caller-hangup"' "$T/cdr.log" 30 || { cat "$T/cdr.log"; return 1; }
}

# deskline and a payment trunk playing tests/integration/sipp/trunk-NAME.xml (its trace files
# are $T/NAME_*); a resident presses 1 (RFC 4733) and hangs up 2.5 s later, while it rings.
hangup_while_trunk_rings() {
	local name=$1
	make_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	scenario "trunk-$name" "$T/$name.xml"
	sipp_uas "$T/$name.xml" "$PAY_PORT" -m 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" \
		STEPS=@steps/pcap+steps/pause+steps/send-bye DTMF="$PCAP_DIR/dtmf_2833_1.pcap" MS=2500
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
}

TESTS+=(caller_hangs_up_while_trunk_rings)
# The resident presses 1, the payment trunk rings and never answers, the resident hangs up:
# the trunk gets CANCEL, and the call record says the caller hung up on the way to the trunk.
test_caller_hangs_up_while_trunk_rings() {
	hangup_while_trunk_rings noanswer || return 1
	wait_grep 'cancelled' "$T"/noanswer_*_logs.log 50 || { echo "trunk got no CANCEL"; return 1; }
	wait_grep '"route":"trunk:payment","result":"caller-hangup"' "$T/cdr.log" 30 ||
		{ cat "$T/cdr.log"; return 1; }
}

TESTS+=(answer_crosses_cancel)
# The resident hangs up while the trunk rings, but the trunk's 200 crosses deskline's CANCEL
# (RFC 3261 §9.1): the answered B-leg must still get its ACK and a BYE, and the call must end
# with a record, not stay up on the trunk.
test_answer_crosses_cancel() {
	hangup_while_trunk_rings cross || return 1
	wait_grep 'hung up after the crossed answer' "$T"/cross_*_logs.log 50 ||
		{ echo "the trunk's crossed answer got no BYE"; cat "$T"/cross_*_logs.log; return 1; }
	wait_grep '"route":"trunk:payment","result":"caller-hangup"' "$T/cdr.log" 30 ||
		{ cat "$T/cdr.log"; return 1; }
}
