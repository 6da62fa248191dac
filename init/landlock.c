/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Landlock half of restrict.h. The kernel's UAPI is declared here rather than included:
 * musl-gcc builds cairn-init without the kernel's headers, and this ABI never changes once
 * published (include/uapi/linux/landlock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "restrict.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444 /* the same number on every architecture */
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH      1

#define LL_EXECUTE     (1ULL << 0)
#define LL_WRITE_FILE  (1ULL << 1)
#define LL_READ_FILE   (1ULL << 2)
#define LL_READ_DIR    (1ULL << 3)
#define LL_REMOVE_DIR  (1ULL << 4)
#define LL_REMOVE_FILE (1ULL << 5)
#define LL_MAKE_CHAR   (1ULL << 6)
#define LL_MAKE_DIR    (1ULL << 7)
#define LL_MAKE_REG    (1ULL << 8)
#define LL_MAKE_SOCK   (1ULL << 9)
#define LL_MAKE_FIFO   (1ULL << 10)
#define LL_MAKE_BLOCK  (1ULL << 11)
#define LL_MAKE_SYM    (1ULL << 12)
#define LL_REFER       (1ULL << 13) /* ABI 2 */
#define LL_TRUNCATE    (1ULL << 14) /* ABI 3 */

/* The first member of struct landlock_ruleset_attr: a shorter struct is zero-extended by the
 * kernel, so this size works on every ABI (network and scope rights stay unhandled). */
struct ll_ruleset_attr {
        uint64_t handled_access_fs;
};

struct ll_path_beneath_attr {
        uint64_t allowed_access;
        int32_t parent_fd;
} __attribute__((packed));

/* Everything the ruleset handles on ABI 1; the device-ioctl right (ABI 5) is left alone:
 * ioctls write nothing, and handling it would break terminals opened by PROGRAM. */
#define LL_ABI1_FS                                                                                 \
        (LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_READ_DIR | LL_REMOVE_DIR |                 \
         LL_REMOVE_FILE | LL_MAKE_CHAR | LL_MAKE_DIR | LL_MAKE_REG | LL_MAKE_SOCK | LL_MAKE_FIFO | \
         LL_MAKE_BLOCK | LL_MAKE_SYM)

#define LL_READ (LL_READ_FILE | LL_READ_DIR)
#define LL_WRITE_DIR                                                                               \
        (LL_WRITE_FILE | LL_REMOVE_DIR | LL_REMOVE_FILE | LL_MAKE_CHAR | LL_MAKE_DIR |             \
         LL_MAKE_REG | LL_MAKE_SOCK | LL_MAKE_FIFO | LL_MAKE_BLOCK | LL_MAKE_SYM | LL_REFER |      \
         LL_TRUNCATE)
#define LL_WRITE_REG (LL_WRITE_FILE | LL_TRUNCATE)

/* Devices every program may write (shell-style `>/dev/null` truncates, hence TRUNCATE). */
static const char *const writable_devices[] = {
        "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
};

static uint64_t handled_for(int abi)
{
        uint64_t h = LL_ABI1_FS;

        if (abi >= 2)
                h |= LL_REFER;
        if (abi >= 3)
                h |= LL_TRUNCATE;
        return h;
}

int landlock_abi(void)
{
        long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
        return v > 0 ? (int)v : 0;
}

const char *landlock_gaps(int abi)
{
        if (abi <= 0)
                return "Landlock is not available in this kernel: PROGRAM may execute and "
                       "write whatever file permissions allow (the seccomp filter still "
                       "applies)";
        if (abi == 1)
                return "Landlock ABI 1: truncating files outside the writable paths is not "
                       "restricted, and renaming or linking across directories is refused "
                       "everywhere";
        if (abi == 2)
                return "Landlock ABI 2: truncating files outside the writable paths is not "
                       "restricted";
        return NULL;
}

static int add_rule(int ruleset, int fd, uint64_t access)
{
        struct ll_path_beneath_attr a = { .allowed_access = access, .parent_fd = fd };

        if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &a, 0) < 0)
                return -errno;
        return 0;
}

enum want {
        WANT_DIR_READ, /* "/" */
        WANT_EXEC,     /* a regular file, not followed through a symlink */
        WANT_WRITE,    /* a directory or a regular file */
        WANT_DEVICE,   /* a character device */
};

/*
 * Adds the rule for one path. Returns 1 when a rule was added, 0 when the path got none
 * (told to debug), -errno with msg when the ruleset cannot be built.
 */
static int rule_for(int ruleset, uint64_t handled, const char *path, enum want want,
                    void (*debug)(const char *path, const char *why), char *msg, size_t msg_size)
{
        int flags = O_PATH | O_CLOEXEC | (want == WANT_EXEC ? O_NOFOLLOW : 0);
        uint64_t access;
        struct stat st;
        int fd, r;

        fd = open(path, flags);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT || r == -ENOTDIR || r == -EACCES || r == -ELOOP) {
                        if (debug)
                                debug(path, strerror(-r));
                        return 0;
                }
                snprintf(msg, msg_size, "landlock: %s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                snprintf(msg, msg_size, "landlock: %s: %s", path, strerror(-r));
                return r;
        }
        switch (want) {
        case WANT_DIR_READ:
                access = S_ISDIR(st.st_mode) ? LL_READ : 0;
                break;
        case WANT_EXEC:
                access = S_ISREG(st.st_mode) ? LL_EXECUTE : 0;
                break;
        case WANT_WRITE:
                access = S_ISDIR(st.st_mode)   ? LL_READ | LL_WRITE_DIR
                         : S_ISREG(st.st_mode) ? LL_READ_FILE | LL_WRITE_REG
                                               : 0;
                break;
        case WANT_DEVICE:
                access = S_ISCHR(st.st_mode) ? LL_READ_FILE | LL_WRITE_REG : 0;
                break;
        default:
                access = 0;
        }
        if (access == 0) {
                close(fd);
                if (debug)
                        debug(path, want == WANT_EXEC     ? "not a regular file"
                                    : want == WANT_DEVICE ? "not a character device"
                                                          : "neither a directory nor a file");
                return 0;
        }
        r = add_rule(ruleset, fd, access & handled);
        close(fd);
        if (r < 0) {
                snprintf(msg, msg_size, "landlock: adding the rule for %s: %s", path, strerror(-r));
                return r;
        }
        return 1;
}

/* True when path is w or lies beneath it, lexically. */
static bool beneath(const char *path, const char *w)
{
        size_t n = strlen(w);

        if (n == 1 && w[0] == '/')
                return true;
        return strncmp(path, w, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int landlock_build(const struct rt_manifest *m, int abi,
                   void (*debug)(const char *path, const char *why), size_t *ret_n_exec,
                   size_t *ret_n_write, char *msg, size_t msg_size)
{
        uint64_t handled = handled_for(abi);
        struct ll_ruleset_attr attr = { .handled_access_fs = handled };
        size_t n_exec = 0, n_write = 0;
        int ruleset, r;

        ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
        if (ruleset < 0) {
                r = -errno;
                snprintf(msg, msg_size, "landlock: creating the ruleset: %s", strerror(-r));
                return r;
        }
        r = rule_for(ruleset, handled, "/", WANT_DIR_READ, debug, msg, msg_size);
        if (r == 0) {
                snprintf(msg, msg_size, "landlock: / is not a directory");
                r = -ENOTDIR;
        }
        for (size_t i = 0; r >= 0 && i < sizeof(writable_devices) / sizeof(*writable_devices); i++)
                r = rule_for(ruleset, handled, writable_devices[i], WANT_DEVICE, debug, msg,
                             msg_size);
        for (size_t i = 0; r >= 0 && i < m->n_writable; i++) {
                r = rule_for(ruleset, handled, m->writable[i], WANT_WRITE, debug, msg, msg_size);
                n_write += r > 0;
        }
        for (size_t i = 0; r >= 0 && i < m->n_executables; i++) {
                /* A file PROGRAM may rewrite must not be one it may execute: the build never
                 * lists one (stages/runtime.c); a hand-edited runtime file gets the same. */
                bool writable = false;
                for (size_t k = 0; !writable && k < m->n_writable; k++)
                        writable = beneath(m->executables[i], m->writable[k]);
                if (writable) {
                        if (debug)
                                debug(m->executables[i], "beneath a writable path: not executable");
                        continue;
                }
                r = rule_for(ruleset, handled, m->executables[i], WANT_EXEC, debug, msg, msg_size);
                n_exec += r > 0;
        }
        if (r < 0) {
                close(ruleset);
                return r;
        }
        *ret_n_exec = n_exec;
        *ret_n_write = n_write;
        return ruleset;
}

int landlock_apply(int fd)
{
        if (syscall(SYS_landlock_restrict_self, fd, 0) < 0)
                return -errno;
        return 0;
}
