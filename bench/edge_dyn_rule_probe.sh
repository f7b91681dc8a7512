#!/usr/bin/env bash
# edge_dyn_rule_probe.sh -- one GPU call: the rows / row line under dynamic tasks (the default since
# run 81's landing: a warp takes its next task from a counter, so no warp waits for its block).
# Run 81 at bf16 D 64 (8 rows a warp) found the old spread bound (8x the mean + 32) wrong both ways
# with dynamic tasks: e8-256 rows mode 2.4x slower (the bound lets it in), e32-128 1.33x faster
# (the bound keeps it out). A rows-mode step costs the slower of a latency floor and its busy
# groups' share of a full step, so rows of which a few are long lose and rows of which half are
# long do not. This measures both modes on the uneven CSRs of bench/skew_csrs.py at 16 rows a warp
# (bf16 D 32), 4 (bf16 D 128, float32 D 64) and more at 8, for the planner's cost model.
# Tool: TOOL (default build-gpu/tools/graphattn, gpu-check's build on a warm machine).
# Prediction (bf16 D 64, from run 81's fit): skew-alt rows mode ~10% faster (half the groups
# busy), u0-64 rows faster, e8-64 and ss-e16-64 level within 15%, e8-128 row faster.
# Run: timeout 400 bash bench/edge_dyn_rule_probe.sh > $OUT/r.log 2>&1; tail -90 $OUT/r.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=${TOOL:-build-gpu/tools/graphattn}
[ -x "$G" ] || { echo "no tool at $G"; exit 1; }
for s in spread sparse skew wide; do python3 bench/skew_csrs.py $s > /dev/null || exit 1; done
export GRAPHATTN_NO_TILES=1
for cfg in "D32 bf16|--dim 32 --dtype bf16" "D128 bf16|--dim 128 --dtype bf16" "D64 f32|--dim 64 --dtype f32"; do
  l=${cfg%%|*}; a=${cfg#*|}
  echo "== $l"
  for c in ss-e16-64 ss-e32-128 ss-e16-128 sp-e64-512 sp-u0-64 sp-e8-64 skew-alt wd-e16-256 skew-zipf; do
    n=2^20; [ $c = skew-alt ] && n=2^18
    edge_modes "$c $l" $G --graph $(edge_csr $c) --n $n $a --repeats 3
  done
done
echo "== D64 bf16"
for c in skew-alt sp-u0-64 sp-e8-64 ss-e16-64 wd-e64-320 sp-e8-128; do
  n=2^20; [ $c = skew-alt ] && n=2^18
  edge_modes "$c D64 bf16" $G --graph $(edge_csr $c) --n $n --dim 64 --dtype bf16 --repeats 3
done
