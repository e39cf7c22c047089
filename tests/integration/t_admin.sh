# What a sysadmin does: check a configuration, reload a running daemon, find leaks.

TESTS+=(config_check_ok)
# `deskline -t` on the sample configuration: exit 0 and "configuration OK".
test_config_check_ok() {
	local out
	out=$("$DESKLINE" -t -c "$TOP/etc/deskline.conf" 2>&1) || { echo "$out"; return 1; }
	grep -q 'configuration OK' <<<"$out" || { echo "$out"; return 1; }
}

TESTS+=(config_check_errors)
# `deskline -t` on a file with three mistakes: non-zero exit and each one as FILE:LINE: message.
test_config_check_errors() {
	local bad=$T/bad.conf out rc=0 line_menu line_port line_key
	make_conf "$bad" -e 's#action = "trunk:payment";#action = "trunk:nowhere";#' \
		-e 's#port_max = .*;#port_max = '"$RTP_BASE"';#' \
		-e 's#user_agent = "deskline";#user_agent = "deskline";\n  colour = "blue";#'
	line_menu=$(grep -n 'trunk:nowhere' "$bad" | head -n1 | cut -d: -f1)
	line_port=$(grep -n 'port_max' "$bad" | head -n1 | cut -d: -f1)
	line_key=$(grep -n 'colour' "$bad" | cut -d: -f1)
	out=$("$DESKLINE" -t -c "$bad" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" -ne 0 ] || { echo "exit status 0 for a bad file"; return 1; }
	grep -q "^$bad:$line_menu: .*nowhere" <<<"$out" || { echo "no error for the unknown trunk"; return 1; }
	grep -q "^$bad:$line_port: " <<<"$out" || { echo "no error for the port range"; return 1; }
	grep -q "^$bad:$line_key: .*colour" <<<"$out" || { echo "no error for the unknown key"; return 1; }
	! grep -q 'configuration OK' <<<"$out"
}

TESTS+=(reload_keeps_calls)
# SIGHUP with a broken file: refused, errors logged, the running configuration kept, the call in
# progress goes on. SIGHUP with a good file: reloaded, and the next call uses it.
test_reload_keeps_calls() {
	PROMPTS=$T/prompts
	make_short_prompts "$PROMPTS"
	make_conf "$T/deskline.conf" -e 's/first_digit_timeout_ms = 5000;/first_digit_timeout_ms = 3000;/'
	start_deskline "$T/deskline.conf" || return 1
	scenario trunk "$T/trunk.xml"
	sipp_uas "$T/trunk.xml" "$CC_PORT" -m 2
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/wait-bye
	# A silent caller: ~3 × 3.3 s in the menu, then the call center (max-timeouts).
	(sipp_uac "$T/resident.xml" -s 1000; echo "rc=$?" >"$T/first.rc") &
	wait_grep 'play main-greeting' "$T/deskline.log" 50 || return 1
	cp "$T/deskline.conf" "$T/good.conf"
	echo 'this is not libconfig' >>"$T/deskline.conf"
	kill -HUP "$DESKLINE_PID"
	wait_grep 'reload refused' "$T/deskline.log" 30 || return 1
	grep -q "$T/deskline.conf:[0-9]*: " "$T/deskline.log" || { echo "error without FILE:LINE"; return 1; }
	# A good file with one visible change: a new department number.
	sed 's/numbers = \[ "1000", "5300" \];/numbers = [ "1000", "5300", "7777" ];/' \
		"$T/good.conf" >"$T/deskline.conf"
	kill -HUP "$DESKLINE_PID"
	wait_grep 'configuration reloaded' "$T/deskline.log" 30 || return 1
	wait_grep 'rc=0' "$T/first.rc" 300 || { echo "the first call did not finish well"; cat "$T/uac.out"; return 1; }
	grep -q '"route":"trunk:callcenter","result":"completed"' "$T/cdr.log" || { cat "$T/cdr.log"; return 1; }
	sipp_uac "$T/resident.xml" -s 7777 || { echo "7777 not answered after reload"; cat "$T/uac.out"; return 1; }
	[ "$(grep -c '"result":"completed"' "$T/cdr.log")" -eq 2 ] || { cat "$T/cdr.log"; return 1; }
}

TESTS+=(valgrind_no_leaks)
# deskline under valgrind through a payment call, a 404, an OPTIONS and a drain-and-exit:
# no invalid reads/writes, and no memory definitely or indirectly lost.
test_valgrind_no_leaks() {
	make_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=42 --log-file="$T/valgrind.log" || return 1
	scenario trunk "$T/trunk.xml"
	sipp_uas "$T/trunk.xml" "$PAY_PORT" -m 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/pcap+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_1.pcap"
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	scenario resident-reject "$T/reject.xml" CODECS="8 0" STATUS=404
	sipp_uac "$T/reject.xml" -s 4444 || { cat "$T/uac.out"; return 1; }
	scenario options "$T/options.xml"
	sipp_uac "$T/options.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
	wait_grep '"result":"completed"' "$T/cdr.log" 50 || return 1
	kill -TERM "$DESKLINE_PID"
	local rc=0
	wait "$DESKLINE_PID" || rc=$?
	grep -E 'ERROR SUMMARY|definitely lost|indirectly lost' "$T/valgrind.log"
	[ "$rc" -eq 0 ] || { echo "deskline under valgrind exited $rc"; sed -n '1,80p' "$T/valgrind.log"; return 1; }
	grep -q 'ERROR SUMMARY: 0 errors' "$T/valgrind.log"
}
