/* SPDX-License-Identifier: Apache-2.0 */
#include "sandbox.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "readset.h"
#include "sandbox-internal.h"

/* record_error for the caller's side (the middle process reports with it too). */
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

int sandbox_check_privileges(struct cairn_error *err)
{
        _cleanup_free_ char *max = NULL;
        size_t len;
        bool userns =
                !(read_file_bounded("/proc/sys/user/max_user_namespaces", 64, &max, &len) >= 0 &&
                  max[0] == '0');
        if (geteuid() != 0)
                return cairn_error_add(err, CAIRN_EXIT_IO, -EPERM,
                                       "cairn profile must run as root: it mounts the overlay the "
                                       "container runs on, watches it with fanotify and has runc "
                                       "map the image's ids into a user namespace; run it with "
                                       "sudo");
        if (!userns)
                return cairn_error_add(err, CAIRN_EXIT_IO, -EPERM,
                                       "cairn profile runs the image in a user namespace, and "
                                       "user namespaces are disabled here "
                                       "(user.max_user_namespaces = 0)");
        return 0;
}

int sandbox_find_runtime(const char *name, char **ret, struct cairn_error *err)
{
        if (!name || !*name)
                name = SANDBOX_RUNTIME;
        if (strchr(name, '/')) {
                char *abs = realpath(name, NULL);
                if (!abs || access(abs, X_OK) < 0) {
                        free(abs);
                        return cairn_error_add(err, CAIRN_EXIT_IO, -ENOENT,
                                               "%s: the OCI runtime is not an executable file",
                                               name);
                }
                *ret = abs;
                return 0;
        }
        const char *path = getenv("PATH");
        _cleanup_free_ char *dirs = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
        if (!dirs)
                return -ENOMEM;
        for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
             d = strtok_r(NULL, ":", &save)) {
                if (d[0] != '/')
                        continue; /* a relative PATH entry depends on the working directory */
                _cleanup_free_ char *candidate = NULL;
                if (asprintf(&candidate, "%s/%s", d, name) < 0)
                        return -ENOMEM;
                struct stat st;
                if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) &&
                    access(candidate, X_OK) == 0) {
                        *ret = steal_pointer(&candidate);
                        return 0;
                }
        }
        return cairn_error_add(err, CAIRN_EXIT_IO, -ENOENT,
                               "%s: the OCI runtime is not installed (not in PATH); cairn profile "
                               "runs the image under it: apt-get install %s",
                               name, streq(name, "crun") ? "crun" : "runc");
}

void sandbox_cgroup_controllers(bool *ret_pids, bool *ret_memory)
{
        bool pids = false, memory = false;
        _cleanup_free_ char *text = NULL, *ctrl = NULL;
        size_t len;
        if (read_file_bounded("/proc/self/cgroup", 1 << 16, &text, &len) >= 0) {
                /* cgroup v1: "ID:CONTROLLERS:PATH", one line per hierarchy. */
                for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
                     l = strtok_r(NULL, "\n", &save)) {
                        char *c = strchr(l, ':');
                        char *e = c ? strchr(c + 1, ':') : NULL;
                        if (!e)
                                continue;
                        *e = '\0';
                        for (char *s2 = NULL, *n = strtok_r(c + 1, ",", &s2); n;
                             n = strtok_r(NULL, ",", &s2)) {
                                pids |= streq(n, "pids");
                                memory |= streq(n, "memory");
                        }
                }
        }
        /* cgroup v2: the controllers the root offers (a v2-only machine has no v1 lines). */
        if (read_file_bounded("/sys/fs/cgroup/cgroup.controllers", 4096, &ctrl, &len) >= 0) {
                for (char *s2 = NULL, *n = strtok_r(ctrl, " \n", &s2); n;
                     n = strtok_r(NULL, " \n", &s2)) {
                        pids |= streq(n, "pids");
                        memory |= streq(n, "memory");
                }
        }
        *ret_pids = pids;
        *ret_memory = memory;
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

/*
 * The process between the caller and the supervisor: it makes the new pid namespace (whose
 * first child, the supervisor, is its PID 1), waits for the supervisor and exits with its
 * status. Its parent-death signal ends it with cairn; the supervisor does not die with it.
 */
_Noreturn static void middle_run(const struct sandbox_options *o, int result_fd, pid_t parent)
{
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(1);
        if (unshare(CLONE_NEWPID) < 0) {
                record_error(result_fd, errno, "creating a pid namespace: %m");
                _exit(1);
        }
        pid_t pid = fork();
        if (pid < 0) {
                record_error(result_fd, errno, "fork: %m");
                _exit(1);
        }
        if (pid == 0)
                sandbox_supervisor_run(o, result_fd);
        closep(&result_fd);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        _exit(1);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

int sandbox_run(const struct sandbox_options *o, struct sandbox_result *ret,
                struct cairn_error *err)
{
        if (!o->runtime || !o->config || !o->rootfs || !o->container_id)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "sandbox: nothing to run (no runtime or config)");
        int r = sandbox_check_privileges(err);
        if (r < 0)
                return r;

        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return cairn_error_errno(err, -errno, "pipe: %m");
        _cleanup_close_ int rfd = fds[0], wfd = fds[1];

        /* Ctrl-C reaches the supervisor too (same process group): it stops the container and
         * reports; here the signals only wait, so the caller still removes its directories. */
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
                middle_run(o, wfd, parent);
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
                r = cairn_error_add(err, CAIRN_EXIT_IO, ps.error_code, "sandbox: %s", ps.error);
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
