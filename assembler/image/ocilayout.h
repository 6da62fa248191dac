/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading an OCI image layout: index.json (and nested indexes holding one image) to the image
 * manifest picked by ref name, that manifest's layers and config, and the SBOM attached to the
 * image. Used by image_load (image.h) and `cairn verify`.
 *
 * Every JSON document (index.json, manifests, configs) is read with cairn's strict loader
 * (recipe/yamlnode.h): at most OCILAYOUT_MAX_JSON bytes, bounded nesting and node count, no
 * YAML aliases or tags, and a key given twice in any object is an error naming the file, line
 * and column. Digests must be sha256:<64 lower-case hex digits>.
 */
#pragma once

#include <stddef.h>

#include "base/digest.h"
#include "base/error.h"

#define OCILAYOUT_MAX_JSON      (4 * 1024 * 1024) /* index.json / manifest / config size */
#define OCILAYOUT_MAX_LAYERS    256
#define OCILAYOUT_MAX_MANIFESTS 1024 /* entries of one index */

/* 1 when dir is an OCI layout (it holds an oci-layout file), 0 when not, or -ENOMEM. */
int ocilayout_detect(const char *dir);

/* Called with each layer's blob file (borrowed for the call), bottom layer first (i = 0).
 * A negative return stops the walk and is returned by ocilayout_foreach_layer. */
typedef int (*ocilayout_layer_fn)(void *data, size_t i, const char *blob, struct cairn_error *err);

/*
 * Calls fn for every layer of the image that ref picks by its org.opencontainers.image.ref.name
 * annotation; NULL requires the layout to hold exactly one image (SBOMs, signatures and other
 * artifacts attached to an image do not count; nor do the per-architecture entries of cairn's
 * multi-architecture layout, which repeat what its image index lists: that layout holds one
 * image, the index).
 *
 * When the pick is an image index (nested indexes are followed, at most 4 deep), arch (a Debian
 * name: amd64, arm64, armhf, ...) picks its manifest by the entries' platform: os linux, the
 * OCI architecture and variant of oci_platform_from_debian, a missing variant matching the
 * architecture's default (arm64 v8, arm v7). NULL arch takes the index's only image; an index
 * of several platforms is then an error listing them ("holds linux/amd64, linux/arm64/v8; pick
 * one with --arch"), and so is an arch it lacks. arch does not pick anything on a single
 * image manifest (it is the enforcer's business there).
 *
 * Every blob on the way is hashed against its digest before it is used, each layer's just
 * before fn sees it.
 */
int ocilayout_foreach_layer(const char *layout, const char *ref, const char *arch,
                            ocilayout_layer_fn fn, void *data, struct cairn_error *err);

/*
 * The Debian architectures of the image ref picks (like ocilayout_foreach_layer): an image
 * index's platforms in its order, or a single image's from its config's architecture and
 * variant (none when it names no architecture cairn knows). *ret (owned, NULL-terminated, maybe
 * empty) is for callers that default to every architecture. A platform with no Debian name is
 * an error naming it. Blobs are hashed before they are read.
 */
int ocilayout_archs(const char *layout, const char *ref, char ***ret, struct cairn_error *err);

struct ocilayout_layer {
        char digest[DIGEST_OCI_LEN]; /* compressed blob */
        char *media_type;            /* owned; "" when the manifest gives none */
};

/* What an OCI layout says about one of its images, read without hashing any blob. */
struct ocilayout_info {
        char manifest[DIGEST_OCI_LEN]; /* from index.json */
        char config[DIGEST_OCI_LEN];
        struct ocilayout_layer *layers; /* owned, n_layers, in manifest order */
        size_t n_layers;
        char (*diff_ids)[DIGEST_OCI_LEN]; /* owned, n_diff_ids, from the config */
        size_t n_diff_ids;
        /* The SPDX SBOM attached in index.json (artifactType application/spdx+json) whose
         * subject is this manifest: its artifact manifest and its blob. Empty strings when the
         * layout has none. */
        char sbom_manifest[DIGEST_OCI_LEN];
        char sbom[DIGEST_OCI_LEN];
};

void ocilayout_info_free(struct ocilayout_info *info);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ocilayout_info *, ocilayout_info_free)

/*
 * Reads index.json, the manifest picked by ref and arch (like ocilayout_foreach_layer) and its
 * config, and the SBOM referrer. Blobs are read but not hashed: the caller compares digests
 * itself (cairn verify reports a mismatch as a difference, not as an error). *ret is owned by
 * the caller.
 */
int ocilayout_describe(const char *layout, const char *ref, const char *arch,
                       struct ocilayout_info **ret, struct cairn_error *err);
