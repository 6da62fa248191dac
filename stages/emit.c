/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Emit: NAME-V.tar (the whole tree, uncompressed) and the OCI layout NAME-V/ for every
 * selected variant. The formats are image/'s: the tar writer (tarwriter.h, DESIGN.md §3), the
 * layer plans (layerplan.h) and the OCI documents (oci.h). This stage decides what goes where:
 *
 * Layers: prod = [base, app] by each entry's layer; another variant V is prod's layers byte
 * for byte plus one layer holding what V adds or changes, with OCI whiteouts (.wh.NAME) for
 * what prod has and V lacks. Without a prod variant, V gets its own [base, app]. A layer
 * already written for another variant is linked, one found in the layer cache is not
 * compressed again.
 *
 * The config carries the recipe's run: (cairn-init in front of the entrypoint when asked), and
 * the SBOM NAME-V.spdx.json is also a blob of the layout, attached to the image by an OCI 1.1
 * artifact manifest whose `subject` is the image manifest; index.json lists both.
 */
#include "emit.h"

#include <fcntl.h>
#include <pthread.h>

#include "base/json.h"
#include "image/compress.h"
#include "image/layercache.h"
#include "image/layerplan.h"
#include "image/oci.h"
#include "image/sbom.h"
#include "image/tarwriter.h"
#include "version.h"

/* cairn's own labels in every config; a recipe may not set them. */
#define LABEL_VARIANT     "dev.cairn.variant"
#define LABEL_READ_ONLY   "dev.cairn.read-only"
#define LABEL_WRITABLE    "dev.cairn.writable"
#define LABEL_REQUIRE_ENV "dev.cairn.require-env"
#define CREATED_MAX       32

/*
 * A layer written during this emit. Every variant's base and app layers come from the same
 * tree (prod's), so they are the same bytes: the second variant links the first one's blob (a
 * copy where links fail) instead of writing it again.
 */
struct written_layer {
        const struct tree *tree; /* borrowed: the tree the layer was cut from */
        enum tree_layer layer;
        struct build_layer_result res;
        char *blob; /* owned: path of the blob file */
};

/* What emit keeps from one variant to the next. */
struct emit_ctx {
        const struct build *b; /* borrowed */
        const char *out_dir;   /* borrowed */
        enum compress_alg alg;
        struct layercache *cache;      /* owned; NULL: none */
        struct written_layer *written; /* owned, n_written */
        size_t n_written, cap_written;
};

static void emit_ctx_clear(struct emit_ctx *c)
{
        for (size_t i = 0; i < c->n_written; i++)
                free(c->written[i].blob);
        free(c->written);
        layercache_free(c->cache);
        *c = (struct emit_ctx){ 0 };
}

static const struct written_layer *written_find(const struct emit_ctx *c, const struct tree *t,
                                                enum tree_layer layer)
{
        for (size_t i = 0; i < c->n_written; i++)
                if (c->written[i].tree == t && c->written[i].layer == layer)
                        return &c->written[i];
        return NULL;
}

static int written_add(struct emit_ctx *c, const struct tree *t, enum tree_layer layer,
                       const char *layout, const struct build_layer_result *res)
{
        _cleanup_free_ char *blob = NULL;
        int r = oci_blob_path(layout, res->digest, &blob);
        if (r < 0)
                return r;
        if (GROW(c->written, c->cap_written, c->n_written + 1) < 0)
                return -ENOMEM;
        c->written[c->n_written++] = (struct written_layer){ t, layer, *res, steal_pointer(&blob) };
        return 0;
}

/* Writes the layer of plan, compressed, into layout (no cache involved). */
static int write_layer_compressed(const struct emit_ctx *c, const char *layout,
                                  const struct tar_plan *p, struct tar_result *ret,
                                  struct cairn_error *err)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r = oci_blob_open(layout, &tmp, &fd, err);
        if (r < 0)
                return r;
        struct tar_result res;
        r = tar_write(p, c->b->store, c->b->epoch, fd, &c->alg, &res, err);
        if (r >= 0)
                r = oci_blob_commit(layout, tmp, res.digest, err);
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        *ret = res;
        return 0;
}

/*
 * Writes the layer of plan into layout as the layer called name. With a layer cache, a layer
 * whose entry is found (by tar_plan_key) is not compressed: its tar is only hashed and, when
 * the diff_id is the entry's, the cached blob is linked in (layercache_get checks its size and
 * sha256). Anything else is compressed as without a cache, then stored in it; failing to
 * store it does not fail the build.
 */
static int write_layer(const struct emit_ctx *c, const char *layout, const struct tar_plan *p,
                       const char *name, struct build_layer_result *ret, struct cairn_error *err)
{
        struct build_layer_result res = { 0 };
        if (strlen(name) >= sizeof(res.name))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENAMETOOLONG,
                                       "layer name '%s' is longer than %zu bytes", name,
                                       sizeof(res.name) - 1);
        memcpy(res.name, name, strlen(name) + 1);
        char key[STORE_KEY_HEX_LEN + 1];
        int r;
        if (c->cache) {
                r = tar_plan_key(p, c->b->epoch, key);
                if (r < 0)
                        return r;
        }
        struct layercache_entry hit;
        if (c->cache && layercache_lookup(c->cache, key, &hit) == 0) {
                struct tar_result t;
                r = tar_write(p, c->b->store, c->b->epoch, -1, NULL, &t, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *path = NULL;
                r = oci_blob_path(layout, hit.digest, &path);
                if (r < 0)
                        return r;
                if (streq(t.diff_id, hit.diff_id) && layercache_get(c->cache, &hit, path) == 0) {
                        memcpy(res.diff_id, t.diff_id, sizeof(t.diff_id));
                        memcpy(res.digest, hit.digest, sizeof(hit.digest));
                        res.size = hit.size;
                        *ret = res;
                        return 0;
                }
        }
        struct tar_result t;
        r = write_layer_compressed(c, layout, p, &t, err);
        if (r < 0)
                return r;
        memcpy(res.diff_id, t.diff_id, sizeof(t.diff_id));
        memcpy(res.digest, t.digest, sizeof(t.digest));
        res.size = t.size;
        if (c->cache) {
                struct layercache_entry entry = { .size = res.size };
                memcpy(entry.diff_id, res.diff_id, sizeof(entry.diff_id));
                memcpy(entry.digest, res.digest, sizeof(entry.digest));
                _cleanup_free_ char *path = NULL;
                r = oci_blob_path(layout, res.digest, &path);
                if (r < 0)
                        return r;
                (void)layercache_put(c->cache, key, &entry, path);
        }
        *ret = res;
        return 0;
}

/* v's base and app layers (prod's when there is a prod), then v's own delta over prod. */
static int emit_layers(struct emit_ctx *c, struct build_variant *v, const char *layout,
                       struct cairn_error *err)
{
        const struct build *b = c->b;
        struct build_variant *prod = NULL;
        for (size_t i = 0; i < b->n_variants; i++)
                if (streq(b->variants[i].name, "prod"))
                        prod = &b->variants[i];
        const struct tree *base_tree = prod ? prod->tree : v->tree;

        struct build_emit_result *e = &v->emit;
        e->n_layers = 0;
        static const struct {
                const char *name;
                enum tree_layer layer;
        } layers[] = { { "base", TREE_LAYER_BASE }, { "app", TREE_LAYER_APP } };
        int r;
        for (size_t i = 0; i < ELEMENTSOF(layers); i++) {
                const struct written_layer *w = written_find(c, base_tree, layers[i].layer);
                if (w) {
                        r = oci_blob_link(layout, w->blob, w->res.digest, err);
                        if (r < 0)
                                return r;
                        e->layers[e->n_layers++] = w->res;
                        continue;
                }
                _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
                r = layerplan_layer(&p, base_tree, layers[i].layer);
                if (r >= 0)
                        r = write_layer(c, layout, &p, layers[i].name, &e->layers[e->n_layers],
                                        err);
                if (r >= 0)
                        r = written_add(c, base_tree, layers[i].layer, layout,
                                        &e->layers[e->n_layers]);
                if (r < 0)
                        return r;
                e->n_layers++;
        }
        if (prod && prod != v) {
                _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
                r = layerplan_delta(&p, prod->tree, v->tree);
                if (r >= 0)
                        r = write_layer(c, layout, &p, v->name, &e->layers[e->n_layers], err);
                if (r < 0)
                        return r;
                e->n_layers++;
        }
        return 0;
}

/* The strings of v joined by sep into *ret (owned). */
static int strv_join(char *const *v, const char *sep, char **ret)
{
        _cleanup_free_ char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; v && v[i]; i++)
                fprintf(f, "%s%s", i ? sep : "", v[i]);
        bool failed = ferror(f);
        if (fclose(f) != 0 || failed)
                return -ENOMEM;
        *ret = steal_pointer(&s);
        return 0;
}

/* The image config of v: its run: settings, cairn's labels and one history entry per layer. */
static int config_render(const struct build *b, const struct build_variant *v, char **ret,
                         size_t *ret_len, struct cairn_error *err)
{
        const struct recipe_run *run = &v->view->run;
        const struct build_emit_result *e = &v->emit;
        static const char *const reserved[] = { LABEL_VARIANT, LABEL_READ_ONLY, LABEL_WRITABLE,
                                                LABEL_REQUIRE_ENV };
        for (size_t i = 0; i < run->n_labels; i++)
                for (size_t k = 0; k < ELEMENTSOF(reserved); k++)
                        if (streq(run->labels[i].key, reserved[k]))
                                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                                       "%s: variant %s: label '%s' is set by "
                                                       "cairn; use another name",
                                                       b->opts.recipe_path, v->name, reserved[k]);
        uint32_t uid, gid;
        int r = recipe_view_run_ids(v->view, &uid, &gid, err);
        if (r < 0)
                return r;
        char user[32];
        snprintf(user, sizeof(user), "%u:%u", uid, gid);

        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *writable = NULL, *require = NULL;
        r = recipe_run_env(run, &env);
        if (r >= 0)
                r = strv_join(run->writable, ",", &writable);
        if (r >= 0)
                r = strv_join(run->require_env, ",", &require);
        if (r < 0)
                return r;
        /* cairn-init runs the entrypoint and applies the run: checks. */
        _cleanup_free_ const char **entrypoint = NULL;
        r = recipe_run_entrypoint(run, true, &entrypoint);
        if (r < 0)
                return r;

        size_t n_labels = run->n_labels + ELEMENTSOF(reserved);
        _cleanup_free_ struct oci_annotation *labels = calloc(n_labels, sizeof(*labels));
        if (!labels)
                return -ENOMEM;
        for (size_t i = 0; i < run->n_labels; i++)
                labels[i] = (struct oci_annotation){ run->labels[i].key, run->labels[i].value };
        labels[run->n_labels + 0] = (struct oci_annotation){ LABEL_VARIANT, v->name };
        labels[run->n_labels + 1] =
                (struct oci_annotation){ LABEL_READ_ONLY, run->read_only > 0 ? "true" : "false" };
        labels[run->n_labels + 2] = (struct oci_annotation){ LABEL_WRITABLE, writable };
        labels[run->n_labels + 3] = (struct oci_annotation){ LABEL_REQUIRE_ENV, require };

        /* The Healthcheck runs cairn-init's probe: the command runtime.json records. */
        const struct runtime_manifest *rt = v->runtime;
        _cleanup_free_ const char **test = NULL;
        struct oci_healthcheck health = { 0 };
        if (rt && rt->health) {
                size_t n = strv_length(rt->health->command);
                test = calloc(n + 2, sizeof(*test));
                if (!test)
                        return -ENOMEM;
                test[0] = "CMD";
                for (size_t i = 0; i < n; i++)
                        test[i + 1] = rt->health->command[i];
                health = (struct oci_healthcheck){
                        .test = test,
                        .interval_ns = rt->health->interval_ns,
                        .timeout_ns = rt->health->timeout_ns,
                        .start_period_ns = rt->health->start_period_ns,
                        .retries = rt->health->retries,
                };
        }
        struct oci_config_layer layers[ELEMENTSOF(e->layers)] = { 0 };
        char *by[ELEMENTSOF(e->layers)] = { 0 }; /* owned */
        for (size_t i = 0; i < e->n_layers; i++) {
                if (asprintf(&by[i], "cairn %s: %s layer of %s", CAIRN_VERSION, e->layers[i].name,
                             b->recipe->name) < 0) {
                        by[i] = NULL;
                        r = -ENOMEM;
                }
                layers[i] = (struct oci_config_layer){ e->layers[i].diff_id, by[i] };
        }
        /* arm64's config keeps no variant (the bytes of every single-architecture arm64
         * image so far); the index entry says v8. */
        struct oci_platform platform;
        if (r >= 0 && oci_platform_from_debian(b->arch, &platform) < 0)
                r = cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                    "%s: architecture '%s' has no OCI name", b->opts.recipe_path,
                                    b->arch);
        const struct oci_config c = {
                .created = b->epoch,
                .architecture = r >= 0 ? platform.architecture : b->arch,
                .variant =
                        r >= 0 && !streq(platform.architecture, "arm64") ? platform.variant : NULL,
                .user = user,
                .env = (const char *const *)env,
                .entrypoint = entrypoint,
                .cmd = (const char *const *)run->cmd,
                .exposed_ports = (const char *const *)run->ports,
                .volumes = (const char *const *)run->volumes,
                .workdir = run->workdir ? run->workdir : "/",
                .labels = labels,
                .n_labels = n_labels,
                .stop_signal = run->stop_signal ? run->stop_signal : "SIGTERM",
                .healthcheck = test ? &health : NULL,
                .layers = layers,
                .n_layers = e->n_layers,
        };
        if (r >= 0)
                r = oci_config_render(&c, ret, ret_len);
        for (size_t i = 0; i < ELEMENTSOF(by); i++)
                free(by[i]);
        return r;
}

/* The image manifest, as a blob of layout; fills e->manifest_digest and manifest_size. */
static int write_manifest(const struct emit_ctx *c, const char *layout, struct build_variant *v,
                          size_t config_size, struct cairn_error *err)
{
        struct build_emit_result *e = &v->emit;
        struct oci_descriptor layers[ELEMENTSOF(e->layers)];
        for (size_t i = 0; i < e->n_layers; i++)
                layers[i] = (struct oci_descriptor){
                        .media_type = oci_layer_media_type(c->alg),
                        .digest = e->layers[i].digest,
                        .size = e->layers[i].size,
                };
        char created[CREATED_MAX];
        json_format_time(c->b->epoch, created);
        /* cairn's three, then the recipe's: top-level annotations: with the variant's
         * run.annotations replacing the same keys, in recipe order. */
        const struct recipe *rc = c->b->recipe;
        const struct recipe_run *run = &v->view->run;
        size_t n = 3;
        _cleanup_free_ struct oci_annotation *annotations =
                calloc(3 + rc->n_annotations + run->n_annotations, sizeof(*annotations));
        if (!annotations)
                return -ENOMEM;
        annotations[0] = (struct oci_annotation){ OCI_ANNOTATION_CREATED, created };
        annotations[1] = (struct oci_annotation){ OCI_ANNOTATION_TITLE, rc->name };
        annotations[2] = (struct oci_annotation){ OCI_ANNOTATION_REF_NAME, v->name };
        for (size_t pass = 0; pass < 2; pass++) {
                const struct recipe_kv *kv = pass ? run->annotations : rc->annotations;
                size_t n_kv = pass ? run->n_annotations : rc->n_annotations;
                for (size_t i = 0; i < n_kv; i++) {
                        size_t k = 0;
                        while (k < n && !streq(annotations[k].key, kv[i].key))
                                k++;
                        if (k < 3)
                                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                                       "%s: variant %s: annotation '%s' is set "
                                                       "by cairn; use another name",
                                                       c->b->opts.recipe_path, v->name, kv[i].key);
                        annotations[k] = (struct oci_annotation){ kv[i].key, kv[i].value };
                        if (k == n)
                                n++;
                }
        }
        const struct oci_manifest m = {
                .config = { .media_type = OCI_MEDIA_TYPE_CONFIG,
                            .digest = e->config_digest,
                            .size = config_size },
                .layers = layers,
                .n_layers = e->n_layers,
                .annotations = annotations,
                .n_annotations = n,
        };
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = oci_manifest_render(&m, &buf, &len);
        if (r >= 0)
                r = oci_blob_write(layout, buf, len, e->manifest_digest, err);
        if (r < 0)
                return r;
        e->manifest_size = len;
        return 0;
}

/* NAME-V/: the layers, the config and the image manifest (index.json comes last). */
static int emit_layout(struct emit_ctx *c, struct build_variant *v, struct cairn_error *err)
{
        const struct build *b = c->b;
        _cleanup_free_ char *layout = NULL;
        if (asprintf(&layout, "%s/%s-%s", c->out_dir, b->recipe->name, v->name) < 0)
                return -ENOMEM;
        int r = oci_layout_create(layout, err);
        if (r >= 0)
                r = emit_layers(c, v, layout, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *config = NULL;
        size_t clen = 0;
        r = config_render(b, v, &config, &clen, err);
        if (r >= 0)
                r = oci_blob_write(layout, config, clen, v->emit.config_digest, err);
        if (r < 0)
                return r;
        return write_manifest(c, layout, v, clen, err);
}

static int emit_rootfs_tar(const struct build *b, struct build_variant *v, const char *out_dir,
                           struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL, *name = NULL;
        if (build_output_name(b, v, &name) < 0 || asprintf(&path, "%s/%s.tar", out_dir, name) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        _cleanup_(tar_plan_clear) struct tar_plan p = { 0 };
        struct tar_result res;
        int r = tar_plan_tree(&p, v->tree);
        if (r >= 0)
                r = tar_write(&p, b->store, b->epoch, fd, NULL, &res, err);
        v->emit.n_entries = p.n;
        /* Not fsynced, like the layout's blobs: an fsync bought no crash consistency for OUT as
         * a whole and cost the disk's time for every byte (1.5-3 s for 512 MiB on the CI
         * machine). close() still reports a deferred write error. */
        if (r >= 0 && close(steal_fd(&fd)) < 0)
                r = cairn_error_errno(err, -errno, "%s: %m", path);
        if (r < 0)
                return r;
        memcpy(v->emit.tar_digest, res.diff_id, sizeof(res.diff_id));
        v->emit.tar_size = res.tar_size;
        return 0;
}

struct rootfs_task {
        const struct build *b;   /* borrowed */
        struct build_variant *v; /* borrowed; the task fills v->emit's tar fields only */
        const char *out_dir;     /* borrowed */
        struct cairn_error err;
        int r;
};

static void *rootfs_task_main(void *data)
{
        struct rootfs_task *t = data;
        t->r = emit_rootfs_tar(t->b, t->v, t->out_dir, &t->err);
        return NULL;
}

/*
 * Has the store compute the SBOM's file digests (it remembers them, so sbom_write only looks
 * them up). Errors are left for sbom_write, which asks again and reports them with context.
 */
static void prefetch_file_digests(const struct build *b, const struct build_variant *v)
{
        const struct tree_entry *e;
        tree_foreach (e, v->tree) {
                if (e->type != TREE_REG)
                        continue;
                char sha1[DIGEST_HEX_MAX], sha256[DIGEST_HEX_MAX];
                (void)store_object_digests(b->store, &e->key, sha1, sha256);
        }
}

/*
 * NAME-V.tar and the layout NAME-V/ read the same store objects and share nothing else, so with
 * more than one thread the tar is written on a thread of its own beside the layout: two streams
 * of reading, hashing and writing on two cores. Each fills its own fields of v->emit, so the
 * outputs are the same either way. The tar's error wins, as when they run one after the other.
 */
static int emit_tar_and_layout(struct emit_ctx *c, struct build_variant *v, struct cairn_error *err)
{
        const struct build *b = c->b;
        struct rootfs_task t = { b, v, c->out_dir, CAIRN_ERROR_INIT, 0 };
        pthread_t thread;
        if (compress_default_threads() < 2 ||
            pthread_create(&thread, NULL, rootfs_task_main, &t) != 0) {
                int r = emit_rootfs_tar(b, v, c->out_dir, err);
                return r < 0 ? r : emit_layout(c, v, err);
        }
        int r = emit_layout(c, v, err);
        /* Hash for the SBOM while the tar's thread finishes. */
        if (r >= 0)
                prefetch_file_digests(b, v);
        pthread_join(thread, NULL);
        if (t.r < 0) {
                cairn_error_clear(err);
                *err = t.err;
                return t.r;
        }
        return r;
}

/*
 * Attaches the SBOM (sbom, len bytes: the content of NAME-V.spdx.json) to the image as an
 * OCI 1.1 artifact: an image manifest with artifactType application/spdx+json, the empty
 * config `{}`, the SBOM as its one layer and the image manifest as its `subject`, so
 * registries with the referrers API list it under the image. Fills e->sbom_digest and the
 * artifact manifest's digest and size.
 */
static int write_sbom_referrer(const char *layout, const struct build *b, struct build_variant *v,
                               const char *sbom, size_t len, struct cairn_error *err)
{
        struct build_emit_result *e = &v->emit;
        char empty_digest[DIGEST_OCI_LEN];
        int r = oci_blob_write(layout, OCI_EMPTY_JSON, strlen(OCI_EMPTY_JSON), empty_digest, err);
        if (r >= 0)
                r = oci_blob_write(layout, sbom, len, e->sbom_digest, err);
        if (r < 0)
                return r;
        char created[CREATED_MAX];
        json_format_time(b->epoch, created);
        _cleanup_free_ char *title = NULL, *name = NULL;
        if (build_output_name(b, v, &name) < 0 || asprintf(&title, "%s.spdx.json", name) < 0)
                return -ENOMEM;
        const struct oci_annotation layer_annotations[] = { { OCI_ANNOTATION_TITLE, title } };
        const struct oci_descriptor layer = {
                .media_type = OCI_MEDIA_TYPE_SPDX,
                .digest = e->sbom_digest,
                .size = len,
                .annotations = layer_annotations,
                .n_annotations = ELEMENTSOF(layer_annotations),
        };
        const struct oci_descriptor subject = {
                .media_type = OCI_MEDIA_TYPE_MANIFEST,
                .digest = e->manifest_digest,
                .size = e->manifest_size,
        };
        const struct oci_annotation annotations[] = { { OCI_ANNOTATION_CREATED, created } };
        const struct oci_manifest m = {
                .artifact_type = OCI_MEDIA_TYPE_SPDX,
                .config = { .media_type = OCI_MEDIA_TYPE_EMPTY,
                            .digest = empty_digest,
                            .size = strlen(OCI_EMPTY_JSON) },
                .layers = &layer,
                .n_layers = 1,
                .subject = &subject,
                .annotations = annotations,
                .n_annotations = ELEMENTSOF(annotations),
        };
        _cleanup_free_ char *buf = NULL;
        size_t mlen = 0;
        r = oci_manifest_render(&m, &buf, &mlen);
        if (r >= 0)
                r = oci_blob_write(layout, buf, mlen, e->sbom_manifest_digest, err);
        if (r < 0)
                return r;
        e->sbom_manifest_size = mlen;
        return 0;
}

/* NAME-V.spdx.json, the same bytes as a blob of the layout, and the artifact manifest that
 * attaches them to the image. */
static int emit_sbom(const struct build *b, struct build_variant *v, const char *out_dir,
                     struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL, *layout = NULL, *sbom = NULL, *name = NULL;
        if (build_output_name(b, v, &name) < 0 ||
            asprintf(&path, "%s/%s.spdx.json", out_dir, name) < 0 ||
            asprintf(&layout, "%s/%s-%s", out_dir, b->recipe->name, v->name) < 0)
                return -ENOMEM;
        size_t len = 0;
        int r = sbom_render_buf(b, v, &sbom, &len, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        r = write_all(fd, sbom, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        return write_sbom_referrer(layout, b, v, sbom, len, err);
}

/*
 * index.json: the image under its ref name, then the SBOM's artifact manifest without a ref
 * name and with its artifactType, the way oras stores referrers in a layout (image-spec 1.1
 * defines no referrers index for layouts). Readers that pick an image by ref name (umoci,
 * skopeo oci:DIR:REF) are unaffected; image_load skips descriptors with an artifactType.
 */
static int emit_index(const struct build *b, const struct build_variant *v, const char *out_dir,
                      enum compress_alg alg, struct cairn_error *err)
{
        const struct build_emit_result *e = &v->emit;
        _cleanup_free_ char *layout = NULL;
        if (asprintf(&layout, "%s/%s-%s", out_dir, b->recipe->name, v->name) < 0)
                return -ENOMEM;
        /* zstd layouts name their libzstd (the blobs depend on its version); gzip ones do not,
         * so that the same blobs give the same index.json with any zlib (the bytes have not
         * changed between zlib 1.2.13 and 1.3.1: docs/reproducibility.md). */
        char lib[COMPRESS_FORMAT_ID_MAX];
        compress_library(alg, lib);
        const struct oci_annotation ref[] = { { OCI_ANNOTATION_REF_NAME, v->name },
                                              { OCI_ANNOTATION_CAIRN_COMPRESSOR, lib } };
        const struct oci_descriptor manifests[] = {
                {
                        .media_type = OCI_MEDIA_TYPE_MANIFEST,
                        .digest = e->manifest_digest,
                        .size = e->manifest_size,
                        .annotations = ref,
                        .n_annotations = alg == COMPRESS_ZSTD ? 2 : 1,
                },
                {
                        .media_type = OCI_MEDIA_TYPE_MANIFEST,
                        .artifact_type = OCI_MEDIA_TYPE_SPDX,
                        .digest = e->sbom_manifest_digest,
                        .size = e->sbom_manifest_size,
                },
        };
        _cleanup_free_ char *index = NULL;
        size_t len = 0;
        int r = oci_index_render(manifests, e->sbom_manifest_digest[0] ? 2 : 1, &index, &len);
        if (r < 0)
                return r;
        return oci_layout_finish(layout, index, len, err);
}

int stage_emit(struct build *b, const char *out_dir, struct cairn_error *err)
{
        _cleanup_(emit_ctx_clear) struct emit_ctx c = { .b = b, .out_dir = out_dir };
        if (compress_alg_from_name(b->opts.compression, &c.alg) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "unknown compression '%s'",
                                       b->opts.compression);
        if (!b->opts.no_layer_cache) {
                char format[COMPRESS_FORMAT_ID_MAX];
                compress_format_id(c.alg, format);
                int r = layercache_open(b->cache_dir, format, &c.cache);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_variants; i++) {
                struct build_variant *v = &b->variants[i];
                if (!v->selected)
                        continue;
                int r = emit_tar_and_layout(&c, v, err);
                /* After the tar and the layout: the SBOM names the manifest digest. */
                if (r >= 0)
                        r = emit_sbom(b, v, out_dir, err);
                /* Last: index.json lists the image and the SBOM attached to it (the set
                 * writes it for a multi-architecture build: stage_emit_platforms). */
                if (r >= 0 && !b->opts.multi_arch)
                        r = emit_index(b, v, out_dir, c.alg, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int stage_emit_platforms(struct build *const *builds, size_t n, const char *out_dir,
                         struct cairn_error *err)
{
        const struct build *b0 = builds[0];
        enum compress_alg alg;
        if (compress_alg_from_name(b0->opts.compression, &alg) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "unknown compression '%s'",
                                       b0->opts.compression);
        char lib[COMPRESS_FORMAT_ID_MAX];
        compress_library(alg, lib);
        _cleanup_free_ struct oci_platform *platforms = calloc(n, sizeof(*platforms));
        _cleanup_free_ struct oci_descriptor *images = calloc(n, sizeof(*images));
        /* index.json: the index, each image under V-ARCH, each SBOM referrer. */
        _cleanup_free_ struct oci_descriptor *top = calloc(2 * n + 1, sizeof(*top));
        _cleanup_free_ struct oci_annotation *refs = calloc(2 * n, sizeof(*refs));
        _cleanup_strv_free_ char **names = calloc(n + 1, sizeof(char *));
        if (!platforms || !images || !top || !refs || !names)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++)
                if (oci_platform_from_debian(builds[k]->arch, &platforms[k]) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: architecture '%s' has no OCI name",
                                               b0->opts.recipe_path, builds[k]->arch);
        for (size_t i = 0; i < b0->n_variants; i++) {
                if (!b0->variants[i].selected)
                        continue;
                const char *vname = b0->variants[i].name;
                for (size_t k = 0; k < n; k++) {
                        const struct build_emit_result *e = &builds[k]->variants[i].emit;
                        images[k] = (struct oci_descriptor){
                                .media_type = OCI_MEDIA_TYPE_MANIFEST,
                                .digest = e->manifest_digest,
                                .size = e->manifest_size,
                                .platform = &platforms[k],
                        };
                }
                _cleanup_free_ char *layout = NULL, *index = NULL;
                if (asprintf(&layout, "%s/%s-%s", out_dir, b0->recipe->name, vname) < 0)
                        return -ENOMEM;
                size_t len = 0;
                char digest[DIGEST_OCI_LEN];
                int r = oci_index_render(images, n, &index, &len);
                if (r >= 0)
                        r = oci_blob_write(layout, index, len, digest, err);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < n; k++) {
                        struct build_emit_result *e = &builds[k]->variants[i].emit;
                        memcpy(e->index_digest, digest, sizeof(digest));
                        e->index_size = len;
                }

                const struct oci_annotation index_ref[] = {
                        { OCI_ANNOTATION_REF_NAME, vname },
                        { OCI_ANNOTATION_CAIRN_COMPRESSOR, lib },
                };
                size_t m = 0;
                top[m++] = (struct oci_descriptor){
                        .media_type = OCI_MEDIA_TYPE_INDEX,
                        .digest = digest,
                        .size = len,
                        .annotations = index_ref,
                        .n_annotations = alg == COMPRESS_ZSTD ? 2 : 1,
                };
                /* Each image under its own ref name too: umoci refuses a ref that reaches more
                 * than one manifest, and people unpack one architecture at a time. */
                for (size_t k = 0; k < n; k++) {
                        free(names[k]);
                        if (asprintf(&names[k], "%s-%s", vname, builds[k]->arch) < 0) {
                                names[k] = NULL;
                                return -ENOMEM;
                        }
                        refs[k] = (struct oci_annotation){ OCI_ANNOTATION_REF_NAME, names[k] };
                        top[m] = images[k];
                        top[m].annotations = &refs[k];
                        top[m].n_annotations = 1;
                        m++;
                }
                for (size_t k = 0; k < n; k++) {
                        const struct build_emit_result *e = &builds[k]->variants[i].emit;
                        if (!e->sbom_manifest_digest[0])
                                continue;
                        top[m++] = (struct oci_descriptor){
                                .media_type = OCI_MEDIA_TYPE_MANIFEST,
                                .artifact_type = OCI_MEDIA_TYPE_SPDX,
                                .digest = e->sbom_manifest_digest,
                                .size = e->sbom_manifest_size,
                        };
                }
                _cleanup_free_ char *json = NULL;
                size_t jlen = 0;
                r = oci_index_render(top, m, &json, &jlen);
                if (r >= 0)
                        r = oci_layout_finish(layout, json, jlen, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
