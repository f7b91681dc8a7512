"""ga_torch.py -- a tiny ctypes shim over libgraphattn for the benchmark: ga_attention_forward on
PyTorch CUDA tensors (their data_ptr and strides, the current CUDA stream), and on NumPy arrays
for a CPU check of the shim itself. Not the Python package (python/graphattn); no dependencies
beyond ctypes, NumPy and (for CUDA tensors) torch.

    import ga_torch as ga
    g = ga.Graph("window:256+global:0,1")          # or ga.Graph.csr(row_ptr, col, ncols)
    out, lse = ga.attention(g, q, k, v, want_lse=True)   # (B, N, H, D) tensors

The library is $GRAPHATTN_LIBRARY, else build-gpu/libgraphattn.so, else build/libgraphattn.so
next to this file's parent directory."""
import ctypes
import os

import numpy as np

GA_F32, GA_F16, GA_BF16 = 0, 1, 2
GA_DEVICE_CPU, GA_DEVICE_CUDA = 0, 1
GA_BACKEND_AUTO, GA_BACKEND_CPU, GA_BACKEND_CPU_REFERENCE, GA_BACKEND_CUDA = 0, 1, 2, 3
GA_FLAG_ACCUMULATE = 1
GA_INDEX_INT32, GA_INDEX_INT64 = 0, 1


class GaTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int), ("device", ctypes.c_int),
                ("device_index", ctypes.c_int), ("shape", ctypes.c_int64 * 4), ("stride", ctypes.c_int64 * 4)]


class GaOptions(ctypes.Structure):
    _fields_ = [("scale", ctypes.c_double), ("flags", ctypes.c_uint), ("backend", ctypes.c_int),
                ("stream", ctypes.c_void_p), ("num_threads", ctypes.c_int)]


def _find_library():
    env = os.environ.get("GRAPHATTN_LIBRARY")
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for d in ("build-gpu", "build-cuda", "build"):
        p = os.path.join(root, d, "libgraphattn.so")
        if os.path.exists(p):
            return p
    raise OSError("libgraphattn.so not found: set GRAPHATTN_LIBRARY")


_lib = None


def lib():
    global _lib
    if _lib is None:
        L = ctypes.CDLL(_find_library())
        P, I64 = ctypes.c_void_p, ctypes.c_int64
        L.ga_status_string.restype = ctypes.c_char_p
        L.ga_last_error_detail.restype = ctypes.c_char_p
        L.ga_graph_parse.argtypes = [ctypes.c_char_p, ctypes.POINTER(P)]
        L.ga_graph_create.argtypes = [ctypes.POINTER(P)]
        L.ga_graph_destroy.argtypes = [P]
        L.ga_graph_destroy.restype = None
        L.ga_graph_add_csr.argtypes = [P, I64, I64, P, P, ctypes.c_int]
        L.ga_graph_count_edges.argtypes = [P, I64, I64, ctypes.POINTER(I64)]
        L.ga_attention_workspace_size.argtypes = [P, P, P, P, P, ctypes.POINTER(ctypes.c_size_t)]
        L.ga_attention_forward.argtypes = [P, P, P, P, P, P, P, P, ctypes.c_size_t]
        L.ga_cuda_device_name.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
        L.ga_version_string.restype = ctypes.c_char_p
        _lib = L
    return _lib


class GaError(RuntimeError):
    pass


def check(status, what):
    if status != 0:
        L = lib()
        raise GaError("%s: %s (%s)" % (what, L.ga_status_string(status).decode(), L.ga_last_error_detail().decode()))


class Graph:
    """A ga_graph handle: from a spec string, or from CSR arrays with Graph.csr()."""

    def __init__(self, spec=None):
        self.h = ctypes.c_void_p()
        if spec is None:
            check(lib().ga_graph_create(ctypes.byref(self.h)), "ga_graph_create")
        else:
            check(lib().ga_graph_parse(spec.encode(), ctypes.byref(self.h)), "ga_graph_parse(%r)" % spec)
        self.spec = spec

    @classmethod
    def csr(cls, row_ptr, col, ncols):
        """row_ptr: int64 NumPy array (nrows + 1); col: int32 or int64 NumPy array. Copied."""
        g = cls()
        row_ptr = np.ascontiguousarray(row_ptr, dtype=np.int64)
        col = np.ascontiguousarray(col)
        it = GA_INDEX_INT32 if col.dtype == np.int32 else GA_INDEX_INT64
        if it == GA_INDEX_INT64:
            col = col.astype(np.int64, copy=False)
        check(lib().ga_graph_add_csr(g.h, len(row_ptr) - 1, ncols, row_ptr.ctypes.data, col.ctypes.data, it),
              "ga_graph_add_csr")
        g.spec = "csr(%d rows, %d edges)" % (len(row_ptr) - 1, len(col))
        return g

    def edges(self, nq, nk):
        e = ctypes.c_int64()
        check(lib().ga_graph_count_edges(self.h, nq, nk, ctypes.byref(e)), "ga_graph_count_edges")
        return e.value

    def __del__(self):
        if getattr(self, "h", None) and _lib is not None:
            _lib.ga_graph_destroy(self.h)
            self.h = None


def _torch_dtype_code(t):
    import torch
    return {torch.float32: GA_F32, torch.float16: GA_F16, torch.bfloat16: GA_BF16}[t.dtype]


def view(t):
    """A GaTensor over a (B, N, H, D) torch tensor or NumPy array (strides in elements)."""
    g = GaTensor()
    if isinstance(t, np.ndarray):
        g.data = t.ctypes.data
        g.dtype = {np.dtype(np.float32): GA_F32, np.dtype(np.float16): GA_F16}[t.dtype]
        g.device, g.device_index = GA_DEVICE_CPU, 0
        strides = [s // t.itemsize for s in t.strides]
    else:
        g.data = t.data_ptr()
        g.dtype = _torch_dtype_code(t)
        g.device = GA_DEVICE_CUDA if t.is_cuda else GA_DEVICE_CPU
        g.device_index = t.device.index if t.is_cuda else 0
        strides = list(t.stride())
    for d in range(4):
        g.shape[d] = t.shape[d]
        g.stride[d] = strides[d]
    return g


def _options(t, flags, scale, backend):
    o = GaOptions()
    o.scale = scale
    o.flags = flags
    o.backend = backend
    o.num_threads = 0
    if not isinstance(t, np.ndarray) and t.is_cuda:
        import torch
        o.stream = torch.cuda.current_stream(t.device).cuda_stream
    else:
        o.stream = None
    return o


_ws_cache = {}


def workspace(graph, q, k, v, flags=0, scale=0.0, backend=GA_BACKEND_AUTO):
    """Bytes the call needs, and a cached torch buffer of that size (None when 0)."""
    tq, tk, tv = view(q), view(k), view(v)
    o = _options(q, flags, scale, backend)
    n = ctypes.c_size_t()
    check(lib().ga_attention_workspace_size(graph.h, ctypes.byref(tq), ctypes.byref(tk), ctypes.byref(tv),
                                            ctypes.byref(o), ctypes.byref(n)), "ga_attention_workspace_size")
    if n.value == 0 or isinstance(q, np.ndarray) or not q.is_cuda:
        return n.value, None
    import torch
    key = (q.device.index, n.value)
    if key not in _ws_cache:
        _ws_cache.clear()
        _ws_cache[key] = torch.empty(n.value, dtype=torch.uint8, device=q.device)
    return n.value, _ws_cache[key]


def attention(graph, q, k, v, out=None, lse=None, want_lse=False, flags=0, scale=0.0, backend=GA_BACKEND_AUTO,
              ws=None):
    """out (and lse when asked) for (B, N, H, D) inputs. out may be q (in place). ws: (bytes, buffer)
    from workspace(), to keep allocation out of timed regions."""
    B, N, H, D = q.shape
    if isinstance(q, np.ndarray):
        if out is None:
            out = np.empty_like(q)
        if want_lse and lse is None:
            lse = np.empty((B, N, H, 1), dtype=np.float32)
    else:
        import torch
        if out is None:
            out = torch.empty_like(q)
        if want_lse and lse is None:
            lse = torch.empty((B, N, H, 1), dtype=torch.float32, device=q.device)
    if ws is None:
        ws = workspace(graph, q, k, v, flags, scale, backend)
    nbytes, buf = ws
    tq, tk, tv, to = view(q), view(k), view(v), view(out)
    tl = view(lse) if lse is not None else None
    o = _options(q, flags, scale, backend)
    wptr = None
    if buf is not None:
        wptr = buf.data_ptr() if not isinstance(buf, np.ndarray) else buf.ctypes.data
    check(lib().ga_attention_forward(graph.h, ctypes.byref(tq), ctypes.byref(tk), ctypes.byref(tv), ctypes.byref(to),
                                     ctypes.byref(tl) if tl is not None else None, ctypes.byref(o), wptr,
                                     nbytes if wptr else 0), "ga_attention_forward(%s)" % graph.spec)
    return out, lse


def device_name(index=0):
    buf = ctypes.create_string_buffer(256)
    check(lib().ga_cuda_device_name(index, buf, 256), "ga_cuda_device_name")
    return buf.value.decode()
