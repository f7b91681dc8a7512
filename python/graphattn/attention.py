"""graphattn.attention: the forward pass for NumPy arrays and PyTorch tensors.

Tensors are handed to the C library as strided views (pointer, shape, strides in elements): no
copy is made unless the last dimension is not contiguous (or, for NumPy, a stride is negative or
not a whole number of elements), and then only for inputs. An `out=` buffer is written in place
with its own strides; the library rejects it (and writes nothing) if they are unusable.
"""
import ctypes
import math
import re
import struct

import sys

import numpy as np

from . import _capi
from ._capi import C, Status, check, make_error
from ._errors import GraphAttnError, GraphAttnTypeError
from .graph import Graph, _graph_for_spec, _int

FLOAT32_MAX = 3.4028234663852886e38  # the largest finite float32 (FLT_MAX): the most a scale may be


def as_graph(g):
    """A Graph from a Graph or a spec string."""
    if isinstance(g, Graph):
        return g
    if isinstance(g, str):
        return _graph_for_spec(g)
    raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                             "graph must be a graphattn.Graph or a spec string, got %s" % type(g).__name__)


def _type_error(detail):
    return GraphAttnTypeError(Status.ERR_BAD_DTYPE, _capi.status_string(Status.ERR_BAD_DTYPE), detail)


def scale_value(scale):
    """The scale as the C options want it: 0.0 selects 1/sqrt(D). The library takes a finite
    scale in [0, FLT_MAX] with 0 meaning the default (the fp32 backends hold it in a float32);
    here the default is None, and 0 is refused too (a scale of 0 would read as uniform weights)."""
    if scale is None:
        return 0.0
    try:
        if isinstance(scale, (str, bytes, bool)):
            raise TypeError
        s = float(scale)
    except OverflowError:  # an int past every float (10**400): as out of range as inf
        s = math.inf
    except (TypeError, ValueError):
        raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                                 "scale must be a number, got %r" % (scale,)) from None
    if not (math.isfinite(s) and 0 < s <= FLOAT32_MAX):
        raise make_error(Status.ERR_BAD_PARAMETER,
                         "scale must be finite and > 0, at most the float32 maximum %r, got %r (pass None for "
                         "1/sqrt(head_dim))" % (FLOAT32_MAX, scale))
    return s


def threads_value(num_threads):
    """num_threads as the C options want it: 0 (or None) is OpenMP's default."""
    return 0 if num_threads is None else _int(num_threads, "num_threads", 0, _capi.GA_MAX_THREADS)


def backend_value(backend):
    if backend is None:
        return 0
    if isinstance(backend, str) and backend.lower() in _capi.BACKENDS:
        return _capi.BACKENDS[backend.lower()]
    raise make_error(Status.ERR_BAD_PARAMETER,
                     "backend must be one of %s or None, got %r" % (sorted(_capi.BACKENDS), backend))


# ga_tensor's bytes in one struct.pack: four times faster than the ctypes constructor, which
# matters at a few microseconds per tensor and four tensors per call (bench/host_overhead.py)
_TENSOR_BYTES = struct.Struct("@Piii4q4q")
_PACKED = _TENSOR_BYTES.size == ctypes.sizeof(_capi.Tensor)
_I64x4 = ctypes.c_int64 * 4


def make_tensor(data, dtype, device, device_index, shape, strides):
    """A ga_tensor for a 3-D (N, H, D) or 4-D (B, N, H, D) strided view (strides in elements)."""
    if len(shape) == 3:
        n, h, d = shape
        shape = (1, n, h, d)
        strides = (max(n, 1) * strides[0], strides[0], strides[1], strides[2])
    b, n, h, d = shape
    s0, s1, s2, s3 = strides
    # the stride of a dimension of size 1 is never used; keep it tidy for the validator
    if b == 1 and s0 < 0:
        s0 = 0
    if n == 1 and s1 < 0:
        s1 = 0
    if h == 1 and s2 < 0:
        s2 = 0
    if d == 1:
        s3 = 1
    if _PACKED:
        return _capi.Tensor.from_buffer_copy(_TENSOR_BYTES.pack(data or 0, dtype, device, device_index,
                                                                b, n, h, d, s0, s1, s2, s3))
    return _capi.Tensor(data, dtype, device, device_index, _I64x4(b, n, h, d), _I64x4(s0, s1, s2, s3))


def lse_tensor(data, dtype_f32, device, device_index, q_shape):
    """The ga_tensor of a contiguous float32 lse array of shape q_shape[:-1] (seen as (B, N, H, 1))."""
    if len(q_shape) == 3:
        b, n, h = 1, q_shape[0], q_shape[1]
    else:
        b, n, h = q_shape[0], q_shape[1], q_shape[2]
    return make_tensor(data, dtype_f32, device, device_index, (b, n, h, 1), (n * h, h, 1, 1))


def nothing_to_compute(q_shape, k_shape, v_shape, out_shape):
    """True when q has no rows (B, Nq or H is 0): the result is empty and the library is not called,
    as with torch's scaled_dot_product_attention; the shapes must still agree. Otherwise raises
    where any size is 0, as the library would (GA_ERR_BAD_SIZE), and returns False. Messages give
    the caller's shapes and dimension indices (a 3-D (N, H, D) tensor's D is its shape[2])."""
    if 0 not in q_shape and 0 not in k_shape and 0 not in v_shape and 0 not in out_shape:
        return False
    named = (("q", tuple(q_shape)), ("k", tuple(k_shape)), ("v", tuple(v_shape)), ("out", tuple(out_shape)))
    q, k, v, o = ((1,) + s if len(s) == 3 else s for _, s in named)  # as the library sees them
    if 0 not in q[:3]:
        for name, shape in named:
            if 0 in shape:
                d = shape.index(0)
                raise make_error(Status.ERR_BAD_SIZE, "%s: shape[%d] (%s) = 0 must be >= 1"
                                 % (name, d, "BNHD"[d + 4 - len(shape)]))
        return False
    user = dict(named)
    if k[0] != q[0] or k[3] != q[3]:
        raise make_error(Status.ERR_SHAPE_MISMATCH, "k has shape %s but q has %s (%s must match)"
                         % (user["k"], user["q"], "D" if len(user["q"]) == 3 else "B and D"))
    if v != k:
        raise make_error(Status.ERR_SHAPE_MISMATCH, "v has shape %s but k has %s" % (user["v"], user["k"]))
    if o != q:
        raise make_error(Status.ERR_SHAPE_MISMATCH, "out has shape %s but q has %s" % (user["out"], user["q"]))
    if (q[2] % k[2]) if k[2] else q[2]:
        raise make_error(Status.ERR_SHAPE_MISMATCH, "k has %d heads, which do not divide q's %d" % (k[2], q[2]))
    return True


def check_shapes(q_shape, k_shape, v_shape, out_shape):
    """Every check of the library on the shapes of q, k, v and out (ranks already checked to be
    all 3 or all 4), made in Python where the library is not called: the torch operators' fake
    implementations, so that torch.compile reports a bad shape while it traces. The library's
    messages, with the caller's dimension indices."""
    if nothing_to_compute(q_shape, k_shape, v_shape, out_shape):
        return
    three = len(q_shape) == 3
    lo = -1 if three else 0  # the caller's index of a dimension the library numbers d is d + lo
    q, k, v, o = ((1,) + tuple(s) if three else tuple(s) for s in (q_shape, k_shape, v_shape, out_shape))
    if k[0] != q[0]:
        raise make_error(Status.ERR_SHAPE_MISMATCH, "k: shape[0] (B) = %d differs from q's B = %d" % (k[0], q[0]))
    if k[3] != q[3]:
        raise make_error(Status.ERR_SHAPE_MISMATCH,
                         "k: shape[%d] (D) = %d differs from q's D = %d" % (3 + lo, k[3], q[3]))
    for d in range(4):
        if v[d] != k[d]:
            raise make_error(Status.ERR_SHAPE_MISMATCH, "v: shape[%d] = %d differs from k's %d (v must be %s like k)"
                             % (d + lo, v[d], k[d], "(Nk, Hkv, D)" if three else "(B, Nk, Hkv, D)"))
    if q[2] % k[2]:
        raise make_error(Status.ERR_SHAPE_MISMATCH,
                         "k: shape[%d] (Hkv) = %d does not divide q's H = %d" % (2 + lo, k[2], q[2]))
    for d in range(4):
        if o[d] != q[d]:
            raise make_error(Status.ERR_SHAPE_MISMATCH, "out: shape[%d] = %d differs from q's %d (out must be %s)"
                             % (d + lo, o[d], q[d], "(Nq, H, D)" if three else "(B, Nq, H, D)"))


# what the library says of a tensor's dimensions, for one it saw as (1, N, H, D)
_DIM_INDEX = re.compile(r"\b(shape|stride)\[([1-3])\]")
_LAYOUTS_3D = (("(B, Nk, Hkv, D)", "(Nk, Hkv, D)"), ("(B, Nq, H, D)", "(Nq, H, D)"), ("(shape 1 x ", "(shape "))


def three_d_error(e):
    """The library's error for a call whose tensors the caller gave as 3-D (N, H, D), which the
    library sees as (1, N, H, D): the same error with the detail in the caller's terms, its
    shape[d] and stride[d] renumbered d - 1 (v: shape[1] -> shape[0], Nk) and its layouts without B."""
    detail = e.detail
    if not isinstance(e, GraphAttnError) or not isinstance(detail, str):
        return e
    new = _DIM_INDEX.sub(lambda m: "%s[%d]" % (m.group(1), int(m.group(2)) - 1), detail)
    for four, three in _LAYOUTS_3D:
        new = new.replace(four, three)
    return e if new == detail else type(e)(e.status, e.name, new)


def check_ranks(named):
    """q, k, v (and out) must all be 3-D or all be 4-D."""
    for name, shape in named:
        if len(shape) not in (3, 4):
            raise make_error(Status.ERR_SHAPE_MISMATCH,
                             "%s has shape %s; expected (B, N, H, D) or (N, H, D)" % (name, tuple(shape)))
    if len({len(shape) for _, shape in named}) != 1:
        raise make_error(Status.ERR_SHAPE_MISMATCH,
                         "q, k, v and out must all be 3-D or all 4-D, got "
                         + ", ".join("%s %s" % (name, tuple(shape)) for name, shape in named))


_OPTIONS_DEFAULT = None


def _options_copy():
    """A fresh ga_options with the library's defaults (ga_options_init, called once)."""
    global _OPTIONS_DEFAULT
    if _OPTIONS_DEFAULT is None:
        o = _capi.Options()
        C.ga_options_init(ctypes.byref(o))
        _OPTIONS_DEFAULT = bytes(o)
    return _capi.Options.from_buffer_copy(_OPTIONS_DEFAULT)


def run_forward(g, q, k, v, out, lse, scale, backend, stream=None, num_threads=0, workspace=None, flags=0):
    """Call ga_attention_forward on prepared ga_tensors. `workspace(nbytes)` -> (pointer, keepalive)
    allocates the workspace the library asks for; None lets the library allocate it. flags:
    GA_FLAG_* (GA_FLAG_ACCUMULATE merges into the prior (out, lse))."""
    opts = _options_copy()
    opts.scale = scale
    opts.flags = flags
    opts.backend = backend
    opts.stream = stream
    opts.num_threads = num_threads
    h = g._ptr
    ws_ptr, ws_bytes, keep = None, 0, None
    if workspace is not None:
        nbytes = ctypes.c_size_t(0)
        check(C.ga_attention_workspace_size(h, ctypes.byref(q), ctypes.byref(k), ctypes.byref(v),
                                            ctypes.byref(opts), ctypes.byref(nbytes)))
        if nbytes.value:
            ws_ptr, keep = workspace(nbytes.value)
            ws_bytes = nbytes.value
    check(C.ga_attention_forward(h, ctypes.byref(q), ctypes.byref(k), ctypes.byref(v), ctypes.byref(out),
                                 ctypes.byref(lse) if lse is not None else None, ctypes.byref(opts),
                                 ws_ptr, ws_bytes))
    del keep


# ---- NumPy ---------------------------------------------------------------------------------

def numpy_dtype_code(dtype):
    if dtype == np.float32:
        return _capi.GA_F32
    if dtype == np.float16:
        return _capi.GA_F16
    if dtype.name == "bfloat16" and dtype.itemsize == 2:  # e.g. ml_dtypes.bfloat16
        return _capi.GA_BF16
    return None


def _numpy_view(a, name, output):
    """(ga_tensor, array to keep alive) for a NumPy array."""
    code = numpy_dtype_code(a.dtype)
    if code is None:
        raise _type_error("%s has dtype %s; graphattn takes float32, float16 or bfloat16 "
                          "(NumPy has no bfloat16: use ml_dtypes or torch)" % (name, a.dtype))
    item = a.itemsize
    usable = all(s % item == 0 for s in a.strides) and min(a.strides, default=0) >= 0 and (
        a.shape[-1] <= 1 or a.strides[-1] == item)
    if not usable:
        if output:
            # cannot copy an output: hand the strides over and let the library say what is wrong
            if any(s % item for s in a.strides):
                raise make_error(Status.ERR_BAD_STRIDE, "%s has strides %s bytes, not whole %d-byte elements"
                                 % (name, a.strides, item))
        else:
            a = np.ascontiguousarray(a)
    strides = tuple(s // item for s in a.strides)
    return make_tensor(a.ctypes.data, code, _capi.GA_DEVICE_CPU, 0, a.shape, strides), a


def accumulate_value(accumulate, out, lse):
    """accumulate=True merges into a prior (out, lse), both required; lse= means nothing without it."""
    if not isinstance(accumulate, (bool, np.bool_)):
        raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                                 "accumulate must be True or False, got %r" % (accumulate,))
    if not accumulate:
        if lse is not None:
            raise make_error(Status.ERR_BAD_PARAMETER,
                             "lse= is the prior state that accumulate=True merges into; without accumulate, "
                             "return_lse=True gives a new lse")
        return False
    if out is None or lse is None:
        missing = "out= and lse=" if out is None and lse is None else "out=" if out is None else "lse="
        raise make_error(Status.ERR_BAD_PARAMETER,
                         "accumulate=True merges into a prior result: pass it as out= and lse= (e.g. from "
                         "attention(..., return_lse=True)); missing %s" % missing)
    return True


def check_prior_lse(lse_dtype, lse_shape, q_shape, f32):
    """The lse= of accumulate=True: float32, shaped q.shape[:-1]."""
    if lse_dtype != f32:
        raise _type_error("lse has dtype %s; a log-sum-exp is float32" % (lse_dtype,))
    if tuple(lse_shape) != tuple(q_shape[:-1]):
        raise make_error(Status.ERR_SHAPE_MISMATCH, "lse has shape %s; expected %s (q's shape without its last "
                         "dimension D)" % (tuple(lse_shape), tuple(q_shape[:-1])))


def _is_torch_tensor(a):
    torch = sys.modules.get("torch")  # (never imported here: a tensor means torch is loaded)
    return torch is not None and isinstance(a, torch.Tensor)


def numpy_attention(q, k, v, g, scale=None, return_lse=False, out=None, backend=None, num_threads=None, lse=None,
                    accumulate=False):
    arrays = [("q", q), ("k", k), ("v", v)] + ([("out", out)] if out is not None else [])
    for name, a in arrays:
        if a is None or not (isinstance(a, np.ndarray) or _is_torch_tensor(a)):
            # a missing argument or not an array at all (a list), not an array on another device
            raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                                     "%s is %s; pass a NumPy array (or a torch.Tensor)"
                                     % (name, "None" if a is None else "a " + type(a).__name__))
        if not isinstance(a, np.ndarray):
            raise make_error(Status.ERR_DEVICE_MISMATCH,
                             "q is a NumPy array but %s is %s; pass all arrays as NumPy arrays (or all as "
                             "torch tensors)" % (name, type(a).__name__))
    check_ranks([(n, a.shape) for n, a in arrays])
    scale = scale_value(scale)
    backend = backend_value(backend)
    num_threads = threads_value(num_threads)
    if out is not None:
        if not out.flags.writeable:
            raise make_error(Status.ERR_BAD_PARAMETER, "out is read-only")
        if out.dtype != q.dtype:
            raise _type_error("out has dtype %s but q has %s" % (out.dtype, q.dtype))
    if accumulate:
        if not isinstance(lse, np.ndarray):
            raise make_error(Status.ERR_DEVICE_MISMATCH, "q is a NumPy array but lse is %s; pass all arrays as "
                             "NumPy arrays (or all as torch tensors)" % type(lse).__name__)
        check_prior_lse(lse.dtype, lse.shape, q.shape, np.float32)
        if not lse.flags.writeable:
            raise make_error(Status.ERR_BAD_PARAMETER, "lse is read-only")
    qt, qa = _numpy_view(q, "q", False)
    kt, ka = _numpy_view(k, "k", False)
    vt, va = _numpy_view(v, "v", False)
    if out is None:
        out = np.empty(q.shape, dtype=q.dtype)
    ot, _ = _numpy_view(out, "out", True)
    lt = None
    if accumulate:
        lt, _ = _numpy_view(lse[..., None], "lse", True)
    elif return_lse:
        lse = np.empty(q.shape[:-1], dtype=np.float32)
        lt = lse_tensor(lse.ctypes.data, _capi.GA_F32, _capi.GA_DEVICE_CPU, 0, q.shape)
    if not nothing_to_compute(q.shape, k.shape, v.shape, out.shape):
        try:
            run_forward(g, qt, kt, vt, ot, lt, scale, backend, None, num_threads,
                        flags=_capi.GA_FLAG_ACCUMULATE if accumulate else 0)
        except GraphAttnError as e:
            if q.ndim == 3:
                raise three_d_error(e) from None
            raise
    del qa, ka, va
    return (out, lse) if return_lse else out


# ---- the front door ------------------------------------------------------------------------

_torch_ops = None


def _torch_impl():
    global _torch_ops
    if _torch_ops is None:
        from . import _torch_op
        _torch_ops = _torch_op
    return _torch_ops


def _is_torch_tensor(x):
    t = type(x)
    return t.__module__.split(".")[0] == "torch" or any(
        c.__module__ == "torch" and c.__name__ == "Tensor" for c in t.__mro__)


def attention(q, k, v, graph, *, scale=None, return_lse=False, out=None, backend=None, num_threads=None,
              lse=None, accumulate=False):
    """Sparse attention over a graph: for every query i,
    out[i] = sum_j softmax_j(scale * q_i . k_j) v_j over the keys j that `graph` gives row i.

    q: (B, Nq, H, D) or (Nq, H, D); k, v: (B, Nk, Hkv, D) or (Nk, Hkv, D) with Hkv dividing H
    (grouped-query attention: query head h uses key/value head h // (H // Hkv)).
    dtype float32, float16 or bfloat16 (all the same). Any strides with a contiguous last dimension
    (NumPy inputs with a negative stride are copied first). A q with no rows (B, Nq or H of 0)
    gives an empty result without calling the library.

    NumPy arrays run on the CPU backend. PyTorch tensors (q, k, v and out on one device) run where
    they live: CUDA tensors on the current CUDA stream, CPU tensors on the CPU backend. In eager
    mode plain tensors call the library directly; under torch.compile, autograd, tensor subclasses
    and torch function/dispatch modes the call goes through the torch operator graphattn::attention.

    graph:      a graphattn.Graph or a spec string ("window:256+global:0").
    scale:      softmax scale, a finite number > 0, at most the float32 maximum (3.4028234663852886e38);
                None (the default) is 1/sqrt(D). On the float32 backends (cpu, cuda) a row whose scaled
                scores overflow float32 (|scale * q.k| > 3.4e38) comes out NaN; "reference" is float64.
    return_lse: also return the natural-log log-sum-exp per query and head, float32 of shape
                q.shape[:-1]; a query with no edges has out = 0 and lse = -inf.
    out:        write the result here (same shape and dtype as q; non-negative strides, a contiguous
                last dimension, no two elements at one address; a torch tensor without torch's negative
                or conjugate bit, else GA_ERR_BAD_STRIDE). Nothing is written if the call fails.
    backend:    None/"auto", "cpu", "reference" (the fp64 oracle) or "cuda".
    num_threads: CPU threads, an int in [0, 1024] (None or 0: the OpenMP default).
    accumulate: merge this call's result into a prior one over a disjoint edge set, given as out=
                and lse= (float32, shape q.shape[:-1], e.g. from an earlier call with return_lse=True):
                on return they hold the exact result over the union of both edge sets (as
                merge_states would give, without a second buffer). A row this graph gives no edges
                keeps its prior out and lse bit for bit.
    lse:        the prior log-sum-exp, read and written in place; only with accumulate=True.

    Returns out, or (out, lse) with return_lse (with accumulate, the lse passed in). Raises
    GraphAttnError (a ValueError, TypeError, MemoryError, OSError or RuntimeError as fits) with the library's
    message on any failure.
    """
    acc = accumulate_value(accumulate, out, lse)
    if isinstance(q, np.ndarray):
        return numpy_attention(q, k, v, as_graph(graph), scale=scale, return_lse=return_lse, out=out,
                               backend=backend, num_threads=num_threads, lse=lse, accumulate=acc)
    if _is_torch_tensor(q):  # the graph as given: under torch.compile a spec string goes to the op as it is
        return _torch_impl().attention(q, k, v, graph, scale=scale, return_lse=return_lse, out=out,
                                       backend=backend, num_threads=num_threads, lse=lse, accumulate=acc)
    raise GraphAttnTypeError(Status.ERR_BAD_PARAMETER, _capi.status_string(Status.ERR_BAD_PARAMETER),
                             "q must be a NumPy array or a torch.Tensor, got %s" % type(q).__name__)
