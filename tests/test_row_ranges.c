/* Explicit graphs whose rows are key intervals (graph/row_ranges.h): found exactly when every row
 * is a nonempty run of consecutive keys with both ends nondecreasing, and then the arrays give
 * back each row's first and last key and the per-tile fewest keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "graph/graph.h"
#include "graph/row_ranges.h"
#include "test.h"

/* The ranges of c against its own rows, entry by entry. */
static void check_ranges(const char *what, const ga_component *c, const ga_row_ranges *r) {
    const int64_t n = c->nrows;
    int64_t fewest = INT64_MAX;
    for (int64_t i = 0; i < n; i++) {
        const int64_t a = c->row_ptr[i], b = c->row_ptr[i + 1];
        if (r->lo[i] != ga_csr_col(c, a) || r->hi[i] != ga_csr_col(c, b - 1)) {
            ga_test_fail(__FILE__, __LINE__, "%s: row %lld: ranges [%lld, %lld], csr [%lld, %lld]", what, (long long)i,
                         (long long)r->lo[i], (long long)r->hi[i], (long long)ga_csr_col(c, a),
                         (long long)ga_csr_col(c, b - 1));
            return;
        }
        if (b - a < fewest) fewest = b - a;
    }
    EXPECT_EQ_I64(r->min_keys, fewest);
    EXPECT_EQ_I64(r->mid_keys, c->row_ptr[n / 2 + 1] - c->row_ptr[n / 2]);
    for (int64_t t = 0; t * GA_RANGES_TILE < n; t++) {
        int64_t m = INT64_MAX;
        for (int64_t i = t * GA_RANGES_TILE; i < n && i < (t + 1) * GA_RANGES_TILE; i++)
            if (c->row_ptr[i + 1] - c->row_ptr[i] < m) m = c->row_ptr[i + 1] - c->row_ptr[i];
        if (r->tile_min[t] != m) {
            ga_test_fail(__FILE__, __LINE__, "%s: tile %lld: fewest keys %lld, want %lld", what, (long long)t,
                         (long long)r->tile_min[t], (long long)m);
            return;
        }
    }
}

static void expect_ranges(const char *spec, int64_t n, int wide, int want) {
    ga_graph *g = ga_test_csr_of(spec, n, wide);
    ASSERT_TRUE(g != NULL);
    ga_row_ranges r;
    int ok = -1;
    ASSERT_OK(ga_row_ranges_build(&g->comps[0], &ok, &r));
    if (ok != want)
        ga_test_fail(__FILE__, __LINE__, "%s at N = %lld (%s columns): interval rows %d, want %d", spec, (long long)n,
                     wide ? "int64" : "int32", ok, want);
    else if (ok)
        check_ranges(spec, &g->comps[0], &r);
    else
        EXPECT_TRUE(r.lo == NULL && r.hi == NULL && r.tile_min == NULL);
    ga_row_ranges_free(&r);
    ga_graph_destroy(g);
}

TEST(bands_causal_dense_and_blocks_are_interval_rows) {
    static const char *specs[] = {"window:5", "window:3,0", "window:0,7", "window:0", "window:300", "causal",
                                  "dense", "blocks:7", "blocks:64", "blocks:1000"};
    static const int64_t sizes[] = {1, 2, 63, 64, 65, 129, 700};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++)
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) expect_ranges(specs[s], sizes[k], (int)(k % 2), 1);
}

TEST(gaps_empty_rows_and_non_monotone_rows_are_not) {
    /* dilated: gaps; a global row attends every key, the next far fewer (hi decreases); random
     * keys: gaps; window + global token 50: row 50 attends all keys */
    expect_ranges("dilated:4,2", 100, 1, 0);
    expect_ranges("window:2+global:0", 100, 1, 0);
    expect_ranges("window:2+global:50", 100, 0, 0);
    expect_ranges("random:3,7", 100, 1, 0);
    /* a row with no edges */
    int64_t ptr[5] = {0, 2, 2, 4, 6}, col[6] = {0, 1, 2, 3, 3, 4};
    ga_graph *g;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_csr(g, 4, 5, ptr, col, GA_INDEX_INT64));
    ga_row_ranges r;
    int ok = -1;
    ASSERT_OK(ga_row_ranges_build(&g->comps[0], &ok, &r));
    EXPECT_EQ_I64(ok, 0);
    ga_graph_destroy(g);
    /* both ends nondecreasing, but every row skips a key */
    int64_t ptr3[4] = {0, 2, 4, 6}, col3[6] = {0, 2, 1, 3, 2, 4};
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_csr(g, 3, 5, ptr3, col3, GA_INDEX_INT64));
    ASSERT_OK(ga_row_ranges_build(&g->comps[0], &ok, &r));
    EXPECT_EQ_I64(ok, 0);
    ga_graph_destroy(g);
    /* lo decreasing: row 1 starts before row 0 */
    int64_t ptr2[3] = {0, 2, 5}, col2[5] = {3, 4, 2, 3, 4};
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_csr(g, 2, 5, ptr2, col2, GA_INDEX_INT64));
    ASSERT_OK(ga_row_ranges_build(&g->comps[0], &ok, &r));
    EXPECT_EQ_I64(ok, 0);
    ga_graph_destroy(g);
}

/* Documents of varying lengths packed in one sequence: every row attends its own document
 * (block-diagonal), or its document up to itself (causal within documents). */
TEST(packed_documents_are_interval_rows) {
    static const int64_t ends[] = {5, 17, 18, 40, 41, 200, 203, 333};
    const int64_t n = 333, nd = (int64_t)(sizeof ends / sizeof *ends);
    for (int causal = 0; causal < 2; causal++) {
        int64_t *ptr = malloc((n + 1) * 8), *col = malloc((size_t)(n * n) * 8), e = 0;
        int64_t start = 0, d = 0;
        for (int64_t i = 0; i < n; i++) {
            while (i >= ends[d]) start = ends[d++];
            ptr[i] = e;
            const int64_t last = causal ? i : ends[d] - 1;
            for (int64_t j = start; j <= last; j++) col[e++] = j;
        }
        ptr[n] = e;
        (void)nd;
        ga_graph *g;
        ASSERT_OK(ga_graph_create(&g));
        ASSERT_OK(ga_graph_add_csr(g, n, n, ptr, col, GA_INDEX_INT64));
        ga_row_ranges r;
        int ok = -1;
        ASSERT_OK(ga_row_ranges_build(&g->comps[0], &ok, &r));
        EXPECT_EQ_I64(ok, 1);
        if (ok) {
            check_ranges(causal ? "causal documents" : "documents", &g->comps[0], &r);
            EXPECT_EQ_I64(r.min_keys, 1); /* the one-token documents (and causal first rows) */
        }
        ga_row_ranges_free(&r);
        ga_graph_destroy(g);
        free(ptr), free(col);
    }
}

/* A documents component gives the same arrays as the explicit CSR of its edges (built from the
 * generators over N x N), without the edges: bidirectional and causal, 1-token documents,
 * cu_seqlens-style lists; with Nq > Nk (rows before the first key have none) it gives none. */
TEST(documents_give_the_ranges_of_their_csr) {
    static const char *specs[] = {"documents:0,1,2,64,65,130,700", "causal_documents:0,1,2,64,65,130,700",
                                  "documents:63", "causal_documents:500,1000", "documents:0,1000"};
    static const int64_t sizes[] = {1, 2, 64, 129, 700};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++)
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            const int64_t n = sizes[k];
            ga_graph *docs = NULL, *csr = ga_test_csr_of(specs[s], n, 0);
            ASSERT_OK(ga_graph_parse(specs[s], &docs));
            ASSERT_TRUE(csr != NULL);
            ga_row_ranges r;
            int ok = -1;
            ASSERT_OK(ga_row_ranges_documents(&docs->comps[0], n, n, &ok, &r));
            char what[120];
            snprintf(what, sizeof what, "%s at N = %lld", specs[s], (long long)n);
            if (ok != 1) ga_test_fail(__FILE__, __LINE__, "%s: no ranges", what);
            else check_ranges(what, &csr->comps[0], &r);
            ga_row_ranges_free(&r);
            /* Nq = n + 1 > Nk = n: the first row has no key */
            ASSERT_OK(ga_row_ranges_documents(&docs->comps[0], n + 1, n, &ok, &r));
            EXPECT_TRUE(ok == 0 && r.lo == NULL && r.hi == NULL && r.tile_min == NULL);
            ga_graph_destroy(docs);
            ga_graph_destroy(csr);
        }
}

/* With Nq < Nk, row i sits at key position i + (Nk - Nq): the arrays against the generator's rows. */
TEST(documents_ranges_align_rows_bottom_right_when_nq_is_below_nk) {
    static const char *specs[] = {"documents:0,100,101,300,650", "causal_documents:0,100,101,300,650"};
    static const int64_t shapes[][2] = {{1, 700}, {64, 700}, {129, 700}, {700, 701}};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++)
        for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
            const int64_t nq = shapes[k][0], nk = shapes[k][1];
            ga_graph *g = NULL;
            ASSERT_OK(ga_graph_parse(specs[s], &g));
            ga_row_ranges r;
            int ok = -1;
            ASSERT_OK(ga_row_ranges_documents(&g->comps[0], nq, nk, &ok, &r));
            EXPECT_EQ_I64(ok, 1);
            for (int64_t i = 0; ok == 1 && i < nq; i++) {
                const ga_row row = ga_comp_row(&g->comps[0], i, nq, nk);
                if (r.lo[i] != row.base || r.hi[i] != row.base + row.count - 1) {
                    ga_test_fail(__FILE__, __LINE__, "%s Nq=%lld Nk=%lld row %lld: ranges [%lld, %lld], generator [%lld, %lld]",
                                 specs[s], (long long)nq, (long long)nk, (long long)i, (long long)r.lo[i],
                                 (long long)r.hi[i], (long long)row.base, (long long)(row.base + row.count - 1));
                    break;
                }
            }
            ga_row_ranges_free(&r);
            ga_graph_destroy(g);
        }
}

/* Two causal documents of 256 and 768 tokens (1024 x 1024) and their row ranges in *r; NULL
 * (a failure recorded) if either step fails. */
static ga_graph *two_documents(ga_row_ranges *r) {
    ga_graph *g = NULL;
    int ok = -1;
    if (ga_graph_parse("causal_documents:0,256,1024", &g) != GA_OK ||
        ga_row_ranges_documents(&g->comps[0], 1024, 1024, &ok, r) != GA_OK || ok != 1) {
        ga_test_fail(__FILE__, __LINE__, "two documents: %s", ga_last_error_detail());
        ga_graph_destroy(g);
        return NULL;
    }
    return g;
}

/* The units' order for the persistent kernels: heaviest first (the 64-key tiles each 64-row tile
 * spans, summed over the unit), equal work in row order. Two causal documents of 256 and 768
 * tokens in units of 128 rows: unit u's tiles span 2u+1 and 2u+2 key tiles from its document's
 * start, so the works are 3 7 | 3 7 11 15 19 23. */
TEST(units_are_ordered_heaviest_first_ties_in_row_order) {
    ga_row_ranges r;
    ga_graph *g = two_documents(&r);
    ASSERT_TRUE(g != NULL);
    int64_t *order = NULL, *work = NULL, n = -1;
    double gain = 0;
    ASSERT_OK(ga_row_ranges_order(&r, 128, &order, &work, &n));
    static const int64_t want_work[] = {3, 7, 3, 7, 11, 15, 19, 23};
    for (int64_t u = 0; u < n && u < 8; u++) EXPECT_EQ_I64(work[u], want_work[u]);
    static const int64_t want[] = {7, 6, 5, 4, 1, 3, 0, 2};
    EXPECT_EQ_I64(n, 8);
    for (int64_t i = 0; i < n && i < 8; i++)
        if (order[i] != want[i]) {
            ga_test_fail(__FILE__, __LINE__, "order[%lld] = %lld, want %lld", (long long)i, (long long)order[i],
                         (long long)want[i]);
            break;
        }
    /* 2 CTAs: the plain stride gives CTA 1 units 1 3 5 7 (7 + 7 + 15 + 23 = 52); the snake over
     * the order 23 19 | 15 11 | 7 7 | 3 3 gives each CTA 44 */
    ASSERT_OK(ga_row_ranges_order_gain(order, work, n, 1, 2, &gain));
    EXPECT_NEAR(gain, 52.0 / 44.0, 1e-12);
    /* 2 copies (batch x heads) on 3 CTAs: plain, copies outer: the 16 works 3 7 3 7 11 15 19 23 3 7
     * ... by CTA b = u % 3: 3+7+19+7+15, 7+11+23+3+11, 3+15+3+7+19+23 = 51, 55, 70; the order, copies
     * inner: 23 23 19 | 19 15 15 (back) | 11 11 7 | 7 7 7 (back) | 3 3 3 | 3 (partial, forwards):
     * 23+15+11+7+3+3, 23+15+11+7+3, 19+19+7+7+3 = 62, 59, 55 */
    ASSERT_OK(ga_row_ranges_order_gain(order, work, n, 2, 3, &gain));
    EXPECT_NEAR(gain, 70.0 / 62.0, 1e-12);
    /* more CTAs than units: each takes one either way */
    ASSERT_OK(ga_row_ranges_order_gain(order, work, n, 1, 132, &gain));
    EXPECT_NEAR(gain, 1.0, 1e-12);
    ga_free(order);
    ga_free(work);
    /* rows per unit that is not a whole number of 64-row tiles, or no CTA: refused, nothing allocated */
    EXPECT_STATUS(ga_row_ranges_order(&r, 100, &order, &work, &n), GA_ERR_INTERNAL);
    EXPECT_TRUE(order == NULL && work == NULL && n == 0);
    EXPECT_STATUS(ga_row_ranges_order_gain(want, want_work, 8, 1, 0, &gain), GA_ERR_INTERNAL);
    ga_row_ranges_free(&r);
    ga_graph_destroy(g);
}

/* The order split for bf16 split rows: the units with a row of fewer than split_keys keys first,
 * then the rest, each in the order's order. The two causal documents above (256 and 768 tokens,
 * units of 128 rows, order 7 6 5 4 1 3 0 2): units 0-3 hold each document's first 256 rows
 * (fewer than 256 keys), units 4-7 do not. */
TEST(split_order_puts_the_units_with_short_rows_first_in_the_orders_order) {
    ga_row_ranges r;
    ga_graph *g = two_documents(&r);
    ASSERT_TRUE(g != NULL);
    int64_t *order = NULL, *work = NULL, n = -1;
    ASSERT_OK(ga_row_ranges_order(&r, 128, &order, &work, &n));
    EXPECT_EQ_I64(n, 8);
    static const struct {
        int64_t split_keys, nshort, want[8];
    } cases[] = {
        {256, 4, {1, 3, 0, 2, 7, 6, 5, 4}},
        {130, 4, {1, 3, 0, 2, 7, 6, 5, 4}}, /* unit 1's first tile starts at 129 keys */
        {129, 2, {0, 2, 7, 6, 5, 4, 1, 3}}, /* units 1 and 3: 129 keys and more */
        {1, 0, {7, 6, 5, 4, 1, 3, 0, 2}},   /* no row has fewer than 1 key */
        {1025, 8, {7, 6, 5, 4, 1, 3, 0, 2}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int64_t *sorder = NULL, nshort = -1;
        ASSERT_OK(ga_row_ranges_split_order(&r, order, n, 128, cases[c].split_keys, &sorder, &nshort));
        EXPECT_EQ_I64(nshort, cases[c].nshort);
        for (int64_t i = 0; i < 8; i++)
            if (sorder[i] != cases[c].want[i]) {
                ga_test_fail(__FILE__, __LINE__, "split_keys %lld: sorder[%lld] = %lld, want %lld",
                             (long long)cases[c].split_keys, (long long)i, (long long)sorder[i],
                             (long long)cases[c].want[i]);
                break;
            }
        ga_free(sorder);
    }
    /* a unit count that does not match the rows: refused, nothing allocated */
    int64_t *sorder = NULL, nshort = -1;
    EXPECT_STATUS(ga_row_ranges_split_order(&r, order, 7, 128, 256, &sorder, &nshort), GA_ERR_INTERNAL);
    EXPECT_TRUE(sorder == NULL && nshort == 0);
    ga_free(order);
    ga_free(work);
    ga_row_ranges_free(&r);
    ga_graph_destroy(g);
}

/* Against a brute-force count from the CSR's own rows, for mixed documents, a band and a short
 * last unit: the order is a permutation of the units with nonincreasing work, ties ascending. */
TEST(units_order_is_a_permutation_by_nonincreasing_work) {
    static const char *specs[] = {"documents:0,1,2,64,65,130,700,1500", "causal_documents:0,300,301,1200",
                                  "window:100", "causal"};
    static const int64_t sizes[] = {1, 63, 256, 700, 1500};
    static const int64_t units_rows[] = {64, 256};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++)
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
            for (size_t w = 0; w < 2; w++) {
                const int64_t nr = sizes[k], rows = units_rows[w];
                ga_graph *csr = ga_test_csr_of(specs[s], nr, 0);
                ASSERT_TRUE(csr != NULL);
                const ga_component *c = &csr->comps[0];
                ga_row_ranges r;
                int ok = -1;
                ASSERT_OK(ga_row_ranges_build(c, &ok, &r));
                ASSERT_TRUE(ok == 1);
                int64_t *order = NULL, *uwork = NULL, n = -1;
                ASSERT_OK(ga_row_ranges_order(&r, rows, &order, &uwork, &n));
                const int64_t units = (nr + rows - 1) / rows;
                EXPECT_EQ_I64(n, units);
                int64_t *work = (int64_t *)calloc((size_t)units, sizeof *work);
                char *seen = (char *)calloc((size_t)units, 1);
                for (int64_t t = 0; t * 64 < nr; t++) { /* key tiles spanned by each 64-row tile */
                    int64_t lo = INT64_MAX, hi = -1;
                    for (int64_t i = t * 64; i < nr && i < t * 64 + 64; i++) {
                        const int64_t a = ga_csr_col(c, c->row_ptr[i]), b = ga_csr_col(c, c->row_ptr[i + 1] - 1);
                        lo = a < lo ? a : lo;
                        hi = b > hi ? b : hi;
                    }
                    work[t * 64 / rows] += hi / 64 - lo / 64 + 1;
                }
                for (int64_t i = 0; i < n; i++) {
                    const int64_t u = order[i];
                    const int bad = u < 0 || u >= units || seen[u] ||
                                    (i > 0 && (work[u] > work[order[i - 1]] ||
                                               (work[u] == work[order[i - 1]] && u < order[i - 1])));
                    if (bad) {
                        ga_test_fail(__FILE__, __LINE__, "%s N=%lld rows %lld: order[%lld] = %lld (work %lld) after %lld",
                                     specs[s], (long long)nr, (long long)rows, (long long)i, (long long)u,
                                     (long long)(u >= 0 && u < units ? work[u] : -1),
                                     (long long)(i > 0 ? order[i - 1] : -1));
                        break;
                    }
                    seen[u] = 1;
                }
                for (int64_t u = 0; u < units && u < n; u++)
                    if (uwork[u] != work[u]) {
                        ga_test_fail(__FILE__, __LINE__, "%s N=%lld rows %lld: unit %lld work %lld, want %lld", specs[s],
                                     (long long)nr, (long long)rows, (long long)u, (long long)uwork[u], (long long)work[u]);
                        break;
                    }
                free(work);
                free(seen);
                ga_free(order);
                ga_free(uwork);
                ga_row_ranges_free(&r);
                ga_graph_destroy(csr);
            }
}

/* What the order is worth to 132 CTAs: about nothing for a band (every unit the same work but
 * the first and last), something for documents of mixed lengths and more in their causal form
 * (the work of a unit grows along its document); and with heads: a shorter pack (128 units, no
 * more than the CTAs) gains nothing alone but does with 4 heads, where the plain stride takes the
 * heads one after another. */
/* What r's order in units of 256 rows is worth for bh copies on `ctas` CTAs (-1: a call failed). */
static double order_gain(const ga_row_ranges *r, int64_t bh, int64_t ctas) {
    int64_t *order = NULL, *work = NULL, n = 0;
    double gain = -1;
    ga_status s = ga_row_ranges_order(r, 256, &order, &work, &n);
    if (s == GA_OK) s = ga_row_ranges_order_gain(order, work, n, bh, ctas, &gain);
    if (s != GA_OK) {
        ga_test_fail(__FILE__, __LINE__, "order or its gain: %s (%s)", ga_status_string(s), ga_last_error_detail());
        gain = -1;
    }
    ga_free(order);
    ga_free(work);
    return gain;
}

TEST(the_order_pays_for_mixed_documents_not_for_a_band) {
    ga_graph *band = ga_test_csr_of("window:256", 1 << 16, 0);
    ASSERT_TRUE(band != NULL);
    ga_row_ranges r;
    int ok = -1;
    ASSERT_OK(ga_row_ranges_build(&band->comps[0], &ok, &r));
    ASSERT_TRUE(ok == 1);
    double gain = order_gain(&r, 1, 132);
    printf("band: gain %.3f\n", gain);
    EXPECT_TRUE(gain > 0 && gain < 1.03);
    ga_row_ranges_free(&r);
    ga_graph_destroy(band);
    /* documents of 512 .. 4096 tokens (a fixed pseudo-random draw) packed in 2^18 */
    char spec[4096] = "causal_documents:0";
    uint64_t x = 12345;
    for (int64_t at = 0; at < (1 << 18);) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        at += 512 + (int64_t)((x >> 33) % 3585);
        if (at > (1 << 18)) at = 1 << 18;
        snprintf(spec + strlen(spec), sizeof spec - strlen(spec), ",%lld", (long long)at);
    }
    for (int causal = 1; causal >= 0; causal--) {
        ga_graph *docs = NULL;
        ASSERT_OK(ga_graph_parse(causal ? spec : spec + 7, &docs));
        ASSERT_OK(ga_row_ranges_documents(&docs->comps[0], 1 << 18, 1 << 18, &ok, &r));
        ASSERT_TRUE(ok == 1);
        gain = order_gain(&r, 1, 132);
        printf("%s documents: gain %.3f\n", causal ? "causal" : "bidirectional", gain);
        EXPECT_TRUE(gain > 1.05);
        ga_row_ranges_free(&r);
        /* the first 2^15 rows: 128 units, fewer than the CTAs; then 4 heads */
        ASSERT_OK(ga_row_ranges_documents(&docs->comps[0], 1 << 15, 1 << 15, &ok, &r));
        ASSERT_TRUE(ok == 1);
        EXPECT_NEAR(order_gain(&r, 1, 132), 1.0, 1e-12);
        gain = order_gain(&r, 4, 132);
        printf("%s documents, 2^15 rows, 4 heads: gain %.3f\n", causal ? "causal" : "bidirectional", gain);
        EXPECT_TRUE(gain > 1.1);
        ga_row_ranges_free(&r);
        ga_graph_destroy(docs);
    }
}
