/* SPDX-License-Identifier: Apache-2.0 */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <yaml.h>

#include "base/digest.h"

#define DIR_MAX_DEPTH 256

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)

const char *image_kind_name(enum image_kind k)
{
        switch (k) {
        case IMAGE_DIRECTORY:
                return "directory";
        case IMAGE_TAR:
                return "tar";
        case IMAGE_OCI:
                return "OCI layout";
        }
        return "unknown";
}

/* Inserts e into t, replacing what is there: a later layer or member wins. */
static int tree_put(struct tree *t, const struct tree_entry *e, struct cairn_error *err)
{
        if (tree_count(t) >= IMAGE_MAX_ENTRIES)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                       "image has more than %d entries", IMAGE_MAX_ENTRIES);
        const struct tree_entry *old = tree_lookup(t, e->path);
        /* An implicit parent never overrides a real directory of an earlier layer. */
        if (old && old->type == TREE_DIR && e->type == TREE_DIR && (e->flags & TREE_ENTRY_IMPLICIT))
                return 0;
        return tree_insert(t, e, TREE_INSERT_REPLACE, err);
}

/* ---- directories ---- */

static int dir_walk(int dfd, const char *prefix, unsigned depth, struct store *store,
                    struct tree *t, struct cairn_error *err)
{
        if (depth > DIR_MAX_DEPTH)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ELOOP,
                                       "%s: nested deeper than %d directories", prefix,
                                       DIR_MAX_DEPTH);
        int fd2 = dup(dfd);
        if (fd2 < 0)
                return cairn_error_errno(err, -errno, "%s: %m", prefix);
        DIR *d = fdopendir(fd2);
        if (!d) {
                close(fd2);
                return cairn_error_errno(err, -errno, "%s: %m", prefix);
        }
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", streq(prefix, "/") ? "" : prefix, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                struct stat st;
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = cairn_error_errno(err, -errno, "%s: %m", path);
                        break;
                }
                struct tree_entry e = {
                        .path = path,
                        .mode = st.st_mode & 07777,
                        .uid = st.st_uid,
                        .gid = st.st_gid,
                        .mtime = st.st_mtim.tv_sec,
                };
                _cleanup_free_ char *target = NULL;
                _cleanup_close_ int sub = -1;
                switch (st.st_mode & S_IFMT) {
                case S_IFREG: {
                        e.type = TREE_REG;
                        _cleanup_close_ int fd =
                                openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0) {
                                r = cairn_error_errno(err, -errno, "%s: %m", path);
                                break;
                        }
                        r = store_put_fd(store, fd, IMAGE_MAX_FILE, &e.key, &e.size, err);
                        if (r < 0)
                                cairn_error_wrap(err, r, "%s", path);
                        break;
                }
                case S_IFDIR:
                        e.type = TREE_DIR;
                        sub = openat(dfd, de->d_name,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                r = cairn_error_errno(err, -errno, "%s: %m", path);
                        break;
                case S_IFLNK: {
                        e.type = TREE_SYMLINK;
                        target = malloc(IMAGE_MAX_LINK + 1);
                        if (!target) {
                                r = -ENOMEM;
                                break;
                        }
                        ssize_t n = readlinkat(dfd, de->d_name, target, IMAGE_MAX_LINK + 1);
                        if (n < 0)
                                r = cairn_error_errno(err, -errno, "%s: %m", path);
                        else if (n > IMAGE_MAX_LINK)
                                r = cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                                    "%s: symlink target longer than %d bytes", path,
                                                    IMAGE_MAX_LINK);
                        else
                                target[n] = 0;
                        e.target = target;
                        break;
                }
                case S_IFCHR:
                case S_IFBLK:
                        e.type = S_ISCHR(st.st_mode) ? TREE_CHR : TREE_BLK;
                        e.dev_major = major(st.st_rdev);
                        e.dev_minor = minor(st.st_rdev);
                        break;
                case S_IFIFO:
                        e.type = TREE_FIFO;
                        break;
                default:
                        e.type = TREE_SOCK;
                        break;
                }
                if (r >= 0)
                        r = tree_put(t, &e, err);
                if (r >= 0 && sub >= 0)
                        r = dir_walk(sub, path, depth + 1, store, t, err);
        }
        if (r >= 0 && errno != 0)
                r = cairn_error_errno(err, -errno, "%s: %m", prefix);
        closedir(d);
        return r;
}

/* ---- tar archives and layers ---- */

struct layer_changes {
        char **whiteouts; /* owned; paths removed from lower layers */
        size_t n_whiteouts, cap_whiteouts;
        char **opaques; /* owned; directories whose lower content is hidden */
        size_t n_opaques, cap_opaques;
};

static void layer_changes_clear(struct layer_changes *c)
{
        for (size_t i = 0; i < c->n_whiteouts; i++)
                free(c->whiteouts[i]);
        for (size_t i = 0; i < c->n_opaques; i++)
                free(c->opaques[i]);
        free(c->whiteouts);
        free(c->opaques);
}

static int strv_push(char ***v, size_t *n, size_t *cap, char *s)
{
        if (!s)
                return -ENOMEM;
        if (GROW(*v, *cap, *n + 1) < 0) {
                free(s);
                return -ENOMEM;
        }
        (*v)[(*n)++] = s;
        return 0;
}

/* The normalised absolute image path of a member name, or -EINVAL. */
static int member_path(const char *name, char **ret)
{
        if (!name)
                return -EINVAL;
        _cleanup_free_ char *abs = NULL;
        if (asprintf(&abs, "/%s", name) < 0)
                return -ENOMEM;
        return tree_path_normalize(abs, ret);
}

/*
 * Reads the tar at file into t. With changes (an OCI layer), whiteout members are recorded
 * there instead of inserted.
 */
static int tar_read(const char *file, struct store *store, struct tree *t,
                    struct layer_changes *changes, struct cairn_error *err)
{
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        if (!a)
                return -ENOMEM;
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        archive_read_support_format_cpio(a);
        if (archive_read_open_filename(a, file, 64 * 1024) != ARCHIVE_OK)
                return cairn_error_add(err, CAIRN_EXIT_IO, -EIO, "%s: %s", file,
                                       archive_error_string(a));
        struct archive_entry *ae;
        int ar;
        while ((ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
                const char *name = archive_entry_pathname(ae);
                _cleanup_free_ char *path = NULL;
                int r = member_path(name, &path);
                if (r < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                               "%s: member '%s': not a path inside the image "
                                               "(empty, too long or with '..')",
                                               file, name ? name : "");
                if (streq(path, "/"))
                        continue;
                const char *base = strrchr(path, '/') + 1;
                if (changes && startswith(base, ".wh.")) {
                        size_t plen = (size_t)(base - path) - 1;
                        if (streq(base, ".wh..wh..opq"))
                                r = strv_push(&changes->opaques, &changes->n_opaques,
                                              &changes->cap_opaques,
                                              plen ? strndup(path, plen) : strdup("/"));
                        else {
                                char *w = NULL;
                                if (asprintf(&w, "%.*s/%s", (int)plen, path, base + 4) < 0)
                                        w = NULL;
                                r = strv_push(&changes->whiteouts, &changes->n_whiteouts,
                                              &changes->cap_whiteouts, w);
                        }
                        if (r < 0)
                                return r;
                        continue;
                }
                struct tree_entry e = {
                        .path = path,
                        .mode = archive_entry_mode(ae) & 07777, /* with setuid/sticky */
                        .uid = (uint32_t)archive_entry_uid(ae),
                        .gid = (uint32_t)archive_entry_gid(ae),
                        .mtime = archive_entry_mtime(ae),
                };
                _cleanup_free_ char *target = NULL;
                const char *hardlink = archive_entry_hardlink(ae);
                if (hardlink) {
                        r = member_path(hardlink, &target);
                        const struct tree_entry *x = r >= 0 ? tree_lookup(t, target) : NULL;
                        if (!x || x->type != TREE_REG)
                                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                                       "%s: member '%s': hardlink to '%s', "
                                                       "which is not an earlier file",
                                                       file, name, hardlink);
                        e.type = TREE_REG;
                        e.key = x->key;
                        e.size = x->size;
                } else {
                        switch (archive_entry_filetype(ae)) {
                        case AE_IFREG: {
                                e.type = TREE_REG;
                                _cleanup_store_writer_ struct store_writer *w = NULL;
                                r = store_writer_new(store, IMAGE_MAX_FILE, &w, err);
                                if (r < 0)
                                        return r;
                                const void *buf;
                                size_t len;
                                la_int64_t off;
                                int dr;
                                while ((dr = archive_read_data_block(a, &buf, &len, &off)) ==
                                       ARCHIVE_OK) {
                                        r = store_writer_write(w, buf, len, err);
                                        if (r < 0)
                                                return cairn_error_wrap(err, r, "%s: %s", file,
                                                                        path);
                                }
                                if (dr != ARCHIVE_EOF)
                                        return cairn_error_add(err, CAIRN_EXIT_IO, -EIO,
                                                               "%s: %s: %s", file, path,
                                                               archive_error_string(a));
                                r = store_writer_commit(steal_pointer(&w), &e.key, &e.size, err);
                                if (r < 0)
                                        return r;
                                break;
                        }
                        case AE_IFDIR:
                                e.type = TREE_DIR;
                                break;
                        case AE_IFLNK: {
                                const char *s = archive_entry_symlink(ae);
                                if (!s || strlen(s) > IMAGE_MAX_LINK)
                                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                                               "%s: %s: symlink target missing "
                                                               "or longer than %d bytes",
                                                               file, path, IMAGE_MAX_LINK);
                                e.type = TREE_SYMLINK;
                                target = strdup(s);
                                if (!target)
                                        return -ENOMEM;
                                e.target = target;
                                break;
                        }
                        case AE_IFCHR:
                        case AE_IFBLK:
                                e.type = archive_entry_filetype(ae) == AE_IFCHR ? TREE_CHR
                                                                                : TREE_BLK;
                                e.dev_major = (uint32_t)archive_entry_rdevmajor(ae);
                                e.dev_minor = (uint32_t)archive_entry_rdevminor(ae);
                                break;
                        case AE_IFIFO:
                                e.type = TREE_FIFO;
                                break;
                        case AE_IFSOCK:
                                e.type = TREE_SOCK;
                                break;
                        default:
                                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                                       "%s: %s: unknown member type", file, path);
                        }
                }
                r = tree_put(t, &e, err);
                if (r < 0)
                        return cairn_error_wrap(err, r, "%s", file);
        }
        if (ar != ARCHIVE_EOF)
                return cairn_error_add(err, CAIRN_EXIT_IO, -EIO, "%s: %s", file,
                                       archive_error_string(a));
        return 0;
}

/* Applies one layer (its tree and whiteouts) over t. */
static int layer_apply(struct tree *t, const struct tree *layer, const struct layer_changes *c,
                       struct cairn_error *err)
{
        for (size_t i = 0; i < c->n_opaques; i++) {
                const char *dir = c->opaques[i];
                size_t n = strlen(dir);
                /* Remove every child of dir: find them first, the tree shifts on removal. */
                _cleanup_strv_free_ char **kids = calloc(tree_count(t) + 1, sizeof(char *));
                if (!kids)
                        return -ENOMEM;
                size_t k = 0;
                for (size_t j = 0; j < tree_count(t); j++) {
                        const char *p = tree_at(t, j)->path;
                        const char *rest = streq(dir, "/")                            ? p
                                           : (strncmp(p, dir, n) == 0 && p[n] == '/') ? p + n
                                                                                      : NULL;
                        if (!rest || streq(p, "/") || strchr(rest + 1, '/'))
                                continue;
                        kids[k] = strdup(p);
                        if (!kids[k++])
                                return -ENOMEM;
                }
                for (size_t j = 0; j < k; j++)
                        (void)tree_remove(t, kids[j]);
        }
        for (size_t i = 0; i < c->n_whiteouts; i++)
                (void)tree_remove(t, c->whiteouts[i]);
        for (size_t i = 0; i < tree_count(layer); i++) {
                const struct tree_entry *e = tree_at(layer, i);
                if (streq(e->path, "/"))
                        continue;
                int r = tree_put(t, e, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- OCI image layouts ---- */

static void yaml_cleanup(yaml_document_t *d)
{
        yaml_document_delete(d);
}

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);
                if (k && k->type == YAML_SCALAR_NODE &&
                    streq((const char *)k->data.scalar.value, key))
                        return yaml_document_get_node(doc, p->value);
        }
        return NULL;
}

static const char *scalar(yaml_node_t *n)
{
        return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The blob file of a "sha256:HEX" digest; with check, its content is hashed and compared. */
static int blob_file(const char *layout, const char *digest, bool check, char **ret,
                     struct cairn_error *err)
{
        if (!digest || !startswith(digest, "sha256:") || strlen(digest) != 71 ||
            strspn(digest + 7, "0123456789abcdef") != 64)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: digest '%s' is not sha256:<64 hex digits>", layout,
                                       digest ? digest : "(missing)");
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/blobs/sha256/%s", layout, digest + 7) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", p);
        if (check) {
                char hex[DIGEST_HEX_MAX];
                int r = digest_fd_hex(DIGEST_SHA256, fd, hex);
                if (r < 0)
                        return cairn_error_errno(err, r, "%s: %s", p, strerror(-r));
                if (!streq(hex, digest + 7))
                        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EBADMSG,
                                               "%s: content does not match its digest "
                                               "(sha256:%s)",
                                               p, hex);
        }
        *ret = steal_pointer(&p);
        return 0;
}

static int blob_path(const char *layout, const char *digest, char **ret, struct cairn_error *err)
{
        return blob_file(layout, digest, true, ret, err);
}

static int json_load(const char *path, yaml_document_t *doc, struct cairn_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_file_bounded(path, IMAGE_MAX_JSON, &buf, &len);
        if (r == -EFBIG)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r, "%s: larger than %d bytes", path,
                                       IMAGE_MAX_JSON);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
        bool ok = yaml_parser_load(&parser, doc);
        if (ok && !yaml_document_get_root_node(doc)) {
                yaml_document_delete(doc);
                ok = false;
        }
        yaml_parser_delete(&parser);
        if (!ok)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: not valid JSON", path);
        return 0;
}

/* True for a descriptor that can name an image: an OCI or Docker manifest or index. Other
 * media types in an index "SHOULD be safely ignored" (image-spec, image-layout.md). */
static bool descriptor_is_manifest(const char *type)
{
        /* mediaType is required in a descriptor; tolerate its absence as before. */
        return !type || (streq(type, "application/vnd.oci.image.manifest.v1+json") ||
                         streq(type, "application/vnd.oci.image.index.v1+json") ||
                         streq(type, "application/vnd.docker.distribution.manifest.v2+json") ||
                         streq(type, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

/*
 * True when the descriptor d of layout's index points at something attached to an image
 * rather than an image: an `artifactType` on the descriptor (image-spec 1.1 referrers, how
 * cairn and oras list an SBOM or signature in index.json), a buildkit attestation
 * (`vnd.docker.reference.type`), or, read from the blob itself when deep is set, a manifest
 * with a `subject` or an `artifactType`. Unreadable blobs count as images so that loading
 * reports the real error.
 */
static bool descriptor_is_referrer(const char *layout, yaml_document_t *doc, yaml_node_t *d,
                                   bool deep)
{
        if (map_get(doc, d, "artifactType") ||
            map_get(doc, map_get(doc, d, "annotations"), "vnd.docker.reference.type"))
                return true;
        if (!deep)
                return false;
        _cleanup_free_ char *blob = NULL;
        if (blob_path(layout, scalar(map_get(doc, d, "digest")), &blob, NULL) < 0)
                return false;
        _cleanup_(yaml_cleanup) yaml_document_t mdoc = {};
        if (json_load(blob, &mdoc, NULL) < 0)
                return false;
        yaml_node_t *root = yaml_document_get_root_node(&mdoc);
        return map_get(&mdoc, root, "subject") || map_get(&mdoc, root, "artifactType");
}

/*
 * Picks the manifest descriptor of an index: by ref name, or else the only image. Referrers
 * (SBOMs, signatures: see descriptor_is_referrer) do not count as images, so a layout holding
 * one image and its SBOM still loads without a ref.
 */
static yaml_node_t *index_pick(const char *layout, yaml_document_t *doc, const char *ref,
                               const char *where, struct cairn_error *err)
{
        yaml_node_t *m = map_get(doc, yaml_document_get_root_node(doc), "manifests");
        if (!m || m->type != YAML_SEQUENCE_NODE) {
                cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: no manifests array", where);
                return NULL;
        }
        size_t n = (size_t)(m->data.sequence.items.top - m->data.sequence.items.start);
        yaml_node_t *found = NULL;
        if (ref) {
                for (size_t i = 0; i < n && !found; i++) {
                        yaml_node_t *d =
                                yaml_document_get_node(doc, m->data.sequence.items.start[i]);
                        const char *name = scalar(map_get(doc, map_get(doc, d, "annotations"),
                                                          "org.opencontainers.image.ref.name"));
                        if (streq_ptr(name, ref))
                                found = d;
                }
                if (!found)
                        cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                        "%s: no image with ref name '%s'", where, ref);
                return found;
        }
        /* Cheap checks on the descriptors first; the blobs are read only when that leaves
         * more than one candidate. */
        size_t images = 0;
        for (int deep = 0; deep <= 1; deep++) {
                images = 0;
                for (size_t i = 0; i < n; i++) {
                        yaml_node_t *d =
                                yaml_document_get_node(doc, m->data.sequence.items.start[i]);
                        if (!descriptor_is_manifest(scalar(map_get(doc, d, "mediaType"))) ||
                            descriptor_is_referrer(layout, doc, d, deep))
                                continue;
                        images++;
                        found = d;
                }
                if (images <= 1)
                        break;
        }
        if (images == 1)
                return found;
        cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                        "%s: holds %zu images; name one by its ref name "
                        "(org.opencontainers.image.ref.name)",
                        where, images);
        return NULL;
}

/*
 * Follows index.json (and nested indexes holding one image) to the image manifest picked by
 * ref (see index_pick). On success *ret_path (owned) is its blob file and ret_digest its
 * digest. With check, every blob on the way is hashed against its digest.
 */
static int oci_resolve_manifest(const char *layout, const char *ref, bool check, char **ret_path,
                                char ret_digest[DIGEST_OCI_LEN], struct cairn_error *err)
{
        _cleanup_free_ char *index = NULL;
        if (asprintf(&index, "%s/index.json", layout) < 0)
                return -ENOMEM;
        _cleanup_(yaml_cleanup) yaml_document_t idoc = {};
        int r = json_load(index, &idoc, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *manifest_path = NULL;
        const char *digest = NULL;
        /* Nested indexes (multi-platform images) are followed when they hold one image. */
        for (unsigned depth = 0;; depth++) {
                yaml_node_t *d = index_pick(layout, &idoc, depth == 0 ? ref : NULL, index, err);
                if (!d)
                        return -ENOENT;
                const char *type = scalar(map_get(&idoc, d, "mediaType"));
                free(manifest_path);
                manifest_path = NULL;
                digest = scalar(map_get(&idoc, d, "digest"));
                r = blob_file(layout, digest, check, &manifest_path, err);
                if (r < 0)
                        return r;
                if (!type || !strstr(type, "index"))
                        break;
                if (depth >= 4)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ELOOP,
                                               "%s: indexes nested deeper than 4", layout);
                yaml_document_delete(&idoc);
                idoc = (yaml_document_t){};
                r = json_load(manifest_path, &idoc, err);
                if (r < 0)
                        return r;
                free(index);
                index = strdup(manifest_path);
                if (!index)
                        return -ENOMEM;
        }
        /* blob_file checked the digest's form. */
        snprintf(ret_digest, DIGEST_OCI_LEN, "%s", digest);
        *ret_path = steal_pointer(&manifest_path);
        return 0;
}

static int oci_load(const char *layout, const char *ref, struct store *store, struct tree *t,
                    struct cairn_error *err)
{
        _cleanup_free_ char *manifest_path = NULL;
        char manifest_digest[DIGEST_OCI_LEN];
        int r = oci_resolve_manifest(layout, ref, true, &manifest_path, manifest_digest, err);
        if (r < 0)
                return r;

        _cleanup_(yaml_cleanup) yaml_document_t mdoc = {};
        r = json_load(manifest_path, &mdoc, err);
        if (r < 0)
                return r;
        yaml_node_t *layers = map_get(&mdoc, yaml_document_get_root_node(&mdoc), "layers");
        if (!layers || layers->type != YAML_SEQUENCE_NODE)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: manifest without a layers array", manifest_path);
        size_t n = (size_t)(layers->data.sequence.items.top - layers->data.sequence.items.start);
        if (n > IMAGE_MAX_LAYERS)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG, "%s: more than %d layers",
                                       manifest_path, IMAGE_MAX_LAYERS);
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *l =
                        yaml_document_get_node(&mdoc, layers->data.sequence.items.start[i]);
                _cleanup_free_ char *blob = NULL;
                r = blob_path(layout, scalar(map_get(&mdoc, l, "digest")), &blob, err);
                if (r < 0)
                        return r;
                _cleanup_tree_ struct tree *lt = NULL;
                r = tree_new(&lt);
                if (r < 0)
                        return r;
                _cleanup_(layer_changes_clear) struct layer_changes c = {};
                r = tar_read(blob, store, lt, &c, err);
                if (r < 0)
                        return cairn_error_wrap(err, r, "layer %zu", i + 1);
                r = layer_apply(t, lt, &c, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int image_load(const char *path, const char *ref, struct store *store, struct tree **ret,
               enum image_kind *ret_kind, struct cairn_error *err)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        _cleanup_tree_ struct tree *t = NULL;
        int r = tree_new(&t);
        if (r < 0)
                return r;
        enum image_kind kind;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *marker = NULL;
                if (asprintf(&marker, "%s/oci-layout", path) < 0)
                        return -ENOMEM;
                kind = access(marker, F_OK) == 0 ? IMAGE_OCI : IMAGE_DIRECTORY;
        } else
                kind = IMAGE_TAR;
        if (ref && kind != IMAGE_OCI)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: a ref name applies to OCI layouts only", path);

        switch (kind) {
        case IMAGE_DIRECTORY: {
                _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return cairn_error_errno(err, -errno, "%s: %m", path);
                r = dir_walk(fd, "/", 0, store, t, err);
                if (r < 0)
                        return cairn_error_wrap(err, r, "%s", path);
                break;
        }
        case IMAGE_TAR:
                r = tar_read(path, store, t, NULL, err);
                break;
        case IMAGE_OCI:
                r = oci_load(path, ref, store, t, err);
                break;
        }
        if (r < 0)
                return r;
        if (ret_kind)
                *ret_kind = kind;
        *ret = steal_pointer(&t);
        return 0;
}

/* ---- describing an OCI layout (cairn verify) ---- */

void image_oci_info_free(struct image_oci_info *info)
{
        if (!info)
                return;
        free(info->layers);
        free(info->diff_ids);
        free(info);
}

/* The i-th item of a sequence node, or NULL. */
static yaml_node_t *seq_item(yaml_document_t *doc, yaml_node_t *seq, size_t i)
{
        if (!seq || seq->type != YAML_SEQUENCE_NODE ||
            i >= (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start))
                return NULL;
        return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

/* Copies a "sha256:HEX" scalar into out; -EINVAL when it is not one. */
static int copy_digest(const char *s, char out[DIGEST_OCI_LEN])
{
        if (!s || !startswith(s, "sha256:") || strlen(s) != 71 ||
            strspn(s + 7, "0123456789abcdef") != 64)
                return -EINVAL;
        memcpy(out, s, 72);
        return 0;
}

/* The first descriptor of layout's index.json with artifactType type: its digest, and the
 * digest of its manifest's first layer. Leaves both empty when there is none. */
static int describe_referrer(const char *layout, const char *type, char manifest[DIGEST_OCI_LEN],
                             char blob[DIGEST_OCI_LEN], struct cairn_error *err)
{
        _cleanup_free_ char *index = NULL;
        if (asprintf(&index, "%s/index.json", layout) < 0)
                return -ENOMEM;
        _cleanup_(yaml_cleanup) yaml_document_t idoc = {};
        int r = json_load(index, &idoc, err);
        if (r < 0)
                return r;
        yaml_node_t *m = map_get(&idoc, yaml_document_get_root_node(&idoc), "manifests");
        if (!m || m->type != YAML_SEQUENCE_NODE)
                return 0;
        for (yaml_node_item_t *it = m->data.sequence.items.start; it < m->data.sequence.items.top;
             it++) {
                yaml_node_t *d = yaml_document_get_node(&idoc, *it);
                if (!streq_ptr(scalar(map_get(&idoc, d, "artifactType")), type))
                        continue;
                const char *digest = scalar(map_get(&idoc, d, "digest"));
                _cleanup_free_ char *path = NULL;
                r = blob_file(layout, digest, false, &path, err);
                if (r < 0)
                        return r;
                _cleanup_(yaml_cleanup) yaml_document_t mdoc = {};
                r = json_load(path, &mdoc, err);
                if (r < 0)
                        return r;
                yaml_node_t *layers = map_get(&mdoc, yaml_document_get_root_node(&mdoc), "layers");
                yaml_node_t *first = seq_item(&mdoc, layers, 0);
                if (copy_digest(scalar(map_get(&mdoc, first, "digest")), blob) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: artifact manifest without a layer", path);
                memcpy(manifest, digest, 72);
                return 0;
        }
        return 0;
}

int image_oci_describe(const char *layout, const char *ref, struct image_oci_info **ret,
                       struct cairn_error *err)
{
        _cleanup_(image_oci_info_freep) struct image_oci_info *info = calloc(1, sizeof(*info));
        if (!info)
                return -ENOMEM;
        _cleanup_free_ char *manifest_path = NULL;
        int r = oci_resolve_manifest(layout, ref, false, &manifest_path, info->manifest, err);
        if (r < 0)
                return r;
        _cleanup_(yaml_cleanup) yaml_document_t mdoc = {};
        r = json_load(manifest_path, &mdoc, err);
        if (r < 0)
                return r;
        yaml_node_t *root = yaml_document_get_root_node(&mdoc);
        if (copy_digest(scalar(map_get(&mdoc, map_get(&mdoc, root, "config"), "digest")),
                        info->config) < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: manifest without a config digest", manifest_path);
        yaml_node_t *layers = map_get(&mdoc, root, "layers");
        if (!layers || layers->type != YAML_SEQUENCE_NODE)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: manifest without a layers array", manifest_path);
        size_t n = (size_t)(layers->data.sequence.items.top - layers->data.sequence.items.start);
        if (n > IMAGE_MAX_LAYERS)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG, "%s: more than %d layers",
                                       manifest_path, IMAGE_MAX_LAYERS);
        info->layers = calloc(n ? n : 1, sizeof(*info->layers));
        if (!info->layers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *l =
                        yaml_document_get_node(&mdoc, layers->data.sequence.items.start[i]);
                const char *type = scalar(map_get(&mdoc, l, "mediaType"));
                if (copy_digest(scalar(map_get(&mdoc, l, "digest")), info->layers[i].digest) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: layer %zu without a sha256 digest",
                                               manifest_path, i + 1);
                snprintf(info->layers[i].media_type, sizeof(info->layers[i].media_type), "%s",
                         type ? type : "");
                info->n_layers++;
        }

        _cleanup_free_ char *config_path = NULL;
        r = blob_file(layout, info->config, false, &config_path, err);
        if (r < 0)
                return r;
        _cleanup_(yaml_cleanup) yaml_document_t cdoc = {};
        r = json_load(config_path, &cdoc, err);
        if (r < 0)
                return r;
        yaml_node_t *ids = map_get(
                &cdoc, map_get(&cdoc, yaml_document_get_root_node(&cdoc), "rootfs"), "diff_ids");
        if (!ids || ids->type != YAML_SEQUENCE_NODE)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: config without rootfs.diff_ids", config_path);
        n = (size_t)(ids->data.sequence.items.top - ids->data.sequence.items.start);
        if (n > IMAGE_MAX_LAYERS)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG, "%s: more than %d diff_ids",
                                       config_path, IMAGE_MAX_LAYERS);
        info->diff_ids = calloc(n ? n : 1, sizeof(*info->diff_ids));
        if (!info->diff_ids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *d = yaml_document_get_node(&cdoc, ids->data.sequence.items.start[i]);
                if (copy_digest(scalar(d), info->diff_ids[i]) < 0)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: diff_id %zu is not sha256:<64 hex digits>",
                                               config_path, i + 1);
                info->n_diff_ids++;
        }

        r = describe_referrer(layout, "application/spdx+json", info->sbom_manifest, info->sbom,
                              err);
        if (r < 0)
                return r;
        *ret = steal_pointer(&info);
        return 0;
}
