/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tree/tree.h"

static int insert(struct tree *t, const char *path, enum tree_type type, const char *target)
{
        struct tree_entry e = {
                .path = (char *)path,
                .type = type,
                .mode = type == TREE_DIR ? 0755 : 0644,
                .target = (char *)target,
                .origin = (char *)"test",
        };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        return tree_insert(t, &e, 0, &err);
}

static void test_sorted_with_implicit_parents(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = NULL;
        assert_int_equal(tree_new(&t), 0);
        assert_int_equal(insert(t, "/usr/bin/tool", TREE_REG, NULL), 0);
        assert_int_equal(insert(t, "/a-b", TREE_REG, NULL), 0);
        assert_int_equal(insert(t, "/a/c", TREE_REG, NULL), 0);
        const char *expect[] = { "/", "/a", "/a-b", "/a/c", "/usr", "/usr/bin", "/usr/bin/tool" };
        assert_int_equal(tree_count(t), ELEMENTSOF(expect));
        for (size_t i = 0; i < ELEMENTSOF(expect); i++)
                assert_string_equal(tree_at(t, i)->path, expect[i]);
        const struct tree_entry *usr = tree_lookup(t, "/usr");
        assert_non_null(usr);
        assert_int_equal(usr->type, TREE_DIR);
        assert_int_equal(usr->mode, 0755);
        assert_true(usr->flags & TREE_ENTRY_IMPLICIT);
}

static void test_duplicate_and_explicit_dir(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = NULL;
        assert_int_equal(tree_new(&t), 0);
        assert_int_equal(insert(t, "/etc/x", TREE_REG, NULL), 0);
        assert_int_equal(insert(t, "/etc/x", TREE_REG, NULL), -EEXIST);
        /* An explicit directory replaces the implicit parent. */
        assert_int_equal(insert(t, "/etc", TREE_DIR, NULL), 0);
        assert_false(tree_lookup(t, "/etc")->flags & TREE_ENTRY_IMPLICIT);
        assert_int_equal(insert(t, "/etc", TREE_DIR, NULL), -EEXIST);
        /* A file cannot be a parent. */
        assert_int_equal(insert(t, "/etc/x/y", TREE_REG, NULL), -ENOTDIR);
        assert_int_equal(insert(t, "relative", TREE_REG, NULL), -EINVAL);
        assert_int_equal(insert(t, "/a/../b", TREE_REG, NULL), -EINVAL);
        assert_int_equal(insert(t, "/a//b", TREE_REG, NULL), -EINVAL);
}

static void test_remove_subtree(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = NULL;
        assert_int_equal(tree_new(&t), 0);
        assert_int_equal(insert(t, "/a/b/c", TREE_REG, NULL), 0);
        assert_int_equal(insert(t, "/a-b", TREE_REG, NULL), 0);
        assert_int_equal(insert(t, "/ab", TREE_REG, NULL), 0);
        assert_int_equal(tree_remove(t, "/a"), 0);
        assert_int_equal(tree_count(t), 3);
        assert_non_null(tree_lookup(t, "/a-b"));
        assert_non_null(tree_lookup(t, "/ab"));
        assert_null(tree_lookup(t, "/a/b"));
        assert_int_equal(tree_remove(t, "/a"), -ENOENT);
}

static void test_resolve_inside_root(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = NULL;
        assert_int_equal(tree_new(&t), 0);
        assert_int_equal(insert(t, "/usr/bin/busybox", TREE_REG, NULL), 0);
        assert_int_equal(insert(t, "/bin", TREE_SYMLINK, "usr/bin"), 0);
        assert_int_equal(insert(t, "/usr/bin/sh", TREE_SYMLINK, "busybox"), 0);
        assert_int_equal(insert(t, "/escape", TREE_SYMLINK, "../../../usr/bin/sh"), 0);
        assert_int_equal(insert(t, "/loop", TREE_SYMLINK, "/loop"), 0);
        assert_int_equal(insert(t, "/dangling", TREE_SYMLINK, "/nowhere"), 0);

        _cleanup_free_ char *p = NULL;
        const struct tree_entry *e = NULL;
        assert_int_equal(tree_resolve(t, "/bin/sh", 0, &p, &e), 0);
        assert_string_equal(p, "/usr/bin/busybox");
        assert_int_equal(e->type, TREE_REG);
        free(p);
        p = NULL;
        /* ".." never climbs above the image root. */
        assert_int_equal(tree_resolve(t, "/escape", 0, &p, NULL), 0);
        assert_string_equal(p, "/usr/bin/busybox");
        free(p);
        p = NULL;
        assert_int_equal(tree_resolve(t, "/bin/sh", TREE_RESOLVE_NOFOLLOW_LAST, &p, &e), 0);
        assert_string_equal(p, "/usr/bin/sh");
        assert_int_equal(e->type, TREE_SYMLINK);
        assert_int_equal(tree_resolve(t, "/loop", 0, NULL, NULL), -ELOOP);
        assert_int_equal(tree_resolve(t, "/dangling", 0, NULL, NULL), -ENOENT);
        assert_int_equal(tree_resolve(t, "/usr/bin/busybox/x", 0, NULL, NULL), -ENOTDIR);
}

static void test_normalize(void **state)
{
        (void)state;
        _cleanup_free_ char *a = NULL, *b = NULL;
        assert_int_equal(tree_path_normalize("//usr/./bin/", &a), 0);
        assert_string_equal(a, "/usr/bin");
        assert_int_equal(tree_path_normalize("./", &b), 0);
        assert_string_equal(b, "/");
        char *c = NULL;
        assert_int_equal(tree_path_normalize("/usr/../etc", &c), -EINVAL);
        assert_int_equal(tree_path_normalize("", &c), -EINVAL);
        assert_null(c);
}

static void test_path_problem(void **state)
{
        (void)state;
        char name[TREE_NAME_MAX + 3] = "/";
        memset(name + 1, 'n', TREE_NAME_MAX);
        assert_null(tree_path_problem(name));
        strcat(name, "n");
        assert_non_null(strstr(tree_path_problem(name), "NAME_MAX"));
        _cleanup_free_ char *path = malloc(TREE_PATH_MAX + 1);
        assert_non_null(path);
        for (size_t i = 0; i < TREE_PATH_MAX - 1; i++)
                path[i] = i % 2 ? 'a' : '/';
        path[TREE_PATH_MAX - 1] = '\0';
        assert_null(tree_path_problem(path));
        strcat(path, "a");
        assert_non_null(strstr(tree_path_problem(path), "PATH_MAX"));
        assert_null(tree_path_problem("/caf\xc3\xa9/new\nline"));
        assert_non_null(strstr(tree_path_problem("/bad\xff"), "UTF-8"));
        assert_non_null(tree_path_problem("/\xc3"));             /* truncated sequence */
        assert_non_null(tree_path_problem("/\xc0\xaf"));         /* overlong '/' */
        assert_non_null(tree_path_problem("/\xed\xa0\x80"));     /* a UTF-16 surrogate */
        assert_non_null(tree_path_problem("/\xf4\x90\x80\x80")); /* past U+10FFFF */
        _cleanup_free_ char *shown = str_escape("a\nb\\\xff", 100);
        assert_string_equal(shown, "a\\x0ab\\x5c\\xff");
}

static void test_nothing_under_a_symlink(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = NULL;
        assert_int_equal(tree_new(&t), 0);
        assert_int_equal(insert(t, "/app", TREE_SYMLINK, "/etc"), 0);
        assert_int_equal(insert(t, "/usr/bin/x", TREE_REG, NULL), 0);
        assert_string_equal(tree_blocking_ancestor(t, "/app/x/y")->path, "/app");
        assert_string_equal(tree_blocking_ancestor(t, "/usr/bin/x/y")->path, "/usr/bin/x");
        assert_null(tree_blocking_ancestor(t, "/usr/bin/z"));
        assert_null(tree_blocking_ancestor(t, "/new/dir/file"));
        assert_int_equal(insert(t, "/app/x", TREE_REG, NULL), -ENOTDIR);
        assert_int_equal(insert(t, "/app/x/y", TREE_DIR, NULL), -ENOTDIR);
        assert_null(tree_lookup(t, "/app/x"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sorted_with_implicit_parents),
                cmocka_unit_test(test_duplicate_and_explicit_dir),
                cmocka_unit_test(test_remove_subtree),
                cmocka_unit_test(test_resolve_inside_root),
                cmocka_unit_test(test_normalize),
                cmocka_unit_test(test_path_problem),
                cmocka_unit_test(test_nothing_under_a_symlink),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
