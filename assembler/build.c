/* SPDX-License-Identifier: Apache-2.0 */
#include "build.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "../stages/artifacts.h"
#include "../stages/configure.h"
#include "../stages/emit.h"
#include "../stages/enforce.h"
#include "../stages/fetch.h"
#include "../stages/resolve.h"
#include "../stages/unpack.h"

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
 * Temporary siblings of OUT are named ".BASENAME.cairn-KIND-PID-RANDOM". A build killed
 * midway leaves its own; the next build removes those whose PID is gone.
 */
static void remove_stale_siblings(const char *parent, const char *base)
{
        _cleanup_free_ char *prefix = NULL;
        if (asprintf(&prefix, ".%s.cairn-", base) < 0)
                return;
        remove_dead_temps(parent, prefix, 0);
}

/*
 * Temporary files in the cache (".tmp-PID-RANDOM" in debs/, index/, keyring/, layers/,
 * objects/, scan/, unpacked/ and release/HASH/) of a build killed while writing them. The cache may
 * be shared with builds in other PID namespaces, so a temp file also has to be untouched for
 * CACHE_TEMP_AGE seconds: a live
 * download writes to it at least every $CAIRN_HTTP_TIMEOUT seconds, a layer is copied in one go.
 */
#define CACHE_TEMP_AGE 600
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

/* Makes a fresh directory ".BASE.cairn-KIND-PID-XXXXXX" next to out_dir. */
static int make_sibling(const char *out_dir, const char *kind, char **ret)
{
        _cleanup_free_ char *a = strdup(out_dir), *b = strdup(out_dir);
        if (!a || !b)
                return -ENOMEM;
        const char *parent = dirname(a);
        const char *base = basename(b);
        char *p = NULL;
        if (asprintf(&p, "%s/.%s.cairn-%s-%d-XXXXXX", parent, base, kind, (int)getpid()) < 0)
                return -ENOMEM;
        if (!mkdtemp(p)) {
                int r = -errno;
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int build_new(const struct build_options *opts, struct build **ret, struct cairn_error *err)
{
        _cleanup_build_ struct build *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
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
        b->arch = b->recipe->arch ? b->recipe->arch : recipe_host_arch();

        if (opts->cache_dir)
                b->cache_dir = strdup(opts->cache_dir);
        else if (default_cache_dir(&b->cache_dir) < 0)
                b->cache_dir = NULL;
        if (!b->cache_dir)
                return -ENOMEM;
        remove_stale_cache_temps(b->cache_dir);

        if (opts->lock_path)
                b->lock_path = strdup(opts->lock_path);
        else if (asprintf(&b->lock_path, "%s/%s.lock.json", b->recipe->dir, b->recipe->name) < 0)
                b->lock_path = NULL;
        if (!b->lock_path)
                return -ENOMEM;

        bool all = !opts->only_variant || streq(opts->only_variant, "all");
        if (!all && recipe_variant_index(b->recipe, opts->only_variant) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "%s: no variant '%s' (the recipe declares %zu variant%s)",
                                       opts->recipe_path, opts->only_variant, b->recipe->n_variants,
                                       b->recipe->n_variants == 1 ? "" : "s");

        b->variants = calloc(b->recipe->n_variants, sizeof(*b->variants));
        if (!b->variants)
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
                remove_stale_siblings(parent, basename(c));
                r = make_sibling(opts->out_dir, "work", &b->work_dir);
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
                free(b->variants[i].verdict.summary);
                free(b->variants[i].verdict.report);
        }
        free(b->variants);
        for (size_t i = 0; i < b->n_packages; i++)
                build_package_clear(&b->packages[i]);
        free(b->packages);
        strv_free(b->pkg_with_scripts);
        resolve_state_free(b->resolve_state);
        free(b->lock_path);
        lockfile_free(b->lock_old);
        lockfile_free(b->lock);
        strv_free(b->lock_changes);
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

int build_resolve(struct build *b, struct cairn_error *err)
{
        int r = stage_resolve(b, err);
        if (r < 0)
                return r;
        r = stage_fetch(b, err);
        if (r < 0)
                return r;
        switch (b->lock_state) {
        case BUILD_LOCK_NONE:
                return 0;
        case BUILD_LOCK_USED:
                b->lock = steal_pointer(&b->lock_old);
                return 0;
        case BUILD_LOCK_CREATED:
        case BUILD_LOCK_REFRESHED:
                r = resolve_make_lock(b, &b->lock);
                if (r < 0)
                        return r;
                return lockfile_diff(b->lock_old, b->lock, &b->lock_changes);
        }
        return 0;
}

int build_write_lock(struct build *b, bool force, bool *ret_written, struct cairn_error *err)
{
        bool write = b->lock && (force || b->lock_state == BUILD_LOCK_CREATED ||
                                 b->lock_state == BUILD_LOCK_REFRESHED);
        if (write) {
                int r = lockfile_write(b->lock, b->lock_path, err);
                if (r < 0)
                        return r;
        }
        *ret_written = write;
        return 0;
}

int build_layout(struct build *b, struct cairn_error *err)
{
        int r = build_resolve(b, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n_variants; i++) {
                struct build_variant *v = &b->variants[i];
                r = stage_unpack(b, v, err);
                if (r < 0)
                        return r;
                /* Base before app: implicit parents take the layer of their first child. */
                r = stage_configure(b, v, err);
                if (r < 0)
                        return r;
                r = stage_artifacts(b, v, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int build_enforce(struct build *b, struct cairn_error *err)
{
        bool failed = false;
        for (size_t i = 0; i < b->n_variants; i++) {
                struct build_variant *v = &b->variants[i];
                if (!v->selected)
                        continue;
                int r = stage_enforce(b, v, err);
                if (r < 0)
                        return r;
                if (v->verdict.ran && !v->verdict.passed)
                        failed = true;
        }
        if (failed)
                return cairn_error_add(err, CAIRN_EXIT_POLICY, -EPERM,
                                       "%s: policy violation, nothing was written",
                                       b->opts.recipe_path);
        return 0;
}

/*
 * Moves every entry of tmp into out. Directories are exchanged atomically with an existing
 * one of the same name (renameat2 RENAME_EXCHANGE) and the old one removed afterwards; files
 * replace their old version with rename(2).
 */
static int move_outputs(const char *tmp, const char *out, struct cairn_error *err)
{
        _cleanup_close_ int sfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0 || dfd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", sfd < 0 ? tmp : out);
        /* Sorted so the replacement order never depends on readdir. */
        struct dirent **names = NULL;
        int n = scandir(tmp, &names, NULL, alphasort);
        if (n < 0)
                return cairn_error_errno(err, -errno, "%s: %m", tmp);
        int r = 0;
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                if (r < 0 || streq(name, ".") || streq(name, ".."))
                        continue;
                struct stat st;
                bool exists = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
                if (exists && S_ISDIR(st.st_mode)) {
                        if (renameat2(sfd, name, dfd, name, RENAME_EXCHANGE) < 0) {
                                r = cairn_error_errno(err, -errno, "%s/%s: %m", out, name);
                                continue;
                        }
                        /* The old directory now sits in tmp and goes with it. */
                        continue;
                }
                if (renameat(sfd, name, dfd, name) < 0)
                        r = cairn_error_errno(err, -errno, "%s/%s: %m", out, name);
        }
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

int build_emit(struct build *b, struct cairn_error *err)
{
        if (!b->opts.out_dir)
                return 0;
        int r = make_sibling(b->opts.out_dir, "out", &b->tmp_out);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: cannot create a temporary output: %s",
                                         b->opts.out_dir, strerror(-r));
        if (chmod(b->tmp_out, 0755) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", b->tmp_out);
        r = stage_emit(b, b->tmp_out, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "%s: writing the output (in %s; OUT is unchanged)",
                                        b->opts.out_dir, b->tmp_out);

        struct stat st;
        if (stat(b->opts.out_dir, &st) < 0) {
                if (errno != ENOENT)
                        return cairn_error_errno(err, -errno, "%s: %m", b->opts.out_dir);
                if (rename(b->tmp_out, b->opts.out_dir) < 0)
                        return cairn_error_errno(err, -errno, "%s: %m", b->opts.out_dir);
                free(b->tmp_out);
                b->tmp_out = NULL;
                return 0;
        }
        if (!S_ISDIR(st.st_mode))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOTDIR,
                                       "%s: exists and is not a directory; choose another -o",
                                       b->opts.out_dir);
        return move_outputs(b->tmp_out, b->opts.out_dir, err);
}
