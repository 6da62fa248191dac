/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage lock: the lock file's life in a build. It runs at three points of the pipeline:
 *
 *   stage_lock_read    before resolve: a lock consistent with the recipe pins b->packages
 *                      (then resolve loads no index); otherwise resolve runs afresh
 *   stage_lock_settle  after fetch: b->lock is what this build used (and b->lock_changes
 *                      what changed against the old lock)
 *   stage_lock_write   after the outputs are in place: the new lock beside the recipe
 */
#pragma once

#include "state/build.h"

/*
 * Reads b->lock_path. When its inputs digest matches the recipe (and not opts.refresh_lock),
 * fills b->packages and b->utility_packages from it: BUILD_LOCK_USED. Otherwise
 * BUILD_LOCK_CREATED or BUILD_LOCK_REFRESHED, or with opts.locked a CAIRN_EXIT_USAGE error.
 * When a variant runs cairn-init, finds and hashes it into b->init: the lock pins its SHA-256
 * ("cairn-init"), opts.locked refuses another one, and a build without opts.locked updates the
 * pin (b->lock_init_changed). A recipe without Debian utilities or packages and without
 * cairn-init stays BUILD_LOCK_NONE. Sets b->lock_old.
 */
int stage_lock_read(struct build *b, struct cairn_error *err);

/* Sets b->lock to the lock of what the build uses (call after fetch, which fills the sizes)
 * and b->lock_changes to lockfile_diff's lines against the old one. */
int stage_lock_settle(struct build *b, struct cairn_error *err);

/* Writes b->lock to b->lock_path when this build resolved afresh (or `force`). Sets
 * *ret_written. A build without Debian packages writes nothing. */
int stage_lock_write(struct build *b, bool force, bool *ret_written, struct cairn_error *err);

/* The same for the builds of a build_set (n > 1, one per architecture, in order): one lock
 * file holding every architecture's section, written when any build would write its own, or
 * when the file's sections are not the builds' architectures. */
int stage_lock_write_set(struct build *const *builds, size_t n, bool force, bool *ret_written,
                         struct cairn_error *err);
