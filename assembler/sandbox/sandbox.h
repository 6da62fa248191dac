/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs an OCI runtime bundle (runtime/bundle.h, BUNDLE_PROFILE) under runc, with its root on
 * an overlay whose lower layer is a prepared rootfs that is never written, and reports what
 * the program wrote (and, on request, opened).
 *
 * runc does the isolation: user, pid, mount, network, ipc, uts and cgroup namespaces, the
 * capabilities, no_new_privs, seccomp, rlimits, the pids and memory cgroup limits. What is
 * kept here is what runc cannot do:
 *   - the overlay and reading its upper layer afterwards. The supervisor mounts a private
 *     tmpfs on /tmp in a mount namespace of its own (the host's /tmp is untouched) for the
 *     upper layer, the bundle and runc's state, so the bundle's path is one that runc's setup,
 *     already in the user namespace, can traverse whatever the caller's TMPDIR is; the lower
 *     layer is passed to overlayfs as an open descriptor;
 *   - reading the upper layer: each created, modified or deleted
 *     path (whiteouts are 0/0 character devices, opaque directories carry
 *     trusted.overlay.opaque) is a write;
 *   - --reads: a fanotify mark on the overlay's superblock (FAN_MARK_FILESYSTEM), added after
 *     `runc create` and before `runc start`, so it sees every file the program opens and none
 *     of runc's own lookups; strace inside the container would need ptrace (refused by the
 *     seccomp filter and the missing capabilities) and LD_PRELOAD misses static programs;
 *   - a supervisor that is PID 1 of a pid namespace of its own, in which runc and the
 *     container live: when the supervisor ends, however it ends (SIGKILL included), the
 *     kernel kills every process of that namespace, the container's nested ones too, so a
 *     program that clears its parent-death signal and forks cannot outlive the run. The
 *     supervisor watches the caller through the result pipe: when cairn dies (even by
 *     SIGKILL) it kills the container, deletes it from runc and removes the caller's
 *     temporary directories before it exits.
 *   - a new session and no terminal: runc and the program get /dev/null as stdin and a pipe as
 *     stdout and stderr, which the supervisor copies to cairn's stderr (control characters
 *     escaped when that is a terminal), so no descriptor of the program refers to a terminal.
 *
 * Needs root (overlayfs, fanotify on a superblock, runc's cgroups and id maps) and user
 * namespaces.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

#define SANDBOX_MAX_WRITES   100000 /* more written paths than this is an error */
#define SANDBOX_MAX_DURATION (24 * 3600)
#define SANDBOX_RUNTIME      "runc"

struct sandbox_options {
        const char *runtime; /* the OCI runtime's absolute path (sandbox_find_runtime) */
        const char *rootfs;  /* the lower directory; prepared, never written */
        const char *config;  /* config.json, whose root.path is "rootfs"; config_len bytes */
        size_t config_len;
        const char *container_id;        /* unique on this machine: runc's name, cgroup name */
        const char *const *cleanup_dirs; /* removed by the supervisor if the caller dies first
                                            (NULL-terminated; may be NULL) */
        uid_t root_uid;         /* the host ids of the container's root: runc's setup, in */
        gid_t root_gid;         /* the user namespace, must traverse the bundle's path */
        unsigned duration_ms;   /* 0: no limit, wait for the program to exit */
        unsigned grace_ms;      /* SIGTERM -> SIGKILL delay; 0: 2000 */
        uint64_t tmpfs_size_mb; /* size of the upper tmpfs; 0: 1024 */
        bool record_reads;      /* record every path opened (fanotify on the overlay) */
};

enum sandbox_op {
        SANDBOX_CREATED,
        SANDBOX_MODIFIED,
        SANDBOX_DELETED,
};

struct sandbox_write {
        char *path; /* owned; absolute path inside the rootfs */
        enum sandbox_op op;
        bool is_dir; /* the path is (or, for deletions, was replaced by nothing) a directory */
};

struct sandbox_result {
        int wait_status;              /* of the container's process, as from waitpid */
        bool timed_out;               /* stopped at the duration */
        bool killed;                  /* needed SIGKILL after the grace period */
        bool interrupted;             /* stopped early by SIGINT/SIGTERM/SIGHUP to cairn */
        struct sandbox_write *writes; /* owned; n_writes, sorted by path */
        size_t n_writes;
        char **reads; /* owned; n_reads paths opened (record_reads), sorted, unique */
        size_t n_reads;
        bool reads_truncated; /* more than READSET_MAX distinct paths were opened */
};

/*
 * Checks that this process can run the sandbox: root, and user namespaces enabled
 * (user.max_user_namespaces > 0). Otherwise -EPERM with a message saying which is missing.
 */
int sandbox_check_privileges(struct cairn_error *err);

/*
 * The OCI runtime to use: name ("runc", or another runtime with runc's command line, such as
 * crun) searched in PATH, or a path. *ret (owned) is absolute. -ENOENT (CAIRN_EXIT_IO, naming
 * the runtime and its Debian package) when there is none.
 */
int sandbox_find_runtime(const char *name, char **ret, struct cairn_error *err);

/* Whether this process's cgroups have the pids and the memory controller, so that the
 * runtime can apply linux.resources.pids and .memory to a container made below them. */
void sandbox_cgroup_controllers(bool *ret_pids, bool *ret_memory);

/*
 * Runs the bundle o describes and fills *ret (owned by the caller; clear it with
 * sandbox_result_clear). The program's own failure (non-zero exit, signal) is not an error:
 * see ret->wait_status. Errors: the overlay or the supervisor could not be set up, or the
 * runtime failed to create or start the container (its messages are on stderr).
 */
int sandbox_run(const struct sandbox_options *o, struct sandbox_result *ret,
                struct cairn_error *err);

void sandbox_result_clear(struct sandbox_result *r);

const char *sandbox_op_name(enum sandbox_op op);
