/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software bill of materials of one variant: NAME-V.spdx.json, SPDX 2.3 in JSON.
 *
 * Everything in it is derived from the build (no random UUIDs, no wall clock), so equal
 * builds give equal bytes. The document DESCRIBES one package for the image itself, which
 * CONTAINS one package per Debian package, per artifact and for cairn-init; each of those
 * CONTAINS the regular files it put into the tree (matched by the tree entry's origin) and the
 * image package CONTAINS the rest (generated and inline files). The image is also
 * GENERATED_FROM each Debian and artifact package.
 */
#pragma once

#include "state/build.h"
#include "base/error.h"

/* Caps the per-file hashing work: an SBOM larger than this is refused (E2BIG). */
#define SBOM_MAX_FILES 1000000

/*
 * Renders the SBOM of v (whose manifest digest must be known) into memory: *ret (owned by the
 * caller, NUL-terminated) and *ret_len. Reads every regular file's content from b->store once
 * to compute its SHA-1 and SHA-256. 0 or -errno with err.
 */
int sbom_render_buf(const struct build *b, const struct build_variant *v, char **ret,
                    size_t *ret_len, struct cairn_error *err);
