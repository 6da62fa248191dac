/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the archive fuzz targets share: a struct build with just enough in it for the unpack
 * and artifacts stages (a recipe, one variant with an empty tree, an object store in a private
 * temporary directory), and the fuzz input as a file descriptor.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "state/build.h"

struct fuzz_build {
        struct build b;
        struct build_variant v;
        struct recipe recipe;
};

/* Prepares fb for one input. The store is made once per process and emptied now and then, so
 * a long fuzz run stays small on disk. 0 or a negative errno. */
int fuzz_build_init(struct fuzz_build *fb);
/* Frees what one input left in fb (the tree, noted packages). */
void fuzz_build_clear(struct fuzz_build *fb);

/* A memfd holding data, positioned at 0; a negative errno on failure. */
int fuzz_memfd(const uint8_t *data, size_t size);
