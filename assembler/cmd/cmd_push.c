/* SPDX-License-Identifier: Apache-2.0 */
/* cairn push OUT|OUT/NAME-V REF [--variant V]... [registry options] */
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>

#include "cmd.h"
#include "image/ocilayout.h"
#include "registry/client.h"
#include "registry/push.h"
#include "registry/ref.h"

#define MAX_VARIANTS   64
#define MAX_MOUNT_FROM 16

static void push_help(FILE *f)
{
        fprintf(f,
                "Usage: cairn push OUT|OUT/NAME-V HOST[:PORT]/REPO[:TAG] [OPTIONS]\n\n"
                "Push the images cairn build wrote to a registry with their digests unchanged:\n"
                "every OCI layout under OUT (or the layout OUT/NAME-V), each image to REPO:TAG,\n"
                "the tag defaulting to the variant's name, with its blobs, its manifests exactly\n"
                "as the layout holds them and its SBOM referrer, listed through the registry's\n"
                "referrers API or else the sha256-HEX fallback tag. What the registry already\n"
                "has is not sent again; the tag is pushed last.\n\n"
                "Options:\n"
                "      --variant V        push only variant V (repeatable)\n"
                "      --mount-from REPO  mount blobs the registry has in REPO instead of\n"
                "                         uploading them (repeatable)\n"
                "      --chunk-size N     upload blobs larger than N bytes in chunks of N\n"
                "                         (default %u MiB)\n" CMD_REGISTRY_HELP
                "  -q, --quiet            no progress output\n"
                "  -h, --help             show this help\n\n"
                "Credentials: --username with --password-stdin, else the docker config\n"
                "($DOCKER_CONFIG/config.json or ~/.docker/config.json, \"auths\").\n"
                "Exit status: 0 pushed, 2 usage error or unusable layout, 3 registry or network\n"
                "failure (refused credentials, a digest the registry answers differently), 4 I/O\n"
                "error.\n",
                REGISTRY_CHUNK_DEFAULT >> 20);
}

struct progress {
        bool quiet, tty;
        long kill_after; /* CAIRN_PUSH_TEST_KILL_AFTER; 0: never */
        long acked;
        uint64_t last_drawn;
};

static void short_digest(const char *d, char out[24])
{
        snprintf(out, 24, "%.19s", d ? d : "?");
}

static void on_event(void *data, const struct registry_event *e)
{
        struct progress *p = data;
        /* The test hook: dies like a killed push, right after the registry acknowledged the
         * N-th upload request (a chunk or a whole blob). */
        if ((e->kind == REGISTRY_BLOB_PUSHED ||
             (e->kind == REGISTRY_BLOB_PROGRESS && e->acked && e->done < e->size)) &&
            p->kill_after > 0 && ++p->acked == p->kill_after)
                raise(SIGKILL);
        if (p->quiet)
                return;
        char d[24];
        short_digest(e->digest, d);
        if (p->tty && e->kind == REGISTRY_BLOB_PROGRESS) {
                if (e->done < p->last_drawn || e->done - p->last_drawn >= (256u << 10)) {
                        p->last_drawn = e->done;
                        fprintf(stderr, "\r\033[Kpushing %s…  %.1f / %.1f MiB", d,
                                (double)e->done / 1048576.0, (double)e->size / 1048576.0);
                        fflush(stderr);
                }
                return;
        }
        if (e->kind == REGISTRY_BLOB_PROGRESS)
                return;
        if (p->tty)
                fputs("\r\033[K", stderr);
        p->last_drawn = 0;
        switch (e->kind) {
        case REGISTRY_BLOB_EXISTS:
                fprintf(stderr, "blob %s  %llu bytes  already there\n", e->digest,
                        (unsigned long long)e->size);
                break;
        case REGISTRY_BLOB_MOUNTED:
                fprintf(stderr, "blob %s  mounted from %s\n", e->digest, e->detail);
                break;
        case REGISTRY_BLOB_PUSHED:
                fprintf(stderr, "blob %s  %llu bytes  pushed\n", e->digest,
                        (unsigned long long)e->size);
                break;
        case REGISTRY_MANIFEST_EXISTS:
        case REGISTRY_MANIFEST_PUSHED:
                fprintf(stderr, "manifest %s  %s\n", e->digest,
                        e->kind == REGISTRY_MANIFEST_PUSHED ? "pushed" : "already there");
                break;
        case REGISTRY_REFERRERS_API:
                fprintf(stderr, "referrers of %s  listed by the registry's referrers API\n", d);
                break;
        case REGISTRY_REFERRERS_LISTED:
        case REGISTRY_REFERRERS_PUSHED:
                fprintf(stderr, "referrers of %s  %s fallback tag %s\n", d,
                        e->kind == REGISTRY_REFERRERS_PUSHED ? "pushed" : "already in", e->detail);
                break;
        case REGISTRY_TAG_UNCHANGED:
        case REGISTRY_TAG_PUSHED:
                fprintf(stderr, "tag %s  %s %s\n", e->detail,
                        e->kind == REGISTRY_TAG_PUSHED ? "->" : "already", e->digest);
                break;
        case REGISTRY_BLOB_PROGRESS:
                break;
        }
}

/* One image to push: which layout, which of its images, under which tag. */
struct target {
        char *layout;   /* owned */
        char *ref_name; /* owned; NULL: the only image */
        char *tag;      /* owned */
};

static void targets_free(struct target *t, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(t[i].layout);
                free(t[i].ref_name);
                free(t[i].tag);
        }
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The OCI layouts of src: src itself, or the ones directly under it (sorted). */
static int find_layouts(const char *src, char ***ret, struct cairn_error *err)
{
        _cleanup_strv_free_ char **v = calloc(2, sizeof(char *));
        if (!v)
                return -ENOMEM;
        int k = ocilayout_detect(src);
        if (k < 0)
                return k;
        if (k > 0) {
                v[0] = strdup(src);
                if (!v[0])
                        return -ENOMEM;
                *ret = steal_pointer(&v);
                return 0;
        }
        DIR *d = opendir(src);
        if (!d)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -errno,
                                       "%s: %m (want OUT of cairn build or one of its layouts)",
                                       src);
        size_t n = 0, cap = 2;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", src, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                struct stat st;
                if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode) || ocilayout_detect(p) <= 0)
                        continue;
                if (GROW(v, cap, n + 2) < 0) {
                        r = -ENOMEM;
                        break;
                }
                v[n++] = steal_pointer(&p);
                v[n] = NULL;
        }
        closedir(d);
        if (r < 0)
                return r;
        qsort(v, n, sizeof(char *), name_cmp);
        *ret = steal_pointer(&v);
        return 0;
}

int cmd_push(int argc, char **argv)
{
        enum { OPT_VARIANT = CMD_OPT_OWN, OPT_MOUNT_FROM, OPT_CHUNK_SIZE };
        static const struct option options[] = {
                { "variant", required_argument, NULL, OPT_VARIANT },
                { "mount-from", required_argument, NULL, OPT_MOUNT_FROM },
                { "chunk-size", required_argument, NULL, OPT_CHUNK_SIZE },
                CMD_REGISTRY_OPTIONS,
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(cmd_registry_clear) struct cmd_registry reg = { 0 };
        const char *variants[MAX_VARIANTS + 1] = { 0 };
        const char *mount_from[MAX_MOUNT_FROM + 1] = { 0 };
        size_t n_variants = 0, n_mount = 0;
        struct progress prog = { 0 };
        struct registry_push_options po = { .mount_from = mount_from };
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "qh", options, NULL)) >= 0) {
                int k = cmd_registry_option("push", c, optarg, &reg);
                if (k < 0)
                        return CAIRN_EXIT_USAGE;
                if (k > 0)
                        continue;
                switch (c) {
                case OPT_VARIANT:
                        if (n_variants == MAX_VARIANTS)
                                return cmd_usage_error("push", "at most %d --variant",
                                                       MAX_VARIANTS);
                        variants[n_variants++] = optarg;
                        break;
                case OPT_MOUNT_FROM: {
                        _cleanup_(registry_ref_freep) struct registry_ref *check = NULL;
                        _cleanup_free_ char *probe = NULL;
                        if (asprintf(&probe, "localhost/%s", optarg) < 0)
                                return CAIRN_EXIT_IO;
                        if (registry_ref_parse(probe, &check, NULL) < 0 || check->tag ||
                            check->digest)
                                return cmd_usage_error("push",
                                                       "--mount-from %s: not a repository name "
                                                       "(REPO, on the same registry)",
                                                       optarg);
                        if (n_mount == MAX_MOUNT_FROM)
                                return cmd_usage_error("push", "at most %d --mount-from",
                                                       MAX_MOUNT_FROM);
                        mount_from[n_mount++] = optarg;
                        break;
                }
                case OPT_CHUNK_SIZE: {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(optarg, &end, 10);
                        if (errno || *end || end == optarg || optarg[0] == '-' || v < 1024)
                                return cmd_usage_error("push",
                                                       "--chunk-size %s: not a number of bytes "
                                                       "(at least 1024)",
                                                       optarg);
                        po.chunk_size = v;
                        break;
                }
                case 'q':
                        prog.quiet = true;
                        break;
                case 'h':
                        push_help(stdout);
                        return CAIRN_EXIT_OK;
                default:
                        return cmd_usage_error("push", "unknown option");
                }
        }
        if (optind != argc - 2)
                return cmd_usage_error("push", "expected OUT (or OUT/NAME-V) and "
                                               "HOST[:PORT]/REPO[:TAG]");
        const char *src = argv[optind], *refarg = argv[optind + 1];
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_(registry_ref_freep) struct registry_ref *ref = NULL;
        int r = registry_ref_parse(refarg, &ref, &err);
        if (r < 0)
                return cmd_fail(&err);
        if (ref->digest)
                return cmd_usage_error("push",
                                       "%s: push to a tag, not a digest (the digest is "
                                       "the layout's)",
                                       refarg);

        /* What to push: every image of every layout, filtered by --variant. */
        _cleanup_strv_free_ char **layouts = NULL;
        r = find_layouts(src, &layouts, &err);
        if (r < 0)
                return cmd_fail(&err);
        struct target targets[MAX_VARIANTS];
        size_t n_targets = 0;
        bool variant_seen[MAX_VARIANTS] = { 0 };
        int rc = CAIRN_EXIT_OK;
        for (size_t i = 0; layouts[i] && rc == CAIRN_EXIT_OK; i++) {
                _cleanup_strv_free_ char **images = NULL;
                r = registry_layout_images(layouts[i], &images, &err);
                if (r < 0) {
                        rc = cmd_fail(&err);
                        break;
                }
                size_t n_images = strv_length(images);
                for (size_t k = 0; images[k]; k++) {
                        bool wanted = n_variants == 0;
                        for (size_t v = 0; v < n_variants; v++)
                                if (streq(variants[v], images[k]))
                                        wanted = variant_seen[v] = true;
                        if (!wanted)
                                continue;
                        const char *tag = ref->tag ? ref->tag : images[k];
                        if (!registry_tag_valid(tag)) {
                                rc = cmd_usage_error("push",
                                                     "%s: its image has no ref name usable as a "
                                                     "tag ('%s'); give REF:TAG",
                                                     layouts[i], images[k]);
                                break;
                        }
                        if (n_targets == MAX_VARIANTS) {
                                rc = cmd_usage_error("push", "more than %d images", MAX_VARIANTS);
                                break;
                        }
                        targets[n_targets++] = (struct target){
                                strdup(layouts[i]),
                                n_images == 1 && !images[k][0] ? NULL : strdup(images[k]),
                                strdup(tag),
                        };
                }
        }
        if (rc != CAIRN_EXIT_OK) {
                targets_free(targets, n_targets);
                return rc;
        }
        for (size_t v = 0; v < n_variants; v++)
                if (!variant_seen[v]) {
                        targets_free(targets, n_targets);
                        return cmd_usage_error("push", "%s holds no image of variant '%s'", src,
                                               variants[v]);
                }
        if (n_targets == 0) {
                targets_free(targets, n_targets);
                return cmd_usage_error("push", "%s holds no OCI layout with an image", src);
        }
        for (size_t i = 0; i < n_targets; i++) {
                if (!targets[i].layout || !targets[i].tag) {
                        targets_free(targets, n_targets);
                        return CAIRN_EXIT_IO;
                }
                for (size_t k = 0; k < i; k++)
                        if (streq(targets[i].tag, targets[k].tag)) {
                                cmd_usage_error("push",
                                                "%s and %s would both be pushed as tag '%s'; "
                                                "name one with --variant%s",
                                                targets[k].layout, targets[i].layout,
                                                targets[i].tag,
                                                ref->tag ? " or leave the tag out of REF" : "");
                                targets_free(targets, n_targets);
                                return CAIRN_EXIT_USAGE;
                        }
        }

        const char *kill_after = getenv("CAIRN_PUSH_TEST_KILL_AFTER");
        prog.kill_after = kill_after ? strtol(kill_after, NULL, 10) : 0;
        prog.tty = !prog.quiet && isatty(STDERR_FILENO);
        po.progress = on_event;
        po.data = &prog;

        _cleanup_(registry_client_freep) struct registry_client *client = NULL;
        r = cmd_registry_connect("push", &reg, ref->host, &client, &err);
        if (r == -EINVAL && !cairn_error_isset(&err)) {
                targets_free(targets, n_targets);
                return CAIRN_EXIT_USAGE;
        }
        for (size_t i = 0; r >= 0 && i < n_targets; i++) {
                struct registry_push_result res;
                r = registry_push_image(client, ref->repo, targets[i].layout, targets[i].ref_name,
                                        targets[i].tag, &po, &res, &err);
                if (r < 0) {
                        cairn_error_wrap(&err, r, "pushing %s to %s/%s:%s", targets[i].layout,
                                         ref->host, ref->repo, targets[i].tag);
                        break;
                }
                printf("pushed %s/%s:%s %s  (%zu blob%s uploaded, %zu already there, %zu "
                       "mounted",
                       ref->host, ref->repo, targets[i].tag, res.digest, res.blobs_uploaded,
                       res.blobs_uploaded == 1 ? "" : "s", res.blobs_existing, res.blobs_mounted);
                if (res.referrers)
                        printf("; %zu referrer%s, %s%s", res.referrers,
                               res.referrers == 1 ? "" : "s",
                               res.referrers_api ? "referrers API" : "fallback tag ",
                               res.referrers_api ? "" : res.referrers_tag);
                printf(")\n");
        }
        targets_free(targets, n_targets);
        if (r < 0)
                return cmd_fail(&err);
        return fflush(stdout) == 0 ? CAIRN_EXIT_OK : CAIRN_EXIT_IO;
}
