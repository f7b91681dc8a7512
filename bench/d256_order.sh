#!/usr/bin/env bash
# One GPU call, no code change: is the ~4% left in causal D = 256, H = 8 at 2^15 between the tree
# before 1e35e0e (88a4408: 7.48-7.55 ms fastest in run 27d) and this one (7.82-7.86 in run 27e)
# code, or run 27d's order (this tree always ran last in each round, on a card that reads ~4%
# slower hot, run 27c)? The two tools alternate in a rotated order, four rounds, each round
# preceded by 5 s idle; then both again right after a 10 s sustained load (a hot card).
# Prediction (from the SASS, identical but for register names): within 1.5% of each other.
# Needs build-tgz/88a4408.tgz (git archive 88a4408; carried with the device tool's `carry`, not
# committed). Run: timeout 400 bash bench/d256_order.sh
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
cfg="-DCMAKE_BUILD_TYPE=Release -DGRAPHATTN_CUDA=ON"
[ -f build-tgz/88a4408.tgz ] || { echo "build-tgz/88a4408.tgz missing (git archive -o build-tgz/88a4408.tgz 88a4408)"; exit 1; }
rm -rf build-o && mkdir -p build-o/88a4408 && tar -xzf build-tgz/88a4408.tgz -C build-o/88a4408
(cmake -S . -B build-gpu $cfg >/dev/null && cmake --build build-gpu -j8 --target graphattn_cmd) > /tmp/b-this.log 2>&1 &
(cd build-o/88a4408 && cmake -S . -B build-gpu $cfg >/dev/null && cmake --build build-gpu -j8 --target graphattn_cmd) > /tmp/b-old.log 2>&1 &
wait
T=build-gpu/tools/graphattn O=build-o/88a4408/build-gpu/tools/graphattn
[ -x $T ] && [ -x $O ] || { tail -20 /tmp/b-this.log /tmp/b-old.log; exit 1; }
row() { G=$2 ab_bench "$1" --graph causal --n 2^15 --heads 8 --dim 256 --dtype bf16 --repeats 10; }
echo "columns: tree, N, edges, median ms, fastest ms, TFLOP/s, ns/edge, host MB, device MB"
for r in 1 2 3 4; do
  sleep 5
  echo "== round $r"
  if [ $((r % 2)) = 1 ]; then row "88a4408" $O; row "this   " $T; else row "this   " $T; row "88a4408" $O; fi
done
echo "== hot: after ~10 s of window 513 at 2^22"
timeout 30 $T bench --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 6000 --device cuda >/dev/null 2>&1
row "this   " $T; row "88a4408" $O; row "this   " $T
