/* SPDX-License-Identifier: Apache-2.0 */
/* Signed Debian repositories into a libsolv Pool (see debrepo.c for the checks and cache). */
#pragma once

#include <solv/pool.h>
#include <solv/repo.h>

#include "base/error.h"
#include "recipe/recipe.h"

/* What debrepo_load learnt about a source; every field owned. */
struct debrepo_info {
        char *base;           /* the base URL the .deb Filename: paths are relative to */
        char *release_sha256; /* hex SHA-256 of the verified Release file */
        char *date;           /* the Release's Date: field, "" when it has none */
        char *note; /* `url: apt` found by probing (no apt source lists the suite): which URI
                       was used, a sentence for people; NULL otherwise */
};
void debrepo_info_clear(struct debrepo_info *info);

/*
 * The base URL of src without a trailing slash. For `url: apt`, the first URI of this
 * machine's apt configuration that lists src->suite (no network access); when none lists it,
 * the first of its URIs whose Release for the suite verifies against src's keyring and names
 * the suite as its Suite: or Codename: (probed over the network, from the cache with offline),
 * and *ret_note (may be NULL) is set to a sentence naming the URI used (else to NULL). Both
 * owned by the caller.
 */
int debrepo_base_url(const struct recipe_source *src, const char *cache, bool offline, char **ret,
                     char **ret_note, struct cairn_error *err);

/*
 * Reads and parses src's keyring (no cache, no network): 0 and the number of public keys, or
 * -errno with err naming the keyring (a missing file: CAIRN_EXIT_USAGE; no key in it:
 * -EBADMSG). For `cairn check`; the build's own check is debrepo_load's.
 */
int debrepo_keyring_check(const struct recipe_source *src, size_t *ret_keys,
                          struct cairn_error *err);

/*
 * Loads every component of src into new repos of pool (repo->appdata = source_index).
 * On success *ret_info is filled (the caller clears it with debrepo_info_clear).
 * Failures are CAIRN_EXIT_SOURCE errors naming the source and what failed.
 */
int debrepo_load(Pool *pool, const struct recipe_source *src, unsigned source_index,
                 const char *arch, const char *cache, bool offline, struct debrepo_info *ret_info,
                 struct cairn_error *err);

/*
 * Finds the " HEX SIZE PATH" line for path in the SHA256: section of a Release file (a
 * NUL-terminated string). true and hex (64 digits + NUL) and *size when listed. The entry point
 * of the Release fuzz target.
 */
bool debrepo_release_lookup(const char *release, const char *path, char hex[65], uint64_t *size);
