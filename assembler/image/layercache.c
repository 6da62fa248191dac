/* SPDX-License-Identifier: Apache-2.0 */
#include "layercache.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "base/cachemac.h"
#include "oci.h"

/* "sha256:" and 64 hex digits */
#define OCI_DIGEST_CHARS (DIGEST_OCI_LEN - 1)
/* Two digests, a size of at most 20 digits, two spaces and the newline. */
#define ENTRY_MAX (2 * OCI_DIGEST_CHARS + 20 + 3)

struct layercache {
        char *root;    /* owned: CACHE/layers, where temporary files go */
        char *entries; /* owned: CACHE/layers/FORMAT */
        char *blobs;   /* owned: CACHE/layers/blobs/sha256 */
        char *format;  /* owned: FORMAT, part of what an entry's seal binds */
};

static bool name_valid(const char *s)
{
        if (!*s || streq(s, ".") || streq(s, ".."))
                return false;
        for (; *s; s++)
                if (*s == '/')
                        return false;
        return true;
}

int layercache_open(const char *cache_dir, const char *format, struct layercache **ret)
{
        if (!name_valid(format) || format[0] == '.' || streq(format, "blobs"))
                return -EINVAL;
        _cleanup_(layercache_freep) struct layercache *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        if (asprintf(&c->root, "%s/layers", cache_dir) < 0) {
                c->root = NULL;
                return -ENOMEM;
        }
        if (asprintf(&c->entries, "%s/%s", c->root, format) < 0) {
                c->entries = NULL;
                return -ENOMEM;
        }
        if (asprintf(&c->blobs, "%s/" OCI_BLOBS_DIR, c->root) < 0) {
                c->blobs = NULL;
                return -ENOMEM;
        }
        c->format = strdup(format);
        if (!c->format)
                return -ENOMEM;
        *ret = steal_pointer(&c);
        return 0;
}

void layercache_free(struct layercache *c)
{
        if (!c)
                return;
        free(c->root);
        free(c->entries);
        free(c->blobs);
        free(c->format);
        free(c);
}

static bool key_valid(const char *key)
{
        if (!*key)
                return false;
        for (; *key; key++)
                if (!((*key >= '0' && *key <= '9') || (*key >= 'a' && *key <= 'z')))
                        return false;
        return true;
}

static int entry_parse(const char *buf, size_t len, struct layercache_entry *ret)
{
        struct layercache_entry e = { 0 };
        const size_t second = OCI_DIGEST_CHARS + 1, size_at = 2 * (OCI_DIGEST_CHARS + 1);
        if (len <= size_at + 1 || buf[len - 1] != '\n' || buf[second - 1] != ' ' ||
            buf[size_at - 1] != ' ')
                return -EBADMSG;
        memcpy(e.diff_id, buf, OCI_DIGEST_CHARS);
        memcpy(e.digest, buf + second, OCI_DIGEST_CHARS);
        if (!oci_digest_valid(e.diff_id) || !oci_digest_valid(e.digest))
                return -EBADMSG;
        for (size_t i = size_at; i < len - 1; i++) {
                if (buf[i] < '0' || buf[i] > '9' || e.size > (UINT64_MAX - 9) / 10)
                        return -EBADMSG;
                e.size = e.size * 10 + (uint64_t)(buf[i] - '0');
        }
        *ret = e;
        return 0;
}

int layercache_lookup(const struct layercache *c, const char *key, struct layercache_entry *ret)
{
        if (!key_valid(key))
                return -EINVAL;
        _cleanup_free_ char *path = NULL, *buf = NULL, *bind = NULL;
        if (asprintf(&path, "%s/%s", c->entries, key) < 0 ||
            asprintf(&bind, "%s/%s", c->format, key) < 0)
                return -ENOMEM;
        size_t len = 0;
        /* Sealed (base/cachemac.h) with the format and key: an entry is this user's own
         * record that the tar DIFF_ID compressed to the blob DIGEST, never somebody else's
         * claim. */
        int r = cachemac_read(path, ENTRY_MAX, "layer", bind, &buf, &len);
        if (r == -EBADMSG)
                cachemac_notice_rebuilt(path);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return -ENOENT;
        return entry_parse(buf, len, ret) < 0 ? -ENOENT : 0;
}

/* Whether fd holds size bytes whose sha256 is digest ("sha256:HEX"). */
static int blob_check(int fd, const char *digest, uint64_t size)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
                return -EBADMSG;
        char hex[DIGEST_HEX_MAX];
        int r = digest_fd_hex(DIGEST_SHA256, fd, hex);
        if (r < 0)
                return r;
        return streq(hex, digest + 7) ? 0 : -EBADMSG;
}

/* Copies in to a new file at path (0644); on failure path does not exist. */
static int copy_to(int in, const char *path)
{
        _cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (out < 0)
                return -errno;
        /* A reflink where the filesystem has them, else a copy: either way a file of its own,
         * so nothing done to the cache later reaches an output (and the reverse). */
        int r = ioctl(out, FICLONE, in) == 0 ? 0 : copy_fd_all(in, out);
        /* close() reports a deferred write error (NFS, quotas). */
        if (r >= 0 && close(steal_fd(&out)) < 0)
                r = -errno;
        if (r < 0)
                (void)unlink(path);
        return r;
}

int layercache_get(const struct layercache *c, const struct layercache_entry *e, const char *path)
{
        if (!oci_digest_valid(e->digest))
                return -EINVAL;
        _cleanup_free_ char *blob = NULL;
        if (asprintf(&blob, "%s/%s", c->blobs, e->digest + 7) < 0)
                return -ENOMEM;
        if (access(path, F_OK) == 0)
                return -EEXIST;
        /* Copied (or reflinked), never hard-linked: OUT shares no inode with the cache. */
        _cleanup_close_ int in = open(blob, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return errno == ENOENT || errno == ELOOP ? -EBADMSG : -errno;
        struct stat st;
        if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != e->size)
                return -EBADMSG;
        int r = copy_to(in, path);
        if (r < 0)
                return r;
        /* What path holds now is what the output gets: check that, not the cache's name. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        r = fd < 0 ? -errno : blob_check(fd, e->digest, e->size);
        if (r < 0)
                (void)unlink(path);
        return r;
}

/* A new empty file CACHE/layers/.tmp-PID-XXXXXX (0644); *ret_fd is open for writing. */
static int temp_new(const struct layercache *c, char **ret_path, int *ret_fd)
{
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s/.tmp-%d-XXXXXX", c->root, (int)getpid()) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0644) < 0) {
                int r = -errno;
                (void)unlink(tmp);
                return r;
        }
        *ret_path = steal_pointer(&tmp);
        *ret_fd = steal_fd(&fd);
        return 0;
}

/* Renames tmp to dir/name; tmp is gone afterwards either way. */
static int temp_commit(const char *tmp, const char *dir, const char *name)
{
        _cleanup_free_ char *path = NULL;
        int r = asprintf(&path, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        /* Also after a rename: one between two links to the same file does nothing. */
        (void)unlink(tmp);
        return r;
}

/* Stores a copy (or reflink) of the blob at path as blobs/sha256/HEX: the output keeps its
 * own inode. */
static int put_blob(const struct layercache *c, const char *hex, const char *path)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r = temp_new(c, &tmp, &fd);
        if (r < 0)
                return r;
        /* The empty file only reserved the name: it holds our PID, so nothing else takes it. */
        closep(&fd);
        _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
        r = in < 0 ? -errno : unlink(tmp) < 0 ? -errno : copy_to(in, tmp);
        if (r < 0) {
                (void)unlink(tmp);
                return r;
        }
        return temp_commit(tmp, c->blobs, hex);
}

int layercache_put(const struct layercache *c, const char *key, const struct layercache_entry *e,
                   const char *path)
{
        if (!key_valid(key) || !oci_digest_valid(e->diff_id) || !oci_digest_valid(e->digest))
                return -EINVAL;
        int r = mkdir_p(c->blobs, 0755);
        if (r >= 0)
                r = mkdir_p(c->entries, 0755);
        if (r < 0)
                return r;
        /* Blob first: an entry never names a blob that is not there yet. Nothing is fsynced: a
         * file a crash truncated is caught by the checks on use, like any corruption. */
        r = put_blob(c, e->digest + 7, path);
        if (r < 0)
                return r;
        char line[ENTRY_MAX + 1];
        int len = snprintf(line, sizeof(line), "%s %s %llu\n", e->diff_id, e->digest,
                           (unsigned long long)e->size);
        _cleanup_free_ char *sealed = NULL, *bind = NULL;
        size_t slen = 0;
        if (asprintf(&bind, "%s/%s", c->format, key) < 0)
                return -ENOMEM;
        r = cachemac_seal("layer", bind, line, (size_t)len, &sealed, &slen);
        if (r < 0)
                return r;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        r = temp_new(c, &tmp, &fd);
        if (r < 0)
                return r;
        r = write_all(fd, sealed, slen);
        if (r >= 0 && close(steal_fd(&fd)) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlink(tmp);
                return r;
        }
        return temp_commit(tmp, c->entries, key);
}
