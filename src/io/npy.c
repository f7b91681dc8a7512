/* npy.c -- the .npy reader and writer (format described in npy.h). */
#define _POSIX_C_SOURCE 200809L

#include "io/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "graph/graph.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif

static const unsigned char ga_npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static const struct {
    const char *descr, *name;
    size_t size;
} ga_npy_types[GA_NPY_DTYPE_COUNT_] = {
    [GA_NPY_F32] = {"<f4", "float32", 4}, [GA_NPY_F16] = {"<f2", "float16", 2},
    [GA_NPY_F64] = {"<f8", "float64", 8}, [GA_NPY_I32] = {"<i4", "int32", 4},
    [GA_NPY_I64] = {"<i8", "int64", 8},   [GA_NPY_U16] = {"<u2", "uint16", 2},
    [GA_NPY_U8] = {"|u1", "uint8", 1},
};

size_t ga_npy_dtype_size(ga_npy_dtype dtype) {
    return (unsigned)dtype < GA_NPY_DTYPE_COUNT_ ? ga_npy_types[dtype].size : 0;
}
const char *ga_npy_dtype_descr(ga_npy_dtype dtype) {
    return (unsigned)dtype < GA_NPY_DTYPE_COUNT_ ? ga_npy_types[dtype].descr : "?";
}
const char *ga_npy_dtype_name(ga_npy_dtype dtype) {
    return (unsigned)dtype < GA_NPY_DTYPE_COUNT_ ? ga_npy_types[dtype].name : "?";
}

void ga_npy_shape_string(int ndim, const int64_t *shape, char *buf, size_t buf_size) {
    size_t used = 0;
    if (!buf || buf_size == 0) return;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, buf_size, "(");
    for (int d = 0; d < ndim && used < buf_size; d++)
        used += (size_t)snprintf(buf + used, buf_size - used, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (used < buf_size) snprintf(buf + used, buf_size - used, ndim == 1 ? ",)" : ")");
}

/* ---- header dictionary parser --------------------------------------------------------------
 * The header is a Python dict literal as NumPy writes it. We accept exactly the three keys,
 * each once, in any order, with single- or double-quoted strings, True/False, and a tuple of
 * non-negative decimal integers; whitespace anywhere between tokens; a trailing comma. */
typedef struct ga_npy_cursor {
    const char *p, *begin, *end;
    const char *name;
} ga_npy_cursor;

static void ga_npy_skip_space(ga_npy_cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}
static long ga_npy_offset(const ga_npy_cursor *c) { return (long)(c->p - c->begin); }

static ga_status ga_npy_expect(ga_npy_cursor *c, char ch) {
    ga_npy_skip_space(c);
    GA_FAIL_IF(c->p >= c->end, GA_ERR_FILE_FORMAT, "'%s': npy header ends early (expected '%c')", c->name, ch);
    GA_FAIL_IF(*c->p != ch, GA_ERR_FILE_FORMAT, "'%s': npy header: expected '%c' at offset %ld of the dictionary",
               c->name, ch, ga_npy_offset(c));
    c->p++;
    return GA_OK;
}

static ga_status ga_npy_string(ga_npy_cursor *c, char *out, size_t cap) {
    ga_npy_skip_space(c);
    GA_FAIL_IF(c->p >= c->end, GA_ERR_FILE_FORMAT, "'%s': npy header ends early (expected a string)", c->name);
    char q = *c->p;
    GA_FAIL_IF(q != '\'' && q != '"', GA_ERR_FILE_FORMAT,
               "'%s': npy header: expected a quoted string at offset %ld of the dictionary", c->name,
               ga_npy_offset(c));
    c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        char ch = *c->p;
        GA_FAIL_IF(ch == '\\' || (unsigned char)ch < 0x20 || (unsigned char)ch >= 0x7f, GA_ERR_FILE_FORMAT,
                   "'%s': npy header: unsupported character in a string at offset %ld", c->name, ga_npy_offset(c));
        GA_FAIL_IF(n + 1 >= cap, GA_ERR_FILE_FORMAT, "'%s': npy header: string at offset %ld is too long", c->name,
                   ga_npy_offset(c));
        out[n++] = ch;
        c->p++;
    }
    GA_FAIL_IF(c->p >= c->end, GA_ERR_FILE_FORMAT, "'%s': npy header: unterminated string", c->name);
    c->p++;
    out[n] = '\0';
    return GA_OK;
}

static ga_status ga_npy_descr(ga_npy_cursor *c, ga_npy_dtype *dtype) {
    char s[32];
    ga_npy_skip_space(c);
    GA_FAIL_IF(c->p < c->end && (*c->p == '[' || *c->p == '{'), GA_ERR_FILE_FORMAT,
               "'%s': structured dtypes are not supported (need a plain numeric array)", c->name);
    GA_TRY(ga_npy_string(c, s, sizeof s));
    for (int t = 0; t < GA_NPY_DTYPE_COUNT_; t++) {
        if (strcmp(s, ga_npy_types[t].descr) == 0) { *dtype = (ga_npy_dtype)t; return GA_OK; }
    }
    /* single-byte types may carry any byte-order mark */
    if (strcmp(s, "<u1") == 0 || strcmp(s, ">u1") == 0 || strcmp(s, "=u1") == 0) { *dtype = GA_NPY_U8; return GA_OK; }
    GA_FAIL_IF(s[0] == '>', GA_ERR_FILE_FORMAT,
               "'%s': big-endian dtype '%s' is not supported (convert with arr.astype('<%s'))", c->name, s, s + 1);
    GA_FAIL(GA_ERR_FILE_FORMAT, "'%s': unsupported dtype '%s' (supported: <f4 <f2 <f8 <i4 <i8 <u2 |u1)", c->name, s);
}

static ga_status ga_npy_bool(ga_npy_cursor *c, int *value) {
    ga_npy_skip_space(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && memcmp(c->p, "True", 4) == 0) { c->p += 4; *value = 1; return GA_OK; }
    if (left >= 5 && memcmp(c->p, "False", 5) == 0) { c->p += 5; *value = 0; return GA_OK; }
    GA_FAIL(GA_ERR_FILE_FORMAT, "'%s': npy header: fortran_order must be True or False (offset %ld)", c->name,
            ga_npy_offset(c));
}

static ga_status ga_npy_shape(ga_npy_cursor *c, int *ndim, int64_t *shape) {
    GA_TRY(ga_npy_expect(c, '('));
    *ndim = 0;
    for (;;) {
        ga_npy_skip_space(c);
        GA_FAIL_IF(c->p >= c->end, GA_ERR_FILE_FORMAT, "'%s': npy header: unterminated shape", c->name);
        if (*c->p == ')') { c->p++; return GA_OK; }
        GA_FAIL_IF(*c->p == '-', GA_ERR_FILE_FORMAT, "'%s': npy header: negative dimension in the shape", c->name);
        GA_FAIL_IF(*c->p < '0' || *c->p > '9', GA_ERR_FILE_FORMAT,
                   "'%s': npy header: expected a dimension at offset %ld of the dictionary", c->name,
                   ga_npy_offset(c));
        GA_FAIL_IF(*ndim >= GA_NPY_MAX_DIMS, GA_ERR_FILE_FORMAT, "'%s': more than %d dimensions are not supported",
                   c->name, GA_NPY_MAX_DIMS);
        int64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            GA_FAIL_IF(ga_mul_overflow(v, 10, &v) || ga_add_overflow(v, *c->p - '0', &v), GA_ERR_FILE_FORMAT,
                       "'%s': npy header: dimension %d does not fit in int64", c->name, *ndim);
            c->p++;
        }
        if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 long literal */
        shape[(*ndim)++] = v;
        ga_npy_skip_space(c);
        GA_FAIL_IF(c->p >= c->end, GA_ERR_FILE_FORMAT, "'%s': npy header: unterminated shape", c->name);
        if (*c->p == ',') c->p++;
        else GA_FAIL_IF(*c->p != ')', GA_ERR_FILE_FORMAT,
                        "'%s': npy header: expected ',' or ')' in the shape at offset %ld", c->name, ga_npy_offset(c));
    }
}

ga_status ga_npy_parse_header(const void *buf, size_t size, const char *name, ga_npy_header *h) {
    const unsigned char *b = (const unsigned char *)buf;
    GA_FAIL_IF(!buf && size, GA_ERR_NULL_POINTER, "ga_npy_parse_header: buf is NULL");
    GA_FAIL_IF(!h, GA_ERR_NULL_POINTER, "ga_npy_parse_header: header is NULL");
    if (!name) name = "<memory>";
    memset(h, 0, sizeof *h);
    /* a file cut inside the magic string or the version is a truncated .npy, not another format */
    GA_FAIL_IF(size == 0, GA_ERR_FILE_FORMAT, "'%s' is empty (0 bytes), not a .npy file", name);
    GA_FAIL_IF(memcmp(b, ga_npy_magic, size < 6 ? size : 6) != 0, GA_ERR_FILE_FORMAT,
               "'%s' is not a .npy file (the magic string \\x93NUMPY is missing)", name);
    GA_FAIL_IF(size < 8, GA_ERR_FILE_FORMAT, "'%s': truncated .npy header (file has %zu bytes)", name, size);
    h->major = b[6];
    h->minor = b[7];
    GA_FAIL_IF(h->major < 1 || h->major > 3 || h->minor != 0, GA_ERR_FILE_FORMAT,
               "'%s': unsupported .npy format version %d.%d (supported: 1.0, 2.0, 3.0)", name, h->major, h->minor);
    size_t prefix = h->major == 1 ? 10 : 12;
    GA_FAIL_IF(size < prefix, GA_ERR_FILE_FORMAT, "'%s': truncated .npy header (file has %zu bytes)", name, size);
    uint64_t hlen = h->major == 1 ? (uint64_t)b[8] | (uint64_t)b[9] << 8
                                  : (uint64_t)b[8] | (uint64_t)b[9] << 8 | (uint64_t)b[10] << 16 | (uint64_t)b[11] << 24;
    GA_FAIL_IF(hlen > GA_NPY_MAX_HEADER, GA_ERR_FILE_FORMAT,
               "'%s': .npy header of %llu bytes exceeds the limit of %d bytes", name, (unsigned long long)hlen,
               GA_NPY_MAX_HEADER);
    GA_FAIL_IF(size - prefix < hlen, GA_ERR_FILE_FORMAT,
               "'%s': truncated .npy header (needs %llu bytes, file has %zu)", name,
               (unsigned long long)(prefix + hlen), size);
    h->data_offset = (int64_t)(prefix + hlen);

    ga_npy_cursor c = {(const char *)b + prefix, (const char *)b + prefix, (const char *)b + prefix + hlen, name};
    int have_descr = 0, have_fortran = 0, have_shape = 0, fortran = 0;
    GA_TRY(ga_npy_expect(&c, '{'));
    for (;;) {
        ga_npy_skip_space(&c);
        GA_FAIL_IF(c.p >= c.end, GA_ERR_FILE_FORMAT, "'%s': npy header: unterminated dictionary", name);
        if (*c.p == '}') { c.p++; break; }
        char key[32];
        GA_TRY(ga_npy_string(&c, key, sizeof key));
        GA_TRY(ga_npy_expect(&c, ':'));
        if (strcmp(key, "descr") == 0) {
            GA_FAIL_IF(have_descr++, GA_ERR_FILE_FORMAT, "'%s': npy header: 'descr' appears twice", name);
            GA_TRY(ga_npy_descr(&c, &h->dtype));
        } else if (strcmp(key, "fortran_order") == 0) {
            GA_FAIL_IF(have_fortran++, GA_ERR_FILE_FORMAT, "'%s': npy header: 'fortran_order' appears twice", name);
            GA_TRY(ga_npy_bool(&c, &fortran));
        } else if (strcmp(key, "shape") == 0) {
            GA_FAIL_IF(have_shape++, GA_ERR_FILE_FORMAT, "'%s': npy header: 'shape' appears twice", name);
            GA_TRY(ga_npy_shape(&c, &h->ndim, h->shape));
        } else {
            GA_FAIL(GA_ERR_FILE_FORMAT, "'%s': npy header: unexpected key '%s'", name, key);
        }
        ga_npy_skip_space(&c);
        GA_FAIL_IF(c.p >= c.end, GA_ERR_FILE_FORMAT, "'%s': npy header: unterminated dictionary", name);
        if (*c.p == ',') c.p++;
        else GA_FAIL_IF(*c.p != '}', GA_ERR_FILE_FORMAT,
                        "'%s': npy header: expected ',' or '}' at offset %ld of the dictionary", name,
                        ga_npy_offset(&c));
    }
    ga_npy_skip_space(&c);
    GA_FAIL_IF(c.p != c.end, GA_ERR_FILE_FORMAT, "'%s': npy header: unexpected text after the dictionary", name);
    GA_FAIL_IF(!have_descr || !have_fortran || !have_shape, GA_ERR_FILE_FORMAT,
               "'%s': npy header lacks '%s'", name, !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
    GA_FAIL_IF(fortran, GA_ERR_FILE_FORMAT,
               "'%s': fortran_order is True; only C-order arrays are supported (save np.ascontiguousarray(a))",
               name);

    int64_t count = 1, bytes;
    for (int d = 0; d < h->ndim; d++)
        GA_FAIL_IF(ga_mul_overflow(count, h->shape[d], &count), GA_ERR_FILE_FORMAT,
                   "'%s': the shape's element count overflows int64", name);
    GA_FAIL_IF(ga_mul_overflow(count, (int64_t)ga_npy_dtype_size(h->dtype), &bytes) ||
                   ga_add_overflow(bytes, h->data_offset, &(int64_t){0}),
               GA_ERR_FILE_FORMAT, "'%s': the array's byte size overflows int64", name);
    h->count = count;
    h->data_bytes = bytes;
    return GA_OK;
}

static ga_status ga_npy_size_matches(const ga_npy_header *h, uint64_t file_size, const char *name) {
    uint64_t want = (uint64_t)h->data_offset + (uint64_t)h->data_bytes;
    char shape[256];
    ga_npy_shape_string(h->ndim, h->shape, shape, sizeof shape);
    GA_FAIL_IF(file_size < want, GA_ERR_FILE_FORMAT,
               "'%s': truncated data: a %s array of shape %s needs %llu bytes after the header, the file has %llu",
               name, ga_npy_dtype_name(h->dtype), shape, (unsigned long long)h->data_bytes,
               (unsigned long long)(file_size - (uint64_t)h->data_offset));
    GA_FAIL_IF(file_size > want, GA_ERR_FILE_FORMAT,
               "'%s': %llu unexpected byte%s after the data of a %s array of shape %s", name,
               (unsigned long long)(file_size - want), file_size - want == 1 ? "" : "s", ga_npy_dtype_name(h->dtype),
               shape);
    return GA_OK;
}

static void ga_npy_fill(ga_npy_array *a, const ga_npy_header *h, void *data) {
    a->dtype = h->dtype;
    a->ndim = h->ndim;
    memcpy(a->shape, h->shape, sizeof a->shape);
    a->count = h->count;
    a->data = data;
}

ga_status ga_npy_parse(const void *buf, size_t size, const char *name, ga_npy_array *array) {
    ga_npy_header h;
    GA_FAIL_IF(!array, GA_ERR_NULL_POINTER, "ga_npy_parse: array is NULL");
    memset(array, 0, sizeof *array);
    if (!name) name = "<memory>";
    GA_TRY(ga_npy_parse_header(buf, size, name, &h));
    GA_TRY(ga_npy_size_matches(&h, size, name));
    void *data = ga_malloc(h.data_bytes ? (size_t)h.data_bytes : 1);
    GA_FAIL_IF(!data, GA_ERR_OUT_OF_MEMORY, "'%s': cannot allocate %lld bytes", name, (long long)h.data_bytes);
    if (h.data_bytes) memcpy(data, (const unsigned char *)buf + h.data_offset, (size_t)h.data_bytes);
    ga_npy_fill(array, &h, data);
    return GA_OK;
}

static int ga_npy_read_all(FILE *f, void *dst, size_t bytes) {
    unsigned char *p = (unsigned char *)dst;
    while (bytes) {
        size_t chunk = bytes < ((size_t)1 << 30) ? bytes : ((size_t)1 << 30);
        size_t got = fread(p, 1, chunk, f);
        if (got != chunk) return -1;
        p += got;
        bytes -= got;
    }
    return 0;
}

ga_status ga_npy_load(const char *path, ga_npy_array *array) {
    GA_FAIL_IF(!array, GA_ERR_NULL_POINTER, "ga_npy_load: array is NULL");
    memset(array, 0, sizeof *array);
    GA_FAIL_IF(!path, GA_ERR_NULL_POINTER, "ga_npy_load: path is NULL");
    FILE *f = fopen(path, "rb");
    GA_FAIL_IF(!f, GA_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int err = errno;
        fclose(f);
        GA_FAIL(GA_ERR_IO, "cannot read '%s': %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        GA_FAIL(GA_ERR_IO, "cannot read '%s': not a regular file", path);
    }
    uint64_t file_size = (uint64_t)st.st_size;
    size_t head_cap = 12 + GA_NPY_MAX_HEADER;
    size_t head_size = file_size < head_cap ? (size_t)file_size : head_cap;
    unsigned char *head = (unsigned char *)ga_malloc(head_size ? head_size : 1);
    if (!head) { fclose(f); GA_FAIL(GA_ERR_OUT_OF_MEMORY, "cannot allocate a header buffer for '%s'", path); }
    if (ga_npy_read_all(f, head, head_size) != 0) {
        int read_error = ferror(f), err = errno;
        ga_free(head);
        fclose(f);
        GA_FAIL(GA_ERR_IO, "cannot read '%s': %s", path, read_error ? strerror(err) : "file shrank while reading");
    }
    ga_npy_header h;
    ga_status s = ga_npy_parse_header(head, head_size, path, &h);
    if (s == GA_OK) s = ga_npy_size_matches(&h, file_size, path);
    if (s != GA_OK) { ga_free(head); fclose(f); return s; }
    void *data = ga_malloc(h.data_bytes ? (size_t)h.data_bytes : 1);
    if (!data) {
        ga_free(head);
        fclose(f);
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "'%s': cannot allocate %lld bytes for the data", path, (long long)h.data_bytes);
    }
    /* The data may already be (partly) in the header buffer; read the rest from the file. */
    size_t have = head_size > (size_t)h.data_offset ? head_size - (size_t)h.data_offset : 0;
    if (have > (size_t)h.data_bytes) have = (size_t)h.data_bytes; /* cannot happen: size matched */
    memcpy(data, head + h.data_offset, have);
    ga_free(head);
    int failed = ga_npy_read_all(f, (unsigned char *)data + have, (size_t)h.data_bytes - have);
    int read_error = failed && ferror(f);
    int err = errno;
    fclose(f);
    if (failed) {
        ga_free(data);
        GA_FAIL(GA_ERR_IO, "cannot read the data of '%s': %s", path,
                read_error ? strerror(err) : "file shrank while reading");
    }
    ga_npy_fill(array, &h, data);
    return GA_OK;
}

void ga_npy_free(ga_npy_array *array) {
    if (!array) return;
    ga_free(array->data);
    memset(array, 0, sizeof *array);
}

/* ---- writer ------------------------------------------------------------------------------- */

static ga_status ga_npy_write_fd(int fd, const void *data, size_t bytes, const char *path) {
    const unsigned char *p = (const unsigned char *)data;
    while (bytes) {
        size_t chunk = bytes < ((size_t)1 << 30) ? bytes : ((size_t)1 << 30);
        ssize_t n = write(fd, p, chunk);
        if (n < 0 && errno == EINTR) continue;
        GA_FAIL_IF(n <= 0, GA_ERR_IO, "cannot write '%s': %s", path, n < 0 ? strerror(errno) : "no progress");
        p += n;
        bytes -= (size_t)n;
    }
    return GA_OK;
}

char *ga_npy_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *dir = !slash ? "." : slash == path ? "/" : path;
    size_t n = !slash || slash == path ? 1 : (size_t)(slash - path);
    char *d = (char *)ga_malloc(n + 1);
    if (d) {
        memcpy(d, dir, n);
        d[n] = '\0';
    }
    return d;
}

/* Follow the symbolic links from `path` to where they end, which need not exist yet (as a shell's
 * `>` does): *out (ga_malloc'd) is path itself when it is not a link. A relative link is taken
 * from the directory of the link. */
static ga_status ga_npy_follow_links(const char *path, char **out) {
    size_t n = strlen(path) + 1;
    char *cur = (char *)ga_malloc(n);
    GA_FAIL_IF(!cur, GA_ERR_OUT_OF_MEMORY, "ga_npy_save: out of memory");
    memcpy(cur, path, n);
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) break;
        /* st_size is the link's length, but not for every file system's links (/proc's read 64):
         * grow the buffer until readlink leaves room */
        size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 256, have = 0;
        char *link = NULL, *dir = NULL, *next = NULL;
        ssize_t len = -1;
        while (hops < 40) {
            ga_free(link);
            if (!(link = (char *)ga_malloc(cap))) break;
            have = cap;
            len = readlink(cur, link, cap);
            if (len < 0 || (size_t)len < cap || cap >= ((size_t)1 << 20)) break; /* whole (room for '\0') */
            cap *= 2;
        }
        int err = hops >= 40 ? ELOOP : !link ? ENOMEM : len < 0 ? errno : (size_t)len >= have ? ENAMETOOLONG : 0;
        if (!err) {
            link[len] = '\0';
            if (link[0] != '/' && strchr(cur, '/') && !(dir = ga_npy_parent(cur))) err = ENOMEM;
        }
        if (!err) {
            size_t m = (dir ? strlen(dir) + 1 : 0) + (size_t)len + 1;
            if (!(next = (char *)ga_malloc(m))) err = ENOMEM;
            else if (dir) snprintf(next, m, "%s/%s", dir, link);
            else memcpy(next, link, m);
        }
        ga_free(dir);
        ga_free(link);
        if (err) {
            ga_free(cur);
            GA_FAIL(err == ENOMEM ? GA_ERR_OUT_OF_MEMORY : GA_ERR_IO, "cannot write '%s': %s", path, strerror(err));
        }
        ga_free(cur);
        cur = next;
    }
    *out = cur;
    return GA_OK;
}

/* The descriptor that /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N names, else -1.
 * These are written through a duplicate of that descriptor, never by their links: those lead to
 * names such as "pipe:[123]", or to a file that the shell opened for appending, which a rename
 * would replace. */
static int ga_npy_std_fd(const char *path) {
    if (!strcmp(path, "/dev/stdout")) return 1;
    if (!strcmp(path, "/dev/stderr")) return 2;
    const char *n = !strncmp(path, "/dev/fd/", 8) ? path + 8 : !strncmp(path, "/proc/self/fd/", 14) ? path + 14 : NULL;
    if (!n || !*n) return -1;
    long v = 0;
    for (; *n; n++) {
        if (*n < '0' || *n > '9' || v > 1000000) return -1;
        v = v * 10 + (*n - '0');
    }
    return (int)v;
}

ga_status ga_npy_output_target(const char *path, char **target, int *in_place) {
    GA_FAIL_IF(!target || !in_place, GA_ERR_NULL_POINTER, "ga_npy_output_target: target or in_place is NULL");
    *target = NULL;
    *in_place = 0;
    GA_FAIL_IF(!path || !*path, GA_ERR_NULL_POINTER, "ga_npy_save: no file name");
    const int sfd = ga_npy_std_fd(path);
    if (sfd >= 0) {
        const int fl = fcntl(sfd, F_GETFL);
        GA_FAIL_IF(fl < 0 || (fl & O_ACCMODE) == O_RDONLY, GA_ERR_IO, "cannot write '%s': %s", path,
                   fl < 0 ? strerror(errno) : "the descriptor is open for reading only");
        size_t n = strlen(path) + 1;
        *target = (char *)ga_malloc(n);
        GA_FAIL_IF(!*target, GA_ERR_OUT_OF_MEMORY, "ga_npy_save: out of memory");
        memcpy(*target, path, n);
        *in_place = 1;
        return GA_OK;
    }
    char *where = NULL;
    GA_TRY(ga_npy_follow_links(path, &where));
    struct stat st;
    int err = 0, direct = 0;
    if (stat(where, &st) == 0) {
        if (S_ISDIR(st.st_mode)) err = EISDIR;
        else if (!S_ISREG(st.st_mode)) {
            direct = 1;
            if (access(where, W_OK) != 0) err = errno;
        }
    } else if (errno != ENOENT) {
        err = errno;
    }
    if (!err && !direct) { /* a new file or a replaced one: its directory must take the temporary file */
        char *dir = ga_npy_parent(where);
        if (!dir) err = ENOMEM;
        else if (stat(dir, &st) != 0) err = errno;
        else if (!S_ISDIR(st.st_mode)) err = ENOTDIR;
        else if (access(dir, W_OK | X_OK) != 0) err = errno;
        ga_free(dir);
    }
    if (err) {
        int linked = strcmp(where, path) != 0;
        ga_status s = ga_raise(err == ENOMEM ? GA_ERR_OUT_OF_MEMORY : GA_ERR_IO, __FILE__, __LINE__,
                               "cannot write '%s'%s%s%s: %s", path, linked ? " (a symbolic link to '" : "",
                               linked ? where : "", linked ? "')" : "", strerror(err));
        ga_free(where);
        return s;
    }
    *target = where;
    *in_place = direct;
    return GA_OK;
}

ga_status ga_npy_stage_fd(const char *path, int *fd, char **staged) {
    static unsigned counter;
    GA_FAIL_IF(!fd || !staged, GA_ERR_NULL_POINTER, "ga_npy_stage_fd: fd or staged is NULL");
    *fd = -1;
    *staged = NULL;
    char *target;
    int direct;
    GA_TRY(ga_npy_output_target(path, &target, &direct));
    if (direct) { /* never created, truncated or replaced: written in place */
        const int sfd = ga_npy_std_fd(target);
        *fd = sfd >= 0 ? dup(sfd) : open(target, O_WRONLY); /* a duplicate keeps its offset and append mode */
        int err = errno;
        ga_free(target);
        GA_FAIL_IF(*fd < 0, GA_ERR_IO, "cannot write '%s': %s", path, strerror(err));
        return GA_OK;
    }
    size_t n = strlen(target) + 64;
    char *tmp = (char *)ga_malloc(n);
    if (!tmp) {
        ga_free(target);
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "ga_npy_save: out of memory");
    }
    for (int attempt = 0; attempt < 100 && *fd < 0; attempt++) {
        snprintf(tmp, n, "%s.tmp.%ld.%u", target, (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
        *fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (*fd < 0 && errno != EEXIST) break;
    }
    int err = errno;
    if (*fd >= 0) { /* a file that replaces another keeps its permissions (best effort) */
        struct stat st;
        if (stat(target, &st) == 0 && S_ISREG(st.st_mode)) (void)fchmod(*fd, st.st_mode & 07777);
    }
    ga_free(target);
    if (*fd < 0) {
        ga_free(tmp);
        GA_FAIL(GA_ERR_IO, "cannot write '%s': %s", path, strerror(err));
    }
    *staged = tmp;
    return GA_OK;
}

ga_status ga_npy_save_staged(const char *path, ga_npy_dtype dtype, int ndim, const int64_t *shape, const void *data,
                             char **staged) {
    GA_FAIL_IF(!staged, GA_ERR_NULL_POINTER, "ga_npy_save_staged: staged is NULL");
    *staged = NULL;
    GA_FAIL_IF(!path || !*path, GA_ERR_NULL_POINTER, "ga_npy_save: no file name");
    GA_FAIL_IF((unsigned)dtype >= GA_NPY_DTYPE_COUNT_, GA_ERR_BAD_DTYPE, "ga_npy_save: unknown dtype %d", (int)dtype);
    GA_FAIL_IF(ndim < 0 || ndim > GA_NPY_MAX_DIMS, GA_ERR_BAD_SIZE, "ga_npy_save: ndim %d outside [0, %d]", ndim,
               GA_NPY_MAX_DIMS);
    GA_FAIL_IF(ndim > 0 && !shape, GA_ERR_NULL_POINTER, "ga_npy_save: shape is NULL");
    int64_t count = 1, bytes;
    for (int d = 0; d < ndim; d++) {
        GA_FAIL_IF(shape[d] < 0, GA_ERR_BAD_SIZE, "ga_npy_save: dimension %d is negative (%lld)", d,
                   (long long)shape[d]);
        GA_FAIL_IF(ga_mul_overflow(count, shape[d], &count), GA_ERR_OVERFLOW, "ga_npy_save: element count overflows");
    }
    GA_FAIL_IF(ga_mul_overflow(count, (int64_t)ga_npy_dtype_size(dtype), &bytes), GA_ERR_OVERFLOW,
               "ga_npy_save: byte size overflows");
    GA_FAIL_IF(bytes > 0 && !data, GA_ERR_NULL_POINTER, "ga_npy_save: data is NULL");

    /* header: magic, version 1.0, little-endian u16 length, dict padded with spaces + '\n' so
     * that the data starts at a multiple of 64 bytes */
    char dict[1024], shape_str[GA_NPY_MAX_DIMS * 24 + 8];
    ga_npy_shape_string(ndim, shape, shape_str, sizeof shape_str);
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                       ga_npy_dtype_descr(dtype), shape_str);
    GA_FAIL_IF(len < 0 || (size_t)len + 64 >= sizeof dict, GA_ERR_INTERNAL, "ga_npy_save: header too long");
    size_t total = 10 + (size_t)len + 1;
    size_t padded = (total + 63) / 64 * 64;
    memset(dict + len, ' ', padded - total);
    dict[padded - 10 - 1] = '\n';
    unsigned char prefix[10];
    memcpy(prefix, ga_npy_magic, 6);
    prefix[6] = 1;
    prefix[7] = 0;
    prefix[8] = (unsigned char)((padded - 10) & 0xff);
    prefix[9] = (unsigned char)((padded - 10) >> 8);

    int fd;
    char *tmp;
    GA_TRY(ga_npy_stage_fd(path, &fd, &tmp));
    ga_status s = ga_npy_write_fd(fd, prefix, sizeof prefix, path);
    if (s == GA_OK) s = ga_npy_write_fd(fd, dict, padded - 10, path);
    if (s == GA_OK) s = ga_npy_write_fd(fd, data, (size_t)bytes, path);
    if (close(fd) != 0 && s == GA_OK) s = ga_raise(GA_ERR_IO, __FILE__, __LINE__, "cannot write '%s': %s", path, strerror(errno));
    if (s != GA_OK) {
        ga_npy_discard(&tmp);
        return s;
    }
    *staged = tmp;
    return GA_OK;
}

/* The target of a staged name: the name without the ".tmp.PID.K" that ga_npy_stage_fd appended
 * (ga_malloc'd; NULL with *st set when out of memory or not a staged name). */
static char *ga_npy_staged_target(const char *staged, ga_status *st) {
    const char *suffix = NULL;
    for (const char *p = strstr(staged, ".tmp."); p; p = strstr(p + 1, ".tmp.")) suffix = p;
    size_t n = suffix ? (size_t)(suffix - staged) : 0;
    char *target = n ? (char *)ga_malloc(n + 1) : NULL;
    if (!target) {
        *st = n ? GA_ERR_OUT_OF_MEMORY : GA_ERR_INTERNAL;
        return NULL;
    }
    memcpy(target, staged, n);
    target[n] = '\0';
    return target;
}

ga_status ga_npy_commit(char **staged, const char *path) {
    char **one[1] = {staged};
    const char *paths[1] = {path};
    return ga_npy_commit_all(one, paths, 1);
}

int ga_npy_testing_no_links; /* tests: link() taken to fail, as on a file system without hard links */

ga_status ga_npy_commit_all(char **const staged[], const char *const paths[], int n) {
    static unsigned counter;
    GA_FAIL_IF(n < 0 || (n > 0 && (!staged || !paths)), GA_ERR_NULL_POINTER, "ga_npy_commit_all: no files");
    if (n == 0) return GA_OK;
    /* per file: its target, the name its old file is kept under, and whether that old file was
     * moved there (the target then missing until its rename) rather than linked */
    char **target = (char **)ga_calloc((size_t)n * 2, sizeof(char *));
    unsigned char *moved = (unsigned char *)ga_calloc((size_t)n, 1);
    if (!target || !moved) {
        ga_free(target);
        ga_free(moved);
        for (int i = 0; i < n; i++) ga_npy_discard(staged[i]);
        GA_FAIL(GA_ERR_OUT_OF_MEMORY, "cannot write '%s': out of memory", paths[0] ? paths[0] : "?");
    }
    char **backup = target + n;
    ga_status s = GA_OK;
    int bad = -1, err = 0, renamed = 0;
    for (int i = 0; i < n && s == GA_OK; i++) {
        if (!staged[i] || !*staged[i]) continue;
        target[i] = ga_npy_staged_target(*staged[i], &s);
        if (!target[i]) bad = i;
    }
    /* every existing target but the last one renamed keeps its old file until all are in place (a
     * failed rename has nothing of its own to undo): under a hard link NAME.old.PID.K, or where
     * the file system has none, moved to that name (the target is then missing until its own
     * rename). Neither possible: nothing is renamed. */
    int last = -1;
    for (int i = 0; i < n; i++)
        if (target[i]) last = i;
    for (int i = 0; i < last && s == GA_OK; i++) {
        struct stat st;
        if (!target[i] || lstat(target[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
        size_t len = strlen(target[i]) + 64;
        backup[i] = (char *)ga_malloc(len);
        if (!backup[i]) {
            s = GA_ERR_OUT_OF_MEMORY;
            bad = i;
            break;
        }
        int made = 0;
        for (int attempt = 0; attempt < 100 && !made; attempt++) {
            snprintf(backup[i], len, "%s.old.%ld.%u", target[i], (long)getpid(),
                     __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
            if (ga_npy_testing_no_links) errno = EPERM;
            made = !ga_npy_testing_no_links && link(target[i], backup[i]) == 0;
            if (!made && errno == EEXIST) continue;
            if (!made && access(backup[i], F_OK) != 0 && errno == ENOENT) { /* a free name: move the old file there */
                made = rename(target[i], backup[i]) == 0;
                moved[i] = (unsigned char)made;
                if (!made) err = errno;
                break;
            }
        }
        if (!made) {
            ga_free(backup[i]);
            backup[i] = NULL;
            s = GA_ERR_IO;
            if (!err) err = EEXIST;
            bad = i;
        }
    }
    for (int i = 0; i < n && s == GA_OK; i++) {
        if (!target[i]) continue;
        if (rename(*staged[i], target[i]) != 0) {
            err = errno;
            s = GA_ERR_IO;
            bad = i;
            break;
        }
        ga_free(*staged[i]);
        *staged[i] = NULL;
        renamed = i + 1;
    }
    /* after a failure, every target as it was, latest first: its old file back where it has one
     * (linked, or moved away), a new one removed where it had none. An old file that cannot be put
     * back stays under its backup name, which the message gives. */
    const char *kept = NULL;
    for (int j = n - 1; j >= 0 && s != GA_OK; j--) {
        if (!target[j]) continue;
        if (backup[j] && (j < renamed || moved[j])) {
            if (rename(backup[j], target[j]) != 0) {
                if (!kept) kept = backup[j];
                continue; /* kept: not removed below */
            }
            ga_free(backup[j]);
            backup[j] = NULL;
        } else if (j < renamed && !backup[j]) {
            unlink(target[j]);
        }
    }
    char kept_name[1024] = "";
    if (kept) snprintf(kept_name, sizeof kept_name, "%s", kept);
    for (int i = 0; i < n; i++) {
        if (backup[i] && (s == GA_OK || !(i < renamed || moved[i]))) unlink(backup[i]);
        ga_free(backup[i]);
        ga_free(target[i]);
        ga_npy_discard(staged[i]);
    }
    ga_free(target);
    ga_free(moved);
    if (s == GA_OK) return GA_OK;
    const char *path = bad >= 0 && paths[bad] ? paths[bad] : "?";
    if (s == GA_ERR_IO)
        GA_FAIL(GA_ERR_IO, "cannot write '%s': %s%s%s%s", path, strerror(err), kept ? "; an old file could not be put back and is kept as '" : "",
                kept_name, kept ? "'" : "");
    GA_FAIL(s, "cannot write '%s': %s", path, s == GA_ERR_OUT_OF_MEMORY ? "out of memory" : "not a staged file name");
}

void ga_npy_discard(char **staged) {
    if (!staged || !*staged) return;
    unlink(*staged);
    ga_free(*staged);
    *staged = NULL;
}

ga_status ga_npy_save(const char *path, ga_npy_dtype dtype, int ndim, const int64_t *shape, const void *data) {
    char *staged = NULL;
    GA_TRY(ga_npy_save_staged(path, dtype, ndim, shape, data, &staged));
    return ga_npy_commit(&staged, path);
}

/* ---- index arrays for csr:/coo: graph specs ------------------------------------------------ */

ga_status ga_npy_load_index(const char *path, void **data, int64_t *count, ga_index_type *index_type) {
    GA_FAIL_IF(!data || !count || !index_type, GA_ERR_NULL_POINTER, "ga_npy_load_index: NULL output");
    *data = NULL;
    *count = 0;
    ga_npy_array a;
    GA_TRY(ga_npy_load(path, &a));
    if (a.ndim != 1 || (a.dtype != GA_NPY_I32 && a.dtype != GA_NPY_I64)) {
        char shape[256];
        ga_npy_shape_string(a.ndim, a.shape, shape, sizeof shape);
        ga_npy_dtype dt = a.dtype;
        int nd = a.ndim;
        ga_npy_free(&a);
        GA_FAIL_IF(nd != 1, GA_ERR_FILE_FORMAT, "'%s': an index array must be 1-D, this one has shape %s", path,
                   shape);
        GA_FAIL(GA_ERR_FILE_FORMAT, "'%s': an index array must be int32 or int64, this one is %s", path,
                ga_npy_dtype_name(dt));
    }
    *index_type = a.dtype == GA_NPY_I32 ? GA_INDEX_INT32 : GA_INDEX_INT64;
    *count = a.count;
    *data = a.data;
    return GA_OK;
}
