/* spec.c -- the graph spec grammar shared by the command line, Python and the docs:
 *
 *   SPEC := COMPONENT ('+' COMPONENT)*
 *   COMPONENT := dense | causal | window:W | window:L,R | dilated:W,S | blocks:B | longnet:S,R,O
 *              | documents:B1,B2,... | causal_documents:B1,B2,...
 *              | global:I1,I2,... | random:R,SEED | bigbird:B,W,G,R,SEED | csr:PTR.npy,IDX.npy
 *              | coo:ROW.npy,COL.npy
 *
 * Integers are decimal (a leading '-' parses, and the component then rejects it with its own
 * message). File paths may not contain ',' or '+'. Every error names the component and the
 * character offset where it starts. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "graph/graph.h"

#define GA_SPEC_MAX_ARGS 4096

typedef struct {
    const char *spec;   /* whole spec, for messages */
    const char *name;   /* component name start (its text, blanks trimmed, is name .. name + len) */
    size_t name_len;    /* 0 with args NULL: an empty component */
    const char *args;   /* after ':' (or NULL) */
    size_t args_len;
    size_t offset;      /* of the component in the spec */
    size_t len;         /* of its text */
    size_t start;       /* where its text starts before the blanks (after the '+' before it) */
} ga_spec_part;

/* The component of spec at *s (the start of spec or just after a '+'): fills *p and moves *s past
 * the next '+', or to NULL after the last component. Blanks around the component and its name
 * are trimmed. The one splitting of the grammar: the parser and ga_spec_files use it. */
static void ga_spec_split(const char *spec, const char **s, ga_spec_part *p) {
    const char *plus = strchr(*s, '+'), *a = *s, *b = plus ? plus : *s + strlen(*s);
    p->spec = spec;
    p->start = (size_t)(*s - spec);
    *s = plus ? plus + 1 : NULL;
    while (a < b && isspace((unsigned char)*a)) a++;
    while (b > a && isspace((unsigned char)b[-1])) b--;
    const char *colon = memchr(a, ':', (size_t)(b - a));
    p->name = a;
    p->name_len = (size_t)((colon ? colon : b) - a);
    while (p->name_len && isspace((unsigned char)a[p->name_len - 1])) p->name_len--;
    p->args = colon ? colon + 1 : NULL;
    p->args_len = colon ? (size_t)(b - colon - 1) : 0;
    p->offset = (size_t)(a - spec);
    p->len = (size_t)(b - a);
}

/* A component past 80 characters (a long list) is quoted by its first 60 and its length */
static ga_status ga_spec_error(const ga_spec_part *p, const char *what) {
    const size_t len = p->name_len + (p->args ? p->args_len + 1 : 0);
    if (len > 80)
        return ga_raise(GA_ERR_SPEC_SYNTAX, __FILE__, __LINE__,
                        "graph spec: %s in component '%.60s...' (%zu characters) at offset %zu", what, p->name, len,
                        p->offset);
    return ga_raise(GA_ERR_SPEC_SYNTAX, __FILE__, __LINE__, "graph spec: %s in component '%.*s' at offset %zu",
                    what, (int)len, p->name, p->offset);
}

/* Whether the component's text ends where a '+' follows: an argument written with a '+' sign
 * ("window:+3") splits into two components there, and the message should say so. */
static int ga_spec_plus_follows(const ga_spec_part *p) {
    const char *e = p->spec + p->offset + p->len;
    while (*e && isspace((unsigned char)*e)) e++;
    return *e == '+';
}

/* Split args on ',' into int64 values; returns count or -1 on a syntax error. */
static int64_t ga_spec_ints(const ga_spec_part *p, int64_t *vals, int64_t max, ga_status *st) {
    int64_t n = 0;
    const char *s = p->args;
    if (!s || p->args_len == 0) {
        *st = ga_spec_error(p, ga_spec_plus_follows(p) ? "missing arguments ('+' joins components: an integer in a "
                                                         "spec takes no '+' sign)"
                                                       : "missing arguments");
        return -1;
    }
    const char *end = s + p->args_len; /* only now: NULL + 0 is undefined behaviour */
    while (s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *e = comma ? comma : end;
        while (s < e && isspace((unsigned char)*s)) s++;
        const char *te = e;
        while (te > s && isspace((unsigned char)te[-1])) te--;
        if (te == s) {
            *st = ga_spec_error(p, !comma && ga_spec_plus_follows(p) ? "empty argument ('+' joins components: an "
                                                                      "integer in a spec takes no '+' sign)"
                                                                    : "empty argument");
            return -1;
        }
        char buf[32];
        size_t len = (size_t)(te - s);
        if (len >= sizeof buf) { *st = ga_spec_error(p, "argument is too long for an integer"); return -1; }
        memcpy(buf, s, len);
        buf[len] = '\0';
        char *stop;
        errno = 0;
        /* decimal, or 2^K (K in [0, 62]) as on the rest of the command line */
        const int pow2 = buf[0] == '2' && buf[1] == '^' && isdigit((unsigned char)buf[2]);
        long long v = strtoll(pow2 ? buf + 2 : buf, &stop, 10);
        if (pow2 && *stop == '\0' && errno == 0) {
            if (v > 62) errno = ERANGE;
            else v = 1LL << v;
        }
        if (*stop != '\0' || stop == buf) {
            char msg[96];
            snprintf(msg, sizeof msg, "'%s' is not an integer", buf);
            *st = ga_spec_error(p, msg);
            return -1;
        }
        if (errno == ERANGE) { *st = ga_spec_error(p, "integer out of range"); return -1; }
        if (n >= max) {
            *st = ga_spec_error(p, max == GA_SPEC_MAX_ARGS ? "too many arguments (a spec lists at most 4096)"
                                                           : "too many arguments");
            return -1;
        }
        vals[n++] = v;
        if (!comma) break;
        s = comma + 1;
    }
    return n;
}

/* Where the two comma-separated paths of a csr:/coo: component lie (path f: from[f], len[f]
 * bytes): NULL, or what is wrong with them. */
static const char *ga_spec_path_spans(const ga_spec_part *p, const char *from[2], size_t len[2]) {
    if (!p->args || p->args_len == 0) return "missing two .npy paths";
    const char *comma = memchr(p->args, ',', p->args_len);
    if (!comma) return "expected two .npy paths separated by ','";
    const char *end = p->args + p->args_len;
    if (memchr(comma + 1, ',', (size_t)(end - comma - 1))) return "expected exactly two paths";
    from[0] = p->args;
    len[0] = (size_t)(comma - p->args);
    from[1] = comma + 1;
    len[1] = (size_t)(end - comma - 1);
    for (int k = 0; k < 2; k++) { /* whitespace around a path, as around every token */
        while (len[k] > 0 && isspace((unsigned char)from[k][0])) from[k]++, len[k]--;
        while (len[k] > 0 && isspace((unsigned char)from[k][len[k] - 1])) len[k]--;
    }
    if (len[0] == 0 || len[1] == 0) return "empty path";
    return NULL;
}

static char *ga_spec_copy(const char *from, size_t len) {
    char *c = ga_malloc(len + 1);
    if (c) {
        memcpy(c, from, len);
        c[len] = '\0';
    }
    return c;
}

/* Two comma-separated paths. */
static ga_status ga_spec_paths(const ga_spec_part *p, char **a, char **b) {
    *a = *b = NULL;
    const char *from[2];
    size_t len[2];
    const char *why = ga_spec_path_spans(p, from, len);
    if (why) return ga_spec_error(p, why);
    *a = ga_spec_copy(from[0], len[0]);
    *b = ga_spec_copy(from[1], len[1]);
    if (!*a || !*b) {
        ga_free(*a); ga_free(*b); *a = *b = NULL;
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "graph spec: out of memory");
    }
    return GA_OK;
}

static int ga_name_is(const ga_spec_part *p, const char *name) {
    return strlen(name) == p->name_len && memcmp(p->name, name, p->name_len) == 0;
}

/* The smallest count that holds index i (i + 1), saturated at INT64_MAX so that an index of
 * INT64_MAX in a file does not overflow: the validator then rejects it as out of range. */
static int64_t ga_bound_after(int64_t i) { return i == INT64_MAX ? INT64_MAX : i + 1; }

static ga_status ga_spec_explicit(ga_graph *g, const ga_spec_part *p, int is_csr) {
    char *pa, *pb;
    GA_TRY(ga_spec_paths(p, &pa, &pb));
    void *a = NULL, *b = NULL;
    int64_t na = 0, nb = 0;
    ga_index_type ta, tb;
    ga_status st = ga_npy_load_index(pa, &a, &na, &ta);
    if (st == GA_OK) st = ga_npy_load_index(pb, &b, &nb, &tb);
    if (st == GA_OK && is_csr) {
        if (ta != GA_INDEX_INT64) st = ga_raise(GA_ERR_FILE_FORMAT, __FILE__, __LINE__, "csr: row offsets %s must be int64", pa);
        else if (na < 2) st = ga_raise(GA_ERR_FILE_FORMAT, __FILE__, __LINE__, "csr: row offsets %s need at least 2 entries", pa);
        else if (((int64_t *)a)[na - 1] != nb)
            st = ga_raise(GA_ERR_ROW_PTR_END, __FILE__, __LINE__,
                          "csr: row_ptr[%lld] = %lld but %s holds %lld column indices", (long long)(na - 1),
                          (long long)((int64_t *)a)[na - 1], pb, (long long)nb);
        else /* the files do not store the number of columns: an open count (ncols 0), the
              * largest column + 1 as a lower bound, so any Nk above it is accepted (keys past it
              * simply have no edges) */
            st = ga_graph_add_csr(g, na - 1, 0, a, b, tb);
    } else if (st == GA_OK) {
        if (na != nb) st = ga_raise(GA_ERR_FILE_FORMAT, __FILE__, __LINE__, "coo: %s has %lld entries but %s has %lld",
                                    pa, (long long)na, pb, (long long)nb);
        else if (ta != tb) st = ga_raise(GA_ERR_FILE_FORMAT, __FILE__, __LINE__, "coo: %s and %s have different dtypes", pa, pb);
        else {
            int64_t nrows = 1;
            for (int64_t e = 0; e < na; e++) {
                int64_t r = ta == GA_INDEX_INT32 ? ((int32_t *)a)[e] : ((int64_t *)a)[e];
                if (r >= nrows) nrows = ga_bound_after(r);
            }
            /* an open key count (as csr's); nrows came from the largest row index */
            st = ga_graph_add_coo(g, nrows, 0, na, a, b, ta);
            if (st == GA_OK) g->comps[g->count - 1].p[1] = 1;
        }
    }
    ga_free(a); ga_free(b); ga_free(pa); ga_free(pb);
    return st;
}

static ga_status ga_spec_component(ga_graph *g, const ga_spec_part *p) {
    int64_t v[8];
    ga_status st = GA_OK;
    int64_t n;
    if (ga_name_is(p, "dense") || ga_name_is(p, "causal")) {
        if (p->args) return ga_spec_error(p, "takes no arguments");
        return ga_name_is(p, "dense") ? ga_graph_add_dense(g) : ga_graph_add_causal(g);
    }
    if (ga_name_is(p, "window")) {
        if ((n = ga_spec_ints(p, v, 2, &st)) < 0) return st;
        return n == 1 ? ga_graph_add_window(g, v[0], v[0]) : ga_graph_add_window(g, v[0], v[1]);
    }
    if (ga_name_is(p, "dilated")) {
        if ((n = ga_spec_ints(p, v, 2, &st)) < 0) return st;
        if (n != 2) return ga_spec_error(p, "expected dilated:W,S");
        return ga_graph_add_dilated(g, v[0], v[1]);
    }
    if (ga_name_is(p, "blocks")) {
        if ((n = ga_spec_ints(p, v, 1, &st)) < 0) return st;
        return ga_graph_add_blocks(g, v[0]);
    }
    if (ga_name_is(p, "longnet")) {
        if ((n = ga_spec_ints(p, v, 3, &st)) < 0) return st;
        if (n != 3) return ga_spec_error(p, "expected longnet:S,R,O");
        return ga_graph_add_longnet(g, v[0], v[1], v[2]);
    }
    if (ga_name_is(p, "random")) {
        if ((n = ga_spec_ints(p, v, 2, &st)) < 0) return st;
        if (n != 2) return ga_spec_error(p, "expected random:R,SEED");
        return ga_graph_add_random(g, v[0], (uint64_t)v[1]);
    }
    if (ga_name_is(p, "bigbird")) {
        if ((n = ga_spec_ints(p, v, 5, &st)) < 0) return st;
        if (n != 5) return ga_spec_error(p, "expected bigbird:B,W,G,R,SEED");
        return ga_graph_add_bigbird(g, v[0], v[1], v[2], v[3], (uint64_t)v[4]);
    }
    if (ga_name_is(p, "global")) {
        int64_t *list = ga_malloc(GA_SPEC_MAX_ARGS * sizeof *list);
        GA_FAIL_IF(!list, GA_ERR_OUT_OF_MEMORY, "graph spec: out of memory");
        n = ga_spec_ints(p, list, GA_SPEC_MAX_ARGS, &st);
        if (n > 0) st = ga_graph_add_global(g, list, n);
        ga_free(list);
        return st;
    }
    if (ga_name_is(p, "documents") || ga_name_is(p, "causal_documents")) {
        int64_t *list = ga_malloc(GA_SPEC_MAX_ARGS * sizeof *list);
        GA_FAIL_IF(!list, GA_ERR_OUT_OF_MEMORY, "graph spec: out of memory");
        n = ga_spec_ints(p, list, GA_SPEC_MAX_ARGS, &st);
        if (n > 0) st = ga_graph_add_documents(g, list, n, ga_name_is(p, "causal_documents"));
        ga_free(list);
        return st;
    }
    if (ga_name_is(p, "csr")) return ga_spec_explicit(g, p, 1);
    if (ga_name_is(p, "coo")) return ga_spec_explicit(g, p, 0);
    return ga_spec_error(p, "unknown component (expected dense, causal, window, dilated, blocks, longnet, "
                            "global, random, bigbird, documents, causal_documents, csr or coo)");
}

/* Parse spec and add its components to g, in order; stops at the first failure (g then holds
 * the components before it: callers parse into a graph of their own). */
static ga_status ga_spec_parse_into(ga_graph *g, const char *spec) {
    for (const char *s = spec; s;) {
        ga_spec_part p;
        ga_spec_split(spec, &s, &p);
        if (!p.name_len && !p.args) /* the offset of where the empty component starts */
            return ga_raise(GA_ERR_SPEC_SYNTAX, __FILE__, __LINE__, "graph spec: empty component at offset %zu of '%s'",
                            p.start, spec);
        ga_status st = ga_spec_component(g, &p);
        if (st != GA_OK) {
            if (st != GA_ERR_SPEC_SYNTAX) {
                /* keep the component's own status, and say where it came from */
                char detail[1024];
                snprintf(detail, sizeof detail, "%s", ga_last_error_detail());
                st = ga_raise(st, __FILE__, __LINE__, "graph spec: component '%.*s' at offset %zu: %s", (int)p.len,
                              p.name, p.offset, detail);
            }
            return st;
        }
    }
    return GA_OK;
}

int ga_spec_files(const char *spec, int (*visit)(const char *path, void *ctx), void *ctx) {
    for (const char *s = spec; s;) {
        ga_spec_part p;
        ga_spec_split(spec, &s, &p);
        if (!ga_name_is(&p, "csr") && !ga_name_is(&p, "coo")) continue;
        const char *from[2];
        size_t len[2];
        if (ga_spec_path_spans(&p, from, len)) continue; /* the parser reports it */
        for (int f = 0; f < 2; f++) {
            char *path = ga_spec_copy(from[f], len[f]);
            const int rc = path ? visit(path, ctx) : 0;
            ga_free(path);
            if (rc) return rc;
        }
    }
    return 0;
}

/* spec parsed into a new graph (*out); on failure none is left */
static ga_status spec_new_graph(const char *spec, ga_graph **out) {
    ga_graph *g;
    GA_TRY(ga_graph_create(&g));
    const ga_status st = ga_spec_parse_into(g, spec);
    if (st != GA_OK) {
        ga_graph_destroy(g);
        return st;
    }
    *out = g;
    return GA_OK;
}

ga_status ga_graph_parse(const char *spec, ga_graph **out) {
    ga_clear_error();
    GA_FAIL_IF(!spec, GA_ERR_NULL_POINTER, "ga_graph_parse: spec is NULL");
    GA_FAIL_IF(!out, GA_ERR_NULL_POINTER, "ga_graph_parse: graph is NULL");
    return spec_new_graph(spec, out);
}

ga_status ga_graph_add_spec(ga_graph *graph, const char *spec) {
    ga_clear_error();
    GA_FAIL_IF(!graph, GA_ERR_NULL_POINTER, "ga_graph_add_spec: graph is NULL");
    GA_FAIL_IF(!spec, GA_ERR_NULL_POINTER, "ga_graph_add_spec: spec is NULL");
    /* parsed into a graph of its own first, so that a failure anywhere in the spec (a bad
     * component, an unreadable file, memory) leaves the caller's graph as it was */
    ga_graph *parts;
    GA_TRY(spec_new_graph(spec, &parts));
    const ga_status st = ga_graph_move_components(graph, parts);
    ga_graph_destroy(parts);
    return st;
}
