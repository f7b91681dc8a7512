# bench/ab_lib.sh -- sourced by the one-call A/B scripts (bench/*_ab.sh) that time the C tool.
# ab_bench LABEL ARGS...: `$G bench ARGS --device cuda` (G: the graphattn tool), its result rows
# alone, each prefixed with LABEL; 60 s at most.
ab_bench() {
  local l=$1; shift
  timeout 60 "$G" bench "$@" --device cuda 2>/dev/null | grep -E "^ +[0-9]" | sed "s/^/$l /"
}
# ab_docs N LENGTHS...: the bounds of packed documents over N rows ("0,l1,l1+l2,...,N"), their
# lengths cycling through LENGTHS, the last one cut at N
ab_docs() {
  local n=$1; shift
  awk -v n="$n" -v lens="$*" 'BEGIN { p = 0; k = split(lens, L, " "); s = "0";
    for (i = 0; p < n; i++) { p += L[i % k + 1]; if (p > n) p = n; s = s "," p } print s }'
}
# ab_unpack NAME...: build-carrypoly/NAME.gz (a tool or test_cuda built here and carried gzip'd,
# three or four of them under the 64 MiB a call carries; the GPU machine has no zstd) unpacked to
# build-carrypoly/bin/NAME, executable; fails on the first that does not unpack
ab_unpack() {
  local f
  mkdir -p build-carrypoly/bin
  for f in "$@"; do
    gzip -dc "build-carrypoly/$f.gz" > "build-carrypoly/bin/$f" && chmod +x "build-carrypoly/bin/$f" || return 1
  done
}
# ab_unpacked_builds MAIN PATCHED TEST: ab_two_builds for builds carried gzip'd (ab_unpack):
# M, B and T from build-carrypoly's MAIN, PATCHED and TEST; prints the GPU; fails when one of
# them does not unpack
ab_unpacked_builds() {
  ab_unpack "$1" "$2" "$3" || return 1
  M=build-carrypoly/bin/$1 B=build-carrypoly/bin/$2 T=build-carrypoly/bin/$3
  nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader || true
}
# ab_d64_cases: the C tool at D 64, bf16, where the window kernel's changes show (ab_bench with G
# set): window 513 at 2^22 and 2^24, window:64 at 2^22, dense H 16 at 2^14, causal H 16 at 2^16
ab_d64_cases() {
  ab_bench "window:256 2^22" --graph window:256 --n 2^22 --dtype bf16 --repeats 10
  ab_bench "window:256 2^24" --graph window:256 --n 2^24 --dtype bf16 --repeats 5
  ab_bench "window:64 2^22" --graph window:64 --n 2^22 --dtype bf16 --repeats 10
  ab_bench "dense D64 H16 2^14" --graph dense --n 2^14 --heads 16 --dtype bf16 --repeats 5
  ab_bench "causal D64 H16 2^16" --graph causal --n 2^16 --heads 16 --dtype bf16 --repeats 3
}
# ab_build MAIN_DIR: this tree's build-gpu (everything) and MAIN_DIR's (the tool alone) built side
# by side (Release, CUDA); sets T (this tree's test_cuda), B (its tool) and M (main's tool). Fails
# (after the build logs' tails) when one of them is missing.
ab_build() {
  local cfg="-DCMAKE_BUILD_TYPE=Release -DGRAPHATTN_CUDA=ON"
  (cmake -S . -B build-gpu $cfg >/dev/null && cmake --build build-gpu -j10) > /tmp/build-this.log 2>&1 &
  (cd "$1" && cmake -S . -B build-gpu $cfg >/dev/null && cmake --build build-gpu -j6 --target graphattn_cmd) \
    > /tmp/build-main.log 2>&1 &
  wait
  tail -1 /tmp/build-this.log; tail -1 /tmp/build-main.log
  T=build-gpu/tests/test_cuda B=build-gpu/tools/graphattn M=$1/build-gpu/tools/graphattn
  [ -x "$T" ] && [ -x "$M" ] || { tail -n 30 /tmp/build-this.log /tmp/build-main.log; return 1; }
}
# ab_build_this: this tree's build-gpu alone (everything; Release, CUDA); sets T (its test_cuda)
# and B and G (its tool). Fails (after the build log's tail) when it does not build.
ab_build_this() {
  (cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DGRAPHATTN_CUDA=ON >/dev/null && cmake --build build-gpu -j16) \
    > /tmp/build-this.log 2>&1 || { tail -30 /tmp/build-this.log; return 1; }
  T=build-gpu/tests/test_cuda B=build-gpu/tools/graphattn G=build-gpu/tools/graphattn
}
# ab_rounds NAME CASES: two rounds, each running the function CASES (ab_bench calls) with G set to
# main's tool (M) and then to this tree's (B), under "== main round R" / "== NAME round R"
ab_rounds() {
  local r t
  for r in 1 2; do for t in main "$1"; do
    G=$M; [ "$t" = main ] || G=$B
    echo "== $t round $r"
    "$2"
  done; done
}
# ab_switch_rounds VAR CASES: two rounds of the function CASES on one build, with the switch VAR
# unset ("on", CASES' argument) and set to 1 ("off"), in the order on, off, off, on, each under
# "== on/off round R"; VAR is left unset
ab_switch_rounds() {
  local var=$1 fn=$2 r m order
  for r in 1 2; do
    if [ $r = 1 ]; then order="on off"; else order="off on"; fi
    for m in $order; do
      echo "== $m round $r"
      if [ $m = off ]; then export "$var=1"; else unset "$var"; fi
      "$fn" $m
    done
  done
  unset "$var"
}
# ab_tests SECONDS TEST...: the named tests of this tree's test_cuda under ctest -j6
# (GA_EXPECT_WGMMA=1, 250 tile-sweep cases per kernel), at most SECONDS; prints ctest's lines for
# them and its summary; fails (the scripts then stop before their timings) unless every named test
# ran and passed: a failure, a skip (no GPU), a name that matches no test, or the time running
# out. (Run 25a: the serial form before this did not finish 11 tests in 300 s, printed nothing,
# and passed.)
ab_tests() {
  local limit=$1; shift
  local names
  names=$(IFS='|'; echo "$*")
  echo "== tests (patched tree, ctest -j6)"
  GA_EXPECT_WGMMA=1 GA_CUDA_TILE_SWEEP=250 timeout "$limit" ctest --test-dir build-gpu -j6 --output-on-failure \
    -R "^cuda\.($names)\$" 2>&1 | grep -vE "^ +Start|^Test project|^Internal ctest|^$" | tail -40 | tee /tmp/t.txt
  # ctest's summary: "100% tests passed out of N" (the GPU machine's ctest) or "100% tests
  # passed, 0 tests failed out of N" (this one's)
  grep -qE "^100% tests passed(, 0 tests failed)? out of $#\$" /tmp/t.txt && ! grep -q "(Skipped)" /tmp/t.txt ||
    { echo "tests failed, skipped, missing or out of time ($# named): no timings"; return 1; }
}
# ab_two_builds MAIN_DIR PATCHED_DIR: from two carried builds, M (main's tool), B (the patched
# tool) and T (the patched test_cuda); prints the GPU; fails when one of them is missing
ab_two_builds() {
  M=$1/tools/graphattn B=$2/tools/graphattn T=$2/tests/test_cuda
  [ -x "$M" ] && [ -x "$B" ] && [ -x "$T" ] || { echo "no $1 / $2"; return 1; }
  nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader || true
}
# ab_all_tests SECONDS DIR: every TEST of tests/test_cuda.c on $T, 6 at a time (GA_EXPECT_WGMMA=1,
# 250 tile-sweep cases per kernel), at most SECONDS, each test's output in DIR/NAME.log; prints how
# many ran and the ones that did not pass (with their failure lines) and the optimistic-softmax
# test's retry counts; fails (the scripts then stop before their timings) unless every test ran
# and passed
ab_all_tests() {
  local limit=$1 dir=$2 names n f
  names=$(grep -oE '^TEST\(([a-z0-9_]+)\)' tests/test_cuda.c | sed 's/TEST(\(.*\))/\1/')
  n=$(printf '%s\n' $names | wc -l)
  mkdir -p "$dir"
  echo "== test_cuda, every test (6 at a time)"
  local t0; t0=$(date +%s)
  printf '%s\n' $names | T=$T D=$dir GA_EXPECT_WGMMA=1 GA_CUDA_TILE_SWEEP=250 timeout "$limit" xargs -P 6 -I{} sh -c \
    '"$T" {} > "$D/{}.log" 2>&1; echo "{} rc=$?"' > "$dir/rc.txt"
  echo "$(wc -l < "$dir/rc.txt") of $n tests ran in $(( $(date +%s) - t0 )) s; not rc=0:"
  grep -v "rc=0$" "$dir/rc.txt"
  grep -h "retries" "$dir/optimistic_softmax_retries_where_scores_climb_and_matches_reference.log" 2>/dev/null | head -8
  if [ "$(grep -vc "rc=0$" "$dir/rc.txt")" != 0 ] || [ "$(wc -l < "$dir/rc.txt")" != "$n" ]; then
    for f in $(grep -v "rc=0$" "$dir/rc.txt" | awk '{print $1}'); do echo "--- $f"; grep -E "FAIL|fail" "$dir/$f.log" | head -8; done
    echo "tests failed or missing: no timings"; return 1
  fi
}
# ab_sanitizers TEST: compute-sanitizer memcheck and racecheck on one test of $T (small sweeps,
# 120 s each); prints each summary; fails (after the report's tail) on any error or hazard
ab_sanitizers() {
  local tool r
  for tool in memcheck racecheck; do
    GA_CUDA_SWEEP=20 GA_CUDA_TILE_SWEEP=12 timeout 120 compute-sanitizer --tool $tool --error-exitcode 99 $T "$1" \
      > /tmp/san-$tool.log 2>&1
    r=$?; echo "$tool: exit $r, $(grep -E '(ERROR|RACECHECK) SUMMARY' /tmp/san-$tool.log | tail -1)"
    [ $r = 0 ] || { tail -20 /tmp/san-$tool.log; echo "sanitizer failed: no timings"; return 1; }
  done
}
# ab_power LABEL [VAR=VALUE ...] -- ARGS...: `$B bench ARGS` (B: the graphattn tool; pass
# --device cuda in ARGS) with nvidia-smi sampling the SM clock, power draw and clock-event reasons
# every 50 ms; prints the call's median ms and the samples' medians while the card drew more than
# BUSY_W watts (default 250). 120 s at most.
ab_power() {
  local label=$1; shift
  local envs=() q=clocks.sm,power.draw,clocks_event_reasons.active
  while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  nvidia-smi --query-gpu=$q --format=csv,noheader,nounits >/dev/null 2>&1 || q=clocks.sm,power.draw,clocks_throttle_reasons.active
  nvidia-smi --query-gpu=$q --format=csv,noheader,nounits -lms 50 > /tmp/smi.log 2>/dev/null &
  local pid=$!
  local ms; ms=$(timeout 120 env "${envs[@]}" "$B" bench "$@" 2>/dev/null | tail -1 | awk '{print $3}')
  kill $pid 2>/dev/null; wait $pid 2>/dev/null
  python3 - "$label" "$ms" "${BUSY_W:-250}" <<'PY'
import sys, statistics
label, ms, busy = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = []
for line in open("/tmp/smi.log"):
    p = [x.strip() for x in line.split(",")]
    try: rows.append((float(p[0]), float(p[1]), p[2]))
    except (ValueError, IndexError): pass
b = [r for r in rows if r[1] > busy]
if b:
    reasons = {}
    for r in b: reasons[r[2]] = reasons.get(r[2], 0) + 1
    top = ",".join("%s:%d" % kv for kv in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
    print("%-34s %9s ms  sm %5.0f MHz  %5.0f W  (%d busy samples; reasons %s)" % (label, ms,
          statistics.median(r[0] for r in b), statistics.median(r[1] for r in b), len(b), top))
else:
    print("%-34s %9s ms  (no busy samples)" % (label, ms))
PY
}
