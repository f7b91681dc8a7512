#!/usr/bin/env bash
# fastsm_ab.sh -- one GPU call (run 37): the warp-specialized kernel's optimistic softmax step
# (softmax_exp_fast, tile_common.cuh): each key tile exponentiated against the rows' references
# with no max taken first, the tile formed again and taken through the full step only where a
# row's partial sum passes 2^12 (GRAPHATTN_NO_FAST_SOFTMAX=1: the full step on every tile, as
# before). Static SASS of the D 64 window instance: the settled tile's 30 FMNMX of the max trees,
# its scaled-max compares and vote gone (~32 of ~250 instructions per tile and warp).
# Predictions: window 513 at D 64 5-10% faster (2^24 ~6.2 -> 5.6-5.9 ms), causal D 64 H 16 alike,
# Longformer's two parts alike (ratio level), dense / causal D 128 1-4%, D 256 within 2%.
# Uses the carried build (build-carry/tests/test_cuda, build-carry/tools/graphattn: Release, sm_90a)
# where present, else builds build-gpu. Order: the whole of test_cuda (6 at a time, GA_EXPECT_WGMMA=1;
# no timings unless every test passes), the timings (the step on and off alternated, 2 rounds),
# then memcheck and racecheck on the new test.
# Run: timeout 585 bash bench/fastsm_ab.sh > $OUT/fastsm.log 2>&1; tail -80 $OUT/fastsm.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
if [ -x build-carry/tests/test_cuda ] && [ -x build-carry/tools/graphattn ]; then
  T=build-carry/tests/test_cuda B=build-carry/tools/graphattn G=$B
else
  ab_build_this || exit 1
fi
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader
ab_all_tests 260 /tmp/fastsm-t || exit 1
cases() {
  ab_bench "$1 window 2^20" --graph window:256 --n 2^20 --dtype bf16 --repeats 20
  ab_bench "$1 window 2^22" --graph window:256 --n 2^22 --dtype bf16 --repeats 10
  ab_bench "$1 window 2^24" --graph window:256 --n 2^24 --dtype bf16 --repeats 10
  ab_bench "$1 longformer 2^18" --graph window:256+global:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 --n 2^18 --dtype bf16 --repeats 20
  ab_bench "$1 longformer 2^20" --graph window:256+global:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 --n 2^20 --dtype bf16 --repeats 20
  ab_bench "$1 causal D64 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5
  ab_bench "$1 dense D128 H16 2^16" --graph dense --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 3
  ab_bench "$1 causal D128 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 3
  ab_bench "$1 causal D256 H8 2^15" --graph causal --n 2^15 --heads 8 --dim 256 --dtype bf16 --repeats 5
  ab_bench "$1 window:100 2^22" --graph window:100 --n 2^22 --dtype bf16 --repeats 10
}
ab_switch_rounds GRAPHATTN_NO_FAST_SOFTMAX cases
ab_sanitizers optimistic_softmax_retries_where_scores_climb_and_matches_reference
