/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "base/json.h"
#include "base/util.h"

/* Runs the writer calls of fn against a memory stream and returns the bytes (owned). */
static char *render(void (*fn)(struct json *j, const void *arg), const void *arg)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        struct json j;
        json_init(&j, f);
        fn(&j, arg);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void write_nested(struct json *j, const void *arg)
{
        (void)arg;
        json_object_begin(j);
        json_kv_string(j, "zeta", "last?");
        json_kv_uint(j, "alpha", 18446744073709551615ULL);
        json_key(j, "list");
        json_array_begin(j);
        json_int(j, -5);
        json_bool(j, true);
        json_object_begin(j);
        json_object_end(j);
        json_array_begin(j);
        json_array_end(j);
        json_string(j, "x");
        json_array_end(j);
        json_key(j, "empty");
        json_object_begin(j);
        json_object_end(j);
        json_object_end(j);
}

static void test_key_order_and_compact(void **state)
{
        (void)state;
        _cleanup_free_ char *out = render(write_nested, NULL);
        /* Keys in call order (not sorted), no whitespace anywhere. */
        assert_string_equal(out, "{\"zeta\":\"last?\",\"alpha\":18446744073709551615,"
                                 "\"list\":[-5,true,{},[],\"x\"],\"empty\":{}}");
}

/* The layout of a report: pretty at the top, some containers on one line. */
static void write_lines(struct json *j, const void *arg)
{
        (void)arg;
        json_object_begin(j);
        json_kv_string(j, "a", "x");
        json_key(j, "run");
        json_object_begin_line(j);
        json_key(j, "n");
        json_null(j);
        json_key(j, "list");
        json_array_begin(j); /* inside a one-line container: one line as well */
        json_int(j, 1);
        json_int(j, 2);
        json_array_end(j);
        json_line_break(j);
        json_kv_uint(j, "later", 3);
        json_object_end(j);
        json_key(j, "items");
        json_array_begin(j);
        json_array_begin_line(j);
        json_array_end(j);
        json_object_begin_line(j);
        json_kv_string(j, "p", "/x");
        json_object_end(j);
        json_array_end(j);
        json_key(j, "none");
        json_array_begin(j);
        json_array_end(j);
        json_object_end(j);
}

static void test_pretty_one_line(void **state)
{
        (void)state;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        struct json j;
        json_init_pretty(&j, f);
        write_lines(&j, NULL);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(buf, "{\n"
                                 "  \"a\": \"x\",\n"
                                 "  \"run\": {\"n\": null, \"list\": [1, 2],\n"
                                 "    \"later\": 3},\n"
                                 "  \"items\": [\n"
                                 "    [],\n"
                                 "    {\"p\": \"/x\"}\n"
                                 "  ],\n"
                                 "  \"none\": []\n"
                                 "}");
        free(buf);
        /* Compact output ignores the one-line requests and the line break. */
        _cleanup_free_ char *compact = render(write_lines, NULL);
        assert_string_equal(compact, "{\"a\":\"x\",\"run\":{\"n\":null,\"list\":[1,2],\"later\":3},"
                                     "\"items\":[[],{\"p\":\"/x\"}],\"none\":[]}");
}

static void write_one_string(struct json *j, const void *arg)
{
        json_string(j, arg);
}

static void check_string(const char *in, const char *want)
{
        _cleanup_free_ char *out = render(write_one_string, in);
        assert_string_equal(out, want);
}

static void test_string_escaping(void **state)
{
        (void)state;
        check_string("plain", "\"plain\"");
        check_string("", "\"\"");
        check_string("q\"b\\s/", "\"q\\\"b\\\\s/\"");
        check_string("a\nb\tc\x01\x1f\x7f", "\"a\\nb\\u0009c\\u0001\\u001f\\u007f\"");
}

static void test_utf8(void **state)
{
        (void)state;
        /* Valid sequences of every length pass through unchanged. */
        check_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                     "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
        /* A lone continuation byte, a truncated sequence, 0xff. */
        check_string("a\x80z", "\"a\\ufffdz\"");
        check_string("\xe2\x82", "\"\\ufffd\\ufffd\"");
        check_string("\xff", "\"\\ufffd\"");
        /* Overlong "/" (C0 AF, E0 80 AF), a surrogate (ED A0 80), past U+10FFFF (F4 90 80 80). */
        check_string("\xc0\xaf", "\"\\ufffd\\ufffd\"");
        check_string("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
        check_string("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
        check_string("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

static void test_time(void **state)
{
        (void)state;
        char t[32];
        json_format_time(0, t);
        assert_string_equal(t, "1970-01-01T00:00:00Z");
        json_format_time(1700000000, t);
        assert_string_equal(t, "2023-11-14T22:13:20Z");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_key_order_and_compact),
                cmocka_unit_test(test_pretty_one_line),
                cmocka_unit_test(test_string_escaping),
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_time),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
