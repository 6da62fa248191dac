/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime.json (assembler/runtime/runtime.c): its exact bytes, reading it back, what the
 * reader refuses; the snippets (runtime_format.c): valid YAML whatever the strings hold,
 * volume names, shell quoting, the probe command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "recipe/yamlnode.h"
#include "runtime/runtime.h"

static struct runtime_manifest *sample(void)
{
        struct runtime_manifest *m = calloc(1, sizeof(*m));
        assert_non_null(m);
        char *writable[] = { "/tmp", "/var/cache/app", NULL };
        char *env[] = { "TOKEN", NULL };
        char *exec[] = { "/app/svc", "/sbin/cairn-init", NULL };
        m->name = strdup("svc");
        m->variant = strdup("prod");
        m->uid = 65532;
        m->gid = 65533;
        m->read_only = true;
        m->writable = strv_copy(writable);
        m->require_env = strv_copy(env);
        m->init = strdup("cairn-init");
        m->stop_signal = strdup("SIGTERM");
        m->landlock = true;
        m->tmpfs = calloc(2, sizeof(*m->tmpfs));
        m->n_tmpfs = 2;
        m->tmpfs[0] = (struct runtime_tmpfs){ strdup("/tmp"), 01777, 0, 0 };
        m->tmpfs[1] = (struct runtime_tmpfs){ strdup("/var/cache/app"), 0755, 65532, 65533 };
        m->executables = strv_copy(exec);
        m->health = calloc(1, sizeof(*m->health));
        *m->health = (struct runtime_health){
                .type = strdup("http"),
                .target = strdup("http://127.0.0.1:8080/healthz"),
                .expect = 204,
                .interval_ns = 30000000000,
                .timeout_ns = 2500000000,
                .start_period_ns = 1000000000,
                .retries = 3,
        };
        assert_int_equal(runtime_probe_command(m->health->target, 204, m->health->timeout_ns,
                                               &m->health->command),
                         0);
        return m;
}

static const char sample_json[] =
        "{\"schema\":\"cairn-runtime/1\",\"name\":\"svc\",\"variant\":\"prod\",\"user\":\"65532:"
        "65533\",\"read-only\":true,\"writable\":[\"/tmp\",\"/var/cache/app\"],\"require-env\":["
        "\"TOKEN\"],\"init\":\"cairn-init\",\"stop-signal\":\"SIGTERM\",\"capabilities\":[],"
        "\"landlock\":true,"
        "\"tmpfs\":[{\"path\":\"/tmp\",\"mode\":\"1777\",\"uid\":0,\"gid\":0},{\"path\":\"/var/"
        "cache/app\",\"mode\":\"0755\",\"uid\":65532,\"gid\":65533}],\"executables\":[\"/app/"
        "svc\",\"/sbin/cairn-init\"],\"healthcheck\":{\"type\":\"http\",\"target\":\"http://"
        "127.0.0.1:8080/healthz\",\"expect\":204,\"interval\":30000000000,\"timeout\":2500000000,"
        "\"start-period\":1000000000,\"retries\":3,\"command\":[\"/sbin/cairn-init\",\"--probe\","
        "\"http://127.0.0.1:8080/healthz\",\"--expect\",\"204\",\"--timeout\",\"3\"]}}\n";

static void test_render_bytes_and_round_trip(void **state)
{
        (void)state;
        _cleanup_runtime_manifest_ struct runtime_manifest *m = sample(), *back = NULL;
        _cleanup_free_ char *buf = NULL, *again = NULL;
        size_t len, len2;
        assert_int_equal(runtime_manifest_render(m, &buf, &len), 0);
        assert_string_equal(buf, sample_json);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        assert_int_equal(runtime_manifest_parse("rt.json", buf, len, &back, &err), 0);
        assert_int_equal(back->uid, 65532);
        assert_int_equal(back->gid, 65533);
        assert_int_equal(back->n_tmpfs, 2);
        assert_int_equal(back->tmpfs[0].mode, 01777);
        assert_int_equal(back->health->expect, 204);
        assert_string_equal(back->health->command[6], "3");
        assert_int_equal(runtime_manifest_render(back, &again, &len2), 0);
        assert_string_equal(again, buf);

        /* No health check: null; expect 0: null. */
        _cleanup_runtime_manifest_ struct runtime_manifest *n = sample(), *nb = NULL;
        n->health->expect = 0;
        _cleanup_free_ char *b2 = NULL, *b3 = NULL;
        assert_int_equal(runtime_manifest_render(n, &b2, &len), 0);
        assert_non_null(strstr(b2, "\"expect\":null"));
        assert_int_equal(runtime_manifest_parse("rt.json", b2, len, &nb, &err), 0);
        assert_int_equal(nb->health->expect, 0);
        runtime_manifest_free(steal_pointer(&nb));
        struct runtime_health *h = steal_pointer(&n->health);
        free(h->type);
        free(h->target);
        strv_free(h->command);
        free(h);
        assert_int_equal(runtime_manifest_render(n, &b3, &len), 0);
        assert_non_null(strstr(b3, "\"healthcheck\":null}"));
        assert_int_equal(runtime_manifest_parse("rt.json", b3, len, &nb, &err), 0);
        assert_null(nb->health);
}

static void test_probe_command(void **state)
{
        (void)state;
        _cleanup_strv_free_ char **a = NULL, **b = NULL;
        assert_int_equal(runtime_probe_command("tcp://127.0.0.1:5", 0, 1000000001, &a), 0);
        assert_int_equal(strv_length(a), 5);
        assert_string_equal(a[3], "--timeout");
        assert_string_equal(a[4], "2"); /* rounded up */
        assert_int_equal(runtime_probe_command("http://127.0.0.1/", 500, 60000000000, &b), 0);
        assert_string_equal(b[4], "500");
        assert_string_equal(b[6], "60");
}

/* Replaces the first `from` of sample_json with `to` and expects the reader to refuse it. */
static void expect_refused(const char *from, const char *to, const char *why)
{
        const char *at = strstr(sample_json, from);
        assert_non_null(at);
        _cleanup_free_ char *doc = NULL;
        assert_true(asprintf(&doc, "%.*s%s%s", (int)(at - sample_json), sample_json, to,
                             at + strlen(from)) > 0);
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct runtime_manifest *m = NULL;
        int r = runtime_manifest_parse("rt.json", doc, strlen(doc), &m, &err);
        if (r != -EINVAL || !err.n_messages || !strstr(err.messages[0], why))
                fail_msg("%s -> %s: r=%d, <%s>, want <%s>", from, to, r,
                         err.n_messages ? err.messages[0] : "", why);
        assert_null(m);
}

static void test_parse_refuses(void **state)
{
        (void)state;
        expect_refused("cairn-runtime/1", "cairn-runtime/9", "is not cairn-runtime/1");
        expect_refused("\"name\":\"svc\"", "\"nam\":\"svc\"", "unknown key \"nam\"");
        expect_refused("\"variant\":\"prod\"", "\"name\":\"x\"", "given twice");
        expect_refused("\"read-only\":true", "\"read-only\":\"true\"", "true or false");
        expect_refused("\"user\":\"65532:65533\"", "\"user\":\"65532\"", "UID:GID");
        expect_refused("\"user\":\"65532:65533\"", "\"user\":\"a:b\"", "UID:GID");
        expect_refused("\"mode\":\"1777\"", "\"mode\":\"0999\"", "four octal digits");
        expect_refused("\"uid\":0", "\"uid\":-1", "number from 0");
        expect_refused("\"name\":\"svc\"", "\"name\":\"svc\\nkind: Secret\"", "not an image name");
        expect_refused("\"TOKEN\"", "\"TO KEN\"", "not a variable name");
        expect_refused("\"/app/svc\"", "\"app/svc\"", "not an absolute path");
        expect_refused("\"/app/svc\"", "\"/app/../etc\"", "not an absolute path");
        expect_refused("\"/var/cache/app\",\"mode\"", "\"/var/\\u0001\",\"mode\"",
                       "not an absolute path");
        expect_refused("\"type\":\"http\"", "\"type\":\"ftp\"", "\"http\" or \"tcp\"");
        expect_refused("\"retries\":3,", "", "no \"retries\"");
        expect_refused("\"landlock\":true,", "", "no \"landlock\"");
        expect_refused("\"capabilities\":[],", "", "no \"capabilities\"");
        expect_refused("\"capabilities\":[]", "\"capabilities\":[\"CAP_X\\nkind: Pod\"]",
                       "not a capability name");
        expect_refused("http://127.0.0.1:8080/healthz\",\"expect",
                       "http://127.0.0.1:8080/a\\nb\",\"expect", "control character");
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct runtime_manifest *m = NULL;
        assert_int_equal(runtime_manifest_parse("rt.json", "{not json", 9, &m, &err), -EINVAL);
        assert_non_null(strstr(err.messages[0], "not valid JSON"));
}

/* The YAML snippets load as YAML (libyaml, through the recipe's bounded reader). */
static struct ynode *yaml_of(int (*fmt)(const struct runtime_manifest *, const char *, FILE *),
                             const struct runtime_manifest *m, const char *image, char **ret_text)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        assert_int_equal(fmt(m, image, f), 0);
        assert_int_equal(fclose(f), 0);
        struct ynode *root = NULL;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        if (ynode_load("snippet", text, len, &root, &err) < 0)
                fail_msg("not YAML: %s\n%s", err.n_messages ? err.messages[0] : "", text);
        *ret_text = text;
        return root;
}

static const struct ynode *path_get(const struct ynode *n, const char *const *keys)
{
        for (; *keys; keys++) {
                if (n && n->type == YNODE_SEQUENCE)
                        n = n->n_items ? n->items[atoi(*keys)] : NULL;
                else
                        n = ynode_map_get(n, *keys);
        }
        return n;
}

#define GET(root, ...) path_get(root, (const char *const[]){ __VA_ARGS__, NULL })

static void test_kubernetes(void **state)
{
        (void)state;
        _cleanup_runtime_manifest_ struct runtime_manifest *m = sample();
        _cleanup_free_ char *text = NULL;
        _cleanup_ynode_ struct ynode *y = yaml_of(runtime_format_kubernetes, m, "r/svc:1", &text);
        assert_string_equal(GET(y, "kind")->value, "Pod");
        assert_string_equal(GET(y, "spec", "securityContext", "runAsUser")->value, "65532");
        assert_string_equal(GET(y, "spec", "securityContext", "fsGroup")->value, "65533");
        const struct ynode *c = GET(y, "spec", "containers", "0");
        assert_string_equal(GET(c, "image")->value, "r/svc:1");
        assert_string_equal(GET(c, "securityContext", "readOnlyRootFilesystem")->value, "true");
        assert_string_equal(GET(c, "securityContext", "allowPrivilegeEscalation")->value, "false");
        assert_string_equal(GET(c, "securityContext", "capabilities", "drop", "0")->value, "ALL");
        assert_string_equal(GET(c, "securityContext", "seccompProfile", "type")->value,
                            "RuntimeDefault");
        assert_string_equal(GET(c, "volumeMounts", "1", "name")->value, "var-cache-app");
        assert_string_equal(GET(c, "volumeMounts", "1", "mountPath")->value, "/var/cache/app");
        assert_string_equal(GET(y, "spec", "volumes", "1", "emptyDir", "medium")->value, "Memory");
        assert_string_equal(GET(c, "livenessProbe", "exec", "command", "2")->value,
                            "http://127.0.0.1:8080/healthz");
        assert_string_equal(GET(c, "livenessProbe", "timeoutSeconds")->value, "3");
        assert_string_equal(GET(c, "livenessProbe", "initialDelaySeconds")->value, "1");
        assert_non_null(strstr(text, "# cairn-init refuses to start without [\"TOKEN\"]"));

        /* Root: not runAsNonRoot. Strings that would break YAML stay inside their scalars. */
        m->uid = 0;
        free(m->tmpfs[1].path);
        m->tmpfs[1].path = strdup("/a: b\n- c #\"'");
        free(m->name);
        m->name = strdup("x\ny: 1");
        _cleanup_free_ char *text2 = NULL;
        _cleanup_ynode_ struct ynode *y2 =
                yaml_of(runtime_format_kubernetes, m, "img\n- evil", &text2);
        assert_string_equal(GET(y2, "spec", "securityContext", "runAsNonRoot")->value, "false");
        assert_string_equal(GET(y2, "metadata", "name")->value, "x\ny: 1");
        assert_null(GET(y2, "y"));
        assert_string_equal(GET(y2, "spec", "containers", "0", "image")->value, "img\n- evil");
        assert_string_equal(
                GET(y2, "spec", "containers", "0", "volumeMounts", "1", "mountPath")->value,
                "/a: b\n- c #\"'");
        assert_string_equal(GET(y2, "spec", "containers", "0", "volumeMounts", "1", "name")->value,
                            "a-b-c");

        /* run.capabilities: kept after the drop of ALL, as Kubernetes spells them. */
        char *caps[] = { "CAP_NET_BIND_SERVICE", NULL };
        m->capabilities = strv_copy(caps);
        _cleanup_free_ char *text3 = NULL;
        _cleanup_ynode_ struct ynode *y3 = yaml_of(runtime_format_kubernetes, m, "i", &text3);
        c = GET(y3, "spec", "containers", "0");
        assert_string_equal(GET(c, "securityContext", "capabilities", "drop", "0")->value, "ALL");
        assert_string_equal(GET(c, "securityContext", "capabilities", "add", "0")->value,
                            "NET_BIND_SERVICE");
        assert_non_null(strstr(text3, "          add: [\"NET_BIND_SERVICE\"]\n"));
}

static void test_volume_names_unique(void **state)
{
        (void)state;
        _cleanup_runtime_manifest_ struct runtime_manifest *m = sample();
        free(m->tmpfs[0].path);
        free(m->tmpfs[1].path);
        free(m->tmpfs);
        m->tmpfs = calloc(4, sizeof(*m->tmpfs));
        m->n_tmpfs = 4;
        const char *paths[] = { "/a_b", "/a-b", "/", "/A/B" };
        for (size_t i = 0; i < 4; i++)
                m->tmpfs[i] = (struct runtime_tmpfs){ strdup(paths[i]), 0755, 0, 0 };
        _cleanup_free_ char *text = NULL;
        _cleanup_ynode_ struct ynode *y = yaml_of(runtime_format_kubernetes, m, "i", &text);
        const char *want[] = { "a-b", "a-b-2", "root", "a-b-3" };
        for (size_t i = 0; i < 4; i++) {
                char idx[4];
                snprintf(idx, sizeof(idx), "%zu", i);
                assert_string_equal(GET(y, "spec", "volumes", idx, "name")->value, want[i]);
        }
}

static void test_docker_and_compose(void **state)
{
        (void)state;
        _cleanup_runtime_manifest_ struct runtime_manifest *m = sample();
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_int_equal(runtime_format_docker(m, "svc:prod", f), 0);
        fclose(f);
        assert_string_equal(
                text, "# generated by cairn from /etc/cairn/runtime.json of \"svc\" \"prod\"\n"
                      "docker run \\\n  --read-only \\\n"
                      "  --tmpfs /tmp:rw,noexec,nosuid,nodev,mode=1777,uid=0,gid=0 \\\n"
                      "  --tmpfs /var/cache/app:rw,noexec,nosuid,nodev,mode=0755,uid=65532,"
                      "gid=65533 \\\n"
                      "  --cap-drop ALL \\\n  --security-opt no-new-privileges \\\n"
                      "  --user 65532:65533 \\\n  -e TOKEN \\\n  svc:prod\n");
        free(text);

        /* A path with a quote and a space is one shell word. */
        free(m->tmpfs[1].path);
        m->tmpfs[1].path = strdup("/it's here");
        text = NULL;
        f = open_memstream(&text, &len);
        assert_int_equal(runtime_format_docker(m, "svc:prod", f), 0);
        fclose(f);
        assert_non_null(strstr(text, "--tmpfs '/it'\\''s here:rw,"));
        free(text);

        _cleanup_free_ char *ctext = NULL;
        _cleanup_ynode_ struct ynode *y = yaml_of(runtime_format_compose, m, "svc:prod", &ctext);
        const struct ynode *s = GET(y, "services", "svc");
        assert_string_equal(GET(s, "read_only")->value, "true");
        assert_string_equal(GET(s, "user")->value, "65532:65533");
        assert_string_equal(GET(s, "cap_drop", "0")->value, "ALL");
        assert_string_equal(GET(s, "security_opt", "0")->value, "no-new-privileges:true");
        assert_string_equal(GET(s, "tmpfs", "1")->value,
                            "/it's here:rw,noexec,nosuid,nodev,mode=0755,uid=65532,gid=65533");
        assert_string_equal(GET(s, "environment", "0")->value, "TOKEN");
        assert_null(strstr(ctext, "cap_add"));

        char *caps[] = { "CAP_NET_BIND_SERVICE", "CAP_CHOWN", NULL };
        m->capabilities = strv_copy(caps);
        text = NULL;
        f = open_memstream(&text, &len);
        assert_int_equal(runtime_format_docker(m, "svc:prod", f), 0);
        fclose(f);
        assert_non_null(strstr(text, "  --cap-drop ALL \\\n  --cap-add NET_BIND_SERVICE \\\n"
                                     "  --cap-add CHOWN \\\n  --security-opt"));
        free(text);
        _cleanup_free_ char *ctext2 = NULL;
        _cleanup_ynode_ struct ynode *y2 = yaml_of(runtime_format_compose, m, "svc:prod", &ctext2);
        assert_string_equal(GET(y2, "services", "svc", "cap_add", "1")->value, "CHOWN");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_render_bytes_and_round_trip),
                cmocka_unit_test(test_probe_command),
                cmocka_unit_test(test_parse_refuses),
                cmocka_unit_test(test_kubernetes),
                cmocka_unit_test(test_volume_names_unique),
                cmocka_unit_test(test_docker_and_compose),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
