/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tree: the image as a sorted map from absolute path to entry. It is the centre of the
 * pipeline (DESIGN.md §1): unpack, artifacts and configure insert into it, enforce reads it,
 * emit walks it in order.
 *
 * Order is the byte order of the full path ("/" first), so parents always come before their
 * children. Inserting a path creates missing parent directories with mode 0755, owner 0:0.
 * Regular files hold a store_key, never their bytes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "store.h"

#define TREE_PATH_MAX 4096 /* a path is at most TREE_PATH_MAX - 1 bytes (Linux PATH_MAX) */
#define TREE_NAME_MAX 255  /* one component (Linux NAME_MAX) */

enum tree_type {
        TREE_REG,
        TREE_DIR,
        TREE_SYMLINK,
        TREE_HARDLINK, /* target is the absolute path of an earlier regular file */
        TREE_CHR,
        TREE_BLK,
        TREE_FIFO,
        TREE_SOCK,
};

/* Which OCI layer an entry belongs to (DESIGN.md / issue 6: prod = [base, app]). */
enum tree_layer {
        TREE_LAYER_BASE = 0, /* utilities, packages, accounts, generated files */
        TREE_LAYER_APP = 1,  /* the recipe's artifacts */
};

enum tree_entry_flags {
        TREE_ENTRY_NAMED = 1 << 0,     /* named by the recipe: allowed to be executable */
        TREE_ENTRY_IMPLICIT = 1 << 1,  /* a parent directory created by tree_insert */
        TREE_ENTRY_GENERATED = 1 << 2, /* written by cairn itself (passwd, os-release, ...) */
        TREE_ENTRY_LOADED = 1 << 3,    /* in a named program's load closure (programs:): dynamic
                                          linking allowed in strict, content rules still apply */
};

struct tree_entry {
        char *path; /* owned; absolute, normalised; "/" for the root */
        enum tree_type type;
        uint32_t mode; /* permission bits only (07777) */
        uint32_t uid, gid;
        uint64_t size;        /* regular files */
        struct store_key key; /* regular files */
        char *target;         /* owned; symlink target as written, or hardlink target path */
        uint32_t dev_major, dev_minor;
        int64_t mtime; /* seconds; set by image_load for existing images. The build leaves it 0:
                          emit writes the epoch for every entry (DESIGN.md §3). */
        enum tree_layer layer;
        uint32_t flags; /* enum tree_entry_flags */
        char *origin;   /* owned; where it came from: "package tini 0.19.0-1", ... */
};

struct tree;

int tree_new(struct tree **ret);
void tree_free(struct tree *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tree *, tree_free)
#define _cleanup_tree_ _cleanup_(tree_freep)

enum tree_insert_flags {
        TREE_INSERT_REPLACE = 1 << 0, /* replace an existing entry instead of failing */
};

/*
 * Inserts a copy of e (path, target and origin are duplicated; the caller keeps e).
 * Missing parents are created as implicit 0755 0:0 directories in e->layer. Inserting a
 * directory over an implicit directory replaces it. Fails with -EEXIST (message naming both
 * origins) when the path exists and REPLACE is not given, -ENOTDIR when a parent is not a
 * directory (nothing is ever placed under a symlink), -EINVAL for a non-normalised path,
 * -ENAMETOOLONG for one of TREE_PATH_MAX bytes or more. Readers of untrusted names check
 * tree_path_problem() first, with their own context.
 */
int tree_insert(struct tree *t, const struct tree_entry *e, unsigned flags,
                struct cairn_error *err);

/* The nearest existing ancestor of path when it is not a directory (a symlink, a file): where
 * tree_insert(path) would fail with -ENOTDIR. NULL when there is none. */
const struct tree_entry *tree_blocking_ancestor(const struct tree *t, const char *path);

/* The entry at exactly path (no symlink resolution), or NULL. */
const struct tree_entry *tree_lookup(const struct tree *t, const char *path);
struct tree_entry *tree_lookup_mut(struct tree *t, const char *path);

/* Removes path and everything below it. -ENOENT when absent. */
int tree_remove(struct tree *t, const char *path);

size_t tree_count(const struct tree *t);
/* Position of path in path order: 0 and *ret_index, or -ENOENT. */
int tree_index(const struct tree *t, const char *path, size_t *ret_index);
/* The i-th entry in path order; i < tree_count(t). Valid until the next insert/remove. */
const struct tree_entry *tree_at(const struct tree *t, size_t i);

#define tree_foreach(e, t)                                                                         \
        for (size_t _i_##e = 0; _i_##e < tree_count(t) && ((e) = tree_at((t), _i_##e)); _i_##e++)

enum tree_resolve_flags {
        TREE_RESOLVE_NOFOLLOW_LAST = 1 << 0, /* do not follow a symlink in the last component */
};

/*
 * Resolves path inside the tree the way the kernel would inside a chroot: symlinks are
 * followed (at most 40), ".." never climbs above "/", absolute targets restart at the image
 * root. On success *ret_path (owned by the caller) is the resolved path and *ret_entry (may be
 * NULL when the caller does not need it) its entry. -ENOENT when a component is missing,
 * -ELOOP on too many links, -ENOTDIR when a component is not a directory.
 */
int tree_resolve(const struct tree *t, const char *path, unsigned flags, char **ret_path,
                 const struct tree_entry **ret_entry);

/*
 * Why path (or a symlink target) cannot be stored in an image, or NULL when it can: longer
 * than TREE_PATH_MAX - 1 bytes, a component longer than TREE_NAME_MAX bytes, or not valid
 * UTF-8 (SPDX and OCI consumers need UTF-8; bytes are never re-encoded). The reason is a static
 * string that names the limit, e.g. "is longer than 4095 bytes (PATH_MAX)".
 */
const char *tree_path_problem(const char *path);

/* Normalises path lexically (collapses "//" and "/."; refuses ".."): 0 and an owned copy, or
 * -EINVAL. Relative paths are taken from "/". */
int tree_path_normalize(const char *path, char **ret);

const char *tree_type_name(enum tree_type type);
