/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tree is a sorted array of entry pointers with binary search. Stages insert mostly in
 * path order (sorted directory walks, dpkg-deb's sorted data.tar), which makes insertion an
 * append; out-of-order inserts cost one memmove of pointers.
 */
#include "tree.h"

#include <assert.h>

struct tree {
        struct tree_entry **entries; /* owned, sorted by strcmp(path) */
        size_t n, cap;
};

static void entry_free(struct tree_entry *e)
{
        if (!e)
                return;
        free(e->path);
        free(e->target);
        free(e->origin);
        free(e);
}

static int entry_dup(const struct tree_entry *src, const char *path, struct tree_entry **ret)
{
        struct tree_entry *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        *e = *src;
        e->path = strdup(path);
        e->target = src->target ? strdup(src->target) : NULL;
        e->origin = src->origin ? strdup(src->origin) : NULL;
        if (!e->path || (src->target && !e->target) || (src->origin && !e->origin)) {
                entry_free(e);
                return -ENOMEM;
        }
        *ret = e;
        return 0;
}

int tree_new(struct tree **ret)
{
        struct tree *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        struct tree_entry root = {
                .path = "/",
                .type = TREE_DIR,
                .mode = 0755,
                .flags = TREE_ENTRY_IMPLICIT,
        };
        struct tree_entry *e;
        int r = entry_dup(&root, "/", &e);
        if (r < 0 || GROW(t->entries, t->cap, 1) < 0) {
                if (r == 0)
                        entry_free(e);
                free(t);
                return -ENOMEM;
        }
        t->entries[t->n++] = e;
        *ret = t;
        return 0;
}

void tree_free(struct tree *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++)
                entry_free(t->entries[i]);
        free(t->entries);
        free(t);
}

/* Index of path when found (return true), else the insertion point. */
static bool tree_find(const struct tree *t, const char *path, size_t *ret_index)
{
        size_t lo = 0, hi = t->n;
        /* Fast path: appends in sorted order. */
        if (t->n > 0) {
                int c = strcmp(t->entries[t->n - 1]->path, path);
                if (c < 0) {
                        *ret_index = t->n;
                        return false;
                }
                if (c == 0) {
                        *ret_index = t->n - 1;
                        return true;
                }
        }
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(t->entries[mid]->path, path);
                if (c == 0) {
                        *ret_index = mid;
                        return true;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret_index = lo;
        return false;
}

const struct tree_entry *tree_lookup(const struct tree *t, const char *path)
{
        size_t i;
        return tree_find(t, path, &i) ? t->entries[i] : NULL;
}

struct tree_entry *tree_lookup_mut(struct tree *t, const char *path)
{
        size_t i;
        return tree_find(t, path, &i) ? t->entries[i] : NULL;
}

int tree_index(const struct tree *t, const char *path, size_t *ret_index)
{
        size_t i;
        if (!tree_find(t, path, &i))
                return -ENOENT;
        *ret_index = i;
        return 0;
}

size_t tree_count(const struct tree *t)
{
        return t->n;
}

const struct tree_entry *tree_at(const struct tree *t, size_t i)
{
        assert(i < t->n);
        return t->entries[i];
}

const char *tree_type_name(enum tree_type type)
{
        static const char *const names[] = {
                [TREE_REG] = "file",
                [TREE_DIR] = "directory",
                [TREE_SYMLINK] = "symlink",
                [TREE_HARDLINK] = "hardlink",
                [TREE_CHR] = "character device",
                [TREE_BLK] = "block device",
                [TREE_FIFO] = "fifo",
                [TREE_SOCK] = "socket",
        };
        return (unsigned)type < ELEMENTSOF(names) ? names[type] : "unknown";
}

const char *tree_path_problem(const char *path)
{
        size_t len = strlen(path);
        if (len >= TREE_PATH_MAX)
                return "is longer than 4095 bytes (PATH_MAX)";
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (n > TREE_NAME_MAX)
                        return "has a name longer than 255 bytes (NAME_MAX)";
                p += n;
                p += strspn(p, "/");
        }
        if (!utf8_valid(path, len))
                return "is not valid UTF-8";
        return NULL;
}

int tree_path_normalize(const char *path, char **ret)
{
        size_t len = strlen(path);
        if (len == 0 || len >= TREE_PATH_MAX)
                return -EINVAL;
        _cleanup_free_ char *out = malloc(len + 2);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        const char *p = path;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);
                if (n == 1 && p[0] == '.') {
                        p = end;
                        continue;
                }
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                out[o++] = '/';
                memcpy(out + o, p, n);
                o += n;
                p = end;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = '\0';
        *ret = steal_pointer(&out);
        return 0;
}

/* Length of the parent part of an absolute normalised path ("/a/b" -> 2, "/a" -> 1). */
static size_t parent_len(const char *path)
{
        const char *slash = strrchr(path, '/');
        return slash == path ? 1 : (size_t)(slash - path);
}

const struct tree_entry *tree_blocking_ancestor(const struct tree *t, const char *path)
{
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return NULL;
        while (!streq(p, "/")) {
                p[parent_len(p)] = '\0';
                const struct tree_entry *e = tree_lookup(t, p);
                if (e)
                        return e->type == TREE_DIR ? NULL : e;
        }
        return NULL;
}

static int ensure_parents(struct tree *t, const char *path, const struct tree_entry *child,
                          struct cairn_error *err)
{
        if (streq(path, "/"))
                return 0;
        size_t plen = parent_len(path);
        _cleanup_free_ char *parent = strndup(path, plen);
        if (!parent)
                return -ENOMEM;
        size_t i;
        if (tree_find(t, parent, &i)) {
                const struct tree_entry *p = t->entries[i];
                /* Never under a symlink: a consumer unpacking the image would write through
                 * it, wherever it points. */
                if (p->type != TREE_DIR)
                        return cairn_error_add(
                                err, CAIRN_EXIT_USAGE, -ENOTDIR,
                                "%s: parent %s is a %s%s%s, not a directory%s", path, parent,
                                tree_type_name(p->type), p->origin ? " from " : "",
                                p->origin ? p->origin : "",
                                p->type == TREE_SYMLINK ? "; nothing is placed under a symlink"
                                                        : "");
                return 0;
        }
        int r = ensure_parents(t, parent, child, err);
        if (r < 0)
                return r;
        struct tree_entry dir = {
                .type = TREE_DIR,
                .mode = 0755,
                .layer = child->layer,
                .flags = TREE_ENTRY_IMPLICIT,
        };
        struct tree_entry *e;
        r = entry_dup(&dir, parent, &e);
        if (r < 0)
                return r;
        if (GROW(t->entries, t->cap, t->n + 1) < 0) {
                entry_free(e);
                return -ENOMEM;
        }
        (void)tree_find(t, parent, &i);
        memmove(t->entries + i + 1, t->entries + i, (t->n - i) * sizeof(*t->entries));
        t->entries[i] = e;
        t->n++;
        return 0;
}

int tree_insert(struct tree *t, const struct tree_entry *e, unsigned flags, struct cairn_error *err)
{
        if (e->path && strlen(e->path) >= TREE_PATH_MAX) {
                _cleanup_free_ char *shown = str_escape(e->path, 200);
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENAMETOOLONG,
                                       "'%s' is longer than %d bytes (PATH_MAX)",
                                       shown ? shown : "?", TREE_PATH_MAX - 1);
        }
        if (!e->path || e->path[0] != '/')
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: not an absolute path",
                                       e->path ? e->path : "(null)");
        _cleanup_free_ char *path = NULL;
        int r = tree_path_normalize(e->path, &path);
        if (r < 0 || !streq(path, e->path))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: path is not normalised",
                                       e->path);
        if ((e->type == TREE_SYMLINK || e->type == TREE_HARDLINK) && !e->target)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: link without target",
                                       e->path);

        size_t i;
        if (tree_find(t, path, &i)) {
                struct tree_entry *old = t->entries[i];
                bool over_implicit = old->type == TREE_DIR && e->type == TREE_DIR &&
                                     (old->flags & TREE_ENTRY_IMPLICIT);
                if (!(flags & TREE_INSERT_REPLACE) && !over_implicit)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EEXIST,
                                               "%s: written twice (%s and %s)", path,
                                               old->origin ? old->origin : "an earlier item",
                                               e->origin ? e->origin : "a later item");
                if (old->type == TREE_DIR && e->type != TREE_DIR) {
                        /* Replacing a directory by a non-directory drops its children. */
                        r = tree_remove(t, path);
                        if (r < 0)
                                return r;
                        return tree_insert(t, e, flags, err);
                }
                struct tree_entry *n;
                r = entry_dup(e, path, &n);
                if (r < 0)
                        return r;
                n->flags &= ~(uint32_t)TREE_ENTRY_IMPLICIT;
                t->entries[i] = n;
                entry_free(old);
                return 0;
        }

        r = ensure_parents(t, path, e, err);
        if (r < 0)
                return r;
        struct tree_entry *n;
        r = entry_dup(e, path, &n);
        if (r < 0)
                return r;
        if (GROW(t->entries, t->cap, t->n + 1) < 0) {
                entry_free(n);
                return -ENOMEM;
        }
        (void)tree_find(t, path, &i);
        memmove(t->entries + i + 1, t->entries + i, (t->n - i) * sizeof(*t->entries));
        t->entries[i] = n;
        t->n++;
        return 0;
}

/* True when child lies strictly below dir (both normalised). */
static bool path_is_below(const char *child, const char *dir)
{
        if (streq(dir, "/"))
                return child[0] == '/' && child[1] != '\0';
        size_t n = strlen(dir);
        return strncmp(child, dir, n) == 0 && child[n] == '/';
}

int tree_remove(struct tree *t, const char *path)
{
        size_t i;
        if (!tree_find(t, path, &i))
                return -ENOENT;
        if (streq(path, "/"))
                return -EBUSY;
        /* Children do not sort contiguously right after path ("/a-b" sorts between "/a" and
         * "/a/b"), so compact over the rest of the array. */
        size_t w = i;
        for (size_t k = i; k < t->n; k++) {
                struct tree_entry *e = t->entries[k];
                if (k == i || path_is_below(e->path, path)) {
                        entry_free(e);
                        continue;
                }
                t->entries[w++] = e;
        }
        t->n = w;
        return 0;
}

#define TREE_MAX_SYMLINKS 40

int tree_resolve(const struct tree *t, const char *path, unsigned flags, char **ret_path,
                 const struct tree_entry **ret_entry)
{
        _cleanup_free_ char *cur = strdup("/");
        _cleanup_free_ char *rest = strdup(path);
        if (!cur || !rest)
                return -ENOMEM;
        unsigned links = 0;

        for (;;) {
                char *p = rest;
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);
                bool last = true;
                for (const char *q = end; *q; q++)
                        if (*q != '/') {
                                last = false;
                                break;
                        }

                if (n == 1 && p[0] == '.') {
                        memmove(rest, end, strlen(end) + 1);
                        continue;
                }
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        cur[parent_len(cur)] = '\0';
                        memmove(rest, end, strlen(end) + 1);
                        continue;
                }

                _cleanup_free_ char *cand = NULL;
                if (asprintf(&cand, "%s%s%.*s", cur, streq(cur, "/") ? "" : "/", (int)n, p) < 0)
                        return -ENOMEM;
                if (strlen(cand) >= TREE_PATH_MAX)
                        return -ENAMETOOLONG;
                const struct tree_entry *e = tree_lookup(t, cand);
                if (!e)
                        return -ENOENT;

                if (e->type == TREE_SYMLINK && !(last && (flags & TREE_RESOLVE_NOFOLLOW_LAST))) {
                        if (++links > TREE_MAX_SYMLINKS)
                                return -ELOOP;
                        char *nrest = NULL;
                        if (asprintf(&nrest, "%s%s", e->target, end) < 0)
                                return -ENOMEM;
                        if (strlen(nrest) >= TREE_PATH_MAX) {
                                free(nrest);
                                return -ENAMETOOLONG;
                        }
                        free(rest);
                        rest = nrest;
                        if (e->target[0] == '/')
                                strcpy(cur, "/");
                        continue;
                }
                if (!last && e->type != TREE_DIR)
                        return -ENOTDIR;
                free(cur);
                cur = steal_pointer(&cand);
                memmove(rest, end, strlen(end) + 1);
        }

        const struct tree_entry *e = tree_lookup(t, cur);
        if (!e)
                return -ENOENT;
        if (ret_entry)
                *ret_entry = e;
        if (ret_path)
                *ret_path = steal_pointer(&cur);
        return 0;
}
