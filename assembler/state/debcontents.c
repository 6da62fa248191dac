/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a package's .deb holds, for every stage that places its files (stages/unpack.c,
 * stages/programs.c): read once per build (pkg->contents) and once per cache
 * (CACHE/unpacked/SHA256, sealed with the .deb's verified digest, DESIGN §8), its control file
 * checked against the name, version and architecture the lock or the signed index gave.
 */
#include "debcontents.h"

#include "base/cachemac.h"
#include "debian/debcache.h"

/*
 * The store package contents go to: CACHE/objects, which the build's own store falls back to,
 * or the build's store when the cache cannot be used (no cache directory, read-only cache).
 */
static struct store *contents_store(struct build *b, bool *ret_cached)
{
        *ret_cached = false;
        if (!b->cache_store && b->cache_dir && !b->cache_store_failed) {
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s/objects", b->cache_dir) < 0 ||
                    store_open(dir, &b->cache_store, NULL) < 0) {
                        b->cache_store_failed = true;
                } else {
                        store_set_shared(b->cache_store);
                        store_set_fallback(b->store, b->cache_store);
                }
        }
        if (!b->cache_store)
                return b->store;
        *ret_cached = true;
        return b->cache_store;
}

/* The value of field in a control paragraph, into out ("" when absent). */
static void control_field(const char *control, const char *field, char *out, size_t size)
{
        out[0] = '\0';
        size_t n = strlen(field);
        for (const char *p = control; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                if (strncmp(p, field, n) != 0 || p[n] != ':')
                        continue;
                p += n + 1;
                while (*p == ' ' || *p == '\t')
                        p++;
                size_t len = strcspn(p, "\n");
                while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r'))
                        len--;
                snprintf(out, size, "%.*s", (int)len, p);
                return;
        }
}

/*
 * The .deb says what it is in its control file: its Package, Version and Architecture must be
 * the ones the lock file (or the signed index) gave for these bytes, so a lock entry edited
 * to carry another package's Filename and digest cannot install it under this name.
 */
static int check_identity(const struct build *b, const struct build_package *pkg,
                          const struct deb_contents *dc, struct cairn_error *err)
{
        char name[256], version[256], arch[64];
        control_field(dc->control, "Package", name, sizeof(name));
        control_field(dc->control, "Version", version, sizeof(version));
        control_field(dc->control, "Architecture", arch, sizeof(arch));
        /* libsolv may spell an arch-independent package's architecture "noarch". */
        bool arch_same =
                streq(arch, pkg->arch) || (streq(arch, "all") && streq(pkg->arch, "noarch"));
        if (streq(name, pkg->name) && streq(version, pkg->version) && arch_same)
                return 0;
        _cleanup_free_ char *n = str_escape(name, 100), *v = str_escape(version, 100),
                            *a = str_escape(arch, 40);
        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                               "package %s %s %s (%s): the .deb with sha256 %s says it is "
                               "package '%s' version '%s' architecture '%s' in its control file; "
                               "%s",
                               pkg->name, pkg->version, pkg->arch,
                               b->lock_state == BUILD_LOCK_USED ? b->lock_path : "signed index",
                               pkg->sha256 ? pkg->sha256 : "?", n ? n : "", v ? v : "", a ? a : "",
                               b->lock_state == BUILD_LOCK_USED
                                       ? "the lock entry was edited; run 'cairn lock' again"
                                       : "the repository's index does not describe its files");
}

/* The contents of pkg's .deb: read once per build, and once per cache (CACHE/unpacked/SHA256,
 * keyed by the verified digest of the .deb and sealed with it, so it can never describe other
 * bytes). */
int build_package_contents(struct build *b, struct build_package *pkg, const char *origin,
                           const struct deb_contents **ret, struct cairn_error *err)
{
        if (!pkg->contents) {
                bool cached;
                struct store *objects = contents_store(b, &cached);
                _cleanup_free_ char *dir = NULL, *path = NULL;
                if (cached && pkg->sha256 &&
                    (asprintf(&dir, "%s/unpacked", b->cache_dir) < 0 ||
                     asprintf(&path, "%s/%s", dir, pkg->sha256) < 0))
                        return -ENOMEM;
                _cleanup_deb_contents_ struct deb_contents *dc = NULL;
                int r = path ? debcache_read(path, pkg->sha256, objects, &dc) : -ENOENT;
                if (r == -ENOMEM)
                        return r;
                if (r == -EBADMSG)
                        cachemac_notice_rebuilt(path);
                if (r < 0 && pkg->deb_unchecked &&
                    debcache_deb_check(pkg->local_path, pkg->sha256, pkg->size) < 0)
                        /* Fetch took the .deb unhashed for its member list, which then did not
                         * verify either: both were written by somebody else. */
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                               "%s: cache entry %s is not the .deb with sha256 "
                                               "%s, and its member list did not verify; remove "
                                               "both and build again",
                                               origin, pkg->local_path, pkg->sha256);
                if (r < 0) {
                        r = debread(origin, pkg->local_path, objects, &dc, err);
                        if (r < 0)
                                return r;
                        r = check_identity(b, pkg, dc, err);
                        if (r < 0)
                                return r;
                        /* Best effort: a cache that cannot be written costs speed only. */
                        if (path && mkdir_p(dir, 0755) >= 0)
                                (void)debcache_write(dc, path, pkg->sha256);
                } else {
                        r = check_identity(b, pkg, dc, err);
                        if (r < 0)
                                return r;
                }
                pkg->contents = steal_pointer(&dc);
        }
        *ret = pkg->contents;
        return 0;
}
