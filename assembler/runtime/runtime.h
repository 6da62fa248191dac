/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The run-time contract (DESIGN.md §9): /etc/cairn/runtime.json, which the build writes into
 * every image (stages/runtime.c) and from which everything that runs the image is derived:
 * cairn-init's Landlock ruleset (init/rtjson.h reads the same file), the image config's
 * Healthcheck and Entrypoint (stages/emit.c), and the snippets for the runtimes people use
 * (runtime_format_*): a Kubernetes pod, `docker run` flags, a compose service.
 *
 * The document (schema RUNTIME_SCHEMA), compact JSON with its keys in this order:
 *   schema, name, variant, user ("UID:GID"), read-only, writable [paths], require-env [names],
 *   init ("cairn-init" or ""), stop-signal, capabilities [names the process keeps], landlock, tmpfs [{path, mode ("1777"), uid, gid}],
 *   executables [paths, sorted], healthcheck (null, or {type ("http"|"tcp"), target, expect
 *   (null: any of 200-399), interval, timeout, start-period (nanoseconds), retries,
 *   command [the argv that runs the probe]})
 *
 * Nothing here knows about a build or a recipe: callers fill the struct. Strings and arrays
 * of a manifest are owned by it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "tree/store.h"
#include "tree/tree.h"

#define RUNTIME_SCHEMA    "cairn-runtime/1"
#define RUNTIME_JSON_PATH "/etc/cairn/runtime.json"
#define RUNTIME_INIT_PATH "/sbin/cairn-init"
#define RUNTIME_MAX_BYTES (4 << 20) /* what cairn-init reads (init/rtjson.h RT_MAX_BYTES) */

/* A tmpfs the runtime mounts on a writable directory: its mode and owner. */
struct runtime_tmpfs {
        char *path; /* owned */
        uint32_t mode, uid, gid;
};

struct runtime_health {
        char *type;   /* owned; "http" or "tcp" */
        char *target; /* owned; "http://HOST[:PORT]/PATH" or "tcp://HOST:PORT" */
        int expect;   /* 0: any of 200-399 */
        int64_t interval_ns, timeout_ns, start_period_ns;
        unsigned retries;
        char **command; /* owned, NULL-terminated: the probe's argv */
};

struct runtime_manifest {
        char *name, *variant; /* owned */
        uint32_t uid, gid;
        bool read_only;
        char **writable;     /* owned, NULL-terminated */
        char **require_env;  /* owned, NULL-terminated */
        char *init;          /* owned; "cairn-init" or "" */
        char *stop_signal;   /* owned */
        char **capabilities; /* owned, NULL-terminated: "CAP_NET_BIND_SERVICE" ... */
        bool landlock;
        struct runtime_tmpfs *tmpfs; /* owned, n_tmpfs */
        size_t n_tmpfs;
        char **executables;            /* owned, NULL-terminated, sorted */
        struct runtime_health *health; /* owned, or NULL */
};

void runtime_manifest_free(struct runtime_manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct runtime_manifest *, runtime_manifest_free)
#define _cleanup_runtime_manifest_ _cleanup_(runtime_manifest_freep)

/*
 * The argv of cairn-init's probe for a health check (owned by the caller, NULL-terminated):
 * /sbin/cairn-init --probe TARGET [--expect CODE] --timeout SECONDS, the timeout rounded up
 * to whole seconds. 0 or -ENOMEM.
 */
int runtime_probe_command(const char *target, int expect, int64_t timeout_ns, char ***ret);

/* The document for m (see above) into *ret (owned, NUL-terminated; ends with a newline) and
 * *ret_len. 0 or -ENOMEM. */
int runtime_manifest_render(const struct runtime_manifest *m, char **ret, size_t *ret_len);

/*
 * Reads a runtime.json document (name is used in messages). Every key must be there with its
 * type; unknown keys are refused (the reader is this cairn's own). On success *ret is owned
 * by the caller; otherwise -EINVAL (class CAIRN_EXIT_USAGE, naming name) or -ENOMEM.
 */
int runtime_manifest_parse(const char *name, const char *buf, size_t len,
                           struct runtime_manifest **ret, struct cairn_error *err);

/* The bytes of RUNTIME_JSON_PATH in t (contents from s), NUL-terminated, at most
 * RUNTIME_MAX_BYTES (-EFBIG beyond); -ENOENT when t has no such regular file (a hardlink is
 * followed). *ret is owned by the caller. */
int runtime_json_read(const struct tree *t, const struct store *s, char **ret, size_t *ret_len);

/* The snippets (runtime_format.c). image is the image reference to print. Each returns 0 or
 * -ENOMEM / -EIO from writing f. */

/* A Pod (apiVersion v1) whose spec carries the security context, an emptyDir (medium: Memory)
 * per tmpfs, and the liveness probe. */
int runtime_format_kubernetes(const struct runtime_manifest *m, const char *image, FILE *f);
/* `docker run` with --read-only, --tmpfs PATH:OPTIONS, --cap-drop ALL, --security-opt
 * no-new-privileges, --user, -e NAME for each required variable. */
int runtime_format_docker(const struct runtime_manifest *m, const char *image, FILE *f);
/* The same as a compose service. */
int runtime_format_compose(const struct runtime_manifest *m, const char *image, FILE *f);

/* The mount options of a tmpfs: "rw,noexec,nosuid,nodev,mode=1777,uid=0,gid=0" into out. */
void runtime_tmpfs_options(const struct runtime_tmpfs *t, char *out, size_t size);
