#!/usr/bin/env bash
# edge_rows_width_probe.sh -- one GPU call (not run yet): which instance width the edge engine's
# rows mode wants. ga_edge_half_width was measured in row mode (runs 59-62); in rows mode a warp
# runs G = 32 / LPE rows, so the full-width instance (16 elements a lane) runs twice the rows of
# the half-width one (at D 64 in bf16: 8 rows a warp against 4), sharing the rows' fixed work
# further, at twice the registers for K and V per lane.
# Build: the working tree with bench/patches/edge-rows-width.patch applied (GRAPHATTN_EDGE_WIDTH=half
# / full forces the width), tool gzip'd to build-carryxi/width.gz (only the three edge objects
# change: recompile them and relink as bench/edge_prefetch_ab.sh's header says).
# One was built on 401b117 and left in build-carryxi/width.gz (ignored by git; check it is there).
# Prediction: at D 64 bf16 full width 10-30% faster on 5-33-slot rows in rows mode (the rows kernel's
# 16-element instances had no spills at 128 registers), level or slower from 129 slots; float32
# (16 elements = four vectors, 168-176 bytes of stack in rows mode) stays half.
# Run: timeout 400 bash bench/edge_rows_width_probe.sh > $OUT/w.log 2>&1; tail -80 $OUT/w.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
W=$(edge_tool width) || exit 1
for r in 1; do
  for d in 32 64 128; do
    for dt in bf16 f32; do
      for wd in half full; do
        export GRAPHATTN_EDGE_WIDTH=$wd
        edge_bb "$wd D$d $dt random:16" $W --graph random:16,7 --n 2^20 --dim $d --dtype $dt --repeats 5
        edge_bb "$wd D$d $dt dilated:2,64" $W --graph dilated:2,64 --n 2^20 --dim $d --dtype $dt --repeats 5
        GRAPHATTN_NO_TILES=1 edge_bb "$wd D$d $dt window:16" $W --graph window:16 --n 2^20 --dim $d --dtype $dt --repeats 5
        GRAPHATTN_NO_TILES=1 edge_bb "$wd D$d $dt window:64" $W --graph window:64 --n 2^20 --dim $d --dtype $dt --repeats 3
        GRAPHATTN_NO_TILES=1 edge_bb "$wd D$d $dt window:256" $W --graph window:256 --n 2^18 --dim $d --dtype $dt --repeats 3
      done
    done
  done
done
