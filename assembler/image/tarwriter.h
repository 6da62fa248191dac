/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deterministic tar writer: a plan (the entries of one tar, in order) and the tar of a
 * plan, written from the store in one streaming pass. DESIGN.md §3 is followed to the letter:
 *
 *  - entries in the plan's order (tree order, or tar_plan_sort: byte order of the path, which
 *    puts parents before children), named "usr/bin/x" (no "./", no entry for "/"), the form
 *    docker and umoci write and read;
 *  - pax_restricted: an extended header only when a name or value does not fit ustar; mtime
 *    = epoch, no atime/ctime, numeric ids only (uname/gname left empty);
 *  - archive_write_set_bytes_in_last_block(a, 1): the bytes never depend on whether the
 *    output is a file or a pipe;
 *  - cairn never calls setlocale(), so libarchive's header charset is the same everywhere, and
 *    a name that is not UTF-8 is written byte for byte (hdrcharset=BINARY);
 *  - a hardlink (TREE_HARDLINK) is a link to its target, an earlier file of the tree, with
 *    no content of its own; a whiteout is an empty 0644 file owned by 0:0;
 *  - compression by compress.h (the same bytes whatever the thread count); digests are
 *    computed while the bytes stream out (diff_id over the tar, digest over the compressed
 *    bytes), never by reading the output back.
 */
#pragma once

#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "compress.h"
#include "tree/store.h"
#include "tree/tree.h"

/* One entry of a tar: a tree entry, or a whiteout. */
struct tar_plan_item {
        const char *path;           /* absolute; borrowed, or owned by the plan */
        const struct tree_entry *e; /* borrowed; NULL: a whiteout (an empty 0644 file) */
};

struct tar_plan {
        struct tar_plan_item *items; /* owned, n of them, written in this order */
        size_t n, cap;
        char **owned; /* owned: the paths the plan owns (tar_plan_add_owned) */
        size_t n_owned, cap_owned;
};

/* Frees what p owns and empties it. The trees its items point into are not touched. */
void tar_plan_clear(struct tar_plan *p);

/* Appends an item; path and e are borrowed and must outlive p. 0 or -ENOMEM. */
int tar_plan_add(struct tar_plan *p, const char *path, const struct tree_entry *e);

/* Appends an item whose path p takes over (freed by tar_plan_clear, also when this fails). */
int tar_plan_add_owned(struct tar_plan *p, char *path, const struct tree_entry *e);

/* Puts the items in byte order of their path. */
void tar_plan_sort(struct tar_plan *p);

/* Appends every entry of t but "/", in tree order: the plan of a whole rootfs. */
int tar_plan_tree(struct tar_plan *p, const struct tree *t);

/*
 * A key for the tar of p with epoch: XXH3-128 over everything tar_write makes the tar from
 * (each item's path, metadata and content key, the epoch, libarchive's version), in hex. Equal
 * keys are meant to give equal tars; a cache that trusts one must still compare the diff_id.
 * 0 or -ENOMEM.
 */
int tar_plan_key(const struct tar_plan *p, int64_t epoch, char out[STORE_KEY_HEX_LEN + 1]);

struct tar_result {
        char diff_id[DIGEST_OCI_LEN]; /* "sha256:HEX" of the uncompressed tar */
        uint64_t tar_size;
        char digest[DIGEST_OCI_LEN]; /* "sha256:HEX" of the compressed bytes; "" without alg */
        uint64_t size;               /* of the compressed bytes; 0 without alg */
};

/*
 * Writes the tar of p, every file's content read from st, with mtime epoch: to fd, compressed
 * with *alg when alg is not NULL; with fd -1 (and no alg) the tar is only hashed. fd is
 * borrowed. Fills *ret on success. Errors name the entry (a socket, content missing from the
 * store) or the failed write.
 */
int tar_write(const struct tar_plan *p, const struct store *st, int64_t epoch, int fd,
              const enum compress_alg *alg, struct tar_result *ret, struct cairn_error *err);
