/* SPDX-License-Identifier: Apache-2.0 */
#include "cabundle.h"

#include <stdlib.h>
#include <string.h>

/* The relative name as ca-certificates.conf would carry it, or NULL when it would not. */
static const char *conf_name(const struct deb_member *m)
{
        if (m->kind != DEB_MEMBER_FILE || !startswith(m->path, CABUNDLE_CERTS_DIR))
                return NULL;
        const char *rel = m->path + strlen(CABUNDLE_CERTS_DIR);
        size_t len = strlen(rel);
        if (len < strlen(".crt") || !streq(rel + len - strlen(".crt"), ".crt"))
                return NULL;
        if (rel[0] == '#' || rel[0] == '!' || strpbrk(rel, " \t\n\r\v\f,"))
                return NULL;
        return rel;
}

static int member_cmp(const void *a, const void *b)
{
        const struct deb_member *x = *(const struct deb_member *const *)a;
        const struct deb_member *y = *(const struct deb_member *const *)b;
        int r = strcmp(x->path, y->path);
        /* Archive order among equal paths: dpkg keeps the last one it unpacked. */
        return r ? r : x < y ? -1 : x > y;
}

static int append_object(FILE *f, const struct store *s, const struct deb_member *m,
                         const char *origin, size_t *total, struct cairn_error *err)
{
        _cleanup_close_ int fd = store_open_key(s, &m->key);
        if (fd < 0)
                return cairn_error_errno(err, fd, "%s: %s: %s", origin, m->path, strerror(-fd));
        char buf[65536];
        char last = '\n';
        uint64_t got = 0;
        for (;;) {
                ssize_t n = read_retry(fd, buf, sizeof(buf));
                if (n < 0)
                        return cairn_error_errno(err, (int)n, "%s: %s: %s", origin, m->path,
                                                 strerror((int)-n));
                if (n == 0)
                        break;
                got += (uint64_t)n;
                *total += (size_t)n;
                if (*total > CABUNDLE_MAX_BYTES)
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EFBIG,
                                               "%s: the CA bundle would be larger than %llu "
                                               "bytes",
                                               origin, (unsigned long long)CABUNDLE_MAX_BYTES);
                if (fwrite(buf, 1, (size_t)n, f) != (size_t)n)
                        return -ENOMEM;
                last = buf[n - 1];
        }
        if (got != m->size)
                return cairn_error_add(err, CAIRN_EXIT_IO, -EIO,
                                       "%s: %s: the stored object has %llu bytes, not %llu", origin,
                                       m->path, (unsigned long long)got,
                                       (unsigned long long)m->size);
        if (last != '\n') {
                fputc('\n', f);
                (*total)++;
        }
        return 0;
}

int cabundle_build(const struct deb_contents *dc, const struct store *s, const char *origin,
                   char **ret, size_t *ret_len, size_t *ret_count, struct cairn_error *err)
{
        _cleanup_free_ const struct deb_member **certs = calloc(dc->n_members + 1, sizeof(*certs));
        if (!certs)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < dc->n_members; i++)
                if (conf_name(&dc->members[i]))
                        certs[n++] = &dc->members[i];
        if (n == 0)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                       "%s has no certificates (*.crt below %s); certificates: "
                                       "names a package like ca-certificates",
                                       origin, CABUNDLE_CERTS_DIR);
        /* The common prefix leaves the order of the relative names. */
        qsort(certs, n, sizeof(*certs), member_cmp);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, total = 0, count = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (i + 1 < n && streq(certs[i]->path, certs[i + 1]->path))
                        continue;
                int r = append_object(f, s, certs[i], origin, &total, err);
                if (r < 0)
                        return r;
                count++;
        }
        if (fclose(steal_pointer(&f)) != 0)
                return -ENOMEM;
        *ret = steal_pointer(&buf);
        *ret_len = len;
        *ret_count = count;
        return 0;
}
