#!/usr/bin/env bash
# The kernel's floor under the media benchmarks: what one RTP packet costs on loopback in the
# system calls deskline makes for it, with no deskline at all, and so how many calls one core
# could carry if deskline's own work cost nothing.
#
#   bench/udp_floor.sh [options]
#
# Compiles bench/udp_cost.c and runs it on CPU 0 (where the media benchmarks put deskline), three
# times each way deskline moves packets. epoll (media.io_uring = false): SOCKETS connect()ed
# sockets send() one 172-byte RTP packet each per round (on loopback the send also queues the
# packet at the receiver, inside the system call), and SOCKETS sockets in an edge-triggered epoll
# set read one each per round with epoll_wait + recvmmsg. io_uring (the default): the sends are
# queued on an io_uring and submitted together, the reads are multishot receives whose
# completions one io_uring_enter collects. The median run of each gives send and receive ns per
# packet, and from them the most calls one core can carry within the benchmarks' 80% limit with
# nothing but these calls:
#   a menu call     50 packets in + 50 out per second (20 ms), plus DTMF detection on top
#   a bridged call  100 in + 100 out per second (two legs relayed both ways)
#
# Options:
#   --sockets N  sockets (legs) per round (default 2000)
#   --rounds N   rounds per run (default 300)
#   --no-doc     print the result only; do not append it to docs/BENCHMARKS.md
#
# Sends to 127.0.0.1 only. Nothing else should run meanwhile.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cmdline=$(bench_cmdline bench/udp_floor.sh "$@")

sockets=2000
rounds=300
write_doc=1
cpu=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--sockets) sockets=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--no-doc) write_doc=0; shift ;;
	-h|--help) usage 0 ;;
	*) echo "udp_floor: unknown option $1" >&2; usage 1 >&2 ;;
	esac
done

bench_need udp_floor gcc taskset awk
bench_workdir udp-floor

started_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
read -ra uring_libs <<<"$(pkg-config --libs liburing)"
gcc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes "$bench/udp_cost.c" -o "$T/udp_cost" "${uring_libs[@]}"
for _ in 1 2 3; do
	taskset -c "$cpu" "$T/udp_cost" -s "$sockets" -r "$rounds" | tee -a "$T/runs-epoll.txt"
	taskset -c "$cpu" "$T/udp_cost" -u -s "$sockets" -r "$rounds" | tee -a "$T/runs-io_uring.txt"
done
# Per way: the run with the median sum send + recv, then µs per packet and the calls it allows.
for io in epoll io_uring; do
	read -r send_ns recv_ns <<<"$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["send_ns"] + v["recv_ns"], v["send_ns"], v["recv_ns"] }' "$T/runs-$io.txt" |
		sort -n | sed -n 2p | cut -d' ' -f2-)"
	read -r pkt_us menu_calls bridged_calls <<<"$(awk -v s="$send_ns" -v r="$recv_ns" 'BEGIN {
		us = (s + r) / 1000; printf "%.2f %d %d", us, 800000 / (50 * us), 800000 / (100 * us) }')"
	printf -v "send_$io" %s "$send_ns"
	printf -v "recv_$io" %s "$recv_ns"
	printf -v "us_$io" %s "$pkt_us"
	printf -v "menu_$io" %s "$menu_calls"
	printf -v "bridged_$io" %s "$bridged_calls"
	echo "kernel per packet, $io, on CPU $cpu: send ${send_ns} ns, receive ${recv_ns} ns ($sockets sockets)"
	echo "most calls within 80% of one core on these calls alone, $io: menu $menu_calls, bridged $bridged_calls"
done
[ "$write_doc" -eq 1 ] || exit 0

cat >"$T/doc-intro.md" <<'EOF'
What the kernel alone charges for one RTP packet on loopback, measured without deskline by
`bench/udp_cost.c` doing deskline's own system calls on CPU 0: *send* is one `send()` of a
172-byte packet (12-byte RTP header + 20 ms of G.711) on a `connect`ed socket — on loopback the
packet is queued at the receiver inside that call, so the far end's kernel receive work is
charged here too; *receive* is one packet read the way deskline's media workers read, an
edge-triggered `epoll_wait` and one `recvmmsg` per ready socket. That is the way of
`media.io_uring = false`; with io_uring (the default) the sends of a round are queued on an
io_uring and submitted together, and each socket has a multishot `recvmsg` whose completions one
`io_uring_enter` collects — the system call, about 1 µs on this VM, paid once per batch. A menu
call at 20 ms is 50
packets in and 50 out per second, a bridged call 100 and 100: dividing 80% of a second by that
gives the most calls one core could carry if deskline's own work cost nothing — the ceiling
under the media benchmarks' figures, and a target above it cannot be met on loopback with one
socket per leg and these system calls, whatever deskline does.
EOF
{
	echo "### $started_utc — kernel cost per RTP packet on loopback, CPU $cpu"
	echo
	echo "- machine: $(bench_machine); load average before the run: $loadavg; kernel $(uname -r)"
	echo "- command: \`$cmdline\` ($sockets sockets, $rounds rounds, median of 3 runs each way;" \
	     "all runs: $(cat "$T/runs-epoll.txt" "$T/runs-io_uring.txt" | tr '\n' ';' |
	     sed 's/;$//; s/;/; /g'))"
	# shellcheck disable=SC2154 # set by printf -v above
	echo "- epoll: send ${send_epoll} ns + receive ${recv_epoll} ns = **${us_epoll} µs per packet" \
	     "received and sent on**; at most, within 80% of one core and with nothing else done:" \
	     "**$menu_epoll menu calls** (50 packets in and 50 out a second each), **$bridged_epoll" \
	     "bridged calls** (100 in and 100 out each)"
	# shellcheck disable=SC2154 # set by printf -v above
	echo "- io_uring: send ${send_io_uring} ns + receive ${recv_io_uring} ns = **${us_io_uring} µs" \
	     "per packet**; at most **$menu_io_uring menu calls**, **$bridged_io_uring bridged calls**"
} >"$T/doc-section.md"
# shellcheck disable=SC2016 # the backquotes are Markdown
bench_doc_append 'Kernel floor per RTP packet (`bench/udp_floor.sh`)' "$T/doc-intro.md" \
	"$T/doc-section.md"
