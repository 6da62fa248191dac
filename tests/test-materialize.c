/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "tree/materialize.h"

struct fixture {
        char *tmp, *root;
        struct store *store;
        struct tree *tree;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->tmp = strdup("/tmp/cairn-test-materialize-XXXXXX");
        assert_non_null(mkdtemp(f->tmp));
        assert_true(asprintf(&f->root, "%s/root", f->tmp) > 0);
        assert_int_equal(mkdir(f->root, 0700), 0);
        _cleanup_free_ char *sd = NULL;
        assert_true(asprintf(&sd, "%s/store", f->tmp) > 0);
        assert_int_equal(store_open(sd, &f->store, NULL), 0);
        assert_int_equal(tree_new(&f->tree), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        tree_free(f->tree);
        store_free(f->store);
        assert_int_equal(rm_rf(f->tmp), 0);
        free(f->tmp);
        free(f->root);
        free(f);
        return 0;
}

static void add(struct fixture *f, const char *path, enum tree_type type, uint32_t mode,
                uint32_t uid, const char *content_or_target)
{
        struct tree_entry e = {
                .path = (char *)path, .type = type, .mode = mode, .uid = uid, .gid = uid + 1
        };
        if (type == TREE_REG) {
                assert_int_equal(store_put_buf(f->store, content_or_target,
                                               strlen(content_or_target), &e.key, NULL),
                                 0);
                e.size = strlen(content_or_target);
        } else
                e.target = (char *)content_or_target;
        assert_int_equal(tree_insert(f->tree, &e, TREE_INSERT_REPLACE, NULL), 0);
}

static struct stat lstat_in(const struct fixture *f, const char *path)
{
        _cleanup_free_ char *full = NULL;
        assert_true(asprintf(&full, "%s%s", f->root, path) > 0);
        struct stat st;
        assert_int_equal(lstat(full, &st), 0);
        return st;
}

static void test_writes_every_kind(void **state)
{
        struct fixture *f = *state;
        add(f, "/", TREE_DIR, 0755, 0, NULL);
        add(f, "/bin", TREE_DIR, 0555, 0, NULL); /* read-only dir: filled before its mode */
        add(f, "/bin/tool", TREE_REG, 04755, 0, "#!/bin/true\n");
        add(f, "/bin/tool2", TREE_HARDLINK, 0, 0, "/bin/tool");
        add(f, "/etc/conf", TREE_REG, 0640, 10, "x=1\n");
        add(f, "/etc/escape", TREE_SYMLINK, 0777, 0, "../../../../etc/passwd");
        add(f, "/tmp", TREE_DIR, 01777, 0, NULL);
        struct tree_entry dev = {
                .path = "/dev/null", .type = TREE_CHR, .mode = 0666, .dev_major = 1, .dev_minor = 3
        };
        assert_int_equal(tree_insert(f->tree, &dev, 0, NULL), 0);

        unsigned flags = geteuid() == 0 ? 0 : MATERIALIZE_NO_CHOWN;
        struct materialize_stats st;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(materialize_tree(f->tree, f->store, 1700000000, f->root, flags, &st, &err),
                         0);
        assert_int_equal(st.n_files, 2);
        assert_int_equal(st.n_hardlinks, 1);
        assert_int_equal(st.n_symlinks, 1);
        assert_int_equal(st.n_skipped, 1);

        struct stat s = lstat_in(f, "/bin");
        assert_int_equal(s.st_mode & 07777, 0555);
        assert_int_equal(s.st_mtim.tv_sec, 1700000000);
        s = lstat_in(f, "/bin/tool");
        assert_int_equal(s.st_mode & 07777, 04755);
        assert_int_equal(s.st_nlink, 2);
        assert_int_equal(s.st_mtim.tv_sec, 1700000000);
        s = lstat_in(f, "/etc/conf");
        assert_int_equal(s.st_mode & 07777, 0640);
        if (!flags) {
                assert_int_equal(s.st_uid, 10);
                assert_int_equal(s.st_gid, 11);
        }
        s = lstat_in(f, "/etc/escape");
        assert_true(S_ISLNK(s.st_mode));
        s = lstat_in(f, "/tmp");
        assert_int_equal(s.st_mode & 07777, 01777);
        s = lstat_in(f, "/");
        assert_int_equal(s.st_mode & 07777, 0755);
        assert_int_equal(s.st_mtim.tv_sec, 1700000000);

        _cleanup_free_ char *conf = NULL, *text = NULL;
        size_t len;
        assert_true(asprintf(&conf, "%s/etc/conf", f->root) > 0);
        assert_int_equal(read_file_bounded(conf, 100, &text, &len), 0);
        assert_string_equal(text, "x=1\n");
        _cleanup_free_ char *devnull = NULL;
        assert_true(asprintf(&devnull, "%s/dev/null", f->root) > 0);
        assert_int_equal(access(devnull, F_OK), -1);
}

static void test_open_dir_never_follows_symlinks(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *link = NULL;
        assert_true(asprintf(&link, "%s/link", f->root) > 0);
        assert_int_equal(symlink(f->tmp, link), 0);
        _cleanup_close_ int fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(materialize_open_dir(fd, "link"), -ELOOP);
        assert_int_equal(materialize_open_dir(fd, "link/store"), -ELOOP);
        assert_int_equal(materialize_open_dir(fd, "../root"), -EINVAL);
        int ok = materialize_open_dir(fd, "");
        assert_true(ok >= 0);
        close(ok);
}

static void test_refuses_non_empty_clash(void **state)
{
        struct fixture *f = *state;
        add(f, "/etc/conf", TREE_REG, 0644, 0, "a");
        _cleanup_free_ char *etc = NULL;
        assert_true(asprintf(&etc, "%s/etc", f->root) > 0);
        assert_int_equal(symlink("/", etc), 0); /* planted: must not be written through */
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        int r = materialize_tree(f->tree, f->store, 0, f->root, MATERIALIZE_NO_CHOWN, NULL, &err);
        assert_true(r < 0);
        assert_int_equal(access("/conf", F_OK), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_writes_every_kind, setup, teardown),
                cmocka_unit_test_setup_teardown(test_open_dir_never_follows_symlinks, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_refuses_non_empty_clash, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
