/* SPDX-License-Identifier: Apache-2.0 */
#include "profile.h"

#include <fcntl.h>

bool profile_path_under(const char *path, const char *dir)
{
        if (streq(dir, "/"))
                return path[0] == '/';
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* 1 when e is an image binary (a regular file with an execute bit, or an ELF file), 0 when
 * not, -errno when its content cannot be read: an unreadable file must not pass for data. */
static int entry_is_binary(const struct tree *t, const struct store *s, const struct tree_entry *e)
{
        if (e->type == TREE_HARDLINK) {
                e = e->target ? tree_lookup(t, e->target) : NULL;
                if (!e)
                        return 0;
        }
        if (e->type != TREE_REG)
                return 0;
        if (e->mode & 0111)
                return 1;
        if (e->size < 4)
                return 0;
        _cleanup_close_ int fd = store_open_key(s, &e->key);
        if (fd < 0)
                return fd;
        unsigned char magic[4];
        ssize_t n = pread(fd, magic, sizeof(magic), 0);
        if (n < 0)
                return -errno;
        return n == sizeof(magic) && memcmp(magic, "\177ELF", 4) == 0;
}

/* The first image binary at or below dir in *ret (NULL when there is none). 0 or -errno, with
 * err naming the file that cannot be read. */
static int dir_binary(const struct tree *t, const struct store *s, const char *dir,
                      const char **ret, struct cairn_error *err)
{
        const struct tree_entry *e;
        tree_foreach (e, t) {
                if (!profile_path_under(e->path, dir))
                        continue;
                int r = entry_is_binary(t, s, e);
                if (r < 0)
                        return cairn_error_errno(err, r, "%s: cannot read its content: %s", e->path,
                                                 strerror(-r));
                if (r > 0) {
                        *ret = e->path;
                        return 0;
                }
        }
        *ret = NULL;
        return 0;
}

static int parent_of(const char *path, char **ret)
{
        const char *slash = strrchr(path, '/');
        char *p = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* An array of n strings with holes (NULL entries), freed by count. */
struct str_holes {
        char **v;
        size_t n;
};

static void str_holes_clear(struct str_holes *h)
{
        for (size_t i = 0; h->v && i < h->n; i++)
                free(h->v[i]);
        free(h->v);
        h->v = NULL;
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Decides the directory one write asks for; NULL with *reason set when none can be. */
static int write_request(const struct tree *t, const struct store *s, const struct sandbox_write *w,
                         char **ret_dir, char **ret_reason, struct cairn_error *err)
{
        _cleanup_free_ char *dir = NULL;
        int r;
        if (w->is_dir && w->op == SANDBOX_MODIFIED)
                dir = strdup(w->path);
        else if ((r = parent_of(w->path, &dir)) < 0)
                return r;
        if (!dir)
                return -ENOMEM;

        const char *binary = NULL;
        if (!streq(dir, "/") && (r = dir_binary(t, s, dir, &binary, err)) < 0)
                return r;
        if (!streq(dir, "/") && !binary) {
                *ret_dir = steal_pointer(&dir);
                *ret_reason = NULL;
                return 0;
        }
        /* Deeper: only a directory the program made itself holds nothing of the image. */
        if (w->is_dir && w->op == SANDBOX_CREATED && !tree_lookup(t, w->path)) {
                *ret_dir = strdup(w->path);
                *ret_reason = NULL;
                return *ret_dir ? 0 : -ENOMEM;
        }
        char *why = NULL;
        if (binary)
                r = asprintf(&why, "%s cannot be writable: it holds the image binary %s", dir,
                             binary);
        else
                r = asprintf(&why, "/ cannot be writable: write below a directory instead");
        if (r < 0)
                return -ENOMEM;
        *ret_dir = NULL;
        *ret_reason = why;
        return 0;
}

int profile_suggest(const struct tree *t, const struct store *s, const struct sandbox_result *res,
                    char *const *writable, struct profile_suggestion *ret, struct cairn_error *err)
{
        _cleanup_(profile_suggestion_clear) struct profile_suggestion p = { 0 };
        _cleanup_(str_holes_clear) struct str_holes req = {
                .v = calloc(res->n_writes + 1, sizeof(char *)),
                .n = res->n_writes,
        };
        char **requested = req.v;
        p.writes = calloc(res->n_writes ? res->n_writes : 1, sizeof(*p.writes));
        if (!requested || !p.writes)
                return -ENOMEM;
        p.n_writes = res->n_writes;

        for (size_t i = 0; i < res->n_writes; i++) {
                struct profile_write *pw = &p.writes[i];
                pw->write = &res->writes[i];
                for (char *const *wp = writable; wp && *wp && !pw->covered; wp++)
                        pw->covered = profile_path_under(pw->write->path, *wp);
                p.n_outside += !pw->covered;
                int r = write_request(t, s, pw->write, &requested[i], &pw->unplaceable, err);
                if (r < 0 && cairn_error_isset(err))
                        return cairn_error_wrap(err, r, "%s", pw->write->path);
                if (r < 0)
                        return cairn_error_errno(err, r, "%s: %s", pw->write->path, strerror(-r));
                p.n_unplaceable += pw->unplaceable != NULL;
        }

        /* Sorted, duplicates and directories below another one dropped. */
        p.dirs = calloc(res->n_writes + 1, sizeof(char *));
        if (!p.dirs)
                return -ENOMEM;
        _cleanup_free_ char **sorted = calloc(res->n_writes + 1, sizeof(char *));
        if (!sorted)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < res->n_writes; i++)
                if (requested[i])
                        sorted[n++] = requested[i];
        if (n > 1)
                qsort(sorted, n, sizeof(*sorted), str_cmp);
        for (size_t i = 0; i < n; i++) {
                bool below = false;
                for (size_t j = 0; j < p.n_dirs && !below; j++)
                        below = profile_path_under(sorted[i], p.dirs[j]);
                if (below)
                        continue;
                p.dirs[p.n_dirs] = strdup(sorted[i]);
                if (!p.dirs[p.n_dirs])
                        return -ENOMEM;
                p.n_dirs++;
        }
        for (size_t i = 0; i < res->n_writes; i++)
                for (size_t j = 0; requested[i] && j < p.n_dirs; j++)
                        if (profile_path_under(requested[i], p.dirs[j]))
                                p.writes[i].dir = p.dirs[j];

        *ret = p;
        p = (struct profile_suggestion){ 0 };
        return 0;
}

void profile_suggestion_clear(struct profile_suggestion *p)
{
        if (!p)
                return;
        strv_free(p->dirs);
        for (size_t i = 0; p->writes && i < p->n_writes; i++)
                free(p->writes[i].unplaceable);
        free(p->writes);
        *p = (struct profile_suggestion){ 0 };
}
