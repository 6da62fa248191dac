/* SPDX-License-Identifier: Apache-2.0 */
/* DEP-5 copyright files into SPDX expressions (assembler/debian/copyright.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "base/util.h"
#include "debian/copyright.h"

#define FORMAT "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"

/* The expression for text, or "NOASSERTION"; *ret keeps the refs for the caller to check. */
static char *expr_of(const char *text, struct copyright_license *ret)
{
        assert_int_equal(copyright_license_parse(text, strlen(text), ret), 0);
        return strdup(ret->expression ? ret->expression : "NOASSERTION");
}

static void expect(const char *text, const char *want)
{
        struct copyright_license l;
        _cleanup_free_ char *got = expr_of(text, &l);
        if (!streq(got, want))
                fail_msg("got '%s', want '%s' for:\n%s", got, want, text);
        copyright_license_clear(&l);
}

static void test_names(void **state)
{
        (void)state;
        /* tini's: Files: * is Expat, a later paragraph does not count. */
        expect(FORMAT "\nFiles: *\nCopyright: 2015 T\nLicense: Expat\n\nFiles: debian/*\n"
                      "Copyright: x\nLicense: GPL-2+\n\nLicense: Expat\n Permission ...\n",
               "MIT");
        expect(FORMAT "\nFiles: *\nLicense: GPL-2+\n", "GPL-2.0-or-later");
        expect(FORMAT "\nFiles: *\nLicense: GPL-2\n", "GPL-2.0-only");
        expect(FORMAT "\nFiles: *\nLicense: LGPL-2.1+\n", "LGPL-2.1-or-later");
        expect(FORMAT "\nFiles: *\nLicense: GPL-3.0+\n", "GPL-3.0-or-later");
        expect(FORMAT "\nFiles: *\nLicense: bsd-3-clause\n", "BSD-3-Clause");
        expect(FORMAT "\nFiles: *\nLicense: Apache-2.0\n", "Apache-2.0");
        expect(FORMAT "\nFiles: *\nLicense: Perl\n", "(Artistic-1.0-Perl OR GPL-1.0-or-later)");
        /* Files: * among other patterns, on a continuation line too. */
        expect(FORMAT "\nFiles: src/*\n *\nLicense: ISC\n", "ISC");
        expect(FORMAT "\nFiles: * debian/*\nLicense: Zlib\n", "Zlib");
}

static void test_operators(void **state)
{
        (void)state;
        expect(FORMAT "\nFiles: *\nLicense: GPL-2+ or Artistic-2.0\n",
               "GPL-2.0-or-later OR Artistic-2.0");
        expect(FORMAT "\nFiles: *\nLicense: MIT and BSD-2-clause\n", "MIT AND BSD-2-Clause");
        /* A comma binds loosest: (A or B) and C. */
        expect(FORMAT "\nFiles: *\nLicense: GPL-2+ or Artistic-2.0, and BSD-3-clause\n",
               "(GPL-2.0-or-later OR Artistic-2.0) AND BSD-3-Clause");
        expect(FORMAT "\nFiles: *\nLicense: MPL-2.0, or GPL-2+ and LGPL-2.1+\n",
               "MPL-2.0 OR (GPL-2.0-or-later AND LGPL-2.1-or-later)");
        /* Malformed: an operator without a name on each side. */
        expect(FORMAT "\nFiles: *\nLicense: or MIT\n", "NOASSERTION");
        expect(FORMAT "\nFiles: *\nLicense: MIT or\n", "NOASSERTION");
        expect(FORMAT "\nFiles: *\nLicense: MIT,\n", "NOASSERTION");
}

static void test_license_refs(void **state)
{
        (void)state;
        /* tzdata's. */
        struct copyright_license l;
        _cleanup_free_ char *e =
                expr_of(FORMAT "Source: https://www.iana.org/time-zones\n\nFiles: *\n"
                               "Copyright: IANA\nLicense: public-domain\n This database is in "
                               "the public domain.\n",
                        &l);
        assert_string_equal(e, "LicenseRef-public-domain");
        assert_int_equal(l.n_refs, 1);
        assert_string_equal(l.refs[0].id, "LicenseRef-public-domain");
        assert_string_equal(l.refs[0].name, "public-domain");
        assert_string_equal(l.refs[0].text, "This database is in the public domain.\n");
        copyright_license_clear(&l);

        /* A standalone License paragraph gives the text; the same ref is declared once. */
        free(e);
        e = expr_of(FORMAT "\nFiles: *\nLicense: Foo-1 or Foo-1+, and GPL-2+ with OpenSSL "
                           "exception\n\nLicense: Foo-1\n Foo text\n .\n second\n",
                    &l);
        assert_string_equal(e, "(LicenseRef-Foo-1 OR LicenseRef-Foo-1-or-later) AND "
                               "LicenseRef-GPL-2-or-later-with-OpenSSL-exception");
        assert_int_equal(l.n_refs, 3);
        assert_string_equal(l.refs[0].text, "Foo text\n\nsecond\n");
        assert_string_equal(l.refs[2].name, "GPL-2+ with OpenSSL exception");
        assert_non_null(strstr(l.refs[1].text, "without its text"));
        copyright_license_clear(&l);
}

static void test_not_machine_readable(void **state)
{
        (void)state;
        /* base-files': free text. */
        expect("This is the Debian prepackaged version of the Debian Base System\n"
               "License: GPL\n",
               "NOASSERTION");
        /* Machine-readable, but no Files: * paragraph (ca-certificates'). */
        expect(FORMAT "\nFiles: debian/*\n       mozilla/*\nLicense: GPL-2+\n\n"
                      "Files: mozilla/certdata.txt\nLicense: MPL-2.0\n",
               "NOASSERTION");
        /* No License: in Files: *. */
        expect(FORMAT "\nFiles: *\nCopyright: x\n", "NOASSERTION");
        expect("", "NOASSERTION");
        expect(FORMAT, "NOASSERTION");
        /* CRLF line ends and the DEP-5 draft URL still parse. */
        expect("Format-Specification: http://dep.debian.net/deps/dep5\r\n\r\nFiles: *\r\n"
               "License: Expat\r\n",
               "MIT");
}

static void test_spdx_ids(void **state)
{
        (void)state;
        static const char *const pairs[][2] = {
                { "Expat", "MIT" },
                { "GPL-2+", "GPL-2.0-or-later" },
                { "GPL-2.0+", "GPL-2.0-or-later" },
                { "LGPL-2.1-only", "LGPL-2.1-only" },
                { "AGPL-3+", "AGPL-3.0-or-later" },
                { "CC0-1.0", "CC0-1.0" },
        };
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
                _cleanup_free_ char *id = copyright_spdx_id(pairs[i][0]);
                assert_non_null(id);
                assert_string_equal(id, pairs[i][1]);
        }
        assert_null(copyright_spdx_id("public-domain"));
        assert_null(copyright_spdx_id("GPL-2.5"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),        cmocka_unit_test(test_operators),
                cmocka_unit_test(test_license_refs), cmocka_unit_test(test_not_machine_readable),
                cmocka_unit_test(test_spdx_ids),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
