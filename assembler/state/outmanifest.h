/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OUT/.cairn-outputs: the list of what cairn wrote into an output directory, so that a later
 * build knows what it owns (docs/security.md, "Outputs"). Every entry beneath an output is
 * listed, one a line: a type letter (d directory, f regular file, l symlink, o anything else),
 * a space and the path relative to OUT, with '\' and newline written as "\\" and "\n". The
 * first line is OUTMANIFEST_HEADER. A build replaces only what the list names; anything else
 * in OUT is the user's and is never deleted.
 */
#pragma once

#include "base/error.h"

#define OUTMANIFEST_NAME   ".cairn-outputs"
#define OUTMANIFEST_HEADER "# cairn outputs 1: what cairn wrote here; it replaces only these"
#define OUTMANIFEST_MAX    (64 << 20) /* bytes of one list */

struct outmanifest {
        char **lines; /* owned; "T PATH", sorted by PATH, unique */
        size_t n, cap;
        bool sorted;
};

/* Frees every line; m is empty afterwards. */
void outmanifest_clear(struct outmanifest *m);
#define _cleanup_outmanifest_ _cleanup_(outmanifest_clear)

/* Adds one entry (type letter, path relative to OUT). 0 or -ENOMEM. */
int outmanifest_add(struct outmanifest *m, char type, const char *path);

/* Adds dirfd/name and, for a directory, everything beneath it (never following symlinks),
 * named "name/...". 0 or -errno. */
int outmanifest_scan(struct outmanifest *m, int dirfd, const char *name);

/* Sorts and removes duplicates; outmanifest_has needs it. */
void outmanifest_sort(struct outmanifest *m);

/* True when the (sorted) list holds path with this type. */
bool outmanifest_has(const struct outmanifest *m, char type, const char *path);

/* The type letter of a stat mode. */
char outmanifest_type(mode_t mode);

/*
 * Reads dirfd/.cairn-outputs into m (sorted). 0 when there is none (*ret_found false), 1 when
 * read; a list that is not a regular file cairn wrote is a CAIRN_EXIT_IO error naming shown.
 */
int outmanifest_read(struct outmanifest *m, int dirfd, const char *shown, bool *ret_found,
                     struct cairn_error *err);

/* Writes m (sorted first) as dirfd/.cairn-outputs, mode 0644. 0 or -errno. */
int outmanifest_write(struct outmanifest *m, int dirfd);
