/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes a tree into a directory on disk, contents from the store: the rootfs that `cairn
 * profile` runs, and a plain directory for tests and benchmarks.
 *
 * Entries are written in tree order (parents first). Regular files are reflinked when the
 * filesystem allows it, else copied (copy_file_range, then read/write); hardlinks are linked
 * to their earlier target; symlinks are created as written and never followed. Modes and
 * numeric owners are applied (chown before chmod, so set-id bits survive) and every entry gets
 * mtime = atime = epoch; directories are finished last, children first, so writing into them
 * does not disturb their times. Device nodes, sockets and fifos are skipped and counted.
 *
 * Safety: every component is opened with openat(O_NOFOLLOW | O_DIRECTORY) from the target's
 * descriptor, so a symlink in the tree (or one planted in the target) can never make a write
 * land outside the target directory.
 */
#pragma once

#include <stdint.h>

#include "base/error.h"
#include "store.h"
#include "tree.h"

enum materialize_flags {
        MATERIALIZE_NO_CHOWN = 1 << 0, /* keep the caller's ownership (unprivileged callers) */
};

struct materialize_stats {
        size_t n_files, n_dirs, n_symlinks, n_hardlinks;
        size_t n_skipped;   /* device nodes, fifos, sockets: not written */
        size_t n_reflinked; /* regular files shared with the store instead of copied */
        uint64_t bytes;     /* regular file bytes written or reflinked */
};

/*
 * Writes every entry of t into dir, which must exist and be empty (-EEXIST on a clash).
 * dir's own mode, owner and times come from the tree's "/" entry when it has one.
 * stats may be NULL. 0, or a negative errno with err naming the path.
 */
int materialize_tree(const struct tree *t, const struct store *s, int64_t epoch, const char *dir,
                     unsigned flags, struct materialize_stats *stats, struct cairn_error *err);

/*
 * materialize_tree with every owner moved by uid_shift and gid_shift: the rootfs of a bundle
 * whose user namespace maps image id N to host id SHIFT+N. -ERANGE (with err naming the
 * entry) when a shifted id would pass 2^32-2.
 */
int materialize_tree_shifted(const struct tree *t, const struct store *s, int64_t epoch,
                             const char *dir, unsigned flags, uint32_t uid_shift,
                             uint32_t gid_shift, struct materialize_stats *stats,
                             struct cairn_error *err);

/*
 * Opens the directory at the relative path `rel` ("a/b/c", no leading slash; "" is dirfd
 * itself) below dirfd without following any symlink. Returns an O_DIRECTORY fd or -errno
 * (-ELOOP / -ENOTDIR when a component is a symlink or not a directory).
 */
int materialize_open_dir(int dirfd, const char *rel);
