/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The load closure of a dynamically linked program inside a tree (docs/recipe.md, "Programs"):
 * what the kernel and ld.so map to run it. From each root: the file itself, its PT_INTERP, and
 * its DT_NEEDED libraries found the way the enforcer finds them (ld_search.h: RPATH only
 * without RUNPATH, RUNPATH not inherited, $ORIGIN, the tree's /etc/ld.so.conf, the default
 * and multiarch directories), followed transitively through every library's own DT_NEEDED.
 * Every symlink on the way to each of these (a SONAME link, a directory link such as /lib64)
 * is part of the closure, so that each path ld.so opens exists once the closure alone is
 * placed.
 *
 * $ORIGIN is the directory of the file's resolved path, as for the enforcer.
 */
#pragma once

#include <stddef.h>

#include "base/error.h"
#include "tree/store.h"
#include "tree/tree.h"

#define CLOSURE_MAX_FILES 100000 /* files and symlinks of one closure */

/*
 * Computes the closure of roots (paths in t; contents from s). A root that is not an ELF file
 * (or a symlink to one) is kept with nothing added. On success *ret (owned by the caller) is a
 * sorted NULL-terminated list of the paths of t to keep: regular files and symlinks, without
 * duplicates. A library or interpreter that cannot be found is -ENOENT with err naming the
 * file that needs it and what it needs; a root that is absent is -ENOENT naming it; a
 * malformed ELF file -ENOEXEC; -ELOOP for a symlink loop; -E2BIG past CLOSURE_MAX_FILES.
 */
int closure_compute(const struct tree *t, const struct store *s, const char *const *roots,
                    size_t n_roots, char ***ret, struct cairn_error *err);
