/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn-init: the static PID 1 of cairn's production images (DESIGN.md §7).
 *
 * It checks the environment and the mounts it was asked to check, hardens itself
 * (no_new_privs, umask 022, no inherited descriptors, fds 0-2 always open), starts PROGRAM as
 * a child in its own process group, forwards every signal it can catch to it, reaps every
 * zombie that lands on it (as PID 1 or as child subreaper), ends what PROGRAM left running
 * and exits with the child's status. With --landlock the child restricts itself before
 * execve (restrict.h): Landlock from the runtime file and a seccomp filter.
 *
 * The order at start, and why:
 *   1. fds 0-2 are opened on /dev/null when closed, before anything else opens a file;
 *   2. the checks (environment, writable paths, read-only root) see the mounts the runtime
 *      made; cairn-init itself mounts nothing;
 *   3. umask, no_new_privs (Landlock and seccomp need it), inherited fds closed;
 *   4. --landlock: the runtime file is read and the ruleset built, its rules bound to the
 *      inodes mounted now; a missing or malformed file refuses the start (status 1);
 *   5. the child takes its process group, gets default signal dispositions and the
 *      inherited mask back, restricts itself (Landlock, then the seccomp filter) and execs.
 *
 * Signals are blocked and read from a signalfd: no asynchronous handler does any work. The
 * child gets the inherited signal mask back and default dispositions before execve, because
 * both survive execve.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "options.h"
#include "probe.h"
#include "restrict.h"
#include "rtjson.h"
#include "base/util.h"

#ifndef CAIRN_INIT_VERSION
#define CAIRN_INIT_VERSION "unknown"
#endif

#ifndef SYS_close_range
#define SYS_close_range 436 /* the same number on every architecture */
#endif

/*
 * Every signal but these is blocked and forwarded to the child (or its process group with
 * -g): a signal left at its default action would kill cairn-init as child subreaper (SIGALRM,
 * SIGPIPE, SIGVTALRM, SIGUSR1...) and leave PROGRAM running. Job-control stops would stop
 * PID 1 (or a foreground init): ignored. SIGPIPE is ignored rather than forwarded, so that a
 * write of cairn-init's own to a closed pipe fails with EPIPE instead of raising a signal that
 * would then be forwarded. SIGKILL and SIGSTOP cannot be caught.
 */
static const int ignored_signals[] = {
        SIGTTIN,
        SIGTTOU,
        SIGTSTP,
        SIGPIPE,
};

static bool verbose;

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        char line[512];
        va_list ap;
        int n;

        /* One write(2) per line, so lines from init and child never interleave mid-line. */
        memcpy(line, "cairn-init: ", 12);
        va_start(ap, fmt);
        n = vsnprintf(line + 12, sizeof(line) - 13, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        n = 12 + ((size_t)n < sizeof(line) - 13 ? n : (int)sizeof(line) - 14);
        line[n++] = '\n';
        (void)!write(STDERR_FILENO, line, n);
}

#define debug(...)                                                                                 \
        do {                                                                                       \
                if (verbose)                                                                       \
                        say(__VA_ARGS__);                                                          \
        } while (0)

/* Checks every pre-start condition; prints one line per refusal. Returns the refusal count. */
static int checks_run(const struct init_options *o)
{
        struct statvfs sv;
        struct stat st;
        int refusals = 0;

        for (size_t i = 0; i < o->n_require_env; i++) {
                const char *v = getenv(o->require_env[i]);
                if (!v || v[0] == '\0') {
                        say("%s is required but %s", o->require_env[i], v ? "empty" : "not set");
                        refusals++;
                }
        }

        for (size_t i = 0; i < o->n_writable; i++) {
                const char *p = o->writable[i];
                if (stat(p, &st) < 0) {
                        say("writable path %s: %s", p, strerror(errno));
                        refusals++;
                } else if (statvfs(p, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
                        say("writable path %s is on a read-only mount", p);
                        refusals++;
                } else if (access(p, W_OK) < 0) {
                        say("writable path %s is not writable: %s", p, strerror(errno));
                        refusals++;
                } else {
                        debug("writable path %s is writable", p);
                }
        }

        if (o->read_only_root || o->enforce_read_only) {
                if (statvfs("/", &sv) < 0) {
                        say("cannot check the root mount: %s", strerror(errno));
                        refusals += o->enforce_read_only;
                } else if (!(sv.f_flag & ST_RDONLY)) {
                        if (o->enforce_read_only) {
                                say("/ is mounted writable but --enforce-read-only is set");
                                refusals++;
                        } else {
                                say("warning: / is mounted writable (--read-only-root)");
                        }
                } else {
                        debug("/ is mounted read-only");
                }
        }
        return refusals;
}

/* Closes every descriptor above 2. close_range when the kernel has it, else /proc/self/fd. */
static void fds_close_inherited(void)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
                return;

        d = opendir("/proc/self/fd");
        if (!d) {
                /* No /proc yet: a bounded sweep is the only way left. */
                long max = sysconf(_SC_OPEN_MAX);
                if (max < 0 || max > 65536)
                        max = 65536;
                for (int fd = 3; fd < max; fd++)
                        close(fd);
                return;
        }
        while ((de = readdir(d))) {
                char *end;
                long fd = strtol(de->d_name, &end, 10);
                if (*end != '\0' || fd <= 2 || fd == dirfd(d))
                        continue;
                close((int)fd);
        }
}

/*
 * Opens /dev/null on each of fds 0-2 that is closed, so that nothing cairn-init or PROGRAM
 * opens later lands there (PROGRAM's first open() would become its stdin). Without /dev/null
 * an O_PATH descriptor of "/" holds the slot: reads and writes on it fail with EBADF, as on a
 * closed descriptor.
 */
static void fds_std_open(void)
{
        for (int fd = 0; fd <= 2; fd++) {
                int n;

                if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
                        continue;
                /* The lowest free descriptor: fd itself, as the lower ones are open by now. */
                n = open("/dev/null", O_RDWR | O_NOCTTY);
                if (n < 0)
                        n = open("/", O_PATH);
                if (n >= 0 && n != fd) {
                        (void)dup2(n, fd);
                        close(n);
                }
        }
}

/*
 * The signal mask and dispositions through the raw system calls: the libc wrappers refuse
 * the signals the libc keeps for itself (musl: 32-34, glibc: 32-33), and left alone those
 * would kill cairn-init (their default action) and go unforwarded. cairn-init is
 * single-threaded and uses no libc feature that needs them.
 */
static int mask_raw(int how, const sigset_t *set, sigset_t *old)
{
        return (int)syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8);
}

/* SIG_DFL, no flags, empty mask: an all-zero struct sigaction in every kernel layout. */
static void default_raw(int sig)
{
        static const unsigned long zero[16];
        (void)syscall(SYS_rt_sigaction, sig, zero, NULL, _NSIG / 8);
}

/* Every signal number the kernel has, but SIGKILL, SIGSTOP and ignored_signals. */
static void set_forwarded(sigset_t *set)
{
        memset(set, 0, sizeof(*set));
        for (int sig = 1; sig < _NSIG; sig++) {
                bool ignored = sig == SIGKILL || sig == SIGSTOP;
                for (size_t i = 0; i < ELEMENTSOF(ignored_signals); i++)
                        ignored = ignored || sig == ignored_signals[i];
                if (!ignored)
                        ((unsigned long *)set)[(sig - 1) / (8 * sizeof(unsigned long))] |=
                                1UL << ((sig - 1) % (8 * sizeof(unsigned long)));
        }
}

/* What the child reports through its error pipe when it cannot exec PROGRAM. */
enum child_step {
        CHILD_EXEC,     /* execvp failed: errno */
        CHILD_LANDLOCK, /* landlock_restrict_self failed */
        CHILD_SECCOMP,  /* installing the seccomp filter failed */
};

struct child_report {
        int step; /* enum child_step */
        int errnum;
};

/* The restriction the child applies before execve (--landlock). */
struct restriction {
        int ruleset_fd; /* -1: no Landlock ruleset (not asked, or no Landlock here) */
        bool filter;    /* install the seccomp filter */
};

/*
 * Runs in the forked child: takes its own process group (and the terminal when init had it),
 * gives back the inherited signal mask and default dispositions, restricts itself and execs
 * PROGRAM. On failure sends a child_report through err_fd (close-on-exec, so EOF tells the
 * parent exec succeeded).
 */
static _Noreturn void child_exec(const struct init_options *o, const sigset_t *saved_mask,
                                 bool take_tty, const struct restriction *rs, int err_fd)
{
        struct child_report rep = { CHILD_EXEC, 0 };
        int r;

        (void)setpgid(0, 0);
        /* SIGTTOU is still ignored here, so a background group may take the terminal. */
        if (take_tty && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY && errno != ENXIO)
                debug("cannot hand the terminal to the child: %s", strerror(errno));

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        default_raw(sig);
        mask_raw(SIG_SETMASK, saved_mask, NULL);

        /* Last, so that nothing above runs restricted; the seccomp filter after Landlock,
         * whose system calls it would otherwise have to allow. */
        if (rs->ruleset_fd >= 0) {
                r = landlock_apply(rs->ruleset_fd);
                if (r < 0) {
                        rep = (struct child_report){ CHILD_LANDLOCK, -r };
                        goto fail;
                }
        }
        if (rs->filter) {
                r = exec_filter_install();
                if (r < 0 && r != -ENOTSUP && r != -EINVAL) {
                        rep = (struct child_report){ CHILD_SECCOMP, -r };
                        goto fail;
                }
                if (r < 0)
                        say("the seccomp filter against memory-only executables is not "
                            "available here (%s): memfds may be executed",
                            r == -ENOTSUP ? "not built for this architecture"
                                          : "no seccomp filters in this kernel");
        }

        execvp(o->argv[0], o->argv);
        rep.errnum = errno;
fail:
        (void)!write(err_fd, &rep, sizeof(rep));
        _exit(rep.step == CHILD_EXEC ? init_exit_status_from_exec_errno(rep.errnum)
                                     : INIT_EXIT_REFUSED);
}

/*
 * Reaps every exited child. Sets *child_done and *ret_status when `child` is among them.
 * SIGCHLD coalesces, so one signal may stand for many exits: loop until nothing is left.
 * Returns false when no child at all is left (ECHILD).
 */
static bool children_reap(pid_t child, const char *name, bool *child_done, int *ret_status)
{
        for (;;) {
                int st;
                pid_t pid = waitpid(-1, &st, WNOHANG);
                if (pid < 0)
                        return errno != ECHILD;
                if (pid == 0)
                        return true;
                if (pid == child) {
                        *child_done = true;
                        *ret_status = init_exit_status_from_wait(st);
                        debug("%s (pid %d) ended, exit status %d", name, (int)pid, *ret_status);
                } else {
                        debug("reaped orphan pid %d", (int)pid);
                }
        }
}

/*
 * Sends sig to every child of this process: the orphans PROGRAM left, re-parented to
 * cairn-init (PID 1 or subreaper). A pid whose parent is us stays ours until we reap it, so
 * reading /proc and signalling races with nothing. Without /proc, PROGRAM's process group
 * is all that can be reached. With `once`, a pid already in it is skipped and a new one added
 * (a second SIGTERM means "hurry" to some programs). Returns how many were signalled.
 */
struct pid_set {
        pid_t pids[1024];
        size_t n;
};

static bool pid_set_add(struct pid_set *s, pid_t pid)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->pids[i] == pid)
                        return false;
        if (s->n < ELEMENTSOF(s->pids))
                s->pids[s->n++] = pid;
        return true; /* a full set signals again rather than not at all */
}

static unsigned children_signal(pid_t pgid, int sig, struct pid_set *once)
{
        _cleanup_(closedirp) DIR *d = opendir("/proc");
        pid_t self = getpid();
        unsigned n = 0;
        struct dirent *de;

        if (!d) {
                return kill(-pgid, sig) == 0;
        }
        while ((de = readdir(d))) {
                char path[64], buf[512], *p;
                long ppid, pid;
                ssize_t len;
                int fd;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                pid = atol(de->d_name);
                snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                len = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (len <= 0)
                        continue;
                buf[len] = '\0';
                /* "PID (COMM) STATE PPID ...": COMM may hold ')' and spaces; the last ')'. */
                p = strrchr(buf, ')');
                if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
                        continue;
                ppid = strtol(p + 4, &p, 10);
                if (*p != ' ' || ppid != (long)self)
                        continue;
                if (once && !pid_set_add(once, (pid_t)pid))
                        continue;
                if (kill((pid_t)pid, sig) == 0)
                        n++;
        }
        return n;
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * After PROGRAM exited: what it left running gets SIGTERM, then SIGKILL once `grace` seconds
 * have passed; cairn-init returns when every child is reaped. Orphans that arrive later (a
 * grandchild whose parent just died) get their SIGTERM as they come.
 */
static void children_finish(int sfd, pid_t pgid, unsigned grace, const char *name)
{
        long long deadline = now_ms() + (long long)grace * 1000;
        static struct pid_set termed; /* static: 4 KiB off the stack of PID 1 */
        bool done = true;             /* PROGRAM is reaped already */
        int unused;
        unsigned n;

        if (!children_reap(-1, name, &done, &unused))
                return;
        n = children_signal(pgid, SIGTERM, &termed);
        debug("%s exited; %u remaining process%s sent SIGTERM", name, n, n == 1 ? "" : "es");
        for (;;) {
                struct pollfd p = { .fd = sfd, .events = POLLIN };
                struct signalfd_siginfo si;
                long long left = deadline - now_ms();

                if (!children_reap(-1, name, &done, &unused))
                        return;
                if (left <= 0)
                        break;
                if (poll(&p, 1, left > 60000 ? 60000 : (int)left) > 0 &&
                    read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGCHLD) {
                        /* Reap first: a dead parent's children are ours only then. */
                        if (!children_reap(-1, name, &done, &unused))
                                return;
                        children_signal(pgid, SIGTERM, &termed);
                }
        }
        /* SIGKILL cannot be refused; orphans still arriving are killed in the same loop. */
        for (;;) {
                int st;
                pid_t pid;

                n = children_signal(pgid, SIGKILL, NULL);
                if (n)
                        debug("%u remaining process%s sent SIGKILL after %u s", n,
                              n == 1 ? "" : "es", grace);
                pid = waitpid(-1, &st, 0);
                if (pid < 0 && errno == ECHILD)
                        return;
                if (pid < 0 && errno != EINTR) {
                        say("waiting for the remaining processes: %s", strerror(errno));
                        return;
                }
        }
}

/* Sets up the signals, starts PROGRAM and supervises it. Returns cairn-init's exit status. */
static int supervise(const struct init_options *o, const struct restriction *rs)
{
        _cleanup_close_ int sfd = -1;
        _cleanup_close_ int err_rd = -1;
        _cleanup_close_ int err_wr = -1;
        sigset_t set, saved_mask;
        bool take_tty, child_done = false;
        struct child_report rep;
        int fds[2], status = INIT_EXIT_REFUSED;
        ssize_t n;
        pid_t child;

        set_forwarded(&set);
        memset(&saved_mask, 0, sizeof(saved_mask));
        if (mask_raw(SIG_BLOCK, &set, &saved_mask) < 0) {
                say("cannot block signals: %s", strerror(errno));
                return INIT_EXIT_REFUSED;
        }
        /*
         * An inherited SIG_IGN would discard these signals even while blocked (a shell starts
         * background jobs with SIGINT/SIGQUIT ignored; SIG_IGN on SIGCHLD would auto-reap).
         * They are blocked, so the default action never runs here. A fault of cairn-init's
         * own (SIGSEGV...) still kills it: the kernel unblocks a signal it must deliver.
         */
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        default_raw(sig);
        for (size_t i = 0; i < ELEMENTSOF(ignored_signals); i++)
                signal(ignored_signals[i], SIG_IGN);

        sfd = signalfd(-1, &set, SFD_CLOEXEC);
        if (sfd < 0) {
                say("signalfd: %s", strerror(errno));
                return INIT_EXIT_REFUSED;
        }
        if (pipe2(fds, O_CLOEXEC) < 0) {
                say("pipe: %s", strerror(errno));
                return INIT_EXIT_REFUSED;
        }
        err_rd = fds[0];
        err_wr = fds[1];

        take_tty = tcgetpgrp(STDIN_FILENO) == getpgrp();

        child = fork();
        if (child < 0) {
                say("fork: %s", strerror(errno));
                return INIT_EXIT_REFUSED;
        }
        if (child == 0)
                child_exec(o, &saved_mask, take_tty, rs, err_wr);

        /* Both sides set the group, so signals to -child never race the child's setpgid. */
        (void)setpgid(child, child);
        debug("started %s as pid %d", o->argv[0], (int)child);

        closep(&err_wr);
        do
                n = read(err_rd, &rep, sizeof(rep));
        while (n < 0 && errno == EINTR);
        if (n == sizeof(rep)) {
                int st;
                while (waitpid(child, &st, 0) < 0 && errno == EINTR)
                        ;
                switch (rep.step) {
                case CHILD_LANDLOCK:
                        say("cannot apply the Landlock ruleset: %s", strerror(rep.errnum));
                        return INIT_EXIT_REFUSED;
                case CHILD_SECCOMP:
                        say("cannot install the seccomp filter: %s", strerror(rep.errnum));
                        return INIT_EXIT_REFUSED;
                default:
                        break;
                }
                if (rep.errnum == ENOENT)
                        say("%s: not found", o->argv[0]);
                else
                        say("%s: cannot execute: %s", o->argv[0], strerror(rep.errnum));
                return init_exit_status_from_exec_errno(rep.errnum);
        }

        while (!child_done) {
                struct signalfd_siginfo si;

                n = read(sfd, &si, sizeof(si));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n != sizeof(si)) {
                        say("reading signals: %s", n < 0 ? strerror(errno) : "short read");
                        kill(child, SIGKILL);
                        return INIT_EXIT_REFUSED;
                }
                if (si.ssi_signo == SIGCHLD) {
                        children_reap(child, o->argv[0], &child_done, &status);
                        continue;
                }
                debug("forwarding signal %d to %s %d", (int)si.ssi_signo,
                      o->signal_group ? "process group" : "pid", (int)child);
                if (kill(o->signal_group ? -child : child, (int)si.ssi_signo) < 0 && errno != ESRCH)
                        say("forwarding signal %d: %s", (int)si.ssi_signo, strerror(errno));
        }
        children_finish(sfd, child, o->grace, o->argv[0]);
        return status;
}

static void debug_path(const char *path, const char *why)
{
        debug("landlock: no rule for %s: %s", path, why);
}

/*
 * Reads the runtime file and builds the restriction (step 4 of the order above). Returns 0,
 * or INIT_EXIT_REFUSED after saying why: the file is missing, unreadable, malformed, or the
 * ruleset cannot be built.
 */
static int restriction_prepare(const struct init_options *o, struct restriction *ret)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct rt_manifest m;
        struct stat st;
        size_t len = 0, n_exec = 0, n_write = 0;
        char msg[512];
        const char *gaps;
        int abi, r;

        fd = open(o->runtime_json, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                say("--landlock: %s: %s", o->runtime_json, strerror(errno));
                return INIT_EXIT_REFUSED;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > RT_MAX_BYTES) {
                say("--landlock: %s: %s", o->runtime_json,
                    S_ISREG(st.st_mode) ? "larger than 4 MiB" : "not a regular file");
                return INIT_EXIT_REFUSED;
        }
        buf = malloc((size_t)st.st_size + 2);
        if (!buf) {
                say("--landlock: %s: %s", o->runtime_json, strerror(ENOMEM));
                return INIT_EXIT_REFUSED;
        }
        /* One byte more than the size: a file that grew is refused, not cut. */
        while (len <= (size_t)st.st_size) {
                ssize_t got = read(fd, buf + len, (size_t)st.st_size + 1 - len);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0) {
                        say("--landlock: %s: %s", o->runtime_json, strerror(errno));
                        return INIT_EXIT_REFUSED;
                }
                if (got == 0)
                        break;
                len += (size_t)got;
        }
        if (len != (size_t)st.st_size) {
                say("--landlock: %s: changed while being read", o->runtime_json);
                return INIT_EXIT_REFUSED;
        }
        buf[len] = '\0';
        r = rt_manifest_parse(buf, len, &m, msg, sizeof(msg));
        if (r < 0) {
                say("--landlock: %s: %s", o->runtime_json, r == -ENOMEM ? strerror(ENOMEM) : msg);
                return INIT_EXIT_REFUSED;
        }

        *ret = (struct restriction){ .ruleset_fd = -1, .filter = true };
        abi = landlock_abi();
        gaps = landlock_gaps(abi);
        if (gaps)
                say("%s", gaps);
        if (abi > 0) {
                r = landlock_build(&m, abi, verbose ? debug_path : NULL, &n_exec, &n_write, msg,
                                   sizeof(msg));
                if (r < 0) {
                        say("%s", msg);
                        rt_manifest_clear(&m);
                        return INIT_EXIT_REFUSED;
                }
                ret->ruleset_fd = r;
                debug("landlock ABI %d: %zu executables, %zu writable paths (of %zu and %zu "
                      "in %s)",
                      abi, n_exec, n_write, m.n_executables, m.n_writable, o->runtime_json);
        }
        rt_manifest_clear(&m);
        /* The manifest's strings point into buf: freed here, after the last use. */
        return 0;
}

int main(int argc, char **argv)
{
        struct init_options o;
        struct restriction rs = { .ruleset_fd = -1 };
        char msg[512];
        const char *v;
        int status;

        fds_std_open();
        if (init_options_parse(argc, argv, &o, msg, sizeof(msg)) < 0) {
                say("%s", msg);
                return INIT_EXIT_USAGE;
        }
        if (o.action == INIT_ACTION_HELP) {
                fputs(init_usage, stdout);
                return fflush(stdout) == 0 ? 0 : INIT_EXIT_REFUSED;
        }
        if (o.action == INIT_ACTION_VERSION) {
                puts("cairn-init " CAIRN_INIT_VERSION);
                return fflush(stdout) == 0 ? 0 : INIT_EXIT_REFUSED;
        }
        if (o.action == INIT_ACTION_PROBE)
                return probe_run(&o.probe, o.probe_arg, o.probe_expect, o.probe_timeout);

        v = getenv("CAIRN_INIT_VERBOSE");
        verbose = v && streq(v, "1");

        if (checks_run(&o) > 0)
                return INIT_EXIT_REFUSED;

        umask(022);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                say("cannot set no_new_privs: %s", strerror(errno));
                return INIT_EXIT_REFUSED;
        }
        fds_close_inherited();
        if (o.landlock && restriction_prepare(&o, &rs) != 0)
                return INIT_EXIT_REFUSED;
        if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                say("cannot become child subreaper, orphans will not be reaped: %s",
                    strerror(errno));

        status = supervise(&o, &rs);
        if (rs.ruleset_fd >= 0)
                close(rs.ruleset_fd);
        return status;
}
