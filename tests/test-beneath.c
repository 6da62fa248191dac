/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base/beneath.c: the same cases through openat2 (beneath_open) and through the component walk
 * it falls back to (beneath_open_walk), on a tree made here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "base/beneath.h"

typedef int (*open_fn)(int, const char *, int, unsigned);

static char root[] = "/tmp/cairn-test-beneath-XXXXXX";
static int rootfd = -1, ctxfd = -1;

static void mk(const char *rel, const char *content)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void mkdir_rel(const char *rel)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        assert_int_equal(mkdir(p, 0755), 0);
}

static void ln(const char *target, const char *rel)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
        (void)state;
        if (!mkdtemp(root))
                return -1;
        mkdir_rel("ctx");
        mkdir_rel("ctx/sub");
        mkdir_rel("ctx/sub/deep");
        mk("secret", "secret\n");
        mk("ctx/file", "inside\n");
        mk("ctx/sub/deep/f", "deep\n");
        ln("file", "ctx/in");
        ln("../file", "ctx/sub/up");
        ln("sub/deep", "ctx/dlink");
        ln("../secret", "ctx/out");
        ln("../../secret", "ctx/sub/out2");
        ln(root, "ctx/abs");
        ln("/proc/self/environ", "ctx/proc");
        ln("loop2", "ctx/loop1");
        ln("loop1", "ctx/loop2");
        ln("hop", "ctx/chain");
        ln("sub/out2", "ctx/hop");
        rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ctxfd = openat(rootfd, "ctx", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return rootfd >= 0 && ctxfd >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        close(ctxfd);
        close(rootfd);
        (void)rm_rf(root);
        return 0;
}

/* Opens path beneath ctx with fn and returns what it reads, "" for an empty read, or NULL
 * with *ret_err set. */
static const char *read_via(open_fn fn, const char *path, unsigned flags, int *ret_err)
{
        static char buf[64];
        int fd = fn(ctxfd, path, O_RDONLY, flags);
        if (fd < 0) {
                *ret_err = fd;
                return NULL;
        }
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        *ret_err = 0;
        return buf;
}

static void cases(open_fn fn)
{
        int e;
        assert_string_equal(read_via(fn, "file", 0, &e), "inside\n");
        assert_string_equal(read_via(fn, "./sub//deep/f", 0, &e), "deep\n");
        assert_string_equal(read_via(fn, "sub/../file", 0, &e), "inside\n");
        assert_string_equal(read_via(fn, "in", 0, &e), "inside\n");
        assert_string_equal(read_via(fn, "sub/up", 0, &e), "inside\n");
        assert_string_equal(read_via(fn, "dlink/f", 0, &e), "deep\n");
        /* Leaving: '..', absolute paths and targets, /proc, chains. */
        static const char *const out[] = { "../secret", "sub/../../secret", "/etc/passwd", "out",
                                           "sub/out2",  "abs/secret",       "chain" };
        for (size_t i = 0; i < ELEMENTSOF(out); i++) {
                assert_null(read_via(fn, out[i], 0, &e));
                assert_int_equal(e, -EXDEV);
        }
        assert_null(read_via(fn, "proc", 0, &e));
        assert_true(e == -EXDEV || e == -ELOOP);
        assert_null(read_via(fn, "loop1", 0, &e));
        assert_int_equal(e, -ELOOP);
        /* No symlinks at all where asked. */
        assert_null(read_via(fn, "in", BENEATH_NO_SYMLINKS, &e));
        assert_int_equal(e, -ELOOP);
        assert_null(read_via(fn, "dlink/f", BENEATH_NO_SYMLINKS, &e));
        assert_int_equal(e, -ELOOP);
        assert_null(read_via(fn, "missing", 0, &e));
        assert_int_equal(e, -ENOENT);
        assert_null(read_via(fn, "file/x", 0, &e));
        assert_int_equal(e, -ENOTDIR);
        /* A directory itself, "." and a directory through a symlink inside. */
        int fd = fn(ctxfd, ".", O_RDONLY | O_DIRECTORY, 0);
        assert_true(fd >= 0);
        close(fd);
        fd = fn(ctxfd, "dlink", O_RDONLY | O_DIRECTORY, 0);
        assert_true(fd >= 0);
        struct stat st;
        assert_int_equal(fstatat(fd, "f", &st, 0), 0);
        close(fd);
}

static void test_openat2(void **state)
{
        (void)state;
        cases(beneath_open);
}

static void test_walk(void **state)
{
        (void)state;
        cases(beneath_open_walk);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_openat2),
                cmocka_unit_test(test_walk),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
