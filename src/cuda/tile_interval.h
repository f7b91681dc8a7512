/* tile_interval.h -- tensor-core tiles for components whose rows are key intervals
 * (window, causal, dense, blocks). See tile_interval.cu. Plain C interface for the dispatcher. */
#ifndef GA_CUDA_TILE_INTERVAL_H
#define GA_CUDA_TILE_INTERVAL_H

#include <stddef.h>
#include <stdint.h>

#include "graphattn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* GA_TILE_LIST: the tiles of an explicit graph's plan (graph/tile_plan.h), given as device
 * arrays in tile_ptr / tile_kt / tile_mask / masks. */
/* GA_TILE_RANGES: an explicit graph whose rows are key intervals with nondecreasing ends
 * (graph/row_ranges.h), run as an interval component with per-row bounds from device arrays. */
enum { GA_TILE_WINDOW = 0, GA_TILE_CAUSAL = 1, GA_TILE_DENSE = 2, GA_TILE_BLOCKS = 3, GA_TILE_LIST = 4,
       GA_TILE_BIGBIRD = 5 /* Hopper kernel only, block size a multiple of 64 (ga_tile_bigbird_supported) */,
       GA_TILE_RANGES = 6 };

/* The implicit interval kinds (window, causal, dense, blocks): each row's keys one interval from
 * the row's index alone, their count rising, holding, then falling along the rows. */
static inline int ga_tile_kind_is_interval(int kind) {
    return kind == GA_TILE_WINDOW || kind == GA_TILE_CAUSAL || kind == GA_TILE_DENSE || kind == GA_TILE_BLOCKS;
}

/* bf16 P is split into two 16-bit halves where a row has fewer keys than this (tile_interval.cu;
 * 256 until bench/RESULTS.md run 45);
 * a build may set it (-DGA_TILE_SPLIT_KEYS=N in CMAKE_CUDA_FLAGS: bench/narrow_ab.sh) */
#ifndef GA_TILE_SPLIT_KEYS
#define GA_TILE_SPLIT_KEYS 64
#endif

typedef struct ga_tile_interval_call {
    int kind;          /* GA_TILE_* */
    int64_t p0, p1;    /* window: left, right; blocks: block size; bigbird: block size, window blocks */
    int64_t p2, p3;    /* bigbird: global blocks, random blocks */
    uint64_t seed;     /* bigbird */
    ga_dtype dtype;    /* GA_BF16 or GA_F16 */
    int64_t B, H, Hkv, nq, nk, D;
    const void *q, *k, *v;
    void *out;
    float *lse;        /* may be NULL unless accumulate */
    int64_t sq[3], sk[3], sv[3], so[3], sl[3]; /* element strides of (B, N, H); D stride is 1 */
    double scale;
    int accumulate;    /* merge into the prior (out, lse) */
    void *stream;
    const int64_t *tile_ptr, *tile_kt, *tile_mask; /* GA_TILE_LIST: device copies of the plan */
    const uint64_t *masks;
    /* GA_TILE_RANGES: device arrays of each row's first and last key and of each 64-row tile's
     * fewest keys; the fewest keys of any row and the middle row's (host values) */
    const int64_t *rlo, *rhi, *rmin;
    int64_t rmin_keys, rmid_keys;
    /* GA_TILE_RANGES, optional: the units of GA_RANGES_ORDER_ROWS query rows heaviest first
     * (unit_order_n of them; the warp-specialized kernel hands them out in this order) */
    const int64_t *unit_order;
    int64_t unit_order_n;
    /* the same units with those holding a row of fewer than GA_TILE_SPLIT_KEYS keys first
     * (unit_nshort of them; ga_row_ranges_split_order): bf16 split rows in two launches */
    const int64_t *unit_sorder;
    int64_t unit_nshort;
    /* Listed tokens: a global component right after the interval one, run by the Hopper kernel
     * (ga_tile_extra_supported). Every row that is not listed attends the listed keys outside
     * its interval (16-key sub-tiles before each query tile's interval tiles); every listed row
     * attends all keys outside its interval (split over key chunks into partial states), and a
     * last kernel merges each listed row's chunks with its interval part and writes it. xkeys: sorted unique device list of nx <= 64 tokens;
     * nx = 0: none. xwork: ga_tile_extra_bytes() bytes of device workspace. */
    const int64_t *xkeys;
    int64_t nx;
    int64_t nx_rows;          /* listed tokens < nq; bigbird: its global query rows [0, nx_rows) */
    int64_t nx_keys;          /* listed tokens < nk */
    int64_t x_first, x_last;  /* the first listed token and the last one < nk */
    void *xwork;
    /* causal: device workspace (GA_TILE_SCHED_BYTES) for the warp-specialized kernel's work
     * counter and its CTAs' unit slots; NULL: none (the fixed stride) */
    int *sched;
} ga_tile_interval_call;

/* Most listed tokens the tile kernels take (one key tile). */
#define GA_TILE_MAX_EXTRA 64

/* Device workspace a causal call's tiles take for the warp-specialized kernel's work counter: the
 * counter (int 0), then from int GA_TILE_SCHED_SLOT0 GA_TILE_SCHED_CTA_INTS ints per CTA (each
 * consumer's super tile per Q buffer), for launches of at most GA_TILE_SCHED_MAX_CTAS CTAs (more
 * keep the fixed stride). */
#define GA_TILE_SCHED_SLOT0 64
#define GA_TILE_SCHED_CTA_INTS 8
#define GA_TILE_SCHED_MAX_CTAS 1024
#define GA_TILE_SCHED_BYTES (4 * (GA_TILE_SCHED_SLOT0 + GA_TILE_SCHED_CTA_INTS * GA_TILE_SCHED_MAX_CTAS))

/* 1 when the tile kernel handles this call (dtype, head dim, kind, 16-byte alignment). A padded
 * head dim (below) is taken only where the persistent Hopper kernels take the call; explicit
 * graphs (GA_TILE_LIST) pass provisionally and are asked again once they are ranges. */
int ga_tile_interval_supported(const ga_tile_interval_call *call);
/* The kernel head dim that takes head dim D with zero columns (a multiple of 8 strictly between
 * 32 and 256, not 64 or 128: the next of 64, 128, 256), else D itself. Only the persistent Hopper
 * kernels pad: the copy engine fills the columns past D with zeros (Q K^T unchanged, P V's extra
 * columns never written). */
int64_t ga_tile_padded_d(int64_t D);
/* 1 when listed tokens (xkeys, nx) can run with this call's tiles: the Hopper kernel takes the
 * call, nx <= GA_TILE_MAX_EXTRA and the workspace stays below 1 GiB. */
int ga_tile_extra_supported(const ga_tile_interval_call *call);
/* 1 when a causal call's tiles may take their super tiles from a work counter (GRAPHATTN_DYN, the
 * Hopper kernels, the head dim they run at): the call's workspace then holds GA_TILE_SCHED_BYTES
 * for it (ga_tile_interval_call sched) */
int ga_tile_sched_wanted(const ga_tile_interval_call *call);
/* 1 when a bigbird component runs as tiles with this call (the Hopper kernel takes it, the block
 * size is a multiple of 64, at most GA_TILE_BIGBIRD_MAX_EXTRA global + random key tiles per query
 * tile, and its global query rows' workspace stays below 1 GiB). Sets call->nx_rows. */
int ga_tile_bigbird_supported(ga_tile_interval_call *call);
#define GA_TILE_BIGBIRD_MAX_EXTRA 256
/* Device workspace the listed tokens (or bigbird's global query rows) need (0: none). */
size_t ga_tile_extra_bytes(const ga_tile_interval_call *call);
/* Launch (asynchronously on call->stream). On error writes a message into err. */
ga_status ga_tile_interval_run(const ga_tile_interval_call *call, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
#endif
