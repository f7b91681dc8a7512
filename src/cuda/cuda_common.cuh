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
/* Rows mode's warps hold 2 << a rows for a in [0, GA_EDGE_ROWS_GROUPS): the plan's excess figures. */
#define GA_EDGE_ROWS_GROUPS 4
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

/* Whether `device`'s primary context exists: 1 yes, 0 no, -1 cannot tell. */
int ga_cuda_context_exists(int device);

/* Make `previous` current again after work on `current`, unless that would create a context on
 * `previous` (see device.cu); errors are cleared, never reported. */
void ga_cuda_restore_device(int previous, int current);

/* Make `device` current for the life of the guard and restore the caller's device after. */
struct ga_cuda_device_guard {
    int previous;
    int current;
    int ok;
    ga_cuda_device_guard() : previous(-1), current(-1), ok(0) {}
    ga_status enter(int device);
    ~ga_cuda_device_guard() {
        if (ok) ga_cuda_restore_device(previous, current);
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
    double excess[GA_EDGE_ROWS_GROUPS]; /* rows mode's excess at 2, 4, 8, 16 rows a warp (ga_edge_rows_mode) */
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
    double excess[GA_EDGE_ROWS_GROUPS]; /* the plan's: rows mode's excess test (ga_edge_rows_mode) */
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

/* Whether a vectorized call takes the half-width instance: 8 elements per lane (one 16-byte vector
 * of a 16-bit type, two of float32) and twice the lanes an edge, instead of 16 elements per lane.
 * Fewer elements per lane mean fewer registers (float32's 16-element instances spill 256 bytes at
 * their 128 registers, the half-width ones ~100) but fewer edges in flight per warp, so a short
 * row, whose fixed work (its state, the groups' merge) outweighs its edges, gains and a long one
 * loses; float32 gains more. The bounds are mean slots per row (the plan's), H200, the edge engine
 * alone at 2^20 (bench/RESULTS.md runs 59-62):
 * - float32, 8 < D <= 64: every row length (run 60, D 64: random:16 6.30 -> 3.13 ms, window:256
 *   21.5 -> 18.0; run 62, D 16 / 32: 20-42% faster at 5-513 keys);
 * - float32, 64 < D <= 128: <= 80 (run 61, D 96 / 128: random:16 1.6-1.8x faster, 65 keys 2-7%,
 *   129 keys 2-6% slower); 128 < D <= 256: <= 48 (run 62, D 192 / 256: random:16 1.55-1.6x faster,
 *   33 keys 7-10%, 65 keys level, 129 keys 5-9% slower);
 * - 16-bit, 8 < D <= 32: <= 96 (run 62, D 32: 16-33 keys 12-20% faster, 65 keys 7%, 129 level,
 *   513 15% slower; D 16 gains up to 129 keys); 32 < D <= 64: <= 48 (run 59, D 64: 17 / 33 / 49 keys
 *   13% / 7% / 2-3% faster, 65 level, 129 14% slower); 64 < D <= 128: <= 20 (run 61: 5-16 keys
 *   level to 11% faster, 33 keys 5-6% slower); 128 < D <= 256: <= 8 (run 62: 5 keys 13-14% faster,
 *   16 keys 2-11% slower).
 * D <= 8 (where the second lane would hold nothing) and D > 256 (a warp an edge already) keep 16.
 * Those bounds are row mode's. In rows mode (`rows`: ga_edge_rows_mode says so) at 32 <= D <= 128,
 * 16-bit types take 16 elements per lane and float32 8 at every row length (run 72, rows mode at
 * 2^20 on 5-513-slot rows, 16 / 8 against 8 / 16: bf16 1.21-1.49x faster at D 32, 1.18-1.45x at
 * D 64, 1.25-1.59x at D 128, twice the rows a warp; float32 16 elements 1.1-1.8x slower). At 128 < D
 * <= 256 row mode's bounds stand: 16-bit rows of <= 8 slots take 8 elements, 32 lanes an edge, and
 * so row mode (rows mode there, on 16 elements and 16 lanes, was not measured). */
static inline int ga_edge_half_width(int64_t D, int is_f32, double mean_slots, int rows) {
    if (D <= 8 || D > 256) return 0;
    if (rows && D >= 32 && D <= 128) return is_f32;
    if (is_f32) return D <= 64 || mean_slots <= (D <= 128 ? 80.0 : 48.0);
    return mean_slots <= (D <= 32 ? 96.0 : D <= 64 ? 48.0 : D <= 128 ? 20.0 : 8.0);
}

/* Rows a warp in rows mode for a vectorized call at head dim D (ga_edge_forward's instance for
 * rows mode: 8 elements a lane where ga_edge_half_width says, else 16, lanes an edge the next
 * power of two): 2, 4, 8 or 16, or 0 where that instance has 1 or 32 lanes an edge (row mode). */
static inline int ga_edge_rows_per_warp(int64_t D, int is_f32, double mean_slots) {
    const int half = ga_edge_half_width(D, is_f32, mean_slots, 1);
    const int64_t lanes = half ? 2 * ((D + 15) / 16) : (D + 15) / 16;
    int lpe = half ? 2 : 1;
    while (lpe < lanes && lpe < 32) lpe *= 2;
    return lpe >= 2 && lpe <= 16 ? 32 / lpe : 0;
}

/* The workspace part of an edge step's task counter (ga_edge_params.task_counter), and the fewest
 * row tasks (batch x heads x query rows) for which a call has one unless GRAPHATTN_EDGE_DYN says
 * (forward.cu's ga_edge_counter_wanted): below that a grid of a block for every 8 tasks is small,
 * and the call's workspace stays as it was. */
#define GA_EDGE_COUNTER_BYTES 256
#define GA_EDGE_DYN_MIN_ROWS 65536

/* Whether row mode's tasks run in rows mode (ga_edge_rows_kernel): GRAPHATTN_EDGE_ROWS=0 never, =1
 * always (instances of 2-16 lanes an edge), else where the instance holds `rows` = 2-16 rows a
 * warp (ga_edge_rows_per_warp), the plan's mean slots per row are at most 520, its excess at that
 * many rows a warp is at most 5 (16-bit types) or 2 (float32), and, where at most half the rows
 * have a slot outside heavy pairs (busy_rows), their mean is at most 448.
 * Rows mode shares a row's fixed work (its state, the lanes' merge, the write) among the warp's
 * rows, but a warp runs as many steps as its longest row. With dynamic tasks (a warp takes its
 * next task as soon as it is done) that is the whole cost of uneven rows: the excess, each
 * group of rows' most slots less their mean, summed and per row, is the steps a warp runs past
 * its rows' share. Measured on the H200 at 2^20 (bench/RESULTS.md runs 81 and 83, dynamic tasks,
 * row mode against rows mode on the CSRs of bench/skew_csrs.py): in bf16, rows mode faster up to an
 * excess of 3.5-4.3 (1.07-1.39x), slower from 6.1 (1.10-2.75x) at 8 and 16 rows a warp; level at
 * 4.9-5.9 and 1.31x slower from 8.2 at 4 rows a warp (D 128). In float32 (D 64, 4 rows a warp)
 * slower from 2.6 (1.08x), while uniform rows gain 1.46x (run 69). Uniform rows gain at every
 * length to 512 (1.46-1.65x; runs 69 and 77); rows of over 520 slots are row mode's. The busy-rows
 * test (runs 76-77, longnet at rate 2, from before dynamic tasks) stays: the mean counts heavy
 * pairs' slots too, busy_rows only rows with light ones, so with heavy pairs it is overstated. */
#define GA_EDGE_ROWS_MAX_SLOTS 520.0
#define GA_EDGE_ROWS_EXCESS 5.0
#define GA_EDGE_ROWS_EXCESS_F32 2.0
#define GA_EDGE_ROWS_BUSY_SLOTS 448.0
static inline int ga_edge_rows_mode(double mean_slots, const double excess[GA_EDGE_ROWS_GROUPS], int rows, int is_f32,
                                    int64_t nq, int64_t busy_rows) {
    const char *e = getenv("GRAPHATTN_EDGE_ROWS");
    if (e && e[0] == '0') return 0;
    if (e && e[0] == '1') return 1;
    const int a = rows == 2 ? 0 : rows == 4 ? 1 : rows == 8 ? 2 : rows == 16 ? 3 : -1;
    if (a < 0 || mean_slots > GA_EDGE_ROWS_MAX_SLOTS) return 0;
    if (excess[a] > (is_f32 ? GA_EDGE_ROWS_EXCESS_F32 : GA_EDGE_ROWS_EXCESS)) return 0;
    /* at most half the rows busy (rounded up: longnet at rate 2 over an odd count has (nq + 1) / 2):
     * their mean, mean_slots * nq / busy_rows, at most 448 */
    return !(busy_rows <= nq - nq / 2 && mean_slots * (double)nq > GA_EDGE_ROWS_BUSY_SLOTS * (double)busy_rows);
}

/* Launch the edge kernels and the heavy-row merge for one dtype (edge_<dtype>.cu). */
ga_status ga_cuda_edge_forward_f32(const ga_edge_params *p, cudaStream_t stream);
ga_status ga_cuda_edge_forward_f16(const ga_edge_params *p, cudaStream_t stream);
ga_status ga_cuda_edge_forward_bf16(const ga_edge_params *p, cudaStream_t stream);

/* Bytes of workspace for the partial states of a plan. */
static inline size_t ga_cuda_partial_bytes(const ga_cuda_plan *plan, int64_t BH, int64_t D) {
    /* saturates instead of wrapping: a size past SIZE_MAX is one no allocation can meet */
    size_t n = (size_t)(plan->nslots + plan->nitems), r;
    if (__builtin_mul_overflow(n, (size_t)BH, &r) || __builtin_mul_overflow(r, (size_t)(D + 2) * sizeof(float), &r))
        return SIZE_MAX;
    return r;
}

#endif
