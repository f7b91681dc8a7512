#!/usr/bin/env bash
# edge_rows_check.sh -- one GPU call after run 69: the landed rows mode (bound 520 mean slots) from
# the working tree's build carried gzip'd in build-carryxi (rowstest: test_cuda; lib: libgraphattn.so):
# every test_cuda test, the package's random case beside FA2 and Flex (gpu_bench.py --cases random),
# then compute-sanitizer memcheck and racecheck on the rows-mode test.
# Run: timeout 590 bash bench/edge_rows_check.sh > $OUT/rc.log 2>&1; tail -60 $OUT/rc.log
set -u
cd "$(dirname "$0")/.."
mkdir -p build-carryxi/bin
gzip -dc build-carryxi/lib.gz > build-carryxi/bin/libgraphattn.so || exit 1
echo "== test_cuda: every test"
timeout 200 bash bench/cuda_tests_par.sh rowstest 2>&1 | tail -12
echo "== gpu_bench.py --cases random"
PYTHONUNBUFFERED=1 GRAPHATTN_LIBRARY=$PWD/build-carryxi/bin/libgraphattn.so timeout 150 python3 bench/gpu_bench.py --cases random 2>&1 | tail -25
echo "== compute-sanitizer on the rows-mode test"
T=build-carryxi/bin/rowstest
for tool in memcheck racecheck; do
  ( timeout 200 compute-sanitizer --tool $tool --error-exitcode 99 $T edge_engines_rows_mode_runs_where_expected_and_matches_reference \
      > /tmp/san-$tool.log 2>&1; echo "$tool rc=$?" >> /tmp/san-$tool.log ) &
done
wait
for tool in memcheck racecheck; do tail -4 /tmp/san-$tool.log; done
