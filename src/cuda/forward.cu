/* forward.cu -- the CUDA backend's entry points (src/backend.h): workspace size, forward pass
 * and the merge of two partial states. The API layer has validated the problem; what is left
 * here is what only the device knows: head dims, device memory, launch errors. */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "cuda/cuda_common.cuh"
#include "cuda/tile_interval.h"

static void ga_strides3(const ga_tensor *t, int64_t s[3]) {
    s[0] = t->stride[0];
    s[1] = t->stride[1];
    s[2] = t->stride[2];
}

/*
 * The schedule of one call:
 *   1. tiles: when the first component is an interval (window, causal, dense, blocks) or an
 *      explicit graph with dense 64x64 blocks, and dtype/head dim/alignment suit the tensor-core
 *      kernel, that component runs as tiles (tile_interval.cu); a global component of at most
 *      64 tokens right after an interval runs with the tiles too where the Hopper kernel runs
 *      them (the listed tokens of tile_interval.h: Longformer's window + global);
 *   2. the residual edges of an explicit first component (edge engine);
 *   3. the remaining components [first_comp, ncomp) (edge engine; the earlier components still
 *      own their edges, so nothing is counted twice).
 * They run in the order 2, 3, 1 (see ga_cuda_forward for why); each step after the first merges
 * into the state before it (GA_FLAG_ACCUMULATE), which needs an lse: the caller's, or a
 * temporary one in the workspace.
 */
typedef struct ga_cuda_schedule {
    int tiles;                       /* step 1 runs */
    ga_tile_interval_call tile;
    const ga_cuda_dgraph *dg;        /* main graph on the device */
    const ga_cuda_plan *plan_res;    /* step 2 (NULL: none) */
    const ga_cuda_dgraph *dg_res;
    const ga_cuda_plan *plan_rest;   /* step 3 (NULL: none) */
    int first_comp;
    size_t partial_bytes;            /* workspace for the edge engine's partial states */
    size_t lse_bytes;                /* temporary lse (0: not needed) */
    size_t x_bytes;                  /* workspace of the tiles' listed tokens (0: none) */
    size_t sched_bytes;              /* causal tiles: the work counter and its slots (GA_TILE_SCHED_BYTES; 0: none) */
    size_t counter_bytes;            /* the edge steps' task counter (GA_EDGE_COUNTER_BYTES; 0: none) */
} ga_cuda_schedule;

static int ga_tile_kind(const ga_component *c) {
    switch (c->kind) {
    case GA_COMP_WINDOW: return GA_TILE_WINDOW;
    case GA_COMP_CAUSAL: return GA_TILE_CAUSAL;
    case GA_COMP_DENSE: return GA_TILE_DENSE;
    case GA_COMP_BLOCKS: return GA_TILE_BLOCKS;
    case GA_COMP_CSR:
    case GA_COMP_DOCUMENTS: return GA_TILE_LIST; /* settled below: ranges (or bitmap tiles for csr) or none */
    case GA_COMP_BIGBIRD: return GA_TILE_BIGBIRD;
    default: return -1;
    }
}

/* Workspace sizes saturate at SIZE_MAX (a size no allocation or caller buffer can meet) */
static size_t ga_round256(size_t x) { return x > SIZE_MAX - 255 ? SIZE_MAX : (x + 255) / 256 * 256; }
static size_t ga_size_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

/* Whether the call's edge steps get a task counter in the workspace, and so dynamic tasks
 * (edge_attention.cuh, ga_edge_launch): GRAPHATTN_EDGE_DYN=0 never, =1 always (probe and test
 * switches), else from GA_EDGE_DYN_MIN_ROWS row tasks. The size query reads the same switch. */
static int ga_edge_counter_wanted(const ga_problem *p) {
    const char *e = getenv("GRAPHATTN_EDGE_DYN");
    if (e && (e[0] == '0' || e[0] == '1') && e[1] == 0) return e[0] == '1';
    const int64_t bh = p->B * p->H;
    return bh >= 1 && p->nq >= 1 && (p->nq >= GA_EDGE_DYN_MIN_ROWS || bh >= (GA_EDGE_DYN_MIN_ROWS + p->nq - 1) / p->nq);
}

/* The first component's interval rows (bounds on the device) as the tiles' interval, with the
 * work order where its estimate for this call's batch x heads says it pays (>= 3%; a band's is
 * ~1.0, and forced on a band the order cost it 3%: bench/RESULTS.md run 13d);
 * GRAPHATTN_ORDER=0 never, =1 always (comparisons). */
static ga_status ga_tile_use_ranges(ga_tile_interval_call *t, const ga_graph *g, const ga_cuda_ranges *r, int64_t bh) {
    t->kind = GA_TILE_RANGES;
    t->rlo = r->rlo; t->rhi = r->rhi; t->rmin = r->rmin;
    t->rmin_keys = r->kmin; t->rmid_keys = r->kmid;
    const char *env = getenv("GRAPHATTN_ORDER");
    int use = env && env[0] == '0' ? 0 : env && env[0] == '1' ? 1 : -1;
    if (use < 0) GA_TRY(ga_cuda_ranges_order_pays(g, r, bh, &use));
    t->unit_order = use ? r->order : NULL;
    t->unit_order_n = use ? r->norder : 0;
    t->unit_sorder = use ? r->sorder : NULL;
    t->unit_nshort = use ? r->nshort : 0;
    return GA_OK;
}

static long long g_ranges_calls; /* ga_cuda_testing_ranges_calls */
extern "C" long long ga_cuda_testing_ranges_calls(void) { return __atomic_load_n(&g_ranges_calls, __ATOMIC_RELAXED); }
long long g_edge_half_width_calls;
extern "C" long long ga_cuda_testing_edge_half_width_calls(void) {
    return __atomic_load_n(&g_edge_half_width_calls, __ATOMIC_RELAXED);
}
long long g_edge_rows_calls;
long long g_edge_dyn_calls;
extern "C" long long ga_cuda_testing_edge_dyn_calls(void) {
    return __atomic_load_n(&g_edge_dyn_calls, __ATOMIC_RELAXED);
}
extern "C" long long ga_cuda_testing_edge_rows_calls(void) {
    return __atomic_load_n(&g_edge_rows_calls, __ATOMIC_RELAXED);
}

/* Whether the tiles take a call just made ranges (ga_tile_use_ranges: an explicit graph with
 * interval rows, or documents): a padded head dim is asked again now, since only the persistent
 * Hopper kernels pad and they take ranges, which the first ask could not see. */
static int ranges_take(const ga_tile_interval_call *t) {
    return ga_tile_padded_d(t->D) == t->D || ga_tile_interval_supported(t);
}

static ga_status ga_cuda_plan_schedule(const ga_problem *p, ga_cuda_schedule *s) {
    GA_FAIL_IF(p->D < 1 || p->D > GA_CUDA_MAX_HEAD_DIM, GA_ERR_UNSUPPORTED_HEAD_DIM,
               "CUDA backend: head dimension %lld is outside [1, %d]", (long long)p->D, GA_CUDA_MAX_HEAD_DIM);
    GA_FAIL_IF(p->graph->count > INT32_MAX, GA_ERR_BAD_SIZE, "CUDA backend: too many graph components");
    memset(s, 0, sizeof *s);
    const int device = p->q->device_index;
    const ga_graph *g = p->graph;
    const int64_t BH = p->B * p->H;
    ga_tile_interval_call *t = &s->tile;
    t->kind = ga_tile_kind(&g->comps[0]);
    t->p0 = g->comps[0].p[0];
    t->p1 = g->comps[0].p[1];
    t->p2 = g->comps[0].p[2];
    t->p3 = g->comps[0].p[3];
    t->seed = g->comps[0].seed;
    t->dtype = p->q->dtype;
    t->B = p->B; t->H = p->H; t->Hkv = p->Hkv; t->nq = p->nq; t->nk = p->nk; t->D = p->D;
    t->q = p->q->data; t->k = p->k->data; t->v = p->v->data;
    t->out = p->out ? p->out->data : NULL; /* NULL in a workspace-size query */
    t->lse = p->lse ? (float *)p->lse->data : NULL;
    ga_strides3(p->q, t->sq); ga_strides3(p->k, t->sk); ga_strides3(p->v, t->sv);
    if (p->out) ga_strides3(p->out, t->so);
    if (p->lse) ga_strides3(p->lse, t->sl);
    t->scale = p->scale;
    t->accumulate = (p->flags & GA_FLAG_ACCUMULATE) != 0;
    t->stream = p->stream;
    int tile_comps = 1; /* components the tiles take */
    if (t->kind >= 0 && getenv("GRAPHATTN_NO_TILES") == NULL && ga_tile_interval_supported(t)) {
        if (t->kind == GA_TILE_BIGBIRD) {
            if (ga_tile_bigbird_supported(t)) {
                s->tiles = 1;
                s->x_bytes = ga_tile_extra_bytes(t);
            } else {
                t->nx_rows = 0;
            }
        } else if (t->kind != GA_TILE_LIST) {
            s->tiles = 1;
            const ga_component *gc = g->count >= 2 ? &g->comps[1] : NULL;
            if (gc && gc->kind == GA_COMP_GLOBAL && gc->nrows > 0 && gc->nrows <= GA_TILE_MAX_EXTRA &&
                getenv("GRAPHATTN_NO_EXTRA_TILE") == NULL) {
                t->nx = gc->nrows;
                t->nx_rows = ga_list_lower(gc->list, gc->nrows, p->nq);
                t->nx_keys = ga_list_lower(gc->list, gc->nrows, p->nk);
                t->x_first = gc->list[0];
                t->x_last = t->nx_keys > 0 ? gc->list[t->nx_keys - 1] : -1;
                if (ga_tile_extra_supported(t)) {
                    const ga_cuda_dgraph *d;
                    GA_TRY(ga_cuda_graph_device(g, device, &d));
                    t->xkeys = d->hcomps[1].list;
                    s->x_bytes = ga_tile_extra_bytes(t);
                    tile_comps = 2;
                } else {
                    t->nx = t->nx_rows = t->nx_keys = 0;
                }
            }
        } else if (g->comps[0].kind == GA_COMP_DOCUMENTS) {
            /* the documents' row bounds: the interval kernels, as for ranges (GRAPHATTN_NO_RANGES=1:
             * the edge engine, for comparisons) */
            const ga_cuda_ranges *r = NULL;
            if (getenv("GRAPHATTN_NO_RANGES") == NULL) GA_TRY(ga_cuda_graph_doc_ranges(g, device, p->nq, p->nk, &r));
            if (r && r->ok) {
                GA_TRY(ga_tile_use_ranges(t, g, r, BH));
                s->tiles = ranges_take(t);
            }
        } else {
            const ga_cuda_dgraph *d;
            GA_TRY(ga_cuda_graph_tiles(g, device, &d));
            if (d->ranges.ok) { /* interval rows: the interval kernels, bounds from the arrays */
                GA_TRY(ga_tile_use_ranges(t, g, &d->ranges, BH));
                s->tiles = ranges_take(t);
            } else if (d->ntiles > 0 && ga_tile_padded_d(t->D) == t->D) { /* bitmap tiles: mma.sync, no padding */
                s->tiles = 1;
                t->tile_ptr = d->tile_ptr; t->tile_kt = d->tile_kt; t->tile_mask = d->tile_mask; t->masks = d->masks;
                if (d->residual)
                    GA_TRY(ga_cuda_graph_plan(d->residual, device, p->nq, p->nk, 0, &s->dg_res, &s->plan_res));
            }
        }
    }
    /* Output over q: a later step would read q rows the tiles already overwrote, so tiles are
     * used only when they are the whole job; otherwise the edge engine alone runs (it reads each
     * row of q before writing that row). */
    /* A caller's prior state (GA_FLAG_ACCUMULATE) is already rounded to the output dtype; a
     * schedule of several steps would round the merged state once per step (three bf16
     * roundings of an output near 2 exceed 1e-2), so that case runs on the edge engine alone,
     * which merges once. */
    const int in_place = p->out && p->out->data == p->q->data;
    const int caller_prior = (p->flags & GA_FLAG_ACCUMULATE) != 0;
    /* (the listed rows' pass reads its q rows before the tiles write any output) */
    if (s->tiles && (in_place || caller_prior) && (s->plan_res || g->count > tile_comps)) {
        s->tiles = 0;
        s->plan_res = NULL;
        s->dg_res = NULL;
        t->nx = t->nx_rows = t->nx_keys = 0;
        t->xkeys = NULL;
        s->x_bytes = 0;
        tile_comps = 1;
    }
    s->first_comp = s->tiles ? tile_comps : 0;
    if (s->first_comp < (int)g->count)
        GA_TRY(ga_cuda_graph_plan(g, device, p->nq, p->nk, s->first_comp, &s->dg, &s->plan_rest));
    size_t a = s->plan_res ? ga_cuda_partial_bytes(s->plan_res, BH, p->D) : 0;
    size_t b = s->plan_rest ? ga_cuda_partial_bytes(s->plan_rest, BH, p->D) : 0;
    s->partial_bytes = a > b ? a : b;
    if (s->tiles && (s->plan_res || s->plan_rest) && !p->lse)
        s->lse_bytes = ga_round256((size_t)p->B * (size_t)p->nq * (size_t)p->H * sizeof(float));
    if (s->tiles && ga_tile_sched_wanted(t)) s->sched_bytes = GA_TILE_SCHED_BYTES;
    if ((s->plan_res || s->plan_rest) && ga_edge_counter_wanted(p)) s->counter_bytes = GA_EDGE_COUNTER_BYTES;
    return GA_OK;
}

/* The workspace a schedule needs, in this order, each part from a 256-byte boundary: partial
 * states, a temporary lse, the listed tokens' part, the tiles' work counter, the edge steps' task
 * counter (the steps run one after another on the stream, each zeroing it first). The parts'
 * offsets. */
typedef struct ga_cuda_ws_layout {
    size_t lse, x, sched, counter, need;
} ga_cuda_ws_layout;
static ga_cuda_ws_layout ga_cuda_ws_parts(const ga_cuda_schedule *s) {
    ga_cuda_ws_layout l;
    l.lse = ga_round256(s->partial_bytes);
    l.x = ga_size_add(l.lse, s->lse_bytes);
    l.sched = ga_size_add(l.x, ga_round256(s->x_bytes));
    l.counter = ga_size_add(l.sched, ga_round256(s->sched_bytes));
    l.need = ga_size_add(l.counter, s->counter_bytes);
    return l;
}

extern "C" ga_status ga_cuda_workspace_size(const ga_problem *p, size_t *bytes) {
    ga_cuda_device_guard guard;
    GA_TRY(guard.enter(p->q->device_index));
    ga_cuda_schedule s;
    GA_TRY(ga_cuda_plan_schedule(p, &s));
    *bytes = ga_cuda_ws_parts(&s).need;
    if (s.tiles) {
        /* the forward call may find the output written over q and run the edge engine alone: the
         * schedule of that fallback (ga_cuda_plan_schedule) has the partial states and the counter */
        const ga_cuda_dgraph *dg;
        ga_cuda_schedule alone;
        memset(&alone, 0, sizeof alone);
        GA_TRY(ga_cuda_graph_plan(p->graph, p->q->device_index, p->nq, p->nk, 0, &dg, &alone.plan_rest));
        alone.partial_bytes = ga_cuda_partial_bytes(alone.plan_rest, p->B * p->H, p->D);
        if (ga_edge_counter_wanted(p)) alone.counter_bytes = GA_EDGE_COUNTER_BYTES;
        const size_t need = ga_cuda_ws_parts(&alone).need;
        if (need > *bytes) *bytes = need;
    }
    return GA_OK;
}

/* One run of the edge engine over the components [first_comp, ncomp) of a device graph. */
static ga_status ga_cuda_run_edges(const ga_problem *p, const ga_cuda_dgraph *dg, const ga_cuda_plan *plan,
                                   int first_comp, unsigned flags, float *lse, const int64_t ls[3], float *ws,
                                   unsigned long long *counter, cudaStream_t stream) {
    ga_edge_params e;
    e.q = p->q->data;
    e.k = p->k->data;
    e.v = p->v->data;
    e.out = p->out->data;
    e.lse = lse;
    ga_strides3(p->q, e.qs);
    ga_strides3(p->k, e.ks);
    ga_strides3(p->v, e.vs);
    ga_strides3(p->out, e.os);
    e.ls[0] = ls[0]; e.ls[1] = ls[1]; e.ls[2] = ls[2];
    e.B = p->B;
    e.nq = p->nq;
    e.nk = p->nk;
    e.H = p->H;
    e.Hkv = p->Hkv;
    e.D = p->D;
    e.BH = p->B * p->H;
    e.group = p->H / p->Hkv;
    e.scale_log2 = (float)(p->scale * 1.4426950408889634);
    e.flags = flags;
    e.comps = dg->comps;
    e.ncomp = dg->ncomp;
    e.first_comp = first_comp;
    e.heavy_threshold = plan->heavy_threshold;
    e.mean_slots = plan->mean_slots;
    for (int a = 0; a < GA_EDGE_ROWS_GROUPS; a++) e.excess[a] = plan->excess[a];
    e.busy_rows = plan->busy_rows;
    e.heavy_rows = plan->heavy_rows;
    e.item_begin = plan->item_begin;
    e.nslots = plan->nslots;
    e.items = plan->items;
    e.nitems = plan->nitems;
    e.ws = ws;
    e.task_counter = counter;
    switch (p->q->dtype) {
    case GA_F32: return ga_cuda_edge_forward_f32(&e, stream);
    case GA_F16: return ga_cuda_edge_forward_f16(&e, stream);
    case GA_BF16: return ga_cuda_edge_forward_bf16(&e, stream);
    default: GA_FAIL(GA_ERR_BAD_DTYPE, "CUDA backend: unknown dtype %d", (int)p->q->dtype);
    }
}

extern "C" ga_status ga_cuda_forward(const ga_problem *p) {
    ga_cuda_device_guard guard;
    GA_TRY(guard.enter(p->q->device_index));
    ga_cuda_schedule sc;
    GA_TRY(ga_cuda_plan_schedule(p, &sc));
    cudaStream_t stream = (cudaStream_t)p->stream;

    const ga_cuda_ws_layout wl = ga_cuda_ws_parts(&sc);
    const size_t need = wl.need;
    void *ws = p->workspace;
    int own_ws = 0;
    if (need > 0 && !ws) { /* the caller left it to us: stream-ordered, so no synchronization */
        GA_FAIL_IF(ga_alloc_should_fail(), GA_ERR_OUT_OF_MEMORY,
                   "CUDA backend: out of device memory for a %zu-byte workspace (injected)", need);
        GA_CUDA_TRY(cudaMallocAsync(&ws, need, stream));
        own_ws = 1;
    } else if (need > 0) {
        GA_FAIL_IF(p->workspace_bytes < need, GA_ERR_WORKSPACE_TOO_SMALL,
                   "CUDA backend: workspace of %zu bytes is smaller than the %zu bytes needed", p->workspace_bytes,
                   need);
    }
    float *partials = (float *)ws;
    float *lse = p->lse ? (float *)p->lse->data : NULL;
    int64_t ls[3] = {0, 0, 0};
    if (p->lse) ga_strides3(p->lse, ls);
    if (sc.lse_bytes) { /* temporary (B, nq, H) lse for the merges after the tiles */
        lse = (float *)((char *)ws + wl.lse);
        ls[0] = p->nq * p->H; ls[1] = p->H; ls[2] = 1;
        sc.tile.lse = lse;
        memcpy(sc.tile.sl, ls, sizeof ls);
    }
    if (sc.x_bytes) sc.tile.xwork = (char *)ws + wl.x;
    if (sc.sched_bytes) sc.tile.sched = (int *)((char *)ws + wl.sched);
    unsigned long long *counter = sc.counter_bytes ? (unsigned long long *)((char *)ws + wl.counter) : NULL;

    /* The edge steps run first and the tiles merge last: a bf16/fp16 intermediate state is
     * rounded once more by every merge, and merging into the tiles' state would round the
     * window part (nearly all of the softmax mass). Merging the tiles into the edge steps'
     * state rounds only the small mass of the extra edges. */
    ga_status s = GA_OK;
    unsigned flags = p->flags;
    if (sc.plan_res) {
        s = ga_cuda_run_edges(p, sc.dg_res, sc.plan_res, 0, flags, lse, ls, partials, counter, stream);
        flags |= GA_FLAG_ACCUMULATE;
    }
    if (s == GA_OK && sc.plan_rest) {
        s = ga_cuda_run_edges(p, sc.dg, sc.plan_rest, sc.first_comp, flags, lse, ls, partials, counter, stream);
        flags |= GA_FLAG_ACCUMULATE;
    }
    if (s == GA_OK && sc.tiles) {
        char err[256];
        sc.tile.accumulate = (flags & GA_FLAG_ACCUMULATE) != 0;
        s = ga_tile_interval_run(&sc.tile, err, sizeof err);
        if (s != GA_OK) s = ga_raise(s, __FILE__, __LINE__, "%s", err);
        else if (sc.tile.kind == GA_TILE_RANGES) __atomic_fetch_add(&g_ranges_calls, 1, __ATOMIC_RELAXED);
    }
    if (own_ws) {
        cudaError_t fe = cudaFreeAsync(ws, stream);
        if (s == GA_OK && fe != cudaSuccess) return ga_cuda_error(fe, "cudaFreeAsync(workspace)", __FILE__, __LINE__);
    }
    return s;
}

/* ---- a := a (+) b ------------------------------------------------------------------------------ */

typedef struct ga_merge_params {
    void *oa;
    float *la;
    const void *ob;
    const float *lb;
    int64_t oas[3], las[3], obs[3], lbs[3];
    int64_t N, H, D, rows;
} ga_merge_params;

template <typename T> static __device__ __forceinline__ float ga_ld(const T *p);
template <> __device__ __forceinline__ float ga_ld<float>(const float *p) { return *p; }
template <> __device__ __forceinline__ float ga_ld<__half>(const __half *p) { return __half2float(*p); }
template <> __device__ __forceinline__ float ga_ld<__nv_bfloat16>(const __nv_bfloat16 *p) { return __bfloat162float(*p); }
template <typename T> static __device__ __forceinline__ T ga_st(float x);
template <> __device__ __forceinline__ float ga_st<float>(float x) { return x; }
template <> __device__ __forceinline__ __half ga_st<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 ga_st<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

/* One warp per (b, n, h) row, lanes over D. */
template <typename T> __global__ void __launch_bounds__(256) ga_merge_states_kernel(const ga_merge_params p) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int64_t row = (int64_t)blockIdx.x * 8 + warp; row < p.rows; row += (int64_t)gridDim.x * 8) {
        const int64_t h = row % p.H, bn = row / p.H, n = bn % p.N, b = bn / p.N;
        float *pla = p.la + b * p.las[0] + n * p.las[1] + h * p.las[2];
        const float la = *pla, lb = p.lb[b * p.lbs[0] + n * p.lbs[1] + h * p.lbs[2]];
        if (lb == -CUDART_INF_F) continue; /* b has no edges here: a stays bit for bit (as on the CPU) */
        T *oa = (T *)p.oa + b * p.oas[0] + n * p.oas[1] + h * p.oas[2];
        if (la != la || lb != lb) { /* a NaN state (from NaN inputs) merges to NaN, out and lse */
            for (int64_t d = lane; d < p.D; d += 32) oa[d] = ga_st<T>(CUDART_NAN_F);
            if (lane == 0) *pla = CUDART_NAN_F;
            continue;
        }
        const T *ob = (const T *)p.ob + b * p.obs[0] + n * p.obs[1] + h * p.obs[2];
        const float M = fmaxf(la, lb);
        const float wa = la > -CUDART_INF_F ? expf(la - M) : 0.f, wb = lb > -CUDART_INF_F ? expf(lb - M) : 0.f;
        const float L = wa + wb, inv = L > 0.f ? 1.f / L : 0.f;
        for (int64_t d = lane; d < p.D; d += 32) {
            float r = 0.f;
            if (wa > 0.f) r += ga_ld<T>(oa + d) * wa;
            if (wb > 0.f) r += ga_ld<T>(ob + d) * wb;
            oa[d] = ga_st<T>(r * inv);
        }
        __syncwarp();
        if (lane == 0) *pla = L > 0.f ? M + logf(L) : -CUDART_INF_F;
    }
}

extern "C" ga_status ga_cuda_merge_states(ga_tensor *out_a, ga_tensor *lse_a, const ga_tensor *out_b,
                                          const ga_tensor *lse_b, void *stream) {
    ga_cuda_device_guard guard;
    GA_TRY(guard.enter(out_a->device_index));
    ga_merge_params m;
    m.oa = out_a->data;
    m.la = (float *)lse_a->data;
    m.ob = out_b->data;
    m.lb = (const float *)lse_b->data;
    ga_strides3(out_a, m.oas);
    ga_strides3(lse_a, m.las);
    ga_strides3(out_b, m.obs);
    ga_strides3(lse_b, m.lbs);
    m.N = out_a->shape[1];
    m.H = out_a->shape[2];
    m.D = out_a->shape[3];
    m.rows = out_a->shape[0] * m.N * m.H;
    if (m.rows == 0) return GA_OK;
    int64_t blocks = (m.rows + 7) / 8;
    unsigned grid = (unsigned)(blocks < (int64_t)1 << 30 ? blocks : (int64_t)1 << 30);
    cudaStream_t s = (cudaStream_t)stream;
    switch (out_a->dtype) {
    case GA_F32: ga_merge_states_kernel<float><<<grid, 256, 0, s>>>(m); break;
    case GA_F16: ga_merge_states_kernel<__half><<<grid, 256, 0, s>>>(m); break;
    case GA_BF16: ga_merge_states_kernel<__nv_bfloat16><<<grid, 256, 0, s>>>(m); break;
    default: GA_FAIL(GA_ERR_BAD_DTYPE, "CUDA backend: unknown dtype %d", (int)out_a->dtype);
    }
    GA_CUDA_CHECK_LAUNCH();
    return GA_OK;
}
