/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lock policy, in one place (docs/recipe.md, "Lock files"): whether the lock file pins this build,
 * refusing a missing or stale one under --locked; the new lock for a fresh resolution and what
 * changed; writing it. The format itself is recipe/lockfile.c.
 */
#include "lock.h"

#include "debian/debrepo.h"

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
                if (!b->source_info[src].base) {
                        struct debrepo_info *info = &b->source_info[src];
                        int r = debrepo_base_url(&rc->sources[src], b->cache_dir, b->opts.offline,
                                                 &info->base, &info->note, err);
                        if (r < 0)
                                return r;
                        if (info->note && b->note)
                                b->note(b->progress_data, info->note);
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
                    asprintf(&p->url, "%s/%s", b->source_info[src].base, lp->filename) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < rc->n_utilities; i++) {
                bool found = false;
                for (size_t k = 0; k < b->n_packages && !found; k++)
                        found = streq(b->packages[k].name, lock->utilities[i].package) &&
                                b->packages[k].picked;
                if (!found)
                        return -ESTALE;
                b->utility_packages[i] = strdup(lock->utilities[i].package);
                if (!b->utility_packages[i])
                        return -ENOMEM;
        }
        return 0;
}

/* True when a variant runs cairn-init: the lock pins its SHA-256 then. */
static bool recipe_runs_init(const struct build *b)
{
        for (size_t i = 0; i < b->n_variants; i++)
                if (b->variants[i].view->run.init)
                        return true;
        return false;
}

static bool lock_pins_packages(const struct build *b)
{
        return b->recipe->n_utilities > 0 || b->recipe->n_packages > 0 || b->recipe->n_programs > 0;
}

/* The lock pins the cairn-init this build installs (or none when no variant runs it). With
 * --locked a different one is refused; otherwise the lock is updated (lock_init_changed). */
static int check_init(struct build *b, const struct lockfile *l, struct cairn_error *err)
{
        const char *want = b->init.fd >= 0 ? b->init.sha256 : NULL;
        const char *have = l ? l->init : NULL;
        if (!want || (have && streq(want, have)))
                return 0; /* a pin the recipe no longer needs stays until the next lock */
        if (b->opts.locked && !b->opts.refresh_lock) {
                if (have)
                        return cairn_error_add(
                                err, CAIRN_EXIT_USAGE, -ESTALE,
                                "--locked: cairn-init %s is %s, but %s pins %s; pass the pinned "
                                "cairn-init with --init-binary PATH (or CAIRN_INIT_BINARY), or "
                                "pin this one with 'cairn lock %s --init-binary %s'",
                                b->init.path, want, b->lock_path, have, b->opts.recipe_path,
                                b->init.path);
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ESTALE,
                                       "--locked: %s pins no cairn-init, but run.init installs "
                                       "%s (%s); pin it with 'cairn lock %s --init-binary %s'",
                                       b->lock_path, b->init.path, want, b->opts.recipe_path,
                                       b->init.path);
        }
        b->lock_init_changed = true;
        return 0;
}

int stage_lock_read(struct build *b, struct cairn_error *err)
{
        bool init = !b->opts.no_init && recipe_runs_init(b);
        if (!lock_pins_packages(b) && !init)
                return 0; /* BUILD_LOCK_NONE: nothing to pin */
        if (init) {
                /* Another architecture of a multi-architecture recipe: its own cairn-init. */
                bool foreign = b->opts.multi_arch && !streq(b->arch, recipe_host_arch());
                int r = initbin_open_arch(b->opts.init_binary, foreign ? b->arch : NULL, &b->init,
                                          err);
                if (r < 0)
                        return r;
        }
        _cleanup_lockfile_ struct lockfile *file = NULL;
        int r = lockfile_read(b->lock_read_path ? b->lock_read_path : b->lock_path, &file, err);
        if (r < 0 && r != -ENOENT)
                return r;
        /* A multi-architecture lock has a section per architecture: this build uses its own,
         * and remembers which the file holds (the set rewrites a file whose sections are not
         * the recipe's architectures). */
        size_t n_file = 0;
        for (const struct lockfile *l = file; l; l = l->next)
                n_file++;
        b->lock_file_archs = calloc(n_file + 1, sizeof(char *));
        if (!b->lock_file_archs)
                return -ENOMEM;
        n_file = 0;
        for (const struct lockfile *l = file; l; l = l->next)
                if (!(b->lock_file_archs[n_file++] = strdup(l->arch ? l->arch : "")))
                        return -ENOMEM;
        b->lock_old = lockfile_take_arch(&file, b->arch);
        /* A single-architecture build whose lock is for another architecture: that lock is
         * stale (its inputs digest covers the architecture), and what changed is against it. */
        if (!b->lock_old && file && !b->opts.multi_arch)
                b->lock_old = lockfile_take_arch(&file, file->arch);
        if (!b->lock_old && file && b->opts.locked && !b->opts.refresh_lock)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ESTALE,
                                       "--locked: %s holds no lock for architecture %s; run "
                                       "'cairn lock %s'",
                                       b->lock_read_path ? b->lock_read_path : b->lock_path,
                                       b->arch, b->opts.recipe_path);
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
                        return check_init(b, l, err);
                }
                if (r != -ESTALE)
                        return r;
                build_packages_reset(b);
        }
        if (b->opts.locked && !b->opts.refresh_lock)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ESTALE,
                                       l ? "--locked: %s does not match the recipe (its "
                                           "sources, architecture, utilities or packages "
                                           "changed since it was written); run 'cairn lock %s'"
                                         : "--locked: %s does not exist; run 'cairn lock %s' "
                                           "and keep the lock file beside the recipe",
                                       b->lock_read_path ? b->lock_read_path : b->lock_path,
                                       b->opts.recipe_path);
        b->lock_state = l ? BUILD_LOCK_REFRESHED : BUILD_LOCK_CREATED;
        return 0;
}

/* The lock file contents for what resolve chose; *ret is owned by the caller. */
static int make_lock(const struct build *b, struct lockfile **ret)
{
        const struct recipe *rc = b->recipe;
        _cleanup_lockfile_ struct lockfile *lock = calloc(1, sizeof(*lock));
        if (!lock)
                return -ENOMEM;
        char inputs[72];
        int r = lockfile_inputs_digest(rc, b->arch, inputs);
        if (r < 0)
                return r;
        lock->version = LOCKFILE_VERSION;
        lock->recipe = strdup(rc->name);
        lock->arch = strdup(b->arch);
        lock->inputs = strdup(inputs);
        if (b->init.fd >= 0 && !(lock->init = strdup(b->init.sha256)))
                return -ENOMEM;
        lock->sources = calloc(rc->n_sources + 1, sizeof(*lock->sources));
        lock->utilities = calloc(rc->n_utilities + 1, sizeof(*lock->utilities));
        lock->packages = calloc(b->n_packages + 1, sizeof(*lock->packages));
        if (!lock->recipe || !lock->arch || !lock->inputs || !lock->sources || !lock->utilities ||
            !lock->packages)
                return -ENOMEM;
        for (size_t i = 0; i < rc->n_sources; i++) {
                const struct debrepo_info *info = &b->source_info[i];
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
                u->package = strdup(b->utility_packages[i] ? b->utility_packages[i] : "");
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

int stage_lock_settle(struct build *b, struct cairn_error *err)
{
        switch (b->lock_state) {
        case BUILD_LOCK_NONE:
                return 0;
        case BUILD_LOCK_USED: {
                b->lock = steal_pointer(&b->lock_old);
                if (!b->lock_init_changed)
                        return 0;
                /* Only the pinned cairn-init changes: the packages stay as they were. */
                _cleanup_free_ char *old = steal_pointer(&b->lock->init);
                b->lock->init = strdup(b->init.sha256);
                if (!b->lock->init)
                        return -ENOMEM;
                struct lockfile o = { .init = old }, n = { .init = b->lock->init };
                return lockfile_diff(&o, &n, &b->lock_changes);
        }
        case BUILD_LOCK_CREATED:
        case BUILD_LOCK_REFRESHED: {
                int r = make_lock(b, &b->lock);
                if (r < 0)
                        return r;
                return lockfile_diff(b->lock_old, b->lock, &b->lock_changes);
        }
        }
        return 0;
}

/* Whether b's lock differs from what the file holds (or must move to its new name). */
static bool lock_wants_write(const struct build *b, bool force)
{
        /* A lock read under its old name moves to the new one (not under --locked). */
        return b->lock && (force || b->lock_state == BUILD_LOCK_CREATED ||
                           b->lock_state == BUILD_LOCK_REFRESHED || b->lock_init_changed ||
                           (b->lock_read_path && !b->opts.locked));
}

int stage_lock_write_set(struct build *const *builds, size_t n, bool force, bool *ret_written,
                         struct cairn_error *err)
{
        bool write = false, any = false;
        for (size_t i = 0; i < n; i++) {
                any = any || builds[i]->lock;
                write = write || lock_wants_write(builds[i], force);
                /* The file's sections are exactly the builds' architectures, in order. */
                char *const *in_file = builds[i]->lock_file_archs;
                if (builds[i]->lock &&
                    (!in_file || strv_length(in_file) != n || !streq(in_file[i], builds[i]->arch)))
                        write = true;
        }
        if (!any || !write) {
                *ret_written = false;
                return 0;
        }
        for (size_t i = 0; i < n; i++)
                if (!builds[i]->lock)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: architecture %s resolved no lock",
                                               builds[i]->opts.recipe_path, builds[i]->arch);
        /* Chained for the write only: each build keeps owning its own section. */
        for (size_t i = 0; i + 1 < n; i++)
                builds[i]->lock->next = builds[i + 1]->lock;
        int r = lockfile_write(builds[0]->lock, builds[0]->lock_path, err);
        for (size_t i = 0; i < n; i++)
                builds[i]->lock->next = NULL;
        if (r < 0)
                return r;
        *ret_written = true;
        return 0;
}

/* One architecture of a multi-architecture recipe was built (--arch): its section replaces
 * the file's one for it, the other architectures' stay as they are. */
static int write_one_section(struct build *b, bool *ret_written, struct cairn_error *err)
{
        _cleanup_lockfile_ struct lockfile *file = NULL;
        int r = lockfile_read(b->lock_read_path ? b->lock_read_path : b->lock_path, &file, err);
        if (r < 0 && r != -ENOENT)
                return r;
        lockfile_free(lockfile_take_arch(&file, b->arch));
        /* Sections of architectures the recipe no longer builds go. */
        struct lockfile **p = &file;
        while (*p) {
                if (recipe_has_arch(b->recipe, (*p)->arch)) {
                        p = &(*p)->next;
                        continue;
                }
                struct lockfile *gone = *p;
                *p = gone->next;
                gone->next = NULL;
                lockfile_free(gone);
        }
        p = &file;
        while (*p && strcmp((*p)->arch, b->arch) < 0)
                p = &(*p)->next;
        b->lock->next = *p;
        *p = b->lock;
        r = lockfile_write(file, b->lock_path, err);
        /* Unlinked again: b keeps owning its section, file the rest. */
        *p = b->lock->next;
        b->lock->next = NULL;
        if (r < 0)
                return r;
        *ret_written = true;
        return 0;
}

int stage_lock_write(struct build *b, bool force, bool *ret_written, struct cairn_error *err)
{
        bool write = lock_wants_write(b, force);
        if (write && b->recipe->n_archs > 1)
                return write_one_section(b, ret_written, err);
        if (write) {
                int r = lockfile_write(b->lock, b->lock_path, err);
                if (r < 0)
                        return r;
        }
        *ret_written = write;
        return 0;
}
