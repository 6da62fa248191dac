/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox (runc on an overlay) on a hand-made bundle: a tree with a static probe program
 * (compiled here with cc -static from tests/sandbox-probe.c) materialized into a temp dir with
 * its owners in the user namespace's host range, and a config.json rendered here. Needs root,
 * user namespaces and runc; skipped with the reason otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tap-skip.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "runtime/spec.h"
#include "sandbox/sandbox.h"
#include "tree/materialize.h"

#define HOST_ID 100000 /* image id 0 on the host */

struct fixture {
        char *tmp;    /* owned; removed at teardown */
        char *rootfs; /* owned */
};

static const char *skip_reason;
static char *probe_dir; /* owned by main: the compiled probe lives here */
static char *runtime;   /* owned by main: runc's path */

static void add(struct tree *t, const char *path, enum tree_type type, uint32_t mode, uint32_t uid)
{
        struct tree_entry e = {
                .path = (char *)path, .type = type, .mode = mode, .uid = uid, .gid = uid
        };
        assert_int_equal(tree_insert(t, &e, TREE_INSERT_REPLACE, NULL), 0);
}

static void add_file(struct tree *t, struct store *s, const char *path, const char *src,
                     uint32_t mode)
{
        _cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct tree_entry e = { .path = (char *)path, .type = TREE_REG, .mode = mode };
        assert_int_equal(store_put_fd(s, fd, 1 << 30, &e.key, &e.size, NULL), 0);
        assert_int_equal(tree_insert(t, &e, 0, NULL), 0);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->tmp = strdup("/tmp/cairn-test-sandbox-XXXXXX");
        assert_non_null(mkdtemp(f->tmp));
        assert_true(asprintf(&f->rootfs, "%s/rootfs", f->tmp) > 0);
        *state = f;
        if (skip_reason)
                return 0;

        _cleanup_free_ char *probe = NULL, *store_dir = NULL, *old = NULL;
        assert_true(asprintf(&probe, "%s/probe", probe_dir) > 0);
        assert_true(asprintf(&store_dir, "%s/store", f->tmp) > 0);
        assert_true(asprintf(&old, "%s/old", f->tmp) > 0);
        FILE *o = fopen(old, "w");
        assert_non_null(o);
        fputs("old\n", o);
        fclose(o);

        _cleanup_store_ struct store *s = NULL;
        _cleanup_tree_ struct tree *t = NULL;
        assert_int_equal(store_open(store_dir, &s, NULL), 0);
        assert_int_equal(tree_new(&t), 0);
        add(t, "/", TREE_DIR, 0755, 0);
        add(t, "/bin", TREE_DIR, 0755, 0);
        add_file(t, s, "/bin/probe", probe, 0755);
        add(t, "/etc", TREE_DIR, 0755, 0);
        add_file(t, s, "/etc/old", old, 0644);
        add(t, "/run", TREE_DIR, 0755, 65532);
        add(t, "/tmp", TREE_DIR, 01777, 0);
        add(t, "/var/cache/app", TREE_DIR, 0755, 65532);
        add(t, "/proc", TREE_DIR, 0755, 0);
        add(t, "/dev", TREE_DIR, 0755, 0);
        add(t, "/sys", TREE_DIR, 0755, 0);
        assert_int_equal(mkdir(f->rootfs, 0755), 0);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        int r = materialize_tree_shifted(t, s, 1700000000, f->rootfs, 0, HOST_ID, HOST_ID, NULL,
                                         &err);
        if (r < 0)
                cairn_error_print(&err, stderr);
        assert_int_equal(r, 0);
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(rm_rf(f->tmp), 0);
        free(f->tmp);
        free(f->rootfs);
        free(f);
        return 0;
}

static bool record_reads;

static int run(struct fixture *f, char *const *argv, uid_t uid, const char *workdir,
               unsigned duration_ms, struct sandbox_result *res)
{
        const char *envp[] = { "PATH=/bin", "PROBE_ENV=hello", NULL };
        char id[64];
        snprintf(id, sizeof(id), "cairn-test-sandbox-%d-%ld", (int)getpid(), (long)random());
        const struct runtime_spec spec = {
                .args = (const char *const *)argv,
                .env = envp,
                .cwd = workdir ? workdir : "/",
                .uid = uid,
                .gid = uid,
                .root_path = "rootfs",
                .hostname = "sandbox-test",
                .host_uid = HOST_ID,
                .host_gid = HOST_ID,
                .pids_limit = 256,
                .cgroups_path = id,
                .clamp_rlimits = true,
        };
        _cleanup_free_ char *config = NULL;
        size_t len = 0;
        assert_int_equal(runtime_spec_render(&spec, &config, &len), 0);
        struct sandbox_options o = {
                .runtime = runtime,
                .rootfs = f->rootfs,
                .config = config,
                .config_len = len,
                .container_id = id,
                .root_uid = HOST_ID,
                .root_gid = HOST_ID,
                .duration_ms = duration_ms,
                .grace_ms = 200,
                .tmpfs_size_mb = 16,
                .record_reads = record_reads,
        };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        int r = sandbox_run(&o, res, &err);
        if (r < 0)
                cairn_error_print(&err, stderr);
        return r;
}

#define SKIP_UNLESS_READY()                                                                        \
        do {                                                                                       \
                if (skip_reason) {                                                                 \
                        print_message("SKIP: %s\n", skip_reason);                                  \
                        skip();                                                                    \
                }                                                                                  \
        } while (0)

static void test_writes(void **state)
{
        SKIP_UNLESS_READY();
        struct fixture *f = *state;
        struct sandbox_result res = { 0 };
        char *argv[] = { "/bin/probe", "writes", NULL };
        /* No capabilities: the image user writes where the image lets it. */
        assert_int_equal(run(f, argv, 65532, NULL, 0, &res), 0);
        assert_true(WIFEXITED(res.wait_status));
        assert_int_equal(WEXITSTATUS(res.wait_status), 0);
        assert_false(res.timed_out);
        assert_int_equal(res.n_writes, 3);
        assert_string_equal(res.writes[0].path, "/run/app.pid");
        assert_string_equal(res.writes[1].path, "/tmp/a");
        assert_string_equal(res.writes[2].path, "/var/cache/app/b");
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(res.writes[i].op, SANDBOX_CREATED);
                assert_false(res.writes[i].is_dir);
        }
        /* The lower directory saw nothing. */
        _cleanup_free_ char *a = NULL;
        assert_true(asprintf(&a, "%s/tmp/a", f->rootfs) > 0);
        assert_int_equal(access(a, F_OK), -1);
        sandbox_result_clear(&res);
}

static void test_delete_image_file(void **state)
{
        SKIP_UNLESS_READY();
        struct fixture *f = *state;
        struct sandbox_result res = { 0 };
        char *argv[] = { "/bin/probe", "delete", "/etc/old", NULL };
        assert_int_equal(run(f, argv, 0, "/etc", 0, &res), 0);
        assert_int_equal(WEXITSTATUS(res.wait_status), 0);
        assert_int_equal(res.n_writes, 1);
        assert_string_equal(res.writes[0].path, "/etc/old");
        assert_int_equal(res.writes[0].op, SANDBOX_DELETED);
        _cleanup_free_ char *old = NULL;
        assert_true(asprintf(&old, "%s/etc/old", f->rootfs) > 0);
        assert_int_equal(access(old, F_OK), 0);
        sandbox_result_clear(&res);
}

static void test_created_then_deleted_marks_the_directory(void **state)
{
        SKIP_UNLESS_READY();
        struct fixture *f = *state;
        struct sandbox_result res = { 0 };
        char *argv[] = { "/bin/probe", "churn", NULL };
        assert_int_equal(run(f, argv, 65532, NULL, 0, &res), 0);
        assert_int_equal(WEXITSTATUS(res.wait_status), 0);
        assert_int_equal(res.n_writes, 1);
        assert_string_equal(res.writes[0].path, "/var/cache/app");
        assert_int_equal(res.writes[0].op, SANDBOX_MODIFIED);
        assert_true(res.writes[0].is_dir);
        sandbox_result_clear(&res);
}

static void test_reads(void **state)
{
        SKIP_UNLESS_READY();
        struct fixture *f = *state;
        struct sandbox_result res = { 0 };
        char *argv[] = { "/bin/probe", "read", "/etc/old", NULL };
        record_reads = true;
        int r = run(f, argv, 65532, NULL, 0, &res);
        record_reads = false;
        assert_int_equal(r, 0);
        assert_int_equal(WEXITSTATUS(res.wait_status), 0);
        assert_int_equal(res.n_writes, 0);
        bool probe = false, old = false;
        for (size_t i = 0; i < res.n_reads; i++) {
                probe |= streq(res.reads[i], "/bin/probe");
                old |= streq(res.reads[i], "/etc/old");
                assert_true(res.reads[i][0] == '/');
        }
        assert_true(probe);
        assert_true(old);
        assert_false(res.reads_truncated);
        sandbox_result_clear(&res);
}

static void test_forever_is_stopped(void **state)
{
        SKIP_UNLESS_READY();
        struct fixture *f = *state;
        struct sandbox_result res = { 0 };
        char *argv[] = { "/bin/probe", "forever", NULL };
        assert_int_equal(run(f, argv, 0, NULL, 300, &res), 0);
        assert_true(res.timed_out);
        /* PID 1 without a SIGTERM handler ignores it: the grace period ends with SIGKILL. */
        assert_true(res.killed);
        assert_true(WIFSIGNALED(res.wait_status));
        assert_int_equal(WTERMSIG(res.wait_status), SIGKILL);
        sandbox_result_clear(&res);
}

static bool process_with_arg(const char *marker)
{
        DIR *d = opendir("/proc");
        assert_non_null(d);
        bool found = false;
        struct dirent *de;
        while ((de = readdir(d)) && !found) {
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                char path[300], buf[4096];
                snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) {
                        buf[n] = '\0';
                        if (streq(buf + i, marker))
                                found = true;
                }
        }
        closedir(d);
        return found;
}

static void test_lingering_children_are_gone(void **state)
{
        SKIP_UNLESS_READY();
        struct fixture *f = *state;
        char marker[64];
        snprintf(marker, sizeof(marker), "linger-%d-%ld", (int)getpid(), (long)random());
        struct sandbox_result res = { 0 };
        char *argv[] = { "/bin/probe", "linger", marker, NULL };
        assert_int_equal(run(f, argv, 0, NULL, 5000, &res), 0);
        assert_int_equal(WEXITSTATUS(res.wait_status), 0);
        assert_false(res.timed_out);
        assert_false(process_with_arg(marker));
        sandbox_result_clear(&res);
}

static void test_user_env_workdir_namespaces(void **state)
{
        SKIP_UNLESS_READY();
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL;
        assert_true(asprintf(&out, "%s/out", f->tmp) > 0);
        /* The program's output reaches cairn's stderr through the supervisor. */
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(saved >= 0 && fd >= 0);
        assert_true(dup2(fd, STDERR_FILENO) >= 0);
        close(fd);
        struct sandbox_result res = { 0 };
        char *argv[] = { "/bin/probe", "info", NULL };
        int r = run(f, argv, 65532, "/var/cache/app", 0, &res);
        dup2(saved, STDERR_FILENO);
        close(saved);
        assert_int_equal(r, 0);
        assert_int_equal(WEXITSTATUS(res.wait_status), 0);
        _cleanup_free_ char *text = NULL;
        size_t len;
        assert_int_equal(read_file_bounded(out, 4096, &text, &len), 0);
        /* The image's ids, PID 1 of its own namespace, only the loopback interface. */
        assert_string_equal(text, "65532 65532 1 /var/cache/app sandbox-test 1 hello\n");
        sandbox_result_clear(&res);
}

static void test_missing_program(void **state)
{
        SKIP_UNLESS_READY();
        struct fixture *f = *state;
        struct sandbox_result res = { 0 };
        char *argv[] = { "/bin/nope", NULL };
        /* runc refuses to create the container: an error, not a program's exit status. */
        assert_true(run(f, argv, 0, NULL, 0, &res) < 0);
        assert_int_equal(res.n_writes, 0);
}

static void probe_compile(void)
{
        probe_dir = strdup("/tmp/cairn-test-probe-XXXXXX");
        if (!probe_dir || !mkdtemp(probe_dir))
                abort();
        _cleanup_free_ char *cmd = NULL;
        const char *src = getenv("PROBE_SRC") ? getenv("PROBE_SRC") : "sandbox-probe.c";
        if (asprintf(&cmd, "cc -static -O1 -o %s/probe %s >&2", probe_dir, src) < 0)
                abort();
        if (system(cmd) != 0)
                skip_reason = "cannot compile a static probe with cc -static";
}

int main(void)
{
        tap_skips_fix(); /* skip() below is a TAP skip, not a failure */
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        if (sandbox_check_privileges(&err) < 0)
                skip_reason = err.n_messages ? err.messages[0] : "needs root and user namespaces";
        else if (sandbox_find_runtime("runc", &runtime, &err) < 0)
                skip_reason = "runc is not installed";
        else
                probe_compile();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delete_image_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_created_then_deleted_marks_the_directory,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_reads, setup, teardown),
                cmocka_unit_test_setup_teardown(test_forever_is_stopped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lingering_children_are_gone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_user_env_workdir_namespaces, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_program, setup, teardown),
        };
        int failed = cmocka_run_group_tests(tests, NULL, NULL);
        if (probe_dir)
                (void)rm_rf(probe_dir);
        free(probe_dir);
        free(runtime);
        return failed;
}
