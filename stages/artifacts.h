/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage artifacts: Inserts the variant's artifacts (local files, directories walked in sorted order,
 * tar archives) into v->tree, in layer app, checking sha256 pins.
 */
#pragma once

#include "build.h"

int stage_artifacts(struct build *b, struct build_variant *v, struct cairn_error *err);
