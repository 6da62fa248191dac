/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The set of image paths a sandboxed program opened (`cairn profile --reads`): fed from a
 * fanotify descriptor that watches the overlay's superblock, deduplicated in a hash set.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define READSET_MAX 200000 /* distinct paths; more are dropped and `truncated` is set */

struct readset {
        char **paths; /* owned; n in first-seen order, each owned */
        size_t n, cap;
        size_t *slots; /* owned; open addressing, index + 1 into paths, 0 = empty */
        size_t n_slots;
        bool truncated;
};

/* Adds a copy of path unless present. 0 or -ENOMEM. */
int readset_add(struct readset *s, const char *path);

/*
 * Reads every pending event from the (non-blocking) fanotify descriptor fan and adds the
 * opened file's path, with prefix (the overlay mount point as seen by the caller) removed.
 * Event descriptors are closed. 0 or -errno.
 */
int readset_drain_fanotify(struct readset *s, int fan, const char *prefix);

void readset_clear(struct readset *s);
