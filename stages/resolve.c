/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resolve: load every source the recipe's variants use (assembler/debrepo.c) and turn the
 * recipe's names into exact Debian packages with libsolv.
 *
 *  - utilities: the best candidate for the dependency string (highest version, the recipe's
 *    architecture or `all`, the first source on a tie) and NO dependency closure: a utility
 *    brings only the files it names, and the enforcer later proves they are static;
 *  - packages: one solver job per variant (install, recommends ignored) giving the Depends
 *    closure. Unsatisfiable requests report libsolv's problems and solutions.
 */
#include "resolve.h"

#include <solv/chksum.h>
#include <solv/evr.h>
#include <solv/knownid.h>
#include <solv/policy.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/solver.h>
#include <solv/transaction.h>

#include "debrepo.h"

struct resolve_state {
        Pool *pool;   /* owned */
        char **bases; /* owned; per recipe source, the base URL (NULL when unused) */
        size_t n_bases;
        char **util_pkg; /* owned; per recipe utility, the chosen package name */
        size_t n_util;
};

void resolve_state_free(void *state)
{
        struct resolve_state *s = state;
        if (!s)
                return;
        if (s->pool)
                pool_free(s->pool);
        for (size_t i = 0; i < s->n_bases; i++)
                free(s->bases[i]);
        free(s->bases);
        for (size_t i = 0; i < s->n_util; i++)
                free(s->util_pkg[i]);
        free(s->util_pkg);
        free(s);
}

const char *resolve_utility_package(const struct build *b, const struct recipe_utility *u)
{
        const struct resolve_state *s = b->resolve_state;
        size_t i = (size_t)(u - b->recipe->utilities);
        return s && i < s->n_util ? s->util_pkg[i] : NULL;
}

/* "name", "name (>= 1.0)", "name (= 1.0-1)" into a libsolv dependency. 0 on a bad string. */
static Id parse_dep(Pool *pool, const char *s)
{
        const char *open = strchr(s, '(');
        size_t nlen = open ? (size_t)(open - s) : strlen(s);
        while (nlen > 0 && s[nlen - 1] == ' ')
                nlen--;
        if (nlen == 0)
                return 0;
        Id name = pool_strn2id(pool, s, (unsigned)nlen, 1);
        if (!open)
                return name;
        const char *p = open + 1;
        while (*p == ' ')
                p++;
        static const struct {
                const char *op;
                int flags;
        } ops[] = { { ">=", REL_GT | REL_EQ }, { "<=", REL_LT | REL_EQ }, { ">>", REL_GT },
                    { "<<", REL_LT },          { "=", REL_EQ },           { ">", REL_GT | REL_EQ },
                    { "<", REL_LT | REL_EQ } };
        int flags = 0;
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (startswith(p, ops[i].op)) {
                        flags = ops[i].flags;
                        p += strlen(ops[i].op);
                        break;
                }
        while (*p == ' ')
                p++;
        const char *close = strchr(p, ')');
        if (!flags || !close || close == p)
                return 0;
        size_t vlen = (size_t)(close - p);
        while (vlen > 0 && p[vlen - 1] == ' ')
                vlen--;
        Id evr = pool_strn2id(pool, p, (unsigned)vlen, 1);
        return pool_rel2id(pool, name, evr, flags, 1);
}

/* Adds (or finds) the package for solvable p in b->packages; returns its index. */
static int package_for(struct build *b, Id p, size_t *ret)
{
        struct resolve_state *st = b->resolve_state;
        Pool *pool = st->pool;
        Solvable *s = pool_id2solvable(pool, p);
        const char *name = pool_id2str(pool, s->name);
        const char *evr = pool_id2str(pool, s->evr);
        for (size_t i = 0; i < b->n_packages; i++)
                if (streq(b->packages[i].name, name) && streq(b->packages[i].version, evr)) {
                        *ret = i;
                        return 0;
                }
        struct build_package *n = realloc(b->packages, (b->n_packages + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        b->packages = n;
        struct build_package *pkg = &b->packages[b->n_packages];
        *pkg = (struct build_package){ 0 };
        size_t src = (size_t)(uintptr_t)s->repo->appdata;
        unsigned medianr;
        const char *loc = solvable_get_location(s, &medianr);
        Id type = 0;
        const unsigned char *sum = solvable_lookup_bin_checksum(s, SOLVABLE_CHECKSUM, &type);
        pkg->name = strdup(name);
        pkg->version = strdup(evr);
        pkg->arch = strdup(pool_id2str(pool, s->arch));
        pkg->source = strdup(b->recipe->sources[src].name);
        pkg->filename = loc ? strdup(loc) : NULL;
        pkg->sha256 =
                sum && type == REPOKEY_TYPE_SHA256 ? strdup(pool_bin2hex(pool, sum, 32)) : NULL;
        pkg->size = solvable_lookup_num(s, SOLVABLE_DOWNLOADSIZE, 0);
        const char *maint = solvable_lookup_str(s, SOLVABLE_PACKAGER);
        pkg->maintainer = maint ? strdup(maint) : NULL;
        if (loc && asprintf(&pkg->url, "%s/%s", st->bases[src], loc) < 0)
                pkg->url = NULL;
        b->n_packages++;
        if (!pkg->name || !pkg->version || !pkg->arch || !pkg->source || !pkg->filename ||
            !pkg->url)
                return -ENOMEM;
        *ret = b->n_packages - 1;
        return 0;
}

static bool arch_ok(Pool *pool, const Solvable *s, Id arch)
{
        return s->arch == arch || s->arch == ARCH_ALL || s->arch == ARCH_NOARCH;
}

static int resolve_utilities(struct build *b, struct cairn_error *err)
{
        struct resolve_state *st = b->resolve_state;
        Pool *pool = st->pool;
        Id arch = pool_str2id(pool, b->arch, 1);
        st->util_pkg = calloc(b->recipe->n_utilities + 1, sizeof(char *));
        if (!st->util_pkg)
                return -ENOMEM;
        st->n_util = b->recipe->n_utilities;
        for (size_t i = 0; i < b->recipe->n_utilities; i++) {
                const struct recipe_utility *u = &b->recipe->utilities[i];
                Id dep = parse_dep(pool, u->package);
                if (!dep)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s:%u:%u: package: '%s' is not a dependency like "
                                               "'tini' or 'tini (>= 0.19)'",
                                               b->recipe->path, u->pos.line, u->pos.column,
                                               u->package);
                Id name = ISRELDEP(dep) ? GETRELDEP(pool, dep)->name : dep;
                Id best = 0;
                Id p, pp;
                FOR_PROVIDES(p, pp, dep)
                {
                        Solvable *s = pool_id2solvable(pool, p);
                        if (s->name != name || !arch_ok(pool, s, arch))
                                continue;
                        if (!best || pool_evrcmp(pool, s->evr, pool_id2solvable(pool, best)->evr,
                                                 EVRCMP_COMPARE) > 0)
                                best = p;
                }
                if (!best)
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                               "%s:%u:%u: no package satisfies '%s' for %s in "
                                               "the recipe's sources",
                                               b->recipe->path, u->pos.line, u->pos.column,
                                               u->package, b->arch);
                size_t idx;
                int r = package_for(b, best, &idx);
                if (r < 0)
                        return r;
                b->packages[idx].picked |= u->variants;
                st->util_pkg[i] = strdup(b->packages[idx].name);
                if (!st->util_pkg[i])
                        return -ENOMEM;
        }
        return 0;
}

static int solve_variant(struct build *b, struct build_variant *v, struct cairn_error *err)
{
        struct resolve_state *st = b->resolve_state;
        Pool *pool = st->pool;
        if (v->view->n_packages == 0)
                return 0;
        Queue job;
        queue_init(&job);
        for (size_t i = 0; i < v->view->n_packages; i++) {
                const struct recipe_package *p = v->view->packages[i];
                Id dep = parse_dep(pool, p->name);
                if (!dep) {
                        queue_free(&job);
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s:%u:%u: '%s' is not a dependency string",
                                               b->recipe->path, p->pos.line, p->pos.column,
                                               p->name);
                }
                queue_push2(&job, SOLVER_INSTALL | SOLVER_SOLVABLE_PROVIDES, dep);
        }
        Solver *solv = solver_create(pool);
        solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, 1);
        int nproblems = solver_solve(solv, &job);
        int r = 0;
        if (nproblems) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&text, &len);
                for (Id problem = 1; f && problem <= nproblems; problem++) {
                        fprintf(f, "\n  problem %d: %s", problem,
                                solver_problem2str(solv, problem));
                        Id solution = 0;
                        while ((solution = solver_next_solution(solv, problem, solution))) {
                                Id p = 0, rp = 0, element = 0;
                                while ((element = solver_next_solutionelement(
                                                solv, problem, solution, element, &p, &rp)))
                                        fprintf(f, "\n    possible fix: %s",
                                                solver_solutionelement2str(solv, p, rp));
                        }
                }
                if (f)
                        fclose(f);
                r = cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                    "%s: the packages of variant %s cannot be installed "
                                    "together:%s",
                                    b->recipe->path, v->name, text ? text : "");
        } else {
                Transaction *trans = solver_create_transaction(solv);
                for (int i = 0; r >= 0 && i < trans->steps.count; i++) {
                        size_t idx;
                        r = package_for(b, trans->steps.elements[i], &idx);
                        if (r >= 0)
                                b->packages[idx].whole |= (recipe_variant_mask)1 << v->view->index;
                }
                transaction_free(trans);
        }
        solver_free(solv);
        queue_free(&job);
        return r;
}

static int package_cmp(const void *a, const void *b)
{
        const struct build_package *x = a, *y = b;
        int r = strcmp(x->name, y->name);
        return r ? r : strcmp(x->version, y->version);
}

int stage_resolve(struct build *b, struct cairn_error *err)
{
        if (b->recipe->n_utilities == 0 && b->recipe->n_packages == 0)
                return 0;
        /* Lock files (NAME.lock.json) are not written or read yet: accepting --locked would
         * promise a pinned resolution this build cannot give, so it is refused outright. */
        if (b->opts.locked)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EOPNOTSUPP,
                                       "--locked: lock files are not supported yet; the recipe's "
                                       "packages are resolved afresh on every build (drop "
                                       "--locked)");
        struct resolve_state *st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        b->resolve_state = st;
        st->pool = pool_create();
        st->bases = calloc(b->recipe->n_sources + 1, sizeof(char *));
        if (!st->pool || !st->bases)
                return -ENOMEM;
        st->n_bases = b->recipe->n_sources;
        pool_setdisttype(st->pool, DISTTYPE_DEB);
        pool_setarch(st->pool, b->arch);
        for (size_t i = 0; i < b->recipe->n_sources; i++) {
                int r = debrepo_load(st->pool, &b->recipe->sources[i], (unsigned)i, b->arch,
                                     b->cache_dir, b->opts.offline, &st->bases[i], err);
                if (r < 0)
                        return r;
        }
        pool_addfileprovides(st->pool);
        pool_createwhatprovides(st->pool);
        int r = resolve_utilities(b, err);
        for (size_t i = 0; r >= 0 && i < b->n_variants; i++)
                r = solve_variant(b, &b->variants[i], err);
        if (r < 0)
                return r;
        qsort(b->packages, b->n_packages, sizeof(*b->packages), package_cmp);
        return 0;
}
