/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage enforce: Runs the policy enforcer over v->tree with the variant's profile and fills
 * v->verdict. Returns 0 when the checks ran (whatever the verdict); the driver decides.
 */
#pragma once

#include "state/build.h"

int stage_enforce(struct build *b, struct build_variant *v, struct cairn_error *err);
