/* SPDX-License-Identifier: Apache-2.0 */
#include "explain.h"

#include <archive.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>

#include "base/digest.h"
#include "compress.h"
#include "image.h"
#include "oci.h"
#include "ocilayout.h"
#include "recipe/recipe.h"
#include "recipe/yamlnode.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)

#define EXPLAIN_MAX_FIELDS 8
#define EXPLAIN_JSON_MAX   (64 << 20)

static int push(char ***lines, const char *fmt, ...) _printf_(2, 3);
static int push(char ***lines, const char *fmt, ...)
{
        size_t n = 0;
        for (char **p = *lines; p && *p; p++)
                n++;
        char **nv = realloc(*lines, (n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *lines = nv;
        nv[n] = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&nv[n], fmt, ap);
        va_end(ap);
        if (r < 0) {
                nv[n] = NULL;
                return -ENOMEM;
        }
        nv[n + 1] = NULL;
        return 0;
}

/* ---- files ---- */

/* The content and cairn-init lines of a treediff; prefix ("" or "layer N: ") goes after the
 * kind. */
static int explain_files(const struct explain_side *a, const struct explain_side *b,
                         const struct treediff *diff, const struct store *store, const char *prefix,
                         char ***lines)
{
        size_t n_content = 0;
        const struct treediff_item *init = NULL;
        for (size_t i = 0; i < diff->n_items; i++) {
                const struct treediff_item *it = &diff->items[i];
                const char *path = it->a ? it->a->path : it->b->path;
                if (streq(path, RECIPE_INIT_PATH))
                        init = it;
                else
                        n_content++;
        }
        int r = 0;
        if (n_content)
                r = push(lines, "content: %s%zu file%s differ%s%s", prefix, n_content,
                         n_content == 1 ? "" : "s", n_content == 1 ? "s" : "",
                         *prefix ? "" : " (listed below)");
        if (r < 0 || !init)
                return r;
        char sa[DIGEST_HEX_MAX] = "", sb[DIGEST_HEX_MAX] = "", sha1[DIGEST_HEX_MAX];
        if (store && init->a && init->a->type == TREE_REG)
                (void)store_object_digests(store, &init->a->key, sha1, sa);
        if (store && init->b && init->b->type == TREE_REG)
                (void)store_object_digests(store, &init->b->key, sha1, sb);
        return push(lines,
                    "cairn-init: %s%s differs (%s %s%s, %s %s%s): another cairn-init was "
                    "installed; pin one with 'cairn lock --init-binary PATH' and build with "
                    "--init-binary PATH",
                    prefix, RECIPE_INIT_PATH, a->label, sa[0] ? "sha256:" : "",
                    sa[0] ? sa : "absent", b->label, sb[0] ? "sha256:" : "", sb[0] ? sb : "absent");
}

/* ---- JSON documents: which fields differ ---- */

/* A copy of s (len bytes; owned by the caller, *ret_len long) with every run of exactly 40 or
 * 64 hex digits (a SHA-1 or SHA-256, alone or inside a value such as a namespace URL) replaced
 * by "<digest>": digests follow from what they name, which the other lines explain. */
static char *normalise(const char *s, size_t len, size_t *ret_len)
{
        /* Never longer than s: "<digest>" replaces at least 40 bytes. */
        char *out = malloc(len + 1);
        if (!out)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < len;) {
                size_t k = i;
                while (k < len && isxdigit((unsigned char)s[k]))
                        k++;
                if (k - i == 40 || k - i == 64) {
                        memcpy(out + o, "<digest>", 8);
                        o += 8;
                } else {
                        if (k == i)
                                k++;
                        memcpy(out + o, s + i, k - i);
                        o += k - i;
                }
                i = k;
        }
        out[o] = '\0';
        *ret_len = o;
        return out;
}

/* Equal modulo digests; out of memory counts as different (the field is listed). */
static bool scalars_equal(const struct ynode *x, const struct ynode *y)
{
        size_t la = 0, lb = 0;
        _cleanup_free_ char *a = normalise(x->value, x->len, &la);
        _cleanup_free_ char *b = normalise(y->value, y->len, &lb);
        return a && b && la == lb && memcmp(a, b, la) == 0;
}

struct fields {
        char **names; /* owned */
        size_t n, total;
        const char *const *ignore; /* paths (with [] for any index) that follow from others */
};

static bool ignored(const struct fields *f, const char *path)
{
        for (const char *const *p = f->ignore; p && *p; p++) {
                const char *a = *p, *b = path;
                while (*a && *b) {
                        if (a[0] == '[' && a[1] == ']' && b[0] == '[') {
                                a += 2;
                                b = strchrnul(b, ']');
                                if (*b)
                                        b++;
                        } else if (*a == *b) {
                                a++;
                                b++;
                        } else
                                break;
                }
                if (!*a && (!*b || *b == '.' || *b == '['))
                        return true;
        }
        return false;
}

static int field(struct fields *f, const char *path)
{
        if (ignored(f, path))
                return 0;
        f->total++;
        if (f->n >= EXPLAIN_MAX_FIELDS)
                return 0;
        char **nv = realloc(f->names, (f->n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        f->names = nv;
        if (!(nv[f->n] = strdup(*path ? path : "(the document)")))
                return -ENOMEM;
        nv[++f->n] = NULL;
        return 0;
}

static const struct ynode *map_get(const struct ynode *m, const char *key)
{
        for (size_t i = 0; i + 1 < m->n_items; i += 2)
                if (streq(m->items[i]->value, key))
                        return m->items[i + 1];
        return NULL;
}

static int json_walk(struct fields *f, const char *path, const struct ynode *x,
                     const struct ynode *y, unsigned depth)
{
        if (!x || !y || x->type != y->type || depth > 16)
                return field(f, path);
        if (x->type == YNODE_SCALAR)
                return scalars_equal(x, y) ? 0 : field(f, path);
        _cleanup_free_ char *sub = NULL;
        int r = 0;
        if (x->type == YNODE_SEQUENCE) {
                if (x->n_items != y->n_items)
                        return field(f, path);
                for (size_t i = 0; r >= 0 && i < x->n_items; i++) {
                        free(sub);
                        if (asprintf(&sub, "%s[%zu]", path, i) < 0)
                                return -ENOMEM;
                        r = json_walk(f, sub, x->items[i], y->items[i], depth + 1);
                }
                return r;
        }
        /* Mappings: every key of x, then the keys only y has. */
        for (size_t i = 0; r >= 0 && i + 1 < x->n_items; i += 2) {
                free(sub);
                const char *k = x->items[i]->value;
                if (asprintf(&sub, "%s%s%s", path, *path ? "." : "", k) < 0)
                        return -ENOMEM;
                r = json_walk(f, sub, x->items[i + 1], map_get(y, k), depth + 1);
        }
        for (size_t i = 0; r >= 0 && i + 1 < y->n_items; i += 2) {
                const char *k = y->items[i]->value;
                if (map_get(x, k))
                        continue;
                free(sub);
                if (asprintf(&sub, "%s%s%s", path, *path ? "." : "", k) < 0)
                        return -ENOMEM;
                r = field(f, sub);
        }
        return r;
}

static int load_json(const char *path, struct ynode **ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_file_bounded(path, EXPLAIN_JSON_MAX, &buf, &len);
        if (r < 0)
                return r;
        return ynode_load(path, buf, len, ret, NULL);
}

/* Appends "WHAT: FIELD, FIELD" to *out for the fields of two JSON files that differ. */
static int json_fields(FILE *out, bool *first, const char *what, const char *pa, const char *pb,
                       const char *const *ignore)
{
        if (!pa || !pb)
                return 0;
        _cleanup_ynode_ struct ynode *x = NULL, *y = NULL;
        if (load_json(pa, &x) < 0 || load_json(pb, &y) < 0)
                return 0; /* unreadable: the digest lines above say it differs */
        struct fields f = { .ignore = ignore };
        int r = json_walk(&f, "", x, y, 0);
        if (r >= 0 && f.n) {
                fprintf(out, "%s%s ", *first ? "" : "; ", what);
                for (size_t i = 0; i < f.n; i++)
                        fprintf(out, "%s%s", i ? ", " : "", f.names[i]);
                if (f.total > f.n)
                        fprintf(out, " and %zu more", f.total - f.n);
                *first = false;
        }
        strv_free(f.names);
        return r;
}

/* ---- layouts ---- */

/* index.json's dev.cairn.compressor of the image ref (or the first image), or NULL. Owned. */
static char *recorded_compressor(const char *layout, const char *ref)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_ynode_ struct ynode *idx = NULL;
        if (asprintf(&path, "%s/" OCI_INDEX_FILE, layout) < 0 || load_json(path, &idx) < 0 ||
            idx->type != YNODE_MAPPING)
                return NULL;
        const struct ynode *ms = map_get(idx, "manifests");
        for (size_t i = 0; ms && ms->type == YNODE_SEQUENCE && i < ms->n_items; i++) {
                const struct ynode *m = ms->items[i];
                const struct ynode *an =
                        m->type == YNODE_MAPPING ? map_get(m, "annotations") : NULL;
                if (!an || an->type != YNODE_MAPPING)
                        continue;
                const struct ynode *name = map_get(an, OCI_ANNOTATION_REF_NAME);
                const struct ynode *c = map_get(an, OCI_ANNOTATION_CAIRN_COMPRESSOR);
                if (ref && !(name && name->type == YNODE_SCALAR && streq(name->value, ref)))
                        continue;
                return c && c->type == YNODE_SCALAR ? strdup(c->value) : NULL;
        }
        return NULL;
}

static bool endswith(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

/* "zstd 1.5.4", or the algorithm of the media type and this machine's library when the side
 * was written here, else "(library version not recorded)". */
static char *compressor_name(const struct explain_side *s, const char *media_type)
{
        char *c = recorded_compressor(s->layout, s->ref);
        if (c)
                return c;
        bool zstd = endswith(media_type, "+zstd"), gzip = endswith(media_type, "+gzip");
        if (s->here && (zstd || gzip)) {
                char lib[COMPRESS_FORMAT_ID_MAX];
                compress_library(zstd ? COMPRESS_ZSTD : COMPRESS_GZIP, lib);
                if (asprintf(&c, "%s (%s)", zstd ? "zstd" : "gzip", lib) < 0)
                        return NULL;
                return c;
        }
        const char *alg = zstd ? "zstd" : gzip ? "gzip" : "uncompressed";
        if (asprintf(&c, "%s (library version not recorded%s)", alg,
                     streq(alg, "gzip") ? ": cairn records it for zstd only" : "") < 0)
                return NULL;
        return c;
}

/* "sha256:HEX" of a compressed blob's uncompressed bytes, or "" when it cannot be read. */
static void blob_tar_digest(const char *layout, const char *digest, char out[DIGEST_OCI_LEN])
{
        out[0] = '\0';
        _cleanup_free_ char *path = NULL;
        if (oci_blob_path(layout, digest, &path) < 0)
                return;
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        _cleanup_digest_ struct digest *d = digest_new(DIGEST_SHA256);
        struct archive_entry *ae;
        if (!a || !d || archive_read_support_filter_all(a) != ARCHIVE_OK ||
            archive_read_support_format_raw(a) != ARCHIVE_OK ||
            archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK ||
            archive_read_next_header(a, &ae) != ARCHIVE_OK)
                return;
        const void *buf;
        size_t len;
        la_int64_t off;
        int ar;
        while ((ar = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
                digest_update(d, buf, len);
        if (ar == ARCHIVE_EOF)
                digest_final_oci(d, out);
}

/* The images hold the same files but layer i's tars differ: what the two layers hold. */
static int explain_layer_files(const struct explain_side *a, const struct explain_side *b,
                               const struct ocilayout_info *ia, const struct ocilayout_info *ib,
                               size_t i, struct store *store, char ***lines)
{
        _cleanup_free_ char *pa = NULL, *pb = NULL, *prefix = NULL;
        if (oci_blob_path(a->layout, ia->layers[i].digest, &pa) < 0 ||
            oci_blob_path(b->layout, ib->layers[i].digest, &pb) < 0 ||
            asprintf(&prefix, "layer %zu: ", i + 1) < 0)
                return -ENOMEM;
        _cleanup_tree_ struct tree *ta = NULL, *tb = NULL;
        _cleanup_treediff_ struct treediff *d = NULL;
        _cleanup_cairn_error_ struct cairn_error lerr = CAIRN_ERROR_INIT;
        int r = store ? image_load(pa, NULL, NULL, store, &ta, NULL, &lerr) : -EINVAL;
        if (r >= 0)
                r = image_load(pb, NULL, NULL, store, &tb, NULL, &lerr);
        if (r >= 0)
                r = treediff_compare(ta, tb, &d);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && !treediff_identical(d)) {
                r = explain_files(a, b, d, store, prefix, lines);
                return r < 0 ? r
                             : push(lines,
                                    "layers: layer %zu differs in files a layer above removes "
                                    "(a layer shared with another variant)",
                                    i + 1);
        }
        return push(lines,
                    "tar: layer %zu holds the same files as other tar bytes (diff_id %s %s, %s "
                    "%s): another tar writer (%s here)",
                    i + 1, a->label, ia->diff_ids[i], b->label, ib->diff_ids[i],
                    archive_version_string());
}

static int explain_layers(const struct explain_side *a, const struct explain_side *b,
                          const struct ocilayout_info *ia, const struct ocilayout_info *ib,
                          bool files_same, struct store *store, char ***lines)
{
        int r = 0;
        for (size_t i = 0; r >= 0 && i < ia->n_layers && i < ib->n_layers; i++) {
                bool blob_same = streq(ia->layers[i].digest, ib->layers[i].digest);
                bool ids = i < ia->n_diff_ids && i < ib->n_diff_ids;
                bool tar_same = ids && streq(ia->diff_ids[i], ib->diff_ids[i]);
                if (ids && !tar_same && files_same)
                        r = explain_layer_files(a, b, ia, ib, i, store, lines);
                if (blob_same || !tar_same)
                        continue;
                char really[DIGEST_OCI_LEN];
                blob_tar_digest(a->layout, ia->layers[i].digest, really);
                if (!streq(really, ia->diff_ids[i])) {
                        r = push(lines,
                                 "content: layer %zu: %s's blob does not hold the tar its config "
                                 "names (%s, not %s)",
                                 i + 1, a->label, really[0] ? really : "unreadable",
                                 ia->diff_ids[i]);
                        continue;
                }
                _cleanup_free_ char *ca = compressor_name(a, ia->layers[i].media_type);
                _cleanup_free_ char *cb = compressor_name(b, ib->layers[i].media_type);
                if (!ca || !cb)
                        return -ENOMEM;
                _cleanup_free_ char *recorded = recorded_compressor(a->layout, a->ref);
                if (streq(ca, cb) && recorded)
                        r = push(lines,
                                 "compressor: layer %zu: the same tar (%s) compressed to other "
                                 "bytes by the same compressor, %s: the blob was written by "
                                 "another tool or altered",
                                 i + 1, ia->diff_ids[i], ca);
                else
                        r = push(lines,
                                 "compressor: layer %zu: the same tar (%s) compressed to other "
                                 "bytes: %s %s, %s %s",
                                 i + 1, ia->diff_ids[i], a->label, ca, b->label, cb);
        }
        return r;
}

static int blob_path(const char *layout, const char *digest, char **ret)
{
        *ret = NULL;
        return digest[0] ? oci_blob_path(layout, digest, ret) : 0;
}

static int explain_metadata(const struct explain_side *a, const struct explain_side *b,
                            const struct ocilayout_info *ia, const struct ocilayout_info *ib,
                            char ***lines)
{
        /* Digests are normalised away (they follow from what they name); so are sizes of
         * blobs and the compressor annotation (the compressor line says it). */
        static const char *const manifest_ignore[] = { "config.size", "layers[].size", NULL };
        static const char *const index_ignore[] = {
                "manifests[].size", "manifests[].annotations." OCI_ANNOTATION_CAIRN_COMPRESSOR, NULL
        };
        static const char *const sbom_ignore[] = { NULL };
        _cleanup_free_ char *text = NULL, *ma = NULL, *mb = NULL, *ca = NULL, *cb = NULL,
                            *xa = NULL, *xb = NULL;
        size_t len = 0;
        bool first = true;
        int r = 0;
        if (ia && ib) {
                if (blob_path(a->layout, ia->manifest, &ma) < 0 ||
                    blob_path(b->layout, ib->manifest, &mb) < 0 ||
                    blob_path(a->layout, ia->config, &ca) < 0 ||
                    blob_path(b->layout, ib->config, &cb) < 0 ||
                    asprintf(&xa, "%s/" OCI_INDEX_FILE, a->layout) < 0 ||
                    asprintf(&xb, "%s/" OCI_INDEX_FILE, b->layout) < 0)
                        return -ENOMEM;
        }
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        if (ia && ib) {
                static const char *const config_ignore[] = { NULL };
                r = json_fields(f, &first, "image config", ca, cb, config_ignore);
                if (r >= 0)
                        r = json_fields(f, &first, "image manifest", ma, mb, manifest_ignore);
                if (r >= 0)
                        r = json_fields(f, &first, OCI_INDEX_FILE, xa, xb, index_ignore);
        }
        if (r >= 0)
                r = json_fields(f, &first, "sbom", a->sbom, b->sbom, sbom_ignore);
        if (fclose(f) != 0 || r < 0)
                return r < 0 ? r : -ENOMEM;
        return len ? push(lines, "metadata: %s", text) : 0;
}

int explain_differences(const struct explain_side *a, const struct explain_side *b,
                        const struct treediff *diff, struct store *store, char ***lines)
{
        int r = 0;
        if (diff)
                r = explain_files(a, b, diff, store, "", lines);
        bool files_same = diff && treediff_identical(diff);
        _cleanup_(ocilayout_info_freep) struct ocilayout_info *ia = NULL, *ib = NULL;
        if (a->layout && b->layout &&
            (ocilayout_describe(a->layout, a->ref, a->arch, &ia, NULL) < 0 ||
             ocilayout_describe(b->layout, b->ref, b->arch, &ib, NULL) < 0)) {
                ocilayout_info_free(steal_pointer(&ia));
                ocilayout_info_free(steal_pointer(&ib));
        }
        if (r >= 0 && ia && ib)
                r = explain_layers(a, b, ia, ib, files_same, store, lines);
        if (r >= 0)
                r = explain_metadata(a, b, ia, ib, lines);
        return r;
}
