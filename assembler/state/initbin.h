/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cairn-init a build installs (run.init: cairn-init): found once, hashed once, and kept
 * open so that the bytes the lock stage pins are the bytes the configure stage stores.
 *
 * Where it comes from: --init-binary (no fallback past it), else $CAIRN_INIT_BINARY, else next
 * to the running cairn (`cairn-init`, `init/cairn-init`), else LIBEXECDIR/cairn/cairn-init.
 */
#pragma once

#include "base/error.h"

#define INITBIN_MAX (64ULL << 20)

struct initbin {
        char *path;      /* owned; where it was found */
        int fd;          /* owned; open for reading, -1 when not found yet */
        char sha256[72]; /* "sha256:HEX" of its bytes */
};

#define INITBIN_INIT                                                                               \
        {                                                                                          \
                .fd = -1                                                                           \
        }

/* Finds and hashes cairn-init (option may be NULL: no --init-binary). A missing one is
 * -ENOENT with a CAIRN_EXIT_USAGE message naming every place looked at. On success *ret is
 * filled (clear it with initbin_clear). */
int initbin_open(const char *option, struct initbin *ret, struct cairn_error *err);
void initbin_clear(struct initbin *ib);
