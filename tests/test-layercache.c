/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tap-skip.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "base/cachemac.h"
#include "image/layercache.h"

#define FORMAT "gzip-6-zlibX-v1"
#define KEY    "0123456789abcdef0123456789abcdef"

/* Writes text to path sealed the way layercache_put seals an entry. */
static void write_sealed(const char *path, const char *text)
{
        assert_int_equal(cachemac_write(path, "layer", FORMAT "/" KEY, text, strlen(text)), 0);
}

static char *make_tmpdir(const char *parent)
{
        char *d = NULL;
        assert_true(asprintf(&d, "%s/cairn-test-layercache-XXXXXX", parent) > 0);
        assert_non_null(mkdtemp(d));
        return d;
}

static char *path_join(const char *dir, const char *name)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

static void write_file(const char *path, const char *content)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, content, strlen(content)), 0);
}

static char *read_file(const char *path)
{
        char *buf = NULL;
        size_t len = 0;
        assert_int_equal(read_file_bounded(path, 1 << 20, &buf, &len), 0);
        return buf;
}

static ino_t inode_of(const char *path)
{
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        return st.st_ino;
}

/* The entry for a blob holding content, compressed from a tar called tar_name. */
static struct layercache_entry entry_for(const char *content, const char *tar_name)
{
        struct layercache_entry e = { .size = strlen(content) };
        char hex[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, content, strlen(content), hex);
        snprintf(e.digest, sizeof(e.digest), "sha256:%s", hex);
        digest_buf_hex(DIGEST_SHA256, tar_name, strlen(tar_name), hex);
        snprintf(e.diff_id, sizeof(e.diff_id), "sha256:%s", hex);
        return e;
}

static char *cached_blob(const char *cache, const struct layercache_entry *e)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s/layers/blobs/sha256/%s", cache, e->digest + 7) > 0);
        return p;
}

static size_t count_temps(const char *cache)
{
        _cleanup_free_ char *dir = path_join(cache, "layers");
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (startswith(de->d_name, ".tmp-"))
                        n++;
        closedir(d);
        return n;
}

static void test_put_lookup_get(void **state)
{
        (void)state;
        _cleanup_free_ char *cache = make_tmpdir("/tmp"), *out = make_tmpdir("/tmp");
        _cleanup_free_ char *src = path_join(out, "src"), *dst = path_join(out, "dst");
        _cleanup_(layercache_freep) struct layercache *c = NULL;
        assert_int_equal(layercache_open(cache, FORMAT, &c), 0);
        struct layercache_entry e = entry_for("compressed bytes", "tar"), got;
        assert_int_equal(layercache_lookup(c, KEY, &got), -ENOENT);

        write_file(src, "compressed bytes");
        assert_int_equal(layercache_put(c, KEY, &e, src), 0);
        assert_int_equal(count_temps(cache), 0);
        /* Again: the cached blob is replaced by a new copy; no temporary file stays behind. */
        assert_int_equal(layercache_put(c, KEY, &e, src), 0);
        assert_int_equal(count_temps(cache), 0);
        _cleanup_free_ char *entry_path = path_join(cache, "layers/" FORMAT "/" KEY);
        _cleanup_free_ char *line = read_file(entry_path), *want = NULL;
        assert_true(asprintf(&want, "%s %s 16\n", e.diff_id, e.digest) > 0);
        /* The line, then the seal. */
        assert_int_equal(strlen(line), strlen(want) + CACHEMAC_TRAILER_LEN);
        assert_memory_equal(line, want, strlen(want));
        assert_true(strncmp(line + strlen(want), "cairn-mac 1 ", 12) == 0);

        assert_int_equal(layercache_lookup(c, KEY, &got), 0);
        assert_string_equal(got.diff_id, e.diff_id);
        assert_string_equal(got.digest, e.digest);
        assert_int_equal(got.size, 16);

        /* Copies, never links: the source, the cache and the output have an inode each. */
        assert_int_equal(layercache_get(c, &got, dst), 0);
        _cleanup_free_ char *text = read_file(dst), *blob = cached_blob(cache, &e);
        assert_string_equal(text, "compressed bytes");
        assert_true(inode_of(dst) != inode_of(blob) && inode_of(src) != inode_of(blob) &&
                    inode_of(src) != inode_of(dst));

        /* A file already at the destination is left alone. */
        assert_int_equal(unlink(dst), 0);
        write_file(dst, "something else");
        assert_int_equal(layercache_get(c, &got, dst), -EEXIST);
        free(text);
        text = read_file(dst);
        assert_string_equal(text, "something else");

        /* Another format sees none of it. */
        _cleanup_(layercache_freep) struct layercache *other = NULL;
        assert_int_equal(layercache_open(cache, "zstd-3-zstdX-v1", &other), 0);
        assert_int_equal(layercache_lookup(other, KEY, &got), -ENOENT);
        assert_int_equal(rm_rf(cache), 0);
        assert_int_equal(rm_rf(out), 0);
}

static void test_bad_names_refused(void **state)
{
        (void)state;
        struct layercache *c = NULL;
        assert_int_equal(layercache_open("/tmp", "", &c), -EINVAL);
        assert_int_equal(layercache_open("/tmp", "a/b", &c), -EINVAL);
        assert_int_equal(layercache_open("/tmp", "..", &c), -EINVAL);
        assert_int_equal(layercache_open("/tmp", ".tmp-1-x", &c), -EINVAL);
        assert_int_equal(layercache_open("/tmp", "blobs", &c), -EINVAL);
        assert_null(c);
        _cleanup_(layercache_freep) struct layercache *ok = NULL;
        assert_int_equal(layercache_open("/nonexistent", FORMAT, &ok), 0);
        struct layercache_entry e;
        assert_int_equal(layercache_lookup(ok, "../x", &e), -EINVAL);
        assert_int_equal(layercache_lookup(ok, "", &e), -EINVAL);
        assert_int_equal(layercache_lookup(ok, "ABC", &e), -EINVAL);
        assert_int_equal(layercache_lookup(ok, KEY, &e), -ENOENT);
}

static void test_malformed_entries_miss(void **state)
{
        (void)state;
        _cleanup_free_ char *cache = make_tmpdir("/tmp");
        _cleanup_(layercache_freep) struct layercache *c = NULL;
        assert_int_equal(layercache_open(cache, FORMAT, &c), 0);
        _cleanup_free_ char *dir = path_join(cache, "layers/" FORMAT);
        assert_int_equal(mkdir_p(dir, 0755), 0);
        struct layercache_entry e = entry_for("blob", "tar"), got;
        char good[256];
        snprintf(good, sizeof(good), "%s %s 4\n", e.diff_id, e.digest);
        _cleanup_free_ char *path = path_join(dir, KEY);
        write_sealed(path, good);
        assert_int_equal(layercache_lookup(c, KEY, &got), 0);
        /* The same line unsealed, or sealed for another key, is somebody else's claim. */
        write_file(path, good);
        assert_int_equal(layercache_lookup(c, KEY, &got), -ENOENT);
        assert_int_equal(cachemac_write(path, "layer", FORMAT "/1" KEY, good, strlen(good)), 0);
        assert_int_equal(layercache_lookup(c, KEY, &got), -ENOENT);

        char bad[6][256];
        snprintf(bad[0], sizeof(bad[0]), "%s %s 4", e.diff_id, e.digest);  /* no newline */
        snprintf(bad[1], sizeof(bad[1]), "%s %s \n", e.diff_id, e.digest); /* no size */
        snprintf(bad[2], sizeof(bad[2]), "%s %s 4x\n", e.diff_id, e.digest);
        snprintf(bad[3], sizeof(bad[3]), "%s %.70s 4\n", e.diff_id, e.digest); /* short */
        snprintf(bad[4], sizeof(bad[4]), "%s sha256:%.63sG 4\n", e.diff_id, e.digest + 7);
        snprintf(bad[5], sizeof(bad[5]), "%s %s 99999999999999999999999\n", e.diff_id, e.digest);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                write_sealed(path, bad[i]);
                assert_int_equal(layercache_lookup(c, KEY, &got), -ENOENT);
        }
        write_file(path, "");
        assert_int_equal(layercache_lookup(c, KEY, &got), -ENOENT);
        assert_int_equal(rm_rf(cache), 0);
}

static void test_corrupt_blob_refused(void **state)
{
        (void)state;
        _cleanup_free_ char *cache = make_tmpdir("/tmp"), *out = make_tmpdir("/tmp");
        _cleanup_free_ char *src = path_join(out, "src"), *dst = path_join(out, "dst");
        _cleanup_(layercache_freep) struct layercache *c = NULL;
        assert_int_equal(layercache_open(cache, FORMAT, &c), 0);
        struct layercache_entry e = entry_for("compressed bytes", "tar");
        write_file(src, "compressed bytes");
        assert_int_equal(layercache_put(c, KEY, &e, src), 0);
        _cleanup_free_ char *blob = cached_blob(cache, &e);

        /* One byte flipped, same size. The output is not left behind. */
        assert_int_equal(unlink(blob), 0);
        write_file(blob, "compressed bytez");
        assert_int_equal(layercache_get(c, &e, dst), -EBADMSG);
        assert_int_equal(access(dst, F_OK), -1);
        /* Truncated. */
        assert_int_equal(truncate(blob, 10), 0);
        assert_int_equal(layercache_get(c, &e, dst), -EBADMSG);
        assert_int_equal(access(dst, F_OK), -1);
        /* Missing. */
        assert_int_equal(unlink(blob), 0);
        assert_int_equal(layercache_get(c, &e, dst), -EBADMSG);
        assert_int_equal(access(dst, F_OK), -1);
        /* An entry whose size is wrong for a good blob. */
        assert_int_equal(layercache_put(c, KEY, &e, src), 0);
        struct layercache_entry wrong = e;
        wrong.size++;
        assert_int_equal(layercache_get(c, &wrong, dst), -EBADMSG);
        assert_int_equal(access(dst, F_OK), -1);
        /* put replaced the broken blob: good again. */
        assert_int_equal(layercache_get(c, &e, dst), 0);
        assert_int_equal(count_temps(cache), 0);
        assert_int_equal(rm_rf(cache), 0);
        assert_int_equal(rm_rf(out), 0);
}

/* Where hard links cannot reach, blobs are copied both ways, and still checked. */
static void test_other_filesystem_copies(void **state)
{
        (void)state;
        struct stat a, b;
        if (stat("/tmp", &a) < 0 || stat("/dev/shm", &b) < 0 || a.st_dev == b.st_dev) {
                skip();
                return;
        }
        _cleanup_free_ char *cache = make_tmpdir("/dev/shm"), *out = make_tmpdir("/tmp");
        _cleanup_free_ char *src = path_join(out, "src"), *dst = path_join(out, "dst");
        _cleanup_(layercache_freep) struct layercache *c = NULL;
        assert_int_equal(layercache_open(cache, FORMAT, &c), 0);
        struct layercache_entry e = entry_for("compressed bytes", "tar");
        write_file(src, "compressed bytes");
        assert_int_equal(layercache_put(c, KEY, &e, src), 0);
        _cleanup_free_ char *blob = cached_blob(cache, &e);
        _cleanup_free_ char *copy = read_file(blob);
        assert_string_equal(copy, "compressed bytes");
        assert_int_equal(layercache_get(c, &e, dst), 0);
        _cleanup_free_ char *text = read_file(dst);
        assert_string_equal(text, "compressed bytes");
        assert_int_equal(unlink(dst), 0);
        assert_int_equal(truncate(blob, 3), 0);
        assert_int_equal(layercache_get(c, &e, dst), -EBADMSG);
        assert_int_equal(access(dst, F_OK), -1);
        assert_int_equal(count_temps(cache), 0);
        assert_int_equal(rm_rf(cache), 0);
        assert_int_equal(rm_rf(out), 0);
}

/* A cache that cannot be written to fails put cleanly and keeps nothing. */
static void test_put_failure_leaves_nothing(void **state)
{
        (void)state;
        _cleanup_free_ char *cache = make_tmpdir("/tmp"), *out = make_tmpdir("/tmp");
        _cleanup_free_ char *src = path_join(out, "src");
        _cleanup_(layercache_freep) struct layercache *c = NULL;
        assert_int_equal(layercache_open(cache, FORMAT, &c), 0);
        struct layercache_entry e = entry_for("compressed bytes", "tar"), got;
        /* The source is missing: no blob to store. */
        assert_true(layercache_put(c, KEY, &e, src) < 0);
        assert_int_equal(layercache_lookup(c, KEY, &got), -ENOENT);
        assert_int_equal(count_temps(cache), 0);
        /* Invalid entries are refused before anything is written. */
        write_file(src, "compressed bytes");
        struct layercache_entry bad = e;
        bad.digest[0] = 'S';
        assert_int_equal(layercache_put(c, KEY, &bad, src), -EINVAL);
        assert_int_equal(layercache_put(c, "../" KEY, &e, src), -EINVAL);
        assert_int_equal(count_temps(cache), 0);
        assert_int_equal(rm_rf(cache), 0);
        assert_int_equal(rm_rf(out), 0);
}

int main(void)
{
        tap_skips_fix(); /* skip() below is a TAP skip, not a failure */
        /* A key of this test's own, never the user's. */
        char key[64];
        snprintf(key, sizeof(key), "/tmp/cairn-test-layercache-key-%d", (int)getpid());
        setenv("CAIRN_CACHE_KEY", key, 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_put_lookup_get),
                cmocka_unit_test(test_bad_names_refused),
                cmocka_unit_test(test_malformed_entries_miss),
                cmocka_unit_test(test_corrupt_blob_refused),
                cmocka_unit_test(test_other_filesystem_copies),
                cmocka_unit_test(test_put_failure_leaves_nothing),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        (void)unlink(key);
        return r;
}
