/* Graph model: every component's edges against a brute-force boolean mask written here from the
 * definitions in graphattn.h, over a grid of sizes and parameters including both ends of the
 * sequence; union de-duplication; explicit-graph validation; spec parsing. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "graph/graph.h"
#include "test.h"

/* ---- brute-force definitions (independent of component.h) ---------------------------------- */

typedef struct {
    int kind;
    int64_t a, b, c, d;
    uint64_t seed;
    const int64_t *list;
    int64_t nlist;
} spec_t;

static uint64_t splitmix(uint64_t seed, int64_t row, int64_t t) {
    /* the documented hash, written out again */
    uint64_t z = seed ^ ((uint64_t)row * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)t * 0xC2B2AE3D27D4EB4Full);
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* all picks of the stratified random choice for one row, by enumeration */
static int random_brute(uint64_t seed, int64_t row, int64_t j, int64_t n, int64_t r) {
    int64_t m = r < n ? r : n;
    for (int64_t t = 0; t < m; t++) {
        int64_t s = t * n / m, e = (t + 1) * n / m;
        if (s + (int64_t)(splitmix(seed, row, t) % (uint64_t)(e - s)) == j) return 1;
    }
    return 0;
}

static int in_list(const int64_t *l, int64_t n, int64_t x) {
    for (int64_t t = 0; t < n; t++)
        if (l[t] == x) return 1;
    return 0;
}

/* documents: i' and j in one document iff no bound b has min(i', j) < b <= max(i', j) */
static int same_document(const int64_t *bounds, int64_t n, int64_t x, int64_t y) {
    const int64_t lo = x < y ? x : y, hi = x < y ? y : x;
    for (int64_t t = 0; t < n; t++)
        if (bounds[t] > lo && bounds[t] <= hi) return 0;
    return 1;
}

static int brute(const spec_t *s, int64_t i, int64_t j, int64_t nq, int64_t nk) {
    int64_t d = i + (nk - nq); /* bottom-right aligned diagonal */
    switch (s->kind) {
    case GA_COMP_DENSE: return 1;
    case GA_COMP_CAUSAL: return j <= d;
    case GA_COMP_WINDOW: return d - s->a <= j && j <= d + s->b;
    case GA_COMP_DILATED:
        for (int64_t k = -s->a; k <= s->a; k++)
            if (d + k * s->b == j) return 1;
        return 0;
    case GA_COMP_BLOCKS: return i / s->a == j / s->a;
    case GA_COMP_LONGNET: return i / s->a == j / s->a && i % s->b == s->c && j % s->b == s->c;
    case GA_COMP_GLOBAL: return in_list(s->list, s->nlist, i) || in_list(s->list, s->nlist, j);
    case GA_COMP_RANDOM: return random_brute(s->seed, i, j, nk, s->a);
    case GA_COMP_BIGBIRD: {
        int64_t B = s->a, qb = i / B, kb = j / B, nbk = (nk + B - 1) / B;
        if (qb - kb <= s->b && kb - qb <= s->b) return 1;
        if (qb < s->c || kb < s->c) return 1;
        return random_brute(s->seed, qb, kb, nbk, s->d);
    }
    case GA_COMP_DOCUMENTS: return d >= 0 && same_document(s->list, s->nlist, d, j) && (!s->a || j <= d);
    }
    return -1;
}

static ga_status add(ga_graph *g, const spec_t *s) {
    switch (s->kind) {
    case GA_COMP_DENSE: return ga_graph_add_dense(g);
    case GA_COMP_CAUSAL: return ga_graph_add_causal(g);
    case GA_COMP_WINDOW: return ga_graph_add_window(g, s->a, s->b);
    case GA_COMP_DILATED: return ga_graph_add_dilated(g, s->a, s->b);
    case GA_COMP_BLOCKS: return ga_graph_add_blocks(g, s->a);
    case GA_COMP_LONGNET: return ga_graph_add_longnet(g, s->a, s->b, s->c);
    case GA_COMP_GLOBAL: return ga_graph_add_global(g, s->list, s->nlist);
    case GA_COMP_RANDOM: return ga_graph_add_random(g, s->a, s->seed);
    case GA_COMP_BIGBIRD: return ga_graph_add_bigbird(g, s->a, s->b, s->c, s->d, s->seed);
    case GA_COMP_DOCUMENTS: return ga_graph_add_documents(g, s->list, s->nlist, (int)s->a);
    }
    return GA_ERR_INTERNAL;
}

/* Compare a graph of the given component specs against the brute-force union, row by row:
 * sorted keys (ga_graph_row), degree, contains, edge count, and to_csr. */
static void check_union(const spec_t *specs, int n, int64_t nq, int64_t nk) {
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    for (int c = 0; c < n; c++) ASSERT_OK(add(g, &specs[c]));
    int64_t *keys = malloc((size_t)nk * sizeof *keys), total = 0;
    for (int64_t i = 0; i < nq; i++) {
        int64_t deg = -1;
        ga_status st = ga_graph_row(g, nq, nk, i, keys, nk, &deg);
        if (st != GA_OK) { EXPECT_STATUS(st, GA_OK); break; }
        int64_t want = 0, pos = 0, bad = 0;
        for (int64_t j = 0; j < nk; j++) {
            int in = 0;
            for (int c = 0; c < n; c++) in |= brute(&specs[c], i, j, nq, nk);
            if (in) {
                want++;
                if (pos >= deg || keys[pos] != j) bad = 1;
                pos++;
            }
        }
        if (deg != want || bad) {
            ga_test_fail(__FILE__, __LINE__, "kind %d (+%d more) nq=%lld nk=%lld row %lld: degree %lld want %lld%s",
                         specs[0].kind, n - 1, (long long)nq, (long long)nk, (long long)i, (long long)deg,
                         (long long)want, bad ? ", keys differ" : "");
            break;
        }
        total += want;
    }
    int64_t edges = -1;
    EXPECT_STATUS(ga_graph_count_edges(g, nq, nk, &edges), GA_OK);
    EXPECT_EQ_I64(edges, total);
    free(keys);
    ga_graph_destroy(g);
}

static const int64_t sizes[][2] = {{1, 1}, {2, 2}, {3, 3}, {7, 7}, {16, 16}, {31, 31}, {64, 64}, {67, 67},
                                   {5, 9}, {9, 5}, {1, 13}, {13, 1}, {40, 70}, {70, 40}};
#define NSIZES (int)(sizeof sizes / sizeof sizes[0])

static void check_all_sizes(const spec_t *s) {
    for (int z = 0; z < NSIZES; z++) {
        check_union(s, 1, sizes[z][0], sizes[z][1]);
        if (ga_test_failures()) return;
    }
}

TEST(dense_matches_brute_force) { spec_t s = {GA_COMP_DENSE, 0, 0, 0, 0, 0, NULL, 0}; check_all_sizes(&s); }
TEST(causal_is_bottom_right_aligned) { spec_t s = {GA_COMP_CAUSAL, 0, 0, 0, 0, 0, NULL, 0}; check_all_sizes(&s); }

TEST(window_matches_brute_force) {
    const int64_t ext[][2] = {{0, 0}, {1, 1}, {3, 0}, {0, 3}, {2, 5}, {8, 8}, {100, 100}};
    for (int e = 0; e < 7; e++) {
        spec_t s = {GA_COMP_WINDOW, ext[e][0], ext[e][1], 0, 0, 0, NULL, 0};
        check_all_sizes(&s);
    }
}

TEST(dilated_matches_brute_force) {
    const int64_t ws[][2] = {{0, 1}, {1, 1}, {2, 2}, {3, 5}, {4, 3}, {1, 40}};
    for (int e = 0; e < 6; e++) {
        spec_t s = {GA_COMP_DILATED, ws[e][0], ws[e][1], 0, 0, 0, NULL, 0};
        check_all_sizes(&s);
    }
}

TEST(blocks_matches_brute_force) {
    const int64_t bs[] = {1, 2, 3, 8, 64, 1000};
    for (int e = 0; e < 6; e++) {
        spec_t s = {GA_COMP_BLOCKS, bs[e], 0, 0, 0, 0, NULL, 0};
        check_all_sizes(&s);
    }
}

TEST(longnet_matches_brute_force) {
    const int64_t p[][3] = {{4, 1, 0}, {8, 2, 0}, {8, 2, 1}, {9, 3, 2}, {16, 4, 3}, {5, 7, 6}};
    for (int e = 0; e < 6; e++) {
        spec_t s = {GA_COMP_LONGNET, p[e][0], p[e][1], p[e][2], 0, 0, NULL, 0};
        check_all_sizes(&s);
    }
}

TEST(global_matches_brute_force) {
    const int64_t l1[] = {0}, l2[] = {0, 3, 5};
    spec_t s1 = {GA_COMP_GLOBAL, 0, 0, 0, 0, 0, l1, 1};
    check_all_sizes(&s1);
    spec_t s2 = {GA_COMP_GLOBAL, 0, 0, 0, 0, 0, l2, 3};
    /* tokens must be < max(nq, nk): only sizes where 5 fits */
    for (int z = 0; z < NSIZES; z++)
        if ((sizes[z][0] > sizes[z][1] ? sizes[z][0] : sizes[z][1]) > 5) check_union(&s2, 1, sizes[z][0], sizes[z][1]);
}

TEST(random_matches_brute_force) {
    const int64_t rs[] = {1, 2, 3, 16, 100};
    for (int e = 0; e < 5; e++) {
        spec_t s = {GA_COMP_RANDOM, rs[e], 0, 0, 0, 12345 + (uint64_t)e, NULL, 0};
        check_all_sizes(&s);
    }
}

TEST(random_gives_min_r_nk_distinct_keys_per_row) {
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_random(g, 16, 7));
    for (int64_t nk = 1; nk < 40; nk += 3) {
        ga_degree_stats st;
        ASSERT_OK(ga_graph_degree_stats(g, 11, nk, &st));
        EXPECT_EQ_I64(st.min_degree, nk < 16 ? nk : 16);
        EXPECT_EQ_I64(st.max_degree, nk < 16 ? nk : 16);
    }
    ga_graph_destroy(g);
}

TEST(bigbird_matches_brute_force) {
    const int64_t p[][4] = {{1, 1, 1, 1}, {2, 1, 1, 2}, {4, 0, 0, 1}, {4, 1, 2, 2}, {3, 2, 0, 3}, {8, 1, 1, 0}};
    for (int e = 0; e < 6; e++) {
        spec_t s = {GA_COMP_BIGBIRD, p[e][0], p[e][1], p[e][2], p[e][3], 99 + (uint64_t)e, NULL, 0};
        check_all_sizes(&s);
    }
}

TEST(documents_match_brute_force_bidirectional_and_causal) {
    /* one document; cu_seqlens-style lists with 0 and a bound past every size; single-token
     * documents; bounds only near the end */
    static const int64_t l1[] = {5}, l2[] = {0, 3, 4, 9, 1000}, l3[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
                         l4[] = {30, 31, 66}, l5[] = {0}, l6[] = {0, 3, 3, 3, 8, 8, 40}; /* repeats: empty sequences */
    const struct { const int64_t *l; int64_t n; } lists[] = {{l1, 1}, {l2, 5}, {l3, 10}, {l4, 3}, {l5, 1}, {l6, 7}};
    for (int e = 0; e < 6; e++)
        for (int causal = 0; causal < 2; causal++) {
            spec_t s = {GA_COMP_DOCUMENTS, causal, 0, 0, 0, 0, lists[e].l, lists[e].n};
            check_all_sizes(&s);
        }
}

TEST(documents_in_unions_count_each_edge_once) {
    /* documents first with Nq > Nk: the rows before the first key must have no document edges
     * (the global token's column is the only key they see) */
    static const int64_t b[] = {0, 10, 17, 40}, b2[] = {5, 17}, gl[] = {0, 12}, g0[] = {0};
    spec_t docs_global[] = {{GA_COMP_DOCUMENTS, 0, 0, 0, 0, 0, b, 4}, {GA_COMP_GLOBAL, 0, 0, 0, 0, 0, gl, 2}};
    spec_t window_docs[] = {{GA_COMP_WINDOW, 3, 0, 0, 0, 0, NULL, 0}, {GA_COMP_DOCUMENTS, 1, 0, 0, 0, 0, b, 4}};
    spec_t docs_then_global[] = {{GA_COMP_DOCUMENTS, 0, 0, 0, 0, 0, b2, 2}, {GA_COMP_GLOBAL, 0, 0, 0, 0, 0, g0, 1}};
    for (int z = 0; z < NSIZES; z++) {
        check_union(window_docs, 2, sizes[z][0], sizes[z][1]);
        check_union(docs_then_global, 2, sizes[z][0], sizes[z][1]);
        if ((sizes[z][0] > sizes[z][1] ? sizes[z][0] : sizes[z][1]) > 12) check_union(docs_global, 2, sizes[z][0], sizes[z][1]);
    }
    check_union(docs_then_global, 2, 9, 5);
    check_union(docs_then_global, 2, 70, 40);
}

TEST(documents_reject_bad_bounds_and_store_nothing) {
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    static const int64_t down[] = {5, 4}, neg[] = {-1, 3}, ok[] = {0, 8};
    EXPECT_STATUS(ga_graph_add_documents(g, down, 2, 0), GA_ERR_BAD_PARAMETER);
    EXPECT_STATUS(ga_graph_add_documents(g, neg, 2, 1), GA_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_STATUS(ga_graph_add_documents(g, ok, 0, 0), GA_ERR_BAD_SIZE);
    EXPECT_STATUS(ga_graph_add_documents(g, NULL, 2, 0), GA_ERR_NULL_POINTER);
    EXPECT_STATUS(ga_graph_add_documents(NULL, ok, 2, 0), GA_ERR_NULL_POINTER);
    EXPECT_EQ_I64(ga_graph_component_count(g), 0);
    ASSERT_OK(ga_graph_add_documents(g, ok, 2, 1));
    EXPECT_EQ_I64(ga_graph_component_count(g), 1);
    EXPECT_EQ_I64(ga_graph_component_kind(g, 0), GA_COMP_DOCUMENTS);
    ga_graph_destroy(g);
}

TEST(union_counts_each_edge_once) {
    /* Longformer and BigBird-like unions, heavily overlapping components */
    const int64_t gl[] = {0, 4};
    spec_t lf[] = {{GA_COMP_WINDOW, 3, 3, 0, 0, 0, NULL, 0}, {GA_COMP_GLOBAL, 0, 0, 0, 0, 0, gl, 2}};
    spec_t bb[] = {{GA_COMP_WINDOW, 2, 2, 0, 0, 0, NULL, 0}, {GA_COMP_GLOBAL, 0, 0, 0, 0, 0, gl, 2},
                   {GA_COMP_RANDOM, 3, 0, 0, 0, 5, NULL, 0}};
    spec_t many[] = {{GA_COMP_CAUSAL, 0, 0, 0, 0, 0, NULL, 0}, {GA_COMP_WINDOW, 4, 4, 0, 0, 0, NULL, 0},
                     {GA_COMP_DILATED, 3, 3, 0, 0, 0, NULL, 0}, {GA_COMP_BLOCKS, 8, 0, 0, 0, 0, NULL, 0},
                     {GA_COMP_BIGBIRD, 4, 1, 1, 1, 3, NULL, 0}, {GA_COMP_DENSE, 0, 0, 0, 0, 0, NULL, 0}};
    for (int z = 0; z < NSIZES; z++) {
        if ((sizes[z][0] > sizes[z][1] ? sizes[z][0] : sizes[z][1]) <= 4) continue;
        check_union(lf, 2, sizes[z][0], sizes[z][1]);
        check_union(bb, 3, sizes[z][0], sizes[z][1]);
        check_union(many, 6, sizes[z][0], sizes[z][1]);
    }
}

TEST(window_counts_edges_in_closed_form_at_large_n) {
    /* |i-j| <= 256 over N = 2^20: N*513 - 2*(256*257/2) */
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_window(g, 256, 256));
    int64_t n = (int64_t)1 << 20, edges = 0;
    ASSERT_OK(ga_graph_count_edges(g, n, n, &edges));
    EXPECT_EQ_I64(edges, n * 513 - 256 * 257);
    ga_graph_destroy(g);
}

/* ga_graph_degree_stats' figures equal those read row by row (ga_graph_row, the oracle); on a
 * difference, a failure naming `what`, the size and both figures, and 0. */
static int degree_stats_match_rows(const char *what, const ga_graph *g, int64_t nq, int64_t nk) {
    ga_degree_stats st, w = {0, INT64_MAX, 0, 0, 0};
    for (int64_t i = 0; i < nq; i++) {
        int64_t d = -1;
        ga_status s = ga_graph_row(g, nq, nk, i, NULL, 0, &d);
        if (s != GA_OK) {
            ga_test_fail(__FILE__, __LINE__, "%s: row %lld: %s (%s)", what, (long long)i, ga_status_string(s),
                         ga_last_error_detail());
            return 0;
        }
        w.edges += d;
        w.min_degree = d < w.min_degree ? d : w.min_degree;
        w.max_degree = d > w.max_degree ? d : w.max_degree;
        w.empty_rows += d == 0;
    }
    ga_status s = ga_graph_degree_stats(g, nq, nk, &st);
    if (s == GA_OK && st.edges == w.edges && st.min_degree == w.min_degree && st.max_degree == w.max_degree &&
        st.empty_rows == w.empty_rows)
        return 1;
    if (s != GA_OK)
        ga_test_fail(__FILE__, __LINE__, "%s: degree_stats: %s (%s)", what, ga_status_string(s), ga_last_error_detail());
    else
        ga_test_fail(__FILE__, __LINE__, "%s at %lld x %lld: edges %lld / %lld, min %lld / %lld, max %lld / %lld, "
                     "empty %lld / %lld (stats / rows)", what, (long long)nq, (long long)nk, (long long)st.edges,
                     (long long)w.edges, (long long)st.min_degree, (long long)w.min_degree, (long long)st.max_degree,
                     (long long)w.max_degree, (long long)st.empty_rows, (long long)w.empty_rows);
    return 0;
}

/* window:3 (with global:0 when `global`) at n x n: degree_stats gives these figures, and no row
 * without edges (at n = 2^40 a row walk would take hours: the closed form's own check). */
static void expect_window3_stats_at(int64_t n, int global, int64_t edges, int64_t mn, int64_t mx) {
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    const int64_t zero = 0;
    ga_status s = ga_graph_add_window(g, 3, 3);
    if (s == GA_OK && global) s = ga_graph_add_global(g, &zero, 1);
    ga_degree_stats st = {0, 0, 0, -1, 0};
    if (s == GA_OK) s = ga_graph_degree_stats(g, n, n, &st);
    if (s != GA_OK) ga_test_fail(__FILE__, __LINE__, "%s (%s)", ga_status_string(s), ga_last_error_detail());
    ga_graph_destroy(g);
    if (s != GA_OK) return;
    EXPECT_EQ_I64(st.edges, edges);
    EXPECT_EQ_I64(st.min_degree, mn);
    EXPECT_EQ_I64(st.max_degree, mx);
    EXPECT_EQ_I64(st.empty_rows, 0);
}

/* One dense, causal or window component: degree_stats reads a few rows (the clamps' kinks), not
 * every one; edges, least, most and empty rows equal the row-by-row figures over 3000 random
 * shapes (Nq, Nk in [1, 300], left and right in [0, 400] or up to 2^50), and 2^40 rows answer in
 * closed form. */
TEST(degree_stats_of_one_window_causal_or_dense_match_every_rows_degrees) {
    uint64_t rng = 12345;
#define ga_splitmix(r) splitmix(12345, (int64_t)(*(r))++, 7)
    for (int t = 0; t < 3000; t++) {
        const int64_t nq = 1 + (int64_t)(ga_splitmix(&rng) % 300), nk = 1 + (int64_t)(ga_splitmix(&rng) % 300);
        const int kind = (int)(ga_splitmix(&rng) % 3);
        int64_t L = (int64_t)(ga_splitmix(&rng) % 401), R = (int64_t)(ga_splitmix(&rng) % 401);
        if (ga_splitmix(&rng) % 8 == 0) L = (int64_t)1 << 50;
        if (ga_splitmix(&rng) % 8 == 0) R = (int64_t)1 << 50;
        if (ga_splitmix(&rng) % 4 == 0) R = 0;
        ga_graph *g;
        ASSERT_OK(ga_graph_create(&g));
        if (kind == 0) ASSERT_OK(ga_graph_add_dense(g));
        else if (kind == 1) ASSERT_OK(ga_graph_add_causal(g));
        else ASSERT_OK(ga_graph_add_window(g, L, R));
        char what[96];
        snprintf(what, sizeof what, "kind %d L %lld R %lld", kind, (long long)L, (long long)R);
        const int same = degree_stats_match_rows(what, g, nq, nk);
        ga_graph_destroy(g);
        if (!same) return;
    }
#undef ga_splitmix
    /* 2^40 rows of window:3 (rows 0-2 and the last 3 short): 7 * 2^40 - 2 * (3 + 2 + 1) */
    const int64_t n = (int64_t)1 << 40;
    expect_window3_stats_at(n, 0, 7 * n - 12, 4, 7);
}

/* Unions of dense, causal and window components with a global list (Longformer's shape): the
 * closed form (breakpoints where a clamp starts or ends, a listed key enters or leaves the
 * interval, and the listed rows) gives the row-by-row figures over 3000 random unions, lists
 * holding tokens past the shorter of Nq and Nk among them; 2^40 rows answer without a walk. */
TEST(degree_stats_of_intervals_with_a_global_list_match_every_rows_degrees) {
    uint64_t rng = 777;
#define ga_splitmix(r) splitmix(777, (int64_t)(*(r))++, 11)
    for (int t = 0; t < 3000; t++) {
        const int64_t nq = 1 + (int64_t)(ga_splitmix(&rng) % 200), nk = 1 + (int64_t)(ga_splitmix(&rng) % 200);
        ga_graph *g;
        ASSERT_OK(ga_graph_create(&g));
        const int nint = (int)(ga_splitmix(&rng) % 4); /* 0-3 interval components */
        char what[224] = "";
        for (int c = 0; c < nint; c++) {
            const int kind = (int)(ga_splitmix(&rng) % 4);
            int64_t L = (int64_t)(ga_splitmix(&rng) % 250), R = (int64_t)(ga_splitmix(&rng) % 250);
            if (ga_splitmix(&rng) % 3 == 0) R = 0;
            if (ga_splitmix(&rng) % 10 == 0) L = (int64_t)1 << 50;
            if (kind == 0) ASSERT_OK(ga_graph_add_dense(g));
            else if (kind == 1) ASSERT_OK(ga_graph_add_causal(g));
            else ASSERT_OK(ga_graph_add_window(g, L, R));
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s(%lld,%lld)", c ? "+" : "",
                     kind == 0 ? "dense" : kind == 1 ? "causal" : "window", (long long)L, (long long)R);
        }
        int64_t toks[12];
        const int ntok = (int)(ga_splitmix(&rng) % 13) - (nint == 0 ? 0 : 1);
        for (int c = 0; c < ntok; c++) /* repeats, and past the shorter of nq and nk */
            toks[c] = (int64_t)(ga_splitmix(&rng) % (uint64_t)(nq > nk ? nq : nk));
        if (ntok > 0) ASSERT_OK(ga_graph_add_global(g, toks, ntok));
        if (nint == 0 && ntok <= 0) { ga_graph_destroy(g); continue; }
        snprintf(what + strlen(what), sizeof what - strlen(what), " + %d global tokens", ntok);
        const int same = degree_stats_match_rows(what, g, nq, nk);
        ga_graph_destroy(g);
        if (!same) return;
    }
#undef ga_splitmix
    /* 2^40 rows of window:3 + global:0: row 0 holds all n keys; rows 1-3 their window (5, 6, 7
     * keys, key 0 inside); every later row its window plus key 0 (7 + 1, the last three 6, 5, 4
     * + 1): n + 18 + (7n - 34) + (n - 4) */
    const int64_t n = (int64_t)1 << 40;
    expect_window3_stats_at(n, 1, 9 * n - 20, 5, n);
}

TEST(edge_counts_past_int64_are_overflow_and_below_it_exact) {
    /* dense over Nk = 2^40 keys: (2^23 - 1) rows have 2^63 - 2^40 edges, which int64 holds; 2^23
     * rows have 2^63 and 2^24 rows 2^64, which it does not (the sum used to wrap silently) */
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_dense(g));
    const int64_t nk = (int64_t)1 << 40, rows = ((int64_t)1 << 23) - 1;
    int64_t edges = -1;
    ASSERT_OK(ga_graph_count_edges(g, rows, nk, &edges));
    EXPECT_EQ_I64(edges, rows * nk);
    edges = -7;
    EXPECT_STATUS(ga_graph_count_edges(g, rows + 1, nk, &edges), GA_ERR_OVERFLOW);
    EXPECT_STATUS(ga_graph_count_edges(g, (int64_t)1 << 24, nk, &edges), GA_ERR_OVERFLOW);
    EXPECT_EQ_I64(edges, -7);
    ga_graph_destroy(g);
}

TEST(row_writes_its_keys_only_when_they_all_fit) {
    /* global:9 + window:1 over 10 x 10, row 5: keys {4, 5, 6, 9} (the generator yields 9 first) */
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    const int64_t tok[] = {9};
    ASSERT_OK(ga_graph_add_global(g, tok, 1));
    ASSERT_OK(ga_graph_add_window(g, 1, 1));
    int64_t keys[4] = {-7, -7, -7, -7}, degree = 0;
    ASSERT_OK(ga_graph_row(g, 10, 10, 5, keys, 2, &degree));
    EXPECT_EQ_I64(degree, 4);
    for (int x = 0; x < 4; x++) EXPECT_EQ_I64(keys[x], -7);
    ASSERT_OK(ga_graph_row(g, 10, 10, 5, keys, 4, &degree));
    EXPECT_EQ_I64(degree, 4);
    const int64_t want[] = {4, 5, 6, 9};
    for (int x = 0; x < 4; x++) EXPECT_EQ_I64(keys[x], want[x]);
    ga_graph_destroy(g);
}

/* ---- explicit graphs ------------------------------------------------------------------------ */

/* int32 column indices reach 2^31 - 1, so they address up to 2^31 columns: a CSR or COO of
 * int32 indices over exactly 2^31 keys (what `graphattn export --index int32` writes at
 * Nk = 2^31) is taken and reads back its last key; one column more needs int64. */
TEST(int32_indices_address_up_to_2_31_columns) {
    const int64_t ncols = (int64_t)1 << 31;
    const int64_t ptr[] = {0, 1, 2};
    const int32_t col[] = {0, INT32_MAX}, rows[] = {0, 1};
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    EXPECT_STATUS(ga_graph_add_csr(g, 2, ncols + 1, ptr, col, GA_INDEX_INT32), GA_ERR_BAD_DTYPE);
    EXPECT_STATUS(ga_graph_add_coo(g, 2, ncols + 1, 2, rows, col, GA_INDEX_INT32), GA_ERR_BAD_DTYPE);
    EXPECT_EQ_I64(ga_graph_component_count(g), 0);
    ASSERT_OK(ga_graph_add_csr(g, 2, ncols, ptr, col, GA_INDEX_INT32));
    int64_t keys[2] = {-1, -1}, deg = -1, edges = -1;
    ASSERT_OK(ga_graph_row(g, 2, ncols, 1, keys, 2, &deg));
    EXPECT_EQ_I64(deg, 1);
    EXPECT_EQ_I64(keys[0], INT32_MAX);
    ASSERT_OK(ga_graph_count_edges(g, 2, ncols, &edges));
    EXPECT_EQ_I64(edges, 2);
    ga_graph_destroy(g);
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_coo(g, 2, ncols, 2, rows, col, GA_INDEX_INT32));
    ASSERT_OK(ga_graph_row(g, 2, ncols, 1, keys, 2, &deg));
    EXPECT_EQ_I64(deg, 1);
    EXPECT_EQ_I64(keys[0], INT32_MAX);
    ga_graph_destroy(g);
}

TEST(csr_component_matches_its_arrays) {
    const int64_t ptr[] = {0, 2, 2, 5};
    const int32_t col[] = {1, 3, 0, 2, 3};
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_csr(g, 3, 4, ptr, col, GA_INDEX_INT32));
    int64_t keys[4], deg;
    ASSERT_OK(ga_graph_row(g, 3, 4, 0, keys, 4, &deg));
    EXPECT_EQ_I64(deg, 2); EXPECT_EQ_I64(keys[0], 1); EXPECT_EQ_I64(keys[1], 3);
    ASSERT_OK(ga_graph_row(g, 3, 4, 1, keys, 4, &deg));
    EXPECT_EQ_I64(deg, 0);
    ASSERT_OK(ga_graph_row(g, 3, 4, 2, keys, 4, &deg));
    EXPECT_EQ_I64(deg, 3); EXPECT_EQ_I64(keys[2], 3);
    EXPECT_STATUS(ga_graph_check(g, 3, 5), GA_ERR_GRAPH_MISMATCH);
    EXPECT_STATUS(ga_graph_check(g, 4, 4), GA_ERR_GRAPH_MISMATCH);
    ga_graph_destroy(g);
}

/* ncols 0: the key count is open, the largest index + 1 a lower bound, as for a csr:/coo: spec's
 * files (which do not store it): any Nk from there on fits, keys past it have no edges; fewer
 * keys do not fit, and the message says "at least". Rows stay exact. */
TEST(csr_and_coo_with_ncols_0_take_any_key_count_above_their_largest_index) {
    const int64_t ptr[] = {0, 2, 2, 3}; /* 3 rows, columns up to 4 */
    const int32_t col[] = {1, 4, 0};
    const int64_t row[] = {2, 0, 0}, colc[] = {0, 4, 1};
    for (int as_coo = 0; as_coo < 2; as_coo++) {
        ga_graph *g;
        ASSERT_OK(ga_graph_create(&g));
        if (as_coo) ASSERT_OK(ga_graph_add_coo(g, 3, 0, 3, row, colc, GA_INDEX_INT64));
        else ASSERT_OK(ga_graph_add_csr(g, 3, 0, ptr, col, GA_INDEX_INT32));
        for (int64_t nk = 5; nk <= 9; nk += 4) {
            ASSERT_OK(ga_graph_check(g, 3, nk));
            int64_t edges, keys[9], deg;
            ASSERT_OK(ga_graph_count_edges(g, 3, nk, &edges));
            EXPECT_EQ_I64(edges, 3);
            ASSERT_OK(ga_graph_row(g, 3, nk, 0, keys, 9, &deg));
            EXPECT_EQ_I64(deg, 2); EXPECT_EQ_I64(keys[0], 1); EXPECT_EQ_I64(keys[1], 4);
        }
        EXPECT_STATUS(ga_graph_check(g, 3, 4), GA_ERR_GRAPH_MISMATCH);
        EXPECT_TRUE(strstr(ga_last_error_detail(), "3 x at least 5") != NULL);
        EXPECT_STATUS(ga_graph_check(g, 4, 5), GA_ERR_GRAPH_MISMATCH); /* rows: exact */
        ga_graph_destroy(g);
    }
    /* an index range or order error is still named as with a count given (0 columns to hold it) */
    const int32_t unsorted[] = {4, 1, 0}, negative[] = {-1, 4, 0};
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    EXPECT_STATUS(ga_graph_add_csr(g, 3, 0, ptr, unsorted, GA_INDEX_INT32), GA_ERR_INDEX_UNSORTED);
    EXPECT_STATUS(ga_graph_add_csr(g, 3, 0, ptr, negative, GA_INDEX_INT32), GA_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_EQ_I64(ga_graph_component_count(g), 0);
    ga_graph_destroy(g);
}

TEST(csr_union_with_window_counts_shared_edges_once) {
    /* window(1,1) over 4x4 plus a csr that repeats some window edges and adds (0,3) */
    const int64_t ptr[] = {0, 2, 3, 3, 4};
    const int64_t col[] = {1, 3, 1, 0};
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_window(g, 1, 1));
    ASSERT_OK(ga_graph_add_csr(g, 4, 4, ptr, col, GA_INDEX_INT64));
    int64_t edges;
    ASSERT_OK(ga_graph_count_edges(g, 4, 4, &edges));
    EXPECT_EQ_I64(edges, 10 + 2); /* window has 10; csr adds (0,3) and (3,0) */
    ga_graph_destroy(g);
}

TEST(coo_is_converted_to_sorted_csr) {
    const int64_t row[] = {2, 0, 2, 0, 1};
    const int64_t col[] = {3, 2, 0, 1, 1};
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_coo(g, 3, 4, 5, row, col, GA_INDEX_INT64));
    int64_t ptr[4], idx[5];
    ASSERT_OK(ga_graph_to_csr(g, 3, 4, ptr, idx, 5));
    const int64_t wp[] = {0, 2, 3, 5}, wi[] = {1, 2, 1, 0, 3};
    for (int x = 0; x < 4; x++) EXPECT_EQ_I64(ptr[x], wp[x]);
    for (int x = 0; x < 5; x++) EXPECT_EQ_I64(idx[x], wi[x]);
    ga_graph_destroy(g);
}

TEST(csr_validation_gives_one_status_per_failure_class) {
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    const int64_t ok_ptr[] = {0, 1, 2};
    const int64_t ok_col[] = {0, 1};
    const int64_t bad_start[] = {1, 1, 2};
    const int64_t decreasing[] = {0, 2, 1};
    const int64_t out_of_range[] = {0, 2};
    const int64_t negative[] = {-1, 0};
    const int64_t p2[] = {0, 2, 2};
    const int64_t dup[] = {1, 1};
    const int64_t unsorted[] = {1, 0};
    EXPECT_STATUS(ga_graph_add_csr(g, 2, 2, NULL, ok_col, GA_INDEX_INT64), GA_ERR_NULL_POINTER);
    EXPECT_STATUS(ga_graph_add_csr(g, 0, 2, ok_ptr, ok_col, GA_INDEX_INT64), GA_ERR_BAD_SIZE);
    EXPECT_STATUS(ga_graph_add_csr(g, 2, -1, ok_ptr, ok_col, GA_INDEX_INT64), GA_ERR_BAD_SIZE);
    EXPECT_STATUS(ga_graph_add_csr(g, 2, 2, bad_start, ok_col, GA_INDEX_INT64), GA_ERR_ROW_PTR_START);
    EXPECT_STATUS(ga_graph_add_csr(g, 2, 2, decreasing, ok_col, GA_INDEX_INT64), GA_ERR_ROW_PTR_NOT_MONOTONE);
    EXPECT_STATUS(ga_graph_add_csr(g, 2, 2, ok_ptr, out_of_range, GA_INDEX_INT64), GA_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_STATUS(ga_graph_add_csr(g, 2, 2, ok_ptr, negative, GA_INDEX_INT64), GA_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_STATUS(ga_graph_add_csr(g, 2, 2, p2, dup, GA_INDEX_INT64), GA_ERR_INDEX_DUPLICATE);
    EXPECT_STATUS(ga_graph_add_csr(g, 2, 2, p2, unsorted, GA_INDEX_INT64), GA_ERR_INDEX_UNSORTED);
    EXPECT_STATUS(ga_graph_add_csr(g, 2, 2, ok_ptr, ok_col, (ga_index_type)7), GA_ERR_BAD_DTYPE);
    EXPECT_EQ_I64(ga_graph_component_count(g), 0); /* nothing was added by a rejected call */
    EXPECT_STATUS(ga_graph_add_csr(g, 2, 2, ok_ptr, ok_col, GA_INDEX_INT64), GA_OK);
    EXPECT_EQ_I64(ga_graph_component_count(g), 1);
    ga_graph_destroy(g);
}

/* The CSR check runs over the rows in parallel; what it reports must still be the first bad row
 * (as a serial scan finds it), whatever else is wrong further down, in both index types. */
TEST(csr_validation_reports_the_first_bad_row_of_many) {
    const int64_t n = 5000, deg = 3, ncols = n + 10;
    int64_t *ptr = malloc((size_t)(n + 1) * 8), *col = malloc((size_t)(n * deg) * 8);
    int32_t *col32 = malloc((size_t)(n * deg) * 4);
    ASSERT_TRUE(ptr && col && col32);
    ptr[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t t = 0; t < deg; t++) col[i * deg + t] = i + t;
        ptr[i + 1] = ptr[i] + deg;
    }
    struct {
        int64_t row, slot, value;
        ga_status want;
        const char *says;
    } cases[] = {
        {4321, 1, 4321, GA_ERR_INDEX_DUPLICATE, "row 4321"},      /* only a late duplicate */
        {77, 2, 0, GA_ERR_INDEX_UNSORTED, "row 77 "},             /* an early unsorted row wins over it */
        {3, 0, -5, GA_ERR_INDEX_OUT_OF_RANGE, "row 3 "},          /* an earlier negative column wins */
        {2, 2, ncols, GA_ERR_INDEX_OUT_OF_RANGE, "row 2 "},       /* and a column past the end before it */
    };
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        col[cases[c].row * deg + cases[c].slot] = cases[c].value; /* the bad rows accumulate */
        for (int64_t e = 0; e < n * deg; e++) col32[e] = (int32_t)col[e];
        EXPECT_STATUS(ga_graph_add_csr(g, n, ncols, ptr, col, GA_INDEX_INT64), cases[c].want);
        EXPECT_TRUE(strstr(ga_last_error_detail(), cases[c].says) != NULL);
        EXPECT_STATUS(ga_graph_add_csr(g, n, ncols, ptr, col32, GA_INDEX_INT32), cases[c].want);
        EXPECT_TRUE(strstr(ga_last_error_detail(), cases[c].says) != NULL);
    }
    /* row_ptr decreasing in two places: the first is named */
    ptr[4000] = ptr[3999] - 1;
    ptr[1200] = ptr[1199] - 1;
    EXPECT_STATUS(ga_graph_add_csr(g, n, ncols, ptr, col, GA_INDEX_INT64), GA_ERR_ROW_PTR_NOT_MONOTONE);
    EXPECT_TRUE(strstr(ga_last_error_detail(), "at row 1199 ") != NULL);
    EXPECT_EQ_I64(ga_graph_component_count(g), 0);
    ga_graph_destroy(g);
    free(ptr), free(col), free(col32);
}

TEST(coo_validation_rejects_duplicates_and_out_of_range) {
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    const int32_t r[] = {0, 1, 0}, c_dup[] = {1, 0, 1}, c_big[] = {1, 0, 5}, r_neg[] = {0, -1, 0};
    EXPECT_STATUS(ga_graph_add_coo(g, 2, 2, 3, r, c_dup, GA_INDEX_INT32), GA_ERR_INDEX_DUPLICATE);
    EXPECT_STATUS(ga_graph_add_coo(g, 2, 2, 3, r, c_big, GA_INDEX_INT32), GA_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_STATUS(ga_graph_add_coo(g, 2, 2, 3, r_neg, c_dup, GA_INDEX_INT32), GA_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_STATUS(ga_graph_add_coo(g, 2, 2, -1, r, c_dup, GA_INDEX_INT32), GA_ERR_BAD_SIZE);
    EXPECT_EQ_I64(ga_graph_component_count(g), 0);
    ga_graph_destroy(g);
}

TEST(component_parameters_are_validated) {
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    const int64_t neg[] = {3, -2};
    EXPECT_STATUS(ga_graph_add_window(g, -1, 3), GA_ERR_BAD_PARAMETER);
    EXPECT_STATUS(ga_graph_add_dilated(g, 2, 0), GA_ERR_BAD_PARAMETER);
    EXPECT_STATUS(ga_graph_add_blocks(g, 0), GA_ERR_BAD_PARAMETER);
    EXPECT_STATUS(ga_graph_add_longnet(g, 8, 2, 2), GA_ERR_BAD_PARAMETER);
    EXPECT_STATUS(ga_graph_add_random(g, 0, 1), GA_ERR_BAD_PARAMETER);
    EXPECT_STATUS(ga_graph_add_bigbird(g, 0, 1, 1, 1, 1), GA_ERR_BAD_PARAMETER);
    EXPECT_STATUS(ga_graph_add_global(g, neg, 2), GA_ERR_INDEX_OUT_OF_RANGE);
    /* the message gives the list position and the value apart ("token 1 is negative (-2)" read as
     * token 1 itself) */
    EXPECT_TRUE(strstr(ga_last_error_detail(), "tokens[1] = -2 is negative") != NULL);
    EXPECT_STATUS(ga_graph_add_documents(g, neg, 2, 0), GA_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_TRUE(strstr(ga_last_error_detail(), "bounds[1] = -2 is negative") != NULL);
    EXPECT_STATUS(ga_graph_add_global(g, neg, 0), GA_ERR_BAD_SIZE);
    EXPECT_STATUS(ga_graph_add_window(NULL, 1, 1), GA_ERR_NULL_POINTER);
    EXPECT_EQ_I64(ga_graph_component_count(g), 0);
    EXPECT_STATUS(ga_graph_check(g, 4, 4), GA_ERR_EMPTY_GRAPH);
    ga_graph_destroy(g);
}

TEST(global_tokens_must_fit_the_sequence_at_call_time) {
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    const int64_t l[] = {2, 9};
    ASSERT_OK(ga_graph_add_global(g, l, 2));
    EXPECT_STATUS(ga_graph_check(g, 9, 9), GA_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_STATUS(ga_graph_check(g, 10, 10), GA_OK);
    ga_graph_destroy(g);
}

TEST(to_csr_writes_nothing_when_capacity_is_too_small) {
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_window(g, 1, 1));
    int64_t ptr[6] = {-7, -7, -7, -7, -7, -7}, idx[4] = {-7, -7, -7, -7};
    EXPECT_STATUS(ga_graph_to_csr(g, 5, 5, ptr, idx, 4), GA_ERR_BAD_SIZE);
    for (int x = 0; x < 6; x++) EXPECT_EQ_I64(ptr[x], -7);
    for (int x = 0; x < 4; x++) EXPECT_EQ_I64(idx[x], -7);
    ga_graph_destroy(g);
}

/* ---- spec parsing ---------------------------------------------------------------------------- */

static int64_t spec_edges(const char *spec, int64_t n) {
    ga_graph *g;
    if (ga_graph_parse(spec, &g) != GA_OK) return -1;
    int64_t e = -2;
    if (ga_graph_count_edges(g, n, n, &e) != GA_OK) e = -3;
    ga_graph_destroy(g);
    return e;
}

static int64_t api_edges(ga_status (*build)(ga_graph *), int64_t n) {
    ga_graph *g;
    if (ga_graph_create(&g) != GA_OK) return -1;
    int64_t e = -2;
    if (build(g) == GA_OK && ga_graph_count_edges(g, n, n, &e) != GA_OK) e = -3;
    ga_graph_destroy(g);
    return e;
}

static ga_status build_longformer(ga_graph *g) {
    const int64_t l[] = {0, 7, 63};
    GA_TRY(ga_graph_add_window(g, 4, 4));
    return ga_graph_add_global(g, l, 3);
}
static ga_status build_bigbird(ga_graph *g) { return ga_graph_add_bigbird(g, 4, 1, 1, 2, 42); }
static ga_status build_many(ga_graph *g) {
    GA_TRY(ga_graph_add_window(g, 2, 5));
    GA_TRY(ga_graph_add_dilated(g, 3, 4));
    GA_TRY(ga_graph_add_blocks(g, 8));
    GA_TRY(ga_graph_add_longnet(g, 16, 4, 1));
    GA_TRY(ga_graph_add_random(g, 5, 9));
    return ga_graph_add_causal(g);
}

TEST(spec_builds_the_same_graph_as_the_api) {
    EXPECT_EQ_I64(spec_edges("window:4 + global:0,7,63", 64), api_edges(build_longformer, 64));
    EXPECT_EQ_I64(spec_edges("bigbird:4,1,1,2,42", 64), api_edges(build_bigbird, 64));
    EXPECT_EQ_I64(spec_edges(" window:2,5+dilated:3,4 + blocks:8+longnet:16,4,1+random:5,9+causal ", 64),
                  api_edges(build_many, 64));
    EXPECT_EQ_I64(spec_edges("dense", 10), 100);
    EXPECT_EQ_I64(spec_edges("causal", 10), 55);
    /* documents of 3, 4 and 3 tokens over 10: 9 + 16 + 9; causal 6 + 10 + 6 */
    EXPECT_EQ_I64(spec_edges("documents:3,7", 10), 34);
    EXPECT_EQ_I64(spec_edges("documents: 0, 3, 7, 10", 10), 34);
    EXPECT_EQ_I64(spec_edges("causal_documents:0,3,7,10", 10), 22);
    /* 2^K as on the rest of the command line */
    EXPECT_EQ_I64(spec_edges("window:2^3", 64), spec_edges("window:8", 64));
    EXPECT_EQ_I64(spec_edges("blocks:2^0 + global:2^5", 64), spec_edges("blocks:1 + global:32", 64));
}

/* call `what` on `spec` gave st: it must be `want`, with a detail mentioning `needle` */
typedef struct { const char *spec; ga_status want; const char *needle; } spec_error_case;
static void expect_spec_error(const char *what, const spec_error_case *c, ga_status st) {
    if (st != c->want || !strstr(ga_last_error_detail(), c->needle))
        ga_test_fail(__FILE__, __LINE__, "%s '%s': got %s with detail '%s'; want %s mentioning '%s'", what, c->spec,
                     ga_status_string(st), ga_last_error_detail(), ga_status_string(c->want), c->needle);
}

TEST(spec_errors_name_the_offending_part) {
    static const spec_error_case cases[] = {
        {"", GA_ERR_SPEC_SYNTAX, "empty component"},
        {"window:4+", GA_ERR_SPEC_SYNTAX, "offset 9"},
        {"window", GA_ERR_SPEC_SYNTAX, "missing arguments"},
        {"window:x", GA_ERR_SPEC_SYNTAX, "'x' is not an integer"},
        {"window:1,2,3", GA_ERR_SPEC_SYNTAX, "too many"},
        {"windw:4", GA_ERR_SPEC_SYNTAX, "unknown component"},
        {"dense:3", GA_ERR_SPEC_SYNTAX, "takes no arguments"},
        {"window:4 + dilated:3", GA_ERR_SPEC_SYNTAX, "offset 11"},
        {"window:-1", GA_ERR_BAD_PARAMETER, "window:-1"},
        {"global:1,,2", GA_ERR_SPEC_SYNTAX, "empty argument"},
        /* a '+' sign splits the component: the message says why its argument is missing */
        {"window:+3", GA_ERR_SPEC_SYNTAX, "missing arguments ('+' joins components: an integer in a spec takes no"},
        {"random:2, +5", GA_ERR_SPEC_SYNTAX, "empty argument ('+' joins components"},
        {"window", GA_ERR_SPEC_SYNTAX, "missing arguments in component"},
        {"documents:5,3", GA_ERR_BAD_PARAMETER, "nondecreasing"},
        {"causal_documents", GA_ERR_SPEC_SYNTAX, "missing arguments"},
        {"window:99999999999999999999999", GA_ERR_SPEC_SYNTAX, "out of range"},
        {"window:2^63", GA_ERR_SPEC_SYNTAX, "out of range"},
        {"window:2^x", GA_ERR_SPEC_SYNTAX, "'2^x' is not an integer"},
        {"bigbird:2251799813685248,1,0,0,1", GA_ERR_BAD_PARAMETER, "block must be in [1, 2^50]"},
        {"dilated:1,2251799813685248", GA_ERR_BAD_PARAMETER, "step must be in [1, 2^50]"},
        {"bigbird:1125899906842624,2,0,0,1", GA_ERR_BAD_PARAMETER, "block * window blocks"},
        {"bigbird:2^40,0,1025,0,1", GA_ERR_BAD_PARAMETER, "block * global blocks"},
        {"csr:only_one.npy", GA_ERR_SPEC_SYNTAX, "two .npy paths"},
        {"csr:/nonexistent/a.npy,/nonexistent/b.npy", GA_ERR_IO, "a.npy"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ga_graph *g = (ga_graph *)&cases[c]; /* poison: a failed parse leaves it as it was */
        expect_spec_error("spec", &cases[c], ga_graph_parse(cases[c].spec, &g));
        EXPECT_TRUE(g == (ga_graph *)&cases[c]);
    }
    /* a long component (past the list limit) is quoted by its first 60 characters and its length,
     * not in full: 5001 entries, "window:1+documents:0,1,...,5000" */
    char *spec = malloc(40000);
    ASSERT_TRUE(spec != NULL);
    size_t n = (size_t)sprintf(spec, "window:1+documents:0");
    for (int i = 1; i <= 5000; i++) n += (size_t)sprintf(spec + n, ",%d", i);
    ga_graph *g = NULL;
    EXPECT_STATUS(ga_graph_parse(spec, &g), GA_ERR_SPEC_SYNTAX);
    const char *d = ga_last_error_detail();
    EXPECT_TRUE(strstr(d, "too many arguments") != NULL);
    EXPECT_TRUE(strstr(d, "in component 'documents:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,...' (") != NULL);
    char want[64];
    snprintf(want, sizeof want, "(%zu characters) at offset 9", n - 9);
    if (!strstr(d, want)) ga_test_fail(__FILE__, __LINE__, "detail '%s' lacks '%s'", d, want);
    EXPECT_TRUE(strlen(d) < 300);
    free(spec);
}

/* the edges of g over n x n as CSR (caller frees *ptr, *idx); 0 on any failure */
static int graph_csr(const ga_graph *g, int64_t n, int64_t **ptr, int64_t **idx, int64_t *nnz) {
    if (ga_graph_count_edges(g, n, n, nnz) != GA_OK) return 0;
    *ptr = malloc(sizeof(int64_t) * (size_t)(n + 1));
    *idx = malloc(sizeof(int64_t) * (size_t)(*nnz ? *nnz : 1));
    return *ptr && *idx && ga_graph_to_csr(g, n, n, *ptr, *idx, *nnz) == GA_OK;
}

static void expect_same_edges(const ga_graph *a, const ga_graph *b, int64_t n, const char *what) {
    int64_t *pa = NULL, *ia = NULL, *pb = NULL, *ib = NULL, ea = -1, eb = -2;
    const int ok = graph_csr(a, n, &pa, &ia, &ea) && graph_csr(b, n, &pb, &ib, &eb);
    if (!ok || ea != eb || memcmp(pa, pb, sizeof(int64_t) * (size_t)(n + 1)) != 0 ||
        memcmp(ia, ib, sizeof(int64_t) * (size_t)ea) != 0)
        ga_test_fail(__FILE__, __LINE__, "%s: edge sets differ (%lld against %lld edges)", what, (long long)ea,
                     (long long)eb);
    free(pa); free(ia); free(pb); free(ib);
}

TEST(add_spec_appends_its_components_after_those_the_graph_holds) {
    /* explicit arrays first, then two specs after them, each appended in the order written */
    const int64_t ptr[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8}, col[8] = {7, 6, 5, 4, 3, 2, 1, 0}, toks[2] = {0, 5};
    ga_graph *g, *want;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_csr(g, 8, 8, ptr, col, GA_INDEX_INT64));
    ASSERT_OK(ga_graph_add_spec(g, " window:1 + global:0,5 "));
    ASSERT_OK(ga_graph_add_spec(g, "causal"));
    ASSERT_OK(ga_graph_create(&want));
    ASSERT_OK(ga_graph_add_csr(want, 8, 8, ptr, col, GA_INDEX_INT64));
    ASSERT_OK(ga_graph_add_window(want, 1, 1));
    ASSERT_OK(ga_graph_add_global(want, toks, 2));
    ASSERT_OK(ga_graph_add_causal(want));
    EXPECT_EQ_I64(ga_graph_component_count(g), 4);
    const int kinds[4] = {GA_COMP_CSR, GA_COMP_WINDOW, GA_COMP_GLOBAL, GA_COMP_CAUSAL};
    for (int c = 0; c < 4; c++) EXPECT_EQ_I64(ga_graph_component_kind(g, c), kinds[c]);
    expect_same_edges(g, want, 8, "csr + add_spec(window:1 + global:0,5) + add_spec(causal)");
    ga_graph_destroy(g);
    ga_graph_destroy(want);
}

TEST(add_spec_that_fails_anywhere_leaves_the_graph_as_it_was) {
    static const spec_error_case cases[] = {
        {"global:0 + window:-1", GA_ERR_BAD_PARAMETER, "window:-1"},
        {"global:0 + windw:4", GA_ERR_SPEC_SYNTAX, "unknown component"},
        {"global:0 +", GA_ERR_SPEC_SYNTAX, "empty component"},
        {"global:0 + csr:/nonexistent/a.npy,/nonexistent/b.npy", GA_ERR_IO, "a.npy"},
        {"", GA_ERR_SPEC_SYNTAX, "empty component"},
    };
    ga_graph *g, *before;
    ASSERT_OK(ga_graph_parse("window:2 + global:7", &g));
    ASSERT_OK(ga_graph_parse("window:2 + global:7", &before));
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        expect_spec_error("add_spec", &cases[c], ga_graph_add_spec(g, cases[c].spec));
        EXPECT_EQ_I64(ga_graph_component_count(g), 2);
    }
    expect_same_edges(g, before, 20, "after the failed add_spec calls");
    EXPECT_STATUS(ga_graph_add_spec(NULL, "causal"), GA_ERR_NULL_POINTER);
    EXPECT_STATUS(ga_graph_add_spec(g, NULL), GA_ERR_NULL_POINTER);
    EXPECT_EQ_I64(ga_graph_component_count(g), 2);
    ga_graph_destroy(g);
    ga_graph_destroy(before);
}

TEST(hash_is_the_documented_splitmix) {
    for (int64_t r = 0; r < 50; r++)
        for (int64_t t = 0; t < 5; t++) EXPECT_TRUE(ga_hash64(77, r, t) == splitmix(77, r, t));
}
