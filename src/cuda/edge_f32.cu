/* edge_f32.cu -- the edge engine for float inputs (templates in edge_attention.cuh). One file per
 * dtype so that the instances compile in parallel. */
#include "cuda/edge_attention.cuh"

ga_status ga_cuda_edge_forward_f32(const ga_edge_params *p, cudaStream_t stream) {
    return ga_edge_forward<float>(p, stream);
}
