#!/usr/bin/env bash
# splitall_ab.sh -- one GPU call (run 42): the D 64 split-P instance of the warp-specialized kernel
# (tile_ws_kernel<bf16, 64, 4, ..., SPLIT>) splits every query tile it runs instead of choosing
# per tile. With the choice made at run time its loop held both P V forms, and ptxas waited for
# every one of its 13 wgmmas in turn (C7512, insufficient registers; 200 / 148 bytes of spills);
# with it fixed, 2 of 12 (one per product, as the unsplit instance), 24 / 28 bytes.
# GRAPHATTN_SPLIT_MIXED=1 launched the per-tile instance as before: a switch of the measured build
# alone (run 42), not landed, so on main both rounds run the same instance.
# Predictions: bf16 windows under 256 keys (the whole call split) 10-20% faster at 2^22
# (window:64 1.31 -> ~1.15 ms, window:100 1.80 -> ~1.55), window:16 less (its walk is 2 tiles);
# causal D 64 H 16 (only the first 4 query tiles of each head on this instance) within 2%;
# packed documents (ranges in parts: a short unit's other tiles now split too) within 3%; window
# 513 (never on it) level.
# Uses build-carry2 (Release, sm_90a: tests/test_cuda, tools/graphattn). Order: the whole of test_cuda
# (6 at a time, GA_EXPECT_WGMMA=1; no timings unless every test passes), the timings (new and
# per-tile alternated, 2 rounds), then memcheck and racecheck on the split tests.
# Run: timeout 585 bash bench/splitall_ab.sh > $OUT/splitall.log 2>&1; tail -80 $OUT/splitall.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
T=build-carry2/tests/test_cuda B=build-carry2/tools/graphattn G=$B
[ -x "$T" ] && [ -x "$B" ] || { echo "no build-carry2"; exit 1; }
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader
ab_all_tests 200 /tmp/sa-t || exit 1
# packed documents: lengths 100, 300, 700, 1500, 3000, 200 repeated (short ones beside long ones)
docs=$(ab_docs 262144 100 300 700 1500 3000 200)
cases() {
  for w in 16 64 100 128 200; do
    ab_bench "$1 window:$w 2^22" --graph window:$w --n 2^22 --dtype bf16 --repeats 10
  done
  ab_bench "$1 window:100 f16 2^22" --graph window:100 --n 2^22 --dtype f16 --repeats 10
  ab_bench "$1 window 513 2^22" --graph window:256 --n 2^22 --dtype bf16 --repeats 10
  ab_bench "$1 causal D64 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5
  ab_bench "$1 causal D64 2^20" --graph causal --n 2^20 --dtype bf16 --repeats 5
  ab_bench "$1 causal 2^12 H16" --graph causal --n 2^12 --heads 16 --dtype bf16 --repeats 20
  ab_bench "$1 causal docs 2^18" --graph "causal_documents:$docs" --n 2^18 --dtype bf16 --repeats 20
  ab_bench "$1 docs 2^18" --graph "documents:$docs" --n 2^18 --dtype bf16 --repeats 20
}
ab_switch_rounds GRAPHATTN_SPLIT_MIXED cases
for t in split_rows_run_in_parts_and_match_reference narrow_windows_at_head_dim_64_run_on_the_persistent_kernels; do
  ab_sanitizers $t
done
