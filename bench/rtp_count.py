#!/usr/bin/env python3
"""Count the RTP packets deskline sends to the benchmark caller.

    rtp_count.py PORT STATUS_FILE

Binds 127.0.0.1:PORT (the audio address of every benchmark INVITE, bench/sipp/cps.xml) and
counts packets per RTP SSRC (RFC 3550 §5.1, bytes 8-11). deskline gives every call leg its own
SSRC, so the number of SSRCs seen is the number of calls whose greeting really reached the
caller. Every 200 ms the totals are written to STATUS_FILE as one line

    PACKETS SSRCS

(replaced atomically: written to STATUS_FILE.tmp, then renamed), so bench/cps.sh can read them
at any time. Runs until SIGTERM or SIGINT.
"""
import os
import signal
import socket
import sys
import time

WRITE_EVERY_S = 0.2
# A 20 ms tick sends one packet per playing leg in one burst: at 1000 legs that is ~1000 packets
# of ~1 KiB of kernel memory each, so the receive buffer must hold several MiB or the counter
# itself drops packets.
RCVBUF_BYTES = 16 * 1024 * 1024
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def main():
    port = int(sys.argv[1])
    status = sys.argv[2]
    running = True

    def stop(signum, frame):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # Beyond net.core.rmem_max; allowed for root only.
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF_BYTES)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF_BYTES)
    s.bind(("127.0.0.1", port))
    s.settimeout(WRITE_EVERY_S)

    packets = 0
    ssrcs = set()
    buf = bytearray(2048)
    view = memoryview(buf)
    next_write = 0.0
    while running:
        try:
            n = s.recv_into(buf)
            if n >= 12 and (buf[0] >> 6) == 2:
                packets += 1
                ssrcs.add(bytes(view[8:12]))
        except socket.timeout:
            pass
        now = time.monotonic()
        if now >= next_write:
            next_write = now + WRITE_EVERY_S
            with open(status + ".tmp", "w") as f:
                f.write("%d %d\n" % (packets, len(ssrcs)))
            os.replace(status + ".tmp", status)


if __name__ == "__main__":
    main()
