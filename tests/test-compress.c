/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>
#include <zstd.h>

#include "image/compress.h"

struct buf {
        uint8_t *data;
        size_t len, cap;
        size_t fail_after; /* 0: never fail */
};

static int buf_sink(void *userdata, const void *p, size_t len)
{
        struct buf *b = userdata;
        if (b->fail_after && b->len + len > b->fail_after)
                return -ENOSPC;
        if (b->len + len > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->len + len)
                        cap *= 2;
                b->data = realloc(b->data, cap);
                assert_non_null(b->data);
                b->cap = cap;
        }
        memcpy(b->data + b->len, p, len);
        b->len += len;
        return 0;
}

/* Deterministic input: text, a random run, zeros, a byte ramp, more random. */
static uint8_t *make_input(size_t len)
{
        uint8_t *p = malloc(len ? len : 1);
        assert_non_null(p);
        uint32_t x = 2463534242u;
        for (size_t i = 0; i < len; i++) {
                size_t part = i * 5 / (len ? len : 1);
                if (part == 0) {
                        p[i] = (uint8_t) "the quick brown fox jumps over the lazy dog\n"[i % 44];
                } else if (part == 1 || part == 4) {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        p[i] = (uint8_t)x;
                } else if (part == 2) {
                        p[i] = 0;
                } else {
                        p[i] = (uint8_t)i;
                }
        }
        return p;
}

/* Compresses in with the given thread count, in pieces of `step` bytes. */
static struct buf compress_all(enum compress_alg alg, unsigned threads, const uint8_t *in,
                               size_t len, size_t step)
{
        struct buf out = { 0 };
        struct compressor *c = NULL;
        assert_int_equal(compress_new(alg, threads, buf_sink, &out, &c), 0);
        for (size_t off = 0; off < len; off += step)
                assert_int_equal(compress_write(c, in + off, len - off < step ? len - off : step),
                                 0);
        assert_int_equal(compress_finish(c), 0);
        compress_free(c);
        return out;
}

static void assert_gunzips_to(const struct buf *gz, const uint8_t *in, size_t len)
{
        uint8_t *plain = malloc(len + 1);
        assert_non_null(plain);
        z_stream z = { 0 };
        assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
        z.next_in = gz->data;
        z.avail_in = (uInt)gz->len;
        z.next_out = plain;
        z.avail_out = (uInt)len + 1;
        /* Z_STREAM_END only after the CRC-32 and ISIZE in the trailer matched. */
        assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
        assert_int_equal(z.total_out, len);
        assert_int_equal(z.avail_in, 0);
        assert_memory_equal(plain, in, len);
        inflateEnd(&z);
        free(plain);
}

static const size_t sizes[] = { 0,
                                1,
                                1000,
                                COMPRESS_CHUNK - 1,
                                COMPRESS_CHUNK,
                                COMPRESS_CHUNK + 1,
                                5 * COMPRESS_CHUNK + 12345 };

static void test_gzip_round_trip_and_thread_independent(void **state)
{
        (void)state;
        for (size_t s = 0; s < ELEMENTSOF(sizes); s++) {
                size_t len = sizes[s];
                _cleanup_free_ uint8_t *in = make_input(len);
                struct buf one = compress_all(COMPRESS_GZIP, 1, in, len, 65536);
                /* No name, no time: ID1 ID2 CM FLG MTIME(4) XFL OS. */
                static const uint8_t header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
                assert_true(one.len >= 20);
                assert_memory_equal(one.data, header, sizeof(header));
                assert_gunzips_to(&one, in, len);
                static const unsigned threads[] = { 2, 3, 8 };
                static const size_t steps[] = { 1 << 20, 7, 4096 };
                for (size_t t = 0; t < ELEMENTSOF(threads); t++) {
                        if (len > 4 * COMPRESS_CHUNK && steps[t] < 4096)
                                continue; /* byte-sized writes of MiBs only cost time */
                        struct buf other =
                                compress_all(COMPRESS_GZIP, threads[t], in, len, steps[t]);
                        assert_int_equal(other.len, one.len);
                        assert_memory_equal(other.data, one.data, one.len);
                        free(other.data);
                }
                free(one.data);
        }
}

static void test_gzip_stores_random_deflates_structure(void **state)
{
        (void)state;
        size_t len = 8 * COMPRESS_CHUNK;
        _cleanup_free_ uint8_t *rnd = malloc(len);
        _cleanup_free_ uint8_t *ramp = malloc(len);
        assert_non_null(rnd);
        assert_non_null(ramp);
        uint32_t x = 88172645u;
        for (size_t i = 0; i < len; i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                rnd[i] = (uint8_t)x;
                ramp[i] = (uint8_t)i; /* flat byte counts, but deflate shrinks it ~1000x */
        }
        struct buf r = compress_all(COMPRESS_GZIP, 2, rnd, len, 1 << 20);
        assert_gunzips_to(&r, rnd, len);
        /* Stored: 5 bytes per 64 KiB block over the input, plus header and trailer. */
        assert_true(r.len <= len + 5 * (len / 65535 + 8) + 20);
        struct buf m = compress_all(COMPRESS_GZIP, 2, ramp, len, 1 << 20);
        assert_gunzips_to(&m, ramp, len);
        assert_true(m.len < len / 100);
        /* 32-bit records with one random byte: the sampled bytes alone look random, their
         * pairs do not, and deflate does shrink it. */
        for (size_t i = 0; i < len; i++)
                ramp[i] = i % 4 ? 0 : rnd[i];
        struct buf w = compress_all(COMPRESS_GZIP, 2, ramp, len, 1 << 20);
        assert_gunzips_to(&w, ramp, len);
        assert_true(w.len < len / 2);
        free(r.data);
        free(m.data);
        free(w.data);
}

static void assert_unzstds_to(const struct buf *zs, const uint8_t *in, size_t len)
{
        uint8_t *plain = malloc(len + 1);
        assert_non_null(plain);
        size_t n = ZSTD_decompress(plain, len + 1, zs->data, zs->len);
        assert_false(ZSTD_isError(n));
        assert_int_equal(n, len);
        assert_memory_equal(plain, in, len);
        free(plain);
}

static la_ssize_t la_write(struct archive *a, void *data, const void *p, size_t len)
{
        (void)a;
        assert_int_equal(buf_sink(data, p, len), 0);
        return (la_ssize_t)len;
}

/* What cairn wrote before it had its own compressor: libarchive's zstd filter, level 3. */
static struct buf libarchive_zstd(const uint8_t *in, size_t len)
{
        struct buf out = { 0 };
        struct archive *a = archive_write_new();
        assert_non_null(a);
        assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
        assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
        assert_int_equal(archive_write_set_filter_option(a, "zstd", "compression-level", "3"),
                         ARCHIVE_OK);
        assert_int_equal(archive_write_set_bytes_per_block(a, 0), ARCHIVE_OK);
        assert_int_equal(archive_write_open2(a, &out, NULL, la_write, NULL, NULL), ARCHIVE_OK);
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_pathname(ae, "layer.tar");
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        archive_entry_free(ae);
        if (len > 0)
                assert_int_equal(archive_write_data(a, in, len), (la_ssize_t)len);
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        return out;
}

static void test_zstd_round_trip_matches_libarchive(void **state)
{
        (void)state;
        for (size_t s = 0; s < ELEMENTSOF(sizes); s++) {
                size_t len = sizes[s];
                _cleanup_free_ uint8_t *in = make_input(len);
                struct buf one = compress_all(COMPRESS_ZSTD, 1, in, len, 65536);
                assert_unzstds_to(&one, in, len);
                struct buf two = compress_all(COMPRESS_ZSTD, 2, in, len, 4096);
                assert_int_equal(two.len, one.len);
                assert_memory_equal(two.data, one.data, one.len);
                struct buf la = libarchive_zstd(in, len);
                assert_int_equal(la.len, one.len);
                assert_memory_equal(la.data, one.data, one.len);
                free(one.data);
                free(two.data);
                free(la.data);
        }
}

static void test_sink_error_stops_the_stream(void **state)
{
        (void)state;
        size_t len = 12 * COMPRESS_CHUNK;
        _cleanup_free_ uint8_t *in = make_input(len);
        static const enum compress_alg algs[] = { COMPRESS_GZIP, COMPRESS_ZSTD };
        for (size_t a = 0; a < ELEMENTSOF(algs); a++) {
                for (unsigned threads = 1; threads <= 2; threads++) {
                        struct buf out = { .fail_after = 1000 };
                        struct compressor *c = NULL;
                        assert_int_equal(compress_new(algs[a], threads, buf_sink, &out, &c), 0);
                        int r = 0;
                        for (size_t off = 0; off < len && r == 0; off += 65536)
                                r = compress_write(c, in + off, 65536);
                        if (r == 0)
                                r = compress_finish(c);
                        assert_int_equal(r, -ENOSPC);
                        /* Dead for good, and freeing stops the workers. */
                        assert_int_equal(compress_write(c, in, 10), -ENOSPC);
                        compress_free(c);
                        free(out.data);
                }
        }
}

static void test_use_after_finish_is_refused(void **state)
{
        (void)state;
        static const enum compress_alg algs[] = { COMPRESS_GZIP, COMPRESS_ZSTD };
        for (size_t a = 0; a < ELEMENTSOF(algs); a++) {
                struct buf out = { 0 };
                struct compressor *c = NULL;
                assert_int_equal(compress_new(algs[a], 2, buf_sink, &out, &c), 0);
                assert_int_equal(compress_finish(c), 0);
                size_t len = out.len;
                assert_int_equal(compress_write(c, "x", 1), -EINVAL);
                assert_int_equal(compress_finish(c), -EINVAL);
                assert_int_equal(out.len, len); /* no second trailer */
                compress_free(c);
                free(out.data);
        }
}

static void test_format_id(void **state)
{
        (void)state;
        char gz[COMPRESS_FORMAT_ID_MAX], zs[COMPRESS_FORMAT_ID_MAX], want[COMPRESS_FORMAT_ID_MAX];
        compress_format_id(COMPRESS_GZIP, gz);
        compress_format_id(COMPRESS_ZSTD, zs);
        snprintf(want, sizeof(want), "gzip-%d-zlib%s-v%d", COMPRESS_GZIP_LEVEL, zlibVersion(),
                 COMPRESS_FORMAT_VERSION);
        assert_string_equal(gz, want);
        snprintf(want, sizeof(want), "zstd-%d-zstd%s-v%d", COMPRESS_ZSTD_LEVEL,
                 ZSTD_versionString(), COMPRESS_FORMAT_VERSION);
        assert_string_equal(zs, want);
        /* They name cache directories. */
        assert_null(strchr(gz, '/'));
        assert_null(strchr(zs, '/'));
}

static void test_default_threads(void **state)
{
        (void)state;
        setenv("CAIRN_THREADS", "1", 1);
        assert_int_equal(compress_default_threads(), 1);
        setenv("CAIRN_THREADS", "2", 1);
        assert_int_equal(compress_default_threads(), 2);
        setenv("CAIRN_THREADS", "0", 1);
        unsigned n0 = compress_default_threads();
        setenv("CAIRN_THREADS", "lots", 1);
        unsigned nx = compress_default_threads();
        unsetenv("CAIRN_THREADS");
        unsigned n = compress_default_threads();
        assert_true(n >= 1 && n <= COMPRESS_MAX_THREADS);
        assert_int_equal(n0, n);
        assert_int_equal(nx, n);
        enum compress_alg alg;
        assert_int_equal(compress_alg_from_name("zstd", &alg), 0);
        assert_int_equal(alg, COMPRESS_ZSTD);
        assert_int_equal(compress_alg_from_name("xz", &alg), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_gzip_round_trip_and_thread_independent),
                cmocka_unit_test(test_gzip_stores_random_deflates_structure),
                cmocka_unit_test(test_zstd_round_trip_matches_libarchive),
                cmocka_unit_test(test_sink_error_stops_the_stream),
                cmocka_unit_test(test_use_after_finish_is_refused),
                cmocka_unit_test(test_format_id),
                cmocka_unit_test(test_default_threads),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
