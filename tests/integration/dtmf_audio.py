#!/usr/bin/env python3
"""Write raw G.711 A-law audio holding DTMF tones, for sipp's rtp_stream (payload type 8).

    dtmf_audio.py DIGITS OUT [--tone-ms 100] [--gap-ms 400] [--lead-ms 500] [--dbm0 -10]

Each key is the sum of its row and column frequencies (ITU-T Q.23), each at the given level,
preceded by lead-in silence and separated by gaps.
"""
import argparse
import math

ROWS = {"1": 697, "2": 697, "3": 697, "A": 697, "4": 770, "5": 770, "6": 770, "B": 770,
        "7": 852, "8": 852, "9": 852, "C": 852, "*": 941, "0": 941, "#": 941, "D": 941}
COLS = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336, "8": 1336, "0": 1336,
        "3": 1477, "6": 1477, "9": 1477, "#": 1477, "A": 1633, "B": 1633, "C": 1633, "D": 1633}
RATE = 8000


def alaw(sample):
    """One 16-bit linear sample to A-law (ITU-T G.711)."""
    sign = 0x80 if sample >= 0 else 0x00
    if sample < 0:
        sample = -sample - 1
    sample = min(sample, 32767) >> 3
    if sample < 32:
        code = sign | (sample >> 1)
    else:
        seg = 1
        value = sample >> 5
        while value > 1:
            value >>= 1
            seg += 1
        code = sign | (seg << 4) | ((sample >> seg) & 0x0F)
    return code ^ 0x55


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("digits")
    ap.add_argument("out")
    ap.add_argument("--tone-ms", type=int, default=100)
    ap.add_argument("--gap-ms", type=int, default=400)
    ap.add_argument("--lead-ms", type=int, default=500)
    ap.add_argument("--dbm0", type=float, default=-10.0)
    a = ap.parse_args()

    # 0 dBm0 is a sine of RMS 3.17 dB below the A-law overload point (peak 32767 * 10^(-3.14/20)).
    peak = 32767 * 10 ** (-3.14 / 20) * 10 ** (a.dbm0 / 20)
    samples = [0] * (RATE * a.lead_ms // 1000)
    for d in a.digits.upper():
        f1, f2 = ROWS[d], COLS[d]
        for i in range(RATE * a.tone_ms // 1000):
            t = i / RATE
            samples.append(int(peak * (math.sin(2 * math.pi * f1 * t) + math.sin(2 * math.pi * f2 * t))))
        samples.extend([0] * (RATE * a.gap_ms // 1000))
    samples.extend([0] * (RATE * 200 // 1000))
    with open(a.out, "wb") as f:
        f.write(bytes(alaw(max(-32768, min(32767, s))) for s in samples))


if __name__ == "__main__":
    main()
