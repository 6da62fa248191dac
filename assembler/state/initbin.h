/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cairn-init a build installs (run.init: cairn-init): found once, hashed once, and kept
 * open so that the bytes the lock stage pins are the bytes the configure stage stores.
 *
 * Where it comes from: --init-binary (no fallback past it), else $CAIRN_INIT_BINARY, else next
 * to the running cairn (`cairn-init`, `init/cairn-init`), else LIBEXECDIR/cairn/cairn-init.
 * For another architecture ARCH than the build machine's (a multi-architecture recipe): the
 * same places with `cairn-init-ARCH` for `cairn-init` (`--init-binary DIR/cairn-init` looks at
 * `DIR/cairn-init-ARCH`); the build makes `init/cairn-init-arm64` (and -amd64) with Debian's
 * cross compiler when it is installed (docs/multiarch.md).
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

/* The same for the Debian architecture arch (NULL: the build machine's). The file found must
 * be an ELF program for arch: another one is -ENOEXEC with a CAIRN_EXIT_USAGE message. */
int initbin_open_arch(const char *option, const char *arch, struct initbin *ret,
                      struct cairn_error *err);
void initbin_clear(struct initbin *ib);
