/* cpu_tensor.h -- element access to strided host tensors for the CPU backends. */
#ifndef GA_CPU_TENSOR_H
#define GA_CPU_TENSOR_H

#include <stdint.h>

#include "common/half.h"
#include "graphattn.h"

#include "common/threads.h"

/* Element offset of (b, n, h, 0). */
static inline int64_t ga_cpu_offset(const ga_tensor *t, int64_t b, int64_t n, int64_t h) {
    return b * t->stride[0] + n * t->stride[1] + h * t->stride[2];
}

static inline float ga_cpu_load(const ga_tensor *t, int64_t off) {
    switch (t->dtype) {
    case GA_F16: return ga_f16_to_f32(((const uint16_t *)t->data)[off]);
    case GA_BF16: return ga_bf16_to_f32(((const uint16_t *)t->data)[off]);
    default: return ((const float *)t->data)[off];
    }
}

static inline void ga_cpu_store(const ga_tensor *t, int64_t off, float x) {
    switch (t->dtype) {
    case GA_F16: ((uint16_t *)t->data)[off] = ga_f32_to_f16(x); break;
    case GA_BF16: ((uint16_t *)t->data)[off] = ga_f32_to_bf16(x); break;
    default: ((float *)t->data)[off] = x; break;
    }
}

/* n contiguous elements starting at element offset `off`, converted to fp32. */
static inline void ga_cpu_load_row(const ga_tensor *t, int64_t off, int64_t n, float *dst) {
    switch (t->dtype) {
    case GA_F16: {
        const uint16_t *s = (const uint16_t *)t->data + off;
        for (int64_t d = 0; d < n; d++) dst[d] = ga_f16_to_f32(s[d]);
        break;
    }
    case GA_BF16: {
        const uint16_t *s = (const uint16_t *)t->data + off;
        for (int64_t d = 0; d < n; d++) dst[d] = ga_bf16_to_f32(s[d]);
        break;
    }
    default: {
        const float *s = (const float *)t->data + off;
        for (int64_t d = 0; d < n; d++) dst[d] = s[d];
        break;
    }
    }
}

static inline void ga_cpu_store_row(const ga_tensor *t, int64_t off, int64_t n, const float *src) {
    switch (t->dtype) {
    case GA_F16: {
        uint16_t *s = (uint16_t *)t->data + off;
        for (int64_t d = 0; d < n; d++) s[d] = ga_f32_to_f16(src[d]);
        break;
    }
    case GA_BF16: {
        uint16_t *s = (uint16_t *)t->data + off;
        for (int64_t d = 0; d < n; d++) s[d] = ga_f32_to_bf16(src[d]);
        break;
    }
    default: {
        float *s = (float *)t->data + off;
        for (int64_t d = 0; d < n; d++) s[d] = src[d];
        break;
    }
    }
}

#endif
