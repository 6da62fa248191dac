/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn profile RECIPE [--variant V] [--duration SECONDS] [--env K=V]... [--format text|json]
 *                      [--reads | --write-reads] [--runtime R] [--pids N] [--memory MIB] [-- ARGS...]
 *
 * Assembles the variant's tree (the pipeline's layout stages), runs the variant's enforcer,
 * then runs the image's program under runc (sandbox/profile_run.h) and prints the report: the
 * `writable:` block that covers what it wrote, or the JSON form (sandbox/profile_report.h).
 */
#include <getopt.h>
#include <math.h>

#include "cmd.h"
#include "sandbox/profile_report.h"
#include "sandbox/profile_run.h"
#include "sandbox/sandbox.h"
#include "recipe/readsfile.h"
#include "sandbox/readset.h"
#include "stages/pipeline.h"
#include "stages/reads.h"
#include "state/build.h"

#define PROFILE_DEFAULT_DURATION 10.0

static void profile_help(FILE *f)
{
        fprintf(f,
                "Usage: cairn profile RECIPE [OPTIONS] [-- ARGS...]\n\n"
                "Run the variant's bundle (what `cairn bundle` writes) under runc, unprivileged\n"
                "in a user namespace, with no terminal and in a new session, its root on an\n"
                "overlay of the image, and print the writable: block that covers every path\n"
                "the program wrote. The enforcer runs first; setuid/setgid files and devices\n"
                "are refused. ARGS replace the recipe's cmd. Needs root and runc.\n\n"
                "Options:\n"
                "      --variant V        variant to run (default: prod, else the first)\n"
                "      --duration SECS    stop the program after SECS (default: 10): SIGTERM,\n"
                "                         then SIGKILL 2 s later\n"
                "      --env K=V          set or override an environment variable (repeatable)\n"
                "      --entrypoint PATH  run PATH (an absolute path in the image) instead of\n"
                "                         the recipe's entrypoint, under cairn-init as it would\n"
                "      --format FMT       text (default) or json\n"
                "      --reads            also record which image files were opened and list\n"
                "                         the regular files never opened (slimming hints)\n"
                "      --write-reads      --reads, and write the regular files opened to\n"
                "                         RECIPE.reads.json beside the recipe (the record\n"
                "                         programs: items with only-read: true keep)\n"
                "      --runtime R        the OCI runtime: runc (default), crun, or a path\n"
                "      --pids N           the container's process limit (default: %d)\n"
                "      --memory MIB       the container's memory limit (default: %d)\n"
                "      --cache DIR        download cache (default: $XDG_CACHE_HOME/cairn)\n"
                "      --offline          use only the cache, never the network\n"
                "      --init-binary PATH cairn-init to install (default: next to cairn)\n"
                "  -h, --help             show this help\n\n"
                "Exit status: 0 profiled (even when writes fall outside writable:), 1 policy\n"
                "violation or refused entries, 2 usage or recipe error, 3 source failure,\n"
                "4 I/O error, no runc, or not running as root.\n",
                PROFILE_DEFAULT_PIDS, PROFILE_DEFAULT_MEMORY_MB);
}

static int parse_duration(const char *s, unsigned *ret_ms)
{
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(d) || d <= 0 || d > SANDBOX_MAX_DURATION)
                return -EINVAL;
        *ret_ms = (unsigned)(d * 1000.0 + 0.5);
        if (*ret_ms == 0)
                *ret_ms = 1;
        return 0;
}

/* A positive integer no larger than max. */
static int parse_count(const char *s, uint64_t max, uint64_t *ret)
{
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v == 0 || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

#define PROFILE_MAX_PIDS      (1U << 22)
#define PROFILE_MAX_MEMORY_MB (1U << 24)

struct profile_args {
        struct build_options build;
        const char *variant;
        unsigned duration_ms;
        bool json;
        bool reads;
        bool write_reads;
        const char *runtime;
        uint64_t pids;
        uint64_t memory_mb;
        char **env; /* borrowed from argv */
        size_t n_env;
        char **args; /* borrowed from argv; after "--" */
        bool has_args;
        const char *entrypoint; /* borrowed from argv; replaces run.entrypoint */
};

/* 0: parsed; -1: --help was printed (exit 0); > 0: the exit status of a usage error. */
static int profile_parse_args(int argc, char **argv, struct profile_args *a)
{
        enum {
                OPT_VARIANT = 256,
                OPT_DURATION,
                OPT_ENV,
                OPT_FORMAT,
                OPT_CACHE,
                OPT_OFFLINE,
                OPT_INIT,
                OPT_READS,
                OPT_WRITE_READS,
                OPT_RUNTIME,
                OPT_PIDS,
                OPT_MEMORY,
                OPT_ENTRYPOINT,
        };
        static const struct option options[] = {
                { "variant", required_argument, NULL, OPT_VARIANT },
                { "duration", required_argument, NULL, OPT_DURATION },
                { "env", required_argument, NULL, OPT_ENV },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "cache", required_argument, NULL, OPT_CACHE },
                { "offline", no_argument, NULL, OPT_OFFLINE },
                { "init-binary", required_argument, NULL, OPT_INIT },
                { "reads", no_argument, NULL, OPT_READS },
                { "write-reads", no_argument, NULL, OPT_WRITE_READS },
                { "runtime", required_argument, NULL, OPT_RUNTIME },
                { "pids", required_argument, NULL, OPT_PIDS },
                { "memory", required_argument, NULL, OPT_MEMORY },
                { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        /* ARGS after "--" belong to the program: cut them off before getopt sees them. */
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--")) {
                        a->args = argv + i + 1;
                        a->has_args = true;
                        argv[i] = NULL;
                        argc = i;
                        break;
                }
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_VARIANT:
                        a->variant = optarg;
                        break;
                case OPT_DURATION:
                        if (parse_duration(optarg, &a->duration_ms) < 0)
                                return cmd_usage_error("profile",
                                                       "--duration %s: want seconds, more than 0 "
                                                       "and at most %d",
                                                       optarg, SANDBOX_MAX_DURATION);
                        break;
                case OPT_ENV: {
                        const char *eq = strchr(optarg, '=');
                        if (!eq || eq == optarg)
                                return cmd_usage_error("profile", "--env %s: want KEY=VALUE",
                                                       optarg);
                        if (a->n_env >= PROFILE_MAX_ENV)
                                return cmd_usage_error("profile", "more than %d --env options",
                                                       PROFILE_MAX_ENV);
                        a->env[a->n_env++] = optarg;
                        break;
                }
                case OPT_FORMAT:
                        if (!streq(optarg, "text") && !streq(optarg, "json"))
                                return cmd_usage_error("profile", "--format %s: use text or json",
                                                       optarg);
                        a->json = streq(optarg, "json");
                        break;
                case OPT_CACHE:
                        a->build.cache_dir = optarg;
                        break;
                case OPT_OFFLINE:
                        a->build.offline = true;
                        break;
                case OPT_INIT:
                        a->build.init_binary = optarg;
                        break;
                case OPT_READS:
                        a->reads = true;
                        break;
                case OPT_WRITE_READS:
                        a->reads = a->write_reads = true;
                        /* The run sees every match of an only-read pattern, not last time's. */
                        a->build.ignore_reads = true;
                        break;
                case OPT_RUNTIME:
                        a->runtime = optarg;
                        break;
                case OPT_PIDS:
                        if (parse_count(optarg, PROFILE_MAX_PIDS, &a->pids) < 0)
                                return cmd_usage_error("profile",
                                                       "--pids %s: want a number of processes "
                                                       "from 1 to %u",
                                                       optarg, PROFILE_MAX_PIDS);
                        break;
                case OPT_MEMORY:
                        if (parse_count(optarg, PROFILE_MAX_MEMORY_MB, &a->memory_mb) < 0)
                                return cmd_usage_error("profile",
                                                       "--memory %s: want MiB from 1 to %u", optarg,
                                                       PROFILE_MAX_MEMORY_MB);
                        break;
                case OPT_ENTRYPOINT:
                        if (optarg[0] != '/')
                                return cmd_usage_error("profile",
                                                       "--entrypoint %s: want an absolute path in "
                                                       "the image",
                                                       optarg);
                        a->entrypoint = optarg;
                        break;
                case 'h':
                        profile_help(stdout);
                        return -1; /* help shown: exit 0 */
                default:
                        return cmd_usage_error("profile", "unknown option");
                }
        }
        if (optind != argc - 1)
                return cmd_usage_error("profile", "expected exactly one RECIPE");
        a->build.recipe_path = argv[optind];
        return 0;
}

/* The reads record (recipe/readsfile.h) of this run: the regular files of the image the
 * program opened, for the packages this build used. */
static int profile_write_reads(struct build *b, const struct build_variant *v,
                               const struct profile_result *res, struct cairn_error *err)
{
        if (res->run.reads_truncated)
                return cairn_error_add(err, CAIRN_EXIT_IO, -E2BIG,
                                       "%s: the program opened more than %d files; no reads "
                                       "record written",
                                       b->opts.recipe_path, READSET_MAX);
        _cleanup_readsfile_ struct readsfile *rf = calloc(1, sizeof(*rf));
        char digest[72];
        if (!rf || reads_packages_digest(b, digest) < 0)
                return -ENOMEM;
        rf->version = READSFILE_VERSION;
        rf->recipe = strdup(b->recipe->name);
        rf->variant = strdup(v->name);
        rf->packages = strdup(digest);
        rf->reads = calloc(res->run.n_reads + 1, sizeof(char *));
        if (!rf->recipe || !rf->variant || !rf->packages || !rf->reads)
                return -ENOMEM;
        for (size_t i = 0; i < res->run.n_reads; i++) {
                const struct tree_entry *e = tree_lookup(v->tree, res->run.reads[i]);
                if (!e || (e->type != TREE_REG && e->type != TREE_HARDLINK))
                        continue;
                rf->reads[rf->n_reads] = strdup(res->run.reads[i]);
                if (!rf->reads[rf->n_reads++])
                        return -ENOMEM;
        }
        return readsfile_write(rf, b->reads_path, err);
}

static struct build_variant *profile_pick_variant(struct build *b, const char *name)
{
        if (name)
                return build_find_variant(b, name);
        struct build_variant *v = build_find_variant(b, "prod");
        return v ? v : (b->n_variants ? &b->variants[0] : NULL);
}

int cmd_profile(int argc, char **argv)
{
        _cleanup_free_ char **env = calloc(PROFILE_MAX_ENV, sizeof(char *));
        if (!env)
                return CAIRN_EXIT_IO;
        struct profile_args a = {
                .build = { .epoch = -1, .compression = "gzip", .quiet = true },
                .duration_ms = (unsigned)(PROFILE_DEFAULT_DURATION * 1000),
                .env = env,
                .pids = PROFILE_DEFAULT_PIDS,
                .memory_mb = PROFILE_DEFAULT_MEMORY_MB,
        };
        int r = profile_parse_args(argc, argv, &a);
        if (r != 0)
                return r < 0 ? CAIRN_EXIT_OK : r;
        /* --entrypoint: the variant's run: borrows this argv for the run (views borrow their
         * run: strings, and this outlives the build). */
        char *entry_argv[] = { (char *)a.entrypoint, NULL };
        a.build.only_variant = a.variant;

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_free_ char *runtime = NULL;
        if (sandbox_check_privileges(&err) < 0 ||
            sandbox_find_runtime(a.runtime, &runtime, &err) < 0)
                return cmd_fail(&err);

        _cleanup_build_ struct build *b = NULL;
        r = build_new(&a.build, &b, &err);
        if (r >= 0)
                r = pipeline_layout(b, &err);
        if (r < 0)
                return cmd_fail(&err);
        struct build_variant *v = profile_pick_variant(b, a.variant);
        if (!v) {
                cairn_error_add(&err, CAIRN_EXIT_USAGE, -ENOENT, "%s: no variant to profile",
                                a.build.recipe_path);
                return cmd_fail(&err);
        }
        /* The variant's enforcer decides first, as for a build: nothing runs otherwise. */
        for (size_t i = 0; i < b->n_variants; i++)
                b->variants[i].selected = &b->variants[i] == v;
        r = pipeline_enforce(b, &err);
        if (r < 0) {
                if (v->verdict.report && cairn_error_exit_status(&err) == CAIRN_EXIT_POLICY)
                        fputs(v->verdict.report, stderr);
                return cmd_fail(&err);
        }
        if (a.entrypoint)
                v->view->run.entrypoint = entry_argv;
        bool have_pids, have_memory;
        sandbox_cgroup_controllers(&have_pids, &have_memory);
        if (!have_pids)
                fprintf(stderr, "cairn profile: note: no pids cgroup controller here; processes "
                                "are bounded by RLIMIT_NPROC only\n");
        if (!have_memory)
                fprintf(stderr, "cairn profile: note: no memory cgroup controller here; the "
                                "container's memory is not limited\n");

        const struct profile_options po = {
                .view = v->view,
                .tree = v->tree,
                .store = b->store,
                .epoch = b->epoch,
                .recipe_path = a.build.recipe_path,
                .variant = v->name,
                .name = b->recipe->name,
                .arch = b->arch,
                .runtime = runtime,
                .work_dir = b->work_dir,
                .pids_limit = have_pids ? a.pids : 0,
                .memory_limit = have_memory ? a.memory_mb << 20 : 0,
                .env = a.env,
                .n_env = a.n_env,
                .args = a.args,
                .has_args = a.has_args,
                .duration_ms = a.duration_ms,
                .record_reads = a.reads,
        };
        _cleanup_(profile_result_clear) struct profile_result res = { 0 };
        r = profile_run(&po, &res, &err);
        if (r < 0)
                return cmd_fail(&err);

        _cleanup_free_ char *image = NULL, *warnings = NULL, *report = NULL;
        if (asprintf(&image, "%s-%s", b->recipe->name, v->name) < 0) {
                image = NULL;
                return CAIRN_EXIT_IO;
        }
        const struct profile_report rep = {
                .image = image,
                .variant = v->name,
                .tree = v->tree,
                .result = &res,
                .reads = a.reads,
        };
        r = profile_report_warnings(&res, &v->view->run, &warnings);
        if (r >= 0)
                r = profile_report_format(&rep, a.json ? PROFILE_FORMAT_JSON : PROFILE_FORMAT_TEXT,
                                          &report);
        if (r < 0) {
                cairn_error_errno(&err, r, "the profile report: %s", strerror(-r));
                return cmd_fail(&err);
        }
        if (a.write_reads) {
                r = profile_write_reads(b, v, &res, &err);
                if (r < 0)
                        return cmd_fail(&err);
                fprintf(stderr, "cairn profile: wrote %s\n", b->reads_path);
        }
        fputs(warnings, stderr);
        fputs(report, stdout);
        if (fflush(stdout) != 0)
                return CAIRN_EXIT_IO;
        return CAIRN_EXIT_OK;
}
