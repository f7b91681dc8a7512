/* cuda_stub.c -- the CUDA backend of a build without CUDA: no devices, and every call says so. */
#include "backend.h"
#include "common/error.h"

#define GA_NO_CUDA "this build of graphattn has no CUDA backend (built without nvcc)"

int ga_cuda_device_count(void) { return 0; }

ga_status ga_cuda_device_name(int index, char *buf, size_t buf_size) {
    ga_clear_error();
    (void)index;
    (void)buf; /* untouched: a rejected call writes nothing */
    (void)buf_size;
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "ga_cuda_device_name: %s", GA_NO_CUDA);
}

ga_status ga_cuda_workspace_size(const ga_problem *p, size_t *bytes) {
    (void)p;
    (void)bytes; /* untouched: a rejected call writes nothing */
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "%s", GA_NO_CUDA);
}

ga_status ga_cuda_forward(const ga_problem *p) {
    (void)p;
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "%s", GA_NO_CUDA);
}

ga_status ga_cuda_merge_states(ga_tensor *out_a, ga_tensor *lse_a, const ga_tensor *out_b, const ga_tensor *lse_b,
                               void *stream) {
    (void)out_a, (void)lse_a, (void)out_b, (void)lse_b, (void)stream;
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "%s", GA_NO_CUDA);
}

int ga_cuda_is_device_pointer(const void *ptr) {
    (void)ptr;
    return 0;
}

int ga_cuda_pointer_reach(const void *ptr, int device, int *owner) {
    (void)ptr, (void)device, (void)owner;
    return GA_REACH_OK;
}

/* Device memory for the test suite (declared in backend.h). */

ga_status ga_cuda_testing_malloc(void **ptr, size_t bytes) {
    (void)bytes;
    if (ptr) *ptr = NULL;
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "%s", GA_NO_CUDA);
}
void ga_cuda_testing_free(void *ptr) { (void)ptr; }
ga_status ga_cuda_testing_copy(void *dst, const void *src, size_t bytes) {
    (void)dst, (void)src, (void)bytes;
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "%s", GA_NO_CUDA);
}
ga_status ga_cuda_testing_memset(void *dst, int byte, size_t bytes) {
    (void)dst, (void)byte, (void)bytes;
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "%s", GA_NO_CUDA);
}
ga_status ga_cuda_testing_sync(void) { GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "%s", GA_NO_CUDA); }
int ga_cuda_testing_pageable_access(int device) {
    (void)device;
    return 0;
}
int ga_cuda_testing_leave_pending_error(void) { return 0; }
int ga_cuda_testing_context_exists(int device) {
    (void)device;
    return -1;
}
ga_status ga_cuda_testing_stream_create(void **stream) {
    if (stream) *stream = NULL;
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "%s", GA_NO_CUDA);
}
void ga_cuda_testing_stream_destroy(void *stream) { (void)stream; }
ga_status ga_cuda_testing_stream_sync(void *stream) {
    (void)stream;
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "%s", GA_NO_CUDA);
}
int ga_cuda_testing_wgmma_available(void) { return 0; }
int ga_cuda_testing_fastdiv(uint32_t n, uint32_t d, uint32_t *q) {
    (void)n;
    (void)d;
    (void)q;
    return 0;
}
int ga_cuda_testing_window_key_shift(int64_t left, int64_t right, int64_t nq, int64_t nk, int *shift) {
    (void)left;
    (void)right;
    (void)nq;
    (void)nk;
    (void)shift;
    return 0;
}
long long ga_cuda_testing_extra_tile_calls(void) { return 0; }
long long ga_cuda_testing_bigbird_tile_calls(void) { return 0; }
long long ga_cuda_testing_tma_tile_calls(void) { return 0; }
ga_status ga_cuda_testing_fast_softmax_retries(long long *n) {
    *n = 0;
    return GA_OK;
}
long long ga_cuda_testing_ws_tile_calls(void) { return 0; }
long long ga_cuda_testing_ws_rowsum_calls(void) { return 0; }
long long ga_cuda_testing_ws_pos32_calls(void) { return 0; }
long long ga_cuda_testing_ws_pair_calls(void) { return 0; }
long long ga_cuda_testing_ws_parts_calls(void) { return 0; }
long long ga_cuda_testing_ws_ranges_parts_calls(void) { return 0; }
void ga_cuda_testing_ws_ranges_parts_last(long long *first, long long *n) {
    *first = 0;
    *n = 0;
}
void ga_cuda_testing_ws_parts_last(long long *p, long long *e) {
    *p = 0;
    *e = 0;
}
long long ga_cuda_testing_ws_ordered_calls(void) { return 0; }
long long ga_cuda_testing_ws_rev_calls(void) { return 0; }
long long ga_cuda_testing_ws_dyn_calls(void) { return 0; }
long long ga_cuda_testing_edge_half_width_calls(void) { return 0; }
long long ga_cuda_testing_edge_rows_calls(void) { return 0; }
long long ga_cuda_testing_edge_dyn_calls(void) { return 0; }
int ga_cuda_testing_edge_plan(const ga_graph *g, int64_t nq, int64_t nk, int first_comp, int64_t D, int is_f32,
                              double *mean_slots, int64_t *heavy_threshold, double excess[4], int64_t *heavy_pairs,
                              int64_t *busy_rows, int *rows_mode) {
    (void)g, (void)nq, (void)nk, (void)first_comp, (void)D, (void)is_f32, (void)mean_slots, (void)heavy_threshold, (void)excess;
    (void)heavy_pairs, (void)busy_rows, (void)rows_mode;
    return 0;
}
long long ga_cuda_testing_pdl_launches(void) { return 0; }
long long ga_cuda_testing_mma_tile_calls(void) { return 0; }
long long ga_cuda_testing_ranges_calls(void) { return 0; }
ga_status ga_cuda_testing_mem_info(size_t *free_bytes, size_t *total_bytes) {
    if (free_bytes) *free_bytes = 0;
    if (total_bytes) *total_bytes = 0;
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "%s", GA_NO_CUDA);
}
