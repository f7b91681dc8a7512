#!/usr/bin/env bash
# The warp-specialized kernel (GRAPHATTN_WS=<NC>, bf16 D 64 intervals) against the TMA kernel:
# its correctness tests first (each NC), then the window at 2^20..2^24 and causal H16 D64.
# Run on the GPU machine after building build-gpu (targets graphattn_cmd and test_cuda suffice).
# Every call has a timeout (a kernel that hangs costs 30 s, not the whole device call) and each
# number is printed as soon as it is measured. NCS picks the variants (default "3 2 4").
B=${B:-build-gpu/tools/graphattn}
T=${T:-$(find build-gpu -name test_cuda -type f | head -1)}
NCS=${NCS:-3 2 4}
for ws in $NCS; do
  GRAPHATTN_WS=$ws GA_CUDA_SWEEP=200 timeout 60 $T persistent_tma_tiles_match_reference tile_sweep_matches_reference \
    output_written_over_q_matches_reference unequal_query_and_key_counts_align_bottom_right > /tmp/ws$ws.log 2>&1
  echo "GRAPHATTN_WS=$ws tests: rc=$? $(tail -1 /tmp/ws$ws.log)"
done
ms() { timeout 30 env "$@" 2>/dev/null | tail -1 | awk '{print $3}'; }
row() {
  printf '%-22s tma %8s' "$1" "$(ms $B "${@:2}")"
  for ws in $NCS; do printf '  ws=%s %8s' $ws "$(ms GRAPHATTN_WS=$ws $B "${@:2}")"; done
  printf '\n'
}
for n in 2^20 2^22 2^24; do
  row "window:256 $n" bench --graph window:256 --n $n --dtype bf16 --device cuda --repeats 10
done
row "causal H16 D64 2^16" bench --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --device cuda --repeats 5
