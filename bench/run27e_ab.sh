#!/usr/bin/env bash
# One GPU call (run 27e): this tree against main at 50e3994 (build-tgz/50e3994.tgz, a git archive;
# carried, not committed). Two changes, both from run 27's measurements:
#  - padwalk.patch landed with a narrower D 32 rule: D 32 takes the warp-specialized kernel for a
#    short walk only where the key-tile shift brings its middle query tile to 2 tiles (window:8
#    to :32), not window:40 / :48 / :64 (3 tiles, 2-6% slower there in run 27d);
#  - tile_ws_kernel: the opaque shared-memory base (1e35e0e) not at D = 256, which run 27d
#    bisected as the 4-6% step in causal D 256 H 8 at 2^15.
# Predictions: D 32 window:16 / :32 ~0.93 ms (main 1.17), window:64 = main (1.08); padded short
# walks as run 27b (window:20 D 96 16.0 -> 1.8 ms); causal D 256 H 8 2^15 ~7.8 ms (main 8.2-8.4);
# window D 256 2^20 within 2% of main (not measured in run 24a); D 64 and D 128 unchanged.
# Tests first (the changed tests, the D 256 and persistent-kernel tests, the routing test): no
# timings unless they pass.
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
rm -rf build-m && mkdir build-m && tar -xzf build-tgz/50e3994.tgz -C build-m
ab_build build-m || exit 1
GA_CUDA_SWEEP=100 ab_tests 200 head_dim_32_runs_padded_on_the_persistent_kernels_and_matches_reference \
  padded_head_dims_run_on_the_hopper_tiles_and_match_reference head_dim_256_runs_on_the_tiles_and_matches_reference \
  persistent_tma_tiles_match_reference narrow_windows_at_head_dim_64_run_on_the_persistent_kernels \
  hopper_tile_kernel_is_used_where_expected with_tensor_core_row_sums split_rows_run_in_parts_and_match_reference || exit 1
cases() {
  ab_bench "causal D256 H8 2^15" --graph causal --n 2^15 --heads 8 --dim 256 --dtype bf16 --repeats 10
  ab_bench "window D256 2^20" --graph window:256 --n 2^20 --dim 256 --dtype bf16 --repeats 10
  ab_bench "window:16 D32 2^22" --graph window:16 --n 2^22 --dim 32 --dtype bf16 --repeats 10
  ab_bench "window:32 D32 2^22" --graph window:32 --n 2^22 --dim 32 --dtype bf16 --repeats 10
  ab_bench "window:64 D32 2^22" --graph window:64 --n 2^22 --dim 32 --dtype bf16 --repeats 10
  ab_bench "window:20 D96 2^22" --graph window:20 --n 2^22 --dim 96 --dtype bf16 --repeats 5
  ab_bench "window D64 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
}
ab_rounds this cases
