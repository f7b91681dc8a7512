#!/usr/bin/env bash
# next_call.sh -- the waiting probes in one GPU call (one cold start): bench/heads_inner_ab.sh
# (the heads-inner work order for windows of several heads) and bench/longnet_rows_probe.sh
# (longnet in row / rows mode, and the tighter longnet bound). Their headers say what they
# need in build-carryxi (hi.gz, hi-lib.gz, hi-test.gz; head.gz, lnb.gz) and what they predict.
# Run (carry those five files): timeout 590 bash bench/next_call.sh > $OUT/n.log 2>&1; tail -100 $OUT/n.log
set -u
cd "$(dirname "$0")/.."
echo "== longnet"; timeout 190 bash bench/longnet_rows_probe.sh
echo "== heads inner (a retry of run 6's refuted order, low prior)"; timeout 380 bash bench/heads_inner_ab.sh
