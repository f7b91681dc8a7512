/* tile_plan.h -- split an explicit graph (CSR) into dense tiles and residual edges.
 *
 * The rows are cut into tiles of GA_TILE_BQ queries and the keys into tiles of GA_TILE_BK. A
 * (query tile, key tile) block whose edge count reaches `threshold` * BQ * BK becomes a tile:
 * the tensor-core kernel runs it whole, masked by a bitmap (one uint64 per query row; bit c
 * is key kt*BK + c), or unmasked when it is full. Every other edge stays in a residual CSR
 * for the edge engine. Tiles + residual = the original edges, each exactly once.
 * Built once per graph in O(rows + edges) time; reused by every call. */
#ifndef GA_GRAPH_TILE_PLAN_H
#define GA_GRAPH_TILE_PLAN_H

#include <stdint.h>

#include "graph/component.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GA_TILE_BQ 64
#define GA_TILE_BK 64

typedef struct ga_tile_plan {
    int64_t nrows, ncols;
    int64_t q_tiles;        /* ceil(nrows / BQ) */
    int64_t *tile_ptr;      /* q_tiles + 1: tiles of query tile qt are [tile_ptr[qt], tile_ptr[qt+1]) */
    int64_t *tile_kt;       /* key tile index of each tile, increasing within a query tile */
    int64_t *tile_mask;     /* offset (in uint64 words) of each tile's bitmap in masks, or -1 if full */
    int64_t ntiles;
    uint64_t *masks;        /* BQ words per masked tile */
    int64_t nmasks;         /* masked tiles */
    int64_t tile_edges;     /* edges covered by tiles */
    /* residual edges, as a CSR with the input's index type */
    int64_t *res_ptr;       /* nrows + 1 */
    void *res_col;
    int res_index_type;
    int64_t res_nnz;
} ga_tile_plan;

/* Build the plan of a CSR component. threshold in (0, 1]; 2 disables tiles (all residual). */
ga_status ga_tile_plan_build(const ga_component *csr, double threshold, ga_tile_plan *plan);
void ga_tile_plan_free(ga_tile_plan *plan);

#ifdef __cplusplus
}
#endif
#endif
