/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime bundle's pieces without running anything: the program's environment and argv
 * as the image config has them, config.json's hardening (and its bytes staying the same), the
 * seccomp filter's capability groups and its TIOCSTI rule, and the refusal of setuid, setgid
 * and device entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "runtime/bundle.h"
#include "runtime/spec.h"

static void test_process_env(void **state)
{
        (void)state;
        struct recipe_kv env[] = { { "A", "1" }, { "HOME", "/tmp" } };
        struct recipe_run run = { .env = env, .n_env = ELEMENTSOF(env) };
        /* The image config's order (PATH first unless set), then overrides in place or after. */
        char *extra[] = { "A=2", "B=x=y" };
        _cleanup_strv_free_ char **e = NULL;
        assert_int_equal(bundle_process_env(&run, extra, ELEMENTSOF(extra), &e), 0);
        assert_string_equal(e[0], "PATH=" RECIPE_DEFAULT_PATH);
        assert_string_equal(e[1], "A=2");
        assert_string_equal(e[2], "HOME=/tmp");
        assert_string_equal(e[3], "B=x=y");
        assert_null(e[4]);
        char *path[] = { "PATH=/bin" };
        _cleanup_strv_free_ char **e2 = NULL;
        assert_int_equal(bundle_process_env(&run, path, 1, &e2), 0);
        assert_string_equal(e2[0], "PATH=/bin");
        assert_null(e2[3]);
        char *bad[] = { "=x" };
        char **e3 = NULL;
        assert_int_equal(bundle_process_env(&run, bad, 1, &e3), -EINVAL);
        assert_null(e3);
}

static void test_process_args(void **state)
{
        (void)state;
        struct recipe_run run = {
                .entrypoint = (char *[]){ "/app/hello", NULL },
                .cmd = (char *[]){ "serve", NULL },
                .init = "cairn-init",
                .require_env = (char *[]){ "TOKEN", NULL },
                .writable = (char *[]){ "/tmp", NULL },
                .read_only = 1,
        };
        /* What the image config's Entrypoint + Cmd say: cairn-init with the run: checks. */
        _cleanup_free_ const char **argv = NULL;
        assert_int_equal(bundle_process_args(&run, NULL, false, true, &argv), 0);
        const char *want[] = { "/sbin/cairn-init",
                               "--require-env",
                               "TOKEN",
                               "--writable",
                               "/tmp",
                               "--read-only-root",
                               "--",
                               "/app/hello",
                               "serve" };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_string_equal(argv[i], want[i]);
        assert_null(argv[ELEMENTSOF(want)]);
        /* A profile's root is writable on purpose: no --read-only-root; ARGS replace cmd. */
        char *args[] = { NULL };
        _cleanup_free_ const char **argv2 = NULL;
        assert_int_equal(bundle_process_args(&run, args, true, false, &argv2), 0);
        assert_string_equal(argv2[5], "--");
        assert_string_equal(argv2[6], "/app/hello");
        assert_null(argv2[7]);
        struct recipe_run none = { .init = "cairn-init" };
        const char **argv3 = NULL;
        assert_int_equal(bundle_process_args(&none, NULL, false, true, &argv3), -ENOENT);
        assert_null(argv3);
}

static char *render(const struct runtime_spec *s)
{
        char *buf = NULL;
        size_t len = 0;
        assert_int_equal(runtime_spec_render(s, &buf, &len), 0);
        assert_int_equal(strlen(buf), len);
        return buf;
}

static void assert_has(const char *text, const char *what)
{
        if (!strstr(text, what))
                fail_msg("config.json lacks %s", what);
}

static void test_spec_hardening(void **state)
{
        (void)state;
        const char *args[] = { "/app/svc", NULL };
        const char *env[] = { "PATH=/bin", NULL };
        const struct runtime_tmpfs tmpfs[] = { { "/tmp", 01777, 65532, 65532 },
                                               { "/var/cache/app", 0755, 65532, 65532 } };
        const struct runtime_spec s = {
                .args = args,
                .env = env,
                .cwd = "/app",
                .uid = 65532,
                .gid = 65532,
                .root_readonly = true,
                .hostname = "svc",
                .tmpfs = tmpfs,
                .n_tmpfs = ELEMENTSOF(tmpfs),
                .host_uid = 100000,
                .host_gid = 200000,
                .arch = "amd64",
        };
        _cleanup_free_ char *a = render(&s), *b = render(&s);
        assert_string_equal(a, b); /* same values, same bytes */
        assert_has(a, "\"ociVersion\": \"1.0.2\"");
        assert_has(a, "\"terminal\": false");
        assert_has(a, "\"user\": {\"uid\": 65532, \"gid\": 65532}");
        assert_has(a, "\"noNewPrivileges\": true");
        assert_has(a, "\"bounding\": []");
        assert_has(a, "\"ambient\": []");
        assert_has(a, "{\"type\": \"RLIMIT_CORE\", \"hard\": 0, \"soft\": 0}");
        assert_has(a, "\"RLIMIT_NOFILE\"");
        assert_has(a, "\"RLIMIT_NPROC\"");
        assert_has(a, "\"root\": {\"path\": \"rootfs\", \"readonly\": true}");
        assert_has(a, "\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", "
                      "\"options\": [\"nosuid\", \"nodev\", \"noexec\", \"mode=1777\", "
                      "\"uid=65532\", \"gid=65532\"]");
        assert_has(a, "\"mode=0755\", \"uid=65532\"");
        assert_has(a, "\"uidMappings\": [\n      {\"containerID\": 0, \"hostID\": 100000, "
                      "\"size\": 65536}");
        assert_has(a, "\"gidMappings\": [\n      {\"containerID\": 0, \"hostID\": 200000, ");
        assert_has(a, "{\"type\": \"user\"}");
        assert_has(a, "{\"type\": \"network\"}");
        assert_has(a, "{\"type\": \"cgroup\"}");
        assert_has(a, "\"/proc/kcore\"");
        assert_has(a, "\"/sys/devices/virtual/powercap\"");
        assert_has(a, "\"readonlyPaths\": [\n      \"/proc/bus\"");
        assert_has(a, "\"/proc/sys\"");
        assert_has(a, "\"defaultAction\": \"SCMP_ACT_ERRNO\"");
        assert_has(a, "\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", "
                      "\"SCMP_ARCH_X32\"]");
        assert_has(a, "\"arch_prctl\"");
        /* No capability: no mount(), no namespaces through clone(), clone3() says ENOSYS. */
        const char *sc = strstr(a, "\"seccomp\"");
        assert_non_null(sc);
        assert_null(strstr(sc, "\"mount\""));
        assert_null(strstr(sc, "\"unshare\""));
        assert_null(strstr(sc, "\"io_uring_setup\""));
        assert_null(strstr(sc, "\"keyctl\""));
        assert_has(a, "\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [");
        assert_has(a, "\"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38");
        assert_null(strstr(a, "\"cgroupsPath\""));
        assert_null(strstr(a, "\"pids\""));
        assert_has(a, "\"devices\": [\n        {\"allow\": false, \"access\": \"rwm\"}");
        assert_true(a[strlen(a) - 1] == '\n');
}

static void test_spec_capabilities(void **state)
{
        (void)state;
        const char *args[] = { "/app/svc", NULL };
        struct runtime_spec s = {
                .args = args,
                .caps = (1ULL << 10) | (1ULL << 21), /* NET_BIND_SERVICE, SYS_ADMIN */
                .pids_limit = 512,
                .memory_limit = 1 << 30,
                .cgroups_path = "cairn-x",
                .arch = "arm64",
        };
        _cleanup_free_ char *a = render(&s);
        assert_has(a, "\"bounding\": [\"CAP_NET_BIND_SERVICE\", \"CAP_SYS_ADMIN\"]");
        assert_has(a, "\"ambient\": [\"CAP_NET_BIND_SERVICE\", \"CAP_SYS_ADMIN\"]");
        assert_has(strstr(a, "\"seccomp\""), "\"mount\"");
        assert_has(strstr(a, "\"seccomp\""), "\"unshare\"");
        assert_null(strstr(a, "\"clone3\"], \"action\": \"SCMP_ACT_ERRNO\""));
        assert_has(a, "\"SCMP_ARCH_AARCH64\"");
        assert_has(a, "\"set_tls\"");
        assert_null(strstr(a, "\"arch_prctl\""));
        assert_has(a, "\"pids\": {\"limit\": 512}");
        assert_has(a, "\"memory\": {\"limit\": 1073741824}");
        assert_has(a, "\"cgroupsPath\": \"cairn-x\"");
        struct runtime_spec none = { 0 };
        char *buf = NULL;
        size_t len;
        assert_int_equal(runtime_spec_render(&none, &buf, &len), -EINVAL);
        assert_null(buf);
}

/* The 32 ioctl rules, evaluated the way the kernel's filter would: a request is allowed when
 * one rule's (request & mask) == value. TIOCSTI, with any upper bits, must match none. */
static void test_seccomp_tiocsti(void **state)
{
        (void)state;
        const char *args[] = { "/app/svc", NULL };
        const struct runtime_spec s = { .args = args, .arch = "amd64" };
        _cleanup_free_ char *a = render(&s);
        uint64_t masks[64], values[64];
        size_t n = 0;
        const char *p = a;
        while ((p = strstr(p, "\"names\": [\"ioctl\"]")) && n < 64) {
                const char *v = strstr(p, "\"value\": "), *t = strstr(p, "\"valueTwo\": ");
                assert_non_null(v);
                assert_non_null(t);
                masks[n] = strtoull(v + 9, NULL, 10);
                values[n] = strtoull(t + 12, NULL, 10);
                assert_non_null(strstr(p, "SCMP_CMP_MASKED_EQ"));
                n++;
                p++;
        }
        assert_int_equal(n, 32);
        const uint64_t denied[] = { 0x5412, 0xffffffff00005412ULL, 0x100005412ULL };
        const uint64_t allowed[] = {
                0, 0x5413 /* TIOCGWINSZ */, 0x5401 /* TCGETS */, 0x5410, 0x80045430, 0x105413ULL
        };
        for (size_t i = 0; i < ELEMENTSOF(denied); i++)
                for (size_t k = 0; k < n; k++)
                        assert_false((denied[i] & masks[k]) == values[k]);
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                bool any = false;
                for (size_t k = 0; k < n; k++)
                        any |= (allowed[i] & masks[k]) == values[k];
                assert_true(any);
        }
}

static void add(struct tree *t, const char *path, enum tree_type type, uint32_t mode)
{
        struct tree_entry e = { .path = (char *)path, .type = type, .mode = mode };
        assert_int_equal(tree_insert(t, &e, TREE_INSERT_REPLACE, NULL), 0);
}

static void test_refuse_privileged(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = NULL;
        assert_int_equal(tree_new(&t), 0);
        add(t, "/", TREE_DIR, 0755);
        add(t, "/bin", TREE_DIR, 0755);
        add(t, "/bin/ok", TREE_REG, 0755);
        add(t, "/var", TREE_DIR, 02775); /* a setgid directory only makes new files inherit */
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(bundle_refuse_privileged(t, "r.yaml, variant prod", &err), 0);
        assert_false(cairn_error_isset(&err));

        add(t, "/bin/su", TREE_REG, 04755);
        add(t, "/bin/wall", TREE_REG, 02755);
        add(t, "/dev", TREE_DIR, 0755);
        add(t, "/dev/sda", TREE_BLK, 0660);
        add(t, "/dev/mem", TREE_CHR, 0640);
        add(t, "/run/fifo", TREE_FIFO, 0600);
        assert_int_equal(bundle_refuse_privileged(t, "r.yaml, variant prod", &err), -EPERM);
        assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_POLICY);
        assert_int_equal(err.n_messages, 5);
        assert_non_null(strstr(err.messages[0], "r.yaml, variant prod: /bin/su is setuid"));
        assert_non_null(strstr(err.messages[1], "/bin/wall is setgid"));
        assert_non_null(strstr(err.messages[2], "/dev/mem is a device node"));
        assert_non_null(strstr(err.messages[3], "/dev/sda is a device node"));
        assert_non_null(strstr(err.messages[4], "4 setuid, setgid or device entries"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_process_env),     cmocka_unit_test(test_process_args),
                cmocka_unit_test(test_spec_hardening),  cmocka_unit_test(test_spec_capabilities),
                cmocka_unit_test(test_seccomp_tiocsti), cmocka_unit_test(test_refuse_privileged),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
