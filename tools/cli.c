/* cli.c -- shared pieces of the graphattn command (see cli.h). */
#define _XOPEN_SOURCE 700 /* POSIX.1-2008 with realpath */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/half.h"
#include "device.h"
#include "graph/graph.h"
#include "io/npy.h"

/* ---- options ------------------------------------------------------------------------------ */

int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, const char *help, int *done) {
    *done = 0;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            fputs(help, stdout);
            if (strstr(help, "--graph SPEC")) { /* the grammar the help's --graph refers to */
                fputs("\n", stdout);
                fputs(cli_spec_help, stdout);
            }
            *done = 1;
            return CLI_OK;
        }
    }
    unsigned char seen[128] = {0}; /* the options that took a value, by index */
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0 || !arg[2])
            return cli_usage(cmd, "unexpected argument '%s' (options start with --; see graphattn %s --help)", arg,
                             cmd);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *o = NULL;
        for (const cli_opt *p = opts; p->name; p++)
            if (strlen(p->name) == len && !strncmp(p->name, name, len)) { o = p; break; }
        if (!o) return cli_usage(cmd, "unknown option '--%.*s' (see graphattn %s --help)", (int)len, name, cmd);
        if (o->flag) {
            if (eq) return cli_usage(cmd, "option --%s takes no value", o->name);
            *o->flag = 1;
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (a + 1 >= argc) return cli_usage(cmd, "option --%s needs a value", o->name);
            val = argv[++a];
        }
        if (!*val) return cli_usage(cmd, "option --%s has an empty value", o->name);
        const size_t i = (size_t)(o - opts);
        if (i < sizeof seen && seen[i]) return cli_usage(cmd, "option --%s is given twice", o->name);
        if (i < sizeof seen) seen[i] = 1;
        *o->value = val;
    }
    return CLI_OK;
}

/* ---- messages ----------------------------------------------------------------------------- */

int cli_fail(const char *cmd, ga_status status, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "graphattn %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  %s\n", ga_status_string(status));
    const char *detail = ga_last_error_detail();
    if (detail && *detail) fprintf(stderr, "  %s\n", detail);
    return CLI_FAILED;
}

int cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "graphattn %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}

int cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "graphattn %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAILED;
}

/* ---- numbers ------------------------------------------------------------------------------ */

static int cli_parse_int(const char *s, const char *end, int64_t *out) {
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (s == end) return -1;
    int neg = 0;
    if (*s == '-') { neg = 1; s++; }
    else if (*s == '+') s++; /* as strtoll takes it */
    if (s == end) return -1; /* a sign and no digits */
    if (end - s > 2 && s[0] == '2' && s[1] == '^') { /* 2^K */
        int64_t k = 0;
        for (const char *p = s + 2; p < end; p++) {
            if (*p < '0' || *p > '9') return -1;
            k = k * 10 + (*p - '0');
            if (k > 62) return -1;
        }
        *out = neg ? -((int64_t)1 << k) : ((int64_t)1 << k);
        return 0;
    }
    int64_t v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9') return -1;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v)) return -1;
    }
    *out = neg ? -v : v;
    return 0;
}

int cli_int64(const char *cmd, const char *opt, const char *text, int64_t min, int64_t *out) {
    int64_t v;
    if (!text || cli_parse_int(text, text + strlen(text), &v) != 0) {
        cli_usage(cmd, "--%s: '%s' is not an integer (decimal or 2^K)", opt, text ? text : "");
        return -1;
    }
    if (v < min) {
        cli_usage(cmd, "--%s: %lld is below the minimum %lld", opt, (long long)v, (long long)min);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_tokens_cap(const char *cmd, const char *opt, int64_t v) {
    if (v > CLI_MAX_TOKENS) {
        cli_usage(cmd, "--%s: %lld is above the maximum 2^40 (the library's limit on Nq and Nk)", opt, (long long)v);
        return -1;
    }
    return 0;
}

int cli_tokens(const char *cmd, const char *opt, const char *text, int64_t *out) {
    int64_t v;
    if (cli_int64(cmd, opt, text, 1, &v) || cli_tokens_cap(cmd, opt, v)) return -1;
    *out = v;
    return 0;
}

int cli_threads(const char *cmd, const char *text, int *out) {
    int64_t v;
    if (cli_int64(cmd, "threads", text, 0, &v) != 0) return -1;
    if (v > GA_MAX_THREADS) {
        cli_usage(cmd, "--threads: at most %d (got %lld)", GA_MAX_THREADS, (long long)v);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_double(const char *cmd, const char *opt, const char *text, double *out) {
    char *end;
    errno = 0;
    double v = text ? strtod(text, &end) : 0;
    /* ERANGE: past the double range (inf), or an underflow to a subnormal or zero, which is a
     * finite number all the same */
    if (!text || end == text || *end || (errno && errno != ERANGE) || !isfinite(v) ||
        (errno == ERANGE && fabs(v) >= 1.0)) {
        cli_usage(cmd, "--%s: '%s' is not a finite number", opt, text ? text : "");
        return -1;
    }
    *out = v;
    return 0;
}

int cli_int64_list(const char *cmd, const char *opt, const char *text, int64_t min, int64_t *out, int cap) {
    int n = 0;
    const char *s = text;
    for (;;) {
        const char *comma = strchr(s, ',');
        const char *end = comma ? comma : s + strlen(s);
        int64_t v;
        if (cli_parse_int(s, end, &v) != 0) {
            cli_usage(cmd, "--%s: '%.*s' is not an integer (in '%s')", opt, (int)(end - s), s, text);
            return -1;
        }
        if (v < min) {
            cli_usage(cmd, "--%s: %lld is below the minimum %lld", opt, (long long)v, (long long)min);
            return -1;
        }
        if (n >= cap) {
            cli_usage(cmd, "--%s: more than %d values", opt, cap);
            return -1;
        }
        out[n++] = v;
        if (!comma) break;
        s = comma + 1;
    }
    return n;
}

int cli_two_paths(const char *cmd, const char *opt, const char *text, char **a, char **b) {
    const char *comma = strchr(text, ',');
    if (!comma || comma == text || !comma[1] || strchr(comma + 1, ',')) {
        cli_usage(cmd, "--%s: expected two file names separated by ',' (got '%s')", opt, text);
        return -1;
    }
    size_t la = (size_t)(comma - text);
    *a = malloc(la + 1);
    *b = strdup(comma + 1);
    if (!*a || !*b) {
        free(*a);
        free(*b);
        cli_usage(cmd, "out of memory");
        return -1;
    }
    memcpy(*a, text, la);
    (*a)[la] = '\0';
    return 0;
}

int cli_dtype(const char *cmd, const char *text, ga_dtype *out) {
    if (!strcmp(text, "f32") || !strcmp(text, "float32") || !strcmp(text, "fp32")) *out = GA_F32;
    else if (!strcmp(text, "f16") || !strcmp(text, "float16") || !strcmp(text, "fp16")) *out = GA_F16;
    else if (!strcmp(text, "bf16") || !strcmp(text, "bfloat16")) *out = GA_BF16;
    else {
        cli_usage(cmd, "--dtype: '%s' is not one of f32, f16, bf16", text);
        return -1;
    }
    return 0;
}

const char *cli_grouped(int64_t v, char *buf, size_t size) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v)), o = 0;
    char tmp[48];
    if (v < 0) tmp[o++] = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) tmp[o++] = ',';
        tmp[o++] = digits[i];
    }
    tmp[o] = '\0';
    snprintf(buf, size, "%s", tmp);
    return buf;
}

int cli_text_open(const char *cmd, const char *path, cli_text *t) {
    memset(t, 0, sizeof *t);
    t->path = path;
    int fd;
    fflush(stdout); /* /dev/stdout is written through a duplicate of its descriptor: keep the order */
    ga_status s = ga_npy_stage_fd(path, &fd, &t->tmp);
    if (s != GA_OK) return cli_fail(cmd, s, "cannot write '%s'", path);
    t->f = fdopen(fd, "w");
    if (!t->f) {
        int err = errno;
        close(fd);
        ga_npy_discard(&t->tmp);
        return cli_error(cmd, "cannot write '%s': %s", path, strerror(err));
    }
    return CLI_OK;
}

int cli_text_commit(const char *cmd, cli_text *t) {
    cli_text *one[1] = {t};
    return cli_text_commit_all(cmd, one, 1);
}

int cli_text_commit_all(const char *cmd, cli_text *const ts[], int n) {
    fflush(stdout);
    int rc = CLI_OK;
    for (int i = 0; i < n; i++) { /* every file closed and checked before any is renamed */
        cli_text *t = ts[i];
        if (!t->f) continue;
        int bad = ferror(t->f), err = EIO;
        if (fclose(t->f) != 0 && !bad) {
            bad = 1;
            err = errno;
        }
        t->f = NULL;
        if (bad && rc == CLI_OK) rc = cli_error(cmd, "cannot write '%s': %s", t->path, strerror(err));
    }
    if (n > CLI_MAX_OUTPUTS && rc == CLI_OK)
        rc = cli_error(cmd, "internal error: %d outputs to commit, at most %d", n, CLI_MAX_OUTPUTS);
    if (rc != CLI_OK) {
        for (int i = 0; i < n; i++) ga_npy_discard(&ts[i]->tmp);
        return rc;
    }
    char **staged[CLI_MAX_OUTPUTS];
    const char *paths[CLI_MAX_OUTPUTS];
    for (int i = 0; i < n; i++) {
        staged[i] = &ts[i]->tmp;
        paths[i] = ts[i]->path;
    }
    ga_status s = ga_npy_commit_all(staged, paths, n);
    if (s != GA_OK) return cli_fail(cmd, s, "cannot write the output");
    return CLI_OK;
}

void cli_text_discard(cli_text *t) {
    if (t->f) fclose(t->f);
    ga_npy_discard(&t->tmp);
    memset(t, 0, sizeof *t);
}

FILE *cli_report_stream(const char *const paths[], int n) {
    struct stat so, sp, sn;
    if (fstat(1, &so) != 0) return stdout;
    const int have_null = stat("/dev/null", &sn) == 0;
    for (int i = 0; i < n; i++) {
        if (!paths[i] || stat(paths[i], &sp) != 0) continue;
        if (have_null && sp.st_dev == sn.st_dev && sp.st_ino == sn.st_ino) continue;
        if (sp.st_dev == so.st_dev && sp.st_ino == so.st_ino) return stderr;
    }
    return stdout;
}

/* ---- output files: checked before the work ------------------------------------------------- */

/* Who a file is, for "the same file" checks: (device, inode) of an existing file, or, for one not
 * created yet, the canonical path of its directory (realpath) plus its name. */
typedef struct cli_file_id {
    int exists, regular;
    dev_t dev;
    ino_t ino;
    char *canon; /* files not created yet */
} cli_file_id;

static void cli_file_id_of(const char *path, cli_file_id *id) {
    memset(id, 0, sizeof *id);
    struct stat st;
    if (stat(path, &st) == 0) {
        id->exists = 1;
        id->regular = S_ISREG(st.st_mode);
        id->dev = st.st_dev;
        id->ino = st.st_ino;
        return;
    }
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
    char *dir = ga_npy_parent(path);
    char *real = dir ? realpath(dir, NULL) : NULL;
    if (real) {
        size_t n = strlen(real) + strlen(name) + 2;
        id->canon = malloc(n);
        if (id->canon) snprintf(id->canon, n, "%s/%s", real, name);
    }
    free(real);
    ga_free(dir);
}

/* Existing files are the same when they are one regular file (several writes into /dev/null or
 * a FIFO replace nothing); new files when their canonical paths match. */
static int cli_same_file(const cli_file_id *a, const cli_file_id *b) {
    if (a->exists || b->exists)
        return a->exists && b->exists && a->regular && b->regular && a->dev == b->dev && a->ino == b->ino;
    return a->canon && b->canon && !strcmp(a->canon, b->canon);
}

typedef struct cli_outputs_ctx {
    const char *cmd;
    const cli_file *outs;
    const cli_file_id *ids;
    int nout;
    const char *in_opt;
} cli_outputs_ctx;

/* An input must not be one of the outputs. */
static int cli_input_not_written(const char *path, void *p) {
    const cli_outputs_ctx *c = p;
    cli_file_id in;
    cli_file_id_of(path, &in);
    for (int o = 0; o < c->nout; o++) {
        if (!c->outs[o].path || !cli_same_file(&in, &c->ids[o])) continue;
        free(in.canon);
        if (!strcmp(c->in_opt, "graph"))
            return cli_usage(c->cmd, "--%s '%s' is the file '%s' of --graph; an output may not replace an input",
                             c->outs[o].opt, c->outs[o].path, path);
        return cli_usage(c->cmd, "--%s '%s' is the input --%s '%s'; an output may not replace an input",
                         c->outs[o].opt, c->outs[o].path, c->in_opt, path);
    }
    free(in.canon);
    return 0;
}

/* 0 when a new file can be made beside target (the save writes a temporary file there and renames
 * it), else why not (errno). access() answers for root as if every directory took new files, and
 * a directory that does not (procfs, sysfs) says so only when one is made: a probe file, created
 * and removed at once. */
static int cli_probe_create(const char *target) {
    const size_t n = strlen(target) + 48;
    char *path = malloc(n);
    if (!path) return ENOMEM;
    snprintf(path, n, "%s.probe.%ld", target, (long)getpid());
    const int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    const int err = fd < 0 ? errno : 0;
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    free(path);
    return err == EEXIST ? 0 : err; /* EEXIST: a file of that name is there, so files can be made */
}

int cli_check_outputs(const char *cmd, const cli_file *outs, int nout, const cli_file *ins, int nin, const char *spec) {
    cli_file_id ids[CLI_MAX_OUTPUTS];
    int rc = CLI_OK;
    if (nout > CLI_MAX_OUTPUTS) return cli_error(cmd, "internal: too many outputs");
    memset(ids, 0, sizeof ids);
    for (int o = 0; o < nout && rc == CLI_OK; o++) { /* writable; who each is: where its links lead */
        char *target = NULL;
        int in_place;
        ga_status s = outs[o].path ? ga_npy_output_target(outs[o].path, &target, &in_place) : GA_OK;
        if (s != GA_OK) rc = cli_fail(cmd, s, "cannot write --%s '%s'", outs[o].opt, outs[o].path);
        else if (target) {
            cli_file_id_of(target, &ids[o]);
            const int err = in_place ? 0 : cli_probe_create(target);
            if (err) rc = cli_error(cmd, "cannot write --%s '%s': %s", outs[o].opt, outs[o].path, strerror(err));
        }
        ga_free(target);
    }
    for (int o = 0; o < nout && rc == CLI_OK; o++)
        for (int p = 0; p < o && rc == CLI_OK; p++)
            if (outs[o].path && outs[p].path && cli_same_file(&ids[o], &ids[p]))
                rc = cli_usage(cmd, "--%s '%s' and --%s '%s' name the same file", outs[p].opt, outs[p].path, outs[o].opt,
                               outs[o].path);
    cli_outputs_ctx c = {cmd, outs, ids, nout, NULL};
    for (int i = 0; i < nin && rc == CLI_OK; i++) {
        c.in_opt = ins[i].opt;
        if (ins[i].path) rc = cli_input_not_written(ins[i].path, &c);
    }
    c.in_opt = "graph";
    if (rc == CLI_OK && spec) rc = ga_spec_files(spec, cli_input_not_written, &c); /* the files of --graph */
    for (int o = 0; o < nout; o++) free(ids[o].canon);
    return rc;
}

void cli_xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* ---- devices, backends, graphs ------------------------------------------------------------- */

int cli_target_resolve(const char *cmd, const char *device, const char *backend, cli_target *t) {
    memset(t, 0, sizeof *t);
    t->backend = GA_BACKEND_AUTO;
    if (!backend || !strcmp(backend, "auto")) t->backend = GA_BACKEND_AUTO;
    else if (!strcmp(backend, "cpu")) t->backend = GA_BACKEND_CPU;
    else if (!strcmp(backend, "reference")) t->backend = GA_BACKEND_CPU_REFERENCE;
    else if (!strcmp(backend, "cuda")) t->backend = GA_BACKEND_CUDA;
    else return cli_usage(cmd, "--backend: '%s' is not one of auto, cpu, reference, cuda", backend);
    int host_backend = t->backend == GA_BACKEND_CPU || t->backend == GA_BACKEND_CPU_REFERENCE;
    if (!device || !strcmp(device, "auto")) {
        if (host_backend) t->cuda = 0;
        else if (t->backend == GA_BACKEND_CUDA) t->cuda = 1;
        else t->cuda = dev_cuda_compiled() && ga_cuda_device_count() > 0;
    } else if (!strcmp(device, "cpu")) {
        if (t->backend == GA_BACKEND_CUDA) return cli_usage(cmd, "--backend cuda needs --device cuda");
        t->cuda = 0;
    } else if (!strcmp(device, "cuda")) {
        if (host_backend)
            return cli_usage(cmd, "--backend %s runs on host memory; use --device cpu", backend);
        t->cuda = 1;
    } else {
        return cli_usage(cmd, "--device: '%s' is not one of auto, cpu, cuda", device);
    }
    if (t->cuda) {
        if (!dev_cuda_compiled())
            return cli_error(cmd, "this graphattn command was built without CUDA; use --device cpu");
        if (ga_cuda_device_count() <= 0) return cli_error(cmd, "no CUDA device found; use --device cpu");
        /* named now: ga_cuda_device_name clears the library's error detail, so calling it while
         * reporting a failure would lose that failure's detail */
        char name[200] = "?";
        if (ga_cuda_device_name(0, name, sizeof name) != GA_OK) snprintf(name, sizeof name, "?");
        snprintf(t->name, sizeof t->name, "cuda:0 %s", name);
    } else {
        snprintf(t->name, sizeof t->name, "cpu (%s backend)",
                 t->backend == GA_BACKEND_CPU_REFERENCE ? "fp64 reference" : "fast cpu");
    }
    return CLI_OK;
}

const char *cli_target_name(const cli_target *t) { return t->name; }

int cli_graph(const char *cmd, const char *spec, ga_graph **graph) {
    *graph = NULL;
    if (!spec) return cli_usage(cmd, "--graph SPEC is required (see graphattn %s --help)", cmd);
    ga_status s = ga_graph_parse(spec, graph);
    if (s != GA_OK) { /* a spec past 80 characters (a long list) by its first 60 and its length */
        if (strlen(spec) > 80) return cli_fail(cmd, s, "bad --graph '%.60s...' (%zu characters)", spec, strlen(spec));
        return cli_fail(cmd, s, "bad --graph '%s'", spec);
    }
    return CLI_OK;
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- random inputs and conversions --------------------------------------------------------- */

static inline uint64_t cli_mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Inverse of the standard normal CDF (Acklam's rational approximation, relative error ~1e-9):
 * no transcendental calls in the central 95%, so generating inputs costs little next to the
 * attention itself even at N in the millions. */
static double cli_normal_quantile(double p) {
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                6.680131188771972e+01,  -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    const double lo = 0.02425;
    if (p < lo || p > 1 - lo) {
        double q = sqrt(-2 * log(p < lo ? p : 1 - p));
        double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                   ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        return p < lo ? x : -x;
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

void cli_fill_normal(float *dst, int64_t n, uint64_t seed, uint64_t stream, int64_t first) {
    const uint64_t key = cli_mix(seed ^ cli_mix(stream * 0xD1B54A32D192ED03ull + 1));
#pragma omp parallel for schedule(static)
    for (int64_t e = 0; e < n; e++) {
        uint64_t h = cli_mix(key ^ ((uint64_t)(e + first) * 0xA24BAED4963EE407ull));
        double u = ((double)(h >> 11) + 0.5) * 0x1p-53; /* (0, 1) */
        dst[e] = (float)cli_normal_quantile(u);
    }
}

void cli_random_tensor(ga_dtype dtype, void *dst, int64_t n, uint64_t seed, uint64_t stream) {
    if (dtype == GA_F32) { cli_fill_normal((float *)dst, n, seed, stream, 0); return; }
    enum { CHUNK = 1 << 20 };
    float *tmp = malloc(CHUNK * sizeof(float));
    if (!tmp) { /* degrade to per-element generation */
        float one;
        for (int64_t e = 0; e < n; e++) {
            cli_fill_normal(&one, 1, seed, stream, e);
            cli_from_f32(dtype, &one, (uint16_t *)dst + e, 1);
        }
        return;
    }
    for (int64_t e = 0; e < n; e += CHUNK) {
        int64_t m = n - e < CHUNK ? n - e : CHUNK;
        cli_fill_normal(tmp, m, seed, stream, e);
        cli_from_f32(dtype, tmp, (uint16_t *)dst + e, m);
    }
    free(tmp);
}

void cli_from_f32(ga_dtype dtype, const float *src, void *dst, int64_t n) {
    if (dtype == GA_F32) {
        if ((const void *)src != dst) memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    }
    uint16_t *d = (uint16_t *)dst;
#pragma omp parallel for schedule(static)
    for (int64_t e = 0; e < n; e++) d[e] = dtype == GA_F16 ? ga_f32_to_f16(src[e]) : ga_f32_to_bf16(src[e]);
}

void cli_to_f32(ga_dtype dtype, const void *src, float *dst, int64_t n) {
    if (dtype == GA_F32) {
        if (src != (const void *)dst) memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    }
    const uint16_t *s = (const uint16_t *)src;
#pragma omp parallel for schedule(static)
    for (int64_t e = 0; e < n; e++) dst[e] = dtype == GA_F16 ? ga_f16_to_f32(s[e]) : ga_bf16_to_f32(s[e]);
}

double cli_load(ga_dtype dtype, const void *base, int64_t e) {
    switch (dtype) {
    case GA_F32: return ((const float *)base)[e];
    case GA_F16: return ga_f16_to_f32(((const uint16_t *)base)[e]);
    default: return ga_bf16_to_f32(((const uint16_t *)base)[e]);
    }
}

/* ---- one forward pass --------------------------------------------------------------------- */

int cli_tensor_bytes(int64_t a, int64_t b, int64_t c, int64_t d, size_t es, int64_t *bytes) {
    int64_t n = a;
    if (ga_mul_overflow(n, b, &n) || ga_mul_overflow(n, c, &n) || ga_mul_overflow(n, d, &n) ||
        ga_mul_overflow(n, (int64_t)es, &n) || (uint64_t)n > SIZE_MAX)
        return -1;
    *bytes = n;
    return 0;
}

int cli_bytes_sum(const int64_t *parts, int n, int64_t *sum) {
    int64_t s = 0;
    for (int i = 0; i < n; i++)
        if (ga_add_overflow(s, parts[i], &s)) return -1;
    *sum = s;
    return 0;
}

/* a "Key:  N kB" line's bytes from /proc/meminfo, -1 where it is missing */
static int64_t cli_meminfo(const char *text, const char *key) {
    const char *p = strstr(text, key);
    long long kb;
    return p && sscanf(p + strlen(key), " %lld", &kb) == 1 && kb >= 0 ? (int64_t)kb * 1024 : -1;
}

/* the first int64 in a file ("max" or unreadable: -1) */
static int64_t cli_read_i64(const char *path) {
    FILE *f = fopen(path, "r");
    long long v = -1;
    if (f) {
        if (fscanf(f, "%lld", &v) != 1) v = -1;
        fclose(f);
    }
    return v;
}

int64_t cli_host_memory_available(void) {
    int64_t avail = -1;
    char text[8192];
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        const int64_t a = cli_meminfo(text, "MemAvailable:"), sw = cli_meminfo(text, "SwapFree:");
        if (a >= 0) avail = a + (sw > 0 ? sw : 0);
    }
    /* cgroup v2: this process's group ("0::/path" in /proc/self/cgroup) */
    f = fopen("/proc/self/cgroup", "r");
    if (f) {
        char line[4096];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "0::", 3) != 0) continue;
            line[strcspn(line, "\n")] = '\0';
            char path[4200];
            snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", line + 3);
            const int64_t max = cli_read_i64(path);
            snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.current", line + 3);
            const int64_t cur = cli_read_i64(path);
            if (max >= 0 && cur >= 0) {
                const int64_t left = max > cur ? max - cur : 0;
                if (avail < 0 || left < avail) avail = left;
            }
            break;
        }
        fclose(f);
    }
    return avail;
}

int cli_host_memory_check(const char *cmd, int64_t bytes, const char *what) {
    const int64_t avail = cli_host_memory_available();
    if (avail < 0 || bytes <= avail) return CLI_OK;
    return cli_error(cmd, "out of host memory for %s: needs %.2f GiB, %.2f GiB available", what,
                     (double)bytes / (1u << 30), (double)avail / (1u << 30));
}

static ga_status cli_bytes(int64_t a, int64_t b, int64_t c, int64_t d, size_t es, size_t *out) {
    int64_t n;
    GA_FAIL_IF(cli_tensor_bytes(a, b, c, d, es, &n), GA_ERR_OVERFLOW, "tensor size %lld x %lld x %lld x %lld overflows",
               (long long)a, (long long)b, (long long)c, (long long)d);
    *out = (size_t)n;
    return GA_OK;
}

ga_status cli_exec_setup(cli_exec *x, const cli_target *t, const ga_graph *g, ga_dtype dtype, const int64_t qs[4],
                         const int64_t kvs[4], const void *q, const void *k, const void *v, void *host_out,
                         float *host_lse, const ga_options *opt) {
    memset(x, 0, sizeof *x);
    x->target = *t;
    x->host_out = host_out;
    x->host_lse = host_lse;
    x->want_lse = host_lse != NULL;
    size_t es = ga_dtype_size(dtype);
    GA_TRY(cli_bytes(qs[0], qs[1], qs[2], qs[3], es, &x->q_bytes));
    GA_TRY(cli_bytes(kvs[0], kvs[1], kvs[2], kvs[3], es, &x->kv_bytes));
    GA_TRY(cli_bytes(qs[0], qs[1], qs[2], 1, sizeof(float), &x->lse_bytes));
    x->out_bytes = x->q_bytes;
    ga_device_type dev = t->cuda ? GA_DEVICE_CUDA : GA_DEVICE_CPU;
    void *dq = (void *)q, *dk = (void *)k, *dv = (void *)v, *dout = host_out, *dlse = host_lse;
    if (t->cuda) {
        dq = dk = dv = dout = dlse = NULL;
        ga_status s = dev_alloc(1, x->q_bytes, &dq);
        if (s == GA_OK) s = dev_alloc(1, x->kv_bytes, &dk);
        if (s == GA_OK) s = dev_alloc(1, x->kv_bytes, &dv);
        if (s == GA_OK) s = dev_alloc(1, x->out_bytes, &dout);
        if (s == GA_OK && x->want_lse) s = dev_alloc(1, x->lse_bytes, &dlse);
        if (s == GA_OK) s = dev_upload(1, dq, q, x->q_bytes);
        if (s == GA_OK) s = dev_upload(1, dk, k, x->kv_bytes);
        if (s == GA_OK) s = dev_upload(1, dv, v, x->kv_bytes);
        x->q.data = dq; /* so that cli_exec_free releases what was allocated */
        x->k.data = dk;
        x->v.data = dv;
        x->out.data = dout;
        x->lse.data = dlse;
        if (s != GA_OK) { cli_exec_free(x); return s; }
    }
    /* each tensor from its own shape, so that the library's shape checks see what was given */
    x->q = ga_tensor_make(dq, dtype, dev, qs[0], qs[1], qs[2], qs[3]);
    x->k = ga_tensor_make(dk, dtype, dev, kvs[0], kvs[1], kvs[2], kvs[3]);
    x->v = ga_tensor_make(dv, dtype, dev, kvs[0], kvs[1], kvs[2], kvs[3]);
    x->out = ga_tensor_make(dout, dtype, dev, qs[0], qs[1], qs[2], qs[3]);
    x->lse = ga_tensor_make(dlse, GA_F32, dev, qs[0], qs[1], qs[2], 1);
    ga_status s = ga_attention_workspace_size(g, &x->q, &x->k, &x->v, opt, &x->workspace_bytes);
    if (s == GA_OK && x->workspace_bytes) s = dev_alloc(t->cuda, x->workspace_bytes, &x->workspace);
    if (s != GA_OK) { cli_exec_free(x); return s; }
    return GA_OK;
}

ga_status cli_exec_run(cli_exec *x, const ga_graph *g, const ga_options *opt, int poison) {
    int cuda = x->target.cuda;
    if (poison) {
        GA_TRY(dev_memset(cuda, x->out.data, 0xff, x->out_bytes));
        if (x->want_lse) GA_TRY(dev_memset(cuda, x->lse.data, 0xff, x->lse_bytes));
    }
    GA_TRY(ga_attention_forward(g, &x->q, &x->k, &x->v, &x->out, x->want_lse ? &x->lse : NULL, opt, x->workspace,
                                x->workspace_bytes));
    return dev_sync(cuda);
}

ga_status cli_exec_fetch(cli_exec *x) {
    if (!x->target.cuda) return GA_OK;
    GA_TRY(dev_download(1, x->host_out, x->out.data, x->out_bytes));
    if (x->want_lse) GA_TRY(dev_download(1, x->host_lse, x->lse.data, x->lse_bytes));
    return GA_OK;
}

void cli_exec_free(cli_exec *x) {
    if (x->target.cuda) {
        dev_free(1, x->q.data);
        dev_free(1, x->k.data);
        dev_free(1, x->v.data);
        dev_free(1, x->out.data);
        dev_free(1, x->lse.data);
    }
    dev_free(x->target.cuda, x->workspace);
    memset(x, 0, sizeof *x);
}

const char cli_spec_help[] =
    "Graph specs (SPEC := COMPONENT ('+' COMPONENT)*, a union; an edge counts once):\n"
    "  dense                 every (i, j)\n"
    "  causal                j <= i (bottom-right aligned when Nq != Nk)\n"
    "  window:W | window:L,R i'-L <= j <= i'+R, i' = i + Nk - Nq  (window:W is W,W; window:W,0 is a\n"
    "                        causal window)\n"
    "  dilated:W,S           keys i' + k*S for -W <= k <= W\n"
    "  blocks:B              i/B == j/B\n"
    "  longnet:S,R,O         i/S == j/S and i%R == O and j%R == O\n"
    "  global:I1,I2,...      listed tokens attend to all keys and all queries attend to them\n"
    "  random:R,SEED         R keys per query from a seeded hash (ga_hash64, splitmix64)\n"
    "  bigbird:B,W,G,R,SEED  blocks of B tokens: W window blocks each side, G global blocks, R random\n"
    "  documents:B1,B2,...   packed documents: the sorted bounds cut the keys; j in the document of i\n"
    "                        (i' = i + Nk - Nq when Nq != Nk); cu_seqlens works as is\n"
    "  causal_documents:B1,B2,...\n"
    "                        the same, causal inside each document (j <= i')\n"
    "  csr:PTR.npy,IDX.npy   explicit CSR (int64 row offsets; int32 or int64 sorted column indices)\n"
    "  coo:ROW.npy,COL.npy   explicit COO pairs (int32 or int64)\n";
