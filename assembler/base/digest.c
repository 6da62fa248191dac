/* SPDX-License-Identifier: Apache-2.0 */
#include "digest.h"

#include <openssl/evp.h>

struct digest {
        EVP_MD_CTX *ctx; /* owned */
};

struct digest *digest_new(enum digest_type type)
{
        struct digest *d = calloc(1, sizeof(*d));
        if (!d)
                return NULL;
        d->ctx = EVP_MD_CTX_new();
        const EVP_MD *md = type == DIGEST_SHA1  ? EVP_sha1()
                           : type == DIGEST_MD5 ? EVP_md5()
                                                : EVP_sha256();
        if (!d->ctx || EVP_DigestInit_ex(d->ctx, md, NULL) != 1) {
                EVP_MD_CTX_free(d->ctx);
                free(d);
                return NULL;
        }
        return d;
}

void digest_free(struct digest *d)
{
        if (!d)
                return;
        EVP_MD_CTX_free(d->ctx);
        free(d);
}

void digest_update(struct digest *d, const void *buf, size_t len)
{
        /* Cannot fail for an initialised software digest. */
        (void)EVP_DigestUpdate(d->ctx, buf, len);
}

size_t digest_final_bin(struct digest *d, uint8_t out[DIGEST_MAX_LEN])
{
        unsigned char bin[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(d->ctx, bin, &len) != 1 || len > DIGEST_MAX_LEN)
                len = 0;
        memcpy(out, bin, len);
        return len;
}

void digest_final_hex(struct digest *d, char out[DIGEST_HEX_MAX])
{
        uint8_t bin[DIGEST_MAX_LEN];
        size_t len = digest_final_bin(d, bin);
        hex_encode(bin, len, out);
}

void digest_final_oci(struct digest *d, char out[DIGEST_OCI_LEN])
{
        memcpy(out, "sha256:", 7);
        digest_final_hex(d, out + 7);
}

int digest_fd_hex(enum digest_type type, int fd, char out[DIGEST_HEX_MAX])
{
        _cleanup_digest_ struct digest *d = digest_new(type);
        _cleanup_free_ uint8_t *buf = malloc(128 * 1024);
        if (!d || !buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read_retry(fd, buf, 128 * 1024);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        break;
                digest_update(d, buf, (size_t)n);
        }
        digest_final_hex(d, out);
        return 0;
}

void digest_buf_hex(enum digest_type type, const void *buf, size_t len, char out[DIGEST_HEX_MAX])
{
        _cleanup_digest_ struct digest *d = digest_new(type);
        if (!d) {
                out[0] = '\0';
                return;
        }
        digest_update(d, buf, len);
        digest_final_hex(d, out);
}
