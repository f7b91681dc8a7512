#!/usr/bin/env bash
# ncu_source2.sh -- one GPU call (run 50): bench/ncu_source.sh's per-SASS-instruction counters
# (executed instructions, warp stall samples) for the window kernel as it is at c356c5c (the
# D 64 instance with fp32 row sums, the optimistic softmax, one-bound masks and shifted key
# tiles), window 513 at 2^22 bf16, from the carried main build (gzip in build-carrypoly), so
# that the per-query-tile code (run 47: ~23% of the kernel) can be read instruction by
# instruction off the GPU machine. Output: $OUT/ncu-ws-source.csv, $OUT/ncu-ws-summary.txt.
# Run: timeout 300 bash bench/ncu_source2.sh
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_unpack main || exit 1
G=build-carrypoly/bin/main bash bench/ncu_source.sh
