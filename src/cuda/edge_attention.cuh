/* edge_attention.cuh -- the edge engine: attention over any union of graph components, edge by
 * edge, with an online softmax in fp32. Instantiated once per dtype (edge_f32.cu, edge_f16.cu,
 * edge_bf16.cu); the head-dim instances are chosen in ga_edge_forward below, in one place.
 *
 * Lane layout. A warp owns one query row (or one chunk of a heavy row). Its 32 lanes form
 * G = 32 / LPE groups of LPE lanes; a group handles one edge at a time and its lanes split the
 * head dimension: lane li of a group holds elements [(li + k*LPE)*VW, +VW) for k < NVL, loaded
 * as one 16-byte vector when VW = 16 / sizeof(T) (or element by element, VW = 1, when the
 * tensors are not 16-byte aligned or D is not a multiple of 16 bytes). Each group takes two
 * slots per step (2G edges in flight per warp: K and V rows of both are loaded before any
 * arithmetic), reduces its dot products with shuffles inside the group and keeps its own
 * running (m, l, o); the groups are merged by log-sum-exp at the end of the row.
 * Rows mode (ga_edge_rows_kernel, where ga_edge_rows_mode says): each group runs a row of its
 * own instead, G consecutive rows a warp, with the same steps and no merge.
 * Scores are kept in base 2: q is pre-multiplied by scale * log2(e). */
#ifndef GA_CUDA_EDGE_ATTENTION_CUH
#define GA_CUDA_EDGE_ATTENTION_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include "cuda/cuda_common.cuh"

#define GA_LOG2E 1.4426950408889634f
#define GA_LN2 0.6931471805599453f

/* How a row's finished state (m in log2 units, its sum l) is written, merged with a prior lse
 * lp (natural log; used only when accumulate): out = (o wn + prior out wp) inv, and lse. A NaN
 * state (a NaN score of the row, or a NaN prior) makes the whole row NaN, out and lse, as in the
 * fp64 reference; the weights alone would drop it. Row mode and the heavy-row merge share it. */
struct ga_row_finish {
    float wn, wp, inv, lse;
};
static __device__ __forceinline__ ga_row_finish ga_finish_state(float m, float l, bool accumulate, float lp) {
    float wn = l > 0.f ? 1.f : 0.f, wp = 0.f, L = l, mm = m;
    bool nan_row = l != l;
    if (accumulate) {
        nan_row |= lp != lp;
        if (lp > -CUDART_INF_F) {
            float mp = lp * GA_LOG2E, mx = fmaxf(m, mp);
            wn = l > 0.f ? exp2f(m - mx) : 0.f;
            wp = exp2f(mp - mx);
            L = l * wn + wp;
            mm = mx;
        }
    }
    ga_row_finish f;
    f.wn = wn;
    f.wp = wp;
    f.inv = nan_row ? CUDART_NAN_F : L > 0.f ? 1.f / L : 0.f;
    f.lse = nan_row ? CUDART_NAN_F : L > 0.f ? (mm + __log2f(L)) * GA_LN2 : -CUDART_INF_F;
    return f;
}

/* ---- loading and storing VW elements of T as floats -------------------------------------- */

template <typename T, int VW> struct ga_io;

/* 16-byte vectors */
template <typename T> struct ga_io16 {
    typedef uint4 raw;
    static __device__ __forceinline__ raw zero() { return make_uint4(0, 0, 0, 0); }
    static __device__ __forceinline__ raw load(const T *p) { return __ldg(reinterpret_cast<const uint4 *>(p)); }
    static __device__ __forceinline__ raw load_plain(const T *p) { return *reinterpret_cast<const uint4 *>(p); }
};

template <> struct ga_io<float, 4> : ga_io16<float> {
    static __device__ __forceinline__ void unpack(raw r, float (&f)[4]) {
        f[0] = __uint_as_float(r.x); f[1] = __uint_as_float(r.y);
        f[2] = __uint_as_float(r.z); f[3] = __uint_as_float(r.w);
    }
    static __device__ __forceinline__ void store(float *p, const float (&f)[4]) {
        *reinterpret_cast<float4 *>(p) = make_float4(f[0], f[1], f[2], f[3]);
    }
};

static __device__ __forceinline__ void ga_bf16x2_unpack(unsigned w, float &a, float &b) {
    a = __uint_as_float(w << 16);
    b = __uint_as_float(w & 0xffff0000u);
}
static __device__ __forceinline__ unsigned ga_bf16x2_pack(float a, float b) {
    __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
    return *reinterpret_cast<unsigned *>(&h);
}
static __device__ __forceinline__ void ga_f16x2_unpack(unsigned w, float &a, float &b) {
    float2 f = __half22float2(*reinterpret_cast<__half2 *>(&w));
    a = f.x;
    b = f.y;
}
static __device__ __forceinline__ unsigned ga_f16x2_pack(float a, float b) {
    __half2 h = __floats2half2_rn(a, b);
    return *reinterpret_cast<unsigned *>(&h);
}

template <> struct ga_io<__nv_bfloat16, 8> : ga_io16<__nv_bfloat16> {
    static __device__ __forceinline__ void unpack(raw r, float (&f)[8]) {
        ga_bf16x2_unpack(r.x, f[0], f[1]); ga_bf16x2_unpack(r.y, f[2], f[3]);
        ga_bf16x2_unpack(r.z, f[4], f[5]); ga_bf16x2_unpack(r.w, f[6], f[7]);
    }
    static __device__ __forceinline__ void store(__nv_bfloat16 *p, const float (&f)[8]) {
        *reinterpret_cast<uint4 *>(p) = make_uint4(ga_bf16x2_pack(f[0], f[1]), ga_bf16x2_pack(f[2], f[3]),
                                                   ga_bf16x2_pack(f[4], f[5]), ga_bf16x2_pack(f[6], f[7]));
    }
};

template <> struct ga_io<__half, 8> : ga_io16<__half> {
    static __device__ __forceinline__ void unpack(raw r, float (&f)[8]) {
        ga_f16x2_unpack(r.x, f[0], f[1]); ga_f16x2_unpack(r.y, f[2], f[3]);
        ga_f16x2_unpack(r.z, f[4], f[5]); ga_f16x2_unpack(r.w, f[6], f[7]);
    }
    static __device__ __forceinline__ void store(__half *p, const float (&f)[8]) {
        *reinterpret_cast<uint4 *>(p) = make_uint4(ga_f16x2_pack(f[0], f[1]), ga_f16x2_pack(f[2], f[3]),
                                                   ga_f16x2_pack(f[4], f[5]), ga_f16x2_pack(f[6], f[7]));
    }
};

/* single elements */
template <> struct ga_io<float, 1> {
    typedef float raw;
    static __device__ __forceinline__ raw zero() { return 0.f; }
    static __device__ __forceinline__ raw load(const float *p) { return __ldg(p); }
    static __device__ __forceinline__ raw load_plain(const float *p) { return *p; }
    static __device__ __forceinline__ void unpack(raw r, float (&f)[1]) { f[0] = r; }
    static __device__ __forceinline__ void store(float *p, const float (&f)[1]) { *p = f[0]; }
};
template <> struct ga_io<__nv_bfloat16, 1> {
    typedef unsigned short raw;
    static __device__ __forceinline__ raw zero() { return 0; }
    static __device__ __forceinline__ raw load(const __nv_bfloat16 *p) {
        return __ldg(reinterpret_cast<const unsigned short *>(p));
    }
    static __device__ __forceinline__ raw load_plain(const __nv_bfloat16 *p) {
        return *reinterpret_cast<const unsigned short *>(p);
    }
    static __device__ __forceinline__ void unpack(raw r, float (&f)[1]) { f[0] = __uint_as_float((unsigned)r << 16); }
    static __device__ __forceinline__ void store(__nv_bfloat16 *p, const float (&f)[1]) { *p = __float2bfloat16_rn(f[0]); }
};
template <> struct ga_io<__half, 1> {
    typedef unsigned short raw;
    static __device__ __forceinline__ raw zero() { return 0; }
    static __device__ __forceinline__ raw load(const __half *p) { return __ldg(reinterpret_cast<const unsigned short *>(p)); }
    static __device__ __forceinline__ raw load_plain(const __half *p) { return *reinterpret_cast<const unsigned short *>(p); }
    static __device__ __forceinline__ void unpack(raw r, float (&f)[1]) { f[0] = __half2float(__ushort_as_half(r)); }
    static __device__ __forceinline__ void store(__half *p, const float (&f)[1]) { *p = __float2half_rn(f[0]); }
};

template <typename T> static __device__ __forceinline__ float ga_to_float(T x);
template <> __device__ __forceinline__ float ga_to_float<float>(float x) { return x; }
template <> __device__ __forceinline__ float ga_to_float<__half>(__half x) { return __half2float(x); }
template <> __device__ __forceinline__ float ga_to_float<__nv_bfloat16>(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> static __device__ __forceinline__ T ga_from_float(float x);
template <> __device__ __forceinline__ float ga_from_float<float>(float x) { return x; }
template <> __device__ __forceinline__ __half ga_from_float<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 ga_from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

/* ---- keys of a component's slots ---------------------------------------------------------- */

/* window, blocks, dense, causal, dilated, longnet: an arithmetic progression */
struct ga_key_affine {
    int64_t base, step;
    __device__ __forceinline__ int64_t operator()(int64_t t) const { return base + t * step; }
};
/* explicit CSR, read coalesced: the groups of a warp read consecutive entries */
struct ga_key_csr32 {
    const int32_t *col;
    __device__ __forceinline__ int64_t operator()(int64_t t) const { return (int64_t)__ldg(col + t); }
};
struct ga_key_csr64 {
    const int64_t *col;
    __device__ __forceinline__ int64_t operator()(int64_t t) const { return __ldg(col + t); }
};
/* The shared generators, called out of line: they are long (a switch over every kind) and the
 * hot loops keep their registers for K and V. */
static __device__ __noinline__ ga_row ga_comp_row_dev(const ga_component *c, int64_t i, int64_t nq, int64_t nk) {
    return ga_comp_row(c, i, nq, nk);
}
static __device__ __noinline__ int64_t ga_comp_key_dev(const ga_component *c, const ga_row *r, int64_t t) {
    return ga_comp_key(c, r, t);
}
/* global, random, bigbird */
struct ga_key_generic {
    const ga_component *c;
    ga_row r;
    __device__ __forceinline__ int64_t operator()(int64_t t) const { return ga_comp_key_dev(c, &r, t); }
};

/* First owner wins: key j of component ci counts only if no earlier component contains (i, j). */
static __device__ __noinline__ int64_t ga_owned(const ga_component *comps, int ci, int64_t i, int64_t j, int64_t nq,
                                                int64_t nk) {
    if (j < 0) return -1;
    for (int c = 0; c < ci; c++)
        if (ga_comp_contains(&comps[c], i, j, nq, nk)) return -1;
    return j;
}

/* Rows mode's key of slot t (0 <= t < r.count) of component c, or -1 for a hole: the shared
 * generator, random and bigbird out of line (long), the others inline (with those two kinds
 * excluded, the compiler drops their cases). */
static __device__ __forceinline__ int64_t ga_rows_key(const ga_component *c, const ga_row &r, int64_t t) {
    if (c->kind == GA_COMP_RANDOM || c->kind == GA_COMP_BIGBIRD) return ga_comp_key_dev(c, &r, t);
    return ga_comp_key(c, &r, t);
}

/* ---- one warp's running state -------------------------------------------------------------- */

template <typename T, int VW, int LPE, int NVL> struct ga_edge_warp {
    typedef ga_io<T, VW> io;
    typedef typename io::raw raw;
    static constexpr int G = 32 / LPE;

    /* per lane */
    int li, g;
    bool ok[NVL];   /* this lane's vector k lies inside the head dimension */
    int off[NVL];   /* its element offset */
    float q[NVL][VW];
    /* per group */
    float m, l;
    float o[NVL][VW];
    /* the row's K and V (batch and head applied), token strides in bytes */
    const char *kbytes, *vbytes;
    int64_t ks1b, vs1b;
    int boff[NVL]; /* off[k] in bytes */

    __device__ __forceinline__ void init(int lane, const ga_edge_params &p) {
        li = lane % LPE;
        g = lane / LPE;
#pragma unroll
        for (int k = 0; k < NVL; k++) {
            off[k] = (li + k * LPE) * VW;
            boff[k] = off[k] * (int)sizeof(T);
            ok[k] = off[k] < p.D;
        }
        ks1b = p.ks[1] * (int64_t)sizeof(T);
        vs1b = p.vs[1] * (int64_t)sizeof(T);
    }
    /* Row i of batch b, head h: its K and V (the head's KV head) and its running state. */
    __device__ __forceinline__ void begin_row(const ga_edge_params &p, int64_t b, int64_t h, int64_t i) {
        const int64_t kvh = h / p.group;
        const T *qrow = (const T *)p.q + b * p.qs[0] + i * p.qs[1] + h * p.qs[2];
        kbytes = reinterpret_cast<const char *>((const T *)p.k + b * p.ks[0] + kvh * p.ks[2]);
        vbytes = reinterpret_cast<const char *>((const T *)p.v + b * p.vs[0] + kvh * p.vs[2]);
        start(qrow, p.scale_log2);
    }

    __device__ __forceinline__ void start(const T *qrow, float scale_log2) {
#pragma unroll
        for (int k = 0; k < NVL; k++) {
            float f[VW];
            io::unpack(ok[k] ? io::load_plain(qrow + off[k]) : io::zero(), f);
#pragma unroll
            for (int e = 0; e < VW; e++) {
                q[k][e] = f[e] * scale_log2;
                o[k][e] = 0.f;
            }
        }
        m = -CUDART_INF_F;
        l = 0.f;
    }

    /* Two edges per group: keys ja and jb (-1: none). The byte offsets of both rows are
     * computed once per key, unpredicated, and shared by the lane's vectors. */
    __device__ __forceinline__ void step(int64_t ja, int64_t jb) {
        raw ka[NVL], kv[NVL], va[NVL], vv[NVL];
        const bool a = ja >= 0, b = jb >= 0;
        const int64_t ca = a ? ja : 0, cb = b ? jb : 0;
        const char *pka = kbytes + ca * ks1b, *pkb = kbytes + cb * ks1b;
        const char *pva = vbytes + ca * vs1b, *pvb = vbytes + cb * vs1b;
#pragma unroll
        for (int k = 0; k < NVL; k++) {
            ka[k] = a && ok[k] ? io::load(reinterpret_cast<const T *>(pka + boff[k])) : io::zero();
            kv[k] = b && ok[k] ? io::load(reinterpret_cast<const T *>(pkb + boff[k])) : io::zero();
            va[k] = a && ok[k] ? io::load(reinterpret_cast<const T *>(pva + boff[k])) : io::zero();
            vv[k] = b && ok[k] ? io::load(reinterpret_cast<const T *>(pvb + boff[k])) : io::zero();
        }
        float sa = 0.f, sb = 0.f;
#pragma unroll
        for (int k = 0; k < NVL; k++) {
            float fa[VW], fb[VW];
            io::unpack(ka[k], fa);
            io::unpack(kv[k], fb);
#pragma unroll
            for (int e = 0; e < VW; e++) {
                sa = fmaf(q[k][e], fa[e], sa);
                sb = fmaf(q[k][e], fb[e], sb);
            }
        }
#pragma unroll
        for (int s = LPE / 2; s > 0; s >>= 1) {
            sa += __shfl_xor_sync(0xffffffffu, sa, s);
            sb += __shfl_xor_sync(0xffffffffu, sb, s);
        }
        sa = ja >= 0 ? sa : -CUDART_INF_F;
        sb = jb >= 0 ? sb : -CUDART_INF_F;
        float mn = fmaxf(m, fmaxf(sa, sb));
        /* nothing yet in this group; but a NaN score (fmaxf drops it) goes on, so that its NaN
         * reaches l and o as in the fp64 reference (test_cuda nan_inputs_make_their_rows_nan) */
        if (mn == -CUDART_INF_F && sa == sa && sb == sb) return;
        float corr = exp2f(m - mn), pa = exp2f(sa - mn), pb = exp2f(sb - mn);
        l = fmaf(l, corr, pa + pb);
        m = mn;
#pragma unroll
        for (int k = 0; k < NVL; k++) {
            float fa[VW], fb[VW];
            io::unpack(va[k], fa);
            io::unpack(vv[k], fb);
#pragma unroll
            for (int e = 0; e < VW; e++) o[k][e] = fmaf(pb, fb[e], fmaf(pa, fa[e], o[k][e] * corr));
        }
    }

    /* Slots [t0, t1) of component ci for row i; every lane runs the same number of steps.
     * CHECK: ci > 0, so each key must not belong to an earlier component (first owner wins);
     * the first component's loop carries no such call. */
    template <bool CHECK, class Key>
    __device__ __forceinline__ void run_keys(const Key &key, int64_t t0, int64_t t1, const ga_component *comps,
                                             int ci, int64_t i, int64_t nq, int64_t nk) {
        for (int64_t base = t0; base < t1; base += 2 * G) {
            int64_t ta = base + g, tb = base + G + g;
            int64_t ja = ta < t1 ? key(ta) : -1;
            int64_t jb = tb < t1 ? key(tb) : -1;
            if (CHECK) {
                ja = ga_owned(comps, ci, i, ja, nq, nk);
                jb = ga_owned(comps, ci, i, jb, nq, nk);
            }
            step(ja, jb);
        }
    }
    /* The same steps, each slot's key formed (and checked) once, by one lane, for NB slots at a
     * time, then handed to its group by shuffles: in run_keys every lane of a group forms its
     * group's two keys each step, LPE times over, and the steps' keys one step at a time (a
     * round trip to memory per step for a CSR's columns). Taken where a key costs more than the
     * shuffles: random keys (a hash, two 64-bit divisions and a 64-bit remainder each), explicit
     * columns (loads), and any key checked against earlier components. The same slots reach the
     * same groups in the same order as in run_keys: bit for bit the same result. */
    template <bool CHECK, class Key>
    __device__ __forceinline__ void run_keys_batched(const Key &key, int64_t t0, int64_t t1, const ga_component *comps,
                                                     int ci, int64_t i, int64_t nq, int64_t nk) {
        constexpr int KPL = 2 * G > 32 ? 2 * G / 32 : 1; /* keys per lane per batch */
        constexpr int NB = 32 * KPL;                     /* slots per batch: a multiple of 2 G */
        const int lane = g * LPE + li;
        for (int64_t base = t0; base < t1; base += NB) {
            int64_t kk[KPL];
#pragma unroll
            for (int x = 0; x < KPL; x++) {
                const int64_t t = base + 32 * x + lane;
                int64_t j = t < t1 ? key(t) : -1;
                if (CHECK) j = ga_owned(comps, ci, i, j, nq, nk);
                kk[x] = j;
            }
            const int64_t left = (t1 - base + 2 * G - 1) / (2 * G);
            const int steps = left < NB / (2 * G) ? (int)left : NB / (2 * G); /* warp-uniform */
            for (int st = 0; st < steps; st++) {
                const int sa = 2 * G * st + g, sb = sa + G; /* slots base + sa and base + sb */
                int64_t xa = kk[0], xb = kk[0];
                if (KPL > 1) {
                    xa = sa >= 32 ? kk[KPL - 1] : kk[0];
                    xb = sb >= 32 ? kk[KPL - 1] : kk[0];
                }
                const int64_t ja = (int64_t)__shfl_sync(0xffffffffu, (long long)xa, sa & 31);
                const int64_t jb = (int64_t)__shfl_sync(0xffffffffu, (long long)xb, sb & 31);
                step(ja, jb);
            }
        }
    }
    /* BATCH: keys that cost more than the shuffles (random, explicit columns) go through
     * run_keys_batched in the first component too; a later component's always do */
    template <bool BATCH, class Key>
    __device__ __forceinline__ void run(const Key &key, int64_t t0, int64_t t1, const ga_component *comps, int ci,
                                        int64_t i, int64_t nq, int64_t nk) {
        if (ci > 0) run_keys_batched<true>(key, t0, t1, comps, ci, i, nq, nk);
        else if constexpr (BATCH) run_keys_batched<false>(key, t0, t1, comps, ci, i, nq, nk);
        else run_keys<false>(key, t0, t1, comps, ci, i, nq, nk);
    }

    /* Slots [t0, t1) of component ci. Kinds whose slots are runs of consecutive keys (windows,
     * blocks, dilated progressions, a global query row, bigbird's global/window/random blocks)
     * go through one affine loop, part by part; explicit lists are read coalesced; only random
     * keys call the shared generator per slot. */
    __device__ __forceinline__ void run_component(const ga_component *comps, int ci, const ga_row &r, int64_t t0,
                                                  int64_t t1, int64_t nq, int64_t nk) {
        const ga_component *c = &comps[ci];
        const int kind = c->kind;
        if (kind == GA_COMP_CSR || (kind == GA_COMP_GLOBAL && !r.a)) {
            if (kind == GA_COMP_CSR && c->index_type == GA_INDEX_INT32) {
                ga_key_csr32 key = {(const int32_t *)c->col + r.base};
                run<true>(key, t0, t1, comps, ci, r.i, nq, nk);
            } else {
                ga_key_csr64 key = {kind == GA_COMP_CSR ? (const int64_t *)c->col + r.base : c->list};
                run<true>(key, t0, t1, comps, ci, r.i, nq, nk);
            }
            return;
        }
        if (kind == GA_COMP_RANDOM) {
            ga_key_generic key = {c, r};
            run<true>(key, t0, t1, comps, ci, r.i, nq, nk);
            return;
        }
        /* affine parts: slots [lo, hi) have keys base + t * step */
        int64_t nparts = 1;
        if (kind == GA_COMP_BIGBIRD && r.a >= 0) nparts = 2 + r.b;
        for (int64_t part = 0; part < nparts; part++) {
            int64_t base = r.base, step = r.step, lo = 0, hi = r.count;
            if (kind == GA_COMP_GLOBAL || (kind == GA_COMP_BIGBIRD && r.a < 0)) {
                base = 0; /* a global query row: every key */
                step = 1;
            } else if (kind == GA_COMP_BIGBIRD) {
                const int64_t B = c->p[GA_P_BLOCK], G = r.a, nwin = r.step, wlo = r.base;
                step = 1;
                if (part == 0) { /* global key blocks [0, G) */
                    base = 0;
                    hi = G * B;
                } else if (part == 1) { /* window blocks [wlo, wlo + nwin) */
                    lo = G * B;
                    hi = (G + nwin) * B;
                    base = (wlo - G) * B;
                } else { /* random block part-2, a hole when global or window blocks hold it */
                    const int64_t s = part - 2, nbk = ga_ceildiv(nk, B);
                    const int64_t kb = ga_random_pick(c->seed, r.i / B, s, nbk, r.b);
                    if (kb < G || (kb >= wlo && kb < wlo + nwin)) continue;
                    lo = (G + nwin + s) * B;
                    hi = lo + B;
                    base = kb * B - lo;
                }
                hi = ga_min64(hi, nk - base); /* the last key block may be short */
            }
            lo = ga_max64(lo, t0);
            hi = ga_min64(hi, t1);
            if (lo < hi) {
                ga_key_affine key = {base, step};
                run<false>(key, lo, hi, comps, ci, r.i, nq, nk);
            }
        }
    }

    /* Rows mode (ga_edge_rows_kernel): each group runs a row of its own. Slots [0, cnt) of
     * component ci for this group's row r; mx, the most slots of any group of the warp, sets the
     * warp-uniform trip count. Each lane forms the key of one slot of its group's row per batch
     * (ga_rows_key: the kind's generator, divergent per lane but without shuffles), then the
     * group takes its LPE slots two per step. */
    __device__ __forceinline__ void run_rows(const ga_component *comps, int ci, const ga_row &r, int64_t cnt,
                                             int64_t mx, int64_t nq, int64_t nk) {
        const ga_component *c = &comps[ci];
        for (int64_t base = 0; base < mx; base += LPE) {
            const int64_t t = base + li;
            int64_t j = t < cnt ? ga_rows_key(c, r, t) : -1;
            if (ci > 0) j = ga_owned(comps, ci, r.i, j, nq, nk);
            const int64_t left = mx - base;
            const int steps = left < LPE ? (int)((left + 1) / 2) : LPE / 2; /* warp-uniform */
            for (int st = 0; st < steps; st++) {
                const int64_t ja = (int64_t)__shfl_sync(0xffffffffu, (long long)j, g * LPE + 2 * st);
                const int64_t jb = (int64_t)__shfl_sync(0xffffffffu, (long long)j, g * LPE + 2 * st + 1);
                step(ja, jb);
            }
        }
    }

    /* Finish row i of batch b, head h: normalize, merge a prior state, write out (the lanes for
     * which `writer`) and lse (the lane for which `head`). */
    __device__ __forceinline__ void finish_row(const ga_edge_params &p, int64_t b, int64_t h, int64_t i, bool writer,
                                               bool head) const {
        const int64_t lse_off = b * p.ls[0] + i * p.ls[1] + h * p.ls[2];
        T *orow = (T *)p.out + b * p.os[0] + i * p.os[1] + h * p.os[2];
        const bool accum = (p.flags & GA_FLAG_ACCUMULATE) != 0;
        const ga_row_finish fin = ga_finish_state(m, l, accum, accum ? p.lse[lse_off] : 0.f);
        if (writer) store_row(orow, fin);
        if (p.lse && head) p.lse[lse_off] = fin.lse;
    }
    /* This lane's slices of a finished row (ga_finish_state's weights; a prior out merged) */
    __device__ __forceinline__ void store_row(T *orow, const ga_row_finish &fin) const {
#pragma unroll
        for (int k = 0; k < NVL; k++) {
            if (!ok[k]) continue;
            float f[VW];
            if (fin.wp > 0.f) {
                io::unpack(io::load_plain(orow + off[k]), f);
#pragma unroll
                for (int e = 0; e < VW; e++) f[e] = (o[k][e] * fin.wn + f[e] * fin.wp) * fin.inv;
            } else {
#pragma unroll
                for (int e = 0; e < VW; e++) f[e] = o[k][e] * fin.wn * fin.inv;
            }
            io::store(orow + off[k], f);
        }
    }
    /* ... or of a partial state (m, l, o[D]; m and l by the lane that `head` says) */
    __device__ __forceinline__ void store_partial(float *dst, bool head) const {
#pragma unroll
        for (int k = 0; k < NVL; k++) {
            if (!ok[k]) continue;
#pragma unroll
            for (int e = 0; e < VW; e++) dst[2 + off[k] + e] = o[k][e];
        }
        if (head) {
            dst[0] = m;
            dst[1] = l;
        }
    }

    /* Merge the G groups: afterwards every lane holds the whole row's state for its slice. */
    __device__ __forceinline__ void merge_groups() {
#pragma unroll
        for (int s = LPE; s < 32; s <<= 1) {
            float m2 = __shfl_xor_sync(0xffffffffu, m, s), l2 = __shfl_xor_sync(0xffffffffu, l, s);
            float mn = fmaxf(m, m2);
            float wa = m == -CUDART_INF_F ? 0.f : exp2f(m - mn);
            float wb = m2 == -CUDART_INF_F ? 0.f : exp2f(m2 - mn);
            l = l * wa + l2 * wb;
            m = mn;
#pragma unroll
            for (int k = 0; k < NVL; k++)
#pragma unroll
                for (int e = 0; e < VW; e++) {
                    float o2 = __shfl_xor_sync(0xffffffffu, o[k][e], s);
                    o[k][e] = o[k][e] * wa + o2 * wb;
                }
        }
    }
};

static __device__ __forceinline__ int64_t ga_find_slot(const int64_t *rows, int64_t n, int64_t i) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (__ldg(rows + mid) < i) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Partial state `part` (a heavy row's row-mode part, slot s: s; its chunk x: nslots + x) of (batch,
 * head) bh in the workspace: m, l, o[D] (cuda_common.cuh's ga_edge_params.ws) */
static __device__ __forceinline__ float *ga_partial_state(const ga_edge_params &p, int64_t part, int64_t bh) {
    return p.ws + (part * p.BH + bh) * (p.D + 2);
}

/* The call's components copied into the block's shared memory where they fit (the block's
 * threads all call it); the components to read from. */
static __device__ __forceinline__ const ga_component *ga_comps_to_smem(const ga_edge_params &p, ga_component *s_comps) {
    if (p.ncomp > GA_CUDA_SMEM_COMPS) return p.comps;
    const int *src = reinterpret_cast<const int *>(p.comps);
    int *dst = reinterpret_cast<int *>(s_comps);
    int words = p.ncomp * (int)(sizeof(ga_component) / sizeof(int));
    for (int x = threadIdx.x; x < words; x += blockDim.x) dst[x] = src[x];
    __syncthreads();
    return s_comps;
}

/* ---- the edge kernel ------------------------------------------------------------------------ */

/* The next row task for a warp of a launch with dynamic tasks (ga_edge_launch): lane 0 takes it from
 * the counter, the warp shares it (so every lane of the warp must come here). */
static __device__ __forceinline__ int64_t ga_take_task(unsigned long long *counter, int lane) {
    unsigned long long t = 0;
    if (lane == 0) t = atomicAdd(counter, 1ull);
    return (int64_t)__shfl_sync(0xffffffffu, t, 0);
}

/* chunk_mode 0: one warp per (b, h, row), heavy pairs skipped; 1: one warp per (b, h, item). */
template <typename T, int VW, int LPE, int NVL>
__global__ void __launch_bounds__(GA_CUDA_WARPS_PER_BLOCK * 32, GA_CUDA_MIN_BLOCKS)
    ga_edge_kernel(const ga_edge_params p, int chunk_mode) {
    typedef ga_edge_warp<T, VW, LPE, NVL> W;
    __shared__ ga_component s_comps[GA_CUDA_SMEM_COMPS];
    const ga_component *comps = ga_comps_to_smem(p, s_comps);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    W w;
    w.init(lane, p);
    const int64_t ntasks = chunk_mode ? p.nitems * p.BH : p.nq * p.BH;
    const int wpb = (int)(blockDim.x >> 5); /* warps a block: ga_edge_warps_per_block's */
    unsigned long long *const dyn = chunk_mode ? NULL : p.task_counter;
    for (int64_t task = dyn ? ga_take_task(dyn, lane) : (int64_t)blockIdx.x * wpb + warp; task < ntasks;
         task = dyn ? ga_take_task(dyn, lane) : task + (int64_t)gridDim.x * wpb) {
        int64_t bh, i, item = 0, t0c = 0, t1c = 0;
        int cbeg, cend;
        if (!chunk_mode) {
            bh = task / p.nq;
            i = task - bh * p.nq;
            cbeg = p.first_comp;
            cend = p.ncomp;
        } else {
            bh = task / p.nitems;
            item = task - bh * p.nitems;
            const ga_cuda_item it = p.items[item];
            i = p.heavy_rows[it.slot];
            cbeg = (int)it.comp;
            cend = cbeg + 1;
            t0c = it.t0;
            t1c = it.t1;
        }
        const int64_t b = bh / p.H, h = bh - b * p.H;
        w.begin_row(p, b, h, i);
        bool heavy = false;
        for (int ci = cbeg; ci < cend; ci++) {
            const ga_row r = ga_comp_row_dev(&comps[ci], i, p.nq, p.nk);
            int64_t t0 = 0, t1 = r.count;
            if (!chunk_mode) {
                if (r.count > p.heavy_threshold) {
                    heavy = true; /* its chunks run in chunk mode */
                    continue;
                }
            } else {
                t0 = t0c;
                t1 = t1c;
            }
            w.run_component(comps, ci, r, t0, t1, p.nq, p.nk);
        }
        w.merge_groups();

        if (!chunk_mode && !heavy) {
            w.finish_row(p, b, h, i, w.g == 0, lane == 0);
        } else {
            /* partial state of a heavy row (row mode) or of one chunk (chunk mode) */
            int64_t part = chunk_mode ? p.nslots + item : ga_find_slot(p.heavy_rows, p.nslots, i);
            float *dst = ga_partial_state(p, part, bh);
            if (w.g == 0) w.store_partial(dst, lane == 0);
        }
    }
}

/* Rows mode: a warp runs G = 32 / LPE rows at once, one per group of LPE lanes, instead of one
 * row split over its groups. A short row's fixed work (the task's decode, the component's row,
 * its keys, the finish) is then shared by G rows, and no merge of groups is needed; the steps
 * are the same in number (a group takes two slots a step either way). Rows of one warp are
 * consecutive (b, h, i), so their lengths are alike; the warp runs as many steps as its longest.
 * Row mode's tasks only: a heavy row's components over the threshold are skipped here and its
 * partial state written as in ga_edge_kernel (its chunks and the merge run as before). */
template <typename T, int VW, int LPE, int NVL>
__global__ void __launch_bounds__(GA_CUDA_WARPS_PER_BLOCK * 32, GA_CUDA_MIN_BLOCKS)
    ga_edge_rows_kernel(const ga_edge_params p) {
    typedef ga_edge_warp<T, VW, LPE, NVL> W;
    constexpr int G = W::G;
    __shared__ ga_component s_comps[GA_CUDA_SMEM_COMPS];
    const ga_component *comps = ga_comps_to_smem(p, s_comps);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    W w;
    w.init(lane, p);
    const int64_t nrows = p.nq * p.BH, ntasks = (nrows + G - 1) / G;
    const int wpb = (int)(blockDim.x >> 5); /* warps a block: ga_edge_warps_per_block's */
    unsigned long long *const dyn = p.task_counter;
    for (int64_t task = dyn ? ga_take_task(dyn, lane) : (int64_t)blockIdx.x * wpb + warp; task < ntasks;
         task = dyn ? ga_take_task(dyn, lane) : task + (int64_t)gridDim.x * wpb) {
        /* a group past the last row takes the last row's pointers and no slots: it reads, writes
         * nothing, and keeps its lanes in the warp's shuffles */
        const bool live = task * G + w.g < nrows;
        const int64_t row = live ? task * G + w.g : nrows - 1;
        const int64_t bh = row / p.nq, i = row - bh * p.nq;
        const int64_t b = bh / p.H, h = bh - b * p.H;
        w.begin_row(p, b, h, i);
        bool heavy = false;
        for (int ci = p.first_comp; ci < p.ncomp; ci++) {
            const ga_row r = ga_comp_row_dev(&comps[ci], i, p.nq, p.nk);
            int64_t cnt = live ? r.count : 0;
            if (cnt > p.heavy_threshold) {
                heavy = true; /* its chunks run in chunk mode */
                cnt = 0;
            }
            int64_t mx = cnt;
#pragma unroll
            for (int s = LPE; s < 32; s <<= 1) {
                const int64_t o = (int64_t)__shfl_xor_sync(0xffffffffu, (long long)mx, s);
                mx = o > mx ? o : mx;
            }
            w.run_rows(comps, ci, r, cnt, mx, p.nq, p.nk);
        }
        if (live) { /* (the whole warp then takes the next task) */
            if (!heavy) {
                w.finish_row(p, b, h, i, true, w.li == 0);
            } else {
                w.store_partial(ga_partial_state(p, ga_find_slot(p.heavy_rows, p.nslots, i), bh), w.li == 0);
            }
        }
    }
}

/* ---- heavy rows: merge the partial states ------------------------------------------------- */

static __device__ __forceinline__ float ga_warp_max(float x) {
#pragma unroll
    for (int s = 16; s > 0; s >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, s));
    return x;
}
static __device__ __forceinline__ float ga_warp_sum(float x) {
#pragma unroll
    for (int s = 16; s > 0; s >>= 1) x += __shfl_xor_sync(0xffffffffu, x, s);
    return x;
}

/* One warp per (b, h, heavy row): its row-mode part and its chunks, plus the prior state. */
/* One block per (batch*head, heavy row): its 8 warps share the row's partial states (a heavy
 * row has up to ~1000 chunks), each warp summing every 8th state over the head dim; the block
 * then adds the 8 partial sums and merges a prior state under GA_FLAG_ACCUMULATE. */
template <typename T> __global__ void __launch_bounds__(256) ga_heavy_merge_kernel(const ga_edge_params p) {
    __shared__ float red_s[8];
    __shared__ float acc_s[8][GA_CUDA_MAX_HEAD_DIM];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int64_t ntasks = p.nslots * p.BH, stride = p.D + 2;
    for (int64_t task = blockIdx.x; task < ntasks; task += gridDim.x) { /* block-uniform */
        const int64_t bh = task / p.nslots, slot = task - bh * p.nslots;
        const int64_t i = p.heavy_rows[slot], b = bh / p.H, h = bh - b * p.H;
        const int64_t ib = p.item_begin[slot], nparts = 1 + p.item_begin[slot + 1] - ib;
#define GA_PART(x) (p.ws + (((x) == 0 ? slot : p.nslots + ib + (x) - 1) * p.BH + bh) * stride)
        float M = -CUDART_INF_F;
        for (int64_t x = threadIdx.x; x < nparts; x += 256) M = fmaxf(M, GA_PART(x)[0]);
        M = ga_warp_max(M);
        if (lane == 0) red_s[warp] = M;
        __syncthreads();
        M = red_s[0];
        for (int w = 1; w < 8; w++) M = fmaxf(M, red_s[w]);
        __syncthreads();
        /* parts without edges (m = -inf, l = 0) add nothing; a part whose l is NaN (a NaN score)
         * adds its NaN whatever its m */
        float L = 0.f;
        for (int64_t x = threadIdx.x; x < nparts; x += 256) {
            const float *P = GA_PART(x);
            if (P[0] > -CUDART_INF_F || P[1] != P[1]) L += P[1] * exp2f(P[0] - M);
        }
        L = ga_warp_sum(L);
        if (lane == 0) red_s[warp] = L;
        for (int64_t d = lane; d < p.D; d += 32) { /* this warp's share of the states */
            float acc = 0.f;
            for (int64_t x = warp; x < nparts; x += 8) {
                const float *P = GA_PART(x);
                if (P[0] > -CUDART_INF_F || P[1] != P[1]) acc += P[2 + d] * exp2f(P[0] - M);
            }
            acc_s[warp][d] = acc;
        }
        __syncthreads();
        L = 0.f;
        for (int w = 0; w < 8; w++) L += red_s[w];
        const int64_t lse_off = b * p.ls[0] + i * p.ls[1] + h * p.ls[2];
        T *orow = (T *)p.out + b * p.os[0] + i * p.os[1] + h * p.os[2];
        const bool accum = (p.flags & GA_FLAG_ACCUMULATE) != 0;
        const ga_row_finish fin = ga_finish_state(M, L, accum, accum ? p.lse[lse_off] : 0.f);
        const float wn = fin.wn, wp = fin.wp, inv = fin.inv;
        for (int64_t d = threadIdx.x; d < p.D; d += 256) {
            float acc = 0.f;
            for (int w = 0; w < 8; w++) acc += acc_s[w][d];
            float r = acc * wn;
            if (wp > 0.f) r += ga_to_float<T>(orow[d]) * wp;
            orow[d] = ga_from_float<T>(r * inv);
        }
        if (p.lse && threadIdx.x == 0) p.lse[lse_off] = fin.lse;
        __syncthreads(); /* red_s and acc_s are reused by the next task */
#undef GA_PART
    }
}

/* ---- launch ----------------------------------------------------------------------------------- */

static inline unsigned ga_grid_for(int64_t tasks, int per_block) {
    int64_t blocks = (tasks + per_block - 1) / per_block;
    const int64_t cap = ((int64_t)1 << 31) - 1;
    return (unsigned)(blocks < cap ? blocks : cap);
}

/* Warps a block for the row and rows tasks: GRAPHATTN_EDGE_WPB=1, 2 or 4 (a probe switch), else 8
 * (GA_CUDA_WARPS_PER_BLOCK). With static tasks a block's warps are freed together, so a block with
 * one long row held its other warps' places until that row was done (run 80); with dynamic tasks
 * the other warps take further tasks meanwhile, and blocks of 4 gain nothing (run 81). */
static inline int ga_edge_warps_per_block(void) {
    const char *e = getenv("GRAPHATTN_EDGE_WPB");
    if (e && (e[0] == '1' || e[0] == '2' || e[0] == '4') && e[1] == 0) return e[0] - '0';
    return GA_CUDA_WARPS_PER_BLOCK;
}

/* Blocks of `threads` of `kernel` that the current device holds at once, at most `want` (`want`
 * where that is unknown). `per_sm` caches the kernel's blocks per multiprocessor at each block
 * size (1, 2, 4, 8 warps) for devices 0-15: the figure depends on the device's architecture only. */
static inline unsigned ga_resident_blocks(const void *kernel, int threads, unsigned want, int (*per_sm)[4]) {
    int dev = 0, sms = 0, n = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess)
        return want;
    const int w = threads <= 32 ? 0 : threads <= 64 ? 1 : threads <= 128 ? 2 : 3;
    if (dev >= 0 && dev < 16) n = __atomic_load_n(&per_sm[dev][w], __ATOMIC_RELAXED);
    if (n < 1) {
        if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, 0) != cudaSuccess || n < 1) {
            (void)cudaGetLastError();
            return want;
        }
        if (dev >= 0 && dev < 16) __atomic_store_n(&per_sm[dev][w], n, __ATOMIC_RELAXED);
    }
    const uint64_t have = (uint64_t)sms * (uint64_t)n;
    return have < (uint64_t)want ? (unsigned)have : want;
}

/* The call's kernels on one instance; `rows_mode`: row mode's tasks in rows mode (ga_edge_rows_mode
 * said so), where the instance has 2-16 lanes an edge. Dynamic tasks: where the call has a task
 * counter (ga_edge_params.task_counter, in its workspace: from GA_EDGE_DYN_MIN_ROWS row tasks;
 * GRAPHATTN_EDGE_DYN=0 / 1 never / always), it is zeroed on the stream and the row or rows tasks
 * run on a grid of the blocks the device holds at once, each warp taking its next task from the
 * counter, so a warp done with a short row takes the next one instead of waiting for its block's
 * longest (bench/RESULTS.md run 81: uneven CSRs 1.3-5.7x faster, alike rows 1-3%). */
template <typename T, int VW, int LPE, int NVL>
static ga_status ga_edge_launch(const ga_edge_params *p, int rows_mode, cudaStream_t stream) {
    const int threads = GA_CUDA_WARPS_PER_BLOCK * 32, wpb = ga_edge_warps_per_block();
    if (p->nq * p->BH > 0) {
        if (p->task_counter) {
            GA_CUDA_TRY(cudaMemsetAsync(p->task_counter, 0, sizeof *p->task_counter, stream));
            __atomic_fetch_add(&g_edge_dyn_calls, 1, __ATOMIC_RELAXED);
        }
        bool rows = false;
        if constexpr (LPE >= 2 && LPE <= 16) {
            rows = rows_mode != 0;
            if (rows) {
                constexpr int G = 32 / LPE;
                unsigned grid = ga_grid_for((p->nq * p->BH + G - 1) / G, wpb);
                static int per_sm[16][4];
                if (p->task_counter) grid = ga_resident_blocks((const void *)ga_edge_rows_kernel<T, VW, LPE, NVL>, wpb * 32, grid, per_sm);
                ga_edge_rows_kernel<T, VW, LPE, NVL><<<grid, wpb * 32, 0, stream>>>(*p);
                GA_CUDA_CHECK_LAUNCH();
                __atomic_fetch_add(&g_edge_rows_calls, 1, __ATOMIC_RELAXED);
            }
        }
        if (!rows) {
            unsigned grid = ga_grid_for(p->nq * p->BH, wpb);
            static int per_sm[16][4];
            if (p->task_counter) grid = ga_resident_blocks((const void *)ga_edge_kernel<T, VW, LPE, NVL>, wpb * 32, grid, per_sm);
            ga_edge_kernel<T, VW, LPE, NVL><<<grid, wpb * 32, 0, stream>>>(*p, 0);
            GA_CUDA_CHECK_LAUNCH();
        }
    }
    if (p->nitems > 0) {
        ga_edge_kernel<T, VW, LPE, NVL><<<ga_grid_for(p->nitems * p->BH, GA_CUDA_WARPS_PER_BLOCK), threads, 0, stream>>>(*p, 1);
        GA_CUDA_CHECK_LAUNCH();
    }
    if (p->nslots > 0) {
        ga_heavy_merge_kernel<T><<<ga_grid_for(p->nslots * p->BH, 1), 256, 0, stream>>>(*p);
        GA_CUDA_CHECK_LAUNCH();
    }
    return GA_OK;
}

/* The instance of the fewest lanes per edge, a power of two from LPE up to 32, that holds a row's
 * `lanes` lanes of NVL vectors each (the instances below LPE are never built). */
template <typename T, int VW, int NVL, int LPE>
static ga_status ga_edge_launch_lanes(int64_t lanes, const ga_edge_params *p, int rows_mode, cudaStream_t stream) {
    if constexpr (LPE >= 32) return ga_edge_launch<T, VW, 32, NVL>(p, rows_mode, stream);
    else {
        if (lanes <= LPE) return ga_edge_launch<T, VW, LPE, NVL>(p, rows_mode, stream);
        return ga_edge_launch_lanes<T, VW, NVL, 2 * LPE>(lanes, p, rows_mode, stream);
    }
}

static inline int ga_aligned16(const void *ptr) { return ((uintptr_t)ptr & 15u) == 0; }

/* The head-dim instances, chosen in this one place. */
template <typename T> static ga_status ga_edge_forward(const ga_edge_params *p, cudaStream_t stream) {
    const int64_t E = 16 / (int64_t)sizeof(T), D = p->D;
    GA_FAIL_IF(D < 1 || D > GA_CUDA_MAX_HEAD_DIM, GA_ERR_UNSUPPORTED_HEAD_DIM,
               "CUDA backend: head dimension %lld is outside [1, %d]", (long long)D, GA_CUDA_MAX_HEAD_DIM);
    int vec = D % E == 0 && ga_aligned16(p->q) && ga_aligned16(p->k) && ga_aligned16(p->v) && ga_aligned16(p->out);
    for (int a = 0; a < 3 && vec; a++)
        vec = p->qs[a] % E == 0 && p->ks[a] % E == 0 && p->vs[a] % E == 0 && p->os[a] % E == 0;
    if (vec) {
        /* 16 elements per lane (two 16-byte vectors of 16-bit types, four of float32), as few
         * lanes per edge as that allows: more edges in flight per warp, and the per-edge work
         * (addresses, shuffles, softmax update) shared by fewer lanes; or half of that per lane
         * (NVL / 2), twice the lanes, where ga_edge_half_width says */
        constexpr int VWv = 16 / sizeof(T), NVL = 16 / VWv, HALF = NVL / 2;
        const int64_t lanes = (D / VWv + NVL - 1) / NVL;
        const int rows = ga_edge_rows_mode(p->mean_slots, p->excess, ga_edge_rows_per_warp(D, VWv == 4, p->mean_slots),
                                           VWv == 4, p->nq, p->busy_rows);
        if (ga_edge_half_width(D, VWv == 4, p->mean_slots, rows)) {
            __atomic_fetch_add(&g_edge_half_width_calls, 1, __ATOMIC_RELAXED);
            return ga_edge_launch_lanes<T, VWv, HALF, 2>(2 * lanes, p, rows, stream);
        }
        return ga_edge_launch_lanes<T, VWv, NVL, 1>(lanes, p, rows, stream);
    }
    /* unvectorized: a warp an edge, row mode */
    if (D <= 32) return ga_edge_launch<T, 1, 32, 1>(p, 0, stream);
    if (D <= 64) return ga_edge_launch<T, 1, 32, 2>(p, 0, stream);
    if (D <= 128) return ga_edge_launch<T, 1, 32, 4>(p, 0, stream);
    if (D <= 256) return ga_edge_launch<T, 1, 32, 8>(p, 0, stream);
    return ga_edge_launch<T, 1, 32, 16>(p, 0, stream);
}

#endif
