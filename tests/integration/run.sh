#!/usr/bin/env bash
# Integration tests: deskline with real SIP peers (sipp), on loopback only.
#   [MEDIA_WORKERS=N] [MEDIA_IO_URING=false] tests/integration/run.sh PATH/TO/deskline [TEST_NAME…]
# Prints "PASS name" or "FAIL name" (with the evidence) per test; with MEDIA_WORKERS set the
# tests run with that many media threads (media.workers) and are named "name@workersN"; with
# MEDIA_IO_URING=false, RTP goes through epoll (media.io_uring = false), the tests are named
# "name@epoll", and each must show deskline's start-up line saying so.
set -uo pipefail
DESKLINE=$(realpath "${1:?usage: run.sh PATH/TO/deskline [TEST…]}")
DESKCTL=$(dirname "$DESKLINE")/deskctl
shift
. "$(dirname "$0")/lib.sh"

TESTS=()
for f in "$INTEG_DIR"/t_*.sh; do
	. "$f"
done

run_one() {
	local name=$1 label=$1
	[ -n "${MEDIA_WORKERS:-}" ] && label="$name@workers$MEDIA_WORKERS"
	[ "${MEDIA_IO_URING:-true}" = false ] && label="$label@epoll"
	T=$(mktemp -d "/tmp/deskline-it.$label.XXXXXX")
	SIP_PORT=$(free_port)
	PAY_PORT=$(free_port)
	CC_PORT=$(free_port)
	SMTP_PORT=$(free_port)
	RTP_BASE=$(free_rtp_base)
	PROMPTS=$TOP/etc/prompts
	local rc=0
	( set -u; "test_$name" ) >"$T/test.out" 2>&1 || rc=$?
	stop_all
	if [ "$rc" -eq 0 ] && [ "${MEDIA_IO_URING:-true}" = false ]; then
		# Every deskline the test started (its log has the start-up line) used epoll.
		local logs
		logs=$(grep -l "deskline notice: deskline .* started with" "$T"/*.log 2>/dev/null)
		if [ -z "$logs" ] || grep -L "RTP through epoll" $logs | grep -q .; then
			echo "a deskline did not say it runs RTP through epoll (media.io_uring = false)" \
				>>"$T/test.out"
			rc=1
		fi
	fi
	if [ "$rc" -eq 0 ]; then
		echo "PASS $label"
		rm -rf "$T"
	else
		echo "FAIL $label (files kept in $T)"
		sed 's/^/    /' "$T/test.out" | tail -n 30
		if [ -f "$T/deskline.log" ]; then
			echo "    --- deskline.log (last 30 lines)"
			tail -n 30 "$T/deskline.log" | sed 's/^/    /'
		fi
	fi
}

selected=("$@")
[ "${#selected[@]}" -gt 0 ] || selected=("${TESTS[@]}")
for name in "${selected[@]}"; do
	run_one "$name"
done
