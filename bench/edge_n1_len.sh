#!/usr/bin/env bash
# edge_n1_len.sh -- one GPU call (run 59b): where the D 64 edge engine's 8-lane instance (one
# 16-byte vector per lane, 4 groups: 8 edges a step) beats the 4-lane one (two vectors, 8 groups:
# 16 edges a step), by keys per row: build-carryxi/n1_2.gz is a tool whose GRAPHATTN_EDGE_N1=1
# takes the 8-lane instance at D = 64 (16-bit). bf16, the edge engine alone (GRAPHATTN_NO_TILES=1).
# Run: timeout 300 bash bench/edge_n1_len.sh
set -u
cd "$(dirname "$0")/.."
mkdir -p build-carryxi/bin
gzip -dc build-carryxi/n1_2.gz > build-carryxi/bin/n1_2 && chmod +x build-carryxi/bin/n1_2 || exit 1
G=build-carryxi/bin/n1_2
bb() { local l=$1; shift; GRAPHATTN_NO_TILES=1 timeout 90 "$G" bench "$@" --device cuda 2>/dev/null | grep -E "^ +[0-9]" | sed "s/^/$l /"; }
for spec in window:8 window:16 window:24 window:32 window:48 window:64 window:128 random:32,5 random:64,5 random:128,5; do
  for r in 1 2; do
    bb "4-lane $spec" --graph $spec --n 2^20 --dtype bf16 --repeats 5
    GRAPHATTN_EDGE_N1=1 bb "8-lane $spec" --graph $spec --n 2^20 --dtype bf16 --repeats 5
  done
done
