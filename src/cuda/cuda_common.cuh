/* cuda_common.cuh -- what every file of the CUDA backend shares: turning CUDA errors into
 * status codes, the device guard, the device copy of a graph with its plan, and the parameter
 * block of the edge kernels.
 *
 * Work split of one forward call (see docs/gpu.md):
 *   1. edge kernel, "row" mode: one warp per (batch, head, query row), 8 consecutive rows per
 *      block so neighbouring rows share K/V through L1; every component of the union is walked
 *      slot by slot with an online softmax. A (row, component) pair with more than
 *      `heavy_threshold` slots is skipped there; such a row writes its partial state to the
 *      workspace instead of to `out`. Its tasks run in "rows mode" (ga_edge_rows_kernel: one row
 *      per group of lanes, 32 / LPE consecutive rows a warp) where ga_edge_rows_mode says.
 *   2. edge kernel, "chunk" mode: one warp per chunk of a heavy (row, component) pair, partial
 *      state to the workspace.
 *   3. merge kernel: one warp per heavy row merges its partials (and the prior state under
 *      GA_FLAG_ACCUMULATE) by log-sum-exp and writes out/lse.
 * The heavy pairs are found on the host once per (graph, Nq, Nk) and cached on the device with
 * the graph (the "plan"). */
#ifndef GA_CUDA_COMMON_CUH
#define GA_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <stdint.h>
#include <stdlib.h>

#include "backend.h"
#include "common/error.h"
#include "graph/component.h"
#include "graph/graph.h"

/* Largest head dimension the edge kernels handle (registers hold D/32 floats per lane). */
#define GA_CUDA_MAX_HEAD_DIM 512
/* Warps (query rows) per block of the edge kernel. */
#define GA_CUDA_WARPS_PER_BLOCK 8
/* Blocks per multiprocessor the edge kernel is compiled for (caps its registers: 2 -> 128, 4 -> 64). */
#ifndef GA_CUDA_MIN_BLOCKS
#define GA_CUDA_MIN_BLOCKS 2
#endif
/* Components copied to shared memory per block; a longer union is read from global memory. */
#define GA_CUDA_SMEM_COMPS 16

/* Turn a CUDA error into a status: out of memory -> GA_ERR_OUT_OF_MEMORY, anything else ->
 * GA_ERR_CUDA; the detail names the call and carries cudaGetErrorString. Clears the
 * (non-sticky) error so that the next call starts clean. */
ga_status ga_cuda_error(cudaError_t err, const char *what, const char *file, int line);

#define GA_CUDA_TRY(call)                                                                         \
    do {                                                                                          \
        cudaError_t ga_cuda_e_ = (call);                                                          \
        if (ga_cuda_e_ != cudaSuccess) return ga_cuda_error(ga_cuda_e_, #call, __FILE__, __LINE__); \
    } while (0)

/* After a launch: a bad configuration shows up here, faults later on the stream. */
#define GA_CUDA_CHECK_LAUNCH() GA_CUDA_TRY(cudaGetLastError())

/* Make `device` current for the life of the guard and restore the caller's device after. */
struct ga_cuda_device_guard {
    int previous;
    int ok;
    ga_cuda_device_guard() : previous(-1), ok(0) {}
    ga_status enter(int device);
    ~ga_cuda_device_guard() {
        if (ok && previous >= 0) cudaSetDevice(previous);
    }
};

/* One chunk of a heavy (row, component) pair: slots [t0, t1) of component `comp` of the row
 * heavy_rows[slot]. */
typedef struct ga_cuda_item {
    int64_t slot;
    int64_t t0, t1;
    int64_t comp;
} ga_cuda_item;

/* The work plan of a graph over Nq x Nk, on one device. */
typedef struct ga_cuda_plan {
    int64_t nq, nk;
    int first_comp;               /* the components this plan covers: [first_comp, ncomp) */
    int64_t heavy_threshold;      /* (row, comp) pairs with more slots than this are chunked */
    double mean_slots;            /* the components' rough mean slots per row (ga_comp_bounds) */
    int64_t max_slots;            /* an upper bound on a row's slots outside heavy pairs (rows mode) */
    int64_t busy_rows;            /* an estimate of the rows with a slot outside heavy pairs (rows mode) */
    int64_t nslots;               /* heavy rows */
    const int64_t *heavy_rows;    /* device, sorted, nslots */
    const int64_t *item_begin;    /* device, nslots + 1: the items of slot s */
    int64_t nitems;
    const ga_cuda_item *items;    /* device, nitems, grouped by slot */
    struct ga_cuda_plan *next;
} ga_cuda_plan;

/* Row bounds of a first component whose rows are key intervals (graph/row_ranges.h) on the
 * device: each row's first and last key, each 64-row tile's fewest keys, and (host values) the
 * fewest keys of any row and the middle row's. ok = 0: the rows are not intervals (nothing
 * uploaded). nq, nk, next: a documents component's bounds are kept per shape. */
typedef struct ga_cuda_ranges {
    int64_t nq, nk;
    int ok;
    const int64_t *rlo, *rhi, *rmin;
    int64_t kmin, kmid;
    /* the units of GA_RANGES_ORDER_ROWS rows heaviest first (ga_row_ranges_order), norder of
     * them: on the device, and on the host with each unit's estimated work (owned); the device's
     * SMs; whether the order pays for the last batch x heads asked (order_bh, 0: none yet) */
    const int64_t *order;
    int64_t norder;
    /* the same units, those with a row of fewer than GA_TILE_SPLIT_KEYS keys first (nshort of
     * them; ga_row_ranges_split_order), on the device */
    const int64_t *sorder;
    int64_t nshort;
    int64_t *horder, *hwork;
    int sms;
    int64_t order_bh;
    int order_pays;
    struct ga_cuda_ranges *next;
} ga_cuda_ranges;

/* The device copy of a graph on one device. */
typedef struct ga_cuda_dgraph {
    int device;
    int ncomp;
    const ga_component *comps;    /* device array; its list/row_ptr/col point to device copies */
    ga_component *hcomps;         /* host copy of that array (device pointers inside) */
    void **allocs;                /* every device allocation owned by this copy */
    int nallocs, cap_allocs;
    ga_cuda_plan *plans;          /* one per (Nq, Nk, first_comp) seen; kept until the graph dies */
    /* Tensor-core tiles of an explicit first component (graph/tile_plan.h), built on first use:
     * tiles_state 0 = not yet, 1 = built (ntiles may be 0). The residual edges form a graph of
     * their own, run by the edge engine. */
    int tiles_state;
    int64_t ntiles, tile_edges;
    const int64_t *tile_ptr, *tile_kt, *tile_mask;
    const uint64_t *masks;
    ga_graph *residual;
    /* ranges.ok: the explicit first component's rows are key intervals with nondecreasing ends
     * (graph/row_ranges.h); it then runs as an interval component on these device arrays (row
     * bounds, per-64-row-tile fewest keys) and has no tile plan. GRAPHATTN_NO_RANGES=1 at the
     * graph's first call on a device keeps the bitmap-tile plan instead. */
    ga_cuda_ranges ranges;
    /* a documents first component: its row bounds per (Nq, Nk) seen, kept until the graph dies
     * (a kernel in flight may still read the arrays of an earlier shape) */
    ga_cuda_ranges *doc_ranges;
    struct ga_cuda_dgraph *next;
} ga_cuda_dgraph;

/* The device copy of `graph` on the current device (uploading it on first use) and its plan
 * over nq x nk (building it on first use). Thread-safe; the results stay valid until the graph
 * is destroyed or a component is added. */
ga_status ga_cuda_graph_plan(const ga_graph *graph, int device, int64_t nq, int64_t nk, int first_comp,
                             const ga_cuda_dgraph **dg, const ga_cuda_plan **plan);
/* The device copy of `graph` on `device` alone (uploaded on first use), without a plan. */
ga_status ga_cuda_graph_device(const ga_graph *graph, int device, const ga_cuda_dgraph **dg);
/* The tile plan of the graph's first (explicit) component on `device`, built on first use. */
ga_status ga_cuda_graph_tiles(const ga_graph *graph, int device, const ga_cuda_dgraph **dg);
/* The row bounds of the graph's first (documents) component over nq x nk on `device`, built on
 * first use of that shape. */
ga_status ga_cuda_graph_doc_ranges(const ga_graph *graph, int device, int64_t nq, int64_t nk, const ga_cuda_ranges **r);
/* Whether r's work order pays (>= 3% by ga_row_ranges_order_gain) for bh = batch x heads copies
 * on r's device's SMs; computed once per bh (the last one kept), under the graph's cache lock. */
ga_status ga_cuda_ranges_order_pays(const ga_graph *graph, const ga_cuda_ranges *r, int64_t bh, int *pays);

/* Everything the edge kernels read, by value. Strides are in elements, for (batch, token, head). */
typedef struct ga_edge_params {
    const void *q, *k, *v;
    void *out;
    float *lse;
    int64_t qs[3], ks[3], vs[3], os[3], ls[3];
    int64_t B, nq, nk, H, Hkv, D, BH;
    int64_t group;     /* H / Hkv: query heads per key/value head */
    float scale_log2;  /* softmax scale times log2(e): scores live in base 2 */
    unsigned flags;
    const ga_component *comps;
    int ncomp;
    int first_comp;    /* components before this one are done elsewhere (tiles); still owners */
    int64_t heavy_threshold;
    double mean_slots; /* the plan's: the instance choice (ga_edge_forward) */
    int64_t max_slots; /* the plan's: rows mode's spread test (ga_edge_rows_mode) */
    int64_t busy_rows; /* the plan's: rows mode's idle-groups test (ga_edge_rows_mode) */
    const int64_t *heavy_rows;
    const int64_t *item_begin;
    int64_t nslots;
    const ga_cuda_item *items;
    int64_t nitems;
    float *ws;         /* partial states: (nslots + nitems) x BH x (D + 2) floats: m, l, o[D] */
    unsigned long long *task_counter; /* the row / rows tasks' next task (GA_EDGE_COUNTER_BYTES of the
                                         call's workspace, zeroed on the stream by the launch);
                                         NULL: each warp takes its tasks by index */
} ga_edge_params;

/* Launches of the edge engine's half-width instances (8 elements per lane; the rule is
 * ga_edge_half_width's; forward.cu defines it, ga_cuda_testing_edge_half_width_calls reads it) */
extern long long g_edge_half_width_calls;
/* Launches of the edge engine's rows mode (ga_edge_rows_kernel: a row per group of lanes; the rule
 * is ga_edge_rows_mode's; forward.cu defines it, ga_cuda_testing_edge_rows_calls reads it) */
extern long long g_edge_rows_calls;
/* Launches of the row or rows tasks with dynamic tasks (a task counter; forward.cu defines it,
 * ga_cuda_testing_edge_dyn_calls reads it) */
extern long long g_edge_dyn_calls;

/* Whether row mode's tasks run in rows mode (ga_edge_rows_kernel): GRAPHATTN_EDGE_ROWS=0 never, =1
 * always (instances of 2-16 lanes an edge), else where the plan's mean slots per row are at most
 * 520 and its bound on a row's slots outside heavy pairs (max_slots: each component's longest such
 * row, summed) at most 8x the mean + 32, and, where at most half the rows have a slot outside heavy
 * pairs (busy_rows), the mean over those rows at most 448. Measured on the H200 at 2^20 (bench/RESULTS.md run 69,
 * rows mode against row mode): 5-key dilated rows 3.2x faster, random:16 1.66x (bf16, D 64), 2.2x
 * at D 32, 1.25-1.27x at D 128, 1.46x in float32; random:64 1.51x; windows of 33 / 129 / 513 slots
 * on the edge engine 1.8x / 1.44x / 1-2%. A warp runs as many steps as its longest row, so rows of
 * very unequal lengths lose (run 72, bf16 D 64, CSRs): rows of 8 keys with every 64th of 3000 4.4x
 * slower in rows mode, Pareto-distributed rows (mean 18, most 4-10, up to 4000) 1.56x slower; rows
 * alternating 1 and 500 keys were still 10% faster. Run 75 (same setup) between them: 8-key rows
 * with every 8th of L keys (one long row in each warp of 8 rows) faster in rows mode at every L up
 * to 1024 (L 64 / 256 / 1024: 1.68x / 1.51x / 1.06x faster; longest 4.3x / 6.6x / 7.6x the mean),
 * every 64th of 128 keys 1.53x slower (12.9x the mean), row lengths uniform in 0-64 1.5x faster.
 * The bound (8x + 32) is the line between those at 8 rows a warp (bf16 D 64). A few long rows
 * among many short ones lose more than one in every warp (every 64th of 512 keys: 4.1x slower).
 * Runs 76-80: at 16 rows a warp (bf16 D 32) the bound picks the faster mode in all of run 75's
 * CSRs; at 4 (bf16 D 128, float32 D 64) no spread bound would: every 64th row of 128-320 keys
 * (13-25x the mean) 1.09-1.45x faster in rows mode in bf16 (float32 e64-320 level), every 16th of
 * 256 or 512 (11-13x) 2.6-3.7x slower; and at 8, every 16th row of 128-160 keys (8.3-9.1x, which
 * the bound lets in) 1.14-1.25x slower (run 79). Run 80 found why: a block's 8 warps are freed
 * together, so a long row holds its block's other warps' places (GRAPHATTN_EDGE_WPB below). The
 * bound stays, taking the larger losses. Rows with no slot: where at most half the rows have any
 * (busy_rows, the plan's estimate), the groups of the empty ones idle while the others run, and
 * busy rows of more than 448 slots lose (longnet:1024,2,0 1.13x; 2048,2,0 1.29x at D 64 bf16, run
 * 76, and 1.25-1.38x at D 32 / 128 bf16 and D 64 float32, run 77; 2048,4,1 1.14x, run 76), while
 * 256-384 gain up to 1.16x or are level (longnet:512,2,0, 768,2,0, 1024,4,0, 1536,4,0, run 77);
 * uniform rows of 512 random keys, none empty, are still 1.46x faster in rows mode. */
#define GA_EDGE_ROWS_MAX_SLOTS 520.0
/* The workspace part of an edge step's task counter (ga_edge_params.task_counter), and the fewest
 * row tasks (batch x heads x query rows) for which a call has one unless GRAPHATTN_EDGE_DYN says
 * (forward.cu's ga_edge_counter_wanted): below that a grid of a block for every 8 tasks is small,
 * and the call's workspace stays as it was. */
#define GA_EDGE_COUNTER_BYTES 256
#define GA_EDGE_DYN_MIN_ROWS 65536
#define GA_EDGE_ROWS_SPREAD 8.0
#define GA_EDGE_ROWS_BUSY_SLOTS 448.0
static inline int ga_edge_rows_mode(double mean_slots, int64_t max_slots, int64_t nq, int64_t busy_rows) {
    const char *e = getenv("GRAPHATTN_EDGE_ROWS");
    if (e && e[0] == '0') return 0;
    if (e && e[0] == '1') return 1;
    if (mean_slots > GA_EDGE_ROWS_MAX_SLOTS || (double)max_slots > GA_EDGE_ROWS_SPREAD * mean_slots + 32.0) return 0;
    /* at most half the rows busy (rounded up: longnet at rate 2 over an odd count has (nq + 1) / 2):
     * their mean, mean_slots * nq / busy_rows, at most 448. mean_slots counts heavy pairs' slots
     * too, busy_rows only rows with light ones: with heavy pairs the mean is overstated. */
    return !(busy_rows <= nq - nq / 2 && mean_slots * (double)nq > GA_EDGE_ROWS_BUSY_SLOTS * (double)busy_rows);
}

/* Launch the edge kernels and the heavy-row merge for one dtype (edge_<dtype>.cu). */
ga_status ga_cuda_edge_forward_f32(const ga_edge_params *p, cudaStream_t stream);
ga_status ga_cuda_edge_forward_f16(const ga_edge_params *p, cudaStream_t stream);
ga_status ga_cuda_edge_forward_bf16(const ga_edge_params *p, cudaStream_t stream);

/* Bytes of workspace for the partial states of a plan. */
static inline size_t ga_cuda_partial_bytes(const ga_cuda_plan *plan, int64_t BH, int64_t D) {
    return (size_t)(plan->nslots + plan->nitems) * (size_t)BH * (size_t)(D + 2) * sizeof(float);
}

#endif
