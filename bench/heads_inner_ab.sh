#!/usr/bin/env bash
# heads_inner_ab.sh -- one GPU call (waiting for device time): the warp-specialized kernel's work
# order with the heads inner for windows of several (batch, head) pairs, as causal has had since
# run 28 (bench/patches/heads-inner.patch: GRAPHATTN_HEADS_INNER=1 sets unit_rev for non-causal
# calls; each head's super tiles then run last first, the rounds snaked, the heads inner).
# Why: run 74's window at H 16, 2^22, D 64 bf16 ran 0.77 ps per edge and head in (B, N, H, D)
# storage against 0.74 in (B, H, N, D) and 0.73 at H 1 (target: H 16 no worse than H 1). With the
# heads outer, the CTAs in flight read one head's K / V rows, 128 bytes of every 2 KB row of
# (B, N, H, D) storage; with the heads inner they read all 16 heads' share of a row at once.
# Tried before: run 6's "H = 16: the heads' order tried" (bench/RESULTS.md, branch wip/head-inner,
# 2026-11-29) on the TMA-era kernel: 36.11 vs 36.25 ms, no gain. A retry with a low prior: the
# kernel is another one since (26.6 ms), and run 74's (B, H, N, D) storage, 5% faster than
# (B, N, H, D), says the layout costs something now.
# Build: git apply bench/patches/heads-inner.patch && bench/mkvariant.sh build-carry10 hi
# src/cuda/tile_wgmma.cu && git checkout src/cuda/tile_wgmma.cu (tool and lib in build-carryxi as
# hi.gz, hi-lib.gz; the switch unset, the tool is main's).
# Prediction: (B, N, H, D) H 16 at 2^22 26.6 -> ~25.3 ms (-5%, to (B, H, N, D)'s rate); (B, H,
# N, D) level or up to 3% slower (every head's keys in L2 at once); H 4 half of that; D 128 +-3%;
# H 1 unchanged (the switch does not apply).
# Run: timeout 500 bash bench/heads_inner_ab.sh > $OUT/hi.log 2>&1; tail -60 $OUT/hi.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=$(edge_tool hi) || exit 1
gzip -dc build-carryxi/hi-lib.gz > build-carryxi/bin/libgraphattn.so || exit 1
echo "== C tool ((B, N, H, D) storage), median ms, two rounds, the switch off then on"
for r in 1 2; do
  for m in 0 1; do
    export GRAPHATTN_HEADS_INNER=$m
    edge_bb "hi=$m H16 2^22" $G --graph window:256 --n 2^22 --heads 16 --dtype bf16 --repeats 5
    edge_bb "hi=$m H4 2^22" $G --graph window:256 --n 2^22 --heads 4 --dtype bf16 --repeats 5
    edge_bb "hi=$m H16 2^20" $G --graph window:256 --n 2^20 --heads 16 --dtype bf16 --repeats 10
    edge_bb "hi=$m B4 H4 2^20" $G --graph window:256 --n 2^20 --batch 4 --heads 4 --dtype bf16 --repeats 10
    edge_bb "hi=$m H16 D128 2^20" $G --graph window:256 --n 2^20 --heads 16 --dim 128 --dtype bf16 --repeats 10
    edge_bb "hi=$m GQA H16:4 2^20" $G --graph window:256 --n 2^20 --heads 16 --kv-heads 4 --dtype bf16 --repeats 10
    edge_bb "hi=$m H1 2^22" $G --graph window:256 --n 2^22 --dtype bf16 --repeats 10
  done
done
unset GRAPHATTN_HEADS_INNER
echo "== gpu_bench.py window-h16, window-h16-bhnd: the switch off, on"
for m in 0 1; do
  GRAPHATTN_HEADS_INNER=$m PYTHONUNBUFFERED=1 GRAPHATTN_LIBRARY=$PWD/build-carryxi/bin/libgraphattn.so timeout 120 \
    python3 bench/gpu_bench.py --cases window-h16,window-h16-bhnd 2>&1 | grep -E "^window-h16" | sed "s/^/hi=$m /"
done
echo "== test_cuda's tile tests with the switch on (the work order's every super tile taken once)"
T=build-carryxi/bin/hi-test
gzip -dc build-carryxi/hi-test.gz > $T && chmod +x $T || exit 1
GRAPHATTN_HEADS_INNER=1 GA_EXPECT_WGMMA=1 timeout 200 $T tile_engine_paths_match_reference tile_sweep_matches_reference \
  persistent_tma_tiles_match_reference narrow_windows_at_head_dim_64_run_on_the_persistent_kernels \
  split_rows_run_in_parts_and_match_reference head_dim_256_runs_on_the_tiles_and_matches_reference \
  head_dim_32_runs_padded_on_the_persistent_kernels_and_matches_reference tile_engine_accumulates_into_a_prior_state \
  grouped_query_attention_matches_reference strided_layouts_match_reference randomized_sweep_matches_reference \
  2>&1 | grep -E "FAIL|passed, "
