#!/usr/bin/env bash
# One GPU call (run by bench/patches/run-all.sh inside build-p, the patched copy; `..` is main):
# bench/patches/padwalk.patch. A head dim with no tile kernel of its own (8-24, 40-56, 72-120,
# 136-248) runs padded on the persistent kernels whatever its walk (before: only where the middle
# row attends 192 keys; shorter walks went to the edge engine), and D 32 takes D 64's walk rule
# (a middle query tile of 3 key tiles: the warp-specialized kernel where it has the work; before,
# 192 keys, so window:20 / :64 ran on the cp.async kernel's D 32 instance).
# Predictions: the padded short walks 5-20x faster than on the edge engine (the long ones were
# 10-50x, run 17a); D 32 window:20 at 2^22 1.18 -> ~1.0 ms and window:64 ~1.2 (D 64's times with
# the shift, run 26a); window 513 at D 96 and window:20 at D 64 unchanged. Rows: main, the patch,
# the patch with GRAPHATTN_OLD_WALKS=1 (must track main). Tests first: every cuda.* test of the
# patched tree and the Python suite on CUDA tensors; no timings unless they pass.
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
  ab_bench "window:20 D96 2^22" --graph window:20 --n 2^22 --dim 96 --dtype bf16 --repeats 5
  ab_bench "window:16 D48 2^22" --graph window:16 --n 2^22 --dim 48 --dtype bf16 --repeats 5
  ab_bench "blocks:64 D48 2^22" --graph blocks:64 --n 2^22 --dim 48 --dtype bf16 --repeats 5
  ab_bench "window:20 D16 2^22" --graph window:20 --n 2^22 --dim 16 --dtype f16 --repeats 5
  ab_bench "window:20 D200 2^20" --graph window:20 --n 2^20 --dim 200 --dtype bf16 --repeats 5
  ab_bench "window:20 D32 2^22" --graph window:20 --n 2^22 --dim 32 --dtype bf16 --repeats 10
  ab_bench "window:64 D32 2^22" --graph window:64 --n 2^22 --dim 32 --dtype bf16 --repeats 10
  ab_bench "window D96 2^22" --graph window:256 --n 2^22 --dim 96 --dtype bf16 --repeats 10
  ab_bench "window:20 D64 2^22" --graph window:20 --n 2^22 --dim 64 --dtype bf16 --repeats 10
}
for r in 1 2; do
  G=$M; echo "== main round $r"; cases
  G=$B; echo "== padwalk round $r"; cases
  echo "== padwalk off (GRAPHATTN_OLD_WALKS=1) round $r"; GRAPHATTN_OLD_WALKS=1 cases
done
