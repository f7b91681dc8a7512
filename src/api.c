/* api.c -- the public entry points that are not graph functions: version, dtypes, tensors,
 * options, and the attention / merge calls. Everything a caller can get wrong is checked here,
 * before any backend runs, so that a rejected call writes nothing; backends receive a
 * ga_problem (backend.h) whose sizes, strides and pointers are known to be consistent. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend.h"
#include "common/alloc.h"
#include "common/error.h"

#ifndef GA_VERSION_STRING
#define GA_VERSION_STRING "0.1.0"
#endif

int ga_version_number(void) {
    ga_clear_error();
    return GA_VERSION_NUMBER;
}

const char *ga_version_string(void) {
    ga_clear_error();
    return GA_VERSION_STRING;
}

size_t ga_dtype_size(ga_dtype dtype) {
    ga_clear_error();
    switch (dtype) {
    case GA_F32: return 4;
    case GA_F16: return 2;
    case GA_BF16: return 2;
    default: return 0;
    }
}

const char *ga_dtype_name(ga_dtype dtype) {
    ga_clear_error();
    switch (dtype) {
    case GA_F32: return "float32";
    case GA_F16: return "float16";
    case GA_BF16: return "bfloat16";
    default: return NULL;
    }
}

ga_tensor ga_tensor_make(void *data, ga_dtype dtype, ga_device_type device, int64_t B, int64_t N, int64_t H,
                         int64_t D) {
    ga_clear_error();
    ga_tensor t;
    t.data = data;
    t.dtype = dtype;
    t.device = device;
    t.device_index = 0;
    t.shape[0] = B;
    t.shape[1] = N;
    t.shape[2] = H;
    t.shape[3] = D;
    /* A stride product that overflows is saturated: the forward call's extent check then
     * reports GA_ERR_OVERFLOW instead of silently using a wrapped stride. */
    t.stride[3] = 1;
    if (ga_mul_overflow(D, 1, &t.stride[2])) t.stride[2] = INT64_MAX;
    if (t.stride[2] == INT64_MAX || ga_mul_overflow(t.stride[2], H, &t.stride[1])) t.stride[1] = INT64_MAX;
    if (t.stride[1] == INT64_MAX || ga_mul_overflow(t.stride[1], N, &t.stride[0])) t.stride[0] = INT64_MAX;
    return t;
}

void ga_options_init(ga_options *options) {
    ga_clear_error();
    if (!options) return;
    options->scale = 0.0;
    options->flags = 0;
    options->backend = GA_BACKEND_AUTO;
    options->stream = NULL;
    options->num_threads = 0;
}

const char *ga_backends_compiled(void) {
    ga_clear_error();
#ifdef GA_HAVE_CUDA
    return "cpu-reference,cpu,cuda";
#else
    return "cpu-reference,cpu";
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* Validation helpers                                                                          */
/* ------------------------------------------------------------------------------------------ */

typedef struct ga_extent {
    uintptr_t begin, end; /* byte range [begin, end) the tensor's elements can touch */
} ga_extent;

static int ga_dtype_known(ga_dtype d) { return d == GA_F32 || d == GA_F16 || d == GA_BF16; }
/* a dtype in a message: its name, or its number where it is none of ga_dtype's (buf holds it) */
static const char *ga_dtype_label(ga_dtype d, char *buf, size_t n) {
    if (ga_dtype_known(d)) return ga_dtype_name(d);
    snprintf(buf, n, "%d (unknown)", (int)d);
    return buf;
}

/* Sizes >= 1, strides >= 0 with stride[3] == 1, and the element count and byte extent computed
 * without overflow. */
static ga_status ga_check_layout(const char *name, const ga_tensor *t, ga_extent *ext) {
    static const char *const dims = "BNHD";
    for (int d = 0; d < 4; d++)
        GA_FAIL_IF(t->shape[d] < 1, GA_ERR_BAD_SIZE, "%s: shape[%d] (%c) = %lld must be >= 1", name, d, dims[d],
                   (long long)t->shape[d]);
    for (int d = 0; d < 4; d++)
        GA_FAIL_IF(t->stride[d] < 0, GA_ERR_BAD_STRIDE, "%s: stride[%d] = %lld is negative", name, d,
                   (long long)t->stride[d]);
    GA_FAIL_IF(t->stride[3] != 1, GA_ERR_BAD_STRIDE, "%s: stride[3] = %lld, the last dimension must be contiguous (1)",
               name, (long long)t->stride[3]);
    int64_t count = 1, last = 0, term, bytes;
    for (int d = 0; d < 4; d++) /* B * N * H * D bounds every size product the backends form */
        GA_FAIL_IF(ga_mul_overflow(count, t->shape[d], &count), GA_ERR_OVERFLOW,
                   "%s: the element count (shape %lld x %lld x %lld x %lld) overflows int64", name,
                   (long long)t->shape[0], (long long)t->shape[1], (long long)t->shape[2], (long long)t->shape[3]);
    for (int d = 0; d < 4; d++) {
        GA_FAIL_IF(ga_mul_overflow(t->shape[d] - 1, t->stride[d], &term) || ga_add_overflow(last, term, &last),
                   GA_ERR_OVERFLOW, "%s: the largest element offset overflows int64 (shape[%d] = %lld, stride[%d] = %lld)",
                   name, d, (long long)t->shape[d], d, (long long)t->stride[d]);
    }
    size_t es = ga_dtype_size(t->dtype);
    GA_FAIL_IF(ga_add_overflow(last, 1, &bytes) || ga_mul_overflow(bytes, (int64_t)es, &bytes), GA_ERR_OVERFLOW,
               "%s: the byte extent overflows int64 (largest element offset %lld)", name, (long long)last);
    uintptr_t b = (uintptr_t)t->data;
    GA_FAIL_IF((uint64_t)bytes > (uint64_t)(UINTPTR_MAX - b), GA_ERR_OVERFLOW,
               "%s: data pointer + %lld bytes wraps the address space", name, (long long)bytes);
    ext->begin = b;
    ext->end = b + (uintptr_t)bytes;
    return GA_OK;
}

/* The n dimensions in order[] sorted by t's strides, ascending (insertion sort: n <= 4). */
static void ga_sort_by_stride(const ga_tensor *t, int *order, int n) {
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && t->stride[order[b]] < t->stride[order[b - 1]]; b--) {
            int tmp = order[b];
            order[b] = order[b - 1];
            order[b - 1] = tmp;
        }
}

/* An output whose elements overlap each other (e.g. a zero stride over a dimension of size > 1)
 * would be written by several threads at once: reject it. Dimensions of size > 1 sorted by
 * stride must each step over everything the faster dimensions span. */
static ga_status ga_check_no_self_overlap(const char *name, const ga_tensor *t) {
    int order[4], n = 0;
    for (int d = 0; d < 4; d++)
        if (t->shape[d] > 1) order[n++] = d;
    ga_sort_by_stride(t, order, n);
    int64_t span = 1; /* elements spanned by the dimensions so far (bounded by the checked extent) */
    for (int a = 0; a < n; a++) {
        int d = order[a];
        GA_FAIL_IF(t->stride[d] < span, GA_ERR_ALIASING,
                   "%s: elements overlap each other (stride[%d] = %lld over shape[%d] = %lld, inner span %lld)", name, d,
                   (long long)t->stride[d], d, (long long)t->shape[d], (long long)span);
        span = (t->shape[d] - 1) * t->stride[d] + span;
    }
    return GA_OK;
}

static int ga_overlap(ga_extent a, ga_extent b) { return a.begin < b.end && b.begin < a.end; }

__extension__ typedef __int128 ga_i128;

/* Whether some digits e[d] in [lo[d], hi[d]] (d < n, strides s[] descending) make sum e[d] s[d]
 * equal delta; *budget bounds the nodes visited (0 left: answered "yes", the safe side). The
 * lower dimensions reach [rlo, rhi] at most, so the top digit has at most
 * (rhi - rlo) / s[0] + 1 candidates: one or two where each stride passes what the lower ones span
 * (any tensor whose elements do not overlap each other). */
static int ga_digits_reach(ga_i128 delta, int n, const int64_t *s, const int64_t *lo, const int64_t *hi, int *budget) {
    if (--*budget <= 0) return 1;
    if (n == 0) return delta == 0;
    ga_i128 rlo = 0, rhi = 0;
    for (int d = 1; d < n; d++) {
        rlo += (ga_i128)lo[d] * s[d];
        rhi += (ga_i128)hi[d] * s[d];
    }
    /* e in [ceil((delta - rhi) / s0), floor((delta - rlo) / s0)] within [lo0, hi0] */
    const ga_i128 s0 = s[0], a = delta - rhi, b = delta - rlo;
    ga_i128 e0 = a >= 0 ? (a + s0 - 1) / s0 : -((-a) / s0), e1 = b >= 0 ? b / s0 : -((-b + s0 - 1) / s0);
    if (e0 < lo[0]) e0 = lo[0];
    if (e1 > hi[0]) e1 = hi[0];
    for (ga_i128 e = e0; e <= e1; e++)
        if (ga_digits_reach(delta - e * s0, n - 1, s + 1, lo + 1, hi + 1, budget)) return 1;
    return 0;
}

/* Whether tensors a and b (validated: extents without overflow) may share an element. Exact where
 * both have one dtype and one set of strides and their pointers differ by whole elements (the
 * slices of one fused q/k/v projection: out = q next to k and v), else whether their byte ranges
 * meet. Element j of b is element i of a iff delta = sum (i_d - j_d) stride_d. */
static int ga_may_share(const ga_tensor *a, ga_extent ea, const ga_tensor *b, ga_extent eb) {
    if (!ga_overlap(ea, eb)) return 0;
    const int64_t es = (int64_t)ga_dtype_size(a->dtype);
    const ga_i128 bytes = (ga_i128)(intptr_t)((char *)b->data - (char *)a->data);
    if (a->dtype != b->dtype || es == 0 || bytes % es != 0) return 1;
    int order[4], n = 0;
    for (int d = 0; d < 4; d++) {
        if (a->stride[d] != b->stride[d]) return 1;
        if (a->stride[d] > 0 && (a->shape[d] > 1 || b->shape[d] > 1)) order[n++] = d;
    }
    ga_sort_by_stride(a, order, n);
    int64_t st[4], lo[4], hi[4]; /* strides descending */
    for (int i = 0; i < n; i++) {
        const int d = order[n - 1 - i];
        st[i] = a->stride[d];
        lo[i] = -(b->shape[d] - 1);
        hi[i] = a->shape[d] - 1;
    }
    int budget = 4096;
    return ga_digits_reach(bytes / es, n, st, lo, hi, &budget);
}

static int ga_same_view(const ga_tensor *a, const ga_tensor *b) {
    if (a->data != b->data || a->dtype != b->dtype) return 0;
    for (int d = 0; d < 4; d++)
        if (a->stride[d] != b->stride[d] || a->shape[d] != b->shape[d]) return 0;
    return 1;
}

static ga_status ga_check_device_type(const char *name, const ga_tensor *t) {
    GA_FAIL_IF(t->device != GA_DEVICE_CPU && t->device != GA_DEVICE_CUDA, GA_ERR_BAD_PARAMETER,
               "%s: unknown device type %d", name, (int)t->device);
    return GA_OK;
}

static int ga_same_device(const ga_tensor *a, const ga_tensor *b) {
    if (a->device != b->device) return 0;
    return a->device == GA_DEVICE_CPU || a->device_index == b->device_index;
}

static const char *ga_device_word(const ga_tensor *t) { return t->device == GA_DEVICE_CUDA ? "cuda" : "cpu"; }

/* Which backend runs a call on tensors living on `t`'s device, and whether it can. */
static ga_status ga_resolve_backend(ga_backend requested, const ga_tensor *t, ga_backend *resolved) {
    GA_FAIL_IF(requested != GA_BACKEND_AUTO && requested != GA_BACKEND_CPU && requested != GA_BACKEND_CPU_REFERENCE &&
                   requested != GA_BACKEND_CUDA,
               GA_ERR_BAD_PARAMETER, "options: unknown backend %d", (int)requested);
    ga_backend b = requested;
    if (b == GA_BACKEND_AUTO) b = t->device == GA_DEVICE_CUDA ? GA_BACKEND_CUDA : GA_BACKEND_CPU;
    if (b == GA_BACKEND_CUDA) {
#ifndef GA_HAVE_CUDA
        GA_FAIL(GA_ERR_BACKEND_UNAVAILABLE, "the CUDA backend is not compiled into this library (backends: %s)",
                ga_backends_compiled());
#else
        GA_FAIL_IF(ga_cuda_device_count() < 1, GA_ERR_BACKEND_UNAVAILABLE, "the CUDA backend found no usable GPU");
        GA_FAIL_IF(t->device != GA_DEVICE_CUDA, GA_ERR_DEVICE_MISMATCH,
                   "the CUDA backend needs device tensors, but the tensors are host (cpu) memory");
        GA_FAIL_IF(t->device_index < 0 || t->device_index >= ga_cuda_device_count(), GA_ERR_DEVICE_MISMATCH,
                   "tensors are on CUDA device %d, but only %d device(s) exist", t->device_index,
                   ga_cuda_device_count());
#endif
    } else {
        GA_FAIL_IF(t->device != GA_DEVICE_CPU, GA_ERR_DEVICE_MISMATCH,
                   "the %s backend needs host tensors, but the tensors are on CUDA device %d",
                   b == GA_BACKEND_CPU ? "cpu" : "cpu-reference", t->device_index);
    }
    *resolved = b;
    return GA_OK;
}

/* A host tensor whose pointer the CUDA runtime knows as device memory would crash the CPU backends. */
static ga_status ga_check_host_pointer(const char *name, const ga_tensor *t) {
    GA_FAIL_IF(t->device == GA_DEVICE_CPU && ga_cuda_is_device_pointer(t->data), GA_ERR_DEVICE_MISMATCH,
               "%s: marked as cpu but its data pointer is CUDA device memory", name);
    return GA_OK;
}

/* A CUDA tensor's data the device cannot read: host memory it does not reach, or another
 * device's memory (a kernel reading either would fault, and a fault leaves the process's CUDA
 * context unusable). One cudaPointerGetAttributes per tensor. */
static ga_status ga_check_device_pointer(const char *name, const ga_tensor *t) {
    int owner = -1;
    const int r = ga_cuda_pointer_reach(t->data, t->device_index, &owner);
    GA_FAIL_IF(r == GA_REACH_HOST, GA_ERR_DEVICE_MISMATCH,
               "%s: marked as CUDA device %d memory but its data pointer is host memory that the device cannot "
               "read (allocate it with cudaMalloc, or pin it with cudaMallocHost / cudaHostRegister)",
               name, t->device_index);
    GA_FAIL_IF(r == GA_REACH_OTHER_DEVICE, GA_ERR_DEVICE_MISMATCH,
               "%s: marked as CUDA device %d memory but its data pointer is memory of CUDA device %d", name,
               t->device_index, owner);
    return GA_OK;
}

typedef struct ga_call {
    ga_problem p;
    ga_backend backend;
    ga_extent ext[5]; /* the bytes of q, k, v, out, lse ({0, 0}: absent) */
} ga_call;

/* Everything ga_attention_forward and ga_attention_workspace_size check. out/lse may be NULL
 * for the size query (the size does not depend on them). */
/* options.num_threads: 0 (OpenMP's default) to GA_MAX_THREADS, for the forward call and the merge */
static ga_status ga_check_threads(int n) {
    GA_FAIL_IF(n < 0 || n > GA_MAX_THREADS, GA_ERR_BAD_PARAMETER,
               "options: num_threads = %d must be in [0, %d] (0: OpenMP's default)", n, GA_MAX_THREADS);
    return GA_OK;
}

static ga_status ga_validate(const ga_graph *graph, const ga_tensor *q, const ga_tensor *k, const ga_tensor *v,
                             ga_tensor *out, ga_tensor *lse, const ga_options *options, int need_out, ga_call *call) {
    ga_options opt;
    if (options) opt = *options;
    else ga_options_init(&opt);

    /* pointers */
    GA_FAIL_IF(!graph, GA_ERR_NULL_POINTER, "graph is NULL");
    GA_FAIL_IF(!q, GA_ERR_NULL_POINTER, "q is NULL");
    GA_FAIL_IF(!k, GA_ERR_NULL_POINTER, "k is NULL");
    GA_FAIL_IF(!v, GA_ERR_NULL_POINTER, "v is NULL");
    GA_FAIL_IF(need_out && !out, GA_ERR_NULL_POINTER, "out is NULL");
    GA_FAIL_IF(!q->data, GA_ERR_NULL_POINTER, "q: data pointer is NULL");
    GA_FAIL_IF(!k->data, GA_ERR_NULL_POINTER, "k: data pointer is NULL");
    GA_FAIL_IF(!v->data, GA_ERR_NULL_POINTER, "v: data pointer is NULL");
    GA_FAIL_IF(out && !out->data, GA_ERR_NULL_POINTER, "out: data pointer is NULL");
    GA_FAIL_IF(lse && !lse->data, GA_ERR_NULL_POINTER, "lse: data pointer is NULL");
    GA_FAIL_IF(graph->count == 0, GA_ERR_EMPTY_GRAPH, "graph has no components");

    /* dtypes */
    char lb[32];
    GA_FAIL_IF(!ga_dtype_known(q->dtype), GA_ERR_BAD_DTYPE, "q: unknown dtype %d", (int)q->dtype);
    GA_FAIL_IF(k->dtype != q->dtype, GA_ERR_BAD_DTYPE, "k: dtype %s differs from q's %s",
               ga_dtype_label(k->dtype, lb, sizeof lb), ga_dtype_name(q->dtype));
    GA_FAIL_IF(v->dtype != q->dtype, GA_ERR_BAD_DTYPE, "v: dtype %s differs from q's %s",
               ga_dtype_label(v->dtype, lb, sizeof lb), ga_dtype_name(q->dtype));
    GA_FAIL_IF(out && out->dtype != q->dtype, GA_ERR_BAD_DTYPE, "out: dtype %s differs from q's %s",
               ga_dtype_label(out->dtype, lb, sizeof lb), ga_dtype_name(q->dtype));
    GA_FAIL_IF(lse && lse->dtype != GA_F32, GA_ERR_BAD_DTYPE, "lse: dtype %s must be float32",
               ga_dtype_label(lse->dtype, lb, sizeof lb));

    /* sizes, strides, extents */
    ga_extent eq, ek, ev, eo = {0, 0}, el = {0, 0};
    GA_TRY(ga_check_layout("q", q, &eq));
    GA_TRY(ga_check_layout("k", k, &ek));
    GA_TRY(ga_check_layout("v", v, &ev));
    if (out) GA_TRY(ga_check_layout("out", out, &eo));
    if (lse) GA_TRY(ga_check_layout("lse", lse, &el));
    call->ext[0] = eq, call->ext[1] = ek, call->ext[2] = ev, call->ext[3] = eo, call->ext[4] = el;

    /* shapes */
    const int64_t B = q->shape[0], Nq = q->shape[1], H = q->shape[2], D = q->shape[3];
    const int64_t Nk = k->shape[1], Hkv = k->shape[2];
    GA_FAIL_IF(k->shape[0] != B, GA_ERR_SHAPE_MISMATCH, "k: shape[0] (B) = %lld differs from q's B = %lld",
               (long long)k->shape[0], (long long)B);
    GA_FAIL_IF(k->shape[3] != D, GA_ERR_SHAPE_MISMATCH, "k: shape[3] (D) = %lld differs from q's D = %lld",
               (long long)k->shape[3], (long long)D);
    for (int d = 0; d < 4; d++)
        GA_FAIL_IF(v->shape[d] != k->shape[d], GA_ERR_SHAPE_MISMATCH,
                   "v: shape[%d] = %lld differs from k's %lld (v must be (B, Nk, Hkv, D) like k)", d,
                   (long long)v->shape[d], (long long)k->shape[d]);
    GA_FAIL_IF(H % Hkv != 0, GA_ERR_SHAPE_MISMATCH, "k: shape[2] (Hkv) = %lld does not divide q's H = %lld",
               (long long)Hkv, (long long)H);
    if (out)
        for (int d = 0; d < 4; d++)
            GA_FAIL_IF(out->shape[d] != q->shape[d], GA_ERR_SHAPE_MISMATCH,
                       "out: shape[%d] = %lld differs from q's %lld (out must be (B, Nq, H, D))", d,
                       (long long)out->shape[d], (long long)q->shape[d]);
    if (lse) {
        const int64_t want[4] = {B, Nq, H, 1};
        for (int d = 0; d < 4; d++)
            GA_FAIL_IF(lse->shape[d] != want[d], GA_ERR_SHAPE_MISMATCH,
                       "lse: shape[%d] = %lld, want %lld (lse must be (B, Nq, H, 1))", d, (long long)lse->shape[d],
                       (long long)want[d]);
    }

    /* the token limit, before anything about the memory (an output too large to exist overlaps
     * something: the size is the first thing wrong) */
    GA_TRY(ga_check_token_counts(Nq, Nk));

    /* devices */
    GA_TRY(ga_check_device_type("q", q));
    GA_TRY(ga_check_device_type("k", k));
    GA_TRY(ga_check_device_type("v", v));
    if (out) GA_TRY(ga_check_device_type("out", out));
    if (lse) GA_TRY(ga_check_device_type("lse", lse));
    const ga_tensor *all[5] = {k, v, out, lse, NULL};
    const char *names[5] = {"k", "v", "out", "lse", NULL};
    for (int t = 0; t < 4; t++)
        GA_FAIL_IF(all[t] && !ga_same_device(all[t], q), GA_ERR_DEVICE_MISMATCH,
                   "%s is on %s device %d but q is on %s device %d", names[t], ga_device_word(all[t]),
                   all[t]->device_index, ga_device_word(q), q->device_index);
    ga_backend backend;
    GA_TRY(ga_resolve_backend(opt.backend, q, &backend));
    if (backend != GA_BACKEND_CUDA) {
        GA_TRY(ga_check_host_pointer("q", q));
        GA_TRY(ga_check_host_pointer("k", k));
        GA_TRY(ga_check_host_pointer("v", v));
        if (out) GA_TRY(ga_check_host_pointer("out", out));
        if (lse) GA_TRY(ga_check_host_pointer("lse", lse));
    } else {
        GA_TRY(ga_check_device_pointer("q", q));
        GA_TRY(ga_check_device_pointer("k", k));
        GA_TRY(ga_check_device_pointer("v", v));
        if (out) GA_TRY(ga_check_device_pointer("out", out));
        if (lse) GA_TRY(ga_check_device_pointer("lse", lse));
    }

    /* aliasing: outputs must not overlap inputs or each other; out may be exactly q */
    if (out) {
        GA_TRY(ga_check_no_self_overlap("out", out));
        GA_FAIL_IF(ga_may_share(out, eo, k, ek), GA_ERR_ALIASING, "out overlaps k");
        GA_FAIL_IF(ga_may_share(out, eo, v, ev), GA_ERR_ALIASING, "out overlaps v");
        GA_FAIL_IF(ga_may_share(out, eo, q, eq) && !ga_same_view(out, q), GA_ERR_ALIASING,
                   "out overlaps q without being exactly q (same data pointer, dtype and strides)");
    }
    if (lse) {
        GA_TRY(ga_check_no_self_overlap("lse", lse));
        GA_FAIL_IF(ga_overlap(el, eq), GA_ERR_ALIASING, "lse overlaps q");
        GA_FAIL_IF(ga_overlap(el, ek), GA_ERR_ALIASING, "lse overlaps k");
        GA_FAIL_IF(ga_overlap(el, ev), GA_ERR_ALIASING, "lse overlaps v");
        GA_FAIL_IF(out && ga_overlap(el, eo), GA_ERR_ALIASING, "lse overlaps out");
    }

    /* options */
    GA_FAIL_IF(isnan(opt.scale) || isinf(opt.scale) || opt.scale < 0, GA_ERR_BAD_PARAMETER,
               "options: scale = %g must be finite and >= 0 (0 means 1/sqrt(D))", opt.scale);
    /* the fp32 backends hold the scale in a float: past FLT_MAX it would be inf, and every score inf or NaN */
    GA_FAIL_IF(opt.scale > FLT_MAX, GA_ERR_BAD_PARAMETER,
               "options: scale = %g is past the float32 maximum %g (the fast backends hold it in a float32)", opt.scale,
               (double)FLT_MAX);
    GA_FAIL_IF(opt.flags & ~(unsigned)GA_FLAG_ACCUMULATE, GA_ERR_BAD_PARAMETER, "options: unknown flags 0x%x",
               opt.flags & ~(unsigned)GA_FLAG_ACCUMULATE);
    GA_FAIL_IF(need_out && (opt.flags & GA_FLAG_ACCUMULATE) && !lse, GA_ERR_BAD_PARAMETER,
               "options: GA_FLAG_ACCUMULATE needs lse (the prior state is (out, lse))");
    GA_TRY(ga_check_threads(opt.num_threads));

    /* graph against the sizes */
    GA_TRY(ga_graph_check(graph, Nq, Nk));

    ga_problem *p = &call->p;
    p->graph = graph;
    p->q = q;
    p->k = k;
    p->v = v;
    p->out = out;
    p->lse = lse;
    p->B = B;
    p->nq = Nq;
    p->nk = Nk;
    p->H = H;
    p->Hkv = Hkv;
    p->D = D;
    p->scale = opt.scale != 0 ? opt.scale : 1.0 / sqrt((double)D);
    p->flags = opt.flags;
    p->stream = opt.stream;
    p->num_threads = opt.num_threads;
    p->workspace = NULL;
    p->workspace_bytes = 0;
    call->backend = backend;
    return GA_OK;
}

static ga_status ga_backend_workspace(const ga_call *call, size_t *bytes) {
    *bytes = 0;
    switch (call->backend) {
    case GA_BACKEND_CPU: *bytes = ga_cpu_workspace_size(&call->p); return GA_OK;
    case GA_BACKEND_CUDA: return ga_cuda_workspace_size(&call->p, bytes);
    default: return GA_OK; /* the reference needs none */
    }
}

ga_status ga_attention_workspace_size(const ga_graph *graph, const ga_tensor *q, const ga_tensor *k,
                                      const ga_tensor *v, const ga_options *options, size_t *bytes) {
    ga_clear_error();
    GA_FAIL_IF(!bytes, GA_ERR_NULL_POINTER, "bytes is NULL");
    ga_call call;
    GA_TRY(ga_validate(graph, q, k, v, NULL, NULL, options, 0, &call));
    size_t need = 0; /* *bytes only on success: a rejected call writes nothing */
    GA_TRY(ga_backend_workspace(&call, &need));
    *bytes = need;
    return GA_OK;
}

ga_status ga_attention_forward(const ga_graph *graph, const ga_tensor *q, const ga_tensor *k, const ga_tensor *v,
                               ga_tensor *out, ga_tensor *lse, const ga_options *options, void *workspace,
                               size_t workspace_bytes) {
    ga_clear_error();
    ga_call call;
    GA_TRY(ga_validate(graph, q, k, v, out, lse, options, 1, &call));
    /* the cheap check first: the size below may plan the graph on the device */
    GA_FAIL_IF(!workspace && workspace_bytes > 0, GA_ERR_NULL_POINTER,
               "workspace is NULL but workspace_bytes = %zu (pass NULL and 0 to let the library allocate)",
               workspace_bytes);
    size_t need = 0;
    GA_TRY(ga_backend_workspace(&call, &need));
    /* the CPU backend at OpenMP's default team runs in less, with fewer threads (ga_cpu_forward) */
    const size_t least = call.backend == GA_BACKEND_CPU ? ga_cpu_workspace_least(&call.p) : need;
    GA_FAIL_IF(workspace && workspace_bytes < least, GA_ERR_WORKSPACE_TOO_SMALL,
               "workspace has %zu bytes, this call needs %zu (see ga_attention_workspace_size)", workspace_bytes, least);
    if (workspace && need > 0) { /* the bytes the call writes there must not be any tensor's */
        if (workspace_bytes < need) need = workspace_bytes; /* the CPU backend with fewer threads */
        const uintptr_t wb = (uintptr_t)workspace;
        GA_FAIL_IF((uint64_t)need > (uint64_t)(UINTPTR_MAX - wb), GA_ERR_OVERFLOW,
                   "workspace: pointer + %zu bytes wraps the address space", need);
        const ga_extent ew = {wb, wb + (uintptr_t)need};
        static const char *const names[5] = {"q", "k", "v", "out", "lse"};
        for (int t = 0; t < 5; t++)
            GA_FAIL_IF(ga_overlap(ew, call.ext[t]), GA_ERR_ALIASING,
                       "workspace overlaps %s (the %zu bytes of it this call uses)", names[t], need);
        /* the parts of it are read and written in 8- and 16-byte vectors (float2 / float4) */
        GA_FAIL_IF(wb % 16 != 0, GA_ERR_BAD_PARAMETER,
                   "workspace %p is not 16-byte aligned (cudaMalloc, malloc and torch allocations are; an offset "
                   "into one must keep that)", workspace);
        if (call.backend == GA_BACKEND_CUDA) { /* as the tensors: memory the kernels can reach */
            int owner = -1;
            const int r = ga_cuda_pointer_reach(workspace, q->device_index, &owner);
            GA_FAIL_IF(r == GA_REACH_HOST, GA_ERR_DEVICE_MISMATCH,
                       "workspace: host memory that CUDA device %d cannot read (the CUDA backend's workspace is "
                       "device memory)", q->device_index);
            GA_FAIL_IF(r == GA_REACH_OTHER_DEVICE, GA_ERR_DEVICE_MISMATCH,
                       "workspace: memory of CUDA device %d, but the tensors are on device %d", owner, q->device_index);
        }
    }

    void *owned = NULL;
    if (!workspace && need > 0 && call.backend == GA_BACKEND_CPU) {
        owned = ga_malloc(need);
        GA_FAIL_IF(!owned, GA_ERR_OUT_OF_MEMORY, "could not allocate %zu bytes of host workspace", need);
        workspace = owned;
        workspace_bytes = need;
    }
    /* The CUDA backend receives NULL/0 when the caller left the workspace to the library and
     * allocates device memory itself. */
    call.p.workspace = workspace;
    call.p.workspace_bytes = workspace ? workspace_bytes : 0;

    ga_status s;
    switch (call.backend) {
    case GA_BACKEND_CPU_REFERENCE: s = ga_cpu_reference_forward(&call.p); break;
    case GA_BACKEND_CPU: s = ga_cpu_forward(&call.p); break;
    case GA_BACKEND_CUDA: s = ga_cuda_forward(&call.p); break;
    default: s = ga_raise(GA_ERR_INTERNAL, __FILE__, __LINE__, "unresolved backend %d", (int)call.backend); break;
    }
    ga_free(owned);
    return s;
}

ga_status ga_merge_states(ga_tensor *out_a, ga_tensor *lse_a, const ga_tensor *out_b, const ga_tensor *lse_b,
                          const ga_options *options) {
    ga_clear_error();
    ga_options opt;
    if (options) opt = *options;
    else ga_options_init(&opt);
    GA_FAIL_IF(!out_a, GA_ERR_NULL_POINTER, "out_a is NULL");
    GA_FAIL_IF(!lse_a, GA_ERR_NULL_POINTER, "lse_a is NULL");
    GA_FAIL_IF(!out_b, GA_ERR_NULL_POINTER, "out_b is NULL");
    GA_FAIL_IF(!lse_b, GA_ERR_NULL_POINTER, "lse_b is NULL");
    GA_FAIL_IF(!out_a->data, GA_ERR_NULL_POINTER, "out_a: data pointer is NULL");
    GA_FAIL_IF(!lse_a->data, GA_ERR_NULL_POINTER, "lse_a: data pointer is NULL");
    GA_FAIL_IF(!out_b->data, GA_ERR_NULL_POINTER, "out_b: data pointer is NULL");
    GA_FAIL_IF(!lse_b->data, GA_ERR_NULL_POINTER, "lse_b: data pointer is NULL");

    char lb[32];
    GA_FAIL_IF(!ga_dtype_known(out_a->dtype), GA_ERR_BAD_DTYPE, "out_a: unknown dtype %d", (int)out_a->dtype);
    GA_FAIL_IF(out_b->dtype != out_a->dtype, GA_ERR_BAD_DTYPE, "out_b: dtype %s differs from out_a's %s",
               ga_dtype_label(out_b->dtype, lb, sizeof lb), ga_dtype_name(out_a->dtype));
    GA_FAIL_IF(lse_a->dtype != GA_F32, GA_ERR_BAD_DTYPE, "lse_a: dtype %s must be float32",
               ga_dtype_label(lse_a->dtype, lb, sizeof lb));
    GA_FAIL_IF(lse_b->dtype != GA_F32, GA_ERR_BAD_DTYPE, "lse_b: dtype %s must be float32",
               ga_dtype_label(lse_b->dtype, lb, sizeof lb));

    ga_extent eoa, ela, eob, elb;
    GA_TRY(ga_check_layout("out_a", out_a, &eoa));
    GA_TRY(ga_check_layout("lse_a", lse_a, &ela));
    GA_TRY(ga_check_layout("out_b", out_b, &eob));
    GA_TRY(ga_check_layout("lse_b", lse_b, &elb));

    for (int d = 0; d < 4; d++)
        GA_FAIL_IF(out_b->shape[d] != out_a->shape[d], GA_ERR_SHAPE_MISMATCH,
                   "out_b: shape[%d] = %lld differs from out_a's %lld", d, (long long)out_b->shape[d],
                   (long long)out_a->shape[d]);
    const int64_t want[4] = {out_a->shape[0], out_a->shape[1], out_a->shape[2], 1};
    for (int d = 0; d < 4; d++) {
        GA_FAIL_IF(lse_a->shape[d] != want[d], GA_ERR_SHAPE_MISMATCH,
                   "lse_a: shape[%d] = %lld, want %lld (lse must be (B, N, H, 1))", d, (long long)lse_a->shape[d],
                   (long long)want[d]);
        GA_FAIL_IF(lse_b->shape[d] != want[d], GA_ERR_SHAPE_MISMATCH,
                   "lse_b: shape[%d] = %lld, want %lld (lse must be (B, N, H, 1))", d, (long long)lse_b->shape[d],
                   (long long)want[d]);
    }

    GA_TRY(ga_check_device_type("out_a", out_a));
    GA_TRY(ga_check_device_type("lse_a", lse_a));
    GA_TRY(ga_check_device_type("out_b", out_b));
    GA_TRY(ga_check_device_type("lse_b", lse_b));
    GA_FAIL_IF(!ga_same_device(lse_a, out_a), GA_ERR_DEVICE_MISMATCH, "lse_a is on another device than out_a");
    GA_FAIL_IF(!ga_same_device(out_b, out_a), GA_ERR_DEVICE_MISMATCH, "out_b is on another device than out_a");
    GA_FAIL_IF(!ga_same_device(lse_b, out_a), GA_ERR_DEVICE_MISMATCH, "lse_b is on another device than out_a");
    ga_backend backend;
    GA_TRY(ga_resolve_backend(opt.backend, out_a, &backend));
    if (backend != GA_BACKEND_CUDA) {
        GA_TRY(ga_check_host_pointer("out_a", out_a));
        GA_TRY(ga_check_host_pointer("lse_a", lse_a));
        GA_TRY(ga_check_host_pointer("out_b", out_b));
        GA_TRY(ga_check_host_pointer("lse_b", lse_b));
    } else {
        GA_TRY(ga_check_device_pointer("out_a", out_a));
        GA_TRY(ga_check_device_pointer("lse_a", lse_a));
        GA_TRY(ga_check_device_pointer("out_b", out_b));
        GA_TRY(ga_check_device_pointer("lse_b", lse_b));
    }

    GA_TRY(ga_check_no_self_overlap("out_a", out_a));
    GA_TRY(ga_check_no_self_overlap("lse_a", lse_a));
    GA_FAIL_IF(ga_overlap(eoa, ela), GA_ERR_ALIASING, "out_a overlaps lse_a");
    GA_FAIL_IF(ga_overlap(eoa, eob), GA_ERR_ALIASING, "out_a overlaps out_b");
    GA_FAIL_IF(ga_overlap(eoa, elb), GA_ERR_ALIASING, "out_a overlaps lse_b");
    GA_FAIL_IF(ga_overlap(ela, eob), GA_ERR_ALIASING, "lse_a overlaps out_b");
    GA_FAIL_IF(ga_overlap(ela, elb), GA_ERR_ALIASING, "lse_a overlaps lse_b");
    GA_FAIL_IF(opt.flags != 0, GA_ERR_BAD_PARAMETER, "options: flags 0x%x mean nothing to ga_merge_states",
               opt.flags);
    GA_TRY(ga_check_threads(opt.num_threads));

    if (backend == GA_BACKEND_CUDA) return ga_cuda_merge_states(out_a, lse_a, out_b, lse_b, opt.stream);
    return ga_cpu_merge_states(out_a, lse_a, out_b, lse_b, opt.num_threads);
}
