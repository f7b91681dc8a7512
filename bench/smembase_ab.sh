#!/usr/bin/env bash
# One GPU call (run by bench/patches/run-all.sh inside build-p, the patched copy; `..` is main):
# the warp-specialized kernel's shared-memory base made opaque once (bench/patches/smembase.patch).
# Why: in main's SASS every key tile of the window loop forms the dynamic shared memory's base
# again (S2R SR_CgaCtaId, MOV 0x400, LEA, then the 1 KB alignment) before its barrier wait: ptxas
# rematerializes it rather than hold a register. Opaque (asm volatile), it is formed once per
# kernel: static loop counts window bf16 434 -> 426, the listed-key instance 431 -> 419, split P
# 825 -> 815, D 128 508 -> 506; S2R of the cluster id once per kernel in every instance (3-7
# before); spills equal or fewer. Prediction: the window (issue-bound, ~250 instructions per tile
# executed) 1-3% faster at 2^20-2^24, Longformer alike, D 128 unchanged within the spread.
# Tests on the patched tree first (timings only if they pass), then both trees alternating (C
# tool medians, ms).
set -u
. bench/ab_lib.sh
ab_build .. || exit 1
ab_tests 300 tile_sweep_matches_reference persistent_tma_tiles_match_reference \
  listed_tokens_run_with_the_tiles_and_match_reference split_rows_run_in_parts_and_match_reference \
  ranges_split_rows_run_in_parts_and_match_reference \
  head_dim_256_runs_on_the_tiles_and_matches_reference \
  padded_head_dims_run_on_the_hopper_tiles_and_match_reference output_written_over_q_matches_reference \
  || exit 1
ab_sanitizers persistent_tma_tiles_match_reference || exit 1
GL=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
cases() {
  ab_bench "window 2^20" --graph window:256 --n 2^20 --dim 64 --dtype bf16 --repeats 20
  ab_bench "window 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "window 2^24" --graph window:256 --n 2^24 --dim 64 --dtype bf16 --repeats 5
  ab_bench "longformer 2^20" --graph window:256+global:$GL --n 2^20 --dim 64 --dtype bf16 --repeats 20
  ab_bench "causal H16 2^16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5
  ab_bench "window D256 2^20" --graph window:256 --n 2^20 --dim 256 --dtype bf16 --repeats 10
  ab_bench "dense D128 H16 2^16" --graph dense --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 3
}
ab_rounds patched cases
