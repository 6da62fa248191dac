/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resolve: load every source the recipe's variants use (assembler/debian/debrepo.c) and turn the
 * recipe's names into exact Debian packages with libsolv.
 *
 *  - utilities: the best candidate for the dependency string (highest version, the recipe's
 *    architecture or `all`, the first source on a tie) and NO dependency closure: a utility
 *    brings only the files it names, and the enforcer later proves they are static;
 *  - certificates: like utilities (the CA bundle is made from the package at unpack);
 *  - packages: one solver job per variant (install, recommends ignored) giving the Depends
 *    closure. Unsatisfiable requests report libsolv's problems and solutions;
 *  - programs: one solver job per item (its Depends closure alone, whatever the variant), each
 *    package of it marked as picked by the item's variants and needed by "program REQ": unpack
 *    places only the files the program loads (stages/programs.c);
 *  - the Debian identity: base-files, for the variants that take anything from the sources.
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

#include "debian/debrepo.h"
#include "debian/solv.h"

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
static int package_for(struct build *b, Pool *pool, Id p, size_t *ret, struct cairn_error *err)
{
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
        if (loc && asprintf(&pkg->url, "%s/%s", b->source_info[src].base, loc) < 0)
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

/* The best candidate named by dep for arch: the highest version, the first source on a tie;
 * 0 when there is none. */
static Id best_candidate(Pool *pool, Id dep, Id arch)
{
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
        return best;
}

/*
 * For a dependency nothing in the pool provides: " (did you mean 'NAME'?)" with the package
 * name nearest to dep's name (at most 2 edits, or a third of its length), else "". Static.
 */
static const char *did_you_mean(Pool *pool, Id dep, char *buf, size_t size)
{
        Id name = ISRELDEP(dep) ? GETRELDEP(pool, dep)->name : dep;
        const char *want = pool_id2str(pool, name);
        size_t max = strlen(want) / 3 > 2 ? strlen(want) / 3 : 2;
        const char *best = NULL;
        size_t best_d = max + 1;
        Id p;
        Solvable *s;
        FOR_POOL_SOLVABLES(p)
        {
                s = pool_id2solvable(pool, p);
                const char *cand = pool_id2str(pool, s->name);
                if (best && streq(cand, best))
                        continue;
                size_t d = str_distance(cand, want);
                if (d < best_d) {
                        best_d = d;
                        best = cand;
                }
        }
        if (!best)
                return "";
        snprintf(buf, size, " (did you mean '%s'?)", best);
        return buf;
}

static bool provided(Pool *pool, Id dep)
{
        Id p, pp;
        bool any = false;
        FOR_PROVIDES(p, pp, dep)
        {
                any = true;
                break;
        }
        return any;
}

static int resolve_utilities(struct build *b, Pool *pool, struct cairn_error *err)
{
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
                Id best = best_candidate(pool, dep, arch);
                char hint[300];
                if (!best)
                        return cairn_error_add(
                                err, CAIRN_EXIT_SOURCE, -ENOENT,
                                "%s:%u:%u: no package satisfies '%s' for %s in the recipe's "
                                "sources%s",
                                b->recipe->path, u->pos.line, u->pos.column, u->package, b->arch,
                                provided(pool, dep) ? ""
                                                    : did_you_mean(pool, dep, hint, sizeof(hint)));
                size_t idx;
                int r = package_for(b, pool, best, &idx, err);
                if (r < 0)
                        return r;
                b->packages[idx].picked |= u->variants;
                r = package_needed_by(&b->packages[idx],
                                      u->kind == RECIPE_UTILITY_CA_BUNDLE ? "certificates"
                                                                          : "utility",
                                      u->package);
                if (r < 0)
                        return r;
                b->utility_packages[i] = strdup(b->packages[idx].name);
                if (!b->utility_packages[i])
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
static int attribute_requests(struct build *b, Pool *pool, struct build_variant *v,
                              const Queue *job, const Queue *installed)
{
        _cleanup_map_ Map in = { 0 };
        _cleanup_map_ Map seen = { 0 };
        _cleanup_queue_ Queue todo = { 0 };
        map_init(&in, pool->nsolvables);
        map_init(&seen, pool->nsolvables);
        queue_init(&todo);
        for (int i = 0; i < installed->count; i++)
                MAPSET(&in, installed->elements[i]);
        for (int j = 0; j + 1 < job->count; j += 2) {
                const struct recipe_package *req = v->view->packages[j / 2];
                map_empty(&seen);
                Id p, pp;
                FOR_PROVIDES(p, pp, job->elements[j + 1])
                if (MAPTST(&in, p) && !MAPTST(&seen, p)) {
                        MAPSET(&seen, p);
                        queue_push(&todo, p);
                }
                while (todo.count) {
                        Id q = queue_shift(&todo);
                        Solvable *s = pool_id2solvable(pool, q);
                        const char *name = pool_id2str(pool, s->name);
                        const char *evr = pool_id2str(pool, s->evr);
                        for (size_t k = 0; k < b->n_packages; k++)
                                if (streq(b->packages[k].name, name) &&
                                    streq(b->packages[k].version, evr)) {
                                        int r = package_needed_by(&b->packages[k], "package",
                                                                  req->name);
                                        if (r < 0)
                                                return r;
                                }
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
        }
        return 0;
}

/* libsolv's problems and their possible fixes in plain words, one per line. */
static int describe_problems(Solver *solv, int nproblems, char **ret)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        for (Id problem = 1; problem <= nproblems; problem++) {
                fprintf(f, "\n  problem %d: %s", problem, solver_problem2str(solv, problem));
                Id solution = 0;
                while ((solution = solver_next_solution(solv, problem, solution))) {
                        Id p = 0, rp = 0, element = 0;
                        while ((element = solver_next_solutionelement(solv, problem, solution,
                                                                      element, &p, &rp)))
                                fprintf(f, "\n    possible fix: %s",
                                        solver_solutionelement2str(solv, p, rp));
                }
        }
        if (fclose(steal_pointer(&f)) != 0)
                return -ENOMEM;
        *ret = steal_pointer(&text);
        return 0;
}

/* Solves job, Recommends ignored: *ret_solv (owned) on success, and *ret_problems (owned) the
 * problems in plain words when the job cannot be solved, else NULL. 0 or -ENOMEM. */
static int solve_job(Pool *pool, Queue *job, Solver **ret_solv, char **ret_problems)
{
        _cleanup_solver_ Solver *solv = solver_create(pool);
        solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, 1);
        int nproblems = solver_solve(solv, job);
        _cleanup_free_ char *text = NULL;
        if (nproblems) {
                int r = describe_problems(solv, nproblems, &text);
                if (r < 0)
                        return r;
        }
        *ret_solv = steal_pointer(&solv);
        *ret_problems = steal_pointer(&text);
        return 0;
}

static int solve_variant(struct build *b, Pool *pool, struct build_variant *v,
                         struct cairn_error *err)
{
        if (v->view->n_packages == 0)
                return 0;
        _cleanup_queue_ Queue job = { 0 };
        queue_init(&job);
        for (size_t i = 0; i < v->view->n_packages; i++) {
                const struct recipe_package *p = v->view->packages[i];
                Id dep = parse_dep(pool, p->name);
                if (!dep)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s:%u:%u: '%s' is not a dependency string",
                                               b->recipe->path, p->pos.line, p->pos.column,
                                               p->name);
                char hint[300];
                if (!provided(pool, dep))
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                               "%s:%u:%u: no package in the recipe's sources is "
                                               "or provides '%s'%s",
                                               b->recipe->path, p->pos.line, p->pos.column, p->name,
                                               did_you_mean(pool, dep, hint, sizeof(hint)));
                queue_push2(&job, SOLVER_INSTALL | SOLVER_SOLVABLE_PROVIDES, dep);
        }
        _cleanup_solver_ Solver *solv = NULL;
        _cleanup_free_ char *problems = NULL;
        int r = solve_job(pool, &job, &solv, &problems);
        if (r < 0)
                return r;
        if (problems)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                       "%s: the packages of variant %s cannot be installed "
                                       "together:%s",
                                       b->recipe->path, v->name, problems);
        _cleanup_transaction_ Transaction *trans = solver_create_transaction(solv);
        for (int i = 0; i < trans->steps.count; i++) {
                size_t idx;
                r = package_for(b, pool, trans->steps.elements[i], &idx, err);
                if (r < 0)
                        return r;
                b->packages[idx].whole |= (recipe_variant_mask)1 << v->view->index;
        }
        return attribute_requests(b, pool, v, &job, &trans->steps);
}

/* A programs: item's Depends closure: its own solve, so that the closure does not depend on
 * what else a variant installs. */
static int solve_program(struct build *b, Pool *pool, const struct recipe_program *p,
                         struct cairn_error *err)
{
        Id dep = parse_dep(pool, p->package);
        if (!dep)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s:%u:%u: package: '%s' is not a dependency like "
                                       "'python3.11-minimal' or 'python3.11-minimal (>= 3.11)'",
                                       b->recipe->path, p->pos.line, p->pos.column, p->package);
        _cleanup_queue_ Queue job = { 0 };
        queue_init(&job);
        queue_push2(&job, SOLVER_INSTALL | SOLVER_SOLVABLE_PROVIDES, dep);
        _cleanup_solver_ Solver *solv = NULL;
        _cleanup_free_ char *problems = NULL;
        int r = solve_job(pool, &job, &solv, &problems);
        if (r < 0)
                return r;
        if (problems)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                       "%s:%u:%u: program %s: '%s' cannot be installed:%s",
                                       b->recipe->path, p->pos.line, p->pos.column, p->path,
                                       p->package, problems);
        _cleanup_transaction_ Transaction *trans = solver_create_transaction(solv);
        for (int i = 0; i < trans->steps.count; i++) {
                size_t idx;
                r = package_for(b, pool, trans->steps.elements[i], &idx, err);
                if (r < 0)
                        return r;
                b->packages[idx].picked |= p->variants;
                r = package_needed_by(&b->packages[idx], "program", p->package);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * The Debian identity (docs/recipe.md): every variant that takes files from the sources also
 * takes /etc/debian_version and the os-release fields from the suite's base-files, picked like
 * a utility's file. A source without base-files (a private repository) gives no identity.
 */
static int resolve_identity(struct build *b, Pool *pool, struct cairn_error *err)
{
        if (!recipe_debian_identity(b->recipe))
                return 0;
        recipe_variant_mask used = 0;
        for (size_t i = 0; i < b->n_packages; i++)
                used |= b->packages[i].whole | b->packages[i].picked;
        if (!used)
                return 0;
        Id best = best_candidate(pool, pool_str2id(pool, BUILD_IDENTITY_PACKAGE, 1),
                                 pool_str2id(pool, b->arch, 1));
        if (!best)
                return 0;
        size_t idx;
        int r = package_for(b, pool, best, &idx, err);
        if (r < 0)
                return r;
        b->packages[idx].picked |= used;
        return package_needed_by(&b->packages[idx], "identity", BUILD_IDENTITY_PACKAGE);
}

static int package_cmp(const void *a, const void *b)
{
        const struct build_package *x = a, *y = b;
        int r = strcmp(x->name, y->name);
        return r ? r : strcmp(x->version, y->version);
}

/*
 * The lock file on disk against the verified indexes (cairn verify, cairn lock --check): a
 * locked package whose name, version and architecture the index of its source lists must have
 * the Filename and SHA-256 the index gives, or the lock was edited (exit 3). One the index no
 * longer lists (the suite moved on) cannot be confirmed and is counted in
 * b->lock_unconfirmed; its bytes are still fixed by the lock's SHA-256.
 */
static int confirm_lock(struct build *b, Pool *pool, struct cairn_error *err)
{
        const struct lockfile *l = b->lock_old;
        for (size_t i = 0; l && i < l->n_packages; i++) {
                const struct lock_package *lp = &l->packages[i];
                size_t src = 0;
                while (src < b->recipe->n_sources &&
                       !streq(b->recipe->sources[src].name, lp->source))
                        src++;
                Id name = pool_str2id(pool, lp->name, 0);
                bool listed = false, same = false;
                const char *index_sha = NULL, *index_file = NULL;
                Id p;
                Solvable *s;
                FOR_POOL_SOLVABLES(p)
                {
                        s = pool_id2solvable(pool, p);
                        if (!name || s->name != name || !s->repo ||
                            (size_t)(uintptr_t)s->repo->appdata != src ||
                            !streq(pool_id2str(pool, s->evr), lp->version))
                                continue;
                        const char *arch = pool_id2str(pool, s->arch);
                        if (!streq(arch, lp->arch))
                                continue;
                        listed = true;
                        unsigned medianr;
                        const char *loc = solvable_get_location(s, &medianr);
                        Id type = 0;
                        const unsigned char *sum =
                                solvable_lookup_bin_checksum(s, SOLVABLE_CHECKSUM, &type);
                        const char *hex = sum && type == REPOKEY_TYPE_SHA256
                                                  ? pool_bin2hex(pool, sum, 32)
                                                  : NULL;
                        if (hex && streq(hex, lp->sha256) && loc && streq(loc, lp->filename))
                                same = true;
                        index_sha = hex;
                        index_file = loc;
                }
                if (!listed) {
                        b->lock_unconfirmed++;
                        continue;
                }
                if (!same)
                        return cairn_error_add(
                                err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                "%s: package %s %s %s is locked to %s (sha256 %s), but the "
                                "verified index of source %s gives %s (sha256 %s); the lock file "
                                "was edited: restore it, or run 'cairn lock %s'",
                                b->lock_path, lp->name, lp->version, lp->arch, lp->filename,
                                lp->sha256, lp->source, index_file ? index_file : "?",
                                index_sha ? index_sha : "?", b->opts.recipe_path);
        }
        return 0;
}

int stage_resolve(struct build *b, struct cairn_error *err)
{
        /* Nothing to resolve, or the lock stage pinned everything: no index is loaded, unless
         * the command asks for the lock to be confirmed against it. */
        bool confirm = b->opts.confirm_lock && b->lock_old;
        if (b->lock_state == BUILD_LOCK_NONE || (b->lock_state == BUILD_LOCK_USED && !confirm))
                return 0;
        /* A lock made only to pin cairn-init (stages/lock.c): no package to resolve. */
        if (b->recipe->n_utilities == 0 && b->recipe->n_packages == 0 && b->recipe->n_programs == 0)
                return 0;

        _cleanup_pool_ Pool *pool = pool_create();
        if (!pool)
                return -ENOMEM;
        pool_setdisttype(pool, DISTTYPE_DEB);
        pool_setarch(pool, b->arch);
        for (size_t i = 0; i < b->recipe->n_sources; i++) {
                struct debrepo_info info = { 0 };
                int r = debrepo_load(pool, &b->recipe->sources[i], (unsigned)i, b->arch,
                                     b->cache_dir, b->opts.offline, &info, err);
                if (r < 0)
                        return r;
                if (info.note && b->note)
                        b->note(b->progress_data, info.note);
                /* A pinned build keeps what the lock said about its sources. */
                if (b->lock_state == BUILD_LOCK_USED) {
                        debrepo_info_clear(&info);
                        continue;
                }
                debrepo_info_clear(&b->source_info[i]);
                b->source_info[i] = info;
        }
        pool_addfileprovides(pool);
        pool_createwhatprovides(pool);
        int r = confirm ? confirm_lock(b, pool, err) : 0;
        if (r < 0 || b->lock_state == BUILD_LOCK_USED)
                return r;
        r = resolve_utilities(b, pool, err);
        for (size_t i = 0; r >= 0 && i < b->n_variants; i++)
                r = solve_variant(b, pool, &b->variants[i], err);
        for (size_t i = 0; r >= 0 && i < b->recipe->n_programs; i++)
                r = solve_program(b, pool, &b->recipe->programs[i], err);
        if (r >= 0)
                r = resolve_identity(b, pool, err);
        if (r < 0)
                return r;
        qsort(b->packages, b->n_packages, sizeof(*b->packages), package_cmp);
        return 0;
}
