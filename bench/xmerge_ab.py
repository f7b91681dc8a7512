"""xmerge_ab.py -- Longformer's listed-row merge and key chunks, A/B in one process (the GPU
machine; several settings, the order rotating each round, as bench/pdl_ab.py):
  old   the merge before run 35 (GRAPHATTN_OLD_XMERGE=1: a max pass, then a weighted sum whose m
        load waits on its l, then a 4-level tree), the pass in chunks for ~264 CTAs;
  new   the merge folding each thread's slots online, 8 slots' loads in flight, one barrier;
  n396  the same, the pass in chunks for ~396 CTAs (3 per SM at D 64) instead of 264.
Needs main plus bench/patches/xmerge-exp.patch (the old merge and the chunk target as switches).
Each: Longformer (window 256 + 16 global, bf16, D 64) by CUDA-graph replay (gpu_bench.graph_ms)
at 2^16-2^22 and H 16 at 2^18, and its window part, medians over the rounds.

Predictions, written before the run (bench/RESULTS.md run 35): ncu gave the merge 8.1-8.5 us at
every N (a chain of ~12 dependent round trips at 16 rows) and the pass at 2^18 25 us (64 MB: 2.6
TB/s, 16 tiles per CTA in turn); the new merge ~3 us, so "new" 4-6 us faster than "old" at every
N; "n396" another 4-8 us at 2^18 (the pass at 3.6 TB/s), ~1-2 us at 2^16, within 1% at 2^20-2^22
(the pass already at the memory bound there). Longformer over its window part by graph replay
~1.41 -> ~1.30-1.33x at 2^18, ~1.66 -> ~1.5x at 2^16, ~1.30 -> ~1.28x at 2^20.
Outputs: "old" and "new" differ by rounding in the 16 listed rows only (a different order of the
same sums); "n396" too (other chunks).
"""
import argparse
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ga_torch as ga  # noqa: E402
import gpu_bench  # noqa: E402  (its graph timing)

SETTINGS = {"old": {"GRAPHATTN_OLD_XMERGE": "1"}, "new": {}, "n396": {"GRAPHATTN_XCHUNK_CTAS": "396"}}


def main(settings=SETTINGS, ref="old", widest="n396", last="new", rounds=4):
    """The command line of this script and of the A/B scripts built on run(): --rounds."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=rounds)
    run(settings, ref, widest, last, ap.parse_args().rounds)


def run(settings, ref, widest, last, rounds):
    """The A/B over `settings` (name -> environment; each name's variables are cleared before
    another's are set): outputs against `ref`'s, the workspace sized under `widest`, the process
    left under `last`."""
    names = sorted({k for env in settings.values() for k in env})

    def setting(value):
        for k in names:
            os.environ.pop(k, None)
        os.environ.update(settings[value])

    sides = list(settings)
    torch.manual_seed(0)
    lf = "window:256+global:" + ",".join(str(t) for t in range(16))
    shapes = [(1 << n, 1) for n in (16, 18, 20, 22)] + [(1 << 18, 16)]
    cases = []  # (name, spec, N, H, follows the setting)
    for N, H in shapes:
        tag = "2^%d%s" % (N.bit_length() - 1, " H16" if H > 1 else "")
        cases.append(("longformer " + tag, lf, N, H, True))
        cases.append(("window part " + tag, "window:256", N, H, False))
    graphs, fns = {}, {}
    for name, spec, N, H, follows in cases:
        g = graphs.setdefault(spec, ga.Graph(spec))
        q, k, v = (torch.randn(1, N, H, 64, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        out = torch.empty_like(q)
        setting(widest)  # (xmerge: the most chunks, the largest workspace, which serves every setting)
        ws = ga.workspace(g, q, k, v)

        def fn(g=g, q=q, k=k, v=v, out=out, ws=ws):
            ga.attention(g, q, k, v, out=out, ws=ws)
        fns[name] = fn
        if not follows:
            continue
        got = {}
        for value in sides:
            setting(value)
            out.fill_(float("nan"))
            fn()
            torch.cuda.synchronize()
            got[value] = out.clone()
        for value in sides:
            if value == ref:
                continue
            d = (got[value].float() - got[ref].float()).abs()
            rows = int((d.amax(dim=(0, 2, 3)) > 0).sum().item())
            print("%-22s %s against %s: max |difference| %.3g, rows differing %d%s" % (
                name, value, ref, d.max().item(), rows, "" if rows <= 16 else "  (MORE THAN THE 16 LISTED ROWS)"), flush=True)
    res = {}
    for r in range(rounds):
        order = sides[r % len(sides):] + sides[:r % len(sides)]
        if r % 2:
            order = order[::-1]
        for name, _, N, _, follows in cases:
            for value in (order if follows else ["-"]):
                if follows:
                    setting(value)
                gu = gpu_bench.graph_ms(fns[name], N) * 1000
                res.setdefault((name, value), []).append(gu)
                print("%-22s %-4s round %d  graph %9.2f us" % (name, value, r + 1, gu), flush=True)
    setting(last)
    print("\nsummary (medians over rounds; us per call by graph replay; ratio: Longformer / its window part)")
    print("%-22s %5s %10s %7s" % ("case", "set", "graph", "ratio"))
    for N, H in shapes:
        tag = "2^%d%s" % (N.bit_length() - 1, " H16" if H > 1 else "")
        pg = statistics.median(res[("window part " + tag, "-")])
        print("%-22s %5s %10.2f" % ("window part " + tag, "-", pg))
        for value in sides:
            g_ = statistics.median(res[("longformer " + tag, value)])
            print("%-22s %5s %10.2f %7.3f" % ("longformer " + tag, value, g_, g_ / pg))


if __name__ == "__main__":
    main()
