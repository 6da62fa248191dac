/* SPDX-License-Identifier: Apache-2.0 */
/* Referrers: the registry's referrers API, else the fallback tag of the referrers tag schema
 * (push.h). */
#include "base/json.h"
#include "image/oci.h"
#include "push-internal.h"
#include "ref.h"

/* One referrer of a subject: its descriptor as the referrers list gives it. */
struct referrer {
        char digest[DIGEST_OCI_LEN];
        char media_type[96];
        uint64_t size;
        char *artifact_type;       /* owned, or NULL */
        struct ynode *annotations; /* owned copy source: the manifest doc's root */
        bool api;                  /* the registry answered OCI-Subject */
};

/* Writes the ynode n as JSON: plain integers, true, false and null as themselves, every
 * other scalar as a string. */
static void json_node(struct json *j, const struct ynode *n)
{
        if (n->type == YNODE_MAPPING) {
                json_object_begin(j);
                for (size_t i = 0; i + 1 < n->n_items; i += 2) {
                        json_key(j, n->items[i]->type == YNODE_SCALAR ? n->items[i]->value : "");
                        json_node(j, n->items[i + 1]);
                }
                json_object_end(j);
        } else if (n->type == YNODE_SEQUENCE) {
                json_array_begin(j);
                for (size_t i = 0; i < n->n_items; i++)
                        json_node(j, n->items[i]);
                json_array_end(j);
        } else if (n->plain && (streq(n->value, "true") || streq(n->value, "false")))
                json_bool(j, streq(n->value, "true"));
        else if (n->plain && streq(n->value, "null"))
                json_null(j);
        else if (n->plain && n->len && n->len < 20 &&
                 strspn(n->value + (n->value[0] == '-'), "0123456789") ==
                         n->len - (n->value[0] == '-'))
                json_int(j, strtoll(n->value, NULL, 10));
        else
                json_string(j, n->value);
}

/*
 * The fallback index: the descriptors the tag already lists (existing, may be NULL), then
 * each of refs it lacks. *ret_added counts those.
 */
static int render_referrers(const struct ynode *existing, const struct referrer *refs, size_t n,
                            char **ret, size_t *ret_len, size_t *ret_added)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, added = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        struct json j;
        json_init(&j, f);
        json_object_begin(&j);
        json_key(&j, "schemaVersion");
        json_int(&j, 2);
        json_kv_string(&j, "mediaType", OCI_MEDIA_TYPE_INDEX);
        json_key(&j, "manifests");
        json_array_begin(&j);
        for (size_t i = 0; existing && i < existing->n_items; i++)
                json_node(&j, existing->items[i]);
        for (size_t i = 0; i < n; i++) {
                bool listed = false;
                for (size_t k = 0; existing && k < existing->n_items && !listed; k++)
                        listed = streq_ptr(push_scalar(ynode_map_get(existing->items[k], "digest")),
                                           refs[i].digest);
                for (size_t k = 0; k < i && !listed; k++)
                        listed = streq(refs[k].digest, refs[i].digest);
                if (listed)
                        continue;
                added++;
                json_object_begin(&j);
                json_kv_string(&j, "mediaType", refs[i].media_type);
                if (refs[i].artifact_type)
                        json_kv_string(&j, "artifactType", refs[i].artifact_type);
                json_kv_string(&j, "digest", refs[i].digest);
                json_kv_uint(&j, "size", refs[i].size);
                const struct ynode *a = ynode_map_get(refs[i].annotations, "annotations");
                if (a && a->type == YNODE_MAPPING) {
                        json_key(&j, "annotations");
                        json_node(&j, a);
                }
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        bool failed = ferror(f);
        if (fclose(f) != 0 || failed)
                return -ENOMEM;
        *ret = steal_pointer(&buf);
        *ret_len = len;
        *ret_added = added;
        return 0;
}

/* Lists refs (all of subject) where clients find them: the API, else the fallback tag. */
static int list_referrers(struct push *p, const char *subject, const struct referrer *refs,
                          size_t n, struct cairn_error *err)
{
        bool all_api = true;
        for (size_t i = 0; i < n; i++)
                all_api &= refs[i].api;
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "/v2/%s/referrers/%s", p->repo, subject) < 0)
                return -ENOMEM;
        if (!all_api) {
                _cleanup_registry_response_ struct registry_response r = { .content_length = -1 };
                int rc = registry_request(p->c, "GET", url, NULL, NULL, &r, err);
                if (rc < 0)
                        return rc;
                /* A registry with the API answers 200 with an index; anything else (404 by
                 * the spec, also what a registry without the route answers) means none. */
                all_api = r.status == 200 && r.content_type &&
                          startswith(r.content_type, OCI_MEDIA_TYPE_INDEX);
        }
        if (all_api) {
                p->res->referrers_api = true;
                push_emit(p, REGISTRY_REFERRERS_API, subject, NULL, n, n, true, NULL);
                return 0;
        }
        char tag[DIGEST_OCI_LEN];
        registry_referrers_tag(subject, tag);
        memcpy(p->res->referrers_tag, tag, sizeof(tag));
        _cleanup_free_ char *turl = NULL;
        if (asprintf(&turl, "/v2/%s/manifests/%s", p->repo, tag) < 0)
                return -ENOMEM;
        const char *accept[] = { "Accept: " OCI_MEDIA_TYPE_INDEX, NULL };
        _cleanup_registry_response_ struct registry_response r = { .content_length = -1 };
        int rc = registry_request(p->c, "GET", turl, NULL, accept, &r, err);
        if (rc < 0)
                return rc;
        _cleanup_ynode_ struct ynode *doc = NULL;
        const struct ynode *existing = NULL;
        if (r.status == 200) {
                if (r.body_len >= REGISTRY_MAX_RESPONSE ||
                    ynode_load(tag, r.body, r.body_len, &doc, NULL) < 0 ||
                    !streq_ptr(push_scalar(ynode_map_get(doc, "mediaType")),
                               OCI_MEDIA_TYPE_INDEX) ||
                    !(existing = ynode_map_get(doc, "manifests")) ||
                    existing->type != YNODE_SEQUENCE)
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPROTO,
                                               "GET %s: the referrers tag %s holds something "
                                               "other than an image index; not replacing it",
                                               turl, tag);
        } else if (r.status != 404)
                return registry_fail(err, "GET", turl, &r);
        _cleanup_free_ char *bytes = NULL;
        size_t len, added;
        rc = render_referrers(existing, refs, n, &bytes, &len, &added);
        if (rc < 0)
                return rc;
        if (added == 0) {
                push_emit(p, REGISTRY_REFERRERS_LISTED, subject, NULL, n, n, true, tag);
                return 0;
        }
        char hex[DIGEST_HEX_MAX], digest[DIGEST_OCI_LEN];
        digest_buf_hex(DIGEST_SHA256, bytes, len, hex);
        snprintf(digest, sizeof(digest), "sha256:%s", hex);
        rc = push_put_manifest(p, tag, bytes, len, OCI_MEDIA_TYPE_INDEX, digest, NULL, err);
        if (rc < 0)
                return cairn_error_wrap(err, rc, "updating the referrers tag %s", tag);
        push_emit(p, REGISTRY_REFERRERS_PUSHED, subject, NULL, n, n, true, tag);
        return 0;
}

static void referrers_clear(struct referrer *refs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(refs[i].artifact_type);
                ynode_free(refs[i].annotations);
        }
        free(refs);
}

/* Every descriptor of index.json attached to a manifest pushed: pushed, then listed. */
int push_referrers(struct push *p, const struct ynode *manifests, struct cairn_error *err)
{
        size_t n_subjects = p->n_pushed;
        for (size_t s = 0; s < n_subjects; s++) {
                const char *subject = p->pushed[s];
                struct referrer *refs = NULL;
                size_t n = 0, cap = 0;
                int r = 0;
                for (size_t i = 0; r >= 0 && i < manifests->n_items; i++) {
                        const struct ynode *d = manifests->items[i];
                        if (!layout_descriptor_is_manifest(d))
                                continue;
                        struct doc m = { 0 };
                        if (layout_load_manifest(p->layout, d, &m, NULL) < 0)
                                continue; /* not one: pushing the image did not need it */
                        const char *subj = push_scalar(
                                ynode_map_get(ynode_map_get(m.root, "subject"), "digest"));
                        if (!streq_ptr(subj, subject)) {
                                doc_clear(&m);
                                continue;
                        }
                        doc_clear(&m);
                        struct doc pushed = { 0 };
                        bool api = false;
                        r = push_tree(p, d, 0, &api, &pushed, err);
                        if (r < 0)
                                break;
                        if (GROW(refs, cap, n + 1) < 0) {
                                doc_clear(&pushed);
                                r = -ENOMEM;
                                break;
                        }
                        struct referrer *ref = &refs[n++];
                        *ref = (struct referrer){ .size = pushed.len, .api = api };
                        memcpy(ref->digest, pushed.digest, DIGEST_OCI_LEN);
                        memcpy(ref->media_type, pushed.media_type, sizeof(ref->media_type));
                        /* artifactType: the manifest's, else its config's media type. */
                        const char *at = push_scalar(ynode_map_get(pushed.root, "artifactType"));
                        if (!at)
                                at = push_scalar(ynode_map_get(ynode_map_get(pushed.root, "config"),
                                                               "mediaType"));
                        ref->artifact_type = at ? strdup(at) : NULL;
                        ref->annotations = steal_pointer(&pushed.root);
                        doc_clear(&pushed);
                        if (at && !ref->artifact_type)
                                r = -ENOMEM;
                        p->res->referrers++;
                }
                if (r >= 0 && n > 0)
                        r = list_referrers(p, subject, refs, n, err);
                referrers_clear(refs, n);
                if (r < 0)
                        return r;
        }
        return 0;
}
