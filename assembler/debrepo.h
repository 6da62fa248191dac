/* SPDX-License-Identifier: Apache-2.0 */
/* Signed Debian repositories into a libsolv Pool (see debrepo.c for the checks and cache). */
#pragma once

#include <solv/pool.h>
#include <solv/repo.h>

#include "error.h"
#include "recipe.h"

/*
 * Loads every component of src into new repos of pool (repo->appdata = source_index).
 * *ret_base (owned) is the base URL the .deb Filename: paths are relative to.
 * Failures are CAIRN_EXIT_SOURCE errors naming the source and what failed.
 */
int debrepo_load(Pool *pool, const struct recipe_source *src, unsigned source_index,
                 const char *arch, const char *cache, bool offline, char **ret_base,
                 struct cairn_error *err);

/*
 * Finds the " HEX SIZE PATH" line for path in the SHA256: section of a Release file (a
 * NUL-terminated string). true and hex (64 digits + NUL) and *size when listed. The entry point
 * of the Release fuzz target.
 */
bool debrepo_release_lookup(const char *release, const char *path, char hex[65], uint64_t *size);
