#!/usr/bin/env bash
# edge_dyn_longnet_probe.sh -- one short GPU call: longnet in both modes under dynamic tasks, and
# the dynamic-task and plan tests, on the excess rule's build (carried: build-carryxi/xs.gz and
# xs-test.gz, build-carry10's tool and test_cuda gzip'd). The excess rule sends longnet at rate 2
# to row mode (a group of rows holds busy and empty rows alike: excess mean * (min(R, G) - 1) / G),
# where runs 76-77, before dynamic tasks, measured 256-384-key busy rows 1.10-1.16x faster in rows
# mode; with dynamic tasks row mode no longer waits for a block's busy warps (run 83: rows
# alternating 1 and 500 keys 1.65x faster in row mode, against rows mode 10% faster in run 72).
# Prediction: longnet:512,2,0 and 768,2,0 row mode 1.2-1.5x faster; 1024,4,0 and 512,4,0 row mode
# faster or level.
# Run: timeout 130 bash bench/edge_dyn_longnet_probe.sh > $OUT/l.log 2>&1; tail -40 $OUT/l.log
set -u
cd "$(dirname "$0")/.."
. bench/edge_cmp.sh
G=$(edge_tool xs) || exit 1
T=$(edge_tool xs-test) || exit 1
export GRAPHATTN_NO_TILES=1
for g in longnet:512,2,0 longnet:768,2,0 longnet:1024,4,0 longnet:512,4,0; do
  edge_modes "$g" $G --graph $g --n 2^20 --dtype bf16 --repeats 3
done
unset GRAPHATTN_NO_TILES
timeout 60 $T edge_tasks_are_dynamic_from_65536_row_tasks_and_their_counter_is_in_the_workspace \
  edge_plan_bounds_every_light_row_and_picks_the_tests_modes 2>&1 | grep -E "FAIL|passed, "
