#!/usr/bin/env bash
# edge_occ_ab.sh -- one GPU call: the edge engine's occupancy. Tools carried gzip'd in
# build-carryxi: ek (this tree: 2 blocks of 8 warps per SM, 128 registers), mb3 / mb4 (the same
# with edge_bf16.cu compiled with -DGA_CUDA_MIN_BLOCKS=3 / 4: 80 / 64 registers, more spills).
# bf16, D 64: random keys alone and after a window, a window and a dilated window on the edge
# engine (GRAPHATTN_NO_TILES=1); `check` against fp64 on each variant first.
# Run: timeout 300 bash bench/edge_occ_ab.sh > $OUT/occ.log 2>&1; tail -40 $OUT/occ.log
set -u
cd "$(dirname "$0")/.."
mkdir -p build-carryxi/bin
for f in ek mb3 mb4; do gzip -dc build-carryxi/$f.gz > build-carryxi/bin/$f && chmod +x build-carryxi/bin/$f || exit 1; done
for f in ek mb3 mb4; do
  build-carryxi/bin/$f check --graph window:64+random:16,7 --n 20000 --dtype bf16 --device cuda 2>&1 | tail -1 | sed "s/^/$f check: /"
done
bb() { local l=$1 g=$2; shift 2; timeout 90 "$g" bench "$@" --device cuda 2>/dev/null | grep -E "^ +[0-9]" | sed "s/^/$l /"; }
for r in 1 2; do
  for f in ek mb3 mb4; do
    G=build-carryxi/bin/$f
    bb "$f random:16 2^20" $G --graph random:16,7 --n 2^20 --dtype bf16 --repeats 10
    bb "$f w64+r16 2^20" $G --graph window:64+random:16,7 --n 2^20 --dtype bf16 --repeats 10
    GRAPHATTN_NO_TILES=1 bb "$f edges window:256 2^18" $G --graph window:256 --n 2^18 --dtype bf16 --repeats 5
    bb "$f dilated:2,64 2^20" $G --graph dilated:2,64 --n 2^20 --dtype bf16 --repeats 10
  done
done
