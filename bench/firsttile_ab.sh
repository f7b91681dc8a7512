#!/usr/bin/env bash
# firsttile_ab.sh -- one GPU call (run 51): softmax_exp's correction 1 instead of exp2(-inf) = 0
# for a row with no key before the tile (o and l are 0 there), so that a walk's first tile skips
# the rescale of O (ncu run 50: 32 FMUL per warp per query tile, of ~3,000
# instructions). Outputs bit-identical by construction. Builds (gzip in build-carrypoly): main =
# build-carry5 (c356c5c's kernels), ft = build-carry9 (this change on 7987cd6) and its test_cuda.
# Predictions: every test passes; window 513 ~1% faster, window:64 ~2%, window:16 ~3%, dense level.
# Run: timeout 220 bash bench/firsttile_ab.sh > $OUT/ft.log 2>&1; tail -80 $OUT/ft.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_unpacked_builds main ft fttest || exit 1
ab_all_tests 130 /tmp/ft-t || exit 1
cases() {
  ab_bench "window:256 2^22" --graph window:256 --n 2^22 --dtype bf16 --repeats 10
  ab_bench "window:256 2^24" --graph window:256 --n 2^24 --dtype bf16 --repeats 5
  ab_bench "window:64 2^22" --graph window:64 --n 2^22 --dtype bf16 --repeats 10
  ab_bench "window:16 2^22" --graph window:16 --n 2^22 --dtype bf16 --repeats 10
  ab_bench "dense D64 H16 2^14" --graph dense --n 2^14 --heads 16 --dtype bf16 --repeats 5
}
ab_rounds ft cases
