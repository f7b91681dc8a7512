/*
 * tile_interval.cu -- tensor-core tiles for interval components.
 *
 * Window, causal, dense and block-diagonal components give every query row i one contiguous key
 * range [lo(i), hi(i)], with lo and hi non-decreasing in i. A tile of 64 queries then needs the
 * keys [lo(first row), hi(last row)]: this kernel walks exactly those 64-key tiles with
 * mma.sync (bf16/fp16 in, fp32 accumulate) and an online softmax, masking only the tiles that
 * are not entirely inside every row's range. Work is proportional to the edges plus the tile
 * fringe (at most one tile per side per query tile).
 *
 * One CTA = 4 warps = 64 query rows of one (batch, head); each warp owns 16 rows. K/V tiles are
 * double-buffered in shared memory with cp.async; Q stays in registers. Output may be written
 * over Q (each CTA reads its own Q rows before it writes them, and no other CTA reads them).
 *
 * Build line for a standalone check: nvcc -arch=sm_90 -I include -I src -c src/cuda/tile_interval.cu
 */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cuda/tile_common.cuh"
#include "cuda/tile_interval.h"

namespace {
using namespace ga_tile;

constexpr int BQ = 64;       /* query rows per CTA */
constexpr int BK = 64;       /* keys per tile */
constexpr int NWARPS = 4;
constexpr int NTHREADS = NWARPS * 32;

/* bf16 keeps 8 bits of P. Rounding P once adds at most 2^-9 of the weighted |v| to the output,
 * beside the output's own rounding to bf16 (half an ulp: 7.8e-3 for |out| in [2, 4)), which is
 * what the max error is made of: by simulation (bench/split_error.py) the split changes the
 * worst element by a few 1e-4 and the mean by ~1.3x, and on the H200 over every row of
 * window:32 at 2^20 the max was 7.6e-3 split and 8.0e-3 not (bench/RESULTS.md run 43). Where
 * some row has fewer than GA_TILE_SPLIT_KEYS keys (64), the few-key rows whose outputs reach
 * furthest, bf16 splits P into bf16(P) + bf16(P - bf16(P)) and runs P V twice (16 bits of P);
 * 256 until run 45, at ~1.4x the time of bf16 windows of 64-255 keys. fp16 keeps 11 bits and
 * always runs it once. */
template <typename T> struct MmaType;
template <> struct MmaType<__nv_bfloat16> {
    static constexpr bool kSplitP = true;
    static __device__ __forceinline__ void mma(float *c, const uint32_t *a, const uint32_t *b) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    }
};
template <> struct MmaType<__half> {
    static constexpr bool kSplitP = false;
    static __device__ __forceinline__ void mma(float *c, const uint32_t *a, const uint32_t *b) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    }
};

__device__ __forceinline__ void ldmatrix_x4(uint32_t *r, const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t *r, const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_addr(p)));
}

template <typename T, int D, bool LIST, bool SPLIT>
__global__ void __launch_bounds__(NTHREADS) tile_interval_kernel(const TileArgs a) {
    constexpr int LD = D + 8;            /* padded smem row (elements): conflict-free ldmatrix */
    constexpr int KSTEPS = D / 16;       /* k-steps of Q K^T */
    constexpr int DTILES = D / 8;        /* n-tiles of the output */
    constexpr int CHUNKS = D / 8;        /* 16-byte chunks per row */
    extern __shared__ __align__(16) unsigned char smem_raw[];
    T *sQ = reinterpret_cast<T *>(smem_raw);
    T *sK = sQ + BQ * LD;                /* [2][BK][LD] */
    T *sV = sK + 2 * BK * LD;            /* [2][BK][LD] */

    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int g = lane >> 2, t4 = lane & 3;

    TileBlock<T> tb;
    if (!tb.init(a, BQ)) return;
    const int64_t qt = tb.qt, b = tb.b, h = tb.h, q0 = tb.q0, qlast = tb.qlast;
    const T *Q = tb.Q, *K = tb.K, *V = tb.V;

    /* Interval mode: the key tiles covering [lo(q0), hi(qlast)]; keys inside [max lo, min hi]
     * are attended by every row, so a tile there needs no mask. List mode: the plan's tiles. */
    int64_t kt_begin, kt_end, full_lo = 0, full_hi = -1;
    if (LIST) {
        kt_begin = a.tile_ptr[qt];
        kt_end = a.tile_ptr[qt + 1];
    } else {
        int64_t klo = max((int64_t)0, a.iv.lo(q0)), khi = min(a.nk - 1, a.iv.hi(qlast));
        kt_begin = klo / BK;
        kt_end = khi >= klo ? khi / BK + 1 : kt_begin; /* [begin, end) */
        full_lo = a.iv.lo(qlast);
        full_hi = min(a.iv.hi(q0), a.nk - 1);
    }
    auto key_tile = [&](int64_t it) -> int64_t { return LIST ? a.tile_kt[it] : it; };

    /* Q tile -> smem (zero rows past nq) */
    for (int c = tid; c < BQ * CHUNKS; c += NTHREADS) {
        int r = c / CHUNKS, cc = c % CHUNKS;
        int64_t row = q0 + r;
        const T *src = row < a.nq ? Q + row * a.sq[1] + cc * 8 : Q;
        cp_async16(smem_addr(sQ + r * LD + cc * 8), src, row < a.nq ? 16 : 0);
    }
    cp_async_commit();

    auto load_kv = [&](int64_t kt, int buf) {
        T *dk = sK + buf * BK * LD, *dv = sV + buf * BK * LD;
        for (int c = tid; c < BK * CHUNKS; c += NTHREADS) {
            int r = c / CHUNKS, cc = c % CHUNKS;
            int64_t key = kt * BK + r;
            bool ok = key < a.nk;
            cp_async16(smem_addr(dk + r * LD + cc * 8), ok ? K + key * a.sk[1] + cc * 8 : K, ok ? 16 : 0);
            cp_async16(smem_addr(dv + r * LD + cc * 8), ok ? V + key * a.sv[1] + cc * 8 : V, ok ? 16 : 0);
        }
        cp_async_commit();
    };
    if (kt_begin < kt_end) load_kv(key_tile(kt_begin), 0);

    /* Q fragments: this warp's 16 rows x D */
    cp_async_wait<1>();
    if (kt_begin >= kt_end) cp_async_wait<0>();
    __syncthreads();
    /* Q fragments held in registers through the walk, except at D = 256 (64 registers more
     * beside O's 128: they are read from shared memory again for each key tile instead) */
    constexpr bool QREG = D <= 128;
    uint32_t qf[QREG ? KSTEPS : 1][4];
    const int qr = warp * 16 + (lane & 15), qc = (lane >> 4) * 8;
    if constexpr (QREG) {
#pragma unroll
        for (int ks = 0; ks < KSTEPS; ks++) ldmatrix_x4(qf[ks], sQ + qr * LD + ks * 16 + qc);
    }

    float o[DTILES][4];
#pragma unroll
    for (int d = 0; d < DTILES; d++) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;
    float m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.f, 0.f};
    const int64_t row0 = q0 + warp * 16 + g, row1 = row0 + 8; /* the two rows this thread holds */
    const int64_t lo0 = a.iv.lo(row0), hi0 = a.iv.hi(row0), lo1 = a.iv.lo(row1), hi1 = a.iv.hi(row1);

    for (int64_t it = kt_begin; it < kt_end; it++) {
        const int64_t kt = key_tile(it);
        const int buf = (int)((it - kt_begin) & 1);
        if (it + 1 < kt_end) { load_kv(key_tile(it + 1), buf ^ 1); cp_async_wait<1>(); }
        else cp_async_wait<0>();
        __syncthreads();
        const T *k_s = sK + buf * BK * LD, *v_s = sV + buf * BK * LD;

        /* S = Q K^T for 16 rows x 64 keys: 8 n-tiles of 8 keys */
        float s[8][4];
#pragma unroll
        for (int n = 0; n < 8; n++) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
        for (int ks = 0; ks < KSTEPS; ks++) {
            uint32_t qtmp[4];
            if constexpr (!QREG) ldmatrix_x4(qtmp, sQ + qr * LD + ks * 16 + qc);
            const uint32_t *qk = QREG ? qf[QREG ? ks : 0] : qtmp;
#pragma unroll
            for (int n2 = 0; n2 < 4; n2++) { /* two n-tiles per ldmatrix.x4 */
                uint32_t kf[4];
                const int r = n2 * 16 + (lane & 7) + ((lane >> 4) << 3), c = ks * 16 + ((lane >> 3) & 1) * 8;
                ldmatrix_x4(kf, k_s + r * LD + c);
                MmaType<T>::mma(s[2 * n2], qk, kf);
                MmaType<T>::mma(s[2 * n2 + 1], qk, kf + 2);
            }
        }

        /* mask only where the tile is not inside every row's range */
        const int64_t kbase = kt * BK;
        if (LIST) {
            const int64_t moff = a.tile_mask[it];
            if (moff >= 0) {
                const uint64_t w0 = a.masks[moff + warp * 16 + g], w1 = a.masks[moff + warp * 16 + g + 8];
#pragma unroll
                for (int n = 0; n < 8; n++)
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        const int bit = n * 8 + 2 * t4 + e;
                        if (!((w0 >> bit) & 1)) s[n][e] = -INFINITY;
                        if (!((w1 >> bit) & 1)) s[n][2 + e] = -INFINITY;
                    }
            }
        }
        const bool full = LIST || (kbase >= full_lo && kbase + BK - 1 <= full_hi && qlast - q0 == BQ - 1);
        if (!full) mask_interval(&s[0][0], kbase, t4, a.nk, a.nq, row0, lo0, hi0, row1, lo1, hi1);

        /* online softmax in the log2 domain; P as A fragments (4 k-steps of 16 keys) */
        uint32_t pf[4][4], pfl[4][4];
        softmax_step<T, DTILES, SPLIT>(&s[0][0], a.scale_log2, m_run, l_run, &o[0][0], pf, pfl);
        /* O += P V: V tile [64 keys][D] through ldmatrix.trans, two d-tiles per call */
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
#pragma unroll
            for (int d2 = 0; d2 < DTILES / 2; d2++) {
                uint32_t vf[4];
                const int r = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, c = d2 * 16 + (lane >> 4) * 8;
                ldmatrix_x4_trans(vf, v_s + r * LD + c);
                MmaType<T>::mma(o[2 * d2], pf[kk], vf);
                MmaType<T>::mma(o[2 * d2 + 1], pf[kk], vf + 2);
                if (SPLIT) {
                    MmaType<T>::mma(o[2 * d2], pfl[kk], vf);
                    MmaType<T>::mma(o[2 * d2 + 1], pfl[kk], vf + 2);
                }
            }
        }
        __syncthreads(); /* this buffer is refilled two iterations on */
    }

    epilogue<T, DTILES>(a, &o[0][0], m_run, l_run, b, h, row0, row1, t4);
}

long long g_mma_calls; /* ga_cuda_testing_mma_tile_calls */

/* Shared memory of the kernel at head dim D: Q and two K/V stages, rows padded by 8 elements. */
static inline size_t tile_smem(int64_t D) { return (size_t)(BQ + 4 * BK) * (size_t)(D + 8) * 2; }

template <typename T, int D, bool LIST, bool SPLIT>
ga_status launch(const TileArgs &a, cudaStream_t stream, char *err, size_t err_size) {
    const size_t smem = tile_smem(D);
    static unsigned long long smem_set = 0;
    cudaError_t e = set_smem_once((const void *)tile_interval_kernel<T, D, LIST, SPLIT>, (int)smem, &smem_set);
    if (e != cudaSuccess) {
        snprintf(err, err_size, "tile kernel: cudaFuncSetAttribute: %s", cudaGetErrorString(e));
        return GA_ERR_CUDA;
    }
    const int64_t blocks = a.q_tiles * a.B * a.H;
    dim3 grid;
    if (!grid_for(blocks, &grid)) {
        snprintf(err, err_size, "tile kernel: %lld blocks exceed the launch limit", (long long)blocks);
        return GA_ERR_BAD_SIZE;
    }
    tile_interval_kernel<T, D, LIST, SPLIT><<<grid, NTHREADS, smem, stream>>>(a);
    e = cudaGetLastError();
    if (e != cudaSuccess) {
        snprintf(err, err_size, "tile kernel launch: %s", cudaGetErrorString(e));
        return e == cudaErrorMemoryAllocation ? GA_ERR_OUT_OF_MEMORY : GA_ERR_CUDA;
    }
    __atomic_fetch_add(&g_mma_calls, 1, __ATOMIC_RELAXED);
    return GA_OK;
}

} // namespace

extern "C" int ga_tile_interval_supported(const ga_tile_interval_call *c) {
    if (c->dtype != GA_BF16 && c->dtype != GA_F16) return 0;
    /* other head dims that are multiples of 8 below 256: zero-padded on the persistent Hopper
     * kernels where they take the call (ga_tile_wgmma_supported checks), else the edge engine */
    const bool padded = ga_tile_padded_d(c->D) != c->D;
    if (!padded && c->D != 32 && c->D != 64 && c->D != 128 && c->D != 256) return 0;
    /* D = 256 needs 165 KB of shared memory per CTA: more than some GPUs give one block (A100:
     * 163 KB, consumer parts ~99 KB), where the edge engine keeps it (smaller D fit every GPU
     * with bf16 mma.sync, sm_80 on) */
    if (c->D == 256) {
        int dev = 0, optin = 0;
        if (cudaGetDevice(&dev) != cudaSuccess ||
            cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess ||
            (size_t)optin < tile_smem(256))
            return 0;
    }
    if (!ga_tile_kind_is_interval(c->kind) && c->kind != GA_TILE_LIST && c->kind != GA_TILE_BIGBIRD && c->kind != GA_TILE_RANGES)
        return 0;
    /* cp.async moves 16-byte chunks: every row start must be 16-byte aligned */
    const void *ptrs[3] = {c->q, c->k, c->v};
    const int64_t *strides[3] = {c->sq, c->sk, c->sv};
    for (int t = 0; t < 3; t++) {
        if ((uintptr_t)ptrs[t] % 16) return 0;
        for (int d = 0; d < 3; d++)
            if (strides[t][d] % 8) return 0;
    }
    /* explicit graphs: only as ranges (forward.cu asks again after ga_tile_use_ranges) */
    if (padded) return ga_tile_wgmma_available() && (c->kind == GA_TILE_LIST || ga_tile_wgmma_supported(c));
    return 1;
}

void ga_tile_args_fill(const ga_tile_interval_call *c, TileArgs *ap) {
    TileArgs &a = *ap;
    a.q = c->q; a.k = c->k; a.v = c->v; a.out = c->out; a.lse = c->lse;
    a.sched = c->sched;
    a.dyn = 0;
    for (int d = 0; d < 3; d++) {
        a.sq[d] = c->sq[d]; a.sk[d] = c->sk[d]; a.sv[d] = c->sv[d]; a.so[d] = c->so[d]; a.sl[d] = c->sl[d];
    }
    a.B = c->B; a.H = c->H; a.Hkv = c->Hkv; a.nq = c->nq; a.nk = c->nk;
    a.d_cols = c->D;
    a.q_tiles = (c->nq + BQ - 1) / BQ;
    a.qt_base = 0;
    a.ksh = 0;
    a.scale_log2 = (float)(c->scale * 1.4426950408889634);
    a.accumulate = c->accumulate;
    a.iv.kind = c->kind; a.iv.a = c->p0; a.iv.b = c->p1; a.iv.nq = c->nq; a.iv.nk = c->nk;
    a.iv.gb = a.iv.g = a.iv.nbk = 0;
    {
        const int64_t d = c->nk - c->nq, unbounded = (int64_t)1 << 61;
        a.iv.affine = c->kind == GA_TILE_WINDOW || c->kind == GA_TILE_CAUSAL || c->kind == GA_TILE_DENSE;
        a.iv.lo_off = c->kind == GA_TILE_WINDOW ? d - c->p0 : -unbounded;
        a.iv.hi_off = c->kind == GA_TILE_WINDOW ? d + c->p1 : c->kind == GA_TILE_CAUSAL ? d : unbounded;
        const int64_t lim = (int64_t)1 << 30;
        auto clamp30 = [&](int64_t x) { return (int)(x < -lim ? -lim : x > lim ? lim : x); };
        a.pos32 = a.iv.affine && c->nq + 64 <= lim && c->nk <= lim && getenv("GRAPHATTN_NO_POS32") == NULL;
        a.lo32 = clamp30(a.iv.lo_off);
        a.hi32 = clamp30(a.iv.hi_off);
    }
    a.iv.rlo = c->rlo; a.iv.rhi = c->rhi; a.iv.rmin = c->rmin;
    a.iv.kmin = c->rmin_keys; a.iv.kmid = c->rmid_keys;
    a.unit_order = c->kind == GA_TILE_RANGES ? c->unit_order : NULL;
    a.unit_order_n = a.unit_order ? c->unit_order_n : 0;
    a.unit_first = 0;
    a.unit_total = a.unit_order_n;
    a.unit_sorder = a.unit_order ? c->unit_sorder : NULL;
    a.unit_nshort = a.unit_sorder ? c->unit_nshort : 0;
    if (c->kind == GA_TILE_BIGBIRD && c->p0 > 0) {
        a.iv.gb = c->p2;
        a.iv.nbk = (c->nk + c->p0 - 1) / c->p0;
        a.iv.g = c->p2 < a.iv.nbk ? c->p2 : a.iv.nbk;
    }
    a.tile_ptr = c->tile_ptr; a.tile_kt = c->tile_kt; a.tile_mask = c->tile_mask; a.masks = c->masks;
}

extern "C" ga_status ga_tile_interval_run(const ga_tile_interval_call *c, char *err, size_t err_size) {
    TileArgs a;
    ga_tile_args_fill(c, &a);
    ga_tile_extra_setup(c, &a);
    const bool list = c->kind == GA_TILE_LIST;
    cudaStream_t s = (cudaStream_t)c->stream;
    /* bf16 P: split when some row has fewer than GA_TILE_SPLIT_KEYS keys (see MmaType) */
    int64_t min_keys = 0;
    switch (c->kind) {
    case GA_TILE_WINDOW: min_keys = (c->p0 < c->p1 ? c->p0 : c->p1) + 1; break;
    case GA_TILE_DENSE: min_keys = c->nk; break;
    case GA_TILE_BLOCKS: min_keys = c->p0 < c->nk ? c->p0 : c->nk; break;
    case GA_TILE_RANGES: min_keys = c->rmin_keys; break;
    default: min_keys = 0; /* causal (row 0 has one key), explicit graphs (any degree) */
    }
    const bool split = min_keys < GA_TILE_SPLIT_KEYS && c->dtype == GA_BF16;
    const bool padded = ga_tile_padded_d(c->D) != c->D; /* the plan already asked the persistent kernels */
    if (!list && (padded || ga_tile_wgmma_supported(c)) && ga_tile_wgmma_available()) {
        bool ran = false;
        const ga_status st = ga_tile_wgmma_run(a, c->D, c->dtype, s, err, err_size, &ran);
        if (ran) return st;
    }
    if (padded) { /* ga_tile_interval_supported took it for those kernels alone */
        snprintf(err, err_size, "tile kernel: head dim %lld runs padded on the persistent Hopper kernels only, which declined",
                 (long long)c->D);
        return GA_ERR_INTERNAL;
    }
    if (c->nx > 0 || c->kind == GA_TILE_BIGBIRD) { /* the dispatcher asks ga_tile_extra/bigbird_supported first */
        snprintf(err, err_size, "tile kernel: listed tokens and bigbird need the Hopper tile kernel");
        return GA_ERR_INTERNAL;
    }
#define GA_TILE_LAUNCH(T, D)                                                                                    \
    (list ? launch<T, D, true, MmaType<T>::kSplitP>(a, s, err, err_size)                                       \
          : (split && MmaType<T>::kSplitP) ? launch<T, D, false, MmaType<T>::kSplitP>(a, s, err, err_size)     \
                                           : launch<T, D, false, false>(a, s, err, err_size))
    if (c->dtype == GA_BF16) {
        if (c->D == 32) return GA_TILE_LAUNCH(__nv_bfloat16, 32);
        if (c->D == 64) return GA_TILE_LAUNCH(__nv_bfloat16, 64);
        if (c->D == 128) return GA_TILE_LAUNCH(__nv_bfloat16, 128);
        return GA_TILE_LAUNCH(__nv_bfloat16, 256);
    }
    if (c->D == 32) return GA_TILE_LAUNCH(__half, 32);
    if (c->D == 64) return GA_TILE_LAUNCH(__half, 64);
    if (c->D == 128) return GA_TILE_LAUNCH(__half, 128);
    return GA_TILE_LAUNCH(__half, 256);
#undef GA_TILE_LAUNCH
}

extern "C" long long ga_cuda_testing_mma_tile_calls(void) { return __atomic_load_n(&g_mma_calls, __ATOMIC_RELAXED); }
