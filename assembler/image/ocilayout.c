/* SPDX-License-Identifier: Apache-2.0 */
#include "ocilayout.h"

#include <fcntl.h>

#include "oci.h"
#include "recipe/yamlnode.h"

#define MAX_INDEX_DEPTH 4

int ocilayout_detect(const char *dir)
{
        _cleanup_free_ char *marker = NULL;
        if (asprintf(&marker, "%s/" OCI_LAYOUT_FILE, dir) < 0)
                return -ENOMEM;
        return access(marker, F_OK) == 0 ? 1 : 0;
}

/* ---- JSON documents ---- */

static const char *scalar(const struct ynode *n)
{
        return n && n->type == YNODE_SCALAR ? n->value : NULL;
}

static size_t seq_len(const struct ynode *n)
{
        return n && n->type == YNODE_SEQUENCE ? n->n_items : 0;
}

static int key_cmp(const void *a, const void *b)
{
        const struct ynode *x = *(const struct ynode *const *)a,
                           *y = *(const struct ynode *const *)b;
        int c = memcmp(x->value, y->value, x->len < y->len ? x->len : y->len);
        if (c == 0 && x->len != y->len)
                c = x->len < y->len ? -1 : 1;
        if (c == 0 && x->pos.line != y->pos.line)
                c = x->pos.line < y->pos.line ? -1 : 1;
        if (c == 0 && x->pos.column != y->pos.column)
                c = x->pos.column < y->pos.column ? -1 : 1;
        return c;
}

static bool pos_before(const struct ynode *a, const struct ynode *b)
{
        return a->pos.line < b->pos.line ||
               (a->pos.line == b->pos.line && a->pos.column < b->pos.column);
}

/*
 * Refuses a key given twice in any object of the document n (JSON leaves duplicates to the
 * reader, and readers disagree on which one counts). Reports the first repetition in the
 * document's order within its object.
 */
static int check_duplicate_keys(const char *path, const struct ynode *n, struct cairn_error *err)
{
        if (n->type == YNODE_SCALAR)
                return 0;
        if (n->type == YNODE_MAPPING && n->n_items >= 4) {
                size_t k = n->n_items / 2;
                _cleanup_free_ const struct ynode **keys = calloc(k, sizeof(*keys));
                if (!keys)
                        return -ENOMEM;
                size_t nk = 0;
                for (size_t i = 0; i + 1 < n->n_items; i += 2)
                        if (n->items[i]->type == YNODE_SCALAR)
                                keys[nk++] = n->items[i];
                qsort(keys, nk, sizeof(*keys), key_cmp);
                const struct ynode *dup = NULL;
                for (size_t i = 1; i < nk; i++)
                        if (keys[i]->len == keys[i - 1]->len &&
                            memcmp(keys[i]->value, keys[i - 1]->value, keys[i]->len) == 0 &&
                            (!dup || pos_before(keys[i], dup)))
                                dup = keys[i];
                if (dup) {
                        _cleanup_free_ char *shown = str_escape(dup->value, 128);
                        if (!shown)
                                return -ENOMEM;
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s:%u:%u: error: duplicate key '%s'", path,
                                               dup->pos.line, dup->pos.column, shown);
                }
        }
        for (size_t i = 0; i < n->n_items; i++) {
                int r = check_duplicate_keys(path, n->items[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Loads the JSON document at path into *ret (owned by the caller). */
static int json_load(const char *path, struct ynode **ret, struct cairn_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_file_bounded(path, OCILAYOUT_MAX_JSON, &buf, &len);
        if (r == -EFBIG)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r, "%s: larger than %d bytes", path,
                                       OCILAYOUT_MAX_JSON);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        /* The loader's own messages speak of recipes and YAML: say what the file is not, and
         * the loader's bounds, which a valid but huge document can exceed. */
        _cleanup_cairn_error_ struct cairn_error lerr = CAIRN_ERROR_INIT;
        _cleanup_ynode_ struct ynode *root = NULL;
        r = ynode_load(path, buf, len, &root, &lerr);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: not valid JSON (or nested deeper than %d levels, or "
                                       "more than %d values)",
                                       path, YNODE_MAX_DEPTH, YNODE_MAX_NODES);
        r = check_duplicate_keys(path, root, err);
        if (r < 0)
                return r;
        *ret = steal_pointer(&root);
        return 0;
}

/* ---- blobs ---- */

/* The blob file of a "sha256:HEX" digest; with check, its content is hashed and compared. */
static int blob_file(const char *layout, const char *digest, bool check, char **ret,
                     struct cairn_error *err)
{
        if (!oci_digest_valid(digest))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: digest '%s' is not sha256:<64 hex digits>", layout,
                                       digest ? digest : "(missing)");
        _cleanup_free_ char *p = NULL;
        int r = oci_blob_path(layout, digest, &p);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", p);
        if (check) {
                char hex[DIGEST_HEX_MAX];
                r = digest_fd_hex(DIGEST_SHA256, fd, hex);
                if (r < 0)
                        return cairn_error_errno(err, r, "%s: %s", p, strerror(-r));
                if (!streq(hex, digest + strlen("sha256:")))
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                               "%s: content does not match its digest "
                                               "(sha256:%s)",
                                               p, hex);
        }
        *ret = steal_pointer(&p);
        return 0;
}

/* ---- picking the image ---- */

/* True for a descriptor that can name an image: an OCI or Docker manifest or index. Other
 * media types in an index "SHOULD be safely ignored" (image-spec, image-layout.md). */
static bool descriptor_is_manifest(const char *type)
{
        /* mediaType is required in a descriptor; tolerate its absence as before. */
        return !type ||
               (streq(type, OCI_MEDIA_TYPE_MANIFEST) || streq(type, OCI_MEDIA_TYPE_INDEX) ||
                streq(type, OCI_MEDIA_TYPE_DOCKER_MANIFEST) ||
                streq(type, OCI_MEDIA_TYPE_DOCKER_MANIFEST_LIST));
}

/*
 * True when the descriptor d of layout's index points at something attached to an image
 * rather than an image: an `artifactType` on the descriptor (image-spec 1.1 referrers, how
 * cairn and oras list an SBOM or signature in index.json), a buildkit attestation
 * (`vnd.docker.reference.type`), or, read from the blob itself when deep is set, a manifest
 * with a `subject` or an `artifactType`. Unreadable blobs count as images so that loading
 * reports the real error.
 */
static bool descriptor_is_referrer(const char *layout, const struct ynode *d, bool deep)
{
        if (ynode_map_get(d, "artifactType") ||
            ynode_map_get(ynode_map_get(d, "annotations"), "vnd.docker.reference.type"))
                return true;
        if (!deep)
                return false;
        _cleanup_free_ char *blob = NULL;
        if (blob_file(layout, scalar(ynode_map_get(d, "digest")), true, &blob, NULL) < 0)
                return false;
        _cleanup_ynode_ struct ynode *m = NULL;
        if (json_load(blob, &m, NULL) < 0)
                return false;
        return ynode_map_get(m, "subject") || ynode_map_get(m, "artifactType");
}

/*
 * Picks the manifest descriptor of an index (the document root, read from where): by ref name,
 * or else the only image. Referrers (SBOMs, signatures: see descriptor_is_referrer) do not
 * count as images, so a layout holding one image and its SBOM still loads without a ref.
 */
static const struct ynode *index_pick(const char *layout, const struct ynode *root, const char *ref,
                                      const char *where, struct cairn_error *err)
{
        const struct ynode *m = ynode_map_get(root, "manifests");
        if (!m || m->type != YNODE_SEQUENCE) {
                cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: no manifests array", where);
                return NULL;
        }
        const struct ynode *found = NULL;
        if (ref) {
                for (size_t i = 0; i < m->n_items && !found; i++) {
                        const struct ynode *d = m->items[i];
                        const char *name = scalar(ynode_map_get(ynode_map_get(d, "annotations"),
                                                                OCI_ANNOTATION_REF_NAME));
                        if (streq_ptr(name, ref))
                                found = d;
                }
                if (!found)
                        cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                        "%s: no image with ref name '%s'", where, ref);
                return found;
        }
        /* Cheap checks on the descriptors first; the blobs are read only when that leaves
         * more than one candidate. */
        size_t images = 0;
        for (int deep = 0; deep <= 1; deep++) {
                images = 0;
                for (size_t i = 0; i < m->n_items; i++) {
                        const struct ynode *d = m->items[i];
                        if (!descriptor_is_manifest(scalar(ynode_map_get(d, "mediaType"))) ||
                            descriptor_is_referrer(layout, d, deep))
                                continue;
                        images++;
                        found = d;
                }
                if (images <= 1)
                        break;
        }
        if (images == 1)
                return found;
        cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                        "%s: holds %zu images; name one by its ref name "
                        "(" OCI_ANNOTATION_REF_NAME ")",
                        where, images);
        return NULL;
}

/*
 * Follows index.json (and nested indexes holding one image) to the image manifest picked by
 * ref (see index_pick). On success *ret_path (owned) is its blob file and ret_digest its
 * digest. With check, every blob on the way is hashed against its digest.
 */
static int resolve_manifest(const char *layout, const char *ref, bool check, char **ret_path,
                            char ret_digest[DIGEST_OCI_LEN], struct cairn_error *err)
{
        _cleanup_free_ char *index = NULL;
        if (asprintf(&index, "%s/" OCI_INDEX_FILE, layout) < 0)
                return -ENOMEM;
        _cleanup_ynode_ struct ynode *idoc = NULL;
        int r = json_load(index, &idoc, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *manifest_path = NULL;
        const char *digest = NULL;
        /* Nested indexes (multi-platform images) are followed when they hold one image. */
        for (unsigned depth = 0;; depth++) {
                const struct ynode *d =
                        index_pick(layout, idoc, depth == 0 ? ref : NULL, index, err);
                if (!d)
                        return -ENOENT;
                const char *type = scalar(ynode_map_get(d, "mediaType"));
                free(manifest_path);
                manifest_path = NULL;
                digest = scalar(ynode_map_get(d, "digest"));
                r = blob_file(layout, digest, check, &manifest_path, err);
                if (r < 0)
                        return r;
                if (!type || !strstr(type, "index"))
                        break;
                if (depth >= MAX_INDEX_DEPTH)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ELOOP,
                                               "%s: indexes nested deeper than %d", layout,
                                               MAX_INDEX_DEPTH);
                ynode_free(steal_pointer(&idoc));
                r = json_load(manifest_path, &idoc, err);
                if (r < 0)
                        return r;
                free(index);
                index = strdup(manifest_path);
                if (!index)
                        return -ENOMEM;
        }
        /* blob_file checked the digest's form. */
        snprintf(ret_digest, DIGEST_OCI_LEN, "%s", digest);
        *ret_path = steal_pointer(&manifest_path);
        return 0;
}

/* The layers array of the manifest m read from path, at most OCILAYOUT_MAX_LAYERS long. */
static int manifest_layers(const char *path, const struct ynode *m, const struct ynode **ret,
                           struct cairn_error *err)
{
        const struct ynode *layers = ynode_map_get(m, "layers");
        if (!layers || layers->type != YNODE_SEQUENCE)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: manifest without a layers array", path);
        if (layers->n_items > OCILAYOUT_MAX_LAYERS)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG, "%s: more than %d layers",
                                       path, OCILAYOUT_MAX_LAYERS);
        *ret = layers;
        return 0;
}

int ocilayout_foreach_layer(const char *layout, const char *ref, ocilayout_layer_fn fn, void *data,
                            struct cairn_error *err)
{
        _cleanup_free_ char *manifest_path = NULL;
        char manifest_digest[DIGEST_OCI_LEN];
        int r = resolve_manifest(layout, ref, true, &manifest_path, manifest_digest, err);
        if (r < 0)
                return r;
        _cleanup_ynode_ struct ynode *mdoc = NULL;
        r = json_load(manifest_path, &mdoc, err);
        if (r < 0)
                return r;
        const struct ynode *layers;
        r = manifest_layers(manifest_path, mdoc, &layers, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < layers->n_items; i++) {
                _cleanup_free_ char *blob = NULL;
                r = blob_file(layout, scalar(ynode_map_get(layers->items[i], "digest")), true,
                              &blob, err);
                if (r >= 0)
                        r = fn(data, i, blob, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- describing an OCI layout (cairn verify) ---- */

void ocilayout_info_free(struct ocilayout_info *info)
{
        if (!info)
                return;
        for (size_t i = 0; i < info->n_layers; i++)
                free(info->layers[i].media_type);
        free(info->layers);
        free(info->diff_ids);
        free(info);
}

/* Copies a "sha256:HEX" scalar into out; -EINVAL when it is not one. */
static int copy_digest(const char *s, char out[DIGEST_OCI_LEN])
{
        if (!oci_digest_valid(s))
                return -EINVAL;
        memcpy(out, s, DIGEST_OCI_LEN);
        return 0;
}

/* The first descriptor of layout's index.json with artifactType type: its digest, and the
 * digest of its manifest's first layer. Leaves both empty when there is none. */
/* The first artifact of type in index.json whose subject is the image subject (a layout of
 * several images, one per architecture, holds one SBOM for each). */
static int describe_referrer(const char *layout, const char *type, const char *subject,
                             char manifest[DIGEST_OCI_LEN], char blob[DIGEST_OCI_LEN],
                             struct cairn_error *err)
{
        _cleanup_free_ char *index = NULL;
        if (asprintf(&index, "%s/" OCI_INDEX_FILE, layout) < 0)
                return -ENOMEM;
        _cleanup_ynode_ struct ynode *idoc = NULL;
        int r = json_load(index, &idoc, err);
        if (r < 0)
                return r;
        const struct ynode *m = ynode_map_get(idoc, "manifests");
        for (size_t i = 0; i < seq_len(m); i++) {
                const struct ynode *d = m->items[i];
                if (!streq_ptr(scalar(ynode_map_get(d, "artifactType")), type))
                        continue;
                const char *digest = scalar(ynode_map_get(d, "digest"));
                _cleanup_free_ char *path = NULL;
                r = blob_file(layout, digest, false, &path, err);
                if (r < 0)
                        return r;
                _cleanup_ynode_ struct ynode *mdoc = NULL;
                r = json_load(path, &mdoc, err);
                if (r < 0)
                        return r;
                const char *of = scalar(ynode_map_get(ynode_map_get(mdoc, "subject"), "digest"));
                if (of && !streq(of, subject))
                        continue;
                const struct ynode *layers = ynode_map_get(mdoc, "layers");
                const struct ynode *first = seq_len(layers) ? layers->items[0] : NULL;
                if (copy_digest(scalar(ynode_map_get(first, "digest")), blob) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: artifact manifest without a layer", path);
                memcpy(manifest, digest, DIGEST_OCI_LEN);
                return 0;
        }
        return 0;
}

int ocilayout_describe(const char *layout, const char *ref, struct ocilayout_info **ret,
                       struct cairn_error *err)
{
        _cleanup_(ocilayout_info_freep) struct ocilayout_info *info = calloc(1, sizeof(*info));
        if (!info)
                return -ENOMEM;
        _cleanup_free_ char *manifest_path = NULL;
        int r = resolve_manifest(layout, ref, false, &manifest_path, info->manifest, err);
        if (r < 0)
                return r;
        _cleanup_ynode_ struct ynode *mdoc = NULL;
        r = json_load(manifest_path, &mdoc, err);
        if (r < 0)
                return r;
        if (copy_digest(scalar(ynode_map_get(ynode_map_get(mdoc, "config"), "digest")),
                        info->config) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: manifest without a config digest", manifest_path);
        const struct ynode *layers;
        r = manifest_layers(manifest_path, mdoc, &layers, err);
        if (r < 0)
                return r;
        size_t n = layers->n_items;
        info->layers = calloc(n ? n : 1, sizeof(*info->layers));
        if (!info->layers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct ynode *l = layers->items[i];
                const char *type = scalar(ynode_map_get(l, "mediaType"));
                struct ocilayout_layer *il = &info->layers[i];
                if (copy_digest(scalar(ynode_map_get(l, "digest")), il->digest) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: layer %zu without a sha256 digest",
                                               manifest_path, i + 1);
                il->media_type = strdup(type ? type : "");
                if (!il->media_type)
                        return -ENOMEM;
                info->n_layers++;
        }

        _cleanup_free_ char *config_path = NULL;
        r = blob_file(layout, info->config, false, &config_path, err);
        if (r < 0)
                return r;
        _cleanup_ynode_ struct ynode *cdoc = NULL;
        r = json_load(config_path, &cdoc, err);
        if (r < 0)
                return r;
        const struct ynode *ids = ynode_map_get(ynode_map_get(cdoc, "rootfs"), "diff_ids");
        if (!ids || ids->type != YNODE_SEQUENCE)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: config without rootfs.diff_ids", config_path);
        n = ids->n_items;
        if (n > OCILAYOUT_MAX_LAYERS)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG, "%s: more than %d diff_ids",
                                       config_path, OCILAYOUT_MAX_LAYERS);
        info->diff_ids = calloc(n ? n : 1, sizeof(*info->diff_ids));
        if (!info->diff_ids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (copy_digest(scalar(ids->items[i]), info->diff_ids[i]) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: diff_id %zu is not sha256:<64 hex digits>",
                                               config_path, i + 1);
                info->n_diff_ids++;
        }

        r = describe_referrer(layout, OCI_MEDIA_TYPE_SPDX, info->manifest, info->sbom_manifest,
                              info->sbom, err);
        if (r < 0)
                return r;
        *ret = steal_pointer(&info);
        return 0;
}
