/* SPDX-License-Identifier: Apache-2.0 */
/* cairn verify RECIPE --against OUT|sha256:HEX [--variant V] [build options] */
#include <getopt.h>
#include <sys/stat.h>

#include "state/build.h"
#include "stages/pipeline.h"
#include "cmd.h"
#include "image/oci.h"
#include "image/verify.h"

#define VERIFY_MAX_TREE_ITEMS 20 /* file differences printed per variant */

static void verify_help(FILE *f)
{
        fprintf(f, "Usage: cairn verify RECIPE --against OUT|sha256:HEX [OPTIONS]\n\n"
                   "Rebuild RECIPE in a private temporary directory and compare every digest with\n"
                   "what OUT holds: index.json, the image manifest, config, each layer's blob and\n"
                   "diff_id, the rootfs tar, the SBOM and its artifact manifest, all recomputed\n"
                   "from OUT's bytes. Prints 'reproducible: NAME-V sha256:...' per variant, or\n"
                   "what differs and the first differing files. OUT is never modified.\n\n"
                   "Without --variant, every variant OUT holds is verified. --against sha256:HEX\n"
                   "compares only the image manifest digest and needs --variant unless the recipe\n"
                   "has a single variant.\n\n"
                   "Options:\n"
                   "      --against X        OUT of cairn build, or an image manifest digest\n"
                   "      --variant V        verify only variant V\n"
                   "      --epoch N          as for cairn build: give what OUT was built with\n"
                   "      --cache DIR        download cache (default: $XDG_CACHE_HOME/cairn)\n"
                   "      --locked           passed to the build\n"
                   "      --lockfile PATH    lock file (default: NAME.lock.json beside RECIPE)\n"
                   "      --offline          use only the cache, never the network\n"
                   "      --init-binary PATH cairn-init to install (default: next to cairn)\n"
                   "      --compression ALG  gzip or zstd (default: what OUT's layout uses)\n"
                   "  -q, --quiet            no progress output\n"
                   "  -h, --help             show this help\n\n"
                   "Exit status: 0 reproducible, 1 not reproducible (or the rebuild fails the\n"
                   "policy), 2 usage or recipe error, 3 source/network failure, 4 I/O error.\n");
}

static void print_progress(void *data, const char *what)
{
        (void)data;
        fprintf(stderr, "fetched %s\n", what);
}

static void tmpdir_cleanup(char **p)
{
        if (*p) {
                (void)rm_rf(*p);
                free(*p);
                *p = NULL;
        }
}

static int print_result(const struct verify_result *res, const struct store *store,
                        struct cairn_error *err)
{
        if (verify_reproducible(res)) {
                printf("reproducible: %s %s\n", res->name, res->manifest);
                return 0;
        }
        printf("not reproducible: %s (%zu of %zu compared values differ)\n", res->name,
               res->n_items, res->n_compared);
        for (size_t i = 0; i < res->n_items; i++)
                printf("  %s: OUT %s, rebuilt %s\n", res->items[i].what, res->items[i].out,
                       res->items[i].rebuilt);
        if (res->diff_error)
                printf("  files: cannot compare %s: %s\n", res->diff_source, res->diff_error);
        else if (res->diff && treediff_identical(res->diff))
                printf("  files: %s holds the same files as the rebuild; the difference is in "
                       "the metadata above\n",
                       res->diff_source);
        else if (res->diff) {
                _cleanup_free_ char *text = NULL;
                int r = treediff_format(res->diff, store, store, TREEDIFF_FORMAT_TEXT,
                                        res->diff_source, "rebuild", VERIFY_MAX_TREE_ITEMS, &text,
                                        err);
                if (r < 0)
                        return r;
                printf("  files: %s -> rebuild\n", res->diff_source);
                for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
                        printf("    %s\n", line);
        }
        return 0;
}

int cmd_verify(int argc, char **argv)
{
        enum { OPT_AGAINST = CMD_OPT_OWN };
        static const struct option options[] = {
                { "against", required_argument, NULL, OPT_AGAINST },
                CMD_BUILD_OPTIONS,
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct build_options opts = { .epoch = -1 };
        const char *against = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "qh", options, NULL)) >= 0) {
                int k = cmd_build_option("verify", c, optarg, &opts);
                if (k < 0)
                        return CAIRN_EXIT_USAGE;
                if (k > 0)
                        continue;
                switch (c) {
                case OPT_AGAINST:
                        against = optarg;
                        break;
                case 'q':
                        opts.quiet = true;
                        break;
                case 'h':
                        verify_help(stdout);
                        return CAIRN_EXIT_OK;
                default:
                        return cmd_usage_error("verify", "unknown option");
                }
        }
        if (optind != argc - 1)
                return cmd_usage_error("verify", "expected exactly one RECIPE");
        if (!against)
                return cmd_usage_error("verify", "--against OUT or --against sha256:HEX is "
                                                 "required");
        opts.recipe_path = argv[optind];
        bool digest_only = oci_digest_valid(against);
        struct stat st;
        if (!digest_only && (stat(against, &st) < 0 || !S_ISDIR(st.st_mode)))
                return cmd_usage_error("verify",
                                       "--against %s: neither a directory nor a manifest "
                                       "digest (sha256:<64 hex digits>)",
                                       against);

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        const char *tmp = getenv("TMPDIR");
        _cleanup_(tmpdir_cleanup) char *work = NULL;
        _cleanup_free_ char *rebuilt = NULL, *objects = NULL;
        if (asprintf(&work, "%s/cairn-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                return CAIRN_EXIT_IO;
        if (!mkdtemp(work)) {
                cairn_error_errno(&err, -errno, "%s: cannot create a work directory: %m", work);
                return cmd_fail(&err);
        }
        if (asprintf(&rebuilt, "%s/out", work) < 0 || asprintf(&objects, "%s/objects", work) < 0)
                return CAIRN_EXIT_IO;
        /* The rebuild writes only into the private directory, and compresses every layer
         * itself: a blob from the layer cache could be the very file it is compared with. */
        opts.out_dir = rebuilt;
        opts.no_layer_cache = true;

        _cleanup_build_ struct build *b = NULL;
        int r = build_new(&opts, &b, &err);
        if (r < 0)
                return cmd_fail(&err);
        if (!opts.quiet)
                b->progress = print_progress;

        /* Which variants: --variant, else those OUT holds (a digest: the only variant). */
        size_t n_selected = 0;
        for (size_t i = 0; i < b->n_variants; i++) {
                struct build_variant *v = &b->variants[i];
                if (!opts.only_variant)
                        v->selected = digest_only ? b->n_variants == 1
                                                  : verify_out_has_variant(against, b->recipe->name,
                                                                           v->name);
                n_selected += v->selected;
        }
        if (digest_only && n_selected != 1)
                return cmd_usage_error("verify",
                                       "--against %s: a manifest digest names one image; say "
                                       "which variant with --variant (%s has %zu)",
                                       against, opts.recipe_path, b->n_variants);
        if (n_selected == 0)
                return cmd_usage_error("verify",
                                       "--against %s: holds no output of %s (no %s-V/ "
                                       "or %s-V.tar for any of its variants)",
                                       against, opts.recipe_path, b->recipe->name, b->recipe->name);
        /* The layer compression is part of the bytes: take OUT's unless told otherwise. The
         * build reads it from its own copy of the options. */
        if (!opts.compression) {
                b->opts.compression = "gzip";
                for (size_t i = 0; !digest_only && i < b->n_variants; i++) {
                        const char *alg = b->variants[i].selected
                                                  ? verify_out_compression(against, b->recipe->name,
                                                                           b->variants[i].name)
                                                  : NULL;
                        if (alg) {
                                b->opts.compression = alg;
                                break;
                        }
                }
        }

        r = pipeline_layout(b, &err);
        if (r >= 0)
                r = pipeline_enforce(b, &err);
        if (r < 0 && cairn_error_exit_status(&err) == CAIRN_EXIT_POLICY)
                for (size_t i = 0; i < b->n_variants; i++)
                        if (b->variants[i].verdict.report)
                                fputs(b->variants[i].verdict.report, stderr);
        if (r >= 0)
                r = pipeline_emit(b, &err);
        if (r < 0)
                return cmd_fail(&err);

        bool all_ok = true;
        if (digest_only) {
                for (size_t i = 0; i < b->n_variants; i++) {
                        const struct build_variant *v = &b->variants[i];
                        if (!v->selected)
                                continue;
                        if (streq(v->emit.manifest_digest, against))
                                printf("reproducible: %s-%s %s\n", b->recipe->name, v->name,
                                       v->emit.manifest_digest);
                        else {
                                printf("not reproducible: %s-%s\n  image manifest: expected "
                                       "%s, rebuilt %s\n",
                                       b->recipe->name, v->name, against, v->emit.manifest_digest);
                                all_ok = false;
                        }
                }
                return all_ok ? CAIRN_EXIT_OK : 1;
        }

        _cleanup_store_ struct store *store = NULL;
        r = store_open(objects, &store, &err);
        if (r < 0)
                return cmd_fail(&err);
        for (size_t i = 0; i < b->n_variants; i++) {
                const struct build_variant *v = &b->variants[i];
                if (!v->selected)
                        continue;
                _cleanup_(verify_result_freep) struct verify_result *res = NULL;
                r = verify_variant(b, v, rebuilt, against, store, &res, &err);
                if (r >= 0)
                        r = print_result(res, store, &err);
                if (r < 0)
                        return cmd_fail(&err);
                all_ok = all_ok && verify_reproducible(res);
        }
        if (fflush(stdout) != 0)
                return CAIRN_EXIT_IO;
        /* 1: not reproducible, like a failed check. */
        return all_ok ? CAIRN_EXIT_OK : 1;
}
