#!/usr/bin/env bash
# One GPU call for split rows in parts (ws_parts in src/cuda/tile_wgmma.cu): bf16 calls whose
# short rows (under 256 keys) are only their first/last query tiles run the tiles between on the
# unsplit warp-specialized instance and the ends on the split one. Same build, switched by
# GRAPHATTN_WS_PARTS (0: off, as before; unset: D 64; 1: D 64 and D 128). The new test and a short
# sweep first (timings only if they pass), then the timings alternating, then the longer tests
# and the sanitizers over the new test (their times printed: whether it fits gpu-check's lists).
set -u
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DGRAPHATTN_CUDA=ON >/dev/null && cmake --build build-gpu -j16 > /tmp/build.log 2>&1
tail -1 /tmp/build.log
T=build-gpu/tests/test_cuda G=build-gpu/tools/graphattn
[ -x $T ] || { tail -30 /tmp/build.log; exit 1; }
echo "== smoke: the new test, a short tile sweep"
GA_EXPECT_WGMMA=1 GA_CUDA_TILE_SWEEP=60 timeout 150 $T split_rows_run_in_parts_and_match_reference tile_sweep_matches_reference 2>&1 \
  | grep -E "FAIL|passed,|sweep:|fail|in parts" | head -20 | tee /tmp/smoke.txt
grep -qE "FAIL|[1-9][0-9]* failed" /tmp/smoke.txt && { echo "smoke failed: no timings"; exit 1; }
. bench/ab_lib.sh
for r in 1 2; do for v in 0 default 1; do
  if [ $v = default ]; then unset GRAPHATTN_WS_PARTS; else export GRAPHATTN_WS_PARTS=$v; fi
  echo "== GRAPHATTN_WS_PARTS=$v round $r"
  ab_bench "causal bf16 D64 H16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5
  ab_bench "causal bf16 D64 H4" --graph causal --n 2^17 --heads 4 --dim 64 --dtype bf16 --repeats 5
  ab_bench "window:150 bf16 D64" --graph window:150 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "causal bf16 D128 H16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 5
  [ $v = 1 ] && ab_bench "window:150 bf16 D128" --graph window:150 --n 2^22 --dim 128 --dtype bf16 --repeats 10
  [ $r = 1 ] && [ $v = 0 ] && ab_bench "causal f16 D64 H16 (no split)" --graph causal --n 2^16 --heads 16 --dim 64 --dtype f16 --repeats 5
done; done
unset GRAPHATTN_WS_PARTS
echo "== the longer tests"
GA_EXPECT_WGMMA=1 GA_CUDA_TILE_SWEEP=150 timeout 200 $T persistent_tma_tiles_match_reference tile_sweep_matches_reference \
  tile_engine_paths_match_reference back_to_back_calls_see_each_others_writes 2>&1 | grep -E "FAIL|passed,|sweep:|fail|expected" | head -20
echo "== GRAPHATTN_WS=3 started (the test's expectations for three consumers)"
GRAPHATTN_WS=3 GA_EXPECT_WGMMA=1 timeout 100 $T split_rows_run_in_parts_and_match_reference persistent_tma_tiles_match_reference 2>&1 \
  | grep -E "FAIL|passed,|fail|expected" | head -10
for tool in memcheck racecheck; do
  t0=$SECONDS
  timeout 150 compute-sanitizer --tool $tool $T split_rows_run_in_parts_and_match_reference | grep -E "SUMMARY|passed,"
  echo "$tool: $((SECONDS - t0)) s"
done
