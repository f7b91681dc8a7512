/* kernels.h -- the inner loops of the fast CPU backend: a small register-blocked matrix
 * product (used for both S = Q K^T and O += P V), a vectorized exp for the softmax, and
 * dot / axpy for the per-row gather path. AVX2+FMA versions when the compiler targets them
 * (the library builds with -march=native by default), portable loops otherwise. */
#ifndef GA_CPU_KERNELS_H
#define GA_CPU_KERNELS_H

#include <math.h>
#include <stdint.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GA_CPU_AVX2 1
#endif

/* Register block of the matrix product: MR rows of A by NR columns of B. Callers pad M to a
 * multiple of GA_MR and N to a multiple of GA_NR (with zeros / masked entries). */
#define GA_MR 4
#define GA_NR 16

/* C[M x N] (+)= A[M x K] * B[K x N], row-major with leading dimensions lda, ldb, ldc.
 * M % GA_MR == 0, N % GA_NR == 0. accumulate = 0 overwrites C. */
static inline void ga_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                           float *C, int64_t ldc, int accumulate) {
#ifdef GA_CPU_AVX2
    for (int64_t i = 0; i < M; i += GA_MR) {
        const float *a0 = A + i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        for (int64_t j = 0; j < N; j += GA_NR) {
            float *c = C + i * ldc + j;
            __m256 c00, c01, c10, c11, c20, c21, c30, c31;
            if (accumulate) {
                c00 = _mm256_loadu_ps(c); c01 = _mm256_loadu_ps(c + 8);
                c10 = _mm256_loadu_ps(c + ldc); c11 = _mm256_loadu_ps(c + ldc + 8);
                c20 = _mm256_loadu_ps(c + 2 * ldc); c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
                c30 = _mm256_loadu_ps(c + 3 * ldc); c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
            } else {
                c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_ps();
            }
            const float *b = B + j;
            for (int64_t k = 0; k < K; k++, b += ldb) {
                const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
                __m256 a = _mm256_broadcast_ss(a0 + k);
                c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
                a = _mm256_broadcast_ss(a1 + k);
                c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
                a = _mm256_broadcast_ss(a2 + k);
                c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
                a = _mm256_broadcast_ss(a3 + k);
                c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
            }
            _mm256_storeu_ps(c, c00); _mm256_storeu_ps(c + 8, c01);
            _mm256_storeu_ps(c + ldc, c10); _mm256_storeu_ps(c + ldc + 8, c11);
            _mm256_storeu_ps(c + 2 * ldc, c20); _mm256_storeu_ps(c + 2 * ldc + 8, c21);
            _mm256_storeu_ps(c + 3 * ldc, c30); _mm256_storeu_ps(c + 3 * ldc + 8, c31);
        }
    }
#else
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j += GA_NR) {
            float acc[GA_NR];
            for (int u = 0; u < GA_NR; u++) acc[u] = accumulate ? C[i * ldc + j + u] : 0.0f;
            for (int64_t k = 0; k < K; k++) {
                const float a = A[i * lda + k];
                const float *b = B + k * ldb + j;
                for (int u = 0; u < GA_NR; u++) acc[u] += a * b[u];
            }
            for (int u = 0; u < GA_NR; u++) C[i * ldc + j + u] = acc[u];
        }
#endif
}

/* dst[d * ldd + c] = src[c * lds + d] for c < rows, d < cols: a key tile, transposed so that
 * the score product runs over keys. 8x8 blocks in registers where they fit. */
static inline void ga_transpose_tile(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                                     int64_t ldd) {
    int64_t c0 = 0;
#ifdef GA_CPU_AVX2
    for (; c0 + 8 <= rows; c0 += 8) {
        int64_t d0 = 0;
        for (; d0 + 8 <= cols; d0 += 8) {
            const float *s = src + c0 * lds + d0;
            __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + lds), r2 = _mm256_loadu_ps(s + 2 * lds),
                   r3 = _mm256_loadu_ps(s + 3 * lds), r4 = _mm256_loadu_ps(s + 4 * lds),
                   r5 = _mm256_loadu_ps(s + 5 * lds), r6 = _mm256_loadu_ps(s + 6 * lds),
                   r7 = _mm256_loadu_ps(s + 7 * lds);
            __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
            __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
            __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
            __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
            __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
            __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
            __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
            __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
            __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
            float *d = dst + d0 * ldd + c0;
            _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(d + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(d + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(d + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(d + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(d + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(d + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(d + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
        for (int64_t c = c0; c < c0 + 8; c++)
            for (int64_t d = d0; d < cols; d++) dst[d * ldd + c] = src[c * lds + d];
    }
#endif
    for (int64_t c = c0; c < rows; c++)
        for (int64_t d = 0; d < cols; d++) dst[d * ldd + c] = src[c * lds + d];
}

#ifdef GA_CPU_AVX2
/* exp(x) for x <= 0 (x = -inf gives 0, NaN gives NaN): Cody-Waite reduction to r in
 * [-ln2/2, ln2/2] and a degree-7 polynomial, about 1 ulp; results below the normal range flush
 * to 0. */
static inline __m256 ga_exp_nonpos_256(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.33654f);
    const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_max_ps(lo, x); /* maxps returns its second operand where either is NaN: NaN stays */
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    p = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(under, p);
}

static inline float ga_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline float ga_hmax256(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

/* max of x[0..n), n % 8 == 0; NaN if any x[c] is NaN (a NaN score makes its row's softmax NaN,
 * as in the fp64 reference, rather than dropping out of it) */
static inline float ga_vmax(const float *x, int64_t n) {
#ifdef GA_CPU_AVX2
    __m256 m = _mm256_set1_ps(-INFINITY), nan = _mm256_setzero_ps();
    for (int64_t c = 0; c < n; c += 8) {
        const __m256 v = _mm256_loadu_ps(x + c);
        m = _mm256_max_ps(m, v);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    return _mm256_movemask_ps(nan) ? NAN : ga_hmax256(m);
#else
    float m = -INFINITY;
    for (int64_t c = 0; c < n; c++) {
        if (isnan(x[c])) return NAN;
        m = x[c] > m ? x[c] : m;
    }
    return m;
#endif
}

/* x[c] = exp(x[c] - shift) in place for c < n (n % 8 == 0; x may hold -inf); returns the sum.
 * The sum is taken in a fixed order (8 lanes, then across), so it is deterministic. */
static inline float ga_vexp_sum(float *x, int64_t n, float shift) {
#ifdef GA_CPU_AVX2
    const __m256 s = _mm256_set1_ps(shift);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t c = 0; c < n; c += 8) {
        const __m256 p = ga_exp_nonpos_256(_mm256_sub_ps(_mm256_loadu_ps(x + c), s));
        _mm256_storeu_ps(x + c, p);
        acc = _mm256_add_ps(acc, p);
    }
    return ga_hsum256(acc);
#else
    float acc = 0;
    for (int64_t c = 0; c < n; c++) {
        x[c] = expf(x[c] - shift);
        acc += x[c];
    }
    return acc;
#endif
}

/* sum a[d] * b[d], d < n (any n) */
static inline float ga_dot(const float *a, const float *b, int64_t n) {
#ifdef GA_CPU_AVX2
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t d = 0;
    for (; d + 16 <= n; d += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d + 8), _mm256_loadu_ps(b + d + 8), s1);
    }
    for (; d + 8 <= n; d += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), s0);
    float s = ga_hsum256(_mm256_add_ps(s0, s1));
    for (; d < n; d++) s += a[d] * b[d];
    return s;
#else
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t d = 0;
    for (; d + 8 <= n; d += 8)
        for (int u = 0; u < 8; u++) s[u] += a[d + u] * b[d + u];
    float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; d < n; d++) t += a[d] * b[d];
    return t;
#endif
}

/* o[d] = o[d] * alpha, d < n */
static inline void ga_scale(float *o, float alpha, int64_t n) {
    for (int64_t d = 0; d < n; d++) o[d] *= alpha;
}

/* o[d] += w * v[d], d < n */
static inline void ga_axpy(float *o, float w, const float *v, int64_t n) {
    for (int64_t d = 0; d < n; d++) o[d] += w * v[d];
}

#endif
