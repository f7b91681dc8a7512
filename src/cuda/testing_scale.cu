/* testing_scale.cu -- device memory figures for the scale tests (tests/test_cuda_scale.c), which
 * skip a case when the device lacks the memory it needs. Declared in backend.h next to the other
 * ga_cuda_testing_* helpers; the build without CUDA has a stub in src/cuda_stub/cuda_stub.c. */
#include "cuda/cuda_common.cuh"

extern "C" ga_status ga_cuda_testing_mem_info(size_t *free_bytes, size_t *total_bytes) {
    size_t f = 0, t = 0;
    if (free_bytes) *free_bytes = 0;
    if (total_bytes) *total_bytes = 0;
    GA_CUDA_TRY(cudaMemGetInfo(&f, &t));
    if (free_bytes) *free_bytes = f;
    if (total_bytes) *total_bytes = t;
    return GA_OK;
}
