/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recipe schema 1: the walk over the YAML node tree into struct recipe, with every check of
 * DESIGN.md §2. The walk never stops at the first problem: each check reports through
 * yread_fail() and the walk goes on, so one run shows every error in the file (up to
 * YREAD_MAX_ERRORS).
 */
#include <ctype.h>
#include <libgen.h>
#include <limits.h>

#include "recipe-internal.h"
#include "yamlread.h"
#include "tree/tree.h"

#define RECIPE_MAX_ITEMS 10000
#define RECIPE_MAX_NAME  128

static bool get_id(struct yread *y, const struct ynode *n, const char *what, uint32_t *ret)
{
        uint64_t v;
        if (!yread_uint(y, n, what, UINT32_MAX - 1, &v))
                return false;
        *ret = (uint32_t)v;
        return true;
}

static bool get_mode(struct yread *y, const struct ynode *n, const char *what, int *ret)
{
        if (n->type != YNODE_SCALAR) {
                yread_fail(y, n->pos, "%s: expected an octal string like \"0755\", got %s", what,
                           ynode_type_name(n));
                return false;
        }
        if (n->plain) {
                yread_fail(y, n->pos, "%s: write the mode as a quoted octal string, e.g. \"0%s\"",
                           what, n->value[0] == '0' ? n->value + 1 : n->value);
                return false;
        }
        size_t len = n->len;
        bool ok = len >= 3 && len <= 5;
        unsigned v = 0;
        for (size_t i = 0; ok && i < len; i++) {
                if (n->value[i] < '0' || n->value[i] > '7')
                        ok = false;
                else
                        v = v * 8 + (unsigned)(n->value[i] - '0');
        }
        if (!ok || v > 07777) {
                yread_fail(y, n->pos, "%s: '%s' is not an octal mode like \"0755\"", what,
                           n->value);
                return false;
        }
        *ret = (int)v;
        return true;
}

static char *get_path(struct yread *y, const struct ynode *n, const char *what)
{
        _cleanup_free_ char *s = yread_string(y, n, what);
        if (!s)
                return NULL;
        if (s[0] != '/') {
                yread_fail(y, n->pos, "%s: '%s' must be an absolute path", what, s);
                return NULL;
        }
        if (strlen(s) >= TREE_PATH_MAX) {
                yread_fail(y, n->pos, "%s: path longer than %d bytes", what, TREE_PATH_MAX - 1);
                return NULL;
        }
        _cleanup_free_ char *norm = NULL;
        int r = tree_path_normalize(s, &norm);
        if (r == -ENOMEM) {
                yread_oom(y);
                return NULL;
        }
        if (r < 0) {
                yread_fail(y, n->pos, "%s: '%s' contains '..', which is not allowed", what, s);
                return NULL;
        }
        if (!streq(norm, s)) {
                yread_fail(y, n->pos, "%s: '%s' is not normalised; write '%s'", what, s, norm);
                return NULL;
        }
        return steal_pointer(&s);
}

static bool get_kv(struct yread *y, const struct ynode *n, const char *what, struct recipe_kv **ret,
                   size_t *ret_n)
{
        if (n->type != YNODE_MAPPING) {
                yread_fail(y, n->pos, "%s: expected a mapping, got %s", what, ynode_type_name(n));
                return false;
        }
        size_t count = n->n_items / 2;
        struct recipe_kv *kv = yread_calloc(y, count ? count : 1, sizeof(*kv));
        if (!kv)
                return false;
        bool ok = true;
        for (size_t i = 0; i < count; i++) {
                const struct ynode *k = n->items[2 * i], *v = n->items[2 * i + 1];
                kv[i].key = yread_string(y, k, what);
                kv[i].value = yread_string(y, v, what);
                if (!kv[i].key || !kv[i].value)
                        ok = false;
                for (size_t j = 0; kv[i].key && j < i; j++)
                        if (kv[j].key && streq(kv[j].key, kv[i].key)) {
                                yread_fail(y, k->pos, "duplicate key '%s' in %s (first at line %u)",
                                           kv[i].key, what, n->items[2 * j]->pos.line);
                                ok = false;
                        }
        }
        *ret = kv;
        *ret_n = count;
        return ok;
}

static bool name_ok(const char *s, const char *first, const char *rest, size_t max)
{
        size_t len = strlen(s);
        if (len == 0 || len > max || !strchr(first, s[0]))
                return false;
        for (const char *p = s + 1; *p; p++)
                if (!strchr(rest, *p))
                        return false;
        return true;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"

static bool variants_mask(struct yread *y, struct recipe *r, const struct ynode *n,
                          recipe_variant_mask *ret)
{
        if (!yread_seq(y, n, "variants", RECIPE_MAX_ITEMS))
                return false;
        recipe_variant_mask m = 0;
        for (size_t i = 0; i < n->n_items; i++) {
                _cleanup_free_ char *name = yread_string(y, n->items[i], "variants");
                if (!name)
                        return false;
                int idx = recipe_variant_index(r, name);
                if (idx < 0) {
                        _cleanup_free_ char *declared = NULL;
                        size_t len = 0;
                        FILE *f = open_memstream(&declared, &len);
                        if (!f)
                                return yread_oom(y);
                        for (size_t v = 0; v < r->n_variants; v++)
                                fprintf(f, "%s%s", v ? ", " : "", r->variants[v].name);
                        if (fclose(f) != 0)
                                return yread_oom(y);
                        yread_fail(y, n->items[i]->pos, "unknown variant '%s' (declared: %s)", name,
                                   declared ? declared : "");
                        return false;
                }
                m |= (recipe_variant_mask)1 << idx;
        }
        if (m == 0) {
                yread_fail(y, n->pos, "variants: an empty list puts the item in no variant");
                return false;
        }
        *ret = m;
        return true;
}

/* The item's `variants:`, or every variant. */
static recipe_variant_mask item_variants(struct yread *y, struct recipe *r,
                                         const struct ynode *item)
{
        const struct ynode *v = ynode_map_get(item, "variants");
        recipe_variant_mask m = RECIPE_ALL_VARIANTS;
        if (v && !variants_mask(y, r, v, &m))
                return RECIPE_ALL_VARIANTS;
        return m;
}

static void parse_sources(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "name",    "type",    "url",      "suite", "components",
                                            "keyring", "trusted", "variants", NULL };
        if (!yread_seq(y, n, "sources", RECIPE_MAX_ITEMS))
                return;
        r->sources = yread_calloc(y, n->n_items ? n->n_items : 1, sizeof(*r->sources));
        if (!r->sources)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                const struct ynode *it = n->items[i];
                struct recipe_source *s = &r->sources[r->n_sources++];
                s->pos = it->pos;
                s->variants = RECIPE_ALL_VARIANTS;
                if (!yread_map(y, it, "sources item", keys))
                        continue;
                const struct ynode *v;
                if ((v = ynode_map_get(it, "name"))) {
                        s->name = yread_string(y, v, "name");
                        if (s->name &&
                            !name_ok(s->name, LOWER_DIGITS, LOWER_DIGITS "._-", RECIPE_MAX_NAME))
                                yread_fail(y, v->pos, "source name '%s': use [a-z0-9][a-z0-9._-]*",
                                           s->name);
                        for (size_t j = 0; s->name && j + 1 < r->n_sources; j++)
                                if (r->sources[j].name && streq(r->sources[j].name, s->name))
                                        yread_fail(y, v->pos,
                                                   "source '%s' is declared twice (first "
                                                   "at line %u)",
                                                   s->name, r->sources[j].pos.line);
                } else
                        yread_fail(y, it->pos, "sources item: missing required key 'name'");
                if ((v = ynode_map_get(it, "type"))) {
                        s->type = yread_string(y, v, "type");
                        if (s->type && !streq(s->type, "deb"))
                                yread_fail(y, v->pos, "type: '%s' is not supported; use deb",
                                           s->type);
                } else
                        s->type = yread_strdup(y, "deb");
                if ((v = ynode_map_get(it, "url"))) {
                        s->url = yread_string(y, v, "url");
                        if (s->url && !streq(s->url, "apt") && !startswith(s->url, "http://") &&
                            !startswith(s->url, "https://") && !startswith(s->url, "file://"))
                                yread_fail(y, v->pos,
                                           "url: '%s' must be 'apt', http://, https:// or file://",
                                           s->url);
                } else
                        yread_fail(y, it->pos, "sources item: missing required key 'url'");
                if ((v = ynode_map_get(it, "suite")))
                        s->suite = yread_string(y, v, "suite");
                else
                        yread_fail(y, it->pos, "sources item: missing required key 'suite'");
                if ((v = ynode_map_get(it, "components")))
                        s->components =
                                yread_strv(y, v, "components", RECIPE_MAX_ITEMS, yread_string);
                else {
                        s->components = yread_calloc(y, 2, sizeof(char *));
                        if (s->components)
                                s->components[0] = yread_strdup(y, "main");
                }
                if ((v = ynode_map_get(it, "trusted")))
                        yread_bool(y, v, "trusted", &s->trusted);
                if ((v = ynode_map_get(it, "keyring")))
                        s->keyring = get_path(y, v, "keyring");
                if (s->trusted && s->url && !startswith(s->url, "file://"))
                        yread_fail(y, ynode_map_get(it, "trusted")->pos,
                                   "trusted: true is allowed only for file:// sources; give a "
                                   "keyring for %s",
                                   s->url);
                else if (!s->trusted && !ynode_map_get(it, "keyring"))
                        yread_fail(y, it->pos,
                                   "sources item: missing required key 'keyring' (or "
                                   "trusted: true for a local file:// mirror)");
                s->variants = item_variants(y, r, it);
        }
}

static void parse_utilities(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "package", "files", "variants", NULL };
        if (!yread_seq(y, n, "utilities", RECIPE_MAX_ITEMS))
                return;
        r->utilities = yread_calloc(y, n->n_items ? n->n_items : 1, sizeof(*r->utilities));
        if (!r->utilities)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                const struct ynode *it = n->items[i];
                struct recipe_utility *u = &r->utilities[r->n_utilities++];
                u->pos = it->pos;
                u->variants = RECIPE_ALL_VARIANTS;
                if (!yread_map(y, it, "utilities item", keys))
                        continue;
                const struct ynode *v;
                if ((v = ynode_map_get(it, "package")))
                        u->package = yread_string(y, v, "package");
                else
                        yread_fail(y, it->pos, "utilities item: missing required key 'package'");
                v = ynode_map_get(it, "files");
                if (!v)
                        yread_fail(y, it->pos,
                                   "utilities item: missing required key 'files' (a "
                                   "mapping from package path to image path)");
                else if (v->type != YNODE_MAPPING || v->n_items == 0)
                        yread_fail(y, v->pos,
                                   "files: expected a non-empty mapping "
                                   "{ /path/in/package: /path/in/image }");
                else {
                        size_t count = v->n_items / 2;
                        u->files = yread_calloc(y, count, sizeof(*u->files));
                        for (size_t k = 0; u->files && k < count; k++) {
                                struct recipe_pick *p = &u->files[u->n_files++];
                                p->pos = v->items[2 * k + 1]->pos;
                                p->src = get_path(y, v->items[2 * k], "files");
                                p->dest = get_path(y, v->items[2 * k + 1], "files");
                        }
                }
                u->variants = item_variants(y, r, it);
        }
}

static void parse_packages(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "name", "variants", NULL };
        if (!yread_seq(y, n, "packages", RECIPE_MAX_ITEMS))
                return;
        r->packages = yread_calloc(y, n->n_items ? n->n_items : 1, sizeof(*r->packages));
        if (!r->packages)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                const struct ynode *it = n->items[i];
                struct recipe_package *p = &r->packages[r->n_packages++];
                p->pos = it->pos;
                p->variants = RECIPE_ALL_VARIANTS;
                if (it->type == YNODE_SCALAR) {
                        p->name = yread_string(y, it, "packages");
                        continue;
                }
                if (!yread_map(y, it, "packages item", keys))
                        continue;
                const struct ynode *v = ynode_map_get(it, "name");
                if (v)
                        p->name = yread_string(y, v, "name");
                else
                        yread_fail(y, it->pos, "packages item: missing required key 'name'");
                p->variants = item_variants(y, r, it);
        }
}

static void parse_artifacts(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "src", "dest",   "mode",     "uid",
                                            "gid", "sha256", "variants", NULL };
        if (!yread_seq(y, n, "artifacts", RECIPE_MAX_ITEMS))
                return;
        r->artifacts = yread_calloc(y, n->n_items ? n->n_items : 1, sizeof(*r->artifacts));
        if (!r->artifacts)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                const struct ynode *it = n->items[i];
                struct recipe_artifact *a = &r->artifacts[r->n_artifacts++];
                a->pos = it->pos;
                a->mode = RECIPE_MODE_UNSET;
                a->uid = a->gid = RECIPE_ID_UNSET;
                a->variants = RECIPE_ALL_VARIANTS;
                if (!yread_map(y, it, "artifacts item", keys))
                        continue;
                const struct ynode *v;
                if ((v = ynode_map_get(it, "src")))
                        a->src = yread_string(y, v, "src");
                else
                        yread_fail(y, it->pos, "artifacts item: missing required key 'src'");
                if ((v = ynode_map_get(it, "dest")))
                        a->dest = get_path(y, v, "dest");
                else
                        yread_fail(y, it->pos, "artifacts item: missing required key 'dest'");
                if ((v = ynode_map_get(it, "mode")))
                        get_mode(y, v, "mode", &a->mode);
                if ((v = ynode_map_get(it, "uid")))
                        get_id(y, v, "uid", &a->uid);
                if ((v = ynode_map_get(it, "gid")))
                        get_id(y, v, "gid", &a->gid);
                if ((v = ynode_map_get(it, "sha256"))) {
                        a->sha256 = yread_string(y, v, "sha256");
                        bool ok = a->sha256 && strlen(a->sha256) == 64;
                        for (const char *p = a->sha256; ok && *p; p++)
                                ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
                        if (a->sha256 && !ok)
                                yread_fail(y, v->pos, "sha256: expected 64 lower-case hex digits");
                }
                a->variants = item_variants(y, r, it);
        }
}

static void parse_accounts(struct yread *y, struct recipe *r, const struct ynode *n)
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
                                if (gr->name && !name_ok(gr->name, "abcdefghijklmnopqrstuvwxyz_",
                                                         LOWER_DIGITS "_-", 32))
                                        yread_fail(y, v->pos,
                                                   "group name '%s': use [a-z_][a-z0-9_-]*",
                                                   gr->name);
                        } else
                                yread_fail(y, it->pos, "groups item: missing required key 'name'");
                        if ((v = ynode_map_get(it, "gid")))
                                get_id(y, v, "gid", &gr->gid);
                        else
                                yread_fail(y, it->pos, "groups item: missing required key 'gid'");
                        gr->variants = item_variants(y, r, it);
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
                                if (us->name && !name_ok(us->name, "abcdefghijklmnopqrstuvwxyz_",
                                                         LOWER_DIGITS "_-", 32))
                                        yread_fail(y, v->pos,
                                                   "user name '%s': use [a-z_][a-z0-9_-]*",
                                                   us->name);
                        } else
                                yread_fail(y, it->pos, "users item: missing required key 'name'");
                        if ((v = ynode_map_get(it, "uid")))
                                get_id(y, v, "uid", &us->uid);
                        else
                                yread_fail(y, it->pos, "users item: missing required key 'uid'");
                        if ((v = ynode_map_get(it, "gid")))
                                get_id(y, v, "gid", &us->gid);
                        us->home = (v = ynode_map_get(it, "home")) ? get_path(y, v, "home")
                                                                   : yread_strdup(y, "/");
                        us->shell = (v = ynode_map_get(it, "shell"))
                                            ? get_path(y, v, "shell")
                                            : yread_strdup(y, "/sbin/nologin");
                        us->variants = item_variants(y, r, it);
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

static void parse_files(struct yread *y, struct recipe *r, const struct ynode *n)
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
                        f->path = get_path(y, v, "path");
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
                        get_mode(y, v, "mode", &f->mode);
                if ((v = ynode_map_get(it, "uid")))
                        get_id(y, v, "uid", &f->uid);
                if ((v = ynode_map_get(it, "gid")))
                        get_id(y, v, "gid", &f->gid);
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
                f->variants = item_variants(y, r, it);
        }
}

static bool signal_name_ok(const char *s)
{
        static const char *const names[] = {
                "SIGHUP",  "SIGINT",  "SIGQUIT",  "SIGILL",    "SIGTRAP", "SIGABRT",  "SIGBUS",
                "SIGFPE",  "SIGKILL", "SIGUSR1",  "SIGSEGV",   "SIGUSR2", "SIGPIPE",  "SIGALRM",
                "SIGTERM", "SIGCHLD", "SIGCONT",  "SIGSTOP",   "SIGTSTP", "SIGTTIN",  "SIGTTOU",
                "SIGURG",  "SIGXCPU", "SIGXFSZ",  "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",
                "SIGPWR",  "SIGSYS",  "SIGRTMIN", "SIGRTMAX",  NULL,
        };
        for (const char *const *p = names; *p; p++)
                if (streq(*p, s))
                        return true;
        return false;
}

static bool env_name_ok(const char *s)
{
        return name_ok(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_",
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", 256);
}

/* Parses a run: block (the recipe's or a variant's override) into *run. */
static void parse_run(struct yread *y, struct recipe *r, const struct ynode *n, const char *what,
                      struct recipe_run *run)
{
        static const char *const keys[] = { "user",      "entrypoint", "cmd",         "workdir",
                                            "env",       "labels",     "stop-signal", "init",
                                            "read-only", "writable",   "require-env", NULL };
        run->read_only = -1;
        if (!yread_map(y, n, what, keys))
                return;
        const struct ynode *v;
        if ((v = ynode_map_get(n, "user"))) {
                run->user = yread_string(y, v, "user");
                if (run->user && !isdigit((unsigned char)run->user[0])) {
                        bool found = false;
                        for (size_t i = 0; i < r->n_users; i++)
                                found = found || streq_ptr(r->users[i].name, run->user);
                        if (!found && !streq(run->user, "root"))
                                yread_fail(y, v->pos,
                                           "user: '%s' is not declared under "
                                           "accounts.users",
                                           run->user);
                }
        }
        if ((v = ynode_map_get(n, "entrypoint"))) {
                run->entrypoint = yread_strv(y, v, "entrypoint", RECIPE_MAX_ITEMS, yread_string);
                run->has_entrypoint = true;
        }
        if ((v = ynode_map_get(n, "cmd"))) {
                run->cmd = yread_strv(y, v, "cmd", RECIPE_MAX_ITEMS, yread_string);
                run->has_cmd = true;
        }
        if ((v = ynode_map_get(n, "workdir")))
                run->workdir = get_path(y, v, "workdir");
        if ((v = ynode_map_get(n, "env"))) {
                run->has_env = true;
                if (get_kv(y, v, "env", &run->env, &run->n_env))
                        for (size_t i = 0; i < run->n_env; i++)
                                if (!env_name_ok(run->env[i].key))
                                        yread_fail(y, v->items[2 * i]->pos,
                                                   "env: '%s' is not a valid variable name",
                                                   run->env[i].key);
        }
        if ((v = ynode_map_get(n, "labels"))) {
                run->has_labels = true;
                get_kv(y, v, "labels", &run->labels, &run->n_labels);
        }
        if ((v = ynode_map_get(n, "stop-signal"))) {
                run->stop_signal = yread_string(y, v, "stop-signal");
                if (run->stop_signal && !signal_name_ok(run->stop_signal))
                        yread_fail(y, v->pos, "stop-signal: '%s' is not a signal name like SIGTERM",
                                   run->stop_signal);
        }
        if ((v = ynode_map_get(n, "init"))) {
                run->init = yread_string(y, v, "init");
                if (run->init && !streq(run->init, "cairn-init"))
                        yread_fail(y, v->pos, "init: '%s' is not supported; use cairn-init",
                                   run->init);
        }
        if ((v = ynode_map_get(n, "read-only"))) {
                bool b;
                if (yread_bool(y, v, "read-only", &b))
                        run->read_only = b;
        }
        if ((v = ynode_map_get(n, "writable"))) {
                run->writable = yread_strv(y, v, "writable", RECIPE_MAX_ITEMS, get_path);
                run->has_writable = true;
        }
        if ((v = ynode_map_get(n, "require-env"))) {
                run->require_env = yread_strv(y, v, "require-env", RECIPE_MAX_ITEMS, yread_string);
                run->has_require_env = true;
                for (size_t i = 0; run->require_env && run->require_env[i]; i++)
                        if (!env_name_ok(run->require_env[i]))
                                yread_fail(y, v->items[i]->pos,
                                           "require-env: '%s' is not a valid variable name",
                                           run->require_env[i]);
        }
}

static bool profile_name_ok(const char *s)
{
        return streq(s, "strict") || streq(s, "dev");
}

static void parse_variants(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "policy", "run", NULL };
        if (!n) {
                r->variants = yread_calloc(y, 2, sizeof(*r->variants));
                if (!r->variants)
                        return;
                const char *names[] = { "dev", "prod" };
                for (size_t i = 0; i < 2; i++) {
                        r->variants[i].name = yread_strdup(y, names[i]);
                        r->variants[i].run.read_only = -1;
                        r->n_variants++;
                }
                return;
        }
        if (n->type != YNODE_MAPPING || n->n_items == 0) {
                yread_fail(y, n->pos, "variants: expected a non-empty mapping of variant names");
                return;
        }
        if (n->n_items / 2 > RECIPE_MAX_VARIANTS) {
                yread_fail(y, n->pos, "variants: at most %d variants", RECIPE_MAX_VARIANTS);
                return;
        }
        r->variants = yread_calloc(y, n->n_items / 2, sizeof(*r->variants));
        if (!r->variants)
                return;
        for (size_t i = 0; i + 1 < n->n_items; i += 2) {
                const struct ynode *k = n->items[i], *v = n->items[i + 1];
                struct recipe_variant *var = &r->variants[r->n_variants++];
                var->pos = k->pos;
                var->run.read_only = -1;
                var->name = yread_string(y, k, "variants");
                if (!var->name)
                        continue;
                if (!name_ok(var->name, "abcdefghijklmnopqrstuvwxyz", LOWER_DIGITS "-", 32))
                        yread_fail(y, k->pos, "variant name '%s': use [a-z][a-z0-9-]*", var->name);
                for (size_t j = 0; j + 1 < r->n_variants; j++)
                        if (streq_ptr(r->variants[j].name, var->name))
                                yread_fail(y, k->pos,
                                           "duplicate key '%s' in variants (first at line "
                                           "%u)",
                                           var->name, r->variants[j].pos.line);
                if (ynode_is_null(v) || !yread_map(y, v, "variant", keys))
                        continue;
                const struct ynode *p = ynode_map_get(v, "policy");
                if (p) {
                        var->policy = yread_string(y, p, "policy");
                        if (var->policy && !profile_name_ok(var->policy))
                                yread_fail(y, p->pos,
                                           "policy: unknown profile '%s'; use strict or "
                                           "dev (tune them under policy:)",
                                           var->policy);
                }
                const struct ynode *run = ynode_map_get(v, "run");
                if (run)
                        parse_run(y, r, run, "variant run", &var->run);
        }
}

static void parse_policy(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "allow-executables", "disable-rules", NULL };
        if (n->type != YNODE_MAPPING) {
                yread_fail(y, n->pos, "policy: expected a mapping of profile names, got %s",
                           ynode_type_name(n));
                return;
        }
        r->policies = yread_calloc(y, n->n_items / 2 + 1, sizeof(*r->policies));
        if (!r->policies)
                return;
        for (size_t i = 0; i + 1 < n->n_items; i += 2) {
                const struct ynode *k = n->items[i], *v = n->items[i + 1];
                struct recipe_policy *p = &r->policies[r->n_policies++];
                p->pos = k->pos;
                p->name = yread_string(y, k, "policy");
                if (!p->name)
                        continue;
                if (!profile_name_ok(p->name))
                        yread_fail(y, k->pos,
                                   "policy: unknown profile '%s'; the profiles are strict "
                                   "and dev",
                                   p->name);
                for (size_t j = 0; j + 1 < r->n_policies; j++)
                        if (streq_ptr(r->policies[j].name, p->name))
                                yread_fail(y, k->pos,
                                           "duplicate key '%s' in policy (first at line "
                                           "%u)",
                                           p->name, r->policies[j].pos.line);
                if (!yread_map(y, v, "policy profile", keys))
                        continue;
                const struct ynode *a = ynode_map_get(v, "allow-executables");
                if (a)
                        p->allow_executables = yread_strv(y, a, "allow-executables",
                                                          RECIPE_MAX_ITEMS, yread_string);
                const struct ynode *d = ynode_map_get(v, "disable-rules");
                if (d)
                        p->disable_rules =
                                yread_strv(y, d, "disable-rules", RECIPE_MAX_ITEMS, yread_string);
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
static void check_destinations(struct yread *y, struct recipe *r, struct recipe_pos accounts_pos,
                               bool accounts)
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
        for (size_t i = 0; i < r->n_utilities; i++)
                for (size_t k = 0; k < r->utilities[i].n_files; k++)
                        ADD_DEST(r->utilities[i].files[k].dest, r->utilities[i].files[k].pos,
                                 r->utilities[i].variants, "a utility");
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

/*
 * Fills r from the YAML tree, reporting every problem into err as
 * "FILE:LINE:COL: error: ...". Returns -EINVAL when any was found. r is partially filled
 * either way and must be released with recipe_free.
 */
static int recipe_walk(const char *file, const struct ynode *root, struct recipe *r,
                       struct cairn_error *err)
{
        static const char *const keys[] = { "recipe",   "name",      "arch",     "epoch",
                                            "sources",  "utilities", "packages", "artifacts",
                                            "accounts", "files",     "run",      "variants",
                                            "policy",   NULL };
        struct yread y = { .file = file, .err = err, .kind = YREAD_AUTHORED };
        r->epoch = -1;
        r->run.read_only = -1;
        if (!yread_map(&y, root, "the recipe", keys))
                return -EINVAL;

        const struct ynode *v = ynode_map_get(root, "recipe");
        uint64_t schema;
        if (!v)
                yread_fail(&y, root->pos,
                           "missing required key 'recipe' (the schema version: "
                           "recipe: 1)");
        else if (yread_uint(&y, v, "recipe", UINT32_MAX, &schema)) {
                if (schema != RECIPE_SCHEMA_VERSION)
                        yread_fail(&y, v->pos,
                                   "recipe: schema version %llu is not supported; this "
                                   "cairn reads version %d",
                                   (unsigned long long)schema, RECIPE_SCHEMA_VERSION);
                r->schema = (unsigned)schema;
        }
        if (!(v = ynode_map_get(root, "name")))
                yread_fail(&y, root->pos, "missing required key 'name'");
        else if ((r->name = yread_string(&y, v, "name")) &&
                 !name_ok(r->name, LOWER_DIGITS, LOWER_DIGITS "._-", RECIPE_MAX_NAME))
                yread_fail(&y, v->pos,
                           "name: '%s' must match [a-z0-9][a-z0-9._-]* (at most %d "
                           "characters)",
                           r->name, RECIPE_MAX_NAME);
        if ((v = ynode_map_get(root, "arch")) && (r->arch = yread_string(&y, v, "arch")) &&
            !name_ok(r->arch, LOWER_DIGITS, LOWER_DIGITS "-", 32))
                yread_fail(&y, v->pos, "arch: '%s' is not a Debian architecture name", r->arch);
        if ((v = ynode_map_get(root, "epoch"))) {
                uint64_t e;
                if (yread_uint(&y, v, "epoch", 253402300799ULL, &e))
                        r->epoch = (int64_t)e;
                r->epoch_pos = v->pos;
        }
        /* Variants first: every item's `variants:` refers to them. */
        parse_variants(&y, r, ynode_map_get(root, "variants"));
        if ((v = ynode_map_get(root, "policy")))
                parse_policy(&y, r, v);
        if ((v = ynode_map_get(root, "accounts")))
                parse_accounts(&y, r, v);
        if ((v = ynode_map_get(root, "sources")))
                parse_sources(&y, r, v);
        if ((v = ynode_map_get(root, "utilities")))
                parse_utilities(&y, r, v);
        if ((v = ynode_map_get(root, "packages")))
                parse_packages(&y, r, v);
        if ((v = ynode_map_get(root, "artifacts")))
                parse_artifacts(&y, r, v);
        if ((v = ynode_map_get(root, "files")))
                parse_files(&y, r, v);
        if ((v = ynode_map_get(root, "run")))
                parse_run(&y, r, v, "run", &r->run);

        if ((r->n_utilities || r->n_packages) && r->n_sources == 0)
                yread_fail(&y, root->pos,
                           "utilities and packages need at least one entry under "
                           "sources:");
        const struct ynode *acc = ynode_map_get(root, "accounts");
        check_destinations(&y, r, acc ? acc->pos : root->pos, r->n_users || r->n_groups);
        return yread_result(&y);
}

/* Refuses input that is not text before libyaml sees it: a clearer message than a scanner
 * error in the middle of binary data. */
static int check_text(const char *name, const char *buf, size_t len, struct cairn_error *err)
{
        unsigned line = 1, col = 1;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)buf[i];
                if (ch == '\n') {
                        line++;
                        col = 1;
                        continue;
                }
                if (ch == 0 || (ch < 0x20 && ch != '\t' && ch != '\r'))
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s:%u:%u: error: control character 0x%02x: "
                                               "this is not a YAML text file",
                                               name, line, col, ch);
                if (ch >= 0x80) {
                        /* libyaml reports bad UTF-8 by byte offset only; give the position */
                        size_t n = ch >= 0xf0 && ch <= 0xf4  ? 3
                                   : ch >= 0xe0              ? 2
                                   : ch >= 0xc2 && ch < 0xe0 ? 1
                                                             : 0;
                        bool ok = n > 0 && i + n < len;
                        for (size_t k = 1; ok && k <= n; k++)
                                ok = ((unsigned char)buf[i + k] & 0xc0) == 0x80;
                        if (!ok)
                                return cairn_error_add(
                                        err, CAIRN_EXIT_USAGE, -EINVAL,
                                        "%s:%u:%u: error: invalid UTF-8 byte 0x%02x: "
                                        "recipes are UTF-8 text",
                                        name, line, col, ch);
                        i += n;
                }
                col++;
        }
        return 0;
}

static void msg_position(const char *m, const char *name, unsigned long *line, unsigned long *col)
{
        size_t n = strlen(name);
        *line = *col = ULONG_MAX;
        /* "FILE: too many errors" has no position: it sorts last */
        if (strncmp(m, name, n) != 0 || m[n] != ':' || !isdigit((unsigned char)m[n + 1]))
                return;
        char *end;
        *line = strtoul(m + n + 1, &end, 10);
        if (*end == ':')
                *col = strtoul(end + 1, NULL, 10);
}

static int msg_cmp(const void *a, const void *b, void *name)
{
        unsigned long la, ca, lb, cb;
        msg_position(*(char *const *)a, name, &la, &ca);
        msg_position(*(char *const *)b, name, &lb, &cb);
        if (la != lb)
                return la < lb ? -1 : 1;
        return ca < cb ? -1 : ca > cb;
}

/* Orders the recipe's messages by position, as a compiler does; "too many errors" (no
 * position) stays last. first is the index of the first message this parse added. */
static void sort_messages(struct cairn_error *err, const char *name, size_t first)
{
        if (!err || err->n_messages <= first + 1)
                return;
        qsort_r(err->messages + first, err->n_messages - first, sizeof(char *), msg_cmp,
                (void *)name);
}

int recipe_parse_buffer(const char *name, const char *buf, size_t len, struct recipe **ret,
                        struct cairn_error *err)
{
        if (len > RECIPE_MAX_BYTES)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EFBIG,
                                       "%s: the recipe is larger than %d bytes", name,
                                       RECIPE_MAX_BYTES);
        int r = check_text(name, buf, len, err);
        if (r < 0)
                return r;
        _cleanup_ynode_ struct ynode *root = NULL;
        r = ynode_load(name, buf, len, &root, err);
        if (r < 0)
                return r == -ENODATA ? -EINVAL : r;

        _cleanup_recipe_ struct recipe *rec = calloc(1, sizeof(*rec));
        if (!rec)
                return -ENOMEM;
        rec->path = strdup(name);
        _cleanup_free_ char *copy = strdup(name);
        if (!rec->path || !copy)
                return -ENOMEM;
        rec->dir = strdup(dirname(copy));
        if (!rec->dir)
                return -ENOMEM;
        size_t first = err ? err->n_messages : 0;
        r = recipe_walk(name, root, rec, err);
        if (r < 0) {
                sort_messages(err, name, first);
                return r;
        }
        *ret = steal_pointer(&rec);
        return 0;
}

int recipe_parse_file(const char *path, struct recipe **ret, struct cairn_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_file_bounded(path, RECIPE_MAX_BYTES, &buf, &len);
        if (r == -EFBIG)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "%s: the recipe is larger than %d bytes", path,
                                       RECIPE_MAX_BYTES);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: cannot read the recipe: %s", path,
                                         strerror(-r));
        return recipe_parse_buffer(path, buf, len, ret, err);
}
