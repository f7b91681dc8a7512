/* peak_flops.h -- the machine's measured fp32 FMA peak (see peak_flops.c). */
#ifndef GA_BENCH_PEAK_FLOPS_H
#define GA_BENCH_PEAK_FLOPS_H

/* OpenMP, or a one-thread stand-in where the compiler has none (shared by both benchmarks). */
#ifdef _OPENMP
#include <omp.h>
#else
#include <time.h>
static inline int omp_get_max_threads(void) { return 1; }
static inline double omp_get_wtime(void) {
    struct timespec ts; /* C11's own clock: no POSIX feature macro needed */
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#endif
/* Best-of-`trials` fp32 FMA rate over all OpenMP threads, in GFLOP/s (an FMA counts 2), by
 * wall time. When cpu_gflops is not NULL it receives the best rate by process CPU time, which
 * is what one thread gets while it runs (stable on a machine shared with other jobs). */
double ga_peak_fp32_gflops(int trials, double *cpu_gflops);
/* Process CPU time in seconds (all threads). */
double ga_cpu_seconds(void);
#endif
