#!/usr/bin/env bash
# edge_rows_check.sh -- one GPU call after run 69: the landed rows mode (bound 520 mean slots) from
# the working tree's build carried gzip'd in build-carryxi (rowstest: test_cuda; lib: libgraphattn.so):
# every test_cuda test, the package's random case beside FA2 and Flex (gpu_bench.py --cases random),
# then compute-sanitizer memcheck and racecheck on the rows-mode test.
# Run: timeout 590 bash bench/edge_rows_check.sh > $OUT/rc.log 2>&1; tail -60 $OUT/rc.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
mkdir -p build-carryxi/bin
gzip -dc build-carryxi/lib.gz > build-carryxi/bin/libgraphattn.so || exit 1
echo "== test_cuda: every test"
timeout 200 bash bench/cuda_tests_par.sh rowstest 2>&1 | tail -12
echo "== gpu_bench.py --cases random"
edge_pkg_random
echo "== compute-sanitizer on the rows-mode test"
edge_san 200 build-carryxi/bin/rowstest edge_engines_rows_mode_runs_where_expected_and_matches_reference
