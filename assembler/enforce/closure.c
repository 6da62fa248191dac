/* SPDX-License-Identifier: Apache-2.0 */
#include "closure.h"

#include "elf_reader.h"
#include "ld_search.h"

#define CLOSURE_MAX_HOPS 40 /* symlinks followed for one path, as the kernel's limit */

struct closure_ctx {
        const struct tree *t;
        const struct store *s;
        struct ld_search *ls;
        char **keep; /* owned; paths to keep, in the order found */
        size_t n_keep, cap_keep;
        char **todo; /* owned; resolved ELF files still to read */
        size_t n_todo, cap_todo, done;
        uint8_t *marks; /* owned; per tree entry (the tree does not change): MARK_* bits */
        struct cairn_error *err;
};

enum {
        MARK_KEEP = 1 << 0,
        MARK_TODO = 1 << 1,
};

/* Adds a copy of path (an entry of the tree) to *v unless its mark says it is there. */
static int add(struct closure_ctx *c, unsigned mark, char ***v, size_t *n, size_t *cap,
               const char *path)
{
        size_t idx;
        if (tree_index(c->t, path, &idx) < 0)
                return -ENOENT;
        if (c->marks[idx] & mark)
                return 0;
        c->marks[idx] |= mark;
        if (*n >= CLOSURE_MAX_FILES)
                return -E2BIG;
        if (GROW(*v, *cap, *n + 2) < 0)
                return -ENOMEM;
        (*v)[*n] = strdup(path);
        if (!(*v)[*n])
                return -ENOMEM;
        (*n)++;
        (*v)[*n] = NULL;
        return 0;
}

/* "/" joined and normalised lexically: "", "." dropped, ".." removes the last component (never
 * above "/"). dir is absolute; rel is relative to it, or absolute (dir ignored). */
static char *join_normalize(const char *dir, size_t dir_len, const char *rel)
{
        _cleanup_free_ char *raw = NULL;
        if (rel[0] == '/')
                raw = strdup(rel);
        else if (asprintf(&raw, "%.*s/%s", (int)dir_len, dir, rel) < 0)
                raw = NULL;
        if (!raw)
                return NULL;
        char *out = malloc(strlen(raw) + 2);
        if (!out)
                return NULL;
        size_t n = 0;
        for (const char *p = raw; *p;) {
                p += strspn(p, "/");
                size_t len = strcspn(p, "/");
                if (len == 0 || (len == 1 && p[0] == '.')) {
                        p += len;
                        continue;
                }
                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--;
                } else {
                        out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p += len;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = '\0';
        return out;
}

/*
 * Follows path inside the tree component by component, keeping every symlink met on the way;
 * on success *ret is the resolved path (owned by the caller), which exists. -ENOENT (a missing
 * component), -ELOOP, -ENOMEM, -E2BIG.
 */
static int follow(struct closure_ctx *c, const char *path, char **ret)
{
        _cleanup_free_ char *cur = join_normalize("/", 1, path);
        if (!cur)
                return -ENOMEM;
        for (unsigned hops = 0;;) {
                bool changed = false;
                size_t i = 1;
                while (!changed && cur[i - 1]) {
                        size_t end = i + strcspn(cur + i, "/");
                        _cleanup_free_ char *prefix = strndup(cur, end);
                        if (!prefix)
                                return -ENOMEM;
                        const struct tree_entry *e = tree_lookup(c->t, prefix);
                        if (!e)
                                return -ENOENT;
                        if (e->type == TREE_SYMLINK) {
                                int r = add(c, MARK_KEEP, &c->keep, &c->n_keep, &c->cap_keep,
                                            prefix);
                                if (r < 0)
                                        return r;
                                if (++hops > CLOSURE_MAX_HOPS)
                                        return -ELOOP;
                                const char *slash = strrchr(prefix, '/');
                                _cleanup_free_ char *target = NULL;
                                if (asprintf(&target, "%s%s", e->target ? e->target : "",
                                             cur + end) < 0) {
                                        target = NULL;
                                        return -ENOMEM;
                                }
                                char *next = join_normalize(
                                        prefix, slash == prefix ? 1 : (size_t)(slash - prefix),
                                        target);
                                if (!next)
                                        return -ENOMEM;
                                free(cur);
                                cur = next;
                                changed = true;
                        } else if (!cur[end]) {
                                break;
                        } else if (e->type != TREE_DIR) {
                                return -ENOTDIR;
                        }
                        i = end + 1;
                }
                if (!changed) {
                        *ret = steal_pointer(&cur);
                        return 0;
                }
        }
}

/* Keeps path and what it resolves to; an ELF file it resolves to is queued for reading. */
static int want(struct closure_ctx *c, const char *path)
{
        _cleanup_free_ char *resolved = NULL;
        int r = follow(c, path, &resolved);
        if (r < 0)
                return r;
        const struct tree_entry *e = tree_lookup(c->t, resolved);
        if (!e || (e->type != TREE_REG && e->type != TREE_HARDLINK))
                return -ENOENT;
        r = add(c, MARK_KEEP, &c->keep, &c->n_keep, &c->cap_keep, resolved);
        if (r < 0)
                return r;
        if (e->type == TREE_HARDLINK && e->target) {
                r = add(c, MARK_KEEP, &c->keep, &c->n_keep, &c->cap_keep, e->target);
                if (r < 0)
                        return r;
        }
        return add(c, MARK_TODO, &c->todo, &c->n_todo, &c->cap_todo, resolved);
}

static int read_elf(struct closure_ctx *c, const char *path, struct elf_info *info, bool *is_elf)
{
        const struct tree_entry *e = tree_lookup(c->t, path);
        if (e && e->type == TREE_HARDLINK && e->target)
                e = tree_lookup(c->t, e->target);
        if (!e || e->type != TREE_REG)
                return cairn_error_add(c->err, CAIRN_EXIT_SOURCE, -ENOENT, "%s: not a regular file",
                                       path);
        _cleanup_close_ int fd = store_open_key(c->s, &e->key);
        if (fd < 0)
                return cairn_error_errno(c->err, fd, "%s: reading it from the store: %s", path,
                                         strerror(-fd));
        uint8_t magic[4];
        ssize_t n = pread(fd, magic, sizeof(magic), 0);
        *is_elf = n == (ssize_t)sizeof(magic) && elf_has_magic(magic, sizeof(magic));
        if (!*is_elf)
                return 0;
        int r = elf_read_fd(fd, info, c->err);
        return r < 0 ? cairn_error_wrap(c->err, r, "%s", path) : 0;
}

static const char *why(int r)
{
        return r == -ELOOP ? "a symlink loop" : r == -ENOTDIR ? "a path through a file" : "absent";
}

/* One ELF file of the queue: its interpreter and libraries. */
static int walk(struct closure_ctx *c, const char *path)
{
        struct elf_info info = { 0 };
        bool is_elf = false;
        int r = read_elf(c, path, &info, &is_elf);
        if (r < 0 || !is_elf)
                return r;
        if (info.interp) {
                r = want(c, info.interp);
                if (r < 0 && r != -ENOMEM && r != -E2BIG)
                        r = cairn_error_add(c->err, CAIRN_EXIT_SOURCE, -ENOENT,
                                            "%s: its interpreter (PT_INTERP) %s is %s in the "
                                            "packages of the closure",
                                            path, info.interp, why(r));
        }
        for (size_t i = 0; r >= 0 && i < info.n_needed; i++) {
                _cleanup_free_ char *found = NULL;
                r = ld_search_locate(c->ls, path, &info, info.needed[i], &found);
                if (r == 0) {
                        /* Only the list ld.so reads counts: RPATH without RUNPATH. */
                        const char *kind = info.runpath ? "RUNPATH " : info.rpath ? "RPATH " : "";
                        const char *list = info.runpath ? info.runpath : info.rpath;
                        r = cairn_error_add(c->err, CAIRN_EXIT_SOURCE, -ENOENT,
                                            "%s: library %s (DT_NEEDED) is in none of the "
                                            "directories ld.so searches (%s%s%sld.so.conf, the "
                                            "default directories) in the packages of the "
                                            "closure",
                                            path, info.needed[i], kind, list ? list : "",
                                            list ? ", " : "");
                } else if (r > 0)
                        r = want(c, found);
                if (r < 0 && r != -ENOMEM && r != -E2BIG && r != -ENOENT)
                        r = cairn_error_add(c->err, CAIRN_EXIT_SOURCE, r, "%s: library %s: %s",
                                            path, info.needed[i], why(r));
        }
        elf_info_clear(&info);
        return r;
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int closure_compute(const struct tree *t, const struct store *s, const char *const *roots,
                    size_t n_roots, char ***ret, struct cairn_error *err)
{
        struct closure_ctx c = { .t = t, .s = s, .err = err };
        _cleanup_free_ uint8_t *marks = calloc(tree_count(t) + 1, 1);
        if (!marks)
                return -ENOMEM;
        c.marks = marks;
        int r = ld_search_new(t, s, &c.ls);
        for (size_t i = 0; r >= 0 && i < n_roots; i++) {
                r = want(&c, roots[i]);
                if (r < 0 && r != -ENOMEM && r != -E2BIG)
                        r = cairn_error_add(err, CAIRN_EXIT_SOURCE, r,
                                            "%s is %s in the packages "
                                            "of the closure",
                                            roots[i], why(r));
        }
        while (r >= 0 && c.done < c.n_todo) {
                const char *next = c.todo[c.done++];
                r = walk(&c, next);
        }
        if (r == -E2BIG)
                cairn_error_add(err, CAIRN_EXIT_SOURCE, r,
                                "the load closure has more than %d files", CLOSURE_MAX_FILES);
        ld_search_free(c.ls);
        strv_free(c.todo);
        if (r < 0) {
                strv_free(c.keep);
                return r;
        }
        if (!c.keep) {
                c.keep = calloc(1, sizeof(char *));
                if (!c.keep)
                        return -ENOMEM;
        }
        qsort(c.keep, c.n_keep, sizeof(char *), str_cmp);
        *ret = c.keep;
        return 0;
}
