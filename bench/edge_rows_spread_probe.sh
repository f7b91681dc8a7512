#!/usr/bin/env bash
# edge_rows_spread_probe.sh -- run 75, one GPU call: where between run 72's cases rows mode stops
# paying, to check the spread bound (rows mode only where the plan's longest light row is at most
# 4x the mean + 64). The tool of run 73 (build-carryxi/rule.gz, the rule as committed in ffe1b49)
# with GRAPHATTN_EDGE_ROWS=0 / 1, the edge engine alone, bf16 D 64 (8 rows a warp in rows mode),
# CSRs of 2^20 rows: 8-key rows with every 8th row of L keys (each warp of 8 rows has one long
# row), L = 64 ... 1024; every 64th row of L keys, L = 128, 512; row lengths uniform in [0, 64].
# Prediction (a warp's steps: row mode ~8 rows' fixed work + 7 + L / 16, rows mode one row's fixed
# work + L / 2, the fixed work ~16 steps): every 8th row, rows mode faster up to L ~128, level near
# 256, slower beyond; the bound picks rows mode for L <= 128 and row mode from 256.
# Run: timeout 200 bash bench/edge_rows_spread_probe.sh > $OUT/s.log 2>&1; tail -40 $OUT/s.log
# Other warp widths (run 75 was bf16 D 64 only, 8 rows a warp): TOOL=head DIM=32 DTYPE=bf16 (16 rows a
# warp) or DIM=64 DTYPE=f32 (4 rows) in the environment; defaults: rule, 64, bf16.
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=$(edge_tool "${TOOL:-rule}") || exit 1
DIM=${DIM:-64} DTYPE=${DTYPE:-bf16}
python3 bench/skew_csrs.py spread || exit 1
export GRAPHATTN_NO_TILES=1
for c in e8-64 e8-128 e8-256 e8-512 e8-1024 e64-128 e64-512 u0-64; do
  edge_modes "$c D$DIM $DTYPE" $G --graph $(edge_csr sp-$c) --n 2^20 --dim $DIM --dtype $DTYPE --repeats 5
done
