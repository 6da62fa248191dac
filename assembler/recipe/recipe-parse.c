/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recipe schema 1: the walk over the YAML node tree into struct recipe, with every check of
 * DESIGN.md §2. The walk never stops at the first problem: each check reports through fail()
 * and the walk goes on, so one run shows every error in the file (up to RECIPE_MAX_ERRORS).
 */
#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>

#include "recipe-internal.h"
#include "tree/tree.h"

#define RECIPE_MAX_ERRORS 50
#define RECIPE_MAX_ITEMS  10000
#define RECIPE_MAX_NAME   128

struct ctx {
        const char *file;
        struct cairn_error *err;
        unsigned n_errors;
        struct recipe *r;
};

_printf_(3, 4) static void fail(struct ctx *c, struct recipe_pos pos, const char *fmt, ...)
{
        c->n_errors++;
        if (c->n_errors > RECIPE_MAX_ERRORS) {
                if (c->n_errors == RECIPE_MAX_ERRORS + 1)
                        cairn_error_add(c->err, CAIRN_EXIT_USAGE, -EINVAL,
                                        "%s: too many errors, stopping after %d", c->file,
                                        RECIPE_MAX_ERRORS);
                return;
        }
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                msg = NULL;
        cairn_error_add(c->err, CAIRN_EXIT_USAGE, -EINVAL, "%s:%u:%u: error: %s", c->file, pos.line,
                        pos.column, msg ? msg : "out of memory");
}

/* Levenshtein distance, bounded: enough for "did you mean" on short keys. */
static size_t edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > 63 || lb > 63)
                return SIZE_MAX;
        size_t prev[64], cur[64];
        for (size_t j = 0; j <= lb; j++)
                prev[j] = j;
        for (size_t i = 1; i <= la; i++) {
                cur[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
                        size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
                        cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
                }
                memcpy(prev, cur, sizeof(prev));
        }
        return prev[lb];
}

/* Checks that m is a mapping whose keys are known and unique. */
static bool check_map(struct ctx *c, const struct ynode *m, const char *what,
                      const char *const *known)
{
        if (m->type != YNODE_MAPPING) {
                fail(c, m->pos, "%s: expected a mapping, got %s", what, ynode_type_name(m));
                return false;
        }
        for (size_t i = 0; i + 1 < m->n_items; i += 2) {
                const struct ynode *k = m->items[i];
                if (k->type != YNODE_SCALAR) {
                        fail(c, k->pos, "%s: keys must be plain strings", what);
                        continue;
                }
                bool found = false;
                const char *best = NULL;
                size_t best_d = 3;
                for (const char *const *p = known; *p; p++) {
                        if (streq(*p, k->value)) {
                                found = true;
                                break;
                        }
                        size_t d = edit_distance(*p, k->value);
                        if (d < best_d) {
                                best_d = d;
                                best = *p;
                        }
                }
                if (!found) {
                        if (best)
                                fail(c, k->pos, "unknown key '%s' in %s (did you mean '%s'?)",
                                     k->value, what, best);
                        else
                                fail(c, k->pos, "unknown key '%s' in %s", k->value, what);
                }
                for (size_t j = 0; j < i; j += 2) {
                        const struct ynode *o = m->items[j];
                        if (o->type == YNODE_SCALAR && streq(o->value, k->value)) {
                                fail(c, k->pos, "duplicate key '%s' in %s (first at line %u)",
                                     k->value, what, o->pos.line);
                                break;
                        }
                }
        }
        return true;
}

static char *get_str(struct ctx *c, const struct ynode *n, const char *what)
{
        if (n->type != YNODE_SCALAR) {
                fail(c, n->pos, "%s: expected a string, got %s", what, ynode_type_name(n));
                return NULL;
        }
        if (ynode_is_null(n)) {
                fail(c, n->pos, "%s: expected a string, got nothing", what);
                return NULL;
        }
        if (strlen(n->value) != n->len) {
                fail(c, n->pos, "%s: NUL characters are not allowed here", what);
                return NULL;
        }
        char *s = strdup(n->value);
        if (!s)
                fail(c, n->pos, "out of memory");
        return s;
}

static bool get_uint(struct ctx *c, const struct ynode *n, const char *what, uint64_t max,
                     uint64_t *ret)
{
        if (n->type != YNODE_SCALAR || !n->plain || n->len == 0) {
                fail(c, n->pos, "%s: expected a number, got %s", what,
                     n->type == YNODE_SCALAR ? "a string" : ynode_type_name(n));
                return false;
        }
        uint64_t v = 0;
        for (const char *p = n->value; *p; p++) {
                if (!isdigit((unsigned char)*p)) {
                        fail(c, n->pos, "%s: '%s' is not a non-negative integer", what, n->value);
                        return false;
                }
                if (v > (max - (uint64_t)(*p - '0')) / 10) {
                        fail(c, n->pos, "%s: %s is larger than %llu", what, n->value,
                             (unsigned long long)max);
                        return false;
                }
                v = v * 10 + (uint64_t)(*p - '0');
        }
        *ret = v;
        return true;
}

static bool get_bool(struct ctx *c, const struct ynode *n, const char *what, bool *ret)
{
        if (n->type == YNODE_SCALAR && n->plain &&
            (streq(n->value, "true") || streq(n->value, "false"))) {
                *ret = streq(n->value, "true");
                return true;
        }
        fail(c, n->pos, "%s: expected true or false", what);
        return false;
}

static bool get_id(struct ctx *c, const struct ynode *n, const char *what, uint32_t *ret)
{
        uint64_t v;
        if (!get_uint(c, n, what, UINT32_MAX - 1, &v))
                return false;
        *ret = (uint32_t)v;
        return true;
}

static bool get_mode(struct ctx *c, const struct ynode *n, const char *what, int *ret)
{
        if (n->type != YNODE_SCALAR) {
                fail(c, n->pos, "%s: expected an octal string like \"0755\", got %s", what,
                     ynode_type_name(n));
                return false;
        }
        if (n->plain) {
                fail(c, n->pos, "%s: write the mode as a quoted octal string, e.g. \"0%s\"", what,
                     n->value[0] == '0' ? n->value + 1 : n->value);
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
                fail(c, n->pos, "%s: '%s' is not an octal mode like \"0755\"", what, n->value);
                return false;
        }
        *ret = (int)v;
        return true;
}

static char *get_path(struct ctx *c, const struct ynode *n, const char *what)
{
        _cleanup_free_ char *s = get_str(c, n, what);
        if (!s)
                return NULL;
        if (s[0] != '/') {
                fail(c, n->pos, "%s: '%s' must be an absolute path", what, s);
                return NULL;
        }
        if (strlen(s) >= TREE_PATH_MAX) {
                fail(c, n->pos, "%s: path longer than %d bytes", what, TREE_PATH_MAX - 1);
                return NULL;
        }
        _cleanup_free_ char *norm = NULL;
        if (tree_path_normalize(s, &norm) < 0) {
                fail(c, n->pos, "%s: '%s' contains '..', which is not allowed", what, s);
                return NULL;
        }
        if (!streq(norm, s)) {
                fail(c, n->pos, "%s: '%s' is not normalised; write '%s'", what, s, norm);
                return NULL;
        }
        return steal_pointer(&s);
}

static bool check_seq(struct ctx *c, const struct ynode *n, const char *what)
{
        if (n->type != YNODE_SEQUENCE) {
                if (n->type == YNODE_SCALAR)
                        fail(c, n->pos, "%s: expected a list, got a string (write [%s])", what,
                             n->value);
                else
                        fail(c, n->pos, "%s: expected a list, got %s", what, ynode_type_name(n));
                return false;
        }
        if (n->n_items > RECIPE_MAX_ITEMS) {
                fail(c, n->pos, "%s: more than %d items", what, RECIPE_MAX_ITEMS);
                return false;
        }
        return true;
}

/* A list of strings into a NULL-terminated array; NULL after an error. */
static char **get_strv(struct ctx *c, const struct ynode *n, const char *what, bool paths)
{
        if (!check_seq(c, n, what))
                return NULL;
        _cleanup_strv_free_ char **v = calloc(n->n_items + 1, sizeof(char *));
        if (!v)
                return NULL;
        bool ok = true;
        for (size_t i = 0; i < n->n_items; i++) {
                v[i] = paths ? get_path(c, n->items[i], what) : get_str(c, n->items[i], what);
                if (!v[i]) {
                        ok = false;
                        v[i] = strdup("");
                }
        }
        return ok ? steal_pointer(&v) : NULL;
}

static bool get_kv(struct ctx *c, const struct ynode *n, const char *what, struct recipe_kv **ret,
                   size_t *ret_n)
{
        if (n->type != YNODE_MAPPING) {
                fail(c, n->pos, "%s: expected a mapping, got %s", what, ynode_type_name(n));
                return false;
        }
        size_t count = n->n_items / 2;
        struct recipe_kv *kv = calloc(count ? count : 1, sizeof(*kv));
        if (!kv)
                return false;
        bool ok = true;
        for (size_t i = 0; i < count; i++) {
                const struct ynode *k = n->items[2 * i], *v = n->items[2 * i + 1];
                kv[i].key = get_str(c, k, what);
                kv[i].value = get_str(c, v, what);
                if (!kv[i].key || !kv[i].value)
                        ok = false;
                for (size_t j = 0; kv[i].key && j < i; j++)
                        if (kv[j].key && streq(kv[j].key, kv[i].key)) {
                                fail(c, k->pos, "duplicate key '%s' in %s (first at line %u)",
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

static bool variants_mask(struct ctx *c, const struct ynode *n, recipe_variant_mask *ret)
{
        if (!check_seq(c, n, "variants"))
                return false;
        recipe_variant_mask m = 0;
        for (size_t i = 0; i < n->n_items; i++) {
                _cleanup_free_ char *name = get_str(c, n->items[i], "variants");
                if (!name)
                        return false;
                int idx = recipe_variant_index(c->r, name);
                if (idx < 0) {
                        _cleanup_free_ char *declared = NULL;
                        size_t len = 0;
                        FILE *f = open_memstream(&declared, &len);
                        for (size_t v = 0; f && v < c->r->n_variants; v++)
                                fprintf(f, "%s%s", v ? ", " : "", c->r->variants[v].name);
                        if (f)
                                fclose(f);
                        fail(c, n->items[i]->pos, "unknown variant '%s' (declared: %s)", name,
                             declared ? declared : "");
                        return false;
                }
                m |= (recipe_variant_mask)1 << idx;
        }
        if (m == 0) {
                fail(c, n->pos, "variants: an empty list puts the item in no variant");
                return false;
        }
        *ret = m;
        return true;
}

/* The item's `variants:`, or every variant. */
static recipe_variant_mask item_variants(struct ctx *c, const struct ynode *item)
{
        const struct ynode *v = ynode_map_get(item, "variants");
        recipe_variant_mask m = RECIPE_ALL_VARIANTS;
        if (v && !variants_mask(c, v, &m))
                return RECIPE_ALL_VARIANTS;
        return m;
}

static void parse_sources(struct ctx *c, const struct ynode *n)
{
        static const char *const keys[] = { "name",    "type",    "url",      "suite", "components",
                                            "keyring", "trusted", "variants", NULL };
        if (!check_seq(c, n, "sources"))
                return;
        struct recipe *r = c->r;
        r->sources = calloc(n->n_items ? n->n_items : 1, sizeof(*r->sources));
        if (!r->sources)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                const struct ynode *it = n->items[i];
                struct recipe_source *s = &r->sources[r->n_sources++];
                s->pos = it->pos;
                s->variants = RECIPE_ALL_VARIANTS;
                if (!check_map(c, it, "sources item", keys))
                        continue;
                const struct ynode *v;
                if ((v = ynode_map_get(it, "name"))) {
                        s->name = get_str(c, v, "name");
                        if (s->name &&
                            !name_ok(s->name, LOWER_DIGITS, LOWER_DIGITS "._-", RECIPE_MAX_NAME))
                                fail(c, v->pos, "source name '%s': use [a-z0-9][a-z0-9._-]*",
                                     s->name);
                        for (size_t j = 0; s->name && j + 1 < r->n_sources; j++)
                                if (r->sources[j].name && streq(r->sources[j].name, s->name))
                                        fail(c, v->pos,
                                             "source '%s' is declared twice (first "
                                             "at line %u)",
                                             s->name, r->sources[j].pos.line);
                } else
                        fail(c, it->pos, "sources item: missing required key 'name'");
                if ((v = ynode_map_get(it, "type"))) {
                        s->type = get_str(c, v, "type");
                        if (s->type && !streq(s->type, "deb"))
                                fail(c, v->pos, "type: '%s' is not supported; use deb", s->type);
                } else
                        s->type = strdup("deb");
                if ((v = ynode_map_get(it, "url"))) {
                        s->url = get_str(c, v, "url");
                        if (s->url && !streq(s->url, "apt") && !startswith(s->url, "http://") &&
                            !startswith(s->url, "https://") && !startswith(s->url, "file://"))
                                fail(c, v->pos,
                                     "url: '%s' must be 'apt', http://, https:// or file://",
                                     s->url);
                } else
                        fail(c, it->pos, "sources item: missing required key 'url'");
                if ((v = ynode_map_get(it, "suite")))
                        s->suite = get_str(c, v, "suite");
                else
                        fail(c, it->pos, "sources item: missing required key 'suite'");
                if ((v = ynode_map_get(it, "components")))
                        s->components = get_strv(c, v, "components", false);
                else {
                        s->components = calloc(2, sizeof(char *));
                        if (s->components)
                                s->components[0] = strdup("main");
                }
                if ((v = ynode_map_get(it, "trusted")))
                        get_bool(c, v, "trusted", &s->trusted);
                if ((v = ynode_map_get(it, "keyring")))
                        s->keyring = get_path(c, v, "keyring");
                if (s->trusted && s->url && !startswith(s->url, "file://"))
                        fail(c, ynode_map_get(it, "trusted")->pos,
                             "trusted: true is allowed only for file:// sources; give a "
                             "keyring for %s",
                             s->url);
                else if (!s->trusted && !ynode_map_get(it, "keyring"))
                        fail(c, it->pos,
                             "sources item: missing required key 'keyring' (or "
                             "trusted: true for a local file:// mirror)");
                s->variants = item_variants(c, it);
        }
}

static void parse_utilities(struct ctx *c, const struct ynode *n)
{
        static const char *const keys[] = { "package", "files", "variants", NULL };
        if (!check_seq(c, n, "utilities"))
                return;
        struct recipe *r = c->r;
        r->utilities = calloc(n->n_items ? n->n_items : 1, sizeof(*r->utilities));
        if (!r->utilities)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                const struct ynode *it = n->items[i];
                struct recipe_utility *u = &r->utilities[r->n_utilities++];
                u->pos = it->pos;
                u->variants = RECIPE_ALL_VARIANTS;
                if (!check_map(c, it, "utilities item", keys))
                        continue;
                const struct ynode *v;
                if ((v = ynode_map_get(it, "package")))
                        u->package = get_str(c, v, "package");
                else
                        fail(c, it->pos, "utilities item: missing required key 'package'");
                v = ynode_map_get(it, "files");
                if (!v)
                        fail(c, it->pos,
                             "utilities item: missing required key 'files' (a "
                             "mapping from package path to image path)");
                else if (v->type != YNODE_MAPPING || v->n_items == 0)
                        fail(c, v->pos,
                             "files: expected a non-empty mapping "
                             "{ /path/in/package: /path/in/image }");
                else {
                        size_t count = v->n_items / 2;
                        u->files = calloc(count, sizeof(*u->files));
                        for (size_t k = 0; u->files && k < count; k++) {
                                struct recipe_pick *p = &u->files[u->n_files++];
                                p->pos = v->items[2 * k + 1]->pos;
                                p->src = get_path(c, v->items[2 * k], "files");
                                p->dest = get_path(c, v->items[2 * k + 1], "files");
                        }
                }
                u->variants = item_variants(c, it);
        }
}

static void parse_packages(struct ctx *c, const struct ynode *n)
{
        static const char *const keys[] = { "name", "variants", NULL };
        if (!check_seq(c, n, "packages"))
                return;
        struct recipe *r = c->r;
        r->packages = calloc(n->n_items ? n->n_items : 1, sizeof(*r->packages));
        if (!r->packages)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                const struct ynode *it = n->items[i];
                struct recipe_package *p = &r->packages[r->n_packages++];
                p->pos = it->pos;
                p->variants = RECIPE_ALL_VARIANTS;
                if (it->type == YNODE_SCALAR) {
                        p->name = get_str(c, it, "packages");
                        continue;
                }
                if (!check_map(c, it, "packages item", keys))
                        continue;
                const struct ynode *v = ynode_map_get(it, "name");
                if (v)
                        p->name = get_str(c, v, "name");
                else
                        fail(c, it->pos, "packages item: missing required key 'name'");
                p->variants = item_variants(c, it);
        }
}

static void parse_artifacts(struct ctx *c, const struct ynode *n)
{
        static const char *const keys[] = { "src", "dest",   "mode",     "uid",
                                            "gid", "sha256", "variants", NULL };
        if (!check_seq(c, n, "artifacts"))
                return;
        struct recipe *r = c->r;
        r->artifacts = calloc(n->n_items ? n->n_items : 1, sizeof(*r->artifacts));
        if (!r->artifacts)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                const struct ynode *it = n->items[i];
                struct recipe_artifact *a = &r->artifacts[r->n_artifacts++];
                a->pos = it->pos;
                a->mode = RECIPE_MODE_UNSET;
                a->uid = a->gid = RECIPE_ID_UNSET;
                a->variants = RECIPE_ALL_VARIANTS;
                if (!check_map(c, it, "artifacts item", keys))
                        continue;
                const struct ynode *v;
                if ((v = ynode_map_get(it, "src")))
                        a->src = get_str(c, v, "src");
                else
                        fail(c, it->pos, "artifacts item: missing required key 'src'");
                if ((v = ynode_map_get(it, "dest")))
                        a->dest = get_path(c, v, "dest");
                else
                        fail(c, it->pos, "artifacts item: missing required key 'dest'");
                if ((v = ynode_map_get(it, "mode")))
                        get_mode(c, v, "mode", &a->mode);
                if ((v = ynode_map_get(it, "uid")))
                        get_id(c, v, "uid", &a->uid);
                if ((v = ynode_map_get(it, "gid")))
                        get_id(c, v, "gid", &a->gid);
                if ((v = ynode_map_get(it, "sha256"))) {
                        a->sha256 = get_str(c, v, "sha256");
                        bool ok = a->sha256 && strlen(a->sha256) == 64;
                        for (const char *p = a->sha256; ok && *p; p++)
                                ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
                        if (a->sha256 && !ok)
                                fail(c, v->pos, "sha256: expected 64 lower-case hex digits");
                }
                a->variants = item_variants(c, it);
        }
}

static void parse_accounts(struct ctx *c, const struct ynode *n)
{
        static const char *const keys[] = { "groups", "users", NULL };
        static const char *const gkeys[] = { "name", "gid", "variants", NULL };
        static const char *const ukeys[] = {
                "name", "uid", "gid", "home", "shell", "variants", NULL
        };
        if (!check_map(c, n, "accounts", keys))
                return;
        struct recipe *r = c->r;
        const struct ynode *g = ynode_map_get(n, "groups");
        if (g && check_seq(c, g, "groups")) {
                r->groups = calloc(g->n_items ? g->n_items : 1, sizeof(*r->groups));
                for (size_t i = 0; r->groups && i < g->n_items; i++) {
                        const struct ynode *it = g->items[i];
                        struct recipe_group *gr = &r->groups[r->n_groups++];
                        gr->pos = it->pos;
                        gr->variants = RECIPE_ALL_VARIANTS;
                        if (!check_map(c, it, "groups item", gkeys))
                                continue;
                        const struct ynode *v;
                        if ((v = ynode_map_get(it, "name"))) {
                                gr->name = get_str(c, v, "name");
                                if (gr->name && !name_ok(gr->name, "abcdefghijklmnopqrstuvwxyz_",
                                                         LOWER_DIGITS "_-", 32))
                                        fail(c, v->pos, "group name '%s': use [a-z_][a-z0-9_-]*",
                                             gr->name);
                        } else
                                fail(c, it->pos, "groups item: missing required key 'name'");
                        if ((v = ynode_map_get(it, "gid")))
                                get_id(c, v, "gid", &gr->gid);
                        else
                                fail(c, it->pos, "groups item: missing required key 'gid'");
                        gr->variants = item_variants(c, it);
                        for (size_t j = 0; j + 1 < r->n_groups; j++) {
                                const struct recipe_group *o = &r->groups[j];
                                if (gr->name && o->name && streq(o->name, gr->name))
                                        fail(c, it->pos,
                                             "group '%s' is declared twice (first "
                                             "at line %u)",
                                             gr->name, o->pos.line);
                                else if (ynode_map_get(it, "gid") && o->gid == gr->gid)
                                        fail(c, ynode_map_get(it, "gid")->pos,
                                             "gid %u is used by group '%s' too (line %u)", gr->gid,
                                             o->name ? o->name : "?", o->pos.line);
                        }
                }
        }
        const struct ynode *u = ynode_map_get(n, "users");
        if (u && check_seq(c, u, "users")) {
                r->users = calloc(u->n_items ? u->n_items : 1, sizeof(*r->users));
                for (size_t i = 0; r->users && i < u->n_items; i++) {
                        const struct ynode *it = u->items[i];
                        struct recipe_user *us = &r->users[r->n_users++];
                        us->pos = it->pos;
                        us->gid = RECIPE_ID_UNSET;
                        us->variants = RECIPE_ALL_VARIANTS;
                        if (!check_map(c, it, "users item", ukeys))
                                continue;
                        const struct ynode *v;
                        if ((v = ynode_map_get(it, "name"))) {
                                us->name = get_str(c, v, "name");
                                if (us->name && !name_ok(us->name, "abcdefghijklmnopqrstuvwxyz_",
                                                         LOWER_DIGITS "_-", 32))
                                        fail(c, v->pos, "user name '%s': use [a-z_][a-z0-9_-]*",
                                             us->name);
                        } else
                                fail(c, it->pos, "users item: missing required key 'name'");
                        if ((v = ynode_map_get(it, "uid")))
                                get_id(c, v, "uid", &us->uid);
                        else
                                fail(c, it->pos, "users item: missing required key 'uid'");
                        if ((v = ynode_map_get(it, "gid")))
                                get_id(c, v, "gid", &us->gid);
                        us->home = (v = ynode_map_get(it, "home")) ? get_path(c, v, "home")
                                                                   : strdup("/");
                        us->shell = (v = ynode_map_get(it, "shell")) ? get_path(c, v, "shell")
                                                                     : strdup("/sbin/nologin");
                        us->variants = item_variants(c, it);
                        for (size_t j = 0; j + 1 < r->n_users; j++) {
                                const struct recipe_user *o = &r->users[j];
                                if (us->name && o->name && streq(o->name, us->name))
                                        fail(c, it->pos,
                                             "user '%s' is declared twice (first "
                                             "at line %u)",
                                             us->name, o->pos.line);
                                else if (ynode_map_get(it, "uid") && o->uid == us->uid)
                                        fail(c, ynode_map_get(it, "uid")->pos,
                                             "uid %u is used by user '%s' too (line %u)", us->uid,
                                             o->name ? o->name : "?", o->pos.line);
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
                        fail(c, us->pos,
                             "user '%s': group %u is not declared; add { name: "
                             "%s, gid: %u } to accounts.groups",
                             us->name, gid, us->name, gid);
                if (us->gid == RECIPE_ID_UNSET)
                        us->gid = us->uid;
        }
}

static void parse_files(struct ctx *c, const struct ynode *n)
{
        static const char *const keys[] = { "path",    "type",   "mode",     "uid", "gid",
                                            "content", "target", "variants", NULL };
        if (!check_seq(c, n, "files"))
                return;
        struct recipe *r = c->r;
        r->files = calloc(n->n_items ? n->n_items : 1, sizeof(*r->files));
        if (!r->files)
                return;
        for (size_t i = 0; i < n->n_items; i++) {
                const struct ynode *it = n->items[i];
                struct recipe_file *f = &r->files[r->n_files++];
                f->pos = it->pos;
                f->mode = RECIPE_MODE_UNSET;
                f->uid = f->gid = RECIPE_ID_UNSET;
                f->variants = RECIPE_ALL_VARIANTS;
                if (!check_map(c, it, "files item", keys))
                        continue;
                const struct ynode *v;
                if ((v = ynode_map_get(it, "path")))
                        f->path = get_path(c, v, "path");
                else
                        fail(c, it->pos, "files item: missing required key 'path'");
                f->type = RECIPE_FILE_REGULAR;
                if ((v = ynode_map_get(it, "type"))) {
                        _cleanup_free_ char *t = get_str(c, v, "type");
                        if (t && streq(t, "dir"))
                                f->type = RECIPE_FILE_DIR;
                        else if (t && streq(t, "symlink"))
                                f->type = RECIPE_FILE_SYMLINK;
                        else if (t && !streq(t, "file"))
                                fail(c, v->pos, "type: '%s' is not one of file, dir, symlink", t);
                }
                if ((v = ynode_map_get(it, "mode")))
                        get_mode(c, v, "mode", &f->mode);
                if ((v = ynode_map_get(it, "uid")))
                        get_id(c, v, "uid", &f->uid);
                if ((v = ynode_map_get(it, "gid")))
                        get_id(c, v, "gid", &f->gid);
                if ((v = ynode_map_get(it, "content"))) {
                        if (f->type != RECIPE_FILE_REGULAR)
                                fail(c, v->pos, "content: only regular files have content");
                        else if (v->type != YNODE_SCALAR)
                                fail(c, v->pos, "content: expected a string, got %s",
                                     ynode_type_name(v));
                        else {
                                f->content = malloc(v->len + 1);
                                if (f->content) {
                                        memcpy(f->content, v->value, v->len + 1);
                                        f->content_len = v->len;
                                }
                        }
                }
                v = ynode_map_get(it, "target");
                if (f->type == RECIPE_FILE_SYMLINK) {
                        if (v)
                                f->target = get_str(c, v, "target");
                        else
                                fail(c, it->pos, "files item: a symlink needs 'target'");
                } else if (v)
                        fail(c, v->pos,
                             "target: only symlinks have a target (add type: "
                             "symlink)");
                f->variants = item_variants(c, it);
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
static void parse_run(struct ctx *c, const struct ynode *n, const char *what,
                      struct recipe_run *run)
{
        static const char *const keys[] = { "user",      "entrypoint", "cmd",         "workdir",
                                            "env",       "labels",     "stop-signal", "init",
                                            "read-only", "writable",   "require-env", NULL };
        run->read_only = -1;
        if (!check_map(c, n, what, keys))
                return;
        const struct ynode *v;
        if ((v = ynode_map_get(n, "user"))) {
                run->user = get_str(c, v, "user");
                if (run->user && !isdigit((unsigned char)run->user[0])) {
                        bool found = false;
                        for (size_t i = 0; i < c->r->n_users; i++)
                                found = found || streq_ptr(c->r->users[i].name, run->user);
                        if (!found && !streq(run->user, "root"))
                                fail(c, v->pos,
                                     "user: '%s' is not declared under "
                                     "accounts.users",
                                     run->user);
                }
        }
        if ((v = ynode_map_get(n, "entrypoint"))) {
                run->entrypoint = get_strv(c, v, "entrypoint", false);
                run->has_entrypoint = true;
        }
        if ((v = ynode_map_get(n, "cmd"))) {
                run->cmd = get_strv(c, v, "cmd", false);
                run->has_cmd = true;
        }
        if ((v = ynode_map_get(n, "workdir")))
                run->workdir = get_path(c, v, "workdir");
        if ((v = ynode_map_get(n, "env"))) {
                run->has_env = true;
                if (get_kv(c, v, "env", &run->env, &run->n_env))
                        for (size_t i = 0; i < run->n_env; i++)
                                if (!env_name_ok(run->env[i].key))
                                        fail(c, v->items[2 * i]->pos,
                                             "env: '%s' is not a valid variable name",
                                             run->env[i].key);
        }
        if ((v = ynode_map_get(n, "labels"))) {
                run->has_labels = true;
                get_kv(c, v, "labels", &run->labels, &run->n_labels);
        }
        if ((v = ynode_map_get(n, "stop-signal"))) {
                run->stop_signal = get_str(c, v, "stop-signal");
                if (run->stop_signal && !signal_name_ok(run->stop_signal))
                        fail(c, v->pos, "stop-signal: '%s' is not a signal name like SIGTERM",
                             run->stop_signal);
        }
        if ((v = ynode_map_get(n, "init"))) {
                run->init = get_str(c, v, "init");
                if (run->init && !streq(run->init, "cairn-init"))
                        fail(c, v->pos, "init: '%s' is not supported; use cairn-init", run->init);
        }
        if ((v = ynode_map_get(n, "read-only"))) {
                bool b;
                if (get_bool(c, v, "read-only", &b))
                        run->read_only = b;
        }
        if ((v = ynode_map_get(n, "writable"))) {
                run->writable = get_strv(c, v, "writable", true);
                run->has_writable = true;
        }
        if ((v = ynode_map_get(n, "require-env"))) {
                run->require_env = get_strv(c, v, "require-env", false);
                run->has_require_env = true;
                for (size_t i = 0; run->require_env && run->require_env[i]; i++)
                        if (!env_name_ok(run->require_env[i]))
                                fail(c, v->items[i]->pos,
                                     "require-env: '%s' is not a valid variable name",
                                     run->require_env[i]);
        }
}

static bool profile_name_ok(const char *s)
{
        return streq(s, "strict") || streq(s, "dev");
}

static void parse_variants(struct ctx *c, const struct ynode *n)
{
        static const char *const keys[] = { "policy", "run", NULL };
        struct recipe *r = c->r;
        if (!n) {
                r->variants = calloc(2, sizeof(*r->variants));
                if (!r->variants)
                        return;
                const char *names[] = { "dev", "prod" };
                for (size_t i = 0; i < 2; i++) {
                        r->variants[i].name = strdup(names[i]);
                        r->variants[i].run.read_only = -1;
                        r->n_variants++;
                }
                return;
        }
        if (n->type != YNODE_MAPPING || n->n_items == 0) {
                fail(c, n->pos, "variants: expected a non-empty mapping of variant names");
                return;
        }
        if (n->n_items / 2 > RECIPE_MAX_VARIANTS) {
                fail(c, n->pos, "variants: at most %d variants", RECIPE_MAX_VARIANTS);
                return;
        }
        r->variants = calloc(n->n_items / 2, sizeof(*r->variants));
        if (!r->variants)
                return;
        for (size_t i = 0; i + 1 < n->n_items; i += 2) {
                const struct ynode *k = n->items[i], *v = n->items[i + 1];
                struct recipe_variant *var = &r->variants[r->n_variants++];
                var->pos = k->pos;
                var->run.read_only = -1;
                var->name = get_str(c, k, "variants");
                if (!var->name)
                        continue;
                if (!name_ok(var->name, "abcdefghijklmnopqrstuvwxyz", LOWER_DIGITS "-", 32))
                        fail(c, k->pos, "variant name '%s': use [a-z][a-z0-9-]*", var->name);
                for (size_t j = 0; j + 1 < r->n_variants; j++)
                        if (streq_ptr(r->variants[j].name, var->name))
                                fail(c, k->pos,
                                     "duplicate key '%s' in variants (first at line "
                                     "%u)",
                                     var->name, r->variants[j].pos.line);
                if (ynode_is_null(v) || !check_map(c, v, "variant", keys))
                        continue;
                const struct ynode *p = ynode_map_get(v, "policy");
                if (p) {
                        var->policy = get_str(c, p, "policy");
                        if (var->policy && !profile_name_ok(var->policy))
                                fail(c, p->pos,
                                     "policy: unknown profile '%s'; use strict or "
                                     "dev (tune them under policy:)",
                                     var->policy);
                }
                const struct ynode *run = ynode_map_get(v, "run");
                if (run)
                        parse_run(c, run, "variant run", &var->run);
        }
}

static void parse_policy(struct ctx *c, const struct ynode *n)
{
        static const char *const keys[] = { "allow-executables", "disable-rules", NULL };
        struct recipe *r = c->r;
        if (n->type != YNODE_MAPPING) {
                fail(c, n->pos, "policy: expected a mapping of profile names, got %s",
                     ynode_type_name(n));
                return;
        }
        r->policies = calloc(n->n_items / 2 + 1, sizeof(*r->policies));
        if (!r->policies)
                return;
        for (size_t i = 0; i + 1 < n->n_items; i += 2) {
                const struct ynode *k = n->items[i], *v = n->items[i + 1];
                struct recipe_policy *p = &r->policies[r->n_policies++];
                p->pos = k->pos;
                p->name = get_str(c, k, "policy");
                if (!p->name)
                        continue;
                if (!profile_name_ok(p->name))
                        fail(c, k->pos,
                             "policy: unknown profile '%s'; the profiles are strict "
                             "and dev",
                             p->name);
                for (size_t j = 0; j + 1 < r->n_policies; j++)
                        if (streq_ptr(r->policies[j].name, p->name))
                                fail(c, k->pos,
                                     "duplicate key '%s' in policy (first at line "
                                     "%u)",
                                     p->name, r->policies[j].pos.line);
                if (!check_map(c, v, "policy profile", keys))
                        continue;
                const struct ynode *a = ynode_map_get(v, "allow-executables");
                if (a)
                        p->allow_executables = get_strv(c, a, "allow-executables", false);
                const struct ynode *d = ynode_map_get(v, "disable-rules");
                if (d)
                        p->disable_rules = get_strv(c, d, "disable-rules", false);
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
static void check_destinations(struct ctx *c, struct recipe_pos accounts_pos, bool accounts)
{
        struct recipe *r = c->r;
        size_t n = 0, cap = 0;
        _cleanup_free_ struct written_path *d = NULL;
#define ADD_DEST(p, ps, m, w)                                                                      \
        do {                                                                                       \
                if ((p) && GROW(d, cap, n + 1) == 0)                                               \
                        d[n++] = (struct written_path){ (p), (ps), (m), (w) };                     \
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
                        fail(c, later->pos,
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
        struct ctx c = { .file = file, .err = err, .r = r };
        r->epoch = -1;
        r->run.read_only = -1;
        if (!check_map(&c, root, "the recipe", keys))
                return -EINVAL;

        const struct ynode *v = ynode_map_get(root, "recipe");
        uint64_t schema;
        if (!v)
                fail(&c, root->pos,
                     "missing required key 'recipe' (the schema version: "
                     "recipe: 1)");
        else if (get_uint(&c, v, "recipe", UINT32_MAX, &schema)) {
                if (schema != RECIPE_SCHEMA_VERSION)
                        fail(&c, v->pos,
                             "recipe: schema version %llu is not supported; this "
                             "cairn reads version %d",
                             (unsigned long long)schema, RECIPE_SCHEMA_VERSION);
                r->schema = (unsigned)schema;
        }
        if (!(v = ynode_map_get(root, "name")))
                fail(&c, root->pos, "missing required key 'name'");
        else if ((r->name = get_str(&c, v, "name")) &&
                 !name_ok(r->name, LOWER_DIGITS, LOWER_DIGITS "._-", RECIPE_MAX_NAME))
                fail(&c, v->pos,
                     "name: '%s' must match [a-z0-9][a-z0-9._-]* (at most %d "
                     "characters)",
                     r->name, RECIPE_MAX_NAME);
        if ((v = ynode_map_get(root, "arch")) && (r->arch = get_str(&c, v, "arch")) &&
            !name_ok(r->arch, LOWER_DIGITS, LOWER_DIGITS "-", 32))
                fail(&c, v->pos, "arch: '%s' is not a Debian architecture name", r->arch);
        if ((v = ynode_map_get(root, "epoch"))) {
                uint64_t e;
                if (get_uint(&c, v, "epoch", 253402300799ULL, &e))
                        r->epoch = (int64_t)e;
                r->epoch_pos = v->pos;
        }
        /* Variants first: every item's `variants:` refers to them. */
        parse_variants(&c, ynode_map_get(root, "variants"));
        if ((v = ynode_map_get(root, "policy")))
                parse_policy(&c, v);
        if ((v = ynode_map_get(root, "accounts")))
                parse_accounts(&c, v);
        if ((v = ynode_map_get(root, "sources")))
                parse_sources(&c, v);
        if ((v = ynode_map_get(root, "utilities")))
                parse_utilities(&c, v);
        if ((v = ynode_map_get(root, "packages")))
                parse_packages(&c, v);
        if ((v = ynode_map_get(root, "artifacts")))
                parse_artifacts(&c, v);
        if ((v = ynode_map_get(root, "files")))
                parse_files(&c, v);
        if ((v = ynode_map_get(root, "run")))
                parse_run(&c, v, "run", &r->run);

        if ((r->n_utilities || r->n_packages) && r->n_sources == 0)
                fail(&c, root->pos,
                     "utilities and packages need at least one entry under "
                     "sources:");
        const struct ynode *acc = ynode_map_get(root, "accounts");
        check_destinations(&c, acc ? acc->pos : root->pos, r->n_users || r->n_groups);
        return c.n_errors ? -EINVAL : 0;
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
