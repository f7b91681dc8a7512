#!/usr/bin/env bash
# edge_pipe_ab.sh -- one GPU call: the edge engine's batched keys software-pipelined (run_keys_batched
# loads step st + 1's K and V rows before it consumes step st, within each batch of slots) against
# main, from tools built here and carried gzip'd in build-carryxi: main (main's tool, 96048f9: the
# same SASS as 39d8a8d), pp2 (pipelined, 2 blocks per SM at 128 registers as main), pp1 (pipelined,
# GA_CUDA_MIN_BLOCKS=1 on the three edge objects: 255 registers, 8 warps per SM), pptest (pp2's
# test_cuda). pp2/pp1 are main's build with the three edge objects recompiled from the working tree
# (nvcc flags of CMakeFiles/graphattn_objects.dir/flags.make), libgraphattn.a re-archived, the tool
# and test_cuda relinked.
# Why: run 66's prefetches lost, but they asked for every sector twice, one lane per row (32 lines an
# instruction); run 57 put the random keys at 16 edges of K and V in flight per warp, one step at a
# time. Loading the next step's rows into registers before the step's arithmetic doubles what is in
# flight without a request more.
# Prediction: random:16 bf16 D 64 (the 8-lane instance, whose spills went 112 -> 104 bytes) 15-30%
# faster; instances whose spills grew (16-bit 16 elements per lane 160 -> 248, f32 4-vector 256 ->
# 504) level or slower; windows and dilated rows (affine keys, not batched) level; outputs identical.
# Run: timeout 560 bash bench/edge_pipe_ab.sh > $OUT/pp.log 2>&1; tail -60 $OUT/pp.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
M=$(edge_tool main) && P=$(edge_tool pp2) && P1=$(edge_tool pp1) || exit 1
echo "== outputs, main against pp2 then pp1 (byte for byte)"
edge_cmp $M $P "a random:16,7" "a window:64+random:16,7" "a random:200,3" "c random:16,7" "c window:32+random:8,3" \
  "b random:16,7" "d random:16,7" "d dilated:2,64+random:4,9" "a window:8+global:0,5,9" "c random:40,2"
edge_cmp $M $P1 "a random:16,7" "c random:16,7" "a random:200,3"
echo "== pp2's test_cuda: every test"
timeout 300 bash bench/cuda_tests_par.sh pptest 2>&1 | tail -12
echo "== C tool, median ms, two rounds"
for r in 1 2; do
  for t in main pp2 pp1; do
    G=build-carryxi/bin/$t
    edge_ab6 "$t" $G
    edge_bb "$t random:64 bf16 D128" $G --graph random:64,7 --n 2^20 --dim 128 --dtype bf16 --repeats 5
    edge_bb "$t dilated:2,64 bf16" $G --graph dilated:2,64 --n 2^20 --dtype bf16 --repeats 10
  done
done
