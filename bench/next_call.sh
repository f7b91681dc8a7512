#!/usr/bin/env bash
# next_call.sh -- the waiting probes in one GPU call (one cold start): bench/heads_inner_ab.sh
# (the heads-inner work order for windows of several heads), bench/longnet_rows_probe.sh
# (longnet in row / rows mode, and the tighter longnet bound) and bench/edge_rows_spread_probe.sh
# at 16 and 4 rows a warp (run 75's spread bound was measured at 8). Their headers say what they
# need in build-carryxi (hi.gz, hi-lib.gz, hi-test.gz; head.gz, lnb.gz) and what they predict.
# Run (carry those five files): timeout 590 bash bench/next_call.sh > $OUT/n.log 2>&1; tail -100 $OUT/n.log
set -u
cd "$(dirname "$0")/.."
echo "== longnet"; timeout 170 bash bench/longnet_rows_probe.sh
echo "== spread bound at other warp widths (run 75 was 8 rows a warp)"
TOOL=head DIM=32 DTYPE=bf16 timeout 80 bash bench/edge_rows_spread_probe.sh
TOOL=head DIM=64 DTYPE=f32 timeout 80 bash bench/edge_rows_spread_probe.sh
echo "== heads inner (a retry of run 6's refuted order, low prior)"; timeout 240 bash bench/heads_inner_ab.sh
