#!/usr/bin/env python3
"""A Longformer-style attention layer (sliding window + global tokens) over long sequences with
graphattn, timed against PyTorch's own attention (scaled_dot_product_attention with the same mask
as a dense boolean tensor) wherever that fits in memory, and checked against it.

    pip install .                                   # from the repository root
    python examples/longformer_layer.py             # CPU; CUDA when torch sees a GPU
    python examples/longformer_layer.py --device cuda --dtype bfloat16 --n 4096,65536,1048576

With PyTorch the layer is graphattn.SparseSelfAttention (fused q/k/v projection, graphattn, output
projection). Without PyTorch the same layer runs with NumPy, and the dense comparison is a NumPy
masked softmax. Times are medians of --repeat runs after one warm-up run.
"""
import argparse
import math
import statistics
import time

import numpy as np

import graphattn as ga

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # NumPy only
    torch = None

GIB = float(1 << 30)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", default=None, help="sequence lengths, comma-separated (default: a sweep per device)")
    p.add_argument("--window", type=int, default=256, help="keys on each side of the diagonal (default 256)")
    p.add_argument("--globals", type=int, default=16, help="global tokens 0..G-1 (default 16)")
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--dim", type=int, default=64, help="head dimension")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if torch sees a GPU)")
    p.add_argument("--dtype", default=None, choices=["float32", "float16", "bfloat16"],
                   help="float32, float16 or bfloat16 (default: bfloat16 on cuda, else float32; NumPy has no bfloat16)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dense-limit-gib", type=float, default=None,
                   help="skip the dense comparison above this estimated memory (default: 4 on the CPU, "
                        "half the free memory on a GPU)")
    p.add_argument("--numpy", action="store_true", help="use NumPy even if torch is installed")
    args = p.parse_args()
    try:
        args.ns = [int(x) for x in args.n.split(",")] if args.n else None
    except ValueError:
        p.error("--n: comma-separated integers, got %r" % args.n)
    if args.ns is not None and (not args.ns or min(args.ns) < 1):
        p.error("--n: every length must be at least 1, got %r" % args.n)
    if args.window < 0 or args.globals < 0 or min(args.heads, args.dim, args.batch, args.repeat) < 1:
        p.error("--window and --globals must be >= 0, --heads, --dim, --batch and --repeat >= 1")
    if args.dtype == "bfloat16" and (torch is None or args.numpy):
        p.error("--dtype bfloat16 needs torch (NumPy has no bfloat16); use float32 or float16")
    return args


def layer_graph(args, n):
    """window(W) plus global tokens 0..G-1 (those below n); a plain window where there are none"""
    g = ga.window(args.window)
    return g + ga.global_tokens(range(min(args.globals, n))) if min(args.globals, n) > 0 else g


def median_time(fn, repeat, sync=lambda: None):
    fn()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def dense_bytes(b, h, n, itemsize):
    # the boolean mask, its expansion to an additive bias, and the score matrix of a math fallback
    return n * n * (1 + itemsize) + b * h * n * n * 4


def row(n, edges, dim, t_ga, t_dense, err, note=""):
    # useful throughput: 4 * edges * D FLOPs (q.k and p*v) per graphattn call, attention only
    useful = lambda t: "%9.2f" % (4.0 * edges * dim / t / 1e9) if t else "        -"
    print("%10d %14d %12.3f %12s %10s %11s %10s %s" % (
        n, edges, t_ga * 1e3, "%.3f" % (t_dense * 1e3) if t_dense else "-",
        "%.2fx" % (t_dense / t_ga) if t_dense else "-", useful(t_ga), "%.2e" % err if err is not None else "-", note))


def header(args, device, dtype_name):
    print("graphattn %s (library %s, backends %s) | %s %s | window %d + %d global tokens | B=%d H=%d D=%d" % (
        ga.__version__, ga.library_version(), ",".join(ga.backends()), device, dtype_name, args.window,
        args.globals, args.batch, args.heads, args.dim))
    print("%10s %14s %12s %12s %10s %11s %10s" % ("N", "edges*heads", "graphattn ms", "dense ms", "speedup",
                                                  "GFLOP/s*", "max|diff|"))
    print("(* useful attention GFLOP/s of the whole layer time: 4 * edges * D / time)")


def run_torch(args):
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype_name = args.dtype or ("bfloat16" if device == "cuda" else "float32")
    dtype = getattr(torch, dtype_name)
    ns = args.ns or ([4096, 16384, 65536, 262144, 1 << 20] if device == "cuda" else [2048, 8192, 32768])
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    if args.dense_limit_gib is not None:
        limit = args.dense_limit_gib * GIB
    elif device == "cuda":
        limit = torch.cuda.mem_get_info()[0] / 2
    else:
        limit = 4 * GIB
    torch.manual_seed(0)
    header(args, device, dtype_name)
    for n in ns:
        torch_one(args, n, device, dtype, limit, sync)
        if device == "cuda":
            torch.cuda.empty_cache()


def torch_one(args, n, device, dtype, limit, sync):
    h, d, e, b = args.heads, args.dim, args.heads * args.dim, args.batch
    g = layer_graph(args, n)
    layer = ga.SparseSelfAttention(e, h, g, device=device, dtype=dtype).eval()
    x = torch.randn(b, n, e, device=device, dtype=dtype)
    edges = g.count_edges(n) * h * b
    with torch.inference_mode():
        y = layer(x)
        t_ga = median_time(lambda: layer(x), args.repeat, sync)
        t_dense, err, note = None, None, ""
        need = dense_bytes(b, h, n, x.element_size())
        if need <= limit:
            mask = torch.from_numpy(g.to_dense(n)).to(device)

            def dense_layer():
                qkv = layer.qkv(x).view(b, n, 3 * h, d)
                q, k, v = (t.transpose(1, 2) for t in (qkv[:, :, :h], qkv[:, :, h:2 * h], qkv[:, :, 2 * h:]))
                o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
                return layer.out_proj(o.transpose(1, 2).reshape(b, n, e))

            try:
                y_dense = dense_layer()
                t_dense = median_time(dense_layer, args.repeat, sync)
                err = (y.float() - y_dense.float()).abs().max().item()
            except (RuntimeError, MemoryError) as exc:  # out of memory after all
                note = "dense failed: %s" % str(exc).split("\n")[0][:60]
        else:
            note = "dense skipped: needs ~%.1f GiB" % (need / GIB)
    row(n, edges, d, t_ga, t_dense, err, note)


def run_numpy(args):
    dtype_name = args.dtype or "float32"
    dtype = np.dtype(dtype_name)
    ns = args.ns or [2048, 8192, 32768]
    limit = (args.dense_limit_gib if args.dense_limit_gib is not None else 2.0) * GIB
    h, d, e, b = args.heads, args.dim, args.heads * args.dim, args.batch
    rng = np.random.default_rng(0)
    w_qkv = (rng.standard_normal((e, 3 * e)) / math.sqrt(e)).astype(dtype)
    w_out = (rng.standard_normal((e, e)) / math.sqrt(e)).astype(dtype)
    header(args, "cpu (numpy)", dtype_name)
    for n in ns:
        g = layer_graph(args, n)
        x = rng.standard_normal((b, n, e)).astype(dtype)
        edges = g.count_edges(n) * h * b

        def layer():
            qkv = (x @ w_qkv).reshape(b, n, 3 * h, d)
            o = ga.attention(qkv[:, :, :h], qkv[:, :, h:2 * h], qkv[:, :, 2 * h:], g)
            return o.reshape(b, n, e) @ w_out

        y = layer()
        t_ga = median_time(layer, args.repeat)
        t_dense, err, note = None, None, ""
        need = n * n * 9 + b * n * n * 8
        if need <= limit:
            mask = g.to_dense(n)

            def dense_layer():
                qkv = (x @ w_qkv).reshape(b, n, 3 * h, d).astype(np.float32)
                out = np.empty((b, n, h, d), dtype=np.float32)
                for head in range(h):
                    q, k, v = qkv[:, :, head], qkv[:, :, h + head], qkv[:, :, 2 * h + head]
                    s = np.where(mask, (q @ k.transpose(0, 2, 1)) / math.sqrt(d), -np.inf)
                    s = np.exp(s - s.max(axis=-1, keepdims=True))
                    out[:, :, head] = (s @ v) / s.sum(axis=-1, keepdims=True)
                return out.reshape(b, n, e).astype(dtype) @ w_out

            y_dense = dense_layer()
            t_dense = median_time(dense_layer, args.repeat)
            err = float(np.abs(y.astype(np.float64) - y_dense).max())
        else:
            note = "dense skipped: needs ~%.1f GiB" % (need / GIB)
        row(n, edges, d, t_ga, t_dense, err, note)


def main():
    args = parse_args()
    if torch is not None and not args.numpy:
        run_torch(args)
    else:
        if torch is None:
            print("(torch is not installed: NumPy only)")
        run_numpy(args)


if __name__ == "__main__":
    main()
