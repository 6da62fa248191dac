/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage programs: the variant's programs: items (docs/recipe.md, "Programs") into v->tree, in
 * layer base, before unpack: each program, its PT_INTERP and the libraries ld.so would load
 * (enforce/closure.h), its dlopen: entries and their libraries, every symlink on the way,
 * found in the packages of the item's Depends closure (resolved by stages/resolve.c). Each
 * package that gave a file also gives its copyright file and status.d/NAME; unpack then
 * writes every status.d/NAME.md5sums. Nothing of a closure package that the program does not
 * load is placed.
 */
#pragma once

#include "state/build.h"

int stage_programs(struct build *b, struct build_variant *v, struct cairn_error *err);
