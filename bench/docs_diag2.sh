#!/usr/bin/env bash
# docs_diag2.sh -- one GPU call (run 46b): run 46's gpu-check timed gpu_bench's causal documents
# (512-4096 tokens, seed 3, 2^18) at 0.461 ms as the documents component against 0.407 as the
# same graph in CSR (run 44: 0.415 / 0.410). Both take the same ranges and kernels, so: the C
# tool, main before run 45 (build-carry2) against run 45's code (build-carry5), that mixture and
# run 45b's, 50 calls, alternated, three rounds; and the same with the work order forced on / off.
# Run: timeout 200 bash bench/docs_diag2.sh > $OUT/docs2.log 2>&1; cat $OUT/docs2.log
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_two_builds build-carry2 build-carry5 || exit 1
# gpu_bench.document_ends(2^18) written out again: importing gpu_bench loads torch and the library
ends=$(python3 -c '
import numpy as np
rng = np.random.default_rng(3); e = [0]; at = 0
while at < 1 << 18:
    at = min(1 << 18, at + int(rng.integers(512, 4097))); e.append(at)
print(",".join(map(str, e)))')
echo "bounds: $(echo "$ends" | tr ',' '\n' | wc -l)"
cases() {
  ab_bench "gpu_bench cdocs" --graph "causal_documents:$ends" --n 2^18 --dtype bf16 --repeats 50
  GRAPHATTN_ORDER=1 ab_bench "gpu_bench cdocs order=1" --graph "causal_documents:$ends" --n 2^18 --dtype bf16 --repeats 50
  GRAPHATTN_ORDER=0 ab_bench "gpu_bench cdocs order=0" --graph "causal_documents:$ends" --n 2^18 --dtype bf16 --repeats 50
  GRAPHATTN_WS_PARTS=0 ab_bench "gpu_bench cdocs whole" --graph "causal_documents:$ends" --n 2^18 --dtype bf16 --repeats 50
}
ab_rounds patched cases
G=$B; echo "== patched round 3"; cases
G=$M; echo "== main round 3"; cases
