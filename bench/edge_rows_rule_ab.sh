#!/usr/bin/env bash
# edge_rows_rule_ab.sh -- run 73, one GPU call: run 72's two findings as the rule (the spread bound
# on rows mode: the plan's longest light row at most 4x the mean + 64; in rows mode 16-bit types
# on 16-element lanes and float32 on 8 at 32 <= D <= 128), from the working tree's build carried
# gzip'd in build-carryxi (rule: the tool; ruletest: test_cuda; rulelib: libgraphattn.so), against
# the tool of 401b117 (rows: HEAD's behaviour before the change).
# 1. every test_cuda test; 2. C tool, median ms, default switches, old then new; 3. the package's
# random case (gpu_bench.py --cases random) beside FA2 and Flex; 4. compute-sanitizer memcheck and
# racecheck on the rows-mode test.
# Prediction (run 72's forced columns): bf16 rows-mode cases 1.17-1.6x faster (random:16 D 64
# 1.56 -> ~1.22 ms), float32 level, zipf / spike back to row mode's 5.0 / 7.9 ms (7.8 / 35 before),
# uni16 and alt level.
# Run: timeout 590 bash bench/edge_rows_rule_ab.sh > $OUT/r.log 2>&1; tail -80 $OUT/r.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
O=$(edge_tool rows) && N=$(edge_tool rule) || exit 1
gzip -dc build-carryxi/rulelib.gz > build-carryxi/bin/libgraphattn.so || exit 1
echo "== test_cuda: every test"
timeout 200 bash bench/cuda_tests_par.sh ruletest 2>&1 | tail -12
echo "== C tool, median ms, default switches: old (401b117) then new"
python3 bench/skew_csrs.py || exit 1
for t in old new; do
  G=$O; [ $t = new ] && G=$N
  for d in 32 64 128; do
    edge_bb "$t random:16 bf16 D$d" $G --graph random:16,7 --n 2^20 --dim $d --dtype bf16 --repeats 5
  done
  edge_bb "$t random:16 f32 D64" $G --graph random:16,7 --n 2^20 --dtype f32 --repeats 5
  edge_bb "$t random:64 bf16" $G --graph random:64,7 --n 2^20 --dtype bf16 --repeats 5
  edge_bb "$t w64+r16 bf16" $G --graph window:64+random:16,7 --n 2^20 --dtype bf16 --repeats 5
  edge_bb "$t dilated:2,64 bf16" $G --graph dilated:2,64 --n 2^20 --dtype bf16 --repeats 5
  GRAPHATTN_NO_TILES=1 edge_bb "$t edges window:16 bf16" $G --graph window:16 --n 2^20 --dtype bf16 --repeats 5
  GRAPHATTN_NO_TILES=1 edge_bb "$t edges window:64 bf16" $G --graph window:64 --n 2^20 --dtype bf16 --repeats 5
  GRAPHATTN_NO_TILES=1 edge_bb "$t edges window:256 bf16" $G --graph window:256 --n 2^18 --dtype bf16 --repeats 3
  for c in uni16 zipf alt spike; do
    n=$((1 << 20)); [ $c = alt ] && n=$((1 << 18))
    GRAPHATTN_NO_TILES=1 edge_bb "$t csr $c bf16" $G --graph $(edge_csr skew-$c) --n $n --dtype bf16 --repeats 3
  done
done
echo "== gpu_bench.py --cases random"
edge_pkg_random
echo "== compute-sanitizer on the rows-mode test"
edge_san 150 build-carryxi/bin/ruletest edge_engines_rows_mode_runs_where_expected_and_matches_reference
