/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between recipe.c (model, views) and recipe-parse.c (the schema walk). */
#pragma once

#include "recipe.h"
#include "yamlnode.h"

/*
 * Fills r from the YAML tree, reporting every problem into err as
 * "FILE:LINE:COL: error: ...". Returns -EINVAL when any was found. r is partially filled
 * either way and must be released with recipe_free.
 */
int recipe_walk(const char *file, const struct ynode *root, struct recipe *r,
                struct cairn_error *err);
