/* test.h -- a tiny test runner. Each TEST(name) registers itself; the runner (test_main.c)
 * runs one test by name or all of them, and expectations print both values on failure.
 *
 *   TEST(window_keys_match_brute_force) { EXPECT_EQ_I64(got, want); }
 *
 * An EXPECT_* records a failure and continues; an ASSERT_* also returns from the test.
 * TEST_SKIP("why") marks the test skipped (e.g. no GPU) and returns. */
#ifndef GA_TEST_H
#define GA_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "graphattn.h"

typedef void (*ga_test_fn)(void);
void ga_test_register(const char *name, ga_test_fn fn);
void ga_test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ga_test_skip(const char *why);
int ga_test_failures(void); /* failures recorded so far in the running test */
/* ga_graph_parse(spec) or NULL after recording a failure that names the spec */
ga_graph *ga_test_parse_at(const char *file, int line, const char *spec);
#define ga_test_parse(spec) ga_test_parse_at(__FILE__, __LINE__, (spec))
/* One explicit (CSR) component holding the edges of `spec` over n x n, int64 columns (wide) or
 * int32; NULL after recording a failure. */
ga_graph *ga_test_csr_of_at(const char *file, int line, const char *spec, int64_t n, int wide);
#define ga_test_csr_of(spec, n, wide) ga_test_csr_of_at(__FILE__, __LINE__, (spec), (n), (wide))

#define TEST(name)                                                                                   \
    static void ga_test_##name(void);                                                                \
    __attribute__((constructor)) static void ga_test_register_##name(void) {                         \
        ga_test_register(#name, ga_test_##name);                                                     \
    }                                                                                                \
    static void ga_test_##name(void)

#define TEST_SKIP(why) do { ga_test_skip(why); return; } while (0)

#define EXPECT_TRUE(cond) \
    do { if (!(cond)) ga_test_fail(__FILE__, __LINE__, "expected %s", #cond); } while (0)
#define ASSERT_TRUE(cond) \
    do { if (!(cond)) { ga_test_fail(__FILE__, __LINE__, "expected %s", #cond); return; } } while (0)

#define EXPECT_EQ_I64(a, b)                                                                          \
    do { long long ga_a_ = (long long)(a), ga_b_ = (long long)(b);                                   \
         if (ga_a_ != ga_b_) ga_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, ga_a_, ga_b_); \
    } while (0)
#define ASSERT_EQ_I64(a, b)                                                                          \
    do { long long ga_a_ = (long long)(a), ga_b_ = (long long)(b);                                   \
         if (ga_a_ != ga_b_) { ga_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, ga_a_, ga_b_); return; } \
    } while (0)

#define EXPECT_NEAR(a, b, tol)                                                                       \
    do { double ga_a_ = (double)(a), ga_b_ = (double)(b);                                            \
         if (!(fabs(ga_a_ - ga_b_) <= (tol)))                                                        \
             ga_test_fail(__FILE__, __LINE__, "|%s - %s| <= %g: %.9g vs %.9g", #a, #b, (double)(tol), ga_a_, ga_b_); \
    } while (0)

/* Status checks print the status names and the library's detail. */
#define EXPECT_STATUS(expr, want)                                                                    \
    do { ga_status ga_s_ = (expr);                                                                    \
         if (ga_s_ != (want)) ga_test_fail(__FILE__, __LINE__, "%s: got %s, want %s (detail: %s)", #expr, \
                                           ga_status_string(ga_s_), ga_status_string(want), ga_last_error_detail()); \
    } while (0)
#define ASSERT_OK(expr)                                                                              \
    do { ga_status ga_s_ = (expr);                                                                    \
         if (ga_s_ != GA_OK) { ga_test_fail(__FILE__, __LINE__, "%s: %s (detail: %s)", #expr,         \
                                            ga_status_string(ga_s_), ga_last_error_detail()); return; } \
    } while (0)

#endif
