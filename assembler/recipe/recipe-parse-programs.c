/* SPDX-License-Identifier: Apache-2.0 */
/*
 * programs: dynamically linked programs with exactly the files they load (docs/recipe.md,
 * "Programs"). The closure itself is computed at unpack (stages/programs.c); here only the
 * item's shape is checked.
 */
#include "recipe-internal.h"

#define RECIPE_MAX_DLOPEN 1024 /* dlopen: entries of one program */

static void walk_program(struct yread *y, struct recipe *r, const struct ynode *it,
                         struct recipe_program *p)
{
        static const char *const keys[] = { "package",   "path",      "dest",     "dlopen", "data",
                                            "only-read", "copyright", "variants", NULL };
        p->pos = it->pos;
        p->variants = RECIPE_ALL_VARIANTS;
        if (!yread_map(y, it, "programs item", keys))
                return;
        const struct ynode *v;
        if ((v = ynode_map_get(it, "package")))
                p->package = yread_string(y, v, "package");
        else
                yread_fail(y, it->pos,
                           "programs item: missing required key 'package' (the package whose "
                           "Depends closure holds the program and its libraries)");
        if ((v = ynode_map_get(it, "path"))) {
                p->path = recipe_read_path(y, v, "path");
                if (p->path && strpbrk(p->path, "*?"))
                        yread_fail(y, v->pos, "path: '%s': name one program, not a pattern",
                                   p->path);
        } else
                yread_fail(y, it->pos,
                           "programs item: missing required key 'path' (the program's path in "
                           "its package, e.g. /usr/bin/python3.11)");
        if ((v = ynode_map_get(it, "dest"))) {
                p->dest = recipe_read_path(y, v, "dest");
                if (p->dest && strpbrk(p->dest, "*?"))
                        yread_fail(y, v->pos, "dest: '%s' is a path, not a pattern", p->dest);
        } else if (p->path)
                p->dest = yread_strdup(y, p->path);
        if ((v = ynode_map_get(it, "dlopen")))
                p->dlopen = yread_strv(y, v, "dlopen", RECIPE_MAX_DLOPEN, recipe_read_path);
        if ((v = ynode_map_get(it, "data")))
                p->data = yread_strv(y, v, "data", RECIPE_MAX_DLOPEN, recipe_read_path);
        if ((v = ynode_map_get(it, "only-read"))) {
                yread_bool(y, v, "only-read", &p->only_read);
                bool glob = false;
                for (char **d = p->dlopen; d && *d; d++)
                        glob = glob || strpbrk(*d, "*?");
                for (char **d = p->data; d && *d; d++)
                        glob = glob || strpbrk(*d, "*?");
                if (p->only_read && !glob)
                        yread_fail(y, v->pos,
                                   "only-read: true filters the dlopen: and data: patterns by "
                                   "the reads record; this item has no pattern there");
        }
        v = ynode_map_get(it, "copyright");
        bool keep = true;
        if (v && yread_bool(y, v, "copyright", &keep))
                p->no_copyright = !keep;
        p->variants = recipe_item_variants(y, r, it);
}

void recipe_walk_programs(struct yread *y, struct recipe *r, const struct ynode *n)
{
        if (!yread_seq(y, n, "programs", RECIPE_MAX_ITEMS))
                return;
        r->programs = yread_calloc(y, n->n_items ? n->n_items : 1, sizeof(*r->programs));
        if (!r->programs)
                return;
        for (size_t i = 0; i < n->n_items; i++)
                walk_program(y, r, n->items[i], &r->programs[r->n_programs++]);
}
