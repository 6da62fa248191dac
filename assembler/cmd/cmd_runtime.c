/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn runtime RECIPE|IMAGE [--variant V] [--format kubernetes|docker|compose|json]
 *                            [--image REF] [build options]
 *
 * Prints what a runtime needs to run the image as the build meant it, derived from the image's
 * /etc/cairn/runtime.json and nothing else (assembler/runtime/runtime.h): from a recipe, the
 * variant's tree is assembled (the pipeline's layout stages, nothing written); from an image
 * (cairn build's OUT, an OCI layout, a rootfs tar or directory) the file is read out of it.
 */
#include <dirent.h>
#include <getopt.h>
#include <sys/stat.h>

#include "cmd.h"
#include "image/image.h"
#include "runtime/runtime.h"
#include "stages/pipeline.h"
#include "state/build.h"

static void runtime_help(FILE *f)
{
        fprintf(f, "Usage: cairn runtime RECIPE|IMAGE [OPTIONS]\n\n"
                   "Print how to run the image the way its /etc/cairn/runtime.json says:\n"
                   "read-only root, user, a tmpfs per writable path, no capabilities, no new\n"
                   "privileges, the health probe. RECIPE (a .yaml or .yml file) is assembled\n"
                   "without writing anything; IMAGE is cairn build's OUT directory, an OCI\n"
                   "layout, a rootfs tar or a directory.\n\n"
                   "Options:\n"
                   "      --variant V        variant (default: prod, else the only one)\n"
                   "      --format FMT       kubernetes (a Pod), docker (docker run flags),\n"
                   "                         compose (a compose service) or json (runtime.json\n"
                   "                         as the image holds it); default kubernetes\n"
                   "      --image REF        the image reference to print (default NAME:VARIANT)\n"
                   "      --cache DIR, --offline, --locked, --lockfile PATH, --init-binary PATH,\n"
                   "      --context DIR\n"
                   "                         as for cairn build (RECIPE only)\n"
                   "  -h, --help             show this help\n\n"
                   "Exit status: 0 printed, 2 usage error, a recipe error or an image without\n"
                   "runtime.json, 3 source failure, 4 I/O error.\n");
}

enum runtime_format {
        FORMAT_KUBERNETES,
        FORMAT_DOCKER,
        FORMAT_COMPOSE,
        FORMAT_JSON,
};

static bool is_recipe_path(const char *p)
{
        size_t n = strlen(p);
        struct stat st;
        return stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
               ((n > 5 && streq(p + n - 5, ".yaml")) || (n > 4 && streq(p + n - 4, ".yml")));
}

static void tmpdir_cleanup(char **p)
{
        if (*p) {
                (void)rm_rf(*p);
                free(*p);
                *p = NULL;
        }
}

/*
 * In cairn build's OUT (no oci-layout of its own, NAME-V/ layouts inside): the layout of
 * variant (or of prod, or the only one). *ret is owned; NULL when dir is not such an OUT.
 */
static int out_layout(const char *dir, const char *variant, char **ret, struct cairn_error *err)
{
        _cleanup_free_ char *marker = NULL;
        if (asprintf(&marker, "%s/oci-layout", dir) < 0)
                return -ENOMEM;
        *ret = NULL;
        if (access(marker, F_OK) == 0)
                return 0;
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, alphasort);
        if (n < 0)
                return cairn_error_errno(err, -errno, "%s: %m", dir);
        _cleanup_free_ char *found = NULL, *prod = NULL, *only = NULL;
        size_t layouts = 0;
        int r = 0;
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                _cleanup_free_ char *sub = NULL;
                if (r >= 0 && name[0] != '.' &&
                    asprintf(&sub, "%s/%s/oci-layout", dir, name) >= 0 && access(sub, F_OK) == 0) {
                        const char *dash = strrchr(name, '-');
                        layouts++;
                        free(only);
                        only = strdup(name);
                        if (dash && variant && streq(dash + 1, variant))
                                found = strdup(name);
                        if (dash && streq(dash + 1, "prod"))
                                prod = strdup(name);
                }
                free(names[i]);
        }
        free(names);
        const char *pick = variant ? found : prod ? prod : layouts == 1 ? only : NULL;
        if (layouts == 0)
                return 0;
        if (!pick)
                return cairn_error_add(
                        err, CAIRN_EXIT_USAGE, -ENOENT, "%s: %s; pick one with --variant", dir,
                        variant ? "no layout of that variant" : "several variants and no prod");
        if (asprintf(ret, "%s/%s", dir, pick) < 0)
                return -ENOMEM;
        return 0;
}

static int manifest_from_image(const char *path, const char *variant, struct runtime_manifest **ret,
                               char **ret_json, struct cairn_error *err)
{
        const char *tmp = getenv("TMPDIR");
        _cleanup_(tmpdir_cleanup) char *work = NULL;
        if (asprintf(&work, "%s/cairn-runtime-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                return -ENOMEM;
        if (!mkdtemp(work))
                return cairn_error_errno(err, -errno, "%s: cannot create a work directory: %m",
                                         work);
        _cleanup_free_ char *objects = NULL, *layout = NULL, *buf = NULL;
        _cleanup_store_ struct store *store = NULL;
        _cleanup_tree_ struct tree *tree = NULL;
        struct stat st;
        if (asprintf(&objects, "%s/objects", work) < 0)
                return -ENOMEM;
        int r = store_open(objects, &store, err);
        if (r >= 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                r = out_layout(path, variant, &layout, err);
        /* A multi-architecture image: its first architecture's. The run-time contract is
         * written from the recipe, the same in every architecture's image. */
        _cleanup_strv_free_ char **archs = NULL;
        if (r >= 0)
                r = image_archs(layout ? layout : path, NULL, &archs, err);
        if (r >= 0)
                r = image_load(layout ? layout : path, NULL, archs[0], store, &tree, NULL, err);
        if (r < 0)
                return r;
        size_t len = 0;
        r = runtime_json_read(tree, store, &buf, &len);
        if (r == -ENOENT)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "%s: no %s: the image was not built by cairn (or by one "
                                       "older than the run-time contract)",
                                       layout ? layout : path, RUNTIME_JSON_PATH);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s: %s", layout ? layout : path,
                                         RUNTIME_JSON_PATH, strerror(-r));
        _cleanup_free_ char *name = NULL;
        if (asprintf(&name, "%s:%s", layout ? layout : path, RUNTIME_JSON_PATH) < 0)
                return -ENOMEM;
        r = runtime_manifest_parse(name, buf, len, ret, err);
        if (r >= 0)
                *ret_json = steal_pointer(&buf);
        return r;
}

static int manifest_from_recipe(struct build_options *opts, const char *variant,
                                struct runtime_manifest **ret, char **ret_json,
                                struct cairn_error *err)
{
        _cleanup_build_ struct build *b = NULL;
        opts->only_variant = variant;
        int r = build_new(opts, &b, err);
        if (r >= 0)
                r = pipeline_layout(b, err);
        if (r < 0)
                return r;
        struct build_variant *v =
                variant ? build_find_variant(b, variant) : build_find_variant(b, "prod");
        if (!v && !variant && b->n_variants == 1)
                v = &b->variants[0];
        if (!v)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "%s: %s; pick one with --variant", opts->recipe_path,
                                       variant ? "no such variant" : "no prod variant");
        /* Read back what the image holds: the snippets never see anything else. */
        _cleanup_free_ char *buf = NULL, *name = NULL;
        size_t len = 0;
        r = runtime_json_read(v->tree, b->store, &buf, &len);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", RUNTIME_JSON_PATH, strerror(-r));
        if (asprintf(&name, "%s (variant %s):%s", opts->recipe_path, v->name, RUNTIME_JSON_PATH) <
            0)
                return -ENOMEM;
        r = runtime_manifest_parse(name, buf, len, ret, err);
        if (r >= 0)
                *ret_json = steal_pointer(&buf);
        return r;
}

static int format_from_name(const char *cmd, const char *name, enum runtime_format *ret)
{
        if (streq(name, "kubernetes"))
                *ret = FORMAT_KUBERNETES;
        else if (streq(name, "docker"))
                *ret = FORMAT_DOCKER;
        else if (streq(name, "compose"))
                *ret = FORMAT_COMPOSE;
        else if (streq(name, "json"))
                *ret = FORMAT_JSON;
        else
                return cmd_usage_error(cmd, "--format %s: use kubernetes, docker, compose or json",
                                       name);
        return CAIRN_EXIT_OK;
}

/* An --image REF that the snippets can print as one word. */
int cmd_image_ref_option(const char *cmd, const char *ref)
{
        if (!*ref || strpbrk(ref, " \t\r\n\"'\\$`"))
                return cmd_usage_error(cmd, "--image '%s': not an image reference", ref);
        return CAIRN_EXIT_OK;
}

int cmd_runtime_print(const char *cmd, struct build_options *opts, const char *path,
                      const char *format_name, const char *image)
{
        enum runtime_format format = FORMAT_KUBERNETES;
        if (format_name) {
                int k = format_from_name(cmd, format_name, &format);
                if (k != CAIRN_EXIT_OK)
                        return k;
        }
        const char *variant = opts->only_variant;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_runtime_manifest_ struct runtime_manifest *m = NULL;
        _cleanup_free_ char *json = NULL;
        int r;
        if (is_recipe_path(path)) {
                opts->recipe_path = path;
                r = manifest_from_recipe(opts, variant, &m, &json, &err);
        } else {
                r = manifest_from_image(path, variant, &m, &json, &err);
        }
        if (r < 0 && !cairn_error_isset(&err))
                cairn_error_errno(&err, r, "%s: %s", path, strerror(-r));
        if (r < 0)
                return cmd_fail(&err);

        _cleanup_free_ char *ref = NULL;
        if (!image) {
                if (asprintf(&ref, "%s:%s", m->name, m->variant) < 0)
                        return CAIRN_EXIT_IO;
                image = ref;
        }
        switch (format) {
        case FORMAT_KUBERNETES:
                r = runtime_format_kubernetes(m, image, stdout);
                break;
        case FORMAT_DOCKER:
                r = runtime_format_docker(m, image, stdout);
                break;
        case FORMAT_COMPOSE:
                r = runtime_format_compose(m, image, stdout);
                break;
        case FORMAT_JSON:
                /* As the image holds it, byte for byte (it was checked by the parse). */
                r = fputs(json, stdout) < 0 ? -EIO : 0;
                break;
        }
        if (r < 0 || fflush(stdout) != 0)
                return CAIRN_EXIT_IO;
        return CAIRN_EXIT_OK;
}

int cmd_runtime(int argc, char **argv)
{
        enum { OPT_FORMAT = CMD_OPT_OWN, OPT_IMAGE };
        static const struct option options[] = {
                CMD_BUILD_OPTIONS,
                { "format", required_argument, NULL, OPT_FORMAT },
                { "image", required_argument, NULL, OPT_IMAGE },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct build_options opts = { .epoch = -1, .compression = "gzip", .quiet = true };
        enum runtime_format format;
        const char *format_name = NULL, *image = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                int r = cmd_build_option("runtime", c, optarg, &opts);
                if (r < 0)
                        return CAIRN_EXIT_USAGE;
                if (r > 0)
                        continue;
                switch (c) {
                case OPT_FORMAT:
                        r = format_from_name("runtime", optarg, &format);
                        if (r != CAIRN_EXIT_OK)
                                return r;
                        format_name = optarg;
                        break;
                case OPT_IMAGE:
                        r = cmd_image_ref_option("runtime", optarg);
                        if (r != CAIRN_EXIT_OK)
                                return r;
                        image = optarg;
                        break;
                case 'h':
                        runtime_help(stdout);
                        return CAIRN_EXIT_OK;
                default:
                        return cmd_usage_error("runtime", "unknown option");
                }
        }
        if (optind != argc - 1)
                return cmd_usage_error("runtime", "expected exactly one RECIPE or IMAGE");
        return cmd_runtime_print("runtime", &opts, argv[optind], format_name, image);
}
