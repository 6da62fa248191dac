/* SPDX-License-Identifier: Apache-2.0 */
#include "programs.h"

#include "debian/picks.h"
#include "enforce/closure.h"
#include "recipe/readsfile.h"
#include "state/debcontents.h"

/* The packages of program p's closure: needed by "program REQUEST" (stages/resolve.c, or the
 * lock). */
static bool in_closure(const struct build_package *pkg, const struct recipe_program *p)
{
        for (char **n = pkg->needed_by; n && *n; n++)
                if (startswith(*n, "program ") && streq(*n + strlen("program "), p->package))
                        return true;
        return false;
}

static void origin_of(const struct build_package *pkg, char *buf, size_t size)
{
        snprintf(buf, size, "package %s %s", pkg->name, pkg->version);
}

/* Every member of every closure package in one tree, the search space of the closure; a path
 * two packages ship is the first package's (in name order). */
static int closure_space(struct build *b, const struct recipe_program *p, struct tree *t,
                         struct cairn_error *err)
{
        for (size_t i = 0; i < b->n_packages; i++) {
                struct build_package *pkg = &b->packages[i];
                if (!in_closure(pkg, p))
                        continue;
                char origin[512];
                origin_of(pkg, origin, sizeof(origin));
                const struct deb_contents *dc = NULL;
                int r = build_package_contents(b, pkg, origin, &dc, err);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < dc->n_members; k++) {
                        const struct deb_member *m = &dc->members[k];
                        struct tree_entry e = { .path = m->path,
                                                .mode = m->mode,
                                                .uid = m->uid,
                                                .gid = m->gid,
                                                .layer = TREE_LAYER_BASE,
                                                .origin = origin };
                        if (m->kind == DEB_MEMBER_FILE) {
                                e.type = TREE_REG;
                                e.key = m->key;
                                e.size = m->size;
                        } else if (m->kind == DEB_MEMBER_DIR) {
                                e.type = TREE_DIR;
                        } else if (m->kind == DEB_MEMBER_SYMLINK && *m->target &&
                                   !tree_path_problem(m->target)) {
                                e.type = TREE_SYMLINK;
                                e.mode = 0777;
                                e.target = m->target;
                        } else
                                continue;
                        if (tree_lookup(t, m->path) || tree_blocking_ancestor(t, m->path))
                                continue;
                        r = tree_insert(t, &e, 0, NULL);
                        if (r == -ENOMEM)
                                return r;
                }
        }
        return 0;
}

static bool strv_has(char *const *v, const char *s)
{
        for (; v && *v; v++)
                if (streq(*v, s))
                        return true;
        return false;
}

static int roots_add(char ***roots, size_t *n, size_t *cap, const char *path)
{
        for (size_t i = 0; i < *n; i++)
                if (streq((*roots)[i], path))
                        return 0;
        if (GROW(*roots, *cap, *n + 2) < 0)
                return -ENOMEM;
        (*roots)[*n] = strdup(path);
        if (!(*roots)[*n])
                return -ENOMEM;
        (*roots)[++*n] = NULL;
        return 0;
}

/* Whether the reads record keeps match path of an only-read pattern: the record lists the
 * file (a symlink: the file it resolves to in the closure's packages). */
static int record_keeps(struct build *b, const struct tree *t, const char *path, bool *ret)
{
        _cleanup_free_ char *resolved = NULL;
        int r = tree_resolve(t, path, 0, &resolved, NULL);
        if (r == -ENOMEM)
                return r;
        *ret = readsfile_has(b->reads, path) || (r >= 0 && readsfile_has(b->reads, resolved));
        return 0;
}

/* The paths of t that the entries of list (paths or patterns) name, added to *v: files and
 * symlinks, directories skipped. A pattern of an only-read item keeps only what the reads
 * record lists, when there is a current one. An entry that names nothing in the packages is
 * an error. */
static int select_paths(struct build *b, const struct recipe_program *p, const struct tree *t,
                        char *const *list, const char *key, char ***v, size_t *n, size_t *cap,
                        struct cairn_error *err)
{
        for (char *const *d = list; d && *d; d++) {
                bool glob = strpbrk(*d, "*?") != NULL, any = false;
                bool filter = glob && p->only_read && b->reads;
                const struct tree_entry *e;
                tree_foreach (e, t) {
                        if (e->type == TREE_DIR)
                                continue;
                        if (glob ? !pick_glob_match(*d, e->path) : !streq(*d, e->path))
                                continue;
                        any = true;
                        bool keep = true;
                        int r = filter ? record_keeps(b, t, e->path, &keep) : 0;
                        if (r >= 0 && keep)
                                r = roots_add(v, n, cap, e->path);
                        if (r < 0)
                                return r;
                }
                if (!any)
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                               "%s:%u:%u: %s: %s%s is in none of the packages "
                                               "of the closure of '%s'",
                                               b->recipe->path, p->pos.line, p->pos.column, key,
                                               glob ? "nothing matching " : "", *d, p->package);
        }
        return 0;
}

/* The item's roots: the program at its destination, then each dlopen: path or the matches of
 * each dlopen: pattern (files and symlinks). */
static int program_roots(struct build *b, const struct recipe_program *p, struct tree *t,
                         char ***ret, struct cairn_error *err)
{
        const char *where = b->recipe->path;
        const struct tree_entry *prog = tree_lookup(t, p->path);
        if (!prog)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                       "%s:%u:%u: program %s is in none of the packages of the "
                                       "Depends closure of '%s' (list them with cairn lock and "
                                       "dpkg-deb -c)",
                                       where, p->pos.line, p->pos.column, p->path, p->package);
        if (prog->type != TREE_REG)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EINVAL,
                                       "%s:%u:%u: program %s is a %s in %s; name the file "
                                       "itself",
                                       where, p->pos.line, p->pos.column, p->path,
                                       tree_type_name(prog->type), prog->origin);
        if (!streq(p->dest, p->path)) {
                /* At its destination, where its $ORIGIN is. */
                struct tree_entry copy = *prog;
                copy.path = p->dest;
                if (tree_blocking_ancestor(t, p->dest))
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOTDIR,
                                               "%s:%u:%u: dest %s: a parent is not a directory "
                                               "in the packages of the closure",
                                               where, p->pos.line, p->pos.column, p->dest);
                int r = tree_insert(t, &copy, TREE_INSERT_REPLACE, err);
                if (r < 0)
                        return r;
        }
        _cleanup_strv_free_ char **roots = NULL;
        size_t n = 0, cap = 0;
        int r = roots_add(&roots, &n, &cap, p->dest);
        if (r >= 0)
                r = select_paths(b, p, t, p->dlopen, "dlopen", &roots, &n, &cap, err);
        if (r < 0)
                return r;
        *ret = steal_pointer(&roots);
        return 0;
}

/* Entry e of the closure space into the variant's tree: named as part of the closure, or (data)
 * as nothing. */
static int place(struct build_variant *v, const struct tree_entry *e, bool data,
                 struct cairn_error *err)
{
        struct tree_entry x = *e;
        /* Data is read, never executed: no exec bits (Debian's stdlib scripts have them). */
        if (data && x.type == TREE_REG)
                x.mode &= ~(uint32_t)0111;
        x.flags = data                      ? 0
                  : e->type == TREE_SYMLINK ? TREE_ENTRY_LOADED
                                            : TREE_ENTRY_NAMED | TREE_ENTRY_LOADED;
        x.layer = TREE_LAYER_BASE;
        struct tree_entry *old = tree_lookup_mut(v->tree, e->path);
        if (old && old->type == x.type && streq_ptr(old->origin, x.origin) &&
            (x.type != TREE_REG || memcmp(old->key.bytes, x.key.bytes, sizeof(x.key)) == 0) &&
            (x.type != TREE_SYMLINK || streq_ptr(old->target, x.target))) {
                old->flags |= x.flags; /* another program's closure has it too */
                return 0;
        }
        const struct tree_entry *block = tree_blocking_ancestor(v->tree, e->path);
        if (block)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOTDIR,
                                       "%s: %s: parent %s is a %s from %s, not a directory",
                                       e->origin, e->path, block->path, tree_type_name(block->type),
                                       block->origin ? block->origin : "an earlier item");
        return tree_insert(v->tree, &x, 0, err);
}

/* /usr/share/doc/NAME/copyright (unless copyright: false) and status.d/NAME of a package that
 * gave files. */
static int place_package_files(struct build *b, struct build_variant *v, struct build_package *pkg,
                               bool copyright, struct cairn_error *err)
{
        char origin[512];
        origin_of(pkg, origin, sizeof(origin));
        const struct deb_contents *dc = NULL;
        int r = build_package_contents(b, pkg, origin, &dc, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *doc = NULL, *status = NULL;
        if (asprintf(&doc, "/usr/share/doc/%s/copyright", pkg->name) < 0 ||
            asprintf(&status, "/var/lib/dpkg/status.d/%s", pkg->name) < 0)
                return -ENOMEM;
        for (size_t i = 0; copyright && !tree_lookup(v->tree, doc) && i < dc->n_members; i++) {
                const struct deb_member *m = &dc->members[i];
                if (m->kind != DEB_MEMBER_FILE || !streq(m->path, doc))
                        continue;
                struct tree_entry e = { .path = doc,
                                        .type = TREE_REG,
                                        .mode = m->mode,
                                        .uid = m->uid,
                                        .gid = m->gid,
                                        .size = m->size,
                                        .key = m->key,
                                        .layer = TREE_LAYER_BASE,
                                        .origin = origin };
                r = tree_insert(v->tree, &e, 0, err);
                if (r < 0)
                        return r;
        }
        if (!dc->control || tree_lookup(v->tree, status))
                return 0;
        struct tree_entry e = { .path = status,
                                .type = TREE_REG,
                                .mode = 0644,
                                .size = dc->control_len,
                                .layer = TREE_LAYER_BASE,
                                .flags = TREE_ENTRY_GENERATED,
                                .origin = origin };
        r = store_put_buf(b->store, dc->control, dc->control_len, &e.key, err);
        return r < 0 ? r : tree_insert(v->tree, &e, 0, err);
}

static int place_program(struct build *b, struct build_variant *v, const struct recipe_program *p,
                         struct cairn_error *err)
{
        _cleanup_tree_ struct tree *space = NULL;
        int r = tree_new(&space);
        if (r < 0)
                return r;
        r = closure_space(b, p, space, err);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **roots = NULL;
        r = program_roots(b, p, space, &roots, err);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **keep = NULL;
        r = closure_compute(space, b->store, (const char *const *)roots, strv_length(roots), &keep,
                            err);
        if (r < 0)
                return cairn_error_wrap(err, r, "%s:%u:%u: program %s (closure of '%s')",
                                        b->recipe->path, p->pos.line, p->pos.column, p->path,
                                        p->package);
        for (char **k = keep; *k; k++) {
                /* The program's own path is placed at its destination only. */
                if (!streq(p->dest, p->path) && streq(*k, p->path))
                        continue;
                r = place(v, tree_lookup(space, *k), false, err);
                if (r < 0)
                        return cairn_error_wrap(err, r, "%s:%u:%u: program %s", b->recipe->path,
                                                p->pos.line, p->pos.column, p->path);
        }
        /* data: what it reads, placed as the packages ship it, named as nothing. */
        _cleanup_strv_free_ char **data = NULL;
        size_t n_data = 0, cap_data = 0;
        r = select_paths(b, p, space, p->data, "data", &data, &n_data, &cap_data, err);
        if (r < 0)
                return r;
        /* A symlink brings the file it resolves to (Debian's sitecustomize.py -> /etc/...). */
        for (size_t i = 0, n = n_data; i < n; i++) {
                if (tree_lookup(space, data[i])->type != TREE_SYMLINK)
                        continue;
                _cleanup_free_ char *resolved = NULL;
                const struct tree_entry *e = NULL;
                r = tree_resolve(space, data[i], 0, &resolved, &e);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && e && e->type == TREE_REG) {
                        r = roots_add(&data, &n_data, &cap_data, resolved);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < n_data; i++) {
                if (strv_has(keep, data[i]))
                        continue;
                r = place(v, tree_lookup(space, data[i]), true, err);
                if (r < 0)
                        return cairn_error_wrap(err, r, "%s:%u:%u: program %s: data",
                                                b->recipe->path, p->pos.line, p->pos.column,
                                                p->path);
        }
        for (size_t i = 0; i < b->n_packages; i++) {
                struct build_package *pkg = &b->packages[i];
                if (!in_closure(pkg, p))
                        continue;
                char origin[512];
                origin_of(pkg, origin, sizeof(origin));
                bool gave = false;
                for (char **k = keep; *k && !gave; k++)
                        gave = streq_ptr(tree_lookup(space, *k)->origin, origin);
                for (size_t k = 0; k < n_data && !gave; k++)
                        gave = streq_ptr(tree_lookup(space, data[k])->origin, origin);
                if (gave) {
                        r = place_package_files(b, v, pkg, !p->no_copyright, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int stage_programs(struct build *b, struct build_variant *v, struct cairn_error *err)
{
        for (size_t i = 0; i < v->view->n_programs; i++) {
                int r = place_program(b, v, v->view->programs[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}
