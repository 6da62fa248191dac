/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The typed values of a recipe that its sections share, on top of yamlread's strings and
 * numbers: ids, modes, absolute paths, names, string maps (env:, labels:) and an item's
 * `variants:`.
 */
#include "recipe-internal.h"
#include "tree/tree.h"

bool recipe_read_id(struct yread *y, const struct ynode *n, const char *what, uint32_t *ret)
{
        uint64_t v;
        if (!yread_uint(y, n, what, UINT32_MAX - 1, &v))
                return false;
        *ret = (uint32_t)v;
        return true;
}

bool recipe_read_mode(struct yread *y, const struct ynode *n, const char *what, int *ret)
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

char *recipe_read_path(struct yread *y, const struct ynode *n, const char *what)
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

char *recipe_read_context_path(struct yread *y, const struct ynode *n, const char *what)
{
        _cleanup_free_ char *s = yread_string(y, n, what);
        if (!s)
                return NULL;
        if (!s[0] || s[0] == '/') {
                yread_fail(y, n->pos,
                           "%s: '%s' must be a relative path: artifacts come from beneath the "
                           "build context (the recipe's directory, or context:)",
                           what, s);
                return NULL;
        }
        if (strlen(s) >= TREE_PATH_MAX) {
                yread_fail(y, n->pos, "%s: path longer than %d bytes", what, TREE_PATH_MAX - 1);
                return NULL;
        }
        for (const char *p = s; *p;) {
                size_t len = strcspn(p, "/");
                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        yread_fail(y, n->pos,
                                   "%s: '%s' contains '..': artifacts come from beneath the "
                                   "build context (the recipe's directory, or context:)",
                                   what, s);
                        return NULL;
                }
                p += len;
                p += strspn(p, "/");
        }
        return steal_pointer(&s);
}

bool recipe_name_ok(const char *s, const char *first, const char *rest, size_t max)
{
        size_t len = strlen(s);
        if (len == 0 || len > max || !strchr(first, s[0]))
                return false;
        for (const char *p = s + 1; *p; p++)
                if (!strchr(rest, *p))
                        return false;
        return true;
}

static bool variants_mask(struct yread *y, const struct recipe *r, const struct ynode *n,
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

recipe_variant_mask recipe_item_variants(struct yread *y, const struct recipe *r,
                                         const struct ynode *item)
{
        const struct ynode *v = ynode_map_get(item, "variants");
        recipe_variant_mask m = RECIPE_ALL_VARIANTS;
        if (v && !variants_mask(y, r, v, &m))
                return RECIPE_ALL_VARIANTS;
        return m;
}

bool recipe_read_kv(struct yread *y, const struct ynode *n, const char *what,
                    struct recipe_kv **ret, size_t *ret_n)
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
