/* SPDX-License-Identifier: Apache-2.0 */
/* Sealed cache entries: a round trip, and every change to the bytes, the kind, the bound digest
 * or the trailer read as "does not verify"; the key file made private and outside the cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "base/cachemac.h"
#include "base/util.h"

#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void test_round_trip(void **state)
{
        (void)state;
        _cleanup_free_ char *path = NULL, *buf = NULL;
        assert_true(asprintf(&path, "%s/entry", dir) > 0);
        static const char text[] = "markers 0\n\0binary\xff";
        assert_int_equal(cachemac_write(path, "scan", "abc", text, sizeof(text)), 0);
        size_t len = 0;
        assert_int_equal(cachemac_read(path, 1024, "scan", "abc", &buf, &len), 0);
        assert_int_equal(len, sizeof(text));
        assert_memory_equal(buf, text, sizeof(text));
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, sizeof(text) + CACHEMAC_TRAILER_LEN);
        /* Larger than the caller's bound: refused, not truncated. */
        free(buf);
        buf = NULL;
        assert_int_equal(cachemac_read(path, 4, "scan", "abc", &buf, &len), -EBADMSG);
        assert_null(buf);
        assert_int_equal(cachemac_read("/nonexistent/entry", 1024, "scan", "abc", &buf, &len),
                         -ENOENT);
}

static void test_mismatch(void **state)
{
        (void)state;
        static const char text[] = "f 755 0 0 5 0123 10:/usr/bin/a 0:\n";
        _cleanup_free_ char *sealed = NULL;
        size_t n = 0;
        assert_int_equal(cachemac_seal("unpacked", "sha-a", text, strlen(text), &sealed, &n), 0);
        assert_int_equal(cachemac_check("unpacked", "sha-a", sealed, n), (int64_t)strlen(text));
        /* Another source digest, another kind: the same bytes do not verify. */
        assert_int_equal(cachemac_check("unpacked", "sha-b", sealed, n), -EBADMSG);
        assert_int_equal(cachemac_check("scan", "sha-a", sealed, n), -EBADMSG);
        /* Every single changed byte, content or trailer. */
        for (size_t i = 0; i < n; i++) {
                sealed[i] ^= 0x20;
                assert_int_equal(cachemac_check("unpacked", "sha-a", sealed, n), -EBADMSG);
                sealed[i] ^= 0x20;
        }
        /* Every truncation. */
        for (size_t cut = 0; cut < n; cut++)
                assert_true(cachemac_check("unpacked", "sha-a", sealed, cut) < 0);
        /* The kind and the digest are not simply concatenated with the content. */
        _cleanup_free_ char *other = NULL;
        size_t m = 0;
        assert_int_equal(cachemac_seal("unpacke", "dsha-a", text, strlen(text), &other, &m), 0);
        assert_memory_not_equal(sealed + strlen(text), other + strlen(text), CACHEMAC_TRAILER_LEN);
}

/* A symlink in an entry's place is not followed. */
static void test_symlink(void **state)
{
        (void)state;
        _cleanup_free_ char *path = NULL, *link = NULL, *buf = NULL;
        assert_true(asprintf(&path, "%s/real", dir) > 0);
        assert_true(asprintf(&link, "%s/link", dir) > 0);
        assert_int_equal(cachemac_write(path, "index", "x", "solv", 4), 0);
        assert_int_equal(symlink(path, link), 0);
        size_t len = 0;
        assert_int_equal(cachemac_read(link, 1024, "index", "x", &buf, &len), -EBADMSG);
}

/* The key was made on first use: 32 bytes, mode 0600. */
static void test_key_file(void **state)
{
        (void)state;
        const uint8_t *key;
        assert_int_equal(cachemac_key(&key), 0);
        struct stat st;
        assert_int_equal(stat(getenv("CAIRN_CACHE_KEY"), &st), 0);
        assert_int_equal(st.st_size, CACHEMAC_KEY_LEN);
        assert_int_equal(st.st_mode & 0777, 0600);
}

int main(void)
{
        strcpy(dir, "/tmp/cairn-test-cachemac-XXXXXX");
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *key = NULL;
        assert_true(asprintf(&key, "%s/state/cairn/cache.key", dir) > 0);
        setenv("CAIRN_CACHE_KEY", key, 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_mismatch),
                cmocka_unit_test(test_symlink),
                cmocka_unit_test(test_key_file),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        (void)rm_rf(dir);
        return r;
}
