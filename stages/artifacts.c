/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The application's artifacts: a local file, a directory, or a tar archive (plain, gzip, xz,
 * bzip2 or zstd; recognised by content, not by name) unpacked under `dest`.
 *
 * Nothing of the build machine leaks into the tree: directories are walked in byte order, not
 * readdir order; modes never come from the checkout or the umask (0755 for directories and
 * for files with any execute bit, 0644 otherwise) unless the recipe sets `mode`; owners are
 * the recipe's uid/gid (default 0:0); input mtimes are ignored.
 */
#include "artifacts.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "digest.h"

#define ARTIFACT_MAX_FILE_BYTES (64ULL << 30) /* one file */
#define ARTIFACT_MAX_ENTRIES    1000000       /* entries of one directory or archive */
#define ARTIFACT_MAX_DEPTH      64

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)

struct artifact_ctx {
        struct build *b;
        struct build_variant *v;
        const struct recipe_artifact *a;
        const char *src_path; /* resolved host path */
        size_t n_entries;
};

static uint32_t normal_mode(mode_t m, bool dir)
{
        return dir || (m & 0111) ? 0755 : 0644;
}

static int insert(struct artifact_ctx *c, struct tree_entry *e, struct cairn_error *err)
{
        if (++c->n_entries > ARTIFACT_MAX_ENTRIES)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                       "%s:%u:%u: artifact %s: more than %d entries",
                                       c->b->recipe->path, c->a->pos.line, c->a->pos.column,
                                       c->a->src, ARTIFACT_MAX_ENTRIES);
        _cleanup_free_ char *origin = NULL;
        if (asprintf(&origin, "artifact %s", c->a->src) < 0)
                return -ENOMEM;
        e->origin = origin;
        e->layer = TREE_LAYER_APP;
        e->uid = c->a->uid == RECIPE_ID_UNSET ? 0 : c->a->uid;
        e->gid = c->a->gid == RECIPE_ID_UNSET ? 0 : c->a->gid;
        return tree_insert(c->v->tree, e, 0, err);
}

static int put_file(struct artifact_ctx *c, int fd, const char *dest, mode_t st_mode, bool top,
                    struct cairn_error *err)
{
        struct tree_entry e = { .path = (char *)dest, .type = TREE_REG };
        int r = store_put_fd(c->b->store, fd, ARTIFACT_MAX_FILE_BYTES, &e.key, &e.size, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "artifact %s", c->a->src);
        e.mode = top && c->a->mode != RECIPE_MODE_UNSET ? (uint32_t)c->a->mode
                                                        : normal_mode(st_mode, false);
        /* An artifact file with its own dest is named by the recipe: allowed to execute. */
        e.flags = top ? TREE_ENTRY_NAMED : 0;
        return insert(c, &e, err);
}

/* Joins dest and a relative name; NULL on allocation failure. */
static char *join(const char *dest, const char *name)
{
        char *p = NULL;
        if (asprintf(&p, "%s%s%s", dest, streq(dest, "/") ? "" : "/", name) < 0)
                return NULL;
        return p;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

/* True when a relative symlink target, seen from link_dir (relative to the artifact root,
 * depth = number of components), climbs above the artifact root. */
static bool target_escapes(const char *target, unsigned depth)
{
        if (target[0] == '/')
                return false; /* absolute: an image path, resolved inside the image */
        long level = depth;
        const char *p = target;
        while (*p) {
                const char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        level--;
                else if (n > 0 && !(n == 1 && p[0] == '.'))
                        level++;
                if (level < 0)
                        return true;
                p = *end ? end + 1 : end;
        }
        return false;
}

static int walk_dir(struct artifact_ctx *c, int dirfd, const char *host, const char *dest,
                    unsigned depth, struct cairn_error *err)
{
        if (depth > ARTIFACT_MAX_DEPTH)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ELOOP,
                                       "%s: deeper than %d directories", host, ARTIFACT_MAX_DEPTH);
        struct dirent **names = NULL;
        /* scandir on /proc/self/fd keeps the walk on the already-opened directory. */
        _cleanup_free_ char *fdpath = NULL;
        if (asprintf(&fdpath, "/proc/self/fd/%d", dirfd) < 0)
                return -ENOMEM;
        int n = scandir(fdpath, &names, NULL, name_cmp);
        if (n < 0)
                return cairn_error_errno(err, -errno, "%s: %m", host);
        int r = 0;
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                if (r < 0 || streq(name, ".") || streq(name, ".."))
                        continue;
                _cleanup_free_ char *hpath = join(host, name), *ipath = join(dest, name);
                if (!hpath || !ipath) {
                        r = -ENOMEM;
                        continue;
                }
                struct stat st;
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = cairn_error_errno(err, -errno, "%s: %m", hpath);
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        struct tree_entry e = { .path = ipath, .type = TREE_DIR, .mode = 0755 };
                        r = insert(c, &e, err);
                        if (r < 0)
                                continue;
                        _cleanup_close_ int fd = openat(
                                dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0) {
                                r = cairn_error_errno(err, -errno, "%s: %m", hpath);
                                continue;
                        }
                        r = walk_dir(c, fd, hpath, ipath, depth + 1, err);
                } else if (S_ISREG(st.st_mode)) {
                        _cleanup_close_ int fd =
                                openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0) {
                                r = cairn_error_errno(err, -errno, "%s: %m", hpath);
                                continue;
                        }
                        r = put_file(c, fd, ipath, st.st_mode, false, err);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[TREE_PATH_MAX];
                        ssize_t len = readlinkat(dirfd, name, target, sizeof(target) - 1);
                        if (len < 0) {
                                r = cairn_error_errno(err, -errno, "%s: %m", hpath);
                                continue;
                        }
                        target[len] = '\0';
                        if (target_escapes(target, depth)) {
                                r = cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                                    "%s: symlink to '%s' leaves the artifact "
                                                    "directory; copy the file in instead",
                                                    hpath, target);
                                continue;
                        }
                        struct tree_entry e = {
                                .path = ipath, .type = TREE_SYMLINK, .mode = 0777, .target = target
                        };
                        r = insert(c, &e, err);
                } else
                        r = cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                            "%s: device nodes, fifos and sockets cannot be "
                                            "artifacts",
                                            hpath);
        }
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

/* True when fd starts with a compressed stream or a tar header (ustar magic at 257). */
static bool looks_like_archive(int fd)
{
        uint8_t buf[512];
        ssize_t n = pread(fd, buf, sizeof(buf), 0);
        if (n < 6)
                return false;
        if ((buf[0] == 0x1f && buf[1] == 0x8b) ||
            memcmp(buf,
                   "\xfd"
                   "7zXZ\0",
                   6) == 0 ||
            memcmp(buf, "\x28\xb5\x2f\xfd", 4) == 0 || memcmp(buf, "BZh", 3) == 0)
                return true;
        return n >= 262 && memcmp(buf + 257, "ustar", 5) == 0;
}

static int unpack_archive(struct artifact_ctx *c, int fd, struct cairn_error *err)
{
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        if (!a)
                return -ENOMEM;
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: %s", c->src_path,
                                       archive_error_string(a));
        struct archive_entry *ae;
        int ar;
        _cleanup_free_ uint8_t *buf = malloc(128 * 1024);
        if (!buf)
                return -ENOMEM;
        while ((ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
                const char *raw = archive_entry_pathname(ae);
                if (!raw || raw[0] == '/')
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                               "%s: entry '%s' has an absolute name", c->src_path,
                                               raw ? raw : "");
                _cleanup_free_ char *rel = NULL, *path = NULL;
                if (tree_path_normalize(raw, &rel) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                               "%s: entry '%s' leaves the archive ('..')",
                                               c->src_path, raw);
                if (streq(rel, "/"))
                        continue;
                path = join(c->a->dest, rel + 1);
                if (!path)
                        return -ENOMEM;
                struct tree_entry e = { .path = path, .mode = archive_entry_perm(ae) & 07777 };
                _cleanup_free_ char *link = NULL;
                mode_t type = archive_entry_filetype(ae);
                if (archive_entry_hardlink(ae)) {
                        _cleanup_free_ char *lrel = NULL;
                        if (tree_path_normalize(archive_entry_hardlink(ae), &lrel) < 0)
                                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                                       "%s: hardlink '%s' leaves the archive",
                                                       c->src_path, raw);
                        link = join(c->a->dest, lrel + 1);
                        const struct tree_entry *t = link ? tree_lookup(c->v->tree, link) : NULL;
                        if (!t || t->type != TREE_REG)
                                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                                       "%s: hardlink '%s' points at no earlier "
                                                       "file of the archive",
                                                       c->src_path, raw);
                        /* A copy: contents are shared in the store anyway. */
                        e.type = TREE_REG;
                        e.key = t->key;
                        e.size = t->size;
                        e.mode = t->mode;
                } else if (type == AE_IFDIR) {
                        e.type = TREE_DIR;
                } else if (type == AE_IFLNK) {
                        e.type = TREE_SYMLINK;
                        e.mode = 0777;
                        e.target = (char *)archive_entry_symlink(ae);
                        if (!e.target)
                                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                                       "%s: symlink '%s' without target",
                                                       c->src_path, raw);
                } else if (type == AE_IFREG) {
                        _cleanup_store_writer_ struct store_writer *w = NULL;
                        int r = store_writer_new(c->b->store, ARTIFACT_MAX_FILE_BYTES, &w, err);
                        if (r < 0)
                                return r;
                        for (;;) {
                                la_ssize_t n = archive_read_data(a, buf, 128 * 1024);
                                if (n < 0)
                                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EIO,
                                                               "%s: %s: %s", c->src_path, raw,
                                                               archive_error_string(a));
                                if (n == 0)
                                        break;
                                r = store_writer_write(w, buf, (size_t)n, err);
                                if (r < 0)
                                        return cairn_error_wrap(err, r, "%s: %s", c->src_path, raw);
                        }
                        e.type = TREE_REG;
                        r = store_writer_commit(steal_pointer(&w), &e.key, &e.size, err);
                        if (r < 0)
                                return r;
                } else
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                               "%s: entry '%s': device nodes, fifos and sockets "
                                               "cannot be artifacts",
                                               c->src_path, raw);
                int r = insert(c, &e, err);
                if (r < 0)
                        return r;
        }
        if (ar != ARCHIVE_EOF)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: %s", c->src_path,
                                       archive_error_string(a));
        return 0;
}

static int check_pin(struct artifact_ctx *c, int fd, struct cairn_error *err)
{
        if (!c->a->sha256)
                return 0;
        char hex[DIGEST_HEX_MAX];
        int r = digest_fd_hex(DIGEST_SHA256, fd, hex);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", c->src_path, strerror(-r));
        if (lseek(fd, 0, SEEK_SET) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", c->src_path);
        if (!streq(hex, c->a->sha256))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EBADMSG,
                                       "%s:%u:%u: artifact %s: sha256 mismatch: the recipe pins "
                                       "%s, the file has %s",
                                       c->b->recipe->path, c->a->pos.line, c->a->pos.column,
                                       c->a->src, c->a->sha256, hex);
        return 0;
}

static int add_artifact(struct build *b, struct build_variant *v, const struct recipe_artifact *a,
                        struct cairn_error *err)
{
        _cleanup_free_ char *src = NULL;
        if (a->src[0] == '/')
                src = strdup(a->src);
        else if (asprintf(&src, "%s/%s", b->recipe->dir, a->src) < 0)
                src = NULL;
        if (!src)
                return -ENOMEM;
        struct artifact_ctx c = { .b = b, .v = v, .a = a, .src_path = src };

        _cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -errno,
                                       "%s:%u:%u: artifact %s: cannot open %s: %m", b->recipe->path,
                                       a->pos.line, a->pos.column, a->src, src);
        if (S_ISDIR(st.st_mode)) {
                if (a->sha256)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s:%u:%u: artifact %s: sha256 pins apply to "
                                               "files and archives, not directories",
                                               b->recipe->path, a->pos.line, a->pos.column, a->src);
                struct tree_entry e = { .path = a->dest,
                                        .type = TREE_DIR,
                                        .mode = a->mode != RECIPE_MODE_UNSET ? (uint32_t)a->mode
                                                                             : 0755 };
                int r = insert(&c, &e, err);
                return r < 0 ? r : walk_dir(&c, fd, src, a->dest, 0, err);
        }
        if (!S_ISREG(st.st_mode))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s:%u:%u: artifact %s: %s is not a file or directory",
                                       b->recipe->path, a->pos.line, a->pos.column, a->src, src);
        int r = check_pin(&c, fd, err);
        if (r < 0)
                return r;
        if (looks_like_archive(fd)) {
                struct tree_entry e = { .path = a->dest,
                                        .type = TREE_DIR,
                                        .mode = a->mode != RECIPE_MODE_UNSET ? (uint32_t)a->mode
                                                                             : 0755 };
                r = insert(&c, &e, err);
                return r < 0 ? r : unpack_archive(&c, fd, err);
        }
        return put_file(&c, fd, a->dest, st.st_mode, true, err);
}

int stage_artifacts(struct build *b, struct build_variant *v, struct cairn_error *err)
{
        for (size_t i = 0; i < v->view->n_artifacts; i++) {
                int r = add_artifact(b, v, v->view->artifacts[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}
