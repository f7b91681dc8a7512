#!/usr/bin/env bash
# One GPU call, no code change: why causal D = 256, H = 8 at 2^15 reads 8.8-9.0 ms in
# gpu_bench.py (runs 25b, 26b) where the C tool measured 7.7-7.85 ms in run 18e (and Python 8.39
# in run 16). The same call three ways, alternating: the C tool (bf16, f16; the two-consumer and
# one-consumer warp-specialized kernels), the gpu_bench case alone on a cool card, and the C tool
# again right after the gpu_bench dense / causal D 128 H 16 cases (a hot card: the power state
# of runs 12e and 26b). Needs build-gpu (scripts/gpu-check builds it; or this script does).
set -u
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DGRAPHATTN_CUDA=ON >/dev/null &&
  cmake --build build-gpu -j16 --target graphattn_cmd graphattn > /tmp/build.log 2>&1 || { tail -20 /tmp/build.log; exit 1; }
G=build-gpu/tools/graphattn
c() { timeout 60 $G bench --graph causal --n 2^15 --heads 8 --dim 256 --device cuda --repeats 10 "$@" 2>/dev/null | grep -E "^ +[0-9]"; }
py() { GRAPHATTN_LIBRARY=$PWD/build-gpu/libgraphattn.so timeout 200 python3 bench/gpu_bench.py --no-peers --cases "$1" 2>&1 |
  grep -E "^ +(causal|dense)" ; }
for r in 1 2; do
  echo "== round $r: C tool bf16 / f16 / bf16 one consumer (GRAPHATTN_WS256=1) / bf16 two (=2)"
  c --dtype bf16; c --dtype f16; GRAPHATTN_WS256=1 c --dtype bf16; GRAPHATTN_WS256=2 c --dtype bf16
  echo "== round $r: gpu_bench causal-d256 alone"; py causal-d256
done
echo "== after dense and causal D 128 H 16 (hot card): gpu_bench, then the C tool"
py dense,causal,causal-d256; c --dtype bf16
