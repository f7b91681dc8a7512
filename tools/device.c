/* device.c -- host/device memory for the graphattn command. All CUDA runtime calls of the tool
 * live here, behind GA_HAVE_CUDA. */
#include "device.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#ifdef GA_HAVE_CUDA
#include <cuda_runtime_api.h>

#define DEV_CHECK(call, what)                                                                      \
    do { cudaError_t e_ = (call);                                                                  \
         if (e_ != cudaSuccess) GA_FAIL(GA_ERR_CUDA, "%s: %s", (what), cudaGetErrorString(e_)); } while (0)

int dev_cuda_compiled(void) { return 1; }

ga_status dev_alloc(int cuda, size_t bytes, void **ptr) {
    *ptr = NULL;
    if (!cuda) {
        *ptr = malloc(bytes ? bytes : 1);
        GA_FAIL_IF(!*ptr, GA_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes of host memory", bytes);
        return GA_OK;
    }
    cudaError_t e = cudaMalloc(ptr, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        *ptr = NULL;
        cudaGetLastError();
        GA_FAIL(e == cudaErrorMemoryAllocation ? GA_ERR_OUT_OF_MEMORY : GA_ERR_CUDA,
                "cannot allocate %zu bytes of device memory: %s", bytes, cudaGetErrorString(e));
    }
    return GA_OK;
}

void dev_free(int cuda, void *ptr) {
    if (!ptr) return;
    if (cuda) cudaFree(ptr);
    else free(ptr);
}

ga_status dev_upload(int cuda, void *dst, const void *src, size_t bytes) {
    if (!cuda) { memcpy(dst, src, bytes); return GA_OK; }
    DEV_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "copy to the device");
    return GA_OK;
}

ga_status dev_download(int cuda, void *dst, const void *src, size_t bytes) {
    if (!cuda) { memcpy(dst, src, bytes); return GA_OK; }
    DEV_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copy from the device");
    return GA_OK;
}

ga_status dev_memset(int cuda, void *ptr, int byte, size_t bytes) {
    if (!cuda) { memset(ptr, byte, bytes); return GA_OK; }
    DEV_CHECK(cudaMemset(ptr, byte, bytes), "device memset");
    return GA_OK;
}

ga_status dev_sync(int cuda) {
    if (!cuda) return GA_OK;
    DEV_CHECK(cudaDeviceSynchronize(), "device synchronize");
    return GA_OK;
}

ga_status dev_mem_info(size_t *free_bytes, size_t *total_bytes) {
    DEV_CHECK(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
    return GA_OK;
}

#else /* no CUDA runtime in this build */

int dev_cuda_compiled(void) { return 0; }

#define DEV_NO_CUDA() \
    GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "this graphattn command was built without CUDA (use --device cpu)")

ga_status dev_alloc(int cuda, size_t bytes, void **ptr) {
    *ptr = NULL;
    if (cuda) DEV_NO_CUDA();
    *ptr = malloc(bytes ? bytes : 1);
    GA_FAIL_IF(!*ptr, GA_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes of host memory", bytes);
    return GA_OK;
}

void dev_free(int cuda, void *ptr) {
    (void)cuda;
    free(ptr);
}

ga_status dev_upload(int cuda, void *dst, const void *src, size_t bytes) {
    if (cuda) DEV_NO_CUDA();
    memcpy(dst, src, bytes);
    return GA_OK;
}

ga_status dev_download(int cuda, void *dst, const void *src, size_t bytes) {
    if (cuda) DEV_NO_CUDA();
    memcpy(dst, src, bytes);
    return GA_OK;
}

ga_status dev_memset(int cuda, void *ptr, int byte, size_t bytes) {
    if (cuda) DEV_NO_CUDA();
    memset(ptr, byte, bytes);
    return GA_OK;
}

ga_status dev_sync(int cuda) {
    if (cuda) DEV_NO_CUDA();
    return GA_OK;
}

ga_status dev_mem_info(size_t *free_bytes, size_t *total_bytes) {
    *free_bytes = *total_bytes = 0;
    DEV_NO_CUDA();
}

#endif
