/* SPDX-License-Identifier: Apache-2.0 */
#include "profile_run.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "tree/materialize.h"

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

int profile_build_env(const struct recipe_run *run, char *const *extra, size_t n_extra, char ***ret)
{
        _cleanup_strv_free_ char **env = calloc(PROFILE_MAX_ENV + 1, sizeof(char *));
        if (!env)
                return -ENOMEM;
        size_t n = 0;
        int r = 0;
        for (size_t i = 0; i < run->n_env && r >= 0; i++)
                r = env_set(env, &n, run->env[i].key, strlen(run->env[i].key), run->env[i].value);
        for (size_t i = 0; i < n_extra && r >= 0; i++) {
                const char *eq = strchr(extra[i], '=');
                if (!eq)
                        return -EINVAL;
                r = env_set(env, &n, extra[i], (size_t)(eq - extra[i]), eq + 1);
        }
        bool has_path = false;
        for (size_t i = 0; i < n; i++)
                has_path |= startswith(env[i], "PATH=");
        if (r >= 0 && !has_path)
                r = env_set(env, &n, "PATH", 4, PROFILE_DEFAULT_PATH);
        if (r < 0)
                return r;
        *ret = steal_pointer(&env);
        return 0;
}

int profile_build_argv(const struct recipe_run *run, char *const *args, bool has_args, char ***ret)
{
        size_t n = 0;
        for (char **p = run->entrypoint; p && *p; p++)
                n++;
        for (char *const *p = has_args ? args : run->cmd; p && *p; p++)
                n++;
        for (char **p = run->require_env; p && *p; p++)
                n += 2;
        _cleanup_free_ char **argv = calloc(n + 3, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        size_t i = 0;
        if (run->init && n > 0) {
                argv[i++] = "/sbin/cairn-init";
                for (char **p = run->require_env; p && *p; p++) {
                        argv[i++] = "--require-env";
                        argv[i++] = *p;
                }
                argv[i++] = "--";
        }
        size_t first = i;
        for (char **p = run->entrypoint; p && *p; p++)
                argv[i++] = *p;
        for (char *const *p = has_args ? args : run->cmd; p && *p; p++)
                argv[i++] = *p;
        if (i == first)
                return -ENOENT;
        *ret = steal_pointer(&argv);
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

/* The program to run and how: argv, environment, user; checked against the tree. */
static int program_prepare(const struct profile_options *o, char ***ret_argv, char ***ret_envp,
                           uint32_t *ret_uid, uint32_t *ret_gid, struct cairn_error *err)
{
        const struct recipe_run *run = &o->view->run;
        uint32_t uid, gid;
        int r = recipe_view_run_ids(o->view, &uid, &gid, err);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **envp = NULL;
        r = profile_build_env(run, o->env, o->n_env, &envp);
        if (r == -E2BIG)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "more than %d environment variables", PROFILE_MAX_ENV);
        if (r == -EINVAL)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "an environment override is not KEY=VALUE");
        if (r < 0)
                return cairn_error_errno(err, r, "the program's environment: %s", strerror(-r));
        _cleanup_free_ char **argv = NULL;
        r = profile_build_argv(run, o->args, o->has_args, &argv);
        if (r == -ENOENT)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "%s: variant %s has no run.entrypoint or run.cmd; pass the "
                                       "program after --",
                                       o->recipe_path, o->variant);
        if (r < 0)
                return cairn_error_errno(err, r, "the program's arguments: %s", strerror(-r));
        if (run->init && !tree_lookup(o->tree, "/sbin/cairn-init"))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "%s: run.init is set but the %s tree has no "
                                       "/sbin/cairn-init",
                                       o->recipe_path, o->variant);
        *ret_argv = steal_pointer(&argv);
        *ret_envp = steal_pointer(&envp);
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

int profile_run(const struct profile_options *o, struct profile_result *ret,
                struct cairn_error *err)
{
        _cleanup_free_ char **argv = NULL;
        _cleanup_strv_free_ char **envp = NULL;
        uint32_t uid = 0, gid = 0;
        int r = program_prepare(o, &argv, &envp, &uid, &gid, err);
        if (r < 0)
                return r;

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
        if (asprintf(&dir, "%s/cairn-profile-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
                dir = NULL; /* asprintf leaves it undefined on failure */
                return cairn_error_errno(err, -ENOMEM, "a temporary directory: %s",
                                         strerror(ENOMEM));
        }
        if (!mkdtemp(dir)) {
                r = cairn_error_errno(err, -errno, "%s: cannot create: %m", dir);
                free(steal_pointer(&dir));
                return r;
        }
        _cleanup_free_ char *rootfs = NULL, *scratch = NULL;
        if (asprintf(&rootfs, "%s/rootfs", dir) < 0)
                rootfs = NULL; /* asprintf leaves it undefined on failure */
        if (asprintf(&scratch, "%s/scratch", dir) < 0)
                scratch = NULL;
        if (!rootfs || !scratch)
                return cairn_error_errno(err, -ENOMEM, "%s: %s", dir, strerror(ENOMEM));
        if (mkdir(rootfs, 0755) < 0 || mkdir(scratch, 0700) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", dir);
        r = materialize_tree(o->tree, o->store, o->epoch, rootfs, 0, NULL, err);
        if (r < 0)
                return r;
        if (stop_requested(&stop))
                return cairn_error_add(err, CAIRN_EXIT_IO, -EINTR, "interrupted");
        XXH128_hash_t before, after;
        r = tree_fingerprint(rootfs, &before);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", rootfs, strerror(-r));

        struct sandbox_options so = {
                .rootfs = rootfs,
                .scratch = scratch,
                .argv = argv,
                .envp = envp,
                .workdir = o->view->run.workdir,
                .uid = uid,
                .gid = gid,
                .duration_ms = o->duration_ms,
                .stdout_to_stderr = true,
                .record_reads = o->record_reads,
        };
        _cleanup_(profile_result_clear) struct profile_result res = { 0 };
        r = sandbox_run(&so, &res.run, err);
        if (r < 0)
                return r;
        if (res.run.interrupted)
                return cairn_error_add(err, CAIRN_EXIT_IO, -EINTR, "interrupted");
        r = tree_fingerprint(rootfs, &after);
        if (r >= 0 && !XXH128_isEqual(before, after))
                r = -EROFS;
        if (r < 0)
                return cairn_error_errno(err, r, "%s: the image tree changed during the run: %s",
                                         rootfs, strerror(-r));

        r = profile_suggest(o->tree, o->store, &res.run, o->view->run.writable, &res.suggestion,
                            err);
        if (r < 0) {
                if (!cairn_error_isset(err))
                        cairn_error_errno(err, r, "the writable: suggestion: %s", strerror(-r));
                return r;
        }
        *ret = res;
        res = (struct profile_result){ 0 };
        return 0;
}

void profile_result_clear(struct profile_result *r)
{
        if (!r)
                return;
        profile_suggestion_clear(&r->suggestion);
        sandbox_result_clear(&r->run);
}
