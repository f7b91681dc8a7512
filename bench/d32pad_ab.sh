#!/usr/bin/env bash
# One GPU call (run by bench/patches/run-all.sh inside build-p, the patched copy; `..` is main):
# bench/patches/d32pad.patch. Head dim 32 on the persistent Hopper kernels, padded to 64 columns
# (the copy engine's zero columns; the epilogue writes 32), where they take the call; the rest
# stays on the cp.async kernel's own D = 32 instance (mma.sync), as all of D = 32 did before.
# Predictions (the window at D = 64 runs at 0.71-0.81 ps per edge on the warp-specialized kernel,
# bound by the softmax's instruction issue; D = 32 on mma.sync ran the longest case at 0.92):
# window 513 at D = 32, 2^20 .. 2^24, 10-20% faster; causal H 16 at 2^16 10-25% faster; the
# longest case (3 * 2^27, out over q) 189.7 ms -> 160-175; window:20 (a short walk, mma.sync
# either way) and the D = 64 window unchanged. Three builds' worth of rows per round: main, the
# patch, the patch with GRAPHATTN_NO_D32_PAD=1 (must track main). Tests first (every cuda.*
# test, the new one among them); no timings unless they pass.
set -u
. bench/ab_lib.sh
ab_build .. || exit 1
# every cuda.* test of the patched tree (the new one among them): this call is the landing's check
names=$(ctest --test-dir build-gpu -N | sed -n 's/^ *Test *#[0-9]*: cuda\.\([A-Za-z0-9_]*\)$/\1/p')
GA_CUDA_SWEEP=300 ab_tests 330 $names || exit 1
ab_sanitizers head_dim_32_runs_padded_on_the_persistent_kernels_and_matches_reference || exit 1
cases() {
  ab_bench "window D32 2^20" --graph window:256 --n 2^20 --dim 32 --dtype bf16 --repeats 20
  ab_bench "window D32 2^22" --graph window:256 --n 2^22 --dim 32 --dtype bf16 --repeats 10
  ab_bench "window D32 2^22 f16" --graph window:256 --n 2^22 --dim 32 --dtype f16 --repeats 10
  ab_bench "window D32 2^24" --graph window:256 --n 2^24 --dim 32 --dtype bf16 --repeats 5
  ab_bench "causal D32 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 32 --dtype bf16 --repeats 3
  ab_bench "window:20 D32 2^22" --graph window:20 --n 2^22 --dim 32 --dtype bf16 --repeats 10
  ab_bench "window D64 2^22" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10
}
for r in 1 2; do
  G=$M; echo "== main round $r"; cases
  G=$B; echo "== d32pad round $r"; cases
  echo "== d32pad off (GRAPHATTN_NO_D32_PAD=1) round $r"; GRAPHATTN_NO_D32_PAD=1 cases
done
# the longest case (Python, out over q, sampled rows against fp64), this tree's library, the
# padding on and off
for knob in "" 1; do
  echo "== longest, GRAPHATTN_NO_D32_PAD=${knob:-unset}"
  env ${knob:+GRAPHATTN_NO_D32_PAD=1} GRAPHATTN_LIBRARY=$PWD/build-gpu/libgraphattn.so timeout 120 \
    python3 bench/gpu_bench.py --cases longest --no-peers 2>&1 | grep -E "longest|Error|error" | head -5
done
