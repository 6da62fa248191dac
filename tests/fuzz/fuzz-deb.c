/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the .deb reader (stages/unpack.c): the outer ar archive, control.tar
 * and data.tar in any compression. Every input is unpacked three times, as a whole package, as
 * a utility picking two files, a directory and a pattern, and as a certificates: item (the CA
 * bundle), the ways a recipe uses a package.
 */
#include <stdio.h>
#include <string.h>

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
        /* A file, a directory and a pattern (prefix "/usr/share"), as the parser reads them. */
        struct recipe_pick picks[] = {
                { .src = (char *)"/usr/bin/tool", .dest = (char *)"/bin/tool" },
                { .src = (char *)"/etc/tool.conf", .dest = (char *)"/etc/tool.conf" },
                { .src = (char *)"/usr/lib", .dest = (char *)"/lib" },
                { .src = (char *)"/usr/share/**/*.c?t",
                  .dest = (char *)"/data",
                  .glob = true,
                  .prefix_len = strlen("/usr/share") },
        };
        struct recipe_utility utils[] = {
                { .package = (char *)"fuzz", .files = picks, .n_files = ELEMENTSOF(picks) },
                { .kind = RECIPE_UTILITY_CA_BUNDLE,
                  .package = (char *)"fuzz",
                  .bundle = (char *)"/etc/ssl/certs/ca-certificates.crt" },
        };
        for (int mode = 0; mode < 3; mode++) {
                struct fuzz_build fb;
                if (fuzz_build_init(&fb) < 0)
                        abort();
                _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
                int r = unpack_package(&fb.b, &fb.v, &pkg, mode ? &utils[mode - 1] : NULL, &err);
                if (r < 0 && err.n_messages == 0 && r != -ENOMEM)
                        __builtin_trap();
                check_tree(fb.v.tree);
                fuzz_build_clear(&fb);
        }
        /* Read once, placed three times: the later modes reused what the first one read. */
        deb_contents_free(pkg.contents);
        free(pkg.maintainer);
        return 0;
}
