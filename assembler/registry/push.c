/* SPDX-License-Identifier: Apache-2.0 */
#include "push.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "base/json.h"
#include "image/oci.h"
#include "image/ocilayout.h"
#include "recipe/yamlnode.h"
#include "ref.h"

#define MAX_PUSHED 256 /* manifests of one image (an index and its children) */

struct push {
        struct registry_client *c;
        const char *repo;
        const char *layout;
        const struct registry_push_options *o;
        struct registry_push_result *res;
        /* The manifests pushed for the image, by digest: referrers are looked up for them. */
        char pushed[MAX_PUSHED][DIGEST_OCI_LEN];
        size_t n_pushed;
};

static void emit(const struct push *p, enum registry_event_kind kind, const char *digest,
                 const char *media_type, uint64_t done, uint64_t size, bool acked,
                 const char *detail)
{
        if (!p->o->progress)
                return;
        struct registry_event e = { kind, digest, media_type, done, size, acked, detail };
        p->o->progress(p->o->data, &e);
}

static const char *scalar(const struct ynode *n)
{
        return n && n->type == YNODE_SCALAR ? n->value : NULL;
}

static bool is_index_type(const char *t)
{
        return t && (streq(t, OCI_MEDIA_TYPE_INDEX) || streq(t, OCI_MEDIA_TYPE_DOCKER_MANIFEST_LIST));
}

/* A descriptor's size: a non-negative integer. */
static int descriptor_size(const struct ynode *d, uint64_t *ret)
{
        const char *s = scalar(ynode_map_get(d, "size"));
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

/* ---- the layout ---- */

/* A document of the layout: index.json, or a manifest blob checked against its descriptor. */
struct doc {
        char *bytes; /* owned */
        size_t len;
        struct ynode *root; /* owned */
        char digest[DIGEST_OCI_LEN];
        char media_type[96];
};

static void doc_clear(struct doc *d)
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

static int load_index(const char *layout, struct doc *ret, struct cairn_error *err)
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
static int load_manifest(const char *layout, const struct ynode *desc, struct doc *ret,
                         struct cairn_error *err)
{
        const char *digest = scalar(ynode_map_get(desc, "digest"));
        uint64_t size;
        if (!oci_digest_valid(digest) || descriptor_size(desc, &size) < 0)
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
        const char *type = scalar(ynode_map_get(d.root, "mediaType"));
        if (!type)
                type = scalar(ynode_map_get(desc, "mediaType"));
        if (!type || strlen(type) >= sizeof(d.media_type) || strcspn(type, "\r\n") != strlen(type)) {
                doc_clear(&d);
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: a manifest without a mediaType", path);
        }
        snprintf(d.media_type, sizeof(d.media_type), "%s", type);
        *ret = d;
        return 0;
}

/* True when the index.json descriptor d is attached to something rather than an image. */
static bool descriptor_attached(const char *layout, const struct ynode *d)
{
        if (ynode_map_get(d, "artifactType") ||
            ynode_map_get(ynode_map_get(d, "annotations"), "vnd.docker.reference.type"))
                return true;
        struct doc m = { 0 };
        if (load_manifest(layout, d, &m, NULL) < 0)
                return false;
        bool attached = ynode_map_get(m.root, "subject") || ynode_map_get(m.root, "artifactType");
        doc_clear(&m);
        return attached;
}

static bool descriptor_is_manifest(const struct ynode *d)
{
        const char *t = scalar(ynode_map_get(d, "mediaType"));
        return t && (streq(t, OCI_MEDIA_TYPE_MANIFEST) || streq(t, OCI_MEDIA_TYPE_INDEX) ||
                     streq(t, OCI_MEDIA_TYPE_DOCKER_MANIFEST) ||
                     streq(t, OCI_MEDIA_TYPE_DOCKER_MANIFEST_LIST));
}

static const char *ref_name(const struct ynode *d)
{
        return scalar(ynode_map_get(ynode_map_get(d, "annotations"), OCI_ANNOTATION_REF_NAME));
}

int registry_layout_images(const char *layout, char ***ret, struct cairn_error *err)
{
        _cleanup_(doc_clear) struct doc idx = { 0 };
        int r = load_index(layout, &idx, err);
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
                if (!descriptor_is_manifest(d) || descriptor_attached(layout, d))
                        continue;
                const char *name = ref_name(d);
                names[n] = strdup(name ? name : "");
                if (!names[n++])
                        return -ENOMEM;
        }
        *ret = steal_pointer(&names);
        return 0;
}

/* ---- blobs ---- */

struct blob_upload {
        const struct push *p;
        const char *digest;
        uint64_t size;
        struct digest *hash; /* owned */
        uint64_t hashed;
        bool final;
        bool matches;
        uint64_t base; /* offset of the body being sent */
};

/* Called before the last byte of the blob goes out: the bytes sent must be the digest's. */
static int blob_before_last(void *data)
{
        struct blob_upload *u = data;
        if (!u->final) {
                if (u->hashed != u->size)
                        return -EBADMSG;
                char got[DIGEST_OCI_LEN];
                digest_final_oci(u->hash, got);
                u->final = true;
                u->matches = streq(got, u->digest);
        }
        return u->matches ? 0 : -EBADMSG;
}

static void blob_sent(void *data, uint64_t n)
{
        struct blob_upload *u = data;
        emit(u->p, REGISTRY_BLOB_PROGRESS, u->digest, NULL, u->base + n, u->size, false, NULL);
}

static int blob_mismatch(const char *path, struct cairn_error *err)
{
        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                               "%s: content does not match its name; nothing was committed "
                               "(rebuild the layout)",
                               path);
}

/* "LOCATION?digest=D" (or &digest=). */
static int with_digest(const char *location, const char *digest, char **ret)
{
        return asprintf(ret, "%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?',
                        digest) < 0
                       ? -ENOMEM
                       : 0;
}

static void cancel_upload(struct push *p, const char *location)
{
        _cleanup_registry_response_ struct registry_response r = { .content_length = -1 };
        (void)registry_request(p->c, "DELETE", location, NULL, NULL, &r, NULL);
}

/* The registry's digest, when it sends one, must be ours. */
static int check_digest(const char *what, const char *url, const struct registry_response *r,
                        const char *want, struct cairn_error *err)
{
        if (!r->digest || streq(r->digest, want))
                return 0;
        _cleanup_free_ char *shown = str_escape(r->digest, 100);
        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                               "%s: the registry stored %s as %s, not %s (Docker-Content-Digest)",
                               url, what, shown ? shown : "?", want);
}

/* A new upload session: its location (owned). */
static int start_upload(struct push *p, char **ret, struct cairn_error *err)
{
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "/v2/%s/blobs/uploads/", p->repo) < 0)
                return -ENOMEM;
        _cleanup_registry_response_ struct registry_response r = { .content_length = -1 };
        int rc = registry_request(p->c, "POST", url, NULL, NULL, &r, err);
        if (rc < 0)
                return rc;
        if (r.status != 202 || !r.location)
                return registry_fail(err, "POST", url, &r);
        *ret = steal_pointer(&r.location);
        return 0;
}

/* One PUT of the whole blob; 1 when the registry wants chunks instead (413). */
static int upload_monolithic(struct push *p, struct blob_upload *u, int fd, const char *path,
                             const char *location, struct cairn_error *err)
{
        _cleanup_free_ char *url = NULL;
        if (with_digest(location, u->digest, &url) < 0)
                return -ENOMEM;
        struct registry_body body = { .fd = fd, .len = u->size, .hash = u->hash,
                                      .hashed = &u->hashed, .before_last = blob_before_last,
                                      .sent = blob_sent, .data = u };
        u->base = 0;
        _cleanup_registry_response_ struct registry_response r = { .content_length = -1 };
        int rc = registry_request(p->c, "PUT", url, &body, NULL, &r, err);
        if (rc == -EBADMSG)
                return blob_mismatch(path, err);
        if (rc < 0)
                return rc;
        if (r.status == 413)
                return 1;
        if (r.status != 201)
                return registry_fail(err, "PUT", location, &r);
        return check_digest(u->digest, location, &r, u->digest, err);
}

/* PATCH after PATCH of chunk bytes, then the closing PUT. */
static int upload_chunked(struct push *p, struct blob_upload *u, int fd, const char *path,
                          char *location, uint64_t chunk, struct cairn_error *err)
{
        _cleanup_free_ char *loc = location;
        uint64_t off = 0;
        while (off < u->size || u->size == 0) {
                uint64_t n = u->size - off < chunk ? u->size - off : chunk;
                char range[80];
                snprintf(range, sizeof(range), "Content-Range: %llu-%llu", (unsigned long long)off,
                         (unsigned long long)(off + n - (n > 0)));
                const char *headers[] = { range, NULL };
                struct registry_body body = { .fd = fd, .offset = off, .len = n,
                                              .hash = u->hash, .hashed = &u->hashed,
                                              .before_last = off + n == u->size ? blob_before_last
                                                                                : NULL,
                                              .sent = blob_sent, .data = u };
                u->base = off;
                _cleanup_registry_response_ struct registry_response r = { .content_length = -1 };
                int rc = registry_request(p->c, "PATCH", loc, &body, n ? headers : NULL, &r, err);
                if (rc == -EBADMSG) {
                        cancel_upload(p, loc);
                        return blob_mismatch(path, err);
                }
                if (rc < 0)
                        return rc;
                if (r.status != 202)
                        return registry_fail(err, "PATCH", loc, &r);
                char want[64];
                snprintf(want, sizeof(want), "0-%llu", (unsigned long long)(off + n - (n > 0)));
                if (n && r.range && !streq(r.range, want)) {
                        _cleanup_free_ char *shown = str_escape(r.range, 60);
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPROTO,
                                               "PATCH %s: the registry has bytes %s of %s, not %s",
                                               loc, shown ? shown : "?", u->digest, want);
                }
                if (r.location) {
                        free(loc);
                        loc = steal_pointer(&r.location);
                }
                off += n;
                emit(p, REGISTRY_BLOB_PROGRESS, u->digest, NULL, off, u->size, true, NULL);
                if (u->size == 0)
                        break;
        }
        if (u->size == 0 && blob_before_last(u) < 0)
                return blob_mismatch(path, err);
        _cleanup_free_ char *url = NULL;
        if (with_digest(loc, u->digest, &url) < 0)
                return -ENOMEM;
        _cleanup_registry_response_ struct registry_response r = { .content_length = -1 };
        int rc = registry_request(p->c, "PUT", url, NULL, NULL, &r, err);
        if (rc < 0)
                return rc;
        if (r.status != 201)
                return registry_fail(err, "PUT", loc, &r);
        return check_digest(u->digest, loc, &r, u->digest, err);
}

/* Mounts digest from one of the --mount-from repositories: 1 when mounted, 0 when not (then
 * *ret_location may be an upload session the registry opened instead). */
static int try_mount(struct push *p, const char *digest, char **ret_location,
                     struct cairn_error *err)
{
        for (const char *const *from = p->o->mount_from; from && *from; from++) {
                if (streq(*from, p->repo))
                        continue;
                _cleanup_free_ char *url = NULL;
                if (asprintf(&url, "/v2/%s/blobs/uploads/?mount=%s&from=%s", p->repo, digest,
                             *from) < 0)
                        return -ENOMEM;
                _cleanup_registry_response_ struct registry_response r = { .content_length = -1 };
                int rc = registry_request(p->c, "POST", url, NULL, NULL, &r, err);
                if (rc < 0)
                        return rc;
                if (r.status == 201) {
                        rc = check_digest(digest, url, &r, digest, err);
                        if (rc < 0)
                                return rc;
                        emit(p, REGISTRY_BLOB_MOUNTED, digest, NULL, 0, 0, false, *from);
                        return 1;
                }
                if (r.status == 202 && r.location) {
                        /* Not mounted, but a session is open: upload into it. */
                        *ret_location = steal_pointer(&r.location);
                        return 0;
                }
                if (r.status != 404 && r.status != 403)
                        return registry_fail(err, "POST", url, &r);
        }
        return 0;
}

static int push_blob(struct push *p, const struct ynode *desc, struct cairn_error *err)
{
        const char *digest = scalar(ynode_map_get(desc, "digest"));
        const char *media_type = scalar(ynode_map_get(desc, "mediaType"));
        uint64_t size;
        if (!oci_digest_valid(digest) || descriptor_size(desc, &size) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: a blob descriptor without a sha256 digest and a size",
                                       p->layout);
        _cleanup_free_ char *path = NULL, *url = NULL;
        int r = oci_blob_path(p->layout, digest, &path);
        if (r < 0)
                return r;
        if (asprintf(&url, "/v2/%s/blobs/%s", p->repo, digest) < 0)
                return -ENOMEM;
        _cleanup_registry_response_ struct registry_response head = { .content_length = -1 };
        r = registry_request(p->c, "HEAD", url, NULL, NULL, &head, err);
        if (r < 0)
                return r;
        if (head.status == 200) {
                if (head.content_length >= 0 && (uint64_t)head.content_length != size)
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                               "HEAD %s: the registry holds %lld bytes under "
                                               "this digest, the layout %llu",
                                               url, (long long)head.content_length,
                                               (unsigned long long)size);
                p->res->blobs_existing++;
                emit(p, REGISTRY_BLOB_EXISTS, digest, media_type, size, size, true, NULL);
                return 0;
        }
        if (head.status != 404)
                return registry_fail(err, "HEAD", url, &head);

        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "%s: %lld bytes, its descriptor says %llu", path,
                                       (long long)st.st_size, (unsigned long long)size);

        _cleanup_free_ char *location = NULL;
        r = try_mount(p, digest, &location, err);
        if (r < 0)
                return r;
        if (r > 0) {
                p->res->blobs_mounted++;
                return 0;
        }
        if (!location) {
                r = start_upload(p, &location, err);
                if (r < 0)
                        return r;
        }
        _cleanup_digest_ struct digest *hash = digest_new(DIGEST_SHA256);
        if (!hash)
                return -ENOMEM;
        struct blob_upload u = { .p = p, .digest = digest, .size = size, .hash = hash };
        uint64_t chunk = p->o->chunk_size ? p->o->chunk_size : REGISTRY_CHUNK_DEFAULT;
        if (size <= chunk) {
                r = upload_monolithic(p, &u, fd, path, location, err);
                if (r < 0) {
                        cancel_upload(p, location);
                        return r;
                }
                if (r == 0)
                        goto pushed;
                /* 413: the registry takes no body this large in one request. */
                cancel_upload(p, location);
                free(location);
                location = NULL;
                r = start_upload(p, &location, err);
                if (r < 0)
                        return r;
                chunk = size / 4 + 1;
                if (chunk > (8u << 20))
                        chunk = 8u << 20;
        }
        r = upload_chunked(p, &u, fd, path, steal_pointer(&location), chunk, err);
        if (r < 0)
                return r;
pushed:
        p->res->blobs_uploaded++;
        emit(p, REGISTRY_BLOB_PUSHED, digest, media_type, size, size, true, NULL);
        return 0;
}

/* ---- manifests ---- */

/*
 * Puts the document bytes as repo's reference (a digest or a tag) unless it is already
 * there; *ret_subject (may be NULL) is set when the registry answered OCI-Subject.
 * 1 when it was pushed, 0 when it was there.
 */
static int put_manifest(struct push *p, const char *reference, const char *bytes, size_t len,
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
        if (head.status == 200 && (oci_digest_valid(reference) ? true
                                                               : streq_ptr(head.digest, digest)))
                return 0;
        if (head.status != 200 && head.status != 404)
                return registry_fail(err, "HEAD", url, &head);
        struct registry_body body = { .buf = bytes, .fd = -1, .len = len,
                                      .content_type = media_type };
        _cleanup_registry_response_ struct registry_response r2 = { .content_length = -1 };
        r = registry_request(p->c, "PUT", url, &body, NULL, &r2, err);
        if (r < 0)
                return r;
        if (r2.status != 201)
                return registry_fail(err, "PUT", url, &r2);
        r = check_digest(reference, url, &r2, digest, err);
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
static int push_tree(struct push *p, const struct ynode *desc, unsigned depth, bool *ret_subject,
                     struct doc *ret_doc, struct cairn_error *err)
{
        _cleanup_(doc_clear) struct doc d = { 0 };
        int r = load_manifest(p->layout, desc, &d, err);
        if (r < 0)
                return r;
        if (is_index_type(d.media_type)) {
                const struct ynode *m = ynode_map_get(d.root, "manifests");
                if (!m || m->type != YNODE_SEQUENCE)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: index %s without a manifests array",
                                               p->layout, d.digest);
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
                                               "%s: manifest %s has more than %d layers",
                                               p->layout, d.digest, OCILAYOUT_MAX_LAYERS);
                r = push_blob(p, config, err);
                for (size_t i = 0; r >= 0 && layers && i < layers->n_items; i++)
                        r = push_blob(p, layers->items[i], err);
                if (r < 0)
                        return r;
        }
        bool subject = false;
        r = put_manifest(p, d.digest, d.bytes, d.len, d.media_type, d.digest, &subject, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "pushing manifest %s", d.digest);
        if (r > 0)
                p->res->manifests_pushed++;
        emit(p, r > 0 ? REGISTRY_MANIFEST_PUSHED : REGISTRY_MANIFEST_EXISTS, d.digest,
             d.media_type, d.len, d.len, true, NULL);
        if (p->n_pushed < MAX_PUSHED && !pushed_has(p, d.digest))
                memcpy(p->pushed[p->n_pushed++], d.digest, DIGEST_OCI_LEN);
        if (ret_subject)
                *ret_subject = subject;
        if (ret_doc)
                *ret_doc = d, d = (struct doc){ 0 };
        return 0;
}

/* ---- referrers ---- */

/* One referrer of a subject: its descriptor as the referrers list gives it. */
struct referrer {
        char digest[DIGEST_OCI_LEN];
        char media_type[96];
        uint64_t size;
        char *artifact_type;               /* owned, or NULL */
        struct ynode *annotations;         /* owned copy source: the manifest doc's root */
        bool api;                          /* the registry answered OCI-Subject */
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
                        listed = streq_ptr(scalar(ynode_map_get(existing->items[k], "digest")),
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
                emit(p, REGISTRY_REFERRERS_API, subject, NULL, n, n, true, NULL);
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
                    !streq_ptr(scalar(ynode_map_get(doc, "mediaType")), OCI_MEDIA_TYPE_INDEX) ||
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
                emit(p, REGISTRY_REFERRERS_LISTED, subject, NULL, n, n, true, tag);
                return 0;
        }
        char hex[DIGEST_HEX_MAX], digest[DIGEST_OCI_LEN];
        digest_buf_hex(DIGEST_SHA256, bytes, len, hex);
        snprintf(digest, sizeof(digest), "sha256:%s", hex);
        rc = put_manifest(p, tag, bytes, len, OCI_MEDIA_TYPE_INDEX, digest, NULL, err);
        if (rc < 0)
                return cairn_error_wrap(err, rc, "updating the referrers tag %s", tag);
        emit(p, REGISTRY_REFERRERS_PUSHED, subject, NULL, n, n, true, tag);
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
static int push_referrers(struct push *p, const struct ynode *manifests, struct cairn_error *err)
{
        size_t n_subjects = p->n_pushed;
        for (size_t s = 0; s < n_subjects; s++) {
                const char *subject = p->pushed[s];
                struct referrer *refs = NULL;
                size_t n = 0, cap = 0;
                int r = 0;
                for (size_t i = 0; r >= 0 && i < manifests->n_items; i++) {
                        const struct ynode *d = manifests->items[i];
                        if (!descriptor_is_manifest(d))
                                continue;
                        struct doc m = { 0 };
                        if (load_manifest(p->layout, d, &m, NULL) < 0)
                                continue; /* not one: pushing the image did not need it */
                        const char *subj =
                                scalar(ynode_map_get(ynode_map_get(m.root, "subject"), "digest"));
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
                        const char *at = scalar(ynode_map_get(pushed.root, "artifactType"));
                        if (!at)
                                at = scalar(ynode_map_get(ynode_map_get(pushed.root, "config"),
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
        r = load_index(layout, &idx, err);
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
                if (!descriptor_is_manifest(d) || descriptor_attached(layout, d))
                        continue;
                if (ref ? streq_ptr(ref_name(d), ref) : true) {
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
        r = put_manifest(p, tag, top.bytes, top.len, top.media_type, top.digest, NULL, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "tagging %s", tag);
        emit(p, r > 0 ? REGISTRY_TAG_PUSHED : REGISTRY_TAG_UNCHANGED, top.digest, top.media_type,
             top.len, top.len, true, tag);
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
                                       "GET %s: the registry served bytes whose digest is %s",
                                       url, digest);
        r = check_digest(reference, url, &resp, digest, err);
        if (r < 0)
                return r;
        snprintf(ret_media_type, 96, "%s", resp.content_type ? resp.content_type : "");
        memcpy(ret_digest, digest, DIGEST_OCI_LEN);
        *ret_len = resp.body_len;
        *ret = steal_pointer(&resp.body);
        return 0;
}

int registry_fetch_blob(struct registry_client *c, const char *repo, const char *digest,
                        char **ret, size_t *ret_len, struct cairn_error *err)
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
