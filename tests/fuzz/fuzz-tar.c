/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the artifact archive reader (stages/artifacts.c through
 * assembler/base/untar.c): any compression, any tar dialect, unpacked into a tree under /opt/app.
 */
#include "stages/artifacts.h"
#include "fuzz-build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_build fb;
        if (fuzz_build_init(&fb) < 0)
                abort();
        _cleanup_close_ int fd = fuzz_memfd(data, size);
        if (fd < 0)
                abort();
        struct recipe_artifact a = {
                .src = (char *)"fuzz.tar",
                .dest = (char *)"/opt/app",
                .mode = RECIPE_MODE_UNSET,
                .uid = RECIPE_ID_UNSET,
                .gid = RECIPE_ID_UNSET,
        };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        int r = artifacts_unpack_archive(&fb.b, &fb.v, &a, "fuzz.tar", fd, &err);
        /* Every failure says why; every entry that went in is a normalised path below dest. */
        if (r < 0 && err.n_messages == 0 && r != -ENOMEM)
                __builtin_trap();
        const struct tree_entry *e;
        tree_foreach (e, fb.v.tree) {
                if (!streq(e->path, "/") && !streq(e->path, "/opt") &&
                    !startswith(e->path, "/opt/app"))
                        __builtin_trap();
                if (e->type == TREE_REG && e->size > 0) {
                        int ofd = store_open_key(fb.b.store, &e->key);
                        if (ofd < 0)
                                __builtin_trap();
                        close(ofd);
                }
        }
        fuzz_build_clear(&fb);
        return 0;
}
