/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn bundle RECIPE [--variant V] -o DIR
 *
 * Assembles the variant (the pipeline's layout and enforce stages) and writes an OCI runtime
 * bundle of it into DIR: config.json and rootfs/ (runtime/bundle.h), run as prod runs it.
 * DIR is written through a temporary sibling and replaced all at once, like cairn build's OUT.
 */
#include <getopt.h>
#include <sys/stat.h>

#include "cmd.h"
#include "runtime/bundle.h"
#include "stages/pipeline.h"
#include "state/build.h"
#include "state/outdir.h"

static void bundle_help(FILE *f)
{
        fprintf(f, "Usage: cairn bundle RECIPE -o DIR [OPTIONS]\n"
                   "       cairn bundle RECIPE --format kubernetes|docker|compose|json\n\n"
                   "Write an OCI runtime bundle of one variant into DIR: config.json and rootfs/,\n"
                   "which `runc run --bundle DIR ID` runs the way the recipe says prod runs:\n"
                   "read-only root, a tmpfs owned by the image user on each writable: path,\n"
                   "no capabilities but run.capabilities, no new privileges, a seccomp filter,\n"
                   "rlimits, and a user namespace mapping the image's ids 0-65535 to an\n"
                   "unprivileged host range (root's in /etc/subuid, else from 100000). The\n"
                   "enforcer runs first; setuid/setgid files and devices are refused. Needs root\n"
                   "(rootfs/ belongs to the mapped host ids).\n\n"
                   "Options:\n"
                   "  -o, --output DIR       the bundle directory (required for --format oci)\n"
                   "      --format FMT       oci (the bundle, default); kubernetes, docker,\n"
                   "                         compose or json print what those runtimes need,\n"
                   "                         from the same runtime.json, as `cairn runtime`\n"
                   "      --image REF        the image reference the snippets print\n"
                   "      --variant V        variant to bundle (default: prod, else the first)\n"
                   "      --epoch N          mtime of every entry (as cairn build)\n"
                   "      --cache DIR        download cache (default: $XDG_CACHE_HOME/cairn)\n"
                   "      --locked           fail unless the lock file exists and matches\n"
                   "      --lockfile PATH    lock file (default: RECIPE.lock.json beside RECIPE)\n"
                   "      --offline          use only the cache, never the network\n"
                   "      --init-binary PATH cairn-init to install (default: next to cairn)\n"
                   "      --context DIR      read artifacts beneath DIR (default: the recipe's\n"
                   "                         directory, or its context:)\n"
                   "  -h, --help             show this help\n\n"
                   "Exit status: 0 written, 1 policy violation or refused entries, 2 usage or\n"
                   "recipe error, 3 source failure, 4 I/O error or not running as root.\n");
}

/* runc's setup, already inside the user namespace as the mapped root, must traverse every
 * directory above the bundle: warns about the first one it could not. */
static void warn_untraversable(const char *dir, const struct bundle_ids *ids)
{
        _cleanup_free_ char *path = realpath(dir, NULL);
        if (!path)
                return;
        for (char *slash = strrchr(path, '/'); slash && slash != path; slash = strrchr(path, '/')) {
                *slash = '\0';
                struct stat st;
                if (stat(path, &st) < 0)
                        return;
                bool owner = st.st_uid == ids->host_uid;
                if (!(st.st_mode & (owner ? S_IXUSR : S_IXOTH))) {
                        fprintf(stderr,
                                "cairn bundle: warning: %s (mode %04o) cannot be entered by host "
                                "uid %u, the container's root, which runc's setup runs as: runc "
                                "will fail with 'permission denied'; chmod o+x it or write the "
                                "bundle elsewhere\n",
                                path, (unsigned)(st.st_mode & 07777), ids->host_uid);
                        return;
                }
        }
}

static struct build_variant *pick_variant(struct build *b, const char *name)
{
        if (name)
                return build_find_variant(b, name);
        struct build_variant *v = build_find_variant(b, "prod");
        return v ? v : (b->n_variants ? &b->variants[0] : NULL);
}

/* Writes the bundle of v into DIR (through a temporary sibling). */
static int bundle_write(struct build *b, struct build_variant *v, const char *dir,
                        struct cairn_error *err)
{
        struct bundle_options o = {
                .view = v->view,
                .tree = v->tree,
                .hostname = b->recipe->name,
                .arch = b->arch,
                .mode = BUNDLE_PROD,
        };
        int r = bundle_host_ids(&o.ids, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *config = NULL;
        size_t len = 0;
        r = bundle_config(&o, &config, &len, err);
        if (r < 0)
                return r;
        r = outdir_make_sibling(dir, "out", &b->tmp_out);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: cannot create a temporary output: %s", dir,
                                         strerror(-r));
        _cleanup_free_ char *rootfs = NULL, *cfg = NULL;
        if (asprintf(&rootfs, "%s/rootfs", b->tmp_out) < 0)
                rootfs = NULL;
        if (asprintf(&cfg, "%s/config.json", b->tmp_out) < 0)
                cfg = NULL;
        if (!rootfs || !cfg)
                return -ENOMEM;
        if (chmod(b->tmp_out, 0755) < 0 || mkdir(rootfs, 0755) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", b->tmp_out);
        r = bundle_rootfs(&o, b->store, b->epoch, rootfs, err);
        if (r >= 0)
                r = write_file_atomic(cfg, config, len, false);
        if (r < 0) {
                if (!cairn_error_isset(err))
                        cairn_error_errno(err, r, "%s: %s", cfg, strerror(-r));
                return cairn_error_wrap(err, r, "%s: writing the bundle (DIR is unchanged)", dir);
        }
        bool consumed = false;
        r = outdir_replace(b->tmp_out, dir, &consumed, err);
        if (consumed) {
                free(b->tmp_out);
                b->tmp_out = NULL;
        }
        if (r < 0)
                return r;
        warn_untraversable(dir, &o.ids);
        return 0;
}

int cmd_bundle(int argc, char **argv)
{
        enum { OPT_FORMAT = CMD_OPT_OWN, OPT_IMAGE };
        static const struct option options[] = {
                { "format", required_argument, NULL, OPT_FORMAT },
                { "image", required_argument, NULL, OPT_IMAGE },
                { "output", required_argument, NULL, 'o' },
                { "variant", required_argument, NULL, CMD_OPT_VARIANT },
                { "epoch", required_argument, NULL, CMD_OPT_EPOCH },
                { "cache", required_argument, NULL, CMD_OPT_CACHE },
                { "locked", no_argument, NULL, CMD_OPT_LOCKED },
                { "lockfile", required_argument, NULL, CMD_OPT_LOCKFILE },
                { "offline", no_argument, NULL, CMD_OPT_OFFLINE },
                { "init-binary", required_argument, NULL, CMD_OPT_INIT },
                { "context", required_argument, NULL, CMD_OPT_CONTEXT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct build_options opts = { .epoch = -1, .compression = "gzip", .quiet = true };
        const char *format = NULL, *image = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "o:h", options, NULL)) >= 0) {
                int k = cmd_build_option("bundle", c, optarg, &opts);
                if (k < 0)
                        return CAIRN_EXIT_USAGE;
                if (k > 0)
                        continue;
                switch (c) {
                case OPT_FORMAT:
                        format = streq(optarg, "oci") ? NULL : optarg;
                        break;
                case OPT_IMAGE:
                        k = cmd_image_ref_option("bundle", optarg);
                        if (k != CAIRN_EXIT_OK)
                                return k;
                        image = optarg;
                        break;
                case 'o':
                        opts.out_dir = optarg;
                        break;
                case 'h':
                        bundle_help(stdout);
                        return CAIRN_EXIT_OK;
                default:
                        return cmd_usage_error("bundle", "unknown option");
                }
        }
        if (optind != argc - 1)
                return cmd_usage_error("bundle", "expected exactly one RECIPE");
        /* The other formats print, from the same runtime.json, what other runtimes need. */
        if (format) {
                if (opts.out_dir)
                        return cmd_usage_error("bundle",
                                               "-o is for --format oci; --format %s "
                                               "prints to stdout",
                                               format);
                return cmd_runtime_print("bundle", &opts, argv[optind], format, image);
        }
        if (image)
                return cmd_usage_error("bundle", "--image is for --format kubernetes, docker, "
                                                 "compose or json");
        if (!opts.out_dir || !*opts.out_dir)
                return cmd_usage_error("bundle", "-o DIR is required");
        opts.recipe_path = argv[optind];
        const char *variant = opts.only_variant;

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        if (geteuid() != 0) {
                cairn_error_add(&err, CAIRN_EXIT_IO, -EPERM,
                                "cairn bundle must run as root: rootfs/ belongs to the host ids "
                                "the bundle's user namespace maps the image's ids to (from "
                                "%d); run it with sudo",
                                BUNDLE_DEFAULT_HOST_ID);
                return cmd_fail(&err);
        }
        _cleanup_build_ struct build *b = NULL;
        int r = build_new(&opts, &b, &err);
        if (r >= 0)
                r = pipeline_layout(b, &err);
        struct build_variant *v = r >= 0 ? pick_variant(b, variant) : NULL;
        if (r >= 0 && !v)
                r = cairn_error_add(&err, CAIRN_EXIT_USAGE, -ENOENT, "%s: no variant to bundle",
                                    opts.recipe_path);
        if (r >= 0 && !variant) {
                /* Only the bundled variant is enforced. */
                for (size_t i = 0; i < b->n_variants; i++)
                        b->variants[i].selected = &b->variants[i] == v;
        }
        if (r >= 0)
                r = pipeline_enforce(b, &err);
        if (r < 0 && b && v && v->verdict.report &&
            cairn_error_exit_status(&err) == CAIRN_EXIT_POLICY)
                fputs(v->verdict.report, stderr);
        if (r >= 0) {
                _cleanup_free_ char *what = NULL;
                if (asprintf(&what, "%s, variant %s", opts.recipe_path, v->name) < 0)
                        return CAIRN_EXIT_IO;
                r = bundle_refuse_privileged(v->tree, what, &err);
        }
        if (r >= 0)
                r = bundle_write(b, v, opts.out_dir, &err);
        if (r < 0)
                return cmd_fail(&err);
        printf("%s-%s: bundle in %s (config.json, rootfs/)\n", b->recipe->name, v->name,
               opts.out_dir);
        printf("  run it with: runc run --bundle %s %s-%s\n", opts.out_dir, b->recipe->name,
               v->name);
        return CAIRN_EXIT_OK;
}
