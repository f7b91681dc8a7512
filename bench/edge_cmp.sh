# bench/edge_cmp.sh -- sourced by the edge engine's A/B scripts and probes (bench/edge*.sh and the
# probes that time tools carried in build-carryxi).
# edge_cmp TOOL_A TOOL_B "INPUT SPEC"...: both tools' `run` on the same seeded .npy inputs (a:
# 20000 x 2 x 64 f16, b: 9000 x 1 x 8 f32, c: 6000 x 2 x 128 f32, d: 5000 x 3 x 40 f16), output
# and lse compared byte for byte; prints "identical:" or "DIFFER:" per case.
edge_cmp() {
  local A=$1 B=$2 c x g t tool; shift 2
  python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(5)
for name, n, h, d, dt in [("a", 20000, 2, 64, np.float16), ("b", 9000, 1, 8, np.float32), ("c", 6000, 2, 128, np.float32),
                          ("d", 5000, 3, 40, np.float16)]:
    for t in "qkv":
        np.save("/tmp/ek-%s-%s.npy" % (name, t), rng.standard_normal((n, h, d)).astype(dt))
PY
  for c in "$@"; do
    set -- $c; x=$1 g=$2
    for t in A B; do
      [ $t = A ] && tool=$A || tool=$B
      $tool run --graph $g --q /tmp/ek-$x-q.npy --k /tmp/ek-$x-k.npy --v /tmp/ek-$x-v.npy --out /tmp/ek-$t.npy \
        --lse /tmp/ek-$t-lse.npy --device cuda --quiet || echo "run failed: $t $g"
    done
    cmp -s /tmp/ek-A.npy /tmp/ek-B.npy && cmp -s /tmp/ek-A-lse.npy /tmp/ek-B-lse.npy && echo "identical: $x $g" || echo "DIFFER: $x $g"
  done
}
# edge_bb LABEL TOOL ARGS...: `TOOL bench ARGS --device cuda`, its result rows prefixed with LABEL
edge_bb() {
  local l=$1 g=$2; shift 2
  timeout 90 "$g" bench "$@" --device cuda 2>/dev/null | grep -E "^ +[0-9]" | sed "s/^/$l /"
}
# edge_modes LABEL TOOL ARGS...: edge_bb in row mode, then in rows mode (GRAPHATTN_EDGE_ROWS=0, 1),
# its rows prefixed "rows=M LABEL"
edge_modes() {
  local l=$1 t=$2 m; shift 2
  for m in 0 1; do GRAPHATTN_EDGE_ROWS=$m edge_bb "rows=$m $l" "$t" "$@"; done
}
# edge_csr NAME: the --graph spec of skew_csrs.py's /tmp/NAME-p.npy and /tmp/NAME-i.npy
edge_csr() { echo "csr:/tmp/$1-p.npy,/tmp/$1-i.npy"; }
# edge_cases LABEL TOOL: the edge engine's four cases of runs 57-59, bf16, D 64: random:16 and
# window:64 + random:16 and dilated:2,64 at 2^20, the 513-key window on the edge engine at 2^18
edge_cases() {
  edge_bb "$1 random:16 2^20" "$2" --graph random:16,7 --n 2^20 --dtype bf16 --repeats 10
  edge_bb "$1 w64+r16 2^20" "$2" --graph window:64+random:16,7 --n 2^20 --dtype bf16 --repeats 10
  edge_bb "$1 dilated:2,64 2^20" "$2" --graph dilated:2,64 --n 2^20 --dtype bf16 --repeats 10
  GRAPHATTN_NO_TILES=1 edge_bb "$1 edges window:256 2^18" "$2" --graph window:256 --n 2^18 --dtype bf16 --repeats 5
}
# edge_ab6 LABEL TOOL: the six cases runs 66-69's A/Bs share (edge_pipe_ab, edge_lq_ab,
# edge_rows_ab), each row prefixed with LABEL and the case: random:16 bf16 D 64, window 64 + random
# 16, random:64, random:16 float32 at D 64 and D 128, random:16 bf16 D 128, all at 2^20
edge_ab6() {
  edge_bb "$1 random:16 bf16" "$2" --graph random:16,7 --n 2^20 --dtype bf16 --repeats 10
  edge_bb "$1 w64+r16 bf16" "$2" --graph window:64+random:16,7 --n 2^20 --dtype bf16 --repeats 10
  edge_bb "$1 random:64 bf16" "$2" --graph random:64,7 --n 2^20 --dtype bf16 --repeats 5
  edge_bb "$1 random:16 f32" "$2" --graph random:16,7 --n 2^20 --dtype f32 --repeats 5
  edge_bb "$1 random:16 f32 D128" "$2" --graph random:16,7 --n 2^20 --dim 128 --dtype f32 --repeats 5
  edge_bb "$1 random:16 bf16 D128" "$2" --graph random:16,7 --n 2^20 --dim 128 --dtype bf16 --repeats 5
}
# edge_pkg_random: bench/gpu_bench.py --cases random (window 64 + 16 random keys through the
# package, beside FA2 and Flex) on build-carryxi/bin/libgraphattn.so, its last 25 lines
edge_pkg_random() {
  PYTHONUNBUFFERED=1 GRAPHATTN_LIBRARY=$PWD/build-carryxi/bin/libgraphattn.so timeout 150 python3 bench/gpu_bench.py \
    --cases random 2>&1 | tail -25
}
# edge_san SECONDS TEST_CUDA TEST: compute-sanitizer memcheck and racecheck side by side on one
# test of a test_cuda binary, each capped at SECONDS; each tool's last lines and exit status
edge_san() {
  local tool
  for tool in memcheck racecheck; do
    ( timeout "$1" compute-sanitizer --tool $tool --error-exitcode 99 "$2" "$3" > /tmp/san-$tool.log 2>&1
      echo "$tool rc=$?" >> /tmp/san-$tool.log ) &
  done
  wait
  for tool in memcheck racecheck; do tail -4 /tmp/san-$tool.log; done
}
# edge_tool NAME: build-carryxi/NAME.gz (a tool built here and carried gzip'd) unpacked to
# build-carryxi/bin/NAME, executable, its path printed; fails when it does not unpack
edge_tool() {
  mkdir -p build-carryxi/bin
  gzip -dc "build-carryxi/$1.gz" > "build-carryxi/bin/$1" && chmod +x "build-carryxi/bin/$1" && echo "build-carryxi/bin/$1"
}
# edge_same TOOL "ENV" "ENV"...: TOOL's `run` on seeded inputs (20000 x 2 x 64 f16) of random:16,
# window 64 + random 16, longnet:512,2,0 and window:300, under each ENV (variable assignments, e.g.
# "GRAPHATTN_EDGE_WPB=8 GRAPHATTN_EDGE_ROWS=0"); output and lse of every ENV after the first
# compared byte for byte with the first's: "identical:" or "DIFFER:" per graph and ENV
edge_same() {
  local tool=$1 g e n; shift
  python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(5)
for t in "qkv":
    np.save("/tmp/wq-%s.npy" % t, rng.standard_normal((20000, 2, 64)).astype(np.float16))
PY
  for g in random:16,7 window:64+random:16,7 longnet:512,2,0 window:300; do
    n=0
    for e in "$@"; do
      env $e $tool run --graph $g --q /tmp/wq-q.npy --k /tmp/wq-k.npy --v /tmp/wq-v.npy --out /tmp/wq-o-$n.npy \
        --lse /tmp/wq-l-$n.npy --device cuda --quiet || echo "run failed: $g $e"
      [ $n -gt 0 ] && { cmp -s /tmp/wq-o-0.npy /tmp/wq-o-$n.npy && cmp -s /tmp/wq-l-0.npy /tmp/wq-l-$n.npy &&
        echo "identical: $g $e" || echo "DIFFER: $g $e"; }
      n=$((n + 1))
    done
  done
}
