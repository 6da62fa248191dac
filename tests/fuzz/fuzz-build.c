/* SPDX-License-Identifier: Apache-2.0 */
#include "fuzz-build.h"

#include <sys/mman.h>

static struct store *fuzz_store;
static char *fuzz_store_dir;
static unsigned runs;

static void remove_store(void)
{
        store_free(fuzz_store);
        fuzz_store = NULL;
        if (fuzz_store_dir)
                (void)rm_rf(fuzz_store_dir);
        free(fuzz_store_dir);
        fuzz_store_dir = NULL;
}

static int open_store(void)
{
        if (fuzz_store && ++runs % 10000 != 0)
                return 0;
        remove_store();
        const char *tmp = getenv("TMPDIR");
        if (asprintf(&fuzz_store_dir, "%s/cairn-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
                fuzz_store_dir = NULL;
                return -ENOMEM;
        }
        if (!mkdtemp(fuzz_store_dir))
                return -errno;
        static bool registered;
        if (!registered && atexit(remove_store) == 0)
                registered = true;
        return store_open(fuzz_store_dir, &fuzz_store, NULL);
}

int fuzz_build_init(struct fuzz_build *fb)
{
        *fb = (struct fuzz_build){ 0 };
        int r = open_store();
        if (r < 0)
                return r;
        fb->recipe.path = (char *)"fuzz.yaml";
        fb->recipe.dir = (char *)".";
        fb->b.recipe = &fb->recipe;
        fb->b.store = fuzz_store;
        fb->b.arch = "amd64";
        fb->b.variants = &fb->v;
        fb->b.n_variants = 1;
        fb->v.name = "prod";
        fb->v.selected = true;
        return tree_new(&fb->v.tree);
}

void fuzz_build_clear(struct fuzz_build *fb)
{
        tree_free(fb->v.tree);
        fb->v.tree = NULL;
        strv_free(fb->b.pkg_with_scripts);
        fb->b.pkg_with_scripts = NULL;
}

int fuzz_memfd(const uint8_t *data, size_t size)
{
        int fd = memfd_create("cairn-fuzz", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, data, size);
        if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}
