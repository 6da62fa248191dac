/* SPDX-License-Identifier: Apache-2.0 */
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

int grow_array(void **arr, size_t *cap, size_t need, size_t elem_size)
{
        if (need <= *cap)
                return 0;
        size_t n = *cap ? *cap : 8;
        while (n < need) {
                if (n > SIZE_MAX / 2)
                        return -ENOMEM;
                n *= 2;
        }
        if (n > SIZE_MAX / elem_size)
                return -ENOMEM;
        void *p = realloc(*arr, n * elem_size);
        if (!p)
                return -ENOMEM;
        *arr = p;
        *cap = n;
        return 0;
}

ssize_t read_retry(int fd, void *buf, size_t len)
{
        for (;;) {
                ssize_t n = read(fd, buf, len);
                if (n >= 0 || errno != EINTR)
                        return n < 0 ? -errno : n;
        }
}

int write_all(int fd, const void *buf, size_t len)
{
        const uint8_t *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int copy_fd_all(int in, int out)
{
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
                if (n == 0)
                        return 0;
                if (n > 0 || errno == EINTR)
                        continue;
                if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
                        break;
                return -errno;
        }
        /* copy_file_range moved nothing when it failed, so the offsets are where it left off. */
        char buf[64 * 1024];
        for (;;) {
                ssize_t n = read_retry(in, buf, sizeof(buf));
                if (n <= 0)
                        return (int)n;
                int r = write_all(out, buf, (size_t)n);
                if (r < 0)
                        return r;
        }
}

int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_len)
{
        /* O_NONBLOCK: a fifo or a device never blocks the open; it is refused below. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap > max)
                                return -EFBIG;
                        size_t ncap = cap * 2;
                        char *nb = realloc(buf, ncap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = ncap;
                }
                ssize_t n = read_retry(fd, buf + len, cap - len);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = '\0';
        *ret = steal_pointer(&buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

void hex_encode(const uint8_t *bytes, size_t len, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[bytes[i] >> 4];
                out[2 * i + 1] = digits[bytes[i] & 0xf];
        }
        out[2 * len] = '\0';
}

bool utf8_valid(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;
        for (size_t i = 0; i < len;) {
                unsigned char c = p[i];
                if (c < 0x80) {
                        i++;
                        continue;
                }
                size_t n = c >= 0xc2 && c <= 0xdf   ? 2
                           : c >= 0xe0 && c <= 0xef ? 3
                           : c >= 0xf0 && c <= 0xf4 ? 4
                                                    : 0;
                if (n == 0 || len - i < n)
                        return false;
                for (size_t k = 1; k < n; k++)
                        if ((p[i + k] & 0xc0) != 0x80)
                                return false;
                /* Overlong three- and four-byte forms, UTF-16 surrogates, beyond U+10FFFF. */
                if ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0) ||
                    (c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90))
                        return false;
                i += n;
        }
        return true;
}

char *str_escape(const char *s, size_t max)
{
        size_t len = strlen(s);
        bool cut = len > max;
        if (cut)
                len = max;
        char *out = malloc(len * 4 + 4);
        if (!out)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 || c >= 0x7f || c == '\\')
                        o += (size_t)sprintf(out + o, "\\x%02x", c);
                else
                        out[o++] = (char)c;
        }
        if (cut) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
        return out;
}

static int rm_rf_at(int parent_fd, const char *name)
{
        struct stat st;
        if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;

        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int q = rm_rf_at(dirfd(d), de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int rm_rf(const char *path)
{
        return rm_rf_at(AT_FDCWD, path);
}

int mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

void remove_dead_temps(const char *dir, const char *prefix, unsigned min_age)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        time_t now = time(NULL);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!startswith(de->d_name, prefix))
                        continue;
                const char *p = de->d_name + strlen(prefix);
                if (*p < '0' || *p > '9') {
                        p = strchr(p, '-');
                        if (!p)
                                continue;
                        p++;
                }
                char *end;
                long pid = strtol(p, &end, 10);
                if (pid <= 0 || *end != '-' || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                        continue;
                struct stat st;
                if (min_age && (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                                now - st.st_mtime < (time_t)min_age))
                        continue;
                /* Held locked by a live process (whatever its PID looks like here): kept. The
                 * lock is held while removing, so two cleaners never race. */
                _cleanup_close_ int lock = openat(dirfd(d), de->d_name,
                                                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
                        continue;
                _cleanup_free_ char *full = NULL;
                if (asprintf(&full, "%s/%s", dir, de->d_name) >= 0)
                        (void)rm_rf(full);
        }
        closedir(d);
}

int write_file_atomic(const char *path, const void *buf, size_t len, bool sync)
{
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%.*s.tmp-%d-XXXXXX", slash ? (int)(slash - path + 1) : 0, path,
                     (int)getpid()) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, buf, len);
        if (r >= 0 && (fchmod(fd, 0644) < 0 || (sync && fsync(fd) < 0) || rename(tmp, path) < 0))
                r = -errno;
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

size_t str_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > STR_DISTANCE_MAX || lb > STR_DISTANCE_MAX)
                return SIZE_MAX;
        size_t prev[STR_DISTANCE_MAX + 1], cur[STR_DISTANCE_MAX + 1];
        for (size_t j = 0; j <= lb; j++)
                prev[j] = j;
        for (size_t i = 1; i <= la; i++) {
                cur[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
                        size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
                        cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
                }
                memcpy(prev, cur, (lb + 1) * sizeof(size_t));
        }
        return prev[lb];
}

const char *str_nearest(const char *const *candidates, size_t n, const char *s, size_t max)
{
        const char *best = NULL;
        size_t best_d = max + 1;
        for (size_t i = 0; i < n; i++) {
                size_t d = str_distance(candidates[i], s);
                if (d < best_d) {
                        best_d = d;
                        best = candidates[i];
                }
        }
        return best;
}

size_t strv_length(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

char **strv_copy(char *const *v)
{
        size_t n = strv_length(v);
        _cleanup_strv_free_ char **c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(v[i])))
                        return NULL;
        return steal_pointer(&c);
}
