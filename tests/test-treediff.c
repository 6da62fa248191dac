/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "base/digest.h"
#include "tree/treediff.h"

struct fixture {
        char *dir;
        struct store *store;
        struct tree *a, *b;
};

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));
        assert_non_null(fx);
        fx->dir = strdup("/tmp/cairn-test-treediff-XXXXXX");
        assert_non_null(mkdtemp(fx->dir));
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(store_open(fx->dir, &fx->store, &err), 0);
        assert_int_equal(tree_new(&fx->a), 0);
        assert_int_equal(tree_new(&fx->b), 0);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;
        tree_free(fx->a);
        tree_free(fx->b);
        store_free(fx->store);
        (void)rm_rf(fx->dir);
        free(fx->dir);
        free(fx);
        return 0;
}

static void put(struct fixture *fx, struct tree *t, const struct tree_entry *tmpl)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(tree_insert(t, tmpl, TREE_INSERT_REPLACE, &err), 0);
        (void)fx;
}

static void put_file(struct fixture *fx, struct tree *t, const char *path, const char *content,
                     uint32_t mode, int64_t mtime)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct tree_entry e = {
                .path = (char *)path,
                .type = TREE_REG,
                .mode = mode,
                .mtime = mtime,
                .size = strlen(content),
        };
        assert_int_equal(store_put_buf(fx->store, content, strlen(content), &e.key, &err), 0);
        put(fx, t, &e);
}

static void put_both(struct fixture *fx, const char *path, const char *content)
{
        put_file(fx, fx->a, path, content, 0644, 100);
        put_file(fx, fx->b, path, content, 0644, 100);
}

static void test_identical(void **state)
{
        struct fixture *fx = *state;
        put_both(fx, "/etc/a", "alpha\n");
        put_both(fx, "/usr/bin/tool", "tool\n");
        _cleanup_treediff_ struct treediff *d = NULL;
        assert_int_equal(treediff_compare(fx->a, fx->b, &d), 0);
        assert_true(treediff_identical(d));
        assert_int_equal(d->n_added + d->n_removed + d->n_changed, 0);

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_free_ char *text = NULL;
        assert_int_equal(treediff_format(d, fx->store, fx->store, TREEDIFF_FORMAT_TEXT, "A", "B", 0,
                                         &text, &err),
                         0);
        assert_string_equal(text, "identical\n");
}

static void test_added_removed_sorted(void **state)
{
        struct fixture *fx = *state;
        put_both(fx, "/etc/same", "same\n");
        put_file(fx, fx->a, "/etc/old", "old\n", 0644, 100);
        put_file(fx, fx->b, "/etc/new", "new\n", 0644, 100);
        /* "/a-b" sorts between "/a" and "/a/c": the walk must follow strcmp order. */
        put_file(fx, fx->b, "/a/c", "c\n", 0644, 100);
        put_file(fx, fx->a, "/a-b", "ab\n", 0644, 100);
        _cleanup_treediff_ struct treediff *d = NULL;
        assert_int_equal(treediff_compare(fx->a, fx->b, &d), 0);
        /* /a is an implicit directory on b only; /a-b only on a. */
        const char *paths[] = { "/a", "/a-b", "/a/c", "/etc/new", "/etc/old" };
        const enum treediff_kind kinds[] = { TREEDIFF_ADDED, TREEDIFF_REMOVED, TREEDIFF_ADDED,
                                             TREEDIFF_ADDED, TREEDIFF_REMOVED };
        assert_int_equal(d->n_items, ELEMENTSOF(paths));
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                const struct treediff_item *it = &d->items[i];
                assert_string_equal((it->a ? it->a : it->b)->path, paths[i]);
                assert_int_equal(it->kind, kinds[i]);
                assert_true(it->kind == TREEDIFF_ADDED ? !it->a && it->b : it->a && !it->b);
        }
        assert_int_equal(d->n_added, 3);
        assert_int_equal(d->n_removed, 2);
        assert_int_equal(d->n_changed, 0);
}

static void test_each_change(void **state)
{
        struct fixture *fx = *state;
        put_file(fx, fx->a, "/content", "one\n", 0644, 100);
        put_file(fx, fx->b, "/content", "two\n", 0644, 100);
        put_file(fx, fx->a, "/grows", "one\n", 0644, 100);
        put_file(fx, fx->b, "/grows", "one more\n", 0644, 100);
        put_file(fx, fx->a, "/mode", "x\n", 0644, 100);
        put_file(fx, fx->b, "/mode", "x\n", 0755, 100);
        put_file(fx, fx->a, "/mtime", "x\n", 0644, 100);
        put_file(fx, fx->b, "/mtime", "x\n", 0644, 200);
        put_file(fx, fx->a, "/owner", "x\n", 0644, 100);
        struct tree_entry owner = *tree_lookup(fx->a, "/owner");
        owner.uid = 65532;
        owner.gid = 65532;
        put(fx, fx->b, &owner);
        struct tree_entry link = { .path = "/link", .type = TREE_SYMLINK, .mode = 0777 };
        link.target = "/a";
        put(fx, fx->a, &link);
        link.target = "/b";
        put(fx, fx->b, &link);
        struct tree_entry dev = {
                .path = "/null", .type = TREE_CHR, .mode = 0666, .dev_major = 1, .dev_minor = 3
        };
        put(fx, fx->a, &dev);
        dev.dev_minor = 5;
        put(fx, fx->b, &dev);
        put_file(fx, fx->a, "/type", "x\n", 0644, 100);
        struct tree_entry dir = { .path = "/type", .type = TREE_DIR, .mode = 0644, .mtime = 100 };
        put(fx, fx->b, &dir);

        _cleanup_treediff_ struct treediff *d = NULL;
        assert_int_equal(treediff_compare(fx->a, fx->b, &d), 0);
        const struct {
                const char *path;
                unsigned changes;
        } want[] = {
                { "/content", TREEDIFF_CONTENT },
                { "/grows", TREEDIFF_CONTENT | TREEDIFF_SIZE },
                { "/link", TREEDIFF_TARGET },
                { "/mode", TREEDIFF_MODE },
                { "/mtime", TREEDIFF_MTIME },
                { "/null", TREEDIFF_DEVICE },
                { "/owner", TREEDIFF_OWNER },
                /* A type change does not also report size or content. */
                { "/type", TREEDIFF_TYPE },
        };
        assert_int_equal(d->n_items, ELEMENTSOF(want));
        assert_int_equal(d->n_changed, ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_int_equal(d->items[i].kind, TREEDIFF_CHANGED);
                assert_string_equal(d->items[i].a->path, want[i].path);
                assert_int_equal(d->items[i].changes, want[i].changes);
        }

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_free_ char *text = NULL, *json = NULL;
        assert_int_equal(treediff_format(d, fx->store, fx->store, TREEDIFF_FORMAT_TEXT, "A", "B", 0,
                                         &text, &err),
                         0);
        char one[DIGEST_HEX_MAX], two[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, "one\n", 4, one);
        digest_buf_hex(DIGEST_SHA256, "two\n", 4, two);
        _cleanup_free_ char *content_line = NULL;
        assert_true(asprintf(&content_line, "changed  /content: content sha256:%s -> sha256:%s\n",
                             one, two) > 0);
        assert_non_null(strstr(text, content_line));
        assert_non_null(strstr(text, "changed  /mode: mode 0644 -> 0755\n"));
        assert_non_null(strstr(text, "changed  /mtime: mtime 1970-01-01T00:01:40Z -> "
                                     "1970-01-01T00:03:20Z\n"));
        assert_non_null(strstr(text, "changed  /owner: owner 0:0 -> 65532:65532\n"));
        assert_non_null(strstr(text, "changed  /link: target /a -> /b\n"));
        assert_non_null(strstr(text, "changed  /null: device 1:3 -> 1:5\n"));
        assert_non_null(strstr(text, "changed  /type: type file -> directory\n"));
        assert_non_null(strstr(text, "0 added, 0 removed, 8 changed\n"));

        assert_int_equal(treediff_format(d, fx->store, fx->store, TREEDIFF_FORMAT_JSON, "A", "B", 0,
                                         &json, &err),
                         0);
        assert_true(startswith(json, "{\"schema\":\"cairn-diff/1\",\"a\":\"A\",\"b\":\"B\","
                                     "\"identical\":false,\"added\":0,\"removed\":0,"
                                     "\"changed\":8,\"entries\":["));
        _cleanup_free_ char *json_content = NULL;
        assert_true(asprintf(&json_content,
                             "{\"path\":\"/content\",\"change\":\"changed\",\"what\":[\"content\"],"
                             "\"a\":{\"type\":\"file\",\"mode\":\"0644\",\"uid\":0,\"gid\":0,"
                             "\"mtime\":100,\"size\":4,\"sha256\":\"%s\"},",
                             one) > 0);
        assert_non_null(strstr(json, json_content));
        assert_non_null(strstr(json, "\"what\":[\"content\",\"size\"]"));
        assert_int_equal(json[strlen(json) - 1], '\n');
}

static void test_text_limit_and_escaping(void **state)
{
        struct fixture *fx = *state;
        put_file(fx, fx->b, "/x\nnewline", "n\n", 0644, 0);
        put_file(fx, fx->b, "/y", "y\n", 0644, 0);
        put_file(fx, fx->b, "/z", "z\n", 0644, 0);
        _cleanup_treediff_ struct treediff *d = NULL;
        assert_int_equal(treediff_compare(fx->a, fx->b, &d), 0);
        assert_int_equal(d->n_added, 3);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_free_ char *text = NULL;
        assert_int_equal(treediff_format(d, fx->store, fx->store, TREEDIFF_FORMAT_TEXT, "A", "B", 2,
                                         &text, &err),
                         0);
        assert_non_null(strstr(text, "added    /x\\x0anewline: file, mode 0644, owner 0:0"));
        assert_non_null(strstr(text, "added    /y: "));
        assert_null(strstr(text, "/z"));
        assert_non_null(strstr(text, "... and 1 more\n3 added, 0 removed, 0 changed\n"));
}

static void test_missing_content_is_an_error(void **state)
{
        struct fixture *fx = *state;
        struct tree_entry e = { .path = "/ghost", .type = TREE_REG, .mode = 0644, .size = 1 };
        memset(e.key.bytes, 0xab, sizeof(e.key.bytes));
        put(fx, fx->b, &e);
        _cleanup_treediff_ struct treediff *d = NULL;
        assert_int_equal(treediff_compare(fx->a, fx->b, &d), 0);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_free_ char *text = NULL;
        assert_int_equal(treediff_format(d, fx->store, fx->store, TREEDIFF_FORMAT_TEXT, "A", "B", 0,
                                         &text, &err),
                         -ENOENT);
        assert_null(text);
        assert_non_null(strstr(err.messages[0], "/ghost"));
}

static void test_format_names(void **state)
{
        (void)state;
        enum treediff_format f;
        assert_int_equal(treediff_format_from_string("json", &f), 0);
        assert_int_equal(f, TREEDIFF_FORMAT_JSON);
        assert_int_equal(treediff_format_from_string("text", &f), 0);
        assert_int_equal(f, TREEDIFF_FORMAT_TEXT);
        assert_int_equal(treediff_format_from_string("sarif", &f), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_identical, setup, teardown),
                cmocka_unit_test_setup_teardown(test_added_removed_sorted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_each_change, setup, teardown),
                cmocka_unit_test_setup_teardown(test_text_limit_and_escaping, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_content_is_an_error, setup, teardown),
                cmocka_unit_test(test_format_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
