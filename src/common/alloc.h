/* alloc.h -- every host allocation of the library goes through these wrappers, so that a test
 * can make the k-th allocation fail and check that each call then returns GA_ERR_OUT_OF_MEMORY,
 * leaks nothing, leaves its inputs bit-identical and its outputs untouched (tests/test_faults.c).
 *
 * The wrappers are malloc/calloc/realloc/free underneath: memory from one may be released with
 * the other. While no failure is armed they cost one relaxed atomic add and one relaxed load.
 * The hook is internal (not in graphattn.h) and meant for tests only. It is thread-safe: any
 * number of threads may allocate while a failure is armed, and exactly one allocation (or,
 * with ga_alloc_fail_from, every allocation from that one on) fails.
 *
 * Usable from C and from the CUDA sources (C++): host buffers there should use these too. */
#ifndef GA_COMMON_ALLOC_H
#define GA_COMMON_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void *ga_malloc(size_t bytes);
void *ga_calloc(size_t count, size_t size);
/* Like realloc: on failure returns NULL and leaves `ptr` allocated and unchanged. */
void *ga_realloc(void *ptr, size_t bytes);
void ga_free(void *ptr);

/* ---- fault injection (tests only) ---------------------------------------------------------- */
/* Make the k-th allocation from now fail (k = 0: the next one); later ones succeed again.
 * k = -1 disarms. Every wrapper above counts as one allocation (ga_free does not). */
void ga_alloc_fail_after(int64_t k);
/* Like ga_alloc_fail_after, but every allocation from the k-th on fails until disarmed with
 * ga_alloc_fail_after(-1) (memory that stays exhausted). */
void ga_alloc_fail_from(int64_t k);
/* Allocations attempted since the process started (successful or not). */
int64_t ga_alloc_count(void);
/* Allocations made to fail by the two calls above since the process started. */
int64_t ga_alloc_failures_injected(void);
/* For device allocations (CUDA backend): counts one allocation attempt against the same hook
 * and returns 1 if it must fail (then the caller reports GA_ERR_OUT_OF_MEMORY without asking
 * the runtime), 0 otherwise. */
int ga_alloc_should_fail(void);

#ifdef __cplusplus
}
#endif
#endif
