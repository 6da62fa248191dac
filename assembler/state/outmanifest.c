/* SPDX-License-Identifier: Apache-2.0 */
#include "outmanifest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#define OUTMANIFEST_MAX_DEPTH 4096

void outmanifest_clear(struct outmanifest *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n; i++)
                free(m->lines[i]);
        free(m->lines);
        *m = (struct outmanifest){ 0 };
}

int outmanifest_add(struct outmanifest *m, char type, const char *path)
{
        if (GROW(m->lines, m->cap, m->n + 1) < 0)
                return -ENOMEM;
        char *s = NULL;
        if (asprintf(&s, "%c %s", type, path) < 0)
                return -ENOMEM;
        m->lines[m->n++] = s;
        m->sorted = false;
        return 0;
}

char outmanifest_type(mode_t mode)
{
        return S_ISDIR(mode) ? 'd' : S_ISREG(mode) ? 'f' : S_ISLNK(mode) ? 'l' : 'o';
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int scan_at(struct outmanifest *m, int dirfd, const char *name, const char *rel,
                   unsigned depth)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        int r = outmanifest_add(m, outmanifest_type(st.st_mode), rel);
        if (r < 0 || !S_ISDIR(st.st_mode))
                return r;
        if (depth > OUTMANIFEST_MAX_DEPTH)
                return -ELOOP;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_free_ char *fdpath = NULL;
        if (asprintf(&fdpath, "/proc/self/fd/%d", fd) < 0) {
                close(fd);
                return -ENOMEM;
        }
        struct dirent **names = NULL;
        int n = scandir(fdpath, &names, NULL, by_name);
        if (n < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        for (int i = 0; i < n; i++) {
                const char *e = names[i]->d_name;
                if (r >= 0 && !streq(e, ".") && !streq(e, "..")) {
                        _cleanup_free_ char *sub = NULL;
                        if (asprintf(&sub, "%s/%s", rel, e) < 0)
                                r = -ENOMEM;
                        else
                                r = scan_at(m, fd, e, sub, depth + 1);
                }
                free(names[i]);
        }
        free(names);
        close(fd);
        return r;
}

int outmanifest_scan(struct outmanifest *m, int dirfd, const char *name)
{
        return scan_at(m, dirfd, name, name, 0);
}

static int line_cmp(const void *a, const void *b)
{
        const char *x = *(const char *const *)a, *y = *(const char *const *)b;
        int c = strcmp(x + 2, y + 2);
        return c ? c : (int)(unsigned char)x[0] - (int)(unsigned char)y[0];
}

void outmanifest_sort(struct outmanifest *m)
{
        if (m->n)
                qsort(m->lines, m->n, sizeof(*m->lines), line_cmp);
        size_t o = 0;
        for (size_t i = 0; i < m->n; i++) {
                if (o && streq(m->lines[o - 1], m->lines[i])) {
                        free(m->lines[i]);
                        continue;
                }
                m->lines[o++] = m->lines[i];
        }
        m->n = o;
        m->sorted = true;
}

bool outmanifest_has(const struct outmanifest *m, char type, const char *path)
{
        _cleanup_free_ char *key = NULL;
        if (asprintf(&key, "%c %s", type, path) < 0)
                return false;
        const char *k = key;
        return m->n && bsearch(&k, m->lines, m->n, sizeof(*m->lines), line_cmp);
}

/* Undoes the escapes of one line in place; false when one is not "\\" or "\n". */
static bool unescape(char *s)
{
        char *o = s;
        for (char *p = s; *p; p++) {
                if (*p != '\\') {
                        *o++ = *p;
                        continue;
                }
                p++;
                if (*p == '\\')
                        *o++ = '\\';
                else if (*p == 'n')
                        *o++ = '\n';
                else
                        return false;
        }
        *o = '\0';
        return true;
}

int outmanifest_read(struct outmanifest *m, int dirfd, const char *shown, bool *ret_found,
                     struct cairn_error *err)
{
        int fd = openat(dirfd, OUTMANIFEST_NAME,
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                *ret_found = false;
                return 0;
        }
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "/proc/self/fd/%d", fd) < 0) {
                if (fd >= 0)
                        close(fd);
                return -ENOMEM;
        }
        struct stat st;
        bool regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = regular ? read_file_bounded(path, OUTMANIFEST_MAX, &buf, &len) : -EINVAL;
        if (fd >= 0)
                close(fd);
        if (r < 0)
                return cairn_error_add(err, CAIRN_EXIT_IO, r,
                                       "%s/%s: not a list of outputs cairn wrote (%s); remove it "
                                       "or choose another -o",
                                       shown, OUTMANIFEST_NAME,
                                       regular ? strerror(-r) : "not a regular file");
        char *save = NULL;
        bool first = true;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (first) {
                        first = false;
                        if (!streq(line, OUTMANIFEST_HEADER))
                                break;
                        continue;
                }
                if (!strchr("dflo", line[0]) || line[1] != ' ' || !line[2] || !unescape(line + 2))
                        return cairn_error_add(err, CAIRN_EXIT_IO, -EBADMSG,
                                               "%s/%s: a line cairn did not write; remove the "
                                               "file or choose another -o",
                                               shown, OUTMANIFEST_NAME);
                r = outmanifest_add(m, line[0], line + 2);
                if (r < 0)
                        return r;
        }
        if (first || !startswith(buf, OUTMANIFEST_HEADER))
                return cairn_error_add(err, CAIRN_EXIT_IO, -EBADMSG,
                                       "%s/%s: not a list of outputs cairn wrote; remove it or "
                                       "choose another -o",
                                       shown, OUTMANIFEST_NAME);
        outmanifest_sort(m);
        *ret_found = true;
        return 1;
}

int outmanifest_write(struct outmanifest *m, int dirfd)
{
        if (!m->sorted)
                outmanifest_sort(m);
        _cleanup_fclose_ FILE *f = NULL;
        int fd = openat(dirfd, OUTMANIFEST_NAME,
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                int r = -errno;
                close(fd);
                return r;
        }
        fprintf(f, "%s\n", OUTMANIFEST_HEADER);
        for (size_t i = 0; i < m->n; i++) {
                fputc(m->lines[i][0], f);
                fputc(' ', f);
                for (const char *p = m->lines[i] + 2; *p; p++) {
                        if (*p == '\\')
                                fputs("\\\\", f);
                        else if (*p == '\n')
                                fputs("\\n", f);
                        else
                                fputc(*p, f);
                }
                fputc('\n', f);
        }
        if (fflush(f) != 0 || ferror(f) || fchmod(fileno(f), 0644) < 0)
                return -(errno ? errno : EIO);
        return 0;
}
