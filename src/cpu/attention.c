/* attention.c -- the fast CPU backend: fp32 accumulation, online softmax, OpenMP.
 *
 * Work is cut into query blocks of GA_QB consecutive rows of one (batch, head). For each
 * component of the graph, a row's keys are either
 *   - contiguous ranges (dense, causal, window, blocks, dilated with step 1, longnet with
 *     rate 1, the global-key and window blocks of bigbird): the block runs over the union of
 *     its rows' ranges in key tiles of GA_KT keys. The K tile is transposed once per block so
 *     that S = Q K^T vectorizes over keys and O += P V over the head dimension; neighbouring
 *     queries reuse the same tile from cache, and a per-row mask trims each row to its range;
 *   - scattered keys (random, csr, dilated/longnet with gaps, global tokens, bigbird's random
 *     blocks): gathered row by row in chunks of GA_GCH keys;
 *   - or, for "heavy" rows that attend to every key (global tokens as queries, bigbird's
 *     global query blocks), deferred: phase 2 splits those rows' key range into chunks that
 *     run in parallel, and phase 3 merges the partial states by log-sum-exp. When there are
 *     too few query blocks to occupy the threads (few queries, e.g. decoding against a long
 *     key sequence), every row's contiguous ranges take the same deferred, split path.
 * Union semantics: a component's key j is dropped for row i when an earlier component
 * contains (i, j) (first owner wins), tile by tile (ga_cpu_exclude) or key by key
 * (ga_union_key), so the edge set equals the reference's exactly.
 * The decomposition depends only on the problem (not on the thread count), and every sum is
 * taken in a fixed order, so results are bit-identical across runs and thread counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "common/error.h"
#include "cpu/cpu_tensor.h"
#include "cpu/kernels.h"

#ifndef GA_QB
#define GA_QB 16   /* query rows per block (multiple of GA_MR) */
#endif
#define GA_KT 64   /* keys per tile (multiple of GA_NR) */
#define GA_GCH 64  /* keys per gather chunk */
#define GA_HEAVY_ITEMS 256 /* phase 2 aims at about this many work items */
#define GA_HEAVY_MIN_CHUNK 1024
#define GA_SPLIT_BELOW_ITEMS 32 /* fewer phase-1 items than this ... */
#define GA_SPLIT_MIN_KEYS 4096  /* ... and at least this many keys: split ranges too */

/* ------------------------------------------------------------------------------------------ */
/* Per-row plan of one component                                                               */
/* ------------------------------------------------------------------------------------------ */

typedef struct ga_row_plan {
    ga_row row;          /* cursor for the gather slots */
    int64_t lo[2], hi[2]; /* up to two contiguous key ranges [lo, hi) */
    int64_t gather_from; /* gather slots [gather_from, row.count) */
    int heavy;           /* 1: the row attends to all keys through this component (deferred) */
} ga_row_plan;

/* A component whose rows are one contiguous key range each. */
static int ga_is_range_kind(const ga_component *c) {
    switch (c->kind) {
    case GA_COMP_DENSE:
    case GA_COMP_CAUSAL:
    case GA_COMP_WINDOW:
    case GA_COMP_BLOCKS:
    case GA_COMP_DOCUMENTS: return 1;
    case GA_COMP_DILATED: return c->p[GA_P_STEP] == 1;
    case GA_COMP_LONGNET: return c->p[GA_P_RATE] == 1;
    default: return 0;
    }
}

/* Components that take part in the deferred (split) phase. */
static int ga_is_heavy_kind(const ga_component *c, int split_all) {
    return c->kind == GA_COMP_GLOBAL || c->kind == GA_COMP_BIGBIRD || (split_all && ga_is_range_kind(c));
}

/* Whether row i is deferred for component c, and its key range [lo, hi) there. */
static int ga_heavy_range(const ga_component *c, int64_t i, int64_t nq, int64_t nk, int split_all, int64_t *lo,
                          int64_t *hi) {
    ga_row r = ga_comp_row(c, i, nq, nk);
    *lo = *hi = 0;
    if ((c->kind == GA_COMP_GLOBAL && r.a == 1) || (c->kind == GA_COMP_BIGBIRD && r.a == -1)) {
        *hi = nk;
        return 1;
    }
    if (split_all && ga_is_range_kind(c)) {
        *lo = r.base;
        *hi = r.base + r.count;
        return 1;
    }
    return 0;
}

static void ga_plan_row(const ga_component *c, int64_t i, int64_t nq, int64_t nk, int split_all, ga_row_plan *pl) {
    ga_row r = ga_comp_row(c, i, nq, nk);
    pl->row = r;
    pl->lo[0] = pl->hi[0] = pl->lo[1] = pl->hi[1] = 0;
    pl->gather_from = r.count; /* no gather by default */
    pl->heavy = 0;
    if (split_all && ga_is_range_kind(c)) {
        pl->heavy = 1;
        return;
    }
    switch (c->kind) {
    case GA_COMP_DENSE:
    case GA_COMP_CAUSAL:
    case GA_COMP_WINDOW:
    case GA_COMP_BLOCKS:
    case GA_COMP_DOCUMENTS:
        pl->lo[0] = r.base;
        pl->hi[0] = r.base + r.count;
        break;
    case GA_COMP_DILATED:
    case GA_COMP_LONGNET:
        if (r.step == 1) {
            pl->lo[0] = r.base;
            pl->hi[0] = r.base + r.count;
        } else {
            pl->gather_from = 0;
        }
        break;
    case GA_COMP_GLOBAL:
        if (r.a == 1) pl->heavy = 1;
        else pl->gather_from = 0;
        break;
    case GA_COMP_BIGBIRD: {
        if (r.a == -1) { pl->heavy = 1; break; }
        const int64_t B = c->p[GA_P_BLOCK], G = r.a, nwin = r.step;
        pl->lo[0] = 0;
        pl->hi[0] = ga_min64(G * B, nk);
        pl->lo[1] = ga_min64(r.base * B, nk);
        pl->hi[1] = ga_min64((r.base + nwin) * B, nk);
        pl->gather_from = (G + nwin) * B;
        break;
    }
    default: /* random, csr */
        pl->gather_from = 0;
        break;
    }
}

/* Keys [lo, hi) of row i that component c contains, when that set is one contiguous range
 * (returns 1), for excluding earlier components tile by tile. */
static int ga_contig_range(const ga_component *c, int64_t i, int64_t nq, int64_t nk, int64_t *lo, int64_t *hi) {
    switch (c->kind) {
    case GA_COMP_DENSE:
    case GA_COMP_CAUSAL:
    case GA_COMP_WINDOW:
    case GA_COMP_BLOCKS:
    case GA_COMP_DOCUMENTS: {
        ga_row r = ga_comp_row(c, i, nq, nk);
        *lo = r.base;
        *hi = r.base + r.count;
        return 1;
    }
    case GA_COMP_DILATED:
    case GA_COMP_LONGNET: {
        ga_row r = ga_comp_row(c, i, nq, nk);
        if (r.step != 1 && r.count > 1) return 0;
        *lo = r.base;
        *hi = r.base + r.count;
        return 1;
    }
    default:
        return 0;
    }
}

/* Set srow[c] = -inf for the keys j = j0 + c (c < kn) of row i that an earlier component
 * (index < ci) contains. */
static void ga_cpu_exclude(const ga_component *comps, int ci, int64_t i, int64_t j0, int64_t kn, int64_t nq,
                           int64_t nk, float *srow) {
    for (int e = 0; e < ci; e++) {
        const ga_component *c = &comps[e];
        int64_t lo, hi;
        if (ga_contig_range(c, i, nq, nk, &lo, &hi)) {
            lo = ga_max64(lo, j0);
            hi = ga_min64(hi, j0 + kn);
            for (int64_t j = lo; j < hi; j++) srow[j - j0] = -INFINITY;
        } else if (c->kind == GA_COMP_GLOBAL) {
            if (ga_list_has(c->list, c->nrows, i)) {
                for (int64_t t = 0; t < kn; t++) srow[t] = -INFINITY;
            } else {
                for (int64_t t = ga_list_lower(c->list, c->nrows, j0); t < c->nrows && c->list[t] < j0 + kn; t++)
                    srow[c->list[t] - j0] = -INFINITY;
            }
        } else {
            for (int64_t t = 0; t < kn; t++)
                if (srow[t] != -INFINITY && ga_comp_contains(c, i, j0 + t, nq, nk)) srow[t] = -INFINITY;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Per-thread scratch and the running state of a block of rows                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct ga_ctx {
    const ga_problem *p;
    int64_t Dp;        /* D rounded up to GA_NR */
    int direct_v;      /* V tiles can be read in place (fp32 and D % GA_NR == 0) */
    float scale;
    size_t scratch_floats; /* per thread */
} ga_ctx;

typedef struct ga_scratch {
    float *qs;   /* GA_QB x Dp: scaled queries, zero padded */
    float *kt;   /* D x GA_KT: transposed key tile */
    float *vt;   /* GA_KT x Dp: value tile (when not read in place) */
    float *s;    /* GA_QB x GA_KT: scores, then probabilities */
    float *o;    /* GA_QB x Dp: unnormalized output accumulators */
    float *m, *l; /* GA_QB: running max and sum */
    float *gk, *gv; /* GA_GCH x Dp: gathered key / value rows (converted) */
    float *gs;   /* GA_GCH scores */
    int64_t *gkeys; /* GA_GCH */
} ga_scratch;

static size_t ga_scratch_floats(int64_t Dp) {
    size_t n = 0;
    n += (size_t)(GA_QB * Dp);        /* qs */
    n += (size_t)(Dp * GA_KT);        /* kt */
    n += (size_t)(GA_KT * Dp);        /* vt */
    n += (size_t)(GA_QB * GA_KT);     /* s */
    n += (size_t)(GA_QB * Dp);        /* o */
    n += 2 * GA_QB;                   /* m, l */
    n += (size_t)(2 * GA_GCH * Dp);   /* gk, gv */
    n += GA_GCH;                      /* gs */
    n += 2 * GA_GCH;                  /* gkeys (int64 = 2 floats) */
    n += 16;                          /* alignment slack */
    return n;
}

static void ga_scratch_bind(ga_scratch *sc, float *base, int64_t Dp) {
    float *f = base;
    sc->qs = f; f += GA_QB * Dp;
    sc->kt = f; f += Dp * GA_KT;
    sc->vt = f; f += GA_KT * Dp;
    sc->s = f; f += GA_QB * GA_KT;
    sc->o = f; f += GA_QB * Dp;
    sc->m = f; f += GA_QB;
    sc->l = f; f += GA_QB;
    sc->gk = f; f += GA_GCH * Dp;
    sc->gv = f; f += GA_GCH * Dp;
    sc->gs = f; f += GA_GCH;
    uintptr_t a = ((uintptr_t)f + 7) & ~(uintptr_t)7;
    sc->gkeys = (int64_t *)a;
}

/* Load the (scaled) query rows of a block and reset the running state. */
static void ga_block_begin(const ga_ctx *cx, ga_scratch *sc, int64_t b, int64_t h, const int64_t *rows, int nr) {
    const ga_problem *p = cx->p;
    const int64_t Dp = cx->Dp, D = p->D;
    memset(sc->qs, 0, sizeof(float) * (size_t)(GA_QB * Dp));
    memset(sc->o, 0, sizeof(float) * (size_t)(GA_QB * Dp));
    for (int r = 0; r < GA_QB; r++) {
        sc->m[r] = -INFINITY;
        sc->l[r] = 0;
    }
    for (int r = 0; r < nr; r++) {
        float *qr = sc->qs + r * Dp;
        ga_cpu_load_row(p->q, ga_cpu_offset(p->q, b, rows[r], h), D, qr);
        for (int64_t d = 0; d < D; d++) qr[d] *= cx->scale;
    }
}

/* Online-softmax update of row r with the probabilities of new scores srow[0..n) (n % 8 == 0,
 * masked entries -inf). On return srow holds the (rescaled) probabilities. Returns 0 when the
 * row had no valid score (srow is then all zero). */
static int ga_softmax_update(ga_scratch *sc, int r, float *srow, int64_t n, int64_t Dp) {
    const float mx = ga_vmax(srow, n);
    if (mx == -INFINITY) {
        memset(srow, 0, sizeof(float) * (size_t)n);
        return 0;
    }
    const float mold = sc->m[r];
    const float mnew = mold > mx ? mold : mx;
    const float sum = ga_vexp_sum(srow, n, mnew);
    if (mnew != mold) {
        const float alpha = mold == -INFINITY ? 0.0f : expf(mold - mnew);
        sc->l[r] *= alpha;
        ga_scale(sc->o + r * Dp, alpha, Dp);
        sc->m[r] = mnew;
    }
    sc->l[r] += sum;
    return 1;
}

/* Rows rows[0..nr) of (b, h) against keys [J0, J1) of component ci, each row r restricted to
 * [lo[r], hi[r]). */
static void ga_tile_path(const ga_ctx *cx, ga_scratch *sc, int64_t b, int64_t h, const int64_t *rows, int nr,
                         const int64_t *lo, const int64_t *hi, int64_t J0, int64_t J1, int ci) {
    const ga_problem *p = cx->p;
    const ga_component *comps = p->graph->comps;
    const int64_t D = p->D, Dp = cx->Dp, hk = h / (p->H / p->Hkv);
    const int nrp = (nr + GA_MR - 1) / GA_MR * GA_MR;
    const ga_tensor *K = p->k, *V = p->v;

    for (int64_t j0 = J0; j0 < J1; j0 += GA_KT) {
        const int64_t kn = ga_min64(GA_KT, J1 - j0);
        int64_t a[GA_QB], e[GA_QB];
        int any = 0, full = (kn % GA_NR == 0 && ci == 0);
        for (int r = 0; r < nr; r++) {
            a[r] = ga_max64(lo[r], j0) - j0;
            e[r] = ga_min64(hi[r], j0 + kn) - j0;
            if (a[r] < e[r]) any = 1;
            if (a[r] != 0 || e[r] != kn) full = 0;
        }
        if (!any) continue;

        /* K tile, transposed: kt[d][c] = K[j0 + c][d]; columns past kn are zero. */
        const int64_t kbase = ga_cpu_offset(K, b, j0, hk), ks = K->stride[1];
        if (K->dtype == GA_F32) {
            ga_transpose_tile((const float *)K->data + kbase, ks, kn, D, sc->kt, GA_KT);
        } else {
            float tmp[GA_NR * 16];
            for (int64_t c = 0; c < kn; c++) {
                for (int64_t d0 = 0; d0 < D; d0 += (int64_t)(sizeof tmp / sizeof tmp[0])) {
                    const int64_t dn = ga_min64((int64_t)(sizeof tmp / sizeof tmp[0]), D - d0);
                    ga_cpu_load_row(K, kbase + c * ks + d0, dn, tmp);
                    for (int64_t d = 0; d < dn; d++) sc->kt[(d0 + d) * GA_KT + c] = tmp[d];
                }
            }
        }
        const int64_t kw = (kn + GA_NR - 1) / GA_NR * GA_NR; /* columns computed */
        if (kn < kw)
            for (int64_t d = 0; d < D; d++) memset(sc->kt + d * GA_KT + kn, 0, sizeof(float) * (size_t)(kw - kn));

        /* S = Qs Kt */
        ga_gemm(nrp, kw, D, sc->qs, Dp, sc->kt, GA_KT, sc->s, GA_KT, 0);

        /* mask, softmax */
        int live = 0;
        for (int r = 0; r < nrp; r++) {
            float *srow = sc->s + r * GA_KT;
            if (r >= nr || a[r] >= e[r]) {
                memset(srow, 0, sizeof(float) * (size_t)kw);
                continue;
            }
            if (!full) {
                for (int64_t c = 0; c < a[r]; c++) srow[c] = -INFINITY;
                for (int64_t c = e[r]; c < kw; c++) srow[c] = -INFINITY;
                if (ci > 0) ga_cpu_exclude(comps, ci, rows[r], j0, kn, p->nq, p->nk, srow);
            }
            live |= ga_softmax_update(sc, r, srow, kw, Dp);
        }
        if (!live) continue;

        /* O += P V */
        const int64_t vbase = ga_cpu_offset(V, b, j0, hk), vs = V->stride[1];
        if (cx->direct_v) {
            ga_gemm(nrp, Dp, kn, sc->s, GA_KT, (const float *)V->data + vbase, vs, sc->o, Dp, 1);
        } else {
            for (int64_t c = 0; c < kn; c++) {
                float *vr = sc->vt + c * Dp;
                ga_cpu_load_row(V, vbase + c * vs, D, vr);
                for (int64_t d = D; d < Dp; d++) vr[d] = 0;
            }
            ga_gemm(nrp, Dp, kn, sc->s, GA_KT, sc->vt, Dp, sc->o, Dp, 1);
        }
    }
}

/* Row r (query i) of (b, h) against the gathered keys sc->gkeys[0..n). */
static void ga_gather_chunk(const ga_ctx *cx, ga_scratch *sc, int64_t b, int64_t h, int r, int n) {
    const ga_problem *p = cx->p;
    const int64_t D = p->D, Dp = cx->Dp, hk = h / (p->H / p->Hkv);
    const ga_tensor *K = p->k, *V = p->v;
    const float *qr = sc->qs + r * Dp;
    float *s = sc->gs;
    int64_t n8 = (n + 7) / 8 * 8;
    /* Scattered rows miss the caches: ask for all of the chunk's K and V rows at once so the
     * misses overlap instead of being paid one after another. */
    const int64_t es = K->dtype == GA_F32 ? 4 : 2, row_bytes = D * es;
    for (int e = 0; e < n; e++) {
        const char *kp = (const char *)K->data + ga_cpu_offset(K, b, sc->gkeys[e], hk) * es;
        const char *vp = (const char *)V->data + ga_cpu_offset(V, b, sc->gkeys[e], hk) * es;
        for (int64_t off = 0; off < row_bytes; off += 64) {
            __builtin_prefetch(kp + off);
            __builtin_prefetch(vp + off);
        }
    }
    for (int e = 0; e < n; e++) {
        const int64_t off = ga_cpu_offset(K, b, sc->gkeys[e], hk);
        if (K->dtype == GA_F32) {
            s[e] = ga_dot(qr, (const float *)K->data + off, D);
        } else {
            float *kr = sc->gk + e * Dp;
            ga_cpu_load_row(K, off, D, kr);
            s[e] = ga_dot(qr, kr, D);
        }
    }
    for (int64_t e = n; e < n8; e++) s[e] = -INFINITY;
    if (!ga_softmax_update(sc, r, s, n8, Dp)) return;
    float *o = sc->o + r * Dp;
    for (int e = 0; e < n; e++) {
        const int64_t off = ga_cpu_offset(V, b, sc->gkeys[e], hk);
        if (V->dtype == GA_F32) {
            ga_axpy(o, s[e], (const float *)V->data + off, D);
        } else {
            float *vr = sc->gv + e * Dp;
            ga_cpu_load_row(V, off, D, vr);
            ga_axpy(o, s[e], vr, D);
        }
    }
}

/* The gather slots of one row plan: keys of component ci not owned by an earlier one. */
static void ga_gather_path(const ga_ctx *cx, ga_scratch *sc, int64_t b, int64_t h, int r, int ci,
                           const ga_row_plan *pl) {
    const ga_problem *p = cx->p;
    int n = 0;
    for (int64_t t = pl->gather_from, next; t < pl->row.count; t = next) {
        /* runs of slots: bigbird's blocks stop at the last key instead of running on for B */
        for (const int64_t end = ga_slot_run_end(&p->graph->comps[ci], &pl->row, t, &next); t < end; t++) {
            const int64_t j = ga_union_key(p->graph->comps, ci, &pl->row, t, p->nq, p->nk);
            if (j < 0) continue;
            sc->gkeys[n++] = j;
            if (n == GA_GCH) {
                ga_gather_chunk(cx, sc, b, h, r, n);
                n = 0;
            }
        }
    }
    if (n) ga_gather_chunk(cx, sc, b, h, r, n);
}

/* ------------------------------------------------------------------------------------------ */
/* Finishing rows                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* Write the final (out, lse) of query i of (b, h) from a state (m, l, o[0..D)). */
static void ga_finish_row(const ga_problem *p, int64_t b, int64_t i, int64_t h, float m, float l, float *o) {
    const int64_t D = p->D, oo = ga_cpu_offset(p->out, b, i, h);
    float *lp = p->lse ? (float *)p->lse->data + ga_cpu_offset(p->lse, b, i, h) : NULL;
    if (p->flags & GA_FLAG_ACCUMULATE) {
        if (l == 0) return; /* no new edges: the prior state stands, bit for bit */
        const float prior = *lp, lnew = m + logf(l);
        if (prior != -INFINITY) {
            const float mm = prior > lnew ? prior : lnew;
            const float wa = expf(prior - mm), wb = expf(lnew - mm), inv = 1.0f / (wa + wb);
            const float wo = wb / l;
            for (int64_t d = 0; d < D; d++) o[d] = (ga_cpu_load(p->out, oo + d) * wa + o[d] * wo) * inv;
            ga_cpu_store_row(p->out, oo, D, o);
            *lp = mm + logf(wa + wb);
            return;
        }
    }
    if (l == 0) {
        for (int64_t d = 0; d < D; d++) o[d] = 0;
        ga_cpu_store_row(p->out, oo, D, o);
        if (lp) *lp = -INFINITY;
        return;
    }
    for (int64_t d = 0; d < D; d++) o[d] = o[d] / l;
    ga_cpu_store_row(p->out, oo, D, o);
    if (lp) *lp = m + logf(l);
}

/* Merge state (mb, lb, ob) into (ma, la, oa). */
static void ga_merge_state(float *ma, float *la, float *oa, float mb, float lb, const float *ob, int64_t n) {
    if (lb == 0) return;
    if (*la == 0) {
        *ma = mb;
        *la = lb;
        memcpy(oa, ob, sizeof(float) * (size_t)n);
        return;
    }
    const float m = *ma > mb ? *ma : mb, wa = expf(*ma - m), wb = expf(mb - m);
    for (int64_t d = 0; d < n; d++) oa[d] = oa[d] * wa + ob[d] * wb;
    *la = *la * wa + lb * wb;
    *ma = m;
}

/* ------------------------------------------------------------------------------------------ */
/* Heavy rows and the workspace                                                                */
/* ------------------------------------------------------------------------------------------ */

typedef struct ga_heavy_plan {
    int split_all;      /* too few query blocks: contiguous ranges are deferred and split too */
    int64_t max_rows;   /* upper bound on heavy rows (sizes the workspace) */
    int64_t max_groups; /* ceil(max_rows / GA_QB) */
    int64_t ncomps;     /* components that can make rows heavy */
    int64_t nchunks;    /* key chunks per (group, component) */
} ga_heavy_plan;

static ga_heavy_plan ga_plan_heavy(const ga_problem *p) {
    ga_heavy_plan hp = {0, 0, 0, 0, 1};
    const ga_graph *g = p->graph;
    /* saturated: the size query has no output to bound B * Nq * H (inputs broadcast by stride 0) */
    hp.split_all = ga_sat_mul64(ga_sat_mul64(p->B, p->H), ga_ceildiv(p->nq, GA_QB)) < GA_SPLIT_BELOW_ITEMS &&
                   p->nk >= GA_SPLIT_MIN_KEYS;
    for (int64_t c = 0; c < g->count; c++) {
        const ga_component *k = &g->comps[c];
        if (hp.split_all && ga_is_range_kind(k)) {
            hp.max_rows = ga_sat_add64(hp.max_rows, p->nq);
            hp.ncomps++;
        } else if (k->kind == GA_COMP_GLOBAL) {
            hp.max_rows = ga_sat_add64(hp.max_rows, ga_list_lower(k->list, k->nrows, p->nq));
            hp.ncomps++;
        } else if (k->kind == GA_COMP_BIGBIRD) {
            const int64_t bs = k->p[GA_P_BLOCK], gb = k->p[GA_P_GB];
            hp.max_rows = ga_sat_add64(hp.max_rows, gb >= ga_ceildiv(p->nq, bs) ? p->nq : ga_sat_mul64(gb, bs));
            hp.ncomps++;
        }
    }
    if (hp.max_rows > ga_sat_mul64(p->nq, hp.ncomps)) hp.max_rows = ga_sat_mul64(p->nq, hp.ncomps);
    hp.max_groups = ga_ceildiv(hp.max_rows, GA_QB);
    if (hp.max_rows > 0) {
        const int64_t base = ga_sat_mul64(ga_sat_mul64(ga_sat_mul64(p->B, p->H), hp.max_groups), hp.ncomps);
        const int64_t want = base >= GA_HEAVY_ITEMS ? 1 : ga_ceildiv(GA_HEAVY_ITEMS, base);
        const int64_t most = ga_max64(1, ga_ceildiv(p->nk, GA_HEAVY_MIN_CHUNK));
        hp.nchunks = ga_min64(want, most);
    }
    return hp;
}

typedef struct ga_layout {
    size_t scratch;   /* offset of per-thread scratch (floats) */
    size_t heavy_idx; /* offset of the heavy row list (int64) */
    size_t state1;    /* phase-1 states of heavy rows: B*H*max_rows x (Dp + 2) floats */
    size_t partial;   /* phase-2 partial states */
    size_t total;     /* bytes */
} ga_layout;

static size_t ga_sat_mul(size_t a, size_t b) { return (b && a > SIZE_MAX / b) ? SIZE_MAX : a * b; }
static size_t ga_sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

static ga_layout ga_workspace_layout(const ga_problem *p, int threads, const ga_heavy_plan *hp) {
    ga_layout L;
    const int64_t Dp = ga_ceildiv(p->D, GA_NR) * GA_NR;
    const size_t st = (size_t)(Dp + 2);
    size_t off = 0;
    L.scratch = off;
    off = ga_sat_add(off, ga_sat_mul(ga_sat_mul((size_t)threads, ga_scratch_floats(Dp)), sizeof(float)));
    off = (off + 63) & ~(size_t)63;
    L.heavy_idx = off;
    off = ga_sat_add(off, ga_sat_mul((size_t)hp->max_rows, sizeof(int64_t)));
    L.state1 = off;
    const size_t bh = ga_sat_mul((size_t)p->B, (size_t)p->H);
    off = ga_sat_add(off, ga_sat_mul(ga_sat_mul(ga_sat_mul(bh, (size_t)hp->max_rows), st), sizeof(float)));
    L.partial = off;
    size_t parts = ga_sat_mul(ga_sat_mul(ga_sat_mul(bh, (size_t)hp->max_groups), (size_t)hp->ncomps),
                              (size_t)hp->nchunks);
    off = ga_sat_add(off, ga_sat_mul(ga_sat_mul(ga_sat_mul(parts, GA_QB), st), sizeof(float)));
    L.total = off >= SIZE_MAX - 64 ? SIZE_MAX : off + 64; /* + alignment of the base */
    return L;
}

size_t ga_cpu_workspace_size(const ga_problem *p) {
    ga_heavy_plan hp = ga_plan_heavy(p);
    return ga_workspace_layout(p, ga_cpu_threads(p->num_threads), &hp).total;
}

size_t ga_cpu_workspace_least(const ga_problem *p) {
    ga_heavy_plan hp = ga_plan_heavy(p);
    return ga_workspace_layout(p, p->num_threads > 0 ? p->num_threads : 1, &hp).total;
}

/* The sorted, unique list of rows that some component makes heavy. */
static int64_t ga_collect_heavy(const ga_problem *p, int split_all, int64_t *out) {
    int64_t n = 0;
    const ga_graph *g = p->graph;
    for (int64_t c = 0; c < g->count; c++) {
        const ga_component *k = &g->comps[c];
        if (split_all && ga_is_range_kind(k)) {
            for (int64_t i = 0; i < p->nq; i++) out[n++] = i;
        } else if (k->kind == GA_COMP_GLOBAL) {
            for (int64_t t = 0; t < k->nrows && k->list[t] < p->nq; t++) out[n++] = k->list[t];
        } else if (k->kind == GA_COMP_BIGBIRD) {
            const int64_t bs = k->p[GA_P_BLOCK], gb = k->p[GA_P_GB];
            const int64_t rows = gb >= ga_ceildiv(p->nq, bs) ? p->nq : gb * bs;
            for (int64_t i = 0; i < rows; i++) out[n++] = i;
        }
    }
    qsort(out, (size_t)n, sizeof(int64_t), ga_cmp_i64);
    int64_t u = 0;
    for (int64_t t = 0; t < n; t++)
        if (u == 0 || out[u - 1] != out[t]) out[u++] = out[t];
    return u;
}

/* ------------------------------------------------------------------------------------------ */
/* The forward pass                                                                            */
/* ------------------------------------------------------------------------------------------ */

ga_status ga_cpu_forward(const ga_problem *p) {
    int threads = ga_cpu_threads(p->num_threads);
    const ga_heavy_plan hp = ga_plan_heavy(p);
    ga_layout L = ga_workspace_layout(p, threads, &hp);
    /* OpenMP's default team (num_threads 0) is the calling thread's setting, which may have grown
     * since the caller sized the workspace: as many threads as the workspace holds */
    while (p->num_threads == 0 && threads > 1 && p->workspace && L.total > p->workspace_bytes)
        L = ga_workspace_layout(p, --threads, &hp);
    GA_FAIL_IF(L.total > 0 && (!p->workspace || p->workspace_bytes < L.total), GA_ERR_WORKSPACE_TOO_SMALL,
               "cpu: workspace of %zu bytes, need %zu", p->workspace_bytes, L.total);

    ga_ctx cx;
    cx.p = p;
    cx.Dp = ga_ceildiv(p->D, GA_NR) * GA_NR;
    cx.direct_v = p->v->dtype == GA_F32 && p->D % GA_NR == 0;
    cx.scale = (float)p->scale;
    cx.scratch_floats = ga_scratch_floats(cx.Dp);

    char *ws = (char *)(((uintptr_t)p->workspace + 63) & ~(uintptr_t)63);
    float *scratch = (float *)(ws + L.scratch);
    int64_t *heavy = (int64_t *)(ws + L.heavy_idx);
    float *state1 = (float *)(ws + L.state1);
    float *partial = (float *)(ws + L.partial);
    const int64_t nheavy = hp.max_rows > 0 ? ga_collect_heavy(p, hp.split_all, heavy) : 0;
    const int64_t ngroups = ga_ceildiv(nheavy, GA_QB);

    const ga_graph *g = p->graph;
    const int ncomp = (int)g->count;
    const int64_t B = p->B, H = p->H, nq = p->nq, nk = p->nk, Dp = cx.Dp;
    const int64_t nblk = ga_ceildiv(nq, GA_QB), BH = B * H;
    const size_t st = (size_t)(Dp + 2);

    const int64_t nhc = hp.ncomps;

#pragma omp parallel num_threads(threads)
    {
        ga_scratch sc;
        ga_scratch_bind(&sc, scratch + (size_t)omp_get_thread_num() * cx.scratch_floats, Dp);
        ga_row_plan plans[GA_QB];
        int64_t rows[GA_QB], lo[GA_QB], hi[GA_QB];

        /* Phase 1: query blocks, every component, heavy parts deferred. */
#pragma omp for schedule(dynamic, 1)
        for (int64_t item = 0; item < BH * nblk; item++) {
            const int64_t bh = item / nblk, blk = item % nblk, b = bh / H, h = bh % H;
            const int64_t i0 = blk * GA_QB;
            const int nr = (int)ga_min64(GA_QB, nq - i0);
            for (int r = 0; r < nr; r++) rows[r] = i0 + r;
            ga_block_begin(&cx, &sc, b, h, rows, nr);
            int is_heavy[GA_QB] = {0};
            for (int ci = 0; ci < ncomp; ci++) {
                const ga_component *c = &g->comps[ci];
                for (int r = 0; r < nr; r++) {
                    ga_plan_row(c, rows[r], nq, nk, hp.split_all, &plans[r]);
                    is_heavy[r] |= plans[r].heavy;
                }
                for (int q = 0; q < 2; q++) {
                    int64_t L0 = INT64_MAX, H0 = INT64_MIN;
                    for (int r = 0; r < nr; r++) {
                        lo[r] = plans[r].lo[q];
                        hi[r] = plans[r].hi[q];
                        if (lo[r] < hi[r]) {
                            L0 = ga_min64(L0, lo[r]);
                            H0 = ga_max64(H0, hi[r]);
                        }
                    }
                    if (L0 < H0) ga_tile_path(&cx, &sc, b, h, rows, nr, lo, hi, L0, H0, ci);
                }
                for (int r = 0; r < nr; r++)
                    if (plans[r].gather_from < plans[r].row.count) ga_gather_path(&cx, &sc, b, h, r, ci, &plans[r]);
            }
            for (int r = 0; r < nr; r++) {
                if (is_heavy[r]) {
                    const int64_t hidx = ga_list_lower(heavy, nheavy, rows[r]);
                    float *st1 = state1 + ((size_t)bh * (size_t)nheavy + (size_t)hidx) * st;
                    st1[0] = sc.m[r];
                    st1[1] = sc.l[r];
                    memcpy(st1 + 2, sc.o + r * Dp, sizeof(float) * (size_t)Dp);
                } else {
                    ga_finish_row(p, b, rows[r], h, sc.m[r], sc.l[r], sc.o + r * Dp);
                }
            }
        }

        /* Phase 2: heavy rows, every key range split into chunks that run in parallel. */
        const int64_t nitems2 = BH * ngroups * nhc * hp.nchunks;
#pragma omp for schedule(dynamic, 1)
        for (int64_t item = 0; item < nitems2; item++) {
            int64_t rest = item;
            const int64_t chunk = rest % hp.nchunks; rest /= hp.nchunks;
            const int64_t hc = rest % nhc; rest /= nhc;
            const int64_t grp = rest % ngroups; rest /= ngroups;
            const int64_t bh = rest, b = bh / H, h = bh % H;
            int ci = 0;
            for (int64_t seen = -1; ci < ncomp; ci++)
                if (ga_is_heavy_kind(&g->comps[ci], hp.split_all) && ++seen == hc) break;
            const ga_component *c = &g->comps[ci];
            const int nr = (int)ga_min64(GA_QB, nheavy - grp * GA_QB);
            for (int r = 0; r < nr; r++) rows[r] = heavy[grp * GA_QB + r];
            ga_block_begin(&cx, &sc, b, h, rows, nr);
            int64_t L0 = INT64_MAX, H0 = INT64_MIN;
            for (int r = 0; r < nr; r++)
                if (ga_heavy_range(c, rows[r], nq, nk, hp.split_all, &lo[r], &hi[r]) && lo[r] < hi[r]) {
                    L0 = ga_min64(L0, lo[r]);
                    H0 = ga_max64(H0, hi[r]);
                }
            if (L0 < H0) { /* this chunk's share of the rows' union range */
                const int64_t span = H0 - L0;
                const int64_t k0 = L0 + span * chunk / hp.nchunks, k1 = L0 + span * (chunk + 1) / hp.nchunks;
                ga_tile_path(&cx, &sc, b, h, rows, nr, lo, hi, k0, k1, ci);
            }
            float *part = partial + ((((size_t)bh * (size_t)ngroups + (size_t)grp) * (size_t)nhc + (size_t)hc) *
                                         (size_t)hp.nchunks + (size_t)chunk) * GA_QB * st;
            for (int r = 0; r < nr; r++) {
                float *pr = part + (size_t)r * st;
                pr[0] = sc.m[r];
                pr[1] = sc.l[r];
                memcpy(pr + 2, sc.o + r * Dp, sizeof(float) * (size_t)Dp);
            }
        }

        /* Phase 3: merge each heavy row's partial states in a fixed order and finish it. */
#pragma omp for schedule(static)
        for (int64_t item = 0; item < BH * nheavy; item++) {
            const int64_t bh = item / nheavy, hidx = item % nheavy, b = bh / H, h = bh % H;
            const int64_t grp = hidx / GA_QB, r = hidx % GA_QB;
            float *st1 = state1 + ((size_t)bh * (size_t)nheavy + (size_t)hidx) * st;
            float m = st1[0], l = st1[1];
            float *o = st1 + 2;
            for (int64_t hc = 0; hc < nhc; hc++)
                for (int64_t chunk = 0; chunk < hp.nchunks; chunk++) {
                    const float *pr = partial +
                                      ((((size_t)bh * (size_t)ngroups + (size_t)grp) * (size_t)nhc + (size_t)hc) *
                                           (size_t)hp.nchunks + (size_t)chunk) * GA_QB * st + (size_t)r * st;
                    ga_merge_state(&m, &l, o, pr[0], pr[1], pr + 2, Dp);
                }
            ga_finish_row(p, b, heavy[hidx], h, m, l, o);
        }
    }
    return GA_OK;
}
