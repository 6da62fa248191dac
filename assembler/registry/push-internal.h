/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the files of a push share (push.h is the interface): the state of one image's push,
 * the layout's documents (layout.c), blob uploads (blob.c), manifests (push.c) and referrers
 * (referrers.c).
 */
#pragma once

#include "push.h"
#include "recipe/yamlnode.h"

#define MAX_PUSHED 256 /* manifests of one image (an index and its children) */

struct push {
        struct registry_client *c;
        const char *repo;
        const char *layout;
        const struct registry_push_options *o;
        struct registry_push_result *res;
        /* The manifests pushed for the image, by digest: referrers are looked up for them. */
        char pushed[MAX_PUSHED][DIGEST_OCI_LEN];
        size_t n_pushed;
};

/* A document of the layout: index.json, or a manifest blob checked against its descriptor. */
struct doc {
        char *bytes; /* owned */
        size_t len;
        struct ynode *root; /* owned */
        char digest[DIGEST_OCI_LEN];
        char media_type[96];
};

void doc_clear(struct doc *d);

void push_emit(const struct push *p, enum registry_event_kind kind, const char *digest,
               const char *media_type, uint64_t done, uint64_t size, bool acked,
               const char *detail);
const char *push_scalar(const struct ynode *n);
bool push_is_index_type(const char *t);
/* A descriptor's size: a non-negative integer; -EINVAL otherwise. */
int push_descriptor_size(const struct ynode *d, uint64_t *ret);

/* The layout's index.json, read and parsed (at most OCILAYOUT_MAX_JSON bytes). */
int layout_load_index(const char *layout, struct doc *ret, struct cairn_error *err);
/* The manifest or index a descriptor names, read from the layout and checked: its bytes hash
 * to the descriptor's digest and have its size; media_type is the document's own mediaType,
 * else the descriptor's. */
int layout_load_manifest(const char *layout, const struct ynode *desc, struct doc *ret,
                         struct cairn_error *err);
/* True when the index.json descriptor d is attached to something rather than an image. */
bool layout_descriptor_attached(const char *layout, const struct ynode *d);
/*
 * True when the image manifest d of index.json's manifests is also an entry of an image index
 * listed there: cairn's multi-architecture layout lists each architecture's manifest beside
 * the index (ref name V-ARCH, for umoci). It is pushed as a part of that index, not as an
 * image of its own (nor tagged).
 */
bool layout_descriptor_covered(const char *layout, const struct ynode *manifests,
                               const struct ynode *d);
/* True when d names an OCI or Docker manifest or index. */
bool layout_descriptor_is_manifest(const struct ynode *d);
/* d's org.opencontainers.image.ref.name, or NULL. */
const char *layout_ref_name(const struct ynode *d);

/* The registry's Docker-Content-Digest of r, when it sent one, must be want. */
int push_check_digest(const char *what, const char *url, const struct registry_response *r,
                      const char *want, struct cairn_error *err);
/* The blob desc names, unless the registry has it: mounted or uploaded. */
int push_blob(struct push *p, const struct ynode *desc, struct cairn_error *err);
/* Puts bytes as repo's reference (a digest or a tag) unless it is there already: 1 pushed, 0
 * there. *ret_subject (may be NULL) tells whether the registry answered OCI-Subject. */
int push_put_manifest(struct push *p, const char *reference, const char *bytes, size_t len,
                      const char *media_type, const char *digest, bool *ret_subject,
                      struct cairn_error *err);
/* The blobs of the manifest (or the manifests of the index) desc names, then itself, by
 * digest; *ret_doc (may be NULL) gets its document. */
int push_tree(struct push *p, const struct ynode *desc, unsigned depth, bool *ret_subject,
              struct doc *ret_doc, struct cairn_error *err);
/* Every descriptor of index.json attached to a manifest pushed: pushed, then listed. */
int push_referrers(struct push *p, const struct ynode *manifests, struct cairn_error *err);
