/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "image/oci.h"

#define EPOCH 1700000000 /* 2023-11-14T22:13:20Z */
#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
/* sha256 of "{}" */
#define HEX_EMPTY "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

static char *make_tmpdir(void)
{
        char *d = strdup("/tmp/cairn-test-oci-XXXXXX");
        assert_non_null(mkdtemp(d));
        return d;
}

static char *read_text(const char *path)
{
        char *buf = NULL;
        size_t len = 0;
        assert_int_equal(read_file_bounded(path, 1 << 20, &buf, &len), 0);
        return buf;
}

static void test_digests_and_paths(void **state)
{
        (void)state;
        assert_true(oci_digest_valid("sha256:" HEX_A));
        assert_false(oci_digest_valid(NULL));
        assert_false(oci_digest_valid("sha256:" HEX_A "a"));
        assert_false(oci_digest_valid("sha512:" HEX_A));
        assert_false(oci_digest_valid("SHA256:" HEX_A));
        char upper[] = "sha256:" HEX_A;
        upper[10] = 'A';
        assert_false(oci_digest_valid(upper));
        char slash[] = "sha256:" HEX_A;
        slash[10] = '/';
        assert_false(oci_digest_valid(slash));

        _cleanup_free_ char *p = NULL;
        assert_int_equal(oci_blob_path("/out/x", "sha256:" HEX_B, &p), 0);
        assert_string_equal(p, "/out/x/blobs/sha256/" HEX_B);
        char *q = NULL;
        assert_int_equal(oci_blob_path("/out/x", "sha256:../../etc", &q), -EINVAL);
        assert_null(q);

        assert_string_equal(oci_layer_media_type(COMPRESS_GZIP),
                            "application/vnd.oci.image.layer.v1.tar+gzip");
        assert_string_equal(oci_layer_media_type(COMPRESS_ZSTD),
                            "application/vnd.oci.image.layer.v1.tar+zstd");
}

static void test_config_bytes(void **state)
{
        (void)state;
        const char *env[] = { "PATH=/bin", "A=b \"q\"", NULL };
        const char *cmd[] = { NULL };
        const struct oci_annotation labels[] = { { "z", "1" }, { "a", "2" } };
        const struct oci_config_layer layers[] = { { "sha256:" HEX_A, "cairn: base layer" },
                                                   { "sha256:" HEX_B, "cairn: app layer" } };
        struct oci_config c = {
                .created = EPOCH,
                .architecture = "arm64",
                .user = "65532:65532",
                .env = env,
                .entrypoint = NULL,
                .cmd = cmd,
                .workdir = "/app",
                .labels = labels,
                .n_labels = ELEMENTSOF(labels),
                .stop_signal = "SIGINT",
                .layers = layers,
                .n_layers = ELEMENTSOF(layers),
        };
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        assert_int_equal(oci_config_render(&c, &buf, &len), 0);
        /* Keys in one fixed order (labels in the caller's), compact; no Entrypoint key without
         * one, an empty Cmd when it is empty. */
        const char *want =
                "{\"created\":\"2023-11-14T22:13:20Z\",\"architecture\":\"arm64\",\"os\":\"linux\","
                "\"config\":{\"User\":\"65532:65532\",\"Env\":[\"PATH=/bin\",\"A=b \\\"q\\\"\"],"
                "\"Cmd\":[],\"WorkingDir\":\"/app\",\"Labels\":{\"z\":\"1\",\"a\":\"2\"},"
                "\"StopSignal\":\"SIGINT\"},"
                "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" HEX_A "\",\"sha256:" HEX_B
                "\"]},"
                "\"history\":[{\"created\":\"2023-11-14T22:13:20Z\",\"created_by\":\"cairn: base "
                "layer\"},{\"created\":\"2023-11-14T22:13:20Z\",\"created_by\":\"cairn: app "
                "layer\"}]}";
        assert_string_equal(buf, want);
        assert_int_equal(len, strlen(want));

        /* With an entrypoint and without a Cmd. */
        const char *entrypoint[] = { "/sbin/cairn-init", "--", "/app/x", NULL };
        c.entrypoint = entrypoint;
        c.cmd = NULL;
        c.n_layers = 0;
        c.n_labels = 0;
        free(buf);
        buf = NULL;
        assert_int_equal(oci_config_render(&c, &buf, &len), 0);
        assert_string_equal(
                buf, "{\"created\":\"2023-11-14T22:13:20Z\",\"architecture\":\"arm64\",\"os\":"
                     "\"linux\",\"config\":{\"User\":\"65532:65532\",\"Env\":[\"PATH=/bin\","
                     "\"A=b \\\"q\\\"\"],\"Entrypoint\":[\"/sbin/cairn-init\",\"--\",\"/app/x\"],"
                     "\"WorkingDir\":\"/app\",\"Labels\":{},\"StopSignal\":\"SIGINT\"},"
                     "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"history\":[]}");

        /* A Healthcheck as Docker reads it: Test, then durations in nanoseconds. */
        const char *test[] = { "CMD", "/sbin/cairn-init", "--probe", "tcp://127.0.0.1:5", NULL };
        const struct oci_healthcheck h = {
                .test = test,
                .interval_ns = 30000000000,
                .timeout_ns = 2500000000,
                .start_period_ns = 0,
                .retries = 3,
        };
        c.healthcheck = &h;
        free(buf);
        buf = NULL;
        assert_int_equal(oci_config_render(&c, &buf, &len), 0);
        assert_non_null(strstr(buf, "\"StopSignal\":\"SIGINT\",\"Healthcheck\":{\"Test\":[\"CMD\","
                                    "\"/sbin/cairn-init\",\"--probe\",\"tcp://127.0.0.1:5\"],"
                                    "\"Interval\":30000000000,\"Timeout\":2500000000,"
                                    "\"StartPeriod\":0,\"Retries\":3}},"));
}

static void test_manifest_bytes(void **state)
{
        (void)state;
        const struct oci_descriptor layers[] = {
                { .media_type = OCI_MEDIA_TYPE_LAYER_GZIP, .digest = "sha256:" HEX_A, .size = 10 },
                { .media_type = OCI_MEDIA_TYPE_LAYER_GZIP, .digest = "sha256:" HEX_B, .size = 20 },
        };
        const struct oci_annotation annotations[] = { { OCI_ANNOTATION_CREATED, "T" },
                                                      { OCI_ANNOTATION_REF_NAME, "prod" } };
        const struct oci_manifest m = {
                .config = { .media_type = OCI_MEDIA_TYPE_CONFIG,
                            .digest = "sha256:" HEX_C,
                            .size = 300 },
                .layers = layers,
                .n_layers = ELEMENTSOF(layers),
                .annotations = annotations,
                .n_annotations = ELEMENTSOF(annotations),
        };
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        assert_int_equal(oci_manifest_render(&m, &buf, &len), 0);
        assert_string_equal(
                buf,
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                "\"digest\":\"sha256:" HEX_C "\",\"size\":300},"
                "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                "\"digest\":\"sha256:" HEX_A "\",\"size\":10},"
                "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                "\"digest\":\"sha256:" HEX_B "\",\"size\":20}],"
                "\"annotations\":{\"org.opencontainers.image.created\":\"T\","
                "\"org.opencontainers.image.ref.name\":\"prod\"}}");
        assert_int_equal(len, strlen(buf));

        /* An artifact manifest: artifactType after mediaType, the subject after the layers,
         * a layer's own annotations after its size. */
        const struct oci_annotation title[] = { { OCI_ANNOTATION_TITLE, "x.spdx.json" } };
        const struct oci_descriptor sbom = { .media_type = OCI_MEDIA_TYPE_SPDX,
                                             .digest = "sha256:" HEX_A,
                                             .size = 5,
                                             .annotations = title,
                                             .n_annotations = 1 };
        const struct oci_descriptor subject = { .media_type = OCI_MEDIA_TYPE_MANIFEST,
                                                .digest = "sha256:" HEX_B,
                                                .size = 7 };
        const struct oci_manifest a = {
                .artifact_type = OCI_MEDIA_TYPE_SPDX,
                .config = { .media_type = OCI_MEDIA_TYPE_EMPTY,
                            .digest = "sha256:" HEX_EMPTY,
                            .size = 2 },
                .layers = &sbom,
                .n_layers = 1,
                .subject = &subject,
        };
        free(buf);
        buf = NULL;
        assert_int_equal(oci_manifest_render(&a, &buf, &len), 0);
        assert_string_equal(
                buf,
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"artifactType\":\"application/spdx+json\","
                "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\","
                "\"digest\":\"sha256:" HEX_EMPTY "\",\"size\":2},"
                "\"layers\":[{\"mediaType\":\"application/spdx+json\",\"digest\":\"sha256:" HEX_A
                "\",\"size\":5,\"annotations\":{\"org.opencontainers.image.title\":"
                "\"x.spdx.json\"}}],"
                "\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"digest\":\"sha256:" HEX_B "\",\"size\":7}}");
}

static void test_index_bytes(void **state)
{
        (void)state;
        const struct oci_annotation ref[] = { { OCI_ANNOTATION_REF_NAME, "dev" } };
        const struct oci_descriptor manifests[] = {
                { .media_type = OCI_MEDIA_TYPE_MANIFEST,
                  .digest = "sha256:" HEX_A,
                  .size = 1,
                  .annotations = ref,
                  .n_annotations = 1 },
                { .media_type = OCI_MEDIA_TYPE_MANIFEST,
                  .artifact_type = OCI_MEDIA_TYPE_SPDX,
                  .digest = "sha256:" HEX_B,
                  .size = 2 },
        };
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        assert_int_equal(oci_index_render(manifests, 2, &buf, &len), 0);
        const char *want =
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"digest\":\"sha256:" HEX_A "\",\"size\":1,\"annotations\":"
                "{\"org.opencontainers.image.ref.name\":\"dev\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                "\"artifactType\":\"application/spdx+json\",\"digest\":\"sha256:" HEX_B
                "\",\"size\":2}]}\n";
        assert_string_equal(buf, want);
        assert_int_equal(len, strlen(want));
}

/* Debian's architecture names and OCI's platforms, both ways. */
static void test_platforms(void **state)
{
        (void)state;
        static const struct {
                const char *debian, *architecture, *variant;
        } want[] = {
                { "amd64", "amd64", NULL }, { "arm64", "arm64", "v8" },
                { "armhf", "arm", "v7" },   { "armel", "arm", "v5" },
                { "i386", "386", NULL },    { "ppc64el", "ppc64le", NULL },
                { "s390x", "s390x", NULL }, { "riscv64", "riscv64", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                struct oci_platform p;
                assert_int_equal(oci_platform_from_debian(want[i].debian, &p), 0);
                assert_string_equal(p.os, "linux");
                assert_string_equal(p.architecture, want[i].architecture);
                if (want[i].variant)
                        assert_string_equal(p.variant, want[i].variant);
                else
                        assert_null(p.variant);
                assert_string_equal(oci_platform_to_debian(want[i].architecture, want[i].variant),
                                    want[i].debian);
        }
        /* A missing variant is the architecture's default. */
        assert_string_equal(oci_platform_to_debian("arm64", NULL), "arm64");
        assert_string_equal(oci_platform_to_debian("arm", ""), "armhf");
        assert_null(oci_platform_to_debian("arm", "v6"));
        assert_null(oci_platform_to_debian("sparc64", NULL));
        struct oci_platform p;
        assert_int_equal(oci_platform_from_debian("hurd-i386", &p), -EINVAL);

        /* An index entry carries its platform after the size. */
        const struct oci_platform arm = { "linux", "arm64", "v8" };
        const struct oci_descriptor d = { .media_type = OCI_MEDIA_TYPE_MANIFEST,
                                          .digest = "sha256:"
                                                    "00000000000000000000000000000000"
                                                    "00000000000000000000000000000000",
                                          .size = 7,
                                          .platform = &arm };
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        assert_int_equal(oci_index_render(&d, 1, &buf, &len), 0);
        assert_non_null(strstr(buf, "\"size\":7,\"platform\":{\"architecture\":\"arm64\","
                                    "\"os\":\"linux\",\"variant\":\"v8\"}}"));
}

static void test_blobs(void **state)
{
        (void)state;
        _cleanup_free_ char *dir = make_tmpdir(), *layout = NULL;
        assert_true(asprintf(&layout, "%s/a/img", dir) > 0);
        assert_int_equal(oci_layout_create(layout, NULL), 0);

        /* A blob of known bytes lands under its sha256, mode 0644. */
        char digest[DIGEST_OCI_LEN];
        assert_int_equal(oci_blob_write(layout, "{}", 2, digest, NULL), 0);
        assert_string_equal(digest, "sha256:" HEX_EMPTY);
        _cleanup_free_ char *path = NULL, *text = NULL;
        assert_int_equal(oci_blob_path(layout, digest, &path), 0);
        text = read_text(path);
        assert_string_equal(text, "{}");
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);

        /* Written first, named once known. */
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        assert_int_equal(oci_blob_open(layout, &tmp, &fd, NULL), 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(write_all(fd, "{}", 2), 0);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(oci_blob_commit(layout, tmp, digest, NULL), 0);
        assert_int_equal(access(tmp, F_OK), -1);
        free(text);
        text = read_text(path);
        assert_string_equal(text, "{}");

        /* Another layout gets the same blob as a link to it. */
        _cleanup_free_ char *other = NULL, *other_path = NULL;
        assert_true(asprintf(&other, "%s/b", dir) > 0);
        assert_int_equal(oci_layout_create(other, NULL), 0);
        assert_int_equal(oci_blob_link(other, path, digest, NULL), 0);
        assert_int_equal(oci_blob_path(other, digest, &other_path), 0);
        struct stat a, b;
        assert_int_equal(stat(path, &a), 0);
        assert_int_equal(stat(other_path, &b), 0);
        assert_true(a.st_ino == b.st_ino);

        /* index.json as given, and the layout marker. */
        assert_int_equal(oci_layout_finish(layout, "{\"x\":1}\n", 8, NULL), 0);
        _cleanup_free_ char *index = NULL, *marker = NULL, *itext = NULL, *mtext = NULL;
        assert_true(asprintf(&index, "%s/index.json", layout) > 0);
        assert_true(asprintf(&marker, "%s/oci-layout", layout) > 0);
        itext = read_text(index);
        mtext = read_text(marker);
        assert_string_equal(itext, "{\"x\":1}\n");
        assert_string_equal(mtext, "{\"imageLayoutVersion\":\"1.0.0\"}\n");

        /* An unwritable place is an error naming it. */
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(oci_blob_write("/nonexistent/layout", "{}", 2, digest, &err), -ENOENT);
        assert_non_null(strstr(err.messages[0], "/nonexistent/layout/blobs/sha256/" HEX_EMPTY));
        assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_digests_and_paths),
                cmocka_unit_test(test_config_bytes),
                cmocka_unit_test(test_manifest_bytes),
                cmocka_unit_test(test_index_bytes),
                cmocka_unit_test(test_blobs),
                cmocka_unit_test(test_platforms),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
