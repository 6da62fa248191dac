/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The part of /etc/cairn/runtime.json cairn-init needs to restrict PROGRAM (DESIGN.md §9):
 * the paths it may write beneath and the executables it may run. The file is written by the
 * build (stages/runtime.c); cairn-init reads it with this small, bounded JSON reader because
 * the static init links no JSON library.
 *
 * The whole document is checked against RFC 8259 (UTF-8, escapes, numbers, nesting at most
 * RT_MAX_DEPTH), not only the keys read: a file that is not JSON is refused, never half-read.
 * A key given twice at the top level is refused (readers disagree on which one counts).
 * Unknown top-level keys are allowed, so a newer cairn may add keys.
 *
 * Nothing here does I/O or prints; it is linked by cairn-init and by tests/test-init-rtjson
 * (and the rtjson fuzz target), compiled with the ordinary compiler.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define RT_SCHEMA          "cairn-runtime/1" /* the value of "schema" this reader understands */
#define RT_MAX_BYTES       (4 << 20)         /* a larger runtime.json is refused */
#define RT_MAX_DEPTH       32                /* nesting of arrays and objects */
#define RT_MAX_EXECUTABLES 65536             /* entries of "executables" */
#define RT_MAX_WRITABLE    1024              /* entries of "writable" */
#define RT_MAX_PATH        4095              /* bytes of one path (PATH_MAX - 1) */
#define RT_MAX_TOP_KEYS    256               /* keys of the top-level object */

struct rt_manifest {
        const char **writable; /* owned array of n_writable, NULL-terminated; strings borrowed */
        size_t n_writable;
        const char **executables; /* same */
        size_t n_executables;
        bool landlock; /* "landlock" (false when absent): what the build asked for */
};

/*
 * Parses the runtime.json document buf[0..len). buf must be writable and hold len + 1 bytes:
 * strings are decoded in place and NUL-terminated, and the manifest's strings point into buf,
 * which the caller keeps (and must keep while the manifest is used). "schema" must be
 * RT_SCHEMA; "writable" and "executables" must be arrays of absolute paths (no NUL, at most
 * RT_MAX_PATH bytes; at most RT_MAX_WRITABLE and RT_MAX_EXECUTABLES of them).
 *
 * Returns 0 and fills *ret (free it with rt_manifest_clear), or -EINVAL with a one-line reason
 * ("line 3, column 17: ...") in msg[0..msg_size), or -ENOMEM. *ret is written only on success.
 */
int rt_manifest_parse(char *buf, size_t len, struct rt_manifest *ret, char *msg, size_t msg_size);

/* Frees what m owns and empties it. */
void rt_manifest_clear(struct rt_manifest *m);
