#!/usr/bin/env python3
"""skew_csrs.py [skew | spread | wide | sparse] -- the uneven CSRs of the rows-mode probes, each written as
/tmp/PREFIX-NAME-p.npy (int64 row pointers) and /tmp/PREFIX-NAME-i.npy (int32 columns, distinct
and sorted in each row), with a line of its mean, longest row, excess at 8 rows a warp and the mode
the rows-mode rule picks for it at bf16 D 64 (the excess at most 5 since run 83; the busy-rows test
since run 77; heavy rows, over 4096 keys, not set apart: none here is).

skew (bench/edge_rows_skew_probe.sh, run 72; prefix skew): uni16 (2^20 rows of 16 keys), zipf
(2^20 rows, 4 * Pareto(1.2) capped at 4000), alt (2^18 rows alternating 1 and 500 keys), spike
(2^20 rows of 8 keys, every 64th of 3000). Columns: a row's keys k * n / degree apart from
row * 7919, wrapped at n and sorted.

spread (bench/edge_rows_spread_probe.sh, run 75; prefix sp), 2^20 rows: e8-L (8 keys, every 8th
row L keys; L = 64 ... 1024), e64-L (every 64th row; L = 128, 512), u0-64 (lengths uniform in
0-64). Columns: the same spacing from (row * 7919) mod the spacing, so below n without a wrap.

wide (bench/edge_rows_mean_probe.sh, run 77; prefix wd), 2^20 rows, columns as spread's: e16-L
(8 keys, every 16th row L keys; L = 256, 512), e64-L (every 64th; L = 192, 256, 320): longest
rows 11-25x the mean, between run 75's e64-128 and e64-512, for warps of 4 rows (bf16 at D 128,
float32 at D 64), where run 76 saw e64-128 faster in rows mode.

sparse (bench/edge_rows_sparse_probe.sh, run 79; prefix ss), 2^20 rows, columns as spread's: e16-L
(L = 64, 128, 160) and e32-L (L = 128, 256, 512): every 16th or 32nd row long, which the spread
bound (8x + 32) lets into rows mode up to L ~184 (e16) or ~300 (e32), after run 77's every 16th
row of 256 keys ran 2.6x slower in rows mode at 4 rows a warp.
"""
import sys
import numpy as np


def write(prefix, name, deg, wrap):
    n = deg.size
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(deg, out=ptr[1:])
    rows = np.repeat(np.arange(n, dtype=np.int64), deg)
    k = np.arange(ptr[-1], dtype=np.int64) - ptr[rows]           # slot within the row
    stride = np.maximum(n // np.maximum(deg, 1), 1)[rows]         # distinct: k * stride < n
    if wrap:
        cols = (rows * 7919 + k * stride) % n
        cols = cols[np.lexsort((cols, rows))]
    else:
        cols = (rows * 7919) % stride + k * stride
    np.save("/tmp/%s-%s-p.npy" % (prefix, name), ptr)
    np.save("/tmp/%s-%s-i.npy" % (prefix, name), cols.astype(np.int32))
    mean, mx, busy = ptr[-1] / n, deg.max(), int((deg > 0).sum())
    k = n // 8 * 8  # the excess at 8 rows a warp (bf16 D 64): each group's most less its mean, per row
    excess = (deg[:k].reshape(-1, 8).max(1).sum() - deg[:k].sum() / 8) / n
    rule = "rows" if excess <= 5 and mean <= 520 and not (busy <= n - n // 2 and mean * n > 448 * busy) else "row"
    print("%-8s rows %d edges %d mean %.1f max %d excess@8 %.2f  rule (bf16 D 64): %s" % (name, n, ptr[-1], mean, mx, excess, rule))


which = sys.argv[1] if len(sys.argv) > 1 else "skew"
n = 1 << 20
if which == "skew":
    rng = np.random.default_rng(3)
    write("skew", "uni16", np.full(n, 16, dtype=np.int64), True)
    write("skew", "zipf", np.minimum(4000, np.floor(4 * (1 + rng.pareto(1.2, n)))).astype(np.int64), True)
    write("skew", "alt", np.where(np.arange(1 << 18) % 2 == 0, 1, 500).astype(np.int64), True)
    write("skew", "spike", np.where(np.arange(n) % 64 == 0, 3000, 8).astype(np.int64), True)
elif which == "spread":
    i = np.arange(n)
    for L in (64, 128, 256, 512, 1024):
        write("sp", "e8-%d" % L, np.where(i % 8 == 0, L, 8).astype(np.int64), False)
    for L in (128, 512):
        write("sp", "e64-%d" % L, np.where(i % 64 == 0, L, 8).astype(np.int64), False)
    write("sp", "u0-64", np.random.default_rng(1).integers(0, 65, n).astype(np.int64), False)
elif which == "wide":
    i = np.arange(n)
    for every, L in ((16, 256), (16, 512), (64, 192), (64, 256), (64, 320)):
        write("wd", "e%d-%d" % (every, L), np.where(i % every == 0, L, 8).astype(np.int64), False)
elif which == "sparse":
    i = np.arange(n)
    for every, L in ((16, 64), (16, 128), (16, 160), (32, 128), (32, 256), (32, 512)):
        write("ss", "e%d-%d" % (every, L), np.where(i % every == 0, L, 8).astype(np.int64), False)
else:
    sys.exit("skew_csrs.py: expected skew, spread, wide or sparse, got %s" % which)
