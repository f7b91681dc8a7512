/* alloc.c -- see alloc.h. The armed state is one atomic counter: -1 means disarmed; k >= 0
 * means that k more allocations succeed before one fails. A CAS loop takes one step per
 * allocation, so concurrent threads fail exactly one allocation between them. */
#include "common/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>

static atomic_llong ga_alloc_countdown = -1;
static atomic_int ga_alloc_sticky;
static atomic_llong ga_alloc_attempts;
static atomic_llong ga_alloc_injected;

int ga_alloc_should_fail(void) {
    atomic_fetch_add_explicit(&ga_alloc_attempts, 1, memory_order_relaxed);
    long long c = atomic_load_explicit(&ga_alloc_countdown, memory_order_relaxed);
    while (c >= 0) {
        if (c == 0 && atomic_load_explicit(&ga_alloc_sticky, memory_order_relaxed)) break;
        if (atomic_compare_exchange_weak_explicit(&ga_alloc_countdown, &c, c - 1, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            if (c == 0) break;
            return 0;
        }
    }
    if (c < 0) return 0;
    atomic_fetch_add_explicit(&ga_alloc_injected, 1, memory_order_relaxed);
    return 1;
}

void *ga_malloc(size_t bytes) { return ga_alloc_should_fail() ? NULL : malloc(bytes); }

void *ga_calloc(size_t count, size_t size) { return ga_alloc_should_fail() ? NULL : calloc(count, size); }

void *ga_realloc(void *ptr, size_t bytes) { return ga_alloc_should_fail() ? NULL : realloc(ptr, bytes); }

void ga_free(void *ptr) { free(ptr); }

void ga_alloc_fail_after(int64_t k) {
    atomic_store(&ga_alloc_sticky, 0);
    atomic_store(&ga_alloc_countdown, k < 0 ? -1 : (long long)k);
}

void ga_alloc_fail_from(int64_t k) {
    atomic_store(&ga_alloc_sticky, k >= 0);
    atomic_store(&ga_alloc_countdown, k < 0 ? -1 : (long long)k);
}

int64_t ga_alloc_count(void) { return (int64_t)atomic_load(&ga_alloc_attempts); }

int64_t ga_alloc_failures_injected(void) { return (int64_t)atomic_load(&ga_alloc_injected); }
