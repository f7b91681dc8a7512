"""graphattn.merge_states: exact log-sum-exp merging of two partial attention results.

Two calls over disjoint edge sets (two key ranges, a local and a global part, a KV cache in two
pieces) give (out_a, lse_a) and (out_b, lse_b); ga_merge_states turns them into the result over
the union, in place in a:

    lse = log(exp(lse_a) + exp(lse_b)),  out = (out_a exp(lse_a) + out_b exp(lse_b)) / exp(lse)

A row where lse_b is -inf (b has no edges there) keeps a's out and lse bit for bit.

The checks a caller can get wrong in Python (types, dtypes, shapes, devices, a read-only output)
are made here, naming the argument; strides and overlaps between a and b are checked by the
library. Either way a rejected call writes nothing.
"""
import ctypes

import numpy as np

from . import _capi
from ._capi import C, Status, check, make_error
from ._errors import GraphAttnError, GraphAttnTypeError
from .attention import (_is_torch_tensor, _numpy_view, _options_copy, _torch_impl, _type_error, numpy_dtype_code,
                        three_d_error, threads_value)

NAMES = ("out_a", "lse_a", "out_b", "lse_b")


def check_one_kind(values, is_kind, kind, other):
    """All four of out_a, lse_a, out_b, lse_b are `kind` (is_kind(x) true), else
    GA_ERR_DEVICE_MISMATCH naming the first that is not; other: the other kind, for the message."""
    for name, x in zip(NAMES, values):
        if not is_kind(x):
            raise make_error(Status.ERR_DEVICE_MISMATCH, "out_a is a %s but %s is %s; pass all four as %ss (or all "
                             "as %ss)" % (kind, name, type(x).__name__, kind, other))


def check_merge_dtypes(dtypes, supported, f32):
    """dtypes: those of out_a, lse_a, out_b, lse_b (NumPy or torch); supported(dtype) -> bool."""
    oa, la, ob, lb = dtypes
    if not supported(oa):
        raise _type_error("out_a has dtype %s; graphattn takes float32, float16 or bfloat16" % (oa,))
    if ob != oa:
        raise _type_error("out_b has dtype %s but out_a has %s (out_a and out_b must have one dtype)" % (ob, oa))
    for name, dt in (("lse_a", la), ("lse_b", lb)):
        if dt != f32:
            raise _type_error("%s has dtype %s; a log-sum-exp is float32" % (name, dt))


def check_merge_shapes(shapes):
    """shapes: those of out_a, lse_a, out_b, lse_b. out is (B, N, H, D) or (N, H, D), lse is out's
    shape without D. Returns True when there is nothing to merge (B, N or H of 0); raises where D
    is 0 (GA_ERR_BAD_SIZE, as attention() does)."""
    oa, la, ob, lb = (tuple(s) for s in shapes)
    if len(oa) not in (3, 4):
        raise make_error(Status.ERR_SHAPE_MISMATCH, "out_a has shape %s; expected (B, N, H, D) or (N, H, D)" % (oa,))
    if ob != oa:
        raise make_error(Status.ERR_SHAPE_MISMATCH, "out_b has shape %s but out_a has %s" % (ob, oa))
    for name, s in (("lse_a", la), ("lse_b", lb)):
        if s != oa[:-1]:
            raise make_error(Status.ERR_SHAPE_MISMATCH, "%s has shape %s; expected %s (out_a's shape without its "
                             "last dimension D)" % (name, s, oa[:-1]))
    if 0 in oa[:-1]:
        return True
    if oa[-1] == 0:
        raise make_error(Status.ERR_BAD_SIZE, "out_a: shape[%d] (D) = 0 must be >= 1" % (len(oa) - 1))
    return False


def run_merge(views, stream=None, num_threads=0, rank=4):
    """Call ga_merge_states on four prepared ga_tensors (out_a, lse_a, out_b, lse_b); rank: that of
    the caller's out_a (3: the library's detail is renumbered to the caller's dimensions)."""
    opts = _options_copy()
    opts.stream = stream
    opts.num_threads = num_threads
    oa, la, ob, lb = views
    try:
        check(C.ga_merge_states(ctypes.byref(oa), ctypes.byref(la), ctypes.byref(ob), ctypes.byref(lb),
                                ctypes.byref(opts)))
    except GraphAttnError as e:
        if rank == 3:
            raise three_d_error(e) from None
        raise


def numpy_merge_states(out_a, lse_a, out_b, lse_b, num_threads):
    arrays = (out_a, lse_a, out_b, lse_b)
    check_one_kind(arrays, lambda a: isinstance(a, np.ndarray), "NumPy array", "torch tensor")
    check_merge_dtypes([a.dtype for a in arrays], lambda dt: numpy_dtype_code(dt) is not None, np.float32)
    empty = check_merge_shapes([a.shape for a in arrays])
    for name, a in (("out_a", out_a), ("lse_a", lse_a)):
        if not a.flags.writeable:
            raise make_error(Status.ERR_BAD_PARAMETER, "%s is read-only (merge_states writes a in place)" % name)
    if empty:
        return out_a, lse_a
    views, keep = [], []
    for name, a, output in (("out_a", out_a, True), ("lse_a", lse_a[..., None], True),
                            ("out_b", out_b, False), ("lse_b", lse_b[..., None], False)):
        t, kept = _numpy_view(a, name, output)
        views.append(t)
        keep.append(kept)
    run_merge(views, None, num_threads, out_a.ndim)
    del keep
    return out_a, lse_a


def merge_states(out_a, lse_a, out_b, lse_b, *, num_threads=None):
    """Merge the partial attention result (out_b, lse_b) into (out_a, lse_a), in place:
    a := a (+) b by log-sum-exp, exact (to float32 rounding) where a and b come from disjoint edge
    sets, e.g. two key ranges of one call. A row where lse_b is -inf (b had no edges) keeps a's out
    and lse bit for bit; a row where lse_a is -inf takes b's.

    out_a, out_b: (B, N, H, D) or (N, H, D), one dtype (float32, float16 or bfloat16); lse_a, lse_b:
    float32 of shape out_a.shape[:-1], as attention(..., return_lse=True) returns them. Strided
    views are fine (a contiguous last dimension; out_b, lse_b are copied first if theirs is not).
    NumPy arrays merge on the CPU; torch tensors where they live (all four on one device; CUDA
    tensors on the current stream). a must not overlap b (GA_ERR_ALIASING); torch's out_a and lse_a,
    written in place, must not carry torch's negative or conjugate bit (GA_ERR_BAD_STRIDE).

    num_threads: CPU threads, an int in [0, 1024] (None or 0: the OpenMP default).

    Returns (out_a, lse_a). Raises GraphAttnError naming the argument on bad input; a rejected call
    writes nothing.
    """
    nt = threads_value(num_threads)
    if isinstance(out_a, np.ndarray):
        return numpy_merge_states(out_a, lse_a, out_b, lse_b, nt)
    if _is_torch_tensor(out_a):
        return _torch_impl().merge_states(out_a, lse_a, out_b, lse_b, nt)
    raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                             "out_a must be a NumPy array or a torch.Tensor, got %s" % type(out_a).__name__)
