/* SPDX-License-Identifier: Apache-2.0 */
#include "sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "readset.h"
#include "tree/tree.h"

/*
 * Records on the result pipe, child to caller: one tag byte, then a NUL-terminated payload.
 *   'C' 'M' 'D' + 'd'|'f' + PATH   a write (created, modified, deleted; directory or not)
 *   'R' + PATH                     a file opened (--reads)
 *   'S' + "STATUS TIMEDOUT KILLED INTERRUPTED TRUNCATED"   how the program ended
 *   'E' + "ERRNO MESSAGE"          the sandbox could not be built or the program not started
 */
#define RECORD_MAX (TREE_PATH_MAX + 8)

#define DEFAULT_GRACE_MS 2000
#define DEFAULT_TMPFS_MB 1024

extern char **environ;

static void record_send(int fd, char tag, const char *payload)
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
        record_send(fd, 'E', msg);
}

int sandbox_check_privileges(struct cairn_error *err)
{
        if (geteuid() == 0)
                return 0;
        _cleanup_free_ char *clone = NULL, *max = NULL;
        size_t len;
        bool userns = true;
        if (read_file_bounded("/proc/sys/kernel/unprivileged_userns_clone", 64, &clone, &len) >=
                    0 &&
            clone[0] == '0')
                userns = false;
        if (read_file_bounded("/proc/sys/user/max_user_namespaces", 64, &max, &len) >= 0 &&
            max[0] == '0')
                userns = false;
        return cairn_error_add(err, CAIRN_EXIT_IO, -EPERM,
                               "cairn profile must run as root: it mounts an overlay and creates "
                               "mount, PID and network namespaces. Unprivileged user namespaces "
                               "are %s on this machine, but cairn does not use them yet; run it "
                               "with sudo",
                               userns ? "enabled" : "disabled");
}

/* ---- PID 1 of the new namespace ---------------------------------------------------------- */

/*
 * Docker's default capability set without CAP_MKNOD: there is no device cgroup here, so a
 * device node made inside could reach the host's disks.
 */
static bool cap_kept(int cap)
{
        static const int kept[] = {
                CAP_CHOWN,       CAP_DAC_OVERRIDE,     CAP_FSETID,     CAP_FOWNER,
                CAP_NET_RAW,     CAP_SETGID,           CAP_SETUID,     CAP_SETFCAP,
                CAP_SETPCAP,     CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,
                CAP_AUDIT_WRITE,
        };
        for (size_t i = 0; i < ELEMENTSOF(kept); i++)
                if (kept[i] == cap)
                        return true;
        return false;
}

/* A mount point inside the new root: refuses symlinks (they would resolve on the host). */
static int mountpoint_prepare(int rootfd, const char *name, bool dir)
{
        struct stat st;
        if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode))
                        return 0;
                return -ENOTDIR;
        }
        if (errno != ENOENT)
                return -errno;
        if (dir)
                return mkdirat(rootfd, name, 0755) < 0 ? -errno : 0;
        int fd = openat(rootfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

static int setup_dev(const char *merged, int result_fd)
{
        _cleanup_free_ char *dev = NULL;
        if (asprintf(&dev, "%s/dev", merged) < 0)
                return -ENOMEM;
        if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755,size=65536k") < 0)
                return -errno;
        _cleanup_close_ int devfd = open(dev, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (devfd < 0)
                return -errno;
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                int r = mountpoint_prepare(devfd, nodes[i], false);
                if (r < 0)
                        return r;
                _cleanup_free_ char *src = NULL, *dst = NULL;
                if (asprintf(&src, "/dev/%s", nodes[i]) < 0 ||
                    asprintf(&dst, "%s/%s", dev, nodes[i]) < 0)
                        return -ENOMEM;
                if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
                        int e = errno;
                        record_error(result_fd, e, "bind-mounting %s: %s", src, strerror(e));
                        _exit(125);
                }
        }
        if (mkdirat(devfd, "shm", 01777) < 0 || mkdirat(devfd, "pts", 0755) < 0)
                return -errno;
        _cleanup_free_ char *shm = NULL;
        if (asprintf(&shm, "%s/shm", dev) < 0)
                return -ENOMEM;
        if (mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k") < 0)
                return -errno;
        static const char *const links[][2] = {
                { "/proc/self/fd", "fd" },       { "/proc/self/fd/0", "stdin" },
                { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
                { "/proc/kcore", "core" },
        };
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][0], devfd, links[i][1]) < 0)
                        return -errno;
        return 0;
}

static void child_fail(int fd, int code, const char *what)
{
        record_error(fd, code, "%s: %s", what, strerror(code < 0 ? -code : code));
        _exit(125);
}

_Noreturn static void child_run(const struct sandbox_options *o, const char *scratch, int result_fd)
{
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                child_fail(result_fd, errno, "prctl");
        if (unshare(CLONE_NEWNS) < 0)
                child_fail(result_fd, errno, "unshare(mount)");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                child_fail(result_fd, errno, "making / private");

        /* The overlay is the supervisor's mount, copied into this namespace by unshare. */
        _cleanup_free_ char *merged = NULL;
        if (asprintf(&merged, "%s/merged", scratch) < 0)
                child_fail(result_fd, ENOMEM, "setup");

        _cleanup_close_ int rootfd = open(merged, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfd < 0)
                child_fail(result_fd, errno, merged);
        int r = mountpoint_prepare(rootfd, "proc", true);
        if (r < 0)
                child_fail(result_fd, r, "/proc in the image");
        r = mountpoint_prepare(rootfd, "dev", true);
        if (r < 0)
                child_fail(result_fd, r, "/dev in the image");
        _cleanup_free_ char *proc = NULL;
        if (asprintf(&proc, "%s/proc", merged) < 0)
                child_fail(result_fd, ENOMEM, "setup");
        if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                child_fail(result_fd, errno, "mounting /proc");
        r = setup_dev(merged, result_fd);
        if (r < 0)
                child_fail(result_fd, r, "setting up /dev");

        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0)
                child_fail(result_fd, errno, "/dev/null");
        if (o->stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                child_fail(result_fd, errno, "stdout");

        /* pivot_root(".", "."): the old root ends up on top and is detached right away. */
        if (fchdir(rootfd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
                child_fail(result_fd, errno, "pivot_root");
        if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
                child_fail(result_fd, errno, "detaching the old root");

        for (int cap = 0; cap <= 63; cap++)
                if (!cap_kept(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        child_fail(result_fd, errno, "dropping capabilities");
        gid_t gid = o->gid;
        if (setgroups(1, &gid) < 0 || setresgid(o->gid, o->gid, o->gid) < 0 ||
            setresuid(o->uid, o->uid, o->uid) < 0)
                child_fail(result_fd, errno, "switching to the recipe's user");
        const char *workdir = o->workdir ? o->workdir : "/";
        if (chdir(workdir) < 0) {
                int e = errno;
                record_error(result_fd, e, "workdir %s: %s", workdir, strerror(e));
                _exit(125);
        }

        /* Signal mask and dispositions survive execve: give the program a clean slate. */
        for (int sig = 1; sig < NSIG; sig++)
                (void)signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        (void)syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);

        environ = (char **)o->envp;
        execvp(o->argv[0], o->argv);
        int e = errno;
        record_error(result_fd, e, "%s: cannot execute: %s", o->argv[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
}

/* ---- the supervisor ---------------------------------------------------------------------- */

static int lo_up(void)
{
        _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        struct ifreq ifr = { 0 };
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

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
        record_send(w->result_fd, op, payload);
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
                /* The sandbox's own mount points: what lands there is on proc or tmpfs. */
                if (!*path && (streq(name, "proc") || streq(name, "dev")))
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

struct supervisor_watch {
        int fan; /* fanotify descriptor, or -1 without --reads */
        struct readset *reads;
        const char *prefix; /* the overlay's mount point */
};

static int supervisor_wait(pid_t child, const struct sandbox_options *o,
                           const struct supervisor_watch *watch, int *ret_status, bool *timed_out,
                           bool *killed, bool *interrupted)
{
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
        _cleanup_close_ int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        if (sfd < 0 || tfd < 0)
                return -errno;
        unsigned grace = o->grace_ms ? o->grace_ms : DEFAULT_GRACE_MS;
        if (o->duration_ms) {
                struct itimerspec its = { .it_value = { .tv_sec = o->duration_ms / 1000,
                                                        .tv_nsec = (o->duration_ms % 1000) *
                                                                   1000000L } };
                if (timerfd_settime(tfd, 0, &its, NULL) < 0)
                        return -errno;
        }
        for (;;) {
                int status;
                pid_t p = waitpid(child, &status, WNOHANG);
                if (p == child) {
                        *ret_status = status;
                        return 0;
                }
                if (p < 0 && errno != EINTR)
                        return -errno;
                struct pollfd pfd[3] = { { .fd = sfd, .events = POLLIN },
                                         { .fd = tfd, .events = POLLIN },
                                         { .fd = watch->fan, .events = POLLIN } };
                if (poll(pfd, watch->fan >= 0 ? 3 : 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (watch->fan >= 0 && (pfd[2].revents & POLLIN)) {
                        int r = readset_drain_fanotify(watch->reads, watch->fan, watch->prefix);
                        if (r < 0)
                                return r;
                }
                if (pfd[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD) {
                                *interrupted = true;
                                kill(child, SIGKILL);
                        }
                }
                if (pfd[1].revents & POLLIN) {
                        uint64_t ticks;
                        if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
                                continue;
                        if (!*timed_out) {
                                /* PID 1 gets SIGTERM only if it handles it; SIGKILL follows. */
                                *timed_out = true;
                                kill(child, SIGTERM);
                                struct itimerspec its = { .it_value = { .tv_sec = grace / 1000,
                                                                        .tv_nsec = (grace % 1000) *
                                                                                   1000000L } };
                                (void)timerfd_settime(tfd, 0, &its, NULL);
                        } else {
                                *killed = true;
                                kill(child, SIGKILL);
                        }
                }
        }
}

_Noreturn static void supervisor_run(const struct sandbox_options *o, int result_fd, pid_t parent)
{
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(1);
        if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID) < 0) {
                record_error(result_fd, errno, "creating namespaces: %m");
                _exit(1);
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                record_error(result_fd, errno, "making / private: %m");
                _exit(1);
        }
        char size[64];
        snprintf(size, sizeof(size), "mode=0700,size=%llum",
                 (unsigned long long)(o->tmpfs_size_mb ? o->tmpfs_size_mb : DEFAULT_TMPFS_MB));
        if (mount("tmpfs", o->scratch, "tmpfs", 0, size) < 0) {
                record_error(result_fd, errno, "%s: mounting the scratch tmpfs: %m", o->scratch);
                _exit(1);
        }
        _cleanup_close_ int sfd = open(o->scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0 || mkdirat(sfd, "upper", 0755) < 0 || mkdirat(sfd, "work", 0700) < 0 ||
            mkdirat(sfd, "merged", 0755) < 0) {
                record_error(result_fd, errno, "%s: %m", o->scratch);
                _exit(1);
        }
        _cleanup_free_ char *merged = NULL, *opts = NULL;
        if (asprintf(&merged, "%s/merged", o->scratch) < 0 ||
            asprintf(&opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", o->rootfs, o->scratch,
                     o->scratch) < 0)
                _exit(1);
        if (mount("overlay", merged, "overlay", 0, opts) < 0) {
                record_error(result_fd, errno, "mounting the overlay: %m");
                _exit(1);
        }
        /* A superblock mark sees opens through every mount of the overlay, the child's too. */
        _cleanup_close_ int fan = -1;
        if (o->record_reads) {
                fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
                                    O_RDONLY | O_LARGEFILE | O_CLOEXEC);
                if (fan < 0 || fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN,
                                             AT_FDCWD, merged) < 0) {
                        record_error(result_fd, errno, "--reads: fanotify on the overlay: %m");
                        _exit(1);
                }
        }
        const char *host = o->hostname ? o->hostname : "cairn-profile";
        int r = sethostname(host, strlen(host)) < 0 ? -errno : lo_up();
        if (r < 0) {
                record_error(result_fd, r, "hostname or loopback: %s", strerror(-r));
                _exit(1);
        }

        pid_t child = fork();
        if (child < 0) {
                record_error(result_fd, errno, "fork: %m");
                _exit(1);
        }
        if (child == 0)
                child_run(o, o->scratch, result_fd);

        int status = 0;
        bool timed_out = false, killed = false, interrupted = false;
        struct readset reads = { 0 };
        struct supervisor_watch watch = { .fan = fan, .reads = &reads, .prefix = merged };
        r = supervisor_wait(child, o, &watch, &status, &timed_out, &killed, &interrupted);
        if (r >= 0 && fan >= 0)
                r = readset_drain_fanotify(&reads, fan, merged);
        if (r < 0) {
                kill(child, SIGKILL);
                record_error(result_fd, r, "waiting for the program: %s", strerror(-r));
                _exit(1);
        }

        _cleanup_close_ int upfd = openat(sfd, "upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int lowfd = open(o->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (upfd < 0 || lowfd < 0) {
                record_error(result_fd, errno, "reading the overlay: %m");
                _exit(1);
        }
        struct walk w = { .result_fd = result_fd };
        (void)walk_upper(&w, upfd, lowfd, "");
        if (w.overflow) {
                record_error(result_fd, EFBIG, "the program wrote more than %d paths",
                             SANDBOX_MAX_WRITES);
                _exit(1);
        }
        for (size_t i = 0; i < reads.n; i++)
                record_send(result_fd, 'R', reads.paths[i]);
        char st[96];
        snprintf(st, sizeof(st), "%d %d %d %d %d", status, timed_out, killed, interrupted,
                 reads.truncated);
        record_send(result_fd, 'S', st);
        _exit(0);
}

/* ---- the caller's side ------------------------------------------------------------------- */

void sandbox_result_clear(struct sandbox_result *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_writes; i++)
                free(r->writes[i].path);
        free(r->writes);
        for (size_t i = 0; i < r->n_reads; i++)
                free(r->reads[i]);
        free(r->reads);
        *r = (struct sandbox_result){ 0 };
}

const char *sandbox_op_name(enum sandbox_op op)
{
        switch (op) {
        case SANDBOX_CREATED:
                return "created";
        case SANDBOX_MODIFIED:
                return "modified";
        case SANDBOX_DELETED:
                return "deleted";
        }
        return "?";
}

static int write_cmp(const void *a, const void *b)
{
        return strcmp(((const struct sandbox_write *)a)->path,
                      ((const struct sandbox_write *)b)->path);
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

struct parse_state {
        struct sandbox_result res;
        size_t cap, reads_cap;
        bool have_status;
        int error_code;
        char *error; /* owned */
};

static int record_parse(struct parse_state *ps, const char *rec)
{
        char tag = rec[0];
        const char *p = rec + 1;
        if (tag == 'E') {
                if (ps->error)
                        return 0; /* the first failure is the one that counts */
                char *end;
                long code = strtol(p, &end, 10);
                ps->error_code = code > 0 && code < 4096 ? (int)-code : -EIO;
                ps->error = strdup(*end == ' ' ? end + 1 : end);
                return ps->error ? 0 : -ENOMEM;
        }
        if (tag == 'S') {
                int st, t, k, i, tr;
                if (sscanf(p, "%d %d %d %d %d", &st, &t, &k, &i, &tr) != 5)
                        return -EIO;
                ps->res.reads_truncated = tr;
                ps->res.wait_status = st;
                ps->res.timed_out = t;
                ps->res.killed = k;
                ps->res.interrupted = i;
                ps->have_status = true;
                return 0;
        }
        if (tag == 'R') {
                if (p[0] != '/' || ps->res.n_reads >= READSET_MAX)
                        return -EIO;
                if (GROW(ps->res.reads, ps->reads_cap, ps->res.n_reads + 1) < 0)
                        return -ENOMEM;
                ps->res.reads[ps->res.n_reads] = strdup(p);
                return ps->res.reads[ps->res.n_reads++] ? 0 : -ENOMEM;
        }
        enum sandbox_op op = tag == 'C'   ? SANDBOX_CREATED
                             : tag == 'M' ? SANDBOX_MODIFIED
                             : tag == 'D' ? SANDBOX_DELETED
                                          : (enum sandbox_op) - 1;
        if ((int)op < 0 || (p[0] != 'd' && p[0] != 'f') || p[1] != '/')
                return -EIO;
        if (ps->res.n_writes >= SANDBOX_MAX_WRITES)
                return -EFBIG;
        if (GROW(ps->res.writes, ps->cap, ps->res.n_writes + 1) < 0)
                return -ENOMEM;
        char *path = strdup(p + 1);
        if (!path)
                return -ENOMEM;
        ps->res.writes[ps->res.n_writes++] =
                (struct sandbox_write){ .path = path, .op = op, .is_dir = p[0] == 'd' };
        return 0;
}

static int results_read(int fd, struct parse_state *ps)
{
        _cleanup_free_ char *buf = malloc(2 * RECORD_MAX);
        if (!buf)
                return -ENOMEM;
        size_t len = 0;
        int r = 0;
        for (;;) {
                ssize_t n = read(fd, buf + len, 2 * RECORD_MAX - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                len += (size_t)n;
                size_t start = 0;
                char *nul;
                while ((nul = memchr(buf + start, '\0', len - start))) {
                        if (r >= 0)
                                r = record_parse(ps, buf + start);
                        start = (size_t)(nul - buf) + 1;
                }
                memmove(buf, buf + start, len - start);
                len -= start;
                if (n == 0)
                        return len ? -EIO : r;
                if (len == 2 * RECORD_MAX)
                        return -EIO;
        }
}

static bool path_fits_overlay(const char *p)
{
        return !strpbrk(p, ",:\\\n");
}

int sandbox_run(const struct sandbox_options *o, struct sandbox_result *ret,
                struct cairn_error *err)
{
        if (!o->argv || !o->argv[0] || !o->envp || !o->rootfs || !o->scratch)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "sandbox: nothing to run (no entrypoint or cmd)");
        if (!path_fits_overlay(o->rootfs) || !path_fits_overlay(o->scratch))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: overlayfs cannot take a directory whose path holds "
                                       "',', ':' or '\\'; set TMPDIR elsewhere",
                                       o->rootfs);
        int r = sandbox_check_privileges(err);
        if (r < 0)
                return r;

        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return cairn_error_errno(err, -errno, "pipe: %m");
        _cleanup_close_ int rfd = fds[0], wfd = fds[1];

        /* Ctrl-C reaches the supervisor too (same process group); here it only waits, so the
         * caller still gets to remove its temporary directories. */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGCHLD);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGHUP);
        sigprocmask(SIG_BLOCK, &block, &old);
        pid_t parent = getpid();
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                r = -errno;
                sigprocmask(SIG_SETMASK, &old, NULL);
                return cairn_error_errno(err, r, "fork: %s", strerror(-r));
        }
        if (pid == 0) {
                closep(&rfd);
                supervisor_run(o, wfd, parent);
        }
        closep(&wfd);

        struct parse_state ps = { 0 };
        r = results_read(rfd, &ps);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        /* Signals that arrived meanwhile are consumed: the run is reported as interrupted. */
        struct timespec zero = { 0 };
        sigset_t term = block;
        sigdelset(&term, SIGCHLD);
        bool interrupted = false;
        while (sigtimedwait(&term, NULL, &zero) > 0)
                interrupted = true;
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        while (sigtimedwait(&chld, NULL, &zero) > 0)
                ;
        sigprocmask(SIG_SETMASK, &old, NULL);

        if (ps.error)
                r = cairn_error_add(err,
                                    ps.error_code == -ENOENT || ps.error_code == -EACCES
                                            ? CAIRN_EXIT_USAGE
                                            : CAIRN_EXIT_IO,
                                    ps.error_code, "sandbox: %s", ps.error);
        else if (r < 0)
                r = cairn_error_errno(err, r, "sandbox: reading the results: %s", strerror(-r));
        else if (!ps.have_status)
                r = cairn_error_add(err, CAIRN_EXIT_IO, -EIO,
                                    "sandbox: the supervisor died (status 0x%x)", status);
        free(ps.error);
        if (r < 0) {
                sandbox_result_clear(&ps.res);
                return r;
        }
        ps.res.interrupted |= interrupted;
        if (ps.res.n_writes > 1)
                qsort(ps.res.writes, ps.res.n_writes, sizeof(*ps.res.writes), write_cmp);
        if (ps.res.n_reads > 1)
                qsort(ps.res.reads, ps.res.n_reads, sizeof(*ps.res.reads), str_cmp);
        *ret = ps.res;
        return 0;
}
