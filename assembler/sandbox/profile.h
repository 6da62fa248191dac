/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From the paths a profiled program wrote to the `writable:` list that lets it run on a
 * read-only root (issue 11).
 *
 * Each write asks for one directory to be writable (a tmpfs at run time):
 *   - a created, modified or deleted file, or a created or deleted directory: its parent
 *     (the entry is added to or removed from the parent);
 *   - a modified directory (its mode or owner changed, or a file was created in it and
 *     deleted again): the directory itself.
 * That directory is refused when it is "/" or when it holds image binaries (a regular file
 * with an execute bit, or an ELF file, anywhere below it), because a tmpfs over it would
 * hide them. A refused request goes one level deeper when the written path is a directory the
 * program created itself (not in the image); otherwise the write cannot be placed and is
 * reported as such. The suggestion is the set of requested directories without those that lie
 * below another one: the smallest set of directories that covers every placed write, never
 * wider than the directories the writes actually touched.
 */
#pragma once

#include "base/error.h"
#include "sandbox.h"
#include "tree/store.h"
#include "tree/tree.h"

#define PROFILE_REASON_MAX 256

struct profile_write {
        const struct sandbox_write *write; /* borrowed from the sandbox result */
        const char *dir;   /* borrowed from suggestion: the directory that covers it, or NULL */
        bool covered;      /* under one of the recipe's current writable paths */
        char *unplaceable; /* owned; why no writable directory can cover it, or NULL */
};

struct profile_suggestion {
        char **dirs; /* owned, NULL-terminated, sorted */
        size_t n_dirs;
        struct profile_write *writes; /* owned; one per sandbox write, same order */
        size_t n_writes;
        size_t n_outside;     /* writes not under the recipe's writable list */
        size_t n_unplaceable; /* writes no directory can cover */
};

/*
 * Computes the suggestion for the writes of res against tree t (contents in s, for the ELF
 * check) and the recipe's current writable list (NULL-terminated, may be NULL). res must
 * outlive ret. 0 or -errno.
 */
int profile_suggest(const struct tree *t, const struct store *s, const struct sandbox_result *res,
                    char *const *writable, struct profile_suggestion *ret, struct cairn_error *err);

void profile_suggestion_clear(struct profile_suggestion *p);

/* True when path equals dir or lies below it. */
bool profile_path_under(const char *path, const char *dir);
