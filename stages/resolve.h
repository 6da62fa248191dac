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
