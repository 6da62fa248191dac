/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compressed-layer cache, so that a layer whose tar is byte-identical to one built before
 * is not compressed again. Under the build cache CACHE:
 *
 *   CACHE/layers/FORMAT/KEY          an entry, one line: "DIFF_ID DIGEST SIZE"
 *   CACHE/layers/blobs/sha256/HEX    a compressed blob, named by its own sha256
 *   CACHE/layers/.tmp-PID-XXXXXX     a file being written (removed when its build died)
 *
 * FORMAT is compress_format_id(): the algorithm, level, library version and cairn's format
 * version. KEY is the caller's hash of what the tar is made from. An entry says: the tar whose
 * sha256 is DIFF_ID, compressed in FORMAT, is the blob DIGEST of SIZE bytes. Entries are
 * sealed with FORMAT/KEY (base/cachemac.h): one this user's cairn did not write is a miss.
 * The caller uses an entry only for a tar whose diff_id it has just computed and found
 * equal, and layercache_get hands a blob out only after checking the copy's size and sha256,
 * so a forged, stale, truncated or corrupted entry costs a compression, never a wrong output.
 *
 * Files appear only by rename(2), blob before entry, so concurrent builds sharing a cache and
 * builds killed midway never expose a partial file. Blobs are copied between the cache and
 * the output (reflinked where the filesystem can): they never share an inode.
 */
#pragma once

#include <stdint.h>

#include "base/digest.h"

struct layercache;

struct layercache_entry {
        char diff_id[DIGEST_OCI_LEN]; /* "sha256:HEX" of the uncompressed tar */
        char digest[DIGEST_OCI_LEN];  /* "sha256:HEX" of the compressed blob */
        uint64_t size;                /* of the compressed blob */
};

/* The cache of compressed layers in format under cache_dir; touches no file. *ret is owned by
 * the caller. 0, -EINVAL for a format that is not a plain file name, or -ENOMEM. */
int layercache_open(const char *cache_dir, const char *format, struct layercache **ret);
void layercache_free(struct layercache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct layercache *, layercache_free)

/* Reads the entry stored under key (a file name: [0-9a-z]+). 0; -ENOENT when there is none, it
 * is malformed or it does not verify (reported through cachemac's notice); other -errno. */
int layercache_lookup(const struct layercache *c, const char *key, struct layercache_entry *ret);

/*
 * Puts a copy of the blob e names at path (a reflink where possible) and checks what path then holds:
 * e->size bytes whose sha256 is e->digest. 0; -EEXIST when path exists (it is left alone);
 * -EBADMSG when the blob is missing or not what e says; other -errno. On any other failure
 * path does not exist.
 */
int layercache_get(const struct layercache *c, const struct layercache_entry *e, const char *path);

/*
 * Stores the complete blob at path (whose size and sha256 e gives, as computed while it was
 * written) and the entry e under key, replacing what was there. 0 or -errno; on failure no
 * temporary file is left and the cache holds what it held before, or the blob without its
 * entry.
 */
int layercache_put(const struct layercache *c, const char *key, const struct layercache_entry *e,
                   const char *path);
