/* SPDX-License-Identifier: Apache-2.0 */
#include "build.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/cachemac.h"
#include "outdir.h"

/* Parses a non-negative decimal epoch; -1 when s is not one. */
static int64_t parse_epoch(const char *s)
{
        if (!s || !*s)
                return -1;
        int64_t v = 0;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
                        return -1;
                v = v * 10 + (*p - '0');
        }
        return v;
}

static int default_cache_dir(char **ret)
{
        const char *xdg = getenv("XDG_CACHE_HOME");
        const char *home = getenv("HOME");
        char *p = NULL;
        int r;
        if (xdg && xdg[0] == '/')
                r = asprintf(&p, "%s/cairn", xdg);
        else if (home && home[0] == '/')
                r = asprintf(&p, "%s/.cache/cairn", home);
        else
                r = asprintf(&p, "/var/cache/cairn");
        if (r < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/*
 * Temporary files in the cache (".tmp-PID-RANDOM" in debs/, index/, keyring/, layers/,
 * objects/, scan/, unpacked/ and release/HASH/) of a build killed while writing them. The cache may
 * be shared with builds in other PID namespaces, so a temp file also has to be untouched for
 * CACHE_TEMP_AGE seconds: a live
 * download writes to it at least every $CAIRN_HTTP_TIMEOUT seconds, a layer is copied in one go.
 */
#define CACHE_TEMP_AGE CAIRN_TEMP_AGE
static void remove_stale_cache_temps(const char *cache)
{
        static const char *const dirs[] = { "debs",    "index", "keyring", "layers",
                                            "objects", "scan",  "unpacked" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *d = NULL;
                if (asprintf(&d, "%s/%s", cache, dirs[i]) >= 0)
                        remove_dead_temps(d, ".tmp-", CACHE_TEMP_AGE);
        }
        _cleanup_free_ char *rel = NULL;
        if (asprintf(&rel, "%s/release", cache) < 0)
                return;
        DIR *d = opendir(rel);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;
                if (de->d_name[0] != '.' && asprintf(&sub, "%s/%s", rel, de->d_name) >= 0)
                        remove_dead_temps(sub, ".tmp-", CACHE_TEMP_AGE);
        }
        closedir(d);
}

/* DIR/STEM.SUFFIX for the recipe file DIR/STEM.yaml (".yaml" or ".yml" replaced, any other
 * name gets SUFFIX appended). *ret is owned by the caller. */
static int recipe_sibling(const struct build *b, const char *suffix, char **ret)
{
        const char *path = b->opts.recipe_path;
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        size_t n = strlen(base);
        if (n > 5 && streq(base + n - 5, ".yaml"))
                n -= 5;
        else if (n > 4 && streq(base + n - 4, ".yml"))
                n -= 4;
        char *p = NULL;
        if (asprintf(&p, "%s/%.*s%s", b->recipe->dir, (int)n, base, suffix) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/*
 * The lock file is keyed by the recipe file: RECIPE.lock.json beside RECIPE.yaml, so two
 * recipe files with one name: never share a lock. The old name, NAME.lock.json beside the
 * recipe, is still read when only it exists (b->lock_read_path); the next build that may write
 * the lock writes the new name.
 */
static int build_default_lock_paths(struct build *b)
{
        int r = recipe_sibling(b, ".lock.json", &b->lock_path);
        if (r < 0)
                return r;
        _cleanup_free_ char *legacy = NULL;
        if (asprintf(&legacy, "%s/%s.lock.json", b->recipe->dir, b->recipe->name) < 0)
                return -ENOMEM;
        if (!streq(legacy, b->lock_path) && access(b->lock_path, F_OK) < 0 && errno == ENOENT &&
            access(legacy, F_OK) == 0)
                b->lock_read_path = steal_pointer(&legacy);
        return 0;
}

int build_new(const struct build_options *opts, struct build **ret, struct cairn_error *err)
{
        _cleanup_build_ struct build *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->init = (struct initbin)INITBIN_INIT;
        b->opts = *opts;

        int r = recipe_parse_file(opts->recipe_path, &b->recipe, err);
        if (r < 0)
                return r;

        if (opts->epoch >= 0)
                b->epoch = opts->epoch;
        else if (getenv("SOURCE_DATE_EPOCH")) {
                b->epoch = parse_epoch(getenv("SOURCE_DATE_EPOCH"));
                if (b->epoch < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "SOURCE_DATE_EPOCH=%s is not a number of seconds",
                                               getenv("SOURCE_DATE_EPOCH"));
        } else
                b->epoch = b->recipe->epoch >= 0 ? b->recipe->epoch : 0;
        if (opts->arch && !recipe_has_arch(b->recipe, opts->arch))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: --arch %s: the recipe does not build for %s (its "
                                       "arch: names %s%s)",
                                       opts->recipe_path, opts->arch, opts->arch,
                                       b->recipe->archs ? b->recipe->archs[0] : recipe_host_arch(),
                                       b->recipe->n_archs > 1 ? ", ..." : "");
        if (opts->arch)
                b->arch = opts->arch;
        else if (!b->recipe->archs || recipe_has_arch(b->recipe, recipe_host_arch()))
                b->arch = recipe_host_arch();
        else
                b->arch = b->recipe->archs[0];

        if (opts->cache_dir)
                b->cache_dir = strdup(opts->cache_dir);
        else if (default_cache_dir(&b->cache_dir) < 0)
                b->cache_dir = NULL;
        if (!b->cache_dir)
                return -ENOMEM;
        remove_stale_cache_temps(b->cache_dir);
        /* The key that seals cache entries must not be readable by whoever writes the cache. */
        cachemac_forbid_under(b->cache_dir);

        /* The reads record is keyed by the recipe file too: RECIPE.reads.json. */
        if (opts->reads_path)
                b->reads_path = strdup(opts->reads_path);
        else if (recipe_sibling(b, ".reads.json", &b->reads_path) < 0)
                b->reads_path = NULL;
        if (!b->reads_path)
                return -ENOMEM;
        r = opts->lock_path ? ((b->lock_path = strdup(opts->lock_path)) ? 0 : -ENOMEM)
                            : build_default_lock_paths(b);
        if (r < 0)
                return r;

        bool all = !opts->only_variant || streq(opts->only_variant, "all");
        if (!all && recipe_variant_index(b->recipe, opts->only_variant) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "%s: no variant '%s' (the recipe declares %zu variant%s)",
                                       opts->recipe_path, opts->only_variant, b->recipe->n_variants,
                                       b->recipe->n_variants == 1 ? "" : "s");

        b->source_info = calloc(b->recipe->n_sources + 1, sizeof(*b->source_info));
        b->utility_packages = calloc(b->recipe->n_utilities + 1, sizeof(char *));
        b->variants = calloc(b->recipe->n_variants, sizeof(*b->variants));
        if (!b->source_info || !b->utility_packages || !b->variants)
                return -ENOMEM;
        for (size_t i = 0; i < b->recipe->n_variants; i++) {
                struct build_variant *v = &b->variants[i];
                v->name = b->recipe->variants[i].name;
                v->selected = all || streq(v->name, opts->only_variant);
                b->n_variants++;
                r = recipe_view_new(b->recipe, v->name, &v->view, err);
                if (r < 0)
                        return r;
                r = tree_new(&v->tree);
                if (r < 0)
                        return r;
        }

        /* The work dir (object store) lives next to the output so the final copy stays on one
         * filesystem; without an output it goes to $TMPDIR. */
        if (opts->out_dir) {
                _cleanup_free_ char *a = strdup(opts->out_dir), *c = strdup(opts->out_dir);
                if (!a || !c)
                        return -ENOMEM;
                const char *parent = dirname(a);
                r = mkdir_p(parent, 0755);
                if (r < 0)
                        return cairn_error_errno(err, r, "%s: cannot create: %s", parent,
                                                 strerror(-r));
                outdir_remove_stale_siblings(parent, basename(c));
                r = outdir_make_sibling(opts->out_dir, "work", &b->work_dir);
        } else {
                const char *tmp = getenv("TMPDIR");
                if (asprintf(&b->work_dir, "%s/cairn-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
                        b->work_dir = NULL;
                        return -ENOMEM;
                }
                r = mkdtemp(b->work_dir) ? 0 : -errno;
                if (r < 0) {
                        free(b->work_dir);
                        b->work_dir = NULL;
                }
        }
        if (r < 0)
                return cairn_error_errno(err, r, "%s: cannot create a work directory: %s",
                                         opts->out_dir ? opts->out_dir : "$TMPDIR", strerror(-r));

        _cleanup_free_ char *objects = NULL;
        if (asprintf(&objects, "%s/objects", b->work_dir) < 0)
                return -ENOMEM;
        r = store_open(objects, &b->store, err);
        if (r < 0)
                return r;

        *ret = steal_pointer(&b);
        return 0;
}

void build_package_clear(struct build_package *p)
{
        free(p->name);
        free(p->version);
        free(p->arch);
        free(p->source);
        free(p->filename);
        free(p->sha256);
        free(p->maintainer);
        free(p->url);
        free(p->local_path);
        strv_free(p->needed_by);
        deb_contents_free(p->contents);
}

void build_free(struct build *b)
{
        if (!b)
                return;
        for (size_t i = 0; i < b->n_variants; i++) {
                recipe_view_free(b->variants[i].view);
                tree_free(b->variants[i].tree);
                runtime_manifest_free(b->variants[i].runtime);
                free(b->variants[i].verdict.summary);
                free(b->variants[i].verdict.report);
        }
        free(b->variants);
        build_packages_reset(b);
        free(b->utility_packages);
        for (size_t i = 0; b->source_info && i < b->recipe->n_sources; i++)
                debrepo_info_clear(&b->source_info[i]);
        free(b->source_info);
        strv_free(b->pkg_with_scripts);
        free(b->lock_path);
        free(b->lock_read_path);
        free(b->reads_path);
        readsfile_free(b->reads);
        lockfile_free(b->lock_old);
        strv_free(b->lock_file_archs);
        lockfile_free(b->lock);
        strv_free(b->lock_changes);
        initbin_clear(&b->init);
        store_free(b->store);
        store_free(b->cache_store);
        if (b->tmp_out)
                (void)rm_rf(b->tmp_out);
        if (b->work_dir)
                (void)rm_rf(b->work_dir);
        free(b->tmp_out);
        free(b->work_dir);
        free(b->cache_dir);
        recipe_free(b->recipe);
        free(b);
}

struct build_variant *build_find_variant(struct build *b, const char *name)
{
        for (size_t i = 0; i < b->n_variants; i++)
                if (streq(b->variants[i].name, name))
                        return &b->variants[i];
        return NULL;
}

void build_packages_reset(struct build *b)
{
        for (size_t i = 0; i < b->n_packages; i++)
                build_package_clear(&b->packages[i]);
        free(b->packages);
        b->packages = NULL;
        b->n_packages = 0;
        for (size_t i = 0; b->utility_packages && i < b->recipe->n_utilities; i++) {
                free(b->utility_packages[i]);
                b->utility_packages[i] = NULL;
        }
}

struct build_package *build_utility_package(struct build *b, const struct recipe_utility *u)
{
        const char *name = b->utility_packages[u - b->recipe->utilities];
        for (size_t i = 0; name && i < b->n_packages; i++)
                if (streq(b->packages[i].name, name) && b->packages[i].picked)
                        return &b->packages[i];
        return NULL;
}

struct build_package *build_identity_package(struct build *b)
{
        for (size_t i = 0; i < b->n_packages; i++)
                for (char **n = b->packages[i].needed_by; n && *n; n++)
                        if (streq(*n, "identity " BUILD_IDENTITY_PACKAGE))
                                return &b->packages[i];
        return NULL;
}

bool build_package_used(const struct build_package *p, const struct build_variant *v)
{
        return ((p->whole | p->picked) >> v->view->index) & 1u;
}

int build_set_new(const struct build_options *opts, struct build_set **ret, struct cairn_error *err)
{
        _cleanup_build_set_ struct build_set *set = calloc(1, sizeof(*set));
        if (!set)
                return -ENOMEM;
        /* The first build parses the recipe and says which architectures there are; it is
         * kept as the build of its own architecture. */
        _cleanup_build_ struct build *first = NULL;
        struct build_options o = *opts;
        int r = build_new(&o, &first, err);
        if (r < 0)
                return r;
        const struct recipe *rc = first->recipe;
        size_t n = opts->arch || rc->n_archs < 2 ? 1 : rc->n_archs;
        set->builds = calloc(n, sizeof(*set->builds));
        if (!set->builds)
                return -ENOMEM;
        if (n == 1) {
                set->builds[set->n++] = steal_pointer(&first);
                *ret = steal_pointer(&set);
                return 0;
        }
        /* The builds' opts.arch and arch point here. */
        set->archs = strv_copy(rc->archs);
        if (!set->archs)
                return -ENOMEM;
        o.multi_arch = true;
        for (size_t i = 0; i < n; i++) {
                o.arch = set->archs[i];
                if (first && streq(first->arch, o.arch)) {
                        first->opts = o;
                        first->arch = o.arch;
                        set->builds[set->n++] = steal_pointer(&first);
                        continue;
                }
                r = build_new(&o, &set->builds[set->n], err);
                if (r < 0)
                        return r;
                set->n++;
        }
        *ret = steal_pointer(&set);
        return 0;
}

void build_set_free(struct build_set *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                build_free(s->builds[i]);
        free(s->builds);
        strv_free(s->archs);
        if (s->tmp_out)
                (void)rm_rf(s->tmp_out);
        free(s->tmp_out);
        free(s);
}

int build_output_name(const struct build *b, const struct build_variant *v, char **ret)
{
        char *s = NULL;
        int r = b->opts.multi_arch ? asprintf(&s, "%s-%s-%s", b->recipe->name, v->name, b->arch)
                                   : asprintf(&s, "%s-%s", b->recipe->name, v->name);
        if (r < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int build_image_ref(const struct build *b, const struct build_variant *v, char **ret)
{
        char *s = NULL;
        int r = b->opts.multi_arch ? asprintf(&s, "%s-%s", v->name, b->arch)
                                   : asprintf(&s, "%s", v->name);
        if (r < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}
