#!/usr/bin/env bash
# edge_rows_sparse_probe.sh -- run 79 (after gpu-check on a warm machine: its build-gpu tool):
# rows mode against row mode (GRAPHATTN_EDGE_ROWS=0 / 1, the edge engine alone, 2^20 rows) on
# skew_csrs.py's sparse set, every 16th or 32nd row long (8 keys elsewhere), at bf16 D 64 (8 rows a
# warp) and D 128 (4 rows a warp). Why: in run 77 every 16th row of 256 keys ran 2.6x slower in
# rows mode at 4 rows a warp although the longest row was only 11x the mean; the spread bound (8x
# the mean + 32) lets e16 rows of up to ~184 keys and e32 rows of up to ~300 into rows mode.
# Prediction: like run 75's e8 rows (rows mode faster) at L <= 128; e16-160 and e32-256 level;
# e32-512 (row mode by the bound) slower in rows mode.
# Run: timeout 200 bash bench/edge_rows_sparse_probe.sh > $OUT/ss.log 2>&1; tail -40 $OUT/ss.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=${TOOL:-build-gpu/tools/graphattn}
[ -x "$G" ] || { echo "no tool at $G"; exit 1; }
python3 bench/skew_csrs.py sparse || exit 1
export GRAPHATTN_NO_TILES=1
for d in 64 128; do
  for c in e16-64 e16-128 e16-160 e32-128 e32-256 e32-512; do
    edge_modes "$c D$d bf16" $G --graph $(edge_csr ss-$c) --n 2^20 --dim $d --dtype bf16 --repeats 5
  done
done
