# xmerge_ab.sh -- Longformer's listed-row merge rewritten and the pass's chunk count (run 35), one
# call of the GPU machine: build, the tests that run listed rows (default settings, then the
# listed-token and NaN tests with the pass in chunks for 396 CTAs and with the old merge), the
# A/B (bench/xmerge_ab.py; predictions in its docstring), memcheck and racecheck on the listed-token
# test, pytest's CUDA-graph and Longformer tests.
# Needs the experiment's build: main since run 35 plus bench/patches/xmerge-exp.patch (the old merge
# behind GRAPHATTN_OLD_XMERGE=1, the chunk target GRAPHATTN_XCHUNK_CTAS); on main alone its "old"
# and "n396" settings run the new merge with main's chunks.
# Run: timeout 585 bash bench/xmerge_ab.sh > $OUT/xmerge.log 2>&1; tail -80 $OUT/xmerge.log
set -u
. bench/ab_lib.sh
ab_build_this || exit 1
GA_CUDA_SWEEP=100 ab_tests 200 listed_tokens_run_with_the_tiles_and_match_reference \
  back_to_back_calls_see_each_others_writes bigbird_runs_on_the_tiles_and_matches_reference \
  output_written_over_q_matches_reference tile_engine_accumulates_into_a_prior_state \
  unions_match_reference nan_inputs_make_their_rows_nan || exit 1
echo "== with GRAPHATTN_XCHUNK_CTAS=396"
GRAPHATTN_XCHUNK_CTAS=396 GA_CUDA_SWEEP=100 ab_tests 150 listed_tokens_run_with_the_tiles_and_match_reference \
  nan_inputs_make_their_rows_nan tile_engine_accumulates_into_a_prior_state || exit 1
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv
GRAPHATTN_LIBRARY=$PWD/build-gpu/libgraphattn.so timeout 200 python3 bench/xmerge_ab.py --rounds 4
ab_sanitizers listed_tokens_run_with_the_tiles_and_match_reference
GRAPHATTN_LIBRARY=$PWD/build-gpu/libgraphattn.so PYTHONPATH=$PWD/python timeout 90 python3 -m pytest -q -k "cuda_graph or longformer or global" tests/python/test_torch.py 2>&1 | tail -3
