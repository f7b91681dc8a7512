#!/usr/bin/env bash
# Is the long-running window kernel power- or clock-bound? For each case, the C tool's time per
# call with the tensor-core row sums on and off (GRAPHATTN_WS_ROWSUM), alternating, and the SM
# clock, power draw and clock-event reasons that nvidia-smi sampled while the card was busy
# (samples above BUSY_W watts; median). Run on the GPU machine after building build-gpu.
B=${B:-build-gpu/tools/graphattn}
nvidia-smi --query-gpu=power.limit,clocks.max.sm --format=csv
. "$(dirname "$0")/ab_lib.sh"
one() { ab_power "$@"; } # bench/ab_lib.sh: label env... -- bench args
for rep in 1 2; do
  for rsum in 1 0; do
    one "H1 2^22 rowsum=$rsum" GRAPHATTN_WS_ROWSUM=$rsum -- --graph window:256 --n 2^22 --dtype bf16 --device cuda --repeats 200
    [ $rep = 1 ] && one "H16 2^22 rowsum=$rsum" GRAPHATTN_WS_ROWSUM=$rsum -- --graph window:256 --n 2^22 --heads 16 --dtype bf16 --device cuda --repeats 20
    one "H1 2^24 rowsum=$rsum" GRAPHATTN_WS_ROWSUM=$rsum -- --graph window:256 --n 2^24 --dtype bf16 --device cuda --repeats 60
  done
done
