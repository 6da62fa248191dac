/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn build RECIPE [-o OUT] [--variant V] [--epoch N] [--cache DIR] [--format text|json] ...
 *
 * The summary on stdout is for people (text) or CI (JSON, schema cairn-build/1 in
 * docs/commands.md); the text never depends on time, the host or OUT, so two builds print the
 * same bytes (the output paths, the elapsed time and the next step go to stderr); the JSON's
 * elapsed-ms is the one value that differs between two builds of the same inputs.
 */
#include <getopt.h>
#include <inttypes.h>
#include <time.h>

#include "base/json.h"
#include "state/build.h"
#include "stages/pipeline.h"
#include "cmd.h"

static void build_help(FILE *f)
{
        fprintf(f,
                "Usage: cairn build RECIPE [OPTIONS]\n\n"
                "Assemble every variant of RECIPE (default: dev and prod) and write, under OUT:\n"
                "  NAME-V/           OCI image layout\n"
                "  NAME-V.tar        the rootfs as one uncompressed tar\n"
                "  NAME-V.spdx.json  SPDX 2.3 SBOM\n"
                "The enforcer runs before anything is written; a failed build leaves OUT as it "
                "was.\n\n"
                "Options:\n"
                "  -o, --output OUT       output directory (default: out)\n"
                "      --variant V        build only variant V (default: all)\n"
                "      --epoch N          mtime of every entry; overrides SOURCE_DATE_EPOCH and\n"
                "                         the recipe's epoch\n"
                "      --cache DIR        download cache (default: $XDG_CACHE_HOME/cairn)\n"
                "      --locked           fail unless the lock file exists and matches the recipe\n"
                "      --lockfile PATH    lock file (default: RECIPE.lock.json beside RECIPE)\n"
                "      --offline          use only the cache, never the network\n"
                "      --init-binary PATH cairn-init to install (default: next to cairn)\n"
                "      --arch ARCH        build only this one of the recipe's architectures\n"
                "                         (outputs are named as for a recipe of one)\n"
                "      --context DIR      read artifacts beneath DIR (default: the recipe's\n"
                "                         directory, or its context:)\n"
                "      --compression ALG  layer compression: gzip (default) or zstd\n"
                "      --format F         the summary on stdout: text (default) or json\n"
                "  -q, --quiet            print nothing but errors\n"
                "  -h, --help             show this help\n");
}

/*
 * The other emitted images (image i of build k excluded) that carry the layer diff_id: their
 * variant names, as V/ARCH for another architecture's. NULL-terminated, owned; NULL when out
 * of memory (the summary then names none).
 */
static char **layer_sharers(const struct build_set *s, size_t k, size_t i, const char *diff_id)
{
        size_t cap = 0;
        for (size_t kk = 0; kk < s->n; kk++)
                cap += s->builds[kk]->n_variants;
        _cleanup_strv_free_ char **v = calloc(cap + 1, sizeof(char *));
        if (!v)
                return NULL;
        size_t n = 0;
        for (size_t kk = 0; kk < s->n; kk++) {
                const struct build *b = s->builds[kk];
                for (size_t m = 0; m < b->n_variants; m++) {
                        const struct build_variant *o = &b->variants[m];
                        if ((kk == k && m == i) || !o->selected)
                                continue;
                        bool carries = false;
                        for (size_t l = 0; l < o->emit.n_layers && !carries; l++)
                                carries = streq(o->emit.layers[l].diff_id, diff_id);
                        if (!carries)
                                continue;
                        int r = kk == k ? asprintf(&v[n], "%s", o->name)
                                        : asprintf(&v[n], "%s/%s", o->name, b->arch);
                        if (r < 0) {
                                v[n] = NULL;
                                return NULL;
                        }
                        n++;
                }
        }
        return steal_pointer(&v);
}

static void print_layer_sharing(const struct build_set *s, size_t k, size_t i, const char *diff_id)
{
        _cleanup_strv_free_ char **sharers = layer_sharers(s, k, i, diff_id);
        for (size_t n = 0; sharers && sharers[n]; n++)
                printf("%s%s", n ? "," : "  shared with ", sharers[n]);
        printf("\n");
}

/* "512 B", "4.3 KiB", "1.2 MiB", "2.0 GiB": binary units, one decimal. */
static void human_size(uint64_t n, char out[24])
{
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
        if (n < 1024) {
                snprintf(out, 24, "%" PRIu64 " B", n);
                return;
        }
        double v = (double)n / 1024.0;
        size_t u = 0;
        while (v >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024.0;
                u++;
        }
        snprintf(out, 24, "%.1f %s", v, units[u]);
}

static void print_image(const struct build_set *s, size_t k, size_t i)
{
        const struct build *b = s->builds[k];
        const struct build_variant *v = &b->variants[i];
        const struct build_emit_result *e = &v->emit;
        if (s->n > 1)
                printf("%s-%s %s\n", b->recipe->name, v->name, b->arch);
        else
                printf("%s-%s\n", b->recipe->name, v->name);
        printf("  image     %s\n", e->manifest_digest);
        printf("  rootfs    %s\n", e->tar_digest);
        for (size_t l = 0; l < e->n_layers; l++) {
                printf("  layer     %-5s diff_id %s", e->layers[l].name, e->layers[l].diff_id);
                print_layer_sharing(s, k, i, e->layers[l].diff_id);
        }
        char size[24];
        human_size(e->tar_size, size);
        printf("  size      %s rootfs tar; compressed layers", size);
        uint64_t total = 0;
        for (size_t l = 0; l < e->n_layers; l++) {
                human_size(e->layers[l].size, size);
                printf("%s %s %s", l ? "," : "", e->layers[l].name, size);
                total += e->layers[l].size;
        }
        human_size(total, size);
        printf(" (%s %s)\n", size, b->opts.compression);
        printf("  entries   %zu\n", e->n_entries);
        printf("  enforcer  %s\n", v->verdict.summary ? v->verdict.summary : "not run");
}

static void print_summary(const struct build_set *s)
{
        const struct build *b0 = s->builds[0];
        for (size_t i = 0; i < b0->n_variants; i++) {
                if (!b0->variants[i].selected)
                        continue;
                for (size_t k = 0; k < s->n; k++)
                        print_image(s, k, i);
                if (s->n > 1) {
                        printf("%s-%s\n  index     %s (", b0->recipe->name, b0->variants[i].name,
                               b0->variants[i].emit.index_digest);
                        for (size_t k = 0; k < s->n; k++)
                                printf("%s%s", k ? ", " : "", s->builds[k]->arch);
                        printf(")\n");
                }
        }
        for (size_t k = 0; k < s->n; k++) {
                const struct build *b = s->builds[k];
                if (k == 0 &&
                    (b->reads_state == BUILD_READS_MISSING || b->reads_state == BUILD_READS_STALE))
                        printf("reads record %s: %s; only-read patterns kept every match (record "
                               "it with cairn profile --write-reads)\n",
                               b->reads_path,
                               b->reads_state == BUILD_READS_MISSING ? "none" : "stale");
                if (b->pkg_with_scripts && b->pkg_with_scripts[0]) {
                        printf("maintainer scripts not run%s%s%s:", s->n > 1 ? " (" : "",
                               s->n > 1 ? b->arch : "", s->n > 1 ? ")" : "");
                        for (char **p = b->pkg_with_scripts; *p; p++)
                                printf(" %s", *p);
                        printf("\n");
                }
        }
}

static void json_path(struct json *j, const char *key, const struct build *b,
                      const struct build_variant *v, const char *suffix)
{
        /* The layout is NAME-V/ for every architecture; the tar and the SBOM carry ARCH. */
        _cleanup_free_ char *p = NULL, *name = NULL;
        int r = *suffix ? build_output_name(b, v, &name)
                        : (asprintf(&name, "%s-%s", b->recipe->name, v->name) < 0 ? -ENOMEM : 0);
        if (r < 0)
                name = NULL;
        if (name && asprintf(&p, "%s/%s%s", b->opts.out_dir, name, suffix) < 0)
                p = NULL;
        json_kv_string(j, key, p ? p : "");
}

static uint64_t elapsed_ms(const struct timespec *start)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t ms = (int64_t)(now.tv_sec - start->tv_sec) * 1000 +
                     (now.tv_nsec - start->tv_nsec) / 1000000;
        return ms > 0 ? (uint64_t)ms : 0;
}

static void json_image(struct json *j, const struct build_set *s, size_t k, size_t i)
{
        const struct build *b = s->builds[k];
        const struct build_variant *v = &b->variants[i];
        const struct build_emit_result *e = &v->emit;
        json_object_begin(j);
        json_kv_string(j, "variant", v->name);
        if (s->n > 1) {
                json_kv_string(j, "architecture", b->arch);
                json_kv_string(j, "index", e->index_digest);
        }
        json_kv_string(j, "image", e->manifest_digest);
        json_kv_string(j, "config", e->config_digest);
        json_path(j, "layout", b, v, "");
        json_key(j, "rootfs");
        json_object_begin(j);
        json_path(j, "path", b, v, ".tar");
        json_kv_string(j, "digest", e->tar_digest);
        json_kv_uint(j, "size", e->tar_size);
        json_kv_uint(j, "entries", e->n_entries);
        json_object_end(j);
        json_key(j, "layers");
        json_array_begin(j);
        uint64_t total = 0;
        for (size_t l = 0; l < e->n_layers; l++) {
                const struct build_layer_result *x = &e->layers[l];
                json_object_begin(j);
                json_kv_string(j, "name", x->name);
                json_kv_string(j, "digest", x->digest);
                json_kv_string(j, "diff-id", x->diff_id);
                json_kv_uint(j, "size", x->size);
                json_key(j, "shared-with");
                json_array_begin(j);
                _cleanup_strv_free_ char **sharers = layer_sharers(s, k, i, x->diff_id);
                for (size_t n = 0; sharers && sharers[n]; n++)
                        json_string(j, sharers[n]);
                json_array_end(j);
                json_object_end(j);
                total += x->size;
        }
        json_array_end(j);
        json_kv_uint(j, "compressed-size", total);
        json_key(j, "sbom");
        json_object_begin(j);
        json_path(j, "path", b, v, ".spdx.json");
        json_kv_string(j, "digest", e->sbom_digest);
        json_object_end(j);
        json_key(j, "enforcer");
        json_object_begin(j);
        json_kv_string(j, "profile", v->view->policy);
        json_key(j, "passed");
        json_bool(j, v->verdict.passed);
        json_kv_uint(j, "errors", v->verdict.n_errors);
        json_kv_uint(j, "warnings", v->verdict.n_warnings);
        json_kv_string(j, "summary", v->verdict.summary ? v->verdict.summary : "");
        json_object_end(j);
        json_object_end(j);
}

/* The same facts as print_summary, as one JSON document (schema cairn-build/1). */
static void print_summary_json(const struct build_set *s, bool lock_written,
                               const struct timespec *start)
{
        const struct build *b = s->builds[0];
        struct json j;
        json_init_pretty(&j, stdout);
        json_object_begin(&j);
        json_kv_string(&j, "schema", "cairn-build/1");
        json_kv_string(&j, "recipe", b->opts.recipe_path);
        json_kv_string(&j, "name", b->recipe->name);
        json_kv_string(&j, "output", b->opts.out_dir);
        json_kv_string(&j, "compression", b->opts.compression);
        json_key(&j, "variants");
        json_array_begin(&j);
        for (size_t i = 0; i < b->n_variants; i++)
                for (size_t k = 0; k < s->n && b->variants[i].selected; k++)
                        json_image(&j, s, k, i);
        json_array_end(&j);
        json_key(&j, "lock");
        if (b->lock) {
                size_t n = 0;
                for (size_t k = 0; k < s->n; k++)
                        n += s->builds[k]->lock ? s->builds[k]->lock->n_packages : 0;
                json_object_begin(&j);
                json_kv_string(&j, "path", b->lock_path);
                json_key(&j, "written");
                json_bool(&j, lock_written);
                json_kv_uint(&j, "packages", n);
                json_object_end(&j);
        } else {
                json_null(&j);
        }
        json_key(&j, "maintainer-scripts-not-run");
        json_array_begin(&j);
        for (size_t k = 0; k < s->n; k++)
                for (char **p = s->builds[k]->pkg_with_scripts; p && *p; p++) {
                        bool seen = false;
                        for (size_t q = 0; q < k && !seen; q++)
                                for (char **o = s->builds[q]->pkg_with_scripts; o && *o && !seen;
                                     o++)
                                        seen = streq(*o, *p);
                        if (!seen)
                                json_string(&j, *p);
                }
        json_array_end(&j);
        json_kv_uint(&j, "elapsed-ms", elapsed_ms(start));
        json_object_end(&j);
        fputc('\n', stdout);
}

/* For people, on stderr (the summary on stdout stays the same wherever OUT is): the files
 * written, how long it took and what to do next. */
static void print_next(const struct build_set *s, const struct timespec *start)
{
        const struct build *b = s->builds[0];
        const struct build_variant *last = NULL;
        size_t n = 0;
        const char *o = b->opts.out_dir, *name = b->recipe->name;
        for (size_t i = 0; i < b->n_variants; i++) {
                if (!b->variants[i].selected)
                        continue;
                last = &b->variants[i];
                n++;
                const char *v = last->name;
                if (s->n == 1) {
                        fprintf(stderr,
                                "wrote %s/%s-%s/ (OCI layout), %s/%s-%s.tar (rootfs), "
                                "%s/%s-%s.spdx.json (SBOM)\n",
                                o, name, v, o, name, v, o, name, v);
                        continue;
                }
                fprintf(stderr, "wrote %s/%s-%s/ (OCI image index:", o, name, v);
                for (size_t k = 0; k < s->n; k++)
                        fprintf(stderr, " %s", s->builds[k]->arch);
                fprintf(stderr, "), %s/%s-%s-ARCH.tar (rootfs), %s/%s-%s-ARCH.spdx.json (SBOM)\n",
                        o, name, v, o, name, v);
        }
        fprintf(stderr, "built %zu variant%s of %s", n, n == 1 ? "" : "s", name);
        if (s->n > 1)
                fprintf(stderr, " for %zu architectures", s->n);
        fprintf(stderr, " in %.1f s into %s/", (double)elapsed_ms(start) / 1000.0, o);
        if (last)
                fprintf(stderr,
                        "; next: cairn runtime %s/%s-%s (how to run it), cairn push %s "
                        "REGISTRY/REPO",
                        o, name, last->name, o);
        fputc('\n', stderr);
}

int cmd_build(int argc, char **argv)
{
        enum { OPT_FORMAT = CMD_OPT_OWN };
        static const struct option options[] = {
                { "output", required_argument, NULL, 'o' },
                { "format", required_argument, NULL, OPT_FORMAT },
                CMD_BUILD_OPTIONS,
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct build_options opts = {
                .out_dir = "out",
                .epoch = -1,
                .compression = "gzip",
        };
        bool json = false;
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "o:qh", options, NULL)) >= 0) {
                int k = cmd_build_option("build", c, optarg, &opts);
                if (k < 0)
                        return CAIRN_EXIT_USAGE;
                if (k > 0)
                        continue;
                switch (c) {
                case 'o':
                        opts.out_dir = optarg;
                        break;
                case OPT_FORMAT:
                        if (!streq(optarg, "text") && !streq(optarg, "json"))
                                return cmd_usage_error("build", "--format %s: use text or json",
                                                       optarg);
                        json = streq(optarg, "json");
                        break;
                case 'q':
                        opts.quiet = true;
                        break;
                case 'h':
                        build_help(stdout);
                        return CAIRN_EXIT_OK;
                default:
                        return cmd_usage_error("build", "unknown option");
                }
        }
        if (optind != argc - 1)
                return cmd_usage_error("build", "expected exactly one RECIPE");
        opts.recipe_path = argv[optind];
        if (streq(opts.out_dir, "-") || !*opts.out_dir)
                return cmd_usage_error("build",
                                       "-o '%s': OUT is a directory (an OCI layout, a rootfs tar "
                                       "and an SBOM per variant), never stdout; name a directory "
                                       "and use OUT/NAME-V.tar or OUT/NAME-V from there",
                                       opts.out_dir);

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_build_set_ struct build_set *set = NULL;
        int r = build_set_new(&opts, &set, &err);
        for (size_t k = 0; r >= 0 && !opts.quiet && k < set->n; k++) {
                set->builds[k]->progress = cmd_print_fetched;
                set->builds[k]->note = cmd_print_note;
        }
        cmd_progress_setup(opts.quiet);
        if (r >= 0)
                r = pipeline_set_layout(set, &err);
        if (r >= 0)
                r = pipeline_set_enforce(set, &err);
        if (r < 0 && set && cairn_error_exit_status(&err) == CAIRN_EXIT_POLICY)
                for (size_t k = 0; k < set->n; k++)
                        for (size_t i = 0; i < set->builds[k]->n_variants; i++) {
                                const struct build_variant *v = &set->builds[k]->variants[i];
                                if (v->verdict.report && set->n > 1)
                                        fprintf(stderr, "== %s %s\n", v->name,
                                                set->builds[k]->arch);
                                if (v->verdict.report)
                                        fputs(v->verdict.report, stderr);
                        }
        if (r >= 0)
                r = pipeline_set_emit(set, &err);
        /* The lock is rewritten only after the outputs are in place: a failed build changes
         * nothing beside the recipe either. */
        bool written = false;
        if (r >= 0)
                r = pipeline_set_write_lock(set, false, &written, &err);
        if (r < 0)
                return cmd_fail(&err);
        if (!opts.quiet)
                cmd_print_lock_notice(set->builds[0], written, stderr);
        if (written && !opts.quiet)
                cmd_print_set_lock_changes(set, stderr);
        if (opts.quiet)
                return CAIRN_EXIT_OK;
        if (json)
                print_summary_json(set, written, &start);
        else
                print_summary(set);
        if (fflush(stdout) != 0)
                return CAIRN_EXIT_IO;
        print_next(set, &start);
        return CAIRN_EXIT_OK;
}
