#!/usr/bin/env bash
# edge_rows_ab.sh -- one GPU call: the edge engine's rows mode (ga_edge_rows_kernel: a row per group
# of lanes, G rows a warp) against its row mode (a row per warp), from tools built here and carried
# gzip'd in build-carryxi: main (96048f9's tool, for the outputs' reference), rows (the working
# tree's tool, both modes: GRAPHATTN_EDGE_ROWS=0 / =1), rowstest (its test_cuda).
# Why: run 68's ncu put a 16-key row at ~1,300 warp instructions, ~160 of them its two steps: the
# row's fixed work (task decode, the component's row, its keys, the groups' merge, the finish) sets
# the pace. In rows mode that work is shared by the warp's G rows and the merge is gone; the steps
# are as many (two slots a step per group either way).
# Prediction: random:16 bf16 D 64 (G = 4) 1.5-2.5x faster, dilated rows (5 keys) more; 33-129-slot
# windows on the edge engine 10-30%; 513 slots level or a little slower (a warp as long as its
# longest row); outputs within the suite's tolerances (not bit-identical: another summation order).
# Run: timeout 590 bash bench/edge_rows_ab.sh > $OUT/rows.log 2>&1; tail -80 $OUT/rows.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
M=$(edge_tool main) && R=$(edge_tool rows) || exit 1
echo "== rows' test_cuda: every test, rows mode by its rule, then forced everywhere (GRAPHATTN_EDGE_ROWS=1)"
timeout 240 bash bench/cuda_tests_par.sh rowstest 2>&1 | tail -12
GRAPHATTN_EDGE_ROWS=1 timeout 240 bash bench/cuda_tests_par.sh rowstest 2>&1 | tail -12
echo "== C tool, median ms, two rounds: main, rows mode off, on"
for r in 1 2; do
  for t in main off on; do
    G=build-carryxi/bin/rows; [ $t = main ] && G=build-carryxi/bin/main
    [ $t = on ] && export GRAPHATTN_EDGE_ROWS=1 || export GRAPHATTN_EDGE_ROWS=0
    edge_ab6 "$t" $G
    edge_bb "$t random:16 bf16 D32" $G --graph random:16,7 --n 2^20 --dim 32 --dtype bf16 --repeats 5
    edge_bb "$t dilated:2,64 bf16" $G --graph dilated:2,64 --n 2^20 --dtype bf16 --repeats 10
    GRAPHATTN_NO_TILES=1 edge_bb "$t edges window:16 bf16" $G --graph window:16 --n 2^20 --dtype bf16 --repeats 5
    GRAPHATTN_NO_TILES=1 edge_bb "$t edges window:64 bf16" $G --graph window:64 --n 2^20 --dtype bf16 --repeats 5
    GRAPHATTN_NO_TILES=1 edge_bb "$t edges window:256 bf16" $G --graph window:256 --n 2^18 --dtype bf16 --repeats 5
  done
done
unset GRAPHATTN_EDGE_ROWS
echo "== outputs, main against rows (max abs difference of out, lse)"
python3 - <<'PY'
import numpy as np, subprocess
rng = np.random.default_rng(5)
for t in "qkv":
    np.save("/tmp/er-%s.npy" % t, rng.standard_normal((20000, 2, 64)).astype(np.float16))
for g in ["random:16,7", "window:64+random:16,7", "dilated:2,64+random:4,9", "window:8+global:0,5,9", "bigbird:8,1,1,2,4"]:
    outs = []
    for tool in ["build-carryxi/bin/main", "build-carryxi/bin/rows"]:
        subprocess.run([tool, "run", "--graph", g, "--q", "/tmp/er-q.npy", "--k", "/tmp/er-k.npy", "--v", "/tmp/er-v.npy",
                        "--out", "/tmp/er-o.npy", "--lse", "/tmp/er-l.npy", "--device", "cuda", "--quiet"], check=True)
        outs.append((np.load("/tmp/er-o.npy").astype(np.float64), np.load("/tmp/er-l.npy").astype(np.float64)))
    print("%-28s max |out| diff %.3g, max |lse| diff %.3g" % (g, np.abs(outs[0][0] - outs[1][0]).max(), np.abs(outs[0][1] - outs[1][1]).max()))
PY
