/* Bad input to ga_attention_forward: each class gives its own status, and a rejected call
 * leaves out and lse bit for bit as they were (poisoned before the call). */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "io/npy.h"
#include "test.h"

enum { B_ = 1, NQ = 12, NK = 12, H_ = 2, D_ = 8 };

typedef struct fixture {
    ga_graph *g;
    float q[B_ * NQ * H_ * D_], k[B_ * NK * H_ * D_], v[B_ * NK * H_ * D_];
    float out[B_ * NQ * H_ * D_], lse[B_ * NQ * H_];
    unsigned char out0[sizeof(float) * B_ * NQ * H_ * D_], lse0[sizeof(float) * B_ * NQ * H_];
    ga_tensor tq, tk, tv, tout, tlse;
    ga_options opt;
} fixture;

static fixture fx;

/* A valid call: window graph, f32, contiguous; out/lse poisoned with a recognizable pattern. */
static void setup(void) {
    ga_graph_destroy(fx.g);
    memset(&fx, 0, sizeof fx);
    ga_graph_create(&fx.g);
    ga_graph_add_window(fx.g, 2, 2);
    for (size_t i = 0; i < sizeof fx.q / sizeof fx.q[0]; i++) fx.q[i] = (float)((i * 37) % 11) / 11.0f - 0.5f;
    for (size_t i = 0; i < sizeof fx.k / sizeof fx.k[0]; i++) fx.k[i] = (float)((i * 53) % 13) / 13.0f - 0.5f;
    for (size_t i = 0; i < sizeof fx.v / sizeof fx.v[0]; i++) fx.v[i] = (float)((i * 29) % 7) / 7.0f - 0.5f;
    memset(fx.out, 0xA5, sizeof fx.out);
    memset(fx.lse, 0x5A, sizeof fx.lse);
    memcpy(fx.out0, fx.out, sizeof fx.out);
    memcpy(fx.lse0, fx.lse, sizeof fx.lse);
    fx.tq = ga_tensor_make(fx.q, GA_F32, GA_DEVICE_CPU, B_, NQ, H_, D_);
    fx.tk = ga_tensor_make(fx.k, GA_F32, GA_DEVICE_CPU, B_, NK, H_, D_);
    fx.tv = ga_tensor_make(fx.v, GA_F32, GA_DEVICE_CPU, B_, NK, H_, D_);
    fx.tout = ga_tensor_make(fx.out, GA_F32, GA_DEVICE_CPU, B_, NQ, H_, D_);
    fx.tlse = ga_tensor_make(fx.lse, GA_F32, GA_DEVICE_CPU, B_, NQ, H_, 1);
    ga_options_init(&fx.opt);
}

static ga_status call(void) {
    return ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, NULL, 0);
}

#define EXPECT_UNTOUCHED()                                                                           \
    do {                                                                                             \
        EXPECT_TRUE(memcmp(fx.out, fx.out0, sizeof fx.out) == 0);                                    \
        EXPECT_TRUE(memcmp(fx.lse, fx.lse0, sizeof fx.lse) == 0);                                    \
    } while (0)

#define EXPECT_REJECTED(expr, status)                                                                \
    do {                                                                                             \
        EXPECT_STATUS((expr), (status));                                                             \
        EXPECT_TRUE(ga_last_error_detail()[0] != '\0');                                              \
        EXPECT_UNTOUCHED();                                                                          \
    } while (0)

TEST(valid_call_succeeds_and_writes_every_output) {
    setup();
    ASSERT_OK(call());
    for (size_t i = 0; i < sizeof fx.out / sizeof fx.out[0]; i++) ASSERT_TRUE(isfinite(fx.out[i]));
    for (size_t i = 0; i < sizeof fx.lse / sizeof fx.lse[0]; i++) ASSERT_TRUE(isfinite(fx.lse[i]));
    EXPECT_TRUE(ga_last_error_detail()[0] == '\0');
}

TEST(null_graph_or_tensor_is_null_pointer) {
    setup();
    EXPECT_REJECTED(ga_attention_forward(NULL, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, NULL, 0), GA_ERR_NULL_POINTER);
    EXPECT_REJECTED(ga_attention_forward(fx.g, NULL, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, NULL, 0), GA_ERR_NULL_POINTER);
    EXPECT_REJECTED(ga_attention_forward(fx.g, &fx.tq, NULL, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, NULL, 0), GA_ERR_NULL_POINTER);
    EXPECT_REJECTED(ga_attention_forward(fx.g, &fx.tq, &fx.tk, NULL, &fx.tout, &fx.tlse, &fx.opt, NULL, 0), GA_ERR_NULL_POINTER);
    EXPECT_REJECTED(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, NULL, &fx.tlse, &fx.opt, NULL, 0), GA_ERR_NULL_POINTER);
}

TEST(null_data_pointer_is_null_pointer) {
    ga_tensor *ts[] = {&fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse};
    for (int t = 0; t < 5; t++) {
        setup();
        ts[t]->data = NULL;
        EXPECT_REJECTED(call(), GA_ERR_NULL_POINTER);
    }
}

TEST(graph_without_components_is_empty_graph) {
    setup();
    ga_graph *empty = NULL;
    ASSERT_OK(ga_graph_create(&empty));
    EXPECT_REJECTED(ga_attention_forward(empty, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, NULL, 0), GA_ERR_EMPTY_GRAPH);
    ga_graph_destroy(empty);
}

TEST(zero_or_negative_size_is_bad_size) {
    for (int d = 0; d < 4; d++) {
        setup();
        fx.tq.shape[d] = 0;
        EXPECT_REJECTED(call(), GA_ERR_BAD_SIZE);
        setup();
        fx.tk.shape[d] = -3;
        EXPECT_REJECTED(call(), GA_ERR_BAD_SIZE);
    }
}

TEST(unknown_or_mismatched_dtype_is_bad_dtype) {
    setup();
    fx.tq.dtype = (ga_dtype)7;
    EXPECT_REJECTED(call(), GA_ERR_BAD_DTYPE);
    setup();
    fx.tk.dtype = GA_F16;
    EXPECT_REJECTED(call(), GA_ERR_BAD_DTYPE);
    setup();
    fx.tv.dtype = GA_BF16;
    EXPECT_REJECTED(call(), GA_ERR_BAD_DTYPE);
    setup();
    fx.tout.dtype = GA_F16;
    EXPECT_REJECTED(call(), GA_ERR_BAD_DTYPE);
}

TEST(lse_not_float32_is_bad_dtype) {
    setup();
    fx.tlse.dtype = GA_BF16;
    EXPECT_REJECTED(call(), GA_ERR_BAD_DTYPE);
}

TEST(inconsistent_shapes_are_shape_mismatch) {
    setup();
    fx.tk.shape[3] = 4; /* k's D differs (the buffer is big enough) */
    fx.tv.shape[3] = 4;
    EXPECT_REJECTED(call(), GA_ERR_SHAPE_MISMATCH);
    setup();
    fx.tv.shape[1] = NK - 1; /* v differs from k */
    EXPECT_REJECTED(call(), GA_ERR_SHAPE_MISMATCH);
    setup();
    fx.tout.shape[1] = NQ - 1;
    EXPECT_REJECTED(call(), GA_ERR_SHAPE_MISMATCH);
    setup();
    fx.tlse.shape[3] = 2;
    EXPECT_REJECTED(call(), GA_ERR_SHAPE_MISMATCH);
    setup();
    fx.tlse.shape[2] = 1;
    EXPECT_REJECTED(call(), GA_ERR_SHAPE_MISMATCH);
    setup();
    fx.tk.shape[0] = 2;
    fx.tk.shape[1] = NK / 2;
    fx.tv.shape[0] = 2;
    fx.tv.shape[1] = NK / 2;
    EXPECT_REJECTED(call(), GA_ERR_SHAPE_MISMATCH);
}

TEST(kv_heads_not_dividing_query_heads_is_shape_mismatch) {
    setup();
    /* H = 2 query heads over a (1, 8, 3, 2)-shaped view of the same k/v buffers: 3 does not divide 2 */
    fx.tk = ga_tensor_make(fx.k, GA_F32, GA_DEVICE_CPU, 1, NK, 3, D_);
    fx.tk.shape[1] = 8;
    fx.tv = fx.tk;
    fx.tv.data = fx.v;
    EXPECT_REJECTED(call(), GA_ERR_SHAPE_MISMATCH);
    EXPECT_TRUE(strstr(ga_last_error_detail(), "Hkv") != NULL);
}

TEST(negative_stride_or_noncontiguous_last_dim_is_bad_stride) {
    setup();
    fx.tq.stride[1] = -fx.tq.stride[1];
    EXPECT_REJECTED(call(), GA_ERR_BAD_STRIDE);
    setup();
    fx.tv.stride[3] = 2;
    EXPECT_REJECTED(call(), GA_ERR_BAD_STRIDE);
    setup();
    fx.tlse.stride[3] = 0;
    EXPECT_REJECTED(call(), GA_ERR_BAD_STRIDE);
}

TEST(element_offsets_beyond_int64_are_overflow) {
    setup();
    fx.tk.stride[1] = INT64_MAX / 4;
    fx.tv.stride[1] = INT64_MAX / 4;
    EXPECT_REJECTED(call(), GA_ERR_OVERFLOW);
    setup();
    fx.tq.stride[0] = INT64_MAX;
    fx.tq.shape[0] = 2;
    EXPECT_REJECTED(call(), GA_ERR_OVERFLOW);
    setup();
    fx.tout.stride[2] = INT64_MAX / 3; /* fits as an element offset, not as bytes */
    EXPECT_REJECTED(call(), GA_ERR_OVERFLOW);
}

TEST(out_overlapping_k_or_v_is_aliasing) {
    setup();
    fx.tout.data = fx.k;
    EXPECT_REJECTED(call(), GA_ERR_ALIASING);
    setup();
    fx.tout.data = fx.v + 5;
    EXPECT_REJECTED(call(), GA_ERR_ALIASING);
}

TEST(out_overlapping_q_without_being_q_is_aliasing) {
    setup();
    memcpy(fx.out0, fx.q, sizeof fx.q); /* the q buffer is the output here: check it */
    fx.tout.data = fx.q + 1;             /* shifted by one element */
    fx.tout.shape[1] = NQ - 1;
    fx.tq.shape[1] = NQ - 1;
    fx.tlse.shape[1] = NQ - 1;
    ga_status s = call();
    EXPECT_STATUS(s, GA_ERR_ALIASING);
    EXPECT_TRUE(memcmp(fx.q, fx.out0, sizeof fx.q) == 0);
    setup();
    memcpy(fx.out0, fx.q, sizeof fx.q);
    fx.tq.shape[1] = fx.tout.shape[1] = fx.tlse.shape[1] = 6;
    fx.tq.stride[1] = 2 * H_ * D_; /* q: every other token row; out: the same pointer, contiguous */
    fx.tout.data = fx.q;
    EXPECT_STATUS(call(), GA_ERR_ALIASING);
    EXPECT_TRUE(memcmp(fx.q, fx.out0, sizeof fx.q) == 0);
}

TEST(out_exactly_q_is_accepted) {
    setup();
    fx.tout = fx.tq;
    ASSERT_OK(call());
    for (size_t i = 0; i < sizeof fx.q / sizeof fx.q[0]; i++) ASSERT_TRUE(isfinite(fx.q[i]));
}

/* q, k and v as the slices of one fused projection (B, N, 3, H, D): out = q is allowed although
 * q's byte range holds k's and v's elements between its rows, and gives what separate copies
 * give; an out that shares one element with k, or one interleaved with q's rows but not q, is
 * still refused and writes nothing. */
TEST(out_over_q_of_a_fused_qkv_buffer_is_accepted_and_elementwise_overlaps_refused) {
    setup();
    const ga_status want_ok = call(); /* separate buffers: the reference result */
    ASSERT_TRUE(want_ok == GA_OK);
    float want[sizeof fx.out / sizeof fx.out[0]];
    memcpy(want, fx.out, sizeof want);
    enum { ROW = 3 * H_ * D_ };
    static float qkv[B_ * NQ * ROW];
    for (int64_t i = 0; i < NQ; i++)
        for (int64_t c = 0; c < H_ * D_; c++) {
            qkv[i * ROW + c] = fx.q[i * H_ * D_ + c];
            qkv[i * ROW + H_ * D_ + c] = fx.k[i * H_ * D_ + c];
            qkv[i * ROW + 2 * H_ * D_ + c] = fx.v[i * H_ * D_ + c];
        }
    ga_tensor tq = fx.tq, tk = fx.tk, tv = fx.tv;
    tq.data = qkv;
    tk.data = qkv + H_ * D_;
    tv.data = qkv + 2 * H_ * D_;
    tq.stride[1] = tk.stride[1] = tv.stride[1] = ROW;
    tq.stride[0] = tk.stride[0] = tv.stride[0] = NQ * ROW;
    ga_tensor to = tq;
    ASSERT_OK(ga_attention_forward(fx.g, &tq, &tk, &tv, &to, NULL, &fx.opt, NULL, 0));
    for (int64_t i = 0; i < NQ; i++)
        for (int64_t c = 0; c < H_ * D_; c++)
            if (qkv[i * ROW + c] != want[i * H_ * D_ + c]) {
                ga_test_fail(__FILE__, __LINE__, "row %lld col %lld: %g, separate buffers %g", (long long)i, (long long)c,
                             qkv[i * ROW + c], want[i * H_ * D_ + c]);
                return;
            }
    /* k and v untouched */
    for (int64_t i = 0; i < NQ; i++)
        for (int64_t c = 0; c < H_ * D_; c++)
            ASSERT_TRUE(qkv[i * ROW + H_ * D_ + c] == fx.k[i * H_ * D_ + c] &&
                        qkv[i * ROW + 2 * H_ * D_ + c] == fx.v[i * H_ * D_ + c]);
    static float snap[sizeof qkv / sizeof qkv[0]];
    memcpy(snap, qkv, sizeof qkv);
    ga_tensor bad = tq; /* q's slot shifted by one element: its last column is k's first */
    bad.data = qkv + 1;
    EXPECT_STATUS(ga_attention_forward(fx.g, &tq, &tk, &tv, &bad, NULL, &fx.opt, NULL, 0), GA_ERR_ALIASING);
    EXPECT_TRUE(strstr(ga_last_error_detail(), "out overlaps") != NULL);
    bad = tq; /* one row further on: q's own elements, but not as q */
    bad.data = qkv + ROW;
    bad.shape[1] = tq.shape[1] = tk.shape[1] = tv.shape[1] = NQ - 1;
    EXPECT_STATUS(ga_attention_forward(fx.g, &tq, &tk, &tv, &bad, NULL, &fx.opt, NULL, 0), GA_ERR_ALIASING);
    EXPECT_TRUE(memcmp(snap, qkv, sizeof qkv) == 0);
}

TEST(lse_overlapping_anything_is_aliasing) {
    setup();
    fx.tlse.data = fx.out + 3;
    EXPECT_STATUS(call(), GA_ERR_ALIASING);
    EXPECT_UNTOUCHED();
    setup();
    fx.tlse.data = fx.q;
    EXPECT_REJECTED(call(), GA_ERR_ALIASING);
    setup();
    fx.tlse.data = fx.k + 1;
    EXPECT_REJECTED(call(), GA_ERR_ALIASING);
}

/* A caller's workspace whose bytes for this call (ga_attention_workspace_size's count) overlap
 * q, k, v, out or lse is aliasing, and nothing is written; a separate one works. */
TEST(a_workspace_overlapping_a_tensor_is_aliasing) {
    setup();
    size_t need = 0;
    ASSERT_OK(ga_attention_workspace_size(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.opt, &need));
    ASSERT_TRUE(need > 0);
    void *const over[5] = {fx.q, fx.k + 1, fx.v, fx.out + 2, fx.lse + 1};
    for (int t = 0; t < 5; t++) {
        setup();
        const ga_status s =
            ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, over[t], need);
        if (s != GA_ERR_ALIASING)
            ga_test_fail(__FILE__, __LINE__, "workspace over tensor %d: status %d, want GA_ERR_ALIASING", t, (int)s);
        EXPECT_UNTOUCHED();
    }
    setup();
    void *ws = malloc(need);
    ASSERT_TRUE(ws != NULL);
    EXPECT_STATUS(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, ws, need), GA_OK);
    free(ws);
}

TEST(output_whose_elements_overlap_each_other_is_aliasing) {
    setup();
    fx.tout.stride[1] = 0; /* every token row written to the same place */
    EXPECT_REJECTED(call(), GA_ERR_ALIASING);
}

TEST(tensors_on_different_devices_are_device_mismatch) {
    setup();
    fx.tk.device = GA_DEVICE_CUDA;
    EXPECT_REJECTED(call(), GA_ERR_DEVICE_MISMATCH);
    setup();
    fx.tq.device = fx.tk.device = fx.tv.device = fx.tout.device = fx.tlse.device = GA_DEVICE_CUDA;
    fx.tlse.device_index = 1;
    EXPECT_REJECTED(call(), GA_ERR_DEVICE_MISMATCH);
}

TEST(cpu_backend_with_cuda_tensors_is_device_mismatch) {
    setup();
    fx.tq.device = fx.tk.device = fx.tv.device = fx.tout.device = fx.tlse.device = GA_DEVICE_CUDA;
    fx.opt.backend = GA_BACKEND_CPU;
    EXPECT_REJECTED(call(), GA_ERR_DEVICE_MISMATCH);
    fx.opt.backend = GA_BACKEND_CPU_REFERENCE;
    EXPECT_REJECTED(call(), GA_ERR_DEVICE_MISMATCH);
}

TEST(cuda_backend_with_host_tensors_is_rejected) {
    setup();
    fx.opt.backend = GA_BACKEND_CUDA;
    /* without a usable GPU the backend is unavailable; with one, host tensors do not fit it */
    EXPECT_REJECTED(call(), ga_cuda_device_count() > 0 ? GA_ERR_DEVICE_MISMATCH : GA_ERR_BACKEND_UNAVAILABLE);
}

TEST(cuda_tensors_without_a_cuda_backend_are_backend_unavailable) {
    if (ga_cuda_device_count() > 0) TEST_SKIP("a GPU is present");
    setup();
    fx.tq.device = fx.tk.device = fx.tv.device = fx.tout.device = fx.tlse.device = GA_DEVICE_CUDA;
    EXPECT_REJECTED(call(), GA_ERR_BACKEND_UNAVAILABLE);
}

TEST(unknown_backend_or_device_type_is_bad_parameter) {
    setup();
    fx.opt.backend = (ga_backend)9;
    EXPECT_REJECTED(call(), GA_ERR_BAD_PARAMETER);
    setup();
    fx.tq.device = fx.tk.device = fx.tv.device = fx.tout.device = fx.tlse.device = (ga_device_type)5;
    EXPECT_REJECTED(call(), GA_ERR_BAD_PARAMETER);
}

TEST(nan_infinite_negative_or_past_float32_scale_is_bad_parameter) {
    const double bad[] = {NAN, INFINITY, -INFINITY, -0.5, 3.5e38, 1e300};
    for (int t = 0; t < 6; t++) {
        setup();
        fx.opt.scale = bad[t];
        EXPECT_REJECTED(call(), GA_ERR_BAD_PARAMETER);
    }
}

TEST(accumulate_without_lse_is_bad_parameter) {
    setup();
    fx.opt.flags = GA_FLAG_ACCUMULATE;
    EXPECT_STATUS(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, NULL, &fx.opt, NULL, 0), GA_ERR_BAD_PARAMETER);
    EXPECT_UNTOUCHED();
}

TEST(unknown_flags_are_bad_parameter) {
    setup();
    fx.opt.flags = 0x80;
    EXPECT_REJECTED(call(), GA_ERR_BAD_PARAMETER);
}

TEST(negative_thread_count_is_bad_parameter) {
    setup();
    fx.opt.num_threads = -1;
    EXPECT_REJECTED(call(), GA_ERR_BAD_PARAMETER);
}

TEST(thread_count_above_the_cap_is_bad_parameter) {
    /* OpenMP exits the process when it cannot create a thread: the library asks for at most
     * GA_MAX_THREADS */
    setup();
    fx.opt.num_threads = GA_MAX_THREADS + 1;
    EXPECT_REJECTED(call(), GA_ERR_BAD_PARAMETER);
    EXPECT_TRUE(strstr(ga_last_error_detail(), "[0, 1024]") != NULL);
}

TEST(explicit_graph_of_another_size_is_graph_mismatch) {
    setup();
    const int64_t ptr[] = {0, 1, 1, 1, 1, 1};
    const int64_t col[] = {0};
    ga_graph *g = NULL;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_csr(g, 5, NK, ptr, col, GA_INDEX_INT64));
    EXPECT_REJECTED(ga_attention_forward(g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, NULL, 0), GA_ERR_GRAPH_MISMATCH);
    ga_graph_destroy(g);
}

TEST(global_token_beyond_the_sequence_is_index_out_of_range) {
    setup();
    const int64_t tok = NQ + NK;
    ga_graph *g = NULL;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_global(g, &tok, 1));
    EXPECT_REJECTED(ga_attention_forward(g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, NULL, 0), GA_ERR_INDEX_OUT_OF_RANGE);
    ga_graph_destroy(g);
}

/* setup() on the CPU backend, then the workspace size its call asks for (0 where the query
 * fails, which is reported here with its status) */
static size_t setup_cpu_workspace(void) {
    setup();
    fx.opt.backend = GA_BACKEND_CPU;
    size_t need = 0;
    ga_status st;
    EXPECT_STATUS(st = ga_attention_workspace_size(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.opt, &need), GA_OK);
    return st == GA_OK ? need : 0;
}

/* (with an explicit team: at OpenMP's default one the call takes fewer threads instead, down to
 * one; the next test) */
TEST(workspace_smaller_than_the_size_query_is_workspace_too_small) {
    setup();
    fx.opt.backend = GA_BACKEND_CPU;
    fx.opt.num_threads = 2;
    size_t need = 0;
    ASSERT_OK(ga_attention_workspace_size(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.opt, &need));
    ASSERT_TRUE(need > 0);
    char *w = malloc(need);
    EXPECT_REJECTED(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, w, need - 1),
                    GA_ERR_WORKSPACE_TOO_SMALL);
    EXPECT_STATUS(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, w, need), GA_OK);
    free(w);
}

#ifdef _OPENMP
/* With options.num_threads 0 the CPU backend's team is OpenMP's default, the calling thread's
 * setting: a workspace sized while it was 1 still serves once it is 4 (the call then takes the
 * threads the workspace holds) and gives the same output as the library's own workspace; one
 * byte less than one thread's is too small, and an explicit num_threads keeps its own size. */
TEST(a_workspace_sized_at_fewer_openmp_threads_serves_a_larger_default_team) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    const size_t need1 = setup_cpu_workspace();
    omp_set_num_threads(4);
    size_t need4 = 0;
    EXPECT_STATUS(ga_attention_workspace_size(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.opt, &need4), GA_OK);
    EXPECT_TRUE(need4 > need1 && need1 > 0);
    char *w = aligned_alloc(64, (need4 + 63) / 64 * 64);
    ASSERT_TRUE(w != NULL);
    float want[sizeof fx.out / sizeof fx.out[0]], want_lse[sizeof fx.lse / sizeof fx.lse[0]];
    EXPECT_STATUS(call(), GA_OK);
    memcpy(want, fx.out, sizeof want);
    memcpy(want_lse, fx.lse, sizeof want_lse);
    memset(fx.out, 0xA5, sizeof fx.out);
    memset(fx.lse, 0x5A, sizeof fx.lse);
    EXPECT_REJECTED(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, w, need1 - 1),
                    GA_ERR_WORKSPACE_TOO_SMALL);
    EXPECT_STATUS(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, w, need1), GA_OK);
    EXPECT_TRUE(memcmp(fx.out, want, sizeof want) == 0 && memcmp(fx.lse, want_lse, sizeof want_lse) == 0);
    memset(fx.out, 0xA5, sizeof fx.out);
    memset(fx.lse, 0x5A, sizeof fx.lse);
    fx.opt.num_threads = 4; /* asked for: its own size, nothing less */
    EXPECT_REJECTED(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, w, need1),
                    GA_ERR_WORKSPACE_TOO_SMALL);
    EXPECT_STATUS(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, w, need4), GA_OK);
    free(w);
    omp_set_num_threads(saved);
}
#endif

/* The workspace's parts are read in 8- and 16-byte vectors: a base off 16 bytes is refused up
 * front (not a misaligned access on the device), nothing written; the aligned base works. */
TEST(workspace_off_16_byte_alignment_is_bad_parameter) {
    const size_t need = setup_cpu_workspace();
    ASSERT_TRUE(need > 0);
    char *w = aligned_alloc(64, (need + 64 + 63) / 64 * 64);
    ASSERT_TRUE(w != NULL);
    for (int off = 4; off < 16; off += 4)
        EXPECT_REJECTED(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, w + off, need),
                        GA_ERR_BAD_PARAMETER);
    EXPECT_TRUE(strstr(ga_last_error_detail(), "16-byte aligned") != NULL);
    EXPECT_STATUS(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, w + 16, need), GA_OK);
    free(w);
}

TEST(null_workspace_with_nonzero_size_is_null_pointer) {
    setup();
    EXPECT_REJECTED(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse, &fx.opt, NULL, 64),
                    GA_ERR_NULL_POINTER);
}

TEST(detail_names_the_tensor_and_values) {
    setup();
    fx.tk.shape[3] = 5;
    fx.tv.shape[3] = 5;
    EXPECT_STATUS(call(), GA_ERR_SHAPE_MISMATCH);
    EXPECT_TRUE(strstr(ga_last_error_detail(), "k:") != NULL);
    EXPECT_TRUE(strstr(ga_last_error_detail(), "5") != NULL);
    /* the next successful call clears it */
    setup();
    ASSERT_OK(call());
    EXPECT_TRUE(ga_last_error_detail()[0] == '\0');
}

TEST(workspace_size_query_validates_its_inputs) {
    setup();
    size_t n = 1;
    EXPECT_STATUS(ga_attention_workspace_size(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.opt, NULL), GA_ERR_NULL_POINTER);
    fx.tk.shape[3] = 4;
    EXPECT_STATUS(ga_attention_workspace_size(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.opt, &n), GA_ERR_SHAPE_MISMATCH);
    setup();
    fx.opt.backend = GA_BACKEND_CPU_REFERENCE;
    ASSERT_OK(ga_attention_workspace_size(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.opt, &n));
    EXPECT_EQ_I64(n, 0);
}

TEST(small_api_functions_answer_plainly) {
    EXPECT_EQ_I64(ga_version_number(), GA_VERSION_NUMBER);
    EXPECT_TRUE(strcmp(ga_version_string(), "0.1.0") == 0);
    EXPECT_EQ_I64(ga_dtype_size(GA_F32), 4);
    EXPECT_EQ_I64(ga_dtype_size(GA_BF16), 2);
    EXPECT_EQ_I64(ga_dtype_size((ga_dtype)9), 0);
    EXPECT_TRUE(strcmp(ga_dtype_name(GA_F16), "float16") == 0);
    EXPECT_TRUE(ga_dtype_name((ga_dtype)9) == NULL);
    EXPECT_TRUE(strncmp(ga_backends_compiled(), "cpu-reference,cpu", 17) == 0);
    ga_tensor t = ga_tensor_make(NULL, GA_F16, GA_DEVICE_CPU, 2, 3, 4, 5);
    EXPECT_EQ_I64(t.stride[3], 1);
    EXPECT_EQ_I64(t.stride[2], 5);
    EXPECT_EQ_I64(t.stride[1], 20);
    EXPECT_EQ_I64(t.stride[0], 60);
    ga_options o;
    memset(&o, 0x7f, sizeof o);
    ga_options_init(&o);
    EXPECT_TRUE(o.scale == 0 && o.flags == 0 && o.backend == GA_BACKEND_AUTO && o.stream == NULL && o.num_threads == 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Size products that overflow, strides, explicit edges and graph queries                       */
/* ------------------------------------------------------------------------------------------ */

TEST(huge_shapes_over_tiny_buffers_are_overflow) {
    const int64_t big = (int64_t)1 << 21;
    /* the element count of every tensor overflows int64: ga_tensor_make saturates the strides */
    setup();
    fx.tq = ga_tensor_make(fx.q, GA_F32, GA_DEVICE_CPU, big, big, big, big);
    EXPECT_REJECTED(call(), GA_ERR_OVERFLOW);
    setup();
    fx.tk = ga_tensor_make(fx.k, GA_F32, GA_DEVICE_CPU, B_, big * big, big * big, D_);
    fx.tv = ga_tensor_make(fx.v, GA_F32, GA_DEVICE_CPU, B_, big * big, big * big, D_);
    EXPECT_REJECTED(call(), GA_ERR_OVERFLOW);
    setup();
    fx.tout = ga_tensor_make(fx.out, GA_F32, GA_DEVICE_CPU, big, big, big, big);
    EXPECT_REJECTED(call(), GA_ERR_OVERFLOW);
    setup();
    fx.tlse = ga_tensor_make(fx.lse, GA_F32, GA_DEVICE_CPU, big, big, big, 1);
    EXPECT_REJECTED(call(), GA_ERR_OVERFLOW);
    /* 2^61 elements fit in int64, their 2^63 bytes do not */
    setup();
    fx.tq = ga_tensor_make(fx.q, GA_F32, GA_DEVICE_CPU, 1, (int64_t)1 << 61, 1, 1);
    EXPECT_REJECTED(call(), GA_ERR_OVERFLOW);
    /* inputs broadcast by zero strides span a few bytes, but B * N * H * D = 2^120 elements
     * would still reach the backends' size products: refused as well */
    setup();
    const int64_t t40 = (int64_t)1 << 40;
    fx.tq = ga_tensor_make(fx.q, GA_F32, GA_DEVICE_CPU, t40, t40, t40, 1);
    fx.tq.stride[0] = fx.tq.stride[1] = fx.tq.stride[2] = 0;
    size_t n40 = 777;
    EXPECT_STATUS(ga_attention_workspace_size(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.opt, &n40), GA_ERR_OVERFLOW);
    EXPECT_EQ_I64(n40, 777);
    /* the fp64 reference's private results, B * Nq * H * (D + 1) doubles: 2^64 bytes for an out of
     * 2^61 half-precision elements (whose 2^62 bytes pass the extent checks) */
    setup();
    fx.opt.backend = GA_BACKEND_CPU_REFERENCE;
    const int64_t bq = (int64_t)1 << 11, hq = (int64_t)1 << 10;
    static uint16_t h16[8];
    fx.tq = ga_tensor_make(h16, GA_F16, GA_DEVICE_CPU, bq, t40, hq, 1);
    fx.tq.stride[0] = fx.tq.stride[1] = fx.tq.stride[2] = 0;
    fx.tk = ga_tensor_make(h16 + 2, GA_F16, GA_DEVICE_CPU, bq, 4, 1, 1);
    fx.tk.stride[0] = fx.tk.stride[1] = 0;
    fx.tv = fx.tk;
    fx.tv.data = h16 + 4;
    /* never written: above every real address, its 2^62 bytes ending at 2^63 */
    fx.tout = ga_tensor_make((void *)((uintptr_t)1 << 62), GA_F16, GA_DEVICE_CPU, bq, t40, hq, 1);
    EXPECT_STATUS(ga_attention_forward(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.tout, NULL, &fx.opt, NULL, 0), GA_ERR_OVERFLOW);
    EXPECT_TRUE(strstr(ga_last_error_detail(), "reference") != NULL);
    /* the workspace size query validates the same way */
    setup();
    size_t bytes = 12345;
    fx.tq = ga_tensor_make(fx.q, GA_F32, GA_DEVICE_CPU, big, big, big, big);
    EXPECT_STATUS(ga_attention_workspace_size(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.opt, &bytes), GA_ERR_OVERFLOW);
    EXPECT_EQ_I64(bytes, 12345);
}

/* Nq or Nk past 2^40 is GA_ERR_BAD_SIZE from the forward call as from the workspace query, even
 * where the outputs, too large to exist, would also overlap the inputs or themselves. */
TEST(more_than_2_to_the_40_tokens_is_bad_size_before_any_overlap) {
    const int64_t over = ((int64_t)1 << 40) + 1;
    for (int which = 0; which < 2; which++) {
        setup();
        if (which == 0) { /* q broadcast over 2^40 + 1 rows, out and lse one row repeated */
            fx.tq = ga_tensor_make(fx.q, GA_F32, GA_DEVICE_CPU, B_, over, H_, D_);
            fx.tout = ga_tensor_make(fx.out, GA_F32, GA_DEVICE_CPU, B_, over, H_, D_);
            fx.tlse = ga_tensor_make(fx.lse, GA_F32, GA_DEVICE_CPU, B_, over, H_, 1);
            fx.tq.stride[1] = fx.tout.stride[1] = fx.tlse.stride[1] = 0;
        } else { /* k and v broadcast over 2^40 + 1 keys */
            fx.tk = ga_tensor_make(fx.k, GA_F32, GA_DEVICE_CPU, B_, over, H_, D_);
            fx.tv = ga_tensor_make(fx.v, GA_F32, GA_DEVICE_CPU, B_, over, H_, D_);
            fx.tk.stride[1] = fx.tv.stride[1] = 0;
            fx.tout.data = fx.k; /* overlapping k too */
        }
        EXPECT_REJECTED(call(), GA_ERR_BAD_SIZE);
        if (!strstr(ga_last_error_detail(), "2^40"))
            ga_test_fail(__FILE__, __LINE__, "case %d: detail '%s' does not name the 2^40 limit", which,
                         ga_last_error_detail());
        size_t bytes = 99;
        EXPECT_STATUS(ga_attention_workspace_size(fx.g, &fx.tq, &fx.tk, &fx.tv, &fx.opt, &bytes), GA_ERR_BAD_SIZE);
        EXPECT_EQ_I64(bytes, 99);
    }
}

TEST(data_pointer_plus_extent_wrapping_the_address_space_is_overflow) {
    setup();
    fx.tk.data = (void *)(UINTPTR_MAX - 64);
    fx.tv.data = (void *)(UINTPTR_MAX - 64);
    EXPECT_REJECTED(call(), GA_ERR_OVERFLOW);
}

TEST(negative_stride_on_any_tensor_and_dimension_is_bad_stride) {
    ga_tensor *ts[] = {&fx.tq, &fx.tk, &fx.tv, &fx.tout, &fx.tlse};
    for (int t = 0; t < 5; t++)
        for (int d = 0; d < 3; d++) {
            setup();
            ts[t]->stride[d] = -1;
            EXPECT_REJECTED(call(), GA_ERR_BAD_STRIDE);
        }
    setup();
    fx.tq.stride[3] = -1;
    EXPECT_REJECTED(call(), GA_ERR_BAD_STRIDE);
}

TEST(merge_with_overflowing_or_negative_layouts_is_rejected_and_writes_nothing) {
    setup();
    const int64_t big = (int64_t)1 << 21;
    ga_tensor a = fx.tout, la = fx.tlse;
    ga_tensor b = ga_tensor_make(fx.q, GA_F32, GA_DEVICE_CPU, B_, NQ, H_, D_);
    ga_tensor lb = ga_tensor_make(fx.k, GA_F32, GA_DEVICE_CPU, B_, NQ, H_, 1);
    ga_tensor huge = ga_tensor_make(fx.q, GA_F32, GA_DEVICE_CPU, big, big, big, big);
    EXPECT_REJECTED(ga_merge_states(&a, &la, &huge, &lb, NULL), GA_ERR_OVERFLOW);
    ga_tensor neg = b;
    neg.stride[1] = -neg.stride[1];
    EXPECT_REJECTED(ga_merge_states(&a, &la, &neg, &lb, NULL), GA_ERR_BAD_STRIDE);
    ga_tensor zero = b;
    zero.shape[2] = 0;
    EXPECT_REJECTED(ga_merge_states(&a, &la, &zero, &lb, NULL), GA_ERR_BAD_SIZE);
    ga_tensor self = a;
    self.stride[1] = 0;
    EXPECT_REJECTED(ga_merge_states(&self, &la, &b, &lb, NULL), GA_ERR_ALIASING);
}

/* A rejected explicit component changes nothing: the graph keeps its components and the
 * forward pass over it gives the same bits as before. */
TEST(rejected_explicit_edges_leave_the_graph_and_its_results_unchanged) {
    setup();
    ASSERT_OK(call());
    float first[B_ * NQ * H_ * D_];
    memcpy(first, fx.out, sizeof first);
    int64_t ptr[NQ + 1], dup[2 * NQ], unsorted[2 * NQ];
    for (int i = 0; i <= NQ; i++) ptr[i] = 2 * i;
    for (int i = 0; i < NQ; i++) {
        dup[2 * i] = dup[2 * i + 1] = i;
        unsorted[2 * i] = (i + 1) % NK; /* row 0 already holds (1, 0) */
        unsorted[2 * i + 1] = i;
    }
    int64_t end_ptr[NQ + 1];
    memcpy(end_ptr, ptr, sizeof ptr);
    end_ptr[NQ] = NQ * NK + 1;
    const int32_t coo_r[] = {0, 3, 0}, coo_c[] = {5, 1, 5};
    EXPECT_STATUS(ga_graph_add_csr(fx.g, NQ, NK, ptr, dup, GA_INDEX_INT64), GA_ERR_INDEX_DUPLICATE);
    EXPECT_STATUS(ga_graph_add_csr(fx.g, NQ, NK, ptr, unsorted, GA_INDEX_INT64), GA_ERR_INDEX_UNSORTED);
    EXPECT_STATUS(ga_graph_add_csr(fx.g, NQ, NK, end_ptr, dup, GA_INDEX_INT64), GA_ERR_ROW_PTR_END);
    EXPECT_STATUS(ga_graph_add_csr(fx.g, NQ, (int64_t)INT32_MAX + 2, ptr, dup, GA_INDEX_INT32), GA_ERR_BAD_DTYPE);
    EXPECT_STATUS(ga_graph_add_coo(fx.g, NQ, NK, 3, coo_r, coo_c, GA_INDEX_INT32), GA_ERR_INDEX_DUPLICATE);
    EXPECT_STATUS(ga_graph_add_coo(fx.g, NQ, NK, 3, coo_r, coo_c, (ga_index_type)3), GA_ERR_BAD_DTYPE);
    EXPECT_EQ_I64(ga_graph_component_count(fx.g), 1);
    memset(fx.out, 0xA5, sizeof fx.out);
    ASSERT_OK(call());
    EXPECT_TRUE(memcmp(first, fx.out, sizeof first) == 0);
}

TEST(graph_queries_reject_bad_sizes_and_write_nothing) {
    setup();
    int64_t edges = -77, keys[4] = {-7, -7, -7, -7}, deg = -77, ptr[3] = {-7, -7, -7}, col[64];
    ga_degree_stats st;
    memset(&st, 0xA5, sizeof st);
    const unsigned char *stb = (const unsigned char *)&st;
    EXPECT_STATUS(ga_graph_count_edges(fx.g, 0, NK, &edges), GA_ERR_BAD_SIZE);
    EXPECT_STATUS(ga_graph_count_edges(fx.g, NQ, -1, &edges), GA_ERR_BAD_SIZE);
    EXPECT_STATUS(ga_graph_count_edges(fx.g, (int64_t)1 << 41, NK, &edges), GA_ERR_BAD_SIZE);
    EXPECT_STATUS(ga_graph_count_edges(NULL, NQ, NK, &edges), GA_ERR_NULL_POINTER);
    EXPECT_STATUS(ga_graph_count_edges(fx.g, NQ, NK, NULL), GA_ERR_NULL_POINTER);
    EXPECT_EQ_I64(edges, -77);
    EXPECT_STATUS(ga_graph_degree_stats(fx.g, 0, 0, &st), GA_ERR_BAD_SIZE);
    EXPECT_TRUE(stb[0] == 0xA5 && stb[sizeof st - 1] == 0xA5);
    EXPECT_STATUS(ga_graph_row(fx.g, NQ, NK, NQ, keys, 4, &deg), GA_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_STATUS(ga_graph_row(fx.g, NQ, NK, -1, keys, 4, &deg), GA_ERR_INDEX_OUT_OF_RANGE);
    EXPECT_STATUS(ga_graph_row(fx.g, NQ, NK, 0, keys, -1, &deg), GA_ERR_BAD_SIZE);
    EXPECT_STATUS(ga_graph_row(fx.g, NQ, NK, 0, NULL, 4, &deg), GA_ERR_NULL_POINTER);
    EXPECT_TRUE(keys[0] == -7 && deg == -77);
    EXPECT_STATUS(ga_graph_to_csr(fx.g, 2, NK, ptr, col, -1), GA_ERR_BAD_SIZE);
    EXPECT_STATUS(ga_graph_to_csr(fx.g, 2, NK, ptr, NULL, 64), GA_ERR_NULL_POINTER);
    EXPECT_STATUS(ga_graph_to_csr(fx.g, 2, NK, ptr, col, 2), GA_ERR_BAD_SIZE); /* 6 edges do not fit */
    EXPECT_TRUE(ptr[0] == -7 && ptr[2] == -7);
}

/* A graph of more than 2^63 - 1 edges (dense, 2^23 + 1 rows of 2^40 keys) is an overflow for
 * ga_graph_to_csr as for ga_graph_count_edges, and row_ptr is left as it was (the running total
 * wrapped, passed the capacity check and wrote through col_idx). */
TEST(to_csr_of_more_edges_than_int64_holds_is_overflow_and_writes_nothing) {
    ga_graph *g = NULL;
    ASSERT_OK(ga_graph_create(&g));
    ASSERT_OK(ga_graph_add_dense(g));
    const int64_t nq = ((int64_t)1 << 23) + 1, nk = (int64_t)1 << 40;
    int64_t edges = -77, col[4] = {-7, -7, -7, -7};
    EXPECT_STATUS(ga_graph_count_edges(g, nq, nk, &edges), GA_ERR_OVERFLOW);
    EXPECT_EQ_I64(edges, -77);
    int64_t *ptr = malloc((size_t)(nq + 1) * sizeof *ptr);
    ASSERT_TRUE(ptr != NULL);
    for (int64_t i = 0; i <= nq; i++) ptr[i] = -7;
    EXPECT_STATUS(ga_graph_to_csr(g, nq, nk, ptr, col, 4), GA_ERR_OVERFLOW);
    int64_t touched = 0;
    for (int64_t i = 0; i <= nq; i++) touched += ptr[i] != -7;
    EXPECT_EQ_I64(touched, 0);
    EXPECT_TRUE(col[0] == -7 && col[3] == -7);
    free(ptr);
    ga_graph_destroy(g);
}

/* Explicit graphs read from .npy files by the spec parser: each broken rule gives its own
 * status, and *graph is not written. Includes the regression for indices of INT64_MAX, whose
 * "+ 1" (the implied column count) overflowed in the parser (signed overflow, caught by UBSan). */
TEST(csr_and_coo_files_with_bad_edges_fail_to_parse_with_their_own_status) {
    static const struct {
        const char *kind;
        int ptr64, idx64;
        int64_t np, ni;
        int64_t ptr[6], idx[6];
        ga_status want;
    } cases[] = {
        {"csr", 1, 1, 5, 4, {0, 1, 2, 3, 4}, {0, 1, 2, 3}, GA_OK},
        {"csr", 1, 1, 5, 4, {1, 1, 2, 3, 4}, {0, 1, 2, 3}, GA_ERR_ROW_PTR_START},
        {"csr", 1, 1, 5, 4, {0, 2, 1, 3, 4}, {0, 1, 2, 3}, GA_ERR_ROW_PTR_NOT_MONOTONE},
        {"csr", 1, 1, 5, 4, {0, 1, 2, 3, 5}, {0, 1, 2, 3}, GA_ERR_ROW_PTR_END},
        {"csr", 1, 0, 5, 4, {0, 1, 2, 3, 4}, {0, 1, -2, 3}, GA_ERR_INDEX_OUT_OF_RANGE},
        {"csr", 1, 1, 5, 4, {0, 1, 2, 3, 4}, {0, 1, 2, INT64_MAX}, GA_ERR_INDEX_OUT_OF_RANGE},
        {"csr", 1, 1, 5, 4, {0, 2, 2, 3, 4}, {1, 1, 2, 3}, GA_ERR_INDEX_DUPLICATE},
        {"csr", 1, 0, 5, 4, {0, 2, 2, 3, 4}, {1, 0, 2, 3}, GA_ERR_INDEX_UNSORTED},
        {"csr", 0, 1, 5, 4, {0, 1, 2, 3, 4}, {0, 1, 2, 3}, GA_ERR_FILE_FORMAT},  /* int32 row offsets */
        {"csr", 1, 1, 1, 0, {0}, {0}, GA_ERR_FILE_FORMAT},                      /* no rows */
        {"coo", 1, 1, 3, 3, {3, 0, 3}, {1, 2, 1}, GA_ERR_INDEX_DUPLICATE},
        {"coo", 1, 1, 3, 3, {0, -1, 1}, {0, 1, 1}, GA_ERR_INDEX_OUT_OF_RANGE},
        {"coo", 1, 1, 3, 3, {0, 1, 2}, {0, 1, INT64_MAX}, GA_ERR_INDEX_OUT_OF_RANGE},
        {"coo", 1, 1, 3, 3, {0, 1, INT64_MAX}, {0, 1, 2}, GA_ERR_BAD_SIZE},
        {"coo", 1, 1, 3, 2, {0, 1, 2}, {0, 1}, GA_ERR_FILE_FORMAT},             /* lengths differ */
        {"coo", 0, 1, 3, 3, {0, 1, 2}, {0, 1, 2}, GA_ERR_FILE_FORMAT},          /* dtypes differ */
    };
    char pa[96], pb[96], spec[256];
    snprintf(pa, sizeof pa, "/tmp/ga_validation_%ld_a.npy", (long)getpid());
    snprintf(pb, sizeof pb, "/tmp/ga_validation_%ld_b.npy", (long)getpid());
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int32_t p32[6], i32[6];
        for (int x = 0; x < 6; x++) { p32[x] = (int32_t)cases[c].ptr[x]; i32[x] = (int32_t)cases[c].idx[x]; }
        ASSERT_OK(cases[c].ptr64 ? ga_npy_save(pa, GA_NPY_I64, 1, &cases[c].np, cases[c].ptr)
                                 : ga_npy_save(pa, GA_NPY_I32, 1, &cases[c].np, p32));
        ASSERT_OK(cases[c].idx64 ? ga_npy_save(pb, GA_NPY_I64, 1, &cases[c].ni, cases[c].idx)
                                 : ga_npy_save(pb, GA_NPY_I32, 1, &cases[c].ni, i32));
        snprintf(spec, sizeof spec, "window:1 + %s:%s,%s", cases[c].kind, pa, pb);
        ga_graph *g = (ga_graph *)(void *)&fx; /* poison: must stay */
        ga_status st = ga_graph_parse(spec, &g);
        if (st != cases[c].want)
            ga_test_fail(__FILE__, __LINE__, "case %zu (%s): got %s (%s), want %s", c, cases[c].kind,
                         ga_status_string(st), ga_last_error_detail(), ga_status_string(cases[c].want));
        if (st == GA_OK) ga_graph_destroy(g);
        else EXPECT_TRUE(g == (ga_graph *)(void *)&fx);
    }
    /* coo files give their rows as the largest row index + 1: tensors with more rows than that are
     * refused with a message that says why (the last rows cannot be given without an edge) */
    const int64_t n2 = 2, rows[2] = {0, 1}, cols[2] = {0, 5};
    ASSERT_OK(ga_npy_save(pa, GA_NPY_I64, 1, &n2, rows));
    ASSERT_OK(ga_npy_save(pb, GA_NPY_I64, 1, &n2, cols));
    snprintf(spec, sizeof spec, "coo:%s,%s", pa, pb);
    ga_graph *g = NULL;
    ASSERT_OK(ga_graph_parse(spec, &g));
    EXPECT_STATUS(ga_graph_check(g, 2, 8), GA_OK);
    EXPECT_STATUS(ga_graph_check(g, 8, 8), GA_ERR_GRAPH_MISMATCH);
    EXPECT_TRUE(strstr(ga_last_error_detail(), "largest row index is 1") != NULL);
    EXPECT_STATUS(ga_graph_check(g, 2, 4), GA_ERR_GRAPH_MISMATCH); /* column 5 needs Nk >= 6 */
    ga_graph_destroy(g);
    /* whitespace around the paths is ignored, as around every token of a spec */
    snprintf(spec, sizeof spec, "coo: %s ,\t%s ", pa, pb);
    g = NULL;
    if (ga_graph_parse(spec, &g) != GA_OK)
        ga_test_fail(__FILE__, __LINE__, "'%s': %s", spec, ga_last_error_detail());
    else {
        int64_t edges = -1;
        EXPECT_STATUS(ga_graph_count_edges(g, 2, 6, &edges), GA_OK);
        EXPECT_EQ_I64(edges, 2);
        ga_graph_destroy(g);
    }
    unlink(pa);
    unlink(pb);
}

/* Regression (found by fuzz_spec under clang's UBSan): a component that takes arguments, written
 * without a ':', computed NULL + 0 before noticing the arguments were missing. */
TEST(components_written_without_arguments_are_spec_syntax) {
    static const char *const specs[] = {"window", "dilated", "blocks", "longnet", "global", "random", "bigbird",
                                        "csr", "coo", "window:2,5+dilated+blocks:8", "window:", " dilated : "};
    for (size_t c = 0; c < sizeof specs / sizeof specs[0]; c++) {
        ga_graph *g = NULL;
        ga_status st = ga_graph_parse(specs[c], &g);
        if (st != GA_ERR_SPEC_SYNTAX || !strstr(ga_last_error_detail(), "missing"))
            ga_test_fail(__FILE__, __LINE__, "'%s': got %s (%s), want GA_ERR_SPEC_SYNTAX about missing arguments",
                         specs[c], ga_status_string(st), ga_last_error_detail());
        EXPECT_TRUE(g == NULL);
    }
}
