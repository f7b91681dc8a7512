#!/usr/bin/env bash
# longnet_rows_probe.sh -- one GPU call (waiting for device time): longnet on the edge engine in
# row mode and in rows mode, and bench/patches/longnet-bound.patch's rule. The plan bounds a
# longnet row by its segment S (min(S, Nk)), but a row holds every R-th key of it, ~S / R, against
# a mean of S / R^2; so by the spread bound (8x the mean + 32) longnet at rate 3 or more keeps row
# mode. The patch bounds it by ceil(min(S, Nk) / R) (sound: the host test
# edge_plan_bounds_every_light_row_and_picks_the_tests_modes checks it against every row of random
# unions), which sends rates up to ~8 to rows mode: one active row in R, like run 75's "every 8th
# row long" CSRs, where rows mode won at every length.
# Tools carried gzip'd in build-carryxi: head (the tree's tool, af9231e) and lnb (the same with the
# patch, bench/mkvariant.sh build-carry10 lnb src/cuda/graph_cache.cu).
# Prediction: rows mode 1.2-1.6x faster than row mode at R 2-8, about level at R 16; the patch's
# default picks rows mode at R 2-8 (head's only at R 2).
# Run: timeout 300 bash bench/longnet_rows_probe.sh > $OUT/ln.log 2>&1; tail -40 $OUT/ln.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
H=$(edge_tool head) && L=$(edge_tool lnb) || exit 1
for g in longnet:2048,2,0 longnet:2048,4,1 longnet:2048,8,0 longnet:512,4,0 longnet:8192,16,3 window:64+longnet:4096,4,0; do
  edge_modes "$g" $H --graph $g --n 2^20 --dtype bf16 --repeats 5
  edge_bb "head-rule $g" $H --graph $g --n 2^20 --dtype bf16 --repeats 5
  edge_bb "patch-rule $g" $L --graph $g --n 2^20 --dtype bf16 --repeats 5
done
