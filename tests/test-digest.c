/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "base/digest.h"

static void test_known_vectors(void **state)
{
        (void)state;
        char hex[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, "abc", 3, hex);
        assert_string_equal(hex,
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        digest_buf_hex(DIGEST_SHA1, "abc", 3, hex);
        assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
        digest_buf_hex(DIGEST_SHA256, "", 0, hex);
        assert_string_equal(hex,
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_streaming_equals_oneshot(void **state)
{
        (void)state;
        _cleanup_digest_ struct digest *d = digest_new(DIGEST_SHA256);
        assert_non_null(d);
        digest_update(d, "a", 1);
        digest_update(d, "bc", 2);
        char oci[DIGEST_OCI_LEN];
        digest_final_oci(d, oci);
        assert_string_equal(
                oci, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_known_vectors),
                cmocka_unit_test(test_streaming_equals_oneshot),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
