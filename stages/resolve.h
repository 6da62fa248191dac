/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage resolve: Resolves the recipe's utilities and packages against its sources with libsolv
 * (DESIGN.md §2, issue 4): fills b->packages. Unsatisfiable requests fail with
 * CAIRN_EXIT_SOURCE and libsolv's problems in plain words.
 */
#pragma once

#include "build.h"

int stage_resolve(struct build *b, struct cairn_error *err);

/* Frees b->resolve_state. Accepts NULL. */
void resolve_state_free(void *state);

/* The package name resolve chose for utility u (a pointer into b->recipe->utilities), or NULL
 * before resolve ran. Borrowed from the resolve state. */
const char *resolve_utility_package(const struct build *b, const struct recipe_utility *u);
