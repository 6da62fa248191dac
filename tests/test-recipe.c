/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recipe model: every example in recipes/ parses, malformed recipes are reported at the
 * exact line:column, views filter by variant and merge run: key by key, and hostile inputs
 * (not YAML, empty, 10 MB, binary) end in one clean error.
 */
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "recipe/recipe.h"

#define HEAD "recipe: 1\nname: t\n"

#define SRC "sources:\n  - { name: d, url: apt, suite: s, keyring: /k }\n"

struct bad_case {
        const char *yaml;
        unsigned line, column;
        const char *fragment;
};

/* Each recipe has exactly one problem, reported at LINE:COLUMN with a message holding FRAGMENT. */
static const struct bad_case bad_cases[] = {
        { HEAD "nmae: x\n", 3, 1, "did you mean 'name'" },
        { HEAD "arch: []\n", 3, 7, "the list is empty" },
        { HEAD "arch: [arm64, amd64, arm64]\n", 3, 7, "'arm64' is named twice" },
        { HEAD "arch: [amd64, Arm64]\n", 3, 15, "not a Debian architecture name" },
        { HEAD "arch: [amd64, arm64]\nartifacts:\n  - { src: \"b/x-${arch}\", dest: /x, sha256: { "
               "amd64: 0000000000000000000000000000000000000000000000000000000000000000 } }\n",
          5, 45, "no pin for arm64" },
        { HEAD "arch: [amd64, arm64]\nartifacts:\n  - { src: \"b/x-${arch}\", dest: /x, sha256: "
               "0000000000000000000000000000000000000000000000000000000000000000 }\n",
          5, 12, "pin each" },
        { HEAD "arch: amd64\nartifacts:\n  - { src: \"b/x-${ARCH}\", dest: /x }\n", 5, 12,
          "the only marker src may hold" },
        { HEAD "arch: amd64\nartifacts:\n  - { src: b/x, dest: /x, sha256: { s390x: "
               "0000000000000000000000000000000000000000000000000000000000000000, amd64: "
               "0000000000000000000000000000000000000000000000000000000000000000 } }\n",
          5, 37, "'s390x' is not an architecture this recipe builds" },
        { HEAD "run:\n  entrypont: [/a]\n", 4, 3, "did you mean 'entrypoint'" },
        { HEAD "name: u\n", 3, 1, "duplicate key 'name'" },
        { "name: t\n", 1, 1, "missing required key 'recipe'" },
        { "recipe: 1\n", 1, 1, "missing required key 'name'" },
        { "recipe: 2\nname: t\n", 1, 9, "cairn reads version 1" },
        { "recipe: 1\nname: Bad_Name\n", 2, 7, "must match" },
        { HEAD "packages: ca-certificates\n", 3, 11, "expected a list" },
        { HEAD "accounts: [a]\n", 3, 11, "expected a mapping" },
        { HEAD "artifacts:\n  - { src: a, dest: /a, mode: 0755 }\n", 4, 31, "quoted octal string" },
        { HEAD "artifacts:\n  - { src: a, dest: /a, mode: \"0789\" }\n", 4, 31, "octal" },
        { HEAD "artifacts:\n  - { src: a, dest: app/a }\n", 4, 21, "absolute" },
        { HEAD "artifacts:\n  - { src: a, dest: /app/../a }\n", 4, 21, "'..'" },
        { HEAD "artifacts:\n  - { src: a, dest: /app/ }\n", 4, 21, "write '/app'" },
        { HEAD "artifacts:\n  - { src: a, dest: /app//a }\n", 4, 21, "write '/app/a'" },
        { HEAD "artifacts:\n  - { src: a, dest: /x }\nfiles:\n  - { path: /x, content: y }\n", 6, 5,
          "by an artifact at line 4" },
        { HEAD "sources:\n  - { name: d, url: apt, suite: s, keyring: /k }\n"
               "utilities:\n  - package: tini\n    files: { /usr/bin/tini: /x }\n"
               "artifacts:\n  - { src: a, dest: /x }\n",
          9, 5, "by a utility at line 7" },
        { HEAD "accounts:\n  groups: [{ name: a, gid: 1 }]\n  users: [{ name: a, uid: 1 }]\n"
               "files:\n  - { path: /etc/passwd, content: x }\n",
          7, 5, "'/etc/passwd' is written twice" },
        { HEAD "accounts:\n  groups:\n    - { name: a, gid: 5 }\n    - { name: b, gid: 5 }\n", 6,
          23, "gid 5 is used by group 'a'" },
        { HEAD "accounts:\n  groups: [{ name: g, gid: 7 }]\n  users:\n    - { name: a, uid: 7 }\n"
               "    - { name: b, uid: 7 }\n",
          7, 23, "uid 7 is used by user 'a'" },
        { HEAD "accounts:\n  groups:\n    - { name: a, gid: 5 }\n    - { name: a, gid: 6 }\n", 6, 7,
          "declared twice" },
        { HEAD "accounts:\n  users:\n    - { name: Root, uid: 7, gid: 7 }\n  groups: [{ name: g, "
               "gid: 7 }]\n",
          5, 15, "[a-z_]" },
        { HEAD "accounts:\n  users:\n    - { name: a, uid: 7 }\n", 5, 7,
          "group 7 is not declared" },
        { HEAD "files:\n  - { path: /a, variants: [staging] }\n", 4, 28,
          "unknown variant 'staging' (declared: dev, prod)" },
        { HEAD "sources:\n  - { name: d, url: \"http://h/debian\", suite: s, trusted: true }\n", 4,
          59, "only for file://" },
        { HEAD "sources:\n  - { name: d, url: apt, suite: s }\n", 4, 5, "keyring" },
        { HEAD "sources:\n  - { name: d, url: ftp://h, suite: s, keyring: /k }\n", 4, 21,
          "must be 'apt'" },
        { HEAD "sources:\n  - { name: d, type: rpm, url: apt, suite: s, keyring: /k }\n", 4, 22,
          "use deb" },
        { HEAD "artifacts:\n  - { src: a, dest: /a, sha256: abc }\n", 4, 33, "64 lower-case hex" },
        { HEAD "run:\n  stop-signal: SIGFOO\n", 4, 16, "SIGFOO" },
        { HEAD "run:\n  entrypoint: /app/hello\n", 4, 15, "write [/app/hello]" },
        { HEAD "run:\n  read-only: maybe\n", 4, 14, "true or false" },
        { HEAD "run:\n  init: tini\n", 4, 9, "cairn-init" },
        { HEAD "run:\n  workdir: app\n", 4, 12, "absolute" },
        { HEAD "run:\n  cmd: &x [a]\n  entrypoint: *x\n", 4, 8, "anchors" },
        { HEAD "packages: !!set { a }\n", 3, 11, "tag" },
        { HEAD "variants:\n  prod: { policy: paranoid }\n", 4, 19, "paranoid" },
        { HEAD "variants:\n  Prod: {}\n", 4, 3, "Prod" },
        { HEAD "epoch: -5\n", 3, 8, "non-negative" },
        { HEAD "files:\n  - { path: /l, type: symlink }\n", 4, 5, "target" },
        { HEAD "files:\n  - { path: /d, type: dir, content: x }\n", 4, 37, "only regular files" },
        { HEAD "files:\n  - { path: /d, type: fifo }\n", 4, 23, "fifo" },
        { HEAD "sources:\n  - { name: d, url: apt, suite: s, keyring: /k }\n"
               "utilities:\n  - package: tini\n    files: {}\n",
          7, 12, "non-empty" },
        { HEAD "utilities:\n  - package: tini\n    files: { /a: /b }\n", 1, 1, "sources:" },
        { HEAD "run:\n  env: { 1BAD: x }\n", 4, 10, "1BAD" },
        { HEAD "run:\n  capabilities: [NET_BIND_SERVICE, CAP_FLY]\n", 4, 36,
          "'CAP_FLY' is not a Linux capability" },
        { HEAD "run:\n  capabilities: [CHOWN, CAP_CHOWN]\n", 4, 25, "CAP_CHOWN is listed twice" },
        { HEAD "run:\n  capabilities: NET_RAW\n", 4, 17, "expected a list" },
        { HEAD "run:\n  landlock: yes\n", 4, 13, "true or false" },
        { HEAD "run:\n  healthcheck: { interval: 5s }\n", 4, 16, "exactly one of http" },
        { HEAD "run:\n  healthcheck: { http: \"http://a/\", tcp: \"1.2.3.4:5\" }\n", 4, 16,
          "exactly one of http" },
        { HEAD "run:\n  healthcheck: { http: \"https://127.0.0.1/\" }\n", 4, 24,
          "https is not supported" },
        { HEAD "run:\n  healthcheck: { http: \"http://db.internal/\" }\n", 4, 24,
          "IP address or localhost" },
        { HEAD "run:\n  healthcheck: { http: \"tcp://127.0.0.1:5\" }\n", 4, 24, "use tcp:" },
        { HEAD "run:\n  healthcheck: { http: \"http://127.0.0.1/a b\" }\n", 4, 24,
          "printable ASCII" },
        { HEAD "run:\n  healthcheck: { tcp: \"127.0.0.1\" }\n", 4, 23, "HOST:PORT" },
        { HEAD "run:\n  healthcheck: { tcp: \"127.0.0.1:5\", expect: 200 }\n", 4, 46,
          "http: checks only" },
        { HEAD "run:\n  healthcheck: { http: \"http://127.0.0.1/\", expect: 99 }\n", 4, 53,
          "100 to 599" },
        { HEAD "run:\n  healthcheck: { http: \"http://127.0.0.1/\", interval: 5 minutes }\n", 4, 55,
          "not a duration" },
        { HEAD "run:\n  healthcheck: { http: \"http://127.0.0.1/\", interval: 30s1m }\n", 4, 55,
          "not a duration" },
        { HEAD "run:\n  healthcheck: { http: \"http://127.0.0.1/\", interval: 500ms }\n", 4, 55,
          "at least 1s" },
        { HEAD "run:\n  healthcheck: { http: \"http://127.0.0.1/\", timeout: 2h }\n", 4, 54,
          "from 1s to 1h" },
        { HEAD "run:\n  healthcheck: { http: \"http://127.0.0.1/\", retries: 0 }\n", 4, 54,
          "from 1 to 100" },
        { HEAD "run:\n  healthcheck: { http: \"http://127.0.0.1/\", start-period: 25h }\n", 4, 59,
          "at most 24h" },
        { HEAD "run:\n  healthcheck: { http: \"http://127.0.0.1/\", retry: 3 }\n", 4, 45,
          "unknown key 'retry'" },
        { HEAD SRC "programs:\n  - { package: p }\n", 6, 5, "missing required key 'path'" },
        { HEAD SRC "programs:\n  - { path: /usr/bin/p }\n", 6, 5,
          "missing required key 'package'" },
        { HEAD SRC "programs:\n  - { package: p, path: /usr/bin/* }\n", 6, 25, "not a pattern" },
        { HEAD SRC "programs:\n  - { package: p, path: /p, dlopen: [/x.so], only-read: true }\n", 6,
          57, "has no pattern there" },
        { HEAD SRC "programs:\n  - { package: p, path: /p, dlopen: [x.so] }\n", 6, 38, "absolute" },
        { HEAD SRC "programs:\n  - { package: p, path: /p, dets: /q }\n", 6, 29,
          "did you mean 'dest'" },
        { HEAD "programs:\n  - { package: p, path: /p }\n", 1, 1, "under sources:" },
        { HEAD SRC
          "programs:\n  - { package: p, path: /p }\nfiles:\n  - { path: /p, content: x }\n",
          8, 5, "by a files item here and by a program at line 6" },
};

/* A programs: item: dest defaults to path, dlopen: keeps its order, the view filters it. */
static void recipe_programs(void **state)
{
        (void)state;
        static const char yaml[] =
                HEAD SRC "programs:\n"
                         "  - { package: python3.11-minimal, path: /usr/bin/python3.11 }\n"
                         "  - package: p (>= 1)\n"
                         "    path: /usr/bin/p\n"
                         "    dest: /app/p\n"
                         "    dlopen: [/usr/lib/p/*.so, /usr/lib/p/x.so]\n"
                         "    only-read: true\n"
                         "    copyright: false\n"
                         "    variants: [dev]\n";
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r = NULL;
        assert_int_equal(recipe_parse_buffer("t.yaml", yaml, strlen(yaml), &r, &err), 0);
        assert_int_equal(r->n_programs, 2);
        assert_string_equal(r->programs[0].dest, "/usr/bin/python3.11");
        assert_null(r->programs[0].dlopen);
        assert_false(r->programs[0].only_read);
        assert_string_equal(r->programs[1].package, "p (>= 1)");
        assert_string_equal(r->programs[1].dest, "/app/p");
        assert_string_equal(r->programs[1].dlopen[0], "/usr/lib/p/*.so");
        assert_string_equal(r->programs[1].dlopen[1], "/usr/lib/p/x.so");
        assert_null(r->programs[1].dlopen[2]);
        assert_true(r->programs[1].only_read);
        assert_true(r->programs[1].no_copyright);
        _cleanup_recipe_view_ struct recipe_view *prod = NULL;
        assert_int_equal(recipe_view_new(r, "prod", &prod, &err), 0);
        assert_int_equal(prod->n_programs, 1);
        assert_true(recipe_debian_identity(r));
}

static void recipe_bad_cases(void **state)
{
        unsigned failures = 0;

        (void)state;
        for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
                const struct bad_case *c = &bad_cases[i];
                _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
                struct recipe *r = NULL;
                char prefix[64];
                int k;

                k = recipe_parse_buffer("t.yaml", c->yaml, strlen(c->yaml), &r, &err);
                snprintf(prefix, sizeof(prefix), "t.yaml:%u:%u: error: ", c->line, c->column);
                if (k != -EINVAL || err.n_messages != 1 ||
                    strncmp(err.messages[0], prefix, strlen(prefix)) != 0 ||
                    !strstr(err.messages[0], c->fragment)) {
                        print_error("case %zu: want %s...%s, got %d:\n", i, prefix, c->fragment, k);
                        for (size_t m = 0; m < err.n_messages; m++)
                                print_error("  %s\n", err.messages[m]);
                        failures++;
                }
                recipe_free(r);
                assert_null(r);
                assert_int_equal(cairn_error_exit_status(&err), CAIRN_EXIT_USAGE);
        }
        assert_int_equal(failures, 0);
        assert_true(sizeof(bad_cases) / sizeof(bad_cases[0]) >= 30);
}

/* Three independent problems: all three are reported, in file order. */
static void recipe_all_errors(void **state)
{
        static const char yaml[] = HEAD "colour: red\n"
                                        "artifacts:\n  - { src: a, dest: rel }\n"
                                        "run:\n  stop-signal: SIGNOPE\n";
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct recipe *r = NULL;

        (void)state;
        assert_int_equal(recipe_parse_buffer("t.yaml", yaml, strlen(yaml), &r, &err), -EINVAL);
        assert_null(r);
        assert_int_equal(err.n_messages, 3);
        assert_non_null(strstr(err.messages[0], "t.yaml:3:1: error: "));
        assert_non_null(strstr(err.messages[1], "t.yaml:5:21: error: "));
        assert_non_null(strstr(err.messages[2], "t.yaml:7:16: error: "));
}

/* More errors than the cap: the list ends with one "too many errors" line. */
static void recipe_error_cap(void **state)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_free_ char *yaml = NULL;
        struct recipe *r = NULL;
        size_t cap = 64 * 1024, len;

        (void)state;
        yaml = malloc(cap);
        assert_non_null(yaml);
        len = (size_t)snprintf(yaml, cap, HEAD "artifacts:\n");
        for (int i = 0; i < 200; i++)
                len += (size_t)snprintf(yaml + len, cap - len, "  - { src: a, dest: r%d }\n", i);
        assert_int_equal(recipe_parse_buffer("t.yaml", yaml, len, &r, &err), -EINVAL);
        assert_true(err.n_messages <= 52);
        assert_non_null(strstr(err.messages[err.n_messages - 1], "too many errors"));
}

static void recipe_examples_parse(void **state)
{
        const char *src = getenv("CAIRN_SOURCE_DIR");
        _cleanup_free_ char *pattern = NULL;
        glob_t g = { 0 };

        (void)state;
        assert_non_null(src);
        assert_true(asprintf(&pattern, "%s/recipes/*.yaml", src) > 0);
        assert_int_equal(glob(pattern, 0, NULL, &g), 0);
        assert_true(g.gl_pathc >= 3);
        for (size_t i = 0; i < g.gl_pathc; i++) {
                _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
                _cleanup_recipe_ struct recipe *r = NULL;

                if (recipe_parse_file(g.gl_pathv[i], &r, &err) < 0) {
                        for (size_t m = 0; m < err.n_messages; m++)
                                print_error("%s\n", err.messages[m]);
                        fail_msg("%s does not parse", g.gl_pathv[i]);
                }
                assert_int_equal(r->n_variants, 2);
                for (size_t v = 0; v < r->n_variants; v++) {
                        _cleanup_recipe_view_ struct recipe_view *view = NULL;
                        uint32_t uid, gid;

                        assert_int_equal(recipe_view_new(r, r->variants[v].name, &view, &err), 0);
                        assert_int_equal(recipe_view_run_ids(view, &uid, &gid, &err), 0);
                }
        }
        globfree(&g);
}

static const char merge_yaml[] = "recipe: 1\n"
                                 "name: merge\n"
                                 "sources: [{ name: d, url: apt, suite: s, keyring: /k }]\n"
                                 "packages:\n"
                                 "  - ca-certificates\n"
                                 "  - { name: strace, variants: [dev] }\n"
                                 "accounts:\n"
                                 "  groups: [{ name: app, gid: 1000 }]\n"
                                 "  users:\n"
                                 "    - { name: root, uid: 0 }\n"
                                 "    - { name: app, uid: 1000 }\n"
                                 "run:\n"
                                 "  entrypoint: [/app/srv]\n"
                                 "  cmd: [--serve]\n"
                                 "  env: { A: \"1\" }\n"
                                 "variants:\n"
                                 "  dev:\n"
                                 "    run: { cmd: [--debug] }\n"
                                 "  prod: {}\n";

static void recipe_healthcheck_and_landlock(void **state)
{
        static const char yaml[] =
                HEAD "run:\n  entrypoint: [/app/srv]\n  init: cairn-init\n"
                     "  healthcheck:\n    http: \"http://[::1]:8080/healthz?full=1\"\n"
                     "    expect: 204\n    interval: 1m30s\n    timeout: 2500ms\n"
                     "    retries: 5\n    start-period: 1h2m3s4ms\n"
                     "variants:\n  dev: { run: { healthcheck: none, landlock: true } }\n"
                     "  prod: {}\n  qa: { run: { read-only: true, landlock: false, healthcheck: "
                     "{ tcp: \"localhost:5432\", interval: 45 } } }\n";
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r = NULL;
        _cleanup_recipe_view_ struct recipe_view *dev = NULL, *prod = NULL, *qa = NULL;

        (void)state;
        assert_int_equal(recipe_parse_buffer("h.yaml", yaml, strlen(yaml), &r, &err), 0);
        assert_int_equal(recipe_view_new(r, "dev", &dev, &err), 0);
        assert_int_equal(recipe_view_new(r, "prod", &prod, &err), 0);
        assert_int_equal(recipe_view_new(r, "qa", &qa, &err), 0);
        const struct recipe_healthcheck *h = prod->run.healthcheck;
        assert_non_null(h);
        assert_int_equal(h->kind, RECIPE_PROBE_HTTP);
        assert_string_equal(h->target, "http://[::1]:8080/healthz?full=1");
        assert_int_equal(h->expect, 204);
        assert_true(h->interval_ns == 90LL * 1000000000);
        assert_true(h->timeout_ns == 2500LL * 1000000);
        assert_true(h->start_period_ns == 3723004LL * 1000000);
        assert_int_equal(h->retries, 5);
        /* prod: landlock follows the read-only root; dev's override sets it and drops the
         * check; qa's turns it off on a read-only root and probes tcp with the defaults */
        assert_int_equal(prod->run.landlock, 1);
        assert_int_equal(dev->run.landlock, 1);
        assert_null(dev->run.healthcheck);
        assert_int_equal(qa->run.landlock, 0);
        assert_int_equal(qa->run.read_only, 1);
        assert_int_equal(qa->run.healthcheck->kind, RECIPE_PROBE_TCP);
        assert_string_equal(qa->run.healthcheck->target, "tcp://localhost:5432");
        assert_true(qa->run.healthcheck->interval_ns == 45LL * 1000000000);
        assert_true(qa->run.healthcheck->timeout_ns == RECIPE_HEALTH_TIMEOUT_NS);
        assert_int_equal(qa->run.healthcheck->retries, RECIPE_HEALTH_RETRIES);
        assert_int_equal(qa->run.healthcheck->expect, 0);
}

/* landlock and healthcheck need cairn-init: the view says where and for which variant. */
static void recipe_restriction_needs_init(void **state)
{
        static const char yaml[] =
                HEAD "run:\n  entrypoint: [/app/srv]\n"
                     "variants:\n  prod: {}\n  dev: { run: { landlock: true } }\n";
        static const char yaml2[] = HEAD "run:\n  entrypoint: [/app/srv]\n"
                                         "  healthcheck: { tcp: \"127.0.0.1:1\" }\n";
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r = NULL, *r2 = NULL;
        _cleanup_recipe_view_ struct recipe_view *prod = NULL;
        struct recipe_view *dev = NULL;

        (void)state;
        assert_int_equal(recipe_parse_buffer("n.yaml", yaml, strlen(yaml), &r, &err), 0);
        /* prod is read-only, but without cairn-init its landlock default is off */
        assert_int_equal(recipe_view_new(r, "prod", &prod, &err), 0);
        assert_int_equal(prod->run.landlock, 0);
        assert_int_equal(recipe_view_new(r, "dev", &dev, &err), -EINVAL);
        assert_null(dev);
        assert_int_equal(err.n_messages, 1);
        assert_string_equal(err.messages[0], "n.yaml:7:27: error: variant dev: run.landlock needs "
                                             "run.init: cairn-init, which applies it");
        cairn_error_clear(&err);
        assert_int_equal(recipe_parse_buffer("n.yaml", yaml2, strlen(yaml2), &r2, &err), 0);
        assert_int_equal(recipe_view_new(r2, "dev", &dev, &err), -EINVAL);
        assert_non_null(strstr(err.messages[0], "n.yaml:5:16: error: variant dev: "
                                                "run.healthcheck needs run.init: cairn-init"));
}

static void recipe_variant_merge(void **state)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r = NULL;
        _cleanup_recipe_view_ struct recipe_view *dev = NULL, *prod = NULL;
        struct recipe_view *none = NULL;
        uint32_t uid, gid;

        (void)state;
        assert_int_equal(recipe_parse_buffer("m.yaml", merge_yaml, strlen(merge_yaml), &r, &err),
                         0);
        assert_int_equal(recipe_variant_index(r, "dev"), 0);
        assert_int_equal(recipe_variant_index(r, "prod"), 1);
        assert_int_equal(recipe_variant_index(r, "qa"), -ENOENT);
        assert_int_equal(r->epoch, -1);

        assert_int_equal(recipe_view_new(r, "dev", &dev, &err), 0);
        assert_int_equal(recipe_view_new(r, "prod", &prod, &err), 0);
        assert_int_equal(recipe_view_new(r, "qa", &none, &err), -ENOENT);
        assert_null(none);
        cairn_error_clear(&err);

        /* strace is dev-only */
        assert_int_equal(dev->n_packages, 2);
        assert_string_equal(dev->packages[1]->name, "strace");
        assert_int_equal(prod->n_packages, 1);
        assert_string_equal(prod->packages[0]->name, "ca-certificates");

        /* dev overrides cmd only: entrypoint and env are inherited */
        assert_string_equal(dev->run.cmd[0], "--debug");
        assert_null(dev->run.cmd[1]);
        assert_string_equal(dev->run.entrypoint[0], "/app/srv");
        assert_int_equal(dev->run.n_env, 1);
        assert_string_equal(prod->run.cmd[0], "--serve");

        /* defaults: dev is writable as root with the dev profile; prod is read-only, runs as
         * the first non-root user, under the strict profile */
        assert_string_equal(dev->policy, "dev");
        assert_true(dev->run.read_only != 1);
        assert_null(dev->run.user);
        assert_int_equal(recipe_view_run_ids(dev, &uid, &gid, &err), 0);
        assert_int_equal(uid, 0);
        assert_string_equal(prod->policy, "strict");
        assert_int_equal(prod->run.read_only, 1);
        assert_string_equal(prod->run.user, "app");
        assert_int_equal(recipe_view_run_ids(prod, &uid, &gid, &err), 0);
        assert_int_equal(uid, 1000);
        assert_int_equal(gid, 1000);
        assert_int_equal(prod->epoch, 0);
        assert_null(prod->policy_tuning);

        assert_non_null(recipe_view_find_user(prod, "app"));
        assert_null(recipe_view_find_user(prod, "nobody"));
        assert_non_null(recipe_view_find_group(prod, "app"));
}

static void recipe_run_ids_forms(void **state)
{
        static const char yaml[] = HEAD "run: { user: \"123:456\" }\n";
        static const char yaml2[] = HEAD "run: { user: ghost }\n";
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r = NULL, *r2 = NULL;
        _cleanup_recipe_view_ struct recipe_view *v = NULL, *v2 = NULL;
        uint32_t uid = 1, gid = 1;

        (void)state;
        assert_int_equal(recipe_parse_buffer("t.yaml", yaml, strlen(yaml), &r, &err), 0);
        assert_int_equal(recipe_view_new(r, "prod", &v, &err), 0);
        assert_int_equal(recipe_view_run_ids(v, &uid, &gid, &err), 0);
        assert_int_equal(uid, 123);
        assert_int_equal(gid, 456);

        if (recipe_parse_buffer("t.yaml", yaml2, strlen(yaml2), &r2, &err) == 0) {
                assert_int_equal(recipe_view_new(r2, "dev", &v2, &err), 0);
                assert_int_equal(recipe_view_run_ids(v2, &uid, &gid, &err), -ENOENT);
                assert_true(cairn_error_isset(&err));
        } else
                assert_non_null(strstr(err.messages[0], "ghost"));
}

/* A variant's run.user may name an account declared below the variants: (they are walked
 * first); an undeclared one is an error at its own position. */
static void recipe_variant_run_user(void **state)
{
        static const char ok[] = HEAD "accounts:\n"
                                      "  groups: [{ name: app, gid: 65532 }]\n"
                                      "  users: [{ name: app, uid: 65532, gid: 65532 }]\n"
                                      "variants:\n"
                                      "  prod: { run: { user: app } }\n";
        static const char bad[] = HEAD "variants:\n"
                                       "  prod: { run: { user: ghost } }\n";
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r = NULL, *r2 = NULL;
        _cleanup_recipe_view_ struct recipe_view *v = NULL;
        uint32_t uid = 1, gid = 1;

        (void)state;
        assert_int_equal(recipe_parse_buffer("t.yaml", ok, strlen(ok), &r, &err), 0);
        assert_int_equal(recipe_view_new(r, "prod", &v, &err), 0);
        assert_int_equal(recipe_view_run_ids(v, &uid, &gid, &err), 0);
        assert_int_equal(uid, 65532);
        assert_int_equal(recipe_parse_buffer("t.yaml", bad, strlen(bad), &r2, &err), -EINVAL);
        assert_int_equal(err.n_messages, 1);
        assert_non_null(strstr(err.messages[0], "user: 'ghost' is not declared"));
}

/* run.capabilities: either spelling, kept as CAP_ names in recipe order, merged per variant. */
static void recipe_capabilities(void **state)
{
        static const char yaml[] = HEAD "run: { capabilities: [net_bind_service] }\n";
        static const char yaml2[] =
                HEAD "run: { capabilities: [NET_BIND_SERVICE, CAP_CHOWN] }\n"
                     "variants:\n  dev: {}\n  prod: { run: { capabilities: [] } }\n";
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r = NULL, *r2 = NULL;
        _cleanup_recipe_view_ struct recipe_view *dev = NULL, *prod = NULL;

        (void)state;
        /* Names are upper case, as the kernel and the runtime spec write them. */
        assert_int_equal(recipe_parse_buffer("t.yaml", yaml, strlen(yaml), &r, &err), -EINVAL);
        cairn_error_clear(&err);
        assert_int_equal(recipe_parse_buffer("t.yaml", yaml2, strlen(yaml2), &r2, &err), 0);
        assert_int_equal(recipe_view_new(r2, "dev", &dev, &err), 0);
        assert_int_equal(recipe_view_new(r2, "prod", &prod, &err), 0);
        assert_string_equal(dev->run.capabilities[0], "CAP_NET_BIND_SERVICE");
        assert_string_equal(dev->run.capabilities[1], "CAP_CHOWN");
        assert_null(dev->run.capabilities[2]);
        assert_non_null(prod->run.capabilities);
        assert_null(prod->run.capabilities[0]);
}

/* arch: one name or a list, kept in byte order; ${arch} in src; a pin per architecture. */
static void recipe_archs(void **state)
{
        static const char one[] = HEAD "arch: arm64\n";
        static const char list[] = HEAD
                "arch: [arm64, amd64]\nartifacts:\n  - { src: \"b/x-${arch}-${arch}\", dest: /x, "
                "sha256: { arm64: "
                "1111111111111111111111111111111111111111111111111111111111111111, amd64: "
                "2222222222222222222222222222222222222222222222222222222222222222 } }\n";
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r1 = NULL, *r2 = NULL, *r3 = NULL;
        (void)state;
        assert_int_equal(recipe_parse_buffer("t.yaml", one, strlen(one), &r1, &err), 0);
        assert_int_equal(r1->n_archs, 1);
        assert_string_equal(r1->arch, "arm64");
        assert_true(recipe_has_arch(r1, "arm64"));
        assert_false(recipe_has_arch(r1, "amd64"));

        assert_int_equal(recipe_parse_buffer("t.yaml", list, strlen(list), &r2, &err), 0);
        assert_int_equal(r2->n_archs, 2);
        assert_null(r2->arch);
        assert_string_equal(r2->archs[0], "amd64");
        assert_string_equal(r2->archs[1], "arm64");
        assert_null(r2->archs[2]);
        const struct recipe_artifact *a = &r2->artifacts[0];
        assert_string_equal(recipe_artifact_pin(a, "amd64"),
                            "2222222222222222222222222222222222222222222222222222222222222222");
        assert_string_equal(recipe_artifact_pin(a, "arm64"),
                            "1111111111111111111111111111111111111111111111111111111111111111");
        assert_null(recipe_artifact_pin(a, "s390x"));
        _cleanup_free_ char *src = NULL;
        assert_int_equal(recipe_expand_arch(a->src, "arm64", &src), 0);
        assert_string_equal(src, "b/x-arm64-arm64");

        /* No arch: the build machine's. */
        assert_int_equal(recipe_parse_buffer("t.yaml", HEAD, strlen(HEAD), &r3, &err), 0);
        assert_null(r3->archs);
        assert_true(recipe_has_arch(r3, recipe_host_arch()));
}

static void recipe_paths(void **state)
{
        (void)state;
        assert_true(path_is_normalized("/"));
        assert_true(path_is_normalized("/a/b"));
        assert_false(path_is_normalized(""));
        assert_false(path_is_normalized("a"));
        assert_false(path_is_normalized("/a/"));
        assert_false(path_is_normalized("/a//b"));
        assert_false(path_is_normalized("/a/./b"));
        assert_false(path_is_normalized("/a/../b"));
        assert_non_null(recipe_host_arch());
}

static void expect_one_error(const char *buf, size_t len, const char *fragment)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct recipe *r = NULL;

        assert_true(recipe_parse_buffer("t.yaml", buf, len, &r, &err) < 0);
        assert_null(r);
        if (err.n_messages != 1 || strncmp(err.messages[0], "t.yaml:", 7) != 0 ||
            !strstr(err.messages[0], fragment)) {
                for (size_t m = 0; m < err.n_messages; m++)
                        print_error("  %s\n", err.messages[m]);
                fail_msg("want one error with '%s'", fragment);
        }
}

static void recipe_hostile_inputs(void **state)
{
        _cleanup_free_ char *big = NULL, *bin = NULL;
        size_t big_len = 10 * 1024 * 1024;
        unsigned seed = 12345;

        (void)state;
        expect_one_error("", 0, "empty");
        expect_one_error("   \n# only a comment\n", 20, "empty");
        expect_one_error("{ unclosed: [1, 2\n", 18, "t.yaml:");
        expect_one_error("just a sentence, not a recipe\n", 30,
                         "t.yaml:1:1: error: the recipe: expected a mapping");
        expect_one_error("recipe: 1\nname: t\n\xff\xfe bad\n", 22,
                         "t.yaml:3:1: error: invalid UTF-8");

        big = malloc(big_len);
        assert_non_null(big);
        memset(big, '#', big_len);
        expect_one_error(big, big_len, "larger than");

        bin = malloc(4096);
        assert_non_null(bin);
        for (size_t i = 0; i < 4096; i++) {
                seed = seed * 1103515245u + 12345u;
                bin[i] = (char)(i % 7 == 0 ? 0 : (seed >> 16));
        }
        expect_one_error(bin, 4096, "t.yaml:");

        /* deep nesting is bounded, not a stack overflow */
        {
                _cleanup_free_ char *deep = malloc(20001);
                assert_non_null(deep);
                memset(deep, '[', 20000);
                deep[20000] = 0;
                expect_one_error(deep, 20000, "t.yaml:");
        }
}

static void recipe_file_errors(void **state)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        struct recipe *r = NULL;

        (void)state;
        assert_int_equal(recipe_parse_file("/nonexistent/r.yaml", &r, &err), -ENOENT);
        assert_null(r);
        assert_true(cairn_error_isset(&err));

        /* a 10 MB file on disk: refused by size before it is read whole */
        {
                char path[] = "/tmp/test-recipe-XXXXXX";
                _cleanup_cairn_error_ struct cairn_error big_err = CAIRN_ERROR_INIT;
                _cleanup_free_ char *block = calloc(1, 1024 * 1024);
                int fd = mkstemp(path);

                assert_true(fd >= 0);
                assert_non_null(block);
                memset(block, '#', 1024 * 1024);
                for (int i = 0; i < 10; i++)
                        assert_int_equal(write(fd, block, 1024 * 1024), 1024 * 1024);
                close(fd);
                assert_int_equal(recipe_parse_file(path, &r, &big_err), -EFBIG);
                unlink(path);
                assert_null(r);
                assert_int_equal(big_err.n_messages, 1);
                assert_non_null(strstr(big_err.messages[0], "larger than"));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(recipe_bad_cases),
                cmocka_unit_test(recipe_programs),
                cmocka_unit_test(recipe_all_errors),
                cmocka_unit_test(recipe_error_cap),
                cmocka_unit_test(recipe_examples_parse),
                cmocka_unit_test(recipe_variant_merge),
                cmocka_unit_test(recipe_run_ids_forms),
                cmocka_unit_test(recipe_variant_run_user),
                cmocka_unit_test(recipe_paths),
                cmocka_unit_test(recipe_archs),
                cmocka_unit_test(recipe_capabilities),
                cmocka_unit_test(recipe_hostile_inputs),
                cmocka_unit_test(recipe_file_errors),
                cmocka_unit_test(recipe_healthcheck_and_landlock),
                cmocka_unit_test(recipe_restriction_needs_init),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
