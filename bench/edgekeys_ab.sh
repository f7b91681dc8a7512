#!/usr/bin/env bash
# edgekeys_ab.sh -- one GPU call: the edge engine forming each slot's key once per warp
# (run_keys_batched: random keys, explicit columns, keys checked against earlier components)
# against main. Builds carried gzip'd in build-carryxi (Release sm_90a): ek = this tree's tool,
# ektest = its test_cuda, main = main's tool. Steps: the edge engine's tests; outputs of both
# tools on the same .npy inputs compared byte for byte (the same slots reach the same groups in
# the same order: bit-identical); then both tools timed on random keys and a union with them.
# Run: timeout 400 bash bench/edgekeys_ab.sh > $OUT/ek.log 2>&1; tail -60 $OUT/ek.log
set -u
cd "$(dirname "$0")/.."
mkdir -p build-carryxi/bin
for f in ek ektest main; do
  gzip -dc build-carryxi/$f.gz > build-carryxi/bin/$f && chmod +x build-carryxi/bin/$f || { echo "no $f"; exit 1; }
done
B=build-carryxi/bin/ek M=build-carryxi/bin/main T=build-carryxi/bin/ektest
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader || true
echo "== edge engine tests"
GA_EXPECT_WGMMA=1 timeout 200 $T every_component_kind_matches_reference unions_match_reference \
  explicit_csr_matches_reference_int32_and_int64 rows_without_edges_give_zero_and_negative_infinity \
  nan_inputs_make_their_rows_nan heavy_rows_split_over_blocks_match_reference head_dims_from_1_to_512_match_reference \
  grouped_query_attention_matches_reference strided_layouts_match_reference unequal_query_and_key_counts_align_bottom_right \
  output_written_over_q_matches_reference accumulate_merges_a_disjoint_prior_state \
  a_graph_grown_after_a_gpu_call_runs_its_new_components large_logits_stay_finite_and_correct \
  forward_is_bit_identical_across_runs randomized_sweep_matches_reference > /tmp/ek-t.log 2>&1
echo "tests rc=$?"; grep -E "FAIL|passed" /tmp/ek-t.log | head -20
echo "== memcheck: unions, every kind"
timeout 120 compute-sanitizer --tool memcheck --error-exitcode 9 $T unions_match_reference every_component_kind_matches_reference > /tmp/ek-m.log 2>&1
echo "memcheck rc=$?"; grep -E "ERROR SUMMARY|passed" /tmp/ek-m.log | tail -3
echo "== outputs, main against this tree (cmp)"
. bench/edge_cmp.sh
edge_cmp $M $B "a window:64+random:16,7" "a random:16,7" "b window:10+random:40,3" "c random:7,9+global:3,900" \
  "d dilated:3,40+random:20,1" "a window:30+dilated:2,100"
echo "== C tool (median ms): main, this tree"
bb() { local l=$1 g=$2; shift 2; timeout 90 "$g" bench "$@" --device cuda 2>/dev/null | grep -E "^ +[0-9]" | sed "s/^/$l /"; }
for n in 2^18 2^20 2^22; do
  for r in 1 2; do
    bb "main random:16 $n" $M --graph random:16,7 --n $n --dtype bf16 --repeats 10
    bb "ek   random:16 $n" $B --graph random:16,7 --n $n --dtype bf16 --repeats 10
    bb "main w64+r16 $n" $M --graph window:64+random:16,7 --n $n --dtype bf16 --repeats 10
    bb "ek   w64+r16 $n" $B --graph window:64+random:16,7 --n $n --dtype bf16 --repeats 10
  done
done
bb "main dilated+r $n" $M --graph dilated:2,64+random:8,3 --n 2^20 --dtype bf16 --repeats 10
bb "ek   dilated+r $n" $B --graph dilated:2,64+random:8,3 --n 2^20 --dtype bf16 --repeats 10
