/* SPDX-License-Identifier: Apache-2.0 */
#include "enforce.h"

#include "enforce/policy.h"

int stage_enforce(struct build *b, struct build_variant *v, struct cairn_error *err)
{
        const struct recipe_view *view = v->view;
        const char *profile_name = view->policy             ? view->policy
                                   : streq(v->name, "prod") ? "strict"
                                                            : "dev";
        enum policy_profile profile;
        if (policy_profile_from_string(profile_name, &profile) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: variant %s: unknown policy profile '%s' (use strict "
                                       "or dev)",
                                       b->opts.recipe_path, v->name, profile_name);

        /* Named by the recipe: the entries the earlier stages flagged TREE_ENTRY_NAMED, plus
         * the entrypoint and cairn-init, which are named by `run:`. */
        const char *named[2];
        size_t n_named = 0;
        if (view->run.entrypoint && view->run.entrypoint[0] && view->run.entrypoint[0][0] == '/')
                named[n_named++] = view->run.entrypoint[0];
        if (view->run.init)
                named[n_named++] = "/sbin/cairn-init";

        /* Content scans are remembered in the cache by SHA-256: the warm build of an unchanged
         * image reads one small file per program instead of scanning its bytes. */
        _cleanup_free_ char *scan_cache = NULL;
        if (b->cache_dir && asprintf(&scan_cache, "%s/scan", b->cache_dir) < 0)
                return -ENOMEM;
        const struct recipe_policy *tuning = view->policy_tuning;
        struct policy_options o = {
                .profile = profile,
                .arch = b->arch,
                .allow = tuning ? (const char *const *)tuning->allow_executables : NULL,
                .n_allow = tuning ? strv_length(tuning->allow_executables) : 0,
                .named = named,
                .n_named = n_named,
                .disabled = tuning ? (const char *const *)tuning->disable_rules : NULL,
                .n_disabled = tuning ? strv_length(tuning->disable_rules) : 0,
                .scan_cache = scan_cache,
        };
        _cleanup_policy_report_ struct policy_report *report = NULL;
        int r = policy_check(v->tree, b->store, &o, &report, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "enforcing variant %s", v->name);

        _cleanup_free_ char *target = NULL, *summary = NULL, *text = NULL;
        if (asprintf(&target, "%s-%s", b->recipe->name ? b->recipe->name : "image", v->name) < 0)
                return -ENOMEM;
        r = policy_report_summary(report, &summary);
        if (r >= 0)
                r = policy_report_format(report, POLICY_FORMAT_TEXT, target, &text);
        if (r < 0)
                return r;
        free(v->verdict.summary);
        free(v->verdict.report);
        v->verdict = (struct build_verdict){
                .ran = true,
                .passed = policy_report_passed(report),
                .n_errors = report->n_errors,
                .n_warnings = report->n_warnings,
                .summary = steal_pointer(&summary),
                .report = steal_pointer(&text),
        };
        return 0;
}
