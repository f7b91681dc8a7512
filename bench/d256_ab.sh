#!/usr/bin/env bash
# Head dim 256: the mma.sync tile kernel against the edge engine (GRAPHATTN_NO_TILES=1) on the
# same inputs, bf16, from the C tool. Run on the GPU machine after building build-gpu (target
# graphattn_cmd). Note: any value of GRAPHATTN_NO_TILES, even an empty one, turns the tiles off,
# so the tile arm must leave it unset.
B=${B:-build-gpu/tools/graphattn}
ms() { timeout 60 env "$@" 2>/dev/null | tail -1 | awk '{print $3}'; }
for c in "window:256 2^20" "window:256 2^22" "causal 2^15" "dense 2^14"; do
  set -- $c
  a=(bench --graph $1 --n $2 --dim 256 --dtype bf16 --device cuda --repeats 5)
  printf '%-12s %-5s tiles %9s ms  edge engine %9s ms\n' $1 $2 "$(ms -u GRAPHATTN_NO_TILES $B "${a[@]}")" \
    "$(ms GRAPHATTN_NO_TILES=1 $B "${a[@]}")"
done
