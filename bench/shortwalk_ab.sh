#!/usr/bin/env bash
# One GPU call (run by bench/patches/run-all.sh inside build-p, the patched copy; `..` is main):
# bench/patches/shortwalk.patch, second form (run 25a). At head dim 64, a plain interval whose
# middle 64-row query tile walks 3 key tiles or more goes to the persistent Hopper kernels (the
# warp-specialized one) however few keys its rows have; main asks for 192 keys in the middle
# row. Run 25's first call (the first form: every D 64 call persistent) measured window:16 / :32 /
# :64 at 2^22 9-12% faster and blocks:64 / :128 11-12% slower (1 and 2 key tiles per query
# tile); this form keeps blocks under 192 on the cp.async kernel. Prediction: the windows as in
# that call (9-12% faster), blocks:64 / :128 and window 513 unchanged. The tests run under ctest
# in parallel (the first call's serial run of them did not finish in 300 s); the kernel counts
# they check are minimums, so none is expected to move. Last, ncu on window:16's persistent
# kernel (speed of light, warp states), for the next step on narrow windows.
set -u
. bench/ab_lib.sh
ab_build .. || exit 1
ab_tests 300 tile_sweep_matches_reference persistent_tma_tiles_match_reference tile_engine_paths_match_reference \
  every_component_kind_matches_reference documents_run_as_ranges_on_the_tiles_and_match_reference \
  split_rows_run_in_parts_and_match_reference ranges_split_rows_run_in_parts_and_match_reference \
  padded_head_dims_run_on_the_hopper_tiles_and_match_reference head_dim_256_runs_on_the_tiles_and_matches_reference \
  listed_tokens_run_with_the_tiles_and_match_reference output_written_over_q_matches_reference \
  narrow_windows_at_head_dim_64_run_on_the_persistent_kernels || exit 1
ab_sanitizers tile_sweep_matches_reference || exit 1
cases() {
  for w in 16 32 64 128; do
    ab_bench "window:$w 2^22" --graph window:$w --n 2^22 --dim 64 --dtype bf16 --repeats 10
  done
  ab_bench "window:32 2^20" --graph window:32 --n 2^20 --dim 64 --dtype bf16 --repeats 20
  ab_bench "blocks:64 2^22" --graph blocks:64 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "blocks:128 2^22" --graph blocks:128 --n 2^22 --dim 64 --dtype bf16 --repeats 10
  ab_bench "window 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
}
ab_rounds patched cases
echo "== ncu: window:16 at 2^22 on the persistent kernel (patched)"
timeout 90 ncu -k regex:tile_ws --launch-skip 1 --launch-count 1 --section SpeedOfLight --section WarpStateStats \
  --section Occupancy "$B" bench --graph window:16 --n 2^22 --dim 64 --dtype bf16 --repeats 2 --device cuda 2>&1 \
  | grep -vE "^==PROF==|^ +-+$|^$" | head -70
