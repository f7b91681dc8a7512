#!/usr/bin/env bash
# One GPU call: at D = 128, do P's row sums on the tensor cores (LS, the default where a call asks
# for no lse) pay, and do split rows in parts pay once they do not? Run 18 hints that they may not:
# causal bf16 D 128 H 16 (the split instance, fp32 row sums) read 31.0-31.5 ms while causal f16
# (unsplit, row sums on the tensor cores) read 32.3-34.4, and the bf16 parts (unsplit middle, with
# LS) made no difference (18b). At D = 128 the softmax is not the bound, so the ones-block wgmma
# (m64n8k16 per k-step of P V) may cost more than the ~30 FADDs per thread it saves.
# Settings (same build, alternating, two rounds): default; GRAPHATTN_WS_ROWSUM=0;
# GRAPHATTN_WS_PARTS=1; both. C tool medians in ms.
# Usage (repository root, GPU machine): timeout 400 bash bench/d128_ab.sh
set -u
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DGRAPHATTN_CUDA=ON >/dev/null && cmake --build build-gpu -j16 --target graphattn_cmd > /tmp/build-d128.log 2>&1
tail -1 /tmp/build-d128.log
G=build-gpu/tools/graphattn
[ -x $G ] || { tail -30 /tmp/build-d128.log; exit 1; }
. bench/ab_lib.sh
for r in 1 2; do for v in default rowsum0 parts1 both; do
  unset GRAPHATTN_WS_ROWSUM GRAPHATTN_WS_PARTS
  case $v in
    rowsum0) export GRAPHATTN_WS_ROWSUM=0 ;;
    parts1) export GRAPHATTN_WS_PARTS=1 ;;
    both) export GRAPHATTN_WS_ROWSUM=0 GRAPHATTN_WS_PARTS=1 ;;
  esac
  echo "== $v round $r"
  ab_bench "dense bf16 D128 H16" --graph dense --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 5
  ab_bench "causal bf16 D128 H16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 5
  ab_bench "causal f16 D128 H16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype f16 --repeats 5
  ab_bench "window D128" --graph window:256 --n 2^22 --dim 128 --dtype bf16 --repeats 10
  ab_bench "window D64 (LS reference)" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
done; done
