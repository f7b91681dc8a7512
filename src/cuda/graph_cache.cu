/* graph_cache.cu -- the graph on the device: its components are copied once per device and
 * cached in the graph (struct ga_graph's `cuda` slot); for every (Nq, Nk) it is used with, a
 * plan lists the heavy (row, component) pairs and cuts them into chunks. Both stay until the
 * graph is destroyed (ga_graph_destroy calls the release function) or a component is added. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "cuda/cuda_common.cuh"
#include "cuda/tile_interval.h"
#include "graph/row_ranges.h"
#include "graph/tile_plan.h"

/* A (row, component) pair is heavy when it has more slots than the threshold; the threshold is
 * at least this many slots ... */
#define GA_HEAVY_MIN 4096
/* ... and, when there are enough rows to fill the GPU, this many times the mean degree. */
#define GA_HEAVY_MEAN_FACTOR 8
#define GA_HEAVY_ROWS_TO_FILL 4096
/* Chunks hold at least this many slots; heavy work is cut into about GA_CHUNK_TARGET chunks. */
#define GA_CHUNK_MIN 1024
#define GA_CHUNK_TARGET 16384

typedef struct ga_cuda_cache {
    pthread_mutex_t mutex;
    ga_cuda_dgraph *devices;
} ga_cuda_cache;

/* Creating the cache of a graph is rare: one lock for all graphs is enough. */
static pthread_mutex_t ga_cuda_cache_create_mutex = PTHREAD_MUTEX_INITIALIZER;

/* The host arrays of ranges r (its device arrays are d's allocations). */
static void ga_ranges_free_host(ga_cuda_ranges *r) {
    ga_free(r->horder);
    ga_free(r->hwork);
}

static void ga_dgraph_free(ga_cuda_dgraph *d) {
    int previous = -1, failed = 0;
    if (cudaGetDevice(&previous) != cudaSuccess) previous = -1, failed = 1;
    if (cudaSetDevice(d->device) == cudaSuccess) {
        for (int a = 0; a < d->nallocs; a++) failed |= cudaFree(d->allocs[a]) != cudaSuccess;
        ga_cuda_restore_device(previous, d->device);
    } else {
        failed = 1;
    }
    /* at process exit the runtime may be gone: nothing to report, and the error these calls
     * left is cleared; only then, so that an error the caller has not yet read stays theirs */
    if (failed) (void)cudaGetLastError();
    for (ga_cuda_plan *p = d->plans; p;) {
        ga_cuda_plan *n = p->next;
        ga_free(p);
        p = n;
    }
    ga_ranges_free_host(&d->ranges);
    for (ga_cuda_ranges *r = d->doc_ranges; r;) {
        ga_cuda_ranges *n = r->next;
        ga_ranges_free_host(r);
        ga_free(r);
        r = n;
    }
    ga_free(d->allocs);
    ga_free(d->hcomps);
    ga_graph_destroy(d->residual);
    ga_free(d);
}

static void ga_cuda_cache_release(void *data) {
    ga_cuda_cache *c = (ga_cuda_cache *)data;
    if (!c) return;
    for (ga_cuda_dgraph *d = c->devices; d;) {
        ga_cuda_dgraph *n = d->next;
        ga_dgraph_free(d);
        d = n;
    }
    pthread_mutex_destroy(&c->mutex);
    ga_free(c);
}

/* Allocate device memory owned by `d` and copy `bytes` from the host into it. */
static ga_status ga_dgraph_upload(ga_cuda_dgraph *d, const void *host, size_t bytes, void **out) {
    *out = NULL;
    if (d->nallocs == d->cap_allocs) {
        int cap = d->cap_allocs ? 2 * d->cap_allocs : 8;
        void **n = (void **)ga_realloc(d->allocs, (size_t)cap * sizeof *n);
        GA_FAIL_IF(!n, GA_ERR_OUT_OF_MEMORY, "CUDA backend: out of host memory");
        d->allocs = n;
        d->cap_allocs = cap;
    }
    void *p = NULL;
    GA_FAIL_IF(ga_alloc_should_fail(), GA_ERR_OUT_OF_MEMORY, "CUDA backend: out of device memory (%zu bytes, injected)",
               bytes);
    GA_CUDA_TRY(cudaMalloc(&p, bytes ? bytes : 1));
    d->allocs[d->nallocs++] = p;
    if (bytes) {
        GA_CUDA_TRY(cudaMemcpy(p, host, bytes, cudaMemcpyHostToDevice));
        /* from pageable memory cudaMemcpy may return once the bytes are staged, before the DMA
         * has landed; it is ordered before later work on the legacy stream only, and the calls
         * run on the caller's stream (non-blocking ones too): wait for it here, once per array
         * of a graph's build, so that no kernel can read the array before it is there */
        GA_CUDA_TRY(cudaStreamSynchronize(cudaStreamLegacy));
    }
    *out = p;
    return GA_OK;
}

static ga_status ga_dgraph_build(const ga_graph *g, int device, ga_cuda_dgraph **out) {
    ga_cuda_dgraph *d = (ga_cuda_dgraph *)ga_calloc(1, sizeof *d);
    GA_FAIL_IF(!d, GA_ERR_OUT_OF_MEMORY, "CUDA backend: out of host memory");
    d->device = device;
    d->ncomp = (int)g->count;
    ga_status s = GA_OK;
    ga_component *host = (ga_component *)ga_malloc((size_t)g->count * sizeof *host);
    if (!host) {
        ga_free(d);
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "CUDA backend: out of host memory");
    }
    memcpy(host, g->comps, (size_t)g->count * sizeof *host);
    for (int64_t c = 0; c < g->count && s == GA_OK; c++) {
        ga_component *k = &host[c];
        void *p;
        if (k->kind == GA_COMP_GLOBAL || k->kind == GA_COMP_DOCUMENTS) {
            s = ga_dgraph_upload(d, k->list, (size_t)k->nrows * sizeof(int64_t), &p);
            k->list = (const int64_t *)p;
        } else if (k->kind == GA_COMP_CSR) {
            s = ga_dgraph_upload(d, k->row_ptr, (size_t)(k->nrows + 1) * sizeof(int64_t), &p);
            k->row_ptr = (const int64_t *)p;
            size_t isz = k->index_type == GA_INDEX_INT32 ? 4 : 8;
            if (s == GA_OK) s = ga_dgraph_upload(d, k->col, (size_t)k->nnz * isz, &p);
            k->col = p;
        }
    }
    void *p = NULL;
    if (s == GA_OK) s = ga_dgraph_upload(d, host, (size_t)g->count * sizeof *host, &p);
    d->hcomps = host;
    if (s != GA_OK) {
        ga_dgraph_free(d);
        return s;
    }
    d->comps = (const ga_component *)p;
    *out = d;
    return GA_OK;
}

/* ---- the plan ---------------------------------------------------------------------------- */

typedef struct ga_pair {
    int64_t row, comp, count;
} ga_pair;

typedef struct ga_pairs {
    ga_pair *v;
    int64_t n, cap;
} ga_pairs;

static int ga_pairs_push(ga_pairs *p, int64_t row, int64_t comp, int64_t count) {
    if (p->n == p->cap) {
        int64_t cap = p->cap ? 2 * p->cap : 64;
        ga_pair *n = (ga_pair *)ga_realloc(p->v, (size_t)cap * sizeof *n);
        if (!n) return 0;
        p->v = n;
        p->cap = cap;
    }
    p->v[p->n].row = row;
    p->v[p->n].comp = comp;
    p->v[p->n].count = count;
    p->n++;
    return 1;
}

static int ga_pair_cmp(const void *a, const void *b) {
    const ga_pair *x = (const ga_pair *)a, *y = (const ga_pair *)b;
    if (x->row != y->row) return x->row < y->row ? -1 : 1;
    return x->comp < y->comp ? -1 : x->comp > y->comp;
}


/* An upper bound on the slots of any row of component c that is not listed as special (global
 * query rows of global and bigbird components), and the component's rough mean degree. */
static void ga_comp_bounds(const ga_component *c, int64_t nq, int64_t nk, int64_t *umax, double *mean) {
    int64_t m = nk;
    double avg;
    switch (c->kind) {
    case GA_COMP_DENSE: m = nk; avg = (double)nk; break;
    case GA_COMP_CAUSAL: m = nk; avg = 0.5 * (double)nk; break;
    case GA_COMP_WINDOW: m = ga_min64(nk, ga_sat_add64(ga_sat_add64(c->p[GA_P_LEFT], c->p[GA_P_RIGHT]), 1)); avg = (double)m; break;
    case GA_COMP_DILATED: m = ga_min64(nk, ga_sat_add64(ga_sat_mul64(2, c->p[GA_P_W]), 1)); avg = (double)m; break;
    case GA_COMP_BLOCKS: m = ga_min64(nk, c->p[GA_P_BLOCK]); avg = (double)m; break;
    case GA_COMP_LONGNET:
        m = ga_min64(nk, c->p[GA_P_SEGMENT]);
        avg = (double)m / (double)c->p[GA_P_RATE] / (double)c->p[GA_P_RATE];
        break;
    case GA_COMP_RANDOM: m = ga_min64(nk, c->p[GA_P_R]); avg = (double)m; break;
    case GA_COMP_GLOBAL: {
        int64_t below_nk = ga_list_lower(c->list, c->nrows, nk), below_nq = ga_list_lower(c->list, c->nrows, nq);
        m = below_nk;
        avg = (double)below_nk + (double)below_nq * (double)nk / (double)nq;
        break;
    }
    case GA_COMP_BIGBIRD: {
        int64_t B = c->p[GA_P_BLOCK], nbk = ga_ceildiv(nk, B);
        int64_t blocks = ga_sat_add64(ga_sat_add64(ga_min64(c->p[GA_P_GB], nbk), ga_sat_add64(ga_sat_mul64(2, c->p[GA_P_WB]), 1)),
                                    ga_min64(c->p[GA_P_RB], nbk));
        m = ga_sat_mul64(blocks, B);
        double gq = (double)ga_min64(nq, ga_sat_mul64(c->p[GA_P_GB], B));
        avg = (double)ga_min64(m, nk) + gq * (double)nk / (double)nq;
        break;
    }
    case GA_COMP_CSR: m = INT64_MAX; avg = (double)c->nnz / (double)(c->nrows ? c->nrows : 1); break;
    case GA_COMP_DOCUMENTS: { /* the longest document inside [0, nk); its rows' mean keys */
        int64_t prev = 0;
        double sq = 0;
        m = 0;
        for (int64_t t = 0; t <= c->nrows; t++) {
            const int64_t b = t < c->nrows ? ga_min64(c->list[t], nk) : nk;
            if (b <= prev) continue;
            m = ga_max64(m, b - prev);
            sq += (double)(b - prev) * (double)(b - prev);
            prev = b;
        }
        avg = sq / (double)nk * (c->p[GA_P_CAUSAL] ? 0.5 : 1.0);
        break;
    }
    default: m = INT64_MAX; avg = (double)nk; break;
    }
    *umax = m;
    *mean = avg;
}

/* What the plan is made of, from the graph alone (host code; ga_cuda_testing_edge_plan reads it
 * too): the components' mean slots per row, the heavy threshold T, rows mode's excess at 2, 4, 8
 * and 16 rows a warp (ga_edge_rows_mode: each group of that many consecutive rows' most light
 * slots, summed, less their light slots over the group size, per row; summed over components, so
 * a bound on the union's, exact for the components scanned row by row (CSRs always); for
 * longnet from its rate and mean, for the listed rows of global and bigbird (when not heavy) nk
 * slots each, 0 for the other kinds, whose neighbouring rows are alike), an
 * estimate of the rows with a slot outside heavy pairs (the most of any one component, a lower
 * bound on the union's where each component's count is exact: counted for the kinds scanned row
 * by row, CSRs always; for longnet, the rows of its residue whose segment starts below nk, which
 * can count a row whose short last segment holds no key of that residue; every row for the
 * other kinds: rows mode's idle-groups test), and every heavy (row, component) pair, unsorted
 * (pairs.v is the caller's to free). */
typedef struct ga_plan_shape {
    double mean;
    int64_t T, busy;
    double excess[GA_EDGE_ROWS_GROUPS];
    ga_pairs pairs;
} ga_plan_shape;

static ga_status ga_plan_scan(const ga_graph *g, int64_t nq, int64_t nk, int first_comp, ga_plan_shape *sh) {
    double mean = 0;
    for (int64_t c = first_comp; c < g->count; c++) {
        int64_t um;
        double avg;
        ga_comp_bounds(&g->comps[c], nq, nk, &um, &avg);
        mean += avg;
    }
    int64_t T = GA_HEAVY_MIN;
    if (nq >= GA_HEAVY_ROWS_TO_FILL) {
        double t = GA_HEAVY_MEAN_FACTOR * mean;
        if (t > (double)T) T = t >= 9.0e18 ? INT64_MAX : (int64_t)t;
    }

    /* every (row, comp) pair with more than T slots, from what each kind says about its rows */
    ga_pairs pairs = {NULL, 0, 0};
    int64_t busy = 0;
    double excess[GA_EDGE_ROWS_GROUPS] = {0};
    int ok = 1;
    for (int64_t c = first_comp; c < g->count && ok; c++) {
        const ga_component *k = &g->comps[c];
        int64_t um;
        double avg;
        ga_comp_bounds(k, nq, nk, &um, &avg);
        if (um > T) { /* some ordinary row may be heavy: look at every row */
            int64_t rows = 0;                            /* rows with light slots */
            double sum = 0, gsum[GA_EDGE_ROWS_GROUPS] = {0}; /* light slots; each group's most, summed */
            int64_t gmax[GA_EDGE_ROWS_GROUPS] = {0};
            for (int64_t i = 0; i < nq && ok; i++) {
                int64_t n = ga_comp_row(k, i, nq, nk).count;
                if (n > T) {
                    ok = ga_pairs_push(&pairs, i, c, n);
                    n = 0;
                }
                rows += n > 0;
                sum += (double)n;
                for (int a = 0; a < GA_EDGE_ROWS_GROUPS; a++) {
                    const int64_t rpw = (int64_t)2 << a; /* rows a warp: 2, 4, 8, 16 */
                    gmax[a] = ga_max64(gmax[a], n);
                    if (i % rpw == rpw - 1 || i == nq - 1) {
                        gsum[a] += (double)gmax[a];
                        gmax[a] = 0;
                    }
                }
            }
            for (int a = 0; a < GA_EDGE_ROWS_GROUPS; a++)
                excess[a] += (gsum[a] - sum / (double)((int64_t)2 << a)) / (double)nq;
            busy = ga_max64(busy, rows);
            continue;
        }
        if (k->kind == GA_COMP_LONGNET) { /* rows i % R == O of segments starting below nk */
            const int64_t S = k->p[GA_P_SEGMENT], R = k->p[GA_P_RATE], O = k->p[GA_P_OFFSET];
            const int64_t M = ga_min64(nq, ga_sat_add64((nk - 1) / S * S, S)); /* ceil(nk / S) * S, saturated */
            busy = ga_max64(busy, M > O ? (M - 1 - O) / R + 1 : 0);
            /* a group of G rows holds G / R busy rows (one in R, alike) where R < G, else at most
             * one: its most is min(R, G) times its mean, an excess of avg * (min(R, G) - 1) / G a
             * row (avg: ga_comp_bounds' mean over all rows) */
            for (int a = 0; a < GA_EDGE_ROWS_GROUPS; a++) {
                const int64_t rpw = (int64_t)2 << a;
                excess[a] += avg * (double)(ga_min64(R, rpw) - 1) / (double)rpw;
            }
        } else {
            busy = nq;
        }
        /* listed query rows (global, bigbird) have every key: each one's group waits for its nk
         * slots unless they are heavy (then its chunks run apart) */
        if (nk <= T) {
            int64_t listed = 0;
            if (k->kind == GA_COMP_GLOBAL) listed = ga_list_lower(k->list, k->nrows, nq);
            else if (k->kind == GA_COMP_BIGBIRD) listed = ga_min64(nq, ga_sat_mul64(k->p[GA_P_GB], k->p[GA_P_BLOCK]));
            for (int a = 0; a < GA_EDGE_ROWS_GROUPS; a++) excess[a] += (double)listed * (double)nk / (double)nq;
        }
        if (k->kind == GA_COMP_GLOBAL && nk > T) {
            for (int64_t t = 0; t < k->nrows && k->list[t] < nq && ok; t++) {
                int64_t n = ga_comp_row(k, k->list[t], nq, nk).count;
                if (n > T) ok = ga_pairs_push(&pairs, k->list[t], c, n);
            }
        } else if (k->kind == GA_COMP_BIGBIRD && nk > T) {
            int64_t rows = ga_min64(nq, ga_sat_mul64(k->p[GA_P_GB], k->p[GA_P_BLOCK]));
            for (int64_t i = 0; i < rows && ok; i++) {
                int64_t n = ga_comp_row(k, i, nq, nk).count;
                if (n > T) ok = ga_pairs_push(&pairs, i, c, n);
            }
        }
    }
    if (!ok) {
        ga_free(pairs.v);
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "CUDA backend: out of host memory planning heavy rows");
    }
    sh->mean = mean;
    sh->T = T;
    for (int a = 0; a < GA_EDGE_ROWS_GROUPS; a++) sh->excess[a] = excess[a];
    sh->busy = busy;
    sh->pairs = pairs;
    return GA_OK;
}

static ga_status ga_plan_build(const ga_graph *g, ga_cuda_dgraph *d, int64_t nq, int64_t nk, int first_comp,
                               ga_cuda_plan **out) {
    ga_plan_shape sh;
    GA_TRY(ga_plan_scan(g, nq, nk, first_comp, &sh));
    const int64_t T = sh.T;
    ga_pairs pairs = sh.pairs;
    qsort(pairs.v, (size_t)pairs.n, sizeof(ga_pair), ga_pair_cmp);

    int64_t total = 0, nslots = 0, nitems = 0;
    for (int64_t a = 0; a < pairs.n; a++) {
        total = ga_sat_add64(total, pairs.v[a].count);
        if (a == 0 || pairs.v[a].row != pairs.v[a - 1].row) nslots++;
    }
    int64_t chunk = ga_max64(GA_CHUNK_MIN, ga_ceildiv(total, GA_CHUNK_TARGET));
    for (int64_t a = 0; a < pairs.n; a++) nitems += ga_ceildiv(pairs.v[a].count, chunk);

    ga_cuda_plan *plan = (ga_cuda_plan *)ga_calloc(1, sizeof *plan);
    int64_t *rows = (int64_t *)ga_malloc((size_t)(nslots + 1) * sizeof(int64_t));
    int64_t *begin = (int64_t *)ga_malloc((size_t)(nslots + 1) * sizeof(int64_t));
    ga_cuda_item *items = (ga_cuda_item *)ga_malloc((size_t)(nitems + 1) * sizeof(ga_cuda_item));
    ga_status s = GA_OK;
    if (!plan || !rows || !begin || !items) {
        s = ga_raise(GA_ERR_OUT_OF_MEMORY, __FILE__, __LINE__, "CUDA backend: out of host memory planning heavy rows");
    } else {
        int64_t slot = -1, it = 0;
        for (int64_t a = 0; a < pairs.n; a++) {
            if (a == 0 || pairs.v[a].row != pairs.v[a - 1].row) {
                slot++;
                rows[slot] = pairs.v[a].row;
                begin[slot] = it;
            }
            for (int64_t t0 = 0; t0 < pairs.v[a].count; t0 += chunk) {
                items[it].slot = slot;
                items[it].comp = pairs.v[a].comp;
                items[it].t0 = t0;
                items[it].t1 = ga_min64(pairs.v[a].count, t0 + chunk);
                it++;
            }
        }
        begin[nslots] = it;
        plan->nq = nq;
        plan->nk = nk;
        plan->first_comp = first_comp;
        plan->heavy_threshold = T;
        plan->mean_slots = sh.mean;
        for (int a = 0; a < GA_EDGE_ROWS_GROUPS; a++) plan->excess[a] = sh.excess[a];
        plan->busy_rows = sh.busy;
        plan->nslots = nslots;
        plan->nitems = nitems;
        void *p;
        s = ga_dgraph_upload(d, rows, (size_t)nslots * sizeof(int64_t), &p);
        plan->heavy_rows = (const int64_t *)p;
        if (s == GA_OK) s = ga_dgraph_upload(d, begin, (size_t)(nslots + 1) * sizeof(int64_t), &p);
        plan->item_begin = (const int64_t *)p;
        if (s == GA_OK) s = ga_dgraph_upload(d, items, (size_t)nitems * sizeof(ga_cuda_item), &p);
        plan->items = (const ga_cuda_item *)p;
    }
    ga_free(pairs.v);
    ga_free(rows);
    ga_free(begin);
    ga_free(items);
    if (s != GA_OK) {
        ga_free(plan); /* its device arrays belong to d and are freed with it */
        return s;
    }
    *out = plan;
    return GA_OK;
}

/* The edge engine's plan shape for testing (backend.h): ga_plan_scan's figures and rows mode's
 * choice from them for a vectorized call at head dim D, without a device. */
extern "C" int ga_cuda_testing_edge_plan(const ga_graph *g, int64_t nq, int64_t nk, int first_comp, int64_t D, int is_f32,
                                         double *mean_slots, int64_t *heavy_threshold, double excess[4],
                                         int64_t *heavy_pairs, int64_t *busy_rows, int *rows_mode) {
    if (!g || nq < 1 || nk < 1 || first_comp < 0 || first_comp >= g->count || D < 1) return 0;
    ga_plan_shape sh;
    if (ga_plan_scan(g, nq, nk, first_comp, &sh) != GA_OK) return 0;
    ga_free(sh.pairs.v);
    *mean_slots = sh.mean;
    *heavy_threshold = sh.T;
    for (int a = 0; a < GA_EDGE_ROWS_GROUPS; a++) excess[a] = sh.excess[a];
    *heavy_pairs = sh.pairs.n;
    *busy_rows = sh.busy;
    *rows_mode = ga_edge_rows_mode(sh.mean, sh.excess, ga_edge_rows_per_warp(D, is_f32, sh.mean), is_f32, nq, sh.busy);
    return 1;
}

/* The cache of `graph` (created on first use), returned unlocked. */
static ga_status ga_cuda_cache_of(const ga_graph *graph, ga_cuda_cache **out) {
    /* The graph is const to the caller, but its device copy is a cache: filling it changes no
     * observable state, and the mutexes make it safe from several threads. */
    ga_graph *g = (ga_graph *)graph;
    pthread_mutex_lock(&ga_cuda_cache_create_mutex);
    if (!g->cuda.data) {
        ga_cuda_cache *c = (ga_cuda_cache *)ga_calloc(1, sizeof *c);
        if (!c || pthread_mutex_init(&c->mutex, NULL) != 0) {
            ga_free(c);
            pthread_mutex_unlock(&ga_cuda_cache_create_mutex);
            GA_FAIL(GA_ERR_OUT_OF_MEMORY, "CUDA backend: out of host memory");
        }
        g->cuda.data = c;
        g->cuda.release = ga_cuda_cache_release;
    }
    *out = (ga_cuda_cache *)g->cuda.data;
    pthread_mutex_unlock(&ga_cuda_cache_create_mutex);
    return GA_OK;
}

/* The device copy of the graph on `device`; call with cache->mutex held. */
static ga_status ga_cuda_cache_device(const ga_graph *graph, ga_cuda_cache *cache, int device, ga_cuda_dgraph **out) {
    ga_cuda_dgraph *d = cache->devices;
    while (d && d->device != device) d = d->next;
    if (!d) {
        GA_TRY(ga_dgraph_build(graph, device, &d));
        d->next = cache->devices;
        cache->devices = d;
    }
    *out = d;
    return GA_OK;
}

/* The device copy of the graph on `device` with its cache locked: on GA_OK the caller holds
 * (*cache)->mutex and unlocks it; on an error nothing is held. */
static ga_status ga_cuda_lock_device(const ga_graph *graph, int device, ga_cuda_cache **cache, ga_cuda_dgraph **d) {
    GA_TRY(ga_cuda_cache_of(graph, cache));
    pthread_mutex_lock(&(*cache)->mutex);
    const ga_status s = ga_cuda_cache_device(graph, *cache, device, d);
    if (s != GA_OK) pthread_mutex_unlock(&(*cache)->mutex);
    return s;
}

ga_status ga_cuda_graph_plan(const ga_graph *graph, int device, int64_t nq, int64_t nk, int first_comp,
                             const ga_cuda_dgraph **dg, const ga_cuda_plan **plan) {
    ga_cuda_cache *cache;
    ga_cuda_dgraph *d;
    GA_TRY(ga_cuda_lock_device(graph, device, &cache, &d));
    ga_status s = GA_OK;
    ga_cuda_plan *p = d->plans;
    while (p && (p->nq != nq || p->nk != nk || p->first_comp != first_comp)) p = p->next;
    if (!p) {
        s = ga_plan_build(graph, d, nq, nk, first_comp, &p);
        if (s == GA_OK) {
            p->next = d->plans;
            d->plans = p;
        }
    }
    pthread_mutex_unlock(&cache->mutex);
    if (s != GA_OK) return s;
    *dg = d;
    *plan = p;
    return GA_OK;
}

ga_status ga_cuda_graph_device(const ga_graph *graph, int device, const ga_cuda_dgraph **dg) {
    ga_cuda_cache *cache;
    ga_cuda_dgraph *d;
    GA_TRY(ga_cuda_lock_device(graph, device, &cache, &d));
    pthread_mutex_unlock(&cache->mutex);
    *dg = d;
    return GA_OK;
}

/* Density from which a 64x64 block of an explicit graph runs as a tensor-core tile: a tile costs
 * about as much as ~250 edges on the edge engine (tensor cores vs fp32 gathers, measured ratio
 * of useful rates ~50x at 4096 edges per tile), so blocks of >= 1/16 density are cheaper as tiles. */
#define GA_TILE_DENSITY 0.0625

/* Host row ranges (ok: built) to the device, into r (r->ok set only when all of it is there);
 * frees rr's arrays either way. */
static ga_status ga_ranges_upload(ga_cuda_dgraph *d, int ok, ga_row_ranges *rr, ga_cuda_ranges *r) {
    if (!ok) return GA_OK;
    const int64_t n = rr->nrows, tiles = (n + GA_RANGES_TILE - 1) / GA_RANGES_TILE;
    void *a = NULL;
    ga_status s = ga_dgraph_upload(d, rr->lo, (size_t)n * sizeof(int64_t), &a);
    r->rlo = (const int64_t *)a;
    if (s == GA_OK) s = ga_dgraph_upload(d, rr->hi, (size_t)n * sizeof(int64_t), &a);
    r->rhi = (const int64_t *)a;
    if (s == GA_OK) s = ga_dgraph_upload(d, rr->tile_min, (size_t)tiles * sizeof(int64_t), &a);
    r->rmin = (const int64_t *)a;
    /* the work order (kept on the host too, with the units' work: whether it pays depends on the
     * call's batch x heads) and the device's SMs (the kernel's CTAs) */
    int64_t *order = NULL, *work = NULL, norder = 0, *sorder = NULL, nshort = 0;
    if (s == GA_OK) s = ga_row_ranges_order(rr, GA_RANGES_ORDER_ROWS, &order, &work, &norder);
    if (s == GA_OK) s = ga_row_ranges_split_order(rr, order, norder, GA_RANGES_ORDER_ROWS, GA_TILE_SPLIT_KEYS, &sorder, &nshort);
    void *sa = NULL;
    if (s == GA_OK) s = ga_dgraph_upload(d, sorder, (size_t)norder * sizeof(int64_t), &sa);
    ga_free(sorder); /* the device's copy alone is used */
    a = NULL;
    if (s == GA_OK) s = ga_dgraph_upload(d, order, (size_t)norder * sizeof(int64_t), &a);
    int sms = 0;
    if (s == GA_OK && cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, d->device) != cudaSuccess) {
        (void)cudaGetLastError();
        sms = 0;
    }
    if (s == GA_OK) {
        r->order = (const int64_t *)a;
        r->norder = norder;
        r->sorder = (const int64_t *)sa;
        r->nshort = nshort;
        r->horder = order;
        r->hwork = work;
        r->sms = sms > 0 ? sms : 132;
        r->order_bh = 0;
        r->ok = 1;
        r->kmin = rr->min_keys;
        r->kmid = rr->mid_keys;
    } else {
        ga_free(order);
        ga_free(work);
    }
    ga_row_ranges_free(rr);
    return s;
}

/* Interval rows of an explicit first component (graph/row_ranges.h) into d->ranges (ok = 0 when
 * the rows are not intervals: nothing uploaded). */
static ga_status ga_ranges_build(const ga_graph *g, ga_cuda_dgraph *d) {
    ga_row_ranges rr;
    int ok = 0;
    GA_TRY(ga_row_ranges_build(&g->comps[0], &ok, &rr));
    return ga_ranges_upload(d, ok, &rr, &d->ranges);
}

static ga_status ga_tiles_build(const ga_graph *g, ga_cuda_dgraph *d) {
    if (getenv("GRAPHATTN_NO_RANGES") == NULL) {
        GA_TRY(ga_ranges_build(g, d));
        if (d->ranges.ok) {
            d->ntiles = 0;
            d->tiles_state = 1;
            return GA_OK;
        }
    }
    ga_tile_plan tp;
    GA_TRY(ga_tile_plan_build(&g->comps[0], GA_TILE_DENSITY, &tp));
    ga_status s = GA_OK;
    if (tp.ntiles > 0) {
        void *a = NULL;
        s = ga_dgraph_upload(d, tp.tile_ptr, (size_t)(tp.q_tiles + 1) * sizeof(int64_t), &a);
        d->tile_ptr = (const int64_t *)a;
        if (s == GA_OK) s = ga_dgraph_upload(d, tp.tile_kt, (size_t)tp.ntiles * sizeof(int64_t), &a);
        d->tile_kt = (const int64_t *)a;
        if (s == GA_OK) s = ga_dgraph_upload(d, tp.tile_mask, (size_t)tp.ntiles * sizeof(int64_t), &a);
        d->tile_mask = (const int64_t *)a;
        if (s == GA_OK) s = ga_dgraph_upload(d, tp.masks, (size_t)tp.ntiles * GA_TILE_BQ * sizeof(uint64_t), &a);
        d->masks = (const uint64_t *)a;
        if (s == GA_OK && tp.res_nnz > 0) {
            /* the residual edges: a graph of one explicit component, for the edge engine */
            ga_graph *r = NULL;
            s = ga_graph_create(&r);
            if (s == GA_OK) s = ga_graph_add_csr(r, tp.nrows, tp.ncols, tp.res_ptr, tp.res_col,
                                                 (ga_index_type)tp.res_index_type);
            if (s == GA_OK) {
                r->comps[0].p[0] = g->comps[0].p[0]; /* same column rule as the original */
                d->residual = r;
            } else {
                ga_graph_destroy(r);
            }
        }
    }
    if (s == GA_OK) {
        d->ntiles = tp.ntiles;
        d->tile_edges = tp.tile_edges;
        d->tiles_state = 1;
    }
    ga_tile_plan_free(&tp);
    return s;
}

ga_status ga_cuda_graph_tiles(const ga_graph *graph, int device, const ga_cuda_dgraph **dg) {
    GA_FAIL_IF(graph->count < 1 || graph->comps[0].kind != GA_COMP_CSR, GA_ERR_INTERNAL,
               "CUDA backend: tiles asked for a graph whose first component is not explicit");
    ga_cuda_cache *cache;
    ga_cuda_dgraph *d;
    GA_TRY(ga_cuda_lock_device(graph, device, &cache, &d));
    const ga_status s = d->tiles_state == 0 ? ga_tiles_build(graph, d) : GA_OK;
    pthread_mutex_unlock(&cache->mutex);
    if (s != GA_OK) return s;
    *dg = d;
    return GA_OK;
}

ga_status ga_cuda_graph_doc_ranges(const ga_graph *graph, int device, int64_t nq, int64_t nk, const ga_cuda_ranges **out) {
    GA_FAIL_IF(graph->count < 1 || graph->comps[0].kind != GA_COMP_DOCUMENTS, GA_ERR_INTERNAL,
               "CUDA backend: document ranges asked for a graph whose first component is not documents");
    ga_cuda_cache *cache;
    ga_cuda_dgraph *d;
    GA_TRY(ga_cuda_lock_device(graph, device, &cache, &d));
    ga_status s = GA_OK;
    ga_cuda_ranges *r = d->doc_ranges;
    while (r && !(r->nq == nq && r->nk == nk)) r = r->next;
    if (!r) {
        ga_row_ranges rr;
        int ok = 0;
        s = ga_row_ranges_documents(&graph->comps[0], nq, nk, &ok, &rr);
        ga_cuda_ranges *n = s == GA_OK ? (ga_cuda_ranges *)ga_calloc(1, sizeof *n) : NULL;
        if (s == GA_OK && !n) {
            if (ok) ga_row_ranges_free(&rr);
            s = ga_raise(GA_ERR_OUT_OF_MEMORY, __FILE__, __LINE__, "CUDA backend: out of host memory");
        }
        if (s == GA_OK) s = ga_ranges_upload(d, ok, &rr, n);
        if (s == GA_OK) {
            n->nq = nq;
            n->nk = nk;
            n->next = d->doc_ranges;
            d->doc_ranges = n;
            r = n;
        } else {
            ga_free(n); /* arrays already uploaded stay in d's allocations until the graph dies */
        }
    }
    pthread_mutex_unlock(&cache->mutex);
    if (s != GA_OK) return s;
    *out = r;
    return GA_OK;
}

ga_status ga_cuda_ranges_order_pays(const ga_graph *graph, const ga_cuda_ranges *rc, int64_t bh, int *pays) {
    *pays = 0;
    if (!rc->ok || !rc->horder || rc->norder < 1 || bh < 1) return GA_OK;
    ga_cuda_ranges *r = (ga_cuda_ranges *)rc; /* its decision cache, under the lock */
    ga_cuda_cache *cache;
    GA_TRY(ga_cuda_cache_of(graph, &cache));
    pthread_mutex_lock(&cache->mutex);
    ga_status s = GA_OK;
    if (r->order_bh != bh) {
        double gain = 1.0;
        s = ga_row_ranges_order_gain(r->horder, r->hwork, r->norder, bh, r->sms, &gain);
        if (s == GA_OK) {
            r->order_pays = gain >= 1.03;
            r->order_bh = bh;
        }
    }
    if (s == GA_OK) *pays = r->order_pays;
    pthread_mutex_unlock(&cache->mutex);
    return s;
}
