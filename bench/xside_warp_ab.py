"""xside_warp_ab.py -- Longformer's listed-row pass beside the query tiles (run 55), A/B in one
process on the GPU machine (bench/xmerge_ab.py's rounds: Longformer by CUDA-graph replay at
2^16-2^22 and H 16 at 2^18, and its window part, the settings' order rotating each round):
  seq   GRAPHATTN_XPASS_SIDE=0: the pass (the wgmma kernel, 64 listed rows a CTA) before the query
        tiles, as before run 55;
  side  the pass as xpass_warp_kernel (one warp, 16 rows, mma.sync, 22.5 KB) launched right behind
        the query tiles with programmatic dependent launch, beside them on each SM.
Prediction (written before the run): outputs differ in the 16 listed rows only, by rounding (other
sums in another order). The pass (24-26 us at 2^18, ~74 at 2^20 alone) hides under the query
tiles where one warp CTA fits beside the warp-specialized CTA on each SM (22.5 KB of the ~30 KB and
4,096 registers it leaves); the query tiles lose 2-4% to its issue slots. Longformer over its
window part by graph replay 1.43x -> ~1.20-1.28x at 2^18, 1.32x -> ~1.15-1.22x at 2^20; less at
2^16 (the query tiles' kernel is short: the pass may outlast it).
Run: GRAPHATTN_LIBRARY=... python3 bench/xside_warp_ab.py --rounds 3
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xmerge_ab  # noqa: E402

if __name__ == "__main__":
    xmerge_ab.main({"seq": {"GRAPHATTN_XPASS_SIDE": "0"}, "side": {}}, "seq", "seq", "side", rounds=3)
