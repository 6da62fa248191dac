/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recipe sections that say what the image is made from: sources: (Debian repositories),
 * utilities: (files picked out of packages), certificates: (CA bundles made from packages),
 * packages: (installed whole) and artifacts: (local files). See recipe-parse.c for the walk that calls them.
 */
#include "recipe-internal.h"

void recipe_walk_sources(struct yread *y, struct recipe *r, const struct ynode *n)
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
                        if (s->name && !recipe_name_ok(s->name, LOWER_DIGITS, LOWER_DIGITS "._-",
                                                       RECIPE_MAX_NAME))
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
                        s->keyring = recipe_read_path(y, v, "keyring");
                if (s->trusted && s->url && !startswith(s->url, "file://"))
                        yread_fail(y, ynode_map_get(it, "trusted")->pos,
                                   "trusted: true is allowed only for file:// sources; give a "
                                   "keyring for %s",
                                   s->url);
                else if (!s->trusted && !ynode_map_get(it, "keyring"))
                        yread_fail(y, it->pos,
                                   "sources item: missing required key 'keyring' (or "
                                   "trusted: true for a local file:// mirror)");
                s->variants = recipe_item_variants(y, r, it);
        }
}

/* A pick's source: a path, or a pattern with '*', '?' or '**' (chisel's rules). */
static void read_pick_src(struct recipe_pick *p)
{
        const char *wild = strpbrk(p->src, "*?");
        p->glob = wild != NULL;
        if (!wild)
                return;
        /* The fixed prefix ends at the '/' before the first component with a wildcard. */
        while (wild > p->src && wild[-1] != '/')
                wild--;
        p->prefix_len = (size_t)(wild - p->src) - 1;
}

static void walk_picks(struct yread *y, struct recipe_utility *u, const struct ynode *it)
{
        const struct ynode *v = ynode_map_get(it, "files");
        if (!v) {
                yread_fail(y, it->pos,
                           "utilities item: missing required key 'files' (a "
                           "mapping from package path to image path)");
                return;
        }
        if (v->type != YNODE_MAPPING || v->n_items == 0) {
                yread_fail(y, v->pos,
                           "files: expected a non-empty mapping "
                           "{ /path/in/package: /path/in/image }");
                return;
        }
        size_t count = v->n_items / 2;
        u->files = yread_calloc(y, count, sizeof(*u->files));
        for (size_t k = 0; u->files && k < count; k++) {
                struct recipe_pick *p = &u->files[u->n_files++];
                p->pos = v->items[2 * k + 1]->pos;
                p->src = recipe_read_path(y, v->items[2 * k], "files");
                p->dest = recipe_read_path(y, v->items[2 * k + 1], "files");
                if (p->src)
                        read_pick_src(p);
                if (p->dest && strpbrk(p->dest, "*?"))
                        yread_fail(y, p->pos,
                                   "files: the destination '%s' is a directory for the matches, "
                                   "not a pattern",
                                   p->dest);
        }
}

/* `copyright: false` of a utilities, certificates or packages item. */
static void read_copyright(struct yread *y, const struct ynode *it, bool *no_copyright)
{
        const struct ynode *v = ynode_map_get(it, "copyright");
        bool keep = true;
        if (v && yread_bool(y, v, "copyright", &keep))
                *no_copyright = !keep;
}

static void walk_utility(struct yread *y, struct recipe *r, const struct ynode *it,
                         struct recipe_utility *u)
{
        static const char *const keys[] = { "package", "files", "copyright", "variants", NULL };
        u->kind = RECIPE_UTILITY_PICK;
        u->pos = it->pos;
        u->variants = RECIPE_ALL_VARIANTS;
        if (!yread_map(y, it, "utilities item", keys))
                return;
        const struct ynode *v;
        if ((v = ynode_map_get(it, "package")))
                u->package = yread_string(y, v, "package");
        else
                yread_fail(y, it->pos, "utilities item: missing required key 'package'");
        walk_picks(y, u, it);
        read_copyright(y, it, &u->no_copyright);
        u->variants = recipe_item_variants(y, r, it);
}

/* A certificates: item, "ca-certificates" or { package, path, copyright, variants }. */
static void walk_certificate(struct yread *y, struct recipe *r, const struct ynode *it,
                             struct recipe_utility *u)
{
        static const char *const keys[] = { "package", "path", "copyright", "variants", NULL };
        u->kind = RECIPE_UTILITY_CA_BUNDLE;
        u->pos = it->pos;
        u->variants = RECIPE_ALL_VARIANTS;
        if (it->type == YNODE_SCALAR) {
                u->package = yread_string(y, it, "certificates");
                u->bundle = yread_strdup(y, RECIPE_CA_BUNDLE_PATH);
                return;
        }
        if (!yread_map(y, it, "certificates item", keys))
                return;
        const struct ynode *v;
        if ((v = ynode_map_get(it, "package")))
                u->package = yread_string(y, v, "package");
        else
                yread_fail(y, it->pos, "certificates item: missing required key 'package'");
        if ((v = ynode_map_get(it, "path")))
                u->bundle = recipe_read_path(y, v, "path");
        else
                u->bundle = yread_strdup(y, RECIPE_CA_BUNDLE_PATH);
        read_copyright(y, it, &u->no_copyright);
        u->variants = recipe_item_variants(y, r, it);
}

void recipe_walk_utilities(struct yread *y, struct recipe *r, const struct ynode *utilities,
                           const struct ynode *certificates)
{
        if (utilities && !yread_seq(y, utilities, "utilities", RECIPE_MAX_ITEMS))
                utilities = NULL;
        if (certificates && !yread_seq(y, certificates, "certificates", RECIPE_MAX_ITEMS))
                certificates = NULL;
        size_t n =
                (utilities ? utilities->n_items : 0) + (certificates ? certificates->n_items : 0);
        if (n == 0)
                return;
        r->utilities = yread_calloc(y, n, sizeof(*r->utilities));
        if (!r->utilities)
                return;
        for (size_t i = 0; utilities && i < utilities->n_items; i++)
                walk_utility(y, r, utilities->items[i], &r->utilities[r->n_utilities++]);
        for (size_t i = 0; certificates && i < certificates->n_items; i++) {
                walk_certificate(y, r, certificates->items[i], &r->utilities[r->n_utilities++]);
                r->n_certificates++;
        }
}

void recipe_walk_packages(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "name", "copyright", "variants", NULL };
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
                read_copyright(y, it, &p->no_copyright);
                p->variants = recipe_item_variants(y, r, it);
        }
}

static bool sha256_hex_ok(const char *s)
{
        bool ok = strlen(s) == 64;
        for (const char *p = s; ok && *p; p++)
                ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
        return ok;
}

/* sha256: { ARCH: HEX, ... }: a pin for each architecture the recipe builds, and only those. */
static void read_pins_by_arch(struct yread *y, const struct recipe *r, struct recipe_artifact *a,
                              const struct ynode *v)
{
        /* A mapping's items are key, value, key, value, ... */
        a->sha256_by_arch = yread_calloc(y, v->n_items / 2 + 1, sizeof(*a->sha256_by_arch));
        if (!a->sha256_by_arch)
                return;
        for (size_t i = 0; i + 1 < v->n_items; i += 2) {
                const struct ynode *k = v->items[i], *val = v->items[i + 1];
                struct recipe_kv *kv = &a->sha256_by_arch[a->n_sha256_by_arch];
                if (!(kv->key = yread_string(y, k, "sha256 key")))
                        continue;
                if (!(kv->value = yread_string(y, val, "sha256"))) {
                        free(kv->key);
                        continue;
                }
                a->n_sha256_by_arch++;
                if (!sha256_hex_ok(kv->value))
                        yread_fail(y, val->pos, "sha256: %s: expected 64 lower-case hex digits",
                                   kv->key);
                if (!recipe_has_arch(r, kv->key))
                        yread_fail(y, k->pos,
                                   "sha256: '%s' is not an architecture this recipe builds "
                                   "(arch:)",
                                   kv->key);
        }
        for (char *const *arch = r->archs; arch && *arch; arch++)
                if (!recipe_artifact_pin(a, *arch))
                        yread_fail(y, v->pos,
                                   "sha256: no pin for %s; a pin per architecture names every "
                                   "architecture in arch:",
                                   *arch);
}

/* ${arch} is the one marker src may hold; a pin that is not per architecture cannot hold for
 * a src that is. */
static void check_src_markers(struct yread *y, const struct recipe *r,
                              const struct recipe_artifact *a, const struct ynode *v)
{
        for (const char *p = a->src; (p = strstr(p, "${")); p += 2)
                if (strncmp(p, RECIPE_ARCH_MARKER, strlen(RECIPE_ARCH_MARKER)) != 0)
                        yread_fail(y, v->pos,
                                   "src: '%s': the only marker src may hold is " RECIPE_ARCH_MARKER
                                   " (the Debian architecture being built)",
                                   a->src);
        if (a->sha256 && strstr(a->src, RECIPE_ARCH_MARKER) && r->n_archs > 1)
                yread_fail(y, v->pos,
                           "sha256: one pin for a src that differs per architecture; pin each: "
                           "sha256: { %s: HEX, ... }",
                           r->archs[0]);
}

void recipe_walk_artifacts(struct yread *y, struct recipe *r, const struct ynode *n)
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
                        a->src = recipe_read_context_path(y, v, "src");
                else
                        yread_fail(y, it->pos, "artifacts item: missing required key 'src'");
                if ((v = ynode_map_get(it, "dest")))
                        a->dest = recipe_read_path(y, v, "dest");
                else
                        yread_fail(y, it->pos, "artifacts item: missing required key 'dest'");
                if ((v = ynode_map_get(it, "mode")))
                        recipe_read_mode(y, v, "mode", &a->mode);
                if ((v = ynode_map_get(it, "uid")))
                        recipe_read_id(y, v, "uid", &a->uid);
                if ((v = ynode_map_get(it, "gid")))
                        recipe_read_id(y, v, "gid", &a->gid);
                if ((v = ynode_map_get(it, "sha256")) && v->type == YNODE_MAPPING)
                        read_pins_by_arch(y, r, a, v);
                else if (v && (a->sha256 = yread_string(y, v, "sha256")) &&
                         !sha256_hex_ok(a->sha256))
                        yread_fail(y, v->pos, "sha256: expected 64 lower-case hex digits");
                if (a->src)
                        check_src_markers(y, r, a, ynode_map_get(it, "src"));
                a->variants = recipe_item_variants(y, r, it);
        }
}
