"""clock_probe.py -- does a long call run at lower clocks than a short one? The window (513 keys,
bf16, D = 64) timed back to back for ~SECONDS each at several sizes (H = 1 and H = 16), with the
SM clock, power and temperature sampled by nvidia-smi every 20 ms in the background; prints per
size the time per edge and the median SM clock / power while it ran. Explains (or not) why calls
of ~30 ms and more (2^26, 2^28, H = 16 at 2^22) cost ~6% more per edge than calls of ~2-7 ms.

    python3 bench/clock_probe.py [--seconds 3] [--log2n 22,24,26] [--h16]"""
import argparse
import os
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ga_torch as ga  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--log2n", default="22,24,26")
    ap.add_argument("--h16", action="store_true", help="also H = 16 at 2^22 ([B, N, H, D] and [B, H, N, D])")
    args = ap.parse_args()
    smi = subprocess.Popen(["nvidia-smi", "--query-gpu=timestamp,clocks.sm,power.draw,temperature.gpu",
                            "--format=csv,noheader,nounits", "-lms", "20"], stdout=subprocess.PIPE, text=True)
    g = ga.Graph("window:256")
    cases = [(int(x), 1, False) for x in args.log2n.split(",")]
    if args.h16:
        cases += [(22, 16, False), (22, 16, True)]
    marks = []
    for lg, H, bhnd in cases:
        N = 1 << lg
        shape = (1, H, N, 64) if bhnd else (1, N, H, 64)
        q, k, v = (torch.randn(shape, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        if bhnd:
            q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        out = torch.empty_like(q)
        ga.attention(g, q, k, v, out=out)
        torch.cuda.synchronize()
        t0 = time.time()
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        calls = 0
        e0.record()
        while time.time() - t0 < args.seconds:
            ga.attention(g, q, k, v, out=out)
            calls += 1
            if calls % 8 == 0:
                torch.cuda.synchronize()
        e1.record()
        torch.cuda.synchronize()
        t1 = time.time()
        ms = e0.elapsed_time(e1) / calls
        edges = H * (N * 513 - 2 * sum(range(257)))  # rows near the ends have fewer keys
        marks.append((lg, H, bhnd, t0 + 0.5, t1, ms, edges))
        del q, k, v, out
        torch.cuda.empty_cache()
        time.sleep(1.0)
    smi.terminate()
    rows = []
    for line in smi.stdout.read().splitlines():
        p = [x.strip() for x in line.split(",")]
        try:
            ts = time.mktime(time.strptime(p[0].split(".")[0], "%Y/%m/%d %H:%M:%S")) + float("0." + p[0].split(".")[1])
            rows.append((ts, float(p[1]), float(p[2]), float(p[3])))
        except (ValueError, IndexError):
            continue

    def med(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2] if xs else float("nan")

    print("%-6s %-3s %-5s %10s %10s %9s %8s %6s %4s" % ("log2N", "H", "bhnd", "ms/call", "ps/edge", "MHz", "W", "degC", "n"))
    for lg, H, bhnd, a, b, ms, edges in marks:
        s = [r for r in rows if a <= r[0] <= b]
        print("%-6d %-3d %-5s %10.4f %10.4f %9.0f %8.0f %6.0f %4d" % (lg, H, "yes" if bhnd else "no", ms, ms * 1e9 / edges,
              med([r[1] for r in s]), med([r[2] for r in s]), med([r[3] for r in s]), len(s)))


if __name__ == "__main__":
    main()
