/* Allocation-failure injection (src/common/alloc.h). For each representative call, the k-th host
 * allocation is made to fail for k = 0, 1, 2, ... until the call makes fewer than k + 1
 * allocations and succeeds. Every failing attempt must
 *   - return GA_ERR_OUT_OF_MEMORY (not crash, not another status) with a detail,
 *   - leave its inputs bit-identical (checksums before and after),
 *   - leave its outputs untouched (the poison written before the call is still there),
 *   - leak nothing (run under AddressSanitizer with detect_leaks=1: LeakSanitizer fails the run),
 * and the next call, with no failure injected, must succeed with the correct result.
 * Each sweep runs twice: one allocation fails ("one"), and every allocation from the k-th on
 * fails ("from": memory that stays exhausted). Each sweep prints how many failures it injected. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "graph/graph.h"
#include "graph/row_ranges.h"
#include "graph/tile_plan.h"
#include "io/npy.h"
#include "test.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* ------------------------------------------------------------------------------------------ */
/* The sweep                                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct fault_call {
    const char *name;
    void *ctx;
    void (*prepare)(void *ctx);                        /* before each attempt: poison outputs, reset state */
    ga_status (*run)(void *ctx);                       /* the call under test */
    void (*check_failed)(void *ctx, const char *where); /* inputs intact, outputs untouched */
    void (*check_succeeded)(void *ctx, const char *where); /* correct result; releases what the call made */
} fault_call;

#define MAX_K 100000

static uint64_t checksum(const void *data, size_t bytes) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < bytes; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Runs the sweep; returns the number of failures injected (= allocations the call makes). */
static int64_t sweep_mode(const fault_call *fc, int sticky) {
    char where[256];
    const int failures0 = ga_test_failures();
    int64_t k;
    for (k = 0; k <= MAX_K; k++) {
        snprintf(where, sizeof where, "%s [%s failure at allocation %lld]", fc->name, sticky ? "from" : "one",
                 (long long)k);
        fc->prepare(fc->ctx);
        const int64_t injected0 = ga_alloc_failures_injected();
        if (sticky) ga_alloc_fail_from(k);
        else ga_alloc_fail_after(k);
        ga_status s = fc->run(fc->ctx);
        ga_alloc_fail_after(-1);
        const int fired = ga_alloc_failures_injected() > injected0;
        if (!fired) {
            /* the call made at most k allocations: none failed, so it must have succeeded */
            if (s != GA_OK)
                ga_test_fail(__FILE__, __LINE__, "%s: no failure was injected but the call returned %s (%s)", where,
                             ga_status_string(s), ga_last_error_detail());
            else fc->check_succeeded(fc->ctx, where);
            break;
        }
        if (s != GA_ERR_OUT_OF_MEMORY) {
            ga_test_fail(__FILE__, __LINE__, "%s: got %s, want GA_ERR_OUT_OF_MEMORY (detail: %s)", where,
                         ga_status_string(s), ga_last_error_detail());
            if (s == GA_OK) fc->check_succeeded(fc->ctx, where); /* release what it made */
        } else {
            if (ga_last_error_detail()[0] == '\0')
                ga_test_fail(__FILE__, __LINE__, "%s: GA_ERR_OUT_OF_MEMORY without a detail", where);
            fc->check_failed(fc->ctx, where);
        }
        /* the next call, with no failure injected, succeeds with the correct result */
        fc->prepare(fc->ctx);
        s = fc->run(fc->ctx);
        if (s != GA_OK)
            ga_test_fail(__FILE__, __LINE__, "%s: the next call without injected failures returned %s (%s)", where,
                         ga_status_string(s), ga_last_error_detail());
        else fc->check_succeeded(fc->ctx, where);
        if (ga_test_failures() > failures0) break; /* one broken k is enough to report */
    }
    if (k > MAX_K) ga_test_fail(__FILE__, __LINE__, "%s: still failing after %d injected failures", fc->name, MAX_K);
    printf("faults: %-58s %-4s %3lld injected failures\n", fc->name, sticky ? "from" : "one", (long long)k);
    return k;
}

static int64_t sweep(const fault_call *fc) { return sweep_mode(fc, 0) + sweep_mode(fc, 1); }

static void check_fail(int line, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check_fail(int line, const char *where, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ga_test_fail(__FILE__, line, "%s: %s", where, msg);
}
#define CHECK(cond, where, ...)                                                                      \
    do {                                                                                             \
        if (!(cond)) check_fail(__LINE__, (where), __VA_ARGS__);                                     \
    } while (0)

/* ------------------------------------------------------------------------------------------ */
/* The hook itself                                                                             */
/* ------------------------------------------------------------------------------------------ */

TEST(hook_fails_exactly_the_kth_allocation) {
    ga_alloc_fail_after(2);
    void *a = ga_malloc(8), *b = ga_calloc(2, 8), *c = ga_malloc(8), *d = ga_malloc(8);
    EXPECT_TRUE(a != NULL);
    EXPECT_TRUE(b != NULL);
    EXPECT_TRUE(c == NULL);
    EXPECT_TRUE(d != NULL);
    /* a failed realloc keeps the old block */
    ga_alloc_fail_after(0);
    void *e = ga_realloc(a, 64);
    EXPECT_TRUE(e == NULL);
    ga_free(a);
    ga_free(b);
    ga_free(d);
    ga_alloc_fail_from(1);
    void *f = ga_malloc(8), *g = ga_malloc(8), *h = ga_malloc(8);
    EXPECT_TRUE(f != NULL && g == NULL && h == NULL);
    ga_alloc_fail_after(-1);
    void *i = ga_malloc(8);
    EXPECT_TRUE(i != NULL);
    ga_free(f);
    ga_free(i);
}

TEST(hook_fails_one_allocation_among_concurrent_threads) {
    enum { THREADS = 4, PER_THREAD = 2000 };
    const int64_t count0 = ga_alloc_count(), injected0 = ga_alloc_failures_injected();
    int nulls = 0;
    ga_alloc_fail_after(3333);
#ifdef _OPENMP
#pragma omp parallel num_threads(THREADS) reduction(+ : nulls)
#endif
    for (int n = 0; n < PER_THREAD; n++) {
        void *p = ga_malloc(16);
        nulls += p == NULL;
        ga_free(p);
    }
    ga_alloc_fail_after(-1);
#ifdef _OPENMP
    const int64_t made = (int64_t)THREADS * PER_THREAD;
#else
    const int64_t made = PER_THREAD;
#endif
    EXPECT_EQ_I64(nulls, 1);
    EXPECT_EQ_I64(ga_alloc_failures_injected() - injected0, 1);
    EXPECT_EQ_I64(ga_alloc_count() - count0, made);
}

/* ------------------------------------------------------------------------------------------ */
/* Graphs                                                                                      */
/* ------------------------------------------------------------------------------------------ */

enum { GN = 48 }; /* queries and keys of the graph fixtures */

/* The edges of a graph over GN x GN as CSR (caller frees), computed with no failure armed. */
typedef struct csr_image {
    int64_t ptr[GN + 1];
    int64_t *col;
    int64_t nnz;
} csr_image;

static int graph_image(const ga_graph *g, csr_image *img) {
    img->col = NULL;
    if (ga_graph_count_edges(g, GN, GN, &img->nnz) != GA_OK) return 0;
    img->col = malloc((size_t)(img->nnz + 1) * sizeof *img->col);
    return ga_graph_to_csr(g, GN, GN, img->ptr, img->col, img->nnz) == GA_OK;
}

static int same_image(const csr_image *a, const csr_image *b) {
    return a->nnz == b->nnz && memcmp(a->ptr, b->ptr, sizeof a->ptr) == 0 &&
           memcmp(a->col, b->col, (size_t)a->nnz * sizeof *a->col) == 0;
}

/* Explicit edges used by the csr/coo fixtures: row 5 holds 40 keys (so the COO conversion takes
 * its long-row sort path), the others a few scattered ones; row 7 none. */
typedef struct edge_list {
    int64_t ptr[GN + 1];
    int64_t col[GN * GN];
    int32_t coo_row[GN * GN], coo_col[GN * GN]; /* the same edges, shuffled, int32 */
    int64_t nnz;
} edge_list;

static void make_edges(edge_list *e) {
    e->nnz = 0;
    e->ptr[0] = 0;
    for (int64_t i = 0; i < GN; i++) {
        for (int64_t j = 0; j < GN; j++) {
            const int take = i == 5 ? j < 40 : i == 7 ? 0 : (i * 7 + j * 13) % 11 == 0;
            if (take) e->col[e->nnz++] = j;
        }
        e->ptr[i + 1] = e->nnz;
    }
    for (int64_t i = 0, n = 0; i < GN; i++)
        for (int64_t x = e->ptr[i]; x < e->ptr[i + 1]; x++, n++) {
            e->coo_row[n] = (int32_t)i;
            e->coo_col[n] = (int32_t)e->col[x];
        }
    for (int64_t n = e->nnz - 1; n > 0; n--) { /* a fixed shuffle */
        const int64_t m = (n * 2654435761u) % (uint64_t)(n + 1);
        int32_t t = e->coo_row[n]; e->coo_row[n] = e->coo_row[m]; e->coo_row[m] = t;
        t = e->coo_col[n]; e->coo_col[n] = e->coo_col[m]; e->coo_col[m] = t;
    }
}

/* A graph with four components (a fifth one grows the component array). */
static ga_graph *four_component_graph(void) {
    const int64_t toks[] = {3, 30};
    ga_graph *g = NULL;
    if (ga_graph_create(&g) != GA_OK) return NULL;
    ga_graph_add_window(g, 1, 1);
    ga_graph_add_global(g, toks, 2);
    ga_graph_add_random(g, 2, 9);
    ga_graph_add_blocks(g, 16);
    return g;
}

/* ---- adding a component to an existing graph --------------------------------------------- */

typedef enum add_kind { ADD_CSR, ADD_COO, ADD_GLOBAL, ADD_DOCUMENTS } add_kind;

typedef struct add_ctx {
    add_kind kind;
    edge_list e;
    uint64_t in_sum;
    ga_graph *g;
    csr_image before, want; /* the graph's edges before, and after a successful add */
    int64_t toks[64];
    int64_t bounds[5]; /* documents: 0 and GN listed, as in cu_seqlens */
} add_ctx;

static uint64_t add_inputs_sum(const add_ctx *c) {
    return checksum(&c->e, sizeof c->e) ^ checksum(c->toks, sizeof c->toks) ^ checksum(c->bounds, sizeof c->bounds);
}

static ga_status add_call(add_ctx *c) {
    switch (c->kind) {
    case ADD_CSR: return ga_graph_add_csr(c->g, GN, GN, c->e.ptr, c->e.col, GA_INDEX_INT64);
    case ADD_COO: return ga_graph_add_coo(c->g, GN, GN, c->e.nnz, c->e.coo_row, c->e.coo_col, GA_INDEX_INT32);
    case ADD_DOCUMENTS: return ga_graph_add_documents(c->g, c->bounds, 5, 1);
    default: return ga_graph_add_global(c->g, c->toks, 64);
    }
}

static void add_prepare(void *p) {
    add_ctx *c = p;
    ga_graph_destroy(c->g);
    c->g = four_component_graph();
}
static ga_status add_run(void *p) { return add_call((add_ctx *)p); }
static void add_check_failed(void *p, const char *where) {
    add_ctx *c = p;
    csr_image now;
    CHECK(add_inputs_sum(c) == c->in_sum, where, "the input arrays changed");
    CHECK(ga_graph_component_count(c->g) == 4, where, "the graph has %lld components, want the 4 it had",
          (long long)ga_graph_component_count(c->g));
    CHECK(graph_image(c->g, &now) && same_image(&now, &c->before), where, "the graph's edges changed");
    free(now.col);
}
static void add_check_succeeded(void *p, const char *where) {
    add_ctx *c = p;
    csr_image now;
    CHECK(add_inputs_sum(c) == c->in_sum, where, "the input arrays changed");
    CHECK(ga_graph_component_count(c->g) == 5, where, "the graph has %lld components, want 5",
          (long long)ga_graph_component_count(c->g));
    CHECK(graph_image(c->g, &now) && same_image(&now, &c->want), where, "the graph's edges are wrong");
    free(now.col);
}

static void add_sweep(add_kind kind, const char *name) {
    add_ctx *c = calloc(1, sizeof *c);
    c->kind = kind;
    make_edges(&c->e);
    for (int t = 0; t < 64; t++) c->toks[t] = (t * 37) % GN; /* duplicates: sorted and de-duplicated */
    for (int t = 0; t < 5; t++) c->bounds[t] = t * GN / 4;
    c->in_sum = add_inputs_sum(c);
    c->g = four_component_graph();
    ASSERT_TRUE(graph_image(c->g, &c->before));
    ASSERT_OK(add_call(c));
    ASSERT_TRUE(graph_image(c->g, &c->want));
    fault_call fc = {name, c, add_prepare, add_run, add_check_failed, add_check_succeeded};
    EXPECT_TRUE(sweep(&fc) > 0);
    ga_graph_destroy(c->g);
    free(c->before.col);
    free(c->want.col);
    free(c);
}

TEST(add_csr_survives_every_allocation_failure) { add_sweep(ADD_CSR, "ga_graph_add_csr (5th component)"); }
TEST(add_coo_survives_every_allocation_failure) { add_sweep(ADD_COO, "ga_graph_add_coo (int32, a 40-key row)"); }
TEST(add_global_survives_every_allocation_failure) { add_sweep(ADD_GLOBAL, "ga_graph_add_global (64 tokens)"); }
TEST(add_documents_survives_every_allocation_failure) {
    add_sweep(ADD_DOCUMENTS, "ga_graph_add_documents (4 causal documents)");
}

/* ---- ga_graph_create ---------------------------------------------------------------------- */

typedef struct create_ctx {
    ga_graph *out;
    ga_graph *poison;
} create_ctx;

static void create_prepare(void *p) {
    create_ctx *c = p;
    c->out = c->poison;
}
static ga_status create_run(void *p) { return ga_graph_create(&((create_ctx *)p)->out); }
static void create_check_failed(void *p, const char *where) {
    create_ctx *c = p;
    CHECK(c->out == c->poison, where, "*graph was written");
}
static void create_check_succeeded(void *p, const char *where) {
    create_ctx *c = p;
    CHECK(c->out != c->poison && c->out != NULL && ga_graph_component_count(c->out) == 0, where, "no empty graph");
    if (c->out != c->poison) ga_graph_destroy(c->out);
}

TEST(graph_create_survives_allocation_failure) {
    static int anchor;
    create_ctx c = {NULL, (ga_graph *)(void *)&anchor};
    fault_call fc = {"ga_graph_create", &c, create_prepare, create_run, create_check_failed, create_check_succeeded};
    EXPECT_EQ_I64(sweep(&fc), 2);
}

/* ---- ga_graph_parse of a multi-component spec with csr: and coo: files --------------------- */

typedef struct parse_ctx {
    char dir[64], spec[512], files[4][96];
    uint64_t file_sums[4];
    ga_graph *out, *poison;
    csr_image want;
    /* ga_graph_add_spec: the spec (all of `spec` but its window) onto a graph holding a window,
     * whose edges are base before and want after */
    const char *tail;
    ga_graph *target;
    csr_image base;
} parse_ctx;

static uint64_t file_sum(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint64_t h = 0xcbf29ce484222325ull;
    for (int ch; (ch = fgetc(f)) != EOF;) h = (h ^ (unsigned char)ch) * 0x100000001b3ull;
    fclose(f);
    return h;
}

static void parse_prepare(void *p) {
    parse_ctx *c = p;
    c->out = c->poison;
}
static ga_status parse_run(void *p) {
    parse_ctx *c = p;
    return ga_graph_parse(c->spec, &c->out);
}
static void parse_check_inputs(parse_ctx *c, const char *where) {
    for (int f = 0; f < 4; f++) CHECK(file_sum(c->files[f]) == c->file_sums[f], where, "%s changed", c->files[f]);
}
static void parse_check_failed(void *p, const char *where) {
    parse_ctx *c = p;
    parse_check_inputs(c, where);
    CHECK(c->out == c->poison, where, "*graph was written");
}
static void parse_check_succeeded(void *p, const char *where) {
    parse_ctx *c = p;
    parse_check_inputs(c, where);
    csr_image now;
    CHECK(c->out != c->poison && c->out && ga_graph_component_count(c->out) == 5, where, "wrong graph");
    if (c->out == c->poison || !c->out) return;
    CHECK(graph_image(c->out, &now) && same_image(&now, &c->want), where, "the parsed graph's edges are wrong");
    free(now.col);
    ga_graph_destroy(c->out);
}

static void add_spec_prepare(void *p) {
    parse_ctx *c = p;
    c->target = NULL;
    if (ga_graph_create(&c->target) != GA_OK || ga_graph_add_window(c->target, 2, 2) != GA_OK)
        ga_test_fail(__FILE__, __LINE__, "could not make the target graph");
}
static ga_status add_spec_run(void *p) {
    parse_ctx *c = p;
    return ga_graph_add_spec(c->target, c->tail);
}
static void add_spec_check_failed(void *p, const char *where) {
    parse_ctx *c = p;
    parse_check_inputs(c, where);
    csr_image now;
    CHECK(ga_graph_component_count(c->target) == 1, where, "the graph holds %lld components, not its 1",
          (long long)ga_graph_component_count(c->target));
    CHECK(graph_image(c->target, &now) && same_image(&now, &c->base), where, "the graph's edges changed");
    free(now.col);
    ga_graph_destroy(c->target);
}
static void add_spec_check_succeeded(void *p, const char *where) {
    parse_ctx *c = p;
    parse_check_inputs(c, where);
    csr_image now;
    CHECK(ga_graph_component_count(c->target) == 5, where, "wrong graph");
    CHECK(graph_image(c->target, &now) && same_image(&now, &c->want), where, "the graph's edges are wrong");
    free(now.col);
    ga_graph_destroy(c->target);
}

TEST(graph_parse_of_csr_coo_and_implicit_components_survives_every_allocation_failure) {
    static int anchor;
    parse_ctx *c = calloc(1, sizeof *c);
    edge_list *e = calloc(1, sizeof *e);
    make_edges(e);
    c->poison = (ga_graph *)(void *)&anchor;
    snprintf(c->dir, sizeof c->dir, "/tmp/ga_faults_XXXXXX");
    ASSERT_TRUE(mkdtemp(c->dir) != NULL);
    const char *names[4] = {"ptr.npy", "idx.npy", "row.npy", "col.npy"};
    for (int f = 0; f < 4; f++) snprintf(c->files[f], sizeof c->files[f], "%s/%s", c->dir, names[f]);
    /* coo rows/cols: the csr edges moved one row down (row GN-1's edges dropped) */
    int64_t nc = 0;
    int64_t *cr = malloc(sizeof(int64_t) * (size_t)e->nnz), *cc = malloc(sizeof(int64_t) * (size_t)e->nnz);
    for (int64_t n = 0; n < e->nnz; n++)
        if (e->coo_row[n] + 1 < GN) { cr[nc] = e->coo_row[n] + 1; cc[nc] = e->coo_col[n]; nc++; }
    const int64_t np = GN + 1;
    ASSERT_OK(ga_npy_save(c->files[0], GA_NPY_I64, 1, &np, e->ptr));
    {
        int32_t *col32 = malloc(sizeof(int32_t) * (size_t)e->nnz);
        for (int64_t n = 0; n < e->nnz; n++) col32[n] = (int32_t)e->col[n];
        ASSERT_OK(ga_npy_save(c->files[1], GA_NPY_I32, 1, &e->nnz, col32));
        free(col32);
    }
    ASSERT_OK(ga_npy_save(c->files[2], GA_NPY_I64, 1, &nc, cr));
    ASSERT_OK(ga_npy_save(c->files[3], GA_NPY_I64, 1, &nc, cc));
    for (int f = 0; f < 4; f++) c->file_sums[f] = file_sum(c->files[f]);
    snprintf(c->spec, sizeof c->spec, "window:2 + global:0,47 + csr:%s,%s + coo:%s,%s + random:3,11", c->files[0],
             c->files[1], c->files[2], c->files[3]);

    /* the same graph through the API */
    ga_graph *g = NULL;
    const int64_t toks[] = {0, 47};
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_window(g, 2, 2));
    ASSERT_OK(ga_graph_add_global(g, toks, 2));
    ASSERT_OK(ga_graph_add_csr(g, GN, GN, e->ptr, e->col, GA_INDEX_INT64));
    ASSERT_OK(ga_graph_add_coo(g, GN, GN, nc, cr, cc, GA_INDEX_INT64));
    ASSERT_OK(ga_graph_add_random(g, 3, 11));
    ASSERT_TRUE(graph_image(g, &c->want));
    ga_graph_destroy(g);

    fault_call fc = {"ga_graph_parse (window+global+csr:+coo:+random)", c, parse_prepare, parse_run,
                     parse_check_failed, parse_check_succeeded};
    EXPECT_TRUE(sweep(&fc) > 10);

    /* the same components but the window added to an existing graph, which keeps its window
     * and nothing else whichever allocation fails */
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_window(g, 2, 2));
    ASSERT_TRUE(graph_image(g, &c->base));
    ga_graph_destroy(g);
    c->tail = strchr(c->spec, '+') + 1;
    fault_call fa = {"ga_graph_add_spec (global+csr:+coo:+random onto a window)", c, add_spec_prepare, add_spec_run,
                     add_spec_check_failed, add_spec_check_succeeded};
    EXPECT_TRUE(sweep(&fa) > 10);
    free(c->base.col);
    for (int f = 0; f < 4; f++) unlink(c->files[f]);
    rmdir(c->dir);
    free(cr);
    free(cc);
    free(c->want.col);
    free(c);
    free(e);
}

/* ---- ga_graph_to_csr ---------------------------------------------------------------------- */

typedef struct to_csr_ctx {
    ga_graph *g;
    csr_image want, got;
    csr_image before_graph;
} to_csr_ctx;

static void to_csr_prepare(void *p) {
    to_csr_ctx *c = p;
    memset(c->got.ptr, 0xA5, sizeof c->got.ptr);
    memset(c->got.col, 0xA5, (size_t)c->want.nnz * sizeof *c->got.col);
}
static ga_status to_csr_run(void *p) {
    to_csr_ctx *c = p;
    return ga_graph_to_csr(c->g, GN, GN, c->got.ptr, c->got.col, c->want.nnz);
}
static int all_bytes(const void *data, size_t bytes, unsigned char v) {
    const unsigned char *b = data;
    for (size_t i = 0; i < bytes; i++)
        if (b[i] != v) return 0;
    return 1;
}
static void to_csr_check_failed(void *p, const char *where) {
    to_csr_ctx *c = p;
    CHECK(all_bytes(c->got.ptr, sizeof c->got.ptr, 0xA5), where, "row_ptr was written");
    CHECK(all_bytes(c->got.col, (size_t)c->want.nnz * sizeof *c->got.col, 0xA5), where, "col_idx was written");
}
static void to_csr_check_succeeded(void *p, const char *where) {
    to_csr_ctx *c = p;
    c->got.nnz = c->want.nnz;
    CHECK(same_image(&c->got, &c->want), where, "wrong CSR");
}

TEST(to_csr_survives_allocation_failure) {
    to_csr_ctx c;
    memset(&c, 0, sizeof c);
    c.g = four_component_graph();
    ASSERT_TRUE(graph_image(c.g, &c.want));
    c.got.col = malloc((size_t)c.want.nnz * sizeof *c.got.col);
    fault_call fc = {"ga_graph_to_csr", &c, to_csr_prepare, to_csr_run, to_csr_check_failed, to_csr_check_succeeded};
    EXPECT_TRUE(sweep(&fc) > 0);
    free(c.want.col);
    free(c.got.col);
    ga_graph_destroy(c.g);
}

/* ------------------------------------------------------------------------------------------ */
/* Attention                                                                                   */
/* ------------------------------------------------------------------------------------------ */

enum { FB = 2, FN = 600, FH = 2, FHKV = 1, FD = 16 };

typedef struct fwd_ctx {
    ga_graph *g;
    ga_options opt;
    int accumulate;
    float *q, *k, *v, *out, *lse;
    float *prior_out, *prior_lse; /* accumulate: the state before the call; else the poison */
    float *want_out, *want_lse;
    uint64_t q_sum, k_sum, v_sum;
} fwd_ctx;

#define NQE ((size_t)FB * FN * FH * FD)
#define NKE ((size_t)FB * FN * FHKV * FD)
#define NL ((size_t)FB * FN * FH)

static void fill_values(float *x, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (seed + i) * 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
        x[i] = (float)((double)(z >> 11) / 9007199254740992.0 * 4.0 - 2.0);
    }
}

static ga_status fwd_call(fwd_ctx *c) {
    ga_tensor q = ga_tensor_make(c->q, GA_F32, GA_DEVICE_CPU, FB, FN, FH, FD);
    ga_tensor k = ga_tensor_make(c->k, GA_F32, GA_DEVICE_CPU, FB, FN, FHKV, FD);
    ga_tensor v = ga_tensor_make(c->v, GA_F32, GA_DEVICE_CPU, FB, FN, FHKV, FD);
    ga_tensor o = ga_tensor_make(c->out, GA_F32, GA_DEVICE_CPU, FB, FN, FH, FD);
    ga_tensor l = ga_tensor_make(c->lse, GA_F32, GA_DEVICE_CPU, FB, FN, FH, 1);
    return ga_attention_forward(c->g, &q, &k, &v, &o, &l, &c->opt, NULL, 0);
}

static void fwd_prepare(void *p) {
    fwd_ctx *c = p;
    memcpy(c->out, c->prior_out, NQE * sizeof(float));
    memcpy(c->lse, c->prior_lse, NL * sizeof(float));
}
static ga_status fwd_run(void *p) { return fwd_call((fwd_ctx *)p); }
static void fwd_check_inputs(fwd_ctx *c, const char *where) {
    CHECK(checksum(c->q, NQE * sizeof(float)) == c->q_sum, where, "q changed");
    CHECK(checksum(c->k, NKE * sizeof(float)) == c->k_sum, where, "k changed");
    CHECK(checksum(c->v, NKE * sizeof(float)) == c->v_sum, where, "v changed");
}
static void fwd_check_failed(void *p, const char *where) {
    fwd_ctx *c = p;
    fwd_check_inputs(c, where);
    CHECK(memcmp(c->out, c->prior_out, NQE * sizeof(float)) == 0, where, "out was written");
    CHECK(memcmp(c->lse, c->prior_lse, NL * sizeof(float)) == 0, where, "lse was written");
}
static void fwd_check_succeeded(void *p, const char *where) {
    fwd_ctx *c = p;
    fwd_check_inputs(c, where);
    CHECK(memcmp(c->out, c->want_out, NQE * sizeof(float)) == 0, where, "out differs from an uninjected run");
    CHECK(memcmp(c->lse, c->want_lse, NL * sizeof(float)) == 0, where, "lse differs from an uninjected run");
}

/* Window + global tokens (two rows attend to all 600 keys: the reference grows its key lists)
 * + random keys, B = 2, GQA 2:1, f32. Returns the failures injected. */
static int64_t forward_sweep(const char *name, ga_backend backend, int threads, int accumulate) {
    const int64_t toks[] = {0, 377};
    fwd_ctx *c = calloc(1, sizeof *c);
    ga_graph_create(&c->g);
    ga_graph_add_window(c->g, 4, 4);
    ga_graph_add_global(c->g, toks, 2);
    ga_graph_add_random(c->g, 3, 5);
    ga_options_init(&c->opt);
    c->opt.backend = backend;
    c->opt.num_threads = threads;
    c->q = malloc(NQE * sizeof(float));
    c->k = malloc(NKE * sizeof(float));
    c->v = malloc(NKE * sizeof(float));
    c->out = malloc(NQE * sizeof(float));
    c->lse = malloc(NL * sizeof(float));
    c->prior_out = malloc(NQE * sizeof(float));
    c->prior_lse = malloc(NL * sizeof(float));
    c->want_out = malloc(NQE * sizeof(float));
    c->want_lse = malloc(NL * sizeof(float));
    fill_values(c->q, NQE, 1);
    fill_values(c->k, NKE, 2);
    fill_values(c->v, NKE, 3);
    c->q_sum = checksum(c->q, NQE * sizeof(float));
    c->k_sum = checksum(c->k, NKE * sizeof(float));
    c->v_sum = checksum(c->v, NKE * sizeof(float));
    int64_t injected = -1;
    if (accumulate) {
        /* the prior state: a pass over another graph (the uninjected accumulate run defines
         * the bits every later successful run must reproduce) */
        ga_graph *prior = NULL;
        ga_graph_create(&prior);
        ga_graph_add_blocks(prior, 7);
        c->opt.flags = 0;
        ga_graph *keep = c->g;
        c->g = prior;
        memset(c->out, 0xA5, NQE * sizeof(float));
        memset(c->lse, 0xA5, NL * sizeof(float));
        ga_status s = fwd_call(c);
        c->g = keep;
        ga_graph_destroy(prior);
        if (s != GA_OK) { ga_test_fail(__FILE__, __LINE__, "prior state: %s", ga_status_string(s)); goto done; }
        memcpy(c->prior_out, c->out, NQE * sizeof(float));
        memcpy(c->prior_lse, c->lse, NL * sizeof(float));
        c->opt.flags = GA_FLAG_ACCUMULATE;
    } else {
        memset(c->prior_out, 0xA5, NQE * sizeof(float));
        memset(c->prior_lse, 0x5A, NL * sizeof(float));
    }
    fwd_prepare(c);
    {
        ga_status s = fwd_call(c);
        if (s != GA_OK) { ga_test_fail(__FILE__, __LINE__, "uninjected run: %s", ga_status_string(s)); goto done; }
    }
    memcpy(c->want_out, c->out, NQE * sizeof(float));
    memcpy(c->want_lse, c->lse, NL * sizeof(float));
    {
        fault_call fc = {name, c, fwd_prepare, fwd_run, fwd_check_failed, fwd_check_succeeded};
        injected = sweep(&fc);
    }
done:
    ga_graph_destroy(c->g);
    free(c->q); free(c->k); free(c->v); free(c->out); free(c->lse);
    free(c->prior_out); free(c->prior_lse); free(c->want_out); free(c->want_lse);
    free(c);
    return injected;
}

TEST(cpu_forward_with_library_workspace_survives_allocation_failure) {
    /* the fast backend allocates exactly its workspace, once */
    EXPECT_EQ_I64(forward_sweep("forward cpu, NULL workspace, 2 threads", GA_BACKEND_CPU, 2, 0), 2);
    EXPECT_EQ_I64(forward_sweep("forward cpu, NULL workspace, 3 threads", GA_BACKEND_CPU, 3, 0), 2);
}

TEST(cpu_forward_accumulate_keeps_the_prior_state_on_allocation_failure) {
    EXPECT_EQ_I64(forward_sweep("forward cpu, accumulate into a prior state", GA_BACKEND_CPU, 2, 1), 2);
}

TEST(reference_forward_survives_every_allocation_failure) {
    EXPECT_TRUE(forward_sweep("forward cpu-reference, 1 thread", GA_BACKEND_CPU_REFERENCE, 1, 0) > 4);
    EXPECT_TRUE(forward_sweep("forward cpu-reference, 3 threads", GA_BACKEND_CPU_REFERENCE, 3, 0) > 4);
    EXPECT_TRUE(forward_sweep("forward cpu-reference, accumulate", GA_BACKEND_CPU_REFERENCE, 2, 1) > 4);
}

/* ---- ga_merge_states ---------------------------------------------------------------------- */

typedef struct merge_ctx {
    float oa[NQE], la[NL], ob[NQE], lb[NL];
    float oa0[NQE], la0[NL], want_o[NQE], want_l[NL];
    uint64_t b_sum;
} merge_ctx;

static ga_status merge_call(merge_ctx *c) {
    ga_tensor a = ga_tensor_make(c->oa, GA_F32, GA_DEVICE_CPU, FB, FN, FH, FD);
    ga_tensor la = ga_tensor_make(c->la, GA_F32, GA_DEVICE_CPU, FB, FN, FH, 1);
    ga_tensor b = ga_tensor_make(c->ob, GA_F32, GA_DEVICE_CPU, FB, FN, FH, FD);
    ga_tensor lb = ga_tensor_make(c->lb, GA_F32, GA_DEVICE_CPU, FB, FN, FH, 1);
    return ga_merge_states(&a, &la, &b, &lb, NULL);
}
static void merge_prepare(void *p) {
    merge_ctx *c = p;
    memcpy(c->oa, c->oa0, sizeof c->oa);
    memcpy(c->la, c->la0, sizeof c->la);
}
static ga_status merge_run(void *p) { return merge_call((merge_ctx *)p); }
static void merge_check_failed(void *p, const char *where) {
    merge_ctx *c = p;
    CHECK((checksum(c->ob, sizeof c->ob) ^ checksum(c->lb, sizeof c->lb)) == c->b_sum, where, "b changed");
    CHECK(memcmp(c->oa, c->oa0, sizeof c->oa) == 0 && memcmp(c->la, c->la0, sizeof c->la) == 0, where,
          "a was written");
}
static void merge_check_succeeded(void *p, const char *where) {
    merge_ctx *c = p;
    CHECK((checksum(c->ob, sizeof c->ob) ^ checksum(c->lb, sizeof c->lb)) == c->b_sum, where, "b changed");
    CHECK(memcmp(c->oa, c->want_o, sizeof c->oa) == 0 && memcmp(c->la, c->want_l, sizeof c->la) == 0, where,
          "merged state differs from an uninjected run");
}

TEST(merge_states_allocates_nothing) {
    merge_ctx *c = calloc(1, sizeof *c);
    fill_values(c->oa0, NQE, 10);
    fill_values(c->la0, NL, 11);
    fill_values(c->ob, NQE, 12);
    fill_values(c->lb, NL, 13);
    for (size_t r = 0; r < NL; r += 5) c->lb[r] = -INFINITY; /* rows b has no edges for */
    c->b_sum = checksum(c->ob, sizeof c->ob) ^ checksum(c->lb, sizeof c->lb);
    merge_prepare(c);
    const int64_t count0 = ga_alloc_count();
    ASSERT_OK(merge_call(c));
    EXPECT_EQ_I64(ga_alloc_count() - count0, 0);
    memcpy(c->want_o, c->oa, sizeof c->oa);
    memcpy(c->want_l, c->la, sizeof c->la);
    fault_call fc = {"ga_merge_states", c, merge_prepare, merge_run, merge_check_failed, merge_check_succeeded};
    EXPECT_EQ_I64(sweep(&fc), 0);
    free(c);
}

/* ------------------------------------------------------------------------------------------ */
/* The .npy loader and the tile planner                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct npy_ctx {
    char dir[64], path[96];
    uint64_t file_sum;
    int index; /* 1: ga_npy_load_index, 0: ga_npy_load */
    ga_npy_array a;
    void *idx;
    int64_t idx_count;
    ga_index_type idx_type;
    int64_t want[300];
} npy_ctx;

static void npy_prepare(void *p) {
    npy_ctx *c = p;
    memset(&c->a, 0xA5, sizeof c->a);
    c->idx = (void *)c;
    c->idx_count = -7;
}
static ga_status npy_run(void *p) {
    npy_ctx *c = p;
    return c->index ? ga_npy_load_index(c->path, &c->idx, &c->idx_count, &c->idx_type) : ga_npy_load(c->path, &c->a);
}
static void npy_check_failed(void *p, const char *where) {
    npy_ctx *c = p;
    CHECK(file_sum(c->path) == c->file_sum, where, "the file changed");
    /* documented failure state (npy.h, graph.h): nothing to free */
    if (c->index) CHECK(c->idx == NULL && c->idx_count == 0, where, "index outputs not reset on failure");
    else CHECK(c->a.data == NULL && c->a.count == 0, where, "array not zeroed on failure");
}
static void npy_check_succeeded(void *p, const char *where) {
    npy_ctx *c = p;
    CHECK(file_sum(c->path) == c->file_sum, where, "the file changed");
    if (c->index) {
        CHECK(c->idx_count == 300 && c->idx_type == GA_INDEX_INT64 && memcmp(c->idx, c->want, sizeof c->want) == 0,
              where, "wrong index array");
        ga_free(c->idx);
    } else {
        CHECK(c->a.count == 300 && c->a.ndim == 2 && c->a.dtype == GA_NPY_I64 &&
                  memcmp(c->a.data, c->want, sizeof c->want) == 0,
              where, "wrong array");
        ga_npy_free(&c->a);
    }
}

TEST(npy_load_survives_every_allocation_failure) {
    npy_ctx *c = calloc(1, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "/tmp/ga_faults_XXXXXX");
    ASSERT_TRUE(mkdtemp(c->dir) != NULL);
    snprintf(c->path, sizeof c->path, "%s/a.npy", c->dir);
    for (int i = 0; i < 300; i++) c->want[i] = (int64_t)i * 1000003 - 7;
    const int64_t shape[2] = {20, 15};
    ASSERT_OK(ga_npy_save(c->path, GA_NPY_I64, 2, shape, c->want));
    c->file_sum = file_sum(c->path);
    fault_call fc = {"ga_npy_load", c, npy_prepare, npy_run, npy_check_failed, npy_check_succeeded};
    EXPECT_EQ_I64(sweep(&fc), 4);
    const int64_t flat = 300;
    ASSERT_OK(ga_npy_save(c->path, GA_NPY_I64, 1, &flat, c->want));
    c->file_sum = file_sum(c->path);
    c->index = 1;
    fc.name = "ga_npy_load_index";
    EXPECT_EQ_I64(sweep(&fc), 4);
    unlink(c->path);
    rmdir(c->dir);
    free(c);
}

/* A 200 x 200 window of half-width 40 as one explicit (CSR, int64) component, built before any
 * fault is armed. */
static ga_graph *window_csr_200(void) { return ga_test_csr_of("window:40", 200, 1); }

typedef struct plan_ctx {
    ga_graph *g;
    ga_tile_plan plan;
    int64_t want_ntiles, want_res_nnz, want_tile_edges;
    uint64_t in_sum;
} plan_ctx;

/* The first component's CSR arrays (int64 columns), to see that a build left them alone. */
static uint64_t csr_sum(const ga_graph *g) {
    const ga_component *k = &g->comps[0];
    return checksum(k->row_ptr, (size_t)(k->nrows + 1) * sizeof(int64_t)) ^
           checksum(k->col, (size_t)k->nnz * sizeof(int64_t));
}
static void plan_prepare(void *p) { memset(&((plan_ctx *)p)->plan, 0xA5, sizeof(ga_tile_plan)); }
static ga_status plan_run(void *p) {
    plan_ctx *c = p;
    return ga_tile_plan_build(&c->g->comps[0], 0.25, &c->plan);
}
static void plan_check_failed(void *p, const char *where) {
    plan_ctx *c = p;
    ga_tile_plan zero;
    memset(&zero, 0, sizeof zero);
    CHECK(csr_sum(c->g) == c->in_sum, where, "the component changed");
    CHECK(memcmp(&c->plan, &zero, sizeof zero) == 0, where, "the plan is not left empty");
}
static void plan_check_succeeded(void *p, const char *where) {
    plan_ctx *c = p;
    CHECK(csr_sum(c->g) == c->in_sum, where, "the component changed");
    CHECK(c->plan.ntiles == c->want_ntiles && c->plan.res_nnz == c->want_res_nnz &&
              c->plan.tile_edges == c->want_tile_edges,
          where, "plan differs: %lld tiles, %lld residual (want %lld, %lld)", (long long)c->plan.ntiles,
          (long long)c->plan.res_nnz, (long long)c->want_ntiles, (long long)c->want_res_nnz);
    ga_tile_plan_free(&c->plan);
}

TEST(tile_plan_build_survives_every_allocation_failure) {
    /* a 200 x 200 window of half-width 40 as CSR: dense tiles plus a residual */
    plan_ctx c;
    memset(&c, 0, sizeof c);
    c.g = window_csr_200();
    ASSERT_TRUE(c.g != NULL);
    c.in_sum = csr_sum(c.g);
    ASSERT_OK(ga_tile_plan_build(&c.g->comps[0], 0.25, &c.plan));
    c.want_ntiles = c.plan.ntiles;
    c.want_res_nnz = c.plan.res_nnz;
    c.want_tile_edges = c.plan.tile_edges;
    EXPECT_TRUE(c.want_ntiles > 0 && c.want_res_nnz > 0);
    ga_tile_plan_free(&c.plan);
    fault_call fc = {"ga_tile_plan_build (explicit graph)", &c, plan_prepare, plan_run, plan_check_failed,
                     plan_check_succeeded};
    EXPECT_TRUE(sweep(&fc) >= 8);
    ga_graph_destroy(c.g);
}

typedef struct ranges_ctx {
    ga_graph *g;
    ga_row_ranges r;
    int ok;
    uint64_t in_sum;
} ranges_ctx;

static void ranges_prepare(void *p) {
    ranges_ctx *c = p;
    memset(&c->r, 0xA5, sizeof c->r);
    c->ok = -1;
}
static ga_status ranges_run(void *p) {
    ranges_ctx *c = p;
    return ga_row_ranges_build(&c->g->comps[0], &c->ok, &c->r);
}
static void ranges_check_failed(void *p, const char *where) {
    ranges_ctx *c = p;
    ga_row_ranges zero;
    memset(&zero, 0, sizeof zero);
    CHECK(csr_sum(c->g) == c->in_sum, where, "the component changed");
    CHECK(c->ok == 0 && memcmp(&c->r, &zero, sizeof zero) == 0, where, "the ranges are not left empty (ok %d)", c->ok);
}
static void ranges_check_succeeded(void *p, const char *where) {
    ranges_ctx *c = p;
    CHECK(csr_sum(c->g) == c->in_sum, where, "the component changed");
    CHECK(c->ok == 1 && c->r.nrows == c->g->comps[0].nrows && c->r.lo[0] == 0 && c->r.min_keys == 41, where,
          "ranges differ: ok %d, %lld rows, fewest keys %lld", c->ok, (long long)c->r.nrows, (long long)c->r.min_keys);
    ga_row_ranges_free(&c->r);
}

TEST(row_ranges_build_survives_every_allocation_failure) {
    /* a 200 x 200 window of half-width 40 as CSR: interval rows, the fewest keys 41 (row 0) */
    ranges_ctx c;
    memset(&c, 0, sizeof c);
    c.g = window_csr_200();
    ASSERT_TRUE(c.g != NULL);
    c.in_sum = csr_sum(c.g);
    fault_call fc = {"ga_row_ranges_build (explicit graph)", &c, ranges_prepare, ranges_run, ranges_check_failed,
                     ranges_check_succeeded};
    EXPECT_TRUE(sweep(&fc) >= 3);
    ga_graph_destroy(c.g);
}

typedef struct order_ctx {
    ga_row_ranges r;
    int64_t *order, *work, n;
    double gain;
} order_ctx;

static void order_prepare(void *p) {
    order_ctx *c = p;
    c->order = c->work = (int64_t *)&c->n; /* sentinels: must come back NULL or fresh arrays */
    c->n = -1;
}
static ga_status order_run(void *p) {
    order_ctx *c = p;
    return ga_row_ranges_order(&c->r, 64, &c->order, &c->work, &c->n);
}
static void order_check_failed(void *p, const char *where) {
    order_ctx *c = p;
    CHECK(c->order == NULL && c->work == NULL && c->n == 0, where, "the order is not left empty (%lld units)",
          (long long)c->n);
}
static void order_check_succeeded(void *p, const char *where) {
    order_ctx *c = p;
    int seen = 0;
    for (int64_t i = 0; i < c->n; i++) seen |= c->order[i] >= 0 && c->order[i] < 4 ? 1 << c->order[i] : 0;
    CHECK(c->n == 4 && seen == 15 && c->work[0] > 0, where, "order differs: %lld units, units seen 0x%x", (long long)c->n,
          seen);
    ga_free(c->order);
    ga_free(c->work);
}

static const int64_t gain_order[] = {3, 1, 2, 0}, gain_work[] = {1, 2, 3, 4};
static void gain_prepare(void *p) { ((order_ctx *)p)->gain = -1; }
static ga_status gain_run(void *p) {
    return ga_row_ranges_order_gain(gain_order, gain_work, 4, 2, 3, &((order_ctx *)p)->gain);
}
static void gain_check_failed(void *p, const char *where) {
    const double g = ((order_ctx *)p)->gain;
    CHECK(g == 1.0, where, "gain %g on failure, want 1", g);
}
static void gain_check_succeeded(void *p, const char *where) {
    const double g = ((order_ctx *)p)->gain;
    CHECK(g > 0, where, "gain %g", g);
}

TEST(row_ranges_order_survives_every_allocation_failure) {
    /* the 200-row window's ranges in units of 64 rows: 4 units */
    order_ctx c;
    memset(&c, 0, sizeof c);
    ga_graph *g = window_csr_200();
    ASSERT_TRUE(g != NULL);
    int ok = 0;
    ASSERT_OK(ga_row_ranges_build(&g->comps[0], &ok, &c.r));
    ASSERT_TRUE(ok == 1);
    fault_call fc = {"ga_row_ranges_order (4 units)", &c, order_prepare, order_run, order_check_failed,
                     order_check_succeeded};
    EXPECT_TRUE(sweep(&fc) >= 3);
    fault_call fg = {"ga_row_ranges_order_gain (4 units x 2, 3 CTAs)", &c, gain_prepare, gain_run, gain_check_failed,
                     gain_check_succeeded};
    EXPECT_TRUE(sweep(&fg) >= 1);
    ga_row_ranges_free(&c.r);
    ga_graph_destroy(g);
}
