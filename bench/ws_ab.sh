#!/usr/bin/env bash
# The warp-specialized kernel (plain intervals, bf16/f16, D 64) against the persistent TMA kernel
# (GRAPHATTN_WS=0) and the default choice, on the window at 2^16..2^24 and f16 at 2^22.
# Run on the GPU machine after building build-gpu (targets graphattn_cmd and test_cuda suffice).
# TESTS=1 first runs the tile tests with each forced consumer count (NCS, default "4 3").
# VARIANTS (e.g. GRAPHATTN_WS_ROWSUM=0): extra environment settings (space-separated NAME=VALUE words, one variant per
# comma-separated group) to test and time with GRAPHATTN_WS=4, for experiments on a branch.
# NS: the sizes (default 2^16 .. 2^24; set, the f16 row is left out).
# Every call has a timeout (a kernel that hangs costs 60 s, not the whole device call) and each
# number is printed as soon as it is measured.
B=${B:-build-gpu/tools/graphattn}
T=${T:-$(find build-gpu -name test_cuda -type f | head -1)}
NCS=${NCS:-4 3}
IFS=, read -r -a VARS <<< "${VARIANTS:-}"
tests=(persistent_tma_tiles_match_reference tile_sweep_matches_reference output_written_over_q_matches_reference
  unequal_query_and_key_counts_align_bottom_right listed_tokens_run_with_the_tiles_and_match_reference)
if [ "${TESTS:-0}" = 1 ]; then
  for ws in $NCS; do
    GA_EXPECT_WGMMA=1 GRAPHATTN_WS=$ws GA_CUDA_SWEEP=200 timeout 60 $T "${tests[@]}" > /tmp/ws$ws.log 2>&1
    echo "GRAPHATTN_WS=$ws tests: rc=$? $(tail -1 /tmp/ws$ws.log)"; grep -m3 "FAIL\|expected" /tmp/ws$ws.log
  done
  for v in "${VARS[@]}"; do
    env GA_EXPECT_WGMMA=1 GRAPHATTN_WS=4 $v GA_CUDA_SWEEP=200 timeout 60 $T "${tests[@]}" > /tmp/wsv.log 2>&1
    echo "GRAPHATTN_WS=4 $v tests: rc=$? $(tail -1 /tmp/wsv.log)"; grep -m3 "FAIL\|expected" /tmp/wsv.log
  done
fi
ms() { timeout 60 env "$@" 2>/dev/null | tail -1 | awk '{print $3}'; }
row() {
  printf '%-24s tma %8s  default %8s' "$1" "$(ms GRAPHATTN_WS=0 $B "${@:2}")" "$(ms $B "${@:2}")"
  for ws in $NCS; do printf '  ws=%s %8s' $ws "$(ms GRAPHATTN_WS=$ws $B "${@:2}")"; done
  for v in "${VARS[@]}"; do printf '  [%s] %8s' "$v" "$(ms GRAPHATTN_WS=4 $v $B "${@:2}")"; done
  printf '\n'
}
for n in ${NS:-2^16 2^17 2^18 2^20 2^22 2^24}; do
  row "window:256 $n" bench --graph window:256 --n $n --dtype bf16 --device cuda --repeats 10
done
[ -n "${NS:-}" ] || row "window:256 2^22 f16" bench --graph window:256 --n 2^22 --dtype f16 --device cuda --repeats 10
