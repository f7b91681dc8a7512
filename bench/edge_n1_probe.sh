#!/usr/bin/env bash
# edge_n1_probe.sh -- one GPU call (run 59a): the D 64 edge engine's 8-lane instance (one vector per
# lane, 8 edges a step) behind a temporary switch (GRAPHATTN_EDGE_N1=1, in the builds only) at 2, 3
# and 4 blocks per SM (tools n1_2 / n1_3 / n1_4, edge_bf16.cu and edge_f16.cu compiled apart,
# carried gzip'd in build-carryxi) against run 57's tool (ek). Run: timeout 300 bash bench/edge_n1_probe.sh
cd "$(dirname "$0")/.."
set -u
mkdir -p build-carryxi/bin
for f in n1_2 n1_3 n1_4 ek; do gzip -dc build-carryxi/$f.gz > build-carryxi/bin/$f && chmod +x build-carryxi/bin/$f || exit 1; done
for f in n1_2 n1_3 n1_4; do
  GRAPHATTN_EDGE_N1=1 build-carryxi/bin/$f check --graph window:64+random:16,7 --n 20000 --dtype bf16 --device cuda 2>&1 | tail -1 | sed "s/^/$f check: /"
  GRAPHATTN_EDGE_N1=1 GRAPHATTN_NO_TILES=1 build-carryxi/bin/$f check --graph window:100 --n 5000 --dtype f16 --device cuda 2>&1 | tail -1 | sed "s/^/$f check edges: /"
done
. bench/edge_cmp.sh
for r in 1 2; do
  for f in ek n1_2 n1_3 n1_4; do
    G=build-carryxi/bin/$f
    [ $f = ek ] && unset GRAPHATTN_EDGE_N1 || export GRAPHATTN_EDGE_N1=1
    edge_cases "$f" $G
  done
done
