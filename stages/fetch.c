/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fetch: every .deb resolve chose, by its Filename:, into the cache at
 * CACHE/debs/SHA256.deb. The sha256 from the signed index is checked before the file gets
 * its name (temp file + rename), so the cache never holds an unverified .deb and
 * two builds sharing it never see half a file. A cached .deb is hashed again before it is
 * read (the cache is not trusted, DESIGN.md §8): one that is not what its name says is
 * fetched again.
 *
 * libsolv's Packages parser (0.7.23) does not keep the Size: field, so downloads are bounded
 * by DEB_MAX instead and the SHA-256 comparison, which fixes the exact bytes, also decides
 * the size; a truncated or padded download fails it.
 */
#include "fetch.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "base/cachemac.h"
#include "base/digest.h"
#include "base/http.h"
#include "debian/debcache.h"

#define DEB_MAX (2ULL << 30)

/* Whether CACHE/unpacked holds a member list of p's .deb that verifies (debcache.h). */
static bool contents_sealed(const struct build *b, const struct build_package *p)
{
        _cleanup_free_ char *list = NULL;
        return asprintf(&list, "%s/unpacked/%s", b->cache_dir, p->sha256) >= 0 &&
               debcache_sealed(list, p->sha256);
}

static int fetch_one(struct build *b, struct build_package *p, struct cairn_error *err)
{
        if (!p->sha256)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "package %s %s: the index gives no SHA256 for it; cairn "
                                       "refuses unverifiable downloads",
                                       p->name, p->version);
        _cleanup_free_ char *dir = NULL, *path = NULL, *tmp = NULL;
        if (asprintf(&dir, "%s/debs", b->cache_dir) < 0 ||
            asprintf(&path, "%s/%s.deb", dir, p->sha256) < 0)
                return -ENOMEM;
        /* With a lock (which fixes the size) and the .deb's sealed member list cached, the
         * build reads only that list and the objects it names, each checked: the .deb is
         * hashed only if it is read after all (stages/unpack.c). Without a known size it is
         * hashed here, so that no size taken from the cache reaches a new lock file. */
        struct stat st;
        if (p->size && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            (uint64_t)st.st_size == p->size && contents_sealed(b, p)) {
                p->size = (uint64_t)st.st_size;
                p->deb_unchecked = true;
                p->local_path = steal_pointer(&path);
                return 0;
        }
        int64_t have_size = debcache_deb_check(path, p->sha256, p->size);
        if (have_size >= 0) {
                p->size = (uint64_t)have_size;
                p->local_path = steal_pointer(&path);
                return 0;
        }
        if (b->opts.offline)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                       "package %s %s: --offline, and %s is not in the cache%s",
                                       p->name, p->version, path,
                                       have_size == -EBADMSG ? " (the file there does not match "
                                                               "its sha256; remove it)"
                                                             : "");
        /* Not the bytes its name promises: fetched again, replaced by rename. */
        if (have_size == -EBADMSG)
                cachemac_notice_rebuilt(path);
        int r = mkdir_p(dir, 0755);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", dir, strerror(-r));
        if (asprintf(&tmp, "%s/.tmp-%d-XXXXXX", dir, (int)getpid()) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", dir);
        r = http_fetch_fd(p->url, fd, DEB_MAX, err);
        char have[DIGEST_HEX_MAX] = "";
        off_t got = r >= 0 ? lseek(fd, 0, SEEK_CUR) : 0;
        if (r >= 0 && (lseek(fd, 0, SEEK_SET) < 0 || digest_fd_hex(DIGEST_SHA256, fd, have) < 0))
                r = cairn_error_errno(err, -errno, "%s: %m", tmp);
        /* p->size is known when the lock file pinned the package (0 from the index). */
        if (r >= 0 && (!streq(have, p->sha256) || (p->size && (uint64_t)got != p->size))) {
                char expected[48] = "";
                if (p->size)
                        snprintf(expected, sizeof(expected), "%llu bytes with ",
                                 (unsigned long long)p->size);
                r = cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                    "package %s %s: %s does not match the %s (%lld bytes with "
                                    "sha256 %s, expected %ssha256 %s)",
                                    p->name, p->version, p->url,
                                    b->lock_state == BUILD_LOCK_USED ? "lock file" : "signed index",
                                    (long long)got, have, expected, p->sha256);
        }
        if (r >= 0 && (fchmod(fd, 0644) < 0 || rename(tmp, path) < 0))
                r = cairn_error_errno(err, -errno, "%s: %m", path);
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        p->size = (uint64_t)got;
        if (b->progress)
                b->progress(b->progress_data, p->url);
        p->local_path = steal_pointer(&path);
        return 0;
}

int stage_fetch(struct build *b, struct cairn_error *err)
{
        for (size_t i = 0; i < b->n_packages; i++) {
                int r = fetch_one(b, &b->packages[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}
