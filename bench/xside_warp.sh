#!/usr/bin/env bash
# xside_warp.sh -- one GPU call (run 55): Longformer's listed-row pass as one warp per CTA beside
# the query tiles (xpass_warp_kernel, launched behind them with programmatic dependent launch;
# GRAPHATTN_XPASS_SIDE=0 keeps the pass before them). Builds of main with
# bench/patches/xside-warp.patch applied (Release sm_90a), carried gzip'd in build-carrypoly: xs =
# the tool, xstest = test_cuda, xslib = libgraphattn.so. Steps: the listed-token test (both forms
# against the fp64 reference, the side pass's call count), then bench/xside_warp_ab.py (graph
# replay, outputs compared) and the C tool's eager calls. Run 55: correct, 15-30% slower; not landed.
# Run: timeout 300 bash bench/xside_warp.sh > $OUT/xs.log 2>&1; tail -60 $OUT/xs.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_unpack xs xstest xslib || exit 1
T=build-carrypoly/bin/xstest G=build-carrypoly/bin/xs
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader || true
echo "== listed_tokens_run_with_the_tiles_and_match_reference"
GA_EXPECT_WGMMA=1 timeout 150 $T listed_tokens_run_with_the_tiles_and_match_reference > /tmp/xs-t.log 2>&1
r=$?; grep -E "side|FAIL|fail|passed" /tmp/xs-t.log | head -20; echo "test rc=$r"
[ $r = 0 ] || { tail -30 /tmp/xs-t.log; exit 1; }
echo "== Longformer by graph replay (seq / side)"
GRAPHATTN_LIBRARY=$PWD/build-carrypoly/bin/xslib timeout 120 python3 bench/xside_warp_ab.py --rounds 3 2>&1 | grep -v " round "
echo "== C tool, eager (median ms): window part, Longformer side, Longformer seq"
L=window:256+global:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
for n in 2^18 2^20; do
  ab_bench "window $n" --graph window:256 --n $n --dtype bf16 --repeats 20
  ab_bench "lf side $n" --graph $L --n $n --dtype bf16 --repeats 20
  GRAPHATTN_XPASS_SIDE=0 ab_bench "lf seq $n" --graph $L --n $n --dtype bf16 --repeats 20
  # (added after run 55, not yet run) the side pass launched plainly, after the query tiles: level
  # with "lf side" means its CTAs never ran beside them (no nsys on the GPU machine to show it)
  GRAPHATTN_PDL=0 ab_bench "lf side, PDL off $n" --graph $L --n $n --dtype bf16 --repeats 20
done
