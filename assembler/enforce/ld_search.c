/* SPDX-License-Identifier: Apache-2.0 */
#include "ld_search.h"

#include <fnmatch.h>
#include <libgen.h>

struct ld_search {
        const struct tree *t;  /* borrowed */
        const struct store *s; /* borrowed */
        char **dirs;           /* owned; from /etc/ld.so.conf, in order */
        size_t n_dirs, cap_dirs;
};

static int ldconf_add(struct ld_search *ls, const char *dir)
{
        if (ls->n_dirs >= LD_CONF_MAX_DIRS)
                return 0; /* the rest cannot matter more than the first 256 */
        if (GROW(ls->dirs, ls->cap_dirs, ls->n_dirs + 1) < 0)
                return -ENOMEM;
        ls->dirs[ls->n_dirs] = strdup(dir);
        if (!ls->dirs[ls->n_dirs])
                return -ENOMEM;
        ls->n_dirs++;
        return 0;
}

/* Reads one ld.so.conf-style file of the image; `include GLOB` lines pull in the matching
 * files in sorted order, relative patterns taken from the including file's directory. */
static int ldconf_read(struct ld_search *ls, const char *path, unsigned depth)
{
        if (depth > LD_CONF_DEPTH)
                return 0;
        _cleanup_free_ char *resolved = NULL;
        const struct tree_entry *e = NULL;
        int r = tree_resolve(ls->t, path, 0, &resolved, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !e || e->type != TREE_REG)
                return 0;
        _cleanup_close_ int fd = store_open_key(ls->s, &e->key);
        if (fd < 0)
                return 0;
        _cleanup_free_ char *buf = malloc(LD_CONF_MAX + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t n = pread(fd, buf, LD_CONF_MAX, 0);
        if (n < 0)
                return 0;
        buf[n] = 0;
        _cleanup_free_ char *dircopy = strdup(resolved);
        if (!dircopy)
                return -ENOMEM;
        const char *dir = dirname(dircopy);

        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = 0;
                line += strspn(line, " \t");
                size_t len = strlen(line);
                while (len > 0 && strchr(" \t\r", line[len - 1]))
                        line[--len] = 0;
                if (len == 0)
                        continue;
                if (startswith(line, "include") && (line[7] == ' ' || line[7] == '\t')) {
                        const char *pat = line + 8 + strspn(line + 8, " \t");
                        _cleanup_free_ char *full = NULL;
                        if (pat[0] == '/')
                                full = strdup(pat);
                        else if (asprintf(&full, "%s/%s", dir, pat) < 0)
                                full = NULL;
                        if (!full)
                                return -ENOMEM;
                        /* The tree is in strcmp order, which is glob(3)'s sorted order in
                         * the C locale. */
                        for (size_t i = 0; i < tree_count(ls->t); i++) {
                                const struct tree_entry *x = tree_at(ls->t, i);
                                if (x->type != TREE_DIR &&
                                    fnmatch(full, x->path, FNM_PATHNAME) == 0) {
                                        r = ldconf_read(ls, x->path, depth + 1);
                                        if (r < 0)
                                                return r;
                                }
                        }
                } else if (line[0] == '/' && !startswith(line, "hwcap")) {
                        r = ldconf_add(ls, line);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static const char *multiarch_triplet(const struct elf_info *elf)
{
        static const struct {
                const char *arch, *triplet;
        } triplets[] = {
                { "amd64", "x86_64-linux-gnu" },        { "i386", "i386-linux-gnu" },
                { "arm64", "aarch64-linux-gnu" },       { "armhf", "arm-linux-gnueabihf" },
                { "ppc64el", "powerpc64le-linux-gnu" }, { "s390x", "s390x-linux-gnu" },
                { "riscv64", "riscv64-linux-gnu" },     { "mips64el", "mips64el-linux-gnuabi64" },
                { "mipsel", "mipsel-linux-gnu" },       { "loong64", "loongarch64-linux-gnu" },
        };
        const char *arch = elf_debian_arch(elf->machine, elf->elf_class, elf->big_endian);
        for (size_t i = 0; arch && i < ELEMENTSOF(triplets); i++)
                if (streq(triplets[i].arch, arch))
                        return triplets[i].triplet;
        return NULL;
}

/* 1 when dir/name resolves to a regular file inside the image, 0 when not, -ENOMEM. On 1 and
 * with ret_path, *ret_path (owned by the caller) is dir/name, the path ld.so opens. */
static int lib_exists(const struct ld_search *ls, const char *dir, size_t dir_len, const char *name,
                      char **ret_path)
{
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%.*s/%s", (int)dir_len, dir, name) < 0) {
                p = NULL;
                return -ENOMEM;
        }
        const struct tree_entry *e = NULL;
        _cleanup_free_ char *resolved = NULL;
        int r = tree_resolve(ls->t, p, 0, &resolved, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !e)
                return 0;
        if (e->type != TREE_REG && e->type != TREE_HARDLINK)
                return 0;
        if (ret_path)
                *ret_path = steal_pointer(&p);
        return 1;
}

/* Searches a colon-separated RPATH/RUNPATH, expanding $ORIGIN to origin. 1, 0 or -ENOMEM. */
static int lib_in_path_list(const struct ld_search *ls, const char *list, const char *origin,
                            const char *name, char **ret_path)
{
        for (const char *p = list; *p;) {
                size_t n = strcspn(p, ":");
                _cleanup_free_ char *dir = strndup(p, n);
                p += n + (p[n] == ':');
                if (!dir)
                        return -ENOMEM;
                _cleanup_free_ char *expanded = NULL;
                const char *d = dir;
                if (startswith(dir, "$ORIGIN") || startswith(dir, "${ORIGIN}")) {
                        const char *rest = dir + (dir[1] == '{' ? 9 : 7);
                        if (asprintf(&expanded, "%s%s", origin, rest) < 0) {
                                expanded = NULL;
                                return -ENOMEM;
                        }
                        d = expanded;
                }
                if (d[0] != '/')
                        continue; /* relative to the cwd at run time: unknowable */
                int r = lib_exists(ls, d, strlen(d), name, ret_path);
                if (r != 0)
                        return r;
        }
        return 0;
}

int ld_search_locate(const struct ld_search *ls, const char *path, const struct elf_info *elf,
                     const char *name, char **ret_path)
{
        if (strchr(name, '/'))
                return lib_exists(ls, "", 0, name[0] == '/' ? name + 1 : name, ret_path);
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        const char *origin = dirname(copy);
        int r = 0;
        /* RPATH only counts when there is no RUNPATH. */
        if (elf->rpath && !elf->runpath)
                r = lib_in_path_list(ls, elf->rpath, origin, name, ret_path);
        if (r == 0 && elf->runpath)
                r = lib_in_path_list(ls, elf->runpath, origin, name, ret_path);
        for (size_t i = 0; r == 0 && i < ls->n_dirs; i++)
                r = lib_exists(ls, ls->dirs[i], strlen(ls->dirs[i]), name, ret_path);
        const char *triplet = multiarch_triplet(elf);
        const char *std[] = { "/lib", "/usr/lib", elf->elf_class == 64 ? "/lib64" : "/lib32",
                              elf->elf_class == 64 ? "/usr/lib64" : "/usr/lib32" };
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(std); i++) {
                r = lib_exists(ls, std[i], strlen(std[i]), name, ret_path);
                if (r == 0 && triplet) {
                        _cleanup_free_ char *d = NULL;
                        if (asprintf(&d, "%s/%s", std[i], triplet) < 0) {
                                d = NULL;
                                return -ENOMEM;
                        }
                        r = lib_exists(ls, d, strlen(d), name, ret_path);
                }
        }
        if (r == 0 && elf->interp) {
                _cleanup_free_ char *resolved = NULL;
                r = tree_resolve(ls->t, elf->interp, 0, &resolved, NULL);
                if (r == -ENOMEM)
                        return r;
                const char *slash = r >= 0 ? strrchr(resolved, '/') : NULL;
                r = slash ? lib_exists(ls, resolved, (size_t)(slash - resolved), name, ret_path)
                          : 0;
        }
        return r;
}

int ld_search_find(const struct ld_search *ls, const char *path, const struct elf_info *elf,
                   const char *name)
{
        return ld_search_locate(ls, path, elf, name, NULL);
}

int ld_search_new(const struct tree *t, const struct store *s, struct ld_search **ret)
{
        struct ld_search *ls = calloc(1, sizeof(*ls));
        if (!ls)
                return -ENOMEM;
        ls->t = t;
        ls->s = s;
        int r = ldconf_read(ls, "/etc/ld.so.conf", 0);
        if (r < 0) {
                ld_search_free(ls);
                return r;
        }
        *ret = ls;
        return 0;
}

void ld_search_free(struct ld_search *ls)
{
        if (!ls)
                return;
        for (size_t i = 0; i < ls->n_dirs; i++)
                free(ls->dirs[i]);
        free(ls->dirs);
        free(ls);
}
