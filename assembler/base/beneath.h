/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening a path beneath a directory, the way the build context is read (docs/security.md,
 * "The build context"): never through an absolute path, a `..` that climbs above the
 * directory, a symlink whose target leaves it (absolute targets always do), or a /proc magic
 * link. Symlinks whose targets stay beneath the directory are followed.
 *
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the kernel has it (Linux 5.6); where
 * it does not (ENOSYS, or a seccomp filter that refuses it with EPERM), a walk component by
 * component with O_NOFOLLOW that resolves symlinks itself under the same rules.
 */
#pragma once

#include "util.h"

enum beneath_flags {
        BENEATH_NO_SYMLINKS = 1 << 0, /* refuse every symlink on the way, even one inside */
};

/*
 * Opens path (relative) beneath dirfd with open_flags (O_CLOEXEC is added). Returns the fd,
 * or -EXDEV when the path or a symlink on it leaves dirfd, -ELOOP for a symlink where none is
 * allowed (BENEATH_NO_SYMLINKS, O_NOFOLLOW on the last component, a magic link, more than 40
 * symlinks), or the -errno of the open.
 */
int beneath_open(int dirfd, const char *path, int open_flags, unsigned flags);

/* The component walk beneath_open falls back to; the same contract (exported for the tests). */
int beneath_open_walk(int dirfd, const char *path, int open_flags, unsigned flags);
