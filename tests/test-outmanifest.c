/* SPDX-License-Identifier: Apache-2.0 */
/* state/outmanifest.c: OUT/.cairn-outputs scanned, written and read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "state/outmanifest.h"

static int make_dir(char *tmpl)
{
        assert_non_null(mkdtemp(tmpl));
        int fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void put(int dirfd, const char *name, const char *text)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, text, strlen(text)), 0);
        close(fd);
}

static void test_round_trip(void **state)
{
        (void)state;
        char dir[] = "/tmp/cairn-test-outmanifest-XXXXXX";
        int fd = make_dir(dir);
        assert_int_equal(mkdirat(fd, "img", 0755), 0);
        assert_int_equal(mkdirat(fd, "img/blobs", 0755), 0);
        put(fd, "img/index.json", "{}");
        put(fd, "img/odd\\name\nline", "x");
        assert_int_equal(symlinkat("index.json", fd, "img/link"), 0);
        put(fd, "img.tar", "t");

        _cleanup_outmanifest_ struct outmanifest m = { 0 }, back = { 0 };
        assert_int_equal(outmanifest_scan(&m, fd, "img"), 0);
        assert_int_equal(outmanifest_scan(&m, fd, "img.tar"), 0);
        assert_int_equal(outmanifest_add(&m, 'f', "img.tar"), 0); /* a duplicate */
        outmanifest_sort(&m);
        assert_int_equal(m.n, 6);
        assert_true(outmanifest_has(&m, 'd', "img"));
        assert_true(outmanifest_has(&m, 'd', "img/blobs"));
        assert_true(outmanifest_has(&m, 'l', "img/link"));
        assert_true(outmanifest_has(&m, 'f', "img/odd\\name\nline"));
        assert_false(outmanifest_has(&m, 'd', "img.tar"));
        assert_false(outmanifest_has(&m, 'f', "img/missing"));

        assert_int_equal(outmanifest_write(&m, fd), 0);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        bool found = false;
        assert_int_equal(outmanifest_read(&back, fd, dir, &found, &err), 1);
        assert_true(found);
        assert_int_equal(back.n, m.n);
        for (size_t i = 0; i < m.n; i++)
                assert_string_equal(back.lines[i], m.lines[i]);
        /* Written once: a second write does not overwrite (O_EXCL). */
        assert_int_equal(outmanifest_write(&m, fd), -EEXIST);
        close(fd);
        (void)rm_rf(dir);
}

static void test_missing_and_foreign(void **state)
{
        (void)state;
        char dir[] = "/tmp/cairn-test-outmanifest-XXXXXX";
        int fd = make_dir(dir);
        _cleanup_outmanifest_ struct outmanifest m = { 0 };
        bool found = true;
        assert_int_equal(outmanifest_read(&m, fd, dir, &found, NULL), 0);
        assert_false(found);

        put(fd, OUTMANIFEST_NAME, "not a list\nf x\n");
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_true(outmanifest_read(&m, fd, dir, &found, &err) < 0);
        assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_IO);
        assert_non_null(strstr(err.messages[0], "not a list of outputs cairn wrote"));

        put(fd, OUTMANIFEST_NAME, OUTMANIFEST_HEADER "\nx bad type\n");
        _cleanup_cairn_error_ struct cairn_error err2 = CAIRN_ERROR_INIT;
        assert_true(outmanifest_read(&m, fd, dir, &found, &err2) < 0);

        /* A fifo is refused at once, never waited on. */
        assert_int_equal(unlinkat(fd, OUTMANIFEST_NAME, 0), 0);
        assert_int_equal(mkfifoat(fd, OUTMANIFEST_NAME, 0644), 0);
        _cleanup_cairn_error_ struct cairn_error err3 = CAIRN_ERROR_INIT;
        assert_true(outmanifest_read(&m, fd, dir, &found, &err3) < 0);
        assert_non_null(strstr(err3.messages[0], "not a regular file"));
        close(fd);
        (void)rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_missing_and_foreign),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
