/* SPDX-License-Identifier: Apache-2.0 */
/* Content markers: streamed scanning finds markers across chunk boundaries, in bounded memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>

#include "enforce/busybox_applets.h"
#include "enforce/content_scan.h"
#include "base/util.h"

/* A temp file holding buf; the path is unlinked at once, the fd stays usable. */
static int memfile(const void *buf, size_t len)
{
        char path[] = "/tmp/cairn-test-scan-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        unlink(path);
        assert_int_equal(write_all(fd, buf, len), 0);
        return fd;
}

static void test_marker_across_chunks(void **state)
{
        (void)state;
        static const char marker[] = "BusyBox is a multi-call binary";
        size_t len = 256 * 1024;
        for (size_t at = 64 * 1024 - 20; at < 64 * 1024 + 2; at += 7) {
                _cleanup_free_ char *buf = calloc(1, len);
                assert_non_null(buf);
                memcpy(buf + at, marker, strlen(marker));
                _cleanup_close_ int fd = memfile(buf, len);
                struct content_scan s;
                assert_int_equal(content_scan_fd(fd, &s), 0);
                assert_true(s.markers & CONTENT_BUSYBOX_MULTICALL);
                assert_true(content_is_busybox(&s));
        }
}

/* The scanner looks names up with bsearch: the list must stay in strcmp order, no repeats. */
static void test_applet_names_sorted(void **state)
{
        (void)state;
        for (size_t i = 1; i < ELEMENTSOF(busybox_applet_names); i++)
                assert_true(strcmp(busybox_applet_names[i - 1], busybox_applet_names[i]) < 0);
}

static void test_applet_table_across_chunks(void **state)
{
        (void)state;
        static const char table[] = "[\0[[\0acpid\0addgroup\0adduser\0ash\0awk\0base64\0basename\0"
                                    "cat\0chmod\0chown\0cp\0cut\0date\0dd\0df\0dirname\0echo\0"
                                    "env\0false\0grep\0gzip\0head\0hostname\0kill\0ln\0ls\0";
        size_t len = 200 * 1024, at = 64 * 1024 - 40;
        _cleanup_free_ char *buf = calloc(1, len);
        assert_non_null(buf);
        memcpy(buf + at, table, sizeof(table));
        _cleanup_close_ int fd = memfile(buf, len);
        struct content_scan s;
        assert_int_equal(content_scan_fd(fd, &s), 0);
        assert_true(s.markers & CONTENT_APPLET_TABLE);
        assert_int_equal(s.applet_run, 28);
        _cleanup_free_ char *ev = content_evidence(&s);
        assert_non_null(strstr(ev, "applet name table (28 names in a row)"));
}

static void test_single_weak_markers(void **state)
{
        (void)state;
        struct content_scan s;
        static const char a[] = "this program replaces busybox and mentions BusyBox v1.2";
        content_scan_buf((const uint8_t *)a, sizeof(a), &s);
        assert_false(content_is_busybox(&s));
        static const char b[] = "BusyBox v1.2\0Usage: busybox [function]";
        content_scan_buf((const uint8_t *)b, sizeof(b), &s);
        assert_true(content_is_busybox(&s));
        static const char c[] = "Toybox is fun";
        content_scan_buf((const uint8_t *)c, sizeof(c), &s);
        assert_null(content_toolbox(&s));
        static const char d[] = "usage: toybox [--long | --help]";
        content_scan_buf((const uint8_t *)d, sizeof(d), &s);
        assert_string_equal(content_toolbox(&s), "toybox");
}

static void test_upx_magic_position(void **state)
{
        (void)state;
        size_t len = 16 * 1024;
        _cleanup_free_ uint8_t *buf = calloc(1, len);
        assert_non_null(buf);
        memcpy(buf + 8000, "UPX!", 4); /* too late for the packer's header */
        struct content_scan s;
        content_scan_buf(buf, len, &s);
        assert_false(content_is_packed(&s));
        memcpy(buf + 0xec, "UPX!", 4);
        content_scan_buf(buf, len, &s);
        assert_true(content_is_packed(&s));
        _cleanup_close_ int fd = memfile(buf, len);
        assert_int_equal(content_scan_fd(fd, &s), 0);
        assert_true(content_is_packed(&s));
}

static void test_shells(void **state)
{
        (void)state;
        struct content_scan s;
        static const char zsh1[] = "ZSH_VERSION only";
        content_scan_buf((const uint8_t *)zsh1, sizeof(zsh1), &s);
        assert_null(s.shell);
        static const char zsh2[] = "ZSH_VERSION\0ZSH_PATCHLEVEL";
        content_scan_buf((const uint8_t *)zsh2, sizeof(zsh2), &s);
        assert_string_equal(s.shell, "zsh");
        static const char mksh[] = "@(#)MIRBSD KSH R59 2020/10/31";
        content_scan_buf((const uint8_t *)mksh, sizeof(mksh), &s);
        assert_string_equal(s.shell, "mksh");
}

static void assert_same_scan(const struct content_scan *a, const struct content_scan *b)
{
        assert_int_equal(a->markers, b->markers);
        assert_ptr_equal(a->shell, b->shell);
        assert_ptr_equal(a->package_manager, b->package_manager);
        assert_int_equal(a->applet_run, b->applet_run);
        assert_int_equal(a->truncated, b->truncated);
}

/* Remembered scans give the scanner's own answer; damaged or foreign entries are rescanned. */
static void test_cached_scan(void **state)
{
        (void)state;
        char dir[] = "/tmp/cairn-test-scancache-XXXXXX";
        assert_non_null(mkdtemp(dir));
        static const char body[] = "BusyBox v1.36.1\0BusyBox is a multi-call binary\0/bin/bash\0"
                                   "GNU bash, version 5.2\0dpkg-deb\0";
        _cleanup_close_ int fd = memfile(body, sizeof(body));
        struct content_scan plain, first, again, repaired;
        assert_int_equal(content_scan_fd(fd, &plain), 0);
        assert_int_equal(content_scan_fd_cached(fd, dir, "ab12", &first), 0);
        assert_same_scan(&plain, &first);
        _cleanup_free_ char *entry = NULL;
        assert_true(asprintf(&entry, "%s/ab12.1", dir) > 0);
        assert_int_equal(access(entry, R_OK), 0);
        assert_int_equal(content_scan_fd_cached(fd, dir, "ab12", &again), 0);
        assert_same_scan(&plain, &again);

        static const char *const damaged[] = {
                "",
                "cairn-scan 1\nmarkers 0\n",
                "cairn-scan 1\nmarkers 0\nshell evilsh\npm -\napplets 0\ntruncated 0\n",
                "cairn-scan 1\nmarkers 0\nshell -\npm -\napplets 0\ntruncated 7\n",
                "cairn-scan 1\nmarkers 0\nshell -\npm -\napplets 0\ntruncated 0\ntrailing",
        };
        for (size_t i = 0; i < ELEMENTSOF(damaged); i++) {
                FILE *f = fopen(entry, "we");
                assert_non_null(f);
                fputs(damaged[i], f);
                fclose(f);
                assert_int_equal(content_scan_fd_cached(fd, dir, "ab12", &repaired), 0);
                assert_same_scan(&plain, &repaired);
        }
        /* Without a directory or a digest it is the plain scan. */
        assert_int_equal(content_scan_fd_cached(fd, NULL, "ab12", &again), 0);
        assert_same_scan(&plain, &again);
        assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_marker_across_chunks),
                cmocka_unit_test(test_applet_names_sorted),
                cmocka_unit_test(test_applet_table_across_chunks),
                cmocka_unit_test(test_single_weak_markers),
                cmocka_unit_test(test_upx_magic_position),
                cmocka_unit_test(test_shells),
                cmocka_unit_test(test_cached_scan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
