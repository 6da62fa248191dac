/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "tree/store.h"

static char *make_tmpdir(void)
{
        char *d = strdup("/tmp/cairn-test-store-XXXXXX");
        assert_non_null(mkdtemp(d));
        return d;
}

static size_t count_tmp_files(const char *dir)
{
        DIR *d = opendir(dir);
        assert_non_null(d);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (startswith(de->d_name, ".tmp-"))
                        n++;
        closedir(d);
        return n;
}

static void test_put_and_read_back(void **state)
{
        (void)state;
        _cleanup_free_ char *dir = make_tmpdir();
        _cleanup_store_ struct store *s = NULL;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(store_open(dir, &s, &err), 0);

        struct store_key a, b, c;
        assert_int_equal(store_put_buf(s, "hello", 5, &a, &err), 0);
        assert_int_equal(store_put_buf(s, "hello", 5, &b, &err), 0);
        assert_int_equal(store_put_buf(s, "hellp", 5, &c, &err), 0);
        assert_int_equal(store_key_cmp(&a, &b), 0);
        assert_int_not_equal(store_key_cmp(&a, &c), 0);

        _cleanup_close_ int fd = store_open_key(s, &a);
        assert_true(fd >= 0);
        char buf[16] = { 0 };
        assert_int_equal(read(fd, buf, sizeof(buf)), 5);
        assert_string_equal(buf, "hello");
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0444);
        assert_int_equal(count_tmp_files(dir), 0);
        assert_int_equal(rm_rf(dir), 0);
}

static void test_limit_and_abort_leave_nothing(void **state)
{
        (void)state;
        _cleanup_free_ char *dir = make_tmpdir();
        _cleanup_store_ struct store *s = NULL;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(store_open(dir, &s, &err), 0);
        struct store_writer *w = NULL;
        assert_int_equal(store_writer_new(s, 4, &w, &err), 0);
        assert_int_equal(store_writer_write(w, "abc", 3, &err), 0);
        assert_int_equal(store_writer_write(w, "de", 2, &err), -EFBIG);
        assert_int_equal(count_tmp_files(dir), 1);
        store_writer_free(w);
        assert_int_equal(count_tmp_files(dir), 0);
        assert_int_equal(rm_rf(dir), 0);
}

static void test_key_is_location_independent(void **state)
{
        (void)state;
        _cleanup_free_ char *d1 = make_tmpdir(), *d2 = make_tmpdir();
        _cleanup_store_ struct store *s1 = NULL, *s2 = NULL;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(store_open(d1, &s1, &err), 0);
        assert_int_equal(store_open(d2, &s2, &err), 0);
        struct store_key a, b;
        assert_int_equal(store_put_buf(s1, "", 0, &a, &err), 0);
        assert_int_equal(store_put_buf(s2, "", 0, &b, &err), 0);
        assert_int_equal(store_key_cmp(&a, &b), 0);
        char hex[STORE_KEY_HEX_LEN + 1];
        store_key_hex(&a, hex);
        /* XXH3-128 of the empty input, canonical (big-endian) form. */
        assert_string_equal(hex, "99aa06d3014798d86001c324468d497f");
        assert_int_equal(rm_rf(d1), 0);
        assert_int_equal(rm_rf(d2), 0);
}

static void test_object_digests(void **state)
{
        (void)state;
        _cleanup_free_ char *dir = make_tmpdir();
        _cleanup_store_ struct store *s = NULL;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(store_open(dir, &s, &err), 0);
        struct store_key abc;
        assert_int_equal(store_put_buf(s, "abc", 3, &abc, &err), 0);
        char sha1[DIGEST_HEX_MAX], sha256[DIGEST_HEX_MAX];
        for (int round = 0; round < 2; round++) {
                /* The second round comes from the memo: same answer. */
                assert_int_equal(store_object_digests(s, &abc, sha1, sha256), 0);
                assert_string_equal(sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
                assert_string_equal(
                        sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        }
        /* Enough objects to grow the memo's index several times; each keeps its own digests. */
        enum { N = 1500 };
        static struct store_key keys[N];
        for (int i = 0; i < N; i++) {
                char buf[32];
                int len = snprintf(buf, sizeof(buf), "object %d", i);
                assert_int_equal(store_put_buf(s, buf, (size_t)len, &keys[i], &err), 0);
                assert_int_equal(store_object_digests(s, &keys[i], sha1, sha256), 0);
        }
        for (int i = 0; i < N; i += 7) {
                char buf[32], want1[DIGEST_HEX_MAX], want256[DIGEST_HEX_MAX];
                int len = snprintf(buf, sizeof(buf), "object %d", i);
                digest_buf_hex(DIGEST_SHA1, buf, (size_t)len, want1);
                digest_buf_hex(DIGEST_SHA256, buf, (size_t)len, want256);
                assert_int_equal(store_object_digests(s, &keys[i], sha1, sha256), 0);
                assert_string_equal(sha1, want1);
                assert_string_equal(sha256, want256);
        }
        struct store_key missing = { { 1, 2, 3 } };
        assert_int_equal(store_object_digests(s, &missing, sha1, sha256), -ENOENT);
        assert_int_equal(rm_rf(dir), 0);
}

/* Zeros, read from a hole, written as zeros or given as a count, are the same object: same key,
 * same bytes read back; and the object keeps them as holes. */
static void test_sparse_objects(void **state)
{
        (void)state;
        _cleanup_free_ char *dir = make_tmpdir();
        _cleanup_store_ struct store *s = NULL;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(store_open(dir, &s, &err), 0);
        const uint64_t gap = 64u << 20;
        const size_t total = (size_t)gap + 5 + 8192;
        _cleanup_free_ char *path = NULL;
        assert_true(asprintf(&path, "%s/sparse-input", dir) > 0);
        _cleanup_close_ int in = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(in >= 0);
        assert_int_equal(pwrite(in, "head", 4, 0), 4);
        assert_int_equal(pwrite(in, "tail!", 5, (off_t)gap), 5);
        assert_int_equal(ftruncate(in, (off_t)total), 0); /* a trailing hole too */

        struct store_key from_fd, from_buf, from_writer;
        uint64_t size = 0;
        assert_int_equal(lseek(in, 0, SEEK_SET), 0);
        assert_int_equal(store_put_fd(s, in, UINT64_MAX, &from_fd, &size, &err), 0);
        assert_int_equal(size, total);
        _cleanup_free_ char *all = calloc(1, total);
        assert_non_null(all);
        memcpy(all, "head", 4);
        memcpy(all + gap, "tail!", 5);
        assert_int_equal(store_put_buf(s, all, total, &from_buf, &err), 0);
        assert_int_equal(store_key_cmp(&from_fd, &from_buf), 0);

        _cleanup_store_writer_ struct store_writer *w = NULL;
        assert_int_equal(store_writer_new(s, UINT64_MAX, &w, &err), 0);
        assert_int_equal(store_writer_write(w, "head", 4, &err), 0);
        assert_int_equal(store_writer_write_zeros(w, gap - 4, &err), 0);
        assert_int_equal(store_writer_write(w, "tail!", 5, &err), 0);
        assert_int_equal(store_writer_write_zeros(w, 8192, &err), 0);
        assert_int_equal(store_writer_commit(steal_pointer(&w), &from_writer, &size, &err), 0);
        assert_int_equal(store_key_cmp(&from_fd, &from_writer), 0);
        assert_int_equal(size, total);

        _cleanup_close_ int fd = store_open_key(s, &from_fd);
        assert_true(fd >= 0);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal((uint64_t)st.st_size, total);
        struct stat in_st;
        assert_int_equal(fstat(in, &in_st), 0);
        if ((uint64_t)in_st.st_blocks * 512 < gap / 2)               /* a file system with holes */
                assert_true((uint64_t)st.st_blocks * 512 < gap / 2); /* stored as a hole */
        char buf[8];
        assert_int_equal(pread(fd, buf, 5, (off_t)gap), 5);
        assert_memory_equal(buf, "tail!", 5);
        assert_int_equal(pread(fd, buf, 4, 4096), 4);
        assert_memory_equal(buf, "\0\0\0\0", 4);

        /* The limit counts the zeros. */
        assert_int_equal(store_writer_new(s, 100, &w, &err), 0);
        assert_int_equal(store_writer_write_zeros(w, 101, &err), -EFBIG);
        assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_put_and_read_back),
                cmocka_unit_test(test_limit_and_abort_leave_nothing),
                cmocka_unit_test(test_key_is_location_independent),
                cmocka_unit_test(test_object_digests),
                cmocka_unit_test(test_sparse_objects),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
