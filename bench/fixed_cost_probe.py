"""fixed_cost_probe.py -- which kernels one small window call launches, and for how long each
runs on the GPU (torch.profiler, CUDA activity): where the ~12 us per call that the CUDA-graph
replay shows at N = 2^10..2^14 goes (run 31c). Prints one line per kernel name: calls per
forward call, mean GPU us.

    GRAPHATTN_LIBRARY=build-gpu/libgraphattn.so python3 bench/fixed_cost_probe.py [log2N ...]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ga_torch as ga  # noqa: E402


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [10, 14, 16]
    g = ga.Graph("window:256")
    for n in sizes:
        N = 1 << n
        q, k, v = (torch.randn(1, N, 1, 64, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        for _ in range(20):
            ga.attention(g, q, k, v)
        torch.cuda.synchronize()
        reps = 50
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            for _ in range(reps):
                ga.attention(g, q, k, v)
            torch.cuda.synchronize()
        print(f"== N = 2^{n}: {reps} calls")
        for e in sorted(prof.key_averages(), key=lambda e: -e.device_time_total):
            if e.device_time_total <= 0:
                continue
            print(f"  {e.count / reps:5.2f} per call  {e.device_time_total / e.count:9.2f} us  {e.key[:110]}")


if __name__ == "__main__":
    main()
