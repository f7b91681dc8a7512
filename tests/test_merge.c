/* ga_merge_states: a := a (+) b by log-sum-exp, checked against the fp64 formula, with the
 * empty-side rules (lse = -inf contributes nothing) and its own bad-input statuses. */
#include <stdlib.h>

#include "common/half.h"
#include "test.h"

enum { B_ = 2, N_ = 9, H_ = 3, D_ = 13 };
#define NOUT (B_ * N_ * H_ * D_)
#define NLSE (B_ * N_ * H_)

static uint64_t state = 12345;
static double uniform(void) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(state >> 11) / 9007199254740992.0;
}

/* Fills (out, lse) with random values; every 5th row of b gets lse = -inf and out = 0 (no edges). */
static void fill(float *out, float *lse, int empty_phase) {
    for (int r = 0; r < NLSE; r++) {
        const int empty = (r + empty_phase) % 5 == 0;
        lse[r] = empty ? -INFINITY : (float)(uniform() * 20 - 10);
        for (int d = 0; d < D_; d++) out[r * D_ + d] = empty ? 0.0f : (float)(uniform() * 2 - 1);
    }
}

TEST(merge_equals_the_exact_log_sum_exp_combination) {
    static float oa[NOUT], la[NLSE], ob[NOUT], lb[NLSE], oa0[NOUT], la0[NLSE];
    fill(oa, la, 0);
    fill(ob, lb, 2);
    memcpy(oa0, oa, sizeof oa);
    memcpy(la0, la, sizeof la);
    ga_tensor ta = ga_tensor_make(oa, GA_F32, GA_DEVICE_CPU, B_, N_, H_, D_), tla = ga_tensor_make(la, GA_F32, GA_DEVICE_CPU, B_, N_, H_, 1);
    ga_tensor tb = ga_tensor_make(ob, GA_F32, GA_DEVICE_CPU, B_, N_, H_, D_), tlb = ga_tensor_make(lb, GA_F32, GA_DEVICE_CPU, B_, N_, H_, 1);
    ASSERT_OK(ga_merge_states(&ta, &tla, &tb, &tlb, NULL));
    for (int r = 0; r < NLSE; r++) {
        const double a = la0[r], b = lb[r];
        if (a == -INFINITY && b == -INFINITY) {
            EXPECT_TRUE(la[r] == -INFINITY);
            for (int d = 0; d < D_; d++) EXPECT_TRUE(oa[r * D_ + d] == 0.0f);
            continue;
        }
        const double m = fmax(a, b), wa = exp(a - m), wb = exp(b - m);
        EXPECT_NEAR(la[r], m + log(wa + wb), 1e-5 * fmax(1, fabs(m)));
        for (int d = 0; d < D_; d++)
            EXPECT_NEAR(oa[r * D_ + d], (oa0[r * D_ + d] * wa + ob[r * D_ + d] * wb) / (wa + wb), 2e-6);
    }
}

TEST(merging_an_empty_b_leaves_a_bit_for_bit) {
    static float oa[NOUT], la[NLSE], ob[NOUT], lb[NLSE], oa0[NOUT], la0[NLSE];
    fill(oa, la, 1);
    for (int r = 0; r < NLSE; r++) lb[r] = -INFINITY;
    memset(ob, 0, sizeof ob);
    memcpy(oa0, oa, sizeof oa);
    memcpy(la0, la, sizeof la);
    ga_tensor ta = ga_tensor_make(oa, GA_F32, GA_DEVICE_CPU, B_, N_, H_, D_), tla = ga_tensor_make(la, GA_F32, GA_DEVICE_CPU, B_, N_, H_, 1);
    ga_tensor tb = ga_tensor_make(ob, GA_F32, GA_DEVICE_CPU, B_, N_, H_, D_), tlb = ga_tensor_make(lb, GA_F32, GA_DEVICE_CPU, B_, N_, H_, 1);
    ASSERT_OK(ga_merge_states(&ta, &tla, &tb, &tlb, NULL));
    EXPECT_TRUE(memcmp(oa, oa0, sizeof oa) == 0);
    EXPECT_TRUE(memcmp(la, la0, sizeof la) == 0);
}

TEST(merging_into_an_empty_a_copies_b) {
    static float oa[NOUT], la[NLSE], ob[NOUT], lb[NLSE];
    for (int r = 0; r < NLSE; r++) la[r] = -INFINITY;
    memset(oa, 0, sizeof oa);
    fill(ob, lb, 3);
    ga_tensor ta = ga_tensor_make(oa, GA_F32, GA_DEVICE_CPU, B_, N_, H_, D_), tla = ga_tensor_make(la, GA_F32, GA_DEVICE_CPU, B_, N_, H_, 1);
    ga_tensor tb = ga_tensor_make(ob, GA_F32, GA_DEVICE_CPU, B_, N_, H_, D_), tlb = ga_tensor_make(lb, GA_F32, GA_DEVICE_CPU, B_, N_, H_, 1);
    ASSERT_OK(ga_merge_states(&ta, &tla, &tb, &tlb, NULL));
    EXPECT_TRUE(memcmp(oa, ob, sizeof oa) == 0);
    EXPECT_TRUE(memcmp(la, lb, sizeof la) == 0);
}

TEST(merge_of_half_precision_states_rounds_once) {
    const ga_dtype dts[] = {GA_F16, GA_BF16};
    for (int t = 0; t < 2; t++) {
        static uint16_t ha[NOUT], hb[NOUT];
        static float la[NLSE], lb[NLSE], fa[NOUT], fb[NOUT], la0[NLSE];
        fill(fa, la, 4);
        fill(fb, lb, 0);
        memcpy(la0, la, sizeof la);
        for (int e = 0; e < NOUT; e++) {
            ha[e] = dts[t] == GA_F16 ? ga_f32_to_f16(fa[e]) : ga_f32_to_bf16(fa[e]);
            hb[e] = dts[t] == GA_F16 ? ga_f32_to_f16(fb[e]) : ga_f32_to_bf16(fb[e]);
        }
        ga_tensor ta = ga_tensor_make(ha, dts[t], GA_DEVICE_CPU, B_, N_, H_, D_), tla = ga_tensor_make(la, GA_F32, GA_DEVICE_CPU, B_, N_, H_, 1);
        ga_tensor tb = ga_tensor_make(hb, dts[t], GA_DEVICE_CPU, B_, N_, H_, D_), tlb = ga_tensor_make(lb, GA_F32, GA_DEVICE_CPU, B_, N_, H_, 1);
        ASSERT_OK(ga_merge_states(&ta, &tla, &tb, &tlb, NULL));
        const double tol = dts[t] == GA_F16 ? 1e-3 : 8e-3; /* half an ulp near 1, plus input rounding */
        for (int r = 0; r < NLSE; r++) {
            const double a = la0[r], b = lb[r];
            if (a == -INFINITY && b == -INFINITY) continue;
            const double m = fmax(a, b), wa = exp(a - m), wb = exp(b - m);
            for (int d = 0; d < D_; d++) {
                const float got = dts[t] == GA_F16 ? ga_f16_to_f32(ha[r * D_ + d]) : ga_bf16_to_f32(ha[r * D_ + d]);
                EXPECT_NEAR(got, (fa[r * D_ + d] * wa + fb[r * D_ + d] * wb) / (wa + wb), tol);
            }
        }
    }
}

TEST(merge_rejects_bad_input_and_writes_nothing) {
    static float oa[NOUT], la[NLSE], ob[NOUT], lb[NLSE], oa0[NOUT], la0[NLSE];
    fill(oa, la, 0);
    fill(ob, lb, 1);
    memcpy(oa0, oa, sizeof oa);
    memcpy(la0, la, sizeof la);
    ga_tensor ta = ga_tensor_make(oa, GA_F32, GA_DEVICE_CPU, B_, N_, H_, D_), tla = ga_tensor_make(la, GA_F32, GA_DEVICE_CPU, B_, N_, H_, 1);
    ga_tensor tb = ga_tensor_make(ob, GA_F32, GA_DEVICE_CPU, B_, N_, H_, D_), tlb = ga_tensor_make(lb, GA_F32, GA_DEVICE_CPU, B_, N_, H_, 1);
    EXPECT_STATUS(ga_merge_states(NULL, &tla, &tb, &tlb, NULL), GA_ERR_NULL_POINTER);
    EXPECT_STATUS(ga_merge_states(&ta, &tla, &tb, NULL, NULL), GA_ERR_NULL_POINTER);
    ga_tensor bad = tb;
    bad.shape[3] = D_ - 1;
    EXPECT_STATUS(ga_merge_states(&ta, &tla, &bad, &tlb, NULL), GA_ERR_SHAPE_MISMATCH);
    bad = tb;
    bad.dtype = GA_F16;
    EXPECT_STATUS(ga_merge_states(&ta, &tla, &bad, &tlb, NULL), GA_ERR_BAD_DTYPE);
    bad = tlb;
    bad.dtype = GA_BF16;
    EXPECT_STATUS(ga_merge_states(&ta, &tla, &tb, &bad, NULL), GA_ERR_BAD_DTYPE);
    bad = tb;
    bad.stride[3] = 2;
    EXPECT_STATUS(ga_merge_states(&ta, &tla, &bad, &tlb, NULL), GA_ERR_BAD_STRIDE);
    EXPECT_STATUS(ga_merge_states(&ta, &tla, &ta, &tlb, NULL), GA_ERR_ALIASING);
    bad = tla;
    bad.data = oa + 4;
    EXPECT_STATUS(ga_merge_states(&ta, &bad, &tb, &tlb, NULL), GA_ERR_ALIASING);
    bad = tb;
    bad.device = GA_DEVICE_CUDA;
    EXPECT_STATUS(ga_merge_states(&ta, &tla, &bad, &tlb, NULL), GA_ERR_DEVICE_MISMATCH);
    ga_options o;
    ga_options_init(&o);
    o.flags = GA_FLAG_ACCUMULATE;
    EXPECT_STATUS(ga_merge_states(&ta, &tla, &tb, &tlb, &o), GA_ERR_BAD_PARAMETER);
    EXPECT_TRUE(memcmp(oa, oa0, sizeof oa) == 0);
    EXPECT_TRUE(memcmp(la, la0, sizeof la) == 0);
}
