"""The tests' own oracle, written from the definitions in include/graphattn.h and nothing else:
dense boolean masks for every graph kind (NumPy, brute force) and dense masked attention in
float64. Nothing here calls the library, so a bug there cannot hide in the expected values.
"""
import math

import numpy as np

M64 = (1 << 64) - 1


def hash64(seed, row, t):
    """splitmix64's finalizer over seed ^ row*golden ^ t*c2 (the hash the header documents for
    random and bigbird components), in Python integers."""
    z = (seed ^ ((row * 0x9E3779B97F4A7C15) & M64) ^ ((t * 0xC2B2AE3D27D4EB4F) & M64)) & M64
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def random_choice(seed, row, n, r):
    """The min(r, n) stratified picks of ga_graph_add_random for one row over [0, n)."""
    m = min(r, n)
    picks = []
    for t in range(m):
        start, end = (t * n) // m, ((t + 1) * n) // m
        picks.append(start + hash64(seed, row, t) % (end - start))
    return picks


def _diag(nq, nk):
    """Bottom-right aligned position of each query: i' = i + (Nk - Nq)."""
    return np.arange(nq)[:, None] + (nk - nq)


def mask_of(part, nq, nk):
    """Dense boolean (nq, nk) mask of one component given as a tuple like ("window", 3, 2)."""
    kind = part[0]
    i = np.arange(nq)[:, None]
    j = np.arange(nk)[None, :]
    d = _diag(nq, nk)
    if kind == "dense":
        return np.ones((nq, nk), dtype=bool)
    if kind == "causal":
        return j <= d
    if kind == "window":
        left, right = part[1], part[2]
        return (j >= d - left) & (j <= d + right)
    if kind == "dilated":
        w, step = part[1], part[2]
        off = j - d
        return (off % step == 0) & (np.abs(off) <= w * step)
    if kind == "blocks":
        b = part[1]
        return (i // b) == (j // b)
    if kind == "longnet":
        s, r, o = part[1], part[2], part[3]
        return ((i // s) == (j // s)) & (i % r == o) & (j % r == o)
    if kind == "global":
        toks = np.asarray(part[1])
        m = np.zeros((nq, nk), dtype=bool)
        for g in toks:
            if g < nq:
                m[g, :] = True
            if g < nk:
                m[:, g] = True
        return m
    if kind == "random":
        r, seed = part[1], part[2]
        m = np.zeros((nq, nk), dtype=bool)
        for row in range(nq):
            m[row, random_choice(seed, row, nk, r)] = True
        return m
    if kind == "bigbird":
        b, wb, gb, rb, seed = part[1:]
        nbk = -(-nk // b)
        qb = i // b
        kb = j // b
        m = (np.abs(qb - kb) <= wb) | (qb < gb) | (kb < gb)
        m = np.broadcast_to(m, (nq, nk)).copy()
        for row in range(nq):
            for blk in random_choice(seed, row // b, nbk, rb):
                m[row, blk * b:(blk + 1) * b] = True
        return m
    if kind == "documents":
        # ("documents", bounds, causal): one document per run of positions between bounds
        b = np.asarray(part[1], dtype=np.int64)
        doc_j = np.searchsorted(b, j, side="right")
        doc_d = np.searchsorted(b, np.maximum(d, 0), side="right")
        m = (d >= 0) & (doc_j == doc_d)
        return m & (j <= d) if part[2] else m
    if kind == "csr":
        indptr, indices = part[1], part[2]
        m = np.zeros((nq, nk), dtype=bool)
        for row in range(nq):
            m[row, indices[indptr[row]:indptr[row + 1]]] = True
        return m
    if kind == "coo":
        m = np.zeros((nq, nk), dtype=bool)
        m[np.asarray(part[1]), np.asarray(part[2])] = True
        return m
    raise ValueError(kind)


def union_mask(parts, nq, nk):
    m = np.zeros((nq, nk), dtype=bool)
    for p in parts:
        m |= mask_of(p, nq, nk)
    return m


def dense_attention(q, k, v, mask, scale=None):
    """Masked softmax attention in float64. q: (B, Nq, H, D); k, v: (B, Nk, Hkv, D); mask (Nq, Nk).
    Returns out (B, Nq, H, D) and lse (B, Nq, H); rows without edges give 0 and -inf."""
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    b, nq, h, dim = q.shape
    hkv = k.shape[2]
    group = h // hkv
    if scale is None:
        scale = 1.0 / math.sqrt(dim)
    out = np.zeros(q.shape, dtype=np.float64)
    lse = np.full((b, nq, h), -np.inf)
    has = mask.any(axis=1)
    for head in range(h):
        kh = k[:, :, head // group, :]
        vh = v[:, :, head // group, :]
        s = scale * np.einsum("bqd,bkd->bqk", q[:, :, head, :], kh)
        s = np.where(mask[None], s, -np.inf)
        mx = np.where(has[None, :], s.max(axis=2), 0.0)
        p = np.exp(s - mx[:, :, None])
        denom = p.sum(axis=2)
        safe = np.where(denom > 0, denom, 1.0)
        out[:, :, head, :] = np.einsum("bqk,bkd->bqd", p, vh) / safe[:, :, None]
        lse[:, :, head] = np.where(has[None, :], np.log(safe) + mx, -np.inf)
    return out, lse


# max |out - ref| <= atol + rtol * |ref|  (unit-normal inputs; see docs RELIABILITY.md)
TOLERANCE = {
    "float32": (1e-4, 1e-4),
    "float16": (1e-2, 5e-3),
    "bfloat16": (1e-2, 1e-2),
}
LSE_TOLERANCE = (2e-4, 1e-5)


def assert_close(got, want, dtype_name, what="out"):
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == want.shape, "%s: shape %s, expected %s" % (what, got.shape, want.shape)
    assert not np.isnan(got).any(), "%s has NaN at %s" % (what, np.argwhere(np.isnan(got))[:5].tolist())
    atol, rtol = TOLERANCE[dtype_name]
    err = np.abs(got - want)
    bound = atol + rtol * np.abs(want)
    bad = err > bound
    assert not bad.any(), "%s (%s): %d elements off; worst at %s: got %r want %r (max err %.3g)" % (
        what, dtype_name, int(bad.sum()), np.unravel_index(np.argmax(err - bound), err.shape),
        got.flat[np.argmax(err - bound)], want.flat[np.argmax(err - bound)], err.max())


def assert_lse_close(got, want):
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == want.shape, "lse: shape %s, expected %s" % (got.shape, want.shape)
    inf_want = np.isneginf(want)
    assert np.array_equal(np.isneginf(got), inf_want), "lse: -inf rows differ: got %s want %s" % (
        np.argwhere(np.isneginf(got))[:5].tolist(), np.argwhere(inf_want)[:5].tolist())
    g, w = got[~inf_want], want[~inf_want]
    atol, rtol = LSE_TOLERANCE
    err = np.abs(g - w)
    assert (err <= atol + rtol * np.abs(w)).all(), "lse: max err %.3g (got %r want %r)" % (
        err.max(), g[np.argmax(err)], w[np.argmax(err)])
