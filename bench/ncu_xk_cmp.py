#!/usr/bin/env python3
"""ncu_xk_cmp.py -- two kernels' ncu source counters side by side (bench/ncu_xk.sh writes them):
executed warp instructions and warp stall samples per opcode, in total and per consumer key tile
(one 64x64x16 HGMMA line of Q K^T's four per tile and warp: its count / 4 ... counted as the
number of times the first 64x64 HGMMA line ran), so that where a Longformer call's query tiles
spend more than the window kernel shows by opcode and by how often a line runs.

    bench/ncu_xk_cmp.py WINDOW_SOURCE.csv LONGFORMER_SOURCE.csv
"""
import csv
import sys
from collections import defaultdict


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    for i, r in enumerate(rows):
        if any(c.strip() == "Source" for c in r) and any("Instructions Executed" in c for c in r):
            head, body = r, rows[i + 1:]
            break
    else:
        sys.exit("%s: no header with Source and Instructions Executed" % path)
    src = head.index("Source")
    ex = next(j for j, c in enumerate(head) if "Instructions Executed" in c and "Predicated" not in c)
    st = next((j for j, c in enumerate(head) if c.startswith("Warp Stall Sampling (All")), None)
    lines = []
    for r in body:
        if len(r) <= max(src, ex):
            continue
        try:
            n = int(float(r[ex].replace(",", "") or 0))
        except ValueError:
            continue
        s = int(float(r[st].replace(",", "") or 0)) if st is not None and r[st].strip() else 0
        ins = r[src].strip()
        t = ins.split()
        if not t:
            continue
        op = t[1] if t[0].startswith("@") and len(t) > 1 else t[0]
        lines.append((op, ins, n, s))
    return lines


def tiles(lines):
    """consumer key tiles x warps: the most executed HGMMA.64x64 line's count"""
    c = [n for op, ins, n, s in lines if op.startswith("HGMMA.64x64")]
    return max(c) if c else 1


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = read(sys.argv[1]), read(sys.argv[2])
    ta, tb = tiles(a), tiles(b)
    print("window: %d lines, %.4g instructions, %d key tiles x warps; longformer: %d lines, %.4g, %d"
          % (len(a), sum(x[2] for x in a), ta, len(b), sum(x[2] for x in b), tb))
    for name, ls, t in (("window", a, ta), ("longformer", b, tb)):
        by = defaultdict(lambda: [0, 0])
        for op, ins, n, s in ls:
            k = "steady (= tiles)" if n == t else ("x tiles/4..tiles" if t / 4 <= n < t else ("> tiles" if n > t else "< tiles/4"))
            by[k][0] += n
            by[k][1] += s
        tot = sum(v[0] for v in by.values()) or 1
        sm = sum(v[1] for v in by.values()) or 1
        print("%s: by how often a line runs (instructions per key tile per warp, share; stall share)" % name)
        for k, v in sorted(by.items(), key=lambda kv: -kv[1][0]):
            print("  %-18s %7.1f  %5.1f%%  %5.1f%%" % (k, v[0] / t, 100 * v[0] / tot, 100 * v[1] / sm))
    ops = defaultdict(lambda: [0, 0, 0, 0])
    for op, ins, n, s in a:
        ops[op.split(".")[0]][0] += n
        ops[op.split(".")[0]][2] += s
    for op, ins, n, s in b:
        ops[op.split(".")[0]][1] += n
        ops[op.split(".")[0]][3] += s
    print("per opcode: instructions per key tile per warp (window, longformer, difference), stall samples")
    rows = sorted(ops.items(), key=lambda kv: -(kv[1][1] / tb - kv[1][0] / ta))
    for op, (na, nb, sa, sb) in rows[:25]:
        print("  %-10s %8.1f %8.1f %+8.1f   %9d %9d" % (op, na / ta, nb / tb, nb / tb - na / ta, sa, sb))
    print("longformer lines run less often than once per tile, most instructions first:")
    for op, ins, n, s in sorted((x for x in b if x[2] < tb), key=lambda x: -x[2])[:15]:
        print("  %9d  %7d stalls  %s" % (n, s, ins[:90]))


if __name__ == "__main__":
    main()
