#!/usr/bin/env bash
# edge_d128_probe.sh -- one GPU call (not run yet): the edge engine's 8-elements-per-lane idea of
# runs 59-60 at 64 < D <= 128 (bench/patches/edge-d128.patch: float32 on <float, 4, 16, 2> behind
# GRAPHATTN_EDGE_WIDE_F32=1, 16-bit on <T, 8, 16, 1> behind GRAPHATTN_EDGE_WIDE_16=1; their
# instances spill 104 / 112 bytes at 128 registers against 256 / 160 for the default ones).
# Build here first: apply the patch, `cmake --build build-carry10 --target graphattn_cmd`, then
# gzip build-carry10/tools/graphattn > build-carryxi/wide.gz. Prediction: float32 faster at every
# row length (as at D 64, run 60), 16-bit faster on short rows only (run 59).
# Both columns on the edge engine alone (GRAPHATTN_NO_TILES=1). Run: timeout 400 bash bench/edge_d128_probe.sh
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=$(edge_tool wide) || exit 1
for dt in f32 bf16; do
  GRAPHATTN_EDGE_WIDE_F32=1 GRAPHATTN_EDGE_WIDE_16=1 $G check --graph window:8+random:16,7 --n 9000 --dim 128 --dtype $dt --device cuda 2>&1 | tail -1
done
for d in 96 128; do
  for spec in random:16,7 dilated:2,64 window:16 window:32 window:64 window:256; do
    for dt in f32 bf16; do
      GRAPHATTN_NO_TILES=1 edge_bb "default $dt D$d $spec" $G --graph $spec --n 2^20 --dim $d --dtype $dt --repeats 5
      GRAPHATTN_EDGE_WIDE_F32=1 GRAPHATTN_EDGE_WIDE_16=1 GRAPHATTN_NO_TILES=1 \
        edge_bb "wide $dt D$d $spec" $G --graph $spec --n 2^20 --dim $d --dtype $dt --repeats 5
    done
  done
done
