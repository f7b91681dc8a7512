"""The bad-input catalogue (docs/reliability.md) through the Python package: every class raises a
GraphAttnError with its own .status and a detail, leaves out= (and the inputs) bit for bit as they
were, and a correct call afterwards still works.

Each case builds its call from valid float32 inputs q, k, v of shape (2, 16, 4, 8) / (2, 16, 2, 8)
and returns (call, watched): `call` must raise; `watched` are the arrays that must not change
(the poisoned out=, or the buffer under a view). q, k and v are always checked too.
"""
import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

import graphattn as ga
from conftest import make_qkv

S = ga.Status
CASES = {}


def case(name, status):
    def register(fn):
        assert name not in CASES
        CASES[name] = (status, fn)
        return fn
    return register


def poisoned(shape, dtype=np.float32):
    a = np.empty(shape, dtype=dtype)
    a.view(np.uint8)[...] = 0xAB
    return a


def bad_csr(indptr, indices, n=16):
    return ga.csr(np.array(indptr, dtype=np.int64), np.array(indices, dtype=np.int64), shape=(n, n))


# ---- NULL pointers, sizes --------------------------------------------------------------------

@case("null_q", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(None, k, v, "window:1", out=out), [out]


@case("null_k", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, None, v, "window:1", out=out), [out]


@case("zero_length_keys", S.ERR_BAD_SIZE)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k[:, :0], v[:, :0], "window:1", out=out), [out]


@case("zero_head_dim", S.ERR_BAD_SIZE)
def _(q, k, v, tmp):
    return lambda: ga.attention(q[..., :0], k[..., :0], v[..., :0], "window:1"), []


@case("zero_batch_of_keys", S.ERR_BAD_SIZE)  # (a q with no rows is no error: see test_attention_numpy)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k[:0], v[:0], "window:1", out=out), [out]


# ---- explicit graphs: one status per broken rule ------------------------------------------------

@case("csr_row_ptr_start", S.ERR_ROW_PTR_START)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, bad_csr([1] * 16 + [2], [0, 1]), out=out), [out]


@case("csr_row_ptr_end", S.ERR_ROW_PTR_END)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, bad_csr([0] * 16 + [300], [0, 1]), out=out), [out]


@case("csr_row_ptr_not_monotone", S.ERR_ROW_PTR_NOT_MONOTONE)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, bad_csr([0, 2, 1] + [2] * 14, [0, 1]), out=out), [out]


@case("csr_column_beyond_nk", S.ERR_INDEX_OUT_OF_RANGE)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, bad_csr([0, 2] + [2] * 15, [0, 16]), out=out), [out]


@case("csr_negative_column", S.ERR_INDEX_OUT_OF_RANGE)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, bad_csr([0, 2] + [2] * 15, [-1, 3]), out=out), [out]


@case("csr_duplicate_column", S.ERR_INDEX_DUPLICATE)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, bad_csr([0, 2] + [2] * 15, [3, 3]), out=out), [out]


@case("csr_unsorted_columns", S.ERR_INDEX_UNSORTED)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, bad_csr([0, 2] + [2] * 15, [4, 3]), out=out), [out]


@case("coo_duplicate_edge", S.ERR_INDEX_DUPLICATE)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, ga.coo([5, 0, 5], [2, 1, 2], shape=(16, 16)), out=out), [out]


@case("coo_row_out_of_range", S.ERR_INDEX_OUT_OF_RANGE)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, ga.coo([5, 16], [2, 1], shape=(16, 16)), out=out), [out]


@case("explicit_graph_of_another_size", S.ERR_GRAPH_MISMATCH)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, ga.csr(np.arange(11), np.arange(10)), out=out), [out]


@case("csr_file_with_duplicate_columns", S.ERR_INDEX_DUPLICATE)
def _(q, k, v, tmp):
    np.save(tmp / "p.npy", np.array([0, 2] + [2] * 15, dtype=np.int64))
    np.save(tmp / "i.npy", np.array([3, 3], dtype=np.int32))
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1+csr:%s,%s" % (tmp / "p.npy", tmp / "i.npy"), out=out), [out]


# ---- dtypes, head dims, shapes, strides --------------------------------------------------------

@case("float64_inputs", S.ERR_BAD_DTYPE)
def _(q, k, v, tmp):
    out = poisoned(q.shape, np.float64)
    return lambda: ga.attention(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64), "window:1",
                                out=out), [out]


@case("int32_inputs", S.ERR_BAD_DTYPE)
def _(q, k, v, tmp):
    return lambda: ga.attention(q.astype(np.int32), k.astype(np.int32), v.astype(np.int32), "window:1"), []


@case("mixed_dtypes", S.ERR_BAD_DTYPE)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k.astype(np.float16), v, "window:1", out=out), [out]


@case("out_of_another_dtype", S.ERR_BAD_DTYPE)
def _(q, k, v, tmp):
    out = poisoned(q.shape, np.float16)
    return lambda: ga.attention(q, k, v, "window:1", out=out), [out]


@case("head_dims_differ", S.ERR_SHAPE_MISMATCH)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k[..., :4], v[..., :4], "window:1", out=out), [out]


@case("kv_heads_do_not_divide_heads", S.ERR_SHAPE_MISMATCH)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    k3, v3 = np.concatenate([k, k[:, :, :1]], 2), np.concatenate([v, v[:, :, :1]], 2)
    return lambda: ga.attention(q, k3, v3, "window:1", out=out), [out]


@case("out_of_another_shape", S.ERR_SHAPE_MISMATCH)
def _(q, k, v, tmp):
    out = poisoned((2, 15, 4, 8))
    return lambda: ga.attention(q, k, v, "window:1", out=out), [out]


@case("out_negative_stride", S.ERR_BAD_STRIDE)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1", out=out[:, ::-1]), [out]


@case("out_last_dim_not_contiguous", S.ERR_BAD_STRIDE)
def _(q, k, v, tmp):
    big = poisoned((2, 16, 4, 16))
    return lambda: ga.attention(q, k, v, "window:1", out=big[..., ::2]), [big]


@case("out_stride_not_a_whole_element", S.ERR_BAD_STRIDE)
def _(q, k, v, tmp):
    raw = poisoned((2 * 16 * 4 * 8 * 4 + 64,), np.uint8)
    out = np.ndarray(q.shape, dtype=np.float32, buffer=raw, strides=(16 * 4 * 8 * 4 + 2, 4 * 8 * 4, 8 * 4, 4))
    return lambda: ga.attention(q, k, v, "window:1", out=out), [raw]


# ---- aliasing ---------------------------------------------------------------------------------

@case("out_overlapping_k", S.ERR_ALIASING)
def _(q, k, v, tmp):
    kk = np.concatenate([k, k], 2)  # (2, 16, 4, 8): the shape of out
    return lambda: ga.attention(q, kk[:, :, :2], v, "window:1", out=kk), [kk]


@case("out_overlapping_q_shifted", S.ERR_ALIASING)
def _(q, k, v, tmp):
    buf = np.concatenate([q, q[:, :1]], 1)  # (2, 17, 4, 8)
    return lambda: ga.attention(buf[:, :16], k, v, "window:1", out=buf[:, 1:]), [buf]


@case("out_elements_overlap_each_other", S.ERR_ALIASING)
def _(q, k, v, tmp):
    raw = poisoned((2, 1, 4, 8))
    out = as_strided(raw, shape=q.shape, strides=(raw.strides[0], 0, raw.strides[2], raw.strides[3]))
    return lambda: ga.attention(q, k, v, "window:1", out=out), [raw]


# ---- sizes whose products overflow int64 (huge views over tiny buffers) ------------------------

@case("q_extent_overflows_int64", S.ERR_OVERFLOW)
def _(q, k, v, tmp):
    huge_q = as_strided(q, shape=(3, 16, 4, 8), strides=(1 << 62, q.strides[1], q.strides[2], q.strides[3]))
    out = poisoned(huge_q.shape)
    return lambda: ga.attention(huge_q, k[:1].repeat(3, 0), v[:1].repeat(3, 0), "window:1", out=out), [out]


@case("out_extent_overflows_int64", S.ERR_OVERFLOW)
def _(q, k, v, tmp):
    raw = poisoned((64,))
    # element offsets fit in int64 (2^60 + 18 * 2^56), their byte offsets do not
    out = as_strided(raw, shape=q.shape, strides=(1 << 62, 1 << 58, 1 << 58, 4))
    return lambda: ga.attention(q, k, v, "window:1", out=out), [raw]


# ---- graph specs and the files they name ------------------------------------------------------

@case("spec_syntax", S.ERR_SPEC_SYNTAX)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:2+windoe:3", out=out), [out]


@case("spec_bad_parameter", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "dilated:2,0", out=out), [out]


@case("spec_file_missing", S.ERR_IO)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "csr:%s,%s" % (tmp / "no.npy", tmp / "pe.npy"), out=out), [out]


@case("spec_file_float_indices", S.ERR_FILE_FORMAT)
def _(q, k, v, tmp):
    np.save(tmp / "p.npy", np.arange(17, dtype=np.int64))
    np.save(tmp / "i.npy", np.arange(16, dtype=np.float64))
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "csr:%s,%s" % (tmp / "p.npy", tmp / "i.npy"), out=out), [out]


@case("spec_file_truncated", S.ERR_FILE_FORMAT)
def _(q, k, v, tmp):
    np.save(tmp / "p.npy", np.arange(17, dtype=np.int64))
    np.save(tmp / "i.npy", np.arange(16, dtype=np.int64))
    data = (tmp / "i.npy").read_bytes()
    (tmp / "i.npy").write_bytes(data[:-5])
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "csr:%s,%s" % (tmp / "p.npy", tmp / "i.npy"), out=out), [out]


@case("spec_file_fortran_order", S.ERR_FILE_FORMAT)
def _(q, k, v, tmp):
    np.save(tmp / "p.npy", np.asfortranarray(np.zeros((17, 2), dtype=np.int64)))
    np.save(tmp / "i.npy", np.arange(16, dtype=np.int64))
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "csr:%s,%s" % (tmp / "p.npy", tmp / "i.npy"), out=out), [out]


@case("spec_with_a_nul_character", S.ERR_SPEC_SYNTAX)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1\x00+global:0", out=out), [out]


@case("global_token_beyond_the_sequence", S.ERR_INDEX_OUT_OF_RANGE)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, ga.window(1) + ga.global_tokens([16]), out=out), [out]


# ---- options ----------------------------------------------------------------------------------

@case("nan_scale", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1", scale=float("nan"), out=out), [out]


@case("negative_thread_count", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1", num_threads=-2, out=out), [out]


@case("negative_scale", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1", scale=-1.0, out=out), [out]


@case("scale_past_the_float32_maximum", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1", scale=3.5e38, out=out), [out]


@case("scale_not_a_number", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1", scale="a", out=out), [out]


@case("thread_count_a_float", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1", num_threads=1.5, out=out), [out]


@case("thread_count_past_the_library_cap", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1", num_threads=1 << 32, out=out), [out]


@case("unknown_backend", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1", backend="tpu", out=out), [out]


@case("read_only_out", S.ERR_BAD_PARAMETER)
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    out.setflags(write=False)
    return lambda: ga.attention(q, k, v, "window:1", out=out), [out]


@case("cuda_backend_on_host_arrays", (S.ERR_BACKEND_UNAVAILABLE, S.ERR_DEVICE_MISMATCH))
def _(q, k, v, tmp):
    out = poisoned(q.shape)
    return lambda: ga.attention(q, k, v, "window:1", backend="cuda", out=out), [out]


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_raises_its_status_and_writes_nothing(name, rng, tmp_path):
    want, make = CASES[name]
    q, k, v = make_qkv(rng, 2, 16, 16, 4, 2, 8)
    inputs = [a.copy() for a in (q, k, v)]
    call, watched = make(q, k, v, tmp_path)
    before = [w.copy() for w in watched]
    with pytest.raises(ga.GraphAttnError) as e:
        call()
    status = e.value.status
    assert status in (want if isinstance(want, tuple) else (want,)), "%s: got %r: %s" % (name, status, e.value)
    assert e.value.detail, "no detail in %s" % e.value
    for w, b in zip(watched, before):
        assert w.tobytes() == b.tobytes(), "%s: the failed call wrote into an output" % name
    for a, b in zip((q, k, v), inputs):
        assert a.tobytes() == b.tobytes(), "%s: the failed call changed an input" % name
    # a correct call afterwards still works
    out = ga.attention(q, k, v, "window:1")
    assert np.isfinite(out).all()


def test_catalogue_covers_every_input_status():
    """Every status a caller's input can cause (all but OK, OUT_OF_MEMORY, WORKSPACE_TOO_SMALL,
    which the Python package sizes itself, CUDA, EMPTY_GRAPH, which no Python graph can be,
    UNSUPPORTED_HEAD_DIM, which the CPU backends never raise, and INTERNAL) has a case here."""
    covered = set()
    for want, _ in CASES.values():
        covered.update(want if isinstance(want, tuple) else (want,))
    not_from_python = {S.OK, S.ERR_OUT_OF_MEMORY, S.ERR_WORKSPACE_TOO_SMALL, S.ERR_CUDA, S.ERR_EMPTY_GRAPH,
                       S.ERR_UNSUPPORTED_HEAD_DIM, S.ERR_INTERNAL, S.ERR_NULL_POINTER}
    missing = set(S) - not_from_python - covered
    assert not missing, "no bad-input case for %s" % sorted(m.name for m in missing)
