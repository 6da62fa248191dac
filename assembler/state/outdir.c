/* SPDX-License-Identifier: Apache-2.0 */
#include "outdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "outmanifest.h"

void outdir_remove_stale_siblings(const char *parent, const char *base)
{
        _cleanup_free_ char *prefix = NULL;
        if (asprintf(&prefix, ".%s.cairn-", base) < 0)
                return;
        /* The parent may be shared with builds in other PID namespaces, where a live build's
         * PID looks dead: its siblings are also locked (below) and must be old. */
        remove_dead_temps(parent, prefix, CAIRN_TEMP_AGE);
}

/*
 * The siblings this process made, each held with flock(LOCK_EX) for the life of the process:
 * remove_dead_temps leaves a locked directory alone, whatever its PID says. The descriptors
 * are close-on-exec and die with the process, and the locks with them.
 */
static int held_locks[8];
static size_t n_held_locks;

static void hold_lock(const char *dir)
{
        if (n_held_locks == ELEMENTSOF(held_locks))
                return;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                close(fd);
                return;
        }
        held_locks[n_held_locks++] = fd;
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
        hold_lock(p);
        *ret = p;
        return 0;
}

/* One output of the new build: its name in tmp and OUT, whether OUT has one already. */
struct step {
        const char *name;
        bool exchange;
};

static int by_name(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * Whether OUT's entry `name` (already there) is cairn's to replace: it and everything
 * beneath it must be in the old list; without a list (an OUT written before cairn kept one),
 * they must be exactly what this build writes under that name (its type, its paths), blobs
 * of an OCI layout excepted. Otherwise a CAIRN_EXIT_IO error names the first foreign path.
 */
static int check_owned(int ofd, const char *out, const char *name, const struct outmanifest *old,
                       bool have_old, const struct outmanifest *new, struct cairn_error *err)
{
        _cleanup_outmanifest_ struct outmanifest there = { 0 };
        int r = outmanifest_scan(&there, ofd, name);
        if (r < 0)
                return cairn_error_add(err, CAIRN_EXIT_IO, r, "%s/%s: %s", out, name, strerror(-r));
        for (size_t i = 0; i < there.n; i++) {
                char type = there.lines[i][0];
                const char *path = there.lines[i] + 2;
                bool owned;
                if (have_old)
                        owned = outmanifest_has(old, type, path);
                else {
                        const char *blob = strstr(path, "/blobs/sha256/");
                        owned = outmanifest_has(new, type, path) ||
                                (type == 'f' && blob && !strchr(blob + 14, '/') &&
                                 strlen(blob + 14) == 64 &&
                                 strspn(blob + 14, "0123456789abcdef") == 64);
                }
                if (owned)
                        continue;
                _cleanup_free_ char *shown = str_escape(path, 300);
                return cairn_error_add(
                        err, CAIRN_EXIT_IO, -EEXIST,
                        "%s/%s: %s cairn did not write is in the way of this build's output "
                        "%s; nothing was changed: move it out of %s%s",
                        out, shown ? shown : name,
                        type == 'd'   ? "a directory"
                        : type == 'f' ? "a file"
                                      : "an entry",
                        name, out,
                        have_old ? ""
                                 : " (this OUT has no " OUTMANIFEST_NAME
                                   " list yet: cairn adopts only outputs exactly like its own)");
        }
        return 0;
}

/*
 * Moves every step from tmp into out, in order: renameat2(RENAME_EXCHANGE) where out has the
 * name (the old version lands in tmp), RENAME_NOREPLACE where it does not. When one fails, the
 * ones done are undone in reverse, so out is as before. *ret_mixed is true when that undoing
 * failed too.
 */
static int swap_in(int tfd, int ofd, const struct step *steps, size_t n, const char *out,
                   const char *tmp, bool *ret_mixed, struct cairn_error *err)
{
        size_t done = 0;
        int r = 0;
        for (; done < n; done++)
                if (renameat2(tfd, steps[done].name, ofd, steps[done].name,
                              steps[done].exchange ? RENAME_EXCHANGE : RENAME_NOREPLACE) < 0) {
                        r = -errno;
                        break;
                }
        if (r == 0)
                return 0;
        const char *failed = steps[done].name;
        const char *undone = NULL;
        int q = 0;
        while (done-- > 0) {
                const struct step *s = &steps[done];
                if ((s->exchange ? renameat2(tfd, s->name, ofd, s->name, RENAME_EXCHANGE)
                                 : renameat2(ofd, s->name, tfd, s->name, RENAME_NOREPLACE)) < 0 &&
                    !undone) {
                        q = -errno;
                        undone = s->name;
                }
        }
        *ret_mixed = undone != NULL;
        if (undone)
                return cairn_error_add(err, CAIRN_EXIT_IO, r,
                                       "%s/%s: cannot replace it: %s; putting %s/%s back failed "
                                       "too (%s): OUT is mixed, the previous versions are in %s",
                                       out, failed, strerror(-r), out, undone, strerror(-q), tmp);
        return cairn_error_add(err, CAIRN_EXIT_IO, r,
                               "%s/%s: cannot replace it: %s; OUT is unchanged (every output "
                               "was moved back)",
                               out, failed, strerror(-r));
}

/* Replaces the outputs in an existing OUT (a directory), holding its flock. */
static int replace_in(int tfd, const char *tmp, const char *out, bool *ret_mixed,
                      struct cairn_error *err)
{
        _cleanup_close_ int ofd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ofd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", out);
        /* Two builds into one OUT take turns; the lock goes with the descriptor. */
        if (flock(ofd, LOCK_EX) < 0)
                return cairn_error_errno(err, -errno, "%s: cannot lock: %m", out);

        _cleanup_outmanifest_ struct outmanifest old = { 0 }, new = { 0 };
        bool have_old = false;
        int r = outmanifest_read(&old, ofd, out, &have_old, err);
        if (r < 0)
                return r;

        _cleanup_free_ char *fdpath = NULL;
        if (asprintf(&fdpath, "/proc/self/fd/%d", tfd) < 0)
                return -ENOMEM;
        struct dirent **names = NULL;
        int n = scandir(fdpath, &names, NULL, by_name);
        if (n < 0)
                return cairn_error_errno(err, -errno, "%s: %m", tmp);
        _cleanup_free_ struct step *steps = calloc((size_t)n + 1, sizeof(*steps));
        size_t n_steps = 0;
        r = steps ? 0 : -ENOMEM;
        for (int i = 0; r >= 0 && i < n; i++) {
                const char *name = names[i]->d_name;
                if (streq(name, ".") || streq(name, "..") || streq(name, OUTMANIFEST_NAME))
                        continue;
                r = outmanifest_scan(&new, tfd, name);
                if (r < 0)
                        r = cairn_error_errno(err, r, "%s/%s: %s", tmp, name, strerror(-r));
                steps[n_steps++].name = name;
        }
        if (r >= 0)
                outmanifest_sort(&new);
        /* Every clash is found before anything in OUT changes. */
        for (size_t i = 0; r >= 0 && i < n_steps; i++) {
                struct stat st;
                if (fstatat(ofd, steps[i].name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                r = cairn_error_errno(err, -errno, "%s/%s: %m", out, steps[i].name);
                        continue;
                }
                steps[i].exchange = true;
                r = check_owned(ofd, out, steps[i].name, &old, have_old, &new, err);
        }
        /* The new list: what this build wrote, and what earlier builds wrote that stays (the
         * outputs of variants not built this time). */
        for (size_t i = 0; r >= 0 && i < old.n; i++) {
                const char *path = old.lines[i] + 2;
                size_t top = strcspn(path, "/");
                bool replaced = false;
                for (size_t k = 0; k < n_steps && !replaced; k++)
                        replaced = strlen(steps[k].name) == top &&
                                   strncmp(steps[k].name, path, top) == 0;
                _cleanup_free_ char *topname = strndup(path, top);
                struct stat st;
                if (!topname)
                        r = -ENOMEM;
                else if (!replaced && fstatat(ofd, topname, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        r = outmanifest_add(&new, old.lines[i][0], path);
        }
        if (r >= 0) {
                r = outmanifest_write(&new, tfd);
                if (r < 0)
                        r = cairn_error_errno(err, r, "%s/%s: %s", tmp, OUTMANIFEST_NAME,
                                              strerror(-r));
        }
        if (r >= 0) {
                struct stat st;
                /* The list last: while it is replaced every output is in place. */
                steps[n_steps].name = OUTMANIFEST_NAME;
                steps[n_steps].exchange =
                        fstatat(ofd, OUTMANIFEST_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0;
                r = swap_in(tfd, ofd, steps, n_steps + 1, out, tmp, ret_mixed, err);
        }
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

int outdir_replace(const char *tmp, const char *out, bool *ret_consumed, struct cairn_error *err)
{
        _cleanup_close_ int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tfd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", tmp);
        struct stat st;
        if (stat(out, &st) < 0) {
                if (errno != ENOENT)
                        return cairn_error_errno(err, -errno, "%s: %m", out);
                _cleanup_outmanifest_ struct outmanifest m = { 0 };
                _cleanup_free_ char *fdpath = NULL;
                if (asprintf(&fdpath, "/proc/self/fd/%d", tfd) < 0)
                        return -ENOMEM;
                struct dirent **names = NULL;
                int n = scandir(fdpath, &names, NULL, by_name);
                if (n < 0)
                        return cairn_error_errno(err, -errno, "%s: %m", tmp);
                int r = 0;
                for (int i = 0; i < n; i++) {
                        const char *name = names[i]->d_name;
                        if (r >= 0 && !streq(name, ".") && !streq(name, ".."))
                                r = outmanifest_scan(&m, tfd, name);
                        free(names[i]);
                }
                free(names);
                if (r >= 0)
                        r = outmanifest_write(&m, tfd);
                if (r < 0)
                        return cairn_error_errno(err, r, "%s: %s", tmp, strerror(-r));
                /* NOREPLACE: an OUT made meanwhile by someone else is not overwritten. */
                if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) < 0)
                        return cairn_error_errno(err, -errno, "%s: %m", out);
                *ret_consumed = true;
                return 0;
        }
        if (!S_ISDIR(st.st_mode))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOTDIR,
                                       "%s: exists and is not a directory; choose another -o", out);
        bool mixed = false;
        int r = replace_in(tfd, tmp, out, &mixed, err);
        if (r < 0) {
                /* tmp holds previous outputs: it must not be removed. */
                if (mixed)
                        *ret_consumed = true;
                return r;
        }
        *ret_consumed = false;
        return 0;
}
