/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lock file, RECIPE.lock.json beside RECIPE.yaml: the exact Debian packages a recipe
 * resolved to, so that a build reproduces without the repository's current state and without
 * loading its index at all.
 *
 * The model is plain data; lockfile_read() and lockfile_write() convert it from and to a
 * pretty-printed JSON file with a fixed key order (reviewable in diffs, byte-stable). The
 * lock names no mirror: packages carry their Filename relative to their source, and the
 * source's URL is taken from the recipe (for `url: apt`, from this machine's apt
 * configuration) when a download is needed.
 *
 * Consistency: `inputs` is the SHA-256 of everything in the recipe that decides the
 * resolution (architecture, sources, utility and package requests, their variants). A lock
 * whose inputs differ from the recipe's is stale.
 */
#pragma once

#include <stdint.h>

#include "base/error.h"
#include "recipe.h"

#define LOCKFILE_VERSION   1
#define LOCKFILE_MAX_BYTES (16 * 1024 * 1024)
#define LOCKFILE_MAX_ITEMS 100000 /* sources, utilities, packages */
#define LOCKFILE_MAX_ARCHS 16     /* sections of a multi-architecture lock */

struct lock_source {
        char *name;           /* owned */
        char *url;            /* owned; as the recipe writes it ("apt", file://...) */
        char *suite;          /* owned */
        char *release_sha256; /* owned; hex of the verified Release file */
        char *date;           /* owned; the Release's Date: field, may be "" */
};

struct lock_package {
        char *name, *version, *arch; /* owned */
        char *source;                /* owned; a lock_source name */
        char *filename;              /* owned; relative to the source's base URL */
        uint64_t size;
        char *sha256;        /* owned; hex */
        char **picked_in;    /* owned, NULL-terminated variant names (utility file picks) */
        char **installed_in; /* owned, NULL-terminated variant names (whole package) */
        char **needed_by;    /* owned, NULL-terminated: "utility REQ", "package REQ" */
};

/* Which package each recipe utility resolved to, in recipe order. */
struct lock_utility {
        char *request; /* owned; the recipe's dependency string */
        char *package; /* owned; the chosen package's name */
};

struct lockfile {
        unsigned version;
        char *recipe; /* owned; the recipe's name */
        char *arch;   /* owned */
        char *inputs; /* owned; "sha256:HEX" of lockfile_inputs_digest */
        char *init;   /* owned; "sha256:HEX" of the cairn-init the recipe's run.init installs,
                       NULL when no variant runs it (the "cairn-init" key, written only then) */
        struct lock_source *sources; /* owned, n_sources, in recipe order */
        size_t n_sources;
        struct lock_utility *utilities; /* owned, n_utilities, in recipe order */
        size_t n_utilities;
        struct lock_package *packages; /* owned, n_packages, sorted by name then version */
        size_t n_packages;
        /* owned; a multi-architecture lock is a chain of one lockfile per architecture, in
         * byte order of arch (each with the same version and recipe); NULL: the last one. A
         * chain of one is written in the flat single-architecture form. */
        struct lockfile *next;
};

/* Unlinks the section for arch from *chain and returns it (owned by the caller; its next is
 * NULL), or NULL when the chain has none. */
struct lockfile *lockfile_take_arch(struct lockfile **chain, const char *arch);

void lockfile_free(struct lockfile *lock);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct lockfile *, lockfile_free)
#define _cleanup_lockfile_ _cleanup_(lockfile_freep)

/*
 * Reads the lock at path. -ENOENT (and nothing added to err) when there is none. A malformed
 * lock is -EINVAL with "PATH:LINE:COLUMN: error: ..." messages, class CAIRN_EXIT_USAGE.
 * On success *ret is owned by the caller.
 */
int lockfile_read(const char *path, struct lockfile **ret, struct cairn_error *err);
/* Same, from a buffer; name is used in messages. */
int lockfile_parse(const char *name, const char *buf, size_t len, struct lockfile **ret,
                   struct cairn_error *err);

/* Writes lock to path through a temporary sibling and rename(2). */
int lockfile_write(const struct lockfile *lock, const char *path, struct cairn_error *err);
/* The lock's JSON into f, ending with a newline: exactly the bytes lockfile_write writes. */
void lockfile_print(const struct lockfile *lock, FILE *f);

/* "sha256:HEX" of what in recipe r decides the resolution for architecture arch. */
int lockfile_inputs_digest(const struct recipe *r, const char *arch, char out[72]);

/* Appends to *lines (NULL-terminated, owned by the caller) one line per package that differs
 * between old (may be NULL) and new: "+ name version", "- name version",
 * "~ name old -> new", and for the pinned cairn-init "+ cairn-init sha256:HEX",
 * "- cairn-init sha256:HEX", "~ cairn-init sha256:OLD -> sha256:NEW". 0 or -ENOMEM. */
int lockfile_diff(const struct lockfile *old, const struct lockfile *new, char ***lines);
