/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "image/layerplan.h"

static void put(struct tree *t, const char *path, enum tree_type type, uint32_t mode,
                enum tree_layer layer, uint8_t key)
{
        struct tree_entry e = { .path = (char *)path, .type = type, .mode = mode, .layer = layer };
        if (type == TREE_REG) {
                e.size = 1;
                memset(e.key.bytes, key, sizeof(e.key.bytes));
        }
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(tree_insert(t, &e, TREE_INSERT_REPLACE, &err), 0);
}

/* The plan's paths, space-separated, whiteouts marked with a leading '-'. */
static char *plan_paths(const struct tar_plan *p)
{
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        assert_non_null(f);
        for (size_t i = 0; i < p->n; i++)
                fprintf(f, "%s%s%s", i ? " " : "", p->items[i].e ? "" : "-", p->items[i].path);
        assert_int_equal(fclose(f), 0);
        return s;
}

/* prod's tree: base entries, and the app under /app and /etc (shared with base). */
static struct tree *prod_tree(void)
{
        struct tree *t = NULL;
        assert_int_equal(tree_new(&t), 0);
        put(t, "/etc", TREE_DIR, 0755, TREE_LAYER_BASE, 0);
        put(t, "/etc/passwd", TREE_REG, 0644, TREE_LAYER_BASE, 1);
        put(t, "/etc/prod-only", TREE_REG, 0644, TREE_LAYER_BASE, 2);
        put(t, "/etc/app.conf", TREE_REG, 0640, TREE_LAYER_APP, 3);
        put(t, "/app/bin/server", TREE_REG, 0755, TREE_LAYER_APP, 4); /* implicit /app/bin */
        put(t, "/opt/tool/lib/a.so", TREE_REG, 0644, TREE_LAYER_BASE, 5);
        put(t, "/opt/tool/bin", TREE_REG, 0755, TREE_LAYER_BASE, 6);
        put(t, "/tmp", TREE_DIR, 01777, TREE_LAYER_BASE, 0);
        return t;
}

static void test_layers_with_parents(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = prod_tree();
        _cleanup_(tar_plan_clear) struct tar_plan base = { 0 }, app = { 0 };
        assert_int_equal(layerplan_layer(&base, t, TREE_LAYER_BASE), 0);
        assert_int_equal(layerplan_layer(&app, t, TREE_LAYER_APP), 0);
        _cleanup_free_ char *b = plan_paths(&base), *a = plan_paths(&app);
        /* Implicit directories go only where a real entry needs them as a parent. */
        assert_string_equal(b, "/etc /etc/passwd /etc/prod-only /opt /opt/tool /opt/tool/bin "
                               "/opt/tool/lib /opt/tool/lib/a.so /tmp");
        /* The app layer carries /etc again (a parent, with its metadata from the tree). */
        assert_string_equal(a, "/app /app/bin /app/bin/server /etc /etc/app.conf");
        for (size_t i = 0; i < app.n; i++)
                assert_ptr_equal(app.items[i].e, tree_lookup(t, app.items[i].path));
}

static void test_delta_adds_changes_and_whiteouts(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *prod = prod_tree(), *dev = prod_tree();
        assert_int_equal(tree_remove(dev, "/etc/prod-only"), 0);
        assert_int_equal(tree_remove(dev, "/opt/tool"), 0); /* a directory and what it holds */
        put(dev, "/etc/dev-only", TREE_REG, 0644, TREE_LAYER_BASE, 7);
        put(dev, "/etc/app.conf", TREE_REG, 0644, TREE_LAYER_APP, 3); /* mode changed */
        put(dev, "/etc/passwd", TREE_REG, 0644, TREE_LAYER_BASE, 9);  /* content changed */
        put(dev, "/bin/sh", TREE_REG, 0755, TREE_LAYER_BASE, 8);

        _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
        assert_int_equal(layerplan_delta(&p, prod, dev), 0);
        _cleanup_free_ char *s = plan_paths(&p);
        /* Byte order, parents first; one whiteout for the removed directory, none for what it
         * held; /opt stays (dev has it) and comes along as the whiteout's parent; unchanged
         * /tmp and /app are not repeated. */
        assert_string_equal(s, "/bin /bin/sh /etc -/etc/.wh.prod-only /etc/app.conf "
                               "/etc/dev-only /etc/passwd /opt -/opt/.wh.tool");
        assert_int_equal(p.n_owned, 2);

        /* Equal trees: nothing. */
        _cleanup_(tar_plan_clear) struct tar_plan none = { 0 };
        assert_int_equal(layerplan_delta(&none, prod, prod), 0);
        assert_int_equal(none.n, 0);
}

/* A removed top-level entry's whiteout has no parent to carry. */
static void test_delta_top_level_whiteout(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *prod = prod_tree(), *dev = prod_tree();
        assert_int_equal(tree_remove(dev, "/tmp"), 0);
        _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
        assert_int_equal(layerplan_delta(&p, prod, dev), 0);
        _cleanup_free_ char *s = plan_paths(&p);
        assert_string_equal(s, "-/.wh.tmp");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layers_with_parents),
                cmocka_unit_test(test_delta_adds_changes_and_whiteouts),
                cmocka_unit_test(test_delta_top_level_whiteout),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
