/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading an existing image into a tree + store: a directory, a rootfs tar (any compression
 * libarchive reads) or an OCI image layout (index.json -> manifest -> layers applied in order,
 * whiteouts ".wh.NAME" and opaque ".wh..wh..opq" honoured; the layout itself is read by
 * ocilayout.h). Used by `cairn enforce`, `cairn diff` and `cairn verify`.
 *
 * Hardlinks become regular files sharing the store object of their target. Modes keep the
 * permission bits; ownership is kept numerically.
 */
#pragma once

#include "base/error.h"
#include "tree/store.h"
#include "tree/tree.h"

#define IMAGE_MAX_ENTRIES (1024 * 1024)
#define IMAGE_MAX_FILE    ((uint64_t)16 << 30) /* one file's size */
#define IMAGE_MAX_LINK    4096                 /* symlink target length */

enum image_kind {
        IMAGE_DIRECTORY,
        IMAGE_TAR,
        IMAGE_OCI,
};

const char *image_kind_name(enum image_kind k);

/*
 * Loads path into a new tree whose file contents go into store. `ref` picks the image of an
 * OCI layout by its org.opencontainers.image.ref.name annotation; NULL requires the layout to
 * hold exactly one image. `arch` (a Debian architecture) picks the manifest of an image index
 * by platform, NULL its only one (see ocilayout_foreach_layer); it is ignored for a directory,
 * a tar or a single image. On success *ret (owned by the caller) is the tree and *ret_kind (may
 * be NULL) what path was. Errors name the path, the member and the limit.
 */
int image_load(const char *path, const char *ref, const char *arch, struct store *store,
               struct tree **ret, enum image_kind *ret_kind, struct cairn_error *err);

/*
 * The Debian architectures path holds, for callers that default to every architecture: an OCI
 * layout's (ocilayout_archs: an index's platforms, a single image's config), none for a
 * directory or a tar. *ret is owned, NULL-terminated, maybe empty.
 */
int image_archs(const char *path, const char *ref, char ***ret, struct cairn_error *err);
