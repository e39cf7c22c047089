# The menu's failure paths: no input, a trunk that refuses, a silent RTP stream.

TESTS+=(no_input_goes_to_callcenter)
# The resident presses nothing: the greeting and the no-input prompt repeat max_timeouts times,
# then on_max_timeouts sends the call to the call-center trunk.
test_no_input_goes_to_callcenter() {
	PROMPTS=$T/prompts
	make_short_prompts "$PROMPTS"
	make_conf "$T/deskline.conf" -e 's/first_digit_timeout_ms = 5000;/first_digit_timeout_ms = 800;/'
	start_deskline "$T/deskline.conf" || return 1
	scenario trunk "$T/trunk.xml"
	sipp_uas "$T/trunk.xml" "$CC_PORT" -m 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/wait-bye
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	wait_grep 'INVITE service=' "$T"/trunk_*_logs.log 50 || { echo "call center got no INVITE"; return 1; }
	wait_grep '"menu_path":"max-timeouts","route":"trunk:callcenter","result":"completed"' \
		"$T/cdr.log" 30 || { cat "$T/cdr.log"; return 1; }
	[ "$(grep -c 'play no-input, main-greeting' "$T/deskline.log")" -eq 2 ] ||
		{ echo "expected two re-prompts"; grep 'play ' "$T/deskline.log"; return 1; }
}

TESTS+=(trunk_busy_fallback)
# The payment trunk answers 486: the trunk's on_failure plays "try later" and hangs up.
test_trunk_busy_fallback() {
	PROMPTS=$T/prompts
	make_short_prompts "$PROMPTS"
	make_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	scenario trunk-busy "$T/busy.xml"
	sipp_uas "$T/busy.xml" "$PAY_PORT" -m 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/pcap+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_1.pcap"
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	wait_grep '"result":"trunk-failed","detail":"trunk:payment: 486 Busy Here"' "$T/cdr.log" 30 ||
		{ cat "$T/cdr.log"; return 1; }
	grep -q 'play try-later' "$T/deskline.log" || return 1
}

TESTS+=(rtp_timeout_hangs_up)
# A caller whose RTP stops (no packets at all here) is hung up after media.rtp_timeout_ms.
test_rtp_timeout_hangs_up() {
	make_conf "$T/deskline.conf" -e 's/rtp_timeout_ms = 30000;/rtp_timeout_ms = 2000;/' \
		-e 's/first_digit_timeout_ms = 5000;/first_digit_timeout_ms = 60000;/'
	start_deskline "$T/deskline.conf" || return 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/wait-bye
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	wait_grep '"result":"rtp-timeout"' "$T/cdr.log" 30 || { cat "$T/cdr.log"; return 1; }
	grep -q 'no RTP on the A-leg' "$T/deskline.log" || return 1
}

TESTS+=(trunk_ring_timeout_fallback)
# The payment trunk rings past its ring_timeout_ms: deskline CANCELs the B-leg and runs the
# trunk's on_failure (try later, hang up).
test_trunk_ring_timeout_fallback() {
	PROMPTS=$T/prompts
	make_short_prompts "$PROMPTS"
	make_conf "$T/deskline.conf" -e '0,/ring_timeout_ms = 30000;/s//ring_timeout_ms = 2000;/'
	start_deskline "$T/deskline.conf" || return 1
	scenario trunk-noanswer "$T/noanswer.xml"
	sipp_uas "$T/noanswer.xml" "$PAY_PORT" -m 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/pcap+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_1.pcap"
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	wait_grep 'cancelled' "$T"/noanswer_*_logs.log 30 || { echo "trunk got no CANCEL"; return 1; }
	wait_grep '"result":"trunk-failed","detail":"trunk:payment: ring timeout"' "$T/cdr.log" 30 ||
		{ cat "$T/cdr.log"; return 1; }
	grep -q 'play try-later' "$T/deskline.log" || return 1
}
