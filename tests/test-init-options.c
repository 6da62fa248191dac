/* SPDX-License-Identifier: Apache-2.0 */
/* cairn-init's command line (init/options.c), its --probe targets (init/probe_target.c) and its
 * exit-status mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "options.h"

/* argv arrays built from string literals; the parser never writes through them. */
#define ARGV(...) ((char *const[]){ "cairn-init", __VA_ARGS__, NULL })

static int parse(int argc, char *const *argv, struct init_options *o, char *msg)
{
        return init_options_parse(argc, argv, o, msg, 256);
}

static void test_program_after_double_dash(void **state)
{
        (void)state;
        char *const *v = ARGV("-g", "--", "/app/server", "--port", "80");
        struct init_options o;
        char msg[256];

        assert_int_equal(parse(6, v, &o, msg), 0);
        assert_int_equal(o.action, INIT_ACTION_RUN);
        assert_true(o.signal_group);
        assert_false(o.read_only_root);
        assert_false(o.enforce_read_only);
        assert_string_equal(o.argv[0], "/app/server");
        assert_string_equal(o.argv[1], "--port");
        assert_string_equal(o.argv[2], "80");
        assert_null(o.argv[3]);
}

static void test_program_without_double_dash(void **state)
{
        (void)state;
        char *const *v = ARGV("--read-only-root", "/bin/true", "-g");
        struct init_options o;
        char msg[256];

        assert_int_equal(parse(4, v, &o, msg), 0);
        assert_true(o.read_only_root);
        assert_false(o.signal_group); /* -g after PROGRAM belongs to PROGRAM */
        assert_string_equal(o.argv[0], "/bin/true");
        assert_string_equal(o.argv[1], "-g");
}

static void test_repeatable_options(void **state)
{
        (void)state;
        char *const *v =
                ARGV("--require-env", "HELLO_TOKEN", "--require-env=DB_URL", "--writable", "/tmp",
                     "--writable=/var/cache/app", "--enforce-read-only", "--", "app");
        struct init_options o;
        char msg[256];

        assert_int_equal(parse(10, v, &o, msg), 0);
        assert_int_equal(o.n_require_env, 2);
        assert_string_equal(o.require_env[0], "HELLO_TOKEN");
        assert_string_equal(o.require_env[1], "DB_URL");
        assert_int_equal(o.n_writable, 2);
        assert_string_equal(o.writable[0], "/tmp");
        assert_string_equal(o.writable[1], "/var/cache/app");
        assert_true(o.enforce_read_only);
        assert_string_equal(o.argv[0], "app");
}

static void test_double_dash_program_may_look_like_option(void **state)
{
        (void)state;
        char *const *v = ARGV("--", "--weird-name");
        struct init_options o;
        char msg[256];

        assert_int_equal(parse(3, v, &o, msg), 0);
        assert_string_equal(o.argv[0], "--weird-name");
}

static void test_help_and_version(void **state)
{
        (void)state;
        struct init_options o;
        char msg[256];

        assert_int_equal(parse(2, ARGV("-h"), &o, msg), 0);
        assert_int_equal(o.action, INIT_ACTION_HELP);
        assert_int_equal(parse(3, ARGV("-g", "--help"), &o, msg), 0);
        assert_int_equal(o.action, INIT_ACTION_HELP);
        assert_int_equal(parse(2, ARGV("--version"), &o, msg), 0);
        assert_int_equal(o.action, INIT_ACTION_VERSION);
        assert_non_null(strstr(init_usage, "--require-env NAME"));
}

static void expect_error(int argc, char *const *argv, const char *needle)
{
        struct init_options o;
        char msg[256];

        memset(&o, 0xa5, sizeof(o));
        assert_int_equal(parse(argc, argv, &o, msg), -EINVAL);
        if (!strstr(msg, needle))
                fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
        /* ret is written only on success */
        assert_int_equal(((unsigned char *)&o)[0], 0xa5);
}

static void test_errors(void **state)
{
        (void)state;
        expect_error(1, (char *const[]){ "cairn-init", NULL }, "no PROGRAM");
        expect_error(2, ARGV("--"), "no PROGRAM");
        expect_error(3, ARGV("-g", "--"), "no PROGRAM");
        expect_error(3, ARGV("--bogus", "app"), "unknown option --bogus");
        expect_error(3, ARGV("-x", "app"), "unknown option -x");
        expect_error(2, ARGV("--require-env"), "--require-env needs a value");
        expect_error(2, ARGV("--writable"), "--writable needs a value");
        expect_error(4, ARGV("--require-env", "", "--", "app"), "non-empty NAME");
        expect_error(3, ARGV("--require-env=A=B", "app"), "cannot contain '='");
        expect_error(3, ARGV("--writable=", "app"), "non-empty PATH");
        expect_error(3, ARGV("--", ""), "empty string");
        /* a prefix of a long option is not that option */
        expect_error(3, ARGV("--writablex", "app"), "unknown option --writablex");
}

static void test_limits(void **state)
{
        (void)state;
        char name[INIT_MAX_NAME + 2];
        char path[INIT_MAX_PATH + 2];
        char *argv[2 * INIT_MAX_WRITABLE + 4];
        struct init_options o;
        char msg[256];
        int argc = 0;

        memset(name, 'A', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        expect_error(4, ARGV("--require-env", name, "app"), "longer than 255 bytes");
        name[INIT_MAX_NAME] = '\0';
        assert_int_equal(parse(4, ARGV("--require-env", name, "app"), &o, msg), 0);

        memset(path, '/', sizeof(path) - 1);
        path[sizeof(path) - 1] = '\0';
        expect_error(4, ARGV("--writable", path, "app"), "longer than 4095 bytes");

        argv[argc++] = "cairn-init";
        for (int i = 0; i < INIT_MAX_WRITABLE; i++) {
                argv[argc++] = "--writable";
                argv[argc++] = "/tmp";
        }
        argv[argc++] = "app";
        argv[argc] = NULL;
        assert_int_equal(parse(argc, argv, &o, msg), 0);
        assert_int_equal(o.n_writable, INIT_MAX_WRITABLE);

        argv[argc - 1] = "--writable=/tmp";
        argv[argc++] = "app";
        argv[argc] = NULL;
        assert_int_equal(parse(argc, argv, &o, msg), -EINVAL);
        assert_non_null(strstr(msg, "more than 64 --writable"));
}

static void test_landlock_options(void **state)
{
        (void)state;
        struct init_options o;
        char msg[256];

        assert_int_equal(parse(3, ARGV("--", "app"), &o, msg), 0);
        assert_false(o.landlock);
        assert_string_equal(o.runtime_json, "/etc/cairn/runtime.json");
        assert_int_equal(o.grace, 5);
        assert_int_equal(parse(4, ARGV("--landlock", "--", "app"), &o, msg), 0);
        assert_true(o.landlock);
        /* the last one counts */
        assert_int_equal(parse(5, ARGV("--landlock", "--no-landlock", "--", "app"), &o, msg), 0);
        assert_false(o.landlock);
        assert_int_equal(
                parse(5, ARGV("--no-landlock", "--landlock", "app", "--no-landlock"), &o, msg), 0);
        assert_true(o.landlock); /* after PROGRAM: PROGRAM's */
        assert_string_equal(o.argv[1], "--no-landlock");
        assert_int_equal(
                parse(6, ARGV("--runtime-json", "/x/rt.json", "--grace=0", "--", "app"), &o, msg),
                0);
        assert_string_equal(o.runtime_json, "/x/rt.json");
        assert_int_equal(o.grace, 0);
        assert_int_equal(parse(4, ARGV("--grace", "3600", "app"), &o, msg), 0);
        assert_int_equal(o.grace, 3600);
        expect_error(4, ARGV("--grace", "3601", "app"), "from 0 to 3600");
        expect_error(4, ARGV("--grace", "-1", "app"), "from 0 to 3600");
        expect_error(4, ARGV("--grace", "99999999999999999999", "app"), "from 0 to 3600");
        expect_error(3, ARGV("--grace=", "app"), "needs a number");
        expect_error(3, ARGV("--runtime-json=", "app"), "--runtime-json needs a PATH");
}

static void test_probe_options(void **state)
{
        (void)state;
        struct init_options o;
        char msg[256];

        assert_int_equal(parse(3, ARGV("--probe", "http://127.0.0.1:8080/healthz?x=1"), &o, msg),
                         0);
        assert_int_equal(o.action, INIT_ACTION_PROBE);
        assert_int_equal(o.probe.kind, PROBE_HTTP);
        assert_int_equal(o.probe.family, AF_INET);
        assert_int_equal(o.probe.port, 8080);
        assert_string_equal(o.probe.host, "127.0.0.1:8080");
        assert_string_equal(o.probe.path, "/healthz?x=1");
        assert_int_equal(o.probe_expect, 0);
        assert_int_equal(o.probe_timeout, 10);
        assert_null(o.argv);

        assert_int_equal(
                parse(6, ARGV("--probe=http://localhost", "--expect", "204", "--timeout", "3"), &o,
                      msg),
                0);
        assert_int_equal(o.probe.port, 80);
        assert_string_equal(o.probe.path, "/");
        assert_int_equal(o.probe.addr[0], 127);
        assert_int_equal(o.probe.addr[3], 1);
        assert_int_equal(o.probe_expect, 204);
        assert_int_equal(o.probe_timeout, 3);

        assert_int_equal(parse(3, ARGV("--probe", "tcp://[::1]:5432"), &o, msg), 0);
        assert_int_equal(o.probe.kind, PROBE_TCP);
        assert_int_equal(o.probe.family, AF_INET6);
        assert_int_equal(o.probe.addr[15], 1);
        assert_int_equal(o.probe.port, 5432);
        assert_string_equal(o.probe.host, "[::1]:5432");

        expect_error(4, ARGV("--probe", "http://127.0.0.1/", "app"), "takes no PROGRAM");
        expect_error(5, ARGV("--probe", "tcp://127.0.0.1:1", "--expect", "200"),
                     "http:// probes only");
        expect_error(4, ARGV("--expect", "200", "app"), "--expect needs --probe");
        expect_error(4, ARGV("--timeout", "2", "app"), "--timeout needs --probe");
        expect_error(5, ARGV("--probe", "http://127.0.0.1/", "--expect", "99"), "100 to 599");
        expect_error(5, ARGV("--probe", "http://127.0.0.1/", "--timeout", "0"), "1 to 3600");
}

static void test_probe_targets_refused(void **state)
{
        (void)state;
        static const struct {
                const char *target, *reason;
        } bad[] = {
                { "https://127.0.0.1/", "https is not supported" },
                { "ftp://127.0.0.1/", "want http://" },
                { "127.0.0.1:80", "want http://" },
                { "http://example.org/", "must be an IP address or localhost" },
                { "http:///x", "no HOST" },
                { "http://127.0.0.1:0/", "1 to 65535" },
                { "http://127.0.0.1:65536/", "1 to 65535" },
                { "http://127.0.0.1:/", "1 to 65535" },
                { "http://127.0.0.1:8o/", "1 to 65535" },
                { "http://[::1/", "without ']'" },
                { "http://[1.2.3.4]/", "not an IPv6 address" },
                { "http://127.0.0.1/a b", "printable ASCII" },
                { "http://127.0.0.1/a\r\nX-Injected: 1", "printable ASCII" },
                { "http://127.0.0.1/caf\xc3\xa9", "printable ASCII" },
                { "http://127.0.0.1/#frag", "printable ASCII" },
                { "tcp://127.0.0.1", "needs HOST:PORT" },
                { "tcp://127.0.0.1:80/x", "takes no path" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct probe_target t;
                char msg[256];
                memset(&t, 0xa5, sizeof(t));
                assert_int_equal(probe_target_parse(bad[i].target, &t, msg, sizeof(msg)), -EINVAL);
                if (!strstr(msg, bad[i].reason))
                        fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].target, msg,
                                 bad[i].reason);
                assert_int_equal(((unsigned char *)&t)[0], 0xa5);
        }
}

static void test_exit_status_from_wait(void **state)
{
        (void)state;
        /* Wait statuses as the kernel encodes them: exit code << 8, or the signal number. */
        assert_int_equal(init_exit_status_from_wait(0), 0);
        assert_int_equal(init_exit_status_from_wait(7 << 8), 7);
        assert_int_equal(init_exit_status_from_wait(255 << 8), 255);
        assert_int_equal(init_exit_status_from_wait(SIGTERM), 143);
        assert_int_equal(init_exit_status_from_wait(SIGKILL), 137);
        assert_int_equal(init_exit_status_from_wait(SIGSEGV | 0x80), 128 + SIGSEGV); /* core */
        assert_int_equal(init_exit_status_from_wait(SIGINT), 130);
}

static void test_exit_status_from_exec_errno(void **state)
{
        (void)state;
        assert_int_equal(init_exit_status_from_exec_errno(ENOENT), 127);
        assert_int_equal(init_exit_status_from_exec_errno(ENOTDIR), 127);
        assert_int_equal(init_exit_status_from_exec_errno(EACCES), 126);
        assert_int_equal(init_exit_status_from_exec_errno(ENOEXEC), 126);
        assert_int_equal(init_exit_status_from_exec_errno(ETXTBSY), 126);
        assert_int_equal(init_exit_status_from_exec_errno(E2BIG), 126);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_program_after_double_dash),
                cmocka_unit_test(test_program_without_double_dash),
                cmocka_unit_test(test_repeatable_options),
                cmocka_unit_test(test_double_dash_program_may_look_like_option),
                cmocka_unit_test(test_help_and_version),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_landlock_options),
                cmocka_unit_test(test_probe_options),
                cmocka_unit_test(test_probe_targets_refused),
                cmocka_unit_test(test_exit_status_from_wait),
                cmocka_unit_test(test_exit_status_from_exec_errno),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
