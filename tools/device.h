/* device.h -- the command's only contact with the CUDA runtime (tools/device.c). Built without
 * CUDA (no GA_HAVE_CUDA), every device call returns GA_ERR_BACKEND_UNAVAILABLE and
 * dev_cuda_compiled() is 0; host memory (cuda == 0) always works. */
#ifndef GA_TOOLS_DEVICE_H
#define GA_TOOLS_DEVICE_H

#include <stddef.h>

#include "graphattn.h"

int dev_cuda_compiled(void);
ga_status dev_alloc(int cuda, size_t bytes, void **ptr);
void dev_free(int cuda, void *ptr);
ga_status dev_upload(int cuda, void *dst, const void *src, size_t bytes);   /* host -> dst */
ga_status dev_download(int cuda, void *dst, const void *src, size_t bytes); /* src -> host */
ga_status dev_memset(int cuda, void *ptr, int byte, size_t bytes);
ga_status dev_sync(int cuda);
/* Free and total device memory in bytes (cudaMemGetInfo); GA_ERR_BACKEND_UNAVAILABLE without CUDA. */
ga_status dev_mem_info(size_t *free_bytes, size_t *total_bytes);

#endif
