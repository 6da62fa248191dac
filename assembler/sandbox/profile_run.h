/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One `cairn profile` run (issues 11 and 18): the variant's bundle (runtime/bundle.h,
 * BUNDLE_PROFILE) is prepared in a private temp directory, runc runs it on an overlay of that
 * rootfs (sandbox.h), and what the program wrote becomes the suggested `writable:` block
 * (profile.h).
 *
 * Before anything runs, the tree is refused when it holds a setuid or setgid file or a device
 * node (bundle_refuse_privileged) and when its program is not in it. The program is the image
 * config's entrypoint and cmd (the caller's arguments replace cmd), under /sbin/cairn-init when
 * run.init is set; its environment is the image config's, then the caller's KEY=VALUE
 * overrides. The temp directory is removed whatever happens (by the supervisor if cairn dies
 * first), and the prepared rootfs is checked to be unchanged by the run.
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

#define PROFILE_MAX_ENV           256 /* --env overrides */
#define PROFILE_DEFAULT_PIDS      1024
#define PROFILE_DEFAULT_MEMORY_MB 2048

struct profile_options {
        const struct recipe_view *view; /* the variant: its run: block and accounts */
        const struct tree *tree;        /* the variant's assembled tree */
        const struct store *store;      /* holds the tree's contents */
        int64_t epoch;                  /* timestamps of the materialized tree */
        const char *recipe_path;        /* for messages */
        const char *variant;            /* for messages */
        const char *name;               /* the recipe's name: the container's hostname */
        const char *arch;               /* the image's Debian architecture (seccomp) */
        const char *runtime;            /* the OCI runtime's path (sandbox_find_runtime) */
        const char *work_dir; /* the build's temporary directory, removed with the run's own if
                                 cairn dies during the run; may be NULL */
        char *const *env;     /* n_env "KEY=VALUE" (KEY not empty), after run.env */
        size_t n_env;
        char *const *args; /* NULL-terminated; replace run.cmd when has_args */
        bool has_args;
        unsigned duration_ms;  /* stop the program after this long (sandbox_options) */
        bool record_reads;     /* also record every path the program opened */
        uint64_t pids_limit;   /* the container's pids limit; 0: none */
        uint64_t memory_limit; /* its memory limit in bytes; 0: none */
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
 * -EINTR ("interrupted"). Every failure is described in err: policy (setuid, setgid or device
 * entries), usage (no program to run or not in the image, too many environment variables,
 * run.init without /sbin/cairn-init, an unknown run.user), I/O, or the sandbox's own errors.
 * The caller checks sandbox_check_privileges() first.
 */
int profile_run(const struct profile_options *o, struct profile_result *ret,
                struct cairn_error *err);

void profile_result_clear(struct profile_result *r);
