#!/usr/bin/env bash
# A/B: the TMA kernel vs GRAPHATTN_NO_TMA (cp.async) on the CLI bench
B=build-gpu/tools/graphattn
run() { # label [VAR=value ...] command args...: one line with the median ms and TFLOP/s
  local label=$1; shift
  printf '%-34s' "$label"; env "$@" 2>/dev/null | tail -1 | awk '{printf "%10s ms  %8s TFLOP/s\n", $3, $5}'
}
for spec_n in "window:256 2^20" "window:256 2^24" "window:32 2^22" "blocks:128 2^22"; do
  set -- $spec_n
  run "$1 N=$2 tma" $B bench --graph $1 --n $2 --dtype bf16 --device cuda --repeats 10
  run "$1 N=$2 cp.async" GRAPHATTN_NO_TMA=1 $B bench --graph $1 --n $2 --dtype bf16 --device cuda --repeats 10
done
for spec in causal dense; do
  run "$spec H16 D128 tma" $B bench --graph $spec --n 65536 --heads 16 --dim 128 --dtype bf16 --device cuda --repeats 5
  run "$spec H16 D128 cp.async" GRAPHATTN_NO_TMA=1 $B bench --graph $spec --n 65536 --heads 16 --dim 128 --dtype bf16 --device cuda --repeats 5
done
