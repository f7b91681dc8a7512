/* cmd_check.c -- `graphattn check`: random inputs, a forward pass, and sampled rows compared with
 * an fp64 computation done here, row by row, from the graph's key lists. The full fp64 reference
 * is never run, so N in the millions is checked in about the time of one forward pass. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char check_help[] =
    "usage: graphattn check --graph SPEC --n N [--nk NK] [--batch B] [--heads H] [--kv-heads HKV]\n"
    "                       [--dim D] [--dtype f32|f16|bf16] [--device auto|cpu|cuda]\n"
    "                       [--backend auto|cpu|reference|cuda] [--rows K] [--seed S] [--scale S]\n"
    "                       [--tol T] [--threads T]\n"
    "\n"
    "Fills Q, K, V with seeded unit-normal values (rounded to --dtype), runs the forward pass with\n"
    "the log-sum-exp, and recomputes K sampled query rows in fp64 here, from the graph's key list of\n"
    "each row (ga_graph_row) and the same rounded inputs. The first and the last rows are always\n"
    "sampled. Outputs are poisoned (NaN) before the run and every output element is scanned for\n"
    "NaN/Inf afterwards, so rows the backend never wrote are caught too.\n"
    "\n"
    "Passes when max |out - ref| and max |lse - ref| over the sampled rows are within the tolerance:\n"
    "1e-4 for f32, 1e-2 for f16 and bf16 (absolute), or --tol. A row without edges must give\n"
    "out = 0 and lse = -inf exactly.\n"
    "\n"
    "Options (defaults in brackets):\n"
    "  --n N            query rows Nq (decimal or 2^K)      --nk NK      keys [N]\n"
    "  --batch B        [1]    --heads H [1]    --kv-heads HKV [H]    --dim D [64]\n"
    "  --dtype T        f32, f16 or bf16 [f32]\n"
    "  --device, --backend   as for run [auto]\n"
    "  --rows K         distinct sampled rows, at least 2; all when K >= N [16]   --seed S [1]\n"
    "  --scale S        softmax scale [1/sqrt(D)]           --tol T      tolerance [by dtype]\n"
    "  --threads T      CPU threads, at most 1024 [OpenMP's default]\n"
    "\n"
    "exit status: 0 pass, 1 above tolerance or an error, 2 bad command line\n"
    "\n"
    "examples:\n"
    "  graphattn check --graph window:256 --n 1048576\n"
    "  graphattn check --graph window:64+global:0,17+random:4,7 --n 5000 --heads 4 --kv-heads 2 \\\n"
    "                  --dtype bf16\n"
    "  graphattn check --graph causal --n 4096 --dim 128 --device cuda --rows 64\n"
    "\n";

typedef struct check_ctx {
    ga_dtype dtype;
    int64_t B, nq, nk, H, Hkv, D;
    const void *q, *k, *v, *out;
    const float *lse;
    double scale;
    double err_out, err_lse;
    int64_t worst_row, worst_b, worst_h;
    double worst_lse_ref, worst_lse_got;
} check_ctx;

/* Compare row i (all batches and heads) with an fp64 recomputation over `keys`. */
static void check_row(check_ctx *c, int64_t i, const int64_t *keys, int64_t deg, double *scores) {
    const int64_t D = c->D, group = c->H / c->Hkv;
    for (int64_t b = 0; b < c->B; b++) {
        for (int64_t h = 0; h < c->H; h++) {
            const int64_t hk = h / group;
            const int64_t qo = ((b * c->nq + i) * c->H + h) * D;
            double m = -INFINITY;
            for (int64_t t = 0; t < deg; t++) {
                const int64_t ko = ((b * c->nk + keys[t]) * c->Hkv + hk) * D;
                double dot = 0;
                for (int64_t d = 0; d < D; d++) dot += cli_load(c->dtype, c->q, qo + d) * cli_load(c->dtype, c->k, ko + d);
                scores[t] = c->scale * dot;
                if (scores[t] > m) m = scores[t];
            }
            double sum = 0;
            for (int64_t t = 0; t < deg; t++) {
                scores[t] = exp(scores[t] - m);
                sum += scores[t];
            }
            double lse_ref = deg ? m + log(sum) : -INFINITY;
            double lse_got = c->lse[(b * c->nq + i) * c->H + h], e_lse;
            if (deg == 0) e_lse = lse_got == -INFINITY ? 0 : INFINITY;
            else e_lse = isfinite(lse_got) ? fabs(lse_got - lse_ref) : INFINITY;
            double e_out = 0;
            for (int64_t d = 0; d < D; d++) {
                double ref = 0;
                for (int64_t t = 0; t < deg; t++) {
                    const int64_t vo = ((b * c->nk + keys[t]) * c->Hkv + hk) * D;
                    ref += scores[t] * cli_load(c->dtype, c->v, vo + d);
                }
                if (deg) ref /= sum;
                double got = cli_load(c->dtype, c->out, qo + d);
                double e = isfinite(got) ? fabs(got - ref) : INFINITY;
                if (deg == 0 && got != 0) e = INFINITY;
                if (e > e_out) e_out = e;
            }
            if (e_lse > c->err_lse) c->err_lse = e_lse;
            if (e_out > c->err_out || (e_out == c->err_out && c->worst_row < 0)) {
                c->err_out = e_out;
                c->worst_row = i;
                c->worst_b = b;
                c->worst_h = h;
                c->worst_lse_ref = lse_ref;
                c->worst_lse_got = lse_got;
            }
        }
    }
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* K (2 <= K < nq) distinct rows into rows[]: 0, nq - 1 and K - 2 seeded picks from [1, nq - 2]
 * (Floyd's sampling: one draw per pick, distinct by construction; an open-addressing set of the
 * picks). Returns 0 when out of memory. */
static int sample_rows(int64_t nq, int64_t K, uint64_t seed, int64_t *rows) {
    const int64_t m = K - 2, n = nq - 2; /* m picks from the n rows [1, nq - 2] */
    size_t cap = 16;
    while ((int64_t)cap < 2 * m + 2) cap *= 2;
    int64_t *set = malloc(cap * sizeof *set);
    if (!set) return 0;
    for (size_t i = 0; i < cap; i++) set[i] = -1;
    rows[0] = 0;
    rows[1] = nq - 1;
    int64_t got = 2;
    uint64_t h = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    for (int64_t j = n - m; j < n; j++) {
        h = ga_hash64(h, j, 4);
        int64_t t = (int64_t)(h % (uint64_t)(j + 1)); /* in [0, j] */
        size_t slot = (size_t)ga_hash64((uint64_t)t, 0, 1) & (cap - 1);
        while (set[slot] >= 0 && set[slot] != t) slot = (slot + 1) & (cap - 1);
        if (set[slot] == t) { /* taken: j itself is new (all picks so far are < j) */
            t = j;
            slot = (size_t)ga_hash64((uint64_t)t, 0, 1) & (cap - 1);
            while (set[slot] >= 0) slot = (slot + 1) & (cap - 1);
        }
        set[slot] = t;
        rows[got++] = t + 1;
    }
    free(set);
    return 1;
}

int cmd_check(int argc, char **argv) {
    const char *cmd = "check";
    const char *spec = NULL, *n_s = NULL, *nk_s = NULL, *b_s = NULL, *h_s = NULL, *hkv_s = NULL, *d_s = NULL,
               *dtype_s = NULL, *device = NULL, *backend = NULL, *rows_s = NULL, *seed_s = NULL, *scale_s = NULL,
               *tol_s = NULL, *threads_s = NULL;
    cli_opt opts[] = {{"graph", &spec, 0},   {"n", &n_s, 0},          {"nk", &nk_s, 0},
                      {"batch", &b_s, 0},    {"heads", &h_s, 0},      {"kv-heads", &hkv_s, 0},
                      {"dim", &d_s, 0},      {"dtype", &dtype_s, 0},  {"device", &device, 0},
                      {"backend", &backend, 0}, {"rows", &rows_s, 0}, {"seed", &seed_s, 0},
                      {"scale", &scale_s, 0}, {"tol", &tol_s, 0},     {"threads", &threads_s, 0},
                      {0}};
    int done, rc = cli_parse(cmd, argc, argv, opts, check_help, &done);
    if (rc != CLI_OK || done) return rc;
    if (!spec || !n_s) return cli_usage(cmd, "--graph and --n are required (see graphattn check --help)");
    int64_t nq, nk, B = 1, H = 1, Hkv, D = 64, K = 16, seed = 1;
    int threads = 0;
    double scale = 0, tol = -1;
    ga_dtype dtype = GA_F32;
    if (cli_tokens(cmd, "n", n_s, &nq)) return CLI_USAGE;
    nk = nq;
    if (nk_s && cli_tokens(cmd, "nk", nk_s, &nk)) return CLI_USAGE;
    if (b_s && cli_int64(cmd, "batch", b_s, 1, &B)) return CLI_USAGE;
    if (h_s && cli_int64(cmd, "heads", h_s, 1, &H)) return CLI_USAGE;
    Hkv = H;
    if (hkv_s && cli_int64(cmd, "kv-heads", hkv_s, 1, &Hkv)) return CLI_USAGE;
    if (d_s && cli_int64(cmd, "dim", d_s, 1, &D)) return CLI_USAGE;
    if (rows_s && cli_int64(cmd, "rows", rows_s, 2, &K)) return CLI_USAGE;
    if (seed_s && cli_int64(cmd, "seed", seed_s, 0, &seed)) return CLI_USAGE;
    if (threads_s && cli_threads(cmd, threads_s, &threads)) return CLI_USAGE;
    if (scale_s && cli_double(cmd, "scale", scale_s, &scale)) return CLI_USAGE;
    if (scale_s && !(scale > 0 && scale <= FLT_MAX))
        return cli_usage(cmd, "--scale must be positive and at most %g (the float32 maximum)", (double)FLT_MAX);
    if (tol_s && cli_double(cmd, "tol", tol_s, &tol)) return CLI_USAGE;
    if (tol_s && !(tol >= 0)) return cli_usage(cmd, "--tol must be >= 0");
    if (dtype_s && cli_dtype(cmd, dtype_s, &dtype)) return CLI_USAGE;
    if (H % Hkv) return cli_usage(cmd, "--kv-heads %lld must divide --heads %lld", (long long)Hkv, (long long)H);
    if (tol < 0) tol = dtype == GA_F32 ? 1e-4 : 1e-2;
    if (K > nq) K = nq;
    cli_target target;
    rc = cli_target_resolve(cmd, device, backend, &target);
    if (rc != CLI_OK) return rc;

    ga_graph *graph = NULL;
    void *q = NULL, *k = NULL, *v = NULL, *out = NULL;
    float *lse = NULL;
    int64_t *rows = NULL, *keys = NULL;
    double *scores = NULL;
    cli_exec x;
    int have_exec = 0;
    rc = CLI_FAILED;
    if (cli_graph(cmd, spec, &graph) != CLI_OK) goto done;
    ga_status s = ga_graph_check(graph, nq, nk);
    if (s != GA_OK) { cli_fail(cmd, s, "--graph '%s' does not fit Nq=%lld, Nk=%lld", spec, (long long)nq, (long long)nk); goto done; }

    size_t es = ga_dtype_size(dtype);
    int64_t qbytes, kbytes, lbytes;
    if (cli_tensor_bytes(B, nq, H, D, es, &qbytes) || cli_tensor_bytes(B, nk, Hkv, D, es, &kbytes) ||
        cli_tensor_bytes(B, nq, H, 1, sizeof(float), &lbytes)) {
        cli_error(cmd, "the problem size overflows int64");
        goto done;
    }
    const int64_t nqe = qbytes / (int64_t)es, nke = kbytes / (int64_t)es, nlse = lbytes / (int64_t)sizeof(float);
    const int64_t parts[5] = {qbytes, kbytes, kbytes, qbytes, lbytes}; /* q, k, v, out, lse */
    int64_t host;
    if (cli_bytes_sum(parts, 5, &host)) {
        cli_error(cmd, "the problem size overflows int64");
        goto done;
    }
    if (cli_host_memory_check(cmd, host, "the inputs") != CLI_OK) goto done;
    q = malloc((size_t)qbytes);
    k = malloc((size_t)kbytes);
    v = malloc((size_t)kbytes);
    out = malloc((size_t)qbytes);
    lse = malloc((size_t)lbytes);
    if (!q || !k || !v || !out || !lse) {
        cli_error(cmd, "out of host memory for the inputs (%.1f GiB)",
                  (2.0 * (double)qbytes + 2.0 * (double)kbytes) / (1u << 30));
        goto done;
    }
    double t0 = cli_now();
    cli_random_tensor(dtype, q, nqe, (uint64_t)seed, 1);
    cli_random_tensor(dtype, k, nke, (uint64_t)seed, 2);
    cli_random_tensor(dtype, v, nke, (uint64_t)seed, 3);
    double t_gen = cli_now() - t0;

    ga_options opt;
    ga_options_init(&opt);
    opt.scale = scale;
    opt.backend = target.backend;
    opt.num_threads = threads;
    const int64_t qs[4] = {B, nq, H, D}, kvs[4] = {B, nk, Hkv, D};
    s = cli_exec_setup(&x, &target, graph, dtype, qs, kvs, q, k, v, out, lse, &opt);
    if (s != GA_OK) { cli_fail(cmd, s, "cannot prepare the inputs on %s", cli_target_name(&target)); goto done; }
    have_exec = 1;
    double t1 = cli_now();
    s = cli_exec_run(&x, graph, &opt, 1);
    double t_fwd = cli_now() - t1;
    if (s == GA_OK) s = cli_exec_fetch(&x);
    if (s != GA_OK) { cli_fail(cmd, s, "attention failed on %s", cli_target_name(&target)); goto done; }

    /* every output element must be finite, every lse finite or -inf */
    int64_t bad_out = 0, bad_lse = 0;
#pragma omp parallel for reduction(+ : bad_out)
    for (int64_t e = 0; e < nqe; e++) bad_out += !isfinite(cli_load(dtype, out, e));
    for (int64_t e = 0; e < nlse; e++) bad_lse += isnan(lse[e]) || lse[e] == INFINITY;

    /* sampled rows: first, last, and K - 2 distinct seeded picks between them (every row when
     * K >= Nq; K was capped at Nq above) */
    if (K < 2) K = 2; /* Nq == 1: rows 0 and Nq-1 coincide */
    rows = malloc((size_t)K * sizeof *rows);
    if (!rows) { cli_error(cmd, "out of memory"); goto done; }
    int64_t nrows = 0;
    if (K >= nq) {
        for (int64_t r = 0; r < nq; r++) rows[nrows++] = r;
    } else if (!sample_rows(nq, K, (uint64_t)seed, rows)) {
        cli_error(cmd, "out of memory");
        goto done;
    } else {
        nrows = K;
    }
    qsort(rows, (size_t)nrows, sizeof *rows, cmp_i64);

    check_ctx c = {dtype, B, nq, nk, H, Hkv, D, q, k, v, out, lse, scale > 0 ? scale : 1.0 / sqrt((double)D),
                   0, 0, -1, 0, 0, 0, 0};
    int64_t cap = 1024, deg_min = INT64_MAX, deg_max = 0;
    keys = malloc((size_t)cap * sizeof *keys);
    scores = malloc((size_t)cap * sizeof *scores);
    if (!keys || !scores) { cli_error(cmd, "out of memory"); goto done; }
    double t2 = cli_now();
    for (int64_t r = 0; r < nrows; r++) {
        int64_t deg;
        s = ga_graph_row(graph, nq, nk, rows[r], keys, cap, &deg);
        if (s == GA_OK && deg > cap) {
            free(keys);
            free(scores);
            cap = deg;
            keys = malloc((size_t)(cap ? cap : 1) * sizeof *keys);
            scores = malloc((size_t)(cap ? cap : 1) * sizeof *scores);
            if (!keys || !scores) { cli_error(cmd, "out of memory for a row of %lld keys", (long long)deg); goto done; }
            s = ga_graph_row(graph, nq, nk, rows[r], keys, cap, &deg);
        }
        if (s != GA_OK) { cli_fail(cmd, s, "cannot list the keys of row %lld", (long long)rows[r]); goto done; }
        if (deg < deg_min) deg_min = deg;
        if (deg > deg_max) deg_max = deg;
        check_row(&c, rows[r], keys, deg, scores);
    }
    double t_ref = cli_now() - t2;

    int pass = c.err_out <= tol && c.err_lse <= tol && bad_out == 0 && bad_lse == 0;
    char nbuf[32], nkbuf[32];
    printf("check %s: B=%lld Nq=%s Nk=%s H=%lld Hkv=%lld D=%lld %s on %s\n", spec, (long long)B,
           cli_grouped(nq, nbuf, sizeof nbuf), cli_grouped(nk, nkbuf, sizeof nkbuf), (long long)H, (long long)Hkv,
           (long long)D, ga_dtype_name(dtype), cli_target_name(&target));
    printf("  inputs %.1f ms, forward %.3f ms, fp64 rows %.1f ms\n", 1e3 * t_gen, 1e3 * t_fwd, 1e3 * t_ref);
    int64_t edges = 0;
    if (ga_graph_count_edges(graph, nq, nk, &edges) == GA_OK) {
        char ebuf[32];
        const double work = 4.0 * (double)edges * (double)D * (double)H * (double)B;
        printf("  edges %s per (batch, head), %.4g useful TFLOP/s in the forward (one first call, setup included)\n",
               cli_grouped(edges, ebuf, sizeof ebuf), t_fwd > 0 ? work / t_fwd / 1e12 : 0.0);
    }
    printf("  sampled rows: %lld (first 0, last %lld), keys per row %lld..%lld\n", (long long)nrows,
           (long long)(nq - 1), (long long)deg_min, (long long)deg_max);
    printf("  max |out - ref| = %.3e   (tolerance %g; worst at row %lld, batch %lld, head %lld)\n", c.err_out, tol,
           (long long)c.worst_row, (long long)c.worst_b, (long long)c.worst_h);
    printf("  max |lse - ref| = %.3e   (tolerance %g)\n", c.err_lse, tol);
    printf("  non-finite outputs: %lld of %lld; NaN or +inf lse: %lld\n", (long long)bad_out, (long long)nqe,
           (long long)bad_lse);
    printf("%s\n", pass ? "PASS" : "FAIL");
    rc = pass ? CLI_OK : CLI_FAILED;
done:
    if (have_exec) cli_exec_free(&x);
    free(q);
    free(k);
    free(v);
    free(out);
    free(lse);
    free(rows);
    free(keys);
    free(scores);
    ga_graph_destroy(graph);
    return rc;
}
