/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sealed cache entries (DESIGN.md §8, docs/security.md "The cache is not trusted"). Derived
 * data that cannot verify itself (parsed keyrings and indexes, a .deb's member list, content
 * scan results, layer cache entries) is written with a trailer holding an HMAC-SHA256 over
 * what it is (kind), what it was derived from (bind: the source's digest) and its bytes. The
 * key lives outside the cache: $CAIRN_CACHE_KEY, else $XDG_STATE_HOME/cairn/cache.key, else
 * ~/.local/state/cairn/cache.key, 32 random bytes created on first use with mode 0600. Somebody
 * who can write the cache but not read that key cannot make an entry that verifies.
 *
 * A file that does not verify is a miss: the caller derives it again, replaces it and reports
 * it once with cachemac_notice_rebuilt() ("cache entry PATH did not verify; rebuilt"). Without
 * a usable key nothing sealed is trusted or written (every use re-derives).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CACHEMAC_KEY_LEN 32
/* "cairn-mac 1 " + 64 hex digits + "\n" at the end of a sealed file */
#define CACHEMAC_TRAILER_LEN 77

/* The key (loaded or created once per process; thread-safe). 0 and *ret (static storage), or
 * -errno when no key can be had; the reason is reported once through the notice hook. */
int cachemac_key(const uint8_t **ret);

/* HMAC-SHA256 over kind, bind and len bytes of buf. 0 or -errno (no key, libcrypto failure). */
int cachemac_compute(const char *kind, const char *bind, const void *buf, size_t len,
                     uint8_t ret[32]);

/* buf followed by its trailer, in a new allocation (*ret owned by the caller, *ret_len bytes). */
int cachemac_seal(const char *kind, const char *bind, const void *buf, size_t len, char **ret,
                  size_t *ret_len);

/* Whether buf (len bytes, trailer included) verifies for kind and bind: the length of the
 * content before the trailer, or -EBADMSG (no trailer, another key, other bytes), or -errno
 * when no key can be had. */
int64_t cachemac_check(const char *kind, const char *bind, const void *buf, size_t len);

/* Writes buf sealed to path through a temporary sibling and rename(2). 0 or -errno; never
 * fatal to a build (callers ignore it). */
int cachemac_write(const char *path, const char *kind, const char *bind, const void *buf,
                   size_t len);

/*
 * Reads path (at most max content bytes; opened without following a symlink, a regular file
 * only) and checks its seal. 0 with *ret (owned, NUL-terminated after the content) and
 * *ret_len (the content's length); -ENOENT when there is no such file; -EBADMSG when it is
 * there but does not verify; other -errno (no key). Reports nothing.
 */
int cachemac_read(const char *path, size_t max, const char *kind, const char *bind, char **ret,
                  size_t *ret_len);

/* A key found inside dir (the cache directory) is refused: nothing sealed is then used. Call
 * before the key is first used; the last call wins. dir is copied. */
void cachemac_forbid_under(const char *dir);

/* The one line for an entry that did not verify and was derived again. */
void cachemac_notice_rebuilt(const char *path);

/* Where notices go (the command layer prints them on stderr); NULL: nowhere. */
void cachemac_set_notice(void (*fn)(const char *line));
