/* SPDX-License-Identifier: Apache-2.0 */
/* What a utility's files: key selects (assembler/debian/picks.c): chisel's pattern rules and
 * where each match lands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "base/util.h"
#include "debian/picks.h"

static void test_glob(void **state)
{
        (void)state;
        assert_true(pick_glob_match("/a/*.crt", "/a/x.crt"));
        assert_true(pick_glob_match("/a/*.crt", "/a/.crt"));
        assert_false(pick_glob_match("/a/*.crt", "/a/b/x.crt")); /* '*' stays in a component */
        assert_true(pick_glob_match("/a/**.crt", "/a/b/x.crt"));
        assert_true(pick_glob_match("/a/**", "/a/b/c/d"));
        assert_false(pick_glob_match("/a/**", "/a"));
        assert_true(pick_glob_match("/a/**/x", "/a/b/c/x"));
        assert_false(pick_glob_match("/a/**/x", "/a/x")); /* the slashes are literal */
        assert_true(pick_glob_match("/a/?", "/a/b"));
        assert_false(pick_glob_match("/a/?", "/a/bc"));
        assert_false(pick_glob_match("/a?b", "/a/b"));
        assert_true(pick_glob_match("/lib*.so.*", "/libc.so.6"));
        assert_false(pick_glob_match("/[ab]", "/a")); /* no brackets: literal */
        assert_true(pick_glob_match("/[ab]", "/[ab]"));
        /* No backtracking blow-up: many stars against a long near-miss. */
        char path[4000];
        memset(path, 'a', sizeof(path) - 2);
        path[0] = '/';
        path[sizeof(path) - 2] = 'b';
        path[sizeof(path) - 1] = '\0';
        assert_false(pick_glob_match("/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c", path));
        assert_false(pick_glob_match("/**a**a**a**a**a**a**a**a**a**a**a**a**a**c", path));
}

static char *dest(const char *src, const char *d, bool dir, const char *path)
{
        struct recipe_pick p = { .src = (char *)src, .dest = (char *)d };
        const char *wild = strpbrk(src, "*?");
        if (wild) {
                p.glob = true;
                while (wild > src && wild[-1] != '/')
                        wild--;
                p.prefix_len = (size_t)(wild - src) - 1;
        }
        char *ret = NULL;
        int r = pick_dest(&p, dir, path, &ret);
        assert_true(r >= 0);
        return r ? ret : NULL;
}

static void expect_dest(const char *src, const char *d, bool dir, const char *path,
                        const char *want)
{
        _cleanup_free_ char *got = dest(src, d, dir, path);
        if (!want) {
                if (got)
                        fail_msg("%s -> %s: %s selected as %s", src, d, path, got);
                return;
        }
        if (!got || !streq(got, want))
                fail_msg("%s -> %s: %s gave %s, want %s", src, d, path, got ? got : "nothing",
                         want);
}

static void test_dest(void **state)
{
        (void)state;
        /* A file. */
        expect_dest("/usr/bin/tini-static", "/sbin/tini", false, "/usr/bin/tini-static",
                    "/sbin/tini");
        expect_dest("/usr/bin/tini-static", "/sbin/tini", false, "/usr/bin/tini", NULL);
        /* A directory: itself and everything below, never a sibling with the same prefix. */
        expect_dest("/usr/share/zoneinfo", "/zi", true, "/usr/share/zoneinfo", "/zi");
        expect_dest("/usr/share/zoneinfo", "/zi", true, "/usr/share/zoneinfo/Europe/Paris",
                    "/zi/Europe/Paris");
        expect_dest("/usr/share/zoneinfo", "/zi", true, "/usr/share/zoneinfo-extra/x", NULL);
        expect_dest("/usr/share/zoneinfo", "/zi", false, "/usr/share/zoneinfo/UTC", NULL);
        expect_dest("/etc", "/", true, "/etc/services", "/services");
        /* A pattern: the part after the fixed prefix is kept. */
        expect_dest("/usr/share/ca-certificates/mozilla/*.crt", "/certs", false,
                    "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt",
                    "/certs/ISRG_Root_X1.crt");
        expect_dest("/usr/share/zoneinfo/**", "/usr/share/zoneinfo", false,
                    "/usr/share/zoneinfo/right/Europe/Paris",
                    "/usr/share/zoneinfo/right/Europe/Paris");
        expect_dest("/usr/lib/*/libz.so.*", "/lib", false, "/usr/lib/x86_64-linux-gnu/libz.so.1",
                    "/lib/x86_64-linux-gnu/libz.so.1");
        expect_dest("/*/services", "/", false, "/etc/services", "/etc/services");
        expect_dest("/*/services", "/x", false, "/etc/services", "/x/etc/services");
        expect_dest("/usr/share/zoneinfo/**", "/z", false, "/usr/share/zoneinfo", NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_glob),
                cmocka_unit_test(test_dest),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
