/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An LD_PRELOAD library the end-to-end tests put under cairn to make the rare moments happen
 * on purpose (compiled by the tests: cc -shared -fPIC -o fault-shim.so fault-shim.c -ldl):
 *
 *   CAIRN_FAULT_RENAMEAT2=N       the Nth renameat2() call fails with EPERM, without renaming
 *                                 (the outputs' swap into OUT, tests/e2e-outdir.sh)
 *   CAIRN_FAULT_PAUSE=DIR         before the first blocking flock(LOCK_EX) (the swap's lock on
 *                                 OUT), write one byte to the fifo DIR/ready, then wait until
 *                                 the fifo DIR/go is closed by its writer
 *   CAIRN_FAULT_REWRITE=PATH      after the first read of PATH (read, pread), PATH's contents
 *   CAIRN_FAULT_REWRITE_WITH=SRC  are replaced in place with SRC's (a concurrent writer at
 *                                 the worst moment, tests/e2e-context.sh)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int renames;
static int paused;
static int rewritten;

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
              unsigned int flags)
{
        static int (*real)(int, const char *, int, const char *, unsigned int);
        if (!real)
                real = (int (*)(int, const char *, int, const char *, unsigned int))dlsym(
                        RTLD_NEXT, "renameat2");
        const char *n = getenv("CAIRN_FAULT_RENAMEAT2");
        if (n && ++renames == atoi(n)) {
                errno = EPERM;
                return -1;
        }
        return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int flock(int fd, int op)
{
        static int (*real)(int, int);
        if (!real)
                real = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
        const char *dir = getenv("CAIRN_FAULT_PAUSE");
        if (dir && !paused && op == LOCK_EX) {
                paused = 1;
                char path[PATH_MAX], c;
                snprintf(path, sizeof(path), "%s/ready", dir);
                int w = open(path, O_WRONLY | O_CLOEXEC);
                if (w >= 0) {
                        (void)!write(w, "r", 1);
                        close(w);
                }
                snprintf(path, sizeof(path), "%s/go", dir);
                int r = open(path, O_RDONLY | O_CLOEXEC);
                if (r >= 0) {
                        while (read(r, &c, 1) > 0)
                                ;
                        close(r);
                }
        }
        return real(fd, op);
}

/* After a read of the file CAIRN_FAULT_REWRITE names, once: its bytes become SRC's. */
static void maybe_rewrite(int fd, ssize_t got)
{
        const char *target = getenv("CAIRN_FAULT_REWRITE");
        const char *with = getenv("CAIRN_FAULT_REWRITE_WITH");
        if (!target || !with || rewritten || got <= 0)
                return;
        char link[64], path[PATH_MAX];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof(path) - 1);
        if (n < 0)
                return;
        path[n] = '\0';
        if (strcmp(path, target) != 0)
                return;
        rewritten = 1;
        FILE *in = fopen(with, "rb");
        FILE *out = fopen(target, "r+b");
        if (in && out) {
                char buf[4096];
                size_t k;
                while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
                        fwrite(buf, 1, k, out);
        }
        if (in)
                fclose(in);
        if (out)
                fclose(out);
}

ssize_t read(int fd, void *buf, size_t len)
{
        static ssize_t (*real)(int, void *, size_t);
        if (!real)
                real = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
        ssize_t r = real(fd, buf, len);
        int saved = errno;
        maybe_rewrite(fd, r);
        errno = saved;
        return r;
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
        static ssize_t (*real)(int, void *, size_t, off_t);
        if (!real)
                real = (ssize_t(*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
        ssize_t r = real(fd, buf, len, off);
        int saved = errno;
        maybe_rewrite(fd, r);
        errno = saved;
        return r;
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off)
{
        return pread(fd, buf, len, off);
}
