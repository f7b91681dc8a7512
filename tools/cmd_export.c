/* cmd_export.c -- `graphattn export`: materialize any graph as CSR .npy arrays. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/npy.h"

static const char export_help[] =
    "usage: graphattn export --graph SPEC --n N [--nk NK] --csr PTR.npy,IDX.npy [--index int64|int32]\n"
    "                        [--quiet]\n"
    "\n"
    "Writes the graph over Nq = N queries and Nk keys [N] as CSR: PTR.npy holds Nq+1 int64 row\n"
    "offsets (PTR[0] = 0, PTR[Nq] = edges), IDX.npy the column (key) indices of each row, sorted\n"
    "increasing, int64 or int32 (--index; int32 needs Nk <= 2^31). The pair reads back as the graph\n"
    "spec csr:PTR.npy,IDX.npy. Both files are written, or neither; they must be two different files\n"
    "and not a csr:/coo: file of --graph. --quiet: no summary line.\n"
    "\n"
    "examples:\n"
    "  graphattn export --graph window:256+global:0 --n 65536 --csr ptr.npy,idx.npy\n"
    "  graphattn export --graph bigbird:64,1,1,2,7 --n 4096 --csr ptr.npy,idx.npy --index int32\n"
    "  graphattn run --graph csr:ptr.npy,idx.npy --q q.npy --k k.npy --v v.npy --out o.npy\n"
    "\n";

int cmd_export(int argc, char **argv) {
    const char *cmd = "export";
    const char *spec = NULL, *n_s = NULL, *nk_s = NULL, *csr = NULL, *index_s = NULL;
    int quiet = 0;
    cli_opt opts[] = {{"graph", &spec, 0}, {"n", &n_s, 0},          {"nk", &nk_s, 0},    {"csr", &csr, 0},
                      {"index", &index_s, 0}, {"quiet", 0, &quiet}, {0}};
    int done, rc = cli_parse(cmd, argc, argv, opts, export_help, &done);
    if (rc != CLI_OK || done) return rc;
    if (!spec || !n_s || !csr) return cli_usage(cmd, "--graph, --n and --csr are required (see graphattn export --help)");
    int64_t nq, nk;
    if (cli_tokens(cmd, "n", n_s, &nq)) return CLI_USAGE;
    nk = nq;
    if (nk_s && cli_tokens(cmd, "nk", nk_s, &nk)) return CLI_USAGE;
    int idx32 = 0;
    if (index_s && !strcmp(index_s, "int32")) idx32 = 1;
    else if (index_s && strcmp(index_s, "int64")) return cli_usage(cmd, "--index: '%s' is not int64 or int32", index_s);
    if (idx32 && nk > ((int64_t)1 << 31)) return cli_usage(cmd, "--index int32 needs Nk <= 2^31 (Nk = %lld)", (long long)nk);
    char *ptr_path = NULL, *idx_path = NULL;
    if (cli_two_paths(cmd, "csr", csr, &ptr_path, &idx_path)) return CLI_USAGE;
    const cli_file outs[2] = {{"csr", ptr_path}, {"csr", idx_path}};
    rc = cli_check_outputs(cmd, outs, 2, NULL, 0, spec);
    if (rc != CLI_OK) {
        free(ptr_path);
        free(idx_path);
        return rc;
    }

    ga_graph *graph = NULL;
    int64_t *row_ptr = NULL, *col = NULL;
    char *staged_ptr = NULL, *staged_idx = NULL;
    rc = CLI_FAILED;
    if (cli_graph(cmd, spec, &graph) != CLI_OK) goto done;
    ga_status s = ga_graph_check(graph, nq, nk); /* before the allocations: a graph that does not fit is not a memory problem */
    if (s != GA_OK) { cli_fail(cmd, s, "--graph '%s' does not fit Nq=%lld, Nk=%lld", spec, (long long)nq, (long long)nk); goto done; }
    int64_t edges;
    /* the row offsets first: counting the edges is O(N) and pointless if they cannot be held */
    row_ptr = (uint64_t)nq < SIZE_MAX / sizeof *row_ptr - 1 ? malloc((size_t)(nq + 1) * sizeof *row_ptr) : NULL;
    if (!row_ptr) {
        cli_error(cmd, "out of memory for %lld row offsets (%.1f GiB)", (long long)nq + 1, (double)nq * 8 / (1u << 30));
        goto done;
    }
    s = ga_graph_count_edges(graph, nq, nk, &edges);
    if (s != GA_OK) { cli_fail(cmd, s, "--graph '%s' with Nq=%lld, Nk=%lld", spec, (long long)nq, (long long)nk); goto done; }
    col = (uint64_t)edges < SIZE_MAX / sizeof *col ? malloc((size_t)(edges ? edges : 1) * sizeof *col) : NULL;
    if (!col) {
        cli_error(cmd, "out of memory for %lld edges (%.1f GiB)", (long long)edges, (double)edges * 8 / (1u << 30));
        goto done;
    }
    s = ga_graph_to_csr(graph, nq, nk, row_ptr, col, edges);
    if (s != GA_OK) { cli_fail(cmd, s, "cannot materialize --graph '%s'", spec); goto done; }
    if (idx32) { /* narrow in place: every index < Nk <= 2^31 */
        int32_t *c32 = (int32_t *)col;
        for (int64_t e = 0; e < edges; e++) c32[e] = (int32_t)col[e];
    }
    int64_t ptr_shape[1] = {nq + 1}, idx_shape[1] = {edges};
    s = ga_npy_save_staged(ptr_path, GA_NPY_I64, 1, ptr_shape, row_ptr, &staged_ptr);
    if (s == GA_OK) s = ga_npy_save_staged(idx_path, idx32 ? GA_NPY_I32 : GA_NPY_I64, 1, idx_shape, col, &staged_idx);
    /* both written in full before either is renamed into place, and both renamed or neither */
    if (s == GA_OK) {
        char **const staged[2] = {&staged_ptr, &staged_idx};
        const char *const paths[2] = {ptr_path, idx_path};
        s = ga_npy_commit_all(staged, paths, 2);
    }
    if (s != GA_OK) { cli_fail(cmd, s, "cannot write --csr %s", csr); goto done; }
    if (!quiet)
        fprintf(cli_report_stream((const char *const[]){ptr_path, idx_path}, 2),
                "wrote %s (%lld int64 row offsets) and %s (%lld %s column indices): %lld edges over %lld x %lld\n",
                ptr_path, (long long)(nq + 1), idx_path, (long long)edges, idx32 ? "int32" : "int64", (long long)edges,
                (long long)nq, (long long)nk);
    rc = CLI_OK;
done:
    ga_npy_discard(&staged_ptr);
    ga_npy_discard(&staged_idx);
    free(row_ptr);
    free(col);
    free(ptr_path);
    free(idx_path);
    ga_graph_destroy(graph);
    return rc;
}
