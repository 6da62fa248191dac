/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One `cairn profile` run (issue 11): a variant's tree is materialized into a private temp
 * directory, the image's program runs on it in the sandbox (sandbox.h), and what it wrote
 * becomes the suggested `writable:` block (profile.h).
 *
 * The program is the recipe's run.entrypoint followed by run.cmd (or the caller's arguments),
 * under /sbin/cairn-init when run.init is set; its environment is run.env, then the caller's
 * KEY=VALUE overrides, plus a default PATH when neither sets one. The temp directory is
 * removed whatever happens, and the materialized tree is checked to be unchanged by the run.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "profile.h"
#include "recipe/recipe.h"
#include "sandbox.h"
#include "tree/store.h"
#include "tree/tree.h"

#define PROFILE_MAX_ENV      256 /* environment variables of the program, overrides included */
#define PROFILE_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct profile_options {
        const struct recipe_view *view; /* the variant: its run: block and accounts */
        const struct tree *tree;        /* the variant's assembled tree */
        const struct store *store;      /* holds the tree's contents */
        int64_t epoch;                  /* timestamps of the materialized tree */
        const char *recipe_path;        /* for messages */
        const char *variant;            /* for messages */
        char *const *env;               /* n_env "KEY=VALUE" (KEY not empty), after run.env */
        size_t n_env;
        char *const *args; /* NULL-terminated; replace run.cmd when has_args */
        bool has_args;
        unsigned duration_ms; /* stop the program after this long (sandbox_options) */
        bool record_reads;    /* also record every path the program opened */
};

struct profile_result {
        struct sandbox_result run;            /* owned: how the program ended, its writes, reads */
        struct profile_suggestion suggestion; /* owned; borrows run's writes */
};

/*
 * Runs the profile described by o and fills *ret (owned by the caller; clear it with
 * profile_result_clear) on success. The program's own failure is not an error (see
 * ret->run.wait_status). SIGINT, SIGTERM and SIGHUP are blocked in the calling thread from
 * then on, so the temp directory is removed even on Ctrl-C; such a signal ends the run with
 * -EINTR ("interrupted"). Every failure is described in err: usage (no program to run, too
 * many environment variables, run.init without /sbin/cairn-init, an unknown run.user), I/O,
 * or the sandbox's own errors. The caller checks sandbox_check_privileges() first.
 */
int profile_run(const struct profile_options *o, struct profile_result *ret,
                struct cairn_error *err);

void profile_result_clear(struct profile_result *r);

/* The program's environment (NULL-terminated, owned by the caller): see the top of this file.
 * -E2BIG beyond PROFILE_MAX_ENV entries, -ENOMEM. */
int profile_build_env(const struct recipe_run *run, char *const *extra, size_t n_extra,
                      char ***ret);

/* The program's argv (NULL-terminated; the array is owned by the caller, the strings are
 * borrowed from run and args). -ENOENT when there is nothing to run, -ENOMEM. */
int profile_build_argv(const struct recipe_run *run, char *const *args, bool has_args, char ***ret);
