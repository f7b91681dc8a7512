/* forward.cu -- the CUDA backend's entry points (src/backend.h): workspace size, forward pass
 * and the merge of two partial states. The API layer has validated the problem; what is left
 * here is what only the device knows: head dims, device memory, launch errors. */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include "cuda/cuda_common.cuh"

static ga_status ga_cuda_problem_plan(const ga_problem *p, const ga_cuda_dgraph **dg, const ga_cuda_plan **plan) {
    GA_FAIL_IF(p->D < 1 || p->D > GA_CUDA_MAX_HEAD_DIM, GA_ERR_UNSUPPORTED_HEAD_DIM,
               "CUDA backend: head dimension %lld is outside [1, %d]", (long long)p->D, GA_CUDA_MAX_HEAD_DIM);
    GA_FAIL_IF(p->graph->count > INT32_MAX, GA_ERR_BAD_SIZE, "CUDA backend: too many graph components");
    return ga_cuda_graph_plan(p->graph, p->q->device_index, p->nq, p->nk, dg, plan);
}

extern "C" ga_status ga_cuda_workspace_size(const ga_problem *p, size_t *bytes) {
    ga_cuda_device_guard guard;
    GA_TRY(guard.enter(p->q->device_index));
    const ga_cuda_dgraph *dg;
    const ga_cuda_plan *plan;
    GA_TRY(ga_cuda_problem_plan(p, &dg, &plan));
    *bytes = ga_cuda_partial_bytes(plan, p->B * p->H, p->D);
    return GA_OK;
}

static void ga_strides3(const ga_tensor *t, int64_t s[3]) {
    s[0] = t->stride[0];
    s[1] = t->stride[1];
    s[2] = t->stride[2];
}

extern "C" ga_status ga_cuda_forward(const ga_problem *p) {
    ga_cuda_device_guard guard;
    GA_TRY(guard.enter(p->q->device_index));
    const ga_cuda_dgraph *dg;
    const ga_cuda_plan *plan;
    GA_TRY(ga_cuda_problem_plan(p, &dg, &plan));
    cudaStream_t stream = (cudaStream_t)p->stream;

    const int64_t BH = p->B * p->H;
    const size_t need = ga_cuda_partial_bytes(plan, BH, p->D);
    void *ws = p->workspace;
    int own_ws = 0;
    if (need > 0 && !ws) { /* the caller left it to us: stream-ordered, so no synchronization */
        GA_CUDA_TRY(cudaMallocAsync(&ws, need, stream));
        own_ws = 1;
    } else if (need > 0) {
        GA_FAIL_IF(p->workspace_bytes < need, GA_ERR_WORKSPACE_TOO_SMALL,
                   "CUDA backend: workspace of %zu bytes is smaller than the %zu bytes needed", p->workspace_bytes,
                   need);
    }

    ga_edge_params e;
    e.q = p->q->data;
    e.k = p->k->data;
    e.v = p->v->data;
    e.out = p->out->data;
    e.lse = p->lse ? (float *)p->lse->data : NULL;
    ga_strides3(p->q, e.qs);
    ga_strides3(p->k, e.ks);
    ga_strides3(p->v, e.vs);
    ga_strides3(p->out, e.os);
    if (p->lse) ga_strides3(p->lse, e.ls);
    else e.ls[0] = e.ls[1] = e.ls[2] = 0;
    e.B = p->B;
    e.nq = p->nq;
    e.nk = p->nk;
    e.H = p->H;
    e.Hkv = p->Hkv;
    e.D = p->D;
    e.BH = BH;
    e.group = p->H / p->Hkv;
    e.scale_log2 = (float)(p->scale * 1.4426950408889634);
    e.flags = p->flags;
    e.comps = dg->comps;
    e.ncomp = dg->ncomp;
    e.heavy_threshold = plan->heavy_threshold;
    e.heavy_rows = plan->heavy_rows;
    e.item_begin = plan->item_begin;
    e.nslots = plan->nslots;
    e.items = plan->items;
    e.nitems = plan->nitems;
    e.ws = (float *)ws;

    ga_status s;
    switch (p->q->dtype) {
    case GA_F32: s = ga_cuda_edge_forward_f32(&e, stream); break;
    case GA_F16: s = ga_cuda_edge_forward_f16(&e, stream); break;
    case GA_BF16: s = ga_cuda_edge_forward_bf16(&e, stream); break;
    default: s = ga_raise(GA_ERR_BAD_DTYPE, __FILE__, __LINE__, "CUDA backend: unknown dtype %d", (int)p->q->dtype);
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
        T *oa = (T *)p.oa + b * p.oas[0] + n * p.oas[1] + h * p.oas[2];
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
