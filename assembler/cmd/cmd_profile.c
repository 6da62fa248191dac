/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn profile RECIPE [--variant V] [--duration SECONDS] [--env K=V]... [--format text|json]
 *                      [-- ARGS...]
 *
 * Assembles the variant's tree, materializes it into a private temp directory, runs the
 * image's entrypoint in the sandbox (sandbox.h) and prints the `writable:` block that covers
 * what it wrote (profile.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <xxhash.h>

#include "state/build.h"
#include "stages/pipeline.h"
#include "cmd.h"
#include "tree/materialize.h"
#include "sandbox/profile.h"
#include "sandbox/sandbox.h"

#define PROFILE_MAX_ENV          256
#define PROFILE_DEFAULT_DURATION 10.0
#define PROFILE_DEFAULT_PATH     "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void profile_help(FILE *f)
{
        fprintf(f, "Usage: cairn profile RECIPE [OPTIONS] [-- ARGS...]\n\n"
                   "Run the image's entrypoint in a throw-away sandbox (new mount, PID, UTS, IPC\n"
                   "and network namespaces; the rootfs under an overlay) and print the writable:\n"
                   "block that covers every path it wrote. ARGS replace the recipe's cmd.\n"
                   "Needs root.\n\n"
                   "Options:\n"
                   "      --variant V        variant to run (default: prod, else the first)\n"
                   "      --duration SECS    stop the program after SECS (default: 10): SIGTERM,\n"
                   "                         then SIGKILL 2 s later\n"
                   "      --env K=V          set or override an environment variable (repeatable)\n"
                   "      --format FMT       text (default) or json\n"
                   "      --reads            also record which image files were opened and list\n"
                   "                         the regular files never opened (slimming hints)\n"
                   "      --cache DIR        download cache (default: $XDG_CACHE_HOME/cairn)\n"
                   "      --offline          use only the cache, never the network\n"
                   "      --init-binary PATH cairn-init to install (default: next to cairn)\n"
                   "  -h, --help             show this help\n\n"
                   "Exit status: 0 profiled (even when writes fall outside writable:), 2 usage or\n"
                   "recipe error, 3 source failure, 4 I/O error or not running as root.\n");
}

/* The private temp directory, removed whatever happens. */
static void tmpdir_removep(char **p)
{
        if (*p) {
                (void)rm_rf(*p);
                free(*p);
                *p = NULL;
        }
}

/* A digest of every entry's identity and times (ctime included): any write changes it. */
static int tree_fingerprint_at(int dirfd, XXH3_state_t *h)
{
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        /* readdir order is stable for an unchanged directory; that is all a comparison needs. */
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                XXH3_128bits_update(h, de->d_name, strlen(de->d_name) + 1);
                uint64_t v[] = { st.st_ino,
                                 st.st_mode,
                                 st.st_uid,
                                 st.st_gid,
                                 (uint64_t)st.st_size,
                                 (uint64_t)st.st_mtim.tv_sec,
                                 (uint64_t)st.st_mtim.tv_nsec,
                                 (uint64_t)st.st_ctim.tv_sec,
                                 (uint64_t)st.st_ctim.tv_nsec };
                XXH3_128bits_update(h, v, sizeof(v));
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(
                                dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = sub < 0 ? -errno : tree_fingerprint_at(sub, h);
                }
        }
        closedir(d);
        return r;
}

static int tree_fingerprint(const char *dir, XXH128_hash_t *ret)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        XXH3_state_t *h = XXH3_createState();
        if (!h)
                return -ENOMEM;
        XXH3_128bits_reset(h);
        struct stat st;
        int r = fstat(fd, &st) < 0 ? -errno : 0;
        if (r >= 0) {
                uint64_t v[] = { st.st_mode, st.st_uid, st.st_gid, (uint64_t)st.st_ctim.tv_sec,
                                 (uint64_t)st.st_ctim.tv_nsec };
                XXH3_128bits_update(h, v, sizeof(v));
                r = tree_fingerprint_at(fd, h);
        }
        if (r >= 0)
                *ret = XXH3_128bits_digest(h);
        XXH3_freeState(h);
        return r;
}

/* Appends "K=V" to env, replacing an earlier entry for K. */
static int env_set(char **env, size_t *n, const char *key, size_t klen, const char *value)
{
        char *kv = NULL;
        if (asprintf(&kv, "%.*s=%s", (int)klen, key, value) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++)
                if (strncmp(env[i], kv, klen + 1) == 0) {
                        free(env[i]);
                        env[i] = kv;
                        return 0;
                }
        if (*n >= PROFILE_MAX_ENV) {
                free(kv);
                return -E2BIG;
        }
        env[(*n)++] = kv;
        return 0;
}

static int build_env(const struct recipe_view *v, char *const *extra, size_t n_extra, char ***ret)
{
        _cleanup_strv_free_ char **env = calloc(PROFILE_MAX_ENV + 1, sizeof(char *));
        if (!env)
                return -ENOMEM;
        size_t n = 0;
        int r = 0;
        for (size_t i = 0; i < v->run.n_env && r >= 0; i++)
                r = env_set(env, &n, v->run.env[i].key, strlen(v->run.env[i].key),
                            v->run.env[i].value);
        for (size_t i = 0; i < n_extra && r >= 0; i++) {
                const char *eq = strchr(extra[i], '=');
                r = env_set(env, &n, extra[i], (size_t)(eq - extra[i]), eq + 1);
        }
        bool has_path = false;
        for (size_t i = 0; i < n; i++)
                has_path |= startswith(env[i], "PATH=");
        if (r >= 0 && !has_path)
                r = env_set(env, &n, "PATH", 4, PROFILE_DEFAULT_PATH + 5);
        if (r < 0)
                return r;
        *ret = steal_pointer(&env);
        return 0;
}

/* entrypoint + (ARGS or cmd), under cairn-init when the recipe uses it. */
static int build_argv(const struct recipe_view *v, char *const *args, bool has_args, char ***ret)
{
        size_t n = 0;
        for (char **p = v->run.entrypoint; p && *p; p++)
                n++;
        for (char *const *p = has_args ? args : v->run.cmd; p && *p; p++)
                n++;
        for (char **p = v->run.require_env; p && *p; p++)
                n += 2;
        _cleanup_free_ char **argv = calloc(n + 3, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        size_t i = 0;
        if (v->run.init && n > 0) {
                argv[i++] = "/sbin/cairn-init";
                for (char **p = v->run.require_env; p && *p; p++) {
                        argv[i++] = "--require-env";
                        argv[i++] = *p;
                }
                argv[i++] = "--";
        }
        size_t first = i;
        for (char **p = v->run.entrypoint; p && *p; p++)
                argv[i++] = *p;
        for (char *const *p = has_args ? args : v->run.cmd; p && *p; p++)
                argv[i++] = *p;
        if (i == first)
                return -ENOENT;
        *ret = steal_pointer(&argv);
        return 0;
}

static void yaml_path(FILE *f, const char *p)
{
        bool plain = p[0] == '/';
        for (const char *c = p; *c && plain; c++)
                plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                        (*c >= '0' && *c <= '9') || strchr("/._-+@", *c);
        if (plain) {
                fputs(p, f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
                if (*c == '"' || *c == '\\')
                        fprintf(f, "\\%c", *c);
                else if (*c < 0x20 || *c >= 0x7f)
                        fprintf(f, "\\x%02x", *c);
                else
                        fputc(*c, f);
        }
        fputc('"', f);
}

static void json_string(FILE *f, const char *s)
{
        fputc('"', f);
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if (*c == '"' || *c == '\\')
                        fprintf(f, "\\%c", *c);
                else if (*c < 0x20 || *c == 0x7f)
                        fprintf(f, "\\u%04x", *c);
                else
                        fputc(*c, f);
        }
        fputc('"', f);
}

static void describe_end(char *buf, size_t size, const struct sandbox_result *res)
{
        if (res->interrupted)
                snprintf(buf, size, "interrupted");
        else if (res->timed_out)
                snprintf(buf, size, "stopped at --duration%s",
                         res->killed ? " (SIGKILL after the grace period)" : " (SIGTERM)");
        else if (WIFEXITED(res->wait_status))
                snprintf(buf, size, "exited with status %d", WEXITSTATUS(res->wait_status));
        else if (WIFSIGNALED(res->wait_status))
                snprintf(buf, size, "killed by signal %d", WTERMSIG(res->wait_status));
        else
                snprintf(buf, size, "ended");
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool was_read(const struct sandbox_result *res, const char *path)
{
        return res->n_reads &&
               bsearch(&path, res->reads, res->n_reads, sizeof(*res->reads), str_cmp);
}

/* Regular files of the image never opened during the run: candidates for removal. */
static void print_unread(const struct tree *t, const struct sandbox_result *res, bool json)
{
        const struct tree_entry *e;
        size_t n_files = 0, n_unread = 0;
        uint64_t bytes = 0;
        tree_foreach (e, t) {
                if (e->type != TREE_REG)
                        continue;
                n_files++;
                if (was_read(res, e->path))
                        continue;
                if (json) {
                        printf(n_unread ? ", " : "");
                        json_string(stdout, e->path);
                } else {
                        if (!n_unread)
                                printf("# never opened (slimming hints):\n");
                        printf("#   %s\n", e->path);
                }
                n_unread++;
                bytes += e->size;
        }
        if (!json)
                printf("# --reads: %zu of %zu image files never opened (%llu bytes)%s\n", n_unread,
                       n_files, (unsigned long long)bytes,
                       res->reads_truncated ? "; too many opens, list truncated" : "");
}

static void print_text(const char *image, const struct sandbox_result *res,
                       const struct profile_suggestion *p)
{
        char end[128];
        describe_end(end, sizeof(end), res);
        printf("# cairn profile %s: the program %s; %zu path%s written\n", image, end, p->n_writes,
               p->n_writes == 1 ? "" : "s");
        printf("writable: [");
        for (size_t i = 0; i < p->n_dirs; i++) {
                if (i)
                        printf(", ");
                yaml_path(stdout, p->dirs[i]);
        }
        printf("]\n");
}

static void print_json(const char *image, const char *variant, const struct tree *t, bool reads,
                       const struct sandbox_result *res, const struct profile_suggestion *p)
{
        char end[128];
        describe_end(end, sizeof(end), res);
        printf("{\n  \"image\": ");
        json_string(stdout, image);
        printf(",\n  \"variant\": ");
        json_string(stdout, variant);
        printf(",\n  \"run\": {\"end\": ");
        json_string(stdout, end);
        printf(", \"timed_out\": %s, \"killed\": %s, \"exit_status\": ",
               res->timed_out ? "true" : "false", res->killed ? "true" : "false");
        if (WIFEXITED(res->wait_status))
                printf("%d, \"signal\": null},\n", WEXITSTATUS(res->wait_status));
        else
                printf("null, \"signal\": %d},\n",
                       WIFSIGNALED(res->wait_status) ? WTERMSIG(res->wait_status) : 0);
        printf("  \"writable\": [");
        for (size_t i = 0; i < p->n_dirs; i++) {
                printf(i ? ", " : "");
                json_string(stdout, p->dirs[i]);
        }
        printf("],\n  \"writes\": [");
        for (size_t i = 0; i < p->n_writes; i++) {
                const struct profile_write *w = &p->writes[i];
                printf(i ? ",\n    {\"path\": " : "\n    {\"path\": ");
                json_string(stdout, w->write->path);
                printf(", \"op\": \"%s\", \"type\": \"%s\", \"in_writable\": %s, \"dir\": ",
                       sandbox_op_name(w->write->op), w->write->is_dir ? "dir" : "file",
                       w->covered ? "true" : "false");
                if (w->dir)
                        json_string(stdout, w->dir);
                else
                        printf("null");
                if (w->unplaceable) {
                        printf(", \"unplaceable\": ");
                        json_string(stdout, w->unplaceable);
                }
                printf("}");
        }
        printf("%s]", p->n_writes ? "\n  " : "");
        if (reads) {
                printf(",\n  \"reads\": {\"truncated\": %s, \"opened\": [",
                       res->reads_truncated ? "true" : "false");
                for (size_t i = 0; i < res->n_reads; i++) {
                        printf(i ? ", " : "");
                        json_string(stdout, res->reads[i]);
                }
                printf("],\n    \"never_opened\": [");
                print_unread(t, res, true);
                printf("]}");
        }
        printf("\n}\n");
}

static void print_warnings(const struct recipe_view *v, const struct profile_suggestion *p)
{
        for (size_t i = 0; i < p->n_writes; i++) {
                const struct profile_write *w = &p->writes[i];
                if (w->unplaceable)
                        fprintf(stderr, "cairn profile: warning: %s (%s): %s\n", w->write->path,
                                sandbox_op_name(w->write->op), w->unplaceable);
                if (w->covered)
                        continue;
                fprintf(stderr, "cairn profile: warning: %s (%s) is outside writable: [",
                        w->write->path, sandbox_op_name(w->write->op));
                for (char **wp = v->run.writable; wp && *wp; wp++)
                        fprintf(stderr, "%s%s", wp == v->run.writable ? "" : ", ", *wp);
                fprintf(stderr, "]: that write would fail in prod%s\n",
                        v->run.read_only == 0 ? " (this variant's root is not read-only)" : "");
        }
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

struct profile_args {
        struct build_options build;
        const char *variant;
        unsigned duration_ms;
        bool json;
        bool reads;
        char **env; /* borrowed from argv */
        size_t n_env;
        char **args; /* borrowed from argv; after "--" */
        bool has_args;
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
                OPT_READS
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

/* True when one of the blocked stop signals is pending; consumes it. */
static bool stop_requested(const sigset_t *stop)
{
        const struct timespec zero = { 0 };
        bool any = false;
        while (sigtimedwait(stop, NULL, &zero) > 0)
                any = true;
        return any;
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
        };
        int r = profile_parse_args(argc, argv, &a);
        if (r != 0)
                return r < 0 ? CAIRN_EXIT_OK : r;
        a.build.only_variant = a.variant;

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        if (sandbox_check_privileges(&err) < 0)
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

        uint32_t uid, gid;
        r = recipe_view_run_ids(v->view, &uid, &gid, &err);
        if (r < 0)
                return cmd_fail(&err);
        _cleanup_strv_free_ char **envp = NULL;
        r = build_env(v->view, a.env, a.n_env, &envp);
        if (r < 0) {
                cairn_error_add(&err, CAIRN_EXIT_USAGE, r, "more than %d environment variables",
                                PROFILE_MAX_ENV);
                return cmd_fail(&err);
        }
        _cleanup_free_ char **prog = NULL;
        r = build_argv(v->view, a.args, a.has_args, &prog);
        if (r < 0) {
                cairn_error_add(&err, CAIRN_EXIT_USAGE, r,
                                "%s: variant %s has no run.entrypoint or run.cmd; pass the "
                                "program after --",
                                a.build.recipe_path, v->name);
                return cmd_fail(&err);
        }
        if (v->view->run.init && !tree_lookup(v->tree, "/sbin/cairn-init")) {
                cairn_error_add(&err, CAIRN_EXIT_USAGE, -ENOENT,
                                "%s: run.init is set but the %s tree has no /sbin/cairn-init",
                                a.build.recipe_path, v->name);
                return cmd_fail(&err);
        }

        /* From here on a temp dir exists: Ctrl-C, SIGTERM or SIGHUP end the run but the
         * cleanup still happens (the sandbox stops its program on them as well). */
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGHUP);
        sigprocmask(SIG_BLOCK, &stop, NULL);

        const char *tmp = getenv("TMPDIR");
        _cleanup_(tmpdir_removep) char *dir = NULL;
        if (asprintf(&dir, "%s/cairn-profile-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                return CAIRN_EXIT_IO;
        if (!mkdtemp(dir)) {
                cairn_error_errno(&err, -errno, "%s: cannot create: %m", dir);
                free(steal_pointer(&dir));
                return cmd_fail(&err);
        }
        _cleanup_free_ char *rootfs = NULL, *scratch = NULL;
        if (asprintf(&rootfs, "%s/rootfs", dir) < 0 || asprintf(&scratch, "%s/scratch", dir) < 0)
                return CAIRN_EXIT_IO;
        if (mkdir(rootfs, 0755) < 0 || mkdir(scratch, 0700) < 0) {
                cairn_error_errno(&err, -errno, "%s: %m", dir);
                return cmd_fail(&err);
        }
        r = materialize_tree(v->tree, b->store, b->epoch, rootfs, 0, NULL, &err);
        if (r < 0)
                return cmd_fail(&err);
        if (stop_requested(&stop)) {
                cairn_error_add(&err, CAIRN_EXIT_IO, -EINTR, "interrupted");
                return cmd_fail(&err);
        }
        XXH128_hash_t before, after;
        r = tree_fingerprint(rootfs, &before);
        if (r < 0) {
                cairn_error_errno(&err, r, "%s: %s", rootfs, strerror(-r));
                return cmd_fail(&err);
        }

        struct sandbox_options so = {
                .rootfs = rootfs,
                .scratch = scratch,
                .argv = prog,
                .envp = envp,
                .workdir = v->view->run.workdir,
                .uid = uid,
                .gid = gid,
                .duration_ms = a.duration_ms,
                .stdout_to_stderr = true,
                .record_reads = a.reads,
        };
        _cleanup_(sandbox_result_clear) struct sandbox_result res = { 0 };
        r = sandbox_run(&so, &res, &err);
        if (r < 0)
                return cmd_fail(&err);
        if (res.interrupted) {
                cairn_error_add(&err, CAIRN_EXIT_IO, -EINTR, "interrupted");
                return cmd_fail(&err);
        }
        r = tree_fingerprint(rootfs, &after);
        if (r >= 0 && !XXH128_isEqual(before, after))
                r = -EROFS;
        if (r < 0) {
                cairn_error_errno(&err, r, "%s: the image tree changed during the run: %s", rootfs,
                                  strerror(-r));
                return cmd_fail(&err);
        }

        _cleanup_(profile_suggestion_clear) struct profile_suggestion p = { 0 };
        r = profile_suggest(v->tree, b->store, &res, v->view->run.writable, &p, &err);
        if (r < 0)
                return cmd_fail(&err);
        _cleanup_free_ char *image = NULL;
        if (asprintf(&image, "%s-%s", b->recipe->name, v->name) < 0)
                return CAIRN_EXIT_IO;
        print_warnings(v->view, &p);
        if (a.json)
                print_json(image, v->name, v->tree, a.reads, &res, &p);
        else {
                print_text(image, &res, &p);
                if (a.reads)
                        print_unread(v->tree, &res, false);
        }
        return CAIRN_EXIT_OK;
}
