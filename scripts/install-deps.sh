#!/usr/bin/env bash
# Install every Debian package deskline needs to build, run and test. Idempotent: packages already
# installed are left alone, and apt is not touched at all when nothing is missing.
set -euo pipefail

PACKAGES=(
	# build
	build-essential autoconf automake pkg-config
	libsofia-sip-ua-dev libspandsp-dev libconfig-dev libhiredis-dev libsndfile1-dev
	libcurl4-openssl-dev check
	# run
	redis-server tzdata
	# test
	sip-tester python3 python3-aiosmtpd valgrind procps iproute2
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
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
