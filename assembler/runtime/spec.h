/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI runtime configuration (config.json, runtime-spec 1.0.2) of a cairn bundle, rendered
 * from plain values: nothing here knows about recipes or builds (bundle.h derives the values
 * from a variant's runtime.json and image config). Every field, and why it has the value it
 * has, is in docs/commands.md, "cairn bundle".
 *
 * What every bundle gets, whatever the caller asks:
 *   - process: no terminal; the rlimits below; noNewPrivileges; the capabilities in caps and
 *     no other (bounding, effective, permitted, inheritable and ambient alike, so a non-root
 *     user keeps them across exec);
 *   - mounts: /proc, /dev (tmpfs), /dev/pts, /dev/shm, /dev/mqueue, /sys and /sys/fs/cgroup
 *     read-only, as runc's and the engines' defaults;
 *   - linux: new pid, network (loopback only), ipc, uts, mount, user and cgroup namespaces;
 *     uid and gid maps from the image's ids 0..id_count-1 to host_uid/host_gid upward; the
 *     devices cgroup denying every device but the runtime's defaults; the masked and
 *     read-only paths of runc's default spec plus moby's /sys/devices/virtual/powercap; the
 *     seccomp filter of seccomp.h.
 * Output: pretty JSON with a fixed key order and a final newline: equal values, equal bytes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUNTIME_SPEC_VERSION "1.0.2"
#define RUNTIME_ID_COUNT     65536 /* image ids 0..65535 are mapped */

/* The process's rlimits: no core files (they would carry the program's memory out of the
 * container); a file descriptor soft limit that select() programs survive, which programs may
 * raise to the hard limit; a bound on the processes of each user of the container where the
 * pids controller is missing. Inside a user namespace a runtime can only lower a limit, so
 * the hard limits stay below what hosts commonly allow (this one's are clamped with
 * runtime_spec.clamp_rlimits). */
#define RUNTIME_RLIMIT_NOFILE_SOFT 1024
#define RUNTIME_RLIMIT_NOFILE_HARD 16384
#define RUNTIME_RLIMIT_NPROC       4096

/* A tmpfs on one of the recipe's writable: paths, owned by the image user. */
struct runtime_tmpfs {
        const char *path; /* absolute, inside the container */
        uint32_t mode;    /* permission bits of its root */
        uint32_t uid, gid;
};

struct runtime_spec {
        const char *const *args; /* process.args, NULL-terminated, at least one */
        const char *const *env;  /* "KEY=VALUE", NULL-terminated */
        const char *cwd;         /* absolute */
        uint32_t uid, gid;       /* the process's ids inside the container */
        uint64_t caps;           /* bit N: capability N is kept */
        const char *root_path;   /* root.path: "rootfs", or an absolute path */
        bool root_readonly;
        const char *hostname;              /* NULL: none (the uts namespace keeps the runtime's) */
        const struct runtime_tmpfs *tmpfs; /* n_tmpfs, mounted in this order */
        size_t n_tmpfs;
        uint32_t host_uid, host_gid; /* where image id 0 lands on the host */
        const char *arch;            /* Debian architecture of the image (the seccomp filter) */
        uint64_t pids_limit;         /* linux.resources.pids.limit; 0: none */
        uint64_t memory_limit;       /* linux.resources.memory.limit in bytes; 0: none */
        const char *cgroups_path;    /* linux.cgroupsPath; NULL: the runtime's choice */
        bool clamp_rlimits; /* lower the rlimits to this process's hard limits (cairn profile) */
};

/*
 * Renders s as config.json into *ret (owned by the caller, NUL-terminated) and *ret_len.
 * 0, -EINVAL when s has no args, or -ENOMEM.
 */
int runtime_spec_render(const struct runtime_spec *s, char **ret, size_t *ret_len);
