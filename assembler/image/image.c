/* SPDX-License-Identifier: Apache-2.0 */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ocilayout.h"

#define DIR_MAX_DEPTH 256

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)

const char *image_kind_name(enum image_kind k)
{
        switch (k) {
        case IMAGE_DIRECTORY:
                return "directory";
        case IMAGE_TAR:
                return "tar";
        case IMAGE_OCI:
                return "OCI layout";
        }
        return "unknown";
}

/* Inserts e into t, replacing what is there: a later layer or member wins. */
static int tree_put(struct tree *t, const struct tree_entry *e, struct cairn_error *err)
{
        if (tree_count(t) >= IMAGE_MAX_ENTRIES)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                       "image has more than %d entries", IMAGE_MAX_ENTRIES);
        const struct tree_entry *old = tree_lookup(t, e->path);
        /* An implicit parent never overrides a real directory of an earlier layer. */
        if (old && old->type == TREE_DIR && e->type == TREE_DIR && (e->flags & TREE_ENTRY_IMPLICIT))
                return 0;
        return tree_insert(t, e, TREE_INSERT_REPLACE, err);
}

/* ---- directories ---- */

static int dir_walk(int dfd, const char *prefix, unsigned depth, struct store *store,
                    struct tree *t, struct cairn_error *err)
{
        if (depth > DIR_MAX_DEPTH)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ELOOP,
                                       "%s: nested deeper than %d directories", prefix,
                                       DIR_MAX_DEPTH);
        int fd2 = dup(dfd);
        if (fd2 < 0)
                return cairn_error_errno(err, -errno, "%s: %m", prefix);
        DIR *d = fdopendir(fd2);
        if (!d) {
                close(fd2);
                return cairn_error_errno(err, -errno, "%s: %m", prefix);
        }
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", streq(prefix, "/") ? "" : prefix, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                struct stat st;
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = cairn_error_errno(err, -errno, "%s: %m", path);
                        break;
                }
                struct tree_entry e = {
                        .path = path,
                        .mode = st.st_mode & 07777,
                        .uid = st.st_uid,
                        .gid = st.st_gid,
                        .mtime = st.st_mtim.tv_sec,
                };
                _cleanup_free_ char *target = NULL;
                _cleanup_close_ int sub = -1;
                switch (st.st_mode & S_IFMT) {
                case S_IFREG: {
                        e.type = TREE_REG;
                        _cleanup_close_ int fd =
                                openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0) {
                                r = cairn_error_errno(err, -errno, "%s: %m", path);
                                break;
                        }
                        r = store_put_fd(store, fd, IMAGE_MAX_FILE, &e.key, &e.size, err);
                        if (r < 0)
                                cairn_error_wrap(err, r, "%s", path);
                        break;
                }
                case S_IFDIR:
                        e.type = TREE_DIR;
                        sub = openat(dfd, de->d_name,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                r = cairn_error_errno(err, -errno, "%s: %m", path);
                        break;
                case S_IFLNK: {
                        e.type = TREE_SYMLINK;
                        target = malloc(IMAGE_MAX_LINK + 1);
                        if (!target) {
                                r = -ENOMEM;
                                break;
                        }
                        ssize_t n = readlinkat(dfd, de->d_name, target, IMAGE_MAX_LINK + 1);
                        if (n < 0)
                                r = cairn_error_errno(err, -errno, "%s: %m", path);
                        else if (n > IMAGE_MAX_LINK)
                                r = cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                                    "%s: symlink target longer than %d bytes", path,
                                                    IMAGE_MAX_LINK);
                        else
                                target[n] = 0;
                        e.target = target;
                        break;
                }
                case S_IFCHR:
                case S_IFBLK:
                        e.type = S_ISCHR(st.st_mode) ? TREE_CHR : TREE_BLK;
                        e.dev_major = major(st.st_rdev);
                        e.dev_minor = minor(st.st_rdev);
                        break;
                case S_IFIFO:
                        e.type = TREE_FIFO;
                        break;
                default:
                        e.type = TREE_SOCK;
                        break;
                }
                if (r >= 0)
                        r = tree_put(t, &e, err);
                if (r >= 0 && sub >= 0)
                        r = dir_walk(sub, path, depth + 1, store, t, err);
        }
        if (r >= 0 && errno != 0)
                r = cairn_error_errno(err, -errno, "%s: %m", prefix);
        closedir(d);
        return r;
}

/* ---- tar archives and layers ---- */

struct layer_changes {
        char **whiteouts; /* owned; paths removed from lower layers */
        size_t n_whiteouts, cap_whiteouts;
        char **opaques; /* owned; directories whose lower content is hidden */
        size_t n_opaques, cap_opaques;
};

static void layer_changes_clear(struct layer_changes *c)
{
        for (size_t i = 0; i < c->n_whiteouts; i++)
                free(c->whiteouts[i]);
        for (size_t i = 0; i < c->n_opaques; i++)
                free(c->opaques[i]);
        free(c->whiteouts);
        free(c->opaques);
}

static int strv_push(char ***v, size_t *n, size_t *cap, char *s)
{
        if (!s)
                return -ENOMEM;
        if (GROW(*v, *cap, *n + 1) < 0) {
                free(s);
                return -ENOMEM;
        }
        (*v)[(*n)++] = s;
        return 0;
}

/* The normalised absolute image path of a member name: 0, -EINVAL or -ENOMEM. */
static int member_path(const char *name, char **ret)
{
        if (!name)
                return -EINVAL;
        _cleanup_free_ char *abs = NULL;
        if (asprintf(&abs, "/%s", name) < 0)
                return -ENOMEM;
        return tree_path_normalize(abs, ret);
}

/*
 * Reads the tar at file into t. With changes (an OCI layer), whiteout members are recorded
 * there instead of inserted.
 */
static int tar_read(const char *file, struct store *store, struct tree *t,
                    struct layer_changes *changes, struct cairn_error *err)
{
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        if (!a)
                return -ENOMEM;
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        archive_read_support_format_cpio(a);
        if (archive_read_open_filename(a, file, 64 * 1024) != ARCHIVE_OK)
                return cairn_error_add(err, CAIRN_EXIT_IO, -EIO, "%s: %s", file,
                                       archive_error_string(a));
        struct archive_entry *ae;
        int ar;
        while ((ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
                const char *name = archive_entry_pathname(ae);
                _cleanup_free_ char *path = NULL;
                int r = member_path(name, &path);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                               "%s: member '%s': not a path inside the image "
                                               "(empty, too long or with '..')",
                                               file, name ? name : "");
                if (streq(path, "/"))
                        continue;
                const char *base = strrchr(path, '/') + 1;
                if (changes && startswith(base, ".wh.")) {
                        size_t plen = (size_t)(base - path) - 1;
                        if (streq(base, ".wh..wh..opq"))
                                r = strv_push(&changes->opaques, &changes->n_opaques,
                                              &changes->cap_opaques,
                                              plen ? strndup(path, plen) : strdup("/"));
                        else {
                                char *w = NULL;
                                if (asprintf(&w, "%.*s/%s", (int)plen, path, base + 4) < 0)
                                        w = NULL;
                                r = strv_push(&changes->whiteouts, &changes->n_whiteouts,
                                              &changes->cap_whiteouts, w);
                        }
                        if (r < 0)
                                return r;
                        continue;
                }
                struct tree_entry e = {
                        .path = path,
                        .mode = archive_entry_mode(ae) & 07777, /* with setuid/sticky */
                        .uid = (uint32_t)archive_entry_uid(ae),
                        .gid = (uint32_t)archive_entry_gid(ae),
                        .mtime = archive_entry_mtime(ae),
                };
                _cleanup_free_ char *target = NULL;
                const char *hardlink = archive_entry_hardlink(ae);
                if (hardlink) {
                        r = member_path(hardlink, &target);
                        if (r == -ENOMEM)
                                return r;
                        const struct tree_entry *x = r >= 0 ? tree_lookup(t, target) : NULL;
                        if (!x || x->type != TREE_REG)
                                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                                       "%s: member '%s': hardlink to '%s', "
                                                       "which is not an earlier file",
                                                       file, name, hardlink);
                        /* One inode: the link has its target's mode and owner, whatever its
                         * own header says (that is what extraction gives, and what a
                         * directory of the same image shows). */
                        e.type = TREE_REG;
                        e.key = x->key;
                        e.size = x->size;
                        e.mode = x->mode;
                        e.uid = x->uid;
                        e.gid = x->gid;
                } else {
                        switch (archive_entry_filetype(ae)) {
                        case AE_IFREG: {
                                e.type = TREE_REG;
                                _cleanup_store_writer_ struct store_writer *w = NULL;
                                r = store_writer_new(store, IMAGE_MAX_FILE, &w, err);
                                if (r < 0)
                                        return r;
                                const void *buf;
                                size_t len;
                                la_int64_t off;
                                int dr;
                                /* Sparse members (GNU, pax) come as blocks at offsets: the
                                 * gaps are zeros, as on extraction, so a tar gives the same
                                 * bytes as the directory it was made from. */
                                uint64_t at = 0;
                                while ((dr = archive_read_data_block(a, &buf, &len, &off)) ==
                                       ARCHIVE_OK) {
                                        if (off < 0 || (uint64_t)off < at)
                                                return cairn_error_add(
                                                        err, CAIRN_EXIT_USAGE, -EINVAL,
                                                        "%s: %s: data blocks out of order", file,
                                                        path);
                                        r = store_writer_write_zeros(w, (uint64_t)off - at, err);
                                        if (r >= 0)
                                                r = store_writer_write(w, buf, len, err);
                                        if (r < 0)
                                                return cairn_error_wrap(err, r, "%s: %s", file,
                                                                        path);
                                        at = (uint64_t)off + len;
                                }
                                if (dr != ARCHIVE_EOF)
                                        return cairn_error_add(err, CAIRN_EXIT_IO, -EIO,
                                                               "%s: %s: %s", file, path,
                                                               archive_error_string(a));
                                la_int64_t size = archive_entry_size(ae);
                                if (archive_entry_size_is_set(ae) && size > 0 &&
                                    (uint64_t)size > at) {
                                        r = store_writer_write_zeros(w, (uint64_t)size - at, err);
                                        if (r < 0)
                                                return cairn_error_wrap(err, r, "%s: %s", file,
                                                                        path);
                                }
                                r = store_writer_commit(steal_pointer(&w), &e.key, &e.size, err);
                                if (r < 0)
                                        return r;
                                break;
                        }
                        case AE_IFDIR:
                                e.type = TREE_DIR;
                                break;
                        case AE_IFLNK: {
                                const char *s = archive_entry_symlink(ae);
                                if (!s || strlen(s) > IMAGE_MAX_LINK)
                                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                                               "%s: %s: symlink target missing "
                                                               "or longer than %d bytes",
                                                               file, path, IMAGE_MAX_LINK);
                                e.type = TREE_SYMLINK;
                                target = strdup(s);
                                if (!target)
                                        return -ENOMEM;
                                e.target = target;
                                break;
                        }
                        case AE_IFCHR:
                        case AE_IFBLK:
                                e.type = archive_entry_filetype(ae) == AE_IFCHR ? TREE_CHR
                                                                                : TREE_BLK;
                                e.dev_major = (uint32_t)archive_entry_rdevmajor(ae);
                                e.dev_minor = (uint32_t)archive_entry_rdevminor(ae);
                                break;
                        case AE_IFIFO:
                                e.type = TREE_FIFO;
                                break;
                        case AE_IFSOCK:
                                e.type = TREE_SOCK;
                                break;
                        default:
                                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                                       "%s: %s: unknown member type", file, path);
                        }
                }
                r = tree_put(t, &e, err);
                if (r < 0)
                        return cairn_error_wrap(err, r, "%s", file);
        }
        if (ar != ARCHIVE_EOF)
                return cairn_error_add(err, CAIRN_EXIT_IO, -EIO, "%s: %s", file,
                                       archive_error_string(a));
        return 0;
}

/* Applies one layer (its tree and whiteouts) over t. */
static int layer_apply(struct tree *t, const struct tree *layer, const struct layer_changes *c,
                       struct cairn_error *err)
{
        for (size_t i = 0; i < c->n_opaques; i++) {
                const char *dir = c->opaques[i];
                size_t n = strlen(dir);
                /* Remove every child of dir: find them first, the tree shifts on removal. */
                _cleanup_strv_free_ char **kids = calloc(tree_count(t) + 1, sizeof(char *));
                if (!kids)
                        return -ENOMEM;
                size_t k = 0;
                for (size_t j = 0; j < tree_count(t); j++) {
                        const char *p = tree_at(t, j)->path;
                        const char *rest = streq(dir, "/")                            ? p
                                           : (strncmp(p, dir, n) == 0 && p[n] == '/') ? p + n
                                                                                      : NULL;
                        if (!rest || streq(p, "/") || strchr(rest + 1, '/'))
                                continue;
                        kids[k] = strdup(p);
                        if (!kids[k++])
                                return -ENOMEM;
                }
                for (size_t j = 0; j < k; j++)
                        (void)tree_remove(t, kids[j]);
        }
        for (size_t i = 0; i < c->n_whiteouts; i++)
                (void)tree_remove(t, c->whiteouts[i]);
        for (size_t i = 0; i < tree_count(layer); i++) {
                const struct tree_entry *e = tree_at(layer, i);
                if (streq(e->path, "/"))
                        continue;
                int r = tree_put(t, e, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- OCI image layouts ---- */

struct oci_load {
        struct store *store; /* borrowed */
        struct tree *t;      /* borrowed: the image so far */
};

/* Applies layer i (its blob, already checked against its digest) over the image so far. */
static int oci_apply_layer(void *data, size_t i, const char *blob, struct cairn_error *err)
{
        struct oci_load *c = data;
        _cleanup_tree_ struct tree *lt = NULL;
        int r = tree_new(&lt);
        if (r < 0)
                return r;
        _cleanup_(layer_changes_clear) struct layer_changes changes = {};
        r = tar_read(blob, c->store, lt, &changes, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "layer %zu", i + 1);
        return layer_apply(c->t, lt, &changes, err);
}

int image_load(const char *path, const char *ref, const char *arch, struct store *store,
               struct tree **ret, enum image_kind *ret_kind, struct cairn_error *err)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        _cleanup_tree_ struct tree *t = NULL;
        int r = tree_new(&t);
        if (r < 0)
                return r;
        enum image_kind kind;
        if (S_ISDIR(st.st_mode)) {
                r = ocilayout_detect(path);
                if (r < 0)
                        return r;
                kind = r > 0 ? IMAGE_OCI : IMAGE_DIRECTORY;
        } else
                kind = IMAGE_TAR;
        if (ref && kind != IMAGE_OCI)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: a ref name applies to OCI layouts only", path);

        switch (kind) {
        case IMAGE_DIRECTORY: {
                _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return cairn_error_errno(err, -errno, "%s: %m", path);
                r = dir_walk(fd, "/", 0, store, t, err);
                if (r < 0)
                        return cairn_error_wrap(err, r, "%s", path);
                break;
        }
        case IMAGE_TAR:
                r = tar_read(path, store, t, NULL, err);
                break;
        case IMAGE_OCI:
                r = ocilayout_foreach_layer(path, ref, arch, oci_apply_layer,
                                            &(struct oci_load){ store, t }, err);
                break;
        }
        if (r < 0)
                return r;
        if (ret_kind)
                *ret_kind = kind;
        *ret = steal_pointer(&t);
        return 0;
}

int image_archs(const char *path, const char *ref, char ***ret, struct cairn_error *err)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        int r = S_ISDIR(st.st_mode) ? ocilayout_detect(path) : 0;
        if (r < 0)
                return r;
        if (r > 0)
                return ocilayout_archs(path, ref, ret, err);
        if (ref)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: a ref name applies to OCI layouts only", path);
        char **v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}
