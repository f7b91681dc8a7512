#!/usr/bin/env bash
# edge_dyn_ab.sh -- one GPU call (waiting for device time): bench/patches/edge-dyn.patch, the edge
# engine's row and rows tasks taken from a counter by the warps of a grid of resident blocks
# (GRAPHATTN_EDGE_DYN=1), beside run 80's blocks of 4 (GRAPHATTN_EDGE_WPB=4). Why: run 80 found
# that a block's warps are freed together, so one long row holds its block's other warps' places;
# blocks of 4 gained 1.17-2.74x on uneven CSRs, but a warp that takes its next task as soon as it
# is done should not wait at all.
# Tool, test and lib carried gzip'd: build-carryxi/dyn.gz, dyn-test.gz, dyn-lib.gz (1568911 + the
# patch: git apply bench/patches/edge-dyn.patch && bench/mkvariant.sh build-carry10 dyn
# src/cuda/edge_f32.cu src/cuda/edge_f16.cu src/cuda/edge_bf16.cu src/cuda/forward.cu, after a
# build of test_cuda with the patch in build-carry10; then git checkout src tests).
# Prediction: dynamic at blocks of 8 at least as fast as static blocks of 4 on every uneven CSR
# (row mode e8-256 ~4.5 ms against 13.3; rows mode e64-512 ~3 ms against 13.9), uniform rows level
# within 3% (one atomic per task), outputs byte-identical.
# Run: timeout 400 bash bench/edge_dyn_ab.sh > $OUT/d.log 2>&1; tail -100 $OUT/d.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=$(edge_tool dyn) || exit 1
T=$(edge_tool dyn-test) || exit 1
for s in spread sparse skew; do python3 bench/skew_csrs.py $s > /dev/null || exit 1; done
cfg() { # LABEL MODE ARGS...: static 8, static 4, dynamic 8, dynamic 4
  local l=$1 m=$2 c; shift 2
  for c in "8 0" "4 0" "8 1" "4 1"; do
    set -- $c "$@"
    GRAPHATTN_EDGE_WPB=$1 GRAPHATTN_EDGE_DYN=$2 GRAPHATTN_EDGE_ROWS=$m edge_bb "wpb=$1 dyn=$2 rows=$m $l" $G "${@:3}" --n 2^20 --repeats 5
    shift 2
  done
}
echo "== the rows-mode test (cycles blocks of 8 / 4 / 2 / 1 and dynamic) and the plan test"
GA_EXPECT_WGMMA=1 timeout 150 $T edge_engines_rows_mode_runs_where_expected_and_matches_reference \
  edge_plan_bounds_every_light_row_and_picks_the_tests_modes 2>&1 | grep -E "FAIL|passed, "
echo "== identical outputs, static 8 against dynamic 8 and 4"
for m in 0 1; do
  edge_same $G "GRAPHATTN_EDGE_WPB=8 GRAPHATTN_EDGE_DYN=0 GRAPHATTN_EDGE_ROWS=$m" "GRAPHATTN_EDGE_WPB=8 GRAPHATTN_EDGE_DYN=1 GRAPHATTN_EDGE_ROWS=$m" \
    "GRAPHATTN_EDGE_WPB=4 GRAPHATTN_EDGE_DYN=1 GRAPHATTN_EDGE_ROWS=$m"
done
export GRAPHATTN_NO_TILES=1
echo "== uneven CSRs, bf16 D 64, row mode then rows mode"
for c in ss-e16-128 ss-e32-128 sp-e64-512 sp-e8-256 skew-spike skew-zipf; do
  cfg "$c" 0 --graph $(edge_csr $c) --dtype bf16; cfg "$c" 1 --graph $(edge_csr $c) --dtype bf16
done
echo "== uneven CSRs, bf16 D 128"
for c in ss-e32-128 sp-e64-128; do cfg "$c D128" 0 --graph $(edge_csr $c) --dim 128 --dtype bf16; cfg "$c D128" 1 --graph $(edge_csr $c) --dim 128 --dtype bf16; done
echo "== alike rows, the rule's mode"
for g in random:16,7 window:64+random:16,7 random:128,7 random:1024,7; do cfg "$g" "" --graph $g --dtype bf16; done
