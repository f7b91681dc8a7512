/* graph.h -- the graph object behind the opaque ga_graph handle, for the backends. */
#ifndef GA_GRAPH_GRAPH_H
#define GA_GRAPH_GRAPH_H

#include "graph/component.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A device-side copy of the graph, built by a backend on first use and freed with the graph. */
typedef struct ga_graph_cache {
    void *data;
    void (*release)(void *data);
} ga_graph_cache;

struct ga_graph {
    int64_t count;          /* components */
    int64_t capacity;
    ga_component *comps;    /* host copies; list/row_ptr/col arrays owned by the graph */
    ga_graph_cache cuda;    /* owned by the CUDA backend (see src/cuda) */
};

/* Move every component of src onto the end of dst, in order, leaving src empty (its arrays now
 * dst's). All or nothing: on failure neither graph changes. */
ga_status ga_graph_move_components(ga_graph *dst, ga_graph *src);

/* Enumerate the keys of one query row under union semantics: calls fn(user, j) for every edge
 * (i, j), component by component (first owner wins), and returns the degree. */
typedef void (*ga_edge_fn)(void *user, int64_t j);
int64_t ga_graph_for_each_edge(const ga_graph *g, int64_t nq, int64_t nk, int64_t i, ga_edge_fn fn, void *user);

/* Nq and Nk in [1, 2^40], the token counts every call and graph query takes (GA_ERR_BAD_SIZE). */
ga_status ga_check_token_counts(int64_t nq, int64_t nk);

/* Degree of row i under union semantics. */
int64_t ga_graph_row_degree(const ga_graph *g, int64_t nq, int64_t nk, int64_t i);

/* Slots of row r of component k from slot t on (t = 0, or where the last call said to go on):
 * slots [t, returned end) may hold keys, slots [end, *next) are holes, and the next run starts
 * at *next (== r->count at the end). Walking rows run by run keeps bigbird rows O(keys) when
 * its block is far longer than Nk; for every other kind there is one run, [t, r->count). */
int64_t ga_slot_run_end(const ga_component *k, const ga_row *r, int64_t t, int64_t *next);

/* qsort comparator of int64_t values, ascending. */
int ga_cmp_i64(const void *a, const void *b);

/* Largest number of candidate slots any single row can have (for sizing scratch buffers). */
int64_t ga_graph_max_candidates(const ga_graph *g, int64_t nq, int64_t nk);

/* Implemented in src/graph/spec.c: calls visit(path, ctx) on each file that the csr:/coo:
 * components of spec name, split as ga_graph_parse splits them (a component whose paths do not
 * parse is skipped: parsing reports it); stops at the first nonzero return and returns it, else
 * 0. Reads no file and raises no error (the command line checks its outputs with it). */
int ga_spec_files(const char *spec, int (*visit)(const char *path, void *ctx), void *ctx);

/* Implemented in src/io/npy.c: load a 1-D integer .npy file into a freshly allocated array.
 * *index_type says whether it holds int32 or int64; the caller frees *data. */
ga_status ga_npy_load_index(const char *path, void **data, int64_t *count, ga_index_type *index_type);

#ifdef __cplusplus
}
#endif
#endif
