#!/usr/bin/env bash
# edge_f32_probe.sh -- one GPU call (run 60a): float32 inputs (the edge engine alone) at D 64 on an
# 8-lane instance (two 16-byte vectors per lane, 8 edges a step) against the 4-lane one (four
# vectors per lane, 16 edges a step), by keys per row. build-carryxi/f32.gz: a tool whose
# GRAPHATTN_EDGE_F32_8=1 takes the 8-lane instance (a temporary switch, in that build alone).
# Run: timeout 300 bash bench/edge_f32_probe.sh
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=$(edge_tool f32) || exit 1
GRAPHATTN_EDGE_F32_8=1 $G check --graph window:8+random:16,7 --n 9000 --dtype f32 --device cuda 2>&1 | tail -1
for spec in random:16,7 random:32,5 dilated:2,64 window:8 window:16 window:24 window:32 window:48 window:64 window:256; do
  for r in 1 2; do
    edge_bb "4-lane $spec" $G --graph $spec --n 2^20 --dtype f32 --repeats 5
    GRAPHATTN_EDGE_F32_8=1 edge_bb "8-lane $spec" $G --graph $spec --n 2^20 --dtype f32 --repeats 5
  done
done
