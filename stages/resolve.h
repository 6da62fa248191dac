/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage resolve: Resolves the recipe's utilities and packages against its sources with libsolv
 * (DESIGN.md §2): fills b->packages, b->utility_packages and b->source_info. Unsatisfiable
 * requests fail with CAIRN_EXIT_SOURCE and libsolv's problems in plain words.
 */
#pragma once

#include "state/build.h"

/* Does nothing when the lock stage pinned every package (BUILD_LOCK_USED) or the recipe names
 * none (BUILD_LOCK_NONE); otherwise loads every source and solves. */
int stage_resolve(struct build *b, struct cairn_error *err);
