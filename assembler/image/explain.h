/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Why two builds of an image differ (cairn verify, cairn diff; docs/reproducibility.md), one
 * line per kind of difference:
 *
 *   content     files other than cairn-init differ (how many; the file list is treediff's)
 *   cairn-init  /sbin/cairn-init differs (both SHA-256): another cairn-init was installed
 *   compressor  a layer's blob differs while its tar does not (the same diff_id, and A's blob
 *               really holds that tar): the algorithm and library version of each side, from
 *               index.json's dev.cairn.compressor annotation (written for zstd layouts)
 *   tar         the same files, but the layer or rootfs tars differ (the tar writer)
 *   metadata    which fields of the image config, the image manifest, index.json or the SBOM
 *               differ, beyond the digests and sizes that follow from the differences above
 *
 * Nothing here decides whether the images are the same: callers compare digests first.
 */
#pragma once

#include "tree/store.h"
#include "tree/treediff.h"

/* What one side is: an OCI layout (layout and ref, the image's ref name) and/or a tree of its
 * files, a label for messages ("OUT", "rebuilt", a path), and optionally its SBOM file. Every
 * field may be NULL but label. */
struct explain_side {
        const char *label;
        bool here; /* written by this cairn just now (verify's rebuild): an unrecorded
                      compressor is this machine's library */
        const char *layout;
        const char *ref;
        const char *
                arch; /* picks the manifest of an image index (ocilayout_describe); NULL: its only one */
        const char *sbom;
        const struct tree *tree;
};

/*
 * Appends to *lines (NULL-terminated, owned by the caller) one line per kind of difference
 * between a and b, "KIND: what". diff (may be NULL) is the trees' treediff; store holds both
 * trees' contents (for cairn-init's SHA-256) and takes the contents of layers loaded to tell
 * why their tars differ when the images' files do not (a layer shared with another variant
 * may hold what this one whites out). 0 or -ENOMEM: what cannot be read is passed over.
 */
int explain_differences(const struct explain_side *a, const struct explain_side *b,
                        const struct treediff *diff, struct store *store, char ***lines);
