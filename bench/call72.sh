#!/usr/bin/env bash
# call72.sh -- run 72 in one GPU call: the suite at HEAD (193bb90's test_cuda, carried gzip'd as
# build-carryxi/headtest.gz: the two edge kernels' shared setup/finish not yet run on a GPU), then
# the two waiting rows-mode probes (bench/edge_rows_skew_probe.sh, bench/edge_rows_width_probe.sh).
# Run: timeout 590 bash bench/call72.sh > $OUT/c.log 2>&1; tail -150 $OUT/c.log
set -u
cd "$(dirname "$0")/.."
echo "== tests at HEAD"; timeout 170 bash bench/cuda_tests_par.sh headtest
echo "== skew"; timeout 150 bash bench/edge_rows_skew_probe.sh
echo "== width"; timeout 255 bash bench/edge_rows_width_probe.sh
