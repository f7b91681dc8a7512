"""The PyTorch side: the custom operators graphattn::attention, graphattn::attention_out (out=),
graphattn::attention_accumulate (accumulate=True) and graphattn::merge_states.

Imported on first use with torch tensors (or at `import graphattn` when torch is already
imported). PyTorch is never a compiled dependency: the operators are defined with
torch.library.custom_op in Python and call the C library through ctypes.

How a graph reaches the operator: torch.compile can only pass plain values into a custom op, so a
graph travels as (spec, handle). A graph made only of parametric components (window, causal,
bigbird, ...) travels as its spec string ("window:256+causal") and handle -1. A graph that holds
data (global tokens, documents, csr/coo arrays or files) travels as "" and an integer handle into
a registry of live Graph objects: a new list then changes an int, which torch.compile turns into a
dynamic value after one recompile, rather than a string constant, which would recompile every time.
Either way the prepared C graph (validated once, and on the GPU copied to the device once) is reused
by every call. The registry holds Graphs weakly: keep the Graph object alive (e.g. as a module
attribute) while code that uses it runs. A Graph whose call was captured into a CUDA graph
(torch.cuda.graph, torch.compile's "reduce-overhead") is kept by the package for the life of the
process, since each replay reads its device copy. A spec string given to attention() while torch.compile
traces goes to the operator as it is (handle -1), and is parsed when the compiled code runs.

Forward only: calling backward through graphattn raises a RuntimeError that says so, and so does
forward-mode AD (torch.func.jvp / jacfwd, torch.autograd.forward_ad dual tensors) when a tangent
reaches graphattn.attention or merge_states. Inside torch.compile, run the forward under
torch.no_grad() or torch.inference_mode() (with inputs that require grad, AOTAutograd traces the
backward and stops at the same error).
"""
import threading
from typing import Tuple

import torch
import torch.autograd.forward_ad as _forward_ad

# forward_ad's level (a module global, -1 outside torch.func.jvp and fwAD.dual_level); a torch
# without it is taken as never inside one
_FWAD = hasattr(_forward_ad, "_current_level")

from . import _capi
from ._capi import Status, make_error
from ._errors import GraphAttnError, GraphAttnTypeError
from .attention import (as_graph, backend_value, check_prior_lse, check_ranks, check_shapes, lse_tensor, make_tensor,
                        nothing_to_compute, run_forward, scale_value, three_d_error, threads_value)
from .graph import _graph_for_op
from .merge import NAMES as _MERGE_NAMES, check_merge_dtypes, check_merge_shapes, check_one_kind, run_merge

_DTYPES = {torch.float32: _capi.GA_F32, torch.float16: _capi.GA_F16, torch.bfloat16: _capi.GA_BF16}
_WORKSPACE_ALIGN = 256
# the current stream of a device as the integer handle torch's own generated code reads, without
# the Stream object torch.cuda.current_stream builds (bench/host_overhead.py times both)
_RAW_STREAM = getattr(torch._C, "_cuda_getCurrentRawStream", None)


def _stream_of(dev, index):
    """The current CUDA stream of dev (device index `index`) as an integer."""
    if _RAW_STREAM is not None:
        return _RAW_STREAM(index)
    return torch.cuda.current_stream(dev).cuda_stream


def _view(t, name, output):
    """(ga_tensor, tensor to keep alive) for a strided torch tensor."""
    code = _DTYPES.get(t.dtype)
    if code is None:
        raise GraphAttnTypeError(Status.ERR_BAD_DTYPE, _capi.status_string(Status.ERR_BAD_DTYPE),
                                 "%s has dtype %s; graphattn takes torch.float32, torch.float16 or "
                                 "torch.bfloat16" % (name, t.dtype))
    if t.layout != torch.strided:
        raise make_error(Status.ERR_BAD_STRIDE, "%s has layout %s; graphattn takes strided tensors" % (name, t.layout))
    strides = t.stride()
    if not output:
        if strides and t.shape[-1] > 1 and strides[-1] != 1:
            t = t.contiguous()
            strides = t.stride()
        if t.is_conj() or t.is_neg():
            t = t.resolve_conj().resolve_neg()
            strides = t.stride()
    if t.is_cuda:
        device, index = _capi.GA_DEVICE_CUDA, t.get_device()  # a CUDA tensor's device always has its index
    elif t.is_cpu:
        device, index = _capi.GA_DEVICE_CPU, 0
    else:
        dev = t.device
        raise make_error(Status.ERR_BACKEND_UNAVAILABLE,
                         "%s is on device %s; graphattn runs on cpu and cuda tensors" % (name, dev))
    return make_tensor(t.data_ptr(), code, device, index, t.shape, strides), t


def _run(q, k, v, spec, handle, scale, backend, num_threads, out, lse, flags=0):
    for name, t in (("q", q), ("k", k), ("v", v), ("out", out)) + ((("lse", lse),) if flags else ()):
        if not isinstance(t, torch.Tensor):
            raise make_error(Status.ERR_DEVICE_MISMATCH,
                             "%s is %s; pass q, k, v (and out) all as torch tensors" % (name, type(t).__name__))
    _run_graph(_graph_for_op(spec, handle), q, k, v, scale, backend, num_threads, out, lse, flags)


def _check_devices(q, k, v, out, lse=None):
    """q, k, v, out and lse (which may be None) must be on one device."""
    for name, t in (("k", k), ("v", v), ("out", out), ("lse", lse)):
        if t is not None and t.device != q.device:
            raise make_error(Status.ERR_DEVICE_MISMATCH, "%s is on %s but q is on %s; pass q, k, v (and out) on one "
                             "device" % (name, t.device, q.device))


def _on_device(dev, fn, *args):
    """fn(stream, *args) with dev's current stream, dev the current device while it runs."""
    index = dev.index if dev.index is not None else torch.cuda.current_device()
    stream = _stream_of(dev, index)
    if index == torch.cuda.current_device():
        fn(stream, *args)
    else:
        with torch.cuda.device(dev):
            fn(stream, *args)


# Graphs that a call recorded into a CUDA graph capture used: a replay reads their device copy
# (global tokens, documents, csr/coo arrays on the GPU), which the Graph frees with itself, so
# they are kept for the life of the process rather than freed while a captured graph may still
# replay (a Graph dropped by its owner, or a spec string's graph evicted from the spec cache).
# Keyed by id: one entry per Graph however often it is captured.
_kept_for_capture = {}
_kept_lock = threading.Lock()


def _keep_if_capturing(g):
    """Keep g alive for good when the current stream of the current device is capturing."""
    if torch.cuda.is_current_stream_capturing() and id(g) not in _kept_for_capture:
        with _kept_lock:
            _kept_for_capture[id(g)] = g


def _run_graph(g, q, k, v, scale, backend, num_threads, out, lse, flags=0):
    """The call itself, on torch tensors already checked to be tensors, with the Graph in hand.
    flags = GA_FLAG_ACCUMULATE: lse is the prior state, any strides."""
    if nothing_to_compute(q.shape, k.shape, v.shape, out.shape):
        return
    qt, qa = _view(q, "q", False)
    kt, ka = _view(k, "k", False)
    vt, va = _view(v, "v", False)
    ot, _ = _view(out, "out", True)
    lt = None
    if flags:
        lt, _ = _view(lse.unsqueeze(-1), "lse", True)
    elif lse is not None:
        lt = lse_tensor(lse.data_ptr(), _capi.GA_F32, ot.device, ot.device_index, tuple(q.shape))
    try:
        if q.is_cuda:
            dev = q.device

            def workspace(nbytes):
                buf = torch.empty(nbytes + _WORKSPACE_ALIGN, dtype=torch.uint8, device=dev)
                ptr = (buf.data_ptr() + _WORKSPACE_ALIGN - 1) // _WORKSPACE_ALIGN * _WORKSPACE_ALIGN
                return ptr, buf

            stream = _stream_of(dev, qt.device_index)
            if qt.device_index == torch.cuda.current_device():
                _keep_if_capturing(g)
                run_forward(g, qt, kt, vt, ot, lt, scale, backend, stream, num_threads, workspace, flags)
            else:
                with torch.cuda.device(dev):
                    _keep_if_capturing(g)
                    run_forward(g, qt, kt, vt, ot, lt, scale, backend, stream, num_threads, workspace, flags)
        else:
            run_forward(g, qt, kt, vt, ot, lt, scale, backend, None, num_threads, None, flags)
    except GraphAttnError as e:  # (no cost where nothing is raised)
        if q.dim() == 3:
            raise three_d_error(e) from None
        raise
    del qa, ka, va


def _new_lse(q, return_lse):
    shape = tuple(q.shape[:-1]) if return_lse else (0,)
    return torch.empty(shape, dtype=torch.float32, device=q.device)


@torch.library.custom_op("graphattn::attention", mutates_args=())
def attention_op(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, spec: str, handle: int, scale: float,
                 return_lse: bool, backend: int, num_threads: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Functional form: returns (out, lse); lse is an empty tensor unless return_lse."""
    out = torch.empty(q.shape, dtype=q.dtype, device=q.device)
    lse = _new_lse(q, return_lse)
    _run(q, k, v, spec, handle, scale, backend, num_threads, out, lse if return_lse else None)
    return out, lse


def _check_fake(q, k, v, out, lse=None):
    """What the library and the eager path check of q, k, v, out (and the accumulate lse), for the
    fake implementations: under torch.compile a bad shape or dtype fails while tracing, with the
    error the eager call gives, rather than when the compiled code first runs."""
    _check_devices(q, k, v, out, lse)
    named = [("q", q), ("k", k), ("v", v)] + ([("out", out)] if out is not None else [])
    check_ranks([(name, t.shape) for name, t in named])
    if q.dtype not in _DTYPES:
        raise GraphAttnTypeError(Status.ERR_BAD_DTYPE, _capi.status_string(Status.ERR_BAD_DTYPE),
                                 "q has dtype %s; graphattn takes torch.float32, torch.float16 or "
                                 "torch.bfloat16" % (q.dtype,))
    for name, t in named[1:]:
        if t.dtype != q.dtype:
            raise GraphAttnTypeError(Status.ERR_BAD_DTYPE, _capi.status_string(Status.ERR_BAD_DTYPE),
                                     "%s has dtype %s but q has %s" % (name, t.dtype, q.dtype))
    if lse is not None:
        check_prior_lse(lse.dtype, lse.shape, q.shape, torch.float32)
    check_shapes(q.shape, k.shape, v.shape, q.shape if out is None else out.shape)


@attention_op.register_fake
def _attention_fake(q, k, v, spec, handle, scale, return_lse, backend, num_threads):
    _check_fake(q, k, v, None)
    out = q.new_empty(q.shape)
    lse = q.new_empty(tuple(q.shape[:-1]) if return_lse else (0,), dtype=torch.float32)
    return out, lse


def _setup_context(ctx, inputs, output):
    pass


def _backward(ctx, grad_out, grad_lse):
    raise RuntimeError("graphattn.attention is forward-only: it has no backward pass yet. Run it under "
                       "torch.no_grad() / torch.inference_mode(), or detach its inputs.")


attention_op.register_autograd(_backward, setup_context=_setup_context)


@torch.library.custom_op("graphattn::attention_out", mutates_args=("out",))
def attention_out_op(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, spec: str, handle: int, scale: float,
                     return_lse: bool, backend: int, num_threads: int, out: torch.Tensor) -> torch.Tensor:
    """Writes the result into `out`; returns lse (an empty tensor unless return_lse)."""
    lse = _new_lse(q, return_lse)
    _run(q, k, v, spec, handle, scale, backend, num_threads, out, lse if return_lse else None)
    return lse


@attention_out_op.register_fake
def _attention_out_fake(q, k, v, spec, handle, scale, return_lse, backend, num_threads, out):
    _check_fake(q, k, v, out)
    return q.new_empty(tuple(q.shape[:-1]) if return_lse else (0,), dtype=torch.float32)


@torch.library.custom_op("graphattn::attention_accumulate", mutates_args=("out", "lse"))
def attention_accumulate_op(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, spec: str, handle: int, scale: float,
                            backend: int, num_threads: int, out: torch.Tensor, lse: torch.Tensor) -> None:
    """Merges the result into the prior (out, lse) in place (GA_FLAG_ACCUMULATE)."""
    _run(q, k, v, spec, handle, scale, backend, num_threads, out, lse, _capi.GA_FLAG_ACCUMULATE)


@attention_accumulate_op.register_fake
def _attention_accumulate_fake(q, k, v, spec, handle, scale, backend, num_threads, out, lse):
    _check_fake(q, k, v, out, lse)


# ---- merge_states -------------------------------------------------------------------------------


def _check_merge(tensors):
    """Everything about (out_a, lse_a, out_b, lse_b) but strides and overlaps (the library's):
    dtypes, shapes, one device. Returns True when there is nothing to merge."""
    check_merge_dtypes([t.dtype for t in tensors], lambda dt: dt in _DTYPES, torch.float32)
    empty = check_merge_shapes([t.shape for t in tensors])
    dev = tensors[0].device
    for name, t in zip(_MERGE_NAMES[1:], tensors[1:]):
        if t.device != dev:
            raise make_error(Status.ERR_DEVICE_MISMATCH, "%s is on %s but out_a is on %s; pass all four on one "
                             "device" % (name, t.device, dev))
    return empty


def _merge_run(out_a, lse_a, out_b, lse_b, num_threads):
    """The merge itself, on tensors that _check_merge passed with something to merge."""
    views, keep = [], []
    for name, t, output in (("out_a", out_a, True), ("lse_a", lse_a.unsqueeze(-1), True),
                            ("out_b", out_b, False), ("lse_b", lse_b.unsqueeze(-1), False)):
        view, kept = _view(t, name, output)
        views.append(view)
        keep.append(kept)
    if out_a.is_cuda:
        _on_device(out_a.device, lambda stream: run_merge(views, stream, num_threads, out_a.dim()))
    else:
        run_merge(views, None, num_threads, out_a.dim())
    del keep


@torch.library.custom_op("graphattn::merge_states", mutates_args=("out_a", "lse_a"))
def merge_states_op(out_a: torch.Tensor, lse_a: torch.Tensor, out_b: torch.Tensor, lse_b: torch.Tensor,
                    num_threads: int) -> None:
    """(out_a, lse_a) := (out_a, lse_a) (+) (out_b, lse_b), in place."""
    if not _check_merge((out_a, lse_a, out_b, lse_b)):
        _merge_run(out_a, lse_a, out_b, lse_b, num_threads)


@merge_states_op.register_fake
def _merge_states_fake(out_a, lse_a, out_b, lse_b, num_threads):
    _check_merge((out_a, lse_a, out_b, lse_b))


_function_mode_enabled = getattr(torch._C, "_is_torch_function_mode_enabled", None)
_functorch_stack = getattr(getattr(torch._C, "_functorch", None), "peek_interpreter_stack", None)
_profiler_enabled = getattr(getattr(torch._C, "_autograd", None), "_profiler_enabled", None)
try:  # an in-place write must bump the tensor's version, as the operator (mutates_args) does
    from torch.autograd.graph import increment_version as _increment_version
except ImportError:  # pragma: no cover (older torch)
    _increment_version = None
try:
    from torch.utils._python_dispatch import _get_current_dispatch_mode
except ImportError:  # pragma: no cover (older torch)
    _get_current_dispatch_mode = None
# a torch without one of these probes always takes the operator
_jit_tracing = getattr(torch._C, "_is_tracing", None)
_EAGER_PROBES = None not in (_function_mode_enabled, _functorch_stack, _profiler_enabled, _increment_version,
                             _get_current_dispatch_mode, _jit_tracing)


def _eager(tensors):
    """True when a call may skip the operator and run directly: plain CPU/CUDA tensors in eager
    mode, nothing tracing or intercepting (torch.compile, a torch function or dispatch mode, a
    torch.func transform such as vmap, the profiler, which then shows the operator's name) and
    no autograd to record, and no torch.jit.trace recording (which sees only the operator: a direct
    call would leave the trace an empty output tensor). The operator's dispatch costs tens of
    microseconds of host time per call; the direct call does the same work (bench/host_overhead.py). Anything else takes the
    operator, which keeps torch.compile, FakeTensor and the backward error working."""
    if not _EAGER_PROBES or torch.compiler.is_compiling():
        return False
    if (_function_mode_enabled() or _get_current_dispatch_mode() is not None or _functorch_stack() is not None
            or _profiler_enabled() or _jit_tracing()):
        return False
    grad = torch.is_grad_enabled()
    for t in tensors:
        if type(t) is not torch.Tensor or (grad and t.requires_grad) or not (t.is_cuda or t.is_cpu):
            return False
    return True


def _refuse_forward_ad(what, named):
    """Forward-mode AD has no formula here: raise if any of `named`, (name, tensor) pairs, carries a
    tangent (a torch.autograd.forward_ad dual tensor, or an input that torch.func.jvp or jacfwd
    tracks: both run inside a dual level). Called only while a dual level is active."""
    for name, t in named:
        if _forward_ad.unpack_dual(t).tangent is not None:
            raise RuntimeError("graphattn.%s does not support forward-mode AD (torch.func.jvp, jacfwd, "
                               "torch.autograd.forward_ad): %s carries a tangent, and graphattn is forward-only, "
                               "with no derivative formula. Call it outside the transform, or on tensors without "
                               "a tangent (fwAD.unpack_dual(x).primal)" % (what, name))


def _check_in_place(what, tensors, written):
    """torch's rules for writing tensors in place, for accumulate=True and merge_states: no autograd
    through any of `tensors`, and the `written` ones, (name, tensor) pairs, no inference tensors
    outside inference mode. And the library's: a written tensor is plain memory, without torch's
    lazy negative or conjugate bit (GA_ERR_BAD_STRIDE), which it would write as raw storage."""
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        raise RuntimeError("graphattn.%s does not support autograd (and graphattn is forward-only); call it under "
                           "torch.no_grad()" % what)
    # (Dynamo cannot trace is_inference, is_neg or is_conj. Compiled code copies into the outputs,
    # which checks the first; a written tensor with either bit fails in torch's own math-bit
    # fallback while torch.compile traces the operator, a RuntimeError, never a silent write)
    if not torch.compiler.is_compiling():
        inference = torch.is_inference_mode_enabled()
        for name, t in written:
            if t.is_neg() or t.is_conj():
                bit = "negative" if t.is_neg() else "conjugate"
                raise make_error(Status.ERR_BAD_STRIDE,
                                 "%s is a view with torch's %s bit set (e.g. z.conj().imag), whose memory does not "
                                 "hold its values as they read: graphattn writes memory directly and would store "
                                 "them wrong; pass a plain tensor (%s.resolve_%s() gives one, a copy) and copy the "
                                 "result back" % (name, bit, name, "neg" if bit == "negative" else "conj"))
            # torch's rule for every in-place op
            if not inference and t.is_inference():
                raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed: %s was "
                                   "made under torch.inference_mode(); call graphattn.%s there too, or pass a normal "
                                   "tensor (e.g. %s.clone())" % (name, what, name))


def merge_states(out_a, lse_a, out_b, lse_b, num_threads):
    """graphattn.merge_states for torch tensors (num_threads already checked)."""
    tensors = (out_a, lse_a, out_b, lse_b)
    check_one_kind(tensors, lambda t: isinstance(t, torch.Tensor), "torch tensor", "NumPy array")
    if _FWAD and _forward_ad._current_level >= 0:  # (a module global: -1 outside torch.func.jvp and fwAD.dual_level)
        _refuse_forward_ad("merge_states", zip(_MERGE_NAMES, tensors))
    empty = _check_merge(tensors)
    _check_in_place("merge_states", tensors, (("out_a", out_a), ("lse_a", lse_a)))
    if _eager(tensors):
        if not empty:
            _merge_run(out_a, lse_a, out_b, lse_b, num_threads)
        _increment_version(out_a)  # written in place: autograd must see it
        _increment_version(lse_a)
    else:
        torch.ops.graphattn.merge_states(out_a, lse_a, out_b, lse_b, num_threads)
    return out_a, lse_a


def attention(q, k, v, g, *, scale=None, return_lse=False, out=None, backend=None, num_threads=None, lse=None,
              accumulate=False):
    """graphattn.attention for torch tensors (g is a Graph or a spec string). accumulate=True (with
    out= and lse=, checked to be given by the caller) merges into the prior (out, lse)."""
    tensors = (q, k, v) if out is None else (q, k, v, out)
    if accumulate:
        tensors = (q, k, v, out, lse)
    for name, t in zip(("q", "k", "v", "out", "lse"), tensors):
        if not isinstance(t, torch.Tensor):
            raise make_error(Status.ERR_DEVICE_MISMATCH,
                             "q is a torch tensor but %s is %s; pass all as torch tensors (or all as NumPy "
                             "arrays)" % (name, type(t).__name__))
    if _FWAD and _forward_ad._current_level >= 0:  # (a module global: -1 outside torch.func.jvp and fwAD.dual_level)
        _refuse_forward_ad("attention", zip(("q", "k", "v", "out", "lse"), tensors))
    r = q.dim()
    if not ((r == 3 or r == 4) and k.dim() == r and v.dim() == r and (out is None or out.dim() == r)):
        check_ranks([(name, t.shape) for name, t in zip(("q", "k", "v", "out"), tensors[:4])])  # raises
    if isinstance(g, str) and torch.compiler.is_compiling():
        spec, handle = g, -1  # Dynamo cannot trace the parse (nor its errors): the op parses when it runs
    else:
        g = as_graph(g)
        spec, handle = g._op_key
    s = scale_value(scale)
    b = backend_value(backend)
    nt = threads_value(num_threads)
    if accumulate:
        if out.dtype != q.dtype:
            raise GraphAttnTypeError(Status.ERR_BAD_DTYPE, _capi.status_string(Status.ERR_BAD_DTYPE),
                                     "out has dtype %s but q has %s" % (out.dtype, q.dtype))
        check_prior_lse(lse.dtype, lse.shape, q.shape, torch.float32)
        _check_in_place("attention(accumulate=True)", tensors, (("out", out), ("lse", lse)))
        if _eager(tensors):
            _run_graph(g, q, k, v, s, b, nt, out, lse, _capi.GA_FLAG_ACCUMULATE)
            _increment_version(out)
            _increment_version(lse)
        else:
            _check_devices(q, k, v, out, lse)
            torch.ops.graphattn.attention_accumulate(q, k, v, spec, handle, s, b, nt, out, lse)
        return (out, lse) if return_lse else out
    if out is not None:
        _check_in_place("attention(out=...)", tensors, (("out", out),))
        if out.dtype != q.dtype:
            raise GraphAttnTypeError(Status.ERR_BAD_DTYPE, _capi.status_string(Status.ERR_BAD_DTYPE),
                                     "out has dtype %s but q has %s" % (out.dtype, q.dtype))
    if _eager(tensors):
        o = torch.empty(q.shape, dtype=q.dtype, device=q.device) if out is None else out
        lse = torch.empty(tuple(q.shape[:-1]), dtype=torch.float32, device=q.device) if return_lse else None
        _run_graph(g, q, k, v, s, b, nt, o, lse)
        if out is not None:  # written in place: autograd must see it (a saved tensor now stale)
            _increment_version(out)
        return (o, lse) if return_lse else o
    _check_devices(q, k, v, out)  # (the library checks plain CPU/CUDA tensors, above)
    if out is None:
        o, lse = torch.ops.graphattn.attention(q, k, v, spec, handle, s, bool(return_lse), b, nt)
    else:
        lse = torch.ops.graphattn.attention_out(q, k, v, spec, handle, s, bool(return_lse), b, nt, out)
        o = out
    return (o, lse) if return_lse else o

