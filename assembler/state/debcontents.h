/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "state/build.h"

/*
 * What pkg's .deb holds (pkg->contents, filled on first use): read once per build and once per
 * cache; a cached member list that does not verify is rebuilt (one line on stderr), a .deb
 * whose control file names another package, version or architecture is CAIRN_EXIT_SOURCE
 * naming both. origin names the package in messages. *ret is borrowed from pkg.
 */
int build_package_contents(struct build *b, struct build_package *pkg, const char *origin,
                           const struct deb_contents **ret, struct cairn_error *err);
