"""Merging partial results (NumPy): graphattn.merge_states and attention(accumulate=True).

The specification (include/graphattn.h, ga_merge_states / GA_FLAG_ACCUMULATE): two results over
disjoint edge sets, merged by log-sum-exp, equal one call over the union of the edges, to float32
rounding; a row where the second part has no edges keeps the first bit for bit; a rejected call
writes nothing. The torch side is in test_merge_torch.py.
"""
import numpy as np
import pytest

import graphattn as ga
from conftest import SPLIT_CASES, make_qkv
from reference import TOLERANCE, assert_close, assert_lse_close, dense_attention

S = ga.Status


def dtypes():
    out = [("float32", np.float32), ("float16", np.float16)]
    try:
        import ml_dtypes
        out.append(("bfloat16", ml_dtypes.bfloat16))
    except ImportError:
        out.append(pytest.param("bfloat16", None, marks=pytest.mark.skip(reason="NumPy bfloat16 needs ml_dtypes")))
    return out


DTYPES = dtypes()
UNION_TOLERANCE = {"float32": (1e-5, 1e-5), "float16": TOLERANCE["float16"], "bfloat16": TOLERANCE["bfloat16"]}


def assert_equals_union(out, lse, want, want_lse, dtype_name):
    """(out, lse) equals the one call over the union (want, want_lse) up to rounding."""
    atol, rtol = UNION_TOLERANCE[dtype_name]
    np.testing.assert_allclose(out.astype(np.float64), want.astype(np.float64), atol=atol, rtol=rtol)
    np.testing.assert_array_equal(np.isneginf(lse), np.isneginf(want_lse))
    np.testing.assert_allclose(lse, want_lse, atol=1e-5, rtol=1e-6)


def parts_and_union(rng, case, dtype, b=2, nq=48, nk=48, h=4, hkv=2, d=16, three_d=False):
    g, ga_, gb = SPLIT_CASES[case](nq, nk)
    q, k, v = make_qkv(rng, b, nq, nk, h, hkv, d, dtype, three_d)
    return (q, k, v), ga_, gb, g


def poisoned(shape, dtype=np.float32):
    a = np.empty(shape, dtype=dtype)
    a.view(np.uint8)[...] = 0xAB
    return a


# ---- merging equals one call over the union ----------------------------------------------------


@pytest.mark.parametrize("dtype_name,dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(SPLIT_CASES))
@pytest.mark.parametrize("three_d", [False, True], ids=["BNHD", "NHD"])
def test_merging_two_disjoint_parts_equals_one_call_over_the_union(rng, case, dtype_name, dtype, three_d):
    (q, k, v), part_a, part_b, union = parts_and_union(rng, case, dtype, three_d=three_d)
    out_a, lse_a = ga.attention(q, k, v, part_a, return_lse=True)
    out_b, lse_b = ga.attention(q, k, v, part_b, return_lse=True)
    res = ga.merge_states(out_a, lse_a, out_b, lse_b)
    assert res[0] is out_a and res[1] is lse_a
    assert out_a.dtype == dtype and lse_a.dtype == np.float32
    want, want_lse = ga.attention(q, k, v, union, return_lse=True)
    assert_equals_union(out_a, lse_a, want, want_lse, dtype_name)
    nq, nk = q.shape[-3], k.shape[-3]
    ref, ref_lse = dense_attention(*(x if x.ndim == 4 else x[None] for x in (q, k, v)), union.to_dense(nq, nk))
    assert_close(out_a if out_a.ndim == 4 else out_a[None], ref, dtype_name)
    assert_lse_close(lse_a if lse_a.ndim == 3 else lse_a[None], ref_lse)


@pytest.mark.parametrize("dtype_name,dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(SPLIT_CASES))
def test_accumulate_equals_one_call_over_the_union(rng, case, dtype_name, dtype):
    (q, k, v), part_a, part_b, union = parts_and_union(rng, case, dtype)
    out, lse = ga.attention(q, k, v, part_a, return_lse=True)
    res = ga.attention(q, k, v, part_b, out=out, lse=lse, accumulate=True)
    assert res is out
    want, want_lse = ga.attention(q, k, v, union, return_lse=True)
    assert_equals_union(out, lse, want, want_lse, dtype_name)
    # and the same as merging a separate result
    out2, lse2 = ga.attention(q, k, v, part_a, return_lse=True)
    ga.merge_states(out2, lse2, *ga.attention(q, k, v, part_b, return_lse=True))
    assert_equals_union(out, lse, out2, lse2, dtype_name)


@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_accumulate_with_return_lse_returns_the_lse_passed_in(rng, backend):
    (q, k, v), part_a, part_b, union = parts_and_union(rng, "causal_key_halves", np.float32)
    out, lse = ga.attention(q, k, v, part_a, return_lse=True, backend=backend)
    res_out, res_lse = ga.attention(q, k, v, part_b, out=out, lse=lse, accumulate=True, return_lse=True,
                                    backend=backend)
    assert res_out is out and res_lse is lse
    assert_equals_union(out, lse, *ga.attention(q, k, v, union, return_lse=True), "float32")


def test_a_kv_cache_in_two_pieces(rng):
    """A chunk of new queries over a KV cache: dense over the cached keys plus causal over the
    chunk's own keys is causal over all of them (the diagonal aligned bottom right), each part
    with its own k and v."""
    c, n = 40, 24  # cached keys, new tokens
    q, k, v = make_qkv(rng, 1, n, c + n, 4, 2, 16)
    out, lse = ga.attention(q, k[:, :c], v[:, :c], ga.dense(), return_lse=True)
    out_new, lse_new = ga.attention(q, k[:, c:], v[:, c:], ga.causal(), return_lse=True)
    want, want_lse = ga.attention(q, k, v, ga.causal(), return_lse=True)
    acc_out, acc_lse = out.copy(), lse.copy()
    ga.merge_states(out, lse, out_new, lse_new)
    assert_equals_union(out, lse, want, want_lse, "float32")
    ga.attention(q, k[:, c:], v[:, c:], ga.causal(), out=acc_out, lse=acc_lse, accumulate=True)
    assert_equals_union(acc_out, acc_lse, want, want_lse, "float32")


def test_many_parts_merge_in_any_order(rng):
    """Four key blocks, merged one after another in two orders: the same result, the union's."""
    nq = nk = 64
    q, k, v = make_qkv(rng, 1, nq, nk, 2, 2, 16)
    blocks = [(j0, j0 + 16) for j0 in range(0, nk, 16)]
    parts = [ga.attention(q, k[:, a:b], v[:, a:b], ga.dense(), return_lse=True) for a, b in blocks]
    want, want_lse = ga.attention(q, k, v, ga.dense(), return_lse=True)
    for order in ([0, 1, 2, 3], [3, 1, 0, 2]):
        out, lse = (x.copy() for x in parts[order[0]])
        for i in order[1:]:
            ga.merge_states(out, lse, *parts[i])
        assert_equals_union(out, lse, want, want_lse, "float32")


# ---- rows with no edges ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype_name,dtype", DTYPES)
@pytest.mark.parametrize("how", ["merge_states", "accumulate"])
def test_rows_where_b_has_no_edges_keep_a_bit_for_bit(rng, dtype_name, dtype, how):
    (q, k, v), part_a, part_b, _ = parts_and_union(rng, "causal_key_halves", dtype)
    out_a, lse_a = ga.attention(q, k, v, part_a, return_lse=True)
    out_b, lse_b = ga.attention(q, k, v, part_b, return_lse=True)
    empty = np.isneginf(lse_b)
    assert empty.any() and not empty.all()
    before_out, before_lse = out_a.copy(), lse_a.copy()
    if how == "merge_states":
        ga.merge_states(out_a, lse_a, out_b, lse_b)
    else:
        ga.attention(q, k, v, part_b, out=out_a, lse=lse_a, accumulate=True)
    assert out_a[empty].tobytes() == before_out[empty].tobytes()
    assert lse_a[empty].tobytes() == before_lse[empty].tobytes()
    assert not np.array_equal(out_a[~empty], before_out[~empty])


@pytest.mark.parametrize("how", ["merge_states", "accumulate"])
def test_rows_where_a_has_no_edges_take_b(rng, how):
    (q, k, v), part_a, part_b, _ = parts_and_union(rng, "causal_key_halves", np.float32)
    out_b, lse_b = ga.attention(q, k, v, part_b, return_lse=True)  # rows before nk // 2 empty
    out_a, lse_a = ga.attention(q, k, v, part_a, return_lse=True)
    if how == "merge_states":
        out, lse = ga.merge_states(out_b.copy(), lse_b.copy(), out_a, lse_a)
    else:
        out, lse = out_b.copy(), lse_b.copy()
        ga.attention(q, k, v, part_a, out=out, lse=lse, accumulate=True)
    empty = np.isneginf(lse_b)
    np.testing.assert_allclose(out[empty], out_a[empty], atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(lse[empty], lse_a[empty], atol=1e-6, rtol=1e-6)


def test_merging_an_all_empty_result_changes_nothing(rng):
    (q, k, v), part_a, _, _ = parts_and_union(rng, "window_then_global", np.float32)
    out_a, lse_a = ga.attention(q, k, v, part_a, return_lse=True)
    before = out_a.tobytes(), lse_a.tobytes()
    ga.merge_states(out_a, lse_a, np.zeros_like(out_a), np.full(lse_a.shape, -np.inf, dtype=np.float32))
    assert (out_a.tobytes(), lse_a.tobytes()) == before


# ---- strides, sizes, threads ---------------------------------------------------------------------


def test_strided_views_are_merged_in_place(rng):
    """a as views into larger buffers (written in place, nothing outside them); b as a view with a
    non-contiguous last dimension and a negative stride (copied first)."""
    (q, k, v), part_a, part_b, union = parts_and_union(rng, "window_then_global", np.float32, b=1)
    big_out = np.full((1, 48, 5, 16), 7.0, dtype=np.float32)
    big_lse = np.full((1, 48, 4, 3), 7.0, dtype=np.float32)
    out_a, lse_a = big_out[:, :, :4], big_lse[..., 1]
    ga.attention(q, k, v, part_a, out=out_a, return_lse=True)
    lse_a[...] = ga.attention(q, k, v, part_a, return_lse=True)[1]
    ob, lb = ga.attention(q, k, v, part_b, return_lse=True)
    wide = np.zeros((1, 48, 4, 32), dtype=np.float32)
    wide[..., ::2] = ob
    flipped = np.ascontiguousarray(lb[:, ::-1])[:, ::-1]
    ga.merge_states(out_a, lse_a, wide[..., ::2], flipped)
    assert (big_out[:, :, 4] == 7.0).all() and (big_lse[..., 0] == 7.0).all() and (big_lse[..., 2] == 7.0).all()
    assert_equals_union(out_a, lse_a, *ga.attention(q, k, v, union, return_lse=True), "float32")


def test_num_threads_does_not_change_the_merge(rng):
    (q, k, v), part_a, part_b, _ = parts_and_union(rng, "random_halves", np.float32)
    b = ga.attention(q, k, v, part_b, return_lse=True)
    results = []
    for nt in (None, 1, 3):
        out, lse = ga.attention(q, k, v, part_a, return_lse=True)
        ga.merge_states(out, lse, *b, num_threads=nt)
        results.append(out.tobytes() + lse.tobytes())
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("cut", [0, 1, 2])
def test_no_rows_merge_nothing(cut):
    shape = [2, 3, 4, 8]
    shape[cut] = 0
    out, lse = np.zeros(shape, np.float32), np.zeros(shape[:-1], np.float32)
    assert ga.merge_states(out, lse, out.copy(), lse.copy())[0] is out


# ---- bad inputs: an error naming the argument, nothing written -----------------------------------


def _bad_merge_cases():
    def base():
        rng = np.random.default_rng(1)
        out_a = poisoned((2, 8, 3, 4))
        lse_a = poisoned((2, 8, 3))
        out_b = rng.standard_normal((2, 8, 3, 4)).astype(np.float32)
        lse_b = rng.standard_normal((2, 8, 3)).astype(np.float32)
        return out_a, lse_a, out_b, lse_b

    def ro(a):
        a.setflags(write=False)
        return a

    # name -> (change(out_a, lse_a, out_b, lse_b) -> args, status, words); the arrays returned as
    # out_a / lse_a (or the buffer under them) must not change
    return {
        "lse_a_float64": (lambda oa, la, ob, lb: (oa, np.zeros((2, 8, 3)), ob, lb), S.ERR_BAD_DTYPE,
                          "lse_a has dtype float64"),
        "lse_b_float16": (lambda oa, la, ob, lb: (oa, la, ob, lb.astype(np.float16)), S.ERR_BAD_DTYPE,
                          "lse_b has dtype float16"),
        "out_b_other_dtype": (lambda oa, la, ob, lb: (oa, la, ob.astype(np.float16), lb), S.ERR_BAD_DTYPE,
                              "out_b has dtype float16 but out_a has float32"),
        "out_float64": (lambda oa, la, ob, lb: (np.zeros(oa.shape), la, ob.astype(np.float64), lb), S.ERR_BAD_DTYPE,
                        "out_a has dtype float64"),
        "out_b_shape": (lambda oa, la, ob, lb: (oa, la, ob[:, :7], lb), S.ERR_SHAPE_MISMATCH, "out_b has shape"),
        "lse_a_shape": (lambda oa, la, ob, lb: (oa, la[:, :, :2], ob, lb), S.ERR_SHAPE_MISMATCH, "lse_a has shape"),
        "lse_b_with_d": (lambda oa, la, ob, lb: (oa, la, ob, ob), S.ERR_SHAPE_MISMATCH, "lse_b has shape"),
        "out_a_rank_2": (lambda oa, la, ob, lb: (oa[0, 0], la[0, 0], ob[0, 0], lb[0, 0]), S.ERR_SHAPE_MISMATCH,
                         "out_a has shape"),
        "zero_head_dim": (lambda oa, la, ob, lb: (oa[..., :0], la, ob[..., :0], lb), S.ERR_BAD_SIZE, "(D) = 0"),
        "read_only_out_a": (lambda oa, la, ob, lb: (ro(oa), la, ob, lb), S.ERR_BAD_PARAMETER, "out_a is read-only"),
        "read_only_lse_a": (lambda oa, la, ob, lb: (oa, ro(la), ob, lb), S.ERR_BAD_PARAMETER, "lse_a is read-only"),
        "out_b_is_a_list": (lambda oa, la, ob, lb: (oa, la, ob.tolist(), lb), S.ERR_DEVICE_MISMATCH, "out_b is list"),
        "out_a_none": (lambda oa, la, ob, lb: (None, la, ob, lb), S.ERR_BAD_PARAMETER, "out_a must be"),
        "out_a_is_out_b": (lambda oa, la, ob, lb: (oa, la, oa, lb), S.ERR_ALIASING, "out_a overlaps out_b"),
        "lse_a_overlaps_lse_b": (lambda oa, la, ob, lb: (oa, la, ob, la), S.ERR_ALIASING, "lse_a overlaps lse_b"),
        "out_a_negative_stride": (lambda oa, la, ob, lb: (oa[:, ::-1], la, ob, lb), S.ERR_BAD_STRIDE,
                                  "out_a: stride[1] = -"),
        # a 3-D (N, H, D) merge is a (1, N, H, D) one to the library: its detail names the caller's dimension
        "out_a_negative_stride_3d": (lambda oa, la, ob, lb: (oa[0, ::-1], la[0], ob[0], lb[0]), S.ERR_BAD_STRIDE,
                                     "out_a: stride[0] = -"),
        "out_a_overlaps_itself": (lambda oa, la, ob, lb: (np.lib.stride_tricks.as_strided(
            oa, strides=(0,) + oa.strides[1:]), la, ob, lb), S.ERR_ALIASING, "out_a"),
    }, base


BAD_MERGE, _bad_base = _bad_merge_cases()


@pytest.mark.parametrize("name", sorted(BAD_MERGE))
def test_bad_merge_inputs_raise_naming_the_argument_and_write_nothing(name):
    change, status, words = BAD_MERGE[name]
    arrays = _bad_base()
    before = [a.tobytes() for a in arrays]
    args = change(*arrays)
    watched = [a for a in args[:2] if isinstance(a, np.ndarray)]
    watched_before = [a.copy() for a in watched]
    with pytest.raises(ga.GraphAttnError) as e:
        ga.merge_states(*args)
    assert e.value.status == status, str(e.value)
    assert words in str(e.value), str(e.value)
    for a, b in zip(arrays, before):
        assert a.tobytes() == b, "%s: the failed call wrote something" % name
    for a, b in zip(watched, watched_before):
        assert a.tobytes() == b.tobytes()


def test_merge_errors_are_the_python_exceptions_one_expects():
    out, lse = np.zeros((4, 2, 8), np.float32), np.zeros((4, 2), np.float32)
    with pytest.raises(TypeError):
        ga.merge_states(out, lse.astype(np.float64), out.copy(), lse.copy())
    with pytest.raises(ValueError):
        ga.merge_states(out, lse[:3], out.copy(), lse.copy())
    with pytest.raises(ga.GraphAttnTypeError, match="num_threads must be an integer"):
        ga.merge_states(out, lse, out.copy(), lse.copy(), num_threads=1.5)
    with pytest.raises(ga.GraphAttnValueError, match="num_threads"):
        ga.merge_states(out, lse, out.copy(), lse.copy(), num_threads=5000)


def _bad_accumulate_cases():
    # name -> (kwargs(out, lse) -> dict, status, words)
    ro = np.zeros((2, 48, 4), np.float32)
    ro.setflags(write=False)
    return {
        "no_lse": (lambda o, l: dict(out=o, accumulate=True), S.ERR_BAD_PARAMETER, "missing lse="),
        "no_out": (lambda o, l: dict(lse=l, accumulate=True), S.ERR_BAD_PARAMETER, "missing out="),
        "neither": (lambda o, l: dict(accumulate=True), S.ERR_BAD_PARAMETER, "pass it as out= and lse="),
        "lse_without_accumulate": (lambda o, l: dict(out=o, lse=l), S.ERR_BAD_PARAMETER, "lse= is the prior state"),
        "accumulate_not_a_bool": (lambda o, l: dict(out=o, lse=l, accumulate="yes"), S.ERR_BAD_PARAMETER,
                                  "accumulate must be True or False"),
        "lse_float16": (lambda o, l: dict(out=o, lse=np.zeros(l.shape, np.float16), accumulate=True),
                        S.ERR_BAD_DTYPE, "lse has dtype float16"),
        "lse_shape": (lambda o, l: dict(out=o, lse=l[:, :5], accumulate=True), S.ERR_SHAPE_MISMATCH,
                      "lse has shape (2, 5, 4)"),
        "lse_read_only": (lambda o, l: dict(out=o, lse=ro, accumulate=True), S.ERR_BAD_PARAMETER, "lse is read-only"),
        "lse_a_list": (lambda o, l: dict(out=o, lse=l.tolist(), accumulate=True), S.ERR_DEVICE_MISMATCH,
                       "lse is list"),
        "lse_overlaps_out": (lambda o, l: dict(out=o, lse=o[..., 0], accumulate=True), S.ERR_ALIASING,
                             "lse overlaps out"),
        "out_shape": (lambda o, l: dict(out=o[:, :5], lse=l, accumulate=True), S.ERR_SHAPE_MISMATCH, "out"),
    }


BAD_ACCUMULATE = _bad_accumulate_cases()


@pytest.mark.parametrize("name", sorted(BAD_ACCUMULATE))
def test_bad_accumulate_arguments_raise_and_write_nothing(rng, name):
    make, status, words = BAD_ACCUMULATE[name]
    (q, k, v), part_a, part_b, _ = parts_and_union(rng, "causal_key_halves", np.float32)
    out, lse = ga.attention(q, k, v, part_a, return_lse=True)
    before = out.tobytes(), lse.tobytes()
    with pytest.raises(ga.GraphAttnError) as e:
        ga.attention(q, k, v, part_b, **make(out, lse))
    assert e.value.status == status, str(e.value)
    assert words in str(e.value), str(e.value)
    assert (out.tobytes(), lse.tobytes()) == before
