/* peak_flops.c -- measures the fp32 FMA peak of this machine: every OpenMP thread runs
 * independent FMA chains held in vector registers (enough chains to cover the FMA latency
 * times the number of FMA pipes), and the best of several trials is reported.
 *
 *   peak_flops [trials]        prints threads, GFLOP/s and GFLOP/s per thread
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "peak_flops.h"


#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define LANES 8
#define CHAINS 12
/* Runs `iters` rounds of CHAINS independent FMAs on 8-wide vectors; returns a checksum so the
 * work cannot be optimized away. */
static float fma_chains(long iters, float seed) {
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_set1_ps(seed + (float)c);
    for (long it = 0; it < iters; it++) {
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
        __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]), "+x"(acc[4]), "+x"(acc[5]),
                         "+x"(acc[6]), "+x"(acc[7]), "+x"(acc[8]), "+x"(acc[9]), "+x"(acc[10]), "+x"(acc[11]));
    }
    __m256 s = acc[0];
    for (int c = 1; c < CHAINS; c++) s = _mm256_add_ps(s, acc[c]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}
#else
#define LANES 1
#define CHAINS 12
static float fma_chains(long iters, float seed) {
    float acc[CHAINS];
    for (int c = 0; c < CHAINS; c++) acc[c] = seed + (float)c;
    for (long it = 0; it < iters; it++)
        for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * 0.999999f + 1e-7f;
    float s = 0;
    for (int c = 0; c < CHAINS; c++) s += acc[c];
    return s;
}
#endif

double ga_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double ga_peak_fp32_gflops(int trials, double *cpu_gflops) {
    const long iters = 40000000L; /* ~0.15-0.3 s per trial on a 3 GHz core */
    double best = 0, best_cpu = 0;
    volatile float sink = 0;
    for (int t = 0; t < trials; t++) {
        double t0 = 0, t1 = 0;
        const double c0 = ga_cpu_seconds();
        float local = 0;
#pragma omp parallel reduction(+ : local)
        {
#pragma omp barrier
#pragma omp master
            t0 = omp_get_wtime();
            local += fma_chains(iters, 1.0f);
#pragma omp barrier
#pragma omp master
            t1 = omp_get_wtime();
        }
        sink += local;
        const double flops = (double)omp_get_max_threads() * (double)iters * CHAINS * LANES * 2.0;
        const double g = flops / (t1 - t0) / 1e9, gc = flops / (ga_cpu_seconds() - c0) * omp_get_max_threads() / 1e9;
        if (g > best) best = g;
        if (gc > best_cpu) best_cpu = gc;
    }
    (void)sink;
    if (cpu_gflops) *cpu_gflops = best_cpu;
    return best;
}

#ifndef GA_PEAK_NO_MAIN
int main(int argc, char **argv) {
    int trials = argc > 1 ? atoi(argv[1]) : 5;
    if (trials < 1) trials = 1;
    double gc = 0;
    const double g = ga_peak_fp32_gflops(trials, &gc);
    printf("threads %d  fp32 FMA peak %.1f GFLOP/s by wall time (%.1f per thread, %d-wide vectors, %d chains); "
           "%.1f GFLOP/s by CPU time\n", omp_get_max_threads(), g, g / omp_get_max_threads(), LANES, CHAINS, gc);
    return 0;
}
#endif
