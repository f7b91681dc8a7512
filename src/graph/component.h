/*
 * component.h -- the edge generators: one plain-data struct per graph component and a few
 * small inline functions that answer, for query row i:
 *
 *   ga_comp_row(c, i, nq, nk)        -> a row cursor: `count` candidate slots for this row
 *   ga_comp_key(c, &row, t)          -> the key of slot t (0 <= t < count), or -1 for a hole
 *   ga_comp_contains(c, i, j, nq, nk)-> whether (i, j) is an edge of this component
 *
 * Within one component the non-hole keys of a row are distinct. Keys of a row are produced in
 * increasing order of t, and for every kind except random/bigbird/global also in increasing j.
 * The same code runs on the host (C11) and on the device (CUDA): GA_HD marks it for both.
 * Union semantics (first owner wins) are built on top in union.h.
 */
#ifndef GA_GRAPH_COMPONENT_H
#define GA_GRAPH_COMPONENT_H

#include <stdint.h>

#include "graphattn.h"

#ifdef __CUDACC__
#define GA_HD __host__ __device__ __forceinline__
#else
#define GA_HD static inline
#endif

typedef struct ga_component {
    int kind;         /* ga_component_kind */
    int index_type;   /* csr: ga_index_type of col */
    int64_t p[5];     /* parameters, meaning per kind (see ga_graph_add_*) */
    uint64_t seed;    /* random, bigbird */
    int64_t nrows;    /* csr: rows; global: number of tokens */
    int64_t ncols;    /* csr: columns */
    int64_t nnz;      /* csr: edges; csr p[0] = 1 when ncols is only a lower bound (an open count: files, ncols 0),
                         p[1] = 1 when nrows is the largest row index + 1 (coo files) */
    const int64_t *list;    /* global: sorted unique tokens; documents: their bounds (host or device copy) */
    const int64_t *row_ptr; /* csr (host or device copy) */
    const void *col;        /* csr: int32 or int64 (host or device copy) */
} ga_component;

/* Parameter slots. */
enum {
    GA_P_LEFT = 0, GA_P_RIGHT = 1,                   /* window */
    GA_P_W = 0, GA_P_STEP = 1,                       /* dilated */
    GA_P_BLOCK = 0,                                  /* blocks, bigbird */
    GA_P_SEGMENT = 0, GA_P_RATE = 1, GA_P_OFFSET = 2, /* longnet */
    GA_P_R = 0,                                      /* random */
    GA_P_WB = 1, GA_P_GB = 2, GA_P_RB = 3,           /* bigbird: window, global, random blocks */
    GA_P_CAUSAL = 0                                  /* documents: 1 = causal inside each document */
};

/* A row cursor: everything ga_comp_key needs, computed once per row. */
typedef struct ga_row {
    int64_t i;     /* query row */
    int64_t count; /* candidate slots; keys come from ga_comp_key(c, row, t), t < count */
    int64_t base;  /* first key (ranges/progressions) or csr offset */
    int64_t step;  /* progression step */
    int64_t nk;    /* keys */
    int64_t a, b;  /* kind-specific */
} ga_row;

GA_HD int64_t ga_min64(int64_t a, int64_t b) { return a < b ? a : b; }
GA_HD int64_t ga_max64(int64_t a, int64_t b) { return a > b ? a : b; }
/* floor division for b > 0 */
GA_HD int64_t ga_floordiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
GA_HD int64_t ga_ceildiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* splitmix64 finalizer over (seed, row, t): the documented hash of random and bigbird. */
GA_HD uint64_t ga_hash64_inline(uint64_t seed, int64_t row, int64_t t) {
    uint64_t z = seed ^ ((uint64_t)row * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)t * 0xC2B2AE3D27D4EB4Full);
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Stratified random choice: m = min(r, n) strata of [0, n); stratum t is [t*n/m, (t+1)*n/m).
 * The products t*n stay below 2^63 for n < 2^40 and r < 2^23, which add_random/bigbird check. */
GA_HD int64_t ga_stratum_start(int64_t t, int64_t n, int64_t m) { return (t * n) / m; }
GA_HD int64_t ga_random_pick(uint64_t seed, int64_t row, int64_t t, int64_t n, int64_t m) {
    int64_t s = ga_stratum_start(t, n, m), e = ga_stratum_start(t + 1, n, m);
    return s + (int64_t)(ga_hash64_inline(seed, row, t) % (uint64_t)(e - s));
}
/* Stratum of value j among m strata of [0, n): the t with start(t) <= j < start(t+1). */
GA_HD int64_t ga_stratum_of(int64_t j, int64_t n, int64_t m) {
    int64_t t = ((j + 1) * m - 1) / n; /* smallest t with start(t+1) > j is near this */
    if (t >= m) t = m - 1;
    while (t > 0 && ga_stratum_start(t, n, m) > j) t--;
    while (t + 1 < m && ga_stratum_start(t + 1, n, m) <= j) t++;
    return t;
}
GA_HD int ga_random_has(uint64_t seed, int64_t row, int64_t j, int64_t n, int64_t r) {
    int64_t m = ga_min64(r, n);
    if (m <= 0 || j < 0 || j >= n) return 0;
    int64_t t = ga_stratum_of(j, n, m);
    return ga_random_pick(seed, row, t, n, m) == j;
}

/* Binary search in a sorted int64 list. */
GA_HD int ga_list_has(const int64_t *list, int64_t n, int64_t x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (list[mid] < x) lo = mid + 1; else hi = mid;
    }
    return lo < n && list[lo] == x;
}
/* Number of list entries < x. */
GA_HD int64_t ga_list_lower(const int64_t *list, int64_t n, int64_t x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (list[mid] < x) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Documents: the keys [*lo, *hi] of the document holding key position pos (0 <= pos < nk), cut
 * by the nondecreasing bounds list (bounds 0 and >= nk, and repeats, cut nothing more); causal:
 * hi = pos. */
GA_HD void ga_document_of(const int64_t *bounds, int64_t n, int64_t pos, int64_t nk, int causal, int64_t *lo,
                          int64_t *hi) {
    const int64_t k = ga_list_lower(bounds, n, pos + 1); /* bounds <= pos */
    *lo = k > 0 ? bounds[k - 1] : 0;
    *hi = causal ? pos : (k < n ? ga_min64(bounds[k], nk) : nk) - 1;
}

GA_HD int64_t ga_csr_col(const ga_component *c, int64_t e) {
    return c->index_type == GA_INDEX_INT32 ? (int64_t)((const int32_t *)c->col)[e] : ((const int64_t *)c->col)[e];
}

GA_HD ga_row ga_comp_row(const ga_component *c, int64_t i, int64_t nq, int64_t nk) {
    ga_row r;
    r.i = i; r.count = 0; r.base = 0; r.step = 1; r.nk = nk; r.a = 0; r.b = 0;
    const int64_t diag = i + (nk - nq); /* bottom-right aligned position of query i */
    switch (c->kind) {
    case GA_COMP_DENSE:
        r.count = nk;
        break;
    case GA_COMP_CAUSAL:
        r.count = ga_max64(0, ga_min64(nk, diag + 1));
        break;
    case GA_COMP_WINDOW: {
        int64_t lo = ga_max64(0, diag - c->p[GA_P_LEFT]);
        int64_t hi = ga_min64(nk - 1, diag + c->p[GA_P_RIGHT]);
        r.base = lo; r.count = ga_max64(0, hi - lo + 1);
        break;
    }
    case GA_COMP_DILATED: {
        int64_t w = c->p[GA_P_W], s = c->p[GA_P_STEP];
        /* k range: diag + k*s in [0, nk) and |k| <= w */
        int64_t kmin = ga_max64(-w, -ga_floordiv(diag, s));        /* diag + k*s >= 0 */
        int64_t kmax = ga_min64(w, ga_floordiv(nk - 1 - diag, s)); /* diag + k*s <= nk-1 */
        if (diag < 0) kmin = ga_max64(-w, ga_ceildiv(-diag, s));
        r.step = s; r.base = diag + kmin * s; r.count = ga_max64(0, kmax - kmin + 1);
        break;
    }
    case GA_COMP_BLOCKS: {
        int64_t b = c->p[GA_P_BLOCK], lo = (i / b) * b;
        if (lo < nk) { r.base = lo; r.count = ga_min64(nk, lo + b) - lo; }
        break;
    }
    case GA_COMP_LONGNET: {
        int64_t S = c->p[GA_P_SEGMENT], R = c->p[GA_P_RATE], O = c->p[GA_P_OFFSET];
        if (i % R != O) break;
        int64_t lo = (i / S) * S, hi = ga_min64(nk, lo + S); /* keys [lo, hi) */
        if (lo >= nk) break;
        int64_t first = lo + ((O - lo % R) % R + R) % R;
        r.step = R; r.base = first;
        r.count = first < hi ? (hi - 1 - first) / R + 1 : 0;
        break;
    }
    case GA_COMP_GLOBAL: {
        /* a = 1: i is a global query (all keys); else the listed tokens < nk */
        if (i < nq && ga_list_has(c->list, c->nrows, i)) { r.a = 1; r.count = nk; }
        else r.count = ga_list_lower(c->list, c->nrows, nk);
        break;
    }
    case GA_COMP_RANDOM:
        r.count = ga_min64(c->p[GA_P_R], nk);
        break;
    case GA_COMP_BIGBIRD: {
        int64_t B = c->p[GA_P_BLOCK], qb = i / B, nbk = ga_ceildiv(nk, B);
        int64_t G = ga_min64(c->p[GA_P_GB], nbk);
        if (qb < c->p[GA_P_GB]) { r.a = -1; r.count = nk; break; } /* global query block: all keys */
        /* slots: [global blocks G*B keys][window blocks wlo..whi minus global][random blocks] */
        int64_t wlo = ga_max64(G, qb - c->p[GA_P_WB]), whi = ga_min64(nbk - 1, qb + c->p[GA_P_WB]);
        int64_t nwin = whi >= wlo ? whi - wlo + 1 : 0;
        r.base = wlo; r.step = nwin;             /* window blocks [wlo, wlo+nwin) */
        r.a = G;                                  /* global blocks [0, G) */
        r.b = ga_min64(c->p[GA_P_RB], nbk);       /* random blocks */
        r.count = (G + nwin + r.b) * B;
        break;
    }
    case GA_COMP_CSR:
        if (i < c->nrows) { r.base = c->row_ptr[i]; r.count = c->row_ptr[i + 1] - r.base; }
        break;
    case GA_COMP_DOCUMENTS:
        if (diag >= 0 && diag < nk) {
            int64_t lo, hi;
            ga_document_of(c->list, c->nrows, diag, nk, (int)c->p[GA_P_CAUSAL], &lo, &hi);
            r.base = lo; r.count = hi - lo + 1;
        }
        break;
    default:
        break;
    }
    return r;
}

GA_HD int64_t ga_comp_key(const ga_component *c, const ga_row *r, int64_t t) {
    switch (c->kind) {
    case GA_COMP_DENSE:
    case GA_COMP_CAUSAL:
        return t;
    case GA_COMP_WINDOW:
    case GA_COMP_BLOCKS:
    case GA_COMP_DOCUMENTS:
        return r->base + t;
    case GA_COMP_DILATED:
    case GA_COMP_LONGNET:
        return r->base + t * r->step;
    case GA_COMP_GLOBAL:
        return r->a ? t : c->list[t];
    case GA_COMP_RANDOM:
        return ga_random_pick(c->seed, r->i, t, r->nk, r->count);
    case GA_COMP_BIGBIRD: {
        if (r->a < 0) return t;
        int64_t B = c->p[GA_P_BLOCK], slot = t / B, off = t % B, kb;
        int64_t G = r->a, nwin = r->step;
        if (slot < G) kb = slot;
        else if (slot < G + nwin) kb = r->base + (slot - G);
        else {
            int64_t s = slot - G - nwin, nbk = ga_ceildiv(r->nk, B);
            kb = ga_random_pick(c->seed, r->i / B, s, nbk, r->b);
            /* a random block already covered by global or window blocks is a hole */
            if (kb < G || (kb >= r->base && kb < r->base + nwin)) return -1;
        }
        int64_t j = kb * B + off;
        return j < r->nk ? j : -1;
    }
    case GA_COMP_CSR:
        return ga_csr_col(c, r->base + t);
    default:
        return -1;
    }
}

GA_HD int ga_comp_contains(const ga_component *c, int64_t i, int64_t j, int64_t nq, int64_t nk) {
    if (i < 0 || i >= nq || j < 0 || j >= nk) return 0;
    const int64_t diag = i + (nk - nq);
    switch (c->kind) {
    case GA_COMP_DENSE:
        return 1;
    case GA_COMP_CAUSAL:
        return j <= diag;
    case GA_COMP_WINDOW:
        return j >= diag - c->p[GA_P_LEFT] && j <= diag + c->p[GA_P_RIGHT];
    case GA_COMP_DILATED: {
        int64_t d = j - diag, s = c->p[GA_P_STEP];
        return d % s == 0 && d / s <= c->p[GA_P_W] && d / s >= -c->p[GA_P_W];
    }
    case GA_COMP_BLOCKS:
        return i / c->p[GA_P_BLOCK] == j / c->p[GA_P_BLOCK];
    case GA_COMP_LONGNET: {
        int64_t S = c->p[GA_P_SEGMENT], R = c->p[GA_P_RATE], O = c->p[GA_P_OFFSET];
        return i / S == j / S && i % R == O && j % R == O;
    }
    case GA_COMP_GLOBAL:
        return ga_list_has(c->list, c->nrows, j) || ga_list_has(c->list, c->nrows, i);
    case GA_COMP_RANDOM:
        return ga_random_has(c->seed, i, j, nk, c->p[GA_P_R]);
    case GA_COMP_BIGBIRD: {
        int64_t B = c->p[GA_P_BLOCK], qb = i / B, kb = j / B, nbk = ga_ceildiv(nk, B);
        if (qb < c->p[GA_P_GB] || kb < c->p[GA_P_GB]) return 1;
        if (kb - qb <= c->p[GA_P_WB] && qb - kb <= c->p[GA_P_WB]) return 1;
        return ga_random_has(c->seed, qb, kb, nbk, c->p[GA_P_RB]);
    }
    case GA_COMP_DOCUMENTS: {
        int64_t lo, hi;
        ga_document_of(c->list, c->nrows, diag, nk, (int)c->p[GA_P_CAUSAL], &lo, &hi);
        return diag >= 0 && j >= lo && j <= hi;
    }
    case GA_COMP_CSR: {
        if (i >= c->nrows) return 0;
        int64_t lo = c->row_ptr[i], hi = c->row_ptr[i + 1];
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (ga_csr_col(c, mid) < j) lo = mid + 1; else hi = mid;
        }
        return lo < c->row_ptr[i + 1] && ga_csr_col(c, lo) == j;
    }
    default:
        return 0;
    }
}

/* First-owner union: slot t of component `ci` in row r is an edge of the union iff its key is
 * not a hole and no earlier component contains (i, key). */
GA_HD int64_t ga_union_key(const ga_component *comps, int ci, const ga_row *r, int64_t t, int64_t nq, int64_t nk) {
    int64_t j = ga_comp_key(&comps[ci], r, t);
    if (j < 0) return -1;
    for (int c = 0; c < ci; c++)
        if (ga_comp_contains(&comps[c], r->i, j, nq, nk)) return -1;
    return j;
}

#endif /* GA_GRAPH_COMPONENT_H */
