# Procedure 46 §2, §4, §6: a call nobody in the department answers goes to the council call
# center with a ticket; the ticket is due at the end of the business day and is mailed to the
# department. Real redis-server, real SMTP server (aiosmtpd), sipp call center, on loopback.

# The SMTP server of the tests (tests/unit/smtp_sink.py): every accepted message becomes a file
# in $T/smtp/mail.
start_smtp() {
	spawn /usr/bin/python3 -B "$TOP/tests/unit/smtp_sink.py" "$SMTP_PORT" "$T/smtp"
	SMTP_PID=$LAST_PID
	for _ in $(seq 100); do
		ss -Hltn "sport = :$SMTP_PORT" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	echo "SMTP server did not start"
	return 1
}

# The one message the SMTP server received (waits up to N tenths of a second).
wait_mail() {
	local tenths=${1:-100}
	for _ in $(seq "$tenths"); do
		ls "$T"/smtp/mail/*.eml >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "no mail arrived"
	return 1
}

# Check a mail file: recipients, an RFC 2047 subject holding the ticket id, the body's fields.
#   check_mail FILE TICKET CLERK_EMAIL|-
check_mail() {
	/usr/bin/python3 - "$@" <<'PY'
import email, email.header, email.policy, sys
path, ticket, clerk = sys.argv[1:]
raw = open(path, "rb").read()
# The sink writes the envelope as LF lines, an empty line, then the message as received.
head, _, msg = raw.partition(b"\n\n")
rcpts = [l.split(b":", 1)[1].strip(b"<> ").decode() for l in head.split(b"\n") if l.startswith(b"RCPT TO:")]
m = email.message_from_bytes(msg, policy=email.policy.default)
subject = str(m["Subject"])
body = m.get_content()
errors = []
if "collection@council.example" not in rcpts:
    errors.append("department not a recipient: %s" % rcpts)
if clerk != "-" and clerk not in rcpts:
    errors.append("clerk %s not a recipient: %s" % (clerk, rcpts))
if ticket not in subject:
    errors.append("ticket %s not in the subject %r" % (ticket, subject))
if "=?UTF-8?" not in msg.split(b"\r\n\r\n")[0].decode("ascii", "replace"):
    errors.append("subject is not RFC 2047 encoded")
for label in ("Ticket", "Due", "0501234567", "Resident 1", "main:4(collection department)",
              "no-clerk-available", "callcenter"):
    if label not in body:
        errors.append("body lacks %r" % label)
if "\u05e4\u05e0\u05d9\u05d9\u05d4" not in body:          # "פנייה" (inquiry): Hebrew labels
    errors.append("body has no Hebrew labels")
if b"\n" in msg.replace(b"\r\n", b""):
    errors.append("bare LF in the message")
print("subject: %s" % subject)
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PY
}

# A resident presses 4 and nobody is logged in: the call overflows to the call center.
overflow_call() {
	scenario trunk "$T/cc.xml"
	sipp_uas "$T/cc.xml" "$CC_PORT" -m 1 || return 1
	scenario resident "$T/resident.xml" CODECS="8 0 101" STEPS=@steps/pcap+steps/wait-bye \
		DTMF="$PCAP_DIR/dtmf_2833_4.pcap"
	sipp_uac "$T/resident.xml" -s 1000 || { cat "$T/uac.out"; return 1; }
}

# The ticket id the call center's INVITE carried.
ticket_at_callcenter() {
	sed -n 's/^ticket=\([^ ]*\) reason=.*/\1/p' "$T"/cc_*_logs.log | head -n1
}

TESTS+=(overflow_opens_ticket_and_mails)
# Nobody available: the call-center trunk gets the INVITE with the ticket, its reason and the
# menu path; the ticket is in Redis, due at the close of today's business day, assigned to the
# clerk with the fewest open tickets; the mail reaches the department and that clerk.
test_overflow_opens_ticket_and_mails() {
	start_redis || return 1
	start_smtp || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	# Both clerks known to Redis (registered, then logged out): the ticket still gets a clerk.
	register_clerk dana change-me-201 40101 || return 1
	register_clerk yossi change-me-202 40102 || return 1
	agentdb tickets dana 3 >/dev/null
	overflow_call || return 1
	local id
	id=$(ticket_at_callcenter)
	echo "ticket: $id"
	[[ "$id" =~ ^[0-9]{4}-[0-9]{6}$ ]] || { cat "$T"/cc_*_logs.log; return 1; }
	grep -q "ticket=$id reason=no-clerk-available path=main:4(collection department)" "$T"/cc_*_logs.log ||
		{ cat "$T"/cc_*_logs.log; return 1; }
	[ "$(rcli HGET "dl:ticket:$id" clerk)" = yossi ] || { rcli HGETALL "dl:ticket:$id"; return 1; }
	[ "$(rcli HGET "dl:ticket:$id" status)" = assigned ] || return 1
	[ "$(rcli HGET dl:agent:yossi open_tickets)" = 1 ] || return 1
	# Due: the end of today's business day (24:00 local in this test's calendar).
	local due expect
	due=$(rcli HGET "dl:ticket:$id" due_ms)
	expect=$(TZ=Asia/Jerusalem date -d "tomorrow 00:00" +%s)000
	[ "$due" = "$expect" ] || { echo "due $due, expected $expect"; return 1; }
	[ -n "$(rcli ZSCORE dl:tickets:open "$id")" ] || return 1
	wait_grep "\"ticket\":\"$id\"" "$T/cdr.log" 30 || { cat "$T/cdr.log"; return 1; }
	wait_mail 100 || return 1
	check_mail "$(ls "$T"/smtp/mail/*.eml | head -n1)" "$id" yossi@example.org || return 1
	# The call-center trunk answered: the ticket says so.
	for _ in $(seq 50); do
		[ "$(rcli HGET "dl:ticket:$id" forward_result)" = answered ] && break
		sleep 0.1
	done
	[ "$(rcli HGET "dl:ticket:$id" forward_result)" = answered ] || { rcli HGETALL "dl:ticket:$id"; return 1; }
	# deskctl shows it, with its history.
	"$DESKCTL" -c "$T/deskline.conf" tickets | grep -q "$id" || return 1
	"$DESKCTL" -c "$T/deskline.conf" ticket show "$id" | grep -q yossi
}

TESTS+=(smtp_down_mail_sent_later)
# The SMTP server is down during the call: the mail waits in the spool and goes out once the
# server is up.
test_smtp_down_mail_sent_later() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	overflow_call || return 1
	local id
	id=$(ticket_at_callcenter)
	[ -n "$id" ] || return 1
	sleep 1
	[ "$(ls "$T"/spool/mail/new | wc -l)" -ge 1 ] || { ls -R "$T/spool"; return 1; }
	start_smtp || return 1
	wait_mail 350 || return 1
	check_mail "$(ls "$T"/smtp/mail/*.eml | head -n1)" "$id" - || return 1
	for _ in $(seq 50); do
		[ "$(ls "$T"/spool/mail/new | wc -l)" -eq 0 ] && return 0
		sleep 0.1
	done
	echo "spool not emptied"; return 1
}

TESTS+=(killed_between_spool_and_send)
# deskline is killed (SIGKILL) after the mail is spooled and before it is sent: the next start
# sends it.
test_killed_between_spool_and_send() {
	start_redis || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	overflow_call || return 1
	local id
	id=$(ticket_at_callcenter)
	sleep 0.5
	[ "$(ls "$T"/spool/mail/new | wc -l)" -ge 1 ] || return 1
	kill -KILL "$DESKLINE_PID"
	start_smtp || return 1
	: >"$T/deskline.log"
	start_deskline "$T/deskline.conf" || return 1
	wait_mail 100 || return 1
	check_mail "$(ls "$T"/smtp/mail/*.eml | head -n1)" "$id" -
}

TESTS+=(redis_down_ticket_spooled_then_replayed)
# Redis is down: the ticket still gets an id at once (reserved earlier), is written to the spool,
# travels to the call center, and is mailed; when Redis is back it is written there (once).
test_redis_down_ticket_spooled_then_replayed() {
	start_redis || return 1
	start_smtp || return 1
	clerk_conf "$T/deskline.conf"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	sleep 0.5
	rcli SHUTDOWN >/dev/null 2>&1
	wait_grep 'unreachable' "$T/deskline.log" 50 || return 1
	overflow_call || return 1
	local id
	id=$(ticket_at_callcenter)
	echo "ticket: $id"
	[ -n "$id" ] || return 1
	grep -q "ticket $id spooled" "$T/deskline.log" || { grep ticket "$T/deskline.log"; return 1; }
	ls "$T"/spool/tickets/ | grep -q "$id" || { ls -R "$T/spool"; return 1; }
	wait_mail 100 || return 1
	start_redis || return 1
	for _ in $(seq 150); do
		[ -n "$(rcli HGET "dl:ticket:$id" status 2>/dev/null)" ] && break
		sleep 0.1
	done
	[ -n "$(rcli HGET "dl:ticket:$id" status)" ] || { echo "ticket not replayed"; return 1; }
	for _ in $(seq 30); do
		ls "$T"/spool/tickets/ | grep -q "$id" || break
		sleep 0.1
	done
	! ls "$T"/spool/tickets/ | grep -q "$id"
}

TESTS+=(closed_hours_greeting)
# A resident chooses the department outside business hours: the queue's closed greeting plays
# and the call goes to the call center with a ticket whose reason is "closed", due at the close
# of the next business day. (The payment options stay open round the clock.)
test_closed_hours_greeting() {
	PROMPTS=$T/prompts
	make_short_prompts "$PROMPTS"
	start_redis || return 1
	start_smtp || return 1
	clerk_conf "$T/deskline.conf"
	# Open one minute a day, at a minute that is never now: the line is closed.
	local now_min open close
	now_min=$((10#$(TZ=Asia/Jerusalem date +%H) * 60 + 10#$(TZ=Asia/Jerusalem date +%M)))
	if [ "$now_min" -lt 600 ] || [ "$now_min" -gt 720 ]; then open="11:00-11:01"; else open="03:00-03:01"; fi
	set_hours "$T/deskline.conf" "$open"
	start_deskline "$T/deskline.conf" || return 1
	wait_grep 'redis .* connected' "$T/deskline.log" 50 || return 1
	overflow_call || return 1
	grep -q 'queue collection overflow: closed' "$T/deskline.log" || return 1
	grep -q 'play closed' "$T/deskline.log" || return 1
	grep -q 'reason=closed' "$T"/cc_*_logs.log || { cat "$T"/cc_*_logs.log; return 1; }
	local id due expect
	id=$(ticket_at_callcenter)
	due=$(rcli HGET "dl:ticket:$id" due_ms)
	# Due at the close of the next business day: the next day whose one open minute ends.
	if [ "$open" = "11:00-11:01" ] && [ "$now_min" -lt 660 ]; then
		expect=$(TZ=Asia/Jerusalem date -d "today 11:01" +%s)000
	elif [ "$open" = "11:00-11:01" ]; then
		expect=$(TZ=Asia/Jerusalem date -d "tomorrow 11:01" +%s)000
	else
		expect=$(TZ=Asia/Jerusalem date -d "tomorrow 03:01" +%s)000
	fi
	[ "$due" = "$expect" ] || { echo "due $due, expected $expect"; return 1; }
}
