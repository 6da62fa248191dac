/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage configure: Inserts the recipe's files:, the accounts (/etc/passwd, /etc/group),
 * /etc/os-release and cairn-init into v->tree, in layer base.
 */
#pragma once

#include "state/build.h"

int stage_configure(struct build *b, struct build_variant *v, struct cairn_error *err);
