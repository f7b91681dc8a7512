#!/usr/bin/env bash
# pos32_ab.sh -- one GPU call (run 52; landed in ad78a8a, the patch in git history before it): bench/patches/pos32.patch (on f299b3e) against
# main. The D 64 warp-specialized kernel forms an affine call's walk bounds (sup_work's key
# tiles, a query tile's last row, the fringe bounds lb / hb) in 32 bits where the call's
# positions stay under 2^30 (TileArgs.pos32, lo32, hi32 from ga_tile_args_fill;
# GRAPHATTN_NO_POS32=1 keeps 64 bits), instead of 64-bit sums and clamps. Why: run 50's ncu
# counted ~171 instructions per warp per query tile in the super tile's work item and bounds
# (5.7% of the window kernel's), most of them 64-bit adds, compares and selects.
# Builds (Release sm_90a, gzip'd in build-carrypoly): main = build-carry9 (f299b3e's code), pos32
# = build-carry10 (the patch) and its test_cuda (with the new test
# walk_bounds_in_32_and_64_bits_match_reference). Rebuild both if main has moved on.
# Predictions: every test passes (the new one: all D 64 launches in 32 bits by default, none with
# GRAPHATTN_NO_POS32=1); window 513 2^22-2^24 1-3% faster, window:64 2-4%, dense and causal
# D 64 level within 1%.
# Run: timeout 300 bash bench/pos32_ab.sh > $OUT/pos32.log 2>&1; tail -80 $OUT/pos32.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_unpacked_builds ft pos32 pos32test || exit 1
ab_all_tests 150 /tmp/pos32-t || exit 1
grep -h "walk bounds" /tmp/pos32-t/walk_bounds_in_32_and_64_bits_match_reference.log | tail -4
ab_rounds pos32 ab_d64_cases
