/* SPDX-License-Identifier: Apache-2.0 */
#include "store.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <xxhash.h>

/* Published digests of one object (store_object_digests). */
struct memo_entry {
        struct store_key key;
        uint8_t sha1[20];
        uint8_t sha256[32];
};

struct store {
        char *dir;                    /* owned */
        int dirfd;                    /* owned */
        const struct store *fallback; /* borrowed; may be NULL */
        bool shared;                  /* written by others too (CACHE/objects): never trusted */

        pthread_mutex_t memo_lock; /* guards the memo */
        struct memo_entry *memo;   /* owned; memo_n entries in insertion order */
        size_t memo_n, memo_cap;
        uint32_t *memo_index;  /* owned; open addressing, entry index + 1, 0 = empty */
        size_t memo_index_cap; /* a power of two, or 0 */
};

struct store_writer {
        struct store *store; /* borrowed */
        int fd;              /* owned; the temporary file */
        char *tmpname;       /* owned; name of the temporary file inside the store */
        XXH3_state_t *hash;  /* owned */
        uint64_t size, max_size;
};

int store_open(const char *dir, struct store **ret, struct cairn_error *err)
{
        int r = mkdir_p(dir, 0755);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: cannot create store: %s", dir, strerror(-r));
        _cleanup_free_ struct store *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->dir = strdup(dir);
        if (!s->dir)
                return -ENOMEM;
        pthread_mutex_init(&s->memo_lock, NULL);
        s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dirfd < 0) {
                r = -errno;
                free(s->dir);
                pthread_mutex_destroy(&s->memo_lock);
                return cairn_error_errno(err, r, "%s: cannot open store: %s", dir, strerror(-r));
        }
        *ret = steal_pointer(&s);
        return 0;
}

void store_free(struct store *s)
{
        if (!s)
                return;
        if (s->dirfd >= 0)
                close(s->dirfd);
        free(s->dir);
        free(s->memo);
        free(s->memo_index);
        pthread_mutex_destroy(&s->memo_lock);
        free(s);
}

const char *store_dir(const struct store *s)
{
        return s->dir;
}

void store_key_hex(const struct store_key *key, char out[STORE_KEY_HEX_LEN + 1])
{
        hex_encode(key->bytes, sizeof(key->bytes), out);
}

int store_key_cmp(const struct store_key *a, const struct store_key *b)
{
        return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

/* "xx/yyyy..." relative to the store directory. */
static void object_name(const struct store_key *key, char out[STORE_KEY_HEX_LEN + 2])
{
        char hex[STORE_KEY_HEX_LEN + 1];
        store_key_hex(key, hex);
        out[0] = hex[0];
        out[1] = hex[1];
        out[2] = '/';
        memcpy(out + 3, hex + 2, STORE_KEY_HEX_LEN - 2 + 1);
}

int store_writer_new(struct store *s, uint64_t max_size, struct store_writer **ret,
                     struct cairn_error *err)
{
        _cleanup_store_writer_ struct store_writer *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->fd = -1;
        w->store = s;
        w->max_size = max_size;
        w->hash = XXH3_createState();
        if (!w->hash || XXH3_128bits_reset(w->hash) != XXH_OK)
                return -ENOMEM;
        if (asprintf(&w->tmpname, ".tmp-%d-XXXXXX", (int)getpid()) < 0) {
                w->tmpname = NULL;
                return -ENOMEM;
        }
        _cleanup_free_ char *full = NULL;
        if (asprintf(&full, "%s/%s", s->dir, w->tmpname) < 0)
                return -ENOMEM;
        w->fd = mkostemp(full, O_CLOEXEC);
        if (w->fd < 0)
                return cairn_error_errno(err, -errno, "%s: cannot create object: %m", s->dir);
        free(w->tmpname);
        w->tmpname = strdup(full + strlen(s->dir) + 1);
        if (!w->tmpname)
                return -ENOMEM;
        *ret = steal_pointer(&w);
        return 0;
}

#define HOLE_BLOCK 4096 /* all-zero blocks this size, at this alignment, become holes */

static bool block_is_zero(const uint8_t *p, size_t n)
{
        return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

static int writer_skip(struct store_writer *w, uint64_t n, struct cairn_error *err)
{
        if (n > INT64_MAX || lseek(w->fd, (off_t)n, SEEK_CUR) < 0)
                return cairn_error_errno(err, -errno, "%s: writing object: %m", w->store->dir);
        return 0;
}

/*
 * Objects keep zeros as holes: an aligned all-zero block is skipped instead of written, so a
 * sparse file (a program moved past a gigabyte of nothing) costs its data, not its size, on
 * disk and to the enforcer's scan (SEEK_DATA). The bytes read back are the same.
 */
int store_writer_write(struct store_writer *w, const void *buf, size_t len, struct cairn_error *err)
{
        if (len > w->max_size - w->size || w->size + len > w->max_size)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EFBIG,
                                       "object larger than the limit of %llu bytes",
                                       (unsigned long long)w->max_size);
        if (XXH3_128bits_update(w->hash, buf, len) != XXH_OK)
                return -EIO;
        const uint8_t *p = buf;
        size_t i = 0, run = 0; /* p[run..i) is still to be written */
        while (i < len) {
                size_t blk = HOLE_BLOCK - (size_t)((w->size + i) % HOLE_BLOCK);
                if (blk > len - i)
                        blk = len - i;
                if (blk == HOLE_BLOCK && block_is_zero(p + i, blk)) {
                        int r = write_all(w->fd, p + run, i - run);
                        if (r < 0)
                                return cairn_error_errno(err, r, "%s: writing object: %s",
                                                         w->store->dir, strerror(-r));
                        r = writer_skip(w, blk, err);
                        if (r < 0)
                                return r;
                        run = i + blk;
                }
                i += blk;
        }
        int r = write_all(w->fd, p + run, len - run);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: writing object: %s", w->store->dir,
                                         strerror(-r));
        w->size += len;
        return 0;
}

int store_writer_write_zeros(struct store_writer *w, uint64_t n, struct cairn_error *err)
{
        if (n > w->max_size - w->size)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EFBIG,
                                       "object larger than the limit of %llu bytes",
                                       (unsigned long long)w->max_size);
        static const uint8_t zeros[64 * 1024];
        for (uint64_t left = n; left > 0;) {
                size_t k = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
                if (XXH3_128bits_update(w->hash, zeros, k) != XXH_OK)
                        return -EIO;
                left -= k;
        }
        int r = writer_skip(w, n, err);
        if (r < 0)
                return r;
        w->size += n;
        return 0;
}

int store_writer_commit(struct store_writer *w, struct store_key *ret_key, uint64_t *ret_size,
                        struct cairn_error *err)
{
        _cleanup_store_writer_ struct store_writer *owned = w;
        XXH128_hash_t h = XXH3_128bits_digest(w->hash);
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, h);
        struct store_key key;
        memcpy(key.bytes, c.digest, sizeof(key.bytes));

        char name[STORE_KEY_HEX_LEN + 2];
        object_name(&key, name);
        name[2] = '\0';
        if (mkdirat(w->store->dirfd, name, 0755) < 0 && errno != EEXIST)
                return cairn_error_errno(err, -errno, "%s/%s: %m", w->store->dir, name);
        name[2] = '/';

        /* In a shared store an object is always replaced, never assumed: what sits under the
         * name may be anything (another object, a symlink), and rename(2) swaps it for the
         * bytes just hashed. A private store holds only what this build wrote. */
        struct stat st;
        if (!w->store->shared && fstatat(w->store->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode) && (uint64_t)st.st_size == w->size) {
                *ret_key = key;
                if (ret_size)
                        *ret_size = w->size;
                return 0;
        }
        /* A trailing hole was skipped, not written: the size comes from here. */
        if (w->size > INT64_MAX || ftruncate(w->fd, (off_t)w->size) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", w->store->dir);
        if (fchmod(w->fd, 0444) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", w->store->dir);
        if (renameat(w->store->dirfd, w->tmpname, w->store->dirfd, name) < 0)
                return cairn_error_errno(err, -errno, "%s/%s: %m", w->store->dir, name);
        free(w->tmpname);
        w->tmpname = NULL;
        *ret_key = key;
        if (ret_size)
                *ret_size = w->size;
        return 0;
}

void store_writer_free(struct store_writer *w)
{
        if (!w)
                return;
        int saved = errno;
        if (w->fd >= 0)
                close(w->fd);
        if (w->tmpname)
                (void)unlinkat(w->store->dirfd, w->tmpname, 0);
        free(w->tmpname);
        if (w->hash)
                XXH3_freeState(w->hash);
        free(w);
        errno = saved;
}

/* Copies fd from its offset to its end; holes (SEEK_DATA/SEEK_HOLE) are hashed as zeros, never
 * read. Returns the number of bytes consumed, or -errno. */
static int copy_sparse(struct store_writer *w, int fd, uint8_t *buf, size_t bufsize,
                       struct cairn_error *err)
{
        struct stat st;
        off_t pos = lseek(fd, 0, SEEK_CUR);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || pos < 0)
                return 1; /* not a regular file: plain reads */
        while (pos < st.st_size) {
                off_t data = lseek(fd, pos, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        data = st.st_size; /* only a hole is left */
                else if (data < 0)
                        return pos == 0 ? 1 : cairn_error_errno(err, -errno, "seeking: %m");
                if (data > st.st_size)
                        data = st.st_size;
                int r = store_writer_write_zeros(w, (uint64_t)(data - pos), err);
                if (r < 0)
                        return r;
                pos = data;
                if (pos >= st.st_size)
                        break;
                off_t hole = lseek(fd, pos, SEEK_HOLE);
                if (hole < 0 || hole > st.st_size)
                        hole = st.st_size;
                while (pos < hole) {
                        size_t want =
                                (uint64_t)(hole - pos) < bufsize ? (size_t)(hole - pos) : bufsize;
                        ssize_t n = pread(fd, buf, want, pos);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return cairn_error_errno(err, -errno, "reading: %m");
                        if (n == 0)
                                return 0; /* shrank while read: what was there is stored */
                        r = store_writer_write(w, buf, (size_t)n, err);
                        if (r < 0)
                                return r;
                        pos += n;
                }
        }
        return 0;
}

int store_put_fd(struct store *s, int fd, uint64_t max_size, struct store_key *ret_key,
                 uint64_t *ret_size, struct cairn_error *err)
{
        _cleanup_store_writer_ struct store_writer *w = NULL;
        int r = store_writer_new(s, max_size, &w, err);
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *buf = malloc(128 * 1024);
        if (!buf)
                return -ENOMEM;
        r = copy_sparse(w, fd, buf, 128 * 1024, err);
        if (r < 0)
                return r;
        for (; r > 0;) { /* not seekable: read to the end */
                ssize_t n = read_retry(fd, buf, 128 * 1024);
                if (n < 0)
                        return cairn_error_errno(err, (int)n, "reading: %s", strerror((int)-n));
                if (n == 0)
                        break;
                r = store_writer_write(w, buf, (size_t)n, err);
                if (r < 0)
                        return r;
                r = 1;
        }
        return store_writer_commit(steal_pointer(&w), ret_key, ret_size, err);
}

int store_put_buf(struct store *s, const void *buf, size_t len, struct store_key *ret_key,
                  struct cairn_error *err)
{
        _cleanup_store_writer_ struct store_writer *w = NULL;
        int r = store_writer_new(s, len, &w, err);
        if (r < 0)
                return r;
        r = store_writer_write(w, buf, len, err);
        if (r < 0)
                return r;
        return store_writer_commit(steal_pointer(&w), ret_key, NULL, err);
}

void store_set_shared(struct store *s)
{
        s->shared = true;
}

void store_set_fallback(struct store *s, const struct store *fallback)
{
        s->fallback = fallback;
}

int store_open_key(const struct store *s, const struct store_key *key)
{
        char name[STORE_KEY_HEX_LEN + 2];
        object_name(key, name);
        int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT && s->fallback)
                return store_open_key(s->fallback, key);
        if (fd < 0)
                return errno == ELOOP ? -EBADMSG : -errno;
        /* Objects are regular files: a symlink (refused above), fifo or device in their place
         * is not one. */
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return -EBADMSG;
        }
        return fd;
}

int store_check_object(const struct store *s, const struct store_key *key, uint64_t size)
{
        _cleanup_close_ int fd = store_open_key(s, key);
        if (fd < 0)
                return fd == -ENOENT ? -ESTALE : -EBADMSG;
        struct stat st;
        if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size)
                return -EBADMSG;
        XXH3_state_t *h = XXH3_createState();
        _cleanup_free_ uint8_t *buf = malloc(128 * 1024);
        int r = h && buf && XXH3_128bits_reset(h) == XXH_OK ? 0 : -ENOMEM;
        uint64_t got = 0;
        while (r == 0) {
                ssize_t n = read_retry(fd, buf, 128 * 1024);
                if (n < 0)
                        r = -EBADMSG;
                if (n <= 0)
                        break;
                got += (uint64_t)n;
                if (XXH3_128bits_update(h, buf, (size_t)n) != XXH_OK)
                        r = -EIO;
        }
        if (r == 0) {
                XXH128_canonical_t c;
                XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h));
                if (got != size || memcmp(c.digest, key->bytes, sizeof(key->bytes)) != 0)
                        r = -EBADMSG;
        }
        if (h)
                XXH3_freeState(h);
        return r;
}

/* Keys are XXH3 output: any 8 of their bytes are already a good hash. */
static size_t memo_slot(const struct store_key *key, size_t cap)
{
        uint64_t h;
        memcpy(&h, key->bytes, sizeof(h));
        return (size_t)(h & (cap - 1));
}

/* The entry for key, or NULL. Called with memo_lock held. */
static const struct memo_entry *memo_find(const struct store *s, const struct store_key *key)
{
        if (s->memo_index_cap == 0)
                return NULL;
        for (size_t i = memo_slot(key, s->memo_index_cap);; i = (i + 1) & (s->memo_index_cap - 1)) {
                uint32_t at = s->memo_index[i];
                if (at == 0)
                        return NULL;
                if (store_key_cmp(&s->memo[at - 1].key, key) == 0)
                        return &s->memo[at - 1];
        }
}

/* Adds e (whose key is not in the memo yet). Called with memo_lock held. */
static int memo_add(struct store *s, const struct memo_entry *e)
{
        if (s->memo_n >= UINT32_MAX - 1)
                return -E2BIG;
        /* Keep the index at most half full: short probes. */
        if (2 * (s->memo_n + 1) > s->memo_index_cap) {
                size_t cap = s->memo_index_cap ? 2 * s->memo_index_cap : 1024;
                uint32_t *index = calloc(cap, sizeof(*index));
                if (!index)
                        return -ENOMEM;
                for (size_t k = 0; k < s->memo_n; k++) {
                        size_t i = memo_slot(&s->memo[k].key, cap);
                        while (index[i] != 0)
                                i = (i + 1) & (cap - 1);
                        index[i] = (uint32_t)(k + 1);
                }
                free(s->memo_index);
                s->memo_index = index;
                s->memo_index_cap = cap;
        }
        if (GROW(s->memo, s->memo_cap, s->memo_n + 1) < 0)
                return -ENOMEM;
        s->memo[s->memo_n++] = *e;
        size_t i = memo_slot(&e->key, s->memo_index_cap);
        while (s->memo_index[i] != 0)
                i = (i + 1) & (s->memo_index_cap - 1);
        s->memo_index[i] = (uint32_t)s->memo_n;
        return 0;
}

int store_object_digests(const struct store *cs, const struct store_key *key,
                         char ret_sha1[DIGEST_HEX_MAX], char ret_sha256[DIGEST_HEX_MAX])
{
        /* The memo is the only thing written, under its lock (see the header). */
        struct store *s = (struct store *)cs;
        pthread_mutex_lock(&s->memo_lock);
        const struct memo_entry *hit = memo_find(s, key);
        struct memo_entry e = { .key = *key };
        if (hit)
                e = *hit;
        pthread_mutex_unlock(&s->memo_lock);
        if (!hit) {
                /* Hashed outside the lock: two threads may both hash a new object, and the
                 * second insert is skipped; the digests are the same. */
                _cleanup_close_ int fd = store_open_key(s, key);
                if (fd < 0)
                        return fd;
                _cleanup_digest_ struct digest *d1 = digest_new(DIGEST_SHA1);
                _cleanup_digest_ struct digest *d256 = digest_new(DIGEST_SHA256);
                _cleanup_free_ uint8_t *buf = malloc(128 * 1024);
                if (!d1 || !d256 || !buf)
                        return -ENOMEM;
                for (;;) {
                        ssize_t n = read_retry(fd, buf, 128 * 1024);
                        if (n < 0)
                                return (int)n;
                        if (n == 0)
                                break;
                        digest_update(d1, buf, (size_t)n);
                        digest_update(d256, buf, (size_t)n);
                }
                uint8_t bin[DIGEST_MAX_LEN];
                digest_final_bin(d1, bin);
                memcpy(e.sha1, bin, sizeof(e.sha1));
                digest_final_bin(d256, bin);
                memcpy(e.sha256, bin, sizeof(e.sha256));
                pthread_mutex_lock(&s->memo_lock);
                int r = memo_find(s, key) ? 0 : memo_add(s, &e);
                pthread_mutex_unlock(&s->memo_lock);
                if (r < 0)
                        return r;
        }
        hex_encode(e.sha1, sizeof(e.sha1), ret_sha1);
        hex_encode(e.sha256, sizeof(e.sha256), ret_sha256);
        return 0;
}
