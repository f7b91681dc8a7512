/*
 * tile_common.cuh -- what the two tensor-core tile kernels share: the interval rule of a row,
 * the kernel arguments, bf16/fp16 packing, cp.async, one step of the online softmax on the
 * accumulator layout both MMA flavours use, and the epilogue that normalizes, merges a prior
 * state and writes (out, lse).
 *
 * tile_interval.cu: mma.sync (sm_80+), every interval kind and explicit tile lists.
 * tile_wgmma.cu:    Hopper warpgroup MMA (sm_90a), interval kinds, D = 64, 128 and 256.
 *
 * Accumulator layout (mma.sync m16n8 and wgmma m64nN alike): the thread with lane = 4 g + t4 in
 * warp w holds, for each 8-column block n, the elements (row 16 w + g, cols 8 n + 2 t4 + {0,1})
 * at [4 n + {0,1}] and (row 16 w + g + 8, same cols) at [4 n + {2,3}].
 */
#ifndef GA_CUDA_TILE_COMMON_CUH
#define GA_CUDA_TILE_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "cuda/tile_interval.h"

namespace ga_tile {

/* Row ranges of an interval component, in the bottom-right aligned convention. */
struct Interval {
    int kind;
    int64_t a, b; /* window: left, right; blocks: block size; bigbird: block size, window blocks */
    int64_t gb, g, nbk; /* bigbird: global blocks (parameter; min(parameter, key blocks)), key blocks */
    int64_t nq, nk;
    /* ranges: row i attends [rlo[i], rhi[i]] (device arrays; a row past nq reads row nq - 1's);
     * rmin: the fewest keys of a row per 64-row tile; kmin / kmid: of any row / of row nq / 2 */
    const int64_t *rlo, *rhi, *rmin;
    int64_t kmin, kmid;
    /* bigbird: the window blocks [max(g, qb - b), min(nbk - 1, qb + b)] of query block qb; a global
     * query row (qb < gb) has the empty interval [nk, -1] (all its keys come from elsewhere) */
    /* BB = false: the kinds other than bigbird only (kernels that never see bigbird leave its
     * case out: one 64-bit division less in their register budget) */
    /* window, causal and dense (affine = 1; ga_tile_args_fill, the one place their bounds are
     * written): lo(i) = i + lo_off and hi(i) = i + hi_off, one add instead of a switch over kinds
     * (which the persistent kernels evaluate ~10 times per query tile: ncu, bench/RESULTS.md run
     * 19). Like a window's, these bounds are not clipped to [0, nk): causal and dense take lo_off =
     * -2^61, dense hi_off = 2^61, and every caller clips (keys, key_tiles, row_bounds, the masks'
     * relative bounds). The other kinds below. */
    int affine;
    int64_t lo_off, hi_off;
    template <bool BB = false> __host__ __device__ __forceinline__ int64_t lo(int64_t i) const {
        if (affine) return i + lo_off;
        if (BB && kind == GA_TILE_BIGBIRD) return i / a < gb ? nk : (g > i / a - b ? g : i / a - b) * a;
        switch (kind) {
        case GA_TILE_BLOCKS: return (i / a) * a;
        case GA_TILE_RANGES: return rlo[i < nq ? i : nq - 1];
        default: return 0;
        }
    }
    template <bool BB = false> __host__ __device__ __forceinline__ int64_t hi(int64_t i) const {
        if (affine) return i + hi_off;
        if (BB && kind == GA_TILE_BIGBIRD) return i / a < gb ? -1 : (nbk - 1 < i / a + b ? nbk - 1 : i / a + b) * a + a - 1;
        switch (kind) {
        case GA_TILE_BLOCKS: return (i / a) * a + a - 1;
        case GA_TILE_RANGES: return rhi[i < nq ? i : nq - 1];
        default: return nk - 1;
        }
    }
    /* The fewest keys of a row in [r0, r1] (r0 <= r1 < nq): at an end of the range for the
     * implicit kinds; from the per-tile minima for ranges (the host, which cannot read them,
     * gets the fewest of any row). */
    template <bool BB = false> __host__ __device__ __forceinline__ int64_t fewest_keys(int64_t r0, int64_t r1) const {
        if (kind == GA_TILE_RANGES) {
#ifdef __CUDA_ARCH__
            int64_t m = rmin[r0 / 64];
            for (int64_t t = r0 / 64 + 1; t <= r1 / 64; t++) m = rmin[t] < m ? rmin[t] : m;
            return m;
#else
            return kmin;
#endif
        }
        const int64_t k0 = keys<BB>(r0), k1 = keys<BB>(r1);
        return k0 < k1 ? k0 : k1;
    }
    /* The keys of the middle row (nq / 2), on the host too (ranges: the value kept with the arrays). */
    __host__ __device__ __forceinline__ int64_t mid_keys() const { return kind == GA_TILE_RANGES ? kmid : keys(nq / 2); }
    /* how many keys row i attends (its range clipped to [0, nk)) */
    template <bool BB = false> __host__ __device__ __forceinline__ int64_t keys(int64_t i) const {
        const int64_t l = lo<BB>(i) > 0 ? lo<BB>(i) : 0, h = hi<BB>(i) < nk - 1 ? hi<BB>(i) : nk - 1;
        return h >= l ? h - l + 1 : 0;
    }
};

/* Division by a divisor fixed for a launch (the warp-specialized kernel's work-item splits, ~6
 * per consumer per query tile): a multiply-high and a shift instead of a 32-bit division's ~15
 * instructions (two of them on the MUFU and conversion pipe). For dividends n < 2^31 and divisors
 * 1 <= d < 2^31: with l = ceil(log2 d) and m = ceil(2^(31 + l) / d) (< 2^32), n / d =
 * umulhi(n, m) >> (l - 1), since m d - 2^(31 + l) < d <= 2^l and n < 2^31 keep n (m d - 2^(31 + l))
 * under 2^(31 + l); d = 1 returns n. */
struct FastDiv {
    uint32_t d, m, s;
    __host__ __device__ void init(uint32_t div) {
        d = div;
        uint32_t l = 0;
        while (l < 31 && (1u << l) < div) l++;
        m = div > 1 ? (uint32_t)(((1ull << (31 + l)) + div - 1) / div) : 0u;
        s = l > 0 ? l - 1 : 0;
    }
    __host__ __device__ __forceinline__ uint32_t div(uint32_t n) const {
#ifdef __CUDA_ARCH__
        return d == 1 ? n : __umulhi(n, m) >> s;
#else
        return d == 1 ? n : (uint32_t)(((uint64_t)n * m) >> 32) >> s;
#endif
    }
};

struct TileArgs {
    const void *q, *k, *v;
    void *out;
    float *lse;
    int64_t sq[3], sk[3], sv[3], so[3], sl[3]; /* strides (elements) of B, N, H */
    int64_t B, H, Hkv, nq, nk;
    int64_t d_cols;      /* the head dim the epilogue writes: the kernel's D, or less where the
                          * persistent kernels pad a head dim with zero columns (ga_tile_padded_d) */
    int64_t q_tiles;     /* ceil(nq / rows per CTA) */
    int64_t qt_base;     /* the warp-specialized kernel: its query tiles are [qt_base, q_tiles) of
                          * each (batch, head) (0: all; ws_parts launches a call's tiles in parts) */
    float scale_log2;    /* scale * log2(e) */
    int accumulate;      /* merge into the prior (out, lse) */
    Interval iv;
    /* tile-list mode (explicit graphs, see graph/tile_plan.h) */
    const int64_t *tile_ptr, *tile_kt, *tile_mask;
    const uint64_t *masks;
    /* listed tokens (tile_interval.h; Hopper kernel only) */
    const int64_t *xkeys;
    int nx, nx_rows, nx_keys;     /* listed tokens; those < nq (bigbird: global query rows); those < nk */
    int x_own;                    /* 1: listed rows also have an interval part (partial slot nchunks) */
    uint64_t bb_seed;             /* bigbird: seed, random blocks (parameter) */
    int64_t bb_r;
    int64_t x_first, x_last;      /* first listed token, last one < nk */
    int64_t nchunks, chunk_tiles; /* listed rows: key chunks per (batch, head), key tiles per chunk */
    float *xpart_o, *xpart_ml;    /* listed rows' raw partial states: [B H][chunk][row] x (D | m, l);
                                   * chunks [0, nchunks) from the listed-row pass, chunk nchunks:
                                   * the rows' own interval part from the query tiles */
    /* ranges, optional: the super tiles of 256 rows (per batch and head) heaviest first, n of them */
    const int64_t *unit_order;
    int64_t unit_order_n;
    /* the warp-specialized kernel takes entries [unit_first, unit_first + unit_order_n) of
     * unit_order; unit_total: the call's whole count (ws_ranges_parts launches parts of it) */
    int64_t unit_first, unit_total;
    /* the units with a short row (fewer than GA_TILE_SPLIT_KEYS keys) first, unit_nshort of them */
    const int64_t *unit_sorder;
    int64_t unit_nshort;
    /* the warp-specialized kernel (set by its launcher): 1 where it hands out the super tiles of
     * each (batch, head) last first, as a work order without an array (unit_order NULL,
     * unit_first 0, unit_order_n the super tiles per (batch, head)): causal, whose work per super
     * tile grows with its rows */
    int unit_rev;
    /* the warp-specialized kernel (set by its launcher): fd_ok when its super tiles and heads fit
     * 31 bits, then the divisors by super tiles per (batch, head), H and H / Hkv */
    int fd_ok;
    /* the warp-specialized kernel (set by its launcher): 1 where a fringe tile whose rows all pass
     * one of its edges tests the other bound alone (mask_rows<LO, HI>; GRAPHATTN_NO_MASK1: 0) */
    int mask1;
    FastDiv fd_sup, fd_h, fd_grp;
    /* the warp-specialized kernel at D = 64 (set by launch_tma; 0 elsewhere): its key tiles start
     * ksh keys early, tile t holding keys [64 t - ksh, 64 t - ksh + 63], so that a window's query
     * tile starts its walk on a tile edge (ws_key_shift) */
    int ksh;
    /* the warp-specialized kernel (set by its launcher; last, so that the other fields keep
     * main's offsets: before fd_sup they split its loads in two, run 30): dyn 1 where its super
     * tiles come from the counter *sched (zeroed before the launch) instead of a fixed stride;
     * sched: the counter and the CTAs' unit slots in the call's workspace (GA_TILE_SCHED_BYTES,
     * tile_interval.h), NULL where the call has none */
    int dyn;
    int *sched;
    /* the warp-specialized kernel (set by its launcher): 1 where its key loop tries each tile's
     * exponentials against the rows' references before taking any max (softmax_exp_fast;
     * GRAPHATTN_NO_FAST_SOFTMAX: 0) */
    int fastsm;
    /* affine calls whose positions stay under 2^30 (nq + 64 and nk; ga_tile_args_fill): pos32 1,
     * and lo32 / hi32 the offsets clamped to [-2^30, 2^30], which clip as lo_off / hi_off do for
     * every row (a row's bound beyond 2^30 either way lies past every clip); the warp-specialized
     * kernel then forms its walk bounds in 32 bits, rows + offsets under 2^31 */
    int pos32, lo32, hi32;
};

template <typename T> struct Pack;
template <> struct Pack<__nv_bfloat16> {
    static __device__ __forceinline__ uint32_t pack(float x, float y) {
        __nv_bfloat162 v = __floats2bfloat162_rn(x, y);
        return *reinterpret_cast<uint32_t *>(&v);
    }
    /* (x, y) - the packed pair hi: the bits bf16 dropped */
    static __device__ __forceinline__ uint32_t pack_rest(float x, float y, uint32_t hi) {
        __nv_bfloat162 h = *reinterpret_cast<__nv_bfloat162 *>(&hi);
        return pack(x - __low2float(h), y - __high2float(h));
    }
    static __device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
    static __device__ __forceinline__ __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }
};
template <> struct Pack<__half> {
    static __device__ __forceinline__ uint32_t pack(float x, float y) {
        __half2 v = __floats2half2_rn(x, y);
        return *reinterpret_cast<uint32_t *>(&v);
    }
    static __device__ __forceinline__ uint32_t pack_rest(float, float, uint32_t) { return 0u; }
    static __device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
    static __device__ __forceinline__ __half from_float(float x) { return __float2half_rn(x); }
};

__device__ __forceinline__ uint32_t smem_addr(const void *p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
/* 16-byte async copy; src_bytes = 0 zero-fills the destination (rows past the end). */
__device__ __forceinline__ void cp_async16(uint32_t dst, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ float fast_exp2(float x) { /* ex2.approx: 2^-22 relative, exp2(-inf) = 0 */
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

/* cudaFuncSetAttribute(MaxDynamicSharedMemorySize) once per kernel instance and device rather
 * than on every launch (a driver call on the forward path); `done` is that instance's set of
 * devices already configured (devices past 63 are set on every launch). */
static inline cudaError_t set_smem_once(const void *func, int smem, unsigned long long *done) {
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e != cudaSuccess) return e;
    const unsigned long long bit = dev >= 0 && dev < 64 ? 1ull << dev : 0ull;
    if (bit && (__atomic_load_n(done, __ATOMIC_ACQUIRE) & bit)) return cudaSuccess;
    e = cudaFuncSetAttribute(func, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    if (e == cudaSuccess && bit) __atomic_fetch_or(done, bit, __ATOMIC_RELEASE);
    return e;
}

/* This CTA's query tile: block -> (query tile, batch, head), the tiles of one head consecutive
 * for L2 reuse of K/V; rows [q0, qlast] and the (batch, head) bases of Q, K, V. False for a
 * block past the last tile. */
template <typename T> struct TileBlock {
    int64_t qt, b, h, q0, qlast;
    const T *Q, *K, *V;
    __device__ __forceinline__ bool init(const TileArgs &a, int bq) {
        const int64_t blk = blockIdx.x + (int64_t)blockIdx.y * gridDim.x;
        qt = blk % a.q_tiles;
        const int64_t bh = blk / a.q_tiles;
        if (bh >= a.B * a.H) return false;
        b = bh / a.H;
        h = bh % a.H;
        const int64_t hk = h / (a.H / a.Hkv);
        q0 = qt * bq;
        qlast = min(q0 + bq, a.nq) - 1;
        Q = static_cast<const T *>(a.q) + b * a.sq[0] + h * a.sq[2];
        K = static_cast<const T *>(a.k) + b * a.sk[0] + hk * a.sk[2];
        V = static_cast<const T *>(a.v) + b * a.sv[0] + hk * a.sv[2];
        return true;
    }
};

/* Mask a 64-key tile of S (this thread's 2 rows x 16 keys, layout above) to the rows' intervals.
 * The bounds are brought into the tile first (32-bit offsets from kbase, clamped to [-1, 64]),
 * so each element costs two 32-bit compares. */
__device__ __forceinline__ void mask_interval(float *s, int64_t kbase, int t4, int64_t nk, int64_t nq, int64_t row0,
                                              int64_t lo0, int64_t hi0, int64_t row1, int64_t lo1, int64_t hi1) {
    auto rel = [&](int64_t x) { return (int)max((int64_t)-1, min((int64_t)64, x - kbase)); };
    const int64_t last = nk - 1;
    const int a0 = row0 < nq ? rel(lo0) : 64, b0 = row0 < nq ? rel(min(hi0, last)) : -1;
    const int a1 = row1 < nq ? rel(lo1) : 64, b1 = row1 < nq ? rel(min(hi1, last)) : -1;
#pragma unroll
    for (int n = 0; n < 8; n++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
            const int c = n * 8 + 2 * t4 + e;
            if (c < a0 || c > b0) s[4 * n + e] = -INFINITY;
            if (c < a1 || c > b1) s[4 * n + 2 + e] = -INFINITY;
        }
}

/*
 * One online-softmax step over a 64-key tile of S (log2 domain), in two halves so that a
 * pipelined kernel can run the first while the previous tile's P V is still in flight:
 *   softmax_exp:    new running max of this thread's two rows, the correction of the old state,
 *                   S := exp2(S scale - max) in place and its row sums; touches neither o nor P;
 *   softmax_commit: l := l corr + sums, o *= corr, and P (from S) as MMA A fragments
 *                   pf[k-step][4] (16 keys per k-step, the m16n8k16 A layout that wgmma's register
 *                   operand shares); SPLIT (bf16 only) also writes P - bf16(P) into pfl.
 * softmax_exp_fast (below) is softmax_exp's optimistic form for tiles whose rows already hold a
 * reference: no max, corr = 1, and an answer whether the tile may stand.
 */
/* The running max moves only when a row's max grows by more than this (log2 units): the
 * exponentials are then at most 2^8 (exact in fp32, and P stays well inside bf16/fp16 range),
 * the result is the same softmax (any reference point cancels between sum and output), and most
 * tiles skip the rescale of O (correction exactly 1). */
#define GA_TILE_MAX_SLACK 8.f

/* Pairwise (tree) reduction, by op (max or sum), over this thread's NB column pairs of each of its
 * two rows: short dependency chains instead of one chain of 2 NB - 1 operations per row. */
template <int NB, typename Op>
__device__ __forceinline__ void row_tree2(const float *s, float *out, Op op) {
    float a[NB], b[NB];
#pragma unroll
    for (int n = 0; n < NB; n++) {
        a[n] = op(s[4 * n + 0], s[4 * n + 1]);
        b[n] = op(s[4 * n + 2], s[4 * n + 3]);
    }
#pragma unroll
    for (int w = NB / 2; w >= 1; w /= 2)
#pragma unroll
        for (int n = 0; n < w; n++) {
            a[n] = op(a[n], a[n + w]);
            b[n] = op(b[n], b[n + w]);
        }
    out[0] = a[0];
    out[1] = b[0];
}

/* S := exp2(S scale - base) in place over NB column pairs of this thread's two rows (base[0] the
 * first row's reference, base[1] the second's) */
template <int NB>
__device__ __forceinline__ void exp_against(float *s, float scale_log2, const float *base) {
#pragma unroll
    for (int n = 0; n < NB; n++)
#pragma unroll
        for (int e = 0; e < 4; e++) s[4 * n + e] = fast_exp2(fmaf(s[4 * n + e], scale_log2, -base[e >> 1]));
}

/* whether both of this thread's rows hold a finite reference (-inf: no key yet). softmax_exp's
 * settled test spells the same out inline: as this call there, ptxas laid out every tile kernel
 * differently (8-16 more instructions each) */
__device__ __forceinline__ bool refs_finite(const float *m_run) {
    return fabsf(m_run[0]) < INFINITY && fabsf(m_run[1]) < INFINITY;
}

/* SUM = false: rs left unset (the caller sums P otherwise). NBX > 0: a second block of scores x
 * (NBX column pairs per row, the same rows: a sub-tile of listed keys) joins the step: one max
 * over both, both exponentiated, rs their sum. Returns whether a reference may have moved (false:
 * every corr of the warp is exactly 1, and softmax_commit skips the rescale without a vote). */
template <int NB = 8, bool SUM = true, int NBX = 0>
__device__ __forceinline__ bool softmax_exp(float *s, float scale_log2, float *m_run, float *corr, float *rs,
                                            float *x = nullptr) {
    static_assert(NB == 2 || NB == 4 || NB == 8, "tree reductions over a power of two");
    static_assert(NBX == 0 || NBX == 2 || NBX == 4 || NBX == 8, "tree reductions over a power of two");
    /* the max of the raw scores, scaled once (scale_log2 >= 0: the API takes scale >= 0) */
    float mx[2];
    row_tree2<NB>(s, mx, [](float x, float y) { return fmaxf(x, y); });
    if constexpr (NBX > 0) {
        float mxx[2];
        row_tree2<NBX>(x, mxx, [](float x, float y) { return fmaxf(x, y); });
        mx[0] = fmaxf(mx[0], mxx[0]);
        mx[1] = fmaxf(mx[1], mxx[1]);
    }
    /* Once the references settle (most tiles), no row's max outgrows its reference by the slack;
     * one vote on this thread's own maxima then replaces the quad's shuffles, the slack rule and
     * the correction. The same result as the full step below, bit for bit: the quad's max is one
     * of its four lanes' maxima (fmaxf returns an operand, NaN only from all NaN) and the four
     * lanes hold the same m_run, so when no lane's max passes the test, neither does the quad's,
     * and the full step would keep mx = m_run, base = m_run (finite) and corr = exp2(+0) = 1
     * exactly (ex2.approx's special case), and skip the rescale. m_run must be finite: -inf (no
     * key yet) takes base 0 and corr 0, +inf gives corr NaN. The product needs no -inf guard:
     * -inf * scale_log2 is -inf or (scale 0) NaN, and neither compares greater, as the guarded
     * -inf of the full step does not (likewise +inf * 0 = NaN, which the full step keeps too).
     * base and corr are set in each branch: deriving them after the join from the new m_run
     * (fewer lines) raised the register pressure of tile_ws_kernel's XK consumers into spills. */
    const bool settled = __all_sync(0xffffffffu, fabsf(m_run[0]) < INFINITY && fabsf(m_run[1]) < INFINITY &&
                                                     !(mx[0] * scale_log2 > m_run[0] + GA_TILE_MAX_SLACK) &&
                                                     !(mx[1] * scale_log2 > m_run[1] + GA_TILE_MAX_SLACK));
    float base[2];
    if (settled) {
        base[0] = m_run[0];
        base[1] = m_run[1];
        corr[0] = corr[1] = 1.f;
    } else {
#pragma unroll
        for (int r = 0; r < 2; r++) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            const float m_new = mx[r] == -INFINITY ? -INFINITY : mx[r] * scale_log2; /* -inf * 0 is NaN */
            /* keep the old reference unless the row's max outgrew it by the slack (-inf: none yet) */
            mx[r] = m_new > m_run[r] + GA_TILE_MAX_SLACK ? m_new : m_run[r];
        }
#pragma unroll
        for (int r = 0; r < 2; r++) {
            base[r] = mx[r] == -INFINITY ? 0.f : mx[r]; /* a row with nothing yet: avoid inf - inf */
            /* a row with no key before this tile holds o = 0 and l = 0 (or NaN, from a NaN
             * input, which any factor keeps): nothing to rescale, and corr 1 rather than
             * exp2(-inf) = 0 lets softmax_commit skip the rescale on a walk's first tile
             * (its vote still runs; 32 FMUL per thread saved; the same values bit for bit) */
            corr[r] = m_run[r] == -INFINITY ? 1.f : fast_exp2(m_run[r] - base[r]);
            m_run[r] = mx[r];
        }
    }
    exp_against<NB>(s, scale_log2, base);
    if constexpr (NBX > 0) exp_against<NBX>(x, scale_log2, base);
    if constexpr (SUM) {
        row_tree2<NB>(s, rs, [](float x, float y) { return x + y; });
        if constexpr (NBX > 0) {
            float rsx[2];
            row_tree2<NBX>(x, rsx, [](float x, float y) { return x + y; });
            rs[0] += rsx[0];
            rs[1] += rsx[1];
        }
    }
    return !settled;
}

/* The optimistic step for a warpgroup whose rows all hold a finite reference m_run (after their
 * first tile with a key): S := exp2(S scale - m_run) in place and its row sums, with no max taken
 * first. Returns whether this thread kept both of its partial row sums (16 keys each at NB = 8)
 * at most 2^GA_TILE_FAST_SUM_LOG2; where every thread of the warpgroup did (the caller's vote),
 * each exponential is at most that too and the tile stands as computed, with corr = 1: the same
 * softmax as softmax_exp's (any reference cancels between sum and output), and the same
 * exponentials wherever no row's max outgrew its reference by softmax_exp's slack of 8, where
 * that step keeps the reference too; a row whose max rose by 8-12 keeps its old reference here
 * (exponentials up to 2^12) where softmax_exp would move it: rounding differs, not the result.
 * No max tree of 2 NB - 1 operations per row, no vote on it, no exponential waiting on them.
 * Otherwise (a row's max grew by more than 8-12, depending on how many of its keys did; an
 * overflow to inf; a NaN: none of them compares <=) S is spent and the caller forms it again
 * and takes softmax_exp. */
#define GA_TILE_FAST_SUM_LOG2 12
template <int NB = 8>
__device__ __forceinline__ bool softmax_exp_fast(float *s, float scale_log2, const float *m_run, float *rs) {
    static_assert(NB == 2 || NB == 4 || NB == 8, "tree reductions over a power of two");
    exp_against<NB>(s, scale_log2, m_run);
    row_tree2<NB>(s, rs, [](float x, float y) { return x + y; });
    const float lim = (float)(1 << GA_TILE_FAST_SUM_LOG2);
    return rs[0] <= lim && rs[1] <= lim;
}

/* P (exponentiated scores, NB column pairs per row) as MMA A fragments pf[k-step][4]: 16 keys per
 * k-step, the m16n8k16 A layout that wgmma's register operand shares. */
template <typename T, int NB>
__device__ __forceinline__ void pack_p(const float *p, uint32_t (*pf)[4]) {
#pragma unroll
    for (int n = 0; n < NB; n++) {
        pf[n >> 1][(n & 1) * 2 + 0] = Pack<T>::pack(p[4 * n + 0], p[4 * n + 1]);
        pf[n >> 1][(n & 1) * 2 + 1] = Pack<T>::pack(p[4 * n + 2], p[4 * n + 3]);
    }
}

/* moved: softmax_exp's answer (false: every corr of the warp is 1, no rescale, no vote). LS: the row
 * sums come from the tensor cores (tile_wgmma.cu's warp-specialized kernel: P times a block of ones
 * into the accumulator ls, in the m64n8 layout: ls[0..1] row 0, ls[2..3] row 1); rs and l_run are
 * then unused, and ls shares o's correction. */
template <typename T, int DTILES, bool SPLIT, int NB = 8, bool LS = false>
__device__ __forceinline__ void softmax_commit(const float *p, const float *corr, bool moved, const float *rs,
                                               float *l_run, float *o, uint32_t (*pf)[4], uint32_t (*pfl)[4],
                                               float *ls = nullptr) {
    if constexpr (!LS) {
        l_run[0] = l_run[0] * corr[0] + rs[0];
        l_run[1] = l_run[1] * corr[1] + rs[1];
    }
    /* once the running maxima settle (most tiles) the correction is exactly 1: skip the rescale
     * where no row of the warp needs it (a warp-uniform branch; softmax_exp's vote already tells
     * the settled tiles, the rest ask whether a row's reference did move) */
    if (moved && __any_sync(0xffffffffu, corr[0] != 1.f || corr[1] != 1.f)) {
#pragma unroll
        for (int d = 0; d < DTILES; d++) {
            o[4 * d + 0] *= corr[0]; o[4 * d + 1] *= corr[0];
            o[4 * d + 2] *= corr[1]; o[4 * d + 3] *= corr[1];
        }
        if constexpr (LS) {
            ls[0] *= corr[0]; ls[1] *= corr[0];
            ls[2] *= corr[1]; ls[3] *= corr[1];
        }
    }
    pack_p<T, NB>(p, pf);
#pragma unroll
    for (int n = 0; n < NB; n++) {
        if (SPLIT) {
            pfl[n >> 1][(n & 1) * 2 + 0] = Pack<T>::pack_rest(p[4 * n + 0], p[4 * n + 1], pf[n >> 1][(n & 1) * 2 + 0]);
            pfl[n >> 1][(n & 1) * 2 + 1] = Pack<T>::pack_rest(p[4 * n + 2], p[4 * n + 3], pf[n >> 1][(n & 1) * 2 + 1]);
        }
    }
}

/* Both halves at once (S is overwritten with P); NB < 8: a tile of only 8 NB keys (s[4 NB],
 * P in pf[0 .. NB/2)). */
template <typename T, int DTILES, bool SPLIT, int NB = 8, bool LS = false>
__device__ __forceinline__ void softmax_step(float *s, float scale_log2, float *m_run, float *l_run, float *o,
                                             uint32_t (*pf)[4], uint32_t (*pfl)[4], float *ls = nullptr) {
    float corr[2], rs[2];
    const bool moved = softmax_exp<NB, !LS>(s, scale_log2, m_run, corr, rs);
    softmax_commit<T, DTILES, SPLIT, NB, LS>(s, corr, moved, rs, l_run, o, pf, pfl, ls);
}

/* The weights that finish one row: its state (running max m in the log2 domain, sum l; the
 * output not yet divided by l) alone, or, when `prior`, merged with a prior state of natural-log
 * lse `lse_old`. The row's output is o * w_new + prior output * w_old; lse is natural-log.
 * Shared by the tile epilogue and the listed rows' merge (tile_wgmma.cu). */
struct RowWeights {
    float lse, w_new, w_old;
};
__device__ __forceinline__ RowWeights finish_row(float m, float l, bool prior, float lse_old) {
    const float LN2 = 0.6931471805599453f;
    RowWeights w;
    /* l: 0 for a row without edges, NaN where a NaN input reached the row (NaN out and lse then,
     * as on the CPU backends and the edge engine; l > 0 alone made its lse -inf) */
    w.lse = l > 0.f ? (m + log2f(l)) * LN2 : l == 0.f ? -INFINITY : l;
    w.w_new = l > 0.f ? 1.f / l : l == 0.f ? 0.f : l;
    w.w_old = 0.f;
    if (prior) {
        const float mx = fmaxf(lse_old, w.lse);
        /* (a NaN, which fmaxf drops, goes on: it reaches the weights below) */
        if (mx == -INFINITY && lse_old == lse_old && w.lse == w.lse) { w.w_new = 0.f; w.lse = -INFINITY; }
        else {
            const float eo = expf(lse_old - mx), en = expf(w.lse - mx), tot = eo + en;
            w.w_old = eo / tot;
            w.w_new = l > 0.f ? en / tot / l : 0.f;
            w.lse = mx + logf(tot);
        }
    }
    return w;
}

/* The two rows' sums l_run, each held in parts by the four threads of a quad, summed in all four. */
__device__ __forceinline__ void quad_sum2(float *l_run) {
#pragma unroll
    for (int r = 0; r < 2; r++) {
        l_run[r] += __shfl_xor_sync(0xffffffffu, l_run[r], 1);
        l_run[r] += __shfl_xor_sync(0xffffffffu, l_run[r], 2);
    }
}

/* Finish the two rows this thread holds: row sums across the quad (l_run is left reduced),
 * normalize, merge a prior state when accumulating, write out and lse. A row with skip[r] set is
 * left for the caller (listed rows of tile_wgmma.cu). */
/* PAD: the persistent Hopper kernels, which may run a head dim padded with zero columns: only
 * a.d_cols columns are written (a compile-time choice: the check cost the cp.async kernel
 * registers and spills) */
template <typename T, int DTILES, bool PAD>
__device__ __forceinline__ void epilogue_rows(const TileArgs &a, const float *o, const float *m_run, const float *l_run,
                                              int64_t b, int64_t h, int64_t row0, int64_t row1, int t4,
                                              const bool *skip) {
#pragma unroll
    for (int r = 0; r < 2; r++) {
        const int64_t row = r ? row1 : row0;
        if (row >= a.nq || (skip && skip[r])) continue;
        float *lse_p = a.lse ? a.lse + b * a.sl[0] + row * a.sl[1] + h * a.sl[2] : nullptr;
        T *orow = static_cast<T *>(a.out) + b * a.so[0] + row * a.so[1] + h * a.so[2];
        const RowWeights w = finish_row(m_run[r], l_run[r], a.accumulate, a.accumulate ? *lse_p : -INFINITY);
        const float lse = w.lse, w_new = w.w_new, w_old = w.w_old;
        /* the thread's two adjacent columns as one 4-byte store where the row allows it; the
         * prior state's test is taken once per row, not per column pair (a branch each) */
        const bool pair = (reinterpret_cast<uintptr_t>(orow) & 3) == 0;
        if (w_old > 0.f) { /* a prior state with no edges (lse -inf) contributes nothing */
#pragma unroll
            for (int d = 0; d < DTILES; d++) {
                if (PAD && d * 8 >= a.d_cols) break; /* padded columns (warp-uniform) */
                const int col = d * 8 + 2 * t4;
                const float x0 = o[4 * d + 2 * r] * w_new + Pack<T>::to_float(orow[col]) * w_old;
                const float x1 = o[4 * d + 2 * r + 1] * w_new + Pack<T>::to_float(orow[col + 1]) * w_old;
                if (pair) {
                    *reinterpret_cast<uint32_t *>(orow + col) = Pack<T>::pack(x0, x1);
                } else {
                    orow[col] = Pack<T>::from_float(x0);
                    orow[col + 1] = Pack<T>::from_float(x1);
                }
            }
        } else if (pair) {
#pragma unroll
            for (int d = 0; d < DTILES; d++) {
                if (PAD && d * 8 >= a.d_cols) break;
                const int col = d * 8 + 2 * t4;
                *reinterpret_cast<uint32_t *>(orow + col) =
                    Pack<T>::pack(o[4 * d + 2 * r] * w_new, o[4 * d + 2 * r + 1] * w_new);
            }
        } else {
#pragma unroll
            for (int d = 0; d < DTILES; d++) {
                if (PAD && d * 8 >= a.d_cols) break;
                const int col = d * 8 + 2 * t4;
                orow[col] = Pack<T>::from_float(o[4 * d + 2 * r] * w_new);
                orow[col + 1] = Pack<T>::from_float(o[4 * d + 2 * r + 1] * w_new);
            }
        }
        if (lse_p && t4 == 0) *lse_p = lse;
    }
}
/* PAD is taken only where the call's head dim is padded (a.d_cols < the kernel's D): the
 * full-width rows need no per-column-block test (a compare and a branch each, 16 per row pair at
 * D = 64 in SASS) */
template <typename T, int DTILES, bool PAD = false>
__device__ __forceinline__ void epilogue(const TileArgs &a, const float *o, const float *m_run, float *l_run,
                                         int64_t b, int64_t h, int64_t row0, int64_t row1, int t4,
                                         const bool *skip = nullptr) {
    quad_sum2(l_run);
    if (PAD && a.d_cols < DTILES * 8) epilogue_rows<T, DTILES, true>(a, o, m_run, l_run, b, h, row0, row1, t4, skip);
    else epilogue_rows<T, DTILES, false>(a, o, m_run, l_run, b, h, row0, row1, t4, skip);
}

/* The grid: (query tile, batch, head) with the tiles of one head consecutive (L2 reuse of K/V);
 * x up to 65535 * 1024 blocks, y the rest. */
static inline bool grid_for(int64_t blocks, dim3 *grid) {
    const int64_t gx = blocks < 65535 * 1024LL ? blocks : 65535LL * 1024;
    const int64_t gy = (blocks + gx - 1) / gx;
    if (gy > 65535) return false;
    *grid = dim3((unsigned)gx, (unsigned)gy);
    return true;
}

} // namespace ga_tile

/* Hopper tiles (tile_wgmma.cu): 1 when the wgmma kernel runs on the current device (an sm_90a
 * build on a compute capability 9.0 device, and GRAPHATTN_NO_WGMMA unset), else 0. */
int ga_tile_wgmma_available(void);
/* 1 when the wgmma kernel takes this call (interval kind, bf16/fp16, D 64, 128 or 256, or a head
 * dim it pads: ga_tile_padded_d). */
int ga_tile_wgmma_supported(const ga_tile_interval_call *c);
/* The kernels' arguments from the call (ga_tile_interval_run; the padded head dims' check). */
void ga_tile_args_fill(const ga_tile_interval_call *c, ga_tile::TileArgs *a);
/* The listed tokens' fields of a (chunking, workspace pointers) from the call. */
void ga_tile_extra_setup(const ga_tile_interval_call *c, ga_tile::TileArgs *a);
/* *ran = false: nothing launched, the mma.sync kernel is to run the call (D = 256 where the TMA
 * kernel does not take it); else the call's status. */
ga_status ga_tile_wgmma_run(const ga_tile::TileArgs &a, int64_t D, ga_dtype dt, cudaStream_t s, char *err,
                            size_t err_size, bool *ran);

#endif
