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
 *   leave-orphan MODE print "ready PPID PID", fork a grandchild that outlives the probe and
 *                     exit 0; the grandchild prints "orphan got SIGTERM" when it gets one
 *                     (MODE term), or ignores SIGTERM (MODE stubborn), then waits
 *   first-fd FILE     open /dev/null, write "first fd: N" into FILE
 *   exec PATH ARGS... execv PATH; on failure print "exec PATH: ERRNO-NAME" and exit 126
 *   fexec PATH        open PATH and run it with execveat(fd, "", AT_EMPTY_PATH) (fexecve)
 *   memfd FLAGS HOW PATH  copy PATH into memfd_create(FLAGS: none, exec, noexec-seal),
 *                     print "memfd_create: ok|ERRNO-NAME", then run it (HOW: path, by
 *                     execve("/proc/self/fd/N"); fd, by execveat(N, "", AT_EMPTY_PATH)) with
 *                     the arguments `exit 0 memfd-ran`; a failure prints "execve memfd:
 *                     ERRNO-NAME" or "execveat memfd: ERRNO-NAME"
 *   mmap-exec PATH    mmap PATH with PROT_EXEC, print "mmap-exec PATH: ok|ERRNO-NAME"
 *   read PATH         open PATH for reading, print "read PATH: ok|ERRNO-NAME"
 *   drop ASSET KEY DEST  XOR-decode ASSET with KEY into DEST (mode 0755), print "drop DEST:
 *                     ok|ERRNO-NAME", then exec it like `exec DEST`
 *   http-serve PORT STATUS  listen on 127.0.0.1:PORT, print "listening PORT", answer every
 *                     request with "HTTP/1.0 STATUS"
 *   landlock-only MODE ARGS...  restrict itself with a Landlock ruleset that handles the
 *                     execute right and grants it nowhere (no seccomp filter), then run MODE:
 *                     what Landlock alone stops
 *   ops PATH...       for each PATH: create, truncate, mkdir PATH.d, rename, unlink; print
 *                     "OP PATH: ok|ERRNO-NAME"
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void say(const char *msg)
{
        puts(msg);
        fflush(stdout);
}

static const struct {
        int sig;
        const char *name;
} signal_names[] = {
        { SIGHUP, "SIGHUP" },       { SIGINT, "SIGINT" },   { SIGQUIT, "SIGQUIT" },
        { SIGILL, "SIGILL" },       { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
        { SIGBUS, "SIGBUS" },       { SIGFPE, "SIGFPE" },   { SIGUSR1, "SIGUSR1" },
        { SIGSEGV, "SIGSEGV" },     { SIGUSR2, "SIGUSR2" }, { SIGPIPE, "SIGPIPE" },
        { SIGALRM, "SIGALRM" },     { SIGTERM, "SIGTERM" }, { SIGCONT, "SIGCONT" },
        { SIGURG, "SIGURG" },       { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
        { SIGVTALRM, "SIGVTALRM" }, { SIGPROF, "SIGPROF" }, { SIGWINCH, "SIGWINCH" },
        { SIGIO, "SIGIO" },         { SIGPWR, "SIGPWR" },   { SIGSYS, "SIGSYS" },
};

/* Every signal a test may send (not SIGCHLD: group-signal has a child). */
static void waited_block(sigset_t *set)
{
        sigfillset(set);
        sigdelset(set, SIGCHLD);
        sigprocmask(SIG_BLOCK, set, NULL);
}

/* Waits for one of the signals, prints "WHO got SIGNAME" (SIGRTMIN+K for real-time ones),
 * returns 128+N. */
static int waited_wait(const sigset_t *set, const char *who)
{
        const char *name = NULL;
        int sig;

        while ((sig = sigwaitinfo(set, NULL)) < 0)
                ;
        for (size_t i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
                if (signal_names[i].sig == sig)
                        name = signal_names[i].name;
        if (name)
                printf("%s got %s\n", who, name);
        else
                printf("%s got SIGRTMIN+%d\n", who, sig - SIGRTMIN);
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

/* The state letter of /proc/PID/stat ('Z' for a zombie) when PID's parent is our parent (init
 * as subreaper) or us (when we are PID 1); 0 when PID is gone or someone else's (reused). */
static char pid_state(pid_t pid)
{
        char path[64], buf[512], *p;
        int ppid;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        p = fgets(buf, sizeof(buf), f);
        fclose(f);
        if (!p || !(p = strrchr(buf, ')')))
                return 0;
        /* ") STATE PPID ..." */
        if (sscanf(p + 1, " %*c %d", &ppid) != 1)
                return 0;
        if (ppid != getppid() && ppid != getpid())
                return 0;
        return p[2];
}

/*
 * Waits until every pid of pids[n] is a zombie or gone, bounded at 10 s, then until every one
 * is gone, bounded at 3 s; returns how many are zombies still. A grandchild that has closed its
 * pipe may still be running its exit: it counts only once the kernel says it is a zombie.
 */
static int orphans_judge(const pid_t *pids, int n)
{
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        int z = 0;

        for (int i = 0; i < n; i++)
                for (int tries = 0; tries < 1000; tries++) {
                        char st = pid_state(pids[i]);
                        if (st == 0 || st == 'Z')
                                break;
                        nanosleep(&ts, NULL);
                }
        /* Reaping is the parent's job and happens asynchronously: poll, bounded at 3 s. */
        for (int tries = 0; tries < 300; tries++) {
                z = 0;
                for (int i = 0; i < n; i++)
                        z += pid_state(pids[i]) != 0;
                if (z == 0)
                        break;
                nanosleep(&ts, NULL);
        }
        return z;
}

static int orphans(int n)
{
        int done[2];
        char c;
        pid_t pids[64];

        if (n < 0 || n > 64 || pipe(done) < 0)
                return 1;
        for (int i = 0; i < n; i++) {
                int parent_alive[2], pid_pipe[2], st;
                pid_t mid;

                if (pipe(parent_alive) < 0 || pipe(pid_pipe) < 0)
                        return 1;
                mid = fork();
                if (mid == 0) {
                        pid_t g = fork();
                        if (g == 0) {
                                /* Grandchild: exit only once orphaned (EOF from the dead mid). */
                                close(parent_alive[1]);
                                close(done[0]);
                                while (read(parent_alive[0], &c, 1) > 0)
                                        ;
                                _exit(0);
                        }
                        /* The grandchild's pid, for the parent to wait for by pid. */
                        _exit(g > 0 && write(pid_pipe[1], &g, sizeof(g)) == sizeof(g) ? 0 : 1);
                }
                close(parent_alive[0]);
                close(parent_alive[1]);
                close(pid_pipe[1]);
                if (waitpid(mid, &st, 0) != mid || !WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
                    read(pid_pipe[0], &pids[i], sizeof(pids[i])) != sizeof(pids[i]))
                        return 1;
                close(pid_pipe[0]);
        }
        close(done[1]);
        /* EOF once every grandchild has exited and closed its copy. */
        while (read(done[0], &c, 1) > 0)
                ;
        printf("zombies=%d\n", orphans_judge(pids, n));
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
                    !strncmp(buf, "CapEff:", 7) || !strncmp(buf, "CapBnd:", 7) ||
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

static const char *errno_name(int e)
{
        switch (e) {
        case EACCES:
                return "EACCES";
        case EPERM:
                return "EPERM";
        case ENOSYS:
                return "ENOSYS";
        case ENOENT:
                return "ENOENT";
        case EROFS:
                return "EROFS";
        case EXDEV:
                return "EXDEV";
        case EINVAL:
                return "EINVAL";
        case ENOEXEC:
                return "ENOEXEC";
        default:
                return strerror(e);
        }
}

/* The grandchild outlives the probe; a test checks that cairn-init ends it. */
static int leave_orphan(const char *mode)
{
        int p[2];
        char c;
        pid_t pid;

        if (pipe(p) < 0)
                return 1;
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                sigset_t set;
                close(p[0]);
                if (setsid() < 0) /* out of PROGRAM's process group, like a daemon */
                        _exit(1);
                if (strcmp(mode, "stubborn") == 0)
                        signal(SIGTERM, SIG_IGN);
                sigemptyset(&set);
                sigaddset(&set, SIGTERM);
                sigprocmask(SIG_BLOCK, &set, NULL);
                if (write(p[1], "r", 1) != 1)
                        _exit(1);
                close(p[1]);
                if (strcmp(mode, "stubborn") == 0) {
                        sigprocmask(SIG_UNBLOCK, &set, NULL);
                        for (;;)
                                pause();
                }
                while (sigwaitinfo(&set, NULL) < 0)
                        ;
                say("orphan got SIGTERM");
                _exit(0);
        }
        close(p[1]);
        if (read(p[0], &c, 1) != 1)
                return 1;
        printf("ready %d %d %d\n", (int)getppid(), (int)getpid(), (int)pid);
        fflush(stdout);
        return 0;
}

static int first_fd(const char *file)
{
        int fd = open("/dev/null", O_RDONLY);
        FILE *f = fopen(file, "we");

        if (!f)
                return 1;
        fprintf(f, "first fd: %d\n", fd);
        return fclose(f) == 0 ? 0 : 1;
}

static int exec_path(char **argv)
{
        execv(argv[0], argv);
        printf("exec %s: %s\n", argv[0], errno_name(errno));
        fflush(stdout);
        return 126;
}

static int fexec(const char *path)
{
        char *argv[] = { (char *)path, (char *)"exit", (char *)"0", (char *)"fexec-ran", NULL };
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                printf("open %s: %s\n", path, errno_name(errno));
                fflush(stdout);
                return 1;
        }
        syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        printf("execveat %s: %s\n", path, errno_name(errno));
        fflush(stdout);
        return 126;
}

/* The memory-only executable: PATH's bytes in a memfd, run by path and by descriptor. */
static int memfd_exec(const char *flags, const char *how, const char *path)
{
        unsigned f = strcmp(flags, "exec") == 0          ? 0x10U /* MFD_EXEC */
                     : strcmp(flags, "noexec-seal") == 0 ? 0x08U /* MFD_NOEXEC_SEAL */
                                                         : 0;
        char buf[65536], fdpath[64];
        char *argv[] = { (char *)"memfd", (char *)"exit", (char *)"0", (char *)"memfd-ran", NULL };
        ssize_t n;
        int in, fd;

        fd = (int)syscall(SYS_memfd_create, "probe", f);
        printf("memfd_create: %s\n", fd < 0 ? errno_name(errno) : "ok");
        fflush(stdout);
        if (fd < 0)
                return 1;
        in = open(path, O_RDONLY);
        if (in < 0)
                return 1;
        while ((n = read(in, buf, sizeof(buf))) > 0)
                if (write(fd, buf, (size_t)n) != n)
                        return 1;
        close(in);
        if (strcmp(how, "fd") == 0) {
                syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
                printf("execveat memfd: %s\n", errno_name(errno));
        } else {
                snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
                execve(fdpath, argv, environ);
                printf("execve memfd: %s\n", errno_name(errno));
        }
        fflush(stdout);
        return 126;
}

static int mmap_exec(const char *path)
{
        int fd = open(path, O_RDONLY);
        void *p;

        if (fd < 0) {
                printf("mmap-exec %s: open: %s\n", path, errno_name(errno));
                fflush(stdout);
                return 1;
        }
        p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
        printf("mmap-exec %s: %s\n", path, p == MAP_FAILED ? errno_name(errno) : "ok");
        fflush(stdout);
        return 0;
}

static int read_path(const char *path)
{
        int fd = open(path, O_RDONLY);
        printf("read %s: %s\n", path, fd < 0 ? errno_name(errno) : "ok");
        fflush(stdout);
        return 0;
}

static int drop(const char *asset, const char *key, const char *dest)
{
        static unsigned char buf[4 << 20];
        unsigned k = (unsigned)strtoul(key, NULL, 0);
        char *argv[] = { (char *)dest, NULL };
        int in = open(asset, O_RDONLY), out;
        ssize_t n = in < 0 ? -1 : read(in, buf, sizeof(buf));

        if (n <= 0)
                return 2;
        for (ssize_t i = 0; i < n; i++)
                buf[i] ^= (unsigned char)k;
        out = open(dest, O_WRONLY | O_CREAT | O_TRUNC, 0755);
        if (out < 0 || write(out, buf, (size_t)n) != n || close(out) < 0) {
                printf("drop %s: %s\n", dest, errno_name(errno));
                fflush(stdout);
                return 1;
        }
        printf("drop %s: ok\n", dest);
        fflush(stdout);
        return exec_path(argv);
}

static int http_serve(int port, int status)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0) {
                printf("listen: %s\n", errno_name(errno));
                fflush(stdout);
                return 1;
        }
        printf("listening %d\n", port);
        fflush(stdout);
        for (;;) {
                char req[4096], answer[64];
                int c = accept(s, NULL, NULL);
                if (c < 0)
                        continue;
                (void)!read(c, req, sizeof(req));
                snprintf(answer, sizeof(answer), "HTTP/1.0 %d probe\r\n\r\n", status);
                (void)!write(c, answer, strlen(answer));
                close(c);
        }
}

static void op(const char *what, const char *path, int r)
{
        printf("%s %s: %s\n", what, path, r < 0 ? errno_name(errno) : "ok");
        fflush(stdout);
}

/* The write-side operations Landlock restricts, one by one. */
static int ops(int argc, char **argv)
{
        for (int i = 0; i < argc; i++) {
                char dir[4200], moved[4200];
                int fd;

                snprintf(dir, sizeof(dir), "%s.d", argv[i]);
                snprintf(moved, sizeof(moved), "%s.moved", argv[i]);
                fd = open(argv[i], O_WRONLY | O_CREAT, 0644);
                op("create", argv[i], fd);
                if (fd >= 0)
                        close(fd);
                op("truncate", argv[i], truncate(argv[i], 0));
                op("mkdir", dir, mkdir(dir, 0755));
                op("rename", argv[i], rename(argv[i], moved));
                op("unlink", moved, unlink(moved));
                rmdir(dir);
        }
        return 0;
}

static int landlock_only(void)
{
        struct landlock_ruleset_attr attr = { .handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE };
        int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);

        if (fd < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
                printf("landlock: %s\n", errno_name(errno));
                fflush(stdout);
                return 1;
        }
        close(fd);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc >= 3 && !strcmp(argv[1], "landlock-only")) {
                if (landlock_only() != 0)
                        return 1;
                argv[1] = argv[0];
                argv++;
                argc--;
        }
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
        if (argc == 3 && !strcmp(argv[1], "leave-orphan"))
                return leave_orphan(argv[2]);
        if (argc == 3 && !strcmp(argv[1], "first-fd"))
                return first_fd(argv[2]);
        if (argc >= 3 && !strcmp(argv[1], "exec"))
                return exec_path(argv + 2);
        if (argc == 3 && !strcmp(argv[1], "fexec"))
                return fexec(argv[2]);
        if (argc == 5 && !strcmp(argv[1], "memfd"))
                return memfd_exec(argv[2], argv[3], argv[4]);
        if (argc == 5 && !strcmp(argv[1], "drop"))
                return drop(argv[2], argv[3], argv[4]);
        if (argc == 4 && !strcmp(argv[1], "http-serve"))
                return http_serve(atoi(argv[2]), atoi(argv[3]));
        if (argc == 3 && !strcmp(argv[1], "read"))
                return read_path(argv[2]);
        if (argc == 3 && !strcmp(argv[1], "mmap-exec"))
                return mmap_exec(argv[2]);
        if (argc >= 3 && !strcmp(argv[1], "ops"))
                return ops(argc - 2, argv + 2);
        fprintf(stderr, "init-probe: unknown mode\n");
        return 2;
}
