/* test_npy.c -- the .npy reader and writer: round trips, and every malformed file rejected with
 * its own message and status, never a crash or an out-of-bounds read (run under ASan to see). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "graph/graph.h"
#include "io/npy.h"
#include "test.h"

/* A fresh scratch directory per test, removed with its files at the end. */
static char scratch[256];
static void scratch_make(void) {
    const char *base = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/ga_npy_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(scratch)) scratch[0] = '\0';
}
static int scratch_entries(void) {
    int n = 0;
    DIR *d = opendir(scratch);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}
static void scratch_remove(void) {
    DIR *d = opendir(scratch);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", scratch, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(scratch);
}
static const char *scratch_path(const char *name) {
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", scratch, name);
    return p;
}

/* Build a .npy image: magic, version, header length field, the dict as given (no padding added),
 * then `data_bytes` bytes of a counting pattern. Returns the image size. */
static size_t image(unsigned char *buf, int major, int minor, const char *dict, size_t data_bytes) {
    size_t n = 0, len = strlen(dict);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = (unsigned char)minor;
    n = 8;
    if (major == 1) {
        buf[n++] = (unsigned char)(len & 0xff);
        buf[n++] = (unsigned char)(len >> 8);
    } else {
        for (int b = 0; b < 4; b++) buf[n++] = (unsigned char)(len >> (8 * b));
    }
    memcpy(buf + n, dict, len);
    n += len;
    for (size_t i = 0; i < data_bytes; i++) buf[n++] = (unsigned char)(i * 7 + 1);
    return n;
}

static unsigned char img[1 << 18];

static ga_status parse_dict(const char *dict, size_t data_bytes) {
    ga_npy_array a;
    size_t n = image(img, 1, 0, dict, data_bytes);
    ga_status s = ga_npy_parse(img, n, "t.npy", &a);
    ga_npy_free(&a);
    return s;
}

#define EXPECT_DETAIL_HAS(text)                                                                        \
    do { if (!strstr(ga_last_error_detail(), (text)))                                                \
             ga_test_fail(__FILE__, __LINE__, "detail '%s' lacks '%s'", ga_last_error_detail(), (text)); \
    } while (0)

TEST(round_trip_preserves_every_dtype_shape_and_data) {
    scratch_make();
    ASSERT_TRUE(scratch[0]);
    for (int t = 0; t < GA_NPY_DTYPE_COUNT_; t++) {
        int64_t shape[3] = {3, 5, 7};
        size_t bytes = 105 * ga_npy_dtype_size((ga_npy_dtype)t);
        unsigned char *src = malloc(bytes);
        for (size_t i = 0; i < bytes; i++) src[i] = (unsigned char)(i * 31 + t + 1);
        ASSERT_OK(ga_npy_save(scratch_path("a.npy"), (ga_npy_dtype)t, 3, shape, src));
        ga_npy_array a;
        ASSERT_OK(ga_npy_load(scratch_path("a.npy"), &a));
        EXPECT_EQ_I64(a.dtype, t);
        EXPECT_EQ_I64(a.ndim, 3);
        EXPECT_EQ_I64(a.shape[0], 3);
        EXPECT_EQ_I64(a.shape[1], 5);
        EXPECT_EQ_I64(a.shape[2], 7);
        EXPECT_EQ_I64(a.count, 105);
        EXPECT_TRUE(memcmp(a.data, src, bytes) == 0);
        ga_npy_free(&a);
        free(src);
    }
    scratch_remove();
}

TEST(round_trip_scalar_and_empty_arrays) {
    scratch_make();
    float x = 2.5f;
    ASSERT_OK(ga_npy_save(scratch_path("s.npy"), GA_NPY_F32, 0, NULL, &x));
    ga_npy_array a;
    ASSERT_OK(ga_npy_load(scratch_path("s.npy"), &a));
    EXPECT_EQ_I64(a.ndim, 0);
    EXPECT_EQ_I64(a.count, 1);
    EXPECT_NEAR(*(float *)a.data, 2.5, 0);
    ga_npy_free(&a);
    int64_t shape[2] = {0, 4};
    ASSERT_OK(ga_npy_save(scratch_path("e.npy"), GA_NPY_I64, 2, shape, NULL));
    ASSERT_OK(ga_npy_load(scratch_path("e.npy"), &a));
    EXPECT_EQ_I64(a.count, 0);
    EXPECT_EQ_I64(a.shape[1], 4);
    EXPECT_TRUE(a.data != NULL);
    ga_npy_free(&a);
    scratch_remove();
}

TEST(writer_emits_v1_header_padded_to_64_bytes_ending_in_newline) {
    scratch_make();
    int64_t shape[1] = {5};
    float v[5] = {1, 2, 3, 4, 5};
    ASSERT_OK(ga_npy_save(scratch_path("h.npy"), GA_NPY_F32, 1, shape, v));
    FILE *f = fopen(scratch_path("h.npy"), "rb");
    ASSERT_TRUE(f != NULL);
    size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    EXPECT_EQ_I64(img[6], 1);
    EXPECT_EQ_I64(img[7], 0);
    size_t hlen = img[8] | (size_t)img[9] << 8;
    EXPECT_EQ_I64((10 + hlen) % 64, 0);
    EXPECT_EQ_I64(img[10 + hlen - 1], '\n');
    EXPECT_EQ_I64(n, 10 + hlen + 20);
    EXPECT_TRUE(strstr((char *)img + 10, "'shape': (5,)") != NULL);
    scratch_remove();
}

TEST(reader_accepts_version_2_and_3_headers) {
    const char *dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }\n";
    for (int major = 2; major <= 3; major++) {
        ga_npy_array a;
        size_t n = image(img, major, 0, dict, 48);
        ASSERT_OK(ga_npy_parse(img, n, "v.npy", &a));
        EXPECT_EQ_I64(a.dtype, GA_NPY_I64);
        EXPECT_EQ_I64(a.count, 6);
        EXPECT_EQ_I64(((unsigned char *)a.data)[1], 8);
        ga_npy_free(&a);
    }
}

TEST(reader_accepts_any_key_order_double_quotes_and_no_trailing_comma) {
    EXPECT_STATUS(parse_dict("{\"shape\": (4,), \"fortran_order\": False, \"descr\": \"<f2\"}", 8), GA_OK);
    EXPECT_STATUS(parse_dict("{'descr':'|u1','fortran_order':False,'shape':(2,2)}", 4), GA_OK);
    EXPECT_STATUS(parse_dict("{'descr': '<u2', 'fortran_order': False, 'shape': (3L,), }   \n", 6), GA_OK);
}

TEST(reader_rejects_bad_magic) {
    size_t n = image(img, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", 4);
    img[1] = 'n';
    ga_npy_array a;
    EXPECT_STATUS(ga_npy_parse(img, n, "m.npy", &a), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("not a .npy file");
    EXPECT_STATUS(ga_npy_parse("", 0, "empty.npy", &a), GA_ERR_FILE_FORMAT);
}

TEST(reader_rejects_unknown_version) {
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n";
    ga_npy_array a;
    size_t n = image(img, 4, 0, dict, 4);
    EXPECT_STATUS(ga_npy_parse(img, n, "v4.npy", &a), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("version 4.0");
    n = image(img, 1, 1, dict, 4);
    EXPECT_STATUS(ga_npy_parse(img, n, "v11.npy", &a), GA_ERR_FILE_FORMAT);
}

TEST(reader_rejects_every_truncation_of_a_valid_file) {
    /* every prefix shorter than the full file fails cleanly: header cut or data cut */
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n";
    size_t n = image(img, 1, 0, dict, 16), header = 10 + strlen(dict);
    for (size_t len = 0; len < n; len++) {
        unsigned char *copy = malloc(len ? len : 1); /* exact size so ASan sees any overread */
        memcpy(copy, img, len);
        ga_npy_array a;
        ga_status s = ga_npy_parse(copy, len, "cut.npy", &a);
        if (s != GA_ERR_FILE_FORMAT) ga_test_fail(__FILE__, __LINE__, "prefix of %zu bytes: %s", len, ga_status_string(s));
        if (len >= header && !strstr(ga_last_error_detail(), "truncated data"))
            ga_test_fail(__FILE__, __LINE__, "prefix of %zu bytes: detail '%s'", len, ga_last_error_detail());
        /* a cut inside the magic string or the version is a truncated .npy, not another format */
        const char *want = len == 0 ? "is empty" : "truncated .npy header";
        if (len < header && !strstr(ga_last_error_detail(), want))
            ga_test_fail(__FILE__, __LINE__, "prefix of %zu bytes: detail '%s', want '%s'", len, ga_last_error_detail(),
                         want);
        free(copy);
    }
}

TEST(reader_rejects_truncated_header_field) {
    size_t n = image(img, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", 4);
    img[8] = 0xff; /* header length now runs past the end of the file */
    img[9] = 0x7f;
    ga_npy_array a;
    EXPECT_STATUS(ga_npy_parse(img, n, "h.npy", &a), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("truncated .npy header");
}

TEST(reader_rejects_truncated_data_in_a_file) {
    scratch_make();
    int64_t shape[1] = {100};
    double v[100] = {0};
    ASSERT_OK(ga_npy_save(scratch_path("d.npy"), GA_NPY_F64, 1, shape, v));
    ASSERT_TRUE(truncate(scratch_path("d.npy"), 128 + 799) == 0);
    ga_npy_array a;
    EXPECT_STATUS(ga_npy_load(scratch_path("d.npy"), &a), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("truncated data");
    EXPECT_TRUE(a.data == NULL);
    scratch_remove();
}

TEST(reader_rejects_trailing_bytes) {
    ga_npy_array a;
    size_t n = image(img, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 9);
    EXPECT_STATUS(ga_npy_parse(img, n, "t.npy", &a), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("1 unexpected byte after the data");
}

TEST(reader_rejects_oversized_header) {
    /* a v2 header just over the limit is rejected before it is read */
    unsigned char pre[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0x01, 0x00, 0x01, 0x00}; /* 65537 */
    ga_npy_array a;
    EXPECT_STATUS(ga_npy_parse(pre, sizeof pre, "big.npy", &a), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("exceeds the limit");
    /* and one of 4 GiB - 1 */
    memset(pre + 8, 0xff, 4);
    EXPECT_STATUS(ga_npy_parse(pre, sizeof pre, "huge.npy", &a), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("exceeds the limit");
}

TEST(reader_accepts_a_long_padded_header_within_the_limit) {
    static char dict[GA_NPY_MAX_HEADER + 1];
    const char *d = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
    size_t len = strlen(d);
    memcpy(dict, d, len);
    memset(dict + len, ' ', GA_NPY_MAX_HEADER - len - 1);
    dict[GA_NPY_MAX_HEADER - 1] = '\n';
    dict[GA_NPY_MAX_HEADER] = '\0';
    static unsigned char big[GA_NPY_MAX_HEADER + 64];
    size_t n = image(big, 2, 0, dict, 4);
    ga_npy_array a;
    EXPECT_STATUS(ga_npy_parse(big, n, "long.npy", &a), GA_OK);
    ga_npy_free(&a);
}

TEST(reader_rejects_fortran_order) {
    EXPECT_STATUS(parse_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", 16),
                  GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("fortran_order is True");
}

TEST(reader_rejects_big_endian_unknown_and_structured_dtypes) {
    EXPECT_STATUS(parse_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 4), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("big-endian");
    EXPECT_STATUS(parse_dict("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("unsupported dtype '<c8'");
    EXPECT_STATUS(parse_dict("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 8), GA_ERR_FILE_FORMAT);
    EXPECT_STATUS(parse_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4),
                  GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("structured");
}

TEST(reader_rejects_negative_dimension) {
    EXPECT_STATUS(parse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 0), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("negative dimension");
}

TEST(reader_rejects_dimension_that_overflows_int64) {
    EXPECT_STATUS(parse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0),
                  GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("does not fit in int64");
}

TEST(reader_rejects_shape_whose_size_overflows) {
    EXPECT_STATUS(parse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 0),
                  GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("overflows");
    /* element count fits, byte count does not */
    EXPECT_STATUS(parse_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }", 0),
                  GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("byte size overflows");
}

TEST(reader_rejects_huge_shape_in_small_file_without_allocating) {
    scratch_make();
    size_t n = image(img, 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }\n", 16);
    FILE *f = fopen(scratch_path("h.npy"), "wb");
    ASSERT_TRUE(f != NULL);
    fwrite(img, 1, n, f);
    fclose(f);
    ga_npy_array a;
    EXPECT_STATUS(ga_npy_load(scratch_path("h.npy"), &a), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("truncated data");
    scratch_remove();
}

TEST(reader_rejects_malformed_dictionaries) {
    const char *bad[] = {
        "",                                                                     /* empty */
        "{'descr': '<f4', 'fortran_order': False}",                             /* missing shape */
        "{'descr': '<f4', 'shape': (1,)}",                                      /* missing fortran_order */
        "{'fortran_order': False, 'shape': (1,)}",                              /* missing descr */
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", /* duplicate */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",  /* unknown key */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk",         /* text after */
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",                  /* not a bool */
        "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",               /* list, not tuple */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}",             /* no comma */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,",                /* unterminated */
        "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",               /* bad quoting */
        "{'descr': '<f\\4', 'fortran_order': False, 'shape': (1,)}",            /* escape */
        "{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}",               /* no colon */
        "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}",               /* no comma */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}",            /* float dim */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)}", /* 17 dims */
    };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        ga_status s = parse_dict(bad[t], 4);
        if (s != GA_ERR_FILE_FORMAT)
            ga_test_fail(__FILE__, __LINE__, "dict %zu \"%s\": got %s", t, bad[t], ga_status_string(s));
    }
}

TEST(reader_survives_random_byte_mutations) {
    /* a seeded mini-fuzzer: mutate the header and size of a valid image; every result is either
     * a consistent array or GA_ERR_FILE_FORMAT */
    const char *dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }\n";
    size_t n0 = image(img, 1, 0, dict, 24);
    unsigned char base[256], *copy;
    memcpy(base, img, n0);
    uint64_t x = 12345;
    for (int it = 0; it < 20000; it++) {
        size_t n = n0;
        memcpy(img, base, n0);
        int flips = 1 + (int)(it % 4);
        for (int k = 0; k < flips; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t pos = (size_t)(x >> 33) % (10 + strlen(dict));
            img[pos] = (unsigned char)(x >> 17);
        }
        if (it % 3 == 0) n = (size_t)(x >> 40) % (n0 + 8);
        copy = malloc(n ? n : 1);
        memcpy(copy, img, n);
        ga_npy_array a;
        ga_status s = ga_npy_parse(copy, n, "fuzz.npy", &a);
        if (s == GA_OK) {
            if ((size_t)a.count * ga_npy_dtype_size(a.dtype) > n)
                ga_test_fail(__FILE__, __LINE__, "iteration %d: accepted %lld elements from %zu bytes", it,
                             (long long)a.count, n);
            ga_npy_free(&a);
        } else if (s != GA_ERR_FILE_FORMAT) {
            ga_test_fail(__FILE__, __LINE__, "iteration %d: status %s", it, ga_status_string(s));
        }
        free(copy);
    }
}

TEST(load_of_missing_file_or_directory_is_an_io_error) {
    ga_npy_array a;
    EXPECT_STATUS(ga_npy_load("/nonexistent/dir/x.npy", &a), GA_ERR_IO);
    EXPECT_DETAIL_HAS("/nonexistent/dir/x.npy");
    EXPECT_STATUS(ga_npy_load("/tmp", &a), GA_ERR_IO);
    EXPECT_DETAIL_HAS("not a regular file");
}

TEST(failed_save_leaves_no_file) {
    scratch_make();
    char path[512];
    snprintf(path, sizeof path, "%s/missing_dir/o.npy", scratch);
    int64_t shape[1] = {2};
    float v[2] = {1, 2};
    EXPECT_STATUS(ga_npy_save(path, GA_NPY_F32, 1, shape, v), GA_ERR_IO);
    EXPECT_DETAIL_HAS("o.npy");
    int64_t neg[1] = {-2};
    EXPECT_STATUS(ga_npy_save(scratch_path("n.npy"), GA_NPY_F32, 1, neg, v), GA_ERR_BAD_SIZE);
    EXPECT_EQ_I64(scratch_entries(), 0);
    scratch_remove();
}

TEST(staged_save_is_invisible_until_commit_and_discard_removes_it) {
    scratch_make();
    int64_t shape[1] = {2};
    float v[2] = {1, 2};
    char *staged = NULL;
    ASSERT_OK(ga_npy_save_staged(scratch_path("o.npy"), GA_NPY_F32, 1, shape, v, &staged));
    ASSERT_TRUE(staged != NULL);
    EXPECT_TRUE(access(scratch_path("o.npy"), F_OK) != 0);
    ga_npy_discard(&staged);
    EXPECT_TRUE(staged == NULL);
    EXPECT_EQ_I64(scratch_entries(), 0);
    ASSERT_OK(ga_npy_save_staged(scratch_path("o.npy"), GA_NPY_F32, 1, shape, v, &staged));
    ASSERT_OK(ga_npy_commit(&staged, scratch_path("o.npy")));
    EXPECT_TRUE(access(scratch_path("o.npy"), F_OK) == 0);
    EXPECT_EQ_I64(scratch_entries(), 1);
    scratch_remove();
}

TEST(save_replaces_an_existing_file) {
    scratch_make();
    int64_t s1[1] = {8}, s2[1] = {1};
    int64_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ASSERT_OK(ga_npy_save(scratch_path("r.npy"), GA_NPY_I64, 1, s1, v));
    ASSERT_OK(ga_npy_save(scratch_path("r.npy"), GA_NPY_I64, 1, s2, v + 7));
    ga_npy_array a;
    ASSERT_OK(ga_npy_load(scratch_path("r.npy"), &a));
    EXPECT_EQ_I64(a.count, 1);
    EXPECT_EQ_I64(((int64_t *)a.data)[0], 8);
    ga_npy_free(&a);
    EXPECT_EQ_I64(scratch_entries(), 1);
    scratch_remove();
}

/* Where staged outputs go (npy.h, "Output targets"). */

static void path_in_scratch(char *buf, size_t size, const char *name) { snprintf(buf, size, "%s/%s", scratch, name); }

TEST(save_through_a_symlink_replaces_its_target_and_keeps_the_link) {
    scratch_make();
    char target[512], link[512], fresh[512], fresh_link[512];
    path_in_scratch(target, sizeof target, "t.npy");
    path_in_scratch(link, sizeof link, "l.npy");
    path_in_scratch(fresh, sizeof fresh, "new.npy");
    path_in_scratch(fresh_link, sizeof fresh_link, "new_link.npy");
    int64_t s1[1] = {3}, s2[1] = {1};
    int64_t v[3] = {7, 8, 9};
    ASSERT_OK(ga_npy_save(target, GA_NPY_I64, 1, s1, v));
    ASSERT_TRUE(symlink("t.npy", link) == 0); /* relative: from the link's directory */
    ASSERT_OK(ga_npy_save(link, GA_NPY_I64, 1, s2, v + 2));
    struct stat st;
    ASSERT_TRUE(lstat(link, &st) == 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    ga_npy_array a;
    ASSERT_OK(ga_npy_load(target, &a));
    EXPECT_EQ_I64(a.count, 1);
    EXPECT_EQ_I64(((int64_t *)a.data)[0], 9);
    ga_npy_free(&a);
    /* a link to a file not there yet: the file is created, the link kept */
    ASSERT_TRUE(symlink(fresh, fresh_link) == 0);
    ASSERT_OK(ga_npy_save(fresh_link, GA_NPY_I64, 1, s1, v));
    ASSERT_TRUE(lstat(fresh_link, &st) == 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_TRUE(lstat(fresh, &st) == 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ_I64(scratch_entries(), 4); /* no temporary file left */
    scratch_remove();
}

TEST(a_replaced_file_keeps_its_permissions) {
    scratch_make();
    char path[512];
    path_in_scratch(path, sizeof path, "perm.npy");
    int64_t s1[1] = {1}, v[1] = {5};
    ASSERT_OK(ga_npy_save(path, GA_NPY_I64, 1, s1, v));
    ASSERT_TRUE(chmod(path, 0640) == 0);
    ASSERT_OK(ga_npy_save(path, GA_NPY_I64, 1, s1, v));
    struct stat st;
    ASSERT_TRUE(stat(path, &st) == 0);
    if ((st.st_mode & 07777) != 0640)
        ga_test_fail(__FILE__, __LINE__, "mode after the replace: %o, want 640", (unsigned)(st.st_mode & 07777));
    scratch_remove();
}

TEST(save_into_a_fifo_writes_in_place_and_keeps_the_fifo) {
    scratch_make();
    char fifo[512];
    path_in_scratch(fifo, sizeof fifo, "pipe");
    ASSERT_TRUE(mkfifo(fifo, 0600) == 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK); /* a reader, so that the writer's open does not wait */
    ASSERT_TRUE(rd >= 0);
    int64_t shape[1] = {4};
    int64_t v[4] = {1, 2, 3, 4};
    char *staged = (char *)1;
    ASSERT_OK(ga_npy_save_staged(fifo, GA_NPY_I64, 1, shape, v, &staged));
    EXPECT_TRUE(staged == NULL); /* written in place: nothing to rename */
    ASSERT_OK(ga_npy_commit(&staged, fifo));
    unsigned char buf[256];
    ssize_t n = read(rd, buf, sizeof buf);
    close(rd);
    EXPECT_EQ_I64(n, 128 + 32); /* a 128-byte header and 4 int64 */
    ga_npy_array a;
    ASSERT_OK(ga_npy_parse(buf, n > 0 ? (size_t)n : 0, "pipe", &a));
    EXPECT_EQ_I64(((int64_t *)a.data)[3], 4);
    ga_npy_free(&a);
    struct stat st;
    ASSERT_TRUE(lstat(fifo, &st) == 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ_I64(scratch_entries(), 1);
    scratch_remove();
}

TEST(output_target_rejects_directories_and_missing_directories) {
    scratch_make();
    char dir[512], in_missing[512], link[512], target_of[512];
    path_in_scratch(dir, sizeof dir, "d");
    path_in_scratch(in_missing, sizeof in_missing, "missing/o.npy");
    path_in_scratch(link, sizeof link, "l.npy");
    ASSERT_TRUE(mkdir(dir, 0700) == 0);
    ASSERT_TRUE(symlink("missing/o.npy", link) == 0);
    char *target = (char *)1;
    int in_place = 7;
    EXPECT_STATUS(ga_npy_output_target(dir, &target, &in_place), GA_ERR_IO);
    EXPECT_DETAIL_HAS("Is a directory");
    EXPECT_TRUE(target == NULL);
    EXPECT_STATUS(ga_npy_output_target(in_missing, &target, &in_place), GA_ERR_IO);
    EXPECT_DETAIL_HAS("No such file or directory");
    EXPECT_STATUS(ga_npy_output_target(link, &target, &in_place), GA_ERR_IO);
    EXPECT_DETAIL_HAS("a symbolic link to");
    int64_t shape[1] = {1}, v[1] = {5};
    char *staged = NULL;
    EXPECT_STATUS(ga_npy_save_staged(dir, GA_NPY_I64, 1, shape, v, &staged), GA_ERR_IO);
    EXPECT_TRUE(staged == NULL);
    /* a target that can be written: itself, not written in place */
    path_in_scratch(target_of, sizeof target_of, "o.npy");
    ASSERT_OK(ga_npy_output_target(target_of, &target, &in_place));
    EXPECT_TRUE(target && !strcmp(target, target_of));
    EXPECT_EQ_I64(in_place, 0);
    ga_free(target);
    EXPECT_EQ_I64(scratch_entries(), 2); /* d and l.npy: nothing created */
    rmdir(dir);
    scratch_remove();
}

static int64_t first_i64(const char *path) {
    ga_npy_array a;
    if (ga_npy_load(path, &a) != GA_OK) return -1;
    int64_t v = a.count > 0 ? ((int64_t *)a.data)[0] : -1;
    ga_npy_free(&a);
    return v;
}

TEST(commit_all_renames_every_staged_file_and_skips_those_written_in_place) {
    scratch_make();
    char a[512], b[512];
    path_in_scratch(a, sizeof a, "a.npy");
    path_in_scratch(b, sizeof b, "b.npy");
    int64_t shape[1] = {1}, one = 1, two = 2, three = 3;
    ASSERT_OK(ga_npy_save(a, GA_NPY_I64, 1, shape, &one));
    char *sa = NULL, *sb = NULL, *none = NULL;
    ASSERT_OK(ga_npy_save_staged(a, GA_NPY_I64, 1, shape, &two, &sa));
    ASSERT_OK(ga_npy_save_staged(b, GA_NPY_I64, 1, shape, &three, &sb));
    char **const staged[3] = {&sa, &none, &sb};
    const char *const paths[3] = {a, "/dev/null", b};
    ASSERT_OK(ga_npy_commit_all(staged, paths, 3));
    EXPECT_TRUE(sa == NULL && sb == NULL);
    EXPECT_EQ_I64(first_i64(a), 2);
    EXPECT_EQ_I64(first_i64(b), 3);
    EXPECT_EQ_I64(scratch_entries(), 2); /* no temporary file or kept old file left */
    scratch_remove();
}

TEST(commit_all_puts_back_the_files_it_renamed_when_a_later_rename_fails) {
    scratch_make();
    char a[512], c[512], b[512];
    path_in_scratch(a, sizeof a, "a.npy"); /* exists: must keep its old content */
    path_in_scratch(c, sizeof c, "c.npy"); /* new: must not be left behind */
    path_in_scratch(b, sizeof b, "b.npy"); /* becomes a directory after staging: its rename fails */
    int64_t shape[1] = {1}, one = 1, two = 2;
    ASSERT_OK(ga_npy_save(a, GA_NPY_I64, 1, shape, &one));
    char *sa = NULL, *sc = NULL, *sb = NULL;
    ASSERT_OK(ga_npy_save_staged(a, GA_NPY_I64, 1, shape, &two, &sa));
    ASSERT_OK(ga_npy_save_staged(c, GA_NPY_I64, 1, shape, &two, &sc));
    ASSERT_OK(ga_npy_save_staged(b, GA_NPY_I64, 1, shape, &two, &sb));
    ASSERT_TRUE(mkdir(b, 0777) == 0);
    char **const staged[3] = {&sa, &sc, &sb};
    const char *const paths[3] = {a, c, b};
    EXPECT_STATUS(ga_npy_commit_all(staged, paths, 3), GA_ERR_IO);
    EXPECT_DETAIL_HAS("b.npy");
    EXPECT_TRUE(sa == NULL && sc == NULL && sb == NULL);
    EXPECT_EQ_I64(first_i64(a), 1);
    EXPECT_TRUE(access(c, F_OK) != 0);
    EXPECT_EQ_I64(scratch_entries(), 2); /* a.npy and the directory b.npy: no temporary or kept file */
    rmdir(b);
    scratch_remove();
}

/* The same two commits where the file system has no hard links: the old file is moved aside
 * instead, and moved back when a later rename fails. */
TEST(commit_all_without_hard_links_moves_old_files_aside_and_back) {
    scratch_make();
    char a[512], c[512], b[512];
    path_in_scratch(a, sizeof a, "a.npy");
    path_in_scratch(c, sizeof c, "c.npy");
    path_in_scratch(b, sizeof b, "b.npy");
    int64_t shape[1] = {1}, one = 1, two = 2, three = 3;
    ga_npy_testing_no_links = 1;
    ASSERT_OK(ga_npy_save(a, GA_NPY_I64, 1, shape, &one));
    ASSERT_OK(ga_npy_save(c, GA_NPY_I64, 1, shape, &one));
    char *sa = NULL, *sc = NULL, *sb = NULL;
    /* success: both replaced, nothing left aside */
    ASSERT_OK(ga_npy_save_staged(a, GA_NPY_I64, 1, shape, &two, &sa));
    ASSERT_OK(ga_npy_save_staged(c, GA_NPY_I64, 1, shape, &three, &sc));
    char **const both[2] = {&sa, &sc};
    const char *const both_paths[2] = {a, c};
    EXPECT_STATUS(ga_npy_commit_all(both, both_paths, 2), GA_OK);
    EXPECT_EQ_I64(first_i64(a), 2);
    EXPECT_EQ_I64(first_i64(c), 3);
    EXPECT_EQ_I64(scratch_entries(), 2);
    /* a rename fails in the middle (b, a directory by then): a, renamed before it, and c, moved
     * aside but not yet renamed, both get their old files back; d (new, last) never appears */
    char d[512];
    path_in_scratch(d, sizeof d, "d.npy");
    char *sd = NULL;
    ASSERT_OK(ga_npy_save_staged(a, GA_NPY_I64, 1, shape, &one, &sa));
    ASSERT_OK(ga_npy_save_staged(b, GA_NPY_I64, 1, shape, &one, &sb));
    ASSERT_OK(ga_npy_save_staged(c, GA_NPY_I64, 1, shape, &one, &sc));
    ASSERT_OK(ga_npy_save_staged(d, GA_NPY_I64, 1, shape, &one, &sd));
    ASSERT_TRUE(mkdir(b, 0777) == 0);
    char **const staged[4] = {&sa, &sb, &sc, &sd};
    const char *const paths[4] = {a, b, c, d};
    EXPECT_STATUS(ga_npy_commit_all(staged, paths, 4), GA_ERR_IO);
    EXPECT_DETAIL_HAS("b.npy");
    EXPECT_TRUE(sa == NULL && sb == NULL && sc == NULL && sd == NULL);
    EXPECT_EQ_I64(first_i64(a), 2);
    EXPECT_EQ_I64(first_i64(c), 3);
    EXPECT_TRUE(access(d, F_OK) != 0);
    EXPECT_EQ_I64(scratch_entries(), 3); /* a.npy, c.npy and the directory b.npy */
    ga_npy_testing_no_links = 0;
    rmdir(b);
    scratch_remove();
}

TEST(staged_files_of_one_target_get_distinct_names) {
    scratch_make();
    char path[512];
    path_in_scratch(path, sizeof path, "o.csv");
    int fd1, fd2;
    char *s1 = NULL, *s2 = NULL;
    ASSERT_OK(ga_npy_stage_fd(path, &fd1, &s1));
    ASSERT_OK(ga_npy_stage_fd(path, &fd2, &s2));
    ASSERT_TRUE(s1 && s2);
    EXPECT_TRUE(strcmp(s1, s2) != 0);
    EXPECT_TRUE(strncmp(s1, path, strlen(path)) == 0 && strstr(s1 + strlen(path), ".tmp.") != NULL);
    EXPECT_TRUE(write(fd1, "one\n", 4) == 4);
    EXPECT_TRUE(write(fd2, "two\n", 4) == 4);
    close(fd1);
    close(fd2);
    ga_npy_discard(&s1);
    ASSERT_OK(ga_npy_commit(&s2, path));
    char buf[8] = {0};
    FILE *f = fopen(path, "r");
    ASSERT_TRUE(f != NULL);
    EXPECT_TRUE(fread(buf, 1, sizeof buf - 1, f) == 4);
    fclose(f);
    EXPECT_TRUE(!strcmp(buf, "two\n"));
    EXPECT_EQ_I64(scratch_entries(), 1);
    scratch_remove();
}

TEST(load_index_accepts_int32_and_int64_vectors) {
    scratch_make();
    int64_t shape[1] = {4};
    int32_t v32[4] = {0, 1, 5, 9};
    int64_t v64[4] = {0, 2, 4, 1ll << 40};
    ASSERT_OK(ga_npy_save(scratch_path("i32.npy"), GA_NPY_I32, 1, shape, v32));
    ASSERT_OK(ga_npy_save(scratch_path("i64.npy"), GA_NPY_I64, 1, shape, v64));
    void *data;
    int64_t count;
    ga_index_type t;
    ASSERT_OK(ga_npy_load_index(scratch_path("i32.npy"), &data, &count, &t));
    EXPECT_EQ_I64(t, GA_INDEX_INT32);
    EXPECT_EQ_I64(count, 4);
    EXPECT_EQ_I64(((int32_t *)data)[3], 9);
    free(data);
    ASSERT_OK(ga_npy_load_index(scratch_path("i64.npy"), &data, &count, &t));
    EXPECT_EQ_I64(t, GA_INDEX_INT64);
    EXPECT_EQ_I64(((int64_t *)data)[3], 1ll << 40);
    free(data);
    scratch_remove();
}

TEST(load_index_rejects_float_and_multidimensional_arrays) {
    scratch_make();
    int64_t s1[1] = {4}, s2[2] = {2, 2};
    float f[4] = {0, 1, 2, 3};
    int64_t v[4] = {0, 1, 2, 3};
    ASSERT_OK(ga_npy_save(scratch_path("f.npy"), GA_NPY_F32, 1, s1, f));
    ASSERT_OK(ga_npy_save(scratch_path("m.npy"), GA_NPY_I64, 2, s2, v));
    void *data = (void *)1;
    int64_t count;
    ga_index_type t;
    EXPECT_STATUS(ga_npy_load_index(scratch_path("f.npy"), &data, &count, &t), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("int32 or int64");
    EXPECT_TRUE(data == NULL);
    EXPECT_STATUS(ga_npy_load_index(scratch_path("m.npy"), &data, &count, &t), GA_ERR_FILE_FORMAT);
    EXPECT_DETAIL_HAS("1-D");
    scratch_remove();
}
