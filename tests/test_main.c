/* The test runner: `prog` runs every registered test, `prog NAME...` runs the named ones,
 * `prog --list` prints the names. Exit status 0 only if nothing failed. */
#include <stdarg.h>
#include <stdlib.h>

#include "test.h"

#define GA_MAX_TESTS 1024
static struct { const char *name; ga_test_fn fn; } tests[GA_MAX_TESTS];
static int ntests, failures_in_test, skipped_in_test;
static const char *current;

void ga_test_register(const char *name, ga_test_fn fn) {
    if (ntests < GA_MAX_TESTS) { tests[ntests].name = name; tests[ntests].fn = fn; ntests++; }
}

void ga_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    failures_in_test++;
    if (failures_in_test > 20) return; /* enough to see the pattern */
    fprintf(stderr, "  FAIL %s (%s:%d): ", current, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void ga_test_skip(const char *why) {
    skipped_in_test = 1;
    fprintf(stderr, "  SKIP %s: %s\n", current, why);
}

int ga_test_failures(void) { return failures_in_test; }

static int run(int t, int *passed, int *failed, int *skipped) {
    current = tests[t].name;
    failures_in_test = 0;
    skipped_in_test = 0;
    tests[t].fn();
    if (failures_in_test) { (*failed)++; fprintf(stderr, "[FAIL] %s (%d failures)\n", current, failures_in_test); }
    else if (skipped_in_test) (*skipped)++;
    else { (*passed)++; fprintf(stderr, "[ ok ] %s\n", current); }
    return failures_in_test == 0;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0, skipped = 0;
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (int t = 0; t < ntests; t++) printf("%s\n", tests[t].name);
        return 0;
    }
    if (argc > 1) {
        for (int a = 1; a < argc; a++) {
            int found = 0;
            for (int t = 0; t < ntests; t++)
                if (strcmp(tests[t].name, argv[a]) == 0) { found = 1; run(t, &passed, &failed, &skipped); }
            if (!found) { fprintf(stderr, "no test named %s\n", argv[a]); failed++; }
        }
    } else {
        for (int t = 0; t < ntests; t++) run(t, &passed, &failed, &skipped);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}

ga_graph *ga_test_parse_at(const char *file, int line, const char *spec) {
    ga_graph *g = NULL;
    if (ga_graph_parse(spec, &g) != GA_OK) {
        ga_test_fail(file, line, "ga_graph_parse(\"%s\"): %s", spec, ga_last_error_detail());
        return NULL;
    }
    return g;
}

ga_graph *ga_test_csr_of_at(const char *file, int line, const char *spec, int64_t n, int wide) {
    ga_graph *src = ga_test_parse_at(file, line, spec), *g = NULL;
    if (!src) return NULL;
    int64_t edges = 0;
    ga_graph_count_edges(src, n, n, &edges);
    int64_t *ptr = malloc((size_t)(n + 1) * 8), *col = malloc((size_t)(edges + 1) * 8);
    int32_t *c32 = wide ? NULL : malloc((size_t)(edges + 1) * 4);
    ga_status st = ga_graph_to_csr(src, n, n, ptr, col, edges);
    ga_graph_destroy(src);
    if (st == GA_OK) st = ga_graph_create(&g);
    if (st == GA_OK && wide) st = ga_graph_add_csr(g, n, n, ptr, col, GA_INDEX_INT64);
    if (st == GA_OK && !wide) {
        for (int64_t e = 0; e < edges; e++) c32[e] = (int32_t)col[e];
        st = ga_graph_add_csr(g, n, n, ptr, c32, GA_INDEX_INT32);
    }
    free(ptr), free(col), free(c32);
    if (st != GA_OK) {
        ga_test_fail(file, line, "csr of %s over %lld: %s", spec, (long long)n, ga_last_error_detail());
        ga_graph_destroy(g);
        return NULL;
    }
    return g;
}
