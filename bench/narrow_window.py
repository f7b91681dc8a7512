#!/usr/bin/env python3
"""narrow_window.py -- narrow windows (|i - j| <= W for small W) beside FA2's window kernel: time
per call and the max error against fp64 on sampled rows (gpu_bench's reference, first and last
rows included), bf16, H = 1, D = 64. The library is $GRAPHATTN_LIBRARY (as for gpu_bench), so
two builds can be compared by running this twice.

    python3 bench/narrow_window.py [--log2n 22] [--windows 16,32,64,128] [--no-peers] [--label L]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gpu_bench as gb  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log2n", default="22")
    ap.add_argument("--windows", default="16,32,64,128")
    ap.add_argument("--no-peers", dest="peers", action="store_false")
    ap.add_argument("--label", default="graphattn")
    args = ap.parse_args()
    windows = [int(x) for x in args.windows.split(",")]
    for ln in (int(x) for x in args.log2n.split(",")):
        gb.case_narrow(args, 1 << ln, windows, system=args.label)
    if gb.FAILED:
        print("FAILED:", *gb.FAILED, sep="\n  ")
        sys.exit(1)


if __name__ == "__main__":
    main()
