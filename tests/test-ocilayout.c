/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>

#include "image/oci.h"
#include "image/ocilayout.h"

/* A layout written by hand: its directory and the digests of its blobs. */
struct layout {
        char *dir;
        char layer[DIGEST_OCI_LEN], config[DIGEST_OCI_LEN], manifest[DIGEST_OCI_LEN];
};

static void write_text(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *path = NULL;
        assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, text, strlen(text)), 0);
}

static void put_blob(const char *dir, const char *text, char digest[DIGEST_OCI_LEN])
{
        assert_int_equal(oci_blob_write(dir, text, strlen(text), digest, NULL), 0);
}

/*
 * A layout of one image with one layer. config_extra and manifest_extra are inserted into the
 * config's and the manifest's top-level object; index_extra into index.json's.
 */
static void layout_make(struct layout *l, const char *index_extra, const char *manifest_extra,
                        const char *config_extra)
{
        *l = (struct layout){ 0 };
        l->dir = strdup("/tmp/cairn-test-ocilayout-XXXXXX");
        assert_non_null(mkdtemp(l->dir));
        assert_int_equal(oci_layout_create(l->dir, NULL), 0);
        write_text(l->dir, OCI_LAYOUT_FILE, OCI_LAYOUT_JSON);
        put_blob(l->dir, "not read: layers are handed over as files", l->layer);
        _cleanup_free_ char *config = NULL, *manifest = NULL, *index = NULL;
        assert_true(asprintf(&config,
                             "{%s\"architecture\":\"amd64\",\"os\":\"linux\","
                             "\"config\":{\"Labels\":{\"a\":\"1\",\"b\":\"2\"}},"
                             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                             config_extra, l->layer) > 0);
        put_blob(l->dir, config, l->config);
        assert_true(asprintf(&manifest,
                             "{%s\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST
                             "\",\"config\":{\"mediaType\":\"" OCI_MEDIA_TYPE_CONFIG
                             "\",\"digest\":\"%s\",\"size\":%zu},"
                             "\"layers\":[{\"mediaType\":\"" OCI_MEDIA_TYPE_LAYER_GZIP
                             "\",\"digest\":\"%s\",\"size\":1}]}",
                             manifest_extra, l->config, strlen(config), l->layer) > 0);
        put_blob(l->dir, manifest, l->manifest);
        assert_true(asprintf(&index,
                             "{%s\"schemaVersion\":2,\n\"manifests\":[{\"mediaType\":"
                             "\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
                             "\"annotations\":{\"" OCI_ANNOTATION_REF_NAME "\":\"prod\"}}]}\n",
                             index_extra, l->manifest, strlen(manifest)) > 0);
        write_text(l->dir, OCI_INDEX_FILE, index);
}

static void layout_clear(struct layout *l)
{
        assert_int_equal(rm_rf(l->dir), 0);
        free(l->dir);
}

struct seen {
        size_t n;
        char blob[256];
};

static int record_layer(void *data, size_t i, const char *blob, struct cairn_error *err)
{
        (void)err;
        struct seen *s = data;
        assert_int_equal(i, s->n);
        s->n++;
        snprintf(s->blob, sizeof(s->blob), "%s", blob);
        return 0;
}

/* The error of reading l both ways (layers and describe), which must be the same message. */
static char *read_error(const struct layout *l)
{
        struct seen seen = { 0 };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(ocilayout_foreach_layer(l->dir, NULL, NULL, record_layer, &seen, &err),
                         -EINVAL);
        assert_int_equal(err.exit, CAIRN_EXIT_USAGE);
        assert_int_equal(seen.n, 0);
        assert_true(err.n_messages >= 1);
        return strdup(err.messages[0]);
}

static void test_reads_layout(void **state)
{
        (void)state;
        struct layout l;
        layout_make(&l, "", "", "");
        assert_int_equal(ocilayout_detect(l.dir), 1);
        assert_int_equal(ocilayout_detect("/"), 0);

        struct seen seen = { 0 };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(ocilayout_foreach_layer(l.dir, NULL, NULL, record_layer, &seen, &err), 0);
        assert_int_equal(seen.n, 1);
        _cleanup_free_ char *want = NULL;
        assert_int_equal(oci_blob_path(l.dir, l.layer, &want), 0);
        assert_string_equal(seen.blob, want);

        _cleanup_(ocilayout_info_freep) struct ocilayout_info *info = NULL;
        assert_int_equal(ocilayout_describe(l.dir, "prod", NULL, &info, &err), 0);
        assert_string_equal(info->manifest, l.manifest);
        assert_string_equal(info->config, l.config);
        assert_int_equal(info->n_layers, 1);
        assert_string_equal(info->layers[0].digest, l.layer);
        assert_string_equal(info->layers[0].media_type, OCI_MEDIA_TYPE_LAYER_GZIP);
        assert_int_equal(info->n_diff_ids, 1);
        assert_string_equal(info->diff_ids[0], l.layer);
        assert_string_equal(info->sbom, "");

        ocilayout_info_free(steal_pointer(&info));
        assert_int_equal(ocilayout_describe(l.dir, "dev", NULL, &info, &err), -ENOENT);
        assert_non_null(strstr(err.messages[0], "no image with ref name 'dev'"));
        layout_clear(&l);
}

static void test_duplicate_key_in_index(void **state)
{
        (void)state;
        struct layout l;
        layout_make(&l, "\"manifests\":[],", "", "");
        _cleanup_free_ char *msg = read_error(&l), *want = NULL;
        /* The second "manifests" is on line 2, column 1. */
        assert_true(asprintf(&want, "%s/index.json:2:1: error: duplicate key 'manifests'", l.dir) >
                    0);
        assert_string_equal(msg, want);

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct ocilayout_info *info = NULL;
        assert_int_equal(ocilayout_describe(l.dir, NULL, NULL, &info, &err), -EINVAL);
        assert_null(info);
        assert_string_equal(err.messages[0], want);
        layout_clear(&l);
}

static void test_duplicate_key_in_manifest(void **state)
{
        (void)state;
        struct layout l;
        layout_make(&l, "", "\"schemaVersion\":1,", "");
        _cleanup_free_ char *msg = read_error(&l), *blob = NULL, *want = NULL;
        assert_int_equal(oci_blob_path(l.dir, l.manifest, &blob), 0);
        assert_true(asprintf(&want, "%s:1:20: error: duplicate key 'schemaVersion'", blob) > 0);
        assert_string_equal(msg, want);
        layout_clear(&l);
}

static void test_duplicate_key_in_config(void **state)
{
        (void)state;
        struct layout l;
        /* Deep inside the config. Loading the layers does not read the config; describe does. */
        layout_make(&l, "", "", "\"x\":{\"Labels\":{\"k\":\"1\",\"k\":\"2\"}},");
        struct seen seen = { 0 };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(ocilayout_foreach_layer(l.dir, NULL, NULL, record_layer, &seen, &err), 0);
        struct ocilayout_info *info = NULL;
        assert_int_equal(ocilayout_describe(l.dir, NULL, NULL, &info, &err), -EINVAL);
        _cleanup_free_ char *blob = NULL, *want = NULL;
        assert_int_equal(oci_blob_path(l.dir, l.config, &blob), 0);
        assert_true(asprintf(&want, "%s:1:25: error: duplicate key 'k'", blob) > 0);
        assert_string_equal(err.messages[0], want);
        layout_clear(&l);
}

/* An object with many keys (sorted, not compared pairwise): the first repetition in the
 * document's order is the one named, whatever the keys' order. */
static void test_duplicate_among_many_keys(void **state)
{
        (void)state;
        _cleanup_free_ char *extra = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&extra, &len);
        assert_non_null(f);
        fputs("\"many\":{", f);
        for (int i = 999; i >= 0; i--)
                fprintf(f, "\"k%d\":%d,", i, i);
        fputs("\"k500\":0,\"k7\":0,\"k500\":1},", f);
        assert_int_equal(fclose(f), 0);
        struct layout l;
        layout_make(&l, extra, "", "");
        _cleanup_free_ char *msg = read_error(&l);
        assert_non_null(strstr(msg, "/index.json:1:"));
        assert_non_null(strstr(msg, ": error: duplicate key 'k500'"));
        layout_clear(&l);
}

/* Keys are compared whole, bytes and length: "a" and "ab", or "a" in two objects, are no
 * repetition; a key that is not printable is shown escaped. */
static void test_duplicate_keys_compared_exactly(void **state)
{
        (void)state;
        struct layout l;
        layout_make(&l, "\"a\":{\"a\":1,\"ab\":2},\"ab\":{\"a\":1},", "", "");
        struct seen seen = { 0 };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(ocilayout_foreach_layer(l.dir, NULL, NULL, record_layer, &seen, &err), 0);
        layout_clear(&l);

        layout_make(&l, "\"\\n\\u0001\":1,\"\\n\\u0001\":2,", "", "");
        _cleanup_free_ char *msg = read_error(&l);
        assert_non_null(strstr(msg, ": error: duplicate key '\\x0a\\x01'"));
        layout_clear(&l);
}

static void test_not_json(void **state)
{
        (void)state;
        struct layout l;
        layout_make(&l, "", "", "");
        write_text(l.dir, OCI_INDEX_FILE, "{\"manifests\": [");
        _cleanup_free_ char *msg = read_error(&l), *want = NULL;
        assert_true(asprintf(&want,
                             "%s/index.json: not valid JSON (or nested deeper than 32 levels, or "
                             "more than 200000 values)",
                             l.dir) > 0);
        assert_string_equal(msg, want);
        write_text(l.dir, OCI_INDEX_FILE, "");
        free(msg);
        msg = read_error(&l);
        assert_string_equal(msg, want);
        /* Valid JSON beyond the bounds. */
        write_text(
                l.dir, OCI_INDEX_FILE,
                "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
        free(msg);
        msg = read_error(&l);
        assert_string_equal(msg, want);
        layout_clear(&l);
}

/* ---- multi-architecture layouts ---- */

/* cairn's multi-architecture layout (amd64 and arm64) written by hand. */
struct multi {
        char *dir;
        char layer[2][DIGEST_OCI_LEN], manifest[2][DIGEST_OCI_LEN], sbom[2][DIGEST_OCI_LEN],
                sbom_blob[2][DIGEST_OCI_LEN], index[DIGEST_OCI_LEN];
};

/* arm64_platform is the arm64 entry's platform in the image index (its variant may be left
 * out or wrong); index_extra goes into index.json's manifests after the per-arch entries. */
static void multi_make(struct multi *l, const char *arm64_platform, const char *index_extra)
{
        static const char *const arch[2] = { "amd64", "arm64" };
        static const char *const config_arch[2] = { "\"architecture\":\"amd64\"",
                                                    "\"architecture\":\"arm64\",\"variant\":"
                                                    "\"v8\"" };
        *l = (struct multi){ 0 };
        l->dir = strdup("/tmp/cairn-test-ocilayout-XXXXXX");
        assert_non_null(mkdtemp(l->dir));
        assert_int_equal(oci_layout_create(l->dir, NULL), 0);
        write_text(l->dir, OCI_LAYOUT_FILE, OCI_LAYOUT_JSON);
        size_t msize[2];
        for (int i = 0; i < 2; i++) {
                _cleanup_free_ char *layer = NULL, *config = NULL, *manifest = NULL, *sbom = NULL,
                                    *sbom_manifest = NULL;
                char config_digest[DIGEST_OCI_LEN];
                assert_true(asprintf(&layer, "layer of %s", arch[i]) > 0);
                put_blob(l->dir, layer, l->layer[i]);
                assert_true(asprintf(&config,
                                     "{%s,\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                                     "\"diff_ids\":[\"%s\"]}}",
                                     config_arch[i], l->layer[i]) > 0);
                put_blob(l->dir, config, config_digest);
                assert_true(asprintf(&manifest,
                                     "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST
                                     "\",\"config\":{\"mediaType\":\"" OCI_MEDIA_TYPE_CONFIG
                                     "\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{"
                                     "\"mediaType\":\"" OCI_MEDIA_TYPE_LAYER_GZIP
                                     "\",\"digest\":\"%s\",\"size\":%zu}]}",
                                     config_digest, strlen(config), l->layer[i],
                                     strlen(layer)) > 0);
                put_blob(l->dir, manifest, l->manifest[i]);
                msize[i] = strlen(manifest);
                assert_true(asprintf(&sbom, "{\"spdx\":\"%s\"}", arch[i]) > 0);
                put_blob(l->dir, sbom, l->sbom_blob[i]);
                assert_true(asprintf(&sbom_manifest,
                                     "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST
                                     "\",\"artifactType\":\"" OCI_MEDIA_TYPE_SPDX
                                     "\",\"config\":{\"mediaType\":\"" OCI_MEDIA_TYPE_EMPTY
                                     "\",\"digest\":\"%s\",\"size\":2},\"layers\":[{"
                                     "\"mediaType\":\"" OCI_MEDIA_TYPE_SPDX
                                     "\",\"digest\":\"%s\",\"size\":%zu}],\"subject\":{"
                                     "\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST
                                     "\",\"digest\":\"%s\",\"size\":%zu}}",
                                     l->layer[i], l->sbom_blob[i], strlen(sbom), l->manifest[i],
                                     msize[i]) > 0);
                put_blob(l->dir, sbom_manifest, l->sbom[i]);
        }
        _cleanup_free_ char *idx = NULL, *index = NULL;
        assert_true(asprintf(&idx,
                             "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX
                             "\",\"manifests\":[{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST
                             "\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"architecture\":"
                             "\"amd64\",\"os\":\"linux\"}},{\"mediaType\":"
                             "\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
                             "\"platform\":%s}]}",
                             l->manifest[0], msize[0], l->manifest[1], msize[1],
                             arm64_platform) > 0);
        put_blob(l->dir, idx, l->index);
        assert_true(asprintf(&index,
                             "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX
                             "\",\"manifests\":["
                             "{\"mediaType\":\"" OCI_MEDIA_TYPE_INDEX "\",\"digest\":\"%s\","
                             "\"size\":%zu,\"annotations\":{\"" OCI_ANNOTATION_REF_NAME
                             "\":\"prod\"}},"
                             "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"%s\","
                             "\"size\":%zu,\"platform\":{\"architecture\":\"amd64\",\"os\":"
                             "\"linux\"},\"annotations\":{\"" OCI_ANNOTATION_REF_NAME
                             "\":\"prod-amd64\"}},"
                             "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"%s\","
                             "\"size\":%zu,\"platform\":%s,\"annotations\":{"
                             "\"" OCI_ANNOTATION_REF_NAME "\":\"prod-arm64\"}},"
                             "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST
                             "\",\"artifactType\":\"" OCI_MEDIA_TYPE_SPDX
                             "\",\"digest\":\"%s\",\"size\":1},"
                             "{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST
                             "\",\"artifactType\":\"" OCI_MEDIA_TYPE_SPDX
                             "\",\"digest\":\"%s\",\"size\":1}%s]}",
                             l->index, strlen(idx), l->manifest[0], msize[0], l->manifest[1],
                             msize[1], arm64_platform, l->sbom[0], l->sbom[1], index_extra) > 0);
        write_text(l->dir, OCI_INDEX_FILE, index);
}

static void multi_clear(struct multi *l)
{
        assert_int_equal(rm_rf(l->dir), 0);
        free(l->dir);
}

#define ARM64_V8 "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}"

/* The layer ocilayout_foreach_layer hands over for ref and arch: 0 (amd64's), 1 (arm64's), or
 * -1 on an error, whose first message goes to *msg (may be NULL). */
static int picked(const struct multi *l, const char *ref, const char *arch, char **msg)
{
        struct seen seen = { 0 };
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        if (ocilayout_foreach_layer(l->dir, ref, arch, record_layer, &seen, &err) < 0) {
                assert_true(err.n_messages >= 1);
                if (msg)
                        *msg = strdup(err.messages[0]);
                return -1;
        }
        assert_int_equal(seen.n, 1);
        for (int i = 0; i < 2; i++) {
                _cleanup_free_ char *want = NULL;
                assert_int_equal(oci_blob_path(l->dir, l->layer[i], &want), 0);
                if (streq(seen.blob, want))
                        return i;
        }
        fail();
        return -1;
}

static void test_multiarch_pick(void **state)
{
        (void)state;
        struct multi l;
        multi_make(&l, ARM64_V8, "");
        assert_int_equal(picked(&l, NULL, "amd64", NULL), 0);
        assert_int_equal(picked(&l, NULL, "arm64", NULL), 1);
        assert_int_equal(picked(&l, "prod", "arm64", NULL), 1);
        assert_int_equal(picked(&l, "prod-amd64", NULL, NULL), 0);
        assert_int_equal(picked(&l, "prod-arm64", NULL, NULL), 1);
        /* A single manifest is what it is: arch is the enforcer's business there. */
        assert_int_equal(picked(&l, "prod-arm64", "amd64", NULL), 1);

        _cleanup_free_ char *msg = NULL, *want = NULL;
        assert_int_equal(picked(&l, NULL, NULL, &msg), -1);
        assert_true(asprintf(&want,
                             "%s: image index %s: holds linux/amd64, linux/arm64/v8; pick one "
                             "with --arch",
                             l.dir, l.index) > 0);
        assert_string_equal(msg, want);
        free(msg);
        free(want);
        assert_int_equal(picked(&l, "prod", "riscv64", &msg), -1);
        assert_true(asprintf(&want,
                             "%s: image index %s: holds linux/amd64, linux/arm64/v8; none for "
                             "riscv64 (linux/riscv64)",
                             l.dir, l.index) > 0);
        assert_string_equal(msg, want);
        free(msg);
        assert_int_equal(picked(&l, NULL, "armhf", &msg), -1);
        assert_non_null(strstr(msg, "; none for armhf (linux/arm/v7)"));
        free(msg);
        assert_int_equal(picked(&l, NULL, "sparc", &msg), -1);
        assert_non_null(strstr(msg, "'sparc' is no Debian architecture cairn knows"));

        /* describe: the arm64 manifest and the SBOM whose subject it is. */
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        for (int i = 0; i < 2; i++) {
                _cleanup_(ocilayout_info_freep) struct ocilayout_info *info = NULL;
                assert_int_equal(
                        ocilayout_describe(l.dir, "prod", i ? "arm64" : "amd64", &info, &err), 0);
                assert_string_equal(info->manifest, l.manifest[i]);
                assert_string_equal(info->layers[0].digest, l.layer[i]);
                assert_string_equal(info->sbom_manifest, l.sbom[i]);
                assert_string_equal(info->sbom, l.sbom_blob[i]);
        }
        multi_clear(&l);
}

static void test_multiarch_archs(void **state)
{
        (void)state;
        struct multi l;
        multi_make(&l, ARM64_V8, "");
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_strv_free_ char **v = NULL;
        assert_int_equal(ocilayout_archs(l.dir, NULL, &v, &err), 0);
        assert_int_equal(strv_length(v), 2);
        assert_string_equal(v[0], "amd64");
        assert_string_equal(v[1], "arm64");
        strv_free(steal_pointer(&v));
        /* A single image: its config's architecture and variant. */
        assert_int_equal(ocilayout_archs(l.dir, "prod-arm64", &v, &err), 0);
        assert_int_equal(strv_length(v), 1);
        assert_string_equal(v[0], "arm64");
        strv_free(steal_pointer(&v));
        multi_clear(&l);

        struct layout one;
        layout_make(&one, "", "", "");
        assert_int_equal(ocilayout_archs(one.dir, NULL, &v, &err), 0);
        assert_int_equal(strv_length(v), 1);
        assert_string_equal(v[0], "amd64");
        strv_free(steal_pointer(&v));
        layout_clear(&one);

        /* A config naming an architecture cairn does not know: none. */
        layout_make(&one, "", "", "\"variant\":\"v9\",");
        assert_int_equal(ocilayout_archs(one.dir, NULL, &v, &err), 0);
        assert_int_equal(strv_length(v), 0);
        layout_clear(&one);
}

/* A missing variant is the architecture's default (arm64 v8); another variant is not. */
static void test_multiarch_variant(void **state)
{
        (void)state;
        struct multi l;
        multi_make(&l, "{\"architecture\":\"arm64\",\"os\":\"linux\"}", "");
        assert_int_equal(picked(&l, NULL, "arm64", NULL), 1);
        multi_clear(&l);

        multi_make(&l, "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v9\"}", "");
        _cleanup_free_ char *msg = NULL;
        assert_int_equal(picked(&l, NULL, "arm64", &msg), -1);
        assert_non_null(strstr(msg, "holds linux/amd64, linux/arm64/v9; none for arm64"));
        free(msg);
        /* Another OS is not linux's. */
        multi_clear(&l);
        multi_make(&l, "{\"architecture\":\"arm64\",\"os\":\"windows\"}", "");
        assert_int_equal(picked(&l, NULL, "arm64", &msg), -1);
        assert_non_null(strstr(msg, "holds linux/amd64, windows/arm64; none for arm64"));
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_strv_free_ char **v = NULL;
        assert_int_equal(ocilayout_archs(l.dir, "prod", &v, &err), -EINVAL);
        assert_non_null(strstr(err.messages[0], "platform windows/arm64 has no Debian"));
        multi_clear(&l);
}

/* An image beside the index that it does not list: two images, so ref NULL is ambiguous. */
static void test_multiarch_not_covered(void **state)
{
        (void)state;
        struct multi l;
        struct layout other;
        layout_make(&other, "", "", "");
        _cleanup_free_ char *extra = NULL;
        multi_make(&l, ARM64_V8, "");
        /* The amd64 manifest's entry, pointing at a manifest the index does not list. */
        _cleanup_free_ char *blob = NULL, *target = NULL;
        assert_int_equal(oci_blob_path(other.dir, other.manifest, &blob), 0);
        assert_int_equal(oci_blob_path(l.dir, other.manifest, &target), 0);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        assert_int_equal(read_file_bounded(blob, 1 << 20, &buf, &len), 0);
        {
                _cleanup_close_ int fd =
                        open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                assert_int_equal(write_all(fd, buf, len), 0);
        }
        assert_true(asprintf(&extra,
                             ",{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"%s\","
                             "\"size\":%zu}",
                             other.manifest, len) > 0);
        multi_clear(&l);
        multi_make(&l, ARM64_V8, extra);
        _cleanup_free_ char *msg = NULL;
        assert_int_equal(picked(&l, NULL, NULL, &msg), -1);
        assert_non_null(strstr(msg, "holds 4 images; name one by its ref name"));
        free(steal_pointer(&msg));
        /* With a ref, the index is picked as before. */
        assert_int_equal(picked(&l, "prod", "arm64", NULL), 1);
        multi_clear(&l);
        layout_clear(&other);
}

/* The index blob is hashed before it is read; indexes nest at most 4 deep. */
static void test_multiarch_bounds(void **state)
{
        (void)state;
        struct multi l;
        multi_make(&l, ARM64_V8, "");
        _cleanup_free_ char *path = NULL, *msg = NULL;
        assert_int_equal(oci_blob_path(l.dir, l.index, &path), 0);
        write_text(l.dir, path + strlen(l.dir) + 1, "{\"schemaVersion\":2,\"manifests\":[]}");
        assert_int_equal(picked(&l, "prod", "arm64", &msg), -1);
        assert_non_null(strstr(msg, "content does not match its digest"));
        free(msg);
        /* Without a ref, the tampered index covers nothing: three images. */
        assert_int_equal(picked(&l, NULL, "arm64", &msg), -1);
        assert_non_null(strstr(msg, "holds 3 images"));
        free(msg);
        multi_clear(&l);

        /* An index that lists itself through a chain of indexes. */
        multi_make(&l, ARM64_V8, "");
        char digest[DIGEST_OCI_LEN];
        snprintf(digest, sizeof(digest), "%s", l.index);
        for (int i = 0; i < 6; i++) {
                _cleanup_free_ char *idx = NULL;
                assert_true(asprintf(&idx,
                                     "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                                     "\"" OCI_MEDIA_TYPE_INDEX "\",\"digest\":\"%s\","
                                     "\"size\":1}]}",
                                     digest) > 0);
                put_blob(l.dir, idx, digest);
        }
        _cleanup_free_ char *index = NULL;
        assert_true(asprintf(&index,
                             "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                             "\"" OCI_MEDIA_TYPE_INDEX "\",\"digest\":\"%s\",\"size\":1}]}",
                             digest) > 0);
        write_text(l.dir, OCI_INDEX_FILE, index);
        assert_int_equal(picked(&l, NULL, "arm64", &msg), -1);
        assert_non_null(strstr(msg, "indexes nested deeper than 4"));
        free(msg);

        /* More entries than OCILAYOUT_MAX_MANIFESTS. */
        _cleanup_free_ char *big = NULL;
        size_t blen = 0;
        FILE *f = open_memstream(&big, &blen);
        assert_non_null(f);
        fputs("{\"schemaVersion\":2,\"manifests\":[", f);
        for (int i = 0; i <= OCILAYOUT_MAX_MANIFESTS; i++)
                fprintf(f,
                        "%s{\"mediaType\":\"" OCI_MEDIA_TYPE_MANIFEST "\",\"digest\":\"%s\","
                        "\"size\":1}",
                        i ? "," : "", l.manifest[0]);
        fputs("]}", f);
        assert_int_equal(fclose(f), 0);
        write_text(l.dir, OCI_INDEX_FILE, big);
        assert_int_equal(picked(&l, NULL, "arm64", &msg), -1);
        assert_non_null(strstr(msg, "more than 1024 manifests"));
        multi_clear(&l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reads_layout),
                cmocka_unit_test(test_duplicate_key_in_index),
                cmocka_unit_test(test_duplicate_key_in_manifest),
                cmocka_unit_test(test_duplicate_key_in_config),
                cmocka_unit_test(test_duplicate_among_many_keys),
                cmocka_unit_test(test_duplicate_keys_compared_exactly),
                cmocka_unit_test(test_not_json),
                cmocka_unit_test(test_multiarch_pick),
                cmocka_unit_test(test_multiarch_archs),
                cmocka_unit_test(test_multiarch_variant),
                cmocka_unit_test(test_multiarch_not_covered),
                cmocka_unit_test(test_multiarch_bounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
