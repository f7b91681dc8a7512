#!/usr/bin/env python3
"""host_overhead.py -- what one forward call costs the host, in microseconds per call, for a
problem so small that the work itself is negligible (N = 1 query and 1 key, H = 1, D = 64 by
default): the C call alone (ga_attention_forward through ctypes on views built once), the
benchmark's own shim (bench/ga_torch.py), and the Python package (python/graphattn) on NumPy
arrays, on torch tensors, and through the torch operator directly.

    python3 bench/host_overhead.py [--device cpu|cuda] [--n 1] [--calls 20000]

On the CPU the rows include the CPU backend's own (tiny) work with one thread; on CUDA they are
host time per call with the launches queued (the GPU is synchronized once per row, after the
calls; with N = 1 the kernel is shorter than the host's cost). Needs the library
($GRAPHATTN_LIBRARY, else build/libgraphattn.so), NumPy and, for the torch rows, PyTorch.
"""
import argparse
import ctypes
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
# GA_PACKAGE_DIR: another copy of the package (an A/B of the package against the same library)
sys.path.insert(0, os.environ.get("GA_PACKAGE_DIR") or os.path.join(ROOT, "python"))
if "GRAPHATTN_LIBRARY" not in os.environ:
    for d in ("build-gpu", "build"):
        p = os.path.join(ROOT, d, "libgraphattn.so")
        if os.path.exists(p):
            os.environ["GRAPHATTN_LIBRARY"] = p
            break

import ga_torch  # noqa: E402  (the benchmark's shim)
import graphattn  # noqa: E402  (the package)
from graphattn import _capi  # noqa: E402

try:
    import torch
except ImportError:  # the NumPy and C rows still run
    torch = None


def per_call_us(fn, calls, sync=None):
    for _ in range(min(200, calls)):
        fn()
    if sync:
        sync()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        if sync:
            sync()
        best = min(best, (time.perf_counter() - t0) / calls * 1e6)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--n", type=int, default=1)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()
    N, D, spec = args.n, args.dim, "window:256"
    rows = []
    cuda = args.device == "cuda"
    if cuda and (torch is None or not torch.cuda.is_available()):
        sys.exit("--device cuda needs PyTorch with a CUDA device")
    sync = torch.cuda.synchronize if cuda else None
    nt = 0 if cuda else 1

    if cuda:
        q, k, v = (torch.randn(1, N, 1, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    else:
        q, k, v = (np.random.default_rng(i).standard_normal((1, N, 1, D)).astype(np.float32) for i in range(3))
    out = q.clone() if cuda else np.empty_like(q)

    # the C call alone: views and options built once
    L = ga_torch.lib()
    g0 = ga_torch.Graph(spec)
    tq, tk, tv, to = (ga_torch.view(t) for t in (q, k, v, out))
    o = ga_torch.GaOptions()
    o.backend, o.num_threads = (ga_torch.GA_BACKEND_CUDA if cuda else ga_torch.GA_BACKEND_CPU), nt
    o.stream = torch.cuda.current_stream().cuda_stream if cuda else None
    n = ctypes.c_size_t()
    ga_torch.check(L.ga_attention_workspace_size(g0.h, ctypes.byref(tq), ctypes.byref(tk), ctypes.byref(tv),
                                                 ctypes.byref(o), ctypes.byref(n)), "workspace size")
    wbuf = torch.empty(max(n.value, 1), dtype=torch.uint8, device="cuda") if cuda and n.value else None
    wptr = wbuf.data_ptr() if wbuf is not None else None
    args_c = (g0.h, ctypes.byref(tq), ctypes.byref(tk), ctypes.byref(tv), ctypes.byref(to), None, ctypes.byref(o),
              wptr, n.value)
    fwd = L.ga_attention_forward
    rows.append(("C call alone (ctypes, views built once)", per_call_us(lambda: fwd(*args_c), args.calls, sync)))

    # the benchmark's shim
    ws = ga_torch.workspace(g0, q, k, v, backend=o.backend)
    rows.append(("bench/ga_torch.py attention(out=, ws=)",
                 per_call_us(lambda: ga_torch.attention(g0, q, k, v, out=out, ws=ws, backend=o.backend),
                             args.calls, sync)))

    # the package
    g = graphattn.Graph(spec)
    backend = "cuda" if cuda else "cpu"
    if not cuda:
        rows.append(("graphattn.attention, NumPy arrays, out=",
                     per_call_us(lambda: graphattn.attention(q, k, v, g, out=out, backend=backend, num_threads=1),
                                 args.calls)))
    if torch is not None:
        tq_, tk_, tv_ = (torch.from_numpy(t) for t in (q, k, v)) if not cuda else (q, k, v)
        tout = torch.empty_like(tq_)
        with torch.no_grad():
            rows.append(("graphattn.attention, torch tensors",
                         per_call_us(lambda: graphattn.attention(tq_, tk_, tv_, g, backend=backend, num_threads=nt),
                                     args.calls, sync)))
            rows.append(("graphattn.attention, torch tensors, out=",
                         per_call_us(lambda: graphattn.attention(tq_, tk_, tv_, g, out=tout, backend=backend,
                                                                 num_threads=nt), args.calls, sync)))
            sp, h = g._op_key
            b = _capi.BACKENDS[backend]
            op = torch.ops.graphattn.attention
            rows.append(("torch.ops.graphattn.attention directly",
                         per_call_us(lambda: op(tq_, tk_, tv_, sp, h, 0.0, False, b, nt), args.calls, sync)))
            rows.append(("torch.empty_like (for scale)", per_call_us(lambda: torch.empty_like(tq_), args.calls, sync)))
            # pieces of the package's call, each alone (no sync needed: nothing is queued)
            from graphattn import _torch_op
            pieces = [("  piece: ga_attention_workspace_size", lambda: L.ga_attention_workspace_size(
                           g0.h, ctypes.byref(tq), ctypes.byref(tk), ctypes.byref(tv), ctypes.byref(o), ctypes.byref(n))),
                      ("  piece: _view(q) (the package's ga_tensor)", lambda: _torch_op._view(tq_, "q", False)),
                      ("  piece: _eager((q, k, v, out)) probes", lambda: _torch_op._eager((tq_, tk_, tv_, tout))),
                      ("  piece: as_graph(g) + scale/backend/threads", lambda: (
                          _torch_op.as_graph(g), _torch_op.scale_value(None), _torch_op.backend_value(backend),
                          _torch_op.threads_value(nt)))]
            if cuda:
                dev = tq_.device
                pieces += [("  piece: torch.cuda.current_stream(dev).cuda_stream",
                            lambda: torch.cuda.current_stream(dev).cuda_stream),
                           ("  piece: torch.cuda.current_device()", torch.cuda.current_device)]
                raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
                if raw is not None:
                    pieces.append(("  piece: torch._C._cuda_getCurrentRawStream(i)", lambda: raw(0)))
            for name, fn in pieces:
                rows.append((name, per_call_us(fn, args.calls)))

    print("host cost per forward call, N = %d, D = %d, %s, %s (best of 3 x %d calls), package %s"
          % (N, D, spec, args.device, args.calls, os.path.dirname(os.path.abspath(graphattn.__file__))))
    for name, us in rows:
        print("  %-48s %8.2f us" % (name, us))


if __name__ == "__main__":
    main()
