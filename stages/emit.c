/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Emit: NAME-V.tar (the whole tree, uncompressed) and the OCI layout NAME-V/ for every
 * selected variant, in one streaming pass per tar. DESIGN.md §3 is followed to the letter:
 *
 *  - entries in byte order of their path, named "usr/bin/x" (no "./", no entry for "/"), the
 *    form docker and umoci write and read;
 *  - pax_restricted: an extended header only when a name or value does not fit ustar; mtime
 *    = epoch, no atime/ctime, numeric ids only (uname/gname left empty);
 *  - archive_write_set_bytes_in_last_block(a, 1): the bytes never depend on whether the
 *    output is a file or a pipe;
 *  - cairn never calls setlocale(), so libarchive's header charset is the same everywhere;
 *  - layers compressed by compress.h: gzip in fixed chunks deflated in parallel (fixed level,
 *    no timestamp, no name; the same bytes whatever the thread count) or zstd; digests are
 *    computed while the bytes stream out (diff_id over the tar, digest over the compressed
 *    blob), never by reading the output back.
 *
 * Layers: prod = [base, app] by each entry's layer; another variant V is prod's layers byte
 * for byte plus one layer holding what V adds or changes, with OCI whiteouts (.wh.NAME) for
 * what prod has and V lacks. Without a prod variant, V gets its own [base, app]. Each layer
 * tar also carries the parent directories of its entries, with their metadata from the tree.
 *
 * The SBOM NAME-V.spdx.json is also a blob of the layout, attached to the image by an OCI 1.1
 * artifact manifest whose `subject` is the image manifest; index.json lists both.
 */
#include "emit.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "image/compress.h"
#include "base/digest.h"
#include "base/json.h"
#include "image/layercache.h"
#include "image/sbom.h"
#include "version.h"

#define OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define SPDX_MEDIA_TYPE "application/spdx+json"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_write_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive_entry *, archive_entry_free)

/* One entry of a tar to write: a tree entry, or a whiteout (e == NULL). */
struct plan_item {
        const char *path; /* borrowed, or owned when whiteout */
        const struct tree_entry *e;
};

struct plan {
        struct plan_item *items;
        size_t n, cap;
        char **owned; /* whiteout paths */
        size_t n_owned, cap_owned;
};

static void plan_clear(struct plan *p)
{
        for (size_t i = 0; i < p->n_owned; i++)
                free(p->owned[i]);
        free(p->owned);
        free(p->items);
        *p = (struct plan){ 0 };
}

static int plan_cmp(const void *a, const void *b)
{
        return strcmp(((const struct plan_item *)a)->path, ((const struct plan_item *)b)->path);
}

static int plan_add(struct plan *p, const char *path, const struct tree_entry *e)
{
        if (GROW(p->items, p->cap, p->n + 1) < 0)
                return -ENOMEM;
        p->items[p->n++] = (struct plan_item){ path, e };
        return 0;
}

/* Adds the entries where want[i] is set, plus every parent directory they need. */
static int plan_from_mask(struct plan *p, const struct tree *t, bool *want)
{
        size_t n = tree_count(t);
        /* Parents sort before children: marking backwards reaches every ancestor. */
        for (size_t i = n; i-- > 1;) {
                if (!want[i])
                        continue;
                _cleanup_free_ char *parent = strdup(tree_at(t, i)->path);
                if (!parent)
                        return -ENOMEM;
                char *slash = strrchr(parent, '/');
                if (slash == parent)
                        continue;
                *slash = '\0';
                size_t pi;
                if (tree_index(t, parent, &pi) == 0)
                        want[pi] = true;
        }
        for (size_t i = 1; i < n; i++)
                if (want[i] && plan_add(p, tree_at(t, i)->path, tree_at(t, i)) < 0)
                        return -ENOMEM;
        return 0;
}

static int plan_layer(struct plan *p, const struct tree *t, enum tree_layer layer)
{
        size_t n = tree_count(t);
        _cleanup_free_ bool *want = calloc(n, sizeof(bool));
        if (!want)
                return -ENOMEM;
        for (size_t i = 1; i < n; i++) {
                const struct tree_entry *e = tree_at(t, i);
                want[i] = e->layer == layer && !(e->flags & TREE_ENTRY_IMPLICIT);
        }
        return plan_from_mask(p, t, want);
}

static bool entry_equal(const struct tree_entry *a, const struct tree_entry *b)
{
        return a->type == b->type && a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
               a->size == b->size &&
               (a->type != TREE_REG || store_key_cmp(&a->key, &b->key) == 0) &&
               streq_ptr(a->target, b->target) && a->dev_major == b->dev_major &&
               a->dev_minor == b->dev_minor;
}

/* What `top` adds or changes over `base`, plus whiteouts for what it lacks. */
static int plan_delta(struct plan *p, const struct tree *base, const struct tree *top)
{
        size_t n = tree_count(top);
        _cleanup_free_ bool *want = calloc(n, sizeof(bool));
        if (!want)
                return -ENOMEM;
        for (size_t i = 1; i < n; i++) {
                const struct tree_entry *e = tree_at(top, i);
                const struct tree_entry *o = tree_lookup(base, e->path);
                want[i] = !o || !entry_equal(o, e);
        }
        /* Whiteouts: the topmost removed paths only (removing a directory removes its
         * children). Their parent directories exist in top. */
        size_t nb = tree_count(base);
        const char *removed_dir = NULL;
        for (size_t i = 1; i < nb; i++) {
                const struct tree_entry *o = tree_at(base, i);
                if (removed_dir && startswith(o->path, removed_dir) &&
                    o->path[strlen(removed_dir)] == '/')
                        continue;
                if (tree_lookup(top, o->path))
                        continue;
                removed_dir = o->type == TREE_DIR ? o->path : NULL;
                const char *slash = strrchr(o->path, '/');
                char *wh = NULL;
                if (asprintf(&wh, "%.*s/.wh.%s", (int)(slash - o->path), o->path, slash + 1) < 0)
                        return -ENOMEM;
                if (GROW(p->owned, p->cap_owned, p->n_owned + 1) < 0) {
                        free(wh);
                        return -ENOMEM;
                }
                p->owned[p->n_owned++] = wh;
                if (plan_add(p, wh, NULL) < 0)
                        return -ENOMEM;
                size_t pi;
                if (slash != o->path) {
                        _cleanup_free_ char *parent = strndup(o->path, (size_t)(slash - o->path));
                        if (parent && tree_index(top, parent, &pi) == 0)
                                want[pi] = true;
                }
        }
        int r = plan_from_mask(p, top, want);
        if (r < 0)
                return r;
        qsort(p->items, p->n, sizeof(*p->items), plan_cmp);
        return 0;
}

static int plan_all(struct plan *p, const struct tree *t)
{
        size_t n = tree_count(t);
        for (size_t i = 1; i < n; i++)
                if (plan_add(p, tree_at(t, i)->path, tree_at(t, i)) < 0)
                        return -ENOMEM;
        return 0;
}

/* Where the bytes of one tar go: hashed (diff_id), then to a compressor or a file. */
struct tar_sink {
        int fd;                 /* destination of the final bytes, or -1; borrowed */
        struct digest *tar_dig; /* over the uncompressed tar */
        uint64_t tar_size;
        struct compressor *z; /* or NULL; borrowed */
        struct digest *z_dig; /* over the compressed bytes */
        uint64_t z_size;
        int error; /* negative errno of a failed write */
};

/* Compressed bytes, in order, on the emitting thread. */
static int z_sink(void *data, const void *buf, size_t len)
{
        struct tar_sink *s = data;
        int r = write_all(s->fd, buf, len);
        if (r < 0)
                return r;
        digest_update(s->z_dig, buf, len);
        s->z_size += len;
        return 0;
}

static la_ssize_t tar_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
        struct tar_sink *s = data;
        digest_update(s->tar_dig, buf, len);
        s->tar_size += len;
        int r = 0;
        if (s->z)
                r = compress_write(s->z, buf, len);
        else if (s->fd >= 0)
                r = write_all(s->fd, buf, len);
        if (r < 0) {
                s->error = r;
                archive_set_error(a, -r, "%s", strerror(-r));
                return -1;
        }
        return (la_ssize_t)len;
}

static int write_entry(struct archive *a, const struct plan_item *it, const struct store *st,
                       int64_t epoch, uint8_t *buf, size_t bufsize, struct cairn_error *err)
{
        _cleanup_(archive_entry_freep) struct archive_entry *ae = archive_entry_new();
        if (!ae)
                return -ENOMEM;
        const struct tree_entry *e = it->e;
        archive_entry_set_pathname(ae, it->path + 1);
        archive_entry_set_mtime(ae, epoch, 0);
        if (!e) {
                archive_entry_set_filetype(ae, AE_IFREG);
                archive_entry_set_perm(ae, 0644);
                archive_entry_set_size(ae, 0);
        } else {
                archive_entry_set_uid(ae, e->uid);
                archive_entry_set_gid(ae, e->gid);
                archive_entry_set_perm(ae, e->mode & 07777);
                switch (e->type) {
                case TREE_REG:
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_size(ae, (la_int64_t)e->size);
                        break;
                case TREE_DIR:
                        archive_entry_set_filetype(ae, AE_IFDIR);
                        break;
                case TREE_SYMLINK:
                        archive_entry_set_filetype(ae, AE_IFLNK);
                        archive_entry_set_symlink(ae, e->target);
                        break;
                case TREE_HARDLINK:
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_hardlink(ae, e->target + 1);
                        archive_entry_set_size(ae, 0);
                        break;
                case TREE_CHR:
                case TREE_BLK:
                        archive_entry_set_filetype(ae, e->type == TREE_CHR ? AE_IFCHR : AE_IFBLK);
                        archive_entry_set_rdevmajor(ae, e->dev_major);
                        archive_entry_set_rdevminor(ae, e->dev_minor);
                        break;
                case TREE_FIFO:
                        archive_entry_set_filetype(ae, AE_IFIFO);
                        break;
                case TREE_SOCK:
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: sockets cannot be stored in a tar", e->path);
                }
        }
        /* In the C locale libarchive cannot translate a non-ASCII name to UTF-8 and warns
         * (EILSEQ); it then writes the bytes as they are under hdrcharset=BINARY, which is what
         * cairn wants: names byte for byte, whatever the locale. */
        int ar = archive_write_header(a, ae);
        if (ar != ARCHIVE_OK && !(ar == ARCHIVE_WARN && archive_errno(a) == EILSEQ))
                return cairn_error_add(err, CAIRN_EXIT_IO, -EIO, "%s: %s", it->path,
                                       archive_error_string(a));
        if (!e || e->type != TREE_REG || e->size == 0)
                return 0;
        _cleanup_close_ int fd = store_open_key(st, &e->key);
        if (fd < 0)
                return cairn_error_errno(err, fd, "%s: content missing from the store: %s", e->path,
                                         strerror(-fd));
        uint64_t left = e->size;
        while (left > 0) {
                ssize_t n = read(fd, buf, left < bufsize ? left : bufsize);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return cairn_error_errno(err, n < 0 ? -errno : -EIO,
                                                 "%s: reading its content: %s", e->path,
                                                 n < 0 ? strerror(errno) : "short file");
                if (archive_write_data(a, buf, (size_t)n) != n)
                        return cairn_error_add(err, CAIRN_EXIT_IO, -EIO, "%s: %s", e->path,
                                               archive_error_string(a));
                left -= (uint64_t)n;
        }
        return 0;
}

/*
 * Writes the tar of plan to fd, compressed with alg when alg is not NULL; with fd -1 (and no
 * alg) only hashes it. Fills the digests ("sha256:...") and sizes. The sink's own digest
 * objects live only during the call.
 */
static int write_tar(const struct plan *p, const struct store *st, int64_t epoch, int fd,
                     const char *alg, char diff_id[DIGEST_OCI_LEN], uint64_t *tar_size,
                     char blob_digest[DIGEST_OCI_LEN], uint64_t *blob_size, struct cairn_error *err)
{
        _cleanup_digest_ struct digest *td = digest_new(DIGEST_SHA256);
        _cleanup_digest_ struct digest *zd = digest_new(DIGEST_SHA256);
        _cleanup_free_ uint8_t *buf = malloc(256 * 1024);
        if (!td || !zd || !buf)
                return -ENOMEM;
        struct tar_sink s = { .fd = fd, .tar_dig = td, .z_dig = zd };
        _cleanup_(compress_freep) struct compressor *z = NULL;
        int r;
        if (alg) {
                enum compress_alg za;
                if (compress_alg_from_name(alg, &za) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "unknown compression '%s'", alg);
                r = compress_new(za, compress_default_threads(), z_sink, &s, &z);
                if (r < 0)
                        return r;
                s.z = z;
        }
        _cleanup_(archive_write_freep) struct archive *a = archive_write_new();
        if (!a)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_set_bytes_per_block(a, 10240) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open2(a, &s, NULL, tar_write_cb, NULL, NULL) != ARCHIVE_OK)
                return cairn_error_add(err, CAIRN_EXIT_IO, -EIO, "tar: %s",
                                       archive_error_string(a));
        for (size_t i = 0; i < p->n; i++) {
                r = write_entry(a, &p->items[i], st, epoch, buf, 256 * 1024, err);
                if (r < 0)
                        return s.error ? cairn_error_errno(err, s.error, "writing: %s",
                                                           strerror(-s.error))
                                       : r;
        }
        if (archive_write_close(a) != ARCHIVE_OK)
                return s.error ? cairn_error_errno(err, s.error, "writing: %s", strerror(-s.error))
                               : cairn_error_add(err, CAIRN_EXIT_IO, -EIO, "tar: %s",
                                                 archive_error_string(a));
        if (z) {
                r = compress_finish(z);
                if (r < 0)
                        return cairn_error_errno(err, r, "writing: %s", strerror(-r));
        }
        digest_final_oci(td, diff_id);
        *tar_size = s.tar_size;
        if (z) {
                digest_final_oci(zd, blob_digest);
                *blob_size = s.z_size;
        }
        return 0;
}

/* A blob written to blobs/sha256/.tmp and renamed to its digest once known. */
static int blob_open(const char *layout, char **ret_tmp, int *ret_fd, struct cairn_error *err)
{
        char *tmp = NULL;
        if (asprintf(&tmp, "%s/blobs/sha256/.tmp-XXXXXX", layout) < 0)
                return -ENOMEM;
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                free(tmp);
                return cairn_error_errno(err, r, "%s: %s", layout, strerror(-r));
        }
        if (fchmod(fd, 0644) < 0) {
                int r = -errno;
                close(fd);
                unlink(tmp);
                free(tmp);
                return cairn_error_errno(err, r, "%s: %s", layout, strerror(-r));
        }
        *ret_tmp = tmp;
        *ret_fd = fd;
        return 0;
}

static int blob_commit(const char *layout, const char *tmp, const char *digest,
                       struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/blobs/sha256/%s", layout, digest + 7) < 0)
                return -ENOMEM;
        if (rename(tmp, path) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        return 0;
}

static int blob_write_buf(const char *layout, const char *buf, size_t len,
                          char digest[DIGEST_OCI_LEN], struct cairn_error *err)
{
        char hex[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, buf, len, hex);
        snprintf(digest, DIGEST_OCI_LEN, "sha256:%s", hex);
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/blobs/sha256/%s", layout, hex) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        int r = write_all(fd, buf, len);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        return 0;
}

/*
 * Where a layer can come from without being compressed: a layer already written during this
 * emit, or one compressed by an earlier build (the layer cache, layercache.h). Every variant's
 * base and app layers come from the same tree (prod's), so they are the same bytes: the second
 * variant links the first one's blob (a copy where links fail) instead of writing it again.
 */
struct written_layer {
        const struct tree *tree; /* borrowed: the tree the layer was cut from */
        enum tree_layer layer;
        struct build_layer_result res;
        char *blob; /* owned: path of the blob file */
};

struct layer_reuse {
        struct written_layer *items; /* owned */
        size_t n, cap;
        struct layercache *cache; /* owned; NULL: none */
};

static void layer_reuse_clear(struct layer_reuse *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->items[i].blob);
        free(c->items);
        layercache_free(c->cache);
        *c = (struct layer_reuse){ 0 };
}

static const struct written_layer *layer_reuse_find(const struct layer_reuse *c,
                                                    const struct tree *t, enum tree_layer layer)
{
        for (size_t i = 0; i < c->n; i++)
                if (c->items[i].tree == t && c->items[i].layer == layer)
                        return &c->items[i];
        return NULL;
}

static int layer_reuse_add(struct layer_reuse *c, const struct tree *t, enum tree_layer layer,
                           const char *layout, const struct build_layer_result *res)
{
        char *blob = NULL;
        if (asprintf(&blob, "%s/blobs/sha256/%s", layout, res->digest + 7) < 0)
                return -ENOMEM;
        if (GROW(c->items, c->cap, c->n + 1) < 0) {
                free(blob);
                return -ENOMEM;
        }
        c->items[c->n++] = (struct written_layer){ t, layer, *res, blob };
        return 0;
}

/* Puts the blob of an already written layer into layout. */
static int blob_reuse(const char *layout, const struct written_layer *w, struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/blobs/sha256/%s", layout, w->res.digest + 7) < 0)
                return -ENOMEM;
        if (link(w->blob, path) == 0)
                return 0;
        _cleanup_close_ int in = open(w->blob, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return cairn_error_errno(err, -errno, "%s: %m", w->blob);
        _cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        int r = copy_fd_all(in, out);
        if (r < 0) {
                unlink(path);
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        }
        return 0;
}

static void hash_u64(XXH3_state_t *h, uint64_t v)
{
        (void)XXH3_128bits_update(h, &v, sizeof(v));
}

static void hash_str(XXH3_state_t *h, const char *s)
{
        (void)XXH3_128bits_update(h, s, strlen(s) + 1);
}

/*
 * The layer cache's key for the tar of plan: XXH3-128 over what write_tar makes it from (each
 * item's path, metadata and content key, the epoch, libarchive's version). Only a hint that
 * an entry applies: the entry is used when the tar's diff_id, computed afresh, is the one it
 * records. It spares a build with no entry a second pass, since that build compresses while it
 * hashes.
 */
static int plan_key(const struct plan *p, int64_t epoch, char out[STORE_KEY_HEX_LEN + 1])
{
        XXH3_state_t *h = XXH3_createState();
        if (!h || XXH3_128bits_reset(h) != XXH_OK) {
                XXH3_freeState(h);
                return -ENOMEM;
        }
        hash_str(h, archive_version_string());
        hash_u64(h, (uint64_t)epoch);
        for (size_t i = 0; i < p->n; i++) {
                const struct tree_entry *e = p->items[i].e;
                hash_str(h, p->items[i].path);
                if (!e) {
                        hash_u64(h, UINT64_MAX); /* a whiteout */
                        continue;
                }
                const uint64_t meta[] = { e->type, e->mode,      e->uid,      e->gid,
                                          e->size, e->dev_major, e->dev_minor };
                (void)XXH3_128bits_update(h, meta, sizeof(meta));
                if (e->type == TREE_REG)
                        (void)XXH3_128bits_update(h, e->key.bytes, sizeof(e->key.bytes));
                hash_str(h, e->target ? e->target : "");
        }
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h));
        XXH3_freeState(h);
        hex_encode(c.digest, sizeof(c.digest), out);
        return 0;
}

/* Writes the layer of plan, compressed, into layout (no cache involved). */
static int write_layer_compressed(const char *layout, const struct plan *p, const struct build *b,
                                  struct build_layer_result *res, struct cairn_error *err)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r = blob_open(layout, &tmp, &fd, err);
        if (r < 0)
                return r;
        uint64_t tar_size;
        r = write_tar(p, b->store, b->epoch, fd, b->opts.compression, res->diff_id, &tar_size,
                      res->digest, &res->size, err);
        if (r >= 0)
                r = blob_commit(layout, tmp, res->digest, err);
        if (r < 0)
                unlink(tmp);
        return r;
}

/*
 * Writes the layer of plan into layout. With a layer cache, a layer whose entry is found is
 * not compressed: its tar is only hashed and, when the diff_id is the entry's, the cached blob
 * is linked in (layercache_get checks its size and sha256). Anything else is compressed as
 * without a cache, then stored in it; failing to store it does not fail the build.
 */
static int write_layer(const char *layout, const struct plan *p, const struct build *b,
                       struct layercache *cache, const char *name, struct build_layer_result *ret,
                       struct cairn_error *err)
{
        struct build_layer_result res = { 0 };
        snprintf(res.name, sizeof(res.name), "%s", name);
        char key[STORE_KEY_HEX_LEN + 1];
        struct layercache_entry hit;
        int r;
        if (cache && plan_key(p, b->epoch, key) < 0)
                return -ENOMEM;
        if (cache && layercache_lookup(cache, key, &hit) == 0) {
                uint64_t tar_size;
                r = write_tar(p, b->store, b->epoch, -1, NULL, res.diff_id, &tar_size, NULL, NULL,
                              err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/blobs/sha256/%s", layout, hit.digest + 7) < 0)
                        return -ENOMEM;
                if (streq(res.diff_id, hit.diff_id) && layercache_get(cache, &hit, path) == 0) {
                        memcpy(res.digest, hit.digest, sizeof(hit.digest));
                        res.size = hit.size;
                        *ret = res;
                        return 0;
                }
        }
        r = write_layer_compressed(layout, p, b, &res, err);
        if (r < 0)
                return r;
        if (cache) {
                struct layercache_entry entry = { .size = res.size };
                memcpy(entry.diff_id, res.diff_id, sizeof(entry.diff_id));
                memcpy(entry.digest, res.digest, sizeof(entry.digest));
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/blobs/sha256/%s", layout, res.digest + 7) < 0)
                        return -ENOMEM;
                (void)layercache_put(cache, key, &entry, path);
        }
        *ret = res;
        return 0;
}

static void json_strv(struct json *j, char *const *v)
{
        json_array_begin(j);
        for (size_t i = 0; v && v[i]; i++)
                json_string(j, v[i]);
        json_array_end(j);
}

static char *join_strv(char *const *v, const char *sep)
{
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        if (!f)
                return NULL;
        for (size_t i = 0; v && v[i]; i++)
                fprintf(f, "%s%s", i ? sep : "", v[i]);
        fclose(f);
        return s;
}

/* The OCI image config; fixed key order, compact. */
static int config_json(const struct build *b, const struct build_variant *v,
                       const struct build_emit_result *e, char **ret, size_t *ret_len,
                       struct cairn_error *err)
{
        const struct recipe_run *run = &v->view->run;
        uint32_t uid, gid;
        int r = recipe_view_run_ids(v->view, &uid, &gid, err);
        if (r < 0)
                return r;
        char created[32], user[32];
        json_format_time(b->epoch, created);
        snprintf(user, sizeof(user), "%u:%u", uid, gid);
        _cleanup_free_ char *writable = join_strv(run->writable, ",");
        _cleanup_free_ char *require = join_strv(run->require_env, ",");
        if (!writable || !require)
                return -ENOMEM;

        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        struct json j;
        json_init(&j, f);
        json_object_begin(&j);
        json_kv_string(&j, "created", created);
        json_kv_string(&j, "architecture", b->arch);
        json_kv_string(&j, "os", "linux");
        json_key(&j, "config");
        json_object_begin(&j);
        json_kv_string(&j, "User", user);
        json_key(&j, "Env");
        json_array_begin(&j);
        bool has_path = false;
        for (size_t i = 0; i < run->n_env; i++)
                has_path = has_path || streq(run->env[i].key, "PATH");
        if (!has_path)
                json_string(&j,
                            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (size_t i = 0; i < run->n_env; i++) {
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "%s=%s", run->env[i].key, run->env[i].value) >= 0)
                        json_string(&j, kv);
        }
        json_array_end(&j);
        if (run->init && run->entrypoint) {
                /* cairn-init runs the entrypoint and applies the run: checks. */
                json_key(&j, "Entrypoint");
                json_array_begin(&j);
                json_string(&j, "/sbin/cairn-init");
                for (size_t i = 0; run->require_env && run->require_env[i]; i++) {
                        json_string(&j, "--require-env");
                        json_string(&j, run->require_env[i]);
                }
                for (size_t i = 0; run->writable && run->writable[i]; i++) {
                        json_string(&j, "--writable");
                        json_string(&j, run->writable[i]);
                }
                if (run->read_only > 0)
                        json_string(&j, "--read-only-root");
                json_string(&j, "--");
                for (size_t i = 0; run->entrypoint[i]; i++)
                        json_string(&j, run->entrypoint[i]);
                json_array_end(&j);
        } else if (run->entrypoint) {
                json_key(&j, "Entrypoint");
                json_strv(&j, run->entrypoint);
        }
        if (run->cmd) {
                json_key(&j, "Cmd");
                json_strv(&j, run->cmd);
        }
        json_kv_string(&j, "WorkingDir", run->workdir ? run->workdir : "/");
        json_key(&j, "Labels");
        json_object_begin(&j);
        for (size_t i = 0; i < run->n_labels; i++)
                json_kv_string(&j, run->labels[i].key, run->labels[i].value);
        json_kv_string(&j, "dev.cairn.variant", v->name);
        json_kv_string(&j, "dev.cairn.read-only", run->read_only > 0 ? "true" : "false");
        json_kv_string(&j, "dev.cairn.writable", writable);
        json_kv_string(&j, "dev.cairn.require-env", require);
        json_object_end(&j);
        json_kv_string(&j, "StopSignal", run->stop_signal ? run->stop_signal : "SIGTERM");
        json_object_end(&j);
        json_key(&j, "rootfs");
        json_object_begin(&j);
        json_kv_string(&j, "type", "layers");
        json_key(&j, "diff_ids");
        json_array_begin(&j);
        for (size_t i = 0; i < e->n_layers; i++)
                json_string(&j, e->layers[i].diff_id);
        json_array_end(&j);
        json_object_end(&j);
        json_key(&j, "history");
        json_array_begin(&j);
        for (size_t i = 0; i < e->n_layers; i++) {
                _cleanup_free_ char *by = NULL;
                if (asprintf(&by, "cairn %s: %s layer of %s", CAIRN_VERSION, e->layers[i].name,
                             b->recipe->name) < 0)
                        by = NULL;
                json_object_begin(&j);
                json_kv_string(&j, "created", created);
                json_kv_string(&j, "created_by", by ? by : "cairn");
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
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

static const char *layer_media_type(const struct build *b)
{
        return streq(b->opts.compression, "zstd") ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                                  : "application/vnd.oci.image.layer.v1.tar+gzip";
}

/* The image manifest, as a blob of layout; fills e->manifest_digest and manifest_size. */
static int write_manifest(const char *layout, const struct build *b, struct build_variant *v,
                          const char *config_digest, size_t config_size, struct cairn_error *err)
{
        struct build_emit_result *e = &v->emit;
        char created[32];
        json_format_time(b->epoch, created);
        _cleanup_free_ char *m = NULL;
        size_t mlen = 0;
        FILE *f = open_memstream(&m, &mlen);
        if (!f)
                return -ENOMEM;
        struct json j;
        json_init(&j, f);
        json_object_begin(&j);
        json_key(&j, "schemaVersion");
        json_int(&j, 2);
        json_kv_string(&j, "mediaType", OCI_MANIFEST);
        json_key(&j, "config");
        json_object_begin(&j);
        json_kv_string(&j, "mediaType", "application/vnd.oci.image.config.v1+json");
        json_kv_string(&j, "digest", config_digest);
        json_kv_uint(&j, "size", config_size);
        json_object_end(&j);
        json_key(&j, "layers");
        json_array_begin(&j);
        for (size_t i = 0; i < e->n_layers; i++) {
                json_object_begin(&j);
                json_kv_string(&j, "mediaType", layer_media_type(b));
                json_kv_string(&j, "digest", e->layers[i].digest);
                json_kv_uint(&j, "size", e->layers[i].size);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_key(&j, "annotations");
        json_object_begin(&j);
        json_kv_string(&j, "org.opencontainers.image.created", created);
        json_kv_string(&j, "org.opencontainers.image.title", b->recipe->name);
        json_kv_string(&j, "org.opencontainers.image.ref.name", v->name);
        json_object_end(&j);
        json_object_end(&j);
        if (fclose(f) != 0)
                return -ENOMEM;
        int r = blob_write_buf(layout, m, mlen, e->manifest_digest, err);
        if (r < 0)
                return r;
        e->manifest_size = mlen;
        return 0;
}

/*
 * Attaches the SBOM (sbom, len bytes: the content of NAME-V.spdx.json) to the image as an
 * OCI 1.1 artifact: an image manifest with artifactType application/spdx+json, the empty
 * config `{}`, the SBOM as its one layer and the image manifest as its `subject`, so
 * registries with the referrers API list it under the image. Fills e->sbom_digest and the
 * artifact manifest's digest and size.
 */
static int write_sbom_referrer(const char *layout, const struct build *b, struct build_variant *v,
                               const char *sbom, size_t len, struct cairn_error *err)
{
        struct build_emit_result *e = &v->emit;
        char empty_digest[DIGEST_OCI_LEN];
        int r = blob_write_buf(layout, "{}", 2, empty_digest, err);
        if (r >= 0)
                r = blob_write_buf(layout, sbom, len, e->sbom_digest, err);
        if (r < 0)
                return r;
        char created[32];
        json_format_time(b->epoch, created);
        _cleanup_free_ char *title = NULL;
        if (asprintf(&title, "%s-%s.spdx.json", b->recipe->name, v->name) < 0)
                return -ENOMEM;

        _cleanup_free_ char *m = NULL;
        size_t mlen = 0;
        FILE *f = open_memstream(&m, &mlen);
        if (!f)
                return -ENOMEM;
        struct json j;
        json_init(&j, f);
        json_object_begin(&j);
        json_key(&j, "schemaVersion");
        json_int(&j, 2);
        json_kv_string(&j, "mediaType", OCI_MANIFEST);
        json_kv_string(&j, "artifactType", SPDX_MEDIA_TYPE);
        json_key(&j, "config");
        json_object_begin(&j);
        json_kv_string(&j, "mediaType", "application/vnd.oci.empty.v1+json");
        json_kv_string(&j, "digest", empty_digest);
        json_kv_uint(&j, "size", 2);
        json_object_end(&j);
        json_key(&j, "layers");
        json_array_begin(&j);
        json_object_begin(&j);
        json_kv_string(&j, "mediaType", SPDX_MEDIA_TYPE);
        json_kv_string(&j, "digest", e->sbom_digest);
        json_kv_uint(&j, "size", len);
        json_key(&j, "annotations");
        json_object_begin(&j);
        json_kv_string(&j, "org.opencontainers.image.title", title);
        json_object_end(&j);
        json_object_end(&j);
        json_array_end(&j);
        json_key(&j, "subject");
        json_object_begin(&j);
        json_kv_string(&j, "mediaType", OCI_MANIFEST);
        json_kv_string(&j, "digest", e->manifest_digest);
        json_kv_uint(&j, "size", e->manifest_size);
        json_object_end(&j);
        json_key(&j, "annotations");
        json_object_begin(&j);
        json_kv_string(&j, "org.opencontainers.image.created", created);
        json_object_end(&j);
        json_object_end(&j);
        if (fclose(f) != 0)
                return -ENOMEM;
        r = blob_write_buf(layout, m, mlen, e->sbom_manifest_digest, err);
        if (r < 0)
                return r;
        e->sbom_manifest_size = mlen;
        return 0;
}

/*
 * index.json: the image under its ref name, then the SBOM's artifact manifest without a ref
 * name and with its artifactType, the way oras stores referrers in a layout (image-spec 1.1
 * defines no referrers index for layouts). Readers that pick an image by ref name (umoci,
 * skopeo oci:DIR:REF) are unaffected; image_load skips descriptors with an artifactType.
 */
static int write_index(const char *layout, const struct build_variant *v, struct cairn_error *err)
{
        const struct build_emit_result *e = &v->emit;
        _cleanup_free_ char *idx = NULL;
        size_t ilen = 0;
        FILE *f = open_memstream(&idx, &ilen);
        if (!f)
                return -ENOMEM;
        struct json j;
        json_init(&j, f);
        json_object_begin(&j);
        json_key(&j, "schemaVersion");
        json_int(&j, 2);
        json_kv_string(&j, "mediaType", "application/vnd.oci.image.index.v1+json");
        json_key(&j, "manifests");
        json_array_begin(&j);
        json_object_begin(&j);
        json_kv_string(&j, "mediaType", OCI_MANIFEST);
        json_kv_string(&j, "digest", e->manifest_digest);
        json_kv_uint(&j, "size", e->manifest_size);
        json_key(&j, "annotations");
        json_object_begin(&j);
        json_kv_string(&j, "org.opencontainers.image.ref.name", v->name);
        json_object_end(&j);
        json_object_end(&j);
        if (e->sbom_manifest_digest[0]) {
                json_object_begin(&j);
                json_kv_string(&j, "mediaType", OCI_MANIFEST);
                json_kv_string(&j, "artifactType", SPDX_MEDIA_TYPE);
                json_kv_string(&j, "digest", e->sbom_manifest_digest);
                json_kv_uint(&j, "size", e->sbom_manifest_size);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        fputc('\n', f);
        if (fclose(f) != 0)
                return -ENOMEM;
        int r = write_small_file(layout, "index.json", idx, ilen, err);
        if (r < 0)
                return r;
        static const char oci_layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}\n";
        return write_small_file(layout, "oci-layout", oci_layout, sizeof(oci_layout) - 1, err);
}

static int emit_layout(const struct build *b, struct build_variant *v, const char *out_dir,
                       struct layer_reuse *reuse, struct cairn_error *err)
{
        _cleanup_free_ char *layout = NULL, *blobs = NULL;
        if (asprintf(&layout, "%s/%s-%s", out_dir, b->recipe->name, v->name) < 0 ||
            asprintf(&blobs, "%s/blobs/sha256", layout) < 0)
                return -ENOMEM;
        int r = mkdir_p(blobs, 0755);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", blobs, strerror(-r));

        struct build_variant *prod = NULL;
        for (size_t i = 0; i < b->n_variants; i++)
                if (streq(b->variants[i].name, "prod"))
                        prod = &b->variants[i];
        const struct tree *base_tree = prod ? prod->tree : v->tree;

        struct build_emit_result *e = &v->emit;
        e->n_layers = 0;
        static const struct {
                const char *name;
                enum tree_layer layer;
        } layers[] = { { "base", TREE_LAYER_BASE }, { "app", TREE_LAYER_APP } };
        for (size_t i = 0; i < ELEMENTSOF(layers); i++) {
                const struct written_layer *w = layer_reuse_find(reuse, base_tree, layers[i].layer);
                if (w) {
                        r = blob_reuse(layout, w, err);
                        if (r < 0)
                                return r;
                        e->layers[e->n_layers++] = w->res;
                        continue;
                }
                struct plan p = { 0 };
                r = plan_layer(&p, base_tree, layers[i].layer);
                if (r >= 0)
                        r = write_layer(layout, &p, b, reuse->cache, layers[i].name,
                                        &e->layers[e->n_layers], err);
                plan_clear(&p);
                if (r >= 0)
                        r = layer_reuse_add(reuse, base_tree, layers[i].layer, layout,
                                            &e->layers[e->n_layers]);
                if (r < 0)
                        return r;
                e->n_layers++;
        }
        if (prod && prod != v) {
                struct plan p = { 0 };
                r = plan_delta(&p, prod->tree, v->tree);
                if (r >= 0)
                        r = write_layer(layout, &p, b, reuse->cache, v->name,
                                        &e->layers[e->n_layers], err);
                plan_clear(&p);
                if (r < 0)
                        return r;
                e->n_layers++;
        }

        _cleanup_free_ char *config = NULL;
        size_t clen = 0;
        r = config_json(b, v, e, &config, &clen, err);
        if (r >= 0)
                r = blob_write_buf(layout, config, clen, e->config_digest, err);
        if (r < 0)
                return r;
        return write_manifest(layout, b, v, e->config_digest, clen, err);
}

static int emit_rootfs_tar(const struct build *b, struct build_variant *v, const char *out_dir,
                           struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s-%s.tar", out_dir, b->recipe->name, v->name) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        struct plan p = { 0 };
        int r = plan_all(&p, v->tree);
        if (r >= 0)
                r = write_tar(&p, b->store, b->epoch, fd, NULL, v->emit.tar_digest,
                              &v->emit.tar_size, NULL, NULL, err);
        v->emit.n_entries = p.n;
        plan_clear(&p);
        /* Not fsynced, like the layout's blobs: an fsync bought no crash consistency for OUT as
         * a whole and cost the disk's time for every byte (1.5-3 s for 512 MiB on the CI
         * machine). close() still reports a deferred write error. */
        if (r >= 0 && close(steal_fd(&fd)) < 0)
                r = cairn_error_errno(err, -errno, "%s: %m", path);
        return r;
}

struct rootfs_task {
        const struct build *b;   /* borrowed */
        struct build_variant *v; /* borrowed; the task fills v->emit's tar fields only */
        const char *out_dir;     /* borrowed */
        struct cairn_error err;
        int r;
};

static void *rootfs_task_main(void *data)
{
        struct rootfs_task *t = data;
        t->r = emit_rootfs_tar(t->b, t->v, t->out_dir, &t->err);
        return NULL;
}

/*
 * Has the store compute the SBOM's file digests (it remembers them, so sbom_write only looks
 * them up). Errors are left for sbom_write, which asks again and reports them with context.
 */
static void prefetch_file_digests(const struct build *b, const struct build_variant *v)
{
        const struct tree_entry *e;
        tree_foreach (e, v->tree) {
                if (e->type != TREE_REG)
                        continue;
                char sha1[DIGEST_HEX_MAX], sha256[DIGEST_HEX_MAX];
                (void)store_object_digests(b->store, &e->key, sha1, sha256);
        }
}

/*
 * NAME-V.tar and the layout NAME-V/ read the same store objects and share nothing else, so with
 * more than one thread the tar is written on a thread of its own beside the layout: two streams
 * of reading, hashing and writing on two cores. Each fills its own fields of v->emit, so the
 * outputs are the same either way. The tar's error wins, as when they run one after the other.
 */
static int emit_tar_and_layout(const struct build *b, struct build_variant *v, const char *out_dir,
                               struct layer_reuse *reuse, struct cairn_error *err)
{
        struct rootfs_task t = { b, v, out_dir, CAIRN_ERROR_INIT, 0 };
        pthread_t thread;
        if (compress_default_threads() < 2 ||
            pthread_create(&thread, NULL, rootfs_task_main, &t) != 0) {
                int r = emit_rootfs_tar(b, v, out_dir, err);
                return r < 0 ? r : emit_layout(b, v, out_dir, reuse, err);
        }
        int r = emit_layout(b, v, out_dir, reuse, err);
        /* Hash for the SBOM while the tar's thread finishes. */
        if (r >= 0)
                prefetch_file_digests(b, v);
        pthread_join(thread, NULL);
        if (t.r < 0) {
                cairn_error_clear(err);
                *err = t.err;
                return t.r;
        }
        return r;
}

/* NAME-V.spdx.json, the same bytes as a blob of the layout, and the artifact manifest that
 * attaches them to the image. */
static int emit_sbom(const struct build *b, struct build_variant *v, const char *out_dir,
                     struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL, *layout = NULL, *sbom = NULL;
        if (asprintf(&path, "%s/%s-%s.spdx.json", out_dir, b->recipe->name, v->name) < 0 ||
            asprintf(&layout, "%s/%s-%s", out_dir, b->recipe->name, v->name) < 0)
                return -ENOMEM;
        size_t len = 0;
        int r = sbom_render_buf(b, v, &sbom, &len, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        r = write_all(fd, sbom, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        return write_sbom_referrer(layout, b, v, sbom, len, err);
}

static int emit_index(const struct build *b, const struct build_variant *v, const char *out_dir,
                      struct cairn_error *err)
{
        _cleanup_free_ char *layout = NULL;
        if (asprintf(&layout, "%s/%s-%s", out_dir, b->recipe->name, v->name) < 0)
                return -ENOMEM;
        return write_index(layout, v, err);
}

int stage_emit(struct build *b, const char *out_dir, struct cairn_error *err)
{
        _cleanup_(layer_reuse_clear) struct layer_reuse reuse = { 0 };
        enum compress_alg alg;
        char format[COMPRESS_FORMAT_ID_MAX];
        /* An unknown compression is reported by write_tar. */
        if (!b->opts.no_layer_cache && compress_alg_from_name(b->opts.compression, &alg) == 0) {
                compress_format_id(alg, format);
                int r = layercache_open(b->cache_dir, format, &reuse.cache);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_variants; i++) {
                struct build_variant *v = &b->variants[i];
                if (!v->selected)
                        continue;
                int r = emit_tar_and_layout(b, v, out_dir, &reuse, err);
                /* After the tar and the layout: the SBOM names the manifest digest. */
                if (r >= 0)
                        r = emit_sbom(b, v, out_dir, err);
                /* Last: index.json lists the image and the SBOM attached to it. */
                if (r >= 0)
                        r = emit_index(b, v, out_dir, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
