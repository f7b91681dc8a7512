/* npy.h -- reading and writing NumPy .npy files (library-internal; the graphattn command and the
 * csr:/coo: graph specs use it).
 *
 * Reader. Accepts format versions 1.0, 2.0 and 3.0, C order only, little-endian numeric dtypes
 * (<f4 <f2 <f8 <i4 <i8 <u2 |u1), up to GA_NPY_MAX_DIMS dimensions. It rejects, with
 * GA_ERR_FILE_FORMAT and a detail naming the file and the problem: a wrong magic string, an
 * unknown version, a header longer than GA_NPY_MAX_HEADER bytes, a header that is not a plain
 * {'descr': ..., 'fortran_order': ..., 'shape': (...)} dictionary, fortran_order True, big-endian
 * or structured or unknown dtypes, negative shapes or shapes whose byte size overflows int64, and
 * files whose size is not exactly header + data: truncated data and trailing bytes are both
 * rejected (a file of the wrong size is taken to be corrupt). Files that cannot be opened or read
 * give GA_ERR_IO. The data size is checked against the file size before any allocation, so a
 * header that claims a huge shape costs nothing.
 *
 * Writer. Writes a version 1.0 header (padded so the data starts at a multiple of 64 bytes) and
 * the data, to a temporary file next to the target that is renamed into place only when
 * everything was written: a failed write leaves no file behind (and never a partial one).
 *
 * Output targets (the writer's, and any other file staged with ga_npy_stage_fd). For a `path`:
 *   - no file yet, or an existing regular file: the data goes to a temporary file TARGET.tmp.PID.K
 *     next to it (created with O_EXCL), renamed onto TARGET by ga_npy_commit;
 *   - a symbolic link: TARGET is where the link leads (followed like a shell's `>`; the file
 *     there need not exist yet), so the link itself is kept and the file it points to is written;
 *   - an existing file that is not a regular file (/dev/null, a FIFO, a terminal): written in
 *     place when staged, with no temporary file; it is never replaced or removed;
 *   - a directory, or a missing or unwritable directory for TARGET: GA_ERR_IO, nothing written. */
#ifndef GA_IO_NPY_H
#define GA_IO_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "graphattn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GA_NPY_MAX_DIMS 16
#define GA_NPY_MAX_HEADER 65536 /* bytes of header dictionary accepted by the reader */

typedef enum ga_npy_dtype {
    GA_NPY_F32 = 0, /* <f4 */
    GA_NPY_F16 = 1, /* <f2 */
    GA_NPY_F64 = 2, /* <f8 */
    GA_NPY_I32 = 3, /* <i4 */
    GA_NPY_I64 = 4, /* <i8 */
    GA_NPY_U16 = 5, /* <u2 (the command uses it for raw bfloat16 bits) */
    GA_NPY_U8 = 6,  /* |u1 */
    GA_NPY_DTYPE_COUNT_ = 7
} ga_npy_dtype;

typedef struct ga_npy_array {
    ga_npy_dtype dtype;
    int ndim;                        /* 0 for a scalar */
    int64_t shape[GA_NPY_MAX_DIMS];
    int64_t count;                   /* product of the shape (1 for a scalar) */
    void *data;                      /* count * itemsize bytes (never NULL after a load); free with ga_npy_free */
} ga_npy_array;

/* What the header of a .npy file says (ga_npy_parse_header). */
typedef struct ga_npy_header {
    int major, minor;
    ga_npy_dtype dtype;
    int ndim;
    int64_t shape[GA_NPY_MAX_DIMS];
    int64_t count;
    int64_t data_offset; /* bytes before the data */
    int64_t data_bytes;  /* count * itemsize */
} ga_npy_header;

/* Bytes per element; 0 for an unknown dtype. */
size_t ga_npy_dtype_size(ga_npy_dtype dtype);
/* The descr string ("<f4"), and a readable name ("float32"); "?" for an unknown dtype. */
const char *ga_npy_dtype_descr(ga_npy_dtype dtype);
const char *ga_npy_dtype_name(ga_npy_dtype dtype);

/* Parse the header at the start of `buf` (`size` bytes available; it need not hold the data).
 * `name` is used in error details (a file name, or e.g. "<memory>"). */
ga_status ga_npy_parse_header(const void *buf, size_t size, const char *name, ga_npy_header *header);

/* Parse a whole .npy image in memory (header + data, exactly); copies the data into *array. */
ga_status ga_npy_parse(const void *buf, size_t size, const char *name, ga_npy_array *array);

/* Load a .npy file into *array (zeroed on failure; nothing to free then). */
ga_status ga_npy_load(const char *path, ga_npy_array *array);

/* Free what a load allocated and zero the struct. NULL and zeroed structs are fine. */
void ga_npy_free(ga_npy_array *array);

/* Render a shape as "(3, 4)" / "(5,)" / "()" into buf. */
void ga_npy_shape_string(int ndim, const int64_t *shape, char *buf, size_t buf_size);

/* Write `data` (C order, count = product of shape elements of `dtype`) to `path`. */
ga_status ga_npy_save(const char *path, ga_npy_dtype dtype, int ndim, const int64_t *shape, const void *data);

/* Two-phase writing, for commands that write several files and want all or none:
 * ga_npy_save_staged writes the file under a temporary name (returned in *staged, malloc'd; NULL
 * for a target written in place, see above); ga_npy_commit renames it onto its target (and frees
 * *staged; `path` is for messages); ga_npy_discard removes it (and frees *staged). Both accept
 * *staged == NULL as a no-op. */
ga_status ga_npy_save_staged(const char *path, ga_npy_dtype dtype, int ndim, const int64_t *shape, const void *data,
                             char **staged);
ga_status ga_npy_commit(char **staged, const char *path);
void ga_npy_discard(char **staged);
/* Renames n staged files onto their targets (paths[i] for messages; a NULL *staged[i], a target
 * written in place, is skipped), all or none: until the last rename, each existing target that
 * another rename could still fail after keeps its old file under TARGET.old.PID.K, a hard link,
 * or where the file system has none, the old file moved there (the target is then missing until
 * its own rename); when neither can be made, nothing is renamed. When a rename fails, every
 * target gets its old file back (or loses the new one where it had none), and every staged file
 * is discarded; an old file that cannot be put back stays under its backup name, which the error
 * detail gives. Every *staged[i] is NULL on return. */
ga_status ga_npy_commit_all(char **const staged[], const char *const paths[], int n);
/* Tests: nonzero makes ga_npy_commit_all take link() as failing (a file system without hard
 * links), so that its moved-away backups are exercised. */
extern int ga_npy_testing_no_links;

/* The file the data for `path` goes to, as described above, checked but not written: *target
 * (ga_malloc'd) is `path`, or where its symbolic links lead (the file there need not exist yet);
 * *in_place is 1 for an existing file that is not a regular file. GA_ERR_IO when it cannot be
 * written. Commands call it on every output before doing the work. */
ga_status ga_npy_output_target(const char *path, char **target, int *in_place);
/* The directory part of `path` ("." when it has none, "/" for a file in the root); ga_malloc'd
 * (free with ga_free), NULL when out of memory. */
char *ga_npy_parent(const char *path);
/* Open `path`'s staged output for writing any content: *fd is the temporary file (name in
 * *staged, for ga_npy_commit / ga_npy_discard) or, for a target written in place, the target
 * itself (*staged = NULL). The caller closes *fd before the commit. */
ga_status ga_npy_stage_fd(const char *path, int *fd, char **staged);

#ifdef __cplusplus
}
#endif
#endif
