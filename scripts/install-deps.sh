#!/usr/bin/env bash
# Install every Debian package deskline needs to build, run and test. Idempotent: packages already
# installed are left alone, and apt is not touched at all when nothing is missing.
#
#   scripts/install-deps.sh           what deskline needs to build, run and test
#   scripts/install-deps.sh --bench   that, and what bench/run.sh compares with (Kamailio)
set -euo pipefail

PACKAGES=(
	# build
	build-essential autoconf automake pkg-config
	libsofia-sip-ua-dev libspandsp-dev libconfig-dev libhiredis-dev libsndfile1-dev liburing-dev
	libcurl4-openssl-dev check
	# run
	redis-server tzdata
	# test
	sip-tester python3 python3-aiosmtpd valgrind procps iproute2
)

# The benchmark's signalling reference. Debian enables its service on install; bench/ starts its
# own Kamailio on a free port, so the packaged one (which would take 5060) is stopped and disabled.
BENCH_PACKAGES=(kamailio)
bench=0
[ "${1:-}" != --bench ] || { bench=1; PACKAGES+=("${BENCH_PACKAGES[@]}"); }

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages deskline needs are installed"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (or with sudo) to install them" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ "$bench" -eq 1 ] && [[ " ${missing[*]} " == *" kamailio "* ]]; then
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		systemctl disable --now kamailio >/dev/null 2>&1 || true
	fi
fi
