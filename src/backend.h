/* backend.h -- what the API layer (src/api.c) hands a backend after validating a call.
 * Every backend receives a problem whose tensors, graph and sizes have already been checked:
 * a backend returns errors only for what it alone can know (unsupported head dim, device
 * failures, out of memory), and it must still write nothing when it returns an error. */
#ifndef GA_BACKEND_H
#define GA_BACKEND_H

#include <stddef.h>

#include "graph/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ga_problem {
    const ga_graph *graph;
    const ga_tensor *q, *k, *v; /* (B, nq, H, D), (B, nk, Hkv, D), (B, nk, Hkv, D) */
    ga_tensor *out;             /* (B, nq, H, D), dtype of q; may be q itself (in place) */
    ga_tensor *lse;             /* NULL or (B, nq, H, 1) float32 */
    int64_t B, nq, nk, H, Hkv, D;
    double scale;               /* resolved: never 0 */
    unsigned flags;             /* GA_FLAG_* */
    void *stream;
    int num_threads;
    void *workspace;            /* at least the backend's workspace size, or NULL when that is 0 */
    size_t workspace_bytes;
} ga_problem;

/* fp64 reference (src/cpu/reference.c) */
ga_status ga_cpu_reference_forward(const ga_problem *p);
/* fast CPU backend (src/cpu/) */
size_t ga_cpu_workspace_size(const ga_problem *p);
/* the least workspace ga_cpu_forward runs in: with num_threads 0 (OpenMP's default team, the
 * calling thread's setting, which may change between the size query and the call) one thread's,
 * the forward then taking as many threads as the workspace holds; else ga_cpu_workspace_size */
size_t ga_cpu_workspace_least(const ga_problem *p);
ga_status ga_cpu_forward(const ga_problem *p);
ga_status ga_cpu_merge_states(ga_tensor *out_a, ga_tensor *lse_a, const ga_tensor *out_b, const ga_tensor *lse_b,
                              int num_threads);

/* CUDA backend (the .cu files in src/cuda; src/cuda_stub/ when built without CUDA: every call returns
 * GA_ERR_BACKEND_UNAVAILABLE and ga_cuda_device_count() returns 0). */
ga_status ga_cuda_workspace_size(const ga_problem *p, size_t *bytes);
ga_status ga_cuda_forward(const ga_problem *p);
ga_status ga_cuda_merge_states(ga_tensor *out_a, ga_tensor *lse_a, const ga_tensor *out_b, const ga_tensor *lse_b,
                               void *stream);
/* Is `ptr` device memory the CUDA runtime knows? (0 without CUDA) */
int ga_cuda_is_device_pointer(const void *ptr);
/* Can CUDA device `device` read `ptr`, the data of a tensor labelled as its memory? GA_REACH_OK:
 * its own or managed memory, pinned (page-locked) host memory, pageable host memory where the
 * device reads it (HMM or ATS: cudaDevAttrPageableMemoryAccess), or a pointer the runtime does not
 * classify; GA_REACH_HOST: pageable host memory the device cannot read (a kernel reading it would
 * fault and leave the context unusable); GA_REACH_OTHER_DEVICE: memory of another device
 * (*owner: its index). GA_REACH_OK without CUDA. */
enum { GA_REACH_OK = 0, GA_REACH_HOST = 1, GA_REACH_OTHER_DEVICE = 2 };
int ga_cuda_pointer_reach(const void *ptr, int device, int *owner);

/* Device memory for the test suite (tests/test_cuda.c): src/cuda/device.cu, stubs in
 * src/cuda_stub/cuda_stub.c that fail (the tests skip before calling them without a GPU). */
ga_status ga_cuda_testing_malloc(void **ptr, size_t bytes);
void ga_cuda_testing_free(void *ptr);
ga_status ga_cuda_testing_copy(void *dst, const void *src, size_t bytes);
ga_status ga_cuda_testing_memset(void *dst, int byte, size_t bytes);
ga_status ga_cuda_testing_sync(void);
/* cudaDevAttrPageableMemoryAccess of a device (1: its kernels read pageable host memory; 0 without CUDA) */
int ga_cuda_testing_pageable_access(int device);
/* Leaves a CUDA error pending on the calling thread (a cudaMalloc that fails and is not read);
 * 1 when it did, 0 otherwise (and without CUDA) */
int ga_cuda_testing_leave_pending_error(void);
/* Whether the device's primary context exists, as the driver says (1 yes, 0 no, -1 cannot tell;
 * -1 without CUDA): what decides whether a call goes back to the caller's device (device.cu) */
int ga_cuda_testing_context_exists(int device);
ga_status ga_cuda_testing_stream_create(void **stream);
void ga_cuda_testing_stream_destroy(void *stream);
ga_status ga_cuda_testing_stream_sync(void *stream);
ga_status ga_cuda_testing_mem_info(size_t *free_bytes, size_t *total_bytes); /* cudaMemGetInfo (testing_scale.cu) */
/* 1 when the Hopper (wgmma) tile kernel runs on the current device (tile_wgmma.cu); 0 without CUDA. */
int ga_cuda_testing_wgmma_available(void);
/* How many forward calls ran listed tokens (a global component) with the Hopper tiles since the
 * process started (tile_wgmma.cu); 0 without CUDA. */
long long ga_cuda_testing_extra_tile_calls(void);
/* How many forward calls ran a bigbird component on the Hopper tiles (tile_wgmma.cu); 0 without CUDA. */
long long ga_cuda_testing_bigbird_tile_calls(void);
/* How many times a warp of the warp-specialized kernel formed a key tile's S again since the
 * process started on the current device, because its optimistic softmax step (softmax_exp_fast,
 * tile_common.cuh) outgrew its bound: into *n (tile_wgmma.cu); 0 without CUDA. */
ga_status ga_cuda_testing_fast_softmax_retries(long long *n);
/* How many launches ran plain intervals on the persistent TMA kernel (tile_wgmma.cu): one per
 * forward call, or two or three for a call in parts (ws_parts: ga_cuda_testing_ws_parts_calls),
 * two for a ranges call in parts (ga_cuda_testing_ws_ranges_parts_calls); 0 without CUDA. */
long long ga_cuda_testing_tma_tile_calls(void);
/* How many of those launches ran on the warp-specialized kernel (tile_wgmma.cu); 0 without CUDA. */
long long ga_cuda_testing_ws_tile_calls(void);
/* How many of those launches summed P's rows on the tensor cores (calls without lse; tile_wgmma.cu); 0 without CUDA. */
long long ga_cuda_testing_ws_rowsum_calls(void);
/* How many of those launches (D = 64, no listed keys) formed their walk bounds in 32 bits (affine calls
 * with positions under 2^30, unless GRAPHATTN_NO_POS32; tile_wgmma.cu); 0 without CUDA. */
long long ga_cuda_testing_ws_pos32_calls(void);
/* How many warp-specialized launches ran at D = 256 with two consumer warpgroups (tile_wgmma.cu); 0 without CUDA. */
long long ga_cuda_testing_ws_pair_calls(void);
/* How many calls the warp-specialized kernel ran in parts (split rows at the ends, ws_parts in
 * tile_wgmma.cu); 0 without CUDA. */
long long ga_cuda_testing_ws_parts_calls(void);
/* The query tiles [*p, *e) of the last call run in parts: the ones that ran on the unsplit
 * instance (0, 0 before any; without CUDA). */
void ga_cuda_testing_ws_parts_last(long long *p, long long *e);
/* How many ranges calls (with their work order) ran in parts the same way (ws_ranges_parts in
 * tile_wgmma.cu); 0 without CUDA. */
long long ga_cuda_testing_ws_ranges_parts_calls(void);
/* The last such call's unsplit launch: entries [*first, *first + *n) of the split order (the
 * units with a short row are [0, *first)); 0, 0 before any (and without CUDA). */
void ga_cuda_testing_ws_ranges_parts_last(long long *first, long long *n);
/* How many warp-specialized launches took their super tiles in a ranges work order (two per
 * ranges call in parts; tile_wgmma.cu); 0 without CUDA. */
long long ga_cuda_testing_ws_ordered_calls(void);
/* How many warp-specialized launches handed out causal's super tiles last first (tile_wgmma.cu,
 * launch_ws_as); 0 without CUDA. */
long long ga_cuda_testing_ws_rev_calls(void);
/* How many warp-specialized launches took causal's super tiles from a work counter
 * (launch_ws_as, GRAPHATTN_DYN); 0 without CUDA. */
long long ga_cuda_testing_ws_dyn_calls(void);
/* How many edge-engine launches took its half-width instances (8 elements per lane, twice the lanes
 * an edge; where edge_attention.cuh's ga_edge_half_width says); 0 without CUDA. */
long long ga_cuda_testing_edge_half_width_calls(void);
/* How many edge-engine launches ran row mode's tasks in rows mode (a row per group of lanes; where
 * cuda_common.cuh's ga_edge_rows_mode says); 0 without CUDA. */
long long ga_cuda_testing_edge_rows_calls(void);
/* How many edge-engine launches took their row or rows tasks from a task counter in the call's
 * workspace (dynamic tasks: from GA_EDGE_DYN_MIN_ROWS row tasks, or under GRAPHATTN_EDGE_DYN=1);
 * 0 without CUDA. */
long long ga_cuda_testing_edge_dyn_calls(void);
/* The edge engine's plan for graph g's components [first_comp, count) over nq query rows and nk
 * keys, from the host scan the CUDA backend's plan is built from (src/cuda/graph_cache.cu): the
 * mean slots per row, the heavy threshold, rows mode's excess at 2, 4, 8 and 16 rows a warp, the
 * number of heavy (row, component) pairs, the estimate of the rows with a slot outside them, and
 * whether rows mode is chosen from them for a vectorized call at head dim D in float32 (is_f32)
 * or a 16-bit type (ga_edge_rows_mode, GRAPHATTN_EDGE_ROWS included). Host code: no device needed. Returns 1, or 0 without CUDA, for bad arguments, or out of memory. */
int ga_cuda_testing_edge_plan(const ga_graph *g, int64_t nq, int64_t nk, int first_comp, int64_t D, int is_f32,
                              double *mean_slots, int64_t *heavy_threshold, double excess[4], int64_t *heavy_pairs,
                              int64_t *busy_rows, int *rows_mode);
/* How many Hopper tile-kernel launches asked for programmatic dependent launch (tile_wgmma.cu:
 * the warp-specialized kernel's without listed keys or a work counter, unless GRAPHATTN_PDL=0);
 * 0 without CUDA. */
long long ga_cuda_testing_pdl_launches(void);
/* The warp-specialized kernel's division by a launch-fixed divisor (FastDiv, tile_common.cuh), on
 * the host: *q = n / d by its multiply-high and shift (n < 2^31, 1 <= d < 2^31). 1 when the
 * build has CUDA, else 0 (*q untouched). */
int ga_cuda_testing_fastdiv(uint32_t n, uint32_t d, uint32_t *q);
/* The warp-specialized kernel's key-tile shift (ws_key_shift) for a window of `left` and `right`
 * keys over nq x nk at D = 64, into *shift; host code, no GPU needed. 1 when the build has CUDA,
 * else 0 (*shift untouched). */
int ga_cuda_testing_window_key_shift(int64_t left, int64_t right, int64_t nq, int64_t nk, int *shift);
/* How many forward calls ran a component on the mma.sync tile kernel (tile_interval.cu); 0 without CUDA. */
long long ga_cuda_testing_mma_tile_calls(void);
/* How many forward calls ran an explicit first component with interval rows as ranges on the
 * interval tile kernels (forward.cu); 0 without CUDA. */
long long ga_cuda_testing_ranges_calls(void);

#ifdef __cplusplus
}
#endif
#endif
