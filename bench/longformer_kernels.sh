#!/usr/bin/env bash
# Each kernel of the window and Longformer calls (C tool, 2^20 and 2^22) with its duration under
# ncu (no cache flush, clocks not locked): where a Longformer call spends its time beyond its
# window part. Run on the GPU machine after building build-gpu (graphattn_cmd suffices).
B=build-gpu/tools/graphattn
G=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu | head -1)
for n in 2^20 2^22; do
  for g in window:256 window:256+global:$G; do
    echo "== $g $n"
    timeout 90 $NCU --metrics gpu__time_duration.sum --cache-control none --clock-control none $B bench --graph $g --n $n --dtype bf16 --device cuda --repeats 3 2>&1 | awk '/^  [a-z_].*\(.*Context/ {k=substr($0, 3, 70)} /gpu__time_duration.sum/ {print k, $(NF-1), $NF}'
  done
done
