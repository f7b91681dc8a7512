/* device.cu -- devices, pointers and CUDA errors as status codes.
 * A machine without a GPU (or without a driver) has 0 devices: never an error to the caller. */
#include <cuda.h> /* CUdevice, CUresult (types only: the driver's functions come through cudart) */
#include <cudaTypedefs.h>
#include <pthread.h>
#include <stdio.h>

#include "cuda/cuda_common.cuh"

ga_status ga_cuda_error(cudaError_t err, const char *what, const char *file, int line) {
    (void)cudaGetLastError(); /* clear a non-sticky error so the next call starts clean */
    if (err == cudaErrorMemoryAllocation)
        return ga_raise(GA_ERR_OUT_OF_MEMORY, file, line, "CUDA: %s: out of device memory (%s)", what,
                        cudaGetErrorString(err));
    if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver)
        return ga_raise(GA_ERR_BACKEND_UNAVAILABLE, file, line, "CUDA: %s: %s", what, cudaGetErrorString(err));
    return ga_raise(GA_ERR_CUDA, file, line, "CUDA: %s: %s (%s)", what, cudaGetErrorString(err),
                    cudaGetErrorName(err));
}

/* The driver's primary-context query, looked up once through cudart (no link against libcuda). */
static PFN_cuDeviceGet_v2000 g_device_get;
static PFN_cuDevicePrimaryCtxGetState_v7000 g_ctx_state;
static pthread_once_t g_ctx_once = PTHREAD_ONCE_INIT;

static void ga_cuda_ctx_lookup(void) {
    void *p = NULL;
    cudaDriverEntryPointQueryResult q;
    if (cudaGetDriverEntryPointByVersion("cuDeviceGet", &p, 2000, cudaEnableDefault, &q) == cudaSuccess &&
        q == cudaDriverEntryPointSuccess)
        g_device_get = (PFN_cuDeviceGet_v2000)p;
    p = NULL;
    if (cudaGetDriverEntryPointByVersion("cuDevicePrimaryCtxGetState", &p, 7000, cudaEnableDefault, &q) ==
            cudaSuccess &&
        q == cudaDriverEntryPointSuccess)
        g_ctx_state = (PFN_cuDevicePrimaryCtxGetState_v7000)p;
    (void)cudaGetLastError();
}

int ga_cuda_context_exists(int device) {
    pthread_once(&g_ctx_once, ga_cuda_ctx_lookup);
    if (!g_device_get || !g_ctx_state) return -1;
    CUdevice dev;
    unsigned int flags = 0;
    int active = 0;
    if (g_device_get(&dev, device) != CUDA_SUCCESS || g_ctx_state(dev, &flags, &active) != CUDA_SUCCESS) return -1;
    return active != 0;
}

void ga_cuda_restore_device(int previous, int current) {
    if (previous < 0 || previous == current) return;
    /* since CUDA 12 cudaSetDevice creates the device's context: on a thread that never chose a
     * device (previous is the default, 0) going back would cost GPU 0 a context it never had
     * (hundreds of MiB, or a failure on a GPU another process holds exclusively). Like PyTorch's
     * device guard, go back only where the context already exists (or where that cannot be told) */
    if (ga_cuda_context_exists(previous) == 0) return;
    if (cudaSetDevice(previous) != cudaSuccess) (void)cudaGetLastError();
}

ga_status ga_cuda_device_guard::enter(int device) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        (void)cudaGetLastError();
        GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "CUDA backend: no CUDA device is available");
    }
    GA_FAIL_IF(device < 0 || device >= count, GA_ERR_DEVICE_MISMATCH,
               "CUDA backend: device index %d is out of range [0, %d)", device, count);
    GA_CUDA_TRY(cudaGetDevice(&previous));
    if (previous != device) GA_CUDA_TRY(cudaSetDevice(device));
    current = device;
    ok = 1;
    /* An error the caller left pending (a failed cudaMalloc not yet read, say) would otherwise
     * come back from the first launch check, after that launch was queued to write the outputs:
     * report it now, before anything is launched (and clear it, as ga_cuda_error does) */
    const cudaError_t pending = cudaGetLastError();
    if (pending != cudaSuccess)
        return ga_cuda_error(pending, "an error left pending before this call (nothing was launched)", __FILE__,
                             __LINE__);
    return GA_OK;
}

extern "C" int ga_cuda_device_count(void) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return count;
}

extern "C" ga_status ga_cuda_device_name(int index, char *buf, size_t buf_size) {
    ga_clear_error();
    GA_FAIL_IF(!buf, GA_ERR_NULL_POINTER, "ga_cuda_device_name: buf is NULL");
    GA_FAIL_IF(buf_size == 0, GA_ERR_BAD_SIZE, "ga_cuda_device_name: buf_size is 0");
    int count = ga_cuda_device_count();
    GA_FAIL_IF(index < 0 || index >= count, GA_ERR_BACKEND_UNAVAILABLE,
               "ga_cuda_device_name: no CUDA device %d (%d present)", index, count);
    cudaDeviceProp prop;
    GA_CUDA_TRY(cudaGetDeviceProperties(&prop, index));
    snprintf(buf, buf_size, "%s (sm_%d%d, %llu MiB)", prop.name, prop.major, prop.minor,
             (unsigned long long)(prop.totalGlobalMem >> 20));
    return GA_OK;
}

extern "C" int ga_cuda_is_device_pointer(const void *ptr) {
    if (!ptr || ga_cuda_device_count() == 0) return 0;
    cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, ptr) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
}

/* cudaDevAttrPageableMemoryAccess of each device, read once: 0 unknown, 1 no, 2 yes */
static int g_pageable[64];

/* Whether device reads pageable host memory: 1 yes, 0 no, -1 cannot tell (the query failed) */
static int ga_cuda_pageable_access(int device) {
    int known = device >= 0 && device < 64 ? __atomic_load_n(&g_pageable[device], __ATOMIC_RELAXED) : 0;
    if (!known) {
        int v = 0;
        if (cudaDeviceGetAttribute(&v, cudaDevAttrPageableMemoryAccess, device) != cudaSuccess) {
            (void)cudaGetLastError();
            return -1;
        }
        known = v ? 2 : 1;
        if (device >= 0 && device < 64) __atomic_store_n(&g_pageable[device], known, __ATOMIC_RELAXED);
    }
    return known == 2;
}

extern "C" int ga_cuda_pointer_reach(const void *ptr, int device, int *owner) {
    if (!ptr) return GA_REACH_OK;
    cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, ptr) != cudaSuccess) { /* not classified: let the call go on */
        (void)cudaGetLastError();
        return GA_REACH_OK;
    }
    if (a.type == cudaMemoryTypeDevice) {
        if (a.device == device) return GA_REACH_OK;
        if (owner) *owner = a.device;
        return GA_REACH_OTHER_DEVICE;
    }
    if (a.type != cudaMemoryTypeUnregistered) return GA_REACH_OK; /* managed, pinned host */
    /* pageable host memory: unreadable only where the device says so (cannot tell: as before this check) */
    return ga_cuda_pageable_access(device) == 0 ? GA_REACH_HOST : GA_REACH_OK;
}

/* ---- device memory for the test suite (declared in tests/test_cuda.c; stubs in cuda_stub.c) -- */

extern "C" ga_status ga_cuda_testing_malloc(void **ptr, size_t bytes) {
    GA_CUDA_TRY(cudaMalloc(ptr, bytes));
    return GA_OK;
}
extern "C" void ga_cuda_testing_free(void *ptr) {
    if (ptr) cudaFree(ptr);
}
extern "C" ga_status ga_cuda_testing_copy(void *dst, const void *src, size_t bytes) {
    GA_CUDA_TRY(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
    return GA_OK;
}
extern "C" ga_status ga_cuda_testing_memset(void *dst, int byte, size_t bytes) {
    GA_CUDA_TRY(cudaMemset(dst, byte, bytes));
    return GA_OK;
}
extern "C" int ga_cuda_testing_leave_pending_error(void) {
    void *p = NULL;
    return cudaMalloc(&p, (size_t)1 << 62) != cudaSuccess; /* not cleared: pending */
}
extern "C" int ga_cuda_testing_pageable_access(int device) { return ga_cuda_pageable_access(device) == 1; }
extern "C" ga_status ga_cuda_testing_sync(void) {
    GA_CUDA_TRY(cudaDeviceSynchronize());
    return GA_OK;
}
extern "C" int ga_cuda_testing_context_exists(int device) { return ga_cuda_context_exists(device); }
extern "C" ga_status ga_cuda_testing_stream_create(void **stream) {
    cudaStream_t s;
    GA_CUDA_TRY(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    *stream = (void *)s;
    return GA_OK;
}
extern "C" void ga_cuda_testing_stream_destroy(void *stream) {
    if (stream) cudaStreamDestroy((cudaStream_t)stream);
}
extern "C" ga_status ga_cuda_testing_stream_sync(void *stream) {
    GA_CUDA_TRY(cudaStreamSynchronize((cudaStream_t)stream));
    return GA_OK;
}
