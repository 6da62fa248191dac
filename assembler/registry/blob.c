/* SPDX-License-Identifier: Apache-2.0 */
/* Blobs: HEAD, cross-repository mount, monolithic and chunked uploads (push.h). */
#include <fcntl.h>
#include <sys/stat.h>

#include "image/oci.h"
#include "image/ocilayout.h"
#include "push-internal.h"

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
        push_emit(u->p, REGISTRY_BLOB_PROGRESS, u->digest, NULL, u->base + n, u->size, false, NULL);
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
        return asprintf(ret, "%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?', digest) <
                               0
                       ? -ENOMEM
                       : 0;
}

static void cancel_upload(struct push *p, const char *location)
{
        _cleanup_registry_response_ struct registry_response r = { .content_length = -1 };
        (void)registry_request(p->c, "DELETE", location, NULL, NULL, &r, NULL);
}

/* The registry's digest, when it sends one, must be ours. */
int push_check_digest(const char *what, const char *url, const struct registry_response *r,
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
        struct registry_body body = { .fd = fd,
                                      .len = u->size,
                                      .hash = u->hash,
                                      .hashed = &u->hashed,
                                      .before_last = blob_before_last,
                                      .sent = blob_sent,
                                      .data = u };
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
        return push_check_digest(u->digest, location, &r, u->digest, err);
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
                struct registry_body body = { .fd = fd,
                                              .offset = off,
                                              .len = n,
                                              .hash = u->hash,
                                              .hashed = &u->hashed,
                                              .before_last =
                                                      off + n == u->size ? blob_before_last : NULL,
                                              .sent = blob_sent,
                                              .data = u };
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
                push_emit(p, REGISTRY_BLOB_PROGRESS, u->digest, NULL, off, u->size, true, NULL);
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
        return push_check_digest(u->digest, loc, &r, u->digest, err);
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
                        rc = push_check_digest(digest, url, &r, digest, err);
                        if (rc < 0)
                                return rc;
                        push_emit(p, REGISTRY_BLOB_MOUNTED, digest, NULL, 0, 0, false, *from);
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

int push_blob(struct push *p, const struct ynode *desc, struct cairn_error *err)
{
        const char *digest = push_scalar(ynode_map_get(desc, "digest"));
        const char *media_type = push_scalar(ynode_map_get(desc, "mediaType"));
        uint64_t size;
        if (!oci_digest_valid(digest) || push_descriptor_size(desc, &size) < 0)
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
                push_emit(p, REGISTRY_BLOB_EXISTS, digest, media_type, size, size, true, NULL);
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
        push_emit(p, REGISTRY_BLOB_PUSHED, digest, media_type, size, size, true, NULL);
        return 0;
}
