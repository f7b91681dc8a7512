#!/usr/bin/env bash
# One GPU call: the warp-specialized kernel's per-query-tile work made cheaper (run 19c), this tree
# against main (build-src-main: `rm -rf build-src-main && mkdir build-src-main && git archive main |
# tar -x -C build-src-main`, carried). ncu (run 19, bench/ncu_source.sh) put 20% of the D 64
# window kernel's warp samples in code that runs once per query tile: ~400 executed instructions
# of setup (the interval bounds by a switch over kinds, ~10 times; three 32-bit divisions for the
# work item) and the epilogue (a per-column-block padded-head-dim test and branch, 16 per row
# pair; the work item's divisions again). This tree: affine bounds (one add) for window, causal
# and dense; the divisions by launch-fixed divisors as multiply-high and shift (FastDiv); the
# padded-head-dim test once per row; and D 128 without the tensor cores' row sums (run 19b).
# Tests first (timings only if they pass), then both trees alternating (C tool medians, ms),
# then ncu's per-instruction view of this tree's kernel.
# Usage (repository root, GPU machine): timeout 590 bash bench/setup_ab.sh
set -u
. bench/ab_lib.sh
ab_build build-src-main || exit 1
echo "== tests (this tree)"
GA_EXPECT_WGMMA=1 GA_CUDA_TILE_SWEEP=150 timeout 200 $T fast_division_matches_integer_division persistent_tma_tiles_match_reference \
  tile_sweep_matches_reference randomized_sweep_matches_reference split_rows_run_in_parts_and_match_reference \
  ranges_split_rows_run_in_parts_and_match_reference padded_head_dims_run_on_the_hopper_tiles_and_match_reference \
  head_dim_256_runs_on_the_tiles_and_matches_reference 2>&1 | grep -E "FAIL|passed,|fail|expected|row sums" | head -20 | tee /tmp/t.txt
grep -qE "FAIL|[1-9][0-9]* failed" /tmp/t.txt && { echo "tests failed: no timings"; exit 1; }
GRAPHATTN_WS=3 GA_EXPECT_WGMMA=1 timeout 60 $T persistent_tma_tiles_match_reference 2>&1 | grep -E "FAIL|passed,|row sums" | head -5
cases() {
  ab_bench "window 2^20" --graph window:256 --n 2^20 --dim 64 --dtype bf16 --repeats 20
  ab_bench "window 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "window 2^24" --graph window:256 --n 2^24 --dim 64 --dtype bf16 --repeats 5
  ab_bench "window H16 2^22" --graph window:256 --n 2^22 --heads 16 --dim 64 --dtype bf16 --repeats 3
  ab_bench "causal bf16 D64 H16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5
  ab_bench "dense bf16 D128 H16" --graph dense --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 3
  ab_bench "causal f16 D128 H16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype f16 --repeats 3
}
ab_rounds branch cases
G=$B timeout 150 bash bench/ncu_source.sh 2>&1 | tail -6
