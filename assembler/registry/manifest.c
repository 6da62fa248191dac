/* SPDX-License-Identifier: Apache-2.0 */
/* Manifests: an image's tree of blobs and manifests, pushed by digest (push.h). */
#include "image/oci.h"
#include "image/ocilayout.h"
#include "push-internal.h"

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
