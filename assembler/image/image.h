/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading an existing image into a tree + store: a directory, a rootfs tar (any compression
 * libarchive reads) or an OCI image layout (index.json -> manifest -> layers applied in order,
 * whiteouts ".wh.NAME" and opaque ".wh..wh..opq" honoured). Used by `cairn enforce` and
 * `cairn diff`.
 *
 * Hardlinks become regular files sharing the store object of their target. Modes keep the
 * permission bits; ownership is kept numerically.
 */
#pragma once

#include "base/digest.h"
#include "base/error.h"
#include "tree/store.h"
#include "tree/tree.h"

#define IMAGE_MAX_ENTRIES (1024 * 1024)
#define IMAGE_MAX_FILE    ((uint64_t)16 << 30) /* one file's size */
#define IMAGE_MAX_LAYERS  256
#define IMAGE_MAX_JSON    (4 * 1024 * 1024) /* index.json / manifest size */
#define IMAGE_MAX_LINK    4096              /* symlink target length */

enum image_kind {
        IMAGE_DIRECTORY,
        IMAGE_TAR,
        IMAGE_OCI,
};

const char *image_kind_name(enum image_kind k);

/*
 * Loads path into a new tree whose file contents go into store. `ref` picks the image of an
 * OCI layout by its org.opencontainers.image.ref.name annotation; NULL requires the layout to
 * hold exactly one image. On success *ret (owned by the caller) is the tree and *ret_kind (may
 * be NULL) what path was. Errors name the path, the member and the limit.
 */
int image_load(const char *path, const char *ref, struct store *store, struct tree **ret,
               enum image_kind *ret_kind, struct cairn_error *err);

struct image_oci_layer {
        char digest[DIGEST_OCI_LEN]; /* compressed blob */
        char media_type[128];
};

/* What an OCI layout says about one of its images, read without hashing any blob. */
struct image_oci_info {
        char manifest[DIGEST_OCI_LEN]; /* from index.json */
        char config[DIGEST_OCI_LEN];
        struct image_oci_layer *layers; /* owned, n_layers, in manifest order */
        size_t n_layers;
        char (*diff_ids)[DIGEST_OCI_LEN]; /* owned, n_diff_ids, from the config */
        size_t n_diff_ids;
        /* The SPDX SBOM attached in index.json (artifactType application/spdx+json): its
         * artifact manifest and its blob. Empty strings when the layout has none. */
        char sbom_manifest[DIGEST_OCI_LEN];
        char sbom[DIGEST_OCI_LEN];
};

void image_oci_info_free(struct image_oci_info *info);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct image_oci_info *, image_oci_info_free)

/*
 * Reads index.json, the manifest picked by ref (like image_load) and its config, and the
 * SBOM referrer. Blobs are read but not hashed: the caller compares digests itself (cairn
 * verify reports a mismatch as a difference, not as an error). *ret is owned by the caller.
 */
int image_oci_describe(const char *layout, const char *ref, struct image_oci_info **ret,
                       struct cairn_error *err);
