#!/usr/bin/env bash
# ncu_wd.sh -- one GPU call (run 47): where the window kernel's time goes against the dense one's,
# both on the D 64 warp-specialized kernel (bf16, four consumers). At run 46 dense D 64 (H 16,
# 2^16) ran 510 useful TFLOP/s and window 513 at 2^24 415 TFLOP/s on the tiles it computes (9 key
# tiles of 64 per 64-row query tile: 576 keys for 513); at dense's rate per computed tile the
# window would take ~4.85 ms at 2^24 (target 5, now 5.96). The difference is per query tile
# (Q loads, the first tile's full softmax step, the two masked tiles, the epilogue: 9 key tiles
# each against 1024 in dense) or power. ncu (clocks locked at base by ncu, one launch each):
# duration, SM clock, issue-slot and tensor-pipe use, instructions per warp, stall reasons.
# B: the tool (build-carry5: c356c5c's library).
# Ran as run 47 (bench/RESULTS.md).
# Run: timeout 200 bash bench/ncu_wd.sh > $OUT/ncu.log 2>&1; cat $OUT/ncu.log
set -u
cd "$(dirname "$0")/.."
B=${B:-build-carry5/tools/graphattn}
NCU=${NCU:-$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)}
[ -x "$NCU" ] || { echo "no ncu"; exit 0; }
prof() { # LABEL ARGS...
  local l=$1; shift
  echo "== $l"
  timeout 80 "$NCU" --section SpeedOfLight --section ComputeWorkloadAnalysis --section WarpStateStats \
    --section InstructionStats --page raw -k regex:tile_ws_kernel -c 1 "$B" bench "$@" --dtype bf16 --device cuda \
    --repeats 1 --warmup 0 > /tmp/ncu-raw.txt 2>&1
  NI=$((${NI:-0} + 1)); cp /tmp/ncu-raw.txt "${OUT:-/tmp}/ncu-wd-$NI.txt"
  grep -E "tile_ws_kernel|==ERR|rror" /tmp/ncu-raw.txt | cut -c1-160 | head -3
  grep -E "gpu__time_duration.sum|sm__cycles_elapsed.avg.per_second|smsp__inst_executed.sum |issue_active|pipe_tensor.*(pct|active)|inst_executed_pipe_[a-z_]+.(sum|avg.pct)|warp_issue_stalled_[a-z_]+_per_warp_active.pct|dram__throughput.avg.pct|sm__throughput.avg.pct" \
    /tmp/ncu-raw.txt | sed 's/  */ /g' | awk '$NF != "0" && $NF != "0.00"' | cut -c1-150
}
prof "window 513, 2^22" --graph window:256 --n 2^22
prof "dense D64 H16, 2^14" --graph dense --n 2^14 --heads 16
prof "window:64 2^22" --graph window:64 --n 2^22
