/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tap-skip.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "image/tarwriter.h"

#define EPOCH 1700000000 /* 2023-11-14 22:13:20 UTC */

struct fixture {
        char *dir;
        struct store *store;
        struct tree *tree;
};

static void put(struct fixture *fx, const struct tree_entry *e)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(tree_insert(fx->tree, e, TREE_INSERT_REPLACE, &err), 0);
}

static void put_file(struct fixture *fx, const char *path, const char *content, uint32_t mode,
                     uint32_t uid, uint32_t gid)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct tree_entry e = { .path = (char *)path,
                                .type = TREE_REG,
                                .mode = mode,
                                .uid = uid,
                                .gid = gid,
                                .size = strlen(content) };
        assert_int_equal(store_put_buf(fx->store, content, strlen(content), &e.key, &err), 0);
        put(fx, &e);
}

/* A tree with one entry of every kind tar can hold, inserted out of order. */
static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));
        assert_non_null(fx);
        fx->dir = strdup("/tmp/cairn-test-tarwriter-XXXXXX");
        assert_non_null(mkdtemp(fx->dir));
        _cleanup_free_ char *objects = NULL;
        assert_true(asprintf(&objects, "%s/objects", fx->dir) > 0);
        assert_int_equal(store_open(objects, &fx->store, NULL), 0);
        assert_int_equal(tree_new(&fx->tree), 0);
        put_file(fx, "/srv/data/b.txt", "beta\n", 0644, 0, 0);
        put_file(fx, "/etc/app.conf", "answer = 42\n", 0640, 0, 65532);
        put(fx, &(struct tree_entry){ .path = "/tmp", .type = TREE_DIR, .mode = 01777 });
        put(fx, &(struct tree_entry){ .path = "/srv/data/link",
                                      .type = TREE_SYMLINK,
                                      .mode = 0777,
                                      .target = "b.txt" });
        put(fx, &(struct tree_entry){ .path = "/srv/data/hard",
                                      .type = TREE_HARDLINK,
                                      .mode = 0644,
                                      .target = "/srv/data/b.txt" });
        put(fx, &(struct tree_entry){ .path = "/dev/null",
                                      .type = TREE_CHR,
                                      .mode = 0666,
                                      .dev_major = 1,
                                      .dev_minor = 3 });
        put(fx, &(struct tree_entry){ .path = "/run/fifo", .type = TREE_FIFO, .mode = 0600 });
        put(fx,
            &(struct tree_entry){
                    .path = "/srv/data-x", .type = TREE_DIR, .mode = 0750, .uid = 7, .gid = 8 });
        put_file(fx, "/usr/bin/app",
                 "\x7f"
                 "ELF",
                 04755, 0, 0);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;
        tree_free(fx->tree);
        store_free(fx->store);
        assert_int_equal(rm_rf(fx->dir), 0);
        free(fx->dir);
        free(fx);
        return 0;
}

/* Writes the tar of p into DIR/name; returns its path. */
static char *write_to_file(struct fixture *fx, const struct tar_plan *p, const char *name,
                           const enum compress_alg *alg, struct tar_result *res)
{
        char *path = NULL;
        assert_true(asprintf(&path, "%s/%s", fx->dir, name) > 0);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(tar_write(p, fx->store, EPOCH, fd, alg, res, &err), 0);
        return path;
}

static char *file_sha256(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        char hex[DIGEST_HEX_MAX], *s = NULL;
        assert_int_equal(digest_fd_hex(DIGEST_SHA256, fd, hex), 0);
        assert_true(asprintf(&s, "sha256:%s", hex) > 0);
        return s;
}

static off_t file_size(const char *path)
{
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        return st.st_size;
}

static void test_entries_in_order_with_fixed_metadata(void **state)
{
        struct fixture *fx = *state;
        _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
        assert_int_equal(tar_plan_tree(&p, fx->tree), 0);
        struct tar_result res;
        _cleanup_free_ char *path = write_to_file(fx, &p, "all.tar", NULL, &res);

        /* Read back: byte order of the full path (so "srv/data-x" before "srv/data/b.txt"),
         * parents first, no "/" and no "./". */
        static const char *const names[] = {
                "dev/",        "dev/null",       "etc/",          "etc/app.conf",
                "run/",        "run/fifo",       "srv/",          "srv/data/",
                "srv/data-x/", "srv/data/b.txt", "srv/data/hard", "srv/data/link",
                "tmp/",        "usr/",           "usr/bin/",      "usr/bin/app",
        };
        struct archive *a = archive_read_new();
        assert_non_null(a);
        archive_read_support_format_tar(a);
        assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
        struct archive_entry *ae;
        size_t i = 0;
        while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
                assert_true(i < ELEMENTSOF(names));
                const char *name = archive_entry_pathname(ae);
                size_t len = strlen(name);
                /* libarchive strips a directory's trailing slash on read in some versions. */
                assert_true(strncmp(name, names[i], len) == 0 &&
                            (names[i][len] == '\0' || streq(names[i] + len, "/")));
                assert_int_equal(archive_entry_mtime(ae), EPOCH);
                assert_int_equal(archive_entry_mtime_nsec(ae), 0);
                assert_false(archive_entry_atime_is_set(ae));
                assert_false(archive_entry_ctime_is_set(ae));
                assert_false(archive_entry_birthtime_is_set(ae));
                assert_true(!archive_entry_uname(ae) || !*archive_entry_uname(ae));
                assert_true(!archive_entry_gname(ae) || !*archive_entry_gname(ae));
                assert_int_equal(archive_entry_xattr_count(ae), 0);
                if (streq(name, "etc/app.conf")) {
                        assert_int_equal(archive_entry_perm(ae), 0640);
                        assert_int_equal(archive_entry_gid(ae), 65532);
                        assert_int_equal(archive_entry_size(ae), 12);
                }
                if (streq(name, "usr/bin/app"))
                        assert_int_equal(archive_entry_perm(ae), 04755);
                if (startswith(name, "tmp"))
                        assert_int_equal(archive_entry_perm(ae), 01777);
                if (streq(name, "srv/data/hard")) {
                        assert_string_equal(archive_entry_hardlink(ae), "srv/data/b.txt");
                        assert_int_equal(archive_entry_size(ae), 0);
                }
                if (streq(name, "srv/data/link"))
                        assert_string_equal(archive_entry_symlink(ae), "b.txt");
                if (streq(name, "dev/null")) {
                        assert_int_equal(archive_entry_filetype(ae), AE_IFCHR);
                        assert_int_equal(archive_entry_rdevmajor(ae), 1);
                        assert_int_equal(archive_entry_rdevminor(ae), 3);
                }
                i++;
        }
        assert_int_equal(i, ELEMENTSOF(names));
        /* Short names and small ids: plain ustar headers, no pax extended header. */
        assert_int_equal(archive_format(a), ARCHIVE_FORMAT_TAR_USTAR);
        archive_read_free(a);

        /* The last block is not padded to a full record: the size is the entries' and two
         * zero blocks, whatever the output is. */
        assert_int_equal(file_size(path) % 512, 0);
        assert_int_equal((uint64_t)file_size(path), res.tar_size);
        assert_true(file_size(path) < 10240 * 3);
        /* uname and gname are empty in every header: 32 zero bytes each at 265 and 297. */
        _cleanup_free_ char *bytes = NULL;
        size_t len;
        assert_int_equal(read_file_bounded(path, 1 << 20, &bytes, &len), 0);
        static const char zeros[64];
        assert_memory_equal(bytes + 265, zeros, 64);
        assert_memory_equal(bytes + 257,
                            "ustar\0"
                            "00",
                            8);
        _cleanup_free_ char *sha = file_sha256(path);
        assert_string_equal(res.diff_id, sha);
        assert_string_equal(res.digest, "");
        assert_int_equal(res.size, 0);
        assert_int_equal(p.n, ELEMENTSOF(names));
}

/* GNU tar, as a consumer, lists exactly what cairn meant. */
static void test_gnu_tar_lists_it(void **state)
{
        struct fixture *fx = *state;
        if (system("tar --version 2>/dev/null | grep -q 'GNU tar'") != 0)
                skip();
        _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
        assert_int_equal(tar_plan_tree(&p, fx->tree), 0);
        struct tar_result res;
        _cleanup_free_ char *path = write_to_file(fx, &p, "gnu.tar", NULL, &res), *cmd = NULL;
        assert_true(asprintf(&cmd,
                             "TZ=UTC LC_ALL=C tar --numeric-owner --full-time -tvf '%s' | "
                             "awk '{$3 = \"\"; print}'",
                             path) > 0);
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        _cleanup_free_ char *out = calloc(1, 8192);
        assert_non_null(out);
        size_t len = fread(out, 1, 8191, f);
        assert_int_equal(pclose(f), 0);
        out[len] = '\0';
        /* Mode, owner, date and name; the size column ($3: a size, or a device's major,minor)
         * is dropped as GNU tar pads it. */
        assert_string_equal(out, "drwxr-xr-x 0/0  2023-11-14 22:13:20 dev/\n"
                                 "crw-rw-rw- 0/0  2023-11-14 22:13:20 dev/null\n"
                                 "drwxr-xr-x 0/0  2023-11-14 22:13:20 etc/\n"
                                 "-rw-r----- 0/65532  2023-11-14 22:13:20 etc/app.conf\n"
                                 "drwxr-xr-x 0/0  2023-11-14 22:13:20 run/\n"
                                 "prw------- 0/0  2023-11-14 22:13:20 run/fifo\n"
                                 "drwxr-xr-x 0/0  2023-11-14 22:13:20 srv/\n"
                                 "drwxr-xr-x 0/0  2023-11-14 22:13:20 srv/data/\n"
                                 "drwxr-x--- 7/8  2023-11-14 22:13:20 srv/data-x/\n"
                                 "-rw-r--r-- 0/0  2023-11-14 22:13:20 srv/data/b.txt\n"
                                 "hrw-r--r-- 0/0  2023-11-14 22:13:20 srv/data/hard link to "
                                 "srv/data/b.txt\n"
                                 "lrwxrwxrwx 0/0  2023-11-14 22:13:20 srv/data/link -> b.txt\n"
                                 "drwxrwxrwt 0/0  2023-11-14 22:13:20 tmp/\n"
                                 "drwxr-xr-x 0/0  2023-11-14 22:13:20 usr/\n"
                                 "drwxr-xr-x 0/0  2023-11-14 22:13:20 usr/bin/\n"
                                 "-rwsr-xr-x 0/0  2023-11-14 22:13:20 usr/bin/app\n");
}

/* The same plan gives the same bytes: twice to a file, once only hashed, and compressed (the
 * diff_id is the uncompressed tar's, the digest the compressed bytes'). */
static void test_same_bytes_every_time(void **state)
{
        struct fixture *fx = *state;
        _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
        assert_int_equal(tar_plan_tree(&p, fx->tree), 0);
        struct tar_result r1, r2, r3, rz;
        _cleanup_free_ char *p1 = write_to_file(fx, &p, "1.tar", NULL, &r1);
        _cleanup_free_ char *p2 = write_to_file(fx, &p, "2.tar", NULL, &r2);
        _cleanup_free_ char *b1 = NULL, *b2 = NULL;
        size_t l1, l2;
        assert_int_equal(read_file_bounded(p1, 1 << 20, &b1, &l1), 0);
        assert_int_equal(read_file_bounded(p2, 1 << 20, &b2, &l2), 0);
        assert_int_equal(l1, l2);
        assert_memory_equal(b1, b2, l1);
        assert_string_equal(r1.diff_id, r2.diff_id);

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(tar_write(&p, fx->store, EPOCH, -1, NULL, &r3, &err), 0);
        assert_string_equal(r3.diff_id, r1.diff_id);
        assert_int_equal(r3.tar_size, r1.tar_size);

        const enum compress_alg gz = COMPRESS_GZIP;
        _cleanup_free_ char *pz = write_to_file(fx, &p, "1.tar.gz", &gz, &rz);
        _cleanup_free_ char *zsha = file_sha256(pz);
        assert_string_equal(rz.diff_id, r1.diff_id);
        assert_int_equal(rz.tar_size, r1.tar_size);
        assert_string_equal(rz.digest, zsha);
        assert_int_equal((uint64_t)file_size(pz), rz.size);

        /* A different epoch is a different tar, and a different key. */
        struct tar_result r4;
        assert_int_equal(tar_write(&p, fx->store, EPOCH + 1, -1, NULL, &r4, &err), 0);
        assert_string_not_equal(r4.diff_id, r1.diff_id);
        char k1[STORE_KEY_HEX_LEN + 1], k2[STORE_KEY_HEX_LEN + 1], k3[STORE_KEY_HEX_LEN + 1];
        assert_int_equal(tar_plan_key(&p, EPOCH, k1), 0);
        assert_int_equal(tar_plan_key(&p, EPOCH, k2), 0);
        assert_int_equal(tar_plan_key(&p, EPOCH + 1, k3), 0);
        assert_string_equal(k1, k2);
        assert_string_not_equal(k1, k3);
        assert_int_equal(strlen(k1), STORE_KEY_HEX_LEN);
}

/* A whiteout is an empty 0644 file owned by 0:0; items are written in the plan's order, which
 * tar_plan_sort makes byte order. */
static void test_whiteouts_and_sorting(void **state)
{
        struct fixture *fx = *state;
        _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
        assert_int_equal(
                tar_plan_add(&p, "/srv/data/b.txt", tree_lookup(fx->tree, "/srv/data/b.txt")), 0);
        char *wh = strdup("/srv/data/.wh.gone");
        assert_non_null(wh);
        assert_int_equal(tar_plan_add_owned(&p, wh, NULL), 0);
        assert_int_equal(tar_plan_add(&p, "/srv", tree_lookup(fx->tree, "/srv")), 0);
        assert_int_equal(tar_plan_add(&p, "/srv/data", tree_lookup(fx->tree, "/srv/data")), 0);
        tar_plan_sort(&p);
        assert_string_equal(p.items[0].path, "/srv");
        assert_string_equal(p.items[1].path, "/srv/data");
        assert_string_equal(p.items[2].path, "/srv/data/.wh.gone");
        assert_string_equal(p.items[3].path, "/srv/data/b.txt");

        struct tar_result res;
        _cleanup_free_ char *path = write_to_file(fx, &p, "wh.tar", NULL, &res);
        struct archive *a = archive_read_new();
        assert_non_null(a);
        archive_read_support_format_tar(a);
        assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
        struct archive_entry *ae;
        size_t n = 0;
        while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
                n++;
                if (!streq(archive_entry_pathname(ae), "srv/data/.wh.gone"))
                        continue;
                assert_int_equal(archive_entry_filetype(ae), AE_IFREG);
                assert_int_equal(archive_entry_perm(ae), 0644);
                assert_int_equal(archive_entry_size(ae), 0);
                assert_int_equal(archive_entry_uid(ae), 0);
                assert_int_equal(archive_entry_gid(ae), 0);
                assert_int_equal(archive_entry_mtime(ae), EPOCH);
        }
        assert_int_equal(n, 4);
        archive_read_free(a);

        /* Whiteouts count in the cache key. */
        char k1[STORE_KEY_HEX_LEN + 1], k2[STORE_KEY_HEX_LEN + 1];
        assert_int_equal(tar_plan_key(&p, EPOCH, k1), 0);
        p.n--;
        assert_int_equal(tar_plan_key(&p, EPOCH, k2), 0);
        assert_string_not_equal(k1, k2);
}

/* Names are written byte for byte: a long one gets a pax header (restricted pax: only the
 * path, no times), one that is not UTF-8 in the C locale stays as it is. */
static void test_long_and_binary_names(void **state)
{
        struct fixture *fx = *state;
        char long_name[300] = "/srv/";
        memset(long_name + 5, 'n', 200);
        long_name[205] = '\0';
        put_file(fx, long_name, "x", 0644, 0, 0);
        put_file(fx, "/srv/caf\xc3\xa9", "y", 0644, 0, 0);
        put_file(fx, "/srv/bad\xff", "z", 0644, 0, 0);
        put_file(fx, "/srv/bigid", "w", 0644, 4000000000u, 0);
        _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
        assert_int_equal(tar_plan_add(&p, long_name, tree_lookup(fx->tree, long_name)), 0);
        assert_int_equal(
                tar_plan_add(&p, "/srv/caf\xc3\xa9", tree_lookup(fx->tree, "/srv/caf\xc3\xa9")), 0);
        assert_int_equal(tar_plan_add(&p, "/srv/bad\xff", tree_lookup(fx->tree, "/srv/bad\xff")),
                         0);
        assert_int_equal(tar_plan_add(&p, "/srv/bigid", tree_lookup(fx->tree, "/srv/bigid")), 0);
        struct tar_result res;
        _cleanup_free_ char *path = write_to_file(fx, &p, "names.tar", NULL, &res), *buf = NULL;
        size_t len;
        assert_int_equal(read_file_bounded(path, 1 << 20, &buf, &len), 0);
        /* The first header is a pax 'x' header holding the path and nothing about time. */
        assert_int_equal(buf[156], 'x');
        assert_non_null(memmem(buf, 1024, " path=srv/nnnn", 14));
        assert_null(memmem(buf, len, "atime=", 6));
        assert_null(memmem(buf, len, "ctime=", 6));
        assert_null(memmem(buf, len, "LIBARCHIVE.", 11));
        assert_non_null(memmem(buf, len, "caf\xc3\xa9", 5));
        assert_non_null(memmem(buf, len, "bad\xff", 4));
        assert_non_null(memmem(buf, len, " uid=4000000000\n", 16));

        struct archive *a = archive_read_new();
        assert_non_null(a);
        archive_read_support_format_tar(a);
        assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
        struct archive_entry *ae;
        assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_OK);
        assert_string_equal(archive_entry_pathname(ae), long_name + 1);
        archive_read_free(a);
}

/* What the tar cannot hold, or the store does not have, is an error naming the entry. */
static void test_errors_name_the_entry(void **state)
{
        struct fixture *fx = *state;
        put(fx, &(struct tree_entry){ .path = "/run/sock", .type = TREE_SOCK, .mode = 0600 });
        _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
        assert_int_equal(tar_plan_add(&p, "/run/sock", tree_lookup(fx->tree, "/run/sock")), 0);
        struct tar_result res = { .tar_size = 42 };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(tar_write(&p, fx->store, EPOCH, -1, NULL, &res, &err), -EINVAL);
        assert_string_equal(err.messages[0], "/run/sock: sockets cannot be stored in a tar");
        assert_int_equal(res.tar_size, 42);

        struct tree_entry ghost = { .path = "/ghost", .type = TREE_REG, .mode = 0644, .size = 3 };
        memset(ghost.key.bytes, 0xee, sizeof(ghost.key.bytes));
        tar_plan_clear(&p);
        assert_int_equal(tar_plan_add(&p, "/ghost", &ghost), 0);
        cairn_error_clear(&err);
        assert_true(tar_write(&p, fx->store, EPOCH, -1, NULL, &res, &err) < 0);
        assert_non_null(strstr(err.messages[0], "/ghost: content missing from the store"));
}

int main(void)
{
        tap_skips_fix(); /* skip() below is a TAP skip, not a failure */
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_entries_in_order_with_fixed_metadata, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_gnu_tar_lists_it, setup, teardown),
                cmocka_unit_test_setup_teardown(test_same_bytes_every_time, setup, teardown),
                cmocka_unit_test_setup_teardown(test_whiteouts_and_sorting, setup, teardown),
                cmocka_unit_test_setup_teardown(test_long_and_binary_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_errors_name_the_entry, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
