/* tile_plan.c -- see tile_plan.h. Two passes over each query tile's rows: count the edges
 * per key tile, then fill the bitmaps of the dense key tiles and copy every other edge into
 * the residual CSR. Query tiles are independent, so both passes run in parallel over them. */
#include "graph/tile_plan.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/threads.h"

void ga_tile_plan_free(ga_tile_plan *p) {
    if (!p) return;
    ga_free(p->tile_ptr);
    ga_free(p->tile_kt);
    ga_free(p->tile_mask);
    ga_free(p->masks);
    ga_free(p->res_ptr);
    ga_free(p->res_col);
    memset(p, 0, sizeof *p);
}

/* The dense key tiles of one query tile, found from its rows' sorted columns. Returns the count
 * and writes the key tiles (increasing) and their edge counts into kts / cnts (capacity cap). */
static int64_t ga_dense_tiles(const ga_component *c, int64_t r0, int64_t r1, int64_t min_edges, int64_t *kts,
                              int64_t *cnts, int64_t cap, int64_t *scratch_cnt, int64_t nkt) {
    /* scratch_cnt: nkt zeroed counters; touched entries are cleared before returning */
    int64_t n = 0;
    for (int64_t i = r0; i < r1; i++)
        for (int64_t e = c->row_ptr[i]; e < c->row_ptr[i + 1]; e++) scratch_cnt[ga_csr_col(c, e) / GA_TILE_BK]++;
    /* walk the touched key tiles in increasing order: they are the key tiles of the rows' columns */
    for (int64_t i = r0; i < r1; i++)
        for (int64_t e = c->row_ptr[i]; e < c->row_ptr[i + 1]; e++) {
            int64_t kt = ga_csr_col(c, e) / GA_TILE_BK;
            if (scratch_cnt[kt] <= 0) continue; /* already visited */
            if (scratch_cnt[kt] >= min_edges && n < cap) { kts[n] = kt; cnts[n] = scratch_cnt[kt]; n++; }
            scratch_cnt[kt] = -1; /* visited */
        }
    for (int64_t i = r0; i < r1; i++)
        for (int64_t e = c->row_ptr[i]; e < c->row_ptr[i + 1]; e++) scratch_cnt[ga_csr_col(c, e) / GA_TILE_BK] = 0;
    (void)nkt;
    /* sort the (few) dense tiles by key tile */
    for (int64_t x = 1; x < n; x++)
        for (int64_t y = x; y > 0 && kts[y - 1] > kts[y]; y--) {
            int64_t t = kts[y]; kts[y] = kts[y - 1]; kts[y - 1] = t;
            t = cnts[y]; cnts[y] = cnts[y - 1]; cnts[y - 1] = t;
        }
    return n;
}

ga_status ga_tile_plan_build(const ga_component *c, double threshold, ga_tile_plan *p) {
    GA_FAIL_IF(!c || !p, GA_ERR_NULL_POINTER, "tile plan: NULL argument");
    GA_FAIL_IF(c->kind != GA_COMP_CSR, GA_ERR_INTERNAL, "tile plan: component is not explicit");
    GA_FAIL_IF(!(threshold > 0.0), GA_ERR_BAD_PARAMETER, "tile plan: threshold must be > 0");
    memset(p, 0, sizeof *p);
    const int64_t nrows = c->nrows, ncols = c->ncols;
    const int64_t q_tiles = (nrows + GA_TILE_BQ - 1) / GA_TILE_BQ, nkt = (ncols + GA_TILE_BK - 1) / GA_TILE_BK;
    const double need = threshold * GA_TILE_BQ * GA_TILE_BK;
    const int64_t min_edges = need > (double)(GA_TILE_BQ * GA_TILE_BK) ? GA_TILE_BQ * GA_TILE_BK + 1 : (int64_t)need;
    const int64_t min_e = min_edges < 1 ? 1 : min_edges;
    /* A query tile holds at most (its edges / min_e) dense tiles. */
    const size_t isz = c->index_type == GA_INDEX_INT32 ? 4 : 8;
    p->nrows = nrows;
    p->ncols = ncols;
    p->q_tiles = q_tiles;
    p->res_index_type = c->index_type;
    int64_t *ntile = ga_calloc((size_t)q_tiles + 1, sizeof *ntile);
    int64_t *tile_edges_q = ga_calloc((size_t)q_tiles, sizeof *tile_edges_q);
    p->tile_ptr = ga_calloc((size_t)q_tiles + 1, sizeof *p->tile_ptr);
    p->res_ptr = ga_calloc((size_t)nrows + 1, sizeof *p->res_ptr);
    ga_status st = GA_OK;
    if (!ntile || !tile_edges_q || !p->tile_ptr || !p->res_ptr) {
        st = ga_raise(GA_ERR_OUT_OF_MEMORY, __FILE__, __LINE__, "tile plan: out of memory");
        goto done;
    }
    /* pass 1: dense tiles per query tile, and residual degrees per row */
    int oom = 0;
#pragma omp parallel num_threads(ga_cpu_threads(0)) reduction(| : oom)
    {
        int64_t *scratch = ga_calloc((size_t)nkt * 3, sizeof *scratch);
        int64_t *kts = scratch + nkt, *cnts = scratch + 2 * nkt; /* at most nkt dense tiles */
        if (!scratch) oom = 1;
#pragma omp for schedule(dynamic, 64)
        for (int64_t qt = 0; qt < q_tiles; qt++) {
            if (!scratch) continue;
            int64_t r0 = qt * GA_TILE_BQ, r1 = r0 + GA_TILE_BQ < nrows ? r0 + GA_TILE_BQ : nrows;
            int64_t n = ga_dense_tiles(c, r0, r1, min_e, kts, cnts, nkt, scratch, nkt);
            ntile[qt + 1] = n;
            int64_t covered = 0;
            for (int64_t x = 0; x < n; x++) covered += cnts[x];
            tile_edges_q[qt] = covered;
            for (int64_t i = r0; i < r1; i++) {
                int64_t deg = 0, x = 0;
                for (int64_t e = c->row_ptr[i]; e < c->row_ptr[i + 1]; e++) {
                    int64_t kt = ga_csr_col(c, e) / GA_TILE_BK;
                    while (x < n && kts[x] < kt) x++;
                    if (!(x < n && kts[x] == kt)) deg++;
                }
                p->res_ptr[i + 1] = deg;
            }
        }
        ga_free(scratch);
    }
    if (oom) { st = ga_raise(GA_ERR_OUT_OF_MEMORY, __FILE__, __LINE__, "tile plan: out of memory"); goto done; }
    for (int64_t qt = 0; qt < q_tiles; qt++) {
        p->tile_ptr[qt + 1] = p->tile_ptr[qt] + ntile[qt + 1];
        p->tile_edges += tile_edges_q[qt];
    }
    for (int64_t i = 0; i < nrows; i++) p->res_ptr[i + 1] += p->res_ptr[i];
    p->ntiles = p->tile_ptr[q_tiles];
    p->res_nnz = p->res_ptr[nrows];
    p->tile_kt = ga_malloc((size_t)(p->ntiles ? p->ntiles : 1) * sizeof *p->tile_kt);
    p->tile_mask = ga_malloc((size_t)(p->ntiles ? p->ntiles : 1) * sizeof *p->tile_mask);
    p->masks = ga_calloc((size_t)(p->ntiles ? p->ntiles : 1) * GA_TILE_BQ, sizeof *p->masks);
    p->res_col = ga_malloc((size_t)(p->res_nnz ? p->res_nnz : 1) * isz);
    if (!p->tile_kt || !p->tile_mask || !p->masks || !p->res_col) {
        st = ga_raise(GA_ERR_OUT_OF_MEMORY, __FILE__, __LINE__, "tile plan: out of memory for %lld tiles",
                      (long long)p->ntiles);
        goto done;
    }
    /* pass 2: fill tiles, bitmaps (every tile gets a slot; full tiles are marked -1) and residual */
#pragma omp parallel num_threads(ga_cpu_threads(0)) reduction(| : oom)
    {
        int64_t *scratch = ga_calloc((size_t)nkt * 3, sizeof *scratch);
        int64_t *kts = scratch + nkt, *cnts = scratch + 2 * nkt;
        if (!scratch) oom = 1;
#pragma omp for schedule(dynamic, 64)
        for (int64_t qt = 0; qt < q_tiles; qt++) {
            if (!scratch) continue;
            int64_t r0 = qt * GA_TILE_BQ, r1 = r0 + GA_TILE_BQ < nrows ? r0 + GA_TILE_BQ : nrows;
            int64_t n = ga_dense_tiles(c, r0, r1, min_e, kts, cnts, nkt, scratch, nkt);
            int64_t base = p->tile_ptr[qt];
            for (int64_t x = 0; x < n; x++) {
                p->tile_kt[base + x] = kts[x];
                /* full: all BQ x BK edges present (so never a tile cut by the end of the rows or keys) */
                p->tile_mask[base + x] = cnts[x] == (int64_t)GA_TILE_BQ * GA_TILE_BK ? -1 : (base + x) * GA_TILE_BQ;
            }
            for (int64_t i = r0; i < r1; i++) {
                int64_t x = 0, out = p->res_ptr[i];
                for (int64_t e = c->row_ptr[i]; e < c->row_ptr[i + 1]; e++) {
                    int64_t j = ga_csr_col(c, e), kt = j / GA_TILE_BK;
                    while (x < n && kts[x] < kt) x++;
                    if (x < n && kts[x] == kt) {
                        p->masks[(base + x) * GA_TILE_BQ + (i - r0)] |= 1ull << (j % GA_TILE_BK);
                    } else if (isz == 4) {
                        ((int32_t *)p->res_col)[out++] = (int32_t)j;
                    } else {
                        ((int64_t *)p->res_col)[out++] = j;
                    }
                }
            }
        }
        ga_free(scratch);
    }
    if (oom) { st = ga_raise(GA_ERR_OUT_OF_MEMORY, __FILE__, __LINE__, "tile plan: out of memory"); goto done; }
    for (int64_t t = 0; t < p->ntiles; t++) p->nmasks += p->tile_mask[t] >= 0;
done:
    ga_free(ntile);
    ga_free(tile_edges_q);
    if (st != GA_OK) ga_tile_plan_free(p);
    return st;
}
