/* SPDX-License-Identifier: Apache-2.0 */
#include "tarwriter.h"

#include <archive.h>
#include <archive_entry.h>
#include <xxhash.h>

#define READ_BUF_SIZE (256 * 1024)

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_write_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive_entry *, archive_entry_free)

/* ---- plans ---- */

void tar_plan_clear(struct tar_plan *p)
{
        for (size_t i = 0; i < p->n_owned; i++)
                free(p->owned[i]);
        free(p->owned);
        free(p->items);
        *p = (struct tar_plan){ 0 };
}

int tar_plan_add(struct tar_plan *p, const char *path, const struct tree_entry *e)
{
        if (GROW(p->items, p->cap, p->n + 1) < 0)
                return -ENOMEM;
        p->items[p->n++] = (struct tar_plan_item){ path, e };
        return 0;
}

int tar_plan_add_owned(struct tar_plan *p, char *path, const struct tree_entry *e)
{
        if (GROW(p->owned, p->cap_owned, p->n_owned + 1) < 0) {
                free(path);
                return -ENOMEM;
        }
        p->owned[p->n_owned++] = path;
        return tar_plan_add(p, path, e);
}

static int item_cmp(const void *a, const void *b)
{
        return strcmp(((const struct tar_plan_item *)a)->path,
                      ((const struct tar_plan_item *)b)->path);
}

void tar_plan_sort(struct tar_plan *p)
{
        /* An empty plan has no array: qsort's pointer must not be NULL even for 0 items. */
        if (p->n > 1)
                qsort(p->items, p->n, sizeof(*p->items), item_cmp);
}

int tar_plan_tree(struct tar_plan *p, const struct tree *t)
{
        size_t n = tree_count(t);
        for (size_t i = 1; i < n; i++)
                if (tar_plan_add(p, tree_at(t, i)->path, tree_at(t, i)) < 0)
                        return -ENOMEM;
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

int tar_plan_key(const struct tar_plan *p, int64_t epoch, char out[STORE_KEY_HEX_LEN + 1])
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

/* ---- writing ---- */

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

/* Compressed bytes, in order, on the writing thread. */
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

static int write_entry(struct archive *a, const struct tar_plan_item *it, const struct store *st,
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

int tar_write(const struct tar_plan *p, const struct store *st, int64_t epoch, int fd,
              const enum compress_alg *alg, struct tar_result *ret, struct cairn_error *err)
{
        _cleanup_digest_ struct digest *td = digest_new(DIGEST_SHA256);
        _cleanup_digest_ struct digest *zd = digest_new(DIGEST_SHA256);
        _cleanup_free_ uint8_t *buf = malloc(READ_BUF_SIZE);
        if (!td || !zd || !buf)
                return -ENOMEM;
        struct tar_sink s = { .fd = fd, .tar_dig = td, .z_dig = zd };
        _cleanup_(compress_freep) struct compressor *z = NULL;
        int r;
        if (alg) {
                r = compress_new(*alg, compress_default_threads(), z_sink, &s, &z);
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
                r = write_entry(a, &p->items[i], st, epoch, buf, READ_BUF_SIZE, err);
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
        struct tar_result res = { .tar_size = s.tar_size };
        digest_final_oci(td, res.diff_id);
        if (z) {
                digest_final_oci(zd, res.digest);
                res.size = s.z_size;
        }
        *ret = res;
        return 0;
}
