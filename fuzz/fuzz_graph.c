/* libFuzzer harness: the explicit-graph validators (CSR and COO). Bytes become a small CSR or
 * COO; whatever the validator accepts must round-trip exactly through ga_graph_to_csr, and
 * whatever it rejects must leave the graph unchanged. */
#include <stdlib.h>
#include <string.h>

#include "graphattn.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 3 || size > 2048) return 0;
    const int64_t nrows = 1 + data[0] % 16, ncols = 1 + data[1] % 16;
    const int coo = data[2] & 1, wide = (data[2] >> 1) & 1;
    data += 3;
    size -= 3;
    ga_graph *g = NULL;
    if (ga_graph_create(&g) != GA_OK) return 0;
    if (!coo) {
        /* row_ptr from the next nrows+1 bytes (signed, cumulative-ish), columns from the rest */
        if (size < (size_t)nrows + 1) { ga_graph_destroy(g); return 0; }
        int64_t ptr[17];
        for (int64_t i = 0; i <= nrows; i++) ptr[i] = (int8_t)data[i];
        data += nrows + 1;
        size -= (size_t)nrows + 1;
        int64_t nnz = (int64_t)size;
        /* zeroed: row_ptr may claim more edges than the bytes supply (the API cannot know the
         * array's length), and reading uninitialized entries made the round-trip check flaky */
        int64_t col64[2048] = {0};
        int32_t col32[2048] = {0};
        for (int64_t e = 0; e < nnz; e++) col64[e] = col32[e] = (int8_t)data[e];
        ga_status st = ga_graph_add_csr(g, nrows, ncols, ptr, wide ? (void *)col64 : (void *)col32,
                                        wide ? GA_INDEX_INT64 : GA_INDEX_INT32);
        if (st == GA_OK) {
            int64_t p2[17], c2[2048];
            if (ga_graph_to_csr(g, nrows, ncols, p2, c2, 2048) != GA_OK) abort();
            for (int64_t i = 0; i <= nrows; i++)
                if (p2[i] != ptr[i]) abort();
            for (int64_t e = 0; e < ptr[nrows]; e++)
                if (c2[e] != col64[e]) abort();
        } else if (ga_graph_component_count(g) != 0) {
            abort();
        }
    } else {
        int64_t nnz = (int64_t)(size / 2), r64[1024], c64[1024];
        int32_t r32[1024], c32[1024];
        for (int64_t e = 0; e < nnz; e++) {
            r64[e] = r32[e] = (int8_t)data[2 * e];
            c64[e] = c32[e] = (int8_t)data[2 * e + 1];
        }
        ga_status st = wide ? ga_graph_add_coo(g, nrows, ncols, nnz, r64, c64, GA_INDEX_INT64)
                            : ga_graph_add_coo(g, nrows, ncols, nnz, r32, c32, GA_INDEX_INT32);
        if (st == GA_OK) {
            int64_t p2[17], c2[1024], edges = 0;
            if (ga_graph_count_edges(g, nrows, ncols, &edges) != GA_OK || edges != nnz) abort();
            if (ga_graph_to_csr(g, nrows, ncols, p2, c2, 1024) != GA_OK) abort();
            for (int64_t e = 0; e < nnz; e++) { /* every input pair is present */
                int found = 0;
                for (int64_t x = p2[r64[e]]; x < p2[r64[e] + 1]; x++) found |= c2[x] == c64[e];
                if (!found) abort();
            }
        } else if (ga_graph_component_count(g) != 0) {
            abort();
        }
    }
    ga_graph_destroy(g);
    return 0;
}
