/* SPDX-License-Identifier: Apache-2.0 */
#include "beneath.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define BENEATH_MAX_LINKS 40  /* the kernel's MAXSYMLINKS */
#define BENEATH_MAX_DEPTH 256 /* directories open at once during the walk */

int beneath_open(int dirfd, const char *path, int open_flags, unsigned flags)
{
        struct open_how how = {
                .flags = (uint64_t)(open_flags | O_CLOEXEC),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        if (flags & BENEATH_NO_SYMLINKS)
                how.resolve |= RESOLVE_NO_SYMLINKS;
        if (path[0] == '/')
                return -EXDEV;
        /* Once the kernel (or valgrind, or a seccomp filter) said no, the walk it is. */
        static int no_openat2;
        if (__atomic_load_n(&no_openat2, __ATOMIC_RELAXED))
                return beneath_open_walk(dirfd, path, open_flags, flags);
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (fd >= 0)
                return (int)fd;
        if (errno == ENOSYS || errno == EPERM) {
                if (errno == ENOSYS)
                        __atomic_store_n(&no_openat2, 1, __ATOMIC_RELAXED);
                return beneath_open_walk(dirfd, path, open_flags, flags);
        }
        return -errno;
}

/* The directories of the walk: fds[0] is a duplicate of the starting directory. */
struct walk {
        int fds[BENEATH_MAX_DEPTH];
        int depth; /* index of the current directory */
};

static void walk_close(struct walk *w)
{
        for (int i = 0; i <= w->depth; i++)
                if (w->fds[i] >= 0)
                        close(w->fds[i]);
}

/* Replaces the front of rest (the component just read, ending at *next) with target. */
static int splice_link(char **rest, const char *next, const char *target)
{
        char *s = NULL;
        if (asprintf(&s, "%s%s%s", target, *next ? "/" : "", next) < 0)
                return -ENOMEM;
        free(*rest);
        *rest = s;
        return 0;
}

int beneath_open_walk(int dirfd, const char *path, int open_flags, unsigned flags)
{
        if (path[0] == '/')
                return -EXDEV;
        struct walk w = { .depth = 0 };
        w.fds[0] = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (w.fds[0] < 0)
                return -errno;
        _cleanup_free_ char *rest = strdup(path);
        if (!rest) {
                walk_close(&w);
                return -ENOMEM;
        }
        unsigned links = 0;
        size_t off = 0;
        int r = 0;
        for (;;) {
                /* The next component: rest[off..end). */
                while (rest[off] == '/')
                        off++;
                if (!rest[off]) {
                        /* The path ends at a directory ("", ".", "a/.."). */
                        r = openat(w.fds[w.depth], ".", open_flags | O_CLOEXEC);
                        r = r < 0 ? -errno : r;
                        break;
                }
                char *comp = rest + off;
                size_t len = strcspn(comp, "/");
                bool last = comp[len] == '\0';
                size_t next = off + len + (last ? 0 : 1);
                bool trailing = !last && rest[next + strspn(rest + next, "/")] == '\0';
                if (len == 1 && comp[0] == '.') {
                        off = next;
                        continue;
                }
                if (len == 2 && comp[0] == '.' && comp[1] == '.') {
                        if (w.depth == 0) {
                                r = -EXDEV;
                                break;
                        }
                        close(w.fds[w.depth--]);
                        off = next;
                        continue;
                }
                char name[NAME_MAX + 1];
                if (len > NAME_MAX) {
                        r = -ENAMETOOLONG;
                        break;
                }
                memcpy(name, comp, len);
                name[len] = '\0';
                int pfd = openat(w.fds[w.depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                struct stat st;
                if (pfd < 0 || fstat(pfd, &st) < 0) {
                        r = -errno;
                        if (pfd >= 0)
                                close(pfd);
                        break;
                }
                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(pfd, "", target, sizeof(target) - 1);
                        close(pfd);
                        if ((flags & BENEATH_NO_SYMLINKS) || (last && (open_flags & O_NOFOLLOW)) ||
                            ++links > BENEATH_MAX_LINKS) {
                                r = -ELOOP;
                                break;
                        }
                        if (n < 0) {
                                r = -errno;
                                break;
                        }
                        target[n] = '\0';
                        if (target[0] == '/') {
                                r = -EXDEV;
                                break;
                        }
                        r = splice_link(&rest, rest + next, target);
                        if (r < 0)
                                break;
                        off = 0;
                        continue;
                }
                if (last || trailing) {
                        close(pfd);
                        /* O_NOFOLLOW: a symlink put there since the look is refused, not
                         * followed. */
                        int fd = openat(w.fds[w.depth], name,
                                        open_flags | O_NOFOLLOW | O_CLOEXEC |
                                                (trailing ? O_DIRECTORY : 0));
                        r = fd < 0 ? -errno : fd;
                        break;
                }
                if (!S_ISDIR(st.st_mode)) {
                        close(pfd);
                        r = -ENOTDIR;
                        break;
                }
                if (w.depth + 1 >= BENEATH_MAX_DEPTH) {
                        close(pfd);
                        r = -ELOOP;
                        break;
                }
                w.fds[++w.depth] = pfd;
                off = next;
        }
        walk_close(&w);
        return r;
}
