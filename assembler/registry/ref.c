/* SPDX-License-Identifier: Apache-2.0 */
#include "ref.h"

#include <ctype.h>

#include "image/oci.h"

void registry_ref_free(struct registry_ref *r)
{
        if (!r)
                return;
        free(r->host);
        free(r->repo);
        free(r->tag);
        free(r->digest);
        free(r);
}

static bool lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* for s[0..len) */
static bool path_component_valid(const char *s, size_t len)
{
        size_t i = 0;
        if (len == 0 || !lower_alnum(s[0]))
                return false;
        while (i < len) {
                while (i < len && lower_alnum(s[i]))
                        i++;
                if (i == len)
                        return true;
                size_t sep = i;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < len && s[i] == '-')
                                i++;
                else
                        return false;
                if (i == sep || i == len || !lower_alnum(s[i]))
                        return false;
        }
        return true;
}

static bool repo_valid(const char *repo)
{
        const char *p = repo;
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);
                if (!path_component_valid(p, len))
                        return false;
                if (!slash)
                        return true;
                p = slash + 1;
        }
}

bool registry_tag_valid(const char *t)
{
        size_t n = strlen(t);
        if (n == 0 || n > REGISTRY_TAG_MAX || t[0] == '.' || t[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
                        return false;
        return true;
}

/* HOST[:PORT]: DNS labels of letters, digits and '-', or a bracketed IPv6 address. */
static bool host_valid(const char *h)
{
        const char *port = NULL;
        if (h[0] == '[') {
                const char *end = strchr(h, ']');
                if (!end || end == h + 1)
                        return false;
                for (const char *p = h + 1; p < end; p++)
                        if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                                return false;
                if (end[1] == ':')
                        port = end + 2;
                else if (end[1])
                        return false;
        } else {
                const char *colon = strchr(h, ':');
                size_t len = colon ? (size_t)(colon - h) : strlen(h);
                if (len == 0)
                        return false;
                for (size_t i = 0; i < len; i++) {
                        char c = h[i];
                        if (!isalnum((unsigned char)c) && c != '-' && c != '.')
                                return false;
                        if (c == '-' && (i == 0 || h[i - 1] == '.'))
                                return false;
                }
                if (h[0] == '.' || h[len - 1] == '.' || h[len - 1] == '-' || strstr(h, ".."))
                        return false;
                if (colon)
                        port = colon + 1;
        }
        if (port) {
                size_t n = strlen(port);
                if (n == 0 || n > 5 || strspn(port, "0123456789") != n || atoi(port) > 65535 ||
                    atoi(port) == 0)
                        return false;
        }
        return true;
}

static bool names_host(const char *first)
{
        return strchr(first, '.') || strchr(first, ':') || first[0] == '[' ||
               streq(first, "localhost");
}

int registry_ref_parse(const char *s, struct registry_ref **ret, struct cairn_error *err)
{
        _cleanup_free_ char *shown = str_escape(s, 300);
        if (!shown)
                return -ENOMEM;
        _cleanup_(registry_ref_freep) struct registry_ref *r = calloc(1, sizeof(*r));
        _cleanup_free_ char *copy = strdup(s);
        if (!r || !copy)
                return -ENOMEM;
        char *at = strchr(copy, '@');
        if (at) {
                *at = '\0';
                if (!oci_digest_valid(at + 1))
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: the digest after '@' is not "
                                               "sha256:<64 lower-case hex digits>",
                                               shown);
                r->digest = strdup(at + 1);
                if (!r->digest)
                        return -ENOMEM;
        }
        char *slash = strchr(copy, '/');
        if (!slash || slash == copy) {
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: not HOST[:PORT]/REPO[:TAG]; name the registry "
                                       "(cairn has no default registry)",
                                       shown);
        }
        *slash = '\0';
        if (!names_host(copy))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: '%s' does not name a registry host (HOST.DOMAIN, "
                                       "HOST:PORT or localhost); cairn has no default registry",
                                       shown, copy);
        if (!host_valid(copy))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: '%s' is not a host name with an optional port", shown,
                                       copy);
        char *path = slash + 1;
        /* A tag is the part after the last ':' of the last path component. */
        char *last = strrchr(path, '/');
        char *colon = strchr(last ? last : path, ':');
        if (colon) {
                *colon = '\0';
                if (!registry_tag_valid(colon + 1))
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s: tag '%s' is not 1 to %d characters of "
                                               "[A-Za-z0-9_.-] starting with a letter, digit or "
                                               "'_'",
                                               shown, colon + 1, REGISTRY_TAG_MAX);
                r->tag = strdup(colon + 1);
                if (!r->tag)
                        return -ENOMEM;
        }
        if (!repo_valid(path))
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: repository '%s' is not lower-case letters and "
                                       "digits separated by '/', '.', '_', '__' or '-'",
                                       shown, path);
        if (strlen(copy) + 1 + strlen(path) > REGISTRY_NAME_MAX)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENAMETOOLONG,
                                       "%s: the name is longer than %d characters", shown,
                                       REGISTRY_NAME_MAX);
        r->host = strdup(copy);
        r->repo = strdup(path);
        if (!r->host || !r->repo)
                return -ENOMEM;
        *ret = steal_pointer(&r);
        return 0;
}

bool registry_host_is_loopback(const char *host)
{
        size_t len;
        if (host[0] == '[') {
                const char *end = strchr(host, ']');
                return end && (size_t)(end - host) == 4 && strncmp(host, "[::1]", 5) == 0;
        }
        const char *colon = strchr(host, ':');
        len = colon ? (size_t)(colon - host) : strlen(host);
        if (len == 9 && strncmp(host, "localhost", 9) == 0)
                return true;
        /* 127.A.B.C, each part a decimal octet */
        if (len < 9 || strncmp(host, "127.", 4) != 0)
                return false;
        unsigned parts = 2, digits = 0, value = 0; /* "127." was the first */
        for (size_t i = 4; i < len; i++) {
                if (host[i] == '.') {
                        if (digits == 0)
                                return false;
                        parts++;
                        digits = value = 0;
                        continue;
                }
                if (host[i] < '0' || host[i] > '9' || ++digits > 3)
                        return false;
                value = value * 10 + (unsigned)(host[i] - '0');
                if (value > 255)
                        return false;
        }
        return parts == 4 && digits > 0;
}

void registry_referrers_tag(const char *digest, char out[DIGEST_OCI_LEN])
{
        snprintf(out, DIGEST_OCI_LEN, "%s", digest);
        char *colon = strchr(out, ':');
        if (colon)
                *colon = '-';
}
