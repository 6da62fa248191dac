/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `url: apt`: the mirror this machine's apt configuration uses. Reads
 * $CAIRN_APT_DIR (default /etc/apt)/sources.list, sources.list.d/NAME.list (one-line format) and
 * sources.list.d/NAME.sources (deb822), in that order and sorted by file name, skipping disabled
 * files, non-deb types and `Enabled: no` stanzas. The first URI whose suites include `suite`
 * wins, so cairn never carries a mirror host of its own.
 */
#pragma once

#include "base/error.h"

/* The base URI (no trailing slash) serving suite. -ENOENT with a message listing what was
 * searched when no entry serves it. */
int aptsources_find(const char *suite, char **ret_uri, struct cairn_error *err);
