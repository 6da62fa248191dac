/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn-init's Landlock ruleset (init/landlock.c) at every ABI it supports, on the running
 * kernel: a kernel with a newer ABI accepts an older ruleset, so the best-effort levels are
 * checked here for real. Each case runs in a forked child that restricts itself and reports
 * what each operation returned. Skipped when the kernel has no Landlock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tap-skip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "restrict.h"

static char root[256];

static void path_of(char *out, size_t n, const char *rel)
{
        snprintf(out, n, "%s/%s", root, rel);
}

static int setup(void **state)
{
        (void)state;
        char p[512];

        snprintf(root, sizeof(root), "%s/cairn-landlock-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(root))
                return -1;
        const char *dirs[] = { "w", "w2", "out" };
        for (size_t i = 0; i < 3; i++) {
                path_of(p, sizeof(p), dirs[i]);
                if (mkdir(p, 0755) < 0)
                        return -1;
        }
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *rel, const char *content)
{
        char p[512];
        path_of(p, sizeof(p), rel);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

struct outcome {
        int build;         /* landlock_build: >= 0 or -errno */
        int create_w;      /* errno of creating w/new (0: ok) */
        int create_out;    /* errno of creating out/new */
        int truncate_out;  /* errno of truncating out/file */
        int rename_cross;  /* errno of renaming w/a to w2/a */
        int write_devnull; /* errno of opening /dev/null for writing */
};

static int err_of(int r)
{
        return r < 0 ? errno : 0;
}

/* Restricts a child with the ruleset of abi and reports what each operation returned. */
static struct outcome run_at(int abi)
{
        struct outcome o;
        int fds[2];
        pid_t pid;

        put("out/file", "keep");
        put("w/a", "a");
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char w[512], w2[512], p[512], q[512], msg[256];
                const char *writable[] = { w, w2, NULL };
                const char *executables[] = { NULL };
                struct rt_manifest m = {
                        .writable = writable,
                        .n_writable = 2,
                        .executables = executables,
                        .n_executables = 0,
                };
                size_t n_exec, n_write;
                int fd, r;

                path_of(w, sizeof(w), "w");
                path_of(w2, sizeof(w2), "w2");
                memset(&o, 0, sizeof(o));
                r = landlock_build(&m, abi, NULL, &n_exec, &n_write, msg, sizeof(msg));
                o.build = r < 0 ? r : 0;
                if (r >= 0 && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || landlock_apply(r) < 0))
                        o.build = -errno;
                if (o.build == 0) {
                        path_of(p, sizeof(p), "w/new");
                        fd = open(p, O_WRONLY | O_CREAT, 0644);
                        o.create_w = err_of(fd);
                        path_of(p, sizeof(p), "out/new");
                        o.create_out = err_of(open(p, O_WRONLY | O_CREAT, 0644));
                        path_of(p, sizeof(p), "out/file");
                        o.truncate_out = err_of(truncate(p, 0));
                        path_of(p, sizeof(p), "w/a");
                        path_of(q, sizeof(q), "w2/a");
                        o.rename_cross = err_of(rename(p, q));
                        o.write_devnull = err_of(open("/dev/null", O_WRONLY | O_TRUNC));
                }
                _exit(write(fds[1], &o, sizeof(o)) == sizeof(o) ? 0 : 1);
        }
        close(fds[1]);
        assert_int_equal(read(fds[0], &o, sizeof(o)), sizeof(o));
        close(fds[0]);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        /* Leave the tree as it was for the next case. */
        char p[512];
        path_of(p, sizeof(p), "w/new");
        unlink(p);
        path_of(p, sizeof(p), "w2/a");
        unlink(p);
        return o;
}

static void test_abi_levels(void **state)
{
        (void)state;
        int current = landlock_abi();
        if (current <= 0)
                skip();
        for (int abi = 1; abi <= current && abi <= 7; abi++) {
                struct outcome o = run_at(abi);
                char what[64];
                snprintf(what, sizeof(what), "ABI %d", abi);
                if (o.build != 0)
                        fail_msg("%s: building or applying the ruleset: %s", what,
                                 strerror(-o.build));
                assert_int_equal(o.create_w, 0);
                assert_int_equal(o.create_out, EACCES);
                assert_int_equal(o.write_devnull, 0);
                /* ABI 1 and 2 cannot restrict truncate(2): the documented gap. */
                assert_int_equal(o.truncate_out, abi >= 3 ? EACCES : 0);
                /* ABI 1 refuses renames across directories everywhere (no REFER right). */
                assert_int_equal(o.rename_cross, abi >= 2 ? 0 : EXDEV);
                char p[512];
                path_of(p, sizeof(p), "out/file");
                struct stat st;
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(st.st_size, abi >= 3 ? 4 : 0);
        }
}

static void test_gaps(void **state)
{
        (void)state;
        assert_non_null(strstr(landlock_gaps(0), "not available"));
        assert_non_null(strstr(landlock_gaps(1), "truncating"));
        assert_non_null(strstr(landlock_gaps(1), "renaming or linking across directories"));
        assert_non_null(strstr(landlock_gaps(2), "truncating"));
        assert_null(strstr(landlock_gaps(2), "renaming"));
        for (int abi = 3; abi <= 8; abi++)
                assert_null(landlock_gaps(abi));
}

/* A path that is not what the rule needs gets no rule (and the build goes on); a missing one
 * neither. */
static void test_paths_without_rules(void **state)
{
        (void)state;
        if (landlock_abi() <= 0)
                skip();
        char w[512], out[512], f[512], missing[512], msg[256];
        path_of(w, sizeof(w), "w");
        path_of(out, sizeof(out), "out");
        path_of(f, sizeof(f), "out/file");
        path_of(missing, sizeof(missing), "nope");
        put("out/file", "keep");
        const char *writable[] = { w, missing, NULL };
        const char *executables[] = { out /* a directory */, f, missing, NULL };
        struct rt_manifest m = { .writable = writable,
                                 .n_writable = 2,
                                 .executables = executables,
                                 .n_executables = 3 };
        size_t n_exec = 99, n_write = 99;
        int fd = landlock_build(&m, landlock_abi(), NULL, &n_exec, &n_write, msg, sizeof(msg));
        assert_true(fd >= 0);
        assert_int_equal(n_exec, 1);  /* only the regular file */
        assert_int_equal(n_write, 1); /* only the directory that exists */
        close(fd);
}

int main(void)
{
        tap_skips_fix(); /* skip() below is a TAP skip, not a failure */
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_abi_levels),
                cmocka_unit_test(test_gaps),
                cmocka_unit_test(test_paths_without_rules),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
