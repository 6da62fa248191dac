/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a .deb holds, read once: the members of its data.tar (paths checked and normalised,
 * file contents in a content store) and its control file. stages/unpack.c builds it from the
 * package and then places what a variant wants; the cache keeps it as
 * CACHE/unpacked/SHA256-OF-THE-DEB, with the contents in the store CACHE/objects, so a warm
 * build never decompresses a package again.
 *
 * The cached file is sealed (base/cachemac.h) with the .deb's SHA-256, and every object it
 * names is checked against its XXH3-128 key and size on every read: debcache_read() refuses
 * anything it does not fully understand or that does not verify, and the caller then reads
 * the .deb again. It is written through a temporary file and rename(2), like everything in
 * the cache.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "tree/store.h"

#define DEBCACHE_MAX_BYTES   (256 * 1024 * 1024)
#define DEBCACHE_MAX_MEMBERS 200000

enum deb_member_kind {
        DEB_MEMBER_FILE = 'f', /* contents under key (a hardlink resolved to its target) */
        DEB_MEMBER_DIR = 'd',
        DEB_MEMBER_SYMLINK = 'l',  /* target */
        DEB_MEMBER_SPECIAL = 's',  /* device node, fifo or socket: refused when wanted */
        DEB_MEMBER_BAD_LINK = 'h', /* hardlink not to an earlier file of the package (target) */
};

struct deb_member {
        char *path; /* owned; normalised absolute path in the package */
        enum deb_member_kind kind;
        uint32_t mode, uid, gid;
        uint64_t size;        /* files */
        struct store_key key; /* files */
        char *target;         /* owned; symlinks and bad hardlinks, else NULL */
};

struct deb_contents {
        struct deb_member *members; /* owned, n_members, in archive order */
        size_t n_members, cap;
        char *control; /* owned; the control paragraph, ending in '\n', or NULL */
        size_t control_len;
        bool has_scripts; /* preinst, postinst, prerm or postrm present */
};

struct deb_contents *deb_contents_new(void);
void deb_contents_free(struct deb_contents *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct deb_contents *, deb_contents_free)
#define _cleanup_deb_contents_ _cleanup_(deb_contents_freep)

/* Appends a copy of m (path and target are copied). 0, -ENOMEM or -E2BIG past the limit. */
int deb_contents_add(struct deb_contents *c, const struct deb_member *m);

/*
 * Reads the .deb at path (never running anything from it) into *ret (owned by the caller),
 * file contents into objects. origin ("package NAME VERSION") names it in messages; a package
 * that is not a .deb or holds an entry escaping the root is a CAIRN_EXIT_SOURCE error.
 */
int debread(const char *origin, const char *path, struct store *objects, struct deb_contents **ret,
            struct cairn_error *err);

/*
 * Reads the cached contents at path of the .deb whose SHA-256 is deb_sha256 (hex). -ENOENT
 * when there is none (or no cache key), -EBADMSG when it does not verify (not sealed by this
 * user's key for that .deb, damaged, or naming an object that is not what it says), -ESTALE
 * when a file's object is missing from store. No error text: a cache miss is not a failure.
 * *ret is owned by the caller.
 */
int debcache_read(const char *path, const char *deb_sha256, const struct store *store,
                  struct deb_contents **ret);

/* Writes c, sealed for the .deb deb_sha256, to path through a temporary sibling. Errors are
 * returned, never fatal to a build. */
int debcache_write(const struct deb_contents *c, const char *path, const char *deb_sha256);

/* Whether path holds a member list sealed for the .deb deb_sha256 (the seal only; the objects
 * it names are checked by debcache_read). */
bool debcache_sealed(const char *path, const char *deb_sha256);

/*
 * Whether the cached .deb at path is the one whose SHA-256 is sha256 (and size bytes, when
 * size is not 0): a regular file, not followed through a symlink, hashed now. The cache may be
 * shared and written by others, so a .deb is checked like this before anything reads it. Its
 * size, or -ENOENT (none), -EBADMSG (other bytes), other -errno.
 */
int64_t debcache_deb_check(const char *path, const char *sha256, uint64_t size);
