# Procedure 46 §2: a resident reaches the payment center by pressing 1, 2 or 3, whichever way
# the phone sends the key.

# Start deskline on a sample-based config and a trunk UAS on the payment port.
#   payment_setup [make_conf sed expressions…]
payment_setup() {
	make_conf "$T/deskline.conf" "$@"
	start_deskline "$T/deskline.conf" || return 1
	scenario trunk "$T/trunk.xml"
	sipp_uas "$T/trunk.xml" "$PAY_PORT" -m 1
}

# The trunk got the §2 service header; the call completed with this menu path.
#   expect_payment SERVICE PATH
expect_payment() {
	wait_grep "service=$1" "$T"/trunk_*_logs.log 50 ||
		{ echo "trunk did not get service=$1"; cat "$T"/trunk_*_logs.log; return 1; }
	wait_grep '"result":"completed"' "$T/cdr.log" 30 ||
		{ echo "no completed CDR"; cat "$T/cdr.log"; return 1; }
	grep -qF "\"menu_path\":\"$2\"" "$T/cdr.log" ||
		{ echo "menu path is not $2"; cat "$T/cdr.log"; return 1; }
}

TESTS+=(rfc4733_to_payment)
# RFC 4733 '1' (a real capture) → the payment trunk gets the INVITE with the §2.1 header → the
# trunk's BYE reaches the resident.
test_rfc4733_to_payment() {
	payment_setup || return 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/pcap+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_1.pcap"
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	expect_payment ivr-payment "main:1(automated payment)"
	grep -q 'answer=8 101' "$T"/resident_*_logs.log ||
		{ echo "answer did not keep PCMA + telephone-event"; cat "$T"/resident_*_logs.log; return 1; }
}

TESTS+=(inband_to_payment)
# In-band '2' (DTMF tones in the A-law audio, no telephone-event offered) → §2.2.
test_inband_to_payment() {
	payment_setup || return 1
	python3 "$INTEG_DIR/dtmf_audio.py" 2 "$T/two.alaw"
	scenario resident "$T/resident.xml" CODECS="8" STEPS=@steps/inband+steps/wait-bye \
		AUDIO="$T/two.alaw"
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	expect_payment agent-payment "main:2(payment with an agent)"
	grep -q 'answer=8$' "$T"/resident_*_logs.log ||
		{ echo "PCMA-only offer not answered with PCMA alone"; cat "$T"/resident_*_logs.log; return 1; }
}

TESTS+=(info_to_payment)
# SIP INFO (application/dtmf-relay) '3' → §2.3.
test_info_to_payment() {
	payment_setup || return 1
	scenario resident "$T/resident.xml" CODECS="0 101" STEPS=@steps/info+steps/wait-bye DIGIT=3
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	expect_payment agent-questions "main:3(questions to an agent)"
}

TESTS+=(invalid_then_valid)
# '7' is not an option: the invalid prompt plays, the menu is offered again, then '1' works.
test_invalid_then_valid() {
	payment_setup || return 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/pcap2+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_7.pcap" DTMF2="$PCAP_DIR/dtmf_2833_1.pcap"
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	expect_payment ivr-payment "main:1(automated payment)"
	grep -q 'DTMF 7 (menu)' "$T/deskline.log" && grep -q 'play invalid, main-greeting' "$T/deskline.log" ||
		{ echo "'7' did not play the invalid prompt and the menu again"; return 1; }
}

TESTS+=(tcp_to_payment)
# The same call over TCP: sip.listen without ;transport= takes both UDP and TCP.
test_tcp_to_payment() {
	payment_setup || return 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/pcap+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_1.pcap"
	sipp_uac "$T/resident.xml" -s 5300 -t t1 || { cat "$T/uac.out"; return 1; }
	expect_payment ivr-payment "main:1(automated payment)"
}

TESTS+=(ptime30_audio_and_caller_id)
# The resident's phone sends 30 ms A-law packets (the sip-tester capture) before pressing 1:
# deskline reads them all without an error, and the trunk sees the resident's number in From.
test_ptime30_audio_and_caller_id() {
	payment_setup || return 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" \
		STEPS=@steps/audio30+steps/pcap+steps/wait-bye DTMF="$PCAP_DIR/dtmf_2833_1.pcap"
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	expect_payment ivr-payment "main:1(automated payment)" || return 1
	grep -q 'from="Resident 1" <sip:0501234567@' "$T"/trunk_*_logs.log ||
		{ echo "caller id not kept"; cat "$T"/trunk_*_logs.log; return 1; }
	wait_grep 'A-leg RTP rx [1-9][0-9]* tx [1-9][0-9]* bad 0' "$T/deskline.log" 30 ||
		{ grep 'call ended' "$T/deskline.log"; return 1; }
}

TESTS+=(trunk_early_media)
# The payment trunk sends 183 with SDP and its own audio before answering: deskline relays it
# to the resident (early media), then bridges on 200.
test_trunk_early_media() {
	make_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	scenario trunk-early "$T/early.xml"
	sipp_uas "$T/early.xml" "$PAY_PORT" -m 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/pcap+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_1.pcap"
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	grep -q 'early media from trunk' "$T/deskline.log" || return 1
	wait_grep '"result":"completed"' "$T/cdr.log" 30 || { cat "$T/cdr.log"; return 1; }
}

TESTS+=(key_before_ack)
# The resident presses 1 as soon as the 200 arrives, and the ACK comes 300 ms later: the key
# is kept and acted on when the menu starts.
test_key_before_ack() {
	payment_setup || return 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/wait-bye \
		EARLY="<exec play_pcap_audio=\"$PCAP_DIR/dtmf_2833_1.pcap\"/>" \
		BEFORE_ACK=@steps/pause MS=300
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	grep -q 'DTMF 1 (incoming)' "$T/deskline.log" || { echo "the key did not come before the ACK"; return 1; }
	expect_payment ivr-payment "main:1(automated payment)"
}
