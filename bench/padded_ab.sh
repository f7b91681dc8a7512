#!/usr/bin/env bash
# One GPU call for the padded head dims (landed in dcd5fc0; bench/RESULTS.md run 17a): multiples of
# 8 between 32 and 256 (not 64 or 128) on the persistent Hopper kernels, padded with zero columns.
# The padded test and the every-kind sweep, memcheck and racecheck on the padded test, then the
# window at D 96 / 160 / 48 against the edge engine (GRAPHATTN_NO_TILES=1) and against the next
# kernel head dim (what the padding costs).
set -u
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DGRAPHATTN_CUDA=ON >/dev/null && cmake --build build-gpu -j16 > /tmp/build.log 2>&1 || { tail -20 /tmp/build.log; exit 1; }
T=build-gpu/tests/test_cuda
GA_EXPECT_WGMMA=1 GA_CUDA_SWEEP=400 timeout 200 $T padded_head_dims_run_on_the_hopper_tiles_and_match_reference \
  every_component_kind_matches_reference 2>&1 | grep -E "FAIL|passed,|padded D:|fail" | head -20
for tool in memcheck racecheck; do
  timeout 120 compute-sanitizer --tool $tool --error-exitcode 99 $T padded_head_dims_run_on_the_hopper_tiles_and_match_reference \
    | grep -E "SUMMARY|passed,"
done
G=build-gpu/tools/graphattn
b() { timeout 60 "$@" 2>/dev/null | grep -E "^ +[0-9]"; }
for d in 96 160 48; do
  echo "== D $d: tiles (padded), edge engine, next kernel head dim"
  b $G bench --graph window:256 --n 2^20 --dim $d --dtype bf16 --device cuda --repeats 10
  GRAPHATTN_NO_TILES=1 b $G bench --graph window:256 --n 2^20 --dim $d --dtype bf16 --device cuda --repeats 3
  dk=$(( d < 64 ? 64 : d < 128 ? 128 : 256 ))
  b $G bench --graph window:256 --n 2^20 --dim $dk --dtype bf16 --device cuda --repeats 10
done
echo "== causal H 16 D 96, 2^15"
b $G bench --graph causal --n 2^15 --heads 16 --dim 96 --dtype bf16 --device cuda --repeats 5
