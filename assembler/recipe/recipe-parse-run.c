/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recipe sections that say how the image runs and is checked: run: (also a variant's
 * override), variants: and policy:. See recipe-parse.c for the walk that calls them.
 */
#include <ctype.h>

#include "base/capability.h"
#include "recipe-internal.h"

static bool signal_name_ok(const char *s)
{
        static const char *const names[] = {
                "SIGHUP",  "SIGINT",  "SIGQUIT",  "SIGILL",    "SIGTRAP", "SIGABRT",  "SIGBUS",
                "SIGFPE",  "SIGKILL", "SIGUSR1",  "SIGSEGV",   "SIGUSR2", "SIGPIPE",  "SIGALRM",
                "SIGTERM", "SIGCHLD", "SIGCONT",  "SIGSTOP",   "SIGTSTP", "SIGTTIN",  "SIGTTOU",
                "SIGURG",  "SIGXCPU", "SIGXFSZ",  "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",
                "SIGPWR",  "SIGSYS",  "SIGRTMIN", "SIGRTMAX",  NULL,
        };
        for (const char *const *p = names; *p; p++)
                if (streq(*p, s))
                        return true;
        return false;
}

static bool env_name_ok(const char *s)
{
        return recipe_name_ok(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_",
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_",
                              256);
}

/* A capability name, "NET_BIND_SERVICE" or "CAP_NET_BIND_SERVICE", as its CAP_ form. */
static char *read_capability(struct yread *y, const struct ynode *n, const char *what)
{
        _cleanup_free_ char *s = yread_string(y, n, what);
        if (!s)
                return NULL;
        const char *name = capability_name(capability_from_name(s));
        if (!name) {
                yread_fail(y, n->pos,
                           "%s: '%s' is not a Linux capability (write it like NET_BIND_SERVICE)",
                           what, s);
                return NULL;
        }
        return yread_strdup(y, name);
}

/* Parses a run: block (the recipe's or a variant's override) into *run. */
void recipe_walk_run(struct yread *y, const struct recipe *r, const struct ynode *n,
                     const char *what, struct recipe_run *run)
{
        static const char *const keys[] = { "user",        "entrypoint",  "cmd",
                                            "workdir",     "env",         "labels",
                                            "stop-signal", "init",        "read-only",
                                            "writable",    "require-env", "capabilities",
                                            NULL };
        run->read_only = -1;
        if (!yread_map(y, n, what, keys))
                return;
        const struct ynode *v;
        if ((v = ynode_map_get(n, "user"))) {
                run->user = yread_string(y, v, "user");
                run->user_pos = v->pos; /* checked by recipe_check_run_users() */
        }
        if ((v = ynode_map_get(n, "entrypoint"))) {
                run->entrypoint = yread_strv(y, v, "entrypoint", RECIPE_MAX_ITEMS, yread_string);
                run->has_entrypoint = true;
        }
        if ((v = ynode_map_get(n, "cmd"))) {
                run->cmd = yread_strv(y, v, "cmd", RECIPE_MAX_ITEMS, yread_string);
                run->has_cmd = true;
        }
        if ((v = ynode_map_get(n, "workdir")))
                run->workdir = recipe_read_path(y, v, "workdir");
        if ((v = ynode_map_get(n, "env"))) {
                run->has_env = true;
                if (recipe_read_kv(y, v, "env", &run->env, &run->n_env))
                        for (size_t i = 0; i < run->n_env; i++)
                                if (!env_name_ok(run->env[i].key))
                                        yread_fail(y, v->items[2 * i]->pos,
                                                   "env: '%s' is not a valid variable name",
                                                   run->env[i].key);
        }
        if ((v = ynode_map_get(n, "labels"))) {
                run->has_labels = true;
                recipe_read_kv(y, v, "labels", &run->labels, &run->n_labels);
        }
        if ((v = ynode_map_get(n, "stop-signal"))) {
                run->stop_signal = yread_string(y, v, "stop-signal");
                if (run->stop_signal && !signal_name_ok(run->stop_signal))
                        yread_fail(y, v->pos, "stop-signal: '%s' is not a signal name like SIGTERM",
                                   run->stop_signal);
        }
        if ((v = ynode_map_get(n, "init"))) {
                run->init = yread_string(y, v, "init");
                if (run->init && !streq(run->init, "cairn-init"))
                        yread_fail(y, v->pos, "init: '%s' is not supported; use cairn-init",
                                   run->init);
        }
        if ((v = ynode_map_get(n, "read-only"))) {
                bool b;
                if (yread_bool(y, v, "read-only", &b))
                        run->read_only = b;
        }
        if ((v = ynode_map_get(n, "writable"))) {
                run->writable = yread_strv(y, v, "writable", RECIPE_MAX_ITEMS, recipe_read_path);
                run->has_writable = true;
        }
        if ((v = ynode_map_get(n, "require-env"))) {
                run->require_env = yread_strv(y, v, "require-env", RECIPE_MAX_ITEMS, yread_string);
                run->has_require_env = true;
                for (size_t i = 0; run->require_env && run->require_env[i]; i++)
                        if (!env_name_ok(run->require_env[i]))
                                yread_fail(y, v->items[i]->pos,
                                           "require-env: '%s' is not a valid variable name",
                                           run->require_env[i]);
        }
        if ((v = ynode_map_get(n, "capabilities"))) {
                run->capabilities =
                        yread_strv(y, v, "capabilities", CAPABILITY_LAST + 1, read_capability);
                run->has_capabilities = true;
                for (size_t i = 0; run->capabilities && run->capabilities[i]; i++)
                        for (size_t k = 0; k < i; k++)
                                if (streq(run->capabilities[i], run->capabilities[k]))
                                        yread_fail(y, v->items[i]->pos,
                                                   "capabilities: %s is listed twice",
                                                   run->capabilities[i]);
        }
}

static bool profile_name_ok(const char *s)
{
        return streq(s, "strict") || streq(s, "dev");
}

void recipe_walk_variants(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "policy", "run", NULL };
        if (!n) {
                r->variants = yread_calloc(y, 2, sizeof(*r->variants));
                if (!r->variants)
                        return;
                const char *names[] = { "dev", "prod" };
                for (size_t i = 0; i < 2; i++) {
                        r->variants[i].name = yread_strdup(y, names[i]);
                        r->variants[i].run.read_only = -1;
                        r->n_variants++;
                }
                return;
        }
        if (n->type != YNODE_MAPPING || n->n_items == 0) {
                yread_fail(y, n->pos, "variants: expected a non-empty mapping of variant names");
                return;
        }
        if (n->n_items / 2 > RECIPE_MAX_VARIANTS) {
                yread_fail(y, n->pos, "variants: at most %d variants", RECIPE_MAX_VARIANTS);
                return;
        }
        r->variants = yread_calloc(y, n->n_items / 2, sizeof(*r->variants));
        if (!r->variants)
                return;
        for (size_t i = 0; i + 1 < n->n_items; i += 2) {
                const struct ynode *k = n->items[i], *v = n->items[i + 1];
                struct recipe_variant *var = &r->variants[r->n_variants++];
                var->pos = k->pos;
                var->run.read_only = -1;
                var->name = yread_string(y, k, "variants");
                if (!var->name)
                        continue;
                if (!recipe_name_ok(var->name, "abcdefghijklmnopqrstuvwxyz", LOWER_DIGITS "-",
                                    RECIPE_VARIANT_NAME_MAX))
                        yread_fail(y, k->pos, "variant name '%s': use [a-z][a-z0-9-]*", var->name);
                for (size_t j = 0; j + 1 < r->n_variants; j++)
                        if (streq_ptr(r->variants[j].name, var->name))
                                yread_fail(y, k->pos,
                                           "duplicate key '%s' in variants (first at line "
                                           "%u)",
                                           var->name, r->variants[j].pos.line);
                if (ynode_is_null(v) || !yread_map(y, v, "variant", keys))
                        continue;
                const struct ynode *p = ynode_map_get(v, "policy");
                if (p) {
                        var->policy = yread_string(y, p, "policy");
                        if (var->policy && !profile_name_ok(var->policy))
                                yread_fail(y, p->pos,
                                           "policy: unknown profile '%s'; use strict or "
                                           "dev (tune them under policy:)",
                                           var->policy);
                }
                const struct ynode *run = ynode_map_get(v, "run");
                if (run)
                        recipe_walk_run(y, r, run, "variant run", &var->run);
        }
}

void recipe_walk_policy(struct yread *y, struct recipe *r, const struct ynode *n)
{
        static const char *const keys[] = { "allow-executables", "disable-rules", NULL };
        if (n->type != YNODE_MAPPING) {
                yread_fail(y, n->pos, "policy: expected a mapping of profile names, got %s",
                           ynode_type_name(n));
                return;
        }
        r->policies = yread_calloc(y, n->n_items / 2 + 1, sizeof(*r->policies));
        if (!r->policies)
                return;
        for (size_t i = 0; i + 1 < n->n_items; i += 2) {
                const struct ynode *k = n->items[i], *v = n->items[i + 1];
                struct recipe_policy *p = &r->policies[r->n_policies++];
                p->pos = k->pos;
                p->name = yread_string(y, k, "policy");
                if (!p->name)
                        continue;
                if (!profile_name_ok(p->name))
                        yread_fail(y, k->pos,
                                   "policy: unknown profile '%s'; the profiles are strict "
                                   "and dev",
                                   p->name);
                for (size_t j = 0; j + 1 < r->n_policies; j++)
                        if (streq_ptr(r->policies[j].name, p->name))
                                yread_fail(y, k->pos,
                                           "duplicate key '%s' in policy (first at line "
                                           "%u)",
                                           p->name, r->policies[j].pos.line);
                if (!yread_map(y, v, "policy profile", keys))
                        continue;
                const struct ynode *a = ynode_map_get(v, "allow-executables");
                if (a)
                        p->allow_executables = yread_strv(y, a, "allow-executables",
                                                          RECIPE_MAX_ITEMS, yread_string);
                const struct ynode *d = ynode_map_get(v, "disable-rules");
                if (d)
                        p->disable_rules =
                                yread_strv(y, d, "disable-rules", RECIPE_MAX_ITEMS, yread_string);
        }
}

static void check_run_user(struct yread *y, const struct recipe *r, const struct recipe_run *run)
{
        if (!run->user || isdigit((unsigned char)run->user[0]) || streq(run->user, "root"))
                return;
        for (size_t i = 0; i < r->n_users; i++)
                if (streq_ptr(r->users[i].name, run->user))
                        return;
        yread_fail(y, run->user_pos, "user: '%s' is not declared under accounts.users", run->user);
}

void recipe_check_run_users(struct yread *y, const struct recipe *r)
{
        check_run_user(y, r, &r->run);
        for (size_t i = 0; i < r->n_variants; i++)
                check_run_user(y, r, &r->variants[i].run);
}
