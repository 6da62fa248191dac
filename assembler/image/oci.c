/* SPDX-License-Identifier: Apache-2.0 */
#include "oci.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/json.h"

bool oci_digest_valid(const char *s)
{
        return s && startswith(s, "sha256:") && strlen(s) == strlen("sha256:") + 64 &&
               strspn(s + strlen("sha256:"), "0123456789abcdef") == 64;
}

int oci_blob_path(const char *layout, const char *digest, char **ret)
{
        if (!oci_digest_valid(digest))
                return -EINVAL;
        return asprintf(ret, "%s/" OCI_BLOBS_DIR "/%s", layout, digest + strlen("sha256:")) < 0
                       ? -ENOMEM
                       : 0;
}

const char *oci_layer_media_type(enum compress_alg alg)
{
        return alg == COMPRESS_ZSTD ? OCI_MEDIA_TYPE_LAYER_ZSTD : OCI_MEDIA_TYPE_LAYER_GZIP;
}

/* ---- documents ---- */

/* Closes a memory stream. A write that failed (out of memory) fails the document: a short
 * document is never used. */
static int memstream_close(FILE *f)
{
        bool failed = ferror(f);
        if (fclose(f) != 0 || failed)
                return -ENOMEM;
        return 0;
}

static void json_strv(struct json *j, const char *const *v)
{
        json_array_begin(j);
        for (size_t i = 0; v && v[i]; i++)
                json_string(j, v[i]);
        json_array_end(j);
}

static void json_annotations(struct json *j, const char *key, const struct oci_annotation *a,
                             size_t n)
{
        json_key(j, key);
        json_object_begin(j);
        for (size_t i = 0; i < n; i++)
                json_kv_string(j, a[i].key, a[i].value);
        json_object_end(j);
}

/* Debian's architecture names and OCI's (Go's GOARCH and GOARM), one table both ways. */
static const struct {
        const char *debian, *architecture, *variant;
} platforms[] = {
        { "amd64", "amd64", NULL },       { "arm64", "arm64", "v8" },
        { "armhf", "arm", "v7" },         { "armel", "arm", "v5" },
        { "i386", "386", NULL },          { "ppc64el", "ppc64le", NULL },
        { "s390x", "s390x", NULL },       { "riscv64", "riscv64", NULL },
        { "mips64el", "mips64le", NULL }, { "loong64", "loong64", NULL },
};

int oci_platform_from_debian(const char *debian_arch, struct oci_platform *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(platforms); i++)
                if (streq(platforms[i].debian, debian_arch)) {
                        *ret = (struct oci_platform){ "linux", platforms[i].architecture,
                                                      platforms[i].variant };
                        return 0;
                }
        return -EINVAL;
}

const char *oci_platform_to_debian(const char *architecture, const char *variant)
{
        if (variant && !*variant)
                variant = NULL;
        for (size_t i = 0; i < ELEMENTSOF(platforms); i++) {
                if (!streq(platforms[i].architecture, architecture))
                        continue;
                /* No variant asked: the first entry of the architecture (arm64 v8, arm v7). */
                if (!variant || streq_ptr(platforms[i].variant, variant))
                        return platforms[i].debian;
        }
        return NULL;
}

static void json_descriptor(struct json *j, const struct oci_descriptor *d)
{
        json_object_begin(j);
        json_kv_string(j, "mediaType", d->media_type);
        if (d->artifact_type)
                json_kv_string(j, "artifactType", d->artifact_type);
        json_kv_string(j, "digest", d->digest);
        json_kv_uint(j, "size", d->size);
        if (d->platform) {
                json_key(j, "platform");
                json_object_begin(j);
                json_kv_string(j, "architecture", d->platform->architecture);
                json_kv_string(j, "os", d->platform->os);
                if (d->platform->variant)
                        json_kv_string(j, "variant", d->platform->variant);
                json_object_end(j);
        }
        if (d->n_annotations)
                json_annotations(j, "annotations", d->annotations, d->n_annotations);
        json_object_end(j);
}

/* Docker's set notation: {"8080/tcp":{},"53/udp":{}}, in the given order. */
static void json_set(struct json *j, const char *key, const char *const *v)
{
        if (!v || !v[0])
                return;
        json_key(j, key);
        json_object_begin(j);
        for (size_t i = 0; v[i]; i++) {
                json_key(j, v[i]);
                json_object_begin(j);
                json_object_end(j);
        }
        json_object_end(j);
}

int oci_config_render(const struct oci_config *c, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        char created[32];
        json_format_time(c->created, created);
        struct json j;
        json_init(&j, f);
        json_object_begin(&j);
        json_kv_string(&j, "created", created);
        json_kv_string(&j, "architecture", c->architecture);
        json_kv_string(&j, "os", "linux");
        if (c->variant)
                json_kv_string(&j, "variant", c->variant);
        json_key(&j, "config");
        json_object_begin(&j);
        json_kv_string(&j, "User", c->user);
        json_set(&j, "ExposedPorts", c->exposed_ports);
        json_key(&j, "Env");
        json_strv(&j, c->env);
        if (c->entrypoint) {
                json_key(&j, "Entrypoint");
                json_strv(&j, c->entrypoint);
        }
        if (c->cmd) {
                json_key(&j, "Cmd");
                json_strv(&j, c->cmd);
        }
        json_set(&j, "Volumes", c->volumes);
        json_kv_string(&j, "WorkingDir", c->workdir);
        json_annotations(&j, "Labels", c->labels, c->n_labels);
        json_kv_string(&j, "StopSignal", c->stop_signal);
        if (c->healthcheck) {
                const struct oci_healthcheck *h = c->healthcheck;
                json_key(&j, "Healthcheck");
                json_object_begin(&j);
                json_key(&j, "Test");
                json_strv(&j, h->test);
                json_key(&j, "Interval");
                json_int(&j, h->interval_ns);
                json_key(&j, "Timeout");
                json_int(&j, h->timeout_ns);
                json_key(&j, "StartPeriod");
                json_int(&j, h->start_period_ns);
                json_kv_uint(&j, "Retries", h->retries);
                json_object_end(&j);
        }
        json_object_end(&j);
        json_key(&j, "rootfs");
        json_object_begin(&j);
        json_kv_string(&j, "type", "layers");
        json_key(&j, "diff_ids");
        json_array_begin(&j);
        for (size_t i = 0; i < c->n_layers; i++)
                json_string(&j, c->layers[i].diff_id);
        json_array_end(&j);
        json_object_end(&j);
        json_key(&j, "history");
        json_array_begin(&j);
        for (size_t i = 0; i < c->n_layers; i++) {
                json_object_begin(&j);
                json_kv_string(&j, "created", created);
                json_kv_string(&j, "created_by", c->layers[i].created_by);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        int r = memstream_close(f);
        if (r < 0)
                return r;
        *ret = steal_pointer(&buf);
        *ret_len = len;
        return 0;
}

int oci_manifest_render(const struct oci_manifest *m, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        struct json j;
        json_init(&j, f);
        json_object_begin(&j);
        json_key(&j, "schemaVersion");
        json_int(&j, 2);
        json_kv_string(&j, "mediaType", OCI_MEDIA_TYPE_MANIFEST);
        if (m->artifact_type)
                json_kv_string(&j, "artifactType", m->artifact_type);
        json_key(&j, "config");
        json_descriptor(&j, &m->config);
        json_key(&j, "layers");
        json_array_begin(&j);
        for (size_t i = 0; i < m->n_layers; i++)
                json_descriptor(&j, &m->layers[i]);
        json_array_end(&j);
        if (m->subject) {
                json_key(&j, "subject");
                json_descriptor(&j, m->subject);
        }
        if (m->n_annotations)
                json_annotations(&j, "annotations", m->annotations, m->n_annotations);
        json_object_end(&j);
        int r = memstream_close(f);
        if (r < 0)
                return r;
        *ret = steal_pointer(&buf);
        *ret_len = len;
        return 0;
}

int oci_index_render(const struct oci_descriptor *manifests, size_t n_manifests, char **ret,
                     size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
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
        for (size_t i = 0; i < n_manifests; i++)
                json_descriptor(&j, &manifests[i]);
        json_array_end(&j);
        json_object_end(&j);
        fputc('\n', f);
        int r = memstream_close(f);
        if (r < 0)
                return r;
        *ret = steal_pointer(&buf);
        *ret_len = len;
        return 0;
}

/* ---- writing a layout ---- */

int oci_layout_create(const char *layout, struct cairn_error *err)
{
        _cleanup_free_ char *blobs = NULL;
        if (asprintf(&blobs, "%s/" OCI_BLOBS_DIR, layout) < 0)
                return -ENOMEM;
        int r = mkdir_p(blobs, 0755);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", blobs, strerror(-r));
        return 0;
}

int oci_blob_open(const char *layout, char **ret_tmp, int *ret_fd, struct cairn_error *err)
{
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s/" OCI_BLOBS_DIR "/.tmp-XXXXXX", layout) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", layout);
        if (fchmod(fd, 0644) < 0) {
                int r = -errno;
                unlink(tmp);
                return cairn_error_errno(err, r, "%s: %s", layout, strerror(-r));
        }
        *ret_tmp = steal_pointer(&tmp);
        *ret_fd = steal_fd(&fd);
        return 0;
}

int oci_blob_commit(const char *layout, const char *tmp, const char *digest,
                    struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL;
        int r = oci_blob_path(layout, digest, &path);
        if (r < 0)
                return r;
        if (rename(tmp, path) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        return 0;
}

int oci_blob_write(const char *layout, const void *buf, size_t len, char ret_digest[DIGEST_OCI_LEN],
                   struct cairn_error *err)
{
        char hex[DIGEST_HEX_MAX], digest[DIGEST_OCI_LEN];
        digest_buf_hex(DIGEST_SHA256, buf, len, hex);
        snprintf(digest, sizeof(digest), "sha256:%s", hex);
        _cleanup_free_ char *path = NULL;
        int r = oci_blob_path(layout, digest, &path);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        r = write_all(fd, buf, len);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        memcpy(ret_digest, digest, sizeof(digest));
        return 0;
}

int oci_blob_link(const char *layout, const char *src, const char *digest, struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL;
        int r = oci_blob_path(layout, digest, &path);
        if (r < 0)
                return r;
        if (link(src, path) == 0)
                return 0;
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return cairn_error_errno(err, -errno, "%s: %m", src);
        _cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        r = copy_fd_all(in, out);
        if (r < 0) {
                unlink(path);
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        }
        return 0;
}

static int write_small_file(const char *dir, const char *name, const char *buf, size_t len,
                            struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        int r = write_all(fd, buf, len);
        return r < 0 ? cairn_error_errno(err, r, "%s: %s", path, strerror(-r)) : 0;
}

int oci_layout_finish(const char *layout, const char *index, size_t len, struct cairn_error *err)
{
        int r = write_small_file(layout, OCI_INDEX_FILE, index, len, err);
        if (r < 0)
                return r;
        return write_small_file(layout, OCI_LAYOUT_FILE, OCI_LAYOUT_JSON, strlen(OCI_LAYOUT_JSON),
                                err);
}
