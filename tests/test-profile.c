/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sandbox/profile.h"

struct fixture {
        char *tmp;
        struct store *store;
        struct tree *tree;
};

static void add(struct fixture *f, const char *path, enum tree_type type, uint32_t mode,
                const char *content)
{
        struct tree_entry e = { .path = (char *)path, .type = type, .mode = mode };
        if (content) {
                assert_int_equal(store_put_buf(f->store, content, strlen(content), &e.key, NULL),
                                 0);
                e.size = strlen(content);
        }
        assert_int_equal(tree_insert(f->tree, &e, TREE_INSERT_REPLACE, NULL), 0);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->tmp = strdup("/tmp/cairn-test-profile-XXXXXX");
        assert_non_null(mkdtemp(f->tmp));
        assert_int_equal(store_open(f->tmp, &f->store, NULL), 0);
        assert_int_equal(tree_new(&f->tree), 0);
        add(f, "/app/hello", TREE_REG, 0755, "#!x");
        add(f, "/app/data/lib.so", TREE_REG, 0644, "\177ELF....");
        add(f, "/app/conf/app.conf", TREE_REG, 0644, "x");
        add(f, "/run", TREE_DIR, 0755, NULL);
        add(f, "/tmp", TREE_DIR, 01777, NULL);
        add(f, "/var/cache/app", TREE_DIR, 0755, NULL);
        add(f, "/var/lib", TREE_DIR, 0755, NULL);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        tree_free(f->tree);
        store_free(f->store);
        assert_int_equal(rm_rf(f->tmp), 0);
        free(f->tmp);
        free(f);
        return 0;
}

static void test_smallest_cover(void **state)
{
        struct fixture *f = *state;
        struct sandbox_write w[] = {
                { "/run/app.pid", SANDBOX_CREATED, false },
                { "/tmp/a", SANDBOX_CREATED, false },
                { "/tmp/sub", SANDBOX_CREATED, true },
                { "/tmp/sub/x", SANDBOX_CREATED, false },
                { "/var/cache/app/b", SANDBOX_MODIFIED, false },
        };
        struct sandbox_result res = { .writes = w, .n_writes = ELEMENTSOF(w) };
        char *writable[] = { "/tmp", NULL };
        struct profile_suggestion p;
        assert_int_equal(profile_suggest(f->tree, f->store, &res, writable, &p, NULL), 0);
        assert_int_equal(p.n_dirs, 3);
        assert_string_equal(p.dirs[0], "/run");
        assert_string_equal(p.dirs[1], "/tmp");
        assert_string_equal(p.dirs[2], "/var/cache/app");
        assert_null(p.dirs[3]);
        assert_int_equal(p.n_outside, 2);
        assert_false(p.writes[0].covered);
        assert_true(p.writes[3].covered);
        assert_string_equal(p.writes[3].dir, "/tmp");
        assert_int_equal(p.n_unplaceable, 0);
        profile_suggestion_clear(&p);
}

static void test_never_root_nor_binary_dirs(void **state)
{
        struct fixture *f = *state;
        struct sandbox_write w[] = {
                { "/app/conf/app.conf", SANDBOX_MODIFIED, false }, /* /app/conf: fine */
                { "/app/data/state", SANDBOX_CREATED, false },     /* ELF in /app/data */
                { "/app/log", SANDBOX_CREATED, true },             /* /app has /app/hello */
                { "/app/log/x", SANDBOX_CREATED, false },
                { "/data", SANDBOX_CREATED, true }, /* parent "/": goes deeper */
                { "/data/y", SANDBOX_CREATED, false },
                { "/marker", SANDBOX_CREATED, false },  /* a file in /: cannot be placed */
                { "/var/lib", SANDBOX_MODIFIED, true }, /* created and deleted inside */
        };
        struct sandbox_result res = { .writes = w, .n_writes = ELEMENTSOF(w) };
        struct profile_suggestion p;
        assert_int_equal(profile_suggest(f->tree, f->store, &res, NULL, &p, NULL), 0);
        assert_int_equal(p.n_dirs, 4);
        assert_string_equal(p.dirs[0], "/app/conf");
        assert_string_equal(p.dirs[1], "/app/log");
        assert_string_equal(p.dirs[2], "/data");
        assert_string_equal(p.dirs[3], "/var/lib");
        assert_int_equal(p.n_unplaceable, 2);
        assert_non_null(p.writes[1].unplaceable);
        assert_non_null(strstr(p.writes[1].unplaceable, "/app/data/lib.so"));
        assert_non_null(p.writes[6].unplaceable);
        assert_null(p.writes[6].dir);
        assert_int_equal(p.n_outside, ELEMENTSOF(w));
        profile_suggestion_clear(&p);
}

static void test_path_under(void **state)
{
        (void)state;
        assert_true(profile_path_under("/tmp/a", "/tmp"));
        assert_true(profile_path_under("/tmp", "/tmp"));
        assert_false(profile_path_under("/tmpx", "/tmp"));
        assert_true(profile_path_under("/x", "/"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_smallest_cover, setup, teardown),
                cmocka_unit_test_setup_teardown(test_never_root_nor_binary_dirs, setup, teardown),
                cmocka_unit_test(test_path_under),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
