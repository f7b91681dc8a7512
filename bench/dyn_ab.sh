#!/usr/bin/env bash
# One GPU call (run by bench/patches/run-all.sh inside build-p, the patched copy; `..` is main):
# bench/patches/dyn.patch. Causal's super tiles on the warp-specialized kernel from a work counter
# (one int of the call's workspace, zeroed before the launch): each CTA's first super tile its own
# index, every later one the counter's next, in the plain order's heads (outer) with each head's
# heaviest first; the producer hands each consumer its super tile in a shared slot beside its Q
# buffer (-1: no more). bench/order_model.py, the largest CTA's share of key tiles over the mean
# (132 CTAs): causal D 128 H 16 at 2^16 plain 1.048, f16 H 8 1.104, heads inner ~1.00 (but 4-7%
# slower at D 128 for its spread over every head's keys, run 28d); a greedy hand-out with the
# plain order's locality should take both.
# Predictions: D 128 H 16 2-4% faster than the fixed order (main), D 128 f16 H 8 5-8%;
# D 256 H 8 and D 64 H 16 with GRAPHATTN_DYN=1 within 1% of the heads inner (their default);
# the window (no counter) and D 64 / 256 by default within 1% of main.
# Run 30b (the counter's code in every instance): D 128 3-7% faster, but every instance spilled
# 32-48 bytes and the window ran 4-6% slower, D 64 causal 7-10%, D 256 15%. Run 30c (the code in
# instances of their own, DYN, but not for split P): D 128 f16 H 8 6-7% faster, bf16 H 16 level
# (bf16 causal always splits P, so it never took the counter: a review found it), the window and
# D 64 level, D 256 13-15% slower with no counter. Now DYN includes split P: D 128 bf16 H 16
# should gain as in 30b (2-5%), D 256 with GRAPHATTN_DYN=1 ~3% over its reversed order (30b:
# 6.35 against 6.55 ms). Tests first (the order test runs every case
# from the counter with 1 and 3 CTAs, D 128 with the output over q too; queued calls; caller
# workspaces); no timings unless they pass. Run 30a's first try kept the unit slots in shared
# memory: racecheck reported every producer store / consumer load pair (it does not follow the
# mbarriers' release / acquire); the slots are now in the call's workspace (global, this CTA's
# own), which racecheck does not check and the mbarriers order all the same.
# Run: timeout 585 bash bench/patches/run-all.sh bench/patches/dyn.patch
set -u
. bench/ab_lib.sh
ab_build .. || exit 1
GA_CUDA_SWEEP=100 ab_tests 220 causal_work_order_hands_out_every_super_tile_once \
  split_rows_run_in_parts_and_match_reference tile_sweep_matches_reference persistent_tma_tiles_match_reference \
  unequal_query_and_key_counts_align_bottom_right output_written_over_q_matches_reference \
  back_to_back_calls_see_each_others_writes caller_stream_and_caller_workspace_are_used \
  hopper_tile_kernel_is_used_where_expected randomized_sweep_matches_reference || exit 1
ab_sanitizers causal_work_order_hands_out_every_super_tile_once || exit 1
cases() {
  ab_bench "$1 causal D128 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 5
  ab_bench "$1 causal D128 f16 H8 2^16" --graph causal --n 2^16 --heads 8 --dim 128 --dtype f16 --repeats 5
  ab_bench "$1 causal D256 H8 2^15" --graph causal --n 2^15 --heads 8 --dim 256 --dtype bf16 --repeats 10
  ab_bench "$1 causal D64 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5
  [ "$1" = "dyn1 " ] || ab_bench "$1 window D64 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
}
# run 30a: the patched build with GRAPHATTN_DYN=0 ran as its default does now at D 64 / 256 and
# the window (the instances without the counter's code are main's, SASS within 8 instructions)
echo "columns: label, N, edges, median ms, fastest ms, TFLOP/s, ns/edge, host MB, device MB"
for r in 1 2; do
  echo "== round $r"
  G=$M; cases "main "
  G=$B; cases "dflt "
  GRAPHATTN_DYN=1 cases "dyn1 "
done
