#!/usr/bin/env bash
# One GPU call for this branch: build it (build-gpu) and main (build-src-main, made beforehand
# with `rm -rf build-src-main && mkdir build-src-main && git archive main | tar -x -C build-src-main`
# and passed to the device as carry), run bench/ws_ab.sh (tests and variants) on this tree, then
# the window's default call on both trees in alternation, then each tree's host cost per call
# (bench/host_overhead.py --device cuda; HOST=0 leaves it out).
set -u
cfg="-DCMAKE_BUILD_TYPE=Release -DGRAPHATTN_CUDA=ON"
(cmake -S . -B build-gpu $cfg >/dev/null && cmake --build build-gpu -j8) > /tmp/build-branch.log 2>&1 &
(cd build-src-main && cmake -S . -B build-gpu $cfg >/dev/null && cmake --build build-gpu -j8 --target graphattn_cmd graphattn) \
  > /tmp/build-main.log 2>&1 &
wait
tail -1 /tmp/build-branch.log; tail -1 /tmp/build-main.log
TESTS=1 bash bench/ws_ab.sh
ms() { timeout 60 "$@" 2>/dev/null | tail -1 | awk '{print $3}'; }
M=build-src-main/build-gpu/tools/graphattn
B=build-gpu/tools/graphattn
for n in 2^16 2^18 2^20 2^22 2^24; do
  a=(bench --graph window:256 --n $n --dtype bf16 --device cuda --repeats 10)
  printf 'window:256 %-5s main %8s branch %8s main %8s branch %8s\n' $n "$(ms $M "${a[@]}")" "$(ms $B "${a[@]}")" \
    "$(ms $M "${a[@]}")" "$(ms $B "${a[@]}")"
done
# host cost per call (N = 1): the C call alone and the package, main's library and this branch's
[ "${HOST:-1}" = 0 ] && exit 0
for t in build-src-main .; do
  echo "== host cost, $t"
  GRAPHATTN_LIBRARY=$PWD/$t/build-gpu/libgraphattn.so timeout 120 python3 $t/bench/host_overhead.py --device cuda --calls 3000
done
