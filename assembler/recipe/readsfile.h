/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reads record, RECIPE.reads.json beside the recipe (docs/recipe.md, "What the program
 * reads"): the image files a program opened during `cairn profile --write-reads`, so that a
 * programs: item with `only-read: true` keeps only those of its pattern matches. The build
 * never runs the program; it reads this file, which is meant to be committed and reviewed like
 * the lock.
 *
 * Pretty-printed JSON with a fixed key order; `reads` sorted in byte order without duplicates.
 * `packages` is the digest of the Debian packages the profiled build used (readsfile_packages_
 * digest): a record whose digest differs from the build's is stale.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "base/error.h"

#define READSFILE_VERSION   1
#define READSFILE_MAX_BYTES (16 * 1024 * 1024)
#define READSFILE_MAX_PATHS 200000

struct readsfile {
        unsigned version;
        char *recipe;   /* owned; the recipe's name */
        char *variant;  /* owned; the variant that was profiled */
        char *packages; /* owned; "sha256:HEX" of the packages it was profiled with */
        char **reads;   /* owned, NULL-terminated, sorted, unique absolute paths */
        size_t n_reads;
};

void readsfile_free(struct readsfile *rf);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct readsfile *, readsfile_free)
#define _cleanup_readsfile_ _cleanup_(readsfile_freep)

/* Reads the record at path. -ENOENT (nothing added to err) when there is none; a malformed one
 * is -EINVAL with "PATH:LINE:COLUMN: error: ..." (class CAIRN_EXIT_USAGE). *ret owned. */
int readsfile_read(const char *path, struct readsfile **ret, struct cairn_error *err);
int readsfile_parse(const char *name, const char *buf, size_t len, struct readsfile **ret,
                    struct cairn_error *err);

/* Sorts and deduplicates rf->reads in place (what readsfile_print needs). 0. */
int readsfile_normalize(struct readsfile *rf);
/* The record's JSON into f, ending with a newline: exactly what readsfile_write writes. */
void readsfile_print(const struct readsfile *rf, FILE *f);
/* Writes rf (normalised first) to path through a temporary sibling and rename(2). */
int readsfile_write(struct readsfile *rf, const char *path, struct cairn_error *err);

/* True when path is one of rf's reads (binary search). */
bool readsfile_has(const struct readsfile *rf, const char *path);

/* "sha256:HEX" over "NAME VERSION SHA256\n" of the n packages given as parallel arrays, in
 * the order given (callers pass them sorted by name). */
int readsfile_packages_digest(const char *const *names, const char *const *versions,
                              const char *const *sha256s, size_t n, char out[72]);
