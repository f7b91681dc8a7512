/* graph.c -- the graph object: components, validation of explicit graphs, union enumeration,
 * edge counting and materialization. */
#include "graph/graph.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/threads.h"

/* Upper bounds that keep the stratified random choice (t * n products) inside int64. */
#define GA_RANDOM_MAX_R ((int64_t)1 << 22)
#define GA_RANDOM_MAX_N ((int64_t)1 << 40)

static void ga_component_free(ga_component *c) {
    ga_free((void *)c->list);
    ga_free((void *)c->row_ptr);
    ga_free((void *)c->col);
}

ga_status ga_graph_create(ga_graph **graph) {
    ga_clear_error();
    GA_FAIL_IF(!graph, GA_ERR_NULL_POINTER, "ga_graph_create: graph is NULL");
    ga_graph *g = ga_calloc(1, sizeof *g);
    GA_FAIL_IF(!g, GA_ERR_OUT_OF_MEMORY, "ga_graph_create: out of memory");
    *graph = g;
    return GA_OK;
}

void ga_graph_destroy(ga_graph *g) {
    if (!g) return;
    if (g->cuda.release) g->cuda.release(g->cuda.data);
    for (int64_t c = 0; c < g->count; c++) ga_component_free(&g->comps[c]);
    ga_free(g->comps);
    ga_free(g);
}

/* Room for `more` components after g's (capacity doubled from 4 as needed); on failure g is as
 * it was. Then the device copy, if a CUDA call made one, is dropped: the components it copied are
 * about to change. */
static ga_status ga_graph_grow(ga_graph *g, int64_t more) {
    GA_FAIL_IF(more > INT64_MAX / 2 - g->count, GA_ERR_OVERFLOW, "graph: too many components");
    const int64_t need = g->count + more;
    if (need > g->capacity) {
        int64_t cap = g->capacity ? g->capacity : 4;
        while (cap < need) cap *= 2;
        GA_FAIL_IF((uint64_t)cap > SIZE_MAX / sizeof(ga_component), GA_ERR_OVERFLOW, "graph: too many components");
        ga_component *n = ga_realloc(g->comps, (size_t)cap * sizeof *n);
        GA_FAIL_IF(!n, GA_ERR_OUT_OF_MEMORY, "graph: out of memory adding %lld component%s", (long long)more,
                   more == 1 ? "" : "s");
        g->comps = n;
        g->capacity = cap;
    }
    if (g->cuda.release) {
        g->cuda.release(g->cuda.data);
        g->cuda.release = NULL;
        g->cuda.data = NULL;
    }
    return GA_OK;
}

/* Append a component (taking ownership of its arrays). On failure the arrays are freed. */
static ga_status ga_graph_push(ga_graph *g, ga_component *c) {
    const ga_status s = ga_graph_grow(g, 1);
    if (s != GA_OK) {
        ga_component_free(c);
        return s;
    }
    g->comps[g->count++] = *c;
    return GA_OK;
}

/* Move every component of src onto the end of dst, in order, leaving src empty. All or nothing:
 * on failure (out of memory) neither graph changes. */
ga_status ga_graph_move_components(ga_graph *dst, ga_graph *src) {
    if (src->count == 0) return GA_OK;
    GA_TRY(ga_graph_grow(dst, src->count));
    memcpy(dst->comps + dst->count, src->comps, (size_t)src->count * sizeof *src->comps);
    dst->count += src->count;
    src->count = 0;
    return GA_OK;
}

static ga_status ga_add_simple(ga_graph *g, int kind, int64_t p0, int64_t p1, int64_t p2, int64_t p3, uint64_t seed) {
    ga_component c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.p[0] = p0; c.p[1] = p1; c.p[2] = p2; c.p[3] = p3;
    c.seed = seed;
    return ga_graph_push(g, &c);
}

#define GA_NEED_GRAPH(g, fn) GA_FAIL_IF(!(g), GA_ERR_NULL_POINTER, fn ": graph is NULL")

ga_status ga_graph_add_dense(ga_graph *g) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_dense");
    return ga_add_simple(g, GA_COMP_DENSE, 0, 0, 0, 0, 0);
}

ga_status ga_graph_add_causal(ga_graph *g) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_causal");
    return ga_add_simple(g, GA_COMP_CAUSAL, 0, 0, 0, 0, 0);
}

/* Keeps i' +- extent products well inside int64 for any N the library accepts. */
#define GA_MAX_EXTENT ((int64_t)1 << 50)

ga_status ga_graph_add_window(ga_graph *g, int64_t left, int64_t right) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_window");
    GA_FAIL_IF(left < 0 || right < 0 || left > GA_MAX_EXTENT || right > GA_MAX_EXTENT, GA_ERR_BAD_PARAMETER,
               "window: extents must be in [0, 2^50], got left=%lld right=%lld", (long long)left, (long long)right);
    return ga_add_simple(g, GA_COMP_WINDOW, left, right, 0, 0, 0);
}

ga_status ga_graph_add_dilated(ga_graph *g, int64_t w, int64_t step) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_dilated");
    GA_FAIL_IF(w < 0 || w > GA_MAX_EXTENT, GA_ERR_BAD_PARAMETER, "dilated: w must be in [0, 2^50], got %lld",
               (long long)w);
    GA_FAIL_IF(step < 1 || step > GA_MAX_EXTENT, GA_ERR_BAD_PARAMETER, "dilated: step must be in [1, 2^50], got %lld",
               (long long)step);
    int64_t span;
    GA_FAIL_IF(ga_mul_overflow(w, step, &span) || span > GA_MAX_EXTENT, GA_ERR_BAD_PARAMETER,
               "dilated: w*step = %lld*%lld is too large", (long long)w, (long long)step);
    return ga_add_simple(g, GA_COMP_DILATED, w, step, 0, 0, 0);
}

ga_status ga_graph_add_blocks(ga_graph *g, int64_t block) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_blocks");
    GA_FAIL_IF(block < 1, GA_ERR_BAD_PARAMETER, "blocks: block must be >= 1, got %lld", (long long)block);
    return ga_add_simple(g, GA_COMP_BLOCKS, block, 0, 0, 0, 0);
}

ga_status ga_graph_add_longnet(ga_graph *g, int64_t segment, int64_t rate, int64_t offset) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_longnet");
    GA_FAIL_IF(segment < 1, GA_ERR_BAD_PARAMETER, "longnet: segment must be >= 1, got %lld", (long long)segment);
    GA_FAIL_IF(rate < 1, GA_ERR_BAD_PARAMETER, "longnet: rate must be >= 1, got %lld", (long long)rate);
    GA_FAIL_IF(offset < 0 || offset >= rate, GA_ERR_BAD_PARAMETER, "longnet: offset must be in [0, rate=%lld), got %lld",
               (long long)rate, (long long)offset);
    return ga_add_simple(g, GA_COMP_LONGNET, segment, rate, offset, 0, 0);
}

int ga_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

ga_status ga_graph_add_global(ga_graph *g, const int64_t *tokens, int64_t count) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_global");
    GA_FAIL_IF(!tokens, GA_ERR_NULL_POINTER, "global: tokens is NULL");
    GA_FAIL_IF(count < 1 || count > ((int64_t)1 << 40), GA_ERR_BAD_SIZE, "global: count must be in [1, 2^40], got %lld",
               (long long)count);
    for (int64_t t = 0; t < count; t++)
        GA_FAIL_IF(tokens[t] < 0, GA_ERR_INDEX_OUT_OF_RANGE, "global: tokens[%lld] = %lld is negative", (long long)t,
                   (long long)tokens[t]);
    int64_t *list = ga_malloc((size_t)count * sizeof *list);
    GA_FAIL_IF(!list, GA_ERR_OUT_OF_MEMORY, "global: out of memory copying %lld tokens", (long long)count);
    memcpy(list, tokens, (size_t)count * sizeof *list);
    qsort(list, (size_t)count, sizeof *list, ga_cmp_i64);
    int64_t n = 0;
    for (int64_t t = 0; t < count; t++)
        if (n == 0 || list[n - 1] != list[t]) list[n++] = list[t];
    ga_component c;
    memset(&c, 0, sizeof c);
    c.kind = GA_COMP_GLOBAL;
    c.list = list;
    c.nrows = n;
    return ga_graph_push(g, &c);
}

ga_status ga_graph_add_documents(ga_graph *g, const int64_t *bounds, int64_t count, int causal) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_documents");
    GA_FAIL_IF(!bounds, GA_ERR_NULL_POINTER, "documents: bounds is NULL");
    GA_FAIL_IF(count < 1 || count > ((int64_t)1 << 40), GA_ERR_BAD_SIZE, "documents: count must be in [1, 2^40], got %lld",
               (long long)count);
    for (int64_t t = 0; t < count; t++) {
        GA_FAIL_IF(bounds[t] < 0, GA_ERR_INDEX_OUT_OF_RANGE, "documents: bounds[%lld] = %lld is negative", (long long)t,
                   (long long)bounds[t]);
        GA_FAIL_IF(t > 0 && bounds[t] < bounds[t - 1], GA_ERR_BAD_PARAMETER,
                   "documents: bounds must be nondecreasing, but bounds[%lld] = %lld follows %lld", (long long)t,
                   (long long)bounds[t], (long long)bounds[t - 1]);
    }
    int64_t *list = ga_malloc((size_t)count * sizeof *list);
    GA_FAIL_IF(!list, GA_ERR_OUT_OF_MEMORY, "documents: out of memory copying %lld bounds", (long long)count);
    memcpy(list, bounds, (size_t)count * sizeof *list);
    ga_component c;
    memset(&c, 0, sizeof c);
    c.kind = GA_COMP_DOCUMENTS;
    c.p[GA_P_CAUSAL] = causal != 0;
    c.list = list;
    c.nrows = count;
    return ga_graph_push(g, &c);
}

ga_status ga_graph_add_random(ga_graph *g, int64_t r, uint64_t seed) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_random");
    GA_FAIL_IF(r < 1 || r > GA_RANDOM_MAX_R, GA_ERR_BAD_PARAMETER, "random: r must be in [1, 2^22], got %lld",
               (long long)r);
    return ga_add_simple(g, GA_COMP_RANDOM, r, 0, 0, 0, seed);
}

ga_status ga_graph_add_bigbird(ga_graph *g, int64_t block, int64_t window_blocks, int64_t global_blocks,
                               int64_t random_blocks, uint64_t seed) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_bigbird");
    GA_FAIL_IF(block < 1 || block > GA_MAX_EXTENT, GA_ERR_BAD_PARAMETER, "bigbird: block must be in [1, 2^50], got %lld",
               (long long)block);
    GA_FAIL_IF(window_blocks < 0 || window_blocks > GA_MAX_EXTENT, GA_ERR_BAD_PARAMETER,
               "bigbird: window blocks must be in [0, 2^50], got %lld", (long long)window_blocks);
    GA_FAIL_IF(global_blocks < 0 || global_blocks > GA_MAX_EXTENT, GA_ERR_BAD_PARAMETER,
               "bigbird: global blocks must be in [0, 2^50], got %lld", (long long)global_blocks);
    GA_FAIL_IF(random_blocks < 0 || random_blocks > GA_RANDOM_MAX_R, GA_ERR_BAD_PARAMETER,
               "bigbird: random blocks must be in [0, 2^22], got %lld", (long long)random_blocks);
    const int64_t counts[2] = {window_blocks, global_blocks}; /* (random blocks: at most the key blocks) */
    static const char *const what[2] = {"window", "global"};
    for (int t = 0; t < 2; t++) {
        int64_t span;
        GA_FAIL_IF(ga_mul_overflow(block, counts[t], &span) || span > GA_MAX_EXTENT, GA_ERR_BAD_PARAMETER,
                   "bigbird: block * %s blocks = %lld * %lld is above 2^50 tokens", what[t], (long long)block,
                   (long long)counts[t]);
    }
    return ga_add_simple(g, GA_COMP_BIGBIRD, block, window_blocks, global_blocks, random_blocks, seed);
}

/* Validate CSR arrays: the full set of rules in graphattn.h. */
/* memcpy in 64 pieces over the OpenMP threads (a graph's columns can be gigabytes) */
static void ga_copy_parallel(void *dst, const void *src, size_t bytes) {
    const size_t piece = (bytes + 63) / 64;
#pragma omp parallel for num_threads(ga_cpu_threads(0)) schedule(static)
    for (int t = 0; t < 64; t++) {
        const size_t lo = (size_t)t * piece;
        if (lo < bytes) memcpy((char *)dst + lo, (const char *)src + lo, bytes - lo < piece ? bytes - lo : piece);
    }
}

/* Whether row i of a CSR is well formed: at most ncols entries, strictly increasing columns (so
 * no duplicates), the first >= 0 and the last < ncols (so all in range). Branch-light, for the
 * parallel scan below; the message for a bad row comes from the exact serial check. */
static int ga_csr_row_ok(const int64_t *row_ptr, const void *col, ga_index_type it, int64_t ncols, int64_t i) {
    const int64_t a = row_ptr[i], b = row_ptr[i + 1];
    if (b - a > ncols) return 0;
    if (b == a) return 1;
    int bad = 0;
    if (it == GA_INDEX_INT32) {
        const int32_t *c = (const int32_t *)col;
        if (c[a] < 0 || (int64_t)c[b - 1] >= ncols) return 0;
        for (int64_t e = a + 1; e < b; e++) bad |= c[e] <= c[e - 1];
    } else {
        const int64_t *c = (const int64_t *)col;
        if (c[a] < 0 || c[b - 1] >= ncols) return 0;
        for (int64_t e = a + 1; e < b; e++) bad |= c[e] <= c[e - 1];
    }
    return !bad;
}

/* The first row in [0, nrows) for which bad(i) holds, or nrows; split over the OpenMP threads
 * (each stops at its first bad row; the smallest wins, so the answer is the serial one). */
#define GA_FIRST_BAD_ROW(result, nrows, r, bad_expr)                                                     \
    do {                                                                                                 \
        int64_t first_ = (nrows);                                                                        \
        _Pragma("omp parallel for num_threads(ga_cpu_threads(0)) schedule(static) reduction(min : first_)") \
        for (int64_t t_ = 0; t_ < 64; t_++) {                                                            \
            const int64_t lo_ = (nrows) / 64 * t_ + (t_ < (nrows) % 64 ? t_ : (nrows) % 64);             \
            const int64_t hi_ = lo_ + (nrows) / 64 + (t_ < (nrows) % 64 ? 1 : 0);                        \
            for (int64_t r = lo_; r < hi_; r++)                                                          \
                if (bad_expr) {                                                                          \
                    if (r < first_) first_ = r;                                                          \
                    break;                                                                               \
                }                                                                                        \
        }                                                                                                \
        (result) = first_;                                                                               \
    } while (0)

/* The smallest count that holds index j (j + 1), saturated at INT64_MAX so that an index of
 * INT64_MAX does not overflow (the range check then rejects it); a negative one counts 1. */
static int64_t ga_count_after(int64_t j) { return j == INT64_MAX ? INT64_MAX : j < 1 ? 1 : j + 1; }

/* ncols == 0 (an open key count): *ncols_io becomes the largest column + 1 (at least 1) */
static ga_status ga_validate_csr(int64_t nrows, int64_t *ncols_io, const int64_t *row_ptr, const void *col,
                                 ga_index_type it) {
    int64_t ncols = *ncols_io;
    GA_FAIL_IF(nrows < 1, GA_ERR_BAD_SIZE, "csr: nrows must be >= 1, got %lld", (long long)nrows);
    GA_FAIL_IF(ncols < 0, GA_ERR_BAD_SIZE, "csr: ncols must be >= 1 (or 0: as many as the largest index needs), got %lld",
               (long long)ncols);
    GA_FAIL_IF(it != GA_INDEX_INT32 && it != GA_INDEX_INT64, GA_ERR_BAD_DTYPE, "csr: unknown index type %d", (int)it);
    /* int32 indices reach 2^31 - 1: enough for ncols = 2^31 */
    GA_FAIL_IF(it == GA_INDEX_INT32 && ncols > (int64_t)INT32_MAX + 1, GA_ERR_BAD_DTYPE,
               "csr: int32 column indices address at most 2^31 columns, not %lld (use int64)", (long long)ncols);
    GA_FAIL_IF(row_ptr[0] != 0, GA_ERR_ROW_PTR_START, "csr: row_ptr[0] must be 0, got %lld", (long long)row_ptr[0]);
    int64_t i;
    GA_FIRST_BAD_ROW(i, nrows, r, row_ptr[r + 1] < row_ptr[r]);
    GA_FAIL_IF(i < nrows, GA_ERR_ROW_PTR_NOT_MONOTONE, "csr: row_ptr decreases at row %lld (%lld then %lld)",
               (long long)i, (long long)row_ptr[i], (long long)row_ptr[i + 1]);
    int64_t nnz = row_ptr[nrows];
    GA_FAIL_IF(nnz > 0 && !col, GA_ERR_NULL_POINTER, "csr: col_idx is NULL with %lld edges", (long long)nnz);
    if (ncols == 0) { /* row_ptr is sound here: col holds nnz entries */
        ncols = 1;
        for (int64_t e = 0; e < nnz; e++) {
            const int64_t j = it == GA_INDEX_INT32 ? (int64_t)((const int32_t *)col)[e] : ((const int64_t *)col)[e];
            if (j >= ncols) ncols = ga_count_after(j);
        }
        *ncols_io = ncols;
    }
    GA_FAIL_IF(nnz / nrows > ncols || (nnz > 0 && (nnz - 1) / nrows >= ncols), GA_ERR_ROW_PTR_END,
               "csr: row_ptr[nrows] = %lld exceeds nrows*ncols", (long long)nnz);
    GA_FIRST_BAD_ROW(i, nrows, r, !ga_csr_row_ok(row_ptr, col, it, ncols, r));
    if (i == nrows) return GA_OK;
    /* the first bad row, checked entry by entry for the message */
    GA_FAIL_IF(row_ptr[i + 1] - row_ptr[i] > ncols, GA_ERR_INDEX_DUPLICATE,
               "csr: row %lld has %lld edges but there are only %lld columns", (long long)i,
               (long long)(row_ptr[i + 1] - row_ptr[i]), (long long)ncols);
    int64_t prev = -1;
    for (int64_t e = row_ptr[i]; e < row_ptr[i + 1]; e++) {
        int64_t j = it == GA_INDEX_INT32 ? (int64_t)((const int32_t *)col)[e] : ((const int64_t *)col)[e];
        GA_FAIL_IF(j < 0 || j >= ncols, GA_ERR_INDEX_OUT_OF_RANGE,
                   "csr: column %lld at row %lld (edge %lld) is out of range [0, %lld)", (long long)j, (long long)i,
                   (long long)e, (long long)ncols);
        GA_FAIL_IF(j == prev, GA_ERR_INDEX_DUPLICATE, "csr: column %lld appears twice in row %lld", (long long)j,
                   (long long)i);
        GA_FAIL_IF(j < prev, GA_ERR_INDEX_UNSORTED,
                   "csr: columns of row %lld are not increasing (%lld after %lld at edge %lld)", (long long)i,
                   (long long)j, (long long)prev, (long long)e);
        prev = j;
    }
    GA_FAIL(GA_ERR_INTERNAL, "csr: row %lld failed the quick check but not the exact one", (long long)i);
}

/* open: ncols is a lower bound (the largest index + 1), any Nk at or above it fits at call time */
static ga_status ga_push_csr(ga_graph *g, int64_t nrows, int64_t ncols, int open, int64_t *ptr, void *col,
                             ga_index_type it) {
    ga_component c;
    memset(&c, 0, sizeof c);
    c.kind = GA_COMP_CSR;
    c.p[0] = open ? 1 : 0;
    c.index_type = it;
    c.nrows = nrows;
    c.ncols = ncols;
    c.nnz = ptr[nrows];
    c.row_ptr = ptr;
    c.col = col;
    return ga_graph_push(g, &c);
}

ga_status ga_graph_add_csr(ga_graph *g, int64_t nrows, int64_t ncols, const int64_t *row_ptr, const void *col_idx,
                           ga_index_type it) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_csr");
    GA_FAIL_IF(!row_ptr, GA_ERR_NULL_POINTER, "csr: row_ptr is NULL");
    GA_FAIL_IF(nrows > ((int64_t)1 << 50), GA_ERR_BAD_SIZE, "csr: nrows %lld is too large", (long long)nrows);
    const int open = ncols == 0;
    GA_TRY(ga_validate_csr(nrows, &ncols, row_ptr, col_idx, it));
    int64_t nnz = row_ptr[nrows];
    size_t isz = it == GA_INDEX_INT32 ? 4 : 8;
    int64_t *ptr = ga_malloc((size_t)(nrows + 1) * sizeof *ptr);
    void *col = ga_malloc(nnz > 0 ? (size_t)nnz * isz : 1);
    if (!ptr || !col) {
        ga_free(ptr);
        ga_free(col);
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "csr: out of memory copying %lld rows and %lld edges", (long long)nrows,
                (long long)nnz);
    }
    ga_copy_parallel(ptr, row_ptr, (size_t)(nrows + 1) * sizeof *ptr);
    if (nnz > 0) ga_copy_parallel(col, col_idx, (size_t)nnz * isz);
    return ga_push_csr(g, nrows, ncols, open, ptr, col, it);
}

ga_status ga_graph_add_coo(ga_graph *g, int64_t nrows, int64_t ncols, int64_t nnz, const void *row, const void *col,
                           ga_index_type it) {
    ga_clear_error();
    GA_NEED_GRAPH(g, "ga_graph_add_coo");
    GA_FAIL_IF(nrows < 1 || nrows > ((int64_t)1 << 50), GA_ERR_BAD_SIZE, "coo: nrows must be in [1, 2^50], got %lld",
               (long long)nrows);
    GA_FAIL_IF(ncols < 0, GA_ERR_BAD_SIZE, "coo: ncols must be >= 1 (or 0: as many as the largest index needs), got %lld",
               (long long)ncols);
    GA_FAIL_IF(nnz < 0 || nnz > ((int64_t)1 << 56), GA_ERR_BAD_SIZE, "coo: nnz must be in [0, 2^56], got %lld",
               (long long)nnz);
    GA_FAIL_IF(nnz > 0 && (!row || !col), GA_ERR_NULL_POINTER, "coo: row or col is NULL");
    GA_FAIL_IF(it != GA_INDEX_INT32 && it != GA_INDEX_INT64, GA_ERR_BAD_DTYPE, "coo: unknown index type %d", (int)it);
    const int open = ncols == 0;
    if (open) {
        ncols = 1;
        for (int64_t e = 0; e < nnz; e++) {
            const int64_t j = it == GA_INDEX_INT32 ? (int64_t)((const int32_t *)col)[e] : ((const int64_t *)col)[e];
            if (j >= ncols) ncols = ga_count_after(j);
        }
    }
    /* int32 indices reach 2^31 - 1: enough for ncols = 2^31 */
    GA_FAIL_IF(it == GA_INDEX_INT32 && ncols > (int64_t)INT32_MAX + 1, GA_ERR_BAD_DTYPE,
               "coo: int32 column indices address at most 2^31 columns, not %lld (use int64)", (long long)ncols);
#define GA_COO_AT(a, e) (it == GA_INDEX_INT32 ? (int64_t)((const int32_t *)(a))[e] : ((const int64_t *)(a))[e])
    for (int64_t e = 0; e < nnz; e++) {
        int64_t r = GA_COO_AT(row, e), c = GA_COO_AT(col, e);
        GA_FAIL_IF(r < 0 || r >= nrows, GA_ERR_INDEX_OUT_OF_RANGE, "coo: row %lld of edge %lld is out of range [0, %lld)",
                   (long long)r, (long long)e, (long long)nrows);
        GA_FAIL_IF(c < 0 || c >= ncols, GA_ERR_INDEX_OUT_OF_RANGE,
                   "coo: column %lld of edge %lld is out of range [0, %lld)", (long long)c, (long long)e,
                   (long long)ncols);
    }
    size_t isz = it == GA_INDEX_INT32 ? 4 : 8;
    int64_t *ptr = ga_calloc((size_t)nrows + 1, sizeof *ptr);
    int64_t *fill = ga_calloc((size_t)nrows, sizeof *fill);
    void *out = ga_malloc(nnz > 0 ? (size_t)nnz * isz : 1);
    if (!ptr || !fill || !out) {
        ga_free(ptr); ga_free(fill); ga_free(out);
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "coo: out of memory converting %lld edges", (long long)nnz);
    }
    /* counting sort by row, then sort each row's columns */
    for (int64_t e = 0; e < nnz; e++) ptr[GA_COO_AT(row, e) + 1]++;
    for (int64_t i = 0; i < nrows; i++) ptr[i + 1] += ptr[i];
    for (int64_t e = 0; e < nnz; e++) {
        int64_t r = GA_COO_AT(row, e), dst = ptr[r] + fill[r]++;
        if (it == GA_INDEX_INT32) ((int32_t *)out)[dst] = ((const int32_t *)col)[e];
        else ((int64_t *)out)[dst] = ((const int64_t *)col)[e];
    }
#undef GA_COO_AT
    ga_free(fill);
    ga_status st = GA_OK;
    for (int64_t i = 0; i < nrows && st == GA_OK; i++) {
        int64_t n = ptr[i + 1] - ptr[i];
        if (it == GA_INDEX_INT32) {
            int32_t *a = (int32_t *)out + ptr[i];
            /* insertion sort is fine for short rows; qsort for long ones */
            for (int64_t x = 1; x < n && n <= 32; x++)
                for (int64_t y = x; y > 0 && a[y - 1] > a[y]; y--) { int32_t t = a[y]; a[y] = a[y - 1]; a[y - 1] = t; }
            if (n > 32) {
                int64_t *tmp = ga_malloc((size_t)n * sizeof *tmp);
                if (!tmp) { st = ga_raise(GA_ERR_OUT_OF_MEMORY, __FILE__, __LINE__, "coo: out of memory sorting"); break; }
                for (int64_t x = 0; x < n; x++) tmp[x] = a[x];
                qsort(tmp, (size_t)n, sizeof *tmp, ga_cmp_i64);
                for (int64_t x = 0; x < n; x++) a[x] = (int32_t)tmp[x];
                ga_free(tmp);
            }
            for (int64_t x = 1; x < n; x++)
                if (a[x] == a[x - 1]) {
                    st = ga_raise(GA_ERR_INDEX_DUPLICATE, __FILE__, __LINE__, "coo: edge (%lld, %lld) appears twice",
                                  (long long)i, (long long)a[x]);
                    break;
                }
        } else {
            int64_t *a = (int64_t *)out + ptr[i];
            qsort(a, (size_t)n, sizeof *a, ga_cmp_i64);
            for (int64_t x = 1; x < n; x++)
                if (a[x] == a[x - 1]) {
                    st = ga_raise(GA_ERR_INDEX_DUPLICATE, __FILE__, __LINE__, "coo: edge (%lld, %lld) appears twice",
                                  (long long)i, (long long)a[x]);
                    break;
                }
        }
    }
    if (st != GA_OK) {
        ga_free(ptr);
        ga_free(out);
        return st;
    }
    return ga_push_csr(g, nrows, ncols, open, ptr, out, it);
}

int64_t ga_graph_component_count(const ga_graph *g) { return g ? g->count : 0; }

int ga_graph_component_kind(const ga_graph *g, int64_t index) {
    if (!g || index < 0 || index >= g->count) return -1;
    return g->comps[index].kind;
}

uint64_t ga_hash64(uint64_t seed, int64_t row, int64_t t) { return ga_hash64_inline(seed, row, t); }

ga_status ga_check_token_counts(int64_t nq, int64_t nk) {
    GA_FAIL_IF(nq < 1 || nk < 1, GA_ERR_BAD_SIZE, "graph: Nq and Nk must be >= 1, got %lld and %lld", (long long)nq,
               (long long)nk);
    GA_FAIL_IF(nq > ((int64_t)1 << 40) || nk > ((int64_t)1 << 40), GA_ERR_BAD_SIZE,
               "graph: Nq and Nk must be <= 2^40, got %lld and %lld", (long long)nq, (long long)nk);
    return GA_OK;
}

ga_status ga_graph_check(const ga_graph *g, int64_t nq, int64_t nk) {
    ga_clear_error();
    GA_FAIL_IF(!g, GA_ERR_NULL_POINTER, "graph is NULL");
    GA_FAIL_IF(g->count == 0, GA_ERR_EMPTY_GRAPH, "graph has no components");
    GA_TRY(ga_check_token_counts(nq, nk));
    for (int64_t c = 0; c < g->count; c++) {
        const ga_component *k = &g->comps[c];
        if (k->kind == GA_COMP_CSR) {
            int ncols_ok = k->p[0] ? k->ncols <= nk : k->ncols == nk; /* p[0]: ncols is a lower bound */
            /* p[1]: rows from a coo spec's files, which cannot say that the last rows have no edges */
            GA_FAIL_IF(k->p[1] && k->nrows < nq && ncols_ok, GA_ERR_GRAPH_MISMATCH,
                       "graph component %lld (coo): its largest row index is %lld but the tensors have Nq=%lld "
                       "rows; a coo file pair cannot give rows after the last one with an edge (a csr pair can)",
                       (long long)c, (long long)k->nrows - 1, (long long)nq);
            GA_FAIL_IF(k->nrows != nq || !ncols_ok, GA_ERR_GRAPH_MISMATCH,
                       "graph component %lld (explicit) is %lld x %s%lld but the tensors are Nq=%lld x Nk=%lld",
                       (long long)c, (long long)k->nrows, k->p[0] ? "at least " : "", (long long)k->ncols,
                       (long long)nq, (long long)nk);
        } else if (k->kind == GA_COMP_GLOBAL) {
            int64_t last = k->list[k->nrows - 1], bound = nq > nk ? nq : nk;
            GA_FAIL_IF(last >= bound, GA_ERR_INDEX_OUT_OF_RANGE,
                       "graph component %lld (global): token %lld is out of range [0, max(Nq, Nk) = %lld)",
                       (long long)c, (long long)last, (long long)bound);
        }
    }
    return GA_OK;
}

/* See graph.h. Bigbird slots come in blocks of B (one key block each): the slots of a block
 * past the last key, and all slots of a random block that repeats a global or window block, are
 * holes. Skipping them in one step keeps a block far longer than Nk from costing O(B) per row
 * (found by fuzz_spec: bigbird:828888888888,0,0,3,74 took minutes at N = 37). */
int64_t ga_slot_run_end(const ga_component *k, const ga_row *r, int64_t t, int64_t *next) {
    if (k->kind != GA_COMP_BIGBIRD || r->a < 0) {
        *next = r->count;
        return r->count;
    }
    const int64_t B = k->p[GA_P_BLOCK]; /* t is a block start: r->count is a multiple of B */
    *next = t + B;
    const int64_t j0 = ga_comp_key(k, r, t);
    return j0 < 0 ? t : t + ga_min64(B, r->nk - j0);
}

int64_t ga_graph_for_each_edge(const ga_graph *g, int64_t nq, int64_t nk, int64_t i, ga_edge_fn fn, void *user) {
    int64_t degree = 0;
    for (int c = 0; c < (int)g->count; c++) {
        ga_row r = ga_comp_row(&g->comps[c], i, nq, nk);
        for (int64_t t = 0, next; t < r.count; t = next) {
            for (const int64_t end = ga_slot_run_end(&g->comps[c], &r, t, &next); t < end; t++) {
                int64_t j = ga_union_key(g->comps, c, &r, t, nq, nk);
                if (j < 0) continue;
                degree++;
                if (fn) fn(user, j);
            }
        }
    }
    return degree;
}

int64_t ga_graph_row_degree(const ga_graph *g, int64_t nq, int64_t nk, int64_t i) {
    /* The first component owns all of its slots, and only bigbird's slots can be holes: count
     * those in O(1) (so dense and causal rows do not cost O(Nk)); the rest slot by slot. */
    int64_t degree = 0;
    for (int c = 0; c < (int)g->count; c++) {
        ga_row r = ga_comp_row(&g->comps[c], i, nq, nk);
        if (c == 0 && g->comps[c].kind != GA_COMP_BIGBIRD) {
            degree += r.count;
            continue;
        }
        for (int64_t t = 0, next; t < r.count; t = next)
            for (const int64_t end = ga_slot_run_end(&g->comps[c], &r, t, &next); t < end; t++)
                degree += ga_union_key(g->comps, c, &r, t, nq, nk) >= 0;
    }
    return degree;
}

int64_t ga_graph_max_candidates(const ga_graph *g, int64_t nq, int64_t nk) {
    (void)nq;
    int64_t total = 0;
    for (int64_t c = 0; c < g->count; c++) {
        const ga_component *k = &g->comps[c];
        int64_t m = nk;
        if (k->kind == GA_COMP_RANDOM) m = ga_min64(k->p[GA_P_R], nk);
        total += m;
    }
    return total;
}

ga_status ga_graph_count_edges(const ga_graph *g, int64_t nq, int64_t nk, int64_t *edges) {
    ga_degree_stats s;
    GA_FAIL_IF(!edges, GA_ERR_NULL_POINTER, "ga_graph_count_edges: edges is NULL");
    GA_TRY(ga_graph_degree_stats(g, nq, nk, &s));
    *edges = s.edges;
    return GA_OK;
}

/* Graphs of dense, causal and window components and at most one global list (Longformer): the
 * degree of a row has a closed form, linear between a few breakpoint rows.
 *
 * Every interval component's row i holds i' = i + nk - nq before clamping (component.h's
 * ga_comp_row: [i' - L, i' + R], causal L = nk, R = 0, dense both 2^52), so their union is one
 * interval [i' - Lmax, i' + Rmax] clamped to the keys. Its length is linear on either side of the
 * rows where a clamp starts or ends (i' = Lmax, nk - 1 - Rmax) or it reaches 0 (i' = -Rmax - 1,
 * nk + Lmax). A global list's rows (listed, below nq) hold every key; every other row adds the
 * listed keys below nk that the interval misses, a count that changes only where a key enters
 * (i' = g - Rmax) or leaves (i' = g + Lmax + 1) the interval. Between those rows every degree is
 * linear, so each piece from one breakpoint to the row before the next sums as its ends' mean
 * times its length, the least and most are at the ends, and the piece is empty where both ends
 * are. O(G log G) for G listed tokens instead of a walk over nq rows (and nk keys for each
 * listed row). Returns 0 (nothing written) for other graphs, or a list past 2^16 tokens. */
typedef struct ga_closed_form {
    int64_t nq, nk, off, L, R; /* L < 0: no interval component */
    const int64_t *list;       /* the global list (sorted, distinct) or NULL */
    int64_t nlist, keys;       /* its length, and its tokens below nk */
} ga_closed_form;

static int64_t ga_closed_degree(const ga_closed_form *f, int64_t i) {
    if (f->list && ga_list_has(f->list, f->nlist, i)) return f->nk; /* a global row */
    if (f->L < 0) return f->keys;
    const int64_t d = i + f->off;
    const int64_t lo = ga_max64(0, d - f->L), hi = ga_min64(f->nk - 1, d + f->R);
    if (hi < lo) return f->keys;
    const int64_t inside = f->list ? ga_list_lower(f->list, f->nlist, hi + 1) - ga_list_lower(f->list, f->nlist, lo) : 0;
    return hi - lo + 1 + f->keys - inside;
}

static int ga_degree_stats_linear(const ga_graph *g, int64_t nq, int64_t nk, uint64_t *total, double *approx,
                                  int64_t *mn, int64_t *mx, int64_t *empty) {
    ga_closed_form f = {nq, nk, nk - nq, -1, -1, NULL, 0, 0};
    for (int64_t c = 0; c < g->count; c++) {
        const ga_component *k = &g->comps[c];
        int64_t L, R;
        if (k->kind == GA_COMP_DENSE) L = R = (int64_t)1 << 52; /* past every |i'| + nk */
        else if (k->kind == GA_COMP_CAUSAL) L = nk, R = 0;
        else if (k->kind == GA_COMP_WINDOW) L = k->p[GA_P_LEFT], R = k->p[GA_P_RIGHT];
        else if (k->kind == GA_COMP_GLOBAL && !f.list && k->nrows <= ((int64_t)1 << 16)) {
            f.list = k->list, f.nlist = k->nrows, f.keys = ga_list_lower(k->list, k->nrows, nk);
            continue;
        } else return 0;
        f.L = ga_max64(f.L, L), f.R = ga_max64(f.R, R); /* both >= 0 once any interval is seen */
    }
    /* |off| < 2^40, L and R <= 2^52, listed tokens < 2^63 - 2^51 (nothing past nq or nk counts): no
     * sum below overflows */
    int64_t *pts = ga_malloc((size_t)(6 + 4 * f.nlist) * sizeof *pts);
    if (!pts) return 0; /* the row walk needs no memory */
    int64_t n = 0;
    pts[n++] = 0;
    pts[n++] = nq - 1;
#define GA_POINT(row)                                                                                \
    do { const int64_t r_ = (row); if (r_ > 0 && r_ < nq - 1) pts[n++] = r_; } while (0)
    if (f.L >= 0) {
        GA_POINT(f.L - f.off);
        GA_POINT(nk - 1 - f.R - f.off);
        GA_POINT(-f.R - 1 - f.off);
        GA_POINT(nk + f.L - f.off);
    }
    for (int64_t t = 0; t < f.nlist; t++) {
        const int64_t x = ga_min64(f.list[t], (int64_t)1 << 52); /* past nq and nk: nothing */
        GA_POINT(x); /* a global row: a piece of its own */
        GA_POINT(x + 1);
        if (f.L >= 0 && x < nk) {
            GA_POINT(x - f.R - f.off);
            GA_POINT(x + f.L + 1 - f.off);
        }
    }
#undef GA_POINT
    qsort(pts, (size_t)n, sizeof pts[0], ga_cmp_i64);
    int64_t u = 0; /* the distinct points */
    for (int64_t t = 0; t < n; t++)
        if (u == 0 || pts[t] != pts[u - 1]) pts[u++] = pts[t];
    __extension__ unsigned __int128 sum = 0;
    double fsum = 0;
    int64_t lo = INT64_MAX, hi = 0, zeros = 0;
    for (int64_t t = 0; t < u; t++) {
        /* the piece [a, b]: a this point, b the row before the next point (or a itself at the end) */
        const int64_t a = pts[t], b = t + 1 < u ? pts[t + 1] - 1 : a, len = b - a + 1;
        const int64_t fa = ga_closed_degree(&f, a), fb = b == a ? fa : ga_closed_degree(&f, b);
        /* (fa + fb) * len is even for a linear integer piece: 2 fa + slope (len - 1) len */
        sum += (unsigned __int128)(uint64_t)(fa + fb) * (uint64_t)len / 2;
        fsum += (double)(fa + fb) * (double)len / 2;
        lo = ga_min64(lo, ga_min64(fa, fb));
        hi = ga_max64(hi, ga_max64(fa, fb));
        zeros += fa == 0 && fb == 0 ? len : (fa == 0) + (b != a && fb == 0);
    }
    ga_free(pts);
    *total = sum > (unsigned __int128)UINT64_MAX ? UINT64_MAX : (uint64_t)sum;
    *approx = fsum;
    *mn = lo;
    *mx = hi;
    *empty = zeros;
    return 1;
}

ga_status ga_graph_degree_stats(const ga_graph *g, int64_t nq, int64_t nk, ga_degree_stats *stats) {
    GA_TRY(ga_graph_check(g, nq, nk));
    GA_FAIL_IF(!stats, GA_ERR_NULL_POINTER, "ga_graph_degree_stats: stats is NULL");
    /* The edge count can exceed int64 (nq and nk up to 2^40 each): the exact sum modulo 2^64 in
     * uint64 beside an fp64 one. fp64's relative error here is at most nq * 2^-53 <= 2^-13, so
     * below 2^63.5 in fp64 the true sum is below 2^64 and the uint64 one is exact; above it the
     * true sum is above 2^63. */
    uint64_t total = 0;
    double approx = 0;
    int64_t mn = INT64_MAX, mx = 0, empty = 0;
    if (!ga_degree_stats_linear(g, nq, nk, &total, &approx, &mn, &mx, &empty)) {
#pragma omp parallel for num_threads(ga_cpu_threads(0)) schedule(dynamic, 1024) reduction(+ : total, approx, empty) reduction(min : mn) \
    reduction(max : mx)
        for (int64_t i = 0; i < nq; i++) {
            int64_t d = ga_graph_row_degree(g, nq, nk, i);
            total += (uint64_t)d;
            approx += (double)d;
            if (d < mn) mn = d;
            if (d > mx) mx = d;
            if (d == 0) empty++;
        }
    }
    GA_FAIL_IF(approx >= 0x1.6a09e667f3bcdp+63 /* 2^63.5 */ || total > (uint64_t)INT64_MAX, GA_ERR_OVERFLOW,
               "the graph has %.4g edges at Nq=%lld, Nk=%lld: more than int64 counts", approx, (long long)nq,
               (long long)nk);
    stats->edges = (int64_t)total;
    stats->min_degree = mn;
    stats->max_degree = mx;
    stats->empty_rows = empty;
    stats->mean_degree = (double)total / (double)nq;
    return GA_OK;
}

typedef struct {
    int64_t *keys;
    int64_t capacity, n;
} ga_collect;

static void ga_collect_edge(void *user, int64_t j) {
    ga_collect *c = user;
    if (c->n < c->capacity) c->keys[c->n] = j;
    c->n++;
}

ga_status ga_graph_row(const ga_graph *g, int64_t nq, int64_t nk, int64_t row, int64_t *keys, int64_t capacity,
                       int64_t *degree) {
    GA_TRY(ga_graph_check(g, nq, nk));
    GA_FAIL_IF(!degree, GA_ERR_NULL_POINTER, "ga_graph_row: degree is NULL");
    GA_FAIL_IF(capacity < 0, GA_ERR_BAD_SIZE, "ga_graph_row: capacity is negative");
    GA_FAIL_IF(capacity > 0 && !keys, GA_ERR_NULL_POINTER, "ga_graph_row: keys is NULL");
    GA_FAIL_IF(row < 0 || row >= nq, GA_ERR_INDEX_OUT_OF_RANGE, "ga_graph_row: row %lld is out of range [0, %lld)",
               (long long)row, (long long)nq);
    /* the degree first: keys are written only when all of them fit (a prefix in generator order
     * would be neither sorted nor the row's first keys) */
    const int64_t d = ga_graph_row_degree(g, nq, nk, row);
    if (d <= capacity && d > 0) {
        /* the edges counted before any is written (a rejected call writes nothing) */
        const int64_t n = ga_graph_for_each_edge(g, nq, nk, row, NULL, NULL);
        GA_FAIL_IF(n != d, GA_ERR_INTERNAL, "ga_graph_row: row %lld has %lld edges but its degree is %lld",
                   (long long)row, (long long)n, (long long)d);
        ga_collect c = {keys, capacity, 0};
        ga_graph_for_each_edge(g, nq, nk, row, ga_collect_edge, &c);
        qsort(keys, (size_t)c.n, sizeof *keys, ga_cmp_i64);
    }
    *degree = d;
    return GA_OK;
}

ga_status ga_graph_to_csr(const ga_graph *g, int64_t nq, int64_t nk, int64_t *row_ptr, int64_t *col_idx,
                          int64_t capacity) {
    GA_TRY(ga_graph_check(g, nq, nk));
    GA_FAIL_IF(!row_ptr, GA_ERR_NULL_POINTER, "ga_graph_to_csr: row_ptr is NULL");
    GA_FAIL_IF(capacity < 0, GA_ERR_BAD_SIZE, "ga_graph_to_csr: capacity is negative");
    GA_FAIL_IF(capacity > 0 && !col_idx, GA_ERR_NULL_POINTER, "ga_graph_to_csr: col_idx is NULL");
    /* degrees first into a private array, so nothing is written when the edges do not fit */
    int64_t *deg = ga_malloc((size_t)(nq + 1) * sizeof *deg);
    GA_FAIL_IF(!deg, GA_ERR_OUT_OF_MEMORY, "ga_graph_to_csr: out of memory");
    deg[0] = 0;
#pragma omp parallel for num_threads(ga_cpu_threads(0)) schedule(dynamic, 1024)
    for (int64_t i = 0; i < nq; i++) deg[i + 1] = ga_graph_row_degree(g, nq, nk, i);
    for (int64_t i = 0; i < nq; i++) {
        if (ga_add_overflow(deg[i], deg[i + 1], &deg[i + 1])) { /* as ga_graph_count_edges says */
            ga_free(deg);
            GA_FAIL(GA_ERR_OVERFLOW, "ga_graph_to_csr: the graph has more than 2^63 - 1 edges");
        }
    }
    if (deg[nq] > capacity) {
        int64_t need = deg[nq];
        ga_free(deg);
        GA_FAIL(GA_ERR_BAD_SIZE, "ga_graph_to_csr: the graph has %lld edges but col_idx holds %lld", (long long)need,
                (long long)capacity);
    }
    memcpy(row_ptr, deg, (size_t)(nq + 1) * sizeof *deg);
    ga_free(deg);
#pragma omp parallel for num_threads(ga_cpu_threads(0)) schedule(dynamic, 1024)
    for (int64_t i = 0; i < nq; i++) {
        ga_collect c = {col_idx + row_ptr[i], row_ptr[i + 1] - row_ptr[i], 0};
        ga_graph_for_each_edge(g, nq, nk, i, ga_collect_edge, &c);
        if (c.n > 0) qsort(c.keys, (size_t)c.n, sizeof *c.keys, ga_cmp_i64);
    }
    return GA_OK;
}
