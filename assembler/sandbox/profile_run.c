/* SPDX-License-Identifier: Apache-2.0 */
#include "profile_run.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <time.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "runtime/bundle.h"

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

/* True when one of the blocked stop signals is pending; consumes it. */
static bool stop_requested(const sigset_t *stop)
{
        const struct timespec zero = { 0 };
        bool any = false;
        while (sigtimedwait(stop, NULL, &zero) > 0)
                any = true;
        return any;
}

/* True when the image holds argv0: an absolute path, or a name found in env's PATH. */
static bool program_in_tree(const struct tree *t, const char *argv0, char *const *env)
{
        if (strchr(argv0, '/'))
                return argv0[0] == '/' && tree_lookup(t, argv0);
        const char *path = RECIPE_DEFAULT_PATH;
        for (size_t i = 0; env && env[i]; i++)
                if (startswith(env[i], "PATH="))
                        path = env[i] + 5;
        _cleanup_free_ char *dirs = strdup(path);
        if (!dirs)
                return true; /* let the runtime decide */
        for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
             d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", d, argv0) < 0)
                        return true;
                if (tree_lookup(t, p))
                        return true;
        }
        return false;
}

/* The bundle's config.json for o, checked: the program must be in the image. */
static int profile_config(const struct profile_options *o, const struct bundle_options *bo,
                          char **ret, size_t *ret_len, struct cairn_error *err)
{
        const struct recipe_run *run = &o->view->run;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ const char **argv = NULL;
        int r = bundle_config(bo, ret, ret_len, err);
        if (r < 0)
                return r;
        r = bundle_process_env(run, o->env, o->n_env, &env);
        if (r >= 0)
                r = bundle_process_args(run, o->args, o->has_args, false, &argv);
        if (r < 0) {
                free(steal_pointer(ret));
                return cairn_error_errno(err, r, "the program: %s", strerror(-r));
        }
        if (!program_in_tree(o->tree, argv[0], env)) {
                free(steal_pointer(ret));
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "%s: variant %s: the program %s is not in the image",
                                       o->recipe_path, o->variant, argv[0]);
        }
        return 0;
}

int profile_run(const struct profile_options *o, struct profile_result *ret,
                struct cairn_error *err)
{
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "%s, variant %s", o->recipe_path, o->variant) < 0)
                return -ENOMEM;
        int r = bundle_refuse_privileged(o->tree, what, err);
        if (r < 0)
                return r;
        uint32_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint32_t)time(NULL);
        char id[64];
        snprintf(id, sizeof(id), "cairn-profile-%d-%08x", (int)getpid(), rnd);
        struct bundle_options bo = {
                .view = o->view,
                .tree = o->tree,
                .hostname = o->name,
                .arch = o->arch,
                .mode = BUNDLE_PROFILE,
                .env = o->env,
                .n_env = o->n_env,
                .args = o->args,
                .has_args = o->has_args,
                .pids_limit = o->pids_limit,
                .memory_limit = o->memory_limit,
                /* Relative: below cairn's own cgroup, so a caller's limits still hold. */
                .cgroups_path = id,
        };
        r = bundle_host_ids(&bo.ids, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *config = NULL;
        size_t config_len = 0;
        r = profile_config(o, &bo, &config, &config_len, err);
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
        _cleanup_free_ char *rootfs = NULL;
        if (asprintf(&rootfs, "%s/rootfs", dir) < 0) {
                rootfs = NULL; /* asprintf leaves it undefined on failure */
                return cairn_error_errno(err, -ENOMEM, "%s: %s", dir, strerror(ENOMEM));
        }
        /* dir is 0700: nobody else on the host reaches the lower layer. */
        if (mkdir(rootfs, 0755) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", dir);
        r = bundle_rootfs(&bo, o->store, o->epoch, rootfs, err);
        if (r < 0)
                return r;
        if (stop_requested(&stop))
                return cairn_error_add(err, CAIRN_EXIT_IO, -EINTR, "interrupted");
        XXH128_hash_t before, after;
        r = tree_fingerprint(rootfs, &before);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", rootfs, strerror(-r));

        const struct sandbox_options so = {
                .runtime = o->runtime,
                .rootfs = rootfs,
                .config = config,
                .config_len = config_len,
                .container_id = id,
                .cleanup_dirs = (const char *const[]){ dir, o->work_dir, NULL },
                .root_uid = bo.ids.host_uid,
                .root_gid = bo.ids.host_gid,
                .duration_ms = o->duration_ms,
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
