/* SPDX-License-Identifier: Apache-2.0 */
/* cairn diff A B [--ref NAME] [--ref-a NAME] [--ref-b NAME] [--format text|json] */
#include <getopt.h>

#include "cmd.h"
#include "image/explain.h"
#include "image/image.h"
#include "image/ocilayout.h"
#include "tree/treediff.h"

static void diff_help(FILE *f)
{
        fprintf(f, "Usage: cairn diff A B [OPTIONS]\n\n"
                   "Compare two images entry by entry. A and B are each an OCI image layout, a\n"
                   "rootfs tar (any compression) or a directory. Prints the entries added,\n"
                   "removed and changed from A to B, sorted by path, with what changed: type,\n"
                   "content (sha256), size, mode, owner, mtime, link target, device.\n\n"
                   "Options:\n"
                   "      --ref NAME     the image with this ref name in an OCI layout holding\n"
                   "                     several (both sides)\n"
                   "      --ref-a NAME   the same for A only\n"
                   "      --ref-b NAME   the same for B only\n"
                   "      --format F     text (default) or json\n"
                   "  -h, --help         show this help\n\n"
                   "Exit status: 0 identical, 1 different, 2 usage, 4 I/O error.\n");
}

static void tmpdir_cleanup(char **p)
{
        if (*p) {
                (void)rm_rf(*p);
                free(*p);
                *p = NULL;
        }
}

/* A ref name only applies to layouts: a ref given for both sides is dropped for a tar or a
 * directory, so `--ref prod layout out.tar` works. */
static const char *ref_for(const char *path, const char *ref, bool explicit_side)
{
        if (!ref || explicit_side)
                return ref;
        /* Out of memory (< 0): keep the ref; image_load then fails with the real error. */
        return ocilayout_detect(path) != 0 ? ref : NULL;
}

int cmd_diff(int argc, char **argv)
{
        enum { OPT_REF = 256, OPT_REF_A, OPT_REF_B, OPT_FORMAT };
        static const struct option options[] = {
                { "ref", required_argument, NULL, OPT_REF },
                { "ref-a", required_argument, NULL, OPT_REF_A },
                { "ref-b", required_argument, NULL, OPT_REF_B },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *ref = NULL, *ref_a = NULL, *ref_b = NULL;
        enum treediff_format format = TREEDIFF_FORMAT_TEXT;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_REF:
                        ref = optarg;
                        break;
                case OPT_REF_A:
                        ref_a = optarg;
                        break;
                case OPT_REF_B:
                        ref_b = optarg;
                        break;
                case OPT_FORMAT:
                        if (treediff_format_from_string(optarg, &format) < 0)
                                return cmd_usage_error("diff", "--format %s: use text or json",
                                                       optarg);
                        break;
                case 'h':
                        diff_help(stdout);
                        return CAIRN_EXIT_OK;
                default:
                        return cmd_usage_error("diff", "unknown option");
                }
        }
        if (optind != argc - 2)
                return cmd_usage_error("diff", "expected two images A and B");
        const char *a = argv[optind], *b = argv[optind + 1];

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        const char *tmp = getenv("TMPDIR");
        _cleanup_(tmpdir_cleanup) char *work = NULL;
        if (asprintf(&work, "%s/cairn-diff-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                return CAIRN_EXIT_IO;
        if (!mkdtemp(work)) {
                cairn_error_errno(&err, -errno, "%s: cannot create a work directory: %m", work);
                return cmd_fail(&err);
        }
        _cleanup_free_ char *objects = NULL;
        _cleanup_store_ struct store *store = NULL;
        _cleanup_tree_ struct tree *ta = NULL, *tb = NULL;
        if (asprintf(&objects, "%s/objects", work) < 0)
                return CAIRN_EXIT_IO;
        /* One store for both sides: equal contents are stored once. */
        enum image_kind ka = IMAGE_DIRECTORY, kb = IMAGE_DIRECTORY;
        const char *ra = ref_for(a, ref_a ? ref_a : ref, ref_a),
                   *rb = ref_for(b, ref_b ? ref_b : ref, ref_b);
        int r = store_open(objects, &store, &err);
        if (r >= 0)
                r = image_load(a, ra, store, &ta, &ka, &err);
        if (r >= 0)
                r = image_load(b, rb, store, &tb, &kb, &err);
        if (r < 0)
                return cmd_fail(&err);

        _cleanup_treediff_ struct treediff *d = NULL;
        r = treediff_compare(ta, tb, &d);
        if (r < 0) {
                cairn_error_errno(&err, r, "comparing %s and %s: %s", a, b, strerror(-r));
                return cmd_fail(&err);
        }
        _cleanup_free_ char *out = NULL;
        r = treediff_format(d, store, store, format, a, b, 0, &out, &err);
        if (r < 0)
                return cmd_fail(&err);
        fputs(out, stdout);
        /* Text: why they differ (explain.h), with layer and metadata lines when both are OCI
         * layouts; not the count of differing files, which the lines above give. The exit
         * status stays the files' (1 only when a file differs). */
        if (format == TREEDIFF_FORMAT_TEXT) {
                const struct explain_side sa = { .label = a,
                                                 .layout = ka == IMAGE_OCI && kb == IMAGE_OCI
                                                                   ? a
                                                                   : NULL,
                                                 .ref = ra,
                                                 .tree = ta },
                                          sb = { .label = b,
                                                 .layout = ka == IMAGE_OCI && kb == IMAGE_OCI
                                                                   ? b
                                                                   : NULL,
                                                 .ref = rb,
                                                 .tree = tb };
                _cleanup_strv_free_ char **why = NULL;
                if (explain_differences(&sa, &sb, d, store, &why) < 0)
                        return CAIRN_EXIT_IO;
                for (char **w = why; w && *w; w++)
                        if (!startswith(*w, "content: ") || !strstr(*w, "(listed below)"))
                                printf("why: %s\n", *w);
        }
        if (fflush(stdout) != 0)
                return CAIRN_EXIT_IO;
        /* 1, like diff(1): the images differ. */
        return treediff_identical(d) ? CAIRN_EXIT_OK : 1;
}
