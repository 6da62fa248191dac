/* SPDX-License-Identifier: Apache-2.0 */
#include "materialize.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

int materialize_open_dir(int dirfd, const char *rel)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        const char *p = rel;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);
                if (len == 0 || len > 255) {
                        close(fd);
                        return -EINVAL;
                }
                char name[256];
                memcpy(name, p, len);
                name[len] = '\0';
                if (streq(name, ".") || streq(name, "..")) {
                        close(fd);
                        return -EINVAL;
                }
                int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int saved = errno;
                close(fd);
                if (next < 0)
                        return saved == ENOTDIR ? -ELOOP : -saved;
                fd = next;
                p += len;
                if (*p == '/')
                        p++;
        }
        return fd;
}

/*
 * The descriptor of an entry's parent directory, cached: entries come in path order, so
 * consecutive entries usually share their parent.
 */
struct parent_cache {
        int root_fd;
        int fd;     /* owned; -1 when nothing is cached */
        char *path; /* owned; the cached parent, relative ("" for the root) */
};

static void parent_cache_clear(struct parent_cache *c)
{
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        free(c->path);
        c->path = NULL;
}

/* Splits an absolute entry path into parent (relative) and base name; *ret_fd is borrowed. */
static int parent_cache_get(struct parent_cache *c, const char *path, int *ret_fd,
                            const char **ret_name)
{
        const char *slash = strrchr(path, '/');
        if (!slash || path[0] != '/' || !slash[1])
                return -EINVAL;
        size_t plen = (size_t)(slash - path);
        const char *rel = plen > 0 ? path + 1 : "";
        size_t rlen = plen > 0 ? plen - 1 : 0;
        if (c->fd < 0 || strlen(c->path) != rlen || strncmp(c->path, rel, rlen) != 0) {
                parent_cache_clear(c);
                char *p = strndup(rel, rlen);
                if (!p)
                        return -ENOMEM;
                int fd = materialize_open_dir(c->root_fd, p);
                if (fd < 0) {
                        free(p);
                        return fd;
                }
                c->fd = fd;
                c->path = p;
        }
        *ret_fd = c->fd;
        *ret_name = slash + 1;
        return 0;
}

static int copy_contents(int in, int out, uint64_t size, bool *ret_reflinked)
{
        if (ioctl(out, FICLONE, in) == 0) {
                *ret_reflinked = true;
                return 0;
        }
        *ret_reflinked = false;
        uint64_t left = size;
        while (left > 0) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, left, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                            errno == EOPNOTSUPP)
                                break;
                        return -errno;
                }
                if (n == 0)
                        return -EIO; /* the store object is shorter than the tree says */
                left -= (uint64_t)n;
        }
        if (left == 0)
                return 0;
        char buf[64 * 1024];
        while (left > 0) {
                ssize_t n = read(in, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                int r = write_all(out, buf, (size_t)n);
                if (r < 0)
                        return r;
                left -= (uint64_t)n < left ? (uint64_t)n : left;
        }
        return 0;
}

static int write_regular(const struct store *s, const struct tree_entry *e, int pfd,
                         const char *name, struct materialize_stats *st)
{
        _cleanup_close_ int in = store_open_key(s, &e->key);
        if (in < 0)
                return in;
        _cleanup_close_ int out =
                openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        bool reflinked = false;
        int r = copy_contents(in, out, e->size, &reflinked);
        if (r < 0)
                return r;
        st->n_files++;
        st->n_reflinked += reflinked;
        st->bytes += e->size;
        return 0;
}

static int write_hardlink(struct parent_cache *c, const struct tree_entry *e, int pfd,
                          const char *name, struct materialize_stats *st)
{
        const char *slash = e->target ? strrchr(e->target, '/') : NULL;
        if (!slash || e->target[0] != '/' || !slash[1])
                return -EINVAL;
        size_t rlen = slash > e->target ? (size_t)(slash - e->target) - 1 : 0;
        _cleanup_free_ char *rel = strndup(e->target + 1, rlen);
        if (!rel)
                return -ENOMEM;
        _cleanup_close_ int tfd = materialize_open_dir(c->root_fd, rel);
        if (tfd < 0)
                return tfd;
        if (linkat(tfd, slash + 1, pfd, name, 0) < 0)
                return -errno;
        st->n_hardlinks++;
        return 0;
}

struct ids {
        uint32_t uid_shift, gid_shift;
};

/* Applies owner, mode and times to name in pfd (name NULL: pfd itself). */
static int apply_metadata(int pfd, const char *name, const struct tree_entry *e, int64_t epoch,
                          unsigned flags, const struct ids *ids)
{
        const struct timespec times[2] = { { .tv_sec = epoch }, { .tv_sec = epoch } };
        uint64_t uid = (uint64_t)e->uid + ids->uid_shift, gid = (uint64_t)e->gid + ids->gid_shift;
        /* (uid_t)-1 means "unchanged" to chown: never a real owner. */
        if (uid >= UINT32_MAX || gid >= UINT32_MAX)
                return -ERANGE;
        if (!name) {
                if (!(flags & MATERIALIZE_NO_CHOWN) && fchown(pfd, (uid_t)uid, (gid_t)gid) < 0)
                        return -errno;
                if (fchmod(pfd, e->mode & 07777) < 0)
                        return -errno;
                return futimens(pfd, times) < 0 ? -errno : 0;
        }
        if (!(flags & MATERIALIZE_NO_CHOWN) &&
            fchownat(pfd, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        /* Symlink modes mean nothing on Linux; the entry was created by us, never followed. */
        if (e->type != TREE_SYMLINK && fchmodat(pfd, name, e->mode & 07777, 0) < 0)
                return -errno;
        return utimensat(pfd, name, times, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int write_entry(struct parent_cache *c, const struct store *s, const struct tree_entry *e,
                       struct materialize_stats *st)
{
        int pfd;
        const char *name;
        int r = parent_cache_get(c, e->path, &pfd, &name);
        if (r < 0)
                return r;
        switch (e->type) {
        case TREE_REG:
                return write_regular(s, e, pfd, name, st);
        case TREE_DIR:
                /* Owner-only until finished: the final mode may not let us write into it. */
                if (mkdirat(pfd, name, 0700) < 0)
                        return -errno;
                st->n_dirs++;
                return 0;
        case TREE_SYMLINK:
                if (!e->target || symlinkat(e->target, pfd, name) < 0)
                        return e->target ? -errno : -EINVAL;
                st->n_symlinks++;
                return 0;
        case TREE_HARDLINK:
                return write_hardlink(c, e, pfd, name, st);
        case TREE_CHR:
        case TREE_BLK:
        case TREE_FIFO:
        case TREE_SOCK:
                st->n_skipped++;
                return 0;
        }
        return -EINVAL;
}

static bool entry_written(const struct tree_entry *e)
{
        return e->type == TREE_REG || e->type == TREE_DIR || e->type == TREE_SYMLINK;
}

int materialize_tree(const struct tree *t, const struct store *s, int64_t epoch, const char *dir,
                     unsigned flags, struct materialize_stats *stats, struct cairn_error *err)
{
        return materialize_tree_shifted(t, s, epoch, dir, flags, 0, 0, stats, err);
}

int materialize_tree_shifted(const struct tree *t, const struct store *s, int64_t epoch,
                             const char *dir, unsigned flags, uint32_t uid_shift,
                             uint32_t gid_shift, struct materialize_stats *stats,
                             struct cairn_error *err)
{
        const struct ids ids = { uid_shift, gid_shift };
        struct materialize_stats st = { 0 };
        _cleanup_close_ int root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root_fd < 0)
                return cairn_error_errno(err, -errno, "%s: cannot open: %m", dir);
        struct parent_cache c = { .root_fd = root_fd, .fd = -1 };
        const struct tree_entry *e;
        int r = 0;

        tree_foreach (e, t) {
                if (streq(e->path, "/"))
                        continue;
                r = write_entry(&c, s, e, &st);
                if (r < 0) {
                        parent_cache_clear(&c);
                        return cairn_error_errno(err, r, "%s%s: cannot write: %s", dir, e->path,
                                                 strerror(-r));
                }
        }

        /* Metadata last, children before parents: later writes would move directory times. */
        for (size_t i = tree_count(t); i-- > 0;) {
                e = tree_at(t, i);
                if (!entry_written(e))
                        continue;
                if (streq(e->path, "/")) {
                        r = apply_metadata(root_fd, NULL, e, epoch, flags, &ids);
                } else {
                        int pfd;
                        const char *name;
                        r = parent_cache_get(&c, e->path, &pfd, &name);
                        if (r >= 0)
                                r = apply_metadata(pfd, name, e, epoch, flags, &ids);
                }
                if (r < 0) {
                        parent_cache_clear(&c);
                        return cairn_error_errno(err, r, "%s%s: cannot set owner, mode or time: %s",
                                                 dir, e->path, strerror(-r));
                }
        }
        parent_cache_clear(&c);
        if (stats)
                *stats = st;
        return 0;
}
