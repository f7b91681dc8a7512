#!/usr/bin/env bash
# edge_lq_ab.sh -- one GPU call: the edge engine reading a row's Q in its first step, beside that
# step's K and V rows (lq), against main, from tools built here and carried gzip'd in build-carryxi:
# main (96048f9's tool, the same SASS as 39d8a8d), lq (main's build with the three edge objects
# recompiled from the working tree, libgraphattn.a re-archived, tool and test_cuda relinked), lqtest
# (lq's test_cuda). Then ncu's warp states for main's edge kernel on random:16 (bf16, D 64, 2^20).
# Why: run 67 (the next step's rows loaded before a step is consumed, pp2) was level on random:16
# and 8 warps per SM at 255 registers (pp1) 1.7x slower: the warps are latency-bound, but not on
# a step's loads. Each row starts with its Q's load and conversion, which holds the warp for a
# round trip before the row's keys are formed and their rows asked for: two round trips a row.
# Prediction: random:16 and short rows (dilated, 5 keys) 10-25% faster; long rows level; outputs
# identical byte for byte.
# Run: timeout 560 bash bench/edge_lq_ab.sh > $OUT/lq.log 2>&1; tail -70 $OUT/lq.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
M=$(edge_tool main) && L=$(edge_tool lq) || exit 1
echo "== outputs, main against lq (byte for byte)"
edge_cmp $M $L "a random:16,7" "a window:64+random:16,7" "a random:200,3" "c random:16,7" "c window:32+random:8,3" \
  "b random:16,7" "d random:16,7" "d dilated:2,64+random:4,9" "a window:8+global:0,5,9" "c random:40,2" "b window:3" "d dilated:3,40"
echo "== lq's test_cuda: every test"
timeout 300 bash bench/cuda_tests_par.sh lqtest 2>&1 | tail -12
echo "== C tool, median ms, two rounds"
for r in 1 2; do
  for t in main lq; do
    G=build-carryxi/bin/$t
    edge_ab6 "$t" $G
    edge_bb "$t dilated:2,64 bf16" $G --graph dilated:2,64 --n 2^20 --dtype bf16 --repeats 10
    GRAPHATTN_NO_TILES=1 edge_bb "$t edges window:16 bf16" $G --graph window:16 --n 2^20 --dtype bf16 --repeats 5
    GRAPHATTN_NO_TILES=1 edge_bb "$t edges window:256 bf16" $G --graph window:256 --n 2^18 --dtype bf16 --repeats 5
  done
done
echo "== ncu: main's edge kernel, random:16 bf16 D 64 2^20"
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
if [ -x "$NCU" ]; then
  for t in main lq; do
    timeout 150 "$NCU" --section WarpStateStats --section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy \
      -k regex:ga_edge_kernel --launch-count 1 build-carryxi/bin/$t bench --graph random:16,7 --n 2^20 --dtype bf16 \
      --device cuda --repeats 1 --warmup 0 > ${OUT:-/tmp}/ncu-edge-$t.txt 2>&1
    grep -E "Duration|Warp Cycles Per Issued|Issue Slots|Stall|DRAM Throughput|Memory Throughput|L1/TEX Hit|L2 Hit|Achieved Occupancy|Eligible|Mem Busy|Max Bandwidth" ${OUT:-/tmp}/ncu-edge-$t.txt | sed "s/^/$t /" | head -30
  done
fi
