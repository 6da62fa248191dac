/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A package's declared license from its machine-readable copyright file (DEP-5,
 * https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/), as an SPDX license
 * expression for the SBOM's licenseDeclared (docs/recipe.md, "Licenses").
 *
 * The License: synopsis of the `Files: *` paragraph is the package's license. Its Debian short
 * names become SPDX identifiers (Expat -> MIT, GPL-2+ -> GPL-2.0-or-later, ...), DEP-5's `or`
 * and `and` become OR and AND (`and` binding tighter, a comma binding loosest), and a name
 * SPDX does not list becomes LicenseRef-NAME, declared with the text the file gives for it. A
 * file without a Format: line, or without a `Files: *` paragraph with a License:, declares
 * nothing: the SBOM then says NOASSERTION.
 */
#pragma once

#include <stddef.h>

#define COPYRIGHT_MAX_BYTES (1 << 20) /* larger files are not read: NOASSERTION */

/* A LicenseRef- the expression uses, for the SBOM's hasExtractedLicensingInfos. */
struct copyright_ref {
        char *id;   /* owned; "LicenseRef-public-domain" */
        char *name; /* owned; the Debian short name, "public-domain" */
        char *text; /* owned; the license text the file gives, or a sentence saying it gives none */
};

struct copyright_license {
        char *expression;           /* owned; the SPDX expression, or NULL: NOASSERTION */
        struct copyright_ref *refs; /* owned, n_refs, in order of first use */
        size_t n_refs;
};

/*
 * Reads the copyright file text (len bytes, need not be NUL-terminated) into *ret, which the
 * caller clears with copyright_license_clear. 0, or -ENOMEM. A file that is not machine-readable
 * is not an error: ret->expression is NULL.
 */
int copyright_license_parse(const char *text, size_t len, struct copyright_license *ret);
void copyright_license_clear(struct copyright_license *l);

/* The SPDX identifier for one Debian short license name, or NULL when SPDX has none (an
 * owned string otherwise; "Perl" gives a parenthesised expression). */
char *copyright_spdx_id(const char *debian_name);
