/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The application's artifacts: a local file, a directory, or a tar archive (plain, gzip, xz,
 * bzip2 or zstd; recognised by content, not by name) unpacked under `dest`.
 *
 * Artifacts come only from beneath the build context (the recipe's directory, its context:, or
 * --context): src is opened with base/beneath.h, so an absolute path, '..' or a symlink out of
 * the context is refused; directories are walked with O_NOFOLLOW.
 *
 * Nothing of the build machine leaks into the tree: directories are walked in byte order, not
 * readdir order; modes never come from the checkout or the umask (0755 for directories and
 * for files with any execute bit, 0644 otherwise) unless the recipe sets `mode`; owners are
 * the recipe's uid/gid (default 0:0); input mtimes are ignored.
 */
#include "artifacts.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "base/beneath.h"
#include "base/digest.h"
#include "base/untar.h"

#define ARTIFACT_MAX_FILE_BYTES (64ULL << 30) /* one file */
#define ARTIFACT_MAX_ENTRIES    1000000       /* entries of one directory or archive */
#define ARTIFACT_MAX_DEPTH      64

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

/* A file found inside an artifact directory: not named by the recipe. */
static int put_file(struct artifact_ctx *c, int fd, const char *dest, mode_t st_mode,
                    struct cairn_error *err)
{
        struct tree_entry e = { .path = (char *)dest, .type = TREE_REG };
        int r = store_put_fd(c->b->store, fd, ARTIFACT_MAX_FILE_BYTES, &e.key, &e.size, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "artifact %s", c->a->src);
        e.mode = normal_mode(st_mode, false);
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
                const char *why = tree_path_problem(ipath);
                if (why) {
                        _cleanup_free_ char *shown = str_escape(hpath, 300);
                        r = cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: its image path %s",
                                            shown ? shown : host, why);
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
                        /* O_NONBLOCK and the second fstat: a file swapped for a fifo or a device
                         * after the first look neither blocks the build nor gets read. */
                        _cleanup_close_ int fd =
                                openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                        if (fd < 0 || fstat(fd, &st) < 0) {
                                r = cairn_error_errno(err, -errno, "%s: %m", hpath);
                                continue;
                        }
                        if (!S_ISREG(st.st_mode)) {
                                r = cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                                    "%s: changed while it was read", hpath);
                                continue;
                        }
                        r = put_file(c, fd, ipath, st.st_mode, err);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[TREE_PATH_MAX + 1];
                        ssize_t len = readlinkat(dirfd, name, target, sizeof(target) - 1);
                        if (len < 0) {
                                r = cairn_error_errno(err, -errno, "%s: %m", hpath);
                                continue;
                        }
                        target[len] = '\0';
                        why = len >= TREE_PATH_MAX ? "is longer than 4095 bytes (PATH_MAX)"
                                                   : tree_path_problem(target);
                        if (why) {
                                _cleanup_free_ char *shown = str_escape(target, 200);
                                r = cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                                    "%s: symlink target '%s' %s", hpath,
                                                    shown ? shown : "", why);
                                continue;
                        }
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

/*
 * Checks a name taken from an archive: absolute names, '..', over-long names and invalid UTF-8
 * are refused with the archive and the entry named. *ret (owned) is the normalised "/x/y".
 */
static int archive_name(const struct artifact_ctx *c, const char *raw, const char *shown,
                        char **ret, struct cairn_error *err)
{
        if (raw[0] == '/')
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                       "%s: entry '%s' has an absolute name", c->src_path, shown);
        const char *why = tree_path_problem(raw);
        if (why)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM, "%s: entry '%s' %s",
                                       c->src_path, shown, why);
        if (tree_path_normalize(raw, ret) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                       "%s: entry '%s' leaves the archive ('..')", c->src_path,
                                       shown);
        return 0;
}

/* A hardlink's target: an earlier regular file of this same archive, else refused. */
static int archive_hardlink(const struct artifact_ctx *c, const char *origin, const char *target,
                            const char *shown, const struct tree_entry **ret,
                            struct cairn_error *err)
{
        _cleanup_free_ char *lrel = NULL, *link = NULL, *tshown = str_escape(target, 200);
        if (!tshown)
                return -ENOMEM;
        if (target[0] == '/' || tree_path_problem(target) || tree_path_normalize(target, &lrel) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                       "%s: hardlink '%s' to '%s' leaves the archive", c->src_path,
                                       shown, tshown);
        link = join(c->a->dest, lrel + 1);
        if (!link)
                return -ENOMEM;
        const struct tree_entry *t = tree_lookup(c->v->tree, link);
        if (!t || t->type != TREE_REG || !streq_ptr(t->origin, origin))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                       "%s: hardlink '%s' to '%s' points at no earlier file of the "
                                       "archive",
                                       c->src_path, shown, tshown);
        *ret = t;
        return 0;
}

static int archive_entry_add(struct artifact_ctx *c, struct untar *u, struct archive_entry *ae,
                             const char *origin, uint8_t *buf, size_t bufsize,
                             struct cairn_error *err)
{
        const char *raw = archive_entry_pathname(ae);
        _cleanup_free_ char *shown = str_escape(raw, 200), *rel = NULL, *path = NULL;
        if (!shown)
                return -ENOMEM;
        int r = archive_name(c, raw, shown, &rel, err);
        if (r < 0)
                return r;
        if (streq(rel, "/"))
                return 0;
        path = join(c->a->dest, rel + 1);
        if (!path)
                return -ENOMEM;
        struct tree_entry e = { .path = path, .mode = archive_entry_perm(ae) & 07777 };
        mode_t type = archive_entry_filetype(ae);
        if (archive_entry_hardlink(ae)) {
                const struct tree_entry *t = NULL;
                r = archive_hardlink(c, origin, archive_entry_hardlink(ae), shown, &t, err);
                if (r < 0)
                        return r;
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
                const char *why = e.target ? tree_path_problem(e.target) : "is empty";
                if (why) {
                        _cleanup_free_ char *tshown = str_escape(e.target ? e.target : "", 200);
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: symlink '%s': its target '%s' %s", c->src_path,
                                               shown, tshown ? tshown : "", why);
                }
        } else if (type == AE_IFREG) {
                _cleanup_store_writer_ struct store_writer *w = NULL;
                r = store_writer_new(c->b->store, ARTIFACT_MAX_FILE_BYTES, &w, err);
                if (r < 0)
                        return r;
                for (;;) {
                        ssize_t n = untar_read(u, buf, bufsize, err);
                        if (n < 0)
                                return (int)n;
                        if (n == 0)
                                break;
                        r = store_writer_write(w, buf, (size_t)n, err);
                        if (r < 0)
                                return cairn_error_wrap(err, r, "%s: %s", c->src_path, shown);
                }
                e.type = TREE_REG;
                r = store_writer_commit(steal_pointer(&w), &e.key, &e.size, err);
                if (r < 0)
                        return r;
        } else
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EPERM,
                                       "%s: entry '%s': device nodes, fifos and sockets cannot be "
                                       "artifacts",
                                       c->src_path, shown);
        r = insert(c, &e, err);
        return r < 0 ? cairn_error_wrap(err, r, "%s: entry '%s'", c->src_path, shown) : 0;
}

static int unpack_archive(struct artifact_ctx *c, int fd, struct cairn_error *err)
{
        _cleanup_free_ char *origin = NULL;
        if (asprintf(&origin, "artifact %s", c->a->src) < 0)
                return -ENOMEM;
        _cleanup_free_ uint8_t *buf = malloc(128 * 1024);
        if (!buf)
                return -ENOMEM;
        struct untar u;
        int r = untar_open_fd(&u, fd, c->src_path, CAIRN_EXIT_USAGE, err);
        if (r < 0)
                return r;
        struct archive_entry *ae;
        while ((r = untar_next(&u, &ae, err)) > 0) {
                r = archive_entry_add(c, &u, ae, origin, buf, 128 * 1024, err);
                if (r < 0)
                        break;
        }
        untar_close(&u);
        return r;
}

int artifacts_unpack_archive(struct build *b, struct build_variant *v,
                             const struct recipe_artifact *a, const char *src_path, int fd,
                             struct cairn_error *err)
{
        struct artifact_ctx c = { .b = b, .v = v, .a = a, .src_path = src_path };
        return unpack_archive(&c, fd, err);
}

/*
 * The build context (docs/security.md, "The build context"): --context DIR as the person
 * running cairn gave it, else the recipe's directory, or its context: beneath it. *ret_shown
 * (owned) is how messages name it.
 */
static int open_context(struct build *b, int *ret_fd, char **ret_shown, struct cairn_error *err)
{
        const struct recipe *rec = b->recipe;
        _cleanup_free_ char *shown = NULL;
        _cleanup_close_ int fd = -1;
        if (b->opts.context_dir) {
                shown = strdup(b->opts.context_dir);
                if (!shown)
                        return -ENOMEM;
                fd = open(shown, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -errno,
                                               "--context %s: cannot open the build context: %m",
                                               shown);
        } else {
                _cleanup_close_ int dir = open(rec->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -errno,
                                               "%s: cannot open the recipe's directory: %m",
                                               rec->dir);
                if (!rec->context) {
                        fd = steal_fd(&dir);
                        shown = strdup(rec->dir);
                } else {
                        fd = beneath_open(dir, rec->context, O_RDONLY | O_DIRECTORY, 0);
                        if (fd < 0)
                                return cairn_error_add(
                                        err, CAIRN_EXIT_USAGE, fd, "%s:%u:%u: context: %s: %s",
                                        rec->path, rec->context_pos.line, rec->context_pos.column,
                                        rec->context,
                                        fd == -EXDEV || fd == -ELOOP
                                                ? "leaves the recipe's directory (a symlink out "
                                                  "of it); the context must lie beneath it"
                                                : strerror(-fd));
                        if (asprintf(&shown, "%s/%s", rec->dir, rec->context) < 0)
                                shown = NULL;
                }
                if (!shown)
                        return -ENOMEM;
        }
        *ret_fd = steal_fd(&fd);
        *ret_shown = steal_pointer(&shown);
        return 0;
}

/* The pin, checked on the bytes the store holds: the ones that ship, read from src once. */
static int check_pin(struct artifact_ctx *c, const struct store_key *key, struct cairn_error *err)
{
        const char *pin = recipe_artifact_pin(c->a, c->b->arch);
        if (!pin)
                return 0;
        char sha1[DIGEST_HEX_MAX], hex[DIGEST_HEX_MAX];
        int r = store_object_digests(c->b->store, key, sha1, hex);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", c->src_path, strerror(-r));
        if (!streq(hex, pin))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EBADMSG,
                                       "%s:%u:%u: artifact %s: sha256 mismatch: the recipe pins "
                                       "%s, the file has %s",
                                       c->b->recipe->path, c->a->pos.line, c->a->pos.column,
                                       c->a->src, pin, hex);
        return 0;
}

static int add_artifact(struct build *b, struct build_variant *v, int ctx_fd, const char *ctx_shown,
                        const struct recipe_artifact *a, struct cairn_error *err)
{
        /* src names a file per architecture with ${arch}. */
        _cleanup_free_ char *src = NULL, *rel = NULL;
        if (recipe_expand_arch(a->src, b->arch, &rel) < 0 ||
            asprintf(&src, "%s/%s", ctx_shown, rel) < 0)
                return -ENOMEM;
        struct artifact_ctx c = { .b = b, .v = v, .a = a, .src_path = src };

        /* Beneath the context, never through a symlink out of it; O_NONBLOCK: a fifo given as
         * src is refused below instead of blocking the build. */
        _cleanup_close_ int fd = beneath_open(ctx_fd, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
        if (fd == -EXDEV || fd == -ELOOP)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, fd,
                                       "%s:%u:%u: artifact %s: leaves the build context %s (a "
                                       "symlink out of it, or a /proc link); artifacts come "
                                       "only from beneath it: copy the file in, or name another "
                                       "context with context: or --context",
                                       b->recipe->path, a->pos.line, a->pos.column, a->src,
                                       ctx_shown);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, fd < 0 ? fd : -errno,
                                       "%s:%u:%u: artifact %s: cannot open %s: %s", b->recipe->path,
                                       a->pos.line, a->pos.column, a->src, src,
                                       strerror(fd < 0 ? -fd : errno));
        if (S_ISDIR(st.st_mode)) {
                if (recipe_artifact_pin(a, b->arch))
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
        /* Read once, into the store; the pin and the archive test look at the stored bytes, so
         * a writer changing src meanwhile can change nothing that ships. */
        struct store_key key;
        uint64_t size;
        int r = store_put_fd(b->store, fd, ARTIFACT_MAX_FILE_BYTES, &key, &size, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "artifact %s", a->src);
        r = check_pin(&c, &key, err);
        if (r < 0)
                return r;
        _cleanup_close_ int obj = store_open_key(b->store, &key);
        if (obj < 0)
                return cairn_error_errno(err, obj, "%s: the stored copy: %s", src, strerror(-obj));
        if (looks_like_archive(obj)) {
                struct tree_entry e = { .path = a->dest,
                                        .type = TREE_DIR,
                                        .mode = a->mode != RECIPE_MODE_UNSET ? (uint32_t)a->mode
                                                                             : 0755 };
                r = insert(&c, &e, err);
                return r < 0 ? r : unpack_archive(&c, obj, err);
        }
        struct tree_entry e = {
                .path = a->dest,
                .type = TREE_REG,
                .key = key,
                .size = size,
                .mode = a->mode != RECIPE_MODE_UNSET ? (uint32_t)a->mode
                                                     : normal_mode(st.st_mode, false),
                /* An artifact file with its own dest is named by the recipe: allowed to run. */
                .flags = TREE_ENTRY_NAMED,
        };
        return insert(&c, &e, err);
}

int stage_artifacts(struct build *b, struct build_variant *v, struct cairn_error *err)
{
        if (v->view->n_artifacts == 0)
                return 0;
        _cleanup_close_ int ctx_fd = -1;
        _cleanup_free_ char *ctx_shown = NULL;
        int r = open_context(b, &ctx_fd, &ctx_shown, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < v->view->n_artifacts; i++) {
                r = add_artifact(b, v, ctx_fd, ctx_shown, v->view->artifacts[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}
