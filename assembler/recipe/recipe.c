/* SPDX-License-Identifier: Apache-2.0 */
/* The recipe model: freeing, and the per-variant views. Reading a recipe is recipe-parse.c's. */
#include "recipe.h"

#include "tree/tree.h"

static void kv_free(struct recipe_kv *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

static void run_clear(struct recipe_run *run)
{
        free(run->user);
        strv_free(run->entrypoint);
        strv_free(run->cmd);
        free(run->workdir);
        for (size_t i = 0; i < run->n_env; i++) {
                free(run->env[i].key);
                free(run->env[i].value);
        }
        free(run->env);
        for (size_t i = 0; i < run->n_labels; i++) {
                free(run->labels[i].key);
                free(run->labels[i].value);
        }
        free(run->labels);
        free(run->stop_signal);
        free(run->init);
        strv_free(run->writable);
        strv_free(run->require_env);
        strv_free(run->capabilities);
        strv_free(run->ports);
        strv_free(run->volumes);
        kv_free(run->annotations, run->n_annotations);
        if (run->healthcheck)
                free(run->healthcheck->target);
        free(run->healthcheck);
}

void recipe_free(struct recipe *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_sources; i++) {
                struct recipe_source *s = &r->sources[i];
                free(s->name);
                free(s->type);
                free(s->url);
                free(s->suite);
                strv_free(s->components);
                free(s->keyring);
        }
        free(r->sources);
        for (size_t i = 0; i < r->n_utilities; i++) {
                struct recipe_utility *u = &r->utilities[i];
                free(u->package);
                for (size_t k = 0; k < u->n_files; k++) {
                        free(u->files[k].src);
                        free(u->files[k].dest);
                }
                free(u->files);
                free(u->bundle);
        }
        free(r->utilities);
        free(r->identity.debian_version);
        for (size_t i = 0; i < r->identity.n_os_release; i++) {
                free(r->identity.os_release[i].key);
                free(r->identity.os_release[i].value);
        }
        free(r->identity.os_release);
        kv_free(r->annotations, r->n_annotations);
        for (size_t i = 0; i < r->n_packages; i++)
                free(r->packages[i].name);
        free(r->packages);
        for (size_t i = 0; i < r->n_programs; i++) {
                free(r->programs[i].package);
                free(r->programs[i].path);
                free(r->programs[i].dest);
                strv_free(r->programs[i].dlopen);
                strv_free(r->programs[i].data);
        }
        free(r->programs);
        for (size_t i = 0; i < r->n_artifacts; i++) {
                free(r->artifacts[i].src);
                free(r->artifacts[i].dest);
                free(r->artifacts[i].sha256);
                kv_free(r->artifacts[i].sha256_by_arch, r->artifacts[i].n_sha256_by_arch);
        }
        free(r->artifacts);
        for (size_t i = 0; i < r->n_groups; i++)
                free(r->groups[i].name);
        free(r->groups);
        for (size_t i = 0; i < r->n_users; i++) {
                free(r->users[i].name);
                free(r->users[i].home);
                free(r->users[i].shell);
        }
        free(r->users);
        for (size_t i = 0; i < r->n_files; i++) {
                free(r->files[i].path);
                free(r->files[i].content);
                free(r->files[i].target);
        }
        free(r->files);
        run_clear(&r->run);
        for (size_t i = 0; i < r->n_variants; i++) {
                free(r->variants[i].name);
                free(r->variants[i].policy);
                run_clear(&r->variants[i].run);
        }
        free(r->variants);
        for (size_t i = 0; i < r->n_policies; i++) {
                free(r->policies[i].name);
                strv_free(r->policies[i].allow_executables);
                strv_free(r->policies[i].disable_rules);
        }
        free(r->policies);
        free(r->path);
        free(r->dir);
        free(r->context);
        free(r->name);
        strv_free(r->archs);
        free(r);
}

int recipe_variant_index(const struct recipe *r, const char *name)
{
        for (size_t i = 0; i < r->n_variants; i++)
                if (streq_ptr(r->variants[i].name, name))
                        return (int)i;
        return -ENOENT;
}

const char *recipe_host_arch(void)
{
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__i386__)
        return "i386";
#elif defined(__arm__)
        return "armhf";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return "ppc64el";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
        return "riscv64";
#else
        return "unknown";
#endif
}

bool recipe_has_arch(const struct recipe *r, const char *arch)
{
        if (!r->archs)
                return streq(arch, recipe_host_arch());
        for (char *const *a = r->archs; *a; a++)
                if (streq(*a, arch))
                        return true;
        return false;
}

int recipe_expand_arch(const char *src, const char *arch, char **ret)
{
        _cleanup_free_ char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        if (!f)
                return -ENOMEM;
        const char *p = src, *m;
        while ((m = strstr(p, RECIPE_ARCH_MARKER))) {
                fwrite(p, 1, (size_t)(m - p), f);
                fputs(arch, f);
                p = m + strlen(RECIPE_ARCH_MARKER);
        }
        fputs(p, f);
        bool failed = ferror(f);
        if (fclose(f) != 0 || failed)
                return -ENOMEM;
        *ret = steal_pointer(&s);
        return 0;
}

const char *recipe_artifact_pin(const struct recipe_artifact *a, const char *arch)
{
        if (a->sha256)
                return a->sha256;
        for (size_t i = 0; i < a->n_sha256_by_arch; i++)
                if (streq(a->sha256_by_arch[i].key, arch))
                        return a->sha256_by_arch[i].value;
        return NULL;
}

bool recipe_debian_identity(const struct recipe *r)
{
        return r->identity.debian != 0 && r->n_sources > 0 &&
               (r->n_utilities || r->n_packages || r->n_programs);
}

bool path_is_normalized(const char *p)
{
        _cleanup_free_ char *n = NULL;
        return p && p[0] == '/' && tree_path_normalize(p, &n) == 0 && streq(n, p);
}

/* Applies the keys an override sets; strings stay borrowed. */
static void run_merge(struct recipe_run *dst, const struct recipe_run *src)
{
        if (src->user)
                dst->user = src->user;
        if (src->has_entrypoint) {
                dst->entrypoint = src->entrypoint;
                dst->has_entrypoint = true;
        }
        if (src->has_cmd) {
                dst->cmd = src->cmd;
                dst->has_cmd = true;
        }
        if (src->workdir)
                dst->workdir = src->workdir;
        if (src->has_env) {
                dst->env = src->env;
                dst->n_env = src->n_env;
                dst->has_env = true;
        }
        if (src->has_labels) {
                dst->labels = src->labels;
                dst->n_labels = src->n_labels;
                dst->has_labels = true;
        }
        if (src->stop_signal)
                dst->stop_signal = src->stop_signal;
        if (src->init)
                dst->init = src->init;
        if (src->read_only >= 0)
                dst->read_only = src->read_only;
        if (src->has_writable) {
                dst->writable = src->writable;
                dst->has_writable = true;
        }
        if (src->has_require_env) {
                dst->require_env = src->require_env;
                dst->has_require_env = true;
        }
        if (src->has_capabilities) {
                dst->capabilities = src->capabilities;
                dst->has_capabilities = true;
        }
        if (src->landlock >= 0) {
                dst->landlock = src->landlock;
                dst->landlock_pos = src->landlock_pos;
        }
        if (src->has_healthcheck) {
                dst->healthcheck = src->healthcheck;
                dst->has_healthcheck = true;
        }
        if (src->has_ports) {
                dst->ports = src->ports;
                dst->has_ports = true;
        }
        if (src->has_volumes) {
                dst->volumes = src->volumes;
                dst->has_volumes = true;
        }
        if (src->has_annotations) {
                dst->annotations = src->annotations;
                dst->n_annotations = src->n_annotations;
                dst->has_annotations = true;
        }
}

#define FILTER(view, rec, field, nfield, bit)                                                      \
        do {                                                                                       \
                (view)->field = calloc((rec)->nfield + 1, sizeof(*(view)->field));                 \
                if (!(view)->field)                                                                \
                        return -ENOMEM;                                                            \
                for (size_t _i = 0; _i < (rec)->nfield; _i++)                                      \
                        if ((rec)->field[_i].variants & (bit))                                     \
                                (view)->field[(view)->nfield++] = &(rec)->field[_i];               \
        } while (0)

int recipe_view_new(const struct recipe *r, const char *name, struct recipe_view **ret,
                    struct cairn_error *err)
{
        int idx = recipe_variant_index(r, name);
        if (idx < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "%s: the recipe has no variant '%s'", r->path, name);
        _cleanup_recipe_view_ struct recipe_view *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        recipe_variant_mask bit = (recipe_variant_mask)1 << idx;
        v->recipe = r;
        v->variant = &r->variants[idx];
        v->index = (unsigned)idx;
        v->epoch = r->epoch >= 0 ? r->epoch : 0;

        FILTER(v, r, sources, n_sources, bit);
        FILTER(v, r, utilities, n_utilities, bit);
        FILTER(v, r, packages, n_packages, bit);
        FILTER(v, r, programs, n_programs, bit);
        FILTER(v, r, artifacts, n_artifacts, bit);
        FILTER(v, r, groups, n_groups, bit);
        FILTER(v, r, users, n_users, bit);
        FILTER(v, r, files, n_files, bit);

        v->policy =
                v->variant->policy ? v->variant->policy : (streq(name, "prod") ? "strict" : "dev");
        for (size_t i = 0; i < r->n_policies; i++)
                if (streq_ptr(r->policies[i].name, v->policy))
                        v->policy_tuning = &r->policies[i];

        v->run = (struct recipe_run){ .read_only = -1, .landlock = -1 };
        run_merge(&v->run, &r->run);
        run_merge(&v->run, &v->variant->run);
        /* The safe choice is the default under the strict profile: a read-only root, and the
         * first declared non-root user. */
        if (streq(v->policy, "strict")) {
                if (v->run.read_only < 0)
                        v->run.read_only = 1;
                for (size_t i = 0; !v->run.user && i < v->n_users; i++)
                        if (v->users[i]->uid != 0)
                                v->run.user = v->users[i]->name;
        }
        if (v->run.read_only < 0)
                v->run.read_only = 0;
        /* cairn-init applies the Landlock ruleset and runs the health probe: both need it. */
        if (!v->run.init && v->run.landlock > 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s:%u:%u: error: variant %s: run.landlock needs "
                                       "run.init: cairn-init, which applies it",
                                       r->path, v->run.landlock_pos.line,
                                       v->run.landlock_pos.column, name);
        if (!v->run.init && v->run.healthcheck)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s:%u:%u: error: variant %s: run.healthcheck needs "
                                       "run.init: cairn-init, whose --probe runs the check",
                                       r->path, v->run.healthcheck->pos.line,
                                       v->run.healthcheck->pos.column, name);
        if (v->run.landlock < 0)
                v->run.landlock = v->run.init ? v->run.read_only : 0;
        *ret = steal_pointer(&v);
        return 0;
}

void recipe_view_free(struct recipe_view *v)
{
        if (!v)
                return;
        free(v->sources);
        free(v->utilities);
        free(v->packages);
        free(v->programs);
        free(v->artifacts);
        free(v->groups);
        free(v->users);
        free(v->files);
        free(v);
}

const struct recipe_user *recipe_view_find_user(const struct recipe_view *v, const char *name)
{
        for (size_t i = 0; i < v->n_users; i++)
                if (streq_ptr(v->users[i]->name, name))
                        return v->users[i];
        return NULL;
}

const struct recipe_group *recipe_view_find_group(const struct recipe_view *v, const char *name)
{
        for (size_t i = 0; i < v->n_groups; i++)
                if (streq_ptr(v->groups[i]->name, name))
                        return v->groups[i];
        return NULL;
}

static bool parse_u32(const char *s, const char *end, uint32_t *ret)
{
        uint64_t v = 0;
        if (s == end)
                return false;
        for (const char *p = s; p < end; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                v = v * 10 + (uint64_t)(*p - '0');
                if (v > UINT32_MAX - 1)
                        return false;
        }
        *ret = (uint32_t)v;
        return true;
}

int recipe_view_run_ids(const struct recipe_view *v, uint32_t *ret_uid, uint32_t *ret_gid,
                        struct cairn_error *err)
{
        const char *user = v->run.user;
        uint32_t uid = 0, gid = 0;
        if (!user || streq(user, "root")) {
                /* 0:0 */
        } else if (user[0] >= '0' && user[0] <= '9') {
                const char *colon = strchr(user, ':');
                const char *end = colon ? colon : user + strlen(user);
                if (!parse_u32(user, end, &uid) ||
                    (colon && !parse_u32(colon + 1, colon + 1 + strlen(colon + 1), &gid)))
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: run.user '%s' is not UID or UID:GID",
                                               v->recipe->path, user);
                if (!colon)
                        gid = uid;
        } else {
                const struct recipe_user *u = recipe_view_find_user(v, user);
                if (!u)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                               "%s: run.user '%s' is not a user of variant %s; "
                                               "declare it under accounts.users",
                                               v->recipe->path, user, v->variant->name);
                uid = u->uid;
                gid = u->gid;
        }
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

int recipe_run_env(const struct recipe_run *run, char ***ret)
{
        _cleanup_strv_free_ char **env = calloc(run->n_env + 2, sizeof(char *));
        if (!env)
                return -ENOMEM;
        size_t n = 0;
        bool has_path = false;
        for (size_t i = 0; i < run->n_env; i++)
                has_path = has_path || streq(run->env[i].key, "PATH");
        if (!has_path && !(env[n++] = strdup("PATH=" RECIPE_DEFAULT_PATH)))
                return -ENOMEM;
        for (size_t i = 0; i < run->n_env; i++)
                if (asprintf(&env[n++], "%s=%s", run->env[i].key, run->env[i].value) < 0) {
                        env[--n] = NULL;
                        return -ENOMEM;
                }
        *ret = steal_pointer(&env);
        return 0;
}

int recipe_run_entrypoint(const struct recipe_run *run, bool restricted, const char ***ret)
{
        if (!run->entrypoint) {
                *ret = NULL;
                return 0;
        }
        size_t n = 4 + 2 * strv_length(run->require_env) + 2 * strv_length(run->writable) +
                   strv_length(run->entrypoint) + 1;
        const char **argv = calloc(n, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        size_t k = 0;
        if (run->init) {
                argv[k++] = RECIPE_INIT_PATH;
                for (size_t i = 0; run->require_env && run->require_env[i]; i++) {
                        argv[k++] = "--require-env";
                        argv[k++] = run->require_env[i];
                }
                for (size_t i = 0; run->writable && run->writable[i]; i++) {
                        argv[k++] = "--writable";
                        argv[k++] = run->writable[i];
                }
                if (run->read_only > 0 && restricted)
                        argv[k++] = "--read-only-root";
                if (run->landlock > 0 && restricted)
                        argv[k++] = "--landlock";
                argv[k++] = "--";
        }
        for (size_t i = 0; run->entrypoint[i]; i++)
                argv[k++] = run->entrypoint[i];
        *ret = argv;
        return 0;
}
