#!/usr/bin/env bash
# edge_row_ab.sh -- one GPU call (run 58): the edge engine's per-row integer work. Tools carried
# gzip'd in build-carryxi: main; ek (run 57's batched keys); evA (ek + a task's batch, head, row
# and KV head by 32-bit divisions); evB (evA + random keys' strata and remainder without 64-bit
# division routines, edge_bf16.cu alone); fin (the tree as committed: evB in every object) with
# fintest (its test_cuda). Steps: fin's outputs against main's (byte for byte: the picks are the
# same integers), the C tool's times, then every test_cuda test (bench/cuda_tests_par.sh).
# Run: timeout 560 bash bench/edge_row_ab.sh > $OUT/row.log 2>&1; tail -60 $OUT/row.log
set -u
cd "$(dirname "$0")/.."
mkdir -p build-carryxi/bin
for f in main ek evA evB fin; do gzip -dc build-carryxi/$f.gz > build-carryxi/bin/$f && chmod +x build-carryxi/bin/$f || exit 1; done
M=build-carryxi/bin/main B=build-carryxi/bin/fin
echo "== outputs, main against fin (cmp)"
. bench/edge_cmp.sh
edge_cmp $M $B "a window:64+random:16,7" "a random:16,7" "b window:10+random:40,3" "c random:7,9+global:3,900" \
  "d dilated:3,40+random:20,1" "a random:5000,11" "c bigbird:64,1,1,2,3" "b bigbird:32,2,1,3,5"
echo "== C tool (median ms)"
for r in 1 2; do
  for f in main ek evA evB fin; do
    G=build-carryxi/bin/$f
    edge_cases "$f" $G
  done
done
echo "== test_cuda, every test"
timeout 300 bash bench/cuda_tests_par.sh fintest
