/* row_ranges.c -- see row_ranges.h. One pass over the rows: a row is an interval when its
 * (strictly increasing) columns run from first to last without a gap, i.e. last - first + 1
 * equals its edge count. */
#include "graph/row_ranges.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

void ga_row_ranges_free(ga_row_ranges *r) {
    if (!r) return;
    ga_free(r->lo);
    ga_free(r->hi);
    ga_free(r->tile_min);
    memset(r, 0, sizeof *r);
}

/* r's arrays for n >= 1 rows (r zeroed before; left zeroed on failure), the fewest keys not yet set. */
static ga_status ga_row_ranges_alloc(ga_row_ranges *r, int64_t n) {
    const int64_t tiles = (n + GA_RANGES_TILE - 1) / GA_RANGES_TILE;
    r->lo = (int64_t *)ga_malloc((size_t)n * sizeof(int64_t));
    r->hi = (int64_t *)ga_malloc((size_t)n * sizeof(int64_t));
    r->tile_min = (int64_t *)ga_malloc((size_t)tiles * sizeof(int64_t));
    if (!r->lo || !r->hi || !r->tile_min) {
        ga_row_ranges_free(r);
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "row ranges: cannot allocate %lld rows", (long long)n);
    }
    r->nrows = n;
    r->min_keys = INT64_MAX;
    return GA_OK;
}

/* Row i (rows taken in order) attends keys lo .. hi: its bounds, its tile's and the fewest keys. */
static void ga_row_ranges_put(ga_row_ranges *r, int64_t i, int64_t lo, int64_t hi) {
    const int64_t keys = hi - lo + 1, t = i / GA_RANGES_TILE;
    r->lo[i] = lo;
    r->hi[i] = hi;
    if (i % GA_RANGES_TILE == 0 || keys < r->tile_min[t]) r->tile_min[t] = keys;
    if (keys < r->min_keys) r->min_keys = keys;
}

ga_status ga_row_ranges_build(const ga_component *c, int *ok, ga_row_ranges *r) {
    GA_FAIL_IF(!c || !ok || !r, GA_ERR_NULL_POINTER, "row ranges: NULL argument");
    GA_FAIL_IF(c->kind != GA_COMP_CSR, GA_ERR_INTERNAL, "row ranges: component is not explicit");
    memset(r, 0, sizeof *r);
    *ok = 0;
    const int64_t n = c->nrows;
    /* a cheap test first: the edges of interval rows number at least one per row */
    if (n < 1 || c->row_ptr[n] < n) return GA_OK;
    GA_TRY(ga_row_ranges_alloc(r, n));
    for (int64_t i = 0; i < n; i++) {
        const int64_t a = c->row_ptr[i], b = c->row_ptr[i + 1];
        if (b == a) break; /* an empty row */
        const int64_t lo = ga_csr_col(c, a), hi = ga_csr_col(c, b - 1), keys = b - a;
        if (hi - lo + 1 != keys) break;                            /* a gap */
        if (i > 0 && (lo < r->lo[i - 1] || hi < r->hi[i - 1])) break; /* not monotone */
        ga_row_ranges_put(r, i, lo, hi);
        if (i == n - 1) *ok = 1;
    }
    if (!*ok) {
        ga_row_ranges_free(r);
        return GA_OK;
    }
    r->mid_keys = r->hi[n / 2] - r->lo[n / 2] + 1;
    return GA_OK;
}

ga_status ga_row_ranges_documents(const ga_component *c, int64_t nq, int64_t nk, int *ok, ga_row_ranges *r) {
    GA_FAIL_IF(!c || !ok || !r, GA_ERR_NULL_POINTER, "row ranges: NULL argument");
    GA_FAIL_IF(c->kind != GA_COMP_DOCUMENTS, GA_ERR_INTERNAL, "row ranges: component is not documents");
    memset(r, 0, sizeof *r);
    *ok = 0;
    if (nq < 1 || nk < 1 || nq > nk) return GA_OK; /* nq > nk: the first rows have no keys */
    GA_TRY(ga_row_ranges_alloc(r, nq));
    const int causal = (int)c->p[GA_P_CAUSAL];
    for (int64_t i = 0; i < nq; i++) { /* bounds are nondecreasing in the row: no check needed */
        int64_t lo, hi;
        ga_document_of(c->list, c->nrows, i + (nk - nq), nk, causal, &lo, &hi);
        ga_row_ranges_put(r, i, lo, hi);
    }
    r->mid_keys = r->hi[nq / 2] - r->lo[nq / 2] + 1;
    *ok = 1;
    return GA_OK;
}

typedef struct {
    int64_t work, unit;
} ga_unit_work;

static int ga_unit_work_cmp(const void *x, const void *y) {
    const ga_unit_work *a = (const ga_unit_work *)x, *b = (const ga_unit_work *)y;
    if (a->work != b->work) return a->work > b->work ? -1 : 1; /* heaviest first */
    return a->unit < b->unit ? -1 : a->unit > b->unit;         /* then in row order */
}

static int64_t ga_max_load(const int64_t *load, int64_t ctas) {
    int64_t m = 0;
    for (int64_t b = 0; b < ctas; b++) m = load[b] > m ? load[b] : m;
    return m;
}

ga_status ga_row_ranges_order_gain(const int64_t *order, const int64_t *work, int64_t n, int64_t bh, int64_t ctas,
                                   double *gain) {
    GA_FAIL_IF(!order || !work || !gain, GA_ERR_NULL_POINTER, "row ranges order gain: NULL argument");
    *gain = 1.0;
    GA_FAIL_IF(n < 1 || bh < 1 || ctas < 1 || n > INT64_MAX / bh, GA_ERR_INTERNAL,
               "row ranges order gain: %lld units x %lld on %lld CTAs", (long long)n, (long long)bh, (long long)ctas);
    const int64_t total = n * bh, G = ctas < total ? ctas : total;
    int64_t *load = (int64_t *)ga_calloc((size_t)G, sizeof *load);
    GA_FAIL_IF(!load, GA_ERR_OUT_OF_MEMORY, "row ranges order gain: cannot allocate %lld CTAs", (long long)G);
    for (int64_t u = 0; u < total; u++) load[u % G] += work[u % n]; /* copies outer: unit u % n */
    const int64_t plain = ga_max_load(load, G);
    memset(load, 0, (size_t)G * sizeof *load);
    for (int64_t j = 0; j < total; j++) { /* copies inner: the order's entry j / bh */
        const int64_t r = j / G, b = j - r * G;
        load[(r & 1) && (r + 1) * G <= total ? G - 1 - b : b] += work[order[j / bh]];
    }
    const int64_t snake = ga_max_load(load, G);
    ga_free(load);
    *gain = snake > 0 ? (double)plain / (double)snake : 1.0;
    return GA_OK;
}

ga_status ga_row_ranges_order(const ga_row_ranges *r, int64_t rows, int64_t **order, int64_t **work, int64_t *n) {
    GA_FAIL_IF(!r || !order || !work || !n, GA_ERR_NULL_POINTER, "row ranges order: NULL argument");
    *order = NULL;
    *work = NULL;
    *n = 0;
    GA_FAIL_IF(rows < GA_RANGES_TILE || rows % GA_RANGES_TILE != 0, GA_ERR_INTERNAL,
               "row ranges order: %lld rows per unit is not a multiple of %d", (long long)rows, GA_RANGES_TILE);
    const int64_t units = (r->nrows + rows - 1) / rows;
    if (units < 1) return GA_OK;
    ga_unit_work *w = (ga_unit_work *)ga_malloc((size_t)units * sizeof *w);
    int64_t *o = (int64_t *)ga_malloc((size_t)units * sizeof *o);
    int64_t *wk = (int64_t *)ga_malloc((size_t)units * sizeof *wk);
    if (!w || !o || !wk) {
        ga_free(w);
        ga_free(o);
        ga_free(wk);
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "row ranges order: cannot allocate %lld units", (long long)units);
    }
    for (int64_t u = 0; u < units; u++) {
        int64_t sum = 0;
        for (int64_t r0 = u * rows; r0 < (u + 1) * rows && r0 < r->nrows; r0 += GA_RANGES_TILE) {
            const int64_t r1 = (r0 + GA_RANGES_TILE < r->nrows ? r0 + GA_RANGES_TILE : r->nrows) - 1;
            sum += r->hi[r1] / GA_RANGES_TILE - r->lo[r0] / GA_RANGES_TILE + 1;
        }
        w[u].work = wk[u] = sum;
        w[u].unit = u;
    }
    qsort(w, (size_t)units, sizeof *w, ga_unit_work_cmp);
    for (int64_t u = 0; u < units; u++) o[u] = w[u].unit;
    ga_free(w);
    *order = o;
    *work = wk;
    *n = units;
    return GA_OK;
}

ga_status ga_row_ranges_split_order(const ga_row_ranges *r, const int64_t *order, int64_t n, int64_t rows,
                                    int64_t split_keys, int64_t **sorder, int64_t *nshort) {
    GA_FAIL_IF(!r || !order || !sorder || !nshort, GA_ERR_NULL_POINTER, "row ranges split order: NULL argument");
    *sorder = NULL;
    *nshort = 0;
    GA_FAIL_IF(rows < GA_RANGES_TILE || rows % GA_RANGES_TILE != 0 || n != (r->nrows + rows - 1) / rows, GA_ERR_INTERNAL,
               "row ranges split order: %lld units of %lld rows over %lld rows", (long long)n, (long long)rows,
               (long long)r->nrows);
    if (n < 1) return GA_OK;
    int64_t *o = (int64_t *)ga_malloc((size_t)n * sizeof *o);
    GA_FAIL_IF(!o, GA_ERR_OUT_OF_MEMORY, "row ranges split order: cannot allocate %lld units", (long long)n);
    const int64_t tiles = (r->nrows + GA_RANGES_TILE - 1) / GA_RANGES_TILE, per = rows / GA_RANGES_TILE;
    int64_t k = 0;
    for (int pass = 0; pass < 2; pass++) { /* the units with a short row first, then the others */
        for (int64_t i = 0; i < n; i++) {
            const int64_t u = order[i];
            int has_short = 0;
            for (int64_t t = u * per; t < (u + 1) * per && t < tiles; t++) has_short |= r->tile_min[t] < split_keys;
            if (has_short == (pass == 0)) o[k++] = u;
        }
        if (pass == 0) *nshort = k;
    }
    *sorder = o;
    return GA_OK;
}
