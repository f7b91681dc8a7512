/* reference.c -- the fp64 oracle. Plain and row by row: for each query row, list its keys
 * with ga_graph_for_each_edge (union semantics live there), then a two-pass softmax in double.
 * Never optimized beyond running rows in parallel; every other backend is tested against it. */
#include <math.h>
#include <stdlib.h>

#include "backend.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/half.h"
#include "cpu/cpu_tensor.h"

typedef struct ga_key_list {
    int64_t *keys;
    int64_t count, capacity;
    int failed;
} ga_key_list;

static void ga_ref_collect(void *user, int64_t j) {
    ga_key_list *l = (ga_key_list *)user;
    if (l->failed) return;
    if (l->count == l->capacity) {
        int64_t cap = l->capacity ? 2 * l->capacity : 256;
        int64_t *k = (int64_t *)ga_realloc(l->keys, (size_t)cap * sizeof(int64_t));
        if (!k) { l->failed = 1; return; }
        l->keys = k;
        l->capacity = cap;
    }
    l->keys[l->count++] = j;
}

static double ga_ref_load(const ga_tensor *t, int64_t b, int64_t n, int64_t h, int64_t d) {
    return (double)ga_cpu_load(t, ga_cpu_offset(t, b, n, h) + d);
}

ga_status ga_cpu_reference_forward(const ga_problem *p) {
    const int64_t B = p->B, nq = p->nq, nk = p->nk, H = p->H, D = p->D, group = p->H / p->Hkv;
    const int accumulate = (p->flags & GA_FLAG_ACCUMULATE) != 0;
    /* Results go to a private fp64 buffer first: out may be q itself, and a failure halfway
     * (out of memory) must leave out and lse untouched. */
    int64_t rows, vals, bytes;
    GA_FAIL_IF(ga_mul_overflow(B, nq, &rows) || ga_mul_overflow(rows, H, &rows) || ga_mul_overflow(rows, D + 1, &vals) ||
                   ga_mul_overflow(vals, (int64_t)sizeof(double), &bytes) || (uint64_t)bytes > (uint64_t)SIZE_MAX,
               GA_ERR_OVERFLOW, "reference: B * Nq * H * (D + 1) result values (B = %lld, Nq = %lld, H = %lld, D = %lld) "
               "overflow a size", (long long)B, (long long)nq, (long long)H, (long long)D);
    double *res = (double *)ga_malloc((size_t)bytes);
    GA_FAIL_IF(!res, GA_ERR_OUT_OF_MEMORY, "reference: could not allocate %lld result values", (long long)vals);
    int failed = 0;

#pragma omp parallel num_threads(ga_cpu_threads(p->num_threads))
    {
        ga_key_list list = {NULL, 0, 0, 0};
        double *score = NULL, *acc = (double *)ga_malloc((size_t)D * sizeof(double)), *qrow = (double *)ga_malloc((size_t)D * sizeof(double));
        int64_t score_cap = 0;
        if (!acc || !qrow) list.failed = 1;
#pragma omp for schedule(dynamic, 16)
        for (int64_t i = 0; i < nq; i++) {
            if (list.failed) continue;
            list.count = 0;
            ga_graph_for_each_edge(p->graph, nq, nk, i, ga_ref_collect, &list);
            if (list.failed) continue;
            if (list.count > score_cap) {
                double *s = (double *)ga_realloc(score, (size_t)list.count * sizeof(double));
                if (!s) { list.failed = 1; continue; }
                score = s;
                score_cap = list.count;
            }
            for (int64_t b = 0; b < B; b++)
                for (int64_t h = 0; h < H; h++) {
                    const int64_t hk = h / group;
                    double *r = res + ((b * nq + i) * H + h) * (D + 1);
                    for (int64_t d = 0; d < D; d++) qrow[d] = ga_ref_load(p->q, b, i, h, d);
                    double mx = -INFINITY;
                    for (int64_t e = 0; e < list.count; e++) {
                        const int64_t j = list.keys[e];
                        double s = 0;
                        for (int64_t d = 0; d < D; d++) s += qrow[d] * ga_ref_load(p->k, b, j, hk, d);
                        score[e] = s * p->scale;
                        if (score[e] > mx) mx = score[e];
                    }
                    double sum = 0;
                    for (int64_t d = 0; d < D; d++) acc[d] = 0;
                    for (int64_t e = 0; e < list.count; e++) {
                        const int64_t j = list.keys[e];
                        const double w = exp(score[e] - mx);
                        sum += w;
                        for (int64_t d = 0; d < D; d++) acc[d] += w * ga_ref_load(p->v, b, j, hk, d);
                    }
                    if (list.count == 0) {
                        for (int64_t d = 0; d < D; d++) r[d] = 0;
                        r[D] = -INFINITY;
                    } else {
                        for (int64_t d = 0; d < D; d++) r[d] = acc[d] / sum;
                        r[D] = mx + log(sum);
                    }
                }
        }
        if (list.failed) {
#pragma omp atomic write
            failed = 1;
        }
        ga_free(list.keys);
        ga_free(score);
        ga_free(acc);
        ga_free(qrow);
    }
    if (failed) {
        ga_free(res);
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "reference: could not allocate a row's key list");
    }

    /* Write out (merging with the prior state when accumulating). */
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < nq; i++)
            for (int64_t h = 0; h < H; h++) {
                const double *r = res + ((b * nq + i) * H + h) * (D + 1);
                const int64_t oo = ga_cpu_offset(p->out, b, i, h);
                double lse = r[D];
                if (accumulate) {
                    float *lp = (float *)p->lse->data + ga_cpu_offset(p->lse, b, i, h);
                    const double prior = (double)*lp;
                    if (lse == -INFINITY) continue; /* nothing new: the prior state stands */
                    if (prior != -INFINITY) {
                        const double m = prior > lse ? prior : lse;
                        const double wa = exp(prior - m), wb = exp(lse - m);
                        for (int64_t d = 0; d < D; d++) {
                            const double a = (double)ga_cpu_load(p->out, oo + d);
                            ga_cpu_store(p->out, oo + d, (float)((a * wa + r[d] * wb) / (wa + wb)));
                        }
                        *lp = (float)(m + log(wa + wb));
                        continue;
                    }
                }
                for (int64_t d = 0; d < D; d++) ga_cpu_store(p->out, oo + d, (float)r[d]);
                if (p->lse) ((float *)p->lse->data)[ga_cpu_offset(p->lse, b, i, h)] = (float)lse;
            }
    ga_free(res);
    return GA_OK;
}
