/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/wait.h>

#include "sandbox/profile.h"
#include "sandbox/profile_report.h"
#include "sandbox/profile_run.h"

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

/* One run's result against the fixture: writes of every kind the report shows, and reads. */
static void report_fixture(struct fixture *f, struct profile_result *pr, struct sandbox_write *w,
                           size_t n_w, char **reads, size_t n_reads, int wait_status)
{
        *pr = (struct profile_result){
                .run = { .wait_status = wait_status,
                         .writes = w,
                         .n_writes = n_w,
                         .reads = reads,
                         .n_reads = n_reads },
        };
        char *writable[] = { "/tmp", NULL };
        assert_int_equal(
                profile_suggest(f->tree, f->store, &pr->run, writable, &pr->suggestion, NULL), 0);
}

static char *render(struct fixture *f, const struct profile_result *pr, bool reads,
                    enum profile_format format)
{
        const struct profile_report rep = {
                .image = "t-prod",
                .variant = "prod",
                .tree = f->tree,
                .result = pr,
                .reads = reads,
        };
        char *out = NULL;
        assert_int_equal(profile_report_format(&rep, format, &out), 0);
        assert_non_null(out);
        return out;
}

/* The exact bytes of `cairn profile --format json --reads`: scripts parse them, people diff
 * them. */
static void test_report_json(void **state)
{
        struct fixture *f = *state;
        struct sandbox_write w[] = {
                { "/app/conf/app.conf", SANDBOX_MODIFIED, false },
                { "/app/data/state", SANDBOX_CREATED, false }, /* beside an ELF file */
                { "/run/app.pid", SANDBOX_CREATED, false },
                { "/tmp/a", SANDBOX_CREATED, false },
        };
        char *reads[] = { "/app/conf/app.conf", "/app/hello" };
        struct profile_result pr;
        report_fixture(f, &pr, w, ELEMENTSOF(w), reads, ELEMENTSOF(reads), 3 << 8);
        _cleanup_free_ char *json = render(f, &pr, true, PROFILE_FORMAT_JSON);
        assert_string_equal(
                json,
                "{\n"
                "  \"image\": \"t-prod\",\n"
                "  \"variant\": \"prod\",\n"
                "  \"run\": {\"end\": \"exited with status 3\", \"timed_out\": false, "
                "\"killed\": false, \"exit_status\": 3, \"signal\": null},\n"
                "  \"writable\": [\"/app/conf\", \"/run\", \"/tmp\"],\n"
                "  \"writes\": [\n"
                "    {\"path\": \"/app/conf/app.conf\", \"op\": \"modified\", \"type\": \"file\", "
                "\"in_writable\": false, \"dir\": \"/app/conf\"},\n"
                "    {\"path\": \"/app/data/state\", \"op\": \"created\", \"type\": \"file\", "
                "\"in_writable\": false, \"dir\": null, \"unplaceable\": \"/app/data cannot be "
                "writable: it holds the image binary /app/data/lib.so\"},\n"
                "    {\"path\": \"/run/app.pid\", \"op\": \"created\", \"type\": \"file\", "
                "\"in_writable\": false, \"dir\": \"/run\"},\n"
                "    {\"path\": \"/tmp/a\", \"op\": \"created\", \"type\": \"file\", "
                "\"in_writable\": true, \"dir\": \"/tmp\"}\n"
                "  ],\n"
                "  \"reads\": {\"truncated\": false, \"opened\": [\"/app/conf/app.conf\", "
                "\"/app/hello\"],\n"
                "    \"never_opened\": [\"/app/data/lib.so\"]}\n"
                "}\n");
        _cleanup_free_ char *text = render(f, &pr, true, PROFILE_FORMAT_TEXT);
        assert_string_equal(text,
                            "# cairn profile t-prod: the program exited with status 3; 4 paths "
                            "written\n"
                            "writable: [/app/conf, /run, /tmp]\n"
                            "# never opened (slimming hints):\n"
                            "#   /app/data/lib.so\n"
                            "# --reads: 1 of 3 image files never opened (8 bytes)\n");

        struct recipe_run run = { .writable = (char *[]){ "/tmp", NULL }, .read_only = 0 };
        _cleanup_free_ char *warn = NULL;
        assert_int_equal(profile_report_warnings(&pr, &run, &warn), 0);
        assert_string_equal(
                warn,
                "cairn profile: warning: /app/conf/app.conf (modified) is outside writable: "
                "[/tmp]: that write would fail in prod (this variant's root is not read-only)\n"
                "cairn profile: warning: /app/data/state (created): /app/data cannot be "
                "writable: it holds the image binary /app/data/lib.so\n"
                "cairn profile: warning: /app/data/state (created) is outside writable: [/tmp]: "
                "that write would fail in prod (this variant's root is not read-only)\n"
                "cairn profile: warning: /run/app.pid (created) is outside writable: [/tmp]: "
                "that write would fail in prod (this variant's root is not read-only)\n");
        profile_suggestion_clear(&pr.suggestion);
}

/* A program killed by a signal, nothing written, no --reads: nulls and empty lists. */
static void test_report_json_empty(void **state)
{
        struct fixture *f = *state;
        struct profile_result pr;
        report_fixture(f, &pr, NULL, 0, NULL, 0, SIGKILL);
        _cleanup_free_ char *json = render(f, &pr, false, PROFILE_FORMAT_JSON);
        assert_string_equal(json, "{\n"
                                  "  \"image\": \"t-prod\",\n"
                                  "  \"variant\": \"prod\",\n"
                                  "  \"run\": {\"end\": \"killed by signal 9\", \"timed_out\": "
                                  "false, \"killed\": false, \"exit_status\": null, \"signal\": "
                                  "9},\n"
                                  "  \"writable\": [],\n"
                                  "  \"writes\": []\n"
                                  "}\n");
        _cleanup_free_ char *text = render(f, &pr, false, PROFILE_FORMAT_TEXT);
        assert_string_equal(text, "# cairn profile t-prod: the program killed by signal 9; 0 "
                                  "paths written\n"
                                  "writable: []\n");
        profile_suggestion_clear(&pr.suggestion);
}

/* A file whose content cannot be read must not pass for data: the suggestion fails instead of
 * offering its directory. */
static void test_unreadable_content_fails(void **state)
{
        struct fixture *f = *state;
        struct tree_entry e = { .path = "/srv/blob", .type = TREE_REG, .mode = 0644, .size = 64 };
        memset(&e.key, 0x5a, sizeof(e.key)); /* never stored */
        assert_int_equal(tree_insert(f->tree, &e, TREE_INSERT_REPLACE, NULL), 0);
        struct sandbox_write w[] = { { "/srv/new", SANDBOX_CREATED, false } };
        struct sandbox_result res = { .writes = w, .n_writes = ELEMENTSOF(w) };
        struct profile_suggestion p = { 0 };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_true(profile_suggest(f->tree, f->store, &res, NULL, &p, &err) < 0);
        assert_true(cairn_error_isset(&err));
        assert_non_null(strstr(err.messages[0], "/srv/blob"));
        assert_null(p.dirs);
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
                cmocka_unit_test_setup_teardown(test_report_json, setup, teardown),
                cmocka_unit_test_setup_teardown(test_report_json_empty, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable_content_fails, setup, teardown),
                cmocka_unit_test(test_path_under),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
