/* cmd_run.c -- `graphattn run`: attention over Q/K/V .npy files. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/npy.h"

static const char run_help[] =
    "usage: graphattn run --graph SPEC --q Q.npy --k K.npy --v V.npy --out O.npy [--lse LSE.npy]\n"
    "                     [--device auto|cpu|cuda] [--backend auto|cpu|reference|cuda] [--scale S]\n"
    "                     [--dtype f32|f16|bf16] [--bf16-bits] [--threads T] [--quiet]\n"
    "\n"
    "Computes out[i] = softmax_j(scale * q_i . k_j) v_j over the keys j of each query i in the graph.\n"
    "\n"
    "Arrays (C order, little-endian; the .npy reader accepts format versions 1.0 to 3.0):\n"
    "  Q   (N, H, D) or (B, N, H, D), or (N, D) for one head\n"
    "  K,V the same layout with Nk rows and Hkv heads, Hkv dividing H (query head h uses kv head\n"
    "      h / (H / Hkv))\n"
    "  dtypes float32 or float16 (all three the same); the output has the input's dtype and shape,\n"
    "  the log-sum-exp (--lse) is float32 with Q's shape less D: (N, H), (B, N, H), or (N,) for\n"
    "  (N, D) inputs (natural log; -inf for a query without edges, whose output is 0).\n"
    "\n"
    "bfloat16 (NumPy has no bf16 dtype), two ways:\n"
    "  --dtype bf16     float32 inputs are rounded to bf16 (nearest even) for the computation and the\n"
    "                   output is written as float32 (likewise --dtype f16 from float32 inputs)\n"
    "  --bf16-bits      the inputs are uint16 arrays holding raw bf16 bit patterns (e.g.\n"
    "                   torch_tensor.view(torch.int16).numpy().view(np.uint16)); the output is uint16\n"
    "                   raw bf16 bits too\n"
    "\n"
    "Options:\n"
    "  --graph SPEC     the attention graph (below)\n"
    "  --device D       auto (CUDA when a device is present and the command was built with CUDA,\n"
    "                   else the CPU), cpu or cuda\n"
    "  --backend B      auto, cpu (fast CPU), reference (fp64 CPU oracle, slow), cuda\n"
    "  --scale S        softmax scale; default 1/sqrt(D)\n"
    "  --threads T      CPU threads, at most 1024 (default: OpenMP's)\n"
    "  --quiet          no summary line\n"
    "\n"
    "Nothing is written when anything fails (files are written under a temporary name and renamed\n"
    "into place at the end); the exit status is then 1 and the message names the problem. The\n"
    "outputs are checked before any work: --out and --lse must be two different files, neither of\n"
    "them an input (--q, --k, --v or a csr:/coo: file of --graph), however the paths are spelled.\n"
    "A symbolic link is written through (the file it points to is replaced); /dev/null or a FIFO\n"
    "is written in place.\n"
    "\n"
    "examples:\n"
    "  graphattn run --graph window:256 --q q.npy --k k.npy --v v.npy --out o.npy\n"
    "  graphattn run --graph window:128+global:0,1 --q q.npy --k k.npy --v v.npy --out o.npy \\\n"
    "                --lse lse.npy --dtype bf16\n"
    "  graphattn run --graph csr:ptr.npy,idx.npy --q q.npy --k k.npy --v v.npy --out o.npy \\\n"
    "                --backend reference\n"
    "\n";

/* Split an array's shape into (B, N, H, D). */
static int run_layout(const char *cmd, const char *opt, const char *path, const ga_npy_array *a, int64_t dims[4]) {
    char shape[256];
    ga_npy_shape_string(a->ndim, a->shape, shape, sizeof shape);
    switch (a->ndim) {
    case 2: dims[0] = 1; dims[1] = a->shape[0]; dims[2] = 1; dims[3] = a->shape[1]; break;
    case 3: dims[0] = 1; dims[1] = a->shape[0]; dims[2] = a->shape[1]; dims[3] = a->shape[2]; break;
    case 4: memcpy(dims, a->shape, 4 * sizeof(int64_t)); break;
    default:
        cli_error(cmd, "--%s '%s' has shape %s; expected (N, H, D), (B, N, H, D) or (N, D)", opt, path, shape);
        return -1;
    }
    for (int d = 0; d < 4; d++)
        if (dims[d] < 1) {
            cli_error(cmd, "--%s '%s' has shape %s: every dimension must be at least 1", opt, path, shape);
            return -1;
        }
    return 0;
}

int cmd_run(int argc, char **argv) {
    const char *cmd = "run";
    const char *spec = NULL, *qp = NULL, *kp = NULL, *vp = NULL, *outp = NULL, *lsep = NULL, *device = NULL,
               *backend = NULL, *scale_s = NULL, *dtype_s = NULL, *threads_s = NULL;
    int bf16_bits = 0, quiet = 0;
    cli_opt opts[] = {{"graph", &spec, 0},        {"q", &qp, 0},          {"k", &kp, 0},
                      {"v", &vp, 0},              {"out", &outp, 0},      {"lse", &lsep, 0},
                      {"device", &device, 0},     {"backend", &backend, 0}, {"scale", &scale_s, 0},
                      {"dtype", &dtype_s, 0},     {"threads", &threads_s, 0}, {"bf16-bits", 0, &bf16_bits},
                      {"quiet", 0, &quiet},       {0}};
    int done, rc = cli_parse(cmd, argc, argv, opts, run_help, &done);
    if (rc != CLI_OK || done) return rc;
    if (!spec || !qp || !kp || !vp || !outp)
        return cli_usage(cmd, "--graph, --q, --k, --v and --out are required (see graphattn run --help)");

    cli_target target;
    rc = cli_target_resolve(cmd, device, backend, &target);
    if (rc != CLI_OK) return rc;
    double scale = 0;
    int threads = 0;
    ga_dtype want = GA_F32;
    if (scale_s && cli_double(cmd, "scale", scale_s, &scale) != 0) return CLI_USAGE;
    if (scale_s && !(scale > 0 && scale <= FLT_MAX))
        return cli_usage(cmd, "--scale must be positive and at most %g (the float32 maximum)", (double)FLT_MAX);
    if (threads_s && cli_threads(cmd, threads_s, &threads) != 0) return CLI_USAGE;
    if (dtype_s && cli_dtype(cmd, dtype_s, &want) != 0) return CLI_USAGE;
    if (bf16_bits && dtype_s && want != GA_BF16)
        return cli_usage(cmd, "--bf16-bits and --dtype %s conflict: raw bf16 inputs are computed in bf16", dtype_s);
    /* the outputs before any work: writable, distinct, and none of them an input */
    const cli_file outs[2] = {{"out", outp}, {"lse", lsep}}, ins[3] = {{"q", qp}, {"k", kp}, {"v", vp}};
    rc = cli_check_outputs(cmd, outs, 2, ins, 3, spec);
    if (rc != CLI_OK) return rc;

    ga_npy_array arr[3] = {{0}};
    const char *paths[3] = {qp, kp, vp}, *names[3] = {"q", "k", "v"};
    ga_graph *graph = NULL;
    void *conv[3] = {NULL, NULL, NULL}, *out = NULL, *out32 = NULL;
    float *lse = NULL;
    char *staged_out = NULL, *staged_lse = NULL;
    cli_exec x;
    int have_exec = 0;
    rc = CLI_FAILED;

    for (int a = 0; a < 3; a++) {
        ga_status s = ga_npy_load(paths[a], &arr[a]);
        if (s != GA_OK) { cli_fail(cmd, s, "cannot load --%s", names[a]); goto done; }
    }
    /* dtypes */
    for (int a = 0; a < 3; a++)
        if (arr[a].dtype != GA_NPY_F32 && arr[a].dtype != GA_NPY_F16 && arr[a].dtype != GA_NPY_U16) {
            cli_error(cmd, "--%s '%s' is %s; Q, K and V must be float32 or float16 (or uint16 with --bf16-bits)",
                      names[a], paths[a], ga_npy_dtype_name(arr[a].dtype));
            goto done;
        }
    for (int a = 1; a < 3; a++)
        if (arr[a].dtype != arr[0].dtype) {
            cli_error(cmd, "--%s '%s' is %s but --q '%s' is %s; Q, K and V must have one dtype", names[a], paths[a],
                      ga_npy_dtype_name(arr[a].dtype), qp, ga_npy_dtype_name(arr[0].dtype));
            goto done;
        }
    ga_npy_dtype in = arr[0].dtype;
    ga_dtype stored;
    if (in == GA_NPY_F32) stored = GA_F32;
    else if (in == GA_NPY_F16) stored = GA_F16;
    else if (in == GA_NPY_U16 && bf16_bits) stored = GA_BF16;
    else if (in == GA_NPY_U16) {
        cli_error(cmd, "the inputs are uint16; if they hold raw bfloat16 bits, pass --bf16-bits");
        goto done;
    } else {
        goto done; /* rejected above */
    }
    if (bf16_bits && in != GA_NPY_U16) {
        cli_error(cmd, "--bf16-bits expects uint16 arrays, but the inputs are %s", ga_npy_dtype_name(in));
        goto done;
    }
    ga_dtype compute = stored;
    int convert = 0;
    if (dtype_s && want != stored) {
        if (stored != GA_F32) {
            cli_error(cmd, "--dtype %s: only float32 inputs can be converted, the inputs are %s", dtype_s,
                      ga_dtype_name(stored));
            goto done;
        }
        compute = want;
        convert = 1;
    }
    int64_t dq[4], dk[4], dv[4];
    if (run_layout(cmd, "q", qp, &arr[0], dq) || run_layout(cmd, "k", kp, &arr[1], dk) ||
        run_layout(cmd, "v", vp, &arr[2], dv))
        goto done;
    if (arr[1].ndim != arr[0].ndim || arr[2].ndim != arr[0].ndim) {
        cli_error(cmd, "Q, K and V must have the same number of dimensions (%d, %d, %d)", arr[0].ndim, arr[1].ndim,
                  arr[2].ndim);
        goto done;
    }
    if (memcmp(dk, dv, sizeof dk) != 0) {
        char ks[128], vs[128];
        ga_npy_shape_string(arr[1].ndim, arr[1].shape, ks, sizeof ks);
        ga_npy_shape_string(arr[2].ndim, arr[2].shape, vs, sizeof vs);
        cli_error(cmd, "K %s and V %s must have the same shape", ks, vs);
        goto done;
    }
    if (dk[0] != dq[0] || dk[3] != dq[3]) {
        char qs[128], ks[128];
        ga_npy_shape_string(arr[0].ndim, arr[0].shape, qs, sizeof qs);
        ga_npy_shape_string(arr[1].ndim, arr[1].shape, ks, sizeof ks);
        cli_error(cmd, "K and V %s do not fit Q %s: they need Q's batch size (%lld) and head dimension (%lld)", ks, qs,
                  (long long)dq[0], (long long)dq[3]);
        goto done;
    }
    int64_t B = dq[0], nq = dq[1], H = dq[2], nk = dk[1], lse_bytes;
    if (cli_tensor_bytes(B, nq, H, 1, sizeof(float), &lse_bytes)) {
        cli_error(cmd, "the problem size overflows int64");
        goto done;
    }

    if (cli_graph(cmd, spec, &graph) != CLI_OK) goto done;
    ga_status s = ga_graph_check(graph, nq, nk);
    if (s != GA_OK) { cli_fail(cmd, s, "--graph '%s' does not fit Nq=%lld, Nk=%lld", spec, (long long)nq, (long long)nk); goto done; }

    const void *src[3];
    for (int a = 0; a < 3; a++) {
        src[a] = arr[a].data;
        if (convert) {
            conv[a] = malloc((size_t)arr[a].count * ga_dtype_size(compute) + 1);
            if (!conv[a]) { cli_error(cmd, "out of memory converting --%s", names[a]); goto done; }
            cli_from_f32(compute, (const float *)arr[a].data, conv[a], arr[a].count);
            src[a] = conv[a];
        }
    }
    out = malloc((size_t)arr[0].count * ga_dtype_size(compute) + 1);
    if (lsep) lse = malloc((size_t)lse_bytes + 1);
    if (!out || (lsep && !lse)) { cli_error(cmd, "out of memory for the output"); goto done; }

    ga_options opt;
    ga_options_init(&opt);
    opt.scale = scale;
    opt.backend = target.backend;
    opt.num_threads = threads;
    double t0 = cli_now();
    s = cli_exec_setup(&x, &target, graph, compute, dq, dk, src[0], src[1], src[2], out, lse, &opt);
    if (s != GA_OK) { cli_fail(cmd, s, "cannot prepare the inputs on %s", cli_target_name(&target)); goto done; }
    have_exec = 1;
    double t1 = cli_now();
    s = cli_exec_run(&x, graph, &opt, 1);
    double t2 = cli_now();
    if (s == GA_OK) s = cli_exec_fetch(&x);
    if (s != GA_OK) { cli_fail(cmd, s, "attention failed on %s", cli_target_name(&target)); goto done; }

    /* write: output in the input dtype (float32 when --dtype converted), lse float32 */
    const void *out_data = out;
    ga_npy_dtype out_dtype = stored == GA_F32 ? GA_NPY_F32 : stored == GA_F16 ? GA_NPY_F16 : GA_NPY_U16;
    if (convert) {
        out32 = malloc((size_t)arr[0].count * sizeof(float) + 1);
        if (!out32) { cli_error(cmd, "out of memory for the output"); goto done; }
        cli_to_f32(compute, out, (float *)out32, arr[0].count);
        out_data = out32;
        out_dtype = GA_NPY_F32;
    }
    s = ga_npy_save_staged(outp, out_dtype, arr[0].ndim, arr[0].shape, out_data, &staged_out);
    if (s == GA_OK && lsep) s = ga_npy_save_staged(lsep, GA_NPY_F32, arr[0].ndim - 1, arr[0].shape, lse, &staged_lse);
    /* both written in full before either is renamed into place, and both renamed or neither */
    if (s == GA_OK) {
        char **const staged[2] = {&staged_out, &staged_lse};
        const char *const targets[2] = {outp, lsep};
        s = ga_npy_commit_all(staged, targets, 2);
    }
    if (s != GA_OK) { cli_fail(cmd, s, "cannot write the output"); goto done; }
    if (!quiet) {
        char shape[128];
        ga_npy_shape_string(arr[0].ndim, arr[0].shape, shape, sizeof shape);
        const char *const written[2] = {outp, lsep};
        fprintf(cli_report_stream(written, 2), "wrote %s %s %s%s%s; computed in %s on %s in %.3f ms (+%.3f ms setup)\n", outp,
               ga_npy_dtype_name(out_dtype), shape, lsep ? " and " : "", lsep ? lsep : "", ga_dtype_name(compute),
               cli_target_name(&target), 1e3 * (t2 - t1), 1e3 * (t1 - t0));
    }
    rc = CLI_OK;
done:
    ga_npy_discard(&staged_out);
    ga_npy_discard(&staged_lse);
    if (have_exec) cli_exec_free(&x);
    for (int a = 0; a < 3; a++) { ga_npy_free(&arr[a]); free(conv[a]); }
    free(out);
    free(out32);
    free(lse);
    ga_graph_destroy(graph);
    return rc;
}
