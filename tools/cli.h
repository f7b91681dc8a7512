/* cli.h -- shared pieces of the graphattn command: option parsing, messages, numbers, random
 * inputs, dtype conversion, and running one forward pass on the chosen device. */
#ifndef GA_TOOLS_CLI_H
#define GA_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "graphattn.h"

/* Exit statuses of every subcommand. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* ---- options ------------------------------------------------------------------------------ */
typedef struct cli_opt {
    const char *name;   /* without the leading "--" */
    const char **value; /* receives the argument (options that take one) */
    int *flag;          /* set to 1 (flags, which take no argument) */
} cli_opt;

/* Parse argv[1..] (argv[0] is the subcommand) against `opts` (terminated by a zero entry).
 * "--name VALUE", "--name=VALUE" and flags. On --help/-h prints `help` and returns CLI_OK with
 * *done = 1. On a bad argument prints a message and returns CLI_USAGE: an unknown option, a
 * missing or empty value, an option with a value given twice (a flag may repeat). */
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, const char *help, int *done);

/* Messages on stderr. cli_fail: "graphattn CMD: error: ..." then two more lines, the status and
 * the library's detail (when there is one); returns CLI_FAILED. cli_error: the first line only,
 * for errors found by the tool itself (no status); returns CLI_FAILED. cli_usage:
 * "graphattn CMD: ..." (a bad command line); returns CLI_USAGE. */
int cli_fail(const char *cmd, ga_status status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Numbers. An integer is decimal or 2^K; `min` is the smallest value allowed. Each returns 0 on
 * success, or prints a usage message and returns -1. */
int cli_int64(const char *cmd, const char *opt, const char *text, int64_t min, int64_t *out);
/* --n / --nk: an integer in [1, 2^40] (the library's limit on Nq and Nk; past it a bad command line) */
#define CLI_MAX_TOKENS ((int64_t)1 << 40)
int cli_tokens(const char *cmd, const char *opt, const char *text, int64_t *out);
/* -1 (and the usage line) where an already parsed N or NK passes 2^40 */
int cli_tokens_cap(const char *cmd, const char *opt, int64_t v);
int cli_double(const char *cmd, const char *opt, const char *text, double *out);
/* --threads: an integer in [0, GA_MAX_THREADS] (0: OpenMP's default), the library's own bound on
 * ga_options.num_threads. Returns 0, or -1 after a usage message. */
int cli_threads(const char *cmd, const char *text, int *out);
/* A comma-separated list of integers (each >= min); at most `cap`. Returns the count or -1. */
int cli_int64_list(const char *cmd, const char *opt, const char *text, int64_t min, int64_t *out, int cap);
/* Split "A,B" into two freshly allocated strings; returns 0 or -1 (usage message printed). */
int cli_two_paths(const char *cmd, const char *opt, const char *text, char **a, char **b);

/* dtype names: f32|float32, f16|float16, bf16|bfloat16. Returns 0 or -1 (message printed). */
int cli_dtype(const char *cmd, const char *text, ga_dtype *out);

/* Where to run. */
typedef struct cli_target {
    int cuda;           /* 1: CUDA device 0; 0: host */
    ga_backend backend; /* passed in ga_options */
    char name[256];     /* "cuda:0 NAME" or "cpu (... backend)", for messages */
} cli_target;
/* Resolve --device auto|cpu|cuda and --backend auto|cpu|reference|cuda (NULL means auto). The
 * device is named here, once: naming it later (ga_cuda_device_name) would clear the detail of a
 * failure being reported. */
int cli_target_resolve(const char *cmd, const char *device, const char *backend, cli_target *t);
const char *cli_target_name(const cli_target *t);

/* Parse a graph spec, printing the error (with the offending part) on failure. */
int cli_graph(const char *cmd, const char *spec, ga_graph **graph);

/* Time in seconds from a monotonic clock. */
double cli_now(void);

/* Unit-normal values from a counter-based generator (splitmix64 hash of (seed, stream, e) mapped
 * through the inverse normal CDF): element e of stream `stream` depends only on (seed, stream, e),
 * so the values do not depend on the number of threads or on chunking.
 * cli_fill_normal writes elements first .. first+n-1;
 * cli_random_tensor writes n elements of `dtype` (rounded from the float32 values). */
void cli_fill_normal(float *dst, int64_t n, uint64_t seed, uint64_t stream, int64_t first);
void cli_random_tensor(ga_dtype dtype, void *dst, int64_t n, uint64_t seed, uint64_t stream);

/* Convert n floats to `dtype` elements (round to nearest even) and back. */
void cli_from_f32(ga_dtype dtype, const float *src, void *dst, int64_t n);
void cli_to_f32(ga_dtype dtype, const void *src, float *dst, int64_t n);
/* Element e of a `dtype` array as a double. */
double cli_load(ga_dtype dtype, const void *base, int64_t e);

/* One forward pass on host or device memory. setup copies the host inputs to the device (when
 * t->cuda), allocates out (and lse), and the workspace the library asks for; run poisons the
 * outputs (NaN bytes) and calls ga_attention_forward, then waits for the device; fetch copies
 * the results back to host buffers. All return a status with the detail set on failure. */
typedef struct cli_exec {
    cli_target target;
    ga_tensor q, k, v, out, lse;
    int want_lse;
    void *workspace;
    size_t workspace_bytes;
    size_t q_bytes, kv_bytes, out_bytes, lse_bytes;
    void *host_out; /* host buffers the CPU path computes into directly */
    float *host_lse;
} cli_exec;
/* Bytes of an a x b x c x d tensor of es-byte elements in *bytes; -1 (nothing written) where that
 * overflows int64 or size_t. */
int cli_tensor_bytes(int64_t a, int64_t b, int64_t c, int64_t d, size_t es, int64_t *bytes);
/* The sum of n byte counts in *sum; -1 (nothing written) where it overflows int64. */
int cli_bytes_sum(const int64_t *parts, int n, int64_t *sum);
/* Bytes of host memory this process can still take without being killed: MemAvailable plus
 * SwapFree (/proc/meminfo), less where its cgroup's memory.max leaves less; -1 where neither can
 * be read (then callers allocate and see). malloc alone does not tell: under overcommit a buffer
 * far past what the machine holds is granted, and the process is killed when it writes it. */
int64_t cli_host_memory_available(void);
/* CLI_OK where `bytes` fit in cli_host_memory_available() (or it is unknown); else prints
 * "out of host memory for WHAT: needs X GiB, Y GiB available" and returns CLI_FAILED. */
int cli_host_memory_check(const char *cmd, int64_t bytes, const char *what);
/* qs is Q's (and the output's) shape (B, Nq, H, D), kvs K's and V's (B, Nk, Hkv, D). */
ga_status cli_exec_setup(cli_exec *x, const cli_target *t, const ga_graph *g, ga_dtype dtype, const int64_t qs[4],
                         const int64_t kvs[4], const void *q, const void *k, const void *v, void *host_out,
                         float *host_lse, const ga_options *opt);
ga_status cli_exec_run(cli_exec *x, const ga_graph *g, const ga_options *opt, int poison);
ga_status cli_exec_fetch(cli_exec *x);
void cli_exec_free(cli_exec *x);

/* Output files. cli_check_outputs runs before a command does any work: each output must be
 * writable (ga_npy_output_target: not a directory, its directory present and writable), no two
 * outputs may be the same file, and no output may be an input (`ins`, and the files of the
 * csr:/coo: components of `spec`). "The same file" is the same (device, inode) for existing
 * files and the same canonical path (realpath of the directory, then the name) for new ones,
 * after following symbolic links, however the paths are spelled. An existing file that is not a
 * regular file (/dev/null, a FIFO) may be named twice: nothing is replaced. NULL paths are
 * skipped. Prints the error; returns CLI_OK, CLI_USAGE (same file) or CLI_FAILED. */
typedef struct cli_file {
    const char *opt;  /* option name without "--", for messages */
    const char *path;
} cli_file;
#define CLI_MAX_OUTPUTS 4
int cli_check_outputs(const char *cmd, const cli_file *outs, int nout, const cli_file *ins, int nin, const char *spec);

/* Where a command prints its own report: stdout, or stderr when one of the output paths (NULL
 * entries skipped) is the file standard output is open on (`--out /dev/stdout`, a shell's `>`
 * onto an output), so that the report never lands inside the data; /dev/null aside. */
FILE *cli_report_stream(const char *const paths[], int n);

/* Text files (CSV, SVG) staged like the .npy outputs (io/npy.h: a temporary file TARGET.tmp.PID.K
 * renamed onto TARGET by cli_text_commit; a symbolic link is written through; /dev/null or a FIFO
 * is written in place), so a failed command leaves no partial file. cli_text_open prints the
 * error and returns CLI_FAILED on failure; cli_text_commit closes, renames and returns CLI_OK or
 * CLI_FAILED; cli_text_discard closes and removes. */
typedef struct cli_text {
    FILE *f;
    char *tmp;
    const char *path;
} cli_text;
int cli_text_open(const char *cmd, const char *path, cli_text *t);
int cli_text_commit(const char *cmd, cli_text *t);
/* Several text files at once (at most CLI_MAX_OUTPUTS): all closed and checked, then renamed
 * all or none (ga_npy_commit_all); a file that was never opened is skipped. */
int cli_text_commit_all(const char *cmd, cli_text *const ts[], int n);
void cli_text_discard(cli_text *t);

/* Write a string with XML special characters escaped. */
void cli_xml_text(FILE *f, const char *s);
/* "1,234,567" */
const char *cli_grouped(int64_t v, char *buf, size_t size);

/* Subcommands. */
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_info(int argc, char **argv);

/* Text shared by several help screens. */
extern const char cli_spec_help[];

#endif
