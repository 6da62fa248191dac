/* SPDX-License-Identifier: Apache-2.0 */
#include "untar.h"

static int open_common(struct untar *u, const char *what, enum cairn_exit exit)
{
        *u = (struct untar){ .what = what, .exit = exit };
        u->a = archive_read_new();
        if (!u->a)
                return -ENOMEM;
        archive_read_support_filter_all(u->a);
        archive_read_support_format_tar(u->a);
        archive_read_support_format_gnutar(u->a);
        return 0;
}

static int open_failed(struct untar *u, struct cairn_error *err)
{
        int r = cairn_error_add(err, u->exit, -EINVAL, "%s: %s", u->what,
                                archive_error_string(u->a) ? archive_error_string(u->a)
                                                           : "not a tar archive");
        untar_close(u);
        return r;
}

int untar_open_fd(struct untar *u, int fd, const char *what, enum cairn_exit exit,
                  struct cairn_error *err)
{
        int r = open_common(u, what, exit);
        if (r < 0)
                return r;
        if (archive_read_open_fd(u->a, fd, 64 * 1024) != ARCHIVE_OK)
                return open_failed(u, err);
        return 0;
}

int untar_open_cb(struct untar *u, void *data, archive_read_callback *read_cb, const char *what,
                  enum cairn_exit exit, struct cairn_error *err)
{
        int r = open_common(u, what, exit);
        if (r < 0)
                return r;
        if (archive_read_open(u->a, data, NULL, read_cb, NULL) != ARCHIVE_OK)
                return open_failed(u, err);
        return 0;
}

void untar_close(struct untar *u)
{
        if (u->a)
                archive_read_free(u->a);
        u->a = NULL;
        free(u->entry);
        u->entry = NULL;
}

/* The bomb check, after every chunk: bytes out (entry data, or the tar stream itself when that
 * is larger) against bytes read from the file. */
static int check_expansion(struct untar *u, struct cairn_error *err)
{
        la_int64_t in = archive_filter_bytes(u->a, -1);
        la_int64_t stream = archive_filter_bytes(u->a, 0);
        uint64_t out = u->out > (uint64_t)stream ? u->out : (uint64_t)stream;
        uint64_t base = in > 0 ? (uint64_t)in : 1;
        if (out <= UNTAR_EXPANSION_FLOOR || out / base < UNTAR_EXPANSION_MAX)
                return 0;
        return cairn_error_add(err, u->exit, -EFBIG,
                               "%s%s%s%s: %llu bytes unpacked from %llu read: refused as a "
                               "decompression bomb (limit: %d times the compressed size once past "
                               "%llu MiB)",
                               u->what, u->entry ? ": entry '" : "", u->entry ? u->entry : "",
                               u->entry ? "'" : "", (unsigned long long)out,
                               (unsigned long long)base, UNTAR_EXPANSION_MAX,
                               UNTAR_EXPANSION_FLOOR >> 20);
}

ssize_t untar_read(struct untar *u, void *buf, size_t len, struct cairn_error *err)
{
        if (!u->in_entry)
                return 0;
        la_ssize_t n = archive_read_data(u->a, buf, len);
        if (n < 0) {
                const char *msg = archive_error_string(u->a);
                return cairn_error_add(err, u->exit, -EIO, "%s: entry '%s': %s", u->what,
                                       u->entry ? u->entry : "", msg ? msg : "read error");
        }
        u->out += (uint64_t)n;
        int r = check_expansion(u, err);
        return r < 0 ? r : n;
}

int untar_next(struct untar *u, struct archive_entry **ret_entry, struct cairn_error *err)
{
        /* Skipping would decompress the rest of the entry unchecked: drain it instead. */
        uint8_t buf[16384];
        while (u->in_entry) {
                ssize_t n = untar_read(u, buf, sizeof(buf), err);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        break;
        }
        u->in_entry = false;
        free(u->entry);
        u->entry = NULL;
        struct archive_entry *ae;
        int ar = archive_read_next_header(u->a, &ae);
        if (ar == ARCHIVE_EOF)
                return 0;
        /* A charset warning: the name could not be converted to the C locale, and libarchive
         * kept its bytes as they are. That is what cairn wants; any other warning is not.
         * libarchive reports charset failures as ARCHIVE_ERRNO_FILE_FORMAT, which is EILSEQ on
         * Linux but not in its public header. */
        bool charset_only = ar == ARCHIVE_WARN && archive_errno(u->a) == EILSEQ;
        if (ar != ARCHIVE_OK && !charset_only) {
                const char *msg = archive_error_string(u->a);
                return cairn_error_add(err, u->exit, -EBADMSG, "%s: %s", u->what,
                                       msg ? msg : "damaged archive");
        }
        if (!archive_entry_pathname(ae))
                return cairn_error_add(err, u->exit, -EBADMSG, "%s: an entry without a name",
                                       u->what);
        u->entry = str_escape(archive_entry_pathname(ae), 200);
        if (!u->entry)
                return -ENOMEM;
        int r = check_expansion(u, err);
        if (r < 0)
                return r;
        u->in_entry = true;
        *ret_entry = ae;
        return 1;
}
