#!/usr/bin/env bash
# The warp-specialized kernel (GRAPHATTN_WS=<NC>, bf16 D 64 intervals) against the TMA kernel:
# its correctness tests first (each NC), then the window at 2^20..2^24 and causal H16 D64.
# Run on the GPU machine after building build-gpu (targets graphattn_cmd and test_cuda suffice).
B=${B:-build-gpu/tools/graphattn}
T=${T:-$(find build-gpu -name test_cuda -type f | head -1)}
for ws in 3 2 4; do
  GRAPHATTN_WS=$ws GA_CUDA_SWEEP=200 timeout 90 $T persistent_tma_tiles_match_reference tile_sweep_matches_reference \
    output_written_over_q_matches_reference unequal_query_and_key_counts_align_bottom_right > /tmp/ws$ws.log 2>&1
  echo "GRAPHATTN_WS=$ws tests: rc=$? $(tail -1 /tmp/ws$ws.log)"
done
ms() { env "$@" 2>/dev/null | tail -1 | awk '{print $3}'; }
printf '%-22s %10s %10s %10s %10s\n' case tma ws=3 ws=2 ws=4
for n in 2^20 2^22 2^24; do
  a=(bench --graph window:256 --n $n --dtype bf16 --device cuda --repeats 10)
  printf '%-22s %10s %10s %10s %10s\n' "window:256 $n" "$(ms $B "${a[@]}")" "$(ms GRAPHATTN_WS=3 $B "${a[@]}")" \
    "$(ms GRAPHATTN_WS=2 $B "${a[@]}")" "$(ms GRAPHATTN_WS=4 $B "${a[@]}")"
done
a=(bench --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --device cuda --repeats 5)
printf '%-22s %10s %10s %10s %10s\n' "causal H16 D64 2^16" "$(ms $B "${a[@]}")" "$(ms GRAPHATTN_WS=3 $B "${a[@]}")" \
  "$(ms GRAPHATTN_WS=2 $B "${a[@]}")" "$(ms GRAPHATTN_WS=4 $B "${a[@]}")"
