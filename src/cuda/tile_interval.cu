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

#include "cuda/tile_interval.h"

namespace {

constexpr int BQ = 64;       /* query rows per CTA */
constexpr int BK = 64;       /* keys per tile */
constexpr int NWARPS = 4;
constexpr int NTHREADS = NWARPS * 32;

/* Row ranges of an interval component, in the bottom-right aligned convention. */
struct Interval {
    int kind;
    int64_t a, b; /* window: left, right; blocks: block size */
    int64_t nq, nk;
    __device__ __forceinline__ int64_t lo(int64_t i) const {
        int64_t d = i + (nk - nq);
        switch (kind) {
        case GA_TILE_WINDOW: return d - a;
        case GA_TILE_BLOCKS: return (i / a) * a;
        default: return 0; /* causal, dense */
        }
    }
    __device__ __forceinline__ int64_t hi(int64_t i) const {
        int64_t d = i + (nk - nq);
        switch (kind) {
        case GA_TILE_WINDOW: return d + b;
        case GA_TILE_CAUSAL: return d;
        case GA_TILE_BLOCKS: return (i / a) * a + a - 1;
        default: return nk - 1;
        }
    }
};

template <typename T> struct MmaType;
/* bf16 keeps 8 bits of P. Rounding P once costs about 2^-9 * |v| / sqrt(keys) on the output:
 * ~1e-3 for a 513-key window (the same as FlashAttention's), but up to ~1e-2 on rows with a
 * handful of keys, over the 1e-2 ceiling. So where some row has fewer than GA_TILE_SPLIT_KEYS
 * keys, bf16 splits P into bf16(P) + bf16(P - bf16(P)) and runs P V twice (16 bits of P).
 * fp16 keeps 11 bits and always runs it once. */
#define GA_TILE_SPLIT_KEYS 256
template <> struct MmaType<__nv_bfloat16> {
    static constexpr bool kSplitP = true;
    static __device__ __forceinline__ uint32_t pack_rest(float x, float y, uint32_t hi) {
        __nv_bfloat162 h = *reinterpret_cast<__nv_bfloat162 *>(&hi);
        return pack(x - __low2float(h), y - __high2float(h));
    }
    static __device__ __forceinline__ uint32_t pack(float x, float y) {
        __nv_bfloat162 v = __floats2bfloat162_rn(x, y);
        return *reinterpret_cast<uint32_t *>(&v);
    }
    static __device__ __forceinline__ void mma(float *c, const uint32_t *a, const uint32_t *b) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    }
    static __device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
    static __device__ __forceinline__ __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }
};
template <> struct MmaType<__half> {
    static constexpr bool kSplitP = false;
    static __device__ __forceinline__ uint32_t pack_rest(float, float, uint32_t) { return 0u; }
    static __device__ __forceinline__ uint32_t pack(float x, float y) {
        __half2 v = __floats2half2_rn(x, y);
        return *reinterpret_cast<uint32_t *>(&v);
    }
    static __device__ __forceinline__ void mma(float *c, const uint32_t *a, const uint32_t *b) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    }
    static __device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
    static __device__ __forceinline__ __half from_float(float x) { return __float2half_rn(x); }
};

__device__ __forceinline__ uint32_t smem_addr(const void *p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
/* 16-byte async copy; src_bytes = 0 zero-fills the destination (rows past the end). */
__device__ __forceinline__ void cp_async16(void *dst, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

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

struct TileArgs {
    const void *q, *k, *v;
    void *out;
    float *lse;
    int64_t sq[3], sk[3], sv[3], so[3], sl[3]; /* strides (elements) of B, N, H */
    int64_t B, H, Hkv, nq, nk;
    int64_t q_tiles;     /* ceil(nq / BQ) */
    float scale_log2;    /* scale * log2(e) */
    int accumulate;      /* merge into the prior (out, lse) */
    Interval iv;
    /* tile-list mode (explicit graphs, see graph/tile_plan.h) */
    const int64_t *tile_ptr, *tile_kt, *tile_mask;
    const uint64_t *masks;
};

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

    /* block -> (query tile, batch, head); tiles of one head are consecutive for L2 reuse */
    const int64_t blk = blockIdx.x + (int64_t)blockIdx.y * gridDim.x;
    const int64_t qt = blk % a.q_tiles, bh = blk / a.q_tiles;
    if (bh >= a.B * a.H) return;
    const int64_t b = bh / a.H, h = bh % a.H, hk = h / (a.H / a.Hkv);
    const int64_t q0 = qt * BQ, qlast = min(q0 + BQ, a.nq) - 1;

    const T *Q = static_cast<const T *>(a.q) + b * a.sq[0] + h * a.sq[2];
    const T *K = static_cast<const T *>(a.k) + b * a.sk[0] + hk * a.sk[2];
    const T *V = static_cast<const T *>(a.v) + b * a.sv[0] + hk * a.sv[2];

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
        cp_async16(sQ + r * LD + cc * 8, src, row < a.nq ? 16 : 0);
    }
    cp_async_commit();

    auto load_kv = [&](int64_t kt, int buf) {
        T *dk = sK + buf * BK * LD, *dv = sV + buf * BK * LD;
        for (int c = tid; c < BK * CHUNKS; c += NTHREADS) {
            int r = c / CHUNKS, cc = c % CHUNKS;
            int64_t key = kt * BK + r;
            bool ok = key < a.nk;
            cp_async16(dk + r * LD + cc * 8, ok ? K + key * a.sk[1] + cc * 8 : K, ok ? 16 : 0);
            cp_async16(dv + r * LD + cc * 8, ok ? V + key * a.sv[1] + cc * 8 : V, ok ? 16 : 0);
        }
        cp_async_commit();
    };
    if (kt_begin < kt_end) load_kv(key_tile(kt_begin), 0);

    /* Q fragments: this warp's 16 rows x D */
    cp_async_wait<1>();
    if (kt_begin >= kt_end) cp_async_wait<0>();
    __syncthreads();
    uint32_t qf[KSTEPS][4];
    {
        const int r = warp * 16 + (lane & 15), c = (lane >> 4) * 8;
#pragma unroll
        for (int ks = 0; ks < KSTEPS; ks++) ldmatrix_x4(qf[ks], sQ + r * LD + ks * 16 + c);
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
#pragma unroll
            for (int n2 = 0; n2 < 4; n2++) { /* two n-tiles per ldmatrix.x4 */
                uint32_t kf[4];
                const int r = n2 * 16 + (lane & 7) + ((lane >> 4) << 3), c = ks * 16 + ((lane >> 3) & 1) * 8;
                ldmatrix_x4(kf, k_s + r * LD + c);
                MmaType<T>::mma(s[2 * n2], qf[ks], kf);
                MmaType<T>::mma(s[2 * n2 + 1], qf[ks], kf + 2);
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
        if (!full) {
#pragma unroll
            for (int n = 0; n < 8; n++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    const int64_t key = kbase + n * 8 + 2 * t4 + e;
                    const bool kin = key < a.nk;
                    if (!(kin && row0 < a.nq && key >= lo0 && key <= hi0)) s[n][e] = -INFINITY;
                    if (!(kin && row1 < a.nq && key >= lo1 && key <= hi1)) s[n][2 + e] = -INFINITY;
                }
        }

        /* online softmax in the log2 domain */
        float mx[2] = {m_run[0], m_run[1]};
#pragma unroll
        for (int n = 0; n < 8; n++) {
            mx[0] = fmaxf(mx[0], fmaxf(s[n][0], s[n][1]) * a.scale_log2);
            mx[1] = fmaxf(mx[1], fmaxf(s[n][2], s[n][3]) * a.scale_log2);
        }
#pragma unroll
        for (int r = 0; r < 2; r++) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        }
        float corr[2], base[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            base[r] = mx[r] == -INFINITY ? 0.f : mx[r]; /* a row with nothing yet: avoid inf - inf */
            corr[r] = exp2f(m_run[r] - base[r]);
            m_run[r] = mx[r];
        }
        float rs[2] = {0.f, 0.f};
        uint32_t pf[4][4];  /* P as A fragments: 4 k-steps of 16 keys */
        uint32_t pfl[4][4]; /* bf16 only: P - bf16(P), so that P V keeps ~16 bits of P */
#pragma unroll
        for (int n = 0; n < 8; n++) {
            float p0 = exp2f(s[n][0] * a.scale_log2 - base[0]), p1 = exp2f(s[n][1] * a.scale_log2 - base[0]);
            float p2 = exp2f(s[n][2] * a.scale_log2 - base[1]), p3 = exp2f(s[n][3] * a.scale_log2 - base[1]);
            rs[0] += p0 + p1;
            rs[1] += p2 + p3;
            pf[n >> 1][(n & 1) * 2 + 0] = MmaType<T>::pack(p0, p1);
            pf[n >> 1][(n & 1) * 2 + 1] = MmaType<T>::pack(p2, p3);
            if (SPLIT) {
                pfl[n >> 1][(n & 1) * 2 + 0] = MmaType<T>::pack_rest(p0, p1, pf[n >> 1][(n & 1) * 2 + 0]);
                pfl[n >> 1][(n & 1) * 2 + 1] = MmaType<T>::pack_rest(p2, p3, pf[n >> 1][(n & 1) * 2 + 1]);
            }
        }
        l_run[0] = l_run[0] * corr[0] + rs[0];
        l_run[1] = l_run[1] * corr[1] + rs[1];
#pragma unroll
        for (int d = 0; d < DTILES; d++) {
            o[d][0] *= corr[0]; o[d][1] *= corr[0];
            o[d][2] *= corr[1]; o[d][3] *= corr[1];
        }
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

    /* finish the row sums across the quad, normalize, write */
#pragma unroll
    for (int r = 0; r < 2; r++) {
        l_run[r] += __shfl_xor_sync(0xffffffffu, l_run[r], 1);
        l_run[r] += __shfl_xor_sync(0xffffffffu, l_run[r], 2);
    }
    const float LN2 = 0.6931471805599453f;
#pragma unroll
    for (int r = 0; r < 2; r++) {
        const int64_t row = r ? row1 : row0;
        if (row >= a.nq) continue;
        const float l = l_run[r];
        float lse = l > 0.f ? (m_run[r] + log2f(l)) * LN2 : -INFINITY;
        float w_new = l > 0.f ? 1.f / l : 0.f, w_old = 0.f;
        float *lse_p = a.lse ? a.lse + b * a.sl[0] + row * a.sl[1] + h * a.sl[2] : nullptr;
        T *orow = static_cast<T *>(a.out) + b * a.so[0] + row * a.so[1] + h * a.so[2];
        if (a.accumulate) {
            const float lse_old = *lse_p;
            const float mx = fmaxf(lse_old, lse);
            if (mx == -INFINITY) { w_old = 0.f; w_new = 0.f; lse = -INFINITY; }
            else {
                const float eo = expf(lse_old - mx), en = expf(lse - mx), tot = eo + en;
                w_old = eo / tot;
                w_new = l > 0.f ? en / tot / l : 0.f;
                lse = mx + logf(tot);
            }
        }
#pragma unroll
        for (int d = 0; d < DTILES; d++) {
            const int col = d * 8 + 2 * t4;
            float x0 = o[d][2 * r] * w_new, x1 = o[d][2 * r + 1] * w_new;
            if (w_old > 0.f) { /* a prior state with no edges (lse -inf) contributes nothing */
                x0 += MmaType<T>::to_float(orow[col]) * w_old;
                x1 += MmaType<T>::to_float(orow[col + 1]) * w_old;
            }
            orow[col] = MmaType<T>::from_float(x0);
            orow[col + 1] = MmaType<T>::from_float(x1);
        }
        if (lse_p && t4 == 0) *lse_p = lse;
    }
}

template <typename T, int D, bool LIST, bool SPLIT>
ga_status launch(const TileArgs &a, cudaStream_t stream, char *err, size_t err_size) {
    constexpr int LD = D + 8;
    const size_t smem = (size_t)(BQ + 4 * BK) * LD * sizeof(T);
    cudaError_t e = cudaFuncSetAttribute(tile_interval_kernel<T, D, LIST, SPLIT>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         (int)smem);
    if (e != cudaSuccess) {
        snprintf(err, err_size, "tile kernel: cudaFuncSetAttribute: %s", cudaGetErrorString(e));
        return GA_ERR_CUDA;
    }
    const int64_t blocks = a.q_tiles * a.B * a.H;
    const int64_t gx = blocks < 65535 * 1024LL ? blocks : 65535LL * 1024; /* x may go to 2^31-1 */
    const int64_t gy = (blocks + gx - 1) / gx;
    if (gy > 65535) {
        snprintf(err, err_size, "tile kernel: %lld blocks exceed the launch limit", (long long)blocks);
        return GA_ERR_BAD_SIZE;
    }
    tile_interval_kernel<T, D, LIST, SPLIT><<<dim3((unsigned)gx, (unsigned)gy), NTHREADS, smem, stream>>>(a);
    e = cudaGetLastError();
    if (e != cudaSuccess) {
        snprintf(err, err_size, "tile kernel launch: %s", cudaGetErrorString(e));
        return e == cudaErrorMemoryAllocation ? GA_ERR_OUT_OF_MEMORY : GA_ERR_CUDA;
    }
    return GA_OK;
}

} // namespace

extern "C" int ga_tile_interval_supported(const ga_tile_interval_call *c) {
    if (c->dtype != GA_BF16 && c->dtype != GA_F16) return 0;
    if (c->D != 64 && c->D != 128 && c->D != 32) return 0;
    if (c->kind != GA_TILE_WINDOW && c->kind != GA_TILE_CAUSAL && c->kind != GA_TILE_DENSE && c->kind != GA_TILE_BLOCKS &&
        c->kind != GA_TILE_LIST)
        return 0;
    /* cp.async moves 16-byte chunks: every row start must be 16-byte aligned */
    const void *ptrs[3] = {c->q, c->k, c->v};
    const int64_t *strides[3] = {c->sq, c->sk, c->sv};
    for (int t = 0; t < 3; t++) {
        if ((uintptr_t)ptrs[t] % 16) return 0;
        for (int d = 0; d < 3; d++)
            if (strides[t][d] % 8) return 0;
    }
    return 1;
}

extern "C" ga_status ga_tile_interval_run(const ga_tile_interval_call *c, char *err, size_t err_size) {
    TileArgs a;
    a.q = c->q; a.k = c->k; a.v = c->v; a.out = c->out; a.lse = c->lse;
    for (int d = 0; d < 3; d++) {
        a.sq[d] = c->sq[d]; a.sk[d] = c->sk[d]; a.sv[d] = c->sv[d]; a.so[d] = c->so[d]; a.sl[d] = c->sl[d];
    }
    a.B = c->B; a.H = c->H; a.Hkv = c->Hkv; a.nq = c->nq; a.nk = c->nk;
    a.q_tiles = (c->nq + BQ - 1) / BQ;
    a.scale_log2 = (float)(c->scale * 1.4426950408889634);
    a.accumulate = c->accumulate;
    a.iv.kind = c->kind; a.iv.a = c->p0; a.iv.b = c->p1; a.iv.nq = c->nq; a.iv.nk = c->nk;
    a.tile_ptr = c->tile_ptr; a.tile_kt = c->tile_kt; a.tile_mask = c->tile_mask; a.masks = c->masks;
    const bool list = c->kind == GA_TILE_LIST;
    cudaStream_t s = (cudaStream_t)c->stream;
    /* bf16 P: split when some row has fewer than GA_TILE_SPLIT_KEYS keys (see MmaType) */
    int64_t min_keys = 0;
    switch (c->kind) {
    case GA_TILE_WINDOW: min_keys = (c->p0 < c->p1 ? c->p0 : c->p1) + 1; break;
    case GA_TILE_DENSE: min_keys = c->nk; break;
    case GA_TILE_BLOCKS: min_keys = c->p0 < c->nk ? c->p0 : c->nk; break;
    default: min_keys = 0; /* causal (row 0 has one key), explicit graphs (any degree) */
    }
    const bool split = min_keys < GA_TILE_SPLIT_KEYS;
#define GA_TILE_LAUNCH(T, D)                                                                                    \
    (list ? launch<T, D, true, MmaType<T>::kSplitP>(a, s, err, err_size)                                       \
          : (split && MmaType<T>::kSplitP) ? launch<T, D, false, MmaType<T>::kSplitP>(a, s, err, err_size)     \
                                           : launch<T, D, false, false>(a, s, err, err_size))
    if (c->dtype == GA_BF16) {
        if (c->D == 32) return GA_TILE_LAUNCH(__nv_bfloat16, 32);
        if (c->D == 64) return GA_TILE_LAUNCH(__nv_bfloat16, 64);
        return GA_TILE_LAUNCH(__nv_bfloat16, 128);
    }
    if (c->D == 32) return GA_TILE_LAUNCH(__half, 32);
    if (c->D == 64) return GA_TILE_LAUNCH(__half, 64);
    return GA_TILE_LAUNCH(__half, 128);
#undef GA_TILE_LAUNCH
}
