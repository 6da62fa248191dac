/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage artifacts: Inserts the variant's artifacts (local files, directories walked in sorted order,
 * tar archives) into v->tree, in layer app, checking sha256 pins.
 */
#pragma once

#include "state/build.h"

int stage_artifacts(struct build *b, struct build_variant *v, struct cairn_error *err);

/*
 * Unpacks the tar archive readable from fd (any compression; fd is borrowed) under a->dest into
 * v->tree, exactly as the stage does for an archive artifact; src_path names it in messages.
 * The entry point of the archive fuzz target.
 */
int artifacts_unpack_archive(struct build *b, struct build_variant *v,
                             const struct recipe_artifact *a, const char *src_path, int fd,
                             struct cairn_error *err);
