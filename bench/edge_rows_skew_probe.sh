#!/usr/bin/env bash
# edge_rows_skew_probe.sh -- one GPU call (not run yet): rows mode against row mode on explicit CSRs
# whose rows are not alike within a warp (rows mode runs a warp as long as its longest row), to set
# ga_edge_rows_mode's rule beyond run 69's uniform rows: the tool of 401b117 (build-carryxi/rows.gz)
# with GRAPHATTN_EDGE_ROWS=0 / 1, on the edge engine alone (GRAPHATTN_NO_TILES=1), bf16, D 64.
# CSRs (written by the script, keys distinct and sorted in each row):
#   uni16   2^20 rows of 16 keys (mean 16: rows mode by the rule)
#   zipf    2^20 rows, degrees 4 * Pareto(1.2) capped at 4000 (most rows 4-10, a few thousands)
#   alt     2^18 rows alternating 1 and 500 keys (mean 250: rows mode by the rule; each warp of 4
#           rows runs 250 steps where row mode runs ~128)
#   spike   2^20 rows of 8 keys, every 64th of 3000 (mean ~55)
# Third column: bench/patches/edge-rows-spread.patch (build-carryxi/spread.gz, built on 436c2c6), the
# rule with a spread test: rows mode only where the plan's longest row outside heavy pairs is at
# most 4x the mean + 64 (GRAPHATTN_EDGE_ROWS_SPREAD sets the 4); zipf, alt and spike then keep row
# mode, uni16 takes rows mode.
# Prediction: uni16 ~1.6x (run 69's random:16), zipf 1.2-1.5x, spike level to 1.3x, alt slower
# (0.6-0.9x): if so, the spread test lands (with its bound from these numbers).
# Run: timeout 500 bash bench/edge_rows_skew_probe.sh > $OUT/skew.log 2>&1; tail -30 $OUT/skew.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
R=$(edge_tool rows) && S=$(edge_tool spread) || exit 1
python3 bench/skew_csrs.py || exit 1
export GRAPHATTN_NO_TILES=1
for r in 1 2; do
  for c in uni16 zipf alt spike; do
    n=$((1 << 20)); [ $c = alt ] && n=$((1 << 18))
    edge_modes "$c" $R --graph $(edge_csr skew-$c) --n $n --dtype bf16 --repeats 5
    edge_bb "spread-rule $c" $S --graph $(edge_csr skew-$c) --n $n --dtype bf16 --repeats 5
  done
done
