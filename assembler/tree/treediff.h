/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Comparing two trees entry by entry: what `cairn diff` prints and what `cairn verify` names
 * when a rebuild differs.
 *
 * Both trees are walked together in path order, so the result is sorted by path. The root "/"
 * is not compared (every loader makes it up). Regular files are compared by their store key
 * (XXH3-128 of the content), which does not depend on which store holds them, so trees loaded
 * into different stores compare correctly; the SHA-256 that people see is computed only when
 * the result is formatted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "store.h"
#include "tree.h"

/* What differs between two entries at the same path. */
enum treediff_change {
        TREEDIFF_TYPE = 1 << 0,
        TREEDIFF_CONTENT = 1 << 1, /* both regular files */
        TREEDIFF_SIZE = 1 << 2,    /* both regular files */
        TREEDIFF_MODE = 1 << 3,
        TREEDIFF_OWNER = 1 << 4,
        TREEDIFF_MTIME = 1 << 5,
        TREEDIFF_TARGET = 1 << 6, /* both symlinks or both hardlinks */
        TREEDIFF_DEVICE = 1 << 7, /* both device nodes */
};

enum treediff_kind {
        TREEDIFF_ADDED,   /* only in b */
        TREEDIFF_REMOVED, /* only in a */
        TREEDIFF_CHANGED,
};

struct treediff_item {
        enum treediff_kind kind;
        const struct tree_entry *a; /* borrowed from tree a; NULL when added */
        const struct tree_entry *b; /* borrowed from tree b; NULL when removed */
        unsigned changes;           /* enum treediff_change, for TREEDIFF_CHANGED */
};

struct treediff {
        struct treediff_item *items; /* owned, n_items, sorted by path */
        size_t n_items;
        size_t n_added, n_removed, n_changed;
};

/* The enum treediff_change bits that differ between a and b (0 when they are equal). */
unsigned treediff_entry_changes(const struct tree_entry *a, const struct tree_entry *b);

/*
 * Compares a (the old side) with b (the new side). On success *ret is owned by the caller;
 * its items borrow the trees' entries, so both trees must outlive it unchanged.
 */
int treediff_compare(const struct tree *a, const struct tree *b, struct treediff **ret);
void treediff_free(struct treediff *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct treediff *, treediff_free)
#define _cleanup_treediff_ _cleanup_(treediff_freep)

static inline bool treediff_identical(const struct treediff *d)
{
        return d->n_items == 0;
}

enum treediff_format {
        TREEDIFF_FORMAT_TEXT,
        TREEDIFF_FORMAT_JSON,
};

int treediff_format_from_string(const char *s, enum treediff_format *ret);

/*
 * Renders d for people (one line per item, then a count line) or as JSON
 * ({"schema":"cairn-diff/1",...}, fixed key order, one line). Content digests are SHA-256,
 * read from the stores that hold a's and b's files (may be the same store). label_a/label_b
 * name the two sides in JSON. max_items > 0 stops the text after that many items with a line
 * saying how many were left out (JSON always lists everything). *ret is owned by the caller.
 */
int treediff_format(const struct treediff *d, const struct store *store_a,
                    const struct store *store_b, enum treediff_format format, const char *label_a,
                    const char *label_b, size_t max_items, char **ret, struct cairn_error *err);
