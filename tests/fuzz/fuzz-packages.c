/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for Packages handling as assembler/debian/debrepo.c and stages/resolve.c do it:
 * repo_add_debpackages into a pool, every attribute resolve reads (name, version,
 * architecture, Filename, SHA256, Maintainer), a whatprovides index and a dependency lookup,
 * then the .solv cache round trip (repo_write, repo_add_solv into a fresh pool).
 *
 * libsolv itself is Debian's library, not instrumented: the fuzzer steers by cairn's own code
 * and catches crashes and ASan-visible misuse (interceptors), not every bug inside libsolv.
 */
#include <solv/chksum.h>
#include <solv/knownid.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/repo_deb.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>
#include <stdio.h>

#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Pool *new_pool(void)
{
        Pool *pool = pool_create();
        pool_setdisttype(pool, DISTTYPE_DEB);
        pool_setarch(pool, "amd64");
        return pool;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size == 0)
                return 0;
        Pool *pool = new_pool();
        Repo *repo = repo_create(pool, "fuzz");
        FILE *f = fmemopen((void *)data, size, "r");
        if (!f)
                abort();
        int r = repo_add_debpackages(repo, f, 0);
        fclose(f);
        size_t total = 0;
        if (r == 0) {
                Id p;
                Solvable *s;
                FOR_REPO_SOLVABLES(repo, p, s)
                {
                        total += strlen(pool_id2str(pool, s->name));
                        total += strlen(pool_id2str(pool, s->evr));
                        total += strlen(pool_id2str(pool, s->arch));
                        unsigned medianr;
                        const char *loc = solvable_get_location(s, &medianr);
                        total += loc ? strlen(loc) : 0;
                        Id type = 0;
                        const unsigned char *sum =
                                solvable_lookup_bin_checksum(s, SOLVABLE_CHECKSUM, &type);
                        if (sum && type == REPOKEY_TYPE_SHA256)
                                total += strlen(pool_bin2hex(pool, sum, 32));
                        const char *maint = solvable_lookup_str(s, SOLVABLE_PACKAGER);
                        total += maint ? strlen(maint) : 0;
                        (void)solvable_lookup_num(s, SOLVABLE_DOWNLOADSIZE, 0);
                }
                pool_addfileprovides(pool);
                pool_createwhatprovides(pool);
                Id dep = pool_str2id(pool, "tool", 0);
                if (dep) {
                        Id q, qp;
                        FOR_PROVIDES(q, qp, dep)
                        total += (size_t)q;
                }
                /* The .solv cache round trip debrepo does on every cold load. */
                char *buf = NULL;
                size_t len = 0;
                FILE *w = open_memstream(&buf, &len);
                if (!w)
                        abort();
                int wr = repo_write(repo, w);
                fclose(w);
                if (wr == 0) {
                        Pool *p2 = new_pool();
                        FILE *rf = fmemopen(buf, len ? len : 1, "r");
                        if (rf) {
                                if (repo_add_solv(repo_create(p2, "cache"), rf, 0) == 0 &&
                                    p2->nsolvables != pool->nsolvables)
                                        __builtin_trap();
                                fclose(rf);
                        }
                        pool_free(p2);
                }
                free(buf);
        }
        pool_free(pool);
        return total == SIZE_MAX;
}
