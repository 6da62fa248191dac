/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage emit: Writes every selected variant of b into out_dir (a fresh temporary directory the driver
 * renames into place): NAME-V.tar, the OCI layout NAME-V/ and the SBOM; fills v->emit.
 */
#pragma once

#include "state/build.h"

int stage_emit(struct build *b, const char *out_dir, struct cairn_error *err);
