/* ga_e2e.c -- a helper for the end-to-end tests of the graphattn command (tools/e2e/e2e.sh),
 * so that they need neither Python nor NumPy:
 *
 *   ga_e2e gen FILE DTYPE SEED STREAM D0,D1,...   unit-normal array (f32, f16, or bf16bits: uint16
 *                                                 raw bf16), from the generator `check` uses
 *   ga_e2e compare A.npy B.npy TOL                same shape; max |a - b| <= TOL (uint16 read as
 *                                                 bf16 bits; -inf == -inf; NaN always fails)
 *   ga_e2e bad KIND FILE                          a malformed .npy: badmagic, truncated, fortran,
 *                                                 int64, trailing, bigheader, float64, hugeshape
 *                                                 (a shape whose size overflows int64), bigshape
 *                                                 (a valid header claiming 2^40 elements, no data)
 *   ga_e2e ints FILE i32|i64 V0,V1,...            a 1-D integer array (explicit graphs, bad or not)
 *   ga_e2e desc FILE                              prints "DTYPE SHAPE", e.g. "float32 (2, 3)"
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/half.h"
#include "io/npy.h"

static int fail(const char *what) {
    fprintf(stderr, "ga_e2e: %s: %s\n", what, ga_last_error_detail());
    return 1;
}

static double element(const ga_npy_array *a, int64_t e) {
    switch (a->dtype) {
    case GA_NPY_F32: return ((const float *)a->data)[e];
    case GA_NPY_F16: return ga_f16_to_f32(((const uint16_t *)a->data)[e]);
    case GA_NPY_U16: return ga_bf16_to_f32(((const uint16_t *)a->data)[e]);
    case GA_NPY_F64: return ((const double *)a->data)[e];
    case GA_NPY_I32: return ((const int32_t *)a->data)[e];
    case GA_NPY_I64: return (double)((const int64_t *)a->data)[e];
    default: return ((const uint8_t *)a->data)[e];
    }
}

static int gen(int argc, char **argv) {
    if (argc != 7) return fprintf(stderr, "usage: ga_e2e gen FILE DTYPE SEED STREAM D0,D1,...\n"), 2;
    int64_t shape[8];
    int nd = cli_int64_list("e2e", "shape", argv[6], 0, shape, 8);
    if (nd < 0) return 2;
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= shape[d];
    ga_dtype dt;
    ga_npy_dtype nt;
    if (!strcmp(argv[3], "f32")) { dt = GA_F32; nt = GA_NPY_F32; }
    else if (!strcmp(argv[3], "f16")) { dt = GA_F16; nt = GA_NPY_F16; }
    else if (!strcmp(argv[3], "bf16bits")) { dt = GA_BF16; nt = GA_NPY_U16; }
    else return fprintf(stderr, "ga_e2e gen: dtype f32, f16 or bf16bits\n"), 2;
    void *buf = malloc((size_t)n * ga_dtype_size(dt) + 1);
    cli_random_tensor(dt, buf, n, strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10));
    ga_status s = ga_npy_save(argv[2], nt, nd, shape, buf);
    free(buf);
    return s == GA_OK ? 0 : fail("gen");
}

static int compare(int argc, char **argv) {
    if (argc != 5) return fprintf(stderr, "usage: ga_e2e compare A.npy B.npy TOL\n"), 2;
    ga_npy_array a, b;
    if (ga_npy_load(argv[2], &a) != GA_OK) return fail("compare");
    if (ga_npy_load(argv[3], &b) != GA_OK) return fail("compare");
    double tol = atof(argv[4]);
    if (a.ndim != b.ndim || memcmp(a.shape, b.shape, sizeof(int64_t) * (size_t)a.ndim) != 0) {
        char sa[128], sb[128];
        ga_npy_shape_string(a.ndim, a.shape, sa, sizeof sa);
        ga_npy_shape_string(b.ndim, b.shape, sb, sizeof sb);
        fprintf(stderr, "ga_e2e compare: shapes differ: %s vs %s\n", sa, sb);
        return 1;
    }
    double worst = 0;
    int64_t at = -1, bad = 0;
    for (int64_t e = 0; e < a.count; e++) {
        double x = element(&a, e), y = element(&b, e), d;
        if (isnan(x) || isnan(y)) d = INFINITY, bad++;
        else if (isinf(x) || isinf(y)) d = x == y ? 0 : INFINITY;
        else d = fabs(x - y);
        if (d > worst || at < 0) { worst = d; at = e; }
    }
    printf("max |a - b| = %.3e at element %lld of %lld (tolerance %.1e)%s\n", worst, (long long)at,
           (long long)a.count, tol, bad ? " NaN present" : "");
    ga_npy_free(&a);
    ga_npy_free(&b);
    return worst <= tol && !bad ? 0 : 1;
}

static int bad(int argc, char **argv) {
    if (argc != 4) return fprintf(stderr, "usage: ga_e2e bad KIND FILE\n"), 2;
    const char *kind = argv[2];
    char dict[256];
    const char *descr = "<f4", *fortran = "False", *shape = "(4, 2, 8)";
    if (!strcmp(kind, "int64") || !strcmp(kind, "float64")) descr = !strcmp(kind, "int64") ? "<i8" : "<f8";
    if (!strcmp(kind, "fortran")) fortran = "True";
    if (!strcmp(kind, "hugeshape")) shape = "(4294967296, 4294967296, 8)";
    if (!strcmp(kind, "bigshape")) shape = "(1099511627776, 1, 1)";
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, fortran, shape);
    while ((10 + n + 1) % 64) dict[n++] = ' ';
    dict[n++] = '\n';
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xff), (unsigned char)(n >> 8)};
    size_t data = 4 * 2 * 8 * (strcmp(descr, "<f4") ? 8 : 4);
    if (!strcmp(kind, "badmagic")) pre[1] = 'X';
    if (!strcmp(kind, "truncated")) data -= 5;
    if (!strcmp(kind, "trailing")) data += 3;
    FILE *f = fopen(argv[3], "wb");
    if (!f) return perror(argv[3]), 1;
    if (!strcmp(kind, "bigheader")) { /* version 2.0 claiming a 1 MiB header */
        unsigned char p2[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0x10, 0};
        fwrite(p2, 1, sizeof p2, f);
        fwrite(dict, 1, (size_t)n, f);
    } else {
        fwrite(pre, 1, sizeof pre, f);
        fwrite(dict, 1, (size_t)n, f);
        for (size_t i = 0; i < data; i++) fputc((int)(i % 7 + 1), f);
    }
    fclose(f);
    return 0;
}

static int ints(int argc, char **argv) {
    if (argc != 5) return fprintf(stderr, "usage: ga_e2e ints FILE i32|i64 V0,V1,...\n"), 2;
    int64_t vals[4096];
    int n = 0;
    if (strcmp(argv[4], "-") != 0) /* "-": an empty array */
        for (char *s = argv[4], *end; *s && n < 4096; s = *end ? end + 1 : end) {
            vals[n++] = strtoll(s, &end, 10);
            if (end == s) return fprintf(stderr, "ga_e2e ints: bad list '%s'\n", argv[4]), 2;
        }
    const int64_t count = n;
    ga_status st;
    if (!strcmp(argv[3], "i32")) {
        int32_t v32[4096];
        for (int i = 0; i < n; i++) v32[i] = (int32_t)vals[i];
        st = ga_npy_save(argv[2], GA_NPY_I32, 1, &count, v32);
    } else if (!strcmp(argv[3], "i64")) {
        st = ga_npy_save(argv[2], GA_NPY_I64, 1, &count, vals);
    } else {
        return fprintf(stderr, "ga_e2e ints: dtype i32 or i64\n"), 2;
    }
    return st == GA_OK ? 0 : fail("ints");
}

static int desc(int argc, char **argv) {
    if (argc != 3) return fprintf(stderr, "usage: ga_e2e desc FILE\n"), 2;
    ga_npy_array a;
    if (ga_npy_load(argv[2], &a) != GA_OK) return fail("desc");
    char s[256];
    ga_npy_shape_string(a.ndim, a.shape, s, sizeof s);
    printf("%s %s\n", ga_npy_dtype_name(a.dtype), s);
    ga_npy_free(&a);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "gen")) return gen(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "compare")) return compare(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "bad")) return bad(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "desc")) return desc(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "ints")) return ints(argc, argv);
    fprintf(stderr, "usage: ga_e2e gen|compare|bad|desc|ints ...\n");
    return 2;
}
