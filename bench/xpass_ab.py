"""xpass_ab.py -- the listed-row pass's chunk order (run 41), A/B in one process on the GPU machine
(bench/xmerge_ab.py's rounds: Longformer by CUDA-graph replay at 2^16-2^22 and H 16 at 2^18, its
window part, the order of the settings rotating each round):
  fwd  the pass's CTAs take the key chunks first first (GRAPHATTN_XPASS_FORWARD=1, before run 41);
  rev  last first: in a stream of calls, the first chunks the pass reads are the keys the previous
       call's query tiles read last (still in L2), and the pass ends on the first chunks, where
       this call's query tiles begin.
Prediction (written before the run): outputs bit-identical (the same chunks, computed the same
way; only the CTAs' order changes). At 2^18 (K and V 64 MB, L2 50 MB) the pass 24-26 us -> ~20-23,
Longformer by graph replay 1.40x -> ~1.35-1.38x; at 2^20 (256 MB) 1-2 us; at 2^22 nothing measurable.
Run: GRAPHATTN_LIBRARY=... python3 bench/xpass_ab.py --rounds 4
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xmerge_ab  # noqa: E402

if __name__ == "__main__":
    xmerge_ab.main({"fwd": {"GRAPHATTN_XPASS_FORWARD": "1"}, "rev": {}}, "fwd", "rev", "rev", rounds=4)
