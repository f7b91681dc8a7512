/* The explicit-graph tile planner: dense tiles (bitmaps or full) plus residual edges must give
 * back every original edge exactly once, whatever the density and the sizes. */
#include <stdlib.h>

#include "graph/graph.h"
#include "graph/tile_plan.h"
#include "test.h"

static void check_plan(const char *spec, int64_t n, double threshold, int wide, int64_t want_min_tiles) {
    ga_graph *g = ga_test_csr_of(spec, n, wide);
    ASSERT_TRUE(g != NULL);
    const ga_component *c = &g->comps[0];
    ga_tile_plan p;
    ASSERT_OK(ga_tile_plan_build(c, threshold, &p));
    EXPECT_TRUE(p.ntiles >= want_min_tiles);
    /* rebuild a dense mark matrix from tiles + residual, counting each edge */
    unsigned char *seen = calloc((size_t)(n * n), 1);
    int64_t covered = 0;
    for (int64_t qt = 0; qt < p.q_tiles; qt++)
        for (int64_t t = p.tile_ptr[qt]; t < p.tile_ptr[qt + 1]; t++) {
            if (t > p.tile_ptr[qt]) EXPECT_TRUE(p.tile_kt[t] > p.tile_kt[t - 1]);
            for (int64_t r = 0; r < GA_TILE_BQ; r++) {
                int64_t i = qt * GA_TILE_BQ + r;
                for (int64_t b = 0; b < GA_TILE_BK; b++) {
                    int64_t j = p.tile_kt[t] * GA_TILE_BK + b;
                    int in = p.tile_mask[t] < 0 ? 1 : (int)((p.masks[p.tile_mask[t] + r] >> b) & 1);
                    if (!in) continue;
                    if (i >= n || j >= n) { ga_test_fail(__FILE__, __LINE__, "tile edge (%lld,%lld) outside %lld", (long long)i, (long long)j, (long long)n); continue; }
                    seen[i * n + j]++;
                    covered++;
                }
            }
        }
    EXPECT_EQ_I64(covered, p.tile_edges);
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = p.res_ptr[i]; e < p.res_ptr[i + 1]; e++) {
            int64_t j = wide ? ((int64_t *)p.res_col)[e] : ((int32_t *)p.res_col)[e];
            seen[i * n + j]++;
        }
    int64_t bad = 0;
    for (int64_t i = 0; i < n && bad < 5; i++)
        for (int64_t j = 0; j < n; j++) {
            int want = ga_comp_contains(c, i, j, n, n);
            if (seen[i * n + j] != want) {
                if (bad++ < 5) ga_test_fail(__FILE__, __LINE__, "%s n=%lld: edge (%lld,%lld) seen %d times, want %d", spec,
                                            (long long)n, (long long)i, (long long)j, seen[i * n + j], want);
            }
        }
    EXPECT_EQ_I64(p.tile_edges + p.res_nnz, c->nnz);
    free(seen);
    ga_tile_plan_free(&p);
    ga_graph_destroy(g);
}

TEST(window_csr_becomes_mostly_tiles) {
    check_plan("window:100", 1000, 0.25, 1, 16);
    check_plan("window:100", 1000, 0.25, 0, 16);
}

TEST(sizes_not_multiple_of_the_tile_keep_every_edge) {
    const int64_t ns[] = {1, 2, 63, 64, 65, 127, 129, 200};
    for (int x = 0; x < 8; x++) {
        check_plan("window:30", ns[x], 0.1, x & 1, 0);
        check_plan("dense", ns[x], 0.5, 1, ns[x] >= 64); /* a 64x64 block exists only from n = 64 */
        check_plan("causal", ns[x], 0.3, 0, ns[x] >= 64);
    }
}

TEST(scattered_edges_stay_residual) {
    ga_graph *g = ga_test_csr_of("random:3,5", 500, 1);
    ASSERT_TRUE(g != NULL);
    ga_tile_plan p;
    ASSERT_OK(ga_tile_plan_build(&g->comps[0], 0.1, &p));
    EXPECT_EQ_I64(p.ntiles, 0);
    EXPECT_EQ_I64(p.res_nnz, 1500);
    ga_tile_plan_free(&p);
    ga_graph_destroy(g);
    check_plan("window:3+random:4,2+global:0,100", 300, 0.05, 1, 0);
}

TEST(threshold_above_one_disables_tiles) {
    ga_graph *g = ga_test_csr_of("dense", 130, 1);
    ga_tile_plan p;
    ASSERT_OK(ga_tile_plan_build(&g->comps[0], 2.0, &p));
    EXPECT_EQ_I64(p.ntiles, 0);
    EXPECT_EQ_I64(p.res_nnz, 130 * 130);
    ga_tile_plan_free(&p);
    ga_graph_destroy(g);
}
