#!/usr/bin/env bash
# Build deskline out of tree.
#   scripts/build.sh [BUILD_DIR] [extra configure arguments…]
# BUILD_DIR defaults to build/. configure is rerun when its arguments change or when Makefile.am
# or configure.ac did (autogen.sh remade Makefile.in or configure).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
shift || true

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	./autogen.sh >/dev/null 2>&1 || ./autogen.sh
fi
mkdir -p "$dir"
cd "$dir"
args="$*"
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$args" ] ||
   [ "$top/Makefile.in" -nt Makefile ] || [ "$top/configure" -nt Makefile ]; then
	"$top/configure" "$@" >configure.out 2>&1 || { cat configure.out; exit 1; }
	# An archive is remade only from objects newer than it: a file moved into it would be missed.
	rm -f ./*.a
	printf '%s' "$args" > .configure-args
fi
make -j"$(nproc)" >make.out 2>&1 || { cat make.out; exit 1; }
make -j"$(nproc)" check TESTS= >>make.out 2>&1 || { cat make.out; exit 1; }
