/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn enforce PATH [--profile strict|dev] [--recipe RECIPE [--variant V]] [--arch ARCH]
 *                    [--allow GLOB]... [--disable RULE]... [--image REF] [--no-runtime-json]
 *                    [--format text|json|sarif]
 *
 * An image cairn built says what it is in /etc/cairn/runtime.json (DESIGN.md §9): its variant
 * and the executables its recipe named or allowed. That file is written by whoever wrote the
 * image, so it is a claim, not a trust anchor (DESIGN.md §8): it may name the executables
 * (without --recipe they stand in for the recipe's named paths; an image's author names its
 * entrypoint anyway, and every content rule still applies to a named file), but it never picks
 * a weaker check. The profile is strict unless --profile or --recipe says otherwise, and the
 * variant of --recipe is prod unless --variant says otherwise; when the image claims another
 * variant, a note says which flag checks it the way its build did.
 *
 * A multi-architecture image (an OCI image index of several platforms) is checked once per
 * architecture, each with CAIRN-ARCH for that architecture: those --arch names, else every
 * architecture the image holds (a single image: its config's). The exit status is 1 when any
 * of them fails.
 */
#include <getopt.h>

#include "cmd.h"
#include "image/image.h"
#include "enforce/policy.h"
#include "recipe/recipe.h"
#include "runtime/runtime.h"

#define ENFORCE_MAX_ARGS  1024 /* --allow / --disable given on the command line */
#define ENFORCE_MAX_ARCHS 32   /* architectures checked in one run */

static void enforce_help(FILE *f)
{
        fprintf(f, "Usage: cairn enforce PATH [OPTIONS]\n\n"
                   "Check a directory, a rootfs tar (any compression) or an OCI image layout\n"
                   "against the enforcer's policy, the same checks `cairn build` runs inline.\n"
                   "On an image cairn built, its /etc/cairn/runtime.json names the executables\n"
                   "its recipe named; what it claims never weakens the check (the profile is\n"
                   "strict and the variant prod unless an option says otherwise).\n\n"
                   "Options:\n"
                   "      --profile P     strict (default) or dev\n"
                   "      --recipe R      take profile, allow list, disabled rules and arch from\n"
                   "                      recipe R (its variant, see --variant)\n"
                   "      --variant V     the recipe's variant (default: the image's when its\n"
                   "                      profile is strict, else prod's check)\n"
                   "      --no-runtime-json  ignore what the image's /etc/cairn/runtime.json\n"
                   "                      says (its named executables)\n"
                   "      --arch ARCH     check for Debian architecture ARCH: its ELF files must\n"
                   "                      be ARCH's, and of a multi-architecture image, ARCH's\n"
                   "                      image (repeatable, or a comma list; default: every\n"
                   "                      architecture the image holds)\n"
                   "      --allow GLOB    allow executables matching GLOB (fnmatch, repeatable)\n"
                   "      --disable RULE  switch rule RULE off (repeatable)\n"
                   "      --image REF     the image of an OCI layout with this ref name\n"
                   "      --format F      text (default), json or sarif\n"
                   "      --list-rules    print the rule ids and exit\n"
                   "  -h, --help          show this help\n\n"
                   "Exit status: 0 pass, 1 policy violation, 2 usage, 4 I/O error.\n");
}

/* Prints text wrapped at 96 columns, each line indented by `indent` spaces. */
static void print_wrapped(const char *text, int indent)
{
        const int width = 96;
        int col = 0;
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, " ");
                if (col > indent && col + 1 + (int)n > width) {
                        putchar('\n');
                        col = 0;
                }
                if (col == 0)
                        col = printf("%*s", indent, "");
                else
                        col += printf(" ");
                col += printf("%.*s", (int)n, p);
                p += n;
                while (*p == ' ')
                        p++;
        }
        putchar('\n');
}

static void list_rules(void)
{
        size_t n;
        const struct policy_rule *rules = policy_rules(&n);
        for (size_t i = 0; i < n; i++) {
                printf("%-24s %-7s %-10s %s%s\n", rules[i].id,
                       rules[i].severity == POLICY_ERROR ? "error" : "warning",
                       (rules[i].profiles & POLICY_DEV) ? "strict,dev" : "strict", rules[i].title,
                       (rules[i].warn_in & POLICY_DEV) ? " (a warning in dev)" : "");
                _cleanup_free_ char *basis = NULL;
                if (asprintf(&basis, "decides on: %s", rules[i].basis) < 0)
                        basis = NULL;
                print_wrapped(basis ? basis : rules[i].basis, 4);
        }
        putchar('\n');
        print_wrapped(policy_scan_limits(), 0);
}

struct strv_builder {
        const char **v;
        size_t n, cap;
};

static int sb_push(struct strv_builder *b, const char *s)
{
        if (b->n >= ENFORCE_MAX_ARGS)
                return -E2BIG;
        if (GROW(b->v, b->cap, b->n + 1) < 0)
                return -ENOMEM;
        b->v[b->n++] = s;
        return 0;
}

static void sb_clear(struct strv_builder *b)
{
        free(b->v);
}

static int sb_push_all(struct strv_builder *b, char *const *v)
{
        for (size_t i = 0; v && v[i]; i++) {
                int r = sb_push(b, v[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What the recipe names for variant `view`: picked utility files, artifacts, files, the
 * entrypoint and cairn-init. */
static int recipe_named(const struct recipe_view *view, struct strv_builder *named)
{
        int r = 0;
        for (size_t i = 0; r >= 0 && i < view->n_utilities; i++)
                for (size_t j = 0; r >= 0 && j < view->utilities[i]->n_files; j++)
                        r = sb_push(named, view->utilities[i]->files[j].dest);
        for (size_t i = 0; r >= 0 && i < view->n_artifacts; i++)
                r = sb_push(named, view->artifacts[i]->dest);
        for (size_t i = 0; r >= 0 && i < view->n_files; i++)
                r = sb_push(named, view->files[i]->path);
        if (r >= 0 && view->run.entrypoint && view->run.entrypoint[0])
                r = sb_push(named, view->run.entrypoint[0]);
        if (r >= 0 && view->run.init)
                r = sb_push(named, "/sbin/cairn-init");
        return r;
}

/*
 * /etc/cairn/runtime.json of the loaded image into *ret, or NULL when it has none. A file that
 * is there but does not parse is an error: an image that claims to be cairn's but is not.
 */
static int image_runtime_manifest(const struct tree *t, const struct store *s, const char *path,
                                  struct runtime_manifest **ret, struct cairn_error *err)
{
        _cleanup_free_ char *buf = NULL, *name = NULL;
        size_t len = 0;
        int r = runtime_json_read(t, s, &buf, &len);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s: %s", path, RUNTIME_JSON_PATH,
                                         strerror(-r));
        if (asprintf(&name, "%s:%s", path, RUNTIME_JSON_PATH) < 0)
                return -ENOMEM;
        r = runtime_manifest_parse(name, buf, len, ret, err);
        if (r < 0)
                cairn_error_wrap(err, r,
                                 "%s: its run-time contract does not parse (--no-runtime-json "
                                 "checks the image without it)",
                                 path);
        return r;
}

/*
 * After a failed verdict, the flags that check PATH the way its build did, when this run could
 * not know them: no runtime.json (nothing names the executables) and no --recipe.
 */
static void print_flag_hints(const struct policy_report *report, const struct runtime_manifest *rt,
                             const char *recipe_path, const char *variant, const char *profile_arg)
{
        bool unlisted = false;
        for (size_t i = 0; i < report->n_findings && !unlisted; i++)
                unlisted = streq(report->findings[i].rule->id, "CAIRN-EXEC-UNLISTED");
        if (recipe_path)
                return;
        if (!rt && unlisted)
                fprintf(stderr,
                        "enforce: no %s was read, so nothing names the image's executables "
                        "here: check it as its build did with --recipe RECIPE --variant V (or "
                        "--allow PATH for each executable)\n",
                        RUNTIME_JSON_PATH);
        if (rt)
                fprintf(stderr,
                        "enforce: a recipe's policy: tuning (allow-executables globs beyond what "
                        "it named, disable-rules) is not in the image: pass --recipe RECIPE to "
                        "apply it\n");
}

static void tmpdir_cleanup(char **p)
{
        if (*p) {
                (void)rm_rf(*p);
                free(*p);
                *p = NULL;
        }
}

/*
 * Loads the image of path for architecture arch (NULL: no architecture) and checks it: the
 * profile, allow list and named executables from the options, recipe and the image's
 * runtime.json, as cmd_enforce's comment says. The notes on stderr are printed when first is
 * set (they are the same for every architecture). On success *ret (owned) is the report.
 */
static int enforce_one(const char *path, const char *image_ref, const char *arch, bool first,
                       struct store *store, const struct recipe *recipe, const char *recipe_path,
                       const char *profile_arg, const char *variant_arg, bool use_rtjson,
                       const struct strv_builder *allow_arg,
                       const struct strv_builder *disabled_arg, struct policy_report **ret,
                       struct cairn_error *err)
{
        _cleanup_tree_ struct tree *tree = NULL;
        int r = image_load(path, image_ref, arch, store, &tree, NULL, err);
        if (r < 0)
                return r;
        _cleanup_(sb_clear) struct strv_builder allow = {}, disabled = {}, named = {};
        for (size_t i = 0; i < allow_arg->n; i++)
                if ((r = sb_push(&allow, allow_arg->v[i])) < 0)
                        return r;
        for (size_t i = 0; i < disabled_arg->n; i++)
                if ((r = sb_push(&disabled, disabled_arg->v[i])) < 0)
                        return r;

        /* What the image says about itself: a cairn image carries its run-time contract. */
        _cleanup_runtime_manifest_ struct runtime_manifest *rt = NULL;
        if (use_rtjson) {
                r = image_runtime_manifest(tree, store, path, &rt, err);
                if (r < 0)
                        return r;
        }
        /* The variant the image claims picks the recipe's variant only when that makes no weaker
         * check: a claimed variant whose profile is not strict is checked strict, without its
         * policy: tuning, unless --profile or --variant says otherwise. */
        const char *claimed = !variant_arg && rt ? rt->variant : NULL;
        const char *variant = variant_arg ? variant_arg : claimed ? claimed : "prod";

        _cleanup_recipe_view_ struct recipe_view *view = NULL;
        const char *profile_name = profile_arg ? profile_arg : "strict";
        if (recipe) {
                r = recipe_view_new(recipe, variant, &view, err);
                if (r < 0)
                        return r;
                if (!profile_arg)
                        profile_name = view->policy             ? view->policy
                                       : streq(variant, "prod") ? "strict"
                                                                : "dev";
        } else if (claimed && !profile_arg && !streq(claimed, "prod")) {
                profile_name = "dev"; /* what the build used, unless the recipe said strict */
        }
        bool refused_claim = claimed && !profile_arg && !streq(profile_name, "strict");
        if (refused_claim) {
                if (first)
                        fprintf(stderr,
                                "enforce: %s says it is variant %s, which its build checked with "
                                "profile %s; an image's own word never weakens the check, so it "
                                "is checked with profile strict: pass %s%s%s to check it as its "
                                "build did\n",
                                path, claimed, profile_name,
                                recipe ? "--variant "
                                       : "--profile dev (or --recipe RECIPE --variant ",
                                claimed, recipe ? "" : ")");
                profile_name = "strict";
        }
        if (recipe) {
                const struct recipe_policy *t = refused_claim ? NULL : view->policy_tuning;
                if (t && ((r = sb_push_all(&allow, t->allow_executables)) < 0 ||
                          (r = sb_push_all(&disabled, t->disable_rules)) < 0))
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                               "%s: too many policy entries", recipe_path);
                if (recipe_named(view, &named) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                               "%s: too many named paths", recipe_path);
        } else if (rt && sb_push_all(&named, rt->executables) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                       "%s: %s names too many executables", path,
                                       RUNTIME_JSON_PATH);
        enum policy_profile profile;
        if (policy_profile_from_string(profile_name, &profile) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "profile '%s': use strict or dev", profile_name);
        if (rt && !recipe && first)
                fprintf(stderr,
                        "enforce: %s says it is variant %s of %s (its %s): profile %s%s, %zu "
                        "named executable%s\n",
                        path, rt->variant, rt->name, RUNTIME_JSON_PATH, profile_name,
                        profile_arg ? " (--profile)" : "", named.n, named.n == 1 ? "" : "s");

        struct policy_options o = {
                .profile = profile,
                .arch = arch,
                .allow = allow.v,
                .n_allow = allow.n,
                .named = named.v,
                .n_named = named.n,
                .disabled = disabled.v,
                .n_disabled = disabled.n,
        };
        _cleanup_policy_report_ struct policy_report *report = NULL;
        r = policy_check(tree, store, &o, &report, err);
        if (r < 0)
                return r;
        if (!policy_report_passed(report) && first)
                print_flag_hints(report, rt, recipe_path, variant, profile_arg);
        *ret = steal_pointer(&report);
        return 0;
}

int cmd_enforce(int argc, char **argv)
{
        enum {
                OPT_PROFILE = 256,
                OPT_RECIPE,
                OPT_VARIANT,
                OPT_ARCH,
                OPT_ALLOW,
                OPT_DISABLE,
                OPT_IMAGE,
                OPT_FORMAT,
                OPT_LIST,
                OPT_NO_RTJSON
        };
        static const struct option options[] = {
                { "profile", required_argument, NULL, OPT_PROFILE },
                { "recipe", required_argument, NULL, OPT_RECIPE },
                { "variant", required_argument, NULL, OPT_VARIANT },
                { "arch", required_argument, NULL, OPT_ARCH },
                { "allow", required_argument, NULL, OPT_ALLOW },
                { "disable", required_argument, NULL, OPT_DISABLE },
                { "image", required_argument, NULL, OPT_IMAGE },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "list-rules", no_argument, NULL, OPT_LIST },
                { "no-runtime-json", no_argument, NULL, OPT_NO_RTJSON },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *profile_arg = NULL, *recipe_path = NULL, *variant = NULL, *image_ref = NULL;
        bool use_rtjson = true;
        enum policy_format format = POLICY_FORMAT_TEXT;
        _cleanup_(sb_clear) struct strv_builder allow = {}, disabled = {}, archs = {};
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_PROFILE: {
                        enum policy_profile p;
                        if (policy_profile_from_string(optarg, &p) < 0)
                                return cmd_usage_error("enforce", "--profile %s: use strict or dev",
                                                       optarg);
                        profile_arg = optarg;
                        break;
                }
                case OPT_RECIPE:
                        recipe_path = optarg;
                        break;
                case OPT_VARIANT:
                        variant = optarg;
                        break;
                case OPT_ARCH: {
                        /* A comma list, or the option repeated. */
                        char *save = NULL;
                        for (char *a = strtok_r(optarg, ",", &save); a;
                             a = strtok_r(NULL, ",", &save)) {
                                /* Names are checked where they are used: picking from an image
                                 * index, the enforcer's CAIRN-ARCH (which knows more than
                                 * OCI's platforms: ppc64, powerpc, mipsel). */
                                bool dup = false;
                                for (size_t i = 0; i < archs.n && !dup; i++)
                                        dup = streq(archs.v[i], a);
                                if (!dup &&
                                    (archs.n >= ENFORCE_MAX_ARCHS || sb_push(&archs, a) < 0))
                                        return cmd_usage_error("enforce", "more than %d --arch",
                                                               ENFORCE_MAX_ARCHS);
                        }
                        break;
                }
                case OPT_ALLOW:
                        if (optarg[0] != '/' && optarg[0] != '*')
                                return cmd_usage_error("enforce",
                                                       "--allow %s: globs match absolute image "
                                                       "paths, start it with '/'",
                                                       optarg);
                        if (sb_push(&allow, optarg) < 0)
                                return cmd_usage_error("enforce", "more than %d --allow",
                                                       ENFORCE_MAX_ARGS);
                        break;
                case OPT_DISABLE:
                        if (!policy_rule_find(optarg))
                                return cmd_usage_error("enforce",
                                                       "--disable %s: no such rule (see "
                                                       "--list-rules)",
                                                       optarg);
                        if (sb_push(&disabled, optarg) < 0)
                                return cmd_usage_error("enforce", "more than %d --disable",
                                                       ENFORCE_MAX_ARGS);
                        break;
                case OPT_IMAGE:
                        image_ref = optarg;
                        break;
                case OPT_FORMAT:
                        if (policy_format_from_string(optarg, &format) < 0)
                                return cmd_usage_error(
                                        "enforce", "--format %s: use text, json or sarif", optarg);
                        break;
                case OPT_NO_RTJSON:
                        use_rtjson = false;
                        break;
                case OPT_LIST:
                        list_rules();
                        return CAIRN_EXIT_OK;
                case 'h':
                        enforce_help(stdout);
                        return CAIRN_EXIT_OK;
                default:
                        return cmd_usage_error("enforce", "unknown option");
                }
        }
        if (optind != argc - 1)
                return cmd_usage_error("enforce", "expected exactly one PATH");
        const char *path = argv[optind];

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        const char *tmp = getenv("TMPDIR");
        _cleanup_(tmpdir_cleanup) char *work = NULL;
        if (asprintf(&work, "%s/cairn-enforce-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                return cmd_fail(&err);
        if (!mkdtemp(work)) {
                cairn_error_errno(&err, -errno, "%s: cannot create a work directory: %m", work);
                return cmd_fail(&err);
        }
        _cleanup_free_ char *objects = NULL;
        _cleanup_store_ struct store *store = NULL;
        if (asprintf(&objects, "%s/objects", work) < 0)
                return CAIRN_EXIT_IO;
        int r = store_open(objects, &store, &err);
        if (r < 0)
                return cmd_fail(&err);

        /* The architectures to check: --arch's, else every one the image holds (none known:
         * one check, with the recipe's architecture or none). */
        _cleanup_strv_free_ char **held = NULL;
        if (archs.n == 0) {
                r = image_archs(path, image_ref, &held, &err);
                if (r < 0)
                        return cmd_fail(&err);
        }
        _cleanup_recipe_ struct recipe *recipe = NULL;
        if (recipe_path) {
                r = recipe_parse_file(recipe_path, &recipe, &err);
                if (r < 0)
                        return cmd_fail(&err);
        }
        size_t n_held = strv_length(held);
        /* Labels say the architecture whenever an image of several was picked, or asked for. */
        bool labelled = archs.n > 0 || n_held > 1;
        if (archs.n == 0) {
                /* A single image checked with a recipe of one architecture: the recipe's, as
                 * before; with a recipe of several, the image's own. */
                const char *recipe_arch = !recipe                ? NULL
                                          : recipe->arch         ? recipe->arch
                                          : recipe->n_archs == 0 ? recipe_host_arch()
                                          : n_held == 1 && recipe_has_arch(recipe, held[0])
                                                  ? held[0]
                                                  : NULL;
                bool from_image = n_held > 1 || (n_held == 1 && !recipe_arch);
                if (!from_image && recipe && !recipe_arch)
                        return cmd_usage_error("enforce",
                                               "%s: %s builds several architectures and the "
                                               "image names none of them: pick one with --arch",
                                               path, recipe_path);
                for (size_t i = 0; from_image && r >= 0 && i < n_held; i++)
                        r = sb_push(&archs, held[i]);
                if (!from_image)
                        r = sb_push(&archs, recipe_arch); /* NULL: CAIRN-ARCH does not run */
                if (r < 0)
                        return cmd_usage_error("enforce", "%s: more than %d architectures", path,
                                               ENFORCE_MAX_ARGS);
        }

        _cleanup_free_ struct policy_report **reports = calloc(archs.n, sizeof(*reports));
        if (!reports)
                return CAIRN_EXIT_IO;
        size_t n_reports = 0;
        int exit_status = CAIRN_EXIT_OK;
        for (size_t a = 0; a < archs.n; a++) {
                struct policy_report *report = NULL;
                r = enforce_one(path, image_ref, archs.v[a], a == 0, store, recipe, recipe_path,
                                profile_arg, variant, use_rtjson, &allow, &disabled, &report, &err);
                if (r < 0) {
                        exit_status = cmd_fail(&err);
                        break;
                }
                reports[n_reports++] = report;
        }
        bool passed = true;
        for (size_t i = 0; i < n_reports; i++)
                passed &= policy_report_passed(reports[i]);
        _cleanup_free_ char *out = NULL;
        if (exit_status == CAIRN_EXIT_OK &&
            policy_report_format_archs((const struct policy_report *const *)reports,
                                       labelled ? archs.v : NULL, n_reports, format, path,
                                       &out) < 0)
                exit_status = CAIRN_EXIT_IO;
        if (out) {
                fputs(out, stdout);
                if (fflush(stdout) != 0)
                        exit_status = CAIRN_EXIT_IO;
        }
        for (size_t i = 0; i < n_reports; i++)
                policy_report_free(reports[i]);
        if (exit_status != CAIRN_EXIT_OK)
                return exit_status;
        return passed ? CAIRN_EXIT_OK : CAIRN_EXIT_POLICY;
}
