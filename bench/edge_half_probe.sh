#!/usr/bin/env bash
# edge_half_probe.sh -- one GPU call: runs 59-61's half-width edge instances (8 elements per lane)
# at the head dims they do not cover yet, D <= 32 and 128 < D <= 256, from a tool built with a
# probe switch (GRAPHATTN_EDGE_HALF=1: half-width instances there at any row length; the switch is
# in the probe's build only, never on main: bench/patches/edge-half-probe.patch on b6eb026, built
# as build-carry10's graphattn_cmd and gzip'd to build-carryxi/half.gz). Before the timings, run
# 61's rule's own test from build-carryxi/test_cuda.gz (that main's test_cuda). Ran as run 62;
# its findings landed as ga_edge_half_width's bounds, so the test it names has since widened.
# Prediction: float32 gains at D <= 32 and D 192-256 on short rows (the default float32 instances
# spill 256 bytes, the half-width ones 104), less or none on long rows; 16-bit short rows only.
# Run: timeout 400 bash bench/edge_half_probe.sh
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=$(edge_tool half) || exit 1
T=$(edge_tool test_cuda) || exit 1
$T edge_engines_half_width_instances_run_where_expected_and_match_reference head_dims_from_1_to_512_match_reference 2>&1 | tail -3
for d in 16 32 192 256; do
  for dt in f32 bf16; do
    GRAPHATTN_EDGE_HALF=1 $G check --graph window:8+random:16,7 --n 9000 --dim $d --dtype $dt --device cuda 2>&1 | tail -1
  done
done
for d in 32 16 256 192; do
  for spec in random:16,7 dilated:2,64 window:16 window:32 window:64 window:256; do
    for dt in f32 bf16; do
      GRAPHATTN_NO_TILES=1 edge_bb "default $dt D$d $spec" $G --graph $spec --n 2^20 --dim $d --dtype $dt --repeats 5
      GRAPHATTN_EDGE_HALF=1 GRAPHATTN_NO_TILES=1 edge_bb "half $dt D$d $spec" $G --graph $spec --n 2^20 --dim $d --dtype $dt --repeats 5
    done
  done
done
