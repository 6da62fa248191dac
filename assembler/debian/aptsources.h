/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `url: apt`: the mirror this machine's apt configuration uses. Reads
 * $CAIRN_APT_DIR (default /etc/apt)/sources.list, sources.list.d/NAME.list (one-line format) and
 * sources.list.d/NAME.sources (deb822), in that order and sorted by file name, skipping disabled
 * files, non-deb types and `Enabled: no` stanzas. The first URI whose suites include `suite`
 * wins, so cairn never carries a mirror host of its own. When none lists the suite, the caller
 * (debian/debrepo.c) probes every URI for it (docs/recipe.md, "url: apt").
 */
#pragma once

#include "base/error.h"

/* The apt configuration directory read: $CAIRN_APT_DIR, else /etc/apt. Borrowed. */
const char *aptsources_dir(void);

/* The base URI (no trailing slash) of the first deb entry that lists suite. -ENOENT when none
 * does. No network access. *ret_uri is owned by the caller. */
int aptsources_find(const char *suite, char **ret_uri);

/* Every deb URI of the apt configuration (no trailing slash), in lookup order, each once, at
 * most 64. *ret_uris is owned by the caller, NULL-terminated, may be empty. */
int aptsources_uris(char ***ret_uris);
