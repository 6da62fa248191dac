/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state the stages share (DESIGN.md §1): the options, the parsed recipe, one tree per
 * variant, the chosen Debian packages, the lock, and each variant's verdict and emit results.
 *
 * Each stage (stages/) reads what earlier stages put here and adds its own part; no stage
 * calls another. stages/pipeline.c calls them in order. Nothing here runs a stage.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "debian/debcache.h"
#include "debian/debrepo.h"
#include "base/error.h"
#include "recipe/lockfile.h"
#include "recipe/readsfile.h"
#include "recipe/recipe.h"
#include "runtime/runtime.h"
#include "state/initbin.h"
#include "tree/store.h"
#include "tree/tree.h"

struct build_options {
        const char *recipe_path;
        const char *out_dir;      /* NULL: no output written (check, profile) */
        const char *cache_dir;    /* NULL: $XDG_CACHE_HOME/cairn or ~/.cache/cairn */
        const char *only_variant; /* NULL or "all": every declared variant */
        int64_t epoch;            /* -1: SOURCE_DATE_EPOCH, else the recipe's, else 0 */
        const char *init_binary;  /* NULL: the compiled-in location of cairn-init */
        const char *compression;  /* "gzip" (default) or "zstd" */
        const char *lock_path;    /* NULL: RECIPE.lock.json beside RECIPE.yaml */
        const char *context_dir;  /* --context: the build context; NULL: the recipe's */
        bool locked;              /* a missing or stale lock is an error */
        bool refresh_lock;        /* resolve afresh even when the lock is consistent */
        bool offline, quiet;
        bool no_layer_cache; /* compress every layer afresh, use no cached one (cairn verify) */
        bool no_init;        /* nothing is installed (cairn check): cairn-init is not looked for */
        const char *reads_path; /* NULL: RECIPE.reads.json beside the recipe */
        bool ignore_reads;      /* keep every pattern match (cairn profile --write-reads) */
        bool confirm_lock;      /* the lock on disk is checked against the verified indexes
                                   (cairn verify, cairn lock --check) */
        /* The Debian architecture to build, one the recipe's arch: names; NULL: the host's
         * when the recipe names it (or names none), else the recipe's first. */
        const char *arch;
        /* One build of several (build_set): outputs carry the architecture in their names
         * (NAME-V-ARCH.tar, NAME-V-ARCH.spdx.json) and the layout NAME-V/ is shared, its
         * index.json written by the set (docs/multiarch.md). */
        bool multi_arch;
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
        bool deb_unchecked;         /* local_path not hashed yet: its sealed member list was cached,
                               so it is hashed only if it is read (unpack) */
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

/* Whether the reads record decided what only-read patterns keep (stages/reads.c). */
enum build_reads_state {
        BUILD_READS_NONE,    /* no item asks for it (or --write-reads ignores it) */
        BUILD_READS_USED,    /* the record is current and filters the patterns */
        BUILD_READS_MISSING, /* there is none: every match is kept */
        BUILD_READS_STALE,   /* made with other packages: every match is kept */
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
        char name[RECIPE_VARIANT_NAME_MAX + 1]; /* "base", "app", or a variant's name */
        char digest[72];                        /* compressed blob digest */
        char diff_id[72];                       /* uncompressed tar digest */
        uint64_t size;                          /* compressed size */
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
        /* A multi-architecture build: the image index of NAME-V/ listing every architecture's
         * manifest (the same in each build of the set); empty otherwise. */
        char index_digest[72];
        uint64_t index_size;
};

struct build_variant {
        const char *name;                 /* borrowed from the recipe */
        struct recipe_view *view;         /* owned */
        struct tree *tree;                /* owned */
        struct runtime_manifest *runtime; /* owned; /etc/cairn/runtime.json (stage runtime) */
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

        /* Per recipe source (recipe->n_sources of them): its base URL, and the verified
         * Release's digest and date when resolve loaded it. Owned; filled by the lock stage or
         * resolve. */
        struct debrepo_info *source_info;
        /* Per recipe utility (recipe->n_utilities of them): the name of the package chosen
         * for it, NULL until the lock stage or resolve chose one. Owned. */
        char **utility_packages;

        char *lock_path;      /* owned; effective lock file path */
        char *lock_read_path; /* owned; the old NAME.lock.json, read because lock_path does not
                                 exist yet (build_new), or NULL */
        enum build_lock_state lock_state; /* set by resolve */
        struct lockfile *lock_old;        /* owned; the lock found on disk (this architecture's
                                             section of it), or NULL */
        char **lock_file_archs;           /* owned, NULL-terminated: every architecture the lock
                                             file on disk holds a section for */
        struct lockfile *lock;            /* owned; this build's resolution (after fetch) */
        char **lock_changes;              /* owned, NULL-terminated: lockfile_diff lines */
        bool lock_init_changed;           /* the lock pinned its packages but not this cairn-init */
        size_t lock_unconfirmed; /* confirm_lock: locked packages the indexes no longer list */

        /* The cairn-init run.init installs, found and hashed by the lock stage when a variant
         * runs it (the lock pins its SHA-256); the configure stage stores these bytes. */
        struct initbin init;

        /* The reads record (stages/reads.c), when a programs: item keeps only-read files. */
        char *reads_path;                   /* owned; effective record path */
        enum build_reads_state reads_state; /* set by stage_reads */
        struct readsfile *reads;            /* owned; the record applied, or NULL: keep all */

        /* Progress for people (one line per downloaded file); set by the command layer,
         * NULL for none. Stages report through it and never print themselves. */
        void (*progress)(void *data, const char *what);
        void *progress_data;
        /* A sentence for people about a choice the build made on its own (which URI `url: apt`
         * probed its way to); set by the command layer, NULL for none. */
        void (*note)(void *data, const char *text);
};

/*
 * Parses the recipe and prepares views, trees and the store (no network, no output).
 * On success *ret is owned by the caller.
 */
int build_new(const struct build_options *opts, struct build **ret, struct cairn_error *err);
void build_free(struct build *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct build *, build_free)
#define _cleanup_build_ _cleanup_(build_freep)

/*
 * One build per architecture of a recipe (docs/multiarch.md): builds[i] is built for the
 * recipe's i-th architecture (byte order); a recipe with one architecture (or none: the host's)
 * is a set of one, built exactly as a single build. With opts->arch only that architecture.
 */
struct build_set {
        struct build **builds; /* owned, n */
        size_t n;
        char **archs;  /* owned, NULL-terminated: the architectures (several only) */
        char *tmp_out; /* owned; the temporary sibling of OUT the set's builds emit into */
};

/* A set for opts (opts->multi_arch is decided here). On success *ret is owned by the caller. */
int build_set_new(const struct build_options *opts, struct build_set **ret,
                  struct cairn_error *err);
void build_set_free(struct build_set *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct build_set *, build_set_free)
#define _cleanup_build_set_ _cleanup_(build_set_freep)

/* Empties b->packages and forgets every utility's package choice. */
void build_packages_reset(struct build *b);

/* The package b->packages holds for utility u (an element of b->recipe->utilities), or NULL
 * before one was chosen. Borrowed. */
struct build_package *build_utility_package(struct build *b, const struct recipe_utility *u);

/* "NAME-V", or "NAME-V-ARCH" in a multi-architecture build: the name of v's rootfs tar and
 * SBOM without their suffix (the layout is always NAME-V/). *ret is owned. 0 or -ENOMEM. */
int build_output_name(const struct build *b, const struct build_variant *v, char **ret);

/* The ref name of v's image in NAME-V/index.json: "V", or "V-ARCH" in a multi-architecture
 * build (where "V" names the image index). *ret is owned. 0 or -ENOMEM. */
int build_image_ref(const struct build *b, const struct build_variant *v, char **ret);

/* The variant called name, or NULL. */
struct build_variant *build_find_variant(struct build *b, const char *name);

/* The package the Debian identity comes from (docs/recipe.md, "Debian identity"). */
#define BUILD_IDENTITY_PACKAGE "base-files"

/* The package b->packages holds for the Debian identity (its needed_by names "identity"), or
 * NULL. Borrowed. */
struct build_package *build_identity_package(struct build *b);

/* True when variant v takes files from p (installs it whole or picks from it). */
bool build_package_used(const struct build_package *p, const struct build_variant *v);
