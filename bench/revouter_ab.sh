#!/usr/bin/env bash
# One GPU call (run 29b): causal's work order with the heads outer. Run 28d handed causal's super
# tiles out last first with the heads inner (snake rounds): 6-8% faster at D 256, 1-2% at D 64,
# but 4-7% slower at D 128, where 16 heads' keys in flight at once outran its three stages; D 128
# kept the plain stride, whose rounds leave some CTAs the heavier super tiles (a key-tile model:
# the last CTA 1.05x the mean). GRAPHATTN_REV_ORDER=outer walks the plain order backwards (the
# heads outer: the CTAs of a round on neighbouring super tiles of one head, as the plain stride
# has them) in the same snake rounds: the balance of the reversed order with the plain stride's
# locality. Predictions: causal D 128 H 16 at 2^16 2-4% faster than plain; at D 256 and D 64
# level with the heads inner (within 1%); the window (no order) unchanged.
# Then the D = 64 dense and causal cases beside SDPA's FA2 and cuDNN (gpu_bench dense-d64,
# causal-d64): where the best kernels at the window's head dim stand on dense work.
# One tree; plain / inner / outer alternated in rotating order, three rounds, after the tests.
# Run: timeout 590 bash bench/revouter_ab.sh (on 030ea6b, which has GRAPHATTN_REV_ORDER; main
# no longer does).
# Outcome (run 29b, bench/RESULTS.md): D 128 0.3-2% faster than plain (medians), but D 64 H 16
# 32% and D 256 H 8 24% slower than the heads inner: bench/order_model.py (written after) shows
# why: with 2 rounds' worth of super tiles per head the snake no longer pairs heavy with light
# (the largest CTA's share 1.51x / 1.74x the mean). Not kept (reverted in the next commit).
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_build_this || exit 1
GA_CUDA_SWEEP=100 ab_tests 200 causal_work_order_hands_out_every_super_tile_once \
  ranges_work_order_hands_out_every_super_tile_once persistent_tma_tiles_match_reference \
  split_rows_run_in_parts_and_match_reference tile_sweep_matches_reference \
  unequal_query_and_key_counts_align_bottom_right output_written_over_q_matches_reference || exit 1
ab_sanitizers causal_work_order_hands_out_every_super_tile_once || exit 1
cases() {
  ab_bench "$1 causal D128 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 5
  ab_bench "$1 causal D256 H8 2^15" --graph causal --n 2^15 --heads 8 --dim 256 --dtype bf16 --repeats 10
  ab_bench "$1 causal D64 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5
  ab_bench "$1 causal D64 H1 2^20" --graph causal --n 2^20 --dim 64 --dtype bf16 --repeats 5
}
echo "columns: label, N, edges, median ms, fastest ms, TFLOP/s, ns/edge, host MB, device MB"
G=$B
modes=(plain inner outer)
for r in 0 1 2; do
  echo "== round $((r + 1))"
  for i in 0 1 2; do
    m=${modes[$(((i + r) % 3))]}
    GRAPHATTN_REV_ORDER=$m cases "$m"
  done
done
echo "== gpu_bench dense-d64, causal-d64"
python3 -c "import flash_attn_interface" 2>/dev/null && echo "FA3 (flash_attn_interface) importable" || echo "no FA3 module"
PYTHONUNBUFFERED=1 GRAPHATTN_LIBRARY="$PWD/build-gpu/libgraphattn.so" timeout 150 python3 bench/gpu_bench.py \
  --cases dense-d64,causal-d64,dense --no-graph-timing 2>&1 | tail -14
