/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's supervisor (sandbox.h): PID 1 of its own pid namespace, it sets up the overlay
 * and the bundle in a private mount namespace, runs runc create/start, waits for the container
 * (the duration, cairn's signals, cairn's death), stops and deletes it, and reports the writes
 * from the overlay's upper layer.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "readset.h"
#include "sandbox-internal.h"

#define DEFAULT_GRACE_MS 2000
#define DEFAULT_TMPFS_MB 1024
/* How long runc may take to create and to start the container, and to delete it. */
#define SETUP_TIMEOUT_MS  60000
#define DELETE_TIMEOUT_MS 20000
/* runc and its children run with this environment only. */
#define RUNTIME_PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void sandbox_record_send(int fd, char tag, const char *payload)
{
        size_t len = strlen(payload);
        if (len > RECORD_MAX - 2)
                len = RECORD_MAX - 2;
        char buf[RECORD_MAX];
        buf[0] = tag;
        memcpy(buf + 1, payload, len);
        buf[len + 1] = '\0';
        (void)write_all(fd, buf, len + 2);
}

_printf_(3, 4) static void record_error(int fd, int code, const char *fmt, ...)
{
        char msg[1024];
        int n = snprintf(msg, sizeof(msg), "%d ", code < 0 ? -code : code);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
        va_end(ap);
        sandbox_record_send(fd, 'E', msg);
}
/* ---- reading the upper directory --------------------------------------------------------- */

struct walk {
        int result_fd;
        size_t n;
        bool overflow;
};

static void walk_report(struct walk *w, char op, bool dir, const char *path)
{
        if (w->n >= SANDBOX_MAX_WRITES) {
                w->overflow = true;
                return;
        }
        char tag[2] = { dir ? 'd' : 'f', '\0' };
        _cleanup_free_ char *payload = NULL;
        if (asprintf(&payload, "%s%s", tag, path) < 0)
                return;
        sandbox_record_send(w->result_fd, op, payload);
        w->n++;
}

static bool dir_is_opaque(int fd)
{
        char v[4];
        ssize_t n = fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v));
        return n == 1 && v[0] == 'y';
}

/*
 * Reports every write below the upper directory upfd (path: its image path, "" for the
 * root); lowfd is the same directory in the rootfs or -1. Returns how many were reported.
 */
static size_t walk_upper(struct walk *w, int upfd, int lowfd, const char *path)
{
        _cleanup_close_ int dfd = fcntl(upfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d)
                return 0;
        dfd = -1;
        size_t reported = 0;
        struct dirent *de;
        while ((de = readdir(d)) && !w->overflow) {
                const char *name = de->d_name;
                if (streq(name, ".") || streq(name, ".."))
                        continue;
                /* The runtime's mount points: what lands there is on proc, sysfs or tmpfs. */
                if (!*path && (streq(name, "proc") || streq(name, "dev") || streq(name, "sys")))
                        continue;
                _cleanup_free_ char *child = NULL;
                if (asprintf(&child, "%s/%s", path, name) < 0 || strlen(child) >= TREE_PATH_MAX)
                        continue;
                struct stat st, lst;
                if (fstatat(upfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                bool in_lower = lowfd >= 0 && fstatat(lowfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0;

                if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {
                        walk_report(w, 'D', in_lower && S_ISDIR(lst.st_mode), child);
                        reported++;
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        walk_report(w, in_lower ? 'M' : 'C', false, child);
                        reported++;
                        continue;
                }
                _cleanup_close_ int sub =
                        openat(upfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        continue;
                bool lower_dir = in_lower && S_ISDIR(lst.st_mode);
                bool opaque = lower_dir && dir_is_opaque(sub);
                _cleanup_close_ int lsub = -1;
                if (lower_dir && !opaque)
                        lsub = openat(lowfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (!in_lower) {
                        walk_report(w, 'C', true, child);
                        reported += 1 + walk_upper(w, sub, -1, child);
                        continue;
                }
                if (!lower_dir || opaque) {
                        walk_report(w, 'M', true, child);
                        reported += 1 + walk_upper(w, sub, -1, child);
                        continue;
                }
                /* A copied-up directory: a write only when its own metadata changed, or its
                 * entries did (mtime) without any remaining entry to show for it — a file
                 * created and deleted again. */
                size_t below = walk_upper(w, sub, lsub, child);
                bool meta = (st.st_mode & 07777) != (lst.st_mode & 07777) ||
                            st.st_uid != lst.st_uid || st.st_gid != lst.st_gid;
                bool entries = st.st_mtim.tv_sec != lst.st_mtim.tv_sec ||
                               st.st_mtim.tv_nsec != lst.st_mtim.tv_nsec;
                if (meta || (entries && below == 0)) {
                        walk_report(w, 'M', true, child);
                        below++;
                }
                reported += below;
        }
        closedir(d);
        return reported;
}

/* ---- the supervisor: PID 1 of its own pid namespace ---------------------------------------- */

/* Copies the container's output to stderr; escapes control characters (C0 but tab and
 * newline, DEL, and the C1 range U+0080-U+009F in UTF-8) when stderr is a terminal, so the
 * program cannot drive the terminal cairn runs in. */
struct output {
        int fd; /* the pipe's read end, or -1 once at EOF */
        bool escape;
        bool held_c2; /* the last chunk ended with 0xc2 */
};

static void output_write(struct output *o, const unsigned char *p, size_t n)
{
        if (!o->escape) {
                (void)write_all(STDERR_FILENO, p, n);
                return;
        }
        char buf[4 * 4096 + 8];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = p[i];
                if (o->held_c2) {
                        o->held_c2 = false;
                        if (c >= 0x80 && c <= 0x9f) {
                                k += (size_t)snprintf(buf + k, sizeof(buf) - k, "\\xc2\\x%02x", c);
                                continue;
                        }
                        buf[k++] = (char)0xc2;
                }
                if (c == 0xc2) {
                        o->held_c2 = true;
                } else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
                        k += (size_t)snprintf(buf + k, sizeof(buf) - k, "\\x%02x", c);
                } else {
                        buf[k++] = (char)c;
                }
                if (k > sizeof(buf) - 16) {
                        (void)write_all(STDERR_FILENO, buf, k);
                        k = 0;
                }
        }
        (void)write_all(STDERR_FILENO, buf, k);
}

/* Reads what is available (the fd is non-blocking); closes it at EOF. */
static void output_pump(struct output *o)
{
        unsigned char buf[4096];
        while (o->fd >= 0) {
                ssize_t n = read(o->fd, buf, sizeof(buf));
                if (n > 0) {
                        output_write(o, buf, (size_t)n);
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return;
                if (o->held_c2) {
                        o->held_c2 = false;
                        (void)write_all(STDERR_FILENO, "\xc2", 1);
                }
                closep(&o->fd);
        }
}

#define SPAWN_STDERR  (-1) /* spawn(): stdout and stderr go to the supervisor's stderr */
#define SPAWN_DEVNULL (-2) /* ... to /dev/null */

/*
 * Starts argv (argv[0] absolute) with stdin /dev/null and stdout, stderr on out (or
 * SPAWN_STDERR, SPAWN_DEVNULL), in a new session, with a clean signal state, no other descriptor and
 * RUNTIME_PATH_ENV as its whole environment. Returns the pid or -errno.
 */
static pid_t spawn(char *const *argv, int out)
{
        pid_t pid = fork();
        if (pid != 0)
                return pid < 0 ? -errno : pid;
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void)setsid();
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (out == SPAWN_DEVNULL)
                out = null;
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
            (out >= 0 && (dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0)) ||
            (out < 0 && dup2(STDERR_FILENO, STDOUT_FILENO) < 0))
                _exit(126);
        (void)syscall(SYS_close_range, 3U, ~0U, 0U);
        for (int sig = 1; sig < NSIG; sig++)
                (void)signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        char *envp[] = { RUNTIME_PATH_ENV, NULL };
        execve(argv[0], argv, envp);
        _exit(127);
}

/* In the supervisor's own mount namespace: a private tmpfs over the host's /tmp holds the
 * upper layer, the bundle (the overlay is its rootfs) and runc's state. */
#define SCRATCH "/tmp"
#define BUNDLE  SCRATCH "/bundle"
#define MERGED  BUNDLE "/rootfs"
#define STATE   SCRATCH "/state"
#define PIDFILE SCRATCH "/pid"

struct supervisor {
        const struct sandbox_options *o;
        int result_fd;
        int lowfd;    /* the lower layer */
        bool mounted; /* the private tmpfs is mounted */
        int sfd, tfd, fan;
        struct output out;
        struct readset reads;
        pid_t container; /* the container's init, once known */
        bool container_reaped;
        int container_status;
        bool caller_gone, interrupted, timed_out, killed;
};

enum wait_end {
        WAIT_EXITED,  /* the process ended; *ret_status holds how */
        WAIT_TIMEOUT, /* the timer fired first (setup phases) */
        WAIT_STOP,    /* a signal to cairn, or cairn died */
        WAIT_ERROR,
};

/*
 * Waits for pid, reaping every other child meanwhile (this is PID 1), copying output and
 * draining fanotify. timeout_ms > 0 arms the timer; with duration, the timer is the run's
 * --duration: SIGTERM at the end, SIGKILL after the grace period, and waiting goes on. A
 * signal to cairn or cairn's death ends the wait (WAIT_STOP) once; the cleanup that follows
 * waits on regardless.
 */
static enum wait_end supervisor_wait(struct supervisor *s, pid_t pid, unsigned timeout_ms,
                                     bool duration, int *ret_status)
{
        bool stopped = s->caller_gone || s->interrupted;
        /* Armed, or disarmed when there is no limit; either way no old expiry is left. */
        struct itimerspec its = { .it_value = { .tv_sec = timeout_ms / 1000,
                                                .tv_nsec = (timeout_ms % 1000) * 1000000L } };
        if (timerfd_settime(s->tfd, 0, &its, NULL) < 0)
                return WAIT_ERROR;
        unsigned grace = s->o->grace_ms ? s->o->grace_ms : DEFAULT_GRACE_MS;
        for (;;) {
                int status;
                pid_t p;
                if (pid == s->container && s->container_reaped) {
                        *ret_status = s->container_status;
                        return WAIT_EXITED;
                }
                while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
                        /* The container may end while runc start is still being waited for. */
                        if (p == s->container) {
                                s->container_reaped = true;
                                s->container_status = status;
                        }
                        if (p == pid) {
                                *ret_status = status;
                                return WAIT_EXITED;
                        }
                }
                if (pid == s->container && s->container_reaped)
                        continue;
                struct pollfd pfd[5] = {
                        { .fd = s->sfd, .events = POLLIN },
                        { .fd = s->tfd, .events = POLLIN },
                        /* POLLERR: the caller is gone */
                        { .fd = stopped ? -1 : s->result_fd, .events = 0 },
                        { .fd = s->out.fd, .events = POLLIN },
                        { .fd = s->fan, .events = POLLIN },
                };
                if (poll(pfd, ELEMENTSOF(pfd), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return WAIT_ERROR;
                }
                if (pfd[3].revents)
                        output_pump(&s->out);
                if (s->fan >= 0 && (pfd[4].revents & POLLIN) &&
                    readset_drain_fanotify(&s->reads, s->fan, MERGED) < 0)
                        return WAIT_ERROR;
                if (pfd[2].revents & (POLLERR | POLLHUP)) {
                        s->caller_gone = true;
                        return WAIT_STOP;
                }
                if (pfd[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(s->sfd, &si, sizeof(si)) == sizeof(si) &&
                            si.ssi_signo != SIGCHLD && !stopped) {
                                s->interrupted = true;
                                return WAIT_STOP;
                        }
                }
                if (pfd[1].revents & POLLIN) {
                        uint64_t ticks;
                        if (read(s->tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
                                continue;
                        if (!duration)
                                return WAIT_TIMEOUT;
                        if (!s->timed_out) {
                                /* The container's init gets SIGTERM only if it handles it. */
                                s->timed_out = true;
                                kill(pid, SIGTERM);
                                struct itimerspec g = { .it_value = { .tv_sec = grace / 1000,
                                                                      .tv_nsec = (grace % 1000) *
                                                                                 1000000L } };
                                (void)timerfd_settime(s->tfd, 0, &g, NULL);
                        } else if (!s->killed) {
                                s->killed = true;
                                kill(pid, SIGKILL);
                        }
                }
        }
}

/* Kills every other process of this pid namespace (runc, the container, anything they
 * started) and reaps them. */
static void kill_all(void)
{
        (void)kill(-1, SIGKILL);
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
                ;
}

/* Runs `RUNTIME --root STATE ARGS... ID` and waits for it (bounded). 0 when it exited 0. */
static int runtime_call(struct supervisor *s, const char *const *args, int out, unsigned timeout_ms,
                        int *ret_status)
{
        char *argv[16];
        size_t n = 0;
        argv[n++] = (char *)s->o->runtime;
        argv[n++] = "--root";
        argv[n++] = STATE;
        for (size_t i = 0; args[i] && n < ELEMENTSOF(argv) - 2; i++)
                argv[n++] = (char *)args[i];
        argv[n++] = (char *)s->o->container_id;
        argv[n] = NULL;
        pid_t pid = spawn(argv, out);
        if (pid < 0)
                return pid;
        int status = 0;
        enum wait_end e = supervisor_wait(s, pid, timeout_ms, false, &status);
        if (e != WAIT_EXITED) {
                kill(pid, SIGKILL);
                return e == WAIT_TIMEOUT ? -ETIMEDOUT : -EINTR;
        }
        *ret_status = status;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static const char *status_text(int status, char *buf, size_t size)
{
        if (WIFEXITED(status))
                snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                snprintf(buf, size, "was killed by signal %d", WTERMSIG(status));
        else
                snprintf(buf, size, "ended (status 0x%x)", status);
        return buf;
}

/* The container's init pid from runc's --pid-file. */
static pid_t read_pid(const char *path)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (read_file_bounded(path, 64, &text, &len) < 0)
                return -1;
        char *end;
        long v = strtol(text, &end, 10);
        return v > 1 && v < (1L << 22) ? (pid_t)v : -1;
}

/*
 * Mounts /proc for this pid namespace, the private tmpfs on SCRATCH and the overlay on
 * SCRATCH/bundle/rootfs; writes config.json. s->lowfd is the lower layer, opened before the
 * tmpfs covers the caller's TMPDIR (often below /tmp).
 */
static int supervisor_setup(struct supervisor *s)
{
        const struct sandbox_options *o = s->o;
        int fd = s->result_fd;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                record_error(fd, errno, "a private mount namespace: %m");
                return -1;
        }
        /* runc reads /proc/self and the container's /proc/PID: they must be this namespace's. */
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                record_error(fd, errno, "mounting /proc for the supervisor: %m");
                return -1;
        }
        struct stat lst;
        s->lowfd = open(o->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->lowfd < 0 || fstat(s->lowfd, &lst) < 0) {
                record_error(fd, errno, "%s: %m", o->rootfs);
                return -1;
        }
        /* Only host root and the container's root (for runc's setup) may enter it. */
        char size[128];
        snprintf(size, sizeof(size), "mode=0700,uid=%u,gid=%u,size=%llum", (unsigned)o->root_uid,
                 (unsigned)o->root_gid,
                 (unsigned long long)(o->tmpfs_size_mb ? o->tmpfs_size_mb : DEFAULT_TMPFS_MB));
        if (mount("tmpfs", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, size) < 0) {
                record_error(fd, errno, "mounting a private tmpfs on " SCRATCH ": %m");
                return -1;
        }
        s->mounted = true;
        _cleanup_close_ int sfd = open(SCRATCH, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0 || mkdirat(sfd, "upper", 0755) < 0 || mkdirat(sfd, "work", 0700) < 0 ||
            mkdirat(sfd, "bundle", 0700) < 0 ||
            fchownat(sfd, "bundle", o->root_uid, o->root_gid, 0) < 0 ||
            mkdirat(sfd, "bundle/rootfs", 0755) < 0 || mkdirat(sfd, "state", 0700) < 0) {
                record_error(fd, errno, "the private tmpfs: %m");
                return -1;
        }
        /* The overlay's root takes the upper directory's owner and mode: the image's. */
        if (fchownat(sfd, "upper", lst.st_uid, lst.st_gid, 0) < 0 ||
            fchmodat(sfd, "upper", lst.st_mode & 07777, 0) < 0) {
                record_error(fd, errno, "the upper directory: %m");
                return -1;
        }
        /* The lower layer by descriptor: any TMPDIR works, ',' and ':' included. */
        char opts[128];
        snprintf(opts, sizeof(opts),
                 "lowerdir=/proc/self/fd/%d,upperdir=" SCRATCH "/upper,workdir=" SCRATCH "/work",
                 s->lowfd);
        /* nosuid and nodev carry over to runc's bind mount of it, locked in the user namespace. */
        if (mount("overlay", MERGED, "overlay", MS_NOSUID | MS_NODEV, opts) < 0) {
                record_error(fd, errno, "mounting the overlay: %m");
                return -1;
        }
        _cleanup_close_ int cfd =
                openat(sfd, "bundle/config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (cfd < 0 || write_all(cfd, o->config, o->config_len) < 0) {
                record_error(fd, errno, "writing config.json: %m");
                return -1;
        }
        return 0;
}

/* The run itself: create, start, wait, stop. 0, or -1 after an 'E' record. */
static int supervisor_container(struct supervisor *s, int *ret_status)
{
        int fd = s->result_fd;
        int out[2];
        if (pipe2(out, O_CLOEXEC) < 0) {
                record_error(fd, errno, "pipe: %m");
                return -1;
        }
        s->out.fd = out[0];
        (void)fcntl(out[0], F_SETFL, O_NONBLOCK);
        _cleanup_close_ int out_w = out[1];
        char what[128];
        int status = 0;
        const char *create[] = { "create", "--bundle", BUNDLE, "--pid-file", PIDFILE, NULL };
        int r = runtime_call(s, create, out_w, SETUP_TIMEOUT_MS, &status);
        if (r == -EINTR)
                return 0; /* stopped before it ran */
        if (r < 0) {
                output_pump(&s->out);
                record_error(fd, EIO, "%s create %s %s", s->o->runtime, s->o->container_id,
                             r == -ETIMEDOUT ? "did not finish within 60 s"
                                             : status_text(status, what, sizeof(what)));
                return -1;
        }
        pid_t pid = read_pid(PIDFILE);
        if (pid < 0) {
                record_error(fd, EIO, "%s create wrote no container pid", s->o->runtime);
                return -1;
        }
        s->container = pid;
        /* From here on the program's opens count, not runc's lookups during create. */
        if (s->o->record_reads) {
                s->fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
                                       O_RDONLY | O_LARGEFILE | O_CLOEXEC);
                if (s->fan < 0 || fanotify_mark(s->fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
                                                FAN_OPEN, AT_FDCWD, MERGED) < 0) {
                        record_error(fd, errno, "--reads: fanotify on the overlay: %m");
                        return -1;
                }
        }
        const char *start[] = { "start", NULL };
        r = runtime_call(s, start, out_w, SETUP_TIMEOUT_MS, &status);
        if (r == -EINTR)
                return 0;
        if (r < 0) {
                output_pump(&s->out);
                record_error(fd, EIO, "%s start %s %s", s->o->runtime, s->o->container_id,
                             r == -ETIMEDOUT ? "did not finish within 60 s"
                                             : status_text(status, what, sizeof(what)));
                return -1;
        }
        closep(&out_w);
        /* The container's init was runc create's child; it is this process's now. */
        enum wait_end e = supervisor_wait(s, pid, s->o->duration_ms, true, ret_status);
        if (e == WAIT_ERROR) {
                record_error(fd, errno, "waiting for the container: %m");
                return -1;
        }
        return 0;
}

_Noreturn void sandbox_supervisor_run(const struct sandbox_options *o, int result_fd)
{
        struct supervisor s = {
                .o = o, .result_fd = result_fd, .lowfd = -1, .fan = -1, .out = { .fd = -1 }
        };
        s.out.escape = isatty(STDERR_FILENO);
        (void)prctl(PR_SET_NAME, "cairn-sandbox");
        signal(SIGPIPE, SIG_IGN);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        sigprocmask(SIG_BLOCK, &set, NULL);
        s.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        s.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        int status = 0, r = -1;
        if (s.sfd < 0 || s.tfd < 0)
                record_error(result_fd, errno, "signalfd/timerfd: %m");
        else if (supervisor_setup(&s) == 0)
                r = supervisor_container(&s, &status);
        /* Whatever happened: nothing of the container survives this line. */
        kill_all();
        if (s.fan >= 0 && r == 0 && readset_drain_fanotify(&s.reads, s.fan, MERGED) < 0)
                r = -1;
        output_pump(&s.out);
        if (s.mounted) {
                const char *del[] = { "delete", "--force", NULL };
                int st;
                (void)runtime_call(&s, del, s.caller_gone ? SPAWN_DEVNULL : SPAWN_STDERR,
                                   DELETE_TIMEOUT_MS, &st);
                kill_all();
        }
        if (s.caller_gone) {
                /* Nobody reads the result: clean up what the caller would have (the caller's
                 * TMPDIR may be below the tmpfs). */
                if (s.mounted)
                        (void)umount2(SCRATCH, MNT_DETACH);
                for (size_t i = 0; o->cleanup_dirs && o->cleanup_dirs[i]; i++)
                        (void)rm_rf(o->cleanup_dirs[i]);
                _exit(1);
        }
        if (r < 0)
                _exit(1);

        _cleanup_close_ int upfd = open(SCRATCH "/upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (upfd < 0) {
                record_error(result_fd, errno, "reading the overlay: %m");
                _exit(1);
        }
        struct walk w = { .result_fd = result_fd };
        (void)walk_upper(&w, upfd, s.lowfd, "");
        if (w.overflow) {
                record_error(result_fd, EFBIG, "the program wrote more than %d paths",
                             SANDBOX_MAX_WRITES);
                _exit(1);
        }
        for (size_t i = 0; i < s.reads.n; i++)
                sandbox_record_send(result_fd, 'R', s.reads.paths[i]);
        char st[96];
        snprintf(st, sizeof(st), "%d %d %d %d %d", status, s.timed_out, s.killed, s.interrupted,
                 s.reads.truncated);
        sandbox_record_send(result_fd, 'S', st);
        _exit(0);
}
