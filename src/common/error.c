#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char ga_detail[1024];
static ga_log_fn ga_log_callback;
static void *ga_log_user;

static const char *const ga_status_names[GA_STATUS_COUNT_] = {
    [GA_OK] = "GA_OK: success",
    [GA_ERR_NULL_POINTER] = "GA_ERR_NULL_POINTER: a required pointer is NULL",
    [GA_ERR_BAD_SIZE] = "GA_ERR_BAD_SIZE: a size is negative, zero where not allowed, or too large",
    [GA_ERR_BAD_DTYPE] = "GA_ERR_BAD_DTYPE: unknown dtype or dtypes disagree",
    [GA_ERR_SHAPE_MISMATCH] = "GA_ERR_SHAPE_MISMATCH: tensor shapes are inconsistent",
    [GA_ERR_BAD_STRIDE] = "GA_ERR_BAD_STRIDE: a stride is negative or the last-dim stride is not 1",
    [GA_ERR_UNSUPPORTED_HEAD_DIM] = "GA_ERR_UNSUPPORTED_HEAD_DIM: head dimension not supported by this backend",
    [GA_ERR_OVERFLOW] = "GA_ERR_OVERFLOW: a size or offset product overflows int64",
    [GA_ERR_BAD_PARAMETER] = "GA_ERR_BAD_PARAMETER: a graph or option parameter is invalid",
    [GA_ERR_ROW_PTR_START] = "GA_ERR_ROW_PTR_START: csr row_ptr[0] is not 0",
    [GA_ERR_ROW_PTR_END] = "GA_ERR_ROW_PTR_END: csr row_ptr[nrows] is not the number of edges",
    [GA_ERR_ROW_PTR_NOT_MONOTONE] = "GA_ERR_ROW_PTR_NOT_MONOTONE: csr row_ptr decreases",
    [GA_ERR_INDEX_OUT_OF_RANGE] = "GA_ERR_INDEX_OUT_OF_RANGE: an index is out of range",
    [GA_ERR_INDEX_UNSORTED] = "GA_ERR_INDEX_UNSORTED: csr column indices of a row are not increasing",
    [GA_ERR_INDEX_DUPLICATE] = "GA_ERR_INDEX_DUPLICATE: an edge appears twice",
    [GA_ERR_GRAPH_MISMATCH] = "GA_ERR_GRAPH_MISMATCH: an explicit graph's size differs from the tensors'",
    [GA_ERR_ALIASING] = "GA_ERR_ALIASING: an output overlaps an input",
    [GA_ERR_OUT_OF_MEMORY] = "GA_ERR_OUT_OF_MEMORY: allocation failed",
    [GA_ERR_WORKSPACE_TOO_SMALL] = "GA_ERR_WORKSPACE_TOO_SMALL: workspace smaller than required",
    [GA_ERR_DEVICE_MISMATCH] = "GA_ERR_DEVICE_MISMATCH: tensors are on different devices",
    [GA_ERR_BACKEND_UNAVAILABLE] = "GA_ERR_BACKEND_UNAVAILABLE: backend not compiled in or no device",
    [GA_ERR_CUDA] = "GA_ERR_CUDA: the CUDA runtime reported an error",
    [GA_ERR_SPEC_SYNTAX] = "GA_ERR_SPEC_SYNTAX: the graph spec does not parse",
    [GA_ERR_IO] = "GA_ERR_IO: a file could not be opened, read or written",
    [GA_ERR_FILE_FORMAT] = "GA_ERR_FILE_FORMAT: a file is malformed or has the wrong dtype or shape",
    [GA_ERR_EMPTY_GRAPH] = "GA_ERR_EMPTY_GRAPH: the graph has no components",
    [GA_ERR_INTERNAL] = "GA_ERR_INTERNAL: internal error in graphattn (please report)",
};

const char *ga_status_string(ga_status status) {
    if ((int)status < 0 || (int)status >= GA_STATUS_COUNT_) return "GA_ERR_UNKNOWN: unknown status code";
    return ga_status_names[status];
}

const char *ga_last_error_detail(void) { return ga_detail; }

void ga_set_log_callback(ga_log_fn fn, void *user) {
    ga_log_callback = fn;
    ga_log_user = user;
}

void ga_clear_error(void) { ga_detail[0] = '\0'; }

ga_status ga_raise(ga_status status, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ga_detail, sizeof ga_detail, fmt, ap);
    va_end(ap);
    if (ga_log_callback) ga_log_callback(ga_log_user, status, file, line, ga_detail);
    return status;
}
