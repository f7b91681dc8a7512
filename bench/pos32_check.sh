#!/usr/bin/env bash
# pos32_check.sh -- one GPU call (run 53): pos32 as it lands (run 52's patch with sup_work's
# 32-bit key tiles as key_tiles32 beside key_tiles), built here (Release sm_90a, gzip'd in
# build-carrypoly: pos32r = the tool, pos32rtest = test_cuda), against main's tool (ft, f299b3e's
# kernels). Run 52's test list came from main's tests/test_cuda.c and so left out the new test
# walk_bounds_in_32_and_64_bits_match_reference; this tree's list holds it (49 tests).
# Predictions: every test passes, the new one reporting every D 64 launch in 32 bits by default
# and none with GRAPHATTN_NO_POS32=1; memcheck and racecheck clean on it; timings as run 52's
# (window 513 1-2% faster, the rest level).
# Run: timeout 300 bash bench/pos32_check.sh > $OUT/pos32c.log 2>&1; tail -60 $OUT/pos32c.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_unpacked_builds ft pos32r pos32rtest || exit 1
ab_all_tests 150 /tmp/pos32-t || exit 1
echo "== walk_bounds_in_32_and_64_bits_match_reference"
tail -6 /tmp/pos32-t/walk_bounds_in_32_and_64_bits_match_reference.log
ab_sanitizers walk_bounds_in_32_and_64_bits_match_reference || exit 1
ab_rounds pos32 ab_d64_cases
