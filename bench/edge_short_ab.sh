#!/usr/bin/env bash
# edge_short_ab.sh -- one GPU call (run 59c): the edge engine's 8-lane instance for short rows
# (16-bit, 32 < D <= 64, mean slots per row <= 48) as built, against run 57's tool. Carried
# gzip'd in build-carryxi: ek (run 57), fin / fintest (this tree's tool and test_cuda). Every
# test_cuda test (bench/cuda_tests_par.sh), then the C tool, bf16, D 64, at 2^20.
# Run: timeout 500 bash bench/edge_short_ab.sh > $OUT/short.log 2>&1; tail -50 $OUT/short.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
for f in ek fin; do edge_tool $f > /dev/null || exit 1; done
echo "== test_cuda, every test"
timeout 300 bash bench/cuda_tests_par.sh fintest
for f in ek fin; do
  build-carryxi/bin/$f check --graph window:64+random:16,7 --n 20000 --dtype bf16 --device cuda 2>&1 | tail -1 | sed "s/^/$f check: /"
  GRAPHATTN_NO_TILES=1 build-carryxi/bin/$f check --graph window:20 --n 9000 --dtype f16 --device cuda 2>&1 | tail -1 | sed "s/^/$f check edges: /"
done
echo "== C tool (median ms)"
for r in 1 2; do
  for f in ek fin; do
    G=build-carryxi/bin/$f
    edge_bb "$f random:16" $G --graph random:16,7 --n 2^20 --dtype bf16 --repeats 10
    edge_bb "$f w64+r16" $G --graph window:64+random:16,7 --n 2^20 --dtype bf16 --repeats 10
    edge_bb "$f dilated:2,64" $G --graph dilated:2,64 --n 2^20 --dtype bf16 --repeats 10
    GRAPHATTN_NO_TILES=1 edge_bb "$f edges window:16" $G --graph window:16 --n 2^20 --dtype bf16 --repeats 5
    GRAPHATTN_NO_TILES=1 edge_bb "$f edges window:256" $G --graph window:256 --n 2^18 --dtype bf16 --repeats 5
  done
done
