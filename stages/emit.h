/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage emit: Writes every selected variant of b into out_dir (a fresh temporary directory the driver
 * renames into place): NAME-V.tar, the OCI layout NAME-V/ and the SBOM; fills v->emit.
 */
#pragma once

#include "state/build.h"

int stage_emit(struct build *b, const char *out_dir, struct cairn_error *err);

/*
 * The multi-architecture part of emit, after stage_emit ran for each of builds (n > 1, one per
 * architecture, in their fixed order, all emitting into out_dir): for every selected variant V,
 * the image index blob of NAME-V/ listing each architecture's manifest with its platform, and
 * NAME-V/index.json (the index under ref name V, each image under V-ARCH, each SBOM
 * referrer). Fills every build's v->emit.index_digest and index_size.
 */
int stage_emit_platforms(struct build *const *builds, size_t n, const char *out_dir,
                         struct cairn_error *err);
