#!/usr/bin/env bash
# next_call_wpb.sh -- the waiting edge-engine probes in one GPU call (one cold start), after run 80
# (bench/RESULTS.md): bench/edge_dyn_ab.sh (the patch's dynamic task counter beside blocks of 4;
# needs build-carryxi/dyn.gz, dyn-test.gz) and bench/edge_wpb_uniform_ab.sh (blocks of 4 against 8
# on alike rows and the package's unions; needs build-carryxi/wpb.gz, wpb-lib.gz).
# Run (carry those four files, ~38 MB): timeout 590 bash bench/next_call_wpb.sh > $OUT/n.log 2>&1; tail -150 $OUT/n.log
set -u
cd "$(dirname "$0")/.."
echo "== dynamic tasks"; timeout 300 bash bench/edge_dyn_ab.sh
echo "== blocks of 4 on alike rows"; timeout 270 bash bench/edge_wpb_uniform_ab.sh
