/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn-init's runtime.json reader (init/rtjson.c), compiled with the ordinary compiler (and
 * the sanitizers in build-asan): what it accepts, what it refuses and where it says the
 * problem is, and that no truncation or byte flip of a valid document makes it misbehave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtjson.h"

static const char valid[] =
        "{\"schema\":\"cairn-runtime/1\",\"name\":\"svc\",\"variant\":\"prod\","
        "\"user\":\"65532:65532\",\"read-only\":true,\"landlock\":true,"
        "\"writable\":[\"/tmp\",\"/run/svc\"],\"require-env\":[\"TOKEN\"],"
        "\"tmpfs\":[{\"path\":\"/tmp\",\"mode\":\"1777\",\"uid\":0,\"gid\":0}],"
        "\"executables\":[\"/app/svc\",\"/sbin/cairn-init\"],"
        "\"healthcheck\":{\"type\":\"http\",\"expect\":null,\"interval\":30000000000,"
        "\"retries\":3,\"ratio\":-1.5e+3}}\n";

/* Parses a copy of doc (len bytes): the reader decodes in place and needs len + 1 bytes. */
static int parse(const char *doc, size_t len, struct rt_manifest *m, char *msg, size_t msg_size,
                 char **ret_buf)
{
        char *buf = malloc(len + 1);
        int r;

        assert_non_null(buf);
        memcpy(buf, doc, len);
        buf[len] = '\0';
        r = rt_manifest_parse(buf, len, m, msg, msg_size);
        *ret_buf = buf;
        return r;
}

static void test_valid(void **state)
{
        (void)state;
        struct rt_manifest m;
        char msg[256], *buf;

        assert_int_equal(parse(valid, strlen(valid), &m, msg, sizeof(msg), &buf), 0);
        assert_int_equal(m.n_writable, 2);
        assert_string_equal(m.writable[0], "/tmp");
        assert_string_equal(m.writable[1], "/run/svc");
        assert_null(m.writable[2]);
        assert_int_equal(m.n_executables, 2);
        assert_string_equal(m.executables[0], "/app/svc");
        assert_string_equal(m.executables[1], "/sbin/cairn-init");
        assert_null(m.executables[2]);
        assert_true(m.landlock);
        rt_manifest_clear(&m);
        assert_null(m.writable);
        free(buf);
}

static void test_empty_lists_and_whitespace(void **state)
{
        (void)state;
        static const char doc[] = " \r\n\t{ \"executables\" : [ ] ,\n \"writable\":[],"
                                  "\"schema\" : \"cairn-runtime/1\" , \"landlock\": false }\n ";
        struct rt_manifest m;
        char msg[256], *buf;

        assert_int_equal(parse(doc, strlen(doc), &m, msg, sizeof(msg), &buf), 0);
        assert_int_equal(m.n_writable, 0);
        assert_null(m.writable[0]);
        assert_int_equal(m.n_executables, 0);
        assert_false(m.landlock);
        rt_manifest_clear(&m);
        free(buf);
}

static void test_escapes_decoded(void **state)
{
        (void)state;
        /* \/ and \u002f are "/"; a surrogate pair is one 4-byte character; raw UTF-8 kept. */
        static const char doc[] =
                "{\"schema\":\"cairn-runtime/1\",\"writable\":[\"\\/tmp\\u002fa\"],"
                "\"executables\":[\"/app/\\ud83d\\ude00\",\"/app/caf\xc3\xa9\",\"/a\\tb\"]}";
        struct rt_manifest m;
        char msg[256], *buf;

        assert_int_equal(parse(doc, strlen(doc), &m, msg, sizeof(msg), &buf), 0);
        assert_string_equal(m.writable[0], "/tmp/a");
        assert_string_equal(m.executables[0], "/app/\xf0\x9f\x98\x80");
        assert_string_equal(m.executables[1], "/app/caf\xc3\xa9");
        assert_string_equal(m.executables[2], "/a\tb");
        rt_manifest_clear(&m);
        free(buf);
}

struct bad {
        const char *doc;
        const char *reason; /* a substring of the message */
};

#define S "\"schema\":\"cairn-runtime/1\","
#define W "\"writable\":[],"
#define E "\"executables\":[]"

static const struct bad bad_docs[] = {
        { "", "expected a JSON object" },
        { "[]", "expected a JSON object" },
        { "{" W E "}", "no \"schema\"" },
        { "{" S E "}", "no \"writable\"" },
        { "{" S W "\"x\":1}", "no \"executables\"" },
        { "{\"schema\":\"cairn-runtime/2\"," W E "}", "is not cairn-runtime/1" },
        { "{" S W E ",\"writable\":[]}", "given twice" },
        { "{" S W E "} x", "data after" },
        { "{" S W E "}{}", "data after" },
        { "{" S W E ",}", "expected a string" },
        { "{" S W "\"executables\":[\"/a\",]}", "expected a string" },
        { "{" S W "\"executables\":[\"/a\" \"/b\"]}", "expected ','" },
        { "{" S W "\"executables\":[\"relative\"]}", "absolute path" },
        { "{" S W "\"executables\":[\"\"]}", "absolute path" },
        { "{" S W "\"executables\":[\"/a\\u0000b\"]}", "without NUL" },
        { "{" S W "\"executables\":[1]}", "expected a string" },
        { "{" S W "\"executables\":\"/a\"}", "array of paths" },
        { "{" S W E ",\"landlock\":\"yes\"}", "true or false" },
        { "{" S W E ",\"landlock\":tru}", "unexpected character" },
        { "{" S W E ",\"x\":\"a\nb\"}", "control character" },
        { "{" S W E ",\"x\":\"\\q\"}", "invalid escape" },
        { "{" S W E ",\"x\":\"\\u12\"}", "four hex digits" },
        { "{" S W E ",\"x\":\"\\udc00\"}", "lone low surrogate" },
        { "{" S W E ",\"x\":\"\\ud800\"}", "without its low half" },
        { "{" S W E ",\"x\":\"\\ud800\\u0041\"}", "without its low half" },
        { "{" S W E ",\"x\":\"\xc0\xaf\"}", "invalid UTF-8" },         /* overlong '/' */
        { "{" S W E ",\"x\":\"\xed\xa0\x80\"}", "invalid UTF-8" },     /* a surrogate */
        { "{" S W E ",\"x\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8" }, /* > U+10FFFF */
        { "{" S W E ",\"x\":\"\xe2\x82\"}", "invalid UTF-8" },         /* cut short */
        { "{" S W E ",\"x\":\"abc", "unterminated string" },
        { "{" S W E ",\"x\":01}", "expected ','" },
        { "{" S W E ",\"x\":1.}", "digits must follow '.'" },
        { "{" S W E ",\"x\":.5}", "unexpected character" },
        { "{" S W E ",\"x\":-}", "invalid number" },
        { "{" S W E ",\"x\":1e}", "digits must follow the exponent" },
        { "{" S W E ",\"x\":+1}", "unexpected character" },
        { "{" S W E ",\"x\":NaN}", "unexpected character" },
        { "{" S W E ",\"x\":{\"a\" 1}}", "expected ':'" },
        { "{" S W E ",\"x\":[1 2]}", "expected ',' or ']'" },
        { "{" S W E ",\"w\\u0000\":1}", "NUL" },
        { "{" S W E ",\"x\":1", "expected ','" },
        { "\xef\xbb\xbf{" S W E "}", "expected a JSON object" }, /* a BOM is not JSON */
};

static void test_refused(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
                struct rt_manifest m = { 0 };
                char msg[256], *buf;
                int r = parse(bad_docs[i].doc, strlen(bad_docs[i].doc), &m, msg, sizeof(msg), &buf);
                if (r != -EINVAL || !strstr(msg, bad_docs[i].reason))
                        fail_msg("document %zu <%s>: r=%d, msg <%s>, want <%s>", i, bad_docs[i].doc,
                                 r, msg, bad_docs[i].reason);
                assert_null(m.writable); /* untouched on failure */
                free(buf);
        }
}

static void test_position_in_message(void **state)
{
        (void)state;
        static const char doc[] = "{\n  \"schema\": \"cairn-runtime/1\",\n  \"writable\": [x]\n}";
        struct rt_manifest m;
        char msg[256], *buf;

        assert_int_equal(parse(doc, strlen(doc), &m, msg, sizeof(msg), &buf), -EINVAL);
        assert_string_equal(msg, "line 3, column 16: expected a string");
        free(buf);
}

static void test_depth_bound(void **state)
{
        (void)state;
        char doc[512];
        size_t n = 0;
        struct rt_manifest m;
        char msg[256], *buf;

        /* RT_MAX_DEPTH - 1 levels inside the top-level object's value pass; one more fails. */
        for (int depth = RT_MAX_DEPTH - 1; depth <= RT_MAX_DEPTH; depth++) {
                n = (size_t)snprintf(doc, sizeof(doc), "{" S W E ",\"deep\":");
                for (int i = 0; i < depth; i++)
                        doc[n++] = '[';
                for (int i = 0; i < depth; i++)
                        doc[n++] = ']';
                doc[n++] = '}';
                int r = parse(doc, n, &m, msg, sizeof(msg), &buf);
                if (depth < RT_MAX_DEPTH) {
                        assert_int_equal(r, 0);
                        rt_manifest_clear(&m);
                } else {
                        assert_int_equal(r, -EINVAL);
                        assert_non_null(strstr(msg, "nested deeper"));
                }
                free(buf);
        }
}

static void test_limits(void **state)
{
        (void)state;
        size_t cap = (RT_MAX_WRITABLE + 2) * 8 + RT_MAX_PATH + 256;
        char *doc = malloc(cap), *buf;
        struct rt_manifest m;
        char msg[256];
        size_t n;

        assert_non_null(doc);
        /* RT_MAX_WRITABLE paths pass, one more is refused. */
        for (int extra = 0; extra <= 1; extra++) {
                n = (size_t)snprintf(doc, cap, "{" S E ",\"writable\":[");
                for (int i = 0; i < RT_MAX_WRITABLE + extra; i++)
                        n += (size_t)snprintf(doc + n, cap - n, "%s\"/w\"", i ? "," : "");
                n += (size_t)snprintf(doc + n, cap - n, "]}");
                int r = parse(doc, n, &m, msg, sizeof(msg), &buf);
                if (!extra) {
                        assert_int_equal(r, 0);
                        assert_int_equal(m.n_writable, RT_MAX_WRITABLE);
                        rt_manifest_clear(&m);
                } else {
                        assert_int_equal(r, -EINVAL);
                        assert_non_null(strstr(msg, "more than 1024 paths"));
                }
                free(buf);
        }
        /* A path of RT_MAX_PATH bytes passes, one byte more is refused. */
        for (int extra = 0; extra <= 1; extra++) {
                n = (size_t)snprintf(doc, cap, "{" S W "\"executables\":[\"");
                memset(doc + n, 'a', RT_MAX_PATH + extra);
                doc[n] = '/';
                n += RT_MAX_PATH + extra;
                n += (size_t)snprintf(doc + n, cap - n, "\"]}");
                int r = parse(doc, n, &m, msg, sizeof(msg), &buf);
                assert_int_equal(r, extra ? -EINVAL : 0);
                if (!extra)
                        rt_manifest_clear(&m);
                free(buf);
        }
        /* A document larger than RT_MAX_BYTES is refused before it is read. */
        assert_int_equal(rt_manifest_parse(doc, (size_t)RT_MAX_BYTES + 1, &m, msg, sizeof(msg)),
                         -EINVAL);
        assert_non_null(strstr(msg, "larger than"));
        free(doc);
}

/* Every proper prefix of a valid document is refused; the whole one is accepted. */
static void test_truncations(void **state)
{
        (void)state;
        size_t len = strlen(valid);
        for (size_t cut = 0; cut <= len; cut++) {
                struct rt_manifest m;
                char msg[256], *buf;
                int r = parse(valid, cut, &m, msg, sizeof(msg), &buf);
                /* Only the trailing newline may go. */
                if (cut >= len - 1)
                        assert_int_equal(r, 0);
                else if (r != -EINVAL)
                        fail_msg("prefix of %zu bytes accepted", cut);
                if (r == 0)
                        rt_manifest_clear(&m);
                free(buf);
        }
}

/* Every single-byte change of a valid document: accepted or refused, never anything else
 * (the sanitizer build checks the memory side). */
static void test_byte_flips(void **state)
{
        (void)state;
        static const unsigned char values[] = { 0x00, 0x01, '"',  '\\', '{',  '}',  '[',
                                                ']',  ',',  ':',  '0',  'e',  '-',  'u',
                                                0x7f, 0x80, 0xbf, 0xc3, 0xed, 0xf0, 0xff };
        size_t len = strlen(valid);
        size_t accepted = 0, refused = 0;
        for (size_t i = 0; i < len; i++)
                for (size_t k = 0; k < sizeof(values); k++) {
                        char *doc = malloc(len + 1), *buf;
                        struct rt_manifest m;
                        char msg[256];
                        assert_non_null(doc);
                        memcpy(doc, valid, len);
                        doc[i] = (char)values[k];
                        int r = parse(doc, len, &m, msg, sizeof(msg), &buf);
                        if (r == 0) {
                                accepted++;
                                for (size_t j = 0; j < m.n_executables; j++)
                                        assert_true(m.executables[j][0] == '/');
                                rt_manifest_clear(&m);
                        } else {
                                assert_int_equal(r, -EINVAL);
                                assert_true(msg[0] != '\0');
                                refused++;
                        }
                        free(buf);
                        free(doc);
                }
        assert_true(refused > accepted); /* most flips break the document */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_empty_lists_and_whitespace),
                cmocka_unit_test(test_escapes_decoded),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_position_in_message),
                cmocka_unit_test(test_depth_bound),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_truncations),
                cmocka_unit_test(test_byte_flips),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
