/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recipe sections that say how the image runs and is checked: run: (also a variant's
 * override), variants: and policy:. See recipe-parse.c for the walk that calls them.
 */
#include <ctype.h>

#include "base/capability.h"
#include "recipe-internal.h"
#include "init/probe_target.h"

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

/* A port as Docker's EXPOSE writes it: "8080" (tcp), "8080/tcp", "53/udp", "9/sctp". */
static char *read_port(struct yread *y, const struct ynode *n, const char *what)
{
        _cleanup_free_ char *s = yread_string(y, n, what);
        if (!s)
                return NULL;
        char *end = NULL;
        errno = 0;
        unsigned long port = isdigit((unsigned char)s[0]) ? strtoul(s, &end, 10) : 0;
        const char *proto = end && *end == '/' ? end + 1 : end && !*end ? "tcp" : NULL;
        if (errno || port < 1 || port > 65535 || !proto ||
            (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))) {
                yread_fail(y, n->pos,
                           "%s: '%s' is not a port; write 8080, 8080/tcp, 53/udp or 9/sctp "
                           "(1-65535)",
                           what, s);
                return NULL;
        }
        _cleanup_free_ char *out = NULL;
        if (asprintf(&out, "%lu/%s", port, proto) < 0) {
                yread_oom(y);
                return NULL;
        }
        return steal_pointer(&out);
}

/*
 * A duration: a plain number of seconds (`30`), or numbers with units h, m, s, ms in that
 * order (`1m30s`, `500ms`), at most RECIPE_HEALTH_MAX_DURATION_NS. False after a problem.
 */
static bool read_duration(struct yread *y, const struct ynode *n, const char *what, int64_t *ret_ns)
{
        static const struct {
                const char *unit;
                int64_t ns;
        } units[] = { { "h", 3600LL * 1000000000 },
                      { "ms", 1000000 },
                      { "m", 60LL * 1000000000 },
                      { "s", 1000000000 } };
        _cleanup_free_ char *s = yread_string(y, n, what);
        if (!s)
                return false;
        int64_t total = 0;
        int last = -1; /* the order h, m, s, ms of the units seen */
        static const int order[] = { 0, 3, 1, 2 };
        const char *p = s;
        bool plain = true;
        for (const char *q = s; *q; q++)
                plain = plain && isdigit((unsigned char)*q);
        if (*s && plain && strlen(s) <= 6) {
                total = strtoll(s, NULL, 10) * 1000000000;
                p = s + strlen(s);
        }
        while (*p) {
                if (!isdigit((unsigned char)*p))
                        goto bad;
                int64_t v = 0;
                while (isdigit((unsigned char)*p)) {
                        v = v * 10 + (*p - '0');
                        if (v > 100000000)
                                goto bad;
                        p++;
                }
                size_t k;
                for (k = 0; k < ELEMENTSOF(units); k++)
                        if (startswith(p, units[k].unit)) /* "ms" is tried before "m" */
                                break;
                if (k == ELEMENTSOF(units) || order[k] <= last)
                        goto bad;
                last = order[k];
                p += strlen(units[k].unit);
                if (v > RECIPE_HEALTH_MAX_DURATION_NS / units[k].ns)
                        goto bad;
                total += v * units[k].ns;
                if (total > RECIPE_HEALTH_MAX_DURATION_NS)
                        goto bad;
        }
        if (*s == '\0' || total > RECIPE_HEALTH_MAX_DURATION_NS)
                goto bad;
        *ret_ns = total;
        return true;
bad:
        yread_fail(y, n->pos, "%s: '%s' is not a duration like 30s, 1m30s or 500ms (at most 24h)",
                   what, s);
        return false;
}

/* run.healthcheck: a mapping, or `none` (a variant turns the recipe's off). */
static void read_healthcheck(struct yread *y, const struct ynode *n, struct recipe_run *run)
{
        static const char *const keys[] = { "http",    "tcp",     "expect",       "interval",
                                            "timeout", "retries", "start-period", NULL };
        run->has_healthcheck = true;
        if (n->type == YNODE_SCALAR && n->plain && streq(n->value, "none"))
                return;
        if (!yread_map(y, n, "healthcheck", keys))
                return;
        _cleanup_free_ struct recipe_healthcheck *h = yread_calloc(y, 1, sizeof(*h));
        if (!h)
                return;
        *h = (struct recipe_healthcheck){
                .interval_ns = RECIPE_HEALTH_INTERVAL_NS,
                .timeout_ns = RECIPE_HEALTH_TIMEOUT_NS,
                .retries = RECIPE_HEALTH_RETRIES,
                .pos = n->pos,
        };
        const struct ynode *http = ynode_map_get(n, "http"), *tcp = ynode_map_get(n, "tcp");
        const struct ynode *v;
        bool ok = true;
        if (!!http == !!tcp) {
                yread_fail(y, n->pos,
                           "healthcheck: give exactly one of http: URL or tcp: "
                           "HOST:PORT");
                return;
        }
        _cleanup_free_ char *target = yread_string(y, http ? http : tcp, http ? "http" : "tcp");
        if (target && tcp) {
                char *t = NULL;
                if (asprintf(&t, "tcp://%s", target) < 0) {
                        yread_oom(y);
                        return;
                }
                free(target);
                target = t;
        }
        /* The very parser cairn-init uses for --probe: what passes here runs there. */
        struct probe_target pt = { 0 };
        char msg[512] = "";
        if (!target) {
                ok = false;
        } else if (probe_target_parse(target, &pt, msg, sizeof(msg)) < 0 ||
                   (http && pt.kind != PROBE_HTTP) || (tcp && pt.kind != PROBE_TCP)) {
                yread_fail(y, (http ? http : tcp)->pos, "healthcheck: %s",
                           http && pt.kind == PROBE_TCP && !msg[0]
                                   ? "http: wants http://HOST[:PORT][/PATH]; use tcp: HOST:PORT"
                                   : msg);
                ok = false;
        }
        h->kind = http ? RECIPE_PROBE_HTTP : RECIPE_PROBE_TCP;
        if ((v = ynode_map_get(n, "expect"))) {
                uint64_t code = 0;
                if (tcp) {
                        yread_fail(y, v->pos, "healthcheck: expect: applies to http: checks only");
                        ok = false;
                } else if (!yread_uint(y, v, "expect", 599, &code)) {
                        ok = false;
                } else if (code < 100) {
                        yread_fail(y, v->pos,
                                   "healthcheck: expect: want an HTTP status from 100 "
                                   "to 599");
                        ok = false;
                } else {
                        h->expect = (int)code;
                }
        }
        if ((v = ynode_map_get(n, "interval"))) {
                ok = read_duration(y, v, "healthcheck: interval", &h->interval_ns) && ok;
                if (h->interval_ns < 1000000000) {
                        yread_fail(y, v->pos, "healthcheck: interval: at least 1s");
                        ok = false;
                }
        }
        if ((v = ynode_map_get(n, "timeout"))) {
                ok = read_duration(y, v, "healthcheck: timeout", &h->timeout_ns) && ok;
                if (h->timeout_ns < 1000000000 || h->timeout_ns > RECIPE_HEALTH_MAX_TIMEOUT_NS) {
                        yread_fail(y, v->pos,
                                   "healthcheck: timeout: from 1s to 1h (what "
                                   "cairn-init --timeout takes)");
                        ok = false;
                }
        }
        if ((v = ynode_map_get(n, "start-period")))
                ok = read_duration(y, v, "healthcheck: start-period", &h->start_period_ns) && ok;
        if ((v = ynode_map_get(n, "retries"))) {
                uint64_t k = 0;
                if (!yread_uint(y, v, "retries", RECIPE_HEALTH_MAX_RETRIES, &k)) {
                        ok = false;
                } else if (k == 0) {
                        yread_fail(y, v->pos, "healthcheck: retries: from 1 to %d",
                                   RECIPE_HEALTH_MAX_RETRIES);
                        ok = false;
                } else {
                        h->retries = (unsigned)k;
                }
        }
        if (!ok)
                return;
        h->target = steal_pointer(&target);
        run->healthcheck = steal_pointer(&h);
}

/* Parses a run: block (the recipe's or a variant's override) into *run. */
void recipe_walk_run(struct yread *y, const struct recipe *r, const struct ynode *n,
                     const char *what, struct recipe_run *run)
{
        static const char *const keys[] = { "user",        "entrypoint",  "cmd",
                                            "workdir",     "env",         "labels",
                                            "stop-signal", "init",        "read-only",
                                            "writable",    "require-env", "capabilities",
                                            "landlock",    "healthcheck", "ports",
                                            "volumes",     "annotations", NULL };
        run->read_only = -1;
        run->landlock = -1;
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
        if ((v = ynode_map_get(n, "landlock"))) {
                bool b;
                if (yread_bool(y, v, "landlock", &b)) {
                        run->landlock = b;
                        run->landlock_pos = v->pos;
                }
        }
        if ((v = ynode_map_get(n, "healthcheck")))
                read_healthcheck(y, v, run);
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
        if ((v = ynode_map_get(n, "ports"))) {
                run->ports = yread_strv(y, v, "ports", RECIPE_MAX_ITEMS, read_port);
                run->has_ports = true;
        }
        if ((v = ynode_map_get(n, "volumes"))) {
                run->volumes = yread_strv(y, v, "volumes", RECIPE_MAX_ITEMS, recipe_read_path);
                run->has_volumes = true;
        }
        if ((v = ynode_map_get(n, "annotations"))) {
                run->has_annotations = true;
                recipe_read_kv(y, v, "annotations", &run->annotations, &run->n_annotations);
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
                        r->variants[i].run.landlock = -1;
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
                var->run.landlock = -1;
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
