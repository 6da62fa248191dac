/* SPDX-License-Identifier: Apache-2.0 */
/* assembler/registry: references, WWW-Authenticate challenges, docker config credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "registry/client.h"
#include "registry/ref.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static struct registry_ref *parse_ok(const char *s)
{
        struct registry_ref *r = NULL;
        struct cairn_error err = CAIRN_ERROR_INIT;
        int rc = registry_ref_parse(s, &r, &err);
        if (rc < 0)
                fprintf(stderr, "%s: %s\n", s, err.n_messages ? err.messages[0] : "?");
        assert_int_equal(rc, 0);
        cairn_error_clear(&err);
        return r;
}

static void parse_bad(const char *s)
{
        struct registry_ref *r = NULL;
        struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_not_equal(registry_ref_parse(s, &r, &err), 0);
        assert_null(r);
        assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_USAGE);
        cairn_error_clear(&err);
}

static void test_refs(void **state)
{
        (void)state;
        struct registry_ref *r = parse_ok("127.0.0.1:5000/hello:prod");
        assert_string_equal(r->host, "127.0.0.1:5000");
        assert_string_equal(r->repo, "hello");
        assert_string_equal(r->tag, "prod");
        assert_null(r->digest);
        registry_ref_free(r);

        r = parse_ok("registry.example.org/team/app-name_x/sub.dir");
        assert_string_equal(r->host, "registry.example.org");
        assert_string_equal(r->repo, "team/app-name_x/sub.dir");
        assert_null(r->tag);
        registry_ref_free(r);

        r = parse_ok("localhost/a__b:v1.0-rc_1@sha256:" HEX_A);
        assert_string_equal(r->host, "localhost");
        assert_string_equal(r->repo, "a__b");
        assert_string_equal(r->tag, "v1.0-rc_1");
        assert_string_equal(r->digest, "sha256:" HEX_A);
        registry_ref_free(r);

        r = parse_ok("[::1]:5000/x");
        assert_string_equal(r->host, "[::1]:5000");
        registry_ref_free(r);

        parse_bad("hello:prod");  /* no registry: never a default one */
        parse_bad("hello/world"); /* "hello" is no host */
        parse_bad("/hello");
        parse_bad("127.0.0.1:5000/");
        parse_bad("127.0.0.1:5000/Hello"); /* upper case */
        parse_bad("127.0.0.1:5000/a//b");
        parse_bad("127.0.0.1:5000/a/");
        parse_bad("127.0.0.1:5000/-a");
        parse_bad("127.0.0.1:5000/a___b");
        parse_bad("127.0.0.1:5000/a:");
        parse_bad("127.0.0.1:5000/a:.x");
        parse_bad("127.0.0.1:5000/a:x y");
        parse_bad("127.0.0.1:5000/a@sha256:abc");
        parse_bad("127.0.0.1:0/a");
        parse_bad("127.0.0.1:70000/a");
        parse_bad("-bad.host/a");
        parse_bad("bad..host/a");
        parse_bad("ho_st.example/a");
        parse_bad("127.0.0.1:5000/a\n:b");
        char tag[200];
        memset(tag, 'a', sizeof(tag));
        snprintf(tag, sizeof(tag), "h.example/a:%0129d", 0);
        parse_bad(tag);

        assert_true(registry_tag_valid("prod"));
        assert_true(registry_tag_valid("_x"));
        assert_false(registry_tag_valid("-x"));
        assert_false(registry_tag_valid(""));
}

static void test_loopback(void **state)
{
        (void)state;
        assert_true(registry_host_is_loopback("localhost"));
        assert_true(registry_host_is_loopback("localhost:5000"));
        assert_true(registry_host_is_loopback("127.0.0.1"));
        assert_true(registry_host_is_loopback("127.0.0.1:5000"));
        assert_true(registry_host_is_loopback("127.1.2.3:1"));
        assert_true(registry_host_is_loopback("[::1]:5000"));
        assert_false(registry_host_is_loopback("127.0.0.1.example.org"));
        assert_false(registry_host_is_loopback("127.0.0.1.example.org:5000"));
        assert_false(registry_host_is_loopback("localhost.example.org"));
        assert_false(registry_host_is_loopback("127.0.0.256"));
        assert_false(registry_host_is_loopback("127.0.0"));
        assert_false(registry_host_is_loopback("128.0.0.1"));
        assert_false(registry_host_is_loopback("[::2]:5000"));
        assert_false(registry_host_is_loopback("10.0.0.1"));
}

static void test_referrers_tag(void **state)
{
        (void)state;
        char tag[DIGEST_OCI_LEN];
        registry_referrers_tag("sha256:" HEX_A, tag);
        assert_string_equal(tag, "sha256-" HEX_A);
        assert_true(registry_tag_valid(tag));
}

static void test_challenges(void **state)
{
        (void)state;
        struct registry_challenge ch;
        assert_int_equal(registry_challenge_parse("Bearer realm=\"https://auth.example/token\","
                                                  "service=\"reg.example\",scope=\"repository:a/"
                                                  "b:pull,push\"",
                                                  &ch),
                         0);
        assert_string_equal(ch.scheme, "bearer");
        assert_string_equal(ch.realm, "https://auth.example/token");
        assert_string_equal(ch.service, "reg.example");
        assert_string_equal(ch.scope, "repository:a/b:pull,push");
        registry_challenge_clear(&ch);

        assert_int_equal(registry_challenge_parse("Basic realm=\"basic-realm\"", &ch), 0);
        assert_string_equal(ch.scheme, "basic");
        assert_string_equal(ch.realm, "basic-realm");
        assert_null(ch.service);
        registry_challenge_clear(&ch);

        assert_int_equal(registry_challenge_parse("bearer realm=x, error=\"a \\\"q\\\" b\"", &ch),
                         0);
        assert_string_equal(ch.realm, "x");
        registry_challenge_clear(&ch);

        assert_int_equal(registry_challenge_parse("Negotiate abc", &ch), -EINVAL);
        assert_int_equal(registry_challenge_parse("Bearer realm=\"unterminated", &ch), -EINVAL);
        assert_int_equal(registry_challenge_parse("Bearer realm", &ch), -EINVAL);
        assert_int_equal(registry_challenge_parse("", &ch), -EINVAL);
}

static void write_config(const char *dir, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/config.json", dir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_docker_config(void **state)
{
        (void)state;
        char dir[] = "/tmp/cairn-test-registry-XXXXXX";
        assert_non_null(mkdtemp(dir));
        setenv("DOCKER_CONFIG", dir, 1);
        struct cairn_error err = CAIRN_ERROR_INIT;
        char *user = (char *)"x", *password = (char *)"x";

        /* No config: anonymous. */
        assert_int_equal(registry_docker_credentials("h.example", &user, &password, &err), 0);
        assert_null(user);
        assert_null(password);

        /* docker login's layout: tabs, https:// and /v1/ spellings; "alice:s3:cret". */
        write_config(dir, "{\n\t\"auths\": {\n\t\t\"https://h.example/v1/\": {\n\t\t\t\"auth\": "
                          "\"YWxpY2U6czM6Y3JldA==\"\n\t\t},\n\t\t\"other.example:5000\": "
                          "{\"auth\": \"Ym9iOnB3\"}\n\t}\n}\n");
        assert_int_equal(registry_docker_credentials("h.example", &user, &password, &err), 0);
        assert_string_equal(user, "alice");
        assert_string_equal(password, "s3:cret");
        free(user);
        free(password);
        assert_int_equal(registry_docker_credentials("other.example:5000", &user, &password, &err),
                         0);
        assert_string_equal(user, "bob");
        assert_string_equal(password, "pw");
        free(user);
        free(password);
        /* A host that is a prefix of a key is not that key's. */
        assert_int_equal(registry_docker_credentials("other.example", &user, &password, &err), 0);
        assert_null(user);
        assert_int_equal(registry_docker_credentials("h.exampl", &user, &password, &err), 0);
        assert_null(user);

        /* Broken configs are errors naming the file, never showing the secret. */
        write_config(dir, "{\"auths\": {\"h.example\": {\"auth\": \"bm9jb2xvbg==\"}}}");
        assert_int_not_equal(registry_docker_credentials("h.example", &user, &password, &err), 0);
        assert_non_null(strstr(err.messages[0], "config.json"));
        assert_null(strstr(err.messages[0], "bm9jb2xvbg"));
        cairn_error_clear(&err);
        write_config(dir, "{\"auths\": {\"h.example\": {\"auth\": \"%%%%\"}}}");
        assert_int_not_equal(registry_docker_credentials("h.example", &user, &password, &err), 0);
        cairn_error_clear(&err);
        write_config(dir, "[1, 2");
        assert_int_not_equal(registry_docker_credentials("h.example", &user, &password, &err), 0);
        cairn_error_clear(&err);

        char path[256];
        snprintf(path, sizeof(path), "%s/config.json", dir);
        unlink(path);
        rmdir(dir);
        unsetenv("DOCKER_CONFIG");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_refs),          cmocka_unit_test(test_loopback),
                cmocka_unit_test(test_referrers_tag), cmocka_unit_test(test_challenges),
                cmocka_unit_test(test_docker_config),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
