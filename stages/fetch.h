/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage fetch: Downloads and verifies what resolve chose into the cache: every b->packages entry
 * gets local_path. Verification failures are CAIRN_EXIT_SOURCE and leave nothing unverified
 * in the cache.
 */
#pragma once

#include "state/build.h"

int stage_fetch(struct build *b, struct cairn_error *err);
