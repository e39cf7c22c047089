# Procedure 46 §2: a resident reaches the payment center by pressing 1, 2 or 3.

TESTS+=(rfc4733_to_payment)
# RFC 4733 '1' → the payment trunk gets the INVITE with the §2.1 header → the trunk's BYE reaches
# the resident.
test_rfc4733_to_payment() {
	make_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	scenario trunk "$T/trunk.xml"
	sipp_uas "$T/trunk.xml" "$PAY_PORT" -m 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" DTMF="$PCAP_DIR/dtmf_2833_1.pcap"
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	wait_grep 'service=ivr-payment' "$T"/trunk_*_logs.log 50 || { echo "trunk did not get ivr-payment"; cat "$T"/trunk_*_logs.log; return 1; }
	wait_grep '"result":"completed"' "$T/cdr.log" 30 || { echo "no completed CDR"; cat "$T/cdr.log"; return 1; }
	grep -q '"menu_path":"main:1(automated payment)"' "$T/cdr.log" || { cat "$T/cdr.log"; return 1; }
}
