/* SPDX-License-Identifier: Apache-2.0 */
/* The cached reading of a .deb: exact round trip, and every damage read as a miss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "debian/debcache.h"
#include "base/util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The .deb the lists are sealed for (any hex digest will do). */
#define DEB_SHA   "5b7e3d7a0c1f9e2d4b6a8c0e2f4a6b8d0c2e4f6a8b0d2c4e6f8a0b2d4c6e8f0a"
#define OTHER_SHA "0000000000000000000000000000000000000000000000000000000000000000"

struct fixture {
        char dir[64];
        char *path;
        struct store *store;
        struct deb_contents *dc;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        strcpy(f->dir, "/tmp/cairn-test-debcache-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_true(asprintf(&f->path, "%s/contents", f->dir) > 0);
        _cleanup_free_ char *objects = NULL;
        assert_true(asprintf(&objects, "%s/objects", f->dir) > 0);
        assert_int_equal(store_open(objects, &f->store, NULL), 0);
        f->dc = deb_contents_new();
        assert_non_null(f->dc);
        f->dc->control = strdup("Package: x\nMaintainer: A <a@b>\n");
        f->dc->control_len = strlen(f->dc->control);
        f->dc->has_scripts = true;
        struct deb_member m = { .path = (char *)"/usr/bin/a\nb",
                                .kind = DEB_MEMBER_FILE,
                                .mode = 04755,
                                .uid = 0,
                                .gid = 4294967295u };
        assert_int_equal(store_put_buf(f->store, "hello", 5, &m.key, NULL), 0);
        m.size = 5;
        assert_int_equal(deb_contents_add(f->dc, &m), 0);
        struct deb_member d = { .path = (char *)"/usr/lib/\xc3\xa9t\xc3\xa9",
                                .kind = DEB_MEMBER_DIR,
                                .mode = 0755 };
        assert_int_equal(deb_contents_add(f->dc, &d), 0);
        struct deb_member l = { .path = (char *)"/usr/bin/c",
                                .kind = DEB_MEMBER_SYMLINK,
                                .mode = 0777,
                                .target = (char *)"a b:12" };
        assert_int_equal(deb_contents_add(f->dc, &l), 0);
        struct deb_member s = { .path = (char *)"/dev/x", .kind = DEB_MEMBER_SPECIAL };
        assert_int_equal(deb_contents_add(f->dc, &s), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        deb_contents_free(f->dc);
        store_free(f->store);
        (void)rm_rf(f->dir);
        free(f->path);
        free(f);
        return 0;
}

static void test_round_trip(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(debcache_write(f->dc, f->path, DEB_SHA), 0);
        _cleanup_deb_contents_ struct deb_contents *r = NULL;
        assert_int_equal(debcache_read(f->path, DEB_SHA, f->store, &r), 0);
        assert_int_equal(r->n_members, f->dc->n_members);
        assert_true(r->has_scripts);
        assert_int_equal(r->control_len, f->dc->control_len);
        assert_memory_equal(r->control, f->dc->control, r->control_len);
        for (size_t i = 0; i < r->n_members; i++) {
                const struct deb_member *a = &f->dc->members[i], *b = &r->members[i];
                assert_string_equal(a->path, b->path);
                assert_int_equal(a->kind, b->kind);
                assert_int_equal(a->mode, b->mode);
                assert_int_equal(a->uid, b->uid);
                assert_int_equal(a->gid, b->gid);
                assert_int_equal(a->size, b->size);
                assert_memory_equal(&a->key, &b->key, sizeof(a->key));
                if (a->target)
                        assert_string_equal(a->target, b->target);
                else
                        assert_null(b->target);
        }
}

/* Every truncation of a good file is a miss, never a partial result. */
static void test_damage(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(debcache_write(f->dc, f->path, DEB_SHA), 0);
        _cleanup_free_ char *good = NULL;
        size_t len = 0;
        assert_int_equal(read_file_bounded(f->path, 1 << 20, &good, &len), 0);
        for (size_t cut = 0; cut < len; cut++) {
                FILE *o = fopen(f->path, "we");
                assert_non_null(o);
                fwrite(good, 1, cut, o);
                fclose(o);
                struct deb_contents *r = NULL;
                assert_int_equal(debcache_read(f->path, DEB_SHA, f->store, &r), -EBADMSG);
                assert_null(r);
        }
        /* A different format version is a miss too. */
        good[strlen("cairn-deb-contents ")] = '9';
        FILE *o = fopen(f->path, "we");
        fwrite(good, 1, len, o);
        fclose(o);
        struct deb_contents *r = NULL;
        assert_int_equal(debcache_read(f->path, DEB_SHA, f->store, &r), -EBADMSG);
        assert_int_equal(debcache_read("/nonexistent/x", DEB_SHA, f->store, &r), -ENOENT);
}

/* A list sealed for another .deb, or edited in place, does not verify. */
static void test_forged(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(debcache_write(f->dc, f->path, OTHER_SHA), 0);
        struct deb_contents *r = NULL;
        assert_int_equal(debcache_read(f->path, DEB_SHA, f->store, &r), -EBADMSG);
        assert_null(r);
        assert_int_equal(debcache_write(f->dc, f->path, DEB_SHA), 0);
        _cleanup_free_ char *good = NULL;
        size_t len = 0;
        assert_int_equal(read_file_bounded(f->path, 1 << 20, &good, &len), 0);
        char *mode = strstr(good, "f 4755 ");
        assert_non_null(mode);
        mode[2] = '0'; /* setuid bit dropped, trailer kept */
        FILE *o = fopen(f->path, "we");
        fwrite(good, 1, len, o);
        fclose(o);
        assert_int_equal(debcache_read(f->path, DEB_SHA, f->store, &r), -EBADMSG);
        assert_null(r);
}

/* The objects a verified list names are checked too: other bytes of the same size, or a
 * symlink in an object's place, make the entry a miss. */
static void test_object_poisoned(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(debcache_write(f->dc, f->path, DEB_SHA), 0);
        char hex[STORE_KEY_HEX_LEN + 1];
        store_key_hex(&f->dc->members[0].key, hex);
        _cleanup_free_ char *obj = NULL;
        assert_true(asprintf(&obj, "%s/objects/%.2s/%s", f->dir, hex, hex + 2) > 0);
        assert_int_equal(chmod(obj, 0644), 0);
        FILE *o = fopen(obj, "we");
        fputs("HELLO", o);
        fclose(o);
        struct deb_contents *r = NULL;
        assert_int_equal(debcache_read(f->path, DEB_SHA, f->store, &r), -EBADMSG);
        assert_int_equal(unlink(obj), 0);
        _cleanup_free_ char *decoy = NULL;
        assert_true(asprintf(&decoy, "%s/decoy", f->dir) > 0);
        o = fopen(decoy, "we");
        fputs("hello", o);
        fclose(o);
        assert_int_equal(symlink(decoy, obj), 0);
        assert_int_equal(debcache_read(f->path, DEB_SHA, f->store, &r), -EBADMSG);
        assert_null(r);
}

/* Contents pruned from the store make the entry stale. */
static void test_missing_object(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(debcache_write(f->dc, f->path, DEB_SHA), 0);
        _cleanup_free_ char *objects = NULL;
        assert_true(asprintf(&objects, "%s/objects", f->dir) > 0);
        assert_int_equal(rm_rf(objects), 0);
        assert_int_equal(mkdir(objects, 0755), 0);
        store_free(f->store);
        assert_int_equal(store_open(objects, &f->store, NULL), 0);
        struct deb_contents *r = NULL;
        assert_int_equal(debcache_read(f->path, DEB_SHA, f->store, &r), -ESTALE);
        assert_null(r);
}

int main(void)
{
        /* A key of this test's own, never the user's. */
        char key[64];
        snprintf(key, sizeof(key), "/tmp/cairn-test-debcache-key-%d", (int)getpid());
        setenv("CAIRN_CACHE_KEY", key, 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_object, setup, teardown),
                cmocka_unit_test_setup_teardown(test_forged, setup, teardown),
                cmocka_unit_test_setup_teardown(test_object_poisoned, setup, teardown),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        (void)unlink(key);
        return r;
}
