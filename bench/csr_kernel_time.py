"""csr_kernel_time.py -- the window (513 keys, bf16, D = 64) as an implicit component and as an
explicit CSR (ranges, and the bitmap tiles with GRAPHATTN_NO_RANGES=1 set at the graph's first
call), each timed as CUDA-graph replays (GPU time per call, no host cost) and, under ncu, per
kernel. Tells whether the CSR's extra time over the implicit window is the kernel's or the host's.

    python3 bench/csr_kernel_time.py [--log2n 20] [--replays 50]
    ncu --metrics gpu__time_duration.sum -k regex:tile_ python3 bench/csr_kernel_time.py --replays 0"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ga_torch as ga  # noqa: E402
from gpu_bench import window_csr  # noqa: E402


def graph_ms(fn, replays):
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        fn()  # warm-up on the capture stream
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(10):
            fn()
    g.replay()
    torch.cuda.synchronize()
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    e0.record()
    for _ in range(replays):
        g.replay()
    e1.record()
    torch.cuda.synchronize()
    return e0.elapsed_time(e1) / (10 * replays)


def eager_ms(fn, calls=50):
    fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3 / calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log2n", type=int, default=20)
    ap.add_argument("--replays", type=int, default=50, help="0: three eager calls each (for ncu)")
    args = ap.parse_args()
    N, W = 1 << args.log2n, 256
    q, k, v = (torch.randn((1, N, 1, 64), device="cuda", dtype=torch.bfloat16) for _ in range(3))
    out = torch.empty_like(q)
    row_ptr, col = window_csr(N, W)
    graphs = [("implicit window", ga.Graph("window:%d" % W), None),
              ("csr, ranges", ga.Graph.csr(row_ptr, col, N), None),
              ("csr, bitmap tiles", ga.Graph.csr(row_ptr, col, N), "1")]
    ref = None
    for name, g, no_ranges in graphs:
        if no_ranges:
            os.environ["GRAPHATTN_NO_RANGES"] = no_ranges
        ws = ga.workspace(g, q, k, v)
        fn = lambda: ga.attention(g, q, k, v, out=out, ws=ws)  # noqa: E731
        if args.replays == 0:
            for _ in range(3):
                fn()
            torch.cuda.synchronize()
            print("%-18s 3 calls" % name)
        else:
            e = eager_ms(fn)
            gm = graph_ms(fn, args.replays)
            err = 0.0 if ref is None else (out.float() - ref).abs().max().item()
            print("%-18s eager %8.4f ms   graph replay %8.4f ms   max |diff| vs implicit %.2e" % (name, e, gm, err))
        if ref is None:
            ref = out.float().clone()
        os.environ.pop("GRAPHATTN_NO_RANGES", None)


if __name__ == "__main__":
    main()
