/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a utility's `files:` key selects in its package (docs/recipe.md, "Picks"), shared by
 * the unpack stage and `cairn check`:
 *  - a file: that file, at the destination;
 *  - a directory: the directory and everything below it, at the destination;
 *  - a pattern with '*', '?' or '**' (chisel's rules: '*' and '?' stay within one path
 *    component, '**' crosses components; nothing else is special): every matching entry,
 *    placed under the destination with the part after the pattern's fixed prefix (its
 *    leading components without a wildcard) kept. A matched directory is placed itself, not
 *    what is below it (match that with '**').
 */
#pragma once

#include <stdbool.h>

#include "recipe/recipe.h"

/* True when path matches pattern (both absolute). Linear in memory, pattern x path in time. */
bool pick_glob_match(const char *pattern, const char *path);

/*
 * Where the package entry at path lands for pick p. src_is_dir: the package holds a directory
 * at p->src (ignored for patterns). 1 and *ret (owned by the caller) when p selects path, 0
 * when it does not, -ENOMEM.
 */
int pick_dest(const struct recipe_pick *p, bool src_is_dir, const char *path, char **ret);

struct deb_contents;
/*
 * For a pick that selects nothing in dc: the package path a newcomer most likely meant, or
 * NULL. A member with the same last component wins (/bin/x for /usr/bin/x), the nearest by
 * edit distance among those; otherwise the nearest path at most a quarter of its length (and
 * at least 3 edits) away. Borrowed from dc.
 */
const char *pick_nearest(const struct deb_contents *dc, const char *src);
