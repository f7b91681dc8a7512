#!/usr/bin/env bash
# Probe (runs 30d / 30e; one GPU call by bench/patches/run-all.sh inside build-p, `..` is main).
# Run 30d: the patched build's causal D 256 H 8 at 2^15 ran 15-20% slower than main's by its
# default (heads inner, no counter) in 5 alternations, and with the plain stride 7%, eager module
# loading 11%; its kernel's SASS differed from main's only where fd_sup's loads split in two (the
# new TileArgs fields before it shifted its offset). Run 30e: the new fields last (every
# instance without the counter's code now SASS-identical to main's): main and the patched build
# alternate on D 256, then D 256 without the split rows' parts and with one consumer, then D 128
# f16 H 8, D 64 causal and the window once each (main's tool M, the patched build's B).
set -u
. bench/ab_lib.sh
ab_build .. || exit 1
c() { ab_bench "$1" --graph causal --n 2^15 --heads 8 --dim 256 --dtype bf16 --repeats 10; }
echo "columns: label, N, edges, median ms, fastest ms, TFLOP/s, ns/edge, host MB, device MB"
for r in 1 2; do G=$M; c "main  d256 r$r"; G=$B; c "patch d256 r$r"; done
# where the gap lives, if it stays: the same case after a smaller one in the same process (its
# buffers then sit elsewhere in device memory: does main's figure move by as much as the gap?),
# without the split rows' parts, with one consumer
for t in M B; do G=${!t}; ab_bench "$t d256 after-2^14" --graph causal --n 2^14,2^15 --heads 8 --dim 256 --dtype bf16 --repeats 10; done
for t in M B; do G=${!t}; GRAPHATTN_WS_PARTS=0 c "$t d256 no-parts"; done
for t in M B; do G=${!t}; GRAPHATTN_WS256=1 c "$t d256 one-consumer"; done
for t in M B; do G=${!t}; ab_bench "$t d128f16" --graph causal --n 2^16 --heads 8 --dim 128 --dtype f16 --repeats 5; done
for t in M B; do G=${!t}; ab_bench "$t d64 H16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5; done
for t in M B; do G=${!t}; ab_bench "$t window" --graph window:256 --n 2^22 --dim 64 --dtype bf16 --repeats 10; done
