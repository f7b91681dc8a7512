/* cmd_bench.c -- `graphattn bench`: time a graph at one or several sequence lengths. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "device.h"

static const char bench_help[] =
    "usage: graphattn bench --graph SPEC --n N[,N2,...] [--nk NK] [--batch B] [--heads H]\n"
    "                       [--kv-heads HKV] [--dim D] [--dtype f32|f16|bf16] [--device auto|cpu|cuda]\n"
    "                       [--backend auto|cpu|reference|cuda] [--repeats R] [--warmup W] [--seed S]\n"
    "                       [--threads T] [--csv FILE] [--svg FILE] [--quiet]\n"
    "\n"
    "For each N: seeded unit-normal inputs, W warm-up calls, then R timed calls of the forward pass\n"
    "(wall clock around the call and a device synchronize; inputs already on the device). Reports\n"
    "the median and the fastest time, the graph's edge count (ga_graph_count_edges), the useful\n"
    "throughput 4 * edges * D * H * B / median time (only the graph's edges count as work), the\n"
    "time per edge, the host peak resident memory of the process so far (getrusage maxrss), and on\n"
    "CUDA the device memory in use during the calls (drop in cudaMemGetInfo's free bytes: inputs,\n"
    "output, workspace and anything the library keeps).\n"
    "\n"
    "A progress line goes to stderr. --csv writes one row per N; --svg draws time and throughput\n"
    "against N on log axes, with the setup in the caption. Every N (its sizes, its inputs against\n"
    "the host memory available, its edge count) and both files are checked before anything is\n"
    "timed; both files are written, or neither.\n"
    "--quiet drops the table and the progress line (the files are still written).\n"
    "\n"
    "Options (defaults in brackets):\n"
    "  --n LIST         sequence lengths, e.g. 65536,262144,1048576 or 2^16,2^18,2^20\n"
    "  --nk NK          keys per sequence [N]\n"
    "  --batch B [1]  --heads H [1]  --kv-heads HKV [H]  --dim D [64]  --dtype T [f32]\n"
    "  --repeats R [5]  --warmup W [1]  --seed S [1]  --threads T (at most 1024) [OpenMP default]\n"
    "\n"
    "examples:\n"
    "  graphattn bench --graph window:256 --n 65536,262144,1048576 --svg window.svg --csv window.csv\n"
    "  graphattn bench --graph window:256+global:0,1,2,3 --n 2^20,2^22,2^24 --dtype bf16 --device cuda\n"
    "\n";

#define BENCH_MAX_N 64

typedef struct bench_result {
    int64_t n, nk, edges;
    double work;            /* useful flops: 4 * edges * D * H * B */
    double median, fastest; /* seconds */
    double host_mib, dev_mib;
} bench_result;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double host_peak_mib(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return NAN;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

/* ---- SVG plot ------------------------------------------------------------------------------ */

typedef struct plot_axis {
    double lo, hi;   /* log10 of the data range shown */
    double p0, p1;   /* pixel range */
} plot_axis;

static double axis_map(const plot_axis *a, double v) { return a->p0 + (log10(v) - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0); }

static plot_axis axis_fit(double mn, double mx, double p0, double p1, int decades) {
    plot_axis a;
    if (decades) {
        a.lo = floor(log10(mn));
        a.hi = ceil(log10(mx));
        if (a.hi - a.lo < 1) a.hi = a.lo + 1;
    } else { /* half a step of padding (in log10 units) around the data */
        double pad = mx > mn ? 0.08 * (log10(mx) - log10(mn)) : 0.3;
        a.lo = log10(mn) - pad;
        a.hi = log10(mx) + pad;
    }
    a.p0 = p0;
    a.p1 = p1;
    return a;
}

static const char *n_label(int64_t n, char *buf, size_t size) {
    if (n > 0 && (n & (n - 1)) == 0) {
        int k = 0;
        while (((int64_t)1 << k) < n) k++;
        snprintf(buf, size, "2^%d", k);
    } else if (n >= 1000000 && n % 1000000 == 0) snprintf(buf, size, "%lldM", (long long)(n / 1000000));
    else if (n >= 1000 && n % 1000 == 0) snprintf(buf, size, "%lldk", (long long)(n / 1000));
    else snprintf(buf, size, "%lld", (long long)n);
    return buf;
}

static void svg_panel(FILE *f, const bench_result *r, int count, int which, double x0, const char *title,
                      const char *color) {
    const double w = 380, y0 = 60, h = 280;
    double vals[BENCH_MAX_N], mn = INFINITY, mx = 0;
    int64_t nmin = INT64_MAX, nmax = 0;
    for (int i = 0; i < count; i++) {
        vals[i] = which == 0 ? 1e3 * r[i].median : r[i].work / r[i].median / 1e12;
        if (vals[i] > 0 && vals[i] < mn) mn = vals[i];
        if (vals[i] > mx) mx = vals[i];
        if (r[i].n < nmin) nmin = r[i].n;
        if (r[i].n > nmax) nmax = r[i].n;
    }
    if (!(mx > 0)) { mn = 1; mx = 10; }
    plot_axis ax = axis_fit((double)nmin, (double)nmax, x0, x0 + w, 0);
    plot_axis ay = axis_fit(mn, mx, y0 + h, y0, 1);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"15\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n",
            x0 + w / 2, y0 - 14, title);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n", x0, y0, w,
            h);
    /* y: decades, plus 2x and 5x when the range is short */
    int dec = (int)(ay.hi - ay.lo);
    for (int e = (int)ay.lo; e <= (int)ay.hi; e++) {
        for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3)) {
            double v = m * pow(10, e), lv = log10(v);
            if (lv < ay.lo - 1e-9 || lv > ay.hi + 1e-9) continue;
            if (m > 1 && dec > 2) continue;
            double y = axis_map(&ay, v);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x0, y, x0 + w, y,
                    m == 1 ? "#ccc" : "#eee");
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">%g</text>\n", x0 - 6, y + 4, v);
        }
    }
    /* x: one tick per measured N */
    for (int i = 0; i < count; i++) {
        char lab[32];
        double x = axis_map(&ax, (double)r[i].n);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", x, y0, x, y0 + h);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%s</text>\n", x, y0 + h + 18,
                n_label(r[i].n, lab, sizeof lab));
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\">N (tokens, log scale)</text>\n",
            x0 + w / 2, y0 + h + 38);
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    for (int i = 0; i < count; i++)
        if (vals[i] > 0) fprintf(f, "%.1f,%.1f ", axis_map(&ax, (double)r[i].n), axis_map(&ay, vals[i]));
    fprintf(f, "\"/>\n");
    for (int i = 0; i < count; i++) {
        if (!(vals[i] > 0)) continue;
        double x = axis_map(&ax, (double)r[i].n), y = axis_map(&ay, vals[i]);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n", x, y, color);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">%.3g</text>\n", x,
                y - 9, vals[i]);
    }
}

static void bench_svg(FILE *f, const bench_result *r, int count, const char *caption1, const char *caption2) {
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"470\" viewBox=\"0 0 960 470\" "
               "font-family=\"sans-serif\">\n"
               "<rect width=\"960\" height=\"470\" fill=\"white\"/>\n");
    svg_panel(f, r, count, 0, 80, "time per call (ms, median)", "#1f5fa8");
    svg_panel(f, r, count, 1, 560, "useful TFLOP/s (4 \xC2\xB7 edges \xC2\xB7 D \xC2\xB7 H \xC2\xB7 B / time)", "#c2561a");
    fprintf(f, "<text x=\"20\" y=\"420\" font-size=\"13\">");
    cli_xml_text(f, caption1);
    fprintf(f, "</text>\n<text x=\"20\" y=\"442\" font-size=\"13\">");
    cli_xml_text(f, caption2);
    fprintf(f, "</text>\n</svg>\n");
}

/* ---- the command --------------------------------------------------------------------------- */

int cmd_bench(int argc, char **argv) {
    const char *cmd = "bench";
    const char *spec = NULL, *n_s = NULL, *nk_s = NULL, *b_s = NULL, *h_s = NULL, *hkv_s = NULL, *d_s = NULL,
               *dtype_s = NULL, *device = NULL, *backend = NULL, *rep_s = NULL, *warm_s = NULL, *seed_s = NULL,
               *threads_s = NULL, *csv = NULL, *svg = NULL;
    int quiet = 0;
    cli_opt opts[] = {{"graph", &spec, 0},     {"n", &n_s, 0},           {"nk", &nk_s, 0},
                      {"batch", &b_s, 0},      {"heads", &h_s, 0},       {"kv-heads", &hkv_s, 0},
                      {"dim", &d_s, 0},        {"dtype", &dtype_s, 0},   {"device", &device, 0},
                      {"backend", &backend, 0}, {"repeats", &rep_s, 0},  {"warmup", &warm_s, 0},
                      {"seed", &seed_s, 0},    {"threads", &threads_s, 0}, {"csv", &csv, 0},
                      {"svg", &svg, 0},        {"quiet", 0, &quiet},     {0}};
    int done, rc = cli_parse(cmd, argc, argv, opts, bench_help, &done);
    if (rc != CLI_OK || done) return rc;
    if (!spec || !n_s) return cli_usage(cmd, "--graph and --n are required (see graphattn bench --help)");
    int64_t ns[BENCH_MAX_N], nk_fixed = 0, B = 1, H = 1, Hkv, D = 64, R = 5, W = 1, seed = 1;
    int threads = 0;
    ga_dtype dtype = GA_F32;
    int count = cli_int64_list(cmd, "n", n_s, 1, ns, BENCH_MAX_N);
    if (count < 0) return CLI_USAGE;
    for (int i = 0; i < count; i++)
        if (cli_tokens_cap(cmd, "n", ns[i])) return CLI_USAGE;
    if (nk_s && cli_tokens(cmd, "nk", nk_s, &nk_fixed)) return CLI_USAGE;
    if (b_s && cli_int64(cmd, "batch", b_s, 1, &B)) return CLI_USAGE;
    if (h_s && cli_int64(cmd, "heads", h_s, 1, &H)) return CLI_USAGE;
    Hkv = H;
    if (hkv_s && cli_int64(cmd, "kv-heads", hkv_s, 1, &Hkv)) return CLI_USAGE;
    if (d_s && cli_int64(cmd, "dim", d_s, 1, &D)) return CLI_USAGE;
    if (rep_s && cli_int64(cmd, "repeats", rep_s, 1, &R)) return CLI_USAGE;
    if (warm_s && cli_int64(cmd, "warmup", warm_s, 0, &W)) return CLI_USAGE;
    if (seed_s && cli_int64(cmd, "seed", seed_s, 0, &seed)) return CLI_USAGE;
    if (threads_s && cli_threads(cmd, threads_s, &threads)) return CLI_USAGE;
    if (dtype_s && cli_dtype(cmd, dtype_s, &dtype)) return CLI_USAGE;
    if (H % Hkv) return cli_usage(cmd, "--kv-heads %lld must divide --heads %lld", (long long)Hkv, (long long)H);
    if (R > 100000) return cli_usage(cmd, "--repeats: at most 100000");
    cli_target target;
    rc = cli_target_resolve(cmd, device, backend, &target);
    if (rc != CLI_OK) return rc;
    const cli_file outs[2] = {{"csv", csv}, {"svg", svg}};
    rc = cli_check_outputs(cmd, outs, 2, NULL, 0, spec);
    if (rc != CLI_OK) return rc;

    ga_graph *graph = NULL;
    bench_result res[BENCH_MAX_N];
    double *times = NULL;
    void *q = NULL, *k = NULL, *v = NULL, *out = NULL;
    cli_exec x;
    cli_text t_csv = {0}, t_svg = {0};
    int have_exec = 0, tty = !quiet && isatty(2);
    rc = CLI_FAILED;
    if (cli_graph(cmd, spec, &graph) != CLI_OK) goto done;
    times = malloc((size_t)R * sizeof *times);
    if (!times) { cli_error(cmd, "out of memory"); goto done; }
    ga_options opt;
    ga_options_init(&opt);
    opt.backend = target.backend;
    opt.num_threads = threads;
    size_t es = ga_dtype_size(dtype);
    char nbuf[32], ebuf[32];
    /* every N before timing any: its sizes and its edge count (which checks the graph against it) */
    for (int t = 0; t < count; t++) {
        int64_t nq = ns[t], nk = nk_fixed ? nk_fixed : nq, qbytes, kbytes;
        memset(&res[t], 0, sizeof res[t]);
        res[t].n = nq;
        res[t].nk = nk;
        res[t].dev_mib = NAN;
        if (cli_tensor_bytes(B, nq, H, D, es, &qbytes) || cli_tensor_bytes(B, nk, Hkv, D, es, &kbytes)) {
            cli_error(cmd, "N=%lld: the problem size overflows int64", (long long)nq);
            goto done;
        }
        /* before the edge count, which walks every row: a size that cannot be held fails at once */
        const int64_t parts[4] = {qbytes, kbytes, kbytes, qbytes}; /* q, k, v, out */
        int64_t host;
        if (cli_bytes_sum(parts, 4, &host)) {
            cli_error(cmd, "N=%lld: the problem size overflows int64", (long long)nq);
            goto done;
        }
        char what[64];
        snprintf(what, sizeof what, "the inputs at N=%lld", (long long)nq);
        if (cli_host_memory_check(cmd, host, what) != CLI_OK) goto done;
        if (tty) fprintf(stderr, "\rbench: N=%s (%d/%d): counting edges...            ", cli_grouped(nq, nbuf, sizeof nbuf), t + 1, count);
        ga_status s = ga_graph_count_edges(graph, nq, nk, &res[t].edges);
        if (s != GA_OK) { cli_fail(cmd, s, "--graph '%s' at N=%lld", spec, (long long)nq); goto done; }
    }
    if (tty) fprintf(stderr, "\r%70s\r", "");
    const char *const written[2] = {csv, svg};
    FILE *rep = cli_report_stream(written, 2); /* the table: stderr when --csv or --svg is stdout */
    if (!quiet) {
        fprintf(rep, "bench %s: B=%lld H=%lld Hkv=%lld D=%lld %s on %s; median of %lld after %lld warm-up\n", spec,
               (long long)B, (long long)H, (long long)Hkv, (long long)D, ga_dtype_name(dtype), cli_target_name(&target),
               (long long)R, (long long)W);
        fprintf(rep, "%12s %16s %12s %12s %10s %10s %14s %12s\n", "N", "edges", "median ms", "fastest ms", "TFLOP/s",
               "ns/edge", "host peak MiB", "device MiB");
        fflush(rep);
    }
    for (int t = 0; t < count; t++) {
        int64_t nq = ns[t], nk = nk_fixed ? nk_fixed : nq, qbytes = 0, kbytes = 0;
        bench_result *r = &res[t];
        double t_start = cli_now();
        cli_grouped(nq, nbuf, sizeof nbuf);
        cli_tensor_bytes(B, nq, H, D, es, &qbytes); /* checked above */
        cli_tensor_bytes(B, nk, Hkv, D, es, &kbytes);
        q = malloc((size_t)qbytes);
        k = malloc((size_t)kbytes);
        v = malloc((size_t)kbytes);
        out = malloc((size_t)qbytes);
        if (!q || !k || !v || !out) { cli_error(cmd, "N=%lld: out of host memory for the inputs", (long long)nq); goto done; }
        if (tty) fprintf(stderr, "\rbench: N=%s (%d/%d): generating inputs...         ", nbuf, t + 1, count);
        cli_random_tensor(dtype, q, qbytes / (int64_t)es, (uint64_t)seed, 1);
        cli_random_tensor(dtype, k, kbytes / (int64_t)es, (uint64_t)seed, 2);
        cli_random_tensor(dtype, v, kbytes / (int64_t)es, (uint64_t)seed, 3);
        size_t free0 = 0, free1 = 0, total = 0;
        if (target.cuda) dev_mem_info(&free0, &total);
        const int64_t qs[4] = {B, nq, H, D}, kvs[4] = {B, nk, Hkv, D};
        ga_status s = cli_exec_setup(&x, &target, graph, dtype, qs, kvs, q, k, v, out, NULL, &opt);
        if (s != GA_OK) { cli_fail(cmd, s, "N=%lld: cannot prepare the inputs", (long long)nq); goto done; }
        have_exec = 1;
        for (int64_t w = 0; w < W; w++) {
            if (tty) fprintf(stderr, "\rbench: N=%s (%d/%d): warm-up %lld/%lld          ", nbuf, t + 1, count, (long long)w + 1, (long long)W);
            s = cli_exec_run(&x, graph, &opt, 0);
            if (s != GA_OK) { cli_fail(cmd, s, "N=%lld: attention failed", (long long)nq); goto done; }
        }
        if (target.cuda && dev_mem_info(&free1, &total) == GA_OK && free0 >= free1)
            r->dev_mib = (double)(free0 - free1) / (1024.0 * 1024.0);
        for (int64_t i = 0; i < R; i++) {
            if (tty) fprintf(stderr, "\rbench: N=%s (%d/%d): run %lld/%lld              ", nbuf, t + 1, count, (long long)i + 1, (long long)R);
            double t0 = cli_now();
            s = cli_exec_run(&x, graph, &opt, 0);
            times[i] = cli_now() - t0;
            if (s != GA_OK) { cli_fail(cmd, s, "N=%lld: attention failed", (long long)nq); goto done; }
        }
        if (target.cuda && dev_mem_info(&free1, &total) == GA_OK && free0 >= free1) {
            double d = (double)(free0 - free1) / (1024.0 * 1024.0);
            if (!(d < r->dev_mib)) r->dev_mib = d;
        }
        cli_exec_free(&x);
        have_exec = 0;
        free(q); free(k); free(v); free(out);
        q = k = v = out = NULL;
        qsort(times, (size_t)R, sizeof *times, cmp_double);
        r->median = R % 2 ? times[R / 2] : 0.5 * (times[R / 2 - 1] + times[R / 2]);
        r->fastest = times[0];
        r->host_mib = host_peak_mib();
        double work = 4.0 * (double)r->edges * (double)D * (double)H * (double)B;
        r->work = work;
        if (tty) fprintf(stderr, "\r%70s\r", "");
        else if (!quiet && cli_now() - t_start > 2.0)
            fprintf(stderr, "bench: N=%s done (%d/%d) in %.1f s\n", nbuf, t + 1, count, cli_now() - t_start);
        if (!quiet) {
            char dev[32] = "-";
            if (!isnan(r->dev_mib)) snprintf(dev, sizeof dev, "%.1f", r->dev_mib);
            fprintf(rep, "%12s %16s %12.4f %12.4f %10.4g %10.4g %14.1f %12s\n", nbuf,
                   cli_grouped(r->edges, ebuf, sizeof ebuf), 1e3 * r->median, 1e3 * r->fastest,
                   work / r->median / 1e12, r->edges ? 1e9 * r->median / (double)r->edges / (double)(B * H) : NAN,
                   r->host_mib, dev);
            fflush(rep);
        }
    }

    /* both files are written under temporary names first, then renamed together */
    if (csv) {
        if (cli_text_open(cmd, csv, &t_csv) != CLI_OK) goto done;
        fprintf(t_csv.f, "graph,n,nk,batch,heads,kv_heads,dim,dtype,device,backend,edges,repeats,warmup,median_ms,"
                     "fastest_ms,tflops,ns_per_edge,host_peak_mib,device_mib\n");
        for (int i = 0; i < count; i++) {
            const bench_result *r = &res[i];
            double work = 4.0 * (double)r->edges * (double)D * (double)H * (double)B;
            fputc('"', t_csv.f);
            for (const char *c = spec; *c; c++) { if (*c == '"') fputc('"', t_csv.f); fputc(*c, t_csv.f); }
            fprintf(t_csv.f, "\",%lld,%lld,%lld,%lld,%lld,%lld,%s,%s,%s,%lld,%lld,%lld,%.6f,%.6f,%.6g,%.6g,%.1f,", (long long)r->n,
                    (long long)r->nk, (long long)B, (long long)H, (long long)Hkv, (long long)D, ga_dtype_name(dtype),
                    target.cuda ? "cuda" : "cpu",
                    target.backend == GA_BACKEND_CPU_REFERENCE ? "reference"
                    : target.backend == GA_BACKEND_CPU         ? "cpu"
                    : target.backend == GA_BACKEND_CUDA        ? "cuda"
                                                               : "auto",
                    (long long)r->edges, (long long)R, (long long)W, 1e3 * r->median, 1e3 * r->fastest,
                    work / r->median / 1e12, r->edges ? 1e9 * r->median / (double)r->edges / (double)(B * H) : NAN,
                    r->host_mib);
            if (isnan(r->dev_mib)) fprintf(t_csv.f, "\n");
            else fprintf(t_csv.f, "%.1f\n", r->dev_mib);
        }
    }
    if (svg) {
        char c1[512], c2[512], date[32];
        time_t now = time(NULL);
        struct tm tmv;
        gmtime_r(&now, &tmv);
        strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tmv);
        snprintf(c1, sizeof c1, "graphattn bench --graph %s: B=%lld H=%lld Hkv=%lld D=%lld %s, %s", spec,
                 (long long)B, (long long)H, (long long)Hkv, (long long)D, ga_dtype_name(dtype),
                 cli_target_name(&target));
        snprintf(c2, sizeof c2, "median of %lld calls after %lld warm-up; edges %s at N=%s; graphattn %s, %s", (long long)R,
                 (long long)W, cli_grouped(res[count - 1].edges, ebuf, sizeof ebuf),
                 cli_grouped(res[count - 1].n, nbuf, sizeof nbuf), ga_version_string(), date);
        if (cli_text_open(cmd, svg, &t_svg) != CLI_OK) goto done;
        bench_svg(t_svg.f, res, count, c1, c2);
    }
    {
        cli_text *const texts[2] = {&t_csv, &t_svg}; /* both renamed or neither */
        if (cli_text_commit_all(cmd, texts, 2) != CLI_OK) goto done;
    }
    rc = CLI_OK;
done:
    cli_text_discard(&t_csv);
    cli_text_discard(&t_svg);
    if (tty) fprintf(stderr, "\r%70s\r", "");
    if (have_exec) cli_exec_free(&x);
    free(q); free(k); free(v); free(out);
    free(times);
    ga_graph_destroy(graph);
    return rc;
}
