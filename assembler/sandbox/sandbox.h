/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs a program on a root filesystem without changing it, and reports what it wrote.
 *
 * Built from the kernel's own primitives, no external tool:
 *   - a supervisor process (forked) unshares mount, UTS, IPC, network and PID namespaces,
 *     brings loopback up (the only interface), mounts a private tmpfs for the overlay's
 *     upper and work directories and the overlay (lower = the rootfs, read-only);
 *   - its first child is PID 1 of the new PID namespace: in its own mount namespace it mounts
 *     a fresh /proc and a tmpfs /dev (null, zero,
 *     full, random, urandom, tty bind-mounted from the host, plus shm and the usual links),
 *     pivot_roots into it, takes the user, environment and working directory and execs;
 *   - the supervisor waits with signalfd + timerfd: when the program exits, or after the
 *     duration (SIGTERM, then SIGKILL after the grace period). When PID 1 of a PID namespace
 *     dies the kernel kills everything else in it, so nothing lingers;
 *   - it then walks the upper directory: each created, modified or deleted path (whiteouts
 *     are 0/0 character devices, opaque directories carry trusted.overlay.opaque) is a write,
 *     sent back to the caller over a pipe. The tmpfs disappears with the supervisor.
 *   - with record_reads, a fanotify mark on the overlay's superblock (FAN_MARK_FILESYSTEM)
 *     records every path the program opened.
 *
 * The rootfs is the overlay's lower layer: it is never written.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

#define SANDBOX_MAX_WRITES   100000 /* more written paths than this is an error */
#define SANDBOX_MAX_DURATION (24 * 3600)

struct sandbox_options {
        const char *rootfs;  /* the lower directory; must exist */
        const char *scratch; /* an empty directory the tmpfs is mounted on (private) */
        char *const *argv;   /* argv[0]: absolute, or searched in PATH from envp */
        char *const *envp;   /* the program's whole environment */
        const char *workdir; /* NULL: "/" */
        uid_t uid;           /* the program's user and group (setgroups to just gid) */
        gid_t gid;
        const char *hostname;   /* NULL: "cairn-profile" */
        unsigned duration_ms;   /* 0: no limit, wait for the program to exit */
        unsigned grace_ms;      /* SIGTERM -> SIGKILL delay; 0: 2000 */
        uint64_t tmpfs_size_mb; /* size of the upper tmpfs; 0: 1024 */
        bool stdout_to_stderr;  /* the program's stdout goes to stderr (keeps ours clean) */
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
        int wait_status;              /* of the program (PID 1), as from waitpid */
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
 * Checks that this process can build the sandbox: root (CAP_SYS_ADMIN). Otherwise -EPERM with
 * a message that says whether unprivileged user namespaces are enabled here, and that cairn
 * needs root in both cases.
 */
int sandbox_check_privileges(struct cairn_error *err);

/*
 * Runs o->argv in the sandbox and fills *ret (owned by the caller; clear it with
 * sandbox_result_clear). The program's own failure (non-zero exit, signal) is not an error:
 * see ret->wait_status. Errors: the sandbox could not be built or the program could not be
 * started (-ENOENT / -EACCES for the program, with err naming it).
 */
int sandbox_run(const struct sandbox_options *o, struct sandbox_result *ret,
                struct cairn_error *err);

void sandbox_result_clear(struct sandbox_result *r);

const char *sandbox_op_name(enum sandbox_op op);
