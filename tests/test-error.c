/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "base/error.h"

static void test_add_keeps_first_class(void **state)
{
        (void)state;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_false(cairn_error_isset(&err));
        assert_int_equal(cairn_error_add(&err, CAIRN_EXIT_SOURCE, -EIO, "a %d", 1), -EIO);
        assert_int_equal(cairn_error_add(&err, CAIRN_EXIT_USAGE, -EINVAL, "b"), -EINVAL);
        assert_true(cairn_error_isset(&err));
        assert_int_equal(err.code, -EIO);
        assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_SOURCE);
        assert_int_equal(err.n_messages, 2);
        assert_string_equal(err.messages[0], "a 1");
}

static void test_wrap_prefixes_every_message(void **state)
{
        (void)state;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        cairn_error_add(&err, CAIRN_EXIT_SOURCE, -EBADMSG, "sha256 mismatch");
        assert_int_equal(cairn_error_wrap(&err, -EIO, "fetching tini %s", "0.19.0-1"), -EBADMSG);
        assert_string_equal(err.messages[0], "fetching tini 0.19.0-1: sha256 mismatch");
}

static void test_wrap_bare_errno(void **state)
{
        (void)state;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(cairn_error_wrap(&err, -ENOSPC, "writing %s", "out"), -ENOSPC);
        assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_IO);
        assert_non_null(strstr(err.messages[0], "writing out: "));
}

static void test_errno_class(void **state)
{
        (void)state;
        _cleanup_cairn_error_ struct cairn_error a = CAIRN_ERROR_INIT, b = CAIRN_ERROR_INIT;
        cairn_error_errno(&a, -ENOENT, "x");
        cairn_error_errno(&b, -ENOSPC, "y");
        assert_int_equal(cairn_error_exit_status(&a), CAIRN_EXIT_USAGE);
        assert_int_equal(cairn_error_exit_status(&b), CAIRN_EXIT_IO);
}

static void test_null_error_is_allowed(void **state)
{
        (void)state;
        assert_int_equal(cairn_error_add(NULL, CAIRN_EXIT_IO, -EIO, "ignored"), -EIO);
        assert_int_equal(cairn_error_add(NULL, CAIRN_EXIT_IO, 0, "ignored"), -EINVAL);
        cairn_error_clear(NULL);
        assert_int_equal(cairn_error_exit_status(NULL), CAIRN_EXIT_OK);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_add_keeps_first_class),
                cmocka_unit_test(test_wrap_prefixes_every_message),
                cmocka_unit_test(test_wrap_bare_errno),
                cmocka_unit_test(test_errno_class),
                cmocka_unit_test(test_null_error_is_allowed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
