/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one error contract of cairn.
 *
 * Functions return 0 (or a non-negative value) on success and a negative errno on failure.
 * When the user needs context (recipe file:line:column, URL, package, path) the function also
 * fills a `struct cairn_error` out-parameter; callers add their own context with
 * cairn_error_wrap() ("fetching tini 0.19.0-1: sha256 mismatch"). Only the command layer
 * prints (cairn_error_print) and turns the error's class into the exit status (DESIGN.md §6).
 *
 * An error holds one or more messages: parsers that report every problem in a file (the recipe
 * parser) append one message per problem with cairn_error_add().
 */
#pragma once

#include <stdarg.h>
#include <stdio.h>

#include "util.h"

/* Exit statuses, DESIGN.md §6. The class of an error decides the exit status. */
enum cairn_exit {
        CAIRN_EXIT_OK = 0,
        CAIRN_EXIT_POLICY = 1, /* enforcer found an error-level violation */
        CAIRN_EXIT_USAGE = 2,  /* bad command line or recipe */
        CAIRN_EXIT_SOURCE = 3, /* repository, network or verification failure */
        CAIRN_EXIT_IO = 4,     /* local I/O failure (disk full, permission, ...) */
};

struct cairn_error {
        int code;             /* negative errno of the first failure, 0 when unset */
        enum cairn_exit exit; /* class of the first failure */
        char **messages;      /* owned; n_messages entries, each owned */
        size_t n_messages;
};

#define CAIRN_ERROR_INIT                                                                           \
        {                                                                                          \
                0                                                                                  \
        }

/*
 * Records a failure: sets code and exit class if none is set yet and appends a message.
 * Returns `code` (a negative errno; -EINVAL when code >= 0) so callers write
 * `return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "...")`. err may be NULL.
 */
int cairn_error_add(struct cairn_error *err, enum cairn_exit exit, int code, const char *fmt, ...)
        _printf_(4, 5);
int cairn_error_addv(struct cairn_error *err, enum cairn_exit exit, int code, const char *fmt,
                     va_list ap) _printf_(4, 0);

/* Like cairn_error_add, but the exit class follows from the errno (I/O vs usage). */
int cairn_error_errno(struct cairn_error *err, int code, const char *fmt, ...) _printf_(3, 4);

/*
 * Prefixes every message with "CONTEXT: ". When err holds no message yet (a callee returned
 * a bare errno) adds one made of CONTEXT and strerror(code). Returns err->code, or `code`.
 */
int cairn_error_wrap(struct cairn_error *err, int code, const char *fmt, ...) _printf_(3, 4);

/* True when a failure has been recorded. */
static inline bool cairn_error_isset(const struct cairn_error *err)
{
        return err && err->code < 0;
}

/* Releases the messages and resets err to CAIRN_ERROR_INIT. Accepts NULL. */
void cairn_error_clear(struct cairn_error *err);
#define _cleanup_cairn_error_ _cleanup_(cairn_error_clear)

/* Prints every message as "PROG: MESSAGE" (or bare when the message starts with a
 * FILE:LINE:COL position) to f. */
void cairn_error_print(const struct cairn_error *err, FILE *f);

/* The exit status for err: its class, or CAIRN_EXIT_IO for an unclassified failure. */
int cairn_error_exit_status(const struct cairn_error *err);
