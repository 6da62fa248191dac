/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading tar archives somebody else wrote (artifact archives, a .deb's control.tar and
 * data.tar) with the limits every such reader needs:
 *
 *  - any compression libarchive reads (gzip, xz, bzip2, zstd, ...), recognised by content;
 *  - names byte for byte: cairn never calls setlocale(), so libarchive warns about every
 *    non-ASCII pax name it cannot convert to the C locale; that warning is accepted and the raw
 *    bytes are used (callers then refuse what tree_path_problem() refuses);
 *  - decompression bombs stop early: once more than UNTAR_EXPANSION_FLOOR bytes came out, they
 *    may be at most UNTAR_EXPANSION_MAX times the bytes read from the file. Data of entries the
 *    caller does not read is drained through the same check, and sparse entries count as the
 *    bytes they expand to.
 */
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "error.h"

#define UNTAR_EXPANSION_MAX   200
#define UNTAR_EXPANSION_FLOOR (64ULL << 20)

struct untar {
        struct archive *a;    /* owned */
        const char *what;     /* borrowed; names the archive in messages */
        enum cairn_exit exit; /* class of the errors this input causes */
        uint64_t out;         /* bytes of entry data handed out or drained so far */
        bool in_entry;        /* positioned on an entry (its data may be read) */
        char *entry;          /* owned; the current entry's name, escaped for messages */
};

/* Opens the archive readable from fd (borrowed: the caller keeps and closes it). what (borrowed,
 * must outlive u) names the archive in messages; errors carry class exit. */
int untar_open_fd(struct untar *u, int fd, const char *what, enum cairn_exit exit,
                  struct cairn_error *err);

/* Same, reading the raw bytes through read_cb(archive, data, &buf) (libarchive's contract). */
int untar_open_cb(struct untar *u, void *data, archive_read_callback *read_cb, const char *what,
                  enum cairn_exit exit, struct cairn_error *err);

/* Frees the archive. Accepts an unopened (zeroed) or already closed untar. */
void untar_close(struct untar *u);

/*
 * Moves to the next entry, first draining what is left of the current one through the bomb
 * check. 1 and *ret_entry (valid until the next call), 0 at the end of the archive, or a
 * negative errno with err filled.
 */
int untar_next(struct untar *u, struct archive_entry **ret_entry, struct cairn_error *err);

/* Reads the current entry's data: bytes read (0 at its end), or a negative errno with err. */
ssize_t untar_read(struct untar *u, void *buf, size_t len, struct cairn_error *err);
