/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recipe sections that write into the image by themselves: accounts: (/etc/passwd and
 * /etc/group) and files:, and the check that no two items of one variant write the same
 * path. See recipe-parse.c for the walk that calls them.
 */
#include "recipe-internal.h"

void recipe_walk_accounts(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "groups", "users", NULL };
        static const char *const gkeys[] = { "name", "gid", "variants", NULL };
        static const char *const ukeys[] = {
                "name", "uid", "gid", "home", "shell", "variants", NULL
        };
        if (!yread_map(y, n, "accounts", keys))
                return;
        const struct ynode *g = ynode_map_get(n, "groups");
        if (g && yread_seq(y, g, "groups", RECIPE_MAX_ITEMS)) {
                r->groups = yread_calloc(y, g->n_items ? g->n_items : 1, sizeof(*r->groups));
                for (size_t i = 0; r->groups && i < g->n_items; i++) {
                        const struct ynode *it = g->items[i];
                        struct recipe_group *gr = &r->groups[r->n_groups++];
                        gr->pos = it->pos;
                        gr->variants = RECIPE_ALL_VARIANTS;
                        if (!yread_map(y, it, "groups item", gkeys))
                                continue;
                        const struct ynode *v;
                        if ((v = ynode_map_get(it, "name"))) {
                                gr->name = yread_string(y, v, "name");
                                if (gr->name &&
                                    !recipe_name_ok(gr->name, "abcdefghijklmnopqrstuvwxyz_",
                                                    LOWER_DIGITS "_-", 32))
                                        yread_fail(y, v->pos,
                                                   "group name '%s': use [a-z_][a-z0-9_-]*",
                                                   gr->name);
                        } else
                                yread_fail(y, it->pos, "groups item: missing required key 'name'");
                        if ((v = ynode_map_get(it, "gid")))
                                recipe_read_id(y, v, "gid", &gr->gid);
                        else
                                yread_fail(y, it->pos, "groups item: missing required key 'gid'");
                        gr->variants = recipe_item_variants(y, r, it);
                        for (size_t j = 0; j + 1 < r->n_groups; j++) {
                                const struct recipe_group *o = &r->groups[j];
                                if (gr->name && o->name && streq(o->name, gr->name))
                                        yread_fail(y, it->pos,
                                                   "group '%s' is declared twice (first "
                                                   "at line %u)",
                                                   gr->name, o->pos.line);
                                else if (ynode_map_get(it, "gid") && o->gid == gr->gid)
                                        yread_fail(y, ynode_map_get(it, "gid")->pos,
                                                   "gid %u is used by group '%s' too (line %u)",
                                                   gr->gid, o->name ? o->name : "?", o->pos.line);
                        }
                }
        }
        const struct ynode *u = ynode_map_get(n, "users");
        if (u && yread_seq(y, u, "users", RECIPE_MAX_ITEMS)) {
                r->users = yread_calloc(y, u->n_items ? u->n_items : 1, sizeof(*r->users));
                for (size_t i = 0; r->users && i < u->n_items; i++) {
                        const struct ynode *it = u->items[i];
                        struct recipe_user *us = &r->users[r->n_users++];
                        us->pos = it->pos;
                        us->gid = RECIPE_ID_UNSET;
                        us->variants = RECIPE_ALL_VARIANTS;
                        if (!yread_map(y, it, "users item", ukeys))
                                continue;
                        const struct ynode *v;
                        if ((v = ynode_map_get(it, "name"))) {
                                us->name = yread_string(y, v, "name");
                                if (us->name &&
                                    !recipe_name_ok(us->name, "abcdefghijklmnopqrstuvwxyz_",
                                                    LOWER_DIGITS "_-", 32))
                                        yread_fail(y, v->pos,
                                                   "user name '%s': use [a-z_][a-z0-9_-]*",
                                                   us->name);
                        } else
                                yread_fail(y, it->pos, "users item: missing required key 'name'");
                        if ((v = ynode_map_get(it, "uid")))
                                recipe_read_id(y, v, "uid", &us->uid);
                        else
                                yread_fail(y, it->pos, "users item: missing required key 'uid'");
                        if ((v = ynode_map_get(it, "gid")))
                                recipe_read_id(y, v, "gid", &us->gid);
                        us->home = (v = ynode_map_get(it, "home")) ? recipe_read_path(y, v, "home")
                                                                   : yread_strdup(y, "/");
                        us->shell = (v = ynode_map_get(it, "shell"))
                                            ? recipe_read_path(y, v, "shell")
                                            : yread_strdup(y, "/sbin/nologin");
                        us->variants = recipe_item_variants(y, r, it);
                        for (size_t j = 0; j + 1 < r->n_users; j++) {
                                const struct recipe_user *o = &r->users[j];
                                if (us->name && o->name && streq(o->name, us->name))
                                        yread_fail(y, it->pos,
                                                   "user '%s' is declared twice (first "
                                                   "at line %u)",
                                                   us->name, o->pos.line);
                                else if (ynode_map_get(it, "uid") && o->uid == us->uid)
                                        yread_fail(y, ynode_map_get(it, "uid")->pos,
                                                   "uid %u is used by user '%s' too (line %u)",
                                                   us->uid, o->name ? o->name : "?", o->pos.line);
                        }
                }
        }
        /* Every user's primary group must be declared, so /etc/group is complete. */
        for (size_t i = 0; i < r->n_users; i++) {
                struct recipe_user *us = &r->users[i];
                uint32_t gid = us->gid == RECIPE_ID_UNSET ? us->uid : us->gid;
                bool found = gid == 0;
                for (size_t j = 0; j < r->n_groups; j++)
                        found = found || r->groups[j].gid == gid;
                if (!found && us->name)
                        yread_fail(y, us->pos,
                                   "user '%s': group %u is not declared; add { name: "
                                   "%s, gid: %u } to accounts.groups",
                                   us->name, gid, us->name, gid);
                if (us->gid == RECIPE_ID_UNSET)
                        us->gid = us->uid;
        }
}

void recipe_walk_files(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "path",    "type",   "mode",     "uid", "gid",
                                            "content", "target", "variants", NULL };
        if (!yread_seq(y, n, "files", RECIPE_MAX_ITEMS))
                return;
        r->files = yread_calloc(y, n->n_items ? n->n_items : 1, sizeof(*r->files));
        if (!r->files)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                const struct ynode *it = n->items[i];
                struct recipe_file *f = &r->files[r->n_files++];
                f->pos = it->pos;
                f->mode = RECIPE_MODE_UNSET;
                f->uid = f->gid = RECIPE_ID_UNSET;
                f->variants = RECIPE_ALL_VARIANTS;
                if (!yread_map(y, it, "files item", keys))
                        continue;
                const struct ynode *v;
                if ((v = ynode_map_get(it, "path")))
                        f->path = recipe_read_path(y, v, "path");
                else
                        yread_fail(y, it->pos, "files item: missing required key 'path'");
                f->type = RECIPE_FILE_REGULAR;
                if ((v = ynode_map_get(it, "type"))) {
                        _cleanup_free_ char *t = yread_string(y, v, "type");
                        if (t && streq(t, "dir"))
                                f->type = RECIPE_FILE_DIR;
                        else if (t && streq(t, "symlink"))
                                f->type = RECIPE_FILE_SYMLINK;
                        else if (t && !streq(t, "file"))
                                yread_fail(y, v->pos, "type: '%s' is not one of file, dir, symlink",
                                           t);
                }
                if ((v = ynode_map_get(it, "mode")))
                        recipe_read_mode(y, v, "mode", &f->mode);
                if ((v = ynode_map_get(it, "uid")))
                        recipe_read_id(y, v, "uid", &f->uid);
                if ((v = ynode_map_get(it, "gid")))
                        recipe_read_id(y, v, "gid", &f->gid);
                if ((v = ynode_map_get(it, "content"))) {
                        if (f->type != RECIPE_FILE_REGULAR)
                                yread_fail(y, v->pos, "content: only regular files have content");
                        else if (v->type != YNODE_SCALAR)
                                yread_fail(y, v->pos, "content: expected a string, got %s",
                                           ynode_type_name(v));
                        else {
                                f->content = yread_calloc(y, v->len + 1, 1);
                                if (f->content) {
                                        memcpy(f->content, v->value, v->len + 1);
                                        f->content_len = v->len;
                                }
                        }
                }
                v = ynode_map_get(it, "target");
                if (f->type == RECIPE_FILE_SYMLINK) {
                        if (v)
                                f->target = yread_string(y, v, "target");
                        else
                                yread_fail(y, it->pos, "files item: a symlink needs 'target'");
                } else if (v)
                        yread_fail(y, v->pos,
                                   "target: only symlinks have a target (add type: "
                                   "symlink)");
                f->variants = recipe_item_variants(y, r, it);
        }
}

/* identity: { debian: BOOL, debian-version: TEXT, os-release: { KEY: VALUE } } */
void recipe_walk_identity(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "debian", "debian-version", "os-release", NULL };
        struct recipe_identity *id = &r->identity;
        id->pos = n->pos;
        if (!yread_map(y, n, "identity", keys))
                return;
        const struct ynode *v;
        if ((v = ynode_map_get(n, "debian"))) {
                bool on;
                if (yread_bool(y, v, "debian", &on))
                        id->debian = on;
        }
        if ((v = ynode_map_get(n, "debian-version"))) {
                id->debian_version = yread_string(y, v, "debian-version");
                const char *s = id->debian_version;
                bool ok = s && *s && strlen(s) <= 64;
                for (; ok && *s; s++)
                        ok = (unsigned char)*s > ' ' && *s != 0x7f;
                if (id->debian_version && !ok)
                        yread_fail(y, v->pos,
                                   "debian-version: '%s' must be one word of at most 64 "
                                   "characters, like \"12.12\"",
                                   id->debian_version);
        }
        if ((v = ynode_map_get(n, "os-release")) &&
            recipe_read_kv(y, v, "os-release", &id->os_release, &id->n_os_release))
                for (size_t i = 0; i < id->n_os_release; i++) {
                        const struct recipe_kv *kv = &id->os_release[i];
                        const struct recipe_pos pos = v->items[2 * i]->pos;
                        if (!recipe_name_ok(kv->key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", 64))
                                yread_fail(y, pos,
                                           "os-release: '%s' is not a key like PRETTY_NAME "
                                           "([A-Z][A-Z0-9_]*)",
                                           kv->key);
                        for (const char *c = kv->value; *c; c++)
                                if ((unsigned char)*c < ' ' || *c == 0x7f) {
                                        yread_fail(y, v->items[2 * i + 1]->pos,
                                                   "os-release: the value of %s holds a control "
                                                   "character; values are one line",
                                                   kv->key);
                                        break;
                                }
                }
}

struct written_path {
        const char *path;
        struct recipe_pos pos;
        recipe_variant_mask mask;
        const char *what;
};

static int written_path_cmp(const void *a, const void *b)
{
        const struct written_path *x = a, *y = b;
        int r = strcmp(x->path, y->path);
        if (r)
                return r;
        if (x->pos.line != y->pos.line)
                return x->pos.line < y->pos.line ? -1 : 1;
        return x->pos.column < y->pos.column ? -1 : x->pos.column > y->pos.column;
}

/* Two items writing the same path in one variant. */
void recipe_check_destinations(struct yread *y, const struct recipe *r,
                               struct recipe_pos accounts_pos, bool accounts)
{
        size_t n = 0, cap = 0;
        _cleanup_free_ struct written_path *d = NULL;
#define ADD_DEST(p, ps, m, w)                                                                      \
        do {                                                                                       \
                if (!(p))                                                                          \
                        break;                                                                     \
                if (GROW(d, cap, n + 1) < 0) {                                                     \
                        yread_oom(y);                                                              \
                        return;                                                                    \
                }                                                                                  \
                d[n++] = (struct written_path){ (p), (ps), (m), (w) };                             \
        } while (0)
        for (size_t i = 0; i < r->n_utilities; i++) {
                const struct recipe_utility *u = &r->utilities[i];
                for (size_t k = 0; k < u->n_files; k++)
                        /* A directory or pattern pick may well share its destination with
                         * another one; what lands twice is found when it is placed. */
                        if (!u->files[k].glob)
                                ADD_DEST(u->files[k].dest, u->files[k].pos, u->variants,
                                         "a utility");
                ADD_DEST(u->bundle, u->pos, u->variants, "a certificates item");
        }
        for (size_t i = 0; i < r->n_programs; i++)
                ADD_DEST(r->programs[i].dest, r->programs[i].pos, r->programs[i].variants,
                         "a program");
        if (r->identity.debian_version)
                ADD_DEST("/etc/debian_version", r->identity.pos, RECIPE_ALL_VARIANTS,
                         "identity: debian-version");
        if (r->identity.n_os_release)
                ADD_DEST("/etc/os-release", r->identity.pos, RECIPE_ALL_VARIANTS,
                         "identity: os-release");
        for (size_t i = 0; i < r->n_artifacts; i++)
                ADD_DEST(r->artifacts[i].dest, r->artifacts[i].pos, r->artifacts[i].variants,
                         "an artifact");
        for (size_t i = 0; i < r->n_files; i++)
                ADD_DEST(r->files[i].path, r->files[i].pos, r->files[i].variants, "a files item");
        if (accounts) {
                ADD_DEST("/etc/passwd", accounts_pos, RECIPE_ALL_VARIANTS, "accounts");
                ADD_DEST("/etc/group", accounts_pos, RECIPE_ALL_VARIANTS, "accounts");
        }
#undef ADD_DEST
        if (n < 2)
                return;
        qsort(d, n, sizeof(*d), written_path_cmp);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n && streq(d[i].path, d[j].path); j++) {
                        recipe_variant_mask both = d[i].mask & d[j].mask;
                        if (!both)
                                continue;
                        int v = __builtin_ctz(both);
                        const struct written_path *later =
                                written_path_cmp(&d[i], &d[j]) < 0 ? &d[j] : &d[i];
                        const struct written_path *first = later == &d[j] ? &d[i] : &d[j];
                        yread_fail(y, later->pos,
                                   "'%s' is written twice in variant %s: by %s here and by %s at "
                                   "line %u",
                                   d[i].path, v < (int)r->n_variants ? r->variants[v].name : "?",
                                   later->what, first->what, first->pos.line);
                }
}
