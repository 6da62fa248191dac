/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn verify's comparison: the outputs of a fresh rebuild against what an output directory
 * holds, digest by digest, and when they differ, file by file (treediff.h).
 *
 * Every digest is recomputed from the bytes OUT holds: a blob whose content no longer matches
 * its name, or a manifest that still names the original digest after a layer was altered, is
 * found as well as a different manifest. OUT is only read.
 */
#pragma once

#include <stdbool.h>

#include "state/build.h"
#include "base/digest.h"
#include "tree/store.h"
#include "tree/tree.h"
#include "tree/treediff.h"

#define VERIFY_VALUE_MAX 160

/* One compared value: what OUT holds and what the rebuild produced. */
struct verify_item {
        /* "manifest", "layer app blob", "rootfs tar", ...: room for the longest, "layer NAME blob
         * (content does not match its name)" with a variant name of RECIPE_VARIANT_NAME_MAX. */
        char what[128];
        char out[VERIFY_VALUE_MAX];     /* "sha256:...", or "missing" */
        char rebuilt[VERIFY_VALUE_MAX]; /* "sha256:..." */
};

struct verify_result {
        char *name;                    /* owned; NAME-V */
        char manifest[DIGEST_OCI_LEN]; /* the rebuilt image manifest digest */
        struct verify_item *items;     /* owned, n_items: only the values that differ */
        size_t n_items;
        size_t n_compared;
        /* When something differs: OUT's files against the rebuild's (NULL when not compared). */
        char *diff_source; /* owned; what was compared: "OUT/NAME-V.tar" or the layout */
        struct tree *tree_out, *tree_rebuilt; /* owned */
        struct treediff *diff;                /* owned; borrows the two trees */
        char *diff_error; /* owned; why the files could not be compared, or NULL */
        /* When something differs: one line per kind of difference (explain.h), "KIND: ...".
         * Owned, NULL-terminated, NULL when reproducible. */
        char **why;
};

void verify_result_free(struct verify_result *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct verify_result *, verify_result_free)

static inline bool verify_reproducible(const struct verify_result *r)
{
        return r->n_items == 0;
}

/*
 * Compares variant v of the finished build b, whose outputs are in rebuilt_dir, with the same
 * outputs under out_dir: index.json, the manifest, config and every layer (blob digest,
 * recomputed blob content, diff_id), the rootfs tar, the SBOM and its artifact manifest. File
 * contents of the compared trees go into store. *ret is owned by the caller; differences are
 * results, not errors: the return value is negative only when a file could not be read for
 * another reason than being absent.
 */
int verify_variant(const struct build *b, const struct build_variant *v, const char *rebuilt_dir,
                   const char *out_dir, struct store *store, struct verify_result **ret,
                   struct cairn_error *err);

/*
 * Compares variant v of the finished build b with the manifest a registry serves for it
 * (manifest, len bytes, whose digest is served, fetched from where): the manifest digest and,
 * when it differs, what the served manifest names: its media type, config and each layer's
 * blob, and with the served config (config, config_len; NULL when not fetched) each diff_id.
 * *ret is owned by the caller; differences are results, not errors.
 */
int verify_against_manifest(const struct build *b, const struct build_variant *v, const char *where,
                            const char *served, const char *manifest, size_t len,
                            const char *config, size_t config_len, struct verify_result **ret);

/* The config digest a served manifest names (into out), or "" when it names none. */
void verify_manifest_config(const char *manifest, size_t len, char out[DIGEST_OCI_LEN]);

/* "gzip" or "zstd" from the media type of a served manifest's first layer, or NULL. */
const char *verify_manifest_compression(const char *manifest, size_t len);

/* True when out_dir holds any output of variant (NAME-V/ or NAME-V.tar). */
bool verify_out_has_variant(const char *out_dir, const char *name, const char *variant);

/*
 * The layer compression ("gzip" or "zstd") of the image ref names in OUT's layout NAME-V, so
 * the rebuild writes the same; NULL when it cannot be told (no layout, no layers, another type).
 */
const char *verify_out_compression(const char *out_dir, const char *name, const char *variant,
                                   const char *ref);
