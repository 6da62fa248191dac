/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An OCI runtime bundle of one variant (`cairn bundle`, and `cairn profile`, which runs the
 * same bundle on an overlay): config.json derived from the run: settings the build writes to
 * /etc/cairn/runtime.json and to the image config, through the same functions
 * (recipe_run_env, recipe_run_entrypoint, recipe_view_run_ids), and rootfs/, the variant's
 * tree on disk with its owners moved into the user namespace's host range.
 *
 * Two modes:
 *   BUNDLE_PROD     the way the recipe says prod runs: the root read-only when run.read-only
 *                   is set (strict variants), a tmpfs owned by the image user on each
 *                   writable: path (mode of the image's directory there, else 0755);
 *   BUNDLE_PROFILE  what `cairn profile` runs: the root writable (an overlay whose upper
 *                   layer records every write) and no tmpfs, the writable: directories owned
 *                   by the image user in the rootfs instead (what the tmpfs would give), no
 *                   --read-only-root check for cairn-init; ARGS and --env applied.
 * Everything else (user, capabilities, seccomp, namespaces, id maps, rlimits, masked paths)
 * is the same in both.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "recipe/recipe.h"
#include "tree/store.h"
#include "tree/tree.h"

/* Where image ids land on the host when /etc/subuid and /etc/subgid have no range for root. */
#define BUNDLE_DEFAULT_HOST_ID 100000

enum bundle_mode {
        BUNDLE_PROD,
        BUNDLE_PROFILE,
};

/* The host ids image uid 0 and gid 0 are mapped to; RUNTIME_ID_COUNT ids from there. */
struct bundle_ids {
        uint32_t host_uid, host_gid;
};

/*
 * The host range: the first range of at least RUNTIME_ID_COUNT ids that /etc/subuid
 * (/etc/subgid) gives "root" or "0", else BUNDLE_DEFAULT_HOST_ID. A range that would include
 * host id 0 is refused (-EINVAL with err naming the file).
 */
int bundle_host_ids(struct bundle_ids *ret, struct cairn_error *err);

struct bundle_options {
        const struct recipe_view *view; /* the variant: run: and accounts */
        const struct tree *tree;        /* its assembled tree (writable: modes) */
        const char *hostname;           /* the recipe's name */
        const char *arch;               /* Debian architecture of the image */
        enum bundle_mode mode;
        struct bundle_ids ids;
        char *const *env; /* BUNDLE_PROFILE: n_env "KEY=VALUE" overrides, after run.env */
        size_t n_env;
        char *const *args; /* BUNDLE_PROFILE: NULL-terminated; replace run.cmd when has_args */
        bool has_args;
        uint64_t pids_limit;      /* 0: none */
        uint64_t memory_limit;    /* bytes; 0: none */
        const char *cgroups_path; /* NULL: the runtime's choice */
};

/* The maximum number of environment variables (run.env, PATH and overrides). */
#define BUNDLE_MAX_ENV 256

/*
 * The program's environment: recipe_run_env(run), then each override replacing the variable
 * of the same name in place or appended. *ret (a strv) is owned by the caller. -E2BIG beyond
 * BUNDLE_MAX_ENV entries, -EINVAL for an override without '=', -ENOMEM.
 */
int bundle_process_env(const struct recipe_run *run, char *const *extra, size_t n_extra,
                       char ***ret);

/*
 * The program's argv: recipe_run_entrypoint(run, restricted), then run.cmd, or args when
 * has_args. The array is owned by the caller, the strings are borrowed. -ENOENT when there is
 * nothing to run, -ENOMEM.
 */
int bundle_process_args(const struct recipe_run *run, char *const *args, bool has_args,
                        bool restricted, const char ***ret);

/*
 * config.json for o into *ret (owned, NUL-terminated) and *ret_len. Errors (in err): usage
 * (nothing to run, an unknown run.user, ids beyond the mapped range, run.init without
 * /sbin/cairn-init, too many variables) or -ENOMEM.
 */
int bundle_config(const struct bundle_options *o, char **ret, size_t *ret_len,
                  struct cairn_error *err);

/*
 * Writes the rootfs of a bundle of o->mode into dir (existing and empty): t's entries (contents
 * from s, times = epoch) owned by their ids plus the host range, dir itself owned by the
 * image's root when t has no "/" entry; then the mount points the runtime needs, as empty
 * directories owned by the image's root when the tree lacks them: /proc, /dev, /sys, the
 * working directory and each writable: path; in BUNDLE_PROFILE the writable: directories get
 * the image user's ownership. Needs CAP_CHOWN. An entry whose ids lie beyond the mapped range
 * is refused (CAIRN_EXIT_USAGE, naming it).
 */
int bundle_rootfs(const struct bundle_options *o, const struct store *s, int64_t epoch,
                  const char *dir, struct cairn_error *err);

/*
 * Refuses a tree that could lift a process's privileges or reach the host's devices: a regular
 * file with the setuid or setgid bit, a character or block device. CAIRN_EXIT_POLICY naming
 * every such path (up to 20) and why; what is a description for the message ("recipe.yaml,
 * variant prod").
 */
int bundle_refuse_privileged(const struct tree *t, const char *what, struct cairn_error *err);
