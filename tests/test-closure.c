/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The load closure (assembler/enforce/closure.c) on programs and libraries this test compiles
 * (never run: -nostdlib, so only their headers matter): DT_NEEDED chains through SONAME and
 * directory symlinks, RUNPATH against RPATH, RUNPATH not carried to a library's own
 * dependencies, $ORIGIN, and a missing library named with the file that needs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>

#include "enforce/closure.h"

static char *tmpdir;
static struct store *store;

static int sh(const char *fmt, ...) _printf_(1, 2);
static int sh(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *cmd = NULL;
        int n = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -1;
        _cleanup_free_ char *full = NULL;
        if (asprintf(&full, "cd %s && %s", tmpdir, cmd) < 0)
                return -1;
        return system(full) == 0 ? 0 : -1;
}

/* A shared library NAME.so with SONAME soname, needing the libraries of `libs` ("-l:x.so"). */
#define LIB(name, soname, libs, extra)                                                             \
        sh("printf 'int " name "(void){return 0;}\\n' > " name ".c && ${CC:-cc} -nostdlib "        \
           "-shared -fPIC -Wl,--no-as-needed -Wl,-soname," soname " " extra " -o " name            \
           ".so " name ".c -L. " libs " -Wl,--allow-shlib-undefined")
/* A program needing `libs`, with PT_INTERP /lib64/ld-test.so.2. */
#define PROG(name, libs, extra)                                                                    \
        sh("printf 'int main(void){return 0;}\\n' > " name ".c && ${CC:-cc} -nostdlib -no-pie "    \
           "-Wl,--dynamic-linker=/lib64/ld-test.so.2 -Wl,-e,main -Wl,--no-as-needed " extra        \
           " -o " name " " name ".c -L. " libs " -Wl,--allow-shlib-undefined")

static int setup(void **state)
{
        (void)state;
        tmpdir = strdup("/tmp/cairn-test-closure-XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        _cleanup_free_ char *sd = NULL;
        if (asprintf(&sd, "%s/store", tmpdir) < 0 || store_open(sd, &store, NULL) < 0)
                return -1;
        if (LIB("ld", "ld-test.so.2", "", "") < 0 || LIB("b", "libb.so.1", "", "") < 0 ||
            LIB("a", "liba.so.1", "-l:b.so", "") < 0 ||
            LIB("unused", "libunused.so.1", "", "") < 0 || LIB("r", "libr.so.1", "", "") < 0 ||
            LIB("m2", "libm2.so.1", "", "") < 0 || LIB("n", "libn.so.1", "-l:m2.so", "") < 0 ||
            PROG("chain", "-l:a.so", "-Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'") < 0 ||
            PROG("rpath", "-l:r.so", "-Wl,--disable-new-dtags,-rpath,/opt/r") < 0 ||
            PROG("runpath", "-l:r.so", "-Wl,--enable-new-dtags,-rpath,/opt/n") < 0 ||
            PROG("inherit", "-l:n.so", "-Wl,--enable-new-dtags,-rpath,/opt/n") < 0 ||
            PROG("missing", "-l:b.so -l:unused.so", "") < 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        store_free(store);
        (void)rm_rf(tmpdir);
        free(tmpdir);
        return 0;
}

/* Every message of err, one per line; owned by the caller. */
static char *joined(const struct cairn_error *err)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        for (size_t i = 0; i < err->n_messages; i++)
                fprintf(f, "%s\n", err->messages[i]);
        fclose(f);
        return text;
}

static void put_file(struct tree *t, const char *path, const char *file)
{
        _cleanup_free_ char *src = NULL;
        assert_true(asprintf(&src, "%s/%s", tmpdir, file) > 0);
        _cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct tree_entry e = { .path = (char *)path, .type = TREE_REG, .mode = 0644 };
        assert_int_equal(store_put_fd(store, fd, UINT64_MAX, &e.key, &e.size, NULL), 0);
        assert_int_equal(tree_insert(t, &e, 0, NULL), 0);
}

static void put_link(struct tree *t, const char *path, const char *target)
{
        struct tree_entry e = {
                .path = (char *)path, .type = TREE_SYMLINK, .mode = 0777, .target = (char *)target
        };
        assert_int_equal(tree_insert(t, &e, 0, NULL), 0);
}

/* What every test tree has: merged /usr with /lib -> usr/lib, the interpreter behind a link. */
static struct tree *base_tree(void)
{
        struct tree *t = NULL;
        assert_int_equal(tree_new(&t), 0);
        put_link(t, "/lib", "usr/lib");
        put_link(t, "/lib64/ld-test.so.2", "/lib/x86_64-linux-gnu/ld-test.so.2");
        put_file(t, "/usr/lib/x86_64-linux-gnu/ld-test.so.2", "ld.so");
        put_file(t, "/usr/lib/x86_64-linux-gnu/libunused.so.1", "unused.so");
        return t;
}

static char *closure_of(struct tree *t, const char *root, int expect, struct cairn_error *err)
{
        _cleanup_strv_free_ char **keep = NULL;
        const char *roots[] = { root };
        int r = closure_compute(t, store, roots, 1, &keep, err);
        assert_int_equal(r, expect);
        if (r < 0)
                return NULL;
        /* One line per path, for a readable assertion. */
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        for (char **k = keep; *k; k++)
                fprintf(f, "%s\n", *k);
        fclose(f);
        return text;
}

static void test_chain(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = base_tree();
        put_file(t, "/usr/bin/chain", "chain");
        put_link(t, "/usr/lib/liba.so.1", "liba.so.1.0.0");
        put_file(t, "/usr/lib/liba.so.1.0.0", "a.so");
        put_link(t, "/usr/lib/x86_64-linux-gnu/libb.so.1", "libb.so.1.2");
        put_file(t, "/usr/lib/x86_64-linux-gnu/libb.so.1.2", "b.so");
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_free_ char *got = closure_of(t, "/usr/bin/chain", 0, &err);
        assert_string_equal(got, "/lib\n"
                                 "/lib64/ld-test.so.2\n"
                                 "/usr/bin/chain\n"
                                 "/usr/lib/liba.so.1\n"
                                 "/usr/lib/liba.so.1.0.0\n"
                                 "/usr/lib/x86_64-linux-gnu/ld-test.so.2\n"
                                 "/usr/lib/x86_64-linux-gnu/libb.so.1\n"
                                 "/usr/lib/x86_64-linux-gnu/libb.so.1.2\n");
}

/* $ORIGIN is the directory of the program's resolved path: through a symlink to it, the
 * libraries beside the real file are found. */
static void test_origin_through_link(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = base_tree();
        put_file(t, "/opt/app/bin/chain", "chain");
        put_link(t, "/usr/local/bin/chain", "/opt/app/bin/chain");
        put_file(t, "/opt/app/lib/liba.so.1", "a.so");
        put_file(t, "/usr/lib/libb.so.1", "b.so");
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_free_ char *got = closure_of(t, "/usr/local/bin/chain", 0, &err);
        assert_string_equal(got, "/lib\n"
                                 "/lib64/ld-test.so.2\n"
                                 "/opt/app/bin/chain\n"
                                 "/opt/app/lib/liba.so.1\n"
                                 "/usr/lib/libb.so.1\n"
                                 "/usr/lib/x86_64-linux-gnu/ld-test.so.2\n"
                                 "/usr/local/bin/chain\n");
}

static void test_rpath_runpath(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = base_tree();
        put_file(t, "/usr/bin/rpath", "rpath");
        put_file(t, "/usr/bin/runpath", "runpath");
        put_file(t, "/opt/r/libr.so.1", "r.so");
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_free_ char *got = closure_of(t, "/usr/bin/rpath", 0, &err);
        assert_non_null(strstr(got, "/opt/r/libr.so.1\n"));
        /* RUNPATH /opt/n: /opt/r is not searched. */
        assert_null(closure_of(t, "/usr/bin/runpath", -ENOENT, &err));
        _cleanup_free_ char *msg = joined(&err);
        assert_non_null(strstr(msg, "/usr/bin/runpath"));
        assert_non_null(strstr(msg, "libr.so.1"));
        assert_non_null(strstr(msg, "RUNPATH /opt/n"));
}

/* RUNPATH is the program's only: its library's own DT_NEEDED does not search it. */
static void test_runpath_not_inherited(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = base_tree();
        put_file(t, "/usr/bin/inherit", "inherit");
        put_file(t, "/opt/n/libn.so.1", "n.so");
        put_file(t, "/opt/n/libm2.so.1", "m2.so");
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_null(closure_of(t, "/usr/bin/inherit", -ENOENT, &err));
        _cleanup_free_ char *msg = joined(&err);
        assert_non_null(strstr(msg, "/opt/n/libn.so.1: library libm2.so.1"));
        /* In a default directory it is found. */
        assert_int_equal(tree_remove(t, "/opt/n/libm2.so.1"), 0);
        put_file(t, "/usr/lib/x86_64-linux-gnu/libm2.so.1", "m2.so");
        cairn_error_clear(&err);
        _cleanup_free_ char *got = closure_of(t, "/usr/bin/inherit", 0, &err);
        assert_non_null(strstr(got, "/opt/n/libn.so.1\n/usr/bin/inherit\n"));
        assert_non_null(strstr(got, "/usr/lib/x86_64-linux-gnu/libm2.so.1\n"));
}

static void test_missing(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = base_tree();
        put_file(t, "/usr/bin/missing", "missing");
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_null(closure_of(t, "/usr/bin/missing", -ENOENT, &err));
        _cleanup_free_ char *msg = joined(&err);
        assert_non_null(strstr(msg, "/usr/bin/missing: library libb.so.1 (DT_NEEDED)"));
        /* A missing interpreter, and a root that is not there, are named too. */
        put_file(t, "/usr/lib/libb.so.1", "b.so");
        assert_int_equal(tree_remove(t, "/usr/lib/x86_64-linux-gnu/ld-test.so.2"), 0);
        cairn_error_clear(&err);
        assert_null(closure_of(t, "/usr/bin/missing", -ENOENT, &err));
        free(msg);
        msg = joined(&err);
        assert_non_null(strstr(msg, "/usr/bin/missing: its interpreter (PT_INTERP) "
                                    "/lib64/ld-test.so.2 is absent"));
        cairn_error_clear(&err);
        assert_null(closure_of(t, "/usr/bin/nothing", -ENOENT, &err));
}

/* A symlink loop on the way is refused, not followed for ever. */
static void test_loop(void **state)
{
        (void)state;
        _cleanup_tree_ struct tree *t = base_tree();
        put_link(t, "/usr/bin/x", "y");
        put_link(t, "/usr/bin/y", "x");
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_null(closure_of(t, "/usr/bin/x", -ELOOP, &err));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_chain),         cmocka_unit_test(test_origin_through_link),
                cmocka_unit_test(test_rpath_runpath), cmocka_unit_test(test_runpath_not_inherited),
                cmocka_unit_test(test_missing),       cmocka_unit_test(test_loop),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
