#!/usr/bin/env bash
# edge_wpb_uniform_ab.sh -- one GPU call (waiting for device time): the edge engine's blocks of 8
# warps (the default) against 4 (GRAPHATTN_EDGE_WPB=4) where run 80 did not look: calls whose rows
# are alike, in row mode (the rule's mode for them: mean over 520 slots, listed rows, bigbird, the
# busy-rows test) and in rows mode at other widths, and the package's union cases. Run 80 found
# blocks of 4 1.17-2.74x faster on every uneven CSR (a block's warps are freed together: one long
# row holds the other warps' places) but random:128 in rows mode 10% slower; blocks of 4 become the
# default only if they lose nowhere here (or the loss has a rule of its own).
# Tools carried gzip'd: build-carryxi/wpb.gz and wpb-lib.gz (0822422's kernels + the switch, which
# is HEAD's edge engine since 1568911; rebuild from build-carry10 with gzip -c if the kernels move).
# Prediction: row mode on alike rows level within 3% (no idle warps to free); random:128 in rows
# mode 5-10% slower again, other rows-mode cases within 3%; bigbird / longformer level or 1-3%
# faster (their listed rows are long beside short ones).
# Run: timeout 400 bash bench/edge_wpb_uniform_ab.sh > $OUT/wu.log 2>&1; tail -80 $OUT/wu.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=$(edge_tool wpb) || exit 1
gzip -dc build-carryxi/wpb-lib.gz > build-carryxi/bin/libgraphattn.so || exit 1
ab() { # LABEL ARGS...: the case at blocks of 8 then 4, twice (8 4 8 4)
  local l=$1 w; shift
  for w in 8 4 8 4; do GRAPHATTN_EDGE_WPB=$w edge_bb "wpb=$w $l" $G "$@" --repeats 5; done
}
echo "== row mode by the rule, bf16 D 64 at 2^20 unless stated (the edge engine alone)"
export GRAPHATTN_NO_TILES=1
ab "random:1024" --graph random:1024,7 --n 2^20 --dtype bf16
ab "edges window:300 (601 slots)" --graph window:300 --n 2^20 --dtype bf16
ab "edges dilated:300,2 (601 slots)" --graph dilated:300,2 --n 2^20 --dtype bf16
ab "longnet:2048,2,0" --graph longnet:2048,2,0 --n 2^20 --dtype bf16
ab "bigbird:64,3,2,3 2^18" --graph bigbird:64,3,2,3,7 --n 2^18 --dtype bf16
ab "global:0,1,2,3+window:16" --graph global:0,1,2,3+window:16 --n 2^20 --dtype bf16
ab "random:1024 D128" --graph random:1024,7 --n 2^20 --dim 128 --dtype bf16
ab "random:1024 f32" --graph random:1024,7 --n 2^20 --dtype f32
echo "== rows mode by the rule"
ab "random:128" --graph random:128,7 --n 2^20 --dtype bf16
ab "random:64" --graph random:64,7 --n 2^20 --dtype bf16
ab "random:256" --graph random:256,7 --n 2^20 --dtype bf16
ab "dilated:2,64" --graph dilated:2,64 --n 2^20 --dtype bf16
ab "random:16 D32" --graph random:16,7 --n 2^20 --dim 32 --dtype bf16
ab "random:16 D128" --graph random:16,7 --n 2^20 --dim 128 --dtype bf16
ab "edges window:64" --graph window:64 --n 2^20 --dtype bf16
unset GRAPHATTN_NO_TILES
echo "== the package's unions (tiles and edges together), blocks of 8 then 4"
for w in 8 4; do
  GRAPHATTN_EDGE_WPB=$w PYTHONUNBUFFERED=1 GRAPHATTN_LIBRARY=$PWD/build-carryxi/bin/libgraphattn.so timeout 150 \
    python3 bench/gpu_bench.py --cases longformer,bigbird,random 2>&1 | grep -E "^ +(longformer|bigbird|random) +graphattn" | sed "s/^/wpb=$w /"
done
