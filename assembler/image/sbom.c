/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SPDX 2.3 JSON writer for one variant (see sbom.h for the relationship model).
 *
 * SPDXIDs are index-based (SPDXRef-File-N, SPDXRef-Package-deb-NAME-N) so they are stable
 * across equal builds; only [A-Za-z0-9.-] may appear in them, so names are sanitised.
 */
#include "sbom.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/json.h"
#include "debian/copyright.h"
#include "version.h"

#define NOASSERTION "NOASSERTION"

/* Who contains a file: the image, the deb package with that index, or an artifact. */
enum owner_kind {
        OWNER_IMAGE,
        OWNER_DEB,
        OWNER_ARTIFACT,
        OWNER_INIT,
};

struct sbom_ctx {
        const struct build *b;
        const struct build_variant *v;
        bool has_init;
        char image_id[64];
        struct copyright_license *licenses; /* owned; per b->packages index (used ones) */
        char *distro; /* owned; "debian-VERSION" from the image's /etc/debian_version, or NULL */
};

/*
 * "debian-VERSION" when the variant says it is Debian (docs/recipe.md, "Debian identity"):
 * /etc/debian_version holds one word of version characters; NULL otherwise.
 */
static int image_distro(const struct build *b, const struct build_variant *v, char **ret)
{
        *ret = NULL;
        const struct tree_entry *e = tree_lookup(v->tree, "/etc/debian_version");
        if (!e || e->type != TREE_REG || e->size == 0 || e->size > 64)
                return 0;
        _cleanup_close_ int fd = store_open_key(b->store, &e->key);
        char buf[65];
        ssize_t n = fd < 0 ? fd : read_retry(fd, buf, e->size);
        if (n < 0 || (uint64_t)n != e->size)
                return 0;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                n--;
        if (n == 0)
                return 0;
        for (ssize_t i = 0; i < n; i++)
                if (!((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'a' && buf[i] <= 'z') ||
                      (buf[i] >= 'A' && buf[i] <= 'Z') || strchr(".+~-", buf[i])))
                        return 0;
        buf[n] = '\0';
        return asprintf(ret, "debian-%s", buf) < 0 ? -ENOMEM : 0;
}

/* The variant installs p whole, or took files from it: picks and programs' load closures
 * (stages/programs.c), where a package of the closure that gave no file has no status.d
 * file and is not in the image. */
static bool pkg_used(const struct build_variant *v, const struct build_package *p)
{
        if ((p->whole >> v->view->index) & 1u)
                return true;
        if (!((p->picked >> v->view->index) & 1u))
                return false;
        char status[320];
        snprintf(status, sizeof(status), "/var/lib/dpkg/status.d/%s", p->name);
        return tree_lookup(v->tree, status) != NULL;
}

/* Appends s to buf keeping only the characters SPDXIDs allow; others become '-'. */
static void spdxid_sanitize(char *out, size_t size, const char *s)
{
        size_t n = 0;
        for (; *s && n + 1 < size; s++) {
                char c = *s;
                bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '-';
                out[n++] = ok ? c : '-';
        }
        out[n] = '\0';
}

static void deb_id(const struct build_package *p, size_t i, char out[320])
{
        char name[256];
        spdxid_sanitize(name, sizeof(name), p->name);
        snprintf(out, 320, "SPDXRef-Package-deb-%s-%zu", name, i);
}

static void artifact_id(size_t i, char out[64])
{
        snprintf(out, 64, "SPDXRef-Package-artifact-%zu", i);
}

/* Percent-encodes s for a purl component: everything but unreserved characters. */
static void purl_encode(FILE *f, const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                unsigned char c = *p;
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == '~')
                        fputc(c, f);
                else
                        fprintf(f, "%%%02X", c);
        }
}

/* distro: "debian-12.12" (the purl qualifier scanners match vulnerabilities by), or NULL. */
static char *deb_purl(const struct build_package *p, const char *distro)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        fputs("pkg:deb/debian/", f);
        purl_encode(f, p->name);
        fputc('@', f);
        purl_encode(f, p->version);
        fputs("?arch=", f);
        purl_encode(f, p->arch);
        if (distro) {
                fputs("&distro=", f);
                purl_encode(f, distro);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* "Organization: Name (email)" from a Debian "Name <email>" Maintainer field. */
static char *deb_supplier(const struct build_package *p)
{
        if (!p->maintainer || !*p->maintainer)
                return strdup(NOASSERTION);
        char *s = NULL;
        if (asprintf(&s, "Organization: %s", p->maintainer) < 0)
                return NULL;
        for (char *c = s; *c; c++) {
                if (*c == '<')
                        *c = '(';
                else if (*c == '>')
                        *c = ')';
                else if (*c == '\n' || *c == '\r')
                        *c = ' ';
        }
        return s;
}

static void json_checksum(struct json *j, const char *alg, const char *hex)
{
        json_object_begin(j);
        json_kv_string(j, "algorithm", alg);
        json_kv_string(j, "checksumValue", hex);
        json_object_end(j);
}

static void json_no_license(struct json *j)
{
        json_kv_string(j, "licenseConcluded", NOASSERTION);
        json_kv_string(j, "licenseDeclared", NOASSERTION);
        json_kv_string(j, "copyrightText", NOASSERTION);
}

/*
 * Where the .deb came from, when that does not depend on the building machine: a source with
 * `url: apt` stands for whatever mirror this machine's apt configuration names, so writing it
 * would make the SBOM differ between machines; the purl identifies the package instead.
 */
static const char *deb_location(const struct recipe *r, const struct build_package *p)
{
        for (size_t i = 0; i < r->n_sources; i++)
                if (streq(r->sources[i].name, p->source))
                        return streq(r->sources[i].url, "apt") || !p->url ? NOASSERTION : p->url;
        return NOASSERTION;
}

/*
 * The declared license of p from the copyright file its .deb holds
 * (/usr/share/doc/NAME/copyright, whether or not the image keeps it), read from the store the
 * package contents are in. Nothing readable: NOASSERTION.
 */
static int package_license(const struct build *b, const struct build_package *p,
                           struct copyright_license *ret, struct cairn_error *err)
{
        *ret = (struct copyright_license){ 0 };
        if (!p->contents)
                return 0;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "/usr/share/doc/%s/copyright", p->name) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < p->contents->n_members; i++) {
                const struct deb_member *m = &p->contents->members[i];
                if (m->kind != DEB_MEMBER_FILE || !streq(m->path, path))
                        continue;
                if (m->size > COPYRIGHT_MAX_BYTES)
                        return 0;
                _cleanup_close_ int fd = store_open_key(b->store, &m->key);
                _cleanup_free_ char *text = malloc(m->size + 1);
                if (!text)
                        return -ENOMEM;
                ssize_t n = fd < 0 ? fd : read_retry(fd, text, m->size);
                if (n < 0 || (uint64_t)n != m->size)
                        return cairn_error_errno(err, n < 0 ? (int)n : -EIO,
                                                 "SBOM: package %s %s: %s: cannot read it from "
                                                 "the store",
                                                 p->name, p->version, path);
                return copyright_license_parse(text, (size_t)n, ret);
        }
        return 0;
}

static int write_deb_package(struct json *j, const struct recipe *r, const struct build_package *p,
                             size_t i, const struct copyright_license *lic, const char *distro)
{
        char id[320];
        deb_id(p, i, id);
        _cleanup_free_ char *purl = deb_purl(p, distro), *supplier = deb_supplier(p);
        if (!purl || !supplier)
                return -ENOMEM;
        json_object_begin(j);
        json_kv_string(j, "name", p->name);
        json_kv_string(j, "SPDXID", id);
        json_kv_string(j, "versionInfo", p->version);
        json_kv_string(j, "supplier", supplier);
        json_kv_string(j, "downloadLocation", deb_location(r, p));
        json_key(j, "filesAnalyzed");
        json_bool(j, false);
        if (p->sha256) {
                json_key(j, "checksums");
                json_array_begin(j);
                json_checksum(j, "SHA256", p->sha256);
                json_array_end(j);
        }
        json_kv_string(j, "licenseConcluded", NOASSERTION);
        json_kv_string(j, "licenseDeclared", lic->expression ? lic->expression : NOASSERTION);
        json_kv_string(j, "copyrightText", NOASSERTION);
        json_key(j, "externalRefs");
        json_array_begin(j);
        json_object_begin(j);
        json_kv_string(j, "referenceCategory", "PACKAGE-MANAGER");
        json_kv_string(j, "referenceType", "purl");
        json_kv_string(j, "referenceLocator", purl);
        json_object_end(j);
        json_array_end(j);
        json_kv_string(j, "primaryPackagePurpose", "INSTALL");
        json_object_end(j);
        return 0;
}

static void write_artifact_package(struct json *j, const struct recipe_artifact *a, size_t i)
{
        char id[64];
        artifact_id(i, id);
        json_object_begin(j);
        json_kv_string(j, "name", a->dest);
        json_kv_string(j, "SPDXID", id);
        json_kv_string(j, "versionInfo", NOASSERTION);
        json_kv_string(j, "supplier", NOASSERTION);
        json_kv_string(j, "downloadLocation", NOASSERTION);
        json_key(j, "filesAnalyzed");
        json_bool(j, false);
        if (a->sha256) {
                json_key(j, "checksums");
                json_array_begin(j);
                json_checksum(j, "SHA256", a->sha256);
                json_array_end(j);
        }
        json_no_license(j);
        json_kv_string(j, "comment", a->src);
        json_kv_string(j, "primaryPackagePurpose", "APPLICATION");
        json_object_end(j);
}

static void write_init_package(struct json *j)
{
        json_object_begin(j);
        json_kv_string(j, "name", "cairn-init");
        json_kv_string(j, "SPDXID", "SPDXRef-Package-cairn-init");
        json_kv_string(j, "versionInfo", CAIRN_VERSION);
        json_kv_string(j, "supplier", NOASSERTION);
        json_kv_string(j, "downloadLocation", NOASSERTION);
        json_key(j, "filesAnalyzed");
        json_bool(j, false);
        json_no_license(j);
        json_kv_string(j, "primaryPackagePurpose", "APPLICATION");
        json_object_end(j);
}

static void write_image_package(struct json *j, const struct sbom_ctx *c, const char *name)
{
        const struct build_emit_result *e = &c->v->emit;
        json_object_begin(j);
        json_kv_string(j, "name", name);
        json_kv_string(j, "SPDXID", c->image_id);
        json_kv_string(j, "versionInfo", e->manifest_digest);
        json_kv_string(j, "supplier", NOASSERTION);
        json_kv_string(j, "downloadLocation", NOASSERTION);
        json_key(j, "filesAnalyzed");
        json_bool(j, false);
        if (startswith(e->tar_digest, "sha256:")) {
                /* The checksum of NAME-V.tar, the rootfs this package stands for. */
                json_key(j, "checksums");
                json_array_begin(j);
                json_checksum(j, "SHA256", e->tar_digest + strlen("sha256:"));
                json_array_end(j);
        }
        json_no_license(j);
        json_kv_string(j, "primaryPackagePurpose", "CONTAINER");
        json_object_end(j);
}

/* The SPDXID of the package that put entry e into the tree. */
static void file_owner(const struct sbom_ctx *c, const struct tree_entry *e, char out[320])
{
        const char *o = e->origin ? e->origin : "";
        if (startswith(o, "package ")) {
                const char *rest = o + strlen("package ");
                for (size_t i = 0; i < c->b->n_packages; i++) {
                        const struct build_package *p = &c->b->packages[i];
                        size_t nl = strlen(p->name);
                        if (pkg_used(c->v, p) && strncmp(rest, p->name, nl) == 0 &&
                            rest[nl] == ' ' && streq(rest + nl + 1, p->version)) {
                                deb_id(p, i, out);
                                return;
                        }
                }
        } else if (startswith(o, "artifact ")) {
                const char *src = o + strlen("artifact ");
                for (size_t i = 0; i < c->v->view->n_artifacts; i++)
                        if (streq(c->v->view->artifacts[i]->src, src)) {
                                artifact_id(i, out);
                                return;
                        }
        } else if (startswith(o, "cairn-init") && c->has_init) {
                snprintf(out, 320, "SPDXRef-Package-cairn-init");
                return;
        }
        snprintf(out, 320, "%s", c->image_id);
}

/* The regular-file entry whose content e has: e itself, or a hardlink's target. */
static const struct tree_entry *file_content(const struct tree *t, const struct tree_entry *e)
{
        if (e->type == TREE_REG)
                return e;
        if (e->type == TREE_HARDLINK && e->target) {
                const struct tree_entry *target = tree_lookup(t, e->target);
                if (target && target->type == TREE_REG)
                        return target;
        }
        return NULL;
}

static int write_files(struct json *j, const struct sbom_ctx *c, struct cairn_error *err)
{
        const struct tree *t = c->v->tree;
        const struct tree_entry *e;
        size_t n = 0;
        json_key(j, "files");
        json_array_begin(j);
        tree_foreach (e, t) {
                const struct tree_entry *content = file_content(t, e);
                if (!content)
                        continue;
                if (++n > SBOM_MAX_FILES)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                               "SBOM: more than %d files", SBOM_MAX_FILES);
                char sha1[DIGEST_HEX_MAX], sha256[DIGEST_HEX_MAX], id[64];
                /* Remembered by the store: each content is read and hashed once per build. */
                int r = store_object_digests(c->b->store, &content->key, sha1, sha256);
                if (r < 0)
                        return cairn_error_errno(err, r, "SBOM: reading %s from the store: %s",
                                                 e->path, strerror(-r));
                _cleanup_free_ char *name = NULL;
                if (asprintf(&name, ".%s", e->path) < 0)
                        return -ENOMEM;
                snprintf(id, sizeof(id), "SPDXRef-File-%zu", n);
                json_object_begin(j);
                json_kv_string(j, "fileName", name);
                json_kv_string(j, "SPDXID", id);
                json_key(j, "checksums");
                json_array_begin(j);
                json_checksum(j, "SHA1", sha1);
                json_checksum(j, "SHA256", sha256);
                json_array_end(j);
                json_kv_string(j, "licenseConcluded", NOASSERTION);
                json_kv_string(j, "copyrightText", NOASSERTION);
                json_object_end(j);
        }
        json_array_end(j);
        return 0;
}

static void json_relationship(struct json *j, const char *a, const char *type, const char *b)
{
        json_object_begin(j);
        json_kv_string(j, "spdxElementId", a);
        json_kv_string(j, "relationshipType", type);
        json_kv_string(j, "relatedSpdxElement", b);
        json_object_end(j);
}

static void write_relationships(struct json *j, const struct sbom_ctx *c)
{
        const struct build *b = c->b;
        const struct recipe_view *view = c->v->view;
        char id[320];
        json_key(j, "relationships");
        json_array_begin(j);
        json_relationship(j, "SPDXRef-DOCUMENT", "DESCRIBES", c->image_id);
        for (size_t i = 0; i < b->n_packages; i++)
                if (pkg_used(c->v, &b->packages[i])) {
                        deb_id(&b->packages[i], i, id);
                        json_relationship(j, c->image_id, "CONTAINS", id);
                }
        for (size_t i = 0; i < view->n_artifacts; i++) {
                artifact_id(i, id);
                json_relationship(j, c->image_id, "CONTAINS", id);
        }
        if (c->has_init)
                json_relationship(j, c->image_id, "CONTAINS", "SPDXRef-Package-cairn-init");

        const struct tree_entry *e;
        size_t n = 0;
        tree_foreach (e, c->v->tree) {
                if (!file_content(c->v->tree, e))
                        continue;
                char fid[64];
                snprintf(fid, sizeof(fid), "SPDXRef-File-%zu", ++n);
                file_owner(c, e, id);
                json_relationship(j, id, "CONTAINS", fid);
        }

        /* The image was assembled from the Debian packages and the artifacts. */
        for (size_t i = 0; i < b->n_packages; i++)
                if (pkg_used(c->v, &b->packages[i])) {
                        deb_id(&b->packages[i], i, id);
                        json_relationship(j, c->image_id, "GENERATED_FROM", id);
                }
        for (size_t i = 0; i < view->n_artifacts; i++) {
                artifact_id(i, id);
                json_relationship(j, c->image_id, "GENERATED_FROM", id);
        }
        json_array_end(j);
}

static int sbom_render(const struct sbom_ctx *c, FILE *f, struct cairn_error *err)
{
        const struct build *b = c->b;
        const struct build_variant *v = c->v;
        _cleanup_free_ char *name = NULL, *ns = NULL;
        const char *mhex = startswith(v->emit.manifest_digest, "sha256:")
                                   ? v->emit.manifest_digest + strlen("sha256:")
                                   : v->emit.manifest_digest;
        if (asprintf(&name, "%s-%s", b->recipe->name, v->name) < 0 ||
            asprintf(&ns, "https://cairn.invalid/spdx/%s-%s", name, mhex) < 0)
                return -ENOMEM;
        char created[32];
        json_format_time(b->epoch, created);

        struct json j;
        json_init(&j, f);
        json_object_begin(&j);
        json_kv_string(&j, "spdxVersion", "SPDX-2.3");
        json_kv_string(&j, "dataLicense", "CC0-1.0");
        json_kv_string(&j, "SPDXID", "SPDXRef-DOCUMENT");
        json_kv_string(&j, "name", name);
        json_kv_string(&j, "documentNamespace", ns);
        json_key(&j, "creationInfo");
        json_object_begin(&j);
        json_kv_string(&j, "created", created);
        json_key(&j, "creators");
        json_array_begin(&j);
        json_string(&j, "Tool: cairn-" CAIRN_VERSION);
        json_array_end(&j);
        json_object_end(&j);

        /* The LicenseRefs the packages' expressions use, each declared once (the first
         * package's text for a name). */
        bool any_ref = false;
        for (size_t i = 0; i < b->n_packages; i++) {
                const struct copyright_license *l = &c->licenses[i];
                for (size_t k = 0; k < l->n_refs; k++) {
                        bool seen = false;
                        for (size_t pi = 0; pi <= i && !seen; pi++)
                                for (size_t pk = 0; pk < c->licenses[pi].n_refs && !seen; pk++) {
                                        if (pi == i && pk == k)
                                                break;
                                        seen = streq(c->licenses[pi].refs[pk].id, l->refs[k].id);
                                }
                        if (seen)
                                continue;
                        if (!any_ref) {
                                json_key(&j, "hasExtractedLicensingInfos");
                                json_array_begin(&j);
                                any_ref = true;
                        }
                        json_object_begin(&j);
                        json_kv_string(&j, "licenseId", l->refs[k].id);
                        json_kv_string(&j, "name", l->refs[k].name);
                        json_kv_string(&j, "extractedText", l->refs[k].text);
                        json_kv_string(&j, "comment",
                                       "from the Debian copyright file of the package that "
                                       "names it");
                        json_object_end(&j);
                }
        }
        if (any_ref)
                json_array_end(&j);

        json_key(&j, "packages");
        json_array_begin(&j);
        write_image_package(&j, c, name);
        for (size_t i = 0; i < b->n_packages; i++)
                if (pkg_used(v, &b->packages[i])) {
                        int r = write_deb_package(&j, b->recipe, &b->packages[i], i,
                                                  &c->licenses[i], c->distro);
                        if (r < 0)
                                return r;
                }
        for (size_t i = 0; i < v->view->n_artifacts; i++)
                write_artifact_package(&j, v->view->artifacts[i], i);
        if (c->has_init)
                write_init_package(&j);
        json_array_end(&j);

        int r = write_files(&j, c, err);
        if (r < 0)
                return r;
        write_relationships(&j, c);
        json_object_end(&j);
        fputc('\n', f);
        return 0;
}

int sbom_render_buf(const struct build *b, const struct build_variant *v, char **ret,
                    size_t *ret_len, struct cairn_error *err)
{
        struct sbom_ctx c = { .b = b, .v = v };
        const struct tree_entry *init = tree_lookup(v->tree, "/sbin/cairn-init");
        c.has_init = init && init->origin && startswith(init->origin, "cairn-init");
        snprintf(c.image_id, sizeof(c.image_id), "SPDXRef-Package-image");

        c.licenses = calloc(b->n_packages + 1, sizeof(*c.licenses));
        if (!c.licenses)
                return -ENOMEM;
        int r = image_distro(b, v, &c.distro);
        for (size_t i = 0; r >= 0 && i < b->n_packages; i++)
                if (pkg_used(v, &b->packages[i]))
                        r = package_license(b, &b->packages[i], &c.licenses[i], err);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = r < 0 ? NULL : open_memstream(&buf, &len);
        if (r >= 0 && !f)
                r = -ENOMEM;
        if (r >= 0)
                r = sbom_render(&c, f, err);
        for (size_t i = 0; i < b->n_packages; i++)
                copyright_license_clear(&c.licenses[i]);
        free(c.licenses);
        free(c.distro);
        if (!f)
                return r;
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = steal_pointer(&buf);
        *ret_len = len;
        return 0;
}
