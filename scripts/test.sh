#!/usr/bin/env bash
# Every test of deskline: the Check unit tests, the same unit tests built with AddressSanitizer +
# UndefinedBehaviorSanitizer, and the integration tests (real sipp peers, real redis-server, on
# loopback). Ends with one line "N passed, N failed"; exits non-zero when anything failed.
#   scripts/test.sh [--unit-only]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/install-deps.sh" || exit 1

passed=0
failed=0

# Sum the Check summaries ("100%: Checks: 12, Failures: 0, Errors: 0") of one build's unit tests.
count_unit() {
	local dir=$1 label=$2 log checks fails errs
	for log in "$dir"/tests/unit/test_*.log; do
		[ -f "$log" ] || continue
		local line
		line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -n1)
		if [ -z "$line" ]; then
			echo "FAIL $label $(basename "$log" .log): no Check summary (crashed?)"
			sed -n '1,40p' "$log"
			failed=$((failed + 1))
			continue
		fi
		checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
		fails=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
		errs=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
		local bad=$((fails + errs))
		passed=$((passed + checks - bad))
		failed=$((failed + bad))
		if [ "$bad" -ne 0 ] || grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
			[ "$bad" -eq 0 ] && failed=$((failed + 1))
			echo "FAIL $label $(basename "$log" .log): $line"
			grep -E ':[EF]:|Sanitizer|runtime error' "$log" | head -n 40
		else
			echo "PASS $label $(basename "$log" .log): $line"
		fi
	done
}

run_unit() {
	local dir=$1 label=$2; shift 2
	if ! "$top/scripts/build.sh" "$dir" "$@"; then
		echo "FAIL $label: build failed"
		failed=$((failed + 1))
		return
	fi
	rm -f "$dir"/tests/unit/test_*.log
	(cd "$dir" && make -j"$(nproc)" check >check.out 2>&1)
	count_unit "$dir" "$label"
}

echo "== unit tests"
run_unit "$top/build" unit

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_unit "$top/build-asan" asan CFLAGS="-O1 -g $san" LDFLAGS="$san"
unset ASAN_OPTIONS UBSAN_OPTIONS

if [ "${1:-}" != "--unit-only" ]; then
	echo "== integration tests"
	out=$(mktemp)
	"$top/tests/integration/run.sh" "$top/build/deskline" | tee "$out"
	# The calls whose media matters again with two media threads (media.workers = 2): menus,
	# digits three ways, trunk and clerk bridges, early media, hold, reload, leaks.
	echo "== integration tests with media.workers = 2"
	MEDIA_WORKERS=2 "$top/tests/integration/run.sh" "$top/build/deskline" \
		rfc4733_to_payment inband_to_payment info_to_payment invalid_then_valid \
		ptime30_audio_and_caller_id trunk_early_media key_before_ack hold_and_resume \
		caller_hangs_up_while_trunk_rings no_input_goes_to_callcenter trunk_busy_fallback \
		rtp_timeout_hangs_up reload_keeps_calls valgrind_no_leaks clerk_login_and_take_call \
		ring_all_one_winner caller_gone_while_clerk_rings clerk_to_clerk_call \
		two_nodes_200_callers_20_clerks overflow_opens_ticket_and_mails | tee -a "$out"
	# The same relays with RTP through epoll (media.io_uring = false): the path of a kernel or a
	# container that forbids io_uring.
	echo "== integration tests with media.io_uring = false"
	MEDIA_IO_URING=false "$top/tests/integration/run.sh" "$top/build/deskline" \
		rfc4733_to_payment inband_to_payment trunk_early_media hold_and_resume \
		rtp_timeout_hangs_up clerk_login_and_take_call ring_all_one_winner \
		clerk_to_clerk_call two_nodes_200_callers_20_clerks | tee -a "$out"
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL integration: no test ran"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	rm -f "$out"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
