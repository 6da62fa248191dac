/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn-init's run-time restriction of PROGRAM (DESIGN.md §9, docs/commands.md "cairn-init"):
 * a Landlock ruleset built from the runtime file, and a seccomp filter against executables
 * that exist only in memory.
 *
 * The ruleset (built by the parent, applied by the child just before execve):
 *   - read files and list directories everywhere (beneath "/");
 *   - execute only the runtime file's "executables" (a rule per file, on its inode);
 *   - write, truncate, create, remove, rename and link only beneath its "writable" paths;
 *   - write (not create) the character devices /dev/null, /dev/zero, /dev/full, /dev/random,
 *     /dev/urandom and /dev/tty.
 * The kernel's ABI is probed at run time; rights an older ABI cannot restrict are left out of
 * the ruleset (best effort down to ABI 1) and landlock_gaps() says which. Rules attach to
 * the inodes found when the ruleset is built: the mounts (tmpfs on writable paths, /dev,
 * /proc) must already be in place, which they are, since the runtime makes them before it
 * starts cairn-init. A restricted process cannot mount or unmount anything.
 *
 * Landlock's execute right covers execve(2) of a file and the kernel's opening of its ELF
 * interpreter or #! interpreter; it does not cover mmap(PROT_EXEC) of a file, so shared
 * libraries need no rule (read is allowed everywhere), and neither does a program that maps
 * code itself. Files that live on no user-visible filesystem (a memfd) are outside Landlock
 * altogether: exec_filter_install() closes that door.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "rtjson.h"

/* The highest Landlock ABI the running kernel offers, or 0 when it offers none (no Landlock,
 * or Landlock not enabled at boot). */
int landlock_abi(void);

/* One line saying what ABI abi cannot restrict, or NULL when it restricts everything the
 * ruleset asks for. */
const char *landlock_gaps(int abi);

/*
 * Builds the ruleset for m under ABI abi (> 0) and returns its file descriptor (close-on-exec,
 * owned by the caller), or -errno with a one-line reason in msg. Paths of m that do not exist,
 * or are not what they should be (an executable that is not a regular file, a writable path
 * that is neither a directory nor a regular file), get no rule; debug (may be NULL) hears
 * about each. *ret_n_exec and *ret_n_write count the rules added.
 */
int landlock_build(const struct rt_manifest *m, int abi,
                   void (*debug)(const char *path, const char *why), size_t *ret_n_exec,
                   size_t *ret_n_write, char *msg, size_t msg_size);

/* Restricts the calling process (and what it execs) with the ruleset fd. Needs no_new_privs.
 * 0 or -errno. */
int landlock_apply(int fd);

/*
 * Installs, in the calling process, the seccomp filter against memory-only executables:
 *   - memfd_create() with MFD_EXEC, or without MFD_NOEXEC_SEAL, fails (EPERM for MFD_EXEC,
 *     ENOSYS otherwise, so programs fall back to files, which Landlock covers);
 *   - execveat() with AT_EMPTY_PATH (fexecve) fails with EPERM;
 *   - a system call of an architecture other than the init's own (or, on x86-64 and arm64,
 *     its 32-bit compat ABI, whose numbers are checked too) kills the process.
 * Needs no_new_privs. 0, -ENOTSUP when cairn-init was built for an architecture it has no
 * table for, or -errno from the kernel.
 */
int exec_filter_install(void);
