/* SPDX-License-Identifier: Apache-2.0 */
#include "image/oci.h"
#include "image/ocilayout.h"
#include "push-internal.h"
#include "ref.h"

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

/* ---- manifests ---- */

/*
 * Puts the document bytes as repo's reference (a digest or a tag) unless it is already
 * there; *ret_subject (may be NULL) is set when the registry answered OCI-Subject.
 * 1 when it was pushed, 0 when it was there.
 */
int push_put_manifest(struct push *p, const char *reference, const char *bytes, size_t len,
                      const char *media_type, const char *digest, bool *ret_subject,
                      struct cairn_error *err)
{
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "/v2/%s/manifests/%s", p->repo, reference) < 0)
                return -ENOMEM;
        const char *accept[] = { REGISTRY_ACCEPT_MANIFESTS, NULL };
        _cleanup_registry_response_ struct registry_response head = { .content_length = -1 };
        int r = registry_request(p->c, "HEAD", url, NULL, accept, &head, err);
        if (r < 0)
                return r;
        /* By digest, existing is enough; a tag must name this digest already. */
        if (head.status == 200 &&
            (oci_digest_valid(reference) ? true : streq_ptr(head.digest, digest)))
                return 0;
        if (head.status != 200 && head.status != 404)
                return registry_fail(err, "HEAD", url, &head);
        struct registry_body body = {
                .buf = bytes, .fd = -1, .len = len, .content_type = media_type
        };
        _cleanup_registry_response_ struct registry_response r2 = { .content_length = -1 };
        r = registry_request(p->c, "PUT", url, &body, NULL, &r2, err);
        if (r < 0)
                return r;
        if (r2.status != 201)
                return registry_fail(err, "PUT", url, &r2);
        r = push_check_digest(reference, url, &r2, digest, err);
        if (r < 0)
                return r;
        if (ret_subject)
                *ret_subject = r2.oci_subject != NULL;
        return 1;
}

static bool pushed_has(const struct push *p, const char *digest)
{
        for (size_t i = 0; i < p->n_pushed; i++)
                if (streq(p->pushed[i], digest))
                        return true;
        return false;
}

/* The blobs of the manifest (or the manifests of the index) desc names, then itself. */
int push_tree(struct push *p, const struct ynode *desc, unsigned depth, bool *ret_subject,
              struct doc *ret_doc, struct cairn_error *err)
{
        _cleanup_(doc_clear) struct doc d = { 0 };
        int r = layout_load_manifest(p->layout, desc, &d, err);
        if (r < 0)
                return r;
        if (push_is_index_type(d.media_type)) {
                const struct ynode *m = ynode_map_get(d.root, "manifests");
                if (!m || m->type != YNODE_SEQUENCE)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: index %s without a manifests array", p->layout,
                                               d.digest);
                if (depth >= REGISTRY_MAX_DEPTH)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ELOOP,
                                               "%s: indexes nested deeper than %d", p->layout,
                                               REGISTRY_MAX_DEPTH);
                for (size_t i = 0; i < m->n_items; i++) {
                        r = push_tree(p, m->items[i], depth + 1, NULL, NULL, err);
                        if (r < 0)
                                return r;
                }
        } else {
                const struct ynode *config = ynode_map_get(d.root, "config");
                const struct ynode *layers = ynode_map_get(d.root, "layers");
                if (!config || (layers && layers->type != YNODE_SEQUENCE))
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: manifest %s without a config", p->layout,
                                               d.digest);
                if (layers && layers->n_items > OCILAYOUT_MAX_LAYERS)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                               "%s: manifest %s has more than %d layers", p->layout,
                                               d.digest, OCILAYOUT_MAX_LAYERS);
                r = push_blob(p, config, err);
                for (size_t i = 0; r >= 0 && layers && i < layers->n_items; i++)
                        r = push_blob(p, layers->items[i], err);
                if (r < 0)
                        return r;
        }
        bool subject = false;
        r = push_put_manifest(p, d.digest, d.bytes, d.len, d.media_type, d.digest, &subject, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "pushing manifest %s", d.digest);
        if (r > 0)
                p->res->manifests_pushed++;
        push_emit(p, r > 0 ? REGISTRY_MANIFEST_PUSHED : REGISTRY_MANIFEST_EXISTS, d.digest,
                  d.media_type, d.len, d.len, true, NULL);
        if (p->n_pushed < MAX_PUSHED && !pushed_has(p, d.digest))
                memcpy(p->pushed[p->n_pushed++], d.digest, DIGEST_OCI_LEN);
        if (ret_subject)
                *ret_subject = subject;
        if (ret_doc)
                *ret_doc = d, d = (struct doc){ 0 };
        return 0;
}

/* ---- the image ---- */

int registry_push_image(struct registry_client *c, const char *repo, const char *layout,
                        const char *ref, const char *tag, const struct registry_push_options *o,
                        struct registry_push_result *ret, struct cairn_error *err)
{
        struct registry_push_result res = { 0 };
        _cleanup_free_ struct push *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        *p = (struct push){ .c = c, .repo = repo, .layout = layout, .o = o, .res = &res };
        _cleanup_free_ char *scope = NULL;
        if (asprintf(&scope, "repository:%s:pull,push", repo) < 0)
                return -ENOMEM;
        int r = registry_client_add_scope(c, scope);
        for (const char *const *from = o->mount_from; r >= 0 && from && *from; from++) {
                free(scope);
                if (asprintf(&scope, "repository:%s:pull", *from) < 0) {
                        scope = NULL;
                        return -ENOMEM;
                }
                r = registry_client_add_scope(c, scope);
        }
        if (r < 0)
                return r == -ENOMEM ? r
                                    : cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                                      "too many --mount-from repositories");

        _cleanup_(doc_clear) struct doc idx = { 0 };
        r = layout_load_index(layout, &idx, err);
        if (r < 0)
                return r;
        const struct ynode *m = ynode_map_get(idx.root, "manifests");
        if (!m || m->type != YNODE_SEQUENCE)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s/" OCI_INDEX_FILE ": no manifests array", layout);
        const struct ynode *image = NULL;
        size_t images = 0;
        for (size_t i = 0; i < m->n_items; i++) {
                const struct ynode *d = m->items[i];
                if (!layout_descriptor_is_manifest(d) || layout_descriptor_attached(layout, d))
                        continue;
                if (ref ? streq_ptr(layout_ref_name(d), ref) : true) {
                        image = d;
                        images++;
                }
        }
        if (images != 1)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "%s: %zu images%s%s (want exactly one)", layout, images,
                                       ref ? " with the ref name " : "", ref ? ref : "");
        _cleanup_(doc_clear) struct doc top = { 0 };
        r = push_tree(p, image, 0, NULL, &top, err);
        if (r >= 0)
                r = push_referrers(p, m, err);
        if (r < 0)
                return r;
        /* The tag last: once it exists, the image and what is attached to it are there. */
        r = push_put_manifest(p, tag, top.bytes, top.len, top.media_type, top.digest, NULL, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "tagging %s", tag);
        push_emit(p, r > 0 ? REGISTRY_TAG_PUSHED : REGISTRY_TAG_UNCHANGED, top.digest,
                  top.media_type, top.len, top.len, true, tag);
        memcpy(res.digest, top.digest, DIGEST_OCI_LEN);
        snprintf(res.media_type, sizeof(res.media_type), "%s", top.media_type);
        *ret = res;
        return 0;
}

/* ---- fetching ---- */

int registry_fetch_manifest(struct registry_client *c, const char *repo, const char *reference,
                            char **ret, size_t *ret_len, char ret_digest[DIGEST_OCI_LEN],
                            char ret_media_type[96], struct cairn_error *err)
{
        _cleanup_free_ char *scope = NULL, *url = NULL;
        if (asprintf(&scope, "repository:%s:pull", repo) < 0 ||
            asprintf(&url, "/v2/%s/manifests/%s", repo, reference) < 0)
                return -ENOMEM;
        int r = registry_client_add_scope(c, scope);
        if (r < 0)
                return r;
        const char *accept[] = { REGISTRY_ACCEPT_MANIFESTS, NULL };
        _cleanup_registry_response_ struct registry_response resp = { .content_length = -1 };
        r = registry_request(c, "GET", url, NULL, accept, &resp, err);
        if (r < 0)
                return r;
        if (resp.status != 200)
                return registry_fail(err, "GET", url, &resp);
        if (resp.body_len >= REGISTRY_MAX_RESPONSE)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EFBIG,
                                       "GET %s: a manifest larger than %d bytes", url,
                                       REGISTRY_MAX_RESPONSE);
        char hex[DIGEST_HEX_MAX], digest[DIGEST_OCI_LEN];
        digest_buf_hex(DIGEST_SHA256, resp.body, resp.body_len, hex);
        snprintf(digest, sizeof(digest), "sha256:%s", hex);
        if (oci_digest_valid(reference) && !streq(reference, digest))
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "GET %s: the registry served bytes whose digest is %s", url,
                                       digest);
        r = push_check_digest(reference, url, &resp, digest, err);
        if (r < 0)
                return r;
        snprintf(ret_media_type, 96, "%s", resp.content_type ? resp.content_type : "");
        memcpy(ret_digest, digest, DIGEST_OCI_LEN);
        *ret_len = resp.body_len;
        *ret = steal_pointer(&resp.body);
        return 0;
}

int registry_fetch_blob(struct registry_client *c, const char *repo, const char *digest, char **ret,
                        size_t *ret_len, struct cairn_error *err)
{
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "/v2/%s/blobs/%s", repo, digest) < 0)
                return -ENOMEM;
        _cleanup_registry_response_ struct registry_response resp = { .content_length = -1 };
        int r = registry_request(c, "GET", url, NULL, NULL, &resp, err);
        if (r < 0)
                return r;
        if (resp.status != 200)
                return registry_fail(err, "GET", url, &resp);
        char hex[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, resp.body, resp.body_len, hex);
        if (resp.body_len >= REGISTRY_MAX_RESPONSE || !streq(hex, digest + strlen("sha256:")))
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "GET %s: the bytes served do not match the digest", url);
        *ret_len = resp.body_len;
        *ret = steal_pointer(&resp.body);
        return 0;
}
