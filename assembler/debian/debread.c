/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading one .deb into a deb_contents, never running anything from it. A .deb is an ar
 * archive holding control.tar.* and data.tar.* (xz, zstd, gzip, bzip2 or none); both are read
 * as streams straight out of the ar member. Every member of data.tar is checked and
 * normalised, every file's contents go into the objects store; what a variant wants is picked
 * afterwards (stages/unpack.c), so the reading is the same for every use and can be cached.
 * Entries that escape the root are refused with the package named; device nodes and hardlinks
 * to files outside the package are recorded as such and refused when placed.
 */
#include "debcache.h"

#include <archive.h>
#include <archive_entry.h>

#include "base/untar.h"
#include "tree/tree.h"

#define DEB_MEMBER_MAX  (4ULL << 30)
#define DEB_ENTRIES_MAX DEBCACHE_MAX_MEMBERS
#define CONTROL_MAX     (1 << 20)

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)

struct member_reader {
        struct archive *outer; /* borrowed: positioned on the member */
        uint8_t buf[65536];
};

static la_ssize_t member_read(struct archive *a, void *data, const void **out)
{
        struct member_reader *m = data;
        la_ssize_t n = archive_read_data(m->outer, m->buf, sizeof(m->buf));
        if (n < 0)
                archive_set_error(a, EIO, "%s", archive_error_string(m->outer));
        *out = m->buf;
        return n;
}

struct deb_reader {
        const char *origin;      /* "package NAME VERSION" */
        struct store *objects;   /* borrowed */
        struct deb_contents *dc; /* borrowed */
        uint32_t *files;         /* owned; hash of file paths -> member index + 1 */
        size_t files_cap;        /* a power of two */
        size_t n_files;
};

static size_t path_slot(const char *path, size_t cap)
{
        size_t h = 1469598103934665603ULL;
        for (const unsigned char *p = (const unsigned char *)path; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        return h & (cap - 1);
}

/* The file member at path read so far (for hardlinks), or NULL. */
static const struct deb_member *reader_file(const struct deb_reader *r, const char *path)
{
        if (!r->files_cap)
                return NULL;
        for (size_t i = path_slot(path, r->files_cap); r->files[i];
             i = (i + 1) & (r->files_cap - 1)) {
                const struct deb_member *m = &r->dc->members[r->files[i] - 1];
                if (streq(m->path, path))
                        return m;
        }
        return NULL;
}

static int reader_add_file(struct deb_reader *r, size_t index)
{
        if (2 * (r->n_files + 1) > r->files_cap) {
                size_t cap = r->files_cap ? 2 * r->files_cap : 64;
                uint32_t *n = calloc(cap, sizeof(*n));
                if (!n)
                        return -ENOMEM;
                for (size_t i = 0; i < r->files_cap; i++)
                        if (r->files[i]) {
                                const char *p = r->dc->members[r->files[i] - 1].path;
                                size_t k = path_slot(p, cap);
                                while (n[k])
                                        k = (k + 1) & (cap - 1);
                                n[k] = r->files[i];
                        }
                free(r->files);
                r->files = n;
                r->files_cap = cap;
        }
        const char *p = r->dc->members[index].path;
        size_t k = path_slot(p, r->files_cap);
        while (r->files[k])
                k = (k + 1) & (r->files_cap - 1);
        r->files[k] = (uint32_t)(index + 1);
        r->n_files++;
        return 0;
}

static int read_control(struct deb_reader *rd, struct untar *u, struct cairn_error *err)
{
        struct deb_contents *dc = rd->dc;
        struct archive_entry *ae;
        int r;
        while ((r = untar_next(u, &ae, err)) > 0) {
                _cleanup_free_ char *p = NULL;
                if (tree_path_normalize(archive_entry_pathname(ae), &p) < 0)
                        continue;
                if (streq(p, "/preinst") || streq(p, "/postinst") || streq(p, "/prerm") ||
                    streq(p, "/postrm"))
                        dc->has_scripts = true;
                if (!streq(p, "/control") || archive_entry_size(ae) > CONTROL_MAX)
                        continue;
                size_t size = (size_t)archive_entry_size(ae);
                free(dc->control);
                dc->control = malloc(size + 2);
                if (!dc->control)
                        return -ENOMEM;
                size_t len = 0;
                for (;;) {
                        ssize_t n = untar_read(u, dc->control + len, size - len, err);
                        if (n < 0)
                                return (int)n;
                        if (n == 0 || (len += (size_t)n) == size)
                                break;
                }
                dc->control_len = len;
                if (dc->control_len == 0 || dc->control[dc->control_len - 1] != '\n')
                        dc->control[dc->control_len++] = '\n';
                dc->control[dc->control_len] = '\0';
        }
        return r;
}

static int store_data(struct deb_reader *rd, struct untar *u, struct deb_member *m,
                      struct cairn_error *err)
{
        _cleanup_store_writer_ struct store_writer *w = NULL;
        int r = store_writer_new(rd->objects, DEB_MEMBER_MAX, &w, err);
        if (r < 0)
                return r;
        uint8_t buf[65536];
        for (;;) {
                ssize_t n = untar_read(u, buf, sizeof(buf), err);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        break;
                r = store_writer_write(w, buf, (size_t)n, err);
                if (r < 0)
                        return cairn_error_wrap(err, r, "%s: %s", rd->origin, m->path);
        }
        return store_writer_commit(steal_pointer(&w), &m->key, &m->size, err);
}

/* A data.tar entry's name, checked: '..', over-long names and invalid UTF-8 are refused with the
 * package named (leading '/' and './' are how dpkg-deb writes names). */
static int deb_name(const char *origin, const char *raw, const char *kind, char **ret,
                    struct cairn_error *err)
{
        _cleanup_free_ char *shown = str_escape(raw, 200);
        if (!shown)
                return -ENOMEM;
        const char *why = tree_path_problem(raw);
        if (why)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPERM, "%s: %s '%s' %s", origin,
                                       kind, shown, why);
        if (tree_path_normalize(raw, ret) < 0)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPERM,
                                       "%s: %s '%s' escapes the root", origin, kind, shown);
        return 0;
}

/* One data.tar entry into a member. Nothing is refused here that a variant might not want:
 * device nodes and hardlinks to outside are recorded as such and refused when placed. */
static int read_entry(struct deb_reader *rd, struct untar *u, struct archive_entry *ae,
                      struct cairn_error *err)
{
        _cleanup_free_ char *p = NULL, *link = NULL;
        int r = deb_name(rd->origin, archive_entry_pathname(ae), "entry", &p, err);
        if (r < 0)
                return r;
        if (streq(p, "/"))
                return 0;
        mode_t type = archive_entry_filetype(ae);
        struct deb_member m = {
                .path = p,
                .mode = archive_entry_perm(ae) & 07777,
                .uid = (uint32_t)archive_entry_uid(ae),
                .gid = (uint32_t)archive_entry_gid(ae),
        };
        if (archive_entry_hardlink(ae)) {
                r = deb_name(rd->origin, archive_entry_hardlink(ae), "hardlink target", &link, err);
                if (r < 0)
                        return r;
                /* Only to an earlier file of this same package: never another package's. */
                const struct deb_member *t = reader_file(rd, link);
                if (t) {
                        m.kind = DEB_MEMBER_FILE;
                        m.key = t->key;
                        m.size = t->size;
                } else {
                        m.kind = DEB_MEMBER_BAD_LINK;
                        m.target = link;
                }
        } else if (type == AE_IFREG) {
                m.kind = DEB_MEMBER_FILE;
                r = store_data(rd, u, &m, err);
                if (r < 0)
                        return r;
        } else if (type == AE_IFDIR) {
                m.kind = DEB_MEMBER_DIR;
        } else if (type == AE_IFLNK) {
                m.kind = DEB_MEMBER_SYMLINK;
                m.target = (char *)(archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "");
        } else
                m.kind = DEB_MEMBER_SPECIAL;
        r = deb_contents_add(rd->dc, &m);
        if (r == -E2BIG)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, r, "%s: more than %d entries",
                                       rd->origin, DEB_ENTRIES_MAX);
        if (r >= 0 && m.kind == DEB_MEMBER_FILE && !archive_entry_hardlink(ae))
                r = reader_add_file(rd, rd->dc->n_members - 1);
        return r;
}

static int read_data(struct deb_reader *rd, struct untar *u, struct cairn_error *err)
{
        struct archive_entry *ae;
        int r;
        while ((r = untar_next(u, &ae, err)) > 0) {
                r = read_entry(rd, u, ae, err);
                if (r < 0)
                        return r;
        }
        return r;
}

int debread(const char *origin, const char *path, struct store *objects, struct deb_contents **ret,
            struct cairn_error *err)
{
        _cleanup_deb_contents_ struct deb_contents *dc = deb_contents_new();
        if (!dc)
                return -ENOMEM;
        struct deb_reader rd = { .origin = origin, .objects = objects, .dc = dc };
        _cleanup_(archive_read_freep) struct archive *outer = archive_read_new();
        if (!outer)
                return -ENOMEM;
        archive_read_support_format_ar(outer);
        if (archive_read_open_filename(outer, path, 65536) != ARCHIVE_OK)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EIO, "%s: %s", origin,
                                       archive_error_string(outer));
        struct archive_entry *ae;
        bool seen_data = false;
        int ar, r = 0;
        while (r >= 0 && (ar = archive_read_next_header(outer, &ae)) == ARCHIVE_OK) {
                const char *name = archive_entry_pathname(ae);
                bool control = name && startswith(name, "control.tar");
                bool data = name && startswith(name, "data.tar");
                if (!control && !data)
                        continue;
                _cleanup_free_ char *what = NULL;
                if (asprintf(&what, "%s: %s", origin, name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                _cleanup_free_ struct member_reader *m = calloc(1, sizeof(*m));
                if (!m) {
                        r = -ENOMEM;
                        break;
                }
                m->outer = outer;
                struct untar u;
                r = untar_open_cb(&u, m, member_read, what, CAIRN_EXIT_SOURCE, err);
                if (r < 0)
                        break;
                r = control ? read_control(&rd, &u, err) : read_data(&rd, &u, err);
                untar_close(&u);
                seen_data = seen_data || data;
        }
        free(rd.files);
        if (r < 0)
                return r;
        if (ar != ARCHIVE_EOF || !seen_data)
                return cairn_error_add(
                        err, CAIRN_EXIT_SOURCE, -EBADMSG, "%s: not a Debian package (%s)", origin,
                        ar != ARCHIVE_EOF ? archive_error_string(outer) : "no data.tar member");
        *ret = steal_pointer(&dc);
        return 0;
}
