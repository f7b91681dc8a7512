/* The fast CPU backend against the fp64 reference, on seeded random inputs.
 *
 * Tolerance (FlashAttention's rule): the fast backend's max |out - ref| must be at most twice
 * the error of a plain implementation in the same precision (computed here, against the same
 * oracle) plus a small floor, and never above 1e-4 (fp32) or 1e-2 (fp16/bf16) on unit-normal
 * data; lse within 1e-5 relative; empty rows give exactly 0 and -inf; no NaN or Inf where the
 * reference has none. The oracle runs in fp32 tensors holding exactly the same (rounded) input
 * values, so its own output rounding does not blur the comparison. */
#define _POSIX_C_SOURCE 200809L /* fork, waitpid, alarm */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/half.h"
#include "test.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers: random tensors, poisoning, the plain same-precision baseline                       */
/* ------------------------------------------------------------------------------------------ */

typedef struct rng { uint64_t s; } rng;
static uint64_t rng_next(rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_unit(rng *r) { return ((double)(rng_next(r) >> 11) + 0.5) / 9007199254740992.0; }
static double rng_normal(rng *r) { return sqrt(-2.0 * log(rng_unit(r))) * cos(6.283185307179586 * rng_unit(r)); }

static size_t dsize(ga_dtype dt) { return dt == GA_F32 ? 4 : 2; }

static float round_to(ga_dtype dt, float x) {
    if (dt == GA_F16) return ga_f16_to_f32(ga_f32_to_f16(x));
    if (dt == GA_BF16) return ga_bf16_to_f32(ga_f32_to_bf16(x));
    return x;
}

static float get(const ga_tensor *t, int64_t b, int64_t n, int64_t h, int64_t d) {
    int64_t off = b * t->stride[0] + n * t->stride[1] + h * t->stride[2] + d;
    if (t->dtype == GA_F16) return ga_f16_to_f32(((uint16_t *)t->data)[off]);
    if (t->dtype == GA_BF16) return ga_bf16_to_f32(((uint16_t *)t->data)[off]);
    return ((float *)t->data)[off];
}
static void set(ga_tensor *t, int64_t b, int64_t n, int64_t h, int64_t d, float x) {
    int64_t off = b * t->stride[0] + n * t->stride[1] + h * t->stride[2] + d;
    if (t->dtype == GA_F16) ((uint16_t *)t->data)[off] = ga_f32_to_f16(x);
    else if (t->dtype == GA_BF16) ((uint16_t *)t->data)[off] = ga_f32_to_bf16(x);
    else ((float *)t->data)[off] = x;
}

/* A (B, N, H, D) tensor; strided = padding between heads, tokens and batches. */
static ga_tensor make_tensor(ga_dtype dt, int64_t B, int64_t N, int64_t H, int64_t D, int strided) {
    ga_tensor t = ga_tensor_make(NULL, dt, GA_DEVICE_CPU, B, N, H, D);
    if (strided) {
        t.stride[2] = D + 3;
        t.stride[1] = H * t.stride[2] + 5;
        t.stride[0] = N * t.stride[1] + 7;
    }
    size_t elems = (size_t)(B * t.stride[0]);
    t.data = malloc(elems * dsize(dt));
    memset(t.data, 0xff, elems * dsize(dt)); /* NaN in every dtype: poison */
    return t;
}
static size_t tensor_bytes(const ga_tensor *t) { return (size_t)(t->shape[0] * t->stride[0]) * dsize(t->dtype); }

static void fill_normal(ga_tensor *t, rng *r, double mul) {
    for (int64_t b = 0; b < t->shape[0]; b++)
        for (int64_t n = 0; n < t->shape[1]; n++)
            for (int64_t h = 0; h < t->shape[2]; h++)
                for (int64_t d = 0; d < t->shape[3]; d++) set(t, b, n, h, d, (float)(rng_normal(r) * mul));
}

/* A contiguous fp32 copy holding exactly the same values. */
static ga_tensor to_f32(const ga_tensor *t) {
    ga_tensor c = make_tensor(GA_F32, t->shape[0], t->shape[1], t->shape[2], t->shape[3], 0);
    for (int64_t b = 0; b < t->shape[0]; b++)
        for (int64_t n = 0; n < t->shape[1]; n++)
            for (int64_t h = 0; h < t->shape[2]; h++)
                for (int64_t d = 0; d < t->shape[3]; d++) set(&c, b, n, h, d, get(t, b, n, h, d));
    return c;
}

/* A plain implementation in the precision of dt: fp32 dot products and sums; for fp16/bf16
 * the scores, probabilities and output are rounded to dt as a plain low-precision kernel
 * would store them. */
static void plain_same_precision(const ga_graph *g, ga_dtype dt, const ga_tensor *q, const ga_tensor *k,
                                 const ga_tensor *v, float scale, ga_tensor *out) {
    const int64_t B = q->shape[0], nq = q->shape[1], H = q->shape[2], D = q->shape[3];
    const int64_t nk = k->shape[1], group = H / k->shape[2];
    int64_t *keys = malloc(sizeof(int64_t) * (size_t)nk * 4 + 8);
    float *s = malloc(sizeof(float) * (size_t)nk * 4 + 8), *acc = malloc(sizeof(float) * (size_t)D);
    for (int64_t i = 0; i < nq; i++) {
        int64_t deg = 0;
        ga_graph_row(g, nq, nk, i, keys, nk * 4, &deg);
        for (int64_t b = 0; b < B; b++)
            for (int64_t h = 0; h < H; h++) {
                float mx = -INFINITY, sum = 0;
                for (int64_t e = 0; e < deg; e++) {
                    float dot = 0;
                    for (int64_t d = 0; d < D; d++) dot += get(q, b, i, h, d) * get(k, b, keys[e], h / group, d);
                    s[e] = round_to(dt, dot * scale);
                    mx = s[e] > mx ? s[e] : mx;
                }
                for (int64_t e = 0; e < deg; e++) {
                    s[e] = expf(s[e] - mx);
                    sum += s[e];
                }
                for (int64_t d = 0; d < D; d++) acc[d] = 0;
                for (int64_t e = 0; e < deg; e++) {
                    const float pe = round_to(dt, s[e] / sum);
                    for (int64_t d = 0; d < D; d++) acc[d] += pe * get(v, b, keys[e], h / group, d);
                }
                for (int64_t d = 0; d < D; d++) set(out, b, i, h, d, deg ? round_to(dt, acc[d]) : 0.0f);
            }
    }
    free(keys);
    free(s);
    free(acc);
}

/* ------------------------------------------------------------------------------------------ */
/* One comparison case                                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct acase {
    int64_t B, nq, nk, H, Hkv, D;
    ga_dtype dt;
    int strided;   /* padded strides on every tensor */
    int in_place;  /* out is q */
    double qmul;   /* multiplier on q (large logits); 0 means 1 */
    double scale;  /* 0: 1/sqrt(D) */
    int threads;   /* 0: default */
    uint64_t seed;
} acase;

typedef struct aresult {
    double err, base_err, lse_err;
    int64_t empty_rows;
} aresult;

static const char *dtn(ga_dtype dt) { return dt == GA_F32 ? "f32" : dt == GA_F16 ? "f16" : "bf16"; }

/* Runs the fast backend and the oracle on one case; records failures; returns the fast
 * output as an fp32 tensor in *fast_out (caller frees) when non-NULL. */
/* Cases compared against the oracle in this process, printed at exit (docs/reliability.md
 * quotes the totals of a full run: `build/tests/test_attention_cpu`). */
static struct { long cases, by_dtype[3]; long long edges, rows; } tally;
__attribute__((destructor)) static void print_tally(void) {
    if (tally.cases)
        printf("accuracy: %ld cases against the fp64 reference (f32 %ld, f16 %ld, bf16 %ld), %lld query rows, "
               "%lld edges per (batch, head)\n", tally.cases, tally.by_dtype[GA_F32], tally.by_dtype[GA_F16],
               tally.by_dtype[GA_BF16], tally.rows, tally.edges);
}

static aresult run_case(const char *what, const ga_graph *g, acase c, ga_tensor *fast_out, ga_tensor *fast_lse) {
    aresult res = {0, 0, 0, 0};
    int64_t edges = 0;
    ga_graph_count_edges(g, c.nq, c.nk, &edges);
    tally.cases++;
    tally.by_dtype[c.dt]++;
    tally.edges += edges;
    tally.rows += c.B * c.nq * c.H;
    rng r = {c.seed * 7919 + 17};
    if (c.Hkv == 0) c.Hkv = c.H;
    ga_tensor q = make_tensor(c.dt, c.B, c.nq, c.H, c.D, c.strided);
    ga_tensor k = make_tensor(c.dt, c.B, c.nk, c.Hkv, c.D, c.strided);
    ga_tensor v = make_tensor(c.dt, c.B, c.nk, c.Hkv, c.D, c.strided);
    fill_normal(&q, &r, c.qmul ? c.qmul : 1.0);
    fill_normal(&k, &r, 1.0);
    fill_normal(&v, &r, 1.0);
    ga_tensor qf = to_f32(&q), kf = to_f32(&k), vf = to_f32(&v);
    ga_tensor out = c.in_place ? q : make_tensor(c.dt, c.B, c.nq, c.H, c.D, c.strided);
    ga_tensor lse = make_tensor(GA_F32, c.B, c.nq, c.H, 1, c.strided);
    ga_tensor ref = make_tensor(GA_F32, c.B, c.nq, c.H, c.D, 0), ref_lse = make_tensor(GA_F32, c.B, c.nq, c.H, 1, 0);
    ga_tensor base = make_tensor(GA_F32, c.B, c.nq, c.H, c.D, 0);

    ga_options o;
    ga_options_init(&o);
    o.scale = c.scale;
    o.num_threads = c.threads;
    o.backend = GA_BACKEND_CPU_REFERENCE;
    ga_status s = ga_attention_forward(g, &qf, &kf, &vf, &ref, &ref_lse, &o, NULL, 0);
    if (s != GA_OK) ga_test_fail(__FILE__, __LINE__, "%s: reference: %s (%s)", what, ga_status_string(s), ga_last_error_detail());
    o.backend = GA_BACKEND_CPU;
    s = ga_attention_forward(g, &q, &k, &v, &out, &lse, &o, NULL, 0);
    if (s != GA_OK) ga_test_fail(__FILE__, __LINE__, "%s: cpu: %s (%s)", what, ga_status_string(s), ga_last_error_detail());
    const float scale = (float)(c.scale ? c.scale : 1.0 / sqrt((double)c.D));
    plain_same_precision(g, c.dt, &qf, &kf, &vf, scale, &base);

    int reported = 0;
    for (int64_t b = 0; b < c.B; b++)
        for (int64_t i = 0; i < c.nq; i++)
            for (int64_t h = 0; h < c.H; h++) {
                const float rl = get(&ref_lse, b, i, h, 0), fl = get(&lse, b, i, h, 0);
                if (rl == -INFINITY) {
                    if (b == 0 && h == 0) res.empty_rows++;
                    int ok = fl == -INFINITY;
                    for (int64_t d = 0; d < c.D; d++) ok &= get(&out, b, i, h, d) == 0.0f;
                    if (!ok && reported++ < 5)
                        ga_test_fail(__FILE__, __LINE__, "%s: empty row (b=%lld i=%lld h=%lld): lse %g out[0] %g, want -inf and 0",
                                     what, (long long)b, (long long)i, (long long)h, fl, get(&out, b, i, h, 0));
                    continue;
                }
                const double le = fabs((double)fl - rl) / fmax(1.0, fabs(rl));
                if (!(le <= res.lse_err)) res.lse_err = isnan(le) ? INFINITY : le;
                for (int64_t d = 0; d < c.D; d++) {
                    const double rv = get(&ref, b, i, h, d), fv = get(&out, b, i, h, d);
                    const double e = fabs(fv - rv), be = fabs((double)get(&base, b, i, h, d) - rv);
                    if (!(e <= res.err)) res.err = isfinite(e) ? e : INFINITY;
                    if (be > res.base_err) res.base_err = be;
                    if (!isfinite(fv) && reported++ < 5)
                        ga_test_fail(__FILE__, __LINE__, "%s: non-finite out at b=%lld i=%lld h=%lld d=%lld: %g (ref %g)",
                                     what, (long long)b, (long long)i, (long long)h, (long long)d, fv, rv);
                }
            }
    const double floor_ = c.dt == GA_F32 ? 1e-6 : c.dt == GA_F16 ? 5e-4 : 4e-3;
    /* the absolute ceilings hold for unit-normal data; large logits are bound by the rule alone */
    const double ceil_ = c.qmul ? INFINITY : c.dt == GA_F32 ? 1e-4 : 1e-2;
    const double bound = fmin(ceil_, 2 * res.base_err + floor_);
    if (!(res.err <= bound))
        ga_test_fail(__FILE__, __LINE__, "%s [%s B=%lld Nq=%lld Nk=%lld H=%lld Hkv=%lld D=%lld]: max|out-ref| = %.3g > %.3g "
                     "(plain %s error %.3g)", what, dtn(c.dt), (long long)c.B, (long long)c.nq, (long long)c.nk,
                     (long long)c.H, (long long)c.Hkv, (long long)c.D, res.err, bound, dtn(c.dt), res.base_err);
    if (!(res.lse_err <= 1e-5))
        ga_test_fail(__FILE__, __LINE__, "%s [%s Nq=%lld Nk=%lld D=%lld]: lse relative error %.3g > 1e-5", what,
                     dtn(c.dt), (long long)c.nq, (long long)c.nk, (long long)c.D, res.lse_err);

    if (fast_out) *fast_out = c.in_place ? to_f32(&q) : to_f32(&out);
    if (fast_lse) *fast_lse = to_f32(&lse);
    if (!c.in_place) free(out.data);
    free(q.data); free(k.data); free(v.data); free(qf.data); free(kf.data); free(vf.data);
    free(lse.data); free(ref.data); free(ref_lse.data); free(base.data);
    return res;
}

static acase mk(int64_t nq, int64_t nk, int64_t D, ga_dtype dt, uint64_t seed) {
    acase c;
    memset(&c, 0, sizeof c);
    c.B = 1; c.nq = nq; c.nk = nk; c.H = 1; c.Hkv = 1; c.D = D; c.dt = dt; c.seed = seed;
    return c;
}

static ga_graph *graph_new(void) {
    ga_graph *g = NULL;
    ga_graph_create(&g);
    return g;
}

static const int64_t dims[] = {8, 16, 32, 59, 64, 80, 111, 128, 256};
static const int64_t sizes[] = {1, 2, 3, 127, 129, 251, 509};
static const ga_dtype dtypes[] = {GA_F32, GA_F16, GA_BF16};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------------------------------------ */
/* Component kinds                                                                             */
/* ------------------------------------------------------------------------------------------ */

TEST(window_matches_reference_across_sizes_dims_and_dtypes) {
    int n = 0;
    for (int di = 0; di < COUNT(dims); di++)
        for (int si = 0; si < COUNT(sizes); si++) {
            if ((di + si) % 2) continue;
            const int64_t nq = sizes[si], nk = sizes[(si + di) % COUNT(sizes)];
            ga_graph *g = graph_new();
            ga_graph_add_window(g, 1 + (di * 7 + si) % 40, (di + si * 5) % 33);
            acase c = mk(nq, nk, dims[di], dtypes[n % 3], (uint64_t)(di * 100 + si));
            run_case("window", g, c, NULL, NULL);
            ga_graph_destroy(g);
            n++;
        }
}

TEST(dense_and_causal_match_reference_with_bottom_right_alignment) {
    const int64_t pairs[][2] = {{1, 1}, {2, 3}, {3, 2}, {127, 129}, {129, 127}, {67, 301}, {251, 251}};
    for (int t = 0; t < COUNT(pairs); t++)
        for (int causal = 0; causal < 2; causal++) {
            ga_graph *g = graph_new();
            if (causal) ga_graph_add_causal(g);
            else ga_graph_add_dense(g);
            acase c = mk(pairs[t][0], pairs[t][1], dims[(t * 2 + causal) % COUNT(dims)], dtypes[(t + causal) % 3], t * 2 + causal);
            run_case(causal ? "causal" : "dense", g, c, NULL, NULL);
            ga_graph_destroy(g);
        }
}

TEST(packed_documents_match_reference_bidirectional_and_causal) {
    /* documents of 1 to ~100 tokens, cu_seqlens-style (0 and the total listed), Nq != Nk too,
     * and with global tokens after them */
    static const int64_t b1[] = {0, 1, 50, 51, 130, 251}, b2[] = {97}, b3[] = {3, 4, 5, 64, 65, 200, 1000};
    const struct { const int64_t *b; int64_t n; int64_t nq, nk; } cs[] = {
        {b1, 6, 251, 251}, {b2, 1, 129, 127}, {b3, 7, 127, 251}, {b1, 6, 67, 251}};
    static const int64_t gl[] = {0, 77};
    for (int t = 0; t < COUNT(cs); t++)
        for (int causal = 0; causal < 2; causal++) {
            ga_graph *g = graph_new();
            ga_graph_add_documents(g, cs[t].b, cs[t].n, causal);
            if (t == 3) ga_graph_add_global(g, gl, 2);
            acase c = mk(cs[t].nq, cs[t].nk, dims[(t * 2 + causal) % COUNT(dims)], dtypes[(t + causal) % 3], 900 + t * 2 + causal);
            run_case(causal ? "causal_documents" : "documents", g, c, NULL, NULL);
            ga_graph_destroy(g);
        }
}

TEST(blocks_dilated_and_longnet_match_reference) {
    for (int t = 0; t < 6; t++) {
        const int64_t nq = sizes[3 + t % 4], nk = sizes[3 + (t + 1) % 4];
        ga_graph *g = graph_new();
        ga_graph_add_blocks(g, 1 + t * 13);
        acase c = mk(nq, nk, dims[t], dtypes[t % 3], 300 + t);
        run_case("blocks", g, c, NULL, NULL);
        ga_graph_destroy(g);

        g = graph_new();
        ga_graph_add_dilated(g, 3 + t * 5, 1 + t % 4); /* step 1 is a window */
        c = mk(nq, nq, dims[(t + 3) % COUNT(dims)], dtypes[(t + 1) % 3], 310 + t);
        run_case("dilated", g, c, NULL, NULL);
        ga_graph_destroy(g);

        g = graph_new();
        ga_graph_add_longnet(g, 16 + 9 * t, 1 + t % 3, t % (1 + t % 3));
        c = mk(nq, nq, dims[(t + 5) % COUNT(dims)], dtypes[(t + 2) % 3], 320 + t);
        run_case("longnet", g, c, NULL, NULL);
        ga_graph_destroy(g);
    }
}

TEST(global_tokens_match_reference_alone_and_with_window) {
    const int64_t toks[] = {0, 1, 5, 64, 100, 250};
    for (int t = 0; t < 6; t++) {
        const int64_t nq = 251 + t * 50, nk = t % 2 ? nq : nq + 37;
        ga_graph *g = graph_new();
        if (t % 3 == 0) { ga_graph_add_window(g, 8, 8); ga_graph_add_global(g, toks, 6); }
        else if (t % 3 == 1) { ga_graph_add_global(g, toks, 6); ga_graph_add_window(g, 16, 0); }
        else ga_graph_add_global(g, toks + t % 2, 4);
        acase c = mk(nq, nk, dims[t + 1], dtypes[t % 3], 400 + t);
        run_case("global", g, c, NULL, NULL);
        ga_graph_destroy(g);
    }
}

TEST(random_keys_match_reference_alone_and_with_window) {
    for (int t = 0; t < 6; t++) {
        const int64_t nq = sizes[3 + t % 4], nk = sizes[3 + (t + 2) % 4];
        ga_graph *g = graph_new();
        if (t % 2) ga_graph_add_window(g, 12, 3);
        ga_graph_add_random(g, 1 + t * 9, 1234 + t);
        acase c = mk(nq, nk, dims[(t * 2) % COUNT(dims)], dtypes[t % 3], 500 + t);
        run_case("random", g, c, NULL, NULL);
        ga_graph_destroy(g);
    }
}

TEST(bigbird_matches_reference) {
    for (int t = 0; t < 6; t++) {
        const int64_t nq = 129 + 97 * t, nk = t % 2 ? nq : nq + 61;
        ga_graph *g = graph_new();
        ga_graph_add_bigbird(g, 8 + 8 * (t % 3), t % 3, t % 2 + (t == 4 ? 0 : 1), 1 + t % 3, 77 + t);
        acase c = mk(nq, nk, dims[(t + 2) % COUNT(dims)], dtypes[t % 3], 600 + t);
        run_case("bigbird", g, c, NULL, NULL);
        ga_graph_destroy(g);
    }
}

/* Regression (fuzz_spec timeout): with a block far longer than the sequence, every row walked
 * all B slots of each block. Here B = 2^50: the graph is dense over N = 37, and the degree
 * query, the reference and the fast backend must each take milliseconds, not days. */
TEST(bigbird_with_a_block_far_longer_than_the_sequence_costs_o_keys) {
    const clock_t t0 = clock();
    ga_graph *g = graph_new();
    ga_graph_add_bigbird(g, (int64_t)1 << 50, 0, 0, 3, 74);
    ga_degree_stats st;
    ASSERT_OK(ga_graph_degree_stats(g, 37, 37, &st));
    EXPECT_EQ_I64(st.edges, 37 * 37);
    acase c = mk(37, 37, 16, GA_F32, 1900);
    run_case("bigbird, block 2^50", g, c, NULL, NULL);
    ga_graph *u = graph_new(); /* bigbird as a later component: slots owned by the window are skipped */
    ga_graph_add_window(u, 2, 2);
    ga_graph_add_bigbird(u, (int64_t)1 << 50, 1, 1, 3, 74);
    run_case("window + bigbird, block 2^50", u, c, NULL, NULL);
    const double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (secs > 20) ga_test_fail(__FILE__, __LINE__, "took %.1f s of CPU time", secs);
    ga_graph_destroy(g);
    ga_graph_destroy(u);
}

/* A random CSR: each row keeps each key with probability `density`. */
static ga_graph *random_csr_graph(int64_t nq, int64_t nk, double density, uint64_t seed, int32_t idx32) {
    rng r = {seed};
    int64_t *ptr = malloc(sizeof(int64_t) * (size_t)(nq + 1));
    int64_t cap = 16, nnz = 0;
    int64_t *col = malloc(sizeof(int64_t) * (size_t)cap);
    ptr[0] = 0;
    for (int64_t i = 0; i < nq; i++) {
        for (int64_t j = 0; j < nk; j++)
            if (rng_unit(&r) < density) {
                if (nnz == cap) { cap *= 2; col = realloc(col, sizeof(int64_t) * (size_t)cap); }
                col[nnz++] = j;
            }
        ptr[i + 1] = nnz;
    }
    ga_graph *g = graph_new();
    if (idx32) {
        int32_t *c32 = malloc(sizeof(int32_t) * (size_t)(nnz + 1));
        for (int64_t e = 0; e < nnz; e++) c32[e] = (int32_t)col[e];
        ga_graph_add_csr(g, nq, nk, ptr, c32, GA_INDEX_INT32);
        free(c32);
    } else {
        ga_graph_add_csr(g, nq, nk, ptr, col, GA_INDEX_INT64);
    }
    free(ptr);
    free(col);
    return g;
}

TEST(csr_matches_reference_alone_and_in_unions) {
    for (int t = 0; t < 6; t++) {
        const int64_t nq = sizes[2 + t % 5], nk = sizes[2 + (t + 1) % 5];
        ga_graph *g = random_csr_graph(nq, nk, 0.05 + 0.1 * t, 900 + t, t % 2);
        if (t >= 3) ga_graph_add_window(g, 5, 5); /* window after csr: owner is the csr */
        acase c = mk(nq, nk, dims[(t * 3) % COUNT(dims)], dtypes[t % 3], 700 + t);
        run_case("csr", g, c, NULL, NULL);
        ga_graph_destroy(g);
    }
}

TEST(longformer_and_bigbird_unions_match_reference) {
    const int64_t toks[] = {3, 77, 200};
    ga_graph *g = graph_new();
    ga_graph_add_window(g, 32, 32);
    ga_graph_add_global(g, toks, 3);
    ga_graph_add_random(g, 5, 9);
    acase c = mk(509, 509, 64, GA_F32, 801);
    run_case("window+global+random", g, c, NULL, NULL);
    c.dt = GA_BF16;
    run_case("window+global+random bf16", g, c, NULL, NULL);
    ga_graph_destroy(g);

    g = graph_new();
    ga_graph_add_bigbird(g, 16, 1, 1, 2, 5);
    ga_graph_add_window(g, 20, 20);
    ga_graph_add_causal(g);
    c = mk(257, 257, 32, GA_F16, 802);
    run_case("bigbird+window+causal", g, c, NULL, NULL);
    ga_graph_destroy(g);
}

/* ------------------------------------------------------------------------------------------ */
/* Shapes, layouts and edge cases                                                              */
/* ------------------------------------------------------------------------------------------ */

TEST(batches_and_grouped_query_heads_match_reference) {
    const int64_t heads[][2] = {{4, 4}, {4, 2}, {6, 1}, {8, 4}};
    for (int t = 0; t < 4; t++) {
        ga_graph *g = graph_new();
        ga_graph_add_window(g, 20, 20);
        if (t % 2) { int64_t tok = 10; ga_graph_add_global(g, &tok, 1); }
        acase c = mk(131, 131, dims[t * 2], dtypes[t % 3], 1000 + t);
        c.B = 2 + t % 2;
        c.H = heads[t][0];
        c.Hkv = heads[t][1];
        run_case("batch/gqa", g, c, NULL, NULL);
        ga_graph_destroy(g);
    }
}

TEST(strided_tensors_match_reference) {
    for (int t = 0; t < 3; t++) {
        ga_graph *g = graph_new();
        ga_graph_add_window(g, 17, 4);
        int64_t tok = 7;
        ga_graph_add_global(g, &tok, 1);
        ga_graph_add_random(g, 3, 4);
        acase c = mk(129, 127, dims[t * 3 + 1], dtypes[t], 1100 + t);
        c.B = 2;
        c.H = 2;
        c.Hkv = 1 + t % 2;
        c.strided = 1;
        run_case("strided", g, c, NULL, NULL);
        ga_graph_destroy(g);
    }
}

TEST(output_written_over_q_matches_reference) {
    for (int t = 0; t < 3; t++) {
        const int64_t toks[] = {0, 40};
        ga_graph *g = graph_new();
        ga_graph_add_window(g, 30, 30);
        ga_graph_add_global(g, toks, 2);
        acase c = mk(257, 257, dims[t * 2 + 2], dtypes[t], 1200 + t);
        c.H = 2;
        c.in_place = 1;
        c.strided = t == 2;
        run_case("in-place", g, c, NULL, NULL);
        ga_graph_destroy(g);
    }
}

TEST(rows_without_edges_give_zero_and_minus_infinity) {
    /* causal with Nq > Nk: the first Nq - Nk rows have no keys; longnet rows off the grid too */
    ga_graph *g = graph_new();
    ga_graph_add_causal(g);
    acase c = mk(200, 150, 32, GA_F32, 1300);
    aresult r = run_case("causal Nq > Nk", g, c, NULL, NULL);
    EXPECT_EQ_I64(r.empty_rows, 50);
    ga_graph_destroy(g);

    g = graph_new();
    ga_graph_add_longnet(g, 32, 3, 1);
    c = mk(129, 129, 16, GA_BF16, 1301);
    r = run_case("longnet off-grid rows", g, c, NULL, NULL);
    EXPECT_TRUE(r.empty_rows > 0);
    ga_graph_destroy(g);

    g = random_csr_graph(127, 129, 0.01, 1302, 0);
    c = mk(127, 129, 64, GA_F16, 1302);
    r = run_case("sparse csr", g, c, NULL, NULL);
    EXPECT_TRUE(r.empty_rows > 0);
    ga_graph_destroy(g);
}

TEST(rows_with_thousands_of_edges_match_reference) {
    ga_graph *g = graph_new();
    ga_graph_add_dense(g);
    acase c = mk(5, 4099, 64, GA_F32, 1400);
    run_case("dense wide", g, c, NULL, NULL);
    c.dt = GA_BF16;
    run_case("dense wide bf16", g, c, NULL, NULL);
    ga_graph_destroy(g);

    /* global queries over 20000 keys: split into chunks that run in parallel */
    const int64_t toks[] = {0, 1, 2, 30};
    g = graph_new();
    ga_graph_add_window(g, 4, 4);
    ga_graph_add_global(g, toks, 4);
    c = mk(40, 20000, 32, GA_F32, 1401);
    run_case("global heavy rows", g, c, NULL, NULL);
    c.dt = GA_F16;
    c.H = 2;
    run_case("global heavy rows f16", g, c, NULL, NULL);
    ga_graph_destroy(g);
}

TEST(few_queries_over_many_keys_are_split_and_match_reference) {
    /* a handful of query blocks against long key ranges: the ranges are cut into chunks that
     * run in parallel and merge by log-sum-exp */
    const int64_t shapes[][3] = {{1, 30011, 64}, {3, 20000, 59}, {37, 9001, 128}};
    for (int t = 0; t < 3; t++) {
        ga_graph *g = graph_new();
        if (t == 0) ga_graph_add_dense(g);
        else if (t == 1) { ga_graph_add_causal(g); ga_graph_add_random(g, 7, 11); }
        else { ga_graph_add_window(g, 3000, 100); int64_t tok = 5; ga_graph_add_global(g, &tok, 1); }
        acase c = mk(shapes[t][0], shapes[t][1], shapes[t][2], dtypes[t], 1450 + t);
        c.H = t == 2 ? 2 : 1;
        run_case("split", g, c, NULL, NULL);
        ga_graph_destroy(g);
    }
}

TEST(large_logits_stay_finite_and_correct) {
    ga_graph *g = graph_new();
    ga_graph_add_window(g, 64, 64);
    acase c = mk(257, 257, 64, GA_F32, 1500);
    c.qmul = 200.0; /* |scale q.k| ~ 1e4 */
    run_case("large logits f32", g, c, NULL, NULL);
    c.dt = GA_BF16;
    run_case("large logits bf16", g, c, NULL, NULL);
    c.dt = GA_F16;
    c.qmul = 50.0;
    run_case("large logits f16", g, c, NULL, NULL);
    ga_graph_destroy(g);
}

TEST(nan_inputs_make_their_rows_nan_on_both_cpu_backends) {
    /* A NaN in q row 10 and one in key 40's K: the fp64 reference's softmax gives NaN in row 10 and
     * in every row that attends key 40 (36..44 under window:4), and so must the fast backend,
     * rather than dropping the NaN from the row's max (which made row 10 look like a row without
     * edges: out 0, lse -inf). Every other row stays finite and matches. */
    const int64_t N = 64, D = 16;
    ga_graph *g = graph_new();
    ga_graph_add_window(g, 4, 4);
    rng r = {2024};
    ga_tensor q = make_tensor(GA_F32, 1, N, 1, D, 0), k = make_tensor(GA_F32, 1, N, 1, D, 0),
              v = make_tensor(GA_F32, 1, N, 1, D, 0);
    fill_normal(&q, &r, 1.0);
    fill_normal(&k, &r, 1.0);
    fill_normal(&v, &r, 1.0);
    for (int64_t d = 0; d < D; d++) set(&q, 0, 10, 0, d, NAN);
    set(&k, 0, 40, 0, 3, NAN);
    ga_tensor out[2], lse[2];
    const ga_backend be[2] = {GA_BACKEND_CPU_REFERENCE, GA_BACKEND_CPU};
    for (int t = 0; t < 2; t++) {
        out[t] = make_tensor(GA_F32, 1, N, 1, D, 0);
        lse[t] = make_tensor(GA_F32, 1, N, 1, 1, 0);
        ga_options o;
        ga_options_init(&o);
        o.backend = be[t];
        EXPECT_STATUS(ga_attention_forward(g, &q, &k, &v, &out[t], &lse[t], &o, NULL, 0), GA_OK);
    }
    for (int64_t i = 0; i < N; i++) {
        const int want_nan = i == 10 || (i >= 36 && i <= 44);
        for (int t = 0; t < 2; t++) {
            const float l = get(&lse[t], 0, i, 0, 0), o0 = get(&out[t], 0, i, 0, 0);
            if (want_nan != (isnan(l) && isnan(o0)) || (!want_nan && !(isfinite(l) && isfinite(o0))))
                ga_test_fail(__FILE__, __LINE__, "%s: row %lld: lse %g out[0] %g, want %s",
                             t ? "cpu" : "reference", (long long)i, l, o0, want_nan ? "NaN" : "finite");
        }
        if (!want_nan) EXPECT_NEAR(get(&out[1], 0, i, 0, 5), get(&out[0], 0, i, 0, 5), 1e-5);
    }
    for (int t = 0; t < 2; t++) {
        free(out[t].data);
        free(lse[t].data);
    }
    free(q.data);
    free(k.data);
    free(v.data);
    ga_graph_destroy(g);
}

TEST(explicit_scale_is_used) {
    ga_graph *g = graph_new();
    ga_graph_add_window(g, 10, 10);
    acase c = mk(127, 127, 32, GA_F32, 1600);
    c.scale = 0.7;
    run_case("scale 0.7", g, c, NULL, NULL);
    ga_graph_destroy(g);
}

static int same_bits(const ga_tensor *a, const ga_tensor *b) {
    return memcmp(a->data, b->data, tensor_bytes(a)) == 0;
}

TEST(results_are_bit_identical_across_runs_and_thread_counts) {
    const int64_t toks[] = {0, 99};
    ga_graph *g = graph_new();
    ga_graph_add_window(g, 40, 40);
    ga_graph_add_global(g, toks, 2);
    ga_graph_add_random(g, 4, 3);
    acase c = mk(301, 3001, 64, GA_F32, 1700);
    ga_tensor o1, l1, o2, l2, o3, l3;
    run_case("determinism run 1", g, c, &o1, &l1);
    run_case("determinism run 2", g, c, &o2, &l2);
    c.threads = 1;
    run_case("determinism 1 thread", g, c, &o3, &l3);
    EXPECT_TRUE(same_bits(&o1, &o2));
    EXPECT_TRUE(same_bits(&l1, &l2));
    EXPECT_TRUE(same_bits(&o1, &o3));
    EXPECT_TRUE(same_bits(&l1, &l3));
    free(o1.data); free(l1.data); free(o2.data); free(l2.data); free(o3.data); free(l3.data);
    ga_graph_destroy(g);
}

/* GCC's OpenMP runtime does not survive fork(): a child of a process that ran a parallel region
 * hangs in its first one with more than one thread. The library runs on one thread after a fork
 * (common/threads.h). Here the parent runs multi-threaded calls (graph validation, the fast
 * backend, the reference), forks, and the child repeats them asking for 4 threads, with an alarm
 * that kills it if it hangs; its results must equal the parent's bit for bit. */
TEST(a_forked_child_computes_the_same_results_without_hanging_in_openmp) {
    ga_graph *g = ga_test_csr_of("window:9+global:0,77", 300, 1); /* CSR validation runs in parallel */
    ASSERT_TRUE(g != NULL);
    ga_graph_add_window(g, 20, 3);
    acase c = mk(300, 300, 32, GA_F32, 1950);
    c.threads = 4;
    ga_tensor o1, l1;
    run_case("before the fork", g, c, &o1, &l1);
    fflush(NULL);
    const pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        alarm(120); /* a hang ends as SIGALRM, which the parent reports */
        ga_graph *g2 = ga_test_csr_of("window:9+global:0,77", 300, 1);
        int bad = g2 == NULL;
        if (g2) {
            ga_graph_add_window(g2, 20, 3);
            ga_tensor o2, l2;
            run_case("in the forked child", g2, c, &o2, &l2); /* also checks against the fp64 reference */
            if (!same_bits(&o1, &o2) || !same_bits(&l1, &l2)) {
                fprintf(stderr, "the child's result differs from the parent's (out %s, lse %s)\n",
                        same_bits(&o1, &o2) ? "same" : "differs", same_bits(&l1, &l2) ? "same" : "differs");
                bad = 1;
            }
            ga_graph_destroy(g2);
        }
        fflush(NULL);
        _exit(bad || ga_test_failures() ? 1 : 0);
    }
    int status = 0;
    ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status))
        ga_test_fail(__FILE__, __LINE__, "the forked child was killed by signal %d (%s)", WTERMSIG(status),
                     WTERMSIG(status) == SIGALRM ? "hung for 120 s: OpenMP after fork" : "crashed");
    else
        EXPECT_EQ_I64(WEXITSTATUS(status), 0);
    free(o1.data); free(l1.data);
    ga_graph_destroy(g);
}

/* The fast backend alone (no oracle): runs on 1 thread twice, then 2, 3 and the OpenMP default,
 * each into freshly poisoned out/lse, and wants every run bit for bit equal to the first. */
static void determinism_case(const char *what, ga_graph *g, int64_t nq, int64_t nk, int64_t D, ga_dtype dt,
                             uint64_t seed) {
    const int threads[] = {1, 1, 2, 3, 0};
    rng r = {seed};
    ga_tensor q = make_tensor(dt, 2, nq, 4, D, 0), k = make_tensor(dt, 2, nk, 2, D, 0), v = make_tensor(dt, 2, nk, 2, D, 0);
    fill_normal(&q, &r, 1);
    fill_normal(&k, &r, 1);
    fill_normal(&v, &r, 1);
    ga_tensor o0 = make_tensor(dt, 2, nq, 4, D, 0), l0 = make_tensor(GA_F32, 2, nq, 4, 1, 0);
    ga_tensor o = make_tensor(dt, 2, nq, 4, D, 0), l = make_tensor(GA_F32, 2, nq, 4, 1, 0);
    ga_options opt;
    ga_options_init(&opt);
    opt.backend = GA_BACKEND_CPU;
    for (int t = 0; t < COUNT(threads); t++) {
        ga_tensor *ot = t == 0 ? &o0 : &o, *lt = t == 0 ? &l0 : &l;
        memset(ot->data, 0xff, tensor_bytes(ot));
        memset(lt->data, 0xff, tensor_bytes(lt));
        opt.num_threads = threads[t];
        ga_status s = ga_attention_forward(g, &q, &k, &v, ot, lt, &opt, NULL, 0);
        if (s != GA_OK) {
            ga_test_fail(__FILE__, __LINE__, "%s: %s (%s)", what, ga_status_string(s), ga_last_error_detail());
            break;
        }
        if (t > 0 && (!same_bits(&o, &o0) || !same_bits(&l, &l0)))
            ga_test_fail(__FILE__, __LINE__, "%s [%s Nq=%lld Nk=%lld D=%lld]: run %d on %d thread(s) differs from run 0 "
                         "on 1 thread (out %s, lse %s)", what, dtn(dt), (long long)nq, (long long)nk, (long long)D, t,
                         threads[t], same_bits(&o, &o0) ? "same" : "differs", same_bits(&l, &l0) ? "same" : "differs");
    }
    free(q.data); free(k.data); free(v.data); free(o0.data); free(l0.data); free(o.data); free(l.data);
    ga_graph_destroy(g);
}

TEST(every_graph_kind_is_bit_identical_across_runs_and_1_2_3_threads) {
    const int64_t toks[] = {0, 150, 290};
    ga_graph *g;
    g = graph_new(); ga_graph_add_window(g, 16, 16);
    determinism_case("window", g, 301, 301, 64, GA_F32, 1800);
    g = graph_new(); ga_graph_add_causal(g);
    determinism_case("causal", g, 200, 233, 59, GA_BF16, 1801);
    g = graph_new(); ga_graph_add_dense(g);
    determinism_case("dense, 5 queries over 20011 keys (split rows)", g, 5, 20011, 64, GA_F32, 1802);
    g = graph_new(); ga_graph_add_dilated(g, 4, 3);
    determinism_case("dilated", g, 257, 257, 32, GA_F16, 1803);
    g = graph_new(); ga_graph_add_blocks(g, 32);
    determinism_case("blocks", g, 300, 300, 80, GA_F32, 1804);
    g = graph_new(); ga_graph_add_longnet(g, 32, 2, 1);
    determinism_case("longnet", g, 300, 300, 16, GA_BF16, 1805);
    g = graph_new(); ga_graph_add_global(g, toks, 3);
    determinism_case("global", g, 301, 301, 64, GA_F32, 1806);
    g = graph_new(); ga_graph_add_random(g, 6, 3);
    determinism_case("random", g, 257, 401, 128, GA_F16, 1807);
    g = graph_new(); ga_graph_add_bigbird(g, 16, 1, 1, 2, 5);
    determinism_case("bigbird", g, 301, 301, 64, GA_F32, 1808);
    g = random_csr_graph(211, 211, 0.1, 1809, 1);
    determinism_case("csr", g, 211, 211, 64, GA_F32, 1809);
    g = random_csr_graph(211, 211, 0.05, 1810, 0); ga_graph_add_window(g, 8, 8);
    determinism_case("csr+window", g, 211, 211, 32, GA_BF16, 1810);
    g = graph_new(); ga_graph_add_window(g, 24, 24); ga_graph_add_global(g, toks, 3); ga_graph_add_random(g, 4, 7);
    determinism_case("window+global+random", g, 301, 301, 64, GA_F32, 1811);
}

/* ------------------------------------------------------------------------------------------ */
/* Chaining: accumulate and merge over disjoint edge sets equal one call over the union         */
/* ------------------------------------------------------------------------------------------ */

/* G1 = window(6, 0) (a causal window), G2 = the rest of causal as CSR: disjoint, union = causal. */
static ga_graph *causal_rest_csr(int64_t n, int64_t w) {
    int64_t *ptr = malloc(sizeof(int64_t) * (size_t)(n + 1)), *col = malloc(sizeof(int64_t) * (size_t)(n * n / 2 + n + 1));
    int64_t nnz = 0;
    ptr[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < i - w; j++) col[nnz++] = j;
        ptr[i + 1] = nnz;
    }
    ga_graph *g = graph_new();
    ga_graph_add_csr(g, n, n, ptr, col, GA_INDEX_INT64);
    free(ptr);
    free(col);
    return g;
}

static void chain_case(ga_dtype dt, int use_merge, uint64_t seed) {
    const int64_t n = 150, D = 48, H = 2, W = 6;
    rng r = {seed};
    ga_tensor q = make_tensor(dt, 1, n, H, D, 0), k = make_tensor(dt, 1, n, H, D, 0), v = make_tensor(dt, 1, n, H, D, 0);
    fill_normal(&q, &r, 1);
    fill_normal(&k, &r, 1);
    fill_normal(&v, &r, 1);
    ga_graph *g1 = graph_new(), *g2 = causal_rest_csr(n, W), *gu = graph_new();
    ga_graph_add_window(g1, W, 0);
    ga_graph_add_causal(gu);
    ga_tensor oa = make_tensor(dt, 1, n, H, D, 0), la = make_tensor(GA_F32, 1, n, H, 1, 0);
    ga_tensor ob = make_tensor(dt, 1, n, H, D, 0), lb = make_tensor(GA_F32, 1, n, H, 1, 0);
    ga_tensor ou = make_tensor(dt, 1, n, H, D, 0), lu = make_tensor(GA_F32, 1, n, H, 1, 0);
    ga_options o;
    ga_options_init(&o);
    o.backend = GA_BACKEND_CPU;
    ASSERT_OK(ga_attention_forward(g1, &q, &k, &v, &oa, &la, &o, NULL, 0));
    if (use_merge) {
        ASSERT_OK(ga_attention_forward(g2, &q, &k, &v, &ob, &lb, &o, NULL, 0));
        ASSERT_OK(ga_merge_states(&oa, &la, &ob, &lb, NULL));
    } else {
        o.flags = GA_FLAG_ACCUMULATE;
        ASSERT_OK(ga_attention_forward(g2, &q, &k, &v, &oa, &la, &o, NULL, 0));
        o.flags = 0;
    }
    o.backend = GA_BACKEND_CPU_REFERENCE;
    ASSERT_OK(ga_attention_forward(gu, &q, &k, &v, &ou, &lu, &o, NULL, 0));
    double err = 0, lerr = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t h = 0; h < H; h++) {
            lerr = fmax(lerr, fabs((double)get(&la, 0, i, h, 0) - get(&lu, 0, i, h, 0)) / fmax(1, fabs(get(&lu, 0, i, h, 0))));
            for (int64_t d = 0; d < D; d++) {
                double e = fabs((double)get(&oa, 0, i, h, d) - get(&ou, 0, i, h, d));
                err = isnan(e) ? INFINITY : fmax(err, e);
            }
        }
    /* two roundings to dt (partial, then merged) against one */
    const double tol = dt == GA_F32 ? 2e-6 : dt == GA_F16 ? 3e-3 : 2e-2;
    if (!(err <= tol))
        ga_test_fail(__FILE__, __LINE__, "%s %s: max|chained - union| = %.3g > %.3g", use_merge ? "merge" : "accumulate",
                     dtn(dt), err, tol);
    if (!(lerr <= 1e-5))
        ga_test_fail(__FILE__, __LINE__, "%s %s: lse relative error %.3g", use_merge ? "merge" : "accumulate", dtn(dt), lerr);
    free(q.data); free(k.data); free(v.data); free(oa.data); free(la.data); free(ob.data); free(lb.data);
    free(ou.data); free(lu.data);
    ga_graph_destroy(g1); ga_graph_destroy(g2); ga_graph_destroy(gu);
}

TEST(accumulate_over_disjoint_graphs_equals_one_call_over_their_union) {
    for (int t = 0; t < 3; t++) chain_case(dtypes[t], 0, 1800 + t);
}

TEST(merge_of_disjoint_graphs_equals_one_call_over_their_union) {
    for (int t = 0; t < 3; t++) chain_case(dtypes[t], 1, 1900 + t);
}

TEST(accumulate_into_rows_without_prior_edges_and_without_new_edges) {
    /* prior: causal over Nq > Nk (first rows empty); new: window(0,0) over the diagonal of the
     * bottom-right alignment, which also leaves those rows empty: they must stay 0 / -inf,
     * and rows with a prior but nothing new must stay bit for bit. */
    const int64_t nq = 40, nk = 30, D = 16;
    rng r = {2000};
    ga_tensor q = make_tensor(GA_F32, 1, nq, 1, D, 0), k = make_tensor(GA_F32, 1, nk, 1, D, 0), v = make_tensor(GA_F32, 1, nk, 1, D, 0);
    fill_normal(&q, &r, 1); fill_normal(&k, &r, 1); fill_normal(&v, &r, 1);
    ga_graph *g1 = graph_new(), *g2 = graph_new();
    ga_graph_add_blocks(g1, 8);   /* rows 32..39 have no keys (keys end at 30) */
    ga_graph_add_random(g2, 1, 5);
    ga_tensor o = make_tensor(GA_F32, 1, nq, 1, D, 0), l = make_tensor(GA_F32, 1, nq, 1, 1, 0);
    ga_options opt;
    ga_options_init(&opt);
    ASSERT_OK(ga_attention_forward(g1, &q, &k, &v, &o, &l, &opt, NULL, 0));
    for (int64_t i = 32; i < nq; i++) EXPECT_TRUE(get(&l, 0, i, 0, 0) == -INFINITY);
    opt.flags = GA_FLAG_ACCUMULATE;
    ga_graph *g3 = graph_new();
    int64_t ptr[41] = {0}, col[1] = {0};
    ptr[36] = 0;
    for (int64_t i = 36; i <= nq; i++) ptr[i] = i == nq ? 1 : (i > 36 ? 1 : 0);
    ga_graph_add_csr(g3, nq, nk, ptr, col, GA_INDEX_INT64); /* one edge: (36, 0) */
    ga_tensor o0 = to_f32(&o), l0 = to_f32(&l);
    ASSERT_OK(ga_attention_forward(g3, &q, &k, &v, &o, &l, &opt, NULL, 0));
    for (int64_t i = 0; i < nq; i++) {
        if (i == 36) {
            EXPECT_TRUE(get(&l, 0, i, 0, 0) > -INFINITY);
            EXPECT_NEAR(get(&o, 0, i, 0, 3), get(&v, 0, 0, 0, 3), 1e-6);
            continue;
        }
        EXPECT_TRUE(memcmp((float *)o.data + i * D, (float *)o0.data + i * D, sizeof(float) * D) == 0);
        EXPECT_TRUE(memcmp((float *)l.data + i, (float *)l0.data + i, sizeof(float)) == 0);
    }
    free(q.data); free(k.data); free(v.data); free(o.data); free(l.data); free(o0.data); free(l0.data);
    ga_graph_destroy(g1); ga_graph_destroy(g2); ga_graph_destroy(g3);
}

TEST(auto_backend_on_host_tensors_equals_the_cpu_backend) {
    ga_graph *g = graph_new();
    ga_graph_add_window(g, 9, 9);
    rng r = {2100};
    ga_tensor q = make_tensor(GA_F32, 1, 100, 1, 32, 0), k = make_tensor(GA_F32, 1, 100, 1, 32, 0), v = make_tensor(GA_F32, 1, 100, 1, 32, 0);
    fill_normal(&q, &r, 1); fill_normal(&k, &r, 1); fill_normal(&v, &r, 1);
    ga_tensor o1 = make_tensor(GA_F32, 1, 100, 1, 32, 0), o2 = make_tensor(GA_F32, 1, 100, 1, 32, 0);
    ga_options opt;
    ga_options_init(&opt);
    ASSERT_OK(ga_attention_forward(g, &q, &k, &v, &o1, NULL, &opt, NULL, 0));
    opt.backend = GA_BACKEND_CPU;
    size_t ws = 0;
    ASSERT_OK(ga_attention_workspace_size(g, &q, &k, &v, &opt, &ws));
    void *w = malloc(ws ? ws : 1);
    ASSERT_OK(ga_attention_forward(g, &q, &k, &v, &o2, NULL, &opt, w, ws));
    EXPECT_TRUE(same_bits(&o1, &o2));
    free(w); free(q.data); free(k.data); free(v.data); free(o1.data); free(o2.data);
    ga_graph_destroy(g);
}
