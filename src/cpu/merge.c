/* merge.c -- a := a (+) b for two partial attention results over disjoint edge sets:
 * lse = log(exp(lse_a) + exp(lse_b)), out = (out_a exp(lse_a) + out_b exp(lse_b)) / exp(lse),
 * evaluated relative to the larger lse so that nothing overflows. A side with lse = -inf
 * contributes nothing; when b has none, a is left bit for bit as it was. */
#include <math.h>

#include "backend.h"
#include "cpu/cpu_tensor.h"

ga_status ga_cpu_merge_states(ga_tensor *out_a, ga_tensor *lse_a, const ga_tensor *out_b, const ga_tensor *lse_b,
                              int num_threads) {
    const int64_t B = out_a->shape[0], N = out_a->shape[1], H = out_a->shape[2], D = out_a->shape[3];
#pragma omp parallel for schedule(static) num_threads(ga_cpu_threads(num_threads))
    for (int64_t row = 0; row < B * N * H; row++) {
        const int64_t b = row / (N * H), n = (row / H) % N, h = row % H;
        float *la = (float *)lse_a->data + ga_cpu_offset(lse_a, b, n, h);
        const float lb = ((const float *)lse_b->data)[ga_cpu_offset(lse_b, b, n, h)];
        const int64_t oa = ga_cpu_offset(out_a, b, n, h), ob = ga_cpu_offset(out_b, b, n, h);
        if (lb == -INFINITY) continue;
        if (*la == -INFINITY) {
            for (int64_t d = 0; d < D; d++) ga_cpu_store(out_a, oa + d, ga_cpu_load(out_b, ob + d));
            *la = lb;
            continue;
        }
        const float m = *la > lb ? *la : lb, wa = expf(*la - m), wb = expf(lb - m), inv = 1.0f / (wa + wb);
        for (int64_t d = 0; d < D; d++)
            ga_cpu_store(out_a, oa + d, (ga_cpu_load(out_a, oa + d) * wa + ga_cpu_load(out_b, ob + d) * wb) * inv);
        *la = m + logf(wa + wb);
    }
    return GA_OK;
}
