/* threads.c -- the fork guard of threads.h. */
#include "common/threads.h"

#if defined(_OPENMP) && defined(__unix__) && defined(__GNUC__)
#include <pthread.h>

static volatile int ga_forked; /* set in the child only, before it runs anything else */

static void ga_on_fork_child(void) { ga_forked = 1; }

/* Registered when the library is loaded, so that a fork before the first call is seen too. */
__attribute__((constructor)) static void ga_register_fork_guard(void) { (void)pthread_atfork(0, 0, ga_on_fork_child); }

int ga_in_forked_child(void) { return ga_forked; }
#else
int ga_in_forked_child(void) { return 0; }
#endif
