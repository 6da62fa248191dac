/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pushing an image (or an index) of an OCI layout, with everything attached to it, to a
 * repository of a registry (client.h), with its digests unchanged:
 *
 *   1. every blob the image's manifests name (config, layers; for an index, those of each
 *      manifest it lists), each only when the registry lacks it: HEAD, then a cross-repository
 *      mount from each --mount-from repository, then an upload: monolithic (POST, PUT) up to
 *      the chunk size, else chunked (POST, PATCH..., PUT), and chunked as a fallback when the
 *      registry refuses a monolithic body as too large (413). The bytes are hashed as they are
 *      sent and the upload is aborted before its last byte when they do not match the digest;
 *   2. the manifests, by digest, exactly the bytes the layout holds (children before the
 *      index that lists them);
 *   3. the referrers: every manifest of the layout's index.json whose `subject` is one of the
 *      manifests pushed (cairn's SBOM artifact manifest), its blobs and itself by digest, then
 *      listed where clients look for it: nothing more when the registry has the referrers API
 *      (it answered OCI-Subject, or GET /v2/NAME/referrers/DIGEST answers 200), else the
 *      fallback tag of the referrers tag schema (an index tagged sha256-HEX), merged with what
 *      that tag already lists;
 *   4. last, the tag: a tag that exists always names a complete image with its SBOM.
 *
 * Every step first asks whether the registry already has what it would send, so a second
 * push uploads nothing, and a push that was killed leaves only complete blobs and manifests
 * behind (an upload session cut off is never committed) that the next push finds. The digest
 * the registry answers (Docker-Content-Digest) must be the local one: CAIRN_EXIT_SOURCE
 * otherwise.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "client.h"

#define REGISTRY_CHUNK_DEFAULT (32u << 20) /* blobs above it go in chunks of this size */
#define REGISTRY_MAX_DEPTH     4           /* indexes nested in indexes */

enum registry_event_kind {
        REGISTRY_BLOB_EXISTS,      /* the registry has it */
        REGISTRY_BLOB_MOUNTED,     /* mounted from detail (a repository) */
        REGISTRY_BLOB_PROGRESS,    /* done of size bytes sent (live; a chunk acknowledged when
                                      acked is set) */
        REGISTRY_BLOB_PUSHED,      /* uploaded */
        REGISTRY_MANIFEST_EXISTS,  /* by digest */
        REGISTRY_MANIFEST_PUSHED,  /* by digest */
        REGISTRY_REFERRERS_API,    /* the registry lists digest's referrers itself */
        REGISTRY_REFERRERS_LISTED, /* the fallback tag detail already lists them */
        REGISTRY_REFERRERS_PUSHED, /* the fallback tag detail was updated */
        REGISTRY_TAG_UNCHANGED,    /* the tag detail already names digest */
        REGISTRY_TAG_PUSHED,       /* the tag detail now names digest */
};

struct registry_event {
        enum registry_event_kind kind;
        const char *digest;     /* the blob or manifest */
        const char *media_type; /* its media type, when known */
        uint64_t done, size;    /* bytes */
        bool acked;             /* PROGRESS: the registry acknowledged done bytes */
        const char *detail;     /* see the kinds above, or NULL */
};

typedef void (*registry_progress_fn)(void *data, const struct registry_event *e);

struct registry_push_options {
        const char *const *mount_from; /* NULL-terminated repositories, or NULL */
        uint64_t chunk_size;           /* 0: REGISTRY_CHUNK_DEFAULT */
        registry_progress_fn progress; /* NULL: none */
        void *data;
};

struct registry_push_result {
        char digest[DIGEST_OCI_LEN]; /* of the manifest or index the tag names */
        char media_type[96];
        size_t blobs_uploaded, blobs_existing, blobs_mounted;
        size_t manifests_pushed;
        size_t referrers;                   /* manifests attached to the image */
        bool referrers_api;                 /* listed by the registry's referrers API */
        char referrers_tag[DIGEST_OCI_LEN]; /* else the fallback tag, "" when none */
};

/*
 * Lists the images of layout: the ref names (org.opencontainers.image.ref.name) of the
 * manifests and indexes its index.json lists that are not attached to another (no
 * artifactType, no subject). *ret is NULL-terminated and owned by the caller; an image
 * without a ref name is "".
 */
int registry_layout_images(const char *layout, char ***ret, struct cairn_error *err);

/*
 * Pushes the image of layout named ref_name (NULL: the only image) and its referrers to repo
 * as tag (see above). *ret is filled on success.
 */
int registry_push_image(struct registry_client *c, const char *repo, const char *layout,
                        const char *ref_name, const char *tag,
                        const struct registry_push_options *o, struct registry_push_result *ret,
                        struct cairn_error *err);

/*
 * Fetches the manifest (or index) repo:reference names (a tag or a digest): its bytes
 * (*ret, owned, NUL-terminated, at most REGISTRY_MAX_RESPONSE) and *ret_digest, computed
 * from those bytes (and checked against a digest reference and the registry's
 * Docker-Content-Digest). ret_media_type gets its Content-Type (96 bytes, may be "").
 */
int registry_fetch_manifest(struct registry_client *c, const char *repo, const char *reference,
                            char **ret, size_t *ret_len, char ret_digest[DIGEST_OCI_LEN],
                            char ret_media_type[96], struct cairn_error *err);

/* Fetches a small blob (at most REGISTRY_MAX_RESPONSE bytes) and checks its digest. */
int registry_fetch_blob(struct registry_client *c, const char *repo, const char *digest, char **ret,
                        size_t *ret_len, struct cairn_error *err);
