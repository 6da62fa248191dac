/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage unpack: Inserts the files of the variant's utilities (only the named picks) and whole
 * packages into v->tree, in layer base. Never runs maintainer scripts.
 */
#pragma once

#include "build.h"

int stage_unpack(struct build *b, struct build_variant *v, struct cairn_error *err);
