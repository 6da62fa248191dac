/* SPDX-License-Identifier: Apache-2.0 */
#include "outdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/stat.h>

void outdir_remove_stale_siblings(const char *parent, const char *base)
{
        _cleanup_free_ char *prefix = NULL;
        if (asprintf(&prefix, ".%s.cairn-", base) < 0)
                return;
        remove_dead_temps(parent, prefix, 0);
}

int outdir_make_sibling(const char *out_dir, const char *kind, char **ret)
{
        _cleanup_free_ char *a = strdup(out_dir), *b = strdup(out_dir);
        if (!a || !b)
                return -ENOMEM;
        const char *parent = dirname(a);
        const char *base = basename(b);
        char *p = NULL;
        if (asprintf(&p, "%s/.%s.cairn-%s-%d-XXXXXX", parent, base, kind, (int)getpid()) < 0)
                return -ENOMEM;
        if (!mkdtemp(p)) {
                int r = -errno;
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}

/*
 * Moves every entry of tmp into out. Directories are exchanged atomically with an existing
 * one of the same name (renameat2 RENAME_EXCHANGE) and the old one removed afterwards; files
 * replace their old version with rename(2).
 */
static int move_outputs(const char *tmp, const char *out, struct cairn_error *err)
{
        _cleanup_close_ int sfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0 || dfd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", sfd < 0 ? tmp : out);
        /* Sorted so the replacement order never depends on readdir. */
        struct dirent **names = NULL;
        int n = scandir(tmp, &names, NULL, alphasort);
        if (n < 0)
                return cairn_error_errno(err, -errno, "%s: %m", tmp);
        int r = 0;
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                if (r < 0 || streq(name, ".") || streq(name, ".."))
                        continue;
                struct stat st;
                bool exists = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
                if (exists && S_ISDIR(st.st_mode)) {
                        if (renameat2(sfd, name, dfd, name, RENAME_EXCHANGE) < 0) {
                                r = cairn_error_errno(err, -errno, "%s/%s: %m", out, name);
                                continue;
                        }
                        /* The old directory now sits in tmp and goes with it. */
                        continue;
                }
                if (renameat(sfd, name, dfd, name) < 0)
                        r = cairn_error_errno(err, -errno, "%s/%s: %m", out, name);
        }
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

int outdir_replace(const char *tmp, const char *out, bool *ret_consumed, struct cairn_error *err)
{
        struct stat st;
        if (stat(out, &st) < 0) {
                if (errno != ENOENT)
                        return cairn_error_errno(err, -errno, "%s: %m", out);
                if (rename(tmp, out) < 0)
                        return cairn_error_errno(err, -errno, "%s: %m", out);
                *ret_consumed = true;
                return 0;
        }
        if (!S_ISDIR(st.st_mode))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOTDIR,
                                       "%s: exists and is not a directory; choose another -o", out);
        int r = move_outputs(tmp, out, err);
        if (r < 0)
                return r;
        *ret_consumed = false;
        return 0;
}
