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
        Pool *pool;                 /* owned; NULL when the lock file pinned everything */
        struct debrepo_info *infos; /* owned; per recipe source (only base when from a lock) */
        size_t n_infos;
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
        for (size_t i = 0; i < s->n_infos; i++)
                debrepo_info_clear(&s->infos[i]);
        free(s->infos);
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
static int package_for(struct build *b, Id p, size_t *ret, struct cairn_error *err)
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
        if (loc && asprintf(&pkg->url, "%s/%s", st->infos[src].base, loc) < 0)
                pkg->url = NULL;
        b->n_packages++;
        if (!loc)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "source %s: the index lists %s %s without a Filename: "
                                       "field; it cannot be downloaded",
                                       pkg->source ? pkg->source : "?", pkg->name ? pkg->name : "?",
                                       pkg->version ? pkg->version : "?");
        if (!pkg->name || !pkg->version || !pkg->arch || !pkg->source || !pkg->filename ||
            !pkg->url)
                return -ENOMEM;
        *ret = b->n_packages - 1;
        return 0;
}

/* Adds "KIND REQUEST" to pkg->needed_by, keeping it sorted and free of duplicates. */
static int package_needed_by(struct build_package *pkg, const char *kind, const char *request)
{
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "%s %s", kind, request) < 0)
                return -ENOMEM;
        size_t n = 0, at = 0;
        for (char **p = pkg->needed_by; p && *p; p++, n++) {
                int c = strcmp(*p, what);
                if (c == 0)
                        return 0;
                if (c < 0)
                        at = n + 1;
        }
        char **v = realloc(pkg->needed_by, (n + 2) * sizeof(char *));
        if (!v)
                return -ENOMEM;
        v[n] = NULL; /* also when needed_by was NULL */
        memmove(v + at + 1, v + at, (n - at + 1) * sizeof(char *));
        v[at] = steal_pointer(&what);
        pkg->needed_by = v;
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
                int r = package_for(b, best, &idx, err);
                if (r < 0)
                        return r;
                b->packages[idx].picked |= u->variants;
                r = package_needed_by(&b->packages[idx], "utility", u->package);
                if (r < 0)
                        return r;
                st->util_pkg[i] = strdup(b->packages[idx].name);
                if (!st->util_pkg[i])
                        return -ENOMEM;
        }
        return 0;
}

/*
 * Records which of the variant's requests need each package of its closure: what each
 * request's package requires, followed through Depends/Pre-Depends to the providers the joint
 * solution installed. A walk over the solution, not a solve per request: only for the lock
 * file's "needed-by"; the joint solve alone decides what is installed.
 */
static int attribute_requests(struct build *b, struct build_variant *v, const Queue *job,
                              const Queue *installed)
{
        struct resolve_state *st = b->resolve_state;
        Pool *pool = st->pool;
        Map in, seen;
        map_init(&in, pool->nsolvables);
        map_init(&seen, pool->nsolvables);
        for (int i = 0; i < installed->count; i++)
                MAPSET(&in, installed->elements[i]);
        Queue todo;
        queue_init(&todo);
        int r = 0;
        for (int j = 0; r >= 0 && j + 1 < job->count; j += 2) {
                const struct recipe_package *req = v->view->packages[j / 2];
                map_empty(&seen);
                Id p, pp;
                FOR_PROVIDES(p, pp, job->elements[j + 1])
                if (MAPTST(&in, p) && !MAPTST(&seen, p)) {
                        MAPSET(&seen, p);
                        queue_push(&todo, p);
                }
                while (r >= 0 && todo.count) {
                        Id q = queue_shift(&todo);
                        Solvable *s = pool_id2solvable(pool, q);
                        const char *name = pool_id2str(pool, s->name);
                        const char *evr = pool_id2str(pool, s->evr);
                        for (size_t k = 0; r >= 0 && k < b->n_packages; k++)
                                if (streq(b->packages[k].name, name) &&
                                    streq(b->packages[k].version, evr))
                                        r = package_needed_by(&b->packages[k], "package",
                                                              req->name);
                        if (!s->requires)
                                continue;
                        for (Id *dp = s->repo->idarraydata + s->requires; *dp; dp++) {
                                if (*dp == SOLVABLE_PREREQMARKER)
                                        continue;
                                Id p2, pp2;
                                FOR_PROVIDES(p2, pp2, *dp)
                                if (MAPTST(&in, p2) && !MAPTST(&seen, p2)) {
                                        MAPSET(&seen, p2);
                                        queue_push(&todo, p2);
                                }
                        }
                }
                queue_empty(&todo);
        }
        queue_free(&todo);
        map_free(&in);
        map_free(&seen);
        return r;
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
                        r = package_for(b, trans->steps.elements[i], &idx, err);
                        if (r >= 0)
                                b->packages[idx].whole |= (recipe_variant_mask)1 << v->view->index;
                }
                if (r >= 0)
                        r = attribute_requests(b, v, &job, &trans->steps);
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

/* The variants named in names as a mask; false when one is not a variant of r. */
static bool names_to_mask(const struct recipe *r, char *const *names, recipe_variant_mask *ret)
{
        recipe_variant_mask m = 0;
        for (char *const *p = names; p && *p; p++) {
                int i = recipe_variant_index(r, *p);
                if (i < 0)
                        return false;
                m |= (recipe_variant_mask)1 << i;
        }
        *ret = m;
        return true;
}

static int mask_to_names(const struct recipe *r, recipe_variant_mask m, char ***ret)
{
        _cleanup_strv_free_ char **v = calloc(r->n_variants + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < r->n_variants; i++)
                if (m & ((recipe_variant_mask)1 << i) && !(v[n++] = strdup(r->variants[i].name)))
                        return -ENOMEM;
        *ret = steal_pointer(&v);
        return 0;
}

static char **strv_copy(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        _cleanup_strv_free_ char **c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(v[i])))
                        return NULL;
        return steal_pointer(&c);
}

static int source_index(const struct recipe *r, const char *name)
{
        for (size_t i = 0; i < r->n_sources; i++)
                if (streq(r->sources[i].name, name))
                        return (int)i;
        return -1;
}

/*
 * Takes b->packages and the utility choices from a lock whose inputs match the recipe. No
 * index is loaded: the lock's sha256 fixes every .deb's bytes, and the base URL comes from the
 * recipe (apt configuration for `url: apt`) only to build download locations. Returns
 * -ESTALE when the lock does not fit the recipe after all (edited by hand).
 */
static int packages_from_lock(struct build *b, const struct lockfile *lock, struct cairn_error *err)
{
        struct resolve_state *st = b->resolve_state;
        const struct recipe *rc = b->recipe;
        if (lock->n_utilities != rc->n_utilities || lock->n_sources != rc->n_sources)
                return -ESTALE;
        for (size_t i = 0; i < rc->n_utilities; i++)
                if (!streq(lock->utilities[i].request, rc->utilities[i].package))
                        return -ESTALE;
        for (size_t i = 0; i < rc->n_sources; i++)
                if (!streq(lock->sources[i].name, rc->sources[i].name))
                        return -ESTALE;
        b->packages = calloc(lock->n_packages + 1, sizeof(*b->packages));
        if (!b->packages)
                return -ENOMEM;
        for (size_t i = 0; i < lock->n_packages; i++) {
                const struct lock_package *lp = &lock->packages[i];
                int src = source_index(rc, lp->source);
                struct build_package *p = &b->packages[b->n_packages];
                if (src < 0 || !names_to_mask(rc, lp->picked_in, &p->picked) ||
                    !names_to_mask(rc, lp->installed_in, &p->whole))
                        return -ESTALE;
                b->n_packages++;
                if (!st->infos[src].base) {
                        int r = debrepo_base_url(&rc->sources[src], &st->infos[src].base, err);
                        if (r < 0)
                                return r;
                }
                p->name = strdup(lp->name);
                p->version = strdup(lp->version);
                p->arch = strdup(lp->arch);
                p->source = strdup(lp->source);
                p->filename = strdup(lp->filename);
                p->sha256 = strdup(lp->sha256);
                p->size = lp->size;
                p->needed_by = strv_copy(lp->needed_by);
                if (!p->name || !p->version || !p->arch || !p->source || !p->filename ||
                    !p->sha256 || !p->needed_by ||
                    asprintf(&p->url, "%s/%s", st->infos[src].base, lp->filename) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < rc->n_utilities; i++) {
                bool found = false;
                for (size_t k = 0; k < b->n_packages && !found; k++)
                        found = streq(b->packages[k].name, lock->utilities[i].package) &&
                                b->packages[k].picked;
                if (!found)
                        return -ESTALE;
                st->util_pkg[i] = strdup(lock->utilities[i].package);
                if (!st->util_pkg[i])
                        return -ENOMEM;
        }
        return 0;
}

/* Reads the lock; decides whether it pins this build. Sets b->lock_state and b->lock_old. */
static int use_lock(struct build *b, bool *ret_used, struct cairn_error *err)
{
        struct resolve_state *st = b->resolve_state;
        int r = lockfile_read(b->lock_path, &b->lock_old, err);
        if (r < 0 && r != -ENOENT)
                return r;
        char inputs[72];
        r = lockfile_inputs_digest(b->recipe, b->arch, inputs);
        if (r < 0)
                return r;
        /* The inputs digest covers the architecture too. */
        const struct lockfile *l = b->lock_old;
        if (l && streq(l->inputs, inputs) && !b->opts.refresh_lock) {
                r = packages_from_lock(b, l, err);
                if (r >= 0) {
                        b->lock_state = BUILD_LOCK_USED;
                        *ret_used = true;
                        return 0;
                }
                if (r != -ESTALE)
                        return r;
                for (size_t i = 0; i < b->n_packages; i++)
                        build_package_clear(&b->packages[i]);
                free(b->packages);
                b->packages = NULL;
                b->n_packages = 0;
                for (size_t i = 0; i < st->n_util; i++) {
                        free(st->util_pkg[i]);
                        st->util_pkg[i] = NULL;
                }
        }
        if (b->opts.locked && !b->opts.refresh_lock)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ESTALE,
                                       l ? "--locked: %s does not match the recipe (its "
                                           "sources, architecture, utilities or packages "
                                           "changed since it was written); run 'cairn lock %s'"
                                         : "--locked: %s does not exist; run 'cairn lock %s' "
                                           "and keep the lock file beside the recipe",
                                       b->lock_path, b->opts.recipe_path);
        b->lock_state = l ? BUILD_LOCK_REFRESHED : BUILD_LOCK_CREATED;
        *ret_used = false;
        return 0;
}

int stage_resolve(struct build *b, struct cairn_error *err)
{
        if (b->recipe->n_utilities == 0 && b->recipe->n_packages == 0)
                return 0;
        struct resolve_state *st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        b->resolve_state = st;
        st->infos = calloc(b->recipe->n_sources + 1, sizeof(*st->infos));
        st->util_pkg = calloc(b->recipe->n_utilities + 1, sizeof(char *));
        if (!st->infos || !st->util_pkg)
                return -ENOMEM;
        st->n_infos = b->recipe->n_sources;
        st->n_util = b->recipe->n_utilities;

        bool used = false;
        int r = use_lock(b, &used, err);
        if (r < 0 || used)
                return r;

        st->pool = pool_create();
        if (!st->pool)
                return -ENOMEM;
        pool_setdisttype(st->pool, DISTTYPE_DEB);
        pool_setarch(st->pool, b->arch);
        for (size_t i = 0; i < b->recipe->n_sources; i++) {
                r = debrepo_load(st->pool, &b->recipe->sources[i], (unsigned)i, b->arch,
                                 b->cache_dir, b->opts.offline, &st->infos[i], err);
                if (r < 0)
                        return r;
        }
        pool_addfileprovides(st->pool);
        pool_createwhatprovides(st->pool);
        r = resolve_utilities(b, err);
        for (size_t i = 0; r >= 0 && i < b->n_variants; i++)
                r = solve_variant(b, &b->variants[i], err);
        if (r < 0)
                return r;
        qsort(b->packages, b->n_packages, sizeof(*b->packages), package_cmp);
        return 0;
}

int resolve_make_lock(struct build *b, struct lockfile **ret)
{
        const struct resolve_state *st = b->resolve_state;
        const struct recipe *rc = b->recipe;
        _cleanup_lockfile_ struct lockfile *lock = calloc(1, sizeof(*lock));
        if (!lock || !st)
                return -ENOMEM;
        char inputs[72];
        int r = lockfile_inputs_digest(rc, b->arch, inputs);
        if (r < 0)
                return r;
        lock->version = LOCKFILE_VERSION;
        lock->recipe = strdup(rc->name);
        lock->arch = strdup(b->arch);
        lock->inputs = strdup(inputs);
        lock->sources = calloc(rc->n_sources + 1, sizeof(*lock->sources));
        lock->utilities = calloc(rc->n_utilities + 1, sizeof(*lock->utilities));
        lock->packages = calloc(b->n_packages + 1, sizeof(*lock->packages));
        if (!lock->recipe || !lock->arch || !lock->inputs || !lock->sources || !lock->utilities ||
            !lock->packages)
                return -ENOMEM;
        for (size_t i = 0; i < rc->n_sources; i++) {
                const struct debrepo_info *info = &st->infos[i];
                struct lock_source *s = &lock->sources[lock->n_sources++];
                s->name = strdup(rc->sources[i].name);
                s->url = strdup(rc->sources[i].url);
                s->suite = strdup(rc->sources[i].suite);
                s->release_sha256 = strdup(info->release_sha256 ? info->release_sha256 : "");
                s->date = strdup(info->date ? info->date : "");
                if (!s->name || !s->url || !s->suite || !s->release_sha256 || !s->date)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < rc->n_utilities; i++) {
                struct lock_utility *u = &lock->utilities[lock->n_utilities++];
                u->request = strdup(rc->utilities[i].package);
                u->package = strdup(st->util_pkg[i] ? st->util_pkg[i] : "");
                if (!u->request || !u->package)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < b->n_packages; i++) {
                const struct build_package *p = &b->packages[i];
                struct lock_package *lp = &lock->packages[lock->n_packages++];
                lp->name = strdup(p->name);
                lp->version = strdup(p->version);
                lp->arch = strdup(p->arch);
                lp->source = strdup(p->source);
                lp->filename = strdup(p->filename);
                lp->size = p->size;
                lp->sha256 = strdup(p->sha256 ? p->sha256 : "");
                lp->needed_by = strv_copy(p->needed_by);
                if (!lp->name || !lp->version || !lp->arch || !lp->source || !lp->filename ||
                    !lp->sha256 || !lp->needed_by ||
                    mask_to_names(rc, p->picked, &lp->picked_in) < 0 ||
                    mask_to_names(rc, p->whole, &lp->installed_in) < 0)
                        return -ENOMEM;
        }
        *ret = steal_pointer(&lock);
        return 0;
}
