#!/usr/bin/env bash
# edge_wpb_probe.sh -- run 80, one GPU call: the edge engine's row and rows tasks in blocks of 8
# (as now), 4 or 2 warps (GRAPHATTN_EDGE_WPB, a probe switch; tool build-carryxi/wpb.gz, 0822422 +
# the switch). Why: a block's warps are freed together, so a block whose 8 warps hold one long
# row keeps 7 idle warps' places until it is done. That reading fits runs 75-79: at 8 rows a warp
# (64 rows a block) every 8th row long (every warp long) wins in rows mode, every 16th loses from
# 128 keys, every 32nd and 64th lose more; at 4 rows a warp (32 rows a block) every 64th row long
# (half the blocks) wins while every 32nd (every block) loses 1.8x.
# Prediction: WPB 2 brings rows mode on e16 / e32 / e64 CSRs to or below row mode's time (1.5-4x
# faster than WPB 8), row mode on them 0-20% faster; uniform rows (random:16, window 64 + random
# 16, random:128) level within 3%. Outputs byte-identical across WPB.
# Run: timeout 150 bash bench/edge_wpb_probe.sh > $OUT/w.log 2>&1; tail -60 $OUT/w.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=$(edge_tool wpb) || exit 1
for s in spread wide sparse skew; do python3 bench/skew_csrs.py $s > /dev/null || exit 1; done
wb() { # LABEL MODE ARGS...: the case at WPB 8, 4 and 2 in row (MODE 0) or rows (1) mode
  local l=$1 m=$2 w; shift 2
  for w in 8 4 2; do GRAPHATTN_EDGE_WPB=$w GRAPHATTN_EDGE_ROWS=$m edge_bb "wpb=$w rows=$m $l" $G "$@" --n 2^20 --repeats 5; done
}
export GRAPHATTN_NO_TILES=1
echo "== identical outputs across WPB"
for m in 0 1; do edge_same $G "GRAPHATTN_EDGE_WPB=8 GRAPHATTN_EDGE_ROWS=$m" "GRAPHATTN_EDGE_WPB=2 GRAPHATTN_EDGE_ROWS=$m"; done
echo "== uneven CSRs, bf16 D 64"
for c in ss-e16-128 ss-e32-128 sp-e64-512 sp-e8-256; do wb "$c D64" 1 --graph $(edge_csr $c) --dtype bf16; wb "$c D64" 0 --graph $(edge_csr $c) --dtype bf16; done
wb "skew-spike D64" 0 --graph $(edge_csr skew-spike) --dtype bf16
echo "== uneven CSRs, bf16 D 128"
for c in wd-e16-256 ss-e32-128 sp-e64-128; do wb "$c D128" 1 --graph $(edge_csr $c) --dim 128 --dtype bf16; wb "$c D128" 0 --graph $(edge_csr $c) --dim 128 --dtype bf16; done
echo "== uniform rows (the rule's mode: rows)"
unset GRAPHATTN_NO_TILES
for g in random:16,7 window:64+random:16,7 random:128,7; do wb "$g D64" 1 --graph $g --dtype bf16; done
wb "random:16,7 f32" 1 --graph random:16,7 --dtype f32
