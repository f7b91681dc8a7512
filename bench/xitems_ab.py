"""xitems_ab.py -- Longformer's listed-row pass as work items of the warp-specialized kernel,
A/B in one process on the GPU machine (bench/xmerge_ab.py's rounds: Longformer by CUDA-graph
replay at 2^16-2^22 and H 16 at 2^18, and its window part, the settings' order rotating each
round):
  pass   GRAPHATTN_NO_XITEMS=1: the pass kernel (64 listed rows a CTA, ~264 CTAs) before the
         query tiles, as before;
  items  the pass as items among the super tiles (ws_xitems_plan): ~8 key tiles per consumer,
         a multiple of the grid in all, interleaved so that an item reads its keys in L2 near
         the super tiles that read them.
Prediction (written before the run): outputs differ in the 16 listed rows only, by rounding. The
pass (24-26 us at 2^18, ~74 at 2^20, reading K and V from DRAM) gives way to ~4096 / 16384 item
tiles at ~60% of a key tile's cost, ~5-8 / ~20-30 us spread over the kernel, with one kernel
boundary fewer; the query tiles' key loop now holds 12 spill loads and 8 stores (ptxas), 0-4%
slower. Longformer over its window part by graph replay 1.43x -> ~1.22-1.30x at 2^18, 1.32x ->
~1.15-1.25x at 2^20.
Run: GRAPHATTN_LIBRARY=... python3 bench/xitems_ab.py --rounds 3
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xmerge_ab  # noqa: E402

if __name__ == "__main__":
    xmerge_ab.main({"pass": {"GRAPHATTN_NO_XITEMS": "1"}, "items": {}}, "pass", "items", "items", rounds=3)
