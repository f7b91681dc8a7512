#!/usr/bin/env bash
# One GPU call (run by bench/patches/run-all.sh inside build-p, the patched copy; `..` is main):
# bench/patches/ksh.patch. The warp-specialized kernel's key tiles at D = 64 start ksh keys early
# for a window (ws_key_shift: ksh = -lo_off mod 64), so that each query tile's walk starts on a
# tile's edge: 64 + L + R keys span ceil((64 + L + R) / 64) tiles, one fewer than on tiles at
# multiples of 64 where L mod 64 is 1..32. The first tile then starts before key 0 (the copy
# engine's zero rows, masked: the rows' lower bounds are clipped at key 0, no longer at -1).
# Predictions: window:16 / :32 at 2^22 (3 -> 2 key tiles per query tile, every one of them
# masked either way; 6 -> 5 K/V tiles per super tile) 10-15% faster; window:144 (7 -> 6) 5-8%; window:48 and
# window:100 (no tile fewer) and window 513 (L = 256: no shift) unchanged within 1%, as is
# causal. Three builds' worth of rows per round: main, the patch, the patch with the shift off
# (GRAPHATTN_NO_KSH=1: its per-query-tile code alone). Tests first (ab_tests: the tile tests,
# the sweep's random windows on the warp-specialized pass); no timings unless they pass.
set -u
. bench/ab_lib.sh
ab_build .. || exit 1
ab_tests 300 tile_sweep_matches_reference persistent_tma_tiles_match_reference tile_engine_paths_match_reference \
  every_component_kind_matches_reference documents_run_as_ranges_on_the_tiles_and_match_reference \
  split_rows_run_in_parts_and_match_reference ranges_split_rows_run_in_parts_and_match_reference \
  padded_head_dims_run_on_the_hopper_tiles_and_match_reference head_dim_256_runs_on_the_tiles_and_matches_reference \
  listed_tokens_run_with_the_tiles_and_match_reference output_written_over_q_matches_reference \
  narrow_windows_at_head_dim_64_run_on_the_persistent_kernels back_to_back_calls_see_each_others_writes || exit 1
ab_sanitizers tile_sweep_matches_reference || exit 1
cases() {
  for w in 16 32 48 100 144; do
    ab_bench "window:$w 2^22" --graph window:$w --n 2^22 --dim 64 --dtype bf16 --repeats 10
  done
  ab_bench "window:32 2^20" --graph window:32 --n 2^20 --dim 64 --dtype bf16 --repeats 20
  ab_bench "window 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "window 2^24" --graph window:256 --n 2^24 --dim 64 --dtype bf16 --repeats 5
  ab_bench "causal H16 2^16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 3
}
for r in 1 2; do
  G=$M; echo "== main round $r"; cases
  G=$B; echo "== ksh round $r"; cases
  echo "== ksh off (GRAPHATTN_NO_KSH=1) round $r"; GRAPHATTN_NO_KSH=1 cases
done
