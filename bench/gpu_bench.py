#!/usr/bin/env python3
"""gpu_bench.py -- graphattn and its peers side by side on one GPU: same inputs, same run.

Cases (H=1, D=64, bf16, batch 1; graphattn through bench/ga_torch.py on torch tensors):
  window      |i-j| <= 256 (513 keys), N = 2^16 .. 2^28          peers: FA2 window, FlexAttention (narrow mask)
  csr         the same window stored as an explicit CSR, N = 2^20  peers: none (the paper's CSR kernel: 1017 ms);
              also graphattn with GRAPHATTN_NO_RANGES=1 (system graphattn_bitmap: the bitmap tiles)
  longformer  window 256 + 16 global tokens (0..15), N = 2^18, 2^20  peers: FA2 window part, Flex (create_block_mask)
  random      window 64 + 16 random keys per query, N = 2^18 .. 2^22  peers: FA2 window part, Flex
  bigbird     bigbird:64,3,2,3 (block 64), N = 2^18, 2^20          peers: Flex
The union cases (longformer, random, bigbird) also time graphattn on their window part alone
(system graphattn_part: window:W, or bigbird:64,3,0,0) and note the union's ratio to it, the
figure of issue 5's <= 1.3x targets; with graph timing on, longformer and bigbird both again as
CUDA-graph replays (rows graphattn_part_graph, graphattn_graph: GPU time per call, the ratio
without the host's cost; random's edge-engine part is not captured).
  csr-huge    window 300 as a CSR at N = 2^22: 2.5e9 edges (> 2^31), int32 columns; a long-sequence check
  dense, causal  N = 2^16, H = 16, D = 128                      peers: SDPA flash (FA2), SDPA cuDNN
  dense-d64, causal-d64  the same at D = 64: the window's head dim on dense work, where the
              softmax sets the pace as it does on the window      peers: SDPA flash (FA2), SDPA cuDNN
  window-h16  the 513-key window at N = 2^22 with H = 16            peers: FA2 window
  window-h16-bhnd  the same with each head's rows contiguous ((B, H, N, D) storage, transposed)
  causal-d256 causal, H = 8, D = 256 at N = 2^15 (bf16: split P)     peers: SDPA flash and cuDNN
  window-d256 the 513-key window at N = 2^20 with D = 256           peers: FA2 window, Flex; also graphattn
              with GRAPHATTN_NO_TILES=1 (system graphattn_edges: the edge engine on the same inputs)
  window-d96  the same with D = 96 (on Hopper: padded to the D = 128 kernels)  peers: FA2 window, Flex;
              also graphattn_edges
  longest     the 513-key window at N = 3 * 2^27 (402M tokens), D = 32, output over q  peers: none
              (at D = 64, Q/O, K and V alone need 154.6 GB: more than the H200's 143.8 GB)
  narrow      window:16 and window:64 (33 and 129 keys) at N = 2^22: short walks and split P
              peers: FA2 window (bench/narrow_window.py runs more widths)
  narrow-d    window:16 at D = 32 and window:20 at D = 96 (padded to 128), N = 2^22: short walks at the
              head dims that run padded (bench/RESULTS.md run 27)   peers: FA2 window
  documents, documents-causal  documents of 512-4096 tokens packed in N = 2^18, each token attending
              its own document (causal: up to itself), as an explicit CSR   peers: FA2 varlen
              (cu_seqlens), Flex (document mask_mod)
(dense, causal, dense-d64, causal-d64, window-h16, window-h16-bhnd, causal-d256, window-d256, window-d96, longest, narrow, narrow-d and the documents are not in the
default --cases list: name them.)
Every graphattn result is checked on sampled rows (first, middle, last, global rows) against an fp64
reference computed with torch from the graph's own row lists (ga_graph_row); a failing check makes
the exit status 1. Peers are checked the same way and only reported.
FlexAttention is skipped where its mask build is known to take minutes or to run out of memory
(Longformer 2^20: 156 s; random 2^20: asks 1 TiB); those rows cite ../shared/docs/CONTEXT.md.

Output: one CSV row per (case, system, N) to --csv, and a table on stdout (last).
Time = median of CUDA-event timings (peers.time_ms) of one call, host cost included; the window
case also times graphattn and FA2 at N <= 2^24 as CUDA graphs of several calls (systems
*_graph: GPU time per call), and the Python package's own call (python/graphattn, system
graphattn_pkg: what a user's eager call costs, host included). Useful TFLOP/s = 4 * edges * D *
H / time."""
import argparse
import csv
import ctypes
import math
import os
import signal
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ga_torch as ga  # noqa: E402
import peers  # noqa: E402

H, D = 1, 64
DT = torch.bfloat16
SEED = 20261129
TOL = 1e-2  # bf16 outputs on unit-normal data (docs RELIABILITY.md)

# Measured peer numbers cited instead of re-run (CONTEXT.md, H200, bf16, H=1, D=64).
CITED = {
    ("window", "fa2_window", 2 ** 28): (375.0, "CONTEXT.md (129 GiB peak)"),
    ("longformer", "flex", 2 ** 20): (443.0, "CONTEXT.md: kernel 443 ms, mask build 156 s"),
    ("random", "flex", 2 ** 20): (None, "CONTEXT.md: create_block_mask out of memory (asked 1 TiB)"),
    ("csr", "paper_csr", 2 ** 20): (1017.0, "CONTEXT.md: the paper's CSR kernel"),
}


def log(*a):
    print(*a, flush=True)


# ---- graphs and their edge counts ---------------------------------------------------------------

def longformer_spec(w, g):
    return "window:%d+global:%s" % (w, ",".join(str(t) for t in range(g)))


def window_deg(N, w):
    i = np.arange(N, dtype=np.int64)
    return np.minimum(i + w, N - 1) - np.maximum(i - w, 0) + 1


def edges_longformer(N, w, g):
    i = np.arange(N, dtype=np.int64)
    deg = window_deg(N, w)
    extra = np.where(i < g, N - deg, np.clip(i - w, 0, g))  # global rows: all keys; others: globals outside
    return int(deg.sum() + extra.sum())


def edges_window_random(N, w, r, seed):
    total = int(window_deg(N, w).sum())
    dev = "cuda"
    for lo in range(0, N, 1 << 20):
        rows = torch.arange(lo, min(N, lo + (1 << 20)), device=dev, dtype=torch.int64)[:, None]
        t = torch.arange(r, device=dev, dtype=torch.int64)[None, :]
        j = peers.random_pick(seed, rows, t, N, r)
        total += int(((j < rows - w) | (j > rows + w)).sum().item())
    return total


def edges_bigbird(N, B, wb, gb, rb, seed):
    nbk = -(-N // B)
    m = min(rb, nbk)
    qb = torch.arange(nbk, device="cuda", dtype=torch.int64)[:, None]
    t = torch.arange(m, device="cuda", dtype=torch.int64)[None, :]
    picks = peers.random_pick(seed, qb, t, nbk, m)  # (nbk, m)
    total = 0
    sizes = np.full(nbk, B, dtype=np.int64)
    sizes[-1] = N - (nbk - 1) * B
    picks = picks.cpu().numpy()
    for q in range(nbk):
        if q < gb:
            total += N * int(sizes[q])
            continue
        blocks = set(range(min(gb, nbk))) | set(range(max(0, q - wb), min(nbk, q + wb + 1))) | set(picks[q].tolist())
        total += int(sizes[q]) * int(sum(sizes[b] for b in blocks))
    return total


def window_csr(N, w, index_dtype=np.int32):
    """row_ptr, col of window(w, w) over N, built in chunks of rows (col may exceed 2^31 entries)."""
    deg = window_deg(N, w)
    row_ptr = np.zeros(N + 1, dtype=np.int64)
    np.cumsum(deg, out=row_ptr[1:])
    col = np.empty(int(row_ptr[-1]), dtype=index_dtype)
    span = 2 * w + 1
    step = 1 << 16
    for lo in range(0, N, step):
        hi = min(N, lo + step)
        i = np.arange(lo, hi, dtype=np.int64)
        start = np.maximum(i - w, 0)
        cand = start[:, None] + np.arange(span, dtype=np.int64)[None, :]
        keep = cand <= np.minimum(i + w, N - 1)[:, None]
        col[row_ptr[lo]:row_ptr[hi]] = cand[keep]
    return row_ptr, col


# ---- the fp64 reference on sampled rows ----------------------------------------------------------

def row_keys(graph, N, i):
    L = ga.lib()
    L.ga_graph_row.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
                               ctypes.c_int64, ctypes.POINTER(ctypes.c_int64)]
    deg = ctypes.c_int64()
    ga.check(L.ga_graph_row(graph.h, N, N, i, None, 0, ctypes.byref(deg)), "ga_graph_row")
    keys = np.empty(max(1, deg.value), dtype=np.int64)
    ga.check(L.ga_graph_row(graph.h, N, N, i, keys.ctypes.data, deg.value, ctypes.byref(deg)), "ga_graph_row")
    return keys[:deg.value]


def sample_rows(N, extra=()):
    rng = np.random.default_rng(N)
    base = [0, 1, 2, 15, 16, 17, 255, 256, 257, N // 3, N // 2, N - 257, N - 256, N - 3, N - 2, N - 1]
    base += list(rng.integers(0, N, 6)) + list(extra)
    return sorted(set(int(r) for r in base if 0 <= r < N))


def window_keys(N, W):
    """keys_of for reference(): row i's keys under the window |i - j| <= W, as an array."""
    return lambda i: np.arange(max(0, i - W), min(N, i + W + 1), dtype=np.int64)


def reference(graph, N, q, k, v, rows, keys_of=None):
    """{row: (out fp64 (D,), lse)} from the row's key list (keys_of(i), default the graph's own)."""
    scale = 1.0 / math.sqrt(D)
    ref = {}
    for i in rows:
        keys = keys_of(i) if keys_of else row_keys(graph, N, i)
        if len(keys) == 0:
            ref[i] = (torch.zeros(D, dtype=torch.float64, device="cuda"), -math.inf)
            continue
        kk = torch.from_numpy(keys).cuda()
        s = (k[0, kk, 0].double() @ q[0, i, 0].double()) * scale
        lse = torch.logsumexp(s, 0)
        ref[i] = ((torch.exp(s - lse)[:, None] * v[0, kk, 0].double()).sum(0), lse.item())
    return ref


def max_error(out, ref):
    worst = 0.0
    for i, (o, _) in ref.items():
        got = out[0, i, 0].double()
        if not torch.isfinite(got).all():
            return math.inf
        worst = max(worst, (got - o).abs().max().item())
    return worst


# ---- running one case ----------------------------------------------------------------------------

RESULTS = []
FAILED = []
CSV_PATH = None


def record(case, system, N, edges, ms, err=None, peak=None, note=""):
    row = dict(case=case, system=system, N=N, log2N=round(math.log2(N), 2), edges=edges,
               ms=None if ms is None else round(ms, 4),
               useful_tflops=None if not ms else round(4.0 * edges * D * H / (ms * 1e-3) / 1e12, 2),
               ns_per_edge=None if not ms else round(ms * 1e6 / edges, 5),
               max_err=None if err is None else float("%.3g" % err), peak_gib=peak, note=note)
    RESULTS.append(row)
    if CSV_PATH:  # written row by row, so that a run cut short keeps what it measured
        new = not os.path.exists(CSV_PATH) or len(RESULTS) == 1
        with open(CSV_PATH, "w" if len(RESULTS) == 1 else "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row.keys()))
            if new:
                w.writeheader()
            w.writerow(row)
    log("  %-11s %-12s N=2^%-5g %10s ms  %8s TFLOP/s  %10s ns/edge  err %-9s %s" % (
        case, system, row["log2N"], row["ms"], row["useful_tflops"], row["ns_per_edge"], row["max_err"], note))


def time_ms(fn, N):
    # the median of 11 below 2^20: a call there is ~0.1-0.7 ms, and its host cost, inside the
    # events, swings call to call (5 left the Longformer ratio to one or two outliers, run 16a)
    reps = 11 if N <= (1 << 20) else 5 if N <= (1 << 24) else 3
    return peers.time_ms(fn, reps=reps)


def graph_ms(fn, N):
    """GPU time per call with the host's per-call cost out of the way: several calls captured in
    one CUDA graph, the graph replayed between two events (median of peers.time_ms), divided by
    the number of calls."""
    calls = 20 if N <= (1 << 20) else 4
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up outside the capture (first-call setup)
        fn()
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    cg = torch.cuda.CUDAGraph()
    with torch.cuda.graph(cg):
        for _ in range(calls):
            fn()
    ms = peers.time_ms(cg.replay, reps=5) / calls
    del cg
    return ms


def run_graph_timing(case, N, edges, systems, ratio=None, rounds=1):
    """Rows `<system>_graph`: the same call's GPU time per call (graph_ms), for the small-N end of
    the time-per-edge figure, where a call's host cost (Python, launch) is a large part of it.
    systems: (system, fn) or (system, fn, its own edges). ratio = (system, base): that row also
    notes its time over base's. rounds > 1: the systems timed that many times, the order
    reversed every other round, each row the median of its rounds (bench/RESULTS.md run 32:
    of two graphs timed one after the other, which one ran faster depended on the order by 4-9%
    at 2^18-2^20)."""
    timed, failed = {}, {}
    for r in range(rounds):
        for system, fn, *own in (systems if r % 2 == 0 else systems[::-1]):
            if system in failed:
                continue
            try:
                timed.setdefault(system, []).append(graph_ms(fn, N))
            except Exception as ex:  # noqa: BLE001
                failed[system] = ex
            torch.cuda.synchronize()
    for system, fn, *own in systems:
        e = own[0] if own else edges
        if system in failed:
            record(case, system + "_graph", N, e, None, note="error: %s" % str(failed[system])[:160])
            continue
        ms = statistics.median(timed[system])
        note = "CUDA graph replay: GPU time per call"
        if rounds > 1:
            note += " (median of %d rounds, order alternating)" % rounds
        if ratio and system == ratio[0] and ratio[1] in timed and ratio[1] not in failed:
            note += "; %.2fx %s" % (ms / statistics.median(timed[ratio[1]]), ratio[2] if len(ratio) > 2 else "its window part")
        record(case, system + "_graph", N, e, ms, note=note)


def run_graphattn(case, graph, N, q, k, v, edges, ref, in_place=False, note="", system="graphattn", part_ms=None):
    """Time and check one graphattn run; record it as `system`. part_ms: the time of the union's
    window part alone (run_window_part), noted as a ratio. Returns the time in ms, or None."""
    try:
        out = q if in_place else torch.empty_like(q)
        ws = ga.workspace(graph, q, k, v)
        t0 = time.time()
        ga.attention(graph, q, k, v, out=out, ws=ws)  # first call: graph upload and plan
        torch.cuda.synchronize()
        first = time.time() - t0
        if in_place:  # one checked run; the timed runs then start from its output (still finite)
            err = max_error(out, ref)
            ms = time_ms(lambda: ga.attention(graph, q, k, v, out=out, ws=ws), N)
        else:
            ms = time_ms(lambda: ga.attention(graph, q, k, v, out=out, ws=ws), N)
            err = max_error(out, ref)
        ok = err <= TOL
        if not ok:
            FAILED.append("%s N=%d: max error %g" % (case, N, err))
        if part_ms:
            note = ("%s %.2fx its window part" % (note, ms / part_ms)).strip()
        record(case, system, N, edges, ms, err, note=(note + " first call %.2fs" % first).strip()
               + ("" if ok else " FAIL"))
        del out
        return ms
    except Exception as ex:  # noqa: BLE001
        FAILED.append("%s N=%d: %r" % (case, N, ex))
        record(case, system, N, edges, None, note="error: %s" % str(ex)[:200])
        return None


def run_package_call(case, spec, N, q, k, v, edges, ref):
    """The Python package's own call (python/graphattn: what users call, eager, out= given),
    timed and checked like the shim's row: its host cost per call shows at small N."""
    try:
        if not os.environ.get("GRAPHATTN_LIBRARY"):
            os.environ["GRAPHATTN_LIBRARY"] = ga._find_library()  # the library the shim loaded
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
        import graphattn as pkg
        g = pkg.Graph(spec)
        out = torch.empty_like(q)
        ms = time_ms(lambda: pkg.attention(q, k, v, g, out=out), N)
        err = max_error(out, ref)
        ok = err <= TOL
        if not ok:
            FAILED.append("%s N=%d package call: max error %g" % (case, N, err))
        record(case, "graphattn_pkg", N, edges, ms, err,
               note="python/graphattn attention(out=): the package's call" + ("" if ok else " FAIL"))
    except Exception as ex:  # noqa: BLE001
        FAILED.append("%s N=%d package call: %r" % (case, N, ex))
        record(case, "graphattn_pkg", N, edges, None, note="error: %s" % str(ex)[:200])


def run_union_graph_timing(case, N, part_spec, g, q, k, v, edges):
    """Rows `graphattn_part_graph` and `graphattn_graph` (run_graph_timing): a union and its window
    part as CUDA-graph replays, GPU time per call without the host's per-call cost, which differs
    between them (the union's call plans more and launches more kernels), with the ratio."""
    gp = ga.Graph(part_spec)
    systems = []
    for system, graph, e in (("graphattn_part", gp, gp.edges(N, N)), ("graphattn", g, edges)):
        try:
            out, ws = torch.empty_like(q), ga.workspace(graph, q, k, v)
            systems.append((system, lambda gr=graph, o=out, w=ws: ga.attention(gr, q, k, v, out=o, ws=w), e))
        except Exception as ex:  # noqa: BLE001
            record(case, system + "_graph", N, e, None, note="error: %s" % str(ex)[:160])
    run_graph_timing(case, N, edges, systems, ratio=("graphattn", "graphattn_part"), rounds=4)


def run_window_part(case, spec, N, q, k, v):
    """graphattn on a union's window part alone (issue 5 asks the union for <= 1.3x of it),
    checked like any run; returns its time in ms or None."""
    try:
        g = ga.Graph(spec)
        ref = reference(g, N, q, k, v, sample_rows(N))
        edges = g.edges(N, N)
    except Exception as ex:  # noqa: BLE001
        FAILED.append("%s N=%d window part: %r" % (case, N, ex))
        record(case, "graphattn_part", N, 0, None, note="error: %s" % str(ex)[:200])
        return None
    return run_graphattn(case, g, N, q, k, v, edges, ref, note="window part alone: " + spec,
                         system="graphattn_part")


def run_peer(case, system, N, edges, fn, ref, note=""):
    if (case, system, N) in CITED:
        ms, src = CITED[(case, system, N)]
        record(case, system, N, edges, ms, note="cited, not run: " + src)
        return
    try:
        torch.cuda.reset_peak_memory_stats()
        ms = time_ms(fn, N)
        out = fn()
        err = max_error(out, ref) if ref is not None else None
        record(case, system, N, edges, ms, err, peak=round(torch.cuda.max_memory_allocated() / 2 ** 30, 2), note=note)
        del out
    except Exception as ex:  # noqa: BLE001
        record(case, system, N, edges, None, note="error: %s" % str(ex)[:160])
    torch.cuda.empty_cache()


def qkv(N, heads_major=False):
    """q, k, v of shape (1, N, H, D); heads_major: each head's rows contiguous (a (1, H, N, D)
    buffer seen through a transpose), the layout many models keep."""
    g = torch.Generator(device="cuda").manual_seed(SEED + N)
    if heads_major:
        return [torch.randn(1, H, N, D, dtype=DT, device="cuda", generator=g).transpose(1, 2) for _ in range(3)]
    return [torch.randn(1, N, H, D, dtype=DT, device="cuda", generator=g) for _ in range(3)]


def flex_with_build(mask_fn, N, q, k, v):
    """create_block_mask (timed once, reported) and the kernel function; a failing build gives a
    function that raises, so that run_peer records the error and the run goes on."""
    torch.cuda.synchronize()
    t0 = time.time()
    try:
        bm = peers.flex_mask(N, mask_fn)
    except Exception as ex:  # noqa: BLE001
        msg = "mask build failed: %s" % str(ex).strip().splitlines()[-1][:120]

        def fail():
            raise RuntimeError(msg)
        return fail, msg
    torch.cuda.synchronize()
    build = time.time() - t0
    return (lambda: peers.flex(q, k, v, bm)), "mask build %.1fs" % build


# ---- the cases -----------------------------------------------------------------------------------

class heads_and_dim:
    """Run a case at another (H, D): qkv, reference and the FLOP count read the globals."""
    def __init__(self, h, d):
        self.hd = (h, d)

    def __enter__(self):
        global H, D
        self.saved = (H, D)
        H, D = self.hd

    def __exit__(self, *exc):
        global H, D
        H, D = self.saved


def case_window(args, N, heads=1, dim=None, name=None, peers_too=True, heads_major=False, edge_row=False):
    """The 513-key window; heads = 16 is the "window-h16" case (issue 5: time per edge no worse
    than with one head), run beside FA2 only; "longest" is N = 3 * 2^27 at D = 32, no peers."""
    W = 256
    dim = dim or D
    name = name or ("window" if heads == 1 else "window-h%d" % heads)
    note = " ".join(x for x in ("" if heads == 1 else "H=%d" % heads, "" if dim == D else "D=%d" % dim,
                                "(B, H, N, D) storage" if heads_major else "") if x)
    # the CUDA-graph rows: the plain window only (decided here: inside heads_and_dim, D is dim)
    graph_rows = heads == 1 and dim == D and N <= (1 << 24) and args.graph_timing
    with heads_and_dim(heads, dim):
        q, k, v = qkv(N, heads_major)
        g = ga.Graph("window:%d" % W)
        edges = peers.window_edges(N, W, W)
        ref = reference(g, N, q, k, v, sample_rows(N), keys_of=window_keys(N, W))
        if args.peers and peers_too:
            if N <= (1 << 26) or args.fa2_max:
                run_peer(name, "fa2_window", N, edges, lambda: peers.fa2_window(q, k, v, W, W), ref, note=note)
            else:
                run_peer(name, "fa2_window", N, edges, None, None)
            if heads == 1 and N in args.flex_window:
                bm = peers.flex_window_mask(N, W, W)
                run_peer(name, "flex_window", N, edges, lambda: peers.flex(q, k, v, bm), ref)
                del bm
        torch.cuda.empty_cache()
        in_place = N >= (1 << 27)
        run_graphattn(name, g, N, q, k, v, edges, ref, in_place=in_place,
                      note=" ".join(x for x in (note, "out=q" if in_place else "") if x))
        if edge_row:  # the same call on the edge engine (the library reads the variable per call)
            os.environ["GRAPHATTN_NO_TILES"] = "1"
            try:
                run_graphattn(name, g, N, q, k, v, edges, ref, system="graphattn_edges",
                              note=(note + " edge engine (GRAPHATTN_NO_TILES=1)").strip())
            finally:
                del os.environ["GRAPHATTN_NO_TILES"]
        if heads > 1 and dim == D and args.graph_timing:
            run_heads_load_rows(name, g, N, q, k, v, edges, heads)
        if graph_rows:
            run_package_call(name, "window:%d" % W, N, q, k, v, edges, ref)
            o1, ws = torch.empty_like(q), ga.workspace(g, q, k, v)
            systems = [("graphattn", lambda: ga.attention(g, q, k, v, out=o1, ws=ws))]
            if args.peers:
                systems.append(("fa2_window", lambda: peers.fa2_window(q, k, v, W, W)))
            run_graph_timing(name, N, edges, systems)
            del o1, ws
        del q, k, v
        torch.cuda.empty_cache()


def run_heads_load_rows(case, g, N, q, k, v, edges, heads):
    """Issue 5's heads figure under equal load, by graph replay (run_graph_timing, two rounds, the
    order alternating): the call over `heads` heads beside `heads` calls over one head on inputs of
    the same N, so that both rows do the same work in one stretch of GPU time. The eager H = 1
    row it is otherwise set against is one call of ~1.5 ms after an idle gap (its host cost inside
    the events, the clocks at their boost), the heads' call ~26 ms at the card's power limit
    (bench/RESULTS.md run 12: the time per edge moves with the clock)."""
    o, ws = torch.empty_like(q), ga.workspace(g, q, k, v)
    with heads_and_dim(1, D):
        q1, k1, v1 = qkv(N)
    o1, ws1 = torch.empty_like(q1), ga.workspace(g, q1, k1, v1)

    def one_head_calls():
        for _ in range(heads):
            ga.attention(g, q1, k1, v1, out=o1, ws=ws1)

    base = "graphattn_h1x%d" % heads
    run_graph_timing(case, N, edges, [("graphattn", lambda: ga.attention(g, q, k, v, out=o, ws=ws)),
                                      (base, one_head_calls)],
                     ratio=("graphattn", base, "the %d calls over one head" % heads), rounds=2)
    del o, ws, q1, k1, v1, o1, ws1


def case_narrow(args, N, windows=(16, 64), system="graphattn", dim=None):
    """Narrow windows (|i - j| <= W, middle rows under 192 keys: short walks, and split P below
    256 keys) beside FA2's window kernel; bench/narrow_window.py runs more of them (bench/RESULTS.md
    runs 24d-24e). dim: another head dim (case names then say it: window:16 D32)."""
    with heads_and_dim(H, dim or D):
        q, k, v = qkv(N)
        for W in windows:
            g = ga.Graph("window:%d" % W)
            edges = peers.window_edges(N, W, W)
            ref = reference(g, N, q, k, v, sample_rows(N), keys_of=window_keys(N, W))
            case = "window:%d" % W + (" D%d" % dim if dim else "")
            if args.peers:
                run_peer(case, "fa2_window", N, edges, lambda W=W: peers.fa2_window(q, k, v, W, W), ref)
            run_graphattn(case, g, N, q, k, v, edges, ref, system=system)
            del g
        del q, k, v
    torch.cuda.empty_cache()


def case_csr(args, N, W=256, name="csr"):
    t0 = time.time()
    row_ptr, col = window_csr(N, W)
    g = ga.Graph.csr(row_ptr, col, N)
    built = time.time() - t0
    edges = int(row_ptr[-1])
    del col
    q, k, v = qkv(N)
    rows = sample_rows(N)
    ref = reference(g, N, q, k, v, rows, keys_of=window_keys(N, W))
    if args.peers and name == "csr":
        run_peer("csr", "paper_csr", N, edges, None, None)
    run_graphattn(name, g, N, q, k, v, edges, ref,
                  note="window %d as csr, int32 cols, %s edges; host build %.1fs" % (W, "%.3g" % edges, built))
    del g
    if name == "csr":  # the bitmap tiles, as before interval rows ran as ranges (read at a graph's first call)
        os.environ["GRAPHATTN_NO_RANGES"] = "1"
        try:
            g = ga.Graph.csr(row_ptr, window_csr(N, W)[1], N)
            run_graphattn(name, g, N, q, k, v, edges, ref, system="graphattn_bitmap",
                          note="the same csr on the bitmap tiles (GRAPHATTN_NO_RANGES=1)")
            del g
        finally:
            del os.environ["GRAPHATTN_NO_RANGES"]
    del q, k, v
    torch.cuda.empty_cache()


def document_ends(N, lo=512, hi=4096, seed=3):
    """Packed documents: lengths drawn uniformly in [lo, hi] until N tokens (the last one cut)."""
    rng = np.random.default_rng(seed)
    ends, at = [], 0
    while at < N:
        at = min(N, at + int(rng.integers(lo, hi + 1)))
        ends.append(at)
    return np.array(ends, dtype=np.int64)


def case_documents(args, N, causal):
    """Documents of 512-4096 tokens packed in one sequence: every token attends its own document
    (causal: up to itself). graphattn takes it as an explicit CSR (rows are key intervals: the
    ranges path) and as the documents component (the bounds alone: row bounds built per shape, the
    same kernels); FA2 as variable-length sequences (cu_seqlens); Flex with a document mask_mod."""
    name = "documents-causal" if causal else "documents"
    ends = document_ends(N)
    starts = np.concatenate([[0], ends[:-1]])
    doc = np.repeat(np.arange(len(ends)), ends - starts)
    first = starts[doc]
    last = np.arange(N, dtype=np.int64) if causal else ends[doc] - 1
    deg = last - first + 1
    row_ptr = np.zeros(N + 1, dtype=np.int64)
    np.cumsum(deg, out=row_ptr[1:])
    edges = int(row_ptr[-1])
    col = np.empty(edges, dtype=np.int32)
    for d in range(len(ends)):  # one block per document (its rows' runs, built as a grid)
        a, b = int(starts[d]), int(ends[d])
        i = np.arange(a, b, dtype=np.int64)[:, None]
        j = np.arange(a, b, dtype=np.int64)[None, :]
        keep = (j <= i) if causal else np.ones((b - a, b - a), dtype=bool)
        col[row_ptr[a]:row_ptr[b]] = np.broadcast_to(j, (b - a, b - a))[keep]
    g = ga.Graph.csr(row_ptr, col, N)
    del col
    q, k, v = qkv(N)
    keys_of = lambda i: np.arange(first[i], last[i] + 1, dtype=np.int64)  # noqa: E731
    ref = reference(g, N, q, k, v, sample_rows(N, extra=[int(x) for x in starts[:3]] + [int(ends[-1]) - 1]),
                    keys_of=keys_of)
    note = "%d documents of 512-4096 tokens" % len(ends)
    if args.peers:
        cu = torch.tensor(np.concatenate([[0], ends]), dtype=torch.int32, device="cuda")
        mx = int((ends - starts).max())

        def fa2_varlen():
            o = torch.ops.aten._flash_attention_forward(q[0], k[0], v[0], cu, cu, mx, mx, 0.0, causal, False)[0]
            return o.unsqueeze(0)
        run_peer(name, "fa2_varlen", N, edges, fa2_varlen, ref, note="cu_seqlens")
        if args.flex_masks:
            dq = torch.tensor(doc, dtype=torch.int32, device="cuda")

            def mm(b, h, qi, ki):
                same = dq[qi] == dq[ki]
                return (same & (ki <= qi)) if causal else same
            fn, build = flex_with_build(mm, N, q, k, v)
            run_peer(name, "flex", N, edges, fn, ref, note=build)
            del dq
    run_graphattn(name, g, N, q, k, v, edges, ref, note=note + " (explicit csr)")
    # the same graph as the implicit documents component: the bounds alone (cu_seqlens as is)
    spec = ("causal_documents:" if causal else "documents:") + ",".join(str(int(e)) for e in np.concatenate([[0], ends]))
    gd = ga.Graph(spec)
    run_graphattn(name, gd, N, q, k, v, edges, ref, system="graphattn_docs",
                  note=note + " (documents component, %d bounds)" % (len(ends) + 1))
    del q, k, v, g, gd
    torch.cuda.empty_cache()


def case_longformer(args, N, W=256, G=16):
    q, k, v = qkv(N)
    g = ga.Graph(longformer_spec(W, G))
    edges = edges_longformer(N, W, G)
    ref = reference(g, N, q, k, v, sample_rows(N, extra=range(G)))
    if args.peers:
        run_peer("longformer", "fa2_window", N, peers.window_edges(N, W, W), lambda: peers.fa2_window(q, k, v, W, W),
                 None, note="window part alone")
        if ("longformer", "flex", N) in CITED:
            run_peer("longformer", "flex", N, edges, None, None)
        elif args.flex_masks:
            fn, note = flex_with_build(peers.longformer_mask(W, W, G), N, q, k, v)
            run_peer("longformer", "flex", N, edges, fn, ref, note=note)
    part = run_window_part("longformer", "window:%d" % W, N, q, k, v)
    run_graphattn("longformer", g, N, q, k, v, edges, ref, part_ms=part)
    if args.graph_timing:
        run_union_graph_timing("longformer", N, "window:%d" % W, g, q, k, v, edges)
    del q, k, v
    torch.cuda.empty_cache()


def case_random(args, N, W=64, R=16, seed=7):
    q, k, v = qkv(N)
    g = ga.Graph("window:%d+random:%d,%d" % (W, R, seed))
    edges = edges_window_random(N, W, R, seed)
    ref = reference(g, N, q, k, v, sample_rows(N))
    if args.peers:
        run_peer("random", "fa2_window", N, peers.window_edges(N, W, W), lambda: peers.fa2_window(q, k, v, W, W),
                 None, note="window part alone")
        if ("random", "flex", N) in CITED:
            run_peer("random", "flex", N, edges, None, None)
        elif args.flex_masks and N <= (1 << 18):
            fn, note = flex_with_build(peers.window_random_mask(N, W, R, seed), N, q, k, v)
            run_peer("random", "flex", N, edges, fn, ref, note=note)
    part = run_window_part("random", "window:%d" % W, N, q, k, v)
    run_graphattn("random", g, N, q, k, v, edges, ref, part_ms=part)
    del q, k, v
    torch.cuda.empty_cache()


def case_bigbird(args, N, B=64, WB=3, GB=2, RB=3, seed=5):
    q, k, v = qkv(N)
    g = ga.Graph("bigbird:%d,%d,%d,%d,%d" % (B, WB, GB, RB, seed))
    edges = edges_bigbird(N, B, WB, GB, RB, seed)
    ref = reference(g, N, q, k, v, sample_rows(N, extra=(0, 64, 127, 128)))
    if args.peers and args.flex_masks and N <= (1 << 18):
        fn, note = flex_with_build(peers.bigbird_mask(N, B, WB, GB, RB, seed), N, q, k, v)
        run_peer("bigbird", "flex", N, edges, fn, ref, note=note)
    # its window part: the same window blocks with no global and no random blocks
    part = run_window_part("bigbird", "bigbird:%d,%d,0,0,%d" % (B, WB, seed), N, q, k, v)
    run_graphattn("bigbird", g, N, q, k, v, edges, ref, part_ms=part)
    if args.graph_timing:
        run_union_graph_timing("bigbird", N, "bigbird:%d,%d,0,0,%d" % (B, WB, seed), g, q, k, v, edges)
    del q, k, v
    torch.cuda.empty_cache()


def case_dense(args, N, causal, heads=16, dim=128, name=None):
    """Dense or causal attention through the same engine, H = 16, D = 128 (issue 5: within 1.3x
    of SDPA's FA2 kernel; causal-d256: H = 8, D = 256); peers: SDPA flash (FA2) and cuDNN. Errors
    on head 0's sampled rows."""
    graph = "causal" if causal else "dense"
    name = name or graph
    with heads_and_dim(heads, dim):
        q, k, v = qkv(N)
        g = ga.Graph(graph)
        edges = N * (N + 1) // 2 if causal else N * N
        keys = lambda i: np.arange(0, i + 1 if causal else N, dtype=np.int64)  # noqa: E731
        ref = reference(g, N, q, k, v, sample_rows(N), keys_of=keys)
        if args.peers:
            for backend, label in (("FLASH_ATTENTION", "sdpa_flash"), ("CUDNN_ATTENTION", "sdpa_cudnn")):
                run_peer(name, label, N, edges, lambda b=backend: peers.sdpa(q, k, v, causal, b), ref)
        run_graphattn(name, g, N, q, k, v, edges, ref, note="H=%d D=%d" % (heads, dim))
        del q, k, v
        torch.cuda.empty_cache()


def self_check_edge_counts():
    """The analytic edge counts above against the library's own count, at a small N."""
    N = 4096
    pairs = [(longformer_spec(256, 16), edges_longformer(N, 256, 16)),
             ("window:64+random:16,7", edges_window_random(N, 64, 16, 7)),
             ("bigbird:64,3,2,3,5", edges_bigbird(N, 64, 3, 2, 3, 5))]
    for spec, mine in pairs:
        lib = ga.Graph(spec).edges(N, N)
        if lib != mine:
            raise SystemExit("edge count of %s at N=%d: harness %d, library %d" % (spec, N, mine, lib))


def print_table(results):
    log("\n%-11s %-16s %6s %12s %10s %9s %11s %9s  %s" % ("case", "system", "log2N", "edges", "ms", "TFLOP/s",
                                                        "ns/edge", "max_err", "note"))
    for r in results:
        log("%-11s %-16s %6g %12.4g %10s %9s %11s %9s  %s" % (
            r["case"], r["system"], r["log2N"], r["edges"], "-" if r["ms"] is None else "%.3f" % r["ms"],
            "-" if r["useful_tflops"] is None else "%.1f" % r["useful_tflops"],
            "-" if r["ns_per_edge"] is None else "%.4f" % r["ns_per_edge"],
            "-" if r["max_err"] is None else "%.2g" % r["max_err"], r["note"][:70]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="window,csr-huge,csr,longformer,random,bigbird")
    ap.add_argument("--window-log2n", default="16,18,20,22,24,26,28")
    ap.add_argument("--longformer-log2n", default="18,20")
    ap.add_argument("--random-log2n", default="18,20,22")
    ap.add_argument("--bigbird-log2n", default="18,20")
    ap.add_argument("--flex-window-log2n", default="20,24", help="N for the Flex window peer (compiles per N)")
    ap.add_argument("--no-peers", dest="peers", action="store_false")
    ap.add_argument("--no-flex-masks", dest="flex_masks", action="store_false",
                    help="skip Flex with create_block_mask (longformer/random/bigbird)")
    ap.add_argument("--fa2-max", action="store_true", help="also run FA2 at N=2^28 (129 GiB peak)")
    ap.add_argument("--quick", action="store_true", help="graphattn only, a few sizes")
    ap.add_argument("--no-graph-timing", dest="graph_timing", action="store_false",
                    help="skip the CUDA-graph rows (GPU time per call) of the window case, N <= 2^24")
    ap.add_argument("--csv", default=None)
    args = ap.parse_args()
    parse = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    if args.quick:
        args.peers = False
        args.window_log2n, args.longformer_log2n, args.random_log2n, args.bigbird_log2n = "20,24", "20", "18,20", "18"
        args.cases = args.cases.replace(",csr-huge", "")
    args.flex_window = [1 << n for n in parse(args.flex_window_log2n)]
    cases = args.cases.split(",")

    global CSV_PATH
    CSV_PATH = args.csv

    def on_term(signum, frame):  # a timeout: still print what was measured
        log("\nstopped by signal %d" % signum)
        print_table(RESULTS)
        sys.exit(1)
    signal.signal(signal.SIGTERM, on_term)
    log("graphattn %s on %s; torch %s" % (ga.lib().ga_version_string().decode(), ga.device_name(0), torch.__version__))
    self_check_edge_counts()
    t_start = time.time()
    for c in cases:
        log("== %s" % c)
        if c == "window":
            for n in parse(args.window_log2n):
                case_window(args, 1 << n)
        elif c == "csr":
            case_csr(args, 1 << 20)
        elif c == "narrow":
            case_narrow(args, 1 << 22)
        elif c == "narrow-d":
            case_narrow(args, 1 << 22, windows=(16,), dim=32)
            case_narrow(args, 1 << 22, windows=(20,), dim=96)
        elif c == "longformer":
            for n in parse(args.longformer_log2n):
                case_longformer(args, 1 << n)
        elif c == "random":
            for n in parse(args.random_log2n):
                case_random(args, 1 << n)
        elif c == "bigbird":
            for n in parse(args.bigbird_log2n):
                case_bigbird(args, 1 << n)
        elif c == "dense":
            case_dense(args, 1 << 16, causal=False)
        elif c == "causal":
            case_dense(args, 1 << 16, causal=True)
        elif c == "window-h16":
            case_window(args, 1 << 22, heads=16)
        elif c == "window-h16-bhnd":
            case_window(args, 1 << 22, heads=16, name="window-h16-bhnd", heads_major=True)
        elif c == "dense-d64":
            case_dense(args, 1 << 16, causal=False, dim=64, name="dense-d64")
        elif c == "causal-d64":
            case_dense(args, 1 << 16, causal=True, dim=64, name="causal-d64")
        elif c == "causal-d256":
            case_dense(args, 1 << 15, causal=True, heads=8, dim=256, name="causal-d256")
        elif c == "window-d256":
            case_window(args, 1 << 20, dim=256, name="window-d256", edge_row=True)
        elif c == "window-d96":
            case_window(args, 1 << 20, dim=96, name="window-d96", edge_row=True)
        elif c == "longest":
            case_window(args, 3 << 27, dim=32, name="longest", peers_too=False)
        elif c == "documents":
            case_documents(args, 1 << 18, causal=False)
        elif c == "documents-causal":
            case_documents(args, 1 << 18, causal=True)
        elif c == "csr-huge":
            case_csr(args, 1 << 22, W=300, name="csr-huge")
        else:
            raise SystemExit("unknown case " + c)
    log("\n(%d results in %.0f s)" % (len(RESULTS), time.time() - t_start))
    print_table(RESULTS)
    if FAILED:
        log("\nFAILED: " + "; ".join(FAILED))
        sys.exit(1)


if __name__ == "__main__":
    main()
