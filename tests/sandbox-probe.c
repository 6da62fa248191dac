/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The program the sandbox and `cairn profile` tests run inside images. Compiled static by
 * the tests themselves (cc -static), never committed as a binary.
 *
 *   probe writes      writes /tmp/a, /var/cache/app/b, /run/app.pid; creates then deletes
 *                     /tmp/scratch
 *   probe delete P    deletes P (an image file)
 *   probe read P      opens and reads P
 *   probe churn       creates then deletes /var/cache/app/tmp, and nothing else
 *   probe forever     blocks forever, ignoring nothing (PID 1 ignores SIGTERM without handler)
 *   probe linger M    forks three children that block forever, then exits 0; M marks them
 *   probe info        prints "uid gid pid cwd hostname n_interfaces $PROBE_ENV"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *path, const char *content)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, content, strlen(content)) < 0 || close(fd) < 0) {
                fprintf(stderr, "probe: %s: %s\n", path, strerror(errno));
                exit(1);
        }
}

static void block_forever(void)
{
        sigset_t none;
        sigemptyset(&none);
        for (;;)
                sigsuspend(&none);
}

int main(int argc, char **argv)
{
        if (argc < 2)
                return 2;
        if (strcmp(argv[1], "writes") == 0) {
                write_file("/tmp/a", "a\n");
                write_file("/var/cache/app/b", "b\n");
                write_file("/run/app.pid", "1\n");
                write_file("/tmp/scratch", "x\n");
                if (unlink("/tmp/scratch") < 0)
                        return 1;
                return 0;
        }
        if (strcmp(argv[1], "read") == 0 && argc > 2) {
                char buf[64];
                int fd = open(argv[2], O_RDONLY);
                return fd < 0 || read(fd, buf, sizeof(buf)) < 0 ? 1 : 0;
        }
        if (strcmp(argv[1], "churn") == 0) {
                write_file("/var/cache/app/tmp", "t\n");
                return unlink("/var/cache/app/tmp") < 0 ? 1 : 0;
        }
        if (strcmp(argv[1], "delete") == 0 && argc > 2)
                return unlink(argv[2]) < 0 ? 1 : 0;
        if (strcmp(argv[1], "forever") == 0)
                block_forever();
        if (strcmp(argv[1], "linger") == 0) {
                for (int i = 0; i < 3; i++) {
                        pid_t p = fork();
                        if (p < 0)
                                return 1;
                        if (p == 0) {
                                setsid();
                                block_forever();
                        }
                }
                return 0;
        }
        if (strcmp(argv[1], "info") == 0) {
                char cwd[256], host[256];
                if (!getcwd(cwd, sizeof(cwd)) || gethostname(host, sizeof(host)) < 0)
                        return 1;
                struct if_nameindex *ifs = if_nameindex();
                int n = 0;
                for (struct if_nameindex *i = ifs; i && i->if_index; i++)
                        n++;
                const char *env = getenv("PROBE_ENV");
                printf("%u %u %d %s %s %d %s\n", (unsigned)getuid(), (unsigned)getgid(),
                       (int)getpid(), cwd, host, n, env ? env : "-");
                return 0;
        }
        return 2;
}
