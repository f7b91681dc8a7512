/* threads.h -- how many OpenMP threads a library call may use.
 *
 * GCC's OpenMP runtime (libgomp) does not survive fork(): in a child of a process whose forking
 * thread had run a parallel region (graphattn's, or any other user of the same libgomp, PyTorch's
 * CPU ops among them), the next parallel region with more than one thread waits forever on pool
 * threads that the child does not have. So after a fork every call of the library in the child
 * runs on one thread (as PyTorch does in its fork handler): slower, never stuck. The results do not
 * depend on the thread count. */
#ifndef GA_THREADS_H
#define GA_THREADS_H

#ifdef _OPENMP
#include <omp.h>
#else
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
#endif

/* 1 in a process made by fork() from one that had loaded the library, else 0. */
int ga_in_forked_child(void);

/* Threads a call runs on: the option (> 0), or OpenMP's default; 1 after a fork. */
static inline int ga_cpu_threads(int requested) {
    if (ga_in_forked_child()) return 1;
    return requested > 0 ? requested : omp_get_max_threads();
}

#endif
