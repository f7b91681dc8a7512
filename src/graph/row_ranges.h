/* row_ranges.h -- explicit graphs whose rows are key intervals.
 *
 * A CSR component whose every row is a nonempty run of consecutive keys [lo_i, hi_i], with lo
 * and hi nondecreasing in i (a band, causal, document blocks of any sizes, their causal
 * variants, ...), is an interval component given by two arrays: the CUDA backend then runs it on
 * the interval kernels (per-row bounds read from the arrays) instead of the explicit graph's
 * bitmap tiles. Built once per graph in O(rows) time (each row's first and last column). */
#ifndef GA_GRAPH_ROW_RANGES_H
#define GA_GRAPH_ROW_RANGES_H

#include <stdint.h>

#include "graph/component.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rows per query tile of the per-tile minimum below (the tile kernels' query tile). */
#define GA_RANGES_TILE 64
/* Rows per unit of the work order below as the CUDA backend uploads it: the warp-specialized
 * tile kernel's super tile (4 consumer warpgroups of 64 rows), the kernel that follows it. */
#define GA_RANGES_ORDER_ROWS 256

typedef struct ga_row_ranges {
    int64_t nrows;
    int64_t *lo, *hi;    /* nrows each: row i attends keys lo[i] .. hi[i] */
    int64_t *tile_min;   /* ceil(nrows / GA_RANGES_TILE): the fewest keys of a row in each tile */
    int64_t min_keys;    /* the fewest keys of any row */
    int64_t mid_keys;    /* the keys of row nrows / 2 */
} ga_row_ranges;

/* *ok = 1 and r filled (arrays owned by r, free with ga_row_ranges_free) when the CSR component
 * csr has interval rows as above; *ok = 0 and r zeroed otherwise (including an empty row). */
ga_status ga_row_ranges_build(const ga_component *csr, int *ok, ga_row_ranges *r);
void ga_row_ranges_free(ga_row_ranges *r);
/* The same arrays for a documents component over nq x nk (each row's document, or its causal
 * part), O(nq log documents); *ok = 0 (nothing allocated) when nq > nk (rows before the first
 * key have none). */
ga_status ga_row_ranges_documents(const ga_component *docs, int64_t nq, int64_t nk, int *ok, ga_row_ranges *r);

/* The order in which a persistent kernel should take r's units of `rows` consecutive rows (a
 * multiple of GA_RANGES_TILE; the last unit may be short): by descending work, estimated as the
 * 64-key tiles that each of the unit's 64-row tiles spans (lo of its first row to hi of its
 * last), summed; equal work in row order. Heaviest first, so that a kernel handing units out in
 * this order ends its CTAs together where the units' work varies (documents of mixed lengths,
 * their causal form: the work of a unit grows along its document). *order: ceil(nrows / rows)
 * unit indices, *work: each unit's estimate in row order (both ga_free); *n their count. */
ga_status ga_row_ranges_order(const ga_row_ranges *r, int64_t rows, int64_t **order, int64_t **work, int64_t *n);

/* What that order is worth, by the same estimate, to a persistent kernel of `ctas` CTAs (capped
 * at the units in all) over bh copies of the n units (batch x heads): the busiest CTA's work
 * when CTA b takes units b, b + ctas, ... with the copies outer (each in row order), over its
 * work when the CTAs take the order with the copies inner, in snake rounds (odd full rounds
 * backwards, a last partial round forwards), as the CUDA kernel does. About 1 where the units'
 * work is even (a band) or there are no more units than CTAs. */
ga_status ga_row_ranges_order_gain(const int64_t *order, const int64_t *work, int64_t n, int64_t bh, int64_t ctas,
                                   double *gain);

/* The same units as `order` (n of them, each of `rows` rows) split in two: first those with a
 * row of fewer than split_keys keys (*nshort of them), then the rest, each part in order's
 * order. A kernel can then run the two parts in launches of their own (bf16 split rows: the
 * part without short rows on a kernel that needs no split). *sorder: n units (ga_free). */
ga_status ga_row_ranges_split_order(const ga_row_ranges *r, const int64_t *order, int64_t n, int64_t rows,
                                    int64_t split_keys, int64_t **sorder, int64_t *nshort);

#ifdef __cplusplus
}
#endif
#endif
