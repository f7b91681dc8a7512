#!/usr/bin/env bash
# The tile kernels' own durations (ncu's gpu__time_duration, no cache flush, clocks not locked)
# on the window at small and large N, for the TMA kernel (GRAPHATTN_WS=0) and the default
# choice: the fixed cost of a call's kernel (ramp and tail) apart from the host's and the gaps
# between calls. Run on the GPU machine after building build-gpu (graphattn_cmd suffices).
# NS: the sizes (default 2^14 .. 2^18, 2^20, 2^22); CHOICES: GRAPHATTN_WS values (default "0 default";
# default: the variable unset).
B=${B:-build-gpu/tools/graphattn}
NCU=${NCU:-$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)}
[ -x "$NCU" ] || { echo "kernel_time: no ncu"; exit 0; }
printf '%-8s %-10s %s\n' N choice "kernel us (3 calls after 2 warm-up)"
for n in ${NS:-2^14 2^15 2^16 2^17 2^18 2^20 2^22}; do
  for ws in ${CHOICES:-0 default}; do
    env $( [ $ws = default ] || echo GRAPHATTN_WS=$ws ) timeout 120 "$NCU" --metrics gpu__time_duration.sum \
      --cache-control none --clock-control none -k regex:tile_ --launch-skip 2 --launch-count 3 \
      $B bench --graph window:256 --n $n --dtype bf16 --device cuda --repeats 5 > /tmp/kt.log 2>&1
    printf '%-8s %-10s %s\n' $n $ws "$(awk '/gpu__time_duration.sum/ {u=$(NF-1); v=$NF; if (u ~ /^ms/) v*=1000; if (u ~ /^ns/) v/=1000; printf "%.2f ", v}' /tmp/kt.log)"
  done
done
