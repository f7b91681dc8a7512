/* csr_setup.c -- how long an explicit graph takes to enter the library: ga_graph_add_csr (the
 * structural check of every row and the copy) on the CSR of a window, int32 columns.
 *
 *   build/bench/csr_setup [N [W [REPEATS]]]     defaults: N = 2^20, W = 256 (513 keys), 3
 *
 * Prints the edge count and each call's wall time. See RESULTS.md ("Explicit graph setup"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "graphattn.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const int64_t n = argc > 1 ? atoll(argv[1]) : (int64_t)1 << 20, w = argc > 2 ? atoll(argv[2]) : 256;
    const int reps = argc > 3 ? atoi(argv[3]) : 3;
    if (n < 1 || w < 0 || n > INT32_MAX || reps < 1) {
        fprintf(stderr, "usage: csr_setup [N (1..2^31-1) [W >= 0 [REPEATS >= 1]]]\n");
        return 2;
    }
    int64_t *ptr = malloc((size_t)(n + 1) * sizeof *ptr);
    if (!ptr) return 1;
    ptr[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t lo = i - w < 0 ? 0 : i - w, hi = i + w >= n ? n - 1 : i + w;
        ptr[i + 1] = ptr[i] + hi - lo + 1;
    }
    int32_t *col = malloc((size_t)ptr[n] * sizeof *col);
    if (!col) return 1;
    for (int64_t i = 0; i < n; i++) {
        const int64_t lo = i - w < 0 ? 0 : i - w;
        for (int64_t e = ptr[i]; e < ptr[i + 1]; e++) col[e] = (int32_t)(lo + e - ptr[i]);
    }
    printf("csr_setup: window %lld over N = %lld, %lld edges (int32 columns, %.2f GB)\n", (long long)w,
           (long long)n, (long long)ptr[n], (double)ptr[n] * 4e-9);
    for (int r = 0; r < reps; r++) {
        ga_graph *g = NULL;
        if (ga_graph_create(&g) != GA_OK) return 1;
        const double t0 = now();
        const ga_status s = ga_graph_add_csr(g, n, n, ptr, col, GA_INDEX_INT32);
        const double t1 = now();
        if (s != GA_OK) {
            fprintf(stderr, "ga_graph_add_csr: %s (%s)\n", ga_status_string(s), ga_last_error_detail());
            return 1;
        }
        printf("  call %d: %.3f s (%.2f ns per edge)\n", r + 1, t1 - t0, (t1 - t0) * 1e9 / (double)ptr[n]);
        ga_graph_destroy(g);
    }
    free(ptr);
    free(col);
    return 0;
}
