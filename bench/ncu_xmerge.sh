#!/usr/bin/env bash
# The listed-row merge's own duration, run 35's rewrite against the merge before it
# (GRAPHATTN_OLD_XMERGE=1 in the experiment's build), and the listed-row pass's, under ncu (no
# cache flush, clocks not locked) for Longformer (window 256 + 16 global, bf16, D 64) at 2^16 -
# 2^20, three calls each. Run from the repository root on the GPU machine; B: the command, built
# from main plus bench/patches/xmerge-exp.patch (run 35; main alone has no old merge).
B=${B:-build-gpu/tools/graphattn}
NCU=${NCU:-$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)}
[ -x "$NCU" ] || { echo "ncu_xmerge: no ncu"; exit 0; }
G=window:256+global:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
for n in 2^16 2^18 2^20; do
  for old in 1 0 0 1; do
    echo "== $n old=$old (kernel, us)"
    env $([ $old = 1 ] && echo GRAPHATTN_OLD_XMERGE=1) timeout 60 "$NCU" --metrics gpu__time_duration.sum \
      --cache-control none --clock-control none -k regex:"xmerge|tile_wgmma_kernel" "$B" bench --graph "$G" --n "$n" \
      --dtype bf16 --device cuda --repeats 3 --warmup 0 2>&1 |
      awk '/^  [a-z_].*\(.*Context/ {k=substr($0, 3, 40)} /gpu__time_duration.sum/ {print "  ", k, $NF}'
  done
done
