/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage resolve: Resolves the recipe's utilities and packages against its sources with libsolv
 * (DESIGN.md §2, issue 4): fills b->packages. Unsatisfiable requests fail with
 * CAIRN_EXIT_SOURCE and libsolv's problems in plain words.
 */
#pragma once

#include "build.h"

/*
 * Uses the lock file (b->lock_path) when it is consistent with the recipe: then no index is
 * loaded and b->packages come from the lock. Otherwise (or with opts.refresh_lock) resolves
 * afresh; with opts.locked a missing or stale lock is a CAIRN_EXIT_USAGE error instead.
 * Sets b->lock_state and b->lock_old.
 */
int stage_resolve(struct build *b, struct cairn_error *err);

/* The lock file contents for what resolve chose (call after fetch, which fills the sizes).
 * *ret is owned by the caller. */
int resolve_make_lock(struct build *b, struct lockfile **ret);

/* Frees b->resolve_state. Accepts NULL. */
void resolve_state_free(void *state);

/* The package name resolve chose for utility u (a pointer into b->recipe->utilities), or NULL
 * before resolve ran. Borrowed from the resolve state. */
const char *resolve_utility_package(const struct build *b, const struct recipe_utility *u);
