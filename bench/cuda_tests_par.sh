#!/usr/bin/env bash
# cuda_tests_par.sh -- one GPU call: every test of tests/test_cuda.c (names read from the source)
# in 4 concurrent processes of a test_cuda binary carried gzip'd (build-carryxi/ektest.gz, or the
# name in $1), round-robin by name; allocation_failures_on_the_gpu_path_... (it fills the GPU's
# memory) alone after them. GA_EXPECT_WGMMA=1. Prints each group's summary and every failure.
# Run: timeout 560 bash bench/cuda_tests_par.sh > $OUT/par.log 2>&1; tail -40 $OUT/par.log
set -u
cd "$(dirname "$0")/.."
name=${1:-ektest}
mkdir -p build-carryxi/bin
gzip -dc build-carryxi/$name.gz > build-carryxi/bin/$name && chmod +x build-carryxi/bin/$name || exit 1
T=build-carryxi/bin/$name
ALLOC=allocation_failures_on_the_gpu_path_are_out_of_memory_and_write_nothing
mapfile -t names < <(grep -oE '^TEST\(([A-Za-z0-9_]+)\)' tests/test_cuda.c | sed 's/TEST(\(.*\))/\1/' | grep -v "^$ALLOC$")
echo "${#names[@]} tests in 4 groups, then $ALLOC"
for g in 0 1 2 3; do
  sel=(); for i in "${!names[@]}"; do [ $((i % 4)) = $g ] && sel+=("${names[$i]}"); done
  (GA_EXPECT_WGMMA=1 timeout 480 $T "${sel[@]}" > /tmp/par-$g.log 2>&1; echo "group $g rc=$?" >> /tmp/par-$g.log) &
done
wait
for g in 0 1 2 3; do grep -E "FAIL|passed, |rc=" /tmp/par-$g.log | tail -12; done
GA_EXPECT_WGMMA=1 timeout 120 $T $ALLOC > /tmp/par-a.log 2>&1; echo "alloc rc=$?"; tail -2 /tmp/par-a.log
