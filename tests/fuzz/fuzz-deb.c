/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the .deb reader (stages/unpack.c): the outer ar archive, control.tar
 * and data.tar in any compression. Every input is unpacked twice, as a whole package and as a
 * utility picking two files, the two ways a recipe uses a package.
 */
#include <stdio.h>

#include "fuzz-build.h"
#include "stages/unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tree(const struct tree *t)
{
        const struct tree_entry *e;
        tree_foreach (e, t) {
                char *n = NULL;
                if (tree_path_normalize(e->path, &n) < 0 || !streq(n, e->path))
                        __builtin_trap();
                free(n);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_close_ int fd = fuzz_memfd(data, size);
        if (fd < 0)
                abort();
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        struct build_package pkg = {
                .name = (char *)"fuzz",
                .version = (char *)"1.0",
                .arch = (char *)"amd64",
                .local_path = path,
        };
        struct recipe_pick picks[] = {
                { .src = (char *)"/usr/bin/tool", .dest = (char *)"/bin/tool" },
                { .src = (char *)"/etc/tool.conf", .dest = (char *)"/etc/tool.conf" },
        };
        struct recipe_utility util = { .package = (char *)"fuzz", .files = picks, .n_files = 2 };
        for (int mode = 0; mode < 2; mode++) {
                struct fuzz_build fb;
                if (fuzz_build_init(&fb) < 0)
                        abort();
                _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
                int r = unpack_package(&fb.b, &fb.v, &pkg, mode ? &util : NULL, &err);
                if (r < 0 && err.n_messages == 0 && r != -ENOMEM)
                        __builtin_trap();
                check_tree(fb.v.tree);
                fuzz_build_clear(&fb);
        }
        /* Read once, placed twice: the second mode reused what the first one read. */
        deb_contents_free(pkg.contents);
        free(pkg.maintainer);
        return 0;
}
