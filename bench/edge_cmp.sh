# bench/edge_cmp.sh -- sourced by the edge engine's A/B scripts (edgekeys_ab.sh, edge_row_ab.sh).
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
