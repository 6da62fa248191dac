/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every rule of the enforcer, positive and negative, on trees built here. Programs are
 * compiled at test time; toolboxes, shells and packers are made by appending their markers to
 * a real static ELF file, which keeps it a valid ELF executable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>

#include "enforce/policy.h"

static char *tmpdir;

static bool compile(const char *name, const char *flags, const char *body)
{
        _cleanup_free_ char *src = NULL, *cmd = NULL;
        assert_true(asprintf(&src, "%s/%s.c", tmpdir, name) > 0);
        FILE *f = fopen(src, "w");
        assert_non_null(f);
        fprintf(f, "#include <stdio.h>\nint main(void) { %s return 0; }\n", body);
        fclose(f);
        assert_true(asprintf(&cmd, "${CC:-cc} %s -o %s/%s %s 2>/dev/null", flags, tmpdir, name,
                             src) > 0);
        return system(cmd) == 0;
}

static int setup(void **state)
{
        (void)state;
        tmpdir = strdup("/tmp/cairn-test-policy-XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        /* libc6-dev ships libc.a: static linking always works where ci/bootstrap ran. */
        bool have_static =
                compile("hello", "-static", "puts(\"hello\");") &&
                compile("mentions", "-static", "puts(\"replaces busybox; see BusyBox docs\");");
        static const char memfd[] =
                "extern int memfd_create(const char *, unsigned);"
                "extern int fexecve(int, char *const[], char *const[]);"
                "extern char *getenv(const char *);"
                "if (getenv(\"CAIRN_NEVER\")) fexecve(memfd_create(\"m\", 0), 0, 0);";
        return have_static && compile("memfd", "-static", memfd) &&
                               compile("memfd-dyn", "", memfd) &&
                               compile("dyn", "", "puts(\"hello\");") &&
                               compile("lib.so", "-shared -fPIC", "puts(\"lib\");") &&
                               compile("runpath", "-Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'",
                                       "puts(\"r\");") &&
                               compile("rpath", "-Wl,--disable-new-dtags,-rpath,'$ORIGIN/../lib'",
                                       "puts(\"r\");")
                       ? 0
                       : -1;
}

static int teardown(void **state)
{
        (void)state;
        (void)rm_rf(tmpdir);
        free(tmpdir);
        return 0;
}

struct fx {
        struct store *s;
        struct tree *t;
        char *dir;
};

static void fx_init(struct fx *x)
{
        assert_true(asprintf(&x->dir, "%s/store-XXXXXX", tmpdir) > 0);
        assert_non_null(mkdtemp(x->dir));
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(store_open(x->dir, &x->s, &err), 0);
        assert_int_equal(tree_new(&x->t), 0);
}

static void fx_done(struct fx *x)
{
        tree_free(x->t);
        store_free(x->s);
        (void)rm_rf(x->dir);
        free(x->dir);
}

static void fx_insert(struct fx *x, struct tree_entry *e)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(tree_insert(x->t, e, TREE_INSERT_REPLACE, &err), 0);
}

static void fx_buf(struct fx *x, const char *path, const void *buf, size_t len, uint32_t mode)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct tree_entry e = { .path = (char *)path, .type = TREE_REG, .mode = mode, .size = len };
        assert_int_equal(store_put_buf(x->s, buf, len, &e.key, &err), 0);
        fx_insert(x, &e);
}

/* A compiled program from tmpdir, with `extra` (len bytes) appended. */
static void fx_prog(struct fx *x, const char *path, const char *prog, const void *extra,
                    size_t extra_len, uint32_t mode)
{
        _cleanup_free_ char *p = NULL, *buf = NULL;
        size_t len;
        assert_true(asprintf(&p, "%s/%s", tmpdir, prog) > 0);
        assert_int_equal(read_file_bounded(p, 64 << 20, &buf, &len), 0);
        char *all = malloc(len + extra_len + 1);
        assert_non_null(all);
        memcpy(all, buf, len);
        if (extra_len)
                memcpy(all + len, extra, extra_len);
        fx_buf(x, path, all, len + extra_len, mode);
        free(all);
}

static void fx_text(struct fx *x, const char *path, const char *text, uint32_t mode)
{
        fx_buf(x, path, text, strlen(text), mode);
}

static void fx_link(struct fx *x, const char *path, const char *target)
{
        struct tree_entry e = {
                .path = (char *)path, .type = TREE_SYMLINK, .mode = 0777, .target = (char *)target
        };
        fx_insert(x, &e);
}

static void fx_node(struct fx *x, const char *path, enum tree_type type, uint32_t mode)
{
        struct tree_entry e = { .path = (char *)path, .type = type, .mode = mode };
        fx_insert(x, &e);
}

static void fx_flag_named(struct fx *x, const char *path)
{
        struct tree_entry *e = tree_lookup_mut(x->t, path);
        assert_non_null(e);
        e->flags |= TREE_ENTRY_NAMED;
}

static struct policy_report *check(struct fx *x, enum policy_profile profile, const char *allow)
{
        const char *globs[] = { allow };
        struct policy_options o = {
                .profile = profile,
                .arch = "amd64",
                .allow = globs,
                .n_allow = allow ? 1 : 0,
        };
        struct policy_report *r = NULL;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(policy_check(x->t, x->s, &o, &r, &err), 0);
        return r;
}

static bool has(const struct policy_report *r, const char *rule, const char *path)
{
        for (size_t i = 0; i < r->n_findings; i++)
                if (streq(r->findings[i].rule->id, rule) && streq(r->findings[i].path, path))
                        return true;
        return false;
}

static void dump(const struct policy_report *r)
{
        _cleanup_free_ char *text = NULL;
        if (policy_report_format(r, POLICY_FORMAT_TEXT, "test", &text) == 0)
                fprintf(stderr, "%s", text);
}

#define BB_HELP "BusyBox is a multi-call binary that combines many common Unix utilities"
static const char applet_table[] = "\0[\0[[\0acpid\0addgroup\0adduser\0ash\0awk\0base64\0"
                                   "basename\0cat\0chmod\0chown\0cp\0cut\0date\0dd\0df\0"
                                   "dirname\0echo\0env\0false\0grep\0gzip\0head\0hostname\0"
                                   "kill\0ln\0ls\0mkdir\0mount\0mv\0ps\0pwd\0rm\0sed\0sh\0";

static void test_clean_static_passes(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        fx_prog(&x, "/app/hello", "hello", NULL, 0, 0755);
        fx_prog(&x, "/app/mentions", "mentions", NULL, 0, 0755);
        fx_buf(&x, "/data/blob",
               "\x7f"
               "ELF but only data",
               17, 0644);
        fx_text(&x, "/etc/hello.conf", "port = 8080\n", 0644);
        fx_node(&x, "/tmp", TREE_DIR, 01777);
        fx_link(&x, "/usr/local/bin/hello", "/app/hello");
        fx_link(&x, "/app/rel", "mentions");
        fx_flag_named(&x, "/app/hello");
        fx_flag_named(&x, "/app/mentions");
        struct policy_report *r = check(&x, POLICY_STRICT, NULL);
        if (r->n_findings != 1)
                dump(r);
        /* The data file that only starts with the magic: a warning, nothing else. */
        assert_int_equal(r->n_findings, 1);
        assert_true(has(r, "CAIRN-ELF-MALFORMED", "/data/blob"));
        assert_int_equal(r->findings[0].severity, POLICY_WARNING);
        assert_true(policy_report_passed(r));
        policy_report_free(r);
        fx_done(&x);
}

static void test_busybox_markers(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        /* Renamed, with the full set of markers. */
        static const char full[] = "\0BusyBox v1.36.1 (Debian)\0" BB_HELP "\0Usage: busybox";
        fx_prog(&x, "/app/helper", "hello", full, sizeof(full), 0755);
        /* Re-bannered and help removed: only the applet table is left. */
        fx_prog(&x, "/app/tool", "hello", applet_table, sizeof(applet_table), 0755);
        /* Only the banner: a program quoting BusyBox's version is not BusyBox. */
        static const char banner[] = "\0BusyBox v1.36.1\0";
        fx_prog(&x, "/app/quotes", "hello", banner, sizeof(banner), 0755);
        /* The same names, out of order: not the (sorted) applet table. */
        static const char shuffled[] = "\0sh\0rm\0pwd\0ps\0mv\0mount\0mkdir\0ls\0ln\0kill\0"
                                       "hostname\0head\0gzip\0grep\0false\0env\0echo\0dirname\0"
                                       "df\0dd\0date\0cut\0cp\0chown\0chmod\0cat\0basename\0";
        fx_prog(&x, "/app/names", "hello", shuffled, sizeof(shuffled), 0755);
        fx_link(&x, "/bin/ls", "/app/helper");
        for (int i = 0; i < 2; i++) {
                enum policy_profile p = i ? POLICY_DEV : POLICY_STRICT;
                struct policy_report *r = check(&x, p, "/app/*");
                assert_true(has(r, "CAIRN-BUSYBOX", "/app/helper"));
                assert_true(has(r, "CAIRN-BUSYBOX", "/app/tool"));
                assert_false(has(r, "CAIRN-BUSYBOX", "/app/quotes"));
                assert_false(has(r, "CAIRN-BUSYBOX", "/app/names"));
                assert_int_equal(has(r, "CAIRN-SYMLINK-FORBIDDEN", "/bin/ls"), p == POLICY_STRICT);
                assert_false(policy_report_passed(r));
                policy_report_free(r);
        }
        fx_done(&x);
}

static void test_toolboxes_shells_pkg_managers_packers(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        static const char toybox[] = "\0Toybox 0.8.9 multicall binary\0";
        static const char uutils[] = "\0coreutils 0.0.17 (multi-call binary)\0src/uu/ls/ls.rs";
        static const char bash[] = "\0GNU bash, version %s-(%s)\0";
        static const char dpkg[] = "\0Debian '%s' package management program version %s.\0";
        static const char upx[] = "\0$Info: This file is packed with the UPX executable packer";
        fx_prog(&x, "/opt/tb", "hello", toybox, sizeof(toybox), 0755);
        fx_prog(&x, "/opt/uu", "hello", uutils, sizeof(uutils), 0755);
        fx_prog(&x, "/opt/b", "hello", bash, sizeof(bash), 0755);
        fx_prog(&x, "/opt/d", "hello", dpkg, sizeof(dpkg), 0755);
        fx_prog(&x, "/opt/packed", "hello", upx, sizeof(upx), 0755);
        fx_prog(&x, "/app/packed-ok", "hello", upx, sizeof(upx), 0755);
        /* rpm's strings in a shared library (librpm, or libsolvext linking it) are no package
         * manager; in a program they are. */
        static const char rpm[] = "\0RPM version %s\0";
        fx_prog(&x, "/usr/lib/librpm.so.9", "lib.so", rpm, sizeof(rpm), 0644);
        fx_prog(&x, "/usr/bin/rpm", "dyn", rpm, sizeof(rpm), 0755);
        fx_text(&x, "/bin/sh", "not even ELF, but executable and named sh\n", 0755);
        fx_text(&x, "/usr/bin/pip", "#!/usr/bin/python3\nfrom pip._internal.cli import main\n",
                0755);
        struct policy_report *r = check(&x, POLICY_STRICT, "/app/*");
        assert_true(has(r, "CAIRN-MULTICALL", "/opt/tb"));
        assert_true(has(r, "CAIRN-MULTICALL", "/opt/uu"));
        assert_true(has(r, "CAIRN-SHELL", "/opt/b"));
        assert_true(has(r, "CAIRN-SHELL", "/bin/sh"));
        assert_true(has(r, "CAIRN-PKG-MANAGER", "/opt/d"));
        assert_true(has(r, "CAIRN-PKG-MANAGER", "/usr/bin/pip"));
        assert_true(has(r, "CAIRN-PKG-MANAGER", "/usr/bin/rpm"));
        assert_false(has(r, "CAIRN-PKG-MANAGER", "/usr/lib/librpm.so.9"));
        assert_true(has(r, "CAIRN-PACKED", "/opt/packed"));
        /* Being allowed never waives a content rule. */
        assert_true(has(r, "CAIRN-PACKED", "/app/packed-ok"));
        assert_false(has(r, "CAIRN-SHELL", "/opt/tb"));
        policy_report_free(r);
        /* dev: none of these rules. */
        r = check(&x, POLICY_DEV, NULL);
        assert_false(has(r, "CAIRN-MULTICALL", "/opt/tb"));
        assert_false(has(r, "CAIRN-SHELL", "/opt/b"));
        assert_false(has(r, "CAIRN-PACKED", "/opt/packed"));
        policy_report_free(r);
        fx_done(&x);
}

static void fx_flag(struct fx *x, const char *path, uint32_t flags)
{
        struct tree_entry *e = tree_lookup_mut(x->t, path);
        assert_non_null(e);
        e->flags |= flags;
}

/* A program's load closure (programs:, stages/programs.c flags it): dynamic linking is allowed
 * for exactly its files, every content rule still runs, and an unreached library is an unlisted
 * executable. */
static void test_load_closure(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        static const char bash[] = "\0GNU bash, version %s-(%s)\0";
        fx_prog(&x, "/usr/bin/app", "dyn", NULL, 0, 0755);
        fx_prog(&x, "/usr/bin/other", "dyn", NULL, 0, 0755);
        fx_prog(&x, "/usr/bin/bash", "dyn", bash, sizeof(bash), 0755);
        fx_prog(&x, "/lib/x86_64-linux-gnu/libc.so.6", "lib.so", NULL, 0, 0644);
        fx_prog(&x, "/lib/x86_64-linux-gnu/libunused.so.1", "lib.so", NULL, 0, 0644);
        fx_prog(&x, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "lib.so", NULL, 0, 0755);
        fx_link(&x, "/lib64", "lib/x86_64-linux-gnu");
        uint32_t loaded = TREE_ENTRY_NAMED | TREE_ENTRY_LOADED;
        fx_flag(&x, "/usr/bin/app", loaded);
        fx_flag(&x, "/usr/bin/bash", loaded);
        fx_flag(&x, "/lib/x86_64-linux-gnu/libc.so.6", loaded);
        fx_flag(&x, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", loaded);
        /* Named the ordinary way (an entrypoint, an artifact): named, not a closure. */
        fx_flag(&x, "/usr/bin/other", TREE_ENTRY_NAMED);
        struct policy_report *r = check(&x, POLICY_STRICT, NULL);
        assert_false(has(r, "CAIRN-DYNAMIC", "/usr/bin/app"));
        assert_false(has(r, "CAIRN-EXEC-UNLISTED", "/usr/bin/app"));
        assert_false(has(r, "CAIRN-NEEDED-MISSING", "/usr/bin/app"));
        assert_false(has(r, "CAIRN-EXEC-UNLISTED", "/lib/x86_64-linux-gnu/libc.so.6"));
        assert_true(has(r, "CAIRN-DYNAMIC", "/usr/bin/other"));
        assert_true(has(r, "CAIRN-EXEC-UNLISTED", "/lib/x86_64-linux-gnu/libunused.so.1"));
        assert_true(has(r, "CAIRN-SHELL", "/usr/bin/bash"));
        assert_false(policy_report_passed(r));
        policy_report_free(r);
        fx_done(&x);
}

static void test_dynamic_and_libraries(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        fx_prog(&x, "/app/dyn", "dyn", NULL, 0, 0755);
        fx_flag_named(&x, "/app/dyn");
        struct policy_report *r = check(&x, POLICY_STRICT, NULL);
        assert_true(has(r, "CAIRN-DYNAMIC", "/app/dyn"));
        assert_true(has(r, "CAIRN-NEEDED-MISSING", "/app/dyn"));
        assert_true(has(r, "CAIRN-INTERP-MISSING", "/app/dyn"));
        policy_report_free(r);
        r = check(&x, POLICY_DEV, NULL);
        assert_false(has(r, "CAIRN-DYNAMIC", "/app/dyn"));
        assert_true(has(r, "CAIRN-INTERP-MISSING", "/app/dyn"));
        policy_report_free(r);

        /* The loader through a symlink, libc found through ld.so.conf's sorted includes. */
        fx_text(&x, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "loader", 0755);
        fx_link(&x, "/lib64", "lib/x86_64-linux-gnu");
        fx_text(&x, "/opt/glibc/libc.so.6", "libc", 0644);
        fx_text(&x, "/etc/ld.so.conf", "# comment\ninclude /etc/ld.so.conf.d/*.conf\n", 0644);
        fx_text(&x, "/etc/ld.so.conf.d/a.conf", "/opt/glibc\n", 0644);
        r = check(&x, POLICY_STRICT, "/lib/*");
        assert_true(has(r, "CAIRN-DYNAMIC", "/app/dyn"));
        assert_false(has(r, "CAIRN-NEEDED-MISSING", "/app/dyn"));
        assert_false(has(r, "CAIRN-INTERP-MISSING", "/app/dyn"));
        policy_report_free(r);

        /* $ORIGIN in RUNPATH (new dtags) and RPATH (old dtags). */
        fx_prog(&x, "/app/bin/runpath", "runpath", NULL, 0, 0755);
        fx_prog(&x, "/app/bin/rpath", "rpath", NULL, 0, 0755);
        r = check(&x, POLICY_STRICT, "/*");
        assert_false(has(r, "CAIRN-NEEDED-MISSING", "/app/bin/runpath"));
        assert_false(has(r, "CAIRN-NEEDED-MISSING", "/app/bin/rpath"));
        policy_report_free(r);
        assert_int_equal(tree_remove(x.t, "/opt/glibc"), 0);
        r = check(&x, POLICY_STRICT, "/*");
        assert_true(has(r, "CAIRN-NEEDED-MISSING", "/app/bin/runpath"));
        assert_true(has(r, "CAIRN-NEEDED-MISSING", "/app/bin/rpath"));
        policy_report_free(r);
        fx_text(&x, "/app/lib/libc.so.6", "libc", 0644);
        r = check(&x, POLICY_STRICT, "/*");
        assert_false(has(r, "CAIRN-NEEDED-MISSING", "/app/bin/runpath"));
        assert_false(has(r, "CAIRN-NEEDED-MISSING", "/app/bin/rpath"));
        assert_true(has(r, "CAIRN-NEEDED-MISSING", "/app/dyn")); /* /app/lib is not searched */
        policy_report_free(r);

        /* Wrong architecture. */
        const char *globs[] = { "/*" };
        struct policy_options o = {
                .profile = POLICY_STRICT, .arch = "arm64", .allow = globs, .n_allow = 1
        };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(policy_check(x.t, x.s, &o, &r, &err), 0);
        assert_true(has(r, "CAIRN-ARCH", "/app/dyn"));
        policy_report_free(r);
        fx_done(&x);
}

static void test_scripts(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        static const char bash[] = "\0GNU bash, version %s\0";
        fx_prog(&x, "/bin/bash", "hello", bash, sizeof(bash), 0755);
        fx_prog(&x, "/usr/bin/env", "hello", NULL, 0, 0755);
        fx_text(&x, "/app/missing.py", "#!/usr/bin/python3 -u\nprint(1)\n", 0755);
        fx_text(&x, "/app/shell.sh", "#! /bin/bash -e\necho hi\n", 0755);
        fx_text(&x, "/app/env.py", "#!/usr/bin/env python3\nprint(1)\n", 0755);
        fx_text(&x, "/app/relative", "#!python\n", 0755);
        fx_text(&x, "/app/not-exec.sh", "#!/nowhere\n", 0644);
        struct policy_report *r = check(&x, POLICY_STRICT, "/*");
        assert_true(has(r, "CAIRN-SCRIPT-INTERP", "/app/missing.py"));
        assert_true(has(r, "CAIRN-SCRIPT-FORBIDDEN", "/app/shell.sh"));
        assert_true(has(r, "CAIRN-SCRIPT-INTERP", "/app/env.py"));
        assert_true(has(r, "CAIRN-SCRIPT-INTERP", "/app/relative"));
        assert_false(has(r, "CAIRN-SCRIPT-INTERP", "/app/not-exec.sh"));
        assert_int_equal(r->n_warnings, 0);
        policy_report_free(r);
        /* In dev a missing interpreter is a warning (issue 20): the report passes, and every
         * format says "warning". */
        r = check(&x, POLICY_DEV, NULL);
        assert_true(has(r, "CAIRN-SCRIPT-INTERP", "/app/missing.py"));
        assert_int_equal(r->n_errors, 0);
        assert_int_equal(r->n_warnings, 3);
        assert_true(policy_report_passed(r));
        for (size_t i = 0; i < r->n_findings; i++)
                assert_int_equal(r->findings[i].severity, POLICY_WARNING);
        char *text = NULL;
        assert_int_equal(policy_report_format(r, POLICY_FORMAT_JSON, "t", &text), 0);
        assert_non_null(
                strstr(text, "\"rule\": \"CAIRN-SCRIPT-INTERP\", \"severity\": \"warning\""));
        free(text);
        assert_int_equal(policy_report_format(r, POLICY_FORMAT_TEXT, "t", &text), 0);
        assert_non_null(strstr(text, "CAIRN-SCRIPT-INTERP (warning)"));
        assert_non_null(strstr(text, "pass (dev): 3 warnings"));
        free(text);
        policy_report_free(r);
        fx_prog(&x, "/usr/bin/python3", "hello", NULL, 0, 0755);
        r = check(&x, POLICY_DEV, NULL);
        assert_false(has(r, "CAIRN-SCRIPT-INTERP", "/app/missing.py"));
        assert_false(has(r, "CAIRN-SCRIPT-INTERP", "/app/env.py"));
        assert_false(has(r, "CAIRN-SCRIPT-FORBIDDEN", "/app/shell.sh")); /* strict only */
        policy_report_free(r);
        fx_done(&x);
}

static void test_symlinks(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        fx_text(&x, "/etc/passwd", "root:x:0:0::/:/sbin/nologin\n", 0644);
        fx_link(&x, "/a/dangling", "/nowhere");
        fx_link(&x, "/a/escape", "../../etc/passwd");
        fx_link(&x, "/a/inside", "../etc/passwd");
        fx_link(&x, "/a/absolute", "/etc/passwd");
        fx_link(&x, "/a/loop1", "loop2");
        fx_link(&x, "/a/loop2", "loop1");
        struct policy_report *r = check(&x, POLICY_STRICT, NULL);
        assert_true(has(r, "CAIRN-SYMLINK-DANGLING", "/a/dangling"));
        assert_true(has(r, "CAIRN-SYMLINK-DANGLING", "/a/loop1"));
        assert_true(has(r, "CAIRN-SYMLINK-ESCAPE", "/a/escape"));
        assert_false(has(r, "CAIRN-SYMLINK-DANGLING", "/a/escape"));
        assert_false(has(r, "CAIRN-SYMLINK-ESCAPE", "/a/inside"));
        assert_false(has(r, "CAIRN-SYMLINK-DANGLING", "/a/inside"));
        assert_false(has(r, "CAIRN-SYMLINK-DANGLING", "/a/absolute"));
        assert_int_equal(r->n_errors, 4);
        policy_report_free(r);
        r = check(&x, POLICY_DEV, NULL);
        assert_int_equal(r->n_findings, 0);
        policy_report_free(r);
        fx_done(&x);
}

static void test_allow_list(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        fx_prog(&x, "/sbin/init", "dyn", NULL, 0, 0755);
        fx_prog(&x, "/usr/lib/x/helper", "dyn", NULL, 0, 0644); /* ELF without exec bit */
        fx_text(&x, "/usr/bin/tool", "just bytes\n", 0700);
        fx_text(&x, "/usr/share/doc", "text\n", 0644);
        fx_link(&x, "/entry", "/sbin/init");
        struct policy_report *r = check(&x, POLICY_STRICT, NULL);
        assert_true(has(r, "CAIRN-EXEC-UNLISTED", "/sbin/init"));
        assert_true(has(r, "CAIRN-EXEC-UNLISTED", "/usr/lib/x/helper"));
        assert_true(has(r, "CAIRN-EXEC-UNLISTED", "/usr/bin/tool"));
        assert_false(has(r, "CAIRN-EXEC-UNLISTED", "/usr/share/doc"));
        policy_report_free(r);

        r = check(&x, POLICY_STRICT, "/usr/*");
        assert_false(has(r, "CAIRN-EXEC-UNLISTED", "/usr/lib/x/helper"));
        assert_false(has(r, "CAIRN-EXEC-UNLISTED", "/usr/bin/tool"));
        policy_report_free(r);

        /* Named through a symlink (an entrypoint) and disabled rules. */
        const char *named[] = { "/entry" };
        const char *off[] = { "CAIRN-DYNAMIC", "CAIRN-NEEDED-MISSING", "CAIRN-INTERP-MISSING" };
        struct policy_options o = { .profile = POLICY_STRICT,
                                    .named = named,
                                    .n_named = 1,
                                    .disabled = off,
                                    .n_disabled = 3 };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(policy_check(x.t, x.s, &o, &r, &err), 0);
        assert_false(has(r, "CAIRN-EXEC-UNLISTED", "/sbin/init"));
        assert_false(has(r, "CAIRN-DYNAMIC", "/sbin/init"));
        policy_report_free(r);

        const char *bad[] = { "CAIRN-NO-SUCH-RULE" };
        o.disabled = bad;
        o.n_disabled = 1;
        r = NULL;
        assert_int_equal(policy_check(x.t, x.s, &o, &r, &err), -EINVAL);
        assert_null(r);
        assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_USAGE);
        fx_done(&x);
}

static void test_modes_and_special_files(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        fx_text(&x, "/suid", "x", 04644);
        fx_text(&x, "/sgid", "x", 02644);
        fx_text(&x, "/ww", "x", 0666);
        fx_node(&x, "/wwdir", TREE_DIR, 0777);
        fx_node(&x, "/tmp", TREE_DIR, 01777);
        fx_node(&x, "/dev/null", TREE_CHR, 0666);
        fx_node(&x, "/dev/sda", TREE_BLK, 0660);
        fx_node(&x, "/run/fifo", TREE_FIFO, 0644);
        fx_node(&x, "/run/sock", TREE_SOCK, 0755);
        static const char bad_elf[] = "\x7f"
                                      "ELF\x02\x01\x01 truncated";
        fx_buf(&x, "/bad-elf", bad_elf, sizeof(bad_elf) - 1, 0644);
        fx_buf(&x, "/bad-elf-exec", bad_elf, sizeof(bad_elf) - 1, 0755);
        struct policy_report *r = check(&x, POLICY_STRICT, "/bad-elf-exec");
        assert_true(has(r, "CAIRN-SETUID", "/suid"));
        assert_true(has(r, "CAIRN-SETUID", "/sgid"));
        assert_true(has(r, "CAIRN-WORLD-WRITABLE", "/ww"));
        assert_true(has(r, "CAIRN-WORLD-WRITABLE", "/wwdir"));
        assert_false(has(r, "CAIRN-WORLD-WRITABLE", "/tmp"));
        assert_true(has(r, "CAIRN-DEVICE", "/dev/null"));
        assert_true(has(r, "CAIRN-DEVICE", "/dev/sda"));
        assert_true(has(r, "CAIRN-SPECIAL-FILE", "/run/fifo"));
        assert_true(has(r, "CAIRN-SPECIAL-FILE", "/run/sock"));
        /* Executable: an error (the kernel may run it); a data file: a warning. */
        assert_true(has(r, "CAIRN-ELF-MALFORMED", "/bad-elf"));
        assert_true(has(r, "CAIRN-ELF-MALFORMED", "/bad-elf-exec"));
        assert_int_equal(r->n_warnings, 1);
        for (size_t i = 0; i < r->n_findings; i++)
                if (streq(r->findings[i].rule->id, "CAIRN-ELF-MALFORMED"))
                        assert_int_equal(r->findings[i].severity,
                                         streq(r->findings[i].path, "/bad-elf") ? POLICY_WARNING
                                                                                : POLICY_ERROR);
        policy_report_free(r);

        r = check(&x, POLICY_DEV, NULL);
        assert_true(has(r, "CAIRN-SETUID", "/suid"));
        assert_true(has(r, "CAIRN-DEVICE", "/dev/null"));
        assert_false(has(r, "CAIRN-WORLD-WRITABLE", "/ww"));
        assert_false(has(r, "CAIRN-SPECIAL-FILE", "/run/fifo"));
        policy_report_free(r);
        fx_done(&x);
}

struct patch {
        size_t off;
        uint64_t value;
        unsigned bytes;
};

/* A compiled program with `extra` appended and little-endian patches applied. */
static void fx_prog_patched(struct fx *x, const char *path, const char *prog, const void *extra,
                            size_t extra_len, uint32_t mode, const struct patch *p, size_t n)
{
        _cleanup_free_ char *file = NULL, *buf = NULL;
        size_t len;
        assert_true(asprintf(&file, "%s/%s", tmpdir, prog) > 0);
        assert_int_equal(read_file_bounded(file, 64 << 20, &buf, &len), 0);
        _cleanup_free_ uint8_t *all = malloc(len + extra_len);
        assert_non_null(all);
        memcpy(all, buf, len);
        if (extra_len)
                memcpy(all + len, extra, extra_len);
        for (size_t i = 0; i < n; i++)
                for (unsigned b = 0; b < p[i].bytes; b++)
                        all[p[i].off + b] = (uint8_t)(p[i].value >> (8 * b));
        fx_buf(x, path, all, len + extra_len, mode);
}

static bool has_sev(const struct policy_report *r, const char *rule, const char *path,
                    enum policy_severity sev)
{
        for (size_t i = 0; i < r->n_findings; i++)
                if (streq(r->findings[i].rule->id, rule) && streq(r->findings[i].path, path))
                        return r->findings[i].severity == sev;
        return false;
}

static const char bb_full[] = "\0BusyBox v1.36.1 (Debian)\0" BB_HELP "\0Usage: busybox";

/* Each identification byte the kernel ignores, set to odd values; truncated program headers:
 * the content is still scanned, and the header's lie is an error of its own. */
static void test_header_evasions(void **state)
{
        (void)state;
        static const struct patch cases[] = {
                { 4, 0, 1 },    { 4, 1, 1 },     { 4, 0xff, 1 }, /* EI_CLASS */
                { 5, 0, 1 },    { 5, 2, 1 },     { 5, 0xff, 1 }, /* EI_DATA */
                { 6, 0, 1 },    { 6, 2, 1 },     { 6, 0xff, 1 }, /* EI_VERSION */
                { 7, 0x61, 1 }, { 7, 0xff, 1 },                  /* EI_OSABI */
                { 8, 0x80, 1 },                                  /* EI_ABIVERSION */
                { 9, 1, 1 },    { 15, 0xff, 1 },                 /* EI_PAD */
                { 20, 0, 4 },                                    /* e_version */
                { 52, 0, 2 },                                    /* e_ehsize */
        };
        static const char bash[] = "\0GNU bash, version %s-(%s)\0";
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct fx x = {};
                fx_init(&x);
                fx_prog_patched(&x, "/app/bb", "hello", bb_full, sizeof(bb_full), 0755, &cases[i],
                                1);
                fx_prog_patched(&x, "/app/sh2", "hello", bash, sizeof(bash), 0755, &cases[i], 1);
                fx_prog_patched(&x, "/app/hello", "hello", NULL, 0, 0755, &cases[i], 1);
                /* Not executable, but loadable (an interpreter needs no exec bit): the same
                 * content as /app/hello, so one more store object is not needed. */
                const struct tree_entry *h = tree_lookup(x.t, "/app/hello");
                struct tree_entry lib = { .path = (char *)"/app/lib",
                                          .type = TREE_REG,
                                          .mode = 0644,
                                          .size = h->size,
                                          .key = h->key };
                fx_insert(&x, &lib);
                fx_link(&x, "/bin/a", "b");
                fx_link(&x, "/bin/b", "/app/bb");
                fx_text(&x, "/app/script", "#!/bin/a sh\necho hi\n", 0755);
                fx_flag_named(&x, "/app/bb");
                fx_flag_named(&x, "/app/sh2");
                fx_flag_named(&x, "/app/hello");
                fx_flag_named(&x, "/app/script");
                struct policy_report *r = check(&x, POLICY_STRICT, NULL);
                if (!has(r, "CAIRN-BUSYBOX", "/app/bb"))
                        dump(r);
                assert_true(has(r, "CAIRN-BUSYBOX", "/app/bb"));
                assert_true(has(r, "CAIRN-SHELL", "/app/sh2"));
                assert_true(has(r, "CAIRN-SYMLINK-FORBIDDEN", "/bin/a"));
                assert_true(has(r, "CAIRN-SYMLINK-FORBIDDEN", "/bin/b"));
                assert_true(has(r, "CAIRN-SCRIPT-FORBIDDEN", "/app/script"));
                assert_true(has_sev(r, "CAIRN-ELF-MALFORMED", "/app/hello", POLICY_ERROR));
                assert_true(has_sev(r, "CAIRN-ELF-MALFORMED", "/app/lib", POLICY_ERROR));
                assert_false(has(r, "CAIRN-ARCH", "/app/hello"));
                assert_false(policy_report_passed(r));
                policy_report_free(r);
                r = check(&x, POLICY_DEV, NULL);
                assert_true(has(r, "CAIRN-BUSYBOX", "/app/bb"));
                policy_report_free(r);
                fx_done(&x);
        }

        /* Program headers cut off: e_phoff past the end, or e_phnum past the end. */
        static const struct patch cut[][1] = {
                { { 32, 1u << 30, 8 } },
                { { 56, 0xfff0, 2 } },
        };
        for (size_t i = 0; i < ELEMENTSOF(cut); i++) {
                struct fx x = {};
                fx_init(&x);
                fx_prog_patched(&x, "/app/bb", "hello", bb_full, sizeof(bb_full), 0755, cut[i], 1);
                fx_prog_patched(&x, "/app/hello", "hello", NULL, 0, 0755, cut[i], 1);
                fx_flag_named(&x, "/app/bb");
                fx_flag_named(&x, "/app/hello");
                struct policy_report *r = check(&x, POLICY_STRICT, NULL);
                assert_true(has(r, "CAIRN-BUSYBOX", "/app/bb"));
                assert_true(has_sev(r, "CAIRN-ELF-MALFORMED", "/app/bb", POLICY_ERROR));
                assert_true(has_sev(r, "CAIRN-ELF-MALFORMED", "/app/hello", POLICY_ERROR));
                policy_report_free(r);
                fx_done(&x);
        }
}

/* A scan that did not see the whole file: error in strict, warning in dev, the limit named. */
static void test_scan_incomplete(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        fx_prog(&x, "/app/hello", "hello", NULL, 0, 0755);
        fx_flag_named(&x, "/app/hello");
        for (int i = 0; i < 2; i++) {
                struct policy_options o = {
                        .profile = i ? POLICY_DEV : POLICY_STRICT,
                        .scan_limit = 64 * 1024,
                };
                struct policy_report *r = NULL;
                _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
                assert_int_equal(policy_check(x.t, x.s, &o, &r, &err), 0);
                assert_true(has_sev(r, "CAIRN-SCAN-INCOMPLETE", "/app/hello",
                                    i ? POLICY_WARNING : POLICY_ERROR));
                if (r->n_findings != 1 || !strstr(r->findings[0].evidence, "the limit is 65536"))
                        dump(r);
                assert_int_equal(r->n_findings, 1);
                assert_non_null(strstr(r->findings[0].evidence, "the limit is 65536 bytes"));
                assert_int_equal(policy_report_passed(r), i == 1);
                policy_report_free(r);
        }
        struct policy_report *r = check(&x, POLICY_STRICT, NULL);
        assert_int_equal(r->n_findings, 0);
        policy_report_free(r);
        fx_done(&x);
}

static void fill_random(uint8_t *buf, size_t len)
{
        uint64_t v = 0x9e3779b97f4a7c15ULL;
        for (size_t i = 0; i < len; i++) {
                v ^= v << 13;
                v ^= v >> 7;
                v ^= v << 17;
                buf[i] = (uint8_t)v;
        }
}

/* A program that is mostly compressed bytes is opaque: packed, even without UPX's markers and
 * even when named. */
static void test_opaque_program(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        size_t n = 3 << 20; /* with the 0.8 MB program: 79% noise */
        _cleanup_free_ uint8_t *noise = malloc(n);
        assert_non_null(noise);
        fill_random(noise, n);
        fx_prog(&x, "/app/packed", "hello", noise, n, 0755);
        fx_flag_named(&x, "/app/packed");
        struct policy_report *r = check(&x, POLICY_STRICT, NULL);
        assert_true(has(r, "CAIRN-PACKED", "/app/packed"));
        assert_non_null(strstr(r->findings[0].evidence, "bits per byte"));
        policy_report_free(r);
        fx_done(&x);
}

/* The cheap cases of a named loader: warnings in strict, nothing in dev. */
static void test_loader(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        fx_prog(&x, "/app/loader", "memfd", NULL, 0, 0755);
        fx_prog(&x, "/app/dyn-loader", "memfd-dyn", NULL, 0, 0755);
        fx_prog(&x, "/srv/hello", "hello", NULL, 0, 0755);
        size_t n = 2 << 20;
        _cleanup_free_ uint8_t *noise = malloc(n), *text = malloc(n);
        assert_non_null(noise);
        assert_non_null(text);
        fill_random(noise, n);
        for (size_t i = 0; i < n; i++)
                text[i] = (uint8_t)("lorem ipsum dolor sit amet\n"[i % 27]);
        fx_buf(&x, "/srv/assets/payload.bin", noise, n, 0644);
        fx_buf(&x, "/srv/manual.txt", text, n, 0644);
        fx_buf(&x, "/srv/small.bin", noise, 4096, 0644);
        fx_buf(&x, "/elsewhere.bin", noise, n, 0644);
        fx_flag_named(&x, "/app/loader");
        fx_flag_named(&x, "/srv/hello");
        struct policy_report *r = check(&x, POLICY_STRICT, "/app/dyn-loader");
        assert_true(has_sev(r, "CAIRN-LOADER", "/app/loader", POLICY_WARNING));
        assert_true(has_sev(r, "CAIRN-LOADER", "/app/dyn-loader", POLICY_WARNING));
        assert_false(has(r, "CAIRN-LOADER", "/srv/hello"));
        assert_true(has_sev(r, "CAIRN-LOADER", "/srv/assets/payload.bin", POLICY_WARNING));
        assert_false(has(r, "CAIRN-LOADER", "/srv/manual.txt"));
        assert_false(has(r, "CAIRN-LOADER", "/srv/small.bin"));
        assert_false(has(r, "CAIRN-LOADER", "/elsewhere.bin"));
        policy_report_free(r);
        r = check(&x, POLICY_DEV, NULL);
        assert_false(has(r, "CAIRN-LOADER", "/app/loader"));
        policy_report_free(r);
        fx_done(&x);
}

static void test_report_formats(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        fx_text(&x, "/we\"ird\n\xff name", "x", 04644);
        fx_text(&x, "/ok", "x", 0644);
        struct policy_report *r = check(&x, POLICY_STRICT, NULL);
        _cleanup_free_ char *summary = NULL, *text = NULL, *json = NULL, *sarif = NULL;
        assert_int_equal(policy_report_summary(r, &summary), 0);
        assert_string_equal(summary, "FAIL (strict): 1 error, 0 warnings");
        assert_int_equal(policy_report_format(r, POLICY_FORMAT_TEXT, "t", &text), 0);
        assert_non_null(strstr(text, "CAIRN-SETUID (error)"));
        assert_int_equal(policy_report_format(r, POLICY_FORMAT_JSON, "t", &json), 0);
        assert_non_null(strstr(json, "\"path\": \"/we\\\"ird\\n\\ufffd name\""));
        assert_non_null(strstr(json, "\"passed\": false"));
        assert_int_equal(policy_report_format(r, POLICY_FORMAT_SARIF, "t", &sarif), 0);
        assert_non_null(strstr(sarif, "\"version\": \"2.1.0\""));
        assert_non_null(strstr(sarif, "\"ruleId\": \"CAIRN-SETUID\""));
        assert_non_null(strstr(sarif, "\"uri\": \"we%22ird%0A%FF%20name\""));
        policy_report_free(r);
        fx_done(&x);
}

/* One target checked per architecture: labelled blocks, a JSON wrapper, one SARIF run each;
 * one report without an architecture is exactly policy_report_format's output. */
static void test_report_formats_archs(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        fx_text(&x, "/suid", "x", 04644);
        struct policy_report *bad = check(&x, POLICY_STRICT, NULL);
        fx_done(&x);
        fx_init(&x);
        fx_text(&x, "/ok", "x", 0644);
        struct policy_report *good = check(&x, POLICY_STRICT, NULL);
        const struct policy_report *both[] = { good, bad };
        const char *archs[] = { "amd64", "arm64" };
        for (int f = POLICY_FORMAT_TEXT; f <= POLICY_FORMAT_SARIF; f++) {
                _cleanup_free_ char *one = NULL, *same = NULL;
                assert_int_equal(policy_report_format(bad, f, "t", &one), 0);
                assert_int_equal(policy_report_format_archs(&both[1], NULL, 1, f, "t", &same), 0);
                assert_string_equal(one, same);
        }
        _cleanup_free_ char *text = NULL, *json = NULL, *json1 = NULL, *sarif = NULL;
        assert_int_equal(policy_report_format_archs(both, archs, 2, POLICY_FORMAT_TEXT, "t", &text),
                         0);
        assert_true(startswith(text, "t (amd64): pass (strict), "));
        assert_non_null(strstr(text, "\n\nt (arm64): FAIL (strict): 1 error"));
        assert_int_equal(policy_report_format_archs(both, archs, 2, POLICY_FORMAT_JSON, "t", &json),
                         0);
        assert_true(startswith(json, "{\n\"schema\": \"cairn-enforce-archs/1\",\n\"target\": "
                                     "\"t\",\n\"passed\": false,\n\"reports\": [\n"));
        assert_non_null(strstr(json, "\"target\": \"t\",\n  \"arch\": \"amd64\",\n  \"profile\""));
        assert_non_null(strstr(json, "\"arch\": \"arm64\""));
        assert_int_equal(
                policy_report_format_archs(&both[1], &archs[1], 1, POLICY_FORMAT_JSON, "t", &json1),
                0);
        assert_true(startswith(json1, "{\n  \"schema\": \"cairn-enforce/1\",\n  \"target\": "
                                      "\"t\",\n  \"arch\": \"arm64\",\n"));
        assert_int_equal(
                policy_report_format_archs(both, archs, 2, POLICY_FORMAT_SARIF, "t", &sarif), 0);
        const char *run2 =
                strstr(sarif, "\"automationDetails\": {\"id\": \"cairn-enforce/arm64/\"}");
        assert_non_null(strstr(sarif, "\"automationDetails\": {\"id\": \"cairn-enforce/amd64/\"}"));
        assert_non_null(run2);
        assert_non_null(strstr(run2, "\"ruleId\": \"CAIRN-SETUID\""));
        assert_non_null(strstr(sarif, "\"properties\": {\"arch\": \"arm64\"}"));
        policy_report_free(good);
        policy_report_free(bad);
        fx_done(&x);
}

/* Joins a NULL-terminated list: "a b c". */
static char *joined(char **v)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        assert_non_null(f);
        for (size_t i = 0; v[i]; i++)
                fprintf(f, "%s%s", i ? " " : "", v[i]);
        fclose(f);
        return out;
}

static char *executables(struct fx *x, enum policy_profile profile, const char *allow,
                         const char *named)
{
        const char *globs[] = { allow };
        const char *names[] = { named };
        struct policy_options o = {
                .profile = profile,
                .allow = globs,
                .n_allow = allow ? 1 : 0,
                .named = names,
                .n_named = named ? 1 : 0,
        };
        _cleanup_strv_free_ char **v = NULL;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(policy_executables(x->t, x->s, &o, &v, &err), 0);
        return joined(v);
}

/* cairn-init's execute list: what strict allows, or every executable in dev, and the
 * interpreters the kernel runs them with, resolved in the image. */
static void test_runtime_executables(void **state)
{
        (void)state;
        struct fx x = {};
        fx_init(&x);
        fx_prog(&x, "/app/hello", "hello", NULL, 0, 0755);
        fx_flag_named(&x, "/app/hello");
        fx_prog(&x, "/app/dyn", "dyn", NULL, 0, 0755);
        fx_text(&x, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "loader", 0755);
        fx_link(&x, "/lib64", "lib/x86_64-linux-gnu");
        fx_text(&x, "/lib/x86_64-linux-gnu/libc.so.6", "libc", 0755); /* mapped, not run */
        fx_text(&x, "/usr/bin/python3", "python", 0755);
        fx_text(&x, "/app/tool.py", "#!/usr/bin/env python3 -u\nprint(1)\n", 0755);
        fx_text(&x, "/app/run.sh", "#!/bin/interp\n", 0755);
        fx_text(&x, "/bin/interp", "x", 0755);
        fx_text(&x, "/app/data", "not executable", 0644);
        fx_prog(&x, "/opt/extra/bin/x", "hello", NULL, 0, 0755);
        fx_link(&x, "/usr/local/bin/hello", "/app/hello");

        _cleanup_free_ char *strict = executables(&x, POLICY_STRICT, NULL, NULL);
        assert_string_equal(strict, "/app/hello");
        /* A named dynamic program brings its PT_INTERP (through the /lib64 symlink), not libc. */
        _cleanup_free_ char *dyn = executables(&x, POLICY_STRICT, NULL, "/app/dyn");
        assert_string_equal(dyn, "/app/dyn /app/hello /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
        /* #!/usr/bin/env python3: env is missing here, python3 is found in PATH; #!/bin/interp. */
        _cleanup_free_ char *scripts = executables(&x, POLICY_STRICT, "/app/*", NULL);
        assert_string_equal(scripts, "/app/dyn /app/hello /app/run.sh /app/tool.py /bin/interp "
                                     "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 /usr/bin/python3");
        /* An entrypoint named through a symlink names its target. */
        _cleanup_free_ char *link = executables(&x, POLICY_STRICT, NULL, "/usr/local/bin/hello");
        assert_string_equal(link, "/app/hello");
        /* dev: every file with an execute bit. */
        _cleanup_free_ char *dev = executables(&x, POLICY_DEV, NULL, NULL);
        assert_string_equal(dev, "/app/dyn /app/hello /app/run.sh /app/tool.py /bin/interp "
                                 "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "
                                 "/lib/x86_64-linux-gnu/libc.so.6 /opt/extra/bin/x "
                                 "/usr/bin/python3");
        fx_done(&x);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clean_static_passes),
                cmocka_unit_test(test_busybox_markers),
                cmocka_unit_test(test_toolboxes_shells_pkg_managers_packers),
                cmocka_unit_test(test_dynamic_and_libraries),
                cmocka_unit_test(test_load_closure),
                cmocka_unit_test(test_scripts),
                cmocka_unit_test(test_symlinks),
                cmocka_unit_test(test_allow_list),
                cmocka_unit_test(test_modes_and_special_files),
                cmocka_unit_test(test_header_evasions),
                cmocka_unit_test(test_scan_incomplete),
                cmocka_unit_test(test_opaque_program),
                cmocka_unit_test(test_loader),
                cmocka_unit_test(test_report_formats),
                cmocka_unit_test(test_report_formats_archs),
                cmocka_unit_test(test_runtime_executables),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
