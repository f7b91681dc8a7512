/* pointer_attr_cost.cu -- what the forward call's memory check costs the host: one
 * cudaPointerGetAttributes per tensor (q, k, v, out and lse where given; src/api.c,
 * ga_check_device_pointer), timed here per call on device memory (the usual case), managed
 * memory, pinned host memory and pageable host memory, with 1 and with 64 other live
 * allocations around it. Prints ns per call (best of 5 rounds of 100000 calls).
 *
 *     nvcc -O2 -o /tmp/pac bench/pointer_attr_cost.cu && /tmp/pac
 */
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <cuda_runtime.h>

static double ns_per_call(const void *p) {
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        const int calls = 100000;
        cudaPointerAttributes a;
        int sink = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < calls; i++) {
            if (cudaPointerGetAttributes(&a, p) != cudaSuccess) (void)cudaGetLastError();
            sink += (int)a.type;
        }
        const auto t1 = std::chrono::steady_clock::now();
        const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / calls;
        if (ns < best) best = ns;
        if (sink == -1) printf("(unreachable)\n");
    }
    return best;
}

int main() {
    int pageable = 0;
    if (cudaDeviceGetAttribute(&pageable, cudaDevAttrPageableMemoryAccess, 0) != cudaSuccess) {
        printf("no CUDA device\n");
        return 1;
    }
    void *extra[64];
    void *dev = nullptr, *managed = nullptr, *pinned = nullptr;
    cudaMalloc(&dev, 1 << 20);
    cudaMallocManaged(&managed, 1 << 20);
    cudaMallocHost(&pinned, 1 << 20);
    void *pageable_mem = malloc(1 << 20);
    printf("cudaDevAttrPageableMemoryAccess of device 0: %d\n", pageable);
    printf("%-22s %12s %12s\n", "memory", "ns (1 alloc)", "ns (+64)");
    const char *names[4] = {"device (cudaMalloc)", "managed", "pinned host", "pageable host"};
    void *ptrs[4] = {dev, managed, pinned, pageable_mem};
    double one[4], many[4];
    for (int m = 0; m < 4; m++) one[m] = ns_per_call(ptrs[m]);
    for (int i = 0; i < 64; i++) cudaMalloc(&extra[i], (size_t)(i + 1) << 16);
    for (int m = 0; m < 4; m++) many[m] = ns_per_call(ptrs[m]);
    for (int m = 0; m < 4; m++) printf("%-22s %12.1f %12.1f\n", names[m], one[m], many[m]);
    for (int i = 0; i < 64; i++) cudaFree(extra[i]);
    cudaFree(dev), cudaFree(managed), cudaFreeHost(pinned), free(pageable_mem);
    return 0;
}
