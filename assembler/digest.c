/* SPDX-License-Identifier: Apache-2.0 */
#include "digest.h"

#include <limits.h>
#include <solv/chksum.h>
#include <solv/knownid.h>

struct digest {
        Chksum *chk; /* owned */
};

struct digest *digest_new(enum digest_type type)
{
        struct digest *d = calloc(1, sizeof(*d));
        if (!d)
                return NULL;
        d->chk = solv_chksum_create(type == DIGEST_SHA1 ? REPOKEY_TYPE_SHA1 : REPOKEY_TYPE_SHA256);
        if (!d->chk) {
                free(d);
                return NULL;
        }
        return d;
}

void digest_free(struct digest *d)
{
        if (!d)
                return;
        solv_chksum_free(d->chk, NULL);
        free(d);
}

void digest_update(struct digest *d, const void *buf, size_t len)
{
        const uint8_t *p = buf;
        /* libsolv takes an int length. */
        while (len > 0) {
                int n = len > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)len;
                solv_chksum_add(d->chk, p, n);
                p += n;
                len -= (size_t)n;
        }
}

void digest_final_hex(struct digest *d, char out[DIGEST_HEX_MAX])
{
        int len = 0;
        const unsigned char *bin = solv_chksum_get(d->chk, &len);
        hex_encode(bin, (size_t)len, out);
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
