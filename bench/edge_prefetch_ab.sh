#!/usr/bin/env bash
# edge_prefetch_ab.sh -- one GPU call (not run yet): bench/patches/edge-prefetch.patch (the edge
# engine's batched keys prefetch their K and V rows into L2, one lane per slot, before the steps
# that load them) against main, carried gzip'd in build-carryxi: main (main's tool), pf (the
# patched tool), pf1 (the same built with -DGA_EDGE_PREFETCH_L1: into L1 instead), pftest (the
# patched test_cuda).
# Build here first (builds do not outlive a session): main's Release sm_90a build (`cmake -S . -B
# build-carry10 -DCMAKE_BUILD_TYPE=Release -DGRAPHATTN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a-real`,
# targets graphattn_cmd test_cuda); a copy of it with the three edge objects recompiled from a
# tree with the patch applied (nvcc with the flags of CMakeFiles/graphattn_objects.dir/flags.make,
# includes pointed at that tree), libgraphattn.a re-archived, the tool and test_cuda relinked
# (their link.txt); again with -DGA_EDGE_PREFETCH_L1 on the three objects for pf1; gzip the tools
# to build-carryxi/{main,pf,pf1}.gz and the L2 build's test_cuda to pftest.gz.
# Why: run 65 found the random keys' gathers at ~35% of the H200's bandwidth (window 64 + 16
# random keys: 3.11 ms at 2^20, ~92% of it the random part); a step waits for two rows per group
# at a time, and a 16-slot random row is two steps, each a round trip to DRAM. The prefetches
# put a batch's 32 slots (64 rows) in flight at once and write no register.
# Prediction: random:16 and window:64 + random:16 10-30% faster, random:64 more; dilated rows and
# the windows (affine keys, not batched, not prefetched) level; outputs bit-identical. L1 behind
# L2 at D 128 (a batch's 64 rows x 16 warps overflow the SM's L1), perhaps ahead at D 64.
# Run: timeout 560 bash bench/edge_prefetch_ab.sh > $OUT/pf.log 2>&1; tail -60 $OUT/pf.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
M=$(edge_tool main) && P=$(edge_tool pf) && P1=$(edge_tool pf1) || exit 1
echo "== outputs, main against the patch, L2 then L1 (byte for byte)"
edge_cmp $M $P1 "a random:16,7" "c random:16,7"
edge_cmp $M $P "a random:16,7" "a window:64+random:16,7" "a random:200,3" "c random:16,7" "c window:32+random:8,3" \
  "b random:16,7" "d random:16,7" "d dilated:2,64+random:4,9"
echo "== the patch's test_cuda: every test"
timeout 300 bash bench/cuda_tests_par.sh pftest
echo "== C tool, median ms, two rounds"
for r in 1 2; do
  for t in main pf pf1; do
    G=build-carryxi/bin/$t
    edge_bb "$t random:16 bf16" $G --graph random:16,7 --n 2^20 --dtype bf16 --repeats 10
    edge_bb "$t w64+r16 bf16" $G --graph window:64+random:16,7 --n 2^20 --dtype bf16 --repeats 10
    edge_bb "$t random:64 bf16" $G --graph random:64,7 --n 2^20 --dtype bf16 --repeats 5
    edge_bb "$t random:16 f32 D128" $G --graph random:16,7 --n 2^20 --dim 128 --dtype f32 --repeats 5
    edge_bb "$t random:16 bf16 D128" $G --graph random:16,7 --n 2^20 --dim 128 --dtype bf16 --repeats 5
    edge_bb "$t dilated:2,64 bf16" $G --graph dilated:2,64 --n 2^20 --dtype bf16 --repeats 10
    GRAPHATTN_NO_TILES=1 edge_bb "$t edges window:64 bf16" $G --graph window:64 --n 2^20 --dtype bf16 --repeats 5
  done
done
