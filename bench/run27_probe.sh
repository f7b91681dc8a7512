#!/usr/bin/env bash
# One GPU call (run 27d), no code change to main. Two questions:
#  1. Causal D = 256, H = 8 at 2^15 reads 8.4-8.6 ms in the C tool now (run 27c, bench/d256_probe.sh)
#     where run 21a read 7.80-7.88 and run 18e 7.70-7.85. A change since, or the card? The same
#     case on the tool built at 289803e (run 21a), 88a4408 (after the NaN mends), 1e35e0e (after
#     the shared-memory base) and this tree, alternating, two rounds; this tree also with
#     GRAPHATTN_WS_ROWSUM=1. Prediction: within 2% of each other (the card), unless one commit
#     shows the step.
#  2. padwalk.patch (run 27b): D 32 window:20 at 2^22 1.18 -> 0.93 ms, but window:64 1.08 -> 1.14.
#     Where does D 32 stop gaining from the warp-specialized kernel? window:8 ... :128 at 2^22,
#     the patched tool against it with GRAPHATTN_OLD_WALKS=1 (main's rule), two rounds.
# Needs build-tgz/<sha>.tgz (git archive of each commit; carried, not committed).
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
cfg="-DCMAKE_BUILD_TYPE=Release -DGRAPHATTN_CUDA=ON"
shas="289803e 88a4408 1e35e0e"
rm -rf build-p build-o && mkdir -p build-p build-o
tar --exclude='./build*' --exclude='./.git' -cf - . | tar -x -C build-p
(cd build-p && if command -v patch >/dev/null; then patch -p1 -s < ../bench/patches/padwalk.patch; else git apply ../bench/patches/padwalk.patch; fi) || { echo "padwalk.patch does not apply"; exit 1; }
for s in $shas; do mkdir -p build-o/$s && tar -xzf build-tgz/$s.tgz -C build-o/$s; done
for d in build-p $(for s in $shas; do echo build-o/$s; done); do
  (cd $d && cmake -S . -B build-gpu $cfg >/dev/null && cmake --build build-gpu -j4 --target graphattn_cmd) > $d.log 2>&1 &
done
wait
for d in build-p $(for s in $shas; do echo build-o/$s; done); do
  [ -x $d/build-gpu/tools/graphattn ] || { echo "build failed: $d"; tail -20 $d.log; exit 1; }
done
P=build-p/build-gpu/tools/graphattn
d256() { G=$2 ab_bench "$1" --graph causal --n 2^15 --heads 8 --dim 256 --dtype bf16 --repeats 10; }
for r in 1 2; do
  echo "== causal D256 H8 2^15 bf16, round $r (label, N, edges, median ms, fastest ms, TFLOP/s, ...)"
  for s in $shas; do d256 "$s      " build-o/$s/build-gpu/tools/graphattn; done
  d256 "this    " $P
  GRAPHATTN_WS_ROWSUM=1 d256 "rowsum=1" $P
done
for r in 1 2; do
  echo "== D32 windows at 2^22 bf16, round $r: padwalk, then GRAPHATTN_OLD_WALKS=1"
  for w in 8 16 20 32 40 48 64 96 128; do
    G=$P ab_bench "window:$w new" --graph window:$w --n 2^22 --dim 32 --dtype bf16 --repeats 10
    GRAPHATTN_OLD_WALKS=1 G=$P ab_bench "window:$w old" --graph window:$w --n 2^22 --dim 32 --dtype bf16 --repeats 10
  done
done
