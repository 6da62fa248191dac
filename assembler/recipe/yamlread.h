/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed reading of a ynode tree with positioned messages, shared by the recipe parser
 * (recipe-parse*.c) and the lock-file reader (lockfile.c): a string, a number, a boolean, a
 * list, a list of strings, a mapping with known keys, each reported as
 * "FILE:LINE:COL: error: WHAT: expected X, got Y".
 *
 * The two documents are read by the same checks but worded for their readers:
 *
 * - YREAD_AUTHORED (a recipe): YAML written by people. Every problem is reported, up to
 *   YREAD_MAX_ERRORS and then one "FILE: too many errors" line, and a message says what it
 *   found and how to fix it ("did you mean 'suite'?", "first at line 3"). A plain scalar is
 *   a string unless it is empty, `~` or `null`.
 * - YREAD_GENERATED (the lock file): JSON that cairn writes. Only the first problem is
 *   reported, tersely and in JSON's words ("an object"), with y->hint appended; strings must be
 *   quoted and numbers have at most 19 digits.
 *
 * A getter that finds a problem reports it and returns NULL/false; the caller goes on, so an
 * authored document shows all its problems in one run. The getters of one value (string,
 * number, boolean, list of strings) accept a NULL node, an absent key, and return NULL/false
 * for it without a message; yread_map and yread_seq need a node. An allocation failure is no problem of
 * the document: it sets y->oom and yread_result() turns it into -ENOMEM.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "yamlnode.h"

#define YREAD_MAX_ERRORS 50

enum yread_kind {
        YREAD_AUTHORED,
        YREAD_GENERATED,
};

struct yread {
        const char *file;        /* borrowed; the name in messages */
        struct cairn_error *err; /* borrowed; may be NULL */
        enum yread_kind kind;
        const char *hint;  /* borrowed; appended to every message, or NULL */
        unsigned n_errors; /* problems found, also those not reported */
        bool oom;          /* an allocation failed */
};

/* Reports a problem at pos (class CAIRN_EXIT_USAGE, -EINVAL), subject to y->kind's limit. */
void yread_fail(struct yread *y, struct recipe_pos pos, const char *fmt, ...) _printf_(3, 4);

/* Records an allocation failure; returns false, for `return yread_oom(y);`. */
bool yread_oom(struct yread *y);

/* calloc(3) and strdup(3) that record their failure in y (and return NULL). */
void *yread_calloc(struct yread *y, size_t n, size_t size);
char *yread_strdup(struct yread *y, const char *s);

/* True when a problem or an allocation failure was found. */
static inline bool yread_failed(const struct yread *y)
{
        return y->n_errors > 0 || y->oom;
}

/* What the read comes to: -ENOMEM after an allocation failure, -EINVAL after a problem, or 0. */
static inline int yread_result(const struct yread *y)
{
        return y->oom ? -ENOMEM : y->n_errors ? -EINVAL : 0;
}

/*
 * Checks that m is a mapping whose keys are scalars from the NULL-terminated known, each
 * once. False only when m is not a mapping; a bad key is reported and the caller reads the
 * good ones. Whether a key is required is the caller's to check.
 */
bool yread_map(struct yread *y, const struct ynode *m, const char *what, const char *const *known);

/*
 * A string without NUL characters; the caller owns the result. NULL after a problem, and
 * without a message when n is NULL (the key is absent).
 */
char *yread_string(struct yread *y, const struct ynode *n, const char *what);

/* A plain decimal number no larger than max into *ret. False after a problem or for NULL n. */
bool yread_uint(struct yread *y, const struct ynode *n, const char *what, uint64_t max,
                uint64_t *ret);

/* A plain `true` or `false` into *ret. */
bool yread_bool(struct yread *y, const struct ynode *n, const char *what, bool *ret);

/* Checks that n is a list of at most max items. */
bool yread_seq(struct yread *y, const struct ynode *n, const char *what, size_t max);

/* Reads one element of a list of strings: yread_string, or a stricter reader built on it. */
typedef char *(*yread_string_fn)(struct yread *y, const struct ynode *n, const char *what);

/*
 * A list of at most max strings, each read by get, into a NULL-terminated array the caller
 * owns. NULL after a problem (every element is still checked) or for NULL n.
 */
char **yread_strv(struct yread *y, const struct ynode *n, const char *what, size_t max,
                  yread_string_fn get);
