/* main.c -- the graphattn command: dispatch to subcommands, top-level help, and `info`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "device.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static const char main_help[] =
    "graphattn -- sparse attention as graph processing\n"
    "\n"
    "usage: graphattn COMMAND [OPTIONS]      (graphattn COMMAND --help for each command)\n"
    "\n"
    "commands:\n"
    "  run     attention over Q/K/V .npy files, output (and log-sum-exp) to .npy\n"
    "  check   random inputs; sampled rows against the fp64 reference; fails above tolerance\n"
    "  bench   time a graph at one or several sequence lengths (table, CSV, SVG plot)\n"
    "  show    a picture (SVG) of a graph's adjacency pattern, with its edge count\n"
    "  export  write any graph as CSR arrays (.npy)\n"
    "  info    version, backends compiled in, CUDA devices\n"
    "\n"
    "examples:\n"
    "  graphattn check --graph window:256 --n 1048576\n"
    "  graphattn run --graph window:128+global:0 --q q.npy --k k.npy --v v.npy --out o.npy\n"
    "  graphattn show --graph bigbird:64,1,1,2,7 --n 4096 --svg bigbird.svg\n"
    "\n"
    "exit status: 0 success; 1 failure (an error, or check above tolerance); 2 bad command line\n";

static const char info_help[] =
    "usage: graphattn info\n"
    "\n"
    "Prints the library version, the backends compiled in, whether this command was built with the\n"
    "CUDA runtime, and the CUDA devices found (name, compute capability, memory).\n"
    "\n"
    "example:\n"
    "  graphattn info\n";

int cmd_info(int argc, char **argv) {
    cli_opt opts[] = {{0}};
    int done, rc = cli_parse("info", argc, argv, opts, info_help, &done);
    if (rc != CLI_OK || done) return rc;
    printf("graphattn %s (command built against header %d.%d.%d)\n", ga_version_string(), GA_VERSION_MAJOR,
           GA_VERSION_MINOR, GA_VERSION_PATCH);
    printf("backends compiled: %s\n", ga_backends_compiled());
    printf("command built with the CUDA runtime: %s\n", dev_cuda_compiled() ? "yes" : "no");
#ifdef _OPENMP
    printf("cpu threads (OpenMP): %d\n", omp_get_max_threads());
#else
    printf("cpu threads: 1 (built without OpenMP)\n");
#endif
    int n = ga_cuda_device_count();
    printf("CUDA devices: %d\n", n);
    for (int d = 0; d < n; d++) {
        char name[256];
        if (ga_cuda_device_name(d, name, sizeof name) == GA_OK) printf("  cuda:%d %s\n", d, name);
        else printf("  cuda:%d (name unavailable: %s)\n", d, ga_last_error_detail());
    }
    return CLI_OK;
}

static int main_unknown(const char *name) {
    fprintf(stderr, "graphattn: unknown command '%s' (commands: run, check, bench, show, export, info; see "
                    "graphattn --help)\n", name);
    return CLI_USAGE;
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"run", cmd_run},   {"check", cmd_check},   {"bench", cmd_bench},
                {"show", cmd_show}, {"export", cmd_export}, {"info", cmd_info}};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (argc >= 3 && !strcmp(argv[1], "help")) {
            char *help_argv[] = {argv[2], "--help", NULL};
            for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++)
                if (!strcmp(argv[2], cmds[c].name)) return cmds[c].fn(2, help_argv);
            return main_unknown(argv[2]);
        }
        fputs(main_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("graphattn %s\n", ga_version_string());
        return CLI_OK;
    }
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++)
        if (!strcmp(argv[1], cmds[c].name)) return cmds[c].fn(argc - 1, argv + 1);
    return main_unknown(argv[1]);
}
