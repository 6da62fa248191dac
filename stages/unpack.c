/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unpack: .deb files into the variant's tree, in layer base, without running anything from
 * them. Each .deb is read once (debian/debread.c, cached by debian/debcache.c); what a variant
 * wants is then placed:
 *
 *  - utilities: only what their `files:` keys select (a file, a directory with everything
 *    below it, or the matches of a pattern: debian/picks.h), at their destinations; exact
 *    file picks are marked as named by the recipe; a key that selects nothing is an error
 *    naming the package version;
 *  - certificates: the CA bundle made from the package's certificates (debian/cabundle.h);
 *  - whole packages: every file except documentation (the copyright file stays), man and info
 *    pages, lintian overrides and translations;
 *  - the Debian identity: /etc/debian_version from base-files (stages/resolve.c);
 *  - every package that contributed files also contributes /usr/share/doc/NAME/copyright
 *    (unless its item says `copyright: false`), and gets /var/lib/dpkg/status.d/NAME (its
 *    control paragraph) and status.d/NAME.md5sums (the files the image holds from it): the
 *    distroless convention image scanners read;
 *  - packages with maintainer scripts are listed (they were not run).
 * Paths are normalised; entries that escape the root, device nodes and hardlinks to files
 * outside the package are refused with the package's name.
 */
#include "unpack.h"
#include "state/debcontents.h"

#include "base/digest.h"
#include "debian/cabundle.h"
#include "debian/debcache.h"
#include "debian/picks.h"

/* Per placement of one package into one variant. */
struct deb_ctx {
        struct build *b;
        struct build_variant *v;
        const struct build_package *pkg;
        const struct recipe_utility *util; /* NULL: the whole package */
        bool *picked;                      /* per util file: selected something */
        bool *src_dir;                     /* per util file: the package has a directory there */
        bool no_copyright;                 /* whole package: leave its copyright file out */
        char copyright[300];               /* /usr/share/doc/NAME/copyright */
        char origin[512];
};

static bool excluded(const struct deb_ctx *c, const char *path)
{
        static const char *const dirs[] = { "/usr/share/doc/", "/usr/share/man/",
                                            "/usr/share/info/", "/usr/share/lintian/",
                                            "/usr/share/locale/" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (startswith(path, dirs[i])) {
                        /* Keep each package's copyright file: licences travel with binaries. */
                        if (i == 0) {
                                const char *slash = strrchr(path, '/');
                                if (c->no_copyright && streq(path, c->copyright))
                                        return true;
                                return !streq(slash, "/copyright");
                        }
                        return true;
                }
        return false;
}

/* True when one of the view's files: items writes path (it is placed later, by configure). */
static bool view_writes(const struct recipe_view *view, const char *path)
{
        for (size_t i = 0; view && i < view->n_files; i++)
                if (streq(view->files[i]->path, path))
                        return true;
        return false;
}

/* Member m at dest in the variant's tree, with the checks a placed member must pass. exact:
 * an exact pick of a path (named when it is a file). */
static int place_at(struct deb_ctx *c, const struct deb_member *m, const char *dest, bool exact,
                    struct cairn_error *err)
{
        bool named = exact && m->kind == DEB_MEMBER_FILE;
        struct tree_entry e = {
                .path = (char *)dest,
                .mode = m->mode,
                .uid = m->uid,
                .gid = m->gid,
                .layer = TREE_LAYER_BASE,
                .flags = named ? TREE_ENTRY_NAMED : 0,
                .origin = c->origin,
        };
        switch (m->kind) {
        case DEB_MEMBER_FILE:
                e.type = TREE_REG;
                e.key = m->key;
                e.size = m->size;
                break;
        case DEB_MEMBER_DIR:
                e.type = TREE_DIR;
                break;
        case DEB_MEMBER_SYMLINK: {
                if (exact)
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EINVAL,
                                               "%s: %s is a symlink to %s in the package; name its "
                                               "target in the recipe instead",
                                               c->origin, m->path, m->target);
                e.type = TREE_SYMLINK;
                e.mode = 0777;
                e.target = m->target;
                const char *why = *e.target ? tree_path_problem(e.target) : "is empty";
                if (why) {
                        _cleanup_free_ char *shown = str_escape(e.target, 200);
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EINVAL,
                                               "%s: symlink %s: its target '%s' %s", c->origin,
                                               m->path, shown ? shown : "", why);
                }
                break;
        }
        case DEB_MEMBER_BAD_LINK:
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPERM,
                                       "%s: hardlink '%s' points outside the package's files",
                                       c->origin, m->path);
        case DEB_MEMBER_SPECIAL:
        default:
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPERM,
                                       "%s: %s is a device node, fifo or socket; packages may not "
                                       "bring those",
                                       c->origin, m->path);
        }
        /* Nothing under a symlink (or a file), whichever package made it: a consumer unpacking
         * the image would write through it. */
        const struct tree_entry *block = tree_blocking_ancestor(c->v->tree, dest);
        if (block)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOTDIR,
                                       "%s: %s: parent %s is a %s from %s, not a directory; "
                                       "nothing is placed under a symlink",
                                       c->origin, dest, block->path, tree_type_name(block->type),
                                       block->origin ? block->origin : "an earlier item");
        /* Two packages may both own a directory. */
        const struct tree_entry *old = tree_lookup(c->v->tree, dest);
        if (old && old->type == TREE_DIR && e.type == TREE_DIR)
                return 0;
        /* The same entry of the same package, placed before by a programs: item
         * (stages/programs.c): it stays, named as that item named it. */
        if (old && streq_ptr(old->origin, c->origin) && old->type == e.type &&
            old->mode == e.mode &&
            (e.type != TREE_REG || memcmp(old->key.bytes, e.key.bytes, sizeof(e.key.bytes)) == 0) &&
            (e.type != TREE_SYMLINK || streq_ptr(old->target, e.target)))
                return 0;
        int r = tree_insert(c->v->tree, &e, 0, err);
        return r < 0 ? cairn_error_wrap(err, r, "%s", c->origin) : 0;
}

/* One member into the variant's tree, wherever the variant wants it (maybe several places). */
static int place(struct deb_ctx *c, const struct deb_member *m, struct cairn_error *err)
{
        if (!c->util)
                return excluded(c, m->path) ? 0 : place_at(c, m, m->path, false, err);
        for (size_t i = 0; i < c->util->n_files; i++) {
                const struct recipe_pick *p = &c->util->files[i];
                _cleanup_free_ char *dest = NULL;
                int r = pick_dest(p, c->src_dir[i], m->path, &dest);
                if (r <= 0) {
                        if (r < 0)
                                return r;
                        continue;
                }
                c->picked[i] = true;
                r = place_at(c, m, dest, !p->glob && !c->src_dir[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The package's copyright file at its own path, when the variant does not have one there. */
static int place_copyright(struct deb_ctx *c, const struct deb_contents *dc,
                           struct cairn_error *err)
{
        if (tree_lookup(c->v->tree, c->copyright) || view_writes(c->v->view, c->copyright))
                return 0;
        for (size_t i = 0; i < dc->n_members; i++) {
                const struct deb_member *m = &dc->members[i];
                if (m->kind == DEB_MEMBER_FILE && streq(m->path, c->copyright))
                        return place_at(c, m, m->path, false, err);
        }
        return 0;
}

/* A file cairn made from the package (the CA bundle) at path. */
static int place_generated(struct deb_ctx *c, const char *path, const char *buf, size_t len,
                           struct cairn_error *err)
{
        struct tree_entry e = {
                .path = (char *)path,
                .type = TREE_REG,
                .mode = 0644,
                .size = len,
                .layer = TREE_LAYER_BASE,
                .flags = TREE_ENTRY_GENERATED,
                .origin = c->origin,
        };
        const struct tree_entry *block = tree_blocking_ancestor(c->v->tree, path);
        if (block)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOTDIR,
                                       "%s: %s: parent %s is a %s from %s, not a directory",
                                       c->origin, path, block->path, tree_type_name(block->type),
                                       block->origin ? block->origin : "an earlier item");
        int r = store_put_buf(c->b->store, buf, len, &e.key, err);
        if (r >= 0)
                r = tree_insert(c->v->tree, &e, 0, err);
        return r < 0 ? cairn_error_wrap(err, r, "%s", c->origin) : 0;
}

static int place_bundle(struct deb_ctx *c, const struct deb_contents *dc, struct cairn_error *err)
{
        _cleanup_free_ char *bundle = NULL;
        size_t len = 0, count = 0;
        int r = cabundle_build(dc, c->b->store, c->origin, &bundle, &len, &count, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "%s:%u:%u: certificates", c->b->recipe->path,
                                        c->util->pos.line, c->util->pos.column);
        return place_generated(c, c->util->bundle, bundle, len, err);
}

static int write_status(struct deb_ctx *c, const struct deb_contents *dc, struct cairn_error *err)
{
        if (!dc->control)
                return 0;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "/var/lib/dpkg/status.d/%s", c->pkg->name) < 0)
                return -ENOMEM;
        if (tree_lookup(c->v->tree, path))
                return 0;
        struct tree_entry e = {
                .path = path,
                .type = TREE_REG,
                .mode = 0644,
                .size = dc->control_len,
                .layer = TREE_LAYER_BASE,
                .flags = TREE_ENTRY_GENERATED,
                .origin = c->origin,
        };
        int r = store_put_buf(c->b->store, dc->control, dc->control_len, &e.key, err);
        return r < 0 ? r : tree_insert(c->v->tree, &e, 0, err);
}

static int note_scripts(struct build *b, const char *name)
{
        size_t n = 0;
        for (char **p = b->pkg_with_scripts; p && *p; p++, n++)
                if (streq(*p, name))
                        return 0;
        char **v = realloc(b->pkg_with_scripts, (n + 2) * sizeof(char *));
        if (!v)
                return -ENOMEM;
        b->pkg_with_scripts = v;
        v[n] = strdup(name);
        v[n + 1] = NULL;
        return v[n] ? 0 : -ENOMEM;
}

/*
 * libsolv's Packages parser (0.7.23) drops Maintainer:, so the package's own control file
 * supplies it (for the SBOM's supplier). Sets pkg->maintainer once; 0 or -ENOMEM.
 */
static int note_maintainer(struct build_package *pkg, const char *control)
{
        if (pkg->maintainer || !control)
                return 0;
        const char *p =
                startswith(control, "Maintainer:") ? control : strstr(control, "\nMaintainer:");
        if (!p)
                return 0;
        p = strchr(p, ':') + 1;
        while (*p == ' ' || *p == '\t')
                p++;
        const char *end = strchrnul(p, '\n');
        while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
        if (end == p)
                return 0;
        pkg->maintainer = strndup(p, (size_t)(end - p));
        return pkg->maintainer ? 0 : -ENOMEM;
}

/* The name part of a dependency string ("tini (>= 0.19)" -> "tini") equals name. */
static bool dep_names(const char *dep, const char *name)
{
        size_t n = strcspn(dep, " (");
        return strlen(name) == n && strncmp(dep, name, n) == 0;
}

int unpack_package(struct build *b, struct build_variant *v, struct build_package *pkg,
                   const struct recipe_utility *util, struct cairn_error *err)
{
        struct deb_ctx c = { .b = b, .v = v, .pkg = pkg, .util = util };
        snprintf(c.origin, sizeof(c.origin), "package %s %s", pkg->name, pkg->version);
        snprintf(c.copyright, sizeof(c.copyright), "/usr/share/doc/%s/copyright", pkg->name);
        size_t n_files = util ? util->n_files : 0;
        _cleanup_free_ bool *picked = calloc(n_files + 1, sizeof(bool));
        _cleanup_free_ bool *src_dir = calloc(n_files + 1, sizeof(bool));
        if (!picked || !src_dir)
                return -ENOMEM;
        c.picked = picked;
        c.src_dir = src_dir;
        for (size_t i = 0; !util && v->view && i < v->view->n_packages; i++)
                if (v->view->packages[i]->no_copyright &&
                    dep_names(v->view->packages[i]->name, pkg->name))
                        c.no_copyright = true;
        const struct deb_contents *dc = NULL;
        int r = build_package_contents(b, pkg, c.origin, &dc, err);
        if (r < 0)
                return r;
        /* Which picks name a directory of the package: those copy what is below it. */
        for (size_t i = 0; i < dc->n_members; i++)
                for (size_t k = 0; k < n_files; k++)
                        if (!util->files[k].glob && dc->members[i].kind == DEB_MEMBER_DIR &&
                            streq(dc->members[i].path, util->files[k].src))
                                src_dir[k] = true;
        if (!util || util->kind == RECIPE_UTILITY_PICK)
                for (size_t i = 0; r >= 0 && i < dc->n_members; i++)
                        r = place(&c, &dc->members[i], err);
        for (size_t i = 0; r >= 0 && i < n_files; i++)
                if (!picked[i]) {
                        const char *near = pick_nearest(dc, util->files[i].src);
                        r = cairn_error_add(
                                err, CAIRN_EXIT_SOURCE, -ENOENT, "%s:%u:%u: %s has no %s %s%s%s%s",
                                b->recipe->path, util->files[i].pos.line, util->files[i].pos.column,
                                c.origin, util->files[i].glob ? "path matching" : "file",
                                util->files[i].src,
                                near ? " (did you mean '" : " (cairn check RECIPE",
                                near ? near : " lists what each pick selects", near ? "'?)" : ")");
                }
        if (r >= 0 && util && util->kind == RECIPE_UTILITY_CA_BUNDLE)
                r = place_bundle(&c, dc, err);
        if (r >= 0 && util && !util->no_copyright)
                r = place_copyright(&c, dc, err);
        if (r >= 0)
                r = write_status(&c, dc, err);
        if (r >= 0)
                r = note_maintainer(pkg, dc->control);
        if (r >= 0 && dc->has_scripts && !util)
                r = note_scripts(b, pkg->name);
        return r;
}

int unpack_list_picks(struct build *b, struct build_package *pkg, const struct recipe_utility *u,
                      unpack_pick_fn fn, void *data, struct cairn_error *err)
{
        char origin[512];
        snprintf(origin, sizeof(origin), "package %s %s", pkg->name, pkg->version);
        const struct deb_contents *dc = NULL;
        int r = build_package_contents(b, pkg, origin, &dc, err);
        if (r < 0)
                return r;
        for (size_t k = 0; k < u->n_files; k++) {
                const struct recipe_pick *p = &u->files[k];
                bool dir = false, any = false;
                for (size_t i = 0; !p->glob && i < dc->n_members; i++)
                        dir = dir || (dc->members[i].kind == DEB_MEMBER_DIR &&
                                      streq(dc->members[i].path, p->src));
                for (size_t i = 0; i < dc->n_members; i++) {
                        _cleanup_free_ char *dest = NULL;
                        r = pick_dest(p, dir, dc->members[i].path, &dest);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                fn(data, k, dc->members[i].path, dest);
                                any = true;
                        }
                }
                if (!any)
                        fn(data, k, NULL, pick_nearest(dc, p->src));
        }
        return 0;
}

/*
 * The Debian identity's part in the tree: /etc/debian_version from base-files (unless the
 * recipe writes its own, or the variant installs base-files whole and has it already), and
 * base-files' copyright. configure.c writes /etc/os-release from the same package.
 */
static int unpack_identity(struct build *b, struct build_variant *v, struct cairn_error *err)
{
        struct build_package *pkg = build_identity_package(b);
        if (!pkg || !((pkg->picked >> v->view->index) & 1u) ||
            ((pkg->whole >> v->view->index) & 1u))
                return 0;
        struct deb_ctx c = { .b = b, .v = v, .pkg = pkg };
        snprintf(c.origin, sizeof(c.origin), "package %s %s", pkg->name, pkg->version);
        snprintf(c.copyright, sizeof(c.copyright), "/usr/share/doc/%s/copyright", pkg->name);
        const struct deb_contents *dc = NULL;
        int r = build_package_contents(b, pkg, c.origin, &dc, err);
        if (r < 0)
                return r;
        static const char version[] = "/etc/debian_version";
        bool want = !tree_lookup(v->tree, version) && !view_writes(v->view, version) &&
                    !b->recipe->identity.debian_version;
        for (size_t i = 0; want && r >= 0 && i < dc->n_members; i++)
                if (dc->members[i].kind == DEB_MEMBER_FILE && streq(dc->members[i].path, version))
                        r = place_at(&c, &dc->members[i], version, false, err);
        if (r >= 0)
                r = place_copyright(&c, dc, err);
        if (r >= 0)
                r = write_status(&c, dc, err);
        if (r >= 0)
                r = note_maintainer(pkg, dc->control);
        return r;
}

/* "package NAME VERSION", the origin of what pkg placed. */
static bool origin_is(const char *origin, const struct build_package *pkg)
{
        size_t n = strlen(pkg->name);
        return origin && startswith(origin, "package ") &&
               strncmp(origin + strlen("package "), pkg->name, n) == 0 &&
               origin[strlen("package ") + n] == ' ' &&
               streq(origin + strlen("package ") + n + 1, pkg->version);
}

/*
 * /var/lib/dpkg/status.d/NAME.md5sums for every package with a status file in the variant:
 * "MD5  PATH" (PATH without its leading '/', as dpkg writes md5sums) for exactly the regular
 * files the tree holds from it, in path order. What cairn generated from a package (the CA
 * bundle, the status files) is not the package's file and is not listed.
 */
static int write_md5sums(struct build *b, struct build_variant *v, struct cairn_error *err)
{
        for (size_t i = 0; i < b->n_packages; i++) {
                const struct build_package *pkg = &b->packages[i];
                if (!build_package_used(pkg, v))
                        continue;
                _cleanup_free_ char *status = NULL, *path = NULL, *text = NULL;
                size_t len = 0;
                if (asprintf(&status, "/var/lib/dpkg/status.d/%s", pkg->name) < 0 ||
                    asprintf(&path, "%s.md5sums", status) < 0)
                        return -ENOMEM;
                const struct tree_entry *st = tree_lookup(v->tree, status);
                if (!st || !origin_is(st->origin, pkg) || tree_lookup(v->tree, path))
                        continue;
                _cleanup_fclose_ FILE *f = open_memstream(&text, &len);
                if (!f)
                        return -ENOMEM;
                const struct tree_entry *e;
                tree_foreach (e, v->tree) {
                        if (e->type != TREE_REG || (e->flags & TREE_ENTRY_GENERATED) ||
                            !origin_is(e->origin, pkg))
                                continue;
                        _cleanup_close_ int fd = store_open_key(b->store, &e->key);
                        char md5[DIGEST_HEX_MAX];
                        int r = fd < 0 ? fd : digest_fd_hex(DIGEST_MD5, fd, md5);
                        if (r < 0)
                                return cairn_error_errno(err, r,
                                                         "%s: reading it from the store: %s",
                                                         e->path, strerror(-r));
                        fprintf(f, "%s  %s\n", md5, e->path + 1);
                }
                if (fclose(steal_pointer(&f)) != 0)
                        return -ENOMEM;
                struct tree_entry m = {
                        .path = path,
                        .type = TREE_REG,
                        .mode = 0644,
                        .size = len,
                        .layer = TREE_LAYER_BASE,
                        .flags = TREE_ENTRY_GENERATED,
                        .origin = st->origin,
                };
                int r = store_put_buf(b->store, text ? text : "", len, &m.key, err);
                if (r >= 0)
                        r = tree_insert(v->tree, &m, 0, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int stage_unpack(struct build *b, struct build_variant *v, struct cairn_error *err)
{
        recipe_variant_mask bit = (recipe_variant_mask)1 << v->view->index;
        for (size_t i = 0; i < b->n_packages; i++) {
                if (!(b->packages[i].whole & bit))
                        continue;
                int r = unpack_package(b, v, &b->packages[i], NULL, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < v->view->n_utilities; i++) {
                const struct recipe_utility *u = v->view->utilities[i];
                struct build_package *pkg = build_utility_package(b, u);
                if (!pkg)
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                               "utility %s was not resolved", u->package);
                int r = unpack_package(b, v, pkg, u, err);
                if (r < 0)
                        return r;
        }
        int r = unpack_identity(b, v, err);
        return r < 0 ? r : write_md5sums(b, v, err);
}
