/* libFuzzer harness: the graph spec parser. Any input must parse or fail with a status (never
 * crash), and a graph that parses must give the same edge count through ga_graph_count_edges as
 * through ga_graph_row summed over the rows, on a small sequence; and ga_graph_add_spec of the same
 * spec onto a graph holding a window appends all of its components or, where it does not parse,
 * none. */
#include <stdlib.h>
#include <string.h>

#include "graphattn.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size > 4096) return 0;
    char *spec = malloc(size + 1);
    if (!spec) return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    if (strstr(spec, "csr") || strstr(spec, "coo")) { free(spec); return 0; } /* no file system walks */
    ga_graph *g = NULL;
    const int parsed = ga_graph_parse(spec, &g) == GA_OK;
    int64_t count = 0; /* the parsed graph's components */
    if (parsed) {
        const int64_t n = 37;
        int64_t edges = 0, sum = 0, keys[37], deg = 0;
        if (ga_graph_count_edges(g, n, n, &edges) == GA_OK) {
            for (int64_t i = 0; i < n; i++) {
                if (ga_graph_row(g, n, n, i, keys, n, &deg) != GA_OK) abort();
                if (deg < 0 || deg > n) abort();
                for (int64_t x = 1; x < deg; x++)
                    if (keys[x] <= keys[x - 1]) abort(); /* sorted, no duplicates */
                sum += deg;
            }
            if (sum != edges) abort();
        }
        count = ga_graph_component_count(g);
        ga_graph_destroy(g);
    } else if (g != NULL) {
        abort(); /* a failed parse must not hand out a graph */
    }
    /* the same spec appended to a graph holding a window: all of it, or nothing (the graph as it
     * was) where it does not parse */
    ga_graph *w = NULL;
    if (ga_graph_parse("window:2", &w) == GA_OK) {
        if ((ga_graph_add_spec(w, spec) == GA_OK) != parsed || ga_graph_component_count(w) != 1 + count) abort();
        ga_graph_destroy(w);
    }
    free(spec);
    return 0;
}
