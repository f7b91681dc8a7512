#!/usr/bin/env bash
# Where Longformer's query tiles (the warp-specialized kernel's listed-key instance, XK) spend
# more than the window kernel alone: ncu on the GPU machine, two parts.
#  1. each kernel's duration of window:256 and window:256+global:0..15 (bf16, D 64) at 2^18 and
#     2^20 (no cache flush, clocks not locked), as bench/longformer_kernels.sh, plus its executed
#     instructions: the split of a Longformer call into pass, query tiles and merge at small N;
#  2. source counters (executed instructions and warp stall samples per SASS instruction) of one
#     launch of tile_ws_kernel for each graph at 2^20, as CSV under $OUT (bench/ncu_xk_cmp.py
#     compares the two off the GPU machine).
# Run from the repository root after building the command (B, default build-gpu/tools/graphattn).
B=${B:-build-gpu/tools/graphattn}
NCU=${NCU:-$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)}
[ -x "$NCU" ] || { echo "ncu_xk: no ncu"; exit 0; }
OUTD=${OUT:-/tmp}
G=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
for n in 2^18 2^20; do
  for g in window:256 window:256+global:$G; do
    echo "== $g $n (kernel, us, instructions executed)"
    timeout 90 "$NCU" --metrics gpu__time_duration.sum,smsp__inst_executed.sum --cache-control none \
      --clock-control none "$B" bench --graph "$g" --n "$n" --dtype bf16 --device cuda --repeats 2 --warmup 1 2>&1 |
      awk '/^  [a-z_].*\(.*Context/ {k=substr($0, 3, 60)} /gpu__time_duration.sum/ {d=$NF} /smsp__inst_executed.sum/ {print k, d, $NF}'
  done
done
for g in window:256 window:256+global:$G; do
  name=$([ "$g" = window:256 ] && echo window || echo longformer)
  timeout 150 "$NCU" --section SourceCounters --section WarpStateStats --section SpeedOfLight -k regex:tile_ws \
    --launch-count 1 -f -o "/tmp/ncu-$name" \
    "$B" bench --graph "$g" --n 2^20 --dtype bf16 --device cuda --repeats 1 --warmup 0 > "/tmp/ncu-$name.log" 2>&1
  tail -2 "/tmp/ncu-$name.log"
  "$NCU" --import "/tmp/ncu-$name.ncu-rep" --page details > "$OUTD/ncu-xk-$name-summary.txt" 2>&1
  "$NCU" --import "/tmp/ncu-$name.ncu-rep" --page source --print-source sass --csv > "$OUTD/ncu-xk-$name-source.csv" 2>&1
  echo "$name: $(wc -l < "$OUTD/ncu-xk-$name-source.csv") source lines"
  grep -E "Duration|Issue Slots Busy|Warp Cycles Per Issued|Executed Ipc Active|SM Frequency" "$OUTD/ncu-xk-$name-summary.txt" | head -8
done
