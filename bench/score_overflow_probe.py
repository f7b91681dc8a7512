#!/usr/bin/env python3
"""score_overflow_probe.py -- what each path gives for rows whose scores scale * q.k overflow
float32 (the scale itself within float32's range): the fraction of NaN outputs per path, on the
CUDA tiles (window at D 64), the edge engine (random keys, D 48) and the CPU backend.

    python3 bench/score_overflow_probe.py      (needs the library with CUDA and PyTorch on a GPU)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
import graphattn as ga  # noqa: E402

torch.manual_seed(0)
for spec, d, dev in (("window:256", 64, "cuda"), ("window:3+random:4,1", 48, "cuda"), ("window:256", 64, "cpu")):
    q, k, v = (torch.randn(1, 4096, 2, d, device=dev, dtype=torch.bfloat16 if dev == "cuda" else torch.float32)
               for _ in range(3))
    for scale in (1e30, 1e37, 1e38, 3.4e38):
        o = ga.attention(q, k, v, spec, scale=scale)
        print("%-22s D %-3d %-4s scale %-8g NaN outputs %.4f" % (spec, d, dev, scale, o.float().isnan().float().mean().item()))
