/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage reads: the reads record (recipe/readsfile.h) for the programs: items that keep only
 * what it lists (`only-read: true`). Run once, after resolve (the record's packages digest is
 * compared with the build's). A current record goes into b->reads; a missing or stale one
 * keeps every match (b->reads_state says which), and is an error under --locked.
 */
#pragma once

#include "state/build.h"

int stage_reads(struct build *b, struct cairn_error *err);

/* "sha256:HEX" of the build's packages, the record's `packages` (readsfile_packages_digest
 * over b->packages in their order, sorted by name). */
int reads_packages_digest(const struct build *b, char out[72]);
