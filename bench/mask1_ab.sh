#!/usr/bin/env bash
# One GPU call (run 29c): one-bound fringe masks at D = 64. A fringe tile of a window's walk lies
# inside every row's hi (its first tiles) or past every row's lo (its last ones, and causal's
# diagonal); mask_rows then tests the other bound alone: 32 ISETP fewer per thread and masked
# tile (of 64 ISETP + 32 FSEL; SASS of the window instance, this machine). The masked tiles held
# 4.3% of the window kernel's warp samples (run 19b). Predictions: window 513 at 2^22 / 2^24 and
# H 16 1-2% faster, window:16 / :64 (2-3 tiles, mostly masked) 3-6%, causal D 64 H 16 0.5-1%,
# Longformer (the listed-key instance) 1-2%. GRAPHATTN_NO_MASK1=1: both bounds, as before.
# One build; tests first (no timings unless they pass), then on / off alternated, three rounds,
# then memcheck and racecheck on the narrow-window test. Run: timeout 585 bash bench/mask1_ab.sh
# Outcome (run 29c, 382 s): tests 12/12, memcheck / racecheck clean; window 513 2^22 -1.5 to -2.5%,
# 2^24 -0.7 to -1.9%, Longformer 2^20 ~-1%, window:16 / :64 within 1% (their tiles need both
# bounds: the 3-6% predicted was wrong), causal D 64 H 16 and window H 16 within their spread.
# Landed (D = 64, not the split-P instances).
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_build_this || exit 1
GA_CUDA_SWEEP=150 ab_tests 170 tile_sweep_matches_reference persistent_tma_tiles_match_reference \
  narrow_windows_at_head_dim_64_run_on_the_persistent_kernels window_key_tiles_shift_only_where_a_tile_is_saved \
  listed_tokens_run_with_the_tiles_and_match_reference padded_head_dims_run_on_the_hopper_tiles_and_match_reference \
  head_dim_32_runs_padded_on_the_persistent_kernels_and_matches_reference tile_engine_paths_match_reference \
  unequal_query_and_key_counts_align_bottom_right output_written_over_q_matches_reference \
  causal_work_order_hands_out_every_super_tile_once randomized_sweep_matches_reference || exit 1
LF=window:256+global:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
cases() {
  ab_bench "$1 window513 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "$1 window513 2^24" --graph window:256 --n 2^24 --dim 64 --dtype bf16 --repeats 5
  ab_bench "$1 window513 H16 2^22" --graph window:256 --n 2^22 --heads 16 --dim 64 --dtype bf16 --repeats 3
  ab_bench "$1 window:16 2^22" --graph window:16 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "$1 window:64 2^22" --graph window:64 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "$1 causal D64 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5
  ab_bench "$1 longformer 2^20" --graph $LF --n 2^20 --dim 64 --dtype bf16 --repeats 10
}
echo "columns: label, N, edges, median ms, fastest ms, TFLOP/s, ns/edge, host MB, device MB"
G=$B
for r in 1 2 3; do
  echo "== round $r"
  if [ $((r % 2)) = 1 ]; then GRAPHATTN_NO_MASK1=1 cases "both"; cases "one "
  else cases "one "; GRAPHATTN_NO_MASK1=1 cases "both"; fi
done
ab_sanitizers narrow_windows_at_head_dim_64_run_on_the_persistent_kernels
