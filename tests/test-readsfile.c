/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reads record (assembler/recipe/readsfile.c): written sorted and unique with a fixed key
 * order, read back to the same bytes, and refused when it is not what cairn writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "recipe/readsfile.h"

static char *print(const struct readsfile *rf)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        readsfile_print(rf, f);
        fclose(f);
        return text;
}

static void test_round_trip(void **state)
{
        (void)state;
        char dir[] = "/tmp/cairn-test-readsfile-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *path = NULL;
        assert_true(asprintf(&path, "%s/app.reads.json", dir) > 0);
        struct readsfile *rf = calloc(1, sizeof(*rf));
        assert_non_null(rf);
        rf->recipe = strdup("app");
        rf->variant = strdup("prod");
        char digest[72];
        const char *names[] = { "a", "b" }, *versions[] = { "1", "2" }, *sums[] = { "x", "y" };
        assert_int_equal(readsfile_packages_digest(names, versions, sums, 2, digest), 0);
        rf->packages = strdup(digest);
        const char *paths[] = { "/usr/lib/python3.11/os.py", "/app/main.py",
                                "/usr/lib/python3.11/os.py", "/usr/lib/python3.11/abc.py" };
        rf->reads = calloc(5, sizeof(char *));
        for (size_t i = 0; i < 4; i++)
                rf->reads[rf->n_reads++] = strdup(paths[i]);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(readsfile_write(rf, path, &err), 0);
        assert_int_equal(rf->n_reads, 3); /* sorted, the repeated one dropped */
        /* The digest is SHA-256 over "NAME VERSION SHA256\n" lines. */
        _cleanup_free_ char *first = print(rf);
        assert_string_equal(
                first, "{\n"
                       "  \"reads-record\": 1,\n"
                       "  \"recipe\": \"app\",\n"
                       "  \"variant\": \"prod\",\n"
                       "  \"packages\": \"sha256:131d9e4ddac1b7a063cc386ebfcd40ec59883240694d3940a6"
                       "567dbceae627dc\",\n"
                       "  \"reads\": [\n"
                       "    \"/app/main.py\",\n"
                       "    \"/usr/lib/python3.11/abc.py\",\n"
                       "    \"/usr/lib/python3.11/os.py\"\n"
                       "  ]\n"
                       "}\n");
        struct readsfile *back = NULL;
        assert_int_equal(readsfile_read(path, &back, &err), 0);
        _cleanup_free_ char *second = print(back);
        assert_string_equal(first, second);
        assert_true(readsfile_has(back, "/usr/lib/python3.11/abc.py"));
        assert_false(readsfile_has(back, "/usr/lib/python3.11/ab.py"));
        /* The file on disk is exactly what print gives. */
        _cleanup_free_ char *disk = NULL;
        size_t len = 0;
        assert_int_equal(read_file_bounded(path, 1 << 20, &disk, &len), 0);
        assert_int_equal(len, strlen(first));
        assert_memory_equal(disk, first, len);
        readsfile_free(back);
        readsfile_free(rf);
        assert_int_equal(readsfile_read("/nonexistent/x.reads.json", &back, &err), -ENOENT);
        (void)rm_rf(dir);
}

static void test_refused(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "{\"reads-record\": 2, \"recipe\": \"a\", \"variant\": \"p\", \"packages\": \"x\", "
                "\"reads\": []}",
                "{\"reads-record\": 1, \"recipe\": \"a\", \"variant\": \"p\", \"packages\": \"x\", "
                "\"reads\": [\"/b\", \"/a\"]}",
                "{\"reads-record\": 1, \"recipe\": \"a\", \"variant\": \"p\", \"packages\": \"x\", "
                "\"reads\": [\"/a\", \"/a\"]}",
                "{\"reads-record\": 1, \"recipe\": \"a\", \"variant\": \"p\", \"packages\": \"x\", "
                "\"reads\": [\"a/b\"]}",
                "{\"reads-record\": 1, \"recipe\": \"a\", \"variant\": \"p\", \"packages\": \"x\", "
                "\"reads\": [\"/a/../b\"]}",
                "{\"reads-record\": 1, \"recipe\": \"a\", \"variant\": \"p\", \"reads\": []}",
                "{\"reads-record\": 1, \"recipe\": \"a\", \"variant\": \"p\", \"packages\": \"x\", "
                "\"reads\": [], \"extra\": 1}",
                "[]",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
                struct readsfile *rf = NULL;
                int r = readsfile_parse("x.reads.json", bad[i], strlen(bad[i]), &rf, &err);
                if (r >= 0)
                        print_error("case %zu was accepted\n", i);
                assert_true(r < 0);
                assert_null(rf);
                assert_true(err.n_messages > 0);
                assert_non_null(strstr(err.messages[0], "x.reads.json"));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
