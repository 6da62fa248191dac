/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A signed Debian repository into a libsolv Pool: dists/SUITE/Release verified against the
 * source's keyring with libsolv's own OpenPGP code, then COMPONENT/binary-ARCH/Packages(.xz,
 * .gz) checked against the Release's SHA256 list and parsed with repo_add_debpackages. The
 * parsed repository is cached as a .solv file keyed by the Packages digest, so a warm resolve
 * never parses Packages again.
 *
 * Cache layout (all writes are temp file + rename, so a reader never sees half a file and a
 * failed check leaves nothing behind):
 *   CACHE/release/SHA256(base url + suite)/Release, Release.gpg   (after verification)
 *   CACHE/index/SHA256-OF-PACKAGES.solv
 * Valid-Until is not enforced: mirrors that serve snapshots (and apt configurations that set
 * Acquire::Check-Valid-Until false) would be refused otherwise.
 */
#include "debrepo.h"

#include <fcntl.h>
#include <solv/chksum.h>
#include <solv/knownid.h>
#include <solv/repo_deb.h>
#include <solv/repo_pubkey.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>
#include <solv/solv_xfopen.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "aptsources.h"
#include "base/cachemac.h"
#include "base/digest.h"
#include "base/http.h"
#include "solv.h"

#define RELEASE_MAX  (16ULL << 20)
#define SIG_MAX      (1ULL << 20)
#define PACKAGES_MAX (1ULL << 30)

/* Writes buf to dir/name through a temporary file. */
static int cache_write(const char *dir, const char *name, const void *buf, size_t len,
                       struct cairn_error *err)
{
        int r = mkdir_p(dir, 0755);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", dir, strerror(-r));
        _cleanup_free_ char *dst = NULL;
        if (asprintf(&dst, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = write_file_atomic(dst, buf, len, false);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", dst, strerror(-r));
        return 0;
}

#define KEYRING_MAX (16ULL << 20)

/* Adds the .solv in buf (len bytes) to repo; false when libsolv refuses it. */
static bool solv_buf_load(Repo *repo, char *buf, size_t len)
{
        _cleanup_fclose_ FILE *f = fmemopen(buf, len ? len : 1, "r");
        return f && len && repo_add_solv(repo, f, 0) == 0;
}

/*
 * The source's keyring as a libsolv repo of public keys. Parsing an OpenPGP keyring checks
 * every key's self-signatures in libsolv's own arithmetic (about 0.1 s for Debian's archive
 * keyring, most of a warm resolve), so the parsed keys are cached as
 * CACHE/keyring/SHA256-OF-THE-KEYRING.solv: keyed by the exact keyring bytes, they can only
 * stand for that keyring.
 */
static int load_keyring(const struct recipe_source *src, const char *cache, Repo *keys,
                        struct cairn_error *err)
{
        _cleanup_free_ char *bytes = NULL, *dir = NULL, *solv = NULL;
        size_t len = 0;
        int r = read_file_bounded(src->keyring, KEYRING_MAX, &bytes, &len);
        if (r < 0)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, r, "source %s: keyring %s: %s",
                                       src->name, src->keyring, strerror(-r));
        char hex[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, bytes, len, hex);
        if (asprintf(&dir, "%s/keyring", cache) < 0 || asprintf(&solv, "%s/%s.solv", dir, hex) < 0)
                return -ENOMEM;
        /* Sealed with the keyring's digest (base/cachemac.h): parsed keys that this user's
         * cairn did not derive from exactly these bytes are never believed. */
        _cleanup_free_ char *cbuf = NULL;
        size_t clen = 0;
        r = cachemac_read(solv, KEYRING_MAX, "keyring", hex, &cbuf, &clen);
        if (r == -EBADMSG)
                cachemac_notice_rebuilt(solv);
        if (r >= 0 && solv_buf_load(keys, cbuf, clen) && keys->nsolvables > 0)
                return 0;
        repo_empty(keys, 0);
        _cleanup_fclose_ FILE *kf = fmemopen(bytes, len ? len : 1, "r");
        if (!kf)
                return -ENOMEM;
        if (repo_add_keyring(keys, kf, ADD_WITH_SUBKEYS | ADD_MULTIPLE_PUBKEYS) != 0 ||
            keys->nsolvables == 0)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "source %s: %s holds no usable OpenPGP public key",
                                       src->name, src->keyring);
        /* Best effort: without the cache the next resolve parses the keyring again. */
        _cleanup_free_ char *text = NULL;
        size_t tlen = 0;
        FILE *f = open_memstream(&text, &tlen);
        if (f && repo_write(keys, f) == 0 && fclose(f) == 0) {
                if (mkdir_p(dir, 0755) >= 0)
                        (void)cachemac_write(solv, "keyring", hex, text, tlen);
        } else if (f) {
                fclose(f);
        }
        return 0;
}

int debrepo_keyring_check(const struct recipe_source *src, size_t *ret_keys,
                          struct cairn_error *err)
{
        _cleanup_free_ char *bytes = NULL;
        size_t len = 0;
        int r = read_file_bounded(src->keyring, KEYRING_MAX, &bytes, &len);
        if (r < 0)
                return cairn_error_errno(err, r, "keyring %s: %s", src->keyring, strerror(-r));
        _cleanup_pool_ Pool *kp = pool_create();
        if (!kp)
                return -ENOMEM;
        Repo *keys = repo_create(kp, "keyring");
        _cleanup_fclose_ FILE *kf = fmemopen(bytes, len ? len : 1, "r");
        if (!kf)
                return -ENOMEM;
        if (repo_add_keyring(keys, kf, ADD_WITH_SUBKEYS | ADD_MULTIPLE_PUBKEYS) != 0 ||
            keys->nsolvables == 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EBADMSG,
                                       "keyring %s holds no usable OpenPGP public key",
                                       src->keyring);
        *ret_keys = (size_t)keys->nsolvables;
        return 0;
}

static int verify_release(const struct recipe_source *src, const char *cache, const char *release,
                          size_t rlen, const char *sig, size_t slen, struct cairn_error *err)
{
        _cleanup_pool_ Pool *kp = pool_create();
        if (!kp)
                return -ENOMEM;
        Repo *keys = repo_create(kp, "keyring");
        int r = load_keyring(src, cache, keys, err);
        if (r < 0)
                return r;
        _cleanup_fclose_ FILE *sf = fmemopen((void *)sig, slen, "r");
        if (!sf)
                return -ENOMEM;
        Solvsig *ss = solvsig_create(sf);
        if (!ss)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "source %s: Release.gpg is not an OpenPGP signature",
                                       src->name);
        Chksum *chk = solv_chksum_create(ss->htype);
        Id key = 0;
        if (chk) {
                solv_chksum_add(chk, release, (int)rlen);
                key = solvsig_verify(ss, keys, chk);
                solv_chksum_free(chk, NULL);
        }
        char keyid[sizeof(ss->keyid)];
        memcpy(keyid, ss->keyid, sizeof(keyid));
        solvsig_free(ss);
        if (!key)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "source %s: the Release signature (key %s) does not verify "
                                       "against %s: wrong or unknown key, or a tampered Release",
                                       src->name, keyid, src->keyring);
        return 0;
}

bool debrepo_release_lookup(const char *release, const char *path, char hex[65], uint64_t *size)
{
        const char *p = strstr(release, "\nSHA256:");
        if (!p)
                return false;
        p = strchr(p + 1, '\n');
        while (p && p[1] == ' ') {
                const char *line = p + 1;
                const char *eol = strchrnul(line, '\n');
                char h[65], name[512];
                unsigned long long sz;
                if (eol - line < 600 && sscanf(line, " %64s %llu %511s", h, &sz, name) == 3 &&
                    streq(name, path)) {
                        memcpy(hex, h, 65);
                        *size = sz;
                        return true;
                }
                p = *eol ? eol : NULL;
        }
        return false;
}

static int fetch_release(const struct recipe_source *src, const char *base, const char *cache,
                         bool offline, char **ret_release, size_t *ret_len, struct cairn_error *err)
{
        _cleanup_free_ char *rurl = NULL, *surl = NULL, *key = NULL, *dir = NULL;
        if (asprintf(&rurl, "%s/dists/%s/Release", base, src->suite) < 0 ||
            asprintf(&surl, "%s.gpg", rurl) < 0 || asprintf(&key, "%s %s", base, src->suite) < 0)
                return -ENOMEM;
        char kh[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, key, strlen(key), kh);
        if (asprintf(&dir, "%s/release/%s", cache, kh) < 0)
                return -ENOMEM;

        _cleanup_free_ char *release = NULL, *sig = NULL;
        size_t rlen = 0, slen = 0;
        int r;
        if (offline) {
                _cleanup_free_ char *rp = NULL, *sp = NULL;
                if (asprintf(&rp, "%s/Release", dir) < 0 ||
                    asprintf(&sp, "%s/Release.gpg", dir) < 0)
                        return -ENOMEM;
                r = read_file_bounded(rp, RELEASE_MAX, &release, &rlen);
                if (r >= 0 && !src->trusted)
                        r = read_file_bounded(sp, SIG_MAX, &sig, &slen);
                if (r < 0)
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, r,
                                               "source %s: --offline, and %s is not in the cache "
                                               "(%s); build once online",
                                               src->name, rurl, dir);
        } else {
                r = http_fetch_buf(rurl, RELEASE_MAX, &release, &rlen, err);
                if (r >= 0 && !src->trusted)
                        r = http_fetch_buf(surl, SIG_MAX, &sig, &slen, err);
                if (r < 0)
                        return cairn_error_wrap(err, r, "source %s", src->name);
        }
        /* Verified on every use, also from the cache. */
        if (!src->trusted) {
                r = verify_release(src, cache, release, rlen, sig, slen, err);
                if (r < 0)
                        return r;
        }
        if (!offline) {
                r = cache_write(dir, "Release", release, rlen, err);
                if (r >= 0 && sig)
                        r = cache_write(dir, "Release.gpg", sig, slen, err);
                if (r < 0)
                        return r;
        }
        *ret_release = steal_pointer(&release);
        *ret_len = rlen;
        return 0;
}

/* Downloads the Packages index listed in Release, checks size and sha256, parses it into repo
 * and writes the .solv cache. */
static int load_packages(Repo *repo, const struct recipe_source *src, const char *base,
                         const char *release, const char *component, const char *arch,
                         const char *cache, bool offline, struct cairn_error *err)
{
        static const char *const suffixes[] = { ".xz", ".gz", "" };
        char hex[65] = "";
        uint64_t size = 0;
        const char *suffix = NULL;
        _cleanup_free_ char *rel = NULL;
        for (size_t i = 0; i < ELEMENTSOF(suffixes) && !suffix; i++) {
                free(rel);
                if (asprintf(&rel, "%s/binary-%s/Packages%s", component, arch, suffixes[i]) < 0)
                        return -ENOMEM;
                if (debrepo_release_lookup(release, rel, hex, &size))
                        suffix = suffixes[i];
        }
        if (!suffix)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                       "source %s: the Release of %s lists no Packages index for "
                                       "%s/binary-%s",
                                       src->name, src->suite, component, arch);
        _cleanup_free_ char *solv = NULL, *idx = NULL;
        if (asprintf(&idx, "%s/index", cache) < 0 || asprintf(&solv, "%s/%s.solv", idx, hex) < 0)
                return -ENOMEM;
        /* Sealed with the Packages digest the signed Release gives: a parsed index is
         * believed only when this user's cairn made it from exactly that file. */
        {
                _cleanup_free_ char *cbuf = NULL;
                size_t clen = 0;
                int k = cachemac_read(solv, PACKAGES_MAX, "index", hex, &cbuf, &clen);
                if (k == -EBADMSG)
                        cachemac_notice_rebuilt(solv);
                if (k >= 0 && solv_buf_load(repo, cbuf, clen))
                        return 0;
                repo_empty(repo, 0);
        }
        if (offline)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                       "source %s: --offline, and the index %s is not in the "
                                       "cache",
                                       src->name, rel);

        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "%s/dists/%s/%s", base, src->suite, rel) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = memfd_create("cairn-packages", MFD_CLOEXEC);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "memfd: %m");
        int r = http_fetch_fd(url, fd, PACKAGES_MAX, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "source %s", src->name);
        off_t got = lseek(fd, 0, SEEK_CUR);
        char have[DIGEST_HEX_MAX];
        if (lseek(fd, 0, SEEK_SET) < 0 || digest_fd_hex(DIGEST_SHA256, fd, have) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", url);
        if ((uint64_t)got != size || !streq(have, hex))
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "source %s: %s does not match the signed Release (size "
                                       "%lld, expected %llu; sha256 %s, expected %s)",
                                       src->name, url, (long long)got, (unsigned long long)size,
                                       have, hex);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        /* solv_xfopen_fd picks the decompressor from the name's suffix and takes the fd. */
        _cleanup_free_ char *fname = NULL;
        if (asprintf(&fname, "Packages%s", suffix) < 0)
                return -ENOMEM;
        _cleanup_fclose_ FILE *pf = solv_xfopen_fd(fname, steal_fd(&fd), "r");
        if (!pf || repo_add_debpackages(repo, pf, 0) != 0)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG, "source %s: %s: %s",
                                       src->name, url, pool_errstr(repo->pool));

        /* Cache the parsed form, sealed. Best effort. */
        _cleanup_free_ char *text = NULL;
        size_t tlen = 0;
        FILE *tf = open_memstream(&text, &tlen);
        bool ok = tf && repo_write(repo, tf) == 0;
        if (tf)
                ok = fclose(tf) == 0 && ok;
        if (ok && mkdir_p(idx, 0755) >= 0)
                (void)cachemac_write(solv, "index", hex, text, tlen);
        return 0;
}

void debrepo_info_clear(struct debrepo_info *info)
{
        free(info->base);
        free(info->release_sha256);
        free(info->date);
        free(info->note);
        *info = (struct debrepo_info){ 0 };
}

/* The value of the Release's field NAME ("" without one). */
static char *release_field(const char *release, const char *name)
{
        size_t n = strlen(name);
        const char *p = release;
        while (p && !(strncmp(p, name, n) == 0 && p[n] == ':')) {
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        if (!p)
                return strdup("");
        p += n + 1;
        while (*p == ' ' || *p == '\t')
                p++;
        const char *end = strchrnul(p, '\n');
        while (end > p && (end[-1] == ' ' || end[-1] == '\r'))
                end--;
        return strndup(p, (size_t)(end - p));
}

/* Whether uri serves src->suite: its Release for the suite verifies against src's keyring and
 * names the suite as its Suite: or Codename:. 0 yes; else a negative errno with the reason in
 * err (a 404, a signature from another key, another suite). */
static int probe_suite(const struct recipe_source *src, const char *uri, const char *cache,
                       bool offline, struct cairn_error *err)
{
        _cleanup_free_ char *release = NULL;
        size_t rlen = 0;
        int r = fetch_release(src, uri, cache, offline, &release, &rlen, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *suite = release_field(release, "Suite");
        _cleanup_free_ char *codename = release_field(release, "Codename");
        if (!suite || !codename)
                return -ENOMEM;
        if (!streq(suite, src->suite) && !streq(codename, src->suite))
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                       "its signed Release for %s names suite '%s', codename '%s'",
                                       src->suite, suite, codename);
        return 0;
}

/* url: apt when no apt source lists the suite: the first URI of the apt configuration that
 * serves it (probe_suite). The error lists every URI tried and why it was not taken. */
static int apt_probe(const struct recipe_source *src, const char *cache, bool offline, char **ret,
                     char **ret_note, struct cairn_error *err)
{
        _cleanup_strv_free_ char **uris = NULL;
        int r = aptsources_uris(&uris);
        if (r < 0)
                return r;
        _cleanup_free_ char *tried = NULL;
        size_t tlen = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&tried, &tlen);
        if (!f)
                return -ENOMEM;
        for (char **u = uris; *u; u++) {
                _cleanup_cairn_error_ struct cairn_error perr = CAIRN_ERROR_INIT;
                r = probe_suite(src, *u, cache, offline, &perr);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        _cleanup_free_ char *base = strdup(*u);
                        if (!base)
                                return -ENOMEM;
                        if (ret_note &&
                            asprintf(ret_note,
                                     "source %s: url: apt: no apt source of this machine lists "
                                     "suite '%s' (%s); using %s, whose Release for it is signed "
                                     "by %s",
                                     src->name, src->suite, aptsources_dir(), base,
                                     src->keyring) < 0)
                                return -ENOMEM;
                        *ret = steal_pointer(&base);
                        return 0;
                }
                fprintf(f, "%s%s (%s)", tlen ? "; " : "", *u,
                        perr.n_messages ? perr.messages[perr.n_messages - 1] : strerror(-r));
                fflush(f);
        }
        if (fflush(f) != 0)
                return -ENOMEM;
        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                               "url: apt: no deb entry for suite '%s' in %s/sources.list or "
                               "%s/sources.list.d/*.list, *.sources, and none of their URIs "
                               "serves it%s%s%s; add one, give the source an explicit url, or "
                               "point CAIRN_APT_DIR at an apt directory that lists it",
                               src->suite, aptsources_dir(), aptsources_dir(),
                               tlen ? " (tried: " : "", tlen ? tried : "", tlen ? ")" : "");
}

int debrepo_base_url(const struct recipe_source *src, const char *cache, bool offline, char **ret,
                     char **ret_note, struct cairn_error *err)
{
        _cleanup_free_ char *base = NULL, *note = NULL;
        if (streq(src->url, "apt")) {
                int r = aptsources_find(src->suite, &base);
                if (r == -ENOENT && !src->trusted)
                        r = apt_probe(src, cache, offline, &base, &note, err);
                else if (r == -ENOENT)
                        r = cairn_error_add(err, CAIRN_EXIT_SOURCE, r,
                                            "url: apt: no deb entry for suite '%s' in %s",
                                            src->suite, aptsources_dir());
                if (r < 0)
                        return cairn_error_wrap(err, r, "source %s", src->name);
        } else {
                size_t n = strlen(src->url);
                while (n > 0 && src->url[n - 1] == '/')
                        n--;
                base = strndup(src->url, n);
                if (!base)
                        return -ENOMEM;
        }
        if (src->trusted && !startswith(base, "file://"))
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPERM,
                                       "source %s: trusted: true is allowed only for file://",
                                       src->name);
        *ret = steal_pointer(&base);
        if (ret_note)
                *ret_note = steal_pointer(&note);
        return 0;
}

/* The value of the Release's "Date:" field ("" without one). */
static char *release_date(const char *release)
{
        return release_field(release, "Date");
}

int debrepo_load(Pool *pool, const struct recipe_source *src, unsigned source_index,
                 const char *arch, const char *cache, bool offline, struct debrepo_info *ret_info,
                 struct cairn_error *err)
{
        _cleanup_free_ char *base = NULL, *note = NULL;
        int r = debrepo_base_url(src, cache, offline, &base, &note, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *release = NULL;
        size_t rlen = 0;
        r = fetch_release(src, base, cache, offline, &release, &rlen, err);
        if (r < 0)
                return r;
        for (char **c = src->components; c && *c; c++) {
                Repo *repo = repo_create(pool, src->name);
                if (!repo)
                        return -ENOMEM;
                repo->appdata = (void *)(uintptr_t)source_index;
                r = load_packages(repo, src, base, release, *c, arch, cache, offline, err);
                if (r < 0)
                        return r;
        }
        char hex[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, release, rlen, hex);
        struct debrepo_info info = {
                .release_sha256 = strdup(hex),
                .date = release_date(release),
        };
        if (!info.release_sha256 || !info.date) {
                debrepo_info_clear(&info);
                return -ENOMEM;
        }
        info.base = steal_pointer(&base);
        info.note = steal_pointer(&note);
        *ret_info = info;
        return 0;
}
