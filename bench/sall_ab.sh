#!/usr/bin/env bash
# sall_ab.sh -- one GPU call: bench/patches/d128-sall.patch (on `ebdff90`), the D 128 split-P
# instance that splits every tile (SALL) for bf16 calls whose every row is short
# (all_rows_short: a window's L + R + 1, a block's size, or nk under GA_TILE_SPLIT_KEYS), against
# main's per-tile instance, which spills 60 / 48 bytes and waits for 4 of its 17 wgmmas (SALL: 0
# bytes, 2 of 16, the key loop 979 -> 889 static instructions).
# Predictions: narrow bf16 windows at D 128 and at head dims padded to it (D 96 / 112) 5-10%
# faster (window:20 at D 96, 2^22: ~1.91 ms, level with FA2, -> ~1.75-1.8); causal D 128 (per-tile
# instance still) and f16 level. (At D 128 itself the persistent kernels take only walks whose middle
# row has 192 keys or more, so window:100; the padded head dims take any walk.)
# Uses build-carry2 (main: tools/graphattn) and build-carry4 (the patch applied: tools/graphattn,
# tests/test_cuda); Release, sm_90a. Order: the whole of test_cuda on the patched build (no timings
# unless every test passes), the timings (main and patched alternated, 2 rounds), memcheck and
# racecheck on the padded-head-dim test (window:20 at D 96 bf16 runs on SALL there).
# Run: timeout 585 bash bench/sall_ab.sh > $OUT/sall.log 2>&1; tail -60 $OUT/sall.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_two_builds build-carry2 build-carry4 || exit 1
ab_all_tests 200 /tmp/sall-t || exit 1
cases() {
  local c
  for c in "window:20 96 bf16" "window:40 96 bf16" "window:100 128 bf16" "window:100 112 bf16" "window:100 128 f16"; do
    set -- $c
    ab_bench "$1 D$2 $3 2^22" --graph "$1" --n 2^22 --dim "$2" --dtype "$3" --repeats 10
  done
  ab_bench "causal D128 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 3
}
ab_rounds sall cases
ab_sanitizers padded_head_dims_run_on_the_hopper_tiles_and_match_reference
