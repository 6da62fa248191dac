/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test program the cairn-init end-to-end tests run under cairn-init (compiled by the test
 * scripts with `cc -static`, so it also runs in a bare container rootfs). One mode per check:
 *
 *   exit CODE MSG     print MSG, exit CODE
 *   wait-signal       print "ready PPID", wait for a signal cairn-init forwards, print
 *                     "probe got SIGNAME", exit 128+N (143 for SIGTERM)
 *   group-signal      like wait-signal, with a child in the same process group that prints
 *                     "child got SIGNAME" when the signal reaches it too
 *   orphans N         make N orphaned grandchildren that exit, print "zombies=K": the orphans
 *                     still unreaped after up to 3 s (0 under a working init)
 *   write PATH...     try to create a file in each PATH, print "write PATH: ok|failed (...)"
 *   tty               print "foreground: 1" when its process group owns the terminal
 *   status            print no_new_privs, umask, blocked/ignored signals, open fds above 2
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void say(const char *msg)
{
        puts(msg);
        fflush(stdout);
}

/* The signals cairn-init forwards; the probe waits for any of them. */
static const struct {
        int sig;
        const char *name;
} waited[] = {
        { SIGTERM, "SIGTERM" },   { SIGINT, "SIGINT" },   { SIGHUP, "SIGHUP" },
        { SIGQUIT, "SIGQUIT" },   { SIGUSR1, "SIGUSR1" }, { SIGUSR2, "SIGUSR2" },
        { SIGWINCH, "SIGWINCH" },
};

static void waited_block(sigset_t *set)
{
        sigemptyset(set);
        for (size_t i = 0; i < sizeof(waited) / sizeof(waited[0]); i++)
                sigaddset(set, waited[i].sig);
        sigprocmask(SIG_BLOCK, set, NULL);
}

/* Waits for one of the signals, prints "WHO got SIGNAME", returns 128+N. */
static int waited_wait(const sigset_t *set, const char *who)
{
        int sig;

        while ((sig = sigwaitinfo(set, NULL)) < 0)
                ;
        for (size_t i = 0; i < sizeof(waited) / sizeof(waited[0]); i++)
                if (waited[i].sig == sig)
                        printf("%s got %s\n", who, waited[i].name);
        fflush(stdout);
        return 128 + sig;
}

static int wait_signal(void)
{
        sigset_t set;

        waited_block(&set);
        /* The parent's pid lets a test signal cairn-init itself rather than a wrapper. */
        printf("ready %d %d\n", (int)getppid(), (int)getpid());
        fflush(stdout);
        return waited_wait(&set, "probe");
}

static int group_signal(void)
{
        sigset_t set;
        int p[2], r;
        char c;
        pid_t pid;

        waited_block(&set);
        if (pipe(p) < 0)
                return 1;
        pid = fork();
        if (pid == 0) {
                close(p[0]);
                if (write(p[1], "r", 1) != 1)
                        _exit(1);
                waited_wait(&set, "child");
                _exit(0);
        }
        close(p[1]);
        if (read(p[0], &c, 1) != 1)
                return 1;
        printf("ready %d %d\n", (int)getppid(), (int)getpid());
        fflush(stdout);
        r = waited_wait(&set, "probe");
        waitpid(pid, NULL, 0);
        return r;
}

/* Zombies whose parent is our parent (init as subreaper) or us (when we are PID 1). */
static int zombies_count(void)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d))) {
                char path[300], buf[512], *p;
                int ppid;
                FILE *f;

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                p = fgets(buf, sizeof(buf), f);
                fclose(f);
                if (!p || !(p = strrchr(buf, ')')))
                        continue;
                /* ") STATE PPID ..." */
                if (sscanf(p + 1, " %*c %d", &ppid) != 1 || p[2] != 'Z')
                        continue;
                if (ppid == getppid() || ppid == getpid())
                        n++;
        }
        closedir(d);
        return n;
}

static int orphans(int n)
{
        int done[2];
        char c;
        int z = -1;

        if (pipe(done) < 0)
                return 1;
        for (int i = 0; i < n; i++) {
                int parent_alive[2];
                pid_t mid;

                if (pipe(parent_alive) < 0)
                        return 1;
                mid = fork();
                if (mid == 0) {
                        if (fork() == 0) {
                                /* Grandchild: exit only once orphaned (EOF from the dead mid). */
                                close(parent_alive[1]);
                                close(done[0]);
                                while (read(parent_alive[0], &c, 1) > 0)
                                        ;
                                _exit(0);
                        }
                        _exit(0);
                }
                close(parent_alive[0]);
                close(parent_alive[1]);
                waitpid(mid, NULL, 0);
        }
        close(done[1]);
        /* EOF once every grandchild has exited and closed its copy. */
        while (read(done[0], &c, 1) > 0)
                ;
        /* Reaping is the parent's job and happens asynchronously: poll, bounded at 3 s. */
        for (int tries = 0; tries < 300; tries++) {
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                z = zombies_count();
                if (z == 0)
                        break;
                nanosleep(&ts, NULL);
        }
        printf("zombies=%d\n", z);
        fflush(stdout);
        return 0;
}

static int write_paths(int argc, char **argv)
{
        for (int i = 0; i < argc; i++) {
                char path[4200];
                FILE *f;

                snprintf(path, sizeof(path), "%s/.probe-write", argv[i]);
                f = fopen(path, "we");
                if (f && fputs("x", f) >= 0 && fclose(f) == 0) {
                        printf("write %s: ok\n", argv[i]);
                        fflush(stdout);
                        unlink(path);
                } else {
                        printf("write %s: failed (%s)\n", argv[i], strerror(errno));
                        fflush(stdout);
                }
        }
        return 0;
}

static int status(void)
{
        char buf[256];
        FILE *f = fopen("/proc/self/status", "re");
        DIR *d;
        struct dirent *de;

        if (!f)
                return 1;
        while (fgets(buf, sizeof(buf), f)) {
                if (!strncmp(buf, "NoNewPrivs:", 11) || !strncmp(buf, "Umask:", 6) ||
                    !strncmp(buf, "SigBlk:", 7) || !strncmp(buf, "SigIgn:", 7))
                        fputs(buf, stdout);
        }
        fclose(f);
        d = opendir("/proc/self/fd");
        if (!d)
                return 1;
        fputs("fds:", stdout);
        while ((de = readdir(d))) {
                int fd = atoi(de->d_name);
                if (de->d_name[0] != '.' && fd > 2 && fd != dirfd(d))
                        printf(" %d", fd);
        }
        closedir(d);
        printf("\npgid_is_pid: %d\n", getpgrp() == getpid());
        fflush(stdout);
        return 0;
}

static int tty(void)
{
        pid_t fg = tcgetpgrp(STDIN_FILENO);

        printf("foreground: %d\n", fg >= 0 && fg == getpgrp());
        printf("pgid_is_pid: %d\n", getpgrp() == getpid());
        fflush(stdout);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc >= 4 && !strcmp(argv[1], "exit")) {
                say(argv[3]);
                return atoi(argv[2]);
        }
        if (argc == 2 && !strcmp(argv[1], "wait-signal"))
                return wait_signal();
        if (argc == 2 && !strcmp(argv[1], "group-signal"))
                return group_signal();
        if (argc == 3 && !strcmp(argv[1], "orphans"))
                return orphans(atoi(argv[2]));
        if (argc >= 2 && !strcmp(argv[1], "write"))
                return write_paths(argc - 2, argv + 2);
        if (argc == 2 && !strcmp(argv[1], "tty"))
                return tty();
        if (argc == 2 && !strcmp(argv[1], "status"))
                return status();
        fprintf(stderr, "init-probe: unknown mode\n");
        return 2;
}
