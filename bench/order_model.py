#!/usr/bin/env python3
"""order_model.py -- a CPU model of the warp-specialized kernel's causal work orders: which super
tiles each CTA takes (launch_ws_as / unit_of in src/cuda/tile_wgmma.cu) and the largest CTA's share
of the key tiles over the mean (1.00: even). Run it before spending device time on an order.

Orders: plain (CTA b takes b, b + G, ...; heads outer), inner (the kernel's unit_rev = 1: last
first, heads inner, snake rounds), outer (run 29b's GRAPHATTN_REV_ORDER=outer, not kept: the plain
order backwards in snake rounds), group:g (heads inner in groups of g heads, the last group the
rest: a patch withdrawn in session 28, in git history at 39ca3cc), dyn (bench/patches/dyn.patch:
a work counter, heads outer, each head's heaviest first, taken by whichever CTA frees first).
A super tile of NC query tiles of 64 rows walks ~(i + 1) * NC key tiles (causal, Nq = Nk); NC is
the kernel's consumers: 4 at D = 64, 3 at D = 128, 2 at D = 256.

  python3 bench/order_model.py            the cases of runs 28d and 29b
"""
import heapq


def work(u, sup_bh, nc):
    """Key tiles of super tile u: ~(i + 1) * NC for its index i within its (batch, head)."""
    return (u % sup_bh + 1) * nc


def dyn_shares(sup_bh, bh, grid, nc):
    """bench/patches/dyn.patch: CTA b's first super tile j = b, every later j from a counter, taken
    by whichever CTA frees first; j -> heads outer, each head's heaviest first."""
    nsup = sup_bh * bh
    w = lambda j: work(j // sup_bh * sup_bh + sup_bh - 1 - j % sup_bh, sup_bh, nc)  # noqa: E731
    tot = [w(b) for b in range(grid)]
    heap = [(tot[b], b) for b in range(grid)]
    heapq.heapify(heap)
    for j in range(grid, nsup):
        t, b = heapq.heappop(heap)
        tot[b] = t + w(j)
        heapq.heappush(heap, (tot[b], b))
    return max(tot) / (sum(tot) / grid)


def shares(sup_bh, bh, grid, nc, order):
    if order == "dyn":
        return dyn_shares(sup_bh, bh, grid, nc)
    nsup = sup_bh * bh
    tot = [0] * grid
    for r in range((nsup + grid - 1) // grid):
        for b in range(grid):
            u0 = b + r * grid
            if u0 >= nsup:
                continue
            if order == "plain":
                u = u0
            else:
                j = u0 + grid - 1 - 2 * b if (r & 1) and (r + 1) * grid <= nsup else u0
                if order == "outer":
                    u = nsup - 1 - j
                else:
                    g = bh if order == "inner" else min(bh, int(order.split(":")[1]))
                    grp, k = divmod(j, g * sup_bh)
                    i, hh = divmod(k, min(g, bh - grp * g))  # the last group: the rest
                    u = (grp * g + hh) * sup_bh + sup_bh - 1 - i
            tot[b] += work(u, sup_bh, nc)
    return max(tot) / (sum(tot) / grid)


if __name__ == "__main__":
    cases = [("causal D 128 H 16 2^16", 342, 16, 3), ("causal D 128 f16 H 8 2^16", 342, 8, 3), ("causal D 256 H 8 2^15", 256, 8, 2),
             ("causal D 64 H 16 2^16", 256, 16, 4), ("causal D 64 H 1 2^20", 4096, 1, 4)]
    orders = ["plain", "inner", "outer", "group:2", "group:4", "dyn"]
    print("%-24s" % "case (132 CTAs)" + "".join("%9s" % o for o in orders))
    for name, sup_bh, bh, nc in cases:
        print("%-24s" % name + "".join("%9.3f" % shares(sup_bh, bh, 132, nc, o) for o in orders))
