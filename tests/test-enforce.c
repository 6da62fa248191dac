/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inline enforce stage: profile and allow list from the variant's view, verdict in the
 * variant, pipeline_enforce turning a failed verdict into a policy error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "state/build.h"
#include "stages/pipeline.h"
#include "stages/enforce.h"

static char *tmpdir;

static int setup(void **state)
{
        (void)state;
        tmpdir = strdup("/tmp/cairn-test-enforce-XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd,
                     "printf '#include <stdio.h>\\nint main(void){puts(\"hi\");return 0;}\\n' | "
                     "${CC:-cc} -static -x c -o %s/hello -",
                     tmpdir) < 0)
                return -1;
        return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        (void)rm_rf(tmpdir);
        free(tmpdir);
        return 0;
}

/* A build of one variant, made by hand: the recipe parser is not needed for the stage. */
struct fx {
        struct recipe recipe;
        struct recipe_view view;
        struct recipe_policy tuning;
        struct build b;
        struct build_variant v;
        char *store_dir;
};

static void fx_init(struct fx *x, const char *variant, const char *policy)
{
        *x = (struct fx){};
        x->recipe.name = "t";
        x->view.recipe = &x->recipe;
        x->view.policy = policy;
        assert_true(asprintf(&x->store_dir, "%s/store-XXXXXX", tmpdir) > 0);
        assert_non_null(mkdtemp(x->store_dir));
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(store_open(x->store_dir, &x->b.store, &err), 0);
        assert_int_equal(tree_new(&x->v.tree), 0);
        x->b.recipe = &x->recipe;
        x->b.arch = "amd64";
        x->b.opts.recipe_path = "t.yaml";
        x->b.variants = &x->v;
        x->b.n_variants = 1;
        x->v.name = variant;
        x->v.view = &x->view;
        x->v.selected = true;
}

static void fx_done(struct fx *x)
{
        free(x->v.verdict.summary);
        free(x->v.verdict.report);
        tree_free(x->v.tree);
        store_free(x->b.store);
        (void)rm_rf(x->store_dir);
        free(x->store_dir);
}

/* The static hello program, with `extra` appended, at path. */
static void fx_prog(struct fx *x, const char *path, const char *extra, size_t extra_len,
                    uint32_t flags)
{
        _cleanup_free_ char *p = NULL, *buf = NULL;
        size_t len;
        assert_true(asprintf(&p, "%s/hello", tmpdir) > 0);
        assert_int_equal(read_file_bounded(p, 64 << 20, &buf, &len), 0);
        _cleanup_free_ char *all = malloc(len + extra_len);
        assert_non_null(all);
        memcpy(all, buf, len);
        if (extra_len)
                memcpy(all + len, extra, extra_len);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct tree_entry e = { .path = (char *)path,
                                .type = TREE_REG,
                                .mode = 0755,
                                .size = len + extra_len,
                                .flags = flags };
        assert_int_equal(store_put_buf(x->b.store, all, len + extra_len, &e.key, &err), 0);
        assert_int_equal(tree_insert(x->v.tree, &e, 0, &err), 0);
}

static void run_stage(struct fx *x)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        free(x->v.verdict.summary);
        free(x->v.verdict.report);
        x->v.verdict = (struct build_verdict){};
        assert_int_equal(stage_enforce(&x->b, &x->v, &err), 0);
        assert_true(x->v.verdict.ran);
        assert_non_null(x->v.verdict.summary);
        assert_non_null(x->v.verdict.report);
}

static void test_named_busybox_fails_the_build(void **state)
{
        (void)state;
        struct fx x;
        fx_init(&x, "prod", NULL);
        static const char bb[] = "\0BusyBox v1.36.1\0BusyBox is a multi-call binary\0";
        fx_prog(&x, "/app/helper", bb, sizeof(bb), TREE_ENTRY_NAMED);
        run_stage(&x);
        assert_false(x.v.verdict.passed);
        assert_int_equal(x.v.verdict.n_errors, 1);
        assert_string_equal(x.v.verdict.summary, "FAIL (strict): 1 error, 0 warnings");
        assert_non_null(strstr(x.v.verdict.report, "CAIRN-BUSYBOX"));
        assert_non_null(strstr(x.v.verdict.report, "/app/helper"));
        assert_non_null(strstr(x.v.verdict.report, "t-prod"));

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(pipeline_enforce(&x.b, &err), -EPERM);
        assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_POLICY);
        assert_non_null(strstr(err.messages[0], "nothing was written"));
        fx_done(&x);
}

static void test_entrypoint_and_init_are_named(void **state)
{
        (void)state;
        struct fx x;
        fx_init(&x, "prod", "strict");
        fx_prog(&x, "/app/hello", NULL, 0, 0);
        fx_prog(&x, "/sbin/cairn-init", NULL, 0, 0);
        run_stage(&x);
        assert_false(x.v.verdict.passed);
        assert_int_equal(x.v.verdict.n_errors, 2); /* both unlisted */

        char *entrypoint[] = { "/app/hello", "--port", NULL };
        x.view.run.entrypoint = entrypoint;
        x.view.run.init = "cairn-init";
        run_stage(&x);
        assert_true(x.v.verdict.passed);
        assert_string_equal(x.v.verdict.summary, "pass (strict)");

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(pipeline_enforce(&x.b, &err), 0);
        fx_done(&x);
}

static void test_recipe_tuning(void **state)
{
        (void)state;
        struct fx x;
        fx_init(&x, "prod", "strict");
        fx_prog(&x, "/opt/tool", NULL, 0, 0);
        x.tuning.name = "strict";
        char *allow[] = { "/opt/*", NULL };
        x.tuning.allow_executables = allow;
        x.view.policy_tuning = &x.tuning;
        run_stage(&x);
        assert_true(x.v.verdict.passed);

        char *none[] = { NULL };
        char *off[] = { "CAIRN-EXEC-UNLISTED", NULL };
        x.tuning.allow_executables = none;
        run_stage(&x);
        assert_false(x.v.verdict.passed);
        x.tuning.disable_rules = off;
        run_stage(&x);
        assert_true(x.v.verdict.passed);

        char *bad[] = { "CAIRN-NOT-A-RULE", NULL };
        x.tuning.disable_rules = bad;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(stage_enforce(&x.b, &x.v, &err), -EINVAL);
        assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_USAGE);
        assert_non_null(strstr(err.messages[0], "CAIRN-NOT-A-RULE"));
        fx_done(&x);
}

static void test_dev_profile_and_unknown_profile(void **state)
{
        (void)state;
        struct fx x;
        fx_init(&x, "dev", NULL); /* dev variants default to the dev profile */
        fx_prog(&x, "/usr/bin/anything", NULL, 0, 0);
        run_stage(&x);
        assert_true(x.v.verdict.passed);
        assert_string_equal(x.v.verdict.summary, "pass (dev)");

        x.view.policy = "lax";
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(stage_enforce(&x.b, &x.v, &err), -EINVAL);
        assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_USAGE);
        fx_done(&x);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_named_busybox_fails_the_build),
                cmocka_unit_test(test_entrypoint_and_init_are_named),
                cmocka_unit_test(test_recipe_tuning),
                cmocka_unit_test(test_dev_profile_and_unknown_profile),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
