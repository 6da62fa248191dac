/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small, bounded YAML node tree built from libyaml's event stream, with the position of
 * every node. It exists because the document API of libyaml neither reports duplicate keys
 * nor lets a caller refuse aliases before they are expanded: this loader refuses aliases,
 * anchors and explicit tags (so a recipe cannot be a billion-laughs bomb), bounds nesting
 * depth and node count, and accepts exactly one document.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "recipe.h"

#define YNODE_MAX_DEPTH 32
#define YNODE_MAX_NODES 200000

enum ynode_type {
        YNODE_SCALAR,
        YNODE_SEQUENCE,
        YNODE_MAPPING,
};

struct ynode {
        enum ynode_type type;
        struct recipe_pos pos;
        char *value;          /* owned; scalars only, NUL-terminated (may contain NULs: see len) */
        size_t len;           /* scalars only */
        bool plain;           /* scalars: written without quotes (so `1`, `true` are not strings) */
        struct ynode **items; /* owned; sequences: elements; mappings: key, value, key, ... */
        size_t n_items;
        size_t cap;
};

/*
 * Parses buf into a node tree. name is used in messages ("NAME:LINE:COL: error: ...").
 * An empty document yields -ENODATA with an error. On success *ret owns the root.
 */
int ynode_load(const char *name, const char *buf, size_t len, struct ynode **ret,
               struct cairn_error *err);
void ynode_free(struct ynode *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ynode *, ynode_free)
#define _cleanup_ynode_ _cleanup_(ynode_freep)

/* "a string", "a list", "a mapping" — for "expected X, got Y" messages. */
const char *ynode_type_name(const struct ynode *n);

/* The value of key in mapping m, or NULL (also when m is NULL or not a mapping). Borrowed. */
const struct ynode *ynode_map_get(const struct ynode *m, const char *key);

/* A plain empty, `~` or `null` scalar. */
bool ynode_is_null(const struct ynode *n);
