#!/usr/bin/env bash
# Where the D 64 window kernel's warps wait, per SASS instruction: ncu's source counters (warp
# stall sampling by reason, executed instructions) for one launch of tile_ws_kernel on
# window:256 at 2^22 (bf16, the default instance: four consumers, row sums on the tensor cores),
# written as CSV to $OUT/ncu-ws-source.csv (and the section summary to $OUT/ncu-ws-summary.txt)
# for reading off the GPU machine. Run after building build-gpu (graphattn_cmd suffices).
G=${G:-build-gpu/tools/graphattn}
NCU=${NCU:-$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)}
[ -x "$NCU" ] || { echo "ncu_source: no ncu"; exit 0; }
OUTD=${OUT:-/tmp}
timeout 240 "$NCU" --section SourceCounters --section WarpStateStats --section ComputeWorkloadAnalysis \
  --section SpeedOfLight -k regex:tile_ws --launch-count 1 -f -o /tmp/ncu-ws \
  $G bench --graph window:256 --n 2^22 --dtype bf16 --device cuda --repeats 1 --warmup 0 > /tmp/ncu-run.log 2>&1
tail -3 /tmp/ncu-run.log
"$NCU" --import /tmp/ncu-ws.ncu-rep --page details > "$OUTD/ncu-ws-summary.txt" 2>&1
"$NCU" --import /tmp/ncu-ws.ncu-rep --page source --print-source sass --csv > "$OUTD/ncu-ws-source.csv" 2>&1
wc -l "$OUTD/ncu-ws-source.csv"; head -c 600 "$OUTD/ncu-ws-source.csv"; echo
grep -E "Duration|Issue Slots Busy|Warp Cycles Per Issued|No Eligible|Eligible Warps" "$OUTD/ncu-ws-summary.txt" | head -12
