#!/usr/bin/env bash
# edge_rows_next.sh -- the two waiting rows-mode probes in one GPU call (one cold start instead of
# two): bench/edge_rows_skew_probe.sh (rows mode on skewed CSRs, with the spread patch's rule as
# a third column), then bench/edge_rows_width_probe.sh (which instance width rows mode wants).
# Needs build-carryxi/{rows,spread,width}.gz (their headers say how they were built).
# Run: timeout 590 bash bench/edge_rows_next.sh > $OUT/next.log 2>&1; tail -120 $OUT/next.log
set -u
cd "$(dirname "$0")/.."
echo "== skew"; timeout 260 bash bench/edge_rows_skew_probe.sh
echo "== width"; timeout 300 bash bench/edge_rows_width_probe.sh
