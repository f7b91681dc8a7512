"""csr_kernel_time.py -- the window (513 keys, bf16, D = 64) as an implicit component and as an
explicit CSR (ranges, and the bitmap tiles with GRAPHATTN_NO_RANGES=1 set at the graph's first
call), each timed as gpu_bench.py times its rows (an eager call, and CUDA-graph replays: GPU time
per call, no host cost) and, under ncu, per kernel. Tells whether the CSR's extra time over the
implicit window is the kernel's or the host's.

    python3 bench/csr_kernel_time.py [--log2n 20]
    ncu --metrics gpu__time_duration.sum -k regex:tile_ python3 bench/csr_kernel_time.py --replays 0"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ga_torch as ga  # noqa: E402
from gpu_bench import graph_ms, time_ms, window_csr  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log2n", type=int, default=20)
    ap.add_argument("--replays", type=int, default=1,
                    help="0: three eager calls each (for ncu); else timed as gpu_bench times its rows")
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
            e = time_ms(fn, N)
            gm = graph_ms(fn, N)
            err = 0.0 if ref is None else (out.float() - ref).abs().max().item()
            print("%-18s eager %8.4f ms   graph replay %8.4f ms   max |diff| vs implicit %.2e" % (name, e, gm, err))
        if ref is None:
            ref = out.float().clone()
        os.environ.pop("GRAPHATTN_NO_RANGES", None)


if __name__ == "__main__":
    main()
