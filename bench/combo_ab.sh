#!/usr/bin/env bash
# combo_ab.sh -- one GPU call (run 45): bench/patches/split64.patch and d128-sall.patch applied
# together (build-carry5) against main (build-carry2), since each waits for the same kind of call
# and the two touch different calls: split64 moves bf16's split-P threshold from 256 keys to 64
# (windows of 64-255 keys at any head dim stop splitting), SALL gives bf16 calls at D 128 (and
# the head dims padded to it) whose every row is short a split instance that splits every tile
# (rows under 64 keys once split64 is in: window:20 / :31 and narrower). So D 64 rows below read
# split64 alone, window:20 / :30 at D 96 SALL alone, window:100 at D 112 / 128 split64 alone.
# Predictions: all 48 tests pass; window:48 / :64 / :100 at 2^22 D 64 25-30% faster (window:100
# 1.49 -> ~1.07 ms); window:16 (33 keys, split in both) and :200 (401 keys, split in neither)
# level; window:20 / :30 at D 96 5-10% faster (1.91 -> ~1.75-1.8); window:100 D 128 / 112 bf16
# 25-35% faster (no split), f16 level; causal D 64 / D 128 H 16 within 1-2%; documents 2-5%
# faster. Max errors over 100,000 sampled rows at 2^20 under 1e-2, within ~2x of main's.
# Order: every test of test_cuda on the patched build (no timings unless all pass), the errors of
# both builds, the timings (main and patched alternated, 2 rounds), memcheck and racecheck on
# the padded-head-dim test (window:20 at D 96 bf16 runs on SALL there).
# Run: timeout 585 bash bench/combo_ab.sh > $OUT/combo.log 2>&1; tail -120 $OUT/combo.log
# Since run 45 both patches are on main (bench/RESULTS.md run 45), so two builds of main run the same code.
set -u
cd "$(dirname "$0")/.."
. bench/ab_lib.sh
ab_two_builds build-carry2 build-carry5 || exit 1
ab_all_tests 200 /tmp/combo-t || exit 1
echo "== max errors, bf16, sampled rows (first and last included)"
chk() { # LABEL ARGS...: both builds' `check` lines
  local l=$1 t G r; shift
  for t in main patched; do
    G=$M; [ $t = main ] || G=$B
    r=$(timeout 60 "$G" check "$@" --dtype bf16 --device cuda 2>&1 | grep -iE "max|pass|fail" | tr '\n' ' ')
    echo "$t $l: $r"
  done
}
for w in 16 32 48 64 100 200; do chk "window:$w 2^20" --graph window:$w --n 2^20 --rows 100000; done
chk "window:20 D96 2^20" --graph window:20 --n 2^20 --dim 96 --rows 100000
chk "window:100 D128 2^20" --graph window:100 --n 2^20 --dim 128 --rows 100000
chk "causal 2048 H2 every row" --graph causal --n 2048 --heads 2 --rows 2048
docs=$(ab_docs 262144 100 300 700 1500 3000 200)
cases() {
  local w c
  for w in 16 32 48 64 100 200; do
    ab_bench "window:$w 2^22" --graph window:$w --n 2^22 --dtype bf16 --repeats 10
  done
  for c in "window:20 96 bf16" "window:30 96 bf16" "window:100 128 bf16" "window:100 112 bf16" "window:100 128 f16"; do
    set -- $c
    ab_bench "$1 D$2 $3 2^22" --graph "$1" --n 2^22 --dim "$2" --dtype "$3" --repeats 10
  done
  ab_bench "causal D64 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 64 --dtype bf16 --repeats 5
  ab_bench "causal D128 H16 2^16" --graph causal --n 2^16 --heads 16 --dim 128 --dtype bf16 --repeats 3
  ab_bench "causal docs 2^18" --graph "causal_documents:$docs" --n 2^18 --dtype bf16 --repeats 20
  ab_bench "docs 2^18" --graph "documents:$docs" --n 2^18 --dtype bf16 --repeats 20
}
ab_rounds patched cases
ab_sanitizers padded_head_dims_run_on_the_hopper_tiles_and_match_reference
