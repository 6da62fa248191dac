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
 *   probe escape M    clears its parent-death signal, forks a child in a new session that
 *                     clears its own too, and both block forever; M marks them
 *   probe sysctl      tries to change kernel/core_pattern, vm/drop_caches,
 *                     kernel/randomize_va_space and dev/tty/legacy_tiocsti (each to another
 *                     value than it reads); prints one line each; exits 3 when one succeeded
 *   probe tiocsti     pushes "id\n" into every descriptor it has and into /dev/tty and
 *                     /dev/console (TIOCSTI, also with the request's upper bits set); prints one
 *                     line each; exits 3 when one succeeded
 *   probe forkbomb N  forks children that block until fork fails (at most N), prints
 *                     "forks COUNT errno NAME", then blocks forever
 *   probe check [--hold] P...   prints "uid U", "gid G", "CapEff HEX", then "/: ERROR" for
 *                     a file created in /, and "P: ok UID" or "P: ERROR" for a file created in
 *                     each P (its owner); with --hold prints "holding" and reads stdin to its
 *                     end; exits 7
 *   probe ansi        prints terminal control sequences (OSC title, CSI clear, 8-bit CSI)
 *   probe eatmem MIB  allocates and touches MIB MiB, prints "ate MIB" and exits 0
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* Writes a value other than the current one into /proc/sys/NAME; 1 when that worked. */
static int sysctl_change(const char *name)
{
        char path[256], cur[256] = "";
        snprintf(path, sizeof(path), "/proc/sys/%s", name);
        int fd = open(path, O_RDONLY);
        if (fd >= 0) {
                ssize_t n = read(fd, cur, sizeof(cur) - 1);
                cur[n > 0 ? n : 0] = '\0';
                close(fd);
        }
        const char *want = strcmp(name, "kernel/core_pattern") == 0 ? "|/bin/false %p"
                           : strcmp(name, "vm/drop_caches") == 0    ? "3"
                           : cur[0] == '0'                          ? "1"
                                                                    : "0";
        fd = open(path, O_WRONLY);
        if (fd < 0) {
                printf("%s: open: %s\n", path, strerror(errno));
                return 0;
        }
        ssize_t n = write(fd, want, strlen(want));
        int e = errno;
        close(fd);
        if (n < 0) {
                printf("%s: write: %s\n", path, strerror(e));
                return 0;
        }
        printf("%s: CHANGED to %s\n", path, want);
        return 1;
}

/* TIOCSTI "id\n" into fd, plainly and with the upper 32 bits of the request set (the kernel
 * truncates the request); 1 when a character went in. */
static int tiocsti(int fd, const char *what)
{
        int got = 0;
        const unsigned long reqs[] = { TIOCSTI, 0xffffffff00000000UL | TIOCSTI };
        for (size_t r = 0; r < 2; r++) {
                int ok = 1;
                for (const char *c = "id\n"; *c && ok; c++)
                        ok = syscall(SYS_ioctl, fd, reqs[r], c) == 0;
                printf("%s%s: %s\n", what, r ? " (upper bits)" : "",
                       ok ? "INJECTED" : strerror(errno));
                got |= ok;
        }
        return got;
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
        if (strcmp(argv[1], "escape") == 0) {
                if (prctl(PR_SET_PDEATHSIG, 0) < 0)
                        return 1;
                pid_t p = fork();
                if (p < 0)
                        return 1;
                if (p == 0) {
                        setsid();
                        prctl(PR_SET_PDEATHSIG, 0);
                }
                printf("escape: %s\n", p == 0 ? "child" : "parent");
                fflush(stdout);
                block_forever();
        }
        if (strcmp(argv[1], "sysctl") == 0) {
                static const char *const names[] = { "kernel/core_pattern", "vm/drop_caches",
                                                     "kernel/randomize_va_space",
                                                     "dev/tty/legacy_tiocsti" };
                int changed = 0;
                for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                        changed |= sysctl_change(names[i]);
                return changed ? 3 : 0;
        }
        if (strcmp(argv[1], "tiocsti") == 0) {
                int got = 0;
                DIR *d = opendir("/proc/self/fd");
                int dfd = d ? dirfd(d) : -1;
                struct dirent *de;
                while (d && (de = readdir(d))) {
                        int fd = atoi(de->d_name);
                        if (de->d_name[0] == '.' || fd == dfd)
                                continue;
                        char what[64];
                        snprintf(what, sizeof(what), "fd %d", fd);
                        got |= tiocsti(fd, what);
                }
                if (d)
                        closedir(d);
                static const char *const ttys[] = { "/dev/tty", "/dev/console" };
                for (size_t i = 0; i < 2; i++) {
                        int fd = open(ttys[i], O_RDWR | O_NOCTTY);
                        if (fd < 0) {
                                printf("%s: open: %s\n", ttys[i], strerror(errno));
                                continue;
                        }
                        got |= tiocsti(fd, ttys[i]);
                        close(fd);
                }
                return got ? 3 : 0;
        }
        if (strcmp(argv[1], "forkbomb") == 0 && argc > 2) {
                long max = atol(argv[2]), n = 0;
                int e = 0;
                for (; n < max; n++) {
                        pid_t p = fork();
                        if (p < 0) {
                                e = errno;
                                break;
                        }
                        if (p == 0)
                                block_forever();
                }
                printf("forks %ld errno %s\n", n, e == EAGAIN ? "EAGAIN" : strerror(e));
                fflush(stdout);
                block_forever();
        }
        if (strcmp(argv[1], "check") == 0) {
                char buf[4096] = "";
                int fd = open("/proc/self/status", O_RDONLY);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
                buf[n > 0 ? n : 0] = '\0';
                const char *cap = strstr(buf, "CapEff:\t");
                printf("uid %u\ngid %u\nCapEff %.16s\n", (unsigned)getuid(), (unsigned)getgid(),
                       cap ? cap + 8 : "?");
                fd = open("/probe-root-write", O_WRONLY | O_CREAT, 0644);
                printf("/: %s\n", fd < 0 ? strerror(errno) : "WRITTEN");
                int hold = argc > 2 && strcmp(argv[2], "--hold") == 0;
                for (int i = 2 + hold; i < argc; i++) {
                        char path[512];
                        struct stat st;
                        snprintf(path, sizeof(path), "%s/probe-write", argv[i]);
                        fd = open(path, O_WRONLY | O_CREAT, 0644);
                        if (fd < 0 || fstat(fd, &st) < 0)
                                printf("%s: %s\n", argv[i], strerror(errno));
                        else
                                printf("%s: ok %u\n", argv[i], (unsigned)st.st_uid);
                }
                if (hold) {
                        printf("holding\n");
                        fflush(stdout);
                        char c;
                        while (read(STDIN_FILENO, &c, 1) > 0)
                                ;
                }
                return 7;
        }
        if (strcmp(argv[1], "ansi") == 0) {
                printf("title:\033]0;cairn-owned\007 clear:\033[2J c1:\302\233J end\n");
                return 0;
        }
        if (strcmp(argv[1], "eatmem") == 0 && argc > 2) {
                long mib = atol(argv[2]);
                for (long i = 0; i < mib; i++) {
                        char *p = malloc(1 << 20);
                        if (!p)
                                return 1;
                        memset(p, 1, 1 << 20);
                }
                printf("ate %ld\n", mib);
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
