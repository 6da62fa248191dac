/* SPDX-License-Identifier: Apache-2.0 */
#include "debcache.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "base/digest.h"

#include "base/cachemac.h"
#include "tree/tree.h"

/* Bump when the format or what is recorded changes: older entries are then read as misses. */
#define DEBCACHE_MAGIC "cairn-deb-contents 2\n"
/* What the seal binds the list to, besides the .deb's SHA-256 (cachemac.h). */
#define DEBCACHE_KIND "unpacked"

struct deb_contents *deb_contents_new(void)
{
        return calloc(1, sizeof(struct deb_contents));
}

void deb_contents_free(struct deb_contents *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_members; i++) {
                free(c->members[i].path);
                free(c->members[i].target);
        }
        free(c->members);
        free(c->control);
        free(c);
}

int deb_contents_add(struct deb_contents *c, const struct deb_member *m)
{
        if (c->n_members >= DEBCACHE_MAX_MEMBERS)
                return -E2BIG;
        if (GROW(c->members, c->cap, c->n_members + 1) < 0)
                return -ENOMEM;
        struct deb_member *n = &c->members[c->n_members];
        *n = *m;
        n->path = strdup(m->path);
        n->target = m->target ? strdup(m->target) : NULL;
        if (!n->path || (m->target && !n->target)) {
                free(n->path);
                free(n->target);
                return -ENOMEM;
        }
        c->n_members++;
        return 0;
}

/* ---- the file: a header, then one line per member; strings are length-prefixed so that any
 * byte (newlines in names included) round-trips. ------------------------------------------ */

static void put_str(FILE *f, const char *s, size_t len)
{
        fprintf(f, "%zu:", len);
        fwrite(s, 1, len, f);
}

int debcache_write(const struct deb_contents *c, const char *path, const char *deb_sha256)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fputs(DEBCACHE_MAGIC, f);
        fprintf(f, "scripts %d\ncontrol ", c->has_scripts);
        put_str(f, c->control ? c->control : "", c->control ? c->control_len : 0);
        fprintf(f, "\nmembers %zu\n", c->n_members);
        for (size_t i = 0; i < c->n_members; i++) {
                const struct deb_member *m = &c->members[i];
                char key[STORE_KEY_HEX_LEN + 1];
                store_key_hex(&m->key, key);
                fprintf(f, "%c %o %" PRIu32 " %" PRIu32 " %" PRIu64 " %s ", (char)m->kind, m->mode,
                        m->uid, m->gid, m->size, key);
                put_str(f, m->path, strlen(m->path));
                fputc(' ', f);
                put_str(f, m->target ? m->target : "", m->target ? strlen(m->target) : 0);
                fputc('\n', f);
        }
        fputs("end\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;

        return cachemac_write(path, DEBCACHE_KIND, deb_sha256, text, len);
}

struct cursor {
        const char *p, *end;
};

static bool expect(struct cursor *c, const char *s)
{
        size_t n = strlen(s);
        if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
                return false;
        c->p += n;
        return true;
}

static bool get_u64(struct cursor *c, int base, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;
        const char *start = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= (base == 8 ? '7' : '9')) {
                uint64_t d = (uint64_t)(*c->p - '0');
                if (v > (max - d) / (uint64_t)base)
                        return false;
                v = v * (uint64_t)base + d;
                c->p++;
        }
        *ret = v;
        return c->p > start && c->p - start <= 20;
}

/* "LEN:BYTES" into an owned NUL-terminated string (NUL bytes are refused). */
static bool get_str(struct cursor *c, size_t max, char **ret, size_t *ret_len)
{
        uint64_t len;
        if (!get_u64(c, 10, max, &len) || !expect(c, ":") || (uint64_t)(c->end - c->p) < len ||
            memchr(c->p, '\0', len))
                return false;
        *ret = strndup(c->p, len);
        if (!*ret)
                return false;
        if (ret_len)
                *ret_len = len;
        c->p += len;
        return true;
}

static bool get_key(struct cursor *c, struct store_key *key)
{
        if (c->end - c->p < STORE_KEY_HEX_LEN)
                return false;
        for (size_t i = 0; i < sizeof(key->bytes); i++) {
                unsigned v = 0;
                for (int k = 0; k < 2; k++) {
                        char ch = c->p[2 * i + (size_t)k];
                        unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                                     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                                                              : 16;
                        if (d > 15)
                                return false;
                        v = v * 16 + d;
                }
                key->bytes[i] = (uint8_t)v;
        }
        c->p += STORE_KEY_HEX_LEN;
        return true;
}

static bool parse_member(struct cursor *c, struct deb_member *m)
{
        if (c->p >= c->end)
                return false;
        m->kind = (enum deb_member_kind)(unsigned char)*c->p++;
        if (m->kind != DEB_MEMBER_FILE && m->kind != DEB_MEMBER_DIR &&
            m->kind != DEB_MEMBER_SYMLINK && m->kind != DEB_MEMBER_SPECIAL &&
            m->kind != DEB_MEMBER_BAD_LINK)
                return false;
        uint64_t mode, uid, gid, size;
        size_t tlen = 0;
        if (!expect(c, " ") || !get_u64(c, 8, 07777, &mode) || !expect(c, " ") ||
            !get_u64(c, 10, UINT32_MAX, &uid) || !expect(c, " ") ||
            !get_u64(c, 10, UINT32_MAX, &gid) || !expect(c, " ") ||
            !get_u64(c, 10, UINT64_MAX, &size) || !expect(c, " ") || !get_key(c, &m->key) ||
            !expect(c, " ") || !get_str(c, 65536, &m->path, NULL) || !expect(c, " ") ||
            !get_str(c, 65536, &m->target, &tlen) || !expect(c, "\n"))
                return false;
        m->mode = (uint32_t)mode;
        m->uid = (uint32_t)uid;
        m->gid = (uint32_t)gid;
        m->size = size;
        if (tlen == 0 && m->kind != DEB_MEMBER_SYMLINK && m->kind != DEB_MEMBER_BAD_LINK) {
                free(m->target);
                m->target = NULL;
        }
        return m->path[0] == '/' && !tree_path_problem(m->path);
}

int debcache_read(const char *path, const char *deb_sha256, const struct store *store,
                  struct deb_contents **ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = cachemac_read(path, DEBCACHE_MAX_BYTES, DEBCACHE_KIND, deb_sha256, &buf, &len);
        if (r < 0)
                return r == -ENOENT || r == -EBADMSG || r == -ENOMEM ? r : -ENOENT;
        _cleanup_deb_contents_ struct deb_contents *dc = deb_contents_new();
        if (!dc)
                return -ENOMEM;
        struct cursor c = { buf, buf + len };
        uint64_t scripts, n;
        if (!expect(&c, DEBCACHE_MAGIC) || !expect(&c, "scripts ") ||
            !get_u64(&c, 10, 1, &scripts) || !expect(&c, "\ncontrol ") ||
            !get_str(&c, 1 << 20, &dc->control, &dc->control_len) || !expect(&c, "\nmembers ") ||
            !get_u64(&c, 10, DEBCACHE_MAX_MEMBERS, &n) || !expect(&c, "\n"))
                return -EBADMSG;
        dc->has_scripts = scripts;
        if (dc->control_len == 0) {
                free(dc->control);
                dc->control = NULL;
        }
        for (uint64_t i = 0; i < n; i++) {
                struct deb_member m = { 0 };
                bool ok = parse_member(&c, &m);
                int k = ok ? deb_contents_add(dc, &m) : -EBADMSG;
                free(m.path);
                free(m.target);
                if (k < 0)
                        return k == -ENOMEM ? k : -EBADMSG;
        }
        if (!expect(&c, "end\n") || c.p != c.end)
                return -EBADMSG;
        /* The list is authentic; the objects it names are checked against it, every one, on
         * every use: the cache may have been pruned by hand, or written by somebody else. */
        for (size_t i = 0; i < dc->n_members; i++) {
                const struct deb_member *m = &dc->members[i];
                if (m->kind != DEB_MEMBER_FILE)
                        continue;
                r = store_check_object(store, &m->key, m->size);
                if (r < 0)
                        return r == -ESTALE ? r : -EBADMSG;
        }
        *ret = steal_pointer(&dc);
        return 0;
}

bool debcache_sealed(const char *path, const char *deb_sha256)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        return cachemac_read(path, DEBCACHE_MAX_BYTES, DEBCACHE_KIND, deb_sha256, &buf, &len) >= 0;
}

int64_t debcache_deb_check(const char *path, const char *sha256, uint64_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : -EBADMSG;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size && (uint64_t)st.st_size != size))
                return -EBADMSG;
        char have[DIGEST_HEX_MAX];
        if (digest_fd_hex(DIGEST_SHA256, fd, have) < 0 || !streq(have, sha256))
                return -EBADMSG;
        return (int64_t)st.st_size;
}
