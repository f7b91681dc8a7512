/* test_cuda_scale.c -- overflow and scale on the GPU (issue 7): launch limits (huge batch x heads
 * at tiny N, more than 65535 heads, tile grids past 65535 x 1024 blocks, > 2^31 query rows,
 * ga_merge_states over > 2^31 rows), tensors past 2^32 elements, and graphs past 2^32 edges
 * (implicit dense and causal, and an explicit int32 CSR of 4.3e9 edges).
 *
 * Every case runs through the public API with GA_BACKEND_CUDA and is checked against fp64 on
 * sampled rows, always including the first and the last rows, batches and heads (and the rows
 * where a 32-bit index would wrap), printing the failing values:
 *
 *  - inputs are a pure function of (tensor seed, element offset): approximately unit-normal values
 *    (Irwin-Hall sum of four 16-bit uniforms scaled to variance 1, |x| < 3.47) rounded to the
 *    dtype, generated chunk by chunk (OpenMP) straight into device memory. The reference
 *    recomputes whatever element it needs, so no host copy of a big tensor is kept;
 *  - the reference row: the row's keys from ga_graph_row, scores and softmax in double;
 *  - tolerances as in tests/test_cuda.c: |out - ref| <= 1e-4 (f32), 1e-2 (f16, bf16); lse within
 *    1e-5 relative; a row without edges must give out = 0 and lse = -inf; out and lse are filled
 *    with 0xff bytes (NaN) before every call, so an element left unwritten fails.
 *
 * The tile cases run three ways: the default schedule (the Hopper wgmma kernel where the device
 * runs it), GRAPHATTN_NO_WGMMA=1 (mma.sync tiles) and GRAPHATTN_NO_TILES=1 (the edge engine alone);
 * the variable is set around the call and the caller's environment restored after.
 *
 * Every test skips ("SKIP name: ...") without a CUDA device, and when the device (cudaMemGetInfo)
 * or the host (MemAvailable, cgroup limit) lacks the memory it needs. They take a file lock
 * ($TMPDIR/graphattn-cuda-scale.lock) so that under `ctest -j` only one of them holds its tens of
 * GiB at a time. Sizes, memory and expected times: docs/reliability.md, section GPU. */
#define _GNU_SOURCE /* flock, setenv, strdup */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "common/half.h"
#include "test.h"

#ifdef _OPENMP
#define OMP_FOR _Pragma("omp parallel for schedule(static)")
#define OMP_FOR_DYNAMIC _Pragma("omp parallel for schedule(dynamic, 1)")
#else
#define OMP_FOR
#define OMP_FOR_DYNAMIC
#endif

#define GIB ((double)(1ll << 30))

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- one scale test at a time, memory --------------------------------------------------------- */

static int lock_fd = -1;
static double test_t0;
static void *chunk_buf; /* host staging buffer of the uploads, freed after each test */

static void scale_lock(void) {
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/graphattn-cuda-scale.lock", dir && *dir ? dir : "/tmp");
    lock_fd = open(path, O_RDWR | O_CREAT, 0666);
    if (lock_fd < 0) return; /* no lock file: run unserialized */
    if (flock(lock_fd, LOCK_EX | LOCK_NB) == 0) return;
    fprintf(stderr, "  waiting for another cuda_scale test (lock %s)\n", path);
    const double t0 = now_s();
    while (flock(lock_fd, LOCK_EX) != 0 && errno == EINTR) {
    }
    fprintf(stderr, "  waited %.1f s for the lock\n", now_s() - t0);
}

static void scale_unlock(void) {
    if (lock_fd >= 0) {
        flock(lock_fd, LOCK_UN);
        close(lock_fd);
        lock_fd = -1;
    }
}

/* Runs a test body: skips without a GPU, holds the lock, reports the time the body took. */
static void scale_run(void (*body)(void)) {
    if (ga_cuda_device_count() == 0) {
        ga_test_skip("no CUDA device");
        return;
    }
    scale_lock();
    char name[256];
    if (ga_cuda_device_name(0, name, sizeof name) == GA_OK) fprintf(stderr, "  device 0: %s\n", name);
    test_t0 = now_s();
    body();
    fprintf(stderr, "  test body: %.1f s\n", now_s() - test_t0);
    free(chunk_buf);
    chunk_buf = NULL;
    scale_unlock();
}

/* Host memory the process may still take: MemAvailable, bounded by a cgroup v2/v1 limit. */
static int64_t host_available_bytes(void) {
    int64_t avail = -1;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) avail = (int64_t)kb * 1024;
        fclose(f);
    }
    if (avail < 0) {
        long pages = sysconf(_SC_AVPHYS_PAGES), ps = sysconf(_SC_PAGESIZE);
        if (pages > 0 && ps > 0) avail = (int64_t)pages * ps;
    }
    static const char *limits[][2] = {{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
                                      {"/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                       "/sys/fs/cgroup/memory/memory.usage_in_bytes"}};
    for (int c = 0; c < 2; c++) {
        long long lim = -1, used = -1;
        FILE *a = fopen(limits[c][0], "r"), *b = fopen(limits[c][1], "r");
        if (a && fscanf(a, "%lld", &lim) != 1) lim = -1; /* "max": no limit */
        if (b && fscanf(b, "%lld", &used) != 1) used = -1;
        if (a) fclose(a);
        if (b) fclose(b);
        if (lim > 0 && used >= 0 && lim < ((long long)1 << 60)) {
            int64_t left = lim > used ? (int64_t)(lim - used) : 0;
            if (avail < 0 || left < avail) avail = left;
            break;
        }
    }
    return avail;
}

/* Returns 1 (and marks the test skipped) when the device or the host lacks what a test needs;
 * a margin is kept for the library's own allocations (graph copies, plans, workspace). */
static int skip_unless_memory(int64_t device_bytes, int64_t host_bytes) {
    const int64_t dev_margin = (int64_t)1 << 30, host_margin = (int64_t)2 << 30;
    size_t free_b = 0, total_b = 0;
    char why[512];
    ga_status s = ga_cuda_testing_mem_info(&free_b, &total_b);
    if (s != GA_OK) {
        snprintf(why, sizeof why, "cannot query device memory: %s", ga_last_error_detail());
        ga_test_skip(why);
        return 1;
    }
    const int64_t host = host_available_bytes();
    fprintf(stderr, "  memory: needs %.1f GiB on the device (%.1f GiB free of %.1f), %.1f GiB on the host (%.1f GiB available)\n",
            (double)device_bytes / GIB, (double)free_b / GIB, (double)total_b / GIB, (double)host_bytes / GIB,
            (double)host / GIB);
    if (device_bytes + dev_margin > (int64_t)free_b) {
        snprintf(why, sizeof why, "needs %.1f GiB of device memory (+%.0f GiB margin), %.1f GiB free",
                 (double)device_bytes / GIB, (double)dev_margin / GIB, (double)free_b / GIB);
        ga_test_skip(why);
        return 1;
    }
    if (host >= 0 && host_bytes + host_margin > host) {
        snprintf(why, sizeof why, "needs %.1f GiB of host memory (+%.0f GiB margin), %.1f GiB available",
                 (double)host_bytes / GIB, (double)host_margin / GIB, (double)host / GIB);
        ga_test_skip(why);
        return 1;
    }
    return 0;
}

/* A setup step (test allocation, upload, graph): out of memory skips the test (another process
 * may have taken what cudaMemGetInfo reported free), any other error fails it. */
static int setup_failed(const char *what, ga_status s) {
    if (s == GA_OK) return 0;
    if (s == GA_ERR_OUT_OF_MEMORY) {
        char why[768];
        snprintf(why, sizeof why, "%s: out of memory (%s)", what, ga_last_error_detail());
        ga_test_skip(why);
    } else {
        ga_test_fail(__FILE__, __LINE__, "%s: %s (%s)", what, ga_status_string(s), ga_last_error_detail());
    }
    return 1;
}
#define SETUP(expr)                                                                                \
    do {                                                                                           \
        if (setup_failed(#expr, (expr))) goto done;                                                \
    } while (0)

/* ---- values ------------------------------------------------------------------------------------ */

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline uint64_t hash_at(uint64_t seed, int64_t idx) { return mix64(seed + (uint64_t)idx * 0x9E3779B97F4A7C15ull); }

/* Element idx of the tensor with this seed, before rounding: the sum of four 16-bit uniforms
 * (x + 0.5) / 65536, centred and scaled to variance 1. Integer arithmetic until one rounding. */
static inline float gen_unit(uint64_t seed, int64_t idx) {
    const uint64_t h = hash_at(seed, idx);
    const uint32_t s = (uint32_t)(h & 0xffff) + (uint32_t)((h >> 16) & 0xffff) + (uint32_t)((h >> 32) & 0xffff) +
                       (uint32_t)(h >> 48);
    return ((float)s + 2.0f - 131072.0f) * (1.7320508f / 65536.0f);
}

static inline float round_to(ga_dtype dt, float x) {
    if (dt == GA_BF16) return ga_bf16_to_f32(ga_f32_to_bf16(x));
    if (dt == GA_F16) return ga_f16_to_f32(ga_f32_to_f16(x));
    return x;
}
static inline float gen_value(ga_dtype dt, uint64_t seed, int64_t idx) { return round_to(dt, gen_unit(seed, idx)); }

/* A prior state's lse for the merge test: -inf for about one row in `empty_mod`, else a multiple
 * of 2^-20 in [-8, 8) (exact in float32, so no rounding can differ between fill and check). */
static inline float gen_lse(uint64_t seed, int64_t row, uint64_t empty_mod) {
    const uint64_t h = hash_at(seed, row);
    if (h % empty_mod == 0) return -INFINITY;
    return (float)((int32_t)((h >> 40) & 0xffffff) - (1 << 23)) * (1.0f / 1048576.0f);
}

static float load_elem(ga_dtype dt, const void *base, int64_t a) {
    if (dt == GA_F32) return ((const float *)base)[a];
    if (dt == GA_BF16) return ga_bf16_to_f32(((const uint16_t *)base)[a]);
    return ga_f16_to_f32(((const uint16_t *)base)[a]);
}

/* ---- device buffers ------------------------------------------------------------------------- */

typedef struct dbuf {
    void *dev;
    int64_t elems;
    ga_dtype dt;
} dbuf;

#define CHUNK_ELEMS ((int64_t)1 << 26) /* elements generated and uploaded per step */

static size_t dbuf_bytes(const dbuf *x) { return (size_t)x->elems * ga_dtype_size(x->dt); }

static ga_status dbuf_alloc(dbuf *x, ga_dtype dt, int64_t elems) {
    x->dt = dt;
    x->elems = elems;
    x->dev = NULL;
    return ga_cuda_testing_malloc(&x->dev, dbuf_bytes(x));
}
static void dbuf_free(dbuf *x) {
    ga_cuda_testing_free(x->dev);
    x->dev = NULL;
}
static ga_status dbuf_poison(dbuf *x) { return ga_cuda_testing_memset(x->dev, 0xff, dbuf_bytes(x)); }

enum { FILL_VALUES = 0, FILL_LSE = 1, FILL_STATE = 2 };

/* Fills the buffer: element a gets gen_value(dt, seed, a) (FILL_VALUES); gen_lse(seed, a,
 * empty_mod) (FILL_LSE, float32); or, for the output rows of a state whose lse is
 * gen_lse(lse_seed, row, empty_mod) (FILL_STATE, rows of row_len elements), gen_value where the
 * row's lse is finite and 0 where it is -inf (a row without edges holds out = 0). */
static ga_status dbuf_fill_mode(dbuf *x, uint64_t seed, int mode, uint64_t empty_mod, uint64_t lse_seed,
                                int64_t row_len) {
    const size_t es = ga_dtype_size(x->dt);
    if (!chunk_buf) chunk_buf = malloc((size_t)CHUNK_ELEMS * 4);
    if (!chunk_buf) return GA_ERR_OUT_OF_MEMORY;
    const double t0 = now_s();
    for (int64_t start = 0; start < x->elems; start += CHUNK_ELEMS) {
        const int64_t n = x->elems - start < CHUNK_ELEMS ? x->elems - start : CHUNK_ELEMS;
        const ga_dtype dt = x->dt;
        if (mode == FILL_LSE) {
            float *f = chunk_buf;
            OMP_FOR
            for (int64_t a = 0; a < n; a++) f[a] = gen_lse(seed, start + a, empty_mod);
        } else if (mode == FILL_STATE && dt == GA_BF16) {
            uint16_t *u = chunk_buf;
            OMP_FOR
            for (int64_t a = 0; a < n; a++)
                u[a] = isinf(gen_lse(lse_seed, (start + a) / row_len, empty_mod)) ? 0 : ga_f32_to_bf16(gen_unit(seed, start + a));
        } else if (mode == FILL_STATE) {
            return GA_ERR_INTERNAL; /* only bf16 states are used */
        } else if (dt == GA_F32) {
            float *f = chunk_buf;
            OMP_FOR
            for (int64_t a = 0; a < n; a++) f[a] = gen_unit(seed, start + a);
        } else if (dt == GA_BF16) {
            uint16_t *u = chunk_buf;
            OMP_FOR
            for (int64_t a = 0; a < n; a++) u[a] = ga_f32_to_bf16(gen_unit(seed, start + a));
        } else {
            uint16_t *u = chunk_buf;
            OMP_FOR
            for (int64_t a = 0; a < n; a++) u[a] = ga_f32_to_f16(gen_unit(seed, start + a));
        }
        ga_status s = ga_cuda_testing_copy((char *)x->dev + (size_t)start * es, chunk_buf, (size_t)n * es);
        if (s != GA_OK) return s;
    }
    if (dbuf_bytes(x) >= ((size_t)1 << 30))
        fprintf(stderr, "  filled %.2f GiB in %.1f s\n", (double)dbuf_bytes(x) / GIB, now_s() - t0);
    return GA_OK;
}
static ga_status dbuf_fill(dbuf *x, uint64_t seed) { return dbuf_fill_mode(x, seed, FILL_VALUES, 1, 0, 1); }

/* A (B, N, H, D) view of the first N tokens of a contiguous (B, Nalloc, H, D) buffer. */
static ga_tensor view(const dbuf *x, int64_t B, int64_t Nalloc, int64_t N, int64_t H, int64_t D) {
    ga_tensor t = ga_tensor_make(x->dev, x->dt, GA_DEVICE_CUDA, B, Nalloc, H, D);
    t.shape[1] = N;
    return t;
}

/* ---- sampled rows ----------------------------------------------------------------------------- */

typedef struct sample {
    int64_t b, i, h;
} sample;

#define MAX_SAMPLES 512

static int add_sample(sample *s, int n, int64_t b, int64_t i, int64_t h, int64_t B, int64_t N, int64_t H) {
    if (n >= MAX_SAMPLES || b < 0 || b >= B || i < 0 || i >= N || h < 0 || h >= H) return n;
    for (int x = 0; x < n; x++)
        if (s[x].b == b && s[x].i == i && s[x].h == h) return n;
    s[n].b = b, s[n].i = i, s[n].h = h;
    return n + 1;
}

/* The rows to check: every combination of the first and last batch and head with rows 0, 1,
 * 63, 64 (the first query tile's edge), N/2, N-2, N-1; the listed extra rows; then `nrandom`
 * seeded random (b, i, h). */
static int make_samples(sample *s, int64_t B, int64_t N, int64_t H, const sample *extra, int nextra, int nrandom,
                        uint64_t seed) {
    int n = 0;
    const int64_t bs[2] = {0, B - 1}, hs[2] = {0, H - 1}, is[7] = {0, 1, 63, 64, N / 2, N - 2, N - 1};
    for (int x = 0; x < 2; x++)
        for (int y = 0; y < 2; y++)
            for (int z = 0; z < 7; z++) n = add_sample(s, n, bs[x], is[z], hs[y], B, N, H);
    for (int x = 0; x < nextra; x++) n = add_sample(s, n, extra[x].b, extra[x].i, extra[x].h, B, N, H);
    for (int x = 0; x < nrandom; x++) {
        const uint64_t r1 = hash_at(seed, 3 * x), r2 = hash_at(seed, 3 * x + 1), r3 = hash_at(seed, 3 * x + 2);
        n = add_sample(s, n, (int64_t)(r1 % (uint64_t)B), (int64_t)(r2 % (uint64_t)N), (int64_t)(r3 % (uint64_t)H), B,
                       N, H);
    }
    return n;
}

/* ---- one forward call and its check ------------------------------------------------------------ */

enum { PATH_DEFAULT = 0, PATH_MMA_SYNC = 1, PATH_EDGE = 2 };
static const char *path_name[] = {"default schedule", "GRAPHATTN_NO_WGMMA=1 (mma.sync tiles)",
                                  "GRAPHATTN_NO_TILES=1 (edge engine)"};

/* Reference rows of one case, kept so that the same case on another path is not recomputed. */
typedef struct ref_rows {
    int n;
    double *out, *lse;
    int64_t *deg;
} ref_rows;

static void ref_rows_free(ref_rows *r) {
    free(r->out), free(r->lse), free(r->deg);
    memset(r, 0, sizeof *r);
}

typedef struct fwd_case {
    const char *name;
    const ga_graph *graph;
    ga_tensor q, k, v, out, lse; /* device views */
    uint64_t qseed, kseed, vseed;
    dbuf *out_buf, *lse_buf;     /* poisoned before the call */
    int path;                    /* PATH_* */
    const sample *extra;         /* rows to check besides the fixed and random ones */
    int nextra, nrandom;
    uint64_t seed;
    ref_rows *ref;               /* NULL, or a cache shared by the paths of one case */
} fwd_case;

/* fp64 attention of row (b, i, h) from the generated inputs; returns the degree (-1: error). */
static int64_t ref_row(const fwd_case *c, int64_t b, int64_t i, int64_t h, double *out, double *lse) {
    const int64_t nq = c->q.shape[1], nk = c->k.shape[1], H = c->q.shape[2], Hkv = c->k.shape[2], D = c->q.shape[3];
    const ga_dtype dt = c->q.dtype;
    int64_t deg = 0;
    if (ga_graph_row(c->graph, nq, nk, i, NULL, 0, &deg) != GA_OK) return -1;
    int64_t *keys = malloc((size_t)(deg > 0 ? deg : 1) * sizeof *keys);
    double *s = malloc((size_t)(deg > 0 ? deg : 1) * sizeof *s), *qv = malloc((size_t)D * sizeof *qv);
    if (!keys || !s || !qv || ga_graph_row(c->graph, nq, nk, i, keys, deg, &deg) != GA_OK) {
        free(keys), free(s), free(qv);
        return -1;
    }
    const int64_t hk = h / (H / Hkv);
    const double scale = 1.0 / sqrt((double)D);
    const int64_t qo = b * c->q.stride[0] + i * c->q.stride[1] + h * c->q.stride[2];
    for (int64_t d = 0; d < D; d++) qv[d] = gen_value(dt, c->qseed, qo + d);
    double m = -INFINITY;
    for (int64_t e = 0; e < deg; e++) {
        const int64_t ko = b * c->k.stride[0] + keys[e] * c->k.stride[1] + hk * c->k.stride[2];
        double dot = 0;
        for (int64_t d = 0; d < D; d++) dot += qv[d] * (double)gen_value(dt, c->kseed, ko + d);
        s[e] = dot * scale;
        if (s[e] > m) m = s[e];
    }
    for (int64_t d = 0; d < D; d++) out[d] = 0;
    if (deg == 0) {
        *lse = -INFINITY;
    } else {
        double L = 0;
        for (int64_t e = 0; e < deg; e++) L += (s[e] = exp(s[e] - m));
        for (int64_t e = 0; e < deg; e++) {
            const int64_t vo = b * c->v.stride[0] + keys[e] * c->v.stride[1] + hk * c->v.stride[2];
            const double w = s[e] / L;
            for (int64_t d = 0; d < D; d++) out[d] += w * (double)gen_value(dt, c->vseed, vo + d);
        }
        *lse = m + log(L);
    }
    free(keys), free(s), free(qv);
    return deg;
}

/* Sets or clears an environment variable for one call; returns the saved value to restore. */
typedef struct env_save {
    const char *name;
    char *value; /* NULL: was unset */
    int changed;
} env_save;
static void env_set(env_save *e, const char *name, int on) {
    const char *prev = getenv(name);
    e->name = name;
    e->value = prev ? strdup(prev) : NULL;
    e->changed = 1;
    if (on) setenv(name, "1", 1);
    else unsetenv(name);
}
static void env_restore(env_save *e) {
    if (!e->changed) return;
    if (e->value) setenv(e->name, e->value, 1);
    else unsetenv(e->name);
    free(e->value);
    memset(e, 0, sizeof *e);
}

/* Runs the case: poison, call, synchronize, then download the sampled rows and compare them with
 * fp64. Returns the number of mismatches (failures are recorded as they are found). */
static int run_fwd(fwd_case *c) {
    const int64_t B = c->q.shape[0], nq = c->q.shape[1], H = c->q.shape[2], D = c->q.shape[3];
    const ga_dtype dt = c->q.dtype;
    const size_t es = ga_dtype_size(dt);
    const double tol = dt == GA_F32 ? 1e-4 : 1e-2;
    char label[320];
    snprintf(label, sizeof label, "%s [%s]", c->name, path_name[c->path]);
    if (c->path == PATH_MMA_SYNC && !ga_cuda_testing_wgmma_available())
        fprintf(stderr, "  note: this device/build has no wgmma kernel: the default schedule is mma.sync too\n");
    if (c->path == PATH_DEFAULT && (getenv("GRAPHATTN_NO_TILES") || getenv("GRAPHATTN_NO_WGMMA")))
        fprintf(stderr, "  note: GRAPHATTN_NO_TILES/GRAPHATTN_NO_WGMMA set in the environment: the default schedule follows it\n");

    ga_status s = dbuf_poison(c->out_buf);
    if (s == GA_OK && c->lse_buf) s = dbuf_poison(c->lse_buf);
    if (s != GA_OK) {
        ga_test_fail(__FILE__, __LINE__, "%s: poisoning the outputs: %s", label, ga_last_error_detail());
        return 1;
    }
    env_save e1 = {0}, e2 = {0};
    if (c->path == PATH_MMA_SYNC) env_set(&e1, "GRAPHATTN_NO_WGMMA", 1);
    if (c->path == PATH_EDGE) env_set(&e2, "GRAPHATTN_NO_TILES", 1);
    ga_options opt;
    ga_options_init(&opt);
    opt.backend = GA_BACKEND_CUDA;
    const double t0 = now_s();
    s = ga_attention_forward(c->graph, &c->q, &c->k, &c->v, &c->out, c->lse_buf ? &c->lse : NULL, &opt, NULL, 0);
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", ga_last_error_detail());
    if (s == GA_OK) {
        s = ga_cuda_testing_sync();
        snprintf(detail, sizeof detail, "after the call: %s", ga_last_error_detail());
    }
    const double t_call = now_s() - t0;
    env_restore(&e1);
    env_restore(&e2);
    if (s != GA_OK) {
        ga_test_fail(__FILE__, __LINE__, "%s: ga_attention_forward: %s (%s)", label, ga_status_string(s), detail);
        return 1;
    }

    sample *sm = malloc(MAX_SAMPLES * sizeof *sm);
    const int ns = make_samples(sm, B, nq, H, c->extra, c->nextra, c->nrandom, c->seed);
    float *got = malloc((size_t)ns * (size_t)D * sizeof *got), *got_l = malloc((size_t)ns * sizeof *got_l);
    void *raw = malloc((size_t)D * es);
    ref_rows local = {0, NULL, NULL, NULL}, *ref = c->ref ? c->ref : &local;
    int bad = 0;
    if (!sm || !got || !got_l || !raw) {
        ga_test_fail(__FILE__, __LINE__, "%s: out of host memory", label);
        bad = 1;
        goto out;
    }
    for (int x = 0; x < ns; x++) {
        const int64_t oo = sm[x].b * c->out.stride[0] + sm[x].i * c->out.stride[1] + sm[x].h * c->out.stride[2];
        s = ga_cuda_testing_copy(raw, (const char *)c->out.data + (size_t)oo * es, (size_t)D * es);
        if (s == GA_OK && c->lse_buf) {
            const int64_t lo = sm[x].b * c->lse.stride[0] + sm[x].i * c->lse.stride[1] + sm[x].h * c->lse.stride[2];
            s = ga_cuda_testing_copy(&got_l[x], (const float *)c->lse.data + lo, sizeof(float));
        }
        if (s != GA_OK) {
            ga_test_fail(__FILE__, __LINE__, "%s: downloading row (%lld, %lld, %lld): %s", label, (long long)sm[x].b,
                         (long long)sm[x].i, (long long)sm[x].h, ga_last_error_detail());
            bad = 1;
            goto out;
        }
        for (int64_t d = 0; d < D; d++) got[(int64_t)x * D + d] = load_elem(dt, raw, d);
    }
    if (ref->n != ns) { /* compute the reference rows (once per case) */
        ref_rows_free(ref);
        ref->out = malloc((size_t)ns * (size_t)D * sizeof *ref->out);
        ref->lse = malloc((size_t)ns * sizeof *ref->lse);
        ref->deg = malloc((size_t)ns * sizeof *ref->deg);
        if (!ref->out || !ref->lse || !ref->deg) {
            ga_test_fail(__FILE__, __LINE__, "%s: out of host memory", label);
            ref_rows_free(ref);
            bad = 1;
            goto out;
        }
        const double tr = now_s();
        OMP_FOR_DYNAMIC
        for (int x = 0; x < ns; x++)
            ref->deg[x] = ref_row(c, sm[x].b, sm[x].i, sm[x].h, ref->out + (int64_t)x * D, &ref->lse[x]);
        ref->n = ns;
        fprintf(stderr, "  fp64 reference of %d rows: %.1f s\n", ns, now_s() - tr);
    }
    double worst = 0, worst_l = 0;
    int64_t maxdeg = 0;
    for (int x = 0; x < ns; x++) {
        const int64_t b = sm[x].b, i = sm[x].i, h = sm[x].h, deg = ref->deg[x];
        if (deg < 0) {
            ga_test_fail(__FILE__, __LINE__, "%s: ga_graph_row(%lld) failed", label, (long long)i);
            bad++;
            continue;
        }
        if (deg > maxdeg) maxdeg = deg;
        const double rl = ref->lse[x];
        if (c->lse_buf) {
            const float gl = got_l[x];
            const double el = isinf(rl) ? 0 : fabs(gl - rl) / fmax(1.0, fabs(rl));
            const int ok = isinf(rl) ? (isinf(gl) && gl < 0) : (isfinite(gl) && el <= 1e-5);
            if (isfinite(el) && el > worst_l) worst_l = el;
            if (!ok && bad++ < 8)
                ga_test_fail(__FILE__, __LINE__, "%s: lse[b=%lld, i=%lld, h=%lld] = %.9g, reference %.9g (degree %lld)",
                             label, (long long)b, (long long)i, (long long)h, gl, rl, (long long)deg);
        }
        for (int64_t d = 0; d < D; d++) {
            const float g = got[(int64_t)x * D + d];
            const double want = ref->out[(int64_t)x * D + d], err = fabs((double)g - want);
            const int ok = deg == 0 ? g == 0.0f : (isfinite(g) && err <= tol);
            if (isfinite(err) && err > worst) worst = err;
            if (!ok && bad++ < 8)
                ga_test_fail(__FILE__, __LINE__,
                             "%s: out[b=%lld, i=%lld, h=%lld, d=%lld] = %.9g, reference %.9g (tol %g, degree %lld%s)",
                             label, (long long)b, (long long)i, (long long)h, (long long)d, g, want, tol, (long long)deg,
                             deg == 0 ? ": no edges, must be 0" : "");
        }
    }
    fprintf(stderr, "  %-64s %9.1f ms  %3d rows checked (max degree %lld): max |err| %.2e (tol %g)%s", label,
            1e3 * t_call, ns, (long long)maxdeg, worst, tol, c->lse_buf ? "" : "\n");
    if (c->lse_buf) fprintf(stderr, ", lse %.2e\n", worst_l);
    if (bad > 8) fprintf(stderr, "  %s: %d mismatches in all\n", label, bad);
out:
    if (ref == &local) ref_rows_free(&local);
    free(sm), free(got), free(got_l), free(raw);
    return bad;
}

/* The inputs, output and lse of a family of cases: (B, Nq, H, D) q/out, (B, Nk, Hkv, D) k/v, with
 * views narrowed to each case's nq, nk. */
typedef struct problem {
    int64_t B, Nq, Nk, H, Hkv, D;
    ga_dtype dt;
    dbuf q, k, v, out, lse;
    uint64_t qseed, kseed, vseed;
} problem;


/* p := an unallocated problem of these sizes; q, k and v are filled from seeds seed, seed + 1,
 * seed + 2. */
static void problem_init(problem *p, int64_t B, int64_t Nq, int64_t Nk, int64_t H, int64_t Hkv, int64_t D, ga_dtype dt,
                         uint64_t seed) {
    memset(p, 0, sizeof *p);
    p->B = B, p->Nq = Nq, p->Nk = Nk, p->H = H, p->Hkv = Hkv, p->D = D, p->dt = dt;
    p->qseed = seed, p->kseed = seed + 1, p->vseed = seed + 2;
}

/* What problem_alloc takes on the device: q, out, k, v and the float32 lse. */
static int64_t problem_bytes(const problem *p) {
    const int64_t es = (int64_t)ga_dtype_size(p->dt);
    return 2 * p->B * p->Nq * p->H * p->D * es + 2 * p->B * p->Nk * p->Hkv * p->D * es + p->B * p->Nq * p->H * 4;
}

static ga_status problem_alloc(problem *p) {
    ga_status s = dbuf_alloc(&p->q, p->dt, p->B * p->Nq * p->H * p->D);
    if (s == GA_OK) s = dbuf_alloc(&p->k, p->dt, p->B * p->Nk * p->Hkv * p->D);
    if (s == GA_OK) s = dbuf_alloc(&p->v, p->dt, p->B * p->Nk * p->Hkv * p->D);
    if (s == GA_OK) s = dbuf_alloc(&p->out, p->dt, p->B * p->Nq * p->H * p->D);
    if (s == GA_OK) s = dbuf_alloc(&p->lse, GA_F32, p->B * p->Nq * p->H);
    if (s == GA_OK) s = dbuf_fill(&p->q, p->qseed);
    if (s == GA_OK) s = dbuf_fill(&p->k, p->kseed);
    if (s == GA_OK) s = dbuf_fill(&p->v, p->vseed);
    return s;
}

static void problem_free(problem *p) {
    dbuf_free(&p->q), dbuf_free(&p->k), dbuf_free(&p->v), dbuf_free(&p->out), dbuf_free(&p->lse);
}

/* A case over the first nq queries and nk keys of the problem's buffers. */
static fwd_case problem_case(problem *p, const char *name, const ga_graph *g, int64_t nq, int64_t nk, int path) {
    fwd_case c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.graph = g;
    c.q = view(&p->q, p->B, p->Nq, nq, p->H, p->D);
    c.k = view(&p->k, p->B, p->Nk, nk, p->Hkv, p->D);
    c.v = view(&p->v, p->B, p->Nk, nk, p->Hkv, p->D);
    c.out = view(&p->out, p->B, p->Nq, nq, p->H, p->D);
    c.lse = view(&p->lse, p->B, p->Nq, nq, p->H, 1);
    c.qseed = p->qseed, c.kseed = p->kseed, c.vseed = p->vseed;
    c.out_buf = &p->out;
    c.lse_buf = &p->lse;
    c.path = path;
    c.nrandom = 256;
    c.seed = 0x5eed0000u + (uint64_t)nq * 31 + (uint64_t)nk;
    return c;
}

/* Runs a spec over the problem on the given paths (bit i of `paths`: PATH_i), one reference. */
static void run_spec(problem *p, const char *spec, int64_t nq, int64_t nk, unsigned paths, const sample *extra,
                     int nextra, int nrandom) {
    ga_graph *g = ga_test_parse(spec);
    if (!g) return;
    char name[256];
    snprintf(name, sizeof name, "%s Nq=%lld Nk=%lld B=%lld H=%lld Hkv=%lld D=%lld %s", spec, (long long)nq,
             (long long)nk, (long long)p->B, (long long)p->H, (long long)p->Hkv, (long long)p->D,
             ga_dtype_name(p->dt));
    ref_rows ref = {0, NULL, NULL, NULL};
    for (int path = 0; path < 3; path++) {
        if (!(paths & (1u << path))) continue;
        fwd_case c = problem_case(p, name, g, nq, nk, path);
        c.extra = extra;
        c.nextra = nextra;
        c.nrandom = nrandom;
        c.ref = &ref;
        run_fwd(&c);
    }
    ref_rows_free(&ref);
    ga_graph_destroy(g);
}

#define ALL_PATHS 7u
#define DEFAULT_ONLY (1u << PATH_DEFAULT) /* f32, or a head dim below 32 (here 8 and 16): the edge engine anyway */

/* (batch, head) pairs given as flat indices bh = b * H + h, with the first and last rows. */
static int bh_samples(sample *s, int n, const int64_t *bh, int nbh, int64_t H, int64_t N) {
    for (int x = 0; x < nbh; x++) {
        s[n].b = bh[x] / H, s[n].h = bh[x] % H, s[n].i = 0, n++;
        s[n].b = bh[x] / H, s[n].h = bh[x] % H, s[n].i = N - 1, n++;
    }
    return n;
}

/* ---- 1. launch limits -------------------------------------------------------------------------- */

/* B x H = 2^22 (B = 4096, H = 1024, GQA 4) with 1 to 3 tokens, f32, D = 8: 1.3e7 warps of the
 * edge engine's row kernel, every (batch, head) decomposed from a flat task index. ~1 GiB. */
static void edge_batch_heads_body(void) {
    problem p;
    problem_init(&p, 4096, 3, 3, 1024, 256, 8, GA_F32, 0x1001);
    if (skip_unless_memory(problem_bytes(&p), 1ll << 30)) return;
    SETUP(problem_alloc(&p));
    static const struct { int64_t nq, nk; const char *spec; } cases[] = {
        {1, 1, "dense"}, {2, 3, "causal"}, {3, 3, "window:1,0"}, {3, 3, "random:2,5"}, {3, 2, "dense+global:0"}};
    const int64_t bh[] = {(int64_t)1 << 21, ((int64_t)1 << 22) - 2};
    for (size_t x = 0; x < sizeof cases / sizeof *cases; x++) {
        sample extra[8];
        const int nextra = bh_samples(extra, 0, bh, 2, p.H, cases[x].nq);
        run_spec(&p, cases[x].spec, cases[x].nq, cases[x].nk, DEFAULT_ONLY, extra, nextra, 256);
    }
done:
    problem_free(&p);
}

/* More than 2^31 query rows in one call: B = 1024, N = 2, H = 1,048,584 (> 65535), Hkv = 1, bf16,
 * D = 8: B*N*H = 2,147,500,032 rows, so the row kernel's task index passes 2^31 and q/out hold
 * 1.7e10 elements. ~72 GiB on the device (q, out 32 GiB each, lse 8 GiB). */
static void edge_rows_past_2_31_body(void) {
    problem p;
    problem_init(&p, 1024, 2, 2, 1048584, 1, 8, GA_BF16, 0x2001);
    if (skip_unless_memory(problem_bytes(&p), 1ll << 30)) return;
    SETUP(problem_alloc(&p));
    {
        /* tasks bh * N + i around 2^31, and row offsets around 2^31 / 2^32 elements */
        const int64_t bh[] = {((int64_t)1 << 30) - 1, (int64_t)1 << 30, ((int64_t)1 << 28) - 1, (int64_t)1 << 28,
                              p.B * p.H - 1};
        sample extra[16];
        const int nextra = bh_samples(extra, 0, bh, 5, p.H, p.Nq);
        run_spec(&p, "causal", 2, 2, DEFAULT_ONLY, extra, nextra, 256);
    }
done:
    problem_free(&p);
}

/* The tile kernels over B x H = 2^21 (B = 1024, H = 2048, GQA 8), bf16, D = 64, N from 64 to 130
 * (1 to 3 query tiles): up to 6.3e6 CTAs, every (batch, head) decomposed from a flat block index,
 * and q/out of 1.7e10 elements (offsets past 2^34). Each case on wgmma, mma.sync and the edge
 * engine. ~74 GiB on the device. */
static void tiles_batch_heads_body(void) {
    problem p;
    problem_init(&p, 1024, 130, 130, 2048, 256, 64, GA_BF16, 0x3001);
    if (skip_unless_memory(problem_bytes(&p), 1ll << 30)) return;
    SETUP(problem_alloc(&p));
    static const struct { int64_t nq, nk; const char *spec; } cases[] = {
        {64, 64, "window:32,0"}, {65, 65, "causal"}, {130, 130, "window:64"}, {130, 97, "dense"}, {127, 130, "blocks:50"}};
    const int64_t bh[] = {p.B * p.H / 2, p.B * p.H - 2};
    for (size_t x = 0; x < sizeof cases / sizeof *cases; x++) {
        sample extra[8];
        const int nextra = bh_samples(extra, 0, bh, 2, p.H, cases[x].nq);
        run_spec(&p, cases[x].spec, cases[x].nq, cases[x].nk, ALL_PATHS, extra, nextra, 200);
    }
done:
    problem_free(&p);
}

/* A tile grid past 65535 x 1024 blocks (the x limit the tile launch uses, so grid.y = 2):
 * B = 1024, H = 65600 (> 65535), Hkv = 1025, one query, up to 40 keys, bf16, D = 64:
 * 67,174,400 CTAs. Checked at the blocks on both sides of the grid-row boundary and the last.
 * ~27 GiB on the device. */
static void tiles_grid_y_body(void) {
    problem p;
    problem_init(&p, 1024, 1, 40, 65600, 1025, 64, GA_BF16, 0x4001);
    if (skip_unless_memory(problem_bytes(&p), 1ll << 30)) return;
    SETUP(problem_alloc(&p));
    {
        const int64_t gx = 65535ll * 1024;
        const int64_t bh[] = {gx - 1, gx, gx + 1, p.B * p.H - 1, 65535, 65536};
        sample extra[16];
        const int nextra = bh_samples(extra, 0, bh, 6, p.H, 1);
        run_spec(&p, "dense", 1, 40, ALL_PATHS, extra, nextra, 256);
        run_spec(&p, "window:16,0", 1, 40, ALL_PATHS, extra, nextra, 256);
        run_spec(&p, "causal", 1, 1, ALL_PATHS, extra, nextra, 256);
    }
done:
    problem_free(&p);
}

/* H = 70000 > 65535 (a grid.y limit, if heads were ever a grid dimension), B = 1, N = 100, GQA 7:
 * bf16 D = 64 on the three paths, a union (tiles + edge engine merged), and f32 D = 16 on the
 * edge engine. ~2 GiB on the device. */
static void many_heads_body(void) {
    problem p, f;
    problem_init(&p, 1, 100, 100, 70000, 10000, 64, GA_BF16, 0x5001);
    problem_init(&f, 1, 100, 100, 70000, 10000, 16, GA_F32, 0x5011);
    if (skip_unless_memory(problem_bytes(&p) + problem_bytes(&f), 1ll << 30)) return;
    SETUP(problem_alloc(&p));
    {
        const int64_t bh[] = {65534, 65535, 65536, 69999};
        sample extra[16];
        const int nextra = bh_samples(extra, 0, bh, 4, p.H, p.Nq);
        run_spec(&p, "window:20", 100, 100, ALL_PATHS, extra, nextra, 256);
        run_spec(&p, "window:8+random:3,7", 100, 100, ALL_PATHS, extra, nextra, 256);
        run_spec(&p, "causal", 77, 100, ALL_PATHS, extra, nextra, 256);
        SETUP(problem_alloc(&f));
        run_spec(&f, "causal", 100, 100, DEFAULT_ONLY, extra, nextra, 256);
        run_spec(&f, "dilated:3,2+global:0,99", 100, 100, DEFAULT_ONLY, extra, nextra, 256);
    }
done:
    problem_free(&p);
    problem_free(&f);
}

/* ga_merge_states on the device over B * N * H = 2 x (2^20 + 1) x 1024 = 2,147,485,696 rows
 * (> 2^31; the merge kernel's 2^30-block cap is not reached), bf16, D = 2; states with about 1
 * row in 16 (a) and 1 in 11 (b) empty (lse -inf, out 0), so that rows with one or both sides
 * empty are checked too. ~32 GiB on the device. */
static void merge_rows_case(int64_t B, int64_t N, int64_t H, int64_t D) {
    const int64_t rows = B * N * H;
    const uint64_t sa = 0x6001, sb = 0x6002, sla = 0x6003, slb = 0x6004, ea = 16, eb = 11;
    dbuf oa, ob, la, lb;
    memset(&oa, 0, sizeof oa), memset(&ob, 0, sizeof ob), memset(&la, 0, sizeof la), memset(&lb, 0, sizeof lb);
    if (skip_unless_memory(rows * (2 * D * 2 + 2 * 4), 1ll << 30)) return;
    SETUP(dbuf_alloc(&oa, GA_BF16, rows * D));
    SETUP(dbuf_alloc(&ob, GA_BF16, rows * D));
    SETUP(dbuf_alloc(&la, GA_F32, rows));
    SETUP(dbuf_alloc(&lb, GA_F32, rows));
    SETUP(dbuf_fill_mode(&oa, sa, FILL_STATE, ea, sla, D));
    SETUP(dbuf_fill_mode(&ob, sb, FILL_STATE, eb, slb, D));
    SETUP(dbuf_fill_mode(&la, sla, FILL_LSE, ea, 0, 1));
    SETUP(dbuf_fill_mode(&lb, slb, FILL_LSE, eb, 0, 1));
    {
        ga_tensor ta = ga_tensor_make(oa.dev, GA_BF16, GA_DEVICE_CUDA, B, N, H, D);
        ga_tensor tb = ga_tensor_make(ob.dev, GA_BF16, GA_DEVICE_CUDA, B, N, H, D);
        ga_tensor tla = ga_tensor_make(la.dev, GA_F32, GA_DEVICE_CUDA, B, N, H, 1);
        ga_tensor tlb = ga_tensor_make(lb.dev, GA_F32, GA_DEVICE_CUDA, B, N, H, 1);
        ga_options opt;
        ga_options_init(&opt);
        opt.backend = GA_BACKEND_CUDA;
        const double t0 = now_s();
        ga_status s = ga_merge_states(&ta, &tla, &tb, &tlb, &opt);
        if (s == GA_OK) s = ga_cuda_testing_sync();
        const double t_call = now_s() - t0;
        if (s != GA_OK) {
            ga_test_fail(__FILE__, __LINE__, "ga_merge_states over %lld rows: %s (%s)", (long long)rows,
                         ga_status_string(s), ga_last_error_detail());
            goto done;
        }
        /* rows: the ends, around 2^31, batch and head boundaries, rows with an empty side, random */
        int64_t r[400];
        int n = 0;
        const int64_t fixed[] = {0, 1, H - 1, H, N * H - 1, N * H, ((int64_t)1 << 31) - 1, (int64_t)1 << 31,
                                 ((int64_t)1 << 31) + 1, rows / 2, rows - 2, rows - 1};
        for (size_t x = 0; x < sizeof fixed / sizeof *fixed; x++)
            if (fixed[x] < rows) r[n++] = fixed[x];
        int both = 0, only_a = 0, only_b = 0;
        for (int64_t x = rows - 1; x >= 0 && (both < 2 || only_a < 2 || only_b < 2) && n < 40; x--) {
            const int ia = isinf(gen_lse(sla, x, ea)), ib = isinf(gen_lse(slb, x, eb));
            if (ia && ib && both < 2) r[n++] = x, both++;
            else if (ia && !ib && only_a < 2) r[n++] = x, only_a++;
            else if (!ia && ib && only_b < 2) r[n++] = x, only_b++;
        }
        for (int x = 0; x < 300; x++) r[n++] = (int64_t)(hash_at(0x6005, x) % (uint64_t)rows);
        int bad = 0;
        double worst = 0, worst_l = 0;
        for (int x = 0; x < n; x++) {
            uint16_t raw[16];
            float gl = 0;
            s = ga_cuda_testing_copy(raw, (const uint16_t *)oa.dev + r[x] * D, (size_t)D * sizeof *raw);
            if (s == GA_OK) s = ga_cuda_testing_copy(&gl, (const float *)la.dev + r[x], sizeof gl);
            if (s != GA_OK) {
                ga_test_fail(__FILE__, __LINE__, "downloading merged row %lld: %s", (long long)r[x], ga_last_error_detail());
                goto done;
            }
            const double a_l = gen_lse(sla, r[x], ea), b_l = gen_lse(slb, r[x], eb);
            const double M = fmax(a_l, b_l);
            const double wa = isinf(a_l) ? 0 : exp(a_l - M), wb = isinf(b_l) ? 0 : exp(b_l - M), L = wa + wb;
            const double want_l = L > 0 ? M + log(L) : -INFINITY;
            const double el = isinf(want_l) ? 0 : fabs(gl - want_l) / fmax(1.0, fabs(want_l));
            const int okl = isinf(want_l) ? (isinf(gl) && gl < 0) : (isfinite(gl) && el <= 1e-5);
            if (isfinite(el) && el > worst_l) worst_l = el;
            if (!okl && bad++ < 8)
                ga_test_fail(__FILE__, __LINE__, "merged lse[row %lld] = %.9g, reference %.9g (lse_a %g, lse_b %g)",
                             (long long)r[x], gl, want_l, a_l, b_l);
            for (int64_t d = 0; d < D; d++) {
                const double va = isinf(a_l) ? 0 : gen_value(GA_BF16, sa, r[x] * D + d);
                const double vb = isinf(b_l) ? 0 : gen_value(GA_BF16, sb, r[x] * D + d);
                const double want = L > 0 ? (va * wa + vb * wb) / L : 0.0;
                const float g = ga_bf16_to_f32(raw[d]);
                const double err = fabs((double)g - want);
                const int ok = L > 0 ? (isfinite(g) && err <= 1e-2) : g == 0.0f;
                if (isfinite(err) && err > worst) worst = err;
                if (!ok && bad++ < 8)
                    ga_test_fail(__FILE__, __LINE__,
                                 "merged out[row %lld, d=%lld] = %.9g, reference %.9g (a %g @ lse %g, b %g @ lse %g)",
                                 (long long)r[x], (long long)d, g, want, va, a_l, vb, b_l);
            }
        }
        fprintf(stderr, "  ga_merge_states, %lld rows, bf16 D=%lld: %.1f ms, %d rows checked (%d both empty, %d a empty, "
                        "%d b empty): max |err| %.2e (tol 1e-2), lse %.2e\n",
                (long long)rows, (long long)D, 1e3 * t_call, n, both, only_a, only_b, worst, worst_l);
    }
done:
    dbuf_free(&oa), dbuf_free(&ob), dbuf_free(&la), dbuf_free(&lb);
}
static void merge_rows_body(void) { merge_rows_case(2, ((int64_t)1 << 20) + 1, 1024, 2); }

/* ---- 2. tensors past 2^32 elements ------------------------------------------------------------ */

/* B = 1, N = 2^20 + 17, H = Hkv = 64, D = 64, bf16: 4,295,036,928 elements (> 2^32) in each of
 * q, k, v and out; window 128 (257 keys) on the three paths. Rows where the element offset
 * crosses 2^31 and 2^32 are checked, and the last row of the last head. ~33 GiB on the device. */
static void tensor_past_2_32_body(void) {
    problem p;
    const int64_t n = ((int64_t)1 << 20) + 17;
    problem_init(&p, 1, n, n, 64, 64, 64, GA_BF16, 0x7001);
    if (skip_unless_memory(problem_bytes(&p), 1ll << 30)) return;
    SETUP(problem_alloc(&p));
    {
        /* element offset (i * H + h) * D: 2^31 at i = 2^19, 2^32 at i = 2^20 */
        const sample extra[] = {{0, ((int64_t)1 << 19) - 1, 63}, {0, (int64_t)1 << 19, 0}, {0, ((int64_t)1 << 20) - 1, 63},
                                {0, (int64_t)1 << 20, 0},        {0, ((int64_t)1 << 20) + 1, 31}, {0, p.Nq - 1, 63},
                                {0, p.Nq - 129, 63}};
        run_spec(&p, "window:128", p.Nq, p.Nk, ALL_PATHS, extra, (int)(sizeof extra / sizeof *extra), 256);
    }
done:
    problem_free(&p);
}

/* ---- 3. edge counts past 2^32 ------------------------------------------------------------------- */

/* An implicit graph past 2^32 edges: the count is checked, then the default schedule, mma.sync
 * tiles and the edge engine, each against fp64 on sampled rows (each row 1e4..1e5 keys). */
static void implicit_edges_case(const char *spec, int64_t N, ga_dtype dt, int64_t want_edges, uint64_t seed) {
    problem p;
    problem_init(&p, 1, N, N, 1, 1, 64, dt, seed);
    ga_graph *g = ga_test_parse(spec);
    if (!g) return;
    int64_t edges = 0;
    const ga_status st = ga_graph_count_edges(g, N, N, &edges);
    ga_graph_destroy(g);
    if (st != GA_OK) {
        ga_test_fail(__FILE__, __LINE__, "ga_graph_count_edges(%s, %lld): %s (%s)", spec, (long long)N,
                     ga_status_string(st), ga_last_error_detail());
        return;
    }
    fprintf(stderr, "  %s over N = %lld: %lld edges (2^32 = %lld)\n", spec, (long long)N, (long long)edges,
            (long long)((int64_t)1 << 32));
    EXPECT_EQ_I64(edges, want_edges);
    if (skip_unless_memory(problem_bytes(&p), 1ll << 30)) return;
    SETUP(problem_alloc(&p));
    {
        const sample extra[] = {{0, N - 65, 0}, {0, N - 64, 0}, {0, 65535, 0}, {0, 65536, 0}};
        run_spec(&p, spec, N, N, ALL_PATHS, extra, (int)(sizeof extra / sizeof *extra), 96);
    }
done:
    problem_free(&p);
}

/* dense over Nq = Nk = 65537: 4,295,098,369 edges, bf16 (the last query tile holds one row). */
static void dense_edges_body(void) {
    EXPECT_TRUE(65537ll * 65537 > ((int64_t)1 << 32));
    implicit_edges_case("dense", 65537, GA_BF16, 65537ll * 65537, 0x8001);
}
/* causal over N = 92,700: N (N + 1) / 2 = 4,296,691,350 edges, f16. */
static void causal_edges_body(void) {
    EXPECT_TRUE(92700ll * 92701 / 2 > ((int64_t)1 << 32));
    implicit_edges_case("causal", 92700, GA_F16, 92700ll * 92701 / 2, 0x8101);
}

/* An explicit CSR past 2^32 edges with int32 columns: Nq = 65600, Nk = 65603, every row all keys
 * but one (column (7919 i + 13) mod 65600): 4,303,491,200 edges, 16 GiB of columns on the host
 * (twice: the caller's array and the graph's copy) and on the device. The edge engine alone runs
 * it first (CSR offsets past 2^32); then the default schedule: the tile plan (1,050,625 tiles,
 * full or bitmap-masked by the missing key) plus the residual keys 65600..65602 of every row on
 * the edge engine, merged. ~17 GiB on the device, ~34 GiB on the host. */
static void csr_edges_case(int64_t nq, int64_t nk) {
    const int64_t deg = nk - 1, nnz = nq * deg, nfull = nq / 64 * 64; /* the omitted key lies in [0, nfull) */
    int64_t *ptr = NULL;
    int32_t *col = NULL;
    ga_graph *g = NULL;
    problem p;
    problem_init(&p, 1, nq, nk, 1, 1, 64, GA_BF16, 0x9001);
    const int64_t tiles = ((nq + 63) / 64) * ((nk + 63) / 64);
    const int64_t dev_need = nnz * 4 + (nq + 1) * 8 + tiles * (64 * 8 + 16) + problem_bytes(&p);
    const int64_t host_need = 2 * nnz * 4 + (nq + 1) * 8 + tiles * (64 * 8 + 16);
    if (skip_unless_memory(dev_need, host_need)) return;
    {
        const double t0 = now_s();
        ptr = malloc((size_t)(nq + 1) * sizeof *ptr);
        col = malloc((size_t)nnz * sizeof *col);
        if (!ptr || !col) {
            ga_test_skip("out of host memory for the CSR arrays");
            goto done;
        }
        OMP_FOR
        for (int64_t i = 0; i <= nq; i++) ptr[i] = i * deg;
        OMP_FOR
        for (int64_t i = 0; i < nq; i++) {
            const int64_t omit = (i * 7919 + 13) % nfull;
            int32_t *c = col + i * deg;
            int64_t e = 0;
            for (int64_t j = 0; j < nk; j++)
                if (j != omit) c[e++] = (int32_t)j;
        }
        const double t1 = now_s();
        SETUP(ga_graph_create(&g));
        SETUP(ga_graph_add_csr(g, nq, nk, ptr, col, GA_INDEX_INT32));
        fprintf(stderr, "  CSR of %lld edges (int32 columns, %.1f GiB): written in %.1f s, validated and copied by "
                        "ga_graph_add_csr in %.1f s\n",
                (long long)nnz, (double)nnz * 4 / GIB, t1 - t0, now_s() - t1);
        free(col);
        col = NULL;
        int64_t edges = 0;
        SETUP(ga_graph_count_edges(g, nq, nk, &edges));
        EXPECT_EQ_I64(edges, nnz);
    }
    SETUP(problem_alloc(&p));
    {
        /* the rows inside which row_ptr[i] = i * deg crosses 2^31 and 2^32, and the ones after */
        const int64_t r31 = (((int64_t)1 << 31) - 1) / deg, r32 = (((int64_t)1 << 32) - 1) / deg;
        const sample extra[] = {{0, r31, 0}, {0, r31 + 1, 0}, {0, r32, 0}, {0, r32 + 1, 0}, {0, 65535, 0},
                                {0, 65536, 0}, {0, nq - 65, 0}, {0, nq - 64, 0}};
        char name[128];
        snprintf(name, sizeof name, "csr (int32) %lld edges Nq=%lld Nk=%lld bf16 D=64", (long long)nnz, (long long)nq,
                 (long long)nk);
        ref_rows ref = {0, NULL, NULL, NULL};
        static const int order[] = {PATH_EDGE, PATH_DEFAULT};
        for (int x = 0; x < 2; x++) {
            fwd_case c = problem_case(&p, name, g, nq, nk, order[x]);
            c.extra = extra;
            c.nextra = (int)(sizeof extra / sizeof *extra);
            c.nrandom = 96;
            c.ref = &ref;
            const double t0 = now_s();
            run_fwd(&c);
            fprintf(stderr, "  (this path, call incl. %s, and check: %.1f s)\n",
                    order[x] == PATH_DEFAULT ? "the tile plan" : "the graph upload", now_s() - t0);
        }
        ref_rows_free(&ref);
    }
done:
    ga_graph_destroy(g);
    free(ptr);
    free(col);
    problem_free(&p);
}
static void csr_edges_body(void) {
    EXPECT_TRUE(65600ll * 65602 > ((int64_t)1 << 32));
    csr_edges_case(65600, 65603);
}

/* ---- the tests (each skips without a GPU or without the memory it needs) ------------------------- */

TEST(edge_engine_2_22_batch_heads_with_1_to_3_tokens) { scale_run(edge_batch_heads_body); }
TEST(edge_engine_past_2_31_query_rows) { scale_run(edge_rows_past_2_31_body); }
TEST(tiles_2_21_batch_heads_with_64_to_130_tokens) { scale_run(tiles_batch_heads_body); }
TEST(tile_grid_past_65535x1024_blocks_and_65600_heads) { scale_run(tiles_grid_y_body); }
TEST(more_than_65535_heads) { scale_run(many_heads_body); }
TEST(merge_states_past_2_31_rows) { scale_run(merge_rows_body); }
TEST(tensors_past_2_32_elements_window_128) { scale_run(tensor_past_2_32_body); }
TEST(dense_graph_past_2_32_edges) { scale_run(dense_edges_body); }
TEST(causal_graph_past_2_32_edges) { scale_run(causal_edges_body); }
TEST(explicit_int32_csr_past_2_32_edges) { scale_run(csr_edges_body); }
