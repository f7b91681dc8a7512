"""Shared cases for the Python tests: graphs (each with its definition as plain tuples, for the
NumPy masks in reference.py) and input shapes."""
import importlib.util
import os
import pathlib
import sys
import zlib

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import graphattn as ga  # noqa: E402


def load_script(name):
    """A script of scripts/ (whose names have hyphens, so not importable by name) as a module."""
    path = pathlib.Path(__file__).resolve().parents[2] / "scripts" / name
    spec = importlib.util.spec_from_file_location(path.stem.replace("-", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _random_csr(nq, nk, density, seed, empty_rows=()):
    rng = np.random.default_rng(seed)
    m = rng.random((nq, nk)) < density
    for r in empty_rows:
        if r < nq:
            m[r] = False
    indptr = np.concatenate([[0], np.cumsum(m.sum(axis=1))]).astype(np.int64)
    indices = np.nonzero(m)[1].astype(np.int64)
    return indptr, indices


def _csr_case(nq, nk):
    indptr, indices = _random_csr(nq, nk, 0.15, 11, empty_rows=(1, nq - 1))
    return ga.csr(indptr, indices.astype(np.int32), shape=(nq, nk)), [("csr", indptr, indices)]


def _coo_case(nq, nk):
    indptr, indices = _random_csr(nq, nk, 0.1, 12)
    rows = np.repeat(np.arange(nq), np.diff(indptr))
    order = np.random.default_rng(3).permutation(rows.size)  # any order is allowed
    r, c = rows[order], indices[order]
    return ga.coo(r, c, shape=(nq, nk)), [("coo", r, c)]


def _tokens(nq, nk):
    n = max(nq, nk)
    return sorted({0, min(7, n - 1), n - 1})


# name -> f(nq, nk) -> (Graph, [component tuples])
GRAPH_CASES = {
    "dense": lambda nq, nk: (ga.dense(), [("dense",)]),
    "causal": lambda nq, nk: (ga.causal(), [("causal",)]),
    "window": lambda nq, nk: (ga.window(3), [("window", 3, 3)]),
    "window_causal": lambda nq, nk: (ga.window(4, 0), [("window", 4, 0)]),
    "window_asym": lambda nq, nk: (ga.window(1, 5), [("window", 1, 5)]),
    "dilated": lambda nq, nk: (ga.dilated(2, 3), [("dilated", 2, 3)]),
    "blocks": lambda nq, nk: (ga.blocks(16), [("blocks", 16)]),
    "longnet": lambda nq, nk: (ga.longnet(32, 4, 1), [("longnet", 32, 4, 1)]),
    "global": lambda nq, nk: (ga.global_tokens(_tokens(nq, nk)), [("global", _tokens(nq, nk))]),
    "random": lambda nq, nk: (ga.random_keys(5, seed=42), [("random", 5, 42)]),
    "bigbird": lambda nq, nk: (ga.bigbird(8, 1, 1, 2, seed=7), [("bigbird", 8, 1, 1, 2, 7)]),
    "longformer": lambda nq, nk: (ga.window(5) + ga.global_tokens([0, 3]),
                                  [("window", 5, 5), ("global", [0, 3])]),
    "window_global_random": lambda nq, nk: (ga.window(4) + ga.global_tokens([1]) + ga.random_keys(3, 9),
                                            [("window", 4, 4), ("global", [1]), ("random", 3, 9)]),
    "spec": lambda nq, nk: (ga.graph("window:3,1 + global:2"), [("window", 3, 1), ("global", [2])]),
    "documents": lambda nq, nk: (ga.documents([0, 1, 5, 9, 30, 200]), [("documents", [0, 1, 5, 9, 30, 200], False)]),
    "causal_documents": lambda nq, nk: (ga.documents([3, 4, 20], causal=True), [("documents", [3, 4, 20], True)]),
    "documents_global": lambda nq, nk: (ga.graph("causal_documents:6,12") + ga.global_tokens([0]),
                                        [("documents", [6, 12], True), ("global", [0])]),
    "csr": _csr_case,
    "coo": _coo_case,
    "csr_plus_window": lambda nq, nk: (lambda g, p: (g + ga.window(2), p + [("window", 2, 2)]))(*_csr_case(nq, nk)),
}


def mask_to_csr(mask):
    """An explicit graph with the edges of a dense boolean (nq, nk) mask."""
    indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64)
    return ga.csr(indptr, np.nonzero(mask)[1].astype(np.int64), shape=mask.shape)


# name -> f(nq, nk) -> (union, part_a, part_b): two graphs with disjoint edges and one with their
# union, for merging partial results (merge_states, attention(accumulate=True))
SPLIT_CASES = {
    # ring attention / a KV cache in two pieces: the causal keys before nk // 2, and from there on
    # (the first nk // 2 rows have no edges in part b)
    "causal_key_halves": lambda nq, nk: (
        ga.causal(),
        mask_to_csr(ga.causal().to_dense(nq, nk) & (np.arange(nk) < nk // 2)[None, :]),
        mask_to_csr(ga.causal().to_dense(nq, nk) & (np.arange(nk) >= nk // 2)[None, :])),
    # Longformer as a sliding window (implicit) plus the global edges the window lacks (explicit)
    "window_then_global": lambda nq, nk: (
        ga.window(4) + ga.global_tokens([0, 17]),
        ga.window(4),
        mask_to_csr((ga.window(4) + ga.global_tokens([0, 17])).to_dense(nq, nk) & ~ga.window(4).to_dense(nq, nk))),
    # scattered edges on both sides
    "random_halves": lambda nq, nk: (
        ga.dense(),
        mask_to_csr(np.random.default_rng(5).random((nq, nk)) < 0.5),
        mask_to_csr(~(np.random.default_rng(5).random((nq, nk)) < 0.5))),
}


def make_qkv(rng, b, nq, nk, h, hkv, d, dtype=np.float32, three_d=False):
    q = rng.standard_normal((b, nq, h, d))
    k = rng.standard_normal((b, nk, hkv, d))
    v = rng.standard_normal((b, nk, hkv, d))
    if three_d:
        q, k, v = q[0], k[0], v[0]
    return q.astype(dtype), k.astype(dtype), v.astype(dtype)


def as4(a):
    return a[None] if a.ndim == 3 else a


@pytest.fixture
def rng(request):
    # a fixed seed per test: failures reproduce
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))
