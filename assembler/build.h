/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline driver and the state the stages share (DESIGN.md §1).
 *
 *   parse -> resolve -> fetch -> unpack -> layout (artifacts, configure) -> enforce -> emit
 *
 * Each stage is a function in stages/ that reads what earlier stages put into struct build and
 * adds its own part; no stage calls another. build_run() calls them in order. Stages never
 * print; the command layer prints the summary and the error.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "debcache.h"
#include "error.h"
#include "lockfile.h"
#include "recipe.h"
#include "store.h"
#include "tree.h"

struct build_options {
        const char *recipe_path;
        const char *out_dir;      /* NULL: no output written (check, profile) */
        const char *cache_dir;    /* NULL: $XDG_CACHE_HOME/cairn or ~/.cache/cairn */
        const char *only_variant; /* NULL or "all": every declared variant */
        int64_t epoch;            /* -1: SOURCE_DATE_EPOCH, else the recipe's, else 0 */
        const char *init_binary;  /* NULL: the compiled-in location of cairn-init */
        const char *compression;  /* "gzip" (default) or "zstd" */
        const char *lock_path;    /* NULL: NAME.lock.json beside the recipe */
        bool locked;              /* a missing or stale lock is an error */
        bool refresh_lock;        /* resolve afresh even when the lock is consistent */
        bool offline, quiet;
        bool no_layer_cache; /* compress every layer afresh, use no cached one (cairn verify) */
};

/* One Debian package the build needs (filled by resolve, fetch adds local_path). */
struct build_package {
        char *name, *version, *arch; /* owned */
        char *source;                /* owned; the recipe source's name */
        char *filename;              /* owned; Filename: relative to the source URL */
        char *sha256;                /* owned; hex, from Packages */
        char *maintainer;            /* owned; may be NULL */
        char *url;                   /* owned; full download location */
        uint64_t size;
        char *local_path;           /* owned; the verified .deb in the cache (fetch) */
        recipe_variant_mask whole;  /* variants that install the whole package */
        recipe_variant_mask picked; /* variants that pick files out of it (utilities) */
        char **needed_by; /* owned, NULL-terminated, sorted: "utility REQ", "package REQ" */
        struct deb_contents *contents; /* owned; what the .deb holds (unpack), or NULL */
};

/* Frees what p owns (not p itself). */
void build_package_clear(struct build_package *p);

/* How this build came by its packages (DESIGN.md §2, issue 4). */
enum build_lock_state {
        BUILD_LOCK_NONE,     /* the recipe names no Debian packages: no lock */
        BUILD_LOCK_USED,     /* the lock was consistent with the recipe and pinned everything */
        BUILD_LOCK_CREATED,  /* there was no lock: resolved afresh */
        BUILD_LOCK_REFRESHED /* the lock was stale (or refresh_lock): resolved afresh */
};

/* Per-variant enforcer verdict, filled by the enforce stage. */
struct build_verdict {
        bool ran;
        bool passed;
        size_t n_errors, n_warnings;
        char *summary; /* owned; one line for the build summary, e.g. "pass (strict)" */
        char *report;  /* owned; the findings as text for people, printed by the command */
};

/* Per-variant emit results, filled by the emit stage. Digests are "sha256:HEX". */
struct build_layer_result {
        char name[16];    /* "base", "app", "dev" */
        char digest[72];  /* compressed blob digest */
        char diff_id[72]; /* uncompressed tar digest */
        uint64_t size;    /* compressed size */
};

struct build_emit_result {
        char manifest_digest[72];
        uint64_t manifest_size;
        char config_digest[72];
        char tar_digest[72]; /* sha256 of NAME-V.tar */
        uint64_t tar_size;
        size_t n_entries;
        struct build_layer_result layers[4];
        size_t n_layers;
        char sbom_digest[72];          /* sha256 of NAME-V.spdx.json, also a blob of the layout */
        char sbom_manifest_digest[72]; /* the artifact manifest attaching it to the image */
        uint64_t sbom_manifest_size;
};

struct build_variant {
        const char *name;         /* borrowed from the recipe */
        struct recipe_view *view; /* owned */
        struct tree *tree;        /* owned */
        struct build_verdict verdict;
        struct build_emit_result emit;
        bool selected; /* emitted (as opposed to built only to share layers) */
};

struct build {
        struct build_options opts;
        struct recipe *recipe;     /* owned */
        int64_t epoch;             /* effective: --epoch > SOURCE_DATE_EPOCH > recipe > 0 */
        const char *arch;          /* effective Debian architecture; borrowed */
        char *cache_dir;           /* owned; effective cache directory */
        char *work_dir;            /* owned; private temp dir, removed by build_free */
        char *tmp_out;             /* owned; temp sibling of opts.out_dir, renamed at the end */
        struct store *store;       /* owned; object store for this build (under the cache) */
        struct store *cache_store; /* owned; CACHE/objects, package contents (unpack) */
        bool cache_store_failed;   /* CACHE/objects could not be opened: not retried */

        struct build_variant *variants; /* owned, n_variants, in recipe order */
        size_t n_variants;

        struct build_package *packages; /* owned, sorted by name */
        size_t n_packages;
        char **pkg_with_scripts; /* owned, NULL-terminated: packages whose maintainer
                                           scripts were not run */

        void *resolve_state; /* owned by stages/resolve.c (freed by resolve_state_free) */

        char *lock_path;                  /* owned; effective lock file path */
        enum build_lock_state lock_state; /* set by resolve */
        struct lockfile *lock_old;        /* owned; the lock found on disk, or NULL */
        struct lockfile *lock;            /* owned; this build's resolution (after fetch) */
        char **lock_changes;              /* owned, NULL-terminated: lockfile_diff lines */

        /* Progress for people (one line per downloaded file); set by the command layer,
         * NULL for none. Stages report through it and never print themselves. */
        void (*progress)(void *data, const char *what);
        void *progress_data;
};

/*
 * Parses the recipe and prepares views, trees and the store (no network, no output).
 * On success *ret is owned by the caller.
 */
int build_new(const struct build_options *opts, struct build **ret, struct cairn_error *err);
void build_free(struct build *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct build *, build_free)
#define _cleanup_build_ _cleanup_(build_freep)

/* Runs resolve and fetch: b->packages are chosen and verified in the cache, and b->lock holds
 * the resolution (the lock file's contents). */
int build_resolve(struct build *b, struct cairn_error *err);
/* Runs build_resolve, then unpack .. configure: every variant's tree is complete afterwards. */
int build_layout(struct build *b, struct cairn_error *err);
/* Writes b->lock to b->lock_path when it differs from what is there (or `force`). Sets
 * *ret_written. A build without Debian packages writes nothing. */
int build_write_lock(struct build *b, bool force, bool *ret_written, struct cairn_error *err);
/* Runs the enforcer on every variant; -EPERM (class CAIRN_EXIT_POLICY) when one fails. */
int build_enforce(struct build *b, struct cairn_error *err);
/* Writes every selected variant into a temp sibling of opts.out_dir and renames into place. */
int build_emit(struct build *b, struct cairn_error *err);

/* The variant called name, or NULL. */
struct build_variant *build_find_variant(struct build *b, const char *name);
