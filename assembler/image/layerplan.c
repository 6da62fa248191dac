/* SPDX-License-Identifier: Apache-2.0 */
#include "layerplan.h"

/* Adds the entries where want[i] is set, plus every parent directory they need. */
static int plan_from_mask(struct tar_plan *p, const struct tree *t, bool *want)
{
        size_t n = tree_count(t);
        /* Parents sort before children: marking backwards reaches every ancestor. */
        for (size_t i = n; i-- > 1;) {
                if (!want[i])
                        continue;
                _cleanup_free_ char *parent = strdup(tree_at(t, i)->path);
                if (!parent)
                        return -ENOMEM;
                char *slash = strrchr(parent, '/');
                if (slash == parent)
                        continue;
                *slash = '\0';
                size_t pi;
                if (tree_index(t, parent, &pi) == 0)
                        want[pi] = true;
        }
        for (size_t i = 1; i < n; i++)
                if (want[i] && tar_plan_add(p, tree_at(t, i)->path, tree_at(t, i)) < 0)
                        return -ENOMEM;
        return 0;
}

int layerplan_layer(struct tar_plan *p, const struct tree *t, enum tree_layer layer)
{
        size_t n = tree_count(t);
        _cleanup_free_ bool *want = calloc(n, sizeof(bool));
        if (!want)
                return -ENOMEM;
        for (size_t i = 1; i < n; i++) {
                const struct tree_entry *e = tree_at(t, i);
                want[i] = e->layer == layer && !(e->flags & TREE_ENTRY_IMPLICIT);
        }
        return plan_from_mask(p, t, want);
}

static bool entry_equal(const struct tree_entry *a, const struct tree_entry *b)
{
        return a->type == b->type && a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
               a->size == b->size &&
               (a->type != TREE_REG || store_key_cmp(&a->key, &b->key) == 0) &&
               streq_ptr(a->target, b->target) && a->dev_major == b->dev_major &&
               a->dev_minor == b->dev_minor;
}

int layerplan_delta(struct tar_plan *p, const struct tree *base, const struct tree *top)
{
        size_t n = tree_count(top);
        _cleanup_free_ bool *want = calloc(n, sizeof(bool));
        if (!want)
                return -ENOMEM;
        for (size_t i = 1; i < n; i++) {
                const struct tree_entry *e = tree_at(top, i);
                const struct tree_entry *o = tree_lookup(base, e->path);
                want[i] = !o || !entry_equal(o, e);
        }
        /* Whiteouts: the topmost removed paths only (removing a directory removes its
         * children). Their parent directories exist in top. */
        size_t nb = tree_count(base);
        const char *removed_dir = NULL;
        for (size_t i = 1; i < nb; i++) {
                const struct tree_entry *o = tree_at(base, i);
                if (removed_dir && startswith(o->path, removed_dir) &&
                    o->path[strlen(removed_dir)] == '/')
                        continue;
                if (tree_lookup(top, o->path))
                        continue;
                removed_dir = o->type == TREE_DIR ? o->path : NULL;
                const char *slash = strrchr(o->path, '/');
                char *wh = NULL;
                if (asprintf(&wh, "%.*s/.wh.%s", (int)(slash - o->path), o->path, slash + 1) < 0)
                        return -ENOMEM;
                int r = tar_plan_add_owned(p, wh, NULL);
                if (r < 0)
                        return r;
                if (slash != o->path) {
                        _cleanup_free_ char *parent = strndup(o->path, (size_t)(slash - o->path));
                        if (!parent)
                                return -ENOMEM;
                        size_t pi;
                        if (tree_index(top, parent, &pi) == 0)
                                want[pi] = true;
                }
        }
        int r = plan_from_mask(p, top, want);
        if (r < 0)
                return r;
        tar_plan_sort(p);
        return 0;
}
