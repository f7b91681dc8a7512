/* cpu_bench.c -- window attention on the fast CPU backend, against the machine's FMA peak.
 *
 *   cpu_bench [--n N] [--window W] [--d D] [--h H] [--dtype f32|f16|bf16] [--repeats R]
 *             [--threads T] [--backend cpu|reference] [--global G] [--random R]
 *
 * --global G adds G global tokens spread evenly over the sequence (Longformer), --random R adds
 * R random keys per query (BigBird-like); edges are counted once, as the union.
 * Defaults: graph window |i-j| <= 256, N = 65536, H = 1, D = 64, fp32, 7 repeats after one
 * warm-up. Reports the median time and useful GFLOP/s = 4 * edges * D * H / time (only the
 * edges of the mask count), beside the measured fp32 FMA peak (peak_flops.c) and the ratio. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphattn.h"
#include "peak_flops.h"


static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fill(void *buf, ga_dtype dt, size_t n, unsigned seed) {
    unsigned s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        float x = ((float)(s >> 8) / 16777216.0f) * 2.0f - 1.0f;
        if (dt == GA_F32) ((float *)buf)[i] = x;
        else {
            uint32_t u;
            memcpy(&u, &x, 4);
            ((uint16_t *)buf)[i] = dt == GA_BF16 ? (uint16_t)(u >> 16) : (uint16_t)0x3c00; /* f16: 1.0 */
        }
    }
}

int main(int argc, char **argv) {
    int64_t N = 65536, W = 256, D = 64, H = 1;
    int64_t G = 0, R = 0;
    int repeats = 7, threads = 0;
    ga_dtype dt = GA_F32;
    ga_backend backend = GA_BACKEND_CPU;
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--n")) N = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "--window")) W = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "--d")) D = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "--h")) H = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "--repeats")) repeats = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--threads")) threads = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--global")) G = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "--random")) R = atoll(argv[a + 1]);
        else if (!strcmp(argv[a], "--dtype"))
            dt = !strcmp(argv[a + 1], "bf16") ? GA_BF16 : !strcmp(argv[a + 1], "f16") ? GA_F16 : GA_F32;
        else if (!strcmp(argv[a], "--backend"))
            backend = !strcmp(argv[a + 1], "reference") ? GA_BACKEND_CPU_REFERENCE : GA_BACKEND_CPU;
        else { fprintf(stderr, "unknown option %s\n", argv[a]); return 2; }
    }
    if (repeats < 1) repeats = 1;

    ga_graph *g = NULL;
    ga_status s = ga_graph_create(&g);
    if (s == GA_OK) s = ga_graph_add_window(g, W, W);
    if (s == GA_OK && G > 0) {
        int64_t *tok = malloc(sizeof(int64_t) * (size_t)G);
        for (int64_t t = 0; t < G; t++) tok[t] = t * N / G;
        s = ga_graph_add_global(g, tok, G);
        free(tok);
    }
    if (s == GA_OK && R > 0) s = ga_graph_add_random(g, R, 42);
    int64_t edges = 0;
    if (s == GA_OK) s = ga_graph_count_edges(g, N, N, &edges);
    if (s != GA_OK) { fprintf(stderr, "graph: %s (%s)\n", ga_status_string(s), ga_last_error_detail()); return 1; }

    const size_t n = (size_t)(N * H * D), es = ga_dtype_size(dt);
    void *q = malloc(n * es), *k = malloc(n * es), *v = malloc(n * es), *o = malloc(n * es);
    float *lse = malloc(sizeof(float) * (size_t)(N * H));
    if (!q || !k || !v || !o || !lse) { fprintf(stderr, "out of memory\n"); return 1; }
    fill(q, dt, n, 1);
    fill(k, dt, n, 2);
    fill(v, dt, n, 3);
    ga_tensor tq = ga_tensor_make(q, dt, GA_DEVICE_CPU, 1, N, H, D), tk = ga_tensor_make(k, dt, GA_DEVICE_CPU, 1, N, H, D);
    ga_tensor tv = ga_tensor_make(v, dt, GA_DEVICE_CPU, 1, N, H, D), to = ga_tensor_make(o, dt, GA_DEVICE_CPU, 1, N, H, D);
    ga_tensor tl = ga_tensor_make(lse, GA_F32, GA_DEVICE_CPU, 1, N, H, 1);
    ga_options opt;
    ga_options_init(&opt);
    opt.backend = backend;
    opt.num_threads = threads;
    size_t wsb = 0;
    s = ga_attention_workspace_size(g, &tq, &tk, &tv, &opt, &wsb);
    void *ws = wsb ? malloc(wsb) : NULL;
    if (s != GA_OK || (wsb && !ws)) { fprintf(stderr, "workspace: %s\n", ga_last_error_detail()); return 1; }

    double *t = malloc(sizeof(double) * (size_t)repeats), *ct = malloc(sizeof(double) * (size_t)repeats);
    for (int r = -1; r < repeats; r++) { /* r = -1: warm-up */
        double c0 = ga_cpu_seconds(), t0 = omp_get_wtime();
        s = ga_attention_forward(g, &tq, &tk, &tv, &to, &tl, &opt, ws, wsb);
        double t1 = omp_get_wtime(), c1 = ga_cpu_seconds();
        if (s != GA_OK) { fprintf(stderr, "forward: %s (%s)\n", ga_status_string(s), ga_last_error_detail()); return 1; }
        if (r >= 0) { t[r] = t1 - t0; ct[r] = c1 - c0; }
    }
    qsort(t, (size_t)repeats, sizeof(double), cmp_double);
    qsort(ct, (size_t)repeats, sizeof(double), cmp_double);
    const double med = t[repeats / 2];
    const double useful = 4.0 * (double)edges * (double)D * (double)H / med / 1e9;
    double peak_cpu = 0;
    const double peak = ga_peak_fp32_gflops(5, &peak_cpu);
    const int nthreads = threads ? threads : omp_get_max_threads();
    /* by CPU time: useful flops per CPU-second of all threads, times the threads */
    const double useful_cpu = 4.0 * (double)edges * (double)D * (double)H / (ct[repeats / 2] / nthreads) / 1e9;
    if (G || R) printf("+ %lld global tokens, + %lld random keys per query\n", (long long)G, (long long)R);
    printf("window |i-j| <= %lld, N = %lld, H = %lld, D = %lld, %s, backend %s, threads %d\n", (long long)W,
           (long long)N, (long long)H, (long long)D, ga_dtype_name(dt), backend == GA_BACKEND_CPU ? "cpu" : "reference",
           nthreads);
    printf("edges %lld, median of %d: %.2f ms (min %.2f, max %.2f), %.2f ns per edge per head\n", (long long)edges,
           repeats, med * 1e3, t[0] * 1e3, t[repeats - 1] * 1e3, med * 1e9 / (double)edges / (double)H);
    printf("useful %.1f GFLOP/s (best run %.1f), measured fp32 FMA peak %.1f GFLOP/s, ratio %.1f%% (best run %.1f%%)\n",
           useful, useful * med / t[0], peak, 100.0 * useful / peak, 100.0 * useful * med / t[0] / peak);
    printf("by CPU time (immune to other jobs on a shared machine): useful %.1f GFLOP/s, peak %.1f GFLOP/s, "
           "ratio %.1f%%\n", useful_cpu, peak_cpu, 100.0 * useful_cpu / peak_cpu);
    free(t); free(ct); free(ws); free(q); free(k); free(v); free(o); free(lse);
    ga_graph_destroy(g);
    return 0;
}
