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
        assert_int_equal(a->scanned, b->scanned);
        assert_int_equal(a->entropy_bytes, b->entropy_bytes);
        assert_int_equal(a->high_entropy_bytes, b->high_entropy_bytes);
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
        assert_true(asprintf(&entry, "%s/ab12.2", dir) > 0);
        assert_int_equal(access(entry, R_OK), 0);
        assert_int_equal(content_scan_fd_cached(fd, dir, "ab12", &again), 0);
        assert_same_scan(&plain, &again);

        static const char *const damaged[] = {
                "",
                "cairn-scan 2\nmarkers 0\n",
                "cairn-scan 2\nmarkers 0\nshell evilsh\npm -\napplets 0\ntruncated 0\nscanned "
                "9\nentropy 0 0\n",
                "cairn-scan 2\nmarkers 0\nshell -\npm -\napplets 0\ntruncated 7\nscanned 9\n"
                "entropy 0 0\n",
                "cairn-scan 2\nmarkers 0\nshell -\npm -\napplets 0\ntruncated 0\nscanned 9\n"
                "entropy 0 0\ntrailing",
                "cairn-scan 2\nmarkers 0\nshell -\npm -\napplets 0\ntruncated 0\nscanned 9\n"
                "entropy 4096 8192\n",
                /* the format of version 1: no entropy, no amount scanned */
                "cairn-scan 1\nmarkers 0\nshell -\npm -\napplets 0\ntruncated 0\n",
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

/* A sparse file: marker after a 1.5 GiB hole. Read where the data is, not stopped at a limit. */
static void test_sparse_data_past_a_gigabyte(void **state)
{
        (void)state;
        char path[] = "/tmp/cairn-test-sparse-XXXXXX";
        _cleanup_close_ int fd = mkstemp(path);
        assert_true(fd >= 0);
        unlink(path);
        static const char marker[] = "\0BusyBox is a multi-call binary\0";
        uint64_t at = (uint64_t)3 << 29; /* 1.5 GiB */
        assert_int_equal(pwrite(fd,
                                "\x7f"
                                "ELF",
                                4, 0),
                         4);
        assert_int_equal(pwrite(fd, marker, sizeof(marker), (off_t)at), (ssize_t)sizeof(marker));
        struct content_scan s;
        assert_int_equal(content_scan_fd(fd, &s), 0);
        assert_true(content_is_busybox(&s));
        assert_false(s.truncated);
        assert_true(s.scanned < ((uint64_t)1 << 24)); /* the hole was not read */
        /* Past the limit: not silently clean, but truncated. */
        assert_int_equal(content_scan_fd_limit(fd, 4096, &s), 0);
        assert_true(s.truncated);
        assert_false(content_is_busybox(&s));
}

/* Zeros stand between two halves of a marker: they never join, hole or not. */
static void test_hole_ends_strings(void **state)
{
        (void)state;
        static const char a[] = "BusyBox is a multi-", b[] = "call binary";
        for (int sparse = 0; sparse < 2; sparse++) {
                char path[] = "/tmp/cairn-test-hole-XXXXXX";
                _cleanup_close_ int fd = mkstemp(path);
                assert_true(fd >= 0);
                unlink(path);
                size_t gap = 1 << 20;
                off_t first = 65536 - (off_t)strlen(a);
                assert_int_equal(pwrite(fd, a, strlen(a), first), (ssize_t)strlen(a));
                if (!sparse) {
                        _cleanup_free_ char *zeros = calloc(1, gap);
                        assert_non_null(zeros);
                        assert_int_equal(pwrite(fd, zeros, gap, 65536), (ssize_t)gap);
                }
                assert_int_equal(pwrite(fd, b, strlen(b), 65536 + (off_t)gap), (ssize_t)strlen(b));
                struct content_scan s;
                assert_int_equal(content_scan_fd(fd, &s), 0);
                assert_false(s.markers & CONTENT_BUSYBOX_MULTICALL);
        }
}

static void test_entropy(void **state)
{
        (void)state;
        size_t len = 256 * 1024;
        _cleanup_free_ uint8_t *buf = malloc(len);
        assert_non_null(buf);
        uint64_t x = 88172645463325252ULL; /* xorshift: stands for compressed bytes */
        for (size_t i = 0; i < len; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf[i] = (uint8_t)x;
        }
        struct content_scan s;
        content_scan_buf(buf, len, &s);
        assert_true(content_is_opaque(&s));
        assert_int_equal(content_high_entropy_percent(&s), 100);
        _cleanup_close_ int fd = memfile(buf, len);
        assert_int_equal(content_entropy_sample_fd(fd, len, 16, &s), 0);
        assert_true(content_is_opaque(&s));
        assert_int_equal(s.entropy_bytes, 16 * 4096);
        /* Text and code-like bytes are not; zeros are not measured at all. */
        for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)("the quick brown fox jumps over the lazy dog "[i % 44]);
        content_scan_buf(buf, len, &s);
        assert_false(content_is_opaque(&s));
        memset(buf, 0, len);
        content_scan_buf(buf, len, &s);
        assert_int_equal(s.entropy_bytes, 0);
        assert_false(content_is_opaque(&s));
}

/* Symbol names are NUL-delimited tokens: in .dynstr and .strtab, not inside other words. */
static void test_memfd_exec_symbols(void **state)
{
        (void)state;
        struct content_scan s;
        static const char both[] = "\0memfd_create\0fexecve\0GLIBC_2.27\0";
        content_scan_buf((const uint8_t *)both, sizeof(both), &s);
        assert_true(content_memfd_exec(&s));
        static const char at[] = "\0execveat\0memfd_create\0";
        content_scan_buf((const uint8_t *)at, sizeof(at), &s);
        assert_true(content_memfd_exec(&s));
        static const char one[] = "\0memfd_create\0execve\0";
        content_scan_buf((const uint8_t *)one, sizeof(one), &s);
        assert_false(content_memfd_exec(&s));
        static const char words[] = "\0no memfd_create here, nor fexecve\0";
        content_scan_buf((const uint8_t *)words, sizeof(words), &s);
        assert_false(content_memfd_exec(&s));
}

/* UPX's pack header at the end catches a UPX whose first magic was rubbed out; its stub id too. */
static void test_upx_trailer_and_id(void **state)
{
        (void)state;
        size_t len = 64 * 1024;
        _cleanup_free_ uint8_t *buf = calloc(1, len);
        assert_non_null(buf);
        struct content_scan s;
        memcpy(buf + len - 36, "UPX!", 4);
        content_scan_buf(buf, len, &s);
        assert_true(s.markers & CONTENT_UPX_TRAILER);
        assert_true(content_is_packed(&s));
        _cleanup_close_ int fd = memfile(buf, len);
        assert_int_equal(content_scan_fd(fd, &s), 0);
        assert_true(s.markers & CONTENT_UPX_TRAILER);
        memset(buf + len - 36, 0, 4);
        static const char id[] = "$Id: UPX 4.02 Copyright (C) 1996-2023 the UPX Team. $";
        memcpy(buf + 30000, id, sizeof(id));
        content_scan_buf(buf, len, &s);
        assert_true(s.markers & CONTENT_UPX_ID);
        assert_true(content_is_packed(&s));
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
                cmocka_unit_test(test_sparse_data_past_a_gigabyte),
                cmocka_unit_test(test_hole_ends_strings),
                cmocka_unit_test(test_entropy),
                cmocka_unit_test(test_memfd_exec_symbols),
                cmocka_unit_test(test_upx_trailer_and_id),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
