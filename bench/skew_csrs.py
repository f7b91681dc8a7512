#!/usr/bin/env python3
"""skew_csrs.py -- the skewed CSRs of bench/edge_rows_skew_probe.sh (run 72), written to
/tmp/skew-NAME-p.npy (int64 row pointers) and /tmp/skew-NAME-i.npy (int32 columns, distinct and
sorted in each row): uni16 (2^20 rows of 16 keys), zipf (2^20 rows, 4 * Pareto(1.2) capped at
4000), alt (2^18 rows alternating 1 and 500 keys), spike (2^20 rows of 8 keys, every 64th of 3000).
"""
import numpy as np
rng = np.random.default_rng(3)
def write(name, deg):
    n = deg.size
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(deg, out=ptr[1:])
    rows = np.repeat(np.arange(n, dtype=np.int64), deg)
    k = np.arange(ptr[-1], dtype=np.int64) - ptr[rows]           # slot within the row
    stride = np.maximum(n // np.maximum(deg, 1), 1)[rows]         # distinct: k * stride < n
    cols = (rows * 7919 + k * stride) % n
    order = np.lexsort((cols, rows))
    np.save("/tmp/skew-%s-p.npy" % name, ptr)
    np.save("/tmp/skew-%s-i.npy" % name, cols[order].astype(np.int32))
    print("%-6s rows %d edges %d mean %.1f max %d" % (name, n, ptr[-1], ptr[-1] / n, deg.max()))
n = 1 << 20
write("uni16", np.full(n, 16, dtype=np.int64))
write("zipf", np.minimum(4000, np.floor(4 * (1 + rng.pareto(1.2, n)))).astype(np.int64))
write("alt", np.where(np.arange(1 << 18) % 2 == 0, 1, 500).astype(np.int64))
write("spike", np.where(np.arange(n) % 64 == 0, 3000, 8).astype(np.int64))
