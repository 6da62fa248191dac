/* SPDX-License-Identifier: Apache-2.0 */
#include "bundle.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "base/capability.h"
#include "spec.h"
#include "tree/materialize.h"

/* ---- the host range ------------------------------------------------------------------ */

/* The start of the first range of /etc/subuid-style file path for root; 1 when one was found,
 * 0 when there is none (or no file), -errno. */
static int subid_range(const char *path, uint32_t *ret_start, struct cairn_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file_bounded(path, 1 << 20, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        unsigned line = 0;
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
                line++;
                char name[64];
                unsigned long long start, count;
                if (sscanf(l, "%63[^:]:%llu:%llu", name, &start, &count) != 3)
                        continue;
                if (!streq(name, "root") && !streq(name, "0"))
                        continue;
                if (count < RUNTIME_ID_COUNT)
                        continue;
                if (start == 0 || start + RUNTIME_ID_COUNT > UINT32_MAX)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s:%u: root's range %llu:%llu would map image "
                                               "ids onto host id 0 or past 2^32; fix the file",
                                               path, line, start, count);
                *ret_start = (uint32_t)start;
                return 1;
        }
        return 0;
}

int bundle_host_ids(struct bundle_ids *ret, struct cairn_error *err)
{
        struct bundle_ids ids = { BUNDLE_DEFAULT_HOST_ID, BUNDLE_DEFAULT_HOST_ID };
        int r = subid_range("/etc/subuid", &ids.host_uid, err);
        if (r >= 0)
                r = subid_range("/etc/subgid", &ids.host_gid, err);
        if (r < 0)
                return r;
        *ret = ids;
        return 0;
}

/* ---- the process ----------------------------------------------------------------------- */

/* Sets "K=V" in env (n entries, room for BUNDLE_MAX_ENV), replacing an earlier K. */
static int env_set(char **env, size_t *n, const char *kv)
{
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
                return -EINVAL;
        size_t klen = (size_t)(eq - kv) + 1;
        char *copy = strdup(kv);
        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++)
                if (strncmp(env[i], kv, klen) == 0) {
                        free(env[i]);
                        env[i] = copy;
                        return 0;
                }
        if (*n >= BUNDLE_MAX_ENV) {
                free(copy);
                return -E2BIG;
        }
        env[(*n)++] = copy;
        return 0;
}

int bundle_process_env(const struct recipe_run *run, char *const *extra, size_t n_extra,
                       char ***ret)
{
        _cleanup_strv_free_ char **base = NULL;
        int r = recipe_run_env(run, &base);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **env = calloc(BUNDLE_MAX_ENV + 1, sizeof(char *));
        if (!env)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; base[i] && r >= 0; i++)
                r = env_set(env, &n, base[i]);
        for (size_t i = 0; i < n_extra && r >= 0; i++)
                r = env_set(env, &n, extra[i]);
        if (r < 0)
                return r;
        *ret = steal_pointer(&env);
        return 0;
}

int bundle_process_args(const struct recipe_run *run, char *const *args, bool has_args,
                        bool restricted, const char ***ret)
{
        _cleanup_free_ const char **entry = NULL;
        int r = recipe_run_entrypoint(run, restricted, &entry);
        if (r < 0)
                return r;
        char *const *cmd = has_args ? args : run->cmd;
        size_t n_entry = 0, n_cmd = 0;
        while (entry && entry[n_entry])
                n_entry++;
        while (cmd && cmd[n_cmd])
                n_cmd++;
        /* cairn-init with nothing after "--" has nothing to run either. */
        if (n_cmd == 0 && (!run->entrypoint || !run->entrypoint[0]))
                return -ENOENT;
        const char **argv = calloc(n_entry + n_cmd + 1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        for (size_t i = 0; i < n_entry; i++)
                argv[i] = entry[i];
        for (size_t i = 0; i < n_cmd; i++)
                argv[n_entry + i] = cmd[i];
        *ret = argv;
        return 0;
}

/* ---- config.json ----------------------------------------------------------------------- */

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The image's run ids, checked against the mapped range. */
static int run_ids(const struct bundle_options *o, uint32_t *ret_uid, uint32_t *ret_gid,
                   struct cairn_error *err)
{
        uint32_t uid, gid;
        int r = recipe_view_run_ids(o->view, &uid, &gid, err);
        if (r < 0)
                return r;
        if (uid >= RUNTIME_ID_COUNT || gid >= RUNTIME_ID_COUNT)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ERANGE,
                                       "%s: variant %s: run.user %u:%u is outside the %d ids "
                                       "the bundle's user namespace maps (0-%d)",
                                       o->view->recipe->path, o->view->variant->name, uid, gid,
                                       RUNTIME_ID_COUNT, RUNTIME_ID_COUNT - 1);
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

int bundle_config(const struct bundle_options *o, char **ret, size_t *ret_len,
                  struct cairn_error *err)
{
        const struct recipe_run *run = &o->view->run;
        const char *recipe = o->view->recipe->path, *variant = o->view->variant->name;
        uint32_t uid, gid;
        int r = run_ids(o, &uid, &gid, err);
        if (r < 0)
                return r;
        if (run->init && !tree_lookup(o->tree, RECIPE_INIT_PATH))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "%s: run.init is set but the %s tree has no %s", recipe,
                                       variant, RECIPE_INIT_PATH);
        bool profile = o->mode == BUNDLE_PROFILE;
        _cleanup_strv_free_ char **env = NULL;
        r = bundle_process_env(run, profile ? o->env : NULL, profile ? o->n_env : 0, &env);
        if (r == -E2BIG)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "more than %d environment "
                                       "variables",
                                       BUNDLE_MAX_ENV);
        if (r == -EINVAL)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "an environment override is not KEY=VALUE");
        if (r < 0)
                return cairn_error_errno(err, r, "the program's environment: %s", strerror(-r));
        _cleanup_free_ const char **args = NULL;
        r = bundle_process_args(run, o->args, profile && o->has_args, !profile, &args);
        if (r == -ENOENT)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "%s: variant %s has no run.entrypoint or run.cmd%s", recipe,
                                       variant, profile ? "; pass the program after --" : "");
        if (r < 0)
                return cairn_error_errno(err, r, "the program's arguments: %s", strerror(-r));

        uint64_t caps = 0;
        for (size_t i = 0; run->capabilities && run->capabilities[i]; i++) {
                int c = capability_from_name(run->capabilities[i]);
                if (c < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: unknown capability %s", recipe,
                                               run->capabilities[i]);
                caps |= 1ULL << c;
        }

        /* A tmpfs per writable: path, parents first so none hides another. */
        size_t n_tmpfs = profile ? 0 : strv_length(run->writable);
        _cleanup_free_ char **sorted = calloc(n_tmpfs + 1, sizeof(char *));
        _cleanup_free_ struct runtime_tmpfs *tmpfs = calloc(n_tmpfs + 1, sizeof(*tmpfs));
        if (!sorted || !tmpfs)
                return -ENOMEM;
        for (size_t i = 0; i < n_tmpfs; i++)
                sorted[i] = run->writable[i];
        qsort(sorted, n_tmpfs, sizeof(*sorted), str_cmp);
        for (size_t i = 0; i < n_tmpfs; i++) {
                const struct tree_entry *e = tree_lookup(o->tree, sorted[i]);
                tmpfs[i] = (struct runtime_tmpfs){
                        .path = sorted[i],
                        .mode = e && e->type == TREE_DIR ? e->mode : 0755,
                        .uid = uid,
                        .gid = gid,
                };
        }
        const struct runtime_spec spec = {
                .args = args,
                .env = (const char *const *)env,
                .cwd = run->workdir ? run->workdir : "/",
                .uid = uid,
                .gid = gid,
                .caps = caps,
                .root_path = "rootfs",
                .root_readonly = !profile && run->read_only > 0,
                .hostname = o->hostname,
                .tmpfs = tmpfs,
                .n_tmpfs = n_tmpfs,
                .host_uid = o->ids.host_uid,
                .host_gid = o->ids.host_gid,
                .arch = o->arch,
                .pids_limit = o->pids_limit,
                .memory_limit = o->memory_limit,
                .cgroups_path = o->cgroups_path,
                /* A profile runs here and now: within this process's limits. */
                .clamp_rlimits = profile,
        };
        r = runtime_spec_render(&spec, ret, ret_len);
        if (r < 0)
                return cairn_error_errno(err, r, "config.json: %s", strerror(-r));
        return 0;
}

/* ---- rootfs/ --------------------------------------------------------------------------- */

/*
 * Makes the directory path (absolute) below rootfd, creating missing components as 0755
 * directories owned by uid:gid (the image's root, shifted). Stops quietly at a component that
 * is a symlink or not a directory: the runtime resolves those inside the rootfs itself. When
 * the directory is reached and owner is set, it is given *owner's ids. 0 or -errno.
 */
static int mountpoint_make(int rootfd, const char *path, uint32_t uid, uint32_t gid,
                           const uint32_t owner[2])
{
        _cleanup_close_ int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        const char *p = path;
        while (*p == '/')
                p++;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);
                if (len == 0 || len > 255)
                        return -EINVAL;
                char name[256];
                memcpy(name, p, len);
                name[len] = '\0';
                if (streq(name, ".") || streq(name, ".."))
                        return -EINVAL;
                int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0 && errno == ENOENT) {
                        if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        if (fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                                return -errno;
                        next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (next < 0)
                        return errno == ENOTDIR || errno == ELOOP ? 0 : -errno;
                closep(&fd);
                fd = next;
                p += len;
                while (*p == '/')
                        p++;
        }
        if (owner && fchown(fd, owner[0], owner[1]) < 0)
                return -errno;
        return 0;
}

/* The first entry of t whose ids the user namespace cannot map, or NULL. */
static const struct tree_entry *unmappable_entry(const struct tree *t)
{
        const struct tree_entry *e;
        tree_foreach (e, t) {
                if (e->uid >= RUNTIME_ID_COUNT || e->gid >= RUNTIME_ID_COUNT)
                        return e;
        }
        return NULL;
}

int bundle_rootfs(const struct bundle_options *o, const struct store *s, int64_t epoch,
                  const char *dir, struct cairn_error *err)
{
        const struct recipe_run *run = &o->view->run;
        const struct tree_entry *bad = unmappable_entry(o->tree);
        if (bad)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ERANGE,
                                       "%s: %s is owned by %u:%u, outside the %d ids the "
                                       "bundle's user namespace maps",
                                       o->view->recipe->path, bad->path, bad->uid, bad->gid,
                                       RUNTIME_ID_COUNT);
        uint32_t uid, gid;
        int r = run_ids(o, &uid, &gid, err);
        if (r < 0)
                return r;
        r = materialize_tree_shifted(o->tree, s, epoch, dir, 0, o->ids.host_uid, o->ids.host_gid,
                                     NULL, err);
        if (r < 0)
                return r;
        _cleanup_close_ int rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", dir);
        /* Without a "/" entry the directory would keep its creator's (unmapped) owner. */
        if (!tree_lookup(o->tree, "/") &&
            (fchown(rootfd, o->ids.host_uid, o->ids.host_gid) < 0 || fchmod(rootfd, 0755) < 0))
                return cairn_error_errno(err, -errno, "%s: %m", dir);

        const uint32_t root_uid = o->ids.host_uid, root_gid = o->ids.host_gid;
        const char *fixed[] = { "/proc", "/dev", "/sys", run->workdir ? run->workdir : "/" };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                r = mountpoint_make(rootfd, fixed[i], root_uid, root_gid, NULL);
                if (r < 0)
                        return cairn_error_errno(err, r, "%s%s: %s", dir, fixed[i], strerror(-r));
        }
        const uint32_t user[2] = { o->ids.host_uid + uid, o->ids.host_gid + gid };
        for (size_t i = 0; run->writable && run->writable[i]; i++) {
                r = mountpoint_make(rootfd, run->writable[i], root_uid, root_gid,
                                    o->mode == BUNDLE_PROFILE ? user : NULL);
                if (r < 0)
                        return cairn_error_errno(err, r, "%s%s: %s", dir, run->writable[i],
                                                 strerror(-r));
        }
        return 0;
}

/* ---- refusing privileged files ----------------------------------------------------------- */

#define REFUSE_LIST_MAX 20

int bundle_refuse_privileged(const struct tree *t, const char *what, struct cairn_error *err)
{
        size_t n = 0;
        const struct tree_entry *e;
        tree_foreach (e, t) {
                const char *why = NULL;
                if (e->type == TREE_REG && (e->mode & S_ISUID))
                        why = "is setuid: it would run with its owner's ids";
                else if (e->type == TREE_REG && (e->mode & S_ISGID))
                        why = "is setgid: it would run with its group's ids";
                else if (e->type == TREE_CHR || e->type == TREE_BLK)
                        why = "is a device node: it would reach the host's hardware";
                if (!why)
                        continue;
                if (n++ < REFUSE_LIST_MAX)
                        cairn_error_add(err, CAIRN_EXIT_POLICY, -EPERM, "%s: %s %s", what, e->path,
                                        why);
        }
        if (n > REFUSE_LIST_MAX)
                cairn_error_add(err, CAIRN_EXIT_POLICY, -EPERM, "%s: %zu more such entries", what,
                                n - REFUSE_LIST_MAX);
        if (n)
                return cairn_error_add(err, CAIRN_EXIT_POLICY, -EPERM,
                                       "%s: refusing to run an image with %zu setuid, setgid or "
                                       "device entr%s; remove them from the recipe",
                                       what, n, n == 1 ? "y" : "ies");
        return 0;
}
