/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn diff A B [--ref NAME] [--ref-a NAME] [--ref-b NAME] [--arch ARCH]... [--format text|json]
 *
 * A multi-architecture image (an OCI image index of several platforms) is compared once per
 * architecture: those --arch names, else every architecture both sides hold (a side holding
 * none cairn knows, a tar or a directory, holds them all). Each comparison is a section; an
 * architecture only one side holds is a difference.
 */
#include <getopt.h>

#include "cmd.h"
#include "image/explain.h"
#include "image/image.h"
#include "image/ocilayout.h"
#include "tree/treediff.h"

#define DIFF_MAX_ARCHS 32

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
                   "      --arch ARCH    compare the images for Debian architecture ARCH of a\n"
                   "                     multi-architecture image (repeatable, or a comma list;\n"
                   "                     default: every architecture both hold, one section\n"
                   "                     each)\n"
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

/*
 * Compares a and b (their images for arch; NULL: their only ones) into *ret (owned): the
 * entries and, in text, the why: lines. *ret_identical says whether the files are the same.
 * In JSON with arch, the document gets an "arch" key after its schema.
 */
static int diff_one(const char *a, const char *b, const char *ra, const char *rb, const char *arch,
                    struct store *store, enum treediff_format format, char **ret,
                    bool *ret_identical, struct cairn_error *err)
{
        _cleanup_tree_ struct tree *ta = NULL, *tb = NULL;
        enum image_kind ka = IMAGE_DIRECTORY, kb = IMAGE_DIRECTORY;
        int r = image_load(a, ra, arch, store, &ta, &ka, err);
        if (r >= 0)
                r = image_load(b, rb, arch, store, &tb, &kb, err);
        if (r < 0)
                return r;
        _cleanup_treediff_ struct treediff *d = NULL;
        r = treediff_compare(ta, tb, &d);
        if (r < 0)
                return cairn_error_errno(err, r, "comparing %s and %s: %s", a, b, strerror(-r));
        _cleanup_free_ char *text = NULL;
        r = treediff_format(d, store, store, format, a, b, 0, &text, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        static const char schema[] = "{\"schema\":\"cairn-diff/1\",";
        if (format == TREEDIFF_FORMAT_JSON && arch && startswith(text, schema)) {
                _cleanup_free_ char *shown = str_escape(arch, 64);
                fprintf(f, "%s\"arch\":\"%s\",%s", schema, shown ? shown : "?",
                        text + strlen(schema));
        } else
                fputs(text, f);
        /* Text: why they differ (explain.h), with layer and metadata lines when both are OCI
         * layouts; not the count of differing files, which the lines above give. The exit
         * status stays the files' (1 only when a file differs). */
        if (format == TREEDIFF_FORMAT_TEXT) {
                bool layouts = ka == IMAGE_OCI && kb == IMAGE_OCI;
                const struct explain_side sa = { .label = a,
                                                 .layout = layouts ? a : NULL,
                                                 .ref = ra,
                                                 .arch = arch,
                                                 .tree = ta },
                                          sb = { .label = b,
                                                 .layout = layouts ? b : NULL,
                                                 .ref = rb,
                                                 .arch = arch,
                                                 .tree = tb };
                _cleanup_strv_free_ char **why = NULL;
                r = explain_differences(&sa, &sb, d, store, &why);
                if (r < 0)
                        return r;
                for (char **w = why; w && *w; w++)
                        if (!startswith(*w, "content: ") || !strstr(*w, "(listed below)"))
                                fprintf(f, "why: %s\n", *w);
        }
        if (fclose(steal_pointer(&f)) != 0)
                return -ENOMEM;
        *ret_identical = treediff_identical(d);
        *ret = steal_pointer(&out);
        return 0;
}

static bool strv_has(char *const *v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (streq(v[i], s))
                        return true;
        return false;
}

int cmd_diff(int argc, char **argv)
{
        enum { OPT_REF = 256, OPT_REF_A, OPT_REF_B, OPT_ARCH, OPT_FORMAT };
        static const struct option options[] = {
                { "ref", required_argument, NULL, OPT_REF },
                { "ref-a", required_argument, NULL, OPT_REF_A },
                { "ref-b", required_argument, NULL, OPT_REF_B },
                { "arch", required_argument, NULL, OPT_ARCH },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *ref = NULL, *ref_a = NULL, *ref_b = NULL;
        const char *asked[DIFF_MAX_ARCHS];
        size_t n_asked = 0;
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
                case OPT_ARCH: {
                        char *save = NULL;
                        for (char *x = strtok_r(optarg, ",", &save); x;
                             x = strtok_r(NULL, ",", &save)) {
                                /* Names are checked where they are used: picking from an image
                                 * index, the enforcer's CAIRN-ARCH (which knows more than
                                 * OCI's platforms: ppc64, powerpc, mipsel). */
                                bool dup = false;
                                for (size_t i = 0; i < n_asked && !dup; i++)
                                        dup = streq(asked[i], x);
                                if (dup)
                                        continue;
                                if (n_asked >= DIFF_MAX_ARCHS)
                                        return cmd_usage_error("diff", "more than %d --arch",
                                                               DIFF_MAX_ARCHS);
                                asked[n_asked++] = x;
                        }
                        break;
                }
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
        if (asprintf(&objects, "%s/objects", work) < 0)
                return CAIRN_EXIT_IO;
        /* One store for both sides (and every architecture): equal contents are stored once. */
        const char *ra = ref_for(a, ref_a ? ref_a : ref, ref_a),
                   *rb = ref_for(b, ref_b ? ref_b : ref, ref_b);
        int r = store_open(objects, &store, &err);
        if (r < 0)
                return cmd_fail(&err);

        /* The architectures to compare: --arch's, else every one both hold when either holds
         * several; NULL alone: each side's only image, today's single comparison. */
        const char *archs[DIFF_MAX_ARCHS];
        size_t n_archs = 0;
        bool differ = false;
        _cleanup_strv_free_ char **held_a = NULL, **held_b = NULL;
        if (n_asked > 0) {
                memcpy(archs, asked, n_asked * sizeof(*asked));
                n_archs = n_asked;
        } else {
                r = image_archs(a, ra, &held_a, &err);
                if (r >= 0)
                        r = image_archs(b, rb, &held_b, &err);
                if (r < 0)
                        return cmd_fail(&err);
                size_t na = strv_length(held_a), nb = strv_length(held_b);
                if (na > 1 || nb > 1) {
                        /* A side holding no architecture cairn knows (a tar, a directory)
                         * holds them all. */
                        char **first = na ? held_a : held_b, **other = na ? held_b : NULL;
                        for (size_t i = 0; first[i] && n_archs < DIFF_MAX_ARCHS; i++)
                                if (!other || !other[0] || strv_has(other, first[i]))
                                        archs[n_archs++] = first[i];
                        for (size_t side = 0; side < 2 && na && nb; side++) {
                                char **mine = side ? held_b : held_a,
                                     **theirs = side ? held_a : held_b;
                                for (size_t i = 0; mine[i]; i++)
                                        if (!strv_has(theirs, mine[i])) {
                                                fprintf(stderr,
                                                        "diff: %s holds %s, %s does not: not "
                                                        "compared\n",
                                                        side ? b : a, mine[i], side ? a : b);
                                                differ = true;
                                        }
                        }
                        if (n_archs == 0) {
                                cairn_error_add(&err, CAIRN_EXIT_USAGE, -ENOENT,
                                                "%s and %s hold no architecture in common", a, b);
                                return cmd_fail(&err);
                        }
                }
        }
        bool sections = n_archs > 0;
        if (!sections)
                archs[n_archs++] = NULL;

        _cleanup_free_ char *all = NULL;
        size_t size = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&all, &size);
        if (!f)
                return CAIRN_EXIT_IO;
        bool json_many = format == TREEDIFF_FORMAT_JSON && n_archs > 1;
        for (size_t i = 0; i < n_archs; i++) {
                _cleanup_free_ char *out = NULL;
                bool same = true;
                r = diff_one(a, b, ra, rb, archs[i], store, format, &out, &same, &err);
                if (r < 0)
                        return cmd_fail(&err);
                differ |= !same;
                if (format == TREEDIFF_FORMAT_TEXT && sections)
                        fprintf(f, "%sarch %s:\n", i ? "\n" : "", archs[i]);
                if (json_many) {
                        size_t n = strlen(out);
                        fprintf(f, "%s%.*s", i ? ",\n" : "",
                                (int)(n && out[n - 1] == '\n' ? n - 1 : n), out);
                } else
                        fputs(out, f);
        }
        if (fclose(steal_pointer(&f)) != 0)
                return CAIRN_EXIT_IO;
        if (json_many) {
                /* Each report names both sides (their "a" and "b"). */
                printf("{\"schema\":\"cairn-diff-archs/1\",\"identical\":%s,\"reports\":[\n%s]}\n",
                       differ ? "false" : "true", all);
        } else
                fputs(all, stdout);
        if (fflush(stdout) != 0)
                return CAIRN_EXIT_IO;
        /* 1, like diff(1): the images differ. */
        return differ ? 1 : CAIRN_EXIT_OK;
}
