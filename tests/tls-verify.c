/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TLS side of a CA bundle, for the certificates tests: what a program that trusts
 * /etc/ssl/certs/ca-certificates.crt sees. Linked statically against libcrypto by the tests.
 *
 *   tls-verify BUNDLE count              the number of certificates in BUNDLE (every PEM block
 *                                        must parse: exit 1 otherwise)
 *   tls-verify BUNDLE verify CHAIN TIME [server|anchor]
 *                                        verifies CHAIN's first certificate, the others as
 *                                        untrusted intermediates, against BUNDLE at TIME (Unix
 *                                        seconds, or `any`: no validity period check), for TLS
 *                                        server use when `server` is given, as a certificate
 *                                        of the bundle itself for `anchor`;
 *                                        prints "ok" or why not, exit 0 or 1
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static STACK_OF(X509) * read_all(const char *path)
{
        FILE *f = fopen(path, "r");
        if (!f) {
                perror(path);
                return NULL;
        }
        STACK_OF(X509) *certs = sk_X509_new_null();
        X509 *x;
        while ((x = PEM_read_X509(f, NULL, NULL, NULL)))
                sk_X509_push(certs, x);
        unsigned long e = ERR_peek_last_error();
        fclose(f);
        /* The end of the file is the only acceptable way for the loop to stop. */
        if (ERR_GET_REASON(e) != PEM_R_NO_START_LINE || sk_X509_num(certs) == 0) {
                fprintf(stderr, "%s: %s\n", path, e ? ERR_error_string(e, NULL) : "no certificate");
                sk_X509_pop_free(certs, X509_free);
                return NULL;
        }
        ERR_clear_error();
        return certs;
}

int main(int argc, char **argv)
{
        if (argc < 3)
                return 2;
        STACK_OF(X509) *bundle = read_all(argv[1]);
        if (!bundle)
                return 1;
        if (strcmp(argv[2], "count") == 0) {
                printf("%d\n", sk_X509_num(bundle));
                return 0;
        }
        if (strcmp(argv[2], "verify") != 0 || argc < 5 || argc > 6)
                return 2;
        STACK_OF(X509) *chain = read_all(argv[3]);
        if (!chain)
                return 1;
        X509_STORE *store = X509_STORE_new();
        for (int i = 0; i < sk_X509_num(bundle); i++)
                X509_STORE_add_cert(store, sk_X509_value(bundle, i));
        X509 *leaf = sk_X509_shift(chain);
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        X509_STORE_CTX_init(ctx, store, leaf, chain);
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
        if (strcmp(argv[4], "any") == 0)
                X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
        else
                X509_VERIFY_PARAM_set_time(param, (time_t)strtoll(argv[4], NULL, 10));
        if (argc == 6 && strcmp(argv[5], "server") == 0)
                X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
        /* A certificate of the bundle itself is a trust anchor, also when the bundle holds
         * another root with the same subject (re-issued roots) that a chain lookup finds. */
        if (argc == 6 && strcmp(argv[5], "anchor") == 0)
                X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
        int ok = X509_verify_cert(ctx);
        printf("%s\n",
               ok == 1 ? "ok" : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        return ok == 1 ? 0 : 1;
}
