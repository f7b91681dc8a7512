#!/usr/bin/env bash
# bench/tile_variants.sh BUILD_DIR -- the tensor-core tile kernels side by side on one GPU:
# mma.sync and the Hopper wgmma kernel's configurations (GRAPHATTN_WGMMA_CONFIG, see tile_wgmma.cu),
# each first checked by the GPU tile tests, then timed with `graphattn bench`
# (bf16, H=1, D=64 window 256 each side; dense H=16 D=128). Prints one table at the end.
set -uo pipefail
B=${1:-build-gpu}
tool=$B/tools/graphattn
variants=${VARIANTS:-"mma 1 4 2"}
ns=${WINDOW_N:-2^20,2^24}
rows=()
for v in $variants; do
  if [ "$v" = mma ]; then envs=(GRAPHATTN_NO_WGMMA=1); else envs=(GRAPHATTN_WGMMA_CONFIG=$v); fi
  t=$(env "${envs[@]}" GA_CUDA_TILE_SWEEP=${TILE_SWEEP:-60} "$B/tests/test_cuda" tile_sweep_matches_reference \
      tile_engine_paths_match_reference tile_engine_accumulates_into_a_prior_state 2>&1 | tail -40)
  ok=$(echo "$t" | grep -c "FAIL")
  [ "$ok" = 0 ] && tests=pass || { tests="FAIL($ok)"; echo "$t" | grep FAIL | head -5; }
  w=$(env "${envs[@]}" "$tool" bench --graph window:256 --n "$ns" --dtype bf16 --device cuda --repeats 10 2>/dev/null |
      awk '/^ *[0-9]/{printf "%s ", $0}')
  d=$(env "${envs[@]}" "$tool" bench --graph dense --n 2^16 --heads 16 --dim 128 --dtype bf16 --device cuda --repeats 3 2>/dev/null |
      awk '/^ *[0-9]/{printf "%s ", $0}')
  rows+=("$(printf '%-4s tests=%-8s window: %s\n        dense H16 D128: %s' "$v" "$tests" "$w" "$d")")
done
printf '%s\n' "${rows[@]}"
