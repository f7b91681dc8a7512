#!/usr/bin/env bash
# xitems.sh -- one GPU call: Longformer's listed-row pass as work items of the warp-specialized
# kernel (ws_xitems_plan; GRAPHATTN_NO_XITEMS=1 keeps the pass kernel). Builds carried gzip'd in
# build-carryxi (Release sm_90a): xi = the tool, xitest = test_cuda, xilib = libgraphattn.so of
# this tree; main = main's tool. Steps: the listed-row tests against the fp64 reference (items in
# every case by default, none with the switch), bench/xitems_ab.py (graph replay, outputs
# compared), the C tool's eager calls beside main's.
# Run: timeout 400 bash bench/xitems.sh > $OUT/xi.log 2>&1; tail -80 $OUT/xi.log
set -u
cd "$(dirname "$0")/.."
mkdir -p build-carryxi/bin
for f in xi xitest xilib main; do
  gzip -dc build-carryxi/$f.gz > build-carryxi/bin/$f && chmod +x build-carryxi/bin/$f || { echo "no $f"; exit 1; }
done
T=build-carryxi/bin/xitest
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader || true
echo "== listed-row tests"
GA_EXPECT_WGMMA=1 timeout ${XI_TEST_S:-200} $T listed_rows_run_as_items_among_the_super_tiles_and_match_reference \
  listed_tokens_run_with_the_tiles_and_match_reference > /tmp/xi-t.log 2>&1
r=$?; grep -E "as items|by the pass|FAIL|fail|passed|max err" /tmp/xi-t.log | head -24; echo "test rc=$r"
[ $r = 0 ] || { tail -40 /tmp/xi-t.log; [ -n "${XI_GO_ON:-}" ] || exit 1; }  # XI_GO_ON=1: time anyway
echo "== Longformer by graph replay (pass / items)"
GRAPHATTN_LIBRARY=$PWD/build-carryxi/bin/xilib timeout 150 python3 bench/xitems_ab.py --rounds 3 2>&1 | grep -v " round "
echo "== C tool, eager (median ms): window part, Longformer (items, pass), main's Longformer"
L=window:256+global:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
b() { local l=$1 g=$2; shift 2; timeout 60 "$g" bench "$@" --device cuda 2>/dev/null | grep -E "^ +[0-9]" | sed "s/^/$l /"; }
for n in 2^18 2^20 2^22; do
  b "window $n" build-carryxi/bin/xi --graph window:256 --n $n --dtype bf16 --repeats 20
  b "lf items $n" build-carryxi/bin/xi --graph $L --n $n --dtype bf16 --repeats 20
  GRAPHATTN_NO_XITEMS=1 b "lf pass $n" build-carryxi/bin/xi --graph $L --n $n --dtype bf16 --repeats 20
  b "lf main $n" build-carryxi/bin/main --graph $L --n $n --dtype bf16 --repeats 20
done
