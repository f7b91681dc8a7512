"""pdl_ab.py -- programmatic dependent launch (GRAPHATTN_PDL) on and off in one process, the same
build: GPU time per call where calls queue behind each other, which is where it can matter.

    GRAPHATTN_LIBRARY=build-gpu/libgraphattn.so python3 bench/pdl_ab.py [--rounds 4]

For each case (bf16, H = 1, D = 64: window 513 at N = 2^10 .. 2^20, Longformer 256 + 16 global
and its window part at 2^18 and 2^20, and the window at 2^16 and 2^20 with each call after a torch
kernel that writes its q) and each setting, the order alternating, `rounds` times (each setting
first in half of them):
  graph   20 calls captured in one CUDA graph, the graph replayed between two events (median of
          5), divided by 20 (bench/gpu_bench.py's graph_ms, its *_graph rows);
  queued  50 calls queued eagerly between two events (median of 5), divided by 50 (the host's
          per-call cost is inside where it exceeds the GPU time: small N).
The launch attributes are fixed when a graph is captured, so each setting captures its own.
First the outputs of both settings are compared bit for bit on each case (the same kernels, the
same order of operations: they must be equal). Prints one line per case, setting and round,
then a summary (medians over the rounds, and off / on).
"""
import argparse
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ga_torch as ga  # noqa: E402
import gpu_bench  # noqa: E402  (its graph timing)

SETTINGS = (("on", None), ("off", "0"))


def setting(value):
    if value is None:
        os.environ.pop("GRAPHATTN_PDL", None)
    else:
        os.environ["GRAPHATTN_PDL"] = value


def graph_us(fn, N):
    """gpu_bench.graph_ms (20 calls per graph up to 2^20, the replay's median of 5), in us"""
    return gpu_bench.graph_ms(fn, N) * 1000


def queued_us(fn, calls=50, reps=5):
    fn()
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(True), torch.cuda.Event(True)
    ts = []
    for _ in range(reps):
        s.record()
        for _ in range(calls):
            fn()
        e.record()
        torch.cuda.synchronize()
        ts.append(s.elapsed_time(e) * 1000 / calls)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    torch.manual_seed(0)
    cases = [("window 2^%d" % n, "window:256", 1 << n) for n in (10, 12, 14, 16, 18, 20)]
    lf = "window:256+global:" + ",".join(str(t) for t in range(16))
    for n in (18, 20):
        cases.append(("longformer 2^%d" % n, lf, 1 << n))
        cases.append(("lf window part 2^%d" % n, "window:256", 1 << n))
    for n in (16, 20):  # each call after a torch kernel that writes its q (q * 1, into qb)
        cases.append(("torch op + window 2^%d" % n, "window:256", 1 << n))
    graphs, fns = {}, {}
    bad = 0
    for name, spec, N in cases:
        g = graphs.setdefault(spec, ga.Graph(spec))
        q, k, v = (torch.randn(1, N, 1, 64, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        out = torch.empty_like(q)
        pre = None
        if name.startswith("torch op"):  # q * 1 into qb, which the call then reads
            qb = torch.empty_like(q)
            pre = lambda q=q, qb=qb: torch.mul(q, 1.0, out=qb)  # noqa: E731
            q = qb
        # each case's own workspace, held for the whole run (ga_torch's cache keeps one size)
        ws = ga.workspace(g, q, k, v)

        def fn(g=g, q=q, k=k, v=v, out=out, pre=pre, ws=ws):
            if pre:
                pre()
            ga.attention(g, q, k, v, out=out, ws=ws)
        fns[name] = fn
        got = []
        for _, value in SETTINGS:
            setting(value)
            fn()
            torch.cuda.synchronize()
            got.append(out.clone())
        same = torch.equal(got[0], got[1])
        bad += not same
        print("%-22s outputs on / off %s" % (name, "equal" if same else "DIFFER"), flush=True)
    res = {}
    for r in range(args.rounds):
        for name, _, N in cases:
            fn = fns[name]
            for label, value in (SETTINGS if r % 2 == 0 else SETTINGS[::-1]):
                setting(value)
                gu, qu = graph_us(fn, N), queued_us(fn)
                res.setdefault((name, label), []).append((gu, qu))
                print("%-22s %-3s round %d  graph %9.2f us  queued %9.2f us" % (name, label, r + 1, gu, qu), flush=True)
    setting(None)
    print("\nsummary (medians over rounds; us per call)")
    print("%-22s %10s %10s %7s   %10s %10s %7s" % ("case", "graph on", "off", "off/on", "queued on", "off", "off/on"))
    for name, _, _ in cases:
        on, off = res[(name, "on")], res[(name, "off")]
        g_on, g_off = (statistics.median(x[0] for x in s) for s in (on, off))
        q_on, q_off = (statistics.median(x[1] for x in s) for s in (on, off))
        print("%-22s %10.2f %10.2f %7.3f   %10.2f %10.2f %7.3f" % (name, g_on, g_off, g_off / g_on, q_on, q_off, q_off / q_on))
    for n in (18, 20):
        for label in ("on", "off"):
            lfv = statistics.median(x[0] for x in res[("longformer 2^%d" % n, label)])
            wp = statistics.median(x[0] for x in res[("lf window part 2^%d" % n, label)])
            print("longformer 2^%d graph, PDL %-3s: %.3fx its window part" % (n, label, lfv / wp))
    if bad:
        print("%d case(s) differ between the settings" % bad)
        sys.exit(1)


if __name__ == "__main__":
    main()
