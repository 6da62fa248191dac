/* SPDX-License-Identifier: Apache-2.0 */
/* cairn verify RECIPE --against OUT|sha256:HEX|HOST/REPO[:TAG] [--variant V] [build options] */
#include <getopt.h>
#include <sys/stat.h>

#include "state/build.h"
#include "stages/pipeline.h"
#include "cmd.h"
#include "image/oci.h"
#include "image/verify.h"
#include "registry/client.h"
#include "registry/push.h"
#include "registry/ref.h"

#define VERIFY_MAX_TREE_ITEMS 20 /* file differences printed per variant */

static void verify_help(FILE *f)
{
        fprintf(f,
                "Usage: cairn verify RECIPE --against OUT|sha256:HEX|HOST/REPO[:TAG] [OPTIONS]\n\n"
                "Rebuild RECIPE in a private temporary directory and compare every digest with\n"
                "what OUT holds: index.json, the image manifest, config, each layer's blob and\n"
                "diff_id, the rootfs tar, the SBOM and its artifact manifest, all recomputed\n"
                "from OUT's bytes. Prints 'reproducible: NAME-V sha256:...' per variant, or\n"
                "what differs and the first differing files. OUT is never modified.\n\n"
                "Without --variant, every variant OUT holds is verified. --against sha256:HEX\n"
                "compares only the image manifest digest; without --variant every variant is\n"
                "rebuilt and the one that rebuilds to it is named.\n\n"
                "--against HOST[:PORT]/REPO[:TAG|@sha256:HEX] compares with the manifest\n"
                "digest the registry serves (REPO:V for each variant V when no tag is given;\n"
                "a tag that is a variant's name picks that variant) and, when it differs,\n"
                "with the config, layers and diff_ids that manifest names.\n\n"
                "Options:\n"
                "      --against X        OUT of cairn build, an image manifest digest, or a\n"
                "                         registry reference\n"
                "      --variant V        verify only variant V\n"
                "      --arch ARCH        compare only this architecture of a multi-architecture\n"
                "                         OUT (every one is rebuilt); against a registry, the\n"
                "                         architecture whose image the reference names\n"
                "      --epoch N          as for cairn build: give what OUT was built with\n"
                "      --cache DIR        download cache (default: $XDG_CACHE_HOME/cairn)\n"
                "      --locked           passed to the build\n"
                "      --lockfile PATH    lock file (default: RECIPE.lock.json beside RECIPE)\n"
                "      --offline          use only the cache, never the network\n"
                "      --init-binary PATH cairn-init to install (default: next to cairn)\n"
                "      --context DIR      read artifacts beneath DIR (default: the recipe's\n"
                "                         directory, or its context:)\n"
                "      --compression ALG  gzip or zstd (default: what OUT's layout "
                "uses)\n" CMD_REGISTRY_HELP "  -q, --quiet            no progress output\n"
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

static int print_result(const struct verify_result *res, const char *label,
                        const struct store *store, struct cairn_error *err)
{
        if (verify_reproducible(res)) {
                printf("reproducible: %s %s\n", res->name, res->manifest);
                return 0;
        }
        printf("not reproducible: %s (%zu of %zu compared values differ)\n", res->name,
               res->n_items, res->n_compared);
        for (size_t i = 0; i < res->n_items; i++)
                printf("  %s: %s %s, rebuilt %s\n", res->items[i].what, label, res->items[i].out,
                       res->items[i].rebuilt);
        bool file_reason = false;
        for (char **w = res->why; w && *w; w++) {
                printf("  why: %s\n", *w);
                file_reason =
                        file_reason || startswith(*w, "content:") || startswith(*w, "cairn-init:");
        }
        if (res->diff_error)
                printf("  files: cannot compare %s: %s\n", res->diff_source, res->diff_error);
        else if (res->diff && treediff_identical(res->diff) && !file_reason)
                printf("  files: %s holds the same files as the rebuild, cairn-init "
                       "included\n",
                       res->diff_source);
        else if (res->diff && treediff_identical(res->diff))
                printf("  files: %s shows the same files as the rebuild, but its layers differ "
                       "(above)\n",
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

struct served {
        char *manifest; /* owned */
        size_t len;
        char digest[DIGEST_OCI_LEN];
        char *reference; /* owned: the tag or digest asked for */
};

/* cairn verify RECIPE --against HOST/REPO[:TAG|@DIGEST]. */
static int verify_registry(struct build_options *opts, struct cmd_registry *reg,
                           const struct registry_ref *ref, const char *against)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        const char *tmp = getenv("TMPDIR");
        _cleanup_(tmpdir_cleanup) char *work = NULL;
        _cleanup_free_ char *rebuilt = NULL;
        if (asprintf(&work, "%s/cairn-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                return CAIRN_EXIT_IO;
        if (!mkdtemp(work)) {
                cairn_error_errno(&err, -errno, "%s: cannot create a work directory: %m", work);
                return cmd_fail(&err);
        }
        if (asprintf(&rebuilt, "%s/out", work) < 0)
                return CAIRN_EXIT_IO;
        int r;
        opts->out_dir = rebuilt;
        opts->no_layer_cache = true;
        opts->confirm_lock = true;
        _cleanup_build_ struct build *b = NULL;
        r = build_new(opts, &b, &err);
        if (r < 0)
                return cmd_fail(&err);
        /* The registry serves one image per reference: name the architecture's image (a
         * multi-architecture tag is an index; compare its images one by one). */
        if (b->recipe->n_archs > 1 && !opts->arch)
                return cmd_usage_error("verify",
                                       "--against %s: %s builds for several architectures; "
                                       "verify one image with --arch ARCH and the registry's "
                                       "digest of that image (REPO@sha256:...)",
                                       against, opts->recipe_path);
        if (!opts->quiet) {
                b->progress = print_progress;
                b->note = cmd_print_note;
        }

        /* Which variants: --variant; a tag that names one; the only one; all (no tag). */
        size_t n_selected = 0;
        for (size_t i = 0; i < b->n_variants; i++) {
                struct build_variant *v = &b->variants[i];
                if (!opts->only_variant) {
                        if (ref->digest)
                                v->selected = b->n_variants == 1;
                        else if (ref->tag) {
                                bool named = false;
                                for (size_t k = 0; k < b->n_variants; k++)
                                        named |= streq(b->variants[k].name, ref->tag);
                                v->selected = named ? streq(v->name, ref->tag) : b->n_variants == 1;
                        } else
                                v->selected = true;
                }
                n_selected += v->selected;
        }
        if (n_selected == 0 || ((ref->digest || ref->tag) && n_selected != 1))
                return cmd_usage_error("verify",
                                       "--against %s names one image: say which variant with "
                                       "--variant (%s has %zu)",
                                       against, opts->recipe_path, b->n_variants);

        /* What the registry serves, fetched before the rebuild so that an unreachable
         * registry or refused credentials fail fast. */
        _cleanup_(registry_client_freep) struct registry_client *client = NULL;
        r = cmd_registry_connect("verify", reg, ref->host, &client, &err);
        if (r == -EINVAL && !cairn_error_isset(&err))
                return CAIRN_EXIT_USAGE;
        if (r < 0)
                return cmd_fail(&err);
        struct served *served = calloc(b->n_variants, sizeof(*served));
        if (!served)
                return CAIRN_EXIT_IO;
        int rc = CAIRN_EXIT_OK;
        for (size_t i = 0; i < b->n_variants && rc == CAIRN_EXIT_OK; i++) {
                const struct build_variant *v = &b->variants[i];
                if (!v->selected)
                        continue;
                const char *reference = ref->digest ? ref->digest : ref->tag ? ref->tag : v->name;
                char type[96];
                served[i].reference = strdup(reference);
                if (!served[i].reference)
                        rc = CAIRN_EXIT_IO;
                else if (registry_fetch_manifest(client, ref->repo, reference, &served[i].manifest,
                                                 &served[i].len, served[i].digest, type,
                                                 &err) < 0) {
                        cairn_error_wrap(&err, -EIO, "%s/%s:%s", ref->host, ref->repo, reference);
                        rc = cmd_fail(&err);
                }
        }
        if (rc == CAIRN_EXIT_OK && !opts->compression) {
                b->opts.compression = "gzip";
                for (size_t i = 0; i < b->n_variants; i++) {
                        const char *alg = served[i].manifest
                                                  ? verify_manifest_compression(served[i].manifest,
                                                                                served[i].len)
                                                  : NULL;
                        if (alg) {
                                b->opts.compression = alg;
                                break;
                        }
                }
        }
        if (rc == CAIRN_EXIT_OK) {
                r = pipeline_layout(b, &err);
                if (r >= 0)
                        cmd_print_lock_unconfirmed(b);
                if (r >= 0)
                        r = pipeline_enforce(b, &err);
                if (r < 0 && cairn_error_exit_status(&err) == CAIRN_EXIT_POLICY)
                        for (size_t i = 0; i < b->n_variants; i++)
                                if (b->variants[i].verdict.report)
                                        fputs(b->variants[i].verdict.report, stderr);
                if (r >= 0)
                        r = pipeline_emit(b, &err);
                if (r < 0)
                        rc = cmd_fail(&err);
        }
        bool all_ok = true;
        for (size_t i = 0; i < b->n_variants && rc == CAIRN_EXIT_OK; i++) {
                const struct build_variant *v = &b->variants[i];
                if (!v->selected)
                        continue;
                _cleanup_free_ char *where = NULL;
                if (asprintf(&where, "%s/%s:%s", ref->host, ref->repo, served[i].reference) < 0) {
                        rc = CAIRN_EXIT_IO;
                        break;
                }
                _cleanup_(verify_result_freep) struct verify_result *res = NULL;
                r = verify_against_manifest(b, v, where, served[i].digest, served[i].manifest,
                                            served[i].len, NULL, 0, &res);
                /* It differs: the served config names the diff_ids to compare. */
                char config[DIGEST_OCI_LEN];
                if (r >= 0 && !verify_reproducible(res))
                        verify_manifest_config(served[i].manifest, served[i].len, config);
                if (r >= 0 && !verify_reproducible(res) && config[0]) {
                        _cleanup_free_ char *cbuf = NULL;
                        size_t clen = 0;
                        _cleanup_cairn_error_ struct cairn_error cerr = CAIRN_ERROR_INIT;
                        if (registry_fetch_blob(client, ref->repo, config, &cbuf, &clen, &cerr) ==
                            0) {
                                verify_result_free(steal_pointer(&res));
                                r = verify_against_manifest(b, v, where, served[i].digest,
                                                            served[i].manifest, served[i].len, cbuf,
                                                            clen, &res);
                        }
                }
                if (r >= 0)
                        r = print_result(res, "registry", NULL, &err);
                if (r < 0) {
                        rc = r == -ENOMEM ? CAIRN_EXIT_IO : cmd_fail(&err);
                        break;
                }
                if (!verify_reproducible(res))
                        printf("  (compared with %s)\n", where);
                all_ok = all_ok && verify_reproducible(res);
        }
        for (size_t i = 0; i < b->n_variants; i++) {
                free(served[i].manifest);
                free(served[i].reference);
        }
        free(served);
        if (rc != CAIRN_EXIT_OK)
                return rc;
        if (fflush(stdout) != 0)
                return CAIRN_EXIT_IO;
        return all_ok ? CAIRN_EXIT_OK : 1;
}

int cmd_verify(int argc, char **argv)
{
        enum { OPT_AGAINST = CMD_OPT_OWN };
        static const struct option options[] = {
                { "against", required_argument, NULL, OPT_AGAINST },
                CMD_BUILD_OPTIONS,
                CMD_REGISTRY_OPTIONS,
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct build_options opts = { .epoch = -1 };
        _cleanup_(cmd_registry_clear) struct cmd_registry reg = { 0 };
        const char *against = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "qh", options, NULL)) >= 0) {
                int k = cmd_build_option("verify", c, optarg, &opts);
                if (k < 0)
                        return CAIRN_EXIT_USAGE;
                if (k == 0)
                        k = cmd_registry_option("verify", c, optarg, &reg);
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
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_(registry_ref_freep) struct registry_ref *ref = NULL;
        if (!digest_only && (stat(against, &st) < 0 || !S_ISDIR(st.st_mode))) {
                _cleanup_cairn_error_ struct cairn_error perr = CAIRN_ERROR_INIT;
                if (!strchr(against, '/') || registry_ref_parse(against, &ref, &perr) < 0)
                        return cmd_usage_error("verify",
                                               "--against %s: neither a directory, a manifest "
                                               "digest (sha256:<64 hex digits>) nor a registry "
                                               "reference (HOST[:PORT]/REPO[:TAG])%s%s",
                                               against, perr.n_messages ? ": " : "",
                                               perr.n_messages ? perr.messages[0] : "");
        }
        if (ref)
                return verify_registry(&opts, &reg, ref, against);

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
        /* Every locked SHA-256 is confirmed against the verified index of its source. */
        opts.confirm_lock = true;

        /* Every architecture of the recipe (or --arch's): each is rebuilt and compared. */
        /* --arch compares one architecture of OUT; every architecture is rebuilt all the
         * same, so that the rebuilt layout and its index are OUT's whole. */
        const char *only_arch = opts.arch;
        opts.arch = NULL;
        _cleanup_build_set_ struct build_set *set = NULL;
        int r = build_set_new(&opts, &set, &err);
        if (r < 0)
                return cmd_fail(&err);
        if (only_arch && !recipe_has_arch(set->builds[0]->recipe, only_arch))
                return cmd_usage_error("verify", "--arch %s: %s does not build for %s", only_arch,
                                       opts.recipe_path, only_arch);
        struct build *b = set->builds[0];
        for (size_t k = 0; !opts.quiet && k < set->n; k++) {
                set->builds[k]->progress = print_progress;
                set->builds[k]->note = cmd_print_note;
        }

        /* Which variants: --variant, else those OUT holds (a digest: the only variant). */
        size_t n_selected = 0;
        for (size_t i = 0; i < b->n_variants; i++) {
                /* A digest without --variant: every variant is rebuilt, one must match. */
                bool selected = b->variants[i].selected;
                if (!opts.only_variant)
                        selected = digest_only || verify_out_has_variant(against, b->recipe->name,
                                                                         b->variants[i].name);
                for (size_t k = 0; k < set->n; k++)
                        set->builds[k]->variants[i].selected = selected;
                n_selected += selected;
        }
        if (n_selected == 0)
                return cmd_usage_error("verify",
                                       "--against %s: holds no output of %s (no %s-V/ "
                                       "or %s-V.tar for any of its variants)",
                                       against, opts.recipe_path, b->recipe->name, b->recipe->name);
        /* The layer compression is part of the bytes: take OUT's unless told otherwise. The
         * builds read it from their own copy of the options. */
        if (!opts.compression) {
                const char *found = "gzip";
                for (size_t i = 0; !digest_only && i < b->n_variants; i++) {
                        _cleanup_free_ char *image = NULL;
                        if (!b->variants[i].selected ||
                            build_image_ref(b, &b->variants[i], &image) < 0)
                                continue;
                        const char *alg = verify_out_compression(against, b->recipe->name,
                                                                 b->variants[i].name, image);
                        if (alg) {
                                found = alg;
                                break;
                        }
                }
                for (size_t k = 0; k < set->n; k++)
                        set->builds[k]->opts.compression = found;
        }

        r = pipeline_set_layout(set, &err);
        for (size_t k = 0; r >= 0 && k < set->n; k++)
                cmd_print_lock_unconfirmed(set->builds[k]);
        if (r >= 0)
                r = pipeline_set_enforce(set, &err);
        if (r < 0 && cairn_error_exit_status(&err) == CAIRN_EXIT_POLICY)
                for (size_t k = 0; k < set->n; k++)
                        for (size_t i = 0; i < set->builds[k]->n_variants; i++)
                                if (set->builds[k]->variants[i].verdict.report)
                                        fputs(set->builds[k]->variants[i].verdict.report, stderr);
        if (r >= 0)
                r = pipeline_set_emit(set, &err);
        if (r < 0)
                return cmd_fail(&err);

        bool all_ok = true;
        if (digest_only) {
                /* A digest names an image of one architecture, or a variant's image index. */
                for (size_t k = 0; k < set->n; k++)
                        for (size_t i = 0; i < b->n_variants; i++) {
                                const struct build_variant *v = &set->builds[k]->variants[i];
                                if (!v->selected)
                                        continue;
                                _cleanup_free_ char *name = NULL;
                                if (build_output_name(set->builds[k], v, &name) < 0)
                                        return CAIRN_EXIT_IO;
                                if (streq(v->emit.manifest_digest, against)) {
                                        printf("reproducible: %s %s\n", name,
                                               v->emit.manifest_digest);
                                        return CAIRN_EXIT_OK;
                                }
                                if (streq(v->emit.index_digest, against)) {
                                        printf("reproducible: %s-%s %s (image index)\n",
                                               b->recipe->name, v->name, v->emit.index_digest);
                                        return CAIRN_EXIT_OK;
                                }
                        }
                if (!opts.only_variant)
                        printf("not reproducible: no variant of %s rebuilds to %s\n",
                               b->recipe->name, against);
                for (size_t k = 0; k < set->n; k++)
                        for (size_t i = 0; i < b->n_variants; i++) {
                                const struct build_variant *v = &set->builds[k]->variants[i];
                                _cleanup_free_ char *name = NULL;
                                if (!v->selected || build_output_name(set->builds[k], v, &name) < 0)
                                        continue;
                                if (opts.only_variant)
                                        printf("not reproducible: %s\n  image manifest: "
                                               "expected %s, rebuilt %s\n",
                                               name, against, v->emit.manifest_digest);
                                else
                                        printf("  %s rebuilt %s\n", name, v->emit.manifest_digest);
                        }
                return CAIRN_EXIT_POLICY;
        }

        _cleanup_store_ struct store *store = NULL;
        r = store_open(objects, &store, &err);
        if (r < 0)
                return cmd_fail(&err);
        for (size_t i = 0; i < b->n_variants; i++)
                for (size_t k = 0; k < set->n; k++) {
                        const struct build_variant *v = &set->builds[k]->variants[i];
                        if (!v->selected || (only_arch && !streq(set->builds[k]->arch, only_arch)))
                                continue;
                        _cleanup_(verify_result_freep) struct verify_result *res = NULL;
                        r = verify_variant(set->builds[k], v, rebuilt, against, store, &res, &err);
                        if (r >= 0)
                                r = print_result(res, "OUT", store, &err);
                        if (r < 0)
                                return cmd_fail(&err);
                        all_ok = all_ok && verify_reproducible(res);
                }
        if (fflush(stdout) != 0)
                return CAIRN_EXIT_IO;
        /* 1: not reproducible, like a failed check. */
        return all_ok ? CAIRN_EXIT_OK : 1;
}
