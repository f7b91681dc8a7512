"""Time the peer systems on the GPU machine (PyTorch 2.11 there): FA2 with a sliding window (PyTorch's
bundled kernel), FlexAttention (narrow hand-built BlockMask for windows, create_block_mask for other
masks), SDPA dense/causal (flash and cuDNN). Layout (B, N, H, D) everywhere, bf16 by default.

Use from Python:   import peers; ms = peers.time_ms(lambda: peers.fa2_window(q, k, v, 256, 256))
or run:            python3 peers.py --n 16777216 --window 256 --dim 64 --heads 1
It prints one JSON line per system: time (median of CUDA-event timings), useful TFLOP/s counting
only the mask's edges, peak memory, and the max error of sampled rows against an fp64 reference."""
import argparse, json, torch
import torch.nn.functional as F

def time_ms(fn, reps=5):
    fn(); torch.cuda.synchronize()
    s, e = torch.cuda.Event(True), torch.cuda.Event(True); ts = []
    for _ in range(reps):
        s.record(); fn(); e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e))
    return sorted(ts)[len(ts) // 2]

def fa2_window(q, k, v, left, right):
    """Query i attends keys [i-left, i+right]. (B, N, H, D) in, (B, N, H, D) out."""
    N = q.shape[1]
    return torch.ops.aten._flash_attention_forward(q, k, v, None, None, N, N, 0.0, False, False, scale=None,
                                                   window_size_left=left, window_size_right=right)[0]

def sdpa(q, k, v, causal=False, backend="FLASH_ATTENTION"):
    from torch.nn.attention import sdpa_kernel, SDPBackend
    with sdpa_kernel(getattr(SDPBackend, backend)):
        return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                              is_causal=causal).transpose(1, 2)

_flex = None
def _compiled_flex():
    global _flex
    if _flex is None:
        from torch.nn.attention.flex_attention import flex_attention
        _flex = torch.compile(flex_attention, dynamic=False)
    return _flex

def flex_window_mask(N, left, right, device="cuda", BS=128):
    """A BlockMask with O(N/BS) memory for a window (the stock builders store (N/BS)^2 indices)."""
    from torch.nn.attention.flex_attention import BlockMask
    nb = -(-N // BS); rl, rr = -(-left // BS), -(-right // BS); width = rl + rr + 1
    qb = torch.arange(nb, device=device)
    lo = (qb - rl).clamp(min=0); hi = (qb + rr).clamp(max=nb - 1)
    cnt = (hi - lo + 1).int()[None, None]
    idx = (lo[:, None] + torch.arange(width, device=device)[None, :]).clamp(max=nb - 1).int()[None, None]
    # the transposed (q-side) structure is only read by the backward pass; forward timing is unaffected
    tl, tr = -(-right // BS), -(-left // BS)
    tlo = (qb - tl).clamp(min=0); thi = (qb + tr).clamp(max=nb - 1)
    tcnt = (thi - tlo + 1).int()[None, None]
    tidx = (tlo[:, None] + torch.arange(tl + tr + 1, device=device)[None, :]).clamp(max=nb - 1).int()[None, None]
    def mm(b, h, qi, ki): return (ki >= qi - left) & (ki <= qi + right)
    return BlockMask(seq_lengths=(N, N), kv_num_blocks=cnt, kv_indices=idx, full_kv_num_blocks=None,
                     full_kv_indices=None, q_num_blocks=tcnt, q_indices=tidx, full_q_num_blocks=None,
                     full_q_indices=None, BLOCK_SIZE=(BS, BS), mask_mod=mm)

def flex_mask(N, mask_mod, device="cuda"):
    """Any mask_mod(b, h, q_idx, kv_idx); the BlockMask costs (N/128)^2 memory."""
    from torch.nn.attention.flex_attention import create_block_mask
    return create_block_mask(mask_mod, 1, 1, N, N, device=device, _compile=True)

def flex(q, k, v, block_mask):
    return _compiled_flex()(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                            block_mask=block_mask).transpose(1, 2)

# ---- masks FA2 cannot express, as FlexAttention mask_mods (the same edge sets graphattn computes) ----
# graphattn's random/bigbird components pick keys with a splitmix64 hash (src/graph/component.h);
# these are that arithmetic on int64 tensors: wrapping multiplies, logical shifts emulated.
# FlexAttention hands mask_mods int32 indices: they are widened first, or the hash would wrap
# at 32 bits and describe another graph.

def _u64(c):
    return c - (1 << 64) if c >= (1 << 63) else c

_M1, _M2, _GOLD, _C2 = _u64(0xBF58476D1CE4E5B9), _u64(0x94D049BB133111EB), _u64(0x9E3779B97F4A7C15), _u64(0xC2B2AE3D27D4EB4F)

def _shr(z, s):
    return (z >> s) & ((1 << (64 - s)) - 1)

def hash64(seed, row, t):
    """ga_hash64 on int64 tensors (the uint64 result's bits, as int64)."""
    # the masks are no-ops on real indices; they turn index expressions into tensor values, so
    # that Inductor does not fold (q_idx + c) * GOLD into an int64-overflowing constant
    row = row & ((1 << 62) - 1)
    t = t & ((1 << 62) - 1)
    z = (row * _GOLD) ^ (t * _C2) ^ _u64(seed)
    z = z + _GOLD
    z = (z ^ _shr(z, 30)) * _M1
    z = (z ^ _shr(z, 27)) * _M2
    return z ^ _shr(z, 31)

def umod(z, m):
    """(z as uint64) mod m, for int64 tensors z and 0 < m < 2^62."""
    return ((_shr(z, 1) % m) * 2 + (z & 1)) % m

def random_pick(seed, row, t, n, m):
    """ga_random_pick: the key of stratum t among m strata of [0, n) for query `row`."""
    s = (t * n) // m
    e = ((t + 1) * n) // m
    return s + umod(hash64(seed, row, t), e - s)

def stratum_of(j, n, m):
    return torch.clamp(((j + 1) * m - 1) // n, max=m - 1)

def longformer_mask(left, right, nglobal):
    """window(left, right) + global tokens 0 .. nglobal-1 (they attend all keys, all attend them)."""
    def mm(b, h, qi, ki):
        return ((ki >= qi - left) & (ki <= qi + right)) | (qi < nglobal) | (ki < nglobal)
    return mm

def window_random_mask(N, w, r, seed):
    """window(w, w) + random:r,seed over N keys."""
    def mm(b, h, qi, ki):
        qi, ki = qi.to(torch.int64), ki.to(torch.int64)
        t = stratum_of(ki, N, r)
        return ((ki >= qi - w) & (ki <= qi + w)) | (random_pick(seed, qi, t, N, r) == ki)
    return mm

def bigbird_mask(N, block, wb, gb, rb, seed):
    """bigbird:block,wb,gb,rb,seed (block-level window, global and random blocks)."""
    nbk = -(-N // block)
    m = min(rb, nbk)
    def mm(b, h, qi, ki):
        qi, ki = qi.to(torch.int64), ki.to(torch.int64)
        qb, kb = qi // block, ki // block
        t = stratum_of(kb, nbk, m)
        rnd = random_pick(seed, qb, t, nbk, m) == kb
        return (qb < gb) | (kb < gb) | ((kb - qb <= wb) & (qb - kb <= wb)) | rnd
    return mm

def window_edges(N, left, right):
    i = torch.arange(N, dtype=torch.float64)
    return int(((i + right).clamp(max=N - 1) - (i - left).clamp(min=0) + 1).sum().item())

def max_err_window(out, q, k, v, left, right, rows):
    """Max abs error of sampled rows against fp64, for a window mask."""
    N, D = q.shape[1], q.shape[3]; worst = 0.0
    for i in rows:
        lo, hi = max(0, i - left), min(N, i + right + 1)
        for h in range(q.shape[2]):
            s = (q[0, i, h].double() @ k[0, lo:hi, h].double().T) / D ** 0.5
            r = torch.softmax(s, -1) @ v[0, lo:hi, h].double()
            worst = max(worst, (out[0, i, h].double() - r).abs().max().item())
    return worst

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2**20); ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--dim", type=int, default=64); ap.add_argument("--heads", type=int, default=1)
    ap.add_argument("--systems", default="fa2_window,flex_window")
    a = ap.parse_args()
    N, W, D, H = a.n, a.window, a.dim, a.heads
    q, k, v = (torch.randn(1, N, H, D, dtype=torch.bfloat16, device="cuda") for _ in range(3))
    rows = [0, 1, N // 2, N - 2, N - 1]
    flops = 4 * window_edges(N, W, W) * D * H
    for name in a.systems.split(","):
        try:
            if name == "fa2_window":
                fn = lambda: fa2_window(q, k, v, W, W)
            elif name == "flex_window":
                bm = flex_window_mask(N, W, W); fn = lambda: flex(q, k, v, bm)
            else:
                raise ValueError("unknown system " + name)
            torch.cuda.reset_peak_memory_stats()
            ms = time_ms(fn); out = fn()
            print(json.dumps(dict(system=name, N=N, window=W, D=D, H=H, ms=round(ms, 4),
                                  useful_tflops=round(flops / ms / 1e9, 1),
                                  peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2),
                                  max_abs_err=max_err_window(out, q, k, v, W, W, rows))), flush=True)
            del out
        except Exception as ex:
            print(json.dumps(dict(system=name, N=N, error=repr(ex)[:300])), flush=True)
        torch.cuda.empty_cache()

if __name__ == "__main__":
    main()
