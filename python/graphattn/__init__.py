"""graphattn: sparse attention as graph processing, from Python.

    import numpy as np, graphattn
    g = graphattn.window(128) + graphattn.global_tokens([0])
    q = k = v = np.random.randn(4096, 8, 64).astype(np.float32)     # (N, H, D)
    out = graphattn.attention(q, k, v, g)

NumPy arrays run on the CPU backend; PyTorch tensors run where they live (CUDA on the current
stream), through the custom operator torch.ops.graphattn.attention (works in torch.compile).
See docs/python.md.
"""
import sys as _sys

from . import _capi
from ._capi import Status
from ._errors import (GraphAttnError, GraphAttnIOError, GraphAttnMemoryError, GraphAttnRuntimeError,
                      GraphAttnTypeError, GraphAttnValueError)
from .attention import attention
from .merge import merge_states
from .graph import (Graph, bigbird, blocks, causal, coo, csr, dense, dilated, documents, global_tokens, graph,
                    longnet, random_keys, window)
from .graph import _int, _seed

__version__ = "0.1.0"

__all__ = [
    "attention", "merge_states", "graph", "Graph", "dense", "causal", "window", "dilated", "blocks", "longnet",
    "global_tokens", "random_keys", "bigbird", "documents", "csr", "coo", "GraphAttnError", "GraphAttnValueError",
    "GraphAttnTypeError", "GraphAttnMemoryError", "GraphAttnIOError", "GraphAttnRuntimeError", "Status",
    "library_version", "library_path", "backends", "cuda_device_count", "hash64",
]  # plus SparseSelfAttention and graphattn.nn, which import torch on first access

library_path = _capi.library_path


def library_version():
    """The version string of the loaded C library."""
    return _capi._text(_capi.C.ga_version_string())


def backends():
    """The backends compiled into the loaded library, e.g. ['cpu-reference', 'cpu', 'cuda']."""
    text = _capi._text(_capi.C.ga_backends_compiled())
    return [b for b in text.split(",") if b]


def cuda_device_count():
    """CUDA devices usable by the library now (0 without CUDA support or a GPU)."""
    return int(_capi.C.ga_cuda_device_count())


def hash64(seed, row, t):
    """The hash behind random_keys and bigbird (ga_hash64), for reproducing their graphs:
    seed in [-2^63, 2^64), a negative one taken modulo 2^64 as a spec's seed is (-1 is 2^64 - 1);
    row and t in the int64 range (anything else raises GraphAttnError)."""
    s = _seed(seed)
    return int(_capi.C.ga_hash64(s, _int(row, "row"), _int(t, "t")))


def __getattr__(name):
    # torch-only names load torch on first use, so `import graphattn` stays light without it
    if name == "SparseSelfAttention":
        from .nn import SparseSelfAttention
        return SparseSelfAttention
    if name == "nn":
        # (not `from . import nn`: its fromlist check looks the name up here again, without end)
        import importlib
        return importlib.import_module(".nn", __name__)
    raise AttributeError("module 'graphattn' has no attribute %r" % name)


if "torch" in _sys.modules:
    # register torch.ops.graphattn.* now, so compiled code and torch.ops lookups find them. A torch
    # too old for torch.library.custom_op (< 2.4) must not break the NumPy side: the error then
    # comes back on the first call with torch tensors.
    try:
        from . import _torch_op  # noqa: F401
    except (ImportError, AttributeError):
        pass
