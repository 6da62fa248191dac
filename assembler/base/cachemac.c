/* SPDX-License-Identifier: Apache-2.0 */
#include "cachemac.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TRAILER_TAG     "cairn-mac 1 "
#define TRAILER_TAG_LEN (sizeof(TRAILER_TAG) - 1)
/* What the MAC covers first: a domain separator, so no other HMAC use of the key collides. */
#define MAC_DOMAIN "cairn-cache-mac 1"

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static uint8_t key_bytes[CACHEMAC_KEY_LEN];
static int key_error = -ENOKEY; /* 0 once the key is loaded */
static void (*notice_fn)(const char *line);
static char *forbidden_dir; /* the cache directory: no key may live beneath it */

void cachemac_forbid_under(const char *dir)
{
        free(forbidden_dir);
        forbidden_dir = dir ? strdup(dir) : NULL;
}

/* Whether path (which exists) lies beneath forbidden_dir, symlinks resolved. */
static bool key_in_cache(const char *path)
{
        if (!forbidden_dir)
                return false;
        _cleanup_free_ char *key = realpath(path, NULL), *dir = realpath(forbidden_dir, NULL);
        if (!key || !dir)
                return false;
        size_t n = strlen(dir);
        return strncmp(key, dir, n) == 0 && (key[n] == '/' || dir[n - 1] == '/');
}

void cachemac_set_notice(void (*fn)(const char *line))
{
        notice_fn = fn;
}

static void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notice(const char *fmt, ...)
{
        if (!notice_fn)
                return;
        _cleanup_free_ char *line = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&line, fmt, ap);
        va_end(ap);
        if (n >= 0)
                notice_fn(line);
        else
                line = NULL;
}

void cachemac_notice_rebuilt(const char *path)
{
        notice("cache entry %s did not verify; rebuilt", path);
}

/* $CAIRN_CACHE_KEY, $XDG_STATE_HOME/cairn/cache.key or ~/.local/state/cairn/cache.key. */
static char *key_path(void)
{
        char *p = NULL;
        const char *env = getenv("CAIRN_CACHE_KEY");
        const char *state = getenv("XDG_STATE_HOME");
        const char *home = getenv("HOME");
        if (env && *env)
                return strdup(env);
        if (state && state[0] == '/')
                return asprintf(&p, "%s/cairn/cache.key", state) < 0 ? NULL : p;
        if (home && home[0] == '/')
                return asprintf(&p, "%s/.local/state/cairn/cache.key", home) < 0 ? NULL : p;
        return NULL;
}

/* Reads the key at path: a regular file of exactly 32 bytes, ours, readable by nobody else. */
static int key_read(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) ||
            st.st_size != CACHEMAC_KEY_LEN)
                return -EPERM;
        ssize_t n = read_retry(fd, key_bytes, sizeof(key_bytes));
        if (n < 0)
                return (int)n;
        return n == CACHEMAC_KEY_LEN ? 0 : -EPERM;
}

/* A new key at path: written to a private temporary file, then linked into place so that two
 * processes creating it at once agree on one (the loser reads the winner's). */
static int key_create(const char *path)
{
        _cleanup_free_ char *dir = strdup(path), *tmp = NULL;
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                int r = mkdir_p(dir, 0700);
                if (r < 0)
                        return r;
        }
        uint8_t fresh[CACHEMAC_KEY_LEN];
        if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh))
                return -EIO;
        if (asprintf(&tmp, "%s.tmp-%d-XXXXXX", path, (int)getpid()) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = fchmod(fd, 0600) < 0 ? -errno : write_all(fd, fresh, sizeof(fresh));
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && link(tmp, path) < 0)
                r = errno == EEXIST ? 0 : -errno;
        (void)unlink(tmp);
        if (r < 0)
                return r;
        return key_read(path);
}

static void key_load(void)
{
        _cleanup_free_ char *path = key_path();
        if (!path) {
                key_error = -ENOKEY;
                notice("cache key: no $CAIRN_CACHE_KEY, $XDG_STATE_HOME or $HOME; derived cache "
                       "entries are not used");
                return;
        }
        int r = key_read(path);
        if (r == -ENOENT)
                r = key_create(path);
        if (r >= 0 && key_in_cache(path)) {
                explicit_bzero(key_bytes, sizeof(key_bytes));
                notice("cache key %s is inside the cache %s, where whoever writes the cache can "
                       "read it; derived cache entries are not used (set $CAIRN_CACHE_KEY "
                       "elsewhere)",
                       path, forbidden_dir);
                key_error = -EPERM;
                return;
        }
        key_error = r;
        if (r < 0) {
                char why[128];
                snprintf(why, sizeof(why), "%s",
                         r == -EPERM ? "not a private 32-byte file of this user" : strerror(-r));
                notice("cache key %s: %s; derived cache entries are not used", path, why);
        }
}

int cachemac_key(const uint8_t **ret)
{
        pthread_once(&key_once, key_load);
        if (key_error < 0)
                return key_error;
        *ret = key_bytes;
        return 0;
}

int cachemac_compute(const char *kind, const char *bind, const void *buf, size_t len,
                     uint8_t ret[32])
{
        const uint8_t *key;
        int r = cachemac_key(&key);
        if (r < 0)
                return r;
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        size_t out = 0;
        /* Each part with its terminating NUL: kind and bind can hold no NUL, so the split
         * between them and the content is unambiguous. */
        bool ok = ctx && EVP_MAC_init(ctx, key, CACHEMAC_KEY_LEN, params) == 1 &&
                  EVP_MAC_update(ctx, (const uint8_t *)MAC_DOMAIN, sizeof(MAC_DOMAIN)) == 1 &&
                  EVP_MAC_update(ctx, (const uint8_t *)kind, strlen(kind) + 1) == 1 &&
                  EVP_MAC_update(ctx, (const uint8_t *)bind, strlen(bind) + 1) == 1 &&
                  EVP_MAC_update(ctx, buf, len) == 1 && EVP_MAC_final(ctx, ret, &out, 32) == 1 &&
                  out == 32;
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
        return ok ? 0 : -EIO;
}

static int trailer(const char *kind, const char *bind, const void *buf, size_t len,
                   char out[CACHEMAC_TRAILER_LEN + 1])
{
        uint8_t mac[32];
        int r = cachemac_compute(kind, bind, buf, len, mac);
        if (r < 0)
                return r;
        memcpy(out, TRAILER_TAG, TRAILER_TAG_LEN);
        hex_encode(mac, sizeof(mac), out + TRAILER_TAG_LEN);
        out[CACHEMAC_TRAILER_LEN - 1] = '\n';
        out[CACHEMAC_TRAILER_LEN] = '\0';
        return 0;
}

int cachemac_seal(const char *kind, const char *bind, const void *buf, size_t len, char **ret,
                  size_t *ret_len)
{
        char t[CACHEMAC_TRAILER_LEN + 1];
        int r = trailer(kind, bind, buf, len, t);
        if (r < 0)
                return r;
        char *out = malloc(len + CACHEMAC_TRAILER_LEN + 1);
        if (!out)
                return -ENOMEM;
        if (len)
                memcpy(out, buf, len);
        memcpy(out + len, t, CACHEMAC_TRAILER_LEN + 1);
        *ret = out;
        *ret_len = len + CACHEMAC_TRAILER_LEN;
        return 0;
}

int64_t cachemac_check(const char *kind, const char *bind, const void *buf, size_t len)
{
        if (len < CACHEMAC_TRAILER_LEN)
                return -EBADMSG;
        size_t content = len - CACHEMAC_TRAILER_LEN;
        const char *have = (const char *)buf + content;
        if (memcmp(have, TRAILER_TAG, TRAILER_TAG_LEN) != 0)
                return -EBADMSG;
        char want[CACHEMAC_TRAILER_LEN + 1];
        int r = trailer(kind, bind, buf, content, want);
        if (r < 0)
                return r;
        /* Constant time: the comparison says nothing about how much of a forgery matched. */
        unsigned diff = 0;
        for (size_t i = 0; i < CACHEMAC_TRAILER_LEN; i++)
                diff |= (unsigned)(have[i] ^ want[i]);
        return diff ? -EBADMSG : (int64_t)content;
}

int cachemac_write(const char *path, const char *kind, const char *bind, const void *buf,
                   size_t len)
{
        char t[CACHEMAC_TRAILER_LEN + 1];
        int r = trailer(kind, bind, buf, len, t);
        if (r < 0)
                return r;
        /* Content and trailer written apart: a parsed index is tens of MiB, not copied. */
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp-%d-XXXXXX", path, (int)getpid()) < 0)
                return -ENOMEM;
        char *slash = strrchr(tmp, '/');
        if (slash) {
                /* ".tmp-PID-..." in the same directory: what stale-temp cleanup looks for. */
                _cleanup_free_ char *dir = strndup(tmp, (size_t)(slash - tmp));
                free(tmp);
                tmp = NULL;
                if (!dir || asprintf(&tmp, "%s/.tmp-%d-XXXXXX", dir, (int)getpid()) < 0)
                        return -ENOMEM;
        }
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = write_all(fd, buf, len);
        if (r >= 0)
                r = write_all(fd, t, CACHEMAC_TRAILER_LEN);
        if (r >= 0 && fchmod(fd, 0644) < 0)
                r = -errno;
        if (r >= 0 && close(steal_fd(&fd)) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

int cachemac_read(const char *path, size_t max, const char *kind, const char *bind, char **ret,
                  size_t *ret_len)
{
        const uint8_t *key;
        int r = cachemac_key(&key);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : -EBADMSG;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < CACHEMAC_TRAILER_LEN ||
            (uint64_t)st.st_size > (uint64_t)max + CACHEMAC_TRAILER_LEN)
                return -EBADMSG;
        size_t len = (size_t)st.st_size;
        _cleanup_free_ char *buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t got = 0; got < len;) {
                ssize_t n = read_retry(fd, buf + got, len - got);
                if (n <= 0)
                        return -EBADMSG; /* shrank while read, or unreadable */
                got += (size_t)n;
        }
        int64_t content = cachemac_check(kind, bind, buf, len);
        if (content < 0)
                return content == -EBADMSG ? -EBADMSG : (int)content;
        buf[content] = '\0';
        *ret_len = (size_t)content;
        *ret = steal_pointer(&buf);
        return 0;
}
