/* SPDX-License-Identifier: Apache-2.0 */
#include "verify.h"

#include <archive.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "base/digest.h"
#include "explain.h"
#include "image.h"
#include "oci.h"
#include "ocilayout.h"
#include "recipe/yamlnode.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)

#define MISSING "missing"

void verify_result_free(struct verify_result *r)
{
        if (!r)
                return;
        free(r->name);
        free(r->items);
        free(r->diff_source);
        treediff_free(r->diff);
        tree_free(r->tree_out);
        tree_free(r->tree_rebuilt);
        free(r->diff_error);
        strv_free(r->why);
        free(r);
}

struct ctx {
        struct verify_result *r;
        size_t cap;
};

/* Records one comparison; keeps it only when the values differ. */
static int compare(struct ctx *c, const char *what, const char *out, const char *rebuilt)
{
        c->r->n_compared++;
        if (streq(out, rebuilt))
                return 0;
        if (GROW(c->r->items, c->cap, c->r->n_items + 1) < 0)
                return -ENOMEM;
        struct verify_item *it = &c->r->items[c->r->n_items++];
        snprintf(it->what, sizeof(it->what), "%s", what);
        snprintf(it->out, sizeof(it->out), "%s", out);
        snprintf(it->rebuilt, sizeof(it->rebuilt), "%s", rebuilt);
        return 0;
}

/* "sha256:HEX" of the file at path, or MISSING when it does not exist. */
static int file_digest(const char *path, char out[VERIFY_VALUE_MAX], struct cairn_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
                snprintf(out, VERIFY_VALUE_MAX, MISSING);
                return 0;
        }
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        char hex[DIGEST_HEX_MAX];
        int r = digest_fd_hex(DIGEST_SHA256, fd, hex);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        snprintf(out, VERIFY_VALUE_MAX, "sha256:%s", hex);
        return 0;
}

/* The digest of a blob's content in OUT, or MISSING. */
static int blob_digest(const char *layout, const char *digest, char out[VERIFY_VALUE_MAX],
                       struct cairn_error *err)
{
        /* ocilayout_describe only returns digests of the form sha256:<64 hex>. */
        _cleanup_free_ char *path = NULL;
        int r = oci_blob_path(layout, digest, &path);
        if (r < 0)
                return r;
        return file_digest(path, out, err);
}

/* "sha256:HEX" of a compressed layer's uncompressed bytes (its diff_id), or why not. */
static void uncompressed_digest(const char *path, char out[VERIFY_VALUE_MAX])
{
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        _cleanup_digest_ struct digest *d = digest_new(DIGEST_SHA256);
        struct archive_entry *ae;
        if (!a || !d || archive_read_support_filter_all(a) != ARCHIVE_OK ||
            archive_read_support_format_raw(a) != ARCHIVE_OK ||
            archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK ||
            archive_read_next_header(a, &ae) != ARCHIVE_OK) {
                snprintf(out, VERIFY_VALUE_MAX, "unreadable (%s)",
                         a ? archive_error_string(a) : "out of memory");
                return;
        }
        const void *buf;
        size_t len;
        la_int64_t off;
        int ar;
        while ((ar = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
                digest_update(d, buf, len);
        if (ar != ARCHIVE_EOF) {
                snprintf(out, VERIFY_VALUE_MAX, "unreadable (%s)", archive_error_string(a));
                return;
        }
        char oci[DIGEST_OCI_LEN];
        digest_final_oci(d, oci);
        snprintf(out, VERIFY_VALUE_MAX, "%s", oci);
}

/*
 * Compares the blob OUT names (claimed) and its actual content with what the rebuild wrote.
 * A blob whose content does not match its own name is reported as such, so a byte changed in
 * place is found even when every JSON file still agrees with the rebuild.
 */
static int compare_blob(struct ctx *c, const char *layout, const char *what, const char *claimed,
                        const char *rebuilt, struct cairn_error *err)
{
        int r = compare(c, what, claimed[0] ? claimed : MISSING, rebuilt);
        if (r < 0 || !claimed[0])
                return r;
        char content[VERIFY_VALUE_MAX];
        r = blob_digest(layout, claimed, content, err);
        if (r < 0)
                return r;
        if (streq(content, claimed))
                return 0;
        _cleanup_free_ char *label = NULL;
        if (asprintf(&label, "%s (content does not match its name)", what) < 0)
                return -ENOMEM;
        return compare(c, label, content, rebuilt);
}

static int compare_layers(struct ctx *c, const struct build_emit_result *e,
                          const struct ocilayout_info *info, const char *layout,
                          struct cairn_error *err)
{
        int r = 0;
        if (info->n_layers != e->n_layers) {
                char a[32], b[32];
                snprintf(a, sizeof(a), "%zu", info->n_layers);
                snprintf(b, sizeof(b), "%zu", e->n_layers);
                r = compare(c, "number of layers", a, b);
        }
        for (size_t i = 0; r >= 0 && i < info->n_layers && i < e->n_layers; i++) {
                const struct build_layer_result *l = &e->layers[i];
                char what[96];
                snprintf(what, sizeof(what), "layer %s blob", l->name);
                r = compare_blob(c, layout, what, info->layers[i].digest, l->digest, err);
                if (r < 0)
                        break;
                snprintf(what, sizeof(what), "layer %s diff_id", l->name);
                r = compare(c, what, i < info->n_diff_ids ? info->diff_ids[i] : MISSING,
                            l->diff_id);
                if (r < 0)
                        break;
                /* OUT's config may claim the rebuilt diff_id while its blob holds other bytes
                 * (altered in place, or compressed by another zlib or zstd version): say
                 * which by decompressing OUT's blob. */
                char content[VERIFY_VALUE_MAX];
                if (i >= info->n_diff_ids || !streq(info->diff_ids[i], l->diff_id))
                        continue;
                r = blob_digest(layout, info->layers[i].digest, content, err);
                if (r < 0 || streq(content, l->digest) || streq(content, MISSING))
                        continue;
                _cleanup_free_ char *path = NULL;
                r = oci_blob_path(layout, info->layers[i].digest, &path);
                if (r < 0)
                        return r;
                uncompressed_digest(path, content);
                snprintf(what, sizeof(what), "layer %s uncompressed tar", l->name);
                r = compare(c, what, content, l->diff_id);
        }
        return r;
}

/* The digests inside NAME-V/. */
static int compare_layout(struct ctx *c, const struct build_variant *v, const char *ref,
                          const char *layout, const char *rebuilt_layout, struct cairn_error *err)
{
        const struct build_emit_result *e = &v->emit;
        _cleanup_free_ char *idx = NULL, *ridx = NULL;
        if (asprintf(&idx, "%s/" OCI_INDEX_FILE, layout) < 0 ||
            asprintf(&ridx, "%s/" OCI_INDEX_FILE, rebuilt_layout) < 0)
                return -ENOMEM;
        char a[VERIFY_VALUE_MAX], b[VERIFY_VALUE_MAX];
        int r = file_digest(idx, a, err);
        if (r >= 0)
                r = file_digest(ridx, b, err);
        if (r >= 0)
                r = compare(c, OCI_INDEX_FILE, a, b);
        if (r < 0 || streq(a, MISSING))
                return r;

        _cleanup_cairn_error_ struct cairn_error derr = CAIRN_ERROR_INIT;
        _cleanup_(ocilayout_info_freep) struct ocilayout_info *info = NULL;
        if (ocilayout_describe(layout, ref, NULL, &info, &derr) < 0) {
                snprintf(a, sizeof(a), "unreadable (%s)",
                         derr.n_messages ? derr.messages[0] : "error");
                return compare(c, "image manifest", a, e->manifest_digest);
        }
        r = compare_blob(c, layout, "image manifest", info->manifest, e->manifest_digest, err);
        if (r >= 0)
                r = compare_blob(c, layout, "image config", info->config, e->config_digest, err);
        if (r >= 0)
                r = compare_layers(c, e, info, layout, err);
        if (r >= 0)
                r = compare_blob(c, layout, "sbom artifact manifest", info->sbom_manifest,
                                 e->sbom_manifest_digest, err);
        if (r >= 0)
                r = compare_blob(c, layout, "sbom blob", info->sbom, e->sbom_digest, err);
        return r;
}

/* Loads OUT's and the rebuild's rootfs (the tar when OUT's differs, else the layout) and
 * compares them file by file. A side that cannot be loaded is recorded, not an error. */
static int compare_files(struct verify_result *res, const char *image_ref, const char *out_tar,
                         const char *rebuilt_tar, bool tar_differs, const char *layout,
                         const char *rebuilt_layout, struct store *store)
{
        const char *a = tar_differs ? out_tar : layout,
                   *b = tar_differs ? rebuilt_tar : rebuilt_layout;
        const char *ref = tar_differs ? NULL : image_ref;
        res->diff_source = strdup(a);
        if (!res->diff_source)
                return -ENOMEM;
        _cleanup_cairn_error_ struct cairn_error lerr = CAIRN_ERROR_INIT;
        int r = image_load(a, ref, NULL, store, &res->tree_out, NULL, &lerr);
        if (r >= 0)
                r = image_load(b, ref, NULL, store, &res->tree_rebuilt, NULL, &lerr);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                res->diff_error = strdup(lerr.n_messages ? lerr.messages[0] : strerror(-r));
                return res->diff_error ? 0 : -ENOMEM;
        }
        return treediff_compare(res->tree_out, res->tree_rebuilt, &res->diff);
}

int verify_variant(const struct build *b, const struct build_variant *v, const char *rebuilt_dir,
                   const char *out_dir, struct store *store, struct verify_result **ret,
                   struct cairn_error *err)
{
        _cleanup_(verify_result_freep) struct verify_result *res = calloc(1, sizeof(*res));
        if (!res)
                return -ENOMEM;
        struct ctx c = { .r = res };
        const struct build_emit_result *e = &v->emit;
        /* A multi-architecture build: NAME-V-ARCH.tar and .spdx.json beside the shared
         * layout NAME-V/, whose image for ARCH is ref-named V-ARCH. */
        _cleanup_free_ char *ref = NULL;
        if (build_output_name(b, v, &res->name) < 0 || build_image_ref(b, v, &ref) < 0)
                return -ENOMEM;
        snprintf(res->manifest, sizeof(res->manifest), "%s", e->manifest_digest);

        _cleanup_free_ char *layout = NULL, *rlayout = NULL, *tar = NULL, *rtar = NULL,
                            *sbom = NULL, *rsbom = NULL;
        if (asprintf(&layout, "%s/%s-%s", out_dir, b->recipe->name, v->name) < 0 ||
            asprintf(&rlayout, "%s/%s-%s", rebuilt_dir, b->recipe->name, v->name) < 0 ||
            asprintf(&tar, "%s/%s.tar", out_dir, res->name) < 0 ||
            asprintf(&rtar, "%s/%s.tar", rebuilt_dir, res->name) < 0 ||
            asprintf(&sbom, "%s/%s.spdx.json", out_dir, res->name) < 0 ||
            asprintf(&rsbom, "%s/%s.spdx.json", rebuilt_dir, res->name) < 0)
                return -ENOMEM;

        int r = compare_layout(&c, v, ref, layout, rlayout, err);
        char value[VERIFY_VALUE_MAX];
        bool tar_differs = false, have_tar = false;
        if (r >= 0)
                r = file_digest(tar, value, err);
        if (r >= 0) {
                size_t before = res->n_items;
                r = compare(&c, "rootfs tar", value, e->tar_digest);
                tar_differs = res->n_items > before;
                have_tar = !streq(value, MISSING);
        }
        if (r >= 0)
                r = file_digest(sbom, value, err);
        if (r >= 0)
                r = compare(&c, "sbom", value, e->sbom_digest);
        if (r >= 0 && res->n_items > 0)
                r = compare_files(res, ref, tar, rtar, tar_differs && have_tar, layout, rlayout,
                                  store);
        if (r >= 0 && res->n_items > 0) {
                /* Why: content, cairn-init, compressor, tar, metadata (explain.h). */
                const struct explain_side a = { .label = "OUT",
                                                .layout = layout,
                                                .ref = ref,
                                                .sbom = sbom,
                                                .tree = res->tree_out },
                                          rb = { .label = "rebuilt",
                                                 .here = true,
                                                 .layout = rlayout,
                                                 .ref = ref,
                                                 .sbom = rsbom,
                                                 .tree = res->tree_rebuilt };
                r = explain_differences(&a, &rb, res->diff_error ? NULL : res->diff, store,
                                        &res->why);
        }
        if (r < 0)
                return r == -ENOMEM ? r : cairn_error_wrap(err, r, "verifying %s", res->name);
        *ret = steal_pointer(&res);
        return 0;
}

bool verify_out_has_variant(const char *out_dir, const char *name, const char *variant)
{
        _cleanup_free_ char *layout = NULL, *tar = NULL;
        if (asprintf(&layout, "%s/%s-%s", out_dir, name, variant) < 0 ||
            asprintf(&tar, "%s/%s-%s.tar", out_dir, name, variant) < 0)
                return false;
        return access(layout, F_OK) == 0 || access(tar, F_OK) == 0;
}

const char *verify_out_compression(const char *out_dir, const char *name, const char *variant,
                                   const char *ref)
{
        _cleanup_free_ char *layout = NULL;
        if (asprintf(&layout, "%s/%s-%s", out_dir, name, variant) < 0)
                return NULL;
        _cleanup_(ocilayout_info_freep) struct ocilayout_info *info = NULL;
        if (ocilayout_describe(layout, ref, NULL, &info, NULL) < 0 || info->n_layers == 0)
                return NULL;
        const char *type = info->layers[0].media_type;
        size_t n = strlen(type);
        if (n > 5 && streq(type + n - 5, "+zstd"))
                return "zstd";
        if (n > 5 && streq(type + n - 5, "+gzip"))
                return "gzip";
        return NULL;
}

/* ---- against a registry ---- */

static const char *node_scalar(const struct ynode *n)
{
        return n && n->type == YNODE_SCALAR ? n->value : NULL;
}

static const char *or_missing(const char *s)
{
        return s ? s : MISSING;
}

int verify_against_manifest(const struct build *b, const struct build_variant *v, const char *where,
                            const char *served, const char *manifest, size_t len,
                            const char *config, size_t config_len, struct verify_result **ret)
{
        _cleanup_(verify_result_freep) struct verify_result *res = calloc(1, sizeof(*res));
        if (!res)
                return -ENOMEM;
        struct ctx c = { .r = res };
        const struct build_emit_result *e = &v->emit;
        if (asprintf(&res->name, "%s-%s", b->recipe->name, v->name) < 0) {
                res->name = NULL;
                return -ENOMEM;
        }
        snprintf(res->manifest, sizeof(res->manifest), "%s", e->manifest_digest);
        int r = compare(&c, "image manifest", served, e->manifest_digest);
        if (r < 0 || verify_reproducible(res)) {
                if (r >= 0)
                        *ret = steal_pointer(&res);
                return r;
        }
        _cleanup_ynode_ struct ynode *m = NULL;
        if (ynode_load(where, manifest, len, &m, NULL) < 0) {
                r = compare(&c, "served manifest", "not JSON", "an image manifest");
                if (r >= 0)
                        *ret = steal_pointer(&res);
                return r == -ENOMEM ? r : 0;
        }
        const char *type = node_scalar(ynode_map_get(m, "mediaType"));
        r = compare(&c, "media type", or_missing(type), OCI_MEDIA_TYPE_MANIFEST);
        if (r >= 0)
                r = compare(&c, "image config",
                            or_missing(node_scalar(
                                    ynode_map_get(ynode_map_get(m, "config"), "digest"))),
                            e->config_digest);
        const struct ynode *layers = ynode_map_get(m, "layers");
        size_t n = layers && layers->type == YNODE_SEQUENCE ? layers->n_items : 0;
        if (r >= 0 && n != e->n_layers) {
                char a[32], bb[32];
                snprintf(a, sizeof(a), "%zu", n);
                snprintf(bb, sizeof(bb), "%zu", e->n_layers);
                r = compare(&c, "number of layers", a, bb);
        }
        for (size_t i = 0; r >= 0 && i < n && i < e->n_layers; i++) {
                char what[96];
                snprintf(what, sizeof(what), "layer %s blob", e->layers[i].name);
                r = compare(&c, what,
                            or_missing(node_scalar(ynode_map_get(layers->items[i], "digest"))),
                            e->layers[i].digest);
        }
        _cleanup_ynode_ struct ynode *cdoc = NULL;
        if (r >= 0 && config && ynode_load(where, config, config_len, &cdoc, NULL) == 0) {
                const struct ynode *ids = ynode_map_get(ynode_map_get(cdoc, "rootfs"), "diff_ids");
                size_t k = ids && ids->type == YNODE_SEQUENCE ? ids->n_items : 0;
                for (size_t i = 0; r >= 0 && i < e->n_layers; i++) {
                        char what[96];
                        snprintf(what, sizeof(what), "layer %s diff_id", e->layers[i].name);
                        r = compare(&c, what,
                                    i < k ? or_missing(node_scalar(ids->items[i])) : MISSING,
                                    e->layers[i].diff_id);
                }
        }
        if (r < 0)
                return r;
        *ret = steal_pointer(&res);
        return 0;
}

void verify_manifest_config(const char *manifest, size_t len, char out[DIGEST_OCI_LEN])
{
        out[0] = '\0';
        _cleanup_ynode_ struct ynode *m = NULL;
        if (ynode_load("manifest", manifest, len, &m, NULL) < 0)
                return;
        const char *d = node_scalar(ynode_map_get(ynode_map_get(m, "config"), "digest"));
        if (oci_digest_valid(d))
                snprintf(out, DIGEST_OCI_LEN, "%s", d);
}

const char *verify_manifest_compression(const char *manifest, size_t len)
{
        _cleanup_ynode_ struct ynode *m = NULL;
        if (ynode_load("manifest", manifest, len, &m, NULL) < 0)
                return NULL;
        const struct ynode *layers = ynode_map_get(m, "layers");
        if (!layers || layers->type != YNODE_SEQUENCE || layers->n_items == 0)
                return NULL;
        const char *type = node_scalar(ynode_map_get(layers->items[0], "mediaType"));
        if (streq_ptr(type, OCI_MEDIA_TYPE_LAYER_ZSTD))
                return "zstd";
        if (streq_ptr(type, OCI_MEDIA_TYPE_LAYER_GZIP))
                return "gzip";
        return NULL;
}
