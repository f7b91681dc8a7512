/* error.h -- raising and forwarding status codes inside the library.
 * The library never prints: an error is a status code plus a detail string kept per thread
 * (ga_last_error_detail) and handed to the optional log callback with file and line. */
#ifndef GA_COMMON_ERROR_H
#define GA_COMMON_ERROR_H

#include "graphattn.h"

#if defined(__GNUC__)
#define GA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GA_PRINTF(a, b)
#endif

#ifdef __cplusplus
extern "C" {
#endif
/* Record `status` with a printf-style detail; returns `status` so it can be returned directly. */
ga_status ga_raise(ga_status status, const char *file, int line, const char *fmt, ...) GA_PRINTF(4, 5);
/* Clear this thread's detail (called at the start of every public entry point). */
void ga_clear_error(void);
#ifdef __cplusplus
}
#endif

/* Return `status` from the current function, with a detail message. */
#define GA_FAIL(status, ...) return ga_raise((status), __FILE__, __LINE__, __VA_ARGS__)
/* Return `status` with the detail message if `cond` holds. */
#define GA_FAIL_IF(cond, status, ...) do { if (cond) GA_FAIL((status), __VA_ARGS__); } while (0)
/* Forward a non-OK status (its detail was already recorded where it was raised). */
#define GA_TRY(expr) do { ga_status ga_try_s_ = (expr); if (ga_try_s_ != GA_OK) return ga_try_s_; } while (0)

/* Overflow-checked int64 arithmetic: return 1 on overflow. */
static inline int ga_mul_overflow(int64_t a, int64_t b, int64_t *r) { return __builtin_mul_overflow(a, b, r); }
static inline int ga_add_overflow(int64_t a, int64_t b, int64_t *r) { return __builtin_add_overflow(a, b, r); }
/* a + b for a, b >= 0, INT64_MAX where it overflows */
static inline int64_t ga_sat_add64(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}
/* a * b for a, b >= 0, INT64_MAX where it overflows */
static inline int64_t ga_sat_mul64(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

#endif
