/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage unpack: Inserts the files of the variant's utilities (only the named picks) and whole
 * packages into v->tree, in layer base. Never runs maintainer scripts.
 */
#pragma once

#include "state/build.h"

int stage_unpack(struct build *b, struct build_variant *v, struct cairn_error *err);

/*
 * Unpacks the .deb at pkg->local_path into v->tree as the stage does: only util's picks when
 * util is given, else the whole package (without documentation). Fills pkg->maintainer from
 * the package's control file when it is unset. The entry point of the .deb fuzz target.
 */
int unpack_package(struct build *b, struct build_variant *v, struct build_package *pkg,
                   const struct recipe_utility *util, struct cairn_error *err);

/*
 * What utility u's picks select in pkg, without placing anything (`cairn check`): fn(data,
 * index of the pick, package path, image path) for each selected entry, in archive order. A
 * pick that selects nothing gets one call with a NULL package path and, as dest, the package
 * path it most likely meant (pick_nearest) or NULL. Reads the package as the stage does (once
 * per cache).
 */
typedef void (*unpack_pick_fn)(void *data, size_t pick, const char *src, const char *dest);
int unpack_list_picks(struct build *b, struct build_package *pkg, const struct recipe_utility *u,
                      unpack_pick_fn fn, void *data, struct cairn_error *err);
