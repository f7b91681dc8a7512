/* libFuzzer harness: the .npy reader. Any bytes must parse or fail with a status; a parsed
 * array must be consistent with its header and fit in the input. */
#include <stdlib.h>

#include "io/npy.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    ga_npy_array a;
    if (ga_npy_parse(data, size, "<fuzz>", &a) == GA_OK) {
        int64_t count = 1;
        for (int d = 0; d < a.ndim; d++) count *= a.shape[d];
        if (count != a.count || !a.data) abort();
        if ((size_t)a.count * ga_npy_dtype_size(a.dtype) > size) abort();
        ga_npy_free(&a);
    }
    return 0;
}
