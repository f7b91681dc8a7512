#!/usr/bin/env bash
# ring_ab.sh -- one GPU call (run 48): the warp-specialized kernel's consumers taking their key
# tiles' softmax in turn (GRAPHATTN_WS_RING, a ring of named barriers; one build, build-carry6)
# against the free-for-all of main's code (the variable unset). Why: run 47's ncu put a key tile
# at ~456 SM cycles in the window and in dense, where its tensor work and its exponentials take
# ~256 each; with the four consumers at the same phase (they start each super tile together)
# their softmaxes share the MUFU pipes and their products the tensor cores, and neither runs
# beside the other. One softmax at a time should keep the MUFU pipes busy back to back while
# the other consumers' products run. Mode 1 passes the turn after the softmax step, mode 2 once
# the exponentials are issued (before their sums).
# Predictions: results bit-identical (the ring changes no arithmetic); dense D 64 H 16 and window
# 513 10-25% faster if the convoy is the loss, level or slower if the barriers' waits cost more
# than the overlap gains; D 256 (two consumers) level.
# Order: timings first (off / 1 / 2, two rounds, order reversed), then checks of the three modes
# (deadlocks cut by timeouts) and a few test_cuda tests under each mode. (The first attempt ran
# its checks first with 20,000-100,000 sampled rows: the one-thread fp64 reference took 60 s a
# call and the call's 585 s ran out before any timing; run 48a.)
# Needs bench/patches/ring.patch applied to a build in build-carry6 (Release sm_90a).
# Run: timeout 400 bash bench/ring_ab.sh > $OUT/ring.log 2>&1; tail -150 $OUT/ring.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
G=build-carry6/tools/graphattn T=build-carry6/tests/test_cuda
[ -x "$G" ] && [ -x "$T" ] || { echo "no build-carry6"; exit 1; }
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader || true
chk() { # LABEL ARGS...: each mode's `check` line
  local l=$1 m r; shift
  for m in off 1 2; do
    if [ $m = off ]; then unset GRAPHATTN_WS_RING; else export GRAPHATTN_WS_RING=$m; fi
    r=$(timeout 60 "$G" check "$@" --device cuda 2>&1 | grep -iE "max|pass|fail" | tr '\n' ' ')
    echo "$m $l: rc=$? $r"
  done
  unset GRAPHATTN_WS_RING
}
cases() {
  ab_d64_cases
  ab_bench "window:256 D256 2^20" --graph window:256 --n 2^20 --dim 256 --dtype bf16 --repeats 5
}
for r in 1 2; do
  if [ $r = 1 ]; then order="off 1 2"; else order="2 1 off"; fi
  for m in $order; do
    echo "== ring $m round $r"
    if [ $m = off ]; then unset GRAPHATTN_WS_RING; else export GRAPHATTN_WS_RING=$m; fi
    cases
  done
done
unset GRAPHATTN_WS_RING
echo "== checks (small row samples: the fp64 reference is one thread)"
chk "causal 2^14 H4 bf16" --graph causal --n 2^14 --heads 4 --dtype bf16 --rows 300
chk "documents 2^18 f16" --graph "documents:$(ab_docs 262144 100 300 700 1500 3000 200)" --n 2^18 --dtype f16 --rows 1000
chk "causal documents 2^18 bf16" --graph "causal_documents:$(ab_docs 262144 100 300 700 1500 3000 200)" --n 2^18 --dtype bf16 --rows 1000
for m in 1 2; do
  echo "== test_cuda under GRAPHATTN_WS_RING=$m"
  for t in tile_sweep_matches_reference optimistic_softmax_retries_where_scores_climb_and_matches_reference \
           documents_run_as_ranges_on_the_tiles_and_match_reference; do
    GRAPHATTN_WS_RING=$m GA_EXPECT_WGMMA=1 GA_CUDA_TILE_SWEEP=60 timeout 40 "$T" $t > /tmp/rt.log 2>&1
    echo "$t rc=$? $(grep -E 'FAIL|passed|failed' /tmp/rt.log | head -2 | tr '\n' ' ')"
  done
done
