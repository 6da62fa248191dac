/* SPDX-License-Identifier: Apache-2.0 */
#include "image/oci.h"
#include "image/ocilayout.h"
#include "push-internal.h"
#include "ref.h"

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
                if (ref ? streq_ptr(layout_ref_name(d), ref)
                        : !layout_descriptor_covered(layout, m, d)) {
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
