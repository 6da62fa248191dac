/* SPDX-License-Identifier: Apache-2.0 */
#include "runtime.h"

#include "enforce/policy.h"
#include "init/rtjson.h"
#include "runtime/runtime.h"

/* True when path is w or lies beneath it. */
static bool beneath(const char *path, const char *w)
{
        size_t n = strlen(w);
        if (streq(w, "/"))
                return true;
        return strncmp(path, w, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * The tmpfs of each writable directory: the image directory's mode; its owner when it is
 * world-writable (/tmp, 1777), else the run user, so that the path the recipe declared
 * writable is writable by the program (a runtime gives a tmpfs the mode of what it covers,
 * and root's ownership). A writable path that is a file gets none: it needs a bind mount.
 */
static int add_tmpfs(const struct build_variant *v, struct runtime_manifest *m)
{
        size_t n = strv_length(m->writable);
        m->tmpfs = calloc(n + 1, sizeof(*m->tmpfs));
        if (!m->tmpfs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *resolved = NULL;
                const struct tree_entry *e = NULL;
                int r = tree_resolve(v->tree, m->writable[i], 0, &resolved, &e);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && e && e->type != TREE_DIR)
                        continue;
                struct runtime_tmpfs *t = &m->tmpfs[m->n_tmpfs];
                t->path = strdup(m->writable[i]);
                if (!t->path)
                        return -ENOMEM;
                m->n_tmpfs++;
                t->mode = e ? e->mode & 07777 : 0755;
                bool shared = e && (e->mode & 0002);
                t->uid = shared ? e->uid : m->uid;
                t->gid = shared ? e->gid : m->gid;
        }
        return 0;
}

/* What PROGRAM may execute: policy_executables with the variant's own policy options (those
 * stages/enforce.c checks the tree with), minus what lies beneath a writable path. */
static int add_executables(struct build *b, struct build_variant *v, struct runtime_manifest *m,
                           struct cairn_error *err)
{
        const struct recipe_view *view = v->view;
        enum policy_profile profile;
        if (policy_profile_from_string(view->policy, &profile) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: variant %s: unknown policy profile '%s'",
                                       b->opts.recipe_path, v->name, view->policy);
        const char *named[2];
        size_t n_named = 0;
        if (view->run.entrypoint && view->run.entrypoint[0] && view->run.entrypoint[0][0] == '/')
                named[n_named++] = view->run.entrypoint[0];
        if (view->run.init)
                named[n_named++] = RUNTIME_INIT_PATH;
        const struct recipe_policy *tuning = view->policy_tuning;
        struct policy_options o = {
                .profile = profile,
                .allow = tuning ? (const char *const *)tuning->allow_executables : NULL,
                .n_allow = tuning ? strv_length(tuning->allow_executables) : 0,
                .named = named,
                .n_named = n_named,
        };
        char **all = NULL;
        int r = policy_executables(v->tree, b->store, &o, &all, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "variant %s: the executables of runtime.json",
                                        v->name);
        /* Filtered in place: what stays moves down, what lies beneath a writable path goes. */
        size_t k = 0;
        for (size_t i = 0; all[i]; i++) {
                bool writable = false;
                for (size_t w = 0; m->writable && m->writable[w] && !writable; w++)
                        writable = beneath(all[i], m->writable[w]);
                if (writable)
                        free(all[i]);
                else
                        all[k++] = all[i];
        }
        all[k] = NULL;
        m->executables = all;
        return 0;
}

static int add_health(const struct recipe_healthcheck *h, struct runtime_manifest *m)
{
        if (!h)
                return 0;
        struct runtime_health *x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        m->health = x;
        *x = (struct runtime_health){
                .type = strdup(h->kind == RECIPE_PROBE_HTTP ? "http" : "tcp"),
                .target = strdup(h->target),
                .expect = h->expect,
                .interval_ns = h->interval_ns,
                .timeout_ns = h->timeout_ns,
                .start_period_ns = h->start_period_ns,
                .retries = h->retries,
        };
        if (!x->type || !x->target)
                return -ENOMEM;
        return runtime_probe_command(h->target, h->expect, h->timeout_ns, &x->command);
}

int stage_runtime(struct build *b, struct build_variant *v, struct cairn_error *err)
{
        const struct recipe_run *run = &v->view->run;
        _cleanup_runtime_manifest_ struct runtime_manifest *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        int r = recipe_view_run_ids(v->view, &m->uid, &m->gid, err);
        if (r < 0)
                return r;
        m->name = strdup(b->recipe->name);
        m->variant = strdup(v->name);
        m->read_only = run->read_only > 0;
        m->writable = strv_copy(run->writable);
        m->require_env = strv_copy(run->require_env);
        m->init = strdup(run->init ? run->init : "");
        m->stop_signal = strdup(run->stop_signal ? run->stop_signal : "SIGTERM");
        m->capabilities = strv_copy(run->capabilities);
        m->landlock = run->landlock > 0;
        if (!m->name || !m->variant || !m->writable || !m->require_env || !m->init ||
            !m->stop_signal || !m->capabilities)
                return -ENOMEM;
        /* Under Landlock nothing beneath a writable path may run: an entrypoint there (or a
         * root that is all writable) would leave PROGRAM unable to start. Said now, not at
         * run time as a bare "Permission denied". */
        const char *entry = run->entrypoint && run->entrypoint[0] && run->entrypoint[0][0] == '/'
                                    ? run->entrypoint[0]
                                    : NULL;
        _cleanup_free_ char *entry_resolved = NULL;
        if (entry && tree_resolve(v->tree, entry, 0, &entry_resolved, NULL) == -ENOMEM)
                return -ENOMEM;
        for (size_t i = 0; m->landlock && m->writable[i]; i++) {
                const char *w = m->writable[i];
                if (streq(w, "/") || (entry && beneath(entry, w)) ||
                    (entry_resolved && beneath(entry_resolved, w)))
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: variant %s: under run.landlock nothing "
                                               "beneath a writable path may be executed, and "
                                               "the entrypoint %s lies beneath writable: %s; "
                                               "move it, or narrow writable:",
                                               b->opts.recipe_path, v->name,
                                               entry ? entry : "(any)", w);
        }
        r = add_tmpfs(v, m);
        if (r >= 0)
                r = add_health(run->healthcheck, m);
        if (r >= 0)
                r = add_executables(b, v, m, err);
        if (r < 0)
                return r;
        /* cairn-init's reader has its bounds (init/rtjson.h): a file it would refuse is never
         * written. */
        if (m->landlock && (strv_length(m->writable) > RT_MAX_WRITABLE ||
                            strv_length(m->executables) > RT_MAX_EXECUTABLES))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                       "%s: variant %s: run.landlock takes at most %d writable "
                                       "paths and %d executables (this has %zu and %zu)",
                                       b->opts.recipe_path, v->name, RT_MAX_WRITABLE,
                                       RT_MAX_EXECUTABLES, strv_length(m->writable),
                                       strv_length(m->executables));

        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        r = runtime_manifest_render(m, &buf, &len);
        if (r < 0)
                return r;
        if (m->landlock && len > RT_MAX_BYTES)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                       "%s: variant %s: runtime.json would be %zu bytes; "
                                       "cairn-init reads at most %d",
                                       b->opts.recipe_path, v->name, len, RT_MAX_BYTES);
        struct tree_entry e = {
                .path = (char *)RUNTIME_JSON_PATH,
                .type = TREE_REG,
                .mode = 0644,
                .size = len,
                .layer = TREE_LAYER_BASE,
                .flags = TREE_ENTRY_GENERATED,
                .origin = (char *)"generated by cairn",
        };
        r = store_put_buf(b->store, buf, len, &e.key, err);
        if (r >= 0)
                r = tree_insert(v->tree, &e, 0, err);
        if (r < 0)
                return r;
        runtime_manifest_free(v->runtime);
        v->runtime = steal_pointer(&m);
        return 0;
}
