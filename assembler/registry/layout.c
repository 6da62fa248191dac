/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the OCI layout being pushed: index.json, its images, manifests checked against their
 * descriptors. */
#include "image/oci.h"
#include "image/ocilayout.h"
#include "push-internal.h"

void push_emit(const struct push *p, enum registry_event_kind kind, const char *digest,
               const char *media_type, uint64_t done, uint64_t size, bool acked, const char *detail)
{
        if (!p->o->progress)
                return;
        struct registry_event e = { kind, digest, media_type, done, size, acked, detail };
        p->o->progress(p->o->data, &e);
}

const char *push_scalar(const struct ynode *n)
{
        return n && n->type == YNODE_SCALAR ? n->value : NULL;
}

bool push_is_index_type(const char *t)
{
        return t &&
               (streq(t, OCI_MEDIA_TYPE_INDEX) || streq(t, OCI_MEDIA_TYPE_DOCKER_MANIFEST_LIST));
}

/* A descriptor's size: a non-negative integer. */
int push_descriptor_size(const struct ynode *d, uint64_t *ret)
{
        const char *s = push_scalar(ynode_map_get(d, "size"));
        char *end;
        if (!s || !*s || *s == '-')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

void doc_clear(struct doc *d)
{
        free(d->bytes);
        ynode_free(d->root);
        *d = (struct doc){ 0 };
}

static int parse_doc(const char *where, struct doc *d, struct cairn_error *err)
{
        int r = ynode_load(where, d->bytes, d->len, &d->root, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || d->root->type != YNODE_MAPPING)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: not a JSON object",
                                       where);
        return 0;
}

int layout_load_index(const char *layout, struct doc *ret, struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/" OCI_INDEX_FILE, layout) < 0)
                return -ENOMEM;
        struct doc d = { 0 };
        int r = read_file_bounded(path, OCILAYOUT_MAX_JSON, &d.bytes, &d.len);
        if (r == -EFBIG)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r, "%s: larger than %d bytes", path,
                                       OCILAYOUT_MAX_JSON);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        r = parse_doc(path, &d, err);
        if (r < 0) {
                doc_clear(&d);
                return r;
        }
        *ret = d;
        return 0;
}

/* The manifest or index a descriptor names, read from the layout and checked: its bytes hash
 * to the descriptor's digest and have its size. */
int layout_load_manifest(const char *layout, const struct ynode *desc, struct doc *ret,
                         struct cairn_error *err)
{
        const char *digest = push_scalar(ynode_map_get(desc, "digest"));
        uint64_t size;
        if (!oci_digest_valid(digest) || push_descriptor_size(desc, &size) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: a descriptor without a sha256 digest and a size",
                                       layout);
        _cleanup_free_ char *path = NULL;
        int r = oci_blob_path(layout, digest, &path);
        if (r < 0)
                return r;
        struct doc d = { 0 };
        r = read_file_bounded(path, OCILAYOUT_MAX_JSON, &d.bytes, &d.len);
        if (r == -EFBIG)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r, "%s: larger than %d bytes", path,
                                       OCILAYOUT_MAX_JSON);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        char hex[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, d.bytes, d.len, hex);
        if (!streq(hex, digest + strlen("sha256:")) || d.len != size) {
                doc_clear(&d);
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "%s: content does not match its descriptor (sha256:%s, "
                                       "%zu bytes; index says %s, %llu bytes)",
                                       path, hex, d.len, digest, (unsigned long long)size);
        }
        r = parse_doc(path, &d, err);
        if (r < 0) {
                doc_clear(&d);
                return r;
        }
        memcpy(d.digest, digest, DIGEST_OCI_LEN);
        /* What to send as Content-Type: the document's own mediaType, which a registry must
         * see in the header, else the descriptor's. */
        const char *type = push_scalar(ynode_map_get(d.root, "mediaType"));
        if (!type)
                type = push_scalar(ynode_map_get(desc, "mediaType"));
        if (!type || strlen(type) >= sizeof(d.media_type) ||
            strcspn(type, "\r\n") != strlen(type)) {
                doc_clear(&d);
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: a manifest without a mediaType", path);
        }
        snprintf(d.media_type, sizeof(d.media_type), "%s", type);
        *ret = d;
        return 0;
}

/* True when the index.json descriptor d is attached to something rather than an image. */
bool layout_descriptor_attached(const char *layout, const struct ynode *d)
{
        if (ynode_map_get(d, "artifactType") ||
            ynode_map_get(ynode_map_get(d, "annotations"), "vnd.docker.reference.type"))
                return true;
        struct doc m = { 0 };
        if (layout_load_manifest(layout, d, &m, NULL) < 0)
                return false;
        bool attached = ynode_map_get(m.root, "subject") || ynode_map_get(m.root, "artifactType");
        doc_clear(&m);
        return attached;
}

bool layout_descriptor_is_manifest(const struct ynode *d)
{
        const char *t = push_scalar(ynode_map_get(d, "mediaType"));
        return t && (streq(t, OCI_MEDIA_TYPE_MANIFEST) || streq(t, OCI_MEDIA_TYPE_INDEX) ||
                     streq(t, OCI_MEDIA_TYPE_DOCKER_MANIFEST) ||
                     streq(t, OCI_MEDIA_TYPE_DOCKER_MANIFEST_LIST));
}

const char *layout_ref_name(const struct ynode *d)
{
        return push_scalar(ynode_map_get(ynode_map_get(d, "annotations"), OCI_ANNOTATION_REF_NAME));
}

bool layout_descriptor_covered(const char *layout, const struct ynode *manifests,
                               const struct ynode *d)
{
        const char *digest = push_scalar(ynode_map_get(d, "digest"));
        if (!digest || push_is_index_type(push_scalar(ynode_map_get(d, "mediaType"))))
                return false;
        for (size_t i = 0; manifests && i < manifests->n_items; i++) {
                const struct ynode *x = manifests->items[i];
                if (x == d || !push_is_index_type(push_scalar(ynode_map_get(x, "mediaType"))) ||
                    layout_descriptor_attached(layout, x))
                        continue;
                struct doc idx = { 0 };
                if (layout_load_manifest(layout, x, &idx, NULL) < 0)
                        continue;
                const struct ynode *m = ynode_map_get(idx.root, "manifests");
                bool listed = false;
                for (size_t j = 0; m && m->type == YNODE_SEQUENCE && j < m->n_items && !listed; j++)
                        listed = streq_ptr(push_scalar(ynode_map_get(m->items[j], "digest")),
                                           digest);
                doc_clear(&idx);
                if (listed)
                        return true;
        }
        return false;
}

int registry_layout_images(const char *layout, char ***ret, struct cairn_error *err)
{
        _cleanup_(doc_clear) struct doc idx = { 0 };
        int r = layout_load_index(layout, &idx, err);
        if (r < 0)
                return r;
        const struct ynode *m = ynode_map_get(idx.root, "manifests");
        if (!m || m->type != YNODE_SEQUENCE)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s/" OCI_INDEX_FILE ": no manifests array", layout);
        _cleanup_strv_free_ char **names = calloc(m->n_items + 1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < m->n_items; i++) {
                const struct ynode *d = m->items[i];
                if (!layout_descriptor_is_manifest(d) || layout_descriptor_attached(layout, d) ||
                    layout_descriptor_covered(layout, m, d))
                        continue;
                const char *name = layout_ref_name(d);
                names[n] = strdup(name ? name : "");
                if (!names[n++])
                        return -ENOMEM;
        }
        *ret = steal_pointer(&names);
        return 0;
}
