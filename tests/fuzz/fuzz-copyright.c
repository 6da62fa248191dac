/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for assembler/debian/copyright.c: a package's copyright file (written by
 * whoever built the .deb) into the SBOM's SPDX expression and LicenseRefs. Whatever comes out
 * must stay inside what SPDX allows: ids of [A-Za-z0-9.-] only, balanced parentheses.
 */
#include <stdint.h>
#include <string.h>

#include "debian/copyright.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_expression(const char *e)
{
        int depth = 0;
        for (const char *c = e; *c; c++) {
                depth += *c == '(';
                depth -= *c == ')';
                if (depth < 0 || !(strchr("() +.-", *c) || (*c >= 'a' && *c <= 'z') ||
                                   (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
                        __builtin_trap();
        }
        if (depth != 0)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct copyright_license l;
        if (copyright_license_parse((const char *)data, size, &l) < 0)
                return 0;
        if (l.expression)
                check_expression(l.expression);
        for (size_t i = 0; i < l.n_refs; i++) {
                if (!l.refs[i].text || strncmp(l.refs[i].id, "LicenseRef-", 11) != 0)
                        __builtin_trap();
                check_expression(l.refs[i].id);
                if (!l.expression || !strstr(l.expression, l.refs[i].id))
                        __builtin_trap();
        }
        copyright_license_clear(&l);
        return 0;
}
