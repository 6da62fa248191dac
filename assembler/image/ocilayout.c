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

static bool media_type_is_index(const char *type)
{
        return type && (streq(type, OCI_MEDIA_TYPE_INDEX) ||
                        streq(type, OCI_MEDIA_TYPE_DOCKER_MANIFEST_LIST));
}

/* The platform of an index entry, or NULL fields when it has none. */
static void descriptor_platform(const struct ynode *d, const char **os, const char **arch,
                                const char **variant)
{
        const struct ynode *p = ynode_map_get(d, "platform");
        *os = scalar(ynode_map_get(p, "os"));
        *arch = scalar(ynode_map_get(p, "architecture"));
        *variant = scalar(ynode_map_get(p, "variant"));
        if (*variant && !**variant)
                *variant = NULL;
}

static bool descriptor_has_platform(const struct ynode *d)
{
        const char *os, *arch, *variant;
        descriptor_platform(d, &os, &arch, &variant);
        return os && arch;
}

/* The Debian architecture of an index entry's platform (a missing variant is the
 * architecture's default: arm64 v8, arm v7), or NULL when it names none cairn knows. */
static const char *descriptor_debian_arch(const struct ynode *d)
{
        const char *os, *arch, *variant;
        descriptor_platform(d, &os, &arch, &variant);
        if (!streq_ptr(os, "linux") || !arch)
                return NULL;
        return oci_platform_to_debian(arch, variant);
}

/* "linux/amd64, linux/arm64/v8": the platforms of the n candidates, owned by the caller. */
static char *platform_list(const struct ynode *const *c, size_t n)
{
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                const char *os, *arch, *variant;
                descriptor_platform(c[i], &os, &arch, &variant);
                _cleanup_free_ char *a = str_escape(os ? os : "?", 64),
                                    *b = str_escape(arch ? arch : "?", 64),
                                    *v = variant ? str_escape(variant, 64) : NULL;
                fprintf(f, "%s%s/%s%s%s", i ? ", " : "", a ? a : "?", b ? b : "?", v ? "/" : "",
                        v ? v : "");
        }
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

/*
 * The entries of an index (the document root, read from where) that can name an image:
 * manifests and indexes, not referrers (SBOMs, signatures: see descriptor_is_referrer). Cheap
 * checks on the descriptors first; the blobs are read only when that leaves more than one.
 * *ret (owned; the entries borrowed from root) holds *ret_n of them.
 */
static int index_candidates(const char *layout, const struct ynode *root, const char *where,
                            const struct ynode ***ret, size_t *ret_n, struct cairn_error *err)
{
        const struct ynode *m = ynode_map_get(root, "manifests");
        if (!m || m->type != YNODE_SEQUENCE)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: no manifests array",
                                       where);
        if (m->n_items > OCILAYOUT_MAX_MANIFESTS)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG, "%s: more than %d manifests",
                                       where, OCILAYOUT_MAX_MANIFESTS);
        _cleanup_free_ const struct ynode **c = calloc(m->n_items ? m->n_items : 1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        size_t n = 0;
        for (int deep = 0; deep <= 1; deep++) {
                n = 0;
                for (size_t i = 0; i < m->n_items; i++) {
                        const struct ynode *d = m->items[i];
                        if (!descriptor_is_manifest(scalar(ynode_map_get(d, "mediaType"))) ||
                            descriptor_is_referrer(layout, d, deep))
                                continue;
                        c[n++] = d;
                }
                if (n <= 1)
                        break;
        }
        *ret = steal_pointer(&c);
        *ret_n = n;
        return 0;
}

/*
 * When exactly one of the n candidates is an image index and every other one is an entry of
 * that index, the index: cairn's multi-architecture layout lists the index (ref name V) and,
 * for umoci, which refuses a ref reaching two manifests, each architecture's manifest again
 * (ref name V-ARCH). Such a layout holds one image. The index blob is hashed before it is read.
 */
static const struct ynode *covering_index(const char *layout, const struct ynode *const *c,
                                          size_t n)
{
        const struct ynode *idx = NULL;
        for (size_t i = 0; i < n; i++)
                if (media_type_is_index(scalar(ynode_map_get(c[i], "mediaType")))) {
                        if (idx)
                                return NULL;
                        idx = c[i];
                }
        if (!idx)
                return NULL;
        _cleanup_free_ char *blob = NULL;
        if (blob_file(layout, scalar(ynode_map_get(idx, "digest")), true, &blob, NULL) < 0)
                return NULL;
        _cleanup_ynode_ struct ynode *inner = NULL;
        if (json_load(blob, &inner, NULL) < 0)
                return NULL;
        const struct ynode *m = ynode_map_get(inner, "manifests");
        for (size_t i = 0; i < n; i++) {
                if (c[i] == idx)
                        continue;
                const char *digest = scalar(ynode_map_get(c[i], "digest"));
                bool listed = false;
                for (size_t j = 0; j < seq_len(m) && !listed; j++)
                        listed = digest &&
                                 streq_ptr(scalar(ynode_map_get(m->items[j], "digest")), digest);
                if (!listed)
                        return NULL;
        }
        return idx;
}

/*
 * Picks the entry of an index (the document root, read from where): by ref name, or else the
 * only image (a covering index counts as one: see covering_index), or else, when every image
 * names its platform, the one for the Debian architecture arch. NULL arch with several
 * platforms is an error listing them; so is an arch the index lacks. With ret_archs set
 * (ocilayout_archs), several platforms are not an error: *ret_archs gets their Debian names
 * and *ret is NULL. On success *ret is borrowed from root.
 */
static int index_pick(const char *layout, const struct ynode *root, const char *ref,
                      const char *arch, const char *where, const struct ynode **ret,
                      char ***ret_archs, struct cairn_error *err)
{
        if (ref) {
                const struct ynode *m = ynode_map_get(root, "manifests");
                if (!m || m->type != YNODE_SEQUENCE)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: no manifests array", where);
                for (size_t i = 0; i < m->n_items; i++) {
                        const struct ynode *d = m->items[i];
                        const char *name = scalar(ynode_map_get(ynode_map_get(d, "annotations"),
                                                                OCI_ANNOTATION_REF_NAME));
                        if (streq_ptr(name, ref)) {
                                *ret = d;
                                return 0;
                        }
                }
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "%s: no image with ref name '%s'", where, ref);
        }
        _cleanup_free_ const struct ynode **c = NULL;
        size_t n = 0;
        int r = index_candidates(layout, root, where, &c, &n, err);
        if (r < 0)
                return r;
        const struct ynode *found = n == 1 ? c[0] : n > 1 ? covering_index(layout, c, n) : NULL;
        size_t with_platform = 0;
        for (size_t i = 0; i < n; i++)
                with_platform += descriptor_has_platform(c[i]);
        if (found && !(arch && descriptor_has_platform(found))) {
                *ret = found;
                return 0;
        }
        _cleanup_free_ char *list = NULL;
        if (with_platform == n && n > 0) {
                if (ret_archs && !arch) {
                        _cleanup_strv_free_ char **v = calloc(n + 1, sizeof(*v));
                        if (!v)
                                return -ENOMEM;
                        for (size_t i = 0; i < n; i++) {
                                const char *a = descriptor_debian_arch(c[i]);
                                if (!a) {
                                        list = platform_list(&c[i], 1);
                                        return cairn_error_add(
                                                err, CAIRN_EXIT_USAGE, -EINVAL,
                                                "%s: platform %s has no Debian architecture name",
                                                where, list ? list : "?");
                                }
                                v[i] = strdup(a);
                                if (!v[i])
                                        return -ENOMEM;
                        }
                        *ret = NULL;
                        *ret_archs = steal_pointer(&v);
                        return 0;
                }
                for (size_t i = 0; arch && i < n; i++)
                        if (streq_ptr(descriptor_debian_arch(c[i]), arch)) {
                                *ret = c[i];
                                return 0;
                        }
                list = platform_list(c, n);
                if (!list)
                        return -ENOMEM;
                if (!arch)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                               "%s: holds %s; pick one with --arch", where, list);
                struct oci_platform want;
                if (oci_platform_from_debian(arch, &want) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: holds %s; '%s' is no Debian architecture "
                                               "cairn knows",
                                               where, list, arch);
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "%s: holds %s; none for %s (linux/%s%s%s)", where, list,
                                       arch, want.architecture, want.variant ? "/" : "",
                                       want.variant ? want.variant : "");
        }
        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                               "%s: holds %zu images; name one by its ref name "
                               "(" OCI_ANNOTATION_REF_NAME ")",
                               where, n);
}

/* The Debian architecture named by the config of the image manifest at manifest_path (its
 * architecture and variant), into *ret (owned; NULL when it names none cairn knows). */
static int manifest_arch(const char *layout, const char *manifest_path, bool check, char **ret,
                         struct cairn_error *err)
{
        _cleanup_ynode_ struct ynode *mdoc = NULL;
        int r = json_load(manifest_path, &mdoc, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *config_path = NULL;
        r = blob_file(layout, scalar(ynode_map_get(ynode_map_get(mdoc, "config"), "digest")), check,
                      &config_path, err);
        if (r < 0)
                return r;
        _cleanup_ynode_ struct ynode *cdoc = NULL;
        r = json_load(config_path, &cdoc, err);
        if (r < 0)
                return r;
        const char *os = scalar(ynode_map_get(cdoc, "os")),
                   *a = scalar(ynode_map_get(cdoc, "architecture")),
                   *v = scalar(ynode_map_get(cdoc, "variant"));
        const char *deb = streq_ptr(os, "linux") && a ? oci_platform_to_debian(a, v) : NULL;
        char *out = NULL;
        if (deb && !(out = strdup(deb)))
                return -ENOMEM;
        *ret = out;
        return 0;
}

/*
 * Follows index.json (and nested indexes) to the image manifest picked by ref and arch (see
 * index_pick). On success *ret_path (owned) is its blob file and ret_digest its digest. With
 * check, every blob on the way is hashed against its digest. With ret_archs set
 * (ocilayout_archs), the walk stops where it would pick a platform and *ret_archs gets them
 * instead (or, on a single image, its config's architecture; none when it names none); then
 * *ret_path is NULL.
 */
static int resolve_manifest(const char *layout, const char *ref, const char *arch, bool check,
                            char **ret_path, char ret_digest[DIGEST_OCI_LEN], char ***ret_archs,
                            struct cairn_error *err)
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
        for (unsigned depth = 0;; depth++) {
                const struct ynode *d = NULL;
                _cleanup_strv_free_ char **archs = NULL;
                r = index_pick(layout, idoc, depth == 0 ? ref : NULL, arch, index, &d,
                               ret_archs ? &archs : NULL, err);
                if (r < 0)
                        return r;
                if (!d) {
                        *ret_archs = steal_pointer(&archs);
                        *ret_path = NULL;
                        return 0;
                }
                const char *type = scalar(ynode_map_get(d, "mediaType"));
                free(manifest_path);
                manifest_path = NULL;
                digest = scalar(ynode_map_get(d, "digest"));
                r = blob_file(layout, digest, check, &manifest_path, err);
                if (r < 0)
                        return r;
                if (!media_type_is_index(type))
                        break;
                if (depth >= MAX_INDEX_DEPTH)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ELOOP,
                                               "%s: indexes nested deeper than %d", layout,
                                               MAX_INDEX_DEPTH);
                /* Errors below name the index by its digest (it lives in idoc). */
                free(index);
                index = NULL;
                if (asprintf(&index, "%s: image index %s", layout, digest) < 0)
                        return -ENOMEM;
                digest = NULL;
                ynode_free(steal_pointer(&idoc));
                r = json_load(manifest_path, &idoc, err);
                if (r < 0)
                        return r;
        }
        if (ret_archs) {
                _cleanup_free_ char *a = NULL;
                r = manifest_arch(layout, manifest_path, check, &a, err);
                if (r < 0)
                        return r;
                char **v = calloc(2, sizeof(*v));
                if (!v)
                        return -ENOMEM;
                v[0] = steal_pointer(&a);
                *ret_archs = v;
        }
        /* blob_file checked the digest's form. */
        snprintf(ret_digest, DIGEST_OCI_LEN, "%s", digest);
        *ret_path = steal_pointer(&manifest_path);
        return 0;
}

int ocilayout_archs(const char *layout, const char *ref, char ***ret, struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_strv_free_ char **archs = NULL;
        char digest[DIGEST_OCI_LEN];
        int r = resolve_manifest(layout, ref, NULL, true, &path, digest, &archs, err);
        if (r < 0)
                return r;
        *ret = steal_pointer(&archs);
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

int ocilayout_foreach_layer(const char *layout, const char *ref, const char *arch,
                            ocilayout_layer_fn fn, void *data, struct cairn_error *err)
{
        _cleanup_free_ char *manifest_path = NULL;
        char manifest_digest[DIGEST_OCI_LEN];
        int r = resolve_manifest(layout, ref, arch, true, &manifest_path, manifest_digest, NULL,
                                 err);
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

/*
 * The descriptor of layout's index.json with artifactType type attached to the image manifest
 * subject (its manifest's `subject`): its digest, and the digest of its manifest's first layer.
 * A layout whose artifacts name no subject at all (written before referrers) gets the first
 * one. Leaves both empty when there is none.
 */
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
        if (seq_len(m) > OCILAYOUT_MAX_MANIFESTS)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG, "%s: more than %d manifests",
                                       index, OCILAYOUT_MAX_MANIFESTS);
        char first_manifest[DIGEST_OCI_LEN] = "", first_blob[DIGEST_OCI_LEN] = "";
        bool any_subject = false;
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
                const struct ynode *layers = ynode_map_get(mdoc, "layers");
                const struct ynode *first = seq_len(layers) ? layers->items[0] : NULL;
                char layer[DIGEST_OCI_LEN];
                if (copy_digest(scalar(ynode_map_get(first, "digest")), layer) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: artifact manifest without a layer", path);
                const char *subj = scalar(ynode_map_get(ynode_map_get(mdoc, "subject"), "digest"));
                any_subject |= subj != NULL;
                if (subj && streq(subj, subject)) {
                        memcpy(manifest, digest, DIGEST_OCI_LEN);
                        memcpy(blob, layer, DIGEST_OCI_LEN);
                        return 0;
                }
                if (!*first_manifest) {
                        memcpy(first_manifest, digest, DIGEST_OCI_LEN);
                        memcpy(first_blob, layer, DIGEST_OCI_LEN);
                }
        }
        if (!any_subject && *first_manifest) {
                memcpy(manifest, first_manifest, DIGEST_OCI_LEN);
                memcpy(blob, first_blob, DIGEST_OCI_LEN);
        }
        return 0;
}

int ocilayout_describe(const char *layout, const char *ref, const char *arch,
                       struct ocilayout_info **ret, struct cairn_error *err)
{
        _cleanup_(ocilayout_info_freep) struct ocilayout_info *info = calloc(1, sizeof(*info));
        if (!info)
                return -ENOMEM;
        _cleanup_free_ char *manifest_path = NULL;
        int r = resolve_manifest(layout, ref, arch, false, &manifest_path, info->manifest, NULL,
                                 err);
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
