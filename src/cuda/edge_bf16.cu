/* edge_bf16.cu -- the edge engine for __nv_bfloat16 inputs (templates in edge_attention.cuh). One file per
 * dtype so that the instances compile in parallel. */
#include "cuda/edge_attention.cuh"

ga_status ga_cuda_edge_forward_bf16(const ga_edge_params *p, cudaStream_t stream) {
    return ga_edge_forward<__nv_bfloat16>(p, stream);
}
