/* SPDX-License-Identifier: Apache-2.0 */
/* Authentication helpers of client.h: WWW-Authenticate challenges and the docker config. */
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <strings.h>

#include "client.h"
#include "recipe/yamlnode.h"

#define DOCKER_CONFIG_MAX (1024 * 1024)

void registry_challenge_clear(struct registry_challenge *ch)
{
        free(ch->scheme);
        free(ch->realm);
        free(ch->service);
        free(ch->scope);
        *ch = (struct registry_challenge){ 0 };
}

/* RFC 7235 auth-params: key=value or key="quoted \" value", separated by commas. */
int registry_challenge_parse(const char *value, struct registry_challenge *ret)
{
        struct registry_challenge ch = { 0 };
        const char *p = value;
        while (*p == ' ')
                p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
                return -EINVAL;
        ch.scheme = strndup(p, n);
        if (!ch.scheme)
                return -ENOMEM;
        for (char *s = ch.scheme; *s; s++)
                *s = (char)tolower((unsigned char)*s);
        if (!streq(ch.scheme, "basic") && !streq(ch.scheme, "bearer")) {
                registry_challenge_clear(&ch);
                return -EINVAL;
        }
        p += n;
        while (*p) {
                while (*p == ' ' || *p == ',')
                        p++;
                if (!*p)
                        break;
                size_t klen = strcspn(p, "= ,");
                const char *key = p;
                p += klen;
                if (*p != '=') {
                        registry_challenge_clear(&ch);
                        return -EINVAL;
                }
                p++;
                _cleanup_free_ char *v = NULL;
                if (*p == '"') {
                        p++;
                        size_t cap = strlen(p) + 1, k = 0;
                        v = malloc(cap);
                        if (!v) {
                                registry_challenge_clear(&ch);
                                return -ENOMEM;
                        }
                        while (*p && *p != '"') {
                                if (*p == '\\' && p[1])
                                        p++;
                                v[k++] = *p++;
                        }
                        v[k] = '\0';
                        if (*p != '"') {
                                registry_challenge_clear(&ch);
                                return -EINVAL;
                        }
                        p++;
                } else {
                        size_t vlen = strcspn(p, ",");
                        v = strndup(p, vlen);
                        while (vlen && v && v[vlen - 1] == ' ')
                                v[--vlen] = '\0';
                        if (!v) {
                                registry_challenge_clear(&ch);
                                return -ENOMEM;
                        }
                        p += strcspn(p, ",");
                }
                char **field = NULL;
                if (klen == 5 && strncasecmp(key, "realm", 5) == 0)
                        field = &ch.realm;
                else if (klen == 7 && strncasecmp(key, "service", 7) == 0)
                        field = &ch.service;
                else if (klen == 5 && strncasecmp(key, "scope", 5) == 0)
                        field = &ch.scope;
                if (field) {
                        free(*field);
                        *field = steal_pointer(&v);
                }
        }
        *ret = ch;
        return 0;
}

/* "https://HOST/v1/" and the other spellings docker login has written: the bare HOST. */
static bool config_key_matches(const char *key, const char *host)
{
        if (startswith(key, "https://"))
                key += 8;
        else if (startswith(key, "http://"))
                key += 7;
        size_t n = strlen(host);
        return strncmp(key, host, n) == 0 && (key[n] == '\0' || key[n] == '/');
}

static void cleanse_free(char *s)
{
        if (s) {
                OPENSSL_cleanse(s, strlen(s));
                free(s);
        }
}

int registry_docker_credentials(const char *host, char **ret_user, char **ret_password,
                                struct cairn_error *err)
{
        _cleanup_free_ char *path = NULL;
        const char *dir = getenv("DOCKER_CONFIG");
        const char *home = getenv("HOME");
        if (dir && *dir) {
                if (asprintf(&path, "%s/config.json", dir) < 0)
                        return -ENOMEM;
        } else if (home && *home) {
                if (asprintf(&path, "%s/.docker/config.json", home) < 0)
                        return -ENOMEM;
        } else {
                *ret_user = *ret_password = NULL;
                return 0;
        }
        char *buf = NULL;
        size_t len;
        int r = read_file_bounded(path, DOCKER_CONFIG_MAX, &buf, &len);
        if (r == -ENOENT || r == -ENOTDIR) {
                *ret_user = *ret_password = NULL;
                return 0;
        }
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        _cleanup_ynode_ struct ynode *doc = NULL;
        r = ynode_load(path, buf, len, &doc, NULL);
        cleanse_free(buf);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || doc->type != YNODE_MAPPING)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: not a JSON object (a docker config file)", path);
        const struct ynode *auths = ynode_map_get(doc, "auths");
        const struct ynode *entry = NULL;
        for (size_t i = 0; auths && auths->type == YNODE_MAPPING && i + 1 < auths->n_items; i += 2)
                if (auths->items[i]->type == YNODE_SCALAR &&
                    config_key_matches(auths->items[i]->value, host)) {
                        entry = auths->items[i + 1];
                        /* An exact "HOST" key wins over "https://HOST/v1/". */
                        if (streq(auths->items[i]->value, host))
                                break;
                }
        const struct ynode *auth = ynode_map_get(entry, "auth");
        if (!auth || auth->type != YNODE_SCALAR || auth->len == 0) {
                *ret_user = *ret_password = NULL;
                return 0;
        }
        size_t n = auth->len;
        _cleanup_free_ unsigned char *plain = malloc(n + 1);
        if (!plain)
                return -ENOMEM;
        int k = n % 4 == 0 ? EVP_DecodeBlock(plain, (const unsigned char *)auth->value, (int)n)
                           : -1;
        if (k >= 0) {
                /* EVP_DecodeBlock counts the bytes '=' padding stands for. */
                for (size_t i = n; i > 0 && auth->value[i - 1] == '='; i--)
                        k--;
        }
        char *colon = k > 0 ? memchr(plain, ':', (size_t)k) : NULL;
        if (!colon || memchr(plain, '\0', (size_t)k)) {
                if (k > 0)
                        OPENSSL_cleanse(plain, (size_t)k);
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: the \"auth\" of %s is not base64 of USER:PASSWORD",
                                       path, host);
        }
        plain[k] = '\0';
        char *user = strndup((char *)plain, (size_t)(colon - (char *)plain));
        char *password = strdup(colon + 1);
        OPENSSL_cleanse(plain, (size_t)k);
        if (!user || !password) {
                cleanse_free(user);
                cleanse_free(password);
                return -ENOMEM;
        }
        *ret_user = user;
        *ret_password = password;
        return 0;
}
