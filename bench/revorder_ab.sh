#!/usr/bin/env bash
# One GPU call (run 28d): causal's work order on the warp-specialized kernel. The plain stride
# (CTA b takes super tiles b, b + G, ...; heads outer) leaves the last round's heaviest causal
# super tiles to some of the CTAs; launch_ws_as now hands causal's super tiles out last first,
# heads inner, in snake rounds (GRAPHATTN_NO_REV_ORDER=1: the plain stride), as the ranges' work
# order does. A model of key tiles per super tile (the last CTA's total over the mean):
# causal D 256 H 8 at 2^15 1.30 -> 1.01, causal D 128 H 16 at 2^16 1.05 -> 1.00, causal D 64
# H 16 at 2^16 1.04 -> 1.00, causal D 64 H 1 at 2^20 1.03 -> 1.00.
# Predictions: causal D 256 H 8 2^15 15-20% faster (C tool ~8.0 -> 6.4-6.8 ms), causal D 128
# H 16 and D 64 H 16 at 2^16 3-4% faster, window and dense unchanged (not causal: no order).
# One tree, the order on and off alternated (off first in odd rounds), three rounds. Tests first
# (the new test, the causal paths' tests, memcheck and racecheck on the new test): no timings
# unless they pass. Run: timeout 590 bash bench/revorder_ab.sh
# Outcome (run 28d): D 256 6-8% faster, D 64 1-2%, D 128 4-7% slower: kept at D 64 and 256 only
# (this script, run again, now times D 128 in the plain stride both ways).
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_build_this || exit 1
GA_CUDA_SWEEP=100 ab_tests 240 causal_work_order_hands_out_every_super_tile_once \
  ranges_work_order_hands_out_every_super_tile_once head_dim_256_runs_on_the_tiles_and_matches_reference \
  persistent_tma_tiles_match_reference split_rows_run_in_parts_and_match_reference tile_sweep_matches_reference \
  hopper_tile_kernel_is_used_where_expected with_tensor_core_row_sums tile_engine_paths_match_reference \
  unequal_query_and_key_counts_align_bottom_right output_written_over_q_matches_reference || exit 1
ab_sanitizers causal_work_order_hands_out_every_super_tile_once || exit 1
cases() {
  ab_bench "$1 causal D256 H8 2^15" --graph causal --n 2^15 --heads 8 --dim 256 --dtype bf16 --repeats 10
  ab_bench "$1 causal D128 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 5
  ab_bench "$1 causal D64 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5
  ab_bench "$1 causal D64 H1 2^20" --graph causal --n 2^20 --dim 64 --dtype bf16 --repeats 5
  ab_bench "$1 causal D64 f16 H4 2^18" --graph causal --n 2^18 --heads 4 --dim 64 --dtype f16 --repeats 10
  ab_bench "$1 window D64 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
}
echo "columns: label, N, edges, median ms, fastest ms, TFLOP/s, ns/edge, host MB, device MB"
G=$B
for r in 1 2 3; do
  echo "== round $r"
  if [ $((r % 2)) = 1 ]; then GRAPHATTN_NO_REV_ORDER=1 cases "plain"; cases "rev  "
  else cases "rev  "; GRAPHATTN_NO_REV_ORDER=1 cases "plain"; fi
done
