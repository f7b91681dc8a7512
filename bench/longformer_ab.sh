#!/usr/bin/env bash
# Longformer (window 256 + 16 global tokens) against its window part alone, on the CLI bench:
# the listed keys on the warp-specialized kernel (default: four consumers, whose listed-key
# instance spills 76-96 bytes per ptxas), with three consumers (GRAPHATTN_WS=3: 160 registers,
# no spills) and on the cp.async kernel (GRAPHATTN_NO_TMA); then, where nsys is installed, the
# time of each kernel of one Longformer call.
B=${B:-build-gpu/tools/graphattn}
G=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
ms() { env "$@" 2>/dev/null | tail -1 | awk '{print $3}'; }
printf '%-8s %10s %12s %8s %12s %8s %14s %8s\n' N window longformer ratio "lf ws=3" ratio "lf cp.async" ratio
for n in 2^18 2^20 2^22 2^24; do
  w=$(ms $B bench --graph window:256 --n $n --dtype bf16 --device cuda --repeats 10)
  l=$(ms $B bench --graph window:256+global:$G --n $n --dtype bf16 --device cuda --repeats 10)
  t=$(ms GRAPHATTN_WS=3 $B bench --graph window:256+global:$G --n $n --dtype bf16 --device cuda --repeats 10)
  c=$(ms GRAPHATTN_NO_TMA=1 $B bench --graph window:256+global:$G --n $n --dtype bf16 --device cuda --repeats 10)
  awk -v n=$n -v w=$w -v l=$l -v t=$t -v c=$c 'BEGIN{printf "%-8s %10s %12s %7.2fx %12s %7.2fx %14s %7.2fx\n", n, w, l, l/w, t, t/w, c, c/w}'
done
if command -v nsys >/dev/null 2>&1 && [ -n "$OUT" ]; then
  nsys profile -o "$OUT/lf" --force-overwrite true $B bench --graph window:256+global:$G --n 2^22 --dtype bf16 \
    --device cuda --repeats 3 >/dev/null 2>&1 &&
    nsys stats -q --report cuda_gpu_kern_sum --format csv "$OUT/lf.nsys-rep" 2>/dev/null |
    awk -F'","' 'NR>1 {gsub(/"/,""); printf "%-60.60s %6s calls  avg %10.1f us\n", $9, $3, $4/1000}'
  rm -f "$OUT"/lf.nsys-rep "$OUT"/lf.sqlite
fi
