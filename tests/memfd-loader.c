/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attack cairn-init's restriction must stop (issue 23): a small, named, static loader that
 * decodes an opaque asset (a program XOR-ed with KEY) and runs it without it ever being a
 * named executable on disk. It tries what such loaders try, in order, and prints each failure:
 * a memfd (no flags, then MFD_EXEC) run by /proc/self/fd/N and by execveat(AT_EMPTY_PATH),
 * then a file in DIR (a writable path). The decoded program prints "payload ran".
 *
 *   memfd-loader ASSET KEY DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static char *argv_payload[] = { "payload", NULL };

static void run(int fd, const char *how)
{
        char path[64];

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        execve(path, argv_payload, environ);
        printf("%s execve: %s\n", how, strerror(errno));
        syscall(SYS_execveat, fd, "", argv_payload, environ, AT_EMPTY_PATH);
        printf("%s execveat: %s\n", how, strerror(errno));
        fflush(stdout);
}

int main(int argc, char **argv)
{
        static unsigned char buf[4 << 20];
        unsigned key = argc == 4 ? (unsigned)strtoul(argv[2], NULL, 0) : 0;
        char path[4096];
        ssize_t n;
        int in, fd;

        if (argc != 4 || (in = open(argv[1], O_RDONLY)) < 0 ||
            (n = read(in, buf, sizeof(buf))) <= 0)
                return 2;
        for (ssize_t i = 0; i < n; i++)
                buf[i] ^= (unsigned char)key;
        for (unsigned flags = 0; flags <= 0x10; flags += 0x10) { /* 0, then MFD_EXEC */
                fd = (int)syscall(SYS_memfd_create, "payload", flags);
                if (fd < 0) {
                        printf("memfd_create(%#x): %s\n", flags, strerror(errno));
                        continue;
                }
                if (write(fd, buf, (size_t)n) == n)
                        run(fd, "memfd");
                close(fd);
        }
        snprintf(path, sizeof(path), "%s/payload", argv[3]);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        if (fd < 0 || write(fd, buf, (size_t)n) != n) {
                printf("file %s: %s\n", path, strerror(errno));
                return 1;
        }
        close(fd);
        execve(path, argv_payload, environ);
        printf("file execve: %s\n", strerror(errno));
        fflush(stdout);
        return 1;
}
