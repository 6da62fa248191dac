/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer compression: gzip and zstd streams whose bytes depend only on the input, never on the
 * number of threads nor on how the input is split into compress_write() calls.
 *
 * gzip: the input is cut into fixed COMPRESS_CHUNK-byte chunks, each deflated on its own
 * (level 6, the previous 32 KiB as dictionary, ended with a sync flush, as pigz does), so
 * chunks compress in parallel. The chunks form ONE gzip member (no name, no mtime) whose CRC-32
 * is combined from the chunks' with crc32_combine. A full chunk whose byte and byte-pair
 * frequencies are near uniform (already compressed data: deflate cannot shrink it) is written
 * as stored blocks instead of being deflated, which is what most of the time went into.
 *
 * zstd: one single-threaded zstd stream (level 3, no checksum): the bytes libarchive's zstd
 * filter wrote. With more than one thread it runs on one worker beside the caller.
 *
 * The sink receives the compressed bytes in order, always on the caller's thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

enum compress_alg {
        COMPRESS_GZIP,
        COMPRESS_ZSTD,
};

#define COMPRESS_GZIP_LEVEL 6
#define COMPRESS_ZSTD_LEVEL 3
/* Part of the gzip format cairn writes: changing it changes every gzip layer's bytes. */
#define COMPRESS_CHUNK       (128 * 1024)
#define COMPRESS_MAX_THREADS 64
/* Bump whenever compress.c writes other bytes for the same input (chunking, the stored-chunk
 * test, header or trailer, library parameters): it names the layer cache's entries, so a stale
 * entry is never taken for this version's output. */
#define COMPRESS_FORMAT_VERSION 1
#define COMPRESS_FORMAT_ID_MAX  64

/* Receives compressed bytes; returns 0 or -errno (which aborts the stream). */
typedef int (*compress_sink_fn)(void *userdata, const void *buf, size_t len);

/* The number of threads to compress with: $CAIRN_THREADS when it is 1..64, else the CPUs this
 * process may run on (at most 64). */
unsigned compress_default_threads(void);

/* "gzip" or "zstd": 0, or -EINVAL. */
int compress_alg_from_name(const char *name, enum compress_alg *ret);

/*
 * A name for the bytes alg writes: the algorithm, its level, the library's run-time version and
 * COMPRESS_FORMAT_VERSION, e.g. "gzip-6-zlib1.2.13-v1". Equal inputs compressed under equal
 * names give equal bytes (the thread count never matters).
 */
void compress_format_id(enum compress_alg alg, char out[COMPRESS_FORMAT_ID_MAX]);

/* "zstd 1.5.4" or "zlib 1.2.13": the library alg compresses with, at run time. */
void compress_library(enum compress_alg alg, char out[COMPRESS_FORMAT_ID_MAX]);

struct compressor;

/*
 * A new stream. threads >= 1; with 1 everything runs on the caller's thread, and worker
 * threads start only once the input exceeds one chunk. sink and userdata are borrowed until
 * compress_free. Returns 0 or -ENOMEM.
 */
int compress_new(enum compress_alg alg, unsigned threads, compress_sink_fn sink, void *userdata,
                 struct compressor **ret);

/* Adds input; may call the sink. 0, the sink's error, -ENOMEM, or -EIO when the compression
 * library fails. After an error the stream is dead: every later call returns it. */
int compress_write(struct compressor *c, const void *buf, size_t len);

/* Ends the stream: everything left and the trailer reach the sink. Call at most once. */
int compress_finish(struct compressor *c);

/* Stops the workers and frees everything; accepts NULL and an unfinished stream. */
void compress_free(struct compressor *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct compressor *, compress_free)
