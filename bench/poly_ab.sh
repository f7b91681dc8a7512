#!/usr/bin/env bash
# poly_ab.sh -- one GPU call (run 49): part of the optimistic softmax step's exponentials on the
# FMA pipes (poly_exp2: a cubic and the exponent's bits, GA_POLY_PAIRS column pairs of each row's
# 8 per tile, a compile definition) against main's MUFU.EX2 for all. Why: run 47 put a D 64 key
# tile at ~456 SM cycles, its 4,096 MUFU.EX2 at 256 of them (16 a cycle per SM) beside 256 of
# tensor work; the FMA pipe was 21-23% busy. Builds (Release sm_90a, gzip in build-carrypoly):
# main = build-carry5 (c356c5c's kernels), pp1 = GA_POLY_PAIRS=1 (4 of 32 exponentials a thread,
# 12.5%), pp2 = 2 (25%), pp2's test_cuda.
# Predictions: outputs within the tolerances (poly_exp2's relative error 1.0e-4, under bf16's
# rounding of P); if the MUFU pipe bounds the key tile, dense D 64 and window 513 2-8% faster at
# pp1 and more at pp2; if issue slots bound it (51-55% busy, +8 instructions per emulated
# exponential), level or slower, pp2 more so.
# Run: timeout 400 bash bench/poly_ab.sh > $OUT/poly.log 2>&1; tail -120 $OUT/poly.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_unpack main pp1 pp2 pp2test || exit 1
T=build-carrypoly/bin/pp2test
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader || true
echo "== test_cuda (pp2)"
for t in nan_inputs_make_their_rows_nan large_logits_stay_finite_and_correct tile_sweep_matches_reference \
         optimistic_softmax_retries_where_scores_climb_and_matches_reference persistent_tma_tiles_match_reference \
         rows_without_edges_give_zero_and_negative_infinity; do
  GA_EXPECT_WGMMA=1 GA_CUDA_TILE_SWEEP=100 timeout 60 "$T" $t > /tmp/pt.log 2>&1
  echo "$t rc=$? $(grep -E 'FAIL|passed|failed|retries' /tmp/pt.log | head -4 | tr '\n' ' ')"
done
echo "== checks (small row samples: the fp64 reference is one thread)"
chk() { # LABEL ARGS...: each build's `check` line
  local l=$1 b r; shift
  for b in main pp1 pp2; do
    r=$(timeout 60 build-carrypoly/bin/$b check "$@" --device cuda 2>&1 | grep -iE "max|pass|fail" | tr '\n' ' ')
    echo "$b $l: $r"
  done
}
chk "window:256 2^20 bf16" --graph window:256 --n 2^20 --dtype bf16 --rows 3000
chk "window:256 2^20 f16" --graph window:256 --n 2^20 --dtype f16 --rows 3000
chk "window:64 2^20 bf16" --graph window:64 --n 2^20 --dtype bf16 --rows 3000
chk "dense 2^13 H2 bf16" --graph dense --n 2^13 --heads 2 --dtype bf16 --rows 300
chk "causal 2^14 H4 bf16" --graph causal --n 2^14 --heads 4 --dtype bf16 --rows 300
cases() {
  ab_bench "window:256 2^22" --graph window:256 --n 2^22 --dtype bf16 --repeats 10
  ab_bench "window:256 2^24" --graph window:256 --n 2^24 --dtype bf16 --repeats 5
  ab_bench "window:256 f16 2^22" --graph window:256 --n 2^22 --dtype f16 --repeats 10
  ab_bench "window:64 2^22" --graph window:64 --n 2^22 --dtype bf16 --repeats 10
  ab_bench "dense D64 H16 2^14" --graph dense --n 2^14 --heads 16 --dtype bf16 --repeats 5
  ab_bench "causal D64 H16 2^16" --graph causal --n 2^16 --heads 16 --dtype bf16 --repeats 3
}
for r in 1 2; do
  if [ $r = 1 ]; then order="main pp1 pp2"; else order="pp2 pp1 main"; fi
  for b in $order; do
    echo "== $b round $r"
    G=build-carrypoly/bin/$b
    cases
  done
done
