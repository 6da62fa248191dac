/* SPDX-License-Identifier: Apache-2.0 */
/* The lock file model: byte-stable round trip, positioned errors, the inputs digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "recipe/lockfile.h"
#include "base/util.h"

static const char *const good =
        "{\n"
        "  \"lockfile\": 1,\n"
        "  \"recipe\": \"hello\",\n"
        "  \"arch\": \"amd64\",\n"
        "  \"inputs\": \"sha256:00\",\n"
        "  \"sources\": [\n"
        "    {\n"
        "      \"name\": \"debian\",\n"
        "      \"url\": \"apt\",\n"
        "      \"suite\": \"bookworm\",\n"
        "      \"release-sha256\": "
        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\n"
        "      \"date\": \"Sat, 01 Jan 2000 00:00:00 UTC \\u00e9 \\\"x\\\"\"\n"
        "    }\n"
        "  ],\n"
        "  \"utilities\": [\n"
        "    {\n"
        "      \"request\": \"tini (>= 0.19)\",\n"
        "      \"package\": \"tini\"\n"
        "    }\n"
        "  ],\n"
        "  \"packages\": [\n"
        "    {\n"
        "      \"name\": \"tini\",\n"
        "      \"version\": \"0.19.0-1+b3\",\n"
        "      \"arch\": \"amd64\",\n"
        "      \"source\": \"debian\",\n"
        "      \"filename\": \"pool/main/t/tini/tini_0.19.0-1+b3_amd64.deb\",\n"
        "      \"size\": 260000,\n"
        "      \"sha256\": "
        "\"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\",\n"
        "      \"picked-in\": [\n"
        "        \"dev\",\n"
        "        \"prod\"\n"
        "      ],\n"
        "      \"installed-in\": [],\n"
        "      \"needed-by\": [\n"
        "        \"utility tini (>= 0.19)\"\n"
        "      ]\n"
        "    }\n"
        "  ]\n"
        "}\n";

static char *print(const struct lockfile *lock)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        lockfile_print(lock, f);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_round_trip(void **state)
{
        (void)state;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_lockfile_ struct lockfile *lock = NULL;
        assert_int_equal(lockfile_parse("x.lock.json", good, strlen(good), &lock, &err), 0);
        assert_int_equal(lock->n_packages, 1);
        assert_string_equal(lock->sources[0].date, "Sat, 01 Jan 2000 00:00:00 UTC \xc3\xa9 \"x\"");
        assert_int_equal(lock->packages[0].size, 260000);
        assert_string_equal(lock->packages[0].picked_in[1], "prod");
        assert_null(lock->packages[0].installed_in[0]);
        _cleanup_free_ char *out = print(lock);
        /* The writer escapes only what JSON requires, so é comes back as UTF-8. */
        _cleanup_free_ char *expect = strdup(good);
        char *u = strstr(expect, "\\u00e9");
        assert_non_null(u);
        memcpy(u, "\xc3\xa9", 2);
        memmove(u + 2, u + 6, strlen(u + 6) + 1);
        assert_string_equal(out, expect);
}

/* Replaces the first `from` in good by `to` and expects an error mentioning `what` at
 * line:column `pos`. */
static void expect_error(const char *from, const char *to, const char *pos, const char *what)
{
        const char *at = strstr(good, from);
        assert_non_null(at);
        _cleanup_free_ char *text = NULL;
        assert_true(asprintf(&text, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from)) > 0);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_lockfile_ struct lockfile *lock = NULL;
        assert_int_equal(lockfile_parse("x.lock.json", text, strlen(text), &lock, &err), -EINVAL);
        assert_null(lock);
        _cleanup_free_ char *msg = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&msg, &len);
        cairn_error_print(&err, f);
        fclose(f);
        assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_USAGE);
        if (!strstr(msg, pos) || !strstr(msg, what))
                fail_msg("expected '%s' and '%s' in: %s", pos, what, msg);
}

/* good's one section, with arch a, as an element of "architectures": its lines from the
 * top-level "arch" on, indented by 4, that arch replaced. */
static char *section(const char *a)
{
        const char *start = strstr(good, "  \"arch\": \"amd64\",\n");
        const char *end = strrchr(good, '}');
        assert_non_null(start);
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        assert_non_null(f);
        fprintf(f, "    {\n      \"arch\": \"%s\",\n", a);
        for (const char *p = strchr(start, '\n') + 1; p < end;) {
                const char *nl = strchr(p, '\n');
                fprintf(f, "    %.*s\n", (int)(nl - p), p);
                p = nl + 1;
        }
        fputs("    }", f);
        assert_int_equal(fclose(f), 0);
        return out;
}

static void test_architectures(void **state)
{
        (void)state;
        _cleanup_free_ char *amd = section("amd64"), *arm = section("arm64"), *text = NULL;
        assert_true(asprintf(&text,
                             "{\n  \"lockfile\": 1,\n  \"recipe\": \"hello\",\n  "
                             "\"architectures\": [\n%s,\n%s\n  ]\n}\n",
                             amd, arm) > 0);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_lockfile_ struct lockfile *lock = NULL;
        assert_int_equal(lockfile_parse("x.lock.json", text, strlen(text), &lock, &err), 0);
        assert_string_equal(lock->arch, "amd64");
        assert_non_null(lock->next);
        assert_string_equal(lock->next->arch, "arm64");
        assert_string_equal(lock->next->recipe, "hello");
        assert_null(lock->next->next);
        assert_int_equal(lock->next->n_packages, 1);
        /* Printed back: the same sections, byte-stable (é aside, as in test_round_trip). */
        _cleanup_free_ char *out = print(lock);
        _cleanup_lockfile_ struct lockfile *again = NULL;
        assert_int_equal(lockfile_parse("y.lock.json", out, strlen(out), &again, &err), 0);
        _cleanup_free_ char *out2 = print(again);
        assert_string_equal(out, out2);
        assert_non_null(strstr(out, "\"architectures\": ["));

        /* Taking a section unlinks it; a chain of one prints the flat form. */
        struct lockfile *arm64 = lockfile_take_arch(&again, "arm64");
        assert_non_null(arm64);
        assert_null(arm64->next);
        assert_null(lockfile_take_arch(&again, "s390x"));
        _cleanup_free_ char *flat = print(again);
        assert_null(strstr(flat, "architectures"));
        assert_non_null(strstr(flat, "  \"arch\": \"amd64\",\n"));
        lockfile_free(arm64);

        /* Out of order, or an architecture twice: a positioned error. */
        const char *bad[][2] = { { arm, amd }, { amd, amd } };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *t = NULL;
                assert_true(asprintf(&t,
                                     "{\n  \"lockfile\": 1,\n  \"recipe\": \"hello\",\n  "
                                     "\"architectures\": [\n%s,\n%s\n  ]\n}\n",
                                     bad[i][0], bad[i][1]) > 0);
                _cleanup_cairn_error_ struct cairn_error e = CAIRN_ERROR_INIT;
                _cleanup_lockfile_ struct lockfile *l = NULL;
                assert_int_equal(lockfile_parse("z.lock.json", t, strlen(t), &l, &e), -EINVAL);
                assert_true(e.n_messages > 0);
                assert_non_null(strstr(e.messages[0], "out of order or named twice"));
        }
        const char *empty = "{\"lockfile\": 1, \"recipe\": \"x\", \"architectures\": []}";
        _cleanup_cairn_error_ struct cairn_error e2 = CAIRN_ERROR_INIT;
        _cleanup_lockfile_ struct lockfile *l2 = NULL;
        assert_int_equal(lockfile_parse("e.lock.json", empty, strlen(empty), &l2, &e2), -EINVAL);
}

static void test_errors(void **state)
{
        (void)state;
        expect_error("\"lockfile\": 1", "\"lockfile\": 2", "x.lock.json:2:15", "version 2");
        expect_error("\"arch\": \"amd64\"", "\"arch\": 64", "x.lock.json:4:11", "arch");
        expect_error("\"size\": 260000", "\"size\": -1", "x.lock.json:28:15", "size");
        expect_error("\"installed-in\": []", "\"installed\": []", "x.lock.json:34:7",
                     "unknown key 'installed'");
        expect_error("\"source\": \"debian\"", "\"source\": \"ubuntu\"", "x.lock.json:26:17",
                     "not one of the lock's sources");
        expect_error("pool/main/t/tini", "../../etc/t", "x.lock.json:27:19", "without '..'");
        expect_error("\"sha256\": \"fedc", "\"sha256\": \"FEDC", "x.lock.json:29", "hex");
        expect_error("\"suite\": \"bookworm\",", "", "x.lock.json:7:5", "missing 'suite'");
        expect_error("\"recipe\": \"hello\",", "\"recipe\": \"hello\", \"recipe\": \"x\",",
                     "x.lock.json:3", "duplicate key 'recipe'");
        expect_error("{\n  \"lockfile\"", "[\n  \"lockfile\"", "x.lock.json", "lock");
}

static const char *const recipe_text = "recipe: 1\n"
                                       "name: hello\n"
                                       "sources:\n"
                                       "  - { name: debian, url: apt, suite: bookworm, keyring: "
                                       "/k.gpg }\n"
                                       "utilities:\n"
                                       "  - package: tini\n"
                                       "    files: { /usr/bin/tini-static: /sbin/tini }\n"
                                       "packages:\n"
                                       "  - { name: ca-certificates, variants: [dev] }\n"
                                       "artifacts:\n"
                                       "  - { src: a, dest: /app/a }\n";

static void digest_of(const char *text, const char *arch, char out[72])
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct recipe *r = NULL;
        assert_int_equal(recipe_parse_buffer("r.yaml", text, strlen(text), &r, &err), 0);
        assert_int_equal(lockfile_inputs_digest(r, arch, out), 0);
        recipe_free(r);
}

/* The digest changes with what decides the resolution, and only with that. */
/* The cairn-init pin (issue 25): optional, written after inputs, byte-stable, checked. */
static void test_init(void **state)
{
        (void)state;
        static const char pin[] =
                "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        _cleanup_free_ char *text = NULL;
        const char *at = strstr(good, "  \"sources\"");
        assert_non_null(at);
        assert_true(asprintf(&text, "%.*s  \"cairn-init\": \"%s\",\n%s", (int)(at - good), good,
                             pin, at) > 0);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_lockfile_ struct lockfile *lock = NULL, *plain = NULL;
        assert_int_equal(lockfile_parse("x.lock.json", text, strlen(text), &lock, &err), 0);
        assert_string_equal(lock->init, pin);
        assert_int_equal(lockfile_parse("y.lock.json", good, strlen(good), &plain, &err), 0);
        assert_null(plain->init);
        _cleanup_free_ char *out = print(lock);
        assert_non_null(
                strstr(out, "  \"inputs\": \"sha256:00\",\n  \"cairn-init\": \"sha256:0123"));
        _cleanup_free_ char *out_plain = print(plain);
        assert_null(strstr(out_plain, "cairn-init"));

        _cleanup_strv_free_ char **lines = NULL;
        assert_int_equal(lockfile_diff(plain, lock, &lines), 0);
        assert_string_equal(
                lines[0],
                "+ cairn-init "
                "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        assert_null(lines[1]);
        strv_free(lines);
        lines = NULL;
        free(plain->init);
        plain->init = strdup("sha256:ff");
        assert_int_equal(lockfile_diff(lock, plain, &lines), 0);
        assert_non_null(strstr(lines[0], "~ cairn-init sha256:0123"));
        assert_non_null(strstr(lines[0], " -> sha256:ff"));

        expect_error("\"inputs\": \"sha256:00\",",
                     "\"inputs\": \"sha256:00\", \"cairn-init\": \"md5:1\",", "x.lock.json:5",
                     "cairn-init: expected sha256:");
        expect_error("\"inputs\": \"sha256:00\",", "\"inputs\": \"sha256:00\", \"cairn-init\": 5,",
                     "x.lock.json:5", "cairn-init");
}

static void test_inputs_digest(void **state)
{
        (void)state;
        char base[72], other[72];
        digest_of(recipe_text, "amd64", base);
        assert_true(startswith(base, "sha256:") && strlen(base) == 71);
        digest_of(recipe_text, "arm64", other);
        assert_string_not_equal(base, other);

        static const struct {
                const char *from, *to;
                bool changes;
        } cases[] = {
                { "package: tini\n", "package: tini (>= 0.19)\n", true },
                { "variants: [dev]", "variants: [prod]", true },
                { "suite: bookworm", "suite: trixie", true },
                { "keyring: /k.gpg", "keyring: /other.gpg", true },
                { "name: ca-certificates", "name: openssl", true },
                { "package: tini\n", "package: dumb-init\n", true },
                { "url: apt", "url: \"http://127.0.0.1/debian\"", true },
                { "name: debian", "name: mirror", true },
                { "keyring: /k.gpg }", "keyring: /k.gpg, components: [main, contrib] }", true },
                { "keyring: /k.gpg }", "keyring: /k.gpg, components: [main] }", false },
                { "/sbin/tini }", "/sbin/init }", false },
                { "dest: /app/a", "dest: /app/b", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *at = strstr(recipe_text, cases[i].from);
                assert_non_null(at);
                _cleanup_free_ char *text = NULL;
                assert_true(asprintf(&text, "%.*s%s%s", (int)(at - recipe_text), recipe_text,
                                     cases[i].to, at + strlen(cases[i].from)) > 0);
                digest_of(text, "amd64", other);
                if (cases[i].changes != !streq(base, other))
                        fail_msg("case %zu (%s -> %s): digest %s", i, cases[i].from, cases[i].to,
                                 cases[i].changes ? "did not change" : "changed");
        }

        /* trusted: is allowed only for file:// sources: compare two of those. */
#define LOCAL_RECIPE(extra)                                                                        \
        "recipe: 1\nname: hello\nsources:\n"                                                       \
        "  - { name: debian, url: \"file:///m\", suite: s, keyring: /k.gpg" extra " }\n"           \
        "utilities:\n  - package: tini\n    files: { /usr/bin/tini-static: /sbin/tini }\n"
        digest_of(LOCAL_RECIPE(""), "amd64", base);
        digest_of(LOCAL_RECIPE(", trusted: true"), "amd64", other);
#undef LOCAL_RECIPE
        assert_string_not_equal(base, other);
}

static void test_diff(void **state)
{
        (void)state;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_lockfile_ struct lockfile *a = NULL, *b = NULL;
        assert_int_equal(lockfile_parse("a", good, strlen(good), &a, &err), 0);
        assert_int_equal(lockfile_parse("b", good, strlen(good), &b, &err), 0);
        _cleanup_strv_free_ char **lines = NULL;
        assert_int_equal(lockfile_diff(a, b, &lines), 0);
        assert_null(lines);
        free(b->packages[0].version);
        b->packages[0].version = strdup("0.20");
        assert_int_equal(lockfile_diff(a, b, &lines), 0);
        assert_string_equal(lines[0], "~ tini 0.19.0-1+b3 -> 0.20");
        assert_null(lines[1]);
        strv_free(lines);
        lines = NULL;
        assert_int_equal(lockfile_diff(NULL, a, &lines), 0);
        assert_string_equal(lines[0], "+ tini 0.19.0-1+b3");
        strv_free(lines);
        lines = NULL;
        assert_int_equal(lockfile_diff(a, NULL, &lines), 0);
        assert_string_equal(lines[0], "- tini 0.19.0-1+b3");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip), cmocka_unit_test(test_errors),
                cmocka_unit_test(test_init),       cmocka_unit_test(test_inputs_digest),
                cmocka_unit_test(test_diff),       cmocka_unit_test(test_architectures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
