#!/usr/bin/env bash
# One GPU call (run by bench/patches/run-all.sh inside build-p, the patched copy; `..` is main):
# bench/patches/smalld.patch. Head dims 8, 16 and 24 on the persistent Hopper kernels, padded to
# 64 columns as 40-56 already are (run 17a) and D 32 since run 26c; before, they had no tile
# kernel and ran on the edge engine. Predictions: the window 513 at D 8 / 16 / 24 at the padded
# D 32's time (1.57 ms at 2^22, run 26c), against the edge engine's ~10x more (the D 96 window at
# 2^20 ran 26.6 ms there against 0.67 on the tiles, run 26b); D 32 and D 48 unchanged. Tests
# first: every cuda.* test of the patched tree, then the Python suite on CUDA tensors (the check
# of D 32's landing, e9fa1e2, too); no timings unless they pass.
set -u
. bench/ab_lib.sh
ab_build .. || exit 1
names=$(ctest --test-dir build-gpu -N | sed -n 's/^ *Test *#[0-9]*: cuda\.\([A-Za-z0-9_]*\)$/\1/p')
GA_CUDA_SWEEP=300 ab_tests 330 $names || exit 1
echo "== pytest tests/python (CUDA tensors) against the patched tree's library"
GRAPHATTN_LIBRARY=$PWD/build-gpu/libgraphattn.so PYTHONPATH=$PWD/python timeout 200 \
  python3 -m pytest -q -x tests/python 2>&1 | tail -3
[ "${PIPESTATUS[0]}" = 0 ] || { echo "pytest failed: no timings"; exit 1; }
ab_sanitizers padded_head_dims_run_on_the_hopper_tiles_and_match_reference || exit 1
cases() {
  for d in 8 16 24; do
    ab_bench "window D$d 2^20" --graph window:256 --n 2^20 --dim $d --dtype bf16 --repeats 5
  done
  ab_bench "window D16 2^22" --graph window:256 --n 2^22 --dim 16 --dtype bf16 --repeats 3
  ab_bench "causal D16 H4 2^15" --graph causal --n 2^15 --heads 4 --dim 16 --dtype f16 --repeats 3
  ab_bench "window D32 2^22" --graph window:256 --n 2^22 --dim 32 --dtype bf16 --repeats 10
  ab_bench "window D48 2^22" --graph window:256 --n 2^22 --dim 48 --dtype bf16 --repeats 10
}
ab_rounds smalld cases
