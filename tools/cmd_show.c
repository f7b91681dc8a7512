/* cmd_show.c -- `graphattn show`: the adjacency pattern of a graph as an SVG picture. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "graph/graph.h"

static const char show_help[] =
    "usage: graphattn show --graph SPEC --n N [--nk NK] [--svg FILE] [--cells C] [--budget E]\n"
    "\n"
    "Prints the graph's edge count, density and mean keys per query for Nq = N queries and Nk keys,\n"
    "and with --svg draws its adjacency pattern: queries i down, keys j across. Up to C x C cells\n"
    "[512; at most 4096]; when N or NK is larger, each cell covers a block of tokens and its shade\n"
    "is the fraction of the block's (i, j) pairs that are edges, on a log scale from one edge per\n"
    "cell (lightest) to all pairs (darkest), so that a single edge still shows; white means none.\n"
    "Rows are enumerated with the graph's edge generators; when that would visit more than E edges\n"
    "[2e8], evenly spaced rows of each cell row are sampled instead, plus every global token's row\n"
    "(the caption says so). The edge count is always exact (ga_graph_count_edges).\n"
    "\n"
    "examples:\n"
    "  graphattn show --graph window:2+global:0 --n 32 --svg small.svg\n"
    "  graphattn show --graph bigbird:64,1,1,2,7 --n 4096 --svg bigbird.svg\n"
    "  graphattn show --graph dilated:64,16+window:32 --n 1048576 --svg dilated.svg\n"
    "\n";

typedef struct show_row_ctx {
    int64_t *counts; /* one cell row */
    int64_t nk, gc;
} show_row_ctx;

static void show_edge(void *user, int64_t j) {
    show_row_ctx *c = (show_row_ctx *)user;
    /* cell cc covers keys [cc*nk/gc, (cc+1)*nk/gc) */
    int64_t cc = (j * c->gc) / c->nk;
    while (cc + 1 < c->gc && (cc + 1) * c->nk / c->gc <= j) cc++;
    while (cc > 0 && cc * c->nk / c->gc > j) cc--;
    c->counts[cc]++;
}

static int show_is_global_row(const ga_graph *g, int64_t i) {
    for (int64_t k = 0; k < g->count; k++)
        if (g->comps[k].kind == GA_COMP_GLOBAL && ga_list_has(g->comps[k].list, g->comps[k].nrows, i)) return 1;
    return 0;
}
static int show_seen_global(const ga_graph *g, int64_t before, int64_t i) {
    for (int64_t k = 0; k < before; k++)
        if (g->comps[k].kind == GA_COMP_GLOBAL && ga_list_has(g->comps[k].list, g->comps[k].nrows, i)) return 1;
    return 0;
}

#define SHOW_LEVELS 32

/* Shade level 1..SHOW_LEVELS of an edge fraction f in (0, 1], on a log scale from fmin (the
 * smallest nonzero fraction a cell can have: one edge) to 1; 0 for no edge. */
static int show_level(double f, double lfmin) {
    if (!(f > 0)) return 0;
    double t = lfmin < 0 ? 1.0 - log10(f) / lfmin : 1.0;
    int lv = (int)ceil(t * SHOW_LEVELS - 1e-9);
    return lv < 1 ? 1 : lv > SHOW_LEVELS ? SHOW_LEVELS : lv;
}
static void show_color(int level, int *r, int *g, int *b) {
    double s = 0.15 + 0.85 * (double)level / SHOW_LEVELS;
    *r = (int)lround(255 - s * (255 - 8));
    *g = (int)lround(255 - s * (255 - 48));
    *b = (int)lround(255 - s * (255 - 107));
}

static int show_svg(const char *cmd, const char *path, const char *spec, int64_t nq, int64_t nk, int64_t gr,
                    int64_t gc, const double *frac, double lfmin, int64_t edges, int64_t rows_visited, int sampled) {
    cli_text t;
    if (cli_text_open(cmd, path, &t) != CLI_OK) return CLI_FAILED;
    FILE *f = t.f;
    const double px = 512.0 / (double)(gr > gc ? gr : gc);
    const double mw = px * (double)gc, mh = px * (double)gr, x0 = 70, y0 = 60;
    const double width = mw + x0 + 150 > 760 ? mw + x0 + 150 : 760, height = y0 + mh + 112;
    char b1[32], b2[32], b3[32];
    int cr, cg, cb;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            width, height, width, height);
    fprintf(f, "<text x=\"%.1f\" y=\"22\" font-size=\"15\" font-weight=\"bold\">", x0);
    cli_xml_text(f, spec);
    fprintf(f, "</text>\n");
    /* the matrix: one path per shade level, each row's runs of equal level as one rectangle */
    fprintf(f, "<g transform=\"translate(%.1f %.1f) scale(%.6g)\" shape-rendering=\"crispEdges\">\n", x0, y0, px);
    for (int level = 1; level <= SHOW_LEVELS; level++) {
        int opened = 0;
        show_color(level, &cr, &cg, &cb);
        for (int64_t r = 0; r < gr; r++) {
            for (int64_t c = 0; c < gc;) {
                if (show_level(frac[r * gc + c], lfmin) != level) { c++; continue; }
                int64_t c2 = c + 1;
                while (c2 < gc && show_level(frac[r * gc + c2], lfmin) == level) c2++;
                if (!opened) { fprintf(f, "<path fill=\"#%02x%02x%02x\" d=\"", cr, cg, cb); opened = 1; }
                fprintf(f, "M%lld %lldh%lldv1h-%lldz", (long long)c, (long long)r, (long long)(c2 - c), (long long)(c2 - c));
                c = c2;
            }
        }
        if (opened) fprintf(f, "\"/>\n");
    }
    fprintf(f, "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n", x0,
            y0, mw, mh);
    /* axes */
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\">key j</text>\n", x0 + mw / 2, y0 - 8);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">0</text>\n", x0, y0 - 8);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">%s</text>\n", x0 + mw, y0 - 8,
            cli_grouped(nk - 1, b1, sizeof b1));
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\">"
               "query i</text>\n", x0 - 14, y0 + mh / 2, x0 - 14, y0 + mh / 2);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">0</text>\n", x0 - 4, y0 + 10);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
            x0 - 4, y0 + mh, x0 - 4, y0 + mh, cli_grouped(nq - 1, b1, sizeof b1));
    /* legend: the shade bar with decade labels (log scale) */
    const double lx = x0 + mw + 24, ly = y0, lh = 160;
    for (int level = SHOW_LEVELS; level >= 1; level--) {
        show_color(level, &cr, &cg, &cb);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.2f\" width=\"14\" height=\"%.2f\" fill=\"#%02x%02x%02x\"/>\n", lx,
                ly + lh * (SHOW_LEVELS - level) / SHOW_LEVELS, lh / SHOW_LEVELS + 0.3, cr, cg, cb);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"8\" fill=\"white\" stroke=\"#999\" stroke-width=\"0.5\"/>\n",
            lx, ly + lh + 6);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">none</text>\n", lx + 18, ly + lh + 14);
    if (lfmin < 0) {
        int step = lfmin < -8 ? 2 : 1;
        for (int e = 0; e >= (int)ceil(lfmin); e -= step) {
            double y = ly + lh * (double)e / lfmin;
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%g</text>\n", lx + 18, y + 4, pow(10, e));
        }
    } else {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">1</text>\n", lx + 18, ly + 8);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">edge fraction</text>\n", lx, ly + lh + 34);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">of the cell%s</text>\n", lx, ly + lh + 47,
            lfmin < 0 ? " (log)" : "");
    /* caption */
    double density = (double)edges / ((double)nq * (double)nk);
    double cy = y0 + mh + 32;
    fprintf(f, "<text x=\"20\" y=\"%.1f\" font-size=\"13\">Nq = %s, Nk = %s: %s edges, density %.4g%%, %.4g keys per "
               "query on average</text>\n",
            cy, cli_grouped(nq, b1, sizeof b1), cli_grouped(nk, b2, sizeof b2), cli_grouped(edges, b3, sizeof b3),
            100.0 * density, (double)edges / (double)nq);
    fprintf(f, "<text x=\"20\" y=\"%.1f\" font-size=\"12\" fill=\"#333\">%lld x %lld cells of %.4g x %.4g tokens; shade = "
               "fraction of the cell's (i, j) pairs that are edges%s</text>\n",
            cy + 20, (long long)gr, (long long)gc, (double)nq / (double)gr, (double)nk / (double)gc,
            lfmin < 0 ? " (log scale)" : "");
    if (sampled)
        fprintf(f, "<text x=\"20\" y=\"%.1f\" font-size=\"12\" fill=\"#333\">shades estimated from %s sampled query rows "
                   "(evenly spaced, plus every global token); the edge count is exact</text>\n",
                cy + 38, cli_grouped(rows_visited, b1, sizeof b1));
    else
        fprintf(f, "<text x=\"20\" y=\"%.1f\" font-size=\"12\" fill=\"#333\">every query row enumerated (exact "
                   "shades); the edge count is exact</text>\n", cy + 38);
    fprintf(f, "</svg>\n");
    return cli_text_commit(cmd, &t);
}

int cmd_show(int argc, char **argv) {
    const char *cmd = "show";
    const char *spec = NULL, *n_s = NULL, *nk_s = NULL, *svg = NULL, *cells_s = NULL, *budget_s = NULL;
    cli_opt opts[] = {{"graph", &spec, 0}, {"n", &n_s, 0},         {"nk", &nk_s, 0},         {"svg", &svg, 0},
                      {"cells", &cells_s, 0}, {"budget", &budget_s, 0}, {0}};
    int done, rc = cli_parse(cmd, argc, argv, opts, show_help, &done);
    if (rc != CLI_OK || done) return rc;
    if (!spec || !n_s) return cli_usage(cmd, "--graph and --n are required (see graphattn show --help)");
    int64_t nq, nk, cells = 512;
    double budget = 2e8;
    if (cli_tokens(cmd, "n", n_s, &nq)) return CLI_USAGE;
    nk = nq;
    if (nk_s && cli_tokens(cmd, "nk", nk_s, &nk)) return CLI_USAGE;
    if (cells_s && cli_int64(cmd, "cells", cells_s, 1, &cells)) return CLI_USAGE;
    if (cells > 4096) return cli_usage(cmd, "--cells: at most 4096");
    if (budget_s && cli_double(cmd, "budget", budget_s, &budget)) return CLI_USAGE;
    if (budget_s && !(budget >= 1)) return cli_usage(cmd, "--budget must be at least 1 edge, got '%s'", budget_s);
    const cli_file outs[1] = {{"svg", svg}};
    rc = cli_check_outputs(cmd, outs, 1, NULL, 0, spec);
    if (rc != CLI_OK) return rc;

    ga_graph *graph = NULL;
    int64_t *counts = NULL, *visited = NULL;
    double *frac = NULL;
    rc = CLI_FAILED;
    if (cli_graph(cmd, spec, &graph) != CLI_OK) goto done;
    int64_t edges;
    ga_status s = ga_graph_count_edges(graph, nq, nk, &edges);
    if (s != GA_OK) { cli_fail(cmd, s, "--graph '%s' with Nq=%lld, Nk=%lld", spec, (long long)nq, (long long)nk); goto done; }
    double density = (double)edges / ((double)nq * (double)nk);
    const char *const written[1] = {svg};
    FILE *rep = cli_report_stream(written, 1); /* stderr when --svg is stdout */
    fprintf(rep, "graph: %s\nnq: %lld\nnk: %lld\nedges: %lld\ndensity: %.6g\nmean degree: %.6g\n", spec, (long long)nq,
           (long long)nk, (long long)edges, density, (double)edges / (double)nq);
    if (svg) {
        const int64_t gr = nq < cells ? nq : cells, gc = nk < cells ? nk : cells;
        counts = calloc((size_t)(gr * gc), sizeof *counts);
        visited = calloc((size_t)gr, sizeof *visited);
        frac = calloc((size_t)(gr * gc), sizeof *frac);
        if (!counts || !visited || !frac) { cli_error(cmd, "out of memory"); goto done; }
        double mean = edges > 0 ? (double)edges / (double)nq : 1.0;
        double rows_budget = budget / (mean > 1 ? mean : 1);
        /* rows per cell row: clamped in double first (a budget past 2^63 rows would not convert) */
        const double pr = rows_budget / (double)gr;
        int64_t per_row = pr >= (double)nq ? nq : pr < 1 ? 1 : (int64_t)pr;
        int sampled = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : sampled)
        for (int64_t r = 0; r < gr; r++) {
            int64_t lo = r * nq / gr, hi = (r + 1) * nq / gr, span = hi - lo;
            int64_t take = span < per_row ? span : per_row, seen = 0;
            show_row_ctx c = {counts + r * gc, nk, gc};
            if (take == span) {
                for (int64_t i = lo; i < hi; i++) ga_graph_for_each_edge(graph, nq, nk, i, show_edge, &c);
                visited[r] = span;
                continue;
            }
            sampled = 1;
            /* evenly spaced rows, plus every global token's row (so that they always show) */
            for (int64_t t = 0; t < take; t++) {
                int64_t i = lo + ((2 * t + 1) * span) / (2 * take);
                if (show_is_global_row(graph, i)) continue;
                ga_graph_for_each_edge(graph, nq, nk, i, show_edge, &c);
                seen++;
            }
            for (int64_t k = 0; k < graph->count; k++) {
                const ga_component *comp = &graph->comps[k];
                if (comp->kind != GA_COMP_GLOBAL) continue;
                for (int64_t t = ga_list_lower(comp->list, comp->nrows, lo); t < comp->nrows && comp->list[t] < hi; t++) {
                    if (show_seen_global(graph, k, comp->list[t])) continue; /* listed by an earlier component */
                    ga_graph_for_each_edge(graph, nq, nk, comp->list[t], show_edge, &c);
                    seen++;
                }
            }
            visited[r] = seen;
        }
        int64_t rows_visited = 0, max_visited = 1, max_cols = 1;
        for (int64_t c = 0; c < gc; c++) {
            int64_t cols = (c + 1) * nk / gc - c * nk / gc;
            if (cols > max_cols) max_cols = cols;
        }
        for (int64_t r = 0; r < gr; r++) {
            if (visited[r] > max_visited) max_visited = visited[r];
            rows_visited += visited[r];
            for (int64_t c = 0; c < gc; c++) {
                int64_t cols = (c + 1) * nk / gc - c * nk / gc;
                frac[r * gc + c] = (double)counts[r * gc + c] / ((double)visited[r] * (double)cols);
            }
        }
        double lfmin = -log10((double)max_visited * (double)max_cols);
        if (show_svg(cmd, svg, spec, nq, nk, gr, gc, frac, lfmin, edges, rows_visited, sampled) != CLI_OK)
            goto done;
        fprintf(rep, "svg: %s (%lld x %lld cells, %s)\n", svg, (long long)gr, (long long)gc,
               sampled ? "sampled rows" : "all rows");
    }
    rc = CLI_OK;
done:
    free(counts);
    free(visited);
    free(frac);
    ga_graph_destroy(graph);
    return rc;
}
