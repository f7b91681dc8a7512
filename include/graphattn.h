/*
 * graphattn.h -- sparse attention as graph processing.
 *
 * Tokens are nodes, the attention mask is the edge set. For every query row i,
 *
 *     out[i] = sum_j softmax_j(scale * q_i . k_j) * v_j      over the in-neighbours j of i
 *     lse[i] = log(sum_j exp(scale * q_i . k_j))               (natural log, fp32)
 *
 * and the work done is proportional to the number of edges, never to Nq * Nk.
 * A query with no edges gets out[i] = 0 and lse[i] = -inf (never NaN).
 *
 * Conventions used throughout this header:
 *  - Plain C11. No CUDA types: device pointers are plain `void *`, streams are `void *`.
 *  - Every position, size, offset and stride is int64_t.
 *  - Every entry point that can fail returns a ga_status (the destructors, initializers and
 *    getters cannot). The library never prints, exits or aborts.
 *  - A call that returns an error has written nothing to any output buffer. One exception: on
 *    the CUDA backend, an error the runtime or the device reports after the call has queued
 *    work (a launch or allocation failing midway, a kernel fault) can leave the outputs partly
 *    written; the status is then GA_ERR_CUDA or GA_ERR_OUT_OF_MEMORY. Bad input never is.
 *  - ga_last_error_detail() gives a human-readable explanation of the most recent error
 *    raised on the calling thread (e.g. "csr: column 7 of row 3 is out of range [0, 5)").
 */
#ifndef GRAPHATTN_H
#define GRAPHATTN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(GRAPHATTN_SHARED_BUILD)
#define GA_API __declspec(dllexport)
#elif defined(__GNUC__)
#define GA_API __attribute__((visibility("default")))
#else
#define GA_API
#endif

/* ------------------------------------------------------------------------------------------ */
/* Version                                                                                     */
/* ------------------------------------------------------------------------------------------ */

#define GA_VERSION_MAJOR 0
#define GA_VERSION_MINOR 1
#define GA_VERSION_PATCH 0
#define GA_VERSION_NUMBER (GA_VERSION_MAJOR * 10000 + GA_VERSION_MINOR * 100 + GA_VERSION_PATCH)

/** The version of the library actually loaded, as MAJOR*10000 + MINOR*100 + PATCH. */
GA_API int ga_version_number(void);
/** The version of the library actually loaded, as "MAJOR.MINOR.PATCH". */
GA_API const char *ga_version_string(void);

/* ------------------------------------------------------------------------------------------ */
/* Status codes. The numeric values are pinned: they never change between versions.          */
/* ------------------------------------------------------------------------------------------ */

typedef enum ga_status {
    GA_OK = 0,
    GA_ERR_NULL_POINTER = 1,          /* a required pointer argument is NULL */
    GA_ERR_BAD_SIZE = 2,              /* a size is negative, zero where not allowed, or too large */
    GA_ERR_BAD_DTYPE = 3,             /* unknown dtype, or dtypes of q/k/v/out disagree */
    GA_ERR_SHAPE_MISMATCH = 4,        /* q/k/v/out/lse shapes are inconsistent, or GQA heads do not divide */
    GA_ERR_BAD_STRIDE = 5,            /* a stride is negative, or the last-dim stride is not 1 */
    GA_ERR_UNSUPPORTED_HEAD_DIM = 6,  /* the head dimension is outside what the backend supports */
    GA_ERR_OVERFLOW = 7,              /* a size or offset product does not fit in int64 */
    GA_ERR_BAD_PARAMETER = 8,         /* a graph component or option parameter is invalid */
    GA_ERR_ROW_PTR_START = 9,         /* csr: row_ptr[0] != 0 */
    GA_ERR_ROW_PTR_END = 10,          /* csr: row_ptr[nrows] != nnz (or inconsistent) */
    GA_ERR_ROW_PTR_NOT_MONOTONE = 11, /* csr: row_ptr[i+1] < row_ptr[i] */
    GA_ERR_INDEX_OUT_OF_RANGE = 12,   /* a row/column/token index is < 0 or >= its bound */
    GA_ERR_INDEX_UNSORTED = 13,       /* csr: column indices of a row are not increasing */
    GA_ERR_INDEX_DUPLICATE = 14,      /* csr/coo: the same edge appears twice */
    GA_ERR_GRAPH_MISMATCH = 15,       /* an explicit component's rows/cols differ from Nq/Nk */
    GA_ERR_ALIASING = 16,             /* an output overlaps an input where that is not allowed */
    GA_ERR_OUT_OF_MEMORY = 17,        /* host or device allocation failed */
    GA_ERR_WORKSPACE_TOO_SMALL = 18,  /* the workspace passed is smaller than the size query said */
    GA_ERR_DEVICE_MISMATCH = 19,      /* tensors on different devices, or memory the backend's device cannot read */
    GA_ERR_BACKEND_UNAVAILABLE = 20,  /* asked for a backend that is not compiled in or has no device */
    GA_ERR_CUDA = 21,                 /* the CUDA runtime reported an error (detail has its text) */
    GA_ERR_SPEC_SYNTAX = 22,          /* a graph spec string does not parse (detail points at it) */
    GA_ERR_IO = 23,                   /* a file could not be opened, read or written */
    GA_ERR_FILE_FORMAT = 24,          /* a file (e.g. .npy) is malformed or has the wrong dtype/shape */
    GA_ERR_EMPTY_GRAPH = 25,          /* the graph has no components */
    GA_ERR_INTERNAL = 26,             /* a bug in graphattn: please report it */
    GA_STATUS_COUNT_ = 27
} ga_status;

/** A short constant name-and-description for a status code ("GA_ERR_NULL_POINTER: ..."). */
GA_API const char *ga_status_string(ga_status status);

/** Detail for the most recent error raised on this thread (empty string if none). The string
 *  is owned by the library and valid until the next graphattn call on this thread. */
GA_API const char *ga_last_error_detail(void);

/** An optional log sink. The library calls it (from the calling thread) for every error it
 *  raises, with the source file and line. Pass NULL to remove. Not thread-safe to change
 *  while other threads are inside graphattn. */
typedef void (*ga_log_fn)(void *user, ga_status status, const char *file, int line, const char *message);
GA_API void ga_set_log_callback(ga_log_fn fn, void *user);

/* ------------------------------------------------------------------------------------------ */
/* Tensors                                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef enum ga_dtype { GA_F32 = 0, GA_F16 = 1, GA_BF16 = 2 } ga_dtype;

/** Size in bytes of one element of a dtype (0 for an unknown dtype). */
GA_API size_t ga_dtype_size(ga_dtype dtype);
/** "float32", "float16", "bfloat16" (NULL for an unknown dtype). */
GA_API const char *ga_dtype_name(ga_dtype dtype);

typedef enum ga_device_type { GA_DEVICE_CPU = 0, GA_DEVICE_CUDA = 1 } ga_device_type;

/** A strided view of a 4-D tensor laid out as (B, N, H, D): batch, tokens, heads, head dim.
 *  Strides are in elements (not bytes), non-negative, and stride[3] must be 1.
 *  The log-sum-exp tensor uses the same struct with dtype GA_F32 and shape (B, Nq, H, 1). */
typedef struct ga_tensor {
    void *data;
    ga_dtype dtype;
    ga_device_type device;
    int device_index; /* CUDA device ordinal; ignored on the CPU */
    int64_t shape[4];
    int64_t stride[4];
} ga_tensor;

/** A contiguous (B, N, H, D) view (row-major, D fastest). */
GA_API ga_tensor ga_tensor_make(void *data, ga_dtype dtype, ga_device_type device, int64_t B, int64_t N,
                                int64_t H, int64_t D);

/* ------------------------------------------------------------------------------------------ */
/* Graphs                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/*
 * A graph is a union of components over queries [0, Nq) and keys [0, Nk). Implicit components
 * compute their edges from parameters and cost no memory; explicit ones (CSR, COO) store them.
 * Nq and Nk are not part of the graph: they come from the tensors at call time, so one implicit
 * graph serves every sequence length. Explicit components fix their own row and column counts.
 *
 * Alignment: components defined relative to the diagonal (causal, window, dilated) align it at
 * the bottom right when Nq != Nk: query i sits at key position i + (Nk - Nq). For Nq == Nk this
 * is the plain diagonal j == i.
 *
 * Union: an edge (i, j) belongs to the graph if any component contains it, and it is counted
 * once, by the first component (in the order added) that contains it. No union is materialized.
 */
typedef struct ga_graph ga_graph;

typedef enum ga_component_kind {
    GA_COMP_DENSE = 0,   /* every (i, j) */
    GA_COMP_CAUSAL = 1,  /* j <= i + (Nk - Nq) */
    GA_COMP_WINDOW = 2,  /* i' - left <= j <= i' + right, i' = i + (Nk - Nq) */
    GA_COMP_DILATED = 3, /* j = i' + k*step for -w <= k <= w */
    GA_COMP_BLOCKS = 4,  /* i / block == j / block */
    GA_COMP_LONGNET = 5, /* i/S == j/S and i % R == O and j % R == O (rows off the grid: no edges) */
    GA_COMP_GLOBAL = 6,  /* listed tokens attend to all keys; all queries attend to listed tokens */
    GA_COMP_RANDOM = 7,  /* r keys per query chosen by a seeded hash (see ga_graph_add_random) */
    GA_COMP_BIGBIRD = 8, /* block-level window + global + random (see ga_graph_add_bigbird) */
    GA_COMP_CSR = 9,     /* explicit edges (CSR, or COO converted to CSR) */
    GA_COMP_DOCUMENTS = 10 /* i' and j in the same packed document (see ga_graph_add_documents) */
} ga_component_kind;

typedef enum ga_index_type { GA_INDEX_INT32 = 0, GA_INDEX_INT64 = 1 } ga_index_type;

/** Create an empty graph in *graph. Free it with ga_graph_destroy. On failure *graph is left as it
 *  was (as every rejected call leaves its outputs), so start from NULL to destroy unconditionally.
 *  Limits, checked where a value is given: Nq and Nk in [1, 2^40] (at call time); window, dilated
 *  and bigbird extents at most 2^50, and so are dilated w * step and bigbird block * window blocks
 *  and block * global blocks; random r and bigbird random blocks at
 *  most 2^22; global and documents lists at most 2^40 entries (4096 inside a spec string); coo
 *  nnz at most 2^56. */
GA_API ga_status ga_graph_create(ga_graph **graph);
/** Free a graph and everything it owns (host and device copies). NULL is a no-op. A CUDA graph
 *  that captured a call on it reads its device copy when replayed: keep the graph while such a
 *  capture may replay. */
GA_API void ga_graph_destroy(ga_graph *graph);

GA_API ga_status ga_graph_add_dense(ga_graph *graph);
GA_API ga_status ga_graph_add_causal(ga_graph *graph);
/** Keys i'-left .. i'+right (inclusive, clipped to [0, Nk)). left, right >= 0; window:W is (W, W).
 *  A causal sliding window is (W, 0). */
GA_API ga_status ga_graph_add_window(ga_graph *graph, int64_t left, int64_t right);
/** Keys i' + k*step for -w <= k <= w (those in [0, Nk)). w >= 0, step >= 1; step 1 is a window. */
GA_API ga_status ga_graph_add_dilated(ga_graph *graph, int64_t w, int64_t step);
/** Block-diagonal: i / block == j / block. block >= 1. */
GA_API ga_status ga_graph_add_blocks(ga_graph *graph, int64_t block);
/** LongNet-style dilated segments: i/segment == j/segment, i % rate == offset, j % rate == offset.
 *  segment >= 1, rate >= 1, 0 <= offset < rate. */
GA_API ga_status ga_graph_add_longnet(ga_graph *graph, int64_t segment, int64_t rate, int64_t offset);
/** Global tokens: a listed token g attends to every key (if g < Nq) and every query attends to it
 *  (if g < Nk). The list is copied, sorted and de-duplicated; every index must be >= 0, and at
 *  call time < max(Nq, Nk). count >= 1. */
GA_API ga_status ga_graph_add_global(ga_graph *graph, const int64_t *tokens, int64_t count);
/** Random keys: each query i gets min(r, Nk) distinct keys. [0, Nk) is cut into m = min(r, Nk)
 *  strata, stratum t = [floor(t*Nk/m), floor((t+1)*Nk/m)), and query i takes from stratum t the
 *  key  start_t + ga_hash64(seed, i, t) % len_t  (ga_hash64 below); i is the query's row, not
 *  shifted by Nk - Nq (as in blocks, longnet and bigbird). r >= 1. */
GA_API ga_status ga_graph_add_random(ga_graph *graph, int64_t r, uint64_t seed);
/** BigBird on blocks of `block` tokens. With qb = i/block, kb = j/block, nbk = ceil(Nk/block):
 *  (i, j) is an edge when |qb - kb| <= window_blocks, or qb < global_blocks, or kb < global_blocks,
 *  or kb is one of the random blocks of qb: min(random_blocks, nbk) blocks drawn like
 *  ga_graph_add_random over [0, nbk) with row index qb. block >= 1, the others >= 0. */
GA_API ga_status ga_graph_add_bigbird(ga_graph *graph, int64_t block, int64_t window_blocks,
                                      int64_t global_blocks, int64_t random_blocks, uint64_t seed);
/** Packed documents (sequences concatenated in one): the nondecreasing positions `bounds` (each
 *  >= 0) cut the keys [0, Nk) into documents [b_k, b_k+1), the keys before the first bound and
 *  those from the last bound on being documents too ({2}: [0, 2) and [2, Nk)); listing 0, positions >= Nk, or a
 *  position twice (an empty sequence) changes nothing, so FlashAttention's cu_seqlens (0, ends...,
 *  total) works as is. Query i, at key position i' = i + (Nk - Nq), attends every key of the
 *  document holding i' (causal != 0: only those <= i'); rows with i' < 0 have none. The list is
 *  copied; 1 <= count <= 2^40. O(count) memory, whatever N. */
GA_API ga_status ga_graph_add_documents(ga_graph *graph, const int64_t *bounds, int64_t count, int causal);

/** Explicit edges in CSR form, validated in full before anything is stored:
 *  row_ptr has nrows+1 int64 entries, row_ptr[0] == 0, non-decreasing, row_ptr[nrows] = nnz;
 *  col_idx (int32 or int64; int32 only where ncols <= 2^31, else GA_ERR_BAD_DTYPE) holds nnz
 *  entries in [0, ncols), strictly increasing within each row (sorted, no duplicates). Both arrays are host memory and are copied; the caller keeps them.
 *  At call time nrows must equal Nq and ncols must equal Nk. ncols 0 leaves the key count open:
 *  any Nk above the largest index fits at call time (keys past it have no edges), as for a
 *  csr:/coo: spec's files, which do not store it. */
GA_API ga_status ga_graph_add_csr(ga_graph *graph, int64_t nrows, int64_t ncols, const int64_t *row_ptr,
                                  const void *col_idx, ga_index_type index_type);
/** Explicit edges as COO pairs (row[e], col[e]) in any order, same index type for both. Rows in
 *  [0, nrows), columns in [0, ncols) (ncols 0: open, as ga_graph_add_csr's), no pair twice.
 *  Converted to CSR and stored. */
GA_API ga_status ga_graph_add_coo(ga_graph *graph, int64_t nrows, int64_t ncols, int64_t nnz, const void *row,
                                  const void *col, ga_index_type index_type);

/** Parse a graph spec (the grammar the command line and Python use) into a new graph in *graph
 *  (left as it was on any failure, like ga_graph_create's):
 *    SPEC := COMPONENT ('+' COMPONENT)*
 *    dense | causal | window:W | window:L,R | dilated:W,S | blocks:B | longnet:S,R,O
 *    | global:I1,I2,... | random:R,SEED | bigbird:B,W,G,R,SEED | documents:B1,B2,...
 *    | causal_documents:B1,B2,... | csr:PTR.npy,IDX.npy | coo:ROW.npy,COL.npy
 *  Integers are decimal or 2^K (K <= 62), in int64's range and without a '+' sign ('+' joins
 *  components); a negative SEED is taken modulo 2^64 (-1 is 2^64 - 1), so a seed of 2^63 or more
 *  is written as seed - 2^64.
 *  Whitespace around tokens is ignored. csr/coo read .npy files (int64 row_ptr; int32 or int64
 *  indices). On a syntax error returns GA_ERR_SPEC_SYNTAX and the detail names the offending part
 *  and its character offset. */
GA_API ga_status ga_graph_parse(const char *spec, ga_graph **graph);

/** Parse a graph spec (the grammar of ga_graph_parse) and append its components to an existing
 *  graph, after those it holds, in the order written. All or nothing: on any failure (syntax, a
 *  component's parameters, a csr:/coo: file, memory) the graph is left as it was. This is how a
 *  spec follows components added through the API, e.g. explicit arrays then "window:256".
 *  Like every ga_graph_add_*, it frees the graph's device copy, if a CUDA call made one: do not
 *  add to a graph while a call on it runs on another thread or while a captured CUDA graph
 *  still refers to it (build a new graph instead). */
GA_API ga_status ga_graph_add_spec(ga_graph *graph, const char *spec);

/** Number of components in the graph. */
GA_API int64_t ga_graph_component_count(const ga_graph *graph);
/** Kind of component `index` (0-based), or -1 if out of range. */
GA_API int ga_graph_component_kind(const ga_graph *graph, int64_t index);

/** Check that the graph can be used with Nq queries and Nk keys (explicit sizes match, global
 *  tokens in range). The forward call does this too. */
GA_API ga_status ga_graph_check(const ga_graph *graph, int64_t nq, int64_t nk);

/** Number of (de-duplicated) edges of the graph over Nq x Nk. O(edges) time for most graphs.
 *  GA_ERR_OVERFLOW where the count does not fit in int64 (Nq and Nk may each be up to 2^40). */
GA_API ga_status ga_graph_count_edges(const ga_graph *graph, int64_t nq, int64_t nk, int64_t *edges);

typedef struct ga_degree_stats {
    int64_t edges;      /* total edges */
    int64_t min_degree; /* fewest keys of any query row */
    int64_t max_degree; /* most keys of any query row */
    int64_t empty_rows; /* query rows with no edges */
    double mean_degree;
} ga_degree_stats;
GA_API ga_status ga_graph_degree_stats(const ga_graph *graph, int64_t nq, int64_t nk, ga_degree_stats *stats);

/** The sorted key list of one query row: writes the row's degree to *degree and, when they fit
 *  (degree <= capacity), its keys in increasing order to `keys`; when they do not, nothing to
 *  `keys` (call with capacity 0 to size the buffer). Sizing costs what listing does where the
 *  degree has no closed form (a union with explicit, random or several overlapping components
 *  walks the row's candidate keys): O(degree), not O(1). */
GA_API ga_status ga_graph_row(const ga_graph *graph, int64_t nq, int64_t nk, int64_t row, int64_t *keys,
                              int64_t capacity, int64_t *degree);

/** Materialize the whole graph as CSR with sorted columns: row_ptr gets nq+1 entries, col_idx
 *  `capacity` entries at most (GA_ERR_BAD_SIZE and nothing written if the edges do not fit;
 *  ga_graph_count_edges gives the size). */
GA_API ga_status ga_graph_to_csr(const ga_graph *graph, int64_t nq, int64_t nk, int64_t *row_ptr, int64_t *col_idx,
                                 int64_t capacity);

/** The hash the random and bigbird components use (splitmix64 finalizer over a mix of the three
 *  inputs; see src/graph/component.h for the exact arithmetic). Exposed so that other frontends
 *  can reproduce the graphs. */
GA_API uint64_t ga_hash64(uint64_t seed, int64_t row, int64_t t);

/* ------------------------------------------------------------------------------------------ */
/* Attention                                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef enum ga_backend {
    GA_BACKEND_AUTO = 0,          /* CUDA for device tensors, the fast CPU backend for host tensors */
    GA_BACKEND_CPU = 1,           /* fast CPU backend (OpenMP, fp32 accumulation) */
    GA_BACKEND_CPU_REFERENCE = 2, /* fp64 reference: plain, row by row, the oracle */
    GA_BACKEND_CUDA = 3           /* CUDA backend (tensors must be device memory) */
} ga_backend;

/** Merge into a prior state: on entry `out` and `lse` hold a previous result over a disjoint
 *  edge set (lse = -inf for rows that had none); on exit they hold the exact result over the
 *  union. Requires lse. */
#define GA_FLAG_ACCUMULATE 1u

/** The most CPU threads a call may ask for (ga_options.num_threads; GA_ERR_BAD_PARAMETER above).
 *  OpenMP itself exits the process when it cannot create a thread, so the library bounds what it
 *  asks for. */
#define GA_MAX_THREADS 1024

typedef struct ga_options {
    double scale;       /* softmax scale; 0 means 1/sqrt(D); finite, in [0, FLT_MAX] (else GA_ERR_BAD_PARAMETER).
                         * Scores scale * q.k are float32 outside the reference backend (fp64): a row
                         * whose largest |score| passes ~1.4e9 comes out NaN on the CUDA backend (its
                         * exponentials subtract a float32 reference scaled by log2 e: past 2^31 its
                         * rounding alone overflows exp2), one past the float32 range on the cpu
                         * backend. Real scores are far below (|score| < 1e4) */
    unsigned flags;     /* GA_FLAG_* */
    ga_backend backend; /* GA_BACKEND_AUTO by default */
    void *stream;       /* cudaStream_t for the CUDA backend; NULL = default stream */
    int num_threads;    /* CPU threads, at most GA_MAX_THREADS; 0 = OpenMP default. In a process made by
                         * fork() from one that had loaded the library, every call runs on one thread:
                         * GCC's OpenMP runtime hangs in a forked child's first multi-threaded region */
} ga_options;

/** Fill options with the defaults (scale from D, no flags, auto backend, default stream). */
GA_API void ga_options_init(ga_options *options);

/** Names of the backends compiled into this library, e.g. "cpu-reference,cpu,cuda". */
GA_API const char *ga_backends_compiled(void);
/** Number of CUDA devices usable now (0 without CUDA support or without a GPU). Never fails. */
GA_API int ga_cuda_device_count(void);
/** "NAME (sm_XY, N MiB)" of CUDA device `index` into buf; GA_ERR_BACKEND_UNAVAILABLE if none. */
GA_API ga_status ga_cuda_device_name(int index, char *buf, size_t buf_size);

/** Bytes of workspace the forward call needs for these arguments (0 is a valid answer). */
GA_API ga_status ga_attention_workspace_size(const ga_graph *graph, const ga_tensor *q, const ga_tensor *k,
                                             const ga_tensor *v, const ga_options *options, size_t *bytes);

/**
 * The forward pass. q: (B, Nq, H, D); k, v: (B, Nk, Hkv, D) with Hkv dividing H (query head h
 * uses key/value head h / (H / Hkv)); out: (B, Nq, H, D) in the dtype of q; lse: NULL or
 * (B, Nq, H, 1) float32. All tensors on one device; dtypes of q, k, v, out equal.
 * A tensor labelled GA_DEVICE_CUDA must be memory that device reads: its own or managed memory,
 * pinned host memory, or pageable host memory where the device reads it (HMM / ATS); pageable
 * host memory elsewhere, or another device's memory, is GA_ERR_DEVICE_MISMATCH (and so is a host
 * tensor whose pointer is device memory), checked before launching (one
 * cudaPointerGetAttributes per tensor): a kernel reading such memory would fault and leave the
 * process's CUDA context unusable.
 * Accumulation, maxima and sums are fp32 (fp64 in the reference backend).
 * `out` may not overlap k or v; it may be exactly q (same data and strides) on backends
 * that support it, otherwise GA_ERR_ALIASING. Overlap means a shared element where two tensors
 * have one dtype and the same strides (so out = q over the slices of one fused q/k/v buffer is
 * fine), a shared byte range otherwise.
 * workspace: device (or host, for CPU backends) memory of at least ga_attention_workspace_size()
 * bytes, 16-byte aligned where that size is not 0 (else GA_ERR_BAD_PARAMETER), whose first that
 * many bytes overlap none of q, k, v, out, lse (else GA_ERR_ALIASING),
 * used by one call at a time (calls that may run at once, on different streams, need their own);
 * pass NULL and 0 to let the library allocate (GA_ERR_OUT_OF_MEMORY if it cannot). On the CPU
 * backend with options.num_threads 0, OpenMP's default team (the calling thread's setting) may
 * have grown since the size query: the workspace still serves, and the call runs with as many
 * threads as it holds.
 * options: NULL for defaults.
 * Everything is validated before any work starts; on error nothing is written (but see the
 * CUDA exception at the top of this header).
 */
GA_API ga_status ga_attention_forward(const ga_graph *graph, const ga_tensor *q, const ga_tensor *k,
                                      const ga_tensor *v, ga_tensor *out, ga_tensor *lse, const ga_options *options,
                                      void *workspace, size_t workspace_bytes);

/** Merge two partial results over disjoint edge sets, in place into (out_a, lse_a):
 *  a := a (+) b by log-sum-exp. Shapes as in the forward call; both on the same device. A row
 *  where lse_b is -inf (b has no edges there) keeps a's out and lse bit for bit. */
GA_API ga_status ga_merge_states(ga_tensor *out_a, ga_tensor *lse_a, const ga_tensor *out_b, const ga_tensor *lse_b,
                                 const ga_options *options);

#ifdef __cplusplus
}
#endif
#endif /* GRAPHATTN_H */
