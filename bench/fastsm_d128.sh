#!/usr/bin/env bash
# fastsm_d128.sh -- one GPU call (run 39): the optimistic softmax step kept out of the pipelined
# D 128 instances. Run 38's gpu-check at b072129 read dense D 128 H 16 at 2^16 67.7 ms (run 36:
# 59.5): ptxas had serialized all 28 wgmmas of those instances' key loop once the retry issued a
# Q K^T there (static SASS: 28 of 28 HGMMA waited for at once, against 3 before). With the step
# off in them they are SASS-equal in shape to main's again (3 of 20).
# Prediction: dense D 128 back to ~59-62 ms (C tool and gpu_bench), causal D 128 (split P, not
# pipelined) keeps run 37's gain (~28 ms), the D 64 window unchanged from run 37 (~5.9 ms at 2^24).
# Uses the carried build (build-carry/{tests/test_cuda,tools/graphattn,libgraphattn.so.0.1.0}); the whole
# of test_cuda first (no timings unless it passes), then the C tool (the step on and off, 2 rounds),
# then gpu_bench's dense and causal cases beside SDPA's kernels.
# Run: timeout 590 bash bench/fastsm_d128.sh > $OUT/d128.log 2>&1; tail -60 $OUT/d128.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
T=build-carry/tests/test_cuda B=build-carry/tools/graphattn G=$B
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader
ab_all_tests 240 /tmp/d128-t || exit 1
cases() {
  ab_bench "$1 window 2^24" --graph window:256 --n 2^24 --dtype bf16 --repeats 10
  ab_bench "$1 dense D128 H16 2^16" --graph dense --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 3
  ab_bench "$1 causal D128 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 3
}
ab_switch_rounds GRAPHATTN_NO_FAST_SOFTMAX cases
echo "== gpu_bench dense, causal (D 128, H 16) beside SDPA"
GRAPHATTN_LIBRARY=$PWD/build-carry/libgraphattn.so.0.1.0 timeout 150 python3 bench/gpu_bench.py --cases dense,causal 2>&1 | tail -8
