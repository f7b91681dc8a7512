"""graphattn.attention on NumPy arrays (the CPU backends) against the tests' own float64 oracle."""
import re

import numpy as np
import pytest

import graphattn as ga
from conftest import GRAPH_CASES, as4, make_qkv
from reference import assert_close, assert_lse_close, dense_attention, union_mask

# (B, Nq, Nk, H, Hkv, D, 3-D layout)
SHAPES = {
    "3d": (1, 64, 64, 2, 2, 16, True),
    "gqa": (2, 50, 50, 4, 2, 32, False),
    "nq_lt_nk": (1, 37, 61, 2, 1, 8, False),
    "odd": (2, 129, 129, 1, 1, 59, False),
}


def run_case(rng, case, shape, dtype=np.float32, backend=None, scale=None):
    b, nq, nk, h, hkv, d, three = SHAPES[shape]
    g, parts = GRAPH_CASES[case](nq, nk)
    q, k, v = make_qkv(rng, b, nq, nk, h, hkv, d, dtype, three)
    out, lse = ga.attention(q, k, v, g, return_lse=True, backend=backend, scale=scale)
    want, want_lse = dense_attention(as4(q), as4(k), as4(v), union_mask(parts, nq, nk), scale)
    assert out.dtype == q.dtype and out.shape == q.shape
    assert lse.dtype == np.float32 and lse.shape == q.shape[:-1]
    assert_close(as4(out), want, np.dtype(dtype).name)
    assert_lse_close(lse if not three else lse[None], want_lse)


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("case", sorted(GRAPH_CASES))
def test_float32_matches_dense_masked_reference(rng, case, shape):
    run_case(rng, case, shape)


@pytest.mark.parametrize("case", ["window", "longformer", "bigbird", "csr", "causal"])
@pytest.mark.parametrize("shape", ["gqa", "nq_lt_nk"])
def test_float16_matches_dense_masked_reference(rng, case, shape):
    run_case(rng, case, shape, dtype=np.float16)


@pytest.mark.parametrize("case", ["window", "longformer", "csr", "dense"])
def test_reference_backend_matches(rng, case):
    run_case(rng, case, "gqa", backend="reference")


def test_bfloat16_through_ml_dtypes(rng):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    run_case(rng, "longformer", "gqa", dtype=ml_dtypes.bfloat16)


def test_explicit_scale(rng):
    run_case(rng, "window", "gqa", scale=0.37)


def test_return_lse_false_returns_only_out(rng):
    q, k, v = make_qkv(rng, 1, 16, 16, 2, 2, 8)
    out = ga.attention(q, k, v, ga.window(2))
    assert isinstance(out, np.ndarray) and out.shape == q.shape


def test_spec_string_as_graph(rng):
    q, k, v = make_qkv(rng, 1, 32, 32, 2, 2, 8)
    np.testing.assert_array_equal(ga.attention(q, k, v, "window:2+global:0"),
                                  ga.attention(q, k, v, ga.window(2) + ga.global_tokens([0])))


def test_rows_without_edges_give_zero_and_minus_inf(rng):
    nq = nk = 6
    indptr = np.array([0, 1, 1, 3, 3, 4, 4])
    indices = np.array([0, 1, 2, 5])
    g = ga.csr(indptr, indices)
    q, k, v = make_qkv(rng, 1, nq, nk, 1, 1, 8)
    out, lse = ga.attention(q, k, v, g, return_lse=True)
    for r in (1, 3, 5):
        assert (out[0, r] == 0).all(), out[0, r]
        assert np.isneginf(lse[0, r]).all(), lse[0, r]
    assert np.isfinite(out).all()


def test_large_logits_stay_finite(rng):
    q, k, v = make_qkv(rng, 1, 40, 40, 2, 2, 16)
    q *= 300.0
    k *= 300.0
    out, lse = ga.attention(q, k, v, ga.window(4), return_lse=True)
    want, want_lse = dense_attention(q, k, v, union_mask([("window", 4, 4)], 40, 40))
    assert np.isfinite(out).all() and np.isfinite(lse).all()
    assert_close(out, want, "float32")


def test_forward_is_deterministic(rng):
    q, k, v = make_qkv(rng, 2, 100, 100, 4, 2, 32)
    g = ga.window(7) + ga.global_tokens([0, 50]) + ga.random_keys(4, 1)
    a = ga.attention(q, k, v, g)
    b = ga.attention(q, k, v, g)
    assert a.tobytes() == b.tobytes()


def test_num_threads_does_not_change_the_result(rng):
    q, k, v = make_qkv(rng, 1, 80, 80, 2, 2, 16)
    a = ga.attention(q, k, v, ga.window(5), num_threads=1)
    b = ga.attention(q, k, v, ga.window(5), num_threads=2)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


# ---- strides and out= ------------------------------------------------------------------------


def test_strided_views_are_read_in_place(rng):
    """q, k, v as slices of one fused (B, N, 3, H, D) buffer: non-contiguous, last dim contiguous."""
    b, n, h, d = 2, 48, 2, 16
    qkv = rng.standard_normal((b, n, 3, h, d)).astype(np.float32)
    q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    assert not q.flags.c_contiguous
    out = ga.attention(q, k, v, ga.window(3) + ga.global_tokens([0]))
    want, _ = dense_attention(q, k, v, union_mask([("window", 3, 3), ("global", [0])], n, n))
    assert_close(out, want, "float32")


def test_last_dimension_not_contiguous_is_copied(rng):
    b, n, h, d = 1, 30, 2, 8
    base = rng.standard_normal((b, n, h, d * 2)).astype(np.float32)
    q = base[..., ::2]
    k = np.ascontiguousarray(base[..., 1::2])
    v = base[..., 1::2]
    out = ga.attention(q, k, v, ga.causal())
    want, _ = dense_attention(q, k, v, union_mask([("causal",)], n, n))
    assert_close(out, want, "float32")


def test_batch_and_heads_transposed_views(rng):
    """(B, H, N, D) storage viewed as (B, N, H, D)."""
    b, n, h, d = 2, 40, 3, 16
    qs, ks, vs = (rng.standard_normal((b, h, n, d)).astype(np.float32) for _ in range(3))
    q, k, v = (x.transpose(0, 2, 1, 3) for x in (qs, ks, vs))
    out = ga.attention(q, k, v, ga.window(2, 0))
    want, _ = dense_attention(q, k, v, union_mask([("window", 2, 0)], n, n))
    assert_close(out, want, "float32")


def test_out_is_written_in_place_and_returned(rng):
    q, k, v = make_qkv(rng, 1, 32, 32, 2, 2, 8)
    out = np.full(q.shape, np.nan, dtype=np.float32)
    res = ga.attention(q, k, v, ga.window(2), out=out)
    assert res is out
    assert_close(out, dense_attention(q, k, v, union_mask([("window", 2, 2)], 32, 32))[0], "float32")


def test_out_may_be_a_strided_view(rng):
    b, n, h, d = 1, 24, 2, 8
    q, k, v = make_qkv(rng, b, n, n, h, h, d)
    big = np.full((b, n, h + 1, d), 7.0, dtype=np.float32)
    out = big[:, :, :h]
    ga.attention(q, k, v, ga.window(1), out=out)
    assert (big[:, :, h] == 7.0).all(), "wrote outside the view"
    assert_close(out, dense_attention(q, k, v, union_mask([("window", 1, 1)], n, n))[0], "float32")


def test_out_may_be_q_itself(rng):
    q, k, v = make_qkv(rng, 1, 20, 20, 2, 2, 8)
    want, _ = dense_attention(q, k, v, union_mask([("window", 2, 2)], 20, 20))
    try:
        ga.attention(q, k, v, ga.window(2), out=q)
    except ga.GraphAttnError as e:  # a backend may refuse in-place; then it must say so
        assert e.status == ga.Status.ERR_ALIASING
        return
    assert_close(q, want, "float32")


def test_out_may_be_q_within_one_fused_qkv_buffer(rng):
    # q, k, v: slices of one (B, N, 3, H, D) projection; out=q writes q's slots only
    b, n, h, d = 2, 24, 2, 8
    qkv = rng.standard_normal((b, n, 3, h, d)).astype(np.float32)
    q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    want, _ = dense_attention(q.copy(), k.copy(), v.copy(), union_mask([("window", 3, 3)], n, n))
    k0, v0 = k.copy(), v.copy()
    ga.attention(q, k, v, ga.window(3), out=q)
    assert_close(q, want, "float32")
    assert (k == k0).all() and (v == v0).all()
    with pytest.raises(ga.GraphAttnError) as e:  # k's own slots as the output
        ga.attention(q, k, v, ga.window(3), out=qkv[:, :, 1])
    assert e.value.status == ga.Status.ERR_ALIASING


# ---- errors: an exception with the library's message, nothing written -------------------------


def poisoned_out(q):
    out = np.empty_like(q)
    out.view(np.uint8)[...] = 0xAB
    return out


def assert_untouched(out):
    assert (out.view(np.uint8) == 0xAB).all(), "the failed call wrote into out"


@pytest.mark.parametrize("change,status", [
    (lambda q, k, v: (q, k[..., :-1], v[..., :-1]), ga.Status.ERR_SHAPE_MISMATCH),  # D differs
    (lambda q, k, v: (q, k[:, :, :1], v), ga.Status.ERR_SHAPE_MISMATCH),            # k and v heads differ
    (lambda q, k, v: (q, k[:, :-1], v), ga.Status.ERR_SHAPE_MISMATCH),              # k and v lengths differ
    (lambda q, k, v: (q, k[:1], v[:1]), ga.Status.ERR_SHAPE_MISMATCH),              # batch differs
    (lambda q, k, v: (q, np.concatenate([k, k[:, :, :1]], 2), np.concatenate([v, v[:, :, :1]], 2)),
     ga.Status.ERR_SHAPE_MISMATCH),                                                 # Hkv=5 does not divide H=4
    (lambda q, k, v: (q, k.astype(np.float16), v), ga.Status.ERR_BAD_DTYPE),
])
def test_bad_shapes_raise_and_write_nothing(rng, change, status):
    q, k, v = make_qkv(rng, 2, 16, 16, 4, 4, 8)
    q2, k2, v2 = change(q, k, v)
    out = poisoned_out(q2)
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q2, k2, v2, ga.window(2), out=out)
    assert e.value.status == status, str(e.value)
    assert e.value.detail, "no detail in %s" % e.value
    assert_untouched(out)


def test_float64_raises_type_error(rng):
    q, k, v = make_qkv(rng, 1, 8, 8, 1, 1, 4, dtype=np.float64)
    with pytest.raises(TypeError) as e:
        ga.attention(q, k, v, ga.dense())
    assert isinstance(e.value, ga.GraphAttnError) and e.value.status == ga.Status.ERR_BAD_DTYPE
    assert "float64" in str(e.value)


def test_mixed_ranks_raise(rng):
    q, k, v = make_qkv(rng, 1, 8, 8, 1, 1, 4)
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q[0], k, v, ga.dense())
    assert e.value.status == ga.Status.ERR_SHAPE_MISMATCH


def test_out_of_the_wrong_shape_raises_and_writes_nothing(rng):
    q, k, v = make_qkv(rng, 1, 16, 16, 2, 2, 8)
    out = poisoned_out(q[:, :15])
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, k, v, ga.window(1), out=out)
    assert e.value.status == ga.Status.ERR_SHAPE_MISMATCH
    assert_untouched(out)


def test_out_overlapping_k_raises_aliasing(rng):
    q, k, v = make_qkv(rng, 1, 16, 16, 2, 2, 8)
    before = k.copy()
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, k, v, ga.window(1), out=k)
    assert e.value.status == ga.Status.ERR_ALIASING
    np.testing.assert_array_equal(k, before)


def test_read_only_out_raises(rng):
    q, k, v = make_qkv(rng, 1, 16, 16, 2, 2, 8)
    out = np.zeros_like(q)
    out.setflags(write=False)
    with pytest.raises(ga.GraphAttnError):
        ga.attention(q, k, v, ga.window(1), out=out)


def test_out_with_non_contiguous_last_dimension_raises(rng):
    q, k, v = make_qkv(rng, 1, 16, 16, 2, 2, 8)
    big = poisoned_out(np.empty((1, 16, 2, 16), dtype=np.float32))
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, k, v, ga.window(1), out=big[..., ::2])
    assert e.value.status == ga.Status.ERR_BAD_STRIDE
    assert_untouched(big)


def test_explicit_graph_of_another_size_raises_and_writes_nothing(rng):
    q, k, v = make_qkv(rng, 1, 16, 16, 2, 2, 8)
    g = ga.csr(np.arange(11), np.arange(10))  # 10 x 10
    out = poisoned_out(q)
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, k, v, g, out=out)
    assert e.value.status == ga.Status.ERR_GRAPH_MISMATCH
    assert "10" in e.value.detail
    assert_untouched(out)


def test_bad_spec_string_as_graph_raises(rng):
    q, k, v = make_qkv(rng, 1, 8, 8, 1, 1, 4)
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, k, v, "window:")
    assert e.value.status == ga.Status.ERR_SPEC_SYNTAX


def test_scale_must_be_a_finite_number_above_zero(rng):
    """The library takes scale >= 0 with 0 meaning 1/sqrt(D); here that default is None, and 0,
    negatives, NaN, infinities and non-numbers are refused with the same status, naming scale."""
    q, k, v = make_qkv(rng, 1, 8, 8, 1, 1, 4)
    for s in (0.0, -1.0, -0.5, float("nan"), float("inf")):
        with pytest.raises(ga.GraphAttnValueError, match="scale must be finite and > 0") as e:
            ga.attention(q, k, v, ga.dense(), scale=s)
        assert e.value.status == ga.Status.ERR_BAD_PARAMETER
    for s in ("a", "0.5", True, [0.5]):
        with pytest.raises(ga.GraphAttnTypeError, match="scale must be a number") as e:
            ga.attention(q, k, v, ga.dense(), scale=s)
        assert e.value.status == ga.Status.ERR_BAD_PARAMETER
    np.testing.assert_array_equal(ga.attention(q, k, v, ga.dense(), scale=np.float32(0.5)),
                                  ga.attention(q, k, v, ga.dense(), scale=0.5))


FLOAT32_MAX = float(np.finfo(np.float32).max)  # 3.4028234663852886e38


def test_scale_may_be_at_most_the_float32_maximum(rng):
    """The float32 backends hold the scale in a float32: a scale past FLT_MAX would be inf there,
    so it is refused (GA_ERR_BAD_PARAMETER, as a NaN or negative scale), on every backend alike,
    and so is an int past every float (10**400, not an OverflowError). FLT_MAX itself is taken;
    rows whose scaled scores overflow float32 then come out NaN on the float32 backend ("cpu"),
    while "reference" computes in float64 and stays finite (docs/python.md says both)."""
    q, k, v = make_qkv(rng, 1, 8, 8, 1, 1, 4)
    past = float(np.nextafter(np.float64(FLOAT32_MAX), np.inf))
    for s in (past, 1e39, 10 ** 39, 10 ** 400):
        for backend in ("cpu", "reference"):
            out = np.full(q.shape, 7.0, np.float32)
            with pytest.raises(ga.GraphAttnValueError, match="at most the float32 maximum") as e:
                ga.attention(q, k, v, ga.window(2), scale=s, backend=backend, out=out)
            assert e.value.status == ga.Status.ERR_BAD_PARAMETER, "scale %r: %s" % (s, e.value)
            assert (out == 7.0).all(), "scale %r: the refused call wrote out" % (s,)
    fast = ga.attention(q, k, v, ga.window(2), scale=FLOAT32_MAX, backend="cpu")
    oracle = ga.attention(q, k, v, ga.window(2), scale=FLOAT32_MAX, backend="reference")
    assert np.isfinite(oracle).all(), oracle
    assert np.isnan(fast).any(), "no row overflowed float32 at scale = FLT_MAX: %s" % fast


FORK_SCRIPT = """
import multiprocessing as mp, sys
import numpy as np
import graphattn as ga
rng = np.random.default_rng(5)
q, k, v = (rng.standard_normal((2, 300, 2, 32)).astype(np.float32) for _ in range(3))
g = ga.window(9) + ga.global_tokens([0, 77])
def run(_=None):
    return ga.attention(q, k, v, g, num_threads=4), ga.attention(q, k, v, g)
if __name__ == "__main__":
    if sys.argv[1] == "torch":  # PyTorch's CPU ops use the same OpenMP runtime
        import torch
        torch.randn(512, 512) @ torch.randn(512, 512)
    want = run()  # the parent has run OpenMP parallel regions
    with mp.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(run).get(timeout=120)
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a, b)
    print("same")
"""


@pytest.mark.parametrize("parent", ["graphattn", "torch"])
def test_a_forked_child_gets_the_same_result_without_hanging(tmp_path, parent):
    """OpenMP (GCC's libgomp) does not survive fork(): after a parallel region in the parent, the
    child's first one with more threads hangs. The library runs on one thread in a forked child,
    so a fork-based multiprocessing pool works, also after PyTorch's own CPU ops in the parent."""
    import subprocess
    import sys
    if parent == "torch":
        pytest.importorskip("torch")
    script = tmp_path / "fork.py"
    script.write_text(FORK_SCRIPT)
    r = subprocess.run([sys.executable, str(script), parent], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.split() == ["same"], r.stdout + r.stderr


def test_num_threads_must_be_an_int_from_0_to_1024(rng):
    """None and 0 mean OpenMP's default; the library caps a call at 1024 threads. Floats,
    strings and bools are refused rather than truncated or converted."""
    q, k, v = make_qkv(rng, 1, 8, 8, 1, 1, 4)
    want = ga.attention(q, k, v, ga.window(2))
    for n in (None, 0, 1, np.int64(3), 1024):
        np.testing.assert_array_equal(ga.attention(q, k, v, ga.window(2), num_threads=n), want)
    for n in (-1, 1025, 1 << 32):
        with pytest.raises(ga.GraphAttnValueError, match=r"num_threads = -?\d+ is outside \[0, 1024\]") as e:
            ga.attention(q, k, v, ga.window(2), num_threads=n)
        assert e.value.status == ga.Status.ERR_BAD_PARAMETER
    for n in (1.5, 2.0, "2", True):
        with pytest.raises(ga.GraphAttnTypeError, match="num_threads must be an integer"):
            ga.attention(q, k, v, ga.window(2), num_threads=n)


def test_unknown_backend_raises(rng):
    q, k, v = make_qkv(rng, 1, 8, 8, 1, 1, 4)
    with pytest.raises(ga.GraphAttnError):
        ga.attention(q, k, v, ga.dense(), backend="tpu")


def test_cuda_backend_on_numpy_arrays_raises(rng):
    q, k, v = make_qkv(rng, 1, 8, 8, 1, 1, 4)
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, k, v, ga.dense(), backend="cuda")
    assert e.value.status in (ga.Status.ERR_BACKEND_UNAVAILABLE, ga.Status.ERR_DEVICE_MISMATCH)


@pytest.mark.parametrize("cut", ["batch", "queries", "heads", "queries_3d"])
def test_queries_with_no_rows_give_empty_results(rng, cut):
    """B, Nq or H of 0: nothing to compute, so out and lse come back empty (as with torch's
    scaled_dot_product_attention), whatever the keys hold; the library is not called."""
    q, k, v = make_qkv(rng, 2, 8, 8, 2, 2, 4)
    if cut == "batch":
        q, k, v = q[:0], k[:0], v[:0]
    elif cut == "queries":
        q = q[:, :0]
    elif cut == "heads":
        q, k, v = q[:, :, :0], k[:, :, :0], v[:, :, :0]
    else:
        q, k, v = q[0, :0], k[0], v[0]
    out, lse = ga.attention(q, k, v, ga.window(1), return_lse=True)
    assert out.shape == q.shape and out.dtype == q.dtype
    assert lse.shape == q.shape[:-1] and lse.dtype == np.float32


def test_empty_queries_still_need_matching_shapes(rng):
    q, k, v = make_qkv(rng, 1, 8, 8, 2, 2, 4)
    with pytest.raises(ga.GraphAttnError, match="D must match") as e:
        ga.attention(q[:, :0], k[..., :2], v[..., :2], ga.dense())
    assert e.value.status == ga.Status.ERR_SHAPE_MISMATCH
    with pytest.raises(ga.GraphAttnError, match="out has shape") as e:
        ga.attention(q[:, :0], k, v, ga.dense(), out=np.empty((1, 1, 2, 4), np.float32))
    assert e.value.status == ga.Status.ERR_SHAPE_MISMATCH


def test_empty_keys_or_head_dim_raise_bad_size(rng):
    """Queries with rows but no keys (or a head dim of 0) are refused, naming the size."""
    q, k, v = make_qkv(rng, 1, 8, 8, 1, 1, 4)
    for args, words in (((q, k[:, :0], v[:, :0]), "k: shape[1] (N) = 0"), ((q[..., :0], k, v), "q: shape[3] (D) = 0")):
        with pytest.raises(ga.GraphAttnError, match=re.escape(words)) as e:
            ga.attention(*args, ga.dense())
        assert e.value.status == ga.Status.ERR_BAD_SIZE


@pytest.mark.parametrize("three_d", [True, False], ids=["NHD", "BNHD"])
def test_errors_name_the_callers_dimensions(rng, three_d):
    """A 3-D (N, H, D) call is a (1, N, H, D) one to the library; its errors still name the
    dimensions as the caller numbers them: v's N is shape[0] of a 3-D v, D is shape[2], and an
    empty q's mismatch prints the shapes as given. 4-D calls keep the library's own numbering."""
    q, k, v = make_qkv(rng, 1, 6, 6, 2, 2, 8, three_d=three_d)
    lo = 1 if three_d else 0  # how far the caller's index of a dimension is below the library's
    v7 = make_qkv(rng, 1, 7, 7, 2, 2, 8, three_d=three_d)[2]
    out = np.full(q.shape, 7.0, np.float32)
    cases = [
        (lambda: ga.attention(q, k, v7, ga.window(1), out=out), ga.Status.ERR_SHAPE_MISMATCH,
         "v: shape[%d] = 7 differs from k's 6 (v must be %s like k)" % (1 - lo, "(Nk, Hkv, D)" if three_d
                                                                     else "(B, Nk, Hkv, D)")),
        (lambda: ga.attention(q, k[..., :4], v[..., :4], ga.window(1), out=out), ga.Status.ERR_SHAPE_MISMATCH,
         "k: shape[%d] (D) = 4 differs from q's D = 8" % (3 - lo)),
        (lambda: ga.attention(q, k[..., :1, :], v[..., :1, :], ga.window(1), out=out[..., :1, :]),
         ga.Status.ERR_SHAPE_MISMATCH, "out: shape[%d] = 1 differs from q's 2" % (2 - lo)),
        (lambda: ga.attention(q[..., :0], k[..., :0], v[..., :0], ga.window(1)), ga.Status.ERR_BAD_SIZE,
         "q: shape[%d] (D) = 0 must be >= 1" % (3 - lo)),
        (lambda: ga.attention(q, k, v, ga.window(1), out=np.flip(out, 1 - lo)), ga.Status.ERR_BAD_STRIDE,
         "out: stride[%d] = -" % (1 - lo)),
    ]
    q0 = q[:0] if three_d else q[:, :0]
    wrong = np.zeros((1,) + q0.shape[1:] if three_d else (1, 1) + q0.shape[2:], np.float32)
    cases.append((lambda: ga.attention(q0, k, v, ga.window(1), out=wrong), ga.Status.ERR_SHAPE_MISMATCH,
                  "out has shape %s but q has %s" % (wrong.shape, q0.shape)))
    for call, status, words in cases:
        with pytest.raises(ga.GraphAttnError) as e:
            call()
            pytest.fail("no error, want %r" % words)
        assert e.value.status == status and words in e.value.detail, "want %r, got %s" % (words, e.value)
    assert (out == 7.0).all()


def test_non_array_inputs_raise(rng):
    q, k, v = make_qkv(rng, 1, 8, 8, 1, 1, 4)
    with pytest.raises(ga.GraphAttnError):
        ga.attention(q, k.tolist(), v, ga.dense())
    with pytest.raises(TypeError):
        ga.attention(q.tolist(), k, v, ga.dense())
    with pytest.raises(TypeError):
        ga.attention(q, k, v, 42)
