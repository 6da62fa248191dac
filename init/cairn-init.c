/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn-init: the static PID 1 of cairn's production images (DESIGN.md §7).
 *
 * It checks the environment and the mounts it was asked to check, hardens itself
 * (no_new_privs, umask 022, no inherited descriptors), starts PROGRAM as a child in its own
 * process group, forwards the usual termination and job-control signals to it, reaps every
 * zombie that lands on it (as PID 1 or as child subreaper) and exits with the child's status.
 *
 * Signals are blocked and read from a signalfd: no asynchronous handler does any work. The
 * child gets the inherited signal mask back and default dispositions before execve, because
 * both survive execve.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include <unistd.h>

#include "options.h"
#include "base/util.h"

#ifndef CAIRN_INIT_VERSION
#define CAIRN_INIT_VERSION "unknown"
#endif

#ifndef SYS_close_range
#define SYS_close_range 436 /* the same number on every architecture */
#endif

/* The signals forwarded to the child (or its process group with -g). */
static const int forwarded_signals[] = {
        SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

/* Job-control signals that would stop PID 1 (or a foreground init) if left at default. */
static const int ignored_signals[] = {
        SIGTTIN,
        SIGTTOU,
        SIGTSTP,
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
 * Runs in the forked child: takes its own process group (and the terminal when init had it),
 * gives back the inherited signal mask and default dispositions, and execs PROGRAM. On failure
 * sends errno through err_fd (close-on-exec, so EOF tells the parent exec succeeded).
 */
static _Noreturn void child_exec(const struct init_options *o, const sigset_t *saved_mask,
                                 bool take_tty, int err_fd)
{
        int e;

        (void)setpgid(0, 0);
        /* SIGTTOU is still ignored here, so a background group may take the terminal. */
        if (take_tty && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY && errno != ENXIO)
                debug("cannot hand the terminal to the child: %s", strerror(errno));

        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                signal(forwarded_signals[i], SIG_DFL);
        for (size_t i = 0; i < ELEMENTSOF(ignored_signals); i++)
                signal(ignored_signals[i], SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, saved_mask, NULL);

        execvp(o->argv[0], o->argv);
        e = errno;
        (void)!write(err_fd, &e, sizeof(e));
        _exit(init_exit_status_from_exec_errno(e));
}

/*
 * Reaps every exited child. Sets *child_done and *ret_status when `child` is among them.
 * SIGCHLD coalesces, so one signal may stand for many exits: loop until nothing is left.
 */
static void children_reap(pid_t child, const char *name, bool *child_done, int *ret_status)
{
        for (;;) {
                int st;
                pid_t pid = waitpid(-1, &st, WNOHANG);
                if (pid <= 0)
                        return;
                if (pid == child) {
                        *child_done = true;
                        *ret_status = init_exit_status_from_wait(st);
                        debug("%s (pid %d) ended, exit status %d", name, (int)pid, *ret_status);
                } else {
                        debug("reaped orphan pid %d", (int)pid);
                }
        }
}

/* Sets up the signals, starts PROGRAM and supervises it. Returns cairn-init's exit status. */
static int supervise(const struct init_options *o)
{
        _cleanup_close_ int sfd = -1;
        _cleanup_close_ int err_rd = -1;
        _cleanup_close_ int err_wr = -1;
        sigset_t set, saved_mask;
        bool take_tty, child_done = false;
        int fds[2], e, status = INIT_EXIT_REFUSED;
        ssize_t n;
        pid_t child;

        sigemptyset(&set);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(&set, forwarded_signals[i]);
        sigaddset(&set, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &set, &saved_mask) < 0) {
                say("cannot block signals: %s", strerror(errno));
                return INIT_EXIT_REFUSED;
        }
        /*
         * An inherited SIG_IGN would discard these signals even while blocked (a shell starts
         * background jobs with SIGINT/SIGQUIT ignored; SIG_IGN on SIGCHLD would auto-reap).
         * They are blocked, so the default action never runs here.
         */
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                signal(forwarded_signals[i], SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
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
                child_exec(o, &saved_mask, take_tty, err_wr);

        /* Both sides set the group, so signals to -child never race the child's setpgid. */
        (void)setpgid(child, child);
        debug("started %s as pid %d", o->argv[0], (int)child);

        closep(&err_wr);
        do
                n = read(err_rd, &e, sizeof(e));
        while (n < 0 && errno == EINTR);
        if (n == sizeof(e)) {
                int st;
                while (waitpid(child, &st, 0) < 0 && errno == EINTR)
                        ;
                if (e == ENOENT)
                        say("%s: not found", o->argv[0]);
                else
                        say("%s: cannot execute: %s", o->argv[0], strerror(e));
                return init_exit_status_from_exec_errno(e);
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
        return status;
}

int main(int argc, char **argv)
{
        struct init_options o;
        char msg[512];
        const char *v;

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
        if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                say("cannot become child subreaper, orphans will not be reaped: %s",
                    strerror(errno));

        return supervise(&o);
}
