#!/usr/bin/env bash
# edge_rows_mean_probe.sh -- run 77, one GPU call: rows mode against row mode (forced with
# GRAPHATTN_EDGE_ROWS=0 / 1, the edge engine alone, head's tool carried as build-carryxi/head.gz)
# where run 76 left the rule unsure.
# 1. Long rows. Run 76: longnet:2048,2,0 (half the rows empty, the others 1024 keys, mean 512)
#    1.29x slower in rows mode, which the rule (mean <= 520) picks; 513-key windows were level in
#    run 69. Here, bf16 D 64 at 2^20: uniform rows of 128-512 random keys, 257- and 385-key windows,
#    longnet with one row in 2 or 4 busy (busy rows of 256-512 keys); at D 32 / D 128 bf16 and D 64
#    float32, longnet:2048,2,0 and random:384.
# 2. The spread bound at 4 rows a warp (bf16 D 128; float32 D 64, where run 76 found every 64th
#    row of 128 keys 1.29x faster in rows mode, which the 8x + 32 bound refuses): run 75's CSRs at
#    bf16 D 128, and skew_csrs.py's wide set (longest rows 11-25x the mean) at both.
# Predictions: random:128 1.3x faster in rows mode, 256 1.1x, 384 / 512 level; windows 257 1.2x,
# 385 1.05x; longnet with half the rows busy: level at 256 keys, 1.2x slower at 512; a quarter
# busy: level at 256, 1.1x slower at 384. At 4 rows a warp rows mode wins up to ~16x the mean.
# Run: timeout 560 bash bench/edge_rows_mean_probe.sh > $OUT/m.log 2>&1; tail -150 $OUT/m.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=$(edge_tool head) || exit 1
both() { # LABEL ARGS...: the case at 2^20 in row mode, then in rows mode
  local l=$1; shift
  edge_modes "$l" $G "$@" --n 2^20 --repeats 5
}
echo "== long rows (bf16 D 64 unless stated)"
for k in 128 256 384 512; do both "random:$k" --graph random:$k,7 --dtype bf16; done
for w in 128 192; do GRAPHATTN_NO_TILES=1 both "edges window:$w" --graph window:$w --dtype bf16; done
for g in longnet:512,2,0 longnet:768,2,0 longnet:1024,2,0 longnet:1024,4,0 longnet:1536,4,0; do both "$g" --graph $g --dtype bf16; done
for v in "32 bf16" "128 bf16" "64 f32"; do
  set -- $v
  both "longnet:2048,2,0 D$1 $2" --graph longnet:2048,2,0 --dim $1 --dtype $2
  both "random:384 D$1 $2" --graph random:384,7 --dim $1 --dtype $2
done
echo "== spread at 4 rows a warp"
python3 bench/skew_csrs.py spread && python3 bench/skew_csrs.py wide || exit 1
export GRAPHATTN_NO_TILES=1
for c in sp-e8-64 sp-e8-256 sp-e8-1024 sp-e64-128 sp-e64-512 sp-u0-64 wd-e16-256 wd-e16-512 wd-e64-192 wd-e64-256 wd-e64-320; do
  both "$c D128 bf16" --graph $(edge_csr $c) --dim 128 --dtype bf16
done
for c in wd-e16-256 wd-e16-512 wd-e64-192 wd-e64-256 wd-e64-320; do
  both "$c D64 f32" --graph $(edge_csr $c) --dim 64 --dtype f32
done
