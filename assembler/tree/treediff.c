/* SPDX-License-Identifier: Apache-2.0 */
#include "treediff.h"

#include <inttypes.h>

#include "base/digest.h"
#include "base/json.h"

static const struct {
        unsigned bit;
        const char *name;
} change_names[] = {
        { TREEDIFF_TYPE, "type" },     { TREEDIFF_CONTENT, "content" }, { TREEDIFF_SIZE, "size" },
        { TREEDIFF_MODE, "mode" },     { TREEDIFF_OWNER, "owner" },     { TREEDIFF_MTIME, "mtime" },
        { TREEDIFF_TARGET, "target" }, { TREEDIFF_DEVICE, "device" },
};

static bool is_device(enum tree_type t)
{
        return t == TREE_CHR || t == TREE_BLK;
}

unsigned treediff_entry_changes(const struct tree_entry *a, const struct tree_entry *b)
{
        unsigned c = 0;
        if (a->type != b->type)
                c |= TREEDIFF_TYPE;
        if (a->mode != b->mode)
                c |= TREEDIFF_MODE;
        if (a->uid != b->uid || a->gid != b->gid)
                c |= TREEDIFF_OWNER;
        if (a->mtime != b->mtime)
                c |= TREEDIFF_MTIME;
        if (a->type != b->type)
                return c;
        if (a->type == TREE_REG) {
                if (store_key_cmp(&a->key, &b->key) != 0)
                        c |= TREEDIFF_CONTENT;
                if (a->size != b->size)
                        c |= TREEDIFF_SIZE;
        }
        if ((a->type == TREE_SYMLINK || a->type == TREE_HARDLINK) &&
            !streq_ptr(a->target, b->target))
                c |= TREEDIFF_TARGET;
        if (is_device(a->type) && (a->dev_major != b->dev_major || a->dev_minor != b->dev_minor))
                c |= TREEDIFF_DEVICE;
        return c;
}

void treediff_free(struct treediff *d)
{
        if (!d)
                return;
        free(d->items);
        free(d);
}

static int push(struct treediff *d, size_t *cap, enum treediff_kind kind,
                const struct tree_entry *a, const struct tree_entry *b, unsigned changes)
{
        if (GROW(d->items, *cap, d->n_items + 1) < 0)
                return -ENOMEM;
        d->items[d->n_items++] = (struct treediff_item){ kind, a, b, changes };
        switch (kind) {
        case TREEDIFF_ADDED:
                d->n_added++;
                break;
        case TREEDIFF_REMOVED:
                d->n_removed++;
                break;
        case TREEDIFF_CHANGED:
                d->n_changed++;
                break;
        }
        return 0;
}

int treediff_compare(const struct tree *a, const struct tree *b, struct treediff **ret)
{
        _cleanup_(treediff_freep) struct treediff *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        size_t cap = 0;
        /* Both trees are sorted by strcmp of the path with "/" first: a merge walk. */
        size_t i = 1, j = 1, na = tree_count(a), nb = tree_count(b);
        while (i < na || j < nb) {
                const struct tree_entry *ea = i < na ? tree_at(a, i) : NULL;
                const struct tree_entry *eb = j < nb ? tree_at(b, j) : NULL;
                int c = !ea ? 1 : !eb ? -1 : strcmp(ea->path, eb->path);
                int r = 0;
                if (c < 0) {
                        r = push(d, &cap, TREEDIFF_REMOVED, ea, NULL, 0);
                        i++;
                } else if (c > 0) {
                        r = push(d, &cap, TREEDIFF_ADDED, NULL, eb, 0);
                        j++;
                } else {
                        unsigned changes = treediff_entry_changes(ea, eb);
                        if (changes)
                                r = push(d, &cap, TREEDIFF_CHANGED, ea, eb, changes);
                        i++;
                        j++;
                }
                if (r < 0)
                        return r;
        }
        *ret = steal_pointer(&d);
        return 0;
}

int treediff_format_from_string(const char *s, enum treediff_format *ret)
{
        if (streq(s, "text"))
                *ret = TREEDIFF_FORMAT_TEXT;
        else if (streq(s, "json"))
                *ret = TREEDIFF_FORMAT_JSON;
        else
                return -EINVAL;
        return 0;
}

/* "sha256:HEX" of a regular file's content, read from store. */
static int content_digest(const struct store *store, const struct tree_entry *e,
                          char out[DIGEST_OCI_LEN], struct cairn_error *err)
{
        _cleanup_close_ int fd = store_open_key(store, &e->key);
        if (fd < 0)
                return cairn_error_errno(err, fd, "%s: content missing from the store: %s", e->path,
                                         strerror(-fd));
        char hex[DIGEST_HEX_MAX];
        int r = digest_fd_hex(DIGEST_SHA256, fd, hex);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: reading its content: %s", e->path,
                                         strerror(-r));
        snprintf(out, DIGEST_OCI_LEN, "sha256:%s", hex);
        return 0;
}

/* A path on one line: control characters and backslashes become \xNN. */
static void text_path(FILE *f, const char *p)
{
        for (const unsigned char *s = (const unsigned char *)p; *s; s++) {
                if (*s < 0x20 || *s == 0x7f || *s == '\\')
                        fprintf(f, "\\x%02x", *s);
                else
                        fputc(*s, f);
        }
}

static void text_time(FILE *f, int64_t t)
{
        char buf[32];
        json_format_time(t, buf);
        fputs(buf, f);
}

/* "file, mode 0644, owner 0:0, size 12, sha256:..." for an added or removed entry. */
static int text_entry(FILE *f, const struct store *store, const struct tree_entry *e,
                      struct cairn_error *err)
{
        fprintf(f, "%s, mode %04o, owner %" PRIu32 ":%" PRIu32 ", mtime ", tree_type_name(e->type),
                e->mode, e->uid, e->gid);
        text_time(f, e->mtime);
        if (e->type == TREE_REG) {
                char dig[DIGEST_OCI_LEN];
                int r = content_digest(store, e, dig, err);
                if (r < 0)
                        return r;
                fprintf(f, ", size %" PRIu64 ", %s", e->size, dig);
        } else if (e->target) {
                fputs(", target ", f);
                text_path(f, e->target);
        } else if (is_device(e->type))
                fprintf(f, ", device %" PRIu32 ":%" PRIu32, e->dev_major, e->dev_minor);
        return 0;
}

static int text_changes(FILE *f, const struct treediff_item *it, const struct store *store_a,
                        const struct store *store_b, struct cairn_error *err)
{
        const struct tree_entry *a = it->a, *b = it->b;
        const char *sep = "";
        for (size_t k = 0; k < ELEMENTSOF(change_names); k++) {
                unsigned bit = change_names[k].bit;
                if (!(it->changes & bit))
                        continue;
                fprintf(f, "%s%s ", sep, change_names[k].name);
                sep = "; ";
                switch (bit) {
                case TREEDIFF_TYPE:
                        fprintf(f, "%s -> %s", tree_type_name(a->type), tree_type_name(b->type));
                        break;
                case TREEDIFF_CONTENT: {
                        char da[DIGEST_OCI_LEN], db[DIGEST_OCI_LEN];
                        int r = content_digest(store_a, a, da, err);
                        if (r >= 0)
                                r = content_digest(store_b, b, db, err);
                        if (r < 0)
                                return r;
                        fprintf(f, "%s -> %s", da, db);
                        break;
                }
                case TREEDIFF_SIZE:
                        fprintf(f, "%" PRIu64 " -> %" PRIu64, a->size, b->size);
                        break;
                case TREEDIFF_MODE:
                        fprintf(f, "%04o -> %04o", a->mode, b->mode);
                        break;
                case TREEDIFF_OWNER:
                        fprintf(f, "%" PRIu32 ":%" PRIu32 " -> %" PRIu32 ":%" PRIu32, a->uid,
                                a->gid, b->uid, b->gid);
                        break;
                case TREEDIFF_MTIME:
                        text_time(f, a->mtime);
                        fputs(" -> ", f);
                        text_time(f, b->mtime);
                        break;
                case TREEDIFF_TARGET:
                        text_path(f, a->target ? a->target : "");
                        fputs(" -> ", f);
                        text_path(f, b->target ? b->target : "");
                        break;
                case TREEDIFF_DEVICE:
                        fprintf(f, "%" PRIu32 ":%" PRIu32 " -> %" PRIu32 ":%" PRIu32, a->dev_major,
                                a->dev_minor, b->dev_major, b->dev_minor);
                        break;
                }
        }
        return 0;
}

static int format_text(FILE *f, const struct treediff *d, const struct store *store_a,
                       const struct store *store_b, size_t max_items, struct cairn_error *err)
{
        static const char *const kinds[] = {
                [TREEDIFF_ADDED] = "added",
                [TREEDIFF_REMOVED] = "removed",
                [TREEDIFF_CHANGED] = "changed",
        };
        size_t shown = max_items && max_items < d->n_items ? max_items : d->n_items;
        for (size_t i = 0; i < shown; i++) {
                const struct treediff_item *it = &d->items[i];
                const struct tree_entry *e = it->a ? it->a : it->b;
                fprintf(f, "%-8s ", kinds[it->kind]);
                text_path(f, e->path);
                fputs(": ", f);
                int r = it->kind == TREEDIFF_CHANGED ? text_changes(f, it, store_a, store_b, err)
                        : it->kind == TREEDIFF_ADDED ? text_entry(f, store_b, it->b, err)
                                                     : text_entry(f, store_a, it->a, err);
                if (r < 0)
                        return r;
                fputc('\n', f);
        }
        if (shown < d->n_items)
                fprintf(f, "... and %zu more\n", d->n_items - shown);
        if (treediff_identical(d))
                fprintf(f, "identical\n");
        else
                fprintf(f, "%zu added, %zu removed, %zu changed\n", d->n_added, d->n_removed,
                        d->n_changed);
        return 0;
}

static int json_entry(struct json *j, const struct store *store, const struct tree_entry *e,
                      struct cairn_error *err)
{
        char mode[8];
        snprintf(mode, sizeof(mode), "%04o", e->mode);
        json_object_begin(j);
        json_kv_string(j, "type", tree_type_name(e->type));
        json_kv_string(j, "mode", mode);
        json_kv_uint(j, "uid", e->uid);
        json_kv_uint(j, "gid", e->gid);
        json_key(j, "mtime");
        json_int(j, e->mtime);
        if (e->type == TREE_REG) {
                char dig[DIGEST_OCI_LEN];
                int r = content_digest(store, e, dig, err);
                if (r < 0)
                        return r;
                json_kv_uint(j, "size", e->size);
                json_kv_string(j, "sha256", dig + strlen("sha256:"));
        }
        if (e->target)
                json_kv_string(j, "target", e->target);
        if (is_device(e->type)) {
                json_kv_uint(j, "major", e->dev_major);
                json_kv_uint(j, "minor", e->dev_minor);
        }
        json_object_end(j);
        return 0;
}

static int format_json(FILE *f, const struct treediff *d, const struct store *store_a,
                       const struct store *store_b, const char *label_a, const char *label_b,
                       struct cairn_error *err)
{
        static const char *const kinds[] = {
                [TREEDIFF_ADDED] = "added",
                [TREEDIFF_REMOVED] = "removed",
                [TREEDIFF_CHANGED] = "changed",
        };
        struct json j;
        json_init(&j, f);
        json_object_begin(&j);
        json_kv_string(&j, "schema", "cairn-diff/1");
        json_kv_string(&j, "a", label_a);
        json_kv_string(&j, "b", label_b);
        json_key(&j, "identical");
        json_bool(&j, treediff_identical(d));
        json_kv_uint(&j, "added", d->n_added);
        json_kv_uint(&j, "removed", d->n_removed);
        json_kv_uint(&j, "changed", d->n_changed);
        json_key(&j, "entries");
        json_array_begin(&j);
        for (size_t i = 0; i < d->n_items; i++) {
                const struct treediff_item *it = &d->items[i];
                json_object_begin(&j);
                json_kv_string(&j, "path", (it->a ? it->a : it->b)->path);
                json_kv_string(&j, "change", kinds[it->kind]);
                if (it->kind == TREEDIFF_CHANGED) {
                        json_key(&j, "what");
                        json_array_begin(&j);
                        for (size_t k = 0; k < ELEMENTSOF(change_names); k++)
                                if (it->changes & change_names[k].bit)
                                        json_string(&j, change_names[k].name);
                        json_array_end(&j);
                }
                int r = 0;
                if (it->a) {
                        json_key(&j, "a");
                        r = json_entry(&j, store_a, it->a, err);
                }
                if (r >= 0 && it->b) {
                        json_key(&j, "b");
                        r = json_entry(&j, store_b, it->b, err);
                }
                if (r < 0)
                        return r;
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        fputc('\n', f);
        return 0;
}

int treediff_format(const struct treediff *d, const struct store *store_a,
                    const struct store *store_b, enum treediff_format format, const char *label_a,
                    const char *label_b, size_t max_items, char **ret, struct cairn_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        int r = format == TREEDIFF_FORMAT_JSON
                        ? format_json(f, d, store_a, store_b, label_a, label_b, err)
                        : format_text(f, d, store_a, store_b, max_items, err);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = steal_pointer(&buf);
        return 0;
}
