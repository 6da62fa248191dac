/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn check RECIPE [--variant V] [--cache DIR] [--online]: validate, check the local inputs
 * (artifacts, keyrings), show what each variant would contain and what each pick selects.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "cmd.h"
#include "debian/debrepo.h"
#include "recipe/recipe.h"
#include "stages/pipeline.h"
#include "stages/unpack.h"

static void check_help(FILE *f)
{
        fprintf(f,
                "Usage: cairn check RECIPE [--variant V] [--cache DIR] [--online]\n\n"
                "Validate RECIPE and its local inputs (every artifact exists and is readable,\n"
                "every keyring exists and holds a key) and print, for each variant, what the\n"
                "image would contain: sources, utilities, certificates, packages, artifacts,\n"
                "accounts, files and the effective run settings; then what each utility's\n"
                "picks select, when the lock and the cache hold the packages (with --online,\n"
                "resolving and downloading what they lack). Errors are printed as\n"
                "FILE:LINE:COLUMN: error: MESSAGE, all of them.\n\n"
                "Options:\n"
                "      --variant V   show only variant V\n"
                "      --cache DIR   the cache to read packages from (default\n"
                "                    $XDG_CACHE_HOME/cairn)\n"
                "      --online      resolve and fetch the packages the cache lacks\n"
                "  -h, --help        show this help\n\n"
                "Exit status: 0 valid, 2 recipe error (also a missing artifact or keyring),\n"
                "3 a pick that selects nothing in its package, or a source failure (--online).\n");
}

/*
 * What the build reads from this machine, checked before anything is fetched: each artifact
 * opens and is a file or directory (beneath the recipe's directory or its context:); each
 * keyring exists and holds an OpenPGP key. Every problem is one positioned message in err;
 * returns -EINVAL when there was one.
 */
/* Artifact a's file for architecture arch (its src with ${arch} expanded): 0 when it opens as
 * a file or directory, else -ENOENT with a positioned message in err. */
static int check_artifact(const struct recipe *r, const struct recipe_artifact *a, const char *arch,
                          struct cairn_error *err)
{
        _cleanup_free_ char *src = NULL, *rel = NULL;
        /* Beside the recipe, or beneath its context: (the build also refuses a path or symlink
         * that leaves it; check only says whether it is there). */
        if (recipe_expand_arch(a->src, arch, &rel) < 0 ||
            asprintf(&src, "%s/%s%s%s", r->dir, r->context ? r->context : "", r->context ? "/" : "",
                     rel) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        const char *why = NULL;
        if (fd < 0 || fstat(fd, &st) < 0)
                why = strerror(errno);
        else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                why = "not a file or directory";
        if (!why)
                return 0;
        bool multi = r->n_archs > 1;
        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                               "%s:%u:%u: error: artifact %s%s%s%s: cannot read %s: %s", r->path,
                               a->pos.line, a->pos.column, a->src, multi ? " (" : "",
                               multi ? arch : "", multi ? ")" : "", src, why);
}

static int check_local_inputs(const struct recipe *r, struct cairn_error *err)
{
        bool bad = false;
        char *host[] = { (char *)recipe_host_arch(), NULL };
        char *const *archs = r->archs ? r->archs : host;
        for (size_t i = 0; i < r->n_artifacts; i++) {
                const struct recipe_artifact *a = &r->artifacts[i];
                /* The same file for every architecture unless src names it per architecture. */
                bool per_arch = strstr(a->src, RECIPE_ARCH_MARKER);
                for (char *const *arch = archs; *arch && (per_arch || arch == archs); arch++) {
                        int k = check_artifact(r, a, *arch, err);
                        if (k == -ENOMEM)
                                return k;
                        bad = bad || k < 0;
                }
        }
        for (size_t i = 0; i < r->n_sources; i++) {
                const struct recipe_source *s = &r->sources[i];
                if (!s->keyring)
                        continue;
                _cleanup_cairn_error_ struct cairn_error kerr = CAIRN_ERROR_INIT;
                size_t n_keys = 0;
                int k = debrepo_keyring_check(s, &n_keys, &kerr);
                if (k == -ENOMEM)
                        return k;
                if (k < 0) {
                        cairn_error_add(err, CAIRN_EXIT_USAGE, k, "%s:%u:%u: error: source %s: %s",
                                        r->path, s->pos.line, s->pos.column, s->name,
                                        kerr.n_messages ? kerr.messages[kerr.n_messages - 1]
                                                        : strerror(-k));
                        bad = true;
                }
        }
        return bad ? -EINVAL : 0;
}

static void print_strv(const char *label, char *const *v)
{
        printf("    %-12s [", label);
        for (size_t i = 0; v && v[i]; i++)
                printf("%s\"%s\"", i ? ", " : "", v[i]);
        printf("]\n");
}

static void print_mode(int mode)
{
        if (mode == RECIPE_MODE_UNSET)
                printf("default");
        else
                printf("%04o", (unsigned)mode);
}

static void print_view(const struct recipe_view *v)
{
        const struct recipe_run *run = &v->run;
        printf("variant %s\n", v->variant->name);
        printf("  policy %s\n", v->policy);
        if (v->policy_tuning) {
                for (char **g = v->policy_tuning->allow_executables; g && *g; g++)
                        printf("  policy allow-executable %s\n", *g);
                for (char **d = v->policy_tuning->disable_rules; d && *d; d++)
                        printf("  policy disable-rule %s\n", *d);
        }
        for (size_t i = 0; i < v->n_sources; i++) {
                const struct recipe_source *s = v->sources[i];
                printf("  source %s: %s %s %s", s->name, s->type, s->url, s->suite);
                for (char **c = s->components; c && *c; c++)
                        printf(" %s", *c);
                printf("%s\n", s->trusted ? " (trusted, unsigned)" : "");
        }
        for (size_t i = 0; i < v->n_utilities; i++) {
                const struct recipe_utility *u = v->utilities[i];
                for (size_t k = 0; k < u->n_files; k++)
                        printf("  utility %s: %s -> %s%s\n", u->package, u->files[k].src,
                               u->files[k].dest, u->files[k].glob ? " (pattern)" : "");
                if (u->kind == RECIPE_UTILITY_CA_BUNDLE)
                        printf("  certificates %s -> %s\n", u->package, u->bundle);
                if (u->no_copyright)
                        printf("  utility %s: without its copyright file\n", u->package);
        }
        const struct recipe_identity *id = &v->recipe->identity;
        if (recipe_debian_identity(v->recipe))
                printf("  identity debian (from base-files)\n");
        if (id->debian_version)
                printf("  identity debian-version %s\n", id->debian_version);
        for (size_t i = 0; i < id->n_os_release; i++)
                printf("  identity os-release %s=%s\n", id->os_release[i].key,
                       id->os_release[i].value);
        for (size_t i = 0; i < v->n_packages; i++)
                printf("  package %s\n", v->packages[i]->name);
        for (size_t i = 0; i < v->n_programs; i++) {
                const struct recipe_program *p = v->programs[i];
                printf("  program %s: %s -> %s (its load closure)%s%s\n", p->package, p->path,
                       p->dest, p->only_read ? ", only-read" : "",
                       p->no_copyright ? ", without copyright files" : "");
                for (char **d = p->dlopen; d && *d; d++)
                        printf("  program %s: dlopen %s\n", p->package, *d);
                for (char **d = p->data; d && *d; d++)
                        printf("  program %s: data %s\n", p->package, *d);
        }
        for (size_t i = 0; i < v->n_artifacts; i++) {
                const struct recipe_artifact *a = v->artifacts[i];
                printf("  artifact %s -> %s mode ", a->src, a->dest);
                print_mode(a->mode);
                printf(" owner %u:%u%s%s\n", a->uid == RECIPE_ID_UNSET ? 0 : a->uid,
                       a->gid == RECIPE_ID_UNSET ? 0 : a->gid, a->sha256 ? " sha256 " : "",
                       a->sha256 ? a->sha256 : "");
        }
        for (size_t i = 0; i < v->n_groups; i++)
                printf("  group %s %u\n", v->groups[i]->name, v->groups[i]->gid);
        for (size_t i = 0; i < v->n_users; i++) {
                const struct recipe_user *u = v->users[i];
                printf("  user %s %u:%u home %s shell %s\n", u->name, u->uid, u->gid, u->home,
                       u->shell);
        }
        for (size_t i = 0; i < v->n_files; i++) {
                const struct recipe_file *f = v->files[i];
                static const char *const types[] = { "file", "dir", "symlink" };
                printf("  %s %s", types[f->type], f->path);
                if (f->type == RECIPE_FILE_SYMLINK)
                        printf(" -> %s", f->target);
                else {
                        printf(" mode ");
                        print_mode(f->mode);
                }
                if (f->type == RECIPE_FILE_REGULAR)
                        printf(" (%zu bytes)", f->content_len);
                printf("\n");
        }
        printf("  run\n");
        printf("    %-12s %s\n", "user", run->user ? run->user : "root");
        print_strv("entrypoint", run->entrypoint);
        print_strv("cmd", run->cmd);
        printf("    %-12s %s\n", "workdir", run->workdir ? run->workdir : "/");
        for (size_t i = 0; i < run->n_env; i++)
                printf("    %-12s %s=%s\n", "env", run->env[i].key, run->env[i].value);
        for (size_t i = 0; i < run->n_labels; i++)
                printf("    %-12s %s=%s\n", "label", run->labels[i].key, run->labels[i].value);
        for (size_t i = 0; i < v->recipe->n_annotations; i++)
                printf("    %-12s %s=%s\n", "annotation", v->recipe->annotations[i].key,
                       v->recipe->annotations[i].value);
        for (size_t i = 0; i < run->n_annotations; i++)
                printf("    %-12s %s=%s (run)\n", "annotation", run->annotations[i].key,
                       run->annotations[i].value);
        if (run->ports)
                print_strv("ports", run->ports);
        if (run->volumes)
                print_strv("volumes", run->volumes);
        printf("    %-12s %s\n", "stop-signal", run->stop_signal ? run->stop_signal : "SIGTERM");
        printf("    %-12s %s\n", "init", run->init ? run->init : "none");
        printf("    %-12s %s\n", "read-only", run->read_only > 0 ? "true" : "false");
        print_strv("writable", run->writable);
        print_strv("require-env", run->require_env);
        print_strv("capabilities", run->capabilities);
        printf("    %-12s %s\n", "landlock", run->landlock > 0 ? "true" : "false");
        const struct recipe_healthcheck *h = run->healthcheck;
        if (h) {
                printf("    %-12s %s", "healthcheck", h->target);
                if (h->expect)
                        printf(" expect %d", h->expect);
                printf(" interval %" PRId64 "ms timeout %" PRId64 "ms start-period %" PRId64
                       "ms retries %u\n",
                       h->interval_ns / 1000000, h->timeout_ns / 1000000,
                       h->start_period_ns / 1000000, h->retries);
        } else {
                printf("    %-12s none\n", "healthcheck");
        }
}

struct pick_listing {
        const struct recipe *r;
        const struct recipe_utility *u;
        const struct build_package *pkg;
        struct cairn_error *err; /* one positioned message per pick that selects nothing */
        size_t misses;
};

static void print_pick(void *data, size_t pick, const char *src, const char *dest)
{
        struct pick_listing *l = data;
        if (!src) {
                const struct recipe_pick *p = &l->u->files[pick];
                printf("  utility %s %s: %s selects nothing\n", l->pkg->name, l->pkg->version,
                       p->src);
                cairn_error_add(l->err, CAIRN_EXIT_SOURCE, -ENOENT,
                                "%s:%u:%u: error: package %s %s has no %s %s%s%s%s", l->r->path,
                                p->pos.line, p->pos.column, l->pkg->name, l->pkg->version,
                                p->glob ? "path matching" : "file", p->src,
                                dest ? " (did you mean '" : "", dest ? dest : "",
                                dest ? "'?)" : "");
                l->misses++;
                return;
        }
        printf("  utility %s %s: %s -> %s\n", l->pkg->name, l->pkg->version, src, dest);
}

/*
 * What every pick selects, from the lock and the cache only: a recipe whose packages were
 * never fetched (or a lock that does not fit it) gets a note on stderr instead. Returns the
 * number of picks that select nothing.
 */
static int print_picks(const char *recipe_path, const char *cache, bool online,
                       struct cairn_error *miss_err)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct build_options opts = {
                .recipe_path = recipe_path,
                .cache_dir = cache,
                .epoch = -1,
                .offline = !online,
                .quiet = true,
                .no_init = true,
        };
        _cleanup_build_set_ struct build_set *set = NULL;
        int r = build_set_new(&opts, &set, &err);
        if (r >= 0 && set->builds[0]->recipe->n_utilities == set->builds[0]->recipe->n_certificates)
                return 0;
        /* Every architecture resolves on its own: a package one of them lacks is named. */
        if (r >= 0)
                r = pipeline_set_resolve(set, &err);
        if (r < 0 && online) {
                /* Asked for: a source that fails is this check's failure. */
                cairn_error_add(miss_err, cairn_error_exit_status(&err), r, "%s",
                                err.n_messages ? err.messages[err.n_messages - 1] : strerror(-r));
                return r;
        }
        if (r < 0) {
                fprintf(stderr,
                        "note: the picks are not listed nor checked: %s (--online, cairn lock or "
                        "cairn build fetches the packages)\n",
                        err.n_messages ? err.messages[err.n_messages - 1] : strerror(-r));
                return 0;
        }
        struct pick_listing l = { .r = set->builds[0]->recipe, .err = miss_err };
        for (size_t k = 0; r >= 0 && k < set->n; k++) {
                struct build *b = set->builds[k];
                if (set->n > 1)
                        printf("picks for %s (from the lock and the cache%s)\n", b->arch,
                               online ? ", fetched when missing" : "");
                else
                        printf("picks (from the lock and the cache%s)\n",
                               online ? ", fetched when missing" : "");
                l.r = b->recipe;
                for (size_t i = 0; r >= 0 && i < b->recipe->n_utilities; i++) {
                        l.u = &b->recipe->utilities[i];
                        struct build_package *pkg = build_utility_package(b, l.u);
                        if (!pkg || l.u->kind != RECIPE_UTILITY_PICK)
                                continue;
                        l.pkg = pkg;
                        r = unpack_list_picks(b, pkg, l.u, print_pick, &l, &err);
                }
        }
        if (r < 0)
                fprintf(stderr, "note: the picks are not all listed: %s\n",
                        err.n_messages ? err.messages[err.n_messages - 1] : strerror(-r));
        return l.misses ? -ENOENT : 0;
}

int cmd_check(int argc, char **argv)
{
        enum { OPT_VARIANT = 256, OPT_CACHE, OPT_ONLINE };
        static const struct option options[] = {
                { "variant", required_argument, NULL, OPT_VARIANT },
                { "cache", required_argument, NULL, OPT_CACHE },
                { "online", no_argument, NULL, OPT_ONLINE },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *only = NULL, *cache = NULL;
        bool online = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_VARIANT:
                        only = optarg;
                        break;
                case OPT_CACHE:
                        cache = optarg;
                        break;
                case OPT_ONLINE:
                        online = true;
                        break;
                case 'h':
                        check_help(stdout);
                        return CAIRN_EXIT_OK;
                default:
                        return cmd_usage_error("check", "unknown option");
                }
        }
        if (optind != argc - 1)
                return cmd_usage_error("check", "expected exactly one RECIPE");

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r = NULL;
        if (recipe_parse_file(argv[optind], &r, &err) < 0)
                return cmd_fail(&err);
        if (only && recipe_variant_index(r, only) < 0) {
                cairn_error_add(&err, CAIRN_EXIT_USAGE, -ENOENT, "%s: no variant '%s'",
                                argv[optind], only);
                return cmd_fail(&err);
        }
        if (check_local_inputs(r, &err) < 0)
                return cmd_fail(&err);
        printf("recipe %s (schema %u) name %s arch ", r->path, r->schema, r->name);
        for (size_t i = 0; i < (r->archs ? r->n_archs : 1); i++)
                printf("%s%s", i ? "," : "", r->archs ? r->archs[i] : recipe_host_arch());
        printf(" epoch %" PRId64 "\n", r->epoch >= 0 ? r->epoch : 0);
        for (size_t i = 0; i < r->n_variants; i++) {
                if (only && !streq(only, r->variants[i].name))
                        continue;
                _cleanup_recipe_view_ struct recipe_view *v = NULL;
                if (recipe_view_new(r, r->variants[i].name, &v, &err) < 0)
                        return cmd_fail(&err);
                print_view(v);
        }
        fflush(stdout);
        if (print_picks(argv[optind], cache, online, &err) < 0)
                return cmd_fail(&err);
        return CAIRN_EXIT_OK;
}
