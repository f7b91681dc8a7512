#!/usr/bin/env bash
# One GPU call (run by bench/patches/run-all.sh inside build-p, the patched copy; `..` is main):
# the warp-specialized kernel's per-query-tile bounds for window, causal and dense in one branch
# of 32-bit arithmetic (bench/patches/setup32.patch) against main. Why: ncu after run 19c still
# put 9.5% of the D 64 window kernel's warp samples in its setup blocks (64-bit sums, clips and
# loads of the kernel's parameters around each of ~10 bound calls). Prediction (RESULTS "Prepared
# for run 20"): the setup's executed instructions per query tile from ~300 to ~150, the window
# 2-4% faster at 2^20-2^24, nothing at D 128 (its tiles are long).
# Tests on the patched tree first (timings only if they pass), then both trees alternating (C tool
# medians, ms), then D 64's row sums on and off on the patched tree (two rounds), then ncu's
# per-instruction view of the patched kernel (bench/ncu_source.sh).
set -u
. bench/ab_lib.sh
ab_build .. || exit 1
echo "== tests (patched tree)"
GA_EXPECT_WGMMA=1 GA_CUDA_TILE_SWEEP=300 timeout 240 $T persistent_tma_tiles_match_reference tile_sweep_matches_reference \
  randomized_sweep_matches_reference split_rows_run_in_parts_and_match_reference unequal_query_and_key_counts_align_bottom_right \
  output_written_over_q_matches_reference padded_head_dims_run_on_the_hopper_tiles_and_match_reference \
  head_dim_256_runs_on_the_tiles_and_matches_reference back_to_back_calls_see_each_others_writes \
  tile_engine_accumulates_into_a_prior_state 2>&1 | grep -E "FAIL|passed,|fail|expected" | head -20 | tee /tmp/t.txt
grep -qE "FAIL|[1-9][0-9]* failed" /tmp/t.txt && { echo "tests failed: no timings"; exit 1; }
GRAPHATTN_MAX_CTAS=3 GA_EXPECT_WGMMA=1 timeout 60 $T persistent_tma_tiles_match_reference split_rows_run_in_parts_and_match_reference 2>&1 | grep -E "FAIL|passed," | head -5
cases() {
  ab_bench "window 2^20" --graph window:256 --n 2^20 --dim 64 --dtype bf16 --repeats 20
  ab_bench "window 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "window 2^24" --graph window:256 --n 2^24 --dim 64 --dtype bf16 --repeats 5
  ab_bench "window H16 2^22" --graph window:256 --n 2^22 --heads 16 --dim 64 --dtype bf16 --repeats 3
  ab_bench "causal f16 D64 H16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype f16 --repeats 5
  ab_bench "dense bf16 D128 H16" --graph dense --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 3
}
ab_rounds patched cases
echo "== patched tree, D 64: row sums on the tensor cores (default) against fp32 (GRAPHATTN_WS_ROWSUM=0; run 19b's open question)"
G=$B
for r in 1 2; do for v in default 0; do
  unset GRAPHATTN_WS_ROWSUM; [ $v = 0 ] && export GRAPHATTN_WS_ROWSUM=0
  ab_bench "rowsum=$v window 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "rowsum=$v window 2^24" --graph window:256 --n 2^24 --dim 64 --dtype bf16 --repeats 5
  ab_bench "rowsum=$v window H16 2^22" --graph window:256 --n 2^22 --heads 16 --dim 64 --dtype bf16 --repeats 3
done; done
unset GRAPHATTN_WS_ROWSUM
G=$B timeout 150 bash bench/ncu_source.sh 2>&1 | tail -4
