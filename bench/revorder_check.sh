#!/usr/bin/env bash
# One GPU call (run 28e): after run 28d (bench/revorder_ab.sh), causal's work order kept at D = 64
# and 256 only. Every cuda.* and cuda_scale.* test (the new causal order test requires every
# warp-specialized launch of its D 64 / 256 cases reversed and none of D 128's), memcheck and
# racecheck on the new test, then one timing each of causal D 256 H 8 at 2^15 and D 128 H 16 at
# 2^16 (the C tool). Run: timeout 470 bash bench/revorder_check.sh
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_build_this || exit 1
GA_EXPECT_WGMMA=1 GA_CUDA_SWEEP=300 timeout 250 ctest --test-dir build-gpu -j8 -R '^cuda' --output-on-failure > /tmp/ctest.log 2>&1
echo "ctest rc=$?"; grep -E "tests passed|\*\*\*Failed|Skipped|Total Test" /tmp/ctest.log
GA_EXPECT_WGMMA=1 $T causal_work_order_hands_out_every_super_tile_once | grep -E "causal order|ok|FAIL|passed"
ab_sanitizers causal_work_order_hands_out_every_super_tile_once || exit 1
echo "columns: label, N, edges, median ms, fastest ms, TFLOP/s, ns/edge, host MB, device MB"
ab_bench "causal D256 H8 2^15" --graph causal --n 2^15 --heads 8 --dim 256 --dtype bf16 --repeats 10
ab_bench "causal D128 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 5
GRAPHATTN_NO_REV_ORDER=1 ab_bench "causal D256 H8 2^15 plain" --graph causal --n 2^15 --heads 8 --dim 256 --dtype bf16 --repeats 10
