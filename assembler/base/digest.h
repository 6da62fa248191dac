/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256 and SHA-1 over streams, on top of OpenSSL's libcrypto (already in the process through
 * libcurl), so cairn carries no hash implementation of its own. libcrypto picks the CPU's SHA
 * instructions at run time: about 9x the throughput of libsolv's portable C code on the CI
 * machine, which made hashing the largest cost of writing an image. Published digests (OCI
 * blobs, diff_ids, SBOM checksums, pins) use this; store keys use XXH3-128 (store.h).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum digest_type {
        DIGEST_SHA256,
        DIGEST_SHA1,
        DIGEST_MD5, /* only for dpkg's md5sums lists, which scanners read; never an identity */
};

#define DIGEST_MAX_LEN 32
#define DIGEST_HEX_MAX (2 * DIGEST_MAX_LEN + 1)
/* "sha256:" + 64 hex + NUL */
#define DIGEST_OCI_LEN 72

struct digest;

/* New running digest; NULL on allocation failure. Free with digest_free. */
struct digest *digest_new(enum digest_type type);
void digest_free(struct digest *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct digest *, digest_free)
#define _cleanup_digest_ _cleanup_(digest_freep)

/* Adds len bytes (any size). */
void digest_update(struct digest *d, const void *buf, size_t len);

/* Finishes and writes the lower-case hex digest to out (DIGEST_HEX_MAX bytes). The digest can
 * not be updated afterwards. */
void digest_final_hex(struct digest *d, char out[DIGEST_HEX_MAX]);

/* Finishes and writes the raw digest (20 bytes for SHA-1, 32 for SHA-256) to out; returns its
 * length. The digest can not be updated afterwards. */
size_t digest_final_bin(struct digest *d, uint8_t out[DIGEST_MAX_LEN]);

/* "sha256:HEX" form used by OCI; d must be a DIGEST_SHA256 digest. */
void digest_final_oci(struct digest *d, char out[DIGEST_OCI_LEN]);

/* One-shot helpers: 0, or -errno when reading fd fails. fd is read from its current offset. */
int digest_fd_hex(enum digest_type type, int fd, char out[DIGEST_HEX_MAX]);
void digest_buf_hex(enum digest_type type, const void *buf, size_t len, char out[DIGEST_HEX_MAX]);
