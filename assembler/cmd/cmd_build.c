/* SPDX-License-Identifier: Apache-2.0 */
/* cairn build RECIPE [-o OUT] [--variant V] [--epoch N] [--cache DIR] ... */
#include <getopt.h>
#include <inttypes.h>

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
                "      --compression ALG  layer compression: gzip (default) or zstd\n"
                "  -q, --quiet            no progress output\n"
                "  -h, --help             show this help\n");
}

/* Names the other emitted variants whose image carries the same layer (same diff_id), so the
 * summary shows which layers dev and prod share byte for byte. */
static void print_layer_sharing(const struct build *b, size_t self, const char *diff_id)
{
        bool any = false;
        for (size_t i = 0; i < b->n_variants; i++) {
                const struct build_variant *o = &b->variants[i];
                if (i == self || !o->selected)
                        continue;
                for (size_t l = 0; l < o->emit.n_layers; l++)
                        if (streq(o->emit.layers[l].diff_id, diff_id)) {
                                printf("%s%s", any ? "," : "  shared with ", o->name);
                                any = true;
                                break;
                        }
        }
        printf("\n");
}

static void print_summary(const struct build *b)
{
        for (size_t i = 0; i < b->n_variants; i++) {
                const struct build_variant *v = &b->variants[i];
                if (!v->selected)
                        continue;
                const struct build_emit_result *e = &v->emit;
                printf("%s-%s\n", b->recipe->name, v->name);
                printf("  image     %s\n", e->manifest_digest);
                printf("  rootfs    %s\n", e->tar_digest);
                for (size_t l = 0; l < e->n_layers; l++) {
                        printf("  layer     %-5s diff_id %s", e->layers[l].name,
                               e->layers[l].diff_id);
                        print_layer_sharing(b, i, e->layers[l].diff_id);
                }
                printf("  size      %" PRIu64 "\n", e->tar_size);
                printf("  entries   %zu\n", e->n_entries);
                printf("  enforcer  %s\n", v->verdict.summary ? v->verdict.summary : "not run");
        }
        if (b->pkg_with_scripts && b->pkg_with_scripts[0]) {
                printf("maintainer scripts not run:");
                for (char **p = b->pkg_with_scripts; *p; p++)
                        printf(" %s", *p);
                printf("\n");
        }
}

int cmd_build(int argc, char **argv)
{
        static const struct option options[] = {
                { "output", required_argument, NULL, 'o' },
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

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_build_ struct build *b = NULL;
        int r = build_new(&opts, &b, &err);
        if (r >= 0 && !opts.quiet)
                b->progress = cmd_print_fetched;
        cmd_progress_setup(opts.quiet);
        if (r >= 0)
                r = pipeline_layout(b, &err);
        if (r >= 0)
                r = pipeline_enforce(b, &err);
        if (r < 0 && b && cairn_error_exit_status(&err) == CAIRN_EXIT_POLICY)
                for (size_t i = 0; i < b->n_variants; i++)
                        if (b->variants[i].verdict.report)
                                fputs(b->variants[i].verdict.report, stderr);
        if (r >= 0)
                r = pipeline_emit(b, &err);
        /* The lock is rewritten only after the outputs are in place: a failed build changes
         * nothing beside the recipe either. */
        bool written = false;
        if (r >= 0)
                r = pipeline_write_lock(b, false, &written, &err);
        if (r < 0)
                return cmd_fail(&err);
        if (!opts.quiet)
                cmd_print_lock_notice(b, written, stderr);
        if (written && !opts.quiet)
                cmd_print_lock_changes(b, stderr);
        print_summary(b);
        return CAIRN_EXIT_OK;
}
