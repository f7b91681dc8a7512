#!/usr/bin/env bash
# edge_rows_final.sh -- one short GPU call on the committed form of rows mode (after the review's
# refactor: shared component copy and row stores, ga_rows_key through ga_comp_key; the edge
# kernels' SASS moved, stacks 8 bytes smaller): every test_cuda test, then main against it on
# the C tool for the cases of run 69 that move most (rows mode by its rule, and row mode forced).
# Run: timeout 300 bash bench/edge_rows_final.sh > $OUT/rf.log 2>&1; tail -40 $OUT/rf.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
M=$(edge_tool main) && R=$(edge_tool rows) || exit 1
echo "== test_cuda: every test"
timeout 150 bash bench/cuda_tests_par.sh rowstest 2>&1 | tail -12
echo "== C tool, median ms: main, row mode (GRAPHATTN_EDGE_ROWS=0), rows mode by the rule"
for t in main off rule; do
  G=$R; [ $t = main ] && G=$M
  [ $t = off ] && export GRAPHATTN_EDGE_ROWS=0 || unset GRAPHATTN_EDGE_ROWS
  edge_bb "$t random:16 bf16" $G --graph random:16,7 --n 2^20 --dtype bf16 --repeats 10
  edge_bb "$t random:16 f32 D128" $G --graph random:16,7 --n 2^20 --dim 128 --dtype f32 --repeats 5
  edge_bb "$t dilated:2,64 bf16" $G --graph dilated:2,64 --n 2^20 --dtype bf16 --repeats 10
  GRAPHATTN_NO_TILES=1 edge_bb "$t edges window:256 bf16" $G --graph window:256 --n 2^18 --dtype bf16 --repeats 5
done
