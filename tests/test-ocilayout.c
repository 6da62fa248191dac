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
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
