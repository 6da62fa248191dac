/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI image format as cairn writes it, in one place: the media types and annotation keys,
 * where a blob lives in a layout (blobs/sha256/HEX), the documents (image config, image and
 * artifact manifests, index.json, oci-layout) and the blob files of a layout being written.
 *
 * Documents come out compact with their keys in one fixed order, so equal inputs give equal
 * bytes (DESIGN.md §3). Nothing here knows about a build: callers pass plain values, and own
 * what they pass. Reading a layout is ocilayout.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "compress.h"

#define OCI_MEDIA_TYPE_MANIFEST   "application/vnd.oci.image.manifest.v1+json"
#define OCI_MEDIA_TYPE_INDEX      "application/vnd.oci.image.index.v1+json"
#define OCI_MEDIA_TYPE_CONFIG     "application/vnd.oci.image.config.v1+json"
#define OCI_MEDIA_TYPE_EMPTY      "application/vnd.oci.empty.v1+json"
#define OCI_MEDIA_TYPE_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MEDIA_TYPE_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
/* Docker's manifest and manifest list, which some layouts hold instead of OCI's. */
#define OCI_MEDIA_TYPE_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define OCI_MEDIA_TYPE_DOCKER_MANIFEST_LIST                                                        \
        "application/vnd.docker.distribution.manifest.list.v2+json"
/* The SBOM's media type, and the artifactType of the manifest that attaches it. */
#define OCI_MEDIA_TYPE_SPDX "application/spdx+json"

#define OCI_ANNOTATION_CREATED  "org.opencontainers.image.created"
#define OCI_ANNOTATION_TITLE    "org.opencontainers.image.title"
#define OCI_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
/* On the image's descriptor in index.json of a zstd layout: "zstd VERSION", the libzstd that
 * compressed its layers (docs/reproducibility.md). Not in the image manifest: the image digest
 * stays a function of the blobs. */
#define OCI_ANNOTATION_CAIRN_COMPRESSOR "dev.cairn.compressor"

/* Inside a layout: the blobs' directory, the index and the layout marker. */
#define OCI_BLOBS_DIR   "blobs/sha256"
#define OCI_INDEX_FILE  "index.json"
#define OCI_LAYOUT_FILE "oci-layout"
/* The content of oci-layout. */
#define OCI_LAYOUT_JSON "{\"imageLayoutVersion\":\"1.0.0\"}\n"
/* The empty JSON object: the config blob of an artifact manifest (OCI_MEDIA_TYPE_EMPTY). */
#define OCI_EMPTY_JSON "{}"

/* True when s is "sha256:" and 64 lower-case hex digits: the only digests cairn accepts. */
bool oci_digest_valid(const char *s);

/* LAYOUT/blobs/sha256/HEX for digest "sha256:HEX" into *ret (owned by the caller). 0, -EINVAL
 * when digest is not oci_digest_valid, or -ENOMEM. */
int oci_blob_path(const char *layout, const char *digest, char **ret);

/* The media type of a layer compressed with alg. */
const char *oci_layer_media_type(enum compress_alg alg);

/* ---- documents ---- */

struct oci_annotation {
        const char *key, *value;
};

/*
 * The platform an image runs on, in OCI's words (image-spec "platform", Go's GOARCH names).
 * Debian names its architectures otherwise: oci_platform_from_debian maps them.
 */
struct oci_platform {
        const char *os;           /* "linux" */
        const char *architecture; /* "amd64", "arm64", "arm", "386", "ppc64le", ... */
        const char *variant;      /* "v8", "v7", "v5" for arm and arm64; NULL: none */
};

/*
 * The OCI platform of the Debian architecture debian_arch (amd64, arm64 -> arm64/v8, armhf ->
 * arm/v7, armel -> arm/v5, i386 -> 386, ppc64el -> ppc64le, s390x, riscv64, mips64el ->
 * mips64le, loong64): static strings. -EINVAL for a name with no OCI counterpart.
 */
int oci_platform_from_debian(const char *debian_arch, struct oci_platform *ret);

/*
 * The Debian architecture whose OCI platform is (architecture, variant) (a NULL or empty
 * variant matches the architecture's default: arm64 is v8, arm is v7), or NULL.
 */
const char *oci_platform_to_debian(const char *architecture, const char *variant);

/* What a manifest or an index says about a blob. */
struct oci_descriptor {
        const char *media_type;
        const char *artifact_type; /* NULL: none */
        const char *digest;        /* "sha256:HEX" */
        uint64_t size;
        const struct oci_platform *platform; /* NULL: none (only an index's entries have one) */
        const struct oci_annotation *annotations; /* n_annotations, written in this order */
        size_t n_annotations;
};

/* An image manifest, or with artifact_type an artifact manifest (image-spec 1.1). */
struct oci_manifest {
        const char *artifact_type; /* NULL: an image */
        struct oci_descriptor config;
        const struct oci_descriptor *layers; /* n_layers */
        size_t n_layers;
        const struct oci_descriptor *subject; /* NULL: none */
        const struct oci_annotation *annotations;
        size_t n_annotations; /* 0: no annotations object */
};

/* One layer as the image config records it. */
struct oci_config_layer {
        const char *diff_id;    /* "sha256:HEX" of the uncompressed tar */
        const char *created_by; /* its history entry */
};

/* The Healthcheck of an image config, as Docker reads it (durations in nanoseconds). */
struct oci_healthcheck {
        const char *const *test; /* ["CMD", ARGV...] */
        int64_t interval_ns, timeout_ns, start_period_ns;
        unsigned retries;
};

/* The image config. String lists are NULL-terminated. */
struct oci_config {
        int64_t created; /* epoch seconds: `created` of the image and of every history entry */
        const char *architecture; /* OCI's name (oci_platform) */
        const char *variant;      /* NULL: no variant key (only arm images have one) */
        const char *user;
        const char *const *env;           /* "KEY=VALUE" */
        const char *const *entrypoint;    /* NULL: no Entrypoint key */
        const char *const *cmd;           /* NULL: no Cmd key */
        const char *const *exposed_ports; /* "8080/tcp"; NULL or empty: no ExposedPorts key */
        const char *const *volumes;       /* paths; NULL or empty: no Volumes key */
        const char *workdir;
        const struct oci_annotation *labels; /* n_labels, written in this order */
        size_t n_labels;
        const char *stop_signal;
        const struct oci_healthcheck *healthcheck; /* NULL: no Healthcheck key */
        const struct oci_config_layer *layers;     /* n_layers, bottom first */
        size_t n_layers;
};

/*
 * Render the documents into a new buffer: *ret (owned by the caller, NUL-terminated) and
 * *ret_len. Compact JSON, keys in the order the structs list them; only the index ends with a
 * newline. 0 or -ENOMEM.
 */
int oci_config_render(const struct oci_config *c, char **ret, size_t *ret_len);
int oci_manifest_render(const struct oci_manifest *m, char **ret, size_t *ret_len);
int oci_index_render(const struct oci_descriptor *manifests, size_t n_manifests, char **ret,
                     size_t *ret_len);

/* ---- writing a layout ---- */

/* Creates layout and its blobs directory (and missing parents). */
int oci_layout_create(const char *layout, struct cairn_error *err);

/*
 * A blob whose digest is known only once it is written: *ret_tmp (owned) is a new file
 * LAYOUT/blobs/sha256/.tmp-XXXXXX, mode 0644, open for writing as *ret_fd (owned).
 * oci_blob_commit renames it to its digest; on failure the caller unlinks it.
 */
int oci_blob_open(const char *layout, char **ret_tmp, int *ret_fd, struct cairn_error *err);
int oci_blob_commit(const char *layout, const char *tmp, const char *digest,
                    struct cairn_error *err);

/* Writes buf as a blob of layout; its digest ("sha256:HEX") goes to ret_digest. */
int oci_blob_write(const char *layout, const void *buf, size_t len, char ret_digest[DIGEST_OCI_LEN],
                   struct cairn_error *err);

/* Puts the file src, whose digest is digest, into layout as that blob: a hard link, or a copy
 * where links fail. */
int oci_blob_link(const char *layout, const char *src, const char *digest, struct cairn_error *err);

/* Writes layout's index.json (len bytes of index) and its oci-layout marker. */
int oci_layout_finish(const char *layout, const char *index, size_t len, struct cairn_error *err);
