#!/usr/bin/env bash
# docs_diag.sh -- one GPU call (run 45b): why causal documents at 2^18 ran 6-7% slower with the
# split-P threshold at 64 (build-carry5: split64 + d128-sall) than at 256 (build-carry2: main) in
# run 45a. The two builds differ there only in which units are short: at 256, 378 of the 1024
# units (256 rows) hold a row under 256 keys; at 64, 276 hold one under 64 (the 102 units of rows
# 64-255 of a document move from the split launch to the unsplit one). Times both builds with the
# call in parts (default) and whole (GRAPHATTN_WS_PARTS=0), at 2^18 and 2^20, with other document
# lengths, and (where nsys is there) each kernel's time.
# Run: timeout 300 bash bench/docs_diag.sh > $OUT/docs.log 2>&1; cat $OUT/docs.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_two_builds build-carry2 build-carry5 || exit 1
d18=$(ab_docs 262144 100 300 700 1500 3000 200)
d20=$(ab_docs 1048576 100 300 700 1500 3000 200)
u1k=$(ab_docs 262144 1024)
u300=$(ab_docs 262144 300)
cases() {
  ab_bench "cdocs 2^18" --graph "causal_documents:$d18" --n 2^18 --dtype bf16 --repeats 50
  GRAPHATTN_WS_PARTS=0 ab_bench "cdocs 2^18 whole" --graph "causal_documents:$d18" --n 2^18 --dtype bf16 --repeats 50
  ab_bench "cdocs 2^20" --graph "causal_documents:$d20" --n 2^20 --dtype bf16 --repeats 20
  GRAPHATTN_WS_PARTS=0 ab_bench "cdocs 2^20 whole" --graph "causal_documents:$d20" --n 2^20 --dtype bf16 --repeats 20
  ab_bench "cdocs 1024 2^18" --graph "causal_documents:$u1k" --n 2^18 --dtype bf16 --repeats 50
  ab_bench "cdocs 300 2^18" --graph "causal_documents:$u300" --n 2^18 --dtype bf16 --repeats 50
  ab_bench "causal 2^14 H16" --graph causal --n 2^14 --heads 16 --dtype bf16 --repeats 20
}
ab_rounds patched cases
if command -v nsys >/dev/null; then
  for t in main patched; do
    G=$M; [ $t = main ] || G=$B
    echo "== nsys $t cdocs 2^18"
    timeout 90 nsys profile -o /tmp/p-$t --force-overwrite true "$G" bench --graph "causal_documents:$d18" --n 2^18 \
      --dtype bf16 --repeats 20 --device cuda >/dev/null 2>&1
    timeout 60 nsys stats -q --report cuda_gpu_kern_sum --format csv /tmp/p-$t.nsys-rep 2>/dev/null | cut -c1-200 | head -12
  done
else
  echo "no nsys"
fi
