/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content-addressed store on disk. File contents live here, keyed by XXH3-128 of their bytes;
 * the tree holds only keys, so memory stays flat whatever the image size.
 *
 * Layout: DIR/xx/yyyy... (first byte of the key in hex, then the rest). Objects are written to
 * a temporary file in DIR and renamed into place, so concurrent writers of the same content
 * never expose a half-written object. Objects are read-only (0444) once stored.
 *
 * The store's location never influences outputs: only keys and bytes are used. Aligned 4 KiB
 * runs of zeros are stored as holes (the bytes read back are the same).
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "base/digest.h"
#include "base/error.h"

struct store;

struct store_key {
        uint8_t bytes[16];
};

#define STORE_KEY_HEX_LEN 32

/* Opens (creating when missing, mode 0755) the store at dir. *ret is owned by the caller. */
int store_open(const char *dir, struct store **ret, struct cairn_error *err);
void store_free(struct store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct store *, store_free)
#define _cleanup_store_ _cleanup_(store_freep)

const char *store_dir(const struct store *s);

/*
 * Streaming writer: begin, write any number of chunks, then commit (or abort). A writer that
 * is freed without commit removes its temporary file.
 * max_size bounds the object: a write past it fails with -EFBIG.
 */
struct store_writer;
int store_writer_new(struct store *s, uint64_t max_size, struct store_writer **ret,
                     struct cairn_error *err);
int store_writer_write(struct store_writer *w, const void *buf, size_t len,
                       struct cairn_error *err);
/* n zero bytes (a hole in a sparse input): hashed, but not written. */
int store_writer_write_zeros(struct store_writer *w, uint64_t n, struct cairn_error *err);
/* Stores the object; on success writes the key and size. Frees w in every case. */
int store_writer_commit(struct store_writer *w, struct store_key *ret_key, uint64_t *ret_size,
                        struct cairn_error *err);
void store_writer_free(struct store_writer *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct store_writer *, store_writer_free)
#define _cleanup_store_writer_ _cleanup_(store_writer_freep)

/* Copies all of fd (from its current offset) into the store; a regular file's holes are hashed as
 * zeros and stored as holes, never read. */
int store_put_fd(struct store *s, int fd, uint64_t max_size, struct store_key *ret_key,
                 uint64_t *ret_size, struct cairn_error *err);
int store_put_buf(struct store *s, const void *buf, size_t len, struct store_key *ret_key,
                  struct cairn_error *err);

/*
 * Marks s as written by others too (CACHE/objects): an object is then always replaced on
 * commit instead of being taken for the same bytes because something has its name. Readers of
 * a shared store check objects against an authenticated key (store_check_object).
 */
void store_set_shared(struct store *s);

/*
 * Objects missing from s are then looked up in fallback (borrowed; it must outlive s): how a
 * build's private store reaches the package contents kept in the cache (CACHE/objects)
 * without copying them. Keys are content hashes, so where an object lives never matters.
 */
void store_set_fallback(struct store *s, const struct store *fallback);

/* Opens the object for reading (in s, else in its fallback): fd (O_RDONLY|O_CLOEXEC) or
 * -errno; never through a symlink, and only a regular file (-EBADMSG otherwise). */
int store_open_key(const struct store *s, const struct store_key *key);

/*
 * Whether the object under key holds size bytes whose XXH3-128 is key: 0; -ESTALE when it is
 * missing; -EBADMSG when it is something else (edited, replaced, a symlink). The check for
 * objects a shared cache holds, made against a key that comes from an authenticated list.
 */
int store_check_object(const struct store *s, const struct store_key *key, uint64_t size);

/*
 * SHA-1 and SHA-256 (lower-case hex) of an object's bytes: computed the first time they are
 * asked for and remembered for the life of the store, so each content is hashed once however
 * many files, variants and SBOMs name it. Safe to call from several threads. 0, or -errno
 * when the object cannot be read. The store is const to callers: the remembered digests are
 * a cache that changes no object and no answer (readers such as the enforcer ask too).
 */
int store_object_digests(const struct store *s, const struct store_key *key,
                         char ret_sha1[DIGEST_HEX_MAX], char ret_sha256[DIGEST_HEX_MAX]);

void store_key_hex(const struct store_key *key, char out[STORE_KEY_HEX_LEN + 1]);
int store_key_cmp(const struct store_key *a, const struct store_key *b);
